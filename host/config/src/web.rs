//! `[server]`'s listener settings: what Prometheus has as `--web.*` flags
//! (`enable_lifecycle`, `max_connections`, the read timeout, the
//! remote-write receiver switch) and its web configuration file
//! (`tls_server_config`, `http_server_config`, `basic_auth_users`,
//! `rate_limit`; exporter-toolkit's `docs/web-configuration.md`), in TOML:
//!
//! ```toml
//! [server]
//! enable_lifecycle = true
//! max_connections = 512
//!
//! [server.tls_server_config]
//! cert_file = "pharos.crt"
//! key_file = "pharos.key"
//! client_auth_type = "RequireAndVerifyClientCert"
//! client_ca_file = "clients-ca.crt"
//!
//! [server.basic_auth_users]
//! grafana = "$2y$10$..."              # bcrypt hash
//!
//! [server.http_server_config.headers]
//! Strict-Transport-Security = "max-age=31536000"
//!
//! [server.rate_limit]
//! interval = "10ms"                   # a request every 10 ms on average,
//! burst = 50                          # 50 at once
//! ```
//!
//! This module checks what can be checked without reading files (names,
//! combinations, the shape of each bcrypt hash), with exporter-toolkit's
//! texts where it has one. The certificate files themselves are read by
//! the listener (`pharos`), which reports what it refuses at the
//! [`Location`] of the key.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use pharos_model::PromDuration;
use serde::{Deserialize, Serialize, Serializer};
use toml::Spanned;

use crate::error::{ConfigError, Locator};
use crate::types::{Location, Secret};

type Result<T> = std::result::Result<T, ConfigError>;

/// Prometheus' `--web.max-connections` default.
pub const DEFAULT_MAX_CONNECTIONS: u64 = 512;
/// Remote-write requests read and decoded at once by default.
pub const DEFAULT_REMOTE_WRITE_CONCURRENCY: u64 = 8;
/// Prometheus' `--web.read-timeout` default; Go's server also closes idle
/// keep-alive connections after it when no idle timeout is set.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(300);
/// How long a client may take to send a request's headers (and, on a new
/// connection, its TLS handshake).
pub const DEFAULT_READ_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// The TLS 1.2 cipher suites of Go's `tls.CipherSuites()` that rustls
/// implements, by Go's names (`cipher_suites` does not apply to TLS 1.3, in
/// Go as here).
pub const TLS12_CIPHER_SUITES: [&str; 6] = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
];

/// Go's TLS 1.3 suites: accepted, and ignored, as Go ignores them.
const TLS13_CIPHER_SUITES: [&str; 3] = [
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];

/// Suites Go knows that rustls does not implement (CBC, RSA key exchange).
const UNSUPPORTED_CIPHER_SUITES: [&str; 8] = [
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
];

/// Go's alias names of the ChaCha20 suites.
const CIPHER_ALIASES: [(&str, &str); 2] = [
    (
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    ),
    (
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    ),
];

/// `curve_preferences` names (exporter-toolkit's) rustls implements.
pub const CURVES: [&str; 3] = ["X25519", "CurveP256", "CurveP384"];

/// The listener part of `[server]`. Changes apply on reload, except the
/// address (`listen`), which needs a restart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebConfig {
    /// `POST /-/reload` and `/-/quit` answer; otherwise 403, as
    /// Prometheus without `--web.enable-lifecycle`. SIGHUP always reloads.
    pub enable_lifecycle: bool,
    /// `POST /api/v1/write` accepts remote write (default on).
    pub enable_remote_write_receiver: bool,
    /// Remote-write requests read and decoded at once; more wait, then
    /// get 503 (default 8).
    pub remote_write_receiver_max_concurrency: u64,
    /// Open connections at most; more wait to be accepted. 0: no limit.
    pub max_connections: u64,
    /// Longest wait for a request's headers (from the connection's start,
    /// TLS handshake included, or from the request's first byte).
    #[serde(serialize_with = "duration")]
    pub read_header_timeout: Duration,
    /// Longest a request may take to arrive whole, body included
    /// (Prometheus' `--web.read-timeout`).
    #[serde(serialize_with = "duration")]
    pub read_timeout: Duration,
    /// How long a keep-alive connection may wait for its next request.
    #[serde(serialize_with = "duration")]
    pub idle_timeout: Duration,
    /// User name → bcrypt hash of the password. Empty: no authentication.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub basic_auth_users: BTreeMap<String, Secret>,
    /// HTTPS; `None`: plain HTTP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_server_config: Option<TlsServerConfig>,
    /// HTTP/2 and the extra response headers (shown when not the
    /// default).
    #[serde(skip_serializing_if = "HttpServerConfig::is_default")]
    pub http_server_config: HttpServerConfig,
    /// Requests answered at most, over all clients; `None`: no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
}

/// `[server.http_server_config]`: exporter-toolkit's `http_server_config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpServerConfig {
    /// HTTP/2 offered (over TLS by ALPN, and over plain HTTP to clients
    /// that start with its preface); default on.
    pub http2: bool,
    /// Headers set on every response, by exporter-toolkit's names
    /// ([`RESPONSE_HEADERS`]).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

impl HttpServerConfig {
    fn is_default(&self) -> bool {
        *self == HttpServerConfig::default()
    }
}

impl Default for HttpServerConfig {
    fn default() -> Self {
        HttpServerConfig {
            http2: true,
            headers: BTreeMap::new(),
        }
    }
}

/// The response headers `http_server_config.headers` may set, and the
/// values each allows (empty: any), as exporter-toolkit allows them.
pub const RESPONSE_HEADERS: [(&str, &[&str]); 5] = [
    ("Content-Security-Policy", &[]),
    ("Strict-Transport-Security", &[]),
    ("X-Content-Type-Options", &["nosniff"]),
    ("X-Frame-Options", &["deny", "sameorigin"]),
    ("X-XSS-Protection", &[]),
];

/// `[server.rate_limit]`: a token bucket over all requests, as
/// exporter-toolkit's `rate_limit` (`golang.org/x/time/rate`): a request
/// every `interval` on average, up to `burst` at once; beyond it 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RateLimit {
    #[serde(serialize_with = "duration")]
    pub interval: Duration,
    pub burst: u32,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            enable_lifecycle: false,
            enable_remote_write_receiver: true,
            remote_write_receiver_max_concurrency: DEFAULT_REMOTE_WRITE_CONCURRENCY,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            read_header_timeout: DEFAULT_READ_HEADER_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            idle_timeout: DEFAULT_READ_TIMEOUT,
            basic_auth_users: BTreeMap::new(),
            tls_server_config: None,
            http_server_config: HttpServerConfig::default(),
            rate_limit: None,
        }
    }
}

/// `[server.tls_server_config]`: exporter-toolkit's `tls_server_config`.
/// Relative paths are taken from the config file's directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsServerConfig {
    /// PEM certificate chain, the server's own first: a file, or inline
    /// (`cert`).
    #[serde(flatten)]
    pub cert: Pem,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of the first certificate:
    /// a file, or inline (`key`, masked when the config is shown).
    #[serde(flatten)]
    pub key: Pem,
    /// PEM CA certificates client certificates are verified against: a
    /// file, or inline (`client_ca`).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub client_ca: Option<Pem>,
    pub client_auth_type: ClientAuthType,
    /// Subject alternative names (DNS, e-mail, IP, URI) of which a
    /// verified client certificate must have one; empty: any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub client_allowed_sans: Vec<String>,
    pub min_version: TlsVersion,
    pub max_version: TlsVersion,
    /// TLS 1.2 suites allowed, by Go's names (in this order of
    /// preference); empty: rustls' defaults.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cipher_suites: Vec<String>,
    /// Key exchange groups by exporter-toolkit's names, in order of
    /// preference; empty: rustls' defaults.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub curve_preferences: Vec<String>,
    /// The server's order of cipher suites wins over the client's
    /// (default, as exporter-toolkit's).
    pub prefer_server_cipher_suites: bool,
    /// Where the table (`""`) and each file key are written, for the
    /// listener's errors about the files.
    #[serde(skip)]
    pub locations: BTreeMap<String, Location>,
}

/// Where PEM data comes from: a file the listener reads (and reads again
/// when it changes), or the config itself. Serialized under the key it was
/// written with (`cert_file` or `cert`, …); inline keys are masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pem {
    /// `cert`, `key` or `client_ca`.
    pub name: &'static str,
    pub source: PemSource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PemSource {
    /// Relative to the config file's directory.
    File(PathBuf),
    Inline(Secret),
}

impl Pem {
    /// The key it was written with: `cert_file` or `cert`, ….
    pub fn key(&self) -> String {
        match self.source {
            PemSource::File(_) => format!("{}_file", self.name),
            PemSource::Inline(_) => self.name.to_owned(),
        }
    }
}

impl Serialize for Pem {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        match &self.source {
            PemSource::File(p) => m.serialize_entry(&self.key(), p)?,
            // A certificate is public, but one shape for all three keeps
            // the private key from ever being shown.
            PemSource::Inline(secret) => m.serialize_entry(&self.key(), secret)?,
        }
        m.end()
    }
}

impl TlsServerConfig {
    /// Where `key` (`cert_file`, `key`, `client_ca_file`, …) is
    /// written, or the table.
    pub fn location(&self, key: &str) -> Location {
        self.locations
            .get(key)
            .or_else(|| self.locations.get(""))
            .cloned()
            .unwrap_or_default()
    }
}

/// `client_auth_type`, with Go's `tls.ClientAuthType` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuthType {
    /// No client certificate is asked for.
    #[default]
    NoClientCert,
    /// Asked for, not required, not verified.
    RequestClientCert,
    /// Required, not verified against a CA.
    RequireAnyClientCert,
    /// Verified against `client_ca_file` if the client sends one.
    VerifyClientCertIfGiven,
    /// Required and verified against `client_ca_file`.
    RequireAndVerifyClientCert,
}

impl ClientAuthType {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuthType::NoClientCert => "NoClientCert",
            ClientAuthType::RequestClientCert => "RequestClientCert",
            ClientAuthType::RequireAnyClientCert => "RequireAnyClientCert",
            ClientAuthType::VerifyClientCertIfGiven => "VerifyClientCertIfGiven",
            ClientAuthType::RequireAndVerifyClientCert => "RequireAndVerifyClientCert",
        }
    }

    /// Go's names; `RequireClientCert` is exporter-toolkit's old alias,
    /// and the empty string its default.
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "" | "NoClientCert" => ClientAuthType::NoClientCert,
            "RequestClientCert" => ClientAuthType::RequestClientCert,
            "RequireAnyClientCert" | "RequireClientCert" => ClientAuthType::RequireAnyClientCert,
            "VerifyClientCertIfGiven" => ClientAuthType::VerifyClientCertIfGiven,
            "RequireAndVerifyClientCert" => ClientAuthType::RequireAndVerifyClientCert,
            _ => return None,
        })
    }

    /// Whether certificates are checked against a CA.
    pub fn verifies(self) -> bool {
        matches!(
            self,
            ClientAuthType::VerifyClientCertIfGiven | ClientAuthType::RequireAndVerifyClientCert
        )
    }
}

impl Serialize for ClientAuthType {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// `min_version`/`max_version`: `TLS10` … `TLS13`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

impl TlsVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsVersion::Tls10 => "TLS10",
            TlsVersion::Tls11 => "TLS11",
            TlsVersion::Tls12 => "TLS12",
            TlsVersion::Tls13 => "TLS13",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "TLS10" => TlsVersion::Tls10,
            "TLS11" => TlsVersion::Tls11,
            "TLS12" => TlsVersion::Tls12,
            "TLS13" => TlsVersion::Tls13,
            _ => return None,
        })
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TlsVersion {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

fn duration<S: Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&pharos_model::format_duration(*d))
}

/// `[server.tls_server_config]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTlsServer {
    pub cert: Option<Spanned<String>>,
    pub cert_file: Option<Spanned<String>>,
    pub key: Option<Spanned<String>>,
    pub key_file: Option<Spanned<String>>,
    pub client_ca: Option<Spanned<String>>,
    pub client_ca_file: Option<Spanned<String>>,
    pub client_auth_type: Option<Spanned<String>>,
    pub client_allowed_sans: Option<Vec<Spanned<String>>>,
    pub min_version: Option<Spanned<String>>,
    pub max_version: Option<Spanned<String>>,
    #[serde(default)]
    pub cipher_suites: Vec<Spanned<String>>,
    #[serde(default)]
    pub curve_preferences: Vec<Spanned<String>>,
    pub prefer_server_cipher_suites: Option<bool>,
}

/// `[server.http_server_config]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHttpServer {
    pub http2: Option<bool>,
    #[serde(default)]
    pub headers: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// `[server.rate_limit]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRateLimit {
    pub interval: Option<PromDuration>,
    pub burst: Option<Spanned<u64>>,
}

/// The listener keys of `[server]` as written (read by
/// [`crate::raw::RawServer`]).
pub(crate) struct RawWeb<'a> {
    pub enable_lifecycle: Option<bool>,
    pub enable_remote_write_receiver: Option<bool>,
    pub remote_write_receiver_max_concurrency: Option<u64>,
    pub max_connections: Option<u64>,
    pub read_header_timeout: Option<PromDuration>,
    pub read_timeout: Option<PromDuration>,
    pub idle_timeout: Option<PromDuration>,
    pub basic_auth_users: &'a BTreeMap<Spanned<String>, Spanned<String>>,
    pub tls_server_config: &'a Option<Spanned<RawTlsServer>>,
    pub http_server_config: &'a Option<Spanned<RawHttpServer>>,
    pub rate_limit: &'a Option<Spanned<RawRateLimit>>,
}

/// Defaults filled in and everything checked that needs no file.
pub(crate) fn resolve(raw: RawWeb<'_>, loc: &Locator<'_>) -> Result<WebConfig> {
    let d = WebConfig::default();
    let nonzero = |v: Option<PromDuration>| v.map(PromDuration::get).filter(|d| !d.is_zero());
    let read_timeout = nonzero(raw.read_timeout).unwrap_or(d.read_timeout);
    let mut users = BTreeMap::new();
    for (name, hash) in raw.basic_auth_users {
        if let Err(why) = check_bcrypt(hash.get_ref()) {
            let key = format!("server.basic_auth_users.{}", name.get_ref());
            return Err(loc.error(Some(hash.span()), key, why));
        }
        users.insert(name.get_ref().clone(), Secret::new(hash.get_ref().clone()));
    }
    Ok(WebConfig {
        enable_lifecycle: raw.enable_lifecycle.unwrap_or(d.enable_lifecycle),
        enable_remote_write_receiver: raw
            .enable_remote_write_receiver
            .unwrap_or(d.enable_remote_write_receiver),
        remote_write_receiver_max_concurrency: raw
            .remote_write_receiver_max_concurrency
            .filter(|&n| n > 0)
            .unwrap_or(d.remote_write_receiver_max_concurrency),
        max_connections: raw.max_connections.unwrap_or(d.max_connections),
        read_header_timeout: nonzero(raw.read_header_timeout).unwrap_or(d.read_header_timeout),
        read_timeout,
        // Go's server closes idle connections after the read timeout
        // when it has no idle timeout.
        idle_timeout: nonzero(raw.idle_timeout).unwrap_or(read_timeout),
        basic_auth_users: users,
        tls_server_config: raw
            .tls_server_config
            .as_ref()
            .map(|t| tls_server(t, loc))
            .transpose()?,
        http_server_config: raw
            .http_server_config
            .as_ref()
            .map(|h| http_server(h, loc))
            .transpose()?
            .unwrap_or_default(),
        rate_limit: raw
            .rate_limit
            .as_ref()
            .map(|r| rate_limit(r, loc))
            .transpose()?
            .flatten(),
    })
}

const HTTP_KEY: &str = "server.http_server_config";

fn http_server(spanned: &Spanned<RawHttpServer>, loc: &Locator<'_>) -> Result<HttpServerConfig> {
    let h = spanned.get_ref();
    let mut headers = BTreeMap::new();
    for (name, value) in &h.headers {
        let key = format!("{HTTP_KEY}.headers.{}", name.get_ref());
        // exporter-toolkit's texts.
        let Some((_, allowed)) = RESPONSE_HEADERS.iter().find(|(n, _)| n == name.get_ref()) else {
            let msg = format!("HTTP header {:?} can not be configured", name.get_ref());
            return Err(loc.error(Some(name.span()), key, msg));
        };
        if !allowed.is_empty() && !allowed.contains(&value.get_ref().as_str()) {
            // Go's %q of a []string: ["deny" "sameorigin"].
            let quoted: Vec<String> = allowed.iter().map(|v| format!("{v:?}")).collect();
            let msg = format!(
                "invalid value for {}. Expected one of: [{}], but got: {:?}",
                name.get_ref(),
                quoted.join(" "),
                value.get_ref()
            );
            return Err(loc.error(Some(value.span()), key, msg));
        }
        if !header_value_ok(value.get_ref()) {
            let msg = "a header value may not hold control characters".to_owned();
            return Err(loc.error(Some(value.span()), key, msg));
        }
        // Blank: unset, as exporter-toolkit documents.
        if !value.get_ref().is_empty() {
            headers.insert(name.get_ref().clone(), value.get_ref().clone());
        }
    }
    Ok(HttpServerConfig {
        http2: h.http2.unwrap_or(true),
        headers,
    })
}

/// Whether `v` can be sent as a header value (visible ASCII, spaces and
/// tabs, or bytes from 0x80 on, as the HTTP grammar allows).
fn header_value_ok(v: &str) -> bool {
    v.bytes()
        .all(|b| b == b'\t' || (0x20..0x7f).contains(&b) || b >= 0x80)
}

fn rate_limit(spanned: &Spanned<RawRateLimit>, loc: &Locator<'_>) -> Result<Option<RateLimit>> {
    let r = spanned.get_ref();
    let interval = r.interval.map(PromDuration::get).unwrap_or_default();
    if interval.is_zero() {
        // exporter-toolkit: an interval of 0 turns the limiter off.
        return Ok(None);
    }
    let burst = r.burst.as_ref().map_or(0, |b| *b.get_ref());
    if burst == 0 {
        let span = r.burst.as_ref().map_or(spanned.span(), Spanned::span);
        let msg =
            "burst must be at least 1 when interval is set (a burst of 0 refuses every request)";
        return Err(loc.error(Some(span), "server.rate_limit.burst", msg));
    }
    let Ok(burst) = u32::try_from(burst) else {
        let span = r.burst.as_ref().map_or(spanned.span(), Spanned::span);
        let msg = format!("burst {burst} is too large (at most {})", u32::MAX);
        return Err(loc.error(Some(span), "server.rate_limit.burst", msg));
    };
    Ok(Some(RateLimit { interval, burst }))
}

const TLS_KEY: &str = "server.tls_server_config";

fn tls_server(spanned: &Spanned<RawTlsServer>, loc: &Locator<'_>) -> Result<TlsServerConfig> {
    let t = spanned.get_ref();
    let table = |msg: &str| loc.error(Some(spanned.span()), TLS_KEY, msg);
    let at = |s: &Spanned<String>, key: &str, msg: String| {
        loc.error(Some(s.span()), format!("{TLS_KEY}.{key}"), msg)
    };
    let mut locations = BTreeMap::new();
    locations.insert(
        String::new(),
        loc.location(Some(spanned.span()), TLS_KEY.to_owned()),
    );
    // One of `name` (inline PEM) and `name_file`; both is an error
    // (exporter-toolkit silently prefers the file).
    let mut pem = |name: &'static str,
                   inline: &Option<Spanned<String>>,
                   file: &Option<Spanned<String>>|
     -> Result<Option<Pem>> {
        let file_key = format!("{name}_file");
        let (key, value) = match (inline, file) {
            (Some(i), Some(_)) => {
                let msg = format!("{name} and {file_key} are both set; use one");
                return Err(at(i, name, msg));
            }
            (Some(i), None) => (name.to_owned(), i),
            (None, Some(f)) => (file_key, f),
            (None, None) => return Ok(None),
        };
        if value.get_ref().trim().is_empty() {
            return Err(at(value, &key, format!("{key} is empty")));
        }
        let l = loc.location(Some(value.span()), format!("{TLS_KEY}.{key}"));
        locations.insert(key.clone(), l);
        let source = if key == name {
            PemSource::Inline(Secret::new(value.get_ref().clone()))
        } else {
            PemSource::File(PathBuf::from(value.get_ref()))
        };
        Ok(Some(Pem { name, source }))
    };
    let cert = pem("cert", &t.cert, &t.cert_file)?;
    let key = pem("key", &t.key, &t.key_file)?;
    let client_ca = pem("client_ca", &t.client_ca, &t.client_ca_file)?;
    // exporter-toolkit's texts.
    let Some(cert) = cert else {
        return Err(table("missing one of cert or cert_file"));
    };
    let Some(key) = key else {
        return Err(table("missing one of key or key_file"));
    };
    let client_auth_type = match &t.client_auth_type {
        None => ClientAuthType::NoClientCert,
        Some(s) => ClientAuthType::parse(s.get_ref()).ok_or_else(|| {
            at(
                s,
                "client_auth_type",
                format!("invalid ClientAuth: {}", s.get_ref()),
            )
        })?,
    };
    if client_ca.is_some() && client_auth_type == ClientAuthType::NoClientCert {
        let msg = "client CA's have been configured without a Client Auth Policy";
        return Err(table(msg));
    }
    if client_auth_type.verifies() && client_ca.is_none() {
        // Go falls back to the host's roots; Pharos wants them named.
        let msg = format!(
            "client_auth_type {} needs client_ca_file, the CA client certificates are verified against",
            client_auth_type.as_str()
        );
        return Err(table(&msg));
    }
    let client_allowed_sans: Vec<String> = t
        .client_allowed_sans
        .iter()
        .flatten()
        .map(|s| s.get_ref().clone())
        .collect();
    if let Some(sans) = &t.client_allowed_sans
        && !sans.is_empty()
        && !client_auth_type.verifies()
    {
        // Go checks the names of any certificate, verified or not, and
        // none at all without one; a name on a certificate nobody
        // verified proves nothing.
        let msg = format!(
            "client_allowed_sans checks the names of verified client certificates: set client_auth_type to RequireAndVerifyClientCert (or VerifyClientCertIfGiven), not {}",
            client_auth_type.as_str()
        );
        let span = sans.first().map_or(spanned.span(), Spanned::span);
        return Err(loc.error(Some(span), format!("{TLS_KEY}.client_allowed_sans"), msg));
    }
    let version = |key: &str, v: &Option<Spanned<String>>, default: TlsVersion| match v {
        None => Ok(default),
        Some(s) => TlsVersion::parse(s.get_ref())
            .ok_or_else(|| at(s, key, format!("unknown TLS version: {}", s.get_ref()))),
    };
    let min_version = version("min_version", &t.min_version, TlsVersion::Tls12)?;
    let max_version = version("max_version", &t.max_version, TlsVersion::Tls13)?;
    if let Some(s) = &t.max_version
        && max_version < TlsVersion::Tls12
    {
        let msg = format!("{max_version} is not supported: Pharos speaks TLS 1.2 and 1.3");
        return Err(at(s, "max_version", msg));
    }
    if max_version < min_version {
        let span = t.max_version.as_ref().map_or(spanned.span(), Spanned::span);
        let msg = format!("max_version {max_version} is below min_version {min_version}");
        return Err(loc.error(Some(span), format!("{TLS_KEY}.max_version"), msg));
    }
    let mut cipher_suites = Vec::new();
    for (i, s) in t.cipher_suites.iter().enumerate() {
        let name = s.get_ref().as_str();
        let name = CIPHER_ALIASES
            .iter()
            .find(|(alias, _)| *alias == name)
            .map_or(name, |(_, n)| n);
        let key = format!("cipher_suites[{i}]");
        if TLS12_CIPHER_SUITES.contains(&name) {
            cipher_suites.push(name.to_owned());
        } else if TLS13_CIPHER_SUITES.contains(&name) {
            // Go ignores TLS 1.3 suites in cipher_suites; so does Pharos.
        } else if UNSUPPORTED_CIPHER_SUITES.contains(&name) {
            let msg = format!(
                "cipher {name} is not supported (no CBC or RSA key exchange); use some of {}",
                TLS12_CIPHER_SUITES.join(", ")
            );
            return Err(at(s, &key, msg));
        } else {
            return Err(at(s, &key, format!("unknown cipher: {name}")));
        }
    }
    let mut curve_preferences = Vec::new();
    for (i, s) in t.curve_preferences.iter().enumerate() {
        let name = s.get_ref().as_str();
        let key = format!("curve_preferences[{i}]");
        if CURVES.contains(&name) {
            curve_preferences.push(name.to_owned());
        } else if name == "CurveP521" {
            let msg = format!(
                "curve {name} is not supported; use some of {}",
                CURVES.join(", ")
            );
            return Err(at(s, &key, msg));
        } else {
            return Err(at(s, &key, format!("unknown curve: {name}")));
        }
    }
    Ok(TlsServerConfig {
        cert,
        key,
        client_ca,
        client_auth_type,
        client_allowed_sans,
        min_version,
        max_version,
        cipher_suites,
        curve_preferences,
        prefer_server_cipher_suites: t.prefer_server_cipher_suites.unwrap_or(true),
        locations,
    })
}

/// Whether `hash` has the shape of a bcrypt hash (`$2a$`, `$2b$`, `$2x$`
/// or `$2y$`, a two-digit cost from 4 to 31, `$`, 53 characters of
/// bcrypt's base64), as Go's `bcrypt.Cost` checks it; the reason if not.
fn check_bcrypt(hash: &str) -> std::result::Result<(), String> {
    let hint = "(make one with `htpasswd -nBC 10 \"\" | tr -d ':\\n'`)";
    let b = hash.as_bytes();
    if b.len() != 60 {
        return Err(format!(
            "not a bcrypt hash: {} characters, expected 60 {hint}",
            b.len()
        ));
    }
    let prefix_ok =
        b[0] == b'$' && b[1] == b'2' && matches!(b[2], b'a' | b'b' | b'x' | b'y') && b[3] == b'$';
    if !prefix_ok {
        return Err(format!(
            "not a bcrypt hash: expected it to start with $2a$, $2b$ or $2y$ {hint}"
        ));
    }
    let cost = std::str::from_utf8(&b[4..6])
        .ok()
        .and_then(|c| c.parse::<u32>().ok());
    match cost {
        Some(c) if (4..=31).contains(&c) && b[6] == b'$' => {}
        Some(c) if b[6] == b'$' => {
            return Err(format!(
                "not a bcrypt hash: cost {c} is outside allowed range (4,31)"
            ));
        }
        _ => {
            return Err(format!(
                "not a bcrypt hash: no cost after {:?} {hint}",
                &hash[..4]
            ));
        }
    }
    let body_ok = b[7..]
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'/'));
    if !body_ok {
        return Err(format!(
            "not a bcrypt hash: unexpected characters after the cost {hint}"
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::Config;

    /// A bcrypt hash of "fakepassword" (exporter-toolkit's decoy).
    const HASH: &str = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

    fn load(text: &str) -> std::result::Result<WebConfig, String> {
        Config::from_toml(text, "p.toml")
            .map(|c| c.server.web)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_prometheus_flags() {
        let w = load("").unwrap();
        assert!(!w.enable_lifecycle);
        assert!(w.enable_remote_write_receiver);
        assert_eq!(w.remote_write_receiver_max_concurrency, 8);
        assert_eq!(w.max_connections, 512);
        assert_eq!(w.read_timeout, Duration::from_secs(300));
        assert_eq!(w.idle_timeout, Duration::from_secs(300));
        assert_eq!(w.read_header_timeout, Duration::from_secs(10));
        assert!(w.basic_auth_users.is_empty());
        assert_eq!(w.tls_server_config, None);
    }

    #[test]
    fn idle_timeout_follows_the_read_timeout() {
        let w = load("[server]\nread_timeout = \"1m\"\n").unwrap();
        assert_eq!(w.idle_timeout, Duration::from_secs(60));
        let w = load("[server]\nread_timeout = \"1m\"\nidle_timeout = \"5s\"\n").unwrap();
        assert_eq!(w.idle_timeout, Duration::from_secs(5));
    }

    #[test]
    fn full_tls_and_users() {
        let w = load(&format!(
            r#"
[server]
enable_lifecycle = true
enable_remote_write_receiver = false
remote_write_receiver_max_concurrency = 2
max_connections = 0
[server.basic_auth_users]
alice = "{HASH}"
[server.tls_server_config]
cert_file = "c.pem"
key_file = "k.pem"
client_ca_file = "ca.pem"
client_auth_type = "RequireClientCert"
min_version = "TLS13"
cipher_suites = ["TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "TLS_AES_128_GCM_SHA256"]
curve_preferences = ["X25519"]
"#
        ))
        .unwrap();
        assert!(w.enable_lifecycle && !w.enable_remote_write_receiver);
        assert_eq!(w.remote_write_receiver_max_concurrency, 2);
        assert_eq!(w.max_connections, 0);
        assert_eq!(w.basic_auth_users["alice"].expose(), HASH);
        let t = w.tls_server_config.unwrap();
        assert_eq!(t.client_auth_type, ClientAuthType::RequireAnyClientCert);
        assert_eq!(t.min_version, TlsVersion::Tls13);
        assert_eq!(t.max_version, TlsVersion::Tls13);
        assert_eq!(
            t.cipher_suites,
            ["TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"]
        );
        let l = t.location("key_file");
        assert_eq!(
            (l.line, l.key.as_str()),
            (11, "server.tls_server_config.key_file")
        );
    }

    #[test]
    fn errors_name_the_key_and_use_exporter_toolkit_texts() {
        let cases = [
            (
                "[server.tls_server_config]\ncert_file = \"c\"\n",
                "p.toml:1:1: server.tls_server_config: missing one of key or key_file",
            ),
            (
                "[server.tls_server_config]\nkey_file = \"k\"\n",
                "p.toml:1:1: server.tls_server_config: missing one of cert or cert_file",
            ),
            (
                "[server.tls_server_config]\ncert_file = \"c\"\nkey_file = \"k\"\nclient_auth_type = \"Always\"\n",
                "p.toml:4:20: server.tls_server_config.client_auth_type: invalid ClientAuth: Always",
            ),
            (
                "[server.tls_server_config]\ncert_file = \"c\"\nkey_file = \"k\"\nclient_ca_file = \"ca\"\n",
                "p.toml:1:1: server.tls_server_config: client CA's have been configured without a Client Auth Policy",
            ),
            (
                "[server.tls_server_config]\ncert_file = \"c\"\nkey_file = \"k\"\nmin_version = \"TLS14\"\n",
                "p.toml:4:15: server.tls_server_config.min_version: unknown TLS version: TLS14",
            ),
            (
                "[server.tls_server_config]\ncert_file = \"c\"\nkey_file = \"k\"\nmax_version = \"TLS11\"\n",
                "p.toml:4:15: server.tls_server_config.max_version: TLS11 is not supported: Pharos speaks TLS 1.2 and 1.3",
            ),
            (
                "[server.tls_server_config]\ncert_file = \"c\"\nkey_file = \"k\"\ncipher_suites = [\"TLS_FOO\"]\n",
                "p.toml:4:18: server.tls_server_config.cipher_suites[0]: unknown cipher: TLS_FOO",
            ),
            (
                "[server.tls_server_config]\ncert_file = \"c\"\nkey_file = \"\"\n",
                "p.toml:3:12: server.tls_server_config.key_file: key_file is empty",
            ),
            (
                "[server.basic_auth_users]\nbob = \"hunter2\"\n",
                "p.toml:2:7: server.basic_auth_users.bob: not a bcrypt hash: 7 characters, expected 60 (make one with `htpasswd -nBC 10 \"\" | tr -d ':\\n'`)",
            ),
            (
                "[server]\nmax_connections = -1\n",
                "p.toml:2:19: server.max_connections: invalid value: integer `-1`, expected u64",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(load(text).err().as_deref(), Some(want), "{text}");
        }
    }

    #[test]
    fn inline_pem_and_listener_extras() {
        let w = load(
            r#"
[server.tls_server_config]
cert = """
-----BEGIN CERTIFICATE-----
MIIB
-----END CERTIFICATE-----
"""
key = "-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n"
client_ca_file = "ca.pem"
client_auth_type = "RequireAndVerifyClientCert"
client_allowed_sans = ["grafana.example", "10.0.0.7"]
prefer_server_cipher_suites = false
[server.http_server_config]
http2 = false
headers = { Strict-Transport-Security = "max-age=3600", X-Frame-Options = "sameorigin", X-XSS-Protection = "" }
[server.rate_limit]
interval = "100ms"
burst = 20
"#,
        )
        .unwrap();
        let t = w.tls_server_config.as_ref().unwrap();
        assert!(matches!(&t.cert.source, PemSource::Inline(c) if c.expose().contains("MIIB")));
        assert_eq!((t.cert.key(), t.key.key()), ("cert".into(), "key".into()));
        let ca = t.client_ca.as_ref().unwrap();
        assert_eq!(ca.source, PemSource::File("ca.pem".into()));
        assert_eq!(t.client_allowed_sans, ["grafana.example", "10.0.0.7"]);
        assert!(!t.prefer_server_cipher_suites);
        assert!(!w.http_server_config.http2);
        // A blank value unsets the header.
        assert_eq!(
            w.http_server_config.headers.keys().collect::<Vec<_>>(),
            ["Strict-Transport-Security", "X-Frame-Options"]
        );
        assert_eq!(
            w.rate_limit,
            Some(RateLimit {
                interval: Duration::from_millis(100),
                burst: 20
            })
        );
        let shown = Config::from_toml(
            "[server.tls_server_config]\ncert_file = \"c.pem\"\nkey = \"PRIVATE\"\n",
            "p.toml",
        )
        .unwrap()
        .to_toml()
        .unwrap();
        assert!(shown.contains("cert_file = \"c.pem\""), "{shown}");
        assert!(shown.contains("key = \"<secret>\""), "{shown}");
        assert!(!shown.contains("PRIVATE"), "{shown}");
        // An interval of 0 turns the limiter off, as exporter-toolkit's.
        let w = load("[server.rate_limit]\ninterval = \"0s\"\nburst = 0\n").unwrap();
        assert_eq!(w.rate_limit, None);
    }

    #[test]
    fn bcrypt_shapes() {
        assert_eq!(check_bcrypt(HASH), Ok(()));
        assert!(check_bcrypt(&HASH.replace("$10$", "$03$")).is_err_and(|e| e.contains("cost 3")));
        assert!(check_bcrypt(&HASH.replace("$2y$", "$3y$")).is_err());
        assert!(check_bcrypt(&HASH.replace('Q', "!")).is_err());
    }

    #[test]
    fn users_are_masked_when_rendered() {
        let c = Config::from_toml(
            &format!("[server.basic_auth_users]\nalice = \"{HASH}\"\n"),
            "p.toml",
        )
        .unwrap();
        let toml = c.to_toml().unwrap();
        assert!(toml.contains("alice = \"<secret>\""), "{toml}");
        assert!(!toml.contains(HASH));
        assert!(!format!("{c:?}").contains(HASH));
    }
}
