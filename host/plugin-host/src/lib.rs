//! `pharos-plugin-host`: runs Pharos' WebAssembly plugins.
//!
//! Plugins are components implementing one world of the WIT package
//! `pharos:plugin@0.1.0` (`wit/` at the repository root): `discovery`,
//! `exporter` or `notifier`. A [`Runtime`] compiles each component once
//! (caching the machine code, see [`CacheOutcome`]) and pre-instantiates
//! it; every call then runs in a fresh instance with the plugin's
//! [`Limits`] (memory, CPU budget, wall-clock timeout) and [`Grants`]
//! (outbound HTTP origins, private networks). A plugin that traps, loops,
//! exhausts its memory or stack, or is refused a request fails that call
//! only, with a [`CallError`] saying which; the host logs it, counts it in
//! the plugin's [`MetricsSnapshot`] and keeps running.
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! use pharos_plugin_host::{PluginKind, PluginSettings, Runtime, RuntimeOptions};
//!
//! let runtime = Runtime::new(RuntimeOptions::default())?;
//! let mut settings = PluginSettings::default();
//! settings.grants.allow_http = vec!["https://sd.example.org".into()];
//! let http_sd = runtime.load_embedded("http", PluginKind::Discovery, &settings).await?;
//! let groups = http_sd.discover(r#"{"url": "https://sd.example.org/targets"}"#).await?;
//! # Ok(()) }
//! ```
//!
//! The built-in plugins (`plugins/` at the repository root) are built by
//! this crate's `build.rs` and embedded: see [`components`].

mod bindings;
mod cache;
mod capabilities;
pub mod components;
mod dns;
mod error;
mod grants;
mod limits;
mod metrics;
mod outbound;
mod plugin;
mod runtime;
mod state;
pub mod template;
pub mod types;

pub use cache::CacheOutcome;
pub use error::{Budget, CallError, Denial, ErrorKind, LoadError};
pub use grants::{AddressClass, AllowList, GrantError, Grants, non_public_class};
pub use limits::{Limits, MAX_SERIES_PER_CALL, MAX_TARGETS_PER_CALL};
pub use metrics::{Backoff, MetricsSnapshot};
pub use plugin::{LoadInfo, Plugin};
pub use runtime::{PluginSettings, Runtime, RuntimeOptions};
pub use types::{
    Alert, AlertStatus, Label, Labels, Metric, MetricFamily, MetricType, Notification, PluginError,
    PluginInfo, PluginKind, TargetGroup,
};
