//! Helpers for the API tests: a router over [`MemStorage`], seeded from
//! `tests/data/seed.json`, and one-shot requests.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use pharos_model::{Labels, Sample};
use pharos_tsdb::{Appendable, MemStorage, SeriesAppend};
use serde::Deserialize;
use serde_json::Value;
use tower::ServiceExt;

use super::{AppState, router};

#[derive(Deserialize)]
struct SeedSeries {
    labels: BTreeMap<String, String>,
    samples: Vec<(i64, f64)>,
}

/// The series in `tests/data/seed.json`.
pub fn seed_batch() -> Vec<SeriesAppend> {
    let seed: Vec<SeedSeries> =
        serde_json::from_str(include_str!("../../tests/data/seed.json")).unwrap();
    seed.into_iter()
        .map(|s| SeriesAppend {
            labels: Labels::from_pairs(s.labels),
            samples: s
                .samples
                .into_iter()
                .map(|(t, v)| Sample::new(t, v))
                .collect(),
        })
        .collect()
}

pub fn app(storage: Arc<MemStorage>) -> Router {
    router(AppState::new(storage))
}

pub fn empty() -> Router {
    app(Arc::new(MemStorage::new()))
}

pub fn seeded() -> Router {
    let storage = MemStorage::new();
    storage.append(&seed_batch()).unwrap();
    app(Arc::new(storage))
}

/// Percent-encodes what `http::Uri` refuses or a form decoder would
/// misread, so tests can write selectors plainly.
fn encode_uri(uri: &str) -> String {
    let mut out = String::new();
    for c in uri.chars() {
        match c {
            '"' | '{' | '}' | '[' | ']' | ' ' | '|' | '`' | '\\' | '^' | '<' | '>' | '+' | '\'' => {
                out.push_str(&format!("%{:02X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

pub async fn request(
    app: Router,
    method: Method,
    uri: &str,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> (StatusCode, HeaderMap, Bytes) {
    let mut req = Request::builder().method(method).uri(encode_uri(uri));
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    let resp = app.oneshot(req.body(body.into()).unwrap()).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, headers, body)
}

fn json(headers: &HeaderMap, body: &[u8]) -> Value {
    assert_eq!(
        headers
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap()),
        Some("application/json")
    );
    serde_json::from_slice(body).unwrap()
}

/// GET `uri`; the answer must be JSON.
pub async fn get(app: Router, uri: &str) -> (StatusCode, Value) {
    let (status, headers, body) = request(app, Method::GET, uri, None, Body::empty()).await;
    (status, json(&headers, &body))
}

/// GET `uri`; the answer must be Prometheus' 400 `bad_data` with `error`.
pub async fn assert_bad_data(app: Router, uri: &str, error: &str) {
    let (status, body) = get(app, uri).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
    assert_eq!(
        body,
        serde_json::json!({"status":"error","errorType":"bad_data","error":error}),
        "{uri}"
    );
}

/// POST a form-encoded `body` (sent as is); the answer must be JSON.
pub async fn post_form(app: Router, uri: &str, body: &'static str) -> (StatusCode, Value) {
    let (status, headers, body) = request(
        app,
        Method::POST,
        uri,
        Some("application/x-www-form-urlencoded"),
        body,
    )
    .await;
    if status == StatusCode::METHOD_NOT_ALLOWED {
        return (status, Value::Null);
    }
    (status, json(&headers, &body))
}
