//! `[[exporter]]` jobs: the [`ExporterManager`] starts a loop per job
//! ([`job`]), and on reload keeps the loops of unchanged jobs, replaces
//! changed ones (the new loop inherits the old one's series, so only what
//! really disappeared goes stale) and stops removed ones with staleness
//! markers, as the scrape manager does for scrape jobs.
//!
//! Series carry `job` (the job's name), `instance` (the job's `instance`,
//! by default the plugin's name) and the job's `labels`.

mod ingest;
mod job;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use pharos_config::ExporterConfig;
use pharos_plugin_host::PluginKind;
use pharos_tsdb::Appendable;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::set::{PluginSet, UseKey, config_json};
use job::{JobSpec, SharedState, Stop};

struct Running {
    fingerprint: String,
    stop: watch::Sender<Stop>,
    handle: JoinHandle<()>,
    state: SharedState,
}

/// Runs the exporter jobs of the current config.
pub struct ExporterManager {
    storage: Arc<dyn Appendable>,
    set: PluginSet,
    jobs: Mutex<BTreeMap<String, Running>>,
}

/// Everything that changes what a job does, as text.
fn fingerprint(cfg: &ExporterConfig) -> String {
    serde_json::to_string(cfg).unwrap_or_default()
}

impl ExporterManager {
    /// A manager appending to `storage`, calling plugins of `set`.
    pub fn new(storage: Arc<dyn Appendable>, set: PluginSet) -> Self {
        ExporterManager {
            storage,
            set,
            jobs: Mutex::new(BTreeMap::new()),
        }
    }

    /// Makes the running jobs match `configs`. Must be called inside a
    /// tokio runtime (it may be a blocking thread of one).
    pub fn apply(&self, configs: &[ExporterConfig]) {
        let mut jobs = self.jobs.lock();
        let mut old = std::mem::take(&mut *jobs);
        for cfg in configs {
            let fp = fingerprint(cfg);
            let state = match old.remove(&cfg.job) {
                Some(r) if r.fingerprint == fp => {
                    jobs.insert(cfg.job.clone(), r);
                    continue;
                }
                Some(prev) => {
                    let _ = prev.stop.send(Stop::Quiet);
                    prev.state
                }
                None => SharedState::default(),
            };
            let mut target = cfg.labels.to_builder();
            target.set("job", cfg.job.as_str());
            target.set("instance", cfg.instance.as_str());
            let config = config_json(&cfg.config);
            let spec = Arc::new(JobSpec {
                job: cfg.job.clone(),
                plugin: cfg.plugin.clone(),
                interval: cfg.interval.max(Duration::from_millis(1)),
                key: UseKey::new(&cfg.job, PluginKind::Exporter, &cfg.plugin, &config),
                config,
                target: target.build(),
            });
            let (stop, rx) = watch::channel(Stop::Run);
            let handle = tokio::spawn(job::run(
                spec,
                self.set.clone(),
                self.storage.clone(),
                state.clone(),
                rx,
            ));
            tracing::info!(job = %cfg.job, plugin = %cfg.plugin, interval = ?cfg.interval, "exporter job started");
            jobs.insert(
                cfg.job.clone(),
                Running {
                    fingerprint: fp,
                    stop,
                    handle,
                    state,
                },
            );
        }
        for (job, r) in old {
            tracing::info!(%job, "exporter job removed");
            let _ = r.stop.send(Stop::Stale);
        }
    }

    /// The running jobs' names.
    pub fn jobs(&self) -> Vec<String> {
        self.jobs.lock().keys().cloned().collect()
    }

    /// Stops every job without staleness markers (shutdown) and waits up
    /// to `timeout` for runs in progress, so nothing appends after the
    /// storage closes.
    pub async fn stop(&self, timeout: Duration) {
        let jobs = std::mem::take(&mut *self.jobs.lock());
        let handles: Vec<JoinHandle<()>> = jobs
            .into_values()
            .map(|r| {
                let _ = r.stop.send(Stop::Quiet);
                r.handle
            })
            .collect();
        let all = async {
            for h in handles {
                let _ = h.await;
            }
        };
        if tokio::time::timeout(timeout, all).await.is_err() {
            tracing::warn!("exporter jobs did not stop in time");
        }
    }
}
