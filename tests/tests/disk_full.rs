//! A full disk under the real binary: Pharos' data directory on a
//! size-limited tmpfs the test mounts (root only; otherwise the test says
//! it is skipped, and fails when `PHAROS_REQUIRE_ROOT_TESTS` is set). While
//! the disk is full, remote writes get 503 (which senders retry), `/-/ready`
//! says why it is not ready, `/metrics` counts the refusals and queries
//! answer; once space returns, the refused request is taken, Pharos becomes
//! ready by itself, and after a restart every acknowledged sample is there.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use pharos_prompb::encode_write_request;
use pharos_tests::api::scalar;
use pharos_tests::pharos::Pharos;
use pharos_tests::remote_write::{post_write, write_request};
use pharos_tests::wait::eventually;

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1))
                == Some("0")
        });
        if !root {
            let msg = "SKIPPED disk_full: mounting a tmpfs needs root";
            assert!(
                std::env::var_os("PHAROS_REQUIRE_ROOT_TESTS").is_none(),
                "{msg}"
            );
            eprintln!("{msg}");
            return None;
        }
        let dir = PathBuf::from(format!("/tmp/storagefault-binary-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(ok.success(), "mount -t tmpfs on {}", dir.display());
        Some(Tmpfs { dir })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        for _ in 0..50 {
            let ok = Command::new("umount").arg(&self.dir).status();
            if ok.is_ok_and(|s| s.success()) {
                let _ = std::fs::remove_dir(&self.dir);
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Writes to `path` until the disk is full.
fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    let block = vec![0x5a; 64 << 10];
    while f.write(&block).is_ok_and(|n| n > 0) {}
}

const SERIES: usize = 500;

/// One request: every series at time `t`.
fn body(t: i64) -> Vec<u8> {
    let series: Vec<_> = (0..SERIES)
        .map(|i| {
            (
                vec![
                    ("__name__", "disk_full_test".to_string()),
                    ("series", i.to_string()),
                ],
                vec![(t, i as f64)],
            )
        })
        .collect();
    encode_write_request(&write_request(&series))
}

fn get(url: &str) -> (u16, String) {
    let r = reqwest::blocking::get(url).unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

/// The samples stored in the last hour.
fn stored(url: &str) -> f64 {
    scalar(url, "sum(count_over_time(disk_full_test[1h]))")
        .unwrap()
        .unwrap_or(0.0)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[test]
fn remote_write_gets_503_on_a_full_disk_and_200s_once_there_is_room() {
    let Some(fs) = Tmpfs::mount("32m") else {
        return;
    };
    let data = fs.dir.join("data");
    let filler = fs.dir.join("filler");
    let server = Pharos::start(&data).unwrap();
    let url = server.url.clone();
    let client = reqwest::blocking::Client::new();
    // A second a request, from ten minutes ago.
    let start = now_ms() - 600_000;
    let mut t = start;
    let mut acked = 0usize;
    assert_eq!(post_write(&client, &url, body(t)).unwrap().0, 204);
    acked += SERIES;
    t += 1000;

    fill(&filler);
    let (status, text) = loop {
        let (status, text) = post_write(&client, &url, body(t)).unwrap();
        if status != 204 {
            break (status, text);
        }
        acked += SERIES;
        t += 1000;
        assert!(t < start + 550_000, "no write was refused on a full disk");
    };
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("No space left on device"), "{text}");

    let (status, text) = get(&format!("{url}/-/ready"));
    assert_eq!(status, 503, "{text}");
    assert!(
        text.contains("storage: appends are refused: writing the WAL failed"),
        "{text}"
    );
    let (_, metrics) = get(&format!("{url}/metrics"));
    let refused = metrics
        .lines()
        .find_map(|l| l.strip_prefix("pharos_tsdb_wal_write_errors_total "))
        .and_then(|v| v.parse::<f64>().ok());
    assert!(refused.is_some_and(|n| n >= 1.0), "{metrics}");
    // Queries answer, with what was acknowledged.
    assert_eq!(stored(&url), acked as f64);

    // Room again: the sender's retry is taken, and Pharos is ready again by
    // itself.
    std::fs::remove_file(&filler).unwrap();
    assert_eq!(post_write(&client, &url, body(t)).unwrap().0, 204);
    acked += SERIES;
    eventually("ready again", || {
        Ok((get(&format!("{url}/-/ready")).0 == 200).then_some(()))
    })
    .unwrap();

    // After a restart everything acknowledged is there.
    server.stop().unwrap();
    let server = Pharos::start(&data).unwrap();
    assert_eq!(stored(&server.url), acked as f64);
    server.stop().unwrap();
    drop(fs);
}
