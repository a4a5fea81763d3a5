//! Pharos and Prometheus 2.42 scrape the same real node exporter every
//! second; the set of series each stores for the job (label sets, values
//! ignored) must be the same. Pharos scrapes itself too, and its
//! `/metrics` (OpenMetrics from prometheus-client) is read by both
//! Pharos' and Prometheus' scrapers without errors.
//!
//! The reference binaries are installed by `tests/scripts/install-references.sh`
//! on first use.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use pharos_tests::pharos::Pharos;
use pharos_tests::process::{Process, free_port};
use pharos_tests::references::{self, require};
use serde_json::Value;

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::new()
}

fn start_prometheus(dir: &Path, node_port: u16, pharos: &str) -> Result<(Process, String)> {
    let port = free_port()?;
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
             scrape_configs:\n\
             - job_name: node\n  static_configs: [{{targets: ['127.0.0.1:{node_port}']}}]\n\
             - job_name: pharos\n  static_configs: [{{targets: ['{pharos}']}}]\n"
        ),
    )?;
    let prom = Command::new(require("prometheus")?)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("prom").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("prometheus.log"))?)
        .spawn()
        .context("starting prometheus")?;
    let mut prom = Process::new(prom);
    let url = format!("http://127.0.0.1:{port}");
    prom.wait_ready(
        &client(),
        &format!("{url}/-/ready"),
        Duration::from_secs(60),
    )?;
    Ok((prom, url))
}

/// The label sets of `/api/v1/series?match[]=SELECTOR` over the last
/// `window` seconds before `at`.
fn series(base: &str, selector: &str, at: f64, window: f64) -> Result<BTreeSet<String>> {
    let v: Value = client()
        .get(format!("{base}/api/v1/series"))
        .query(&[
            ("match[]", selector.to_owned()),
            ("start", format!("{:.3}", at - window)),
            ("end", format!("{at:.3}")),
        ])
        .send()?
        .json()?;
    let list = v["data"]
        .as_array()
        .with_context(|| format!("{base}: {v}"))?;
    Ok(list.iter().map(Value::to_string).collect())
}

fn instant(base: &str, expr: &str) -> Result<Vec<Value>> {
    let v: Value = client()
        .get(format!("{base}/api/v1/query"))
        .query(&[("query", expr)])
        .send()?
        .json()?;
    Ok(v["data"]["result"].as_array().cloned().unwrap_or_default())
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[test]
fn pharos_stores_the_series_prometheus_stores() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (_node, node_port) = references::start_node_exporter()?;
    let config = dir.path().join("pharos.toml");
    // Pharos scrapes itself at the address it listens on: the port is
    // only known after start, so the self job comes from a reload.
    std::fs::write(
        &config,
        format!(
            "[global]\nscrape_interval = \"1s\"\nscrape_timeout = \"1s\"\n\n\
             [[scrape]]\njob = \"node\"\ntargets = [\"127.0.0.1:{node_port}\"]\n"
        ),
    )?;
    let pharos = Pharos::start_with_config(&dir.path().join("data"), &config)?;
    let self_addr = pharos.url.trim_start_matches("http://").to_owned();
    std::fs::write(
        &config,
        format!(
            "[global]\nscrape_interval = \"1s\"\nscrape_timeout = \"1s\"\n\n\
             [[scrape]]\njob = \"node\"\ntargets = [\"127.0.0.1:{node_port}\"]\n\n\
             [[scrape]]\njob = \"pharos\"\ntargets = [\"{self_addr}\"]\n"
        ),
    )?;
    let resp = client().post(format!("{}/-/reload", pharos.url)).send()?;
    assert_eq!(resp.status(), 200, "{}", resp.text()?);
    let (_prom, prom) = start_prometheus(dir.path(), node_port, &self_addr)?;

    // Both have scraped both jobs a few times.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let p = instant(&pharos.url, "count(up == 1)")?;
        let q = instant(&prom, "count(up == 1)")?;
        let two = |r: &[Value]| r.first().is_some_and(|s| s["value"][1] == "2");
        if two(&p) && two(&q) {
            break;
        }
        if Instant::now() > deadline {
            bail!("not both up: pharos {p:?}, prometheus {q:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(4));

    let at = now() - 1.0;
    let ours = series(&pharos.url, "{job=\"node\"}", at, 3.0)?;
    let theirs = series(&prom, "{job=\"node\"}", at, 3.0)?;
    let only_ours: Vec<_> = ours.difference(&theirs).collect();
    let only_theirs: Vec<_> = theirs.difference(&ours).collect();
    assert!(
        only_ours.is_empty() && only_theirs.is_empty(),
        "series differ ({} vs {}):\n  only in pharos: {only_ours:#?}\n  only in prometheus: {only_theirs:#?}",
        ours.len(),
        theirs.len()
    );
    assert!(ours.len() > 100, "{}", ours.len());

    // Pharos' own metrics scrape cleanly, in Pharos and in Prometheus.
    for base in [&pharos.url, &prom] {
        let up = instant(base, "up{job=\"pharos\"}")?;
        assert_eq!(
            up.first().map(|s| s["value"][1].clone()),
            Some("1".into()),
            "{base}"
        );
        let head = instant(base, "pharos_tsdb_head_series")?;
        assert_eq!(head.len(), 1, "{base}: {head:?}");
    }
    let samples = instant(
        &pharos.url,
        "pharos_target_scrapes_total{scrape_job=\"node\",result=\"success\"}",
    )?;
    assert_eq!(samples.len(), 1, "{samples:?}");
    pharos.stop()
}
