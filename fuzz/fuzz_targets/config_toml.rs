//! A `pharos.toml`: loaded (errors included); a config that loads renders
//! as TOML and as Prometheus YAML, and the TOML rendering (when it has no
//! masked secret) loads again and renders the same.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pharos_config::{Config, Secret};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = Config::from_toml(text, "fuzz.toml") else {
        return;
    };
    let _ = config.to_prometheus_yaml();
    let Ok(rendered) = config.to_toml() else {
        return;
    };
    if rendered.contains(Secret::MASK) || rendered.contains(pharos_config::REDACTED_PASSWORD) {
        return;
    }
    match Config::from_toml(&rendered, "rendered.toml") {
        Ok(again) => assert_eq!(again.to_toml().ok().as_deref(), Some(rendered.as_str())),
        Err(e) => panic!("the rendering of {text:?} does not load: {e}\n{rendered}"),
    }
});
