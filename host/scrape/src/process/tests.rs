#![allow(clippy::unwrap_used)]

use pharos_model::{Labels, is_stale_nan};
use pharos_relabel::RelabelConfig;
use pharos_textparse::Format;
use pharos_tsdb::{MemStorage, SeriesAppend};

use super::*;
use crate::cache::ScrapeCache;

fn target() -> Labels {
    Labels::from_pairs([("instance", "h:1"), ("job", "node")])
}

/// Processes a scrape and, as storage would accept its batch, commits it.
/// Nothing is appended, so the cache keeps every series' labels.
fn run(
    cache: &mut ScrapeCache,
    settings: &SampleSettings,
    body: &str,
    ts: i64,
) -> Result<(Counts, Vec<String>), ScrapeError> {
    let counts = process_body(
        cache,
        settings,
        &target(),
        &MemStorage::new(),
        body.as_bytes(),
        Format::PromText,
        ts,
    )?;
    let out = lines(cache.batch());
    cache.commit();
    Ok((counts, out))
}

fn lines(batch: &[SeriesAppend]) -> Vec<String> {
    batch
        .iter()
        .map(|s| {
            let v = s.samples[0].v;
            let v = if is_stale_nan(v) {
                "stale".to_owned()
            } else {
                v.to_string()
            };
            format!("{} {} @{}", s.labels, v, s.samples[0].t)
        })
        .collect()
}

fn relabel(toml_text: &str) -> Vec<pharos_relabel::Relabel> {
    let c: RelabelConfig = toml::from_str(toml_text).unwrap();
    vec![c.compile().unwrap()]
}

#[test]
fn target_labels_timestamps_and_staleness() {
    let mut cache = ScrapeCache::default();
    let s = SampleSettings::default();
    let (counts, out) = run(&mut cache, &s, "a 1\nb{x=\"1\"} 2 500\nc 3\n", 1000).unwrap();
    assert_eq!(
        out,
        [
            r#"a{instance="h:1", job="node"} 1 @1000"#,
            r#"b{instance="h:1", job="node", x="1"} 2 @1000"#,
            r#"c{instance="h:1", job="node"} 3 @1000"#,
        ]
    );
    assert_eq!(
        (counts.scraped, counts.post_relabel, counts.series_added),
        (3, 3, 3)
    );
    // `b` disappears: one staleness marker, once.
    let (counts, out) = run(&mut cache, &s, "a 4\nc 5\n", 2000).unwrap();
    assert_eq!(
        out,
        [
            r#"a{instance="h:1", job="node"} 4 @2000"#,
            r#"c{instance="h:1", job="node"} 5 @2000"#,
            r#"b{instance="h:1", job="node", x="1"} stale @2000"#,
        ]
    );
    assert_eq!(counts.series_added, 0);
    let (_, out) = run(&mut cache, &s, "a 4\nc 5\n", 3000).unwrap();
    assert_eq!(out.len(), 2);
}

#[test]
fn honor_timestamps_and_no_staleness_for_explicit_timestamps() {
    let mut cache = ScrapeCache::default();
    let s = SampleSettings {
        honor_timestamps: true,
        ..SampleSettings::default()
    };
    let (_, out) = run(&mut cache, &s, "a 1 500\nb 2\n", 1000).unwrap();
    assert_eq!(
        out,
        [
            r#"a{instance="h:1", job="node"} 1 @500"#,
            r#"b{instance="h:1", job="node"} 2 @1000"#,
        ]
    );
    let (_, out) = run(&mut cache, &s, "", 2000).unwrap();
    assert_eq!(out, [r#"b{instance="h:1", job="node"} stale @2000"#]);
}

#[test]
fn honor_labels_and_exported_prefix() {
    let body = "m{job=\"exp\",exported_job=\"x\",instance=\"\"} 1\n";
    let mut cache = ScrapeCache::default();
    let (_, out) = run(&mut cache, &SampleSettings::default(), body, 1).unwrap();
    assert_eq!(
        out,
        [r#"m{exported_exported_job="exp", exported_job="x", instance="h:1", job="node"} 1 @1"#]
    );
    let honor = SampleSettings {
        honor_labels: true,
        ..SampleSettings::default()
    };
    let mut cache = ScrapeCache::default();
    let (_, out) = run(&mut cache, &honor, body, 1).unwrap();
    assert_eq!(
        out,
        [r#"m{exported_job="x", instance="h:1", job="exp"} 1 @1"#]
    );
}

#[test]
fn metric_relabeling_drops_and_merges() {
    let mut s = SampleSettings {
        metric_relabel: relabel(
            "source_labels = [\"__name__\"]\nregex = \"go_.*\"\naction = \"drop\"",
        ),
        ..SampleSettings::default()
    };
    s.metric_relabel
        .extend(relabel("regex = \"x\"\naction = \"labeldrop\""));
    let mut cache = ScrapeCache::default();
    let body = "go_goroutines 5\nm{x=\"1\"} 1\nm{x=\"2\"} 2\nn 3\n";
    let (counts, out) = run(&mut cache, &s, body, 1).unwrap();
    // m{x="2"} becomes the same series as m{x="1"}: the second is dropped.
    assert_eq!(
        out,
        [
            r#"m{instance="h:1", job="node"} 1 @1"#,
            r#"n{instance="h:1", job="node"} 3 @1"#,
        ]
    );
    assert_eq!(
        (
            counts.scraped,
            counts.post_relabel,
            counts.duplicates,
            counts.series_added
        ),
        (4, 2, 1, 2)
    );
    // Cache hits give the same answer.
    let (counts2, out2) = run(&mut cache, &s, body, 2).unwrap();
    assert_eq!(out2.len(), 2);
    assert_eq!((counts2.post_relabel, counts2.series_added), (2, 0));
}

#[test]
fn limits_fail_the_scrape_with_prometheus_wording() {
    let cases: [(SampleSettings, &str, &str); 4] = [
        (
            SampleSettings {
                sample_limit: 2,
                ..Default::default()
            },
            "a 1\nb 1\nc 1\n",
            "sample limit exceeded",
        ),
        (
            SampleSettings {
                label_limit: 3,
                ..Default::default()
            },
            "a{x=\"1\",y=\"2\"} 1\n",
            "label_limit exceeded (metric: a, number of labels: 5, limit: 3)",
        ),
        (
            SampleSettings {
                label_name_length_limit: 5,
                ..Default::default()
            },
            "a{longname=\"1\"} 1\n",
            "label_name_length_limit exceeded (metric: a, label name: __name__, length: 8, limit: 5)",
        ),
        (
            SampleSettings {
                label_value_length_limit: 4,
                ..Default::default()
            },
            "a{x=\"12345\"} 1\n",
            "label_value_length_limit exceeded (metric: a, label name: x, value: \"12345\", length: 5, limit: 4)",
        ),
    ];
    for (s, body, want) in cases {
        let mut cache = ScrapeCache::default();
        let err = run(&mut cache, &s, body, 1).unwrap_err();
        assert_eq!(err.to_string(), want, "{body}");
    }
}

#[test]
fn parse_errors_name_the_line() {
    let mut cache = ScrapeCache::default();
    let err = run(&mut cache, &SampleSettings::default(), "a 1\nb{\n", 1).unwrap_err();
    assert!(err.to_string().starts_with("line 2: "), "{err}");
}

#[test]
fn stale_all_marks_the_last_scrape_once() {
    let mut cache = ScrapeCache::default();
    run(&mut cache, &SampleSettings::default(), "a 1\n", 1).unwrap();
    let mut batch = Vec::new();
    stale_all(&mut cache, &MemStorage::new(), 5, &mut batch);
    assert_eq!(lines(&batch), [r#"a{instance="h:1", job="node"} stale @5"#]);
    batch.clear();
    stale_all(&mut cache, &MemStorage::new(), 6, &mut batch);
    assert!(batch.is_empty());
}

#[test]
fn metadata_is_kept_per_family() {
    let mut cache = ScrapeCache::default();
    let body = "# HELP a Help of a.\n# TYPE a counter\na 1\n# TYPE b gauge\nb 1\n";
    run(&mut cache, &SampleSettings::default(), body, 1).unwrap();
    assert!(cache.metadata_dirty());
    let list = cache.metadata_list();
    let got: Vec<(String, &str, String)> = list
        .iter()
        .map(|m| (m.metric.clone(), m.metric_type.as_str(), m.help.clone()))
        .collect();
    assert_eq!(
        got,
        [
            ("a".into(), "counter", "Help of a.".into()),
            ("b".into(), "gauge", String::new())
        ]
    );
    run(&mut cache, &SampleSettings::default(), body, 2).unwrap();
    assert!(!cache.metadata_dirty());
    run(
        &mut cache,
        &SampleSettings::default(),
        "# TYPE a counter\na 1\n",
        3,
    )
    .unwrap();
    assert!(cache.metadata_dirty());
    assert_eq!(cache.metadata_list().len(), 1);
}

#[test]
fn report_series_names_and_values() {
    let mut batch = Vec::new();
    let r = Report {
        up: false,
        duration: std::time::Duration::from_millis(250),
        counts: Counts {
            scraped: 3,
            post_relabel: 2,
            series_added: 1,
            duplicates: 0,
        },
    };
    report_series(&target(), 9, &r, &mut batch);
    assert_eq!(
        lines(&batch),
        [
            r#"up{instance="h:1", job="node"} 0 @9"#,
            r#"scrape_duration_seconds{instance="h:1", job="node"} 0.25 @9"#,
            r#"scrape_samples_scraped{instance="h:1", job="node"} 3 @9"#,
            r#"scrape_samples_post_metric_relabeling{instance="h:1", job="node"} 2 @9"#,
            r#"scrape_series_added{instance="h:1", job="node"} 1 @9"#,
        ]
    );
}

/// One scrape of a case: time, format, body, and the batch lines or the
/// error it must give.
type CaseScrape = (i64, Format, String, Result<Vec<String>, String>);

/// One `testdata/scrapes/*.txt` case file (see its README).
struct CaseFile {
    config: String,
    scrapes: Vec<CaseScrape>,
}

fn parse_case(text: &str) -> CaseFile {
    let mut config = String::new();
    let mut scrapes = Vec::new();
    let mut section = "";
    let mut current: Option<(i64, Format, String)> = None;
    let mut expect: Vec<String> = Vec::new();
    let mut error: Option<String> = None;
    let flush = |current: &mut Option<(i64, Format, String)>,
                 expect: &mut Vec<String>,
                 error: &mut Option<String>,
                 scrapes: &mut Vec<_>| {
        if let Some((ts, format, body)) = current.take() {
            let want = match error.take() {
                Some(e) => Err(e),
                None => Ok(std::mem::take(expect)),
            };
            scrapes.push((ts, format, body, want));
        }
    };
    for line in text.lines() {
        if let Some(head) = line.strip_prefix("== ") {
            let mut words = head.split_whitespace();
            match words.next() {
                Some("config") => section = "config",
                Some("scrape") => {
                    flush(&mut current, &mut expect, &mut error, &mut scrapes);
                    let ts = words.next().unwrap().parse().unwrap();
                    let format = match words.next() {
                        Some("openmetrics") => Format::OpenMetrics,
                        _ => Format::PromText,
                    };
                    current = Some((ts, format, String::new()));
                    section = "scrape";
                }
                Some("expect") => section = "expect",
                Some("error") => section = "error",
                other => panic!("unknown section {other:?}"),
            }
            continue;
        }
        match section {
            "config" => {
                config.push_str(line);
                config.push('\n');
            }
            "scrape" => {
                let body = &mut current.as_mut().unwrap().2;
                body.push_str(line);
                body.push('\n');
            }
            "expect" if !line.is_empty() => expect.push(line.to_owned()),
            "error" if !line.is_empty() => error = Some(line.to_owned()),
            _ => {}
        }
    }
    flush(&mut current, &mut expect, &mut error, &mut scrapes);
    CaseFile { config, scrapes }
}

#[test]
fn scrape_cases_from_files() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/scrapes");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let case = parse_case(&std::fs::read_to_string(path).unwrap());
        let toml_text = format!("[[scrape]]\njob = \"node\"\n{}", case.config);
        let cfg = pharos_config::Config::from_toml(&toml_text, &name)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .scrape
            .remove(0);
        let settings = SampleSettings::from_config(&cfg);
        let mut cache = ScrapeCache::default();
        let storage = MemStorage::new();
        for (i, (ts, format, body, want)) in case.scrapes.iter().enumerate() {
            let got = process_body(
                &mut cache,
                &settings,
                &target(),
                &storage,
                body.as_bytes(),
                *format,
                *ts,
            )
            .map(|_| {
                let out = lines(cache.batch());
                cache.commit();
                out
            })
            .map_err(|e| e.to_string());
            if got != *want {
                failures.push(format!(
                    "{name}, scrape {} (@{ts}):\n  want {want:#?}\n  got  {got:#?}",
                    i + 1
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
