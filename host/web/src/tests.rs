//! The router as the API merges it: pages, redirects, assets, headers.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::{PAGES, headers::CONTENT_SECURITY_POLICY, router};

async fn get(path: &str, headers: &[(&str, &str)]) -> (Response<Body>, Vec<u8>) {
    let mut req = Request::get(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let app: Router = router();
    let resp = app
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes().to_vec();
    (Response::from_parts(parts, Body::empty()), bytes)
}

fn header(resp: &Response<Body>, name: header::HeaderName) -> &str {
    resp.headers()
        .get(&name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn assert_secure(resp: &Response<Body>) {
    let csp = header(resp, header::CONTENT_SECURITY_POLICY);
    assert!(
        csp.starts_with("default-src 'self'; script-src 'self';"),
        "{csp}"
    );
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(header(resp, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(header(resp, header::X_FRAME_OPTIONS), "DENY");
}

/// The asset paths index.html names, relative to the root.
fn referenced_assets(html: &str) -> Vec<String> {
    html.split(['"', '\''])
        .filter_map(|s| s.strip_prefix("./"))
        .filter(|s| s.starts_with("assets/"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn every_page_is_the_single_page() {
    for page in PAGES {
        let (resp, body) = get(&format!("/{page}"), &[]).await;
        assert_eq!(resp.status(), StatusCode::OK, "{page}");
        assert_eq!(
            header(&resp, header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );
        assert_eq!(header(&resp, header::CACHE_CONTROL), "no-store");
        assert_secure(&resp);
        let html = String::from_utf8(body).expect("UTF-8");
        assert!(html.contains("<div id=\"app\">"), "{html}");
    }
}

/// The nonce in the page's meta tag is the one its policy allows styles
/// with, and a new one each time.
fn page_nonce(html: &str) -> String {
    let after = html
        .split("<meta name=\"csp-nonce\" content=\"")
        .nth(1)
        .expect("a csp-nonce meta tag");
    after.split('"').next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn the_page_allows_styles_with_its_own_fresh_nonce() {
    let (resp, body) = get("/query", &[]).await;
    let nonce = page_nonce(&String::from_utf8(body).expect("UTF-8"));
    assert_eq!(nonce.len(), 32, "{nonce}");
    assert!(nonce.bytes().all(|b| b.is_ascii_hexdigit()), "{nonce}");
    let csp = header(&resp, header::CONTENT_SECURITY_POLICY);
    assert_eq!(csp, super::headers::page_policy(&nonce));
    assert!(
        csp.contains(&format!("style-src 'self' 'nonce-{nonce}';")),
        "{csp}"
    );
    // Scripts get no nonce: only files from Pharos run.
    assert!(csp.contains("script-src 'self';"), "{csp}");
    let (_, again) = get("/query", &[]).await;
    assert_ne!(page_nonce(&String::from_utf8(again).expect("UTF-8")), nonce);
}

#[tokio::test]
async fn the_page_has_no_inline_script_and_relative_assets() {
    let (_, body) = get("/query", &[]).await;
    let html = String::from_utf8(body).expect("UTF-8");
    // Every <script> loads a file; no inline code, no inline style.
    for tag in html.split("<script").skip(1) {
        let open = tag.split('>').next().unwrap_or_default();
        assert!(
            open.contains("src=\"./assets/"),
            "inline or absolute script: {tag}"
        );
        assert!(tag.contains("></script>"), "script with content: {tag}");
    }
    assert!(
        !html.contains("<style") && !html.contains("style="),
        "{html}"
    );
    // Relative URLs only, so a path prefix works.
    assert!(!html.contains("=\"/"), "absolute URL in {html}");
    let assets = referenced_assets(&html);
    assert!(assets.iter().any(|a| a.ends_with(".js")), "{assets:?}");
    assert!(assets.iter().any(|a| a.ends_with(".css")), "{assets:?}");
}

#[tokio::test]
async fn assets_have_their_types_and_caching() {
    let (_, body) = get("/query", &[]).await;
    let html = String::from_utf8(body).expect("UTF-8");
    for asset in referenced_assets(&html) {
        let (resp, body) = get(&format!("/{asset}"), &[]).await;
        assert_eq!(resp.status(), StatusCode::OK, "{asset}");
        assert!(!body.is_empty(), "{asset}");
        assert_secure(&resp);
        assert_eq!(
            header(&resp, header::CONTENT_SECURITY_POLICY),
            CONTENT_SECURITY_POLICY
        );
        let (ct, cache) = (
            header(&resp, header::CONTENT_TYPE),
            header(&resp, header::CACHE_CONTROL),
        );
        match asset.rsplit_once('.').map(|(_, e)| e) {
            Some("js") => assert_eq!(ct, "text/javascript; charset=utf-8"),
            Some("css") => assert_eq!(ct, "text/css; charset=utf-8"),
            Some("svg") => assert_eq!(ct, "image/svg+xml"),
            other => panic!("unexpected asset {asset} ({other:?})"),
        }
        if asset.contains("/main-") {
            assert_eq!(cache, "public, max-age=31536000, immutable", "{asset}");
        } else {
            assert_eq!(cache, "no-cache", "{asset}");
        }
    }
}

#[tokio::test]
async fn assets_are_gzipped_when_accepted_and_revalidated_by_etag() {
    let (_, body) = get("/query", &[]).await;
    let html = String::from_utf8(body).expect("UTF-8");
    let js = referenced_assets(&html)
        .into_iter()
        .find(|a| a.ends_with(".js"))
        .expect("a script");
    let path = format!("/{js}");
    let (plain, plain_body) = get(&path, &[]).await;
    assert_eq!(header(&plain, header::CONTENT_ENCODING), "");
    let (gz, gz_body) = get(&path, &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(header(&gz, header::CONTENT_ENCODING), "gzip");
    assert_eq!(header(&gz, header::VARY), "Accept-Encoding");
    assert!(gz_body.len() < plain_body.len() / 2);
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(gz_body.as_slice()),
        &mut unzipped,
    )
    .expect("gunzip");
    assert_eq!(unzipped, plain_body);

    let etag = header(&plain, header::ETAG).to_owned();
    assert!(etag.starts_with('"') && etag.len() > 2, "{etag}");
    let (again, body) = get(&path, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_secure(&again);
}

#[tokio::test]
async fn unknown_assets_are_404_with_the_headers() {
    for path in ["/assets/nope.js", "/assets/../index.html", "/assets/"] {
        let (resp, _) = get(path, &[]).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        assert_secure(&resp);
    }
}

#[tokio::test]
async fn root_redirects_to_query() {
    let (resp, _) = get("/", &[]).await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    assert_eq!(header(&resp, header::LOCATION), "query");
    assert_secure(&resp);
}

#[tokio::test]
async fn graph_redirects_to_query_with_its_parameters() {
    let q = "g0.expr=rate(up%5B5m%5D)&g0.tab=0&g0.range_input=1h&g1.expr=up";
    let (resp, _) = get(&format!("/graph?{q}"), &[]).await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    // Relative: behind a proxy's prefix, /prefix/graph → /prefix/query.
    assert_eq!(header(&resp, header::LOCATION), format!("query?{q}"));
    assert_secure(&resp);

    let (resp, _) = get("/graph", &[]).await;
    assert_eq!(header(&resp, header::LOCATION), "query");
}
