//! A small blocking HTTP client over `wasi:http` (feature `http`, on by
//! default), built on [`wstd`].
//!
//! The host lets a request through only if the operator granted its
//! scheme, host and port in the plugin's `allow_http` list (and, for
//! loopback, private and link-local addresses, in `allow_private_ips`).
//! A refused request fails with [`HttpError::Denied`], whose message says
//! what to grant; converted into an [`Error`](crate::Error) it becomes a
//! `config` error, since only the operator's configuration can fix it.
//!
//! ```no_run
//! # fn f() -> Result<(), pharos_sdk::Error> {
//! use pharos_sdk::http::Request;
//! let groups: serde_json::Value = Request::get("https://sd.example.org/targets")
//!     .header("Accept", "application/json")
//!     .send()?
//!     .error_for_status()?
//!     .json()?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::time::Duration;
use wstd::http::body::util::BodyExt;
use wstd::http::{Body, Client, ErrorCode};

/// Responses larger than this fail with [`HttpError::BodyTooLarge`] unless
/// the request raises the limit with [`Request::max_body_size`].
pub const DEFAULT_MAX_BODY_SIZE: usize = 16 << 20;

/// An HTTP request being built. Send it with [`Request::send`].
#[derive(Debug, Clone)]
pub struct Request {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    timeout: Option<Duration>,
    max_body_size: usize,
}

impl Request {
    /// A request with any method (`GET`, `POST`, …).
    pub fn new(method: impl Into<String>, url: impl Into<String>) -> Self {
        Request {
            method: method.into(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout: None,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
        }
    }

    /// A `GET` request.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new("GET", url)
    }

    /// A `POST` request with a body.
    pub fn post(url: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        Self::new("POST", url).body(body)
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets a JSON body and the `Content-Type: application/json` header.
    pub fn json<T: serde::Serialize + ?Sized>(self, value: &T) -> Result<Self, HttpError> {
        let body = serde_json::to_vec(value).map_err(|e| HttpError::InvalidRequest {
            url: self.url.clone(),
            message: format!("cannot encode the JSON body: {e}"),
        })?;
        Ok(self.header("Content-Type", "application/json").body(body))
    }

    /// Limits the time to connect and to wait for the first byte of the
    /// response. The host's timeout for the whole call still applies.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Raises or lowers the response size limit ([`DEFAULT_MAX_BODY_SIZE`]).
    pub fn max_body_size(mut self, bytes: usize) -> Self {
        self.max_body_size = bytes;
        self
    }

    /// Sends the request and reads the whole response.
    pub fn send(self) -> Result<Response, HttpError> {
        wstd::runtime::block_on(self.send_async())
    }

    async fn send_async(self) -> Result<Response, HttpError> {
        let url = self.url;
        let invalid = |message: String| HttpError::InvalidRequest {
            url: url.clone(),
            message,
        };
        let mut builder = wstd::http::Request::builder()
            .method(self.method.as_str())
            .uri(url.as_str());
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        // A known length rather than chunked encoding: some receivers
        // (webhooks behind simple proxies) refuse chunked bodies.
        let has_length = self
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-length"));
        if !self.body.is_empty() && !has_length {
            builder = builder.header("content-length", self.body.len().to_string());
        }
        // No body: one that yields no frame, so nothing is written to the
        // request's body stream. (An empty write races with the host
        // closing that stream once it has sent a bodiless request, and
        // then fails the whole request.)
        let body = if self.body.is_empty() {
            Body::from_http_body(wstd::http::body::util::Empty::<wstd::http::body::Bytes>::new())
        } else {
            Body::from(self.body)
        };
        let request = builder.body(body).map_err(|e| invalid(e.to_string()))?;
        let mut client = Client::new();
        if let Some(t) = self.timeout {
            client.set_connect_timeout(t);
            client.set_first_byte_timeout(t);
        }
        let response = client
            .send(request)
            .await
            .map_err(|e| HttpError::from_wasi(&url, &e))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = response.into_body().into_boxed_body();
        let mut bytes = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| HttpError::from_wasi(&url, &e))?;
            if let Ok(data) = frame.into_data() {
                if bytes.len() + data.len() > self.max_body_size {
                    return Err(HttpError::BodyTooLarge {
                        url,
                        limit: self.max_body_size,
                    });
                }
                bytes.extend_from_slice(&data);
            }
        }
        Ok(Response {
            url,
            status,
            headers,
            body: bytes,
        })
    }
}

/// Sends a `GET` request.
pub fn get(url: impl Into<String>) -> Result<Response, HttpError> {
    Request::get(url).send()
}

/// A complete HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    url: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The first value of a header (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body's bytes.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str, HttpError> {
        std::str::from_utf8(&self.body).map_err(|e| HttpError::Decode {
            url: self.url.clone(),
            message: format!("the body is not UTF-8: {e}"),
        })
    }

    /// The body parsed as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, HttpError> {
        serde_json::from_slice(&self.body).map_err(|e| HttpError::Decode {
            url: self.url.clone(),
            message: format!("the body is not the expected JSON: {e}"),
        })
    }

    /// The response itself if its status is 2xx, else [`HttpError::Status`].
    pub fn error_for_status(self) -> Result<Self, HttpError> {
        if (200..300).contains(&self.status) {
            return Ok(self);
        }
        let snippet: String = String::from_utf8_lossy(&self.body)
            .chars()
            .take(200)
            .collect();
        Err(HttpError::Status {
            url: self.url,
            status: self.status,
            body: snippet,
        })
    }
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The host refused the request: the operator has not granted it.
    Denied {
        /// The request's URL.
        url: String,
        /// What is missing, and which grant would allow it.
        reason: String,
    },
    /// The request could not be built (a bad URL, method or header).
    InvalidRequest {
        /// The request's URL.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// The request failed on the way (DNS, connection, TLS, timeout).
    Transport {
        /// The request's URL.
        url: String,
        /// The `wasi:http` error.
        message: String,
    },
    /// The server answered with a status other than 2xx
    /// (from [`Response::error_for_status`]).
    Status {
        /// The request's URL.
        url: String,
        /// The status code.
        status: u16,
        /// The start of the response body.
        body: String,
    },
    /// The response body exceeded the request's size limit.
    BodyTooLarge {
        /// The request's URL.
        url: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// The response body could not be decoded (not UTF-8, not the JSON
    /// expected).
    Decode {
        /// The request's URL.
        url: String,
        /// What is wrong.
        message: String,
    },
}

impl HttpError {
    fn from_wasi(url: &str, error: &wstd::http::Error) -> Self {
        let url = url.to_owned();
        match error.downcast_ref::<ErrorCode>() {
            Some(ErrorCode::HttpRequestDenied) => HttpError::Denied {
                url,
                reason: "the host is not in the plugin's allow_http grant".into(),
            },
            Some(ErrorCode::DestinationIpProhibited) => HttpError::Denied {
                url,
                reason: "the address is loopback, private or link-local and not in the \
                         plugin's allow_private_ips grant"
                    .into(),
            },
            Some(ErrorCode::HttpRequestUriInvalid) => HttpError::InvalidRequest {
                url,
                message: "invalid URL".into(),
            },
            Some(code) => HttpError::Transport {
                url,
                message: format!("{code:?}"),
            },
            None => HttpError::Transport {
                url,
                message: format!("{error:#}"),
            },
        }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Denied { url, reason } => {
                write!(f, "request to {url} denied by the host: {reason}")
            }
            HttpError::InvalidRequest { url, message } => {
                write!(f, "invalid request to {url}: {message}")
            }
            HttpError::Transport { url, message } => {
                write!(f, "request to {url} failed: {message}")
            }
            HttpError::Status { url, status, body } => {
                write!(f, "{url} answered with status {status}: {body}")
            }
            HttpError::BodyTooLarge { url, limit } => {
                write!(f, "the response of {url} exceeds {limit} bytes")
            }
            HttpError::Decode { url, message } => write!(f, "bad response from {url}: {message}"),
        }
    }
}

impl std::error::Error for HttpError {}

impl From<HttpError> for crate::Error {
    /// Denials and bad requests are `config` errors (only the configuration
    /// can fix them); network failures, 5xx and 429 are `transient`; other
    /// statuses and undecodable bodies are `permanent`.
    fn from(e: HttpError) -> Self {
        match &e {
            HttpError::Denied { .. } | HttpError::InvalidRequest { .. } => crate::Error::config(e),
            HttpError::Transport { .. } => crate::Error::transient(e),
            HttpError::Status { status, .. } if *status >= 500 || *status == 429 => {
                crate::Error::transient(e)
            }
            HttpError::Status { .. }
            | HttpError::BodyTooLarge { .. }
            | HttpError::Decode { .. } => crate::Error::permanent(e),
        }
    }
}
