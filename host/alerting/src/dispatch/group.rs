//! An aggregation group: the alerts of one route with the same group
//! labels, and when it flushes next (Alertmanager `dispatch.aggrGroup`).

use std::collections::BTreeMap;

use pharos_model::Labels;
use pharos_model::alert::Alert;

use super::alerts::{StoredAlert, alert_order};
use crate::route::RouteId;

/// One aggregation group.
#[derive(Debug, Clone)]
pub struct AggrGroup {
    /// The route the group belongs to.
    pub route: RouteId,
    /// The group labels.
    pub labels: Labels,
    /// `<route key>:<group labels>`.
    pub key: String,
    /// Alerts by label set.
    pub alerts: BTreeMap<Labels, StoredAlert>,
    /// When the next flush is due, Unix ms.
    pub next_flush: i64,
    /// Whether the group has flushed at least once.
    pub has_flushed: bool,
}

impl AggrGroup {
    /// A new group that first flushes `group_wait` after `now`.
    pub fn new(route: RouteId, labels: Labels, key: String, now: i64, group_wait_ms: i64) -> Self {
        AggrGroup {
            route,
            labels,
            key,
            alerts: BTreeMap::new(),
            next_flush: now.saturating_add(group_wait_ms),
            has_flushed: false,
        }
    }

    /// Inserts (replaces) an alert. Before the first flush, an alert that
    /// started more than `group_wait` ago makes the flush due now.
    pub fn insert(&mut self, alert: StoredAlert, now: i64, group_wait_ms: i64) {
        if !self.has_flushed && alert.alert.starts_at.saturating_add(group_wait_ms) < now {
            self.next_flush = self.next_flush.min(now);
        }
        self.alerts.insert(alert.alert.labels.clone(), alert);
    }

    /// The alerts as a flush at `now` sends them: sorted, and a firing
    /// alert's `ends_at` cleared (so it does not resolve later on the
    /// receiver's side).
    pub fn snapshot(&self, now: i64) -> Vec<Alert> {
        let mut out: Vec<Alert> = self
            .alerts
            .values()
            .map(|s| {
                let mut a = s.alert.clone();
                if !a.resolved_at(now) {
                    a.ends_at = None;
                }
                a
            })
            .collect();
        out.sort_by(alert_order);
        out
    }

    /// Removes the alerts that were resolved in a flush, unless a newer
    /// version arrived since.
    pub fn remove_resolved(&mut self, flushed: &[Alert], now: i64) {
        for a in flushed.iter().filter(|a| a.resolved_at(now)) {
            if self
                .alerts
                .get(&a.labels)
                .is_some_and(|s| s.alert.ends_at == a.ends_at)
            {
                self.alerts.remove(&a.labels);
            }
        }
    }
}
