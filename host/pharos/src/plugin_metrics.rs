//! Plugins' self-metrics on `/metrics`, read from each loaded plugin's
//! counters (`pharos_plugin_host::MetricsSnapshot`) when `/metrics` is
//! scraped: calls, failed calls by error kind, time spent in calls, the
//! memory high-water mark and refused outbound requests, per plugin.

use std::sync::Arc;

use parking_lot::Mutex;
use pharos_plugins::PluginSet;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

type LabelPairs = Vec<(&'static str, String)>;

/// Where the collector finds the plugins once the server has them.
pub type PluginSlot = Arc<Mutex<Option<PluginSet>>>;

/// Encodes the plugin metrics of the set in its slot.
pub struct PluginCollector {
    pub slot: PluginSlot,
}

impl std::fmt::Debug for PluginCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PluginCollector")
    }
}

impl Collector for PluginCollector {
    fn encode(&self, mut e: DescriptorEncoder) -> std::fmt::Result {
        let Some(set) = self.slot.lock().clone() else {
            return Ok(());
        };
        let calls = Family::<LabelPairs, Counter>::default();
        let errors = Family::<LabelPairs, Counter>::default();
        let seconds = Family::<LabelPairs, Counter<f64>>::default();
        let memory = Family::<LabelPairs, Gauge>::default();
        let denied = Family::<LabelPairs, Counter>::default();
        for (name, entry) in set.loaded().iter() {
            let m = entry.plugin.metrics();
            let plugin = vec![("plugin", name.clone())];
            calls.get_or_create(&plugin).inc_by(m.calls);
            for (kind, n) in &m.errors {
                let mut l = plugin.clone();
                l.push(("kind", kind.as_str().to_owned()));
                errors.get_or_create(&l).inc_by(*n);
            }
            seconds
                .get_or_create(&plugin)
                .inc_by(m.duration_total.as_secs_f64());
            memory
                .get_or_create(&plugin)
                .set(i64::try_from(m.memory_high_water_bytes).unwrap_or(i64::MAX));
            denied.get_or_create(&plugin).inc_by(m.denied_requests);
        }
        calls.encode(e.encode_descriptor(
            "pharos_plugin_calls",
            "Calls made to each plugin, failed ones included.",
            None,
            calls.metric_type(),
        )?)?;
        errors.encode(e.encode_descriptor(
            "pharos_plugin_call_errors",
            "Failed plugin calls by plugin and error kind (config, transient, permanent, timeout, memory_limit, stack_overflow, panic, trap, denied, wrong_kind, too_many_results).",
            None,
            errors.metric_type(),
        )?)?;
        seconds.encode(e.encode_descriptor(
            "pharos_plugin_call_duration_seconds",
            "Time spent in calls of each plugin, instantiation included.",
            None,
            seconds.metric_type(),
        )?)?;
        memory.encode(e.encode_descriptor(
            "pharos_plugin_memory_high_water_bytes",
            "The largest linear memory any call of each plugin reached.",
            None,
            memory.metric_type(),
        )?)?;
        denied.encode(e.encode_descriptor(
            "pharos_plugin_denied_requests",
            "Outbound requests the sandbox refused, per plugin.",
            None,
            denied.metric_type(),
        )?)?;
        Ok(())
    }
}
