//! Remote-write sending through the real binary: one Pharos scrapes a
//! target and forwards what it stores to another Pharos (the receiver
//! Prometheus 2.42 and VictoriaMetrics are tested against in
//! `host/remote-write/tests/references.rs`); a restart of the sender
//! neither loses nor duplicates what was acknowledged.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use pharos_tests::pharos::Pharos;
use serde_json::Value;

fn query(client: &reqwest::blocking::Client, base: &str, q: &str) -> Result<Value> {
    Ok(client
        .get(format!("{base}/api/v1/query"))
        .query(&[("query", q)])
        .send()?
        .json()?)
}

/// The value of a one-element instant vector, if there is one.
fn scalar(v: &Value) -> Option<f64> {
    v["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}

fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> Result<bool>) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if ok()? {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    bail!("timed out waiting for {what}")
}

#[test]
fn a_pharos_forwards_what_it_scrapes_to_another() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let receiver = Pharos::start(&dir.path().join("receiver"))?;
    let config = dir.path().join("sender-config.toml");
    // The sender scrapes the receiver's /metrics every second.
    std::fs::write(
        &config,
        format!(
            "[global]\nscrape_interval = \"1s\"\nscrape_timeout = \"1s\"\nexternal_labels = {{ replica = \"a\" }}\n\n\
             [[scrape]]\njob = \"target\"\ntargets = [\"{}\"]\n\n\
             [[remote_write]]\nurl = \"{}/api/v1/write\"\nqueue_config = {{ batch_send_deadline = \"200ms\" }}\n",
            receiver.url.trim_start_matches("http://"),
            receiver.url
        ),
    )?;
    let sender_data = dir.path().join("sender");
    let sender = Pharos::start_with_config(&sender_data, &config)?;
    let client = reqwest::blocking::Client::new();

    // The scraped `up` arrives with the external label.
    wait_for("up at the receiver", Duration::from_secs(60), || {
        let v = query(&client, &receiver.url, r#"up{job="target",replica="a"}"#)?;
        Ok(scalar(&v) == Some(1.0))
    })?;

    // The queue reports itself under Prometheus' metric names.
    let metrics = client
        .get(format!("{}/metrics", sender.url))
        .send()?
        .text()?;
    let sent = metrics
        .lines()
        .find(|l| l.starts_with("prometheus_remote_storage_samples_total{"))
        .context("prometheus_remote_storage_samples_total on /metrics")?;
    let value: f64 = sent.rsplit(' ').next().unwrap_or("").parse()?;
    assert!(value > 0.0, "{sent}");
    assert!(
        sent.contains(&format!("url=\"{}/api/v1/write\"", receiver.url)),
        "{sent}"
    );
    // Every request lands in the +Inf bucket of the send histogram.
    let requests = metrics
        .lines()
        .find(|l| {
            l.starts_with(
                "prometheus_remote_storage_sent_batch_duration_seconds_bucket{le=\"+Inf\"",
            )
        })
        .context("prometheus_remote_storage_sent_batch_duration_seconds on /metrics")?;
    let requests: f64 = requests.rsplit(' ').next().unwrap_or("").parse()?;
    assert!(requests >= 1.0, "{requests}");

    // Same samples on both sides for a series that stays put.
    let q = r#"count_over_time(scrape_samples_scraped{job="target"}[1h])"#;
    std::thread::sleep(Duration::from_secs(3));
    sender.stop().context("sender stops cleanly")?;
    let sent_before = {
        let dir = &sender_data;
        let s = Pharos::start(dir)?;
        let v = scalar(&query(&client, &s.url, q)?).context("sender has samples")?;
        s.stop()?;
        v
    };
    wait_for(
        "all samples at the receiver",
        Duration::from_secs(30),
        || Ok(scalar(&query(&client, &receiver.url, q)?) == Some(sent_before)),
    )?;

    // Restart the sender with the same config: it resumes after what was
    // acknowledged, so nothing arrives twice (a duplicate timestamp would
    // be refused by the receiver and not counted) and new scrapes flow.
    let sender = Pharos::start_with_config(&sender_data, &config)?;
    wait_for(
        "new samples after the restart",
        Duration::from_secs(60),
        || Ok(scalar(&query(&client, &receiver.url, q)?).is_some_and(|n| n >= sent_before + 2.0)),
    )?;
    sender.stop()?;
    receiver.stop()?;
    Ok(())
}
