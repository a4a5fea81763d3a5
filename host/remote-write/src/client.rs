//! The HTTP side of one queue: a client built from the endpoint's config
//! (TLS and proxy by `pharos-http-client`, timeout) and one attempt at POSTing a request body, with
//! the answer sorted the way Prometheus' remote-write client does:
//! 2xx is success; 5xx, 429 with `retry_on_http_429`, and network errors
//! are worth retrying (with the `Retry-After` the endpoint asked for);
//! every other status means the batch is refused for good.

use std::time::{Duration, SystemTime};

use pharos_config::{HttpClientConfig, RemoteWriteConfig};
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};

use crate::Error;

/// The remote-write protocol version sent in
/// `X-Prometheus-Remote-Write-Version`.
pub const REMOTE_WRITE_VERSION: &str = "0.1.0";

/// How many bytes of an error response are kept for the log.
const MAX_ERROR_BODY: usize = 512;
/// How many bytes of an error response are read at most (Prometheus reads
/// 1 KiB, `maxErrMsgLen`): an endpoint answering 500 with an endless body
/// costs neither memory nor the send's time.
const MAX_ERROR_BODY_READ: usize = 1024;

/// The result of one attempt.
#[derive(Debug, PartialEq)]
pub(crate) enum Outcome {
    Success,
    /// Worth retrying; `retry_after` is what the endpoint asked for.
    Retry {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Refused for good.
    Fail {
        reason: String,
    },
}

/// An endpoint's HTTP client and request settings.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    url: reqwest::Url,
    headers: HeaderMap,
    auth: HttpClientConfig,
    retry_on_429: bool,
}

impl Client {
    pub(crate) fn new(
        queue: &str,
        cfg: &RemoteWriteConfig,
        user_agent: &str,
    ) -> Result<Client, Error> {
        let err = |message: String| Error::Client {
            queue: queue.to_owned(),
            message,
        };
        let b = pharos_http_client::builder(&cfg.http, user_agent)
            .map_err(|e| err(e.to_string()))?
            .timeout(cfg.remote_timeout)
            .pool_max_idle_per_host(usize::MAX);
        let http = b
            .build()
            .map_err(|e| err(format!("building the HTTP client: {e}")))?;

        let mut headers = HeaderMap::new();
        for (k, v) in &cfg.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|e| err(format!("header {k:?}: {e}")))?;
            let value = HeaderValue::from_str(v).map_err(|e| err(format!("header {k:?}: {e}")))?;
            headers.insert(name, value);
        }
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("snappy"));
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-protobuf"),
        );
        headers.insert(
            HeaderName::from_static("x-prometheus-remote-write-version"),
            HeaderValue::from_static(REMOTE_WRITE_VERSION),
        );
        let url = reqwest::Url::parse(cfg.url.as_str()).map_err(|e| err(format!("url: {e}")))?;
        Ok(Client {
            http,
            url,
            headers,
            auth: cfg.http.clone(),
            retry_on_429: cfg.queue_config.retry_on_http_429,
        })
    }

    /// One POST of a snappy-compressed `WriteRequest`.
    pub(crate) async fn send(&self, body: bytes::Bytes) -> Outcome {
        let req = self
            .http
            .post(self.url.clone())
            .headers(self.headers.clone())
            .body(body);
        // Credentials are read from their files on each request, so
        // rotated secrets are picked up (as Prometheus does).
        let req = match pharos_http_client::authorize(req, &self.auth) {
            Ok(r) => r,
            Err(e) => {
                return Outcome::Retry {
                    reason: e.to_string(),
                    retry_after: None,
                };
            }
        };
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                // The log line names the (masked) URL already.
                return Outcome::Retry {
                    reason: error_chain(&e.without_url()),
                    retry_after: None,
                };
            }
        };
        let status = resp.status();
        if status.is_success() {
            return Outcome::Success;
        }
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let text = error_body(resp).await;
        let reason = format!(
            "server returned HTTP status {status}: {}",
            truncate(text.trim(), MAX_ERROR_BODY)
        );
        classify(status.as_u16(), self.retry_on_429, reason, retry_after)
    }
}

/// Sorts a non-2xx status.
pub(crate) fn classify(
    status: u16,
    retry_on_429: bool,
    reason: String,
    retry_after: Option<Duration>,
) -> Outcome {
    if (500..600).contains(&status) || (status == 429 && retry_on_429) {
        Outcome::Retry {
            reason,
            retry_after,
        }
    } else {
        Outcome::Fail { reason }
    }
}

/// `Retry-After`: delay seconds, or an HTTP date (a date in the past means
/// no wait).
pub(crate) fn parse_retry_after(v: &str, now: SystemTime) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The start of an error response's body: at most
/// [`MAX_ERROR_BODY_READ`] bytes are read, the rest is never fetched (the
/// connection is closed rather than drained).
async fn error_body(mut resp: reqwest::Response) -> String {
    let mut buf = Vec::new();
    while buf.len() < MAX_ERROR_BODY_READ {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let room = MAX_ERROR_BODY_READ - buf.len();
                buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_sorted_like_prometheus() {
        let r = |s, on429| classify(s, on429, String::new(), None);
        assert!(matches!(r(500, false), Outcome::Retry { .. }));
        assert!(matches!(r(503, false), Outcome::Retry { .. }));
        assert!(matches!(r(429, true), Outcome::Retry { .. }));
        assert!(matches!(r(429, false), Outcome::Fail { .. }));
        assert!(matches!(r(400, true), Outcome::Fail { .. }));
        assert!(matches!(r(404, true), Outcome::Fail { .. }));
        assert!(matches!(r(302, true), Outcome::Fail { .. }));
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    /// An endpoint that answers 500 with a body that never ends: the send
    /// still returns, with the start of the body, after reading 1 KiB.
    #[tokio::test]
    async fn error_bodies_are_read_up_to_1_kib() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let served = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = served.clone();
        tokio::spawn(async move {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let mut req = Vec::new();
            let mut buf = [0u8; 4096];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let head =
                "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 1099511627776\r\n\r\n";
            if conn.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b'x'; 64 << 10];
            while conn.write_all(&chunk).await.is_ok() {
                counter.fetch_add(chunk.len(), std::sync::atomic::Ordering::Relaxed);
            }
        });
        let cfg: pharos_config::Config = pharos_config::Config::from_toml(
            &format!("[[remote_write]]\nurl = \"http://{addr}/push\"\nremote_timeout = \"30s\"\n"),
            "test.toml",
        )
        .expect("config");
        let client = Client::new("q", &cfg.remote_write[0], "test").expect("client");
        let started = std::time::Instant::now();
        let outcome = tokio::time::timeout(
            Duration::from_secs(20),
            client.send(bytes::Bytes::from_static(b"x")),
        )
        .await
        .expect("the send returns");
        let Outcome::Retry { reason, .. } = outcome else {
            panic!("{outcome:?}")
        };
        assert!(
            reason.starts_with("server returned HTTP status 500 Internal Server Error: xxx"),
            "{reason}"
        );
        assert!(reason.len() < 600, "{}", reason.len());
        assert!(started.elapsed() < Duration::from_secs(20));
        // The server could push at most what fits the socket buffers.
        let sent = served.load(std::sync::atomic::Ordering::Relaxed);
        assert!(sent < 64 << 20, "{sent} bytes were sent");
    }

    #[test]
    fn long_bodies_are_cut_on_a_char_boundary() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("aé", 2), "a");
    }
}
