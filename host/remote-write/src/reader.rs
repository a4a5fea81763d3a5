//! The reader of one queue: a thread that tails the WAL (the queue's
//! Prometheus `WAL watcher`), turns series records into cached label sets
//! and sample records into queued samples, hands those to the shards
//! (waiting while a shard is at `capacity`), and every few seconds decides
//! how many shards the throughput needs.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use pharos_tsdb::wal::watch::{WalPosition, WalRecord, WalTail, decode};
use tokio::sync::watch;

use crate::batch::Pending;
use crate::metrics::{Counters, add};
use crate::progress::Progress;
use crate::series::{Lookup, SeriesCache};
use crate::shard::{self, SendContext, ShardHandle};
use crate::sharding::Rates;

/// How often the shard count is reconsidered (Prometheus: 10s).
const RESHARD_EVERY: Duration = Duration::from_secs(10);

/// Longest sleep between looks at the stop flag.
const STOP_CHECK: Duration = Duration::from_millis(20);

/// Wait after a WAL read error before trying again.
const ERROR_WAIT: Duration = Duration::from_secs(1);

pub(crate) struct Reader {
    pub(crate) tail: WalTail,
    pub(crate) cache: SeriesCache,
    pub(crate) send: Arc<SendContext>,
    pub(crate) rt: tokio::runtime::Handle,
    pub(crate) poll: Duration,
    pub(crate) stop: watch::Receiver<bool>,
    pub(crate) read_pos: Arc<Mutex<WalPosition>>,
}

impl Reader {
    fn progress(&self) -> &Progress {
        &self.send.progress
    }

    fn counters(&self) -> &Counters {
        &self.send.counters
    }

    /// Runs until the queue stops; then closes the shards (they flush) and
    /// waits for them.
    pub(crate) fn run(mut self) {
        let cfg = self.send.cfg.clone();
        let capacity = usize::try_from(cfg.capacity).unwrap_or(usize::MAX).max(1);
        let mut shards: Vec<ShardHandle> = (0..cfg.min_shards.max(1))
            .map(|_| shard::spawn(&self.rt, self.send.clone(), capacity))
            .collect();
        self.counters()
            .shards
            .store(shards.len() as u64, Ordering::Relaxed);
        self.counters()
            .shards_desired
            .store(shards.len() as u64, Ordering::Relaxed);
        let mut segment = self.tail.position().segment;
        let mut rates = Rates::new(Instant::now(), self.counters());
        loop {
            if *self.stop.borrow() {
                break;
            }
            let next = self.tail.next_record().map(|r| r.map(decode));
            let end = self.tail.position();
            *self.read_pos.lock() = end;
            let stats = self.tail.stats();
            self.counters()
                .wal_segments_skipped
                .store(stats.segments_skipped, Ordering::Relaxed);
            self.counters()
                .wal_corrupt_segments
                .store(stats.corrupt_segments, Ordering::Relaxed);
            if end.segment != segment {
                segment = end.segment;
                self.cache.forget_idle(segment);
            }
            let ok = match next {
                Ok(Some(Ok(WalRecord::Series(series)))) => {
                    for (id, labels) in &series {
                        self.cache.store(*id, labels, segment);
                    }
                    self.counters()
                        .series_cached
                        .store(self.cache.len() as u64, Ordering::Relaxed);
                    self.progress().push(end, 0);
                    true
                }
                Ok(Some(Ok(WalRecord::Samples(samples)))) => {
                    self.dispatch(end, &samples, &shards, capacity)
                }
                Ok(Some(Ok(WalRecord::Other))) => {
                    self.progress().push(end, 0);
                    true
                }
                Ok(Some(Err(error))) => {
                    tracing::warn!(queue = %self.send.queue, position = %end, %error, "remote write: skipping an undecodable WAL record");
                    self.progress().push(end, 0);
                    true
                }
                Ok(None) => !self.wait(self.poll),
                Err(error) => {
                    tracing::error!(queue = %self.send.queue, %error, "remote write: reading the WAL failed");
                    !self.wait(ERROR_WAIT)
                }
            };
            if !ok {
                break;
            }
            if rates.since() >= RESHARD_EVERY {
                let now = Instant::now();
                let desired = rates.update(now, self.counters(), &cfg, shards.len());
                self.counters()
                    .shards_desired
                    .store(desired as u64, Ordering::Relaxed);
                if desired != shards.len() && self.should_reshard(&cfg) {
                    tracing::info!(queue = %self.send.queue, from = shards.len(), to = desired, "remote write: resharding");
                    close(&self.rt, std::mem::take(&mut shards));
                    shards = (0..desired)
                        .map(|_| shard::spawn(&self.rt, self.send.clone(), capacity))
                        .collect();
                    self.counters()
                        .shards
                        .store(shards.len() as u64, Ordering::Relaxed);
                }
            }
        }
        close(&self.rt, shards);
    }

    /// Resharding waits for the shards to flush, so only when sends are
    /// going through (as Prometheus: a success within two batch deadlines).
    fn should_reshard(&self, cfg: &pharos_config::QueueConfig) -> bool {
        let recent = cfg
            .batch_send_deadline
            .saturating_mul(2)
            .max(Duration::from_secs(1));
        self.send
            .last_success
            .lock()
            .is_some_and(|t| t.elapsed() <= recent)
    }

    /// Queues the samples of the record ending at `end`. Returns false if
    /// the queue stopped while waiting for room.
    fn dispatch(
        &mut self,
        end: WalPosition,
        samples: &[(u64, pharos_model::Sample)],
        shards: &[ShardHandle],
        capacity: usize,
    ) -> bool {
        let seq = self.progress().open(end);
        let mut groups: Vec<Vec<Pending>> = (0..shards.len()).map(|_| Vec::new()).collect();
        let mut dropped = 0u64;
        let mut max_t = i64::MIN;
        for &(id, s) in samples {
            match self.cache.get(id, end.segment) {
                Lookup::Send(series) => {
                    max_t = max_t.max(s.t);
                    groups[shard_of(id, shards.len())].push(Pending {
                        series,
                        t: s.t,
                        v: s.v,
                        seq,
                    });
                }
                Lookup::Dropped => dropped += 1,
                Lookup::Unknown => {
                    dropped += 1;
                    tracing::debug!(queue = %self.send.queue, series = id, "remote write: sample for an unknown series id");
                }
            }
        }
        let n: usize = groups.iter().map(Vec::len).sum();
        let c = self.counters();
        add(&c.samples_dropped, dropped);
        add(&c.samples_in, n as u64);
        c.samples_pending.fetch_add(n as i64, Ordering::Relaxed);
        c.highest_read_ts.fetch_max(max_t, Ordering::Relaxed);
        c.series_cached
            .store(self.cache.len() as u64, Ordering::Relaxed);
        self.progress()
            .set(seq, u32::try_from(n).unwrap_or(u32::MAX - 1));
        for (shard, mut group) in shards.iter().zip(groups) {
            while !group.is_empty() {
                let rest = group.split_off(group.len().min(capacity));
                let part = std::mem::replace(&mut group, rest);
                let Some(permits) = self.acquire(shard, part.len()) else {
                    return false;
                };
                permits.forget();
                if shard.tx.send(part).is_err() {
                    // The shard ended (aborted): the queue is stopping.
                    return false;
                }
            }
        }
        true
    }

    /// Waits for room for `n` samples in `shard`; `None` if the queue
    /// stopped first.
    fn acquire(
        &mut self,
        shard: &ShardHandle,
        n: usize,
    ) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let permits = shard.permits.clone();
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        let mut stop = self.stop.clone();
        self.rt.block_on(async move {
            tokio::select! {
                p = permits.acquire_many_owned(n) => p.ok(),
                () = crate::until_set(&mut stop) => None,
            }
        })
    }

    /// Sleeps for `d`; true if the queue was asked to stop meanwhile.
    /// A plain thread sleep in short steps: it needs no runtime driver, so
    /// it works even while the runtime shuts down.
    fn wait(&mut self, d: Duration) -> bool {
        let until = Instant::now() + d;
        loop {
            if *self.stop.borrow() {
                return true;
            }
            let now = Instant::now();
            if now >= until {
                return false;
            }
            std::thread::sleep((until - now).min(STOP_CHECK));
        }
    }
}

/// The shard for series `id`: a multiplicative hash, so consecutive ids
/// spread evenly.
pub(crate) fn shard_of(id: u64, shards: usize) -> usize {
    let h = id.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    (h % shards.max(1) as u64) as usize
}

/// Closes the shards' inputs (each flushes what it holds) and waits for
/// them to end.
fn close(rt: &tokio::runtime::Handle, shards: Vec<ShardHandle>) {
    let joins: Vec<_> = shards
        .into_iter()
        .map(|s| {
            drop(s.tx);
            s.join
        })
        .collect();
    rt.block_on(async move {
        for j in joins {
            let _ = j.await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_stable_and_spread() {
        let mut counts = [0usize; 4];
        for id in 0..4000 {
            let s = shard_of(id, 4);
            assert_eq!(s, shard_of(id, 4));
            counts[s] += 1;
        }
        assert!(
            counts.iter().all(|&c| (800..1200).contains(&c)),
            "{counts:?}"
        );
        assert_eq!(shard_of(12345, 1), 0);
    }
}
