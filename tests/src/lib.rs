//! Helpers shared by the end-to-end tests, and the benchmark harness.
pub mod api;
pub mod bench;
pub mod pharos;
pub mod plugins;
pub mod process;
pub mod recorder;
pub mod references;
pub mod remote_write;
pub mod rng;
pub mod target;
pub mod wait;
