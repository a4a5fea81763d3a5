//! Atomic checkpoint files.
//!
//! `checkpoint.N` holds records in segment framing and stands for everything
//! in segments `< N`. It is written as `checkpoint.N.tmp`, fsynced, renamed
//! into place and the directory fsynced, so a crash leaves either the old
//! state or the complete new checkpoint (plus, at worst, a `.tmp` file that
//! the next open deletes).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::WalError;
use super::record::{check_payload, frame_len, push_frame};
use super::segment::{checkpoint_name, checkpoint_tmp_name, io_err, remove, sync_dir};

/// Frames are batched into writes of about this many bytes.
const WRITE_BATCH: usize = 1 << 20;

/// Writes `checkpoint.<seg>` in `dir` from `records`, atomically. Returns its
/// path and size. `buf` is scratch space, reused across calls.
pub(crate) fn write<'a>(
    dir: &Path,
    seg: u64,
    records: impl IntoIterator<Item = &'a [u8]>,
    buf: &mut Vec<u8>,
) -> Result<(PathBuf, u64), WalError> {
    let tmp = dir.join(checkpoint_tmp_name(seg));
    let path = dir.join(checkpoint_name(seg));
    let result = write_tmp(&tmp, records, buf);
    let size = match result {
        Ok(size) => size,
        Err(e) => {
            // Best effort: open() deletes leftovers anyway.
            let _ = remove(&tmp);
            return Err(e);
        }
    };
    fs::rename(&tmp, &path).map_err(io_err(&path))?;
    sync_dir(dir)?;
    Ok((path, size))
}

fn write_tmp<'a>(
    tmp: &Path,
    records: impl IntoIterator<Item = &'a [u8]>,
    buf: &mut Vec<u8>,
) -> Result<u64, WalError> {
    let mut file: File = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(tmp)
        .map_err(io_err(tmp))?;
    let mut size = 0u64;
    buf.clear();
    for record in records {
        check_payload(record)?;
        push_frame(buf, record);
        size += frame_len(record);
        if buf.len() >= WRITE_BATCH {
            file.write_all(buf).map_err(io_err(tmp))?;
            buf.clear();
        }
    }
    // The rest of the batch (an empty one makes no syscall).
    file.write_all(buf).map_err(io_err(tmp))?;
    buf.clear();
    file.sync_all().map_err(io_err(tmp))?;
    Ok(size)
}
