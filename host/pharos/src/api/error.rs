//! The one error type every handler returns, and the one place errors map
//! to the wire (Prometheus' `web/api/v1/api.go`: an `errorType` and the
//! HTTP status it answers with).

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use pharos_promql::EvalError;
use serde::Serialize;

/// Prometheus' `errorType`s and the HTTP status each answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// 400: a parameter is missing or wrong.
    BadData,
    /// 422: the request is well-formed but cannot be executed.
    Execution,
    /// 503: the server cannot serve it now.
    Unavailable,
    /// 500: something broke on our side (storage I/O, ...).
    Internal,
    /// 404.
    NotFound,
    /// 503: the query ran out of time.
    Timeout,
    /// 503: the query was cancelled.
    Canceled,
    /// 413: a request body over the limit (no Prometheus equivalent; the
    /// JSON form says `bad_data`).
    TooLarge,
}

impl ErrorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::BadData | ErrorType::TooLarge => "bad_data",
            ErrorType::Execution => "execution",
            ErrorType::Unavailable => "unavailable",
            ErrorType::Internal => "internal",
            ErrorType::NotFound => "not_found",
            ErrorType::Timeout => "timeout",
            ErrorType::Canceled => "canceled",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            ErrorType::BadData => StatusCode::BAD_REQUEST,
            ErrorType::Execution => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorType::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorType::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorType::NotFound => StatusCode::NOT_FOUND,
            ErrorType::Timeout | ErrorType::Canceled => StatusCode::SERVICE_UNAVAILABLE,
            ErrorType::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }
}

/// An API failure: its type and a readable message. Answers as
/// `{"status":"error","errorType":…,"error":…}`; see [`ApiError::plain`]
/// for endpoints that answer in plain text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub typ: ErrorType,
    pub message: String,
}

impl ApiError {
    pub fn new(typ: ErrorType, message: impl Into<String>) -> Self {
        ApiError {
            typ,
            message: message.into(),
        }
    }

    pub fn bad_data(message: impl Into<String>) -> Self {
        Self::new(ErrorType::BadData, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorType::Internal, message)
    }

    /// `invalid parameter "name": err`, as Prometheus' `invalidParamError`.
    pub fn invalid_param(name: &str, err: impl std::fmt::Display) -> Self {
        Self::bad_data(format!("invalid parameter {name:?}: {err}"))
    }

    /// The same error as a plain-text body (remote-write answers like
    /// Go's `http.Error`).
    pub fn plain(self) -> PlainError {
        PlainError(self)
    }
}

/// Refused appends are the client's fault (Prometheus answers 400 so the
/// sender drops them instead of retrying); anything else is ours.
impl From<pharos_tsdb::Error> for ApiError {
    fn from(e: pharos_tsdb::Error) -> Self {
        match e {
            pharos_tsdb::Error::Append(e) => ApiError::bad_data(e.to_string()),
            // The disk refuses writes for now: 503, which remote-write
            // senders retry.
            e @ (pharos_tsdb::Error::WriteFailed(_) | pharos_tsdb::Error::SledReopening) => {
                ApiError::new(ErrorType::Unavailable, e.to_string())
            }
            e => ApiError::internal(e.to_string()),
        }
    }
}

/// A query's failure: its kind says which `errorType`.
impl From<EvalError> for ApiError {
    fn from(e: EvalError) -> Self {
        let typ = match &e {
            EvalError::Timeout(_) => ErrorType::Timeout,
            EvalError::Canceled(_) => ErrorType::Canceled,
            EvalError::TooManySamples(_) | EvalError::Execution(_) => ErrorType::Execution,
            EvalError::BadData(_) => ErrorType::BadData,
            EvalError::Storage(_) => ErrorType::Internal,
        };
        ApiError::new(typ, e.to_string())
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    status: &'static str,
    #[serde(rename = "errorType")]
    error_type: &'static str,
    error: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            status: "error",
            error_type: self.typ.as_str(),
            error: &self.message,
        };
        (self.typ.status(), Json(body)).into_response()
    }
}

/// An [`ApiError`] answered as `text/plain`.
#[derive(Debug)]
pub struct PlainError(pub ApiError);

impl IntoResponse for PlainError {
    fn into_response(self) -> Response {
        (
            self.0.typ.status(),
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{}\n", self.0.message),
        )
            .into_response()
    }
}
