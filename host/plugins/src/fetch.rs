//! Reading a component to install: a local file, or a URL downloaded with
//! reqwest (a 60 s timeout, the body capped at [`MAX_COMPONENT_BYTES`]
//! while it streams in).
//!
//! A download must not let a network attacker choose the code Pharos
//! runs: an `https://` URL is fetched over TLS all the way (a redirect
//! from `https` to `http` is refused, not followed), and an `http://` URL
//! only with `--sha256`, which the caller checks against the bytes. At
//! most [`MAX_REDIRECTS`] redirects are followed. A password in the URL
//! is sent, but masked (`xxxxx`) in errors and in the manifest's `source`.

use std::path::Path;
use std::time::Duration;

use pharos_config::redact_url;

use crate::error::StoreError;

/// The largest component accepted (first-party plugins are ~100–500 KiB).
pub const MAX_COMPONENT_BYTES: u64 = 64 << 20;

/// Redirects followed at most (as reqwest's default policy).
pub const MAX_REDIRECTS: usize = 10;

/// The bytes of `source` and how to record it in the manifest (an absolute
/// path, or the URL with its password masked). `verified` says the caller
/// checks the bytes against a `--sha256`, which plain `http` requires.
pub(crate) async fn fetch(source: &str, verified: bool) -> Result<(Vec<u8>, String), StoreError> {
    fetch_with(source, verified, None).await
}

/// [`fetch`], trusting `extra_root` besides the public roots (tests).
pub(crate) async fn fetch_with(
    source: &str,
    verified: bool,
    extra_root: Option<Tls>,
) -> Result<(Vec<u8>, String), StoreError> {
    let lower = source.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Ok((download(source, extra_root).await?, redact_url(source)));
    }
    if lower.starts_with("http://") {
        if !verified {
            return Err(StoreError::InsecureDownload {
                url: redact_url(source),
            });
        }
        return Ok((download(source, extra_root).await?, redact_url(source)));
    }
    let path = Path::new(source);
    let read_err = |e| StoreError::Read {
        path: path.to_path_buf(),
        source: e,
    };
    let len = std::fs::metadata(path).map_err(read_err)?.len();
    if len > MAX_COMPONENT_BYTES {
        return Err(StoreError::TooLarge {
            source_name: source.to_owned(),
            limit: MAX_COMPONENT_BYTES,
        });
    }
    let bytes = std::fs::read(path).map_err(read_err)?;
    let recorded = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    Ok((bytes, recorded.display().to_string()))
}

/// What a test adds to the client: a root certificate and a name that
/// resolves to a local address.
pub(crate) struct Tls {
    pub(crate) root: reqwest::Certificate,
    pub(crate) resolve: (String, std::net::SocketAddr),
}

/// Why a redirect from `from` to `to` is refused, if it is.
pub(crate) fn refuse_redirect(from: &str, to: &str, hops: usize) -> Option<String> {
    if hops > MAX_REDIRECTS {
        return Some(format!("more than {MAX_REDIRECTS} redirects"));
    }
    let https = |u: &str| u.to_ascii_lowercase().starts_with("https://");
    if https(from) && !https(to) {
        return Some(format!(
            "refusing to follow a redirect from https to {} (an https download stays on https)",
            redact_url(to)
        ));
    }
    None
}

fn client(extra: Option<Tls>) -> reqwest::Result<reqwest::Client> {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        let from = attempt
            .previous()
            .last()
            .map(|u| u.as_str().to_owned())
            .unwrap_or_default();
        let hops = attempt.previous().len();
        match refuse_redirect(&from, attempt.url().as_str(), hops) {
            Some(reason) => attempt.error(reason),
            None => attempt.follow(),
        }
    });
    let mut b = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("Pharos/", env!("CARGO_PKG_VERSION")))
        .redirect(policy);
    if let Some(t) = extra {
        b = b
            .add_root_certificate(t.root)
            .resolve(&t.resolve.0, t.resolve.1);
    }
    b.build()
}

/// `e` and its causes, without the URL reqwest puts in (it may hold a
/// password; the error names the masked URL).
fn error_chain(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut s = e.to_string();
    let mut cur = std::error::Error::source(&e);
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

async fn download(url: &str, extra: Option<Tls>) -> Result<Vec<u8>, StoreError> {
    let masked = redact_url(url);
    let err = |message: String| StoreError::Download {
        url: masked.clone(),
        message,
    };
    let client = client(extra).map_err(|e| err(error_chain(e)))?;
    let mut resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| err(error_chain(e)))?;
    if !resp.status().is_success() {
        return Err(err(format!("HTTP status {}", resp.status())));
    }
    let too_large = || StoreError::TooLarge {
        source_name: masked.clone(),
        limit: MAX_COMPONENT_BYTES,
    };
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_COMPONENT_BYTES)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| err(error_chain(e)))? {
        if body.len() as u64 + chunk.len() as u64 > MAX_COMPONENT_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn redirects_never_leave_https() {
        for (from, to, refused) in [
            ("https://a/x.wasm", "https://b/x.wasm", false),
            ("https://a/x.wasm", "http://b/x.wasm", true),
            ("HTTPS://a/x.wasm", "http://a:443/x.wasm", true),
            ("http://a/x.wasm", "https://b/x.wasm", false),
            ("http://a/x.wasm", "http://b/x.wasm", false),
        ] {
            assert_eq!(
                refuse_redirect(from, to, 1).is_some(),
                refused,
                "{from} -> {to}"
            );
        }
        assert!(refuse_redirect("https://a/", "https://a/", MAX_REDIRECTS + 1).is_some());
        let msg = refuse_redirect("https://a/", "http://u:pw@b/", 1).unwrap();
        assert!(msg.contains("http://u:xxxxx@b/"), "{msg}");
    }

    #[tokio::test]
    async fn plain_http_needs_a_sha256() {
        let err = fetch("http://u:pw@127.0.0.1:9/x.wasm", false)
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::InsecureDownload { .. }),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains("--sha256") && text.contains("https"),
            "{text}"
        );
        assert!(text.contains("u:xxxxx@127.0.0.1:9"), "{text}");
    }

    fn testdata(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../http-client/testdata")
            .join(name)
    }

    /// Serves `reply` to every request on a loopback port, over TLS with
    /// the test certificate (for `target.example`) when `tls`; counts the
    /// requests.
    async fn server(tls: bool, reply: String) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let acceptor = tls.then(|| {
            let certs = CertificateDer::pem_file_iter(testdata("server.crt"))
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            let key = PrivateKeyDer::from_pem_file(testdata("server.key")).unwrap();
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .unwrap();
            tokio_rustls::TlsAcceptor::from(Arc::new(config))
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let reply = reply.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let mut stream: Box<dyn Io> = match acceptor {
                        Some(a) => match a.accept(tcp).await {
                            Ok(s) => Box::new(s),
                            Err(_) => return,
                        },
                        None => Box::new(tcp),
                    };
                    let mut buf = vec![0u8; 4096];
                    if stream.read(&mut buf).await.unwrap_or(0) == 0 {
                        return;
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    let _ = stream.write_all(reply.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        (addr, hits)
    }

    trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
    impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

    fn ok(body: &str) -> String {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    fn redirect(to: &str) -> String {
        format!(
            "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
    }

    fn tls_for(addr: std::net::SocketAddr) -> Tls {
        let pem = std::fs::read(testdata("ca.crt")).unwrap();
        Tls {
            root: reqwest::Certificate::from_pem(&pem).unwrap(),
            resolve: ("target.example".to_owned(), addr),
        }
    }

    /// An https download that the server redirects to http is refused
    /// before the http server is asked anything, with or without a hash;
    /// an https-to-https one is followed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_https_download_is_never_redirected_to_http() {
        let (plain, plain_hits) = server(false, ok("wasm")).await;
        let to_plain = format!("http://{plain}/x.wasm");
        let (tls, _) = server(true, redirect(&to_plain)).await;
        let url = format!("https://target.example:{}/x.wasm", tls.port());
        for verified in [false, true] {
            let err = fetch_with(&url, verified, Some(tls_for(tls)))
                .await
                .unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains("refusing to follow a redirect from https to http"),
                "{text}"
            );
        }
        assert_eq!(plain_hits.load(Ordering::SeqCst), 0);

        let (tls_ok, _) = server(true, ok("wasm")).await;
        let target = format!("https://target.example:{}/y.wasm", tls_ok.port());
        let (tls_redirect, _) = server(true, redirect(&target)).await;
        // Both servers answer for target.example: the resolver sends the
        // first request to the redirecting one, the port picks the other.
        let url = format!("https://target.example:{}/x.wasm", tls_redirect.port());
        let t = tls_for(tls_redirect);
        let (bytes, recorded) = fetch_with(&url, false, Some(t)).await.unwrap();
        assert_eq!(bytes, b"wasm");
        assert_eq!(recorded, url);
    }

    /// A plain http download with a hash may follow redirects (the hash
    /// decides), and records the URL without its password.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn http_with_a_hash_downloads_and_masks_the_password() {
        let (plain, hits) = server(false, ok("wasm")).await;
        let url = format!("http://user:pw@{plain}/x.wasm");
        let (bytes, recorded) = fetch(&url, true).await.unwrap();
        assert_eq!(bytes, b"wasm");
        assert_eq!(recorded, format!("http://user:xxxxx@{plain}/x.wasm"));
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }
}
