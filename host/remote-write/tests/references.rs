//! The sender against the receivers users run: Prometheus 2.42 with
//! `--web.enable-remote-write-receiver` and VictoriaMetrics 1.79 (installed
//! on first use by `pharos_tests::references`). One storage, one queue to
//! each; half the samples are sent, then the queues and the storage stop
//! as in a crash and restart, and the rest follows. Both receivers must
//! then hold every sample exactly once, with the external labels, as their
//! own query APIs show.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use pharos_model::Labels;
use pharos_remote_write::RemoteWrite;
use pharos_tests::bench::server::{Server, System};
use pharos_tests::references::require;
use serde_json::Value;

const SERIES: usize = 5;
const STEPS: usize = 80;
const STEP_MS: i64 = 15_000;

/// `series labels text -> [(t, value)]`.
type Data = BTreeMap<String, Vec<(i64, f64)>>;

fn start(
    system: System,
    bin: &str,
    dir: &std::path::Path,
    client: &reqwest::blocking::Client,
) -> Server {
    let bin = require(bin).unwrap();
    let mut s = Server::start(system, &bin, dir, "15d").unwrap();
    s.wait_ready(client, Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{} not ready: {e}\n{}", system.name(), s.log_tail(20)));
    s
}

fn series_labels(s: usize) -> Vec<(String, String)> {
    vec![
        ("__name__".into(), "rw_ref_metric".into()),
        ("job".into(), "ref".into()),
        ("series".into(), s.to_string()),
    ]
}

fn append_steps(db: &pharos_tsdb::Db, t0: i64, steps: std::ops::Range<usize>, want: &mut Data) {
    for i in steps {
        for s in 0..SERIES {
            let labels = series_labels(s);
            let pairs: Vec<(&str, &str)> = labels
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let t = t0 + i as i64 * STEP_MS;
            let v = (i * 10 + s) as f64 + 0.25;
            append(db, &pairs, &[(t, v)]);
            let mut l: Vec<(String, String)> = labels.clone();
            l.push(("replica".into(), "r1".into()));
            want.entry(Labels::from_pairs(l).to_string())
                .or_default()
                .push((t, v));
        }
    }
}

/// What Prometheus holds, from a range selector over everything.
fn prometheus_data(client: &reqwest::blocking::Client, base: &str, at: i64) -> Data {
    let resp: Value = client
        .get(format!("{base}/api/v1/query"))
        .query(&[
            ("query", "rw_ref_metric[1h]".to_owned()),
            ("time", format!("{}", at as f64 / 1000.0)),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(resp["status"], "success", "{resp}");
    let mut out = Data::new();
    for r in resp["data"]["result"].as_array().unwrap() {
        let labels = labels_of(&r["metric"]);
        let values = r["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let t = (p[0].as_f64().unwrap() * 1000.0).round() as i64;
                (t, p[1].as_str().unwrap().parse::<f64>().unwrap())
            })
            .collect();
        out.insert(labels, values);
    }
    out
}

/// What VictoriaMetrics holds, from its raw export.
fn victoria_data(client: &reqwest::blocking::Client, server: &Server) -> Data {
    server.flush(client).unwrap();
    let text = client
        .get(format!("{}/api/v1/export", server.base_url))
        .query(&[("match[]", "rw_ref_metric")])
        .send()
        .unwrap()
        .text()
        .unwrap();
    let mut out = Data::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap();
        let labels = labels_of(&v["metric"]);
        let ts = v["timestamps"].as_array().unwrap();
        let vals = v["values"].as_array().unwrap();
        let e: &mut Vec<(i64, f64)> = out.entry(labels).or_default();
        for (t, x) in ts.iter().zip(vals) {
            e.push((t.as_i64().unwrap(), x.as_f64().unwrap()));
        }
        e.sort_by_key(|p| p.0);
    }
    out
}

fn labels_of(m: &Value) -> String {
    let pairs = m
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()));
    Labels::from_pairs(pairs).to_string()
}

fn count(d: &Data) -> usize {
    d.values().map(Vec::len).sum()
}

#[test]
fn prometheus_and_victoria_metrics_receive_everything_once_across_a_restart() {
    let client = reqwest::blocking::Client::new();
    let work = tempfile::tempdir().unwrap();
    let prom_dir = work.path().join("prometheus");
    let vm_dir = work.path().join("vm");
    std::fs::create_dir_all(&prom_dir).unwrap();
    std::fs::create_dir_all(&vm_dir).unwrap();
    let prom = start(System::Prometheus, "prometheus", &prom_dir, &client);
    let vm = start(
        System::VictoriaMetrics,
        "victoria-metrics",
        &vm_dir,
        &client,
    );

    let cfg = config(&format!(
        "[global]\nexternal_labels = {{ replica = \"r1\" }}\n\
         [[remote_write]]\nname = \"prometheus\"\nurl = \"{}/api/v1/write\"\nqueue_config = {{ batch_send_deadline = \"50ms\", max_samples_per_send = 50 }}\n\
         [[remote_write]]\nname = \"victoria\"\nurl = \"{}/api/v1/write\"\nqueue_config = {{ batch_send_deadline = \"50ms\", max_samples_per_send = 50 }}\n",
        prom.base_url, vm.base_url
    ));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let t0 = now - 25 * 60 * 1000 + 7; // off the minute: no range-boundary effects
    let data_dir = work.path().join("pharos");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut want = Data::new();

    // Phase 1: half the samples.
    let db = open_db(&data_dir);
    let rw = rt
        .block_on(async {
            RemoteWrite::start(options(&db), &cfg.remote_write, &cfg.global.external_labels)
        })
        .unwrap();
    append_steps(&db, t0, 0..STEPS / 2, &mut want);
    let half = (SERIES * STEPS / 2) as u64;
    rt.block_on(eventually("phase 1 sent", || {
        rw.stats().iter().all(|q| q.samples_sent_total == half)
    }));
    let state_dir = options(&db).state_dir;
    rt.block_on(eventually("markers written", || settled(&rw, &state_dir)));
    // Crash-like stop: queues abandoned, storage not closed.
    drop(rw);
    rt.block_on(eventually("readers gone", || Arc::strong_count(&db) == 1));
    drop(db);

    // Phase 2: restart, the rest.
    let db = open_db(&data_dir);
    let rw = rt
        .block_on(async {
            RemoteWrite::start(options(&db), &cfg.remote_write, &cfg.global.external_labels)
        })
        .unwrap();
    append_steps(&db, t0, STEPS / 2..STEPS, &mut want);
    rt.block_on(eventually("phase 2 sent", || {
        rw.stats().iter().all(|q| q.samples_sent_total >= half)
    }));
    let stats = rw.stats();
    rt.block_on(rw.stop());
    for q in &stats {
        // Nothing of phase 1 was read again.
        assert_eq!(q.samples_in_total, half, "{q:?}");
        assert_eq!(q.samples_failed_total, 0, "{q:?}");
        assert_eq!(q.samples_dropped_total, 0, "{q:?}");
    }

    let total = SERIES * STEPS;
    assert_eq!(count(&want), total);
    let got = prometheus_data(&client, &prom.base_url, now + 60_000);
    assert_eq!(
        count(&got),
        total,
        "prometheus holds {} samples",
        count(&got)
    );
    assert_eq!(got, want, "prometheus");
    let got = victoria_data(&client, &vm);
    assert_eq!(got, want, "victoria-metrics");
}
