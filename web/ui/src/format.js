// Times, durations and numbers as Prometheus' interface writes them.

const UNITS = [
  ['y', 365 * 24 * 3600 * 1000],
  ['w', 7 * 24 * 3600 * 1000],
  ['d', 24 * 3600 * 1000],
  ['h', 3600 * 1000],
  ['m', 60 * 1000],
  ['s', 1000],
  ['ms', 1],
];

/** `1h30m` → milliseconds; null when it is not a Prometheus duration. */
export function parseDuration(text) {
  const s = String(text).trim();
  if (s === '' || s === '0') return s === '0' ? 0 : null;
  const re = /(\d+)(ms|y|w|d|h|m|s)/y;
  let ms = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return null;
    ms += Number(m[1]) * UNITS.find(([u]) => u === m[2])[1];
    pos = re.lastIndex;
  }
  return ms;
}

/** Milliseconds → `1h30m` (`0s` for 0). */
export function formatDuration(ms) {
  if (!Number.isFinite(ms) || ms <= 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const [u, size] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${u}`;
      rest -= n * size;
    }
  }
  return out;
}

/** Seconds (a float, as the APIs report durations) → `12.3ms`, `1.5s`. */
export function formatSeconds(s) {
  if (!Number.isFinite(s)) return String(s);
  if (s === 0) return '0s';
  if (s < 0.001) return `${(s * 1e6).toFixed(0)}µs`;
  if (s < 1) return `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)}ms`;
  if (s < 60) return `${s.toFixed(2)}s`;
  return formatDuration(s * 1000);
}

/** Epoch ms → `2024-05-01 12:00:00` in UTC. */
export function formatUTC(ms) {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '';
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}

/** `2024-05-01 12:00:00` (UTC) → epoch ms, or null. */
export function parseUTC(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?Z?$/.exec(String(text).trim());
  if (!m) return null;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] ?? 0));
  return Number.isNaN(ms) ? null : ms;
}

/** An RFC 3339 time or epoch ms → `3m20s ago` / `in 5m`. */
export function ago(time, now = Date.now()) {
  const t = typeof time === 'number' ? time : Date.parse(time);
  if (!Number.isFinite(t) || t <= 0) return 'never';
  const d = now - t;
  if (Math.abs(d) < 1000) return 'just now';
  const text = formatDuration(Math.round(Math.abs(d) / 1000) * 1000);
  return d >= 0 ? `${text} ago` : `in ${text}`;
}

/** Whether an RFC 3339 time is Go's zero time (never). */
export function isZeroTime(t) {
  return !t || t.startsWith('0001-01-01');
}

/** A sample value as text: Prometheus' strings (`NaN`, `+Inf`) pass through. */
export function formatValue(v) {
  return String(v);
}

/** A series' labels as `name{a="b", …}`. */
export function seriesName(metric) {
  const { __name__: name = '', ...rest } = metric ?? {};
  const pairs = Object.entries(rest)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  if (pairs.length === 0) return name || '{}';
  return `${name}{${pairs.join(', ')}}`;
}
