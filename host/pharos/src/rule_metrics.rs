//! Rule groups on `/metrics` under Prometheus' own names
//! (`prometheus_rule_*`, labelled `rule_group="<file>;<group>"`), so the
//! Prometheus mixin's rule alerts (`PrometheusRuleFailures`,
//! `PrometheusMissingRuleEvaluations`) work on Pharos unchanged. Read from
//! the rule manager when `/metrics` is scraped.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use parking_lot::Mutex;
use pharos_rules::{GroupMetrics, RuleManager};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

type Group = Vec<(&'static str, String)>;

/// A metric's name, help and how to read it.
type Read<T, V> = (&'static str, &'static str, fn(&T) -> V);

/// One group's numbers, copied under its lock.
struct Snapshot {
    key: String,
    metrics: GroupMetrics,
    interval: f64,
    last_duration: f64,
    last_evaluation: i64,
    rules: usize,
}

/// Where the rule manager is, once running.
pub type RulesSlot = Arc<Mutex<Option<Arc<RuleManager>>>>;

/// Where the Alertmanager sender is, once running.
pub type NotifierSlot = Arc<Mutex<Option<Arc<crate::notifier::Notifier>>>>;

/// Encodes the rule and notification metrics.
#[derive(Default)]
pub struct RuleCollector {
    pub slot: RulesSlot,
    pub notifier: NotifierSlot,
}

impl std::fmt::Debug for RuleCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RuleCollector")
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

impl Collector for RuleCollector {
    fn encode(&self, mut e: DescriptorEncoder) -> std::fmt::Result {
        if let Some(n) = self.notifier.lock().clone() {
            encode_notifier(&mut e, &n.stats())?;
        }
        let Some(manager) = self.slot.lock().clone() else {
            return Ok(());
        };
        let groups: Vec<Snapshot> = manager
            .groups()
            .iter()
            .map(|g| {
                let g = g.lock();
                Snapshot {
                    key: g.key(),
                    metrics: g.metrics.clone(),
                    interval: g.interval.as_secs_f64(),
                    last_duration: g.evaluation_time,
                    last_evaluation: g.last_eval_timestamp,
                    rules: g.rules.len(),
                }
            })
            .collect();
        let label = |s: &Snapshot| -> Group { vec![("rule_group", s.key.clone())] };
        let counters: [Read<GroupMetrics, u64>; 4] = [
            (
                "prometheus_rule_evaluations",
                "The total number of rule evaluations.",
                |m| m.evaluations,
            ),
            (
                "prometheus_rule_evaluation_failures",
                "The total number of rule evaluation failures.",
                |m| m.failures,
            ),
            (
                "prometheus_rule_group_iterations",
                "The total number of scheduled rule group evaluations, whether executed or missed.",
                |m| m.iterations + m.iterations_missed,
            ),
            (
                "prometheus_rule_group_iterations_missed",
                "The total number of rule group evaluations missed due to slow rule group evaluation.",
                |m| m.iterations_missed,
            ),
        ];
        for (name, help, value) in counters {
            let f = Family::<Group, Counter>::default();
            for s in &groups {
                f.get_or_create(&label(s)).inc_by(value(&s.metrics));
            }
            encode(&mut e, name, help, &f)?;
        }
        let gauges: [Read<Snapshot, f64>; 5] = [
            (
                "prometheus_rule_group_interval_seconds",
                "The interval of a rule group.",
                |s| s.interval,
            ),
            (
                "prometheus_rule_group_last_duration_seconds",
                "The duration of the last rule group evaluation.",
                |s| s.last_duration,
            ),
            (
                "prometheus_rule_group_last_evaluation_samples",
                "The number of samples returned during the last rule group evaluation.",
                |s| s.metrics.last_samples as f64,
            ),
            (
                "prometheus_rule_group_last_evaluation_timestamp_seconds",
                "The timestamp of the last rule group evaluation in seconds.",
                |s| s.last_evaluation as f64 / 1000.0,
            ),
            ("prometheus_rule_group_rules", "The number of rules.", |s| {
                s.rules as f64
            }),
        ];
        for (name, help, value) in gauges {
            let f = Family::<Group, Gauge<f64, AtomicU64>>::default();
            for s in &groups {
                f.get_or_create(&label(s)).set(value(s));
            }
            encode(&mut e, name, help, &f)?;
        }
        Ok(())
    }
}

/// `prometheus_notifications_*`, labelled by Alertmanager URL.
fn encode_notifier(
    e: &mut DescriptorEncoder,
    s: &crate::notifier::NotifierStats,
) -> std::fmt::Result {
    type Am = Vec<(&'static str, String)>;
    let sent = Family::<Am, Counter>::default();
    let errors = Family::<Am, Counter>::default();
    for (url, ok, failed) in &s.per_alertmanager {
        let l = vec![("alertmanager", url.clone())];
        sent.get_or_create(&l).inc_by(*ok);
        errors.get_or_create(&l).inc_by(*failed);
    }
    encode(
        e,
        "prometheus_notifications_sent",
        "Total number of alerts sent.",
        &sent,
    )?;
    encode(
        e,
        "prometheus_notifications_errors",
        "Total number of sent alerts affected by errors.",
        &errors,
    )?;
    let dropped: Counter = Counter::default();
    dropped.inc_by(s.dropped);
    encode(
        e,
        "prometheus_notifications_dropped",
        "Total number of alerts dropped due to errors when sending to Alertmanager.",
        &dropped,
    )?;
    let gauges = [
        (
            "prometheus_notifications_queue_length",
            "The number of alert notifications in the queue.",
            s.queue_length,
        ),
        (
            "prometheus_notifications_queue_capacity",
            "The capacity of the alert notifications queue.",
            s.queue_capacity,
        ),
        (
            "prometheus_notifications_alertmanagers_discovered",
            "The number of alertmanagers discovered and active.",
            s.per_alertmanager.len() as u64,
        ),
    ];
    for (name, help, v) in gauges {
        let g: Gauge = Gauge::default();
        g.set(i64::try_from(v).unwrap_or(i64::MAX));
        encode(e, name, help, &g)?;
    }
    Ok(())
}
