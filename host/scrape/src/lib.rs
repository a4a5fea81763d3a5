//! Pharos' scraper, the twin of Prometheus' `scrape/` package (2.42
//! behaviour, with Prometheus 3's target addresses).
//!
//! - [`target`]: from discovered labels to a [`Target`] (`__address__`,
//!   `__scheme__`, `__metrics_path__`, `__param_*`, `__scrape_interval__`,
//!   `__scrape_timeout__`, `__meta_*`, `job`, `instance`).
//! - [`discovery`]: target groups and the provider seam
//!   ([`Discoverer`], [`DiscoveryRegistry`]); static targets are one
//!   provider.
//! - [`ScrapeManager`]: one scrape pool per job, applied from the config and
//!   re-applied on reload keeping the loops of unchanged targets.
//! - A scrape loop per target fetches with the job's HTTP client (TLS,
//!   auth, proxy, gzip, `body_size_limit`), parses with
//!   `pharos-textparse`, maps samples through a scrape cache keyed by the
//!   series text, applies `honor_labels`, `honor_timestamps`,
//!   `metric_relabel_configs` and the limits, and appends each scrape as one
//!   atomic batch with its report series (`up`, `scrape_duration_seconds`,
//!   `scrape_samples_scraped`, `scrape_samples_post_metric_relabeling`,
//!   `scrape_series_added`) and staleness markers.
//! - [`TargetStatus`] and [`MetricMetadata`] are what the targets and
//!   metadata APIs show.
//!
//! ```no_run
//! # async fn f(storage: std::sync::Arc<dyn pharos_tsdb::Appendable>) {
//! use pharos_scrape::{ManagerOptions, ScrapeManager};
//! let config = pharos_config::Config::embedded_default().unwrap();
//! let manager = ScrapeManager::new(storage, ManagerOptions::default());
//! manager.apply(&config.scrape);
//! // … later, on shutdown:
//! manager.stop(std::time::Duration::from_secs(5)).await;
//! # }
//! ```

mod cache;
mod client;
pub mod discovery;
mod error;
mod manager;
mod pool;
mod process;
mod scrape_loop;
mod status;
pub mod target;

pub use cache::MetricMetadata;
pub use discovery::{Discoverer, DiscoveryError, DiscoveryRegistry, NoDiscovery, TargetGroup};
pub use error::{ClientError, ScrapeError, TargetError};
pub use manager::{ManagerOptions, ScrapeManager};
pub use pharos_textparse::MetricType;
pub use pool::{ActiveTarget, DroppedTarget};
pub use process::Counts;
pub use scrape_loop::{NoObserver, REPORT_SERIES, ScrapeObserver};
pub use status::{Health, TargetStatus};
pub use target::Target;
