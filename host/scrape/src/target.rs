//! From discovered labels to a scrape target, as Prometheus'
//! `scrape.PopulateLabels` does it.
//!
//! A discovered target is its group's labels overlaid with its own
//! (`__address__`, `__meta_*`, …). Before relabeling the job's defaults are
//! filled in where absent: `job`, `__scheme__`, `__metrics_path__`,
//! `__scrape_interval__`, `__scrape_timeout__`, and `__param_<name>` for
//! the first value of each configured parameter. Those are the target's
//! *discovered labels*. After `relabel_configs`, a target without
//! `__address__` is an error; `__meta_*` labels are removed; `instance`
//! defaults to `__address__`. Labels starting with `__` stay on the target
//! (the API shows them) but never reach the stored series.
//!
//! Like Prometheus 3 (and unlike 2.42), no default port is added to an
//! address without one.

use std::hash::{Hash, Hasher};
use std::time::Duration;

use pharos_config::ScrapeConfig;
use pharos_model::{Labels, LabelsBuilder, format_duration, parse_duration};
use rustc_hash::FxHasher;

use crate::error::TargetError;

pub const ADDRESS_LABEL: &str = "__address__";
pub const SCHEME_LABEL: &str = "__scheme__";
pub const METRICS_PATH_LABEL: &str = "__metrics_path__";
pub const SCRAPE_INTERVAL_LABEL: &str = "__scrape_interval__";
pub const SCRAPE_TIMEOUT_LABEL: &str = "__scrape_timeout__";
pub const PARAM_PREFIX: &str = "__param_";
pub const META_PREFIX: &str = "__meta_";
pub const RESERVED_PREFIX: &str = "__";
pub const JOB_LABEL: &str = "job";
pub const INSTANCE_LABEL: &str = "instance";

/// A target to scrape: where, how often, and the labels its series get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Before relabeling (what discovery produced, defaults filled in).
    pub discovered_labels: Labels,
    /// After relabeling, `__meta_*` removed, `instance` set. Still has the
    /// `__`-prefixed labels.
    pub labels: Labels,
    /// The labels every series of the target gets: [`Target::labels`]
    /// without the `__`-prefixed ones.
    pub series_labels: Labels,
    /// The URL scraped, query parameters included.
    pub url: url::Url,
    pub interval: Duration,
    pub timeout: Duration,
}

/// What relabeling made of one discovered target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Populated {
    Active(Target),
    /// Dropped by relabeling; kept for the API with its discovered labels.
    Dropped(Labels),
}

impl Target {
    /// A hash of the target's identity (its labels and URL): a target whose
    /// hash is unchanged across a reload keeps its scrape loop.
    pub fn hash(&self) -> u64 {
        let mut h = FxHasher::default();
        self.labels.hash(&mut h);
        self.url.as_str().hash(&mut h);
        h.finish()
    }

    /// The instance label value (or the address if there is none).
    pub fn instance(&self) -> &str {
        self.labels
            .get(INSTANCE_LABEL)
            .or_else(|| self.labels.get(ADDRESS_LABEL))
            .unwrap_or("")
    }
}

/// Builds the target for `discovered` (group labels already merged in).
pub fn populate(discovered: &Labels, cfg: &ScrapeConfig) -> Result<Populated, TargetError> {
    let mut lb = discovered.to_builder();
    let set_default = |lb: &mut LabelsBuilder, name: &str, value: String| {
        if discovered.get(name).is_none() {
            lb.set(name, value);
        }
    };
    set_default(&mut lb, JOB_LABEL, cfg.job.clone());
    set_default(
        &mut lb,
        SCRAPE_INTERVAL_LABEL,
        format_duration(cfg.scrape_interval),
    );
    set_default(
        &mut lb,
        SCRAPE_TIMEOUT_LABEL,
        format_duration(cfg.scrape_timeout),
    );
    set_default(&mut lb, METRICS_PATH_LABEL, cfg.metrics_path.clone());
    set_default(&mut lb, SCHEME_LABEL, cfg.scheme.as_str().to_owned());
    for (name, values) in &cfg.params {
        if let Some(first) = values.first() {
            set_default(&mut lb, &format!("{PARAM_PREFIX}{name}"), first.clone());
        }
    }
    let discovered = lb.build();
    let Some(relabeled) = pharos_relabel::process(&discovered, &cfg.relabel_configs) else {
        return Ok(Populated::Dropped(discovered));
    };
    let Some(address) = relabeled.get(ADDRESS_LABEL).map(str::to_owned) else {
        return Err(TargetError::NoAddress);
    };
    if address.contains('/') {
        return Err(TargetError::InvalidAddress(address));
    }
    let interval = duration_label(&relabeled, SCRAPE_INTERVAL_LABEL, "interval")?;
    let timeout = duration_label(&relabeled, SCRAPE_TIMEOUT_LABEL, "timeout")?;
    if interval.is_zero() {
        return Err(TargetError::Other("scrape interval cannot be 0".into()));
    }
    if timeout.is_zero() {
        return Err(TargetError::Other("scrape timeout cannot be 0".into()));
    }
    if timeout > interval {
        return Err(TargetError::Other(format!(
            "scrape timeout cannot be greater than scrape interval ({:?} > {:?})",
            format_duration(timeout),
            format_duration(interval)
        )));
    }
    let mut lb = relabeled.to_builder();
    lb.retain(|l| !l.name.starts_with(META_PREFIX));
    if relabeled.get(INSTANCE_LABEL).is_none() {
        lb.set(INSTANCE_LABEL, address.clone());
    }
    let labels = lb.build();
    let url = target_url(&labels, cfg, &address)?;
    let series_labels = Labels::from_sorted(
        labels
            .iter()
            .filter(|l| !l.name.starts_with(RESERVED_PREFIX))
            .cloned()
            .collect(),
    )
    .unwrap_or_default();
    Ok(Populated::Active(Target {
        discovered_labels: discovered,
        labels,
        series_labels,
        url,
        interval,
        timeout,
    }))
}

fn duration_label(labels: &Labels, name: &str, what: &str) -> Result<Duration, TargetError> {
    let v = labels.get(name).unwrap_or("");
    parse_duration(v).map_err(|e| TargetError::Other(format!("error parsing scrape {what}: {e}")))
}

/// `scheme://address/path?params`, where `__param_<name>` labels replace
/// the first configured value of `<name>` (or add it). Query keys are
/// sorted, as Go's `url.Values.Encode` writes them.
fn target_url(labels: &Labels, cfg: &ScrapeConfig, address: &str) -> Result<url::Url, TargetError> {
    let scheme = labels.get(SCHEME_LABEL).unwrap_or("http");
    let path = labels.get(METRICS_PATH_LABEL).unwrap_or("");
    let mut params = cfg.params.clone();
    for l in labels {
        if let Some(name) = l.name.strip_prefix(PARAM_PREFIX) {
            let values = params.entry(name.to_owned()).or_default();
            match values.first_mut() {
                Some(first) => first.clone_from(&l.value),
                None => values.push(l.value.clone()),
            }
        }
    }
    let text = format!("{scheme}://{address}{path}");
    let mut url = url::Url::parse(&text).map_err(|e| TargetError::InvalidUrl(text, e))?;
    if !params.is_empty() {
        let mut q = url.query_pairs_mut();
        q.clear();
        for (name, values) in &params {
            for v in values {
                q.append_pair(name, v);
            }
        }
    }
    Ok(url)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use pharos_config::Config;

    fn job(extra: &str) -> ScrapeConfig {
        let text = format!("[[scrape]]\njob = \"node\"\n{extra}\n");
        let mut c = Config::from_toml(&text, "t.toml").map_err(|e| e.to_string());
        c.as_mut()
            .map(|c| c.scrape.remove(0))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn active(p: Populated) -> Target {
        match p {
            Populated::Active(t) => t,
            Populated::Dropped(l) => panic!("dropped: {l}"),
        }
    }

    #[test]
    fn defaults_and_instance() {
        let cfg = job("");
        let t = active(populate(&Labels::from_pairs([("__address__", "h:9100")]), &cfg).unwrap());
        assert_eq!(
            t.discovered_labels.to_string(),
            r#"{__address__="h:9100", __metrics_path__="/metrics", __scheme__="http", __scrape_interval__="1m", __scrape_timeout__="10s", job="node"}"#
        );
        assert_eq!(
            t.series_labels.to_string(),
            r#"{instance="h:9100", job="node"}"#
        );
        assert_eq!(t.url.as_str(), "http://h:9100/metrics");
        assert_eq!(
            (t.interval, t.timeout),
            (Duration::from_secs(60), Duration::from_secs(10))
        );
    }

    #[test]
    fn relabel_meta_params_and_timing() {
        let cfg = job(r#"params = { module = ["a", "b"], x = ["1"] }
            [[scrape.relabel_configs]]
            source_labels = ["__meta_kind"]
            target_label = "kind"
            [[scrape.relabel_configs]]
            source_labels = ["__address__"]
            target_label = "__param_target"
            [[scrape.relabel_configs]]
            target_label = "__address__"
            replacement = "probe:9115"
            [[scrape.relabel_configs]]
            target_label = "__scrape_interval__"
            replacement = "30s"
            [[scrape.relabel_configs]]
            target_label = "__param_module"
            replacement = "c""#);
        let d = Labels::from_pairs([("__address__", "example.org"), ("__meta_kind", "web")]);
        let t = active(populate(&d, &cfg).unwrap());
        assert_eq!(
            t.url.as_str(),
            "http://probe:9115/metrics?module=c&module=b&target=example.org&x=1"
        );
        assert_eq!(
            t.series_labels.to_string(),
            r#"{instance="probe:9115", job="node", kind="web"}"#
        );
        assert_eq!(t.labels.get("__meta_kind"), None);
        assert_eq!(t.discovered_labels.get("__param_module"), Some("a"));
        assert_eq!(t.interval, Duration::from_secs(30));
    }

    #[test]
    fn dropped_and_errors() {
        let cfg = job(r#"[[scrape.relabel_configs]]
            source_labels = ["__address__"]
            regex = "drop.*"
            action = "drop""#);
        let d = Labels::from_pairs([("__address__", "drop-me:1")]);
        assert!(
            matches!(populate(&d, &cfg), Ok(Populated::Dropped(l)) if l.get("job") == Some("node"))
        );
        assert_eq!(
            populate(&Labels::from_pairs([("a", "b")]), &cfg)
                .unwrap_err()
                .to_string(),
            "no address"
        );
        let cfg = job(r#"[[scrape.relabel_configs]]
            target_label = "__scrape_timeout__"
            replacement = "2m""#);
        assert_eq!(
            populate(&Labels::from_pairs([("__address__", "h:1")]), &cfg)
                .unwrap_err()
                .to_string(),
            r#"scrape timeout cannot be greater than scrape interval ("2m" > "1m")"#
        );
    }

    #[test]
    fn explicit_instance_and_job_win() {
        let cfg = job("");
        let d = Labels::from_pairs([
            ("__address__", "h:1"),
            ("instance", "web-1"),
            ("job", "other"),
        ]);
        let t = active(populate(&d, &cfg).unwrap());
        assert_eq!(
            t.series_labels.to_string(),
            r#"{instance="web-1", job="other"}"#
        );
        assert_eq!(t.instance(), "web-1");
    }

    /// What a case file expects of one target.
    fn describe(p: &Result<Populated, TargetError>, keys: &[&str]) -> Vec<String> {
        match p {
            Err(e) => vec![format!("error {e}")],
            Ok(Populated::Dropped(_)) => vec!["dropped".into()],
            Ok(Populated::Active(t)) => keys
                .iter()
                .map(|k| match *k {
                    "discovered" => format!("discovered {}", t.discovered_labels),
                    "labels" => format!("labels {}", t.series_labels),
                    "url" => format!("url {}", t.url),
                    "interval" => format!("interval {}", format_duration(t.interval)),
                    "timeout" => format!("timeout {}", format_duration(t.timeout)),
                    other => format!("unknown key {other}"),
                })
                .collect(),
        }
    }

    #[test]
    fn target_cases_from_files() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/targets");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "txt"))
            .collect();
        files.sort();
        assert!(files.len() >= 6, "{files:?}");
        let mut failures = Vec::new();
        let mut checked = 0;
        for path in &files {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(path).unwrap();
            let mut config = String::new();
            let mut cases: Vec<(String, Vec<String>)> = Vec::new();
            let mut in_config = false;
            for line in text.lines() {
                if line == "== config" {
                    in_config = true;
                } else if let Some(json) = line.strip_prefix("== target ") {
                    in_config = false;
                    cases.push((json.to_owned(), Vec::new()));
                } else if in_config {
                    config.push_str(line);
                    config.push('\n');
                } else if let Some((_, want)) = cases.last_mut()
                    && !line.is_empty()
                    && !line.starts_with('#')
                {
                    want.push(line.to_owned());
                }
            }
            let cfg = job(&config);
            for (json, want) in cases {
                let pairs: std::collections::BTreeMap<String, String> =
                    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{name}: {json}: {e}"));
                let got = populate(&Labels::from_pairs(pairs), &cfg);
                let keys: Vec<&str> = want
                    .iter()
                    .filter_map(|l| l.split_whitespace().next())
                    .collect();
                let got = describe(&got, &keys);
                checked += 1;
                if got != want {
                    failures.push(format!("{name}: {json}\n  want {want:#?}\n  got  {got:#?}"));
                }
            }
        }
        assert!(checked >= 10, "{checked}");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
