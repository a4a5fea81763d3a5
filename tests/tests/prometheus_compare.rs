//! Pharos and Prometheus 2.42 side by side on the same data: Prometheus
//! scrapes a real node exporter and itself every second and remote-writes
//! what it scrapes to Pharos; then every query of
//! `tests/data/promql_compare.txt` is asked of both, as an instant query
//! and as a range query, and the answers must match (values within 1e-9
//! relative). promtool's output against both must match too.
//!
//! The reference binaries are installed by `tests/scripts/install-references.sh`
//! on first use.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use pharos_tests::pharos::Pharos;
use pharos_tests::process::{Process, free_port};
use pharos_tests::references::{self, require};
use serde_json::Value;

const QUERIES: &str = include_str!("../data/promql_compare.txt");
/// Ranges the queries use: evaluation times are chosen so that no sample
/// sits exactly on `t - range` (2.42 includes that sample, 3.x does not).
const RANGES_MS: [i64; 7] = [5_000, 10_000, 12_000, 15_000, 60_000, 300_000, 3_000];

struct Setup {
    pharos: Pharos,
    prom_url: String,
    _prom: Process,
    _node: Process,
    _dir: tempfile::TempDir,
}

fn start(dir: &Path) -> Result<(Process, Process, String, Pharos)> {
    let pharos = Pharos::start(&dir.join("pharos"))?;
    let client = reqwest::blocking::Client::new();

    let (node, node_port) = references::start_node_exporter()?;

    let prom_port = free_port()?;
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
             scrape_configs:\n\
             - job_name: node\n  static_configs: [{{targets: ['127.0.0.1:{node_port}']}}]\n\
             - job_name: prometheus\n  static_configs: [{{targets: ['127.0.0.1:{prom_port}']}}]\n\
             remote_write:\n- url: {}/api/v1/write\n  queue_config: {{batch_send_deadline: 200ms, min_backoff: 50ms}}\n",
            pharos.url
        ),
    )?;
    let prom = Command::new(require("prometheus")?)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("prom").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("prometheus.log"))?)
        .spawn()
        .context("starting prometheus")?;
    let mut prom = Process::new(prom);
    let prom_url = format!("http://127.0.0.1:{prom_port}");
    prom.wait_ready(
        &client,
        &format!("{prom_url}/-/ready"),
        Duration::from_secs(60),
    )?;
    Ok((node, prom, prom_url, pharos))
}

fn get(
    client: &reqwest::blocking::Client,
    base: &str,
    path: &str,
    form: &[(&str, String)],
) -> Result<Value> {
    let resp = client
        .post(format!("{base}{path}"))
        .form(form)
        .send()
        .with_context(|| format!("{base}{path}"))?;
    Ok(resp.json()?)
}

/// Scrape timestamps (ms) of `up` over the last minute, from Prometheus.
fn scrape_times(client: &reqwest::blocking::Client, prom: &str, at: f64) -> Result<Vec<i64>> {
    let v = get(
        client,
        prom,
        "/api/v1/query",
        &[("query", "up[1m]".into()), ("time", format!("{at:.3}"))],
    )?;
    let mut out = Vec::new();
    for s in v["data"]["result"].as_array().context("up[1m]")? {
        for p in s["values"].as_array().context("values")? {
            out.push((p[0].as_f64().unwrap_or(0.0) * 1000.0).round() as i64);
        }
    }
    Ok(out)
}

/// An evaluation time a little in the past whose range boundaries do not
/// coincide with a sample.
fn safe_time(times: &[i64], base: i64) -> i64 {
    (0..1000)
        .map(|k| base - 7 * k - 3)
        .find(|t| {
            RANGES_MS
                .iter()
                .all(|r| times.iter().all(|&s| s != t - r && s != t - r - 1))
        })
        .unwrap_or(base - 3)
}

fn setup() -> Result<Setup> {
    let dir = tempfile::tempdir()?;
    let (node, prom, prom_url, pharos) = start(dir.path())?;
    let client = reqwest::blocking::Client::new();
    // Twenty seconds of scrapes, then wait until Pharos has what
    // Prometheus has up to the chosen time.
    std::thread::sleep(Duration::from_secs(20));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let p = get(
            &client,
            &pharos.url,
            "/api/v1/query",
            &[("query", "count(up)".into())],
        )?;
        if p["data"]["result"][0]["value"][1] == "2" {
            break;
        }
        if Instant::now() > deadline {
            bail!("pharos never received both jobs' samples: {p}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(Setup {
        pharos,
        prom_url,
        _prom: prom,
        _node: node,
        _dir: dir,
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn same_value(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_str(), b.as_str()) else {
        return a == b;
    };
    if a == b {
        return true;
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()),
        _ => false,
    }
}

/// Series of a result keyed by their labels.
fn by_metric(result: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    match result {
        Value::Array(items) => {
            for s in items {
                out.insert(s["metric"].to_string(), s.clone());
            }
        }
        other => {
            out.insert(String::new(), other.clone());
        }
    }
    out
}

fn compare(query: &str, kind: &str, prom: &Value, pharos: &Value) -> Result<(), String> {
    if prom["status"] != pharos["status"] {
        return Err(format!(
            "{kind} {query}: status {} vs {}: {prom} / {pharos}",
            prom["status"], pharos["status"]
        ));
    }
    if prom["status"] != "success" {
        return Ok(());
    }
    let (pd, xd) = (&prom["data"], &pharos["data"]);
    if pd["resultType"] != xd["resultType"] {
        return Err(format!(
            "{kind} {query}: result type {} vs {}",
            pd["resultType"], xd["resultType"]
        ));
    }
    let (pm, xm) = (by_metric(&pd["result"]), by_metric(&xd["result"]));
    if pm.keys().ne(xm.keys()) {
        return Err(format!(
            "{kind} {query}: series differ:\n  prometheus {:?}\n  pharos     {:?}",
            pm.keys().collect::<Vec<_>>(),
            xm.keys().collect::<Vec<_>>()
        ));
    }
    for (k, p) in &pm {
        let x = &xm[k];
        let points = |v: &Value| -> Vec<Value> {
            if let Some(vals) = v["values"].as_array() {
                vals.clone()
            } else if v["value"].is_array() {
                vec![v["value"].clone()]
            } else {
                vec![v.clone()]
            }
        };
        let (pp, xp) = (points(p), points(x));
        let same = pp.len() == xp.len()
            && pp
                .iter()
                .zip(&xp)
                .all(|(a, b)| a[0] == b[0] && same_value(&a[1], &b[1]));
        if !same {
            return Err(format!(
                "{kind} {query}: {k}:\n  prometheus {pp:?}\n  pharos     {xp:?}"
            ));
        }
    }
    Ok(())
}

#[test]
fn answers_match_prometheus() -> Result<()> {
    let s = setup()?;
    let client = reqwest::blocking::Client::new();
    let t = safe_time(
        &scrape_times(&client, &s.prom_url, (now_ms() - 1500) as f64 / 1000.0)?,
        now_ms() - 3000,
    );
    let at = format!("{:.3}", t as f64 / 1000.0);
    let start = format!("{:.3}", (t - 12_000) as f64 / 1000.0);
    let mut failures = Vec::new();
    let mut asked = 0;
    let mut empty = 0;
    for q in QUERIES
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let instant = [("query", q.to_string()), ("time", at.clone())];
        let range = [
            ("query", q.to_string()),
            ("start", start.clone()),
            ("end", at.clone()),
            ("step", "1.5".to_string()),
        ];
        for (kind, path, form) in [
            ("instant", "/api/v1/query", &instant[..]),
            ("range", "/api/v1/query_range", &range[..]),
        ] {
            let p = get(&client, &s.prom_url, path, form)?;
            let x = get(&client, &s.pharos.url, path, form)?;
            asked += 1;
            let r = &p["data"]["result"];
            if p["status"] != "success" || r.as_array().is_some_and(|a| a.is_empty()) {
                empty += 1;
            }
            if let Err(e) = compare(q, kind, &p, &x) {
                failures.push(e);
            }
        }
    }
    println!(
        "{asked} queries compared at t={at}, {} differ, {empty} empty or failed in Prometheus too",
        failures.len()
    );
    // Only `absent(...)`-style queries may come back empty.
    assert!(
        empty <= 4,
        "{empty} of {asked} answers were empty: the data did not arrive?"
    );
    if !failures.is_empty() {
        bail!(
            "{} of {asked} answers differ from Prometheus 2.42:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    // promtool prints the same lines for both servers.
    let promtool = require("promtool")?;
    let run = |url: &str, args: &[&str]| -> Result<String> {
        let out = Command::new(&promtool)
            .arg("query")
            .args(&args[..1])
            .arg(url)
            .args(&args[1..])
            .output()?;
        if !out.status.success() {
            bail!(
                "promtool {args:?} against {url}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    for args in [
        vec!["instant", "sum by (job) (up)", "--time", &at],
        vec![
            "instant",
            "rate(node_cpu_seconds_total{mode=\"idle\"}[10s])",
            "--time",
            &at,
        ],
        vec![
            "range",
            "count(up)",
            "--start",
            &start,
            "--end",
            &at,
            "--step",
            "2s",
        ],
        vec!["series", "--match", "up", "--start", &start, "--end", &at],
        vec!["labels", "job", "--start", &start, "--end", &at],
    ] {
        // Instant vectors come in no particular order: compare lines sorted.
        let sorted = |s: String| {
            let mut l: Vec<String> = s.lines().map(str::to_string).collect();
            l.sort();
            l
        };
        let want = sorted(run(&s.prom_url, &args)?);
        let got = sorted(run(&s.pharos.url, &args)?);
        assert!(
            !want.is_empty(),
            "promtool {args:?} printed nothing for Prometheus"
        );
        assert_eq!(got, want, "promtool {args:?}");
    }
    Ok(())
}
