//! The connection to the smarthost: TCP through `wasi:sockets` (granted by
//! `allow_tcp`), and TLS with rustls inside the component.
//!
//! Why TLS lives in the guest: `wasi:sockets` gives the plugin a plain TCP
//! stream and the WIT contract has no TLS interface, so the choice was
//! between adding a host TLS import (new WIT, host and SDK surface for every
//! plugin, and a way to hand a half-used TCP socket to the host for
//! `STARTTLS`) and running TLS here. rustls runs here unchanged; only its
//! crypto provider had to be one that builds for `wasm32-wasip2` without a C
//! compiler (ring and aws-lc-rs compile C and would make clang with a wasm
//! target a build dependency of Pharos), hence RustCrypto's pure-Rust
//! `rustls-rustcrypto` (AES-GCM, ChaCha20-Poly1305, X25519, P-256/P-384,
//! RSA and ECDSA verification from the RustCrypto crates). Verifying the
//! server's RSA signatures uses only public keys, so the `rsa` crate's
//! timing advisory (RUSTSEC-2023-0071, private-key operations) does not
//! apply to it; it does to a client certificate with an RSA key, so prefer
//! an ECDSA key for `tls_config.key_file`.
//!
//! Trust: without `tls_config.ca_file`, Mozilla's roots (`webpki-roots`,
//! compiled in: the component cannot read the machine's trust store); with
//! it, only the CAs in that file, as Go's `tls.Config.RootCAs` in
//! Alertmanager. `server_name` (default: the smarthost's host) is both SNI
//! and the name the certificate must carry; `insecure_skip_verify` accepts
//! any certificate (the handshake's signatures are still checked).
//! `cert_file` and `key_file` give a client certificate to present.
//! TLS 1.2 and 1.3 only, as Go's client default.

use crate::smtp::{SmtpError, Transport};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore,
    SignatureScheme, StreamOwned,
};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

/// How to set up TLS, from `tls_config` (files already read).
pub struct TlsSettings {
    /// The name to verify and send as SNI.
    pub server_name: String,
    /// The CA certificates (PEM) of `ca_file`; Mozilla's roots when `None`.
    pub ca_pem: Option<Vec<u8>>,
    /// `insecure_skip_verify`.
    pub insecure_skip_verify: bool,
    /// Allow TLS 1.2 (`min_version` is not `TLS13`).
    pub tls12: bool,
    /// Allow TLS 1.3 (`max_version` is not `TLS12`).
    pub tls13: bool,
    /// The client certificate chain and key (PEM) of `cert_file` and
    /// `key_file`.
    pub client: Option<(Vec<u8>, Vec<u8>)>,
}

impl TlsSettings {
    /// The rustls client configuration and the server name. Errors are
    /// about the configuration (`tls_config.*`).
    pub fn client_config(&self) -> Result<(Arc<ClientConfig>, ServerName<'static>), String> {
        let provider = Arc::new(rustls_rustcrypto::provider());
        let mut versions = Vec::new();
        if self.tls12 {
            versions.push(&rustls::version::TLS12);
        }
        if self.tls13 {
            versions.push(&rustls::version::TLS13);
        }
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions)
            .map_err(|e| format!("`tls_config`: {e}"))?;
        let builder = if self.insecure_skip_verify {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
        } else {
            let mut roots = RootCertStore::empty();
            match &self.ca_pem {
                Some(pem) => {
                    for cert in CertificateDer::pem_slice_iter(pem) {
                        let cert: CertificateDer<'static> = cert.map_err(|e| {
                            format!("`tls_config.ca_file`: not a PEM certificate: {e}")
                        })?;
                        roots.add(cert).map_err(|e| {
                            format!("`tls_config.ca_file`: not a CA certificate: {e}")
                        })?;
                    }
                    if roots.is_empty() {
                        return Err("`tls_config.ca_file` holds no PEM certificate".into());
                    }
                }
                None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            }
            builder.with_root_certificates(roots)
        };
        let config = match &self.client {
            None => builder.with_no_client_auth(),
            Some((cert_pem, key_pem)) => {
                let chain = CertificateDer::pem_slice_iter(cert_pem)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("`tls_config.cert_file`: not a PEM certificate: {e}"))?;
                if chain.is_empty() {
                    return Err("`tls_config.cert_file` holds no PEM certificate".into());
                }
                // The key's text never appears in an error.
                let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|_| {
                    "`tls_config.key_file` holds no PEM private key (PKCS#8, PKCS#1 or SEC1)"
                        .to_owned()
                })?;
                builder.with_client_auth_cert(chain, key).map_err(|e| {
                    format!("`tls_config.key_file`: not usable with `tls_config.cert_file`: {e}")
                })?
            }
        };
        let name = ServerName::try_from(self.server_name.clone()).map_err(|_| {
            format!(
                "the TLS server name {:?} is neither a DNS name nor an IP address (set tls_config.server_name)",
                self.server_name
            )
        })?;
        Ok((Arc::new(config), name))
    }
}

/// `insecure_skip_verify`: any certificate, but a real handshake.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// What a TLS failure means for the operator.
pub fn describe_tls_error(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "the server's certificate is not signed by a trusted CA (set tls_config.ca_file to the CA that signed it)".into()
        }
        rustls::Error::InvalidCertificate(CertificateError::NotValidForName)
        | rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. }) => {
            "the server's certificate is not valid for the server name (the smarthost's host, or tls_config.server_name)".into()
        }
        rustls::Error::InvalidCertificate(CertificateError::Expired)
        | rustls::Error::InvalidCertificate(CertificateError::ExpiredContext { .. }) => {
            "the server's certificate has expired".into()
        }
        other => format!("handshake failed: {other}"),
    }
}

/// The connection: plain TCP, or TLS over it.
pub enum Stream {
    /// Before `STARTTLS`, or without TLS.
    Plain {
        /// The socket.
        tcp: TcpStream,
        /// What `STARTTLS` will need.
        tls: TlsParams,
    },
    /// Encrypted.
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
    /// A failed upgrade left nothing usable.
    Closed,
}

/// The TLS configuration and server name, ready for a handshake.
pub struct TlsParams {
    /// The rustls configuration.
    pub config: Arc<ClientConfig>,
    /// The name to verify and send.
    pub name: ServerName<'static>,
}

impl Stream {
    /// Connects to `host:port` (an IP address, or a name looked up through
    /// the host's `dns` interface: the names of `allow_tcp` grants need no
    /// `allow_dns`), trying each address in turn.
    pub fn connect(host: &str, port: u16, tls: TlsParams) -> Result<Stream, pharos_sdk::Error> {
        let ips: Vec<std::net::IpAddr> = match host.parse() {
            Ok(ip) => vec![ip],
            Err(_) => {
                use pharos_sdk::dns::{IpFamily, lookup_ip};
                let mut ips = lookup_ip(host, IpFamily::Ipv4)?;
                ips.extend(lookup_ip(host, IpFamily::Ipv6)?);
                ips
            }
        };
        if ips.is_empty() {
            return Err(pharos_sdk::Error::transient(format!(
                "connecting to {host}:{port}: the name has no address"
            )));
        }
        let mut last = None;
        for ip in ips {
            match TcpStream::connect((ip, port)) {
                // WASI's non-blocking connect can report success before the
                // handshake failed: only a socket with a peer is connected.
                Ok(tcp) if tcp.peer_addr().is_ok() => return Ok(Stream::Plain { tcp, tls }),
                Ok(_) => {
                    last = Some(io::Error::new(
                        io::ErrorKind::ConnectionRefused,
                        "connection refused",
                    ))
                }
                Err(e) => last = Some(e),
            }
        }
        let e = last.map(|e| e.to_string()).unwrap_or_default();
        Err(pharos_sdk::Error::transient(format!(
            "connecting to {host}:{port}: {e} (a connection the host refuses needs an allow_tcp grant, and allow_private_ips for a non-public address)"
        )))
    }

    /// Performs the TLS handshake now (so that its errors are reported as
    /// such, not as a failure to read the greeting).
    pub fn handshake(&mut self) -> Result<(), SmtpError> {
        let Stream::Plain { .. } = self else {
            return Ok(());
        };
        let Stream::Plain { tcp, tls } = std::mem::replace(self, Stream::Closed) else {
            return Ok(());
        };
        let mut conn = ClientConnection::new(tls.config, tls.name)
            .map_err(|e| SmtpError::Tls(describe_tls_error(&e)))?;
        let mut tcp = tcp;
        while conn.is_handshaking() {
            if let Err(e) = conn.complete_io(&mut tcp) {
                return Err(
                    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                        Some(tls) => SmtpError::Tls(describe_tls_error(tls)),
                        None => SmtpError::Tls(format!("handshake failed: {e}")),
                    },
                );
            }
        }
        *self = Stream::Tls(Box::new(StreamOwned::new(conn, tcp)));
        Ok(())
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain { tcp, .. } => tcp.read(buf),
            Stream::Tls(s) => s.read(buf),
            Stream::Closed => Err(io::ErrorKind::NotConnected.into()),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain { tcp, .. } => tcp.write(buf),
            Stream::Tls(s) => s.write(buf),
            Stream::Closed => Err(io::ErrorKind::NotConnected.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain { tcp, .. } => tcp.flush(),
            Stream::Tls(s) => s.flush(),
            Stream::Closed => Err(io::ErrorKind::NotConnected.into()),
        }
    }
}

impl Transport for Stream {
    fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }

    fn start_tls(&mut self) -> Result<(), SmtpError> {
        self.handshake()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(ca: Option<&str>) -> TlsSettings {
        TlsSettings {
            server_name: "smtp.example.org".into(),
            ca_pem: ca.map(|c| c.as_bytes().to_vec()),
            insecure_skip_verify: false,
            tls12: true,
            tls13: true,
            client: None,
        }
    }

    #[test]
    fn configs_build() {
        assert!(settings(None).client_config().is_ok());
        let mut s = settings(None);
        s.insecure_skip_verify = true;
        s.tls12 = false;
        assert!(s.client_config().is_ok());
        let mut s = settings(None);
        s.server_name = "127.0.0.1".into();
        assert!(s.client_config().is_ok());
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        let err = settings(Some("not a certificate\n")).client_config().err();
        assert_eq!(
            err.as_deref(),
            Some("`tls_config.ca_file` holds no PEM certificate")
        );
        let err = settings(Some(
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        ))
        .client_config()
        .err();
        assert!(
            err.as_deref()
                .is_some_and(|e| e.starts_with("`tls_config.ca_file`")),
            "{err:?}"
        );
    }

    #[test]
    fn client_certificates_need_a_key() {
        let mut s = settings(None);
        s.client = Some((b"no certificate".to_vec(), b"no key".to_vec()));
        assert_eq!(
            s.client_config().err().as_deref(),
            Some("`tls_config.cert_file` holds no PEM certificate")
        );
        s.client = Some((
            b"-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n".to_vec(),
            b"-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n".to_vec(),
        ));
        let err = s.client_config().err().unwrap_or_default();
        assert!(err.starts_with("`tls_config.key_file`"), "{err}");
        assert!(!err.contains("c2VjcmV0"), "{err}");
    }

    #[test]
    fn a_bad_server_name_is_refused() {
        let mut s = settings(None);
        s.server_name = "not a name".into();
        assert!(s.client_config().is_err());
    }
}
