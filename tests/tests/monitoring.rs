//! Pharos' own monitoring (`monitoring/`): the alert rules load with
//! `pharos check rules` (and promtool, when it can be installed), a real
//! Pharos loads and evaluates every one of them without error, and every
//! metric name the rules and the Grafana dashboard's queries select exists
//! on that Pharos' `/metrics`. Names are taken from the parsed PromQL
//! (`pharos_promql`), not from the text, so a typo, a missing `_total` or
//! a metric renamed in the code fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use pharos_model::MatchOp;
use pharos_promql::Expr;
use pharos_tests::plugins::{HttpServer, LoggedPharos, pharos_cli};
use pharos_tests::references;
use pharos_tests::target::Target;
use pharos_tests::wait::eventually;
use serde_json::Value;

fn monitoring() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../monitoring")
}

fn rules_file() -> PathBuf {
    monitoring().join("alerts.yml")
}

fn dashboard_file() -> PathBuf {
    monitoring().join("dashboards/pharos.json")
}

/// Adds the metric name of every selector in `e` to `out`; a selector
/// without a fixed name is an error (the check could not cover it).
fn metric_names(e: &Expr, out: &mut BTreeSet<String>) -> Result<()> {
    match e {
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => Ok(()),
        Expr::VectorSelector(vs) => selector_name(vs, out),
        Expr::MatrixSelector(ms) => selector_name(&ms.vs, out),
        Expr::Subquery(s) => metric_names(&s.expr, out),
        Expr::Unary(u) => metric_names(&u.expr, out),
        Expr::Paren(p) => metric_names(&p.expr, out),
        Expr::Binary(b) => {
            metric_names(&b.lhs, out)?;
            metric_names(&b.rhs, out)
        }
        Expr::Aggregate(a) => {
            if let Some(p) = &a.param {
                metric_names(p, out)?;
            }
            metric_names(&a.expr, out)
        }
        Expr::Call(c) => c.args.iter().try_for_each(|a| metric_names(a, out)),
    }
}

fn selector_name(vs: &pharos_promql::VectorSelector, out: &mut BTreeSet<String>) -> Result<()> {
    let name = vs.name.clone().or_else(|| {
        vs.matchers
            .iter()
            .find(|m| m.name == "__name__" && m.op == MatchOp::Equal)
            .map(|m| m.value.clone())
    });
    match name {
        Some(n) => {
            out.insert(n);
            Ok(())
        }
        None => bail!("a selector without a metric name: {vs:?}"),
    }
}

/// The rules' metric names, per alert.
fn rule_metric_names() -> Result<BTreeMap<String, BTreeSet<String>>> {
    let file = pharos_rules::rulefmt::load_file(&rules_file())
        .map_err(|errs| anyhow::anyhow!("{errs:?}"))
        .context("loading monitoring/alerts.yml")?;
    let mut names = BTreeMap::new();
    for group in &file.groups {
        for rule in &group.rules {
            let mut used = BTreeSet::new();
            metric_names(&rule.expr, &mut used).with_context(|| rule.name().to_owned())?;
            ensure!(!used.is_empty(), "{} selects no metric", rule.name());
            names.insert(rule.name().to_owned(), used);
        }
    }
    Ok(names)
}

/// Grafana's variables replaced by values PromQL parses, as Grafana
/// interpolates them before sending a query.
fn interpolate(expr: &str) -> String {
    expr.replace("$__rate_interval", "1m")
        .replace("$__interval", "1m")
        .replace("$__range", "1h")
        .replace("$job", "pharos")
        .replace("$instance", ".+")
}

/// Every query of the dashboard: panel targets (rows included) and
/// `label_values(<selector>, <label>)` variables (as their selector).
fn dashboard_queries(dashboard: &Value) -> Result<Vec<(String, String)>> {
    let mut queries = Vec::new();
    fn panels(list: &Value, queries: &mut Vec<(String, String)>) {
        for p in list.as_array().into_iter().flatten() {
            let title = p["title"].as_str().unwrap_or_default();
            for t in p["targets"].as_array().into_iter().flatten() {
                if let Some(e) = t["expr"].as_str() {
                    queries.push((title.to_owned(), e.to_owned()));
                }
            }
            panels(&p["panels"], queries);
        }
    }
    panels(&dashboard["panels"], &mut queries);
    for v in dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if v["type"] != "query" {
            continue;
        }
        let q = v["query"]["query"]
            .as_str()
            .or_else(|| v["query"].as_str())
            .with_context(|| format!("variable {} has no query", v["name"]))?;
        let inner = q
            .strip_prefix("label_values(")
            .and_then(|r| r.rsplit_once(','))
            .map(|(selector, _label)| selector.trim())
            .with_context(|| format!("variable {}: not label_values(…): {q}", v["name"]))?;
        queries.push((format!("variable {}", v["name"]), inner.to_owned()));
    }
    Ok(queries)
}

fn dashboard_metric_names() -> Result<BTreeMap<String, BTreeSet<String>>> {
    let text = std::fs::read_to_string(dashboard_file())?;
    let dashboard: Value = serde_json::from_str(&text).context("dashboard JSON")?;
    ensure!(dashboard["uid"] == "pharos-overview", "dashboard uid");
    let queries = dashboard_queries(&dashboard)?;
    ensure!(queries.len() > 30, "only {} queries found", queries.len());
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (title, expr) in queries {
        let parsed = pharos_promql::parse(&interpolate(&expr))
            .map_err(|e| anyhow::anyhow!("{title}: {expr}: {e}"))?;
        let mut used = BTreeSet::new();
        metric_names(&parsed, &mut used).with_context(|| title.clone())?;
        names.entry(title).or_default().extend(used);
    }
    Ok(names)
}

/// The sample names `/metrics` exposes: the samples it has now, and what
/// its `# TYPE` lines declare (a counter family `f` is sampled as
/// `f_total`, a histogram as `f_bucket`, `f_sum`, `f_count`), so a
/// labelled family with no member yet (no failure of that kind so far)
/// still counts.
fn exposed_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split_whitespace();
            let (Some(family), Some(kind)) = (parts.next(), parts.next()) else {
                continue;
            };
            match kind {
                "counter" => {
                    names.insert(format!("{family}_total"));
                }
                "histogram" | "gaugehistogram" => {
                    for suffix in ["_bucket", "_sum", "_count"] {
                        names.insert(format!("{family}{suffix}"));
                    }
                }
                "summary" => {
                    for suffix in ["", "_sum", "_count"] {
                        names.insert(format!("{family}{suffix}"));
                    }
                }
                _ => {
                    names.insert(family.to_owned());
                }
            }
        } else if !line.starts_with('#') {
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            if end > 0 {
                names.insert(line[..end].to_owned());
            }
        }
    }
    names
}

#[test]
fn rule_file_passes_pharos_check_rules() -> Result<()> {
    let file = rules_file();
    let out = pharos_cli(&["check", "rules", &file.to_string_lossy()])?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    ensure!(
        out.status.success(),
        "pharos check rules failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let alerts = rule_metric_names()?.len();
    ensure!(
        stdout.contains(&format!("SUCCESS: {alerts} rules found")),
        "{stdout}"
    );
    Ok(())
}

#[test]
fn rule_file_passes_promtool_check_rules() -> Result<()> {
    let promtool = references::require("promtool")?;
    let out = std::process::Command::new(promtool)
        .args(["check", "rules"])
        .arg(rules_file())
        .output()?;
    ensure!(
        out.status.success(),
        "promtool check rules failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

#[test]
fn every_metric_of_rules_and_dashboard_is_exposed() -> Result<()> {
    let rules = rule_metric_names()?;
    let dashboard = dashboard_metric_names()?;
    ensure!(rules.len() >= 10, "only {} rules", rules.len());

    // A Pharos with every part the rules and the dashboard watch: a scrape
    // job, an exporter plugin, rules (the rule file itself), an
    // Alertmanager and a remote-write queue (both a small HTTP server that
    // answers 200).
    let dir = tempfile::tempdir()?;
    let target = Target::start("app_up 1\n")?;
    let peer = HttpServer::start()?;
    peer.set("/api/v1/write", "text/plain", "");
    peer.set("/api/v2/alerts", "application/json", "");
    peer.set("/stats", "application/json", r#"{"depth": 3}"#);
    let config = dir.path().join("pharos.toml");
    let rules_path = rules_file().canonicalize()?;
    std::fs::write(
        &config,
        format!(
            r#"[global]
scrape_interval = "500ms"
scrape_timeout = "400ms"
evaluation_interval = "500ms"

[[scrape]]
job = "app"
targets = ["{target}"]

[[exporter]]
job = "stats"
plugin = "json"
interval = "500ms"
config = {{ url = "{stats}", metrics = [{{ name = "app_depth", path = "depth" }}] }}

[plugins.json]
allow_http = ["http://{peer}"]
allow_private_ips = ["127.0.0.1"]

[rules]
files = [{rules:?}]

[[alerting.alertmanagers]]
targets = ["{peer}"]

[[remote_write]]
url = "{write}"
"#,
            target = target.addr,
            stats = peer.url("/stats"),
            peer = peer.addr,
            rules = rules_path.to_string_lossy(),
            write = peer.url("/api/v1/write"),
        ),
    )?;
    let p = LoggedPharos::start(&dir.path().join("data"), &config)?;
    // The reload counters (by result) exist once a reload happened.
    if let Err(e) = p.reload()? {
        bail!("reload refused: {e}");
    }

    // Every rule loaded and evaluated without error.
    let evaluated = eventually("every rule evaluated", || {
        let v = p.get_json("/api/v1/rules")?;
        let loaded: Vec<Value> = v["data"]["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
            .collect();
        let all_ok = loaded.len() == rules.len()
            && loaded
                .iter()
                .all(|r| r["health"] == "ok" && r["lastEvaluation"] != "0001-01-01T00:00:00Z");
        Ok(all_ok.then_some(loaded))
    })
    .with_context(|| p.logs())?;
    let names: BTreeSet<String> = evaluated
        .iter()
        .filter_map(|r| r["name"].as_str().map(str::to_owned))
        .collect();
    ensure!(
        names == rules.keys().cloned().collect(),
        "/api/v1/rules has {names:?}, the file {:?}",
        rules.keys()
    );

    // Queues, plugins and the sender show up as they start: wait until
    // every name is there, then say which are missing.
    let wanted: BTreeSet<&String> = rules.values().chain(dashboard.values()).flatten().collect();
    let missing = |exposed: &BTreeSet<String>| -> Vec<String> {
        wanted
            .iter()
            .filter(|n| !exposed.contains(n.as_str()))
            .map(|n| n.to_string())
            .collect()
    };
    let result = eventually("every metric on /metrics", || {
        let exposed = exposed_names(&p.get_text("/metrics")?);
        Ok(missing(&exposed).is_empty().then_some(()))
    });
    if result.is_err() {
        let exposed = exposed_names(&p.get_text("/metrics")?);
        let used_by = |name: &str| -> Vec<&String> {
            rules
                .iter()
                .chain(dashboard.iter())
                .filter(|(_, used)| used.contains(name))
                .map(|(by, _)| by)
                .collect()
        };
        let report: Vec<String> = missing(&exposed)
            .iter()
            .map(|n| format!("{n} (used by {:?})", used_by(n)))
            .collect();
        bail!(
            "not on /metrics:\n  {}\n/metrics has: {exposed:?}",
            report.join("\n  ")
        );
    }
    Ok(())
}
