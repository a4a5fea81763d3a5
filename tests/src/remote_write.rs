//! Prometheus remote write 0.1.0 from the client side: building a
//! `WriteRequest` and POSTing its snappy-compressed protobuf body, as the
//! system tests and the benchmark do.

use anyhow::Result;
use pharos_prompb::{Label, Sample, TimeSeries, WriteRequest};

/// One series for [`write_request`]: labels and `(timestamp, value)` pairs.
pub type SeriesSpec<'a> = (Vec<(&'a str, String)>, Vec<(i64, f64)>);

/// A remote-write request from series specs.
pub fn write_request(series: &[SeriesSpec<'_>]) -> WriteRequest {
    WriteRequest {
        timeseries: series
            .iter()
            .map(|(labels, samples)| TimeSeries {
                labels: labels
                    .iter()
                    .map(|(n, v)| Label {
                        name: (*n).to_string(),
                        value: v.clone(),
                    })
                    .collect(),
                samples: samples
                    .iter()
                    .map(|(t, v)| Sample {
                        value: *v,
                        timestamp: *t,
                    })
                    .collect(),
                exemplars: vec![],
            })
            .collect(),
        metadata: vec![],
    }
}

/// POSTs a remote-write body; returns the HTTP status and body text.
pub fn post_write(
    client: &reqwest::blocking::Client,
    url: &str,
    body: Vec<u8>,
) -> Result<(u16, String)> {
    let r = client
        .post(format!("{url}/api/v1/write"))
        .header("Content-Encoding", "snappy")
        .header("Content-Type", "application/x-protobuf")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(body)
        .send()?;
    let status = r.status().as_u16();
    Ok((status, r.text()?))
}
