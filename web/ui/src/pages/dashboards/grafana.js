// What Grafana does to a Prometheus query before it sends it, so that an
// imported dashboard asks Pharos what it asked Prometheus:
//
// - Time ranges: `now-24h` to `now` (`now/d` rounds down to the day).
// - `$__interval`: the range divided by the panel's data points (its
//   width in pixels, or its `maxDataPoints`), rounded to a "nice" value
//   by Grafana's table (`roundInterval` below: 12.5s → 10s, 17.5s → 15s,
//   …), and no less than the panel's min interval or else the data
//   source's scrape interval (here `[global] scrape_interval`).
// - The query's step: max($__interval × intervalFactor, the query's min
//   step, range / 11000 (Prometheus refuses more than 11000 points)).
//   `$__interval` and `$__interval_ms` then take the step.
// - `$__rate_interval` = max($__interval + scrape interval, 4 × scrape
//   interval), where the scrape interval is the query's min step when it
//   has one, else the data source's (Grafana 7.2+, `packages/grafana-
//   prometheus/src/datasource.ts`).
// - `$__range` = the range in whole seconds (`86400s`), `$__range_s`,
//   `$__range_ms`.
// - Template variables `$name`, `${name}`, `${name:format}`, `[[name]]`:
//   a single value is inserted as is (regex-escaped when the variable is
//   multi-value or has "All", as Grafana's Prometheus data source does);
//   several values become `(a|b)`; "All" is the variable's `allValue`,
//   else all its values.
// - Legends: `{{label}}` replaced by the series' label value.
// - Range queries' start and end are aligned to the step.

/** Grafana's `roundInterval` (ms → ms). */
export function roundInterval(ms) {
  const table = [
    [10, 1],
    [15, 10],
    [35, 20],
    [75, 50],
    [150, 100],
    [350, 200],
    [750, 500],
    [1500, 1000],
    [3500, 2000],
    [7500, 5000],
    [12500, 10000],
    [17500, 15000],
    [25000, 20000],
    [45000, 30000],
    [90000, 60000],
    [210000, 120000],
    [450000, 300000],
    [750000, 600000],
    [1050000, 900000],
    [1500000, 1200000],
    [2700000, 1800000],
    [5400000, 3600000],
    [9000000, 7200000],
    [16200000, 10800000],
    [32400000, 21600000],
    [86400000, 43200000],
    [172800000, 86400000],
    [604800000, 86400000],
    [1814400000, 604800000],
  ];
  for (const [limit, value] of table) if (ms <= limit) return value;
  return ms < 3628800000 ? 2592000000 : 31536000000;
}

const UNIT_MS = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000, w: 604800000, M: 2592000000, y: 31536000000 };

/** `15s`, `1m30s`, `>10s` (Grafana's min interval form) → ms, or null. */
export function intervalMs(text) {
  if (text === undefined || text === null) return null;
  const s = String(text).trim().replace(/^>/, '');
  if (s === '') return null;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|M|y)/y;
  let ms = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return /^\d+$/.test(s) ? Number(s) * 1000 : null;
    ms += Number(m[1]) * UNIT_MS[m[2]];
    pos = re.lastIndex;
  }
  return ms;
}

/** ms → Grafana's interval text: `15s`, `2m`, `500ms`, `1h`. */
export function formatInterval(ms) {
  for (const [u, size] of [
    ['y', UNIT_MS.y],
    ['w', UNIT_MS.w],
    ['d', UNIT_MS.d],
    ['h', UNIT_MS.h],
    ['m', UNIT_MS.m],
    ['s', UNIT_MS.s],
  ]) {
    if (ms >= size && ms % size === 0) return `${ms / size}${u}`;
  }
  return ms >= 1000 ? `${Math.round(ms / 1000)}s` : `${Math.max(1, Math.round(ms))}ms`;
}

/** `now`, `now-24h`, `now-7d/d`, or epoch ms → epoch ms (UTC rounding). */
export function parseTime(text, now = Date.now()) {
  if (typeof text === 'number') return text;
  const s = String(text).trim();
  if (/^\d+$/.test(s)) return Number(s);
  const m = /^now(?:([+-]\d+)(ms|s|m|h|d|w|M|y))?(?:\/(s|m|h|d|w|M|y))?$/.exec(s);
  if (!m) {
    const t = Date.parse(s);
    return Number.isNaN(t) ? now : t;
  }
  let t = now;
  if (m[1]) t += Number(m[1]) * UNIT_MS[m[2]];
  if (m[3]) {
    const size = UNIT_MS[m[3]];
    t = Math.floor(t / size) * size;
  }
  return t;
}

/**
 * The step and the interval variables of one query of a panel.
 * `rangeMs`: the range; `points`: the panel's data points (width in
 * pixels or maxDataPoints); `panelMin`: the panel's min interval
 * (text); `targetMin`: the query's; `scrapeS`: the data source's scrape
 * interval in seconds.
 */
export function intervals({ rangeMs, points, panelMin, targetMin, scrapeS }) {
  const scrapeMs = (scrapeS > 0 ? scrapeS : 15) * 1000;
  // The panel's interval (Grafana's calculateInterval).
  const low = intervalMs(panelMin) ?? scrapeMs;
  let interval = roundInterval(rangeMs / Math.max(1, points));
  if (interval < low) interval = low;
  // The query's step (the Prometheus data source's adjustInterval).
  const minStep = intervalMs(targetMin) ?? interval;
  let safe = rangeMs / 11000;
  if (safe > 1000) safe = Math.ceil(safe / 1000) * 1000;
  const stepMs = Math.max(interval, minStep, safe, 1);
  const rateScrapeMs = intervalMs(targetMin) ?? scrapeMs;
  const rateMs = Math.max(stepMs + rateScrapeMs, 4 * rateScrapeMs);
  const rangeS = Math.round(rangeMs / 1000);
  return {
    stepMs,
    vars: {
      __interval: formatInterval(stepMs),
      __interval_ms: String(stepMs),
      __rate_interval: formatInterval(rateMs),
      __range: `${rangeS}s`,
      __range_s: String(rangeS),
      __range_ms: String(Math.round(rangeMs)),
    },
  };
}

/** A value escaped for a Prometheus regex (Grafana's prometheusSpecialRegexEscape). */
export function regexEscape(v) {
  return String(v).replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]'+?.()|]/g, '\\\\$&');
}

/**
 * `text` with `$name`, `${name}`, `${name:fmt}` and `[[name]]` replaced.
 * `vars`: name → {values: [..], multi, includeAll, allValue, all: bool}
 * or a plain string (built-ins such as `__interval`).
 */
export function interpolate(text, vars) {
  const re = /\$(\w+)|\[\[(\w+)(?::(\w+))?\]\]|\$\{(\w+)(?::([^}]+))?\}/g;
  return String(text).replace(re, (whole, a, b, bfmt, c, cfmt) => {
    const name = a ?? b ?? c;
    const fmt = bfmt ?? cfmt;
    const v = vars[name];
    if (v === undefined) return whole;
    if (typeof v === 'string') return v;
    return formatVar(v, fmt);
  });
}

function formatVar(v, fmt) {
  let values = v.values;
  if (v.all) {
    if (v.allValue !== undefined && v.allValue !== null) return v.allValue;
    values = v.options;
  }
  if (fmt === 'raw' || fmt === 'text') return values.join(',');
  if (fmt === 'csv') return values.join(',');
  if (fmt === 'pipe') return values.join('|');
  if (fmt === 'regex') {
    const escaped = values.map((x) => String(x).replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&'));
    return escaped.length === 1 ? escaped[0] : `(${escaped.join('|')})`;
  }
  if (!v.multi && !v.includeAll) {
    // prometheusRegularEscape: backslashes and single quotes.
    return values.length > 0 ? String(values[0]).replace(/\\/g, '\\\\').replace(/'/g, "\\\\'") : '';
  }
  const escaped = values.map(regexEscape);
  if (escaped.length === 1) return escaped[0];
  return `(${escaped.join('|')})`;
}

/** A legend: `{{label}}` → the series' value of `label`; `__auto` or none → null. */
export function legendName(format, metric) {
  if (!format || format === '__auto') return null;
  return format.replace(/\{\{\s*([^}\s]+)\s*\}\}/g, (_, name) => metric?.[name] ?? '');
}

/**
 * What a variable's query asks: `{kind: 'label_values', metric, label}`,
 * `{kind: 'query_result', expr}`, `{kind: 'metrics', regex}` or
 * `{kind: 'label_names'}`; anything else is run as an expression and its
 * series' names are the values.
 */
export function parseVariableQuery(q) {
  const s = String(q).trim();
  let m = /^label_values\(\s*([A-Za-z_][\w]*)\s*\)$/.exec(s);
  if (m) return { kind: 'label_values', label: m[1] };
  m = /^label_values\(\s*([\s\S]+?)\s*,\s*([A-Za-z_][\w]*)\s*\)$/.exec(s);
  if (m) return { kind: 'label_values', metric: m[1], label: m[2] };
  m = /^query_result\(([\s\S]+)\)$/.exec(s);
  if (m) return { kind: 'query_result', expr: m[1] };
  m = /^metrics\(([\s\S]*)\)$/.exec(s);
  if (m) return { kind: 'metrics', regex: m[1].trim() };
  if (/^label_names\(\s*\)$/.test(s)) return { kind: 'label_names' };
  return { kind: 'query_result', expr: s };
}

/** Grafana's `/pattern/flags` (or a bare pattern) → RegExp, or null. */
export function variableRegex(text) {
  if (!text) return null;
  const m = /^\/(.*)\/([gimsuy]*)$/s.exec(text);
  try {
    return m ? new RegExp(m[1], m[2].replace('g', '')) : new RegExp(text);
  } catch {
    return null;
  }
}

/**
 * Values filtered by `regex` (its first capture group, or its `text` and
 * `value` named groups, taken when present), de-duplicated, sorted as
 * Grafana's `sort` says.
 */
export function refineValues(values, regex, sort) {
  const re = variableRegex(regex);
  let out = [];
  for (const v of values) {
    if (!re) {
      out.push(String(v));
      continue;
    }
    const m = re.exec(String(v));
    if (!m) continue;
    out.push(m.groups?.value ?? m.groups?.text ?? m[1] ?? m[0]);
  }
  out = [...new Set(out)];
  const num = (x) => {
    const n = Number.parseFloat(String(x).replace(/^\D+/, ''));
    return Number.isNaN(n) ? 0 : n;
  };
  const cmp = {
    1: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
    2: (a, b) => (a > b ? -1 : a < b ? 1 : 0),
    3: (a, b) => num(a) - num(b),
    4: (a, b) => num(b) - num(a),
    5: (a, b) => a.toLowerCase().localeCompare(b.toLowerCase()),
    6: (a, b) => b.toLowerCase().localeCompare(a.toLowerCase()),
  }[sort];
  return cmp ? out.sort(cmp) : out;
}

/** A custom variable's `a, b, text : value` → [{text, value}]. */
export function customOptions(query) {
  return String(query)
    .split(/(?<!\\),/)
    .map((s) => s.replace(/\\,/g, ',').trim())
    .filter((s) => s !== '')
    .map((s) => {
      const m = /^(.+?)\s+:\s+(.+)$/.exec(s);
      return m ? { text: m[1], value: m[2] } : { text: s, value: s };
    });
}

/** `metric{labels} value timestamp`, as Grafana lists query_result's series. */
export function queryResultText(sample) {
  const { __name__: name = '', ...labels } = sample.metric ?? {};
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const [t, v] = sample.value ?? [0, ''];
  return `${name}{${pairs.join(',')}} ${v} ${Math.round(t * 1000)}`;
}
