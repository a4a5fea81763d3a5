//! The router's metrics under Alertmanager 0.25's names, so the
//! Alertmanager mixin's alerts work on Pharos: `alertmanager_alerts`,
//! `alertmanager_alerts_received_total`, `alertmanager_silences`,
//! `alertmanager_notifications_total`,
//! `alertmanager_notifications_failed_total`,
//! `alertmanager_notification_requests_total`,
//! `alertmanager_notification_requests_failed_total`,
//! `alertmanager_notification_latency_seconds` (labelled `integration`,
//! the notifier plugin's name), `alertmanager_dispatcher_aggregation_groups`;
//! and Pharos' own `pharos_alerting_notifications_dropped_total` and
//! `pharos_alerting_deliveries_pending`.
//!
//! Every delivery attempt counts as a notification (and a request), each
//! failed attempt as a failure, so `failed / total` is the failure ratio
//! the mixin's `AlertmanagerFailedToSendAlerts` watches.

use std::sync::Weak;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;

use super::{DeliveryError, Inner, now_ms};
use crate::silence::SilenceState;

type Integration = Vec<(&'static str, String)>;

/// Alertmanager 0.25's latency buckets.
const LATENCY_BUCKETS: [f64; 5] = [1.0, 5.0, 10.0, 15.0, 20.0];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// Counters updated as things happen.
pub(crate) struct Metrics {
    received: Family<Vec<(&'static str, &'static str)>, Counter>,
    notifications: Family<Integration, Counter>,
    failed: Family<Integration, Counter>,
    dropped: Family<Vec<(&'static str, String)>, Counter>,
    latency: Family<Integration, Histogram, fn() -> Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            received: Family::default(),
            notifications: Family::default(),
            failed: Family::default(),
            dropped: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
        }
    }
}

impl Metrics {
    pub(crate) fn received(&self, firing: u64, resolved: u64) {
        self.received
            .get_or_create(&vec![("status", "firing")])
            .inc_by(firing);
        self.received
            .get_or_create(&vec![("status", "resolved")])
            .inc_by(resolved);
    }

    pub(crate) fn attempted(&self, plugin: &str, took: Duration, error: Option<&DeliveryError>) {
        let l = vec![("integration", plugin.to_owned())];
        self.notifications.get_or_create(&l).inc();
        self.latency.get_or_create(&l).observe(took.as_secs_f64());
        if error.is_some() {
            self.failed.get_or_create(&l).inc();
        }
    }

    pub(crate) fn dropped(&self, plugin: &str, reason: &'static str) {
        self.dropped
            .get_or_create(&vec![
                ("integration", plugin.to_owned()),
                ("reason", reason.to_owned()),
            ])
            .inc();
    }
}

/// Encodes the router's metrics when `/metrics` is scraped.
pub struct AlertingCollector {
    inner: Weak<Inner>,
}

impl AlertingCollector {
    pub(crate) fn new(inner: Weak<Inner>) -> Self {
        AlertingCollector { inner }
    }
}

impl std::fmt::Debug for AlertingCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AlertingCollector")
    }
}

fn encode(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    m: &impl EncodeMetric,
) -> std::fmt::Result {
    m.encode(e.encode_descriptor(name, help, None, m.metric_type())?)
}

impl Collector for AlertingCollector {
    fn encode(&self, mut e: DescriptorEncoder) -> std::fmt::Result {
        let Some(inner) = self.inner.upgrade() else {
            return Ok(());
        };
        let now = now_ms();
        let (active, suppressed, silences, groups) = {
            let st = inner.state.lock();
            let (mut active, mut suppressed) = (0i64, 0i64);
            for a in st.dispatcher.alerts().filter(|a| !a.resolved_at(now)) {
                let s = st.dispatcher.status(&a.alert.labels, now, &st.silences);
                if s.silenced_by.is_empty() && s.inhibited_by.is_none() {
                    active += 1;
                } else {
                    suppressed += 1;
                }
            }
            let silences = [
                SilenceState::Active,
                SilenceState::Expired,
                SilenceState::Pending,
            ]
            .map(|s| (s.as_str(), st.silences.count(s, now) as i64));
            (active, suppressed, silences, st.dispatcher.groups().count())
        };
        let alerts = Family::<Vec<(&'static str, &'static str)>, Gauge>::default();
        alerts.get_or_create(&vec![("state", "active")]).set(active);
        alerts
            .get_or_create(&vec![("state", "suppressed")])
            .set(suppressed);
        encode(
            &mut e,
            "alertmanager_alerts",
            "How many alerts by state.",
            &alerts,
        )?;
        let m = &inner.metrics;
        encode(
            &mut e,
            "alertmanager_alerts_received",
            "The total number of received alerts.",
            &m.received,
        )?;
        let sil = Family::<Vec<(&'static str, &'static str)>, Gauge>::default();
        for (state, n) in silences {
            sil.get_or_create(&vec![("state", state)]).set(n);
        }
        encode(
            &mut e,
            "alertmanager_silences",
            "How many silences by state.",
            &sil,
        )?;
        encode(
            &mut e,
            "alertmanager_notifications",
            "The total number of attempted notifications.",
            &m.notifications,
        )?;
        encode(
            &mut e,
            "alertmanager_notifications_failed",
            "The total number of failed notifications.",
            &m.failed,
        )?;
        encode(
            &mut e,
            "alertmanager_notification_requests",
            "The total number of attempted notification requests.",
            &m.notifications,
        )?;
        encode(
            &mut e,
            "alertmanager_notification_requests_failed",
            "The total number of failed notification requests.",
            &m.failed,
        )?;
        encode(
            &mut e,
            "alertmanager_notification_latency_seconds",
            "The latency of notifications in seconds.",
            &m.latency,
        )?;
        let g: Gauge<f64, AtomicU64> = Gauge::default();
        g.set(groups as f64);
        encode(
            &mut e,
            "alertmanager_dispatcher_aggregation_groups",
            "Number of active aggregation groups",
            &g,
        )?;
        encode(
            &mut e,
            "pharos_alerting_notifications_dropped",
            "Notifications given up after a permanent or configuration error.",
            &m.dropped,
        )?;
        let pending: Gauge<f64, AtomicU64> = Gauge::default();
        pending.set(inner.store.pending_deliveries() as f64);
        encode(
            &mut e,
            "pharos_alerting_deliveries_pending",
            "Notifications waiting to be delivered (or retried).",
            &pending,
        )
    }
}
