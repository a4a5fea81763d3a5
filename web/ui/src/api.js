// Fetching Pharos' APIs. Prometheus-style answers (`/api/v1/…`) are
// unwrapped: `{data, warnings, infos}` on success, an APIError carrying
// `errorType` and the server's message otherwise. The Alertmanager API
// (`/api/v2/…`) answers bare JSON.
import { appendParams, url } from './base.js';

export class APIError extends Error {
  constructor(message, { type = 'error', status = 0, warnings = [] } = {}) {
    super(message);
    this.type = type;
    this.status = status;
    this.warnings = warnings;
  }
}

async function send(path, { params, method = 'GET', form, json, signal } = {}) {
  const init = { method, signal, headers: { Accept: 'application/json' } };
  let target = url(path, params);
  if (form) {
    init.body = appendParams(new URLSearchParams(), form);
    init.headers['Content-Type'] = 'application/x-www-form-urlencoded';
  } else if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers['Content-Type'] = 'application/json';
  }
  let res;
  try {
    res = await fetch(target, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new APIError(`cannot reach Pharos: ${e.message}`, { type: 'network' });
  }
  const text = await res.text();
  let body;
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  return { res, text, body };
}

/** A Prometheus-style API call: resolves to `{data, warnings, infos}`. */
export async function api(path, opts) {
  const { res, text, body } = await send(path, opts);
  if (body && body.status === 'error') {
    throw new APIError(body.error ?? 'unknown error', {
      type: body.errorType ?? 'error',
      status: res.status,
      warnings: body.warnings ?? [],
    });
  }
  if (!res.ok || !body || body.status !== 'success') {
    const what = text.trim().slice(0, 500) || res.statusText;
    throw new APIError(`${res.status} ${what}`, { type: 'http', status: res.status });
  }
  return { data: body.data, warnings: body.warnings ?? [], infos: body.infos ?? [] };
}

/** An Alertmanager API v2 call: resolves to the parsed body (or null). */
export async function amAPI(path, opts) {
  const { res, text, body } = await send(path, opts);
  if (!res.ok) {
    const msg = body && typeof body === 'object' && body.message ? body.message : text.trim();
    throw new APIError(`${res.status} ${msg.slice(0, 500) || res.statusText}`, {
      type: 'http',
      status: res.status,
    });
  }
  return body ?? null;
}
