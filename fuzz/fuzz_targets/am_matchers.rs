//! Alertmanager label matchers (`matchers`, silences, amtool): a list and
//! one matcher; a matcher that parses prints to text that parses to the
//! same matcher, and it can be matched against a value.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pharos_alerting::matchers::{parse_matcher, parse_matchers};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(ms) = parse_matchers(text) {
        for m in ms {
            let printed = m.to_string();
            match parse_matcher(&printed) {
                Ok(again) => assert_eq!(again.to_string(), printed, "from {text:?}"),
                Err(e) => {
                    panic!("{text:?}: matcher prints as {printed:?}, which does not parse: {e}")
                }
            }
            let _ = m.matches(text);
        }
    }
    let _ = parse_matcher(text);
});
