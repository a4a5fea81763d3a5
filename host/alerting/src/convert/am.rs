//! Alertmanager 0.25's configuration file as serde types: every key it
//! accepts, and no other (an unknown key is an error, as Alertmanager's
//! strict YAML decoding makes it).
//!
//! The shapes follow Alertmanager's documentation (`docs/configuration.md`
//! of v0.25.0) and what `amtool check-config` 0.25 accepts and refuses;
//! where the two disagree the tool wins (PagerDuty images take `src`, not
//! `source`; `webhook_configs` has no `url_file` in 0.25; the message for a
//! missing sender is `no global SMTP from set`).
//!
//! Scalars are read as go-yaml v2 reads them into Alertmanager's Go types:
//! a number or boolean where a string is expected is that string
//! ([`Text`]), `yes`/`no`/`on`/`off` are booleans ([`Flag`]), and `null`
//! is an empty value. The integration types serialize back with the same
//! keys, in the documentation's order, which is how their settings reach
//! the notifier plugins (whose keys are Alertmanager's).

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// A string as go-yaml reads one: any scalar, in its text form.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub(crate) struct Text(pub String);

impl Text {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

struct TextVisitor;

impl Visitor<'_> for TextVisitor {
    type Value = Text;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
        Ok(Text(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
        Ok(Text(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
        Ok(Text::default())
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

/// A boolean as go-yaml v2 reads one (YAML 1.1: `yes`, `no`, `on`, `off`,
/// `y`, `n` too).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub(crate) struct Flag(pub bool);

struct FlagVisitor;

impl Visitor<'_> for FlagVisitor {
    type Value = Flag;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Flag, E> {
        Ok(Flag(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Flag, E> {
        match v.to_ascii_lowercase().as_str() {
            "y" | "yes" | "on" | "true" => Ok(Flag(true)),
            "n" | "no" | "off" | "false" => Ok(Flag(false)),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
    fn visit_unit<E: de::Error>(self) -> Result<Flag, E> {
        Ok(Flag(false))
    }
}

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FlagVisitor)
    }
}

/// A string-to-string map in the file's order (`match`, `headers`,
/// `details`); a `null` value is kept as `None` (some keys refuse it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TextMap(pub Vec<(Text, Option<Text>)>);

impl TextMap {
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_ref().map_or("", Text::as_str)))
    }
}

impl<'de> Deserialize<'de> for TextMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TextMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of strings")
            }
            fn visit_unit<E: de::Error>(self) -> Result<TextMap, E> {
                Ok(TextMap::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TextMap, A::Error> {
                let mut out: Vec<(Text, Option<Text>)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<Text, Option<Text>>()? {
                    if out.iter().any(|(seen, _)| *seen == k) {
                        return Err(de::Error::custom(format_args!(
                            "mapping key {:?} already defined",
                            k.0
                        )));
                    }
                    out.push((k, v));
                }
                Ok(TextMap(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for TextMap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.iter() {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AmConfig {
    pub global: Option<Global>,
    pub route: Option<Route>,
    pub receivers: Option<Vec<Receiver>>,
    pub inhibit_rules: Option<Vec<InhibitRule>>,
    pub templates: Option<Vec<Text>>,
    /// Deprecated in 0.25 in favour of `time_intervals`; same shape.
    pub mute_time_intervals: Option<Vec<NamedIntervals>>,
    pub time_intervals: Option<Vec<NamedIntervals>>,
}

/// `global`: defaults for the integrations, and `resolve_timeout`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Global {
    pub resolve_timeout: Option<Text>,
    pub http_config: Option<HttpConfig>,
    pub smtp_from: Option<Text>,
    pub smtp_hello: Option<Text>,
    pub smtp_smarthost: Option<Text>,
    pub smtp_auth_username: Option<Text>,
    pub smtp_auth_password: Option<Text>,
    pub smtp_auth_password_file: Option<Text>,
    pub smtp_auth_secret: Option<Text>,
    pub smtp_auth_identity: Option<Text>,
    pub smtp_require_tls: Option<Flag>,
    pub slack_api_url: Option<Text>,
    pub slack_api_url_file: Option<Text>,
    pub pagerduty_url: Option<Text>,
    pub opsgenie_api_url: Option<Text>,
    pub opsgenie_api_key: Option<Text>,
    pub opsgenie_api_key_file: Option<Text>,
    pub wechat_api_url: Option<Text>,
    // Read so the keys are known; WeChat has no plugin.
    #[allow(dead_code)]
    pub wechat_api_secret: Option<Text>,
    #[allow(dead_code)]
    pub wechat_api_corp_id: Option<Text>,
    pub victorops_api_url: Option<Text>,
    pub victorops_api_key: Option<Text>,
    pub victorops_api_key_file: Option<Text>,
    pub telegram_api_url: Option<Text>,
    pub webex_api_url: Option<Text>,
}

/// A node of the route tree.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Route {
    pub receiver: Option<Text>,
    pub group_by: Option<Vec<Text>>,
    #[serde(rename = "continue")]
    pub continue_matching: Option<Flag>,
    /// Deprecated equality matchers.
    #[serde(rename = "match")]
    pub match_eq: Option<TextMap>,
    /// Deprecated regex matchers.
    pub match_re: Option<TextMap>,
    pub matchers: Option<Vec<Text>>,
    pub group_wait: Option<Text>,
    pub group_interval: Option<Text>,
    pub repeat_interval: Option<Text>,
    pub mute_time_intervals: Option<Vec<Text>>,
    pub active_time_intervals: Option<Vec<Text>>,
    pub routes: Option<Vec<Route>>,
}

/// An inhibition rule, with the deprecated `*_match` / `*_match_re` maps.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InhibitRule {
    pub source_match: Option<TextMap>,
    pub source_match_re: Option<TextMap>,
    pub source_matchers: Option<Vec<Text>>,
    pub target_match: Option<TextMap>,
    pub target_match_re: Option<TextMap>,
    pub target_matchers: Option<Vec<Text>>,
    pub equal: Option<Vec<Text>>,
}

/// A named list of time intervals (the intervals are checked by
/// [`crate::timeinterval::TimeInterval`]'s own parsing).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NamedIntervals {
    pub name: Option<Text>,
    pub time_intervals: Option<Vec<serde_yaml_ng::Value>>,
}

/// A receiver: a name and its integrations. The kinds Pharos has no plugin
/// for are kept as raw YAML, only to be named in the error.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Receiver {
    pub name: Option<Text>,
    pub email_configs: Option<Vec<EmailConfig>>,
    pub pagerduty_configs: Option<Vec<PagerdutyConfig>>,
    pub slack_configs: Option<Vec<SlackConfig>>,
    pub webhook_configs: Option<Vec<WebhookConfig>>,
    pub discord_configs: Option<serde_yaml_ng::Value>,
    pub opsgenie_configs: Option<serde_yaml_ng::Value>,
    pub pushover_configs: Option<serde_yaml_ng::Value>,
    pub sns_configs: Option<serde_yaml_ng::Value>,
    pub telegram_configs: Option<serde_yaml_ng::Value>,
    pub victorops_configs: Option<serde_yaml_ng::Value>,
    pub webex_configs: Option<serde_yaml_ng::Value>,
    pub wechat_configs: Option<serde_yaml_ng::Value>,
}

impl Receiver {
    /// The integration kinds Pharos has no plugin for that this receiver
    /// uses (a present, non-empty list): their YAML key and the service.
    pub(crate) fn unsupported_kinds(&self) -> Vec<(&'static str, &'static str)> {
        let used = |v: &Option<serde_yaml_ng::Value>| match v {
            None | Some(serde_yaml_ng::Value::Null) => false,
            Some(serde_yaml_ng::Value::Sequence(s)) => !s.is_empty(),
            Some(_) => true,
        };
        [
            ("discord_configs", "Discord", &self.discord_configs),
            ("opsgenie_configs", "OpsGenie", &self.opsgenie_configs),
            ("pushover_configs", "Pushover", &self.pushover_configs),
            ("sns_configs", "Amazon SNS", &self.sns_configs),
            ("telegram_configs", "Telegram", &self.telegram_configs),
            ("victorops_configs", "VictorOps", &self.victorops_configs),
            ("webex_configs", "Webex", &self.webex_configs),
            ("wechat_configs", "WeChat", &self.wechat_configs),
        ]
        .into_iter()
        .filter(|(_, _, v)| used(v))
        .map(|(k, s, _)| (k, s))
        .collect()
    }
}

/// `http_config` (Prometheus' common HTTP client config as of 0.25).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HttpConfig {
    pub basic_auth: Option<BasicAuth>,
    pub authorization: Option<Authorization>,
    pub oauth2: Option<OAuth2>,
    pub bearer_token: Option<Text>,
    pub bearer_token_file: Option<Text>,
    pub proxy_url: Option<Text>,
    pub proxy_connect_header: Option<serde_yaml_ng::Value>,
    pub tls_config: Option<TlsConfig>,
    pub follow_redirects: Option<Flag>,
    pub enable_http2: Option<Flag>,
}

/// `basic_auth`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BasicAuth {
    pub username: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<Text>,
}

/// `authorization`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Authorization {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<Text>,
}

/// `oauth2` (refused by the conversion; read so its keys are checked).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OAuth2 {
    pub client_id: Option<Text>,
    pub client_secret: Option<Text>,
    pub client_secret_file: Option<Text>,
    pub scopes: Option<Vec<Text>>,
    pub token_url: Option<Text>,
    pub endpoint_params: Option<TextMap>,
    pub tls_config: Option<TlsConfig>,
    pub proxy_url: Option<Text>,
}

/// `tls_config`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TlsConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insecure_skip_verify: Option<Flag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_version: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_version: Option<Text>,
}

impl TlsConfig {
    /// Whether it sets nothing that changes a connection.
    pub(crate) fn is_default(&self) -> bool {
        let empty = |t: &Option<Text>| t.as_ref().is_none_or(|t| t.0.is_empty());
        empty(&self.ca_file)
            && empty(&self.cert_file)
            && empty(&self.key_file)
            && empty(&self.server_name)
            && empty(&self.min_version)
            && empty(&self.max_version)
            && !self.insecure_skip_verify.is_some_and(|f| f.0)
    }
}

/// `email_configs` entry. The serialized form is the email plugin's
/// config (its keys are Alertmanager's).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmailConfig {
    #[serde(skip_serializing)]
    pub send_resolved: Option<Flag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smarthost: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hello: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_username: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_password: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_password_file: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_secret: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_identity: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_tls: Option<Flag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<TextMap>,
}

/// `pagerduty_configs` entry.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PagerdutyConfig {
    #[serde(skip_serializing)]
    pub send_resolved: Option<Flag>,
    #[serde(skip_serializing)]
    pub http_config: Option<HttpConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing_key: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing_key_file: Option<Text>,
    /// Events API v1: no Pharos equivalent (refused).
    #[serde(skip_serializing)]
    pub service_key: Option<Text>,
    #[serde(skip_serializing)]
    pub service_key_file: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_url: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<TextMap>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<PagerdutyImage>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<PagerdutyLink>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<Text>,
}

/// A PagerDuty image.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PagerdutyImage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alt: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub href: Option<Text>,
}

/// A PagerDuty link.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PagerdutyLink {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub href: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
}

/// `slack_configs` entry.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SlackConfig {
    #[serde(skip_serializing)]
    pub send_resolved: Option<Flag>,
    #[serde(skip_serializing)]
    pub http_config: Option<HttpConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_url: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_url_file: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon_emoji: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_names: Option<Flag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions: Option<Vec<SlackAction>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_id: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<SlackField>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub footer: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mrkdwn_in: Option<Vec<Text>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pretext: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short_fields: Option<Flag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title_link: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_url: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumb_url: Option<Text>,
}

/// A Slack attachment button.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SlackAction {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub style: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirm: Option<SlackConfirm>,
}

/// A Slack button's confirmation dialog.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SlackConfirm {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dismiss_text: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ok_text: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<Text>,
}

/// A Slack attachment field.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SlackField {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short: Option<Flag>,
}

/// `webhook_configs` entry.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookConfig {
    #[serde(skip_serializing)]
    pub send_resolved: Option<Flag>,
    #[serde(skip_serializing)]
    pub http_config: Option<HttpConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_alerts: Option<u64>,
}
