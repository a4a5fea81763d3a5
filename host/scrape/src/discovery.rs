//! The seam between target discovery and scraping: providers produce
//! *target groups*, exactly as Prometheus' service discovery does — each
//! group has a source, labels common to its targets, and targets that carry
//! `__address__` and any `__meta_<provider>_*` labels. Relabeling then
//! works on them the same way whatever the provider.
//!
//! Static targets from the config are one provider ([`static_groups`]).
//! Others are found by name in a [`DiscoveryRegistry`] the server passes
//! to the scrape manager (`pharos-plugins` registers the discovery plugins
//! of the server's plugin set there); each is polled at its
//! `refresh_interval`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use pharos_config::{DiscoveryConfig, ScrapeConfig};
use pharos_model::Labels;

use crate::target::ADDRESS_LABEL;

/// A set of targets from one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetGroup {
    /// Identifies the group within its provider.
    pub source: String,
    /// Labels of every target of the group; a target's own labels win.
    pub labels: Labels,
    /// Each target's labels: `__address__` and `__meta_*`, or more.
    pub targets: Vec<Labels>,
}

impl TargetGroup {
    /// Each target's labels with the group's labels underneath.
    pub fn merged(&self) -> impl Iterator<Item = Labels> + '_ {
        self.targets.iter().map(|t| {
            if self.labels.is_empty() {
                return t.clone();
            }
            let mut lb = self.labels.to_builder();
            for l in t {
                lb.set(l.name.clone(), l.value.clone());
            }
            lb.build()
        })
    }
}

/// Why a provider gave no targets, keeping the kind plugins report
/// (`plugin-error` in `wit/types.wit`): the scrape pool keeps the last good
/// targets either way, and logs the kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscoveryError {
    /// Calling again unchanged may succeed (the provider is unreachable,
    /// a call timed out, the plugin is backing off).
    #[error("{0}")]
    Transient(String),
    /// It will fail again until the provider or the plugin changes.
    #[error("{0}")]
    Permanent(String),
    /// The `discovery` entry (or the plugin's grants) must be fixed.
    #[error("{0}")]
    Config(String),
}

impl DiscoveryError {
    /// `transient`, `permanent` or `config`, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            DiscoveryError::Transient(_) => "transient",
            DiscoveryError::Permanent(_) => "permanent",
            DiscoveryError::Config(_) => "config",
        }
    }
}

/// The future a [`Discoverer`] returns.
pub type DiscoverFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<TargetGroup>, DiscoveryError>> + Send + 'a>>;

/// A running provider for one job: asked for the full list of groups at
/// every refresh.
pub trait Discoverer: Send + Sync {
    fn discover(&self) -> DiscoverFuture<'_>;
}

/// Finds the provider a `discovery` entry names.
pub trait DiscoveryRegistry: Send + Sync {
    /// A provider for `cfg` in `job`, or why there is none.
    fn discoverer(
        &self,
        job: &str,
        cfg: &DiscoveryConfig,
    ) -> Result<Arc<dyn Discoverer>, DiscoveryError>;
}

/// Knows no provider: discovery entries are reported and skipped.
pub struct NoDiscovery;

impl DiscoveryRegistry for NoDiscovery {
    fn discoverer(
        &self,
        _: &str,
        cfg: &DiscoveryConfig,
    ) -> Result<Arc<dyn Discoverer>, DiscoveryError> {
        Err(DiscoveryError::Config(format!(
            "no discovery plugin named {:?} is available",
            cfg.plugin
        )))
    }
}

/// The static provider: the job's `targets` with its `labels`, one group.
pub fn static_groups(cfg: &ScrapeConfig) -> Vec<TargetGroup> {
    if cfg.targets.is_empty() {
        return Vec::new();
    }
    vec![TargetGroup {
        source: "0".into(),
        labels: cfg.labels.clone(),
        targets: cfg
            .targets
            .iter()
            .map(|t| Labels::from_pairs([(ADDRESS_LABEL, t.as_str())]))
            .collect(),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_labels_win_over_group_labels() {
        let g = TargetGroup {
            source: "x".into(),
            labels: Labels::from_pairs([("env", "prod"), ("team", "a")]),
            targets: vec![Labels::from_pairs([("__address__", "h:1"), ("team", "b")])],
        };
        let merged: Vec<String> = g.merged().map(|l| l.to_string()).collect();
        assert_eq!(merged, [r#"{__address__="h:1", env="prod", team="b"}"#]);
    }
}
