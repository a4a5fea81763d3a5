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
//! Pharos also scrapes a real node exporter and serves two dashboards: the
//! public "Node Exporter Full" Grafana JSON (`host/web/testdata/grafana/`,
//! listed by a path relative to the config file) and one written in TOML;
//! the browser checks that their panels draw. A rule that always fires is
//! routed to the `webhook` plugin posting to a loopback receiver here; the
//! browser silences it from the Alerts page, and the receiver must get no
//! notification from group_interval after the silence on, having had
//! them every repeat_interval before.
//!
//! Screenshots go to `$CARGO_TARGET_TMPDIR/web-ui-screenshots`; with
//! `PHAROS_UPDATE_SCREENSHOTS=1` also to `web/ui/screenshots/` (the
//! README's).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail, ensure};
use pharos_tests::api;
use pharos_tests::pharos::Pharos;
use pharos_tests::process::free_port;
use pharos_tests::recorder::{Recorder, Request};
use pharos_tests::references;
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
  - alert: DemoPagesTheTeam
    expr: demo_temperature > 0
    labels:
      team: e2e
    annotations:
      summary: "the notification a silence made in the browser stops"
"#;

/// The route's group_interval: a silence stops notifications by then.
const GROUP_INTERVAL: Duration = Duration::from_secs(1);
/// How often an unchanged firing group is notified again (short, so that
/// a missing notification after the silence means something).
const REPEAT_INTERVAL: Duration = Duration::from_secs(2);

/// The TOML dashboard: a time series, a stat and a table of the demo
/// target.
const DEMO_DASHBOARD: &str = r#"
[[dashboards]]
name = "demo"
title = "Demo service"
refresh = "5s"
range = "5m"

[[dashboards.rows]]
title = "Requests"
panels = [
  { title = "Requests", expr = "demo_requests_total", legend = "{{path}}", unit = "short" },
  { title = "Temperature", type = "stat", expr = "demo_temperature", unit = "celsius", width = 6 },
  { title = "Targets", type = "table", expr = "up", legend = "{{job}} {{instance}}", width = 6 },
]
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

fn config(target: &str, down: &str, rules: &Path, node: &str, hook: &Recorder) -> String {
    format!(
        r#"[server]
enable_lifecycle = true

[global]
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

[[scrape]]
job = "node"
targets = ["{node}"]

[rules]
files = ["{rules}"]

[plugins.webhook]
allow_http = ["http://{hook_addr}"]
allow_private_ips = ["127.0.0.1"]

[alerting.route]
receiver = "nobody"
group_by = ["alertname"]
group_wait = "1s"
group_interval = "{group_interval}s"
repeat_interval = "{repeat_interval}s"

[[alerting.route.routes]]
matchers = ['team="e2e"']
receiver = "team"

[[alerting.receivers]]
name = "nobody"

[[alerting.receivers]]
name = "team"
notifiers = [{{ plugin = "webhook", config = {{ url = "{hook_url}" }} }}]

[[dashboards]]
name = "node"
file = "node-exporter-full.json"
{DEMO_DASHBOARD}"#,
        rules = rules.display(),
        hook_addr = hook.addr,
        hook_url = hook.url("/hook"),
        group_interval = GROUP_INTERVAL.as_secs(),
        repeat_interval = REPEAT_INTERVAL.as_secs(),
    )
}

/// When the receiver got each notification of the silenced alert.
fn team_notifications(hook: &Recorder) -> Vec<SystemTime> {
    hook.requests()
        .iter()
        .filter(|r| r.json()["groupLabels"]["alertname"] == "DemoPagesTheTeam")
        .map(|r: &Request| r.received)
        .collect()
}

/// The notifications stopped: some before the silence (run.mjs prints
/// `silence created at <epoch ms>`), none from group_interval after it
/// (a notification being sent as the silence is made may still land).
fn check_silenced(report: &str, hook: &Recorder) -> Result<()> {
    let at = report
        .lines()
        .find_map(|l| l.split("silence created at ").nth(1))
        .and_then(|ms| ms.trim().parse::<u64>().ok())
        .context("run.mjs did not say when it created the silence")?;
    let silenced = UNIX_EPOCH + Duration::from_millis(at);
    let times = team_notifications(hook);
    let before = times.iter().filter(|t| **t <= silenced).count();
    let late: Vec<Duration> = times
        .iter()
        .filter_map(|t| t.duration_since(silenced).ok())
        .filter(|d| *d > GROUP_INTERVAL + Duration::from_millis(500))
        .collect();
    let since = SystemTime::now()
        .duration_since(silenced)
        .unwrap_or_default();
    eprintln!(
        "silence: {before} notifications before it, {} after ({} late), checked {:.1}s after it",
        times.len() - before,
        late.len(),
        since.as_secs_f64()
    );
    ensure!(
        before >= 2,
        "only {before} notifications before the silence"
    );
    ensure!(
        late.is_empty(),
        "notifications arrived {late:?} after the silence was created"
    );
    // Several repeat intervals passed: they would have come.
    ensure!(
        since > REPEAT_INTERVAL * 3,
        "checked only {since:?} after the silence"
    );
    Ok(())
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

/// The dashboards' API: the list, one normalised, the Grafana file raw.
fn check_dashboards_api(p: &Pharos) -> Result<()> {
    let list = api::get_json(&p.url, "/api/v1/dashboards")?;
    let names: Vec<&str> = list["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["name"].as_str())
        .collect();
    ensure!(names == ["node", "demo"], "dashboards: {list}");
    ensure!(list["data"][0]["title"] == "Node Exporter Full", "{list}");
    let node = api::get_json(&p.url, "/api/v1/dashboards/node")?;
    ensure!(
        node["data"]["scrapeInterval"] == 1.0,
        "{}",
        node["data"]["scrapeInterval"]
    );
    ensure!(
        node["data"]["rows"].as_array().map(Vec::len) == Some(16),
        "rows of node"
    );
    let raw = api::get_json(&p.url, "/api/v1/dashboards/node?raw=true")?;
    ensure!(raw["uid"] == "rYdddlPWk", "raw file: uid {}", raw["uid"]);
    let missing = reqwest::blocking::get(format!("{}/api/v1/dashboards/nope", p.url))?;
    ensure!(
        missing.status() == 404,
        "unknown dashboard: {}",
        missing.status()
    );
    for h in ["x-content-type-options", "x-frame-options"] {
        ensure!(
            missing.headers().contains_key(h),
            "API response without {h}"
        );
    }
    Ok(())
}

/// A reload picks up a changed dashboard: the TOML one renamed, the
/// Grafana file's title changed on disk.
fn check_dashboards_reload(p: &Pharos, config: &Path) -> Result<()> {
    let text = std::fs::read_to_string(config)?;
    std::fs::write(
        config,
        text.replace(r#"title = "Demo service""#, r#"title = "Demo, renamed""#),
    )?;
    let file = config.with_file_name("node-exporter-full.json");
    let json = std::fs::read_to_string(&file)?;
    let mut doc: serde_json::Value = serde_json::from_str(&json)?;
    doc["title"] = "Node, edited".into();
    std::fs::write(&file, serde_json::to_vec(&doc)?)?;
    let resp = reqwest::blocking::Client::new()
        .post(format!("{}/-/reload", p.url))
        .send()?;
    ensure!(resp.status() == 200, "reload: {}", resp.status());
    let list = api::get_json(&p.url, "/api/v1/dashboards")?;
    let titles: Vec<&str> = list["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["title"].as_str())
        .collect();
    ensure!(
        titles == ["Node, edited", "Demo, renamed"],
        "after reload: {list}"
    );
    Ok(())
}

#[test]
fn web_ui_in_headless_chromium() -> Result<()> {
    let started = Instant::now();
    install_browser()?;
    let target = Target::start(METRICS)?;
    let (_node, node_port) = references::start_node_exporter()?;
    let node = format!("127.0.0.1:{node_port}");
    let hook = Recorder::start("200 OK", "")?;
    // Nothing listens there: the target is down, connection refused.
    let down = format!("127.0.0.1:{}", free_port()?);
    let dir = tempfile::tempdir()?;
    let rules = dir.path().join("rules.yml");
    std::fs::write(&rules, RULES)?;
    let config_path = dir.path().join("pharos.toml");
    std::fs::write(
        &config_path,
        config(&target.addr, &down, &rules, &node, &hook),
    )?;
    // Listed relative to the config file, as a user would.
    std::fs::copy(
        repo().join("host/web/testdata/grafana/node-exporter-full.json"),
        dir.path().join("node-exporter-full.json"),
    )?;
    let p = Pharos::start_with_config(&dir.path().join("data"), &config_path)?;

    check_serving(&p)?;
    // Enough samples for a line, the target's failure known, the alert firing.
    // Ten seconds of samples: lines across a good part of a 1m graph.
    eventually("ten scrapes of the demo target", || {
        Ok(api::scalar(&p.url, r#"count_over_time(up{job="demo"}[1m])"#)?.filter(|n| *n >= 10.0))
    })?;
    eventually("the node exporter scraped", || {
        api::scalar(&p.url, r#"count(node_uname_info{job="node"})"#)
    })?;
    eventually("notifications of the rule to silence", || {
        Ok(Some(team_notifications(&hook).len()).filter(|n| *n >= 2))
    })?;
    check_dashboards_api(&p)?;
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
    check_silenced(&report, &hook)?;
    check_dashboards_reload(&p, &config_path)?;
    if std::env::var_os("PHAROS_UPDATE_SCREENSHOTS").is_some_and(|v| v == "1") {
        let dest = repo().join("web/ui/screenshots");
        std::fs::create_dir_all(&dest)?;
        for name in [
            "query-graph.png",
            "targets.png",
            "alerts.png",
            "dashboard.png",
        ] {
            std::fs::copy(shots.join(name), dest.join(name))
                .with_context(|| format!("copying {name}"))?;
        }
    }
    p.stop()
}
