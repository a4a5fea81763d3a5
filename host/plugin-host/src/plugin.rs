//! A loaded plugin and its typed calls. Every call gets a fresh `Store`
//! and instance from the plugin's `InstancePre`, with the plugin's memory
//! limit, its CPU budget (epoch deadline, yielding to tokio every tick), a
//! wall-clock timeout around the whole call, an empty WASI context and its
//! HTTP grants. Whatever the plugin does — trap, loop, exhaust memory or
//! stack — fails that call only: the error is classified, logged with
//! tracing fields, counted in the plugin's metrics, and the backoff state
//! updated.

use crate::bindings::{discovery, exporter, notifier};
use crate::cache::CacheOutcome;
use crate::error::{Budget, CallError};
use crate::grants::AllowList;
use crate::limits::{
    CpuBudgetExceeded, Limiter, Limits, MAX_SERIES_PER_CALL, MAX_TARGETS_PER_CALL,
    MemoryLimitExceeded, ResultLimitExceeded,
};
use crate::metrics::{Backoff, CallRecord, MetricsSnapshot, PluginMetrics};
use crate::runtime::RuntimeInner;
use crate::state::State;
use crate::types::{MetricFamily, Notification, PluginError, PluginInfo, PluginKind, TargetGroup};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::time::error::Elapsed;
use wasmtime::{Store, Trap, UpdateDeadline};

pub(crate) enum WorldPre {
    Discovery(discovery::DiscoveryPre<State>),
    Exporter(exporter::ExporterPre<State>),
    Notifier(notifier::NotifierPre<State>),
}

/// How a plugin was loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadInfo {
    /// Whether the compiled artifact came from the cache.
    pub cache: CacheOutcome,
    /// Time spent compiling or loading the artifact.
    pub compile_time: Duration,
}

struct Inner {
    runtime: Arc<RuntimeInner>,
    name: Arc<str>,
    kind: PluginKind,
    pre: WorldPre,
    limits: Limits,
    allow: Arc<AllowList>,
    load: LoadInfo,
    info: Option<PluginInfo>,
    imports: Vec<String>,
    metrics: PluginMetrics,
}

/// A loaded plugin. Cheap to clone; calls may run concurrently, each in
/// its own instance.
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<Inner>,
}

type CallResult<R> = Result<wasmtime::Result<Result<R, PluginError>>, Elapsed>;

impl Plugin {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        runtime: Arc<RuntimeInner>,
        name: &str,
        kind: PluginKind,
        pre: WorldPre,
        limits: Limits,
        allow: AllowList,
        load: LoadInfo,
        imports: Vec<String>,
    ) -> Self {
        Plugin {
            inner: Arc::new(Inner {
                runtime,
                name: name.into(),
                kind,
                pre,
                limits,
                allow: Arc::new(allow),
                load,
                info: None,
                imports,
                metrics: PluginMetrics::default(),
            }),
        }
    }

    pub(crate) fn with_info(self, info: PluginInfo) -> Self {
        let mut inner =
            Arc::try_unwrap(self.inner).unwrap_or_else(|_| unreachable!("not shared during load"));
        inner.info = Some(info);
        Plugin {
            inner: Arc::new(inner),
        }
    }

    /// The name the plugin was loaded under.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The plugin's kind.
    pub fn kind(&self) -> PluginKind {
        self.inner.kind
    }

    /// What `describe` returned at load time.
    pub fn info(&self) -> Option<&PluginInfo> {
        self.inner.info.as_ref()
    }

    /// How the plugin was loaded (cache hit or compile, and how long).
    pub fn load_info(&self) -> LoadInfo {
        self.inner.load
    }

    /// The plugin's limits.
    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// A copy of the plugin's counters.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.inner.metrics.snapshot()
    }

    /// The plugin's retry state.
    pub fn backoff(&self) -> Backoff {
        self.inner.metrics.snapshot().backoff
    }

    /// Forgets the failures behind the retry state, so the next call is
    /// made at once (e.g. after the operator changed the configuration).
    pub fn reset_backoff(&self) {
        self.inner.metrics.reset_backoff();
    }

    /// The interfaces the component imports (`wasi:http/outgoing-handler@…`,
    /// `pharos:plugin/dns@…`, …): what it may ask for, granted or not.
    pub fn imports(&self) -> &[String] {
        &self.inner.imports
    }

    fn new_store(&self) -> Store<State> {
        let inner = &self.inner;
        let state = State::new(
            inner.name.clone(),
            inner.allow.clone(),
            inner.runtime.tls.clone(),
            inner.runtime.resolver.clone(),
            Limiter::new(inner.limits.memory),
        );
        let mut store = Store::new(&inner.runtime.engine, state);
        store.limiter(|s| &mut s.limiter);
        let tick = inner
            .runtime
            .options
            .epoch_tick
            .max(Duration::from_micros(1));
        let budget = inner.limits.cpu.as_nanos().div_ceil(tick.as_nanos()).max(1);
        let mut ticks: u128 = 0;
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            ticks += 1;
            if ticks >= budget {
                Err(wasmtime::Error::new(CpuBudgetExceeded))
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        store
    }

    fn wrong_kind(&self, call: &'static str) -> CallError {
        CallError::WrongKind {
            plugin: self.name().to_owned(),
            kind: self.kind(),
            call,
        }
    }

    /// Asks the plugin who it is.
    pub async fn describe(&self) -> Result<PluginInfo, CallError> {
        let mut store = self.new_store();
        let started = Instant::now();
        let result = tokio::time::timeout(self.inner.limits.timeout, async {
            Ok(Ok(match &self.inner.pre {
                WorldPre::Discovery(pre) => {
                    pre.instantiate_async(&mut store)
                        .await?
                        .call_describe(&mut store)
                        .await?
                }
                WorldPre::Exporter(pre) => {
                    pre.instantiate_async(&mut store)
                        .await?
                        .call_describe(&mut store)
                        .await?
                }
                WorldPre::Notifier(pre) => {
                    pre.instantiate_async(&mut store)
                        .await?
                        .call_describe(&mut store)
                        .await?
                }
            }))
        })
        .await;
        self.finish("describe", store, started, result)
    }

    /// Checks a configuration (JSON text) without using the network.
    pub async fn validate_config(&self, config: &str) -> Result<(), CallError> {
        let mut store = self.new_store();
        let started = Instant::now();
        let result = tokio::time::timeout(self.inner.limits.timeout, async {
            match &self.inner.pre {
                WorldPre::Discovery(pre) => {
                    pre.instantiate_async(&mut store)
                        .await?
                        .call_validate_config(&mut store, config)
                        .await
                }
                WorldPre::Exporter(pre) => {
                    pre.instantiate_async(&mut store)
                        .await?
                        .call_validate_config(&mut store, config)
                        .await
                }
                WorldPre::Notifier(pre) => {
                    pre.instantiate_async(&mut store)
                        .await?
                        .call_validate_config(&mut store, config)
                        .await
                }
            }
        })
        .await;
        self.finish("validate-config", store, started, result)
    }

    /// Runs discovery with a configuration (JSON text).
    pub async fn discover(&self, config: &str) -> Result<Vec<TargetGroup>, CallError> {
        let WorldPre::Discovery(pre) = &self.inner.pre else {
            return Err(self.wrong_kind("discover"));
        };
        let mut store = self.new_store();
        let started = Instant::now();
        let result = tokio::time::timeout(self.inner.limits.timeout, async {
            pre.instantiate_async(&mut store)
                .await?
                .call_discover(&mut store, config)
                .await
        })
        .await;
        let result = cap(result, "targets", MAX_TARGETS_PER_CALL, |groups| {
            groups.iter().map(|g| g.targets.len()).sum()
        });
        self.finish("discover", store, started, result)
    }

    /// Collects metrics with a configuration (JSON text).
    pub async fn collect(&self, config: &str) -> Result<Vec<MetricFamily>, CallError> {
        let WorldPre::Exporter(pre) = &self.inner.pre else {
            return Err(self.wrong_kind("collect"));
        };
        let mut store = self.new_store();
        let started = Instant::now();
        let result = tokio::time::timeout(self.inner.limits.timeout, async {
            pre.instantiate_async(&mut store)
                .await?
                .call_collect(&mut store, config)
                .await
        })
        .await;
        let result = cap(result, "series", MAX_SERIES_PER_CALL, |families| {
            families.iter().map(|f| f.metrics.len()).sum()
        });
        self.finish("collect", store, started, result)
    }

    /// Delivers a notification with a configuration (JSON text).
    pub async fn notify(&self, config: &str, notification: &Notification) -> Result<(), CallError> {
        let WorldPre::Notifier(pre) = &self.inner.pre else {
            return Err(self.wrong_kind("notify"));
        };
        let mut store = self.new_store();
        let started = Instant::now();
        let result = tokio::time::timeout(self.inner.limits.timeout, async {
            pre.instantiate_async(&mut store)
                .await?
                .call_notify(&mut store, config, notification)
                .await
        })
        .await;
        self.finish("notify", store, started, result)
    }

    /// Turns a call's raw result into the typed one; logs and counts it.
    fn finish<R>(
        &self,
        call: &'static str,
        store: Store<State>,
        started: Instant,
        result: CallResult<R>,
    ) -> Result<R, CallError> {
        let duration = started.elapsed();
        let plugin = self.name().to_owned();
        let state = store.data();
        let denials = state.denials();
        let outcome = match result {
            Err(_) => Err(CallError::TimedOut {
                plugin,
                budget: Budget::WallClock(self.inner.limits.timeout),
            }),
            Ok(Err(e)) => Err(self.classify(e, state)),
            Ok(Ok(Err(error))) => Err(CallError::Plugin { plugin, error }),
            Ok(Ok(Ok(value))) => Ok(value),
        };
        let outcome = match (outcome, denials.first()) {
            (
                Err(
                    CallError::Plugin { plugin, .. }
                    | CallError::Panicked { plugin, .. }
                    | CallError::Trap { plugin, .. },
                ),
                Some(d),
            ) => Err(CallError::Denied {
                plugin,
                denial: d.clone(),
            }),
            (outcome, _) => outcome,
        };
        self.inner.metrics.record(CallRecord {
            duration,
            memory_high_water: state.limiter.memory_high_water,
            denied_requests: denials.len(),
            log_lines_dropped: state.logs_dropped,
            error: outcome.as_ref().err().map(CallError::kind),
        });
        let plugin = self.name();
        let duration_us = duration.as_micros() as u64;
        match &outcome {
            Ok(_) => tracing::debug!(plugin, call, duration_us, "plugin call succeeded"),
            Err(e) => {
                tracing::warn!(plugin, call, kind = e.kind().as_str(), duration_us, error = %e, "plugin call failed")
            }
        }
        outcome
    }

    fn classify(&self, error: wasmtime::Error, state: &State) -> CallError {
        let plugin = self.name().to_owned();
        if error.downcast_ref::<CpuBudgetExceeded>().is_some() {
            return CallError::TimedOut {
                plugin,
                budget: Budget::Cpu(self.inner.limits.cpu),
            };
        }
        if let Some(r) = error.downcast_ref::<ResultLimitExceeded>() {
            return CallError::TooManyResults {
                plugin,
                what: r.what,
                count: r.count,
                limit: r.limit,
            };
        }
        if let Some(m) = error.downcast_ref::<MemoryLimitExceeded>() {
            return CallError::MemoryLimit {
                plugin,
                limit: m.limit,
                requested: m.requested,
            };
        }
        let stderr = state.stderr_text();
        match error.downcast_ref::<Trap>() {
            Some(Trap::StackOverflow) => CallError::StackOverflow { plugin },
            Some(Trap::Interrupt | Trap::OutOfFuel) => CallError::TimedOut {
                plugin,
                budget: Budget::Cpu(self.inner.limits.cpu),
            },
            Some(Trap::UnreachableCodeReached) if stderr.contains("panicked at") => {
                CallError::Panicked {
                    plugin,
                    message: panic_message(&stderr),
                }
            }
            Some(trap) => CallError::Trap {
                plugin,
                message: if stderr.is_empty() {
                    trap.to_string()
                } else {
                    format!("{trap}; stderr: {stderr}")
                },
            },
            None => CallError::Trap {
                plugin,
                message: format!("{error:#}"),
            },
        }
    }
}

/// Fails a successful call whose result counts more than `limit` items.
fn cap<R>(
    result: CallResult<R>,
    what: &'static str,
    limit: usize,
    count: impl FnOnce(&R) -> usize,
) -> CallResult<R> {
    match result {
        Ok(Ok(Ok(value))) => {
            let count = count(&value);
            if count > limit {
                Ok(Err(wasmtime::Error::new(ResultLimitExceeded {
                    what,
                    count,
                    limit,
                })))
            } else {
                Ok(Ok(Ok(value)))
            }
        }
        other => other,
    }
}

/// The panic text from a Rust guest's stderr: the lines after
/// `panicked at <location>:`, without the backtrace hint.
fn panic_message(stderr: &str) -> String {
    let text = stderr
        .split_once("panicked at ")
        .map_or(stderr, |(_, rest)| rest);
    text.lines()
        .filter(|l| !l.starts_with("note: "))
        .collect::<Vec<_>>()
        .join(" ")
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.inner.name)
            .field("kind", &self.inner.kind)
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}

#[allow(dead_code)]
fn _assert_send(p: &Plugin) -> impl Send + '_ {
    p.discover("{}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn results_over_the_cap_become_an_error() {
        let ok: CallResult<Vec<u8>> = Ok(Ok(Ok(vec![0; 3])));
        let r = cap(ok, "series", 3, Vec::len);
        assert!(matches!(r, Ok(Ok(Ok(v))) if v.len() == 3));
        let over: CallResult<Vec<u8>> = Ok(Ok(Ok(vec![0; 4])));
        let Ok(Err(e)) = cap(over, "series", 3, Vec::len) else {
            panic!("not capped")
        };
        let r = e.downcast_ref::<ResultLimitExceeded>();
        assert!(matches!(r, Some(r) if r.count == 4 && r.limit == 3 && r.what == "series"));
        // The plugin's own error passes unchanged.
        let failed: CallResult<Vec<u8>> = Ok(Ok(Err(PluginError::Transient("x".into()))));
        assert!(matches!(cap(failed, "series", 0, Vec::len), Ok(Ok(Err(_)))));
    }

    #[test]
    fn panic_message_keeps_location_and_text() {
        let stderr = "thread '<unnamed>' panicked at src/lib.rs:70:24:\nchaos plugin asked to panic\nnote: run with `RUST_BACKTRACE=1`";
        assert_eq!(
            panic_message(stderr),
            "src/lib.rs:70:24: chaos plugin asked to panic"
        );
    }
}
