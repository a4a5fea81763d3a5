// Service discovery: per scrape pool, each discovered target's labels
// before relabeling next to what relabeling kept (or that it dropped it).
// From /api/v1/targets (active and dropped targets).
import { useMemo, useState } from 'preact/hooks';
import { api } from '../api.js';
import { Labels, Loading, Pill } from '../components/common.jsx';
import { useLoad } from '../hooks.js';

export function ServiceDiscoveryPage() {
  const { value, error, loading } = useLoad((signal) => api('api/v1/targets', { signal }), [], { every: 30000 });
  const [text, setText] = useState('');
  const pools = useMemo(() => {
    const by = new Map();
    const add = (pool, t) => {
      if (!by.has(pool)) by.set(pool, []);
      by.get(pool).push(t);
    };
    for (const t of value?.data?.activeTargets ?? []) add(t.scrapePool, { discovered: t.discoveredLabels, kept: t.labels });
    for (const t of value?.data?.droppedTargets ?? []) add(t.scrapePool ?? t.discoveredLabels?.job ?? '', { discovered: t.discoveredLabels, kept: null });
    return [...by.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }, [value]);
  const words = text.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const match = (t) => {
    const hay = JSON.stringify([t.discovered, t.kept]).toLowerCase();
    return words.every((w) => hay.includes(w));
  };
  return (
    <div class="sd-page">
      <h1>Service discovery</h1>
      <div class="toolbar">
        <input type="search" placeholder="Filter by label" value={text} onInput={(e) => setText(e.currentTarget.value)} aria-label="Filter discovered targets" />
      </div>
      {!value && <Loading loading={loading} error={error} what="discovered targets" />}
      {value && pools.length === 0 && <p class="muted">Nothing is discovered: no scrape jobs are configured.</p>}
      {pools.map(([pool, ts]) => {
        const kept = ts.filter((t) => t.kept).length;
        const shown = ts.filter(match);
        return (
          <section class="card" key={pool}>
            <header>
              <h2>{pool}</h2>
              <span class="muted">
                {kept} kept, {ts.length - kept} dropped of {ts.length} discovered
              </span>
            </header>
            <div class="body">
              <table class="data stack">
                <thead>
                  <tr>
                    <th>Discovered labels</th>
                    <th>Target labels</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((t, i) => (
                    <tr key={i}>
                      <td>
                        <Labels labels={t.discovered} />
                      </td>
                      <td>{t.kept ? <Labels labels={t.kept} /> : <Pill kind="neutral">dropped</Pill>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        );
      })}
    </div>
  );
}
