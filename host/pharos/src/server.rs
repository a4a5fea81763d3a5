//! Server lifecycle: load the config, its rule files and the plugins it
//! uses, open storage, bind, start scraping (discovery through plugins),
//! the exporter jobs and rule evaluation, serve until SIGINT/SIGTERM (reloading on SIGHUP), then
//! stop the scrape loops and exporter jobs, drain connections and close
//! the storage so everything is flushed.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use pharos_alerting::service::{AlertingService, Options as AlertingOptions};
use pharos_config::Config;
use pharos_plugins::{ExporterManager, PluginSet};
use pharos_promql::{Engine, EngineOptions};
use pharos_remote_write::Options as RemoteWriteOptions;
use pharos_rules::RuleManager;
use pharos_rules::rulefmt::RuleFile;
use pharos_scrape::{ManagerOptions, ScrapeManager};
use pharos_tsdb::{Db, DbOptions};
use tokio::net::TcpListener;
use tracing::info;

use crate::alerting::{
    DELIVERY_TIMEOUT, PluginDeliverer, RelabelingSink, RenderContext, send_resolved_default,
};
use crate::api::{AppState, router};
use crate::build_info;
use crate::cli::RunArgs;
use crate::listener::Listener;
use crate::notifier::Notifier;
use crate::reload::{ConfigSource, Reloader, external_url};
use crate::self_metrics::SelfMetrics;

/// How long shutdown waits for scrape loops to finish their scrape.
const SCRAPE_STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// `pharos run`.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let source = ConfigSource {
        file: args.config,
        listen: args.listen,
        data: args.data,
        enable_lifecycle: args.enable_lifecycle,
    };
    let server = Server::start_with(source).await?;
    server.serve(shutdown_signal()).await
}

/// A bound server with its storage open and its plugins loaded.
pub struct Server {
    listener: TcpListener,
    db: Arc<Db>,
    addr: SocketAddr,
    source: ConfigSource,
    config: Config,
    plugins: PluginSet,
    /// The rule files of `config`, loaded and checked.
    rule_files: Vec<RuleFile>,
    /// TLS, basic auth and limits of `[server]`.
    web: Arc<Listener>,
    /// Pharos' own Alertmanager (its store open, not yet running).
    alerting: AlertingService,
    deliverer: Arc<PluginDeliverer>,
}

/// The storage settings of `[storage]`.
fn db_options(config: &Config) -> DbOptions {
    let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    DbOptions {
        retention: config.storage.retention.map(ms),
        retention_size: config.storage.retention_size.map(|s| s.bytes()),
        out_of_order_window: ms(config.storage.out_of_order_time_window),
        ..DbOptions::default()
    }
}

/// The PromQL engine's limits of `[query]`; the default subquery step is
/// the global evaluation interval, as Prometheus.
fn engine_options(config: &Config) -> EngineOptions {
    let q = &config.query;
    EngineOptions {
        lookback_delta: q.lookback_delta,
        max_samples: usize::try_from(q.max_samples).unwrap_or(usize::MAX),
        timeout: q.timeout,
        max_concurrency: usize::try_from(q.max_concurrency).unwrap_or(usize::MAX),
        default_subquery_step: config.global.evaluation_interval,
    }
}

impl Server {
    /// Runs on the embedded default config, listening on `listen` (port 0
    /// picks a free one) with data in `data_dir`.
    pub async fn start(listen: &str, data_dir: &Path) -> anyhow::Result<Self> {
        Self::start_with(ConfigSource {
            file: None,
            listen: Some(listen.to_owned()),
            data: Some(data_dir.to_path_buf()),
            ..ConfigSource::default()
        })
        .await
    }

    /// Loads the config from `source`, opens the storage and binds.
    pub async fn start_with(source: ConfigSource) -> anyhow::Result<Self> {
        let config = source.load(None)?;
        // Bind first: a taken port fails fast, before a long WAL replay.
        let listen = config.server.listen.clone();
        let listener = TcpListener::bind(&listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        // Now that the address is known, the default's self-scrape can
        // point at it.
        let config = source.load(Some(&addr.to_string()))?;
        let data_dir = config.storage.path.clone();
        // Rule files and plugins before storage: a config they refuse
        // fails fast.
        let rule_files = source
            .load_rules(&config)
            .context("invalid configuration")?;
        // Certificates too: a key that does not load fails the start.
        let web = Listener::new(&config.server.web, &source.base_dir())
            .context("invalid configuration")?;
        let plugins = PluginSet::new(&data_dir)?;
        let prepared = plugins
            .prepare(&config)
            .await
            .context("invalid configuration")?;
        plugins.commit(prepared);
        let templates = source
            .load_templates(&config)
            .context("invalid configuration")?;
        let deliverer = Arc::new(PluginDeliverer::new(
            plugins.clone(),
            RenderContext {
                templates: Arc::new(templates),
                external_url: external_url(&config, &addr.to_string()),
            },
        ));
        let defaults = plugins.clone();
        let alerting = AlertingService::open(
            &config.alerting.routing,
            AlertingOptions {
                dir: data_dir.join("alerting"),
                deliver: deliverer.clone(),
                send_resolved_default: Arc::new(move |p| send_resolved_default(&defaults, p)),
                delivery_timeout: DELIVERY_TIMEOUT,
            },
        )
        .with_context(|| {
            format!(
                "cannot open the alerting state in {}",
                data_dir.join("alerting").display()
            )
        })?;
        let db = Db::open(&data_dir, db_options(&config))
            .with_context(|| format!("cannot open storage in {}", data_dir.display()))?;
        info!(
            version = build_info::VERSION,
            revision = build_info::REVISION,
            listen = %addr,
            scheme = web.scheme(),
            data_dir = %data_dir.display(),
            config = %source.file.as_ref().map_or("<embedded default>".into(), |f| f.display().to_string()),
            "pharos started"
        );
        Ok(Server {
            listener,
            db: Arc::new(db),
            addr,
            source,
            config,
            plugins,
            rule_files,
            web,
            alerting,
            deliverer,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The values `/api/v1/status/flags` shows.
    fn flags(&self) -> BTreeMap<String, String> {
        let mut f = BTreeMap::new();
        let file = self.source.file.as_ref();
        f.insert(
            "config".to_owned(),
            file.map(|p| p.display().to_string()).unwrap_or_default(),
        );
        f.insert("listen".to_owned(), self.config.server.listen.clone());
        f.insert(
            "data".to_owned(),
            self.config.storage.path.display().to_string(),
        );
        f
    }

    /// Scrapes and serves until `shutdown` completes, then stops the scrape
    /// loops, lets in-flight requests finish and closes the storage.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        // Weak: nothing but the server keeps the storage open.
        let db = Arc::downgrade(&self.db);
        let metrics = Arc::new(SelfMetrics::new(Arc::new(move || {
            db.upgrade().map(|db| db.metrics())
        })));
        let scrape = Arc::new(ScrapeManager::new(
            self.db.clone(),
            ManagerOptions {
                user_agent: format!("Pharos/{}", build_info::VERSION),
                observer: metrics.clone(),
                discovery: Arc::new(self.plugins.clone()),
            },
        ));
        metrics.set_scrape_manager(&scrape);
        metrics.set_plugins(&self.plugins);
        let exporters = Arc::new(ExporterManager::new(self.db.clone(), self.plugins.clone()));
        let engine = Engine::new(engine_options(&self.config));
        let rules = Arc::new(RuleManager::new(engine.clone(), self.db.clone()));
        metrics.set_rules(&rules);
        let notifier = Notifier::new(format!("Pharos/{}", build_info::VERSION));
        rules.add_sink(notifier.clone());
        let routed = Arc::new(RelabelingSink::new(self.alerting.sink()));
        rules.add_sink(routed.clone());
        metrics.set_alerting(&self.alerting);
        self.alerting.start();
        metrics.set_notifier(&notifier);
        let (notifier_stop, notifier_stopped) = tokio::sync::oneshot::channel::<()>();
        let notifier_task = tokio::spawn(notifier.clone().run(async move {
            let _ = notifier_stopped.await;
        }));
        let flags = self.flags();
        let mut rw_opts = RemoteWriteOptions::new(
            self.config.storage.path.join("wal"),
            self.config.storage.path.join("remote_write"),
        );
        rw_opts.series = Some(self.db.clone());
        rw_opts.user_agent = format!("Pharos/{}", build_info::VERSION);
        let reloader = Arc::new(
            Reloader::new(
                self.source.clone(),
                self.addr.to_string(),
                self.config,
                scrape.clone(),
                metrics.clone(),
            )
            .with_remote_write(rw_opts)
            .with_plugins(self.plugins.clone(), exporters.clone())
            .with_rules(rules.clone())
            .with_notifier(notifier.clone())
            .with_listener(self.web.clone())
            .with_alerting(self.alerting.clone(), self.deliverer.clone(), routed),
        );
        let weak = Arc::downgrade(&reloader);
        metrics.set_remote_write_stats(Arc::new(move || {
            weak.upgrade()
                .map(|r| r.remote_write_stats())
                .unwrap_or_default()
        }));
        reloader.start(&self.rule_files);
        let sighup = tokio::spawn(reload_on_sighup(reloader.clone()));
        let state = AppState::new(self.db.clone())
            .with_scrape(scrape.clone())
            .with_reloader(reloader.clone())
            .with_self_metrics(metrics)
            .with_plugins(self.plugins.clone())
            .with_rules(rules.clone())
            .with_alerting(self.alerting.clone())
            .with_engine(engine)
            .with_flags(flags)
            .with_remote_write_receiver(self.web.receiver());
        let served =
            crate::listener::serve(self.listener, self.web.clone(), router(state), shutdown).await;
        sighup.abort();
        let _ = sighup.await;
        info!("shutting down: stopping scrapes");
        scrape.stop(SCRAPE_STOP_TIMEOUT).await;
        drop(scrape);
        info!("stopping rule evaluation");
        rules.stop().await;
        let _ = notifier_stop.send(());
        let _ = notifier_task.await;
        info!("stopping alert routing");
        self.alerting.stop().await;
        info!("stopping exporter jobs");
        exporters.stop(SCRAPE_STOP_TIMEOUT).await;
        drop(exporters);
        info!("stopping remote write");
        reloader.stop_remote_write().await;
        info!("closing storage");
        let closed = self.db.close();
        served.context("HTTP server failed")?;
        closed.context("closing storage failed")?;
        info!("storage closed, bye");
        Ok(())
    }
}

/// Reloads the config on every SIGHUP.
async fn reload_on_sighup(reloader: Arc<Reloader>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hup = match signal(SignalKind::hangup()) {
            Ok(s) => s,
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGHUP");
                return;
            }
        };
        while hup.recv().await.is_some() {
            info!(signal = "SIGHUP", "reloading configuration");
            let r = reloader.clone();
            // Errors are logged by the reloader.
            let _ = tokio::task::spawn_blocking(move || r.reload()).await;
        }
    }
    #[cfg(not(unix))]
    {
        let _ = reloader;
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => info!(signal = "SIGINT", "shutdown requested"),
        () = term => info!(signal = "SIGTERM", "shutdown requested"),
    }
}
