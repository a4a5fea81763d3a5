//! Renders a loaded config back out, with every default filled in and
//! secrets masked as Prometheus masks them: passwords, tokens and
//! remote-write header values as `<secret>`, the password in a URL's
//! userinfo (`url`, `proxy_url`) as `xxxxx` (Go's `URL.Redacted`):
//! - [`Config::to_toml`]: the effective Pharos config, the whole of it;
//! - [`Config::to_prometheus_yaml`]: the equivalent Prometheus config, for
//!   `/api/v1/status/config` (Prometheus answers `{"yaml": "..."}`). It holds
//!   what Prometheus has a key for: `global`, `storage.tsdb`,
//!   `scrape_configs` (static targets as `static_configs`, the bearer token
//!   as `authorization`, `tls` as `tls_config`) and `remote_write`. Pharos'
//!   own parts (`[server]`, discovery and exporter plugins, `[plugins]`)
//!   have no Prometheus form and are left out; the TOML rendering has them.

use pharos_model::format_duration;
use pharos_relabel::Relabel;

use crate::redact_url;
use crate::types::{Config, HttpClientConfig, ScrapeConfig, Secret};
use crate::yaml::{self, Yaml};

/// Key fragments that mark a value in a plugin's free-form config as a
/// secret (unless the key names a file).
const SECRET_KEYS: [&str; 6] = [
    "password",
    "secret",
    "token",
    "api_key",
    "routing_key",
    "webhook_url",
];

impl Config {
    /// The effective config as TOML, in the file's own keys.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        let mut value = toml::Value::try_from(self)?;
        mask_secrets(&mut value);
        toml::to_string(&value)
    }

    /// The effective config as Prometheus would print the equivalent
    /// `prometheus.yml` (see the module docs for what is left out).
    pub fn to_prometheus_yaml(&self) -> String {
        let mut doc = Vec::new();
        let g = &self.global;
        let mut global = vec![
            kv("scrape_interval", dur(g.scrape_interval)),
            kv("scrape_timeout", dur(g.scrape_timeout)),
            kv("evaluation_interval", dur(g.evaluation_interval)),
        ];
        if !g.external_labels.is_empty() {
            global.push(kv("external_labels", labels(&g.external_labels)));
        }
        if !self.rules.query_offset.is_zero() {
            global.push(kv("rule_query_offset", dur(self.rules.query_offset)));
        }
        doc.push(kv("global", Yaml::Map(global)));
        let ooo = self.storage.out_of_order_time_window;
        if !ooo.is_zero() {
            let tsdb = Yaml::Map(vec![kv("out_of_order_time_window", dur(ooo))]);
            doc.push(kv("storage", Yaml::Map(vec![kv("tsdb", tsdb)])));
        }
        let a = &self.alerting;
        if !a.alertmanagers.is_empty() || !a.alert_relabel_configs.is_empty() {
            let mut alerting = Vec::new();
            push_relabels(
                &mut alerting,
                "alert_relabel_configs",
                &a.alert_relabel_configs,
            );
            if !a.alertmanagers.is_empty() {
                let ams = a
                    .alertmanagers
                    .iter()
                    .map(|am| {
                        let mut m = Vec::new();
                        push_http(&mut m, &am.http);
                        m.push(kv("scheme", Yaml::str(am.scheme.as_str())));
                        m.push(kv("path_prefix", Yaml::str(&am.path_prefix)));
                        m.push(kv("timeout", dur(am.timeout)));
                        m.push(kv("api_version", Yaml::str(&am.api_version)));
                        let targets = am.targets.iter().map(Yaml::str).collect();
                        let statics = Yaml::Map(vec![kv("targets", Yaml::Seq(targets))]);
                        m.push(kv("static_configs", Yaml::Seq(vec![statics])));
                        Yaml::Map(m)
                    })
                    .collect();
                alerting.push(kv("alertmanagers", Yaml::Seq(ams)));
            }
            doc.push(kv("alerting", Yaml::Map(alerting)));
        }
        if !self.rules.files.is_empty() {
            let files = self.rules.files.iter().map(Yaml::str).collect();
            doc.push(kv("rule_files", Yaml::Seq(files)));
        }
        if !self.scrape.is_empty() {
            doc.push(kv(
                "scrape_configs",
                Yaml::Seq(self.scrape.iter().map(scrape_yaml).collect()),
            ));
        }
        if !self.remote_write.is_empty() {
            let rws = self
                .remote_write
                .iter()
                .map(|rw| {
                    let mut m = vec![kv("url", Yaml::str(rw.redacted_url()))];
                    if let Some(name) = &rw.name {
                        m.push(kv("name", Yaml::str(name)));
                    }
                    m.push(kv("remote_timeout", dur(rw.remote_timeout)));
                    if !rw.headers.is_empty() {
                        let h = rw
                            .headers
                            .keys()
                            .map(|k| kv(k, Yaml::str(Secret::MASK)))
                            .collect();
                        m.push(kv("headers", Yaml::Map(h)));
                    }
                    push_relabels(&mut m, "write_relabel_configs", &rw.write_relabel_configs);
                    push_http(&mut m, &rw.http);
                    let q = &rw.queue_config;
                    let mut queue = vec![
                        kv("capacity", Yaml::Int(q.capacity)),
                        kv("max_shards", Yaml::Int(q.max_shards)),
                        kv("min_shards", Yaml::Int(q.min_shards)),
                        kv("max_samples_per_send", Yaml::Int(q.max_samples_per_send)),
                        kv("batch_send_deadline", dur(q.batch_send_deadline)),
                        kv("min_backoff", dur(q.min_backoff)),
                        kv("max_backoff", dur(q.max_backoff)),
                    ];
                    if q.retry_on_http_429 {
                        queue.push(kv("retry_on_http_429", Yaml::Bool(true)));
                    }
                    m.push(kv("queue_config", Yaml::Map(queue)));
                    Yaml::Map(m)
                })
                .collect();
            doc.push(kv("remote_write", Yaml::Seq(rws)));
        }
        yaml::to_string(&doc)
    }
}

fn kv(k: &str, v: Yaml) -> (String, Yaml) {
    (k.to_owned(), v)
}

fn dur(d: std::time::Duration) -> Yaml {
    Yaml::Str(format_duration(d))
}

fn labels(l: &pharos_model::Labels) -> Yaml {
    Yaml::Map(l.iter().map(|l| kv(&l.name, Yaml::str(&l.value))).collect())
}

/// One scrape job in Prometheus' key order, zero limits left out.
fn scrape_yaml(s: &ScrapeConfig) -> Yaml {
    let mut m = vec![kv("job_name", Yaml::str(&s.job))];
    if s.honor_labels {
        m.push(kv("honor_labels", Yaml::Bool(true)));
    }
    m.push(kv("honor_timestamps", Yaml::Bool(s.honor_timestamps)));
    if !s.params.is_empty() {
        let params = s
            .params
            .iter()
            .map(|(k, vs)| kv(k, Yaml::Seq(vs.iter().map(Yaml::str).collect())))
            .collect();
        m.push(kv("params", Yaml::Map(params)));
    }
    m.push(kv("scrape_interval", dur(s.scrape_interval)));
    m.push(kv("scrape_timeout", dur(s.scrape_timeout)));
    m.push(kv("metrics_path", Yaml::str(&s.metrics_path)));
    m.push(kv("scheme", Yaml::str(s.scheme.as_str())));
    m.push(kv("enable_compression", Yaml::Bool(s.enable_compression)));
    if !s.body_size_limit.is_zero() {
        m.push(kv(
            "body_size_limit",
            Yaml::Str(s.body_size_limit.to_string()),
        ));
    }
    for (key, limit) in [
        ("sample_limit", s.sample_limit),
        ("target_limit", s.target_limit),
        ("label_limit", s.label_limit),
        ("label_name_length_limit", s.label_name_length_limit),
        ("label_value_length_limit", s.label_value_length_limit),
    ] {
        if limit > 0 {
            m.push(kv(key, Yaml::Int(limit)));
        }
    }
    if let Some(p) = &s.fallback_scrape_protocol {
        m.push(kv("fallback_scrape_protocol", Yaml::str(p)));
    }
    push_http(&mut m, &s.http);
    push_relabels(&mut m, "relabel_configs", &s.relabel_configs);
    push_relabels(&mut m, "metric_relabel_configs", &s.metric_relabel_configs);
    if !s.targets.is_empty() {
        let mut group = vec![kv(
            "targets",
            Yaml::Seq(s.targets.iter().map(Yaml::str).collect()),
        )];
        if !s.labels.is_empty() {
            group.push(kv("labels", labels(&s.labels)));
        }
        m.push(kv("static_configs", Yaml::Seq(vec![Yaml::Map(group)])));
    }
    Yaml::Map(m)
}

/// Prometheus' `http_client_config` keys: `basic_auth`, `authorization`
/// (a bearer token), `tls_config`, `proxy_url`.
fn push_http(m: &mut Vec<(String, Yaml)>, h: &HttpClientConfig) {
    if let Some(b) = &h.basic_auth {
        let mut auth = vec![kv("username", Yaml::str(&b.username))];
        if b.password.is_some() {
            auth.push(kv("password", Yaml::str(Secret::MASK)));
        }
        if let Some(f) = &b.password_file {
            auth.push(kv("password_file", Yaml::str(f.display().to_string())));
        }
        m.push(kv("basic_auth", Yaml::Map(auth)));
    }
    if h.bearer_token.is_some() || h.bearer_token_file.is_some() {
        let mut auth = vec![kv("type", Yaml::str("Bearer"))];
        if h.bearer_token.is_some() {
            auth.push(kv("credentials", Yaml::str(Secret::MASK)));
        }
        if let Some(f) = &h.bearer_token_file {
            auth.push(kv("credentials_file", Yaml::str(f.display().to_string())));
        }
        m.push(kv("authorization", Yaml::Map(auth)));
    }
    let t = &h.tls;
    if !t.is_default() {
        let mut tls = Vec::new();
        for (key, path) in [
            ("ca_file", &t.ca_file),
            ("cert_file", &t.cert_file),
            ("key_file", &t.key_file),
        ] {
            if let Some(p) = path {
                tls.push(kv(key, Yaml::str(p.display().to_string())));
            }
        }
        if let Some(name) = &t.server_name {
            tls.push(kv("server_name", Yaml::str(name)));
        }
        tls.push(kv(
            "insecure_skip_verify",
            Yaml::Bool(t.insecure_skip_verify),
        ));
        m.push(kv("tls_config", Yaml::Map(tls)));
    }
    if let Some(p) = &h.proxy_url {
        m.push(kv("proxy_url", Yaml::str(redact_url(p.as_str()))));
    }
}

/// Relabel steps as Prometheus prints them: defaults written out,
/// `source_labels` in flow style, `modulus` and `target_label` only when set.
fn push_relabels(m: &mut Vec<(String, Yaml)>, key: &str, relabels: &[Relabel]) {
    if relabels.is_empty() {
        return;
    }
    let steps = relabels
        .iter()
        .map(|r| {
            let c = r.config().with_defaults();
            let mut s = Vec::new();
            if let Some(src) = c.source_labels {
                s.push(kv("source_labels", Yaml::Flow(src)));
            }
            s.push(kv("separator", Yaml::Str(c.separator.unwrap_or_default())));
            if let Some(regex) = c.regex {
                s.push(kv("regex", Yaml::Str(regex)));
            }
            if let Some(modulus) = c.modulus {
                s.push(kv("modulus", Yaml::Int(modulus)));
            }
            if let Some(t) = c.target_label {
                s.push(kv("target_label", Yaml::Str(t)));
            }
            s.push(kv(
                "replacement",
                Yaml::Str(c.replacement.unwrap_or_default()),
            ));
            s.push(kv("action", Yaml::str(r.action().as_str())));
            Yaml::Map(s)
        })
        .collect();
    m.push(kv(key, Yaml::Seq(steps)));
}

/// Masks string values under secret-looking keys anywhere in the tree
/// (plugin configs are free-form, so their secrets are found by name).
fn mask_secrets(v: &mut toml::Value) {
    match v {
        toml::Value::Table(t) => {
            for (key, value) in t.iter_mut() {
                let k = key.to_ascii_lowercase();
                let secret = !k.ends_with("_file") && SECRET_KEYS.iter().any(|s| k.contains(s));
                if secret && value.is_str() {
                    *value = toml::Value::String(Secret::MASK.to_owned());
                } else {
                    mask_secrets(value);
                }
            }
        }
        toml::Value::Array(a) => a.iter_mut().for_each(mask_secrets),
        _ => {}
    }
}
