//! Rules through the real binary: a scraped target goes down, its alert
//! is pending and then firing after `for`, in `/api/v1/alerts`,
//! `/api/v1/rules` and `ALERTS`; after kill -9 the alert comes back with
//! its old `activeAt` and fires again without waiting `for` anew; a
//! broken rule file is refused on reload and the running rules stay; a
//! recording rule's series equals Prometheus 2.42's for the same file and
//! target; `pharos check rules` and `pharos test rules` answer as
//! promtool.

use std::path::Path;

use anyhow::{Context, Result, bail};
use pharos_tests::plugins::{LoggedPharos, pharos_cli};
use pharos_tests::process::{Process, free_port};
use pharos_tests::target::Target;
use pharos_tests::wait::eventually;
use serde_json::Value;

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| path.display().to_string())
}

/// The alerts of `/api/v1/alerts` named `name`.
fn alerts(p: &LoggedPharos, name: &str) -> Result<Vec<Value>> {
    let v = p.get_json("/api/v1/alerts")?;
    if v["status"] != "success" {
        bail!("/api/v1/alerts: {v}");
    }
    Ok(v["data"]["alerts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|a| a["labels"]["alertname"] == name)
        .collect())
}

fn state_of(p: &LoggedPharos, name: &str, state: &str) -> Result<Option<Value>> {
    Ok(alerts(p, name)?.into_iter().find(|a| a["state"] == state))
}

const RULES: &str = r#"groups:
- name: availability
  interval: 1s
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
  - alert: TargetDown
    expr: up{job="app"} == 0
    for: 6s
    labels:
      severity: page
    annotations:
      summary: "{{ $labels.instance }} of {{ $labels.job }} is down"
"#;

#[test]
fn target_down_pending_firing_and_restored_after_kill() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let target = Target::start("app_requests_total 1\n")?;
    write(&dir.path().join("alerts.yml"), RULES)?;
    let config = dir.path().join("pharos.toml");
    write(
        &config,
        &format!(
            "[global]\nscrape_interval = \"1s\"\nevaluation_interval = \"1s\"\n\n\
             [rules]\nfiles = [\"alerts.yml\"]\nfor_grace_period = \"2s\"\n\n\
             [[scrape]]\njob = \"app\"\ntargets = [\"{}\"]\n",
            target.addr
        ),
    )?;
    let data = dir.path().join("data");
    let p = LoggedPharos::start(&data, &config)?;
    eventually("the recording rule", || p.scalar("job:up:sum{job=\"app\"}"))?;
    assert!(alerts(&p, "TargetDown")?.is_empty());

    target.set_up(false);
    let pending = eventually("a pending alert", || state_of(&p, "TargetDown", "pending"))?;
    assert_eq!(pending["labels"]["severity"], "page");
    assert_eq!(pending["labels"]["instance"], target.addr.as_str());
    assert_eq!(
        pending["annotations"]["summary"],
        format!("{} of app is down", target.addr)
    );
    let firing = eventually("the alert firing", || state_of(&p, "TargetDown", "firing"))?;
    let active_at = firing["activeAt"].clone();
    assert_eq!(active_at, pending["activeAt"], "{firing}");
    let series = p.query("ALERTS{alertname=\"TargetDown\",alertstate=\"firing\"}")?;
    assert_eq!(series.len(), 1, "{series:?}");
    let rules = p.get_json("/api/v1/rules?type=alert")?;
    let rule = &rules["data"]["groups"][0]["rules"][0];
    assert_eq!(rule["state"], "firing", "{rules}");
    assert_eq!(rule["health"], "ok", "{rules}");
    assert_eq!(rule["duration"], 6, "{rules}");
    assert_eq!(
        rules["data"]["groups"][0]["rules"].as_array().map(Vec::len),
        Some(1)
    );

    // kill -9 while firing, then start again on the same data.
    drop(p);
    let p = LoggedPharos::start(&data, &config)?;
    let firing = eventually("the alert firing again", || {
        state_of(&p, "TargetDown", "firing")
    })?;
    // ALERTS_FOR_STATE keeps whole seconds, as Prometheus' does.
    let seconds = |v: &Value| v.as_str().map(|s| s.chars().take(19).collect::<String>());
    assert_eq!(
        seconds(&firing["activeAt"]),
        seconds(&active_at),
        "restored activeAt\n{}",
        p.logs()
    );

    // The target comes back: the alert resolves.
    target.set_up(true);
    eventually("the alert resolved", || {
        Ok(alerts(&p, "TargetDown")?.is_empty().then_some(()))
    })?;
    Ok(())
}

#[test]
fn a_broken_rule_file_is_refused_on_reload_and_the_rules_stay() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let rules = dir.path().join("alerts.yml");
    write(&rules, RULES)?;
    let config = dir.path().join("pharos.toml");
    write(
        &config,
        "[global]\nevaluation_interval = \"1s\"\n[rules]\nfiles = [\"*.yml\"]\n",
    )?;
    let p = LoggedPharos::start(&dir.path().join("data"), &config)?;
    write(
        &rules,
        "groups:\n- name: g\n  rules:\n  - record: x\n    expr: sum(\n",
    )?;
    let refused = p.reload()?.err().context("the reload was accepted")?;
    assert!(refused.contains("could not parse expression"), "{refused}");
    assert!(refused.contains("alerts.yml: 5:11:"), "{refused}");
    let v = p.get_json("/api/v1/rules")?;
    assert_eq!(v["data"]["groups"][0]["name"], "availability", "{v}");

    write(
        &rules,
        "groups:\n- name: other\n  rules:\n  - record: x:y\n    expr: vector(2)\n",
    )?;
    p.reload()?.map_err(anyhow::Error::msg)?;
    let v = p.get_json("/api/v1/rules")?;
    assert_eq!(v["data"]["groups"][0]["name"], "other", "{v}");
    assert_eq!(v["data"]["groups"].as_array().map(Vec::len), Some(1), "{v}");
    eventually("the new rule's series", || p.scalar("x:y"))?;
    Ok(())
}

#[test]
fn check_and_test_rules_commands() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let good = dir.path().join("good.yml");
    let bad = dir.path().join("bad.yml");
    write(&good, RULES)?;
    write(
        &bad,
        "groups:\n- name: g\n  rules:\n  - record: x\n    expr: sum(\n",
    )?;
    let out = pharos_cli(&["check", "rules", &good.to_string_lossy()])?;
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("  SUCCESS: 2 rules found"), "{stdout}");
    let out = pharos_cli(&["check", "rules", &bad.to_string_lossy()])?;
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("could not parse expression"), "{stderr}");

    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../host/rules/testdata/unittest");
    let out = pharos_cli(&[
        "test",
        "rules",
        &tests.join("pass.test.yml").to_string_lossy(),
    ])?;
    assert!(out.status.success(), "{out:?}");
    let out = pharos_cli(&[
        "test",
        "rules",
        &tests.join("fail_alert.test.yml").to_string_lossy(),
    ])?;
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    Ok(())
}

/// A recording rule over a scraped target gives the same series in Pharos
/// and in Prometheus 2.42 running the same rule file against the same
/// target.
#[test]
fn recording_rule_series_equal_prometheus() -> Result<()> {
    let prometheus = pharos_tests::references::require("prometheus")?;
    let dir = tempfile::tempdir()?;
    let target = Target::start(
        "# TYPE http_requests counter\nhttp_requests{code=\"200\",path=\"/a\"} 10\n\
         http_requests{code=\"500\",path=\"/a\"} 2\nhttp_requests{code=\"200\",path=\"/b\"} 7\n",
    )?;
    let rules = r#"groups:
- name: rec
  interval: 1s
  rules:
  - record: code:http_requests:sum
    expr: sum by (code) (http_requests) * 2
    labels:
      source: rule
  - record: http:error_ratio
    expr: sum(http_requests{code=~"5.."}) / sum(http_requests)
  - alert: Errors
    expr: http:error_ratio > 0.01
    labels:
      severity: ticket
    annotations:
      summary: "{{ $value | humanizePercentage }} of requests fail"
  # (Numbers print differently: 2.42 writes 1e9 as 1e+09, 3.x and Pharos
  # as 1000000000; this one prints alike.)
  - alert: NeverFires
    expr: http_requests > 5000
    for: 5m
"#;
    write(&dir.path().join("rec.yml"), rules)?;
    let config = dir.path().join("pharos.toml");
    write(
        &config,
        &format!(
            "[global]\nscrape_interval = \"1s\"\nevaluation_interval = \"1s\"\n[rules]\nfiles = [\"rec.yml\"]\n\
             [[scrape]]\njob = \"web\"\ntargets = [\"{}\"]\n",
            target.addr
        ),
    )?;
    let prom_config = dir.path().join("prometheus.yml");
    write(
        &prom_config,
        &format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [rec.yml]\n\
             scrape_configs:\n- job_name: web\n  static_configs: [{{targets: ['{}']}}]\n",
            target.addr
        ),
    )?;
    let p = LoggedPharos::start(&dir.path().join("data"), &config)?;
    let port = free_port()?;
    let prom_url = format!("http://127.0.0.1:{port}");
    let mut prom = Process::new(
        std::process::Command::new(prometheus)
            .arg(format!("--config.file={}", prom_config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("prom").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?,
    );
    prom.wait_ready(
        &reqwest::blocking::Client::new(),
        &format!("{prom_url}/-/ready"),
        std::time::Duration::from_secs(60),
    )?;
    for expr in ["code:http_requests:sum", "http:error_ratio"] {
        let sorted = |mut v: Vec<Value>| {
            v.sort_by_key(|s| s["metric"].to_string());
            v.into_iter()
                .map(|s| (s["metric"].clone(), s["value"][1].clone()))
                .collect::<Vec<_>>()
        };
        let ours = eventually(expr, || {
            let v = p.query(expr)?;
            Ok((!v.is_empty()).then_some(v))
        })?;
        let theirs = eventually(expr, || {
            let v = pharos_tests::api::query(&prom_url, expr)?;
            Ok((!v.is_empty()).then_some(v))
        })?;
        assert_eq!(sorted(ours), sorted(theirs), "{expr}");
    }
    // `/api/v1/rules` and `/api/v1/alerts` field by field, times aside.
    for path in ["/api/v1/rules", "/api/v1/alerts"] {
        let ours = eventually(path, || {
            let v = p.get_json(path)?;
            Ok(firing(&v).then_some(v))
        })?;
        let theirs = eventually(path, || {
            let v = pharos_tests::api::get_json(&prom_url, path)?;
            Ok(firing(&v).then_some(v))
        })?;
        let (ours, theirs) = (without_times(ours), without_times(theirs));
        assert_eq!(ours, theirs, "{path}");
    }
    prom.stop(std::time::Duration::from_secs(30))?;
    Ok(())
}

/// Whether an API answer shows a firing alert (both systems have
/// evaluated the rules a few times).
fn firing(v: &Value) -> bool {
    v.to_string().contains("\"state\":\"firing\"")
}

/// `v` without what differs between two runs: times, durations of
/// evaluations, and the file path.
fn without_times(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for k in ["lastEvaluation", "evaluationTime", "activeAt", "file"] {
                    m.remove(k);
                }
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

/// A real Alertmanager 0.25 receives Pharos' alerts as Prometheus sends
/// them: external labels added, `alert_relabel_configs` applied, a
/// generator URL back to the expression.
#[test]
fn an_external_alertmanager_receives_the_alerts() -> Result<()> {
    let am_bin = pharos_tests::references::require("prometheus-alertmanager")?;
    let dir = tempfile::tempdir()?;
    let am_config = dir.path().join("alertmanager.yml");
    write(
        &am_config,
        "route:\n  receiver: blackhole\nreceivers:\n- name: blackhole\n",
    )?;
    let am_port = free_port()?;
    let am_url = format!("http://127.0.0.1:{am_port}");
    let mut am = Process::new(
        std::process::Command::new(am_bin)
            .arg(format!("--config.file={}", am_config.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("am").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{am_port}"))
            .arg("--cluster.listen-address=")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?,
    );
    am.wait_ready(
        &reqwest::blocking::Client::new(),
        &format!("{am_url}/-/ready"),
        std::time::Duration::from_secs(60),
    )?;
    write(
        &dir.path().join("alerts.yml"),
        "groups:\n- name: g\n  interval: 1s\n  rules:\n  - alert: AlwaysOn\n    expr: vector(1)\n    labels:\n      severity: page\n      replica: a\n    annotations:\n      summary: always\n",
    )?;
    let config = dir.path().join("pharos.toml");
    write(
        &config,
        &format!(
            "[global]\nevaluation_interval = \"1s\"\nexternal_labels = {{ cluster = \"eu-1\" }}\n\
             [rules]\nfiles = [\"alerts.yml\"]\n\
             [alerting]\nalert_relabel_configs = [{{ regex = \"replica\", action = \"labeldrop\" }}]\n\
             [[alerting.alertmanagers]]\ntargets = [\"127.0.0.1:{am_port}\"]\n"
        ),
    )?;
    let p = LoggedPharos::start(&dir.path().join("data"), &config)?;
    let alert = eventually("the alert in Alertmanager", || {
        let v = pharos_tests::api::get_json(&am_url, "/api/v2/alerts")?;
        Ok(v.as_array().and_then(|a| {
            a.iter()
                .find(|a| a["labels"]["alertname"] == "AlwaysOn")
                .cloned()
        }))
    })?;
    assert_eq!(alert["labels"]["cluster"], "eu-1", "{alert}");
    assert_eq!(alert["labels"]["severity"], "page", "{alert}");
    assert!(alert["labels"].get("replica").is_none(), "{alert}");
    assert_eq!(alert["annotations"]["summary"], "always", "{alert}");
    assert_eq!(alert["status"]["state"], "active", "{alert}");
    let url = alert["generatorURL"].as_str().unwrap_or_default();
    // Prometheus' default external URL: the host name and the port.
    let port = p.url.rsplit(':').next().unwrap_or_default();
    assert!(
        url.starts_with("http://")
            && url.ends_with(&format!(":{port}/graph?g0.expr=vector%281%29&g0.tab=1")),
        "{url}"
    );
    let metrics = reqwest::blocking::get(format!("{}/metrics", p.url))?.text()?;
    assert!(
        metrics.contains(&format!(
            "prometheus_notifications_sent_total{{alertmanager=\"{am_url}/api/v2/alerts\"}}"
        )),
        "{metrics}"
    );
    am.stop(std::time::Duration::from_secs(30))?;
    Ok(())
}
