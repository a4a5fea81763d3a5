//! Pharos' default notification templates (`templates/default.tmpl`) render
//! what Alertmanager 0.25's render.
//!
//! - `every_name_renders_as_alertmanagers`: Alertmanager's own
//!   `default.tmpl` and `email.tmpl` (Debian's `prometheus-alertmanager`,
//!   installed by `tests/scripts/install-references.sh` when missing) and
//!   ours, both run by our engine, over sample groups (firing, resolved,
//!   mixed, group labels equal to or a subset of the common labels, no
//!   group labels, no annotations, many alerts, a receiver and external URL
//!   that need quoting): every name Alertmanager defines is defined by us
//!   and gives the same text byte for byte — except `email.default.html`,
//!   our own markup, checked for its structure.
//! - `recorded_bodies_are_rendered_again`: no Alertmanager needed. The
//!   bodies a real Alertmanager 0.25 sent to Slack, PagerDuty and webhook
//!   receivers (`plugins/*/testdata`, recorded by
//!   `tests/scripts/record-notifier-payloads.sh`) hold the rendered
//!   defaults and the rendered operator templates of that script's
//!   configuration. The group is read back from the webhook body, turned
//!   into a Pharos notification, converted by `template_data` (checked
//!   against the webhook body's fields), and each plugin's configuration
//!   from the script is completed from the plugin's `schema.json` and
//!   rendered: every text must equal the recorded one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pharos_alerting::dispatch::Notification;
use pharos_alerting::notify::{Templates, render_notifier_config, template_data};
use pharos_model::Labels;
use pharos_model::alert::Alert;
use pharos_template::funcs::alertmanager::funcs;
use pharos_template::{MissingKey, Template};
use serde_json::json;

const AM_DIR: &str = "/usr/share/prometheus/alertmanager";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Alertmanager's template files, installing Debian's package when they
/// are missing (as the other reference tests do): a reference test that
/// cannot run fails rather than passing unseen.
fn alertmanager_templates() -> Template {
    let default = Path::new(AM_DIR).join("default.tmpl");
    if !default.exists() {
        let script = repo().join("tests/scripts/install-references.sh");
        let status = std::process::Command::new("bash")
            .arg(&script)
            .arg("prometheus-alertmanager")
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "{} is missing and {} could not install prometheus-alertmanager",
            default.display(),
            script.display()
        );
    }
    let mut set = Template::new("")
        .funcs(funcs())
        .missing_key(MissingKey::Zero);
    for file in ["default.tmpl", "email.tmpl"] {
        let path = Path::new(AM_DIR).join(file);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        set.parse_named(file, &text)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    set
}

// --- sample groups -------------------------------------------------------------

const T0: i64 = 1_709_287_200_000; // 2024-03-01T10:00:00Z

struct Spec<'a> {
    labels: &'a [(&'a str, &'a str)],
    annotations: &'a [(&'a str, &'a str)],
    resolved: bool,
}

fn alert(s: &Spec<'_>, i: i64) -> Alert {
    Alert {
        labels: Labels::from_pairs(s.labels.iter().copied()),
        annotations: Labels::from_pairs(s.annotations.iter().copied()),
        starts_at: T0 + i * 1_000,
        ends_at: s.resolved.then_some(T0 + 3_600_000),
        generator_url: format!("http://prometheus.example:9090/graph?g0.expr=up&g0.tab=1&i={i}"),
    }
}

fn group(receiver: &str, group_labels: &[(&str, &str)], specs: &[Spec<'_>]) -> Notification {
    Notification {
        receiver: receiver.into(),
        integration: 0,
        plugin: "test".into(),
        group_key: "{}:{}".into(),
        route_id: "{}".into(),
        group_labels: Labels::from_pairs(group_labels.iter().copied()),
        alerts: specs
            .iter()
            .enumerate()
            .map(|(i, s)| alert(s, i as i64))
            .collect(),
        at: T0 + 7_200_000,
    }
}

fn spec<'a>(
    labels: &'a [(&'a str, &'a str)],
    annotations: &'a [(&'a str, &'a str)],
    resolved: bool,
) -> Spec<'a> {
    Spec {
        labels,
        annotations,
        resolved,
    }
}

/// (name, notification, external URL)
fn samples() -> Vec<(&'static str, Notification, &'static str)> {
    let a1: &[(&str, &str)] = &[
        ("alertname", "DiskFull"),
        ("instance", "db-1:9100"),
        ("job", "node"),
        ("severity", "page"),
    ];
    let a2: &[(&str, &str)] = &[
        ("alertname", "DiskFull"),
        ("instance", "db-2:9100"),
        ("job", "node"),
        ("severity", "page"),
    ];
    let a3: &[(&str, &str)] = &[
        ("alertname", "DiskFull"),
        ("instance", "db-3:9100"),
        ("job", "node"),
        ("severity", "warning"),
    ];
    let n1: &[(&str, &str)] = &[
        ("summary", "Disk <90% & \"full\""),
        ("description", "ünïcödé … on db-1\nsecond line"),
    ];
    let n2: &[(&str, &str)] = &[("summary", "Disk <90% & \"full\"")];
    let n3: &[(&str, &str)] = &[("summary", "other"), ("runbook", "https://r.example/x")];
    let by_name: &[(&str, &str)] = &[("alertname", "DiskFull")];
    let url = "http://alertmanager.example:9093";
    let mut out = vec![
        (
            "firing",
            group("team", by_name, &[spec(a1, n1, false), spec(a2, n2, false)]),
            url,
        ),
        (
            "resolved",
            group("team", by_name, &[spec(a1, n1, true), spec(a2, n2, true)]),
            url,
        ),
        (
            "mixed",
            group(
                "team",
                by_name,
                &[spec(a1, n1, false), spec(a2, n2, false), spec(a3, n3, true)],
            ),
            url,
        ),
        (
            "group labels = common labels",
            group(
                "team",
                &[("alertname", "DiskFull"), ("job", "node")],
                &[spec(a1, n2, false), spec(a3, n2, false)],
            ),
            url,
        ),
        (
            "no group labels",
            group("team", &[], &[spec(a1, n1, false)]),
            url,
        ),
        (
            "no annotations",
            group(
                "team",
                by_name,
                &[spec(a1, &[], false), spec(a3, &[], true)],
            ),
            url,
        ),
        (
            "quoted receiver and URL path",
            group("team.a (eu) & more?", by_name, &[spec(a1, n1, false)]),
            "https://am.example/prefix/",
        ),
    ];
    // Many alerts, some resolved, annotations differing.
    let labels: Vec<Vec<(String, String)>> = (0..25)
        .map(|i| {
            vec![
                ("alertname".to_owned(), "HighLatency".to_owned()),
                ("instance".to_owned(), format!("api-{i:02}:8080")),
                ("job".to_owned(), "api".to_owned()),
                ("zone".to_owned(), format!("z{}", i % 3)),
            ]
        })
        .collect();
    let alerts = labels
        .iter()
        .enumerate()
        .map(|(i, l)| Alert {
            labels: Labels::from_pairs(l.iter().cloned()),
            annotations: Labels::from_pairs([
                ("summary", "latency high".to_owned()),
                ("value", format!("{}ms", 500 + i)),
            ]),
            starts_at: T0 + i as i64,
            ends_at: (i % 4 == 0).then_some(T0 + 60_000),
            generator_url: "http://p/graph".into(),
        })
        .collect();
    let mut many = group("team", &[("alertname", "HighLatency")], &[]);
    many.alerts = alerts;
    out.push(("many alerts", many, url));
    out
}

/// Templates whose `.` is a list of alerts, not the whole data.
const LIST_TEMPLATES: [&str; 2] = ["__text_alert_list", "pagerduty.default.instances"];

#[test]
fn every_name_renders_as_alertmanagers() {
    let am = alertmanager_templates();
    let ours = Templates::builtin();
    let names: Vec<String> = am.template_names().map(str::to_owned).collect();
    // Every name Alertmanager defines (but the files' own bodies).
    let names: Vec<String> = names
        .into_iter()
        .filter(|n| !n.ends_with(".tmpl") && !n.is_empty())
        .collect();
    assert!(names.len() >= 41, "Alertmanager's names: {names:?}");
    let missing: Vec<&String> = names.iter().filter(|n| !ours.has(n)).collect();
    assert!(missing.is_empty(), "not defined by Pharos: {missing:?}");

    let mut failures = Vec::new();
    let mut compared = 0;
    for (sample, n, url) in samples() {
        let data = template_data(&n, url).to_value();
        for name in &names {
            let dots: &[&str] = if LIST_TEMPLATES.contains(&name.as_str()) {
                &[".Alerts", ".Alerts.Firing", ".Alerts.Resolved"]
            } else {
                &["."]
            };
            for dot in dots {
                let text = format!("{{{{ template {name:?} {dot} }}}}");
                let mut theirs = am.clone();
                theirs
                    .parse_named("", &text)
                    .unwrap_or_else(|e| panic!("{text}: {e}"));
                let want = theirs.execute_template("", &data);
                let got = ours.render(&text, &data);
                let (want, got) = match (want, got) {
                    (Ok(w), Ok(g)) => (w, g),
                    (w, g) => {
                        failures.push(format!("{sample}: {name} {dot}: {w:?} vs {g:?}"));
                        continue;
                    }
                };
                if name == "email.default.html" {
                    check_email_html(sample, &n, &got, &mut failures);
                    continue;
                }
                compared += 1;
                if want != got {
                    failures.push(format!(
                        "{sample}: {name} {dot}:\n--- Alertmanager\n{want}\n--- Pharos\n{got}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(compared > 300, "only {compared} comparisons");
}

/// Our HTML email has Alertmanager's structure: the subject as title, a
/// header coloured by status, a link back, each alert's labels and
/// annotations (escaped), the firing and resolved counts.
fn check_email_html(sample: &str, n: &Notification, html: &str, failures: &mut Vec<String>) {
    let firing = n.alerts.iter().filter(|a| !a.resolved_at(n.at)).count();
    let resolved = n.alerts.len() - firing;
    let mut want: Vec<String> = vec![
        "<!DOCTYPE html".into(),
        "<title>[".into(),
        "View in Alertmanager</a>".into(),
        "Sent by Alertmanager</a>".into(),
        if firing > 0 { "#E6522C" } else { "#68B90F" }.into(),
        format!(
            "{} alert{} for ",
            n.alerts.len(),
            if n.alerts.len() > 1 { "s" } else { "" }
        ),
    ];
    if firing > 0 {
        want.push(format!("[{firing}] Firing"));
    }
    if resolved > 0 {
        want.push(format!("[{resolved}] Resolved"));
    }
    for a in &n.alerts {
        for l in a.labels.iter().chain(a.annotations.iter()) {
            let value = l
                .value
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&#34;");
            want.push(format!("{} = {value}<br>", l.name));
        }
    }
    for w in want {
        if !html.contains(&w) {
            failures.push(format!("{sample}: email.default.html lacks {w:?}"));
        }
    }
    if html.contains("Disk <90%") {
        failures.push(format!("{sample}: email.default.html does not escape"));
    }
}

// --- the recorded bodies ----------------------------------------------------------

fn read_json(rel: &str) -> serde_json::Value {
    let path = repo().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn ms(t: &serde_json::Value) -> i64 {
    let s = t.as_str().unwrap_or_default();
    s.parse::<jiff::Timestamp>()
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .as_millisecond()
}

fn pairs(v: &serde_json::Value) -> Labels {
    Labels::from_pairs(
        v.as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())),
    )
}

fn str_map(v: &serde_json::Value) -> BTreeMap<String, String> {
    v.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect()
}

/// The group of a recorded webhook body as the dispatcher would flush it
/// (a firing alert's end cleared), flushed an hour and a half after it
/// started — after the recorded resolve time.
fn recorded_group(body: &serde_json::Value) -> Notification {
    let alerts = body["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .map(|a| Alert {
            labels: pairs(&a["labels"]),
            annotations: pairs(&a["annotations"]),
            starts_at: ms(&a["startsAt"]),
            ends_at: (a["status"] == "resolved").then(|| ms(&a["endsAt"])),
            generator_url: a["generatorURL"].as_str().unwrap_or_default().into(),
        })
        .collect();
    Notification {
        receiver: body["receiver"].as_str().unwrap_or_default().into(),
        integration: 0,
        plugin: String::new(),
        group_key: body["groupKey"].as_str().unwrap_or_default().into(),
        route_id: "{}".into(),
        group_labels: pairs(&body["groupLabels"]),
        alerts,
        at: ms(&serde_json::json!("2024-03-01T11:30:00Z")),
    }
}

fn schema(plugin: &str) -> serde_json::Value {
    read_json(&format!("plugins/{plugin}/schema.json"))
}

/// `rendered[key]` for each key of `want` (a recorded object), with the
/// key named on failure.
fn assert_fields(ctx: &str, rendered: &serde_json::Value, want: &serde_json::Value, keys: &[&str]) {
    for k in keys {
        assert_eq!(rendered[*k], want[*k], "{ctx}: {k}");
    }
}

#[test]
fn recorded_bodies_are_rendered_again() {
    let templates = Templates::builtin();
    for phase in ["firing", "resolved"] {
        let hook = read_json(&format!("plugins/webhook/testdata/{phase}.json"));
        let n = recorded_group(&hook);
        let d = template_data(&n, hook["externalURL"].as_str().unwrap_or_default());
        // The conversion gives Alertmanager's data for this group.
        assert_eq!(d.receiver, hook["receiver"], "{phase}");
        assert_eq!(d.status, hook["status"], "{phase}");
        assert_eq!(d.external_url, hook["externalURL"], "{phase}");
        assert_eq!(d.group_labels, str_map(&hook["groupLabels"]), "{phase}");
        assert_eq!(d.common_labels, str_map(&hook["commonLabels"]), "{phase}");
        assert_eq!(
            d.common_annotations,
            str_map(&hook["commonAnnotations"]),
            "{phase}"
        );
        for (a, h) in d
            .alerts
            .iter()
            .zip(hook["alerts"].as_array().expect("alerts"))
        {
            assert_eq!(a.fingerprint, h["fingerprint"], "{phase}");
            assert_eq!(a.status, h["status"], "{phase}");
        }
        let data = d.to_value();
        let render = |plugin: &str, config: serde_json::Value| {
            render_notifier_config(&schema(plugin), &config, &templates, &data)
                .unwrap_or_else(|e| panic!("{plugin} {phase}: {e}"))
        };

        // Slack, Alertmanager's defaults.
        let body = read_json(&format!("plugins/slack/testdata/{phase}.json"));
        let got = render("slack", json!({"api_url": "http://rec/slack"}));
        assert_eq!(got["username"], body["username"], "slack {phase}");
        let att = &body["attachments"][0];
        assert_fields(
            &format!("slack {phase}"),
            &got,
            att,
            &[
                "title",
                "title_link",
                "text",
                "fallback",
                "callback_id",
                "footer",
                "color",
                "mrkdwn_in",
            ],
        );
        for empty in ["pretext", "icon_emoji", "icon_url"] {
            assert_eq!(
                got[empty], "",
                "slack {phase}: {empty} (left out when empty)"
            );
        }

        // Slack, every option set (the script's second slack_config).
        let body = read_json(&format!("plugins/slack/testdata/{phase}_postmessage.json"));
        let got = render(
            "slack",
            json!({
                "api_url": "http://rec/api/chat.postMessage",
                "channel": "#alerts",
                "username": "pharos-{{ .Receiver }}",
                "icon_emoji": ":fire:",
                "link_names": true,
                "title": "{{ .CommonLabels.alertname }} on {{ .CommonLabels.job }} <{{ .Status }}>",
                "title_link": "https://dash.example/d/{{ .CommonLabels.alertname }}?a=1&b=2",
                "pretext": "Pretext {{ .Alerts.Firing | len }}",
                "text": "{{ range .Alerts }}* {{ .Annotations.summary }}{{ \"\\n\" }}{{ end }}",
                "fallback": "fallback: {{ .CommonLabels.alertname }}",
                "callback_id": "cb-{{ .GroupLabels.alertname }}",
                "footer": "footer & more",
                "image_url": "https://img.example/i.png",
                "thumb_url": "https://img.example/t.png",
                "color": "{{ if eq .Status \"firing\" }}#ff0000{{ else }}#00ff00{{ end }}",
                "mrkdwn_in": ["title", "text"],
                "short_fields": true,
                "fields": [
                    {"title": "Severity", "value": "{{ .CommonLabels.severity }}"},
                    {"title": "Count", "value": "{{ len .Alerts }}", "short": false}
                ],
                "actions": [
                    {"type": "button", "text": "Runbook {{ .CommonLabels.alertname }}",
                     "url": "https://runbooks.example/{{ .CommonLabels.alertname }}", "style": "primary",
                     "confirm": {"title": "Sure?", "text": "Open it", "ok_text": "Yes", "dismiss_text": "No"}},
                    {"type": "button", "text": "Ack", "name": "ack", "value": "{{ .GroupLabels.alertname }}"}
                ]
            }),
        );
        let ctx = format!("slack {phase} postmessage");
        assert_fields(&ctx, &got, &body, &["channel", "username", "icon_emoji"]);
        let att = &body["attachments"][0];
        assert_fields(
            &ctx,
            &got,
            att,
            &[
                "title",
                "title_link",
                "pretext",
                "text",
                "fallback",
                "callback_id",
                "footer",
                "color",
                "image_url",
                "thumb_url",
                "mrkdwn_in",
            ],
        );
        for i in 0..2 {
            assert_eq!(
                got["fields"][i]["value"], att["fields"][i]["value"],
                "{ctx}"
            );
            for k in ["text", "url", "value"] {
                let (g, w) = (&got["actions"][i][k], &att["actions"][i][k]);
                if !w.is_null() {
                    assert_eq!(g, w, "{ctx}: actions[{i}].{k}");
                }
            }
        }

        // PagerDuty, Alertmanager's defaults.
        let body = read_json(&format!("plugins/pagerduty/testdata/{phase}.json"));
        let got = render(
            "pagerduty",
            json!({"routing_key": "r0ut1ngk3y", "url": "http://rec/pagerduty"}),
        );
        let ctx = format!("pagerduty {phase}");
        assert_eq!(got["description"], body["payload"]["summary"], "{ctx}");
        assert_eq!(got["severity"], body["payload"]["severity"], "{ctx}");
        assert_eq!(
            got["client"], body["payload"]["source"],
            "{ctx}: source = client"
        );
        assert_fields(&ctx, &got, &body, &["client", "client_url"]);
        assert_eq!(got["details"], body["payload"]["custom_details"], "{ctx}");

        // PagerDuty, every option set.
        let body = read_json(&format!("plugins/pagerduty/testdata/{phase}_full.json"));
        let got = render(
            "pagerduty",
            json!({
                "routing_key": "r0ut1ngk3y-full",
                "url": "http://rec/pagerduty-full",
                "client": "Pharos {{ .Receiver }}",
                "client_url": "https://pharos.example/#/alerts",
                "description": "{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}",
                "severity": "{{ if eq .CommonLabels.severity \"page\" }}critical{{ else }}warning{{ end }}",
                "source": "src-{{ .CommonLabels.job }}",
                "class": "disk",
                "component": "storage",
                "group": "{{ .CommonLabels.job }}",
                "details": {"team": "infra", "firing": "{{ .Alerts.Firing | len }} firing"},
                "images": [
                    {"src": "https://img.example/graph.png", "alt": "Graph", "href": "https://dash.example/"},
                    {"src": "", "alt": "dropped: no src"}
                ],
                "links": [
                    {"href": "https://runbooks.example/{{ .CommonLabels.alertname }}", "text": "Runbook"},
                    {"href": "", "text": "dropped: no href"}
                ]
            }),
        );
        let ctx = format!("pagerduty {phase} full");
        let p = &body["payload"];
        assert_eq!(got["description"], p["summary"], "{ctx}");
        assert_fields(
            &ctx,
            &got,
            p,
            &["severity", "source", "class", "component", "group"],
        );
        assert_fields(&ctx, &got, &body, &["client", "client_url"]);
        assert_eq!(got["details"], p["custom_details"], "{ctx}");
        assert_eq!(got["images"][0], body["images"][0], "{ctx}");
        assert_eq!(got["links"][0], body["links"][0], "{ctx}");
    }
}
