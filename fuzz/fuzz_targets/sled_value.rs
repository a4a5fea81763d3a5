//! See `pharos_tsdb::fuzz::sled_value`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pharos_tsdb::fuzz::sled_value(data));
