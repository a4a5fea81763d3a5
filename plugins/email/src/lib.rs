//! `email` notifier: Alertmanager 0.25's `email_config` as a Pharos plugin.
//!
//! Sends each notification as one email through the `smarthost`
//! (`host:port`) over SMTP, the way Alertmanager's email notifier does:
//!
//! - Port 465 is implicit TLS (TLS from the first byte); any other port
//!   starts in clear text and, with `require_tls` (default true), upgrades
//!   with `STARTTLS` or fails if the server does not offer it. (Alertmanager
//!   0.25 also demands `STARTTLS` on port 465 unless `require_tls: false`;
//!   Pharos counts the implicit TLS as satisfying `require_tls`.)
//! - `EHLO <hello>` (default `localhost`), `HELO` if `EHLO` is refused.
//! - When the server advertises `AUTH` and `auth_username` is set, the
//!   first advertised mechanism among `CRAM-MD5` (`auth_secret`), `PLAIN`
//!   (`auth_password` or `auth_password_file`, with `auth_identity`) and
//!   `LOGIN` that has its secret — Alertmanager's choice. A password is
//!   never sent in clear text except to a server on `localhost` (see
//!   `smtp.rs`).
//! - `MAIL FROM` the one address of `from`, `RCPT TO` each address of `to`
//!   (a comma-separated address list, e.g. `Ops <ops@example.org>,
//!   dba@example.org`), then the message: the `headers` (Q-encoded when
//!   not ASCII; `From` and `To` default to `from` and `to`, `Subject` to
//!   Alertmanager's `email.default.subject` through the schema), a
//!   `Message-Id`, a `Date`, and a `multipart/alternative` body with the
//!   `text` part (when not empty) and the `html` part (when not empty;
//!   default `email.default.html`), both quoted-printable (`message.rs`).
//!
//! Every string option is a template the host renders before `notify` (see
//! `wit/notifier.wit`); `schema.json` gives Alertmanager's defaults, so
//! the plugin only ever sees final text. `validate-config` accepts values
//! that still hold `{{ … }}` and checks the others (`smarthost` is
//! `host:port`, `from` one address, `to` an address list, header names).
//!
//! TLS (`tls_config`: `ca_file`, `server_name`, `insecure_skip_verify`,
//! `cert_file` and `key_file` for a client certificate, `min_version`,
//! `max_version`) runs inside the component with rustls and a pure-Rust
//! crypto provider; `transport.rs` says why. The server's certificate is
//! verified against Mozilla's roots, or only against the CAs of `ca_file`,
//! for the name `server_name` (default: the smarthost's host).
//!
//! `send_resolved` (a key of the notifier entry, not of this
//! configuration) defaults to false for email, Alertmanager's default: the
//! schema says so with `x-pharos-send-resolved`, and the host applies it.
//!
//! Grants: `allow_tcp = ["<smarthost>"]` (a name there may be looked up
//! without `allow_dns`), `allow_private_ips` for a relay on a private
//! address, `allow_read` for `auth_password_file` and the `tls_config`
//! files.
//!
//! Errors: a connection or TLS failure and a 4xx reply are `transient`
//! (retried; Alertmanager retries every SMTP failure), a 5xx reply (a
//! refused password, an unknown recipient) or authentication that cannot
//! work is `permanent`, a bad option is `config` naming the key. Passwords
//! and secrets never appear in errors or logs.

#[macro_use]
#[path = "../../webhook/src/common.rs"]
mod common;
mod message;
mod smtp;
mod transport;

use common::{check_one_of, secret};
use pharos_sdk::{Error, Notification, Notifier};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The port on which Alertmanager speaks implicit TLS.
const IMPLICIT_TLS_PORT: u16 = 465;
/// Headers the plugin writes itself: setting them would break the message.
const RESERVED_HEADERS: [&str; 3] = ["Content-Type", "Mime-Version", "Content-Transfer-Encoding"];
/// Headers whose defaults come from the schema: the host adds them under
/// this spelling, so an operator's other spelling of the same name wins.
const SCHEMA_DEFAULT_HEADERS: [&str; 1] = ["Subject"];

/// The plugin's configuration: Alertmanager's `email_config` keys.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    #[serde(deserialize_with = "de_to")]
    to: Option<String>,
    #[serde(deserialize_with = "de_from")]
    from: Option<String>,
    #[serde(deserialize_with = "de_hello")]
    hello: Option<String>,
    #[serde(deserialize_with = "de_smarthost")]
    smarthost: Option<String>,
    #[serde(deserialize_with = "de_auth_username")]
    auth_username: Option<String>,
    #[serde(deserialize_with = "de_auth_password")]
    auth_password: Option<String>,
    #[serde(deserialize_with = "de_auth_password_file")]
    auth_password_file: Option<String>,
    #[serde(deserialize_with = "de_auth_secret")]
    auth_secret: Option<String>,
    #[serde(deserialize_with = "de_auth_identity")]
    auth_identity: Option<String>,
    #[serde(deserialize_with = "de_headers")]
    headers: BTreeMap<String, String>,
    #[serde(deserialize_with = "de_html")]
    html: Option<String>,
    #[serde(deserialize_with = "de_text")]
    text: Option<String>,
    #[serde(deserialize_with = "de_require_tls")]
    require_tls: Option<bool>,
    #[serde(deserialize_with = "de_tls_config")]
    tls_config: TlsConfig,
}

keyed! {
    de_to: Option<String> = "to";
    de_from: Option<String> = "from";
    de_hello: Option<String> = "hello";
    de_smarthost: Option<String> = "smarthost";
    de_auth_username: Option<String> = "auth_username";
    de_auth_password: Option<String> = "auth_password";
    de_auth_password_file: Option<String> = "auth_password_file";
    de_auth_secret: Option<String> = "auth_secret";
    de_auth_identity: Option<String> = "auth_identity";
    de_headers: BTreeMap<String, String> = "headers";
    de_html: Option<String> = "html";
    de_text: Option<String> = "text";
    de_require_tls: Option<bool> = "require_tls";
    de_tls_config: TlsConfig = "tls_config";
}

/// `tls_config`: Prometheus' common `TLSConfig` keys.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    ca_file: Option<String>,
    cert_file: Option<String>,
    key_file: Option<String>,
    server_name: Option<String>,
    insecure_skip_verify: bool,
    min_version: Option<String>,
    max_version: Option<String>,
}

/// Whether a value still holds a template (validated after rendering).
fn templated(value: &str) -> bool {
    value.contains("{{")
}

/// `host:port` of `smarthost`; `[v6]:port` for an IPv6 address.
fn split_smarthost(value: &str) -> Result<(String, u16), Error> {
    let err = || {
        Error::config(format!(
            "`smarthost` must be host:port (e.g. smtp.example.org:587), got {value:?}"
        ))
    };
    let (host, port) = if let Some(v6) = value.strip_prefix('[') {
        let (host, rest) = v6.split_once(']').ok_or_else(err)?;
        (host, rest.strip_prefix(':').ok_or_else(err)?)
    } else {
        let (host, port) = value.rsplit_once(':').ok_or_else(err)?;
        if host.contains(':') {
            return Err(err());
        }
        (host, port)
    };
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(err)?;
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(err());
    }
    Ok((host.to_owned(), port))
}

/// `tls_config.min_version`/`max_version`: Go's names. rustls speaks TLS
/// 1.2 and 1.3 only, so a lower minimum means TLS 1.2.
fn tls_version(key: &str, value: Option<&str>) -> Result<Option<u8>, Error> {
    match value {
        None | Some("") => Ok(None),
        Some("TLS10") => Ok(Some(0)),
        Some("TLS11") => Ok(Some(1)),
        Some("TLS12") => Ok(Some(2)),
        Some("TLS13") => Ok(Some(3)),
        Some(_) => Err(Error::config(format!(
            "`tls_config.{key}` must be one of TLS10, TLS11, TLS12, TLS13"
        ))),
    }
}

impl Config {
    fn check(&self) -> Result<(), Error> {
        let required = |key: &str, value: &Option<String>| match value.as_deref() {
            None | Some("") => Err(Error::config(format!("`{key}` is required"))),
            Some(v) => Ok(v.to_owned()),
        };
        let smarthost = required("smarthost", &self.smarthost)?;
        if !templated(&smarthost) {
            split_smarthost(&smarthost)?;
        }
        let from = required("from", &self.from)?;
        if !templated(&from) {
            one_address(&from)?;
        }
        if let Some(hello) = self.hello.as_deref()
            && !templated(hello)
        {
            check_hello(hello)?;
        }
        let to = required("to", &self.to)?;
        if !templated(&to) {
            recipients(&to)?;
        }
        check_one_of(
            "auth_password",
            self.auth_password.as_deref(),
            self.auth_password_file.as_deref(),
            false,
        )?;
        self.final_headers("", "")?;
        let tls = &self.tls_config;
        match (tls.cert_file.as_deref(), tls.key_file.as_deref()) {
            (Some(_), None) => {
                return Err(Error::config(
                    "`tls_config.key_file` is required with `tls_config.cert_file`",
                ));
            }
            (None, Some(_)) => {
                return Err(Error::config(
                    "`tls_config.cert_file` is required with `tls_config.key_file`",
                ));
            }
            _ => {}
        }
        for (key, value) in [
            ("ca_file", &tls.ca_file),
            ("cert_file", &tls.cert_file),
            ("key_file", &tls.key_file),
        ] {
            if value.as_deref() == Some("") {
                return Err(Error::config(format!(
                    "`tls_config.{key}` must not be empty"
                )));
            }
        }
        let min = tls_version("min_version", tls.min_version.as_deref())?;
        let max = tls_version("max_version", tls.max_version.as_deref())?;
        if max.is_some_and(|m| m < 2) {
            return Err(Error::config(
                "`tls_config.max_version`: Pharos speaks TLS 1.2 and 1.3 only (TLS12 or TLS13)",
            ));
        }
        if let (Some(min), Some(max)) = (min, max)
            && min > max
        {
            return Err(Error::config(
                "`tls_config.min_version` is above `tls_config.max_version`",
            ));
        }
        Ok(())
    }

    /// The headers to write, canonical names sorted, with `From` and `To`
    /// defaulting to the `from` and `to` given.
    fn final_headers(&self, from: &str, to: &str) -> Result<Vec<(String, String)>, Error> {
        let mut by_name: BTreeMap<String, Vec<(&str, &str)>> = BTreeMap::new();
        for (name, value) in &self.headers {
            if !message::is_valid_header_name(name) {
                return Err(Error::config(format!(
                    "`headers`: {name:?} is not a header name (letters, digits and !#$%&'*+-.^_`|~)"
                )));
            }
            let canonical = message::canonical_header(name);
            if RESERVED_HEADERS.contains(&canonical.as_str()) {
                return Err(Error::config(format!(
                    "`headers.{name}`: the plugin writes {canonical} itself"
                )));
            }
            by_name
                .entry(canonical)
                .or_default()
                .push((name.as_str(), value.as_str()));
        }
        let mut headers = Vec::new();
        for (canonical, mut spellings) in by_name {
            if spellings.len() > 1 && SCHEMA_DEFAULT_HEADERS.contains(&canonical.as_str()) {
                // The host added the schema's default under the canonical
                // name; the operator's own spelling wins.
                spellings.retain(|(name, _)| *name != canonical);
            }
            match spellings.as_slice() {
                [(_, value)] => headers.push((canonical, (*value).to_owned())),
                _ => {
                    return Err(Error::config(format!(
                        "`headers`: duplicate header {canonical} (header names are case-insensitive)"
                    )));
                }
            }
        }
        for (name, default) in [("From", from), ("To", to)] {
            if !headers.iter().any(|(n, _)| n == name) {
                headers.push((name.to_owned(), default.to_owned()));
            }
        }
        headers.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(headers)
    }
}

/// `hello`, which goes on the `EHLO` line as it is: one word of printable
/// ASCII (a rendered template must not smuggle in a second command).
fn check_hello(hello: &str) -> Result<(), Error> {
    if hello.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(Error::config(format!(
            "`hello` must be a host name without spaces or control characters, got {hello:?}"
        )))
    }
}

/// The single address of `from`.
fn one_address(from: &str) -> Result<String, Error> {
    match message::address_list(from).as_deref() {
        Some([one]) => Ok(one.clone()),
        Some(more) => Err(Error::config(format!(
            "`from` must be exactly one address (got {})",
            more.len()
        ))),
        None => Err(Error::config(format!(
            "`from`: {from:?} is not an email address"
        ))),
    }
}

/// The addresses of `to`.
fn recipients(to: &str) -> Result<Vec<String>, Error> {
    message::address_list(to).ok_or_else(|| {
        Error::config(format!(
            "`to`: {to:?} is not a comma-separated list of email addresses"
        ))
    })
}

/// Random bytes as hex (multipart boundaries, `Message-Id`); the time when
/// the host's random source fails, since these need only be unique.
fn random_hex(n: usize, fallback: i64) -> String {
    let mut bytes = vec![0u8; n];
    if getrandom::getrandom(&mut bytes).is_err() {
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (fallback >> ((i % 8) * 8)) as u8 ^ (i as u8);
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A file of `tls_config` (through `allow_read`): not granted is a
/// `config` error, a missing file `transient`, both naming the key.
fn read_tls_file(key: &str, path: Option<&str>) -> Result<Option<Vec<u8>>, Error> {
    let Some(path) = path else { return Ok(None) };
    pharos_sdk::fs::read(path).map(Some).map_err(|e| {
        let err: Error = e.into();
        match err {
            Error::Config(m) => Error::config(format!("`tls_config.{key}`: {m}")),
            other => Error::transient(format!("`tls_config.{key}`: {}", other.message())),
        }
    })
}

struct Email;

impl Notifier for Email {
    type Config = Config;
    const NAME: &'static str = "email";
    const DESCRIPTION: &'static str = "Sends notifications as email over SMTP (STARTTLS or implicit TLS, AUTH) as Alertmanager does.";
    const CONFIG_SCHEMA: &'static str = include_str!("../schema.json");

    fn validate(config: &Config) -> Result<(), Error> {
        config.check()
    }

    fn notify(config: Config, _n: Notification) -> Result<(), Error> {
        let (host, port) = split_smarthost(config.smarthost.as_deref().unwrap_or_default())?;
        let from_list = config.from.as_deref().unwrap_or_default();
        let to_list = config.to.as_deref().unwrap_or_default();
        let from = one_address(from_list)?;
        let to = recipients(to_list)?;
        let headers = config.final_headers(from_list, to_list)?;

        let password = secret(
            "auth_password",
            config.auth_password.as_deref(),
            config.auth_password_file.as_deref(),
        )?
        .unwrap_or_default();
        let credentials = smtp::Credentials {
            username: config.auth_username.clone().unwrap_or_default(),
            password,
            secret: config.auth_secret.clone().unwrap_or_default(),
            identity: config.auth_identity.clone().unwrap_or_default(),
        };

        let tls = &config.tls_config;
        let ca_pem = read_tls_file("ca_file", tls.ca_file.as_deref())?;
        let client = match (
            read_tls_file("cert_file", tls.cert_file.as_deref())?,
            read_tls_file("key_file", tls.key_file.as_deref())?,
        ) {
            (Some(cert), Some(key)) => Some((cert, key)),
            _ => None,
        };
        let min = tls_version("min_version", tls.min_version.as_deref())?;
        let max = tls_version("max_version", tls.max_version.as_deref())?;
        let settings = transport::TlsSettings {
            server_name: tls
                .server_name
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| host.clone()),
            ca_pem,
            insecure_skip_verify: tls.insecure_skip_verify,
            tls12: min.is_none_or(|m| m <= 2),
            tls13: max.is_none_or(|m| m >= 3),
            client,
        };
        let (tls_config, name) = settings.client_config().map_err(Error::config)?;

        let now = pharos_sdk::log::now_ms();
        let domain = from.rsplit_once('@').map_or("localhost", |(_, d)| d);
        let message_id = format!(
            "<{}.{}@{domain}>",
            now.saturating_mul(1_000_000),
            u64::from_str_radix(&random_hex(8, now), 16).unwrap_or_default()
        );
        let boundary = random_hex(30, now);
        let text = config.text.as_deref().unwrap_or_default();
        let html = config.html.as_deref().unwrap_or_default();
        let message = message::compose(&message::Parts {
            headers: &headers,
            text,
            html,
            message_id: &message_id,
            date: &message::rfc1123z(now),
            boundary: &boundary,
        });

        let smarthost = format!("{host}:{port}");
        let fail = |e: smtp::SmtpError| {
            let m = format!("smtp {smarthost}: {e}");
            if e.is_transient() {
                Error::transient(m)
            } else {
                Error::permanent(m)
            }
        };
        let mut stream = transport::Stream::connect(
            &host,
            port,
            transport::TlsParams {
                config: tls_config,
                name,
            },
        )?;
        if port == IMPLICIT_TLS_PORT {
            stream.handshake().map_err(fail)?;
        }
        let hello = config
            .hello
            .as_deref()
            .filter(|h| !h.is_empty())
            .unwrap_or("localhost");
        check_hello(hello)?;
        let session = smtp::Session {
            hello,
            host: &host,
            require_tls: config.require_tls.unwrap_or(true),
            credentials: &credentials,
        };
        let mut client = smtp::Client::new(stream);
        let mechanism = client
            .send(&session, &from, &to, message.as_bytes())
            .map_err(fail)?;
        if mechanism.is_none() && !credentials.username.is_empty() {
            pharos_sdk::log::warn(
                "auth_username is set but the server offers no AUTH: sent without authenticating",
                &[("smarthost", smarthost.as_str())],
            );
        }
        Ok(())
    }
}

pharos_sdk::export!(notifier: Email);

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> Result<Config, Error> {
        let c = pharos_sdk::parse_config::<Config>(json)?;
        c.check()?;
        Ok(c)
    }

    const BASE: &str = r#""smarthost": "smtp.example.org:587", "from": "pharos@example.org", "to": "ops@example.org""#;

    #[test]
    fn bad_configs_name_the_key() {
        let cases = [
            (r#"{"from": "a@x", "to": "b@x"}"#.to_owned(), "`smarthost`"),
            (r#"{"smarthost": "x:25", "to": "b@x"}"#.to_owned(), "`from`"),
            (r#"{"smarthost": "x:25", "from": "a@x"}"#.to_owned(), "`to`"),
            (
                r#"{"smarthost": "smtp.example.org", "from": "a@x", "to": "b@x"}"#.to_owned(),
                "`smarthost`",
            ),
            (
                r#"{"smarthost": "x:smtp", "from": "a@x", "to": "b@x"}"#.to_owned(),
                "`smarthost`",
            ),
            (
                r#"{"smarthost": "x:25", "from": "a@x, c@x", "to": "b@x"}"#.to_owned(),
                "`from`",
            ),
            (
                r#"{"smarthost": "x:25", "from": "a@x", "to": "nobody"}"#.to_owned(),
                "`to`",
            ),
            (
                format!(r#"{{{BASE}, "require_tls": "yes"}}"#),
                "`require_tls`",
            ),
            (
                format!(r#"{{{BASE}, "auth_password": "p", "auth_password_file": "/f"}}"#),
                "`auth_password_file`",
            ),
            (
                format!(
                    r#"{{{BASE}, "headers": {{"Subject": "a", "subject": "b", "X-A": "1", "x-a": "2"}}}}"#
                ),
                "duplicate header X-A",
            ),
            (
                format!(r#"{{{BASE}, "headers": {{"Bad Header": "x"}}}}"#),
                "`headers`",
            ),
            (
                format!(r#"{{{BASE}, "headers": {{"content-type": "text/plain"}}}}"#),
                "`headers.content-type`",
            ),
            (
                format!(r#"{{{BASE}, "headers": {{"X-Count": 3}}}}"#),
                "`headers`",
            ),
            (
                format!(r#"{{{BASE}, "tls_config": {{"min_version": "TLS9"}}}}"#),
                "`tls_config.min_version`",
            ),
            (
                format!(r#"{{{BASE}, "tls_config": {{"max_version": "TLS11"}}}}"#),
                "`tls_config.max_version`",
            ),
            (
                format!(r#"{{{BASE}, "tls_config": {{"cert_file": "/c"}}}}"#),
                "`tls_config.key_file`",
            ),
            (
                format!(r#"{{{BASE}, "tls_config": {{"key_file": "/k"}}}}"#),
                "`tls_config.cert_file`",
            ),
            (
                format!(r#"{{{BASE}, "tls_config": {{"ca": "inline"}}}}"#),
                "`tls_config`",
            ),
            (
                format!(r#"{{{BASE}, "send_resolved": true}}"#),
                "send_resolved",
            ),
            (
                format!(r#"{{{BASE}, "hello": "a\r\nRCPT TO:<x@y>"}}"#),
                "`hello`",
            ),
        ];
        for (json, key) in cases {
            let err = config(&json).err();
            assert!(
                matches!(&err, Some(Error::Config(m)) if m.contains(key)),
                "{json}: {err:?} should name {key}"
            );
        }
    }

    #[test]
    fn templates_and_alertmanagers_keys_are_accepted() {
        let ok = [
            format!("{{{BASE}}}"),
            r#"{"smarthost": "{{ .CommonLabels.relay }}:25", "from": "{{ .CommonLabels.team }}@example.org", "to": "{{ .CommonLabels.owner }}"}"#.to_owned(),
            format!(
                r#"{{{BASE}, "hello": "pharos.example.org", "auth_username": "u", "auth_password": "p",
                "auth_identity": "i", "auth_secret": "s", "require_tls": false,
                "html": "{{{{ template \"email.default.html\" . }}}}", "text": "t",
                "headers": {{"Subject": "{{{{ template \"email.default.subject\" . }}}}", "Reply-To": "r@x"}},
                "tls_config": {{"ca_file": "/etc/ca.pem", "server_name": "mx", "insecure_skip_verify": true,
                                "cert_file": "/etc/pharos/client.pem", "key_file": "/etc/pharos/client.key",
                                "min_version": "TLS10", "max_version": "TLS13"}}}}"#
            ),
            r#"{"smarthost": "[::1]:465", "from": "a@x", "to": "b@x", "auth_password_file": "/run/secrets/smtp"}"#.to_owned(),
            // The operator's `subject` beside the host's default `Subject`.
            format!(r#"{{{BASE}, "headers": {{"Subject": "default", "subject": "mine"}}}}"#),
        ];
        for json in ok {
            assert!(config(&json).is_ok(), "{json}: {:?}", config(&json).err());
        }
    }

    #[test]
    fn headers_default_from_and_to_and_the_operators_spelling_wins() {
        let c = config(&format!(
            r#"{{{BASE}, "headers": {{"Subject": "default", "subject": "mine", "x-team": "db"}}}}"#
        ));
        let headers = c.and_then(|c| c.final_headers("Pharos <p@x>", "a@x, b@x"));
        assert_eq!(
            headers.ok(),
            Some(vec![
                ("From".to_owned(), "Pharos <p@x>".to_owned()),
                ("Subject".to_owned(), "mine".to_owned()),
                ("To".to_owned(), "a@x, b@x".to_owned()),
                ("X-Team".to_owned(), "db".to_owned()),
            ])
        );
        let c = config(&format!(
            r#"{{{BASE}, "headers": {{"to": "Ops <ops@x>"}}}}"#
        ));
        let headers = c.and_then(|c| c.final_headers("p@x", "a@x"));
        assert_eq!(
            headers.ok(),
            Some(vec![
                ("From".to_owned(), "p@x".to_owned()),
                ("To".to_owned(), "Ops <ops@x>".to_owned()),
            ])
        );
    }

    #[test]
    fn smarthosts() {
        assert_eq!(
            split_smarthost("smtp.example.org:587").ok(),
            Some(("smtp.example.org".to_owned(), 587))
        );
        assert_eq!(
            split_smarthost("[::1]:465").ok(),
            Some(("::1".to_owned(), 465))
        );
        for bad in ["::1:25", "host:0", ":25", "host:", "[::1]25"] {
            assert!(split_smarthost(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_are_not_in_errors() {
        let json = format!(r#"{{{BASE}, "auth_password": 42}}"#);
        let err = config(&json).err().map(|e| e.message().to_owned());
        assert!(
            err.as_deref()
                .is_some_and(|m| m.contains("`auth_password`")),
            "{err:?}"
        );
        let json = format!(r#"{{{BASE}, "auth_secret": ["s3cr3t"]}}"#);
        let err = config(&json).err().map(|e| e.message().to_owned());
        assert!(
            err.as_deref()
                .is_some_and(|m| m.contains("`auth_secret`") && !m.contains("s3cr3t")),
            "{err:?}"
        );
    }
}
