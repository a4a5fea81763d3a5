// A range query's result drawn with uPlot: one line per series (stacked
// areas on request), a legend whose entries toggle their series, and a
// hover box with the nearest series' value. Series names are text nodes.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { formatUTC, seriesName } from '../../format.js';

const PALETTE = [
  '#1d4ed8', '#dc2626', '#059669', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#65a30d',
  '#ea580c', '#4f46e5', '#be123c', '#0d9488', '#a16207', '#9333ea', '#2563eb', '#15803d',
];

export function color(i) {
  return PALETTE[i % PALETTE.length];
}

function num(v) {
  const f = Number.parseFloat(v);
  return Number.isFinite(f) ? f : null;
}

/**
 * The matrix `result` of a query from `start` to `end` (seconds) at
 * `step` (seconds) as uPlot's columns: x, then one column per series.
 */
export function columns(result, start, end, step, stacked) {
  const n = Math.max(0, Math.floor((end - start) / step + 1e-9) + 1);
  const xs = Array.from({ length: n }, (_, i) => start + i * step);
  const raw = result.map((s) => {
    const col = new Array(n).fill(null);
    for (const [t, v] of s.values ?? []) {
      const i = Math.round((t - start) / step);
      if (i >= 0 && i < n) col[i] = num(v);
    }
    for (const [t, h] of s.histograms ?? []) {
      const i = Math.round((t - start) / step);
      if (i >= 0 && i < n) col[i] = num(h?.count);
    }
    return col;
  });
  if (!stacked) return { xs, raw, drawn: raw };
  const drawn = [];
  let below = new Array(n).fill(0);
  for (const col of raw) {
    const sum = col.map((v, i) => (v === null ? null : below[i] + v));
    below = below.map((b, i) => (col[i] === null ? b : b + col[i]));
    drawn.push(sum);
  }
  return { xs, raw, drawn };
}

export function Graph({ result, start, end, step, stacked }) {
  const host = useRef(null);
  const plot = useRef(null);
  const [hidden, setHidden] = useState(() => new Set());
  const [hover, setHover] = useState(null);
  const data = useMemo(() => columns(result, start, end, step, stacked), [result, start, end, step, stacked]);

  useEffect(() => setHidden(new Set()), [result]);

  useEffect(() => {
    const el = host.current;
    const series = [
      {},
      ...result.map((s, i) => ({
        label: seriesName(s.metric),
        stroke: color(i),
        width: 1.5,
        fill: stacked ? `${color(i)}55` : undefined,
        points: { show: false },
        spanGaps: false,
        show: !hidden.has(i),
      })),
    ];
    const opts = {
      width: Math.max(el.clientWidth, 200),
      height: 320,
      series,
      legend: { show: false },
      cursor: { focus: { prox: 24 }, drag: { x: true, y: false } },
      focus: { alpha: 0.35 },
      scales: { x: { time: true } },
      // Times in UTC, as the time inputs take them.
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      axes: [{ stroke: '#555', grid: { stroke: '#eee' } }, { stroke: '#555', grid: { stroke: '#eee' }, size: 60 }],
      hooks: {
        setCursor: [
          (u) => {
            const idx = u.cursor.idx;
            if (idx === null || idx === undefined || u.cursor.top < 0) {
              setHover(null);
              return;
            }
            const y = u.posToVal(u.cursor.top, 'y');
            let best = null;
            for (let s = 1; s < u.series.length; s++) {
              if (!u.series[s].show) continue;
              const v = data.drawn[s - 1][idx];
              if (v === null) continue;
              const d = Math.abs(v - y);
              if (best === null || d < best.d) best = { d, s };
            }
            setHover(
              best && {
                time: data.xs[idx],
                series: best.s - 1,
                value: data.raw[best.s - 1][idx],
                left: u.cursor.left,
                top: u.cursor.top,
              },
            );
          },
        ],
      },
    };
    plot.current = new uPlot(opts, [data.xs, ...data.drawn], el);
    const ro = new ResizeObserver(() => {
      plot.current?.setSize({ width: Math.max(el.clientWidth, 200), height: 320 });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [data]);

  const toggle = (i, only) => {
    const next = new Set(hidden);
    if (only) {
      const alone = result.every((_, j) => j === i || hidden.has(j));
      result.forEach((_, j) => (alone || j === i ? next.delete(j) : next.add(j)));
    } else if (next.has(i)) next.delete(i);
    else next.add(i);
    setHidden(next);
    result.forEach((_, j) => plot.current?.setSeries(j + 1, { show: !next.has(j) }));
  };

  return (
    <div class="graph">
      <div class="graph-canvas" ref={host}>
        {hover && (
          <div class="graph-hover" style={{ left: `${hover.left + 70}px`, top: `${hover.top + 10}px` }}>
            <div class="muted">{formatUTC(hover.time * 1000)} UTC</div>
            <div>
              <span class="swatch" style={{ background: color(hover.series) }} />
              {seriesName(result[hover.series].metric)}
            </div>
            <div>
              value: <strong>{String(hover.value)}</strong>
            </div>
          </div>
        )}
      </div>
      <ul class="legend">
        {result.map((s, i) => (
          <li
            key={i}
            class={hidden.has(i) ? 'legend-item hidden' : 'legend-item'}
            title="Click to show or hide, Ctrl+click to show only this series"
            onClick={(e) => toggle(i, e.ctrlKey || e.metaKey)}
          >
            <span class="swatch" style={{ background: color(i) }} />
            <span class="series-name">{seriesName(s.metric)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
