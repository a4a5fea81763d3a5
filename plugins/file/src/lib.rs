//! `file` discovery: Prometheus' `file_sd_config` as a Pharos plugin.
//!
//! Reads target groups from JSON or YAML files
//! (<https://prometheus.io/docs/prometheus/latest/configuration/configuration/#file_sd_config>):
//! each file holds a list `[{"targets": ["host:port", …], "labels": {…}}]`;
//! `files` are paths ending in `.json`, `.yml` or `.yaml`, whose last
//! element may hold `*` and `?` wildcards. Every group gets the label
//! `__meta_filepath` with the file's path and the source `<path>:<index>`,
//! as Prometheus sets them. Files are read again on every call, so changes
//! show at the next refresh.
//!
//! The operator must grant the files' directories in `allow_read`; a path
//! outside them fails with a `config` error naming that grant. A pattern
//! that matches nothing gives no groups (as in Prometheus); a file that
//! does not parse fails the call (the host keeps the previous targets).
//!
//! Configuration: `{"files": ["/etc/pharos/targets/*.json"]}`.

mod glob;
mod parse;

use pharos_sdk::{Discovery, Error, TargetGroup};
use std::path::Path;

/// The plugin's configuration.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    files: Vec<String>,
    /// Accepted for compatibility with Prometheus' configuration.
    #[serde(default)]
    #[allow(dead_code)]
    refresh_interval: Option<serde_json::Value>,
}

struct FileSd;

impl Discovery for FileSd {
    type Config = Config;
    const NAME: &'static str = "file";
    const DESCRIPTION: &'static str =
        "Targets from JSON or YAML files in Prometheus' file_sd format.";
    const CONFIG_SCHEMA: &'static str = include_str!("../schema.json");

    fn validate(config: &Config) -> Result<(), Error> {
        if config.files.is_empty() {
            return Err(Error::config("`files` must list at least one path"));
        }
        for f in &config.files {
            glob::check_pattern(f).map_err(Error::config)?;
        }
        Ok(())
    }

    fn discover(config: Config) -> Result<Vec<TargetGroup>, Error> {
        let mut paths = Vec::new();
        for pattern in &config.files {
            paths.extend(glob::expand(Path::new(pattern))?);
        }
        paths.sort();
        paths.dedup();
        let mut groups = Vec::new();
        for path in paths {
            let Some(text) = path.to_str() else { continue };
            let content = match pharos_sdk::fs::read(&path) {
                Ok(c) => c,
                // Removed between listing and reading: gone, as in Prometheus.
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e.into()),
            };
            groups.extend(parse::target_groups(text, &content).map_err(Error::permanent)?);
        }
        Ok(groups)
    }
}

pharos_sdk::export!(discovery: FileSd);
