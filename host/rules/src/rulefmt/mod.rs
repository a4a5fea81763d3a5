//! Prometheus rule files (`model/rulefmt` in Prometheus): the YAML as users
//! write it, loaded into [`RuleFile`]s and checked as `promtool check rules`
//! checks it, with the same messages.
//!
//! ```
//! use pharos_rules::rulefmt::parse_str;
//!
//! let file = parse_str("groups:\n- name: g\n  rules:\n  - record: a:b\n    expr: sum(up)\n", "r.yml").unwrap();
//! assert_eq!(file.groups[0].rules[0].name(), "a:b");
//!
//! let errs = parse_str("groups:\n- name: g\n  rules:\n  - record: a:b\n    expr: sum(\n", "r.yml").unwrap_err();
//! assert_eq!(
//!     errs[0].to_string(),
//!     "r.yml: 5:11: group \"g\", rule 1, \"a:b\": could not parse expression: 1:5: parse error: unclosed left parenthesis"
//! );
//! ```
//!
//! The reference is `promtool check rules` of Prometheus 2.42; files
//! written for Prometheus 3.x load too. Where the two differ:
//! - group `query_offset` and group `labels` (3.x) are accepted; 2.42
//!   refuses them as unknown fields (`field query_offset not found in type
//!   rulefmt.RuleGroup`).
//! - names are checked as 2.42 checks them (legacy metric and label name
//!   characters); 3.x also accepts UTF-8 names.
//!
//! Go iterates `labels` and `annotations` in random order, so promtool
//! lists several bad labels of one rule in a varying order; here they come
//! in file order.
//!
//! Modules: [`yaml`] builds a node tree with positions, [`decode`] decodes
//! it as go-yaml does, [`validate`] runs Prometheus' checks, [`check`] is
//! `promtool check rules`.

mod check;
mod decode;
mod error;
mod types;
mod validate;
mod yaml;

use std::path::Path;

pub use check::{CheckOptions, check_files};
pub use error::{GroupProblem, RuleError, RuleProblem};
pub use types::{AlertingRule, RecordingRule, RuleDef, RuleFile, RuleGroupDef, RuleKind};
pub use validate::{is_valid_label_name, is_valid_metric_name};

/// Reads and checks one rule file; the path names the file in errors.
pub fn load_file(path: &Path) -> Result<RuleFile, Vec<RuleError>> {
    let name = path.to_string_lossy().into_owned();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return Err(vec![RuleError::Io {
                message: go_io_error(&name, &e),
                path: name,
            }]);
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => parse_str(&text, &name),
        Err(_) => Err(vec![RuleError::Syntax {
            path: name,
            message: "invalid leading UTF-8 octet".to_owned(),
        }]),
    }
}

/// Checks the text of a rule file named `path`.
pub fn parse_str(text: &str, path: &str) -> Result<RuleFile, Vec<RuleError>> {
    let root = yaml::parse_first_document(text).map_err(|e| {
        // Both of Prometheus' decoding passes fail on it: reported twice.
        let err = RuleError::Syntax {
            path: path.to_owned(),
            message: e.message,
        };
        vec![err.clone(), err]
    })?;
    let decoded = decode::decode(root.as_ref());
    if !decoded.errors.is_empty() {
        return Err(decoded
            .errors
            .into_iter()
            .map(|e| match e {
                decode::DecodeError::Unmarshal(errors) => RuleError::Unmarshal {
                    path: path.to_owned(),
                    errors,
                },
                decode::DecodeError::Fatal(message) => RuleError::Decode {
                    path: path.to_owned(),
                    message,
                },
            })
            .collect());
    }
    let groups = validate::validate(path, decoded.groups, &decoded.group_positions)?;
    Ok(RuleFile {
        path: path.to_owned(),
        groups,
    })
}

/// Go's `os.ReadFile` error text: `open x.yml: no such file or directory`.
fn go_io_error(path: &str, e: &std::io::Error) -> String {
    let what = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        std::io::ErrorKind::IsADirectory => return format!("read {path}: is a directory"),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_lowercase(),
                None => s,
            }
        }
    };
    format!("open {path}: {what}")
}
