//! Pharos' time-series storage.
//!
//! Appends go to the write-ahead log ([`wal`]) first, then into the in-memory
//! head. Full chunks, compressed Gorilla-style ([`chunkenc`]), are persisted in
//! sled together with the series index; the WAL is truncated behind a
//! checkpoint once sled has flushed what it covers. The on-disk formats are
//! documented in `docs/format/`.

pub mod chunkenc;
pub mod wal;
