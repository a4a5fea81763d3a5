//! The runtime: one wasmtime `Engine` for every plugin, its epoch ticker,
//! the `Linker` with everything a plugin may import, the compiled-artifact
//! cache, and loading (compile once, pre-instantiate, ask `describe`).
//!
//! Engine settings (measured on this machine, see
//! `examples/call_overhead.rs`): epoch interruption for the CPU budget (a
//! background thread ticks every `epoch_tick`); the pooling allocator with
//! copy-on-write memory images, so a call's fresh instance costs tens of
//! microseconds; a bounded wasm stack so deep recursion traps cleanly.

use crate::bindings;
use crate::cache::{ArtifactCache, CacheOutcome, component_sha};
use crate::dns::Resolver;
use crate::error::LoadError;
use crate::grants::{AllowList, Grants};
use crate::limits::Limits;
use crate::plugin::{LoadInfo, Plugin, WorldPre};
use crate::state::State;
use crate::types::PluginKind;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How the runtime is set up; the defaults suit a Pharos server.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Epoch tick: the granularity of CPU budgets (default 10 ms).
    pub epoch_tick: Duration,
    /// Most WebAssembly stack a call may use (default 512 KiB).
    pub max_wasm_stack: usize,
    /// The largest memory limit any plugin may be given (default 256 MiB).
    pub max_memory: usize,
    /// `Some(n)`: pool resources for `n` concurrent plugin instances
    /// (default 64); `None`: allocate on demand (slower per call).
    pub pooling: Option<u32>,
    /// With pooling: bytes of each linear memory kept resident (reset with
    /// `memset` rather than given back to the kernel) when an instance
    /// ends. Default 0: on this machine keeping 1 MiB made a no-op call
    /// ~35 µs instead of ~18 µs (`examples/call_overhead.rs`).
    pub memory_keep_resident: usize,
    /// Where to keep compiled artifacts (e.g. `<data>/plugins/cache`);
    /// `None` compiles every component at every load.
    pub cache_dir: Option<PathBuf>,
    /// Nameservers for the plugins' `dns` lookups and `allow_tcp` names;
    /// empty (the default): the machine's `/etc/resolv.conf`.
    pub dns_servers: Vec<SocketAddr>,
    /// How long one DNS query waits for an answer (default 5 s).
    pub dns_timeout: Duration,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            epoch_tick: Duration::from_millis(10),
            max_wasm_stack: 512 << 10,
            max_memory: 256 << 20,
            pooling: Some(64),
            memory_keep_resident: 0,
            cache_dir: None,
            dns_servers: Vec::new(),
            dns_timeout: Duration::from_secs(5),
        }
    }
}

/// What one plugin is allowed: limits and grants (`[plugins.<name>]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginSettings {
    /// Memory, CPU and time limits of each call.
    pub limits: Limits,
    /// Network grants.
    pub grants: Grants,
}

struct Ticker {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

pub(crate) struct RuntimeInner {
    pub(crate) engine: Engine,
    linker: Linker<State>,
    cache: Option<ArtifactCache>,
    pub(crate) tls: Arc<rustls::ClientConfig>,
    pub(crate) resolver: Arc<Resolver>,
    pub(crate) options: RuntimeOptions,
    _ticker: Ticker,
}

/// Runs plugins. Cheap to clone; every clone shares the engine.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<RuntimeInner>,
}

fn engine_error(e: impl std::fmt::Display) -> LoadError {
    LoadError::Engine(e.to_string())
}

impl Runtime {
    /// Builds the engine, starts the epoch ticker and opens the cache.
    pub fn new(options: RuntimeOptions) -> Result<Self, LoadError> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.max_wasm_stack(options.max_wasm_stack);
        config.async_stack_size(options.max_wasm_stack + (1 << 20));
        if let Some(instances) = options.pooling {
            let mut pool = PoolingAllocationConfig::default();
            pool.total_component_instances(instances)
                .total_core_instances(instances * 8)
                .total_memories(instances * 2)
                .total_tables(instances * 8)
                .total_stacks(instances)
                .max_memory_size(options.max_memory)
                .linear_memory_keep_resident(options.memory_keep_resident)
                .table_keep_resident(1 << 16);
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = Engine::new(&config).map_err(engine_error)?;

        let mut linker = Linker::<State>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(engine_error)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(engine_error)?;
        bindings::host::add_to_linker::<State, HasSelf<State>>(&mut linker, |s| s)
            .map_err(engine_error)?;
        bindings::dns::add_to_linker::<State, HasSelf<State>>(&mut linker, |s| s)
            .map_err(engine_error)?;

        let cache = match &options.cache_dir {
            Some(dir) => {
                Some(
                    ArtifactCache::open(dir, &engine).map_err(|source| LoadError::Cache {
                        path: dir.clone(),
                        source,
                    })?,
                )
            }
            None => None,
        };
        let tls = Arc::new(crate::outbound::tls_config().map_err(engine_error)?);
        let resolver = Arc::new(Resolver::new(
            options.dns_servers.clone(),
            options.dns_timeout,
        ));

        let stop = Arc::new(AtomicBool::new(false));
        let handle = {
            let stop = stop.clone();
            let engine = engine.clone();
            let tick = options.epoch_tick;
            std::thread::Builder::new()
                .name("pharos-plugin-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(tick);
                        engine.increment_epoch();
                    }
                })
                .map_err(engine_error)?
        };
        Ok(Runtime {
            inner: Arc::new(RuntimeInner {
                engine,
                linker,
                cache,
                tls,
                resolver,
                options,
                _ticker: Ticker {
                    stop,
                    handle: Some(handle),
                },
            }),
        })
    }

    /// Loads a plugin of `kind` from component bytes: compiles it (or loads
    /// its verified cached artifact), checks that it implements the world
    /// of `kind` with nothing imported that the host lacks, and asks it
    /// `describe`.
    pub async fn load(
        &self,
        name: &str,
        kind: PluginKind,
        component: &[u8],
        settings: &PluginSettings,
    ) -> Result<Plugin, LoadError> {
        self.load_as(name, Some(kind), component, settings).await
    }

    /// Loads a plugin whose kind is not known yet (`pharos plugin
    /// install`): the component must implement one of the three worlds;
    /// the first that fits (discovery, exporter, notifier) is used and
    /// `describe` must agree with it.
    pub async fn load_any(
        &self,
        name: &str,
        component: &[u8],
        settings: &PluginSettings,
    ) -> Result<Plugin, LoadError> {
        self.load_as(name, None, component, settings).await
    }

    async fn load_as(
        &self,
        name: &str,
        kind: Option<PluginKind>,
        component: &[u8],
        settings: &PluginSettings,
    ) -> Result<Plugin, LoadError> {
        let allow = AllowList::parse(&settings.grants).map_err(|source| LoadError::Grant {
            plugin: name.to_owned(),
            source,
        })?;
        let started = Instant::now();
        let (component, cache) = self.compile(name, component).await?;
        let compile_time = started.elapsed();
        let world_error = |kind: PluginKind| {
            move |e: wasmtime::Error| LoadError::World {
                plugin: name.to_owned(),
                kind,
                message: format!("{e:#}"),
            }
        };
        let imports: Vec<String> = component
            .component_type()
            .imports(&self.inner.engine)
            .map(|(import, _)| import.to_owned())
            .collect();
        let pre = self
            .inner
            .linker
            .instantiate_pre(&component)
            .map_err(world_error(kind.unwrap_or(PluginKind::Discovery)))?;
        let world = |kind: PluginKind| -> Result<WorldPre, LoadError> {
            Ok(match kind {
                PluginKind::Discovery => WorldPre::Discovery(
                    bindings::discovery::DiscoveryPre::new(pre.clone())
                        .map_err(world_error(kind))?,
                ),
                PluginKind::Exporter => WorldPre::Exporter(
                    bindings::exporter::ExporterPre::new(pre.clone()).map_err(world_error(kind))?,
                ),
                PluginKind::Notifier => WorldPre::Notifier(
                    bindings::notifier::NotifierPre::new(pre.clone()).map_err(world_error(kind))?,
                ),
            })
        };
        let (kind, pre) = match kind {
            Some(kind) => (kind, world(kind)?),
            None => {
                let kinds = [
                    PluginKind::Discovery,
                    PluginKind::Exporter,
                    PluginKind::Notifier,
                ];
                let mut found = None;
                for k in kinds {
                    if let Ok(w) = world(k) {
                        found = Some((k, w));
                        break;
                    }
                }
                found.ok_or_else(|| LoadError::NoWorld {
                    plugin: name.to_owned(),
                })?
            }
        };
        let load = LoadInfo {
            cache,
            compile_time,
        };
        let plugin = Plugin::new(
            self.inner.clone(),
            name,
            kind,
            pre,
            settings.limits,
            allow,
            load,
            imports,
        );
        let info = plugin.describe().await.map_err(|e| LoadError::Describe {
            plugin: name.to_owned(),
            source: Box::new(e),
        })?;
        if info.kind != kind {
            return Err(LoadError::KindMismatch {
                plugin: name.to_owned(),
                expected: kind,
                actual: info.kind,
            });
        }
        tracing::info!(plugin = name, %kind, version = %info.version, cache = ?cache, compile_ms = compile_time.as_millis() as u64, "plugin loaded");
        Ok(plugin.with_info(info))
    }

    /// Loads the built-in first-party plugin `name` (see
    /// [`components::embedded`](crate::components::embedded)).
    pub async fn load_embedded(
        &self,
        name: &str,
        kind: PluginKind,
        settings: &PluginSettings,
    ) -> Result<Plugin, LoadError> {
        let bytes = crate::components::embedded_component(name)
            .ok_or_else(|| LoadError::UnknownEmbedded(name.to_owned()))?;
        self.load(name, kind, bytes, settings).await
    }

    async fn compile(
        &self,
        name: &str,
        bytes: &[u8],
    ) -> Result<(Component, CacheOutcome), LoadError> {
        let inner = self.inner.clone();
        let bytes = bytes.to_vec();
        let name = name.to_owned();
        let task = tokio::task::spawn_blocking(move || {
            let compile_error = |e: wasmtime::Error| LoadError::Compile {
                plugin: name.clone(),
                message: format!("{e:#}"),
            };
            let Some(cache) = &inner.cache else {
                let c = Component::new(&inner.engine, &bytes).map_err(compile_error)?;
                return Ok((c, CacheOutcome::Disabled));
            };
            let sha = component_sha(&bytes);
            let outcome = match cache.get(&sha) {
                Ok(artifact) => {
                    // SAFETY: the artifact carries a MAC made with this
                    // cache's secret key over the engine fingerprint, the
                    // component's hash and the bytes: Pharos wrote it, for
                    // this engine configuration, from this component (see
                    // `cache.rs`).
                    match unsafe { Component::deserialize(&inner.engine, &artifact) } {
                        Ok(c) => return Ok((c, CacheOutcome::Hit)),
                        Err(e) => {
                            tracing::warn!(plugin = %name, error = %e, "cached plugin artifact did not load; recompiling");
                            CacheOutcome::Rejected
                        }
                    }
                }
                Err(outcome) => outcome,
            };
            let c = Component::new(&inner.engine, &bytes).map_err(compile_error)?;
            match c.serialize() {
                Ok(artifact) => cache.put(&sha, &artifact),
                Err(e) => {
                    tracing::warn!(plugin = %name, error = %e, "cannot serialize a compiled plugin")
                }
            }
            Ok((c, outcome))
        });
        task.await
            .map_err(|e| LoadError::Engine(format!("compilation task failed: {e}")))?
    }
}
