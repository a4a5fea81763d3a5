// Alerting rules and their alerts (/api/v1/rules?type=alert): firing,
// pending or inactive, with labels, annotations, the time since when the
// alert is active, and whether Pharos' Alertmanager silenced or inhibited
// it (/api/v2/alerts). An alert links to a new silence for its labels.
import { useMemo, useState } from 'preact/hooks';
import { amAPI, api } from '../api.js';
import { Ago, Labels, Loading, Missing, Pill } from '../components/common.jsx';
import { PageLink } from '../components/link.jsx';
import { formatSeconds } from '../format.js';
import { useLoad, useStored } from '../hooks.js';
import { QueryLink } from './Rules.jsx';

const STATES = ['firing', 'pending', 'inactive'];

function key(labels) {
  return JSON.stringify(Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `?m=…` matchers for a new silence of an alert with `labels`. */
export function silenceSearch(labels) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(labels ?? {}).sort()) {
    if (k !== 'alertstate') params.append('m', `${k}=${JSON.stringify(v)}`);
  }
  return `?${params}`;
}

function Annotations({ annotations }) {
  const entries = Object.entries(annotations ?? {});
  if (entries.length === 0) return null;
  return (
    <dl class="annotations">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

function Rule({ rule, suppressed, open, onToggle }) {
  return (
    <section class="card alert-rule" data-state={rule.state}>
      <header onClick={onToggle}>
        <Pill kind={rule.state}>{rule.state.toUpperCase()}</Pill>
        <h2 class="mono">{rule.name}</h2>
        <span class="muted">
          {rule.alerts.length} active{rule.group ? ` · group ${rule.group}` : ''}
        </span>
        {rule.health === 'err' && <Pill kind="err">rule failing</Pill>}
      </header>
      {open && (
        <div class="body alert-body">
          <div class="rule-def">
            <div>
              <span class="muted">expr: </span>
              <QueryLink expr={rule.query} />
            </div>
            {rule.duration > 0 && <div class="muted">for: {formatSeconds(rule.duration)}</div>}
            {Object.keys(rule.labels ?? {}).length > 0 && (
              <div>
                <span class="muted">labels: </span>
                <Labels labels={rule.labels} />
              </div>
            )}
            <Annotations annotations={rule.annotations} />
            {rule.lastError && <div class="error-text">{rule.lastError}</div>}
          </div>
          {rule.alerts.length > 0 && (
            <table class="data stack">
              <thead>
                <tr>
                  <th>Labels</th>
                  <th>State</th>
                  <th>Active since</th>
                  <th>Value</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {rule.alerts.map((a, i) => {
                  const s = suppressed.get(key(a.labels));
                  return (
                    <tr key={i} class="alert">
                      <td>
                        <Labels labels={a.labels} />
                        <Annotations annotations={a.annotations} />
                      </td>
                      <td>
                        <Pill kind={a.state}>{a.state.toUpperCase()}</Pill>{' '}
                        {s?.silencedBy?.length > 0 && <Pill kind="neutral">silenced</Pill>}{' '}
                        {s?.inhibitedBy?.length > 0 && <Pill kind="neutral">inhibited</Pill>}
                      </td>
                      <td>
                        <Ago time={a.activeAt} />
                      </td>
                      <td class="mono">{a.value}</td>
                      <td>
                        <PageLink path="silences" search={silenceSearch(a.labels)} class="button-link">
                          Silence
                        </PageLink>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </div>
      )}
    </section>
  );
}

export function AlertsPage() {
  const rules = useLoad((signal) => api('api/v1/rules', { params: { type: 'alert' }, signal }), [], { every: 15000 });
  // Silenced and inhibited alerts; without an Alertmanager API, none.
  const am = useLoad((signal) => amAPI('api/v2/alerts', { signal }).catch(() => []), [], { every: 15000 });
  const [states, setStates] = useStored('alerts.states', STATES);
  const [text, setText] = useState('');
  const [open, setOpen] = useState(() => new Set());

  const suppressed = useMemo(() => {
    const m = new Map();
    for (const a of Array.isArray(am.value) ? am.value : []) m.set(key(a.labels), a.status ?? {});
    return m;
  }, [am.value]);

  const all = (rules.value?.data?.groups ?? []).flatMap((g) =>
    g.rules.filter((r) => r.type === 'alerting').map((r) => ({ ...r, group: g.name, alerts: r.alerts ?? [] })),
  );
  const counts = Object.fromEntries(STATES.map((s) => [s, all.filter((r) => r.state === s).length]));
  const words = text.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const shown = all.filter((r) => {
    if (!states.includes(r.state)) return false;
    const hay = [r.name, r.query, ...r.alerts.map((a) => key(a.labels))].join(' ').toLowerCase();
    return words.every((w) => hay.includes(w));
  });
  const toggleState = (s) => setStates(states.includes(s) ? states.filter((x) => x !== s) : [...states, s]);
  const isOpen = (r) => (open.has(r.name + r.group) ? r.state === 'inactive' : r.state !== 'inactive');
  const toggle = (r) => {
    const next = new Set(open);
    const k = r.name + r.group;
    if (next.has(k)) next.delete(k);
    else next.add(k);
    setOpen(next);
  };

  return (
    <div class="alerts-page">
      <h1>Alerts</h1>
      <div class="toolbar">
        {STATES.map((s) => (
          <label class="check" key={s}>
            <input type="checkbox" checked={states.includes(s)} onChange={() => toggleState(s)} />
            <Pill kind={s}>
              {s} ({counts[s]})
            </Pill>
          </label>
        ))}
        <input type="search" placeholder="Filter by name, expression or label" value={text} onInput={(e) => setText(e.currentTarget.value)} aria-label="Filter alerts" />
      </div>
      <Missing error={rules.error} what="alerting rules" />
      {!rules.value && <Loading loading={rules.loading} error={rules.error} what="alerts" />}
      {rules.value && all.length === 0 && <p class="muted">No alerting rules are loaded ([rules] files in the configuration).</p>}
      {shown.map((r) => (
        <Rule key={r.group + r.name} rule={r} suppressed={suppressed} open={isOpen(r)} onToggle={() => toggle(r)} />
      ))}
    </div>
  );
}
