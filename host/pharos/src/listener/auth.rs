//! Basic auth against bcrypt hashes, as exporter-toolkit's `webHandler`
//! (`web/handler.go`): a request without valid credentials gets 401 with
//! `WWW-Authenticate: Basic` and `Unauthorized`.
//!
//! bcrypt is slow on purpose (tens of milliseconds at cost 10), so each
//! verdict is cached, keyed by a SHA-256 of the user, the stored hash and
//! the password given (the hash in the key: a reload with a new hash
//! misses the cache); the cache keeps at most [`CACHE_SIZE`] verdicts.
//! An unknown user is checked against a decoy hash, so a wrong user name
//! takes as long as a wrong password; verifications run one at a time on
//! a blocking thread, so a flood of bad passwords costs one core at most.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use parking_lot::{Mutex, RwLock};
use pharos_config::Secret;
use sha2::{Digest, Sha256};

/// Verdicts kept (exporter-toolkit keeps 100).
pub const CACHE_SIZE: usize = 100;

/// exporter-toolkit's decoy: a bcrypt hash of "fakepassword", checked
/// for unknown users.
const DECOY_HASH: &str = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

/// The users and the verdict cache.
pub struct BasicAuth {
    users: RwLock<Arc<BTreeMap<String, String>>>,
    cache: Mutex<HashMap<[u8; 32], bool>>,
    /// One bcrypt verification at a time.
    verifying: tokio::sync::Mutex<()>,
}

impl BasicAuth {
    pub fn new(users: &BTreeMap<String, Secret>) -> Self {
        let auth = BasicAuth {
            users: RwLock::default(),
            cache: Mutex::default(),
            verifying: tokio::sync::Mutex::new(()),
        };
        auth.set_users(users);
        auth
    }

    /// Replaces the users (on reload); cached verdicts of changed users
    /// no longer match.
    pub fn set_users(&self, users: &BTreeMap<String, Secret>) {
        let users = users
            .iter()
            .map(|(u, h)| (u.clone(), h.expose().to_owned()))
            .collect();
        *self.users.write() = Arc::new(users);
    }

    /// Whether a request with `headers` may pass: always without users.
    pub async fn allows(&self, headers: &HeaderMap) -> bool {
        let users = self.users.read().clone();
        if users.is_empty() {
            return true;
        }
        let Some((user, password)) = headers.get(header::AUTHORIZATION).and_then(parse_basic)
        else {
            return false;
        };
        let (hash, known) = match users.get(&user) {
            Some(h) => (h.clone(), true),
            None => (DECOY_HASH.to_owned(), false),
        };
        let key = cache_key(&user, &hash, &password);
        if let Some(&ok) = self.cache.lock().get(&key) {
            return ok && known;
        }
        let _one = self.verifying.lock().await;
        // Another request may have verified the same credentials meanwhile.
        if let Some(&ok) = self.cache.lock().get(&key) {
            return ok && known;
        }
        let ok = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or(false)
            && known;
        let mut cache = self.cache.lock();
        if cache.len() >= CACHE_SIZE
            && let Some(evict) = cache.keys().next().copied()
        {
            cache.remove(&evict);
        }
        cache.insert(key, ok);
        ok
    }
}

/// exporter-toolkit's refusal: 401, `WWW-Authenticate: Basic`, Go's
/// `http.Error` text.
pub fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::WWW_AUTHENTICATE, "Basic"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        "Unauthorized\n",
    )
        .into_response()
}

/// Go's `Request.BasicAuth`: `Basic` (any case), base64 of `user:password`.
fn parse_basic(value: &HeaderValue) -> Option<(String, String)> {
    let value = value.to_str().ok()?;
    let (scheme, encoded) = value.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case("basic ") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// SHA-256 over the three parts, each length-prefixed.
fn cache_key(user: &str, hash: &str, password: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [user, hash, password] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn headers(user: &str, password: &str) -> HeaderMap {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {token}")).unwrap(),
        );
        h
    }

    fn users() -> BTreeMap<String, Secret> {
        // Cost 4 keeps the test fast.
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        BTreeMap::from([("alice".to_owned(), Secret::new(hash))])
    }

    #[tokio::test]
    async fn no_users_lets_everything_pass() {
        let auth = BasicAuth::new(&BTreeMap::new());
        assert!(auth.allows(&HeaderMap::new()).await);
    }

    #[tokio::test]
    async fn verifies_and_caches() {
        let auth = BasicAuth::new(&users());
        assert!(!auth.allows(&HeaderMap::new()).await);
        assert!(auth.allows(&headers("alice", "s3cret")).await);
        assert!(auth.allows(&headers("alice", "s3cret")).await);
        assert!(!auth.allows(&headers("alice", "wrong")).await);
        // The decoy's own password does not let an unknown user in.
        assert!(!auth.allows(&headers("mallory", "fakepassword")).await);
        assert_eq!(auth.cache.lock().len(), 3);
        // New users: the old verdict's key no longer matches.
        auth.set_users(&BTreeMap::from([(
            "alice".to_owned(),
            Secret::new(bcrypt::hash("other", 4).unwrap()),
        )]));
        assert!(!auth.allows(&headers("alice", "s3cret")).await);
        assert!(auth.allows(&headers("alice", "other")).await);
    }

    #[tokio::test]
    async fn the_cache_is_bounded() {
        let auth = BasicAuth::new(&users());
        for i in 0..CACHE_SIZE + 20 {
            auth.allows(&headers("alice", &format!("guess{i}"))).await;
        }
        assert_eq!(auth.cache.lock().len(), CACHE_SIZE);
    }

    #[test]
    fn parses_like_go() {
        let v = |s: &str| HeaderValue::from_str(s).unwrap();
        assert_eq!(
            parse_basic(&v("basic YTpiOmM=")),
            Some(("a".into(), "b:c".into()))
        );
        assert_eq!(parse_basic(&v("Bearer YTpi")), None);
        assert_eq!(parse_basic(&v("Basic !!!")), None);
        assert_eq!(parse_basic(&v("Basic YWJj")), None);
    }
}
