//! The sled part of the check: the format marker, the series blocks, and
//! every chunk, time index entry and span.

use std::path::Path;

use rustc_hash::FxHashSet as HashSet;

use super::{CheckReport, Part};
use crate::Error;
use crate::chunkenc::chunk_info;
use crate::store::{
    CHUNK, FORMAT_KEY, FORMAT_VERSION, SPAN, Span, Store, TIME, be_u64, key_time, open_sled,
};

/// Checks sled in `dir`. `needed`: whether the WAL says data went to sled
/// (a missing sled is damage then).
pub(super) fn check(dir: &Path, needed: bool, report: &mut CheckReport) -> Result<(), Error> {
    if !dir.is_dir() {
        if needed {
            report.found(
                Part::Sled,
                dir.display().to_string(),
                "missing, but the WAL has a checkpoint: the data moved to sled is gone",
            );
        }
        report.checked.push("sled: no sled/ directory".into());
        return Ok(());
    }
    let opened = std::panic::catch_unwind(|| open_sled(dir, 8 << 20));
    let db = match opened {
        Ok(Ok(db)) => db,
        Ok(Err(e)) if e.to_string().contains("could not acquire lock") => {
            return Err(Error::Sled(e));
        }
        Ok(Err(e)) => {
            report.found(
                Part::Sled,
                dir.display().to_string(),
                format!("cannot be opened: {e}"),
            );
            return Ok(());
        }
        Err(_) => {
            report.found(
                Part::Sled,
                dir.display().to_string(),
                "sled panicked opening it",
            );
            return Ok(());
        }
    };
    let place = |what: &str| format!("{} {what}", dir.display());
    match db.get(FORMAT_KEY) {
        Ok(Some(v)) if v.as_ref() == FORMAT_VERSION => {}
        Ok(v) => report.found(
            Part::Sled,
            place("format marker"),
            format!(
                "is {:?}, not {:?}",
                v.map(|v| String::from_utf8_lossy(&v).into_owned()),
                String::from_utf8_lossy(FORMAT_VERSION)
            ),
        ),
        Err(e) => report.found(
            Part::Sled,
            place("format marker"),
            format!("unreadable: {e}"),
        ),
    }
    let ids = series(&db, dir, report)?;
    let chunks = chunks(&db, dir, &ids, report)?;
    report
        .checked
        .push(format!("sled: {} series, {chunks} chunk(s)", ids.len()));
    Ok(())
}

/// Checks the `series` tree; returns the ids of the series it holds.
fn series(db: &sled::Db, dir: &Path, report: &mut CheckReport) -> Result<HashSet<u64>, Error> {
    let mut ids = HashSet::default();
    let tree = match db.open_tree("series") {
        Ok(t) => t,
        Err(e) => {
            report.found(
                Part::Sled,
                format!("{} tree series", dir.display()),
                e.to_string(),
            );
            return Ok(ids);
        }
    };
    for kv in tree.iter() {
        let (k, v) = match kv {
            Ok(kv) => kv,
            Err(e) => {
                report.found(
                    Part::Sled,
                    format!("{} tree series", dir.display()),
                    format!("unreadable: {e}"),
                );
                break;
            }
        };
        if k.len() != 8 {
            report.found(
                Part::Sled,
                format!("{} series key {k:?}", dir.display()),
                "not a block number",
            );
            continue;
        }
        let block = be_u64(&k);
        match Store::block_entries(&v) {
            Ok(entries) => ids.extend(entries.into_iter().map(|(id, _)| id)),
            Err(e) => report.found(
                Part::Sled,
                format!("{} series block {block}", dir.display()),
                format!("does not decode ({e}): the labels of up to 1024 series are lost"),
            ),
        }
    }
    Ok(ids)
}

/// Checks the `chunks` tree; returns how many chunks it holds.
fn chunks(
    db: &sled::Db,
    dir: &Path,
    ids: &HashSet<u64>,
    report: &mut CheckReport,
) -> Result<u64, Error> {
    let tree = match db.open_tree("chunks") {
        Ok(t) => t,
        Err(e) => {
            report.found(
                Part::Sled,
                format!("{} tree chunks", dir.display()),
                e.to_string(),
            );
            return Ok(0);
        }
    };
    let mut count = 0;
    for kv in tree.iter() {
        let (k, v) = match kv {
            Ok(kv) => kv,
            Err(e) => {
                report.found(
                    Part::Sled,
                    format!("{} tree chunks", dir.display()),
                    format!("unreadable: {e}"),
                );
                break;
            }
        };
        let at = |what: String| format!("{} {what}", dir.display());
        match k.first().copied() {
            Some(CHUNK) => {
                count += 1;
                if let Some((place, what)) = check_chunk(&tree, &k, &v, ids) {
                    report.found(Part::Sled, at(place), what);
                }
            }
            Some(TIME) => {
                if k.len() != 17 && k.len() != 25 {
                    report.found(
                        Part::Sled,
                        at(format!("time index key {k:?}")),
                        "wrong length",
                    );
                    continue;
                }
                let mut ck = vec![CHUNK];
                ck.extend_from_slice(&k[9..]);
                if !tree.contains_key(&ck).unwrap_or(true) {
                    report.found(
                        Part::Sled,
                        at(format!("time index of series {}", be_u64(&k[9..17]))),
                        "names a chunk that does not exist",
                    );
                }
            }
            Some(SPAN) => {
                if k.len() != 9 || Span::decode(&v).is_none() {
                    report.found(Part::Sled, at(format!("span key {k:?}")), "does not decode");
                }
            }
            _ => report.found(
                Part::Sled,
                at(format!("chunks key {k:?}")),
                "unknown kind of entry",
            ),
        }
    }
    Ok(count)
}

/// One chunk entry: where and what is wrong, if anything.
fn check_chunk(
    tree: &sled::Tree,
    k: &[u8],
    v: &[u8],
    ids: &HashSet<u64>,
) -> Option<(String, String)> {
    if k.len() != 17 && k.len() != 25 {
        return Some((format!("chunk key {k:?}"), "wrong length".into()));
    }
    let id = be_u64(&k[1..9]);
    let mint = key_time(&k[9..17]);
    let place = format!("chunk of series {id} from {mint}");
    if v.len() < 8 {
        return Some((place, "value too short".into()));
    }
    let maxt = key_time(&v[..8]);
    let what = match chunk_info(&v[8..]) {
        Err(e) => format!("does not decode: {e}"),
        Ok((_, a, b)) if a != mint || b != maxt => {
            format!("holds {a}..{b}, its key and value say {mint}..{maxt}")
        }
        Ok(_) if !ids.contains(&id) => "belongs to no series (its series record is missing)".into(),
        Ok(_) => {
            let mut tk = vec![TIME];
            tk.extend_from_slice(&v[..8]);
            tk.extend_from_slice(&k[1..]);
            if tree.contains_key(&tk).unwrap_or(true) {
                return None;
            }
            "missing from the time index (retention would never delete it)".into()
        }
    };
    Some((place, what))
}
