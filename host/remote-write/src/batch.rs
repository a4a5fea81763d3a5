//! Turning queued samples into a `WriteRequest`: samples of one series in a
//! batch become one `TimeSeries`, in the order they were read (which is the
//! order they were appended), series in order of their first sample.

use std::sync::Arc;

use pharos_prompb::{Sample as PbSample, TimeSeries, WriteRequest, encode_write_request};
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

/// Builds and encodes the request for `batch`.
pub(crate) fn encode(batch: &[Pending]) -> Encoded {
    let mut index: HashMap<u64, usize> = HashMap::default();
    let mut timeseries: Vec<TimeSeries> = Vec::new();
    let mut records: Vec<(u64, u32)> = Vec::new();
    let mut max_t = i64::MIN;
    for p in batch {
        let i = *index.entry(p.series.id).or_insert_with(|| {
            timeseries.push(TimeSeries {
                labels: p.series.labels.clone(),
                samples: Vec::new(),
                exemplars: Vec::new(),
            });
            timeseries.len() - 1
        });
        timeseries[i].samples.push(PbSample {
            value: p.v,
            timestamp: p.t,
        });
        max_t = max_t.max(p.t);
        match records.last_mut() {
            Some((seq, n)) if *seq == p.seq => *n += 1,
            _ => records.push((p.seq, 1)),
        }
    }
    let body = encode_write_request(&WriteRequest {
        timeseries,
        metadata: Vec::new(),
    });
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
    use pharos_prompb::{Label, decode_write_request};

    fn series(id: u64, name: &str) -> Arc<SeriesEntry> {
        Arc::new(SeriesEntry {
            id,
            labels: vec![Label {
                name: "__name__".into(),
                value: name.into(),
            }],
        })
    }

    #[test]
    fn groups_samples_by_series_and_counts_records() {
        let a = series(1, "a");
        let b = series(2, "b");
        let p = |s: &Arc<SeriesEntry>, t, v, seq| Pending {
            series: s.clone(),
            t,
            v,
            seq,
        };
        let batch = vec![
            p(&a, 10, 1.0, 5),
            p(&b, 10, 2.0, 5),
            p(&a, 20, 3.0, 6),
            p(&b, 30, 4.0, 8),
        ];
        let e = encode(&batch);
        assert_eq!((e.samples, e.max_t), (4, 30));
        assert_eq!(e.records, vec![(5, 2), (6, 1), (8, 1)]);
        let req = decode_write_request(&e.body).unwrap();
        let got: Vec<(String, Vec<(i64, f64)>)> = req
            .timeseries
            .iter()
            .map(|ts| {
                (
                    ts.labels[0].value.clone(),
                    ts.samples.iter().map(|s| (s.timestamp, s.value)).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("a".to_owned(), vec![(10, 1.0), (20, 3.0)]),
                ("b".to_owned(), vec![(10, 2.0), (30, 4.0)]),
            ]
        );
    }
}
