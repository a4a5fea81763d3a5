//! Reserving disk space before writing, so a full disk refuses an append
//! before any byte of it reaches the segment.
//!
//! Without a reservation, `write` on a nearly full disk writes what fits and
//! then fails: the segment ends in a partial batch, which is cut off again
//! ([`super::Wal`] rolls back), but a [`super::watch::WalTail`] may have read
//! the complete frames of it meanwhile. With `fallocate(FALLOC_FL_KEEP_SIZE)`
//! the blocks are allocated past the end of the file without changing its
//! size (replay never sees them), and the write that follows cannot run out
//! of space. File systems that cannot reserve (`EOPNOTSUPP`) are written to
//! as before.

use std::fs::File;
use std::io;

/// Bytes reserved past the end of the data at a time: one `fallocate` per
/// this much appended, at most this much unused in a closed segment.
pub(crate) const STEP: u64 = 1 << 20;

/// Allocates `len` bytes at `offset` without changing the file's size.
/// `Ok(false)` when the file system cannot (nothing was done then).
#[cfg(target_os = "linux")]
pub(crate) fn reserve(file: &File, offset: u64, len: u64) -> io::Result<bool> {
    use rustix::fs::{FallocateFlags, fallocate};
    use rustix::io::Errno;
    match fallocate(file, FallocateFlags::KEEP_SIZE, offset, len) {
        Ok(()) => Ok(true),
        Err(e) if e == Errno::OPNOTSUPP || e == Errno::NOSYS => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// No reservation off Linux: writes fail where they fail, and are rolled
/// back.
#[cfg(not(target_os = "linux"))]
pub(crate) fn reserve(file: &File, offset: u64, len: u64) -> io::Result<bool> {
    let _ = (file, offset, len);
    Ok(false)
}
