// Targets, grouped by scrape pool (job): health, labels, last scrape,
// its duration and error; discovered labels on demand; filters by health
// and text. From /api/v1/targets, refreshed every 15s.
import { useMemo, useState } from 'preact/hooks';
import { api } from '../api.js';
import { Ago, Labels, Loading, Pill } from '../components/common.jsx';
import { formatSeconds } from '../format.js';
import { useLoad, useStored } from '../hooks.js';

const HEALTHS = ['up', 'down', 'unknown'];

function matches(t, text) {
  if (text === '') return true;
  const hay = [t.scrapeUrl, t.lastError, ...Object.entries(t.labels ?? {}).map(([k, v]) => `${k}="${v}"`)]
    .join(' ')
    .toLowerCase();
  return text
    .toLowerCase()
    .split(/\s+/)
    .every((w) => hay.includes(w));
}

/** An http(s) URL as a link, anything else as text. */
function Endpoint({ url }) {
  const safe = /^https?:\/\//i.test(url ?? '');
  return safe ? (
    <a href={url} target="_blank" rel="noopener noreferrer">
      {url}
    </a>
  ) : (
    <span>{url}</span>
  );
}

function TargetRow({ t }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <tr class="target" data-health={t.health}>
        <td class="mono">
          <Endpoint url={t.scrapeUrl} />
        </td>
        <td>
          <Pill kind={t.health}>{t.health.toUpperCase()}</Pill>
        </td>
        <td>
          <Labels labels={t.labels} />
          <div>
            <button class="link-button" onClick={() => setOpen(!open)}>
              {open ? 'hide discovered labels' : 'discovered labels'}
            </button>
          </div>
        </td>
        <td>
          <Ago time={t.lastScrape} />
        </td>
        <td>{formatSeconds(t.lastScrapeDuration)}</td>
        <td class="error-text">{t.lastError}</td>
      </tr>
      {open && (
        <tr class="discovered">
          <td colSpan={6}>
            <span class="muted">Discovered labels (before relabeling): </span>
            <Labels labels={t.discoveredLabels} />
          </td>
        </tr>
      )}
    </>
  );
}

function Pool({ name, targets, collapsed, onToggle }) {
  const up = targets.filter((t) => t.health === 'up').length;
  return (
    <section class="card pool" data-pool={name}>
      <header onClick={onToggle}>
        <h2>{name}</h2>
        <Pill kind={up === targets.length ? 'up' : up === 0 ? 'down' : 'unknown'}>
          {up} / {targets.length} up
        </Pill>
        <span class="muted">{collapsed ? '▸' : '▾'}</span>
      </header>
      {!collapsed && (
        <div class="body">
          <table class="data stack">
            <thead>
              <tr>
                <th>Endpoint</th>
                <th>State</th>
                <th>Labels</th>
                <th>Last scrape</th>
                <th>Duration</th>
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {targets.map((t) => (
                <TargetRow key={t.scrapeUrl + JSON.stringify(t.labels)} t={t} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function TargetsPage() {
  const { value, error, loading } = useLoad((signal) => api('api/v1/targets', { params: { state: 'active' }, signal }), [], {
    every: 15000,
  });
  const [health, setHealth] = useStored('targets.health', HEALTHS);
  const [text, setText] = useState('');
  const [collapsed, setCollapsed] = useState(() => new Set());

  const pools = useMemo(() => {
    const by = new Map();
    for (const t of value?.data?.activeTargets ?? []) {
      if (!by.has(t.scrapePool)) by.set(t.scrapePool, []);
      by.get(t.scrapePool).push(t);
    }
    return [...by.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }, [value]);

  const toggleHealth = (h) => setHealth(health.includes(h) ? health.filter((x) => x !== h) : [...health, h]);
  const togglePool = (p) => {
    const next = new Set(collapsed);
    if (next.has(p)) next.delete(p);
    else next.add(p);
    setCollapsed(next);
  };

  const shown = pools
    .map(([name, ts]) => [name, ts.filter((t) => health.includes(t.health) && matches(t, text.trim()))])
    .filter(([, ts]) => ts.length > 0);

  return (
    <div class="targets-page">
      <h1>Targets</h1>
      <div class="toolbar">
        {HEALTHS.map((h) => (
          <label class="check" key={h}>
            <input type="checkbox" checked={health.includes(h)} onChange={() => toggleHealth(h)} /> {h}
          </label>
        ))}
        <input type="search" placeholder="Filter by endpoint, label or error" value={text} onInput={(e) => setText(e.currentTarget.value)} aria-label="Filter targets" />
        <button onClick={() => setCollapsed(collapsed.size ? new Set() : new Set(pools.map(([n]) => n)))}>
          {collapsed.size ? 'Expand all' : 'Collapse all'}
        </button>
      </div>
      {!value && <Loading loading={loading} error={error} what="targets" />}
      {value && error && <Loading error={error} what="targets" />}
      {value && pools.length === 0 && <p class="muted">No scrape targets are configured.</p>}
      {value && pools.length > 0 && shown.length === 0 && <p class="muted">No targets match the filter.</p>}
      {shown.map(([name, ts]) => (
        <Pool key={name} name={name} targets={ts} collapsed={collapsed.has(name)} onToggle={() => togglePool(name)} />
      ))}
    </div>
  );
}
