//! A scrape target on loopback that serves a fixed exposition while up
//! and drops connections (the scrape fails) while down.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;

/// The target.
pub struct Target {
    /// `host:port`.
    pub addr: String,
    /// Whether it answers.
    pub up: Arc<AtomicBool>,
}

impl Target {
    /// Serves `body` (Prometheus text format) until the test ends.
    pub fn start(body: &'static str) -> Result<Target> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?.to_string();
        let up = Arc::new(AtomicBool::new(true));
        let flag = up.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                if !flag.load(Ordering::SeqCst) {
                    continue; // dropped: the scrape fails
                }
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Ok(Target { addr, up })
    }

    /// Takes the target down or brings it back.
    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }
}
