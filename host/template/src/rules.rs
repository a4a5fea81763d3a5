//! Prometheus' rule-template expansion: what Prometheus 2.42 does with an
//! alerting rule's labels and annotations.
//!
//! The text is prefixed with [`RULE_TEMPLATE_PREFIX`] (which defines
//! `$labels`, `$externalLabels`, `$externalURL` and `$value`), parsed as
//! template `__alert_<alertname>` with Go's built-ins plus Prometheus'
//! functions (text/template: no HTML escaping) and `missingkey=zero` (a
//! missing label is the empty string), and run on
//! [`RuleTemplateData`]. A failure renders as
//! `<error expanding template: ...>`, exactly as Prometheus writes it.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::Error;
use crate::funcs::prometheus::{self, PrometheusContext};
use crate::template::{MissingKey, Template};
use crate::value::{Struct, Value};

/// The variable definitions Prometheus puts before every rule template.
pub const RULE_TEMPLATE_PREFIX: &str = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

/// Go's type name of the data Prometheus passes (it shows in errors such
/// as `can't evaluate field Foo in type struct { ... }`).
pub const RULE_DATA_TYPE: &str = "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value float64 }";

/// The data of one alert's template expansion.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleTemplateData {
    /// The alert's series labels (without `__name__`).
    pub labels: BTreeMap<String, String>,
    /// The server's external labels.
    pub external_labels: BTreeMap<String, String>,
    /// The server's external URL.
    pub external_url: String,
    /// The sample value.
    pub value: f64,
}

impl RuleTemplateData {
    /// The template value (`.Labels`, `.ExternalLabels`, `.ExternalURL`,
    /// `.Value`).
    pub fn to_value(&self) -> Value {
        Value::Struct(Arc::new(Struct::new(
            RULE_DATA_TYPE,
            vec![
                ("Labels".into(), Value::string_map(self.labels.clone())),
                (
                    "ExternalLabels".into(),
                    Value::string_map(self.external_labels.clone()),
                ),
                (
                    "ExternalURL".into(),
                    Value::from(self.external_url.as_str()),
                ),
                ("Value".into(), Value::Float(self.value)),
            ],
        )))
    }
}

/// The template name Prometheus uses for rule `alert_name`.
pub fn rule_template_name(alert_name: &str) -> String {
    format!("__alert_{alert_name}")
}

fn rule_template(alert_name: &str, text: &str, ctx: PrometheusContext) -> Result<Template, Error> {
    let mut t = Template::new(rule_template_name(alert_name))
        .funcs(prometheus::funcs(ctx))
        .missing_key(MissingKey::Zero);
    t.parse(&format!("{RULE_TEMPLATE_PREFIX}{text}"))?;
    Ok(t)
}

/// Load-time check of a rule's label or annotation template: the parse
/// error (Go's text, e.g. `template: __alert_X:1: function "foo" not
/// defined`) if it does not parse.
pub fn check_rule_template(alert_name: &str, text: &str) -> Result<(), Error> {
    rule_template(alert_name, text, PrometheusContext::default()).map(|_| ())
}

/// Expands a rule template as Prometheus does, with its error wrapping:
/// `Err` holds `error parsing template NAME: ...` or
/// `error executing template NAME: ...`.
pub fn expand_rule_template_result(
    alert_name: &str,
    text: &str,
    data: &RuleTemplateData,
    ctx: PrometheusContext,
) -> Result<String, String> {
    let name = rule_template_name(alert_name);
    let t = rule_template(alert_name, text, ctx)
        .map_err(|e| format!("error parsing template {name}: {e}"))?;
    t.execute(&data.to_value())
        .map_err(|e| format!("error executing template {name}: {e}"))
}

/// Expands a rule template; a failure becomes Prometheus' text
/// `<error expanding template: ...>`.
pub fn expand_rule_template(
    alert_name: &str,
    text: &str,
    data: &RuleTemplateData,
    ctx: PrometheusContext,
) -> String {
    expand_rule_template_result(alert_name, text, data, ctx)
        .unwrap_or_else(|e| format!("<error expanding template: {e}>"))
}
