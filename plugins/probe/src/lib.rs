//! `probe` exporter: blackbox-style probes of HTTP endpoints and TCP ports,
//! in the spirit of Prometheus' blackbox_exporter
//! (<https://github.com/prometheus/blackbox_exporter>), as a Pharos plugin.
//!
//! Each collection probes every entry of `targets` and reports, per
//! target (label `target`), the blackbox exporter's metrics:
//!
//! - every module: `probe_success` (1 or 0) and `probe_duration_seconds`;
//! - `http` (alias `http_2xx`): `probe_http_status_code`,
//!   `probe_http_content_length` (bytes received), `probe_http_ssl` (1 for
//!   https), `probe_failed_due_to_body` (1 when a body check failed). A
//!   probe succeeds when the status is in `valid_status_codes` (any 2xx by
//!   default) and the body checks pass. Redirects are not followed.
//! - `tcp` (alias `tcp_connect`): succeeds when a connection to
//!   `host:port` opens within the timeout. Names are resolved through the
//!   host's `dns` interface (a host of `allow_tcp` needs no `allow_dns`).
//!
//! A failed probe is a sample, not an error: `probe_success` is 0 and the
//! reason is logged. A probe the host refuses (the target is not granted in
//! `allow_http` / `allow_tcp`) fails the whole collection with a `config`
//! error naming the grant, so the operator sees it.
//!
//! Not available inside the sandbox: `probe_ssl_earliest_cert_expiry` and
//! the per-phase HTTP timings (`wasi:http` exposes neither the peer's
//! certificates nor the connection phases).

mod checks;

use pharos_sdk::http::{HttpError, Request};
use pharos_sdk::{Error, Exporter, Metric, MetricFamily, MetricType, labels};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// The probe module.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
pub enum Module {
    /// An HTTP request.
    #[default]
    #[serde(rename = "http", alias = "http_2xx")]
    Http,
    /// A TCP connection.
    #[serde(rename = "tcp", alias = "tcp_connect")]
    Tcp,
}

/// The plugin's configuration.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    targets: Vec<String>,
    #[serde(default)]
    module: Module,
    #[serde(default = "default_method")]
    method: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: String,
    #[serde(default)]
    valid_status_codes: Vec<u16>,
    #[serde(default)]
    fail_if_body_not_contains: Vec<String>,
    #[serde(default)]
    fail_if_body_contains: Vec<String>,
    #[serde(default = "default_timeout")]
    timeout_seconds: f64,
}

fn default_method() -> String {
    "GET".into()
}

fn default_timeout() -> f64 {
    5.0
}

/// What one probe measured.
#[derive(Debug, Default)]
pub struct Outcome {
    success: bool,
    duration: Duration,
    status: Option<u16>,
    content_length: Option<usize>,
    ssl: Option<bool>,
    failed_due_to_body: Option<bool>,
}

struct Probe;

impl Exporter for Probe {
    type Config = Config;
    const NAME: &'static str = "probe";
    const DESCRIPTION: &'static str = "Blackbox-style HTTP and TCP probes: probe_success, probe_duration_seconds, probe_http_status_code, ...";
    const CONFIG_SCHEMA: &'static str = include_str!("../schema.json");

    fn validate(config: &Config) -> Result<(), Error> {
        checks::validate(
            &config.targets,
            config.module == Module::Http,
            config.timeout_seconds,
        )
        .map_err(Error::config)
    }

    fn collect(config: Config) -> Result<Vec<MetricFamily>, Error> {
        let timeout = Duration::from_secs_f64(config.timeout_seconds);
        let mut outcomes = Vec::with_capacity(config.targets.len());
        for target in &config.targets {
            let outcome = match config.module {
                Module::Http => probe_http(&config, target, timeout)?,
                Module::Tcp => probe_tcp(target, timeout)?,
            };
            outcomes.push((target.as_str(), outcome));
        }
        Ok(families(&outcomes))
    }
}

fn probe_http(config: &Config, url: &str, timeout: Duration) -> Result<Outcome, Error> {
    let mut request = Request::new(config.method.as_str(), url).timeout(timeout);
    for (k, v) in &config.headers {
        request = request.header(k.as_str(), v.as_str());
    }
    if !config.body.is_empty() {
        request = request.body(config.body.as_bytes().to_vec());
    }
    let started = Instant::now();
    let result = request.send();
    let duration = started.elapsed();
    let ssl = url
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
    let response = match result {
        Ok(r) => r,
        Err(e @ (HttpError::Denied { .. } | HttpError::InvalidRequest { .. })) => {
            return Err(e.into());
        }
        Err(e) => {
            pharos_sdk::log::info(
                "probe failed",
                &[("target", url), ("error", &e.to_string())],
            );
            return Ok(Outcome {
                duration,
                ..Outcome::default()
            });
        }
    };
    let status_ok = checks::status_ok(&config.valid_status_codes, response.status());
    let body = String::from_utf8_lossy(response.body());
    let body_ok = checks::body_ok(
        &body,
        &config.fail_if_body_not_contains,
        &config.fail_if_body_contains,
    );
    if !status_ok || !body_ok {
        let status = response.status().to_string();
        pharos_sdk::log::info(
            "probe failed",
            &[
                ("target", url),
                ("status", &status),
                ("body_ok", if body_ok { "true" } else { "false" }),
            ],
        );
    }
    Ok(Outcome {
        success: status_ok && body_ok,
        duration,
        status: Some(response.status()),
        content_length: Some(response.body().len()),
        ssl: Some(ssl),
        failed_due_to_body: Some(!body_ok),
    })
}

fn probe_tcp(target: &str, timeout: Duration) -> Result<Outcome, Error> {
    let (host, port) = checks::split_host_port(target).map_err(Error::config)?;
    let started = Instant::now();
    let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => {
            let mut ips = pharos_sdk::dns::lookup_ip(host, pharos_sdk::dns::IpFamily::Ipv4)?;
            ips.extend(pharos_sdk::dns::lookup_ip(
                host,
                pharos_sdk::dns::IpFamily::Ipv6,
            )?);
            ips
        }
    };
    let mut success = false;
    for ip in &addrs {
        let left = timeout.saturating_sub(started.elapsed());
        match TcpStream::connect_timeout(&SocketAddr::new(*ip, port), left) {
            // WASI's non-blocking connect can report success before the
            // handshake failed: only a socket with a peer is connected.
            Ok(stream) if stream.peer_addr().is_ok() && matches!(stream.take_error(), Ok(None)) => {
                success = true;
                break;
            }
            Ok(_) => {
                pharos_sdk::log::info(
                    "probe failed",
                    &[("target", target), ("error", "connection refused")],
                );
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Err(Error::config(format!(
                    "TCP connection to {target} ({ip}) refused by the host: grant it in allow_tcp (and allow_private_ips for a non-public address)"
                )));
            }
            Err(e) => {
                pharos_sdk::log::info(
                    "probe failed",
                    &[("target", target), ("error", &e.to_string())],
                );
            }
        }
    }
    Ok(Outcome {
        success,
        duration: started.elapsed(),
        ..Outcome::default()
    })
}

fn gauge(name: &str, help: &str, samples: Vec<(&str, f64)>) -> MetricFamily {
    MetricFamily {
        name: name.into(),
        help: help.into(),
        type_: MetricType::Gauge,
        unit: String::new(),
        metrics: samples
            .into_iter()
            .map(|(target, value)| Metric {
                suffix: String::new(),
                labels: labels([("target", target)]),
                value,
                timestamp_ms: None,
            })
            .collect(),
    }
}

fn families(outcomes: &[(&str, Outcome)]) -> Vec<MetricFamily> {
    let pick = |f: &dyn Fn(&Outcome) -> Option<f64>| -> Vec<(&str, f64)> {
        outcomes
            .iter()
            .filter_map(|(t, o)| f(o).map(|v| (*t, v)))
            .collect()
    };
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    let mut out = vec![
        gauge(
            "probe_success",
            "Displays whether or not the probe was a success",
            pick(&|o| Some(flag(o.success))),
        ),
        gauge(
            "probe_duration_seconds",
            "Returns how long the probe took to complete in seconds",
            pick(&|o| Some(o.duration.as_secs_f64())),
        ),
    ];
    let optional = [
        gauge(
            "probe_http_status_code",
            "Response HTTP status code",
            pick(&|o| o.status.map(f64::from)),
        ),
        gauge(
            "probe_http_content_length",
            "Length of http content response",
            pick(&|o| o.content_length.map(|l| l as f64)),
        ),
        gauge(
            "probe_http_ssl",
            "Indicates if SSL was used for the final redirect",
            pick(&|o| o.ssl.map(flag)),
        ),
        gauge(
            "probe_failed_due_to_body",
            "Indicates if probe failed due to a body check",
            pick(&|o| o.failed_due_to_body.map(flag)),
        ),
    ];
    out.extend(optional.into_iter().filter(|f| !f.metrics.is_empty()));
    out
}

pharos_sdk::export!(exporter: Probe);
