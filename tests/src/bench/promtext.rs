//! Prometheus' own answers to queries it refuses: the HTTP status of each
//! `errorType` and the texts of the limits (Prometheus 3.x,
//! `web/api/v1/api.go` and `promql/engine.go`), to check that Pharos
//! refuses with the same words.

/// How an error answer compares with what Prometheus says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wording {
    /// Word for word a text Prometheus answers with.
    Same,
    /// Prometheus' wrapper (`invalid parameter "query": …`) around a
    /// message of Pharos' own: PromQL parse errors differ between the two
    /// parsers in their details.
    Wrapper,
    /// Not a text Prometheus answers with.
    Different,
}

impl Wording {
    pub fn as_str(self) -> &'static str {
        match self {
            Wording::Same => "prometheus",
            Wording::Wrapper => "prometheus wrapper",
            Wording::Different => "NOT prometheus",
        }
    }
}

/// Texts Prometheus answers with, word for word.
const EXACT: &[&str] = &[
    // promql.ErrTooManySamples("query execution").
    "query processing would load too many samples into memory in query execution",
    // promql.ErrQueryTimeout: waiting for a slot, at the start, and while
    // evaluating (checked at every node and step).
    "query timed out in query queue",
    "query timed out in query execution",
    "query timed out in expression evaluation",
    "query was canceled in query queue",
    "query was canceled in query execution",
    "query was canceled in expression evaluation",
    // api.go queryRange.
    "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
    "zero or negative query resolution step widths are not accepted. Try a positive integer",
    "end timestamp must not be before start time",
    // promql: a function dropped the names of several series alike.
    "vector cannot contain metrics with the same labelset",
];

/// Prometheus' texts of a bad parameter (`invalidParamError`), with what
/// must follow the prefix to be its wording too.
const PARAM: &[(&str, &str)] = &[
    (
        "invalid parameter \"start\": cannot parse ",
        " to a valid timestamp",
    ),
    (
        "invalid parameter \"end\": cannot parse ",
        " to a valid timestamp",
    ),
    (
        "invalid parameter \"time\": cannot parse ",
        " to a valid timestamp",
    ),
    (
        "invalid parameter \"step\": cannot parse ",
        " to a valid duration",
    ),
];

/// Compares an error answer with Prometheus'.
pub fn wording(text: &str) -> Wording {
    if EXACT.contains(&text)
        || PARAM
            .iter()
            .any(|(pre, post)| text.starts_with(pre) && text.ends_with(post))
    {
        Wording::Same
    } else if text.starts_with("invalid parameter \"query\": ") {
        Wording::Wrapper
    } else {
        Wording::Different
    }
}

/// The HTTP status Prometheus answers an `errorType` with
/// (`returnAPIError` in `web/api/v1/api.go`).
pub fn status_of(error_type: &str) -> Option<u16> {
    Some(match error_type {
        "bad_data" => 400,
        "execution" => 422,
        "timeout" | "canceled" | "unavailable" => 503,
        "internal" => 500,
        "not_found" => 404,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_prometheus_texts_apart() {
        assert_eq!(wording("query timed out in query queue"), Wording::Same);
        assert_eq!(
            wording("invalid parameter \"start\": cannot parse \"x\" to a valid timestamp"),
            Wording::Same
        );
        assert_eq!(
            wording("invalid parameter \"query\": 1:1: parse error: no"),
            Wording::Wrapper
        );
        assert_eq!(wording("query timed out"), Wording::Different);
        assert_eq!(status_of("execution"), Some(422));
        assert_eq!(status_of("what"), None);
    }
}
