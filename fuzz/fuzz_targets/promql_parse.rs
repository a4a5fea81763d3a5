//! PromQL as `/api/v1/query` gets it: parsed (errors included), and a
//! query that parses prints (`/api/v1/format_query`) to text that parses
//! to the same print again. The input as a series selector (`match[]`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    match pharos_promql::parse(query) {
        Ok(expr) => {
            let printed = expr.to_string();
            match pharos_promql::parse(&printed) {
                Ok(again) => assert_eq!(
                    again.to_string(),
                    printed,
                    "printing is not stable for {query:?}"
                ),
                Err(e) => panic!("{query:?} prints as {printed:?}, which does not parse: {e}"),
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    let _ = pharos_promql::parse_metric_selector(query);
});
