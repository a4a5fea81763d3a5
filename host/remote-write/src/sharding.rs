//! How many shards a queue needs. Each shard has one request in flight, so
//! a shard moves `1 / seconds_per_sample` samples a second; the queue needs
//! enough shards for the samples arriving from the WAL plus the backlog,
//! cleared over the next interval. The inputs are smoothed (EWMA), the
//! answer is kept within `min_shards..=max_shards`, and changes within 30%
//! of the current count are ignored, which is the shape of Prometheus'
//! `calculateDesiredShards` (not its code).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pharos_config::QueueConfig;

use crate::metrics::Counters;

/// Weight of the newest interval in the smoothed rates.
const EWMA_WEIGHT: f64 = 0.2;
/// The backlog should be gone within this long.
const CATCH_UP_SECS: f64 = 10.0;
/// Changes smaller than this fraction of the current count are ignored.
const DEAD_BAND: f64 = 0.3;

/// Throughput measured between resharding decisions.
#[derive(Debug)]
pub(crate) struct Rates {
    last: Instant,
    samples_in: u64,
    samples_out: u64,
    send_nanos: u64,
    in_rate: Option<f64>,
    secs_per_sample: Option<f64>,
}

impl Rates {
    pub(crate) fn new(now: Instant, c: &Counters) -> Self {
        Rates {
            last: now,
            samples_in: c.samples_in.load(Ordering::Relaxed),
            samples_out: out(c),
            send_nanos: c.send_nanos.load(Ordering::Relaxed),
            in_rate: None,
            secs_per_sample: None,
        }
    }

    pub(crate) fn since(&self) -> Duration {
        self.last.elapsed()
    }

    /// Takes the counters' changes since the last call and returns the
    /// shard count they call for.
    pub(crate) fn update(
        &mut self,
        now: Instant,
        c: &Counters,
        cfg: &QueueConfig,
        current: usize,
    ) -> usize {
        let dt = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        let samples_in = c.samples_in.load(Ordering::Relaxed);
        let samples_out = out(c);
        let send_nanos = c.send_nanos.load(Ordering::Relaxed);
        let d_in = samples_in.saturating_sub(self.samples_in) as f64;
        let d_out = samples_out.saturating_sub(self.samples_out) as f64;
        let d_nanos = send_nanos.saturating_sub(self.send_nanos) as f64;
        (self.samples_in, self.samples_out, self.send_nanos) =
            (samples_in, samples_out, send_nanos);
        if dt > 0.0 {
            self.in_rate = Some(ewma(self.in_rate, d_in / dt));
        }
        if d_out > 0.0 {
            self.secs_per_sample = Some(ewma(self.secs_per_sample, d_nanos / 1e9 / d_out));
        }
        let pending = c.samples_pending.load(Ordering::Relaxed).max(0) as f64;
        match (self.in_rate, self.secs_per_sample) {
            (Some(r), Some(s)) => {
                desired_shards(r, s, pending, current, cfg.min_shards, cfg.max_shards)
            }
            _ => current,
        }
    }
}

fn out(c: &Counters) -> u64 {
    c.samples_sent.load(Ordering::Relaxed) + c.samples_failed.load(Ordering::Relaxed)
}

fn ewma(prev: Option<f64>, x: f64) -> f64 {
    match prev {
        Some(p) => p + EWMA_WEIGHT * (x - p),
        None => x,
    }
}

/// The shard count for `in_rate` samples/s arriving, `secs_per_sample` of
/// sending time per sample, `pending` samples queued.
pub(crate) fn desired_shards(
    in_rate: f64,
    secs_per_sample: f64,
    pending: f64,
    current: usize,
    min: u64,
    max: u64,
) -> usize {
    let min = min.max(1) as f64;
    let max = (max as f64).max(min);
    let want = secs_per_sample * (in_rate + pending / CATCH_UP_SECS);
    let cur = current as f64;
    if (want - cur).abs() <= DEAD_BAND * cur && (min..=max).contains(&cur) {
        return current;
    }
    want.ceil().clamp(min, max) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn desired_shards_follow_throughput_within_bounds() {
        // 10k samples/s at 1 ms per 1000 samples: one shard is plenty.
        assert_eq!(desired_shards(10_000.0, 1e-6, 0.0, 1, 1, 50), 1);
        // 100k/s at 0.1 ms per sample needs 10 shards.
        assert_eq!(desired_shards(100_000.0, 1e-4, 0.0, 1, 1, 50), 10);
        // Within 30% of the current count: no change.
        assert_eq!(desired_shards(100_000.0, 1e-4, 0.0, 12, 1, 50), 12);
        assert_eq!(desired_shards(100_000.0, 1e-4, 0.0, 8, 1, 50), 8);
        // A backlog adds what clears it in 10 s.
        assert_eq!(desired_shards(0.0, 1e-4, 1_000_000.0, 1, 1, 50), 10);
        // Bounds.
        assert_eq!(desired_shards(1e9, 1e-3, 0.0, 1, 1, 50), 50);
        assert_eq!(desired_shards(0.0, 1e-3, 0.0, 5, 2, 50), 2);
        assert_eq!(desired_shards(0.0, 0.0, 0.0, 1, 3, 50), 3);
    }

    #[test]
    fn rates_come_from_counter_changes() {
        let c = Counters::new();
        let t0 = Instant::now();
        let mut r = Rates::new(t0, &c);
        let cfg = QueueConfig::default();
        // Nothing sent yet: keep the current count.
        c.samples_in.store(50_000, Ordering::Relaxed);
        assert_eq!(r.update(t0 + Duration::from_secs(10), &c, &cfg, 1), 1);
        // 5000/s in; sending took 2 s for 10k samples (0.2 ms each): 1 shard.
        c.samples_in.store(100_000, Ordering::Relaxed);
        c.samples_sent.store(10_000, Ordering::Relaxed);
        c.send_nanos.store(2_000_000_000, Ordering::Relaxed);
        assert_eq!(r.update(t0 + Duration::from_secs(20), &c, &cfg, 1), 1);
        // Sending got 10x slower (2 ms per sample): 10 shards.
        c.samples_in.store(150_000, Ordering::Relaxed);
        c.samples_sent.store(20_000, Ordering::Relaxed);
        c.send_nanos.store(22_000_000_000, Ordering::Relaxed);
        let d = r.update(t0 + Duration::from_secs(30), &c, &cfg, 1);
        assert!((2..=10).contains(&d), "{d}");
    }
}
