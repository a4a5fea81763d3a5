// The query page's panels in the URL, with Prometheus 3's parameter names
// (`g<n>.expr`, `g<n>.tab`, `g<n>.range_input`, `g<n>.end_input`, …), so
// its links, and Prometheus 2's `/graph?g0.…` links, open the same view.
import { formatDuration, formatUTC, parseDuration, parseUTC } from '../../format.js';

const HOUR = 3600 * 1000;

let nextId = 1;

export function newPanel(fields = {}) {
  return { id: nextId++, expr: '', tab: 'table', range: HOUR, end: null, step: null, stacked: false, ...fields };
}

/** The panels a query string describes (none when it names none). */
export function decodePanels(search) {
  const params = new URLSearchParams(search);
  const panels = [];
  for (let i = 0; params.has(`g${i}.expr`); i++) {
    const get = (k) => params.get(`g${i}.${k}`);
    const p = newPanel({ expr: get('expr') ?? '' });
    const tab = get('tab');
    if (tab === '0' || tab === 'graph') p.tab = 'graph';
    else if (tab === '1' || tab === 'table') p.tab = 'table';
    const range = parseDuration(get('range_input') ?? '');
    if (range) p.range = range;
    for (const k of ['end_input', 'moment_input']) {
      const t = get(k) === null ? null : parseUTC(get(k));
      if (t !== null) p.end = t;
    }
    const legacyStep = Number(get('step_input'));
    if (legacyStep > 0) p.step = legacyStep * 1000;
    const resType = get('res_type');
    const resStep = Number(get('res_step'));
    if ((resType === 'fixed' || resType === 'custom') && resStep > 0) p.step = resStep * 1000;
    if (resType === 'auto') p.step = null;
    if (get('stacked') !== null) p.stacked = get('stacked') === '1';
    if (get('display_mode') !== null) p.stacked = get('display_mode') === 'stacked';
    panels.push(p);
  }
  return panels;
}

/** The query string (without `?`) for `panels`. */
export function encodePanels(panels) {
  const params = new URLSearchParams();
  panels.forEach((p, i) => {
    const add = (k, v) => params.append(`g${i}.${k}`, v);
    add('expr', p.expr);
    add('tab', p.tab);
    add('range_input', formatDuration(p.range));
    if (p.end !== null) {
      add('end_input', formatUTC(p.end));
      add('moment_input', formatUTC(p.end));
    }
    if (p.step === null) {
      add('res_type', 'auto');
    } else {
      add('res_type', 'fixed');
      add('res_step', String(p.step / 1000));
    }
    add('display_mode', p.stacked ? 'stacked' : 'lines');
  });
  return params.toString();
}

/** Prometheus' default step for a range: range/250, at least 1s. */
export function autoStep(range) {
  return Math.max(Math.floor(range / 250 / 1000), 1) * 1000;
}
