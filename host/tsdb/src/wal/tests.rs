//! Tests of the WAL: round trips, checkpoints, the corruption table and a
//! truncation property.

#![allow(clippy::unwrap_used)]

use std::fs::{self, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::*;

fn opts(segment_size: u64) -> WalOptions {
    WalOptions {
        segment_size,
        ..WalOptions::default()
    }
}

/// Opens `dir`, collecting every replayed record.
fn replay(dir: &Path, opts: WalOptions) -> (Wal, ReplayReport, Vec<Vec<u8>>) {
    let mut got = Vec::new();
    let (wal, report) = Wal::open(dir, opts, |r| {
        got.push(r.to_vec());
        Ok(())
    })
    .unwrap();
    (wal, report, got)
}

/// A deterministic record of `len` bytes that differs for each `i`.
fn record(i: usize, len: usize) -> Vec<u8> {
    let seed = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..len)
        .map(|k| (seed.rotate_left((k % 64) as u32) as u8) ^ (k as u8))
        .collect()
}

fn seg(dir: &Path, n: u64) -> PathBuf {
    dir.join(segment_name(n))
}

fn segment_numbers(dir: &Path) -> Vec<u64> {
    segment::list(dir)
        .unwrap()
        .segments
        .iter()
        .map(|&(n, _)| n)
        .collect()
}

fn disk_size(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

fn as_slices(records: &[Vec<u8>]) -> Vec<&[u8]> {
    records.iter().map(Vec::as_slice).collect()
}

#[test]
fn empty_directory_opens_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("not/yet/there");
    let (wal, report, got) = replay(&dir, WalOptions::default());
    assert!(got.is_empty());
    assert_eq!(report, ReplayReport::default());
    assert_eq!(wal.current_segment(), 0);
    assert_eq!(wal.size_bytes(), 0);
    assert_eq!(wal.dir(), dir);
    drop(wal);
    // An empty segment is a valid one: reopening continues after it.
    let (wal, report, _) = replay(&dir, WalOptions::default());
    assert_eq!(report.segments, 1);
    assert!(report.corruption.is_none());
    assert_eq!(wal.current_segment(), 1);
}

#[test]
fn round_trip_across_rotations() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let o = opts(4096);
    let records: Vec<Vec<u8>> = (0..3000).map(|i| record(i, 1 + (i * 37) % 400)).collect();
    let (mut wal, _, _) = replay(dir, o);
    for r in &records[..1000] {
        wal.append(r).unwrap();
    }
    for chunk in records[1000..].chunks(77) {
        wal.append_many(&as_slices(chunk)).unwrap();
    }
    assert_eq!(wal.size_bytes(), disk_size(dir));
    drop(wal);

    let segments = segment::list(dir).unwrap().segments;
    assert!(segments.len() > 50, "{} segments", segments.len());
    assert!(segments.iter().all(|&(_, size)| size <= 4096));

    let (mut wal, report, got) = replay(dir, o);
    assert_eq!(got, records);
    assert_eq!(report.records, 3000);
    assert_eq!(report.segments, segments.len());
    assert_eq!(report.bytes, disk_size(dir));
    assert!(report.corruption.is_none());
    assert_eq!(wal.current_segment(), segments.len() as u64);

    let more: Vec<Vec<u8>> = (3000..3500).map(|i| record(i, 1 + i % 300)).collect();
    wal.append_many(&as_slices(&more[..250])).unwrap();
    for r in &more[250..] {
        wal.append(r).unwrap();
    }
    wal.sync().unwrap();
    assert_eq!(wal.size_bytes(), disk_size(dir));
    drop(wal);
    let (_, report, got) = replay(dir, o);
    assert_eq!(got.len(), 3500);
    assert_eq!(&got[..3000], &records[..]);
    assert_eq!(&got[3000..], &more[..]);
    assert!(report.corruption.is_none());
}

#[test]
fn append_reaches_the_file_before_returning() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut wal, _, _) = replay(tmp.path(), WalOptions::default());
    wal.append(b"hello").unwrap();
    wal.append_many(&[b"a".as_slice(), b"bc"]).unwrap();
    // No sync, no drop: another reader sees the bytes.
    let mut bytes = Vec::new();
    fs::File::open(seg(tmp.path(), 0))
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    assert_eq!(bytes.len(), 3 * HEADER_LEN + 5 + 1 + 2);
    assert_eq!(&bytes[..4], &5u32.to_le_bytes());
    assert_eq!(&bytes[4..8], &crc32c::crc32c(b"hello").to_le_bytes());
    assert_eq!(&bytes[8..13], b"hello");
    assert_eq!(wal.size_bytes(), bytes.len() as u64);
}

#[test]
fn oversized_record_goes_alone_into_a_segment() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let o = opts(100);
    let (mut wal, _, _) = replay(dir, o);
    let big = record(1, 500);
    wal.append(b"small").unwrap();
    wal.append(&big).unwrap();
    wal.append_many(&[b"x".as_slice(), &big, b"y"]).unwrap();
    // small | big | x | big | y: each big record alone in its segment.
    assert_eq!(wal.current_segment(), 4);
    drop(wal);
    let sizes: Vec<u64> = segment::list(dir)
        .unwrap()
        .segments
        .iter()
        .map(|&(_, s)| s)
        .collect();
    assert_eq!(sizes, vec![13, 508, 9, 508, 9]);
    let (_, report, got) = replay(dir, o);
    assert_eq!(
        got,
        vec![
            b"small".to_vec(),
            big.clone(),
            b"x".to_vec(),
            big,
            b"y".to_vec()
        ]
    );
    assert!(report.corruption.is_none());
}

#[test]
fn rejects_empty_and_oversized_records() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut wal, _, _) = replay(tmp.path(), WalOptions::default());
    assert!(matches!(wal.append(b""), Err(WalError::EmptyRecord)));
    let huge = vec![0u8; MAX_RECORD_LEN + 1];
    assert!(matches!(
        wal.append(&huge),
        Err(WalError::RecordTooLarge { .. })
    ));
    // Validation happens before anything of the batch is written.
    assert!(matches!(
        wal.append_many(&[b"ok".as_slice(), b""]),
        Err(WalError::EmptyRecord)
    ));
    assert_eq!(wal.size_bytes(), 0);
    let max = vec![1u8; MAX_RECORD_LEN];
    wal.append(&max).unwrap();
    drop(wal);
    let (_, report, got) = replay(tmp.path(), WalOptions::default());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].len(), MAX_RECORD_LEN);
    assert!(report.corruption.is_none());
}

#[test]
fn checkpoint_replaces_older_segments() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let o = opts(1024);
    let (mut wal, _, _) = replay(dir, o);
    for i in 0..100 {
        wal.append(&record(i, 50)).unwrap();
    }
    let seg_no = wal.rotate().unwrap();
    assert!(seg_no >= 4);
    assert_eq!(wal.current_segment(), seg_no);
    let ckpt: Vec<Vec<u8>> = (0..10).map(|i| format!("ckpt-{i}").into_bytes()).collect();
    wal.checkpoint(seg_no, ckpt.iter().map(Vec::as_slice))
        .unwrap();
    assert_eq!(segment_numbers(dir), vec![seg_no]);
    assert!(dir.join(checkpoint_name(seg_no)).exists());
    assert_eq!(wal.size_bytes(), disk_size(dir));

    let later: Vec<Vec<u8>> = (100..130).map(|i| record(i, 50)).collect();
    wal.append_many(&as_slices(&later)).unwrap();
    drop(wal);

    let (mut wal, report, got) = replay(dir, o);
    assert_eq!(report.checkpoint, Some(seg_no));
    assert_eq!(report.records, 40);
    assert!(report.corruption.is_none());
    let expected: Vec<Vec<u8>> = ckpt.iter().chain(&later).cloned().collect();
    assert_eq!(got, expected);
    assert_eq!(wal.size_bytes(), disk_size(dir));

    // A second checkpoint supersedes the first; both constraints hold.
    let cur = wal.current_segment();
    assert!(matches!(
        wal.checkpoint(cur + 1, std::iter::empty()),
        Err(WalError::InvalidCheckpoint { .. })
    ));
    assert!(matches!(
        wal.checkpoint(seg_no - 1, std::iter::empty()),
        Err(WalError::InvalidCheckpoint { .. })
    ));
    wal.checkpoint(cur, [b"only".as_slice()]).unwrap();
    assert!(!dir.join(checkpoint_name(seg_no)).exists());
    assert_eq!(segment_numbers(dir), vec![cur]);
    assert_eq!(wal.size_bytes(), disk_size(dir));
    wal.append(b"after").unwrap();
    drop(wal);
    let (_, report, got) = replay(dir, o);
    assert_eq!(report.checkpoint, Some(cur));
    assert_eq!(got, vec![b"only".to_vec(), b"after".to_vec()]);
}

#[test]
fn checkpoint_with_an_invalid_record_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (mut wal, _, _) = replay(dir, WalOptions::default());
    wal.append(b"kept").unwrap();
    let seg_no = wal.rotate().unwrap();
    assert!(matches!(
        wal.checkpoint(seg_no, [b"ok".as_slice(), b""]),
        Err(WalError::EmptyRecord)
    ));
    assert!(!dir.join(segment::checkpoint_tmp_name(seg_no)).exists());
    assert!(!dir.join(checkpoint_name(seg_no)).exists());
    assert_eq!(segment_numbers(dir), vec![0, seg_no]);
    assert_eq!(wal.size_bytes(), disk_size(dir));
    drop(wal);
    let (_, report, got) = replay(dir, WalOptions::default());
    assert_eq!(got, vec![b"kept".to_vec()]);
    assert_eq!(report.checkpoint, None);
}

/// Leaves `len` bytes of garbage at the end of the current segment, as a
/// write that failed part-way does, and gives the WAL a handle that cannot
/// write: its next write fails.
fn break_handle(wal: &mut Wal, dir: &Path, len: usize) {
    let path = seg(dir, wal.current_segment());
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(&vec![0xAB; len]).unwrap();
    wal.file = fs::File::open(&path).unwrap();
}

#[test]
fn failed_write_is_cut_off_and_the_next_append_works() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (mut wal, _, _) = replay(dir, WalOptions::default());
    wal.append(b"before").unwrap();
    break_handle(&mut wal, dir, 5);
    let err = wal.append(b"lost").unwrap_err();
    assert!(matches!(err, WalError::Io { .. }), "{err}");
    // The garbage is cut off through a new handle at once.
    assert!(!wal.is_poisoned());
    assert_eq!(wal.size_bytes(), disk_size(dir));
    wal.append(b"after").unwrap();
    drop(wal);
    let (_, report, got) = replay(dir, WalOptions::default());
    assert_eq!(got, vec![b"before".to_vec(), b"after".to_vec()]);
    assert!(report.corruption.is_none());
}

#[test]
fn a_cut_that_fails_refuses_appends_until_it_succeeds() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (mut wal, _, _) = replay(dir, WalOptions::default());
    wal.append(b"before").unwrap();
    break_handle(&mut wal, dir, 5);
    // Nor can the file be opened again: the cut fails too.
    let aside = dir.join("aside");
    fs::rename(seg(dir, 0), &aside).unwrap();
    assert!(matches!(wal.append(b"lost"), Err(WalError::Io { .. })));
    assert!(wal.is_poisoned());
    assert!(matches!(wal.append(b"x"), Err(WalError::Poisoned { .. })));
    assert!(matches!(
        wal.append_many(&[b"x".as_slice()]),
        Err(WalError::Poisoned { .. })
    ));
    assert!(matches!(wal.rotate(), Err(WalError::Poisoned { .. })));
    // The file is back: the next append cuts the garbage off and goes on,
    // without a reopen.
    fs::rename(&aside, seg(dir, 0)).unwrap();
    wal.append(b"after").unwrap();
    assert!(!wal.is_poisoned());
    assert_eq!(wal.size_bytes(), disk_size(dir));
    drop(wal);
    let (_, report, got) = replay(dir, WalOptions::default());
    assert_eq!(got, vec![b"before".to_vec(), b"after".to_vec()]);
    assert!(report.corruption.is_none());
}

#[test]
fn a_batch_that_fits_a_segment_is_not_split() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let o = opts(512);
    let (mut wal, _, _) = replay(dir, o);
    wal.append(&record(0, 300)).unwrap();
    // 308 + 2 * 108 > 512: the segment rotates before the batch.
    wal.append_many(&[&record(1, 100)[..], &record(2, 100)])
        .unwrap();
    assert_eq!(wal.current_segment(), 1);
    drop(wal);
    let sizes: Vec<u64> = segment::list(dir)
        .unwrap()
        .segments
        .iter()
        .map(|&(_, s)| s)
        .collect();
    assert_eq!(sizes, vec![308, 216]);
}

#[test]
fn a_failed_batch_leaves_nothing_of_itself() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let o = opts(512);
    let (mut wal, _, _) = replay(dir, o);
    wal.append(b"small").unwrap();
    // Larger than a segment: written record by record, and the rotation
    // between them fails (segment 1 is taken by a stray file).
    fs::write(seg(dir, 1), b"stray").unwrap();
    let batch = [record(1, 200), record(2, 400)];
    let err = wal.append_many(&as_slices(&batch)).unwrap_err();
    assert!(matches!(err, WalError::Io { .. }), "{err}");
    assert_eq!(fs::metadata(seg(dir, 0)).unwrap().len(), 13);
    // An empty file left by a failed rotation is taken over.
    fs::write(seg(dir, 1), b"").unwrap();
    wal.append_many(&as_slices(&batch)).unwrap();
    drop(wal);
    let (_, report, got) = replay(dir, o);
    assert_eq!(
        got,
        vec![b"small".to_vec(), batch[0].clone(), batch[1].clone()]
    );
    assert!(report.corruption.is_none());
}

#[test]
fn open_cleans_up_after_interrupted_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (mut wal, _, _) = replay(dir, opts(64));
    for i in 0..10 {
        wal.append(&record(i, 40)).unwrap();
    }
    let seg_no = wal.rotate().unwrap();
    wal.checkpoint(seg_no, [b"cp".as_slice()]).unwrap();
    wal.append(b"tail").unwrap();
    drop(wal);
    // What crashes at various points would leave behind.
    fs::write(
        dir.join(segment::checkpoint_tmp_name(seg_no + 1)),
        b"partial",
    )
    .unwrap();
    fs::write(dir.join(checkpoint_name(1)), b"superseded, unreadable").unwrap();
    fs::write(seg(dir, 2), b"covered by the checkpoint").unwrap();
    fs::write(dir.join("unrelated.txt"), b"left alone").unwrap();

    let (wal, report, got) = replay(dir, opts(64));
    assert_eq!(got, vec![b"cp".to_vec(), b"tail".to_vec()]);
    assert!(report.corruption.is_none());
    assert!(!dir.join(segment::checkpoint_tmp_name(seg_no + 1)).exists());
    assert!(!dir.join(checkpoint_name(1)).exists());
    assert!(!seg(dir, 2).exists());
    assert!(dir.join("unrelated.txt").exists());
    assert_eq!(wal.size_bytes(), disk_size(dir) - "left alone".len() as u64);
}

#[test]
fn corrupt_checkpoint_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (mut wal, _, _) = replay(dir, WalOptions::default());
    wal.append(b"one").unwrap();
    let seg_no = wal.rotate().unwrap();
    let ckpt = [b"first".as_slice(), b"second", b"third"];
    wal.checkpoint(seg_no, ckpt).unwrap();
    drop(wal);
    let path = dir.join(checkpoint_name(seg_no));
    flip(&path, (HEADER_LEN + 5 + HEADER_LEN + 2) as u64);
    // Leftovers the checkpoint would supersede stay while it is in doubt.
    fs::write(seg(dir, 0), b"old segment").unwrap();

    let mut seen = 0;
    let err = Wal::open(dir, WalOptions::default(), |_| {
        seen += 1;
        Ok(())
    })
    .unwrap_err();
    match &err {
        WalError::CorruptCheckpoint {
            path: p, offset, ..
        } => {
            assert_eq!(p, &path.display().to_string());
            assert_eq!(*offset, (HEADER_LEN + 5) as u64);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("checkpoint.0000000"), "{err}");
    assert_eq!(seen, 1);
    // Nothing was repaired or deleted.
    assert!(path.exists());
    assert_eq!(segment_numbers(dir), vec![0, seg_no]);
}

#[test]
fn callback_error_aborts_replay() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (mut wal, _, _) = replay(dir, WalOptions::default());
    wal.append_many(&[b"a".as_slice(), b"bad", b"c"]).unwrap();
    drop(wal);
    let before = disk_size(dir);
    let err = Wal::open(dir, WalOptions::default(), |r| {
        if r == b"bad" {
            Err("cannot decode".into())
        } else {
            Ok(())
        }
    })
    .unwrap_err();
    match &err {
        WalError::Replay { offset, source, .. } => {
            assert_eq!(*offset, (HEADER_LEN + 1) as u64);
            assert_eq!(source.to_string(), "cannot decode");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(disk_size(dir), before);
    assert_eq!(segment_numbers(dir), vec![0]);
}

#[test]
fn segment_gap_is_replayed_across_and_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (mut wal, _, _) = replay(dir, WalOptions::default());
    for s in 0..4 {
        wal.append(format!("seg{s}").as_bytes()).unwrap();
        wal.rotate().unwrap();
    }
    drop(wal);
    fs::remove_file(seg(dir, 1)).unwrap();
    let (wal, report, got) = replay(dir, WalOptions::default());
    assert_eq!(
        got,
        vec![b"seg0".to_vec(), b"seg2".to_vec(), b"seg3".to_vec()]
    );
    let what = report.corruption.as_deref().unwrap();
    assert!(what.contains("00000001"), "{what}");
    assert_eq!(report.dropped_bytes, 0);
    assert_eq!(report.dropped_segments, 0);
    assert_eq!(wal.current_segment(), 5);
}

// ---- The corruption table ----

/// Payload bytes of each fixture record.
const REC: usize = 120;
/// Frame bytes of each fixture record.
const FRAME: u64 = (HEADER_LEN + REC) as u64;
/// Fixture segment size: exactly `PER_SEG` frames.
const SEG_SIZE: u64 = 16 * 1024;
const PER_SEG: usize = (SEG_SIZE / FRAME) as usize;
/// Three full segments (0, 1, 2) and 40 records in segment 3.
const TOTAL: usize = 3 * PER_SEG + 40;

/// Offset of the `k`-th frame within its segment.
const fn off(k: u64) -> u64 {
    k * FRAME
}

fn fixture(dir: &Path) -> Vec<Vec<u8>> {
    let records: Vec<Vec<u8>> = (0..TOTAL).map(|i| record(i, REC)).collect();
    let (mut wal, _, _) = replay(dir, opts(SEG_SIZE));
    for r in &records[..200] {
        wal.append(r).unwrap();
    }
    // Batches of 8 fill segments exactly (a batch never straddles two).
    for chunk in records[200..].chunks(8) {
        wal.append_many(&as_slices(chunk)).unwrap();
    }
    drop(wal);
    let segments = segment::list(dir).unwrap().segments;
    assert_eq!(
        segments,
        vec![(0, SEG_SIZE), (1, SEG_SIZE), (2, SEG_SIZE), (3, off(40))]
    );
    records
}

fn cut(dir: &Path, n: u64, len: u64) {
    OpenOptions::new()
        .write(true)
        .open(seg(dir, n))
        .unwrap()
        .set_len(len)
        .unwrap();
}

fn patch(dir: &Path, n: u64, at: u64, bytes: &[u8]) {
    patch_file(&seg(dir, n), at, bytes);
}

fn patch_file(path: &Path, at: u64, bytes: &[u8]) {
    let mut f = OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(bytes).unwrap();
}

fn flip(path: &Path, at: u64) {
    let mut bytes = fs::read(path).unwrap();
    bytes[at as usize] ^= 0x40;
    fs::write(path, bytes).unwrap();
}

fn zero(dir: &Path, n: u64, at: u64, len: usize) {
    patch(dir, n, at, &vec![0u8; len]);
}

struct Case {
    name: &'static str,
    damage: fn(&Path),
    /// Records replayed after the damage (a prefix of the fixture).
    survivors: usize,
    /// Segments after the damaged one that must be deleted.
    dropped_segments: usize,
}

const CASES: &[Case] = &[
    Case {
        name: "torn last record: file cut mid-payload",
        damage: |d| cut(d, 3, off(39) + 8 + 60),
        survivors: TOTAL - 1,
        dropped_segments: 0,
    },
    Case {
        name: "torn last record: file cut mid-header",
        damage: |d| cut(d, 3, off(39) + 5),
        survivors: TOTAL - 1,
        dropped_segments: 0,
    },
    Case {
        name: "truncated earlier segment, cut in a record header",
        damage: |d| cut(d, 1, off(50) + 3),
        survivors: PER_SEG + 50,
        dropped_segments: 2,
    },
    Case {
        name: "bad checksum: payload byte of the last record",
        damage: |d| flip(&seg(d, 3), off(39) + 8 + 119),
        survivors: TOTAL - 1,
        dropped_segments: 0,
    },
    Case {
        name: "bad checksum: payload byte of a middle record",
        damage: |d| flip(&seg(d, 3), off(20) + 8 + 50),
        survivors: 3 * PER_SEG + 20,
        dropped_segments: 0,
    },
    Case {
        name: "bad checksum: checksum field, later segment exists",
        damage: |d| flip(&seg(d, 2), off(10) + 5),
        survivors: 2 * PER_SEG + 10,
        dropped_segments: 1,
    },
    Case {
        name: "bad checksum: first segment, later segments exist",
        damage: |d| flip(&seg(d, 0), off(5) + 8),
        survivors: 5,
        dropped_segments: 3,
    },
    Case {
        name: "bad length: garbage within bounds",
        damage: |d| patch(d, 3, off(10), &1000u32.to_le_bytes()),
        survivors: 3 * PER_SEG + 10,
        dropped_segments: 0,
    },
    Case {
        name: "bad length: shorter than the record, earlier segment",
        damage: |d| patch(d, 1, off(127), &50u32.to_le_bytes()),
        survivors: PER_SEG + 127,
        dropped_segments: 2,
    },
    Case {
        name: "bad length: huge",
        damage: |d| patch(d, 3, off(10), &0xFFFF_FFF0u32.to_le_bytes()),
        survivors: 3 * PER_SEG + 10,
        dropped_segments: 0,
    },
    Case {
        name: "bad length: past end of file",
        damage: |d| patch(d, 3, off(10), &100_000u32.to_le_bytes()),
        survivors: 3 * PER_SEG + 10,
        dropped_segments: 0,
    },
    Case {
        name: "bad length: zero",
        damage: |d| patch(d, 3, off(10), &0u32.to_le_bytes()),
        survivors: 3 * PER_SEG + 10,
        dropped_segments: 0,
    },
    Case {
        name: "zeroed page mid-record in an earlier segment",
        damage: |d| zero(d, 1, 6000, 4096),
        survivors: PER_SEG + 46,
        dropped_segments: 2,
    },
    Case {
        name: "zeroed page at a record boundary",
        damage: |d| zero(d, 3, off(4), 4096),
        survivors: 3 * PER_SEG + 4,
        dropped_segments: 0,
    },
    Case {
        name: "zeroed first page of an earlier segment",
        damage: |d| zero(d, 2, 0, 4096),
        survivors: 2 * PER_SEG,
        dropped_segments: 1,
    },
    Case {
        name: "zeroed page after the last record",
        damage: |d| zero(d, 3, off(40), 4096),
        survivors: TOTAL,
        dropped_segments: 0,
    },
];

#[test]
fn corruption_table() {
    for case in CASES {
        let name = case.name;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let records = fixture(dir);
        (case.damage)(dir);
        let on_disk = disk_size(dir);

        let (mut wal, report, got) = replay(dir, opts(SEG_SIZE));
        assert_eq!(got.len(), case.survivors, "{name}: survivors");
        assert_eq!(got, records[..case.survivors], "{name}: kept records");
        assert_eq!(report.records, case.survivors as u64, "{name}");
        let damaged = (case.survivors / PER_SEG) as u64;
        let what = report
            .corruption
            .as_deref()
            .unwrap_or_else(|| panic!("{name}: no corruption reported"));
        assert!(what.contains(&segment_name(damaged)), "{name}: {what}");
        assert_eq!(
            report.dropped_bytes,
            on_disk - case.survivors as u64 * FRAME,
            "{name}: dropped bytes"
        );
        assert_eq!(
            report.dropped_segments, case.dropped_segments,
            "{name}: dropped segments"
        );
        let mut expected_segments: Vec<u64> = (0..=damaged + 1).collect();
        assert_eq!(segment_numbers(dir), expected_segments, "{name}: files");
        assert_eq!(wal.current_segment(), damaged + 1, "{name}");
        assert_eq!(wal.size_bytes(), disk_size(dir), "{name}: size");

        // The repaired log takes new records and replays cleanly.
        let new: Vec<Vec<u8>> = (0..5).map(|i| format!("new-{i}").into_bytes()).collect();
        wal.append_many(&as_slices(&new[..4])).unwrap();
        wal.append(&new[4]).unwrap();
        drop(wal);
        let (_, report, got) = replay(dir, opts(SEG_SIZE));
        let expected: Vec<Vec<u8>> = records[..case.survivors]
            .iter()
            .chain(&new)
            .cloned()
            .collect();
        assert_eq!(got, expected, "{name}: after reopen");
        assert_eq!(report.corruption, None, "{name}: after reopen");
        assert_eq!(report.dropped_bytes, 0, "{name}");
        expected_segments.push(damaged + 2);
        assert_eq!(segment_numbers(dir), expected_segments, "{name}: files");
    }
}

// ---- Truncation property ----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Cutting the last segment anywhere replays exactly the records whose
    /// frames are complete, and reports damage exactly when the cut is not
    /// on a frame boundary.
    #[test]
    fn truncation_keeps_the_complete_prefix(
        records in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..200), 1..60),
        segment_size in 64u64..2048,
        cut_frac in 0.0f64..=1.0,
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let (mut wal, _, _) = replay(dir, opts(segment_size));
        wal.append_many(&as_slices(&records)).unwrap();
        drop(wal);

        // Model of rotation: (segment index, end offset) of each frame.
        let mut layout = Vec::new();
        let (mut s, mut end) = (0u64, 0u64);
        for r in &records {
            let f = (HEADER_LEN + r.len()) as u64;
            if end > 0 && end + f > segment_size {
                s += 1;
                end = 0;
            }
            end += f;
            layout.push((s, end));
        }
        let last = s;
        prop_assert_eq!(segment_numbers(dir), (0..=last).collect::<Vec<_>>());
        let last_len = fs::metadata(seg(dir, last)).unwrap().len();
        prop_assert_eq!(last_len, end);

        let cut_at = (last_len as f64 * cut_frac) as u64;
        cut(dir, last, cut_at);
        let complete = layout
            .iter()
            .filter(|&&(si, e)| si < last || e <= cut_at)
            .count();
        let on_boundary = cut_at == 0
            || layout.iter().any(|&(si, e)| si == last && e == cut_at);

        let (_, report, got) = replay(dir, opts(segment_size));
        prop_assert_eq!(&got[..], &records[..complete]);
        prop_assert_eq!(report.corruption.is_none(), on_boundary);
        let kept_in_last = layout
            .iter()
            .filter(|&&(si, e)| si == last && e <= cut_at)
            .map(|&(_, e)| e)
            .max()
            .unwrap_or(0);
        prop_assert_eq!(report.dropped_bytes, cut_at - kept_in_last);
    }
}
