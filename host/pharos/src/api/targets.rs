//! `GET /api/v1/targets`: the scrape targets, shaped as Prometheus' answer
//! (`activeTargets` with `discoveredLabels`, `labels`, `scrapePool`,
//! `scrapeUrl`, `globalUrl`, `lastError`, `lastScrape`,
//! `lastScrapeDuration`, `health`, `scrapeInterval`, `scrapeTimeout`;
//! `droppedTargets` with `discoveredLabels`), filtered by `state`
//! (`active`, `dropped`, `any`) and `scrapePool`.

use std::time::{SystemTime, UNIX_EPOCH};

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
/// zeros cut).
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, day) = civil_from_days(days);
    let mut s = format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    let nanos = d.subsec_nanos();
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// (year, month, day) of days since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

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
