//! The running configuration and its reload (SIGHUP, `POST /-/reload`).
//!
//! A reload reads the file again and validates it whole (the loader's
//! checks, then what only building the jobs' HTTP clients finds) before
//! anything changes; a bad file is refused with its reason and the running
//! config stays. The plugin platform checks it too (every plugin a job
//! uses exists, has the right kind and accepts its config; grants parse),
//! loading what changed — a newly installed version or new grants — and
//! the result is committed before the scrape manager and the exporter
//! jobs see the new config. A good config is applied to the scrape
//! manager (loops of unchanged targets keep running) and becomes what
//! `/api/v1/status/config` shows. `[server] listen` and `[storage]`
//! changes need a restart: they are logged, and the running values stay;
//! the rest of `[server]` (TLS, users, limits, switches) is checked with
//! the config (its certificates read) and applied to the listener.
//!
//! Rule files are loaded and checked whole with the config: a broken
//! file refuses the reload and the running rules stay; unchanged groups
//! keep running and changed ones keep their alerts' state.
//!
//! Without a config file Pharos runs on the embedded default, whose
//! self-scrape job (`pharos`) scrapes the address actually listened on.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use parking_lot::Mutex;
use pharos_alerting::notify::Templates;
use pharos_alerting::service::AlertingService;
use pharos_config::Config;
use pharos_plugins::{ExporterManager, PluginSet, Prepared};
use pharos_remote_write::{Options as RemoteWriteOptions, RemoteWrite};
use pharos_rules::rulefmt::RuleFile;
use pharos_rules::{RuleManager, RuleSettings};
use pharos_scrape::ScrapeManager;

use crate::alerting::{PluginDeliverer, RelabelingSink, RenderContext};
use crate::listener::Listener;
use crate::notifier::Notifier;
use crate::self_metrics::SelfMetrics;

/// The job of the embedded default that scrapes Pharos itself.
pub const SELF_JOB: &str = "pharos";

/// Where the config comes from and what the command line overrides.
#[derive(Debug, Clone, Default)]
pub struct ConfigSource {
    /// `None`: the embedded default.
    pub file: Option<PathBuf>,
    /// `--listen`.
    pub listen: Option<String>,
    /// `--data`.
    pub data: Option<PathBuf>,
    /// `--enable-lifecycle`: turns `[server] enable_lifecycle` on.
    pub enable_lifecycle: bool,
}

impl ConfigSource {
    /// Loads and validates the config, with the command line's overrides
    /// applied. `bound` is the address listened on, once known: the
    /// embedded default's self-scrape job scrapes it.
    pub fn load(&self, bound: Option<&str>) -> anyhow::Result<Config> {
        let mut config = match &self.file {
            Some(path) => Config::load(path)?,
            None => Config::embedded_default()?,
        };
        if let Some(listen) = &self.listen {
            config.server.listen.clone_from(listen);
        }
        if let Some(data) = &self.data {
            config.storage.path.clone_from(data);
        }
        if self.enable_lifecycle {
            config.server.web.enable_lifecycle = true;
        }
        if self.file.is_none() {
            let addr = bound.unwrap_or(&config.server.listen).to_owned();
            for job in config.scrape.iter_mut().filter(|j| j.job == SELF_JOB) {
                job.targets = vec![addr.clone()];
            }
        }
        ScrapeManager::check(&config.scrape)?;
        Ok(config)
    }

    /// The directory relative rule file paths start from: the config
    /// file's (the working directory for the embedded default).
    pub fn base_dir(&self) -> PathBuf {
        self.file
            .as_ref()
            .and_then(|f| f.parent())
            .map(|p| {
                if p.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    p
                }
            })
            .unwrap_or(Path::new("."))
            .to_path_buf()
    }

    /// Loads and parses the notification templates `[alerting] templates`
    /// lists, with the default ones.
    pub fn load_templates(&self, config: &Config) -> anyhow::Result<Templates> {
        Templates::from_config(&config.alerting.routing, &self.base_dir())
            .map_err(|e| anyhow::anyhow!("alerting.{e}"))
            .context("error loading notification templates")
    }

    /// Loads and checks the rule files `config` lists.
    pub fn load_rules(&self, config: &Config) -> anyhow::Result<Vec<RuleFile>> {
        pharos_rules::files::load(&config.rules.files, &self.base_dir())
            .context("error loading rules")
    }
}

/// Pharos' external URL: `[server] external_url`, else, as Prometheus'
/// default, `http(s)://<host name>:<port listened on>` (the address
/// itself when the host name is unknown).
pub fn external_url(config: &Config, bound: &str) -> String {
    if let Some(u) = &config.server.external_url {
        return u.as_str().trim_end_matches('/').to_owned();
    }
    let tls = config.server.web.tls_server_config.is_some();
    let scheme = if tls { "https" } else { "http" };
    let host = crate::api::targets::hostname();
    match bound.rsplit_once(':') {
        Some((_, port)) if !host.is_empty() => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{bound}"),
    }
}

/// The rule manager's settings from a config; `bound` is the address
/// listened on (the external URL's default host).
pub fn rule_settings(config: &Config, bound: &str) -> RuleSettings {
    let external_url = external_url(config, bound);
    RuleSettings {
        evaluation_interval: config.global.evaluation_interval,
        query_offset: config.rules.query_offset,
        external_labels: config.global.external_labels.clone(),
        external_url,
        resend_delay: config.rules.resend_delay,
        outage_tolerance: config.rules.for_outage_tolerance,
        grace_period: config.rules.for_grace_period,
    }
}

/// Applies configs to the running parts.
pub struct Reloader {
    source: ConfigSource,
    bound: String,
    current: Mutex<Arc<Config>>,
    scrape: Arc<ScrapeManager>,
    metrics: Arc<SelfMetrics>,
    /// Serializes reloads.
    reloading: Mutex<()>,
    /// A `POST /-/reload` is running or waiting (see [`Reloader::claim_reload`]).
    http_reload: AtomicBool,
    /// The HTTP listener: TLS, users, limits and switches of `[server]`.
    listener: Option<Arc<Listener>>,
    /// Remote-write sending: how to start it, and the running queues.
    remote_write_opts: Option<RemoteWriteOptions>,
    remote_write: tokio::sync::Mutex<Option<RemoteWrite>>,
    /// The plugins and the exporter jobs that call them.
    plugins: Option<(PluginSet, Arc<ExporterManager>)>,
    /// The rule groups.
    rules: Option<Arc<RuleManager>>,
    /// The sender to external Alertmanagers.
    notifier: Option<Arc<Notifier>>,
    /// Pharos' own Alertmanager and its deliverer.
    alerting: Option<(AlertingService, Arc<PluginDeliverer>, Arc<RelabelingSink>)>,
}

/// The right to run one `POST /-/reload` (see [`Reloader::claim_reload`]).
pub struct ReloadClaim(Arc<Reloader>);

impl ReloadClaim {
    /// Reloads (on a blocking thread: it reads files and waits for a
    /// reload SIGHUP may have started).
    pub fn reload(self) -> anyhow::Result<()> {
        self.0.reload()
    }
}

impl Drop for ReloadClaim {
    fn drop(&mut self) {
        self.0.http_reload.store(false, Ordering::Release);
    }
}

impl Reloader {
    /// Enables `[server]`'s listener settings: reloads check them (a
    /// certificate that does not load refuses the reload) and apply them.
    pub fn with_listener(mut self, listener: Arc<Listener>) -> Self {
        self.listener = Some(listener);
        self
    }

    /// The right to reload, unless a reload is already running or an
    /// HTTP one waiting: `POST /-/reload` then answers 503 instead of
    /// queueing a thread per request. (SIGHUP always reloads.)
    pub fn claim_reload(self: &Arc<Self>) -> Option<ReloadClaim> {
        if self.reloading.is_locked() {
            return None;
        }
        self.http_reload
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()?;
        Some(ReloadClaim(self.clone()))
    }

    pub fn new(
        source: ConfigSource,
        bound: String,
        config: Config,
        scrape: Arc<ScrapeManager>,
        metrics: Arc<SelfMetrics>,
    ) -> Self {
        Reloader {
            source,
            bound,
            current: Mutex::new(Arc::new(config)),
            scrape,
            metrics,
            reloading: Mutex::new(()),
            http_reload: AtomicBool::new(false),
            listener: None,
            remote_write_opts: None,
            remote_write: tokio::sync::Mutex::new(None),
            plugins: None,
            rules: None,
            notifier: None,
            alerting: None,
        }
    }

    /// Enables Pharos' own routing: reloads apply `[alerting]` routes,
    /// receivers and templates to `service`.
    pub fn with_alerting(
        mut self,
        service: AlertingService,
        deliverer: Arc<PluginDeliverer>,
        sink: Arc<RelabelingSink>,
    ) -> Self {
        self.alerting = Some((service, deliverer, sink));
        self
    }

    /// Enables `[[alerting.alertmanagers]]`: reloads give `notifier` its
    /// Alertmanagers.
    pub fn with_notifier(mut self, notifier: Arc<Notifier>) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// Enables `[rules]`: reloads load the rule files and apply them to
    /// `rules`.
    pub fn with_rules(mut self, rules: Arc<RuleManager>) -> Self {
        self.rules = Some(rules);
        self
    }

    /// Enables plugins: reloads check and load them, and run
    /// `[[exporter]]` jobs with `exporters`.
    pub fn with_plugins(mut self, plugins: PluginSet, exporters: Arc<ExporterManager>) -> Self {
        self.plugins = Some((plugins, exporters));
        self
    }

    /// Enables `[[remote_write]]`: queues read the storage's WAL as
    /// `opts` says.
    pub fn with_remote_write(mut self, opts: RemoteWriteOptions) -> Self {
        self.remote_write_opts = Some(opts);
        self
    }

    /// Stops the remote-write queues, sending what they can within their
    /// flush deadline. Call before the storage is closed (closing
    /// checkpoints the WAL they read).
    pub async fn stop_remote_write(&self) {
        if let Some(rw) = self.remote_write.lock().await.take() {
            rw.stop().await;
        }
    }

    /// Remote-write queue statistics, for self metrics.
    pub fn remote_write_stats(&self) -> Vec<pharos_remote_write::QueueStats> {
        self.remote_write
            .try_lock()
            .map(|rw| rw.as_ref().map(RemoteWrite::stats).unwrap_or_default())
            .unwrap_or_default()
    }

    /// The running config.
    pub fn current(&self) -> Arc<Config> {
        self.current.lock().clone()
    }

    /// Where the config comes from.
    pub fn source(&self) -> &ConfigSource {
        &self.source
    }

    /// Starts what the current config describes, with its rule files
    /// (loaded and checked by the caller). Call once, inside the runtime.
    pub fn start(&self, rules: &[RuleFile]) {
        let config = self.current();
        self.apply(&config, None, rules, None);
    }

    /// Applies a checked config; `prepared` (its plugins) is committed
    /// first, so discovery and exporter jobs use the new plugins.
    fn apply(
        &self,
        config: &Config,
        prepared: Option<Prepared>,
        rules: &[RuleFile],
        templates: Option<Templates>,
    ) {
        if let Some(n) = &self.notifier
            && let Err(e) = n.apply(config)
        {
            tracing::error!(error = format!("{e:#}"), "alertmanagers not applied");
        }
        if let Some(manager) = &self.rules {
            manager.update(rule_settings(config, &self.bound), rules);
        }
        if let (Some((set, _)), Some(p)) = (&self.plugins, prepared) {
            set.commit(p);
        }
        // After the plugins: the receivers' notifier plugins are loaded.
        if let Some((service, deliverer, sink)) = &self.alerting {
            sink.set_relabel(config.alerting.alert_relabel_configs.clone());
            if let Some(templates) = templates {
                deliverer.set_context(RenderContext {
                    templates: Arc::new(templates),
                    external_url: external_url(config, &self.bound),
                });
            }
            if let Err(e) = service.apply_config(&config.alerting.routing) {
                tracing::error!(error = %e, "alerting configuration not applied");
            }
        }
        for e in self.scrape.apply(&config.scrape) {
            tracing::error!(error = %e, "scrape job not started");
        }
        if let Some((_, exporters)) = &self.plugins {
            exporters.apply(&config.exporters);
        }
        self.apply_remote_write(config);
    }

    /// The plugin platform's check of `config` (on a blocking thread of
    /// the runtime, as reloads run).
    fn prepare_plugins(&self, config: &Config) -> anyhow::Result<Option<Prepared>> {
        let Some((set, _)) = &self.plugins else {
            return Ok(None);
        };
        let prepared =
            tokio::runtime::Handle::current().block_on(async { set.prepare(config).await })?;
        Ok(Some(prepared))
    }

    /// Starts the remote-write queues (at start, inside the runtime) or
    /// re-syncs them (on reload, from a blocking thread): unchanged queues
    /// keep running.
    fn apply_remote_write(&self, config: &Config) {
        let Some(opts) = &self.remote_write_opts else {
            return;
        };
        let labels = &config.global.external_labels;
        // Reloads are serialized, so nothing else holds the lock here.
        let started = match self.remote_write.try_lock() {
            Ok(mut rw) if rw.is_none() => Some(
                RemoteWrite::start(opts.clone(), &config.remote_write, labels).map(|r| {
                    *rw = Some(r);
                }),
            ),
            _ => None,
        };
        let result = match started {
            Some(r) => r,
            None => tokio::runtime::Handle::current().block_on(async {
                match self.remote_write.lock().await.as_mut() {
                    Some(rw) => rw.apply_config(&config.remote_write, labels).await,
                    None => Ok(()),
                }
            }),
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "remote_write not applied");
        }
    }

    /// Reloads the config. On error nothing changed.
    pub fn reload(&self) -> anyhow::Result<()> {
        let _one_at_a_time = self.reloading.lock();
        let mut web = None;
        let result = self.source.load(Some(&self.bound)).and_then(|c| {
            web = self
                .listener
                .as_ref()
                .map(|l| l.prepare(&c.server.web))
                .transpose()?;
            let rules = match &self.rules {
                Some(_) => self.source.load_rules(&c)?,
                None => Vec::new(),
            };
            let templates = match &self.alerting {
                Some(_) => Some(self.source.load_templates(&c)?),
                None => None,
            };
            let prepared = self.prepare_plugins(&c)?;
            Ok((c, prepared, rules, templates))
        });
        let (new, prepared, rules, templates) = match result.context("invalid configuration") {
            Ok(c) => c,
            Err(e) => {
                self.metrics.reloaded(false);
                tracing::error!(
                    error = format!("{e:#}"),
                    "reload refused, keeping the running configuration"
                );
                return Err(e);
            }
        };
        let old = self.current();
        if new.server.listen != old.server.listen || new.storage.path != old.storage.path {
            tracing::warn!("[server] listen and [storage] changes take effect after a restart");
        }
        if let (Some(l), Some(w)) = (&self.listener, web) {
            l.commit(w);
        }
        self.apply(&new, prepared, &rules, templates);
        *self.current.lock() = Arc::new(new);
        self.metrics.reloaded(true);
        tracing::info!(file = ?self.source.file, "configuration reloaded");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_scrapes_the_bound_address() {
        let src = ConfigSource {
            listen: Some("127.0.0.1:0".into()),
            data: Some("/tmp/x".into()),
            ..ConfigSource::default()
        };
        let c = src
            .load(Some("127.0.0.1:4321"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.server.listen, "127.0.0.1:0");
        assert_eq!(c.storage.path, PathBuf::from("/tmp/x"));
        let job = c.scrape.iter().find(|j| j.job == SELF_JOB);
        assert_eq!(
            job.map(|j| j.targets.clone()),
            Some(vec!["127.0.0.1:4321".to_owned()])
        );
    }

    #[test]
    fn a_bad_file_names_file_line_and_key() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("p.toml");
        std::fs::write(&path, "[global]\nscrape_interval = \"1x\"\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let src = ConfigSource {
            file: Some(path.clone()),
            ..ConfigSource::default()
        };
        let err = format!(
            "{:#}",
            src.load(None).err().unwrap_or_else(|| panic!("loaded"))
        );
        assert!(err.starts_with(&format!("{}:2:", path.display())), "{err}");
        assert!(err.contains("global.scrape_interval"), "{err}");
    }
}
