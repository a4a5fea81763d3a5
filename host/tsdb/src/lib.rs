//! Pharos' time-series storage.
//!
//! Appends go to the write-ahead log ([`wal`]) first, then into the in-memory
//! head. Full chunks, compressed Gorilla-style ([`chunkenc`]), are persisted in
//! sled together with the series index; the WAL is truncated behind a
//! checkpoint once sled has flushed what it covers. The on-disk formats are
//! documented in `docs/format/`.

mod append;
pub mod chunkenc;
mod error;
mod mem;
mod querier;
pub mod wal;

pub use append::{AppendStats, Appendable, SeriesAppend, Storage, TsdbStatus};
pub use error::{AppendError, Error};
pub use mem::MemStorage;
pub use querier::{Queryable, SampleBlock, Series};
