//! Table tests from `tests/testdata/`: `format_query.txt` (query and its
//! canonical form) and `parse_errors.txt` (query and its error message).

use std::path::Path;

use pharos_promql::{format_query, parse};

/// `(line, input, expected)` cases: a query, then `=> expected` (which may
/// continue on indented lines).
fn cases(file: &str) -> Vec<(usize, String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/testdata")
        .join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut out: Vec<(usize, String, String)> = Vec::new();
    let mut input: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(expected) = line.strip_prefix("=>") {
            let (n, q) = input.take().unwrap_or((i + 1, String::new()));
            out.push((n, q, expected.trim_start().to_string()));
        } else if line.starts_with("    ") && input.is_none() && !out.is_empty() {
            if let Some(last) = out.last_mut() {
                last.2.push('\n');
                last.2.push_str(&line[4..]);
            }
        } else if line.starts_with('#') || line.trim().is_empty() {
            input = None;
        } else if let Some((_, q)) = &mut input {
            q.push('\n');
            q.push_str(line);
        } else {
            input = Some((i + 1, line.to_string()));
        }
    }
    out
}

#[test]
fn format_query_cases() {
    let cases = cases("format_query.txt");
    assert!(cases.len() > 20);
    let mut failures = Vec::new();
    for (line, input, want) in cases {
        match format_query(&input) {
            Ok(got) if got == want => {
                // The canonical form is a fixed point.
                match format_query(&got) {
                    Ok(again) if again == got => {}
                    other => failures.push(format!("line {line}: {got:?} reformats as {other:?}")),
                }
            }
            other => failures.push(format!(
                "line {line}: {input:?}: want {want:?}, got {other:?}"
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn parse_error_cases() {
    let cases = cases("parse_errors.txt");
    assert!(cases.len() > 20);
    let mut failures = Vec::new();
    for (line, input, want) in cases {
        match parse(&input) {
            Err(e) if e.to_string() == want => {}
            Err(e) => failures.push(format!(
                "line {line}: {input:?}:\n  want {want}\n  got  {e}"
            )),
            Ok(e) => failures.push(format!("line {line}: {input:?} parsed as {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
