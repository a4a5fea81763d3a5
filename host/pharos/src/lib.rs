//! The `pharos` binary as a library: the command line ([`cli`]), the server
//! lifecycle ([`server`]), config reload ([`reload`]), its own metrics
//! ([`self_metrics`], [`plugin_metrics`]), the plugin and storage commands
//! ([`plugin_cli`], [`storage_cli`]) and the Prometheus-compatible HTTP
//! API ([`api`]), so tests and other crates can mount [`router`] on any
//! [`pharos_tsdb::Storage`].

pub mod alert_cli;
pub mod alerting;
pub mod api;
pub mod build_info;
pub mod cli;
pub mod listener;
pub mod notifier;
pub mod plugin_cli;
pub mod plugin_metrics;
pub mod query_cli;
pub mod reload;
pub mod remote_write_metrics;
pub mod rule_metrics;
pub mod self_metrics;
pub mod server;
pub mod storage_cli;
pub mod template_cli;

pub use api::{AppState, router};
