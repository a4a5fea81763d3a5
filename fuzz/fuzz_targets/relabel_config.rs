//! Relabel configs as a config file gives them, compiled with Prometheus'
//! checks and run over a label set. The input is a TOML document shaped
//! like a case of `host/relabel/testdata`: `configs = [{…}, …]` and
//! `input = { name = "value", … }`.
#![no_main]
use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use pharos_model::Labels;
use pharos_relabel::{Relabel, RelabelConfig, process};

#[derive(serde::Deserialize)]
struct Case {
    configs: Vec<RelabelConfig>,
    #[serde(default)]
    input: BTreeMap<String, String>,
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(case) = toml::from_str::<Case>(text) else {
        return;
    };
    let Ok(relabels) = case
        .configs
        .into_iter()
        .map(Relabel::new)
        .collect::<Result<Vec<_>, _>>()
    else {
        return;
    };
    let labels = Labels::from_pairs(case.input);
    if let Some(out) = process(&labels, &relabels) {
        let _ = out.to_string();
    }
});
