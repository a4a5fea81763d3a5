// Dashboards: the list of `[[dashboards]]` (/api/v1/dashboards) and one
// dashboard (`dashboards?name=…`, still one path segment deep): its
// template variables as selects, its rows of panels on Grafana's 24-column
// grid, re-run on the dashboard's refresh interval. The view is in the
// URL as Grafana's: `from`, `to` and `var-<name>`.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../api.js';
import { navigate } from '../base.js';
import { ErrorBox, Loading } from '../components/common.jsx';
import { PageLink } from '../components/link.jsx';
import { useLoad } from '../hooks.js';
import { DashPanel } from './dashboards/DashPanel.jsx';
import {
  customOptions,
  interpolate,
  intervalMs,
  intervals,
  parseTime,
  parseVariableQuery,
  queryResultText,
  refineValues,
} from './dashboards/grafana.js';

const RANGES = ['5m', '15m', '30m', '1h', '3h', '6h', '12h', '24h', '2d', '7d', '30d'];
const DEFAULT_REFRESH = '30s';
const ALL = '$__all';

/** The page's query string, following in-page navigation. */
function useSearch() {
  const [search, setSearch] = useState(window.location.search);
  useEffect(() => {
    const on = () => setSearch(window.location.search);
    window.addEventListener('popstate', on);
    window.addEventListener('pharos:navigate', on);
    return () => {
      window.removeEventListener('popstate', on);
      window.removeEventListener('pharos:navigate', on);
    };
  }, []);
  return useMemo(() => new URLSearchParams(search), [search]);
}

function setParams(params, changes) {
  const next = new URLSearchParams(params);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === undefined) next.delete(k);
    else next.set(k, v);
  }
  navigate('dashboards', `?${next}`);
}

export function DashboardsPage() {
  const params = useSearch();
  const name = params.get('name');
  return name ? <DashboardView key={name} name={name} params={params} /> : <DashboardList />;
}

function DashboardList() {
  const { value, error, loading } = useLoad((signal) => api('api/v1/dashboards', { signal }), []);
  return (
    <div class="dashboards-page">
      <h1>Dashboards</h1>
      <Loading loading={loading && !value} error={error} what="dashboards" />
      {value && value.data.length === 0 && (
        <p class="muted">
          No dashboards yet: list them in the config as <code>[[dashboards]]</code>, with rows of panels or a Grafana dashboard's JSON file.
        </p>
      )}
      {value && value.data.length > 0 && (
        <table class="data dashboards">
          <thead>
            <tr>
              <th>Dashboard</th>
              <th>Name</th>
              <th>Source</th>
            </tr>
          </thead>
          <tbody>
            {value.data.map((d) => (
              <tr key={d.name} class="dashboard-item">
                <td>
                  <PageLink path="dashboards" search={`?${new URLSearchParams({ name: d.name })}`}>
                    {d.title}
                  </PageLink>
                  {d.error && <div class="error-text">{d.error}</div>}
                </td>
                <td class="mono">{d.name}</td>
                <td>{d.source === 'grafana' ? `Grafana JSON (${d.file})` : 'TOML'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** The values of one variable's query against Pharos, for the range. */
async function variableOptions(v, resolved, { start, end, scrapeS }, signal) {
  if (v.kind === 'custom' || v.kind === 'interval') {
    return customOptions(v.query).map((o) => o.value);
  }
  if (v.kind === 'constant' || v.kind === 'textbox') return [v.query];
  if (v.kind !== 'query') return [];
  const iv = intervals({ rangeMs: end - start, points: 1000, scrapeS });
  const q = parseVariableQuery(interpolate(interpolate(v.query, resolved), iv.vars));
  const range = { start: start / 1000, end: end / 1000 };
  let values = [];
  if (q.kind === 'label_values') {
    const { data } = await api(`api/v1/label/${encodeURIComponent(q.label)}/values`, {
      params: { ...range, 'match[]': q.metric },
      signal,
    });
    values = data;
  } else if (q.kind === 'label_names') {
    values = (await api('api/v1/labels', { params: range, signal })).data;
  } else if (q.kind === 'metrics') {
    const { data } = await api('api/v1/label/__name__/values', { params: range, signal });
    const re = q.regex ? new RegExp(q.regex) : null;
    values = re ? data.filter((n) => re.test(n)) : data;
  } else {
    const { data } = await api('api/v1/query', { method: 'POST', form: { query: q.expr, time: end / 1000 }, signal });
    const result = data.resultType === 'vector' ? data.result : [];
    values = result.map(queryResultText);
  }
  return refineValues(values, v.regex, v.sort);
}

/** Each variable's options and selection, in order (later ones may use earlier ones). */
async function resolveVariables(dash, params, span, scrapeS, signal) {
  const resolved = {};
  const out = [];
  for (const v of dash.variables) {
    let options = [];
    let error = null;
    try {
      options = await variableOptions(v, resolved, { ...span, scrapeS }, signal);
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      error = e;
    }
    const asked = params.getAll(`var-${v.name}`);
    let values = asked.filter((x) => x === ALL || options.includes(x));
    if (values.length === 0) values = v.current.filter((x) => (x === ALL && v.includeAll) || options.includes(x));
    if (values.length === 0) values = v.includeAll && options.length > 1 ? [ALL] : options.slice(0, 1);
    if (!v.multi) values = values.slice(0, 1);
    const all = values.includes(ALL);
    const state = { values: all ? [] : values, options, all, multi: v.multi, includeAll: v.includeAll, allValue: v.allValue };
    resolved[v.name] = state;
    out.push({ def: v, options, selected: values, error });
  }
  return { out, resolved };
}

function VariableSelect({ v, params }) {
  const { def, options, selected, error } = v;
  const id = `var-${def.name}`;
  return (
    <label class="dash-var" for={id}>
      <span>{def.label ?? def.name}</span>
      <select
        id={id}
        value={selected[0] ?? ''}
        onChange={(e) => setParams(params, { [`var-${def.name}`]: e.currentTarget.value })}
      >
        {def.includeAll && <option value={ALL}>All</option>}
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
        {options.length === 0 && !def.includeAll && <option value="">(none)</option>}
      </select>
      {error && <span class="error-text">{error.message}</span>}
    </label>
  );
}

function DashboardView({ name, params }) {
  const { value, error, loading } = useLoad((signal) => api(`api/v1/dashboards/${encodeURIComponent(name)}`, { signal }), [name]);
  const [now, setNow] = useState(() => Date.now());
  const [opened, setOpened] = useState(() => new Set());
  const [vars, setVars] = useState(null);
  const dash = value?.data;
  const from = params.get('from') ?? dash?.time.from ?? 'now-1h';
  const to = params.get('to') ?? dash?.time.to ?? 'now';
  const span = useMemo(() => ({ start: parseTime(from, now), end: parseTime(to, now) }), [from, to, now]);
  const refresh = params.get('refresh') ?? dash?.refresh ?? DEFAULT_REFRESH;

  useEffect(() => {
    const ms = intervalMs(refresh);
    if (!ms || ms < 1000) return undefined;
    const id = setInterval(() => document.visibilityState === 'visible' && setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [refresh]);

  // Variables are resolved when the dashboard, the URL or the range change.
  const search = params.toString();
  useEffect(() => {
    if (!dash) return undefined;
    const ctl = new AbortController();
    resolveVariables(dash, params, span, value.data.scrapeInterval, ctl.signal).then(
      (r) => !ctl.signal.aborted && setVars(r),
      (e) => !ctl.signal.aborted && e.name !== 'AbortError' && setVars({ out: [], resolved: {}, error: e }),
    );
    return () => ctl.abort();
  }, [dash, search, from, to]);

  if (!dash) {
    return (
      <div class="dashboards-page">
        <p>
          <PageLink path="dashboards">← Dashboards</PageLink>
        </p>
        <Loading loading={loading} error={error} what={`dashboard ${name}`} />
      </div>
    );
  }
  const rangeText = from.startsWith('now-') && to === 'now' ? from.slice(4) : null;
  const toggle = (i) => {
    const next = new Set(opened);
    if (next.has(i)) next.delete(i);
    else next.add(i);
    setOpened(next);
  };
  return (
    <div class="dashboards-page dashboard" data-dashboard={name}>
      <div class="dash-head">
        <h1>
          <PageLink path="dashboards" class="muted">
            Dashboards
          </PageLink>{' '}
          / {dash.title}
        </h1>
        <div class="dash-controls">
          <label>
            Range{' '}
            <select value={rangeText ?? ''} onChange={(e) => setParams(params, { from: `now-${e.currentTarget.value}`, to: 'now' })}>
              {rangeText === null && <option value="">{`${from} to ${to}`}</option>}
              {[...new Set([...RANGES, ...(rangeText ? [rangeText] : [])])].map((r) => (
                <option key={r} value={r}>
                  Last {r}
                </option>
              ))}
            </select>
          </label>
          <button type="button" onClick={() => setNow(Date.now())}>
            Refresh
          </button>
          <span class="muted">every {refresh}</span>
        </div>
      </div>
      {vars && vars.out.some((v) => !v.def.hidden) && (
        <div class="dash-vars">
          {vars.out
            .filter((v) => !v.def.hidden)
            .map((v) => (
              <VariableSelect key={v.def.name} v={v} params={params} />
            ))}
        </div>
      )}
      {vars?.error && <ErrorBox error={vars.error} title="Cannot resolve the variables" />}
      {vars &&
        dash.rows.map((row, i) => {
          const open = row.collapsed ? opened.has(i) : !opened.has(i);
          return (
            <section class="dash-row" key={i} data-open={open ? 'yes' : 'no'}>
              {row.title !== null && (
                <h2 class="dash-row-title">
                  <button type="button" aria-expanded={open ? 'true' : 'false'} onClick={() => toggle(i)}>
                    {open ? '▾' : '▸'} {interpolate(row.title, vars.resolved)}{' '}
                    <span class="muted">({row.panels.length})</span>
                  </button>
                </h2>
              )}
              {open && (
                <div class="dash-grid">
                  {row.panels.map((p, j) => (
                    <DashPanel key={j} panel={p} vars={vars.resolved} span={span} scrapeS={value.data.scrapeInterval} />
                  ))}
                </div>
              )}
            </section>
          );
        })}
    </div>
  );
}
