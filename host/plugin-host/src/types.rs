//! The values plugins exchange with the host, generated from
//! `wit/types.wit` (read it for what each field means). These are the types
//! the plugin set (`pharos-plugins`: discovery, exporter jobs) and the
//! alert delivery (`pharos`) hand to and get from [`Plugin`](crate::Plugin) calls.

pub use crate::bindings::discovery::pharos::plugin::types::{
    Alert, AlertStatus, Label, Labels, Metric, MetricFamily, MetricType, Notification, PluginError,
    PluginInfo, PluginKind, TargetGroup,
};

impl std::fmt::Display for PluginKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PluginKind::Discovery => "discovery",
            PluginKind::Exporter => "exporter",
            PluginKind::Notifier => "notifier",
        })
    }
}

impl PluginError {
    /// The error's text, whatever its kind.
    pub fn message(&self) -> &str {
        match self {
            PluginError::Config(m) | PluginError::Transient(m) | PluginError::Permanent(m) => m,
        }
    }
}
