//! Remote write end to end: a real protobuf + snappy request into the running
//! server, read back through `/api/v1/series`; a malformed one stores nothing.

#![allow(clippy::unwrap_used)]

use pharos_prompb::encode_write_request;
use pharos_tests::pharos::Pharos;
use pharos_tests::remote_write::{post_write, write_request};
use serde_json::{Value, json};

fn series(client: &reqwest::blocking::Client, url: &str, selector: &str) -> Value {
    client
        .get(format!("{url}/api/v1/series"))
        .query(&[("match[]", selector)])
        .send()
        .unwrap()
        .json()
        .unwrap()
}

#[test]
fn remote_write_then_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let server = Pharos::start(dir.path()).unwrap();
    let client = reqwest::blocking::Client::new();
    let req = write_request(&[
        (
            vec![
                ("__name__", "http_requests_total".into()),
                ("code", "200".into()),
            ],
            vec![(1_700_000_000_000, 1.0), (1_700_000_015_000, 5.0)],
        ),
        (
            vec![
                ("__name__", "http_requests_total".into()),
                ("code", "500".into()),
            ],
            vec![(1_700_000_000_000, 0.0)],
        ),
    ]);
    let (status, body) = post_write(&client, &server.url, encode_write_request(&req)).unwrap();
    assert_eq!(status, 204, "{body}");

    let got = series(&client, &server.url, "http_requests_total");
    assert_eq!(
        got,
        json!({"status": "success", "data": [
            {"__name__": "http_requests_total", "code": "200"},
            {"__name__": "http_requests_total", "code": "500"},
        ]})
    );

    // Garbage is refused with a readable message and stores nothing.
    let (status, body) =
        post_write(&client, &server.url, b"definitely not snappy".to_vec()).unwrap();
    assert_eq!(status, 400);
    assert!(body.contains("snappy"), "{body}");

    // A batch with one bad sample (a different value for a stored
    // timestamp) is refused whole: its good series is not stored either.
    let bad = write_request(&[
        (
            vec![("__name__", "fresh_series".into())],
            vec![(1_700_000_000_000, 1.0)],
        ),
        (
            vec![
                ("__name__", "http_requests_total".into()),
                ("code", "200".into()),
            ],
            vec![(1_700_000_015_000, 6.0)],
        ),
    ]);
    let (status, body) = post_write(&client, &server.url, encode_write_request(&bad)).unwrap();
    assert_eq!(status, 400);
    assert!(body.contains("duplicate sample for timestamp"), "{body}");
    assert_eq!(
        series(&client, &server.url, "fresh_series"),
        json!({"status": "success", "data": []})
    );

    // The data survives a clean restart.
    server.stop().unwrap();
    let server = Pharos::start(dir.path()).unwrap();
    assert_eq!(
        series(&client, &server.url, "{code=\"500\"}"),
        json!({"status": "success", "data": [
            {"__name__": "http_requests_total", "code": "500"},
        ]})
    );
}
