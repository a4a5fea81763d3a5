//! Alertmanager's template data for a notification: what `.` is in a
//! notification template (Alertmanager 0.25 `template.(*Template).Data`).

use std::collections::BTreeMap;

use pharos_model::Labels;
use pharos_model::alert::Alert;
use pharos_template::funcs::alertmanager::{Alert as TemplateAlert, Data};

use crate::dispatch::Notification;
use crate::fingerprint::fingerprint;

/// The template data of a flushed notification, as Alertmanager builds it
/// for the same group:
///
/// - `.Receiver` is the receiver's name through Go's `regexp.QuoteMeta`
///   (Alertmanager quotes it for the `receiver=` filter of
///   `__alertmanagerURL`: `team.a` becomes `team\.a`);
/// - `.Status` is `firing` if any alert fires at the flush time, else
///   `resolved`; each alert's status likewise;
/// - `.Alerts` in the notification's order, a firing alert's `.EndsAt`
///   Go's zero time (the dispatcher clears it, as Alertmanager's);
/// - `.GroupLabels` the group labels; `.CommonLabels` and
///   `.CommonAnnotations` the pairs every alert has with the same value
///   ([`common_pairs`]);
/// - `.ExternalURL` `external_url` without a trailing `/`.
pub fn template_data(n: &Notification, external_url: &str) -> Data {
    let alerts: Vec<TemplateAlert> = n.alerts.iter().map(|a| alert(a, n.at)).collect();
    let status = if n.is_firing() { "firing" } else { "resolved" };
    Data {
        receiver: quote_meta(&n.receiver),
        status: status.to_owned(),
        group_labels: map(&n.group_labels),
        common_labels: common_pairs(alerts.iter().map(|a| &a.labels)),
        common_annotations: common_pairs(alerts.iter().map(|a| &a.annotations)),
        alerts,
        external_url: external_url.trim_end_matches('/').to_owned(),
    }
}

fn alert(a: &Alert, at: i64) -> TemplateAlert {
    let resolved = a.resolved_at(at);
    TemplateAlert {
        status: if resolved { "resolved" } else { "firing" }.to_owned(),
        labels: map(&a.labels),
        annotations: map(&a.annotations),
        starts_at: jiff::Timestamp::from_millisecond(a.starts_at).ok(),
        ends_at: a
            .ends_at
            .filter(|_| resolved)
            .and_then(|e| jiff::Timestamp::from_millisecond(e).ok()),
        generator_url: a.generator_url.clone(),
        fingerprint: fingerprint(&a.labels),
    }
}

fn map(labels: &Labels) -> BTreeMap<String, String> {
    labels
        .iter()
        .map(|l| (l.name.clone(), l.value.clone()))
        .collect()
}

/// The pairs every set has with the same value, as Alertmanager computes
/// `CommonLabels` and `CommonAnnotations`: the first set's pairs, less
/// each whose value differs in a later set (a missing name reads as `""`,
/// so an empty value missing elsewhere stays). No sets: none.
pub fn common_pairs<'a>(
    mut sets: impl Iterator<Item = &'a BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let Some(first) = sets.next() else {
        return BTreeMap::new();
    };
    let mut common = first.clone();
    for set in sets {
        if common.is_empty() {
            break;
        }
        common.retain(|k, v| set.get(k).map_or("", String::as_str) == v.as_str());
    }
    common
}

/// Go's `regexp.QuoteMeta`: a backslash before each of `\.+*?()|[]{}^$`.
pub fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied())
    }

    fn alert(l: &[(&str, &str)], a: &[(&str, &str)], ends_at: Option<i64>) -> Alert {
        Alert {
            labels: labels(l),
            annotations: labels(a),
            starts_at: 1_000,
            ends_at,
            generator_url: "http://prom/graph".into(),
        }
    }

    #[test]
    fn alertmanagers_data_for_a_mixed_group() {
        let n = Notification {
            receiver: "team.a (eu)".into(),
            integration: 0,
            plugin: "slack".into(),
            group_key: "{}:{alertname=\"A\"}".into(),
            route_id: "{}".into(),
            group_labels: labels(&[("alertname", "A")]),
            alerts: vec![
                alert(
                    &[("alertname", "A"), ("instance", "1"), ("job", "j")],
                    &[("summary", "s"), ("one", "y")],
                    None,
                ),
                alert(
                    &[("alertname", "A"), ("instance", "2"), ("job", "j")],
                    &[("summary", "s"), ("other", "x")],
                    Some(5_000),
                ),
            ],
            at: 10_000,
        };
        let d = template_data(&n, "http://am.example/");
        assert_eq!(d.receiver, r"team\.a \(eu\)");
        assert_eq!(d.status, "firing");
        assert_eq!(d.external_url, "http://am.example");
        assert_eq!(d.alerts[0].status, "firing");
        assert_eq!(d.alerts[0].ends_at, None);
        assert_eq!(d.alerts[1].status, "resolved");
        assert_eq!(d.alerts[1].ends_at.map(|t| t.as_millisecond()), Some(5_000));
        assert_eq!(
            d.common_labels.keys().collect::<Vec<_>>(),
            ["alertname", "job"]
        );
        assert_eq!(d.common_annotations.keys().collect::<Vec<_>>(), ["summary"]);
        assert_eq!(d.alerts[0].fingerprint.len(), 16);
    }

    #[test]
    fn common_pairs_read_a_missing_name_as_empty() {
        let set = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let sets = [
            set(&[("a", "1"), ("empty", ""), ("b", "2")]),
            set(&[("a", "1"), ("b", "3")]),
        ];
        let common = common_pairs(sets.iter());
        assert_eq!(common, set(&[("a", "1"), ("empty", "")]));
        assert!(common_pairs(std::iter::empty()).is_empty());
    }

    #[test]
    fn a_group_whose_alerts_all_resolved_is_resolved() {
        let n = Notification {
            receiver: "r".into(),
            integration: 0,
            plugin: "webhook".into(),
            group_key: String::new(),
            route_id: String::new(),
            group_labels: Labels::default(),
            alerts: vec![alert(&[("a", "b")], &[], Some(5))],
            at: 5,
        };
        assert_eq!(template_data(&n, "").status, "resolved");
    }
}
