#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use pharos_model::{Labels, Matcher, is_stale_nan, stale_nan};
use pharos_prompb::{Label, Sample, TimeSeries, WriteRequest, encode_write_request};
use pharos_tsdb::{
    AppendStats, Appendable, Error, MemStorage, Queryable, Series, SeriesAppend, Storage,
    TsdbStatus,
};
use serde_json::json;

use super::{MAX_BODY_BYTES, MAX_DECODED_BYTES, MAX_DECODED_MEMORY, WriteGate, receive};
use crate::api::test_util::{app, get, request};
use crate::api::{AppState, router};

fn ts(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> TimeSeries {
    TimeSeries {
        labels: labels
            .iter()
            .map(|(n, v)| Label {
                name: (*n).into(),
                value: (*v).into(),
            })
            .collect(),
        samples: samples
            .iter()
            .map(|&(timestamp, value)| Sample { value, timestamp })
            .collect(),
        ..Default::default()
    }
}

fn body(series: Vec<TimeSeries>) -> Vec<u8> {
    encode_write_request(&WriteRequest {
        timeseries: series,
        ..Default::default()
    })
}

async fn post(app: axum::Router, body: Vec<u8>) -> (StatusCode, String) {
    post_with(app, Some("application/x-protobuf"), Some("snappy"), body).await
}

async fn post_with(
    app: axum::Router,
    content_type: Option<&str>,
    encoding: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, String) {
    use axum::http::{Request, header};
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut req = Request::post("/api/v1/write");
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    if let Some(enc) = encoding {
        req = req.header(header::CONTENT_ENCODING, enc);
    }
    let resp = app
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

/// What a web page could send, or an unknown format: 415 with Prometheus
/// 3's texts (both headers required, unlike Prometheus).
#[tokio::test]
async fn only_snappy_protobuf_is_taken() {
    let storage = Arc::new(MemStorage::new());
    let req = body(vec![ts(&[("__name__", "x")], &[(1, 1.0)])]);
    let cases = [
        (
            Some("text/plain"),
            Some("snappy"),
            "expected application/x-protobuf as the first (media) part, got text/plain content-type\n",
        ),
        (
            None,
            Some("snappy"),
            "expected application/x-protobuf as the first (media) part, got  content-type\n",
        ),
        (
            Some("application/x-protobuf;proto=io.prometheus.write.v2.Request"),
            Some("snappy"),
            "io.prometheus.write.v2.Request protobuf message is not accepted by this server; accepted [prometheus.WriteRequest]\n",
        ),
        (
            Some("application/x-protobuf;proto=foo"),
            Some("snappy"),
            "got application/x-protobuf;proto=foo content type; unknown remote write protobuf message foo, supported: prometheus.WriteRequest, io.prometheus.write.v2.Request\n",
        ),
        (
            Some("application/x-protobuf;proto"),
            Some("snappy"),
            "as per https://www.rfc-editor.org/rfc/rfc9110#parameter expected parameters to be key-values, got proto in application/x-protobuf;proto content-type\n",
        ),
        (
            Some("application/x-protobuf"),
            Some("gzip"),
            "gzip encoding (compression) is not accepted by this server; only snappy is acceptable\n",
        ),
        (
            Some("application/x-protobuf"),
            None,
            "missing Content-Encoding: the body must be snappy-compressed (Content-Encoding: snappy)\n",
        ),
    ];
    for (ct, enc, want) in cases {
        let (status, text) = post_with(app(storage.clone()), ct, enc, req.clone()).await;
        assert_eq!(
            (status, text.as_str()),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, want)
        );
    }
    assert!(storage.dump().is_empty());
    let v1 = Some("application/x-protobuf;proto=prometheus.WriteRequest");
    let (status, _) = post_with(app(storage.clone()), v1, Some("snappy"), req).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

/// Turned off, the receiver answers as Prometheus 2.42 without its flag;
/// its slots follow the config.
#[tokio::test]
async fn the_receiver_follows_its_settings() {
    let storage = Arc::new(MemStorage::new());
    let receiver = Arc::new(super::Receiver::new(false, 8));
    let app = router(AppState::new(storage.clone()).with_remote_write_receiver(receiver.clone()));
    let req = body(vec![ts(&[("__name__", "x")], &[(1, 1.0)])]);
    let (status, text) = post(app.clone(), req.clone()).await;
    assert_eq!(
        (status, text.as_str()),
        (
            StatusCode::NOT_FOUND,
            "remote write receiver needs to be enabled with enable_remote_write_receiver = true in [server]\n"
        )
    );
    receiver.apply(true, 2);
    assert_eq!(receiver.limit(), 2);
    let (status, _) = post(app, req).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(storage.dump().len(), 1);
}

#[tokio::test]
async fn write_then_read_back() {
    let storage = Arc::new(MemStorage::new());
    let req = body(vec![
        // Unsorted labels, as some senders send them.
        ts(
            &[
                ("job", "push"),
                ("__name__", "requests_total"),
                ("code", "200"),
            ],
            &[(1_000_000, 1.0), (1_015_000, 5.0)],
        ),
        ts(
            &[
                ("__name__", "requests_total"),
                ("job", "push"),
                ("code", "500"),
            ],
            &[(1_000_000, 2.0), (1_015_000, stale_nan())],
        ),
        // Exemplar-only series carry no samples: nothing to store.
        ts(&[("__name__", "no_samples")], &[]),
    ]);
    let (status, text) = post(app(storage.clone()), req).await;
    assert_eq!((status, text.as_str()), (StatusCode::NO_CONTENT, ""));

    let (status, json) = get(
        app(storage.clone()),
        "/api/v1/series?match[]=requests_total",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        json,
        json!({"status":"success","data":[
            {"__name__":"requests_total","code":"200","job":"push"},
            {"__name__":"requests_total","code":"500","job":"push"},
        ]})
    );
    let dump = storage.dump();
    assert_eq!(dump.len(), 2);
    let l500 = Labels::from_pairs([
        ("__name__", "requests_total"),
        ("code", "500"),
        ("job", "push"),
    ]);
    let s = &dump[&l500];
    assert_eq!(s.len(), 2);
    assert!(is_stale_nan(s[1].v), "the stale marker is kept bit for bit");

    // Re-sending the same request is accepted (identical samples).
    let again = body(vec![ts(
        &[
            ("__name__", "requests_total"),
            ("job", "push"),
            ("code", "200"),
        ],
        &[(1_015_000, 5.0)],
    )]);
    let (status, _) = post(app(storage.clone()), again).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn empty_label_values_are_dropped() {
    let storage = Arc::new(MemStorage::new());
    let req = body(vec![ts(&[("__name__", "x"), ("empty", "")], &[(1, 1.0)])]);
    assert_eq!(
        post(app(storage.clone()), req).await.0,
        StatusCode::NO_CONTENT
    );
    let (_, json) = get(app(storage), "/api/v1/series?match[]=x").await;
    assert_eq!(json, json!({"status":"success","data":[{"__name__":"x"}]}));
}

/// Each refused request answers 400 in plain text and stores nothing, not
/// even the valid series sent with it.
#[tokio::test]
async fn bad_requests_store_nothing() {
    let good = || ts(&[("__name__", "good")], &[(5_000, 1.0)]);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            b"definitely not snappy".to_vec(),
            "snappy decode error: snappy: corrupt input (expected valid offset but got offset 870; dst position: 0)\n",
        ),
        (
            snap::raw::Encoder::new()
                .compress_vec(b"\xff\xff\xff")
                .unwrap(),
            "protobuf decode error: failed to decode Protobuf message: invalid varint\n",
        ),
        (
            body(vec![good(), ts(&[], &[(1, 1.0)])]),
            "invalid labels for series: empty label set\n",
        ),
        (
            body(vec![good(), ts(&[("a", "")], &[(1, 1.0)])]),
            "invalid labels for series: empty label set\n",
        ),
        (
            body(vec![
                good(),
                ts(&[("__name__", "x"), ("", "v")], &[(1, 1.0)]),
            ]),
            "invalid labels for series x{=\"v\"}: empty label name\n",
        ),
        (
            body(vec![
                good(),
                ts(
                    &[("__name__", "x"), ("job", "a"), ("job", "b")],
                    &[(1, 1.0)],
                ),
            ]),
            "invalid labels for series x{job=\"b\"}: duplicated label job\n",
        ),
        (
            body(vec![
                good(),
                ts(&[("__name__", "x")], &[(2_000, 1.0), (1_000, 1.0)]),
            ]),
            "out of order sample: timestamp 1000 older than 2000 in series x\n",
        ),
        (
            body(vec![
                good(),
                ts(&[("__name__", "x")], &[(2_000, 1.0), (2_000, 3.0)]),
            ]),
            "duplicate sample for timestamp 2000 in series x\n",
        ),
    ];
    for (i, (req, want)) in cases.into_iter().enumerate() {
        let storage = Arc::new(MemStorage::new());
        let (status, text) = post(app(storage.clone()), req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "case {i}");
        assert_eq!(text, want, "case {i}");
        assert!(storage.dump().is_empty(), "case {i} stored something");
    }
}

#[tokio::test]
async fn out_of_order_against_stored_data() {
    let storage = Arc::new(MemStorage::new());
    let first = body(vec![ts(&[("__name__", "x")], &[(10_000, 1.0)])]);
    assert_eq!(
        post(app(storage.clone()), first).await.0,
        StatusCode::NO_CONTENT
    );
    let older = body(vec![
        ts(&[("__name__", "y")], &[(1, 1.0)]),
        ts(&[("__name__", "x")], &[(5_000, 1.0)]),
    ]);
    let (status, text) = post(app(storage.clone()), older).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        text,
        "out of order sample: timestamp 5000 older than 10000 in series x\n"
    );
    assert_eq!(storage.dump().len(), 1, "y must not be stored");
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let storage = Arc::new(MemStorage::new());
    let (status, text) = post(app(storage.clone()), vec![0; MAX_BODY_BYTES + 1]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        text,
        format!("request body is larger than the limit of {MAX_BODY_BYTES} bytes\n")
    );

    // A snappy header claiming 1 GiB (varint), with no data behind it.
    let claim = vec![0x80, 0x80, 0x80, 0x80, 0x04];
    let (status, text) = post(app(storage.clone()), claim).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        text,
        format!(
            "decompressed request body of 1073741824 bytes is larger than the limit of {MAX_DECODED_BYTES} bytes\n"
        )
    );
    assert!(storage.dump().is_empty());
}

#[tokio::test]
async fn write_is_post_only() {
    let (status, _, _) = request(
        app(Arc::new(MemStorage::new())),
        Method::GET,
        "/api/v1/write",
        None,
        Body::empty(),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

/// A storage whose every call fails like a dead disk.
struct Broken;

fn io_error() -> Error {
    Error::Io {
        path: "wal/00000001".into(),
        source: std::io::Error::other("disk on fire"),
    }
}

impl Appendable for Broken {
    fn append(&self, _: &[SeriesAppend]) -> Result<AppendStats, Error> {
        Err(io_error())
    }
}

impl Queryable for Broken {
    fn select(&self, _: &[Matcher], _: i64, _: i64) -> Result<Vec<Series>, Error> {
        Err(io_error())
    }
    fn label_names(&self, _: &[Matcher], _: i64, _: i64) -> Result<Vec<String>, Error> {
        Err(io_error())
    }
    fn label_values(&self, _: &str, _: &[Matcher], _: i64, _: i64) -> Result<Vec<String>, Error> {
        Err(io_error())
    }
}

impl Storage for Broken {
    fn status(&self, _: usize) -> TsdbStatus {
        TsdbStatus::default()
    }
}

#[tokio::test]
async fn storage_failures_are_500() {
    let broken = || router(AppState::new(Arc::new(Broken)));
    let req = body(vec![ts(&[("__name__", "x")], &[(1, 1.0)])]);
    let (status, text) = post(broken(), req).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(text, "I/O error on wal/00000001: disk on fire\n");

    let (status, json) = get(broken(), "/api/v1/series?match[]=x").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        json,
        json!({"status":"error","errorType":"internal","error":"I/O error on wal/00000001: disk on fire"})
    );
}

/// Wraps `inner` as field 1 (a `TimeSeries`) of a `WriteRequest`, and
/// snappy-compresses the message.
fn one_series_raw(inner: &[u8]) -> Vec<u8> {
    let mut raw = vec![0x0a];
    let mut len = inner.len();
    while len >= 0x80 {
        raw.push((len as u8) | 0x80);
        len >>= 7;
    }
    raw.push(len as u8);
    raw.extend_from_slice(inner);
    snap::raw::Encoder::new().compress_vec(&raw).unwrap()
}

/// Empty labels are 2 bytes on the wire and ~100 decoded: a few MiB of
/// them would decode past the memory bound, and are refused undecoded.
#[tokio::test]
async fn requests_that_decode_too_large_are_413() {
    let labels = MAX_DECODED_MEMORY / 96 + 1;
    let body = one_series_raw(&[0x0a, 0x00].repeat(labels));
    assert!(body.len() < MAX_BODY_BYTES);
    let storage = Arc::new(MemStorage::new());
    let (status, text) = post(app(storage.clone()), body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        text.starts_with("decoded request of ")
            && text.ends_with(&format!(
                " bytes is larger than the limit of {MAX_DECODED_MEMORY} bytes\n"
            )),
        "{text}"
    );
    assert!(storage.dump().is_empty());
}

/// A valid request with more samples than one WAL record holds is a 4xx
/// (the sender drops it) instead of a 500 the sender retries forever.
#[tokio::test]
async fn requests_larger_than_the_wal_takes_are_413() {
    let max = pharos_tsdb::wal::MAX_RECORD_LEN / 10;
    // A `__name__` label and `max + 1` default samples (2 bytes each).
    let mut inner = vec![0x0a, 0x0a, 0x0a, 0x08];
    inner.extend_from_slice(b"__name__");
    inner.extend_from_slice(&[0x12, 0x00].repeat(max + 1));
    let storage = Arc::new(MemStorage::new());
    let (status, text) = post(app(storage.clone()), one_series_raw(&inner)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        text,
        format!(
            "request of {} samples is more than the write-ahead log takes at once (at most {max}); send smaller batches\n",
            max + 1
        )
    );
    assert!(storage.dump().is_empty());
}

/// A storage whose WAL refuses every record as too large.
struct TinyWal;

impl Appendable for TinyWal {
    fn append(&self, _: &[SeriesAppend]) -> Result<AppendStats, Error> {
        Err(Error::Wal(pharos_tsdb::wal::WalError::RecordTooLarge {
            len: 100,
            max: 10,
        }))
    }
}

impl Queryable for TinyWal {
    fn select(&self, _: &[Matcher], _: i64, _: i64) -> Result<Vec<Series>, Error> {
        Ok(Vec::new())
    }
    fn label_names(&self, _: &[Matcher], _: i64, _: i64) -> Result<Vec<String>, Error> {
        Ok(Vec::new())
    }
    fn label_values(&self, _: &str, _: &[Matcher], _: i64, _: i64) -> Result<Vec<String>, Error> {
        Ok(Vec::new())
    }
}

impl Storage for TinyWal {
    fn status(&self, _: usize) -> TsdbStatus {
        TsdbStatus::default()
    }
}

#[tokio::test]
async fn a_wal_record_too_large_is_413_not_500() {
    let app = router(AppState::new(Arc::new(TinyWal)));
    let req = body(vec![ts(&[("__name__", "x")], &[(1, 1.0)])]);
    let (status, text) = post(app, req).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        text,
        "request is larger than the write-ahead log takes at once (wal: record of 100 bytes exceeds the maximum of 10); send smaller batches\n"
    );
}

/// Beyond the slots, a request waits, then gets 503 (which senders retry).
#[tokio::test]
async fn writes_beyond_the_concurrency_limit_get_503() {
    let storage = Arc::new(MemStorage::new());
    let state = AppState::new(storage.clone());
    let gate = WriteGate::new(1, std::time::Duration::from_millis(50));
    let held = gate.admit().await.unwrap();
    let req = body(vec![ts(&[("__name__", "x")], &[(1, 1.0)])]);
    let err = receive(&state, &gate, Body::from(req.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.typ.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        err.message,
        "too many concurrent remote-write requests (limit 1), retry later"
    );
    assert!(storage.dump().is_empty());
    // Once the slot is free the same request goes through.
    drop(held);
    let status = receive(&state, &gate, Body::from(req)).await.unwrap();
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(storage.dump().len(), 1);
}
