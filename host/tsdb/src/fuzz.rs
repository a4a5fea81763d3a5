//! Entry points for the fuzz targets (`fuzz/` at the repository root) and
//! their regression tests: each feeds bytes from outside (a damaged disk,
//! a hostile file) to one decoder and checks what must hold of any input.
//! Not an API: hidden from the docs, free to change.

use std::io::Cursor;

use crate::chunkenc::{self, MAX_SAMPLES, XorAppender, XorIter};
use crate::record::{self, Record};
use crate::store;
use crate::wal::reader::{FrameReader, ReadError};
use crate::wal::record::{MAX_RECORD_LEN, push_frame};

/// A WAL record payload: decoded, and, when it decodes, the samples of a
/// chunk record decoded as a chunk.
pub fn wal_record(payload: &[u8]) {
    if let Ok(Record::Chunk { bytes, .. }) = record::decode(payload) {
        chunk(&bytes);
    }
}

/// A WAL segment or checkpoint file: frames read until the end or the
/// first damaged one (which must be reported, never panic or allocate
/// more than the file holds), each payload decoded as a record.
pub fn wal_segment(file: &[u8]) {
    let mut r = FrameReader::new(Cursor::new(file), file.len() as u64);
    let mut end = 0u64;
    loop {
        match r.next_record() {
            Ok(None) => {
                assert_eq!(end, file.len() as u64, "clean end inside the file");
                return;
            }
            Ok(Some((offset, payload))) => {
                assert_eq!(offset, end, "frames are contiguous");
                assert!(!payload.is_empty() && payload.len() <= MAX_RECORD_LEN);
                end = offset + 8 + payload.len() as u64;
                wal_record(payload);
            }
            Err(ReadError::Corrupt { offset, .. }) => {
                assert_eq!(offset, end, "damage reported where the frame starts");
                return;
            }
            Err(ReadError::Io(e)) => panic!("reading from memory failed: {e}"),
        }
    }
}

/// Like [`wal_segment`], but the input is cut into payloads at `0xff 0xfe`
/// and framed with valid checksums, so the fuzzer reaches the record
/// decoder through the reader without having to find CRC-32Cs.
pub fn wal_framed(input: &[u8]) {
    let mut file = Vec::with_capacity(input.len() + 64);
    let mut payloads = Vec::new();
    let mut rest = input;
    loop {
        let cut = rest.windows(2).position(|w| w == [0xff, 0xfe]);
        let (p, next) = match cut {
            Some(i) => (&rest[..i], Some(&rest[i + 2..])),
            None => (rest, None),
        };
        if !p.is_empty() {
            push_frame(&mut file, p);
            payloads.push(p);
        }
        match next {
            Some(n) => rest = n,
            None => break,
        }
    }
    let mut r = FrameReader::new(Cursor::new(file.as_slice()), file.len() as u64);
    for want in payloads {
        match r.next_record() {
            Ok(Some((_, got))) => {
                assert_eq!(got, want, "a framed payload reads back unchanged");
                wal_record(got);
            }
            other => panic!("a valid frame did not read back: {other:?}"),
        }
    }
    assert!(matches!(r.next_record(), Ok(None)));
}

/// A chunk (XOR encoded): decoded with the iterator (timestamps must
/// increase), summarised with `chunk_info` (which must agree), and, when
/// valid, resumed by an appender whose next sample reads back.
pub fn chunk(bytes: &[u8]) {
    let mut it = XorIter::new(bytes);
    let samples: Vec<_> = it.by_ref().collect();
    let err = it.error().cloned();
    for w in samples.windows(2) {
        assert!(w[0].t < w[1].t, "timestamps do not increase: {w:?}");
    }
    let info = chunkenc::chunk_info(bytes);
    match (&err, &info) {
        (None, Ok((n, mint, maxt))) => {
            assert_eq!(*n, samples.len());
            assert_eq!(Some(*mint), samples.first().map(|s| s.t));
            assert_eq!(Some(*maxt), samples.last().map(|s| s.t));
        }
        (None, Err(chunkenc::ChunkError::Empty)) => assert!(samples.is_empty()),
        (Some(e), Err(i)) => assert_eq!(e, i),
        _ => panic!("iterator and chunk_info disagree: {err:?} vs {info:?}"),
    }
    let Ok(mut app) = XorAppender::from_bytes(bytes) else {
        assert!(
            err.is_some(),
            "from_bytes refused a chunk the iterator read"
        );
        return;
    };
    assert!(
        err.is_none(),
        "from_bytes took a chunk the iterator refused"
    );
    let next_t = match samples.last() {
        Some(s) => s.t.checked_add(1),
        None => Some(0),
    };
    let Some(t) = next_t else { return };
    if samples.len() >= MAX_SAMPLES {
        return;
    }
    app.append(t, 42.5);
    let again: Vec<_> = XorIter::new(app.bytes()).collect();
    assert_eq!(again.len(), samples.len() + 1);
    for (a, b) in again.iter().zip(&samples) {
        assert_eq!((a.t, a.v.to_bits()), (b.t, b.v.to_bits()));
    }
    let last = again.last().map(|s| (s.t, s.v));
    assert_eq!(last, Some((t, 42.5)));
}

/// A value read from sled: the first byte picks the tree entry it is
/// decoded as (a block of series records, a series' time span, a chunk
/// value with its max time in front).
pub fn sled_value(input: &[u8]) {
    let Some((&kind, value)) = input.split_first() else {
        return;
    };
    match kind % 3 {
        0 => {
            let _ = store::Store::block_entries(value);
        }
        1 => {
            let _ = store::Span::decode(value);
        }
        _ => {
            if let Some(bytes) = value.get(8..) {
                chunk(bytes);
            }
        }
    }
}

/// Seed inputs for the targets above, made with the real encoders:
/// `(target, name, bytes)`. `tests/scripts/fuzz.sh` writes them into the
/// corpora (through the ignored test `write_seeds`).
pub fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    use pharos_model::{Labels, Sample, stale_nan};

    let mut chunks = Vec::new();
    for (name, samples) in [
        ("empty", Vec::new()),
        ("one", vec![(1000, 1.0)]),
        (
            "regular",
            (0..120).map(|i| (1000 + i * 15_000, i as f64)).collect(),
        ),
        (
            "irregular",
            vec![
                (-5, f64::NAN),
                (0, stale_nan()),
                (1, f64::INFINITY),
                (1 << 40, -0.0),
                (i64::MAX - 1, 1e300),
            ],
        ),
        (
            "jitter",
            (0..200)
                .map(|i: i64| (i * 10_000 + (i * 7919) % 97, (i as f64).sin()))
                .collect(),
        ),
    ] {
        let mut app = XorAppender::new();
        for (t, v) in samples {
            app.append(t, v);
        }
        chunks.push((name, app.into_bytes()));
    }

    let labels = Labels::from_pairs([("__name__", "up"), ("instance", "a:9100"), ("job", "node")]);
    let mut key = Vec::new();
    record::put_labels(&mut key, &labels);
    let mut records: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut b = Vec::new();
    record::encode_series(
        &mut b,
        [(1u64, key.as_slice()), (2, key.as_slice())].into_iter(),
    );
    records.push(("series", b));
    let mut b = Vec::new();
    record::encode_samples(
        &mut b,
        [
            (1u64, Sample::new(1000, 1.0)),
            (2, Sample::new(900, stale_nan())),
        ],
    );
    records.push(("samples", b));
    let mut b = Vec::new();
    record::encode_ooo(&mut b, 7, &[Sample::new(5, 0.5), Sample::new(3, 2.0)]);
    records.push(("ooo", b));
    for (name, c) in &chunks {
        let mut b = Vec::new();
        record::encode_chunk(&mut b, 3, name.len() % 2 == 0, false, c);
        records.push((name, b));
    }

    let mut out = Vec::new();
    for (name, c) in &chunks {
        out.push(("chunk", (*name).to_owned(), c.clone()));
        let mut v = vec![2u8];
        v.extend_from_slice(&(i64::MAX as u64).to_be_bytes());
        v.extend_from_slice(c);
        out.push(("sled_value", format!("chunk-{name}"), v));
    }
    let mut block = vec![0u8];
    for id in [1u64, 2, 1024] {
        record::put_uvarint(&mut block, id);
        block.extend_from_slice(&key);
    }
    out.push(("sled_value", "series-block".to_owned(), block));
    let mut span = vec![1u8];
    span.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 0, 1]);
    span.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 0, 9]);
    span.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 0, 9]);
    out.push(("sled_value", "span".to_owned(), span));
    let mut segment = Vec::new();
    let mut framed = Vec::new();
    for (name, r) in &records {
        out.push(("wal_record", (*name).to_owned(), r.clone()));
        push_frame(&mut segment, r);
        if !framed.is_empty() {
            framed.extend_from_slice(&[0xff, 0xfe]);
        }
        framed.extend_from_slice(r);
    }
    // A torn tail: half of a last frame.
    let mut torn = segment.clone();
    torn.extend_from_slice(&segment[..segment.len().min(13)]);
    out.push(("wal_segment", "segment".to_owned(), segment));
    out.push(("wal_segment", "torn".to_owned(), torn));
    out.push(("wal_framed", "records".to_owned(), framed));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Every seed passes its own target (and so the checks in them hold
    /// for what the encoders write).
    #[test]
    fn seeds_pass_their_targets() {
        for (target, name, bytes) in seeds() {
            match target {
                "chunk" => chunk(&bytes),
                "sled_value" => sled_value(&bytes),
                "wal_record" => wal_record(&bytes),
                "wal_segment" => wal_segment(&bytes),
                "wal_framed" => wal_framed(&bytes),
                other => panic!("{other} {name}"),
            }
        }
    }

    /// Crashes the fuzzers found, replayed: `testdata/fuzz-regressions/
    /// <target>/*` through the target's function.
    #[test]
    fn fuzz_regressions_stay_fixed() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/fuzz-regressions");
        let Ok(targets) = std::fs::read_dir(&dir) else {
            return;
        };
        for t in targets {
            let t = t.unwrap().path();
            let name = t.file_name().unwrap().to_string_lossy().into_owned();
            let run: fn(&[u8]) = match name.as_str() {
                "chunk" => chunk,
                "sled_value" => sled_value,
                "wal_record" => wal_record,
                "wal_segment" => wal_segment,
                "wal_framed" => wal_framed,
                other => panic!("no fuzz target {other}"),
            };
            for case in std::fs::read_dir(&t).unwrap() {
                let case = case.unwrap().path();
                run(&std::fs::read(&case).unwrap());
            }
        }
    }

    /// Writes the seeds into `$PHAROS_FUZZ_SEEDS/<target>/`; run by
    /// `tests/scripts/fuzz.sh`.
    #[test]
    #[ignore = "writes fuzz seeds; run by tests/scripts/fuzz.sh"]
    fn write_seeds() {
        let Some(root) = std::env::var_os("PHAROS_FUZZ_SEEDS") else {
            return;
        };
        for (target, name, bytes) in seeds() {
            let dir = std::path::Path::new(&root).join(target);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
        }
    }
}
