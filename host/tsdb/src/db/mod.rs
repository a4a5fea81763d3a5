//! The storage itself: opens sled and the WAL, replays, appends, and runs the
//! background work (flushing chunks, checkpoints, retention).

mod append;
mod damage;
#[cfg(test)]
mod fault_tests;
mod health;
mod maintenance;
mod query;
mod replay;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Instant;

use parking_lot::Mutex;

use crate::head::Head;
use crate::metrics::{Counters, DbMetrics};
use crate::store::Store;
use crate::wal::{Wal, WalOptions};
use crate::{DbOptions, Error};

pub(crate) struct Inner {
    pub(crate) opts: DbOptions,
    pub(crate) head: Head,
    pub(crate) store: Store,
    /// The WAL; its lock is the append lock: appends, and the rotation a
    /// checkpoint starts with, are serialized through it.
    pub(crate) wal: Mutex<Wal>,
    /// New series the WAL has but sled not yet: saved by the flusher, off
    /// the append path, and always before a checkpoint truncates the WAL.
    pub(crate) pending_series: Mutex<Vec<u64>>,
    /// Series that have full chunks waiting for the flusher.
    pub(crate) dirty: Mutex<Vec<u64>>,
    pub(crate) next_id: AtomicU64,
    pub(crate) min_time: AtomicI64,
    pub(crate) max_time: AtomicI64,
    pub(crate) counters: Counters,
    pub(crate) closed: AtomicBool,
    pub(crate) last_checkpoint: Mutex<Instant>,
    pub(crate) health: health::Health,
    /// Makes the maintenance thread's next round panic (tests).
    #[cfg(test)]
    pub(crate) panic_next_tick: AtomicBool,
}

impl Inner {
    pub(crate) fn note_time(&self, t: i64) {
        self.min_time.fetch_min(t, Ordering::Relaxed);
        self.max_time.fetch_max(t, Ordering::Relaxed);
    }
}

struct Worker {
    stop: mpsc::Sender<()>,
    handle: JoinHandle<()>,
}

/// The on-disk storage: a directory with `wal/` and `sled/`.
pub struct Db {
    pub(crate) inner: Arc<Inner>,
    worker: Mutex<Option<Worker>>,
    dir: PathBuf,
}

impl Db {
    /// Opens (or creates) the storage in `dir`, replays the WAL and starts
    /// the background work.
    pub fn open(dir: &Path, opts: DbOptions) -> Result<Db, Error> {
        let db = Self::open_without_worker(dir, opts)?;
        db.start_worker();
        Ok(db)
    }

    /// Like [`Db::open`] with no background thread: flushes, checkpoints and
    /// retention run only when called. For tests and tools.
    pub fn open_without_worker(dir: &Path, opts: DbOptions) -> Result<Db, Error> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let started = Instant::now();
        let sled = dir.join("sled");
        let store = Store::open(&sled, opts.cache_bytes).map_err(|e| damage::sled(dir, e))?;
        let head = Head::default();
        let mut state = replay::State::new(&head, &store, &opts);
        state.load_persisted().map_err(|e| damage::sled(dir, e))?;
        let (wal, report) = Wal::open(
            &dir.join("wal"),
            WalOptions {
                segment_size: opts.wal_segment_size,
                hold_max_bytes: opts.wal_hold_max_bytes,
            },
            |rec| state.apply(rec).map_err(Into::into),
        )
        .map_err(|e| damage::wal(dir, e))?;
        let recovered = state.finish()?;
        tracing::info!(
            series = head.num_series(),
            samples = recovered.samples,
            wal_records = report.records,
            wal_dropped_bytes = report.dropped_bytes,
            duration_ms = started.elapsed().as_millis() as u64,
            "storage recovered"
        );
        let inner = Inner {
            head,
            store,
            wal: Mutex::new(wal),
            dirty: Mutex::new(recovered.dirty),
            pending_series: Mutex::new(recovered.unsaved),
            next_id: AtomicU64::new(recovered.next_id),
            min_time: AtomicI64::new(recovered.min_time),
            max_time: AtomicI64::new(recovered.max_time),
            counters: Counters::default(),
            closed: AtomicBool::new(false),
            last_checkpoint: Mutex::new(Instant::now()),
            health: health::Health::default(),
            #[cfg(test)]
            panic_next_tick: AtomicBool::new(false),
            opts,
        };
        Ok(Db {
            inner: Arc::new(inner),
            worker: Mutex::new(None),
            dir: dir.to_path_buf(),
        })
    }

    fn start_worker(&self) {
        let (stop, rx) = mpsc::channel();
        let inner = self.inner.clone();
        let handle = std::thread::Builder::new()
            .name("tsdb-maintenance".into())
            .spawn(move || maintenance::run(&inner, &rx));
        match handle {
            Ok(handle) => *self.worker.lock() = Some(Worker { stop, handle }),
            Err(error) => tracing::error!(%error, "cannot start the storage maintenance thread"),
        }
    }

    /// Writes full chunks to sled now.
    pub fn flush(&self) -> Result<(), Error> {
        maintenance::flush_noting(&self.inner)
    }

    /// Persists what the head holds and truncates the WAL behind it.
    pub fn checkpoint(&self) -> Result<(), Error> {
        maintenance::checkpoint_noting(&self.inner)
    }

    /// Applies time and size retention now.
    pub fn apply_retention(&self) -> Result<(), Error> {
        maintenance::retention_noting(&self.inner)
    }

    /// What keeps the storage from working fully right now, one line each
    /// (appends refused, flushes or checkpoints failing, sled waiting to be
    /// reopened, a panic in the maintenance thread); empty when healthy.
    /// Each clears when the same work next succeeds.
    pub fn problems(&self) -> Vec<String> {
        self.inner.health.list()
    }

    /// Stops background work and leaves everything on disk (a checkpoint), so
    /// the next start replays little. Appends fail afterwards.
    pub fn close(&self) -> Result<(), Error> {
        self.stop_worker();
        if self.inner.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        maintenance::checkpoint_noting(&self.inner)?;
        self.inner.store.flush()?;
        tracing::info!(dir = %self.dir.display(), "storage closed");
        Ok(())
    }

    /// Counters and sizes.
    pub fn metrics(&self) -> DbMetrics {
        let mut m = self.inner.counters.snapshot();
        m.head_series = self.inner.head.num_series() as u64;
        m.wal_bytes = self.inner.wal.lock().size_bytes();
        m.sled_bytes = self.inner.store.size_on_disk();
        m
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Db {
    /// Stops the maintenance thread and waits for it.
    fn stop_worker(&self) {
        if let Some(w) = self.worker.lock().take() {
            let _ = w.stop.send(());
            let _ = w.handle.join();
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        self.stop_worker();
    }
}
