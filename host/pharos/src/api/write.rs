//! `POST /api/v1/write`: the Prometheus remote-write 1.0 receiver
//! (snappy-compressed protobuf `WriteRequest`).
//!
//! Answers like Prometheus' `storage/remote/write_handler.go`: 204 once the
//! whole request is appended (after its WAL write); 400 in plain text for a
//! body that does not decode or samples storage refuses (the sender drops
//! it); 500 for storage failures (the sender retries).
//!
//! No request can take the process down: at most [`MAX_CONCURRENT_WRITES`]
//! are read and decoded at once (others wait up to [`ADMISSION_WAIT`], then
//! get 503 and are retried by the sender); the compressed body, the
//! snappy-declared size and the decoded size (estimated from the wire
//! before decoding) are bounded, with 413 beyond; decoding runs on a
//! blocking thread, off the async workers; and a request larger than one
//! WAL record can hold gets 413 (a 5xx would be retried forever).

use std::sync::LazyLock;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::StatusCode;
use pharos_model::{Label, Labels, Sample};
use pharos_prompb::{DecodeError, DecodeLimits, TimeSeries, WriteRequest};
use pharos_tsdb::SeriesAppend;
use pharos_tsdb::wal::{MAX_RECORD_LEN, WalError};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::response::PlainError;
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

/// The admission gate: slots for requests in flight.
// TODO(config): the limit belongs in `[server]` (and the semaphore in
// AppState); a process-wide static until the config has a key for it.
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

static GATE: LazyLock<WriteGate> =
    LazyLock::new(|| WriteGate::new(MAX_CONCURRENT_WRITES, ADMISSION_WAIT));

pub async fn write(State(state): State<AppState>, body: Body) -> Result<StatusCode, PlainError> {
    let result = receive(&state, &GATE, body).await;
    if let Err(e) = &result {
        tracing::warn!(
            status = e.typ.status().as_u16(),
            error = %e.message,
            "remote write refused"
        );
    }
    result.map_err(ApiError::plain)
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
fn decode(body: &[u8]) -> Result<WriteRequest, ApiError> {
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
fn to_batch(req: WriteRequest) -> Result<Vec<SeriesAppend>, ApiError> {
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
