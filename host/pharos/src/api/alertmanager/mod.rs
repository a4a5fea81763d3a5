//! Alertmanager 0.25's API v2 (`/api/v2/...`) over Pharos' own
//! Alertmanager ([`pharos_alerting::service::AlertingService`]), answered
//! as Alertmanager 0.25 answers, so `amtool` and Prometheus (as an alert
//! sender) work against Pharos unchanged:
//!
//! | path | methods | file |
//! |---|---|---|
//! | `/api/v2/alerts` | GET, POST | [`alerts`] |
//! | `/api/v2/alerts/groups` | GET | [`alerts`] |
//! | `/api/v2/silences` | GET, POST | [`silences`] |
//! | `/api/v2/silence/{id}` | GET, DELETE | [`silences`] |
//! | `/api/v2/receivers` | GET | [`status`] |
//! | `/api/v2/status` | GET | [`status`] |
//!
//! What "as Alertmanager answers" covers, each measured against
//! Alertmanager 0.25 (Debian's `prometheus-alertmanager`): key order and
//! Go's JSON encoding ([`gojson`]), times (`2024-03-01T10:00:00.123Z`, in
//! the server's zone, see [`strfmt`]), status codes, and the three error
//! shapes — a JSON string for the handlers' own errors (`"bad matcher
//! format: foo"`), go-swagger's `{"code":602,"message":"…"}` for what the
//! request schema refuses (422, 400 for a body that does not decode, 415
//! for a content type other than JSON), and an empty 404 for an unknown
//! silence. Unknown paths under `/api/v2` answer go-swagger's JSON 404,
//! other methods its 405 with `Allow`; CORS as Alertmanager's (every origin,
//! preflights for GET, POST and HEAD). A trailing slash is accepted.
//!
//! Query parameters are read as go-swagger reads them: pairs with a bad
//! escape or a `;` are dropped (Go's `url.ParseQuery`), the last value of
//! a single parameter counts and an empty one is unset, booleans are true
//! for `true`, `1`, `yes`, `ok`, `y`, `on`, `selected`, `checked`, `t`,
//! `enabled` (any case) and false otherwise.

mod alerts;
mod gojson;
mod silences;
mod status;
mod strfmt;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, OriginalUri, Request};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use pharos_alerting::matchers::{AmMatcher, parse_matcher};
use pharos_alerting::service::AlertingService;
use serde::Serialize;
use serde::ser::SerializeMap;

use super::AppState;

/// The largest request body taken (axum's default is 2 MiB; Alertmanager
/// sets no limit, and a Prometheus batch of 256 alerts with long
/// annotations can pass 2 MiB).
const MAX_BODY: usize = 16 << 20;

/// The routes, to nest under `/api/v2`.
pub(super) fn router() -> Router<AppState> {
    // Alertmanager accepts every path with a trailing slash too.
    fn route(r: Router<AppState>, path: &str, m: MethodRouter<AppState>) -> Router<AppState> {
        r.route(path, m.clone()).route(&format!("{path}/"), m)
    }
    let r = Router::new();
    let r = route(
        r,
        "/alerts",
        get(alerts::get_alerts).post(alerts::post_alerts),
    );
    let r = route(r, "/alerts/groups", get(alerts::get_groups));
    let r = route(
        r,
        "/silences",
        get(silences::get_silences).post(silences::post_silences),
    );
    let r = route(
        r,
        "/silence/{id}",
        get(silences::get_silence).delete(silences::delete_silence),
    );
    let r = route(r, "/receivers", get(status::receivers));
    let r = route(r, "/status", get(status::status));
    r.fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn(cors_and_methods))
}

/// The methods a path (below `/api/v2`) allows, as `Allow` lists them.
fn allowed_methods(path: &str) -> Option<&'static str> {
    let p = path.strip_suffix('/').unwrap_or(path);
    match p {
        "/alerts" | "/silences" => Some("GET,POST"),
        "/alerts/groups" | "/receivers" | "/status" => Some("GET"),
        _ => p
            .strip_prefix("/silence/")
            .filter(|id| !id.is_empty() && !id.contains('/'))
            .map(|_| "DELETE,GET"),
    }
}

/// Methods a CORS preflight may ask for, and headers it may name (the
/// defaults of the CORS handler Alertmanager uses).
const CORS_METHODS: [&str; 3] = ["GET", "POST", "HEAD"];
const CORS_HEADERS: [&str; 4] = ["Origin", "Accept", "Content-Type", "X-Requested-With"];

/// Go's `http.CanonicalHeaderKey` for the header names above.
fn canonical_header(h: &str) -> String {
    let mut out = String::with_capacity(h.len());
    let mut upper = true;
    for c in h.chars() {
        out.push(if upper {
            c.to_ascii_uppercase()
        } else {
            c.to_ascii_lowercase()
        });
        upper = c == '-';
    }
    out
}

/// CORS as Alertmanager's, then 405 for a method the path does not allow.
async fn cors_and_methods(req: Request, next: Next) -> Response {
    let origin = req.headers().contains_key(header::ORIGIN);
    let preflight_method = req
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_uppercase);
    if req.method() == Method::OPTIONS
        && origin
        && let Some(method) = preflight_method
    {
        return preflight(req.headers(), &method);
    }
    let path = req.uri().path().to_owned();
    let mut resp = match allowed_methods(&path) {
        Some(allowed) if !allowed.split(',').any(|m| m == req.method().as_str()) => {
            let message = format!(
                "method {} is not allowed, but [{allowed}] are",
                req.method()
            );
            let mut r = swagger_error(StatusCode::METHOD_NOT_ALLOWED, 405, message);
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allowed));
            r
        }
        _ => next.run(req).await,
    };
    let h = resp.headers_mut();
    if origin {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    resp
}

fn preflight(headers: &HeaderMap, method: &str) -> Response {
    let mut resp = StatusCode::OK.into_response();
    let h = resp.headers_mut();
    for v in [
        "Origin",
        "Access-Control-Request-Method",
        "Access-Control-Request-Headers",
    ] {
        h.append(header::VARY, HeaderValue::from_static(v));
    }
    if !CORS_METHODS.contains(&method) {
        return resp;
    }
    let asked: Vec<String> = headers
        .get_all(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| canonical_header(s.trim()))
        .filter(|s| !s.is_empty())
        .collect();
    if !asked.iter().all(|a| CORS_HEADERS.contains(&a.as_str())) {
        return resp;
    }
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    if let Ok(v) = HeaderValue::from_str(method) {
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, v);
    }
    if !asked.is_empty()
        && let Ok(v) = HeaderValue::from_str(&asked.join(", "))
    {
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v);
    }
    resp
}

async fn not_found(OriginalUri(uri): OriginalUri) -> Response {
    swagger_error(
        StatusCode::NOT_FOUND,
        404,
        format!("path {} was not found", uri.path()),
    )
}

/// A JSON answer, Go-encoded (with the trailing newline Go's encoder
/// writes).
pub(super) fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        gojson::to_vec(value),
    )
        .into_response()
}

/// go-swagger's error body, `{"code":N,"message":"…"}` (no newline).
pub(super) fn swagger_error(status: StatusCode, code: u16, message: String) -> Response {
    #[derive(Serialize)]
    struct Body {
        code: u16,
        message: String,
    }
    let mut body = gojson::to_vec(&Body { code, message });
    body.pop();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A status with no body and no content type.
pub(super) fn empty(status: StatusCode) -> Response {
    (status, Body::empty()).into_response()
}

/// Why a request fails, mapped to Alertmanager's answer.
#[derive(Debug)]
pub(super) enum AmError {
    /// A handler's own refusal: a JSON string.
    Message(StatusCode, String),
    /// go-swagger's refusal: `{"code":…,"message":…}`.
    Swagger(StatusCode, u16, String),
    /// Pharos runs without its Alertmanager.
    Unavailable,
}

impl AmError {
    pub(super) fn bad_request(message: impl Into<String>) -> Self {
        AmError::Message(StatusCode::BAD_REQUEST, message.into())
    }
}

impl IntoResponse for AmError {
    fn into_response(self) -> Response {
        match self {
            AmError::Message(status, m) => json(status, &m),
            AmError::Swagger(status, code, m) => swagger_error(status, code, m),
            AmError::Unavailable => swagger_error(
                StatusCode::SERVICE_UNAVAILABLE,
                503,
                "Pharos' Alertmanager is not running (no alerting service in this server)"
                    .to_owned(),
            ),
        }
    }
}

/// The running alerting service, or 503.
pub(super) fn service(state: &AppState) -> Result<&AlertingService, AmError> {
    state.alerting.as_ref().ok_or(AmError::Unavailable)
}

/// Query parameters as Go's `url.ParseQuery` reads them.
#[derive(Debug, Default)]
pub(super) struct Query(Vec<(String, String)>);

impl Query {
    pub(super) fn parse(raw: Option<&str>) -> Self {
        let mut out = Vec::new();
        for part in raw.unwrap_or("").split('&') {
            if part.is_empty() || part.contains(';') {
                continue;
            }
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            if let (Some(k), Some(v)) = (query_unescape(k), query_unescape(v)) {
                out.push((k, v));
            }
        }
        Query(out)
    }

    /// The last value of `key`, unless empty (go-swagger: unset).
    pub(super) fn last(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Every value of `key`, in order.
    pub(super) fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean parameter as go-swagger reads it.
    pub(super) fn flag(&self, key: &str, default: bool) -> bool {
        self.last(key).map_or(default, |v| {
            matches!(
                v.to_ascii_lowercase().as_str(),
                "true" | "1" | "yes" | "ok" | "y" | "on" | "selected" | "checked" | "t" | "enabled"
            )
        })
    }

    /// The `filter` matchers, each parsed on its own as Alertmanager
    /// parses one (`a=b,c=d` is one matcher with the value `b,c=d`).
    pub(super) fn filter(&self) -> Result<Vec<AmMatcher>, AmError> {
        self.all("filter")
            .map(|f| {
                parse_matcher(f).map_err(|e| {
                    tracing::debug!(filter = f, error = %e, "bad filter");
                    AmError::bad_request(e.to_string())
                })
            })
            .collect()
    }
}

/// Go's `url.QueryUnescape`: `+` is a space, `%XX` a byte; a bad escape
/// or bytes that are not UTF-8 are refused (`None`).
fn query_unescape(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
                continue;
            }
            c => out.push(c),
        }
        i += 1;
    }
    // Go keeps invalid UTF-8; serde strings cannot, and Alertmanager's
    // matchers would refuse it anyway.
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// A label set as a JSON object (sorted by name, as Go sorts map keys),
/// for `#[serde(serialize_with)]`.
pub(super) fn label_map<S: serde::Serializer>(
    labels: &pharos_model::Labels,
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(labels.len()))?;
    for l in labels.iter() {
        m.serialize_entry(&l.name, &l.value)?;
    }
    m.end()
}

/// `{"name": …}`, a receiver as the API names one.
#[derive(Serialize)]
pub(super) struct ReceiverName {
    pub name: String,
}

#[cfg(test)]
mod tests;
