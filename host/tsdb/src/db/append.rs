//! The append path: validate the whole batch, write it to the WAL, then
//! apply it to the head. All under the WAL lock, so batches are atomic and
//! ordered.

use rustc_hash::FxHashMap as HashMap;
use std::sync::atomic::Ordering;

use pharos_model::{Labels, Sample};

use super::Inner;
use super::health::Problem;
use crate::head::{SeriesCell, key_hash, series_key};
use crate::metrics::inc;
use crate::record;
use crate::wal::WalError;
use crate::{AppendError, AppendStats, Error, SeriesAppend, SeriesRef};

/// Where an accepted sample goes.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    InOrder,
    OutOfOrder,
}

/// How a series of the batch was found before validation.
enum Found {
    /// Through the caller's reference.
    Ref(u64, SeriesCell),
    /// Its key is `keys[start..end]`: looked up (or created) by labels.
    Key(usize, usize),
}

/// Whether `s` has these labels (checks callers' references in tests).
fn same_series(s: &SeriesCell, labels: &Labels) -> bool {
    let mut key = Vec::new();
    series_key(&mut key, labels);
    *s.lock().key == *key
}

fn set_refs(refs: Option<&mut [SeriesRef]>, ids: &[u64]) {
    if let Some(refs) = refs {
        for (r, id) in refs.iter_mut().zip(ids) {
            *r = SeriesRef(*id);
        }
    }
}

/// Stages a stored series the batch names (once per batch).
fn stage_stored<'b>(
    staged: &mut HashMap<u64, Staged<'b>>,
    id: u64,
    series: SeriesCell,
    labels: &'b Labels,
) {
    staged.entry(id).or_insert_with(|| {
        let last = series.lock().last;
        Staged {
            series: Some(series),
            labels,
            last,
            ooo: Vec::new(),
        }
    });
}

impl Staged<'_> {
    /// The series as errors name it: the caller's labels, or the stored
    /// ones when the caller gave only a reference.
    fn name(&self) -> String {
        match &self.series {
            Some(s) if self.labels.is_empty() => s.lock().labels().to_string(),
            _ => self.labels.to_string(),
        }
    }
}

/// What validation knows about one series of the batch.
struct Staged<'b> {
    series: Option<SeriesCell>,
    labels: &'b Labels,
    last: Sample,
    /// Out-of-order samples accepted earlier in this batch.
    ooo: Vec<i64>,
}

/// The error for a batch the WAL did not take: a write failure is counted,
/// logged and makes the storage unhealthy until an append succeeds.
fn refused(db: &Inner, e: WalError) -> Error {
    match e {
        e @ (WalError::Io { .. } | WalError::Poisoned { .. }) => {
            inc(&db.counters.wal_write_errors, 1);
            let first = !db.health.has(Problem::WalWrite);
            db.health.set(Problem::WalWrite, &e);
            let e = Error::WriteFailed(e);
            if first {
                tracing::error!(error = %e, disk_full = e.is_disk_full(), "storage refuses appends: the WAL cannot be written");
            } else {
                tracing::debug!(error = %e, "append refused: the WAL cannot be written");
            }
            e
        }
        e => Error::Wal(e),
    }
}

pub(crate) fn append(
    db: &Inner,
    batch: &[SeriesAppend],
    refs: Option<&mut [SeriesRef]>,
) -> Result<AppendStats, Error> {
    let mut wal = db.wal.lock();
    if db.closed.load(Ordering::SeqCst) {
        return Err(Error::Closed);
    }
    let first_new_id = db.next_id.load(Ordering::SeqCst);
    let mut next_id = first_new_id;
    // Series given by a live reference need no key; the others' keys go
    // into one buffer, each hashed once.
    let mut keys = Vec::new();
    let mut found: Vec<Found> = Vec::with_capacity(batch.len());
    for (i, sa) in batch.iter().enumerate() {
        let r = refs.as_deref().and_then(|r| r.get(i)).copied();
        if let Some(r) = r.filter(|r| !r.is_none())
            && let Some(s) = db.head.get(r.0)
        {
            debug_assert!(
                sa.labels.is_empty() || same_series(&s, &sa.labels),
                "a reference of other labels"
            );
            found.push(Found::Ref(r.0, s));
            continue;
        }
        let start = keys.len();
        series_key(&mut keys, &sa.labels);
        found.push(Found::Key(start, keys.len()));
    }
    let mut ids: HashMap<&[u8], u64> = HashMap::default();
    let mut staged: HashMap<u64, Staged<'_>> = HashMap::default();
    let mut new_series: Vec<(u64, &Labels, &[u8])> = Vec::new();
    let mut accepted: Vec<(u64, Sample, Kind)> = Vec::with_capacity(batch.len());
    let mut batch_ids: Vec<u64> = Vec::with_capacity(batch.len());
    let max_time = db.max_time.load(Ordering::Relaxed);
    let window = db.opts.out_of_order_window;

    let result = (|| {
        for (index, (sa, found)) in batch.iter().zip(found).enumerate() {
            let id = match found {
                Found::Ref(id, s) => {
                    stage_stored(&mut staged, id, s, &sa.labels);
                    id
                }
                Found::Key(start, end) => {
                    if sa.labels.is_empty() {
                        return Err(AppendError::InvalidSeries {
                            index,
                            series: "{}".into(),
                            reason: "empty label set (or a stale series reference without labels)",
                        });
                    }
                    let key = &keys[start..end];
                    match ids.get(key) {
                        Some(id) => *id,
                        None => {
                            let id = match db.head.lookup(key, key_hash(key)) {
                                Some((id, s)) => {
                                    stage_stored(&mut staged, id, s, &sa.labels);
                                    id
                                }
                                None => {
                                    let id = next_id;
                                    next_id += 1;
                                    new_series.push((id, &sa.labels, key));
                                    staged.insert(
                                        id,
                                        Staged {
                                            series: None,
                                            labels: &sa.labels,
                                            last: Sample::new(i64::MIN, 0.0),
                                            ooo: Vec::new(),
                                        },
                                    );
                                    id
                                }
                            };
                            ids.insert(key, id);
                            id
                        }
                    }
                }
            };
            batch_ids.push(id);
            let Some(st) = staged.get_mut(&id) else {
                continue;
            };
            for s in &sa.samples {
                if s.t > st.last.t {
                    st.last = *s;
                    accepted.push((id, *s, Kind::InOrder));
                } else if s.t == st.last.t {
                    if s.v.to_bits() != st.last.v.to_bits() {
                        inc(&db.counters.duplicate_rejected, 1);
                        return Err(AppendError::duplicate(index, &st.name(), s.t));
                    }
                } else if window > 0 && s.t >= max_time.saturating_sub(window) {
                    let existing = st.series.as_ref().and_then(|x| x.lock().ooo_at(s.t));
                    match existing {
                        Some(e) if e.v.to_bits() != s.v.to_bits() => {
                            inc(&db.counters.duplicate_rejected, 1);
                            return Err(AppendError::duplicate(index, &st.name(), s.t));
                        }
                        Some(_) => {}
                        None if st.ooo.contains(&s.t) => {
                            inc(&db.counters.duplicate_rejected, 1);
                            return Err(AppendError::duplicate(index, &st.name(), s.t));
                        }
                        None => {
                            st.ooo.push(s.t);
                            accepted.push((id, *s, Kind::OutOfOrder));
                        }
                    }
                } else {
                    inc(&db.counters.out_of_order_rejected, 1);
                    return Err(AppendError::OutOfOrder {
                        index,
                        series: st.name(),
                        t: s.t,
                        newest: st.last.t,
                    });
                }
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        inc(&db.counters.batches_rejected, 1);
        return Err(e.into());
    }

    // Log first: a batch is acknowledged only once the WAL has it.
    let mut series_rec = Vec::new();
    let mut samples_rec = Vec::with_capacity(16 + accepted.len() * 12);
    if !new_series.is_empty() {
        record::encode_series(&mut series_rec, new_series.iter().map(|(i, _, k)| (*i, *k)));
    }
    if !accepted.is_empty() {
        record::encode_samples(&mut samples_rec, accepted.iter().map(|(i, s, _)| (*i, *s)));
    }
    let recs: Vec<&[u8]> = [series_rec.as_slice(), samples_rec.as_slice()]
        .into_iter()
        .filter(|r| !r.is_empty())
        .collect();
    if recs.is_empty() {
        // Nothing new: every series exists already.
        set_refs(refs, &batch_ids);
        return Ok(AppendStats::default());
    }
    // The ids of new series are used up whether the write succeeds or not:
    // a failed write may have left a series record behind (in a segment
    // closed before the failure, or torn and replayed up to it), and an id
    // must never name two label sets.
    db.next_id.store(next_id, Ordering::SeqCst);
    if let Err(e) = wal.append_many(&recs) {
        drop(wal);
        inc(&db.counters.batches_rejected, 1);
        return Err(refused(db, e));
    }
    if db.health.clear(Problem::WalWrite) {
        tracing::info!("storage takes appends again: the WAL can be written");
    }

    // Apply to the head.
    if !new_series.is_empty() {
        for (id, labels, _) in &new_series {
            let s = db.head.insert(*id, labels);
            if let Some(st) = staged.get_mut(id) {
                st.series = Some(s);
            }
        }
        db.pending_series
            .lock()
            .extend(new_series.iter().map(|(id, _, _)| *id));
        inc(&db.counters.series_created, new_series.len() as u64);
    }
    let policy = db.opts.chunk_policy();
    let mut dirty = Vec::new();
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    let mut ooo_count = 0;
    for (id, s, kind) in &accepted {
        let Some(series) = staged.get(id).and_then(|st| st.series.as_ref()) else {
            continue;
        };
        let mut series = series.lock();
        let cut = match kind {
            Kind::InOrder => series.append(*s, policy),
            Kind::OutOfOrder => {
                ooo_count += 1;
                series.insert_ooo(*s, policy)
            }
        };
        if cut {
            dirty.push(*id);
        }
        lo = lo.min(s.t);
        hi = hi.max(s.t);
    }
    drop(wal);
    if !accepted.is_empty() {
        db.note_time(lo);
        db.note_time(hi);
    }
    if !dirty.is_empty() {
        db.dirty.lock().extend(dirty);
    }
    set_refs(refs, &batch_ids);
    inc(&db.counters.samples_appended, accepted.len() as u64);
    inc(&db.counters.out_of_order_accepted, ooo_count);
    Ok(AppendStats {
        samples: accepted.len(),
        series_created: new_series.len(),
    })
}
