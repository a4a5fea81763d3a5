//! The security headers every web interface response carries.
//!
//! The policy allows scripts, styles, fonts and fetches from Pharos' own
//! origin only: no inline scripts, no `eval`, no plugins, no `<base>`, and
//! no framing (`frame-ancestors 'none'` and, for older browsers,
//! `X-Frame-Options: DENY`). Images may also be `data:` URLs (the editor's
//! icons). The page itself ([`page_policy`]) also allows the `<style>`
//! elements that carry its response's nonce: the editor (CodeMirror)
//! writes its styles into one. Label values and errors are text in the
//! page, never markup; the policy is the second line of defence should
//! that ever slip.
//!
//! [`secure`] is also the layer of the server's whole router
//! (`host/pharos/src/api/mod.rs`), so API answers (JSON, text, errors,
//! 404s) carry the same headers as the pages.

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;

/// The Content-Security-Policy.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The policy of the page whose style elements carry `nonce`.
pub fn page_policy(nonce: &str) -> String {
    CONTENT_SECURITY_POLICY.replacen(
        "style-src 'self';",
        &format!("style-src 'self' 'nonce-{nonce}';"),
        1,
    )
}

/// A fresh nonce: 128 random bits, hex. `None` when the system has no
/// randomness to give (the page then works with an unstyled editor).
pub fn nonce() -> Option<String> {
    let mut bytes = [0u8; 16];
    match getrandom::fill(&mut bytes) {
        Ok(()) => Some(bytes.iter().map(|b| format!("{b:02x}")).collect()),
        Err(err) => {
            tracing::warn!(%err, "no randomness for the page's CSP nonce");
            None
        }
    }
}

/// Adds the headers to `response`: the policy unless the handler set its
/// own ([`page_policy`]), the others replacing any it had.
pub async fn secure(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    let set = |h: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "same-origin");
    set(
        h,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    response
}
