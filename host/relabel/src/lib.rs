//! Prometheus relabeling for Pharos: target relabeling (`relabel_configs`),
//! `metric_relabel_configs` and `write_relabel_configs`, with Prometheus
//! 3.x semantics (regexes anchored as `^(?s:…)$`, so `.` matches a newline)
//! and Prometheus' validation texts.
//!
//! A [`RelabelConfig`] is what a config file holds (serde, Prometheus'
//! field names and defaults); [`RelabelConfig::compile`] validates it into
//! a [`Relabel`]; [`process`] and [`process_builder`] apply a list of them.
//!
//! ```
//! use pharos_model::Labels;
//! use pharos_relabel::{RelabelConfig, process};
//!
//! let step: RelabelConfig = toml::from_str(
//!     r#"source_labels = ["__address__"]
//!        regex = "(.*):\\d+"
//!        target_label = "host""#,
//! ).unwrap();
//! let steps = vec![step.compile().unwrap()];
//! let labels = Labels::from_pairs([("__address__", "db1:9100")]);
//! let out = process(&labels, &steps).unwrap();
//! assert_eq!(out.get("host"), Some("db1"));
//! ```
//!
//! Where Pharos knowingly differs from Prometheus 2.42:
//! - `.` matches a newline (Prometheus 3.x);
//! - a `labelmap` that would produce an invalid label name (for example
//!   the empty name) skips that label; 2.42 adds a label with that name;
//! - label names are checked with the legacy rule, as in Prometheus 2.
//!
//! The table tests in `testdata/` are checked against a real Prometheus by
//! `scripts/check_against_prometheus.py` (Prometheus 2.42: 149 of 154
//! cases; the other five are the differences above and error wording).

mod action;
mod case;
mod config;
mod error;
mod process;
mod regex;
mod template;

pub use action::{Action, UnknownAction};
pub use config::{DEFAULT_REGEX, DEFAULT_REPLACEMENT, DEFAULT_SEPARATOR, Relabel, RelabelConfig};
pub use error::RelabelError;
pub use process::{process, process_builder};
