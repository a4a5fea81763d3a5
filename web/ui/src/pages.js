// The pages, each at one path segment below the interface's root (so the
// bundle's relative URLs resolve the same from every page). host/web's
// PAGES lists the same paths: the server answers index.html for them.
export const NAV = [
  { path: 'query', title: 'Query' },
  { path: 'dashboards', title: 'Dashboards' },
  { path: 'alerts', title: 'Alerts' },
  { path: 'rules', title: 'Rules' },
  { path: 'targets', title: 'Targets' },
  { path: 'silences', title: 'Silences' },
  { path: 'service-discovery', title: 'Discovery' },
  { path: 'plugins', title: 'Plugins' },
  { path: 'status', title: 'Status' },
];

// Prometheus' separate status pages show sections of ours.
export const ALIASES = { flags: 'status', config: 'status', 'tsdb-status': 'status' };
