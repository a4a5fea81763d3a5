//! Why a config file was refused: the file, the line and column, the key,
//! and what was wrong or expected. TOML syntax and type errors come from
//! the `toml` crate (its byte span turned into line:column, the key path
//! from `serde_path_to_error`); semantic errors use Prometheus' texts
//! where Prometheus has one.

use std::fmt;
use std::ops::Range;

/// A config that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The file was read but is not a valid config.
    #[error("{0}")]
    Invalid(Invalid),
}

/// Where and why a config is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The file name as given to the loader.
    pub file: String,
    /// 1-based line and column of the offending text; 0 when unknown.
    pub line: usize,
    pub column: usize,
    /// The key path, such as `scrape[1].relabel_configs[0].action`; empty
    /// for the whole file.
    pub key: String,
    /// The scrape or exporter job the key belongs to, if any.
    pub job: Option<String>,
    /// What was wrong, or expected.
    pub message: String,
}

/// `file:line:column: key (job "name"): message`, leaving out the parts
/// that are unknown.
impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        f.write_str(": ")?;
        if !self.key.is_empty() {
            f.write_str(&self.key)?;
            if let Some(job) = &self.job {
                write!(f, " (job {job:?})")?;
            }
            f.write_str(": ")?;
        }
        f.write_str(&self.message)
    }
}

/// Turns byte spans of one source text into errors.
pub(crate) struct Locator<'a> {
    pub(crate) src: &'a str,
    pub(crate) file: &'a str,
    /// Job names by section and index, to name the job in errors.
    pub(crate) jobs: Vec<(&'static str, usize, String)>,
}

impl Locator<'_> {
    /// 1-based line and column (in characters) of a byte offset.
    pub(crate) fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.src.len());
        let before = self.src.get(..offset).unwrap_or(self.src);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }

    pub(crate) fn error(
        &self,
        span: Option<Range<usize>>,
        key: impl Into<String>,
        message: impl fmt::Display,
    ) -> ConfigError {
        let (line, column) = span.map_or((0, 0), |s| self.line_column(s.start));
        let key = key.into();
        let message = message.to_string().replace('\n', "; ");
        let job = self
            .job_of(&key)
            .filter(|job| !message.contains(&format!("job name {job:?}")));
        ConfigError::Invalid(Invalid {
            file: self.file.to_owned(),
            line,
            column,
            key,
            job,
            message,
        })
    }

    /// A [`Location`](crate::Location) for later errors about `key`.
    pub(crate) fn location(&self, span: Option<Range<usize>>, key: String) -> crate::Location {
        let (line, column) = span.map_or((0, 0), |s| self.line_column(s.start));
        crate::Location {
            file: self.file.to_owned(),
            line,
            column,
            job: self.job_of(&key),
            key,
        }
    }

    /// The job named by a key inside `scrape[i]` or `exporter[i]`.
    fn job_of(&self, key: &str) -> Option<String> {
        let (section, rest) = key.split_once('[')?;
        let index: usize = rest.split_once(']')?.0.parse().ok()?;
        self.jobs
            .iter()
            .find(|(s, i, _)| *s == section && *i == index)
            .map(|(_, _, name)| name.clone())
            .filter(|name| !name.is_empty())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let l = Locator {
            src: "a = 1\nbé = 2\n",
            file: "f.toml",
            jobs: vec![],
        };
        assert_eq!(l.line_column(0), (1, 1));
        assert_eq!(l.line_column(6), (2, 1));
        assert_eq!(l.line_column(9), (2, 3));
        assert_eq!(l.line_column(100), (3, 1));
    }

    #[test]
    fn display_leaves_out_unknown_parts() {
        let l = Locator {
            src: "x",
            file: "f.toml",
            jobs: vec![("scrape", 1, "node".into())],
        };
        let e = l.error(Some(0..1), "scrape[1].targets[0]", "bad");
        assert_eq!(
            e.to_string(),
            r#"f.toml:1:1: scrape[1].targets[0] (job "node"): bad"#
        );
        let e = l.error(None, "", "bad");
        assert_eq!(e.to_string(), "f.toml: bad");
        let e = l.error(None, "scrape[1]", r#"x for job name "node""#);
        assert_eq!(e.to_string(), r#"f.toml: scrape[1]: x for job name "node""#);
    }
}
