//! The XOR chunk: delta-of-delta timestamps and XOR-compressed float values,
//! after Facebook's Gorilla paper (Pelkonen et al., VLDB 2015), plus integer
//! deltas for integer values. The exact format is in `docs/format/chunks.md`.

use pharos_model::Sample;

use super::ChunkError;
use super::bstream::{BitReader, BitWriter};

/// Bytes of the chunk header (the big-endian `u16` sample count).
pub const HEADER_LEN: usize = 2;

/// Most samples one chunk can hold (the header count is a `u16`).
pub const MAX_SAMPLES: usize = u16::MAX as usize;

/// Timestamp delta-of-delta buckets after the all-zero `0` code: the code is
/// `i` one-bits and a zero (`10`, `110`, …) followed by a two's-complement
/// payload of `DOD_BITS[i - 1]` bits. `11111` is followed by the full 64 bits.
const DOD_BITS: [u32; 4] = [5, 11, 20, 32];

/// One-bits of the `11111` code that escapes to a full 64-bit delta-of-delta.
const DOD_ESCAPE: usize = DOD_BITS.len() + 1;

/// Leading-zero counts are stored in 5 bits, so at most 31.
const MAX_LEADING: u32 = 31;

/// Integer-delta value buckets after the `110` code: selector `0`, `10`,
/// `11`, then a two's-complement delta of `INT_BITS[selector]` bits.
const INT_BITS: [u32; 3] = [4, 7, 20];

/// The prefix code of the timestamp buckets and integer-delta selectors, as
/// `(bits, bit count)`: `ones` one-bits, then a zero unless `ones == max` (so
/// `0`, `10`, `110`, …, and `max` ones). Read back by `XorIter::unary`.
#[inline]
const fn unary(ones: usize, max: usize) -> (u64, u32) {
    let bits = (1 << ones) - 1;
    if ones < max {
        (bits << 1, ones as u32 + 1)
    } else {
        (bits, ones as u32)
    }
}

/// Bits of the `111` new-window header: code, 5 bits leading zeros, 6 bits
/// significant-bit count.
const NEW_WINDOW_HEADER: u32 = 3 + 5 + 6;

/// Encoder policy, not format: a value is written in the current XOR window
/// only if that is no more bits than opening a new one (so a window widened
/// by a NaN or a sign change does not stick).
const REUSE_SLACK: u32 = NEW_WINDOW_HEADER - 2;

/// `lead` value meaning "no XOR window yet".
const NO_WINDOW: u8 = u8::MAX;

/// Initial capacity of an appender's buffer. Small, growing by doubling:
/// every head series has an open chunk, and 256 bytes each made a tenth of
/// a 100k-series head's memory.
const INITIAL_CAPACITY: usize = 64;

/// Encoding state shared by the appender and the decoder: the previous
/// sample, the previous timestamp delta and the current XOR window.
#[derive(Debug, Clone, Copy)]
struct State {
    t: i64,
    /// Previous delta `t[i] - t[i-1]`, as `u64` modulo 2^64.
    delta: u64,
    /// Previous value's bits.
    v: u64,
    /// Leading zeros of the window, or [`NO_WINDOW`].
    lead: u8,
    /// Trailing zeros of the window.
    trail: u8,
}

impl State {
    const EMPTY: State = State {
        t: 0,
        delta: 0,
        v: 0,
        lead: NO_WINDOW,
        trail: 0,
    };
}

/// Appends samples to an XOR chunk.
///
/// [`XorAppender::bytes`] is a complete chunk at every moment. Timestamps must
/// be strictly increasing; any `i64` values are allowed (deltas are computed
/// modulo 2^64, which is exact for increasing timestamps). Values are stored
/// by bit pattern, so every NaN payload (including the staleness marker),
/// ±Inf and -0.0 round-trip exactly.
#[derive(Debug, Clone)]
pub struct XorAppender {
    w: BitWriter,
    count: u16,
    st: State,
}

impl Default for XorAppender {
    fn default() -> Self {
        Self::new()
    }
}

impl XorAppender {
    /// An empty chunk.
    pub fn new() -> Self {
        XorAppender {
            w: BitWriter::with_header(HEADER_LEN, INITIAL_CAPACITY),
            count: 0,
            st: State::EMPTY,
        }
    }

    /// Restores an appender from a chunk's bytes (as returned by
    /// [`XorAppender::bytes`]) so appending can continue after a restart.
    /// Appending to the result gives the same bytes as if all samples had
    /// been appended to one appender. Fails on corrupt or truncated bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ChunkError> {
        let mut it = XorIter::new(bytes);
        for _ in it.by_ref() {}
        if let Some(e) = it.error() {
            return Err(e.clone());
        }
        Ok(XorAppender {
            w: BitWriter::resume(bytes, it.r.pos()),
            count: it.total,
            st: it.st,
        })
    }

    /// Appends a sample. The caller guarantees `t` is greater than the
    /// previous timestamp and that the chunk is not full
    /// ([`MAX_SAMPLES`]); violating either is a bug that panics in debug
    /// builds and drops the sample in release builds, so the chunk stays
    /// valid.
    #[inline]
    pub fn append(&mut self, t: i64, v: f64) {
        let v = v.to_bits();
        if self.count >= 2 && self.count < u16::MAX && t > self.st.t {
            self.append_dod(t);
            self.append_value(v);
        } else if !self.append_slow(t, v) {
            return;
        }
        self.st.t = t;
        self.st.v = v;
        self.count += 1;
        self.write_count();
    }

    /// Number of samples in the chunk.
    #[inline]
    pub fn num_samples(&self) -> usize {
        usize::from(self.count)
    }

    /// Whether the chunk holds [`MAX_SAMPLES`] and takes no more.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.count == u16::MAX
    }

    /// Timestamp of the first sample.
    pub fn min_time(&self) -> Option<i64> {
        // The first timestamp is the varint right after the header.
        let mut r = BitReader::new(self.w.bytes(), HEADER_LEN * 8);
        (self.count > 0).then(|| read_varint(&mut r).map(unzigzag).ok())?
    }

    /// Timestamp of the last sample.
    #[inline]
    pub fn max_time(&self) -> Option<i64> {
        (self.count > 0).then_some(self.st.t)
    }

    /// The last sample appended, value bits exact.
    #[inline]
    pub fn last(&self) -> Option<Sample> {
        (self.count > 0).then(|| Sample {
            t: self.st.t,
            v: f64::from_bits(self.st.v),
        })
    }

    /// The encoded chunk so far: a complete chunk, decodable by [`XorIter`].
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        self.w.bytes()
    }

    /// The encoded chunk, consuming the appender.
    pub fn into_bytes(self) -> Vec<u8> {
        self.w.into_bytes()
    }

    #[inline]
    fn write_count(&mut self) {
        if let Some(h) = self.w.header_mut::<HEADER_LEN>() {
            *h = self.count.to_be_bytes();
        }
    }

    /// Everything [`XorAppender::append`]'s fast path does not take: the
    /// first two samples, and the caller bugs, which are dropped. Returns
    /// whether the sample was written.
    #[cold]
    fn append_slow(&mut self, t: i64, v: u64) -> bool {
        match self.count {
            0 => {
                write_varint(&mut self.w, zigzag(t));
                self.w.write(v, 64);
            }
            u16::MAX => {
                debug_assert!(false, "append to a full chunk ({MAX_SAMPLES} samples)");
                return false;
            }
            _ if t <= self.st.t => {
                debug_assert!(false, "append of t={t} after t={}", self.st.t);
                return false;
            }
            // Only the second sample is left: a later one with an increasing
            // `t` takes the fast path.
            _ => {
                debug_assert_eq!(self.count, 1);
                self.st.delta = t.wrapping_sub(self.st.t) as u64;
                write_varint(&mut self.w, self.st.delta);
                self.append_value(v);
            }
        }
        true
    }

    #[inline]
    fn append_dod(&mut self, t: i64) {
        let delta = t.wrapping_sub(self.st.t) as u64;
        let dod = delta.wrapping_sub(self.st.delta) as i64;
        self.st.delta = delta;
        if dod == 0 {
            self.w.write_bit(false);
            return;
        }
        for (i, &n) in DOD_BITS.iter().enumerate() {
            if fits_signed(dod, n) {
                let (code, len) = unary(i + 1, DOD_ESCAPE);
                let payload = (dod as u64) & ((1u64 << n) - 1);
                self.w.write((code << n) | payload, len + n);
                return;
            }
        }
        let (code, len) = unary(DOD_ESCAPE, DOD_ESCAPE);
        self.w.write(code, len);
        self.w.write(dod as u64, 64);
    }

    /// Writes value bits `v` after `self.st.v`, in whichever of the XOR and
    /// integer-delta forms is shorter.
    #[inline]
    fn append_value(&mut self, v: u64) {
        let x = v ^ self.st.v;
        if x == 0 {
            self.w.write_bit(false);
            return;
        }
        let lead = x.leading_zeros().min(MAX_LEADING);
        let trail = x.trailing_zeros();
        let sig = 64 - lead - trail;
        let (pl, pt) = (u32::from(self.st.lead), u32::from(self.st.trail));
        // `lead >= pl` is false without a window (pl == NO_WINDOW).
        let reuse = lead >= pl && trail >= pt && 64 - pl - pt <= sig + REUSE_SLACK;
        let xor_cost = if reuse {
            2 + (64 - pl - pt)
        } else {
            NEW_WINDOW_HEADER + sig
        };

        // Integer delta: exact when the decoder's `(prev as i64 + d) as f64`
        // gives back the same bits, whatever the previous value was.
        let vi = f64::from_bits(v) as i64;
        if (vi as f64).to_bits() == v {
            let d = vi.wrapping_sub(f64::from_bits(self.st.v) as i64);
            for (i, n) in INT_BITS.into_iter().enumerate() {
                let (sel, sel_len) = unary(i, INT_BITS.len() - 1);
                let len = 3 + sel_len + n;
                if len < xor_cost && fits_signed(d, n) {
                    let payload = (d as u64) & ((1u64 << n) - 1);
                    self.w
                        .write((((0b110 << sel_len) | sel) << n) | payload, len);
                    return;
                }
            }
        }

        if reuse {
            // `10` and the window's bits.
            let wsig = 64 - pl - pt;
            let bits = x >> pt;
            if wsig <= 55 {
                self.w.write((0b10 << wsig) | bits, wsig + 2);
            } else {
                self.w.write(0b10, 2);
                self.w.write(bits, wsig);
            }
        } else {
            // `111`, 5 bits leading zeros, 6 bits significant bit count (64
            // stored as 0), then the significant bits.
            let head = (0b111 << 11) | (u64::from(lead) << 6) | u64::from(sig & 63);
            self.w.write(head, NEW_WINDOW_HEADER);
            self.w.write(x >> trail, sig);
            self.st.lead = lead as u8;
            self.st.trail = trail as u8;
        }
    }
}

/// Iterates over the samples of an XOR chunk.
///
/// Never panics, whatever the bytes: on corrupt or truncated data it stops
/// and [`XorIter::error`] says why. The samples yielded before the error are
/// correct as far as the format can tell (timestamps are checked to increase).
#[derive(Debug, Clone)]
pub struct XorIter<'a> {
    r: BitReader<'a>,
    st: State,
    /// Sample count from the header.
    total: u16,
    /// Samples yielded so far.
    read: u16,
    done: bool,
    err: Option<ChunkError>,
}

impl<'a> XorIter<'a> {
    /// An iterator over the chunk in `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        let (total, err) = match bytes.first_chunk::<HEADER_LEN>() {
            Some(h) => (u16::from_be_bytes(*h), None),
            None => (0, Some(ChunkError::BadHeader { len: bytes.len() })),
        };
        XorIter {
            r: BitReader::new(bytes, HEADER_LEN * 8),
            st: State::EMPTY,
            total,
            read: 0,
            done: err.is_some(),
            err,
        }
    }

    /// The sample count the header announces.
    pub fn num_samples(&self) -> usize {
        usize::from(self.total)
    }

    /// After iteration stopped: the error if it stopped on corrupt or
    /// truncated data rather than at the end of the chunk.
    pub fn error(&self) -> Option<&ChunkError> {
        self.err.as_ref()
    }

    fn fail(&mut self, e: ChunkError) -> Option<Sample> {
        self.err = Some(e);
        self.done = true;
        None
    }

    fn truncated(&self) -> ChunkError {
        ChunkError::Truncated {
            sample: usize::from(self.read),
            samples: usize::from(self.total),
        }
    }

    fn corrupt(&self, what: &'static str) -> ChunkError {
        ChunkError::Corrupt {
            sample: usize::from(self.read),
            what,
        }
    }

    /// Checks that only zero padding follows the last sample.
    #[cold]
    fn finish(&mut self) -> Option<Sample> {
        self.done = true;
        let pos = self.r.pos();
        let data = self.r.data();
        let used = pos.div_ceil(8);
        if data.len() > used {
            return self.fail(ChunkError::TrailingData {
                extra: data.len() - used,
            });
        }
        let pad = (used * 8 - pos) as u32;
        // Read the padding with a copy: the position stays at the end of the
        // last sample, where `XorAppender::from_bytes` resumes writing.
        if pad > 0 && self.r.clone().read(pad) != Some(0) {
            return self.fail(self.corrupt("nonzero padding"));
        }
        None
    }

    /// Reads `n` bits; running out of data means the chunk is truncated.
    #[inline]
    fn bits(&mut self, n: u32) -> Result<u64, ChunkError> {
        self.r.read(n).ok_or_else(|| self.truncated())
    }

    #[inline]
    fn bit(&mut self) -> Result<bool, ChunkError> {
        self.r.read_bit().ok_or_else(|| self.truncated())
    }

    /// Reads a code written by [`unary`]: counts one-bits up to `max`,
    /// consuming the zero that ends a shorter code.
    #[inline]
    fn unary(&mut self, max: usize) -> Result<usize, ChunkError> {
        let mut ones = 0;
        while ones < max {
            match self.r.read_bit() {
                Some(true) => ones += 1,
                Some(false) => break,
                None => return Err(self.truncated()),
            }
        }
        Ok(ones)
    }

    fn read_timestamp(&mut self) -> Result<i64, ChunkError> {
        match self.read {
            0 => return self.read_varint().map(unzigzag),
            1 => self.st.delta = self.read_varint()?,
            _ => {
                let dod = match self.unary(DOD_ESCAPE)? {
                    0 => 0,
                    DOD_ESCAPE => self.bits(64)? as i64,
                    ones => {
                        let n = DOD_BITS[ones - 1];
                        sign_extend(self.bits(n)?, n)
                    }
                };
                self.st.delta = self.st.delta.wrapping_add(dod as u64);
            }
        }
        let t = self.st.t.wrapping_add(self.st.delta as i64);
        if t <= self.st.t {
            return Err(self.corrupt("timestamp not increasing"));
        }
        Ok(t)
    }

    fn read_varint(&mut self) -> Result<u64, ChunkError> {
        read_varint(&mut self.r).map_err(|e| match e {
            VarintError::Truncated => self.truncated(),
            VarintError::Overflow => self.corrupt("varint overflows 64 bits"),
        })
    }

    /// The value after a `110` code.
    fn read_int_delta(&mut self) -> Result<u64, ChunkError> {
        let n = INT_BITS[self.unary(INT_BITS.len() - 1)?];
        let d = sign_extend(self.bits(n)?, n);
        let prev = f64::from_bits(self.st.v) as i64;
        Ok((prev.wrapping_add(d) as f64).to_bits())
    }

    fn read_value(&mut self) -> Result<u64, ChunkError> {
        if self.read == 0 {
            return self.bits(64);
        }
        if !self.bit()? {
            // `0`: the same value.
            return Ok(self.st.v);
        }
        let (sig, trail) = if !self.bit()? {
            // `10`: XOR in the current window.
            if self.st.lead == NO_WINDOW {
                return Err(self.corrupt("XOR window reused before one was set"));
            }
            let (lead, trail) = (u32::from(self.st.lead), u32::from(self.st.trail));
            (64 - lead - trail, trail)
        } else if !self.bit()? {
            // `110`: integer delta.
            return self.read_int_delta();
        } else {
            // `111`: XOR in a new window.
            let head = self.bits(11)?;
            let lead = (head >> 6) as u32;
            let sig = match (head & 63) as u32 {
                0 => 64,
                s => s,
            };
            if lead + sig > 64 {
                return Err(self.corrupt("XOR window wider than 64 bits"));
            }
            let trail = 64 - lead - sig;
            self.st.lead = lead as u8;
            self.st.trail = trail as u8;
            (sig, trail)
        };
        // sig >= 1, so trail <= 63.
        Ok(self.st.v ^ (self.bits(sig)? << trail))
    }
}

impl Iterator for XorIter<'_> {
    type Item = Sample;

    #[inline]
    fn next(&mut self) -> Option<Sample> {
        if self.done {
            return None;
        }
        if self.read == self.total {
            return self.finish();
        }
        let t = match self.read_timestamp() {
            Ok(t) => t,
            Err(e) => return self.fail(e),
        };
        let v = match self.read_value() {
            Ok(v) => v,
            Err(e) => return self.fail(e),
        };
        self.st.t = t;
        self.st.v = v;
        self.read += 1;
        Some(Sample {
            t,
            v: f64::from_bits(v),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            (0, Some(0))
        } else {
            (0, Some(usize::from(self.total - self.read)))
        }
    }
}

/// Whether `x` fits in an `n`-bit two's-complement field (`1 <= n <= 63`).
#[inline]
fn fits_signed(x: i64, n: u32) -> bool {
    let lim = 1i64 << (n - 1);
    (-lim..lim).contains(&x)
}

/// The `n`-bit two's-complement `raw` as an `i64` (`1 <= n <= 63`).
#[inline]
fn sign_extend(raw: u64, n: u32) -> i64 {
    ((raw << (64 - n)) as i64) >> (64 - n)
}

#[inline]
fn zigzag(x: i64) -> u64 {
    ((x << 1) ^ (x >> 63)) as u64
}

#[inline]
fn unzigzag(x: u64) -> i64 {
    ((x >> 1) as i64) ^ -((x & 1) as i64)
}

/// Writes `x` as an unsigned LEB128 varint, 8 bits per group, into the bit
/// stream (not necessarily byte-aligned).
fn write_varint(w: &mut BitWriter, mut x: u64) {
    while x >= 0x80 {
        w.write((x & 0x7f) | 0x80, 8);
        x >>= 7;
    }
    w.write(x, 8);
}

enum VarintError {
    Truncated,
    Overflow,
}

/// Reads a varint written by [`write_varint`]; rejects more than 10 groups
/// and values over 64 bits.
fn read_varint(r: &mut BitReader<'_>) -> Result<u64, VarintError> {
    let mut x: u64 = 0;
    for i in 0..10 {
        let b = r.read(8).ok_or(VarintError::Truncated)?;
        if i == 9 && b > 1 {
            break;
        }
        x |= (b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Ok(x);
        }
    }
    Err(VarintError::Overflow)
}
