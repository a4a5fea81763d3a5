//! A small YAML writer for the Prometheus-shaped rendering of the config,
//! in the layout Prometheus' own output has (go-yaml v2): two-space
//! indents, sequence items at their key's indent, label-name lists in flow
//! style (`[a, b]`), strings quoted only when plain YAML would misread
//! them.

/// A YAML value.
pub(crate) enum Yaml {
    Str(String),
    Int(u64),
    Bool(bool),
    /// A list of plain names, written `[a, b]`.
    Flow(Vec<String>),
    Seq(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
}

impl Yaml {
    pub(crate) fn str(s: impl Into<String>) -> Yaml {
        Yaml::Str(s.into())
    }
}

/// Writes a top-level map.
pub(crate) fn to_string(entries: &[(String, Yaml)]) -> String {
    let mut out = String::new();
    write_map(&mut out, entries, 0);
    out
}

fn write_map(out: &mut String, entries: &[(String, Yaml)], indent: usize) {
    for (key, value) in entries {
        out.push_str(&" ".repeat(indent));
        out.push_str(&scalar(key));
        out.push(':');
        match value {
            Yaml::Map(m) if m.is_empty() => out.push_str(" {}\n"),
            Yaml::Map(m) => {
                out.push('\n');
                write_map(out, m, indent + 2);
            }
            Yaml::Seq(s) if s.is_empty() => out.push_str(" []\n"),
            Yaml::Seq(s) => {
                out.push('\n');
                write_seq(out, s, indent);
            }
            other => {
                out.push(' ');
                out.push_str(&inline(other));
                out.push('\n');
            }
        }
    }
}

fn write_seq(out: &mut String, items: &[Yaml], indent: usize) {
    let pad = " ".repeat(indent);
    for item in items {
        match item {
            Yaml::Map(m) if !m.is_empty() => {
                // The first entry goes on the dash line.
                let mut body = String::new();
                write_map(&mut body, m, indent + 2);
                out.push_str(&pad);
                out.push_str("- ");
                out.push_str(&body[indent + 2..]);
            }
            other => {
                out.push_str(&pad);
                out.push_str("- ");
                out.push_str(&inline(other));
                out.push('\n');
            }
        }
    }
}

fn inline(v: &Yaml) -> String {
    match v {
        Yaml::Str(s) => scalar(s),
        Yaml::Int(n) => n.to_string(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Flow(items) => {
            let items: Vec<String> = items.iter().map(|s| scalar(s)).collect();
            format!("[{}]", items.join(", "))
        }
        Yaml::Seq(s) if s.is_empty() => "[]".to_owned(),
        Yaml::Map(m) if m.is_empty() => "{}".to_owned(),
        // Nested collections are written as blocks by the callers.
        Yaml::Seq(_) | Yaml::Map(_) => String::new(),
    }
}

/// A string as a plain scalar when YAML reads that back as the same string,
/// else double-quoted (JSON escapes are valid YAML escapes).
fn scalar(s: &str) -> String {
    if is_plain(s) {
        s.to_owned()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
    }
}

fn is_plain(s: &str) -> bool {
    const SPECIAL_WORDS: [&str; 13] = [
        "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", ".inf", "-.inf", ".nan",
    ];
    let Some(first) = s.chars().next() else {
        return false;
    };
    let lower = s.to_ascii_lowercase();
    let numeric = s.parse::<f64>().is_ok()
        || lower.starts_with("0x")
        || lower.starts_with("0o")
        || s.chars()
            .all(|c| c.is_ascii_digit() || c == '_' || c == ':' || c == '.');
    !("-?:,[]{}#&*!|>'\"%@` ".contains(first)
        || s.ends_with(' ')
        || s.ends_with(':')
        || s.contains(": ")
        || s.contains(" #")
        || s.chars().any(|c| c.is_control())
        || SPECIAL_WORDS.contains(&lower.as_str())
        || numeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        for plain in [
            "(.*)",
            "$1",
            ";",
            "go_.*",
            "a:1",
            "http://x/y",
            "1m30s",
            "eu",
            "/metrics",
        ] {
            assert_eq!(scalar(plain), plain);
        }
        assert_eq!(scalar("y"), "\"y\"");
        assert_eq!(scalar(""), "\"\"");
        assert_eq!(scalar("10"), "\"10\"");
        assert_eq!(scalar("true"), "\"true\"");
        assert_eq!(scalar("[a]"), "\"[a]\"");
        assert_eq!(scalar("a: b"), "\"a: b\"");
        assert_eq!(scalar("a\nb"), "\"a\\nb\"");
        assert_eq!(scalar("*x"), "\"*x\"");
    }

    #[test]
    fn layout_matches_prometheus() {
        let doc = vec![
            (
                "global".to_owned(),
                Yaml::Map(vec![("scrape_interval".into(), Yaml::str("15s"))]),
            ),
            (
                "scrape_configs".to_owned(),
                Yaml::Seq(vec![Yaml::Map(vec![
                    ("job_name".into(), Yaml::str("a")),
                    ("sample_limit".into(), Yaml::Int(10)),
                    (
                        "static_configs".into(),
                        Yaml::Seq(vec![Yaml::Map(vec![
                            ("targets".into(), Yaml::Seq(vec![Yaml::str("a:1")])),
                            (
                                "labels".into(),
                                Yaml::Map(vec![("x".into(), Yaml::str("y"))]),
                            ),
                        ])]),
                    ),
                    (
                        "source_labels".into(),
                        Yaml::Flow(vec!["__name__".into(), "job".into()]),
                    ),
                    ("honor_labels".into(), Yaml::Bool(true)),
                ])]),
            ),
        ];
        let want = "global:
  scrape_interval: 15s
scrape_configs:
- job_name: a
  sample_limit: 10
  static_configs:
  - targets:
    - a:1
    labels:
      x: \"y\"
  source_labels: [__name__, job]
  honor_labels: true
";
        assert_eq!(to_string(&doc), want);
    }
}
