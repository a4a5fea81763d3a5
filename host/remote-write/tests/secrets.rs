//! Credentials in a remote-write URL (`http://user:pass@…`) and in
//! `headers` are sent, and masked wherever the queue prints or stores the
//! URL: its logs, its stats (the `url` label of the metrics), the progress
//! marker and the WAL hold. The URL's password reads `xxxxx`, as in
//! Prometheus 2.42's `url` label.
//!
//! Its own test binary: it installs a global log subscriber.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use common::*;
use parking_lot::Mutex;
use pharos_model::Labels;
use pharos_remote_write::RemoteWrite;

const FAST: &str = r#"queue_config = { max_samples_per_send = 10, batch_send_deadline = "5ms", min_backoff = "5ms", max_backoff = "20ms", min_shards = 1, max_shards = 1 }"#;

/// Everything logged, in one buffer.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every file name and text under `dir`, recursively.
fn files_and_texts(dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let path = e.unwrap().path();
        if path.is_dir() {
            files_and_texts(&path, out);
        } else {
            let bytes = std::fs::read(&path).unwrap_or_default();
            out.push((
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_passwords_and_headers_are_sent_but_never_printed_or_stored() {
    let logs = Logs::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .init();

    let receiver = Receiver::start().await;
    // One failed attempt, so the retry is logged with the URL.
    receiver.script([Answer::status(500)]);
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path());
    let url = receiver.url().replace("http://", "http://writer:hunter2@");
    let cfg = remote_write(
        &url,
        &format!("{FAST}\nheaders = {{ X-Api-Key = \"hdr-s3cret\" }}"),
    );
    let rw = RemoteWrite::start(options(&db), &cfg, &Labels::empty()).unwrap();
    append(&db, &[("__name__", "up"), ("job", "a")], &[(1000, 1.0)]);
    eventually("sent", || receiver.accepted_count() == 1).await;
    let stats = queue(&rw);
    rw.stop().await;

    // Sent: the userinfo as basic auth, the header as configured.
    let received = receiver.received();
    assert_eq!(received.len(), 2);
    for r in &received {
        // base64("writer:hunter2")
        assert_eq!(r.headers["authorization"], "Basic d3JpdGVyOmh1bnRlcjI=");
        assert_eq!(r.headers["x-api-key"], "hdr-s3cret");
    }

    let masked = receiver.url().replace("http://", "http://writer:xxxxx@");
    assert_eq!(stats.url, masked);
    assert_ne!(stats.name, "");

    let logs = String::from_utf8_lossy(&logs.0.lock()).into_owned();
    assert!(logs.contains("send failed; retrying"), "{logs}");
    assert!(logs.contains(&masked), "{logs}");
    for secret in ["hunter2", "hdr-s3cret"] {
        assert!(!logs.contains(secret), "{secret} logged:\n{logs}");
    }

    let mut files = Vec::new();
    files_and_texts(dir.path(), &mut files);
    let markers: Vec<_> = files
        .iter()
        .filter(|(name, _)| name.ends_with(".progress"))
        .collect();
    assert_eq!(markers.len(), 1, "{files:?}");
    assert!(markers[0].1.contains(&masked), "{:?}", markers[0]);
    for (name, text) in &files {
        if name.contains("remote_write") || name.contains("holds") {
            for secret in ["hunter2", "hdr-s3cret"] {
                assert!(!name.contains(secret), "{name}");
                assert!(!text.contains(secret), "{name}: {text}");
            }
        }
    }
}
