//! The plugin set of a running server: the first-party plugins built into
//! the binary plus the installed ones, each loaded with its
//! `[plugins.<name>]` settings.
//!
//! A config is applied in two steps, so that a bad one changes nothing
//! (as Prometheus refuses a bad reload and keeps running):
//! [`PluginSet::prepare`] loads what the config needs and checks every
//! use — a discovery entry or exporter job naming an unknown plugin or a
//! plugin of the wrong kind, a config the plugin's `validate-config`
//! refuses, a grant that does not parse — and [`PluginSet::commit`] makes
//! the result current. A plugin whose component (sha256) and settings are
//! unchanged is kept, with its counters; a newly installed version, or
//! new grants, load afresh.
//!
//! Backoff is kept per use (a discovery entry or an exporter job), with
//! the plugin host's doubling — after `n` failed calls in a row the next
//! waits `min(1s·2^(n-1), 5m)`; calls due before then are skipped — so one
//! failing job does not hold back another job of the same plugin.
//! Committing clears it: the operator changed something, so the next call
//! is made at once.
//!
//! Loaded: every installed plugin, and the built-in plugins the config
//! uses or configures. The others are listed, not loaded. An installed
//! plugin that fails to load is an error only if the config uses or
//! configures it (else a warning).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use parking_lot::{Mutex, RwLock};
use pharos_config::Config;
use pharos_plugin_host::{
    LoadError, Plugin, PluginKind, PluginSettings, Runtime, RuntimeOptions, components,
};
use sha2::{Digest, Sha256};

use crate::capabilities::requested_capabilities;
use crate::error::{CheckError, StoreError};
use crate::manifest::Manifest;
use crate::settings::settings;
use crate::status::{Health, PluginStatus, SourceKind, UseStatus};
use crate::store::PluginStore;

/// Where a loaded plugin comes from.
#[derive(Debug, Clone)]
pub enum PluginSource {
    /// Built into the binary.
    Embedded,
    /// Installed in the store.
    Installed(Box<Manifest>),
}

/// A loaded plugin with what it was loaded from and with.
#[derive(Debug, Clone)]
pub struct PluginEntry {
    pub plugin: Plugin,
    pub source: PluginSource,
    pub settings: PluginSettings,
    /// The component's sha256, hex.
    pub sha256: String,
}

/// Identifies one use of a plugin across reloads: the same job, plugin and
/// plugin config are the same use wherever the entry moves in the file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct UseKey {
    pub(crate) job: String,
    pub(crate) kind: &'static str,
    pub(crate) plugin: String,
    pub(crate) config: String,
}

impl UseKey {
    pub(crate) fn new(job: &str, kind: PluginKind, plugin: &str, config: &str) -> Self {
        UseKey {
            job: job.to_owned(),
            kind: kind_str(kind),
            plugin: plugin.to_owned(),
            config: config.to_owned(),
        }
    }
}

fn kind_str(kind: PluginKind) -> &'static str {
    match kind {
        PluginKind::Discovery => "discovery",
        PluginKind::Exporter => "exporter",
        PluginKind::Notifier => "notifier",
    }
}

/// A config's plugins, loaded and checked, ready to [`PluginSet::commit`].
pub struct Prepared {
    plugins: BTreeMap<String, PluginEntry>,
    uses: Vec<(UseKey, String, PluginKind)>,
}

impl Prepared {
    /// The names of the plugins it loaded.
    pub fn plugin_names(&self) -> Vec<String> {
        self.plugins.keys().cloned().collect()
    }
}

struct UseRecord {
    status: UseStatus,
    /// The latest error, kept after a recovery.
    last_error: Option<(SystemTime, String)>,
    /// Failed calls in a row, and when the next call may be made.
    failures: u32,
    retry_after: Option<Instant>,
}

const BACKOFF_BASE: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// `min(base · 2^(failures-1), max)`, as the plugin host computes it.
fn backoff_delay(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    BACKOFF_BASE.saturating_mul(1 << exp).min(BACKOFF_MAX)
}

struct Inner {
    runtime: Runtime,
    store: PluginStore,
    max_memory: usize,
    current: RwLock<Arc<BTreeMap<String, PluginEntry>>>,
    uses: Mutex<BTreeMap<UseKey, UseRecord>>,
}

/// The plugins of a running server. Cheap to clone.
#[derive(Clone)]
pub struct PluginSet {
    inner: Arc<Inner>,
}

/// A plugin config (a TOML table) as the JSON text plugins receive.
pub(crate) fn config_json<T: serde::Serialize>(config: &T) -> String {
    serde_json::to_string(config).unwrap_or_else(|_| "{}".to_owned())
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl PluginSet {
    /// A set for the data directory `data_dir`, with the runtime's default
    /// options and its artifact cache in `<data>/plugins/cache`.
    pub fn new(data_dir: &Path) -> Result<Self, StoreError> {
        let options = RuntimeOptions {
            cache_dir: Some(PluginStore::new(data_dir).cache_dir()),
            ..RuntimeOptions::default()
        };
        Self::with_options(data_dir, options)
    }

    /// A set for `data_dir` on a runtime with `options` (`cache_dir: None`
    /// compiles every component at every load).
    pub fn with_options(data_dir: &Path, options: RuntimeOptions) -> Result<Self, StoreError> {
        let store = PluginStore::new(data_dir);
        let max_memory = options.max_memory;
        let runtime = Runtime::new(options).map_err(StoreError::Runtime)?;
        Ok(PluginSet {
            inner: Arc::new(Inner {
                runtime,
                store,
                max_memory,
                current: RwLock::new(Arc::default()),
                uses: Mutex::new(BTreeMap::new()),
            }),
        })
    }

    /// The runtime every plugin of the set runs on.
    pub fn runtime(&self) -> &Runtime {
        &self.inner.runtime
    }

    /// The installed-plugin store.
    pub fn store(&self) -> &PluginStore {
        &self.inner.store
    }

    /// The current plugin `name`, if loaded.
    pub fn get(&self, name: &str) -> Option<PluginEntry> {
        self.inner.current.read().get(name).cloned()
    }

    /// Every loaded plugin, by name.
    pub fn loaded(&self) -> Arc<BTreeMap<String, PluginEntry>> {
        self.inner.current.read().clone()
    }

    /// Loads and checks what `config` needs; changes nothing. The error
    /// lists every problem found.
    pub async fn prepare(&self, config: &Config) -> Result<Prepared, CheckError> {
        let mut errors = Vec::new();
        let installed: BTreeMap<String, Manifest> = match self.inner.store.list() {
            Ok(list) => list.into_iter().map(|m| (m.name.clone(), m)).collect(),
            Err(e) => {
                errors.push(e.to_string());
                BTreeMap::new()
            }
        };
        let known = |name: &str| {
            installed.contains_key(name) || components::embedded_component(name).is_some()
        };
        // Unknown names, at each place they are written.
        for job in &config.scrape {
            for d in job.discovery.iter().filter(|d| !known(&d.plugin)) {
                errors.push(
                    d.location
                        .error(".plugin", unknown(&d.plugin, &installed))
                        .to_string(),
                );
            }
        }
        for e in config.exporters.iter().filter(|e| !known(&e.plugin)) {
            errors.push(
                e.location
                    .error(".plugin", unknown(&e.plugin, &installed))
                    .to_string(),
            );
        }
        for (name, p) in config.plugins.iter().filter(|(n, _)| !known(n)) {
            errors.push(
                p.location("")
                    .error("", unknown(name, &installed))
                    .to_string(),
            );
        }

        // The receivers' notifiers (`alerting.receivers[i].notifiers[j]`).
        let notifiers: Vec<(String, &str, String)> = config
            .alerting
            .routing
            .receivers
            .iter()
            .enumerate()
            .flat_map(|(i, r)| {
                r.value.notifiers.iter().enumerate().map(move |(j, n)| {
                    (
                        format!("alerting.receivers[{i}].notifiers[{j}]"),
                        n.value.plugin.value.as_str(),
                        config_json(&n.value.config),
                    )
                })
            })
            .collect();
        for (key, plugin, _) in notifiers.iter().filter(|(_, p, _)| !known(p)) {
            errors.push(format!("{key}.plugin: {}", unknown(plugin, &installed)));
        }

        let mut referenced: BTreeSet<String> = config.plugins.keys().cloned().collect();
        referenced.extend(notifiers.iter().map(|(_, p, _)| (*p).to_owned()));
        referenced.extend(
            config
                .scrape
                .iter()
                .flat_map(|j| j.discovery.iter().map(|d| d.plugin.clone())),
        );
        referenced.extend(config.exporters.iter().map(|e| e.plugin.clone()));
        let mut wanted: BTreeSet<String> = installed.keys().cloned().collect();
        wanted.extend(referenced.iter().cloned());
        wanted.retain(|n| known(n));

        let current = self.loaded();
        let mut plugins = BTreeMap::new();
        for name in wanted {
            let settings = match settings(config.plugins.get(&name), self.inner.max_memory) {
                Ok(s) => s,
                Err(e) => {
                    errors.push(e.to_string());
                    continue;
                }
            };
            match self
                .load(&name, installed.get(&name), settings, &current)
                .await
            {
                Ok(entry) => {
                    plugins.insert(name, entry);
                }
                // An installed plugin nothing uses does not stop the config.
                Err(e) if !referenced.contains(&name) => {
                    tracing::warn!(plugin = %name, error = %e, "installed plugin not loaded");
                }
                Err(e) => {
                    let place = config
                        .plugins
                        .get(&name)
                        .map(|p| p.location(""))
                        .filter(|l| !l.file.is_empty());
                    errors.push(match place {
                        Some(l) => l.error("", &e).to_string(),
                        None => e,
                    });
                }
            }
        }

        let mut uses = Vec::new();
        let check = async |plugin: &str, kind: PluginKind, json: &str| -> Result<(), String> {
            let Some(entry) = plugins.get(plugin) else {
                return Ok(()); // reported above
            };
            let actual = entry.plugin.kind();
            if actual != kind {
                return Err(format!(
                    "plugin {plugin:?} is a {actual} plugin; this needs a {kind} plugin"
                ));
            }
            entry
                .plugin
                .validate_config(json)
                .await
                .map_err(|e| format!("the plugin refused its config: {e}"))
        };
        for job in &config.scrape {
            for d in &job.discovery {
                let json = config_json(&d.config);
                if let Err(e) = check(&d.plugin, PluginKind::Discovery, &json).await {
                    errors.push(d.location.error(".config", e).to_string());
                }
                let key = UseKey::new(&job.job, PluginKind::Discovery, &d.plugin, &json);
                uses.push((key, d.location.key.clone(), PluginKind::Discovery));
            }
        }
        for e in &config.exporters {
            let json = config_json(&e.config);
            if let Err(err) = check(&e.plugin, PluginKind::Exporter, &json).await {
                errors.push(e.location.error(".config", err).to_string());
            }
            let key = UseKey::new(&e.job, PluginKind::Exporter, &e.plugin, &json);
            uses.push((key, e.location.key.clone(), PluginKind::Exporter));
        }
        for (key, plugin, json) in &notifiers {
            if let Err(e) = check(plugin, PluginKind::Notifier, json).await {
                errors.push(format!("{key}.config: {e}"));
            }
        }
        if errors.is_empty() {
            Ok(Prepared { plugins, uses })
        } else {
            Err(CheckError { errors })
        }
    }

    /// Loads one plugin, or keeps the current one if its component and
    /// settings are unchanged.
    async fn load(
        &self,
        name: &str,
        manifest: Option<&Manifest>,
        settings: PluginSettings,
        current: &BTreeMap<String, PluginEntry>,
    ) -> Result<PluginEntry, String> {
        let (bytes, source) = match manifest {
            Some(m) => (
                self.inner
                    .store
                    .read_component(m)
                    .map_err(|e| e.to_string())?,
                PluginSource::Installed(Box::new(m.clone())),
            ),
            None => {
                let bytes = components::embedded_component(name)
                    .ok_or_else(|| format!("no built-in plugin named {name:?}"))?;
                (bytes.to_vec(), PluginSource::Embedded)
            }
        };
        let sha256 = sha256_hex(&bytes);
        if let Some(e) = current.get(name)
            && e.sha256 == sha256
            && e.settings == settings
        {
            return Ok(PluginEntry {
                source,
                ..e.clone()
            });
        }
        let runtime = &self.inner.runtime;
        let loaded: Result<Plugin, LoadError> = match manifest.and_then(Manifest::plugin_kind) {
            Some(kind) => runtime.load(name, kind, &bytes, &settings).await,
            None => runtime.load_any(name, &bytes, &settings).await,
        };
        let plugin = loaded.map_err(|e| e.to_string())?;
        Ok(PluginEntry {
            plugin,
            source,
            settings,
            sha256,
        })
    }

    /// Makes a prepared config's plugins current.
    pub fn commit(&self, prepared: Prepared) {
        let Prepared { plugins, uses } = prepared;
        for entry in plugins.values() {
            entry.plugin.reset_backoff();
        }
        *self.inner.current.write() = Arc::new(plugins);
        let mut records = self.inner.uses.lock();
        let keep: BTreeSet<&UseKey> = uses.iter().map(|(k, _, _)| k).collect();
        records.retain(|k, _| keep.contains(k));
        for r in records.values_mut() {
            r.failures = 0;
            r.retry_after = None;
        }
        for (key, path, kind) in uses {
            records
                .entry(key.clone())
                .and_modify(|r| r.status.key.clone_from(&path))
                .or_insert_with(|| UseRecord {
                    status: UseStatus {
                        job: key.job.clone(),
                        kind,
                        key: path,
                        health: Health::Unknown,
                        last_error: String::new(),
                        last_call: None,
                        last_duration: None,
                        skipped: 0,
                    },
                    last_error: None,
                    failures: 0,
                    retry_after: None,
                });
        }
    }

    /// Records the outcome of a use's call.
    pub(crate) fn record_call(
        &self,
        key: &UseKey,
        started: SystemTime,
        duration: Duration,
        result: Result<(), String>,
    ) {
        let mut records = self.inner.uses.lock();
        let Some(r) = records.get_mut(key) else {
            return;
        };
        r.status.last_call = Some(started);
        r.status.last_duration = Some(duration);
        match result {
            Ok(()) => {
                r.status.health = Health::Up;
                r.status.last_error.clear();
                r.failures = 0;
                r.retry_after = None;
            }
            Err(e) => {
                r.status.health = Health::Down;
                r.status.last_error.clone_from(&e);
                r.last_error = Some((started, e));
                r.failures = r.failures.saturating_add(1);
                r.retry_after = Some(Instant::now() + backoff_delay(r.failures));
            }
        }
    }

    /// If the use is backing off: its failures in a row and how long until
    /// its next call; the call is counted as skipped.
    pub(crate) fn backing_off(&self, key: &UseKey) -> Option<(u32, Duration)> {
        let mut records = self.inner.uses.lock();
        let r = records.get_mut(key)?;
        let wait = r.retry_after?.checked_duration_since(Instant::now())?;
        r.status.skipped += 1;
        Some((r.failures, wait))
    }

    /// Every plugin: loaded, installed or built in, by name.
    pub fn statuses(&self) -> Vec<PluginStatus> {
        let loaded = self.loaded();
        let installed = self.inner.store.list().unwrap_or_default();
        let mut out: BTreeMap<String, PluginStatus> = BTreeMap::new();
        for (name, _) in components::embedded() {
            out.insert((*name).to_owned(), unloaded(name, SourceKind::Embedded));
        }
        for m in &installed {
            let mut s = unloaded(
                &m.name,
                SourceKind::Installed(self.inner.store.component_path(m)),
            );
            s.kind = m.plugin_kind();
            s.version = Some(m.version.clone());
            s.description = Some(m.description.clone());
            s.sha256 = Some(m.sha256.clone());
            s.capabilities.clone_from(&m.capabilities);
            out.insert(m.name.clone(), s);
        }
        for (name, e) in loaded.iter() {
            let info = e.plugin.info();
            let source = match &e.source {
                PluginSource::Embedded => SourceKind::Embedded,
                PluginSource::Installed(m) => {
                    SourceKind::Installed(self.inner.store.component_path(m))
                }
            };
            out.insert(
                name.clone(),
                PluginStatus {
                    name: name.clone(),
                    kind: Some(e.plugin.kind()),
                    version: info.map(|i| i.version.clone()),
                    description: info.map(|i| i.description.clone()),
                    source,
                    sha256: Some(e.sha256.clone()),
                    loaded: true,
                    settings: Some(e.settings.clone()),
                    capabilities: requested_capabilities(e.plugin.imports()),
                    health: Health::Unknown,
                    last_error: None,
                    metrics: Some(e.plugin.metrics()),
                    uses: Vec::new(),
                },
            );
        }
        let records = self.inner.uses.lock();
        for (key, r) in records.iter() {
            let Some(s) = out.get_mut(&key.plugin) else {
                continue;
            };
            s.uses.push(r.status.clone());
            if let Some((at, text)) = &r.last_error
                && s.last_error.as_ref().is_none_or(|(t, _)| t < at)
            {
                s.last_error = Some((*at, text.clone()));
            }
            s.health = match (s.health, r.status.health) {
                (Health::Down, _) | (_, Health::Down) => Health::Down,
                (Health::Up, _) | (_, Health::Up) => Health::Up,
                _ => Health::Unknown,
            };
        }
        out.into_values().collect()
    }
}

fn unloaded(name: &str, source: SourceKind) -> PluginStatus {
    PluginStatus {
        name: name.to_owned(),
        kind: None,
        version: None,
        description: None,
        source,
        sha256: None,
        loaded: false,
        settings: None,
        capabilities: Vec::new(),
        health: Health::Unknown,
        last_error: None,
        metrics: None,
        uses: Vec::new(),
    }
}

/// The message for a plugin name that is neither built in nor installed.
fn unknown(name: &str, installed: &BTreeMap<String, Manifest>) -> String {
    let builtin: Vec<&str> = components::embedded().iter().map(|(n, _)| *n).collect();
    let installed: Vec<&str> = installed.keys().map(String::as_str).collect();
    format!(
        "no plugin named {name:?}: built in are {}; installed are {} (`pharos plugin install` adds one)",
        builtin.join(", "),
        if installed.is_empty() {
            "none".to_owned()
        } else {
            installed.join(", ")
        }
    )
}
