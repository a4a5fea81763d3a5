//! Measures relabeling on the scrape path: `process_builder` over typical
//! `metric_relabel_configs`, per label set. Run with
//! `cargo run --release -p pharos-relabel --example relabel_speed`.

use std::hint::black_box;
use std::time::Instant;

use pharos_model::Labels;
use pharos_relabel::{Relabel, RelabelConfig, process, process_builder};

fn steps(toml_steps: &str) -> Vec<Relabel> {
    #[derive(serde::Deserialize)]
    struct Steps {
        step: Vec<RelabelConfig>,
    }
    let parsed: Steps = match toml::from_str(toml_steps) {
        Ok(s) => s,
        Err(e) => panic!("bad steps: {e}"),
    };
    parsed
        .step
        .iter()
        .map(|c| c.compile().unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

fn measure(name: &str, labels: &Labels, relabels: &[Relabel]) {
    let rounds = 1_000_000u32;
    let start = Instant::now();
    let mut kept = 0u32;
    for _ in 0..rounds {
        let mut lb = labels.to_builder();
        if process_builder(&mut lb, black_box(relabels)) {
            kept += 1;
        }
        black_box(lb);
    }
    let with_builder = start.elapsed() / rounds;
    let start = Instant::now();
    for _ in 0..rounds {
        black_box(labels.to_builder());
    }
    let clone_only = start.elapsed() / rounds;
    let start = Instant::now();
    for _ in 0..rounds {
        black_box(process(labels, black_box(relabels)));
    }
    let with_process = start.elapsed() / rounds;
    println!(
        "{name:<40} builder {:>5} ns (of which {:>4} ns copying the input)  process {:>5} ns  kept {kept}",
        with_builder.as_nanos(),
        clone_only.as_nanos(),
        with_process.as_nanos(),
    );
}

fn main() {
    let labels = Labels::from_pairs([
        ("__name__", "http_requests_total"),
        ("code", "200"),
        ("handler", "/api/v1/query"),
        ("instance", "10.0.0.1:9100"),
        ("job", "node"),
        ("method", "get"),
    ]);
    let drop_go = steps(
        r#"[[step]]
source_labels = ["__name__"]
regex = "go_.*|process_.*"
action = "drop""#,
    );
    let labeldrop = steps(
        r#"[[step]]
action = "labeldrop"
regex = "pod_template_hash|controller_revision_hash""#,
    );
    let replace = steps(
        r#"[[step]]
source_labels = ["instance"]
regex = '(.+):\d+'
target_label = "host""#,
    );
    let unchanged = steps(
        r#"[[step]]
source_labels = ["job"]
target_label = "job""#,
    );
    let hashmod = steps(
        r#"[[step]]
source_labels = ["instance", "handler"]
modulus = 16
target_label = "shard"
action = "hashmod""#,
    );
    measure("drop by __name__ (no match)", &labels, &drop_go);
    measure("labeldrop (no match)", &labels, &labeldrop);
    measure("replace (adds host)", &labels, &replace);
    measure("replace (same value, no change)", &labels, &unchanged);
    measure("hashmod over two labels", &labels, &hashmod);
}
