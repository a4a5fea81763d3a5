//! Parsing speed on a large body: the saved node-exporter scrape repeated
//! until the body is about 64 MiB, in the text format and converted to
//! OpenMetrics. Prints MB/s and samples/s for parsing alone and for parsing
//! plus building every sample's labels (a scraper with a cold cache).
//!
//! `cargo run --release -p pharos-textparse --example parse_speed [MiB]`

use std::time::{Duration, Instant};

use pharos_textparse::{Entry, Format, ParseError, Parser};

const NODE_EXPORTER: &str = include_str!("../testdata/text/valid/node_exporter.txt");

/// Parses `body`, returning the number of samples and a checksum of values
/// (so the work cannot be optimised away).
fn parse(body: &[u8], format: Format, build_labels: bool) -> Result<(usize, f64), ParseError> {
    let (mut samples, mut sum) = (0, 0.0);
    for entry in Parser::new(body, format) {
        if let Entry::Sample(s) = entry? {
            samples += 1;
            if s.value.is_finite() {
                sum += s.value;
            }
            if build_labels {
                sum += s.labels()?.len() as f64;
            }
        }
    }
    Ok((samples, sum))
}

/// The best of a few runs of `parse`.
fn measure(
    body: &[u8],
    format: Format,
    build_labels: bool,
) -> Result<(usize, Duration), ParseError> {
    let mut best = Duration::MAX;
    let mut samples = 0;
    for _ in 0..5 {
        let start = Instant::now();
        let (n, sum) = parse(body, format, build_labels)?;
        best = best.min(start.elapsed());
        samples = n;
        std::hint::black_box(sum);
    }
    Ok((samples, best))
}

fn main() -> Result<(), ParseError> {
    let mib: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(64);
    let copies = (mib << 20) / NODE_EXPORTER.len() + 1;
    let text = NODE_EXPORTER.repeat(copies);
    // The node exporter's body is valid OpenMetrics but for the type name
    // `untyped` and the final `# EOF`.
    let mut openmetrics = text.replace(" untyped\n", " unknown\n");
    openmetrics.push_str("# EOF\n");

    println!(
        "body: node_exporter.txt x {copies} = {:.1} MiB",
        text.len() as f64 / (1 << 20) as f64
    );
    for (name, body, format) in [
        ("text", &text, Format::PromText),
        ("openmetrics", &openmetrics, Format::OpenMetrics),
    ] {
        for build_labels in [false, true] {
            let (samples, took) = measure(body.as_bytes(), format, build_labels)?;
            let secs = took.as_secs_f64();
            println!(
                "{name:<12} {:<18} {:>8.1} MB/s {:>7.2} M samples/s ({samples} samples in {:.1} ms)",
                if build_labels {
                    "parse + labels()"
                } else {
                    "parse"
                },
                body.len() as f64 / secs / 1e6,
                samples as f64 / secs / 1e6,
                secs * 1e3,
            );
        }
    }
    Ok(())
}
