//! Templates in alerting rules' labels and annotations, expanded as
//! Prometheus expands them (`pharos-template` does the work), with
//! `query` answered by the rule's own engine and storage.

use std::collections::BTreeMap;
use std::sync::Arc;

use pharos_model::Labels;
use pharos_promql::Engine;
use pharos_template::rules::{RuleTemplateData, expand_rule_template};
use pharos_template::{PrometheusContext, QueryRunner, QuerySample};
use pharos_tsdb::Storage;

use crate::rule::EvalContext;

/// What a rule template sees: `$labels`, `$value`, `$externalLabels`,
/// `$externalURL`.
pub struct TemplateData<'a> {
    pub labels: &'a Labels,
    pub value: f64,
    pub external_labels: &'a Labels,
    pub external_url: &'a str,
    /// The evaluation time (Unix milliseconds), for `query`.
    pub ts: i64,
}

/// Expands `text` for alert `alert`; a failure gives Prometheus'
/// `<error expanding template: …>` text.
pub(crate) fn expand(
    ctx: &EvalContext<'_>,
    alert: &str,
    text: &str,
    data: &TemplateData<'_>,
) -> String {
    if !text.contains("{{") {
        return text.to_owned();
    }
    let template_data = RuleTemplateData {
        labels: map(data.labels),
        external_labels: map(data.external_labels),
        external_url: data.external_url.to_owned(),
        value: data.value,
    };
    let runner: Arc<dyn QueryRunner> = Arc::new(Runner {
        engine: ctx.engine.clone(),
        storage: ctx.storage.clone(),
        ts: data.ts,
    });
    let pctx = PrometheusContext {
        query: Some(runner),
        external_url: data.external_url.to_owned(),
    };
    expand_rule_template(alert, text, &template_data, pctx)
}

fn map(l: &Labels) -> BTreeMap<String, String> {
    l.iter()
        .map(|l| (l.name.clone(), l.value.clone()))
        .collect()
}

/// `query` in a template: an instant query at the evaluation time.
struct Runner {
    engine: Engine,
    storage: Arc<dyn Storage>,
    ts: i64,
}

impl QueryRunner for Runner {
    fn query(&self, expr: &str) -> Result<Vec<QuerySample>, String> {
        let parsed = pharos_promql::parse(expr).map_err(|e| e.to_string())?;
        let samples = crate::query::instant(&self.engine, &*self.storage, &parsed, expr, self.ts)
            .map_err(|e| e.to_string())?;
        Ok(samples
            .into_iter()
            .map(|(l, value)| QuerySample {
                labels: map(&l),
                value,
            })
            .collect())
    }
}
