//! The `pharos` binary as a library: the command line ([`cli`]), the server
//! lifecycle ([`server`]), the storage it runs on ([`storage`]) and the
//! Prometheus-compatible HTTP API ([`api`]), so tests and other crates can
//! mount [`router`] on any [`pharos_tsdb::Storage`].

pub mod api;
pub mod build_info;
pub mod cli;
pub mod query_cli;
pub mod server;
pub mod storage;

pub use api::{AppState, router};
