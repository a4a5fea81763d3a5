//! The `[alerting]` section of `pharos.toml`: Alertmanager 0.25's routing
//! configuration in TOML.
//!
//! ```toml
//! [alerting.route]
//! receiver = "team-default"
//! group_by = ["alertname", "cluster"]     # "..." groups by all labels
//! group_wait = "30s"
//!
//! [[alerting.route.routes]]
//! matchers = ['severity="page"', 'service=~"pay.*"']
//! receiver = "oncall"
//! continue = true
//! mute_time_intervals = ["weekends"]
//!
//! [[alerting.receivers]]
//! name = "oncall"
//! notifiers = [{ plugin = "pagerduty", config = { routing_key_file = "/etc/pharos/pd-key" } }]
//!
//! [[alerting.inhibit_rules]]
//! source_matchers = ['severity="critical"']
//! target_matchers = ['severity="warning"']
//! equal = ["alertname", "cluster"]
//!
//! [[alerting.time_intervals]]
//! name = "weekends"
//! time_intervals = [{ weekdays = ["saturday", "sunday"], location = "Europe/Berlin" }]
//!
//! [alerting]
//! templates = ["templates/*.tmpl"]       # relative to the config file
//! ```
//!
//! The raw types deserialize from TOML text (then values carry byte spans,
//! see [`Located`]) or from a `toml::Value`. Syntax errors inside a value
//! (a matcher, a time range, a duration) fail deserialization with
//! Alertmanager's message; [`AlertingConfig::validate`] then checks what
//! Alertmanager checks across the tree (`undefined receiver "x" used in
//! route`, `root route must not have any matchers`, …) and returns a
//! [`ConfigError`] naming the key and the span.

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;

use pharos_model::{PromDuration, is_valid_legacy_label_name};
use serde::Deserialize;
use serde::de::{self, Deserializer};

use crate::located::Located;
use crate::matchers::{AmMatcher, parse_matchers};
use crate::timeinterval::TimeInterval;

/// A config error: the key it concerns (`route.routes[0].receiver`,
/// relative to `[alerting]`), its byte span when known, and Alertmanager's
/// message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if key.is_empty() { String::new() } else { format!("{key}: ") })]
pub struct ConfigError {
    /// Dotted path of the offending key.
    pub key: String,
    /// Byte range in the source text, if known.
    pub span: Option<Range<usize>>,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    fn new(key: impl Into<String>, span: Option<Range<usize>>, message: impl Into<String>) -> Self {
        ConfigError {
            key: key.into(),
            span,
            message: message.into(),
        }
    }
}

/// One entry of a `matchers` list: a string holding one or more
/// Alertmanager matchers (`'severity="page"'`, `'{a="b", c=~"d"}'`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatcherList {
    /// The string as written.
    pub text: String,
    /// The parsed matchers.
    pub matchers: Vec<AmMatcher>,
}

impl<'de> Deserialize<'de> for MatcherList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let matchers = parse_matchers(&text).map_err(de::Error::custom)?;
        Ok(MatcherList { text, matchers })
    }
}

/// Flattens a list of matcher strings.
pub(crate) fn flatten(lists: &[Located<MatcherList>]) -> Vec<AmMatcher> {
    lists
        .iter()
        .flat_map(|l| l.matchers.iter().cloned())
        .collect()
}

/// `[alerting]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertingConfig {
    /// How long an alert without `endsAt` stays firing after it was last
    /// received (Alertmanager's `global.resolve_timeout`, default 5m).
    pub resolve_timeout: Option<Located<PromDuration>>,
    /// The root of the route tree.
    pub route: Option<Located<RouteConfig>>,
    /// Receivers by name.
    #[serde(default)]
    pub receivers: Vec<Located<ReceiverConfig>>,
    /// Inhibition rules.
    #[serde(default)]
    pub inhibit_rules: Vec<Located<InhibitRuleConfig>>,
    /// Named time intervals for `mute_time_intervals` and
    /// `active_time_intervals`.
    #[serde(default)]
    pub time_intervals: Vec<Located<TimeIntervalsConfig>>,
    /// Notification template files: paths or glob patterns, relative ones
    /// from the config file's directory (Alertmanager's `templates`). Read
    /// by [`crate::notify::Templates::from_config`].
    #[serde(default)]
    pub templates: Vec<Located<String>>,
}

/// A node of the route tree.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Receiver of alerts that end here; inherited when absent.
    pub receiver: Option<Located<String>>,
    /// Labels to group by; `["..."]` groups by all labels; inherited when
    /// absent.
    pub group_by: Option<Located<Vec<Located<String>>>>,
    /// Wait before the first notification of a new group.
    pub group_wait: Option<Located<PromDuration>>,
    /// Wait between notifications about changes of a group.
    pub group_interval: Option<Located<PromDuration>>,
    /// Wait before repeating an unchanged notification.
    pub repeat_interval: Option<Located<PromDuration>>,
    /// Matchers an alert must satisfy (all of them).
    #[serde(default)]
    pub matchers: Vec<Located<MatcherList>>,
    /// Keep matching the following siblings after this route matched.
    #[serde(default, rename = "continue")]
    pub continue_matching: bool,
    /// Names of time intervals in which notifications are muted.
    #[serde(default)]
    pub mute_time_intervals: Vec<Located<String>>,
    /// Names of time intervals outside which notifications are muted.
    #[serde(default)]
    pub active_time_intervals: Vec<Located<String>>,
    /// Child routes, tried in order.
    #[serde(default)]
    pub routes: Vec<Located<RouteConfig>>,
}

/// A receiver: a name and the notifier plugins that deliver to it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverConfig {
    /// Unique name routes refer to.
    #[serde(default)]
    pub name: Located<String>,
    /// Integrations: each notification goes to all of them.
    #[serde(default)]
    pub notifiers: Vec<Located<NotifierConfig>>,
}

/// One integration of a receiver: a notifier plugin and its config.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifierConfig {
    /// Name of the notifier plugin.
    pub plugin: Located<String>,
    /// Whether to notify about resolved alerts (default true).
    pub send_resolved: Option<bool>,
    /// The plugin's own config, passed through.
    #[serde(default)]
    pub config: toml::Table,
}

impl NotifierConfig {
    /// `send_resolved`, true unless set to false.
    pub fn send_resolved(&self) -> bool {
        self.send_resolved.unwrap_or(true)
    }
}

/// An inhibition rule: alerts matching `target_matchers` are muted while an
/// alert matching `source_matchers` fires with equal values of `equal`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InhibitRuleConfig {
    /// Matchers of the inhibiting alerts.
    #[serde(default)]
    pub source_matchers: Vec<Located<MatcherList>>,
    /// Matchers of the inhibited alerts.
    #[serde(default)]
    pub target_matchers: Vec<Located<MatcherList>>,
    /// Labels whose values must be equal in source and target (a label
    /// missing on both sides counts as equal).
    #[serde(default)]
    pub equal: Vec<Located<String>>,
}

/// A named list of time intervals.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeIntervalsConfig {
    /// Name routes refer to.
    #[serde(default)]
    pub name: Located<String>,
    /// The intervals; the name matches when any of them does.
    #[serde(default)]
    pub time_intervals: Vec<TimeInterval>,
}

impl AlertingConfig {
    /// Parses an `[alerting]` table from TOML text (the table's contents,
    /// without the `[alerting]` header) and validates it.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let cfg: AlertingConfig =
            toml::from_str(text).map_err(|e| ConfigError::new("", e.span(), e.message()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks the whole configuration as Alertmanager does when it loads
    /// one; the first problem found is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (i, t) in self.templates.iter().enumerate() {
            crate::notify::check_template_pattern(t).map_err(|message| {
                ConfigError::new(format!("templates[{i}]"), t.span(), message)
            })?;
        }
        let mut names = HashSet::new();
        for (i, r) in self.receivers.iter().enumerate() {
            let key = format!("receivers[{i}].name");
            if r.name.is_empty() {
                return Err(ConfigError::new(key, r.span(), "missing name in receiver"));
            }
            if !names.insert(r.name.as_str()) {
                return Err(ConfigError::new(
                    key,
                    r.name.span(),
                    format!("notification config name {:?} is not unique", r.name.value),
                ));
            }
            for (j, n) in r.notifiers.iter().enumerate() {
                if n.plugin.is_empty() {
                    return Err(ConfigError::new(
                        format!("receivers[{i}].notifiers[{j}].plugin"),
                        n.plugin.span(),
                        "missing plugin name in notifier",
                    ));
                }
            }
        }
        for (i, rule) in self.inhibit_rules.iter().enumerate() {
            for (j, l) in rule.equal.iter().enumerate() {
                if !is_valid_legacy_label_name(l) {
                    return Err(ConfigError::new(
                        format!("inhibit_rules[{i}].equal[{j}]"),
                        l.span(),
                        format!("invalid label name {:?}", l.value),
                    ));
                }
            }
        }
        let Some(root) = &self.route else {
            return Err(ConfigError::new("route", None, "no routes provided"));
        };
        check_route_fields(root, "route")?;
        if root.receiver.as_ref().is_none_or(|r| r.is_empty()) {
            return Err(ConfigError::new(
                "route.receiver",
                root.span(),
                "root route must specify a default receiver",
            ));
        }
        if let Some(m) = root.matchers.first() {
            return Err(ConfigError::new(
                "route.matchers",
                m.span(),
                "root route must not have any matchers",
            ));
        }
        if let Some(m) = root.mute_time_intervals.first() {
            return Err(ConfigError::new(
                "route.mute_time_intervals",
                m.span(),
                "root route must not have any mute time intervals",
            ));
        }
        if let Some(m) = root.active_time_intervals.first() {
            return Err(ConfigError::new(
                "route.active_time_intervals",
                m.span(),
                "root route must not have any active time intervals",
            ));
        }
        if root.continue_matching {
            return Err(ConfigError::new(
                "route.continue",
                root.span(),
                "cannot have continue in root route",
            ));
        }
        check_receivers(root, "route", &names)?;
        let mut intervals = HashSet::new();
        for (i, t) in self.time_intervals.iter().enumerate() {
            let key = format!("time_intervals[{i}].name");
            if t.name.is_empty() {
                return Err(ConfigError::new(
                    key,
                    t.span(),
                    "missing name in time interval",
                ));
            }
            if !intervals.insert(t.name.as_str()) {
                return Err(ConfigError::new(
                    key,
                    t.name.span(),
                    format!("time interval {:?} is not unique", t.name.value),
                ));
            }
        }
        check_time_intervals(root, "route", &intervals)
    }
}

/// What Alertmanager checks while it reads one route: group_by and the
/// intervals; then the children.
fn check_route_fields(route: &Located<RouteConfig>, key: &str) -> Result<(), ConfigError> {
    if let Some(group_by) = &route.group_by {
        let mut seen = HashSet::new();
        let mut all = false;
        for (i, l) in group_by.iter().enumerate() {
            if l.as_str() == "..." {
                all = true;
                continue;
            }
            if !is_valid_legacy_label_name(l) {
                return Err(ConfigError::new(
                    format!("{key}.group_by[{i}]"),
                    l.span(),
                    format!("invalid label name {:?} in group_by list", l.value),
                ));
            }
        }
        if all && group_by.iter().any(|l| l.as_str() != "...") {
            return Err(ConfigError::new(
                format!("{key}.group_by"),
                group_by.span(),
                "cannot have wildcard group_by (`...`) and other other labels at the same time",
            ));
        }
        for (i, l) in group_by.iter().enumerate() {
            if !seen.insert(l.as_str()) {
                return Err(ConfigError::new(
                    format!("{key}.group_by[{i}]"),
                    l.span(),
                    format!("duplicated label {:?} in group_by", l.value),
                ));
            }
        }
    }
    for (field, value) in [
        ("group_interval", &route.group_interval),
        ("repeat_interval", &route.repeat_interval),
    ] {
        if let Some(v) = value
            && v.is_zero()
        {
            return Err(ConfigError::new(
                format!("{key}.{field}"),
                v.span(),
                format!("{field} cannot be zero"),
            ));
        }
    }
    for (i, child) in route.routes.iter().enumerate() {
        check_route_fields(child, &format!("{key}.routes[{i}]"))?;
    }
    Ok(())
}

/// Every receiver named in the tree exists; children first, as
/// Alertmanager reports them.
fn check_receivers(
    route: &Located<RouteConfig>,
    key: &str,
    names: &HashSet<&str>,
) -> Result<(), ConfigError> {
    for (i, child) in route.routes.iter().enumerate() {
        check_receivers(child, &format!("{key}.routes[{i}]"), names)?;
    }
    match &route.receiver {
        Some(r) if !r.is_empty() && !names.contains(r.as_str()) => Err(ConfigError::new(
            format!("{key}.receiver"),
            r.span(),
            format!("undefined receiver {:?} used in route", r.value),
        )),
        _ => Ok(()),
    }
}

fn check_time_intervals(
    route: &Located<RouteConfig>,
    key: &str,
    names: &HashSet<&str>,
) -> Result<(), ConfigError> {
    for (i, child) in route.routes.iter().enumerate() {
        check_time_intervals(child, &format!("{key}.routes[{i}]"), names)?;
    }
    for (field, list) in [
        ("active_time_intervals", &route.active_time_intervals),
        ("mute_time_intervals", &route.mute_time_intervals),
    ] {
        for (i, n) in list.iter().enumerate() {
            if !names.contains(n.as_str()) {
                return Err(ConfigError::new(
                    format!("{key}.{field}[{i}]"),
                    n.span(),
                    format!("undefined time interval {:?} used in route", n.value),
                ));
            }
        }
    }
    Ok(())
}

impl fmt::Display for MatcherList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
