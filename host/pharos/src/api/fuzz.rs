//! Entry points for the `api_params` and `remote_write` fuzz targets
//! (`fuzz/` at the repository root) and their regression tests: the
//! request parsing of the query API and of the remote-write receiver, on
//! bytes from outside. Not an API.

use super::params::Params;
use super::query::{duration_param, time_param};
use super::write::{decode, to_batch};

/// A URL query string as the query API reads it: `time`, `start`, `end`,
/// `step`, `timeout`, `limit` and the `match[]` selectors.
pub fn params(query: &[u8]) {
    let p = Params::from_query(query);
    let _ = time_param(&p, "time", 0);
    let _ = p.time_range();
    for name in ["step", "timeout"] {
        let _ = duration_param(&p, name);
    }
    let _ = p.limit();
    let _ = p.match_query(super::ApiError::bad_data);
}

/// A remote-write body (snappy-compressed protobuf) as the receiver
/// decodes it, within its limits, into the batch it appends. Every series
/// of the batch has labels, sorted, without empty values.
pub fn remote_write(body: &[u8]) {
    let Ok(req) = decode(body) else {
        return;
    };
    let Ok(batch) = to_batch(req) else {
        return;
    };
    for s in batch {
        assert!(!s.labels.is_empty());
        assert!(s.labels.iter().all(|l| !l.value.is_empty()));
        let names: Vec<&str> = s.labels.iter().map(|l| l.name.as_str()).collect();
        assert!(names.windows(2).all(|w| w[0] < w[1]), "{names:?}");
    }
}
