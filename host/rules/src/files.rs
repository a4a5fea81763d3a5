//! The rule files a config lists: paths and glob patterns (`*`, `?`,
//! `[…]`, `**`), relative ones taken from the config file's directory,
//! each loaded and checked whole — one bad file refuses them all, so a
//! reload never runs half a rule set.

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::rulefmt::{self, RuleFile};

/// Why the rule files could not be loaded.
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("invalid rule file pattern {pattern:?}: {message}")]
    Pattern { pattern: String, message: String },
    /// Every problem of every bad file, one per line, as promtool lists them.
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
}

/// The files `patterns` name, sorted within each pattern, each once.
pub fn resolve(patterns: &[String], base: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let mut out: Vec<PathBuf> = Vec::new();
    for p in patterns {
        for f in resolve_pattern(p, base)? {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    Ok(out)
}

/// The files one pattern (relative to `base`) names, sorted.
pub fn resolve_pattern(pattern: &str, base: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let full = base.join(pattern);
    let paths = glob::glob(&full.to_string_lossy()).map_err(|e| LoadError::Pattern {
        pattern: pattern.to_owned(),
        message: e.to_string(),
    })?;
    let mut found: Vec<PathBuf> = paths.filter_map(Result::ok).collect();
    found.sort();
    Ok(found)
}

/// Resolves and loads every rule file.
pub fn load(patterns: &[String], base: &Path) -> Result<Vec<RuleFile>, LoadError> {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for path in resolve(patterns, base)? {
        match rulefmt::load_file(&path) {
            Ok(f) => files.push(f),
            Err(errs) => problems.extend(errs.iter().map(ToString::to_string)),
        }
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(LoadError::Invalid(problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_relative_to_the_base_and_each_file_once() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let sub = dir.path().join("rules/team");
        std::fs::create_dir_all(&sub).unwrap_or_else(|e| panic!("{e}"));
        let rule = "groups:\n- name: g\n  rules:\n  - record: a:b\n    expr: vector(1)\n";
        for f in ["rules/a.yml", "rules/team/b.yml", "rules/c.txt"] {
            std::fs::write(dir.path().join(f), rule).unwrap_or_else(|e| panic!("{e}"));
        }
        let pats = vec!["rules/*.yml".to_owned(), "rules/**/*.yml".to_owned()];
        let files = resolve(&pats, dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<_> = files
            .iter()
            .map(|p| {
                p.strip_prefix(dir.path())
                    .unwrap_or(p)
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(names, ["rules/a.yml", "rules/team/b.yml"]);
        assert_eq!(load(&pats, dir.path()).map(|f| f.len()).ok(), Some(2));

        std::fs::write(
            dir.path().join("rules/bad.yml"),
            "groups:\n- name: g\n  rules:\n  - record: a:b\n    expr: sum(\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let err = load(&pats, dir.path())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("bad.yml: 5:11:"), "{err}");
        assert!(err.contains("could not parse expression"), "{err}");
    }
}
