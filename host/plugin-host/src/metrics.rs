//! Per-plugin call metrics and backoff state, updated lock-free on every
//! call and read as a snapshot (for `/metrics` and `/api/v1/plugins`).
//!
//! Backoff follows Prometheus' discovery and Alertmanager's notifier
//! retries in spirit: after `n` failures in a row the next attempt should
//! wait `min(base · 2^(n-1), max)`; a success resets it. The host records
//! it; the scheduler that calls plugins decides whether to honour it.

use crate::error::ErrorKind;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const BACKOFF_BASE: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// Counters of one plugin.
#[derive(Debug, Default)]
pub(crate) struct PluginMetrics {
    calls: AtomicU64,
    errors: [AtomicU64; ErrorKind::ALL.len()],
    duration_nanos: AtomicU64,
    memory_high_water: AtomicU64,
    denied_requests: AtomicU64,
    log_lines_dropped: AtomicU64,
    backoff: Mutex<Backoff>,
}

/// A plugin's retry state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backoff {
    /// Failed calls since the last success.
    pub consecutive_failures: u32,
    /// When the next call should be made at the earliest; `None` after a
    /// success.
    pub retry_after: Option<Instant>,
}

/// A copy of a plugin's counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Calls made (successful or not).
    pub calls: u64,
    /// Failed calls by kind (every kind listed, zeros included).
    pub errors: Vec<(ErrorKind, u64)>,
    /// Total time spent in calls, instantiation included.
    pub duration_total: Duration,
    /// The largest linear memory any call reached, in bytes.
    pub memory_high_water_bytes: u64,
    /// Outbound requests the sandbox refused.
    pub denied_requests: u64,
    /// Log lines dropped over the per-call cap.
    pub log_lines_dropped: u64,
    /// The retry state.
    pub backoff: Backoff,
}

impl MetricsSnapshot {
    /// Failed calls of one kind.
    pub fn errors_of(&self, kind: ErrorKind) -> u64 {
        self.errors
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0, |(_, n)| *n)
    }
}

pub(crate) struct CallRecord {
    pub(crate) duration: Duration,
    pub(crate) memory_high_water: usize,
    pub(crate) denied_requests: usize,
    pub(crate) log_lines_dropped: u32,
    pub(crate) error: Option<ErrorKind>,
}

impl PluginMetrics {
    pub(crate) fn record(&self, r: CallRecord) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(r.duration.as_nanos()).unwrap_or(u64::MAX);
        self.duration_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.memory_high_water
            .fetch_max(r.memory_high_water as u64, Ordering::Relaxed);
        self.denied_requests
            .fetch_add(r.denied_requests as u64, Ordering::Relaxed);
        self.log_lines_dropped
            .fetch_add(u64::from(r.log_lines_dropped), Ordering::Relaxed);
        let mut backoff = self.backoff.lock();
        match r.error {
            None => *backoff = Backoff::default(),
            Some(kind) => {
                self.errors[kind.index()].fetch_add(1, Ordering::Relaxed);
                backoff.consecutive_failures = backoff.consecutive_failures.saturating_add(1);
                backoff.retry_after =
                    Some(Instant::now() + backoff_delay(backoff.consecutive_failures));
            }
        }
    }

    pub(crate) fn reset_backoff(&self) {
        *self.backoff.lock() = Backoff::default();
    }

    pub(crate) fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            calls: self.calls.load(Ordering::Relaxed),
            errors: ErrorKind::ALL
                .iter()
                .map(|k| (*k, self.errors[k.index()].load(Ordering::Relaxed)))
                .collect(),
            duration_total: Duration::from_nanos(self.duration_nanos.load(Ordering::Relaxed)),
            memory_high_water_bytes: self.memory_high_water.load(Ordering::Relaxed),
            denied_requests: self.denied_requests.load(Ordering::Relaxed),
            log_lines_dropped: self.log_lines_dropped.load(Ordering::Relaxed),
            backoff: *self.backoff.lock(),
        }
    }
}

/// `min(base · 2^(failures-1), max)`.
pub(crate) fn backoff_delay(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    BACKOFF_BASE.saturating_mul(1 << exp).min(BACKOFF_MAX)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!(backoff_delay(1), Duration::from_secs(1));
        assert_eq!(backoff_delay(2), Duration::from_secs(2));
        assert_eq!(backoff_delay(5), Duration::from_secs(16));
        assert_eq!(backoff_delay(100), BACKOFF_MAX);
    }

    #[test]
    fn a_success_resets_the_backoff() {
        let m = PluginMetrics::default();
        let rec = |error| CallRecord {
            duration: Duration::from_millis(1),
            memory_high_water: 1 << 20,
            denied_requests: 0,
            log_lines_dropped: 0,
            error,
        };
        m.record(rec(Some(ErrorKind::Trap)));
        m.record(rec(Some(ErrorKind::Timeout)));
        let s = m.snapshot();
        assert_eq!(s.backoff.consecutive_failures, 2);
        assert!(s.backoff.retry_after.is_some());
        assert_eq!(s.errors_of(ErrorKind::Trap), 1);
        m.record(rec(None));
        let s = m.snapshot();
        assert_eq!(s.calls, 3);
        assert_eq!(s.backoff, Backoff::default());
        assert_eq!(s.memory_high_water_bytes, 1 << 20);
    }
}
