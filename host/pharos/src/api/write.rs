//! `POST /api/v1/write`: the Prometheus remote-write 1.0 receiver
//! (snappy-compressed protobuf `WriteRequest`).
//!
//! Answers like Prometheus' `storage/remote/write_handler.go`: 204 once the
//! whole request is appended (after its WAL write); 400 in plain text for a
//! body that does not decode or samples storage refuses (the sender drops
//! it); 500 for storage failures (the sender retries).

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::StatusCode;
use pharos_model::{Label, Labels, Sample};
use pharos_prompb::{TimeSeries, WriteRequest};
use pharos_tsdb::SeriesAppend;

use super::response::PlainError;
use super::{ApiError, AppState, ErrorType};

/// Largest compressed body accepted.
pub const MAX_BODY_BYTES: usize = 32 << 20;
/// Largest decompressed body accepted (snappy declares it up front).
pub const MAX_DECODED_BYTES: usize = 256 << 20;

pub async fn write(State(state): State<AppState>, body: Body) -> Result<StatusCode, PlainError> {
    let result = receive(&state, body).await;
    if let Err(e) = &result {
        tracing::warn!(
            status = e.typ.status().as_u16(),
            error = %e.message,
            "remote write refused"
        );
    }
    result.map_err(ApiError::plain)
}

async fn receive(state: &AppState, body: Body) -> Result<StatusCode, ApiError> {
    let body = read_body(body).await?;
    let req = decode(&body)?;
    let batch = to_batch(req)?;
    if batch.is_empty() {
        return Ok(StatusCode::NO_CONTENT);
    }
    let stats = state.storage(move |s| s.append(&batch)).await?;
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

fn decode(body: &[u8]) -> Result<WriteRequest, ApiError> {
    // Checked before decoding so a tiny body cannot make us allocate
    // whatever size it claims.
    let len = snap::raw::decompress_len(body)
        .map_err(|e| ApiError::bad_data(format!("snappy decode error: {e}")))?;
    if len > MAX_DECODED_BYTES {
        return Err(ApiError::new(
            ErrorType::TooLarge,
            format!(
                "decompressed request body of {len} bytes is larger than the limit of {MAX_DECODED_BYTES} bytes"
            ),
        ));
    }
    pharos_prompb::decode_write_request(body).map_err(|e| ApiError::bad_data(e.to_string()))
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
