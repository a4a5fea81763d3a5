//! The capabilities a component asks for, read from its imports: the
//! grants an operator may have to give it. Every Rust guest imports the
//! WASI filesystem and sockets interfaces through std whether it uses them
//! or not, so only the imports that say something are reported:
//! `wasi:http/outgoing-handler` (`allow_http`), `pharos:plugin/dns`
//! (`allow_dns`), `wasi:sockets/tcp-create-socket` (`allow_tcp`) and
//! `wasi:filesystem/preopens` (`allow_read`) — the last two only when the
//! component imports no HTTP handler, which is how std-only guests look.

/// The grant names (`allow_http`, …) a component with these imports may
/// need, sorted.
pub fn requested_capabilities(imports: &[String]) -> Vec<String> {
    let has = |prefix: &str| imports.iter().any(|i| i.starts_with(prefix));
    let mut caps = Vec::new();
    if has("wasi:http/outgoing-handler") {
        caps.push("allow_http".to_owned());
    }
    if has("pharos:plugin/dns") {
        caps.push("allow_dns".to_owned());
    }
    if has("wasi:filesystem/preopens") && !has("wasi:http/outgoing-handler") {
        caps.push("allow_read".to_owned());
    }
    if has("wasi:sockets/tcp-create-socket") && !has("wasi:http/outgoing-handler") {
        caps.push("allow_tcp".to_owned());
    }
    caps.sort();
    caps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn http_and_dns_imports_are_reported() {
        let imports = owned(&[
            "wasi:io/streams@0.2.0",
            "wasi:http/outgoing-handler@0.2.0",
            "pharos:plugin/dns@0.1.0",
            "wasi:filesystem/preopens@0.2.0",
        ]);
        assert_eq!(
            requested_capabilities(&imports),
            ["allow_dns", "allow_http"]
        );
        assert!(requested_capabilities(&owned(&["pharos:plugin/host@0.1.0"])).is_empty());
    }
}
