//! What the benchmark measures about a process and its data directory:
//! CPU time and memory from `/proc/<pid>`, and the size of a directory tree.

use anyhow::{Context, Result, bail};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

/// Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`,
/// 100 on Linux if that cannot be asked).
pub fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|t| *t > 0)
        .unwrap_or(100)
}

/// User plus system CPU time of `pid`, in clock ticks (`utime + stime`,
/// fields 14 and 15 of `/proc/<pid>/stat`).
pub fn cpu_ticks(pid: u32) -> Result<u64> {
    // `utime` (14) and `stime` (15), read at once.
    let [utime, stime] = stat_fields(pid, [11, 12])?;
    Ok(utime + stime)
}

/// Fields `i + 3` of `/proc/<pid>/stat` (index 0 is field 3, the state).
fn stat_fields<const N: usize>(pid: u32, indexes: [usize; N]) -> Result<[u64; N]> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    // The command name (field 2) may contain spaces; fields after it are plain.
    let rest = stat
        .rfind(')')
        .map(|i| &stat[i + 1..])
        .with_context(|| format!("malformed {path}"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let mut out = [0; N];
    for (o, i) in out.iter_mut().zip(indexes) {
        *o = fields
            .get(i)
            .with_context(|| format!("short {path}"))?
            .parse()
            .with_context(|| format!("field {} of {path}", i + 3))?;
    }
    Ok(out)
}

/// When `pid` started, in clock ticks after boot (field 22 of
/// `/proc/<pid>/stat`): a process that restarts under the same pid has
/// another.
pub fn start_time(pid: u32) -> Result<u64> {
    Ok(stat_fields(pid, [19])?[0])
}

/// User plus system CPU time of the calling process, in clock ticks.
pub fn own_cpu_ticks() -> Result<u64> {
    cpu_ticks(std::process::id())
}

/// Memory figures of `/proc/<pid>/status`, in bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Memory {
    /// `VmRSS`: resident set size now.
    pub rss: u64,
    /// `VmHWM`: peak resident set size since the process started.
    pub hwm: u64,
}

pub fn memory(pid: u32) -> Result<Memory> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let kib = |key: &str| -> Result<u64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(key))
            .with_context(|| format!("{key} missing in {path}"))?;
        let n: u64 = line[key.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .with_context(|| format!("parsing {line:?}"))?;
        Ok(n * 1024)
    };
    Ok(Memory {
        rss: kib("VmRSS:")?,
        hwm: kib("VmHWM:")?,
    })
}

/// Size of a directory tree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirSize {
    /// Sum of file lengths (`du --apparent-size -b`).
    pub apparent: u64,
    /// Sum of allocated blocks (`du -B1`): sparse files count less,
    /// preallocated space more.
    pub allocated: u64,
    pub files: u64,
}

impl std::ops::AddAssign for DirSize {
    fn add_assign(&mut self, o: Self) {
        self.apparent += o.apparent;
        self.allocated += o.allocated;
        self.files += o.files;
    }
}

/// Recursive size of `path` (symlinks are not followed).
pub fn dir_size(path: &Path) -> Result<DirSize> {
    let meta = std::fs::symlink_metadata(path).with_context(|| format!("stat {path:?}"))?;
    let mut size = DirSize::default();
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).with_context(|| format!("listing {path:?}"))? {
            size += dir_size(&entry.with_context(|| format!("listing {path:?}"))?.path())?;
        }
    } else if meta.is_file() {
        size.apparent = meta.len();
        size.allocated = meta.blocks() * 512;
        size.files = 1;
    } else if !meta.is_symlink() {
        bail!("{path:?} is neither a file nor a directory");
    }
    Ok(size)
}

/// Size of each top-level entry of `dir`, largest first.
pub fn dir_breakdown(dir: &Path) -> Result<Vec<(String, DirSize)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {dir:?}"))? {
        let entry = entry.with_context(|| format!("listing {dir:?}"))?;
        out.push((
            entry.file_name().to_string_lossy().into_owned(),
            dir_size(&entry.path())?,
        ));
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.1.apparent));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_process() -> Result<()> {
        let pid = std::process::id();
        let _ = cpu_ticks(pid)?;
        assert!(start_time(pid)? > 0);
        assert_eq!(start_time(pid)?, start_time(pid)?);
        let m = memory(pid)?;
        assert!(m.rss > 0 && m.hwm >= m.rss);
        Ok(())
    }

    #[test]
    fn sizes_a_tree() -> Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir(dir.path().join("a"))?;
        std::fs::write(dir.path().join("a/x"), [1u8; 1000])?;
        std::fs::write(dir.path().join("y"), [1u8; 24])?;
        let s = dir_size(dir.path())?;
        assert_eq!((s.apparent, s.files), (1024, 2));
        assert!(s.allocated >= 1024);
        assert_eq!(dir_breakdown(dir.path())?[0].0, "a");
        Ok(())
    }
}
