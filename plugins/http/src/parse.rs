//! The pure parts of HTTP SD: URL and content-type checks and the decoding
//! of the response body into target groups. Tested on the host target
//! with the cases in `testdata/`.

use pharos_sdk::{Label, TargetGroup};
use std::collections::BTreeMap;

/// The label Prometheus sets on every group: the URL it came from.
pub const URL_LABEL: &str = "__meta_url";

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

/// Checks that `url` is an absolute `http` or `https` URL with a host.
pub fn check_url(url: &str) -> Result<(), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!("`url` {url:?} is not an absolute URL"));
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(format!(
            "`url` scheme must be 'http' or 'https', not {scheme:?}"
        ));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host.is_empty() || host.starts_with(':') {
        return Err(format!("host is missing in `url` {url:?}"));
    }
    Ok(())
}

/// Whether a `Content-Type` value is JSON as Prometheus accepts it:
/// `application/json`, optionally with `; charset=utf-8`.
pub fn is_json_content_type(value: &str) -> bool {
    let mut parts = value.trim().split(';');
    let media = parts.next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/json") {
        return false;
    }
    match parts.next() {
        None => true,
        Some(param) => {
            let param = param.trim();
            let Some((key, val)) = param.split_once('=') else {
                return false;
            };
            parts.next().is_none()
                && key.trim().eq_ignore_ascii_case("charset")
                && matches!(val.trim(), "utf-8" | "\"utf-8\"")
        }
    }
}

fn is_valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Decodes the body into target groups, each labelled with `__meta_url`.
pub fn target_groups(url: &str, body: &[u8]) -> Result<Vec<TargetGroup>, String> {
    let raw: Option<Vec<RawGroup>> = serde_json::from_slice(body)
        .map_err(|e| format!("cannot parse the response of {url}: {e}"))?;
    raw.unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            let mut labels = Vec::new();
            for (name, value) in g.labels.unwrap_or_default() {
                if !is_valid_label_name(&name) {
                    return Err(format!(
                        "{name:?} is not a valid label name (group {i} of {url})"
                    ));
                }
                labels.push(Label::new(name, value));
            }
            labels.push(Label::new(URL_LABEL, url));
            let targets = g
                .targets
                .into_iter()
                .map(|t| vec![Label::new("__address__", t)])
                .collect();
            Ok(TargetGroup {
                targets,
                labels,
                source: format!("{url}:{i}"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const URL: &str = "http://sd.test/targets";

    fn to_json(groups: &[TargetGroup]) -> serde_json::Value {
        let map = |ls: &[Label]| -> BTreeMap<String, String> {
            ls.iter()
                .map(|l| (l.name.clone(), l.value.clone()))
                .collect()
        };
        groups
            .iter()
            .map(|g| {
                serde_json::json!({
                    "source": g.source,
                    "labels": map(&g.labels),
                    "targets": g.targets.iter().map(|t| map(t)).collect::<Vec<_>>(),
                })
            })
            .collect()
    }

    #[test]
    fn testdata_cases() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
        let mut ran = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("body") {
                continue;
            }
            let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
            let body = std::fs::read(&path).unwrap();
            let got = target_groups(URL, &body);
            let groups = dir.join(format!("{name}.groups.json"));
            let error = dir.join(format!("{name}.error"));
            if groups.exists() {
                let want: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(&groups).unwrap()).unwrap();
                let got = got.unwrap_or_else(|e| panic!("case {name}: unexpected error {e}"));
                assert_eq!(to_json(&got), want, "case {name}");
            } else {
                let want = std::fs::read_to_string(&error).unwrap();
                match got {
                    Ok(g) => panic!("case {name}: expected an error, got {:?}", to_json(&g)),
                    Err(e) => assert!(e.contains(want.trim()), "case {name}: error {e:?}"),
                }
            }
            ran += 1;
        }
        assert!(ran >= 7, "only {ran} cases found in {}", dir.display());
    }

    #[test]
    fn content_types_as_prometheus_accepts_them() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON;charset=\"utf-8\"",
        ] {
            assert!(is_json_content_type(ok), "{ok}");
        }
        for bad in [
            "text/plain",
            "application/json; charset=latin1",
            "application/jsonx",
            "",
        ] {
            assert!(!is_json_content_type(bad), "{bad}");
        }
    }

    #[test]
    fn urls() {
        assert!(check_url("http://sd.example.org/targets").is_ok());
        assert!(check_url("https://user@sd:8080").is_ok());
        assert!(check_url("ftp://x/").unwrap_err().contains("scheme"));
        assert!(
            check_url("http:///x")
                .unwrap_err()
                .contains("host is missing")
        );
        assert!(
            check_url("sd.example.org")
                .unwrap_err()
                .contains("absolute")
        );
    }
}
