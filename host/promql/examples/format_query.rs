//! Formats PromQL queries read from stdin, one per line, as
//! `/api/v1/format_query` would; errors are printed as `ERR <message>`.
//!
//! `cargo run -p pharos-promql --example format_query < queries.txt`

use std::io::{BufRead, Write};

fn main() -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in std::io::stdin().lock().lines() {
        match pharos_promql::format_query(&line?) {
            Ok(s) => writeln!(out, "{s}")?,
            Err(e) => writeln!(out, "ERR {e}")?,
        }
    }
    Ok(())
}
