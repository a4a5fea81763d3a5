//! Plugins in the real binary, with real wasm and real HTTP:
//!
//! - a scrape job discovers its targets through the `http` plugin from an
//!   HTTP SD server in the test, scrapes them, and follows the server's
//!   answer when it changes;
//! - an `[[exporter]]` job runs the `json` plugin against a JSON document
//!   in the test: its series and `up` are queryable;
//! - chaos: the chaos fixture (installed with `pharos plugin install`)
//!   loops, eats memory, recurses, panics and calls a host it may not
//!   reach (not granted, 127.0.0.1, 169.254.169.254) in one running
//!   Pharos that also scrapes a normal target: each use shows its error in
//!   `/api/v1/plugins` and the log, Pharos keeps scraping and answering,
//!   and after a config fix and a reload every job works;
//! - end to end: `pharos plugin new`, `cargo build --target
//!   wasm32-wasip2` of the scaffold, `pharos plugin install`, a scrape
//!   job using it, reload, target scraped; then a new version installed
//!   and picked up by a reload without a restart.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use pharos_tests::plugins::{HttpServer, LoggedPharos, pharos_ok, template_target_dir};
use pharos_tests::wait::eventually;
use serde_json::Value;

const METRICS: &str = "text/plain; version=0.0.4";

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| path.display().to_string())
}

fn global() -> &'static str {
    "[global]\nscrape_interval = \"500ms\"\nscrape_timeout = \"400ms\"\n\n"
}

fn str_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

#[test]
fn http_discovery_feeds_the_scrape_targets() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let a = HttpServer::start()?;
    let b = HttpServer::start()?;
    a.set("/metrics", METRICS, "thing 1\n");
    b.set("/metrics", METRICS, "thing 2\n");
    let sd = HttpServer::start()?;
    let answer =
        |target: &str| format!(r#"[{{"targets": ["{target}"], "labels": {{"env": "test"}}}}]"#);
    sd.set("/sd", "application/json", &answer(&a.addr));
    let config = dir.path().join("pharos.toml");
    write(
        &config,
        &format!(
            r#"{}[[scrape]]
job = "sd"
discovery = [{{ plugin = "http", refresh_interval = "500ms", config = {{ url = "{}" }} }}]
relabel_configs = [{{ source_labels = ["__meta_url"], target_label = "sd_url" }}]

[plugins.http]
allow_http = ["http://{}"]
allow_private_ips = ["127.0.0.1"]
"#,
            global(),
            sd.url("/sd"),
            sd.addr
        ),
    )?;
    let p = LoggedPharos::start(&dir.path().join("data"), &config)?;

    let target = eventually("the discovered target is up", || {
        Ok(p.targets("sd")?.into_iter().find(|t| t["health"] == "up"))
    })?;
    assert_eq!(str_of(&target["labels"]["instance"]), a.addr);
    assert_eq!(str_of(&target["labels"]["env"]), "test");
    assert_eq!(str_of(&target["labels"]["sd_url"]), sd.url("/sd"));
    assert_eq!(str_of(&target["discoveredLabels"]["__address__"]), a.addr);
    let up = format!("up{{job=\"sd\",instance=\"{}\",env=\"test\"}}", a.addr);
    assert_eq!(eventually("up", || p.scalar(&up))?, 1.0);
    assert_eq!(eventually("thing", || p.scalar("thing{job=\"sd\"}"))?, 1.0);

    // The SD server's answer changes: the targets follow.
    sd.set("/sd", "application/json", &answer(&b.addr));
    eventually("the new target replaces the old one", || {
        let ts = p.targets("sd")?;
        let instances: Vec<String> = ts
            .iter()
            .map(|t| str_of(&t["labels"]["instance"]))
            .collect();
        Ok((instances == [b.addr.clone()]).then_some(()))
    })?;
    let up_b = format!("up{{job=\"sd\",instance=\"{}\"}}", b.addr);
    assert_eq!(eventually("up of b", || p.scalar(&up_b))?, 1.0);

    let http = p.plugin("http")?.context("http in /api/v1/plugins")?;
    assert_eq!(http["kind"], "discovery");
    assert_eq!(http["source"], "embedded");
    assert_eq!(http["loaded"], true);
    assert_eq!(http["health"], "up");
    assert_eq!(
        http["grants"]["allow_http"][0],
        format!("http://{}", sd.addr)
    );
    assert_eq!(http["uses"][0]["job"], "sd");
    assert_eq!(http["uses"][0]["key"], "scrape[0].discovery[0]");
    assert!(http["calls"].as_u64().unwrap_or(0) >= 2, "{http}");
    let metrics = reqwest::blocking::get(format!("{}/metrics", p.url))?.text()?;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("pharos_plugin_calls_total{plugin=\"http\"} ")),
        "{metrics}"
    );
    assert!(
        metrics.contains("pharos_plugin_call_errors_total{plugin=\"http\",kind=\"timeout\"} 0"),
        "{metrics}"
    );
    Ok(())
}

#[test]
fn a_json_exporter_job_is_ingested_like_a_scrape() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let app = HttpServer::start()?;
    app.set(
        "/stats",
        "application/json",
        r#"{"uptime": 42, "queues": [{"name": "mail", "depth": 3}, {"name": "jobs", "depth": 7}]}"#,
    );
    let config = dir.path().join("pharos.toml");
    write(
        &config,
        &format!(
            r#"{}[[exporter]]
job = "app"
plugin = "json"
interval = "500ms"
config = {{ url = "{}", metrics = [{{ name = "app_uptime_seconds", path = "uptime" }}, {{ name = "app_queue_depth", path = "queues.*", value = "depth", labels = {{ queue = "name" }} }}] }}

[plugins.json]
allow_http = ["http://{}"]
allow_private_ips = ["127.0.0.1"]
"#,
            global(),
            app.url("/stats"),
            app.addr
        ),
    )?;
    let p = LoggedPharos::start(&dir.path().join("data"), &config)?;
    assert_eq!(
        eventually("uptime", || p
            .scalar(r#"app_uptime_seconds{job="app",instance="json"}"#))?,
        42.0
    );
    assert_eq!(p.scalar(r#"app_queue_depth{queue="jobs"}"#)?, Some(7.0));
    assert_eq!(p.scalar(r#"app_queue_depth{queue="mail"}"#)?, Some(3.0));
    assert_eq!(p.scalar(r#"up{job="app",instance="json"}"#)?, Some(1.0));
    assert_eq!(p.scalar(r#"scrape_samples_scraped{job="app"}"#)?, Some(3.0));
    let json = p.plugin("json")?.context("json plugin")?;
    assert_eq!(json["kind"], "exporter");
    assert_eq!(json["uses"][0]["job"], "app");
    assert_eq!(json["uses"][0]["kind"], "exporter");
    assert_eq!(json["uses"][0]["health"], "up");
    Ok(())
}

/// A chaos job: a scrape job whose only targets come from the chaos
/// fixture in `mode` (with `url` for the HTTP modes).
fn chaos_job(job: &str, mode: &str, url: &str) -> String {
    format!(
        "[[scrape]]\njob = \"{job}\"\ndiscovery = [{{ plugin = \"chaos\", refresh_interval = \"500ms\", config = {{ mode = \"{mode}\", url = \"{url}\" }} }}]\n\n"
    )
}

#[test]
fn misbehaving_plugins_fail_alone_and_recover() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let chaos = pharos_plugin_host::components::built_component_path("fixture-chaos")
        .context("the chaos fixture was not built")?;
    let out = pharos_ok(&[
        "plugin",
        "install",
        &chaos.display().to_string(),
        "--data",
        &data.display().to_string(),
    ])?;
    assert!(
        out.starts_with("installed plugin chaos 0.1.0 (discovery, sha256 "),
        "{out}"
    );

    let normal = HttpServer::start()?;
    normal.set("/metrics", METRICS, "normal_metric 5\n");
    // The HTTP modes read one target per line.
    normal.set("/targets", "text/plain", &normal.addr);
    let local = normal.url("/targets");
    let cases: [(&str, &str, &str, &str); 7] = [
        ("loop", "loop", "", "timed out: CPU budget of 200ms used up"),
        (
            "alloc",
            "alloc",
            "",
            "exceeded its memory limit of 33554432 bytes",
        ),
        ("recurse", "recurse", "", "overflowed its stack"),
        ("panic", "panic", "", "panicked: "),
        (
            "forbidden",
            "http",
            "http://forbidden.example.org/targets",
            "http://forbidden.example.org:80 is not granted; add \"http://forbidden.example.org:80\" to the plugin's allow_http",
        ),
        (
            "loopback",
            "http",
            &local,
            "it resolves to 127.0.0.1, a loopback address; add \"127.0.0.1\" to the plugin's allow_private_ips",
        ),
        (
            "metadata",
            "http",
            "http://169.254.169.254/latest/meta-data/",
            "it resolves to 169.254.169.254, a link-local address; add \"169.254.169.254\" to the plugin's allow_private_ips",
        ),
    ];
    let limits = "memory_limit = \"32MiB\"\ncpu_budget = \"200ms\"\ntimeout = \"3s\"\n";
    let mut bad = format!(
        "{}[[scrape]]\njob = \"normal\"\ntargets = [\"{}\"]\n\n",
        global(),
        normal.addr
    );
    for (job, mode, url, _) in &cases {
        bad.push_str(&chaos_job(job, mode, url));
    }
    // The exporter side: a json job whose server is on loopback, not granted.
    bad.push_str(&format!(
        "[[exporter]]\njob = \"denied_exporter\"\nplugin = \"json\"\ninterval = \"500ms\"\nconfig = {{ url = \"{}\", metrics = [{{ name = \"x\", path = \"a\" }}] }}\n\n",
        normal.url("/doc")
    ));
    bad.push_str(&format!(
        "[plugins.chaos]\nallow_http = [\"http://{}\", \"http://169.254.169.254\"]\n{limits}\n",
        normal.addr
    ));
    let config = dir.path().join("pharos.toml");
    write(&config, &bad)?;
    let p = LoggedPharos::start(&data, &config)?;

    for (job, _, _, expected) in &cases {
        let u = eventually(&format!("the error of job {job}"), || {
            Ok(p.plugin_use("chaos", job)?
                .filter(|u| u["health"] == "down"))
        })?;
        let err = str_of(&u["lastError"]);
        assert!(err.starts_with("plugin chaos"), "{job}: {err}");
        assert!(err.contains(expected), "{job}: {err}");
        assert!(p.logs().contains(expected), "{job}: not in the log");
    }
    let panic = str_of(&p.plugin_use("chaos", "panic")?.context("panic use")?["lastError"]);
    assert!(panic.contains("chaos plugin asked to panic"), "{panic}");
    let exporter = eventually("the exporter's error", || {
        Ok(p.plugin_use("json", "denied_exporter")?
            .filter(|u| u["health"] == "down"))
    })?;
    assert!(
        str_of(&exporter["lastError"]).contains("is not granted; add"),
        "{exporter}"
    );
    assert_eq!(
        eventually("up of the denied exporter", || p
            .scalar(r#"up{job="denied_exporter"}"#))?,
        0.0
    );
    let chaos_status = p.plugin("chaos")?.context("chaos")?;
    assert_eq!(chaos_status["health"], "down");
    assert_eq!(chaos_status["source"], "installed");
    assert!(
        chaos_status["errors"]["timeout"].as_u64().unwrap_or(0) >= 1,
        "{chaos_status}"
    );
    assert!(chaos_status["errors"]["memory_limit"].as_u64().unwrap_or(0) >= 1);
    assert!(
        chaos_status["errors"]["stack_overflow"]
            .as_u64()
            .unwrap_or(0)
            >= 1
    );
    assert!(chaos_status["errors"]["panic"].as_u64().unwrap_or(0) >= 1);
    assert!(chaos_status["errors"]["denied"].as_u64().unwrap_or(0) >= 3);

    // Pharos kept scraping and answering throughout.
    let count = r#"count_over_time(up{job="normal"}[1h])"#;
    let before = eventually("scrapes of the normal target", || p.scalar(count))?;
    assert_eq!(p.scalar(r#"up{job="normal"}"#)?, Some(1.0));
    eventually("more scrapes of the normal target", || {
        Ok(p.scalar(count)?.filter(|n| *n > before))
    })?;

    // Fixed: every chaos job now reads its targets from the normal server,
    // with the grants that allows; the exporter is granted its server.
    let mut fixed = format!(
        "{}[[scrape]]\njob = \"normal\"\ntargets = [\"{}\"]\n\n",
        global(),
        normal.addr
    );
    for (job, _, _, _) in &cases {
        fixed.push_str(&chaos_job(job, "http", &local));
    }
    normal.set("/doc", "application/json", r#"{"a": 9}"#);
    fixed.push_str(&format!(
        "[[exporter]]\njob = \"denied_exporter\"\nplugin = \"json\"\ninterval = \"500ms\"\nconfig = {{ url = \"{}\", metrics = [{{ name = \"x\", path = \"a\" }}] }}\n\n",
        normal.url("/doc")
    ));
    fixed.push_str(&format!(
        "[plugins.chaos]\nallow_http = [\"http://{a}\"]\nallow_private_ips = [\"127.0.0.1\"]\n{limits}\n[plugins.json]\nallow_http = [\"http://{a}\"]\nallow_private_ips = [\"127.0.0.1\"]\n",
        a = normal.addr
    ));
    write(&config, &fixed)?;
    if let Err(e) = p.reload()? {
        bail!("reload refused: {e}");
    }
    for (job, _, _, _) in &cases {
        let up = format!("up{{job=\"{job}\",instance=\"{}\"}}", normal.addr);
        assert_eq!(
            eventually(&format!("job {job} scraping"), || p.scalar(&up))?,
            1.0,
            "{job}"
        );
        let u = p.plugin_use("chaos", job)?.context("use")?;
        assert_eq!(u["health"], "up", "{job}: {u}");
        assert_eq!(u["lastError"], "", "{job}: {u}");
    }
    assert_eq!(
        eventually("the exporter's value", || p
            .scalar(r#"x{job="denied_exporter"}"#))?,
        9.0
    );
    assert_eq!(p.scalar(r#"up{job="denied_exporter"}"#)?, Some(1.0));
    Ok(())
}

fn repo() -> Result<PathBuf> {
    Ok(Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()?)
}

#[test]
fn a_scaffolded_plugin_is_built_installed_and_scrapes() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let data_arg = data.display().to_string();
    let crate_dir = dir.path().join("my-sd");
    let out = pharos_ok(&[
        "plugin",
        "new",
        "my-sd",
        "--kind",
        "discovery",
        "--dir",
        &crate_dir.display().to_string(),
    ])?;
    assert!(
        out.starts_with(&format!(
            "created discovery plugin my-sd in {}:",
            crate_dir.display()
        )),
        "{out}"
    );
    let cargo_toml = std::fs::read_to_string(crate_dir.join("Cargo.toml"))?;
    let sdk = repo()?.join("sdk");
    assert!(
        cargo_toml.contains(&format!("pharos-sdk = {{ path = \"{}\" }}", sdk.display())),
        "{cargo_toml}"
    );
    let lock = repo()?.join("plugins/Cargo.lock");
    let wasm = pharos_plugin_host::template::cargo_build(
        &crate_dir,
        &template_target_dir()?,
        Some(&lock),
    )?;

    let target = HttpServer::start()?;
    target.set("/metrics", METRICS, "mine 1\n");
    let config = dir.path().join("pharos.toml");
    write(&config, global())?;
    let p = LoggedPharos::start(&data, &config)?;

    let out = pharos_ok(&[
        "plugin",
        "install",
        &wasm.display().to_string(),
        "--data",
        &data_arg,
    ])?;
    assert!(
        out.starts_with("installed plugin my-sd 0.1.0 (discovery, sha256 "),
        "{out}"
    );
    let list = pharos_ok(&["plugin", "list", "--data", &data_arg])?;
    let row = list
        .lines()
        .find(|l| l.starts_with("my-sd "))
        .context("my-sd in the list")?;
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cols[..3], ["my-sd", "discovery", "0.1.0"], "{list}");
    assert!(
        list.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()[..4]
                == ["http", "discovery", "0.1.0", "built-in"]),
        "{list}"
    );

    write(
        &config,
        &format!(
            "{}[[scrape]]\njob = \"mine\"\ndiscovery = [{{ plugin = \"my-sd\", refresh_interval = \"500ms\", config = {{ targets = [\"{}\"] }} }}]\nrelabel_configs = [{{ source_labels = [\"__meta_my_sd_index\"], target_label = \"index\" }}]\n",
            global(),
            target.addr
        ),
    )?;
    if let Err(e) = p.reload()? {
        bail!("reload refused: {e}");
    }
    let up = format!(
        "up{{job=\"mine\",instance=\"{}\",index=\"0\"}}",
        target.addr
    );
    assert_eq!(
        eventually("the scaffolded plugin's target", || p.scalar(&up))?,
        1.0
    );
    assert_eq!(p.scalar(r#"mine{job="mine"}"#)?, Some(1.0));
    let status = p.plugin("my-sd")?.context("my-sd")?;
    assert_eq!(status["version"], "0.1.0");
    assert_eq!(status["source"], "installed");

    // A new version: installed and picked up by a reload, no restart.
    let toml = std::fs::read_to_string(crate_dir.join("Cargo.toml"))?
        .replace("version = \"0.1.0\"", "version = \"0.2.0\"");
    write(&crate_dir.join("Cargo.toml"), &toml)?;
    let wasm =
        pharos_plugin_host::template::cargo_build(&crate_dir, &template_target_dir()?, None)?;
    let out = pharos_ok(&[
        "plugin",
        "install",
        &wasm.display().to_string(),
        "--data",
        &data_arg,
    ])?;
    assert!(
        out.starts_with("replaced plugin my-sd 0.1.0 with 0.2.0 (discovery, sha256 "),
        "{out}"
    );
    if let Err(e) = p.reload()? {
        bail!("reload refused: {e}");
    }
    let v = eventually("version 0.2.0 in use", || {
        Ok(p.plugin("my-sd")?.filter(|s| s["version"] == "0.2.0"))
    })?;
    assert_eq!(v["loaded"], true);
    assert_eq!(p.scalar(&up)?, Some(1.0));

    // A reload refuses a config naming a plugin that is not there, and
    // the running one stays.
    let good = std::fs::read_to_string(&config)?;
    write(&config, &good.replace("\"my-sd\"", "\"their-sd\""))?;
    let refused = p
        .reload()?
        .err()
        .context("a reload naming an unknown plugin")?;
    assert!(
        refused
            .contains(r#"scrape[0].discovery[0].plugin (job "mine"): no plugin named "their-sd""#),
        "{refused}"
    );
    assert_eq!(p.plugin("my-sd")?.context("my-sd")?["version"], "0.2.0");
    Ok(())
}
