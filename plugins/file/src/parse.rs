//! Decoding a file SD file into target groups, as Prometheus does: JSON for
//! `.json` (unknown keys ignored), YAML for `.yml`/`.yaml` (unknown keys
//! refused, as Prometheus' strict YAML decoding does); label names must be
//! valid; every group gets `__meta_filepath` and the source
//! `<path>:<index>`. Tested with the cases in `testdata/`.

use pharos_sdk::{Label, TargetGroup};
use std::collections::BTreeMap;

/// The label Prometheus sets on every group: the file it came from.
pub const FILEPATH_LABEL: &str = "__meta_filepath";

#[derive(serde::Deserialize)]
struct JsonGroup {
    #[serde(default)]
    targets: Option<Vec<String>>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct YamlGroup {
    #[serde(default)]
    targets: Option<Vec<String>>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

/// A group's targets and labels, whichever the format.
type RawGroup = (Option<Vec<String>>, Option<BTreeMap<String, String>>);

fn is_valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Decodes `content` of the file at `path` (the extension picks the format).
pub fn target_groups(path: &str, content: &[u8]) -> Result<Vec<TargetGroup>, String> {
    let raw: Vec<RawGroup> = if path.ends_with(".json") {
        let groups: Option<Vec<JsonGroup>> =
            serde_json::from_slice(content).map_err(|e| format!("cannot parse {path}: {e}"))?;
        groups
            .unwrap_or_default()
            .into_iter()
            .map(|g| (g.targets, g.labels))
            .collect()
    } else if path.ends_with(".yml") || path.ends_with(".yaml") {
        let groups: Option<Vec<YamlGroup>> =
            serde_yaml_ng::from_slice(content).map_err(|e| format!("cannot parse {path}: {e}"))?;
        groups
            .unwrap_or_default()
            .into_iter()
            .map(|g| (g.targets, g.labels))
            .collect()
    } else {
        return Err(format!(
            "{path}: unknown file extension (want .json, .yml or .yaml)"
        ));
    };
    raw.into_iter()
        .enumerate()
        .map(|(i, (targets, labels))| {
            let mut group_labels = Vec::new();
            for (name, value) in labels.unwrap_or_default() {
                if !is_valid_label_name(&name) {
                    return Err(format!(
                        "{path}: {name:?} is not a valid label name (group {i})"
                    ));
                }
                group_labels.push(Label::new(name, value));
            }
            group_labels.push(Label::new(FILEPATH_LABEL, path));
            Ok(TargetGroup {
                targets: targets
                    .unwrap_or_default()
                    .into_iter()
                    .map(|t| vec![Label::new("__address__", t)])
                    .collect(),
                labels: group_labels,
                source: format!("{path}:{i}"),
            })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::path::Path;

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

    /// Each `testdata/<case>.<json|yml|yaml>` is decoded as if read from
    /// `/sd/<case>.<ext>`; `<case>.groups.json` holds the expected groups,
    /// or `<case>.error` a fragment of the expected error.
    #[test]
    fn testdata_cases() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
        let mut ran = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_str().unwrap().to_owned();
            if file.ends_with(".groups.json") || file.ends_with(".error") || file.ends_with(".md") {
                continue;
            }
            let (case, _) = file.rsplit_once('.').unwrap();
            let content = std::fs::read(&path).unwrap();
            let got = target_groups(&format!("/sd/{file}"), &content);
            let groups = dir.join(format!("{case}.groups.json"));
            if groups.exists() {
                let want: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(&groups).unwrap()).unwrap();
                let got = got.unwrap_or_else(|e| panic!("case {file}: unexpected error {e}"));
                assert_eq!(to_json(&got), want, "case {file}");
            } else {
                let want = std::fs::read_to_string(dir.join(format!("{case}.error")))
                    .unwrap_or_else(|_| panic!("case {file}: no .groups.json or .error"));
                match got {
                    Ok(g) => panic!("case {file}: expected an error, got {:?}", to_json(&g)),
                    Err(e) => assert!(e.contains(want.trim()), "case {file}: error {e:?}"),
                }
            }
            ran += 1;
        }
        assert!(ran >= 6, "only {ran} cases in {}", dir.display());
    }
}
