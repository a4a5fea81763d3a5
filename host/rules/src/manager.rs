//! The rule manager: runs every group on its own schedule, replaces groups
//! on reload (unchanged groups keep running; changed ones take over their
//! predecessor's alert state), restores alerts' `for` state after a start,
//! and hands alerts to the [`AlertSink`]s (Prometheus' `rules/manager.go`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::{Mutex, RwLock};
use pharos_model::alert::{Alert, AlertSink};
use pharos_model::{Labels, Sample, stale_nan};
use pharos_promql::Engine;
use pharos_tsdb::{SeriesAppend, Storage};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::alerting::millis;
use crate::group::{Group, GroupEnv};
use crate::rulefmt::RuleFile;

/// Settings that come from the config file and may change on reload.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSettings {
    /// `[global] evaluation_interval`: the interval of groups without one.
    pub evaluation_interval: Duration,
    /// `[rules] query_offset`: the query offset of groups without one.
    pub query_offset: Duration,
    pub external_labels: Labels,
    /// The URL Pharos is reached under (for `$externalURL` and generator
    /// URLs).
    pub external_url: String,
    /// `[rules] resend_delay` (1m).
    pub resend_delay: Duration,
    /// `[rules] for_outage_tolerance` (1h).
    pub outage_tolerance: Duration,
    /// `[rules] for_grace_period` (10m).
    pub grace_period: Duration,
}

impl Default for RuleSettings {
    fn default() -> Self {
        RuleSettings {
            evaluation_interval: Duration::from_secs(60),
            query_offset: Duration::ZERO,
            external_labels: Labels::empty(),
            external_url: String::new(),
            resend_delay: Duration::from_secs(60),
            outage_tolerance: Duration::from_secs(3600),
            grace_period: Duration::from_secs(600),
        }
    }
}

/// A running group.
struct Running {
    group: Arc<Mutex<Group>>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

struct Shared {
    engine: Engine,
    storage: Arc<dyn Storage>,
    settings: RwLock<RuleSettings>,
    sinks: RwLock<Vec<Arc<dyn AlertSink>>>,
}

/// Runs rule groups.
pub struct RuleManager {
    shared: Arc<Shared>,
    groups: Mutex<BTreeMap<(String, String), Running>>,
    /// Whether groups started by the next update restore alert state (only
    /// the first update after start).
    first_update: Mutex<bool>,
}

impl RuleManager {
    pub fn new(engine: Engine, storage: Arc<dyn Storage>) -> Self {
        RuleManager {
            shared: Arc::new(Shared {
                engine,
                storage,
                settings: RwLock::new(RuleSettings::default()),
                sinks: RwLock::new(Vec::new()),
            }),
            groups: Mutex::new(BTreeMap::new()),
            first_update: Mutex::new(true),
        }
    }

    /// Adds a receiver of the alerts rules fire and resolve.
    pub fn add_sink(&self, sink: Arc<dyn AlertSink>) {
        self.shared.sinks.write().push(sink);
    }

    /// Applies loaded rule files: new groups start, removed ones stop (their
    /// series are marked stale), changed ones restart with the old state,
    /// unchanged ones keep running. Call inside a Tokio runtime.
    pub fn update(&self, settings: RuleSettings, files: &[RuleFile]) {
        let restore = std::mem::replace(&mut *self.first_update.lock(), false);
        *self.shared.settings.write() = settings.clone();
        let mut groups = self.groups.lock();
        let mut old = std::mem::take(&mut *groups);
        for file in files {
            for def in &file.groups {
                let key = (file.path.clone(), def.name.clone());
                let mut new = Group::new(
                    &file.path,
                    def,
                    settings.evaluation_interval,
                    settings.query_offset,
                    restore,
                );
                if let Some(running) = old.remove(&key) {
                    if running.group.lock().same_definition(&new) {
                        groups.insert(key, running);
                        continue;
                    }
                    let _ = running.stop.send(true);
                    running.task.abort();
                    new.copy_state(&running.group.lock());
                }
                groups.insert(key, self.start(new));
            }
        }
        let now = now_ms();
        for (_, running) in old {
            let _ = running.stop.send(true);
            running.task.abort();
            let series = running.group.lock().all_series();
            mark_stale(self.shared.storage.as_ref(), &series, now);
        }
    }

    fn start(&self, group: Group) -> Running {
        let group = Arc::new(Mutex::new(group));
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run_group(self.shared.clone(), group.clone(), stopped));
        Running { group, stop, task }
    }

    /// The running groups, ordered by file and name.
    pub fn groups(&self) -> Vec<Arc<Mutex<Group>>> {
        self.groups
            .lock()
            .values()
            .map(|r| r.group.clone())
            .collect()
    }

    /// Stops every group (their series are left as they are: a restart
    /// continues them).
    pub async fn stop(&self) {
        let groups = std::mem::take(&mut *self.groups.lock());
        for (_, r) in groups {
            let _ = r.stop.send(true);
            let _ = r.task.await;
        }
    }
}

/// One group's loop: the first evaluation at the next aligned time, then
/// every interval; evaluations that could not start in time are counted as
/// missed, not queued.
async fn run_group(shared: Arc<Shared>, group: Arc<Mutex<Group>>, mut stop: watch::Receiver<bool>) {
    let (interval, mut ts, restore) = {
        let g = group.lock();
        let interval = millis(g.interval).max(1);
        (
            interval,
            g.eval_timestamp(now_ms()) + interval,
            g.should_restore,
        )
    };
    let mut iterations = 0u32;
    loop {
        let wait = u64::try_from(ts - now_ms()).unwrap_or(0);
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(Duration::from_millis(wait)) => {}
        }
        let (s, g) = (shared.clone(), group.clone());
        let evaluated = tokio::task::spawn_blocking(move || iteration(&s, &g, ts)).await;
        if evaluated.is_err() {
            tracing::error!("rule group evaluation panicked");
        }
        iterations += 1;
        // As Prometheus: restore after the second evaluation, when recording
        // rules the alerts may depend on have run.
        if restore && iterations == 2 {
            let (s, g) = (shared.clone(), group.clone());
            let _ = tokio::task::spawn_blocking(move || {
                let settings = s.settings.read().clone();
                let env = env(&s, &settings);
                g.lock().restore_for_state(&env, now_ms());
                g.lock().should_restore = false;
            })
            .await;
        }
        ts += interval;
        let late = now_ms() - ts;
        if late >= interval {
            let missed = late / interval;
            group.lock().metrics.iterations_missed += missed as u64;
            ts += missed * interval;
        }
    }
}

fn env<'a>(shared: &'a Shared, settings: &'a RuleSettings) -> GroupEnv<'a> {
    GroupEnv {
        engine: &shared.engine,
        storage: &shared.storage,
        external_labels: &settings.external_labels,
        external_url: &settings.external_url,
        resend_delay: millis(settings.resend_delay),
        outage_tolerance: settings.outage_tolerance,
        grace_period: settings.grace_period,
    }
}

/// One evaluation of a group at `ts`, and the alerts it sends.
fn iteration(shared: &Shared, group: &Mutex<Group>, ts: i64) {
    let settings = shared.settings.read().clone();
    let env = env(shared, &settings);
    let to_send = group.lock().eval(&env, ts);
    let alerts: Vec<Alert> = to_send
        .into_iter()
        .flat_map(|(_, a)| a)
        .map(|a| with_external_labels(a, &settings.external_labels))
        .collect();
    if alerts.is_empty() {
        return;
    }
    for sink in shared.sinks.read().iter() {
        sink.send(alerts.clone());
    }
}

/// Adds the external labels an alert does not have (Prometheus' notifier).
pub fn with_external_labels(mut a: Alert, external: &Labels) -> Alert {
    if external.is_empty() {
        return a;
    }
    let mut b = a.labels.to_builder();
    for l in external.iter() {
        if a.labels.get(&l.name).is_none() {
            b.set(l.name.as_str(), l.value.as_str());
        }
    }
    a.labels = b.build();
    a
}

fn mark_stale(storage: &dyn Storage, series: &[Labels], t: i64) {
    if series.is_empty() {
        return;
    }
    let batch: Vec<SeriesAppend> = series
        .iter()
        .map(|l| SeriesAppend {
            labels: l.clone(),
            samples: vec![Sample::new(t, stale_nan())],
        })
        .collect();
    if let Err(e) = storage.append(&batch) {
        tracing::warn!(error = %e, "staleness markers of removed rule groups not stored");
    }
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rulefmt::parse_str;
    use pharos_promql::EngineOptions;
    use pharos_tsdb::MemStorage;

    /// A test double of the router: records what it is handed.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<Alert>>);

    impl AlertSink for Recorder {
        fn send(&self, alerts: Vec<Alert>) {
            self.0.lock().extend(alerts);
        }
    }

    #[test]
    fn firing_and_resolved_alerts_reach_the_sinks_with_external_labels() {
        let storage: Arc<dyn Storage> = Arc::new(MemStorage::new());
        let recorder = Arc::new(Recorder::default());
        let shared = Shared {
            engine: Engine::new(EngineOptions::default()),
            storage,
            settings: RwLock::new(RuleSettings {
                external_labels: Labels::from_pairs([("cluster", "eu-1"), ("severity", "x")]),
                external_url: "http://pharos:9090".into(),
                ..RuleSettings::default()
            }),
            sinks: RwLock::new(vec![recorder.clone()]),
        };
        let text = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: vector(time()) < 120\n    labels:\n      severity: page\n";
        let file = parse_str(text, "f.yml").unwrap_or_else(|e| panic!("{e:?}"));
        let group = Mutex::new(Group::new(
            "f.yml",
            &file.groups[0],
            Duration::from_secs(60),
            Duration::ZERO,
            false,
        ));
        iteration(&shared, &group, 60_000);
        {
            let sent = recorder.0.lock();
            assert_eq!(sent.len(), 1);
            let a = &sent[0];
            assert_eq!(
                a.labels,
                Labels::from_pairs([
                    ("alertname", "A"),
                    ("cluster", "eu-1"),
                    ("severity", "page")
                ])
            );
            assert_eq!(a.starts_at, 60_000);
            // Valid for 4 × max(resend delay, interval).
            assert_eq!(a.ends_at, Some(60_000 + 4 * 60_000));
            assert_eq!(
                a.generator_url,
                "http://pharos:9090/graph?g0.expr=vector%28time%28%29%29+%3C+120&g0.tab=1"
            );
        }
        // Within the resend delay: nothing new is sent.
        iteration(&shared, &group, 90_000);
        assert_eq!(recorder.0.lock().len(), 1);
        // The expression stops matching: the alert is sent resolved.
        iteration(&shared, &group, 180_000);
        let sent = recorder.0.lock();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[1].ends_at, Some(180_000));
    }
}
