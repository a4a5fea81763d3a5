//! The client's TLS settings against a real TLS server on loopback whose
//! certificate (from `testdata/`, see `gen.sh`) names `target.example`
//! only: what verifies, what does not, and client certificates.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;

use pharos_config::{HttpClientConfig, TlsConfig};
use pharos_http_client::{HttpClientError, builder};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

/// Serves "ok" over TLS on a loopback port; with `client_ca`, only to
/// clients presenting a certificate it signed.
async fn server(client_ca: bool) -> String {
    let certs = CertificateDer::pem_file_iter(testdata("server.crt"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(testdata("server.key")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let b = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let b = if client_ca {
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(testdata("ca.crt")).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let v =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
        b.with_client_cert_verifier(v)
    } else {
        b.with_no_client_auth()
    };
    let acceptor = TlsAcceptor::from(Arc::new(b.with_single_cert(certs, key).unwrap()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let _ = tls
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                    )
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    format!("https://{addr}/metrics")
}

async fn get(url: &str, tls: TlsConfig) -> Result<String, String> {
    let http = HttpClientConfig {
        tls,
        ..HttpClientConfig::default()
    };
    let client = builder(&http, "pharos-test")
        .map_err(|e| e.to_string())?
        .build()
        .map_err(|e| e.to_string())?;
    let resp = client.get(url).send().await.map_err(|e| {
        // The TLS reason is in the source chain.
        let mut msg = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            src = s.source();
        }
        msg
    })?;
    resp.text().await.map_err(|e| e.to_string())
}

fn ca() -> TlsConfig {
    TlsConfig {
        ca_file: Some(testdata("ca.crt")),
        ..TlsConfig::default()
    }
}

#[tokio::test]
async fn server_name_verifies_a_certificate_that_does_not_name_the_address() {
    let url = server(false).await;
    let err = get(&url, ca()).await.unwrap_err();
    assert!(err.contains("certificate not valid for name"), "{err}");
    let named = TlsConfig {
        server_name: Some("target.example".into()),
        ..ca()
    };
    assert_eq!(get(&url, named).await.unwrap(), "ok");
    let wrong = TlsConfig {
        server_name: Some("other.example".into()),
        ..ca()
    };
    let err = get(&url, wrong).await.unwrap_err();
    assert!(err.contains("certificate not valid for name"), "{err}");
}

#[tokio::test]
async fn without_ca_file_only_public_roots_are_trusted() {
    let url = server(false).await;
    let tls = TlsConfig {
        server_name: Some("target.example".into()),
        ..TlsConfig::default()
    };
    let err = get(&url, tls).await.unwrap_err();
    assert!(err.contains("UnknownIssuer"), "{err}");
    let insecure = TlsConfig {
        insecure_skip_verify: true,
        ..TlsConfig::default()
    };
    assert_eq!(get(&url, insecure).await.unwrap(), "ok");
}

#[tokio::test]
async fn client_certificates_are_offered() {
    let url = server(true).await;
    let named = TlsConfig {
        server_name: Some("target.example".into()),
        ..ca()
    };
    assert!(get(&url, named.clone()).await.is_err());
    let with_cert = TlsConfig {
        cert_file: Some(testdata("client.crt")),
        key_file: Some(testdata("client.key")),
        ..named
    };
    assert_eq!(get(&url, with_cert).await.unwrap(), "ok");
}

#[test]
fn unusable_settings_are_clear_errors() {
    let build = |tls: TlsConfig| {
        builder(
            &HttpClientConfig {
                tls,
                ..HttpClientConfig::default()
            },
            "t",
        )
        .err()
    };
    let missing = build(TlsConfig {
        ca_file: Some(testdata("nope.crt")),
        ..TlsConfig::default()
    });
    assert!(matches!(
        missing,
        Some(HttpClientError::Read {
            what: "ca_file",
            ..
        })
    ));
    let not_pem = build(TlsConfig {
        ca_file: Some(testdata("gen.sh")),
        ..TlsConfig::default()
    });
    assert_eq!(
        not_pem.map(|e| e.to_string()),
        Some(format!(
            "ca_file {}: no PEM certificate found",
            testdata("gen.sh").display()
        ))
    );
    let half = build(TlsConfig {
        cert_file: Some(testdata("client.crt")),
        ..TlsConfig::default()
    });
    assert!(matches!(half, Some(HttpClientError::CertWithoutKey)));
    let name = build(TlsConfig {
        server_name: Some("not a name".into()),
        ..TlsConfig::default()
    });
    assert!(matches!(name, Some(HttpClientError::ServerName(_))));
}
