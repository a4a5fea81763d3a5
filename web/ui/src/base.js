// URLs relative to where the interface is served, so it works unchanged
// at the root or behind a reverse proxy's path prefix: every page is one
// segment below the root, so the root is the page's directory.

/** The interface's root, e.g. `http://host:9090/` or `https://h/pharos/`. */
export function rootURL() {
  return new URL('.', window.location.href);
}

/**
 * The URL of `path` (relative, no leading slash: `api/v1/query`) with
 * `params` (an object; array values repeat the key) in its query string.
 */
export function url(path, params) {
  const u = new URL(path, rootURL());
  appendParams(u.searchParams, params);
  return u;
}

export function appendParams(search, params) {
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v === undefined || v === null) continue;
    for (const item of Array.isArray(v) ? v : [v]) search.append(k, String(item));
  }
  return search;
}

/** The current page's path segment. */
export function currentPath() {
  const seg = window.location.pathname.split('/').pop();
  return seg === '' ? 'query' : decodeURIComponent(seg);
}

/** Goes to page `path` (with `search`, `?…` or empty) without reloading. */
export function navigate(path, search = '') {
  const target = new URL(path + search, rootURL());
  window.history.pushState(null, '', target);
  window.dispatchEvent(new Event('pharos:navigate'));
}
