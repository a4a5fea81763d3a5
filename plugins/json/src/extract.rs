//! Paths over a JSON document and the metric families they produce. Pure;
//! tested on the host target with the cases in `testdata/`.

use pharos_sdk::{Label, Metric, MetricFamily, MetricType};
use serde_json::Value;
use std::collections::BTreeMap;

/// One configured metric.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSpec {
    name: String,
    #[serde(default)]
    help: String,
    #[serde(rename = "type", default)]
    kind: Kind,
    path: String,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// The metric type.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A gauge (default).
    #[default]
    Gauge,
    /// A counter.
    Counter,
    /// Untyped.
    Untyped,
}

fn valid_metric_name(n: &str) -> bool {
    let mut c = n.chars();
    matches!(c.next(), Some(x) if x.is_ascii_alphabetic() || x == '_' || x == ':')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_' || x == ':')
}

fn valid_label_name(n: &str) -> bool {
    let mut c = n.chars();
    matches!(c.next(), Some(x) if x.is_ascii_alphabetic() || x == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

/// Checks names and paths.
pub fn validate(specs: &[MetricSpec]) -> Result<(), String> {
    if specs.is_empty() {
        return Err("`metrics` must list at least one metric".into());
    }
    for s in specs {
        if !valid_metric_name(&s.name) {
            return Err(format!("metric name {:?} is not valid", s.name));
        }
        if s.path.trim().is_empty() {
            return Err(format!("metric {}: `path` is empty", s.name));
        }
        if let Some(bad) = s
            .labels
            .keys()
            .find(|k| !valid_label_name(k) || k.starts_with("__"))
        {
            return Err(format!(
                "metric {}: {bad:?} is not a valid label name",
                s.name
            ));
        }
    }
    Ok(())
}

/// The items a path selects, each with the key or index the last `*`
/// matched.
pub fn select<'a>(doc: &'a Value, path: &str) -> Vec<(Option<String>, &'a Value)> {
    let mut current: Vec<(Option<String>, &Value)> = vec![(None, doc)];
    for part in path.split('.').filter(|p| !p.is_empty() && *p != "$") {
        let mut next = Vec::new();
        for (key, v) in current {
            match (part, v) {
                ("*", Value::Array(items)) => next.extend(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, x)| (Some(i.to_string()), x)),
                ),
                ("*", Value::Object(map)) => {
                    next.extend(map.iter().map(|(k, x)| (Some(k.clone()), x)))
                }
                (_, Value::Array(items)) => {
                    if let Some(x) = part.parse::<usize>().ok().and_then(|i| items.get(i)) {
                        next.push((key, x));
                    }
                }
                (_, Value::Object(map)) => {
                    if let Some(x) = map.get(part) {
                        next.push((key, x));
                    }
                }
                _ => {}
            }
        }
        current = next;
    }
    current
}

/// A JSON value as a sample value.
pub fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The family one spec yields from a document.
pub fn family(spec: &MetricSpec, doc: &Value) -> MetricFamily {
    let mut metrics = Vec::new();
    for (key, item) in select(doc, &spec.path) {
        let value = match &spec.value {
            Some(p) => select(item, p).first().and_then(|(_, v)| number(v)),
            None => number(item),
        };
        let Some(value) = value else { continue };
        let labels = spec
            .labels
            .iter()
            .map(|(name, path)| {
                let v = if path == "$key" {
                    key.clone().unwrap_or_default()
                } else {
                    select(item, path)
                        .first()
                        .map(|(_, v)| text(v))
                        .unwrap_or_default()
                };
                Label::new(name.as_str(), v)
            })
            .collect();
        metrics.push(Metric {
            suffix: String::new(),
            labels,
            value,
            timestamp_ms: None,
        });
    }
    MetricFamily {
        name: spec.name.clone(),
        help: spec.help.clone(),
        type_: match spec.kind {
            Kind::Gauge => MetricType::Gauge,
            Kind::Counter => MetricType::Counter,
            Kind::Untyped => MetricType::Unknown,
        },
        unit: String::new(),
        metrics,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::path::Path;

    /// `testdata/<case>.json` holds `{"document": …, "metrics": [specs],
    /// "want": {"<name>": [[{labels}, value], …]}}`.
    #[test]
    fn testdata_cases() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
        let mut ran = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let case: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let specs: Vec<MetricSpec> = serde_json::from_value(case["metrics"].clone()).unwrap();
            validate(&specs).unwrap();
            for spec in &specs {
                let fam = family(spec, &case["document"]);
                let got: Vec<Value> = fam
                    .metrics
                    .iter()
                    .map(|m| {
                        let labels: BTreeMap<_, _> = m
                            .labels
                            .iter()
                            .map(|l| (l.name.clone(), l.value.clone()))
                            .collect();
                        serde_json::json!([labels, m.value])
                    })
                    .collect();
                assert_eq!(
                    Value::Array(got),
                    case["want"][&spec.name],
                    "case {}, metric {}",
                    path.display(),
                    spec.name
                );
            }
            ran += 1;
        }
        assert!(ran >= 2, "only {ran} cases in {}", dir.display());
    }

    #[test]
    fn bad_specs() {
        let spec = |v: Value| -> Vec<MetricSpec> { serde_json::from_value(v).unwrap() };
        assert!(validate(&spec(serde_json::json!([{"name": "1x", "path": "a"}]))).is_err());
        assert!(validate(&spec(serde_json::json!([{"name": "x", "path": ""}]))).is_err());
        assert!(
            validate(&spec(
                serde_json::json!([{"name": "x", "path": "a", "labels": {"__x": "y"}}])
            ))
            .is_err()
        );
        assert!(validate(&[]).is_err());
    }
}
