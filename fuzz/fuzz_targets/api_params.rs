//! Query-API parameters as a URL query string (`time`, `start`, `end`,
//! `step`, `timeout`, `limit`, `match[]`): see `pharos::api::fuzz::params`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pharos::api::fuzz::params(data));
