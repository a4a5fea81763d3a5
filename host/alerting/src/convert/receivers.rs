//! Receivers: Alertmanager's `*_configs` to Pharos' notifier plugins.
//!
//! `email_configs`, `pagerduty_configs`, `slack_configs` and
//! `webhook_configs` become notifiers of the `email`, `pagerduty`, `slack`
//! and `webhook` plugins, whose config keys are Alertmanager's: every key
//! the file sets is carried under the same name (`*_file` keys too, paths
//! unchanged). Before that, `global` is pushed down as Alertmanager pushes
//! it when it loads a file:
//!
//! - email: `smtp_from`, `smtp_hello`, `smtp_smarthost`,
//!   `smtp_auth_username`, `smtp_auth_secret`, `smtp_auth_identity` and
//!   `smtp_require_tls` fill the matching key the entry leaves empty;
//!   `smtp_auth_password` / `smtp_auth_password_file` only when the entry
//!   sets neither password key;
//! - slack: `slack_api_url` / `slack_api_url_file` when the entry sets
//!   neither `api_url` nor `api_url_file`;
//! - pagerduty: `pagerduty_url` when the entry has no `url`;
//! - `http_config` (slack, pagerduty, webhook): the global one, whole, when
//!   the entry has none.
//!
//! `http_config` has no key of its own in the plugins; what it says maps
//! onto the plugin's keys where one exists: `basic_auth` and
//! `authorization` (and the older `bearer_token[_file]`) are the webhook
//! plugin's `basic_auth` / `authorization`; a bearer `authorization` on a
//! Slack entry is the slack plugin's `token[_file]` (how Alertmanager 0.25
//! users call `chat.postMessage`). What has no equivalent is refused with
//! the key named: `oauth2`, `proxy_url`, a `tls_config` that sets
//! anything, other credentials on Slack or PagerDuty (those that come
//! from `global.http_config` are dropped with a warning instead: they are
//! meant for other receivers, and the service ignores them), and PagerDuty's
//! Events API v1 `service_key[_file]` (the plugin speaks Events API v2:
//! `routing_key`). `follow_redirects` and `enable_http2` are transport
//! details without a plugin key; a non-default value is dropped with a
//! warning.
//!
//! `send_resolved` is written out on every notifier with Alertmanager's
//! default for the kind when the file leaves it out (false for email and
//! Slack, true for PagerDuty and webhooks; Pharos' own default is true).
//!
//! The grants the plugins need to reach what the config names are
//! collected on the way ([`Grants`]): HTTP origins of literal URLs (and the
//! plugins' default endpoints), the SMTP smarthost as a TCP grant,
//! loopback and private IP literals, and the directories of absolute
//! `*_file` paths.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use super::am::{
    self, Authorization, BasicAuth, EmailConfig, Flag, Global, HttpConfig, PagerdutyConfig,
    SlackConfig, Text, TextMap, WebhookConfig,
};
use super::toml_out::{Table, Value};
use super::{ConvertError, Unsupported};

/// The notifier plugins an Alertmanager config can be converted to.
pub const FIRST_PARTY_NOTIFIERS: [&str; 4] = ["email", "pagerduty", "slack", "webhook"];

/// What converting the receivers collects besides the TOML.
#[derive(Debug, Default)]
pub(crate) struct Ctx {
    pub problems: Vec<Unsupported>,
    pub warnings: Vec<String>,
    pub grants: Grants,
}

/// Grants per plugin, collected from the configs.
#[derive(Debug, Default)]
pub(crate) struct Grants(pub BTreeMap<&'static str, PluginGrants>);

/// One plugin's grants.
#[derive(Debug, Default)]
pub(crate) struct PluginGrants {
    pub allow_http: BTreeSet<String>,
    pub allow_private_ips: BTreeSet<String>,
    pub allow_tcp: BTreeSet<String>,
    pub allow_read: BTreeSet<String>,
}

impl Grants {
    fn entry(&mut self, plugin: &'static str) -> &mut PluginGrants {
        self.0.entry(plugin).or_default()
    }

    /// `[plugins.<name>]` tables, in plugin order.
    pub(crate) fn tables(&self) -> Vec<(String, Table)> {
        self.0
            .iter()
            .filter_map(|(name, g)| {
                let mut t = Table::new();
                for (k, set) in [
                    ("allow_http", &g.allow_http),
                    ("allow_private_ips", &g.allow_private_ips),
                    ("allow_tcp", &g.allow_tcp),
                    ("allow_read", &g.allow_read),
                ] {
                    if !set.is_empty() {
                        t.push(
                            k,
                            Value::Array(set.iter().cloned().map(Value::Str).collect()),
                        );
                    }
                }
                (!t.is_empty()).then(|| ((*name).to_owned(), t))
            })
            .collect()
    }
}

fn set(t: &Option<Text>) -> bool {
    t.as_ref().is_some_and(|t| !t.0.is_empty())
}

/// `None` for an empty string: Alertmanager treats both as unset.
fn nonempty(t: &Option<Text>) -> Option<Text> {
    t.clone().filter(|t| !t.0.is_empty())
}

fn invalid(key: &str, message: impl Into<String>) -> ConvertError {
    ConvertError::Invalid {
        key: key.to_owned(),
        message: message.into(),
    }
}

/// Checks `global` as Alertmanager does when it reads it.
pub(crate) fn check_global(g: &Global) -> Result<(), ConvertError> {
    for ((a, av), (b, bv)) in [
        (
            ("smtp_auth_password", &g.smtp_auth_password),
            ("smtp_auth_password_file", &g.smtp_auth_password_file),
        ),
        (
            ("slack_api_url", &g.slack_api_url),
            ("slack_api_url_file", &g.slack_api_url_file),
        ),
        (
            ("opsgenie_api_key", &g.opsgenie_api_key),
            ("opsgenie_api_key_file", &g.opsgenie_api_key_file),
        ),
        (
            ("victorops_api_key", &g.victorops_api_key),
            ("victorops_api_key_file", &g.victorops_api_key_file),
        ),
    ] {
        if set(av) && set(bv) {
            return Err(invalid(
                &format!("global.{a}"),
                format!("at most one of {a} & {b} must be configured"),
            ));
        }
    }
    if let Some(h) = nonempty(&g.smtp_smarthost) {
        check_host_port("global.smtp_smarthost", h.as_str())?;
    }
    if let Some(u) = nonempty(&g.slack_api_url) {
        check_secret_url("global.slack_api_url", u.as_str())?;
    }
    for (k, v) in [
        ("pagerduty_url", &g.pagerduty_url),
        ("opsgenie_api_url", &g.opsgenie_api_url),
        ("wechat_api_url", &g.wechat_api_url),
        ("victorops_api_url", &g.victorops_api_url),
        ("telegram_api_url", &g.telegram_api_url),
        ("webex_api_url", &g.webex_api_url),
    ] {
        if let Some(u) = nonempty(v) {
            check_url(&format!("global.{k}"), u.as_str())?;
        }
    }
    if let Some(h) = &g.http_config {
        check_http(h, "global.http_config")?;
    }
    Ok(())
}

/// `host:port`, as Go's `net.SplitHostPort` wants it.
fn check_host_port(key: &str, s: &str) -> Result<(), ConvertError> {
    let missing = || invalid(key, format!("address {s}: missing port in address"));
    if let Some(rest) = s.strip_prefix('[') {
        let (_, after) = rest.split_once(']').ok_or_else(missing)?;
        return after.strip_prefix(':').map(|_| ()).ok_or_else(missing);
    }
    match s.rsplit_once(':') {
        Some((host, _)) if host.contains(':') => Err(invalid(
            key,
            format!("address {s}: too many colons in address"),
        )),
        Some(_) => Ok(()),
        None => Err(missing()),
    }
}

/// An absolute http(s) URL, as Alertmanager's URL types want it.
fn check_url(key: &str, s: &str) -> Result<url::Url, ConvertError> {
    let u = url::Url::parse(s).map_err(|_| {
        if s.contains("://") {
            invalid(key, format!("parse {s:?}: invalid URL"))
        } else {
            invalid(key, "unsupported scheme \"\" for URL")
        }
    })?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return Err(invalid(
            key,
            format!("unsupported scheme {:?} for URL", u.scheme()),
        ));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(invalid(key, "host is missing in URL"));
    }
    Ok(u)
}

/// A URL Alertmanager holds as a secret: `<secret>` (its own masked
/// rendering) reads back as it is.
fn check_secret_url(key: &str, s: &str) -> Result<(), ConvertError> {
    if s == crate::amyaml::SECRET {
        return Ok(());
    }
    check_url(key, s).map(|_| ())
}

/// What Alertmanager checks in an `http_config`.
fn check_http(h: &HttpConfig, key: &str) -> Result<(), ConvertError> {
    let bearer = set(&h.bearer_token) || set(&h.bearer_token_file);
    if h.basic_auth.is_some() && (h.oauth2.is_some() || bearer) {
        return Err(invalid(
            key,
            "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
        ));
    }
    let n = [
        h.basic_auth.is_some(),
        h.oauth2.is_some(),
        h.authorization.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if n > 1 {
        return Err(invalid(
            key,
            "at most one of basic_auth, oauth2 & authorization must be configured",
        ));
    }
    if set(&h.bearer_token) && set(&h.bearer_token_file) {
        return Err(invalid(
            key,
            "at most one of bearer_token & bearer_token_file must be configured",
        ));
    }
    if let Some(a) = &h.authorization {
        if bearer {
            return Err(invalid(
                key,
                "authorization is not compatible with bearer_token & bearer_token_file",
            ));
        }
        if set(&a.credentials) && set(&a.credentials_file) {
            return Err(invalid(
                key,
                "at most one of authorization credentials & credentials_file must be configured",
            ));
        }
        if a.kind
            .as_ref()
            .is_some_and(|k| k.0.eq_ignore_ascii_case("basic"))
        {
            return Err(invalid(
                key,
                "authorization type cannot be set to \"basic\", use \"basic_auth\" instead",
            ));
        }
    }
    if let Some(b) = &h.basic_auth
        && set(&b.password)
        && set(&b.password_file)
    {
        return Err(invalid(
            key,
            "at most one of basic_auth password & password_file must be configured",
        ));
    }
    if let Some(o) = &h.oauth2
        && set(&o.client_secret)
        && set(&o.client_secret_file)
    {
        return Err(invalid(
            key,
            "at most one of oauth2 client_secret & client_secret_file must be configured",
        ));
    }
    if h.proxy_connect_header.is_some() && !set(&h.proxy_url) {
        return Err(invalid(
            key,
            "if proxy_connect_header is configured proxy_url must also be configured",
        ));
    }
    Ok(())
}

/// The integration being converted, for messages.
struct Site<'a> {
    receiver: &'a str,
    /// `webhook_configs[0]`.
    integration: String,
    /// `receivers[2].webhook_configs[0]`.
    key: String,
}

impl Site<'_> {
    fn refuse(&self, ctx: &mut Ctx, key: &str, reason: impl Into<String>) {
        ctx.problems.push(Unsupported {
            receiver: self.receiver.to_owned(),
            integration: self.integration.clone(),
            key: (!key.is_empty()).then(|| key.to_owned()),
            reason: reason.into(),
        });
    }
}

/// Converts one receiver; refused integrations are recorded in `ctx` and
/// left out.
pub(crate) fn receiver(
    ctx: &mut Ctx,
    g: &Global,
    r: &am::Receiver,
    index: usize,
) -> Result<Table, ConvertError> {
    let name = r.name.clone().unwrap_or_default().0;
    let base = format!("receivers[{index}]");
    if name.is_empty() {
        return Err(invalid(&format!("{base}.name"), "missing name in receiver"));
    }
    let mut notifiers = Vec::new();
    let site = |kind: &str, i: usize| Site {
        receiver: &name,
        integration: format!("{kind}[{i}]"),
        key: format!("{base}.{kind}[{i}]"),
    };
    for (i, c) in r.email_configs.iter().flatten().enumerate() {
        if let Some(n) = email(ctx, g, c, &site("email_configs", i))? {
            notifiers.push(n);
        }
    }
    for (i, c) in r.pagerduty_configs.iter().flatten().enumerate() {
        if let Some(n) = pagerduty(ctx, g, c, &site("pagerduty_configs", i))? {
            notifiers.push(n);
        }
    }
    for (i, c) in r.slack_configs.iter().flatten().enumerate() {
        if let Some(n) = slack(ctx, g, c, &site("slack_configs", i))? {
            notifiers.push(n);
        }
    }
    for (i, c) in r.webhook_configs.iter().flatten().enumerate() {
        if let Some(n) = webhook(ctx, g, c, &site("webhook_configs", i))? {
            notifiers.push(n);
        }
    }
    for (kind, service) in r.unsupported_kinds() {
        ctx.problems.push(Unsupported {
            receiver: name.clone(),
            integration: kind.to_owned(),
            key: None,
            reason: format!(
                "Pharos has no notifier plugin for {service} yet (its notifiers: {}); write one with `pharos plugin new --kind notifier`, or leave this integration out",
                FIRST_PARTY_NOTIFIERS.join(", ")
            ),
        });
    }
    let mut t = Table::new();
    t.push_str("name", &name);
    if !notifiers.is_empty() {
        t.push("notifiers", Value::Sections(notifiers));
    }
    Ok(t)
}

fn notifier(plugin: &str, send_resolved: bool, config: Table) -> Table {
    let mut t = Table::new();
    t.push_str("plugin", plugin);
    t.push("send_resolved", Value::Bool(send_resolved));
    t.push("config", Value::Table(config));
    t
}

/// A serialized integration as a TOML table (same keys, same order).
fn to_table<T: serde::Serialize>(v: &T, key: &str) -> Result<Table, ConvertError> {
    let yaml = serde_yaml_ng::to_value(v).map_err(|e| invalid(key, e.to_string()))?;
    match yaml_to_toml(&yaml, false) {
        Some(Value::Table(t)) => Ok(t),
        _ => Ok(Table::new()),
    }
}

/// A YAML value as TOML; `null` is left out. With `all_strings`, every
/// scalar becomes a string (time intervals, where Alertmanager reads
/// strings).
pub(crate) fn yaml_to_toml(v: &serde_yaml_ng::Value, all_strings: bool) -> Option<Value> {
    use serde_yaml_ng::Value as Y;
    Some(match v {
        Y::Null => return None,
        Y::Bool(b) if all_strings => Value::Str(b.to_string()),
        Y::Bool(b) => Value::Bool(*b),
        Y::Number(n) if all_strings => Value::Str(n.to_string()),
        Y::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Str(n.to_string()),
        },
        Y::String(s) => Value::Str(s.clone()),
        Y::Sequence(items) => Value::Array(
            items
                .iter()
                .filter_map(|i| yaml_to_toml(i, all_strings))
                .collect(),
        ),
        Y::Mapping(m) => {
            let mut t = Table::new();
            for (k, v) in m {
                let k = match k {
                    Y::String(s) => s.clone(),
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    _ => continue,
                };
                if let Some(v) = yaml_to_toml(v, all_strings) {
                    t.push(&k, v);
                }
            }
            Value::Table(t)
        }
        Y::Tagged(t) => return yaml_to_toml(&t.value, all_strings),
    })
}

/// Records the grants a URL needs (a literal one; a template is reported).
fn grant_url(ctx: &mut Ctx, plugin: &'static str, site: &Site<'_>, key: &str, u: &str) {
    if u.contains("{{") {
        ctx.warnings.push(format!(
            "{}.{key} is a template: grant its origin in [plugins.{plugin}] allow_http by hand",
            site.key
        ));
        return;
    }
    let Ok(parsed) = url::Url::parse(u) else {
        return;
    };
    let Some(host) = parsed.host_str() else {
        return;
    };
    let mut origin = format!("{}://{host}", parsed.scheme());
    if let Some(p) = parsed.port() {
        origin.push_str(&format!(":{p}"));
    }
    let g = ctx.grants.entry(plugin);
    g.allow_http.insert(origin);
    for ip in private_ips(host) {
        g.allow_private_ips.insert(ip);
    }
}

/// The non-public addresses a host literal stands for (`localhost` is
/// both loopback addresses); names are resolved only at run time.
fn private_ips(host: &str) -> Vec<String> {
    if host.eq_ignore_ascii_case("localhost") {
        return vec!["127.0.0.1".into(), "::1".into()];
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) if !is_public(ip) => vec![ip.to_string()],
        _ => Vec::new(),
    }
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// Records the read grant a `*_file` path needs.
fn grant_file(ctx: &mut Ctx, plugin: &'static str, site: &Site<'_>, key: &str, path: &str) {
    let p = std::path::Path::new(path);
    if !p.is_absolute() {
        ctx.warnings.push(format!(
            "{}.{key} = {path:?} is relative: Alertmanager reads it relative to its config file's directory; make it absolute and grant its directory in [plugins.{plugin}] allow_read",
            site.key
        ));
        return;
    }
    match p.parent() {
        Some(dir) if dir.parent().is_some() => {
            ctx.grants
                .entry(plugin)
                .allow_read
                .insert(dir.display().to_string());
        }
        _ => ctx.warnings.push(format!(
            "{}.{key} = {path:?} is in the root directory: grants are per directory, and [plugins.{plugin}] allow_read = [\"/\"] would grant the whole file system; move the file into a directory of its own and grant that",
            site.key
        )),
    }
}

/// The effective `http_config` and whether it came from `global`.
fn effective_http<'a>(
    own: &'a Option<HttpConfig>,
    g: &'a Global,
) -> Option<(&'a HttpConfig, bool)> {
    match (own, &g.http_config) {
        (Some(h), _) => Some((h, false)),
        (None, Some(h)) => Some((h, true)),
        (None, None) => None,
    }
}

/// Refuses or warns about the parts of an `http_config` no plugin has;
/// returns the credentials to map.
fn http_common(
    ctx: &mut Ctx,
    site: &Site<'_>,
    h: &HttpConfig,
    from_global: bool,
) -> Result<(), ConvertError> {
    let origin = if from_global {
        " (from global.http_config)"
    } else {
        ""
    };
    if !from_global {
        check_http(h, &format!("{}.http_config", site.key))?;
    }
    if h.oauth2.is_some() {
        site.refuse(
            ctx,
            "http_config.oauth2",
            format!("Pharos' notifier plugins have no OAuth 2.0 client credentials flow{origin}"),
        );
    }
    if set(&h.proxy_url) || h.proxy_connect_header.is_some() {
        site.refuse(
            ctx,
            "http_config.proxy_url",
            format!("Pharos' notifier plugins connect directly, through no HTTP proxy{origin}"),
        );
    }
    if h.tls_config.as_ref().is_some_and(|t| !t.is_default()) {
        site.refuse(
            ctx,
            "http_config.tls_config",
            format!(
                "Pharos' notifier plugins verify servers against the system's roots, with no per-receiver TLS settings{origin}"
            ),
        );
    }
    for (k, v) in [
        ("follow_redirects", h.follow_redirects),
        ("enable_http2", h.enable_http2),
    ] {
        if v == Some(Flag(false)) {
            ctx.warnings.push(format!(
                "{}.http_config.{k} = false{origin} is dropped: the plugins' HTTP client has no such switch",
                site.key
            ));
        }
    }
    Ok(())
}

/// Credentials a plugin cannot send: refused when the entry sets them;
/// when they come from `global.http_config` (meant for other receivers,
/// and sent to this service too by Alertmanager, which it ignores) they
/// are dropped with a warning.
fn credentials_elsewhere(ctx: &mut Ctx, site: &Site<'_>, key: &str, why: &str, from_global: bool) {
    if from_global {
        ctx.warnings.push(format!(
            "{}.{key} (from global.http_config) is dropped: {why}",
            site.key
        ));
    } else {
        site.refuse(ctx, key, why);
    }
}

/// `bearer_token[_file]` as an `authorization`.
fn authorization_of(h: &HttpConfig) -> Option<Authorization> {
    if let Some(a) = &h.authorization {
        return Some(a.clone());
    }
    if set(&h.bearer_token) || set(&h.bearer_token_file) {
        return Some(Authorization {
            kind: None,
            credentials: nonempty(&h.bearer_token),
            credentials_file: nonempty(&h.bearer_token_file),
        });
    }
    None
}

fn send_resolved(f: Option<Flag>, default: bool) -> bool {
    f.map_or(default, |f| f.0)
}

fn email(
    ctx: &mut Ctx,
    g: &Global,
    c: &EmailConfig,
    site: &Site<'_>,
) -> Result<Option<Table>, ConvertError> {
    let key = &site.key;
    let mut c = c.clone();
    if !set(&c.to) {
        return Err(invalid(key, "missing to address in email config"));
    }
    let fill = |own: &mut Option<Text>, global: &Option<Text>| {
        if !set(own) {
            *own = nonempty(global);
        }
    };
    fill(&mut c.from, &g.smtp_from);
    fill(&mut c.hello, &g.smtp_hello);
    fill(&mut c.smarthost, &g.smtp_smarthost);
    fill(&mut c.auth_username, &g.smtp_auth_username);
    if !set(&c.auth_password) && !set(&c.auth_password_file) {
        c.auth_password = nonempty(&g.smtp_auth_password);
        c.auth_password_file = nonempty(&g.smtp_auth_password_file);
    }
    fill(&mut c.auth_secret, &g.smtp_auth_secret);
    fill(&mut c.auth_identity, &g.smtp_auth_identity);
    if c.require_tls.is_none() {
        c.require_tls = g.smtp_require_tls;
    }
    let Some(smarthost) = nonempty(&c.smarthost) else {
        return Err(invalid(key, "no global SMTP smarthost set"));
    };
    if !set(&c.from) {
        return Err(invalid(key, "no global SMTP from set"));
    }
    check_host_port(&format!("{key}.smarthost"), smarthost.as_str())?;
    if set(&c.auth_password) && set(&c.auth_password_file) {
        return Err(invalid(
            key,
            "at most one of auth_password & auth_password_file must be configured",
        ));
    }
    if let Some(h) = &c.headers {
        let mut seen = BTreeSet::new();
        let mut canonical = Vec::new();
        for (k, v) in &h.0 {
            let name = canonical_header(k.as_str());
            if !seen.insert(name.clone()) {
                return Err(invalid(
                    &format!("{key}.headers"),
                    format!("duplicate header {name:?} in email config"),
                ));
            }
            canonical.push((Text(name), v.clone()));
        }
        c.headers = Some(TextMap(canonical));
    }
    // Unset what is empty, so the plugin's defaults apply as
    // Alertmanager's would.
    for f in [
        &mut c.hello,
        &mut c.auth_username,
        &mut c.auth_password,
        &mut c.auth_password_file,
        &mut c.auth_secret,
        &mut c.auth_identity,
    ] {
        *f = nonempty(f);
    }
    if c.tls_config.as_ref().is_some_and(am::TlsConfig::is_default) {
        c.tls_config = None;
    }
    if let Some(v) = c.tls_config.as_ref().and_then(|t| nonempty(&t.max_version))
        && matches!(v.as_str(), "TLS10" | "TLS11")
    {
        site.refuse(
            ctx,
            "tls_config.max_version",
            format!("{v}: Pharos' email plugin speaks TLS 1.2 and 1.3 only"),
        );
    }
    let mut tcp = smarthost.0.clone();
    if let Some((host, _)) = tcp.rsplit_once(':') {
        for ip in private_ips(host) {
            ctx.grants.entry("email").allow_private_ips.insert(ip);
        }
    }
    if tcp.starts_with(':') {
        tcp.insert_str(0, "localhost");
    }
    ctx.grants.entry("email").allow_tcp.insert(tcp);
    if let Some(f) = nonempty(&c.auth_password_file) {
        grant_file(ctx, "email", site, "auth_password_file", f.as_str());
    }
    if let Some(t) = &c.tls_config {
        for (k, v) in [
            ("tls_config.ca_file", &t.ca_file),
            ("tls_config.cert_file", &t.cert_file),
            ("tls_config.key_file", &t.key_file),
        ] {
            if let Some(f) = nonempty(v) {
                grant_file(ctx, "email", site, k, f.as_str());
            }
        }
    }
    let config = to_table(&c, key)?;
    Ok(Some(notifier(
        "email",
        send_resolved(c.send_resolved, false),
        config,
    )))
}

/// Go's `textproto.CanonicalMIMEHeaderKey`: `x-foo-bar` → `X-Foo-Bar`
/// (left as it is when it holds a character a header name cannot).
fn canonical_header(k: &str) -> String {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if !k.chars().all(token) {
        return k.to_owned();
    }
    let mut upper = true;
    k.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

fn pagerduty(
    ctx: &mut Ctx,
    g: &Global,
    c: &PagerdutyConfig,
    site: &Site<'_>,
) -> Result<Option<Table>, ConvertError> {
    let key = &site.key;
    let mut c = c.clone();
    if !set(&c.routing_key)
        && !set(&c.routing_key_file)
        && !set(&c.service_key)
        && !set(&c.service_key_file)
    {
        return Err(invalid(
            key,
            "missing service or routing key in PagerDuty config",
        ));
    }
    if set(&c.routing_key) && set(&c.routing_key_file) {
        return Err(invalid(
            key,
            "at most one of routing_key & routing_key_file must be configured",
        ));
    }
    if set(&c.service_key) && set(&c.service_key_file) {
        return Err(invalid(
            key,
            "at most one of service_key & service_key_file must be configured",
        ));
    }
    if !set(&c.url) {
        c.url = nonempty(&g.pagerduty_url);
    }
    if let Some(u) = nonempty(&c.url) {
        check_url(&format!("{key}.url"), u.as_str())?;
    }
    for k in ["service_key", "service_key_file"] {
        let v = if k == "service_key" {
            &c.service_key
        } else {
            &c.service_key_file
        };
        if set(v) {
            site.refuse(
                ctx,
                k,
                "an Events API v1 key (\"Prometheus\" integration type); Pharos' pagerduty plugin speaks Events API v2 only: add an \"Events API v2\" integration to the PagerDuty service and set routing_key (or routing_key_file)",
            );
        }
    }
    if let Some((h, from_global)) = effective_http(&c.http_config, g) {
        http_common(ctx, site, h, from_global)?;
        if h.basic_auth.is_some() || authorization_of(h).is_some() {
            let why = "Pharos' pagerduty plugin sends no HTTP credentials (the routing key authenticates)";
            credentials_elsewhere(ctx, site, "http_config", why, from_global);
        }
    }
    match nonempty(&c.url) {
        Some(u) => grant_url(ctx, "pagerduty", site, "url", u.as_str()),
        None => {
            ctx.grants
                .entry("pagerduty")
                .allow_http
                .insert("https://events.pagerduty.com".into());
        }
    }
    if let Some(f) = nonempty(&c.routing_key_file) {
        grant_file(ctx, "pagerduty", site, "routing_key_file", f.as_str());
    }
    let config = to_table(&c, key)?;
    Ok(Some(notifier(
        "pagerduty",
        send_resolved(c.send_resolved, true),
        config,
    )))
}

fn slack(
    ctx: &mut Ctx,
    g: &Global,
    c: &SlackConfig,
    site: &Site<'_>,
) -> Result<Option<Table>, ConvertError> {
    let key = &site.key;
    let mut c = c.clone();
    if set(&c.api_url) && set(&c.api_url_file) {
        return Err(invalid(
            key,
            "at most one of api_url & api_url_file must be configured",
        ));
    }
    if !set(&c.api_url) && !set(&c.api_url_file) {
        c.api_url = nonempty(&g.slack_api_url);
        c.api_url_file = nonempty(&g.slack_api_url_file);
    }
    if !set(&c.api_url) && !set(&c.api_url_file) {
        return Err(invalid(
            key,
            "no global Slack API URL set either inline or in a file",
        ));
    }
    c.api_url = nonempty(&c.api_url);
    c.api_url_file = nonempty(&c.api_url_file);
    if let Some(u) = &c.api_url {
        check_secret_url(&format!("{key}.api_url"), u.as_str())?;
    }
    for (i, f) in c.fields.iter().flatten().enumerate() {
        for (name, v) in [("title", &f.title), ("value", &f.value)] {
            if !set(v) {
                return Err(invalid(
                    &format!("{key}.fields[{i}]"),
                    format!("missing {name} in Slack field configuration"),
                ));
            }
        }
    }
    for (i, a) in c.actions.iter().flatten().enumerate() {
        let k = format!("{key}.actions[{i}]");
        for (name, v) in [("type", &a.kind), ("text", &a.text)] {
            if !set(v) {
                return Err(invalid(
                    &k,
                    format!("missing {name} in Slack action configuration"),
                ));
            }
        }
        if !set(&a.url) && !set(&a.name) {
            return Err(invalid(
                &k,
                "missing name or url in Slack action configuration",
            ));
        }
    }
    let mut config = to_table(&c, key)?;
    if let Some((h, from_global)) = effective_http(&c.http_config, g) {
        http_common(ctx, site, h, from_global)?;
        let origin = if from_global {
            " (from global.http_config)"
        } else {
            ""
        };
        if h.basic_auth.is_some() {
            let why = "Pharos' slack plugin authenticates with a bot token only";
            credentials_elsewhere(ctx, site, "http_config.basic_auth", why, from_global);
        }
        if let Some(a) = authorization_of(h) {
            let bearer = a
                .kind
                .as_ref()
                .is_none_or(|k| k.0.is_empty() || k.0.eq_ignore_ascii_case("bearer"));
            if bearer {
                // The bot token of chat.postMessage.
                if let Some(t) = nonempty(&a.credentials) {
                    config.push_str("token", t.as_str());
                }
                if let Some(f) = nonempty(&a.credentials_file) {
                    config.push_str("token_file", f.as_str());
                    grant_file(
                        ctx,
                        "slack",
                        site,
                        "http_config.authorization.credentials_file",
                        f.as_str(),
                    );
                }
            } else {
                site.refuse(
                    ctx,
                    "http_config.authorization",
                    format!(
                        "Pharos' slack plugin sends a bot token as Bearer only, not {:?}{origin}",
                        a.kind.map(|k| k.0).unwrap_or_default()
                    ),
                );
            }
        }
    }
    match (&c.api_url, &c.api_url_file) {
        (Some(u), _) => grant_url(ctx, "slack", site, "api_url", u.as_str()),
        (None, Some(f)) => {
            ctx.warnings.push(format!(
                "{key}: the Slack URL is read from {f}: grant its origin (https://hooks.slack.com for incoming webhooks) in [plugins.slack] allow_http"
            ));
            grant_file(ctx, "slack", site, "api_url_file", f.as_str());
        }
        (None, None) => {}
    }
    Ok(Some(notifier(
        "slack",
        send_resolved(c.send_resolved, false),
        config,
    )))
}

fn webhook(
    ctx: &mut Ctx,
    g: &Global,
    c: &WebhookConfig,
    site: &Site<'_>,
) -> Result<Option<Table>, ConvertError> {
    let key = &site.key;
    let Some(u) = nonempty(&c.url) else {
        return Err(invalid(key, "missing URL in webhook config"));
    };
    check_url(&format!("{key}.url"), u.as_str())?;
    let mut config = to_table(c, key)?;
    if let Some((h, from_global)) = effective_http(&c.http_config, g) {
        http_common(ctx, site, h, from_global)?;
        if let Some(b) = &h.basic_auth {
            let b = BasicAuth {
                username: Some(b.username.clone().unwrap_or_default()),
                password: nonempty(&b.password),
                password_file: nonempty(&b.password_file),
            };
            if let Some(f) = &b.password_file {
                grant_file(
                    ctx,
                    "webhook",
                    site,
                    "http_config.basic_auth.password_file",
                    f.as_str(),
                );
            }
            config.push("basic_auth", Value::Table(to_table(&b, key)?));
        }
        if let Some(a) = authorization_of(h) {
            if let Some(f) = nonempty(&a.credentials_file) {
                grant_file(
                    ctx,
                    "webhook",
                    site,
                    "http_config.authorization.credentials_file",
                    f.as_str(),
                );
            }
            config.push("authorization", Value::Table(to_table(&a, key)?));
        }
    }
    grant_url(ctx, "webhook", site, "url", u.as_str());
    Ok(Some(notifier(
        "webhook",
        send_resolved(c.send_resolved, true),
        config,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_as_go() {
        assert_eq!(canonical_header("subject"), "Subject");
        assert_eq!(canonical_header("x-PRIORITY-level"), "X-Priority-Level");
        assert_eq!(canonical_header("with space"), "with space");
    }

    #[test]
    fn host_port() {
        assert!(check_host_port("k", "localhost:25").is_ok());
        assert!(check_host_port("k", "[::1]:25").is_ok());
        assert!(check_host_port("k", ":25").is_ok());
        assert_eq!(
            check_host_port("k", "h").map_err(|e| e.to_string()),
            Err("k: address h: missing port in address".into())
        );
        assert!(check_host_port("k", "::1:25").is_err());
    }

    #[test]
    fn private_addresses() {
        assert_eq!(private_ips("10.1.2.3"), vec!["10.1.2.3".to_owned()]);
        assert_eq!(private_ips("[::1]"), vec!["::1".to_owned()]);
        assert!(private_ips("8.8.8.8").is_empty());
        assert!(private_ips("example.org").is_empty());
        assert_eq!(private_ips("localhost").len(), 2);
    }
}
