//! What the API shows about a target: health, last error, last scrape,
//! its duration, and the target's metric metadata. Written by the target's
//! scrape loop, read by `/api/v1/targets` and the metadata endpoints.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use parking_lot::Mutex;

use crate::cache::MetricMetadata;

/// Prometheus' target health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Health {
    #[default]
    Unknown,
    Up,
    Down,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Up => "up",
            Health::Down => "down",
        }
    }
}

/// The state of one target.
#[derive(Debug, Clone, Default)]
pub struct TargetStatus {
    pub health: Health,
    /// Empty when the last scrape succeeded.
    pub last_error: String,
    /// When the last scrape started; `None` before the first.
    pub last_scrape: Option<SystemTime>,
    pub last_scrape_duration: Duration,
    /// Metadata of the last successful scrape, sorted by metric.
    pub metadata: Arc<[MetricMetadata]>,
}

/// Shared between a scrape loop and readers.
#[derive(Debug, Default)]
pub(crate) struct SharedStatus(Mutex<TargetStatus>);

impl SharedStatus {
    pub(crate) fn get(&self) -> TargetStatus {
        self.0.lock().clone()
    }

    pub(crate) fn update(&self, f: impl FnOnce(&mut TargetStatus)) {
        f(&mut self.0.lock());
    }
}
