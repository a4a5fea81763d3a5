//! Reading a component to install: a local file, or an `http(s)://` URL
//! downloaded with reqwest (redirects followed, a 60 s timeout, the body
//! capped at [`MAX_COMPONENT_BYTES`] while it streams in).

use std::path::Path;
use std::time::Duration;

use crate::error::StoreError;

/// The largest component accepted (first-party plugins are ~100–500 KiB).
pub const MAX_COMPONENT_BYTES: u64 = 64 << 20;

/// The bytes of `source` and how to record it in the manifest (an absolute
/// path, or the URL as given).
pub(crate) async fn fetch(source: &str) -> Result<(Vec<u8>, String), StoreError> {
    let lower = source.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Ok((download(source).await?, source.to_owned()));
    }
    let path = Path::new(source);
    let read_err = |e| StoreError::Read {
        path: path.to_path_buf(),
        source: e,
    };
    let len = std::fs::metadata(path).map_err(read_err)?.len();
    if len > MAX_COMPONENT_BYTES {
        return Err(StoreError::TooLarge {
            source_name: source.to_owned(),
            limit: MAX_COMPONENT_BYTES,
        });
    }
    let bytes = std::fs::read(path).map_err(read_err)?;
    let recorded = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    Ok((bytes, recorded.display().to_string()))
}

async fn download(url: &str) -> Result<Vec<u8>, StoreError> {
    let err = |message: String| StoreError::Download {
        url: url.to_owned(),
        message,
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("Pharos/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| err(e.to_string()))?;
    let mut resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| err(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(err(format!("HTTP status {}", resp.status())));
    }
    let too_large = || StoreError::TooLarge {
        source_name: url.to_owned(),
        limit: MAX_COMPONENT_BYTES,
    };
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_COMPONENT_BYTES)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| err(e.to_string()))? {
        if body.len() as u64 + chunk.len() as u64 > MAX_COMPONENT_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
