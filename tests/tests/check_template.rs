//! `pharos check template --config FILE --receiver NAME` with the real
//! binary and the built-in notifier plugins: each notifier's configuration
//! as the plugin would get it for a sample group (schema defaults, the
//! default templates, the operator's `[alerting] templates`), and the
//! errors an operator can make, each with exit status 1 and the place.

use std::path::Path;
use std::process::{Command, Output};

use anyhow::{Context, Result};
use pharos_tests::pharos::pharos_bin;

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text).with_context(|| path.display().to_string())
}

fn check(config: &Path, receiver: &str) -> Result<Output> {
    // In the config's directory: the data directory (default ./data) is
    // the test's, never the tests crate's own data/.
    Command::new(pharos_bin()?)
        .current_dir(config.parent().context("the config's directory")?)
        .args(["check", "template", "--config"])
        .arg(config)
        .args(["--receiver", receiver])
        .env("RUST_LOG", "warn")
        .output()
        .context("running pharos check template")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const CONFIG: &str = r#"
[server]
external_url = "https://pharos.example.org/"

[storage]
path = "data"

[alerting]
templates = ["templates/*.tmpl"]

[alerting.route]
receiver = "team"
group_by = ["alertname", "cluster"]

[[alerting.route.routes]]
matchers = ['severity="page"']
receiver = "oncall"

[[alerting.receivers]]
name = "team"
notifiers = [{ plugin = "webhook", config = { url = "https://hooks.example.org/s3cr3t", basic_auth = { username = "{{ .Nope }}" } } }]

[[alerting.receivers]]
name = "oncall"
notifiers = [
  { plugin = "slack", send_resolved = true, config = { api_url = "https://hooks.slack.com/services/T0/B0/s3cr3t", text = '{{ template "team.text" . }}' } },
  { plugin = "pagerduty", config = { routing_key_file = "/etc/pharos/pd-key", severity = '{{ if eq .CommonLabels.severity "page" }}critical{{ else }}warning{{ end }}' } },
]

[[alerting.receivers]]
name = "refused"
notifiers = [{ plugin = "slack", config = { title = "{{ .Status }}" } }]
"#;

const TEAM_TMPL: &str = r#"{{ define "team.text" -}}
{{ range .Alerts.Firing }}• {{ .Annotations.summary }}
{{ end }}{{ with .Alerts.Resolved }}resolved: {{ len . }}{{ end }}
{{- end }}
"#;

#[test]
fn check_template_renders_a_receivers_notifications() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("pharos.toml");
    write(&config, CONFIG)?;
    write(&dir.path().join("templates/team.tmpl"), TEAM_TMPL)?;

    let out = check(&config, "oncall")?;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    for want in [
        "Receiver \"oncall\", sample group {alertname=\"HighRequestLatency\", cluster=\"eu-1\"} (2 firing, 1 resolved):",
        "notifiers[0]: slack\n",
        // Alertmanager's defaults, rendered by the default templates.
        "  title: \"[FIRING:2] HighRequestLatency eu-1 (api checkout page)\"\n",
        "  title_link: \"https://pharos.example.org/#/alerts?receiver=oncall\"\n",
        "  username: \"Alertmanager\"\n",
        "  color: \"danger\"\n",
        // The operator's template file.
        "  text: |-\n      • High request latency on api-1:8080\n      • High request latency on api-2:8080\n      resolved: 1\n",
        // Secrets are not printed.
        "  api_url: <secret>\n",
        // Slack's send_resolved is set; PagerDuty's defaults to true.
        "notifiers[1]: pagerduty\n",
        "  description: \"[FIRING:2] HighRequestLatency eu-1 (api checkout page)\"\n",
        "  severity: \"critical\"\n",
        "  details.num_resolved: \"1\"\n",
        "  details.firing: |\n      Labels:\n       - alertname = HighRequestLatency\n",
        // A path is not a template.
        "  routing_key_file: \"/etc/pharos/pd-key\"\n",
        "Template files:\n",
        "templates/team.tmpl\n",
    ] {
        assert!(stdout.contains(want), "missing {want:?} in:\n{stdout}");
    }
    assert!(!stdout.contains("s3cr3t"), "{stdout}");
    // Checking created nothing in the data directory.
    assert!(!dir.path().join("data").exists());

    // A value that does not render: named, exit status 1.
    let out = check(&config, "team")?;
    let stdout = text(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains("notifiers[0]: webhook\n  error: basic_auth.username: template: :1:3: executing \"\" at <.Nope>: can't evaluate field Nope in type *template.Data\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("hooks.example.org"), "{stdout}");

    // A configuration the plugin refuses (no api_url): rendered, and the
    // refusal said.
    let out = check(&config, "refused")?;
    let stdout = text(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains("  title: \"firing\"\n"), "{stdout}");
    assert!(
        stdout.contains("notifiers[0] (slack): the plugin refused its config: "),
        "{stdout}"
    );

    // An unknown receiver.
    let out = check(&config, "nobody")?;
    assert!(!out.status.success());
    assert_eq!(
        text(&out.stderr),
        format!(
            "pharos: error: {}: no receiver named \"nobody\" in [alerting] (receivers: team, oncall, refused)\n",
            config.display()
        )
    );

    // A template file that does not parse: the config's line and column,
    // the file's line.
    write(
        &dir.path().join("templates/zz_bad.tmpl"),
        "{{ define \"x\" }}\n{{ if }}\n{{ end }}\n",
    )?;
    let out = check(&config, "oncall")?;
    assert!(!out.status.success());
    let bad = dir.path().join("templates/zz_bad.tmpl");
    assert_eq!(
        text(&out.stderr),
        format!(
            "pharos: error: {}:9:14: alerting.templates[0]: {}:2: template: zz_bad.tmpl:2: missing value for if\n",
            config.display(),
            bad.display()
        )
    );
    // `pharos check config` says the same (of the config without the
    // receiver the plugin refuses, which it would report first).
    let refused = "\n[[alerting.receivers]]\nname = \"refused\"";
    let (kept, _) = CONFIG.split_once(refused).context("the refused receiver")?;
    write(&config, kept)?;
    let out = Command::new(pharos_bin()?)
        .current_dir(dir.path())
        .args(["check", "config"])
        .arg(&config)
        .output()?;
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}:9:14: alerting.templates[0]: {}:2: template: zz_bad.tmpl:2: missing value for if",
            config.display(),
            bad.display()
        )),
        "{stderr}"
    );
    Ok(())
}
