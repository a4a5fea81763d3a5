//! From an exporter plugin's metric families to the series of one append
//! batch, the way a scrape with `honor_labels = false` and
//! `honor_timestamps = true` turns an exposition into series:
//!
//! - the series name is the family name plus the metric's suffix; names
//!   and label names must be legal (the legacy rule, as in Prometheus 2),
//!   else the whole collection fails, as a parse error fails a scrape;
//! - labels with empty values are dropped; a label the plugin sets that
//!   the job's target labels (`job`, `instance`, `labels`) also set is kept
//!   as `exported_<name>`, and the target's value wins;
//! - a sample without a timestamp gets the collection's start time;
//! - a series repeated in one collection keeps its first sample (the rest
//!   are counted as duplicates and logged).

use pharos_model::{
    Labels, LabelsBuilder, METRIC_NAME, Sample, is_valid_legacy_label_name,
    is_valid_legacy_metric_name,
};
use pharos_plugin_host::MetricFamily;
use pharos_tsdb::SeriesAppend;
use std::collections::HashSet;

/// The series of one collection.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    pub(crate) series: Vec<SeriesAppend>,
    /// Samples the plugin returned (duplicates included).
    pub(crate) scraped: usize,
    /// Repeated series dropped.
    pub(crate) duplicates: usize,
}

/// Turns `families` into series with `target` labels, stamping samples
/// without a timestamp with `ts` (ms).
pub(crate) fn collect_series(
    families: &[MetricFamily],
    target: &Labels,
    ts: i64,
) -> Result<Collected, String> {
    let mut out = Collected::default();
    let mut seen: HashSet<Labels> = HashSet::new();
    for family in families {
        for m in &family.metrics {
            out.scraped += 1;
            let name = format!("{}{}", family.name, m.suffix);
            if !is_valid_legacy_metric_name(&name) {
                return Err(format!(
                    "invalid metric name {name:?} in family {:?}",
                    family.name
                ));
            }
            let mut b = LabelsBuilder::default();
            for l in &m.labels {
                if !is_valid_legacy_label_name(&l.name) || l.name == METRIC_NAME {
                    return Err(format!(
                        "invalid label name {:?} in a sample of {name:?}",
                        l.name
                    ));
                }
                b.set(l.name.as_str(), l.value.as_str());
            }
            for t in target {
                if let Some(v) = b.get(&t.name).map(str::to_owned) {
                    let mut exported = format!("exported_{}", t.name);
                    while b.get(&exported).is_some() {
                        exported = format!("exported_{exported}");
                    }
                    b.set(exported, v);
                }
                b.set(t.name.as_str(), t.value.as_str());
            }
            b.set(METRIC_NAME, name);
            let labels = b.build();
            if !seen.insert(labels.clone()) {
                out.duplicates += 1;
                continue;
            }
            out.series.push(SeriesAppend {
                labels,
                samples: vec![Sample::new(m.timestamp_ms.unwrap_or(ts), m.value)],
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use pharos_plugin_host::{Label, Metric, MetricType};

    fn family(name: &str, metrics: Vec<Metric>) -> MetricFamily {
        MetricFamily {
            name: name.into(),
            help: String::new(),
            type_: MetricType::Gauge,
            unit: String::new(),
            metrics,
        }
    }

    fn metric(suffix: &str, labels: &[(&str, &str)], value: f64, ts: Option<i64>) -> Metric {
        Metric {
            suffix: suffix.into(),
            labels: labels
                .iter()
                .map(|(n, v)| Label {
                    name: (*n).into(),
                    value: (*v).into(),
                })
                .collect(),
            value,
            timestamp_ms: ts,
        }
    }

    fn target() -> Labels {
        Labels::from_pairs([("instance", "probe"), ("job", "web")])
    }

    #[test]
    fn names_target_labels_and_timestamps() {
        let fams = vec![family(
            "req",
            vec![
                metric("_count", &[("code", "200"), ("empty", "")], 3.0, None),
                metric("_sum", &[("job", "theirs")], 1.5, Some(7)),
            ],
        )];
        let c = collect_series(&fams, &target(), 1000).unwrap();
        let got: Vec<String> = c
            .series
            .iter()
            .map(|s| format!("{} {}@{}", s.labels, s.samples[0].v, s.samples[0].t))
            .collect();
        assert_eq!(
            got,
            [
                r#"req_count{code="200", instance="probe", job="web"} 3@1000"#,
                r#"req_sum{exported_job="theirs", instance="probe", job="web"} 1.5@7"#,
            ]
        );
        assert_eq!((c.scraped, c.duplicates), (2, 0));
    }

    #[test]
    fn duplicates_keep_the_first_and_bad_names_fail() {
        let fams = vec![family(
            "g",
            vec![
                metric("", &[("a", "1")], 1.0, None),
                metric("", &[("a", "1")], 2.0, None),
            ],
        )];
        let c = collect_series(&fams, &target(), 5).unwrap();
        assert_eq!((c.series.len(), c.scraped, c.duplicates), (1, 2, 1));
        assert_eq!(c.series[0].samples[0].v, 1.0);

        let bad = vec![family("bad-name", vec![metric("", &[], 1.0, None)])];
        assert_eq!(
            collect_series(&bad, &target(), 5).unwrap_err(),
            r#"invalid metric name "bad-name" in family "bad-name""#
        );
        let bad = vec![family(
            "g",
            vec![metric("", &[("__name__", "x")], 1.0, None)],
        )];
        assert!(collect_series(&bad, &target(), 5).is_err());
    }
}
