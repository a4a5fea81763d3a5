//! Pharos' web interface: the bundle built from `web/ui/` (committed in
//! `web/ui/dist/`, embedded at build time by `build.rs`) served by an axum
//! [`Router`] that the API's router merges.
//!
//! - `/query`, `/targets`, `/alerts`, `/rules`, `/silences`, `/plugins`,
//!   `/status`, `/dashboards` (and the other [`PAGES`]) answer the single
//!   page, `index.html`; the page picks what to show from its path (one
//!   dashboard is `dashboards?name=…`, still one segment deep).
//! - `/` redirects to `query`, and `/graph` (Prometheus 2's page, whose
//!   `g0.expr=…&g0.tab=…&g0.range_input=…` links people keep) to `query`
//!   with the same query string, which the page reads as Prometheus 3's
//!   does.
//! - `/assets/…` are the bundle's files: content-hashed names are cached
//!   for a year, others revalidated by ETag; text is gzipped when the
//!   client accepts it.
//!
//! Every response carries a Content-Security-Policy without inline
//! scripts, `X-Content-Type-Options: nosniff` and a frame policy
//! ([`headers`]). The redirects and the page's own URLs are relative, so
//! the interface works unchanged behind a reverse proxy that serves Pharos
//! under a path prefix.

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

mod assets;
pub mod dashboard;
pub mod headers;

/// The paths (one segment each, so relative asset URLs resolve the same
/// from all of them) that answer the single page. `web/ui/src/pages.js`
/// lists the same.
pub const PAGES: &[&str] = &[
    "query",
    "targets",
    "alerts",
    "rules",
    "silences",
    "status",
    "flags",
    "config",
    "tsdb-status",
    "plugins",
    "service-discovery",
    "dashboards",
];

/// The web interface's routes, for any router state.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let mut r = Router::new()
        .route("/", get(root))
        .route("/graph", get(graph))
        .route("/assets/{*path}", get(asset));
    for page in PAGES {
        r = r.route(&format!("/{page}"), get(index));
    }
    r.layer(axum::middleware::map_response(headers::secure))
}

/// `/` → `query` (relative, so `/prefix/` → `/prefix/query`).
async fn root() -> Response {
    found("query".to_owned())
}

/// `/graph?…` → `query?…`: the page reads Prometheus' `g<n>.*`
/// parameters.
async fn graph(uri: Uri) -> Response {
    let location = match uri.query() {
        Some(q) if !q.is_empty() => format!("query?{q}"),
        _ => "query".to_owned(),
    };
    found(location)
}

fn found(location: String) -> Response {
    match HeaderValue::try_from(location) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
        // A URI's query is always a valid header value; never reached.
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

/// What `index.html` has where each response's nonce goes.
const NONCE_PLACEHOLDER: &str = "PHAROS_CSP_NONCE";

/// The page, with a fresh nonce for its style elements in a
/// `<meta name="csp-nonce">` and in its policy; never cached.
async fn index() -> Response {
    let Some(html) = assets::text("index.html") else {
        return assets::serve("index.html", &HeaderMap::new());
    };
    let (body, policy) = match headers::nonce() {
        Some(nonce) => (
            html.replace(NONCE_PLACEHOLDER, &nonce),
            headers::page_policy(&nonce),
        ),
        None => (
            html.replace(NONCE_PLACEHOLDER, ""),
            headers::CONTENT_SECURITY_POLICY.to_owned(),
        ),
    };
    let policy = HeaderValue::try_from(policy)
        .unwrap_or(HeaderValue::from_static(headers::CONTENT_SECURITY_POLICY));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::CONTENT_SECURITY_POLICY, policy),
        ],
        body,
    )
        .into_response()
}

async fn asset(
    axum::extract::Path(path): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    assets::serve(&format!("assets/{path}"), &headers)
}

#[cfg(test)]
mod tests;
