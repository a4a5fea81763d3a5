//! The HTTP listener: how connections are accepted and what a request must
//! pass before the API sees it, configured by `[server]` (see
//! [`pharos_config::web`]) and changed by every reload except the address.
//!
//! - TLS with rustls ([`tls`]): exporter-toolkit's `tls_server_config`
//!   (certificate, key, client CA and client auth type, versions, cipher
//!   suites, curves); certificates are read again on reload and when their
//!   files change (checked at most once a second, when a connection
//!   arrives), and a broken new pair keeps the running one.
//! - Basic auth with bcrypt hashes ([`auth`]): 401 with `WWW-Authenticate:
//!   Basic` as exporter-toolkit answers; verified passwords are cached.
//! - Limits ([`limits`]): at most `max_connections` open connections (more
//!   wait in the kernel's backlog, as Prometheus' `LimitListener`), a
//!   deadline for a request's headers (`read_header_timeout`, from the
//!   connection's start with its TLS handshake, or from the first byte of a
//!   keep-alive connection's next request), for the whole request with its
//!   body (`read_timeout`), and for an idle keep-alive connection
//!   (`idle_timeout`); every request body is capped at
//!   [`MAX_REQUEST_BODY`] on top of each route's own limit.
//! - `http_server_config` ([`serve`]): HTTP/2 on or off, and the extra
//!   response headers (HSTS, frame and sniffing policies, …) on every
//!   answer; `rate_limit` ([`rate`]): 429 past one bucket over all
//!   requests.
//! - The lifecycle endpoints (`/-/reload`, `/-/quit`) answer only with
//!   `enable_lifecycle`, with Prometheus 2.42's texts otherwise; `/-/quit`
//!   shuts the server down as SIGTERM does.
//!
//! The remote-write receiver's switch and concurrency live with the
//! receiver ([`crate::api::RemoteWriteReceiver`]); the listener passes its
//! settings on.

pub mod auth;
mod limits;
mod rate;
mod serve;
pub mod tls;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue};
use parking_lot::RwLock;
use pharos_config::{ConfigError, WebConfig};

use crate::api::RemoteWriteReceiver;

pub use serve::serve;

/// The largest request body any route may read (remote write's own limit
/// is lower); form bodies are capped lower still by the API (2 MiB).
pub const MAX_REQUEST_BODY: usize = 64 << 20;

/// How long shutdown waits for open connections to finish their requests.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// The settings a connection reads when it starts or a request arrives.
#[derive(Debug, Clone)]
struct Settings {
    enable_lifecycle: bool,
    read_header_timeout: Duration,
    read_timeout: Duration,
    idle_timeout: Duration,
    http2: bool,
    /// `http_server_config.headers`, set on every response.
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Settings {
    fn from(web: &WebConfig) -> Self {
        let headers = web
            .http_server_config
            .headers
            .iter()
            .filter_map(|(name, value)| {
                // The config checked names and values.
                let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
                Some((name, HeaderValue::from_str(value).ok()?))
            })
            .collect();
        Settings {
            enable_lifecycle: web.enable_lifecycle,
            read_header_timeout: web.read_header_timeout,
            read_timeout: web.read_timeout,
            idle_timeout: web.idle_timeout,
            http2: web.http_server_config.http2,
            headers,
        }
    }
}

/// The listener's running state, shared by the accept loop, every
/// connection and the reloader.
pub struct Listener {
    settings: RwLock<Arc<Settings>>,
    tls: tls::TlsReloader,
    auth: auth::BasicAuth,
    connections: Arc<limits::ConnLimit>,
    /// `rate_limit`; kept across reloads that do not change it.
    rate: RwLock<Option<Arc<rate::Bucket>>>,
    receiver: Arc<RemoteWriteReceiver>,
    quit: tokio::sync::watch::Sender<bool>,
    /// Relative certificate paths start here (the config file's directory).
    base_dir: PathBuf,
}

/// A checked `[server]`, its certificates read, ready to be committed.
pub struct Prepared {
    web: WebConfig,
    tls: Option<tls::TlsState>,
}

/// Checks what the listener would refuse in `web`: certificate and key
/// files that cannot be read, do not parse or do not match, a client CA
/// file without certificates. Errors point at the key in the config file.
pub fn check(web: &WebConfig, base_dir: &Path) -> Result<(), ConfigError> {
    if let Some(t) = &web.tls_server_config {
        tls::TlsState::load(t, web.http_server_config.http2, base_dir)?;
    }
    Ok(())
}

impl Listener {
    /// A listener for `web`; its certificates are read now, so a bad one
    /// fails the start.
    pub fn new(web: &WebConfig, base_dir: &Path) -> Result<Arc<Self>, ConfigError> {
        let tls = match &web.tls_server_config {
            Some(t) => Some(tls::TlsState::load(
                t,
                web.http_server_config.http2,
                base_dir,
            )?),
            None => None,
        };
        let slots =
            usize::try_from(web.remote_write_receiver_max_concurrency).unwrap_or(usize::MAX);
        let listener = Listener {
            settings: RwLock::new(Arc::new(Settings::from(web))),
            tls: tls::TlsReloader::new(tls),
            auth: auth::BasicAuth::new(&web.basic_auth_users),
            connections: Arc::new(limits::ConnLimit::new(limit(web.max_connections))),
            rate: RwLock::new(web.rate_limit.and_then(rate::Bucket::new).map(Arc::new)),
            receiver: Arc::new(RemoteWriteReceiver::new(
                web.enable_remote_write_receiver,
                slots,
            )),
            quit: tokio::sync::watch::Sender::new(false),
            base_dir: base_dir.to_path_buf(),
        };
        Ok(Arc::new(listener))
    }

    /// Checks a reloaded `[server]` and reads its certificates; nothing
    /// changes until [`Listener::commit`].
    pub fn prepare(&self, web: &WebConfig) -> Result<Prepared, ConfigError> {
        let tls = match &web.tls_server_config {
            Some(t) => Some(tls::TlsState::load(
                t,
                web.http_server_config.http2,
                &self.base_dir,
            )?),
            None => None,
        };
        Ok(Prepared {
            web: web.clone(),
            tls,
        })
    }

    /// Applies a prepared `[server]`: new connections use the new
    /// certificates and limits, every next request the new users and
    /// switches.
    pub fn commit(&self, p: Prepared) {
        let web = &p.web;
        *self.settings.write() = Arc::new(Settings::from(web));
        self.tls.replace(p.tls);
        self.auth.set_users(&web.basic_auth_users);
        self.connections.set_limit(limit(web.max_connections));
        {
            let mut rate = self.rate.write();
            // A new bucket only for new settings: a reload does not refill it.
            if rate.as_ref().map(|b| b.limit()) != web.rate_limit {
                *rate = web.rate_limit.and_then(rate::Bucket::new).map(Arc::new);
            }
        }
        let slots =
            usize::try_from(web.remote_write_receiver_max_concurrency).unwrap_or(usize::MAX);
        self.receiver.apply(web.enable_remote_write_receiver, slots);
        tracing::info!(
            tls = web.tls_server_config.is_some(),
            basic_auth_users = web.basic_auth_users.len(),
            lifecycle = web.enable_lifecycle,
            remote_write_receiver = web.enable_remote_write_receiver,
            max_connections = web.max_connections,
            http2 = web.http_server_config.http2,
            rate_limit = ?web.rate_limit,
            "listener settings applied"
        );
    }

    /// The remote-write receiver's switch and gate, for the API state.
    pub fn receiver(&self) -> Arc<RemoteWriteReceiver> {
        self.receiver.clone()
    }

    /// `https` with TLS, `http` without.
    pub fn scheme(&self) -> &'static str {
        if self.tls.enabled() { "https" } else { "http" }
    }

    /// Completes once `/-/quit` was called.
    pub async fn quit_requested(&self) {
        let mut rx = self.quit.subscribe();
        let _ = rx.wait_for(|q| *q).await;
    }

    /// Asks for shutdown; `false` if it was already asked for.
    fn request_quit(&self) -> bool {
        !self.quit.send_replace(true)
    }

    fn settings(&self) -> Arc<Settings> {
        self.settings.read().clone()
    }

    /// Whether `rate_limit` lets one more request through.
    fn rate_allows(&self) -> bool {
        self.rate.read().as_ref().is_none_or(|b| b.allows())
    }
}

/// `max_connections` as a limit; 0 is none.
fn limit(max_connections: u64) -> Option<usize> {
    (max_connections > 0).then(|| usize::try_from(max_connections).unwrap_or(usize::MAX))
}
