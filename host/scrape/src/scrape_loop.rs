//! One target's scrape loop, Prometheus' `scrapeLoop`: a tokio task that
//! waits for its offset inside the interval (a hash of the target, so
//! targets of a job spread out instead of scraping at once), then every
//! interval fetches the target, turns the body into one batch and appends
//! it atomically. Parsing and the append run on the blocking pool.
//!
//! When the loop is stopped because its target went away it writes
//! staleness markers for every series of its last scrape, report series
//! included, as Prometheus does: after waiting until the scrape after the
//! would-be next one (so a target that comes back at once under a new loop
//! does not flap), stamped with the would-be next scrape's time. When it
//! is stopped for a reload that keeps the target, or at shutdown (also
//! while waiting to write markers), it writes nothing.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pharos_model::{Labels, Sample, stale_nan};
use pharos_textparse::Format;
use pharos_tsdb::{AppendError, AppendStats, Appendable, SeriesAppend, SeriesRef};
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use crate::cache::ScrapeCache;
use crate::client::{Response, ScrapeClient};
use crate::error::ScrapeError;
use crate::process::{
    Counts, Report, SampleSettings, process_body, report_series, report_to_cache, stale_all,
};
use crate::status::{Health, SharedStatus};
use crate::target::Target;

/// Names of the report series.
pub const REPORT_SERIES: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

/// Told about every scrape; the server turns it into its own metrics.
pub trait ScrapeObserver: Send + Sync {
    /// A scrape of a target of `job` finished.
    fn scraped(&self, job: &str, duration: Duration, ok: bool, counts: Counts);
}

/// Observes nothing.
pub struct NoObserver;

impl ScrapeObserver for NoObserver {
    fn scraped(&self, _: &str, _: Duration, _: bool, _: Counts) {}
}

/// Loops of removed targets waiting to write their staleness markers:
/// shared by all pools, so shutdown can cancel and await them.
#[derive(Default)]
pub(crate) struct Draining {
    shutdown: watch::Sender<bool>,
    handles: parking_lot::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Draining {
    /// Keeps the task of a loop told to go stale.
    pub(crate) fn add(&self, handle: tokio::task::JoinHandle<()>) {
        let mut hs = self.handles.lock();
        hs.retain(|h| !h.is_finished());
        hs.push(handle);
    }

    /// Cancels every wait and returns the tasks to await.
    pub(crate) fn shut_down(&self) -> Vec<tokio::task::JoinHandle<()>> {
        self.shutdown.send_replace(true);
        std::mem::take(&mut *self.handles.lock())
    }
}

/// What all loops of a job share.
pub(crate) struct JobContext {
    pub(crate) job: String,
    pub(crate) client: ScrapeClient,
    pub(crate) settings: SampleSettings,
    pub(crate) storage: Arc<dyn Appendable>,
    pub(crate) observer: Arc<dyn ScrapeObserver>,
    /// `fallback_scrape_protocol`: the format for a body whose
    /// Content-Type is missing or neither format's.
    pub(crate) fallback_format: Option<Format>,
    /// Set while the job has more targets than `target_limit`: (targets,
    /// limit). Every scrape then fails without fetching.
    pub(crate) target_limit_exceeded: parking_lot::Mutex<Option<(usize, u64)>>,
    pub(crate) draining: Arc<Draining>,
}

/// What the owner asks of a running loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    Run,
    /// The target went away: write staleness markers, then end.
    Stale,
    /// End without writing anything (shutdown, or the target lives on in
    /// a new loop).
    Quiet,
}

pub(crate) struct ScrapeLoop {
    pub(crate) target: Arc<Target>,
    pub(crate) job: Arc<JobContext>,
    pub(crate) status: Arc<SharedStatus>,
    pub(crate) cache: ScrapeCache,
    /// The size of the last body, to size the next one's buffer.
    pub(crate) body_hint: usize,
}

/// Milliseconds since the epoch.
pub(crate) fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// How long to wait before the first scrape so that the target scrapes
/// when `now` modulo the interval equals `hash` modulo the interval.
pub(crate) fn first_delay(hash: u64, interval: Duration, now: SystemTime) -> Duration {
    let iv = interval.as_nanos().max(1);
    let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let offset = u128::from(hash) % iv;
    let delay = (offset + iv - now % iv) % iv;
    Duration::from_nanos(delay as u64)
}

impl ScrapeLoop {
    /// Runs until `stop` says otherwise (or its sender is dropped). A stop
    /// cancels a fetch in flight but never a fetched scrape's append, so
    /// the cache (and with it the series to mark stale) is never lost.
    pub(crate) async fn run(mut self, mut stop: watch::Receiver<Stop>) {
        let delay = first_delay(self.target.hash(), self.target.interval, SystemTime::now());
        let start = tokio::time::Instant::now() + delay;
        let mut ticker = tokio::time::interval_at(start, self.target.interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
        // When the next scrape is due.
        let mut next = start;
        let how = loop {
            tokio::select! {
                t = ticker.tick() => next = t + self.target.interval,
                r = stop.changed() => break stopped(r, &stop),
            }
            let started = SystemTime::now();
            let t0 = Instant::now();
            let fetched = tokio::select! {
                f = self.fetch() => f,
                r = stop.changed() => break stopped(r, &stop),
            };
            self.ingest(fetched, started, t0.elapsed()).await;
        };
        if how == Stop::Stale {
            self.end_of_run_staleness(next).await;
        }
    }

    /// The HTTP part of a scrape (or the target-limit error).
    async fn fetch(&self) -> Result<Response, ScrapeError> {
        let forced = *self.job.target_limit_exceeded.lock();
        match forced {
            Some((count, limit)) => Err(ScrapeError::TargetLimit { count, limit }),
            None => {
                self.job
                    .client
                    .scrape(&self.target.url, self.target.timeout, self.body_hint)
                    .await
            }
        }
    }

    /// Processes and appends a fetched scrape on the blocking pool, then
    /// updates the status and tells the observer.
    async fn ingest(
        &mut self,
        fetched: Result<Response, ScrapeError>,
        started: SystemTime,
        duration: Duration,
    ) {
        if let Ok(resp) = &fetched {
            // A little headroom: bodies grow a bit between scrapes.
            self.body_hint = resp.body.len() + resp.body.len() / 8;
        }
        let cache = std::mem::take(&mut self.cache);
        let (job, target) = (self.job.clone(), self.target.clone());
        let done = tokio::task::spawn_blocking(move || {
            let mut cache = cache;
            let r = ingest(
                &mut cache,
                &job,
                &target,
                fetched,
                millis(started),
                duration,
            );
            let metadata = cache.metadata_dirty().then(|| cache.metadata_list());
            (cache, r, metadata)
        })
        .await;
        let (cache, result, metadata) = match done {
            Ok(x) => x,
            Err(e) => {
                tracing::error!(job = %self.job.job, error = %e, "scrape task failed");
                return;
            }
        };
        self.cache = cache;
        let ok = result.is_ok();
        let counts = *result.as_ref().unwrap_or(&Counts::default());
        if let Err(e) = &result {
            tracing::debug!(job = %self.job.job, target = %self.target.url, error = %e, "scrape failed");
        }
        self.job
            .observer
            .scraped(&self.job.job, duration, ok, counts);
        self.status.update(|s| {
            s.health = if ok { Health::Up } else { Health::Down };
            s.last_error = result.err().map(|e| e.to_string()).unwrap_or_default();
            s.last_scrape = Some(started);
            s.last_scrape_duration = duration;
            if let Some(m) = metadata {
                s.metadata = m;
            }
        });
    }

    /// Staleness markers for everything this loop stored, at the would-be
    /// `next` scrape, written an interval after it; nothing at shutdown.
    async fn end_of_run_staleness(mut self, next: tokio::time::Instant) {
        let interval = self.target.interval;
        let mut shutdown = self.job.draining.shutdown.subscribe();
        tokio::select! {
            () = tokio::time::sleep_until(next + interval + interval / 10) => {}
            _ = shutdown.wait_for(|down| *down) => return,
        }
        let now = tokio::time::Instant::now();
        let at = SystemTime::now()
            .checked_sub(now.saturating_duration_since(next))
            .unwrap_or_else(SystemTime::now);
        let cache = std::mem::take(&mut self.cache);
        let (job, target) = (self.job.clone(), self.target.clone());
        let _ = tokio::task::spawn_blocking(move || {
            let mut cache = cache;
            let ts = millis(at);
            let mut batch = Vec::new();
            stale_all(&mut cache, job.storage.as_ref(), ts, &mut batch);
            report_stale(&target.series_labels, ts, &mut batch);
            if let Err(e) = append_atomic(job.storage.as_ref(), &batch, None) {
                tracing::warn!(job = %job.job, target = %target.url, error = %e, "cannot write staleness markers");
            }
        })
        .await;
    }
}

fn stopped(r: Result<(), watch::error::RecvError>, stop: &watch::Receiver<Stop>) -> Stop {
    match r {
        Ok(()) => match *stop.borrow() {
            Stop::Run => Stop::Quiet,
            s => s,
        },
        Err(_) => Stop::Quiet,
    }
}

/// Processes a fetched body (or a failed fetch) into one batch and
/// appends it. Returns the counts of a successful scrape.
pub(crate) fn ingest(
    cache: &mut ScrapeCache,
    job: &JobContext,
    target: &Target,
    fetched: Result<Response, ScrapeError>,
    ts: i64,
    duration: Duration,
) -> Result<Counts, ScrapeError> {
    let storage = job.storage.as_ref();
    let appended = fetched.and_then(|resp| {
        let format = choose_format(resp.content_type.as_deref(), job.fallback_format);
        let body = Body {
            bytes: &resp.body,
            format,
            ts,
            duration,
        };
        match store_body(cache, job, target, &body) {
            // Storage no longer has series the cache knows only by
            // reference (retention deleted them): forget them and process
            // the body again, which finds them by their labels.
            Err(ScrapeError::Storage(pharos_tsdb::Error::Append(AppendError::InvalidSeries {
                ..
            }))) if cache.forget_unknown(storage) => store_body(cache, job, target, &body),
            r => r,
        }
    });
    if let Err(e) = &appended {
        let mut failed = Vec::new();
        stale_all(cache, storage, ts, &mut failed);
        let report = Report {
            up: false,
            duration,
            counts: Counts::default(),
        };
        report_series(&target.series_labels, ts, &report, &mut failed);
        if let Err(e2) = append_atomic(job.storage.as_ref(), &failed, None) {
            tracing::warn!(job = %job.job, target = %target.url, scrape_error = %e, error = %e2, "cannot store the report of a failed scrape");
        }
    }
    appended
}

/// A fetched body and the scrape it belongs to.
struct Body<'a> {
    bytes: &'a [u8],
    format: Format,
    ts: i64,
    duration: Duration,
}

/// Processes a body with the report series into the cache's batch and
/// appends it.
fn store_body(
    cache: &mut ScrapeCache,
    job: &JobContext,
    target: &Target,
    body: &Body<'_>,
) -> Result<Counts, ScrapeError> {
    let storage = job.storage.as_ref();
    let counts = process_body(
        cache,
        &job.settings,
        &target.series_labels,
        storage,
        body.bytes,
        body.format,
        body.ts,
    )?;
    let report = Report {
        up: true,
        duration: body.duration,
        counts,
    };
    report_to_cache(cache, storage, &target.series_labels, body.ts, &report);
    append_placed(cache, storage)?;
    Ok(counts)
}

/// The parser for a body: from its Content-Type as Prometheus 2.42 picks
/// it; with a fallback (Prometheus 3's `fallback_scrape_protocol`), a
/// missing or foreign Content-Type takes the fallback instead of the text
/// format.
pub(crate) fn choose_format(content_type: Option<&str>, fallback: Option<Format>) -> Format {
    let parsed = Format::from_content_type(content_type);
    let Some(fallback) = fallback else {
        return parsed.unwrap_or(Format::PromText);
    };
    let Some(ct) = content_type else {
        return fallback;
    };
    let media = ct.split(';').next().unwrap_or("").trim();
    match parsed {
        Ok(Format::OpenMetrics) => Format::OpenMetrics,
        Ok(Format::PromText) if media.eq_ignore_ascii_case("text/plain") => Format::PromText,
        _ => fallback,
    }
}

/// The format a `fallback_scrape_protocol` names (`PrometheusProto` is
/// not read by Pharos: the text format is used).
pub(crate) fn fallback_format(protocol: Option<&str>) -> Option<Format> {
    protocol.map(|p| {
        if p.starts_with("OpenMetrics") {
            Format::OpenMetrics
        } else {
            Format::PromText
        }
    })
}

/// Staleness markers for the report series of a target that went away.
fn report_stale(target: &Labels, ts: i64, batch: &mut Vec<SeriesAppend>) {
    for name in REPORT_SERIES {
        let mut lb = target.to_builder();
        lb.set(pharos_model::METRIC_NAME, name);
        batch.push(SeriesAppend {
            labels: lb.build(),
            samples: vec![Sample::new(ts, stale_nan())],
        });
    }
}

/// Appends the cache's batch by reference, then commits it to the cache
/// (which drops the labels of the series storage now knows).
fn append_placed(
    cache: &mut ScrapeCache,
    storage: &dyn Appendable,
) -> Result<AppendStats, ScrapeError> {
    let (batch, refs) = cache.batch_with_refs();
    let result = append_atomic(storage, batch, Some(refs));
    if result.is_ok() {
        cache.commit();
    }
    result
}

/// How many refused series an append drops and retries before giving up.
const MAX_REFUSED: usize = 64;

/// Appends `batch` as one atomic batch. A batch refused for one series (a
/// sample out of order, or a different value at a stored timestamp, which
/// a target with explicit timestamps can cause) is retried without that
/// series, as Prometheus skips such samples and keeps the rest. A series
/// storage cannot take at all (`InvalidSeries`: a stale reference) fails
/// the append, for the caller to mend.
pub(crate) fn append_atomic(
    storage: &dyn Appendable,
    batch: &[SeriesAppend],
    mut refs: Option<&mut [SeriesRef]>,
) -> Result<AppendStats, ScrapeError> {
    let first = match refs.as_deref_mut() {
        Some(refs) => storage.append_with_refs(batch, refs),
        None => storage.append(batch),
    };
    let mut refused = match first {
        Ok(stats) => return Ok(stats),
        Err(pharos_tsdb::Error::Append(e)) => e,
        Err(e) => return Err(e.into()),
    };
    // Positions in `batch` still in the retry.
    let mut keep: Vec<usize> = (0..batch.len()).collect();
    for _ in 0..MAX_REFUSED {
        if matches!(refused, AppendError::InvalidSeries { .. }) || refused.index() >= keep.len() {
            return Err(pharos_tsdb::Error::Append(refused).into());
        }
        keep.remove(refused.index());
        tracing::debug!(series = refused.series(), error = %refused, "sample refused by storage, dropped from the scrape");
        let retry: Vec<SeriesAppend> = keep.iter().map(|&i| batch[i].clone()).collect();
        let mut retry_refs: Vec<SeriesRef> = keep
            .iter()
            .map(|&i| refs.as_deref().map_or(SeriesRef::NONE, |r| r[i]))
            .collect();
        match storage.append_with_refs(&retry, &mut retry_refs) {
            Ok(stats) => {
                if let Some(refs) = refs.as_deref_mut() {
                    for (&i, r) in keep.iter().zip(retry_refs) {
                        refs[i] = r;
                    }
                }
                return Ok(stats);
            }
            Err(pharos_tsdb::Error::Append(e)) => refused = e,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ScrapeError::Storage(pharos_tsdb::Error::Corrupt {
        what: "scrape batch",
        detail: format!("more than {MAX_REFUSED} series refused"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_and_fallback() {
        let om = Some(Format::OpenMetrics);
        let cases = [
            (
                Some("application/openmetrics-text; version=1.0.0"),
                None,
                Format::OpenMetrics,
            ),
            (Some("text/plain; version=0.0.4"), om, Format::PromText),
            (None, None, Format::PromText),
            (None, om, Format::OpenMetrics),
            (Some("application/json"), None, Format::PromText),
            (Some("application/json"), om, Format::OpenMetrics),
            (Some("///"), om, Format::OpenMetrics),
        ];
        for (ct, fb, want) in cases {
            assert_eq!(choose_format(ct, fb), want, "{ct:?} {fb:?}");
        }
        assert_eq!(fallback_format(Some("OpenMetricsText1.0.0")), om);
        assert_eq!(
            fallback_format(Some("PrometheusText0.0.4")),
            Some(Format::PromText)
        );
        assert_eq!(fallback_format(None), None);
    }

    #[test]
    fn offsets_fall_on_the_hash_inside_the_interval() {
        let iv = Duration::from_secs(15);
        let now = UNIX_EPOCH + Duration::from_millis(1_700_000_003_250);
        let d = first_delay(5_000_000_000, iv, now);
        // now % 15s = 8.25s; offset 5s: wait 11.75s.
        assert_eq!(d, Duration::from_millis(11_750));
        assert!(first_delay(u64::MAX, iv, now) < iv);
        assert_eq!(first_delay(0, iv, UNIX_EPOCH), Duration::ZERO);
    }
}
