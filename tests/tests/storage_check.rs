//! `pharos storage check DIR` with the real binary on a data directory the
//! real server wrote and the test damages: exit 0 and "nothing is damaged"
//! when clean; exit 1 listing the damaged checkpoint and sled; 2 for a
//! directory that is not a storage. `pharos run` on the damaged directory
//! refuses to start with an error that says what to do.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pharos_prompb::encode_write_request;
use pharos_tests::pharos::{Pharos, pharos_bin};
use pharos_tests::remote_write::{post_write, write_request};

fn check(dir: &Path) -> Output {
    Command::new(pharos_bin().unwrap())
        .args(["storage", "check"])
        .arg(dir)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn checkpoint(data: &Path) -> PathBuf {
    std::fs::read_dir(data.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("checkpoint.")
        })
        .unwrap()
}

fn flip(path: &Path, from: usize, len: usize) {
    let mut b = std::fs::read(path).unwrap();
    for x in &mut b[from..from + len] {
        *x ^= 0x5a;
    }
    std::fs::write(path, b).unwrap();
}

#[test]
fn storage_check_lists_what_the_test_damaged() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = Pharos::start(&data).unwrap();
    let client = reqwest::blocking::Client::new();
    for t in 0..10 {
        let series: Vec<_> = (0..20)
            .map(|i| {
                (
                    vec![("__name__", "checked".to_string()), ("i", i.to_string())],
                    vec![(1_700_000_000_000 + t * 1000, t as f64)],
                )
            })
            .collect();
        let body = encode_write_request(&write_request(&series));
        assert_eq!(post_write(&client, &server.url, body).unwrap().0, 204);
    }
    server.stop().unwrap();

    let out = check(&data);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("SUCCESS: nothing is damaged"),
        "{}",
        text(&out)
    );

    let cp = checkpoint(&data);
    flip(&cp, 20, 4);
    flip(&data.join("sled").join("db"), 100, 64);
    let out = check(&data);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("FAILED: 2 damaged:"), "{t}");
    assert!(
        t.contains(&format!("  checkpoint {} at offset", cp.display())),
        "{t}"
    );
    assert!(
        t.contains("  sled ") && t.contains("cannot be opened"),
        "{t}"
    );

    let run = Command::new(pharos_bin().unwrap())
        .args(["run", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .arg("--config")
        .arg(data.with_extension("toml"))
        .output()
        .unwrap();
    let t = text(&run);
    assert!(!run.status.success(), "{t}");
    assert!(t.contains("is damaged"), "{t}");
    assert!(t.contains("pharos storage check"), "{t}");

    let out = check(tmp.path());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("not a storage directory"),
        "{}",
        text(&out)
    );
}
