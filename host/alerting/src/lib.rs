//! Alert routing for Pharos, with Alertmanager 0.25's semantics: the route
//! tree, grouping, inhibition, silences and time intervals.
//!
//! - [`matchers`]: Alertmanager's matcher syntax (`severity="page"`,
//!   `{a=~"b.*", c!="d"}`) and matching.
//! - [`config`]: the `[alerting]` section of `pharos.toml` and its
//!   validation, with Alertmanager's messages.
//! - [`route`]: the route tree: which routes (and receivers) a label set
//!   reaches, route and group keys.
//! - [`inhibit`], [`silence`], [`timeinterval`]: what mutes an alert or a
//!   notification.
//! - [`convert`]: an Alertmanager 0.25 configuration file as `[alerting]`
//!   TOML (`pharos convert alertmanager`); [`amyaml`]: the reverse, an
//!   Alertmanager file of `[alerting]` for `/api/v2/status`; [`amtool`]:
//!   the route tree as `amtool config routes` prints it.
//! - [`dispatch`]: aggregation groups as a deterministic state machine
//!   driven by an explicit clock, and the [`AlertSink`] that rule
//!   evaluation hands alerts to.
//! - [`notify`]: notification rendering — Alertmanager's template data, the
//!   default templates, schema defaults and rendering of notifier configs.
//!
//! The core does no I/O and starts no timers: callers feed alerts and the
//! time, and carry out the notifications it returns.
//!
//! [`AlertSink`]: pharos_model::alert::AlertSink

pub mod amtool;
pub mod amyaml;
pub mod config;
pub mod convert;
pub mod dispatch;
pub mod fingerprint;
mod goregex;
pub mod inhibit;
pub mod located;
pub mod matchers;
pub mod notify;
pub mod route;
pub mod service;
pub mod silence;
pub mod store;
pub mod timeinterval;

pub use config::{AlertingConfig, ConfigError};
pub use located::Located;
pub use matchers::{AmMatcher, MatcherParseError, Matchers, parse_matcher, parse_matchers};
pub use route::{RouteId, RouteTree};
