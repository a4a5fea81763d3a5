//! Pharos' routing configuration as an Alertmanager 0.25 configuration
//! file, for `/api/v2/status`'s `config.original`: amtool (`amtool config
//! routes`, `amtool config show`) reads that text as an Alertmanager
//! config, so it must be one Alertmanager 0.25 loads (checked with
//! `amtool check-config` in the system tests).
//!
//! - `global` holds `resolve_timeout` (Alertmanager's 5m default when
//!   Pharos' config leaves it out).
//! - The route tree, inhibition rules, `templates` and time intervals are
//!   written key for key; matchers one per list entry in Alertmanager's printed form
//!   (`severity="page"`), time intervals in their canonical form
//!   (`monday:friday`, `09:00`).
//! - A notifier of a plugin Alertmanager has a counterpart for becomes that
//!   counterpart: `email` → `email_configs`, `pagerduty` →
//!   `pagerduty_configs`, `slack` → `slack_configs`, `webhook` →
//!   `webhook_configs`, with `send_resolved` always written (when the
//!   notifier leaves it out, the plugin's default, which is Alertmanager's
//!   for the kind: false for email and Slack, true otherwise). The
//!   webhook plugin's `basic_auth` / `authorization` go under
//!   `http_config`; the slack plugin's bot `token` is an `authorization`
//!   header to `chat.postMessage`, as Alertmanager 0.25 users write it.
//! - Secrets are masked as Alertmanager masks them, `<secret>`: passwords,
//!   credentials, routing keys, Slack URLs and tokens. A webhook URL is a
//!   secret to Pharos' plugin, but Alertmanager 0.25 refuses `<secret>`
//!   there (it is a plain URL to it): its origin is kept and the rest
//!   masked (`https://hooks.example.org/<secret>`). Paths of `*_file` keys
//!   are not secrets and are kept; the webhook plugin's `url_file`, which
//!   Alertmanager 0.25 lacks, becomes the URL
//!   `https://url-file.invalid/<secret>` with a comment naming the file.
//! - A notifier with no Alertmanager counterpart (a third-party plugin, or
//!   a first-party config Alertmanager would refuse) is a YAML comment
//!   under its receiver: `# notifier plugin "teams" (no Alertmanager
//!   equivalent)`. The receiver itself stays, with its name and whatever
//!   else it has. amtool needs a valid route tree and every receiver it
//!   names, and a receiver without integrations is valid in Alertmanager
//!   (it receives and drops); a made-up integration, such as a webhook to a
//!   placeholder URL, would tell a reader something false about where the
//!   notifications go, and Alertmanager tools would count it as an
//!   integration.
//! - Pharos-only keys (no Alertmanager key has their meaning) are left out.

use std::fmt::Write as _;

use pharos_model::format_duration;

use crate::config::{
    AlertingConfig, InhibitRuleConfig, MatcherList, NotifierConfig, ReceiverConfig, RouteConfig,
    TimeIntervalsConfig,
};
use crate::located::Located;
use crate::timeinterval::{InclusiveRange, TimeInterval};

/// What Alertmanager prints instead of a secret.
pub const SECRET: &str = "<secret>";

/// Alertmanager's `resolve_timeout` default.
const DEFAULT_RESOLVE_TIMEOUT: &str = "5m";

/// A YAML node.
#[derive(Debug, Clone, PartialEq)]
enum Yaml {
    Str(String),
    Int(i64),
    Bool(bool),
    Seq(Vec<Yaml>),
    Map(Vec<Item>),
}

/// A mapping entry, or a comment line between entries.
#[derive(Debug, Clone, PartialEq)]
enum Item {
    Kv(String, Yaml),
    Comment(String),
}

fn kv(k: &str, v: Yaml) -> Item {
    Item::Kv(k.to_owned(), v)
}

fn s(v: &str) -> Yaml {
    Yaml::Str(v.to_owned())
}

fn strs<'a>(items: impl IntoIterator<Item = &'a str>) -> Yaml {
    Yaml::Seq(items.into_iter().map(s).collect())
}

/// Renders the routing configuration as an Alertmanager 0.25 file (see
/// the module documentation for what maps how).
pub fn to_alertmanager_yaml(cfg: &AlertingConfig) -> String {
    let mut doc = Vec::new();
    let rt = cfg.resolve_timeout.as_ref().map_or_else(
        || DEFAULT_RESOLVE_TIMEOUT.to_owned(),
        |d| format_duration(d.get()),
    );
    doc.push(kv("global", Yaml::Map(vec![kv("resolve_timeout", s(&rt))])));
    let mut receivers: Vec<&ReceiverConfig> = cfg.receivers.iter().map(|r| &r.value).collect();
    let placeholder;
    match &cfg.route {
        Some(r) => doc.push(kv("route", route(r))),
        None => {
            // Alertmanager needs a root route; Pharos without one routes
            // nothing. Keep the file loadable and say so.
            doc.push(Item::Comment(
                "Pharos has no [alerting.route]: it routes no alert.".into(),
            ));
            let name = unused_name(&receivers);
            doc.push(kv("route", Yaml::Map(vec![kv("receiver", s(&name))])));
            placeholder = ReceiverConfig {
                name: Located::new(name),
                notifiers: Vec::new(),
            };
            receivers.push(&placeholder);
        }
    }
    if !cfg.inhibit_rules.is_empty() {
        doc.push(kv(
            "inhibit_rules",
            Yaml::Seq(cfg.inhibit_rules.iter().map(|r| inhibit_rule(r)).collect()),
        ));
    }
    doc.push(kv(
        "receivers",
        Yaml::Seq(receivers.iter().map(|r| receiver(r)).collect()),
    ));
    if !cfg.templates.is_empty() {
        doc.push(kv(
            "templates",
            strs(cfg.templates.iter().map(|t| t.as_str())),
        ));
    }
    if !cfg.time_intervals.is_empty() {
        doc.push(kv(
            "time_intervals",
            Yaml::Seq(
                cfg.time_intervals
                    .iter()
                    .map(|t| time_intervals(t))
                    .collect(),
            ),
        ));
    }
    let mut out = String::new();
    write_map(&mut out, &doc, 0);
    out
}

fn unused_name(receivers: &[&ReceiverConfig]) -> String {
    let mut name = "pharos-no-route".to_owned();
    while receivers.iter().any(|r| r.name.value == name) {
        name.push('_');
    }
    name
}

fn matchers(lists: &[Located<MatcherList>]) -> Yaml {
    Yaml::Seq(
        lists
            .iter()
            .flat_map(|l| l.matchers.iter().map(|m| Yaml::Str(m.to_string())))
            .collect(),
    )
}

fn route(r: &RouteConfig) -> Yaml {
    let mut m = Vec::new();
    if let Some(rcv) = r.receiver.as_ref().filter(|r| !r.is_empty()) {
        m.push(kv("receiver", s(rcv)));
    }
    // An empty list means "inherit" to Alertmanager: leave it out.
    if let Some(g) = r.group_by.as_ref().filter(|g| !g.is_empty()) {
        m.push(kv("group_by", strs(g.iter().map(|l| l.as_str()))));
    }
    if !r.matchers.is_empty() {
        m.push(kv("matchers", matchers(&r.matchers)));
    }
    for (k, list) in [
        ("mute_time_intervals", &r.mute_time_intervals),
        ("active_time_intervals", &r.active_time_intervals),
    ] {
        if !list.is_empty() {
            m.push(kv(k, strs(list.iter().map(|l| l.as_str()))));
        }
    }
    m.push(kv("continue", Yaml::Bool(r.continue_matching)));
    for (k, d) in [
        ("group_wait", &r.group_wait),
        ("group_interval", &r.group_interval),
        ("repeat_interval", &r.repeat_interval),
    ] {
        if let Some(d) = d {
            m.push(kv(k, s(&format_duration(d.get()))));
        }
    }
    if !r.routes.is_empty() {
        m.push(kv(
            "routes",
            Yaml::Seq(r.routes.iter().map(|c| route(c)).collect()),
        ));
    }
    Yaml::Map(m)
}

fn inhibit_rule(r: &InhibitRuleConfig) -> Yaml {
    let mut m = Vec::new();
    if !r.source_matchers.is_empty() {
        m.push(kv("source_matchers", matchers(&r.source_matchers)));
    }
    if !r.target_matchers.is_empty() {
        m.push(kv("target_matchers", matchers(&r.target_matchers)));
    }
    if !r.equal.is_empty() {
        m.push(kv("equal", strs(r.equal.iter().map(|l| l.as_str()))));
    }
    Yaml::Map(m)
}

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn range(r: &InclusiveRange, name: impl Fn(i32) -> String) -> Yaml {
    if r.begin == r.end {
        Yaml::Str(name(r.begin))
    } else {
        Yaml::Str(format!("{}:{}", name(r.begin), name(r.end)))
    }
}

fn clock(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn time_interval(t: &TimeInterval) -> Yaml {
    let mut m = Vec::new();
    if let Some(times) = &t.times {
        let items = times
            .iter()
            .map(|r| {
                Yaml::Map(vec![
                    kv("start_time", s(&clock(r.start_minute))),
                    kv("end_time", s(&clock(r.end_minute))),
                ])
            })
            .collect();
        m.push(kv("times", Yaml::Seq(items)));
    }
    let named = |names: &'static [&'static str], offset: i32| {
        move |v: i32| {
            usize::try_from(v - offset)
                .ok()
                .and_then(|i| names.get(i))
                .map_or_else(|| v.to_string(), |n| (*n).to_owned())
        }
    };
    if let Some(days) = &t.weekdays {
        let items = days.iter().map(|d| range(&d.0, named(&WEEKDAYS, 0)));
        m.push(kv("weekdays", Yaml::Seq(items.collect())));
    }
    if let Some(days) = &t.days_of_month {
        let items = days.iter().map(|d| range(&d.0, |v| v.to_string()));
        m.push(kv("days_of_month", Yaml::Seq(items.collect())));
    }
    if let Some(months) = &t.months {
        let items = months.iter().map(|d| range(&d.0, named(&MONTHS, 1)));
        m.push(kv("months", Yaml::Seq(items.collect())));
    }
    if let Some(years) = &t.years {
        let items = years.iter().map(|d| range(&d.0, |v| v.to_string()));
        m.push(kv("years", Yaml::Seq(items.collect())));
    }
    if let Some(l) = &t.location {
        m.push(kv("location", s(&l.name)));
    }
    Yaml::Map(m)
}

fn time_intervals(t: &TimeIntervalsConfig) -> Yaml {
    Yaml::Map(vec![
        kv("name", s(&t.name)),
        kv(
            "time_intervals",
            Yaml::Seq(t.time_intervals.iter().map(time_interval).collect()),
        ),
    ])
}

/// The Alertmanager integration lists, in Alertmanager's order, with the
/// `send_resolved` default of the kind.
const KINDS: [(&str, &str, bool); 4] = [
    ("email", "email_configs", false),
    ("pagerduty", "pagerduty_configs", true),
    ("slack", "slack_configs", false),
    ("webhook", "webhook_configs", true),
];

fn receiver(r: &ReceiverConfig) -> Yaml {
    let mut m = vec![kv("name", s(&r.name))];
    let mut lists: Vec<Vec<Yaml>> = vec![Vec::new(); KINDS.len()];
    for n in &r.notifiers {
        let kind = KINDS.iter().position(|(p, _, _)| *p == n.plugin.as_str());
        let rendered = kind.and_then(|k| integration(k, n).map(|y| (k, y)));
        match rendered {
            Some((k, y)) => {
                if let Some(list) = lists.get_mut(k) {
                    list.push(y);
                }
            }
            None => m.push(Item::Comment(format!(
                "notifier plugin {:?} (no Alertmanager equivalent)",
                n.plugin.value
            ))),
        }
    }
    for ((_, key, _), list) in KINDS.iter().zip(lists) {
        if !list.is_empty() {
            m.push(kv(key, Yaml::Seq(list)));
        }
    }
    Yaml::Map(m)
}

/// What a plugin config key must hold for Alertmanager to read it.
#[derive(Clone, Copy)]
enum Want {
    Str,
    /// A string Alertmanager masks.
    Secret,
    Bool,
    Int,
    StrList,
    StrMap,
    /// A list of tables of strings (and `short`, a boolean).
    TableList,
    /// `tls_config`: a table of strings and `insecure_skip_verify`.
    Table,
}

fn plain(v: &toml::Value, want: Want) -> Option<Yaml> {
    use toml::Value as T;
    match (want, v) {
        (Want::Str, T::String(x)) => Some(s(x)),
        (Want::Secret, T::String(x)) if x.is_empty() => None,
        (Want::Secret, T::String(_)) => Some(s(SECRET)),
        (Want::Bool, T::Boolean(b)) => Some(Yaml::Bool(*b)),
        (Want::Int, T::Integer(i)) if *i >= 0 => Some(Yaml::Int(*i)),
        (Want::StrList, T::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(s))
            .collect::<Option<Vec<_>>>()
            .map(Yaml::Seq),
        (Want::StrMap, T::Table(t)) => t
            .iter()
            .map(|(k, v)| v.as_str().map(|v| kv(k, s(v))))
            .collect::<Option<Vec<_>>>()
            .map(Yaml::Map),
        (Want::TableList, T::Array(items)) => items
            .iter()
            .map(|i| i.as_table().and_then(flat_table))
            .collect::<Option<Vec<_>>>()
            .map(Yaml::Seq),
        (Want::Table, T::Table(t)) => flat_table(t),
        _ => None,
    }
}

/// A table of scalars (one level of nesting for Slack's `confirm`), its
/// keys in Alertmanager's field order whatever order the TOML table keeps.
fn flat_table(t: &toml::Table) -> Option<Yaml> {
    let mut entries: Vec<(&String, &toml::Value)> = t.iter().collect();
    entries.sort_by(|a, b| field_rank(a.0).cmp(&field_rank(b.0)));
    entries
        .into_iter()
        .map(|(k, v)| {
            let y = match v {
                toml::Value::String(x) => s(x),
                toml::Value::Boolean(b) => Yaml::Bool(*b),
                toml::Value::Table(inner) => {
                    let mut inner: Vec<_> = inner.iter().collect();
                    inner.sort_by(|a, b| field_rank(a.0).cmp(&field_rank(b.0)));
                    let items = inner
                        .into_iter()
                        .map(|(k, v)| v.as_str().map(|v| kv(k, s(v))))
                        .collect::<Option<Vec<_>>>()?;
                    Yaml::Map(items)
                }
                _ => return None,
            };
            Some(kv(k, y))
        })
        .collect::<Option<Vec<_>>>()
        .map(Yaml::Map)
}

/// The order of the keys of the small tables Alertmanager's YAML holds,
/// as its Go structs declare them: PagerDuty's images (`src`, `alt`,
/// `href`) and links (`href`, `text`); Slack's fields (`title`, `value`,
/// `short`), actions (`type`, `text`, `url`, `style`, `name`, `value`,
/// `confirm`) and confirmations (`text`, `title`, `ok_text`,
/// `dismiss_text`); `tls_config`. One ranking fits them all; keys it does
/// not name follow, by name.
const FIELD_ORDER: [&str; 21] = [
    "src",
    "alt",
    "href",
    "type",
    "text",
    "title",
    "url",
    "style",
    "name",
    "value",
    "short",
    "confirm",
    "ok_text",
    "dismiss_text",
    "ca_file",
    "cert_file",
    "key_file",
    "server_name",
    "insecure_skip_verify",
    "min_version",
    "max_version",
];

fn field_rank(key: &str) -> (usize, &str) {
    let rank = FIELD_ORDER
        .iter()
        .position(|k| *k == key)
        .unwrap_or(FIELD_ORDER.len());
    (rank, key)
}

const EMAIL_KEYS: [(&str, Want); 14] = [
    ("to", Want::Str),
    ("from", Want::Str),
    ("smarthost", Want::Str),
    ("hello", Want::Str),
    ("auth_username", Want::Str),
    ("auth_password", Want::Secret),
    ("auth_password_file", Want::Str),
    ("auth_secret", Want::Secret),
    ("auth_identity", Want::Str),
    ("require_tls", Want::Bool),
    ("tls_config", Want::Table),
    ("html", Want::Str),
    ("text", Want::Str),
    ("headers", Want::StrMap),
];

const PAGERDUTY_KEYS: [(&str, Want); 14] = [
    ("routing_key", Want::Secret),
    ("routing_key_file", Want::Str),
    ("url", Want::Str),
    ("client", Want::Str),
    ("client_url", Want::Str),
    ("description", Want::Str),
    ("severity", Want::Str),
    ("source", Want::Str),
    ("details", Want::StrMap),
    ("images", Want::TableList),
    ("links", Want::TableList),
    ("component", Want::Str),
    ("group", Want::Str),
    ("class", Want::Str),
];

const SLACK_KEYS: [(&str, Want); 21] = [
    ("api_url", Want::Secret),
    ("api_url_file", Want::Str),
    ("channel", Want::Str),
    ("username", Want::Str),
    ("color", Want::Str),
    ("title", Want::Str),
    ("title_link", Want::Str),
    ("pretext", Want::Str),
    ("text", Want::Str),
    ("fields", Want::TableList),
    ("short_fields", Want::Bool),
    ("footer", Want::Str),
    ("fallback", Want::Str),
    ("callback_id", Want::Str),
    ("icon_emoji", Want::Str),
    ("icon_url", Want::Str),
    ("image_url", Want::Str),
    ("thumb_url", Want::Str),
    ("link_names", Want::Bool),
    ("mrkdwn_in", Want::StrList),
    ("actions", Want::TableList),
];

/// The URL of a webhook whose URL Pharos reads from a file: a host that
/// cannot exist (RFC 2606's `.invalid`) and the mask.
const URL_FILE_PLACEHOLDER: &str = "https://url-file.invalid/<secret>";

/// Slack's Web API endpoint, which a bot token posts to.
const SLACK_POST_MESSAGE: &str = "https://slack.com/api/chat.postMessage";

/// One notifier as an Alertmanager integration, or `None` when
/// Alertmanager would not accept what it says.
fn integration(kind: usize, n: &NotifierConfig) -> Option<Yaml> {
    let c = &n.config;
    // The first-party plugins default to Alertmanager's value for their
    // kind (their schemas' `x-pharos-send-resolved`).
    let default = KINDS.get(kind).is_some_and(|(_, _, d)| *d);
    let send_resolved = n.send_resolved.unwrap_or(default);
    let mut m = vec![kv("send_resolved", Yaml::Bool(send_resolved))];
    let keys: &[(&str, Want)] = match kind {
        0 => &EMAIL_KEYS,
        1 => &PAGERDUTY_KEYS,
        2 => &SLACK_KEYS,
        _ => &[],
    };
    let mut http = Vec::new();
    match kind {
        0 => {
            for k in ["to", "from", "smarthost"] {
                c.get(k)
                    .and_then(toml::Value::as_str)
                    .filter(|v| !v.is_empty())?;
            }
        }
        1 => {
            let has = |k: &str| {
                c.get(k)
                    .and_then(toml::Value::as_str)
                    .is_some_and(|v| !v.is_empty())
            };
            if !has("routing_key") && !has("routing_key_file") {
                m.push(kv("routing_key", s(SECRET)));
            }
        }
        2 => {
            let has = |k: &str| {
                c.get(k)
                    .and_then(toml::Value::as_str)
                    .is_some_and(|v| !v.is_empty())
            };
            let token = c
                .get("token")
                .and_then(toml::Value::as_str)
                .filter(|t| !t.is_empty());
            let token_file = c
                .get("token_file")
                .and_then(toml::Value::as_str)
                .filter(|t| !t.is_empty());
            if token.is_some() || token_file.is_some() {
                let mut auth = vec![kv("type", s("Bearer"))];
                if token.is_some() {
                    auth.push(kv("credentials", s(SECRET)));
                }
                if let Some(f) = token_file {
                    auth.push(kv("credentials_file", s(f)));
                }
                http.push(kv("authorization", Yaml::Map(auth)));
                if !has("api_url") && !has("api_url_file") {
                    m.push(kv("api_url", s(SLACK_POST_MESSAGE)));
                }
            } else if !has("api_url") && !has("api_url_file") {
                m.push(kv("api_url", s(SECRET)));
            }
        }
        _ => {
            let url = c
                .get("url")
                .and_then(toml::Value::as_str)
                .filter(|u| !u.is_empty());
            let url_file = c
                .get("url_file")
                .and_then(toml::Value::as_str)
                .filter(|u| !u.is_empty());
            match (url, url_file) {
                (Some(u), _) => m.push(kv("url", s(&masked_url(u)?))),
                (None, Some(f)) => {
                    m.push(Item::Comment(format!(
                        "url read from {f} (url_file, which Alertmanager 0.25 does not have)"
                    )));
                    m.push(kv("url", s(URL_FILE_PLACEHOLDER)));
                }
                (None, None) => return None,
            }
            if let Some(v) = c.get("max_alerts") {
                m.push(kv("max_alerts", plain(v, Want::Int)?));
            }
            if let Some(b) = c.get("basic_auth").and_then(toml::Value::as_table) {
                let mut auth = Vec::new();
                for (k, want) in [
                    ("username", Want::Str),
                    ("password", Want::Secret),
                    ("password_file", Want::Str),
                ] {
                    if let Some(v) = b.get(k).and_then(|v| plain(v, want)) {
                        auth.push(kv(k, v));
                    }
                }
                http.push(kv("basic_auth", Yaml::Map(auth)));
            }
            if let Some(a) = c.get("authorization").and_then(toml::Value::as_table) {
                let mut auth = Vec::new();
                for (k, want) in [
                    ("type", Want::Str),
                    ("credentials", Want::Secret),
                    ("credentials_file", Want::Str),
                ] {
                    if let Some(v) = a.get(k).and_then(|v| plain(v, want)) {
                        auth.push(kv(k, v));
                    }
                }
                http.push(kv("authorization", Yaml::Map(auth)));
            }
        }
    }
    if !http.is_empty() {
        m.insert(1, kv("http_config", Yaml::Map(http)));
    }
    for (k, want) in keys {
        if let Some(v) = c.get(*k) {
            // A value Alertmanager would not read makes the whole
            // integration unrenderable (the plugin's schema keeps this
            // from happening to a loaded config).
            if let Some(y) = plain(v, *want) {
                m.push(kv(k, y));
            } else if !matches!(want, Want::Secret) {
                return None;
            }
        }
    }
    Some(Yaml::Map(m))
}

/// A webhook URL with everything after the origin masked; `None` when it
/// is no http(s) URL Alertmanager would accept.
fn masked_url(u: &str) -> Option<String> {
    let parsed = url::Url::parse(u).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let host = parsed.host_str().filter(|h| !h.is_empty())?;
    let mut origin = format!("{}://{host}", parsed.scheme());
    if let Some(p) = parsed.port() {
        let _ = write!(origin, ":{p}");
    }
    let bare = parsed.path() == "/"
        && parsed.query().is_none()
        && parsed.fragment().is_none()
        && parsed.username().is_empty()
        && parsed.password().is_none();
    if bare {
        Some(format!("{origin}/"))
    } else {
        Some(format!("{origin}/{SECRET}"))
    }
}

// ------------------------------------------------------------- the writer

/// Writes a mapping's entries at `indent`, block style as go-yaml writes
/// them (sequences at their key's indentation).
fn write_map(out: &mut String, items: &[Item], indent: usize) {
    for item in items {
        write_item(out, item, indent, indent);
    }
}

/// Writes one entry; `first` is the indentation of its first line (the
/// column after `- ` for the first entry of a sequence item).
fn write_item(out: &mut String, item: &Item, first: usize, indent: usize) {
    let pad = " ".repeat(first);
    match item {
        Item::Comment(c) => {
            let _ = writeln!(out, "{pad}# {c}");
        }
        Item::Kv(k, v) => {
            let _ = write!(out, "{pad}{}:", scalar(k));
            match v {
                Yaml::Seq(items) if items.is_empty() => out.push_str(" []\n"),
                Yaml::Map(items) if items.is_empty() => out.push_str(" {}\n"),
                Yaml::Seq(items) => {
                    out.push('\n');
                    write_seq(out, items, indent);
                }
                Yaml::Map(items) => {
                    out.push('\n');
                    write_map(out, items, indent + 2);
                }
                other => {
                    let _ = writeln!(out, " {}", scalar_of(other));
                }
            }
        }
    }
}

fn write_seq(out: &mut String, items: &[Yaml], indent: usize) {
    let pad = " ".repeat(indent);
    for item in items {
        match item {
            Yaml::Map(entries) if !entries.is_empty() => {
                // Comments before the first key go above the dash.
                let lead = entries
                    .iter()
                    .take_while(|e| matches!(e, Item::Comment(_)))
                    .count();
                for e in entries.iter().take(lead) {
                    write_item(out, e, indent, indent + 2);
                }
                let mut rest = entries.iter().skip(lead);
                match rest.next() {
                    Some(first) => {
                        out.push_str(&pad);
                        out.push_str("- ");
                        write_item(out, first, 0, indent + 2);
                        for e in rest {
                            write_item(out, e, indent + 2, indent + 2);
                        }
                    }
                    None => {
                        let _ = writeln!(out, "{pad}- {{}}");
                    }
                }
            }
            Yaml::Map(_) => {
                let _ = writeln!(out, "{pad}- {{}}");
            }
            Yaml::Seq(inner) if inner.is_empty() => {
                let _ = writeln!(out, "{pad}- []");
            }
            Yaml::Seq(inner) => {
                let _ = writeln!(out, "{pad}-");
                write_seq(out, inner, indent + 2);
            }
            other => {
                let _ = writeln!(out, "{pad}- {}", scalar_of(other));
            }
        }
    }
}

fn scalar_of(v: &Yaml) -> String {
    match v {
        Yaml::Str(x) => scalar(x),
        Yaml::Int(i) => i.to_string(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Seq(_) | Yaml::Map(_) => String::new(),
    }
}

/// A string as a YAML scalar that go-yaml v2 (YAML 1.1) reads back as the
/// same string: plain when nothing in it could be read otherwise, else
/// single-quoted, or double-quoted when it holds line breaks or control
/// characters.
fn scalar(v: &str) -> String {
    if is_plain_safe(v) {
        return v.to_owned();
    }
    if v.chars().all(|c| !c.is_control()) {
        return format!("'{}'", v.replace('\'', "''"));
    }
    let mut out = String::from("\"");
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn is_plain_safe(v: &str) -> bool {
    const WORDS: [&str; 17] = [
        "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", "nan", ".nan", "inf",
        ".inf", "-.inf", "<<", "...",
    ];
    let Some(first) = v.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphanumeric() || "_/<-+".contains(first))
        || v.ends_with([' ', ':'])
        || v.contains(": ")
        || v.contains(" #")
        || WORDS.contains(&v.to_ascii_lowercase().as_str())
    {
        return false;
    }
    // Numbers, YAML 1.1 sexagesimals (`12:30`) and dates read as numbers
    // or times: a string starting like one needs a letter no number has.
    if (first.is_ascii_digit() || first == '-' || first == '+')
        && !v
            .chars()
            .any(|c| c.is_ascii_alphabetic() && !"eExXoObB".contains(c))
    {
        return false;
    }
    if first == '-' && v.chars().nth(1).is_none_or(|c| c == ' ') {
        return false;
    }
    v.chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-./@+:<>=!~\"|^$()%\\ *&?'#".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_read_back() {
        for v in [
            "plain",
            "yes",
            "No",
            "0",
            "1.5",
            "12:30",
            "",
            "it's",
            "a: b",
            "# not a comment",
            "- dash",
            "severity=\"page\"",
            "line\nbreak",
            "{{ template \"x\" . }}",
            "<secret>",
            "...",
            "@at",
            "tab\there",
            "45s",
            "2m30s",
            "12:30",
            "-3:-1",
            "1e3",
            "0x1F",
            "2024-01-01",
            "127.0.0.1:5001",
            "https://hooks.example.org/<secret>",
            "-",
            "- x",
            "-x",
            "trailing ",
            "a #b",
            "q=\"say \\\"hi\\\" \\\\ bye\"",
            "<<",
        ] {
            let text = format!("k: {}\n", scalar(v));
            let back: std::collections::BTreeMap<String, String> =
                serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(back.get("k").map(String::as_str), Some(v), "{text}");
        }
        // YAML 1.1 booleans are quoted for go-yaml v2; what cannot be
        // read otherwise is not.
        assert_eq!(scalar("y"), "'y'");
        assert_eq!(scalar("on"), "'on'");
        assert_eq!(scalar("12:30"), "'12:30'");
        assert_eq!(scalar("45s"), "45s");
        assert_eq!(scalar("<secret>"), "<secret>");
        assert_eq!(scalar("severity=\"page\""), "severity=\"page\"");
    }

    #[test]
    fn webhook_urls_keep_their_origin() {
        assert_eq!(
            masked_url("https://hooks.example.org/services/T0/B0/xyz?token=1").as_deref(),
            Some("https://hooks.example.org/<secret>")
        );
        assert_eq!(
            masked_url("http://127.0.0.1:5001/").as_deref(),
            Some("http://127.0.0.1:5001/")
        );
        assert_eq!(
            masked_url("http://user:pw@h/").as_deref(),
            Some("http://h/<secret>")
        );
        assert_eq!(masked_url("ftp://h/"), None);
    }

    #[test]
    fn layout() {
        let doc = vec![
            kv("a", Yaml::Seq(vec![s("x"), s("z")])),
            kv(
                "r",
                Yaml::Seq(vec![Yaml::Map(vec![
                    kv("name", s("nm")),
                    Item::Comment("c".into()),
                    kv(
                        "l",
                        Yaml::Seq(vec![Yaml::Map(vec![kv("k", Yaml::Bool(true))])]),
                    ),
                ])]),
            ),
        ];
        let mut out = String::new();
        write_map(&mut out, &doc, 0);
        assert_eq!(
            out,
            "a:\n- x\n- z\nr:\n- name: nm\n  # c\n  l:\n  - k: true\n"
        );
    }
}
