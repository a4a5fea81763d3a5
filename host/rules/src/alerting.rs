//! An alerting rule's state: every label set its expression returns is an
//! alert that moves inactive → pending → firing (after `for`), stays firing
//! for `keep_firing_for` after it stops matching, and is kept for 15
//! minutes once resolved so it is sent as resolved (Prometheus'
//! `rules/alerting.go`).

use std::collections::HashMap;

use pharos_model::alert::Alert;
use pharos_model::{Labels, METRIC_NAME};

use crate::error::RuleError;
use crate::expand::{self, TemplateData};
use crate::rule::EvalContext;
use crate::rulefmt::AlertingRule as AlertingDef;

/// How long a resolved alert is kept (and resent as resolved).
const RESOLVED_RETENTION_MS: i64 = 15 * 60 * 1000;

/// `ALERTS`: one series per pending or firing alert.
pub const ALERTS_METRIC: &str = "ALERTS";
/// `ALERTS_FOR_STATE`: when each active alert became active (Unix seconds),
/// read back after a restart.
pub const ALERTS_FOR_STATE_METRIC: &str = "ALERTS_FOR_STATE";

/// Where an alert is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AlertState {
    Inactive,
    Pending,
    Firing,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Inactive => "inactive",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
        }
    }
}

/// One alert of a rule. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveAlert {
    pub labels: Labels,
    pub annotations: Labels,
    pub state: AlertState,
    /// The sample value that produced the alert, at its last evaluation.
    pub value: f64,
    pub active_at: i64,
    pub fired_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub last_sent_at: Option<i64>,
    pub valid_until: i64,
    pub keep_firing_since: Option<i64>,
}

impl ActiveAlert {
    /// Prometheus' `needsSending`: firing and resolved alerts, when they
    /// changed since the last send or the resend delay has passed.
    fn needs_sending(&self, ts: i64, resend_delay: i64) -> bool {
        if self.state == AlertState::Pending {
            return false;
        }
        let last = self.last_sent_at.unwrap_or(i64::MIN);
        if self.resolved_at.is_some_and(|r| r > last) {
            return true;
        }
        self.last_sent_at
            .is_none_or(|l| l.saturating_add(resend_delay) < ts)
    }
}

/// The running state of one alerting rule.
#[derive(Debug, Clone, Default)]
pub struct AlertingState {
    /// Alerts by their labels.
    pub active: HashMap<Labels, ActiveAlert>,
    /// Whether the `for` state was restored after start (until then no
    /// `ALERTS` series are written).
    pub restored: bool,
}

impl AlertingState {
    /// The alerts, sorted by labels (for the API and tests).
    pub fn alerts(&self) -> Vec<&ActiveAlert> {
        let mut v: Vec<_> = self.active.values().collect();
        v.sort_by(|a, b| a.labels.cmp(&b.labels));
        v
    }

    /// The most advanced state of the rule's alerts.
    pub fn state(&self) -> AlertState {
        self.active
            .values()
            .map(|a| a.state)
            .max()
            .unwrap_or(AlertState::Inactive)
    }
}

/// Evaluates an alerting rule at `ts`: updates `state` and returns the
/// `ALERTS` and `ALERTS_FOR_STATE` samples to store (at `ts` minus the
/// query offset).
pub(crate) fn eval(
    ctx: &EvalContext<'_>,
    def: &AlertingDef,
    rule_labels: &[(String, String)],
    expr: &pharos_promql::Expr,
    text: &str,
    ts: i64,
    state: &mut AlertingState,
) -> Result<Vec<(Labels, f64)>, RuleError> {
    let query_ts = ts - ctx.query_offset;
    let vector = crate::query::instant(ctx.engine, &**ctx.storage, expr, text, query_ts)?;
    let mut current: HashMap<Labels, ActiveAlert> = HashMap::with_capacity(vector.len());
    for (metric, value) in vector {
        let data = TemplateData {
            labels: &metric,
            value,
            external_labels: ctx.external_labels,
            external_url: ctx.external_url,
            ts,
        };
        let mut b = metric.to_builder();
        b.del(METRIC_NAME);
        for (n, v) in rule_labels {
            b.set(n.as_str(), expand::expand(ctx, &def.alert, v, &data));
        }
        b.set("alertname", def.alert.as_str());
        let labels = b.build();
        let annotations = Labels::from_pairs(
            def.annotations
                .iter()
                .map(|(n, v)| (n.as_str(), expand::expand(ctx, &def.alert, v, &data))),
        );
        if current.contains_key(&labels) {
            return Err(RuleError::DuplicateAlert);
        }
        current.insert(
            labels.clone(),
            ActiveAlert {
                labels,
                annotations,
                state: AlertState::Pending,
                value,
                active_at: ts,
                fired_at: None,
                resolved_at: None,
                last_sent_at: None,
                valid_until: 0,
                keep_firing_since: None,
            },
        );
    }
    let found: Vec<Labels> = current.keys().cloned().collect();
    for (labels, new) in current {
        match state.active.get_mut(&labels) {
            Some(a) if a.state != AlertState::Inactive => {
                a.value = new.value;
                a.annotations = new.annotations;
            }
            _ => {
                state.active.insert(labels, new);
            }
        }
    }
    let found: std::collections::HashSet<Labels> = found.into_iter().collect();
    let mut out = Vec::new();
    let mut active_or_pending = 0usize;
    let mut gone = Vec::new();
    for (labels, a) in state.active.iter_mut() {
        if !found.contains(labels) {
            let mut keep_firing = false;
            if a.state == AlertState::Firing && def.keep_firing_for > std::time::Duration::ZERO {
                let since = *a.keep_firing_since.get_or_insert(ts);
                keep_firing = ts - since < millis(def.keep_firing_for);
            }
            if a.state == AlertState::Pending
                || a.resolved_at
                    .is_some_and(|r| ts - r > RESOLVED_RETENTION_MS)
            {
                gone.push(labels.clone());
            }
            if a.state != AlertState::Inactive && !keep_firing {
                a.state = AlertState::Inactive;
                a.resolved_at = Some(ts);
            }
            if !keep_firing {
                continue;
            }
        } else {
            a.keep_firing_since = None;
        }
        active_or_pending += 1;
        if a.state == AlertState::Pending && ts - a.active_at >= millis(def.hold) {
            a.state = AlertState::Firing;
            a.fired_at = Some(ts);
        }
        if state.restored {
            out.push((series(ALERTS_METRIC, &a.labels, Some(a.state)), 1.0));
            out.push((
                series(ALERTS_FOR_STATE_METRIC, &a.labels, None),
                (a.active_at / 1000) as f64,
            ));
        }
    }
    for l in gone {
        state.active.remove(&l);
    }
    if ctx.limit > 0 && active_or_pending > ctx.limit {
        state.active.clear();
        return Err(RuleError::AlertLimit {
            limit: ctx.limit,
            got: active_or_pending,
        });
    }
    Ok(out)
}

/// The alerts to send after an evaluation at `ts`, as Prometheus' notifier
/// sends them: `startsAt` is when the alert started firing, `endsAt` the
/// resolve time or `ts` + 4 × max(`resend_delay`, `interval`).
pub(crate) fn to_send(
    state: &mut AlertingState,
    ts: i64,
    resend_delay: i64,
    interval: i64,
    generator_url: impl FnOnce() -> String,
) -> Vec<Alert> {
    let mut out = Vec::new();
    let mut generator_url = Some(generator_url);
    let mut url = String::new();
    for a in state.active.values_mut() {
        if !a.needs_sending(ts, resend_delay) {
            continue;
        }
        a.last_sent_at = Some(ts);
        a.valid_until = ts + 4 * resend_delay.max(interval);
        out.push(Alert {
            labels: a.labels.clone(),
            annotations: a.annotations.clone(),
            starts_at: a.fired_at.unwrap_or(a.active_at),
            ends_at: Some(a.resolved_at.unwrap_or(a.valid_until)),
            generator_url: {
                // Built once, and only when something is sent.
                if let Some(make) = generator_url.take() {
                    url = make();
                }
                url.clone()
            },
        });
    }
    out.sort_by(|a, b| a.labels.cmp(&b.labels));
    out
}

/// `ALERTS{…, alertstate="…"}` or `ALERTS_FOR_STATE{…}` for an alert.
fn series(name: &str, alert: &Labels, state: Option<AlertState>) -> Labels {
    let mut b = alert.to_builder();
    b.set(METRIC_NAME, name);
    if let Some(s) = state {
        b.set("alertstate", s.as_str());
    }
    b.build()
}

/// The `ALERTS_FOR_STATE` series of an alert (for restoring it).
pub(crate) fn for_state_series(alert: &Labels) -> Labels {
    series(ALERTS_FOR_STATE_METRIC, alert, None)
}

pub(crate) fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
