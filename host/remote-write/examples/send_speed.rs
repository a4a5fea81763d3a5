//! Measures remote-write sending: a storage holding `SERIES x SCRAPES`
//! samples (written first, as scrapes of every series), one queue that
//! sends all of it from the oldest WAL segment, and a receiver in a child
//! process (this program with `--receive`) that decodes every request and
//! counts samples, so the CPU reported is the sender's alone.
//!
//! ```text
//! cargo run --release -p pharos-remote-write --example send_speed -- [SERIES] [SCRAPES] [MAX_SAMPLES_PER_SEND]
//! ```

#![allow(clippy::unwrap_used)]

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pharos_model::{Labels, Sample};
use pharos_remote_write::{Options, RemoteWrite};
use pharos_tests::bench::procfs::{clock_ticks, cpu_ticks};
use pharos_tsdb::{Appendable, Db, DbOptions, SeriesAppend};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--receive") {
        receive();
        return;
    }
    let arg = |i: usize, d: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let (series, scrapes, per_send) = (arg(1, 10_000), arg(2, 100), arg(3, 2_000));
    let total = (series * scrapes) as u64;

    let mut child = Command::new(std::env::current_exe().unwrap())
        .arg("--receive")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.trim().to_owned();

    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open_without_worker(dir.path(), DbOptions::default()).unwrap());
    let labels: Vec<Labels> = (0..series)
        .map(|i| {
            Labels::from_pairs([
                ("__name__", format!("bench_metric_{}", i % 100)),
                ("instance", format!("host-{}:9100", i / 100)),
                ("job", "bench".to_owned()),
            ])
        })
        .collect();
    let started = Instant::now();
    for s in 0..scrapes {
        let batch: Vec<SeriesAppend> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| SeriesAppend {
                labels: l.clone(),
                samples: vec![Sample::new(
                    1_700_000_000_000 + s as i64 * 15_000,
                    (i * s) as f64,
                )],
            })
            .collect();
        db.append(&batch).unwrap();
    }
    let wal_bytes = db.metrics().wal_bytes;
    println!(
        "wrote {total} samples ({series} series x {scrapes} scrapes) in {:.2?}; WAL {} MiB",
        started.elapsed(),
        wal_bytes >> 20
    );

    let cfg = pharos_config::Config::from_toml(
        &format!(
            "[[remote_write]]\nurl = \"http://{addr}/api/v1/write\"\nqueue_config = {{ max_samples_per_send = {per_send} }}\n"
        ),
        "bench.toml",
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut opts = Options::new(dir.path().join("wal"), dir.path().join("remote_write"));
    opts.series = Some(db.clone());
    opts.new_queues_from_oldest = true;
    let pid = std::process::id();
    let cpu0 = cpu_ticks(pid).unwrap();
    let t0 = Instant::now();
    let rw = rt
        .block_on(async { RemoteWrite::start(opts, &cfg.remote_write, &Labels::empty()) })
        .unwrap();
    let mut max_shards = 0;
    loop {
        let q = rw.stats().remove(0);
        max_shards = max_shards.max(q.shards);
        if q.samples_sent_total + q.samples_failed_total >= total {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let elapsed = t0.elapsed();
    let cpu = (cpu_ticks(pid).unwrap() - cpu0) as f64 / clock_ticks() as f64;
    let q = rw.stats().remove(0);
    rt.block_on(rw.stop());
    let received: u64 = reqwest::blocking::get(format!("http://{addr}/count"))
        .unwrap()
        .text()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(q.samples_failed_total, 0);
    assert_eq!(received, total, "receiver counted {received}");
    println!(
        "sent {total} samples in {:.2?}: {:.0} samples/s; sender CPU {cpu:.2} s = {:.2} us/sample; \
         {} requests of up to {per_send}, {:.2} bytes/sample on the wire; shards up to {max_shards}",
        elapsed,
        total as f64 / elapsed.as_secs_f64(),
        cpu * 1e6 / total as f64,
        q.batches_sent_total,
        q.bytes_sent_total as f64 / total as f64,
    );
}

/// The receiver: decodes each request and counts its samples.
fn receive() {
    use axum::Router;
    use axum::body::Bytes;
    use axum::routing::{get, post};

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let count = Arc::new(AtomicU64::new(0));
        let c = count.clone();
        let app = Router::new()
            .route(
                "/api/v1/write",
                post(move |body: Bytes| {
                    let c = c.clone();
                    async move {
                        let req = pharos_prompb::decode_write_request(&body).unwrap();
                        let n: usize = req.timeseries.iter().map(|t| t.samples.len()).sum();
                        c.fetch_add(n as u64, Ordering::Relaxed);
                        axum::http::StatusCode::NO_CONTENT
                    }
                }),
            )
            .route(
                "/count",
                get(move || async move { count.load(Ordering::Relaxed).to_string() }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("{}", listener.local_addr().unwrap());
        axum::serve(listener, app).await.unwrap();
    });
}
