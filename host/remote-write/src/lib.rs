//! Prometheus remote write, sending side: every `[[remote_write]]`
//! endpoint gets a queue that tails the storage's write-ahead log and POSTs
//! what it reads as snappy-compressed protobuf `WriteRequest`s (remote-write
//! 1.0, as Prometheus 2.42 sends it).
//!
//! Per queue (see `queue`):
//!
//! - a **reader** thread tails the WAL ([`pharos_tsdb::wal::watch`]): series
//!   records give labels, to which the external labels are added (a
//!   series' own labels win) before `write_relabel_configs` run; sample
//!   records are spread over the shards by series;
//! - **shards** (tokio tasks, between `min_shards` and `max_shards`, sized
//!   every 10 s by throughput) cut batches of `max_samples_per_send` or
//!   whatever waited `batch_send_deadline`, and send one at a time with
//!   `Content-Encoding: snappy`, `Content-Type: application/x-protobuf`,
//!   `X-Prometheus-Remote-Write-Version: 0.1.0` and `User-Agent`; 5xx,
//!   network errors and (with `retry_on_http_429`) 429 are retried with
//!   exponential backoff from `min_backoff` to `max_backoff`, honouring
//!   `Retry-After`; any other 4xx drops the batch with an error log;
//! - a **progress marker** on disk holds the WAL position up to which the
//!   endpoint acknowledged everything, so a restart resumes there: nothing
//!   acknowledged is sent again, nothing unacknowledged is lost as long as
//!   the WAL still holds it. (Prometheus starts each queue at the end of
//!   the WAL instead.)
//!
//! ```no_run
//! # async fn demo(db: std::sync::Arc<pharos_tsdb::Db>, config: pharos_config::Config) -> Result<(), pharos_remote_write::Error> {
//! use pharos_remote_write::{Options, RemoteWrite};
//!
//! let mut opts = Options::new(db.dir().join("wal"), db.dir().join("remote_write"));
//! opts.series = Some(db.clone());
//! let mut rw = RemoteWrite::start(opts, &config.remote_write, &config.global.external_labels)?;
//! for q in rw.stats() {
//!     println!("{} sent {}", q.name, q.samples_sent_total);
//! }
//! // On reload: unchanged queues keep running.
//! rw.apply_config(&config.remote_write, &config.global.external_labels).await?;
//! // On shutdown, before the storage is closed:
//! rw.stop().await;
//! # Ok(())
//! # }
//! ```
//!
//! What is lost: nothing while the endpoint is down, up to a limit. Each
//! queue holds the WAL segments from its marker on (`pharos_tsdb::wal::hold`),
//! so checkpoints keep them. Past the storage's `wal_hold_max_bytes`
//! (4 GiB by default) the oldest held segments are deleted; a queue that
//! had not read them skips them, counts them in
//! [`QueueStats::wal_segments_skipped_total`] and logs it. (Prometheus
//! loses whatever its WAL truncation removes before the queue read it,
//! after about two hours.) A queue removed from the config gives its hold
//! up.

mod batch;
mod client;
mod error;
mod metrics;
mod progress;
mod queue;
mod reader;
mod series;
mod shard;
mod sharding;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pharos_config::RemoteWriteConfig;
use pharos_model::Labels;
use pharos_tsdb::wal::watch::SeriesLookup;

pub use client::REMOTE_WRITE_VERSION;
pub use error::Error;
pub use metrics::{QueueStats, SEND_DURATION_BUCKETS};
pub use pharos_tsdb::wal::watch::WalPosition;

use client::Client;
use progress::{HOLD_PREFIX, Marker};
use queue::{Queue, QueueSpec};

/// The `User-Agent` sent by default.
pub const USER_AGENT: &str = concat!("Pharos/", env!("CARGO_PKG_VERSION"));

/// Prometheus' default `--storage.remote.flush-deadline`.
pub const DEFAULT_FLUSH_DEADLINE: Duration = Duration::from_secs(60);

/// A reload gives replaced queues at most this long to flush: whatever
/// they leave unsent, their successor sends from the marker.
const RELOAD_FLUSH_DEADLINE: Duration = Duration::from_secs(5);

/// Where the queues read and keep their state.
#[derive(Clone)]
pub struct Options {
    /// The storage's WAL directory (`<data>/wal`).
    pub wal_dir: PathBuf,
    /// Where progress markers live, one file per queue
    /// (`<data>/remote_write` in the server).
    pub state_dir: PathBuf,
    /// Labels of series ids whose series record a queue did not read (the
    /// storage: [`pharos_tsdb::Db`]). Without it, samples of such series
    /// are dropped (counted in `samples_dropped_total`).
    pub series: Option<Arc<dyn SeriesLookup>>,
    /// How long [`RemoteWrite::stop`] lets queues flush.
    pub flush_deadline: Duration,
    /// How often a caught-up reader looks for new WAL records.
    pub poll_interval: Duration,
    /// Where a queue without a progress marker starts: `false` (default,
    /// as Prometheus) at the end of the WAL; `true` at the oldest segment,
    /// sending everything the WAL still holds (backfill, benchmarks).
    pub new_queues_from_oldest: bool,
    pub user_agent: String,
}

impl Options {
    /// Options with the defaults: a 1 m flush deadline, 20 ms WAL polling,
    /// `User-Agent: Pharos/<version>`, no series lookup.
    pub fn new(wal_dir: impl Into<PathBuf>, state_dir: impl Into<PathBuf>) -> Options {
        Options {
            wal_dir: wal_dir.into(),
            state_dir: state_dir.into(),
            series: None,
            flush_deadline: DEFAULT_FLUSH_DEADLINE,
            poll_interval: Duration::from_millis(20),
            new_queues_from_oldest: false,
            user_agent: USER_AGENT.to_owned(),
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("wal_dir", &self.wal_dir)
            .field("state_dir", &self.state_dir)
            .field("series", &self.series.is_some())
            .field("flush_deadline", &self.flush_deadline)
            .field("poll_interval", &self.poll_interval)
            .field("new_queues_from_oldest", &self.new_queues_from_oldest)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

/// The running remote-write queues. Created inside a tokio runtime, whose
/// tasks run the shards (each queue's WAL reader is a thread of its own).
pub struct RemoteWrite {
    opts: Options,
    rt: tokio::runtime::Handle,
    queues: Vec<Queue>,
}

impl std::fmt::Debug for RemoteWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteWrite")
            .field("opts", &self.opts)
            .field(
                "queues",
                &self.queues.iter().map(|q| &q.spec.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl RemoteWrite {
    /// Starts a queue per config. Fails, starting nothing, if an endpoint's
    /// client cannot be built, two queues share a name, or the WAL or the
    /// state directory cannot be used.
    pub fn start(
        opts: Options,
        configs: &[RemoteWriteConfig],
        external_labels: &Labels,
    ) -> Result<RemoteWrite, Error> {
        let rt = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let mut rw = RemoteWrite {
            opts,
            rt,
            queues: Vec::new(),
        };
        let specs = specs(configs, external_labels)?;
        // Holds of queues no longer configured keep nothing any more.
        let wanted: Vec<String> = specs
            .iter()
            .map(|s| Marker::new(&rw.opts.state_dir, &s.key, &s.name, "").hold_name())
            .collect();
        for (name, _) in pharos_tsdb::wal::hold::list(&rw.opts.wal_dir) {
            if name.starts_with(HOLD_PREFIX) && !wanted.contains(&name) {
                release_hold(&rw.opts.wal_dir, &name);
            }
        }
        let clients = specs
            .iter()
            .map(|s| Client::new(&s.name, &s.cfg, &rw.opts.user_agent))
            .collect::<Result<Vec<_>, _>>()?;
        for (spec, client) in specs.into_iter().zip(clients) {
            let q = Queue::start(spec, client, &rw.opts, rw.opts.series.clone(), &rw.rt)?;
            rw.queues.push(q);
        }
        Ok(rw)
    }

    /// Applies a reloaded config: queues whose config (and the external
    /// labels) did not change keep running untouched; changed and removed
    /// ones stop (flushing for up to 5 s; changed ones resume from their
    /// marker); new ones start at the end of the WAL. Every endpoint is
    /// checked before anything changes: on error the running queues stay.
    pub async fn apply_config(
        &mut self,
        configs: &[RemoteWriteConfig],
        external_labels: &Labels,
    ) -> Result<(), Error> {
        let specs = specs(configs, external_labels)?;
        let unchanged = |s: &QueueSpec| {
            self.queues
                .iter()
                .any(|q| q.spec.key == s.key && q.spec.fingerprint == s.fingerprint)
        };
        let mut to_start = Vec::new();
        for s in specs.iter().filter(|s| !unchanged(s)) {
            to_start.push((
                s.clone(),
                Client::new(&s.name, &s.cfg, &self.opts.user_agent)?,
            ));
        }
        let (keep, retire): (Vec<Queue>, Vec<Queue>) =
            std::mem::take(&mut self.queues).into_iter().partition(|q| {
                specs
                    .iter()
                    .any(|s| q.spec.key == s.key && q.spec.fingerprint == s.fingerprint)
            });
        self.queues = keep;
        let removed: Vec<String> = retire
            .iter()
            .filter(|q| !specs.iter().any(|s| s.key == q.spec.key))
            .map(Queue::hold_name)
            .collect();
        let deadline =
            tokio::time::Instant::now() + self.opts.flush_deadline.min(RELOAD_FLUSH_DEADLINE);
        finish_all(retire, deadline).await;
        for name in removed {
            release_hold(&self.opts.wal_dir, &name);
        }
        let mut first_err = None;
        for (spec, client) in to_start {
            match Queue::start(spec, client, &self.opts, self.opts.series.clone(), &self.rt) {
                Ok(q) => self.queues.push(q),
                Err(e) => {
                    tracing::error!(error = %e, "remote write: cannot start queue");
                    first_err.get_or_insert(e);
                }
            }
        }
        // Keep the config's order.
        self.queues
            .sort_by_key(|q| specs.iter().position(|s| s.key == q.spec.key));
        first_err.map_or(Ok(()), Err)
    }

    /// Stops every queue: reading stops, shards flush for up to
    /// [`Options::flush_deadline`], then unsent batches are abandoned
    /// (they stay in the WAL, and the markers say where to resume). Call
    /// before closing the storage: closing it checkpoints the WAL away.
    pub async fn stop(mut self) {
        let deadline = tokio::time::Instant::now() + self.opts.flush_deadline;
        finish_all(std::mem::take(&mut self.queues), deadline).await;
    }

    /// A snapshot of every queue's counters, in config order.
    pub fn stats(&self) -> Vec<QueueStats> {
        self.queues.iter().map(Queue::stats).collect()
    }
}

/// Gives up a removed queue's hold on the WAL (its marker stays).
fn release_hold(wal_dir: &std::path::Path, name: &str) {
    match pharos_tsdb::wal::hold::release(wal_dir, name) {
        Ok(()) => tracing::info!(
            hold = name,
            "remote write: released the WAL hold of a removed queue"
        ),
        Err(error) => {
            tracing::warn!(hold = name, %error, "remote write: cannot release a WAL hold")
        }
    }
}

fn specs(configs: &[RemoteWriteConfig], external: &Labels) -> Result<Vec<QueueSpec>, Error> {
    let specs: Vec<QueueSpec> = configs
        .iter()
        .map(|c| QueueSpec::new(c, external))
        .collect();
    for (i, s) in specs.iter().enumerate() {
        if specs[..i].iter().any(|o| o.key == s.key) {
            return Err(Error::DuplicateQueue(s.key.clone()));
        }
    }
    Ok(specs)
}

/// Resolves once the flag is set (or its sender is gone).
pub(crate) async fn until_set(flag: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = flag.wait_for(|set| *set).await;
}

async fn finish_all(queues: Vec<Queue>, deadline: tokio::time::Instant) {
    for q in &queues {
        q.begin_stop();
    }
    let joins: Vec<_> = queues
        .into_iter()
        .map(|q| tokio::spawn(q.finish(deadline)))
        .collect();
    for j in joins {
        let _ = j.await;
    }
}
