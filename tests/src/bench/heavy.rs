//! Heavy queries asked in a loop by many clients at once, for the load
//! benchmark: high-cardinality aggregations, day-long ranges at a small
//! step, regex matchers over many series, and the inputs that once could
//! take a PromQL engine down (a `[1000y:1ms]` subquery, 100k-term sums,
//! 100k nested parentheses, range queries at the ends of time).
//!
//! Each client runs the list round-robin from its own offset, one request
//! at a time, and records every answer: status, Prometheus' `errorType`
//! and `error`, latency and size. A 200 body is read to the end and
//! dropped (only its start is checked), so the clients hold no results.

use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::Value;

/// When a query is asked.
#[derive(Clone, Debug)]
pub enum When {
    /// An instant query at the end of the data written so far.
    Instant,
    /// A range query ending at the end of the data, `back_ms` long.
    Range { back_ms: i64, step: &'static str },
    /// A range query with these literal parameters.
    Fixed {
        start: &'static str,
        end: &'static str,
        step: &'static str,
    },
    /// `/api/v1/series` with `expr` as `match[]`, over all time.
    Series,
}

/// One query of the mix.
#[derive(Clone, Debug)]
pub struct HeavyQuery {
    pub name: &'static str,
    pub expr: String,
    pub when: When,
}

/// Metric names of the loaded data the mix refers to.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// The `_bucket` name with the most series.
    pub bucket: String,
    /// The `_total` name with the most series.
    pub counter: String,
}

const DAY_MS: i64 = 86_400_000;

/// The mix: `terms` is the size of the `a+a+…+a` sum and the depth of
/// the nested parentheses. Names have no commas, so that a list of them
/// can be given on the command line.
pub fn mix(n: &Names, terms: usize) -> Vec<HeavyQuery> {
    let day = When::Range {
        back_ms: DAY_MS,
        step: "10",
    };
    let q = |name, expr: String, when: When| HeavyQuery { name, expr, when };
    let (b, c) = (&n.bucket, &n.counter);
    vec![
        q(
            "sum by instance: all buckets",
            r#"sum by (instance) ({__name__=~".+_bucket"})"#.into(),
            When::Instant,
        ),
        q(
            "sum by instance+le of rate",
            format!("sum by (instance, le) (rate({b}[5m]))"),
            When::Instant,
        ),
        q(
            "count by name+job: all series",
            r#"count by (__name__, job) ({__name__=~".+"})"#.into(),
            When::Instant,
        ),
        q(
            "day: sum by job of rate",
            format!("sum by (job) (rate({c}[5m]))"),
            day.clone(),
        ),
        q("day: raw bucket series", b.clone(), day.clone()),
        q(
            "day: histogram_quantile",
            format!("histogram_quantile(0.99, sum by (job, le) (rate({b}[5m])))"),
            day.clone(),
        ),
        q(
            "day: sum by job: all buckets",
            r#"sum by (job) ({__name__=~".+_bucket"})"#.into(),
            day.clone(),
        ),
        q(
            "regex: names and labels",
            r#"count by (__name__) ({__name__=~"http_.*|grpc_.*", code=~"5..", method!~"GET|PUT"})"#
                .into(),
            When::Instant,
        ),
        q(
            "regex: unanchored",
            r#"count({__name__=~".*_(bytes|seconds).*", instance=~".*\\.1[0-9]:.*"})"#.into(),
            When::Instant,
        ),
        q(
            "day: regex count by job",
            r#"count by (job) ({__name__=~".*_total", code=~"5.."})"#.into(),
            day,
        ),
        q(
            "all series [1000y]",
            r#"{__name__=~".+"}[1000y]"#.into(),
            When::Instant,
        ),
        q(
            "vector(1)[1000y:1ms]",
            "max_over_time(vector(1)[1000y:1ms])".into(),
            When::Instant,
        ),
        q(
            "a+a+...+a",
            vec!["a"; terms.max(1)].join("+"),
            When::Instant,
        ),
        q(
            "((((...))))",
            format!("{}a{}", "(".repeat(terms), ")".repeat(terms)),
            When::Instant,
        ),
        q(
            "range: ends of time at 1s",
            format!("rate({c}[5m])"),
            When::Fixed {
                start: "-9223372036854775",
                end: "9223372036854775",
                step: "1",
            },
        ),
        q(
            "range: +-1.3My at 285y",
            format!("rate({c}[5m])"),
            When::Fixed {
                start: "-40000000000000",
                end: "40000000000000",
                step: "9000000000",
            },
        ),
        q(
            "series: all",
            r#"{__name__=~".+"}"#.into(),
            When::Series,
        ),
    ]
}

/// One answer (or its absence).
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Index into the mix.
    pub query: usize,
    /// HTTP status; 0 when no answer came (connection error, client
    /// timeout).
    pub status: u16,
    /// `errorType` and `error` of an error answer, or the transport error.
    pub error_type: String,
    pub error: String,
    pub latency: Duration,
    pub bytes: u64,
}

/// Runs `clients` clients over `mix` until `stop` is set; each finishes
/// the request it is in. `data_end` is read for every request.
pub fn run_clients(
    base_url: &str,
    mix: &[HeavyQuery],
    clients: usize,
    timeout: Duration,
    data_end: &AtomicI64,
    stop: &AtomicBool,
) -> Result<Vec<Outcome>> {
    let http = (0..clients)
        .map(|_| {
            reqwest::blocking::Client::builder()
                .timeout(timeout)
                .user_agent("pharos-load-bench")
                .build()
                .context("building the HTTP client")
        })
        .collect::<Result<Vec<_>>>()?;
    let mut all = Vec::new();
    std::thread::scope(|scope| {
        let handles: Vec<_> = http
            .into_iter()
            .enumerate()
            .map(|(id, client)| {
                scope.spawn(move || {
                    let mut out = Vec::new();
                    let mut k = id;
                    while !stop.load(Ordering::Relaxed) {
                        let i = k % mix.len();
                        k += 1;
                        let end = data_end.load(Ordering::Relaxed);
                        let o = ask(&client, base_url, &mix[i], i, end);
                        if o.status == 0 {
                            // The server is not answering: do not spin.
                            std::thread::sleep(Duration::from_millis(100));
                        }
                        out.push(o);
                    }
                    out
                })
            })
            .collect();
        for h in handles {
            if let Ok(out) = h.join() {
                all.extend(out);
            }
        }
    });
    Ok(all)
}

fn secs(ms: i64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

/// Asks one query and records the answer.
fn ask(
    client: &reqwest::blocking::Client,
    base_url: &str,
    q: &HeavyQuery,
    index: usize,
    end_ms: i64,
) -> Outcome {
    let (path, form): (&str, Vec<(&str, String)>) = match &q.when {
        When::Instant => (
            "query",
            vec![("query", q.expr.clone()), ("time", secs(end_ms))],
        ),
        When::Range { back_ms, step } => (
            "query_range",
            vec![
                ("query", q.expr.clone()),
                ("start", secs(end_ms - back_ms)),
                ("end", secs(end_ms)),
                ("step", step.to_string()),
            ],
        ),
        When::Fixed { start, end, step } => (
            "query_range",
            vec![
                ("query", q.expr.clone()),
                ("start", start.to_string()),
                ("end", end.to_string()),
                ("step", step.to_string()),
            ],
        ),
        When::Series => ("series", vec![("match[]", q.expr.clone())]),
    };
    let t0 = Instant::now();
    let mut o = Outcome {
        query: index,
        status: 0,
        error_type: String::new(),
        error: String::new(),
        latency: Duration::ZERO,
        bytes: 0,
    };
    let sent = client
        .post(format!("{base_url}/api/v1/{path}"))
        .form(&form)
        .send();
    match sent {
        Ok(mut resp) => {
            o.status = resp.status().as_u16();
            if resp.status().is_success() {
                read_success(&mut resp, &mut o);
            } else {
                read_error(resp, &mut o);
            }
        }
        Err(e) => {
            o.error_type = if e.is_timeout() {
                "client timeout"
            } else {
                "transport"
            }
            .into();
            o.error = format!("{e:#}");
        }
    }
    o.latency = t0.elapsed();
    o
}

/// Reads a 2xx body to the end, checking that it starts as a success.
fn read_success(resp: &mut reqwest::blocking::Response, o: &mut Outcome) {
    let mut head = [0u8; 20];
    let mut got = 0;
    while got < head.len() {
        match resp.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => {
                o.error_type = "transport".into();
                o.error = format!("reading the body: {e}");
                return;
            }
        }
    }
    o.bytes = got as u64;
    match std::io::copy(resp, &mut std::io::sink()) {
        Ok(n) => o.bytes += n,
        Err(e) => {
            o.error_type = "transport".into();
            o.error = format!("reading the body: {e}");
        }
    }
    if !head[..got].starts_with(br#"{"status":"success""#) {
        o.error_type = "not success".into();
        o.error = String::from_utf8_lossy(&head[..got]).into_owned();
    }
}

/// Reads an error body (at most 64 KiB) and its `errorType` and `error`.
fn read_error(resp: reqwest::blocking::Response, o: &mut Outcome) {
    let mut text = String::new();
    let read = resp.take(64 << 10).read_to_string(&mut text);
    o.bytes = text.len() as u64;
    if let Err(e) = read {
        o.error_type = "transport".into();
        o.error = format!("reading the body: {e}");
        return;
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(v) => {
            o.error_type = v["errorType"].as_str().unwrap_or("?").to_string();
            o.error = v["error"].as_str().unwrap_or("").to_string();
        }
        Err(_) => {
            o.error_type = "not json".into();
            o.error = super::stream::one_line(&text);
        }
    }
}

/// The metric names of the mix: per suffix, the name with the most series
/// at `time_ms`.
pub fn pick_names(
    client: &reqwest::blocking::Client,
    base_url: &str,
    time_ms: i64,
) -> Result<Names> {
    let top = |re: &str| -> Result<String> {
        let q = format!("topk(1, count by (__name__) ({{__name__=~\"{re}\"}}))");
        let body: Value = client
            .post(format!("{base_url}/api/v1/query"))
            .form(&[("query", q), ("time", secs(time_ms))])
            .send()
            .context("asking for metric names")?
            .json()
            .context("decoding the metric names")?;
        body["data"]["result"][0]["metric"]["__name__"]
            .as_str()
            .map(str::to_string)
            .with_context(|| format!("no series named like {re}: {body}"))
    };
    Ok(Names {
        bucket: top(".+_bucket")?,
        counter: top(".+_total")?,
    })
}
