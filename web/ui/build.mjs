// Builds the web interface into dist/ (or the directory given as the
// first argument): esbuild bundles src/main.jsx and its CSS into
// assets/main-<hash>.{js,css}, and index.html is written from
// src/index.html with those names. The output depends only on the sources
// and package-lock.json (no timestamps, content-hashed names), so
// check-bundle.sh can compare a fresh build with the committed one.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

const here = import.meta.dirname;
const out = resolve(process.argv[2] ?? join(here, 'dist'));
const assets = join(out, 'assets');

// Files of an earlier build are removed only once the new ones are
// written: a cargo build embedding dist/ meanwhile finds a whole bundle
// (the old or the new) for as long as possible.
const before = existsSync(out) ? readdirSync(out, { recursive: true }).map((f) => join(out, f)) : [];
mkdirSync(assets, { recursive: true });

const result = await build({
  entryPoints: [join(here, 'src/main.jsx')],
  outdir: assets,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022', 'chrome109', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'linked',
  charset: 'utf8',
  metafile: true,
  logLevel: 'warning',
  absWorkingDir: here,
});

// The entry's JS and CSS, by extension.
const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const pick = (ext) => {
  const found = outputs.filter((n) => n.startsWith('main-') && n.endsWith(ext));
  if (found.length !== 1) throw new Error(`expected one main-*${ext}, got ${found.join(', ')}`);
  return found[0];
};
const html = readFileSync(join(here, 'src/index.html'), 'utf8')
  .replace('{{MAIN_JS}}', `./assets/${pick('.js')}`)
  .replace('{{MAIN_CSS}}', `./assets/${pick('.css')}`);
writeFileSync(join(out, 'index.html'), html);
copyFileSync(join(here, 'src/favicon.svg'), join(assets, 'favicon.svg'));

// The licenses of the npm packages in the bundle, for assets/licenses.txt.
const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (m) packages.set(m[1], true);
}
const notices = [...packages.keys()]
  .map((dir) => {
    const pkg = JSON.parse(readFileSync(join(here, dir, 'package.json'), 'utf8'));
    const file = ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'license', 'license.md']
      .map((f) => join(here, dir, f))
      .find((f) => existsSync(f));
    const text = file ? readFileSync(file, 'utf8').trim() : `License: ${pkg.license}`;
    return { name: pkg.name, text: `${pkg.name} ${pkg.version} (${pkg.license})\n\n${text}\n` };
  })
  .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
writeFileSync(
  join(assets, 'licenses.txt'),
  `Third-party software in Pharos' web interface\n\n${notices.map((n) => n.text).join(`\n${'-'.repeat(72)}\n\n`)}`,
);

// What this build did not write goes.
const wrote = new Set([
  join(out, 'index.html'),
  join(assets, 'favicon.svg'),
  join(assets, 'licenses.txt'),
  ...Object.keys(result.metafile.outputs).map((p) => resolve(here, p)),
]);
for (const f of before) {
  if (!wrote.has(f) && statSync(f).isFile()) rmSync(f);
}
