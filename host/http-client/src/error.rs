//! Why a client could not be set up.

use std::path::PathBuf;

/// A TLS or proxy setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum HttpClientError {
    /// A file named in `tls` cannot be read.
    #[error("reading {what} {}: {source}", path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file named in `tls` holds no usable PEM data.
    #[error("{what} {}: {message}", path.display())]
    Pem {
        what: &'static str,
        path: PathBuf,
        message: String,
    },
    /// `cert_file` without `key_file` or the other way round.
    #[error("tls: cert_file and key_file must be given together")]
    CertWithoutKey,
    /// `server_name` is not a DNS name or IP address.
    #[error("tls: server_name {0:?} is not a valid DNS name or IP address")]
    ServerName(String),
    /// The certificates or the key were refused by the TLS library.
    #[error("tls: {0}")]
    Tls(String),
    /// `proxy_url` cannot be used.
    #[error("proxy_url {url}: {message}")]
    Proxy { url: String, message: String },
}
