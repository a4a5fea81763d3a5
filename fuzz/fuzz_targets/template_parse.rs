//! Go templates as rule labels and annotations have them: parsed with
//! Prometheus' functions and, when they parse, executed on an alert's data
//! (no query runner: query functions fail) — execution is bounded in depth
//! and output. Also parsed alone, as a notification template is.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pharos_template::PrometheusContext;
use pharos_template::rules::{RuleTemplateData, expand_rule_template_result};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut t = pharos_template::Template::new("fuzz");
    let _ = t.parse(text);
    let data = RuleTemplateData {
        labels: [("instance", "a:9100"), ("job", "node")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        external_labels: [("region".to_owned(), "eu".to_owned())].into(),
        external_url: "http://pharos:9090".to_owned(),
        value: 1.5,
    };
    let _ = expand_rule_template_result("Fuzz", text, &data, PrometheusContext::default());
});
