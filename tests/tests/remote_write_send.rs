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

/// Every file under `dir` (name and text), recursively.
fn files_under(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            let text =
                String::from_utf8_lossy(&std::fs::read(&path).unwrap_or_default()).into_owned();
            out.push((path.display().to_string(), text));
        }
    }
}

/// Credentials in a remote-write URL and `proxy_url` and in `headers`
/// never show: `/api/v1/status/config` prints the passwords as `xxxxx`
/// and header values as `<secret>`, the `url` label on `/metrics` and the
/// logs as `xxxxx`, and no file under the data directory holds them.
#[test]
fn remote_write_credentials_are_masked_everywhere() -> Result<()> {
    use pharos_tests::plugins::LoggedPharos;
    use pharos_tests::process::free_port;

    let dir = tempfile::tempdir()?;
    let (down, proxy) = (free_port()?, free_port()?);
    let config = dir.path().join("pharos.toml");
    std::fs::write(
        &config,
        format!(
            "[global]\nscrape_interval = \"1s\"\nscrape_timeout = \"1s\"\n\n\
             [[scrape]]\njob = \"down\"\ntargets = [\"127.0.0.1:{down}\"]\n\n\
             [[remote_write]]\nurl = \"http://writer:hunter2@127.0.0.1:{down}/api/v1/write\"\n\
             headers = {{ X-Api-Key = \"hdr-s3cret\" }}\n\
             proxy_url = \"http://pu:pr0xypass@127.0.0.1:{proxy}\"\n\
             queue_config = {{ batch_send_deadline = \"200ms\", min_backoff = \"100ms\", max_backoff = \"200ms\" }}\n"
        ),
    )?;
    let data = dir.path().join("data");
    let p = LoggedPharos::start(&data, &config)?;
    wait_for("a failed send in the log", Duration::from_secs(60), || {
        Ok(p.logs().contains("remote write: send failed; retrying"))
    })?;
    let secrets = ["hunter2", "hdr-s3cret", "pr0xypass"];

    let yaml = p.get_json("/api/v1/status/config")?["data"]["yaml"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let url = format!("http://writer:xxxxx@127.0.0.1:{down}/api/v1/write");
    assert!(yaml.contains(&format!("- url: {url}\n")), "{yaml}");
    assert!(yaml.contains("    X-Api-Key: <secret>\n"), "{yaml}");
    assert!(
        yaml.contains(&format!(
            "  proxy_url: http://pu:xxxxx@127.0.0.1:{proxy}/\n"
        )),
        "{yaml}"
    );

    let metrics = p.get_text("/metrics")?;
    let pending = metrics
        .lines()
        .find(|l| l.starts_with("prometheus_remote_storage_samples_pending{"))
        .context("prometheus_remote_storage_samples_pending on /metrics")?;
    assert!(pending.contains(&format!("url=\"{url}\"")), "{pending}");

    let logs = p.logs();
    assert!(logs.contains(&url), "{logs}");
    let mut files = Vec::new();
    files_under(&data, &mut files);
    let markers = files
        .iter()
        .filter(|(n, _)| n.ends_with(".progress"))
        .count();
    assert_eq!(markers, 1, "{files:?}");
    for secret in secrets {
        assert!(
            !yaml.contains(secret),
            "{secret} in the config API:\n{yaml}"
        );
        assert!(!metrics.contains(secret), "{secret} on /metrics");
        assert!(!logs.contains(secret), "{secret} logged:\n{logs}");
        for (name, text) in &files {
            // The WAL holds scraped samples, and sled its own pages: the
            // remote-write state (markers, holds) is what could leak.
            if name.contains("remote_write") || name.contains("holds") {
                assert!(
                    !name.contains(secret) && !text.contains(secret),
                    "{secret} in {name}"
                );
            }
        }
    }
    Ok(())
}
