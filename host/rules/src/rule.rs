//! One rule of a group at run time: its definition, its state and how its
//! last evaluation went.

use std::sync::Arc;

use pharos_model::Labels;
use pharos_promql::Engine;
use pharos_tsdb::Storage;

use crate::alerting::{self, AlertingState};
use crate::error::RuleError;
use crate::rulefmt::{RuleDef, RuleKind};

/// What an evaluation needs besides the rule.
pub struct EvalContext<'a> {
    pub engine: &'a Engine,
    pub storage: &'a Arc<dyn Storage>,
    /// Milliseconds subtracted from the evaluation time for the query.
    pub query_offset: i64,
    /// The group's `limit` (0: none).
    pub limit: usize,
    pub external_labels: &'a Labels,
    pub external_url: &'a str,
}

/// `health` in `/api/v1/rules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Unknown,
    Good,
    Bad,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Good => "ok",
            Health::Bad => "err",
        }
    }
}

/// A rule with its state.
#[derive(Debug, Clone)]
pub struct Rule {
    pub def: Arc<RuleDef>,
    /// The rule's labels with the group's labels under them.
    pub labels: Vec<(String, String)>,
    pub health: Health,
    pub last_error: Option<RuleError>,
    /// Unix milliseconds (wall clock) when the last evaluation started; 0
    /// before the first.
    pub last_evaluation: i64,
    /// Seconds the last evaluation took.
    pub evaluation_time: f64,
    /// Alert state (alerting rules only).
    pub alerts: AlertingState,
}

impl Rule {
    pub fn new(def: Arc<RuleDef>, group_labels: &[(String, String)], restored: bool) -> Self {
        let mut labels: Vec<(String, String)> = group_labels
            .iter()
            .filter(|(n, _)| !def.labels.iter().any(|(m, _)| m == n))
            .cloned()
            .collect();
        labels.extend(def.labels.iter().cloned());
        Rule {
            def,
            labels,
            health: Health::Unknown,
            last_error: None,
            last_evaluation: 0,
            evaluation_time: 0.0,
            alerts: AlertingState {
                restored,
                ..AlertingState::default()
            },
        }
    }

    pub fn name(&self) -> &str {
        self.def.name()
    }

    pub fn is_alerting(&self) -> bool {
        matches!(self.def.kind, RuleKind::Alerting(_))
    }

    /// Evaluates at `ts`: the samples to store.
    pub(crate) fn eval(
        &mut self,
        ctx: &EvalContext<'_>,
        ts: i64,
    ) -> Result<Vec<(Labels, f64)>, RuleError> {
        let def = self.def.clone();
        match &def.kind {
            RuleKind::Recording(r) => crate::recording::eval(
                ctx,
                &r.record,
                &self.labels,
                &def.expr,
                &def.expr_text,
                ts - ctx.query_offset,
            ),
            RuleKind::Alerting(a) => alerting::eval(
                ctx,
                a,
                &self.labels,
                &def.expr,
                &def.expr_text,
                ts,
                &mut self.alerts,
            ),
        }
    }

    /// What identifies a rule across a reload (Prometheus matches rules
    /// by name and labels): a reloaded rule with the same key takes over
    /// the old one's alerts and series.
    pub fn state_key(&self) -> (String, Vec<(String, String)>) {
        (self.name().to_owned(), self.labels.clone())
    }
}
