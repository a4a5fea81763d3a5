//! The Prometheus JSON envelope of a successful answer; errors are in
//! [`super::error`].

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A successful answer: `{"status":"success","data":…}`, with `warnings`
/// only when there are some.
#[derive(Debug)]
pub struct ApiResponse<T> {
    pub data: T,
    pub warnings: Vec<String>,
}

impl<T> ApiResponse<T> {
    pub fn new(data: T) -> Self {
        ApiResponse {
            data,
            warnings: Vec::new(),
        }
    }
}

/// The warning Prometheus adds when `limit` cut the result.
const TRUNCATED: &str = "results truncated due to limit";

impl<T> ApiResponse<Vec<T>> {
    /// The first `limit` items, with Prometheus' warning when some were cut.
    pub fn limited(mut data: Vec<T>, limit: Option<usize>) -> Self {
        let mut warnings = Vec::new();
        if let Some(n) = limit.filter(|&n| data.len() > n) {
            data.truncate(n);
            warnings.push(TRUNCATED.to_owned());
        }
        ApiResponse { data, warnings }
    }
}

#[derive(Serialize)]
struct SuccessBody<'a, T> {
    status: &'static str,
    data: &'a T,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
}

impl<T: Serialize> IntoResponse for ApiResponse<T> {
    fn into_response(self) -> Response {
        Json(SuccessBody {
            status: "success",
            data: &self.data,
            warnings: &self.warnings,
        })
        .into_response()
    }
}
