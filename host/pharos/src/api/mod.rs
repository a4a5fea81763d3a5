//! The Prometheus-compatible HTTP API (`/api/v1/...`) and the health
//! endpoints. Answers are shaped exactly as Prometheus' `web/api/v1/api.go`
//! shapes them, so Grafana and promtool work unchanged.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use pharos_promql::{Engine, EngineOptions};
use pharos_scrape::ScrapeManager;
use pharos_tsdb::Storage;

use crate::reload::Reloader;
use crate::self_metrics::SelfMetrics;

mod alertmanager;
mod config;
mod dashboards;
mod error;
mod federate;
#[doc(hidden)]
pub mod fuzz;
mod labels;
mod metadata;
mod params;
mod parse_query;
mod plugins;
mod query;
mod query_json;
mod ready;
mod response;
mod rules;
mod series;
mod status;
pub(crate) mod targets;
mod write;

pub use error::{ApiError, ErrorType};
pub use response::ApiResponse;
pub(crate) use targets::rfc3339;
pub use write::Receiver as RemoteWriteReceiver;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub storage: Arc<dyn Storage>,
    pub engine: Engine,
    /// The scrape manager, for the targets and metadata endpoints.
    pub scrape: Option<Arc<ScrapeManager>>,
    /// The running config and its reload.
    pub reloader: Option<Arc<Reloader>>,
    /// What `/metrics` serves.
    pub self_metrics: Option<Arc<SelfMetrics>>,
    /// What `/api/v1/status/flags` shows.
    pub flags: Arc<BTreeMap<String, String>>,
    /// The plugins, for `/api/v1/plugins`.
    pub plugins: Option<pharos_plugins::PluginSet>,
    /// The rule groups, for `/api/v1/rules` and `/api/v1/alerts`.
    pub rules: Option<Arc<pharos_rules::RuleManager>>,
    /// The remote-write receiver's switch and limit (`[server]`).
    pub remote_write_receiver: Arc<RemoteWriteReceiver>,
    /// Pharos' own Alertmanager, for `/api/v2/*`.
    pub alerting: Option<pharos_alerting::service::AlertingService>,
}

impl AppState {
    pub fn new(storage: Arc<dyn Storage>) -> Self {
        AppState {
            storage,
            engine: Engine::new(EngineOptions::default()),
            scrape: None,
            reloader: None,
            self_metrics: None,
            flags: Arc::default(),
            plugins: None,
            rules: None,
            remote_write_receiver: Arc::default(),
            alerting: None,
        }
    }

    /// Queries run on `engine` (its limits from `[query]`).
    pub fn with_engine(mut self, engine: Engine) -> Self {
        self.engine = engine;
        self
    }

    pub fn with_rules(mut self, rules: Arc<pharos_rules::RuleManager>) -> Self {
        self.rules = Some(rules);
        self
    }

    pub fn with_alerting(mut self, alerting: pharos_alerting::service::AlertingService) -> Self {
        self.alerting = Some(alerting);
        self
    }

    /// The receiver's settings follow `receiver` (the listener updates
    /// it on reload).
    pub fn with_remote_write_receiver(mut self, receiver: Arc<RemoteWriteReceiver>) -> Self {
        self.remote_write_receiver = receiver;
        self
    }

    pub fn with_scrape(mut self, scrape: Arc<ScrapeManager>) -> Self {
        self.scrape = Some(scrape);
        self
    }

    pub fn with_reloader(mut self, reloader: Arc<Reloader>) -> Self {
        self.reloader = Some(reloader);
        self
    }

    pub fn with_self_metrics(mut self, metrics: Arc<SelfMetrics>) -> Self {
        self.self_metrics = Some(metrics);
        self
    }

    pub fn with_plugins(mut self, plugins: pharos_plugins::PluginSet) -> Self {
        self.plugins = Some(plugins);
        self
    }

    pub fn with_flags(mut self, flags: BTreeMap<String, String>) -> Self {
        self.flags = Arc::new(flags);
        self
    }

    /// Runs a storage call on the blocking pool: storage may do disk I/O.
    pub(crate) async fn storage<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Storage) -> Result<T, pharos_tsdb::Error> + Send + 'static,
    {
        let storage = self.storage.clone();
        tokio::task::spawn_blocking(move || f(storage.as_ref()))
            .await
            .map_err(|e| ApiError::internal(format!("storage task failed: {e}")))?
            .map_err(ApiError::from)
    }
}

/// All routes. Unknown paths answer 404 `404 page not found`, as Go's mux.
/// Every response, the API's too, carries the web interface's security
/// headers ([`pharos_web::headers`]): `X-Content-Type-Options: nosniff`,
/// `X-Frame-Options: DENY` and a Content-Security-Policy with
/// `frame-ancestors 'none'`, so no answer is sniffed into markup or framed.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/write", post(write::write))
        .route("/api/v1/query", get(query::query).post(query::query))
        .route(
            "/api/v1/query_range",
            get(query::query_range).post(query::query_range),
        )
        .route(
            "/api/v1/format_query",
            get(query::format).post(query::format),
        )
        .route(
            "/api/v1/parse_query",
            get(parse_query::parse_query).post(parse_query::parse_query),
        )
        .route("/api/v1/series", get(series::series).post(series::series))
        .route(
            "/api/v1/labels",
            get(labels::label_names).post(labels::label_names),
        )
        .route("/api/v1/label/{name}/values", get(labels::label_values))
        .route("/api/v1/status/tsdb", get(status::tsdb))
        .route("/api/v1/status/buildinfo", get(status::build_info))
        .route(
            "/api/v1/query_exemplars",
            get(status::query_exemplars).post(status::query_exemplars),
        )
        .route("/api/v1/targets", get(targets::targets))
        .route("/api/v1/targets/metadata", get(metadata::target_metadata))
        .route("/api/v1/metadata", get(metadata::metadata))
        .route("/api/v1/plugins", get(plugins::plugins))
        .route("/api/v1/rules", get(rules::rules))
        .route("/api/v1/alerts", get(rules::alerts))
        .route("/api/v1/dashboards", get(dashboards::list))
        .route("/api/v1/dashboards/{name}", get(dashboards::get))
        .route("/api/v1/status/config", get(config::config))
        .route("/api/v1/status/flags", get(config::flags))
        .route("/-/reload", post(config::reload).put(config::reload))
        .route("/federate", get(federate::federate))
        .route("/metrics", get(crate::self_metrics::metrics))
        .route("/-/healthy", get(status::healthy))
        .route("/-/ready", get(ready::ready))
        .nest("/api/v2", alertmanager::router())
        // The web interface: its pages, /graph and /assets/.
        .merge(pharos_web::router())
        .fallback(not_found)
        .layer(axum::middleware::map_response(pharos_web::headers::secure))
        .with_state(state)
}

async fn not_found() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "404 page not found\n",
    )
}

#[cfg(test)]
mod test_util;
