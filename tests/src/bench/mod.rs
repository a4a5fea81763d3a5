//! Pieces of the remote-write ingestion benchmark (`pharos-ingest-bench`):
//! the deterministic workload ([`workload`]), the systems under test started
//! as child processes ([`server`]) and what is measured about them from
//! `/proc` and the file system ([`procfs`]); and the avalanche-like target
//! farm of the scrape benchmark ([`targets`]).

pub mod procfs;
pub mod rules;
pub mod send;
pub mod server;
pub mod targets;
pub mod workload;
