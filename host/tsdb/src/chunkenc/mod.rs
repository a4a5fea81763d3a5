//! Chunk encodings: how a run of one series' samples is compressed in memory
//! and on disk.
//!
//! There is one encoding, the XOR chunk, after Facebook's Gorilla paper
//! (Pelkonen et al., "Gorilla: A Fast, Scalable, In-Memory Time Series
//! Database", VLDB 2015) as Prometheus uses it (`tsdb/chunkenc/xor.go`):
//! timestamps are stored as delta-of-deltas in variable-width buckets, values
//! as the XOR with the previous value, of which only the bits between the
//! leading and trailing zeros are kept. One addition: an integer value may
//! instead be stored as the integer difference to the previous value, which is
//! shorter for counters. Regular scrape data takes about one to two bytes per
//! sample. The byte and bit layout is documented in
//! `host/tsdb/docs/format/chunks.md`; which encoding a chunk uses is recorded
//! by its container (see [`crate::SampleBlock`]), not in the chunk.
//!
//! ```
//! use pharos_tsdb::chunkenc::{XorAppender, XorIter, chunk_info};
//!
//! let mut app = XorAppender::new();
//! for i in 0..120 {
//!     app.append(1_700_000_000_000 + i * 15_000, (i * 3) as f64);
//! }
//! assert_eq!(chunk_info(app.bytes()), Ok((120, 1_700_000_000_000, 1_700_001_785_000)));
//! let mut it = XorIter::new(app.bytes());
//! assert_eq!(it.by_ref().map(|s| s.v).sum::<f64>(), 21_420.0);
//! assert_eq!(it.error(), None);
//! ```

mod bstream;
mod xor;

#[cfg(test)]
mod tests;

pub use xor::{HEADER_LEN, MAX_SAMPLES, XorAppender, XorIter};

/// Why a chunk could not be decoded.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ChunkError {
    /// Fewer bytes than the header.
    #[error("chunk of {len} bytes is shorter than its {HEADER_LEN}-byte header")]
    BadHeader { len: usize },
    /// The data ended inside sample `sample` of the `samples` the header
    /// announces.
    #[error("chunk truncated in sample {sample} of {samples}")]
    Truncated { sample: usize, samples: usize },
    /// The bits of sample `sample` are not a valid encoding.
    #[error("corrupt chunk at sample {sample}: {what}")]
    Corrupt { sample: usize, what: &'static str },
    /// Whole bytes follow the last sample the header announces.
    #[error("{extra} bytes of trailing data after the last sample")]
    TrailingData { extra: usize },
    /// The chunk holds no samples, so it has no time range.
    #[error("chunk is empty")]
    Empty,
}

/// A chunk's summary: `(num_samples, min_time, max_time)`.
///
/// The chunk is decoded to find the last timestamp and to check it
/// (there is no cheaper way to reach the end of the bit stream), so this
/// fails on exactly the chunks [`XorIter`] reports an error for, and with
/// [`ChunkError::Empty`] for a chunk without samples.
pub fn chunk_info(bytes: &[u8]) -> Result<(usize, i64, i64), ChunkError> {
    let mut it = XorIter::new(bytes);
    let first = it.next();
    let mut last = first;
    let mut n = usize::from(first.is_some());
    for s in it.by_ref() {
        last = Some(s);
        n += 1;
    }
    if let Some(e) = it.error() {
        return Err(e.clone());
    }
    match (first, last) {
        (Some(f), Some(l)) => Ok((n, f.t, l.t)),
        _ => Err(ChunkError::Empty),
    }
}
