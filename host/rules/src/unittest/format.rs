//! promtool's rule unit-test file, as `yaml.UnmarshalStrict` reads it:
//! unknown keys are errors.

use std::collections::BTreeMap;

use pharos_model::PromDuration;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    #[serde(default)]
    pub rule_files: Vec<String>,
    pub evaluation_interval: Option<PromDuration>,
    #[serde(default)]
    pub group_eval_order: Vec<String>,
    #[serde(default)]
    pub tests: Vec<TestGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestGroup {
    pub interval: Option<PromDuration>,
    #[serde(default)]
    pub input_series: Vec<InputSeries>,
    #[serde(default)]
    pub alert_rule_test: Vec<AlertTest>,
    #[serde(default)]
    pub promql_expr_test: Vec<ExprTest>,
    #[serde(default)]
    pub external_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub external_url: String,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSeries {
    pub series: String,
    #[serde(default)]
    pub values: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertTest {
    #[serde(default)]
    pub eval_time: PromDuration,
    #[serde(default)]
    pub alertname: String,
    #[serde(default)]
    pub exp_alerts: Vec<ExpAlert>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpAlert {
    #[serde(default)]
    pub exp_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub exp_annotations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExprTest {
    pub expr: String,
    #[serde(default)]
    pub eval_time: PromDuration,
    #[serde(default)]
    pub exp_samples: Vec<ExpSample>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpSample {
    #[serde(default)]
    pub labels: String,
    #[serde(default)]
    pub value: f64,
    #[serde(default)]
    pub histogram: String,
}

/// Go's type names of the structs above, by their first field, for
/// go-yaml's unknown-field message.
const GO_TYPES: [(&str, &str); 7] = [
    ("rule_files", "main.unitTestFile"),
    ("interval", "main.testGroup"),
    ("series", "main.series"),
    ("eval_time", "main.alertTestCase"),
    ("exp_labels", "main.alert"),
    ("expr", "main.promqlTestCase"),
    ("labels", "main.sample"),
];

/// A parse error in promtool's words where go-yaml has its own (an
/// unknown field: `yaml: unmarshal errors:\n  line N: field X not found in
/// type main.T`); other errors as the YAML parser says them.
pub fn error_text(e: &serde_yaml_ng::Error) -> String {
    let msg = e.to_string();
    let field = msg
        .split_once("unknown field `")
        .and_then(|(_, rest)| rest.split_once('`'));
    let first_expected = msg
        .split_once("expected one of `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(f, _)| f);
    match (field, first_expected, e.location()) {
        (Some((field, _)), Some(first), Some(loc)) => {
            let typ = GO_TYPES
                .iter()
                .find(|(f, _)| *f == first)
                .map_or("main.unknown", |(_, t)| *t);
            format!(
                "yaml: unmarshal errors:\n  line {}: field {field} not found in type {typ}",
                loc.line()
            )
        }
        _ => msg,
    }
}
