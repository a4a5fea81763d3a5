//! HTTPS with rustls, configured as exporter-toolkit's `tls_server_config`
//! (`web/tls_config.go`), with its error texts where it has one.
//!
//! Certificates are read when the config is loaded or reloaded, and again
//! when one of their files changes (modification time or size, looked at
//! no more than once a second, when a connection arrives; exporter-toolkit
//! reads them at every handshake). A pair that does not load keeps the
//! running one and is logged once.
//!
//! `client_auth_type` maps onto rustls: `RequestClientCert` and
//! `RequireAnyClientCert` take any certificate whose key signs the
//! handshake (as Go, no chain check); the `Verify…` kinds check it
//! against `client_ca_file`. rustls speaks TLS 1.2 and 1.3 only, so a
//! `min_version` of `TLS10` or `TLS11` means TLS 1.2.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use parking_lot::Mutex;
use pharos_config::{ClientAuthType, ConfigError, TlsServerConfig, TlsVersion};
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
    /// from `base_dir`) and builds the rustls configuration.
    pub fn load(cfg: &TlsServerConfig, base_dir: &Path) -> Result<TlsState, ConfigError> {
        let path = |p: &Path| base_dir.join(p);
        let cert_path = path(&cfg.cert_file);
        let key_path = path(&cfg.key_file);
        let ca_path = cfg.client_ca_file.as_deref().map(path);
        // Stamps first: a file replaced while it is read is read again.
        let mut stamps = vec![Stamp::now(&cert_path), Stamp::now(&key_path)];
        stamps.extend(ca_path.as_deref().map(Stamp::now));
        let err = |key: &str, msg: String| cfg.location(key).error("", msg);

        let cert_pem = std::fs::read(&cert_path).map_err(|e| {
            let msg = format!("failed to read cert_file ({}): {e}", cert_path.display());
            err("cert_file", msg)
        })?;
        let key_pem = std::fs::read(&key_path).map_err(|e| {
            let msg = format!("failed to read key_file ({}): {e}", key_path.display());
            err("key_file", msg)
        })?;
        let pair = |why: &str| format!("failed to load X509KeyPair: {why}");
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<_, _>>()
            .map_err(|e| err("cert_file", pair(&format!("{}: {e}", cert_path.display()))))?;
        if certs.is_empty() {
            let why = format!(
                "tls: failed to find any PEM data in certificate input ({})",
                cert_path.display()
            );
            return Err(err("cert_file", pair(&why)));
        }
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
            let why = match e {
                rustls::pki_types::pem::Error::NoItemsFound => {
                    "tls: failed to find any PEM data in key input".to_owned()
                }
                e => e.to_string(),
            };
            err("key_file", pair(&format!("{why} ({})", key_path.display())))
        })?;

        let provider = Arc::new(provider(cfg));
        let verifier = match (cfg.client_auth_type, &ca_path) {
            (ClientAuthType::NoClientCert, _) => None,
            (ClientAuthType::RequestClientCert, _) => {
                Some(AnyClientCert::verifier(&provider, false))
            }
            (ClientAuthType::RequireAnyClientCert, _) => {
                Some(AnyClientCert::verifier(&provider, true))
            }
            (kind, Some(ca)) => {
                let roots = client_roots(ca).map_err(|m| err("client_ca_file", m))?;
                let builder =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
                let builder = if kind == ClientAuthType::VerifyClientCertIfGiven {
                    builder.allow_unauthenticated()
                } else {
                    builder
                };
                Some(builder.build().map_err(|e| {
                    err("client_ca_file", format!("client CA {}: {e}", ca.display()))
                })?)
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
            err("key_file", pair(&why))
        })?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(TlsState {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            source: cfg.clone(),
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

/// The CA certificates of `path`.
fn client_roots(path: &Path) -> Result<RootCertStore, String> {
    let pem = std::fs::read(path)
        .map_err(|e| format!("failed to read client_ca_file ({}): {e}", path.display()))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| format!("client_ca_file {}: {e}", path.display()))?;
        roots
            .add(cert)
            .map_err(|e| format!("client_ca_file {}: {e}", path.display()))?;
    }
    if roots.is_empty() {
        return Err(format!(
            "client_ca_file {} holds no PEM certificate",
            path.display()
        ));
    }
    Ok(roots)
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
            (state.source.clone(), state.base_dir.clone(), now)
        };
        // Read outside the lock; a concurrent connection keeps the old one.
        let (source, base_dir, now) = reload;
        let loaded = TlsState::load(&source, &base_dir);
        let mut inner = self.inner.lock();
        match loaded {
            Ok(state) => {
                tracing::info!(
                    cert_file = %state.stamps[0].path.display(),
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
