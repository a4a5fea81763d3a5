//! Pieces of the remote-write ingestion benchmark (`pharos-ingest-bench`):
//! the deterministic workload ([`workload`]), the systems under test started
//! as child processes ([`server`]) and what is measured about them from
//! `/proc` and the file system ([`procfs`]); and the avalanche-like target
//! farm of the scrape benchmark ([`targets`]). The load benchmark
//! (`pharos-load-bench`) adds an endless remote-write stream ([`stream`]),
//! a watcher of the server's memory, readiness and identity ([`watch`]),
//! heavy queries asked by many clients ([`heavy`]) and Prometheus' error
//! texts to hold the answers against ([`promtext`]); [`loadreport`] is
//! its report, laid out by [`table`].

pub mod heavy;
pub mod loadreport;
pub mod procfs;
pub mod promtext;
pub mod rules;
pub mod send;
pub mod server;
pub mod stream;
pub mod table;
pub mod targets;
pub mod watch;
pub mod workload;
