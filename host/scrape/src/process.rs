//! One scrape's body to one storage batch, as Prometheus' `scrapeLoop.append`:
//! parse, map each sample through the scrape cache (on a miss: labels,
//! target labels with `honor_labels`, `metric_relabel_configs`, label
//! limits), enforce `sample_limit`, take explicit timestamps only with
//! `honor_timestamps`, drop a second sample of the same series, and add
//! staleness markers for the series the previous scrape had and this one
//! has not. Then the report series (`up`, `scrape_duration_seconds`, …).
//!
//! Any error fails the scrape as a whole: nothing of the body is stored,
//! every series of the previous scrape gets a staleness marker (the target
//! is treated as if it exposed nothing, as Prometheus does) and `up` is 0.

use std::hash::{Hash, Hasher};
use std::time::Duration;

use pharos_model::{Labels, LabelsBuilder, Sample, stale_nan};
use pharos_relabel::Relabel;
use pharos_textparse::{Entry, Format, Parser};
use pharos_tsdb::{Appendable, SeriesAppend};
use rustc_hash::FxHasher;

use crate::cache::{ScrapeCache, TextEntry, TextRef, text_key};
use crate::error::ScrapeError;

/// The job settings that shape samples.
#[derive(Debug, Clone, Default)]
pub struct SampleSettings {
    pub honor_labels: bool,
    pub honor_timestamps: bool,
    pub metric_relabel: Vec<Relabel>,
    pub sample_limit: u64,
    pub label_limit: u64,
    pub label_name_length_limit: u64,
    pub label_value_length_limit: u64,
}

impl SampleSettings {
    /// The sample settings of a scrape job.
    pub fn from_config(cfg: &pharos_config::ScrapeConfig) -> Self {
        SampleSettings {
            honor_labels: cfg.honor_labels,
            honor_timestamps: cfg.honor_timestamps,
            metric_relabel: cfg.metric_relabel_configs.clone(),
            sample_limit: cfg.sample_limit,
            label_limit: cfg.label_limit,
            label_name_length_limit: cfg.label_name_length_limit,
            label_value_length_limit: cfg.label_value_length_limit,
        }
    }
}

/// Counts of a processed scrape, for the report series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Samples in the body.
    pub scraped: usize,
    /// Samples left after `metric_relabel_configs`.
    pub post_relabel: usize,
    /// Series new to the cache.
    pub series_added: usize,
    /// Samples dropped as a repeat of a series within the scrape.
    pub duplicates: usize,
}

/// Parses `body` and places its samples (and staleness markers) in the
/// cache's batch ([`ScrapeCache::batch`]). On error the batch holds part
/// of the scrape: discard it. `storage` tells the labels of series the
/// cache knows by reference.
pub(crate) fn process_body(
    cache: &mut ScrapeCache,
    settings: &SampleSettings,
    target_labels: &Labels,
    storage: &dyn Appendable,
    body: &[u8],
    format: Format,
    ts: i64,
) -> Result<Counts, ScrapeError> {
    let iter = cache.begin();
    let mut counts = Counts::default();
    let mut current: Vec<u32> = Vec::with_capacity(cache.prev.len());
    let mut limit_hit = false;
    let mut parser = Parser::new(body, format);
    while let Some(entry) = parser.next_entry()? {
        let s = match entry {
            Entry::Sample(s) => s,
            Entry::Type {
                metric,
                metric_type,
            } => {
                cache.note_metadata(metric, |m| {
                    let changed = m.metric_type != metric_type;
                    m.metric_type = metric_type;
                    changed
                });
                continue;
            }
            Entry::Help { metric, text } => {
                cache.note_metadata(metric, |m| {
                    let changed = m.help != *text;
                    if changed {
                        m.help = text.into_owned();
                    }
                    changed
                });
                continue;
            }
            Entry::Unit { metric, unit } => {
                cache.note_metadata(metric, |m| {
                    let changed = m.unit != unit;
                    if changed {
                        m.unit = unit.to_owned();
                    }
                    changed
                });
                continue;
            }
            Entry::Comment(_) => continue,
        };
        counts.scraped += 1;
        let key = text_key(s.series);
        let id = match cache.by_text.get_mut(&key) {
            Some(e) => {
                e.last_iter = iter;
                match e.target {
                    TextRef::Series(id) => id,
                    TextRef::Dropped => continue,
                }
            }
            None => {
                let labels = s.labels()?;
                let target = match sample_labels(labels, target_labels, settings)? {
                    None => TextRef::Dropped,
                    Some(labels) => {
                        let hash = hash_labels(&labels);
                        let (id, added) = cache.intern(labels, hash, storage);
                        if added {
                            counts.series_added += 1;
                        }
                        TextRef::Series(id)
                    }
                };
                cache.by_text.insert(
                    key,
                    TextEntry {
                        target,
                        last_iter: iter,
                    },
                );
                match target {
                    TextRef::Series(id) => id,
                    TextRef::Dropped => continue,
                }
            }
        };
        let Some(meta) = cache.meta(id) else {
            continue;
        };
        if meta.last_iter == iter {
            counts.duplicates += 1;
            continue;
        }
        cache.seen(id);
        counts.post_relabel += 1;
        if settings.sample_limit > 0 && counts.post_relabel as u64 > settings.sample_limit {
            // Keep parsing to report how many samples the target exposed.
            limit_hit = true;
        }
        if limit_hit {
            continue;
        }
        let t = match s.timestamp {
            Some(t) if settings.honor_timestamps => t,
            _ => {
                current.push(id);
                ts
            }
        };
        cache.place(id, Sample::new(t, s.value), false);
    }
    if limit_hit {
        return Err(ScrapeError::SampleLimit);
    }
    let prev = std::mem::take(&mut cache.prev);
    for &id in &prev {
        if cache.meta(id).is_some_and(|m| m.last_iter != iter) {
            cache.place(id, Sample::new(ts, stale_nan()), false);
        }
    }
    cache.prev = prev;
    cache.current = current;
    if cache.should_evict(counts.scraped) {
        cache.evict();
    }
    Ok(counts)
}

/// Staleness markers for every series of the last successful scrape (the
/// scrape failed, or the target went away), by labels. Forgets them.
pub(crate) fn stale_all(
    cache: &mut ScrapeCache,
    storage: &dyn Appendable,
    ts: i64,
    batch: &mut Vec<SeriesAppend>,
) {
    for id in std::mem::take(&mut cache.prev) {
        if let Some(l) = cache.labels(id, storage) {
            batch.push(stale(&l, ts));
        }
    }
}

fn stale(labels: &Labels, ts: i64) -> SeriesAppend {
    SeriesAppend {
        labels: labels.clone(),
        samples: vec![Sample::new(ts, stale_nan())],
    }
}

pub(crate) fn hash_labels(labels: &Labels) -> u64 {
    let mut h = FxHasher::default();
    labels.hash(&mut h);
    h.finish()
}

/// A sample's final labels: target labels merged in (`honor_labels`),
/// `metric_relabel_configs` applied, limits checked. `None`: dropped.
fn sample_labels(
    exposed: Labels,
    target: &Labels,
    settings: &SampleSettings,
) -> Result<Option<Labels>, ScrapeError> {
    let mut lb = if target.is_empty() {
        exposed.to_builder()
    } else {
        merge_target_labels(&exposed, target, settings.honor_labels)
    };
    if !settings.metric_relabel.is_empty()
        && !pharos_relabel::process_builder(&mut lb, &settings.metric_relabel)
    {
        return Ok(None);
    }
    let labels = lb.build();
    if labels.is_empty() {
        return Ok(None);
    }
    check_limits(&labels, settings)?;
    Ok(Some(labels))
}

/// Prometheus' `mutateSampleLabels`: with `honor_labels` exposed labels
/// win and target labels fill the gaps; without it target labels win and
/// a conflicting exposed label is kept as `exported_<name>` (with more
/// `exported_` prefixes while that name is taken too).
fn merge_target_labels(exposed: &Labels, target: &Labels, honor: bool) -> LabelsBuilder {
    let mut lb = exposed.to_builder();
    if honor {
        for l in target {
            if exposed.get(&l.name).is_none() {
                lb.set(l.name.clone(), l.value.clone());
            }
        }
        return lb;
    }
    let mut conflicts = Vec::new();
    for l in target {
        if let Some(v) = exposed.get(&l.name) {
            conflicts.push((l.name.clone(), v.to_owned()));
        }
        lb.set(l.name.clone(), l.value.clone());
    }
    for (name, value) in conflicts {
        let mut new_name = format!("exported_{name}");
        while exposed.get(&new_name).is_some() || target.get(&new_name).is_some() {
            new_name = format!("exported_{new_name}");
        }
        lb.set(new_name, value);
    }
    lb
}

fn check_limits(labels: &Labels, s: &SampleSettings) -> Result<(), ScrapeError> {
    let metric = || truncate(labels.metric_name().unwrap_or(""));
    if s.label_limit > 0 && labels.len() as u64 > s.label_limit {
        return Err(ScrapeError::LabelLimit {
            metric: metric(),
            count: labels.len(),
            limit: s.label_limit,
        });
    }
    if s.label_name_length_limit == 0 && s.label_value_length_limit == 0 {
        return Ok(());
    }
    for l in labels {
        let name_len = l.name.chars().count();
        if s.label_name_length_limit > 0 && name_len as u64 > s.label_name_length_limit {
            return Err(ScrapeError::LabelNameLength {
                metric: metric(),
                name: truncate(&l.name),
                length: name_len,
                limit: s.label_name_length_limit,
            });
        }
        let value_len = l.value.chars().count();
        if s.label_value_length_limit > 0 && value_len as u64 > s.label_value_length_limit {
            return Err(ScrapeError::LabelValueLength {
                metric: metric(),
                name: truncate(&l.name),
                value: truncate(&l.value),
                length: value_len,
                limit: s.label_value_length_limit,
            });
        }
    }
    Ok(())
}

/// The first 50 characters, as Go's `%.50s`.
fn truncate(s: &str) -> String {
    s.chars().take(50).collect()
}

/// What a scrape reports about itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Report {
    pub(crate) up: bool,
    pub(crate) duration: Duration,
    pub(crate) counts: Counts,
}

/// The report series' names and values, Prometheus' names and meanings.
pub(crate) fn report_values(r: &Report) -> [(&'static str, f64); 5] {
    [
        ("up", if r.up { 1.0 } else { 0.0 }),
        ("scrape_duration_seconds", r.duration.as_secs_f64()),
        ("scrape_samples_scraped", r.counts.scraped as f64),
        (
            "scrape_samples_post_metric_relabeling",
            r.counts.post_relabel as f64,
        ),
        ("scrape_series_added", r.counts.series_added as f64),
    ]
}

/// The labels of report series `name` of a target.
pub(crate) fn report_labels(target: &Labels, name: &str) -> Labels {
    let mut lb = target.to_builder();
    lb.set(pharos_model::METRIC_NAME, name);
    lb.build()
}

/// Places the report series in the cache's batch (their label sets are
/// built once per target and kept in the cache).
pub(crate) fn report_to_cache(
    cache: &mut ScrapeCache,
    storage: &dyn Appendable,
    target: &Labels,
    ts: i64,
    r: &Report,
) {
    let values = report_values(r);
    let ids = match cache.report_ids {
        Some(ids) => ids,
        None => {
            let ids = values.map(|(name, _)| {
                let labels = report_labels(target, name);
                let hash = hash_labels(&labels);
                cache.intern(labels, hash, storage).0
            });
            cache.report_ids = Some(ids);
            ids
        }
    };
    for (id, (_, v)) in ids.into_iter().zip(values) {
        cache.seen(id);
        cache.place(id, Sample::new(ts, v), true);
    }
}

/// Adds the report series to a plain batch.
pub(crate) fn report_series(target: &Labels, ts: i64, r: &Report, batch: &mut Vec<SeriesAppend>) {
    for (name, v) in report_values(r) {
        batch.push(SeriesAppend {
            labels: report_labels(target, name),
            samples: vec![Sample::new(ts, v)],
        });
    }
}

#[cfg(test)]
mod tests;
