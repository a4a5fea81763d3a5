// One dashboard panel: its queries run with the dashboard's variables and
// Grafana's interval variables, drawn as a time series (uPlot), a stat, a
// gauge or a table; other panel types say they are not supported. Series
// names, values and errors are text nodes.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { api } from '../../api.js';
import { seriesName } from '../../format.js';
import { formatUnit } from '../../units.js';
import { color, columns } from '../query/Graph.jsx';
import { interpolate, intervals, legendName } from './grafana.js';

/** Grid rows are 30px with 6px gaps, as the page's CSS lays them out. */
export const ROW_PX = 30;
const GAP_PX = 6;
const HEADER_PX = 30;

const NAMED = {
  green: '#16a34a',
  red: '#dc2626',
  orange: '#ea580c',
  yellow: '#ca8a04',
  blue: '#2563eb',
  purple: '#7c3aed',
  transparent: 'transparent',
};

/** Grafana's colour names (`semi-dark-red`, `#EAB839`) → CSS colours. */
function cssColor(name) {
  if (!name) return undefined;
  if (name.startsWith('#') || name.startsWith('rgb')) return name;
  const base = name.replace(/^(super-light|light|semi-dark|dark)-/, '');
  return NAMED[base] ?? '#475569';
}

function thresholdColor(thresholds, v) {
  let c;
  for (const t of thresholds ?? []) {
    if (t.value === null || t.value === undefined || v >= t.value) c = t.color;
  }
  return cssColor(c);
}

function lastValue(s) {
  if (s.value) return Number.parseFloat(s.value[1]);
  const vs = s.values ?? [];
  for (let i = vs.length - 1; i >= 0; i--) {
    const v = Number.parseFloat(vs[i][1]);
    if (!Number.isNaN(v)) return v;
  }
  return Number.NaN;
}

/** Runs the panel's queries; resolves to [{name, metric, values|value}]. */
async function runQueries(panel, { vars, start, end, scrapeS, width }, signal) {
  const rangeMs = end - start;
  const points = panel.maxDataPoints ?? Math.max(50, Math.round(width));
  const instantPanel = panel.type !== 'timeseries';
  const answers = await Promise.all(
    panel.targets.map(async (t) => {
      const iv = intervals({ rangeMs, points, panelMin: panel.interval, targetMin: t.interval, scrapeS });
      const query = interpolate(interpolate(t.expr, vars), iv.vars);
      if (instantPanel || t.instant) {
        const { data } = await api('api/v1/query', { method: 'POST', form: { query, time: end / 1000 }, signal });
        const result = data.resultType === 'scalar' ? [{ metric: {}, value: data.result }] : data.result;
        return { t, result, step: iv.stepMs / 1000, instant: true };
      }
      const step = iv.stepMs / 1000;
      const s = Math.floor(start / 1000 / step) * step;
      const e = Math.ceil(end / 1000 / step) * step;
      const { data } = await api('api/v1/query_range', { method: 'POST', form: { query, start: s, end: e, step }, signal });
      return { t, result: data.result, step, start: s, end: e };
    }),
  );
  const series = [];
  let frame = null;
  for (const a of answers) {
    if (!a.instant && (!frame || a.step < frame.step)) frame = { start: a.start, end: a.end, step: a.step };
    for (const s of a.result ?? []) {
      series.push({ ...s, name: legendName(a.t.legend, s.metric) ?? seriesName(s.metric), instant: a.instant });
    }
  }
  return { series, window: frame };
}

function Chart({ panel, data, height }) {
  const host = useRef(null);
  useEffect(() => {
    const el = host.current;
    const ranged = data.series.filter((s) => !s.instant);
    const w = data.window;
    if (!el || !w || ranged.length === 0) return undefined;
    const stacked = panel.stacking === 'normal' || panel.stacking === 'percent';
    const cols = columns(ranged, w.start, w.end, w.step, stacked);
    let drawn = cols.drawn;
    if (panel.stacking === 'percent') {
      const total = drawn[drawn.length - 1];
      drawn = drawn.map((col) => col.map((v, i) => (v === null || !total[i] ? null : v / total[i])));
    }
    const fmt = (v) => (v === null || v === undefined ? '' : formatUnit(v, panel.stacking === 'percent' ? 'percentunit' : panel.unit, panel.decimals ?? undefined));
    const opts = {
      width: Math.max(el.clientWidth, 100),
      height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      series: [
        {},
        ...ranged.map((s, i) => ({
          label: s.name,
          stroke: color(i),
          width: 1.5,
          fill: stacked ? `${color(i)}40` : undefined,
          points: { show: false },
        })),
      ],
      scales: {
        x: { time: true },
        y: {
          // From 0 (or min) unless values go below; 5 % above the highest.
          range: (u, min, max) => {
            const lo = panel.min ?? Math.min(0, min ?? 0);
            const top = max ?? lo;
            const hi = panel.max ?? (top > lo ? top + (top - lo) * 0.05 : lo + 1);
            return [lo, hi];
          },
        },
      },
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      axes: [
        { stroke: '#555', grid: { stroke: '#eee' }, size: 24 },
        { stroke: '#555', grid: { stroke: '#eee' }, size: 76, values: (u, splits) => splits.map(fmt) },
      ],
    };
    const plot = new uPlot(opts, [cols.xs, ...drawn], el);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 100), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [data, height]);
  return <div class="dash-chart" ref={host} />;
}

function Legend({ series }) {
  return (
    <ul class="dash-legend">
      {series.map((s, i) => (
        <li key={i}>
          <span class="swatch" style={{ background: color(i) }} />
          <span class="series-name">{s.name}</span>
        </li>
      ))}
    </ul>
  );
}

function Stat({ panel, data }) {
  if (data.series.length === 0) return <p class="dash-empty muted">No data</p>;
  return (
    <div class="dash-stats">
      {data.series.map((s, i) => {
        const v = lastValue(s);
        return (
          <div class="dash-stat" key={i} title={s.name}>
            <span class="dash-stat-value" style={{ color: thresholdColor(panel.thresholds, v) }}>
              {formatUnit(v, panel.unit, panel.decimals ?? undefined)}
            </span>
            {data.series.length > 1 && <span class="dash-stat-name">{s.name}</span>}
          </div>
        );
      })}
    </div>
  );
}

function Gauge({ panel, data }) {
  if (data.series.length === 0) return <p class="dash-empty muted">No data</p>;
  const percent = panel.unit === 'percent';
  const min = panel.min ?? 0;
  const max = panel.max ?? (panel.unit === 'percentunit' ? 1 : 100);
  return (
    <div class="dash-stats">
      {data.series.map((s, i) => {
        const v = lastValue(s);
        const frac = Number.isFinite(v) ? Math.min(1, Math.max(0, (v - min) / (max - min || 1))) : 0;
        const c = thresholdColor(panel.thresholds, v) ?? '#16a34a';
        return (
          <div class="dash-gauge" key={i} title={s.name} data-percent={percent ? 'yes' : 'no'}>
            <span class="dash-stat-value" style={{ color: c }}>
              {formatUnit(v, panel.unit, panel.decimals ?? undefined)}
            </span>
            <div class="dash-gauge-track">
              <div class="dash-gauge-bar" style={{ width: `${(frac * 100).toFixed(1)}%`, background: c }} />
            </div>
            {data.series.length > 1 && <span class="dash-stat-name">{s.name}</span>}
          </div>
        );
      })}
    </div>
  );
}

function Table({ panel, data }) {
  if (data.series.length === 0) return <p class="dash-empty muted">No data</p>;
  return (
    <div class="dash-table-wrap">
      <table class="data dash-table">
        <thead>
          <tr>
            <th>Series</th>
            <th>Value</th>
          </tr>
        </thead>
        <tbody>
          {data.series.map((s, i) => (
            <tr key={i}>
              <td class="mono">{s.name}</td>
              <td class="num">{formatUnit(lastValue(s), panel.unit, panel.decimals ?? undefined)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * `panel` (the API's normalised form) for the time `span` ({start,
 * end} epoch ms), with `vars` (name → value) and the scrape interval.
 */
export function DashPanel({ panel, vars, span, scrapeS }) {
  const box = useRef(null);
  const [width, setWidth] = useState(0);
  const [state, setState] = useState({ status: 'loading' });
  const height = panel.grid.h * ROW_PX + (panel.grid.h - 1) * GAP_PX - HEADER_PX;
  const supported = panel.type !== 'unsupported';

  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    setWidth(el.clientWidth);
    const ro = new ResizeObserver(() => setWidth((w) => (Math.abs(w - el.clientWidth) > 40 ? el.clientWidth : w)));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const varsKey = JSON.stringify(vars);
  useEffect(() => {
    if (!supported || width === 0) return undefined;
    if (panel.targets.length === 0) {
      setState({ status: 'nodata', data: { series: [] } });
      return undefined;
    }
    const ctl = new AbortController();
    runQueries(panel, { vars, start: span.start, end: span.end, scrapeS, width }, ctl.signal).then(
      (data) => !ctl.signal.aborted && setState({ status: data.series.length > 0 ? 'data' : 'nodata', data }),
      (error) => !ctl.signal.aborted && error.name !== 'AbortError' && setState({ status: 'error', error }),
    );
    return () => ctl.abort();
  }, [panel, varsKey, span.start, span.end, scrapeS, width > 0, supported]);

  const title = interpolate(panel.title, vars);
  const g = panel.grid;
  let body;
  if (!supported) {
    body = <p class="dash-unsupported">panel type {panel.grafanaType ?? 'unknown'} is not supported</p>;
  } else if (state.status === 'error') {
    body = <p class="dash-error error-text">{state.error.message}</p>;
  } else if (state.status === 'loading') {
    body = <p class="dash-empty muted">Loading…</p>;
  } else if (panel.type === 'timeseries') {
    body =
      state.status === 'nodata' ? (
        <p class="dash-empty muted">No data</p>
      ) : (
        <>
          <Chart panel={panel} data={state.data} height={Math.max(60, height - 24)} />
          <Legend series={state.data.series.filter((s) => !s.instant)} />
        </>
      );
  } else if (panel.type === 'stat') {
    body = <Stat panel={panel} data={state.data} />;
  } else if (panel.type === 'gauge') {
    body = <Gauge panel={panel} data={state.data} />;
  } else {
    body = <Table panel={panel} data={state.data} />;
  }
  return (
    <section
      class="dash-panel"
      ref={box}
      data-type={panel.type}
      data-state={supported ? state.status : 'unsupported'}
      style={{ gridColumn: `${g.x + 1} / span ${g.w}`, gridRow: `${g.y + 1} / span ${g.h}` }}
    >
      <h3 class="dash-panel-title" title={panel.description ?? ''}>
        {title}
      </h3>
      <div class="dash-panel-body">{body}</div>
    </section>
  );
}
