//! Masking of credentials in URLs, as Prometheus prints them: the password
//! of a URL's userinfo becomes `xxxxx` (Go's `url.URL.Redacted`, which
//! Prometheus 2.42 uses for `url` and `proxy_url` in
//! `/api/v1/status/config` and for the `url` label of its remote-write
//! metrics); the user name stays.

/// What a URL's password is replaced with (Go's `url.URL.Redacted`).
pub const REDACTED_PASSWORD: &str = "xxxxx";

/// `url` with the password of its userinfo replaced by `xxxxx`
/// (`https://user:pass@host/` → `https://user:xxxxx@host/`). Works on any
/// string, also one that does not parse as a URL (for error messages):
/// the userinfo is what precedes the last `@` of the authority, which runs
/// from after `://` (or the start) to the first `/`, `?` or `#`.
pub fn redact_url(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let Some(colon) = authority[..at].find(':') else {
        return url.to_owned();
    };
    format!(
        "{}{REDACTED_PASSWORD}{}",
        &url[..start + colon + 1],
        &url[start + at..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked_as_go_redacted_does() {
        for (url, want) in [
            (
                "https://user:pass@example.org/push",
                "https://user:xxxxx@example.org/push",
            ),
            (
                "http://u:p%40ss@h:9090/a?b=c@d#e",
                "http://u:xxxxx@h:9090/a?b=c@d#e",
            ),
            // An unescaped `@` in the password: the last one ends it.
            ("http://u:p@ss@h/", "http://u:xxxxx@h/"),
            ("socks5://u:p@proxy:1080", "socks5://u:xxxxx@proxy:1080"),
            ("http://u:@h/", "http://u:xxxxx@h/"),
            // Not a URL the parser takes: still masked.
            ("u:pass@host", "u:xxxxx@host"),
            ("http://u:pa ss@h w/", "http://u:xxxxx@h w/"),
        ] {
            assert_eq!(redact_url(url), want, "{url}");
        }
    }

    #[test]
    fn urls_without_a_password_are_unchanged() {
        for url in [
            "http://example.org/push",
            "http://user@example.org/push",
            "http://h/a@b",
            "http://h/?x=a:b@c",
            "http://h#a:b@c",
            "",
            "://",
            "@",
        ] {
            assert_eq!(redact_url(url), url, "{url}");
        }
    }

    #[test]
    fn a_parsed_url_is_masked_in_its_serialization() {
        let url = url::Url::parse("https://user:s3cr%20t@example.org/x").expect("url");
        assert_eq!(redact_url(url.as_str()), "https://user:xxxxx@example.org/x");
    }
}
