//! A Prometheus rule file (YAML), parsed and checked as `pharos check
//! rules` and the rule manager load it (expressions and templates too).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(errors) = pharos_rules::rulefmt::parse_str(text, "fuzz.yml") {
        for e in errors {
            let _ = e.to_string();
        }
    }
});
