//! Background work: persisting full chunks, checkpoints that truncate the
//! WAL, and retention.

use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::Inner;
use crate::Error;
use crate::head::ClosedChunk;
use crate::metrics::inc;
use crate::record;
use crate::store::ChunkWrite;

/// The maintenance thread's loop; returns when `stop` says so.
pub(crate) fn run(db: &Inner, stop: &mpsc::Receiver<()>) {
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
        if let Err(error) = flush(db) {
            tracing::error!(%error, "flushing chunks failed");
        }
        // Appends reach the OS before they are acknowledged; this bounds what
        // a machine (not process) crash can take to one tick.
        if let Err(error) = db.wal.lock().sync() {
            tracing::error!(%error, "syncing the WAL failed");
        }
        let wal_size = db.wal.lock().live_bytes();
        let due = db.last_checkpoint.lock().elapsed() >= db.opts.checkpoint_interval
            || wal_size >= db.opts.checkpoint_wal_size;
        if due && let Err(error) = checkpoint(db) {
            tracing::error!(%error, "checkpoint failed");
        }
        if last_retention.elapsed() >= db.opts.retention_interval {
            last_retention = Instant::now();
            if let Err(error) = retention(db) {
                tracing::error!(%error, "retention failed");
            }
        }
    }
}

/// Writes every full chunk in the head to sled, then drops it from memory.
pub(crate) fn flush(db: &Inner) -> Result<(), Error> {
    let pending = std::mem::take(&mut *db.pending_series.lock());
    save_series(db, pending)?;
    let mut ids = std::mem::take(&mut *db.dirty.lock());
    ids.sort_unstable();
    ids.dedup();
    for group in ids.chunks(4096) {
        let mut taken: Vec<(u64, Vec<ClosedChunk>)> = Vec::with_capacity(group.len());
        for id in group {
            if let Some(s) = db.head.get(*id) {
                let s = s.lock();
                if !s.closed.is_empty() {
                    taken.push((*id, s.closed.clone()));
                }
            }
        }
        let mut writes = Vec::new();
        for (id, chunks) in &taken {
            for c in chunks {
                let seq = if c.ooo { db.store.generate_id()? } else { 0 };
                writes.push(ChunkWrite {
                    id: *id,
                    chunk: c,
                    seq,
                });
            }
        }
        if let Err(e) = db.store.write_chunks(&writes) {
            // Keep them in memory and try again on the next flush.
            db.dirty.lock().extend(group);
            return Err(e);
        }
        inc(&db.counters.chunks_persisted, writes.len() as u64);
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
    }
    Ok(())
}

/// Writes new series to sled; on failure they stay pending for the next try.
fn save_series(db: &Inner, ids: Vec<u64>) -> Result<(), Error> {
    // In slices: after a burst of new series (a first scrape of many
    // targets) one batch of all their keys was a memory peak of its own.
    for (i, part) in ids.chunks(SAVE_SERIES_BATCH).enumerate() {
        let series: Vec<(u64, Box<[u8]>)> = part
            .iter()
            .filter_map(|id| db.head.get(*id).map(|s| (*id, s.lock().key.clone())))
            .collect();
        if let Err(e) = db
            .store
            .put_series(series.iter().map(|(id, k)| (*id, &k[..])))
        {
            db.pending_series
                .lock()
                .extend_from_slice(&ids[i * SAVE_SERIES_BATCH..]);
            return Err(e);
        }
    }
    Ok(())
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
        pending = std::mem::take(&mut *db.pending_series.lock());
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
    save_series(db, pending)?;
    // Series records and chunks must be durable before the WAL forgets them.
    db.store.flush()?;
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
