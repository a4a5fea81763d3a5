//! `check_files` against `promtool check rules` (Prometheus 2.42): every rule
//! file under `testdata/rulefmt/cases` and `testdata/rulefmt/corpus` has the
//! output promtool printed for it recorded beside it (`FILE.promtool`,
//! written by `testdata/rulefmt/record.sh`); where Pharos deliberately
//! differs (Prometheus 3.x fields), `FILE.pharos` holds the expected output
//! instead. The test needs no promtool.

use std::cell::RefCell;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use pharos_rules::rulefmt::{CheckOptions, check_files};

/// One stream for stdout and stderr, as `2>&1` records them.
#[derive(Clone, Default)]
struct Merged(Rc<RefCell<Vec<u8>>>);

impl Write for Merged {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn rule_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rule_files(&p, out);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")) {
            out.push(p);
        }
    }
}

/// Our output for `path` in the recorded form.
fn pharos_output(path: &Path) -> String {
    let buf = Merged::default();
    let (mut out, mut err) = (buf.clone(), buf.clone());
    let status = check_files(
        &[path.to_path_buf()],
        CheckOptions::default(),
        &mut out,
        &mut err,
    )
    .expect("writing to memory");
    let mut text = String::from_utf8_lossy(&buf.0.borrow()).into_owned();
    text.push_str(&format!("exit status: {status}\n"));
    text
}

fn expected(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let pharos = path.with_file_name(format!("{name}.pharos"));
    let promtool = path.with_file_name(format!("{name}.promtool"));
    std::fs::read_to_string(pharos)
        .or_else(|_| std::fs::read_to_string(promtool))
        .ok()
}

/// Compares every file under `dir`; returns (files, accepted, mismatches).
fn compare_dir(dir: &str) -> (usize, usize, Vec<String>) {
    let mut files = Vec::new();
    rule_files(Path::new(dir), &mut files);
    files.sort();
    let mut mismatches = Vec::new();
    let mut accepted = 0;
    for f in &files {
        let Some(want) = expected(f) else {
            mismatches.push(format!(
                "{}: no recorded output (run record.sh)",
                f.display()
            ));
            continue;
        };
        if want.ends_with("exit status: 0\n") && want.contains("SUCCESS") {
            accepted += 1;
        }
        let got = pharos_output(f);
        if got != want {
            mismatches.push(format!("--- {}\nwant:\n{want}got:\n{got}", f.display()));
        }
    }
    (files.len(), accepted, mismatches)
}

#[test]
fn cases_match_promtool() {
    let (n, accepted, mismatches) = compare_dir("testdata/rulefmt/cases");
    assert!(n >= 40, "only {n} cases");
    eprintln!("cases: {n} files, {accepted} accepted");
    assert!(
        mismatches.is_empty(),
        "{} of {n} differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn corpus_matches_promtool() {
    let (n, accepted, mismatches) = compare_dir("testdata/rulefmt/corpus");
    eprintln!("corpus: {n} files, {accepted} accepted by promtool");
    assert!(
        mismatches.is_empty(),
        "{} of {n} differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn missing_file_is_reported_as_promtool_does() {
    let path = Path::new("testdata/rulefmt/no_such_file.yml");
    assert_eq!(
        pharos_output(path),
        "Checking testdata/rulefmt/no_such_file.yml\n  FAILED:\n\
         testdata/rulefmt/no_such_file.yml: open testdata/rulefmt/no_such_file.yml: no such file or directory\n\n\
         exit status: 1\n"
    );
}

#[test]
fn lint_can_be_off_or_fatal() {
    let path = PathBuf::from("testdata/rulefmt/cases/good_duplicate_rules.yml");
    let mut out = Vec::new();
    let mut err = Vec::new();
    let off = CheckOptions {
        lint_duplicates: false,
        lint_fatal: false,
    };
    assert_eq!(
        check_files(std::slice::from_ref(&path), off, &mut out, &mut err).ok(),
        Some(0)
    );
    assert!(String::from_utf8_lossy(&out).contains("SUCCESS: 5 rules found"));
    let fatal = CheckOptions {
        lint_duplicates: true,
        lint_fatal: true,
    };
    assert_eq!(
        check_files(&[path], fatal, &mut out, &mut err).ok(),
        Some(3)
    );
}

#[test]
fn no_panic_on_truncated_or_garbled_files() {
    let mut files = Vec::new();
    rule_files(Path::new("testdata/rulefmt/cases"), &mut files);
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        for (i, _) in text.char_indices() {
            let _ = pharos_rules::rulefmt::parse_str(&text[..i], "t.yml");
            let garbled: String = text
                .chars()
                .enumerate()
                .map(|(j, c)| if j == i { '\u{2028}' } else { c })
                .collect();
            let _ = pharos_rules::rulefmt::parse_str(&garbled, "t.yml");
        }
    }
}
