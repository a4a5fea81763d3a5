//! Bit-level writer and reader behind the chunk encodings.
//!
//! Bits are packed most significant first: the first bit written is the top
//! bit of the first byte. The writer ORs whole big-endian `u64` words into a
//! zero-padded `Vec<u8>`, so a write is one unaligned load/OR/store whatever
//! its offset, and the bytes written so far are readable at any moment. The
//! reader loads words the same way and never panics: running past the end is
//! reported as `None`.

/// Appends bits to a byte buffer.
///
/// Invariant: `buf.len() >= bits / 8 + 8` and every bit at or after `bits`
/// is zero, so a word can be ORed in at the current byte without checks.
#[derive(Debug, Clone)]
pub(crate) struct BitWriter {
    buf: Vec<u8>,
    bits: usize,
}

impl BitWriter {
    /// A writer whose first `prefix_len` bytes are reserved (zero) for a header
    /// the caller fills in with [`BitWriter::header_mut`].
    pub(crate) fn with_header(prefix_len: usize, capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity.max(prefix_len + 8));
        buf.resize(prefix_len + 8, 0);
        BitWriter {
            buf,
            bits: prefix_len * 8,
        }
    }

    /// A writer continuing after the first `bits` bits of `bytes`. Bits after
    /// `bits` in the last byte are cleared.
    pub(crate) fn resume(bytes: &[u8], bits: usize) -> Self {
        let len = bits.div_ceil(8).min(bytes.len());
        let mut buf = Vec::with_capacity(len + 16);
        buf.extend_from_slice(&bytes[..len]);
        let rem = bits % 8;
        if rem != 0
            && let Some(last) = buf.get_mut(bits / 8)
        {
            *last &= !(0xffu8 >> rem);
        }
        buf.resize(bits / 8 + 8, 0);
        BitWriter { buf, bits }
    }

    /// The first `n` bytes of the buffer, for a fixed-size header.
    #[inline]
    pub(crate) fn header_mut<const N: usize>(&mut self) -> Option<&mut [u8; N]> {
        self.buf.first_chunk_mut::<N>()
    }

    /// Number of bits written, header included.
    #[cfg(test)]
    pub(crate) fn bit_len(&self) -> usize {
        self.bits
    }

    /// The bytes written so far; the last byte is zero-padded.
    #[inline]
    pub(crate) fn bytes(&self) -> &[u8] {
        let len = self.bits.div_ceil(8);
        self.buf.get(..len).unwrap_or(&self.buf)
    }

    /// The bytes written so far, without the spare zero bytes.
    pub(crate) fn into_bytes(mut self) -> Vec<u8> {
        self.buf.truncate(self.bits.div_ceil(8));
        self.buf
    }

    /// Writes the low `n` bits of `v` (`n <= 64`); the bits of `v` above `n`
    /// must be zero.
    #[inline]
    pub(crate) fn write(&mut self, v: u64, n: u32) {
        if n > 56 {
            self.write_small(v >> 32, n - 32);
            self.write_small(v & 0xffff_ffff, 32);
        } else {
            self.write_small(v, n);
        }
    }

    /// Writes one bit.
    #[inline]
    pub(crate) fn write_bit(&mut self, bit: bool) {
        self.write_small(u64::from(bit), 1);
    }

    /// Writes the low `n` bits of `v`, `1 <= n <= 57`.
    #[inline]
    fn write_small(&mut self, v: u64, n: u32) {
        debug_assert!((1..=57).contains(&n), "write of {n} bits");
        debug_assert!(v >> n == 0, "value {v:#x} wider than {n} bits");
        let byte = self.bits >> 3;
        let off = (self.bits & 7) as u32;
        if let Some(w) = self
            .buf
            .get_mut(byte..)
            .and_then(|s| s.first_chunk_mut::<8>())
        {
            // off <= 7 and n <= 57, so the shift is in 0..=63.
            let word = u64::from_be_bytes(*w) | (v << (64 - off - n));
            *w = word.to_be_bytes();
        }
        self.bits += n as usize;
        let need = (self.bits >> 3) + 8;
        if self.buf.len() < need {
            self.buf.resize(need, 0);
        }
    }
}

/// Reads bits from a byte slice, most significant first.
#[derive(Debug, Clone)]
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    /// Bit position; always `<= data.len() * 8`.
    pos: usize,
}

impl<'a> BitReader<'a> {
    /// A reader starting at bit `pos` (clamped to the end of `data`).
    pub(crate) fn new(data: &'a [u8], pos: usize) -> Self {
        BitReader {
            data,
            pos: pos.min(data.len().saturating_mul(8)),
        }
    }

    /// Current bit position.
    #[inline]
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// The underlying bytes.
    #[inline]
    pub(crate) fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Reads `n` bits (`1 <= n <= 64`), or `None` if fewer remain (the
    /// position is then unspecified).
    #[inline]
    pub(crate) fn read(&mut self, n: u32) -> Option<u64> {
        if n > 56 {
            let hi = self.read_small(n - 32)?;
            let lo = self.read_small(32)?;
            Some((hi << 32) | lo)
        } else {
            self.read_small(n)
        }
    }

    /// Reads one bit.
    #[inline]
    pub(crate) fn read_bit(&mut self) -> Option<bool> {
        self.read_small(1).map(|b| b != 0)
    }

    /// Reads `n` bits, `1 <= n <= 57`.
    #[inline]
    fn read_small(&mut self, n: u32) -> Option<u64> {
        debug_assert!((1..=57).contains(&n), "read of {n} bits");
        let byte = self.pos >> 3;
        let off = (self.pos & 7) as u32;
        let word = match self.data.get(byte..).and_then(|s| s.first_chunk::<8>()) {
            // A whole word is available: off + n <= 64 bits of it are ours.
            Some(w) => u64::from_be_bytes(*w),
            None => {
                if self.pos + n as usize > self.data.len() * 8 {
                    return None;
                }
                let mut tmp = [0u8; 8];
                for (d, s) in tmp.iter_mut().zip(self.data.get(byte..).unwrap_or(&[])) {
                    *d = *s;
                }
                u64::from_be_bytes(tmp)
            }
        };
        self.pos += n as usize;
        Some((word << off) >> (64 - n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_widths() {
        let mut w = BitWriter::with_header(2, 0);
        let mut expect = Vec::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..2000u32 {
            let n = i % 64 + 1;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = if n == 64 { x } else { x & ((1 << n) - 1) };
            w.write(v, n);
            expect.push((v, n));
            assert_eq!(w.bytes().len(), w.bit_len().div_ceil(8));
        }
        w.write_bit(true);
        let bits = w.bit_len();
        let bytes = w.into_bytes();
        assert_eq!(bytes.len(), bits.div_ceil(8));
        let mut r = BitReader::new(&bytes, 16);
        for (v, n) in expect {
            assert_eq!(r.read(n), Some(v), "{n} bits");
        }
        assert_eq!(r.read_bit(), Some(true));
        assert_eq!(r.pos(), bits);
        // Only padding zeros remain.
        let pad = (bytes.len() * 8 - bits) as u32;
        if pad > 0 {
            assert_eq!(r.read(pad), Some(0));
        }
        assert_eq!(r.read_bit(), None);
    }

    #[test]
    fn reader_stops_at_end() {
        let data = [0xffu8, 0x00, 0xaa];
        let mut r = BitReader::new(&data, 0);
        assert_eq!(r.read(25), None);
        let mut r = BitReader::new(&data, 0);
        assert_eq!(r.read(24), Some(0xff00aa));
        assert_eq!(r.read(1), None);
        let mut r = BitReader::new(&[], 0);
        assert_eq!(r.read(64), None);
        let mut r = BitReader::new(&data, 1000);
        assert_eq!(r.pos(), 24);
        assert_eq!(r.read_bit(), None);
    }

    #[test]
    fn resume_clears_padding_and_continues() {
        let mut w = BitWriter::with_header(0, 0);
        w.write(0b101, 3);
        let mut dirty = w.bytes().to_vec();
        dirty[0] |= 0x1f; // garbage in the padding
        let mut w2 = BitWriter::resume(&dirty, 3);
        w2.write(0b11, 2);
        w.write(0b11, 2);
        assert_eq!(w.bytes(), w2.bytes());
        assert_eq!(w2.bytes(), &[0b1011_1000]);
    }
}
