//! Why a target could not be built, why a scrape failed, why a job's HTTP
//! client could not be set up. The texts are Prometheus' where Prometheus
//! has one: they are what `/api/v1/targets` shows as `lastError`.

/// A discovered target that cannot become a scrape target.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    #[error("no address")]
    NoAddress,
    #[error("{0:?} is not a valid hostname")]
    InvalidAddress(String),
    #[error("invalid target URL {0:?}: {1}")]
    InvalidUrl(String, url::ParseError),
    #[error("{0}")]
    Other(String),
}

/// A failed scrape. The scrape stores nothing but its report series
/// (`up` = 0) and staleness markers.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    /// Connection refused, DNS, TLS, a broken body, …
    #[error("Get {url:?}: {message}")]
    Http { url: String, message: String },
    #[error("Get {url:?}: context deadline exceeded")]
    Timeout { url: String },
    #[error("server returned HTTP status {0}")]
    Status(String),
    #[error("body size limit exceeded")]
    BodySizeLimit,
    #[error("{0}")]
    Parse(#[from] pharos_textparse::ParseError),
    #[error("sample limit exceeded")]
    SampleLimit,
    #[error(
        "label_limit exceeded (metric: {metric:.50}, number of labels: {count}, limit: {limit})"
    )]
    LabelLimit {
        metric: String,
        count: usize,
        limit: u64,
    },
    #[error(
        "label_name_length_limit exceeded (metric: {metric:.50}, label name: {name:.50}, length: {length}, limit: {limit})"
    )]
    LabelNameLength {
        metric: String,
        name: String,
        length: usize,
        limit: u64,
    },
    #[error(
        "label_value_length_limit exceeded (metric: {metric:.50}, label name: {name:.50}, value: {value:?}, length: {length}, limit: {limit})"
    )]
    LabelValueLength {
        metric: String,
        name: String,
        value: String,
        length: usize,
        limit: u64,
    },
    #[error("target_limit exceeded (number of targets: {count}, limit: {limit})")]
    TargetLimit { count: usize, limit: u64 },
    #[error("{0}")]
    Storage(#[from] pharos_tsdb::Error),
    #[error("reading {path}: {message}")]
    Secret { path: String, message: String },
}

/// A job whose HTTP client cannot be built (unreadable CA file, bad key…).
#[derive(Debug, thiserror::Error)]
#[error("job {job:?}: {message}")]
pub struct ClientError {
    pub job: String,
    pub message: String,
}
