//! The WAL part of the check: checkpoint and segments, frame by frame and
//! record by record, read-only.

use std::fs::File;
use std::path::Path;

use super::{CheckReport, Part};
use crate::Error;
use crate::chunkenc::chunk_info;
use crate::record::{self, Record};
use crate::wal::reader::{FrameReader, ReadError};
use crate::wal::record::Corruption;
use crate::wal::segment::{self, checkpoint_name, io_err, segment_name};

/// Checks the WAL in `dir`; returns whether it has a checkpoint.
pub(super) fn check(dir: &Path, report: &mut CheckReport) -> Result<bool, Error> {
    if !dir.is_dir() {
        report.checked.push("wal: no wal/ directory".into());
        return Ok(false);
    }
    let listing = segment::list(dir)?;
    let mut records = 0u64;
    let mut notes = Vec::new();
    let checkpoint = listing.checkpoints.last().copied();
    if let Some((n, size)) = checkpoint {
        let path = dir.join(checkpoint_name(n));
        let (count, damage) = read(&path, size, Part::Checkpoint, report)?;
        records += count;
        if let Some((offset, what)) = damage {
            report.found(
                Part::Checkpoint,
                format!("{} at offset {offset}", path.display()),
                format!("{what}; Pharos does not start on it (what it holds exists nowhere else)"),
            );
        }
        notes.push(format!("checkpoint {}", checkpoint_name(n)));
    }
    let older = listing.checkpoints.len().saturating_sub(1);
    if older > 0 {
        notes.push(format!(
            "{older} older checkpoint(s) left over (start removes them)"
        ));
    }
    if !listing.tmps.is_empty() {
        notes.push(format!(
            "{} unfinished checkpoint(s) left over (start removes them)",
            listing.tmps.len()
        ));
    }
    let first = checkpoint.map_or(0, |(n, _)| n);
    let covered = listing.segments.partition_point(|&(n, _)| n < first);
    if covered > 0 {
        notes.push(format!(
            "{covered} segment(s) before the checkpoint kept for remote write or left over (not replayed)"
        ));
    }
    let live = &listing.segments[covered..];
    let mut expected = checkpoint.map(|(n, _)| n);
    for (i, &(n, size)) in live.iter().enumerate() {
        if let Some(want) = expected.filter(|&want| want != n) {
            report.found(
                Part::WalSegment,
                format!("{}..={}", segment_name(want), segment_name(n - 1)),
                "missing (removed by hand?); start replays across the gap, without their records",
            );
        }
        expected = Some(n + 1);
        let path = dir.join(segment_name(n));
        let (count, damage) = read(&path, size, Part::WalSegment, report)?;
        records += count;
        if let Some((offset, what)) = damage {
            let later = &live[i + 1..];
            let dropped = size.saturating_sub(offset) + later.iter().map(|&(_, s)| s).sum::<u64>();
            report.found(
                Part::WalSegment,
                format!("{} at offset {offset}", path.display()),
                format!(
                    "{what}; start keeps the records before it and drops {dropped} bytes ({} later segment(s))",
                    later.len()
                ),
            );
            break;
        }
    }
    notes.push(format!("{} segment(s), {records} record(s)", live.len()));
    report.checked.push(format!("wal: {}", notes.join(", ")));
    Ok(checkpoint.is_some())
}

/// Reads one WAL file: decodes every record (reporting those that do not
/// decode) and returns how many it read and where the framing is damaged.
fn read(
    path: &Path,
    size: u64,
    part: Part,
    report: &mut CheckReport,
) -> Result<(u64, Option<(u64, Corruption)>), Error> {
    let file = File::open(path).map_err(io_err(path))?;
    let mut reader = FrameReader::new(file, size);
    let mut count = 0;
    loop {
        match reader.next_record() {
            Ok(None) => return Ok((count, None)),
            Ok(Some((offset, payload))) => {
                count += 1;
                if let Err(what) = check_record(payload) {
                    report.found(
                        part,
                        format!("{} at offset {offset}", path.display()),
                        format!("record does not decode: {what}; Pharos does not start on it"),
                    );
                }
            }
            Err(ReadError::Io(e)) => return Err(io_err(path)(e).into()),
            Err(ReadError::Corrupt { offset, what }) => return Ok((count, Some((offset, what)))),
        }
    }
}

fn check_record(payload: &[u8]) -> Result<(), String> {
    match record::decode(payload).map_err(|e| e.to_string())? {
        Record::Chunk { bytes, .. } => chunk_info(&bytes)
            .map(drop)
            .map_err(|e| format!("chunk: {e}")),
        _ => Ok(()),
    }
}
