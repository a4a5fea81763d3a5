//! Parses every `eval` query of Prometheus' PromQL conformance scripts
//! (`shared/conformance/promql/*.test`) and checks that those not expected
//! to fail parse, and that printing round-trips:
//! `parse(print(parse(q))) == parse(q)` and printing is idempotent.
//!
//! The scripts are found at `$PHAROS_SHARED_DIR/conformance/promql`, or
//! `../../../shared/conformance/promql` from this crate. Queries listed in
//! `tests/parse_skip.txt` are not required to parse.

use std::collections::HashSet;
mod shared;

use std::path::{Path, PathBuf};

use shared::scripts_dir;

use pharos_promql::parse;

/// `(file, query)` pairs from the skip list.
fn skip_list() -> HashSet<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parse_skip.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(": "))
        .map(|(f, q)| (f.to_string(), q.to_string()))
        .collect()
}

struct Eval {
    line: usize,
    query: String,
    expect_fail: bool,
}

/// The `eval` commands of one script.
fn evals(text: &str) -> Vec<Eval> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        let Some(rest) = t.strip_prefix("eval") else {
            continue;
        };
        let (kind, rest) = rest.split_once(' ').unwrap_or((rest, ""));
        let mut words = rest.split_whitespace();
        let query_start = match words.next() {
            // instant at <t> <query>
            Some("instant") => 3,
            // range from <a> to <b> step <s> <query>
            Some("range") => 7,
            _ => continue,
        };
        let query = nth_rest(rest, query_start);
        let mut expect_fail = kind == "_fail";
        for follow in &lines[i + 1..] {
            let f = follow.trim();
            if f.is_empty() || !follow.starts_with([' ', '\t']) {
                break;
            }
            if f.starts_with("expect fail") {
                expect_fail = true;
            }
        }
        out.push(Eval {
            line: i + 1,
            query: query.trim().to_string(),
            expect_fail,
        });
    }
    out
}

/// `s` after its first `n` whitespace-separated words.
fn nth_rest(s: &str, n: usize) -> &str {
    let mut rest = s.trim_start();
    for _ in 0..n {
        rest = rest
            .split_once(char::is_whitespace)
            .map_or("", |(_, r)| r)
            .trim_start();
    }
    rest
}

#[test]
fn conformance_queries_parse_and_round_trip() {
    let dir = scripts_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scripts in {}", dir.display());
    let skips = skip_list();
    let mut failures = Vec::new();
    let (mut total, mut total_ok) = (0, 0);
    for file in &files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let (mut n, mut ok, mut fail_ok, mut fail_n, mut skipped) = (0, 0, 0, 0, 0);
        for ev in evals(&text) {
            let parsed = parse(&ev.query);
            if ev.expect_fail {
                fail_n += 1;
                fail_ok += usize::from(parsed.is_ok());
                continue;
            }
            n += 1;
            if skips.contains(&(name.clone(), ev.query.clone())) {
                skipped += 1;
                continue;
            }
            let e = match parsed {
                Ok(e) => e,
                Err(err) => {
                    failures.push(format!("{name}:{}: {}\n    {err}", ev.line, ev.query));
                    continue;
                }
            };
            let printed = e.to_string();
            match parse(&printed) {
                Ok(again) if again == e && again.to_string() == printed => ok += 1,
                Ok(again) => failures.push(format!(
                    "{name}:{}: {}\n    printed {printed}\n    reprinted {again}\n    ASTs equal: {}",
                    ev.line,
                    ev.query,
                    again == e
                )),
                Err(err) => failures.push(format!(
                    "{name}:{}: {}\n    printed {printed}\n    does not parse: {err}",
                    ev.line, ev.query
                )),
            }
        }
        println!(
            "{name:28} {ok:4}/{n:<4} parse and round-trip ({skipped} skipped); \
             expected-to-fail evals that parse: {fail_ok}/{fail_n}"
        );
        total += n;
        total_ok += ok;
    }
    println!("total: {total_ok}/{total}");
    assert!(
        failures.is_empty(),
        "{} queries failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
