//! Parser suites from files under `testdata/` (see `testdata/README.md`):
//!
//! - `{text,openmetrics}/valid/NAME.txt` must parse; the entries, dumped
//!   one a line, must equal `NAME.out`.
//! - `{text,openmetrics}/invalid/NAME.txt` must fail; the error must equal
//!   `NAME.err`.
//! - `prometheus-2.42.txt` records what Prometheus 2.42 made of every case
//!   when scraping it; our verdict must agree except for the cases listed
//!   in `deviations.txt`.
//! - `content_type.txt`: `Content-Type` values and the format chosen.
//!
//! `TEXTPARSE_BLESS=1 cargo test -p pharos-textparse --test suites` rewrites
//! the `.out` and `.err` files from the current output (review the diff).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use pharos_textparse::{Entry, Format, NORMAL_NAN_BITS, ParseError, Parser};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

fn bless() -> bool {
    std::env::var_os("TEXTPARSE_BLESS").is_some()
}

/// The `.txt` inputs of one suite directory, sorted.
fn inputs(dir: &str) -> Vec<PathBuf> {
    let dir = testdata().join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    files
}

fn fmt_value(v: f64) -> String {
    if v.is_nan() && v.to_bits() != NORMAL_NAN_BITS {
        format!("NaN(bits {:#x})", v.to_bits())
    } else {
        format!("{v:?}")
    }
}

fn fmt_labels(labels: &pharos_model::Labels) -> String {
    let pairs: Vec<String> = labels
        .iter()
        .map(|l| format!("{}={:?}", l.name, l.value))
        .collect();
    format!("{{{}}}", pairs.join(","))
}

/// `{:?}` of the text, with bytes that are not UTF-8 as `\xNN`.
fn quoted(b: &[u8]) -> String {
    let mut out = String::from("\"");
    for chunk in b.utf8_chunks() {
        let valid = format!("{:?}", chunk.valid());
        out.push_str(&valid[1..valid.len() - 1]);
        for byte in chunk.invalid() {
            write!(out, "\\x{byte:02x}").unwrap();
        }
    }
    out.push('"');
    out
}

/// Parses `body` completely, building every sample's and exemplar's
/// labels as a scraper does on a cache miss, and dumps the entries.
fn dump(body: &[u8], format: Format) -> Result<String, ParseError> {
    let mut out = String::new();
    for entry in Parser::new(body, format) {
        match entry? {
            Entry::Help { metric, text } => writeln!(out, "help {metric} {text:?}"),
            Entry::Type {
                metric,
                metric_type,
            } => writeln!(out, "type {metric} {metric_type}"),
            Entry::Unit { metric, unit } => writeln!(out, "unit {metric} {unit:?}"),
            Entry::Comment(c) => writeln!(out, "comment {}", quoted(c)),
            Entry::Sample(s) => {
                let labels = s.labels()?;
                write!(
                    out,
                    "sample {} {} {}",
                    s.line,
                    fmt_labels(&labels),
                    fmt_value(s.value)
                )
                .unwrap();
                if let Some(ts) = s.timestamp {
                    write!(out, " @{ts}").unwrap();
                }
                write!(out, " series={:?}", s.series).unwrap();
                if let Some(ex) = &s.exemplar {
                    write!(
                        out,
                        " exemplar {} {}",
                        fmt_labels(&ex.labels()),
                        fmt_value(ex.value)
                    )
                    .unwrap();
                    if let Some(ts) = ex.timestamp {
                        write!(out, " @{ts}").unwrap();
                    }
                }
                writeln!(out)
            }
        }
        .unwrap();
    }
    Ok(out)
}

fn format_of(suite: &str) -> Format {
    if suite.starts_with("openmetrics") {
        Format::OpenMetrics
    } else {
        Format::PromText
    }
}

fn run_valid(suite: &str) -> usize {
    let files = inputs(&format!("{suite}/valid"));
    let mut failures = Vec::new();
    for input in &files {
        let body = std::fs::read(input).unwrap();
        let want_path = input.with_extension("out");
        match dump(&body, format_of(suite)) {
            Ok(got) if bless() => std::fs::write(&want_path, got).unwrap(),
            Ok(got) => {
                let want = std::fs::read_to_string(&want_path).unwrap_or_default();
                if got != want {
                    let first = got
                        .lines()
                        .zip(want.lines())
                        .position(|(g, w)| g != w)
                        .unwrap_or(got.lines().count().min(want.lines().count()));
                    failures.push(format!(
                        "{}: output differs from {} at output line {}:\n  got  {:?}\n  want {:?}",
                        input.display(),
                        want_path.display(),
                        first + 1,
                        got.lines().nth(first),
                        want.lines().nth(first),
                    ));
                }
            }
            Err(e) => failures.push(format!("{}: {e}", input.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    files.len()
}

fn run_invalid(suite: &str) -> usize {
    let files = inputs(&format!("{suite}/invalid"));
    let mut failures = Vec::new();
    for input in &files {
        let body = std::fs::read(input).unwrap();
        let want_path = input.with_extension("err");
        match dump(&body, format_of(suite)) {
            Err(e) if bless() => std::fs::write(&want_path, format!("{e}\n")).unwrap(),
            Err(e) => {
                let want = std::fs::read_to_string(&want_path).unwrap_or_default();
                if e.to_string() != want.trim_end() {
                    failures.push(format!(
                        "{}:\n  got  {e}\n  want {}",
                        input.display(),
                        want.trim_end()
                    ));
                }
            }
            Ok(_) => failures.push(format!("{}: parsed without error", input.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    files.len()
}

#[test]
fn text_valid() {
    assert!(run_valid("text") >= 20);
}

#[test]
fn text_invalid() {
    assert!(run_invalid("text") >= 30);
}

#[test]
fn openmetrics_valid() {
    assert!(run_valid("openmetrics") >= 15);
}

#[test]
fn openmetrics_invalid() {
    assert!(run_invalid("openmetrics") >= 30);
}

/// `name<TAB>verdict` lines of a testdata file, `#` comments skipped.
fn table(file: &str) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(testdata().join(file)).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.split_once('\t').unwrap_or((l, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn verdicts_agree_with_prometheus() {
    let prometheus = table("prometheus-2.42.txt");
    let deviations = table("deviations.txt");
    let mut failures = Vec::new();
    let mut checked = 0;
    for suite in ["text", "openmetrics"] {
        for kind in ["valid", "invalid"] {
            for input in inputs(&format!("{suite}/{kind}")) {
                let stem = input.file_stem().unwrap().to_string_lossy();
                let case = format!("{suite}/{kind}/{stem}");
                checked += 1;
                let Some(verdict) = prometheus.get(&case) else {
                    failures.push(format!(
                        "{case}: not in prometheus-2.42.txt (run testdata/check-prometheus.py)"
                    ));
                    continue;
                };
                let prometheus_accepts = verdict == "up";
                let we_accept = kind == "valid";
                let deviates = deviations.contains_key(&case);
                if (prometheus_accepts != we_accept) != deviates {
                    failures.push(format!(
                        "{case}: Prometheus 2.42 says {verdict:?}, deviation listed: {deviates}"
                    ));
                }
            }
        }
    }
    assert!(checked > 100);
    for case in deviations.keys() {
        if !prometheus.contains_key(case) {
            failures.push(format!("deviations.txt names unknown case {case}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn content_types() {
    let text = std::fs::read_to_string(testdata().join("content_type.txt")).unwrap();
    let mut failures = Vec::new();
    let mut n = 0;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (input, want) = line.rsplit_once(" => ").expect("`input => want`");
        let input = match input {
            "<missing>" => None,
            "<empty>" => Some(""),
            s => Some(s),
        };
        let got = match Format::from_content_type(input) {
            Ok(Format::PromText) => "text".to_string(),
            Ok(Format::OpenMetrics) => "openmetrics".to_string(),
            Err(e) => format!("error: {e}"),
        };
        n += 1;
        if got != want {
            failures.push(format!("line {}: {input:?}: got {got}, want {want}", i + 1));
        }
    }
    assert!(n >= 15);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
