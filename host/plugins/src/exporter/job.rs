//! One `[[exporter]]` job's loop, the twin of a target's scrape loop:
//! every `interval` it calls the plugin's `collect` with the job's config
//! and appends one atomic batch — the samples, the five report series
//! (`up`, `scrape_duration_seconds`, `scrape_samples_scraped`,
//! `scrape_samples_post_metric_relabeling`, `scrape_series_added`) and
//! staleness markers for series of the previous run that are gone.
//!
//! A failed run (trap, timeout, memory limit, denial, plugin error, bad
//! names, a refused append) appends `up` 0 with the other report series
//! and marks the previous run's samples stale, as Prometheus does for a
//! failed scrape; stored data stays. While the job backs off after
//! failures (see [`crate::PluginSet`]), runs are skipped (nothing
//! appended). A job stopped because
//! it was removed marks everything it wrote stale; one stopped for a
//! reload that keeps it, or at shutdown, writes nothing, and a job that
//! replaces it inherits its series so staleness stays exact.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use pharos_model::{Labels, METRIC_NAME, Sample, stale_nan};
use pharos_plugin_host::PluginKind;
use pharos_scrape::REPORT_SERIES;
use pharos_tsdb::{Appendable, SeriesAppend};
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use super::ingest::collect_series;
use crate::set::{PluginSet, UseKey};

/// How a loop is told to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    Run,
    /// Reload keeping the job, or shutdown: write nothing.
    Quiet,
    /// The job was removed: mark its series stale.
    Stale,
}

/// What one job needs to run.
pub(crate) struct JobSpec {
    pub(crate) job: String,
    pub(crate) plugin: String,
    pub(crate) interval: std::time::Duration,
    pub(crate) config: String,
    pub(crate) target: Labels,
    pub(crate) key: UseKey,
}

/// The series the job wrote last (report series included); shared with a
/// job that replaces it on reload.
#[derive(Debug, Default)]
pub(crate) struct JobState {
    pub(crate) last: HashSet<Labels>,
}

pub(crate) type SharedState = Arc<tokio::sync::Mutex<JobState>>;

fn now_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The loop: runs until told to stop.
pub(crate) async fn run(
    spec: Arc<JobSpec>,
    set: PluginSet,
    storage: Arc<dyn Appendable>,
    state: SharedState,
    mut stop: watch::Receiver<Stop>,
) {
    let mut ticker = tokio::time::interval(spec.interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let how = loop {
        tokio::select! {
            _ = ticker.tick() => {}
            changed = stop.changed() => {
                if changed.is_err() {
                    break Stop::Quiet;
                }
            }
        }
        let how = *stop.borrow();
        if how != Stop::Run {
            break how;
        }
        let mut st = state.lock().await;
        run_once(&spec, &set, &storage, &mut st).await;
    };
    if how == Stop::Stale {
        let mut st = state.lock().await;
        let ts = now_ms(SystemTime::now());
        let batch: Vec<SeriesAppend> = st.last.drain().map(|l| stale(l, ts)).collect();
        append(&storage, batch, &spec.job).await.ok();
    }
}

fn stale(labels: Labels, ts: i64) -> SeriesAppend {
    SeriesAppend {
        labels,
        samples: vec![Sample::new(ts, stale_nan())],
    }
}

async fn append(
    storage: &Arc<dyn Appendable>,
    batch: Vec<SeriesAppend>,
    job: &str,
) -> Result<usize, String> {
    if batch.is_empty() {
        return Ok(0);
    }
    let storage = storage.clone();
    let result = tokio::task::spawn_blocking(move || storage.append(&batch))
        .await
        .map_err(|e| format!("append task failed: {e}"))
        .and_then(|r| r.map_err(|e| format!("append failed: {e}")));
    if let Err(e) = &result {
        tracing::warn!(%job, error = %e, "exporter job's batch not stored");
    }
    result.map(|s| s.series_created)
}

/// One collection.
async fn run_once(
    spec: &JobSpec,
    set: &PluginSet,
    storage: &Arc<dyn Appendable>,
    st: &mut JobState,
) {
    let entry = set
        .get(&spec.plugin)
        .filter(|e| e.plugin.kind() == PluginKind::Exporter);
    if let Some((failures, wait)) = set.backing_off(&spec.key) {
        tracing::debug!(job = %spec.job, plugin = %spec.plugin, failures, wait_ms = wait.as_millis() as u64, "exporter backing off; run skipped");
        return;
    }
    let started = SystemTime::now();
    let ts = now_ms(started);
    let clock = Instant::now();
    let result = match &entry {
        None => Err(format!(
            "plugin {:?} is not loaded as an exporter",
            spec.plugin
        )),
        Some(e) => e
            .plugin
            .collect(&spec.config)
            .await
            .map_err(|e| e.to_string()),
    };
    let duration = clock.elapsed();
    let collected = result.and_then(|families| collect_series(&families, &spec.target, ts));

    let report = |up: f64, scraped: usize, kept: usize, added: usize| -> Vec<SeriesAppend> {
        let values = [
            up,
            duration.as_secs_f64(),
            scraped as f64,
            kept as f64,
            added as f64,
        ];
        REPORT_SERIES
            .iter()
            .zip(values)
            .map(|(name, v)| {
                let mut b = spec.target.to_builder();
                b.set(METRIC_NAME, *name);
                SeriesAppend {
                    labels: b.build(),
                    samples: vec![Sample::new(ts, v)],
                }
            })
            .collect()
    };
    let with_stale = |mut batch: Vec<SeriesAppend>, last: &HashSet<Labels>| {
        let now: HashSet<&Labels> = batch.iter().map(|s| &s.labels).collect();
        let gone: Vec<SeriesAppend> = last
            .iter()
            .filter(|l| !now.contains(l))
            .map(|l| stale(l.clone(), ts))
            .collect();
        batch.extend(gone);
        batch
    };

    let error = match collected {
        Ok(c) => {
            if c.duplicates > 0 {
                tracing::warn!(job = %spec.job, duplicates = c.duplicates, "exporter returned repeated series; kept the first of each");
            }
            let added = c
                .series
                .iter()
                .filter(|s| !st.last.contains(&s.labels))
                .count();
            let kept = c.series.len();
            let mut batch = c.series;
            batch.extend(report(1.0, c.scraped, kept, added));
            let batch = with_stale(batch, &st.last);
            let current: HashSet<Labels> = batch
                .iter()
                .filter(|s| !s.samples.iter().any(|x| pharos_model::is_stale_nan(x.v)))
                .map(|s| s.labels.clone())
                .collect();
            match append(storage, batch, &spec.job).await {
                Ok(_) => {
                    st.last = current;
                    None
                }
                Err(e) => Some(e),
            }
        }
        Err(e) => Some(e),
    };
    let outcome = match error {
        None => Ok(()),
        Some(e) => {
            let batch = with_stale(report(0.0, 0, 0, 0), &st.last);
            let current: HashSet<Labels> =
                report(0.0, 0, 0, 0).into_iter().map(|s| s.labels).collect();
            if append(storage, batch, &spec.job).await.is_ok() {
                st.last = current;
            }
            tracing::warn!(job = %spec.job, plugin = %spec.plugin, error = %e, "exporter run failed");
            Err(e)
        }
    };
    set.record_call(&spec.key, started, duration, outcome);
}
