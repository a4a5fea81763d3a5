//! `promtool check rules FILE...` (Prometheus 2.42, `cmd/promtool`): the
//! same lines on the same streams and the same exit status.
//!
//! For each file, `Checking FILE` on stdout, then either
//! `  SUCCESS: N rules found` on stdout or `  FAILED:` and one line per
//! error on stderr, then an empty line on stdout. The duplicate-rule lint
//! (on by default, `--lint=duplicate-rules`) reports rules of one file with
//! the same name and labels as a lint error: listed as a failure but exit
//! status 0, unless `--lint-fatal` (status 3). Any other error: status 1.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;

use super::types::RuleFile;

/// promtool's lint settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckOptions {
    /// `--lint=duplicate-rules` (the default) rather than `--lint=none`.
    pub lint_duplicates: bool,
    /// `--lint-fatal`: lint findings make the exit status 3.
    pub lint_fatal: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            lint_duplicates: true,
            lint_fatal: false,
        }
    }
}

/// Checks `paths` as `promtool check rules` does, printing to `out`
/// (promtool's stdout) and `err` (its stderr). Returns the exit status:
/// 0 success (lint findings included unless fatal), 1 an error, 3 lint
/// findings with `lint_fatal`.
pub fn check_files(
    paths: &[PathBuf],
    opts: CheckOptions,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<i32> {
    let mut failed = false;
    let mut has_errors = false;
    for path in paths {
        writeln!(out, "Checking {}", path.display())?;
        match super::load_file(path) {
            Ok(file) => {
                let dups = if opts.lint_duplicates {
                    duplicates(&file)
                } else {
                    Vec::new()
                };
                if dups.is_empty() {
                    writeln!(out, "  SUCCESS: {} rules found", rule_count(&file))?;
                } else {
                    failed = true;
                    writeln!(err, "  FAILED:")?;
                    writeln!(err, "{}", lint_message(&dups))?;
                }
            }
            Err(errors) => {
                failed = true;
                has_errors = true;
                writeln!(err, "  FAILED:")?;
                for e in &errors {
                    writeln!(err, "{e}")?;
                }
            }
        }
        writeln!(out)?;
    }
    Ok(if failed && has_errors {
        1
    } else if failed && opts.lint_fatal {
        3
    } else {
        0
    })
}

fn rule_count(file: &RuleFile) -> usize {
    file.groups.iter().map(|g| g.rules.len()).sum()
}

/// A rule's name and sorted labels (promtool's `compareRuleType`).
type RuleKey = (String, Vec<(String, String)>);

/// Rules with the same name and labels, once each, in promtool's order
/// (name, then labels).
fn duplicates(file: &RuleFile) -> Vec<RuleKey> {
    let mut counts: BTreeMap<RuleKey, usize> = BTreeMap::new();
    for g in &file.groups {
        for r in &g.rules {
            let mut labels = r.labels.clone();
            labels.sort();
            *counts.entry((r.name().to_owned(), labels)).or_default() += 1;
        }
    }
    let mut dups: Vec<RuleKey> = counts
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(k, _)| k)
        .collect();
    dups.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| compare_labels(&a.1, &b.1)));
    dups
}

/// Prometheus' `labels.Compare`: pairwise by name then value, then length.
fn compare_labels(a: &[(String, String)], b: &[(String, String)]) -> std::cmp::Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = x.0.cmp(&y.0).then_with(|| x.1.cmp(&y.1));
        if o.is_ne() {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

fn lint_message(dups: &[RuleKey]) -> String {
    let mut m = format!("lint error {} duplicate rule(s) found.\n", dups.len());
    for (metric, labels) in dups {
        m.push_str(&format!("Metric: {metric}\nLabel(s):\n"));
        for (k, v) in labels {
            m.push_str(&format!("\t{k}: {v}\n"));
        }
    }
    m.push_str("Might cause inconsistency while recording expressions");
    m
}
