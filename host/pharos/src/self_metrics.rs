//! Pharos' own metrics on `/metrics`, built with `prometheus-client` and
//! served in the OpenMetrics text format (which Pharos' own scraper, and
//! Prometheus', read): scrapes per job (durations, results, samples),
//! config reloads, the storage's counters and sizes (read from
//! [`pharos_tsdb::DbMetrics`] at each scrape), targets per job, build info
//! and the process' CPU and memory. Names follow Prometheus' own metrics
//! with the `pharos_` prefix where Prometheus has an equivalent.

use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use parking_lot::Mutex;
use pharos_scrape::{Counts, ScrapeManager, ScrapeObserver};
use pharos_tsdb::DbMetrics;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::api::AppState;
use crate::build_info;
use crate::remote_write_metrics::{RemoteWriteCollector, StatsFn};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    scrape_job: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ScrapeResult {
    scrape_job: String,
    result: &'static str,
}

/// Reads the storage's counters; `None` when there is no storage to read.
pub type StorageMetricsFn = Arc<dyn Fn() -> Option<DbMetrics> + Send + Sync>;

/// The registry and the metrics Pharos updates as it runs.
pub struct SelfMetrics {
    registry: Registry,
    scrape_duration: Family<JobLabels, Histogram>,
    scrapes: Family<ScrapeResult, Counter>,
    scraped_samples: Family<JobLabels, Counter>,
    reloads: Family<ReloadResult, Counter>,
    last_reload_successful: Gauge,
    last_reload_success_time: Gauge,
    /// Weak: the manager holds these metrics as its observer.
    scrape_manager: Arc<Mutex<Weak<ScrapeManager>>>,
    /// The plugins whose counters `/metrics` shows.
    plugins: crate::plugin_metrics::PluginSlot,
    /// Where the remote-write queues' statistics come from, once running.
    remote_write: Arc<Mutex<Option<StatsFn>>>,
    /// The rule manager whose groups `/metrics` shows.
    rules: crate::rule_metrics::RulesSlot,
    /// The Alertmanager sender whose counters `/metrics` shows.
    notifier: crate::rule_metrics::NotifierSlot,
    alerting: AlertingSlot,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadResult {
    result: &'static str,
}

fn histogram() -> Histogram {
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

impl SelfMetrics {
    /// Metrics reading the storage through `storage`.
    pub fn new(storage: StorageMetricsFn) -> Self {
        let mut registry = Registry::default();
        let scrape_duration =
            Family::<JobLabels, Histogram>::new_with_constructor(histogram as fn() -> Histogram);
        let scrapes = Family::<ScrapeResult, Counter>::default();
        let scraped_samples = Family::<JobLabels, Counter>::default();
        let reloads = Family::<ReloadResult, Counter>::default();
        let last_reload_successful = Gauge::default();
        let last_reload_success_time = Gauge::default();
        registry.register(
            "pharos_target_scrape_duration_seconds",
            "How long the HTTP part of scrapes took, by job.",
            scrape_duration.clone(),
        );
        registry.register(
            "pharos_target_scrapes",
            "Scrapes by job and result (success or failure).",
            scrapes.clone(),
        );
        registry.register(
            "pharos_target_scraped_samples",
            "Samples exposed by targets in successful scrapes, by job.",
            scraped_samples.clone(),
        );
        registry.register(
            "pharos_config_reloads",
            "Configuration reloads by result.",
            reloads.clone(),
        );
        registry.register(
            "pharos_config_last_reload_successful",
            "Whether the last configuration reload attempt was successful.",
            last_reload_successful.clone(),
        );
        registry.register(
            "pharos_config_last_reload_success_timestamp_seconds",
            "Timestamp of the last successful configuration reload.",
            last_reload_success_time.clone(),
        );
        let scrape_manager = Arc::new(Mutex::new(Weak::new()));
        registry.register_collector(Box::new(RuntimeCollector {
            storage,
            scrape_manager: scrape_manager.clone(),
        }));
        let plugins = crate::plugin_metrics::PluginSlot::default();
        registry.register_collector(Box::new(crate::plugin_metrics::PluginCollector {
            slot: plugins.clone(),
        }));
        let remote_write: Arc<Mutex<Option<StatsFn>>> = Arc::default();
        let slot = remote_write.clone();
        registry.register_collector(Box::new(RemoteWriteCollector {
            stats: Arc::new(move || slot.lock().as_ref().map(|f| f()).unwrap_or_default()),
        }));
        let rules = crate::rule_metrics::RulesSlot::default();
        let notifier = crate::rule_metrics::NotifierSlot::default();
        registry.register_collector(Box::new(crate::rule_metrics::RuleCollector {
            slot: rules.clone(),
            notifier: notifier.clone(),
        }));
        let alerting = AlertingSlot::default();
        registry.register_collector(Box::new(AlertingSlotCollector(alerting.clone())));
        let m = SelfMetrics {
            registry,
            scrape_duration,
            scrapes,
            scraped_samples,
            reloads,
            last_reload_successful,
            last_reload_success_time,
            scrape_manager,
            plugins,
            remote_write,
            rules,
            notifier,
            alerting,
        };
        m.last_reload_successful.set(1);
        m.last_reload_success_time.set(now_secs());
        m
    }

    /// Lets `/metrics` report the manager's targets per job.
    pub fn set_scrape_manager(&self, m: &Arc<ScrapeManager>) {
        *self.scrape_manager.lock() = Arc::downgrade(m);
    }

    /// Lets `/metrics` report the plugins' counters.
    pub fn set_plugins(&self, plugins: &pharos_plugins::PluginSet) {
        *self.plugins.lock() = Some(plugins.clone());
    }

    /// Lets `/metrics` report the remote-write queues
    /// (`prometheus_remote_storage_*`).
    pub fn set_remote_write_stats(&self, stats: StatsFn) {
        *self.remote_write.lock() = Some(stats);
    }

    /// Lets `/metrics` report the Alertmanager sender
    /// (`prometheus_notifications_*`).
    pub fn set_notifier(&self, n: &Arc<crate::notifier::Notifier>) {
        *self.notifier.lock() = Some(n.clone());
    }

    /// Lets `/metrics` report Pharos' own Alertmanager (`alertmanager_*`).
    pub fn set_alerting(&self, service: &pharos_alerting::service::AlertingService) {
        *self.alerting.lock() = Some(service.collector());
    }

    /// Lets `/metrics` report the rule groups (`prometheus_rule_*`).
    pub fn set_rules(&self, rules: &Arc<pharos_rules::RuleManager>) {
        *self.rules.lock() = Some(rules.clone());
    }

    /// Counts a reload attempt.
    pub fn reloaded(&self, ok: bool) {
        let result = if ok { "success" } else { "failure" };
        self.reloads.get_or_create(&ReloadResult { result }).inc();
        self.last_reload_successful.set(i64::from(ok));
        if ok {
            self.last_reload_success_time.set(now_secs());
        }
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "cannot encode the metrics");
        }
        out
    }
}

impl ScrapeObserver for SelfMetrics {
    fn scraped(&self, job: &str, duration: Duration, ok: bool, counts: Counts) {
        let labels = JobLabels {
            scrape_job: job.to_owned(),
        };
        self.scrape_duration
            .get_or_create(&labels)
            .observe(duration.as_secs_f64());
        let result = if ok { "success" } else { "failure" };
        self.scrapes
            .get_or_create(&ScrapeResult {
                scrape_job: job.to_owned(),
                result,
            })
            .inc();
        if ok {
            self.scraped_samples
                .get_or_create(&labels)
                .inc_by(counts.scraped as u64);
        }
    }
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Values read when `/metrics` is scraped: storage, targets, build,
/// process.
/// Where the router's collector is, once running.
type AlertingSlot = Arc<Mutex<Option<pharos_alerting::service::AlertingCollector>>>;

/// Encodes the router's metrics, when there is a router.
#[derive(Debug)]
struct AlertingSlotCollector(AlertingSlot);

impl Collector for AlertingSlotCollector {
    fn encode(&self, e: prometheus_client::encoding::DescriptorEncoder) -> std::fmt::Result {
        match self.0.lock().as_ref() {
            Some(c) => c.encode(e),
            None => Ok(()),
        }
    }
}

struct RuntimeCollector {
    storage: StorageMetricsFn,
    scrape_manager: Arc<Mutex<Weak<ScrapeManager>>>,
}

impl std::fmt::Debug for RuntimeCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RuntimeCollector")
    }
}

fn counter(e: &mut DescriptorEncoder, name: &str, help: &str, v: u64) -> std::fmt::Result {
    let c = ConstCounter::new(v);
    c.encode(e.encode_descriptor(name, help, None, c.metric_type())?)
}

fn gauge(e: &mut DescriptorEncoder, name: &str, help: &str, v: i64) -> std::fmt::Result {
    let g = ConstGauge::new(v);
    g.encode(e.encode_descriptor(name, help, None, g.metric_type())?)
}

fn gauge_f(e: &mut DescriptorEncoder, name: &str, help: &str, v: f64) -> std::fmt::Result {
    let g = ConstGauge::new(v);
    g.encode(e.encode_descriptor(name, help, None, g.metric_type())?)
}

impl Collector for RuntimeCollector {
    fn encode(&self, mut e: DescriptorEncoder) -> std::fmt::Result {
        if let Some(m) = (self.storage)() {
            let counters = [
                (
                    "pharos_tsdb_samples_appended",
                    "Samples appended to storage.",
                    m.samples_appended,
                ),
                (
                    "pharos_tsdb_series_created",
                    "Series created in storage.",
                    m.series_created,
                ),
                (
                    "pharos_tsdb_out_of_order_samples_rejected",
                    "Out-of-order samples refused.",
                    m.out_of_order_rejected,
                ),
                (
                    "pharos_tsdb_out_of_order_samples_accepted",
                    "Out-of-order samples accepted inside the window.",
                    m.out_of_order_accepted,
                ),
                (
                    "pharos_tsdb_duplicate_samples_rejected",
                    "Samples refused for a different value at a stored timestamp.",
                    m.duplicate_rejected,
                ),
                (
                    "pharos_tsdb_batches_rejected",
                    "Append batches refused whole.",
                    m.batches_rejected,
                ),
                (
                    "pharos_tsdb_chunks_persisted",
                    "Chunks written to sled.",
                    m.chunks_persisted,
                ),
                (
                    "pharos_tsdb_checkpoints",
                    "WAL checkpoints taken.",
                    m.checkpoints,
                ),
                (
                    "pharos_tsdb_retention_chunks_deleted",
                    "Chunks deleted by retention.",
                    m.retention_chunks_deleted,
                ),
                (
                    "pharos_tsdb_retention_series_deleted",
                    "Series deleted by retention.",
                    m.retention_series_deleted,
                ),
                (
                    "pharos_tsdb_wal_write_errors",
                    "Appends refused because the WAL could not be written (disk full, I/O error).",
                    m.wal_write_errors,
                ),
                (
                    "pharos_tsdb_flush_errors",
                    "Failed attempts to make data durable: writing chunks and series to sled (or postponed for lack of disk space), fsyncing the WAL.",
                    m.flush_errors,
                ),
                (
                    "pharos_tsdb_checkpoint_errors",
                    "WAL checkpoints that failed.",
                    m.checkpoint_errors,
                ),
                (
                    "pharos_tsdb_retention_errors",
                    "Retention runs that failed.",
                    m.retention_errors,
                ),
                (
                    "pharos_tsdb_maintenance_panics",
                    "Panics of the storage maintenance thread (each is logged and its work restarts).",
                    m.maintenance_panics,
                ),
                (
                    "pharos_tsdb_sled_reopens",
                    "Times sled was reopened after a failed write.",
                    m.sled_reopens,
                ),
            ];
            for (name, help, v) in counters {
                counter(&mut e, name, help, v)?;
            }
            gauge(
                &mut e,
                "pharos_tsdb_head_series",
                "Series in the head block.",
                m.head_series as i64,
            )?;
            gauge(
                &mut e,
                "pharos_tsdb_wal_size_bytes",
                "Size of the write-ahead log.",
                m.wal_bytes as i64,
            )?;
            gauge(
                &mut e,
                "pharos_tsdb_sled_size_bytes",
                "Size of the sled database on disk.",
                m.sled_bytes as i64,
            )?;
        }
        let manager = self.scrape_manager.lock().upgrade();
        if let Some(manager) = manager {
            let mut per_job: std::collections::BTreeMap<String, i64> =
                manager.jobs().into_iter().map(|j| (j, 0)).collect();
            for t in manager.active_targets() {
                *per_job.entry(t.scrape_pool).or_default() += 1;
            }
            let g = Family::<JobLabels, Gauge>::default();
            for (job, n) in per_job {
                g.get_or_create(&JobLabels { scrape_job: job }).set(n);
            }
            g.encode(e.encode_descriptor(
                "pharos_target_scrape_pool_targets",
                "Active targets per scrape job.",
                None,
                g.metric_type(),
            )?)?;
        }
        let info = Family::<Vec<(&'static str, &'static str)>, Gauge>::default();
        info.get_or_create(&vec![
            ("branch", build_info::BRANCH),
            ("revision", build_info::REVISION),
            ("rustversion", build_info::RUSTC_VERSION),
            ("version", build_info::VERSION),
        ])
        .set(1);
        info.encode(e.encode_descriptor(
            "pharos_build_info",
            "A metric with a constant '1' value labeled by version, revision, branch and rustc version.",
            None,
            info.metric_type(),
        )?)?;
        if let Some((cpu, rss)) = process_stats() {
            let c = ConstCounter::new(cpu);
            c.encode(e.encode_descriptor(
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds.",
                None,
                c.metric_type(),
            )?)?;
            gauge_f(
                &mut e,
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                rss,
            )?;
        }
        Ok(())
    }
}

/// CPU seconds and resident bytes of this process, from `/proc/self/stat`
/// (Linux; clock ticks and pages at their usual 100 Hz and 4 KiB).
fn process_stats() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the command: state is field 3; utime 14, stime 15, rss 24.
    let field = |n: usize| fields.get(n - 3).and_then(|s| s.parse::<f64>().ok());
    let cpu = (field(14)? + field(15)?) / 100.0;
    let rss = field(24)? * 4096.0;
    Some((cpu, rss))
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let text = state
        .self_metrics
        .as_ref()
        .map(|m| m.encode())
        .unwrap_or_else(|| "# EOF\n".to_owned());
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_storage_scrape_and_reload_metrics() {
        let m = SelfMetrics::new(Arc::new(|| {
            Some(DbMetrics {
                samples_appended: 42,
                flush_errors: 3,
                checkpoint_errors: 2,
                head_series: 7,
                wal_bytes: 1024,
                ..DbMetrics::default()
            })
        }));
        m.scraped(
            "node",
            Duration::from_millis(20),
            true,
            Counts {
                scraped: 10,
                ..Counts::default()
            },
        );
        m.scraped("node", Duration::from_millis(5), false, Counts::default());
        m.reloaded(false);
        let text = m.encode();
        for line in [
            "pharos_tsdb_samples_appended_total 42",
            "pharos_tsdb_flush_errors_total 3",
            "pharos_tsdb_checkpoint_errors_total 2",
            "pharos_tsdb_maintenance_panics_total 0",
            "pharos_tsdb_head_series 7",
            "pharos_tsdb_wal_size_bytes 1024",
            "pharos_target_scrape_duration_seconds_count{scrape_job=\"node\"} 2",
            "pharos_target_scrapes_total{scrape_job=\"node\",result=\"success\"} 1",
            "pharos_target_scrapes_total{scrape_job=\"node\",result=\"failure\"} 1",
            "pharos_target_scraped_samples_total{scrape_job=\"node\"} 10",
            "pharos_config_reloads_total{result=\"failure\"} 1",
            "pharos_config_last_reload_successful 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        assert!(text.contains("pharos_build_info{branch="), "{text}");
        assert!(text.ends_with("# EOF\n"));
        // What Pharos serves, Pharos' scraper reads.
        let parsed = pharos_textparse_check(&text);
        assert!(parsed > 10, "{parsed}");
    }

    fn pharos_textparse_check(text: &str) -> usize {
        // The OpenMetrics parser lives in pharos-textparse, which the
        // scraper uses; count the samples it reads.
        let samples: Vec<_> = pharos_scrape_parse(text);
        samples.len()
    }

    fn pharos_scrape_parse(text: &str) -> Vec<String> {
        use pharos_textparse::{Entry, Format, Parser};
        Parser::new(text.as_bytes(), Format::OpenMetrics)
            .map(|e| match e {
                Ok(Entry::Sample(s)) => s.series.to_owned(),
                Ok(_) => String::new(),
                Err(e) => panic!("{e}"),
            })
            .filter(|s| !s.is_empty())
            .collect()
    }
}
