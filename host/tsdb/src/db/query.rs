//! Reads: select series with their chunks from sled and the head.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::Ordering;

use pharos_model::{Labels, METRIC_NAME, Matcher};

use super::{Db, append};
use crate::append::top;
use crate::querier::{add_names, add_value};
use crate::{
    AppendStats, Appendable, DiskUsage, Error, Queryable, SampleBlock, Series, SeriesAppend,
    SeriesRef, Storage, TsdbStatus,
};

impl Db {
    /// Calls `f` with the labels of each selected series whose data
    /// overlaps `[mint, maxt]`.
    fn for_each_selected(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
        mut f: impl FnMut(&Labels),
    ) {
        for (_, s) in self.inner.head.select(matchers) {
            let s = s.lock();
            if s.mint <= maxt && s.maxt >= mint {
                f(&s.labels());
            }
        }
    }

    /// Whether `[mint, maxt]` covers everything stored, so answers can come
    /// from the index alone.
    fn covers_all(&self, mint: i64, maxt: i64) -> bool {
        mint <= self.inner.min_time.load(Ordering::Relaxed)
            && maxt >= self.inner.max_time.load(Ordering::Relaxed)
    }
}

impl Appendable for Db {
    fn append(&self, batch: &[SeriesAppend]) -> Result<AppendStats, Error> {
        append::append(&self.inner, batch, None)
    }

    fn append_with_refs(
        &self,
        batch: &[SeriesAppend],
        refs: &mut [SeriesRef],
    ) -> Result<AppendStats, Error> {
        append::append(&self.inner, batch, Some(refs))
    }

    fn labels_of(&self, r: SeriesRef) -> Option<Labels> {
        if r.is_none() {
            return None;
        }
        self.inner.head.get(r.0).map(|s| s.lock().labels())
    }
}

impl Queryable for Db {
    fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<Series>, Error> {
        let db = &self.inner;
        let span = db.opts.max_chunk_span;
        let mut out = Vec::new();
        for (id, s) in db.head.select(matchers) {
            let (labels, mut head_blocks, persisted_until) = {
                let s = s.lock();
                if s.mint > maxt || s.maxt < mint {
                    continue;
                }
                let mut blocks = Vec::new();
                for c in &s.closed {
                    if c.maxt >= mint && c.mint <= maxt {
                        blocks.push(SampleBlock::Xor(c.bytes.clone()));
                    }
                }
                let open_overlaps = match (s.open.min_time(), s.open.max_time()) {
                    (Some(a), Some(b)) => b >= mint && a <= maxt,
                    _ => false,
                };
                if open_overlaps {
                    blocks.push(SampleBlock::Xor(s.open.bytes().into()));
                }
                let ooo: Vec<_> = s
                    .ooo
                    .iter()
                    .filter(|x| x.t >= mint && x.t <= maxt)
                    .copied()
                    .collect();
                if !ooo.is_empty() {
                    blocks.push(SampleBlock::Plain(ooo.into()));
                }
                (s.labels(), blocks, s.persisted_until)
            };
            let mut blocks = Vec::new();
            // sled only when some persisted chunk can reach into the range:
            // reads of recent data stay in memory.
            if persisted_until >= mint {
                for c in db.store.chunks(id, mint, maxt, span)? {
                    blocks.push(SampleBlock::Xor(c));
                }
            }
            blocks.append(&mut head_blocks);
            if !blocks.is_empty() {
                out.push(Series::new(labels, blocks, mint, maxt));
            }
        }
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(out)
    }

    fn label_names(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>, Error> {
        if matchers.is_empty() && self.covers_all(mint, maxt) {
            let inner = self.inner.head.inner.read();
            let mut names: Vec<String> = inner.index.postings().keys().cloned().collect();
            names.sort();
            return Ok(names);
        }
        let mut names = BTreeSet::new();
        self.for_each_selected(matchers, mint, maxt, |l| add_names(&mut names, l));
        Ok(names.into_iter().collect())
    }

    fn label_values(
        &self,
        name: &str,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>, Error> {
        if matchers.is_empty() && self.covers_all(mint, maxt) {
            let inner = self.inner.head.inner.read();
            let mut values: Vec<String> = inner
                .index
                .postings()
                .get(name)
                .map(|v| v.keys().cloned().collect())
                .unwrap_or_default();
            values.sort();
            return Ok(values);
        }
        let mut values = BTreeSet::new();
        self.for_each_selected(matchers, mint, maxt, |l| add_value(&mut values, l, name));
        Ok(values.into_iter().collect())
    }
}

impl Storage for Db {
    fn problems(&self) -> Vec<String> {
        Db::problems(self)
    }

    fn disk_usage(&self) -> Option<DiskUsage> {
        let m = self.metrics();
        Some(DiskUsage {
            wal_bytes: m.wal_bytes,
            storage_bytes: m.sled_bytes,
        })
    }

    fn status(&self, limit: usize) -> TsdbStatus {
        let db = &self.inner;
        let chunk_count = db
            .head
            .all()
            .iter()
            .map(|(_, s)| {
                let s = s.lock();
                s.closed.len() as u64 + u64::from(s.open.num_samples() > 0)
            })
            .sum();
        let inner = db.head.inner.read();
        let postings = inner.index.postings();
        let mut by_name = Vec::new();
        let mut value_counts = Vec::new();
        let mut memory = Vec::new();
        let mut pairs = Vec::new();
        let mut num_pairs = 0u64;
        for (name, values) in postings {
            num_pairs += values.len() as u64;
            value_counts.push((name.clone(), values.len() as u64));
            memory.push((
                name.clone(),
                values.keys().map(|v| v.len() as u64).sum::<u64>(),
            ));
            for (v, ids) in values {
                if name == METRIC_NAME {
                    by_name.push((v.clone(), ids.len() as u64));
                }
                pairs.push((format!("{name}={v}"), ids.len() as u64));
            }
        }
        let pairs: HashMap<String, u64> = pairs.into_iter().collect();
        TsdbStatus {
            num_series: inner.index.num_series() as u64,
            num_label_pairs: num_pairs,
            chunk_count,
            min_time: db.min_time.load(Ordering::Relaxed),
            max_time: db.max_time.load(Ordering::Relaxed),
            series_count_by_metric_name: top(by_name, limit),
            label_value_count_by_label_name: top(value_counts, limit),
            memory_in_bytes_by_label_name: top(memory, limit),
            series_count_by_label_value_pair: top(pairs.into_iter().collect(), limit),
        }
    }
}
