//! Outbound HTTP for plugins: the `wasi:http` `send_request` hook.
//!
//! Each request is checked twice before a byte leaves the host: its origin
//! against the plugin's `allow_http`, then every address its host resolves
//! to against `allow_private_ips` (public addresses pass). The connection
//! then goes to the address that was checked — not to the name, which a
//! second DNS answer could point elsewhere — with TLS verified against the
//! name. A refusal is returned to the plugin as a `wasi:http` error code
//! (`HTTP-request-denied` or `destination-IP-prohibited`), never as a
//! trap, and is recorded so the host can name the missing grant.
//!
//! Beyond the default hook of wasmtime-wasi-http this does the DNS lookup
//! itself; the HTTP/1.1 exchange is hyper's, as there.

use crate::error::Denial;
use crate::grants::{AllowList, non_public_class};
use http_body_util::BodyExt;
use parking_lot::Mutex;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// Used when the plugin sets no connect / first-byte timeout; the call's
/// wall-clock timeout bounds everything anyway.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

type IoFuture = Box<dyn Future<Output = Result<(), Error>> + Send>;
type SendFuture =
    Box<dyn Future<Output = Result<(http::Response<WasiBody>, IoFuture), Error>> + Send>;

/// Per-call outbound state: the plugin's grants and the refusals so far.
pub(crate) struct Outbound {
    plugin: Arc<str>,
    allow: Arc<AllowList>,
    tls: Arc<rustls::ClientConfig>,
    denials: Arc<Mutex<Vec<Denial>>>,
}

impl Outbound {
    pub(crate) fn new(
        plugin: Arc<str>,
        allow: Arc<AllowList>,
        tls: Arc<rustls::ClientConfig>,
        denials: Arc<Mutex<Vec<Denial>>>,
    ) -> Self {
        Outbound {
            plugin,
            allow,
            tls,
            denials,
        }
    }
}

/// The TLS client configuration every plugin uses: the webpki roots
/// (Mozilla's), ring as the provider.
pub(crate) fn tls_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.into(),
    };
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth())
}

fn record(plugin: &str, denials: &Mutex<Vec<Denial>>, denial: Denial) {
    tracing::warn!(plugin, %denial, "plugin request denied");
    denials.lock().push(denial);
}

impl WasiHttpHooks for Outbound {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> SendFuture {
        let uri = request.uri().clone();
        let url = uri.to_string();
        let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
        let scheme = if https { "https" } else { "http" };
        let Some(host) = uri
            .host()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_owned())
        else {
            return Box::new(async { Err(Error::HttpRequestUriInvalid) });
        };
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        if !self.allow.allows_origin(scheme, &host, port) {
            let origin = if host.contains(':') {
                format!("{scheme}://[{host}]:{port}")
            } else {
                format!("{scheme}://{host}:{port}")
            };
            record(&self.plugin, &self.denials, Denial::Origin { url, origin });
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        let plugin = self.plugin.clone();
        let allow = self.allow.clone();
        let denials = self.denials.clone();
        let tls = self.tls.clone();
        Box::new(async move {
            let connect_timeout = options
                .and_then(|o| o.connect_timeout)
                .unwrap_or(DEFAULT_TIMEOUT);
            let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
                Ok(ip) => vec![SocketAddr::new(ip, port)],
                Err(_) => {
                    let lookup = tokio::net::lookup_host((host.as_str(), port));
                    match tokio::time::timeout(connect_timeout, lookup).await {
                        Err(_) => return Err(Error::DnsTimeout),
                        Ok(Err(e)) => {
                            return Err(Error::DnsError {
                                rcode: Some(e.to_string()),
                                info_code: None,
                            });
                        }
                        Ok(Ok(addrs)) => addrs.collect(),
                    }
                }
            };
            let Some(addr) = addrs.iter().copied().find(|a| allow.allows_ip(a.ip())) else {
                if let Some(first) = addrs.first() {
                    let class = non_public_class(first.ip());
                    if let Some(class) = class {
                        record(
                            &plugin,
                            &denials,
                            Denial::Address {
                                url,
                                ip: first.ip(),
                                class,
                            },
                        );
                    }
                    return Err(Error::DestinationIpProhibited);
                }
                return Err(Error::DestinationNotFound);
            };
            send_to(request, addr, &host, https.then_some(tls), options).await
        })
    }
}

trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static> Stream for T {}

/// Sends `request` over a new connection to `addr` (TLS to `host` when
/// `tls` is given).
async fn send_to(
    mut request: http::Request<WasiBody>,
    addr: SocketAddr,
    host: &str,
    tls: Option<Arc<rustls::ClientConfig>>,
    options: Option<RequestOptions>,
) -> Result<(http::Response<WasiBody>, IoFuture), Error> {
    let connect_timeout = options
        .and_then(|o| o.connect_timeout)
        .unwrap_or(DEFAULT_TIMEOUT);
    let first_byte_timeout = options
        .and_then(|o| o.first_byte_timeout)
        .unwrap_or(DEFAULT_TIMEOUT);
    let tcp = tokio::time::timeout(connect_timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| Error::ConnectionTimeout)?
        .map_err(Error::Connect)?;
    let stream: Box<dyn Stream> = match tls {
        None => Box::new(tcp),
        Some(config) => {
            let name = match host.parse::<IpAddr>() {
                Ok(ip) => rustls::pki_types::ServerName::from(ip),
                Err(_) => rustls::pki_types::ServerName::try_from(host.to_owned())?,
            };
            let connector = tokio_rustls::TlsConnector::from(config);
            let tls = tokio::time::timeout(connect_timeout, connector.connect(name, tcp))
                .await
                .map_err(|_| Error::ConnectionTimeout)?
                .map_err(Error::Tls)?;
            Box::new(tls)
        }
    };
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let conn = tokio::spawn(conn);
    // The request line carries only the path: scheme and authority are for proxies.
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    *request.uri_mut() = http::Uri::try_from(path).map_err(|_| Error::HttpRequestUriInvalid)?;
    let response = tokio::time::timeout(first_byte_timeout, sender.send_request(request))
        .await
        .map_err(|_| Error::ConnectionReadTimeout)??;
    let response = response.map(|body| body.map_err(Error::from).boxed_unsync());
    let io: IoFuture = Box::new(async move {
        match conn.await {
            Ok(result) => result.map_err(Error::from),
            Err(_) => Err(Error::ConnectionTerminated),
        }
    });
    Ok((response, io))
}
