//! `pharos test rules` against `promtool test rules`: every
//! `testdata/unittest/*.test.yml` must give promtool's verdict and output,
//! recorded next to it as `<name>.promtool` by `record.sh`.

#![allow(clippy::unwrap_used)]

use std::cell::RefCell;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// One buffer behind both stdout and stderr, so their lines interleave as
/// a terminal shows them.
#[derive(Clone, Default)]
struct Both(Rc<RefCell<Vec<u8>>>);

impl Write for Both {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn verdicts_and_output_match_promtool() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/unittest");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".test.yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    let mut failures = Vec::new();
    for f in &files {
        let both = Both::default();
        let status = pharos_rules::unittest::run_files(
            std::slice::from_ref(f),
            &mut both.clone(),
            &mut both.clone(),
        )
        .unwrap();
        let out = String::from_utf8(both.0.borrow().clone()).unwrap();
        let got = format!(
            "{}\nexit {status}",
            out.replace(&format!("{}/", dir.display()), "").trim_end()
        );
        let name = f
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".test.yml", ".promtool");
        let want = std::fs::read_to_string(dir.join(&name)).unwrap();
        if got.trim_end() != want.trim_end() {
            failures.push(format!("{name}:\n--- got\n{got}\n--- want\n{want}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
