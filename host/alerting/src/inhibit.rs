//! Inhibition (Alertmanager 0.25 `inhibit/inhibit.go`): an alert that
//! matches a rule's `target_matchers` is muted while an alert matching its
//! `source_matchers` fires and has the same values for the `equal` labels.
//!
//! - A label missing on both sides counts as equal (both are `""`).
//! - An alert never inhibits itself: when the target also matches the
//!   source matchers, source alerts that match the target matchers too are
//!   not considered.
//! - Resolved source alerts do not inhibit.
//!
//! The [`Inhibitor`] sees every alert ([`Inhibitor::observe`]) and keeps,
//! per rule, the latest version of each alert that matches the rule's
//! source matchers; time is explicit (Unix milliseconds).

use std::collections::{BTreeMap, BTreeSet};

use pharos_model::Labels;
use pharos_model::alert::Alert;

use crate::config::{InhibitRuleConfig, flatten};
use crate::located::Located;
use crate::matchers::Matchers;

/// One compiled inhibition rule and its cache of source alerts.
#[derive(Debug, Clone, Default)]
pub struct InhibitRule {
    /// Matchers of inhibiting alerts.
    pub source: Matchers,
    /// Matchers of inhibited alerts.
    pub target: Matchers,
    /// Labels that must be equal.
    pub equal: BTreeSet<String>,
    sources: BTreeMap<Labels, Alert>,
}

impl InhibitRule {
    /// A rule from its config.
    pub fn from_config(cfg: &InhibitRuleConfig) -> Self {
        InhibitRule {
            source: Matchers(flatten(&cfg.source_matchers)),
            target: Matchers(flatten(&cfg.target_matchers)),
            equal: cfg.equal.iter().map(|l| l.value.clone()).collect(),
            sources: BTreeMap::new(),
        }
    }

    /// The firing source alert that inhibits `labels` under this rule,
    /// ignoring the target matchers. With `exclude_two_sided`, source
    /// alerts that also match the target matchers do not count.
    fn inhibiting_source(
        &self,
        labels: &Labels,
        exclude_two_sided: bool,
        now: i64,
    ) -> Option<&Labels> {
        self.sources.values().find_map(|a| {
            let equal = self
                .equal
                .iter()
                .all(|n| a.labels.get(n).unwrap_or("") == labels.get(n).unwrap_or(""));
            let ok = !a.resolved_at(now)
                && equal
                && !(exclude_two_sided && self.target.matches(&a.labels));
            ok.then_some(&a.labels)
        })
    }
}

/// Inhibition rules with the alerts they have seen.
#[derive(Debug, Clone, Default)]
pub struct Inhibitor {
    rules: Vec<InhibitRule>,
}

impl Inhibitor {
    /// An inhibitor for the configured rules.
    pub fn new(rules: &[Located<InhibitRuleConfig>]) -> Self {
        Inhibitor {
            rules: rules.iter().map(|r| InhibitRule::from_config(r)).collect(),
        }
    }

    /// An inhibitor from compiled rules.
    pub fn from_rules(rules: Vec<InhibitRule>) -> Self {
        Inhibitor { rules }
    }

    /// The rules.
    pub fn rules(&self) -> &[InhibitRule] {
        &self.rules
    }

    /// Records an alert (a new one or a new version of a known one) for
    /// every rule whose source matchers it matches.
    pub fn observe(&mut self, alert: &Alert) {
        for rule in &mut self.rules {
            if rule.source.matches(&alert.labels) {
                rule.sources.insert(alert.labels.clone(), alert.clone());
            }
        }
    }

    /// Drops source alerts resolved at `now`.
    pub fn gc(&mut self, now: i64) {
        for rule in &mut self.rules {
            rule.sources.retain(|_, a| !a.resolved_at(now));
        }
    }

    /// The labels of the alert that inhibits an alert with `labels` at
    /// `now`, if any (the first rule that applies wins).
    pub fn inhibited_by(&self, labels: &Labels, now: i64) -> Option<&Labels> {
        self.rules.iter().find_map(|rule| {
            if !rule.target.matches(labels) {
                return None;
            }
            let two_sided = rule.source.matches(labels);
            rule.inhibiting_source(labels, two_sided, now)
        })
    }

    /// Whether an alert with `labels` is inhibited at `now`.
    pub fn mutes(&self, labels: &Labels, now: i64) -> bool {
        let by = self.inhibited_by(labels, now);
        if let Some(source) = by {
            tracing::debug!(target_labels = ?labels, source = ?source, "alert inhibited");
        }
        by.is_some()
    }
}
