//! A scrape pool: one job's targets and their loops, Prometheus'
//! `scrapePool`. It keeps the latest target groups of each provider
//! (index 0: the static targets), turns them into targets, and syncs its
//! loops: a target whose identity (labels and URL) is unchanged keeps its
//! loop; a new one gets a loop; one that went away has its loop stopped
//! with staleness markers. Targets dropped by relabeling are kept for the
//! API. Over `target_limit`, every target of the pool fails its scrapes
//! with Prometheus' error until the count is back under the limit.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use pharos_config::ScrapeConfig;
use pharos_model::Labels;
use rustc_hash::{FxHashMap, FxHashSet};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cache::ScrapeCache;
use crate::discovery::{DiscoveryRegistry, TargetGroup, static_groups};
use crate::scrape_loop::{JobContext, ScrapeLoop, Stop};
use crate::status::{SharedStatus, TargetStatus};
use crate::target::{Populated, Target, populate};

static NEXT_LOOP_ID: AtomicU64 = AtomicU64::new(1);

/// A target being scraped, as the API sees it.
#[derive(Debug, Clone)]
pub struct ActiveTarget {
    pub scrape_pool: String,
    pub target: Arc<Target>,
    pub status: TargetStatus,
    /// Unique per scrape loop: unchanged across a reload that keeps the
    /// loop running.
    pub loop_id: u64,
}

/// A discovered target that relabeling dropped.
#[derive(Debug, Clone)]
pub struct DroppedTarget {
    pub scrape_pool: String,
    pub discovered_labels: Labels,
}

struct Running {
    target: Arc<Target>,
    hash: u64,
    status: Arc<SharedStatus>,
    stop: watch::Sender<Stop>,
    handle: JoinHandle<()>,
    id: u64,
}

#[derive(Default)]
struct State {
    groups: BTreeMap<usize, Vec<TargetGroup>>,
    active: Vec<Running>,
    dropped: Vec<Labels>,
    discovery: Vec<JoinHandle<()>>,
    discovery_key: String,
    stopped: bool,
}

pub(crate) struct ScrapePool {
    pub(crate) config: ScrapeConfig,
    /// The settings that shape scrapes (not the targets): a change means
    /// new loops.
    pub(crate) fingerprint: String,
    ctx: Arc<JobContext>,
    state: Mutex<State>,
}

impl ScrapePool {
    pub(crate) fn new(config: ScrapeConfig, fingerprint: String, ctx: Arc<JobContext>) -> Self {
        ScrapePool {
            config,
            fingerprint,
            ctx,
            state: Mutex::new(State::default()),
        }
    }

    /// The hashes of the targets the current groups make.
    pub(crate) fn target_hashes(&self) -> FxHashSet<u64> {
        let st = self.state.lock();
        self.build(&st.groups).0.iter().map(Target::hash).collect()
    }

    /// Takes the static targets of `cfg` without syncing (to learn the
    /// targets before the old pool stops).
    pub(crate) fn update_static_only(&self, cfg: &ScrapeConfig) {
        self.state.lock().groups.insert(0, static_groups(cfg));
    }

    /// Takes the static targets and discovery entries of `cfg` (whose
    /// scrape settings equal this pool's), restarting discovery only if its
    /// entries changed, and syncs.
    pub(crate) fn update_providers(
        self: &Arc<Self>,
        cfg: &ScrapeConfig,
        registry: &Arc<dyn DiscoveryRegistry>,
    ) {
        let key = discovery_key(cfg);
        {
            let mut st = self.state.lock();
            st.groups.insert(0, static_groups(cfg));
            if st.discovery_key != key || st.discovery.is_empty() {
                for h in st.discovery.drain(..) {
                    h.abort();
                }
                st.groups.retain(|&k, _| k == 0);
                st.discovery_key = key;
                st.discovery = self.spawn_discovery(cfg, registry);
            }
        }
        self.sync();
    }

    fn spawn_discovery(
        self: &Arc<Self>,
        cfg: &ScrapeConfig,
        registry: &Arc<dyn DiscoveryRegistry>,
    ) -> Vec<JoinHandle<()>> {
        let mut tasks = Vec::new();
        for (i, d) in cfg.discovery.iter().enumerate() {
            let provider = i + 1;
            let discoverer = match registry.discoverer(&cfg.job, d) {
                Ok(x) => x,
                Err(error) => {
                    tracing::error!(job = %cfg.job, plugin = %d.plugin, kind = error.kind(), %error, "discovery is not available");
                    continue;
                }
            };
            let pool: Weak<ScrapePool> = Arc::downgrade(self);
            let refresh = d.refresh_interval;
            let (job, plugin) = (cfg.job.clone(), d.plugin.clone());
            tasks.push(tokio::spawn(async move {
                let mut ticker = tokio::time::interval(refresh);
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    ticker.tick().await;
                    match discoverer.discover().await {
                        Ok(groups) => {
                            let Some(pool) = pool.upgrade() else { return };
                            pool.set_groups(provider, groups);
                        }
                        // Keep the last good targets, as Prometheus does.
                        Err(error) => {
                            tracing::warn!(%job, %plugin, kind = error.kind(), %error, "discovery failed");
                        }
                    }
                }
            }));
        }
        tasks
    }

    /// Replaces one provider's groups and syncs.
    pub(crate) fn set_groups(&self, provider: usize, groups: Vec<TargetGroup>) {
        self.state.lock().groups.insert(provider, groups);
        self.sync();
    }

    /// Builds active targets (deduplicated, in discovery order) and the
    /// discovered labels of dropped ones.
    fn build(&self, groups: &BTreeMap<usize, Vec<TargetGroup>>) -> (Vec<Target>, Vec<Labels>) {
        let mut active = Vec::new();
        let mut seen = FxHashSet::default();
        let mut dropped = Vec::new();
        for group in groups.values().flatten() {
            for labels in group.merged() {
                match populate(&labels, &self.config) {
                    Ok(Populated::Active(t)) => {
                        if seen.insert(t.hash()) {
                            active.push(t);
                        }
                    }
                    Ok(Populated::Dropped(d)) => dropped.push(d),
                    Err(error) => tracing::warn!(
                        job = %self.config.job, target = %labels, %error,
                        "target dropped"
                    ),
                }
            }
        }
        (active, dropped)
    }

    /// Starts, keeps and stops loops to match the current groups.
    pub(crate) fn sync(&self) {
        let mut st = self.state.lock();
        if st.stopped {
            return;
        }
        let (targets, dropped) = self.build(&st.groups);
        let limit = self.config.target_limit;
        *self.ctx.target_limit_exceeded.lock() =
            (limit > 0 && targets.len() as u64 > limit).then_some((targets.len(), limit));
        let mut old: FxHashMap<u64, Running> = st.active.drain(..).map(|r| (r.hash, r)).collect();
        let mut active = Vec::with_capacity(targets.len());
        for t in targets {
            let hash = t.hash();
            match old.remove(&hash) {
                Some(r) => active.push(r),
                None => active.push(self.start_loop(t, hash)),
            }
        }
        for (_, r) in old {
            let _ = r.stop.send(Stop::Stale);
            self.ctx.draining.add(r.handle);
        }
        st.active = active;
        st.dropped = dropped;
    }

    fn start_loop(&self, target: Target, hash: u64) -> Running {
        let target = Arc::new(target);
        let status = Arc::new(SharedStatus::default());
        let (stop, rx) = watch::channel(Stop::Run);
        let sl = ScrapeLoop {
            target: target.clone(),
            job: self.ctx.clone(),
            status: status.clone(),
            cache: ScrapeCache::default(),
            body_hint: 0,
        };
        let handle = tokio::spawn(sl.run(rx));
        Running {
            target,
            hash,
            status,
            stop,
            handle,
            id: NEXT_LOOP_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Stops discovery and every loop: quietly for targets in `keep` (they
    /// live on in a new pool) or for all when `quiet`, with staleness
    /// markers otherwise. Returns the tasks of the quiet loops to wait for;
    /// the stale ones wait to write their markers under the job's
    /// `Draining`.
    pub(crate) fn stop(&self, keep: &FxHashSet<u64>, quiet: bool) -> Vec<JoinHandle<()>> {
        let mut st = self.state.lock();
        st.stopped = true;
        for h in st.discovery.drain(..) {
            h.abort();
        }
        let mut quiet_loops = Vec::new();
        for r in st.active.drain(..) {
            if quiet || keep.contains(&r.hash) {
                let _ = r.stop.send(Stop::Quiet);
                quiet_loops.push(r.handle);
            } else {
                let _ = r.stop.send(Stop::Stale);
                self.ctx.draining.add(r.handle);
            }
        }
        quiet_loops
    }

    pub(crate) fn active(&self) -> Vec<ActiveTarget> {
        let st = self.state.lock();
        st.active
            .iter()
            .map(|r| ActiveTarget {
                scrape_pool: self.config.job.clone(),
                target: r.target.clone(),
                status: r.status.get(),
                loop_id: r.id,
            })
            .collect()
    }

    pub(crate) fn dropped(&self) -> Vec<DroppedTarget> {
        let st = self.state.lock();
        st.dropped
            .iter()
            .map(|d| DroppedTarget {
                scrape_pool: self.config.job.clone(),
                discovered_labels: d.clone(),
            })
            .collect()
    }
}

fn discovery_key(cfg: &ScrapeConfig) -> String {
    serde_json::to_string(&cfg.discovery).unwrap_or_default()
}
