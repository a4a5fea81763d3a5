//! The client against hostile targets: real loopback TCP servers that
//! declare absurd lengths, stream without end or send gzip bombs.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::time::Duration;

use pharos_config::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

#[test]
fn timeout_header_like_go() {
    assert_eq!(seconds_header(Duration::from_secs(10)), "10");
    assert_eq!(seconds_header(Duration::from_millis(500)), "0.5");
    assert_eq!(seconds_header(Duration::from_millis(1250)), "1.25");
}

#[test]
fn the_buffer_reserved_up_front_is_bounded() {
    let ten_tb = 10u64 << 40;
    assert_eq!(
        initial_capacity(Some(ten_tb), 0, u64::MAX),
        MAX_DECLARED_PREALLOC
    );
    assert_eq!(initial_capacity(Some(u64::MAX), 0, 1000), 1000);
    assert_eq!(initial_capacity(Some(500), 0, 1000), 500);
    // The last body's size was read, not claimed: it is trusted (up to the limit).
    assert_eq!(initial_capacity(None, 5 << 20, u64::MAX), 5 << 20);
    assert_eq!(initial_capacity(None, 5 << 20, 1 << 20), 1 << 20);
    assert_eq!(effective_body_limit(0), DEFAULT_BODY_SIZE_LIMIT);
    assert_eq!(effective_body_limit(1), 1);
}

/// What the hostile target sends after the request.
enum Reply {
    /// A head (status line and headers) and a body, then close.
    Once(String, Vec<u8>),
    /// A head, then the same chunk of body forever (until the peer leaves).
    Forever(String, Vec<u8>),
}

/// A target on loopback that answers every connection with `reply`.
async fn hostile(reply: Reply) -> url::Url {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let reply = std::sync::Arc::new(reply);
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            tokio::spawn(answer(conn, reply.clone()));
        }
    });
    url::Url::parse(&format!("http://{addr}/metrics")).unwrap()
}

async fn answer(mut conn: TcpStream, reply: std::sync::Arc<Reply>) {
    // Read the request head.
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    match &*reply {
        Reply::Once(head, body) => {
            let _ = conn.write_all(head.as_bytes()).await;
            let _ = conn.write_all(body).await;
        }
        Reply::Forever(head, chunk) => {
            if conn.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            while conn.write_all(chunk).await.is_ok() {}
        }
    }
}

fn client(extra: &str) -> ScrapeClient {
    let cfg = Config::from_toml(
        &format!("[[scrape]]\njob = \"t\"\ntargets = [\"x\"]\n{extra}\n"),
        "test.toml",
    )
    .unwrap();
    ScrapeClient::new(&cfg.scrape[0], "test").unwrap()
}

const HEAD_10TB: &str =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10995116277760\r\n\r\n";

/// A 10 TB `Content-Length` fails the scrape with the limit's error, under
/// the default limit, without reserving anything.
#[tokio::test]
async fn a_huge_declared_length_is_refused() {
    let url = hostile(Reply::Once(HEAD_10TB.into(), b"up 1\n".to_vec())).await;
    let err = client("")
        .scrape(&url, Duration::from_secs(5), 0)
        .await
        .unwrap_err();
    assert!(matches!(err, ScrapeError::BodySizeLimit), "{err}");
    assert_eq!(err.to_string(), "body size limit exceeded");
}

/// Even a limit that admits the declared 10 TB reserves at most a small
/// buffer: the short body then fails as a broken body, and nothing aborts.
#[tokio::test]
async fn a_huge_declared_length_under_a_huge_limit_reserves_little() {
    let url = hostile(Reply::Once(HEAD_10TB.into(), b"up 1\n".to_vec())).await;
    let err = client("body_size_limit = \"16TiB\"")
        .scrape(&url, Duration::from_secs(5), 0)
        .await
        .unwrap_err();
    assert!(matches!(err, ScrapeError::Http { .. }), "{err}");
}

/// A body without a length that never ends stops at the limit.
#[tokio::test]
async fn an_endless_body_stops_at_the_limit() {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n";
    let url = hostile(Reply::Forever(head.into(), b"up 1\n".repeat(1000))).await;
    let err = client("body_size_limit = \"1MiB\"")
        .scrape(&url, Duration::from_secs(10), 0)
        .await
        .unwrap_err();
    assert!(matches!(err, ScrapeError::BodySizeLimit), "{err}");
}

/// The limit applies to the decompressed body: 64 MiB of zeros sent as
/// 64 KiB of gzip fail a 1 MiB limit.
#[tokio::test]
async fn a_gzip_bomb_stops_at_the_limit() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b'0'; 1 << 20];
    for _ in 0..64 {
        gz.write_all(&zeros).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 1 << 20);
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        bomb.len()
    );
    let url = hostile(Reply::Once(head, bomb)).await;
    let err = client("body_size_limit = \"1MiB\"")
        .scrape(&url, Duration::from_secs(10), 0)
        .await
        .unwrap_err();
    assert!(matches!(err, ScrapeError::BodySizeLimit), "{err}");
}

/// A well-behaved target still scrapes.
#[tokio::test]
async fn a_normal_body_is_read() {
    let body = b"up 1\n".to_vec();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let url = hostile(Reply::Once(head, body)).await;
    let resp = client("")
        .scrape(&url, Duration::from_secs(5), 0)
        .await
        .unwrap();
    assert_eq!(&resp.body[..], b"up 1\n");
}
