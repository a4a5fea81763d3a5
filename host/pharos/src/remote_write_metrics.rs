//! Remote-write queues on `/metrics` under Prometheus' own names
//! (`prometheus_remote_storage_*`, labelled `remote_name` and `url`), so
//! the dashboards and alerts written for Prometheus (the Prometheus mixin's
//! `PrometheusRemoteWriteBehind`, `…DesiredShards`, failed-sample rates)
//! work on Pharos unchanged. Read from the queues' counters when
//! `/metrics` is scraped. Pharos-only numbers (WAL segments skipped by a
//! queue) use the `pharos_` prefix.

use std::sync::Arc;

use pharos_remote_write::{QueueStats, SEND_DURATION_BUCKETS};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use std::sync::atomic::AtomicU64;

type LabelPairs = Vec<(&'static str, String)>;

/// A metric's name, help and value per queue.
type PerQueue = (&'static str, &'static str, fn(&QueueStats) -> u64);

/// Gives the queues' statistics (none while remote write is off).
pub type StatsFn = Arc<dyn Fn() -> Vec<QueueStats> + Send + Sync>;

/// Encodes the remote-write metrics.
pub struct RemoteWriteCollector {
    pub stats: StatsFn,
}

impl std::fmt::Debug for RemoteWriteCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RemoteWriteCollector")
    }
}

fn encode(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    m: &impl EncodeMetric,
) -> std::fmt::Result {
    m.encode(e.encode_descriptor(name, help, None, m.metric_type())?)
}

impl Collector for RemoteWriteCollector {
    fn encode(&self, mut e: DescriptorEncoder) -> std::fmt::Result {
        let queues = (self.stats)();
        if queues.is_empty() {
            return Ok(());
        }
        let counters: [PerQueue; 6] = [
            (
                "prometheus_remote_storage_samples",
                "Total number of samples sent to remote storage.",
                |q| q.samples_sent_total,
            ),
            (
                "prometheus_remote_storage_samples_failed",
                "Total number of samples which failed on send to remote storage, non-recoverable errors.",
                |q| q.samples_failed_total,
            ),
            (
                "prometheus_remote_storage_samples_retried",
                "Total number of samples which failed on send to remote storage but were retried because the send error was recoverable.",
                |q| q.samples_retried_total,
            ),
            (
                "prometheus_remote_storage_samples_dropped",
                "Total number of samples which were dropped after being read from the WAL before being sent via remote write, either via relabelling or because of an unknown series.",
                |q| q.samples_dropped_total,
            ),
            (
                "prometheus_remote_storage_bytes",
                "The total number of bytes of data sent by the queue after compression.",
                |q| q.bytes_sent_total,
            ),
            (
                "pharos_remote_storage_wal_segments_skipped",
                "WAL segments deleted before the queue read them (past the storage's hold limit): their samples were not sent.",
                |q| q.wal_segments_skipped_total,
            ),
        ];
        let labels = |q: &QueueStats| -> LabelPairs {
            vec![("remote_name", q.name.clone()), ("url", q.url.clone())]
        };
        for (name, help, value) in counters {
            let f = Family::<LabelPairs, Counter>::default();
            for q in &queues {
                f.get_or_create(&labels(q)).inc_by(value(q));
            }
            encode(&mut e, name, help, &f)?;
        }
        let gauges: [PerQueue; 5] = [
            (
                "prometheus_remote_storage_samples_pending",
                "The number of samples pending in the queues shards to be sent to the remote storage.",
                |q| q.samples_pending,
            ),
            (
                "prometheus_remote_storage_shards",
                "The number of shards used for parallel sending to the remote storage.",
                |q| q.shards,
            ),
            (
                "prometheus_remote_storage_shards_desired",
                "The number of shards that the queues shard calculation wants to run based on the rate of samples in vs. samples out.",
                |q| q.shards_desired,
            ),
            (
                "prometheus_remote_storage_shards_min",
                "The minimum number of shards that the queue is allowed to run.",
                |q| q.shards_min,
            ),
            (
                "prometheus_remote_storage_shards_max",
                "The maximum number of shards that the queue is allowed to run.",
                |q| q.shards_max,
            ),
        ];
        for (name, help, value) in gauges {
            let f = Family::<LabelPairs, Gauge>::default();
            for q in &queues {
                f.get_or_create(&labels(q))
                    .set(i64::try_from(value(q)).unwrap_or(i64::MAX));
            }
            encode(&mut e, name, help, &f)?;
        }
        // Prometheus' histogram of every HTTP request, retries included.
        let mut m = e.encode_descriptor(
            "prometheus_remote_storage_sent_batch_duration_seconds",
            "Duration of send calls to the remote storage.",
            None,
            MetricType::Histogram,
        )?;
        for q in &queues {
            let buckets: Vec<(f64, u64)> = SEND_DURATION_BUCKETS
                .iter()
                .copied()
                .chain([f64::MAX])
                .zip(q.send_duration_buckets)
                .collect();
            let l = labels(q);
            m.encode_family(&l)?.encode_histogram::<NoLabelSet>(
                q.send_duration_seconds_sum,
                q.send_duration_seconds_count,
                &buckets,
                None,
            )?;
        }
        let sent = Family::<LabelPairs, Gauge<f64, AtomicU64>>::default();
        for q in &queues {
            if let Some(ms) = q.highest_sent_timestamp_ms {
                sent.get_or_create(&labels(q)).set(ms as f64 / 1000.0);
            }
        }
        encode(
            &mut e,
            "prometheus_remote_storage_queue_highest_sent_timestamp_seconds",
            "Timestamp from a WAL sample, the highest timestamp successfully sent by this queue, in seconds since epoch.",
            &sent,
        )?;
        // Unlabelled, as Prometheus: what came in, over all queues.
        let samples_in: Counter = Counter::default();
        samples_in.inc_by(queues.iter().map(|q| q.samples_in_total).max().unwrap_or(0));
        encode(
            &mut e,
            "prometheus_remote_storage_samples_in",
            "Samples in to remote storage, compare to samples out for queue managers.",
            &samples_in,
        )?;
        if let Some(ms) = queues
            .iter()
            .filter_map(|q| q.highest_read_timestamp_ms)
            .max()
        {
            let g: Gauge<f64, AtomicU64> = Gauge::default();
            g.set(ms as f64 / 1000.0);
            encode(
                &mut e,
                "prometheus_remote_storage_highest_timestamp_in_seconds",
                "Highest timestamp that has come into the remote storage via the Appender interface, in seconds since epoch.",
                &g,
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use pharos_remote_write::WalPosition;
    use prometheus_client::registry::Registry;

    fn queue(name: &str, sent: u64, highest_sent: Option<i64>) -> QueueStats {
        QueueStats {
            name: name.into(),
            url: format!("http://{name}/api/v1/write"),
            samples_in_total: 100,
            samples_sent_total: sent,
            samples_failed_total: 2,
            samples_retried_total: 3,
            samples_dropped_total: 4,
            samples_pending: 5,
            batches_sent_total: 1,
            batches_failed_total: 0,
            bytes_sent_total: 1234,
            send_duration_seconds_sum: 0.5,
            send_duration_seconds_count: 1,
            send_duration_buckets: [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            highest_sent_timestamp_ms: highest_sent,
            highest_read_timestamp_ms: Some(1_700_000_001_500),
            shards: 1,
            shards_desired: 2,
            shards_min: 1,
            shards_max: 50,
            wal_read_position: WalPosition::default(),
            wal_acked_position: WalPosition::default(),
            wal_segments_skipped_total: 0,
            wal_corrupt_segments_total: 0,
            series_cached: 9,
        }
    }

    fn text(queues: Vec<QueueStats>) -> String {
        let mut r = Registry::default();
        r.register_collector(Box::new(RemoteWriteCollector {
            stats: Arc::new(move || queues.clone()),
        }));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &r).unwrap();
        out
    }

    #[test]
    fn queues_are_reported_under_prometheus_names() {
        let t = text(vec![
            queue("a", 90, Some(1_700_000_000_250)),
            queue("b", 7, None),
        ]);
        for line in [
            r#"prometheus_remote_storage_samples_total{remote_name="a",url="http://a/api/v1/write"} 90"#,
            r#"prometheus_remote_storage_samples_total{remote_name="b",url="http://b/api/v1/write"} 7"#,
            r#"prometheus_remote_storage_samples_failed_total{remote_name="a",url="http://a/api/v1/write"} 2"#,
            r#"prometheus_remote_storage_bytes_total{remote_name="b",url="http://b/api/v1/write"} 1234"#,
            r#"prometheus_remote_storage_shards_desired{remote_name="a",url="http://a/api/v1/write"} 2"#,
            r#"prometheus_remote_storage_samples_pending{remote_name="a",url="http://a/api/v1/write"} 5"#,
            r#"prometheus_remote_storage_queue_highest_sent_timestamp_seconds{remote_name="a",url="http://a/api/v1/write"} 1700000000.25"#,
            "prometheus_remote_storage_samples_in_total 100",
            r#"prometheus_remote_storage_sent_batch_duration_seconds_bucket{le="0.25",remote_name="a",url="http://a/api/v1/write"} 0"#,
            r#"prometheus_remote_storage_sent_batch_duration_seconds_bucket{le="0.5",remote_name="a",url="http://a/api/v1/write"} 1"#,
            r#"prometheus_remote_storage_sent_batch_duration_seconds_bucket{le="+Inf",remote_name="a",url="http://a/api/v1/write"} 1"#,
            r#"prometheus_remote_storage_sent_batch_duration_seconds_sum{remote_name="a",url="http://a/api/v1/write"} 0.5"#,
            r#"prometheus_remote_storage_sent_batch_duration_seconds_count{remote_name="a",url="http://a/api/v1/write"} 1"#,
            "prometheus_remote_storage_highest_timestamp_in_seconds 1700000001.5",
        ] {
            assert!(t.lines().any(|l| l == line), "missing {line:?} in\n{t}");
        }
        // No sent timestamp before the first success.
        assert!(!t.contains(r#"queue_highest_sent_timestamp_seconds{remote_name="b""#));
        // Nothing at all without queues.
        assert!(!text(Vec::new()).contains("remote_storage"));
    }
}
