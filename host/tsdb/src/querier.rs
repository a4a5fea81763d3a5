//! What the PromQL engine and the HTTP API read through: a small trait over
//! series and samples, so the engine can be tested on [`crate::MemStorage`]
//! and the storage without PromQL.

use std::collections::BTreeSet;
use std::sync::Arc;

use pharos_model::{Labels, Matcher, Sample};

use crate::Error;
use crate::chunkenc::XorIter;

/// Reads series and labels. Times are inclusive milliseconds.
pub trait Queryable: Send + Sync {
    /// Series matching all `matchers` that have at least one sample in
    /// `[mint, maxt]`, sorted by labels, with their samples in that range.
    fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<Series>, Error>;

    /// Sorted label names of the series selected by `matchers` (all series
    /// when empty) with samples in `[mint, maxt]`.
    fn label_names(&self, matchers: &[Matcher], mint: i64, maxt: i64)
    -> Result<Vec<String>, Error>;

    /// Sorted values of label `name` over the series selected as above.
    fn label_values(
        &self,
        name: &str,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>, Error>;
}

/// Adds the label names of `labels` to `out` (cloning only new ones).
pub(crate) fn add_names(out: &mut BTreeSet<String>, labels: &Labels) {
    for l in labels {
        if !out.contains(&l.name) {
            out.insert(l.name.clone());
        }
    }
}

/// Adds the value of label `name` of `labels`, if it has one, to `out`.
pub(crate) fn add_value(out: &mut BTreeSet<String>, labels: &Labels, name: &str) {
    if let Some(v) = labels.get(name)
        && !out.contains(v)
    {
        out.insert(v.to_owned());
    }
}

/// Blocks of samples of one series: compressed chunks or plain samples.
#[derive(Debug, Clone)]
pub enum SampleBlock {
    /// A Gorilla-compressed chunk (see [`crate::chunkenc`]).
    Xor(Arc<[u8]>),
    /// Samples in time order.
    Plain(Arc<[Sample]>),
}

/// One selected series: its labels and its samples in the selected range.
#[derive(Debug, Clone)]
pub struct Series {
    pub labels: Labels,
    pub(crate) blocks: Vec<SampleBlock>,
    pub(crate) mint: i64,
    pub(crate) maxt: i64,
}

impl Series {
    /// A series from plain samples in time order (for tests and in-memory use).
    pub fn from_samples(labels: Labels, samples: Vec<Sample>) -> Self {
        Series {
            labels,
            blocks: vec![SampleBlock::Plain(samples.into())],
            mint: i64::MIN,
            maxt: i64::MAX,
        }
    }

    pub(crate) fn new(labels: Labels, blocks: Vec<SampleBlock>, mint: i64, maxt: i64) -> Self {
        Series {
            labels,
            blocks,
            mint,
            maxt,
        }
    }

    /// The samples in time order, restricted to the selected range. Blocks
    /// may overlap (out-of-order data, a chunk both in memory and on disk):
    /// samples are merged and a timestamp appears once.
    pub fn samples(&self) -> Vec<Sample> {
        let mut out: Vec<Sample> = Vec::new();
        let mut sorted = true;
        for b in &self.blocks {
            let before = out.len();
            match b {
                SampleBlock::Xor(bytes) => out.extend(XorIter::new(bytes)),
                SampleBlock::Plain(s) => out.extend_from_slice(s),
            }
            if before > 0 && out.len() > before && out[before].t <= out[before - 1].t {
                sorted = false;
            }
        }
        if !sorted {
            // Stable sort keeps the first block's sample for a timestamp.
            out.sort_by_key(|s| s.t);
            out.dedup_by_key(|s| s.t);
        }
        out.retain(|s| s.t >= self.mint && s.t <= self.maxt);
        out
    }
}
