//! Property tests: no input makes the parsers panic or loop, and label sets,
//! values and timestamps written in either format read back unchanged.

#![allow(clippy::unwrap_used)]

use pharos_model::Labels;
use pharos_textparse::{Entry, Format, NORMAL_NAN_BITS, Parser};
use proptest::prelude::*;

const FORMATS: [Format; 2] = [Format::PromText, Format::OpenMetrics];

/// Parses all of `body` as a scraper would (labels built for every sample)
/// and checks what must hold for any input: entries stop, sample lines
/// never go backwards and stay within the body, series are exact slices.
fn exercise(body: &[u8], format: Format) {
    let lines = body.iter().filter(|&&b| b == b'\n').count() + 1;
    let mut last_line = 0;
    let mut entries = 0;
    for entry in Parser::new(body, format) {
        entries += 1;
        assert!(entries <= lines, "more entries than lines");
        let Ok(entry) = entry else {
            continue;
        };
        if let Entry::Sample(s) = entry {
            assert!(s.line >= last_line && s.line <= lines);
            last_line = s.line;
            assert!(s.series.starts_with(s.name));
            let start = s.series.as_ptr() as usize - body.as_ptr() as usize;
            assert_eq!(&body[start..start + s.series.len()], s.series.as_bytes());
            let pairs = s.label_pairs().count();
            if let Ok(labels) = s.labels() {
                assert!(labels.len() <= pairs + 1);
                assert_eq!(labels.metric_name(), Some(s.name));
            }
            if let Some(ex) = &s.exemplar {
                assert!(ex.labels().len() <= ex.label_pairs().count());
            }
        }
    }
}

/// Bytes that make up exposition syntax, so random strings of them come
/// close to valid bodies and reach deep into the grammar.
fn near_exposition() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop::sample::select(vec![
        "a", "b_total", "c_bucket", "le", ":", "_", "{", "}", "=", "\"", "\\", ",", " ", "\t",
        "\n", "\r", "#", "# ", "# HELP ", "# TYPE ", "# UNIT ", "# EOF", " # {", "1", "-2.5",
        "1e3", "NaN", "+Inf", "0x1", ".", "é", "\u{0}", "\u{ff}", "counter", "gauge", "unknown",
    ]);
    prop::collection::vec(pieces, 0..60).prop_map(|v| v.concat().into_bytes())
}

fn metric_name() -> impl Strategy<Value = String> {
    "[a-zA-Z_:][a-zA-Z0-9_:]{0,12}"
}

/// Any string, often made of the characters that need escaping or look
/// like syntax.
fn label_value() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-z\"\\\\\n\t\r ,={}#é]{0,12}"]
}

/// Label pairs with unique legacy names (not `__name__`) and any values.
fn label_pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::btree_map("[a-zA-Z][a-zA-Z0-9_]{0,8}", label_value(), 0..6)
        .prop_map(|m| m.into_iter().collect())
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        (-1_000_000i64..1_000_000).prop_map(|i| i as f64),
    ]
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn render_labels(pairs: &[(String, String)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(n, v)| format!("{n}=\"{}\"", escape(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// `name` alone, or `name{labels}`.
fn render_series(name: &str, pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        name.to_string()
    } else {
        format!("{name}{}", render_labels(pairs))
    }
}

fn expected_labels(name: &str, pairs: &[(String, String)]) -> Labels {
    let mut all = vec![("__name__".to_string(), name.to_string())];
    all.extend(pairs.iter().cloned());
    Labels::from_pairs(all)
}

fn same_value(got: f64, want: f64) -> bool {
    if want.is_nan() {
        got.to_bits() == NORMAL_NAN_BITS
    } else {
        got == want && got.is_sign_negative() == want.is_sign_negative()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..400)) {
        for format in FORMATS {
            exercise(&body, format);
        }
    }

    #[test]
    fn near_exposition_never_panics(body in near_exposition()) {
        for format in FORMATS {
            exercise(&body, format);
        }
    }

    #[test]
    fn text_format_round_trips(
        name in metric_name(),
        pairs in label_pairs(),
        v in value(),
        ts in prop::option::of(0i64..=i64::MAX),
    ) {
        let series = render_series(&name, &pairs);
        let mut body = format!("{series} {v:?}");
        if let Some(ts) = ts {
            body.push_str(&format!(" {ts}"));
        }
        body.push('\n');
        let entries: Vec<_> = Parser::new(body.as_bytes(), Format::PromText).collect();
        prop_assert_eq!(entries.len(), 1, "{:?}", entries);
        let Some(Ok(Entry::Sample(s))) = entries.into_iter().next() else {
            return Err(TestCaseError::fail(format!("not one sample: {body:?}")));
        };
        prop_assert_eq!(s.series, series);
        prop_assert_eq!(s.labels().unwrap(), expected_labels(&name, &pairs));
        prop_assert!(same_value(s.value, v), "{} vs {}", s.value, v);
        prop_assert_eq!(s.timestamp, ts);
    }

    #[test]
    fn openmetrics_round_trips(
        name in metric_name(),
        pairs in label_pairs(),
        v in value(),
        ts_ms in prop::option::of(-1_000_000_000_000_000i64..1_000_000_000_000_000),
        exemplar in prop::option::of((label_pairs(), value())),
    ) {
        let name = format!("{name}_total");
        let mut body = format!("{} {v:?}", render_series(&name, &pairs));
        if let Some(ms) = ts_ms {
            let sign = if ms < 0 { "-" } else { "" };
            body.push_str(&format!(" {sign}{}.{:03}", ms.unsigned_abs() / 1000, ms.unsigned_abs() % 1000));
        }
        if let Some((ex_pairs, ex_v)) = &exemplar {
            body.push_str(&format!(" # {} {ex_v:?}", render_labels(ex_pairs)));
        }
        body.push_str("\n# EOF\n");
        let entries: Vec<_> = Parser::new(body.as_bytes(), Format::OpenMetrics).collect();
        prop_assert_eq!(entries.len(), 1, "{:?}", entries);
        let Some(Ok(Entry::Sample(s))) = entries.into_iter().next() else {
            return Err(TestCaseError::fail(format!("not one sample: {body:?}")));
        };
        prop_assert_eq!(s.labels().unwrap(), expected_labels(&name, &pairs));
        prop_assert!(same_value(s.value, v), "{} vs {}", s.value, v);
        match (s.timestamp, ts_ms) {
            // Seconds with three decimals, times 1000 in floating point, may
            // truncate to the millisecond below, as in Prometheus.
            (Some(got), Some(want)) => prop_assert!((got - want).abs() <= 1, "{got} vs {want}"),
            (got, want) => prop_assert_eq!(got, want),
        }
        match (&s.exemplar, &exemplar) {
            (Some(got), Some((ex_pairs, ex_v))) => {
                prop_assert_eq!(got.labels(), Labels::from_pairs(ex_pairs.clone()));
                prop_assert!(same_value(got.value, *ex_v));
            }
            (None, None) => {}
            (got, want) => prop_assert!(false, "exemplar {:?} vs {:?}", got, want),
        }
    }
}
