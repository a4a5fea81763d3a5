//! An installed plugin's manifest (`<data>/plugins/<name>.json`): see
//! `pharos_plugins::fuzz::manifest`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pharos_plugins::fuzz::manifest(data));
