//! The embedded bundle: lookup by path, content types, caching (ETag,
//! `Cache-Control`) and gzip.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{LazyLock, OnceLock};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use flate2::Compression;
use flate2::write::GzEncoder;

mod bundle {
    include!(concat!(env!("OUT_DIR"), "/bundle.rs"));
}

/// A year: for names that change whenever their content does.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Everything else is revalidated by its ETag on every use.
const REVALIDATE: &str = "no-cache";

/// Smaller files are sent as they are.
const GZIP_MIN: usize = 1024;

struct Asset {
    bytes: &'static [u8],
    content_type: &'static str,
    cache_control: &'static str,
    etag: HeaderValue,
    /// The gzipped bytes, made on first request; `None` when gzip does not
    /// pay (binary formats, small or incompressible files).
    gzip: OnceLock<Option<Vec<u8>>>,
}

static ASSETS: LazyLock<HashMap<&'static str, Asset>> = LazyLock::new(|| {
    bundle::FILES
        .iter()
        .map(|&(path, bytes)| {
            let etag = HeaderValue::try_from(format!("\"{:016x}\"", fnv1a(bytes)))
                .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
            let asset = Asset {
                bytes,
                content_type: content_type(path),
                cache_control: if is_hashed(path) {
                    IMMUTABLE
                } else {
                    REVALIDATE
                },
                etag,
                gzip: OnceLock::new(),
            };
            (path, asset)
        })
        .collect()
});

/// Answers `path` (relative to the bundle's root) for a request with
/// `headers`: 404 when absent, 304 when the client's copy is current.
pub(crate) fn serve(path: &str, headers: &HeaderMap) -> Response {
    let Some(asset) = ASSETS.get(path) else {
        tracing::debug!(path, "web asset not found");
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "404 page not found\n",
        )
            .into_response();
    };
    let common = [
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(asset.cache_control),
        ),
        (header::ETAG, asset.etag.clone()),
        (header::VARY, HeaderValue::from_static("Accept-Encoding")),
    ];
    if not_modified(headers, &asset.etag) {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let content_type = [(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    )];
    if accepts_gzip(headers)
        && let Some(gz) = asset.gzip.get_or_init(|| gzip(asset)).as_deref()
    {
        let encoding = [(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))];
        return (common, content_type, encoding, gz.to_vec()).into_response();
    }
    (common, content_type, asset.bytes).into_response()
}

/// The text of a bundle file (`index.html`), if it is there and UTF-8.
pub(crate) fn text(path: &str) -> Option<&'static str> {
    std::str::from_utf8(ASSETS.get(path)?.bytes).ok()
}

fn gzip(asset: &Asset) -> Option<Vec<u8>> {
    let text = asset.content_type.starts_with("text/")
        || asset.content_type.starts_with("application/json")
        || asset.content_type.starts_with("image/svg+xml");
    if !text || asset.bytes.len() < GZIP_MIN {
        return None;
    }
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(asset.bytes).ok()?;
    let gz = enc.finish().ok()?;
    (gz.len() < asset.bytes.len()).then_some(gz)
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn not_modified(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let ours = etag.to_str().unwrap_or_default();
    inm.split(',')
        .map(str::trim)
        .any(|t| t == "*" || t == ours || t.strip_prefix("W/") == Some(ours))
}

/// Whether `Accept-Encoding` lists `gzip` (or `*`) with a non-zero weight.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default();
            let zero = parts.any(|p| {
                p.strip_prefix("q=")
                    .is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q <= 0.0))
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !zero
        })
}

/// The media type for a file name.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("json" | "map") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Whether esbuild put a content hash in the name (`main-ABCD1234.js`):
/// the stem ends in `-` and 8 upper-case letters or digits.
fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split_once('.').map_or(name, |(s, _)| s);
    stem.rsplit_once('-').is_some_and(|(_, h)| {
        h.len() == 8
            && h.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    })
}

/// FNV-1a, 64 bits: a stable ETag for the build.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(
            content_type("assets/main-ABCD1234.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type("assets/main-ABCD1234.css"),
            "text/css; charset=utf-8"
        );
        assert_eq!(content_type("assets/favicon.svg"), "image/svg+xml");
        assert_eq!(content_type("assets/x"), "application/octet-stream");
    }

    #[test]
    fn hashed_names() {
        assert!(is_hashed("assets/main-ABCD1234.js"));
        assert!(is_hashed("assets/main-2ZQ7V3KX.css"));
        assert!(!is_hashed("assets/favicon.svg"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("assets/main-abcd1234.js"));
        assert!(!is_hashed("assets/main-ABC.js"));
    }

    #[test]
    fn gzip_acceptance() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")),
            );
            m
        };
        assert!(accepts_gzip(&h("gzip, deflate, br")));
        assert!(accepts_gzip(&h("br;q=1.0, GZIP;q=0.5")));
        assert!(accepts_gzip(&h("*")));
        assert!(!accepts_gzip(&h("gzip;q=0")));
        assert!(!accepts_gzip(&h("br, deflate")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn etag_matching() {
        let etag = HeaderValue::from_static("\"00ff\"");
        let h = |v: &'static str| {
            let mut m = HeaderMap::new();
            m.insert(header::IF_NONE_MATCH, HeaderValue::from_static(v));
            m
        };
        assert!(not_modified(&h("\"00ff\""), &etag));
        assert!(not_modified(&h("\"aa\", W/\"00ff\""), &etag));
        assert!(not_modified(&h("*"), &etag));
        assert!(!not_modified(&h("\"00fe\""), &etag));
        assert!(!not_modified(&HeaderMap::new(), &etag));
    }
}
