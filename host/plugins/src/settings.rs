//! `[plugins.<name>]` → [`PluginSettings`], in one place: the grants as
//! written (parsed here once, so a malformed origin is a config error at
//! `pharos check config` and reload, pointing at the entry) and the
//! limits, unset ones taking the plugin host's defaults
//! ([`Limits::default`]: 64 MiB, 2 s of CPU, 10 s in all).

use pharos_config::{ConfigError, PluginConfig};
use pharos_plugin_host::{AllowList, GrantError, Grants, Limits, PluginSettings};

/// The settings of a plugin configured by `config` (`None`: no
/// `[plugins.<name>]` table, so no grants and default limits).
/// `max_memory` is the most the runtime gives any plugin.
pub fn settings(
    config: Option<&PluginConfig>,
    max_memory: usize,
) -> Result<PluginSettings, ConfigError> {
    let Some(c) = config else {
        return Ok(PluginSettings::default());
    };
    let defaults = Limits::default();
    let memory = match c.memory_limit {
        None => defaults.memory.min(max_memory),
        Some(m) => {
            let bytes = usize::try_from(m.bytes()).unwrap_or(usize::MAX);
            if bytes > max_memory {
                return Err(c.location("memory_limit").error(
                    "",
                    format!(
                        "memory_limit {m} is above the most a plugin may have ({max_memory} bytes)"
                    ),
                ));
            }
            bytes
        }
    };
    let settings = PluginSettings {
        limits: Limits {
            memory,
            cpu: c.cpu_budget.unwrap_or(defaults.cpu),
            timeout: c.timeout.unwrap_or(defaults.timeout),
        },
        grants: Grants {
            allow_http: c.allow_http.clone(),
            allow_private_ips: c.allow_private_ips.clone(),
            allow_dns: c.allow_dns.clone(),
            allow_tcp: c.allow_tcp.clone(),
            allow_read: c.allow_read.clone(),
        },
    };
    if let Err(e) = AllowList::parse(&settings.grants) {
        return Err(c.location(&grant_key(c, &e)).error("", &e));
    }
    Ok(settings)
}

/// The key (`allow_http[2]`) of the entry a grant error is about.
fn grant_key(c: &PluginConfig, e: &GrantError) -> String {
    let find = |key: &str, list: &[String], entry: &str| {
        list.iter()
            .position(|x| x == entry)
            .map_or(String::new(), |i| format!("{key}[{i}]"))
    };
    match e {
        GrantError::Http { entry, .. } => find("allow_http", &c.allow_http, entry),
        GrantError::Ip { entry } => find("allow_private_ips", &c.allow_private_ips, entry),
        GrantError::Dns { entry, .. } => find("allow_dns", &c.allow_dns, entry),
        GrantError::Tcp { entry, .. } => find("allow_tcp", &c.allow_tcp, entry),
        GrantError::Read { entry, .. } => c
            .allow_read
            .iter()
            .position(|x| x == entry)
            .map_or(String::new(), |i| format!("allow_read[{i}]")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use pharos_config::Config;
    use std::time::Duration;

    fn plugin(toml: &str) -> PluginConfig {
        let c = Config::from_toml(toml, "p.toml").unwrap();
        c.plugins.into_values().next().unwrap()
    }

    #[test]
    fn every_grant_and_limit_is_carried_over() {
        let c = plugin(
            r#"
[plugins.x]
allow_http = ["https://a.example.org"]
allow_private_ips = ["10.0.0.0/8"]
allow_dns = ["*.example.org"]
allow_tcp = ["smtp.example.org:587"]
allow_read = ["/etc/pharos"]
memory_limit = "16MiB"
cpu_budget = "250ms"
timeout = "3s"
"#,
        );
        let s = settings(Some(&c), 256 << 20).unwrap();
        assert_eq!(
            s.limits,
            Limits {
                memory: 16 << 20,
                cpu: Duration::from_millis(250),
                timeout: Duration::from_secs(3)
            }
        );
        assert_eq!(s.grants.allow_http, ["https://a.example.org"]);
        assert_eq!(s.grants.allow_private_ips, ["10.0.0.0/8"]);
        assert_eq!(s.grants.allow_dns, ["*.example.org"]);
        assert_eq!(s.grants.allow_tcp, ["smtp.example.org:587"]);
        assert_eq!(
            s.grants.allow_read,
            [std::path::PathBuf::from("/etc/pharos")]
        );
        assert_eq!(
            settings(None, 256 << 20).unwrap(),
            PluginSettings::default()
        );
    }

    #[test]
    fn a_bad_grant_is_a_config_error_at_its_entry() {
        let c = plugin(
            "[plugins.x]\nallow_http = [\"https://ok.example.org\",\n  \"https://a.example.org/path\"]\n",
        );
        let e = settings(Some(&c), 256 << 20).unwrap_err().to_string();
        assert_eq!(
            e,
            r#"p.toml:3:3: plugins.x.allow_http[1]: allow_http entry "https://a.example.org/path": grants are per origin: remove the path, query or user info"#
        );
        let c = plugin("[plugins.x]\nallow_private_ips = [\"10.0.0.0/33\"]\n");
        let e = settings(Some(&c), 256 << 20).unwrap_err().to_string();
        assert!(
            e.starts_with("p.toml:2:22: plugins.x.allow_private_ips[0]: "),
            "{e}"
        );
        let c = plugin("[plugins.x]\nallow_read = [\"relative/dir\"]\n");
        let e = settings(Some(&c), 256 << 20).unwrap_err().to_string();
        assert!(
            e.starts_with("p.toml:2:15: plugins.x.allow_read[0]: "),
            "{e}"
        );
    }

    #[test]
    fn a_memory_limit_above_the_runtime_maximum_is_refused() {
        let c = plugin("[plugins.x]\nmemory_limit = \"1GiB\"\n");
        let e = settings(Some(&c), 256 << 20).unwrap_err().to_string();
        assert!(
            e.starts_with("p.toml:2:16: plugins.x.memory_limit: memory_limit 1GiB is above"),
            "{e}"
        );
    }
}
