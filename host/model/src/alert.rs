//! Alerts on their way from rule evaluation to routing: the seam where the
//! two halves of alerting meet.
//!
//! [`Alert`] is what Prometheus' notifier sends and Alertmanager's
//! `POST /api/v2/alerts` accepts (`labels`, `annotations`, `startsAt`,
//! `endsAt`, `generatorURL`). Rule evaluation (`pharos-rules`) hands firing
//! and resolved alerts to an [`AlertSink`]; Pharos' own router
//! (`pharos-alerting`) implements it, and so does the sender to external
//! Alertmanagers. The API's `POST /api/v2/alerts` feeds the same sink.

use crate::Labels;

/// One alert, as Prometheus sends it to an Alertmanager.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Identity: the rule's output labels plus `alertname` (and the
    /// external labels once sent).
    pub labels: Labels,
    /// Rendered annotations.
    pub annotations: Labels,
    /// When the alert became active (pending), in Unix milliseconds. For a
    /// firing alert Prometheus sends the time it started firing.
    pub starts_at: i64,
    /// Unix milliseconds. For a firing alert: a time in the future after
    /// which the alert counts as resolved unless it is sent again
    /// (Prometheus: evaluation time + 4 × max(evaluation interval, resend
    /// delay)); for a resolved alert: when it resolved. `None`: not set
    /// (an alert posted without `endsAt`).
    pub ends_at: Option<i64>,
    /// A link back to the expression that produced the alert.
    pub generator_url: String,
}

impl Alert {
    /// Whether the alert is resolved at `now` (Unix milliseconds).
    pub fn resolved_at(&self, now: i64) -> bool {
        self.ends_at.is_some_and(|e| e <= now)
    }
}

/// Receives alerts. Implementations queue and return at once: rule
/// evaluation calls this on its own thread and must not wait for routing
/// or delivery.
pub trait AlertSink: Send + Sync {
    /// Hands over a batch of alerts (firing and resolved ones, mixed).
    fn send(&self, alerts: Vec<Alert>);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolved_only_once_ends_at_has_passed() {
        let mut a = Alert {
            labels: Labels::from_pairs([("alertname", "Down")]),
            annotations: Labels::empty(),
            starts_at: 1_000,
            ends_at: None,
            generator_url: String::new(),
        };
        assert!(!a.resolved_at(5_000));
        a.ends_at = Some(5_000);
        assert!(a.resolved_at(5_000));
        assert!(!a.resolved_at(4_999));
    }
}
