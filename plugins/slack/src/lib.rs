//! `slack` notifier: Alertmanager 0.25's `slack_config` as a Pharos plugin.
//!
//! Posts one message with one attachment per notification, byte for byte
//! the JSON Alertmanager 0.25 posts, either to an incoming webhook
//! (`api_url` or `api_url_file`) or to the Web API's `chat.postMessage`
//! with a bot token (`token` or `token_file`, sent as
//! `Authorization: Bearer …`; `api_url` then defaults to
//! `https://slack.com/api/chat.postMessage` and `channel` is required).
//! With Alertmanager's defaults (schema defaults, rendered by the host):
//!
//! ```json
//! {"username":"Alertmanager","attachments":[{"title":"[FIRING:2] DiskFull (node page)",
//!  "title_link":"http://am.example/#/alerts?receiver=team","text":"",
//!  "fallback":"[FIRING:2] DiskFull (node page) | http://am.example/#/alerts?receiver=team",
//!  "callback_id":"","footer":"","color":"danger","mrkdwn_in":["fallback","pretext","text"]}]}
//! ```
//!
//! Every text option is a template rendered by the host before `notify`
//! (see `wit/notifier.wit`); its default in `schema.json` is
//! Alertmanager's default (`{{ template "slack.default.title" . }}`, …, and
//! the colour `danger` while firing, `good` once resolved). The plugin uses
//! the strings as they come; the title is cut to 1024 characters as
//! Alertmanager cuts it. A field's `short` defaults to `short_fields`.
//!
//! One deliberate difference: Alertmanager 0.25 drops an action's
//! `confirm`; this plugin sends it when configured.
//!
//! A 2xx answer is success (for `chat.postMessage`, unless its JSON says
//! `"ok": false`, a `permanent` error naming Slack's error code); 5xx, 429
//! and network failures are `transient`. The URL (whose path is the
//! webhook's secret) and the token never appear in errors.

#[macro_use]
#[path = "../../webhook/src/common.rs"]
mod common;

use common::{check_one_of, check_url, post_json, secret, to_go_json, truncate};
use pharos_sdk::{Error, Notification, Notifier};
use serde::{Deserialize, Serialize};

/// Where `chat.postMessage` lives; the `api_url` default with a token.
const POST_MESSAGE_URL: &str = "https://slack.com/api/chat.postMessage";

/// The plugin's configuration (Alertmanager's `slack_config` keys).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    #[serde(deserialize_with = "de_api_url")]
    api_url: Option<String>,
    #[serde(deserialize_with = "de_api_url_file")]
    api_url_file: Option<String>,
    #[serde(deserialize_with = "de_token")]
    token: Option<String>,
    #[serde(deserialize_with = "de_token_file")]
    token_file: Option<String>,
    #[serde(deserialize_with = "de_channel")]
    channel: Option<String>,
    #[serde(deserialize_with = "de_username")]
    username: String,
    #[serde(deserialize_with = "de_icon_emoji")]
    icon_emoji: String,
    #[serde(deserialize_with = "de_icon_url")]
    icon_url: String,
    #[serde(deserialize_with = "de_link_names")]
    link_names: bool,
    #[serde(deserialize_with = "de_title")]
    title: String,
    #[serde(deserialize_with = "de_title_link")]
    title_link: String,
    #[serde(deserialize_with = "de_pretext")]
    pretext: String,
    #[serde(deserialize_with = "de_text")]
    text: String,
    #[serde(deserialize_with = "de_fallback")]
    fallback: String,
    #[serde(deserialize_with = "de_callback_id")]
    callback_id: String,
    #[serde(deserialize_with = "de_image_url")]
    image_url: String,
    #[serde(deserialize_with = "de_thumb_url")]
    thumb_url: String,
    #[serde(deserialize_with = "de_footer")]
    footer: String,
    #[serde(deserialize_with = "de_color")]
    color: String,
    #[serde(deserialize_with = "de_mrkdwn_in")]
    mrkdwn_in: Vec<String>,
    #[serde(deserialize_with = "de_short_fields")]
    short_fields: bool,
    #[serde(deserialize_with = "de_fields")]
    fields: Vec<FieldConfig>,
    #[serde(deserialize_with = "de_actions")]
    actions: Vec<Action>,
}

keyed! {
    de_api_url: Option<String> = "api_url";
    de_api_url_file: Option<String> = "api_url_file";
    de_token: Option<String> = "token";
    de_token_file: Option<String> = "token_file";
    de_channel: Option<String> = "channel";
    de_username: String = "username";
    de_icon_emoji: String = "icon_emoji";
    de_icon_url: String = "icon_url";
    de_link_names: bool = "link_names";
    de_title: String = "title";
    de_title_link: String = "title_link";
    de_pretext: String = "pretext";
    de_text: String = "text";
    de_fallback: String = "fallback";
    de_callback_id: String = "callback_id";
    de_image_url: String = "image_url";
    de_thumb_url: String = "thumb_url";
    de_footer: String = "footer";
    de_color: String = "color";
    de_mrkdwn_in: Vec<String> = "mrkdwn_in";
    de_short_fields: bool = "short_fields";
    de_fields: Vec<FieldConfig> = "fields";
    de_actions: Vec<Action> = "actions";
}

/// One attachment field as configured.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldConfig {
    #[serde(default)]
    title: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    short: Option<bool>,
}

/// One attachment field as sent (`config.SlackField`).
#[derive(Serialize)]
struct Field<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    title: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    value: &'a str,
    short: bool,
}

/// A message action (button), as configured and as sent
/// (`config.SlackAction`).
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    text: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    url: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    style: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    confirm: Option<Confirm>,
}

/// An action's confirmation dialog (`config.SlackConfirmationField`).
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    text: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    ok_text: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    dismiss_text: String,
}

/// The message (`notify/slack.request`).
#[derive(Serialize)]
struct Request<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    channel: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    username: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    icon_emoji: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    icon_url: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    link_names: bool,
    attachments: [Attachment<'a>; 1],
}

/// The message's attachment (`notify/slack.attachment`).
#[derive(Serialize)]
struct Attachment<'a> {
    #[serde(skip_serializing_if = "String::is_empty")]
    title: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    title_link: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pretext: &'a str,
    text: &'a str,
    fallback: &'a str,
    callback_id: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<Field<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    actions: &'a [Action],
    #[serde(skip_serializing_if = "str::is_empty")]
    image_url: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    thumb_url: &'a str,
    footer: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    color: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    mrkdwn_in: &'a [String],
}

/// Alertmanager's `mrkdwn_in` when none is configured.
fn default_mrkdwn_in() -> Vec<String> {
    ["fallback", "pretext", "text"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

impl Config {
    fn check(&self) -> Result<(), Error> {
        let token = self.token.is_some() || self.token_file.is_some();
        check_one_of(
            "api_url",
            self.api_url.as_deref(),
            self.api_url_file.as_deref(),
            !token,
        )?;
        check_one_of(
            "token",
            self.token.as_deref(),
            self.token_file.as_deref(),
            false,
        )?;
        if let Some(url) = &self.api_url {
            check_url("api_url", url)?;
        }
        if token && self.channel.as_deref().is_none_or(str::is_empty) {
            return Err(Error::config(
                "`channel` is required with `token` (chat.postMessage needs a channel)",
            ));
        }
        for (i, f) in self.fields.iter().enumerate() {
            if f.title.is_empty() {
                return Err(Error::config(format!("`fields[{i}].title` is required")));
            }
            if f.value.is_empty() {
                return Err(Error::config(format!("`fields[{i}].value` is required")));
            }
        }
        for (i, a) in self.actions.iter().enumerate() {
            if a.kind.is_empty() {
                return Err(Error::config(format!("`actions[{i}].type` is required")));
            }
            if a.text.is_empty() {
                return Err(Error::config(format!("`actions[{i}].text` is required")));
            }
            if a.url.is_empty() && (a.name.is_empty() || a.value.is_empty()) {
                return Err(Error::config(format!(
                    "`actions[{i}]` needs a `url`, or a `name` and a `value`"
                )));
            }
        }
        Ok(())
    }

    /// The message, as Alertmanager encodes it.
    fn body(&self) -> Result<Vec<u8>, Error> {
        let default_mrkdwn;
        let mrkdwn_in = if self.mrkdwn_in.is_empty() {
            default_mrkdwn = default_mrkdwn_in();
            &default_mrkdwn
        } else {
            &self.mrkdwn_in
        };
        let fields = self
            .fields
            .iter()
            .map(|f| Field {
                title: &f.title,
                value: &f.value,
                short: f.short.unwrap_or(self.short_fields),
            })
            .collect();
        let request = Request {
            channel: self.channel.as_deref().unwrap_or_default(),
            username: &self.username,
            icon_emoji: &self.icon_emoji,
            icon_url: &self.icon_url,
            link_names: self.link_names,
            attachments: [Attachment {
                title: truncate(&self.title, 1024).text,
                title_link: &self.title_link,
                pretext: &self.pretext,
                text: &self.text,
                fallback: &self.fallback,
                callback_id: &self.callback_id,
                fields,
                actions: &self.actions,
                image_url: &self.image_url,
                thumb_url: &self.thumb_url,
                footer: &self.footer,
                color: &self.color,
                mrkdwn_in,
            }],
        };
        to_go_json(&request)
    }
}

/// What `chat.postMessage` answers (`ok` false: `error` says why).
#[derive(Deserialize)]
struct ApiAnswer {
    ok: bool,
    #[serde(default)]
    error: String,
}

struct Slack;

impl Notifier for Slack {
    type Config = Config;
    const NAME: &'static str = "slack";
    const DESCRIPTION: &'static str =
        "Posts notifications to Slack (incoming webhook or chat.postMessage) as Alertmanager does.";
    const CONFIG_SCHEMA: &'static str = include_str!("../schema.json");

    fn validate(config: &Config) -> Result<(), Error> {
        config.check()
    }

    fn notify(config: Config, _n: Notification) -> Result<(), Error> {
        let token = secret(
            "token",
            config.token.as_deref(),
            config.token_file.as_deref(),
        )?;
        let url = match secret(
            "api_url",
            config.api_url.as_deref(),
            config.api_url_file.as_deref(),
        )? {
            Some(url) => url,
            None if token.is_some() => POST_MESSAGE_URL.to_owned(),
            None => {
                return Err(Error::config(
                    "one of `api_url` and `api_url_file` is required",
                ));
            }
        };
        if config.api_url.is_none() {
            check_url("api_url_file", &url)?;
        }
        let body = config.body()?;
        let mut headers = Vec::new();
        if let Some(t) = token {
            headers.push(("Authorization", format!("Bearer {t}")));
        }
        let response = post_json(&url, body, &headers)?;
        // The Web API answers 200 with `"ok": false` when it refuses;
        // incoming webhooks answer `ok` as text.
        if let Ok(answer) = serde_json::from_slice::<ApiAnswer>(response.body())
            && !answer.ok
        {
            return Err(Error::permanent(format!(
                "Slack refused the message: {}",
                if answer.error.is_empty() {
                    "no reason given"
                } else {
                    &answer.error
                }
            )));
        }
        Ok(())
    }
}

pharos_sdk::export!(notifier: Slack);

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> Result<Config, Error> {
        let c = pharos_sdk::parse_config::<Config>(json)?;
        c.check()?;
        Ok(c)
    }

    #[test]
    fn bad_configs_name_the_key() {
        let cases = [
            (r#"{}"#, "`api_url`"),
            (r#"{"api_url": "x", "api_url_file": "y"}"#, "`api_url_file`"),
            (r#"{"api_url": "hooks.slack.com"}"#, "`api_url`"),
            (r#"{"token": "xoxb-1"}"#, "`channel`"),
            (
                r#"{"token": "xoxb-1", "token_file": "/f", "channel": "a"}"#,
                "`token_file`",
            ),
            (
                r#"{"api_url": "https://x", "link_names": "yes"}"#,
                "`link_names`",
            ),
            (
                r#"{"api_url": "https://x", "fields": [{"title": "t"}]}"#,
                "fields[0].value",
            ),
            (
                r#"{"api_url": "https://x", "actions": [{"type": "button", "text": "t"}]}"#,
                "actions[0]",
            ),
            (r#"{"api_url": "https://x", "colour": "red"}"#, "colour"),
        ];
        for (json, key) in cases {
            let err = config(json).err().map(|e| e.message().to_owned());
            assert!(
                err.as_deref().is_some_and(|m| m.contains(key)),
                "{json}: {err:?} should name {key}"
            );
        }
        assert!(
            config(r#"{"token_file": "/etc/slack", "channel": "{{ .CommonLabels.team }}"}"#)
                .is_ok()
        );
        assert!(config(r#"{"api_url": "{{ .CommonAnnotations.hook }}"}"#).is_ok());
    }

    #[test]
    fn defaults_match_alertmanager() {
        let c = config(
            r#"{"api_url": "https://x", "username": "Alertmanager", "title": "T", "title_link": "L",
                "text": "", "fallback": "F", "callback_id": "", "footer": "", "color": "danger"}"#,
        );
        let body = c.and_then(|c| c.body()).unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&body),
            "{\"username\":\"Alertmanager\",\"attachments\":[{\"title\":\"T\",\"title_link\":\"L\",\
             \"text\":\"\",\"fallback\":\"F\",\"callback_id\":\"\",\"footer\":\"\",\"color\":\"danger\",\
             \"mrkdwn_in\":[\"fallback\",\"pretext\",\"text\"]}]}\n"
        );
    }
}
