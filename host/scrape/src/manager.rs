//! The scrape manager, Prometheus' `scrape.Manager`: one pool per job,
//! applied from the config and re-applied on reload.
//!
//! On [`ScrapeManager::apply`], a job whose scrape settings (everything but
//! its targets and discovery entries) are unchanged keeps its pool: only
//! its targets are re-synced, so loops of unchanged targets keep running.
//! A job whose settings changed gets a new pool; the old pool's loops stop
//! quietly for targets the new pool scrapes too, with staleness markers
//! for the others. A removed job's loops stop with staleness markers.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use pharos_config::ScrapeConfig;
use pharos_tsdb::Appendable;
use rustc_hash::FxHashSet;

use crate::client::ScrapeClient;
use crate::discovery::{DiscoveryRegistry, NoDiscovery};
use crate::error::ClientError;
use crate::pool::{ActiveTarget, DroppedTarget, ScrapePool};
use crate::process::SampleSettings;
use crate::scrape_loop::{Draining, JobContext, NoObserver, ScrapeObserver, fallback_format};

/// How the manager scrapes, besides the config.
pub struct ManagerOptions {
    /// Sent as `User-Agent` with every scrape.
    pub user_agent: String,
    pub observer: Arc<dyn ScrapeObserver>,
    pub discovery: Arc<dyn DiscoveryRegistry>,
}

impl Default for ManagerOptions {
    fn default() -> Self {
        ManagerOptions {
            user_agent: format!("Pharos/{}", env!("CARGO_PKG_VERSION")),
            observer: Arc::new(NoObserver),
            discovery: Arc::new(NoDiscovery),
        }
    }
}

/// Runs the scrape pools of the current config.
pub struct ScrapeManager {
    storage: Arc<dyn Appendable>,
    options: ManagerOptions,
    pools: Mutex<BTreeMap<String, Arc<ScrapePool>>>,
    draining: Arc<Draining>,
}

impl ScrapeManager {
    pub fn new(storage: Arc<dyn Appendable>, options: ManagerOptions) -> Self {
        ScrapeManager {
            storage,
            options,
            pools: Mutex::new(BTreeMap::new()),
            draining: Arc::default(),
        }
    }

    /// Checks what the config loader cannot: that every job's HTTP client
    /// can be built (CA and client certificate files readable and valid).
    pub fn check(configs: &[ScrapeConfig]) -> Result<(), ClientError> {
        for cfg in configs {
            ScrapeClient::new(cfg, "check")?;
        }
        Ok(())
    }

    /// Makes the running pools match `configs`. Must be called inside a
    /// tokio runtime. A job whose client cannot be built keeps its old
    /// pool (if any); its error is returned.
    pub fn apply(&self, configs: &[ScrapeConfig]) -> Vec<ClientError> {
        let mut errors = Vec::new();
        let mut pools = self.pools.lock();
        let mut old = std::mem::take(&mut *pools);
        for cfg in configs {
            let fp = fingerprint(cfg);
            let existing = old.remove(&cfg.job);
            if let Some(pool) = existing.as_ref().filter(|p| p.fingerprint == fp) {
                pool.update_providers(cfg, &self.options.discovery);
                pools.insert(cfg.job.clone(), pool.clone());
                continue;
            }
            let client = match ScrapeClient::new(cfg, &self.options.user_agent) {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(job = %cfg.job, error = %e, "cannot create the scrape pool");
                    errors.push(e);
                    if let Some(p) = existing {
                        pools.insert(cfg.job.clone(), p);
                    }
                    continue;
                }
            };
            let ctx = Arc::new(JobContext {
                job: cfg.job.clone(),
                client,
                settings: SampleSettings::from_config(cfg),
                storage: self.storage.clone(),
                observer: self.options.observer.clone(),
                fallback_format: fallback_format(cfg.fallback_scrape_protocol.as_deref()),
                target_limit_exceeded: Mutex::new(None),
                draining: self.draining.clone(),
            });
            let pool = Arc::new(ScrapePool::new(cfg.clone(), fp, ctx));
            if let Some(prev) = existing {
                // The new pool's static targets are known now; discovered
                // ones are not yet, and get staleness markers if they go.
                pool.update_static_only(cfg);
                drop(prev.stop(&pool.target_hashes(), false));
            }
            pool.update_providers(cfg, &self.options.discovery);
            pools.insert(cfg.job.clone(), pool);
        }
        for (job, pool) in old {
            tracing::info!(%job, "scrape job removed");
            drop(pool.stop(&FxHashSet::default(), false));
        }
        errors
    }

    /// Every target being scraped, by job then discovery order.
    pub fn active_targets(&self) -> Vec<ActiveTarget> {
        let pools: Vec<Arc<ScrapePool>> = self.pools.lock().values().cloned().collect();
        pools.iter().flat_map(|p| p.active()).collect()
    }

    /// Every discovered target that relabeling dropped.
    pub fn dropped_targets(&self) -> Vec<DroppedTarget> {
        let pools: Vec<Arc<ScrapePool>> = self.pools.lock().values().cloned().collect();
        pools.iter().flat_map(|p| p.dropped()).collect()
    }

    /// The configured jobs' names.
    pub fn jobs(&self) -> Vec<String> {
        self.pools.lock().keys().cloned().collect()
    }

    /// Stops every loop without staleness markers (shutdown) and waits up
    /// to `timeout` for them, so nothing appends after storage closes.
    pub async fn stop(&self, timeout: Duration) {
        let pools = std::mem::take(&mut *self.pools.lock());
        let mut handles: Vec<_> = pools
            .values()
            .flat_map(|p| p.stop(&FxHashSet::default(), true))
            .collect();
        // Removed targets still waiting to go stale write nothing either.
        handles.extend(self.draining.shut_down());
        let all = async {
            for h in handles {
                let _ = h.await;
            }
        };
        if tokio::time::timeout(timeout, all).await.is_err() {
            tracing::warn!("scrape loops did not stop in time");
        }
    }
}

/// The job's scrape settings as text: equal text, same scrapes. Targets,
/// target labels and discovery entries are left out (they are synced
/// without restarting loops); secrets are included, unmasked, so a
/// changed password counts.
fn fingerprint(cfg: &ScrapeConfig) -> String {
    let mut c = cfg.clone();
    c.targets.clear();
    c.labels = pharos_model::Labels::empty();
    c.discovery.clear();
    let mut fp = serde_json::to_string(&c).unwrap_or_default();
    if let Some(t) = &cfg.http.bearer_token {
        fp.push_str(t.expose());
    }
    if let Some(p) = cfg
        .http
        .basic_auth
        .as_ref()
        .and_then(|a| a.password.as_ref())
    {
        fp.push('\0');
        fp.push_str(p.expose());
    }
    fp
}
