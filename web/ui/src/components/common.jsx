// Small pieces every page uses. Everything that comes from the server
// (metric and label names, values, errors) is a text child, never markup.
import { formatUTC, ago } from '../format.js';

/** Label pairs as badges. */
export function Labels({ labels, skip = [] }) {
  const entries = Object.entries(labels ?? {})
    .filter(([k]) => !skip.includes(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return (
    <span class="labels">
      {entries.map(([k, v]) => (
        <span class="label" key={k}>
          <span class="label-name">{k}</span>=<span class="label-value">{v}</span>
        </span>
      ))}
    </span>
  );
}

/** An error (or APIError) in a box. */
export function ErrorBox({ error, title = 'Error' }) {
  if (!error) return null;
  const type = error.type && error.type !== 'error' ? ` (${error.type})` : '';
  return (
    <div class="error-box" role="alert">
      <strong>
        {title}
        {type}:
      </strong>{' '}
      <span class="error-text">{error.message ?? String(error)}</span>
    </div>
  );
}

/** Warnings and infos of an API answer. */
export function Notes({ warnings = [], infos = [] }) {
  if (warnings.length === 0 && infos.length === 0) return null;
  return (
    <div class="notes">
      {warnings.map((w, i) => (
        <div class="warning" key={`w${i}`}>
          <strong>Warning:</strong> {w}
        </div>
      ))}
      {infos.map((w, i) => (
        <div class="info" key={`i${i}`}>
          <strong>Info:</strong> {w}
        </div>
      ))}
    </div>
  );
}

/** A time, relative with the absolute one as tooltip. */
export function Ago({ time }) {
  const t = typeof time === 'number' ? time : Date.parse(time);
  if (!Number.isFinite(t) || t <= 0) return <span class="muted">never</span>;
  return <time title={`${formatUTC(t)} UTC`}>{ago(t)}</time>;
}

/** A status pill: `ok`, `up`, `firing`, … */
export function Pill({ kind, children }) {
  return <span class={`pill pill-${kind}`}>{children}</span>;
}

/** What a page shows while its first answer is on its way, or failed. */
export function Loading({ loading, error, what }) {
  if (error) return <ErrorBox error={error} title={`Cannot load ${what}`} />;
  if (loading) return <p class="muted">Loading {what}…</p>;
  return null;
}

/** The absence of an API: a plain note rather than an error. */
export function Missing({ error, what }) {
  if (error && (error.status === 404 || error.status === 501)) {
    return <p class="muted">This Pharos does not serve {what} yet.</p>;
  }
  return null;
}
