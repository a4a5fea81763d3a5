//! A loaded, checked rule file: what the evaluator needs, with every
//! expression parsed and every template checked.

use std::sync::Arc;
use std::time::Duration;

use pharos_promql::Expr;

/// One rule file.
#[derive(Debug, Clone)]
pub struct RuleFile {
    /// The path as given (files are named by it in the API and errors).
    pub path: String,
    pub groups: Vec<RuleGroupDef>,
}

/// A `groups[]` entry.
#[derive(Debug, Clone)]
pub struct RuleGroupDef {
    pub name: String,
    /// `interval`; `None`: the global evaluation interval.
    pub interval: Option<Duration>,
    /// `query_offset`; `None`: the global rule query offset.
    pub query_offset: Option<Duration>,
    /// `limit`; 0 is no limit.
    pub limit: usize,
    /// Group `labels`, added to every rule's output (rule labels win).
    pub labels: Vec<(String, String)>,
    pub rules: Vec<RuleDef>,
}

/// A `rules[]` entry.
#[derive(Debug, Clone)]
pub struct RuleDef {
    /// The expression as written (shown by the API).
    pub expr_text: String,
    pub expr: Arc<Expr>,
    /// `labels`, in file order (templates for alerting rules).
    pub labels: Vec<(String, String)>,
    pub kind: RuleKind,
    /// 1-based line of the rule in its file.
    pub line: usize,
}

/// Recording or alerting.
#[derive(Debug, Clone)]
pub enum RuleKind {
    Recording(RecordingRule),
    Alerting(AlertingRule),
}

#[derive(Debug, Clone)]
pub struct RecordingRule {
    /// `record`: the output metric name.
    pub record: String,
}

#[derive(Debug, Clone)]
pub struct AlertingRule {
    /// `alert`: the alert name.
    pub alert: String,
    /// `for`.
    pub hold: Duration,
    /// `keep_firing_for`.
    pub keep_firing_for: Duration,
    /// `annotations`, in file order (templates).
    pub annotations: Vec<(String, String)>,
}

impl RuleDef {
    /// The rule's name: `record` or `alert`.
    pub fn name(&self) -> &str {
        match &self.kind {
            RuleKind::Recording(r) => &r.record,
            RuleKind::Alerting(a) => &a.alert,
        }
    }
}
