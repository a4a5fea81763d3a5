//! Prometheus remote-write 1.0: the protobuf messages of
//! `prometheus/prompb/types.proto` and `remote.proto` that a remote-write
//! request carries, declared with `prost` derives (no protoc needed), and the
//! snappy block framing around them.
//!
//! Native histograms (field 4 of `TimeSeries`) are not decoded yet; prost
//! skips unknown fields, so such requests still parse.

use prost::Message;

mod inspect;

pub use inspect::{WireError, WireStats, inspect};

/// `prometheus.WriteRequest`.
#[derive(Clone, PartialEq, Message)]
pub struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
    #[prost(message, repeated, tag = "3")]
    pub metadata: Vec<MetricMetadata>,
}

/// `prometheus.TimeSeries`.
#[derive(Clone, PartialEq, Message)]
pub struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    #[prost(message, repeated, tag = "3")]
    pub exemplars: Vec<Exemplar>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, Eq, Hash, Message)]
pub struct Label {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`.
#[derive(Clone, PartialEq, Message)]
pub struct Sample {
    #[prost(double, tag = "1")]
    pub value: f64,
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// `prometheus.Exemplar`.
#[derive(Clone, PartialEq, Message)]
pub struct Exemplar {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    #[prost(double, tag = "2")]
    pub value: f64,
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

/// `prometheus.MetricMetadata`.
#[derive(Clone, PartialEq, Message)]
pub struct MetricMetadata {
    #[prost(enumeration = "MetricType", tag = "1")]
    pub r#type: i32,
    #[prost(string, tag = "2")]
    pub metric_family_name: String,
    #[prost(string, tag = "4")]
    pub help: String,
    #[prost(string, tag = "5")]
    pub unit: String,
}

/// `prometheus.MetricMetadata.MetricType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum MetricType {
    Unknown = 0,
    Counter = 1,
    Gauge = 2,
    Histogram = 3,
    Gaugehistogram = 4,
    Summary = 5,
    Info = 6,
    Stateset = 7,
}

/// Why a remote-write body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("snappy decode error: {0}")]
    Snappy(#[from] snap::Error),
    #[error("protobuf decode error: {0}")]
    Protobuf(#[from] prost::DecodeError),
    #[error("protobuf decode error: {0}")]
    Wire(#[from] WireError),
    /// The request is well formed but over one of the [`DecodeLimits`].
    #[error("{what} of {size} bytes is larger than the limit of {limit} bytes")]
    TooLarge {
        what: &'static str,
        size: usize,
        limit: usize,
    },
    /// More samples than [`DecodeLimits::max_samples`].
    #[error("request of {count} samples is more than the limit of {limit}")]
    TooManySamples { count: usize, limit: usize },
}

/// Bounds on one request, checked before anything of that size is
/// allocated.
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    /// The uncompressed size, as snappy declares it up front.
    pub max_decompressed_bytes: usize,
    /// The estimated size of the decoded message ([`WireStats::memory`]).
    pub max_decoded_bytes: usize,
    /// Samples in the request.
    pub max_samples: usize,
}

/// Decodes a snappy-compressed `WriteRequest` within `limits`: the declared
/// uncompressed length is checked before decompressing, and the wire bytes
/// are [`inspect`]ed before decoding. Returns the counts with the request.
pub fn decode_write_request_limited(
    body: &[u8],
    limits: DecodeLimits,
) -> Result<(WriteRequest, WireStats), DecodeError> {
    let len = snap::raw::decompress_len(body)?;
    if len > limits.max_decompressed_bytes {
        return Err(DecodeError::TooLarge {
            what: "decompressed request body",
            size: len,
            limit: limits.max_decompressed_bytes,
        });
    }
    let raw = snap::raw::Decoder::new().decompress_vec(body)?;
    let stats = inspect(&raw)?;
    if stats.memory > limits.max_decoded_bytes {
        return Err(DecodeError::TooLarge {
            what: "decoded request",
            size: stats.memory,
            limit: limits.max_decoded_bytes,
        });
    }
    if stats.samples > limits.max_samples {
        return Err(DecodeError::TooManySamples {
            count: stats.samples,
            limit: limits.max_samples,
        });
    }
    Ok((WriteRequest::decode(raw.as_slice())?, stats))
}

/// Decodes a snappy-compressed (block format) `WriteRequest`.
pub fn decode_write_request(body: &[u8]) -> Result<WriteRequest, DecodeError> {
    let raw = snap::raw::Decoder::new().decompress_vec(body)?;
    Ok(WriteRequest::decode(raw.as_slice())?)
}

/// Encodes a `WriteRequest` and compresses it with snappy (block format), as
/// a remote-write sender puts it on the wire.
pub fn encode_write_request(req: &WriteRequest) -> Vec<u8> {
    let raw = req.encode_to_vec();
    // Compressing into a Vec sized by max_compress_len cannot fail.
    snap::raw::Encoder::new()
        .compress_vec(&raw)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let req = WriteRequest {
            timeseries: vec![TimeSeries {
                labels: vec![Label {
                    name: "__name__".into(),
                    value: "up".into(),
                }],
                samples: vec![Sample {
                    value: 1.5,
                    timestamp: 1000,
                }],
                exemplars: vec![],
            }],
            metadata: vec![],
        };
        let body = encode_write_request(&req);
        assert_eq!(decode_write_request(&body).ok(), Some(req));
    }

    #[test]
    fn limits_are_checked_before_allocating() {
        let limits = DecodeLimits {
            max_decompressed_bytes: 1 << 20,
            max_decoded_bytes: 1 << 20,
            max_samples: 100,
        };
        // A 6-byte body that claims 1 GiB: refused on its claim.
        let mut claim = Vec::new();
        let mut n = 1u64 << 30;
        while n >= 0x80 {
            claim.push((n as u8) | 0x80);
            n >>= 7;
        }
        claim.push(n as u8);
        let err = decode_write_request_limited(&claim, limits).expect_err("over the claim limit");
        assert_eq!(
            err.to_string(),
            "decompressed request body of 1073741824 bytes is larger than the limit of 1048576 bytes"
        );
        // 512 KiB of empty labels decode to far more than 1 MiB.
        let series = TimeSeries {
            labels: vec![Label::default(); 1 << 18],
            samples: vec![],
            exemplars: vec![],
        };
        let req = WriteRequest {
            timeseries: vec![series],
            metadata: vec![],
        };
        let body = encode_write_request(&req);
        let err = decode_write_request_limited(&body, limits).expect_err("over the memory limit");
        assert!(
            matches!(
                err,
                DecodeError::TooLarge {
                    what: "decoded request",
                    ..
                }
            ),
            "{err}"
        );
        // Within the limits the request decodes, with its counts.
        let small = WriteRequest {
            timeseries: vec![TimeSeries {
                labels: vec![Label::default(); 4],
                samples: vec![Sample::default(); 2],
                exemplars: vec![],
            }],
            metadata: vec![],
        };
        let (got, stats) =
            decode_write_request_limited(&encode_write_request(&small), limits).expect("fits");
        assert_eq!(got, small);
        assert_eq!((stats.series, stats.labels, stats.samples), (1, 4, 2));
        // One sample over the count limit.
        let many = WriteRequest {
            timeseries: vec![TimeSeries {
                labels: vec![],
                samples: vec![Sample::default(); 101],
                exemplars: vec![],
            }],
            metadata: vec![],
        };
        let err = decode_write_request_limited(&encode_write_request(&many), limits)
            .expect_err("over the sample limit");
        assert_eq!(
            err.to_string(),
            "request of 101 samples is more than the limit of 100"
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(matches!(
            decode_write_request(b"not snappy"),
            Err(DecodeError::Snappy(_))
        ));
        let not_proto = snap::raw::Encoder::new()
            .compress_vec(&[0xff, 0xff, 0xff])
            .expect("compress");
        assert!(matches!(
            decode_write_request(&not_proto),
            Err(DecodeError::Protobuf(_))
        ));
    }
}
