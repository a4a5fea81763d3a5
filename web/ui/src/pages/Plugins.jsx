// The plugins (/api/v1/plugins): kind, version, source, the capabilities
// granted and the limits, health and last error, calls, errors and time
// spent, and each use by a scrape or exporter job with its own health.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Ago, Loading, Missing, Pill } from '../components/common.jsx';
import { formatSeconds } from '../format.js';
import { useLoad } from '../hooks.js';

function bytes(n) {
  if (!Number.isFinite(n) || n <= 0) return '0';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)}${units[i]}`;
}

function Grants({ grants }) {
  const entries = Object.entries(grants ?? {}).filter(([, v]) => v.length > 0);
  if (entries.length === 0) return <span class="muted">none</span>;
  return (
    <span class="labels">
      {entries.flatMap(([k, vs]) =>
        vs.map((v) => (
          <span class="label" key={`${k}${v}`}>
            <span class="label-name">{k}</span> {v}
          </span>
        )),
      )}
    </span>
  );
}

function Plugin({ p }) {
  const errors = Object.values(p.errors ?? {}).reduce((a, b) => a + b, 0);
  return (
    <section class="card plugin" data-plugin={p.name}>
      <header>
        <h2 class="mono">{p.name}</h2>
        {p.kind && <Pill kind="neutral">{p.kind}</Pill>}
        <Pill kind={p.health === 'up' || p.health === 'ok' ? 'up' : p.health === 'down' || p.health === 'err' ? 'down' : 'unknown'}>{p.health}</Pill>
        <span class="muted">
          {p.version ? `v${p.version} · ` : ''}
          {p.source}
          {p.loaded ? '' : ' · not loaded'}
        </span>
      </header>
      <div class="body plugin-body">
        {p.description && <p>{p.description}</p>}
        <dl class="kv">
          <dt>Grants</dt>
          <dd>
            <Grants grants={p.grants} />
          </dd>
          {p.capabilities?.length > 0 && (
            <>
              <dt>May ask for</dt>
              <dd>{p.capabilities.join(', ')}</dd>
            </>
          )}
          {p.limits && (
            <>
              <dt>Limits</dt>
              <dd>
                memory {bytes(p.limits.memoryBytes)} · CPU {formatSeconds(p.limits.cpuBudgetSeconds)} · timeout {formatSeconds(p.limits.timeoutSeconds)}
              </dd>
            </>
          )}
          <dt>Calls</dt>
          <dd>
            {p.calls} ({errors} failed{errors > 0 ? `: ${Object.entries(p.errors).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}) · {formatSeconds(p.callDurationSecondsTotal)} in total
          </dd>
          <dt>Memory high water</dt>
          <dd>{bytes(p.memoryHighWaterBytes)}</dd>
          {p.deniedRequests > 0 && (
            <>
              <dt>Denied requests</dt>
              <dd>{p.deniedRequests}</dd>
            </>
          )}
          {p.sha256 && (
            <>
              <dt>sha256</dt>
              <dd>{p.sha256}</dd>
            </>
          )}
          {p.lastError && (
            <>
              <dt>Last error</dt>
              <dd class="error-text">
                {p.lastError} {p.lastErrorTime && <Ago time={p.lastErrorTime} />}
              </dd>
            </>
          )}
        </dl>
        {p.uses?.length > 0 && (
          <table class="data stack">
            <thead>
              <tr>
                <th>Used by</th>
                <th>Health</th>
                <th>Last call</th>
                <th>Duration</th>
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {p.uses.map((u) => (
                <tr key={u.key}>
                  <td>
                    <span class="mono">{u.job}</span> <span class="muted">({u.kind}, {u.key})</span>
                  </td>
                  <td>
                    <Pill kind={u.health}>{u.health}</Pill>
                  </td>
                  <td>{u.lastCall ? <Ago time={u.lastCall} /> : <span class="muted">never</span>}</td>
                  <td>{u.lastCallDuration === null || u.lastCallDuration === undefined ? '' : formatSeconds(u.lastCallDuration)}</td>
                  <td class="error-text">{u.lastError}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}

export function PluginsPage() {
  const { value, error, loading } = useLoad((signal) => api('api/v1/plugins', { signal }), [], { every: 15000 });
  const [all, setAll] = useState(false);
  const plugins = Array.isArray(value?.data) ? value.data : [];
  const shown = plugins.filter((p) => all || p.loaded);
  return (
    <div class="plugins-page">
      <h1>Plugins</h1>
      <div class="toolbar">
        <label class="check">
          <input type="checkbox" checked={all} onChange={(e) => setAll(e.currentTarget.checked)} /> also those not in use ({plugins.length - plugins.filter((p) => p.loaded).length})
        </label>
      </div>
      <Missing error={error} what="plugins" />
      {!value && <Loading loading={loading} error={error} what="plugins" />}
      {value && shown.length === 0 && <p class="muted">No plugin is in use; tick the box to see the built-in and installed ones.</p>}
      {shown.map((p) => (
        <Plugin key={p.name} p={p} />
      ))}
    </div>
  );
}
