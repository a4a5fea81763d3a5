//! `GET /api/v1/targets`: the scrape targets, shaped as Prometheus' answer
//! (`activeTargets` with `discoveredLabels`, `labels`, `scrapePool`,
//! `scrapeUrl`, `globalUrl`, `lastError`, `lastScrape`,
//! `lastScrapeDuration`, `health`, `scrapeInterval`, `scrapeTimeout`;
//! `droppedTargets` with `discoveredLabels`), filtered by `state`
//! (`active`, `dropped`, `any`) and `scrapePool`.

use std::time::SystemTime;

use axum::extract::State;
use pharos_model::{Labels, format_duration};
use pharos_scrape::ActiveTarget;
use serde::Serialize;

use super::params::Params;
use super::{ApiError, ApiResponse, AppState};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetJson {
    discovered_labels: Labels,
    labels: Labels,
    scrape_pool: String,
    scrape_url: String,
    global_url: String,
    last_error: String,
    last_scrape: String,
    last_scrape_duration: f64,
    health: &'static str,
    scrape_interval: String,
    scrape_timeout: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DroppedJson {
    discovered_labels: Labels,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetsJson {
    active_targets: Vec<TargetJson>,
    dropped_targets: Vec<DroppedJson>,
}

pub async fn targets(
    State(state): State<AppState>,
    params: Params,
) -> Result<ApiResponse<TargetsJson>, ApiError> {
    let which = params.get("state").map(str::to_ascii_lowercase);
    let (active, dropped) = match which.as_deref() {
        None | Some("any") => (true, true),
        Some("active") => (true, false),
        Some("dropped") => (false, true),
        // Prometheus answers nothing for an unknown state.
        Some(_) => (false, false),
    };
    let pool = params.get("scrapePool");
    let in_pool = |p: &str| pool.is_none_or(|want| want == p);
    let mut out = TargetsJson {
        active_targets: Vec::new(),
        dropped_targets: Vec::new(),
    };
    if let Some(m) = &state.scrape {
        let host = hostname();
        if active {
            out.active_targets = m
                .active_targets()
                .into_iter()
                .filter(|t| in_pool(&t.scrape_pool))
                .map(|t| target_json(t, &host))
                .collect();
        }
        if dropped {
            out.dropped_targets = m
                .dropped_targets()
                .into_iter()
                .filter(|t| in_pool(&t.scrape_pool))
                .map(|t| DroppedJson {
                    discovered_labels: t.discovered_labels,
                })
                .collect();
        }
    }
    Ok(ApiResponse::new(out))
}

fn target_json(t: ActiveTarget, host: &str) -> TargetJson {
    let s = &t.status;
    TargetJson {
        discovered_labels: t.target.discovered_labels.clone(),
        labels: t.target.series_labels.clone(),
        scrape_pool: t.scrape_pool,
        scrape_url: t.target.url.to_string(),
        global_url: global_url(&t.target.url, host),
        last_error: s.last_error.clone(),
        last_scrape: s
            .last_scrape
            .map_or_else(|| GO_ZERO_TIME.to_owned(), rfc3339),
        last_scrape_duration: s.last_scrape_duration.as_secs_f64(),
        health: s.health.as_str(),
        scrape_interval: format_duration(t.target.interval),
        scrape_timeout: format_duration(t.target.timeout),
    }
}

/// How Go prints its zero `time.Time`.
const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// The scrape URL with a loopback host replaced by this machine's name, so
/// it means something from elsewhere (Prometheus' `globalUrl`).
fn global_url(url: &url::Url, host: &str) -> String {
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    let mut u = url.clone();
    if loopback && !host.is_empty() && u.set_host(Some(host)).is_err() {
        return url.to_string();
    }
    u.to_string()
}

/// The machine's host name (empty when unknown).
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// RFC 3339 in UTC with the fraction Go's `RFC3339Nano` prints (trailing
/// zeros cut, none when whole seconds).
pub(crate) fn rfc3339(t: SystemTime) -> String {
    jiff::Timestamp::try_from(t)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_string()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn times_like_go() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_120);
        assert_eq!(rfc3339(t), "2023-11-14T22:13:20.12Z");
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(rfc3339(t), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn global_urls_replace_loopback_hosts() {
        let u =
            url::Url::parse("http://127.0.0.1:9100/metrics?x=1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(global_url(&u, "box"), "http://box:9100/metrics?x=1");
        let u = url::Url::parse("http://db:9100/metrics").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(global_url(&u, "box"), "http://db:9100/metrics");
    }
}
