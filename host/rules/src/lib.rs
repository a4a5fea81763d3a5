//! Recording and alerting rules, evaluated as Prometheus 3.x evaluates them.
//!
//! - [`files`]: the rule files a config lists (globs), loaded whole.
//! - [`rulefmt`]: Prometheus rule files (YAML), loaded and checked as
//!   `promtool check rules` checks them.
//! - [`Group`]: a group's rules evaluated in order at one time, their
//!   samples stored, staleness markers, alert state ([`alerting`]) and its
//!   restore after a restart.
//! - [`RuleManager`]: every group on its schedule, reloads that keep
//!   state, alerts handed to [`pharos_model::alert::AlertSink`]s.
//! - [`unittest`]: promtool's rule unit tests (`pharos test rules`).

pub mod alerting;
mod error;
mod expand;
pub mod files;
pub mod group;
mod manager;
mod query;
mod recording;
pub mod rule;
pub mod rulefmt;
pub mod unittest;

pub use error::RuleError;
pub use group::{Group, GroupEnv, GroupMetrics};
pub use manager::{RuleManager, RuleSettings, now_ms, with_external_labels};
pub use rule::{Health, Rule};
