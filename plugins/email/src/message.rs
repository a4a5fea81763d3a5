//! The message, laid out as Alertmanager 0.25's email notifier writes it
//! (Go's `mime`, `mime/multipart` and `mime/quotedprintable`):
//!
//! ```text
//! From: Pharos <pharos@example.org>        ← the headers, Q-encoded where
//! Subject: [FIRING:1] DiskFull (node)         not printable ASCII (sorted
//! To: oncall@example.org                      here; Go's map order is random)
//! Message-Id: <1709287200123000000.4242@example.org>
//! Date: Fri, 01 Mar 2024 10:00:00 +0000
//! Content-Type: multipart/alternative;  boundary=<60 hex digits>
//! MIME-Version: 1.0
//!
//! --<boundary>
//! Content-Transfer-Encoding: quoted-printable
//! Content-Type: text/plain; charset=UTF-8
//!
//! <text, quoted-printable>               ← only when `text` is not empty
//! --<boundary>
//! Content-Transfer-Encoding: quoted-printable
//! Content-Type: text/html; charset=UTF-8
//!
//! <html, quoted-printable>               ← only when `html` is not empty
//! --<boundary>--
//! ```
//!
//! Written by hand rather than with a MIME builder: the layout above is the
//! whole of what Alertmanager sends (about a hundred lines here, each rule
//! tested against Go's output), and a builder would add headers and choose
//! encodings of its own. Every line is 7-bit ASCII, so no SMTP extension is
//! needed.

use std::fmt::Write as _;

/// Go's `textproto.CanonicalMIMEHeaderKey`: `content-type` →
/// `Content-Type`. A name with a byte that is not a token character stays
/// as it is.
pub fn canonical_header(name: &str) -> String {
    if !name.bytes().all(is_token_byte) {
        return name.to_owned();
    }
    let mut upper = true;
    name.chars()
        .map(|c| {
            let c = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            c
        })
        .collect()
}

/// RFC 7230 `tchar`, what Go accepts in a header name.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Whether `name` is a valid header name (RFC 5322: printable ASCII but
/// `:`; we also refuse what Go would not canonicalize).
pub fn is_valid_header_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(is_token_byte)
}

/// Go's `mime.QEncoding.Encode("utf-8", value)`: the value as it is when it
/// is printable ASCII (tabs allowed), else RFC 2047 encoded-words of at most
/// 75 characters, never splitting a character.
pub fn q_encode(value: &str) -> String {
    if value.chars().all(|c| c == '\t' || (' '..='~').contains(&c)) {
        return value.to_owned();
    }
    const OPEN: &str = "=?utf-8?q?";
    // maxEncodedWordLen - len("=?UTF-8?q?") - len("?=")
    const MAX_CONTENT: usize = 75 - 10 - 2;
    let mut out = String::from(OPEN);
    let mut current = 0;
    for c in value.chars() {
        let mut bytes = [0u8; 4];
        let bytes = c.encode_utf8(&mut bytes).as_bytes();
        let plain = c.is_ascii() && (' '..='~').contains(&c) && !"=?_".contains(c);
        let len = if plain { 1 } else { 3 * bytes.len() };
        if current + len > MAX_CONTENT {
            out.push_str("?= ");
            out.push_str(OPEN);
            current = 0;
        }
        for &b in bytes {
            match b {
                b' ' => out.push('_'),
                b'!'..=b'~' if !b"=?_".contains(&b) => out.push(b as char),
                _ => {
                    let _ = write!(out, "={b:02X}");
                }
            }
        }
        current += len;
    }
    out.push_str("?=");
    out
}

/// Go's `quotedprintable.Writer` (not binary): CRLF, CR or LF become CRLF
/// line breaks, `=` and bytes outside `!`..`~` (but space and tab) are
/// `=XX`, spaces and tabs before a line break are encoded, and lines are
/// cut at 76 characters with a soft break (`=`).
pub fn quoted_printable(input: &str) -> String {
    const LINE_MAX: usize = 76;
    let mut out = String::with_capacity(input.len() + input.len() / 8);
    let mut line = String::with_capacity(LINE_MAX + 2);
    let mut cr = false;

    fn crlf(out: &mut String, line: &mut String) {
        out.push_str(line);
        out.push_str("\r\n");
        line.clear();
    }
    fn soft_break(out: &mut String, line: &mut String) {
        line.push('=');
        crlf(out, line);
    }
    fn encode(out: &mut String, line: &mut String, b: u8) {
        if LINE_MAX - 1 - line.len() < 3 {
            soft_break(out, line);
        }
        let _ = write!(line, "={b:02X}");
    }
    fn check_last_byte(out: &mut String, line: &mut String) {
        if let Some(last) = line.chars().last()
            && (last == ' ' || last == '\t')
        {
            line.pop();
            encode(out, line, last as u8);
        }
    }

    for &b in input.as_bytes() {
        match b {
            b'\n' | b'\r' => {
                if cr && b == b'\n' {
                    cr = false;
                    continue;
                }
                cr = b == b'\r';
                check_last_byte(&mut out, &mut line);
                crlf(&mut out, &mut line);
            }
            b'!'..=b'~' if b != b'=' => {
                literal(&mut out, &mut line, b);
                cr = false;
            }
            b' ' | b'\t' => {
                literal(&mut out, &mut line, b);
                cr = false;
            }
            _ => {
                encode(&mut out, &mut line, b);
                cr = false;
            }
        }
    }
    check_last_byte(&mut out, &mut line);
    out.push_str(&line);
    return out;

    fn literal(out: &mut String, line: &mut String, b: u8) {
        if line.len() == LINE_MAX - 1 {
            soft_break(out, line);
        }
        line.push(b as char);
    }
}

/// Go's `time.RFC1123Z` of a time in milliseconds since the epoch, in UTC:
/// `Fri, 01 Mar 2024 10:00:00 +0000`.
pub fn rfc1123z(ms: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let weekday = DAYS[days.rem_euclid(7) as usize];
    let month = MONTHS[(m - 1).clamp(0, 11) as usize];
    format!(
        "{weekday}, {d:02} {month} {y:04} {:02}:{:02}:{:02} +0000",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// What goes into one message.
pub struct Parts<'a> {
    /// Header name (canonical) and value (rendered, not yet encoded), in
    /// the order to write them.
    pub headers: &'a [(String, String)],
    /// The plain-text part; left out when empty.
    pub text: &'a str,
    /// The HTML part; left out when empty.
    pub html: &'a str,
    /// `Message-Id`, unless `headers` has one.
    pub message_id: &'a str,
    /// `Date`, unless `headers` has one.
    pub date: &'a str,
    /// The multipart boundary.
    pub boundary: &'a str,
}

/// The whole message, CRLF line endings.
pub fn compose(p: &Parts<'_>) -> String {
    let mut m = String::new();
    let has = |name: &str| p.headers.iter().any(|(n, _)| n == name);
    for (name, value) in p.headers {
        let _ = write!(m, "{name}: {}\r\n", q_encode(value));
    }
    if !has("Message-Id") {
        let _ = write!(m, "Message-Id: {}\r\n", p.message_id);
    }
    if !has("Date") {
        let _ = write!(m, "Date: {}\r\n", p.date);
    }
    let _ = write!(
        m,
        "Content-Type: multipart/alternative;  boundary={}\r\nMIME-Version: 1.0\r\n\r\n",
        p.boundary
    );
    let mut first = true;
    // The preferred alternative last (RFC 2046 §5.1.4): text, then HTML.
    for (body, kind) in [(p.text, "plain"), (p.html, "html")] {
        if body.is_empty() {
            continue;
        }
        if first {
            let _ = write!(m, "--{}\r\n", p.boundary);
        } else {
            let _ = write!(m, "\r\n--{}\r\n", p.boundary);
        }
        first = false;
        let _ = write!(
            m,
            "Content-Transfer-Encoding: quoted-printable\r\nContent-Type: text/{kind}; charset=UTF-8\r\n\r\n"
        );
        m.push_str(&quoted_printable(body));
    }
    let _ = write!(m, "\r\n--{}--\r\n", p.boundary);
    m
}

/// One address of an address list: the `addr-spec` inside `<…>` or the
/// bare address.
fn addr_spec(entry: &str) -> Option<String> {
    let entry = entry.trim();
    let spec = match (entry.rfind('<'), entry.ends_with('>')) {
        (Some(open), true) => &entry[open + 1..entry.len() - 1],
        (None, false) => entry,
        _ => return None,
    };
    let spec = spec.trim();
    let (local, domain) = spec.rsplit_once('@')?;
    let ok = !local.is_empty()
        && !domain.is_empty()
        && !spec
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,".contains(c))
        && !domain.contains(['"', '(', ')', ';', ':', '\\']);
    ok.then(|| spec.to_owned())
}

/// The addresses of an RFC 5322 address list such as `to`: `a@x`,
/// `Name <a@x>`, `"Last, First" <a@x>`, separated by commas (Go's
/// `mail.ParseAddressList`, without groups and comments). `None` when an
/// entry is not an address.
pub fn address_list(list: &str) -> Option<Vec<String>> {
    let mut entries = Vec::new();
    let mut current = String::new();
    let (mut quoted, mut escaped, mut angle) = (false, false, false);
    for c in list.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                entries.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if quoted || angle {
        return None;
    }
    entries.push(current);
    let addrs: Option<Vec<String>> = entries.iter().map(|e| addr_spec(e)).collect();
    addrs.filter(|a| !a.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_are_canonical() {
        assert_eq!(canonical_header("subject"), "Subject");
        assert_eq!(canonical_header("x-GitHub-event"), "X-Github-Event");
        assert_eq!(canonical_header("MESSAGE-ID"), "Message-Id");
        assert_eq!(canonical_header("bad name"), "bad name");
        assert!(is_valid_header_name("X-Priority"));
        assert!(!is_valid_header_name("Bad: name"));
        assert!(!is_valid_header_name(""));
    }

    #[test]
    fn q_encoding_is_gos() {
        // Expected values from Go 1.19's mime.QEncoding.Encode("utf-8", …).
        assert_eq!(q_encode("[FIRING:1] DiskFull"), "[FIRING:1] DiskFull");
        assert_eq!(q_encode("a=b?c_d"), "a=b?c_d");
        assert_eq!(
            q_encode("¡Hola, señor!"),
            "=?utf-8?q?=C2=A1Hola,_se=C3=B1or!?="
        );
        assert_eq!(q_encode("line\r\nBcc: x"), "=?utf-8?q?line=0D=0ABcc:_x?=");
        let long = q_encode(&"é".repeat(30));
        let word = format!("=?utf-8?q?{}?=", "=C3=A9".repeat(10));
        assert_eq!(long, format!("{word} {word} {word}"));
        assert!(long.split(' ').all(|w| w.len() <= 75), "{long}");
    }

    #[test]
    fn quoted_printable_is_gos() {
        // Expected values from Go 1.19's quotedprintable.Writer.
        assert_eq!(quoted_printable("plain text"), "plain text");
        assert_eq!(quoted_printable("a=b é"), "a=3Db =C3=A9");
        assert_eq!(quoted_printable("trailing \nx\t"), "trailing=20\r\nx=09");
        assert_eq!(quoted_printable("a\r\nb\rc\n"), "a\r\nb\r\nc\r\n");
        let long = "x".repeat(80);
        assert_eq!(
            quoted_printable(&long),
            format!("{}=\r\n{}", "x".repeat(75), "x".repeat(5))
        );
        let encoded_at_end = format!("{}é", "x".repeat(73));
        assert_eq!(
            quoted_printable(&encoded_at_end),
            format!("{}=\r\n=C3=A9", "x".repeat(73))
        );
    }

    #[test]
    fn dates_are_rfc1123z() {
        assert_eq!(
            rfc1123z(1_709_287_200_123),
            "Fri, 01 Mar 2024 10:00:00 +0000"
        );
        assert_eq!(rfc1123z(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc1123z(951_782_400_000), "Tue, 29 Feb 2000 00:00:00 +0000");
    }

    #[test]
    fn address_lists() {
        assert_eq!(
            address_list("a@example.org"),
            Some(vec!["a@example.org".to_owned()])
        );
        assert_eq!(
            address_list(r#"Ops <ops@example.org>, "Doe, Jane" <jane@example.org>,b@x.y"#),
            Some(vec![
                "ops@example.org".to_owned(),
                "jane@example.org".to_owned(),
                "b@x.y".to_owned()
            ])
        );
        for bad in [
            "",
            "nobody",
            "a@",
            "@x",
            "a@x,",
            "Ops <ops@x",
            "a b@x",
            "\"a@x",
        ] {
            assert_eq!(address_list(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn messages_are_laid_out_as_alertmanagers() {
        let headers = [
            ("From".to_owned(), "Pharos <p@x>".to_owned()),
            ("Subject".to_owned(), "Ünïcode".to_owned()),
            ("To".to_owned(), "t@x".to_owned()),
        ];
        let m = compose(&Parts {
            headers: &headers,
            text: "hi",
            html: "<b>hi</b>",
            message_id: "<1.2@x>",
            date: "Fri, 01 Mar 2024 10:00:00 +0000",
            boundary: "b0",
        });
        assert_eq!(
            m,
            "From: Pharos <p@x>\r\nSubject: =?utf-8?q?=C3=9Cn=C3=AFcode?=\r\nTo: t@x\r\n\
             Message-Id: <1.2@x>\r\nDate: Fri, 01 Mar 2024 10:00:00 +0000\r\n\
             Content-Type: multipart/alternative;  boundary=b0\r\nMIME-Version: 1.0\r\n\r\n\
             --b0\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhi\
             \r\n--b0\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<b>hi</b>\
             \r\n--b0--\r\n"
        );
        // Only HTML (Alertmanager's default), and a Message-Id of the operator's.
        let headers = [("Message-Id".to_owned(), "<mine@x>".to_owned())];
        let m = compose(&Parts {
            headers: &headers,
            text: "",
            html: "h",
            message_id: "<1.2@x>",
            date: "d",
            boundary: "b",
        });
        assert_eq!(
            m,
            "Message-Id: <mine@x>\r\nDate: d\r\nContent-Type: multipart/alternative;  boundary=b\r\nMIME-Version: 1.0\r\n\r\n\
             --b\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: text/html; charset=UTF-8\r\n\r\nh\r\n--b--\r\n"
        );
    }
}
