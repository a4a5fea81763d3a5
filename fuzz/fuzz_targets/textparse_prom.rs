//! The Prometheus text format (0.0.4), as a scrape body: entries until the
//! end or the first error; labels of each sample parsed.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pharos_textparse::{Entry, Format, Parser};

fuzz_target!(|data: &[u8]| pharos_fuzz_textparse(data, Format::PromText));

fn pharos_fuzz_textparse(data: &[u8], format: Format) {
    for entry in Parser::new(data, format) {
        match entry {
            Ok(Entry::Sample(s)) => {
                let _ = s.labels();
            }
            Ok(_) => {}
            Err(e) => {
                let _ = e.to_string();
                break;
            }
        }
    }
}
