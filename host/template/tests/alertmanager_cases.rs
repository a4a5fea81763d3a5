//! Runs `testdata/alertmanager.cases` on Alertmanager-shaped data, and
//! parses Alertmanager's own `default.tmpl` when the Debian package
//! installed it.

use std::collections::BTreeMap;

use pharos_template::funcs::alertmanager::{Alert, Data, funcs};
use pharos_template::{Template, Value};

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn data() -> Value {
    let starts = "2023-01-02T03:04:05.5Z".parse::<jiff::Timestamp>().ok();
    let alert = |status: &str, name: &str, instance: &str, summary: &str| Alert {
        status: status.into(),
        labels: labels(&[
            ("alertname", name),
            ("instance", instance),
            ("job", "node"),
            ("severity", "page"),
        ]),
        annotations: labels(&[("summary", summary)]),
        starts_at: starts,
        ends_at: None,
        generator_url: "http://prom/graph".into(),
        fingerprint: "0123456789abcdef".into(),
    };
    Data {
        receiver: "team-x".into(),
        status: "firing".into(),
        alerts: vec![
            alert("firing", "HighLoad", "a:9100", "load is high"),
            alert("resolved", "DiskFull", "b:9100", "disk is full"),
        ],
        group_labels: labels(&[("job", "node")]),
        common_labels: labels(&[
            ("alertname", "HighLoad"),
            ("job", "node"),
            ("severity", "page"),
        ]),
        common_annotations: BTreeMap::new(),
        external_url: "http://am.example:9093".into(),
    }
    .to_value()
}

#[test]
fn alertmanager_cases() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/alertmanager.cases"
    ))
    .expect("cases");
    let data = data();
    let mut failures = Vec::new();
    let mut n = 0;
    for block in text.split("\n=== ").skip(1) {
        n += 1;
        let mut lines = block.lines();
        let name = lines.next().unwrap_or_default();
        let field = |k: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{k}: ")).map(str::to_string))
        };
        let template = field("template").expect("template");
        let mut t = Template::new("t").funcs(funcs());
        let got = match t.parse(&template) {
            Ok(t) => t.execute(&data),
            Err(e) => Err(e),
        };
        let (got, want) = match (got, field("want"), field("error")) {
            (Ok(g), Some(w), _) => (g, w),
            (Err(e), _, Some(w)) => (e.to_string(), w),
            (Ok(g), None, Some(w)) => (g, w),
            (Err(e), Some(w), None) => (e.to_string(), w),
            (r, None, None) => (format!("{r:?}"), "a want: or error: line".into()),
        };
        // `want:` lines lose trailing spaces in editors: compare trimmed.
        if got.trim_end() != want.trim_end() {
            failures.push(format!("{name}:\n  want: {want}\n  got:  {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn default_tmpl_parses_and_renders() {
    const DEFAULT_TMPL: &str = "/usr/share/prometheus/alertmanager/default.tmpl";
    if !std::path::Path::new(DEFAULT_TMPL).exists() {
        // Installed by the project's script (Debian's package, as root).
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/scripts/install-references.sh"
        );
        let status = std::process::Command::new("bash")
            .arg(script)
            .arg("prometheus-alertmanager")
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "{DEFAULT_TMPL} is missing and {script} could not install it"
        );
    }
    let text = std::fs::read_to_string(DEFAULT_TMPL).expect("default.tmpl");
    let mut t = Template::new("default").funcs(funcs());
    t.parse(&text).expect("default.tmpl parses");
    assert!(t.lookup("slack.default.title"));
    let title = t
        .execute_template("slack.default.title", &data())
        .expect("renders");
    assert_eq!(title, "[FIRING:1] node (HighLoad page)");
    // Empty by design in Alertmanager 0.25, but it must run.
    t.execute_template("slack.default.text", &data())
        .expect("renders");
    t.parse_named(
        "list",
        r#"{{ template "__text_alert_list" .Alerts.Firing }}"#,
    )
    .expect("parses");
    let list = t.execute_template("list", &data()).expect("renders");
    assert!(list.contains("load is high"), "{list}");
}
