// Status: build information (/api/v1/status/buildinfo), TSDB statistics
// (/api/v1/status/tsdb, with the WAL's and sled's bytes on disk), the command line's flags (/api/v1/status/flags)
// and the running configuration (/api/v1/status/config, secrets masked by
// the server). Prometheus' /flags, /config and /tsdb-status open their tab.
import { Fragment } from 'preact';
import { api } from '../api.js';
import { Loading, Missing } from '../components/common.jsx';
import { PageLink } from '../components/link.jsx';
import { formatUTC } from '../format.js';
import { formatUnit } from '../units.js';
import { useLoad } from '../hooks.js';

const TABS = [
  { path: 'status', title: 'Build' },
  { path: 'tsdb-status', title: 'TSDB' },
  { path: 'flags', title: 'Flags' },
  { path: 'config', title: 'Configuration' },
];

function KV({ entries }) {
  return (
    <dl class="kv">
      {entries.map(([k, v]) => (
        <Fragment key={k}>
          <dt>{k}</dt>
          <dd>{String(v ?? '')}</dd>
        </Fragment>
      ))}
    </dl>
  );
}

function useAPI(path, params) {
  return useLoad((signal) => api(path, { params, signal }), [path]);
}

function Build() {
  const { value, error, loading } = useAPI('api/v1/status/buildinfo');
  if (!value) return <Loading loading={loading} error={error} what="build information" />;
  const d = value.data;
  return (
    <KV
      entries={[
        ['Version', d.version],
        ['Revision', d.revision],
        ['Branch', d.branch],
        ['Build user', d.buildUser],
        ['Build date', d.buildDate],
        ['Rust version', d.goVersion],
      ]}
    />
  );
}

function Top({ title, rows }) {
  return (
    <>
      <h2>{title}</h2>
      <table class="data">
        <thead>
          <tr>
            <th>Name</th>
            <th>Count</th>
          </tr>
        </thead>
        <tbody>
          {(rows ?? []).map((r) => (
            <tr key={r.name}>
              <td class="mono">{r.name}</td>
              <td class="mono">{r.value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function Tsdb() {
  const { value, error, loading } = useAPI('api/v1/status/tsdb', { limit: 10 });
  if (!value) {
    return (
      <>
        <Missing error={error} what="TSDB statistics" />
        <Loading loading={loading} error={error} what="TSDB statistics" />
      </>
    );
  }
  const d = value.data;
  const h = d.headStats ?? {};
  const time = (ms) => (Number.isFinite(ms) && ms > 0 && ms < 8.64e15 ? `${formatUTC(ms)} UTC` : '—');
  return (
    <>
      <h2>Head</h2>
      <KV
        entries={[
          ['Series', h.numSeries],
          ['Label pairs', h.numLabelPairs],
          ['Chunks', h.chunkCount],
          ['Earliest sample', time(h.minTime)],
          ['Latest sample', time(h.maxTime)],
        ]}
      />
      {(d.walSizeBytes !== undefined || d.storageSizeBytes !== undefined) && (
        <>
          <h2>On disk</h2>
          <KV
            entries={[
              ['WAL size', d.walSizeBytes === undefined ? '—' : formatUnit(d.walSizeBytes, 'bytes')],
              ['Storage size (sled: index and chunks)', d.storageSizeBytes === undefined ? '—' : formatUnit(d.storageSizeBytes, 'bytes')],
            ]}
          />
        </>
      )}
      <Top title="Top metrics by series" rows={d.seriesCountByMetricName} />
      <Top title="Top label names by value count" rows={d.labelValueCountByLabelName} />
      <Top title="Top label names by memory (bytes)" rows={d.memoryInBytesByLabelName} />
      <Top title="Top label pairs by series" rows={d.seriesCountByLabelValuePair} />
    </>
  );
}

function Flags() {
  const { value, error, loading } = useAPI('api/v1/status/flags');
  if (!value) return <Loading loading={loading} error={error} what="flags" />;
  return <KV entries={Object.entries(value.data ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))} />;
}

function Config() {
  const { value, error, loading } = useAPI('api/v1/status/config');
  if (!value) return <Loading loading={loading} error={error} what="the configuration" />;
  return (
    <>
      <p class="muted">The running configuration, in Prometheus' YAML shape (secrets masked).</p>
      <pre class="config">{value.data?.yaml ?? ''}</pre>
    </>
  );
}

const BODIES = { status: Build, 'tsdb-status': Tsdb, flags: Flags, config: Config };

export function StatusPage({ section }) {
  const tab = BODIES[section] ? section : 'status';
  const Body = BODIES[tab];
  return (
    <div class="status-page">
      <h1>Status</h1>
      <div class="tabs toolbar" role="tablist">
        {TABS.map((t) => (
          <PageLink key={t.path} path={t.path} role="tab" aria-selected={t.path === tab} class={t.path === tab ? 'tab active' : 'tab'}>
            {t.title}
          </PageLink>
        ))}
      </div>
      <Body />
    </div>
  );
}
