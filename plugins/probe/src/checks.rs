//! The pure parts of the probes: configuration checks, the status and body
//! rules. Tested on the host target.

/// Checks targets and timeout for the module (`http`: URLs; `tcp`:
/// `host:port`).
pub fn validate(targets: &[String], http: bool, timeout_seconds: f64) -> Result<(), String> {
    if targets.is_empty() {
        return Err("`targets` must list at least one target".into());
    }
    if !(timeout_seconds > 0.0 && timeout_seconds.is_finite()) {
        return Err("`timeout_seconds` must be a positive number".into());
    }
    for t in targets {
        if http {
            let lower = t.to_ascii_lowercase();
            if !(lower.starts_with("http://") || lower.starts_with("https://")) {
                return Err(format!(
                    "target {t:?} must be an http:// or https:// URL for the http module"
                ));
            }
        } else {
            split_host_port(t)?;
        }
    }
    Ok(())
}

/// Splits `host:port` (`[v6]:port` for IPv6).
pub fn split_host_port(target: &str) -> Result<(&str, u16), String> {
    let err = || format!("target {target:?} must be host:port for the tcp module");
    let (host, port) = if let Some(rest) = target.strip_prefix('[') {
        let (h, p) = rest.split_once("]:").ok_or_else(err)?;
        (h, p)
    } else {
        target.rsplit_once(':').ok_or_else(err)?
    };
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(err)?;
    if host.is_empty() {
        return Err(err());
    }
    Ok((host, port))
}

/// Whether the status is acceptable: in `valid`, or any 2xx when `valid`
/// is empty (the blackbox exporter's default).
pub fn status_ok(valid: &[u16], status: u16) -> bool {
    if valid.is_empty() {
        (200..300).contains(&status)
    } else {
        valid.contains(&status)
    }
}

/// Whether the body contains every `must` text and none of `must_not`.
pub fn body_ok(body: &str, must: &[String], must_not: &[String]) -> bool {
    must.iter().all(|m| body.contains(m.as_str()))
        && !must_not.iter().any(|m| body.contains(m.as_str()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert!(status_ok(&[], 204));
        assert!(!status_ok(&[], 301));
        assert!(status_ok(&[301, 302], 301));
        assert!(!status_ok(&[301], 200));
    }

    #[test]
    fn bodies() {
        let must = vec!["ok".to_owned()];
        let must_not = vec!["error".to_owned()];
        assert!(body_ok("all ok", &must, &must_not));
        assert!(!body_ok("all fine", &must, &must_not));
        assert!(!body_ok("ok but error", &must, &must_not));
    }

    #[test]
    fn targets() {
        assert_eq!(split_host_port("db:5432").unwrap(), ("db", 5432));
        assert_eq!(split_host_port("[::1]:22").unwrap(), ("::1", 22));
        assert!(split_host_port("db").is_err());
        assert!(split_host_port(":80").is_err());
        assert!(validate(&["https://x".into()], true, 5.0).is_ok());
        assert!(
            validate(&["x:1".into()], true, 5.0)
                .unwrap_err()
                .contains("URL")
        );
        assert!(
            validate(&["x".into()], false, 5.0)
                .unwrap_err()
                .contains("host:port")
        );
        assert!(validate(&[], false, 5.0).is_err());
        assert!(validate(&["x:1".into()], false, 0.0).is_err());
    }
}
