//! From the file as written ([`RawConfig`]) to the effective [`Config`]:
//! defaults as Prometheus fills them, and the semantic checks Prometheus
//! makes after parsing, with its texts where it has one.
//!
//! Defaults: a job without `scrape_interval` takes the global one; a job
//! without `scrape_timeout` takes the global timeout, capped at its own
//! interval (the global timeout itself defaults to 10s capped at the global
//! interval); a zero duration counts as unset, as in Prometheus.

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use pharos_model::{Labels, PromDuration, is_valid_legacy_label_name};
use pharos_relabel::{Relabel, RelabelConfig};
use toml::Spanned;
use url::Url;

use crate::error::{ConfigError, Locator};
use crate::raw::{RawConfig, RawHttp, RawPlugin, RawRemoteWrite, RawScrape};
use crate::redact_url;
use crate::types::*;

type Result<T> = std::result::Result<T, ConfigError>;

/// Headers Prometheus refuses in `remote_write.headers` (compared without
/// case); `authorization` has its own message.
const RESERVED_HEADERS: [&str; 15] = [
    "host",
    "content-encoding",
    "content-length",
    "content-type",
    "user-agent",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "www-authenticate",
    "accept-encoding",
    "x-prometheus-remote-write-version",
    "x-prometheus-remote-read-version",
    "x-amz-date",
    "x-amz-security-token",
];

/// The exposition formats `fallback_scrape_protocol` may name (Prometheus 3).
const SCRAPE_PROTOCOLS: [&str; 5] = [
    "PrometheusProto",
    "OpenMetricsText0.0.1",
    "OpenMetricsText1.0.0",
    "PrometheusText0.0.4",
    "PrometheusText1.0.0",
];

pub(crate) fn resolve(raw: RawConfig, loc: &Locator<'_>) -> Result<Config> {
    let server = server(&raw, loc)?;
    let storage = storage(&raw, loc)?;
    let global = global(&raw, loc)?;
    let mut seen_jobs = HashSet::new();
    let mut scrape = Vec::with_capacity(raw.scrape.len());
    for (i, job) in raw.scrape.iter().enumerate() {
        let c = scrape_job(i, job, &global, loc)?;
        if !seen_jobs.insert(c.job.clone()) {
            return Err(duplicate_job(
                loc,
                job.get_ref().job.span(),
                format!("scrape[{i}].job"),
                &c.job,
            ));
        }
        scrape.push(c);
    }
    let mut exporters = Vec::with_capacity(raw.exporter.len());
    for (i, spanned) in raw.exporter.iter().enumerate() {
        let key = format!("exporter[{i}]");
        let e = spanned.get_ref();
        let job = e.job.get_ref().clone();
        if job.is_empty() {
            return Err(loc.error(Some(e.job.span()), format!("{key}.job"), "job is empty"));
        }
        if !seen_jobs.insert(job.clone()) {
            return Err(duplicate_job(loc, e.job.span(), format!("{key}.job"), &job));
        }
        if e.plugin.get_ref().is_empty() {
            return Err(loc.error(
                Some(e.plugin.span()),
                format!("{key}.plugin"),
                "plugin is empty",
            ));
        }
        let instance = match &e.instance {
            Some(i) if i.get_ref().is_empty() => {
                return Err(loc.error(
                    Some(i.span()),
                    format!("{key}.instance"),
                    "instance is empty",
                ));
            }
            Some(i) => i.get_ref().clone(),
            None => e.plugin.get_ref().clone(),
        };
        exporters.push(ExporterConfig {
            job,
            plugin: e.plugin.get_ref().clone(),
            interval: nonzero(e.interval).unwrap_or(global.scrape_interval),
            instance,
            labels: label_set(&e.labels, &format!("{key}.labels"), loc)?,
            config: e.config.clone(),
            location: loc.location(Some(spanned.span()), key),
        });
    }
    let mut plugins = BTreeMap::new();
    for (name, p) in &raw.plugins {
        plugins.insert(name.clone(), plugin_config(name, p, loc)?);
    }
    let mut remote_write = Vec::with_capacity(raw.remote_write.len());
    let mut seen_names = HashSet::new();
    for (i, rw) in raw.remote_write.iter().enumerate() {
        let c = remote_write_config(i, rw.get_ref(), loc)?;
        if let (Some(name), Some(raw_name)) = (&c.name, &rw.get_ref().name)
            && !seen_names.insert(name.clone())
        {
            let msg = format!("found multiple remote write configs with job name {name:?}");
            return Err(loc.error(
                Some(raw_name.span()),
                format!("remote_write[{i}].name"),
                msg,
            ));
        }
        remote_write.push(c);
    }
    Ok(Config {
        server,
        storage,
        global,
        scrape,
        exporters,
        plugins,
        remote_write,
        rules: rules(&raw, loc)?,
        alerting: alerting(&raw, loc)?,
        query: query(&raw),
        dashboards: dashboards(&raw, loc)?,
    })
}

fn duplicate_job(loc: &Locator<'_>, span: Range<usize>, key: String, job: &str) -> ConfigError {
    loc.error(
        Some(span),
        key,
        format!("found multiple scrape configs with job name {job:?}"),
    )
}

/// `[plugins.<name>]`: the grants as written (the plugin platform parses
/// them, and points back here with [`PluginConfig::locations`]) and the
/// limits, of which a zero memory limit is refused and a zero duration
/// counts as unset.
fn plugin_config(
    name: &str,
    spanned: &Spanned<RawPlugin>,
    loc: &Locator<'_>,
) -> Result<PluginConfig> {
    let p = spanned.get_ref();
    let table = format!("plugins.{name}");
    let mut locations = BTreeMap::new();
    locations.insert(
        String::new(),
        loc.location(Some(spanned.span()), table.clone()),
    );
    let mut list = |key: &str, entries: &[Spanned<String>]| -> Vec<String> {
        entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let k = format!("{key}[{i}]");
                let l = loc.location(Some(e.span()), format!("{table}.{k}"));
                locations.insert(k, l);
                e.get_ref().clone()
            })
            .collect()
    };
    let allow_http = list("allow_http", &p.allow_http);
    let allow_private_ips = list("allow_private_ips", &p.allow_private_ips);
    let allow_dns = list("allow_dns", &p.allow_dns);
    let allow_tcp = list("allow_tcp", &p.allow_tcp);
    let allow_read = list("allow_read", &p.allow_read);
    let memory_limit = match &p.memory_limit {
        Some(m) if m.get_ref().is_zero() => {
            let key = format!("{table}.memory_limit");
            return Err(loc.error(Some(m.span()), key, "memory_limit must be above zero"));
        }
        Some(m) => {
            let key = format!("{table}.memory_limit");
            locations.insert("memory_limit".into(), loc.location(Some(m.span()), key));
            Some(*m.get_ref())
        }
        None => None,
    };
    Ok(PluginConfig {
        allow_http,
        allow_private_ips,
        allow_dns,
        allow_tcp,
        allow_read: allow_read.into_iter().map(PathBuf::from).collect(),
        memory_limit,
        cpu_budget: nonzero(p.cpu_budget),
        timeout: nonzero(p.timeout),
        locations,
    })
}

fn query(raw: &RawConfig) -> QueryConfig {
    let q = &raw.query;
    let d = QueryConfig::default();
    QueryConfig {
        timeout: nonzero(q.timeout).unwrap_or(d.timeout),
        max_samples: q.max_samples.unwrap_or(d.max_samples),
        max_concurrency: q
            .max_concurrency
            .filter(|&n| n > 0)
            .unwrap_or(d.max_concurrency),
        lookback_delta: nonzero(q.lookback_delta).unwrap_or(d.lookback_delta),
    }
}

fn alerting(raw: &RawConfig, loc: &Locator<'_>) -> Result<AlertingSection> {
    let a = &raw.alerting;
    let mut alertmanagers = Vec::with_capacity(a.alertmanagers.len());
    for (i, am) in a.alertmanagers.iter().enumerate() {
        let key = format!("alerting.alertmanagers[{i}]");
        let r = am.get_ref();
        for t in &r.targets {
            if t.get_ref().is_empty() || t.get_ref().contains('/') {
                let msg = format!("{:?} is not a valid host:port", t.get_ref());
                return Err(loc.error(Some(t.span()), format!("{key}.targets"), msg));
            }
        }
        let scheme = match r.scheme.as_ref().map(|s| (s, s.get_ref().as_str())) {
            None | Some((_, "http")) => Scheme::Http,
            Some((_, "https")) => Scheme::Https,
            Some((s, other)) => {
                let msg = format!("unknown scheme {other:?}: must be http or https");
                return Err(loc.error(Some(s.span()), format!("{key}.scheme"), msg));
            }
        };
        if let Some(v) = &r.api_version
            && v.get_ref() != "v2"
        {
            let msg = format!(
                "expected Alertmanager api version to be one of [v2] but got {}",
                v.get_ref()
            );
            return Err(loc.error(Some(v.span()), format!("{key}.api_version"), msg));
        }
        alertmanagers.push(AlertmanagerConfig {
            targets: r.targets.iter().map(|t| t.get_ref().clone()).collect(),
            scheme,
            path_prefix: r
                .path_prefix
                .as_ref()
                .map_or_else(|| "/".to_owned(), |p| p.get_ref().clone()),
            api_version: "v2".to_owned(),
            timeout: nonzero(r.timeout).unwrap_or(Duration::from_secs(10)),
            http: http_client(r.http(), &key, loc)?,
        });
    }
    let routing = pharos_alerting::AlertingConfig {
        resolve_timeout: a.resolve_timeout.clone(),
        route: a.route.clone(),
        receivers: a.receivers.clone(),
        inhibit_rules: a.inhibit_rules.clone(),
        time_intervals: a.time_intervals.clone(),
        templates: a.templates.clone(),
    };
    // Without a route nothing is routed: an `[alerting]` that only lists
    // external Alertmanagers is valid.
    if routing.route.is_some() || !routing.receivers.is_empty() {
        routing.validate().map_err(|e| {
            let key = if e.key.is_empty() {
                "alerting".to_owned()
            } else {
                format!("alerting.{}", e.key)
            };
            loc.error(e.span.clone(), key, e.message)
        })?;
    }
    Ok(AlertingSection {
        alertmanagers,
        alert_relabel_configs: relabels(
            &a.alert_relabel_configs,
            "alerting.alert_relabel_configs",
            loc,
        )?,
        routing,
    })
}

fn rules(raw: &RawConfig, loc: &Locator<'_>) -> Result<RulesConfig> {
    let r = &raw.rules;
    let d = RulesConfig::default();
    let mut files = Vec::with_capacity(r.files.len());
    for (i, f) in r.files.iter().enumerate() {
        if f.get_ref().is_empty() {
            let msg = "empty rule file path";
            return Err(loc.error(Some(f.span()), format!("rules.files[{i}]"), msg));
        }
        if let Err(e) = glob::Pattern::new(f.get_ref()) {
            let msg = format!("invalid rule file path {:?}: {e}", f.get_ref());
            return Err(loc.error(Some(f.span()), format!("rules.files[{i}]"), msg));
        }
        files.push(f.get_ref().clone());
    }
    Ok(RulesConfig {
        files,
        query_offset: r.query_offset.map_or(d.query_offset, PromDuration::get),
        resend_delay: nonzero(r.resend_delay).unwrap_or(d.resend_delay),
        for_outage_tolerance: nonzero(r.for_outage_tolerance).unwrap_or(d.for_outage_tolerance),
        for_grace_period: r
            .for_grace_period
            .map_or(d.for_grace_period, PromDuration::get),
    })
}

/// `[[dashboards]]`: names unique and fit for a URL, a file or rows
/// (not both), panels with a query and a size that fits the grid.
fn dashboards(raw: &RawConfig, loc: &Locator<'_>) -> Result<Vec<DashboardConfig>> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(raw.dashboards.len());
    for (i, d) in raw.dashboards.iter().enumerate() {
        let key = format!("dashboards[{i}]");
        let span = d.span();
        let d = d.get_ref();
        let name = d.name.get_ref();
        let err = |span: Range<usize>, k: &str, msg: String| {
            loc.error(Some(span), format!("{key}{k}"), msg)
        };
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            let msg =
                format!("invalid dashboard name {name:?}: use letters, digits, '-', '_' and '.'");
            return Err(err(d.name.span(), ".name", msg));
        }
        if !seen.insert(name.clone()) {
            let msg = format!("found multiple dashboards named {name:?}");
            return Err(err(d.name.span(), ".name", msg));
        }
        match (&d.file, d.rows.is_empty()) {
            (Some(f), false) => {
                let msg = "a dashboard has either a file or rows, not both".to_owned();
                return Err(err(f.span(), ".file", msg));
            }
            (Some(f), true) if f.get_ref().is_empty() => {
                return Err(err(
                    f.span(),
                    ".file",
                    "empty dashboard file path".to_owned(),
                ));
            }
            (None, true) => {
                let msg = "a dashboard needs a Grafana JSON file or rows of panels".to_owned();
                return Err(err(span, "", msg));
            }
            _ => {}
        }
        for (k, v) in [("refresh", &d.refresh), ("range", &d.range)] {
            if let Some(v) = v
                && v.get_ref().get().is_zero()
            {
                return Err(err(
                    v.span(),
                    &format!(".{k}"),
                    format!("{k} must be more than 0s"),
                ));
            }
        }
        let mut rows = Vec::with_capacity(d.rows.len());
        for (r, row) in d.rows.iter().enumerate() {
            let mut panels = Vec::with_capacity(row.panels.len());
            for (p, panel) in row.panels.iter().enumerate() {
                let at = format!(".rows[{r}].panels[{p}]");
                let panel = panel.get_ref();
                if panel.expr.get_ref().trim().is_empty() {
                    return Err(err(
                        panel.expr.span(),
                        &format!("{at}.expr"),
                        "empty query".to_owned(),
                    ));
                }
                for (k, v, max) in [("width", &panel.width, 24), ("height", &panel.height, 100)] {
                    if let Some(v) = v
                        && !(1..=max).contains(v.get_ref())
                    {
                        let msg = format!("{k} must be from 1 to {max}");
                        return Err(err(v.span(), &format!("{at}.{k}"), msg));
                    }
                }
                panels.push(DashboardPanel {
                    title: panel.title.clone(),
                    kind: panel.kind,
                    expr: panel.expr.get_ref().clone(),
                    legend: panel.legend.clone(),
                    unit: panel.unit.clone(),
                    width: panel.width.as_ref().map(|w| *w.get_ref()),
                    height: panel.height.as_ref().map(|h| *h.get_ref()),
                });
            }
            rows.push(DashboardRow {
                title: row.title.clone(),
                panels,
            });
        }
        out.push(DashboardConfig {
            name: name.clone(),
            title: d.title.clone(),
            file: d.file.as_ref().map(|f| f.get_ref().clone()),
            refresh: d.refresh.as_ref().map(|r| r.get_ref().get()),
            range: d.range.as_ref().map(|r| r.get_ref().get()),
            rows,
        });
    }
    Ok(out)
}

fn nonzero(d: Option<PromDuration>) -> Option<Duration> {
    d.map(PromDuration::get).filter(|d| !d.is_zero())
}

fn server(raw: &RawConfig, loc: &Locator<'_>) -> Result<ServerConfig> {
    let listen = match &raw.server.listen {
        None => DEFAULT_LISTEN.to_owned(),
        Some(l) => {
            let ok = l
                .get_ref()
                .rsplit_once(':')
                .is_some_and(|(_, port)| port.parse::<u16>().is_ok());
            if !ok {
                let msg = format!(
                    "invalid listen address {:?}: expected host:port",
                    l.get_ref()
                );
                return Err(loc.error(Some(l.span()), "server.listen", msg));
            }
            l.get_ref().clone()
        }
    };
    let external_url = raw
        .server
        .external_url
        .as_ref()
        .map(|u| http_url(u, "server.external_url", loc))
        .transpose()?;
    Ok(ServerConfig {
        listen,
        external_url,
        web: crate::web::resolve(raw.server.web(), loc)?,
    })
}

fn storage(raw: &RawConfig, loc: &Locator<'_>) -> Result<StorageConfig> {
    let s = &raw.storage;
    let path = match &s.path {
        Some(p) if p.get_ref().is_empty() => {
            return Err(loc.error(Some(p.span()), "storage.path", "path is empty"));
        }
        Some(p) => PathBuf::from(p.get_ref()),
        None => PathBuf::from("data"),
    };
    let retention_size = s.retention_size.filter(|b| !b.is_zero());
    let retention = match nonzero(s.retention) {
        Some(d) => Some(d),
        None if retention_size.is_none() => Some(DEFAULT_RETENTION),
        None => None,
    };
    Ok(StorageConfig {
        path,
        retention,
        retention_size,
        out_of_order_time_window: s
            .out_of_order_time_window
            .map_or(Duration::ZERO, PromDuration::get),
    })
}

fn global(raw: &RawConfig, loc: &Locator<'_>) -> Result<GlobalConfig> {
    let g = &raw.global;
    let scrape_interval = nonzero(g.scrape_interval).unwrap_or(DEFAULT_SCRAPE_INTERVAL);
    let scrape_timeout = match &g.scrape_timeout {
        Some(t) if !t.get_ref().is_zero() => {
            if t.get_ref().get() > scrape_interval {
                let msg = "global scrape timeout greater than scrape interval";
                return Err(loc.error(Some(t.span()), "global.scrape_timeout", msg));
            }
            t.get_ref().get()
        }
        _ => DEFAULT_SCRAPE_TIMEOUT.min(scrape_interval),
    };
    Ok(GlobalConfig {
        scrape_interval,
        scrape_timeout,
        evaluation_interval: nonzero(g.evaluation_interval).unwrap_or(DEFAULT_EVALUATION_INTERVAL),
        external_labels: label_set(&g.external_labels, "global.external_labels", loc)?,
    })
}

/// A label map whose names must be legal; empty values are dropped.
fn label_set(
    labels: &BTreeMap<Spanned<String>, String>,
    key: &str,
    loc: &Locator<'_>,
) -> Result<Labels> {
    for name in labels.keys() {
        if !is_valid_legacy_label_name(name.get_ref()) {
            let msg = format!("{:?} is not a valid label name", name.get_ref());
            return Err(loc.error(Some(name.span()), key, msg));
        }
    }
    Ok(Labels::from_pairs(
        labels.iter().map(|(k, v)| (k.get_ref().clone(), v.clone())),
    ))
}

fn scrape_job(
    i: usize,
    spanned: &Spanned<RawScrape>,
    global: &GlobalConfig,
    loc: &Locator<'_>,
) -> Result<ScrapeConfig> {
    let key = format!("scrape[{i}]");
    let raw = spanned.get_ref();
    let job = raw.job.get_ref().clone();
    if job.is_empty() {
        return Err(loc.error(Some(raw.job.span()), format!("{key}.job"), "job is empty"));
    }
    let scrape_interval = nonzero(raw.scrape_interval).unwrap_or(global.scrape_interval);
    let scrape_timeout = match &raw.scrape_timeout {
        Some(t) if !t.get_ref().is_zero() => t.get_ref().get(),
        _ => global.scrape_timeout.min(scrape_interval),
    };
    if scrape_timeout > scrape_interval {
        let span = raw
            .scrape_timeout
            .as_ref()
            .map_or(spanned.span(), Spanned::span);
        let msg = format!(
            "scrape timeout greater than scrape interval for scrape config with job name {job:?}"
        );
        return Err(loc.error(Some(span), format!("{key}.scrape_timeout"), msg));
    }
    let metrics_path = match &raw.metrics_path {
        None => "/metrics".to_owned(),
        Some(p) if p.get_ref().starts_with('/') => p.get_ref().clone(),
        Some(p) => {
            let msg = format!("metrics_path must start with \"/\", got {:?}", p.get_ref());
            return Err(loc.error(Some(p.span()), format!("{key}.metrics_path"), msg));
        }
    };
    let scheme = match raw.scheme.as_ref().map(|s| (s, s.get_ref().as_str())) {
        None | Some((_, "http")) => Scheme::Http,
        Some((_, "https")) => Scheme::Https,
        Some((s, other)) => {
            let msg = format!("scheme must be \"http\" or \"https\", got {other:?}");
            return Err(loc.error(Some(s.span()), format!("{key}.scheme"), msg));
        }
    };
    for (t, target) in raw.targets.iter().enumerate() {
        let address = target.get_ref();
        if address.is_empty() || address.contains('/') {
            let msg = format!("{address:?} is not a valid hostname");
            return Err(loc.error(Some(target.span()), format!("{key}.targets[{t}]"), msg));
        }
    }
    let labels = label_set(&raw.labels, &format!("{key}.labels"), loc)?;
    let mut discovery = Vec::with_capacity(raw.discovery.len());
    for (d, spanned_sd) in raw.discovery.iter().enumerate() {
        let sd = spanned_sd.get_ref();
        if sd.plugin.get_ref().is_empty() {
            let k = format!("{key}.discovery[{d}].plugin");
            return Err(loc.error(Some(sd.plugin.span()), k, "plugin is empty"));
        }
        discovery.push(DiscoveryConfig {
            plugin: sd.plugin.get_ref().clone(),
            refresh_interval: nonzero(sd.refresh_interval).unwrap_or(DEFAULT_REFRESH_INTERVAL),
            config: sd.config.clone(),
            location: loc.location(Some(spanned_sd.span()), format!("{key}.discovery[{d}]")),
        });
    }
    if let Some(p) = &raw.fallback_scrape_protocol
        && !SCRAPE_PROTOCOLS.contains(&p.get_ref().as_str())
    {
        let msg = format!(
            "unknown scrape protocol {:?}, supported: {}",
            p.get_ref(),
            SCRAPE_PROTOCOLS.join(", ")
        );
        return Err(loc.error(
            Some(p.span()),
            format!("{key}.fallback_scrape_protocol"),
            msg,
        ));
    }
    Ok(ScrapeConfig {
        scrape_interval,
        scrape_timeout,
        metrics_path,
        scheme,
        params: raw.params.clone(),
        honor_labels: raw.honor_labels.unwrap_or(false),
        honor_timestamps: raw.honor_timestamps.unwrap_or(true),
        enable_compression: raw.enable_compression.unwrap_or(true),
        targets: raw.targets.iter().map(|t| t.get_ref().clone()).collect(),
        labels,
        discovery,
        relabel_configs: relabels(&raw.relabel_configs, &format!("{key}.relabel_configs"), loc)?,
        metric_relabel_configs: relabels(
            &raw.metric_relabel_configs,
            &format!("{key}.metric_relabel_configs"),
            loc,
        )?,
        sample_limit: raw.sample_limit.unwrap_or(0),
        label_limit: raw.label_limit.unwrap_or(0),
        label_name_length_limit: raw.label_name_length_limit.unwrap_or(0),
        label_value_length_limit: raw.label_value_length_limit.unwrap_or(0),
        target_limit: raw.target_limit.unwrap_or(0),
        body_size_limit: raw.body_size_limit.unwrap_or_default(),
        fallback_scrape_protocol: raw
            .fallback_scrape_protocol
            .as_ref()
            .map(|p| p.get_ref().clone()),
        http: http_client(raw.http(), &key, loc)?,
        job,
    })
}

fn relabels(
    configs: &[Spanned<RelabelConfig>],
    key: &str,
    loc: &Locator<'_>,
) -> Result<Vec<Relabel>> {
    configs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            c.get_ref()
                .compile()
                .map_err(|e| loc.error(Some(c.span()), format!("{key}[{i}]"), e))
        })
        .collect()
}

fn http_client(raw: RawHttp<'_>, key: &str, loc: &Locator<'_>) -> Result<HttpClientConfig> {
    let basic_auth = match raw.basic_auth {
        None => None,
        Some(b) => {
            let a = b.get_ref();
            if a.password.is_some() && a.password_file.is_some() {
                let msg = "at most one of basic_auth password & password_file must be configured";
                return Err(loc.error(Some(b.span()), format!("{key}.basic_auth"), msg));
            }
            Some(BasicAuth {
                username: a.username.clone(),
                password: a.password.clone().map(Secret::new),
                password_file: a.password_file.clone().map(PathBuf::from),
            })
        }
    };
    if let (Some(_), Some(file)) = (raw.bearer_token, raw.bearer_token_file) {
        let msg = "at most one of bearer_token & bearer_token_file must be configured";
        return Err(loc.error(Some(file.span()), format!("{key}.bearer_token_file"), msg));
    }
    if let Some(b) = raw.basic_auth
        && (raw.bearer_token.is_some() || raw.bearer_token_file.is_some())
    {
        let msg = "at most one of basic_auth, bearer_token & bearer_token_file must be configured";
        return Err(loc.error(Some(b.span()), format!("{key}.basic_auth"), msg));
    }
    let tls = match raw.tls {
        None => TlsConfig::default(),
        Some(t) => {
            let r = t.get_ref();
            let k = format!("{key}.tls");
            match (&r.cert_file, &r.key_file) {
                (Some(cert), None) => {
                    let msg =
                        format!("client cert file {cert:?} specified without client key file");
                    return Err(loc.error(Some(t.span()), k, msg));
                }
                (None, Some(keyf)) => {
                    let msg =
                        format!("client key file {keyf:?} specified without client cert file");
                    return Err(loc.error(Some(t.span()), k, msg));
                }
                _ => {}
            }
            TlsConfig {
                ca_file: r.ca_file.clone().map(PathBuf::from),
                cert_file: r.cert_file.clone().map(PathBuf::from),
                key_file: r.key_file.clone().map(PathBuf::from),
                server_name: r.server_name.clone(),
                insecure_skip_verify: r.insecure_skip_verify.unwrap_or(false),
            }
        }
    };
    let proxy_url = match raw.proxy_url {
        None => None,
        Some(p) => {
            let k = format!("{key}.proxy_url");
            let url = parse_url(p, &k, loc)?;
            if !matches!(url.scheme(), "http" | "https" | "socks5") {
                let msg = format!(
                    "proxy_url must use http, https or socks5, got {:?}",
                    redact_url(p.get_ref())
                );
                return Err(loc.error(Some(p.span()), k, msg));
            }
            Some(url)
        }
    };
    Ok(HttpClientConfig {
        basic_auth,
        bearer_token: raw
            .bearer_token
            .as_ref()
            .map(|t| Secret::new(t.get_ref().clone())),
        bearer_token_file: raw
            .bearer_token_file
            .as_ref()
            .map(|f| PathBuf::from(f.get_ref())),
        proxy_url,
        tls,
    })
}

fn parse_url(raw: &Spanned<String>, key: &str, loc: &Locator<'_>) -> Result<Url> {
    Url::parse(raw.get_ref()).map_err(|e| {
        let msg = format!("invalid URL {:?}: {e}", redact_url(raw.get_ref()));
        loc.error(Some(raw.span()), key, msg)
    })
}

/// An absolute `http` or `https` URL with a host.
fn http_url(raw: &Spanned<String>, key: &str, loc: &Locator<'_>) -> Result<Url> {
    let url = parse_url(raw, key, loc)?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        let msg = format!(
            "invalid URL {:?}: expected http:// or https:// and a host",
            redact_url(raw.get_ref())
        );
        return Err(loc.error(Some(raw.span()), key, msg));
    }
    Ok(url)
}

fn remote_write_config(
    i: usize,
    raw: &RawRemoteWrite,
    loc: &Locator<'_>,
) -> Result<RemoteWriteConfig> {
    let key = format!("remote_write[{i}]");
    let url = http_url(&raw.url, &format!("{key}.url"), loc)?;
    let mut headers = BTreeMap::new();
    for (name, value) in &raw.headers {
        let n = name.get_ref();
        let lower = n.to_ascii_lowercase();
        let msg = if lower == "authorization" {
            Some(
                "authorization header must be changed via the basic_auth or bearer_token parameter"
                    .to_owned(),
            )
        } else if RESERVED_HEADERS.contains(&lower.as_str()) {
            Some(format!("{n} is a reserved header. It must not be changed"))
        } else {
            None
        };
        if let Some(msg) = msg {
            return Err(loc.error(Some(name.span()), format!("{key}.headers"), msg));
        }
        headers.insert(n.clone(), value.clone());
    }
    let queue_config = match &raw.queue_config {
        None => QueueConfig::default(),
        Some(q) => {
            let r = q.get_ref();
            let d = QueueConfig::default();
            let c = QueueConfig {
                capacity: r.capacity.unwrap_or(d.capacity),
                max_shards: r.max_shards.unwrap_or(d.max_shards),
                min_shards: r.min_shards.unwrap_or(d.min_shards),
                max_samples_per_send: r.max_samples_per_send.unwrap_or(d.max_samples_per_send),
                batch_send_deadline: nonzero(r.batch_send_deadline)
                    .unwrap_or(d.batch_send_deadline),
                min_backoff: nonzero(r.min_backoff).unwrap_or(d.min_backoff),
                max_backoff: nonzero(r.max_backoff).unwrap_or(d.max_backoff),
                retry_on_http_429: r.retry_on_http_429.unwrap_or(d.retry_on_http_429),
            };
            let problem = if c.min_shards > c.max_shards {
                Some("min_shards must not be greater than max_shards")
            } else if c.max_shards == 0 || c.capacity == 0 || c.max_samples_per_send == 0 {
                Some("capacity, max_shards and max_samples_per_send must be greater than zero")
            } else if c.min_backoff > c.max_backoff {
                Some("min_backoff must not be greater than max_backoff")
            } else {
                None
            };
            if let Some(msg) = problem {
                return Err(loc.error(Some(q.span()), format!("{key}.queue_config"), msg));
            }
            c
        }
    };
    Ok(RemoteWriteConfig {
        url,
        name: raw.name.as_ref().map(|n| n.get_ref().clone()),
        remote_timeout: nonzero(raw.remote_timeout).unwrap_or(Duration::from_secs(30)),
        headers,
        write_relabel_configs: relabels(
            &raw.write_relabel_configs,
            &format!("{key}.write_relabel_configs"),
            loc,
        )?,
        queue_config,
        http: http_client(raw.http(), &key, loc)?,
    })
}
