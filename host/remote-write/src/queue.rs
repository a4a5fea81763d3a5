//! One queue: the running pieces for one `[[remote_write]]` endpoint (a
//! reader thread, its shards, a task that saves the progress marker), and
//! how it starts and stops.
//!
//! A queue with a progress marker resumes there; a new one starts at the
//! end of the WAL, as Prometheus' queues do, and writes its marker at once
//! so a crash before the first acknowledgement does not skip anything.
//! Stopping stops reading, lets the shards flush what they hold, and after
//! the deadline abandons what is still unsent; the marker keeps the
//! acknowledged position, so the next start sends the rest.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use pharos_config::RemoteWriteConfig;
use pharos_model::Labels;
use pharos_tsdb::wal::watch::{SeriesLookup, WalPosition, WalTail};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::client::Client;
use crate::metrics::{Counters, QueueStats};
use crate::progress::{Marker, Progress};
use crate::reader::Reader;
use crate::series::SeriesCache;
use crate::shard::SendContext;
use crate::{Error, Options};

/// How often the progress marker is written while it changes: after a
/// crash, what the endpoint acknowledged within this long is sent again.
const SAVE_EVERY: Duration = Duration::from_millis(250);

/// What identifies a queue and decides whether a reload restarts it.
/// Everything here but `cfg` may be printed or written to disk, so it is
/// built from the URL with its password masked (`xxxxx`).
#[derive(Debug, Clone)]
pub(crate) struct QueueSpec {
    /// `name`, or the masked URL: the marker belongs to it.
    pub(crate) key: String,
    /// The key earlier versions used, the URL with its password, when it
    /// differs: its marker is taken over (see [`crate::progress::adopt`]).
    pub(crate) legacy_key: Option<String>,
    /// Shown in stats: `name`, or a short hash of the masked URL.
    pub(crate) name: String,
    /// The URL with its password masked, for logs, metrics and the marker.
    pub(crate) url: String,
    pub(crate) cfg: RemoteWriteConfig,
    pub(crate) external: Labels,
    /// Everything that, when changed, needs a restart.
    pub(crate) fingerprint: String,
}

impl QueueSpec {
    pub(crate) fn new(cfg: &RemoteWriteConfig, external: &Labels) -> QueueSpec {
        let url = cfg.redacted_url();
        let key = cfg.name.clone().unwrap_or_else(|| url.clone());
        let legacy_key =
            (cfg.name.is_none() && url != cfg.url.as_str()).then(|| cfg.url.as_str().to_owned());
        let name = cfg
            .name
            .clone()
            .unwrap_or_else(|| format!("{:06x}", crc32c::crc32c(url.as_bytes()) & 0xff_ffff));
        // Serialization masks secrets; add them so a changed password
        // restarts the queue too. The fingerprint stays in memory.
        let mut fingerprint = serde_json::to_string(cfg).unwrap_or_default();
        let h = &cfg.http;
        if let Some(b) = &h.basic_auth
            && let Some(p) = &b.password
        {
            fingerprint.push_str(p.expose());
        }
        if let Some(t) = &h.bearer_token {
            fingerprint.push_str(t.expose());
        }
        fingerprint.push_str(cfg.url.as_str());
        if let Some(p) = &h.proxy_url {
            fingerprint.push_str(p.as_str());
        }
        for v in cfg.headers.values() {
            fingerprint.push_str(v);
        }
        fingerprint.push_str(&external.to_string());
        QueueSpec {
            key,
            legacy_key,
            name,
            url,
            cfg: cfg.clone(),
            external: external.clone(),
            fingerprint,
        }
    }
}

/// A running queue.
pub(crate) struct Queue {
    pub(crate) spec: QueueSpec,
    counters: Arc<Counters>,
    progress: Arc<Progress>,
    marker: Arc<Marker>,
    read_pos: Arc<Mutex<WalPosition>>,
    stop: watch::Sender<bool>,
    abort: watch::Sender<bool>,
    reader_done: Option<oneshot::Receiver<()>>,
    saver: JoinHandle<()>,
}

impl Queue {
    /// Starts the queue; `client` is built from `spec` beforehand so a
    /// reload can check every endpoint before changing anything.
    pub(crate) fn start(
        spec: QueueSpec,
        client: Client,
        opts: &Options,
        lookup: Option<Arc<dyn SeriesLookup>>,
        rt: &tokio::runtime::Handle,
    ) -> Result<Queue, Error> {
        let url = spec.url.clone();
        std::fs::create_dir_all(&opts.state_dir).map_err(|source| Error::Io {
            path: opts.state_dir.clone(),
            source,
        })?;
        let marker = Arc::new(Marker::new(&opts.state_dir, &spec.key, &spec.name, &url));
        if let Some(legacy) = &spec.legacy_key {
            crate::progress::adopt(&opts.state_dir, legacy, &marker)?;
        }
        let wal_err = |source| Error::Wal {
            queue: spec.name.clone(),
            source,
        };
        let tail = match marker.load()? {
            Some(pos) => WalTail::open_at(&opts.wal_dir, pos).map_err(wal_err)?,
            None => {
                ensure_dir(&opts.wal_dir)?;
                if opts.new_queues_from_oldest {
                    WalTail::at_start(&opts.wal_dir).map_err(wal_err)?
                } else {
                    WalTail::at_end(&opts.wal_dir).map_err(wal_err)?
                }
            }
        };
        let start = tail.position();
        marker.hold_wal(&opts.wal_dir)?;
        marker.save(start)?;
        tracing::info!(queue = %spec.name, %url, position = %start, marker = %marker.path().display(), "remote write: queue started");

        let counters = Arc::new(Counters::new());
        let progress = Arc::new(Progress::new(start));
        let read_pos = Arc::new(Mutex::new(start));
        let (stop, stop_rx) = watch::channel(false);
        let (abort, abort_rx) = watch::channel(false);
        let send = Arc::new(SendContext {
            queue: spec.name.clone(),
            url,
            client,
            cfg: spec.cfg.queue_config.clone(),
            progress: progress.clone(),
            counters: counters.clone(),
            abort: abort_rx,
            last_success: Mutex::new(None),
        });
        let cache = SeriesCache::new(
            spec.external.clone(),
            spec.cfg.write_relabel_configs.clone(),
            lookup,
        );
        let reader = Reader {
            tail,
            cache,
            send,
            rt: rt.clone(),
            poll: opts.poll_interval,
            stop: stop_rx.clone(),
            read_pos: read_pos.clone(),
        };
        let (done_tx, done_rx) = oneshot::channel();
        std::thread::Builder::new()
            .name(format!("remote-write-{}", spec.name))
            .spawn(move || {
                reader.run();
                let _ = done_tx.send(());
            })
            .map_err(|source| Error::Io {
                path: opts.wal_dir.clone(),
                source,
            })?;
        let saver = rt.spawn(save_loop(
            progress.clone(),
            marker.clone(),
            stop_rx,
            spec.name.clone(),
        ));
        Ok(Queue {
            spec,
            counters,
            progress,
            marker,
            read_pos,
            stop,
            abort,
            reader_done: Some(done_rx),
            saver,
        })
    }

    /// The name of the queue's WAL hold.
    pub(crate) fn hold_name(&self) -> String {
        self.marker.hold_name()
    }

    pub(crate) fn stats(&self) -> QueueStats {
        let base = QueueStats {
            name: self.spec.name.clone(),
            url: self.spec.url.clone(),
            samples_in_total: 0,
            samples_sent_total: 0,
            samples_failed_total: 0,
            samples_retried_total: 0,
            samples_dropped_total: 0,
            samples_pending: 0,
            batches_sent_total: 0,
            batches_failed_total: 0,
            bytes_sent_total: 0,
            send_duration_seconds_sum: 0.0,
            send_duration_seconds_count: 0,
            send_duration_buckets: Default::default(),
            highest_sent_timestamp_ms: None,
            highest_read_timestamp_ms: None,
            shards: 0,
            shards_desired: 0,
            shards_min: self.spec.cfg.queue_config.min_shards,
            shards_max: self.spec.cfg.queue_config.max_shards,
            wal_read_position: *self.read_pos.lock(),
            wal_acked_position: self.progress.acked(),
            wal_segments_skipped_total: 0,
            wal_corrupt_segments_total: 0,
            series_cached: 0,
        };
        self.counters.snapshot(base)
    }

    /// Asks the queue to stop reading and flush (see [`Queue::finish`]).
    pub(crate) fn begin_stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Waits for the flush until `deadline`, then abandons unsent batches,
    /// and writes the final marker.
    pub(crate) async fn finish(mut self, deadline: tokio::time::Instant) {
        self.begin_stop();
        if let Some(mut done) = self.reader_done.take()
            && tokio::time::timeout_at(deadline, &mut done).await.is_err()
        {
            tracing::warn!(
                queue = %self.spec.name,
                pending = self.stats().samples_pending,
                "remote write: flush deadline passed; unsent samples stay in the WAL for the next start"
            );
            let _ = self.abort.send(true);
            let _ = done.await;
        }
        let _ = (&mut self.saver).await;
        let acked = self.progress.acked();
        let marker = self.marker.clone();
        let saved = tokio::task::spawn_blocking(move || marker.save(acked)).await;
        match saved {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::error!(queue = %self.spec.name, %error, "remote write: saving progress failed")
            }
            Err(error) => {
                tracing::error!(queue = %self.spec.name, %error, "remote write: saving progress failed")
            }
        }
        tracing::info!(queue = %self.spec.name, position = %acked, "remote write: queue stopped");
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        // Dropped without `finish`: stop everything at once.
        let _ = self.stop.send(true);
        let _ = self.abort.send(true);
    }
}

fn ensure_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })
}

/// Writes the marker about once a second while it changes, until stop.
async fn save_loop(
    progress: Arc<Progress>,
    marker: Arc<Marker>,
    mut stop: watch::Receiver<bool>,
    queue: String,
) {
    let mut tick = tokio::time::interval(SAVE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = crate::until_set(&mut stop) => return,
        }
        if let Some(pos) = progress.take_dirty() {
            let m = marker.clone();
            match tokio::task::spawn_blocking(move || m.save(pos)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::error!(%queue, %error, "remote write: saving progress failed")
                }
                Err(error) => {
                    tracing::error!(%queue, %error, "remote write: saving progress failed")
                }
            }
        }
    }
}
