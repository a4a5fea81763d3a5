//! `pharos-plugins`: Pharos' plugin platform, between the sandbox
//! (`pharos-plugin-host`) and the server.
//!
//! - [`PluginStore`]: the installed plugins in `<data>/plugins/`, each a
//!   component file and a [`Manifest`] (name, version, kind, sha256,
//!   source, requested capabilities, install time). `pharos plugin
//!   install|list|remove` use it.
//! - [`PluginSet`]: the plugins a running server uses — the first-party
//!   ones built into the binary plus the installed ones — each loaded with
//!   its `[plugins.<name>]` grants and limits ([`settings`]), compiled
//!   artifacts cached in `<data>/plugins/cache`. [`PluginSet::prepare`]
//!   checks a config against them (unknown plugins, wrong kinds, configs
//!   the plugin's `validate-config` refuses, grants that do not parse) and
//!   [`PluginSet::commit`] makes it current, so a reload picks up a newly
//!   installed version without a restart. The set is the scrape manager's
//!   [`pharos_scrape::DiscoveryRegistry`].
//! - [`ExporterManager`]: `[[exporter]]` jobs, each calling its plugin's
//!   `collect` every `interval` and appending the result like a scrape:
//!   one atomic batch, `job`/`instance` labels, the five report series and
//!   staleness markers.
//! - [`PluginStatus`]: what `/api/v1/plugins` shows.
//!
//! Plugin names are unique across built-in and installed plugins: an
//! install whose `describe()` name is a built-in plugin's is refused, and
//! installing a name that is already installed replaces it (upgrade or
//! rollback; the running server switches on its next reload).

mod capabilities;
mod discovery;
mod error;
mod exporter;
mod fetch;
#[doc(hidden)]
pub mod fuzz;
mod manifest;
mod set;
pub mod settings;
mod status;
mod store;

pub use capabilities::requested_capabilities;
pub use error::{CheckError, StoreError};
pub use exporter::ExporterManager;
pub use manifest::Manifest;
pub use set::{PluginEntry, PluginSet, PluginSource, Prepared};
pub use status::{Health, PluginStatus, SourceKind, UseStatus};
pub use store::{Installed, PluginStore};
