//! `pharos alert test --config FILE --receiver NAME`: sends one synthetic
//! notification (the sample group `pharos check template` renders)
//! through each notifier of the receiver, with the plugins, grants and
//! templates the server would use, and reports what each answered.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use pharos_alerting::notify::{Templates, sample_notification};
use pharos_alerting::service::{Deliver, now_ms};
use pharos_alerting::store::Delivery;
use pharos_config::Config;
use pharos_plugins::PluginSet;

use crate::alerting::{PluginDeliverer, RenderContext};
use crate::reload::{ConfigSource, external_url};
use crate::template_cli::find_receiver;

/// Runs the test: the report to print and whether every notifier
/// delivered.
pub async fn alert_test(config_path: &Path, receiver: &str) -> anyhow::Result<(String, bool)> {
    let source = ConfigSource {
        file: Some(config_path.to_path_buf()),
        ..ConfigSource::default()
    };
    let config: Config = source.load(None)?;
    let routing = &config.alerting.routing;
    let r = find_receiver(config_path, &config, receiver)?;
    let templates: Templates = source.load_templates(&config)?;
    let plugins = PluginSet::new(&config.storage.path)?;
    let prepared = plugins
        .prepare(&config)
        .await
        .context("invalid configuration")?;
    plugins.commit(prepared);
    let url = external_url(&config, &config.server.listen);
    let deliverer = Arc::new(PluginDeliverer::new(
        plugins,
        RenderContext {
            templates: Arc::new(templates),
            external_url: url.clone(),
        },
    ));
    let sample = sample_notification(routing, receiver, &url, now_ms());
    let mut out = String::new();
    let mut ok = true;
    for (i, n) in r.notifiers.iter().enumerate() {
        let mut notification = sample.clone();
        notification.integration = i;
        notification.plugin = n.plugin.value.clone();
        let d = Delivery {
            seq: 0,
            notification,
            config: serde_json::to_value(&n.config).unwrap_or_default(),
            attempts: 0,
        };
        let result = deliverer.deliver(&d).await;
        let _ = match &result {
            Ok(()) => writeln!(
                out,
                "{receiver} notifiers[{i}] ({}): delivered",
                n.plugin.value
            ),
            Err(e) => writeln!(
                out,
                "{receiver} notifiers[{i}] ({}): {} error: {e}",
                n.plugin.value,
                e.reason()
            ),
        };
        ok &= result.is_ok();
    }
    Ok((out, ok))
}
