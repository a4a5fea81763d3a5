// Pharos' web interface: one page, the path segment picks what it shows.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { currentPath } from './base.js';
import { PageLink } from './components/link.jsx';
import { ALIASES, NAV } from './pages.js';
import { QueryPage } from './pages/query/QueryPage.jsx';
import { TargetsPage } from './pages/Targets.jsx';
import { AlertsPage } from './pages/Alerts.jsx';
import { RulesPage } from './pages/Rules.jsx';
import { SilencesPage } from './pages/Silences.jsx';
import { StatusPage } from './pages/Status.jsx';
import { PluginsPage } from './pages/Plugins.jsx';
import { ServiceDiscoveryPage } from './pages/ServiceDiscovery.jsx';
import { DashboardsPage } from './pages/Dashboards.jsx';

const PAGES = {
  query: QueryPage,
  targets: TargetsPage,
  alerts: AlertsPage,
  rules: RulesPage,
  silences: SilencesPage,
  status: StatusPage,
  plugins: PluginsPage,
  'service-discovery': ServiceDiscoveryPage,
  dashboards: DashboardsPage,
};

function Nav({ current }) {
  return (
    <header class="nav">
      <PageLink path="query" class="brand">
        <img src="./assets/favicon.svg" alt="" width="22" height="22" /> Pharos
      </PageLink>
      <nav>
        {NAV.map((p) => (
          <PageLink key={p.path} path={p.path} class={p.path === current ? 'active' : ''} aria-current={p.path === current ? 'page' : undefined}>
            {p.title}
          </PageLink>
        ))}
      </nav>
    </header>
  );
}

function App() {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const on = () => setPath(currentPath());
    window.addEventListener('popstate', on);
    window.addEventListener('pharos:navigate', on);
    return () => {
      window.removeEventListener('popstate', on);
      window.removeEventListener('pharos:navigate', on);
    };
  }, []);
  const page = ALIASES[path] ?? path;
  const Page = PAGES[page];
  useEffect(() => {
    const title = NAV.find((p) => p.path === page)?.title;
    document.title = title ? `${title} - Pharos` : 'Pharos';
  }, [page]);
  return (
    <>
      <Nav current={page} />
      <main>{Page ? <Page key={path} section={path} /> : <p>No page here: {path}</p>}</main>
    </>
  );
}

render(<App />, document.getElementById('app'));
