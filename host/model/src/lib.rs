//! Shared vocabulary of Pharos, at the bottom of the dependency arrow:
//! label sets ([`Labels`]), the legacy name checks
//! ([`is_valid_legacy_label_name`]), label matchers ([`Matcher`]) with
//! Prometheus 3.x semantics, float samples ([`Sample`]) including
//! Prometheus' staleness marker, and durations in Prometheus' form
//! ([`parse_duration`], [`format_duration`], [`format_millis`],
//! [`PromDuration`]), and
//! [`alert`]: the alert that rule evaluation hands to routing.

pub mod alert;
pub mod civil;
mod duration;
mod labels;
mod matcher;
mod sample;

pub use duration::{
    DurationError, PromDuration, format_duration, format_millis, parse_duration,
    parse_duration_millis,
};
pub use labels::{
    Label, Labels, LabelsBuilder, METRIC_NAME, is_valid_legacy_label_name,
    is_valid_legacy_metric_name,
};
pub use matcher::{MatchOp, Matcher, MatcherError};
pub use sample::{STALE_NAN_BITS, Sample, is_stale_nan, stale_nan};
