//! The HTTP side of a scrape: one client per job (TLS and proxy by
//! `pharos-http-client`, compression, connections)
//! and one GET per scrape with Prometheus' headers, auth, a timeout over
//! the whole exchange and a limit on the (decompressed) body.
//!
//! As Prometheus does: `Accept` is [`SCRAPE_ACCEPT_HEADER`],
//! `X-Prometheus-Scrape-Timeout-Seconds` carries the timeout, gzip is asked
//! for unless `enable_compression = false`, only 200 is a success, secrets
//! in files (`bearer_token_file`, `password_file`) are read at every scrape
//! so rotated secrets are picked up, and no proxy is taken from the
//! environment.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use pharos_config::{HttpClientConfig, Scheme, ScrapeConfig};
use pharos_textparse::SCRAPE_ACCEPT_HEADER;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};

use crate::error::{ClientError, ScrapeError};

/// Connections kept open between scrapes, per target. The HTTP library
/// keeps a read buffer per connection that grows to about 400 KiB with
/// large bodies and never shrinks, which made plain-HTTP keep-alive cost
/// more memory than the samples of the targets' series; a fresh loopback
/// or LAN connection per scrape costs a few microseconds. For HTTPS the
/// handshake costs more than the buffer, so those connections are kept.
fn idle_connections(cfg: &ScrapeConfig) -> usize {
    match cfg.scheme {
        Scheme::Https => 2,
        Scheme::Http => 0,
    }
}

/// The body limit of a job that sets no `body_size_limit` (Prometheus
/// reads any size; a target, or a gzip body that inflates a thousandfold,
/// could then take all memory). Set a larger `body_size_limit` to raise it.
pub const DEFAULT_BODY_SIZE_LIMIT: u64 = 128 << 20;

/// At most this much is reserved up front on the word of a target's
/// `Content-Length`; a body that really is larger grows the buffer as it
/// arrives (and the next scrape reserves the size actually read).
const MAX_DECLARED_PREALLOC: usize = 1 << 20;

/// A job's HTTP client and the auth it adds to each request.
#[derive(Clone)]
pub struct ScrapeClient {
    client: reqwest::Client,
    http: HttpClientConfig,
    body_limit: u64,
}

/// A scraped body and its declared type.
#[derive(Debug)]
pub struct Response {
    pub body: Bytes,
    pub content_type: Option<String>,
}

impl ScrapeClient {
    /// The client for `cfg`; `user_agent` is sent with every scrape.
    pub fn new(cfg: &ScrapeConfig, user_agent: &str) -> Result<Self, ClientError> {
        let err = |message: String| ClientError {
            job: cfg.job.clone(),
            message,
        };
        let mut b = pharos_http_client::builder(&cfg.http, user_agent)
            .map_err(|e| err(e.to_string()))?
            .pool_max_idle_per_host(idle_connections(cfg));
        if !cfg.enable_compression {
            b = b.no_gzip();
        }
        let client = b.build().map_err(|e| err(e.to_string()))?;
        Ok(ScrapeClient {
            client,
            http: cfg.http.clone(),
            body_limit: effective_body_limit(cfg.body_size_limit.bytes()),
        })
    }

    /// GETs `url`, reading the whole body within `timeout`; `size_hint`
    /// (the last body's size) saves regrowing the buffer.
    pub async fn scrape(
        &self,
        url: &url::Url,
        timeout: Duration,
        size_hint: usize,
    ) -> Result<Response, ScrapeError> {
        let fut = self.scrape_inner(url, timeout, size_hint);
        match tokio::time::timeout(timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(ScrapeError::Timeout {
                url: url.to_string(),
            }),
        }
    }

    async fn scrape_inner(
        &self,
        url: &url::Url,
        timeout: Duration,
        size_hint: usize,
    ) -> Result<Response, ScrapeError> {
        let http_err = |e: reqwest::Error| ScrapeError::Http {
            url: url.to_string(),
            message: without_url(e),
        };
        let mut req = self
            .client
            .get(url.clone())
            .header(ACCEPT, SCRAPE_ACCEPT_HEADER)
            .header(
                "X-Prometheus-Scrape-Timeout-Seconds",
                seconds_header(timeout),
            );
        req = self.authorize(req).await?;
        let mut resp = req.send().await.map_err(http_err)?;
        let status = resp.status();
        if status != reqwest::StatusCode::OK {
            return Err(ScrapeError::Status(format!(
                "{} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            )));
        }
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // With gzip the length is the compressed one, and reqwest hides it.
        let declared = resp.content_length();
        if declared.is_some_and(|n| n > self.body_limit) {
            tracing::debug!(
                url = %url,
                content_length = declared,
                limit = self.body_limit,
                "scrape body declared over the limit"
            );
            return Err(ScrapeError::BodySizeLimit);
        }
        let mut body =
            BytesMut::with_capacity(initial_capacity(declared, size_hint, self.body_limit));
        // The (decompressed) body is counted as it arrives.
        while let Some(chunk) = resp.chunk().await.map_err(http_err)? {
            if (body.len() + chunk.len()) as u64 > self.body_limit {
                return Err(ScrapeError::BodySizeLimit);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            body: body.freeze(),
            content_type,
        })
    }

    async fn authorize(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, ScrapeError> {
        if let Some(auth) = &self.http.basic_auth {
            let password = match (&auth.password, &auth.password_file) {
                (Some(p), _) => Some(p.expose().to_owned()),
                (None, Some(f)) => Some(read_secret(f).await?),
                (None, None) => None,
            };
            return Ok(req.basic_auth(&auth.username, password));
        }
        let token = match (&self.http.bearer_token, &self.http.bearer_token_file) {
            (Some(t), _) => Some(t.expose().to_owned()),
            (None, Some(f)) => Some(read_secret(f).await?),
            (None, None) => None,
        };
        Ok(match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        })
    }
}

/// The limit a scrape enforces: the job's, or [`DEFAULT_BODY_SIZE_LIMIT`]
/// when it sets none (0).
pub fn effective_body_limit(configured: u64) -> u64 {
    if configured == 0 {
        DEFAULT_BODY_SIZE_LIMIT
    } else {
        configured
    }
}

/// The buffer reserved before the body arrives: the size of the last body
/// (read under the limit), or the declared length up to a small cap;
/// never more than the limit.
fn initial_capacity(declared: Option<u64>, last: usize, limit: u64) -> usize {
    let declared = declared.map_or(0, |n| {
        usize::try_from(n).map_or(MAX_DECLARED_PREALLOC, |n| n.min(MAX_DECLARED_PREALLOC))
    });
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    last.max(declared).min(limit)
}

/// A secret file's content without surrounding blanks, as Prometheus
/// trims it.
async fn read_secret(path: &std::path::Path) -> Result<String, ScrapeError> {
    tokio::fs::read_to_string(path)
        .await
        .map(|s| s.trim().to_owned())
        .map_err(|e| ScrapeError::Secret {
            path: path.display().to_string(),
            message: e.to_string(),
        })
}

/// reqwest's error text without the "for url (…)" it appends, since the
/// scrape error names the URL itself; with its cause chain.
fn without_url(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

/// Seconds as Go's `strconv.FormatFloat(s, 'f', -1, 64)` writes them.
fn seconds_header(d: Duration) -> HeaderValue {
    let text = format!("{}", d.as_secs_f64());
    HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("10"))
}

#[cfg(test)]
mod tests;
