//! The sender against a receiver in the test: what goes on the wire
//! (headers, protobuf content), retries on 5xx and 429, drops on 4xx,
//! restarts that resume from the progress marker, reloads, and WAL
//! checkpoints while a queue is stalled (held segments, the hold limit).

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use common::*;
use pharos_model::{Labels, stale_nan};
use pharos_remote_write::RemoteWrite;
use pharos_tsdb::{Db, DbOptions};

/// Queue settings that make tests quick: small batches, short deadline
/// and backoff, one shard so order is deterministic.
const FAST: &str = r#"queue_config = { max_samples_per_send = 10, batch_send_deadline = "5ms", min_backoff = "5ms", max_backoff = "20ms", min_shards = 1, max_shards = 1 }"#;

fn metric(i: usize) -> String {
    format!("m{i}")
}

/// Appends `n` one-sample records of series `m{i % series}` from `t0` on.
fn append_n(db: &Db, from: usize, n: usize, series: usize) {
    for i in from..from + n {
        let name = metric(i % series);
        append(
            db,
            &[("__name__", &name), ("job", "t")],
            &[(1_000 * i as i64, i as f64)],
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_headers_and_exact_protobuf() {
    let receiver = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path());
    let cfg = remote_write(
        &receiver.url(),
        &format!("{FAST}\nheaders = {{ X-Scope-OrgID = \"tenant-1\" }}"),
    );
    let ext = Labels::from_pairs([("cluster", "c1")]);
    let rw = RemoteWrite::start(options(&db), &cfg, &ext).unwrap();
    append(
        &db,
        &[("__name__", "up"), ("job", "node")],
        &[(1000, 1.0), (2000, 0.0)],
    );
    append(
        &db,
        &[("__name__", "up"), ("job", "node")],
        &[(3000, stale_nan())],
    );
    eventually("3 samples", || receiver.accepted_count() == 3).await;
    rw.stop().await;

    let received = receiver.received();
    let h = &received[0].headers;
    assert_eq!(h["content-encoding"], "snappy");
    assert_eq!(h["content-type"], "application/x-protobuf");
    assert_eq!(h["x-prometheus-remote-write-version"], "0.1.0");
    assert!(
        h["user-agent"].to_str().unwrap().starts_with("Pharos/"),
        "{h:?}"
    );
    assert_eq!(h["x-scope-orgid"], "tenant-1");
    let mut samples = Vec::new();
    for r in &received {
        assert_eq!(r.request.metadata, vec![]);
        for ts in &r.request.timeseries {
            let labels: Vec<(&str, &str)> = ts
                .labels
                .iter()
                .map(|l| (l.name.as_str(), l.value.as_str()))
                .collect();
            // Sorted by name, external label added.
            assert_eq!(
                labels,
                vec![("__name__", "up"), ("cluster", "c1"), ("job", "node")]
            );
            assert!(ts.exemplars.is_empty());
            samples.extend(ts.samples.iter().map(|s| (s.timestamp, s.value.to_bits())));
        }
    }
    assert_eq!(
        samples,
        vec![
            (1000, 1f64.to_bits()),
            (2000, 0f64.to_bits()),
            (3000, stale_nan().to_bits())
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_until_accepted() {
    let receiver = Receiver::start().await;
    receiver.script([Answer::status(500), Answer::status(503)]);
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path());
    let rw = RemoteWrite::start(
        options(&db),
        &remote_write(&receiver.url(), FAST),
        &Labels::empty(),
    )
    .unwrap();
    append_n(&db, 0, 1, 1);
    eventually("accepted after retries", || receiver.accepted_count() == 1).await;
    eventually("acknowledged", || queue(&rw).samples_sent_total == 1).await;
    let q = queue(&rw);
    rw.stop().await;
    let statuses: Vec<u16> = receiver.received().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![500, 503, 204]);
    // The same request each time.
    let r = receiver.received();
    assert_eq!(r[0].request, r[2].request);
    assert_eq!(
        (
            q.samples_sent_total,
            q.samples_retried_total,
            q.samples_failed_total
        ),
        (1, 2, 0)
    );
    assert_eq!(q.highest_sent_timestamp_ms, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_is_retried_after_retry_after_when_enabled() {
    let receiver = Receiver::start().await;
    receiver.script([Answer {
        status: 429,
        retry_after: Some("1".into()),
    }]);
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path());
    // A backoff of 10 minutes: only Retry-After can make the retry come
    // within the test's patience.
    let cfg = remote_write(
        &receiver.url(),
        r#"queue_config = { batch_send_deadline = "5ms", min_backoff = "10m", max_backoff = "10m", retry_on_http_429 = true }"#,
    );
    let rw = RemoteWrite::start(options(&db), &cfg, &Labels::empty()).unwrap();
    append_n(&db, 0, 1, 1);
    eventually("accepted after 429", || receiver.accepted_count() == 1).await;
    eventually("acknowledged", || queue(&rw).samples_sent_total == 1).await;
    let q = queue(&rw);
    rw.stop().await;
    let statuses: Vec<u16> = receiver.received().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 204]);
    assert_eq!((q.samples_sent_total, q.samples_retried_total), (1, 1));
}

/// 429 without `retry_on_http_429`, and 400, drop the batch; later
/// batches go through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_drop_the_batch_and_sending_goes_on() {
    for (status, extra) in [(400u16, ""), (429, ""), (404, "")] {
        let receiver = Receiver::start().await;
        receiver.script([Answer::status(status)]);
        let dir = tempfile::tempdir().unwrap();
        let db = open_db(dir.path());
        let cfg = remote_write(&receiver.url(), &format!("{FAST}\n{extra}"));
        let rw = RemoteWrite::start(options(&db), &cfg, &Labels::empty()).unwrap();
        append_n(&db, 0, 1, 1);
        eventually("first batch refused", || receiver.received().len() == 1).await;
        eventually("failure counted", || queue(&rw).samples_failed_total == 1).await;
        append_n(&db, 1, 1, 1);
        eventually("second batch accepted", || receiver.accepted_count() == 1).await;
        eventually("acknowledged", || queue(&rw).samples_sent_total == 1).await;
        let q = queue(&rw);
        rw.stop().await;
        let statuses: Vec<u16> = receiver.received().iter().map(|r| r.status).collect();
        assert_eq!(statuses, vec![status, 204], "status {status}");
        assert_eq!(
            receiver.accepted_samples(),
            vec![("m0{job=\"t\"}".to_owned(), 1000, 1.0)],
            "status {status}"
        );
        assert_eq!(
            (
                q.samples_sent_total,
                q.samples_failed_total,
                q.samples_retried_total
            ),
            (1, 1, 0),
            "status {status}"
        );
        // The refused batch counts as done: the marker moved past it.
        assert_eq!(q.wal_acked_position, q.wal_read_position, "status {status}");
    }
}

/// Samples whose sending failed when the queue stopped are sent after a
/// restart of the queue and of the storage (reopened without a clean
/// close, as after a crash); acknowledged ones are not sent again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_sends_the_unacknowledged_tail_once() {
    let receiver = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path());
    let cfg = remote_write(&receiver.url(), FAST);
    let rw = RemoteWrite::start(options(&db), &cfg, &Labels::empty()).unwrap();
    append_n(&db, 0, 50, 7);
    eventually("first 50", || receiver.accepted_count() == 50).await;
    // The endpoint breaks; 30 more samples cannot be sent.
    receiver.script(std::iter::repeat_n(Answer::status(500), 100_000));
    append_n(&db, 50, 30, 7);
    eventually("failing sends", || queue(&rw).samples_retried_total > 0).await;
    let before = queue(&rw);
    assert!(before.samples_pending > 0, "{before:?}");
    rw.stop().await;
    drop(db);

    // Back up: storage and queue restart.
    receiver.state.script.lock().clear();
    let db = open_db(dir.path());
    let rw = RemoteWrite::start(options(&db), &cfg, &Labels::empty()).unwrap();
    append_n(&db, 80, 20, 7);
    eventually("all 100", || receiver.accepted_count() >= 100).await;
    rw.stop().await;

    let got = receiver.accepted_samples();
    let distinct: BTreeSet<(String, i64)> = got.iter().map(|(l, t, _)| (l.clone(), *t)).collect();
    assert_eq!(distinct.len(), 100, "lost samples");
    assert_eq!(got.len(), 100, "acknowledged samples were sent again");
    // In order per series, as appended.
    for s in 0..7 {
        let name = format!("m{s}{{job=\"t\"}}");
        let ts: Vec<i64> = got
            .iter()
            .filter(|(l, _, _)| *l == name)
            .map(|(_, t, _)| *t)
            .collect();
        assert!(ts.windows(2).all(|w| w[0] < w[1]), "{name}: {ts:?}");
    }
}

/// A queue dropped without `stop` (as in a crash) resumes from the last
/// marker written: nothing is lost, and what is sent again is bounded by
/// what was acknowledged after that marker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_resends_at_most_what_the_marker_had_not_recorded() {
    let receiver = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path());
    let cfg = remote_write(&receiver.url(), FAST);
    let rw = RemoteWrite::start(options(&db), &cfg, &Labels::empty()).unwrap();
    append_n(&db, 0, 40, 3);
    eventually("first 40", || receiver.accepted_count() == 40).await;
    drop(rw);
    // The reader thread lets go of the storage once it sees the stop.
    eventually("reader gone", || std::sync::Arc::strong_count(&db) == 1).await;
    drop(db);
    let db = open_db(dir.path());
    let rw = RemoteWrite::start(options(&db), &cfg, &Labels::empty()).unwrap();
    append_n(&db, 40, 10, 3);
    eventually("the new 10", || {
        let got = receiver.accepted_samples();
        (40..50).all(|i| got.iter().any(|(_, t, _)| *t == 1000 * i))
    })
    .await;
    rw.stop().await;
    let got = receiver.accepted_samples();
    let distinct: BTreeSet<i64> = got.iter().map(|(_, t, _)| *t).collect();
    assert_eq!(distinct.len(), 50);
    assert!(
        got.len() <= 90,
        "resent more than the first 40: {}",
        got.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_keeps_unchanged_queues_and_resumes_changed_ones() {
    let a = Receiver::start().await;
    let b = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path());
    let two = |b_extra: &str| {
        let mut c = remote_write(&a.url(), &format!("name = \"a\"\n{FAST}"));
        c.extend(remote_write(
            &b.url(),
            &format!("name = \"b\"\n{FAST}\n{b_extra}"),
        ));
        c
    };
    let mut rw = RemoteWrite::start(options(&db), &two(""), &Labels::empty()).unwrap();
    append_n(&db, 0, 10, 2);
    eventually("both got 10", || {
        a.accepted_count() == 10 && b.accepted_count() == 10
    })
    .await;
    eventually("both acknowledged 10", || {
        rw.stats().iter().all(|q| q.samples_sent_total == 10)
    })
    .await;

    // Same config: nothing restarts (counters keep counting).
    rw.apply_config(&two(""), &Labels::empty()).await.unwrap();
    let stats = rw.stats();
    assert_eq!(
        (stats[0].samples_sent_total, stats[1].samples_sent_total),
        (10, 10)
    );

    // b changes: it restarts from its marker, a keeps running.
    let relabel = r#"write_relabel_configs = [{ target_label = "via", replacement = "b2" }]"#;
    rw.apply_config(&two(relabel), &Labels::empty())
        .await
        .unwrap();
    let stats = rw.stats();
    assert_eq!(
        (stats[0].name.as_str(), stats[0].samples_sent_total),
        ("a", 10)
    );
    assert_eq!(
        (stats[1].name.as_str(), stats[1].samples_sent_total),
        ("b", 0)
    );
    append_n(&db, 10, 10, 2);
    eventually("both got 20", || {
        a.accepted_count() == 20 && b.accepted_count() == 20
    })
    .await;
    let new_b: Vec<String> = b.accepted_samples()[10..]
        .iter()
        .map(|s| s.0.clone())
        .collect();
    assert!(new_b.iter().all(|l| l.contains("via=\"b2\"")), "{new_b:?}");

    // Each queue holds the WAL; removing a stops it and gives its hold up;
    // a bad config changes nothing.
    let holds = || -> Vec<String> {
        pharos_tsdb::wal::hold::list(&dir.path().join("wal"))
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    };
    assert_eq!(holds().len(), 2, "{:?}", holds());
    let only_b = two(relabel).split_off(1);
    rw.apply_config(&only_b, &Labels::empty()).await.unwrap();
    assert_eq!(rw.stats().len(), 1);
    let left = holds();
    assert!(
        left.len() == 1 && left[0].starts_with("remote-write-b-"),
        "{left:?}"
    );
    let mut dup = only_b.clone();
    dup.extend(only_b.clone());
    assert!(rw.apply_config(&dup, &Labels::empty()).await.is_err());
    assert_eq!(rw.stats().len(), 1);
    rw.stop().await;
    assert_eq!(a.accepted_count(), 20);
}

/// A stalled queue holds the WAL segments it has not sent: a checkpoint
/// keeps them, and once the endpoint recovers every sample arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoint_keeps_what_a_stalled_queue_has_not_sent() {
    let (receiver, q) = stall_and_checkpoint(DbOptions::default().wal_hold_max_bytes, 65).await;
    assert_eq!(q.wal_segments_skipped_total, 0, "{q:?}");
    let times: BTreeSet<i64> = receiver
        .accepted_samples()
        .iter()
        .map(|(_, t, _)| *t)
        .collect();
    assert_eq!(times, (0..65).map(|i| 1000 * i).collect());
}

/// Past the WAL's hold limit the oldest held segments go: the queue jumps
/// to the oldest segment left, counts what it skipped, and sends what
/// follows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoint_past_the_hold_limit_drops_the_oldest_and_counts_them() {
    let (receiver, q) = stall_and_checkpoint(512, 5).await;
    assert!(q.wal_segments_skipped_total > 0, "{q:?}");
    assert!(receiver.accepted_count() < 65, "{q:?}");
}

/// Appends 60 samples while the endpoint fails, checkpoints, lets the
/// endpoint recover, appends 5 more and waits until `want` of them (the
/// last ones) have arrived.
async fn stall_and_checkpoint(
    hold_max_bytes: u64,
    want: usize,
) -> (Receiver, pharos_remote_write::QueueStats) {
    let receiver = Receiver::start().await;
    receiver.script(std::iter::repeat_n(Answer::status(500), 100_000));
    let dir = tempfile::tempdir().unwrap();
    let db = std::sync::Arc::new(
        Db::open_without_worker(
            dir.path(),
            DbOptions {
                wal_segment_size: 256,
                wal_hold_max_bytes: hold_max_bytes,
                ..DbOptions::default()
            },
        )
        .unwrap(),
    );
    let cfg = remote_write(
        &receiver.url(),
        r#"queue_config = { capacity = 1, max_samples_per_send = 1, batch_send_deadline = "5ms", min_backoff = "5ms", max_backoff = "5ms", min_shards = 1, max_shards = 1 }"#,
    );
    let rw = RemoteWrite::start(options(&db), &cfg, &Labels::empty()).unwrap();
    append_n(&db, 0, 60, 3);
    eventually("stalled", || queue(&rw).samples_retried_total > 0).await;
    db.checkpoint().unwrap();
    receiver.state.script.lock().clear();
    append_n(&db, 60, 5, 3);
    eventually("the samples", || {
        let got = receiver.accepted_samples();
        (65 - want..65).all(|i| got.iter().any(|(_, t, _)| *t == 1000 * i as i64))
    })
    .await;
    let q = queue(&rw);
    rw.stop().await;
    (receiver, q)
}

/// Credentials as configured: basic auth, a bearer token, and a bearer
/// token file read on each request (so a rotated token is picked up).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_sent_and_token_files_reread() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "first-token\n").unwrap();
    let cases = [
        (
            r#"basic_auth = { username = "alice", password = "s3cret" }"#.to_owned(),
            // base64("alice:s3cret")
            "Basic YWxpY2U6czNjcmV0",
        ),
        (r#"bearer_token = "tok-123""#.to_owned(), "Bearer tok-123"),
        (
            format!("bearer_token_file = {:?}", token_file.display().to_string()),
            "Bearer first-token",
        ),
    ];
    for (auth, want) in cases {
        let receiver = Receiver::start().await;
        let db_dir = tempfile::tempdir().unwrap();
        let db = open_db(db_dir.path());
        let cfg = remote_write(&receiver.url(), &format!("{FAST}\n{auth}"));
        let rw = RemoteWrite::start(options(&db), &cfg, &Labels::empty()).unwrap();
        append_n(&db, 0, 1, 1);
        eventually("sent", || receiver.accepted_count() == 1).await;
        if want == "Bearer first-token" {
            std::fs::write(&token_file, "second-token\n").unwrap();
            append_n(&db, 1, 1, 1);
            eventually("sent again", || receiver.accepted_count() == 2).await;
        }
        rw.stop().await;
        let got: Vec<String> = receiver
            .received()
            .iter()
            .map(|r| r.headers["authorization"].to_str().unwrap().to_owned())
            .collect();
        assert_eq!(got[0], want, "{auth}");
        if want == "Bearer first-token" {
            assert_eq!(got[1], "Bearer second-token");
        }
    }
}
