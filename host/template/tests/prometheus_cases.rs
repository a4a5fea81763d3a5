//! Runs `testdata/prometheus.cases`: every template expanded as a
//! Prometheus alert annotation must give what Prometheus 2.42 gave
//! (recorded by `testdata/record.sh`), errors included.

use std::collections::BTreeMap;
use std::sync::Arc;

use pharos_template::rules::{RuleTemplateData, check_rule_template, expand_rule_template};
use pharos_template::{MAX_EXEC_DEPTH, PrometheusContext, QueryRunner, QuerySample};

const DEFAULT_LABELS: &str = r#"instance="host.example.com:9100", job="node""#;
const DEFAULT_VALUE: &str = "1234.5678";
// Prometheus drops the external URL's trailing slash.
const EXTERNAL_URL: &str = "http://pharos.example:9090/prefix";

#[derive(Debug, Default)]
struct Case {
    name: String,
    fields: BTreeMap<String, String>,
}

/// Reads the cases format: `=== name`, then `key: value` lines or `key:`
/// followed by `|`-prefixed lines.
fn read_cases(text: &str) -> Vec<Case> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut cases: Vec<Case> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if let Some(name) = l.strip_prefix("=== ") {
            cases.push(Case {
                name: name.trim().to_string(),
                ..Case::default()
            });
            i += 1;
            continue;
        }
        let key = ["labels", "value", "template", "want", "parse_error"]
            .into_iter()
            .find(|k| l.starts_with(&format!("{k}:")));
        if let (Some(key), Some(case)) = (key, cases.last_mut()) {
            let rest = &l[key.len() + 1..];
            if rest.trim().is_empty() && lines.get(i + 1).is_some_and(|n| n.starts_with('|')) {
                let mut vals = Vec::new();
                i += 1;
                while i < lines.len() && lines[i].starts_with('|') {
                    vals.push(&lines[i][1..]);
                    i += 1;
                }
                case.fields.insert(key.to_string(), vals.join("\n"));
                continue;
            }
            case.fields.insert(
                key.to_string(),
                rest.strip_prefix(' ').unwrap_or(rest).to_string(),
            );
        }
        i += 1;
    }
    cases
}

fn parse_labels(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for part in s.split(',') {
        let part = part.trim();
        if let Some((k, v)) = part.split_once('=') {
            out.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
        }
    }
    out
}

fn parse_value(s: &str) -> f64 {
    match s {
        "NaN" => f64::NAN,
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        _ => s.parse().expect("case value is a number"),
    }
}

/// Answers `query` from `testdata/queries.txt`.
struct TableRunner(BTreeMap<String, Result<Vec<QuerySample>, String>>);

impl TableRunner {
    fn load() -> Self {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/queries.txt"))
                .expect("queries.txt");
        let mut map = BTreeMap::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let (expr, result) = line.split_once(" =>").expect("EXPR => RESULT");
            let result = result.trim();
            let r = if let Some(msg) = result.strip_prefix("error: ") {
                Err(msg.to_string())
            } else if result.is_empty() {
                Ok(Vec::new())
            } else {
                Ok(result
                    .split(" ; ")
                    .map(|s| {
                        let (labels, value) = s.rsplit_once(' ').expect("{labels} value");
                        QuerySample {
                            labels: parse_labels(
                                labels.trim_start_matches('{').trim_end_matches('}'),
                            ),
                            value: parse_value(value),
                        }
                    })
                    .collect())
            };
            map.insert(expr.trim().to_string(), r);
        }
        TableRunner(map)
    }
}

impl QueryRunner for TableRunner {
    fn query(&self, expr: &str) -> Result<Vec<QuerySample>, String> {
        self.0
            .get(expr)
            .cloned()
            .unwrap_or_else(|| Err(format!("query {expr:?} missing from testdata/queries.txt")))
    }
}

#[test]
fn prometheus_recorded_cases() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/prometheus.cases"
    ))
    .expect("prometheus.cases");
    let cases = read_cases(&text);
    assert!(cases.len() > 100, "only {} cases read", cases.len());
    let runner: Arc<dyn QueryRunner> = Arc::new(TableRunner::load());
    let mut failures = Vec::new();
    for case in &cases {
        let alert = format!("case_{}", case.name);
        let template = case.fields.get("template").expect("template");
        let data = RuleTemplateData {
            labels: parse_labels(
                case.fields
                    .get("labels")
                    .map_or(DEFAULT_LABELS, String::as_str),
            ),
            external_labels: BTreeMap::from([("cluster".to_string(), "eu1".to_string())]),
            external_url: EXTERNAL_URL.to_string(),
            value: parse_value(
                case.fields
                    .get("value")
                    .map_or(DEFAULT_VALUE, String::as_str),
            ),
        };
        let (got, want) = if let Some(want) = case.fields.get("parse_error") {
            let got = match check_rule_template(&alert, template) {
                Ok(()) => "parsed without error".to_string(),
                Err(e) => e.to_string(),
            };
            (got, want.clone())
        } else {
            let want = case
                .fields
                .get("want")
                .expect("want or parse_error")
                .clone();
            // Our recursion limit is lower than Go's 100000 (stack safety).
            let want = want.replace(
                "exceeded maximum template depth (100000)",
                &format!("exceeded maximum template depth ({MAX_EXEC_DEPTH})"),
            );
            let ctx = PrometheusContext {
                query: Some(runner.clone()),
                external_url: EXTERNAL_URL.to_string(),
            };
            (expand_rule_template(&alert, template, &data, ctx), want)
        };
        if got != want {
            failures.push(format!(
                "{}:\n  template: {template}\n  want: {want}\n  got:  {got}",
                case.name
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
