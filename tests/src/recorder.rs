//! An HTTP/1.1 server on loopback that keeps every request and answers
//! each with a status and body that the test may change while it runs:
//! the other end of a notifier (webhook, Slack, PagerDuty, an
//! Alertmanager).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    /// When it was read whole.
    pub received: std::time::SystemTime,
}

impl Request {
    /// The body as JSON (`Null` when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }
}

type Reply = Arc<Mutex<(String, String)>>;

/// The server.
pub struct Recorder {
    pub addr: String,
    requests: Arc<Mutex<Vec<Request>>>,
    reply: Reply,
}

impl Recorder {
    /// Answers every request with `status` (`200 OK`) and `reply`.
    pub fn start(status: &str, reply: &str) -> Result<Recorder> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?.to_string();
        let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
        let reply: Reply = Arc::new(Mutex::new((status.to_owned(), reply.to_owned())));
        let (r, answer) = (requests.clone(), reply.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (r, answer) = (r.clone(), answer.clone());
                std::thread::spawn(move || serve(conn, &r, &answer));
            }
        });
        Ok(Recorder {
            addr,
            requests,
            reply,
        })
    }

    /// Answers from now on with `status` and `reply`.
    pub fn set_reply(&self, status: &str, reply: &str) {
        if let Ok(mut r) = self.reply.lock() {
            *r = (status.to_owned(), reply.to_owned());
        }
    }

    /// `http://<addr><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The requests received so far, leaving none.
    pub fn take(&self) -> Vec<Request> {
        self.requests
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default()
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

fn serve(mut conn: TcpStream, requests: &Mutex<Vec<Request>>, reply: &Mutex<(String, String)>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(clone) = conn.try_clone() else { return };
    let mut reader = BufReader::new(clone);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = BTreeMap::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line.trim_end().is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
        }
        let length = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0usize);
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or("GET").to_owned();
        let path = parts.next().unwrap_or("/").to_owned();
        // Answer with what is set when the request arrives, then record
        // it (so a test that sees the request also sees the answer's
        // effect ordered after it).
        let (status, text) = reply.lock().map(|r| r.clone()).unwrap_or_default();
        if let Ok(mut r) = requests.lock() {
            r.push(Request {
                method,
                path,
                headers,
                body,
                received: std::time::SystemTime::now(),
            });
        }
        let resp = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        );
        if conn.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}
