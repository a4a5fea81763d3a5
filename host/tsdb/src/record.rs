//! What the WAL's records hold. The WAL itself stores opaque records (see
//! [`crate::wal`]); this module gives them meaning. Formats are documented in
//! `docs/format/records.md`.

use pharos_model::{Label, Labels, Sample};

use crate::Error;

pub(crate) const SERIES: u8 = 1;
pub(crate) const SAMPLES: u8 = 2;
pub(crate) const CHUNK: u8 = 3;
pub(crate) const OOO_SAMPLES: u8 = 4;

/// A decoded WAL or checkpoint record.
#[derive(Debug, PartialEq)]
pub(crate) enum Record {
    /// New series and their ids.
    Series(Vec<(u64, Labels)>),
    /// Samples for series by id.
    Samples(Vec<(u64, Sample)>),
    /// A chunk still in memory at checkpoint time.
    Chunk {
        id: u64,
        open: bool,
        ooo: bool,
        bytes: Vec<u8>,
    },
    /// Out-of-order samples still buffered at checkpoint time.
    OooSamples { id: u64, samples: Vec<Sample> },
}

pub(crate) fn put_uvarint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

pub(crate) fn put_varint(buf: &mut Vec<u8>, v: i64) {
    put_uvarint(buf, ((v << 1) ^ (v >> 63)) as u64);
}

fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_uvarint(buf, s.len() as u64);
    buf.extend_from_slice(s.as_bytes());
}

pub(crate) fn put_labels(buf: &mut Vec<u8>, labels: &Labels) {
    put_uvarint(buf, labels.len() as u64);
    for l in labels {
        put_str(buf, &l.name);
        put_str(buf, &l.value);
    }
}

/// Encodes a series record from `(id, series key)` pairs; a series key is
/// a label set encoded with [`put_labels`].
pub(crate) fn encode_series<'a>(buf: &mut Vec<u8>, series: impl Iterator<Item = (u64, &'a [u8])>) {
    buf.push(SERIES);
    for (id, key) in series {
        put_uvarint(buf, id);
        buf.extend_from_slice(key);
    }
}

/// Encodes a samples record: a base timestamp, then per sample the series
/// id, the timestamp's difference to the base and the value's bits.
pub(crate) fn encode_samples(buf: &mut Vec<u8>, samples: impl IntoIterator<Item = (u64, Sample)>) {
    buf.push(SAMPLES);
    let mut samples = samples.into_iter().peekable();
    let base = samples.peek().map_or(0, |s| s.1.t);
    put_varint(buf, base);
    for (id, s) in samples {
        put_uvarint(buf, id);
        put_varint(buf, s.t.wrapping_sub(base));
        buf.extend_from_slice(&s.v.to_bits().to_le_bytes());
    }
}

pub(crate) fn encode_chunk(buf: &mut Vec<u8>, id: u64, open: bool, ooo: bool, bytes: &[u8]) {
    buf.push(CHUNK);
    put_uvarint(buf, id);
    buf.push(u8::from(open) | (u8::from(ooo) << 1));
    buf.extend_from_slice(bytes);
}

pub(crate) fn encode_ooo(buf: &mut Vec<u8>, id: u64, samples: &[Sample]) {
    buf.push(OOO_SAMPLES);
    put_uvarint(buf, id);
    for s in samples {
        put_varint(buf, s.t);
        buf.extend_from_slice(&s.v.to_bits().to_le_bytes());
    }
}

/// A cursor over a record's bytes.
pub(crate) struct Decoder<'a> {
    b: &'a [u8],
}

fn corrupt(detail: &str) -> Error {
    Error::Corrupt {
        what: "record",
        detail: detail.to_owned(),
    }
}

impl<'a> Decoder<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Self {
        Decoder { b }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.b.is_empty()
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        let (&x, rest) = self.b.split_first().ok_or_else(|| corrupt("truncated"))?;
        self.b = rest;
        Ok(x)
    }

    pub(crate) fn uvarint(&mut self) -> Result<u64, Error> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            // The tenth byte may only hold the top bit of a u64.
            if shift == 63 && byte > 1 {
                return Err(corrupt("varint overflow"));
            }
            v |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(v);
            }
        }
        Err(corrupt("varint overflow"))
    }

    pub(crate) fn varint(&mut self) -> Result<i64, Error> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    pub(crate) fn u64_le(&mut self) -> Result<u64, Error> {
        if self.b.len() < 8 {
            return Err(corrupt("truncated"));
        }
        let (x, rest) = self.b.split_at(8);
        self.b = rest;
        let mut a = [0u8; 8];
        a.copy_from_slice(x);
        Ok(u64::from_le_bytes(a))
    }

    fn str(&mut self) -> Result<String, Error> {
        let n = usize::try_from(self.uvarint()?).map_err(|_| corrupt("length"))?;
        if self.b.len() < n {
            return Err(corrupt("truncated string"));
        }
        let (s, rest) = self.b.split_at(n);
        self.b = rest;
        String::from_utf8(s.to_vec()).map_err(|_| corrupt("label is not UTF-8"))
    }

    pub(crate) fn labels(&mut self) -> Result<Labels, Error> {
        let n = self.uvarint()?;
        let mut v = Vec::new();
        for _ in 0..n {
            let name = self.str()?;
            let value = self.str()?;
            v.push(Label { name, value });
        }
        Labels::from_sorted(v).ok_or_else(|| corrupt("labels not sorted"))
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.b)
    }
}

/// Decodes a record written by the `encode_*` functions.
pub(crate) fn decode(rec: &[u8]) -> Result<Record, Error> {
    let mut d = Decoder::new(rec);
    match d.u8()? {
        SERIES => {
            let mut out = Vec::new();
            while !d.is_empty() {
                let id = d.uvarint()?;
                out.push((id, d.labels()?));
            }
            Ok(Record::Series(out))
        }
        SAMPLES => {
            let mut out = Vec::new();
            let base = d.varint()?;
            while !d.is_empty() {
                let id = d.uvarint()?;
                let t = base.wrapping_add(d.varint()?);
                let v = f64::from_bits(d.u64_le()?);
                out.push((id, Sample { t, v }));
            }
            Ok(Record::Samples(out))
        }
        CHUNK => {
            let id = d.uvarint()?;
            let flags = d.u8()?;
            Ok(Record::Chunk {
                id,
                open: flags & 1 != 0,
                ooo: flags & 2 != 0,
                bytes: d.rest().to_vec(),
            })
        }
        OOO_SAMPLES => {
            let id = d.uvarint()?;
            let mut samples = Vec::new();
            while !d.is_empty() {
                let t = d.varint()?;
                let v = f64::from_bits(d.u64_le()?);
                samples.push(Sample { t, v });
            }
            Ok(Record::OooSamples { id, samples })
        }
        other => Err(corrupt(&format!("unknown record type {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pharos_model::stale_nan;

    #[test]
    fn records_round_trip() {
        let l = Labels::from_pairs([("__name__", "up"), ("job", "x")]);
        let mut b = Vec::new();
        let mut key = Vec::new();
        put_labels(&mut key, &l);
        encode_series(&mut b, [(7u64, key.as_slice())].into_iter());
        assert_eq!(decode(&b).ok(), Some(Record::Series(vec![(7, l)])));

        let samples = vec![
            (1, Sample::new(1000, 1.0)),
            (2, Sample::new(999, stale_nan())),
            (300, Sample::new(-5, f64::NEG_INFINITY)),
        ];
        let mut b = Vec::new();
        encode_samples(&mut b, samples.iter().copied());
        match decode(&b) {
            Ok(Record::Samples(got)) => assert_eq!(got, samples),
            other => panic!("unexpected {other:?}"),
        }

        let mut b = Vec::new();
        encode_chunk(&mut b, 9, true, false, &[1, 2, 3]);
        assert_eq!(
            decode(&b).ok(),
            Some(Record::Chunk {
                id: 9,
                open: true,
                ooo: false,
                bytes: vec![1, 2, 3]
            })
        );
    }

    #[test]
    fn varints_round_trip_and_reject_overflow() {
        for v in [0, 1, 127, 128, u64::MAX - 1, u64::MAX] {
            let mut b = Vec::new();
            put_uvarint(&mut b, v);
            assert_eq!(Decoder::new(&b).uvarint().ok(), Some(v));
        }
        for v in [i64::MIN, -1, 0, 1, i64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            assert_eq!(Decoder::new(&b).varint().ok(), Some(v));
        }
        let too_big = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert!(Decoder::new(&too_big).uvarint().is_err());
    }

    #[test]
    fn truncated_records_are_errors() {
        let mut b = Vec::new();
        encode_samples(&mut b, [(1, Sample::new(1, 1.0))]);
        b.pop();
        assert!(decode(&b).is_err());
        assert!(decode(&[99]).is_err());
        assert!(decode(&[]).is_err());
    }
}
