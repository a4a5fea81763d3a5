//! A minimal SMTP client (RFC 5321) for one message per connection: the
//! conversation Go's `net/smtp` holds for Alertmanager's email notifier.
//!
//! ```text
//! S: 220 greeting               (after the TLS handshake on port 465)
//! C: EHLO <hello>               (HELO if the server refuses EHLO)
//! C: STARTTLS → 220, handshake, EHLO again   (require_tls, not yet TLS)
//! C: AUTH <mechanism> …         (the server offers AUTH and auth_username is set)
//! C: MAIL FROM:<from> → 250
//! C: RCPT TO:<to> → 25x         (once per recipient)
//! C: DATA → 354, the message dot-stuffed, "." → 250
//! C: QUIT
//! ```
//!
//! The client is generic over a [`Transport`] (a byte stream that can be
//! upgraded to TLS), so the state machine is tested here against scripted
//! servers; `transport.rs` provides the real one over `wasi:sockets`.
//!
//! The mechanism is chosen as Alertmanager 0.25 chooses it: the first of the
//! server's advertised `AUTH` list that is one of `CRAM-MD5` (needs
//! `auth_secret`), `PLAIN` or `LOGIN` (need a password) and has its secret.
//! Two differences, both on the safe side: `PLAIN` *and* `LOGIN` refuse to
//! send a password over an unencrypted connection except to `localhost`,
//! `127.0.0.1` or `::1` (Go refuses it for `PLAIN` only), and `LOGIN`
//! answers the server's first challenge with the user name and the second
//! with the password whatever their text (Alertmanager insists on
//! `Username:`/`Password:`, which e.g. aiosmtpd does not send).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read, Write};

/// The longest reply line accepted (RFC 5321 allows 512 octets; servers
/// send longer ones in practice).
const MAX_LINE: usize = 4096;
/// The most lines of one (multi-line) reply.
const MAX_REPLY_LINES: usize = 256;

/// A byte stream to the server that can be upgraded to TLS.
pub trait Transport: Read + Write {
    /// Whether the connection is encrypted (implicit TLS or after STARTTLS).
    fn is_tls(&self) -> bool;
    /// Performs the TLS handshake on the connection (after `STARTTLS`'s
    /// 220 reply).
    fn start_tls(&mut self) -> Result<(), SmtpError>;
}

/// Why a conversation failed. Server texts are kept; passwords never are.
#[derive(Debug)]
pub enum SmtpError {
    /// Reading from or writing to the connection failed.
    Io {
        /// What the client was doing.
        during: String,
        /// The error.
        error: io::Error,
    },
    /// The server answered with an unexpected reply.
    Reply {
        /// The command answered (`MAIL FROM`, `RCPT TO <a@b>`, …).
        during: String,
        /// The reply code.
        code: u16,
        /// The reply's text, lines joined with a space.
        text: String,
    },
    /// The server's answer is not SMTP.
    Protocol {
        /// What the client was doing.
        during: String,
        /// What was wrong.
        detail: String,
    },
    /// `require_tls` is set and the server does not offer `STARTTLS`.
    NoStartTls,
    /// The TLS handshake failed.
    Tls(String),
    /// Authentication cannot be attempted (no usable mechanism, or a
    /// password would travel in clear text).
    Auth(String),
}

impl SmtpError {
    /// Whether retrying may help: connection failures, TLS failures and 4xx
    /// replies are worth retrying; 5xx replies and authentication that
    /// cannot work are not.
    pub fn is_transient(&self) -> bool {
        match self {
            SmtpError::Io { .. }
            | SmtpError::Protocol { .. }
            | SmtpError::NoStartTls
            | SmtpError::Tls(_) => true,
            SmtpError::Reply { code, .. } => !(500..600).contains(code),
            SmtpError::Auth(_) => false,
        }
    }
}

impl fmt::Display for SmtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SmtpError::Io { during, error } => write!(f, "{during}: {error}"),
            SmtpError::Reply { during, code, text } => {
                write!(f, "{during}: the server answered {code} {text}")
            }
            SmtpError::Protocol { during, detail } => {
                write!(f, "{during}: not an SMTP reply: {detail}")
            }
            SmtpError::NoStartTls => write!(
                f,
                "require_tls is true (the default) but the server does not advertise the STARTTLS extension"
            ),
            SmtpError::Tls(m) => write!(f, "TLS: {m}"),
            SmtpError::Auth(m) => write!(f, "authentication: {m}"),
        }
    }
}

impl std::error::Error for SmtpError {}

/// A server reply: its code and its lines' texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code.
    pub code: u16,
    /// The text after the code of each line.
    pub lines: Vec<String>,
}

impl Reply {
    fn text(&self) -> String {
        self.lines.join(" ")
    }
}

/// The credentials of `auth_*`.
#[derive(Default)]
pub struct Credentials {
    /// `auth_username`: authentication is skipped when empty.
    pub username: String,
    /// `auth_password` or the content of `auth_password_file`.
    pub password: String,
    /// `auth_secret`, for `CRAM-MD5`.
    pub secret: String,
    /// `auth_identity`, for `PLAIN`.
    pub identity: String,
}

/// What to say and how.
pub struct Session<'a> {
    /// The name sent with `EHLO` (`hello`).
    pub hello: &'a str,
    /// The smarthost's host, to tell a local server (clear-text passwords).
    pub host: &'a str,
    /// Upgrade with `STARTTLS` unless the connection is already TLS.
    pub require_tls: bool,
    /// The credentials.
    pub credentials: &'a Credentials,
}

/// The mechanism used to authenticate, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// RFC 4954 `CRAM-MD5` with `auth_secret`.
    CramMd5,
    /// RFC 4616 `PLAIN`.
    Plain,
    /// The de facto `LOGIN`.
    Login,
}

/// An SMTP connection in progress.
pub struct Client<T> {
    transport: T,
    buf: Vec<u8>,
    extensions: BTreeMap<String, String>,
}

impl<T: Transport> Client<T> {
    /// Wraps a connected transport (nothing read yet).
    pub fn new(transport: T) -> Self {
        Client {
            transport,
            buf: Vec::new(),
            extensions: BTreeMap::new(),
        }
    }

    /// The transport, e.g. to inspect what a test server received.
    #[cfg(test)]
    pub fn into_transport(self) -> T {
        self.transport
    }

    /// Delivers one message from `from` to every address of `to`; returns
    /// the mechanism used to authenticate, if any. Ends with `QUIT` when
    /// the message was accepted.
    pub fn send(
        &mut self,
        session: &Session<'_>,
        from: &str,
        to: &[String],
        message: &[u8],
    ) -> Result<Option<Mechanism>, SmtpError> {
        let greeting = self.read_reply("reading the greeting")?;
        expect(&greeting, "the greeting", |c| c == 220)?;
        self.hello(session.hello)?;

        if session.require_tls && !self.transport.is_tls() {
            if !self.extensions.contains_key("STARTTLS") {
                return Err(SmtpError::NoStartTls);
            }
            let reply = self.command("STARTTLS", "STARTTLS")?;
            expect(&reply, "STARTTLS", |c| c == 220)?;
            if !self.buf.is_empty() {
                // Whatever came before the handshake was not protected
                // (the STARTTLS command injection of CVE-2011-0411).
                return Err(SmtpError::Protocol {
                    during: "STARTTLS".into(),
                    detail: "the server sent data after its 220 reply, before the TLS handshake"
                        .into(),
                });
            }
            self.transport.start_tls()?;
            self.extensions.clear();
            self.hello(session.hello)?;
        }

        let mut used = None;
        let credentials = session.credentials;
        if let Some(mechanisms) = self.extensions.get("AUTH").cloned()
            && !credentials.username.is_empty()
        {
            let mechanism = choose(&mechanisms, credentials)?;
            if matches!(mechanism, Mechanism::Plain | Mechanism::Login)
                && !self.transport.is_tls()
                && !is_localhost(session.host)
            {
                return Err(SmtpError::Auth(format!(
                    "refusing to send the password over an unencrypted connection to {} (enable require_tls or use port 465)",
                    session.host
                )));
            }
            self.authenticate(mechanism, credentials)?;
            used = Some(mechanism);
        }

        let reply = self.command(&format!("MAIL FROM:<{from}>"), "MAIL FROM")?;
        expect(&reply, "MAIL FROM", |c| c == 250)?;
        for rcpt in to {
            let during = format!("RCPT TO <{rcpt}>");
            let reply = self.command(&format!("RCPT TO:<{rcpt}>"), &during)?;
            expect(&reply, &during, |c| c / 10 == 25)?;
        }
        let reply = self.command("DATA", "DATA")?;
        expect(&reply, "DATA", |c| c == 354)?;
        let mut data = dot_stuff(message);
        data.extend_from_slice(b".\r\n");
        self.write_all(&data, "sending the message")?;
        let reply = self.read_reply("sending the message")?;
        expect(&reply, "the end of DATA", |c| c == 250)?;
        // The message is accepted: a failing QUIT changes nothing.
        let _ = self.command("QUIT", "QUIT");
        Ok(used)
    }

    /// `EHLO`, falling back to `HELO` as Go does; records the extensions.
    fn hello(&mut self, name: &str) -> Result<(), SmtpError> {
        let reply = self.command(&format!("EHLO {name}"), "EHLO")?;
        if reply.code == 250 {
            self.extensions = extensions(&reply);
            return Ok(());
        }
        let reply = self.command(&format!("HELO {name}"), "HELO")?;
        expect(&reply, "HELO", |c| c == 250)?;
        self.extensions.clear();
        Ok(())
    }

    fn authenticate(
        &mut self,
        mechanism: Mechanism,
        credentials: &Credentials,
    ) -> Result<(), SmtpError> {
        let reply = match mechanism {
            Mechanism::Plain => {
                let response = format!(
                    "{}\0{}\0{}",
                    credentials.identity, credentials.username, credentials.password
                );
                let line = format!("AUTH PLAIN {}", B64.encode(response));
                self.command(&line, "AUTH PLAIN")?
            }
            Mechanism::Login => {
                let reply = self.command("AUTH LOGIN", "AUTH LOGIN")?;
                if reply.code != 334 {
                    reply
                } else {
                    let user = B64.encode(&credentials.username);
                    let reply = self.command(&user, "AUTH LOGIN (user name)")?;
                    if reply.code != 334 {
                        reply
                    } else {
                        let password = B64.encode(&credentials.password);
                        self.command(&password, "AUTH LOGIN (password)")?
                    }
                }
            }
            Mechanism::CramMd5 => {
                let reply = self.command("AUTH CRAM-MD5", "AUTH CRAM-MD5")?;
                if reply.code != 334 {
                    reply
                } else {
                    let challenge =
                        B64.decode(reply.text().trim())
                            .map_err(|_| SmtpError::Protocol {
                                during: "AUTH CRAM-MD5".into(),
                                detail: "the challenge is not base64".into(),
                            })?;
                    let response = cram_md5(&credentials.username, &credentials.secret, &challenge);
                    self.command(&B64.encode(response), "AUTH CRAM-MD5 (response)")?
                }
            }
        };
        let during = match mechanism {
            Mechanism::Plain => "AUTH PLAIN",
            Mechanism::Login => "AUTH LOGIN",
            Mechanism::CramMd5 => "AUTH CRAM-MD5",
        };
        if reply.code == 334 {
            // More challenges than the mechanism has: give up politely.
            let _ = self.command("*", during);
        }
        expect(&reply, during, |c| c == 235)
    }

    /// Sends one command line and reads the reply. `during` names the
    /// command in errors (never the line itself: it may hold a secret).
    fn command(&mut self, line: &str, during: &str) -> Result<Reply, SmtpError> {
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        self.write_all(&bytes, during)?;
        self.read_reply(during)
    }

    fn write_all(&mut self, bytes: &[u8], during: &str) -> Result<(), SmtpError> {
        self.transport
            .write_all(bytes)
            .and_then(|()| self.transport.flush())
            .map_err(|error| io_error(during, error))
    }

    /// Reads one (possibly multi-line) reply.
    fn read_reply(&mut self, during: &str) -> Result<Reply, SmtpError> {
        let mut lines = Vec::new();
        loop {
            let line = self.read_line(during)?;
            let protocol = |detail: String| SmtpError::Protocol {
                during: during.to_owned(),
                detail,
            };
            let code = line
                .get(..3)
                .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|c| c.parse::<u16>().ok())
                .filter(|c| (200..600).contains(c))
                .ok_or_else(|| protocol(format!("{:?}", shorten(&line))))?;
            let (last, text) = match line.as_bytes().get(3) {
                None => (true, ""),
                Some(b' ') => (true, &line[4..]),
                Some(b'-') => (false, &line[4..]),
                Some(_) => return Err(protocol(format!("{:?}", shorten(&line)))),
            };
            if let Some(first) = lines.first().map(|r: &(u16, String)| r.0)
                && first != code
            {
                return Err(protocol(format!(
                    "a multi-line reply mixes codes {first} and {code}"
                )));
            }
            lines.push((code, text.to_owned()));
            if last {
                return Ok(Reply {
                    code,
                    lines: lines.into_iter().map(|(_, t)| t).collect(),
                });
            }
            if lines.len() >= MAX_REPLY_LINES {
                return Err(protocol("the reply has too many lines".into()));
            }
        }
    }

    /// One line without its CRLF (a bare LF ends a line too).
    fn read_line(&mut self, during: &str) -> Result<String, SmtpError> {
        loop {
            if let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(String::from_utf8_lossy(&line).into_owned());
            }
            if self.buf.len() > MAX_LINE {
                return Err(SmtpError::Protocol {
                    during: during.to_owned(),
                    detail: format!("a reply line is longer than {MAX_LINE} bytes"),
                });
            }
            let mut chunk = [0u8; 1024];
            let n = loop {
                match self.transport.read(&mut chunk) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other.map_err(|error| io_error(during, error))?,
                }
            };
            if n == 0 {
                return Err(io_error(
                    during,
                    io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the server closed the connection",
                    ),
                ));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

fn io_error(during: &str, error: io::Error) -> SmtpError {
    // A TLS failure surfaces as an I/O error wrapping rustls' error.
    if let Some(tls) = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        return SmtpError::Tls(crate::transport::describe_tls_error(tls));
    }
    SmtpError::Io {
        during: during.to_owned(),
        error,
    }
}

fn expect(reply: &Reply, during: &str, ok: impl Fn(u16) -> bool) -> Result<(), SmtpError> {
    if ok(reply.code) {
        Ok(())
    } else {
        Err(SmtpError::Reply {
            during: during.to_owned(),
            code: reply.code,
            text: shorten(&reply.text()),
        })
    }
}

/// At most 512 characters of a server text, for error messages.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(512) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// The extensions of an `EHLO` reply: keyword (upper case) → parameters.
fn extensions(reply: &Reply) -> BTreeMap<String, String> {
    reply
        .lines
        .iter()
        .skip(1)
        .map(|line| {
            let (keyword, params) = line.split_once(' ').unwrap_or((line, ""));
            (keyword.to_ascii_uppercase(), params.trim().to_owned())
        })
        .collect()
}

/// Alertmanager's choice: the first advertised mechanism it knows and has
/// the secret of.
pub fn choose(advertised: &str, credentials: &Credentials) -> Result<Mechanism, SmtpError> {
    let mut missing = Vec::new();
    for mechanism in advertised.split(' ') {
        match mechanism.to_ascii_uppercase().as_str() {
            "CRAM-MD5" if credentials.secret.is_empty() => {
                missing.push("auth_secret for CRAM-MD5");
            }
            "CRAM-MD5" => return Ok(Mechanism::CramMd5),
            "PLAIN" | "LOGIN" if credentials.password.is_empty() => {
                missing.push(if mechanism.eq_ignore_ascii_case("PLAIN") {
                    "auth_password for PLAIN"
                } else {
                    "auth_password for LOGIN"
                });
            }
            "PLAIN" => return Ok(Mechanism::Plain),
            "LOGIN" => return Ok(Mechanism::Login),
            _ => {}
        }
    }
    Err(SmtpError::Auth(if missing.is_empty() {
        format!(
            "the server offers no mechanism Pharos knows (AUTH {advertised}; known: CRAM-MD5, PLAIN, LOGIN)"
        )
    } else {
        format!(
            "the server offers AUTH {advertised} but the configuration lacks {}",
            missing.join(", ")
        )
    }))
}

/// Go's `isLocalhost` in `net/smtp`.
fn is_localhost(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "::1")
}

/// RFC 2195: `user hex(HMAC-MD5(secret, challenge))`.
fn cram_md5(user: &str, secret: &str, challenge: &[u8]) -> String {
    let digest = match Hmac::<md5::Md5>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(challenge);
            mac.finalize().into_bytes()
        }
        // HMAC accepts keys of any length.
        Err(_) => Default::default(),
    };
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{user} {hex}")
}

/// The message as `DATA` sends it: lines starting with `.` get another
/// one (RFC 5321 §4.5.2), bare LFs become CRLF, and it ends with CRLF.
pub fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 64 + 2);
    let mut at_line_start = true;
    for (i, &b) in message.iter().enumerate() {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        match b {
            b'\n' if i == 0 || message[i - 1] != b'\r' => out.extend_from_slice(b"\r\n"),
            _ => out.push(b),
        }
        at_line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A scripted server: answers each line the client ends with CRLF (and
    /// the greeting) with the next canned reply; records what it received.
    struct Script {
        replies: VecDeque<&'static str>,
        pending: Vec<u8>,
        received: Vec<u8>,
        tls: bool,
        upgraded: bool,
        in_data: bool,
    }

    impl Script {
        fn new(tls: bool, replies: &[&'static str]) -> Self {
            let mut replies: VecDeque<_> = replies.iter().copied().collect();
            let greeting = replies.pop_front().unwrap_or("");
            Script {
                replies,
                pending: greeting.as_bytes().to_vec(),
                received: Vec::new(),
                tls,
                upgraded: false,
                in_data: false,
            }
        }

        fn received(&self) -> String {
            String::from_utf8_lossy(&self.received).into_owned()
        }
    }

    impl Read for Script {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.pending.len());
            buf[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            Ok(n)
        }
    }

    impl Write for Script {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.received.extend_from_slice(buf);
            // One reply per command line, one for the whole DATA payload.
            let text = String::from_utf8_lossy(&self.received).into_owned();
            let answered = if self.in_data {
                text.ends_with("\r\n.\r\n")
            } else {
                text.ends_with("\r\n")
            };
            if answered {
                let reply = self.replies.pop_front().unwrap_or("");
                self.in_data = reply.starts_with("354");
                self.pending.extend_from_slice(reply.as_bytes());
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Transport for Script {
        fn is_tls(&self) -> bool {
            self.tls
        }
        fn start_tls(&mut self) -> Result<(), SmtpError> {
            self.tls = true;
            self.upgraded = true;
            self.received.extend_from_slice(b"<TLS>\r\n");
            Ok(())
        }
    }

    fn creds(password: &str) -> Credentials {
        Credentials {
            username: "alice".into(),
            password: password.into(),
            ..Credentials::default()
        }
    }

    fn session<'a>(credentials: &'a Credentials, host: &'a str) -> Session<'a> {
        Session {
            hello: "pharos.test",
            host,
            require_tls: true,
            credentials,
        }
    }

    fn to(addrs: &[&str]) -> Vec<String> {
        addrs.iter().map(|a| (*a).to_owned()).collect()
    }

    #[test]
    fn starttls_then_plain_auth_then_delivery() {
        let script = Script::new(
            false,
            &[
                "220 mx ESMTP\r\n",
                "250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
                "220 go ahead\r\n",
                "250-mx\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n",
                "235 ok\r\n",
                "250 ok\r\n",
                "250 ok\r\n",
                "251 forwarded\r\n",
                "354 go\r\n",
                "250 queued\r\n",
                "221 bye\r\n",
            ],
        );
        let c = creds("s3cret");
        let mut client = Client::new(script);
        let used = client.send(
            &session(&c, "mx.example.org"),
            "pharos@example.org",
            &to(&["a@example.org", "b@example.org"]),
            b"Subject: x\r\n\r\n.dot\nline\r\n",
        );
        assert_eq!(used.ok().flatten(), Some(Mechanism::Plain));
        let script = client.into_transport();
        assert!(script.upgraded);
        let plain = B64.encode("\0alice\0s3cret");
        assert_eq!(
            script.received(),
            format!(
                "EHLO pharos.test\r\nSTARTTLS\r\n<TLS>\r\nEHLO pharos.test\r\nAUTH PLAIN {plain}\r\n\
                 MAIL FROM:<pharos@example.org>\r\nRCPT TO:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n\
                 DATA\r\nSubject: x\r\n\r\n..dot\r\nline\r\n.\r\nQUIT\r\n"
            )
        );
    }

    #[test]
    fn login_answers_two_challenges_on_implicit_tls() {
        let script = Script::new(
            true,
            &[
                "220 mx\r\n",
                "250-mx\r\n250 AUTH LOGIN PLAIN\r\n",
                "334 VXNlciBOYW1lAA==\r\n",
                "334 UGFzc3dvcmQA\r\n",
                "235 ok\r\n",
                "250 ok\r\n",
                "250 ok\r\n",
                "354 go\r\n",
                "250 ok\r\n",
                "221 bye\r\n",
            ],
        );
        let c = creds("pw");
        let mut client = Client::new(script);
        let used = client.send(&session(&c, "mx"), "f@x", &to(&["t@x"]), b"x");
        assert_eq!(used.ok().flatten(), Some(Mechanism::Login));
        let received = client.into_transport().received();
        assert!(
            received.starts_with("EHLO pharos.test\r\nAUTH LOGIN\r\nYWxpY2U=\r\ncHc=\r\nMAIL"),
            "{received}"
        );
    }

    #[test]
    fn a_bad_password_is_permanent_and_not_shown() {
        let script = Script::new(
            true,
            &[
                "220 mx\r\n",
                "250-mx\r\n250 AUTH PLAIN\r\n",
                "535 5.7.8 Authentication credentials invalid\r\n",
            ],
        );
        let c = creds("hunter2");
        let err = Client::new(script)
            .send(&session(&c, "mx"), "f@x", &to(&["t@x"]), b"x")
            .err();
        let err = err.map(|e| (e.is_transient(), e.to_string()));
        assert_eq!(
            err,
            Some((
                false,
                "AUTH PLAIN: the server answered 535 5.7.8 Authentication credentials invalid"
                    .to_owned()
            ))
        );
    }

    #[test]
    fn replies_are_classified() {
        let run = |replies: &[&'static str]| {
            let c = Credentials::default();
            Client::new(Script::new(true, replies))
                .send(&session(&c, "mx"), "f@x", &to(&["t@x"]), b"x")
                .err()
        };
        let busy = run(&["421 too busy\r\n"]);
        assert!(
            busy.as_ref().is_some_and(SmtpError::is_transient),
            "{busy:?}"
        );
        let greylisted = run(&[
            "220 mx\r\n",
            "250 mx\r\n",
            "250 ok\r\n",
            "451 4.7.1 later\r\n",
        ]);
        assert!(
            greylisted.as_ref().is_some_and(SmtpError::is_transient),
            "{greylisted:?}"
        );
        let unknown = run(&[
            "220 mx\r\n",
            "250 mx\r\n",
            "250 ok\r\n",
            "550 no such user\r\n",
        ]);
        assert_eq!(
            unknown.map(|e| (e.is_transient(), e.to_string())),
            Some((
                false,
                "RCPT TO <t@x>: the server answered 550 no such user".to_owned()
            ))
        );
        let garbage = run(&["HTTP/1.1 400 Bad Request\r\n"]);
        assert!(
            matches!(garbage, Some(SmtpError::Protocol { .. })),
            "{garbage:?}"
        );
        let closed = run(&[]);
        assert!(matches!(closed, Some(SmtpError::Io { .. })), "{closed:?}");
    }

    #[test]
    fn require_tls_needs_starttls() {
        let c = Credentials::default();
        let script = Script::new(false, &["220 mx\r\n", "250-mx\r\n250 AUTH PLAIN\r\n"]);
        let err = Client::new(script)
            .send(&session(&c, "mx"), "f@x", &to(&["t@x"]), b"x")
            .err();
        assert!(matches!(err, Some(SmtpError::NoStartTls)), "{err:?}");
    }

    #[test]
    fn data_after_starttls_reply_is_refused() {
        let c = Credentials::default();
        let script = Script::new(
            false,
            &[
                "220 mx\r\n",
                "250-mx\r\n250 STARTTLS\r\n",
                "220 go\r\n250 injected\r\n",
            ],
        );
        let err = Client::new(script)
            .send(&session(&c, "mx"), "f@x", &to(&["t@x"]), b"x")
            .err();
        assert!(matches!(err, Some(SmtpError::Protocol { .. })), "{err:?}");
    }

    #[test]
    fn passwords_do_not_travel_in_clear_text() {
        let c = creds("pw");
        let plain_session = |host| Session {
            hello: "h",
            host,
            require_tls: false,
            credentials: &c,
        };
        let replies = ["220 mx\r\n", "250-mx\r\n250 AUTH PLAIN\r\n"];
        let err = Client::new(Script::new(false, &replies))
            .send(&plain_session("mx.example.org"), "f@x", &to(&["t@x"]), b"x")
            .err();
        assert!(
            matches!(&err, Some(SmtpError::Auth(m)) if m.contains("unencrypted")),
            "{err:?}"
        );
        // To a local relay it is allowed, as in Go.
        let replies = [
            "220 mx\r\n",
            "250-mx\r\n250 AUTH PLAIN\r\n",
            "235 ok\r\n",
            "250 ok\r\n",
            "250 ok\r\n",
            "354 go\r\n",
            "250 ok\r\n",
            "221 bye\r\n",
        ];
        let used = Client::new(Script::new(false, &replies)).send(
            &plain_session("127.0.0.1"),
            "f@x",
            &to(&["t@x"]),
            b"x",
        );
        assert_eq!(used.ok().flatten(), Some(Mechanism::Plain));
    }

    #[test]
    fn mechanisms_are_chosen_as_alertmanager_does() {
        let with = |password: &str, secret: &str| Credentials {
            username: "u".into(),
            password: password.into(),
            secret: secret.into(),
            identity: String::new(),
        };
        let pick = |adv: &str, c: &Credentials| choose(adv, c).ok();
        assert_eq!(pick("LOGIN PLAIN", &with("p", "")), Some(Mechanism::Login));
        assert_eq!(pick("PLAIN LOGIN", &with("p", "")), Some(Mechanism::Plain));
        assert_eq!(
            pick("CRAM-MD5 PLAIN", &with("p", "")),
            Some(Mechanism::Plain)
        );
        assert_eq!(
            pick("CRAM-MD5 PLAIN", &with("p", "s")),
            Some(Mechanism::CramMd5)
        );
        let err = choose("PLAIN", &with("", "s")).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "authentication: the server offers AUTH PLAIN but the configuration lacks auth_password for PLAIN"
            )
        );
        assert!(choose("XOAUTH2", &with("p", "")).is_err());
    }

    #[test]
    fn cram_md5_matches_rfc_2195() {
        // The example of RFC 2195 §2.
        let challenge = b"<1896.697170952@postoffice.reston.mci.net>";
        assert_eq!(
            cram_md5("tim", "tanstaaftanstaaf", challenge),
            "tim b913a602c7eda7a495b4e6e7334d3890"
        );
    }

    #[test]
    fn multi_line_replies_and_extensions() {
        let reply = Reply {
            code: 250,
            lines: vec![
                "mx greets you".into(),
                "auth plain LOGIN".into(),
                "SIZE 1000".into(),
                "STARTTLS".into(),
            ],
        };
        let ext = extensions(&reply);
        assert_eq!(ext.get("AUTH").map(String::as_str), Some("plain LOGIN"));
        assert_eq!(ext.get("STARTTLS").map(String::as_str), Some(""));
        assert_eq!(ext.get("SIZE").map(String::as_str), Some("1000"));
    }

    #[test]
    fn dot_stuffing() {
        assert_eq!(dot_stuff(b".a\r\n.b\nc."), b"..a\r\n..b\r\nc.\r\n");
        assert_eq!(dot_stuff(b"x\r\n"), b"x\r\n");
    }
}
