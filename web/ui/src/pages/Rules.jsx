// Rule groups from /api/v1/rules: each rule's health, last error, last
// evaluation and its duration; the group's interval and evaluation time.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Ago, Labels, Loading, Missing, Pill } from '../components/common.jsx';
import { PageLink } from '../components/link.jsx';
import { formatSeconds } from '../format.js';
import { useLoad } from '../hooks.js';

/** A link to the query page with `expr` in a table panel. */
export function QueryLink({ expr, children }) {
  const search = `?${new URLSearchParams({ 'g0.expr': expr, 'g0.tab': 'table' })}`;
  return (
    <PageLink path="query" search={search} class="mono query-link" title="Open in the query page">
      {children ?? expr}
    </PageLink>
  );
}

function health(h) {
  return h === 'ok' ? 'ok' : h === 'err' ? 'err' : 'unknown';
}

function Group({ g }) {
  const [collapsed, setCollapsed] = useState(false);
  const bad = g.rules.filter((r) => r.health === 'err').length;
  return (
    <section class="card rule-group">
      <header onClick={() => setCollapsed(!collapsed)}>
        <h2>{g.name}</h2>
        <span class="muted mono">{g.file}</span>
        {bad > 0 && <Pill kind="err">{bad} failing</Pill>}
        <span class="muted">
          every {formatSeconds(g.interval)} · last <Ago time={g.lastEvaluation} /> · took {formatSeconds(g.evaluationTime)}
        </span>
      </header>
      {!collapsed && (
        <div class="body">
          <table class="data stack">
            <thead>
              <tr>
                <th>Rule</th>
                <th>Health</th>
                <th>Last evaluation</th>
                <th>Evaluation time</th>
              </tr>
            </thead>
            <tbody>
              {g.rules.map((r, i) => (
                <tr key={i} class="rule">
                  <td>
                    <div>
                      <strong>{r.type === 'alerting' ? 'alert: ' : 'record: '}</strong>
                      <span class="mono">{r.name}</span>
                    </div>
                    <div>
                      <span class="muted">expr: </span>
                      <QueryLink expr={r.query} />
                    </div>
                    {r.type === 'alerting' && r.duration > 0 && <div class="muted">for: {formatSeconds(r.duration)}</div>}
                    {Object.keys(r.labels ?? {}).length > 0 && (
                      <div>
                        <span class="muted">labels: </span>
                        <Labels labels={r.labels} />
                      </div>
                    )}
                    {r.lastError && <div class="error-text">{r.lastError}</div>}
                  </td>
                  <td>
                    <Pill kind={health(r.health)}>{r.health}</Pill>
                  </td>
                  <td>
                    <Ago time={r.lastEvaluation} />
                  </td>
                  <td>{formatSeconds(r.evaluationTime)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function RulesPage() {
  const { value, error, loading } = useLoad((signal) => api('api/v1/rules', { signal }), [], { every: 30000 });
  const groups = value?.data?.groups ?? [];
  return (
    <div class="rules-page">
      <h1>Rules</h1>
      <Missing error={error} what="rules" />
      {!value && <Loading loading={loading} error={error} what="rules" />}
      {value && groups.length === 0 && <p class="muted">No rule groups are loaded ([rules] files in the configuration).</p>}
      {groups.map((g) => (
        <Group key={`${g.file}\u0000${g.name}`} g={g} />
      ))}
    </div>
  );
}
