//! See `pharos_tsdb::fuzz::wal_record`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pharos_tsdb::fuzz::wal_record(data));
