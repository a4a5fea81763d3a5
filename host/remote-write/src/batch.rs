//! Turning queued samples into the body of a remote-write request: a
//! protobuf `WriteRequest` (prometheus/prompb `remote.proto`), compressed
//! with snappy's block format. Samples of one series in a batch become one
//! `TimeSeries`, in the order they were read (which is the order they were
//! appended); series come in the order of their first sample.
//!
//! The message is written directly, not through `prost` structs: each
//! series' labels are encoded once, when the queue first sees the series
//! ([`encode_labels`]), and copied as bytes into every request, so a batch
//! costs no allocation per series or label. Values are always written, so
//! `-0` survives (proto3 encoders usually leave a zero off the wire);
//! decoders read both forms. `pharos_prompb::decode_write_request` reads
//! it back in the tests.

use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use crate::series::SeriesEntry;

/// One sample waiting in a shard.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub(crate) series: Arc<SeriesEntry>,
    pub(crate) t: i64,
    pub(crate) v: f64,
    /// Sequence number of the WAL record it came from (see `progress`).
    pub(crate) seq: u64,
}

/// A batch ready to send.
#[derive(Debug)]
pub(crate) struct Encoded {
    /// The snappy-compressed protobuf body.
    pub(crate) body: Vec<u8>,
    pub(crate) samples: usize,
    pub(crate) max_t: i64,
    /// `(record sequence number, samples)` runs, for acknowledgement.
    pub(crate) records: Vec<(u64, u32)>,
}

/// Protobuf wire types.
const LEN: u8 = 2;
const I64: u8 = 1;
const VARINT: u8 = 0;

const fn tag(field: u8, wire: u8) -> u8 {
    (field << 3) | wire
}

fn put_uvarint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn uvarint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

fn put_bytes_field(buf: &mut Vec<u8>, field: u8, bytes: &[u8]) {
    buf.push(tag(field, LEN));
    put_uvarint(buf, bytes.len() as u64);
    buf.extend_from_slice(bytes);
}

/// The `labels` fields (1) of a `TimeSeries` for these `(name, value)`
/// pairs: each a `Label { name = 1, value = 2 }` message.
pub(crate) fn encode_labels<'a>(labels: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut label = Vec::new();
    for (name, value) in labels {
        label.clear();
        put_bytes_field(&mut label, 1, name.as_bytes());
        put_bytes_field(&mut label, 2, value.as_bytes());
        put_bytes_field(&mut out, 1, &label);
    }
    out
}

/// Length of a `Sample { value = 1 (double), timestamp = 2 (int64) }`.
fn sample_len(t: i64) -> usize {
    9 + if t == 0 { 0 } else { 1 + uvarint_len(t as u64) }
}

/// Builds and encodes the request for `batch`.
pub(crate) fn encode(batch: &[Pending]) -> Encoded {
    // Group samples by series, keeping first-appearance order.
    let mut index: HashMap<u64, usize> = HashMap::default();
    let mut groups: Vec<(&SeriesEntry, usize)> = Vec::new();
    let mut group_of: Vec<usize> = Vec::with_capacity(batch.len());
    let mut records: Vec<(u64, u32)> = Vec::new();
    let mut max_t = i64::MIN;
    for p in batch {
        let g = *index.entry(p.series.id).or_insert_with(|| {
            groups.push((&p.series, 0));
            groups.len() - 1
        });
        groups[g].1 += 1;
        group_of.push(g);
        max_t = max_t.max(p.t);
        match records.last_mut() {
            Some((seq, n)) if *seq == p.seq => *n += 1,
            _ => records.push((p.seq, 1)),
        }
    }
    // Samples laid out group after group (a stable counting sort).
    let mut start: Vec<usize> = Vec::with_capacity(groups.len() + 1);
    let mut acc = 0;
    for (_, n) in &groups {
        start.push(acc);
        acc += n;
    }
    start.push(acc);
    let mut fill = start.clone();
    let mut ordered: Vec<(i64, f64)> = vec![(0, 0.0); batch.len()];
    for (p, &g) in batch.iter().zip(&group_of) {
        ordered[fill[g]] = (p.t, p.v);
        fill[g] += 1;
    }

    let mut raw = Vec::with_capacity(
        batch.len() * 24 + groups.iter().map(|(s, _)| s.wire.len() + 4).sum::<usize>(),
    );
    for (g, (series, _)) in groups.iter().enumerate() {
        let samples = &ordered[start[g]..start[g + 1]];
        let ts_len = series.wire.len()
            + samples
                .iter()
                .map(|&(t, _)| {
                    let n = sample_len(t);
                    1 + uvarint_len(n as u64) + n
                })
                .sum::<usize>();
        raw.push(tag(1, LEN));
        put_uvarint(&mut raw, ts_len as u64);
        raw.extend_from_slice(&series.wire);
        for &(t, v) in samples {
            raw.push(tag(2, LEN));
            put_uvarint(&mut raw, sample_len(t) as u64);
            raw.push(tag(1, I64));
            raw.extend_from_slice(&v.to_bits().to_le_bytes());
            if t != 0 {
                raw.push(tag(2, VARINT));
                put_uvarint(&mut raw, t as u64);
            }
        }
    }
    // Compressing into a buffer of max_compress_len cannot fail.
    let body = snap::raw::Encoder::new()
        .compress_vec(&raw)
        .unwrap_or_default();
    Encoded {
        body,
        samples: batch.len(),
        max_t,
        records,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use pharos_prompb::{Label, Sample, TimeSeries, WriteRequest, decode_write_request};
    use prost::Message;

    fn series(id: u64, labels: &[(&str, &str)]) -> Arc<SeriesEntry> {
        Arc::new(SeriesEntry {
            id,
            wire: encode_labels(labels.iter().copied()),
        })
    }

    fn p(s: &Arc<SeriesEntry>, t: i64, v: f64, seq: u64) -> Pending {
        Pending {
            series: s.clone(),
            t,
            v,
            seq,
        }
    }

    fn label(n: &str, v: &str) -> Label {
        Label {
            name: n.into(),
            value: v.into(),
        }
    }

    #[test]
    fn groups_samples_by_series_and_counts_records() {
        let a = series(1, &[("__name__", "a"), ("job", "x")]);
        let b = series(2, &[("__name__", "b")]);
        let batch = vec![
            p(&a, 10, 1.0, 5),
            p(&b, 10, 2.0, 5),
            p(&a, 20, 3.0, 6),
            p(&b, 30, 4.0, 8),
        ];
        let e = encode(&batch);
        assert_eq!((e.samples, e.max_t), (4, 30));
        assert_eq!(e.records, vec![(5, 2), (6, 1), (8, 1)]);
        let want = WriteRequest {
            timeseries: vec![
                TimeSeries {
                    labels: vec![label("__name__", "a"), label("job", "x")],
                    samples: vec![
                        Sample {
                            value: 1.0,
                            timestamp: 10,
                        },
                        Sample {
                            value: 3.0,
                            timestamp: 20,
                        },
                    ],
                    exemplars: vec![],
                },
                TimeSeries {
                    labels: vec![label("__name__", "b")],
                    samples: vec![
                        Sample {
                            value: 2.0,
                            timestamp: 10,
                        },
                        Sample {
                            value: 4.0,
                            timestamp: 30,
                        },
                    ],
                    exemplars: vec![],
                },
            ],
            metadata: vec![],
        };
        assert_eq!(decode_write_request(&e.body).unwrap(), want);
    }

    #[test]
    fn edge_values_decode_like_prost_writes_them() {
        let s = series(1, &[("__name__", "m"), ("k", "ünïcödé \"q\"")]);
        let ts = [0, 1, -1, i64::MIN, i64::MAX, 1_700_000_000_000];
        let vs = [
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::MIN_POSITIVE,
            -1e300,
        ];
        let batch: Vec<Pending> = ts.iter().zip(vs).map(|(&t, v)| p(&s, t, v, 0)).collect();
        let e = encode(&batch);
        let raw = snap::raw::Decoder::new().decompress_vec(&e.body).unwrap();
        let got = WriteRequest::decode(raw.as_slice()).unwrap();
        let samples: Vec<(i64, u64)> = got.timeseries[0]
            .samples
            .iter()
            .map(|s| (s.timestamp, s.value.to_bits()))
            .collect();
        let want: Vec<(i64, u64)> = ts.iter().zip(vs).map(|(&t, v)| (t, v.to_bits())).collect();
        assert_eq!(samples, want);
        assert_eq!(got.timeseries[0].labels[1], label("k", "ünïcödé \"q\""));
        // Re-encoded by prost (which leaves zero fields off), the same
        // message apart from those.
        assert_eq!(
            WriteRequest::decode(got.encode_to_vec().as_slice())
                .unwrap()
                .timeseries
                .len(),
            1
        );
        assert_eq!(encode(&[]).samples, 0);
        assert_eq!(
            decode_write_request(&encode(&[]).body).unwrap(),
            WriteRequest::default()
        );
    }

    #[test]
    fn varint_lengths() {
        for v in [0u64, 1, 127, 128, 16_383, 16_384, u64::MAX] {
            let mut b = Vec::new();
            put_uvarint(&mut b, v);
            assert_eq!(b.len(), uvarint_len(v), "{v}");
        }
    }
}
