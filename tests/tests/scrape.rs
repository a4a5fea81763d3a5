//! Scraping through the real binary: targets that return garbage, time out
//! or go away are `up` 0 with their error in `/api/v1/targets` and their
//! series go stale while a healthy target is unaffected; limits fail
//! scrapes with Prometheus' wording; a reload keeps the loops of unchanged
//! targets, marks removed targets stale, and a bad config is refused with
//! its reason while the running one stays; the embedded default scrapes
//! Pharos itself; `/metrics`, the metadata APIs and `/federate` answer.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use pharos_tests::api;
use pharos_tests::pharos::Pharos;
use pharos_tests::wait::eventually;
use serde_json::Value;

/// What the test target answers.
#[derive(Clone)]
struct Answer {
    status: &'static str,
    body: String,
    delay: Duration,
}

/// A tiny HTTP target on loopback, answering every request with the
/// current [`Answer`]; `None` closes connections (the target is gone).
struct Target {
    addr: String,
    answer: Arc<Mutex<Option<Answer>>>,
}

impl Target {
    fn start(body: &str) -> Result<Target> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?.to_string();
        let answer = Arc::new(Mutex::new(Some(Answer {
            status: "200 OK",
            body: body.to_owned(),
            delay: Duration::ZERO,
        })));
        let a = answer.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let a = a.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(match conn.try_clone() {
                        Ok(c) => c,
                        Err(_) => return,
                    });
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        while line.trim_end() != "" {
                            line.clear();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                        }
                        let answer = a.lock().map(|g| g.clone()).unwrap_or(None);
                        let Some(ans) = answer else { return };
                        std::thread::sleep(ans.delay);
                        let resp = format!(
                            "HTTP/1.1 {}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n{}",
                            ans.status,
                            ans.body.len(),
                            ans.body
                        );
                        if conn.write_all(resp.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Ok(Target { addr, answer })
    }

    fn set(&self, status: &'static str, body: &str, delay: Duration) {
        if let Ok(mut g) = self.answer.lock() {
            *g = Some(Answer {
                status,
                body: body.to_owned(),
                delay,
            });
        }
    }

    fn go_away(&self) {
        if let Ok(mut g) = self.answer.lock() {
            *g = None;
        }
    }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::new()
}

fn get_json(p: &Pharos, path: &str) -> Result<Value> {
    api::get_json(&p.url, path)
}

fn query(p: &Pharos, expr: &str) -> Result<Vec<Value>> {
    api::query(&p.url, expr)
}

fn scalar(p: &Pharos, expr: &str) -> Result<Option<f64>> {
    api::scalar(&p.url, expr)
}

fn active_target(p: &Pharos, instance: &str) -> Result<Option<Value>> {
    let v = get_json(p, "/api/v1/targets?state=active")?;
    Ok(v["data"]["activeTargets"].as_array().and_then(|ts| {
        ts.iter()
            .find(|t| t["labels"]["instance"] == instance)
            .cloned()
    }))
}

fn write_config(path: &Path, jobs: &str) -> Result<()> {
    std::fs::write(
        path,
        format!(
            "[global]\nscrape_interval = \"500ms\"\nscrape_timeout = \"300ms\"\nexternal_labels = {{ region = \"test\" }}\n\n{jobs}"
        ),
    )?;
    Ok(())
}

fn job(name: &str, targets: &[&str], extra: &str) -> String {
    let list: Vec<String> = targets.iter().map(|t| format!("{t:?}")).collect();
    format!(
        "[[scrape]]\njob = \"{name}\"\ntargets = [{}]\n{extra}\n",
        list.join(", ")
    )
}

#[test]
fn failing_targets_are_down_with_errors_and_go_stale() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let good = Target::start("# HELP g A gauge.\n# TYPE g gauge\ng 1\n")?;
    let bad = Target::start("m{a=\"1\"} 1\n")?;
    let config = dir.path().join("pharos.toml");
    write_config(
        &config,
        &(job("good", &[&good.addr], "") + &job("bad", &[&bad.addr], "")),
    )?;
    let p = Pharos::start_with_config(&dir.path().join("data"), &config)?;

    let m = format!("m{{instance=\"{}\"}}", bad.addr);
    let up_bad = format!("up{{instance=\"{}\"}}", bad.addr);
    let up_good = format!("up{{instance=\"{}\"}}", good.addr);
    let cases: [(&str, &str, Duration, &str); 3] = [
        (
            "200 OK",
            "m{a=\"1\"} 1\nthis is { not metrics\n",
            Duration::ZERO,
            "line 2: ",
        ),
        (
            "200 OK",
            "m{a=\"1\"} 1\n",
            Duration::from_secs(2),
            "context deadline exceeded",
        ),
        (
            "503 Service Unavailable",
            "",
            Duration::ZERO,
            "server returned HTTP status 503 Service Unavailable",
        ),
    ];
    for (status, body, delay, error) in cases {
        bad.set("200 OK", "m{a=\"1\"} 1\n", Duration::ZERO);
        eventually("m scraped", || Ok(scalar(&p, &m)?.filter(|v| *v == 1.0)))?;
        bad.set(status, body, delay);
        let t = eventually("target down", || {
            Ok(active_target(&p, &bad.addr)?.filter(|t| t["health"] == "down"))
        })?;
        let last_error = t["lastError"].as_str().unwrap_or("");
        assert!(last_error.contains(error), "{error} not in {last_error:?}");
        assert_eq!(scalar(&p, &up_bad)?, Some(0.0));
        // The staleness marker hides m at once, though its last real
        // sample is well within the 5m lookback.
        eventually("m stale", || Ok(query(&p, &m)?.is_empty().then_some(())))?;
        assert_eq!(
            scalar(&p, &format!("count_over_time({m}[5m])"))?.map(|v| v >= 1.0),
            Some(true)
        );
        // The healthy target is untouched.
        assert_eq!(scalar(&p, &up_good)?, Some(1.0));
    }

    // The target goes away altogether: connections are closed.
    bad.set("200 OK", "m{a=\"1\"} 1\n", Duration::ZERO);
    eventually("m back", || Ok(scalar(&p, &m)?.filter(|v| *v == 1.0)))?;
    bad.go_away();
    let t = eventually("target down", || {
        Ok(active_target(&p, &bad.addr)?.filter(|t| t["health"] == "down"))
    })?;
    assert!(
        t["lastError"]
            .as_str()
            .is_some_and(|e| e.starts_with(&format!("Get \"http://{}/metrics\": ", bad.addr))),
        "{t}"
    );
    eventually("m stale", || Ok(query(&p, &m)?.is_empty().then_some(())))?;

    // The target's shape in the API, as Prometheus'.
    let t = active_target(&p, &good.addr)?.context("good target")?;
    for key in [
        "discoveredLabels",
        "labels",
        "scrapePool",
        "scrapeUrl",
        "globalUrl",
        "lastError",
        "lastScrape",
        "lastScrapeDuration",
        "health",
        "scrapeInterval",
        "scrapeTimeout",
    ] {
        assert!(t.get(key).is_some(), "{key} missing in {t}");
    }
    assert_eq!(t["scrapePool"], "good");
    assert_eq!(t["scrapeUrl"], format!("http://{}/metrics", good.addr));
    assert_eq!(t["discoveredLabels"]["__address__"], good.addr.as_str());
    assert_eq!(t["scrapeInterval"], "500ms");

    // Metadata and federation.
    let md = get_json(&p, "/api/v1/metadata?metric=g")?;
    assert_eq!(
        md["data"],
        serde_json::json!({"g":[{"type":"gauge","help":"A gauge.","unit":""}]})
    );
    let tmd = get_json(&p, "/api/v1/targets/metadata?match_target={job=\"good\"}")?;
    assert_eq!(tmd["data"][0]["metric"], "g");
    assert_eq!(tmd["data"][0]["target"]["job"], "good");
    let fed = client()
        .get(format!("{}/federate", p.url))
        .query(&[("match[]", "{job=\"good\"}")])
        .send()?
        .text()?;
    assert!(fed.contains("# TYPE g untyped\n"), "{fed}");
    assert!(
        fed.contains(&format!(
            "g{{instance=\"{}\",job=\"good\",region=\"test\"}} 1 ",
            good.addr
        )),
        "{fed}"
    );
    p.stop()
}

#[test]
fn reload_keeps_unchanged_loops_and_refuses_bad_configs() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let a = Target::start("a_metric 1\n")?;
    let b = Target::start("b_metric 1\n")?;
    let config = dir.path().join("pharos.toml");
    write_config(&config, &job("t", &[&a.addr, &b.addr], ""))?;
    let p = Pharos::start_with_config(&dir.path().join("data"), &config)?;
    let added_a = format!("scrape_series_added{{instance=\"{}\"}}", a.addr);
    eventually("both up", || {
        Ok((scalar(&p, "count(up == 1)")? == Some(2.0)).then_some(()))
    })?;

    // Remove b and reload over HTTP.
    write_config(&config, &job("t", &[&a.addr], ""))?;
    let resp = client().post(format!("{}/-/reload", p.url)).send()?;
    assert_eq!(resp.status(), 200);
    let reloaded_at = Instant::now();
    eventually("b stale", || {
        Ok(query(&p, &format!("b_metric{{instance=\"{}\"}}", b.addr))?
            .is_empty()
            .then_some(()))
    })?;
    assert!(active_target(&p, &b.addr)?.is_none());
    // a's loop kept its cache: every scrape since added no series. A new
    // loop's first scrape would report 2 (a_metric and... at least 1).
    std::thread::sleep(Duration::from_secs(2));
    let window = reloaded_at.elapsed().as_millis();
    let added = scalar(&p, &format!("max_over_time({added_a}[{window}ms])"))?;
    assert_eq!(added, Some(0.0));

    // A bad config is refused with its reason; the running one stays.
    std::fs::write(&config, "[global]\nscrape_interval = \"fast\"\n")?;
    let resp = client().post(format!("{}/-/reload", p.url)).send()?;
    assert_eq!(resp.status(), 500);
    let text = resp.text()?;
    assert!(text.starts_with("failed to reload config: "), "{text}");
    assert!(
        text.contains(":2:") && text.contains("global.scrape_interval"),
        "{text}"
    );
    let yaml = get_json(&p, "/api/v1/status/config")?;
    assert!(
        yaml["data"]["yaml"]
            .as_str()
            .is_some_and(|y| y.contains(&a.addr)),
        "{yaml}"
    );
    assert_eq!(
        scalar(&p, &format!("up{{instance=\"{}\"}}", a.addr))?,
        Some(1.0)
    );

    // SIGHUP reloads too: add b back.
    write_config(&config, &job("t", &[&a.addr, &b.addr], ""))?;
    let status = std::process::Command::new("kill")
        .args(["-HUP", &p.pid().to_string()])
        .status()?;
    assert!(status.success());
    eventually("b back", || Ok(active_target(&p, &b.addr)?.map(|_| ())))?;
    let flags = get_json(&p, "/api/v1/status/flags")?;
    assert_eq!(flags["data"]["config"], config.display().to_string());
    let metrics = client().get(format!("{}/metrics", p.url)).send()?.text()?;
    assert!(
        metrics.contains("pharos_config_reloads_total{result=\"failure\"} 1"),
        "{metrics}"
    );
    p.stop()
}

#[test]
fn limits_fail_scrapes_with_prometheus_wording() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let t = Target::start("a 1\nb 2\nc{x=\"a-very-long-label-value\"} 3\n")?;
    let t2 = Target::start("a 1\n")?;
    let config = dir.path().join("pharos.toml");
    write_config(
        &config,
        &(job("samples", &[&t.addr], "sample_limit = 2")
            + &job("values", &[&t.addr], "label_value_length_limit = 20")
            + &job("targets", &[&t.addr, &t2.addr], "target_limit = 1")),
    )?;
    let p = Pharos::start_with_config(&dir.path().join("data"), &config)?;
    let want = [
        ("samples", "sample limit exceeded".to_owned()),
        (
            "values",
            "label_value_length_limit exceeded (metric: c, label name: x, value: \"a-very-long-label-value\", length: 23, limit: 20)".to_owned(),
        ),
        ("targets", "target_limit exceeded (number of targets: 2, limit: 1)".to_owned()),
    ];
    for (pool, error) in want {
        eventually(pool, || {
            let v = get_json(&p, &format!("/api/v1/targets?scrapePool={pool}"))?;
            let ts = v["data"]["activeTargets"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            Ok(ts
                .iter()
                .any(|t| t["lastError"] == error.as_str() && t["health"] == "down")
                .then_some(()))
        })?;
    }
    p.stop()
}

#[test]
fn the_embedded_default_scrapes_pharos_itself() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let port = pharos_tests::process::free_port()?;
    let mut child = pharos_tests::process::Process::new(
        std::process::Command::new(pharos_tests::pharos::pharos_bin()?)
            .args(["run", "--listen", &format!("127.0.0.1:{port}"), "--data"])
            .arg(dir.path())
            .env("RUST_LOG", "warn")
            .spawn()?,
    );
    let url = format!("http://127.0.0.1:{port}");
    child.wait_ready(
        &client(),
        &format!("{url}/-/ready"),
        Duration::from_secs(60),
    )?;
    let v = client()
        .get(format!("{url}/api/v1/targets"))
        .send()?
        .json::<Value>()?;
    let t = &v["data"]["activeTargets"][0];
    assert_eq!(t["labels"]["job"], "pharos");
    assert_eq!(t["labels"]["instance"], format!("127.0.0.1:{port}"));
    assert_eq!(t["scrapeInterval"], "15s");
    child.stop(Duration::from_secs(60))?;
    Ok(())
}
