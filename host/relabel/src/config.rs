//! One relabel step as written in a config file ([`RelabelConfig`]) and
//! its validated, compiled form ([`Relabel`]).
//!
//! Field names and defaults are Prometheus' (`separator = ";"`,
//! `regex = "(.*)"`, `replacement = "$1"`, `action = "replace"`), and so are
//! the validation rules and their error texts, as Prometheus 2.42's
//! promtool reports them. Label names are checked with the legacy rule
//! (`[a-zA-Z_][a-zA-Z0-9_]*`), as Prometheus 2 does and Prometheus 3 does
//! under `metric_name_validation_scheme: legacy`.

use pharos_model::is_valid_legacy_label_name;
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::error::RelabelError;
use crate::template::Template;

/// Prometheus' default `separator`.
pub const DEFAULT_SEPARATOR: &str = ";";
/// Prometheus' default `regex`.
pub const DEFAULT_REGEX: &str = "(.*)";
/// Prometheus' default `replacement`.
pub const DEFAULT_REPLACEMENT: &str = "$1";

/// A relabel step as written: every field optional, so that validation can
/// tell "not given" from "given as the default" where Prometheus does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RelabelConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_labels: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub separator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modulus: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
}

impl RelabelConfig {
    pub fn action(&self) -> Action {
        self.action.unwrap_or_default()
    }
    pub fn source_labels(&self) -> &[String] {
        self.source_labels.as_deref().unwrap_or_default()
    }
    pub fn separator(&self) -> &str {
        self.separator.as_deref().unwrap_or(DEFAULT_SEPARATOR)
    }
    pub fn regex(&self) -> &str {
        self.regex.as_deref().unwrap_or(DEFAULT_REGEX)
    }
    pub fn modulus(&self) -> u64 {
        self.modulus.unwrap_or(0)
    }
    pub fn target_label(&self) -> &str {
        self.target_label.as_deref().unwrap_or_default()
    }
    pub fn replacement(&self) -> &str {
        self.replacement.as_deref().unwrap_or(DEFAULT_REPLACEMENT)
    }

    /// The same step with Prometheus' defaults written out, the way
    /// Prometheus prints a loaded config: `separator`, `regex`,
    /// `replacement` and `action` always; `source_labels`, `modulus` and
    /// `target_label` only when set. `keepequal` and `dropequal` get no
    /// `regex`, since any `regex` given for them is refused; the result
    /// always validates again.
    pub fn with_defaults(&self) -> RelabelConfig {
        let takes_regex = !matches!(self.action(), Action::KeepEqual | Action::DropEqual);
        RelabelConfig {
            source_labels: self.source_labels.clone().filter(|s| !s.is_empty()),
            separator: Some(self.separator().to_owned()),
            regex: takes_regex.then(|| self.regex().to_owned()),
            modulus: self.modulus.filter(|m| *m != 0),
            target_label: self.target_label.clone().filter(|t| !t.is_empty()),
            replacement: Some(self.replacement().to_owned()),
            action: Some(self.action()),
        }
    }

    /// Validates the step and compiles its regex and templates.
    pub fn compile(&self) -> Result<Relabel, RelabelError> {
        Relabel::new(self.clone())
    }
}

/// A validated relabel step, ready to apply with [`crate::process`].
#[derive(Debug, Clone)]
pub struct Relabel {
    pub(crate) action: Action,
    pub(crate) source_labels: Vec<String>,
    pub(crate) separator: String,
    pub(crate) regex: Regex,
    /// `regex` is the default `(.*)`: every value matches, and group 1 is
    /// the whole value.
    pub(crate) regex_is_default: bool,
    pub(crate) modulus: u64,
    pub(crate) target: Template,
    /// `target_label` as written, for the actions that do not expand it.
    pub(crate) target_label: String,
    pub(crate) replacement: Template,
    config: RelabelConfig,
}

impl Relabel {
    /// Validates `config` with Prometheus' rules, in Prometheus' order, and
    /// compiles it.
    pub fn new(config: RelabelConfig) -> Result<Self, RelabelError> {
        use Action::*;
        let action = config.action();
        for name in config.source_labels() {
            if !is_valid_legacy_label_name(name) {
                return Err(RelabelError::InvalidSourceLabel(name.clone()));
            }
        }
        let regex = crate::regex::compile(config.regex())?;
        let target = config.target_label();
        let replacement = config.replacement();

        if action == HashMod && config.modulus() == 0 {
            return Err(RelabelError::ZeroModulus);
        }
        let writes_target = matches!(
            action,
            Replace | HashMod | Lowercase | Uppercase | KeepEqual | DropEqual
        );
        if writes_target && target.is_empty() {
            return Err(RelabelError::MissingTargetLabel(action));
        }
        let templated_target = matches!(
            action,
            Replace | Lowercase | Uppercase | KeepEqual | DropEqual
        );
        if templated_target && !is_label_template(target) {
            return Err(RelabelError::InvalidTargetLabel {
                target: target.to_owned(),
                action,
            });
        }
        let no_replacement = matches!(action, Lowercase | Uppercase | KeepEqual | DropEqual);
        if no_replacement && replacement != DEFAULT_REPLACEMENT {
            return Err(RelabelError::ReplacementNotAllowed(action));
        }
        if action == LabelMap && !is_label_template(replacement) {
            return Err(RelabelError::InvalidLabelMapReplacement(
                replacement.to_owned(),
            ));
        }
        if action == HashMod && !is_valid_legacy_label_name(target) {
            return Err(RelabelError::InvalidTargetLabel {
                target: target.to_owned(),
                action,
            });
        }
        if matches!(action, LabelDrop | LabelKeep)
            && (config.source_labels.is_some()
                || !target.is_empty()
                || config.modulus() != 0
                || config.separator() != DEFAULT_SEPARATOR
                || replacement != DEFAULT_REPLACEMENT)
        {
            return Err(RelabelError::OnlyRegex(action));
        }
        // Prometheus 2.42 refuses any `regex` given for these, even `(.*)`.
        if matches!(action, KeepEqual | DropEqual)
            && (config.regex.is_some()
                || config.modulus() != 0
                || config.separator() != DEFAULT_SEPARATOR)
        {
            return Err(RelabelError::OnlySourceAndTarget(action));
        }

        Ok(Relabel {
            action,
            source_labels: config.source_labels().to_vec(),
            separator: config.separator().to_owned(),
            regex_is_default: config.regex() == DEFAULT_REGEX,
            modulus: config.modulus(),
            target: Template::parse(target, &regex),
            target_label: target.to_owned(),
            replacement: Template::parse(replacement, &regex),
            regex,
            config,
        })
    }

    pub fn action(&self) -> Action {
        self.action
    }

    /// The configuration this step was compiled from, as written.
    pub fn config(&self) -> &RelabelConfig {
        &self.config
    }
}

/// Whether `s` is a label name or a template that may expand to one:
/// Prometheus accepts letters, `_` and `$name`/`${name}` references,
/// followed by any of those or digits (`[a-zA-Z_]` first, or a reference).
fn is_label_template(s: &str) -> bool {
    let word = |b: u8| b == b'_' || b.is_ascii_alphanumeric();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'$' {
            let rest = &bytes[i + 1..];
            let len = if let Some(inner) = rest.strip_prefix(b"{") {
                let n = inner.iter().take_while(|b| word(**b)).count();
                if n == 0 || inner.get(n) != Some(&b'}') {
                    return false;
                }
                n + 2
            } else {
                let n = rest.iter().take_while(|b| word(**b)).count();
                if n == 0 {
                    return false;
                }
                n
            };
            i += 1 + len;
        } else if word(b) && (i > 0 || !b.is_ascii_digit()) {
            i += 1;
        } else {
            return false;
        }
    }
    i > 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn label_templates_as_promtool_accepts_them() {
        for ok in [
            "a", "_", "x_$1", "$1", "${1}x", "a$1b", "${1}${2}", "$name", "__name__",
        ] {
            assert!(is_label_template(ok), "{ok:?}");
        }
        for bad in [
            "", "1x", "a-b", "a.b", "$", "a$", "$$", "$${1}", "${a-b}", "${é}", "é", "${}", "${1",
        ] {
            assert!(!is_label_template(bad), "{bad:?}");
        }
    }

    #[test]
    fn defaults_are_prometheus_defaults() {
        let c = RelabelConfig::default();
        assert_eq!(c.action(), Action::Replace);
        assert_eq!(c.separator(), ";");
        assert_eq!(c.regex(), "(.*)");
        assert_eq!(c.replacement(), "$1");
        assert_eq!(c.modulus(), 0);
        let d = c.with_defaults();
        assert_eq!(d.separator.as_deref(), Some(";"));
        let eq = RelabelConfig {
            source_labels: Some(vec!["a".into()]),
            target_label: Some("b".into()),
            action: Some(Action::KeepEqual),
            ..RelabelConfig::default()
        };
        assert_eq!(eq.with_defaults().regex, None);
        assert!(eq.with_defaults().compile().is_ok());
        assert_eq!(d.source_labels, None);
        assert_eq!(d.target_label, None);
    }
}
