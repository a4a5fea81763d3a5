//! `pharos-http-client`: the part of an outbound HTTP client that
//! Prometheus' `http_client_config` describes, shared by scraping and
//! remote write: TLS and the proxy. Callers add what is theirs (timeouts,
//! compression, connection pooling) to the [`reqwest::ClientBuilder`] this
//! returns; auth headers are added per request (secrets in files are
//! re-read), so they are not set here.
//!
//! TLS follows Go's `tls.Config` as Prometheus fills it:
//! - `ca_file`: the server must chain to one of its certificates, and only
//!   to those (the public roots are not added); without it, the public
//!   web PKI roots.
//! - `cert_file` + `key_file`: the client certificate offered.
//! - `server_name`: the name the server's certificate is verified against
//!   instead of the URL's host (useful when scraping by IP address).
//!   The TLS SNI extension still carries the URL's host name (none for an
//!   IP address); Go sends `server_name` there too.
//! - `insecure_skip_verify`: any certificate is accepted.

mod error;
mod tls;

pub use error::HttpClientError;

use pharos_config::HttpClientConfig;

/// Adds `http`'s credentials to a request: basic auth (the password from
/// the config or read from `password_file`) or a bearer token (from the
/// config or `bearer_token_file`). Files are read at every call, so rotated
/// secrets are picked up, as Prometheus does.
pub fn authorize(
    req: reqwest::RequestBuilder,
    http: &HttpClientConfig,
) -> Result<reqwest::RequestBuilder, HttpClientError> {
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_owned())
            .map_err(|source| HttpClientError::Read {
                what: "credentials file",
                path: p.to_path_buf(),
                source,
            })
    };
    if let Some(b) = &http.basic_auth {
        let pass = match (&b.password, &b.password_file) {
            (Some(p), _) => p.expose().to_owned(),
            (None, Some(f)) => read(f)?,
            (None, None) => String::new(),
        };
        return Ok(req.basic_auth(&b.username, Some(pass)));
    }
    if let Some(t) = &http.bearer_token {
        return Ok(req.bearer_auth(t.expose()));
    }
    if let Some(f) = &http.bearer_token_file {
        return Ok(req.bearer_auth(read(f)?));
    }
    Ok(req)
}

/// A client builder with `http`'s TLS and proxy settings and `user_agent`.
pub fn builder(
    http: &HttpClientConfig,
    user_agent: &str,
) -> Result<reqwest::ClientBuilder, HttpClientError> {
    let tls = tls::client_config(&http.tls)?;
    let b = reqwest::Client::builder()
        .user_agent(user_agent)
        .use_preconfigured_tls(tls);
    Ok(match &http.proxy_url {
        Some(proxy) => {
            b.proxy(
                reqwest::Proxy::all(proxy.as_str()).map_err(|e| HttpClientError::Proxy {
                    url: pharos_config::redact_url(proxy.as_str()),
                    message: e.to_string(),
                })?,
            )
        }
        // As Prometheus: no proxy from the environment.
        None => b.no_proxy(),
    })
}
