//! A rule group: its rules evaluated in order at the group's interval, a
//! recording rule's output visible to the rules after it, staleness
//! markers for series a rule stops producing, and the `for` state
//! restored after a restart (Prometheus' `rules/group.go`).

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pharos_model::alert::Alert;
use pharos_model::{Labels, Matcher, Sample, stale_nan};
use pharos_promql::Engine;
use pharos_tsdb::{SeriesAppend, Storage};

use crate::alerting::{self, AlertState, millis};
use crate::error::RuleError;
use crate::rule::{EvalContext, Health, Rule};
use crate::rulefmt::{RuleGroupDef, RuleKind};

/// What every group evaluates with.
pub struct GroupEnv<'a> {
    pub engine: &'a Engine,
    pub storage: &'a Arc<dyn Storage>,
    pub external_labels: &'a Labels,
    pub external_url: &'a str,
    /// Milliseconds between resends of a firing alert.
    pub resend_delay: i64,
    /// Alerts whose `for` state was written more than this long ago are not
    /// restored (`--rules.alert.for-outage-tolerance`).
    pub outage_tolerance: Duration,
    /// The least time an alert still has to wait after a restore
    /// (`--rules.alert.for-grace-period`).
    pub grace_period: Duration,
}

/// Counters and gauges of one group, under Prometheus' metric names.
#[derive(Debug, Clone, Default)]
pub struct GroupMetrics {
    pub evaluations: u64,
    pub failures: u64,
    pub iterations: u64,
    pub iterations_missed: u64,
    /// Samples the last evaluation produced.
    pub last_samples: u64,
}

/// A group of rules with its state.
#[derive(Debug)]
pub struct Group {
    pub name: String,
    pub file: String,
    pub interval: Duration,
    pub query_offset: Duration,
    pub limit: usize,
    pub labels: Vec<(String, String)>,
    pub rules: Vec<Rule>,
    /// Per rule, the series its last successful evaluation stored.
    series_in_previous_eval: Vec<HashSet<Labels>>,
    /// Series of rules removed by a reload, marked stale at the next
    /// evaluation.
    stale_series: Vec<Labels>,
    /// Unix milliseconds (wall clock) when the last evaluation started; 0
    /// before the first.
    pub last_evaluation: i64,
    /// The evaluation time of the last evaluation (Unix milliseconds).
    pub last_eval_timestamp: i64,
    /// Seconds the last evaluation took.
    pub evaluation_time: f64,
    /// Whether the next evaluation is followed by a restore of alerts'
    /// `for` state (only after a start, not after a reload).
    pub should_restore: bool,
    pub metrics: GroupMetrics,
}

impl Group {
    /// A new group from its definition; `interval` and `query_offset` are
    /// the defaults for a group that sets none.
    pub fn new(
        file: &str,
        def: &RuleGroupDef,
        interval: Duration,
        query_offset: Duration,
        should_restore: bool,
    ) -> Self {
        let rules: Vec<Rule> = def
            .rules
            .iter()
            .map(|r| Rule::new(Arc::new(r.clone()), &def.labels, !should_restore))
            .collect();
        Group {
            name: def.name.clone(),
            file: file.to_owned(),
            interval: def.interval.unwrap_or(interval),
            query_offset: def.query_offset.unwrap_or(query_offset),
            limit: def.limit,
            labels: def.labels.clone(),
            series_in_previous_eval: vec![HashSet::new(); rules.len()],
            rules,
            stale_series: Vec::new(),
            last_evaluation: 0,
            last_eval_timestamp: 0,
            evaluation_time: 0.0,
            should_restore,
            metrics: GroupMetrics::default(),
        }
    }

    /// `file;name`, the `rule_group` label of the metrics.
    pub fn key(&self) -> String {
        format!("{};{}", self.file, self.name)
    }

    /// Whether `other` has the same definition (a reload leaves such a
    /// group running untouched).
    pub fn same_definition(&self, other: &Group) -> bool {
        self.interval == other.interval
            && self.query_offset == other.query_offset
            && self.limit == other.limit
            && self.labels == other.labels
            && self.rules.len() == other.rules.len()
            && self
                .rules
                .iter()
                .zip(&other.rules)
                .all(|(a, b)| rule_def_eq(&a.def, &b.def))
    }

    /// Takes over the state of the group it replaces on reload: alerts and
    /// series of rules with the same name and labels; the series of the
    /// others are marked stale at the next evaluation.
    pub fn copy_state(&mut self, from: &Group) {
        self.last_evaluation = from.last_evaluation;
        self.last_eval_timestamp = from.last_eval_timestamp;
        self.evaluation_time = from.evaluation_time;
        self.metrics = from.metrics.clone();
        let mut by_key: HashMap<_, Vec<usize>> = HashMap::new();
        for (i, r) in from.rules.iter().enumerate() {
            by_key.entry(r.state_key()).or_default().push(i);
        }
        for (i, rule) in self.rules.iter_mut().enumerate() {
            let Some(idx) = by_key.get_mut(&rule.state_key()) else {
                continue;
            };
            if idx.is_empty() {
                continue;
            }
            let fi = idx.remove(0);
            self.series_in_previous_eval[i] = from.series_in_previous_eval[fi].clone();
            let old = &from.rules[fi];
            if rule.is_alerting() && old.is_alerting() {
                rule.alerts.active = old.alerts.active.clone();
            }
        }
        self.stale_series = from.stale_series.clone();
        for idx in by_key.values() {
            for &fi in idx {
                self.stale_series
                    .extend(from.series_in_previous_eval[fi].iter().cloned());
            }
        }
    }

    /// The series every rule of this group last stored (to mark them stale
    /// when the group is removed).
    pub fn all_series(&self) -> Vec<Labels> {
        self.series_in_previous_eval
            .iter()
            .flatten()
            .cloned()
            .collect()
    }

    /// The evaluation time at or before `now` (Unix milliseconds): a
    /// multiple of the interval plus the group's offset, a hash of its name
    /// and file, so groups spread over the interval.
    pub fn eval_timestamp(&self, now: i64) -> i64 {
        let interval = millis(self.interval).max(1);
        let mut h = std::hash::DefaultHasher::new();
        (&self.name, &self.file).hash(&mut h);
        let offset = (h.finish() % interval as u64) as i64;
        let adj = now - offset;
        adj - adj.rem_euclid(interval) + offset
    }

    /// Evaluates every rule at `ts` (Unix milliseconds), stores their
    /// samples (one atomic append per rule) and returns the alerts to send.
    pub fn eval(&mut self, env: &GroupEnv<'_>, ts: i64) -> Vec<(usize, Vec<Alert>)> {
        let started = Instant::now();
        self.last_evaluation = crate::now_ms();
        let query_offset = millis(self.query_offset);
        let ctx = EvalContext {
            engine: env.engine,
            storage: env.storage,
            query_offset,
            limit: self.limit,
            external_labels: env.external_labels,
            external_url: env.external_url,
        };
        let mut to_send = Vec::new();
        let mut samples_total = 0u64;
        let sample_ts = ts - query_offset;
        for (i, rule) in self.rules.iter_mut().enumerate() {
            let rule_started = Instant::now();
            rule.last_evaluation = crate::now_ms();
            self.metrics.evaluations += 1;
            let result = rule.eval(&ctx, ts);
            let outcome = result.and_then(|vector| {
                samples_total += vector.len() as u64;
                if rule.is_alerting() {
                    let expr = &rule.def.expr_text;
                    let alerts = alerting::to_send(
                        &mut rule.alerts,
                        ts,
                        env.resend_delay,
                        millis(self.interval),
                        || generator_url(env.external_url, expr),
                    );
                    if !alerts.is_empty() {
                        to_send.push((i, alerts));
                    }
                }
                let returned: HashSet<Labels> = vector.iter().map(|(l, _)| l.clone()).collect();
                let mut batch: Vec<SeriesAppend> = vector
                    .into_iter()
                    .map(|(labels, v)| SeriesAppend {
                        labels,
                        samples: vec![Sample::new(sample_ts, v)],
                    })
                    .collect();
                batch.extend(
                    self.series_in_previous_eval[i]
                        .iter()
                        .filter(|l| !returned.contains(*l))
                        .map(|l| stale(l, sample_ts)),
                );
                if !batch.is_empty() {
                    env.storage
                        .append(&batch)
                        .map_err(|e| RuleError::Append(e.to_string()))?;
                }
                self.series_in_previous_eval[i] = returned;
                Ok(())
            });
            match outcome {
                Ok(()) => {
                    rule.health = Health::Good;
                    rule.last_error = None;
                }
                Err(e) => {
                    tracing::warn!(group = %self.name, file = %self.file, rule = rule.name(), error = %e, "rule evaluation failed");
                    rule.health = Health::Bad;
                    rule.last_error = Some(e);
                    self.metrics.failures += 1;
                }
            }
            rule.evaluation_time = rule_started.elapsed().as_secs_f64();
        }
        if !self.stale_series.is_empty() {
            let batch: Vec<SeriesAppend> = self
                .stale_series
                .iter()
                .map(|l| stale(l, sample_ts))
                .collect();
            match env.storage.append(&batch) {
                Ok(_) => self.stale_series.clear(),
                Err(e) => {
                    tracing::warn!(group = %self.name, error = %e, "staleness markers not stored");
                }
            }
        }
        self.metrics.iterations += 1;
        self.metrics.last_samples = samples_total;
        self.last_eval_timestamp = ts;
        self.evaluation_time = started.elapsed().as_secs_f64();
        to_send
    }

    /// After the first evaluations following a start: gives alerts that
    /// were pending or firing before the restart their old `ActiveAt` back
    /// from `ALERTS_FOR_STATE`, as Prometheus does (within the outage
    /// tolerance, leaving at least the grace period to wait), then lets
    /// every alerting rule write `ALERTS`.
    pub fn restore_for_state(&mut self, env: &GroupEnv<'_>, now: i64) {
        let mint = now - millis(env.outage_tolerance);
        let grace = millis(env.grace_period);
        for rule in &mut self.rules {
            let RuleKind::Alerting(def) = &rule.def.kind else {
                continue;
            };
            let hold = millis(def.hold);
            if hold < grace {
                rule.alerts.restored = true;
                continue;
            }
            for a in rule.alerts.active.values_mut() {
                if a.state == AlertState::Inactive {
                    continue;
                }
                let Some((down_at, v)) = last_for_state(&**env.storage, &a.labels, mint, now)
                else {
                    continue;
                };
                // Whole seconds, as Prometheus stores and reads them.
                let down_at = down_at / 1000 * 1000;
                let active_at = (v as i64).saturating_mul(1000);
                let remaining = hold - (down_at - active_at);
                a.active_at = if remaining <= 0 {
                    // Waited long enough before the outage.
                    active_at
                } else if remaining < grace {
                    // Leave at least the grace period to wait.
                    now + grace - hold
                } else {
                    // Resume where it left off: the outage does not count.
                    active_at + (now - down_at)
                };
            }
            rule.alerts.restored = true;
        }
    }
}

/// The last `ALERTS_FOR_STATE` sample of an alert in `[mint, maxt]`, unless
/// it is a staleness marker: (its time, its value).
fn last_for_state(
    storage: &dyn Storage,
    alert: &Labels,
    mint: i64,
    maxt: i64,
) -> Option<(i64, f64)> {
    let wanted = alerting::for_state_series(alert);
    let matchers: Vec<Matcher> = wanted
        .iter()
        .map(|l| Matcher::equal(l.name.as_str(), l.value.as_str()))
        .collect();
    let series = match storage.select(&matchers, mint, maxt) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read ALERTS_FOR_STATE");
            return None;
        }
    };
    let s = series.into_iter().find(|s| s.labels == wanted)?;
    let last = s.samples().into_iter().last()?;
    (!pharos_model::is_stale_nan(last.v)).then_some((last.t, last.v))
}

fn stale(labels: &Labels, t: i64) -> SeriesAppend {
    SeriesAppend {
        labels: labels.clone(),
        samples: vec![Sample::new(t, stale_nan())],
    }
}

/// Prometheus' link back to an expression:
/// `<external URL>/graph?g0.expr=<expr>&g0.tab=1`.
pub fn generator_url(external_url: &str, expr: &str) -> String {
    let mut q = url_query_escape(expr);
    q.insert_str(0, "/graph?g0.expr=");
    q.push_str("&g0.tab=1");
    format!("{}{q}", external_url.trim_end_matches('/'))
}

/// Go's `url.QueryEscape`.
fn url_query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn rule_def_eq(a: &crate::rulefmt::RuleDef, b: &crate::rulefmt::RuleDef) -> bool {
    a.expr_text == b.expr_text
        && a.labels == b.labels
        && match (&a.kind, &b.kind) {
            (RuleKind::Recording(x), RuleKind::Recording(y)) => x.record == y.record,
            (RuleKind::Alerting(x), RuleKind::Alerting(y)) => {
                x.alert == y.alert
                    && x.hold == y.hold
                    && x.keep_firing_for == y.keep_firing_for
                    && x.annotations == y.annotations
            }
            _ => false,
        }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rulefmt::parse_str;
    use pharos_promql::EngineOptions;
    use pharos_tsdb::{Appendable, MemStorage};

    const RULES: &str = "groups:\n- name: g\n  rules:\n  - alert: Up\n    expr: up > 0\n    for: 2m\n    labels:\n      severity: page\n  - record: r\n    expr: up\n";

    fn group(text: &str) -> Group {
        let file = parse_str(text, "f.yml").unwrap_or_else(|e| panic!("{e:?}"));
        Group::new(
            "f.yml",
            &file.groups[0],
            Duration::from_secs(60),
            Duration::ZERO,
            false,
        )
    }

    fn storage_with_up() -> Arc<dyn Storage> {
        let s = MemStorage::new();
        let batch: Vec<SeriesAppend> = (0..10)
            .map(|i| SeriesAppend {
                labels: Labels::from_pairs([("__name__", "up"), ("job", "a")]),
                samples: vec![Sample::new(i * 60_000, 1.0)],
            })
            .collect();
        s.append(&batch).unwrap_or_else(|e| panic!("{e}"));
        Arc::new(s)
    }

    #[test]
    fn a_reload_keeps_the_state_of_rules_with_the_same_name_and_labels() {
        let storage = storage_with_up();
        let engine = Engine::new(EngineOptions::default());
        let env = GroupEnv {
            engine: &engine,
            storage: &storage,
            external_labels: &Labels::empty(),
            external_url: "",
            resend_delay: 60_000,
            outage_tolerance: Duration::from_secs(3600),
            grace_period: Duration::from_secs(600),
        };
        let mut old = group(RULES);
        for t in [0, 60_000, 120_000] {
            old.eval(&env, t);
        }
        assert_eq!(old.rules[0].alerts.state(), AlertState::Firing);

        // Same alert, new expression and annotations: the alert keeps firing.
        let mut new = group(&RULES.replace("up > 0", "up >= 1"));
        assert!(!new.same_definition(&old));
        new.copy_state(&old);
        new.eval(&env, 180_000);
        let alerts = new.rules[0].alerts.alerts();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].state, AlertState::Firing);
        assert_eq!(alerts[0].active_at, 0);

        // Different labels: a new alert, pending again; the old series go
        // stale.
        let mut other = group(&RULES.replace("severity: page", "severity: ticket"));
        other.copy_state(&new);
        other.eval(&env, 240_000);
        assert_eq!(other.rules[0].alerts.state(), AlertState::Pending);
    }

    #[test]
    fn groups_spread_over_the_interval_by_name() {
        let a = group(RULES);
        let b = group(&RULES.replace("name: g", "name: h"));
        let now = 1_700_000_123_456;
        for g in [&a, &b] {
            let ts = g.eval_timestamp(now);
            assert!(ts <= now && now - ts < 60_000, "{ts}");
            assert_eq!(g.eval_timestamp(ts + 60_000), ts + 60_000);
        }
        assert_ne!(a.eval_timestamp(now), b.eval_timestamp(now));
    }

    #[test]
    fn generator_urls_as_prometheus_writes_them() {
        assert_eq!(
            generator_url("http://h:9090/", "sum(rate(x{a=\"b\"}[5m])) > 0"),
            "http://h:9090/graph?g0.expr=sum%28rate%28x%7Ba%3D%22b%22%7D%5B5m%5D%29%29+%3E+0&g0.tab=1"
        );
    }
}
