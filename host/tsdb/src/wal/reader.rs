//! Streaming frame reader used to replay segments and checkpoints.
//!
//! Reads the file in large chunks into one reusable buffer and hands out
//! payloads as slices of that buffer: no per-record allocation or copy, and
//! memory bounded by the largest record (plus the chunk size), whatever the
//! file size.

use std::io::{self, Read};

use super::record::{Corruption, HEADER_LEN, parse_header};

/// Bytes requested from the file per read (and the initial buffer size for
/// files at least that large).
const CHUNK: usize = 1 << 20;

/// Why [`FrameReader::next_record`] stopped.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The underlying read failed.
    Io(io::Error),
    /// The frame starting at `offset` is invalid.
    Corrupt { offset: u64, what: Corruption },
}

/// Reads frames from `inner`, whose total length is `size` bytes.
pub(crate) struct FrameReader<R> {
    inner: R,
    size: u64,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// File offset of `buf[start]`.
    offset: u64,
}

impl<R: Read> FrameReader<R> {
    pub(crate) fn new(inner: R, size: u64) -> Self {
        let cap = usize::try_from(size)
            .unwrap_or(CHUNK)
            .clamp(HEADER_LEN, CHUNK);
        FrameReader {
            inner,
            size,
            buf: vec![0; cap],
            start: 0,
            end: 0,
            offset: 0,
        }
    }

    /// File offset of the next frame (after the last one returned).
    #[cfg(test)]
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// The next record as `(offset of its frame, payload)`, or `None` at a
    /// clean end of file (exactly at a frame boundary).
    pub(crate) fn next_record(&mut self) -> Result<Option<(u64, &[u8])>, ReadError> {
        let at = self.offset;
        let remaining = self.size.saturating_sub(at);
        let have = self.fill(HEADER_LEN).map_err(ReadError::Io)?;
        if have == 0 {
            return Ok(None);
        }
        if have < HEADER_LEN {
            return Err(corrupt(
                at,
                Corruption::TornHeader {
                    available: have as u64,
                },
            ));
        }
        let mut h = [0u8; HEADER_LEN];
        h.copy_from_slice(&self.buf[self.start..self.start + HEADER_LEN]);
        let (len, stored) = parse_header(&h).map_err(|what| corrupt(at, what))?;
        let frame = HEADER_LEN + len as usize;
        // Known-short file: report without growing the buffer for a bogus
        // length.
        if (frame as u64) > remaining {
            return Err(corrupt(
                at,
                Corruption::Truncated {
                    len,
                    available: remaining.saturating_sub(HEADER_LEN as u64),
                },
            ));
        }
        let have = self.fill(frame).map_err(ReadError::Io)?;
        if have < frame {
            // The file shrank under us or lied about its size.
            return Err(corrupt(
                at,
                Corruption::Truncated {
                    len,
                    available: (have - HEADER_LEN) as u64,
                },
            ));
        }
        let payload_start = self.start + HEADER_LEN;
        let payload_end = self.start + frame;
        let computed = crc32c::crc32c(&self.buf[payload_start..payload_end]);
        if computed != stored {
            return Err(corrupt(at, Corruption::Checksum { stored, computed }));
        }
        self.start = payload_end;
        self.offset += frame as u64;
        Ok(Some((at, &self.buf[payload_start..payload_end])))
    }

    /// Makes at least `want` unconsumed bytes available if the file has them;
    /// returns how many are available (less than `want` only at end of file).
    fn fill(&mut self, want: usize) -> io::Result<usize> {
        if self.end - self.start >= want {
            return Ok(self.end - self.start);
        }
        if self.buf.len() - self.start < want {
            // Move the unconsumed tail to the front, growing if one frame is
            // larger than the buffer.
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.buf.len() < want {
                self.buf.resize(want, 0);
            }
        }
        while self.end - self.start < want {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => break,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.end - self.start)
    }
}

fn corrupt(offset: u64, what: Corruption) -> ReadError {
    ReadError::Corrupt { offset, what }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::super::record::push_frame;
    use super::*;

    fn frames(records: &[&[u8]]) -> Vec<u8> {
        let mut buf = Vec::new();
        for r in records {
            push_frame(&mut buf, r);
        }
        buf
    }

    /// A reader that returns at most 3 bytes per call, to exercise refills.
    struct Dribble<'a>(&'a [u8]);

    impl Read for Dribble<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = out.len().min(3).min(self.0.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn reads_frames_across_refills_and_growth() {
        let big = vec![7u8; 3 * CHUNK / 2];
        let records: Vec<&[u8]> = vec![b"a", b"hello", &big, b"z"];
        let data = frames(&records);
        let mut r = FrameReader::new(Dribble(&data), data.len() as u64);
        let mut got = Vec::new();
        while let Some((_, p)) = r.next_record().unwrap() {
            got.push(p.to_vec());
        }
        assert_eq!(got, records.iter().map(|r| r.to_vec()).collect::<Vec<_>>());
        assert_eq!(r.offset(), data.len() as u64);
    }

    #[test]
    fn reports_offset_and_reason() {
        let mut data = frames(&[b"one", b"two"]);
        let second = (HEADER_LEN + 3) as u64;
        let last = data.len() - 1;
        data[last] ^= 1;
        let mut r = FrameReader::new(&data[..], data.len() as u64);
        assert!(r.next_record().unwrap().is_some());
        match r.next_record() {
            Err(ReadError::Corrupt {
                offset,
                what: Corruption::Checksum { .. },
            }) => assert_eq!(offset, second),
            other => panic!("unexpected {other:?}"),
        }
    }
}
