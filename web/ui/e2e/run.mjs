// End-to-end checks of the web interface in headless Chromium, driven by
// playwright-core. tests/tests/web_ui.rs starts Pharos (scraping a
// target whose label value is an HTML payload, a target that is down and
// a node exporter, with rules that always fire, one of them routed to a
// webhook the test records, and two dashboards: Grafana's Node Exporter
// Full and one in TOML) and runs:
//
//   node run.mjs --url http://127.0.0.1:PORT --out DIR
//
// Every case prints `ok - …` or `not ok - … : reason`; the exit status is
// 1 when any failed. Screenshots go to DIR. Any script dialog (alert()),
// page error or Content-Security-Policy violation fails the run.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string' },
    out: { type: 'string' },
    chromium: { type: 'string', default: process.env.PHAROS_CHROMIUM ?? '/usr/bin/chromium' },
  },
});
if (!opts.url || !opts.out) {
  console.error('usage: node run.mjs --url URL --out DIR [--chromium PATH]');
  process.exit(2);
}
const base = opts.url.replace(/\/$/, '');
mkdirSync(opts.out, { recursive: true });

// Never hang the test that runs this: fail after 4 minutes, and on any
// error outside a case.
setTimeout(() => {
  console.log('not ok - the run took longer than 4 minutes');
  process.exit(1);
}, 240000).unref();
process.on('unhandledRejection', (e) => {
  console.log(`not ok - ${e?.stack ?? e}`);
  process.exit(1);
});

const XSS = '<img src=x onerror=alert(1)>';
const TIMEOUT = 20000;

const profile = mkdtempSync(join(tmpdir(), 'webui-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: opts.chromium,
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
  viewport: { width: 1280, height: 800 },
  timezoneId: 'UTC',
  locale: 'en-US',
});
context.setDefaultTimeout(TIMEOUT);

// What must never happen on any page.
const incidents = [];
const watch = (page) => {
  page.on('dialog', (d) => {
    incidents.push(`script dialog (${d.type()}): ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => incidents.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    const text = m.text();
    if (/Content Security Policy|Refused to/i.test(text)) incidents.push(`CSP violation: ${text}`);
    else if (m.type() === 'error' && !/Failed to load resource/.test(text)) incidents.push(`console error: ${text}`);
  });
};

let failed = 0;
async function test(name, fn) {
  console.log(`# ${name}`);
  const page = await context.newPage();
  watch(page);
  const before = incidents.length;
  const started = Date.now();
  let timer;
  try {
    // Playwright's own waits time out after 20s; evaluate() and a few
    // others have no timeout, so the case as a whole gets one.
    await Promise.race([
      fn(page),
      new Promise((_, fail) => {
        timer = setTimeout(() => fail(new Error('the case took longer than 60s')), 60000);
      }),
    ]);
    if (incidents.length > before) throw new Error(incidents.slice(before).join('; '));
    console.log(`ok - ${name} (${Date.now() - started}ms)`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${e.message.split('\n').slice(0, 6).join('\n    ')}`);
    await page.screenshot({ path: join(opts.out, `failed-${name.replace(/\W+/g, '-')}.png`) }).catch(() => {});
  } finally {
    clearTimeout(timer);
    await page.close({ runBeforeUnload: false }).catch(() => {});
  }
}

function check(cond, message) {
  if (!cond) throw new Error(message);
}

/** Pixels of the graph's canvas in the first two series' colours (Graph.jsx's palette). */
async function paintedPixels(page) {
  return page.evaluate(() => {
    const c = document.querySelector('.graph-canvas canvas');
    if (!c || c.width === 0) return 0;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const colours = [
      [0x1d, 0x4e, 0xd8],
      [0xdc, 0x26, 0x26],
    ];
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] < 200) continue;
      if (colours.some(([r, g, b]) => Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) < 60)) n++;
    }
    return n;
  });
}

async function editorText(page, panel = 0) {
  return page.locator('.panel').nth(panel).locator('.cm-content').innerText();
}

await test('query typed with autocompletion, then table and graph', async (page) => {
  await page.goto(`${base}/query`);
  const editor = page.locator('.cm-content').first();
  await editor.click();
  await page.keyboard.type('demo_req', { delay: 30 });
  const option = page.locator('.cm-tooltip-autocomplete li', { hasText: 'demo_requests_total' });
  await option.first().waitFor();
  await page.locator('.cm-tooltip-autocomplete li[aria-selected="true"]', { hasText: 'demo_requests_total' }).waitFor();
  // CodeMirror ignores Enter for 75ms after the list (re)opens, so that a
  // fast typist's Enter runs the query instead; wait as a reader would.
  await page.waitForTimeout(300);
  await page.keyboard.press('Enter'); // accepts the completion
  check((await editorText(page)) === 'demo_requests_total', `editor holds "${await editorText(page)}"`);
  await page.keyboard.press('Enter'); // runs the query
  const row = page.locator('table.result td.series-name', { hasText: 'demo_requests_total{' });
  await row.first().waitFor();
  check((await row.count()) === 2, `expected 2 series in the table, got ${await row.count()}`);
  await page.screenshot({ path: join(opts.out, 'query-table.png') });
  await page.getByRole('tab', { name: 'Graph' }).click();
  await page.locator('.graph-canvas canvas').waitFor();
  await page.locator('.legend-item').first().waitFor();
  check((await page.locator('.legend-item').count()) === 2, 'expected 2 legend entries');
  await page.waitForFunction(() => {
    const c = document.querySelector('.graph-canvas canvas');
    return c && c.width > 0;
  });
  // A range the samples fill, so the lines cross the graph.
  await page.getByLabel('Range').fill('1m');
  await page.getByLabel('Range').press('Enter');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('g0.range_input') === '1m');
  await page.waitForTimeout(500);
  const painted = await paintedPixels(page);
  check(painted > 100, `the graph draws no lines (${painted} pixels in the series' colours)`);
  const url = new URL(page.url());
  check(url.searchParams.get('g0.expr') === 'demo_requests_total', `URL lost the expression: ${page.url()}`);
  check(url.searchParams.get('g0.tab') === 'graph', `URL lost the tab: ${page.url()}`);
  await page.screenshot({ path: join(opts.out, 'query-graph.png') });
});

await test('a Prometheus /graph?g0.expr=… link opens the same view', async (page) => {
  const expr = 'rate(demo_requests_total[1m])';
  const q = new URLSearchParams({ 'g0.expr': expr, 'g0.tab': '0', 'g0.range_input': '1m' });
  await page.goto(`${base}/graph?${q}`);
  check(new URL(page.url()).pathname.endsWith('/query'), `not redirected to /query: ${page.url()}`);
  await page.locator('.cm-content').first().waitFor();
  check((await editorText(page)) === expr, `editor holds "${await editorText(page)}"`);
  const graphTab = page.getByRole('tab', { name: 'Graph' });
  check((await graphTab.getAttribute('aria-selected')) === 'true', 'the Graph tab is not selected');
  check((await page.locator('.range-input').inputValue()) === '1m', 'the range is not 1m');
  await page.locator('.legend-item').first().waitFor();
  await page.waitForFunction(() => document.querySelector('.graph-canvas canvas')?.width > 0);
  check((await paintedPixels(page)) > 20, 'the graph draws no lines');
  // The table tab (g0.tab=1) and a second panel.
  const q2 = new URLSearchParams({ 'g0.expr': 'demo_temperature', 'g0.tab': '1', 'g1.expr': 'up', 'g1.tab': 'table' });
  await page.goto(`${base}/graph?${q2}`);
  await page.locator('.panel').nth(1).locator('table.result').waitFor();
  check((await page.locator('.panel').count()) === 2, 'expected two panels');
  check((await page.locator('.panel').first().locator('table.result td.series-name').first().innerText()).startsWith('demo_temperature{'), 'panel 1 shows no demo_temperature');
});

await test('a down target shows as down with its error', async (page) => {
  await page.goto(`${base}/targets`);
  const pool = page.locator('section[data-pool="broken"]');
  await pool.waitFor();
  const row = pool.locator('tr.target[data-health="down"]');
  await row.waitFor();
  check((await row.locator('.pill').innerText()) === 'DOWN', 'no DOWN pill');
  const error = (await row.locator('td.error-text').innerText()).trim();
  check(/refused|connect/i.test(error), `unexpected error text: "${error}"`);
  const up = page.locator('section[data-pool="demo"] tr.target[data-health="up"]');
  await up.waitFor();
  // Filter by health: only down targets.
  await page.getByLabel('up', { exact: true }).uncheck();
  await page.locator('section[data-pool="demo"]').waitFor({ state: 'detached' });
  await page.getByLabel('up', { exact: true }).check();
  await page.getByLabel('Filter targets').fill('refused');
  await page.locator('section[data-pool="demo"]').waitFor({ state: 'detached' });
  await page.getByLabel('Filter targets').fill('');
  await up.waitFor();
  await page.screenshot({ path: join(opts.out, 'targets.png'), fullPage: true });
});

await test('an HTML label value shows as text and runs nothing', async (page) => {
  await page.goto(`${base}/targets`);
  const value = page.locator('section[data-pool="demo"] .label-value', { hasText: XSS });
  await value.first().waitFor();
  check((await value.first().innerText()) === XSS, 'the label value is not shown verbatim');
  await page.goto(`${base}/query?${new URLSearchParams({ 'g0.expr': 'demo_xss', 'g0.tab': 'table' })}`);
  const cell = page.locator('table.result td.series-name');
  await cell.first().waitFor();
  check((await cell.first().innerText()).includes(XSS), `series name is "${await cell.first().innerText()}"`);
  await page.getByRole('tab', { name: 'Graph' }).click();
  await page.locator('.legend-item', { hasText: XSS }).first().waitFor();
  await page.goto(`${base}/alerts`);
  await page.locator('.alert-rule').first().waitFor();
  await page.locator('dd', { hasText: '<b>bold</b>' }).first().waitFor();
  // Give an injected handler every chance to run.
  await page.waitForTimeout(500);
  for (const p of [page]) {
    check((await p.locator('img[src="x"]').count()) === 0, 'an <img src=x> element was created');
    check((await p.locator('main b').count()) === 0, 'an annotation became markup');
  }
});

await test('a firing alert on the Alerts page', async (page) => {
  await page.goto(`${base}/alerts`);
  const rule = page.locator('.alert-rule[data-state="firing"]', { hasText: 'DemoAlwaysFiring' });
  await rule.waitFor();
  await rule.locator('tr.alert').first().waitFor();
  check((await rule.locator('tr.alert .pill').first().innerText()) === 'FIRING', 'alert not FIRING');
  await page.screenshot({ path: join(opts.out, 'alerts.png'), fullPage: true });
});

await test('a silence created from an alert silences it', async (page) => {
  await page.goto(`${base}/alerts`);
  const rule = page.locator('.alert-rule', { hasText: 'DemoAlwaysFiring' });
  await rule.locator('tr.alert a', { hasText: 'Silence' }).first().click();
  const form = page.locator('form.silence-form');
  await form.waitFor();
  // The alert's labels are the matchers, the payload among them as text.
  const values = await form.getByLabel('Value').evaluateAll((els) => els.map((e) => e.value));
  check(values.includes('DemoAlwaysFiring') && values.includes(XSS), `matchers not prefilled: ${JSON.stringify(values)}`);
  await form.getByLabel('Created by').fill('e2e');
  await form.getByLabel('Comment').fill('checking <silences> from the UI');
  await form.getByRole('button', { name: 'Create' }).click();
  await form.waitFor({ state: 'detached' });
  const row = page.locator('tr.silence', { hasText: 'alertname="DemoAlwaysFiring"' });
  await row.waitFor();
  check((await row.locator('td.comment').innerText()) === 'checking <silences> from the UI', 'comment not shown as text');
  await page.screenshot({ path: join(opts.out, 'silences.png'), fullPage: true });
  await page.goto(`${base}/alerts`);
  await page.locator('.alert-rule tr.alert .pill', { hasText: 'silenced' }).waitFor();
  // Expire it again.
  await page.goto(`${base}/silences`);
  await row.getByRole('button', { name: 'Expire' }).click();
  await row.waitFor({ state: 'detached' });
});

await test('behind a reverse proxy under a path prefix', async (page) => {
  // A proxy that serves Pharos under /pharos/ (stripping the prefix, as
  // a reverse proxy does) and records any request outside it.
  const outside = [];
  const proxy = createServer((req, res) => {
    if (!req.url.startsWith('/pharos/')) {
      outside.push(req.url);
      res.writeHead(404).end();
      return;
    }
    const target = new URL(req.url.slice('/pharos'.length), base);
    const up = request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise((ok) => proxy.listen(0, '127.0.0.1', ok));
  const prefix = `http://127.0.0.1:${proxy.address().port}/pharos`;
  try {
    await page.goto(`${prefix}/graph?${new URLSearchParams({ 'g0.expr': 'demo_temperature', 'g0.tab': '1' })}`);
    check(new URL(page.url()).pathname === '/pharos/query', `redirected to ${page.url()}`);
    await page.locator('table.result td.series-name', { hasText: 'demo_temperature{' }).waitFor();
    const editor = page.locator('.cm-content').first();
    await editor.click();
    await page.keyboard.press('End');
    await page.keyboard.type(' + demo_req', { delay: 30 });
    await page.locator('.cm-tooltip-autocomplete li', { hasText: 'demo_requests_total' }).first().waitFor();
    await page.getByRole('link', { name: 'Targets' }).click();
    await page.locator('tr.target').first().waitFor();
    check(new URL(page.url()).pathname === '/pharos/targets', `navigated to ${page.url()}`);
    await page.reload();
    await page.locator('tr.target').first().waitFor();
    check(outside.length === 0, `requests outside the prefix: ${outside.join(', ')}`);
  } finally {
    proxy.close();
  }
});

/** Per dashboard panel state (data-state), and how many of its time
 * series canvases show lines in the palette's colours. */
async function dashboardCounts(page) {
  return page.evaluate(() => {
    const palette = ['#1d4ed8', '#dc2626', '#059669', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#65a30d',
      '#ea580c', '#4f46e5', '#be123c', '#0d9488', '#a16207', '#9333ea', '#2563eb', '#15803d']
      .map((h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)));
    const counts = { panels: 0, data: 0, nodata: 0, error: 0, unsupported: 0, loading: 0, canvases: 0, drawn: 0, errors: [] };
    for (const p of document.querySelectorAll('.dash-panel')) {
      counts.panels++;
      counts[p.dataset.state] = (counts[p.dataset.state] ?? 0) + 1;
      if (p.dataset.state === 'error') counts.errors.push(`${p.querySelector('h3')?.textContent}: ${p.querySelector('.dash-error')?.textContent}`);
      const c = p.querySelector('.dash-chart canvas');
      if (!c || c.width === 0) continue;
      counts.canvases++;
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] < 200) continue;
        if (palette.some(([r, g, b]) => Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) < 60)) n++;
      }
      // Lines span only the minute or so Pharos has scraped.
      if (n > 10) counts.drawn++;
    }
    return counts;
  });
}

/** Waits until no panel on the page is loading, and answers the counts. */
async function settledCounts(page) {
  await page.waitForFunction(() => {
    const ps = document.querySelectorAll('.dash-panel');
    return ps.length > 0 && [...ps].every((p) => p.dataset.state !== 'loading');
  });
  // uPlot draws on the next frame.
  await page.waitForTimeout(300);
  return dashboardCounts(page);
}

await test('a dashboard imported from Grafana JSON draws its panels', async (page) => {
  await page.setViewportSize({ width: 1440, height: 1000 });
  await page.goto(`${base}/dashboards`);
  const items = page.locator('tr.dashboard-item');
  await items.first().waitFor();
  check((await items.count()) === 2, `expected 2 dashboards listed, got ${await items.count()}`);
  await page.getByRole('link', { name: 'Node Exporter Full' }).click();
  check(new URL(page.url()).searchParams.get('name') === 'node', `not on the node dashboard: ${page.url()}`);
  // Pharos has scraped the node exporter for a minute or so: show the
  // last 5 minutes (the dashboard opens on 24 hours), as a link would.
  await page.goto(`${base}/dashboards?name=node&from=now-5m&to=now`);
  // The variables come from label_values(…) over Pharos' own API.
  await page.locator('#var-node option').first().waitFor({ state: 'attached' });
  check((await page.locator('#var-job').inputValue()) === 'node', `job is "${await page.locator('#var-job').inputValue()}"`);
  const instance = await page.locator('#var-node').inputValue();
  check(/^127\.0\.0\.1:\d+$/.test(instance), `instance is "${instance}"`);
  // The two open rows: 5 gauges, 5 stats and 4 time series drawn, one
  // bar gauge not supported; the 14 collapsed rows run no queries.
  const open = await settledCounts(page);
  console.log(`# open rows: ${JSON.stringify(open)}`);
  check(open.panels === 15, `expected 15 panels in the open rows, got ${open.panels}`);
  check(open.unsupported === 1, `expected 1 unsupported panel, got ${open.unsupported}`);
  check(open.error === 0, `panels failed: ${open.errors.join('; ')}`);
  check(open.data >= 12, `only ${open.data} of 14 drawable panels have data`);
  check(open.canvases === 4 && open.drawn === 4, `time series drawn: ${open.drawn} of ${open.canvases} canvases`);
  const unsupported = page.locator('.dash-panel[data-state="unsupported"]');
  check((await unsupported.innerText()).includes('panel type bargauge is not supported'), 'no "not supported" text');
  const cores = page.locator('.dash-panel', { hasText: 'CPU Cores' }).locator('.dash-stat-value');
  check(/^\d+$/.test((await cores.innerText()).trim()), `CPU Cores shows "${await cores.innerText()}"`);
  const busy = page.locator('.dash-panel', { hasText: 'CPU Busy' }).locator('.dash-stat-value');
  check(/%$/.test((await busy.innerText()).trim()), `CPU Busy shows "${await busy.innerText()}"`);
  await page.screenshot({ path: join(opts.out, 'dashboard.png') });
  // A collapsed row opens and draws its 10 time series.
  await page.getByRole('button', { name: /CPU \/ Memory \/ Net \/ Disk/ }).click();
  const more = await settledCounts(page);
  console.log(`# with "CPU / Memory / Net / Disk" open: ${JSON.stringify(more)}`);
  check(more.panels === 25, `expected 25 panels, got ${more.panels}`);
  check(more.error === 0, `panels failed: ${more.errors.join('; ')}`);
  // Some need metrics a container may lack (pressure, disks): most draw.
  check(more.canvases >= open.canvases + 5 && more.drawn === more.canvases, `time series drawn: ${more.drawn} of ${more.canvases} canvases`);
});

await test('a dashboard written in TOML draws its time series, stat and table', async (page) => {
  await page.goto(`${base}/dashboards?name=demo`);
  const counts = await settledCounts(page);
  console.log(`# demo: ${JSON.stringify(counts)}`);
  check(counts.panels === 3 && counts.data === 3, `expected 3 panels with data: ${JSON.stringify(counts)}`);
  check(counts.drawn === 1, 'the time series draws no lines');
  const legend = await page.locator('.dash-legend .series-name').allInnerTexts();
  check(JSON.stringify(legend.sort()) === JSON.stringify(['/a', '/b']), `legend: ${JSON.stringify(legend)}`);
  const stat = (await page.locator('.dash-panel[data-type="stat"] .dash-stat-value').innerText()).trim();
  check(stat === '21.5°C', `stat shows "${stat}"`);
  await page.locator('.dash-table td', { hasText: /^demo 127\.0\.0\.1:\d+$/ }).waitFor();
  // The URL keeps the view: a new range is a link.
  await page.locator('.dash-controls select').selectOption('15m');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('from') === 'now-15m');
  await settledCounts(page);
});

/** Pharos' count of webhook notifications (`/metrics`). */
async function webhookNotifications() {
  const text = await (await fetch(`${base}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('alertmanager_notifications_total{') && l.includes('integration="webhook"'))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

await test('a silence created from the UI stops its notification', async (page) => {
  // Notified every repeat_interval (2s) so far.
  const before = await webhookNotifications();
  check(before >= 2, `only ${before} notifications before the silence`);
  await page.goto(`${base}/alerts`);
  const rule = page.locator('.alert-rule', { hasText: 'DemoPagesTheTeam' });
  await rule.locator('tr.alert a', { hasText: 'Silence' }).first().click();
  const form = page.locator('form.silence-form');
  await form.waitFor();
  const values = await form.getByLabel('Value').evaluateAll((els) => els.map((e) => e.value));
  check(values.includes('DemoPagesTheTeam') && values.includes('e2e'), `matchers not prefilled: ${JSON.stringify(values)}`);
  await form.getByLabel('Created by').fill('e2e');
  await form.getByLabel('Comment').fill('stop paging the team');
  await form.getByRole('button', { name: 'Create' }).click();
  await form.waitFor({ state: 'detached' });
  const at = Date.now();
  // web_ui.rs reads this and checks its receiver from here on.
  console.log(`# silence created at ${at}`);
  await page.locator('tr.silence', { hasText: 'alertname="DemoPagesTheTeam"' }).waitFor();
  // A notification on its way as the silence was made may still count:
  // start counting after group_interval (1s), then wait 3 repeat intervals.
  await page.waitForTimeout(1500);
  const settled = await webhookNotifications();
  await page.waitForTimeout(6000);
  const after = await webhookNotifications();
  console.log(`# webhook notifications: ${before} before the silence, ${settled} at +1.5s, ${after} at +7.5s`);
  check(after === settled, `${after - settled} notifications after the silence`);
  await page.goto(`${base}/alerts`);
  await page.locator('.alert-rule', { hasText: 'DemoPagesTheTeam' }).locator('tr.alert .pill', { hasText: 'silenced' }).waitFor();
});

await test('rules, discovery, plugins and status pages render', async (page) => {
  await page.goto(`${base}/rules`);
  await page.locator('tr.rule').first().waitFor();
  await page.screenshot({ path: join(opts.out, 'rules.png'), fullPage: true });
  await page.goto(`${base}/silences`);
  await page.locator('.silences-page h1').waitFor();
  await page.goto(`${base}/service-discovery`);
  await page.locator('section.card', { hasText: '1 kept, 0 dropped' }).first().waitFor();
  await page.goto(`${base}/plugins`);
  await page.getByLabel(/also those not in use/).check();
  await page.locator('section.plugin').first().waitFor();
  await page.goto(`${base}/status`);
  await page.getByText('Version', { exact: true }).waitFor();
  await page.goto(`${base}/tsdb-status`);
  await page.locator('td.mono', { hasText: 'node_cpu_seconds_total' }).first().waitFor();
  // The bytes on disk of the WAL and of sled.
  for (const what of ['WAL size', 'Storage size (sled: index and chunks)']) {
    const size = await page.locator('dl.kv dt', { hasText: what }).locator('xpath=following-sibling::dd[1]').innerText();
    check(/^\d+(\.\d+)? (Ki|Mi|Gi)?B$/.test(size), `${what}: "${size}"`);
  }
  await page.screenshot({ path: join(opts.out, 'tsdb-status.png'), fullPage: true });
});

await context.close();
rmSync(profile, { recursive: true, force: true });
if (incidents.length > 0) console.log(`incidents:\n  ${incidents.join('\n  ')}`);
console.log(failed === 0 ? 'all passed' : `${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
