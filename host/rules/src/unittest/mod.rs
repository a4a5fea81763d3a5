//! `pharos test rules`: promtool's rule unit tests (`promtool test rules`).
//!
//! A test file names rule files, an `evaluation_interval` and test groups,
//! each with `input_series` in the expanding notation, `alert_rule_test`
//! (the firing alerts of a rule at a time) and `promql_expr_test` (a
//! query's result at a time). The rules are evaluated from time 0 to the
//! last time a test asks about, every `evaluation_interval`, on an
//! in-memory storage holding the input series up to that time — as
//! promtool 2.42 does, with the same verdicts and promtool's output.

mod format;
mod run;

use std::io::{self, Write};
use std::path::PathBuf;

pub use run::test_file;

/// Runs the test files and prints what `promtool test rules` prints.
/// Returns the exit status: 0 if all passed, 1 otherwise.
pub fn run_files(paths: &[PathBuf], out: &mut impl Write, err: &mut impl Write) -> io::Result<i32> {
    let mut failed = false;
    for path in paths {
        writeln!(out, "Unit Testing:  {}", path.display())?;
        match test_file(path) {
            Ok(()) => writeln!(out, "  SUCCESS")?,
            Err(errors) => {
                failed = true;
                writeln!(err, "  FAILED:")?;
                for e in errors {
                    writeln!(err, "{e}")?;
                    writeln!(out)?;
                }
            }
        }
        writeln!(out)?;
    }
    Ok(i32::from(failed))
}
