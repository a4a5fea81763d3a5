//! Pharos' time-series storage.
//!
//! Appends go to the write-ahead log ([`wal`]) first, then into the in-memory
//! head. Full chunks, compressed Gorilla-style ([`chunkenc`]), are persisted in
//! sled together with the series index; the WAL is truncated behind a
//! checkpoint once sled has flushed what it covers. The on-disk formats are
//! documented in `docs/format/`.
//!
//! [`Db`] is the storage; [`MemStorage`] is a plain in-memory model of it for
//! tests. Both implement [`Storage`]: [`Appendable`] for writes and
//! [`Queryable`], the small trait the PromQL engine reads through.

mod append;
pub mod check;
pub mod chunkenc;
mod db;
mod error;
#[doc(hidden)]
pub mod fuzz;
mod head;
mod mem;
mod metrics;
mod options;
mod querier;
mod record;
mod store;
pub mod wal;

pub use append::{
    AppendStats, Appendable, DiskUsage, SeriesAppend, SeriesRef, Storage, TsdbStatus,
};
pub use db::Db;
pub use error::{AppendError, Error};
pub use mem::MemStorage;
pub use metrics::DbMetrics;
pub use options::DbOptions;
pub use querier::{Queryable, SampleBlock, Series};
