//! What a decoded `WriteRequest` would hold, worked out from the wire
//! bytes without decoding them.
//!
//! Protobuf expands in memory: an empty `Label` is 2 bytes on the wire and
//! 48 bytes decoded, a `Sample` 20 bytes and 16, each in a `Vec` that may
//! have grown to twice its length. [`inspect`] walks the encoding (one pass,
//! no allocation) and counts the elements and the memory they would take,
//! so [`decode_write_request_limited`](crate::decode_write_request_limited)
//! can refuse a request before it is decoded.

use std::mem::size_of;

use crate::{Exemplar, Label, MetricMetadata, Sample, TimeSeries};

/// Element counts and the estimated decoded size of a `WriteRequest`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WireStats {
    pub series: usize,
    pub labels: usize,
    pub samples: usize,
    pub exemplars: usize,
    pub metadata: usize,
    /// Bytes the decoded message would take at most: every element, its
    /// strings, and `Vec` growth slack.
    pub memory: usize,
}

/// Why the wire bytes are not a well-formed message. The texts are
/// prost's, so an error reads the same whichever pass
/// finds it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to decode Protobuf message: {0}")]
pub struct WireError(String);

/// A `Vec` grows by doubling: its capacity is at most twice its length.
const VEC_SLACK: usize = 2;

/// Counts what decoding `raw` (an uncompressed `WriteRequest`) would build.
pub fn inspect(raw: &[u8]) -> Result<WireStats, WireError> {
    let mut st = WireStats::default();
    for field in Fields(raw) {
        match field? {
            (1, Value::Bytes(ts)) => {
                st.series += 1;
                st.memory += VEC_SLACK * size_of::<TimeSeries>();
                series(ts, &mut st)?;
            }
            (3, Value::Bytes(md)) => {
                st.metadata += 1;
                // Its strings are at most its length.
                st.memory += VEC_SLACK * size_of::<MetricMetadata>() + md.len();
            }
            _ => {}
        }
    }
    Ok(st)
}

fn series(raw: &[u8], st: &mut WireStats) -> Result<(), WireError> {
    for field in Fields(raw) {
        match field? {
            (1, Value::Bytes(l)) => label(l, st),
            (2, Value::Bytes(_)) => {
                st.samples += 1;
                st.memory += VEC_SLACK * size_of::<Sample>();
            }
            (3, Value::Bytes(ex)) => {
                st.exemplars += 1;
                st.memory += VEC_SLACK * size_of::<Exemplar>();
                for field in Fields(ex) {
                    if let (1, Value::Bytes(l)) = field? {
                        label(l, st);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A label's strings are at most its encoded length.
fn label(raw: &[u8], st: &mut WireStats) {
    st.labels += 1;
    st.memory += VEC_SLACK * size_of::<Label>() + raw.len();
}

/// A field's value; only length-delimited ones matter here.
enum Value<'a> {
    Bytes(&'a [u8]),
    Other,
}

/// The fields of one message, in order.
struct Fields<'a>(&'a [u8]);

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u64, Value<'a>), WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let r = self.field();
        if r.is_err() {
            // Stop after the first error.
            self.0 = &[];
        }
        Some(r)
    }
}

impl<'a> Fields<'a> {
    fn field(&mut self) -> Result<(u64, Value<'a>), WireError> {
        let key = self.varint()?;
        let number = key >> 3;
        if number == 0 {
            return Err(WireError("invalid tag value: 0".into()));
        }
        let value = match key & 7 {
            0 => {
                self.varint()?;
                Value::Other
            }
            1 => {
                self.skip(8)?;
                Value::Other
            }
            2 => {
                let len = self.varint()?;
                let len = usize::try_from(len).map_err(|_| WireError("buffer underflow".into()))?;
                Value::Bytes(self.skip(len)?)
            }
            5 => {
                self.skip(4)?;
                Value::Other
            }
            w => return Err(WireError(format!("invalid wire type value: {w}"))),
        };
        Ok((number, value))
    }

    fn varint(&mut self) -> Result<u64, WireError> {
        let mut v = 0u64;
        for i in 0..10 {
            let (&b, rest) = self
                .0
                .split_first()
                .ok_or_else(|| WireError("invalid varint".into()))?;
            self.0 = rest;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(WireError("invalid varint".into()))
    }

    fn skip(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.0.len() {
            return Err(WireError("buffer underflow".into()));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::WriteRequest;

    #[test]
    fn counts_what_decoding_builds() {
        let req = WriteRequest {
            timeseries: vec![TimeSeries {
                labels: vec![
                    Label {
                        name: "__name__".into(),
                        value: "up".into(),
                    },
                    Label::default(),
                ],
                samples: vec![Sample::default(); 3],
                exemplars: vec![Exemplar {
                    labels: vec![Label::default()],
                    value: 1.0,
                    timestamp: 2,
                }],
            }],
            metadata: vec![MetricMetadata::default()],
        };
        let st = inspect(&req.encode_to_vec()).expect("well formed");
        assert_eq!(
            (st.series, st.labels, st.samples, st.exemplars),
            (1, 3, 3, 1)
        );
        // Default-valued messages encode as nothing but still count.
        assert!(st.memory >= 3 * size_of::<Label>() + 3 * size_of::<Sample>());
    }

    #[test]
    fn empty_labels_expand_many_times() {
        // 1 MiB of empty labels: two bytes each on the wire.
        let mut ts = Vec::new();
        for _ in 0..(1 << 19) {
            ts.extend_from_slice(&[0x0a, 0x00]);
        }
        let mut raw = vec![0x0a];
        let mut len = ts.len();
        while len >= 0x80 {
            raw.push((len as u8) | 0x80);
            len >>= 7;
        }
        raw.push(len as u8);
        raw.extend_from_slice(&ts);
        let st = inspect(&raw).expect("well formed");
        assert_eq!(st.labels, 1 << 19);
        assert!(st.memory > 40 * raw.len(), "{st:?}");
    }

    #[test]
    fn malformed_bytes_are_errors() {
        for bad in [&[0x0a, 0x05, 0x00][..], &[0x80], &[0x00], &[0x0b]] {
            assert!(inspect(bad).is_err(), "{bad:?}");
        }
    }
}
