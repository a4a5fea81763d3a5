//! File name patterns as Prometheus' file SD accepts them: a path ending
//! in `.json`, `.yml` or `.yaml` whose last element may contain `*` (any
//! run of characters) and `?` (one character); the directories before it
//! are literal.

use pharos_sdk::fs::FsError;
use std::path::{Path, PathBuf};

/// Checks a configured pattern.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    let path = Path::new(pattern);
    if !path.is_absolute() {
        return Err(format!(
            "`files` entry {pattern:?} must be an absolute path"
        ));
    }
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Err(format!("`files` entry {pattern:?} has no file name"));
    };
    if !(name.ends_with(".json") || name.ends_with(".yml") || name.ends_with(".yaml")) {
        return Err(format!(
            "`files` entry {pattern:?} must end in .json, .yml or .yaml"
        ));
    }
    let dir = path.parent().and_then(|p| p.to_str()).unwrap_or("");
    if dir.contains(['*', '?', '[']) {
        return Err(format!(
            "`files` entry {pattern:?}: only the last path element may hold wildcards"
        ));
    }
    Ok(())
}

/// Whether `name` matches `pattern` (`*` and `?` wildcards).
pub fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative wildcard matching with backtracking to the last `*`.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The existing files a pattern names, sorted. A literal path is returned
/// as is (reading it later tells whether it exists).
pub fn expand(pattern: &Path) -> Result<Vec<PathBuf>, FsError> {
    let Some(name) = pattern.file_name().and_then(|n| n.to_str()) else {
        return Ok(Vec::new());
    };
    if !name.contains(['*', '?']) {
        return Ok(vec![pattern.to_path_buf()]);
    }
    let dir = pattern.parent().unwrap_or(Path::new("/"));
    let entries = match pharos_sdk::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.is_not_found() => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(entries
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| matches(name, n))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        let cases = [
            ("*.json", "a.json", true),
            ("*.json", ".json", true),
            ("*.json", "a.yml", false),
            ("tg_*.json", "tg_web.json", true),
            ("tg_*.json", "web.json", false),
            ("t?.yml", "t1.yml", true),
            ("t?.yml", "t12.yml", false),
            ("*a*b*.yaml", "xaxxbx.yaml", true),
            ("*a*b*.yaml", "xbxxax.yaml", false),
            ("exact.json", "exact.json", true),
        ];
        for (p, n, want) in cases {
            assert_eq!(matches(p, n), want, "{p} vs {n}");
        }
    }

    #[test]
    fn patterns() {
        assert!(check_pattern("/etc/targets/*.json").is_ok());
        assert!(check_pattern("/etc/targets/a.yaml").is_ok());
        for (bad, why) in [
            ("targets/*.json", "absolute"),
            ("/etc/targets/a.txt", ".json"),
            ("/etc/*/a.json", "last path element"),
        ] {
            let e = check_pattern(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
