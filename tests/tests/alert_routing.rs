//! Pharos' own Alertmanager through the real binary: a scraped target
//! goes down, its rule fires, and the `webhook` plugin (built from
//! `plugins/`) posts one notification with Alertmanager's payload to a
//! recorder after `for` + `group_wait`; the target comes back and the
//! resolution arrives. A receiver that answers 503 gets the notification
//! once it recovers, also across a kill -9 between firing and delivery.
//! An inhibition rule mutes the alerts it targets, and a silence made
//! with Alertmanager's own `amtool` mutes its alert until it is expired.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use pharos_tests::plugins::{LoggedPharos, pharos_ok, template_target_dir};
use pharos_tests::recorder::{Recorder, Request};
use pharos_tests::references::require;
use pharos_tests::target::Target;
use pharos_tests::wait::eventually;
use serde_json::Value;

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| path.display().to_string())
}

const RULES: &str = r#"groups:
- name: availability
  interval: 1s
  rules:
  - alert: TargetDown
    expr: up{job="app"} == 0
    for: 2s
    labels:
      severity: critical
    annotations:
      summary: "{{ $labels.instance }} of {{ $labels.job }} is down"
  - alert: TargetDownWarning
    expr: up{job="app"} == 0
    for: 4s
    labels:
      severity: warning
"#;

/// A config: the target, the rules, one webhook receiver at `hook`, and
/// the warning inhibited by the critical alert.
fn config(dir: &Path, target: &Target, hook: &Recorder) -> Result<std::path::PathBuf> {
    write(&dir.join("alerts.yml"), RULES)?;
    let path = dir.join("pharos.toml");
    write(
        &path,
        &format!(
            r#"[global]
scrape_interval = "1s"
evaluation_interval = "1s"
external_labels = {{ cluster = "eu1" }}

[rules]
files = ["alerts.yml"]

[[scrape]]
job = "app"
targets = ["{target}"]

[plugins.webhook]
allow_http = ["http://{hook}"]
allow_private_ips = ["127.0.0.1"]

[alerting.route]
receiver = "team"
group_by = ["alertname", "cluster"]
group_wait = "1s"
group_interval = "1s"
repeat_interval = "1h"

[[alerting.receivers]]
name = "team"
notifiers = [{{ plugin = "webhook", config = {{ url = "{url}" }} }}]

[[alerting.inhibit_rules]]
source_matchers = ['severity="critical"']
target_matchers = ['severity="warning"']
equal = ["instance"]
"#,
            target = target.addr,
            hook = hook.addr,
            url = hook.url("/hook"),
        ),
    )?;
    Ok(path)
}

/// The webhook bodies received so far for `alertname`.
fn bodies(hook: &Recorder, alertname: &str) -> Vec<Value> {
    hook.requests()
        .iter()
        .map(Request::json)
        .filter(|b| b["groupLabels"]["alertname"] == alertname)
        .collect()
}

fn with_status(hook: &Recorder, alertname: &str, status: &str) -> Option<Value> {
    bodies(hook, alertname)
        .into_iter()
        .find(|b| b["status"] == status)
}

#[test]
fn a_target_down_pages_once_then_resolves_and_inhibits_the_warning() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let target = Target::start("app_requests_total 1\n")?;
    let hook = Recorder::start("200 OK", "")?;
    let config = config(dir.path(), &target, &hook)?;
    let p = LoggedPharos::start(&dir.path().join("data"), &config)?;
    eventually("the target up", || {
        Ok(p.scalar("up{job=\"app\"}")?.filter(|v| *v == 1.0))
    })?;

    target.set_up(false);
    let firing = eventually("the firing notification", || {
        Ok(with_status(&hook, "TargetDown", "firing"))
    })
    .with_context(|| p.logs())?;
    assert_eq!(firing["version"], "4");
    assert_eq!(firing["receiver"], "team");
    assert_eq!(
        firing["groupKey"],
        "{}:{alertname=\"TargetDown\", cluster=\"eu1\"}"
    );
    let alert = &firing["alerts"][0];
    assert_eq!(firing["alerts"].as_array().map(Vec::len), Some(1));
    assert_eq!(alert["labels"]["severity"], "critical");
    assert_eq!(
        alert["labels"]["cluster"], "eu1",
        "external labels: {alert}"
    );
    assert_eq!(alert["labels"]["instance"], target.addr.as_str());
    assert_eq!(
        alert["annotations"]["summary"],
        format!("{} of app is down", target.addr)
    );
    assert_eq!(alert["endsAt"], "0001-01-01T00:00:00Z");
    assert_eq!(alert["fingerprint"].as_str().map(str::len), Some(16));
    assert!(
        alert["generatorURL"]
            .as_str()
            .is_some_and(|u| u.contains("/graph?g0.expr=")),
        "{alert}"
    );

    // Several evaluations later: still exactly one firing notification
    // (group_interval passes, nothing changed, repeat_interval is 1h).
    std::thread::sleep(Duration::from_secs(3));
    let n = bodies(&hook, "TargetDown")
        .iter()
        .filter(|b| b["status"] == "firing")
        .count();
    assert_eq!(n, 1, "{:?}", bodies(&hook, "TargetDown"));
    // The warning fires too, after the critical alert, which inhibits it.
    assert!(
        bodies(&hook, "TargetDownWarning").is_empty(),
        "inhibited: {:?}",
        bodies(&hook, "TargetDownWarning")
    );

    target.set_up(true);
    let resolved = eventually("the resolved notification", || {
        Ok(with_status(&hook, "TargetDown", "resolved"))
    })
    .with_context(|| p.logs())?;
    assert_eq!(resolved["alerts"][0]["status"], "resolved");
    assert_ne!(resolved["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
    let metrics = p.get_text("/metrics")?;
    assert!(
        metrics.contains("alertmanager_notifications_total{integration=\"webhook\"}"),
        "{metrics}"
    );
    Ok(())
}

/// `amtool --alertmanager.url=<pharos> ARGS…`: its stdout, or an error
/// with what it printed.
fn amtool(p: &LoggedPharos, args: &[&str]) -> Result<String> {
    let out = std::process::Command::new(require("amtool")?)
        .arg(format!("--alertmanager.url={}", p.url))
        .args(args)
        .output()
        .context("running amtool")?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    anyhow::ensure!(
        out.status.success(),
        "amtool {args:?}: {}{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(stdout)
}

#[test]
fn a_silence_made_with_amtool_mutes_its_alert_until_expired() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let target = Target::start("app_requests_total 1\n")?;
    let hook = Recorder::start("200 OK", "")?;
    let config = config(dir.path(), &target, &hook)?;
    // Two alerts on the same condition: one to silence, one that shows
    // the routing delivered meanwhile.
    write(
        &dir.path().join("alerts.yml"),
        "groups:\n- name: availability\n  interval: 1s\n  rules:\n  \
         - alert: TargetDown\n    expr: up{job=\"app\"} == 0\n    labels:\n      severity: critical\n  \
         - alert: TargetDownTicket\n    expr: up{job=\"app\"} == 0\n    labels:\n      severity: ticket\n",
    )?;
    let p = LoggedPharos::start(&dir.path().join("data"), &config)?;
    eventually("the target up", || {
        Ok(p.scalar("up{job=\"app\"}")?.filter(|v| *v == 1.0))
    })?;

    let id = amtool(
        &p,
        &[
            "silence",
            "add",
            "alertname=TargetDown",
            "--author=oncall",
            "--comment=planned maintenance",
            "--duration=1h",
        ],
    )?
    .trim()
    .to_owned();
    assert_eq!(id.len(), 36, "a silence id: {id:?}");
    let listed = amtool(&p, &["silence", "query", "-q"])?;
    assert_eq!(listed.trim(), id);

    target.set_up(false);
    eventually("the unsilenced alert's notification", || {
        Ok(with_status(&hook, "TargetDownTicket", "firing"))
    })
    .with_context(|| p.logs())?;
    // The silenced alert is active in the router, suppressed by the silence.
    let alerts = p.get_json("/api/v2/alerts?filter=alertname%3D%22TargetDown%22")?;
    assert_eq!(alerts[0]["status"]["state"], "suppressed", "{alerts}");
    assert_eq!(
        alerts[0]["status"]["silencedBy"][0],
        id.as_str(),
        "{alerts}"
    );
    // Past its group_wait and several group_intervals: still nothing.
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        bodies(&hook, "TargetDown").is_empty(),
        "silenced: {:?}",
        bodies(&hook, "TargetDown")
    );
    let metrics = p.get_text("/metrics")?;
    assert!(
        metrics.contains("alertmanager_silences{state=\"active\"} 1"),
        "{metrics}"
    );

    amtool(&p, &["silence", "expire", &id])?;
    let firing = eventually("the notification once the silence expired", || {
        Ok(with_status(&hook, "TargetDown", "firing"))
    })
    .with_context(|| p.logs())?;
    assert_eq!(firing["alerts"][0]["labels"]["severity"], "critical");
    assert_eq!(bodies(&hook, "TargetDown").len(), 1);
    Ok(())
}

#[test]
fn a_notification_waits_for_a_failing_receiver_across_a_kill() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let target = Target::start("app_requests_total 1\n")?;
    let hook = Recorder::start("503 Service Unavailable", "down")?;
    let config = config(dir.path(), &target, &hook)?;
    let data = dir.path().join("data");
    let p = LoggedPharos::start(&data, &config)?;
    eventually("the target up", || {
        Ok(p.scalar("up{job=\"app\"}")?.filter(|v| *v == 1.0))
    })?;
    target.set_up(false);
    eventually("a failed attempt", || {
        Ok(with_status(&hook, "TargetDown", "firing"))
    })
    .with_context(|| p.logs())?;
    // kill -9 while the delivery is pending, with the target back up so
    // the rules alone would not fire again after the restart.
    target.set_up(true);
    drop(p);
    hook.take();
    hook.set_reply("200 OK", "");
    let p = LoggedPharos::start(&data, &config)?;
    let firing = eventually("the notification after the restart", || {
        Ok(with_status(&hook, "TargetDown", "firing"))
    })
    .with_context(|| p.logs())?;
    assert_eq!(firing["alerts"][0]["labels"]["severity"], "critical");
    Ok(())
}

#[test]
fn a_notifier_written_from_the_template_receives_a_notification() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let crate_dir = dir.path().join("my-pager");
    pharos_ok(&[
        "plugin",
        "new",
        "my-pager",
        "--kind",
        "notifier",
        "--dir",
        &crate_dir.display().to_string(),
    ])?;
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/Cargo.lock");
    let wasm = pharos_plugin_host::template::cargo_build(
        &crate_dir,
        &template_target_dir()?,
        Some(&lock),
    )?;
    let out = pharos_ok(&[
        "plugin",
        "install",
        &wasm.display().to_string(),
        "--data",
        &data.display().to_string(),
    ])?;
    assert!(
        out.starts_with("installed plugin my-pager 0.1.0 (notifier"),
        "{out}"
    );

    let hook = Recorder::start("200 OK", "")?;
    write(
        &dir.path().join("always.yml"),
        "groups:\n- name: g\n  interval: 1s\n  rules:\n  - alert: Always\n    expr: vector(1)\n",
    )?;
    let config = dir.path().join("pharos.toml");
    write(
        &config,
        &format!(
            r#"[global]
evaluation_interval = "1s"

[rules]
files = ["always.yml"]

[plugins.my-pager]
allow_http = ["http://{addr}"]
allow_private_ips = ["127.0.0.1"]

[alerting.route]
receiver = "pager"
group_wait = "1s"

[[alerting.receivers]]
name = "pager"
notifiers = [{{ plugin = "my-pager", config = {{ url = "{url}" }} }}]
"#,
            addr = hook.addr,
            url = hook.url("/page"),
        ),
    )?;
    let p = LoggedPharos::start(&data, &config)?;
    let got = eventually("the scaffolded notifier's request", || {
        Ok(hook.requests().into_iter().next())
    })
    .with_context(|| p.logs())?;
    assert_eq!(got.path, "/page");
    let body = got.json();
    assert_eq!(body["receiver"], "pager", "{body}");
    assert_eq!(body["groupKey"], "{}:{}", "{body}");
    assert_eq!(body["alerts"], 1, "{body}");
    Ok(())
}

#[test]
fn alert_test_sends_the_sample_through_the_real_plugin() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let target = Target::start("x 1\n")?;
    let hook = Recorder::start("200 OK", "")?;
    let config = config(dir.path(), &target, &hook)?;
    let mut text = std::fs::read_to_string(&config)?;
    text.push_str(&format!(
        "\n[storage]\npath = \"{}\"\n",
        dir.path().join("data").display()
    ));
    write(&config, &text)?;
    let config_arg = config.display().to_string();
    let out = pharos_ok(&[
        "alert",
        "test",
        "--config",
        &config_arg,
        "--receiver",
        "team",
    ])?;
    assert_eq!(out, "team notifiers[0] (webhook): delivered\n");
    let got = hook.requests();
    assert_eq!(got.len(), 1);
    let body = got[0].json();
    assert_eq!(body["receiver"], "team");
    assert_eq!(
        body["groupLabels"]["alertname"], "HighRequestLatency",
        "{body}"
    );
    assert_eq!(body["alerts"].as_array().map(Vec::len), Some(3), "{body}");

    hook.set_reply("500 Internal Server Error", "no");
    let out = pharos_tests::plugins::pharos_cli(&[
        "alert",
        "test",
        "--config",
        &config_arg,
        "--receiver",
        "team",
    ])?;
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("team notifiers[0] (webhook): transient error: "),
        "{stdout}"
    );
    Ok(())
}
