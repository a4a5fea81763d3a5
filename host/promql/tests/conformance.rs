//! Runs Prometheus' PromQL conformance scripts
//! (`shared/conformance/promql/*.test`) through the engine and prints, per
//! file, evals passed / failed / skipped (skipped: native histograms).
//!
//! `tests/conformance_expected.txt` holds the counts of the last accepted
//! run; the test fails when a file passes fewer evals than it did. After an
//! improvement, run with `PHAROS_UPDATE_CONFORMANCE=1` to record the new
//! counts. `PHAROS_CONFORMANCE_VERBOSE=1` prints every failure.

mod promqltest;

use std::collections::BTreeMap;
mod shared;

use std::path::{Path, PathBuf};

use shared::scripts_dir;

fn expected_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance_expected.txt")
}

/// `file -> passed` from the expected-counts file.
fn expected() -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(expected_path()).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.to_string(), w.next()?.parse().ok()?))
        })
        .collect()
}

#[test]
fn conformance_scripts() {
    let dir = scripts_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scripts in {}", dir.display());
    let verbose = std::env::var_os("PHAROS_CONFORMANCE_VERBOSE").is_some();
    let before = expected();
    let mut now = BTreeMap::new();
    let mut regressions = Vec::new();
    let mut lines = vec![
        "# file passed failed skipped — written by PHAROS_UPDATE_CONFORMANCE=1 cargo test -p pharos-promql --test conformance".to_string(),
    ];
    let (mut tp, mut tf, mut ts) = (0, 0, 0);
    for f in &files {
        let name = f
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_string();
        let text = std::fs::read_to_string(f).expect("read script");
        let r = match promqltest::run(&text) {
            Ok(r) => r,
            Err(e) => {
                // A script using syntax the runner does not read yet.
                println!("{name:28} not run: {e}");
                promqltest::Report::default()
            }
        };
        println!(
            "{name:28} passed {:4}  failed {:4}  skipped {:4}",
            r.passed, r.failed, r.skipped
        );
        if verbose {
            for fail in &r.failures {
                println!("    {fail}");
            }
        }
        if let Some(&want) = before.get(&name)
            && r.passed < want
        {
            regressions.push(format!("{name}: {} passed, {want} before", r.passed));
            for fail in r.failures.iter().take(10) {
                regressions.push(format!("    {fail}"));
            }
        }
        (tp, tf, ts) = (tp + r.passed, tf + r.failed, ts + r.skipped);
        lines.push(format!("{name} {} {} {}", r.passed, r.failed, r.skipped));
        now.insert(name, r.passed);
    }
    println!(
        "{:28} passed {tp:4}  failed {tf:4}  skipped {ts:4}",
        "total"
    );
    if std::env::var_os("PHAROS_UPDATE_CONFORMANCE").is_some() {
        lines.push(String::new());
        std::fs::write(expected_path(), lines.join("\n")).expect("write expected counts");
    }
    assert!(
        regressions.is_empty(),
        "conformance regressed:\n{}",
        regressions.join("\n")
    );
}
