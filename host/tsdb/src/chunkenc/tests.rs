#![allow(clippy::unwrap_used)]

use pharos_model::{STALE_NAN_BITS, Sample};
use proptest::prelude::*;

use super::*;

fn encode(samples: &[(i64, u64)]) -> XorAppender {
    let mut app = XorAppender::new();
    for &(t, v) in samples {
        app.append(t, f64::from_bits(v));
    }
    app
}

fn decode(bytes: &[u8]) -> (Vec<(i64, u64)>, Option<ChunkError>) {
    let mut it = XorIter::new(bytes);
    let out = it.by_ref().map(|s: Sample| (s.t, s.v.to_bits())).collect();
    (out, it.error().cloned())
}

/// Encodes, decodes, checks everything the appender reports.
fn check_round_trip(samples: &[(i64, u64)]) {
    let app = encode(samples);
    assert_eq!(app.num_samples(), samples.len());
    assert_eq!(app.min_time(), samples.first().map(|s| s.0));
    assert_eq!(app.max_time(), samples.last().map(|s| s.0));
    assert_eq!(
        app.last().map(|s| (s.t, s.v.to_bits())),
        samples.last().copied()
    );
    let (got, err) = decode(app.bytes());
    assert_eq!(err, None);
    assert_eq!(got, samples);
    match samples {
        [] => assert_eq!(chunk_info(app.bytes()), Err(ChunkError::Empty)),
        [f, .., l] | [f @ l] => {
            assert_eq!(chunk_info(app.bytes()), Ok((samples.len(), f.0, l.0)))
        }
    }
    let bytes = app.bytes().to_vec();
    assert_eq!(app.into_bytes(), bytes);
}

/// Appending `samples[..k]`, restoring from the bytes and appending the rest
/// gives the same bytes as appending everything at once.
fn check_resume(samples: &[(i64, u64)], k: usize) {
    let whole = encode(samples);
    let first = encode(&samples[..k]);
    let mut resumed = XorAppender::from_bytes(first.bytes()).unwrap();
    assert_eq!(resumed.bytes(), first.bytes());
    assert_eq!(resumed.num_samples(), k);
    assert_eq!(resumed.min_time(), first.min_time());
    assert_eq!(
        resumed.last().map(|s| (s.t, s.v.to_bits())),
        first.last().map(|s| (s.t, s.v.to_bits()))
    );
    for &(t, v) in &samples[k..] {
        resumed.append(t, f64::from_bits(v));
    }
    assert_eq!(resumed.bytes(), whole.bytes());
}

const SPECIAL: [u64; 10] = [
    STALE_NAN_BITS,
    0x7ff8_0000_0000_0000, // NaN
    0xfff8_0000_0000_0001, // negative NaN with payload
    0x7ff0_0000_0000_0000, // +Inf
    0xfff0_0000_0000_0000, // -Inf
    0x8000_0000_0000_0000, // -0.0
    0,
    1, // smallest subnormal
    u64::MAX,
    0x3ff0_0000_0000_0000, // 1.0
];

#[test]
fn empty_chunk() {
    let app = XorAppender::new();
    assert_eq!(app.bytes(), &[0, 0]);
    assert_eq!(app.min_time(), None);
    assert_eq!(app.max_time(), None);
    assert!(app.last().is_none());
    check_round_trip(&[]);
    check_resume(&[], 0);
}

#[test]
fn special_values_round_trip() {
    let samples: Vec<(i64, u64)> = SPECIAL
        .iter()
        .chain(SPECIAL.iter().rev())
        .chain(SPECIAL.iter())
        .enumerate()
        .map(|(i, &v)| (i as i64 * 15_000, v))
        .collect();
    check_round_trip(&samples);
    for k in 0..=samples.len() {
        check_resume(&samples, k);
    }
    // Each one alone, as first and as second sample.
    for &v in &SPECIAL {
        check_round_trip(&[(7, v)]);
        check_round_trip(&[(7, v), (8, v), (9, 0)]);
    }
}

#[test]
fn integer_deltas() {
    // Integers near and beyond the i64 and f64-exact ranges, after NaN, Inf,
    // -0.0 and fractions: the integer-delta form must give the exact bits.
    let vals = [
        0.0,
        -0.0,
        1.0,
        -0.0,
        f64::NAN,
        3.0,
        f64::INFINITY,
        7.0,
        0.5,
        8.0,
        -8.0,
        9_007_199_254_740_992.0, // 2^53
        9_007_199_254_740_993.0, // rounds to 2^53
        9_007_199_254_740_994.0,
        9.223_372_036_854_776e18, // 2^63: saturates in `as i64`
        9.223_372_036_854_775e18,
        -9.223_372_036_854_776e18, // -2^63
        -9.223_372_036_854_775e18,
        1e300,
        1e300 + 5.0,
        100.0,
        99.0,
        163.0,
        -360_000.0,
        164_287.0,
        1.0,
    ];
    let mut samples: Vec<(i64, u64)> = Vec::new();
    for (i, v) in vals.iter().enumerate() {
        samples.push((i as i64, v.to_bits()));
    }
    check_round_trip(&samples);
    for k in 0..=samples.len() {
        check_resume(&samples, k);
    }
    let mut c = 0.0f64;
    let counter: Vec<(i64, u64)> = (0..1000)
        .map(|i| {
            c += f64::from(i % 70);
            (i64::from(i) * 15_000, c.to_bits())
        })
        .collect();
    check_round_trip(&counter);
}

#[test]
fn timestamp_extremes() {
    let cases: &[&[i64]] = &[
        &[i64::MIN, i64::MAX],
        &[i64::MIN, i64::MIN + 1, i64::MAX - 1, i64::MAX],
        &[i64::MIN, 0, i64::MAX],
        &[i64::MIN, -1, 0, 1, i64::MAX],
        &[0, 1_000_000_000_000, 1_000_000_000_001, 1_000_000_015_001],
        &[-5_000_000, -4_985_000, -4_970_000, 10, 25],
        &[i64::MAX - 2, i64::MAX - 1, i64::MAX],
        &[i64::MIN, i64::MIN + 1, i64::MIN + 2],
        &[
            1,
            2,
            3,
            5,
            8,
            13,
            21,
            34,
            55,
            89,
            144,
            1 << 40,
            (1 << 40) + 1,
        ],
    ];
    for ts in cases {
        let samples: Vec<(i64, u64)> = ts.iter().map(|&t| (t, t as u64)).collect();
        check_round_trip(&samples);
        for k in 0..=samples.len() {
            check_resume(&samples, k);
        }
    }
}

#[test]
fn every_dod_bucket_boundary() {
    // Delta-of-deltas at and around each bucket's edges.
    let mut dods = vec![0i64, 1, -1];
    for n in [5u32, 11, 20, 32] {
        let lim = 1i64 << (n - 1);
        dods.extend([lim - 1, lim, lim + 1, -lim - 1, -lim, -lim + 1]);
    }
    let mut samples = vec![(0i64, 0u64), (1i64 << 40, 1)];
    let mut delta = 1i64 << 40;
    for (i, &dod) in dods.iter().enumerate() {
        delta += dod;
        let t = samples.last().unwrap().0 + delta;
        samples.push((t, i as u64));
    }
    check_round_trip(&samples);
}

#[test]
fn full_chunk() {
    let samples: Vec<(i64, u64)> = (0..MAX_SAMPLES as i64)
        .map(|i| (i * 10 + i % 3, (i as f64 / 7.0).to_bits()))
        .collect();
    let app = encode(&samples);
    assert!(app.is_full());
    check_round_trip(&samples);
    check_resume(&samples, MAX_SAMPLES - 1);
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "append of t=5 after t=5")]
fn non_increasing_append_is_a_bug() {
    let mut app = XorAppender::new();
    app.append(5, 1.0);
    app.append(5, 2.0);
}

#[test]
fn corrupt_inputs_are_reported() {
    let good = encode(&[(1000, 0), (16_000, 1), (31_003, 0x4000_0000_0000_0000)]);
    let good = good.bytes();

    assert_eq!(
        decode(&[]).1,
        Some(ChunkError::BadHeader { len: 0 }),
        "no header"
    );
    assert_eq!(decode(&[3]).1, Some(ChunkError::BadHeader { len: 1 }));
    assert_eq!(chunk_info(&[0, 0]), Err(ChunkError::Empty));

    // Every truncation fails, with the samples before the cut intact.
    for len in 0..good.len() {
        let (got, err) = decode(&good[..len]);
        assert!(err.is_some(), "truncated to {len}");
        assert!(got.len() < 3);
        assert!(XorAppender::from_bytes(&good[..len]).is_err());
        assert!(chunk_info(&good[..len]).is_err());
    }

    // A count lowered by one leaves trailing data or nonzero padding.
    let mut fewer = good.to_vec();
    fewer[1] -= 1;
    let (got, err) = decode(&fewer);
    assert_eq!(got.len(), 2);
    assert!(err.is_some());

    let mut longer = good.to_vec();
    longer.push(0);
    assert_eq!(
        decode(&longer).1,
        Some(ChunkError::TrailingData { extra: 1 })
    );
    assert_eq!(
        XorAppender::from_bytes(&longer).err(),
        Some(ChunkError::TrailingData { extra: 1 })
    );

    // Varint of eleven groups.
    let mut bad = vec![0, 1];
    bad.extend([0xff; 10]);
    bad.extend([0; 8]);
    assert!(matches!(
        decode(&bad).1,
        Some(ChunkError::Corrupt { sample: 0, .. })
    ));

    // Second sample with a zero delta.
    let bad = [0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(
        decode(&bad).1,
        Some(ChunkError::Corrupt {
            sample: 1,
            what: "timestamp not increasing"
        })
    );

    // Second sample reusing a window that does not exist:
    // t0=0, v0=0, delta=1, then bits `10`.
    let bad = [0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0b1000_0000];
    assert!(matches!(
        decode(&bad).1,
        Some(ChunkError::Corrupt { sample: 1, .. })
    ));

    // Window of 31 leading zeros and 40 significant bits.
    let bad = [
        0,
        2,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        1,
        0b1111_1111,
        0b1010_0000,
        0,
        0,
    ];
    assert_eq!(
        decode(&bad).1,
        Some(ChunkError::Corrupt {
            sample: 1,
            what: "XOR window wider than 64 bits"
        })
    );
}

#[test]
fn known_bytes() {
    // Pins the example in docs/format/chunks.md.
    let app = encode(&[
        (1, 1.0f64.to_bits()),
        (3, 1.0f64.to_bits()),
        (5, 2.0f64.to_bits()),
        (8, 0.5f64.to_bits()),
        (10, 0.125f64.to_bits()),
    ]);
    assert_eq!(
        app.bytes(),
        &[
            0x00,
            0x05, // count 5
            0x02, // t=1: zigzag(1) = 2
            0x3f,
            0xf0,
            0,
            0,
            0,
            0,
            0,
            0,    // 1.0
            0x02, // t=3: delta 2
            // 1.0: unchanged `0`
            // t=5: dod 0 `0`; 2.0: integer delta +1 `110 0 0001`
            // t=8: dod +1 `10 00001`; 0.5: 0.5 ^ 2.0 = 0x7fe0_0000_0000_0000,
            //      new window `111` lead=1 `00001` sig=10 `001010` `1111111111`
            // t=10: dod -1 `10 11111`; 0.125: 0.125 ^ 0.5 = 0x0020_0000_0000_0000
            //      fits the window: `10` `0000000001`
            // then 4 bits of padding.
            0b0011_0000,
            0b0110_0000,
            0b1111_0000,
            0b1001_0101,
            0b1111_1111,
            0b1101_1111,
            0b1000_0000,
            0b0001_0000,
        ][..]
    );
    check_round_trip(&decode(app.bytes()).0);
}

/// Deterministic pseudo-random numbers for the size measurements.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Bytes per sample of a 120-sample chunk of typical scrape data, printed
/// (run with `--nocapture`); the bound only catches a gross regression.
#[test]
fn bytes_per_sample_of_scrape_data() {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let n = 120;
    let start = 1_700_000_000_000i64;
    // 15s interval, each scrape 0..=4 ms late.
    let ts: Vec<i64> = (0..n)
        .map(|i| start + i * 15_000 + (rng.next() % 5) as i64)
        .collect();
    let regular: Vec<i64> = (0..n).map(|i| start + i * 15_000).collect();

    let mut c = 1_234_567.0f64;
    let counter: Vec<f64> = (0..n)
        .map(|_| {
            c += (rng.next() % 40) as f64;
            c
        })
        .collect();
    let mut g = 50.0f64;
    let int_gauge: Vec<f64> = (0..n)
        .map(|_| {
            g = (g + (rng.next() % 7) as f64 - 3.0).max(0.0);
            g
        })
        .collect();
    let mut m = 512.0 * 1024.0 * 1024.0;
    let mem_gauge: Vec<f64> = (0..n)
        .map(|_| {
            if rng.next().is_multiple_of(3) {
                m += ((rng.next() % 64) as f64 - 32.0) * 4096.0;
            }
            m
        })
        .collect();
    let float_gauge: Vec<f64> = (0..n).map(|_| (rng.next() % 1000) as f64 / 100.0).collect();
    let constant = vec![1.0; n as usize];

    let mut report = String::new();
    for (name, ts) in [("15s+jitter", &ts), ("15s exact", &regular)] {
        for (series, vs) in [
            ("counter (+0..40 per scrape)", &counter),
            ("integer gauge (random walk ±3)", &int_gauge),
            ("memory gauge (4 KiB steps, 1/3 change)", &mem_gauge),
            ("2-decimal gauge 0..10 (random)", &float_gauge),
            ("constant", &constant),
        ] {
            let mut app = XorAppender::new();
            for (&t, &v) in ts.iter().zip(vs) {
                app.append(t, v);
            }
            let per = app.bytes().len() as f64 / n as f64;
            report += &format!("{name:11} {series:40} {per:5.2} bytes/sample\n");
            let (got, err) = decode(app.bytes());
            assert_eq!(err, None);
            assert_eq!(got.len(), n as usize);
            if !series.starts_with("2-decimal") {
                assert!(per < 3.0, "{name} {series}: {per} bytes/sample");
            }
        }
    }
    println!("120-sample chunks:\n{report}");
}

/// Gaps between timestamps: mostly regular, some jitter, tiny and huge jumps.
fn gap() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => Just(15_000u64),
        4 => 14_990u64..15_010,
        2 => 1u64..100,
        1 => (1u64 << 20)..(1u64 << 40),
        1 => 1u64..=u64::MAX,
    ]
}

#[derive(Debug, Clone)]
enum Val {
    Bits(u64),
    Same,
    Add(i32),
}

fn val() -> impl Strategy<Value = Val> {
    prop_oneof![
        3 => any::<u64>().prop_map(Val::Bits),
        2 => proptest::sample::select(&SPECIAL[..]).prop_map(Val::Bits),
        3 => Just(Val::Same),
        3 => any::<i32>().prop_map(Val::Add),
        1 => (-1_000_000i64..1_000_000).prop_map(|i| Val::Bits((i as f64).to_bits())),
    ]
}

fn samples() -> impl Strategy<Value = Vec<(i64, u64)>> {
    let start = prop_oneof![
        any::<i64>(),
        Just(i64::MIN),
        -1_000_000i64..1_000_000,
        Just(1_700_000_000_000i64),
    ];
    (start, proptest::collection::vec((gap(), val()), 0..300)).prop_map(|(start, steps)| {
        let mut out: Vec<(i64, u64)> = Vec::with_capacity(steps.len() + 1);
        let mut t = start;
        let mut v = 0u64;
        for (i, (gap, val)) in steps.into_iter().enumerate() {
            if i > 0 {
                match i64::try_from(i128::from(t) + i128::from(gap)) {
                    Ok(next) => t = next,
                    Err(_) => continue,
                }
            }
            v = match val {
                Val::Bits(b) => b,
                Val::Same => v,
                Val::Add(d) => (f64::from_bits(v) + f64::from(d)).to_bits(),
            };
            out.push((t, v));
        }
        out
    })
}

proptest! {
    // Failures print the minimal input; nothing is persisted outside this module.
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn prop_round_trip(samples in samples()) {
        check_round_trip(&samples);
    }

    #[test]
    fn prop_resume(samples in samples(), k in any::<prop::sample::Index>()) {
        let k = k.index(samples.len() + 1);
        check_resume(&samples, k);
    }

    #[test]
    fn prop_random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let (got, err) = decode(&bytes);
        let info = chunk_info(&bytes);
        let resumed = XorAppender::from_bytes(&bytes);
        prop_assert_eq!(info.is_ok(), err.is_none() && !got.is_empty());
        prop_assert_eq!(resumed.is_ok(), err.is_none());
        if let Ok(app) = resumed {
            prop_assert_eq!(app.bytes(), &bytes[..]);
            prop_assert_eq!(app.num_samples(), got.len());
        }
        prop_assert!(got.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn prop_mutated_chunks_never_panic(
        samples in samples(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let app = encode(&samples);
        let mut bytes = app.bytes().to_vec();
        for (i, bit) in flips {
            let i = i.index(bytes.len());
            bytes[i] ^= 1 << bit;
        }
        let (got, err) = decode(&bytes);
        let _ = chunk_info(&bytes);
        let _ = XorAppender::from_bytes(&bytes);
        prop_assert!(got.windows(2).all(|w| w[0].0 < w[1].0));
        let _ = err;
        let cut = cut.index(bytes.len());
        let _ = decode(&bytes[..cut]);
        let _ = chunk_info(&bytes[..cut]);
        let _ = XorAppender::from_bytes(&bytes[..cut]);
    }
}
