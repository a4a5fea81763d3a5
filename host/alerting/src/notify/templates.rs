//! [`Templates`]: the template set notifications are rendered with —
//! Alertmanager's functions, Pharos' default templates and the operator's
//! template files — parsed once per configuration load.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use pharos_template::{Error, MissingKey, Template, Value};

use crate::config::{AlertingConfig, ConfigError};
use crate::located::Located;

/// Pharos' default notification templates (`templates/default.tmpl`):
/// every name Alertmanager 0.25 defines (`__subject`,
/// `slack.default.title`, `email.default.html`, …), rendering the same
/// text as Alertmanager's.
pub const DEFAULT_TEMPLATES: &str = include_str!("../../templates/default.tmpl");

/// The name the default templates' file is parsed under (what a parse or
/// execution error in it names).
const DEFAULT_NAME: &str = "default.tmpl";

/// Distinct configuration strings whose parse is kept. A configuration has
/// far fewer; past the bound a string is parsed at each render.
const CACHE_LIMIT: usize = 1024;

/// A template file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TemplateFileError {
    /// The file cannot be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file does not parse: `path:line: template: NAME:LINE: …` (Go's
    /// message, which names the file's base name as Go does).
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The line of the error, when the message has one.
        line: Option<usize>,
        /// The parser's message.
        message: String,
    },
}

struct Inner {
    /// Functions, default templates and the operator's files.
    base: Template,
    /// The files the set was read from, in order.
    files: Vec<PathBuf>,
    /// Configuration strings already parsed into a copy of `base`.
    cache: RwLock<HashMap<String, Result<Arc<Template>, Error>>>,
}

/// A parsed template set, cheap to clone and to share between threads.
///
/// Rendering a string is Alertmanager's `ExecuteTextString`: the string is
/// parsed as an anonymous template (`""`) in a copy of the set, with
/// `missingkey=zero` (a missing label prints as the empty string), and run
/// on the data. The parse of each distinct string is kept, so a delivery
/// only executes.
#[derive(Clone)]
pub struct Templates {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("files", &self.inner.files)
            .finish_non_exhaustive()
    }
}

impl Default for Templates {
    fn default() -> Self {
        Templates::builtin()
    }
}

fn empty_set() -> Template {
    Template::new("")
        .funcs(pharos_template::funcs::alertmanager::funcs())
        .missing_key(MissingKey::Zero)
}

/// The line number of Go's `template: NAME:LINE: …` parse message.
fn parse_line(name: &str, message: &str) -> Option<usize> {
    let rest = message.strip_prefix("template: ")?.strip_prefix(name)?;
    let rest = rest.strip_prefix(':')?;
    let digits: &str = rest.split(':').next()?;
    digits.parse().ok()
}

impl Templates {
    /// The default templates only.
    pub fn builtin() -> Self {
        Self::from_sources(std::iter::empty::<(PathBuf, String)>()).unwrap_or_else(|e| {
            // A test parses the embedded file: this is a build defect.
            tracing::error!(error = %e, "the default notification templates do not parse");
            Templates::wrap(empty_set(), Vec::new())
        })
    }

    fn wrap(base: Template, files: Vec<PathBuf>) -> Self {
        Templates {
            inner: Arc::new(Inner {
                base,
                files,
                cache: RwLock::new(HashMap::new()),
            }),
        }
    }

    /// The default templates, then each `(path, text)` in order, parsed as
    /// Alertmanager parses template files: under the file's base name, a
    /// later definition of a name replacing an earlier one (so a file may
    /// redefine `slack.default.title`).
    pub fn from_sources<P: AsRef<Path>, S: AsRef<str>>(
        sources: impl IntoIterator<Item = (P, S)>,
    ) -> Result<Self, TemplateFileError> {
        let mut set = empty_set();
        set.parse_named(DEFAULT_NAME, DEFAULT_TEMPLATES)
            .map_err(|e| TemplateFileError::Parse {
                path: PathBuf::from(DEFAULT_NAME),
                line: parse_line(DEFAULT_NAME, &e.to_string()),
                message: e.to_string(),
            })?;
        let mut files = Vec::new();
        for (path, text) in sources {
            let path = path.as_ref();
            let name = path
                .file_name()
                .map_or_else(|| path.to_string_lossy(), |n| n.to_string_lossy());
            set.parse_named(&name, text.as_ref())
                .map_err(|e| TemplateFileError::Parse {
                    path: path.to_path_buf(),
                    line: parse_line(&name, &e.to_string()),
                    message: e.to_string(),
                })?;
            files.push(path.to_path_buf());
        }
        Ok(Templates::wrap(set, files))
    }

    /// The default templates and the files, read and parsed in order.
    pub fn from_files(paths: &[PathBuf]) -> Result<Self, TemplateFileError> {
        let mut sources = Vec::with_capacity(paths.len());
        for p in paths {
            let text = std::fs::read_to_string(p).map_err(|source| TemplateFileError::Read {
                path: p.clone(),
                source,
            })?;
            sources.push((p.clone(), text));
        }
        Self::from_sources(sources)
    }

    /// The default templates and the files `[alerting] templates` names
    /// (see [`template_files`]), relative ones taken from `base_dir` (the
    /// config file's directory). A file that cannot be read or parsed is
    /// an error of the pattern that named it: `templates[i]: path:line:
    /// message`.
    pub fn from_config(cfg: &AlertingConfig, base_dir: &Path) -> Result<Self, ConfigError> {
        let files = template_files(&cfg.templates, base_dir)?;
        let mut sources = Vec::with_capacity(files.len());
        for (i, path) in &files {
            let text = std::fs::read_to_string(path).map_err(|source| {
                file_error(
                    &cfg.templates[*i],
                    *i,
                    TemplateFileError::Read {
                        path: path.clone(),
                        source,
                    },
                )
            })?;
            sources.push((path.clone(), text));
        }
        Self::from_sources(sources.iter().map(|(p, t)| (p, t))).map_err(|e| {
            let i = match &e {
                TemplateFileError::Parse { path, .. } | TemplateFileError::Read { path, .. } => {
                    files.iter().find(|(_, p)| p == path).map(|(i, _)| *i)
                }
            };
            match i {
                Some(i) => file_error(&cfg.templates[i], i, e),
                None => ConfigError {
                    key: "templates".into(),
                    span: None,
                    message: e.to_string(),
                },
            }
        })
    }

    /// The files the set was read from.
    pub fn files(&self) -> &[PathBuf] {
        &self.inner.files
    }

    /// Whether a template called `name` is defined.
    pub fn has(&self, name: &str) -> bool {
        self.inner.base.lookup(name)
    }

    /// The names of the defined templates, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.inner.base.template_names()
    }

    /// Runs the template `name` on `data` (`{{ template "name" . }}`).
    pub fn execute(&self, name: &str, data: &Value) -> Result<String, Error> {
        self.inner.base.execute_template(name, data)
    }

    /// Renders `text` on `data`, as Alertmanager's `ExecuteTextString`: an
    /// empty text is empty, any other is parsed as the anonymous template
    /// `""` of (a copy of) the set and executed. Errors are Go's texts
    /// (`template: :1:3: executing "" at <.Foo>: …`).
    pub fn render(&self, text: &str, data: &Value) -> Result<String, Error> {
        if !text.contains("{{") {
            // No action: the text is its own output (Go parses it to one
            // text node).
            return Ok(text.to_owned());
        }
        self.parsed(text)?.execute_template("", data)
    }

    /// `text` parsed into a copy of the set, from the cache when it was
    /// parsed before.
    fn parsed(&self, text: &str) -> Result<Arc<Template>, Error> {
        let cache = &self.inner.cache;
        if let Some(hit) = cache.read().ok().and_then(|c| c.get(text).cloned()) {
            return hit;
        }
        let mut t = self.inner.base.clone();
        let parsed = t.parse_named("", text).map(|_| ()).map(|()| Arc::new(t));
        if let Ok(mut c) = cache.write()
            && c.len() < CACHE_LIMIT
        {
            c.insert(text.to_owned(), parsed.clone());
        }
        parsed
    }
}

fn file_error(pattern: &Located<String>, i: usize, e: TemplateFileError) -> ConfigError {
    ConfigError {
        key: format!("templates[{i}]"),
        span: pattern.span(),
        message: e.to_string(),
    }
}

/// Checks one `templates` entry: not empty, a valid glob pattern.
pub fn check_template_pattern(pattern: &str) -> Result<(), String> {
    if pattern.is_empty() {
        return Err("empty template file path".into());
    }
    glob::Pattern::new(pattern)
        .map(|_| ())
        .map_err(|e| format!("invalid template file pattern {pattern:?}: {e}"))
}

/// The files the `templates` patterns name, each with the index of the
/// first pattern naming it: relative patterns from `base_dir`, the files
/// of each pattern sorted, each file once. A pattern matching no file is
/// not an error (as in Alertmanager: the files may come later); it is
/// logged.
pub fn template_files(
    patterns: &[Located<String>],
    base_dir: &Path,
) -> Result<Vec<(usize, PathBuf)>, ConfigError> {
    let mut out: Vec<(usize, PathBuf)> = Vec::new();
    for (i, pattern) in patterns.iter().enumerate() {
        let error = |message: String| ConfigError {
            key: format!("templates[{i}]"),
            span: pattern.span(),
            message,
        };
        check_template_pattern(pattern).map_err(error)?;
        let full = base_dir.join(pattern.as_str());
        let paths = glob::glob(&full.to_string_lossy())
            .map_err(|e| error(format!("invalid template file pattern {pattern:?}: {e}")))?;
        let mut found: Vec<PathBuf> = paths
            .filter_map(Result::ok)
            .filter(|p| !p.is_dir())
            .collect();
        found.sort();
        if found.is_empty() {
            tracing::warn!(pattern = %pattern.as_str(), dir = %base_dir.display(), "no template file matches");
        }
        for f in found {
            if !out.iter().any(|(_, p)| *p == f) {
                out.push((i, f));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pharos_template::funcs::alertmanager::Data;

    fn data() -> Value {
        Data {
            receiver: "team".into(),
            status: "firing".into(),
            ..Data::default()
        }
        .to_value()
    }

    #[test]
    fn the_default_templates_parse() {
        let t = Templates::from_sources(std::iter::empty::<(PathBuf, String)>())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(t.has("__subject") && t.has("email.default.html"));
        assert!(Templates::builtin().has("slack.default.title"));
    }

    #[test]
    fn render_is_execute_text_string() {
        let t = Templates::builtin();
        let r = |text: &str| t.render(text, &data());
        assert_eq!(r("").as_deref(), Ok(""));
        assert_eq!(r("  ").as_deref(), Ok("  "));
        assert_eq!(r("{{/* c */}}  ").as_deref(), Ok("  "));
        assert_eq!(r("plain { text }").as_deref(), Ok("plain { text }"));
        assert_eq!(r("{{ .Receiver }}!").as_deref(), Ok("team!"));
        // missingkey=zero: a missing label is empty, not "<no value>".
        assert_eq!(r("[{{ .CommonLabels.nope }}]").as_deref(), Ok("[]"));
        assert_eq!(
            r("{{ define \"x\" }}X{{ end }}{{ template \"x\" }}").as_deref(),
            Ok("X")
        );
        // A definition in one string does not leak into the set.
        assert!(!t.has("x"));
        let e = r("{{ .Nope.x }}").map_err(|e| e.to_string());
        assert_eq!(
            e,
            Err("template: :1:8: executing \"\" at <.Nope.x>: can't evaluate field Nope in type *template.Data".to_owned())
        );
        assert!(r("{{ nope }}").is_err());
        // Cached: the same text again gives the same answer.
        assert_eq!(r("{{ .Receiver }}!").as_deref(), Ok("team!"));
    }

    #[test]
    fn files_are_parsed_under_their_base_name_and_may_override() {
        let t = Templates::from_sources([
            (
                "/etc/x/a.tmpl",
                r#"{{ define "slack.default.title" }}mine{{ end }}{{ define "extra" }}E{{ end }}"#,
            ),
            ("/etc/x/b.tmpl", "top of b"),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            t.execute("slack.default.title", &data()).as_deref(),
            Ok("mine")
        );
        assert_eq!(
            t.render("{{ template \"extra\" }}", &data()).as_deref(),
            Ok("E")
        );
        assert_eq!(t.execute("b.tmpl", &data()).as_deref(), Ok("top of b"));
        let e = Templates::from_sources([("dir/bad.tmpl", "line 1\n{{ if }}\n")])
            .expect_err("does not parse");
        assert_eq!(
            e.to_string(),
            "dir/bad.tmpl:2: template: bad.tmpl:2: missing value for if"
        );
        assert!(matches!(e, TemplateFileError::Parse { line: Some(2), .. }));
    }
}
