//! Tests of the WAL tail: following appends, rotation, checkpoints and
//! damage, positions that no longer exist, and decoding a Db's records.

#![allow(clippy::unwrap_used)]

use std::fs::OpenOptions;
use std::io::Write;

use super::*;
use crate::wal::{Wal, WalOptions, hold};
use crate::{Appendable, Db, DbOptions, SeriesAppend};

fn wal(dir: &Path, segment_size: u64) -> Wal {
    Wal::open(
        dir,
        WalOptions {
            segment_size,
            ..WalOptions::default()
        },
        |_| Ok(()),
    )
    .unwrap()
    .0
}

/// Every record the tail returns until it catches up.
fn drain(tail: &mut WalTail) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(r) = tail.next_record().unwrap() {
        out.push(r.to_vec());
    }
    out
}

fn rec(i: usize) -> Vec<u8> {
    format!("record {i:04}").into_bytes()
}

#[test]
fn follows_appends_and_rotation_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = wal(dir.path(), 64);
    let mut tail = WalTail::open_at(dir.path(), WalPosition::default()).unwrap();
    assert!(drain(&mut tail).is_empty());
    for i in 0..3 {
        w.append(&rec(i)).unwrap();
    }
    assert_eq!(drain(&mut tail), (0..3).map(rec).collect::<Vec<_>>());
    // 19-byte frames in 64-byte segments: three per segment.
    for i in 3..20 {
        w.append(&rec(i)).unwrap();
    }
    assert!(w.current_segment() >= 6);
    assert_eq!(drain(&mut tail), (3..20).map(rec).collect::<Vec<_>>());
    assert_eq!(tail.position().segment, w.current_segment());
    assert_eq!(tail.stats(), TailStats::default());
}

#[test]
fn at_end_returns_only_new_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = wal(dir.path(), 1 << 20);
    w.append(b"old one").unwrap();
    w.append(b"old two").unwrap();
    let mut tail = WalTail::at_end(dir.path()).unwrap();
    assert_eq!(tail.position().offset, 2 * (HEADER_LEN as u64 + 7));
    assert!(drain(&mut tail).is_empty());
    w.append(b"new").unwrap();
    assert_eq!(drain(&mut tail), vec![b"new".to_vec()]);
}

#[test]
fn a_frame_being_written_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = wal(dir.path(), 1 << 20);
    w.append(b"first").unwrap();
    let seg = dir.path().join(segment_name(w.current_segment()));
    let mut frame = Vec::new();
    crate::wal::record::push_frame(&mut frame, b"second record");
    let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
    let mut tail = WalTail::open_at(dir.path(), WalPosition::default()).unwrap();
    assert_eq!(drain(&mut tail), vec![b"first".to_vec()]);
    // Half a header, then a header without all of its payload: not yet.
    f.write_all(&frame[..3]).unwrap();
    assert!(tail.next_record().unwrap().is_none());
    f.write_all(&frame[3..HEADER_LEN + 4]).unwrap();
    assert!(tail.next_record().unwrap().is_none());
    assert_eq!(tail.position().offset, 13);
    f.write_all(&frame[HEADER_LEN + 4..]).unwrap();
    assert_eq!(drain(&mut tail), vec![b"second record".to_vec()]);
    assert_eq!(tail.stats(), TailStats::default());
}

#[test]
fn segments_deleted_by_a_checkpoint_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = wal(dir.path(), 64);
    for i in 0..9 {
        w.append(&rec(i)).unwrap();
    }
    // Segments 0, 1, 2 are full; appends go to 3.
    let mut tail = WalTail::open_at(dir.path(), WalPosition::default()).unwrap();
    assert_eq!(tail.next_record().unwrap(), Some(rec(0).as_slice()));
    // Segment 0 is open in the tail and stays readable after deletion;
    // segment 1 is gone before the tail got to it.
    let cp = w.rotate().unwrap();
    assert_eq!(cp, 3);
    w.checkpoint(2, [b"cp".as_slice()]).unwrap();
    w.append(b"after").unwrap();
    let got = drain(&mut tail);
    let mut want: Vec<Vec<u8>> = vec![rec(1), rec(2)];
    want.extend((6..9).map(rec));
    want.push(b"after".to_vec());
    assert_eq!(got, want);
    assert_eq!(tail.stats().segments_skipped, 1);
}

#[test]
fn damage_in_a_finished_segment_skips_its_rest() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = wal(dir.path(), 64);
    for i in 0..4 {
        w.append(&rec(i)).unwrap();
    }
    // Flip a payload byte of the second record of segment 0.
    let path = dir.path().join(segment_name(0));
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[19 + HEADER_LEN] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let mut tail = WalTail::open_at(dir.path(), WalPosition::default()).unwrap();
    assert_eq!(drain(&mut tail), vec![rec(0), rec(3)]);
    assert_eq!(tail.stats().corrupt_segments, 1);
}

#[test]
fn damage_at_the_end_of_the_live_segment_is_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = wal(dir.path(), 1 << 20);
    w.append(b"one").unwrap();
    w.append(b"two").unwrap();
    let path = dir.path().join(segment_name(0));
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let mut tail = WalTail::open_at(dir.path(), WalPosition::default()).unwrap();
    assert_eq!(drain(&mut tail), vec![b"one".to_vec()]);
    assert_eq!(tail.position().offset, 11);
    assert_eq!(tail.stats(), TailStats::default());
}

#[test]
fn positions_that_no_longer_exist_are_moved() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = wal(dir.path(), 64);
    for i in 0..9 {
        w.append(&rec(i)).unwrap();
    }
    w.checkpoint(2, [b"cp".as_slice()]).unwrap();
    // The oldest segment left is 2.
    let mut tail = WalTail::at_start(dir.path()).unwrap();
    assert_eq!(
        tail.position(),
        WalPosition {
            segment: 2,
            offset: 0
        }
    );
    assert_eq!(drain(&mut tail), (6..9).map(rec).collect::<Vec<_>>());
    assert_eq!(tail.stats(), TailStats::default());
    // Segment 0 was deleted: resume at the start of 2.
    let mut tail = WalTail::open_at(dir.path(), WalPosition::default()).unwrap();
    assert_eq!(
        tail.position(),
        WalPosition {
            segment: 2,
            offset: 0
        }
    );
    assert_eq!(tail.stats().segments_skipped, 2);
    assert_eq!(drain(&mut tail), (6..9).map(rec).collect::<Vec<_>>());

    // Past the end of a finished segment: its end.
    w.append(&rec(9)).unwrap();
    let live = w.current_segment();
    assert_eq!(live, 3);
    let tail = WalTail::open_at(
        dir.path(),
        WalPosition {
            segment: 2,
            offset: 1000,
        },
    )
    .unwrap();
    assert_eq!(
        tail.position(),
        WalPosition {
            segment: 2,
            offset: 57
        }
    );
    // Past the end of the live segment: it was made anew, read all of it.
    let mut tail = WalTail::open_at(
        dir.path(),
        WalPosition {
            segment: live,
            offset: 1000,
        },
    )
    .unwrap();
    assert_eq!(
        tail.position(),
        WalPosition {
            segment: live,
            offset: 0
        }
    );
    assert_eq!(drain(&mut tail), vec![rec(9)]);
    // Newer than every segment: from the oldest.
    let tail = WalTail::open_at(
        dir.path(),
        WalPosition {
            segment: 99,
            offset: 5,
        },
    )
    .unwrap();
    assert_eq!(
        tail.position(),
        WalPosition {
            segment: 2,
            offset: 0
        }
    );
}

#[test]
fn a_db_wal_decodes_to_series_and_samples() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_without_worker(dir.path(), DbOptions::default()).unwrap();
    let mut tail = WalTail::at_end(&dir.path().join("wal")).unwrap();
    let up = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
    let batch = vec![SeriesAppend {
        labels: up.clone(),
        samples: vec![Sample::new(1000, 1.0), Sample::new(2000, 0.0)],
    }];
    db.append(&batch).unwrap();
    let recs: Vec<WalRecord> = drain(&mut tail)
        .iter()
        .map(|r| decode(r).unwrap())
        .collect();
    let WalRecord::Series(series) = &recs[0] else {
        panic!("expected series, got {recs:?}");
    };
    assert_eq!(series.len(), 1);
    let (id, labels) = &series[0];
    assert_eq!(labels, &up);
    assert_eq!(
        recs[1],
        WalRecord::Samples(vec![
            (*id, Sample::new(1000, 1.0)),
            (*id, Sample::new(2000, 0.0))
        ])
    );
    assert_eq!(recs.len(), 2);
    assert_eq!(db.series_labels(*id), Some(up));
    assert_eq!(db.series_labels(id + 100), None);
}

#[test]
fn held_segments_outlive_checkpoints_and_restarts_until_released() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = wal(dir.path(), 64);
    let mut tail = WalTail::open_at(dir.path(), WalPosition::default()).unwrap();
    let mut hold = hold::WalHold::acquire(dir.path(), "rw-queue").unwrap();
    hold.advance(0).unwrap();
    for i in 0..20 {
        w.append(&rec(i)).unwrap();
    }
    // The reader has read nothing; a checkpoint covers every segment.
    let cut = w.rotate().unwrap();
    w.checkpoint(cut, std::iter::empty()).unwrap();
    assert!(w.held_bytes() > 0);
    assert_eq!(w.live_bytes() + w.held_bytes(), w.size_bytes());
    drop(w);
    // A restart neither replays nor deletes them.
    let mut replayed = 0;
    let (mut w, _) = Wal::open(dir.path(), WalOptions::default(), |_| {
        replayed += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(replayed, 0);
    let got = drain(&mut tail);
    assert_eq!(got, (0..20).map(rec).collect::<Vec<_>>());
    assert_eq!(tail.stats().segments_skipped, 0);

    // Moving the hold on frees what is behind it at the next checkpoint.
    hold.advance(cut).unwrap();
    w.append(&rec(20)).unwrap();
    let cut2 = w.rotate().unwrap();
    w.checkpoint(cut2, std::iter::empty()).unwrap();
    let left: Vec<u64> = segment::list(dir.path())
        .unwrap()
        .segments
        .iter()
        .map(|&(n, _)| n)
        .collect();
    assert!(
        left.iter().all(|&n| n >= cut),
        "{left:?} still has segments before {cut}"
    );
    hold.release().unwrap();
    w.append(&rec(21)).unwrap();
    let cut3 = w.rotate().unwrap();
    w.checkpoint(cut3, std::iter::empty()).unwrap();
    assert_eq!(w.held_bytes(), 0);
}

#[test]
fn held_segments_beyond_the_limit_go_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let opts = WalOptions {
        segment_size: 64,
        hold_max_bytes: 100,
    };
    let mut w = Wal::open(dir.path(), opts, |_| Ok(())).unwrap().0;
    hold::WalHold::acquire(dir.path(), "slow")
        .unwrap()
        .advance(0)
        .unwrap();
    for i in 0..20 {
        w.append(&rec(i)).unwrap();
    }
    let cut = w.rotate().unwrap();
    w.checkpoint(cut, std::iter::empty()).unwrap();
    assert!(w.held_bytes() <= 100 && w.held_bytes() > 0);
    // The reader loses the oldest, counted as skipped, and reads the rest.
    let mut tail = WalTail::open_at(dir.path(), WalPosition::default()).unwrap();
    let got = drain(&mut tail);
    assert!(tail.stats().segments_skipped > 0);
    assert_eq!(got.last(), Some(&rec(19)));
}
