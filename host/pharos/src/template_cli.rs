//! `pharos check template --config FILE --receiver NAME`: the receiver's
//! notifier configurations rendered for a sample alert group, as the
//! server renders them before `notify` (defaults from each plugin's schema,
//! every string through the templates, `[alerting] templates` included).
//!
//! Each notifier plugin is loaded as the server loads it — installed in
//! the config's data directory, else built in — for its schema
//! (`describe()`), and asked to `validate-config` the configuration as
//! written. Nothing is sent.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use pharos_alerting::ConfigError as AlertingConfigError;
use pharos_alerting::notify::{Templates, preview};
use pharos_config::Config;
use pharos_plugin_host::{PluginKind, RuntimeOptions};
use pharos_plugins::{PluginSet, PluginStore};

/// `path:line:column` of a byte offset in `text`.
fn position(path: &Path, text: &str, offset: usize) -> String {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    format!("{}:{line}:{column}", path.display())
}

/// An `[alerting]` error as `file:line:column: alerting.key: message`.
fn alerting_error(path: &Path, e: &AlertingConfigError) -> anyhow::Error {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let at = e.span.as_ref().map_or_else(
        || path.display().to_string(),
        |s| position(path, &text, s.start),
    );
    let key = if e.key.is_empty() {
        "alerting".to_owned()
    } else {
        format!("alerting.{}", e.key)
    };
    anyhow::anyhow!("{at}: {key}: {}", e.message)
}

/// The notification templates of `config` (read from `config_path`):
/// the default ones and the files `[alerting] templates` names, relative
/// to the config's directory. A file that cannot be read or parsed is an
/// error at the pattern naming it (`file:line:column:
/// alerting.templates[i]: path:line: message`). Part of `pharos check
/// config`.
pub fn check_templates(config_path: &Path, config: &Config) -> anyhow::Result<Templates> {
    let base_dir = crate::reload::ConfigSource {
        file: Some(config_path.to_path_buf()),
        ..Default::default()
    }
    .base_dir();
    Templates::from_config(&config.alerting.routing, &base_dir)
        .map_err(|e| alerting_error(config_path, &e))
}

/// The receiver `name` of the config at `config_path`, or an error that
/// lists the receivers there are.
pub(crate) fn find_receiver<'c>(
    config_path: &Path,
    config: &'c Config,
    name: &str,
) -> anyhow::Result<&'c pharos_alerting::Located<pharos_alerting::config::ReceiverConfig>> {
    let receivers = &config.alerting.routing.receivers;
    if let Some(r) = receivers.iter().find(|r| r.name.as_str() == name) {
        return Ok(r);
    }
    let names: Vec<&str> = receivers.iter().map(|r| r.name.as_str()).collect();
    anyhow::bail!(
        "{}: no receiver named {name:?} in [alerting] (receivers: {})",
        config_path.display(),
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    )
}

/// Runs the check: the text to print and whether every notifier rendered
/// and accepted its configuration.
pub fn check_template(config_path: &Path, receiver: &str) -> anyhow::Result<(String, bool)> {
    let config = Config::load(config_path)?;
    let routing = &config.alerting.routing;
    let templates = check_templates(config_path, &config)?;
    let external_url = crate::reload::external_url(&config, &config.server.listen);
    let r = find_receiver(config_path, &config, receiver)?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (schemas, refusals) = runtime.block_on(async {
        let data = &config.storage.path;
        // As `check config`: compiled artifacts are cached only in an
        // existing data directory, so checking creates nothing.
        let options = RuntimeOptions {
            cache_dir: data.is_dir().then(|| PluginStore::new(data).cache_dir()),
            pooling: None,
            ..RuntimeOptions::default()
        };
        let set = PluginSet::with_options(data, options)?;
        let mut schemas = std::collections::BTreeMap::new();
        let mut refusals = Vec::new();
        for (i, n) in r.notifiers.iter().enumerate() {
            let name = n.plugin.as_str();
            if !schemas.contains_key(name) {
                schemas.insert(name.to_owned(), load_schema(&set, name).await);
            }
            if let Some(Ok((plugin, _))) = schemas.get(name) {
                let json = serde_json::to_string(&n.config).unwrap_or_else(|_| "{}".into());
                if let Err(e) = plugin.validate_config(&json).await {
                    refusals.push(format!(
                        "notifiers[{i}] ({name}): the plugin refused its config: {e}"
                    ));
                }
            }
        }
        anyhow::Ok((schemas, refusals))
    })?;

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let mut schema_of = |plugin: &str| match schemas.get(plugin) {
        Some(Ok((_, schema))) => Ok(schema.clone()),
        Some(Err(e)) => Err(e.clone()),
        None => Err("not loaded".to_owned()),
    };
    let p = preview(
        routing,
        receiver,
        &templates,
        &external_url,
        now,
        &mut schema_of,
    )?;
    let mut out = p.to_string();
    if !templates.files().is_empty() {
        let _ = writeln!(out, "\nTemplate files:");
        for f in templates.files() {
            let _ = writeln!(out, "  {}", f.display());
        }
    }
    for r in &refusals {
        let _ = writeln!(out, "\n{r}");
    }
    Ok((out, p.is_ok() && refusals.is_empty()))
}

/// Loads notifier plugin `name` (installed, else built in) and reads its
/// configuration schema.
async fn load_schema(
    set: &PluginSet,
    name: &str,
) -> Result<(pharos_plugin_host::Plugin, serde_json::Value), String> {
    let settings = pharos_plugin_host::PluginSettings::default();
    let plugin = match set.store().get(name).map_err(|e| e.to_string())? {
        Some(m) => {
            let bytes = set.store().read_component(&m).map_err(|e| e.to_string())?;
            set.runtime()
                .load(name, PluginKind::Notifier, &bytes, &settings)
                .await
        }
        None => {
            set.runtime()
                .load_embedded(name, PluginKind::Notifier, &settings)
                .await
        }
    }
    .map_err(|e| e.to_string())?;
    let text = plugin
        .info()
        .map(|i| i.config_schema.clone())
        .unwrap_or_else(|| "{}".to_owned());
    let schema = serde_json::from_str(&text)
        .map_err(|e| format!("its configuration schema is not JSON: {e}"))?;
    Ok((plugin, schema))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let p = Path::new("p.toml");
        assert_eq!(position(p, "ab\ncd", 4), "p.toml:2:2");
        assert_eq!(position(p, "ab\ncd", 0), "p.toml:1:1");
    }
}
