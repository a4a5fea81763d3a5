//! Discovery through plugins: the [`PluginSet`] is the scrape manager's
//! [`DiscoveryRegistry`]. Each `discovery = [{ plugin = …, config = … }]`
//! entry gets a [`Discoverer`] that, at every refresh, calls the plugin's
//! `discover` with the entry's config as JSON and turns its target groups
//! into the scraper's, labels as the plugin wrote them (`__address__`,
//! `__meta_<plugin>_*`), so relabeling works as with Prometheus' SD.
//!
//! The discoverer looks the plugin up by name at every call, so a reload
//! that loads a new version (or new grants) is used from the next refresh
//! on, without restarting discovery. While the entry backs off after
//! failures (see [`crate::PluginSet`]), refreshes are skipped; a failed
//! or skipped refresh keeps the last good targets (the scrape pool's rule,
//! as in Prometheus).

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use pharos_config::DiscoveryConfig;
use pharos_model::Labels;
use pharos_plugin_host::{self as host, ErrorKind, PluginKind};
use pharos_scrape::discovery::DiscoverFuture;
use pharos_scrape::{Discoverer, DiscoveryError, DiscoveryRegistry, TargetGroup};

use crate::set::{PluginSet, UseKey, config_json};

impl DiscoveryRegistry for PluginSet {
    fn discoverer(
        &self,
        job: &str,
        cfg: &DiscoveryConfig,
    ) -> Result<Arc<dyn Discoverer>, DiscoveryError> {
        match self.get(&cfg.plugin) {
            None => {
                return Err(DiscoveryError::Config(format!(
                    "no plugin named {:?} is loaded",
                    cfg.plugin
                )));
            }
            Some(e) if e.plugin.kind() != PluginKind::Discovery => {
                return Err(DiscoveryError::Config(format!(
                    "plugin {:?} is a {} plugin, not a discovery plugin",
                    cfg.plugin,
                    e.plugin.kind()
                )));
            }
            Some(_) => {}
        }
        let config = config_json(&cfg.config);
        Ok(Arc::new(PluginDiscoverer {
            set: self.clone(),
            key: UseKey::new(job, PluginKind::Discovery, &cfg.plugin, &config),
            plugin: cfg.plugin.clone(),
            config,
        }))
    }
}

/// One discovery entry of one job.
struct PluginDiscoverer {
    set: PluginSet,
    key: UseKey,
    plugin: String,
    config: String,
}

impl Discoverer for PluginDiscoverer {
    fn discover(&self) -> DiscoverFuture<'_> {
        Box::pin(async move {
            let Some(entry) = self.set.get(&self.plugin) else {
                return Err(DiscoveryError::Config(format!(
                    "plugin {:?} is no longer loaded",
                    self.plugin
                )));
            };
            if let Some((failures, wait)) = self.set.backing_off(&self.key) {
                return Err(DiscoveryError::Transient(format!(
                    "plugin {} is backing off after {failures} failed calls; next call in {}s",
                    self.plugin,
                    wait.as_secs() + 1
                )));
            }
            let started = SystemTime::now();
            let clock = Instant::now();
            let result = entry.plugin.discover(&self.config).await;
            let outcome = result.as_ref().map(|_| ()).map_err(ToString::to_string);
            self.set
                .record_call(&self.key, started, clock.elapsed(), outcome.clone());
            let groups = result.map_err(|e| discovery_error(&e))?;
            Ok(groups.iter().map(convert).collect())
        })
    }
}

/// A failed call's kind as the scraper tells kinds apart: what may pass
/// by itself is transient, what the config (or the grants) must fix is a
/// config error, anything else (a crash, too many targets) is permanent.
fn discovery_error(e: &host::CallError) -> DiscoveryError {
    let message = e.to_string();
    match e.kind() {
        ErrorKind::Transient | ErrorKind::Timeout => DiscoveryError::Transient(message),
        ErrorKind::Config | ErrorKind::Denied | ErrorKind::WrongKind => {
            DiscoveryError::Config(message)
        }
        ErrorKind::Permanent
        | ErrorKind::Memory
        | ErrorKind::StackOverflow
        | ErrorKind::Panic
        | ErrorKind::Trap
        | ErrorKind::TooManyResults => DiscoveryError::Permanent(message),
    }
}

fn labels(ls: &[host::Label]) -> Labels {
    Labels::from_pairs(ls.iter().map(|l| (l.name.as_str(), l.value.as_str())))
}

/// A plugin's target group as the scraper's.
pub(crate) fn convert(g: &host::TargetGroup) -> TargetGroup {
    TargetGroup {
        source: g.source.clone(),
        labels: labels(&g.labels),
        targets: g.targets.iter().map(|t| labels(t)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(name: &str, value: &str) -> host::Label {
        host::Label {
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn groups_keep_their_labels_and_the_last_repeated_name_wins() {
        let g = host::TargetGroup {
            targets: vec![vec![
                l("__address__", "a:1"),
                l("__meta_x_zone", "eu"),
                l("__meta_x_zone", "us"),
                l("__meta_x_empty", ""),
            ]],
            labels: vec![l("env", "prod")],
            source: "x:0".into(),
        };
        let c = convert(&g);
        assert_eq!(c.source, "x:0");
        assert_eq!(c.labels.to_string(), r#"{env="prod"}"#);
        assert_eq!(
            c.targets[0].to_string(),
            r#"{__address__="a:1", __meta_x_zone="us"}"#
        );
    }
}
