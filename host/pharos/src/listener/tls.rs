//! HTTPS with rustls, configured as exporter-toolkit's `tls_server_config`
//! (`web/tls_config.go`), with its error texts where it has one.
//!
//! Certificates are read when the config is loaded or reloaded, and again
//! when one of their files changes (modification time or size, looked at
//! no more than once a second, when a connection arrives; exporter-toolkit
//! reads them at every handshake). A pair that does not load keeps the
//! running one and is logged once.
//!
//! Certificate, key and client CA come from files (`cert_file`, …) or
//! inline from the config (`cert`, `key`, `client_ca`).
//!
//! `client_auth_type` maps onto rustls: `RequestClientCert` and
//! `RequireAnyClientCert` take any certificate whose key signs the
//! handshake (as Go, no chain check); the `Verify…` kinds check it
//! against the client CA, and `client_allowed_sans` then its names.
//! rustls speaks TLS 1.2 and 1.3 only, so a `min_version` of `TLS10` or
//! `TLS11` means TLS 1.2.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use parking_lot::Mutex;
use pharos_config::{ClientAuthType, ConfigError, Pem, PemSource, TlsServerConfig, TlsVersion};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme,
};
use tokio_rustls::TlsAcceptor;

/// How often certificate files are looked at for changes.
const CHECK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// A loaded TLS configuration and what it was loaded from.
pub struct TlsState {
    acceptor: TlsAcceptor,
    source: TlsServerConfig,
    http2: bool,
    base_dir: PathBuf,
    stamps: Vec<Stamp>,
}

/// A file's modification time and size when it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    path: PathBuf,
    seen: Option<(SystemTime, u64)>,
}

impl Stamp {
    fn now(path: &Path) -> Stamp {
        let seen = std::fs::metadata(path)
            .ok()
            .and_then(|m| Some((m.modified().ok()?, m.len())));
        Stamp {
            path: path.to_path_buf(),
            seen,
        }
    }
}

impl TlsState {
    /// Reads the certificate, key and client CA of `cfg` (relative paths
    /// from `base_dir`) and builds the rustls configuration; `http2`
    /// offers HTTP/2 by ALPN.
    pub fn load(
        cfg: &TlsServerConfig,
        http2: bool,
        base_dir: &Path,
    ) -> Result<TlsState, ConfigError> {
        let sources = [Some(&cfg.cert), Some(&cfg.key), cfg.client_ca.as_ref()];
        // Stamps first: a file replaced while it is read is read again.
        let stamps: Vec<Stamp> = sources
            .iter()
            .flatten()
            .filter_map(|pem| match &pem.source {
                PemSource::File(p) => Some(Stamp::now(&base_dir.join(p))),
                PemSource::Inline(_) => None,
            })
            .collect();
        let err = |key: &str, msg: String| cfg.location(key).error("", msg);

        let (cert_pem, cert_from) =
            read_pem(&cfg.cert, base_dir).map_err(|m| err(&cfg.cert.key(), m))?;
        let (key_pem, key_from) =
            read_pem(&cfg.key, base_dir).map_err(|m| err(&cfg.key.key(), m))?;
        let pair = |why: &str| format!("failed to load X509KeyPair: {why}");
        let cert_key = cfg.cert.key();
        let key_key = cfg.key.key();
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<_, _>>()
            .map_err(|e| err(&cert_key, pair(&format!("{cert_from}: {e}"))))?;
        if certs.is_empty() {
            let why =
                format!("tls: failed to find any PEM data in certificate input ({cert_from})");
            return Err(err(&cert_key, pair(&why)));
        }
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
            let why = match e {
                rustls::pki_types::pem::Error::NoItemsFound => {
                    "tls: failed to find any PEM data in key input".to_owned()
                }
                e => e.to_string(),
            };
            err(&key_key, pair(&format!("{why} ({key_from})")))
        })?;

        let provider = Arc::new(provider(cfg));
        let verifier = match (cfg.client_auth_type, &cfg.client_ca) {
            (ClientAuthType::NoClientCert, _) => None,
            (ClientAuthType::RequestClientCert, _) => {
                Some(AnyClientCert::verifier(&provider, false))
            }
            (ClientAuthType::RequireAnyClientCert, _) => {
                Some(AnyClientCert::verifier(&provider, true))
            }
            (kind, Some(ca)) => {
                let ca_key = ca.key();
                let roots = client_roots(ca, base_dir).map_err(|m| err(&ca_key, m))?;
                let builder =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
                let builder = if kind == ClientAuthType::VerifyClientCertIfGiven
                    && cfg.client_allowed_sans.is_empty()
                {
                    builder.allow_unauthenticated()
                } else {
                    builder
                };
                let verifier = builder
                    .build()
                    .map_err(|e| err(&ca_key, format!("client CA: {e}")))?;
                Some(AllowedSans::wrap(verifier, &cfg.client_allowed_sans))
            }
            // The config loader requires client_ca_file for these.
            (kind, None) => {
                let msg = format!("client_auth_type {} needs client_ca_file", kind.as_str());
                return Err(err("", msg));
            }
        };
        let versions: Vec<&'static rustls::SupportedProtocolVersion> = [
            (TlsVersion::Tls12, &rustls::version::TLS12),
            (TlsVersion::Tls13, &rustls::version::TLS13),
        ]
        .into_iter()
        .filter(|(v, _)| (cfg.min_version..=cfg.max_version).contains(v))
        .map(|(_, p)| p)
        .collect();
        let builder = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&versions)
            .map_err(|e| err("", format!("TLS versions: {e}")))?;
        let builder = match verifier {
            None => builder.with_no_client_auth(),
            Some(v) => builder.with_client_cert_verifier(v),
        };
        let mut config = builder.with_single_cert(certs, key).map_err(|e| {
            let why = match e {
                rustls::Error::InconsistentKeys(_) => {
                    "tls: private key does not match public key".to_owned()
                }
                e => e.to_string(),
            };
            err(&key_key, pair(&why))
        })?;
        config.ignore_client_order = cfg.prefer_server_cipher_suites;
        config.alpn_protocols = if http2 {
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        } else {
            vec![b"http/1.1".to_vec()]
        };
        Ok(TlsState {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            source: cfg.clone(),
            http2,
            base_dir: base_dir.to_path_buf(),
            stamps,
        })
    }

    /// Whether a file changed since it was read.
    fn changed(&self) -> bool {
        self.stamps.iter().any(|s| Stamp::now(&s.path) != *s)
    }
}

/// ring's provider, narrowed to the configured TLS 1.2 suites (TLS 1.3's
/// are kept, as Go keeps them) and key exchange groups.
fn provider(cfg: &TlsServerConfig) -> CryptoProvider {
    let mut p = rustls::crypto::ring::default_provider();
    if !cfg.cipher_suites.is_empty() {
        let mut suites: Vec<_> = p
            .cipher_suites
            .iter()
            .filter(|s| s.tls13().is_some())
            .copied()
            .collect();
        for name in &cfg.cipher_suites {
            suites.extend(
                p.cipher_suites
                    .iter()
                    .filter(|s| s.tls13().is_none() && format!("{:?}", s.suite()) == *name)
                    .copied(),
            );
        }
        p.cipher_suites = suites;
    }
    if !cfg.curve_preferences.is_empty() {
        let groups = p.kx_groups.clone();
        p.kx_groups = cfg
            .curve_preferences
            .iter()
            .filter_map(|name| {
                let want = match name.as_str() {
                    "X25519" => rustls::NamedGroup::X25519,
                    "CurveP256" => rustls::NamedGroup::secp256r1,
                    "CurveP384" => rustls::NamedGroup::secp384r1,
                    _ => return None,
                };
                groups.iter().find(|g| g.name() == want).copied()
            })
            .collect();
    }
    p
}

/// The PEM bytes of `pem` and how to name where they came from in an
/// error: the file's path, or the config key.
fn read_pem(pem: &Pem, base_dir: &Path) -> Result<(Vec<u8>, String), String> {
    match &pem.source {
        PemSource::File(p) => {
            let path = base_dir.join(p);
            let bytes = std::fs::read(&path)
                .map_err(|e| format!("failed to read {} ({}): {e}", pem.key(), path.display()))?;
            Ok((bytes, path.display().to_string()))
        }
        PemSource::Inline(secret) => Ok((secret.expose().as_bytes().to_vec(), pem.key())),
    }
}

/// The CA certificates of `ca`.
fn client_roots(ca: &Pem, base_dir: &Path) -> Result<RootCertStore, String> {
    let (pem, from) = read_pem(ca, base_dir)?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| format!("{} {from}: {e}", ca.key()))?;
        roots
            .add(cert)
            .map_err(|e| format!("{} {from}: {e}", ca.key()))?;
    }
    if roots.is_empty() {
        return Err(format!("{} {from} holds no PEM certificate", ca.key()));
    }
    Ok(roots)
}

/// `client_allowed_sans`: a certificate the CA verifier accepted must also
/// name one of these as a subject alternative name (DNS name, e-mail
/// address, IP address or URI, compared exactly as exporter-toolkit
/// compares Go's `x509.Certificate` fields). With names to check, a
/// certificate is required.
struct AllowedSans {
    inner: Arc<dyn ClientCertVerifier>,
    allowed: Vec<String>,
}

impl AllowedSans {
    fn wrap(inner: Arc<dyn ClientCertVerifier>, allowed: &[String]) -> Arc<dyn ClientCertVerifier> {
        if allowed.is_empty() {
            return inner;
        }
        Arc::new(AllowedSans {
            inner,
            allowed: allowed.to_vec(),
        })
    }
}

impl fmt::Debug for AllowedSans {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AllowedSans")
            .field("allowed", &self.allowed)
            .finish()
    }
}

/// The subject alternative names of a DER certificate, as Go prints them
/// (an IPv4 address in IPv6 form as IPv4).
fn subject_alt_names(der: &[u8]) -> Result<Vec<String>, String> {
    use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
    let (_, cert) = X509Certificate::from_der(der)
        .map_err(|e| format!("error parsing client certificate: {e}"))?;
    let san = cert
        .subject_alternative_name()
        .map_err(|e| format!("error parsing client certificate: {e}"))?;
    let mut names = Vec::new();
    for name in san.iter().flat_map(|s| s.value.general_names.iter()) {
        match name {
            GeneralName::DNSName(n) | GeneralName::RFC822Name(n) | GeneralName::URI(n) => {
                names.push((*n).to_owned());
            }
            GeneralName::IPAddress(b) => {
                let ip = match *b {
                    [a, b, c, d] => std::net::IpAddr::from([*a, *b, *c, *d]),
                    b => match <[u8; 16]>::try_from(b) {
                        Ok(v6) => {
                            let v6 = std::net::Ipv6Addr::from(v6);
                            v6.to_ipv4_mapped()
                                .map_or(std::net::IpAddr::V6(v6), std::net::IpAddr::V4)
                        }
                        Err(_) => continue,
                    },
                };
                names.push(ip.to_string());
            }
            _ => {}
        }
    }
    Ok(names)
}

/// Why a client certificate was refused for its names.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct SanRefused(String);

impl ClientCertVerifier for AllowedSans {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        let refuse = |why: String| {
            rustls::Error::InvalidCertificate(rustls::CertificateError::Other(rustls::OtherError(
                Arc::new(SanRefused(why)),
            )))
        };
        let names = subject_alt_names(end_entity).map_err(refuse)?;
        if names.iter().any(|n| self.allowed.contains(n)) {
            return Ok(verified);
        }
        Err(refuse(format!(
            "client certificate has none of client_allowed_sans {:?}; its names: {names:?}",
            self.allowed
        )))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `RequestClientCert` / `RequireAnyClientCert`: any certificate, as long
/// as the client proves it holds its key.
struct AnyClientCert {
    mandatory: bool,
    algorithms: WebPkiSupportedAlgorithms,
}

impl AnyClientCert {
    fn verifier(provider: &CryptoProvider, mandatory: bool) -> Arc<dyn ClientCertVerifier> {
        Arc::new(AnyClientCert {
            mandatory,
            algorithms: provider.signature_verification_algorithms,
        })
    }
}

impl fmt::Debug for AnyClientCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnyClientCert")
            .field("mandatory", &self.mandatory)
            .finish()
    }
}

impl ClientCertVerifier for AnyClientCert {
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The running TLS state: replaced on reload, reloaded when its files
/// change.
pub struct TlsReloader {
    inner: Mutex<Inner>,
}

struct Inner {
    state: Option<TlsState>,
    checked: Instant,
    /// Stamps of files that failed to load, so the failure is logged once.
    failed: Option<Vec<Stamp>>,
}

impl TlsReloader {
    pub fn new(state: Option<TlsState>) -> Self {
        TlsReloader {
            inner: Mutex::new(Inner {
                state,
                checked: Instant::now(),
                failed: None,
            }),
        }
    }

    pub fn replace(&self, state: Option<TlsState>) {
        let mut inner = self.inner.lock();
        inner.state = state;
        inner.failed = None;
        inner.checked = Instant::now();
    }

    pub fn enabled(&self) -> bool {
        self.inner.lock().state.is_some()
    }

    /// The acceptor for a new connection, `None` for plain HTTP. Files
    /// that changed are read again first.
    pub fn acceptor(&self) -> Option<TlsAcceptor> {
        let reload = {
            let mut guard = self.inner.lock();
            let inner = &mut *guard;
            let state = inner.state.as_ref()?;
            if inner.checked.elapsed() < CHECK_INTERVAL {
                return Some(state.acceptor.clone());
            }
            inner.checked = Instant::now();
            if !state.changed() {
                return Some(state.acceptor.clone());
            }
            let now: Vec<Stamp> = state.stamps.iter().map(|s| Stamp::now(&s.path)).collect();
            if inner.failed.as_ref() == Some(&now) {
                return Some(state.acceptor.clone());
            }
            (
                state.source.clone(),
                state.http2,
                state.base_dir.clone(),
                now,
            )
        };
        // Read outside the lock; a concurrent connection keeps the old one.
        let (source, http2, base_dir, now) = reload;
        let loaded = TlsState::load(&source, http2, &base_dir);
        let mut inner = self.inner.lock();
        match loaded {
            Ok(state) => {
                let files: Vec<String> = state
                    .stamps
                    .iter()
                    .map(|s| s.path.display().to_string())
                    .collect();
                tracing::info!(
                    files = ?files,
                    "certificate files changed: TLS configuration reloaded"
                );
                inner.failed = None;
                inner.state = Some(state);
            }
            Err(e) => {
                tracing::error!(
                    error = %e,
                    "certificate files changed but do not load; keeping the running ones"
                );
                inner.failed = Some(now);
            }
        }
        inner.state.as_ref().map(|s| s.acceptor.clone())
    }
}
