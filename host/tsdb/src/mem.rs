//! A simple in-memory storage: the model the real one is tested against, and
//! a backend for PromQL and API tests.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use parking_lot::RwLock;
use pharos_model::{Labels, Matcher, Sample};

use crate::append::top;
use crate::querier::{add_names, add_value};
use crate::{
    AppendError, AppendStats, Appendable, Error, Queryable, Series, SeriesAppend, Storage,
    TsdbStatus,
};

/// Series kept as plain sorted samples. Same acceptance rules as the real
/// storage with no out-of-order window: a sample must be newer than the last
/// one of its series, or an identical re-send.
#[derive(Debug, Default)]
pub struct MemStorage {
    series: RwLock<BTreeMap<Labels, Vec<Sample>>>,
}

impl MemStorage {
    pub fn new() -> Self {
        Self::default()
    }

    /// All samples of all series, for comparing with another storage.
    pub fn dump(&self) -> BTreeMap<Labels, Vec<Sample>> {
        self.series.read().clone()
    }
}

pub(crate) fn matches_all(labels: &Labels, matchers: &[Matcher]) -> bool {
    matchers
        .iter()
        .all(|m| m.matches(labels.get(&m.name).unwrap_or("")))
}

impl Appendable for MemStorage {
    fn append(&self, batch: &[SeriesAppend]) -> Result<AppendStats, Error> {
        let mut all = self.series.write();
        let mut stats = AppendStats::default();
        // Validate everything first: the batch is atomic.
        let mut staged: HashMap<&Labels, Vec<Sample>> = HashMap::new();
        for (index, sa) in batch.iter().enumerate() {
            let existing = all.get(&sa.labels).map(Vec::as_slice).unwrap_or(&[]);
            let staged_s = staged.entry(&sa.labels).or_default();
            for s in &sa.samples {
                let last = staged_s.last().or(existing.last());
                match last {
                    Some(l) if s.t < l.t => {
                        return Err(AppendError::OutOfOrder {
                            index,
                            series: sa.labels.to_string(),
                            t: s.t,
                            newest: l.t,
                        }
                        .into());
                    }
                    Some(l) if s.t == l.t && s.v.to_bits() != l.v.to_bits() => {
                        return Err(
                            AppendError::duplicate(index, &sa.labels.to_string(), s.t).into()
                        );
                    }
                    Some(l) if s.t == l.t => {}
                    _ => staged_s.push(*s),
                }
            }
        }
        for (labels, samples) in staged {
            let entry = all.entry(labels.clone()).or_insert_with(|| {
                stats.series_created += 1;
                Vec::new()
            });
            stats.samples += samples.len();
            entry.extend(samples);
        }
        Ok(stats)
    }
}

impl Queryable for MemStorage {
    fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<Series>, Error> {
        let all = self.series.read();
        Ok(all
            .iter()
            .filter(|(l, _)| matches_all(l, matchers))
            .filter_map(|(l, s)| {
                let lo = s.partition_point(|x| x.t < mint);
                let hi = s.partition_point(|x| x.t <= maxt);
                (lo < hi).then(|| Series::from_samples(l.clone(), s[lo..hi].to_vec()))
            })
            .collect())
    }

    fn label_names(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>, Error> {
        let mut names = BTreeSet::new();
        for s in self.select(matchers, mint, maxt)? {
            add_names(&mut names, &s.labels);
        }
        Ok(names.into_iter().collect())
    }

    fn label_values(
        &self,
        name: &str,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>, Error> {
        let mut values = BTreeSet::new();
        for s in self.select(matchers, mint, maxt)? {
            add_value(&mut values, &s.labels, name);
        }
        Ok(values.into_iter().collect())
    }
}

impl Storage for MemStorage {
    fn status(&self, limit: usize) -> TsdbStatus {
        let all = self.series.read();
        let mut by_name: HashMap<String, u64> = HashMap::new();
        let mut values: HashMap<String, BTreeSet<String>> = HashMap::new();
        let mut pairs: HashMap<String, u64> = HashMap::new();
        let (mut mint, mut maxt) = (i64::MAX, i64::MIN);
        for (l, s) in all.iter() {
            if let Some(n) = l.metric_name() {
                *by_name.entry(n.to_owned()).or_default() += 1;
            }
            for lab in l {
                values
                    .entry(lab.name.clone())
                    .or_default()
                    .insert(lab.value.clone());
                *pairs
                    .entry(format!("{}={}", lab.name, lab.value))
                    .or_default() += 1;
            }
            if let (Some(f), Some(la)) = (s.first(), s.last()) {
                mint = mint.min(f.t);
                maxt = maxt.max(la.t);
            }
        }
        TsdbStatus {
            num_series: all.len() as u64,
            num_label_pairs: pairs.len() as u64,
            chunk_count: 0,
            min_time: mint,
            max_time: maxt,
            series_count_by_metric_name: top(by_name.into_iter().collect(), limit),
            label_value_count_by_label_name: top(
                values
                    .iter()
                    .map(|(k, v)| (k.clone(), v.len() as u64))
                    .collect(),
                limit,
            ),
            memory_in_bytes_by_label_name: top(
                values
                    .iter()
                    .map(|(k, v)| (k.clone(), v.iter().map(|s| s.len() as u64).sum()))
                    .collect(),
                limit,
            ),
            series_count_by_label_value_pair: top(pairs.into_iter().collect(), limit),
        }
    }
}
