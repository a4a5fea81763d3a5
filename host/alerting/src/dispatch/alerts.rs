//! Alerts as the dispatcher keeps them: Alertmanager's merge of a new
//! version into a known alert, its default `endsAt`, and its sort order.

use std::cmp::Ordering;

use pharos_model::Labels;
use pharos_model::alert::Alert;

/// An alert with what Alertmanager tracks beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAlert {
    /// The alert (`ends_at` always set once stored).
    pub alert: Alert,
    /// `ends_at` was filled in from `resolve_timeout`, not sent.
    pub timeout: bool,
    /// When this version was received, Unix ms.
    pub updated_at: i64,
}

impl StoredAlert {
    /// Takes a received alert at `now`: an alert without `ends_at` gets
    /// `now + resolve_timeout` (and counts as timing out); one without
    /// `starts_at` starts now (or at its end, when it has one).
    pub fn received(mut alert: Alert, now: i64, resolve_timeout_ms: i64) -> Self {
        if alert.starts_at == 0 {
            alert.starts_at = alert.ends_at.unwrap_or(now);
        }
        let timeout = alert.ends_at.is_none();
        if timeout {
            alert.ends_at = Some(now.saturating_add(resolve_timeout_ms));
        }
        StoredAlert {
            alert,
            timeout,
            updated_at: now,
        }
    }

    /// Whether resolved at `now`.
    pub fn resolved_at(&self, now: i64) -> bool {
        self.alert.resolved_at(now)
    }

    /// Whether a new version overlaps this one's activity (it ends or
    /// starts strictly inside it): only then does Alertmanager merge the
    /// two; otherwise the new version replaces the old.
    pub fn overlaps(&self, newer: &StoredAlert) -> bool {
        let (start, end) = (self.alert.starts_at, self.alert.ends_at.unwrap_or(i64::MAX));
        let inside = |t: i64| t > start && t < end;
        newer.alert.ends_at.is_some_and(inside) || inside(newer.alert.starts_at)
    }

    /// Merges a newer version into this one as Alertmanager does: the
    /// earliest start wins; for a resolved newer version the latest
    /// explicit resolve time wins, for a firing one a later end that is
    /// not a timeout is kept.
    pub fn merge(&self, newer: StoredAlert, now: i64) -> StoredAlert {
        let (old, mut res) = if newer.updated_at < self.updated_at {
            (&newer, self.clone())
        } else {
            (self, newer.clone())
        };
        if old.alert.starts_at < res.alert.starts_at {
            res.alert.starts_at = old.alert.starts_at;
        }
        let old_end = old.alert.ends_at.unwrap_or(i64::MIN);
        let res_end = res.alert.ends_at.unwrap_or(i64::MIN);
        if res.resolved_at(now) {
            if old.resolved_at(now) && old_end > res_end {
                res.alert.ends_at = old.alert.ends_at;
            }
        } else if old_end > res_end && !old.timeout {
            res.alert.ends_at = old.alert.ends_at;
            res.timeout = false;
        }
        res
    }
}

/// Prometheus' `LabelSet.Before`: fewer labels first, then by the sorted
/// union of names, a missing name first, then by value.
pub fn label_set_before(a: &Labels, b: &Labels) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| {
        let mut names: Vec<&str> = a.iter().chain(b.iter()).map(|l| l.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        for n in names {
            match (a.get(n), b.get(n)) {
                (None, None) => {}
                (None, Some(_)) => return Ordering::Less,
                (Some(_), None) => return Ordering::Greater,
                (Some(x), Some(y)) if x != y => return x.cmp(y),
                _ => {}
            }
        }
        Ordering::Equal
    })
}

/// Alertmanager's alert order in a notification: by `job`, then
/// `instance` (an alert without the label after those with it), then by
/// label set.
pub fn alert_order(a: &Alert, b: &Alert) -> Ordering {
    for key in ["job", "instance"] {
        match (a.labels.get(key), b.labels.get(key)) {
            (None, None) => continue,
            (None, Some(_)) => return Ordering::Greater,
            (Some(_), None) => return Ordering::Less,
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            _ => {}
        }
    }
    label_set_before(&a.labels, &b.labels)
}
