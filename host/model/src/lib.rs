//! Shared vocabulary of Pharos, at the bottom of the dependency arrow:
//! label sets ([`Labels`]), the legacy name checks
//! ([`is_valid_legacy_label_name`]), label matchers ([`Matcher`]) with
//! Prometheus 3.x semantics, and float samples ([`Sample`]) including
//! Prometheus' staleness marker.

mod labels;
mod matcher;
mod sample;

pub use labels::{
    Label, Labels, LabelsBuilder, METRIC_NAME, is_valid_legacy_label_name,
    is_valid_legacy_metric_name,
};
pub use matcher::{MatchOp, Matcher, MatcherError};
pub use sample::{STALE_NAN_BITS, Sample, is_stale_nan, stale_nan};
