//! Record framing: `[len: u32 LE][crc32c(payload): u32 LE][payload]`.
//!
//! The same framing is used in segments and in checkpoints. A frame is valid
//! when `0 < len <= MAX_RECORD_LEN`, all `len` payload bytes are present and
//! their CRC-32C (Castagnoli) equals the stored checksum. See
//! `docs/format/wal.md`.

use std::fmt;

use super::WalError;

/// Bytes of the frame header: length then checksum.
pub const HEADER_LEN: usize = 8;

/// Largest payload a record may carry (64 MiB). A length field above this is
/// treated as corruption on replay, and `append` refuses longer records.
pub const MAX_RECORD_LEN: usize = 64 << 20;

/// Checks that `payload` may be framed: not empty, not longer than
/// [`MAX_RECORD_LEN`].
pub(crate) fn check_payload(payload: &[u8]) -> Result<(), WalError> {
    if payload.is_empty() {
        return Err(WalError::EmptyRecord);
    }
    if payload.len() > MAX_RECORD_LEN {
        return Err(WalError::RecordTooLarge {
            len: payload.len(),
            max: MAX_RECORD_LEN,
        });
    }
    Ok(())
}

/// Length of the frame holding `payload`.
pub(crate) fn frame_len(payload: &[u8]) -> u64 {
    (HEADER_LEN + payload.len()) as u64
}

/// The header for `payload`, which must have passed [`check_payload`].
pub(crate) fn header(payload: &[u8]) -> [u8; HEADER_LEN] {
    // `check_payload` bounds the length by MAX_RECORD_LEN < u32::MAX.
    let len = payload.len() as u32;
    let crc = crc32c::crc32c(payload);
    let mut h = [0u8; HEADER_LEN];
    h[..4].copy_from_slice(&len.to_le_bytes());
    h[4..].copy_from_slice(&crc.to_le_bytes());
    h
}

/// Appends the frame of `payload` (checked by [`check_payload`]) to `buf`.
pub(crate) fn push_frame(buf: &mut Vec<u8>, payload: &[u8]) {
    buf.extend_from_slice(&header(payload));
    buf.extend_from_slice(payload);
}

/// Splits a header into `(len, crc)`, rejecting a length that
/// [`check_payload`] would not have let through.
pub(crate) fn parse_header(h: &[u8; HEADER_LEN]) -> Result<(u32, u32), Corruption> {
    let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
    let crc = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
    if len == 0 {
        return Err(Corruption::ZeroLength);
    }
    if len as usize > MAX_RECORD_LEN {
        return Err(Corruption::LengthTooLarge { len });
    }
    Ok((len, crc))
}

/// Why a frame is not valid. `available` counts bytes present after the
/// point in question (header start for `TornHeader`, payload start for
/// `Truncated`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Corruption {
    /// Fewer than [`HEADER_LEN`] bytes remain at the end of the file.
    TornHeader { available: u64 },
    /// The length field is zero (typically a zeroed page).
    ZeroLength,
    /// The length field exceeds [`MAX_RECORD_LEN`].
    LengthTooLarge { len: u32 },
    /// The file ends before the payload does.
    Truncated { len: u32, available: u64 },
    /// The payload's CRC-32C differs from the stored one.
    Checksum { stored: u32, computed: u32 },
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Corruption::TornHeader { available } => write!(
                f,
                "torn record header: {available} of {HEADER_LEN} bytes at end of file"
            ),
            Corruption::ZeroLength => write!(f, "zero record length (zeroed page?)"),
            Corruption::LengthTooLarge { len } => {
                write!(f, "record length {len} exceeds maximum {MAX_RECORD_LEN}")
            }
            Corruption::Truncated { len, available } => write!(
                f,
                "truncated record: length {len} but only {available} bytes left in file"
            ),
            Corruption::Checksum { stored, computed } => write!(
                f,
                "checksum mismatch: stored {stored:#010x}, computed {computed:#010x}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_layout() {
        // The CRC-32C check value, as quoted in docs/format/wal.md.
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
        let mut buf = Vec::new();
        push_frame(&mut buf, b"123456789");
        assert_eq!(&buf[..8], &[9, 0, 0, 0, 0x83, 0x92, 0x06, 0xE3]);
        assert_eq!(&buf[8..], b"123456789");
        assert_eq!(parse_header(&header(b"123456789")), Ok((9, 0xE306_9283)));
        assert_eq!(parse_header(&[0; 8]), Err(Corruption::ZeroLength));
        assert_eq!(frame_len(b"123456789"), 17);
    }
}
