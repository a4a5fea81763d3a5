//! The label suite: each `testdata/labels/*.case` file holds a config
//! (`RECEIVER` stands for the test receiver's URL), the samples appended to
//! a real storage (exposition format, one append each) and exactly what the
//! receiver must get. The whole pipeline runs: WAL, reader, relabeling,
//! shards, protobuf+snappy over HTTP.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use pharos_model::Labels;
use pharos_remote_write::RemoteWrite;
use pharos_textparse::{Entry, Format, Parser};

/// `(labels, t, value bits)` from exposition lines.
fn parse_samples(text: &str, file: &str) -> Vec<(Labels, i64, u64)> {
    let mut out = Vec::new();
    for entry in Parser::new(text.as_bytes(), Format::PromText) {
        let entry = entry.unwrap_or_else(|e| panic!("{file}: {e}"));
        if let Entry::Sample(s) = entry {
            let t = s
                .timestamp
                .unwrap_or_else(|| panic!("{file}: line {} needs a timestamp", s.line));
            out.push((s.labels().unwrap(), t, s.value.to_bits()));
        }
    }
    out
}

async fn run_case(path: &Path) -> Result<(), String> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).unwrap();
    let (config_text, rest) = text
        .split_once("--- input\n")
        .ok_or("no --- input section")?;
    let (input, expect) = rest
        .split_once("--- expect\n")
        .ok_or("no --- expect section")?;
    let receiver = Receiver::start().await;
    let mut cfg = config(&config_text.replace("RECEIVER", &receiver.url()));
    for rw in &mut cfg.remote_write {
        rw.queue_config.batch_send_deadline = Duration::from_millis(5);
    }
    let input = parse_samples(input, &file);
    let mut want = parse_samples(expect, &file);

    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path());
    let rw = RemoteWrite::start(options(&db), &cfg.remote_write, &cfg.global.external_labels)
        .map_err(|e| e.to_string())?;
    for (labels, t, v) in &input {
        let pairs: Vec<(&str, &str)> = labels
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect();
        append(&db, &pairs, &[(*t, f64::from_bits(*v))]);
    }
    let n = input.len() as u64;
    eventually(&format!("{file}: all input processed"), || {
        let q = queue(&rw);
        q.samples_dropped_total + q.samples_sent_total == n
    })
    .await;
    let stats = queue(&rw);
    rw.stop().await;

    let mut got: Vec<(Labels, i64, u64)> = Vec::new();
    for r in receiver.received() {
        for ts in &r.request.timeseries {
            let labels =
                Labels::from_pairs(ts.labels.iter().map(|l| (l.name.clone(), l.value.clone())));
            for s in &ts.samples {
                got.push((labels.clone(), s.timestamp, s.value.to_bits()));
            }
        }
    }
    got.sort();
    want.sort();
    if got != want {
        let show = |v: &[(Labels, i64, u64)]| {
            v.iter()
                .map(|(l, t, b)| format!("  {l} {} {t}", f64::from_bits(*b)))
                .collect::<Vec<_>>()
                .join("\n")
        };
        return Err(format!(
            "received:\n{}\nexpected:\n{}",
            show(&got),
            show(&want)
        ));
    }
    let dropped = n - want.len() as u64;
    if stats.samples_dropped_total != dropped || stats.samples_failed_total != 0 {
        return Err(format!(
            "dropped {} failed {}, expected dropped {dropped} failed 0",
            stats.samples_dropped_total, stats.samples_failed_total
        ));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/labels");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "case"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "cases missing in {}", dir.display());
    let mut failures = Vec::new();
    for f in &files {
        if let Err(e) = run_case(f).await {
            failures.push(format!("{}: {e}", f.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}
