//! `[server.rate_limit]`: one token bucket over every request, as
//! exporter-toolkit's (`golang.org/x/time/rate`): a request every
//! `interval` on average and up to `burst` at once; past it the answer is
//! 429, before authentication.

use std::num::NonZeroU32;

use governor::clock::DefaultClock;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use pharos_config::RateLimit;

/// The bucket and the settings it was made from.
pub struct Bucket {
    limit: RateLimit,
    limiter: RateLimiter<NotKeyed, InMemoryState, DefaultClock>,
}

impl Bucket {
    /// A full bucket for `limit`; `None` when it limits nothing (the
    /// config refuses a zero interval or burst before this).
    pub fn new(limit: RateLimit) -> Option<Bucket> {
        let burst = NonZeroU32::new(limit.burst)?;
        let quota = Quota::with_period(limit.interval)?.allow_burst(burst);
        Some(Bucket {
            limit,
            limiter: RateLimiter::direct(quota),
        })
    }

    /// Takes a token if one is left.
    pub fn allows(&self) -> bool {
        self.limiter.check().is_ok()
    }

    pub fn limit(&self) -> RateLimit {
        self.limit
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_burst_then_one_per_interval() {
        let bucket = Bucket::new(RateLimit {
            interval: Duration::from_millis(200),
            burst: 3,
        })
        .expect("a limit");
        assert!((0..3).all(|_| bucket.allows()));
        assert!(!bucket.allows());
        std::thread::sleep(Duration::from_millis(250));
        assert!(bucket.allows());
        assert!(!bucket.allows());
    }

    #[test]
    fn zero_limits_nothing() {
        let zero = |interval, burst| Bucket::new(RateLimit { interval, burst }).is_none();
        assert!(zero(Duration::ZERO, 3));
        assert!(zero(Duration::from_secs(1), 0));
    }
}
