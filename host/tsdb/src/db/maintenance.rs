//! Background work: persisting full chunks, checkpoints that truncate the
//! WAL, and retention.
//!
//! The maintenance thread is supervised: a panic in its work is caught,
//! logged with its message, counted (`maintenance_panics`) and the work
//! loop started again after one tick, with every series that holds full
//! chunks marked for the next flush. Failures are recorded in the storage's
//! health until the same work next succeeds, and sled is reopened once the
//! disk takes writes again after it failed one.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::Inner;
use super::health::Problem;
use crate::Error;
use crate::head::ClosedChunk;
use crate::metrics::inc;
use crate::record;
use crate::store::ChunkWrite;

/// The maintenance thread's body; returns when `stop` says so.
pub(crate) fn run(db: &Inner, stop: &mpsc::Receiver<()>) {
    loop {
        match panic::catch_unwind(AssertUnwindSafe(|| work(db, stop))) {
            Ok(()) => return,
            Err(payload) => {
                let message = panic_message(payload.as_ref());
                inc(&db.counters.maintenance_panics, 1);
                tracing::error!(
                    panic = %message,
                    panics = db.counters.maintenance_panics.load(Ordering::Relaxed),
                    "storage maintenance panicked; its work restarts after one tick"
                );
                db.health.set(Problem::Maintenance, &message);
                after_panic(db);
            }
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// A panic may have come between taking the list of series with full
/// chunks and putting it back: mark every such series again.
fn after_panic(db: &Inner) {
    let ids: Vec<u64> = db
        .head
        .all()
        .into_iter()
        .filter(|(_, s)| !s.lock().closed.is_empty())
        .map(|(id, _)| id)
        .collect();
    db.dirty.lock().extend(ids);
}

/// The work loop: waits a tick, works, until `stop`.
fn work(db: &Inner, stop: &mpsc::Receiver<()>) {
    let tick = db
        .opts
        .flush_interval
        .min(db.opts.retention_interval)
        .max(Duration::from_millis(100));
    let mut last_retention = Instant::now();
    loop {
        match stop.recv_timeout(tick) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        #[cfg(test)]
        if db.panic_next_tick.swap(false, Ordering::SeqCst) {
            panic!("injected maintenance panic");
        }
        work_once(db, &mut last_retention);
        if db.health.clear(Problem::Maintenance) {
            tracing::info!("storage maintenance completed a round again after a panic");
        }
    }
}

/// One round: reopen sled if it failed, flush, sync the WAL, checkpoint
/// and retention when due. Errors are logged and recorded, not returned.
fn work_once(db: &Inner, last_retention: &mut Instant) {
    if db.store.needs_reopen() && !reopen_sled(db) {
        // sled refuses writes still: only the WAL can be made durable.
        sync_wal(db);
        return;
    }
    let _ = flush_noting(db);
    // Appends reach the OS before they are acknowledged; this bounds what
    // a machine (not process) crash can take to one tick.
    sync_wal(db);
    let wal_size = db.wal.lock().live_bytes();
    let due = db.last_checkpoint.lock().elapsed() >= db.opts.checkpoint_interval
        || wal_size >= db.opts.checkpoint_wal_size;
    if due {
        let _ = checkpoint_noting(db);
    }
    if last_retention.elapsed() >= db.opts.retention_interval {
        *last_retention = Instant::now();
        let _ = retention_noting(db);
    }
}

/// Reopens sled after a failed write; whether it is usable now.
fn reopen_sled(db: &Inner) -> bool {
    if !db.health.has(Problem::Sled) {
        db.health
            .set(Problem::Sled, "waiting for the disk to take writes");
    }
    match db.store.reopen() {
        Ok(true) => {
            inc(&db.counters.sled_reopens, 1);
            db.health.clear(Problem::Sled);
            true
        }
        Ok(false) => false,
        Err(error) => {
            tracing::error!(%error, "reopening sled failed; trying again next round");
            db.health
                .set(Problem::Sled, format!("reopening failed: {error}"));
            false
        }
    }
}

fn sync_wal(db: &Inner) {
    let synced = db.wal.lock().sync().map_err(Error::from);
    let _ = note(db, Problem::WalSync, &db.counters.flush_errors, synced);
}

/// Records the outcome of some work in the storage's health and counters,
/// logging the first failure and the recovery.
fn note(
    db: &Inner,
    problem: Problem,
    errors: &AtomicU64,
    r: Result<(), Error>,
) -> Result<(), Error> {
    match &r {
        Ok(()) => {
            if db.health.clear(problem) {
                tracing::info!(problem = %problem, "storage recovered");
            }
        }
        Err(error) => {
            inc(errors, 1);
            if db.health.has(problem) {
                tracing::debug!(%error, problem = %problem, "still failing");
            } else {
                tracing::error!(%error, disk_full = error.is_disk_full(), problem = %problem, "storage maintenance failed");
            }
            db.health.set(problem, error);
        }
    }
    r
}

/// [`flush`], recorded in health and counters.
pub(crate) fn flush_noting(db: &Inner) -> Result<(), Error> {
    let r = flush(db);
    note(db, Problem::Flush, &db.counters.flush_errors, r)
}

/// [`checkpoint`], recorded in health and counters.
pub(crate) fn checkpoint_noting(db: &Inner) -> Result<(), Error> {
    let r = checkpoint(db);
    note(db, Problem::Checkpoint, &db.counters.checkpoint_errors, r)
}

/// [`retention`], recorded in health and counters.
pub(crate) fn retention_noting(db: &Inner) -> Result<(), Error> {
    let r = retention(db);
    note(db, Problem::Retention, &db.counters.retention_errors, r)
}

/// Writes new series and every full chunk in the head to sled, makes sled
/// durable, and only then drops the chunks from memory and the series from
/// the unsaved list: whatever sled loses when it fails (everything since
/// its last flush, see [`crate::store::Store`]) the head still holds.
pub(crate) fn flush(db: &Inner) -> Result<(), Error> {
    let pending: Vec<u64> = db.pending_series.lock().clone();
    let mut ids = std::mem::take(&mut *db.dirty.lock());
    ids.sort_unstable();
    ids.dedup();
    let taken = closed_chunks(db, &ids);
    if taken.is_empty() && pending.is_empty() {
        return Ok(());
    }
    let bytes: usize = taken
        .iter()
        .flat_map(|(_, c)| c.iter().map(|c| c.bytes.len() + CHUNK_KEYS_BYTES))
        .sum::<usize>()
        + pending.len() * SERIES_BYTES;
    let written = check_room(db, bytes as u64)
        .and_then(|()| save_series(db, &pending))
        .and_then(|()| write_chunks(db, &taken))
        .and_then(|()| db.store.flush());
    if let Err(e) = written {
        // Keep them in memory and try again on the next flush.
        db.dirty.lock().extend(ids);
        return Err(e);
    }
    let chunks: usize = taken.iter().map(|(_, c)| c.len()).sum();
    inc(&db.counters.chunks_persisted, chunks as u64);
    for (id, chunks) in &taken {
        if let Some(s) = db.head.get(*id) {
            let mut s = s.lock();
            let n = chunks.len().min(s.closed.len());
            s.closed.drain(..n);
            for c in chunks {
                if !c.ooo {
                    s.persisted_maxt = s.persisted_maxt.max(c.maxt);
                }
                s.persisted_until = s.persisted_until.max(c.maxt);
            }
        }
    }
    forget_saved(db, pending);
    Ok(())
}

/// Rough bytes sled writes per series record and besides a chunk's bytes
/// (keys, time index, span), for [`check_room`].
const SERIES_BYTES: usize = 128;
const CHUNK_KEYS_BYTES: usize = 64;

/// Refuses with [`Error::NoRoom`] when the disk has less free space than
/// `bytes` to write to sled need (twice that, plus
/// [`crate::DbOptions::sled_min_free`]).
fn check_room(db: &Inner, bytes: u64) -> Result<(), Error> {
    let min = db.opts.sled_min_free;
    if min == 0 {
        return Ok(());
    }
    let needed = min.saturating_add(bytes.saturating_mul(2));
    match db.store.free_bytes() {
        Some(free) if free < needed => Err(Error::NoRoom { free, needed }),
        _ => Ok(()),
    }
}

/// The full chunks of series `ids` that the head holds, per series.
fn closed_chunks(db: &Inner, ids: &[u64]) -> Vec<(u64, Vec<ClosedChunk>)> {
    let mut taken = Vec::new();
    for id in ids {
        if let Some(s) = db.head.get(*id) {
            let s = s.lock();
            if !s.closed.is_empty() {
                taken.push((*id, s.closed.clone()));
            }
        }
    }
    taken
}

/// Writes chunks to sled (not yet durably), a batch per 4096 series.
fn write_chunks(db: &Inner, taken: &[(u64, Vec<ClosedChunk>)]) -> Result<(), Error> {
    for group in taken.chunks(4096) {
        let mut writes = Vec::new();
        for (id, chunks) in group {
            for c in chunks {
                let seq = if c.ooo { db.store.generate_id()? } else { 0 };
                writes.push(ChunkWrite {
                    id: *id,
                    chunk: c,
                    seq,
                });
            }
        }
        db.store.write_chunks(&writes)?;
    }
    Ok(())
}

/// Writes series to sled (not yet durably: see [`Store::flush`]).
///
/// [`Store::flush`]: crate::store::Store::flush
fn save_series(db: &Inner, ids: &[u64]) -> Result<(), Error> {
    // In slices: after a burst of new series (a first scrape of many
    // targets) one batch of all their keys was a memory peak of its own.
    for part in ids.chunks(SAVE_SERIES_BATCH) {
        let series: Vec<(u64, Box<[u8]>)> = part
            .iter()
            .filter_map(|id| db.head.get(*id).map(|s| (*id, s.lock().key.clone())))
            .collect();
        db.store
            .put_series(series.iter().map(|(id, k)| (*id, &k[..])))?;
    }
    Ok(())
}

/// Takes series sled now holds durably off the unsaved list.
fn forget_saved(db: &Inner, mut saved: Vec<u64>) {
    if saved.is_empty() {
        return;
    }
    saved.sort_unstable();
    db.pending_series
        .lock()
        .retain(|id| saved.binary_search(id).is_err());
}

/// Series saved to sled per batch.
const SAVE_SERIES_BATCH: usize = 4096;

/// Takes a checkpoint: full chunks go to sled; what is still only in memory
/// (open chunks, out-of-order buffers) is written to a checkpoint file; the
/// WAL segments it covers are deleted once sled has flushed.
pub(crate) fn checkpoint(db: &Inner) -> Result<(), Error> {
    let started = Instant::now();
    cut_idle_chunks(db);
    flush(db)?;
    let mut recs: Vec<Vec<u8>> = Vec::new();
    let pending;
    let seg = {
        let mut wal = db.wal.lock();
        let seg = wal.rotate()?;
        // Under the append lock: the snapshot is exactly what segments
        // before `seg` produced, and so are the series still unsaved.
        pending = db.pending_series.lock().clone();
        for (id, s) in db.head.all() {
            let s = s.lock();
            for c in &s.closed {
                let mut r = Vec::with_capacity(c.bytes.len() + 12);
                record::encode_chunk(&mut r, id, false, c.ooo, &c.bytes);
                recs.push(r);
            }
            if s.open.num_samples() > 0 {
                let b = s.open.bytes();
                let mut r = Vec::with_capacity(b.len() + 12);
                record::encode_chunk(&mut r, id, true, false, b);
                recs.push(r);
            }
            if !s.ooo.is_empty() {
                let mut r = Vec::new();
                record::encode_ooo(&mut r, id, &s.ooo);
                recs.push(r);
            }
        }
        seg
    };
    if !pending.is_empty() {
        check_room(db, (pending.len() * SERIES_BYTES) as u64)?;
        save_series(db, &pending)?;
    }
    // Series records and chunks must be durable before the WAL forgets them.
    db.store.flush()?;
    forget_saved(db, pending);
    db.wal
        .lock()
        .checkpoint(seg, recs.iter().map(Vec::as_slice))?;
    *db.last_checkpoint.lock() = Instant::now();
    inc(&db.counters.checkpoints, 1);
    tracing::info!(
        segment = seg,
        records = recs.len(),
        duration_ms = started.elapsed().as_millis() as u64,
        "WAL checkpoint written"
    );
    Ok(())
}

/// Cuts open chunks of series that have not been written to for longer than
/// a chunk may span, so their data reaches sled and memory is freed.
fn cut_idle_chunks(db: &Inner) {
    let now = db.max_time.load(Ordering::Relaxed);
    let span = db.opts.max_chunk_span;
    let mut dirty = Vec::new();
    for (id, s) in db.head.all() {
        let mut s = s.lock();
        let idle = s
            .open
            .max_time()
            .is_some_and(|t| now.saturating_sub(t) > span);
        if idle {
            s.cut_ooo();
            if s.cut_open() {
                dirty.push(id);
            }
        }
    }
    db.dirty.lock().extend(dirty);
}

/// Deletes data older than the retention time, and the oldest data while the
/// storage is larger than the retention size.
pub(crate) fn retention(db: &Inner) -> Result<(), Error> {
    let max_time = db.max_time.load(Ordering::Relaxed);
    if max_time == i64::MIN {
        return Ok(());
    }
    // Deleting writes to sled too: not on a disk without room. Nothing is
    // lost by waiting.
    if let Err(e) = check_room(db, 0) {
        tracing::debug!(error = %e, "retention postponed");
        return Ok(());
    }
    let mut cutoff = db
        .opts
        .retention
        .map_or(i64::MIN, |r| max_time.saturating_sub(r));
    let mut affected = Vec::new();
    let mut deleted = 0u64;
    if cutoff > i64::MIN {
        loop {
            let (count, ids, _) = db.store.delete_before(cutoff, 10_000)?;
            if count == 0 {
                break;
            }
            deleted += count;
            affected.extend(ids);
        }
    }
    if let Some(limit) = db.opts.retention_size {
        let size = || db.store.size_on_disk() + db.wal.lock().size_bytes();
        let mut excess = size().saturating_sub(limit);
        while excess > 0 {
            let Some(oldest) = db.store.oldest_chunk_maxt()? else {
                break;
            };
            let (count, ids, bytes) = db.store.delete_before(oldest.saturating_add(1), 1_000)?;
            if count == 0 {
                break;
            }
            cutoff = cutoff.max(oldest.saturating_add(1));
            deleted += count;
            affected.extend(ids);
            excess = excess.saturating_sub(bytes.max(1));
        }
    }
    affected.sort_unstable();
    affected.dedup();
    inc(&db.counters.retention_chunks_deleted, deleted);
    // Series are removed under the append lock, so no append can land in a
    // series that is being dropped.
    let _appends = db.wal.lock();
    // Series whose newest sample is older than the cutoff go whole, with
    // whatever the head still holds of them.
    let mut doomed = Vec::new();
    for (id, s) in db.head.all() {
        if s.lock().maxt < cutoff {
            db.store.delete_series_chunks(id)?;
            doomed.push(id);
        }
    }
    for id in affected {
        match db.store.first_chunk(id)? {
            Some(mint) => {
                db.store.set_span_start(id, mint)?;
                if let Some(s) = db.head.get(id) {
                    let mut s = s.lock();
                    s.mint = s.mint.max(mint);
                }
            }
            None => {
                let empty = db.head.get(id).is_none_or(|s| {
                    let s = s.lock();
                    s.num_samples() == 0 && s.closed.is_empty()
                });
                if empty {
                    doomed.push(id);
                }
            }
        }
    }
    doomed.sort_unstable();
    doomed.dedup();
    db.store.delete_series(&doomed)?;
    if !doomed.is_empty() {
        // Durable before the head forgets them: a sled that failed and is
        // reopened must not bring back series the head no longer has.
        db.store.flush()?;
    }
    db.pending_series
        .lock()
        .retain(|id| doomed.binary_search(id).is_err());
    for id in &doomed {
        db.head.remove(*id);
    }
    let series_deleted = doomed.len() as u64;
    inc(&db.counters.retention_series_deleted, series_deleted);
    if deleted > 0 {
        tracing::info!(
            chunks = deleted,
            series = series_deleted,
            cutoff,
            "retention deleted old data"
        );
    }
    Ok(())
}
