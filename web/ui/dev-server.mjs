// For working on the interface without rebuilding Pharos: serves dist/
// the way host/web does (index.html for the pages, the same security
// headers) and passes everything else to a running Pharos.
//
//   node build.mjs /tmp/pharos-ui && node dev-server.mjs --dist /tmp/pharos-ui --pharos http://127.0.0.1:9090
//
// Rebuild after a change and reload the page. Building elsewhere than
// dist/ keeps cargo builds (which embed dist/) out of the way.
import { randomBytes } from 'node:crypto';
import { createServer, request } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { join, extname } from 'node:path';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    pharos: { type: 'string', default: 'http://127.0.0.1:9090' },
    port: { type: 'string', default: '9091' },
    dist: { type: 'string', default: join(import.meta.dirname, 'dist') },
  },
});
const dist = opts.dist;
// Keep in step with host/web/src/lib.rs and headers.rs.
const PAGES = ['query', 'targets', 'alerts', 'rules', 'silences', 'status', 'flags', 'config', 'tsdb-status', 'plugins', 'service-discovery'];
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.txt': 'text/plain; charset=utf-8' };

createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const page = url.pathname.slice(1);
  if (page === 'graph' || page === '') {
    res.writeHead(302, { Location: page === '' ? 'query' : `query${url.search}` }).end();
    return;
  }
  let file = null;
  if (PAGES.includes(page)) file = 'index.html';
  else if (url.pathname.startsWith('/assets/') && !url.pathname.includes('..')) file = url.pathname.slice(1);
  if (file !== null) {
    const path = join(dist, file);
    const headers = { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'DENY' };
    if (!existsSync(path)) {
      res.writeHead(404, headers).end('404 page not found\n');
      return;
    }
    let body = readFileSync(path);
    if (file === 'index.html') {
      const nonce = randomBytes(16).toString('hex');
      headers['Content-Security-Policy'] = CSP.replace("style-src 'self';", `style-src 'self' 'nonce-${nonce}';`);
      body = body.toString('utf8').replace('PHAROS_CSP_NONCE', nonce);
    }
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache' });
    res.end(body);
    return;
  }
  const target = new URL(req.url, opts.pharos);
  const up = request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  up.on('error', (e) => res.writeHead(502).end(`cannot reach ${opts.pharos}: ${e.message}\n`));
  req.pipe(up);
}).listen(Number(opts.port), '127.0.0.1', () => console.log(`http://127.0.0.1:${opts.port}/query → ${opts.pharos}`));
