//! Why a relabel configuration is refused. The texts are Prometheus' own
//! (checked with promtool 2.42), so an operator can search for them.

use crate::action::Action;

/// A relabel configuration that does not validate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelabelError {
    /// A name in `source_labels` is not a legal label name.
    #[error("{0:?} is not a valid label name")]
    InvalidSourceLabel(String),
    /// `regex` does not compile. `message` is the regex engine's reason.
    #[error("error parsing regexp: {message}: `{pattern}`")]
    InvalidRegex { pattern: String, message: String },
    /// `hashmod` with `modulus` missing or zero.
    #[error("relabel configuration for hashmod requires non-zero modulus")]
    ZeroModulus,
    /// An action that writes or compares a label has no `target_label`.
    #[error("relabel configuration for {0} action requires 'target_label' value")]
    MissingTargetLabel(Action),
    /// `target_label` is neither a label name nor a template that can
    /// expand to one.
    #[error("{target:?} is invalid 'target_label' for {action} action")]
    InvalidTargetLabel { target: String, action: Action },
    /// `replacement` given for an action that does not use it.
    #[error("'replacement' can not be set for {0} action")]
    ReplacementNotAllowed(Action),
    /// `labelmap` with a `replacement` that cannot expand to a label name.
    #[error("{0:?} is invalid 'replacement' for labelmap action")]
    InvalidLabelMapReplacement(String),
    /// `labeldrop`/`labelkeep` with fields other than `regex`.
    #[error("{0} action requires only 'regex', and no other fields")]
    OnlyRegex(Action),
    /// `keepequal`/`dropequal` with fields other than `source_labels` and
    /// `target_label`.
    #[error("{0} action requires only 'source_labels' and `target_label`, and no other fields")]
    OnlySourceAndTarget(Action),
}
