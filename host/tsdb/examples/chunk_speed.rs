//! Append and decode speed of the XOR chunk encoding, on a scrape-like
//! counter and a float gauge (120 samples, 15 s interval with jitter).
//!
//! `cargo run --release -p pharos-tsdb --example chunk_speed`
//!
//! A measuring tool, not a test: no assertion, and nothing here runs in CI.

use std::hint::black_box;
use std::time::Instant;

use pharos_tsdb::chunkenc::{XorAppender, XorIter};

fn main() {
    let n = 120usize;
    let rounds = 20_000;
    // Deterministic 0–2 ms jitter.
    let ts: Vec<i64> = (0..n as i64).map(|i| i * 15_000 + (i * 7919) % 3).collect();
    let counter: Vec<f64> = (0..n).map(|i| (i * 17 + 1000) as f64).collect();
    let gauge: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
    for (name, vs) in [("counter", &counter), ("float gauge", &gauge)] {
        // Best of several runs: the machine may be shared.
        let (mut append_ns, mut decode_ns) = (f64::MAX, f64::MAX);
        let mut bytes = 0;
        for _ in 0..7 {
            let start = Instant::now();
            for _ in 0..rounds {
                let mut app = XorAppender::new();
                for (&t, &v) in ts.iter().zip(vs) {
                    app.append(black_box(t), black_box(v));
                }
                black_box(app);
            }
            append_ns = append_ns.min(start.elapsed().as_nanos() as f64 / (rounds * n) as f64);
            let mut app = XorAppender::new();
            for (&t, &v) in ts.iter().zip(vs) {
                app.append(t, v);
            }
            bytes = app.bytes().len();
            let start = Instant::now();
            for _ in 0..rounds {
                for s in XorIter::new(black_box(app.bytes())) {
                    black_box(s);
                }
            }
            decode_ns = decode_ns.min(start.elapsed().as_nanos() as f64 / (rounds * n) as f64);
        }
        println!(
            "{name}: append {append_ns:.1} ns/sample, decode {decode_ns:.1} ns/sample, {:.2} bytes/sample",
            bytes as f64 / n as f64
        );
    }
}
