//! `POST /api/v1/write`: the Prometheus remote-write 1.0 receiver
//! (snappy-compressed protobuf `WriteRequest`).
//!
//! Answers like Prometheus' `storage/remote/write_handler.go`: 204 once the
//! whole request is appended (after its WAL write); 400 in plain text for a
//! body that does not decode or samples storage refuses (the sender drops
//! it); 500 for storage failures (the sender retries).
//!
//! The receiver can be turned off (`[server] enable_remote_write_receiver
//! = false`: 404, as Prometheus without its flag), and takes only what a
//! remote-write sender sends: `Content-Type: application/x-protobuf`
//! (optionally `;proto=prometheus.WriteRequest`) and `Content-Encoding:
//! snappy`, 415 otherwise with Prometheus 3's texts. Unlike Prometheus,
//! both headers are required: a web page can post a body without them
//! (no CORS preflight), and must not write into a local Pharos.
//!
//! No request can take the process down: at most `[server]
//! remote_write_receiver_max_concurrency` (default
//! [`MAX_CONCURRENT_WRITES`]) are read and decoded at once (others wait
//! up to [`ADMISSION_WAIT`], then get 503 and are retried by the sender);
//! the compressed body, the
//! snappy-declared size and the decoded size (estimated from the wire
//! before decoding) are bounded, with 413 beyond; decoding runs on a
//! blocking thread, off the async workers; and a request larger than one
//! WAL record can hold gets 413 (a 5xx would be retried forever).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use parking_lot::RwLock;
use pharos_model::{Label, Labels, Sample};
use pharos_prompb::{DecodeError, DecodeLimits, TimeSeries, WriteRequest};
use pharos_tsdb::SeriesAppend;
use pharos_tsdb::wal::{MAX_RECORD_LEN, WalError};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::{ApiError, AppState, ErrorType};

/// Largest compressed body accepted.
pub const MAX_BODY_BYTES: usize = 32 << 20;
/// Largest decompressed body accepted (snappy declares it up front).
pub const MAX_DECODED_BYTES: usize = 256 << 20;
/// Largest estimated in-memory size of a decoded request. An empty label
/// is 2 bytes on the wire and about 100 decoded (with `Vec` slack), so the
/// wire size alone does not bound memory.
pub const MAX_DECODED_MEMORY: usize = 512 << 20;
/// Requests read and decoded at the same time. Senders send small batches
/// (Prometheus: 2000 samples) and many shards, so a few slots keep up;
/// together with the limits above they bound the receiver's memory.
pub const MAX_CONCURRENT_WRITES: usize = 8;
/// How long a request waits for a slot before it gets 503.
pub const ADMISSION_WAIT: Duration = Duration::from_secs(5);
/// The fewest bytes a sample takes in a WAL samples record (series id,
/// time delta, value): a request with more samples than fit one record
/// cannot be stored at all.
const MIN_WAL_BYTES_PER_SAMPLE: usize = 10;

/// The receiver's switch and its admission gate, changed by config
/// reloads (`[server] enable_remote_write_receiver`,
/// `remote_write_receiver_max_concurrency`).
pub struct Receiver {
    enabled: AtomicBool,
    gate: RwLock<Arc<WriteGate>>,
}

impl Default for Receiver {
    /// On, with [`MAX_CONCURRENT_WRITES`] slots.
    fn default() -> Self {
        Receiver::new(true, MAX_CONCURRENT_WRITES)
    }
}

impl Receiver {
    pub fn new(enabled: bool, slots: usize) -> Self {
        Receiver {
            enabled: AtomicBool::new(enabled),
            gate: RwLock::new(Arc::new(WriteGate::new(slots, ADMISSION_WAIT))),
        }
    }

    /// Turns the receiver on or off and sets its slots. A new limit takes
    /// a new gate: requests admitted by the old one finish under it.
    pub fn apply(&self, enabled: bool, slots: usize) {
        self.enabled.store(enabled, Ordering::Relaxed);
        let mut gate = self.gate.write();
        if gate.limit != slots {
            *gate = Arc::new(WriteGate::new(slots, ADMISSION_WAIT));
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Slots for requests at once.
    pub fn limit(&self) -> usize {
        self.gate.read().limit
    }

    fn gate(&self) -> Arc<WriteGate> {
        self.gate.read().clone()
    }
}

/// The admission gate: slots for requests in flight.
pub struct WriteGate {
    slots: Semaphore,
    limit: usize,
    wait: Duration,
}

impl WriteGate {
    pub const fn new(slots: usize, wait: Duration) -> Self {
        WriteGate {
            slots: Semaphore::const_new(slots),
            limit: slots,
            wait,
        }
    }

    /// A slot, or 503 once none frees up within the wait.
    async fn admit(&self) -> Result<SemaphorePermit<'_>, ApiError> {
        match tokio::time::timeout(self.wait, self.slots.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(ApiError::new(
                ErrorType::Unavailable,
                format!(
                    "too many concurrent remote-write requests (limit {}), retry later",
                    self.limit
                ),
            )),
        }
    }
}

/// Prometheus 2.42's answer when its receiver is off (404), naming
/// Pharos' key instead of Prometheus' flag.
pub const DISABLED: &str = "remote write receiver needs to be enabled with enable_remote_write_receiver = true in [server]";

/// The media type of remote-write bodies.
const PROTOBUF: &str = "application/x-protobuf";
/// The one message Pharos decodes (remote write 1.0).
const PROTO_MSG_V1: &str = "prometheus.WriteRequest";
/// Remote write 2.0's message, which Prometheus 3 knows.
const PROTO_MSG_V2: &str = "io.prometheus.write.v2.Request";

pub async fn write(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, Response> {
    let receiver = &state.remote_write_receiver;
    if !receiver.enabled() {
        return Err(plain_text(StatusCode::NOT_FOUND, DISABLED));
    }
    if let Err(message) = check_headers(&headers) {
        tracing::warn!(status = 415, error = %message, "remote write refused");
        return Err(plain_text(StatusCode::UNSUPPORTED_MEDIA_TYPE, &message));
    }
    let gate = receiver.gate();
    let result = receive(&state, &gate, body).await;
    if let Err(e) = &result {
        tracing::warn!(
            status = e.typ.status().as_u16(),
            error = %e.message,
            "remote write refused"
        );
    }
    result.map_err(|e| ApiError::plain(e).into_response())
}

/// Go's `http.Error`: the text and a newline, as plain text.
fn plain_text(status: StatusCode, message: &str) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        format!("{message}\n"),
    )
        .into_response()
}

/// The headers a remote-write 1.0 sender sends, checked as Prometheus 3's
/// `writeHandler` checks them (its texts), except that both are required.
fn check_headers(headers: &HeaderMap) -> Result<(), String> {
    let text = |name| {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let content_type = text(header::CONTENT_TYPE).unwrap_or_default();
    let content_type = content_type.trim();
    let mut parts = content_type.split(';');
    if parts.next() != Some(PROTOBUF) {
        return Err(format!(
            "expected {PROTOBUF} as the first (media) part, got {content_type} content-type"
        ));
    }
    for p in parts {
        let pair: Vec<&str> = p.split('=').collect();
        let [name, value] = pair[..] else {
            return Err(format!(
                "as per https://www.rfc-editor.org/rfc/rfc9110#parameter expected parameters to be key-values, got {p} in {content_type} content-type"
            ));
        };
        if name.trim() != "proto" {
            continue;
        }
        match value {
            PROTO_MSG_V1 => break,
            PROTO_MSG_V2 => {
                return Err(format!(
                    "{PROTO_MSG_V2} protobuf message is not accepted by this server; accepted [{PROTO_MSG_V1}]"
                ));
            }
            other => {
                return Err(format!(
                    "got {content_type} content type; unknown remote write protobuf message {other}, supported: {PROTO_MSG_V1}, {PROTO_MSG_V2}"
                ));
            }
        }
    }
    match text(header::CONTENT_ENCODING) {
        Some(enc) if enc.eq_ignore_ascii_case("snappy") => Ok(()),
        Some(enc) => Err(format!(
            "{enc} encoding (compression) is not accepted by this server; only snappy is acceptable"
        )),
        None => Err(
            "missing Content-Encoding: the body must be snappy-compressed (Content-Encoding: snappy)"
                .to_owned(),
        ),
    }
}

async fn receive(state: &AppState, gate: &WriteGate, body: Body) -> Result<StatusCode, ApiError> {
    let _slot = gate.admit().await?;
    let body = read_body(body).await?;
    let batch = tokio::task::spawn_blocking(move || {
        let req = decode(&body)?;
        to_batch(req)
    })
    .await
    .map_err(|e| ApiError::internal(format!("decode task failed: {e}")))??;
    if batch.is_empty() {
        return Ok(StatusCode::NO_CONTENT);
    }
    let storage = state.storage.clone();
    let stats = tokio::task::spawn_blocking(move || storage.append(&batch))
        .await
        .map_err(|e| ApiError::internal(format!("storage task failed: {e}")))?
        .map_err(append_error)?;
    tracing::debug!(
        samples = stats.samples,
        series_created = stats.series_created,
        "remote write appended"
    );
    Ok(StatusCode::NO_CONTENT)
}

async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|e| {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if too_large {
                ApiError::new(
                    ErrorType::TooLarge,
                    format!("request body is larger than the limit of {MAX_BODY_BYTES} bytes"),
                )
            } else {
                ApiError::bad_data(format!("cannot read request body: {e}"))
            }
        })
}

/// Decodes within the limits: the snappy-declared length is checked
/// before decompressing; the decoded size and the sample count (at most
/// what one WAL record holds) before decoding.
pub(super) fn decode(body: &[u8]) -> Result<WriteRequest, ApiError> {
    let limits = DecodeLimits {
        max_decompressed_bytes: MAX_DECODED_BYTES,
        max_decoded_bytes: MAX_DECODED_MEMORY,
        max_samples: MAX_RECORD_LEN / MIN_WAL_BYTES_PER_SAMPLE,
    };
    match pharos_prompb::decode_write_request_limited(body, limits) {
        Ok((req, stats)) => {
            tracing::trace!(
                series = stats.series,
                samples = stats.samples,
                memory = stats.memory,
                "remote write decoded"
            );
            Ok(req)
        }
        Err(e @ DecodeError::TooLarge { .. }) => {
            Err(ApiError::new(ErrorType::TooLarge, e.to_string()))
        }
        Err(DecodeError::TooManySamples { count, limit }) => Err(too_large_for_wal(format!(
            "request of {count} samples is more than the write-ahead log takes at once (at most {limit}); send smaller batches"
        ))),
        Err(e) => Err(ApiError::bad_data(e.to_string())),
    }
}

/// A record too large for the WAL is the request's fault and answers
/// 413: the same request would fail again, so the sender must not retry
/// it. Other storage errors map as everywhere else.
fn append_error(e: pharos_tsdb::Error) -> ApiError {
    match e {
        pharos_tsdb::Error::Wal(e @ WalError::RecordTooLarge { .. }) => too_large_for_wal(format!(
            "request is larger than the write-ahead log takes at once ({e}); send smaller batches"
        )),
        e => ApiError::from(e),
    }
}

fn too_large_for_wal(message: String) -> ApiError {
    ApiError::new(ErrorType::TooLarge, message)
}

/// One [`SeriesAppend`] per time series that has samples. Exemplars and
/// metadata are not stored yet.
pub(super) fn to_batch(req: WriteRequest) -> Result<Vec<SeriesAppend>, ApiError> {
    req.timeseries
        .into_iter()
        .filter(|ts| !ts.samples.is_empty())
        .map(|ts| {
            let samples = ts
                .samples
                .iter()
                .map(|s| Sample::new(s.timestamp, s.value))
                .collect();
            Ok(SeriesAppend {
                labels: to_labels(ts)?,
                samples,
            })
        })
        .collect()
}

/// Sorted labels without empty values. Empty or duplicate label names and
/// empty label sets are refused.
fn to_labels(ts: TimeSeries) -> Result<Labels, ApiError> {
    let mut labels: Vec<Label> = ts
        .labels
        .into_iter()
        .map(|l| Label {
            name: l.name,
            value: l.value,
        })
        .collect();
    labels.sort_by(|a, b| a.name.cmp(&b.name));
    let shown = || Labels::from_pairs(labels.iter().map(|l| (l.name.clone(), l.value.clone())));
    if labels.iter().any(|l| l.name.is_empty()) {
        return Err(ApiError::bad_data(format!(
            "invalid labels for series {}: empty label name",
            shown()
        )));
    }
    if let Some(w) = labels.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(ApiError::bad_data(format!(
            "invalid labels for series {}: duplicated label {}",
            shown(),
            w[0].name
        )));
    }
    labels.retain(|l| !l.value.is_empty());
    match Labels::from_sorted(labels) {
        Some(l) if !l.is_empty() => Ok(l),
        _ => Err(ApiError::bad_data(
            "invalid labels for series: empty label set",
        )),
    }
}

#[cfg(test)]
mod tests;
