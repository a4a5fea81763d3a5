//! A tiny authoritative DNS server on a loopback UDP port, for tests: it
//! answers from a fixed table of records (built with hickory-proto, which
//! the host's resolver already uses), NXDOMAIN for names it does not know,
//! and an empty NOERROR answer for known names without the asked type. It
//! records the questions it got.

use hickory_resolver::proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, AAAA, MX, NS, SRV};
use hickory_resolver::proto::rr::{Name, RData, Record};
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use tokio::net::UdpSocket;

pub struct DnsServer {
    pub addr: SocketAddr,
    /// `(name, type)` of every question received.
    pub questions: Arc<Mutex<Vec<(String, String)>>>,
}

fn name(s: &str) -> Name {
    Name::from_str(s).unwrap()
}

/// A record for the table: `(owner, data)`.
pub fn srv(owner: &str, priority: u16, weight: u16, port: u16, target: &str) -> (String, RData) {
    (
        owner.into(),
        RData::SRV(SRV::new(priority, weight, port, name(target))),
    )
}

pub fn a(owner: &str, ip: &str) -> (String, RData) {
    (owner.into(), RData::A(A(ip.parse().unwrap())))
}

pub fn aaaa(owner: &str, ip: &str) -> (String, RData) {
    (owner.into(), RData::AAAA(AAAA(ip.parse().unwrap())))
}

pub fn mx(owner: &str, preference: u16, exchange: &str) -> (String, RData) {
    (owner.into(), RData::MX(MX::new(preference, name(exchange))))
}

pub fn ns(owner: &str, server: &str) -> (String, RData) {
    (owner.into(), RData::NS(NS(name(server))))
}

/// Starts the server with `records` (owners are fully qualified, with the
/// trailing dot).
pub async fn start(records: Vec<(String, RData)>) -> DnsServer {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let questions = Arc::new(Mutex::new(Vec::new()));
    let seen = questions.clone();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
                return;
            };
            let Ok(query) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let mut response =
                Message::new(query.metadata.id, MessageType::Response, OpCode::Query);
            response.metadata.authoritative = true;
            response.metadata.recursion_desired = query.metadata.recursion_desired;
            response.metadata.recursion_available = true;
            let mut known = false;
            for q in &query.queries {
                let qname = q.name().to_ascii().to_ascii_lowercase();
                seen.lock()
                    .unwrap()
                    .push((qname.clone(), q.query_type().to_string()));
                for (owner, data) in &records {
                    if owner.to_ascii_lowercase() != qname {
                        continue;
                    }
                    known = true;
                    if data.record_type() == q.query_type() {
                        response.add_answer(Record::from_rdata(q.name().clone(), 0, data.clone()));
                    }
                }
                response.add_query(q.clone());
            }
            if !known {
                response.metadata.response_code = ResponseCode::NXDomain;
            }
            if let Ok(bytes) = response.to_vec() {
                let _ = socket.send_to(&bytes, peer).await;
            }
        }
    });
    DnsServer { addr, questions }
}
