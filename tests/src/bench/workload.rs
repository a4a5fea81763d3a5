//! A deterministic, scrape-shaped remote-write workload.
//!
//! The data imitates what a Prometheus server scraping a fleet would forward:
//! targets (`job`, `instance`) that each expose a few dozen metric families
//! picked from ~340 names, of three kinds:
//!
//! - counters: monotonic, integer increments of a per-series size, some series
//!   mostly idle;
//! - gauges: random walks, some integer-valued, some floats, some rarely
//!   changing;
//! - classic histograms: `_bucket` series with `le` labels up to `+Inf`
//!   (cumulative and consistent with `_count`), plus `_sum` and `_count`.
//!
//! Every target has a fixed scrape offset inside the interval and a few
//! milliseconds of jitter per scrape. Everything derives from one seed, so
//! every system receives byte-identical requests.
//!
//! [`Workload::encode`] renders the whole run up front as snappy-compressed
//! `WriteRequest` bodies, one list per scrape timestamp, so that sending costs
//! the generator almost no CPU.

use pharos_prompb::{Label, Sample, TimeSeries, WriteRequest, encode_write_request};

use crate::rng::Rng;

const SUBSYSTEMS: &[&str] = &[
    "http_server",
    "http_client",
    "grpc_server",
    "grpc_client",
    "db_pool",
    "cache",
    "queue",
    "kafka_consumer",
    "kafka_producer",
    "node_disk",
    "node_network",
    "process",
    "go",
    "jvm",
    "scheduler",
    "storage",
    "rpc",
    "auth",
    "search",
    "billing",
];
const COUNTERS: &[&str] = &[
    "requests_total",
    "errors_total",
    "sent_bytes_total",
    "received_bytes_total",
    "retries_total",
    "timeouts_total",
    "operations_total",
    "dropped_total",
];
const GAUGES: &[&str] = &[
    "in_flight",
    "connections",
    "queue_length",
    "memory_bytes",
    "temperature_celsius",
    "utilization_ratio",
];
const HISTOGRAMS: &[&str] = &[
    "request_duration_seconds",
    "response_size_bytes",
    "latency_seconds",
];
const JOBS: &[(&str, u16)] = &[
    ("api-gateway", 8080),
    ("frontend", 3000),
    ("checkout", 8081),
    ("inventory", 8082),
    ("payments", 8443),
    ("search", 9200),
    ("node", 9100),
    ("postgres-exporter", 9187),
];
const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE"];
const CODES: &[&str] = &[
    "200", "201", "204", "304", "400", "404", "429", "500", "503",
];
const DEVICES: &[&str] = &["sda", "sdb", "nvme0n1", "nvme1n1", "eth0", "eth1"];
const HANDLERS: &[&str] = &[
    "/api/v1/query",
    "/api/v1/write",
    "/metrics",
    "/api/v1/series",
];
/// Prometheus client libraries' default buckets.
const SECONDS_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const BYTES_BUCKETS: &[f64] = &[
    64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0,
];
/// Share of families a job exposes, in 1/1000.
const FAMILY_SHARE_PER_MILLE: u64 = 250;

#[derive(Clone, Copy, Debug)]
enum Kind {
    Counter,
    Gauge,
    /// A classic histogram with these upper bounds (without `+Inf`).
    Histogram(&'static [f64]),
}

/// A metric family: its name, kind and the per-metric label sets it has.
struct Family {
    name: String,
    kind: Kind,
    variants: Vec<Vec<(&'static str, &'static str)>>,
}

fn families(rng: &mut Rng) -> Vec<Family> {
    let mut out = Vec::new();
    for sub in SUBSYSTEMS {
        let mut push = |noun: &str, kind, variants| {
            out.push(Family {
                name: format!("{sub}_{noun}"),
                kind,
                variants,
            })
        };
        for noun in COUNTERS {
            let (m, c) = (1 + rng.below(3) as usize, 1 + rng.below(4) as usize);
            let mut variants = Vec::new();
            for method in &METHODS[..m] {
                for code in &CODES[..c] {
                    variants.push(vec![("code", *code), ("method", *method)]);
                }
            }
            push(noun, Kind::Counter, variants);
        }
        for noun in GAUGES {
            let d = 1 + rng.below(4) as usize;
            let variants = DEVICES[..d].iter().map(|d| vec![("device", *d)]).collect();
            push(noun, Kind::Gauge, variants);
        }
        for noun in HISTOGRAMS {
            let h = 1 + rng.below(2) as usize;
            let variants = HANDLERS[..h]
                .iter()
                .map(|h| vec![("handler", *h)])
                .collect();
            let buckets = if noun.ends_with("_bytes") {
                BYTES_BUCKETS
            } else {
                SECONDS_BUCKETS
            };
            push(noun, Kind::Histogram(buckets), variants);
        }
    }
    out
}

/// How one series' value evolves from scrape to scrape.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// Adds `0..=max_inc` with probability `active`.
    Counter {
        max_inc: u64,
        active: f64,
    },
    /// Moves by `step * N(0,1)` with probability `change`, rounded if integer.
    Gauge {
        step: f64,
        change: f64,
        integer: bool,
    },
    /// Cumulative count of histogram `hist` up to bucket `bucket`.
    Bucket {
        hist: u32,
        bucket: u8,
    },
    HistSum {
        hist: u32,
    },
    HistCount {
        hist: u32,
    },
}

struct Hist {
    /// Upper bounds without `+Inf`.
    bounds: &'static [f64],
    /// Median of the observed values.
    scale: f64,
    /// At most this many observations per scrape.
    max_obs: u64,
    /// Cumulative counts, one per bound plus `+Inf`.
    cumulative: Vec<u64>,
    sum: f64,
}

/// What the generator is asked for.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// Number of series.
    pub series: usize,
    /// Samples per series (scrapes).
    pub samples: usize,
    /// Scrape interval in milliseconds.
    pub interval_ms: i64,
    /// Maximum scrape jitter either side, in milliseconds.
    pub jitter_ms: i64,
    /// Series per remote-write request.
    pub batch: usize,
    /// Timestamp of the first scrape's interval start, in milliseconds.
    pub start_ms: i64,
    pub seed: u64,
}

/// The series of a run and their evolving state.
pub struct Workload {
    params: Params,
    /// One request per batch of series; its samples are rewritten per scrape.
    requests: Vec<WriteRequest>,
    shapes: Vec<Shape>,
    /// Scrape offset inside the interval, per series (that of its target).
    offsets: Vec<i64>,
    /// Current value of counters and gauges.
    values: Vec<f64>,
    hists: Vec<Hist>,
    rng: Rng,
    /// Share of series per kind, for the report.
    pub counters: usize,
    pub gauges: usize,
    pub histogram_series: usize,
    pub targets: usize,
    pub metric_names: usize,
}

fn label(name: &str, value: &str) -> Label {
    Label {
        name: name.to_string(),
        value: value.to_string(),
    }
}

fn series(mut labels: Vec<Label>) -> TimeSeries {
    labels.sort_by(|a, b| a.name.cmp(&b.name));
    TimeSeries {
        labels,
        samples: vec![Sample {
            value: 0.0,
            timestamp: 0,
        }],
        exemplars: Vec::new(),
    }
}

impl Workload {
    /// Builds the series and their initial state.
    pub fn new(params: Params) -> Self {
        let mut rng = Rng::new(params.seed);
        let families = families(&mut rng);
        let mut all = Vec::with_capacity(params.series);
        let mut shapes = Vec::with_capacity(params.series);
        let mut offsets = Vec::with_capacity(params.series);
        let mut values = Vec::with_capacity(params.series);
        let mut hists = Vec::new();
        let mut target = 0usize;
        'targets: while all.len() < params.series {
            let (job, port) = JOBS[target % JOBS.len()];
            let instance = format!(
                "10.{}.{}.{}:{port}",
                (target >> 16) & 255,
                (target >> 8) & 255,
                target & 255
            );
            let offset = rng.below(params.interval_ms.max(1) as u64) as i64;
            target += 1;
            // The same job always exposes the same families.
            let mut pick = Rng::new(params.seed ^ (target % JOBS.len()) as u64);
            for family in &families {
                if pick.below(1000) >= FAMILY_SHARE_PER_MILLE {
                    continue;
                }
                for variant in &family.variants {
                    let base = |name: &str| {
                        let mut l = vec![
                            label("__name__", name),
                            label("job", job),
                            label("instance", &instance),
                        ];
                        l.extend(variant.iter().map(|(n, v)| label(n, v)));
                        l
                    };
                    let mut add = |labels: Vec<Label>, shape: Shape, value: f64| {
                        all.push(series(labels));
                        shapes.push(shape);
                        offsets.push(offset);
                        values.push(value);
                    };
                    match family.kind {
                        Kind::Counter => {
                            let max_inc = [1, 5, 20, 100, 1000, 100_000][rng.below(6) as usize];
                            let active = [0.05, 0.5, 1.0][rng.below(3) as usize];
                            let start = (rng.below(1_000_000) * max_inc) as f64;
                            add(
                                base(&family.name),
                                Shape::Counter { max_inc, active },
                                start,
                            );
                        }
                        Kind::Gauge => {
                            let integer = rng.below(2) == 0;
                            let step = [0.01, 1.0, 50.0, 1e6][rng.below(4) as usize];
                            let change = [0.02, 0.3, 1.0][rng.below(3) as usize];
                            let mut start = rng.unit() * 100.0 * step;
                            if integer {
                                start = start.round();
                            }
                            add(
                                base(&family.name),
                                Shape::Gauge {
                                    step,
                                    change,
                                    integer,
                                },
                                start,
                            );
                        }
                        Kind::Histogram(bounds) => {
                            let hist = hists.len() as u32;
                            let scale = if bounds == BYTES_BUCKETS {
                                200.0 * 500f64.powf(rng.unit())
                            } else {
                                0.002 * 1000f64.powf(rng.unit())
                            };
                            hists.push(Hist {
                                bounds,
                                scale,
                                max_obs: [2, 20, 200][rng.below(3) as usize],
                                cumulative: vec![0; bounds.len() + 1],
                                sum: 0.0,
                            });
                            let bucket_name = format!("{}_bucket", family.name);
                            for (b, le) in bounds
                                .iter()
                                .map(|le| le.to_string())
                                .chain(std::iter::once("+Inf".to_string()))
                                .enumerate()
                            {
                                let mut labels = base(&bucket_name);
                                labels.push(label("le", &le));
                                add(
                                    labels,
                                    Shape::Bucket {
                                        hist,
                                        bucket: b as u8,
                                    },
                                    0.0,
                                );
                            }
                            add(
                                base(&format!("{}_sum", family.name)),
                                Shape::HistSum { hist },
                                0.0,
                            );
                            add(
                                base(&format!("{}_count", family.name)),
                                Shape::HistCount { hist },
                                0.0,
                            );
                        }
                    }
                    if all.len() >= params.series {
                        break 'targets;
                    }
                }
            }
        }
        all.truncate(params.series);
        shapes.truncate(params.series);
        offsets.truncate(params.series);
        values.truncate(params.series);
        // Labels are sorted, so `__name__` comes first.
        let metric_names = all
            .iter()
            .filter_map(|ts| ts.labels.first())
            .map(|l| l.value.as_str())
            .collect::<std::collections::HashSet<_>>()
            .len();
        let counters = shapes
            .iter()
            .filter(|s| matches!(s, Shape::Counter { .. }))
            .count();
        let gauges = shapes
            .iter()
            .filter(|s| matches!(s, Shape::Gauge { .. }))
            .count();
        let histogram_series = shapes.len() - counters - gauges;
        let batch = params.batch.max(1);
        let mut requests = Vec::with_capacity(all.len().div_ceil(batch));
        let mut rest = all.into_iter().peekable();
        while rest.peek().is_some() {
            requests.push(WriteRequest {
                timeseries: rest.by_ref().take(batch).collect(),
                metadata: Vec::new(),
            });
        }
        Workload {
            params,
            requests,
            shapes,
            offsets,
            values,
            hists,
            rng,
            counters,
            gauges,
            histogram_series,
            targets: target,
            metric_names,
        }
    }

    /// Advances every series by one scrape.
    fn step(&mut self) {
        let rng = &mut self.rng;
        for h in &mut self.hists {
            let n = rng.below(h.max_obs + 1);
            for _ in 0..n {
                let x = h.scale * (0.8 * rng.normal()).exp();
                h.sum += x;
                let first = h.bounds.iter().position(|le| x <= *le);
                for c in &mut h.cumulative[first.unwrap_or(h.bounds.len())..] {
                    *c += 1;
                }
            }
        }
        for (shape, value) in self.shapes.iter().zip(self.values.iter_mut()) {
            match *shape {
                Shape::Counter { max_inc, active } => {
                    if rng.unit() < active {
                        *value += rng.below(max_inc + 1) as f64;
                    }
                }
                Shape::Gauge {
                    step,
                    change,
                    integer,
                } => {
                    if rng.unit() < change {
                        let mut v = (*value + step * rng.normal()).max(0.0);
                        if integer {
                            v = v.round();
                        }
                        *value = v;
                    }
                }
                Shape::Bucket { hist, bucket } => {
                    *value = self.hists[hist as usize].cumulative[bucket as usize] as f64;
                }
                Shape::HistSum { hist } => *value = self.hists[hist as usize].sum,
                Shape::HistCount { hist } => {
                    let h = &self.hists[hist as usize];
                    *value = h.cumulative[h.bounds.len()] as f64;
                }
            }
        }
    }

    /// Renders scrape `scrape` (0-based) as encoded request bodies, one per
    /// batch, and advances the state.
    pub fn next_scrape(&mut self, scrape: usize) -> Vec<Vec<u8>> {
        self.step();
        let p = self.params;
        let base = p.start_ms + scrape as i64 * p.interval_ms;
        let mut i = 0;
        let mut out = Vec::with_capacity(self.requests.len());
        for req in &mut self.requests {
            for ts in &mut req.timeseries {
                let jitter = if p.jitter_ms > 0 {
                    self.rng.below(2 * p.jitter_ms as u64 + 1) as i64 - p.jitter_ms
                } else {
                    0
                };
                if let Some(s) = ts.samples.first_mut() {
                    s.value = self.values[i];
                    s.timestamp = base + self.offsets[i] + jitter;
                }
                i += 1;
            }
            out.push(encode_write_request(req));
        }
        out
    }

    /// Renders the whole run: `samples` scrapes of encoded request bodies.
    pub fn encode(&mut self) -> Vec<Vec<Vec<u8>>> {
        (0..self.params.samples)
            .map(|s| self.next_scrape(s))
            .collect()
    }

    /// Series (= samples) in each batch's request, the same at every scrape.
    pub fn batch_lens(&self) -> impl Iterator<Item = usize> + '_ {
        self.requests.iter().map(|r| r.timeseries.len())
    }

    /// Number of series actually generated.
    pub fn len(&self) -> usize {
        self.shapes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shapes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pharos_prompb::decode_write_request;
    use std::collections::{HashMap, HashSet};

    fn params(series: usize) -> Params {
        Params {
            series,
            samples: 5,
            interval_ms: 15_000,
            jitter_ms: 2,
            batch: 700,
            start_ms: 1_700_000_000_000,
            seed: 7,
        }
    }

    fn key(ts: &TimeSeries) -> Vec<(String, String)> {
        ts.labels
            .iter()
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect()
    }

    #[test]
    fn shapes_are_sane_and_deterministic() -> anyhow::Result<()> {
        let mut w = Workload::new(params(5_000));
        assert_eq!(w.len(), 5_000);
        assert!(w.metric_names > 100, "{} names", w.metric_names);
        let run = w.encode();
        assert_eq!(run, Workload::new(params(5_000)).encode());

        let mut last: HashMap<Vec<(String, String)>, (i64, f64)> = HashMap::new();
        for scrape in &run {
            let mut seen = HashSet::new();
            for body in scrape {
                for ts in decode_write_request(body)?.timeseries {
                    let names: Vec<&str> = ts.labels.iter().map(|l| l.name.as_str()).collect();
                    assert!(names.windows(2).all(|w| w[0] < w[1]), "{names:?}");
                    let k = key(&ts);
                    assert!(seen.insert(k.clone()), "duplicate {k:?}");
                    let s = &ts.samples[0];
                    if let Some((t, v)) = last.get(&k) {
                        assert!(s.timestamp > *t);
                        let name = &k[0].1;
                        if name.ends_with("_total") || name.ends_with("_bucket") {
                            assert!(s.value >= *v, "{k:?} went down");
                        }
                    }
                    last.insert(k, (s.timestamp, s.value));
                }
            }
            assert_eq!(seen.len(), 5_000);
        }
        // Buckets are cumulative and `+Inf` equals `_count`.
        let mut inf = HashMap::new();
        let mut count = HashMap::new();
        for (k, (_, v)) in &last {
            let rest: Vec<_> = k
                .iter()
                .filter(|(n, _)| n != "le" && n != "__name__")
                .collect();
            let name = &k[0].1;
            if name.ends_with("_bucket") && k.iter().any(|(n, v)| n == "le" && v == "+Inf") {
                inf.insert(
                    (
                        name.trim_end_matches("_bucket").to_string(),
                        format!("{rest:?}"),
                    ),
                    *v,
                );
            } else if let Some(base) = name.strip_suffix("_count") {
                count.insert((base.to_string(), format!("{rest:?}")), *v);
            }
        }
        assert!(!inf.is_empty());
        for (k, v) in &inf {
            if let Some(c) = count.get(k) {
                assert_eq!(v, c, "{k:?}");
            }
        }
        Ok(())
    }
}
