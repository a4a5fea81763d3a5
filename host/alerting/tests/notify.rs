//! Notification rendering: the data-driven cases of `testdata/notify/`
//! (schema defaults, rendering), template files from `[alerting]
//! templates`, and the preview of `pharos check template`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pharos_alerting::AlertingConfig;
use pharos_alerting::notify::{
    Templates, fill_defaults, preview, render_notifier_config, sample_notification, template_data,
};
use serde::Deserialize;
use serde_json::Value;

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/notify")
        .join(rel)
}

/// 2024-03-01T12:00:00Z.
const NOW: i64 = 1_709_294_400_000;
const EXTERNAL_URL: &str = "http://pharos.example:9090";

// ---------------------------------------------------------------- defaults

#[derive(Deserialize)]
struct DefaultsCase {
    #[serde(default)]
    name: String,
    #[serde(default)]
    schema: Option<Value>,
    #[serde(default)]
    config: Option<Value>,
    #[serde(default)]
    want: Option<Value>,
    #[serde(default)]
    cases: Vec<DefaultsCase>,
}

fn run_defaults(ctx: &str, schema: Option<&Value>, c: &DefaultsCase) -> usize {
    let schema = c.schema.as_ref().or(schema);
    let mut n = 0;
    if let (Some(config), Some(want)) = (&c.config, &c.want) {
        let schema = schema.unwrap_or_else(|| panic!("{ctx}: no schema"));
        let mut got = config.clone();
        fill_defaults(schema, &mut got);
        assert_eq!(&got, want, "{ctx}");
        // Filling again changes nothing.
        fill_defaults(schema, &mut got);
        assert_eq!(&got, want, "{ctx}: a second fill");
        n += 1;
    }
    for (i, sub) in c.cases.iter().enumerate() {
        n += run_defaults(&format!("{ctx} [{i}]"), schema, sub);
    }
    n
}

#[test]
fn defaults_cases() {
    let path = testdata("defaults.json");
    let text = std::fs::read_to_string(&path).expect("defaults.json");
    let cases: Vec<DefaultsCase> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let n: usize = cases
        .iter()
        .map(|c| run_defaults(&format!("{}: {}", path.display(), c.name), None, c))
        .sum();
    assert!(n >= 12, "only {n} cases ran");
}

// ---------------------------------------------------------------- render

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RenderFile {
    case: Vec<RenderCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RenderCase {
    name: String,
    config: toml::Table,
    #[serde(default)]
    schema: Option<toml::Table>,
    #[serde(default)]
    templates: BTreeMap<String, String>,
    want: Option<toml::Table>,
    error: Option<String>,
}

fn sample_data() -> pharos_template::Value {
    let n = sample_notification(&AlertingConfig::default(), "team", EXTERNAL_URL, NOW);
    template_data(&n, EXTERNAL_URL).to_value()
}

fn json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("JSON")
}

#[test]
fn render_cases() {
    let dir = testdata("render");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("testdata/notify/render")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let data = sample_data();
    let mut n = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable");
        let file: RenderFile =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for c in &file.case {
            let ctx = format!("{}: {}", path.display(), c.name);
            let templates = Templates::from_sources(c.templates.iter())
                .unwrap_or_else(|e| panic!("{ctx}: {e}"));
            let schema = c
                .schema
                .as_ref()
                .map_or_else(|| Value::Object(Default::default()), json);
            let got = render_notifier_config(&schema, &json(&c.config), &templates, &data);
            match (&c.want, &c.error) {
                (Some(want), None) => {
                    let got = got.unwrap_or_else(|e| panic!("{ctx}: {e}"));
                    assert_eq!(got, json(want), "{ctx}");
                }
                (None, Some(want)) => {
                    let e = got.expect_err(&ctx);
                    assert_eq!(&e.to_string(), want, "{ctx}");
                }
                _ => panic!("{ctx}: one of want and error"),
            }
            n += 1;
        }
    }
    assert!(n >= 12, "only {n} cases ran");
}

// ---------------------------------------------------------------- files

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

fn config(text: &str) -> AlertingConfig {
    AlertingConfig::from_toml_str(text).unwrap_or_else(|e| panic!("{e}"))
}

const ROUTE: &str = "[route]\nreceiver = \"team\"\n[[receivers]]\nname = \"team\"\n";

#[test]
fn template_files_from_the_config_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write(
        &d.join("templates/a.tmpl"),
        r#"{{ define "a" }}A{{ template "b" . }}{{ end }}"#,
    );
    write(
        &d.join("templates/b.tmpl"),
        r#"{{ define "b" }}B{{ end }}{{ define "slack.default.title" }}T{{ end }}"#,
    );
    write(&d.join("templates/notes.txt"), "{{ not a template");
    write(&d.join("more/c.tmpl"), r#"{{ define "b" }}B2{{ end }}"#);
    let abs = d.join("more/c.tmpl");
    let cfg = config(&format!(
        "templates = [\"templates/*.tmpl\", \"none/*.tmpl\", {:?}, \"templates/a.tmpl\"]\n{ROUTE}",
        abs.display().to_string()
    ));
    let t = Templates::from_config(&cfg, d).unwrap_or_else(|e| panic!("{e}"));
    // Sorted within a pattern, each file once, later files win.
    assert_eq!(
        t.files(),
        [
            d.join("templates/a.tmpl"),
            d.join("templates/b.tmpl"),
            d.join("more/c.tmpl")
        ]
    );
    let data = sample_data();
    assert_eq!(
        t.render(r#"{{ template "a" . }}"#, &data).as_deref(),
        Ok("AB2")
    );
    assert_eq!(
        t.render(r#"{{ template "slack.default.title" . }}"#, &data)
            .as_deref(),
        Ok("T")
    );

    // A file that does not parse: the pattern's key and span, the file and
    // its line.
    write(
        &d.join("bad/x.tmpl"),
        "{{ define \"x\" }}\nok\n{{ if }}\n{{ end }}\n",
    );
    let text = format!("templates = [\"templates/*.tmpl\", \"bad/*.tmpl\"]\n{ROUTE}");
    let cfg = config(&text);
    let e = Templates::from_config(&cfg, d).expect_err("bad/x.tmpl does not parse");
    assert_eq!(e.key, "templates[1]");
    assert_eq!(
        e.span.clone().and_then(|s| text.get(s)),
        Some("\"bad/*.tmpl\"")
    );
    let file = d.join("bad/x.tmpl");
    assert_eq!(
        e.message,
        format!(
            "{}:3: template: x.tmpl:3: missing value for if",
            file.display()
        )
    );

    // A directory matched by name is skipped; a file that cannot be read
    // (not UTF-8) is an error of its pattern.
    std::fs::create_dir_all(d.join("dir.tmpl")).expect("mkdir");
    let cfg = config(&format!("templates = [\"*.tmpl\"]\n{ROUTE}"));
    assert!(Templates::from_config(&cfg, d).is_ok_and(|t| t.files().is_empty()));
    std::fs::create_dir_all(d.join("enc")).expect("mkdir");
    std::fs::write(d.join("enc/z.tmpl"), [0xff, 0xfe]).expect("write");
    let cfg = config(&format!("templates = [\"enc/*.tmpl\"]\n{ROUTE}"));
    let e = Templates::from_config(&cfg, d).expect_err("not UTF-8");
    assert_eq!(e.key, "templates[0]");
    assert!(
        e.message
            .starts_with(&format!("{}: ", d.join("enc/z.tmpl").display())),
        "{}",
        e.message
    );
}

// ---------------------------------------------------------------- preview

fn plugin_schema(plugin: &str) -> Result<Value, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins")
        .join(plugin)
        .join("schema.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

#[test]
fn preview_renders_each_notifier_of_the_receiver() {
    let cfg = config(
        r#"
[route]
receiver = "other"
group_by = ["alertname", "cluster"]
[[route.routes]]
matchers = ['severity="page"']
receiver = "oncall"
[[receivers]]
name = "other"
[[receivers]]
name = "oncall"
notifiers = [
  { plugin = "slack", send_resolved = true, config = { api_url_file = "/etc/pharos/slack", title = '{{ template "my.title" . }}' } },
  { plugin = "pagerduty", send_resolved = false, config = { routing_key = "s3cr3t" } },
  { plugin = "webhook", config = { url = "https://hooks.example/{{ .Secret }}", basic_auth = { username = "{{ .Nope }}" } } },
  { plugin = "nonesuch", config = {} },
  { plugin = "quiet", config = { text = "{{ len .Alerts }} alerts" } },
]
"#,
    );
    let templates = Templates::from_sources([(
        "my.tmpl",
        r#"{{ define "my.title" }}{{ .CommonLabels.alertname }} in {{ .GroupLabels.cluster }}{{ end }}"#,
    )])
    .unwrap_or_else(|e| panic!("{e}"));
    let mut schema_of = |p: &str| {
        match p {
            "nonesuch" => Err("no plugin named \"nonesuch\"".to_owned()),
            // A plugin whose kind leaves resolved alerts out by default.
            "quiet" => Ok(serde_json::json!({"x-pharos-send-resolved": false})),
            _ => plugin_schema(p),
        }
    };
    let p = preview(
        &cfg,
        "oncall",
        &templates,
        EXTERNAL_URL,
        NOW,
        &mut schema_of,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(!p.is_ok());
    assert_eq!(p.entries.len(), 5);
    // The route's group_by gives the group labels.
    assert_eq!(
        p.notification.group_labels.to_string(),
        "{alertname=\"HighRequestLatency\", cluster=\"eu-1\"}"
    );
    let (slack, _) = p.entries[0].result.as_ref().expect("slack renders");
    assert_eq!(slack["title"], "HighRequestLatency in eu-1");
    assert_eq!(slack["api_url_file"], "/etc/pharos/slack");
    assert_eq!(
        slack["fallback"],
        "[FIRING:2] HighRequestLatency eu-1 (api checkout page) | http://pharos.example:9090/#/alerts?receiver=oncall"
    );
    assert_eq!(slack["color"], "danger");
    // send_resolved = false: the resolved alert is left out.
    let (pd, _) = p.entries[1].result.as_ref().expect("pagerduty renders");
    assert_eq!(pd["details"]["num_resolved"], "0");
    assert_eq!(pd["details"]["num_firing"], "2");
    assert_eq!(pd["severity"], "error");
    let webhook = p.entries[2].result.as_ref().expect_err("webhook fails");
    assert_eq!(
        webhook.to_string(),
        "basic_auth.username: template: :1:3: executing \"\" at <.Nope>: can't evaluate field Nope in type *template.Data"
    );
    assert!(p.entries[3].result.is_err());
    // send_resolved from the schema's x-pharos-send-resolved.
    assert!(!p.entries[4].send_resolved);
    let (quiet, _) = p.entries[4].result.as_ref().expect("quiet renders");
    assert_eq!(quiet["text"], "2 alerts");

    let text = p.to_string();
    let golden = testdata("preview.txt");
    if std::env::var_os("PHAROS_UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &text).expect("write golden");
    }
    let want = std::fs::read_to_string(&golden).expect("testdata/notify/preview.txt");
    assert_eq!(
        text,
        want,
        "the preview differs from {} (PHAROS_UPDATE_GOLDEN=1 rewrites it)",
        golden.display()
    );
    assert!(!text.contains("s3cr3t"), "{text}");

    let unknown = preview(
        &cfg,
        "nobody",
        &templates,
        EXTERNAL_URL,
        NOW,
        &mut schema_of,
    );
    assert_eq!(
        unknown.map(|_| ()).map_err(|e| e.to_string()),
        Err("no receiver named \"nobody\" in [alerting]".to_owned())
    );
}
