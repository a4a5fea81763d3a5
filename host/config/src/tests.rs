//! Effective values the file tests do not spell out.

use std::time::Duration;

use crate::*;

fn load(text: &str) -> Config {
    match Config::from_toml(text, "t.toml") {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn embedded_default_scrapes_pharos_itself() {
    let c = match Config::embedded_default() {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(c.server.listen, "127.0.0.1:9090");
    assert_eq!(c.storage.path, std::path::PathBuf::from("data"));
    assert_eq!(c.scrape.len(), 1);
    assert_eq!(c.scrape[0].job, "pharos");
    assert_eq!(c.scrape[0].targets, ["127.0.0.1:9090"]);
    assert_eq!(c.scrape[0].scrape_interval, Duration::from_secs(15));
}

#[test]
fn empty_file_has_prometheus_defaults() {
    let c = load("");
    assert_eq!(c.global.scrape_interval, Duration::from_secs(60));
    assert_eq!(c.global.scrape_timeout, Duration::from_secs(10));
    assert_eq!(c.global.evaluation_interval, Duration::from_secs(60));
    assert_eq!(c.storage.retention, Some(Duration::from_secs(15 * 86400)));
    assert_eq!(c.storage.retention_size, None);
    assert!(c.scrape.is_empty());
}

#[test]
fn job_defaults_and_caps() {
    let c = load(
        r#"
        [global]
        scrape_interval = "30s"
        scrape_timeout = "20s"
        [[scrape]]
        job = "a"
        scrape_interval = "5s"
        [[scrape]]
        job = "b"
        "#,
    );
    assert_eq!(c.scrape[0].scrape_timeout, Duration::from_secs(5));
    assert_eq!(c.scrape[1].scrape_interval, Duration::from_secs(30));
    assert_eq!(c.scrape[1].scrape_timeout, Duration::from_secs(20));
    assert!(c.scrape[1].honor_timestamps);
    assert!(!c.scrape[1].honor_labels);
    assert!(c.scrape[1].enable_compression);
    assert_eq!(c.scrape[1].scheme, Scheme::Http);
}

#[test]
fn secrets_are_kept_but_masked_everywhere_they_print() {
    let c = load(
        r#"
        [[scrape]]
        job = "a"
        bearer_token = "hunter2"
        [[remote_write]]
        url = "http://a/push"
        basic_auth = { username = "u", password = "hunter2" }
        "#,
    );
    assert_eq!(
        c.scrape[0].http.bearer_token.as_ref().map(Secret::expose),
        Some("hunter2")
    );
    let debug = format!("{c:?}");
    let toml = c.to_toml().unwrap_or_default();
    let yaml = c.to_prometheus_yaml();
    for text in [&debug, &toml, &yaml] {
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("<secret>"), "{text}");
    }
}

/// URL passwords print as `xxxxx` (as Prometheus: `url` and `proxy_url` in
/// `/api/v1/status/config`), header values as `<secret>`; the values
/// themselves are kept for sending.
#[test]
fn url_passwords_and_headers_are_masked_everywhere_they_print() {
    let c = load(
        r#"
        [[scrape]]
        job = "a"
        proxy_url = "http://pu:proxypass@proxy:3128"
        [[remote_write]]
        url = "https://writer:urlpass@mimir.example.org/push"
        headers = { X-Api-Key = "headerpass" }
        proxy_url = "socks5://pu:proxypass@proxy:1080"
        "#,
    );
    let rw = &c.remote_write[0];
    assert_eq!(rw.url.password(), Some("urlpass"));
    assert_eq!(rw.headers["X-Api-Key"], "headerpass");
    assert_eq!(
        rw.redacted_url(),
        "https://writer:xxxxx@mimir.example.org/push"
    );
    let debug = format!("{c:?}");
    let toml = c.to_toml().unwrap_or_default();
    let yaml = c.to_prometheus_yaml();
    for text in [&debug, &toml, &yaml] {
        for secret in ["urlpass", "headerpass", "proxypass"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("writer:xxxxx@mimir"), "{text}");
        assert!(text.contains("pu:xxxxx@proxy:3128"), "{text}");
        assert!(text.contains("pu:xxxxx@proxy:1080"), "{text}");
    }
    assert!(yaml.contains("    X-Api-Key: <secret>\n"), "{yaml}");
}

#[test]
fn url_errors_do_not_print_the_password() {
    for (toml, key) in [
        (
            "[[remote_write]]\nurl = \"ftp://u:urlpass@h/\"\n",
            "remote_write[0].url",
        ),
        (
            "[[remote_write]]\nurl = \"http://u:urlpass@h:x/\"\n",
            "remote_write[0].url",
        ),
        (
            "[[remote_write]]\nurl = \"http://h/\"\nproxy_url = \"ftp://u:urlpass@p/\"\n",
            "remote_write[0].proxy_url",
        ),
    ] {
        let err = Config::from_toml(toml, "t.toml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(key), "{err}");
        assert!(err.contains("u:xxxxx@"), "{err}");
        assert!(!err.contains("urlpass"), "{err}");
    }
}

#[test]
fn relabel_steps_are_compiled() {
    let c = load(
        r#"
        [[scrape]]
        job = "a"
        metric_relabel_configs = [{ source_labels = ["__name__"], regex = "go_.*", action = "drop" }]
        "#,
    );
    let labels = pharos_model::Labels::from_pairs([("__name__", "go_goroutines")]);
    assert_eq!(
        pharos_relabel::process(&labels, &c.scrape[0].metric_relabel_configs),
        None
    );
}

#[test]
fn load_names_the_file_and_reports_io_errors() {
    let err = Config::load("/nonexistent/pharos.toml").err();
    assert!(matches!(err, Some(ConfigError::Read { .. })), "{err:?}");
}
