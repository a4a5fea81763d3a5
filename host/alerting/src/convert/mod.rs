//! `pharos convert alertmanager`: an Alertmanager 0.25 configuration file
//! (`alertmanager.yml`) as the equivalent `[alerting]` section of
//! `pharos.toml`, so a team moves its routing in one step.
//!
//! ```
//! use pharos_alerting::convert::convert_alertmanager;
//! let yaml = r#"
//! route:
//!   receiver: team
//!   routes:
//!     - match: { severity: page }
//!       receiver: oncall
//! receivers:
//!   - name: team
//!   - name: oncall
//!     webhook_configs: [{ url: "https://hooks.example.org/page" }]
//! "#;
//! let c = convert_alertmanager(yaml).unwrap();
//! assert!(c.alerting_toml().contains(r#"matchers = ['severity="page"']"#));
//! ```
//!
//! The input is checked as Alertmanager checks it when it loads a file:
//! unknown keys and wrong types are errors (with line and column), and so is
//! what Alertmanager refuses (`missing to address in email config`,
//! `undefined receiver "x" used in route`, …), with its message.
//!
//! What converts:
//! - `global.resolve_timeout` → `resolve_timeout`; the other `global` keys
//!   are pushed down into the notifiers, as Alertmanager applies them (see
//!   [`receivers`]);
//! - the route tree, key by key; the deprecated `match` and `match_re` maps
//!   become matchers exactly as Alertmanager turns them into matchers
//!   (`service="foo"`, `env=~"^(?:prod|staging)$"`), so route keys — and
//!   with them group keys, webhook `groupKey`s and PagerDuty `dedup_key`s —
//!   stay what they were; an empty `group_by` is left out (Alertmanager
//!   inherits the parent's then);
//! - `inhibit_rules`, the deprecated `source_match[_re]` / `target_match[_re]`
//!   included, the same way;
//! - `time_intervals` and the deprecated `mute_time_intervals` into one
//!   `time_intervals` list;
//! - `templates` (paths and globs, relative ones from the config file's
//!   directory in both);
//! - receivers: `email_configs`, `pagerduty_configs`, `slack_configs` and
//!   `webhook_configs` → notifiers of the plugins of the same name, with
//!   the same keys ([`receivers`] says what maps how).
//!
//! What is refused, all of it at once ([`ConvertError::Unsupported`]):
//! every other integration kind (OpsGenie, VictorOps, Pushover, SNS,
//! Telegram, WeChat, Webex, Discord): Pharos has no plugin for them yet;
//! PagerDuty's Events API v1 `service_key`; `http_config` settings no
//! plugin has (`oauth2`, `proxy_url`, `tls_config`, credentials where the
//! plugin has none).
//!
//! The result ([`Conversion`]) is the `[alerting]` section plus the
//! `[plugins.<name>]` grants the notifiers need to reach what the config
//! names (HTTP origins, the SMTP smarthost, loopback and private
//! addresses, directories of `*_file` paths), and warnings for what needs
//! a hand (a URL in a file or a template, a relative path).

pub(crate) mod am;
pub mod receivers;
mod toml_out;

use std::fmt;

use pharos_model::{MatchOp, is_valid_legacy_label_name, parse_duration};
use serde::Deserialize;

use crate::config::{AlertingConfig, ConfigError};
use crate::matchers::{AmMatcher, parse_matchers};
use crate::timeinterval::TimeInterval;
use am::{AmConfig, Text, TextMap};
pub use receivers::FIRST_PARTY_NOTIFIERS;
use toml_out::{Table, Value};

/// Why a file does not convert.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// Not YAML, or keys and types Alertmanager would not read (its
    /// decoding is strict): the parser's message with line and column.
    #[error("{0}")]
    Yaml(String),
    /// A file Alertmanager would refuse: the key (`route.routes[0].match`,
    /// `receivers[1].email_configs[0]`) and Alertmanager's message.
    #[error("{}{message}", if key.is_empty() { String::new() } else { format!("{key}: ") })]
    Invalid {
        /// Dotted path of the offending key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A valid Alertmanager file with settings Pharos cannot express: each
    /// of them.
    #[error("{}", unsupported_text(.0))]
    Unsupported(Vec<Unsupported>),
}

fn unsupported_text(list: &[Unsupported]) -> String {
    match list {
        [one] => one.to_string(),
        many => {
            let mut s = format!("{} settings have no Pharos equivalent:", many.len());
            for u in many {
                s.push_str("\n  - ");
                s.push_str(&u.to_string());
            }
            s
        }
    }
}

/// One setting that has no Pharos equivalent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// The receiver's name.
    pub receiver: String,
    /// The integration: `opsgenie_configs`, `pagerduty_configs[0]`.
    pub integration: String,
    /// The key inside the integration, if one key is the problem.
    pub key: Option<String>,
    /// Why, and what to do.
    pub reason: String,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "receiver {:?}: {}", self.receiver, self.integration)?;
        if let Some(k) = &self.key {
            write!(f, ".{k}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// A converted configuration.
#[derive(Debug, Clone)]
pub struct Conversion {
    alerting: Table,
    plugins: Vec<(String, Table)>,
    /// What needs a hand after the conversion (grants that could not be
    /// derived, dropped transport switches, relative paths).
    pub warnings: Vec<String>,
}

impl Conversion {
    /// The `pharos.toml` fragment: a comment, `[alerting]` and the
    /// `[plugins.<name>]` grants of the notifiers.
    pub fn to_toml(&self) -> String {
        let mut out = String::from(
            "# Converted from an Alertmanager 0.25 configuration by `pharos convert alertmanager`.\n",
        );
        out.push('\n');
        let mut root = Table::new();
        root.push("alerting", Value::Section(self.alerting.clone()));
        if !self.plugins.is_empty() {
            let mut plugins = Table::new();
            for (name, t) in &self.plugins {
                plugins.push(name, Value::Section(t.clone()));
            }
            root.push("plugins", Value::Section(plugins));
        }
        let body = toml_out::render(&root);
        // `[plugins]` itself holds nothing: only its sub-tables.
        out.push_str(&body.replace(
            "\n[plugins]\n\n",
            "\n# What the notifier plugins above may reach.\n",
        ));
        out
    }

    /// The body of `[alerting]` alone (what
    /// [`AlertingConfig::from_toml_str`] reads).
    pub fn alerting_toml(&self) -> String {
        toml_out::render(&self.alerting)
    }
}

/// Converts an Alertmanager 0.25 configuration file's text.
pub fn convert_alertmanager(yaml: &str) -> Result<Conversion, ConvertError> {
    let cfg = parse(yaml)?;
    let global = cfg.global.clone().unwrap_or_default();
    receivers::check_global(&global)?;
    let mut alerting = Table::new();
    if let Some(rt) = global.resolve_timeout.as_ref().filter(|t| !t.0.is_empty()) {
        duration("global.resolve_timeout", rt)?;
        alerting.push_str("resolve_timeout", rt.as_str());
    }
    let templates: Vec<Value> = cfg
        .templates
        .iter()
        .flatten()
        .map(|t| Value::Str(t.0.clone()))
        .collect();
    if !templates.is_empty() {
        // Relative paths are read from the config file's directory in
        // both.
        alerting.push("templates", Value::Array(templates));
    }
    let route = match &cfg.route {
        Some(r) => Some(route_table(r, "route")?),
        None => None,
    };
    let mut ctx = receivers::Ctx::default();
    let mut receivers = Vec::new();
    for (i, r) in cfg.receivers.iter().flatten().enumerate() {
        receivers.push(receivers::receiver(&mut ctx, &global, r, i)?);
    }
    let mut inhibit = Vec::new();
    for (i, r) in cfg.inhibit_rules.iter().flatten().enumerate() {
        inhibit.push(inhibit_table(r, &format!("inhibit_rules[{i}]"))?);
    }
    let mut intervals = Vec::new();
    for (field, list) in [
        ("time_intervals", &cfg.time_intervals),
        ("mute_time_intervals", &cfg.mute_time_intervals),
    ] {
        for (i, t) in list.iter().flatten().enumerate() {
            intervals.push(intervals_table(t, &format!("{field}[{i}]"))?);
        }
    }
    if let Some(r) = route {
        alerting.push("route", Value::Section(r));
    }
    if !receivers.is_empty() {
        alerting.push("receivers", Value::Sections(receivers));
    }
    if !inhibit.is_empty() {
        alerting.push("inhibit_rules", Value::Sections(inhibit));
    }
    if !intervals.is_empty() {
        alerting.push("time_intervals", Value::Sections(intervals));
    }
    let conversion = Conversion {
        alerting,
        plugins: ctx.grants.tables(),
        warnings: ctx.warnings,
    };
    // What Alertmanager checks across the tree (receivers and intervals
    // that routes name, the root's restrictions, duplicates) is what
    // `[alerting]` checks: the output is loaded to check the input.
    AlertingConfig::from_toml_str(&conversion.alerting_toml()).map_err(from_config_error)?;
    if !ctx.problems.is_empty() {
        return Err(ConvertError::Unsupported(ctx.problems));
    }
    Ok(conversion)
}

fn from_config_error(e: ConfigError) -> ConvertError {
    ConvertError::Invalid {
        key: e.key,
        message: e.message,
    }
}

/// Reads the file strictly; YAML merge keys (`<<: *defaults`), which
/// go-yaml applies, are applied first when the file has any.
fn parse(yaml: &str) -> Result<AmConfig, ConvertError> {
    match serde_yaml_ng::from_str::<Option<AmConfig>>(yaml) {
        Ok(cfg) => Ok(cfg.unwrap_or_default()),
        Err(e) => {
            let direct = ConvertError::Yaml(e.to_string());
            let Ok(mut v) = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(yaml) else {
                return Err(direct);
            };
            if v.apply_merge().is_err() {
                return Err(direct);
            }
            match Option::<AmConfig>::deserialize(v) {
                Ok(cfg) => Ok(cfg.unwrap_or_default()),
                Err(_) => Err(direct),
            }
        }
    }
}

fn invalid(key: &str, message: impl Into<String>) -> ConvertError {
    ConvertError::Invalid {
        key: key.to_owned(),
        message: message.into(),
    }
}

fn duration(key: &str, t: &Text) -> Result<(), ConvertError> {
    parse_duration(t.as_str())
        .map(|_| ())
        .map_err(|e| invalid(key, e.to_string()))
}

fn strings(list: &[Text]) -> Value {
    Value::Array(list.iter().map(|t| Value::Str(t.0.clone())).collect())
}

/// `match` / `match_re` maps as the matchers Alertmanager makes of them.
fn legacy_matchers(
    eq: &Option<TextMap>,
    re: &Option<TextMap>,
    key: &str,
    eq_key: &str,
    re_key: &str,
) -> Result<Vec<String>, ConvertError> {
    let mut out = Vec::new();
    for (name, value) in eq.iter().flat_map(TextMap::iter) {
        if !is_valid_legacy_label_name(name) {
            return Err(invalid(
                &format!("{key}.{eq_key}"),
                format!("invalid label name {name:?}"),
            ));
        }
        let m = AmMatcher::new(MatchOp::Equal, name, value)
            .map_err(|e| invalid(&format!("{key}.{eq_key}"), e.to_string()))?;
        out.push(m.to_string());
    }
    for (name, value) in re.iter().flat_map(|m| m.0.iter()) {
        let k = format!("{key}.{re_key}");
        if !is_valid_legacy_label_name(name.as_str()) {
            return Err(invalid(&k, format!("invalid label name {:?}", name.0)));
        }
        let Some(value) = value else {
            return Err(invalid(
                &k,
                format!("invalid regexp value for {:?}", name.0),
            ));
        };
        // Checked as written first, for Alertmanager's error text; the
        // matcher carries the anchored pattern, as Alertmanager's does.
        AmMatcher::new(MatchOp::Regex, name.as_str(), value.as_str())
            .map_err(|e| invalid(&k, e.to_string()))?;
        let anchored = format!("^(?:{})$", value.0);
        let m = AmMatcher::new(MatchOp::Regex, name.as_str(), anchored)
            .map_err(|e| invalid(&k, e.to_string()))?;
        out.push(m.to_string());
    }
    Ok(out)
}

fn matcher_strings(list: &Option<Vec<Text>>, key: &str) -> Result<Vec<String>, ConvertError> {
    let mut out = Vec::new();
    for (i, t) in list.iter().flatten().enumerate() {
        parse_matchers(t.as_str()).map_err(|e| invalid(&format!("{key}[{i}]"), e.to_string()))?;
        out.push(t.0.clone());
    }
    Ok(out)
}

fn route_table(r: &am::Route, key: &str) -> Result<Table, ConvertError> {
    let mut t = Table::new();
    let mut matchers = legacy_matchers(&r.match_eq, &r.match_re, key, "match", "match_re")?;
    matchers.extend(matcher_strings(&r.matchers, &format!("{key}.matchers"))?);
    if !matchers.is_empty() {
        t.push(
            "matchers",
            Value::Array(matchers.into_iter().map(Value::Str).collect()),
        );
    }
    if let Some(rcv) = r.receiver.as_ref().filter(|r| !r.0.is_empty()) {
        t.push_str("receiver", rcv.as_str());
    }
    // An empty list inherits the parent's, as no list does.
    if let Some(g) = r.group_by.as_ref().filter(|g| !g.is_empty()) {
        t.push("group_by", strings(g));
    }
    for (k, v) in [
        ("group_wait", &r.group_wait),
        ("group_interval", &r.group_interval),
        ("repeat_interval", &r.repeat_interval),
    ] {
        if let Some(v) = v.as_ref().filter(|v| !v.0.is_empty()) {
            duration(&format!("{key}.{k}"), v)?;
            t.push_str(k, v.as_str());
        }
    }
    if r.continue_matching.is_some_and(|c| c.0) {
        t.push("continue", Value::Bool(true));
    }
    for (k, v) in [
        ("mute_time_intervals", &r.mute_time_intervals),
        ("active_time_intervals", &r.active_time_intervals),
    ] {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            t.push(k, strings(v));
        }
    }
    let mut children = Vec::new();
    for (i, c) in r.routes.iter().flatten().enumerate() {
        children.push(route_table(c, &format!("{key}.routes[{i}]"))?);
    }
    if !children.is_empty() {
        t.push("routes", Value::Sections(children));
    }
    Ok(t)
}

fn inhibit_table(r: &am::InhibitRule, key: &str) -> Result<Table, ConvertError> {
    let mut t = Table::new();
    for side in ["source", "target"] {
        let (eq, re, list) = if side == "source" {
            (&r.source_match, &r.source_match_re, &r.source_matchers)
        } else {
            (&r.target_match, &r.target_match_re, &r.target_matchers)
        };
        let mut ms = legacy_matchers(
            eq,
            re,
            key,
            &format!("{side}_match"),
            &format!("{side}_match_re"),
        )?;
        ms.extend(matcher_strings(list, &format!("{key}.{side}_matchers"))?);
        if !ms.is_empty() {
            t.push(
                &format!("{side}_matchers"),
                Value::Array(ms.into_iter().map(Value::Str).collect()),
            );
        }
    }
    if let Some(eq) = r.equal.as_ref().filter(|e| !e.is_empty()) {
        for (i, l) in eq.iter().enumerate() {
            if !is_valid_legacy_label_name(l.as_str()) {
                return Err(invalid(
                    &format!("{key}.equal[{i}]"),
                    format!("{:?} is not a valid label name", l.0),
                ));
            }
        }
        t.push("equal", strings(eq));
    }
    Ok(t)
}

fn intervals_table(n: &am::NamedIntervals, key: &str) -> Result<Table, ConvertError> {
    let mut t = Table::new();
    let name = n.name.clone().unwrap_or_default();
    if name.0.is_empty() {
        return Err(invalid(
            &format!("{key}.name"),
            "missing name in time interval",
        ));
    }
    t.push_str("name", name.as_str());
    let mut list = Vec::new();
    for (i, v) in n.time_intervals.iter().flatten().enumerate() {
        TimeInterval::deserialize(v.clone())
            .map_err(|e| invalid(&format!("{key}.time_intervals[{i}]"), e.to_string()))?;
        if let Some(Value::Table(ti)) = receivers::yaml_to_toml(v, true) {
            list.push(Value::Table(ti));
        } else {
            // `null` or an empty map: an interval that always matches.
            list.push(Value::Table(Table::new()));
        }
    }
    t.push("time_intervals", Value::Array(list));
    Ok(t)
}
