//! The web interface through the real binary, in headless Chromium:
//! Pharos scrapes a target whose label value is an HTML payload and a
//! target that is down, and evaluates a rule that always fires; then
//! `web/ui/e2e/run.mjs` (playwright-core driving Debian's chromium, both
//! set up by `tests/scripts/install-browser.sh`) types a query with
//! autocompletion and sees its table and graph, opens a Prometheus
//! `/graph?g0.expr=…` link, finds the down target with its error and the
//! firing alert, and checks that the payload stays text and runs nothing
//! (no dialog, no `<img>`, no page error, no CSP violation).
//!
//! Screenshots go to `$CARGO_TARGET_TMPDIR/web-ui-screenshots`; with
//! `PHAROS_UPDATE_SCREENSHOTS=1` also to `web/ui/screenshots/` (the
//! README's).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use pharos_tests::api;
use pharos_tests::pharos::Pharos;
use pharos_tests::process::free_port;
use pharos_tests::target::Target;
use pharos_tests::wait::eventually;

const XSS: &str = "<img src=x onerror=alert(1)>";

const METRICS: &str = r#"# HELP demo_requests_total Requests served.
# TYPE demo_requests_total counter
demo_requests_total{path="/a"} 10
demo_requests_total{path="/b"} 20
# HELP demo_temperature A gauge.
# TYPE demo_temperature gauge
demo_temperature 21.5
demo_xss{payload="<img src=x onerror=alert(1)>"} 1
"#;

const RULES: &str = r#"groups:
- name: demo
  interval: 1s
  rules:
  - alert: DemoAlwaysFiring
    expr: demo_temperature > 0
    labels:
      severity: info
    annotations:
      summary: "<b>bold</b> on {{ $labels.instance }}"
  - record: job:demo_requests:rate1m
    expr: sum by (job) (rate(demo_requests_total[1m]))
"#;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Chromium and the driver's npm packages, installed when missing.
fn install_browser() -> Result<()> {
    let script = repo().join("tests/scripts/install-browser.sh");
    let status = Command::new("bash")
        .arg(&script)
        .status()
        .with_context(|| format!("running {}", script.display()))?;
    ensure!(
        status.success(),
        "{} failed with {status}",
        script.display()
    );
    Ok(())
}

fn config(target: &str, down: &str, rules: &Path) -> String {
    format!(
        r#"[global]
scrape_interval = "1s"
scrape_timeout = "1s"
evaluation_interval = "1s"

[[scrape]]
job = "demo"
targets = ["{target}"]
labels = {{ evil = '{XSS}' }}

[[scrape]]
job = "broken"
targets = ["{down}"]

[rules]
files = ["{}"]
"#,
        rules.display()
    )
}

/// What the binary serves besides the page itself: the redirects and the
/// headers, with the API untouched.
fn check_serving(p: &Pharos) -> Result<()> {
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let page = client.get(format!("{}/targets", p.url)).send()?;
    ensure!(page.status() == 200, "/targets: {}", page.status());
    let csp = page
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    ensure!(csp.contains("script-src 'self';"), "/targets policy: {csp}");
    ensure!(
        csp.contains("frame-ancestors 'none'"),
        "/targets policy: {csp}"
    );
    let graph = client
        .get(format!("{}/graph?g0.expr=up&g0.tab=1", p.url))
        .send()?;
    ensure!(graph.status() == 302, "/graph: {}", graph.status());
    let location = graph
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok());
    ensure!(
        location == Some("query?g0.expr=up&g0.tab=1"),
        "/graph → {location:?}"
    );
    let missing = client.get(format!("{}/no/such/page", p.url)).send()?;
    ensure!(
        missing.status() == 404,
        "/no/such/page: {}",
        missing.status()
    );
    let v = api::get_json(&p.url, "/api/v1/status/buildinfo")?;
    ensure!(v["status"] == "success", "buildinfo: {v}");
    Ok(())
}

#[test]
fn web_ui_in_headless_chromium() -> Result<()> {
    let started = Instant::now();
    install_browser()?;
    let target = Target::start(METRICS)?;
    // Nothing listens there: the target is down, connection refused.
    let down = format!("127.0.0.1:{}", free_port()?);
    let dir = tempfile::tempdir()?;
    let rules = dir.path().join("rules.yml");
    std::fs::write(&rules, RULES)?;
    let config_path = dir.path().join("pharos.toml");
    std::fs::write(&config_path, config(&target.addr, &down, &rules))?;
    let p = Pharos::start_with_config(&dir.path().join("data"), &config_path)?;

    check_serving(&p)?;
    // Enough samples for a line, the target's failure known, the alert firing.
    // Ten seconds of samples: lines across a good part of a 1m graph.
    eventually("ten scrapes of the demo target", || {
        Ok(api::scalar(&p.url, r#"count_over_time(up{job="demo"}[1m])"#)?.filter(|n| *n >= 10.0))
    })?;
    eventually("the broken target down", || {
        api::scalar(&p.url, r#"up{job="broken"} == 0"#)
    })?;
    eventually("the alert firing", || {
        Ok(api::query(
            &p.url,
            r#"ALERTS{alertname="DemoAlwaysFiring",alertstate="firing"}"#,
        )?
        .first()
        .cloned())
    })?;

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("web-ui-screenshots");
    let e2e = repo().join("web/ui/e2e");
    let browser_started = Instant::now();
    // run.mjs gives up by itself after 4 minutes.
    let out = Command::new("node")
        .arg(e2e.join("run.mjs"))
        .arg("--url")
        .arg(&p.url)
        .arg("--out")
        .arg(&shots)
        .current_dir(&e2e)
        .output()
        .context("running node (Node.js 18 or later is needed)")?;
    let report = String::from_utf8_lossy(&out.stdout);
    eprintln!(
        "{report}{}(browser {:.1}s, whole test {:.1}s)",
        String::from_utf8_lossy(&out.stderr),
        browser_started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    if !out.status.success() {
        bail!(
            "the web interface's checks failed ({}); screenshots of the failures in {}",
            out.status,
            shots.display()
        );
    }
    ensure!(report.contains("all passed"), "no verdict from run.mjs");
    if std::env::var_os("PHAROS_UPDATE_SCREENSHOTS").is_some_and(|v| v == "1") {
        let dest = repo().join("web/ui/screenshots");
        std::fs::create_dir_all(&dest)?;
        for name in ["query-graph.png", "targets.png", "alerts.png"] {
            std::fs::copy(shots.join(name), dest.join(name))
                .with_context(|| format!("copying {name}"))?;
        }
    }
    p.stop()
}
