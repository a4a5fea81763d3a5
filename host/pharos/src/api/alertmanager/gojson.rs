//! JSON as Go's `encoding/json` (Go 1.19, which Alertmanager 0.25 is built
//! with) writes and reads it, so answers and error messages are the same
//! bytes.
//!
//! - [`to_vec`]: serde serialization with Go's string escaping: `<`, `>`,
//!   `&`, U+2028 and U+2029 as `\u003c`…, control characters other than
//!   `\n`, `\r` and `\t` as `\u00XX`; followed by a newline, as Go's
//!   `json.Encoder` ends every value.
//! - [`decode`]: the first JSON value of a request body as a
//!   [`json.Decoder`] reads it: what follows the value is never looked at;
//!   an empty body is `Ok(None)` (Go's `io.EOF`); a syntax error has Go's
//!   message (`invalid character 'x' looking for beginning of value`,
//!   `unexpected EOF`). Invalid UTF-8 and lone surrogates in strings become
//!   U+FFFD, as in Go.
//!
//! [`json.Decoder`]: https://pkg.go.dev/encoding/json#Decoder

use std::io;

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter};

/// Serde's compact formatter with Go's escaping.
struct GoFormatter;

impl Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let esc = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            w.write_all(&fragment.as_bytes()[start..i])?;
            w.write_all(esc.as_bytes())?;
            start = i + c.len_utf8();
        }
        w.write_all(&fragment.as_bytes()[start..])
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        let byte = match escape {
            CharEscape::Quote => return w.write_all(b"\\\""),
            CharEscape::ReverseSolidus => return w.write_all(b"\\\\"),
            CharEscape::Solidus => return w.write_all(b"/"),
            CharEscape::LineFeed => return w.write_all(b"\\n"),
            CharEscape::CarriageReturn => return w.write_all(b"\\r"),
            CharEscape::Tab => return w.write_all(b"\\t"),
            CharEscape::Backspace => 0x08,
            CharEscape::FormFeed => 0x0c,
            CharEscape::AsciiControl(b) => b,
        };
        write!(w, "\\u{byte:04x}")
    }
}

/// `value` as Go's `json.Encoder` writes it (with the trailing newline).
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
    if let Err(e) = value.serialize(&mut ser) {
        // Our answer types are plain data: serializing cannot fail.
        tracing::error!(error = %e, "cannot serialize an Alertmanager API answer");
        out.clear();
        out.extend_from_slice(b"null");
    }
    out.push(b'\n');
    out
}

/// A decoded JSON value; objects keep their keys in document order
/// (duplicates included: Go applies them one after the other).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// The literal, as written.
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Go's name of the kind in `cannot unmarshal <kind> into …`.
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "bool",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        }
    }
}

/// Nesting accepted. Go's decoder accepts 10000 levels; this parser
/// recurses, and a request must not exhaust a worker thread's stack, so it
/// stops much earlier (Alertmanager's types nest four levels deep).
const MAX_DEPTH: usize = 512;

/// Decodes the first JSON value of `body`; `Ok(None)` when the body holds
/// only whitespace. The error is Go's message.
pub fn decode(body: &[u8]) -> Result<Option<Json>, String> {
    let mut p = Parser {
        s: body,
        i: 0,
        depth: 0,
    };
    p.skip_ws();
    if p.i >= p.s.len() {
        return Ok(None);
    }
    p.value().map(Some)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

/// Go's `quoteChar`: a byte as a single-quoted Go literal.
fn quote_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".to_owned(),
        b'"' => "'\"'".to_owned(),
        _ => {
            let inner = match c {
                0x07 => "\\a".to_owned(),
                0x08 => "\\b".to_owned(),
                0x0c => "\\f".to_owned(),
                b'\n' => "\\n".to_owned(),
                b'\r' => "\\r".to_owned(),
                b'\t' => "\\t".to_owned(),
                0x0b => "\\v".to_owned(),
                b'\\' => "\\\\".to_owned(),
                0x00..=0x1f | 0x7f => format!("\\x{c:02x}"),
                0x80..=0xa0 | 0xad => format!("\\u{c:04x}"),
                _ => char::from(c).to_string(),
            };
            format!("'{inner}'")
        }
    }
}

const EOF: &str = "unexpected EOF";

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn invalid(&self, c: u8, context: &str) -> String {
        format!("invalid character {} {context}", quote_char(c))
    }

    /// The next byte, or Go's EOF error.
    fn next_byte(&mut self) -> Result<u8, String> {
        let c = self.peek().ok_or_else(|| EOF.to_owned())?;
        self.i += 1;
        Ok(c)
    }

    fn value(&mut self) -> Result<Json, String> {
        self.skip_ws();
        let c = self.peek().ok_or_else(|| EOF.to_owned())?;
        match c {
            b'{' => {
                self.nest(c)?;
                self.i += 1;
                let v = self.object();
                self.depth -= 1;
                v
            }
            b'[' => {
                self.nest(c)?;
                self.i += 1;
                let v = self.array();
                self.depth -= 1;
                v
            }
            b'"' => {
                self.i += 1;
                self.string().map(Json::String)
            }
            b'-' | b'0'..=b'9' => self.number(),
            b't' => self.literal("true", Json::Bool(true)),
            b'f' => self.literal("false", Json::Bool(false)),
            b'n' => self.literal("null", Json::Null),
            c => Err(self.invalid(c, "looking for beginning of value")),
        }
    }

    /// Enters an object or array (`c`), refusing too deep a nesting with
    /// Go's message.
    fn nest(&mut self, c: u8) -> Result<(), String> {
        if self.depth >= MAX_DEPTH {
            return Err(self.invalid(c, "exceeded max depth"));
        }
        self.depth += 1;
        Ok(())
    }

    fn literal(&mut self, word: &str, v: Json) -> Result<Json, String> {
        self.i += 1;
        for expect in word.bytes().skip(1) {
            let c = self.next_byte()?;
            if c != expect {
                return Err(self.invalid(
                    c,
                    &format!("in literal {word} (expecting {})", quote_char(expect)),
                ));
            }
        }
        Ok(v)
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
            match self.peek() {
                Some(b'0'..=b'9') => {}
                Some(c) => return Err(self.invalid(c, "in numeric literal")),
                None => return Err(EOF.to_owned()),
            }
        }
        // A leading 0 ends the integer part.
        if self.peek() == Some(b'0') {
            self.i += 1;
        } else {
            self.digits();
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            match self.peek() {
                Some(b'0'..=b'9') => self.digits(),
                Some(c) => return Err(self.invalid(c, "after decimal point in numeric literal")),
                None => return Err(EOF.to_owned()),
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            match self.peek() {
                Some(b'0'..=b'9') => self.digits(),
                Some(c) => return Err(self.invalid(c, "in exponent of numeric literal")),
                None => return Err(EOF.to_owned()),
            }
        }
        let text = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        Ok(Json::Number(text))
    }

    fn hex4(&mut self) -> Result<u16, String> {
        let mut v: u16 = 0;
        for _ in 0..4 {
            let c = self.next_byte()?;
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return Err(self.invalid(c, "in \\u hexadecimal character escape")),
            };
            v = v * 16 + u16::from(d);
        }
        Ok(v)
    }

    /// After the opening quote.
    fn string(&mut self) -> Result<String, String> {
        let mut raw: Vec<u8> = Vec::new();
        loop {
            let c = self.next_byte()?;
            match c {
                b'"' => return Ok(String::from_utf8_lossy(&raw).into_owned()),
                b'\\' => {
                    let e = self.next_byte()?;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        e => return Err(self.invalid(e, "in string escape code")),
                    };
                    let mut buf = [0u8; 4];
                    raw.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                0x00..=0x1f => return Err(self.invalid(c, "in string literal")),
                c => raw.push(c),
            }
        }
    }

    /// After `\u`: one escape, or a surrogate pair; a lone surrogate is
    /// U+FFFD (and a following escape is read on its own).
    fn unicode_escape(&mut self) -> Result<char, String> {
        let hi = self.hex4()?;
        if !(0xd800..0xe000).contains(&hi) {
            return Ok(char::from_u32(u32::from(hi)).unwrap_or('\u{fffd}'));
        }
        if hi < 0xdc00 && self.s.get(self.i..self.i + 2) == Some(b"\\u") {
            let save = self.i;
            self.i += 2;
            let lo = self.hex4()?;
            if (0xdc00..0xe000).contains(&lo) {
                let cp = 0x10000 + ((u32::from(hi) - 0xd800) << 10) + (u32::from(lo) - 0xdc00);
                return Ok(char::from_u32(cp).unwrap_or('\u{fffd}'));
            }
            self.i = save;
        }
        Ok('\u{fffd}')
    }

    /// After `{`.
    fn object(&mut self) -> Result<Json, String> {
        let mut fields = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Json::Object(fields));
        }
        loop {
            self.skip_ws();
            match self.next_byte()? {
                b'"' => {}
                c => return Err(self.invalid(c, "looking for beginning of object key string")),
            }
            let key = self.string()?;
            self.skip_ws();
            match self.next_byte()? {
                b':' => {}
                c => return Err(self.invalid(c, "after object key")),
            }
            let v = self.value()?;
            fields.push((key, v));
            self.skip_ws();
            match self.next_byte()? {
                b',' => {}
                b'}' => return Ok(Json::Object(fields)),
                c => return Err(self.invalid(c, "after object key:value pair")),
            }
        }
    }

    /// After `[`.
    fn array(&mut self) -> Result<Json, String> {
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value()?);
            self.skip_ws();
            match self.next_byte()? {
                b',' => {}
                b']' => return Ok(Json::Array(items)),
                c => return Err(self.invalid(c, "after array element")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: &str) -> String {
        match decode(body.as_bytes()) {
            Err(e) => e,
            Ok(v) => panic!("{body}: decoded as {v:?}"),
        }
    }

    #[test]
    fn syntax_errors_read_as_gos() {
        // Recorded from Alertmanager 0.25 (`parsing alerts body … because …`).
        for (body, msg) in [
            (r#"[{"labels":"#, "unexpected EOF"),
            (r#"{"a":1"#, "unexpected EOF"),
            (
                r#"[{"labels" {}}]"#,
                "invalid character '{' after object key",
            ),
            (
                r#"[{"labels":{"a":"b"} "x":1}]"#,
                "invalid character '\"' after object key:value pair",
            ),
            (
                r#"[{"labels":{"a":"b"}} {}]"#,
                "invalid character '{' after array element",
            ),
            (
                "[{labels:{}}]",
                "invalid character 'l' looking for beginning of object key string",
            ),
            (
                "[{\"labels\":{\"a\":\"b\nc\"}}]",
                "invalid character '\\n' in string literal",
            ),
            (
                "[{\"labels\":{\"a\":\"\x01\"}}]",
                "invalid character '\\x01' in string literal",
            ),
            (
                r#"[{"labels":{"a":"b"}},]"#,
                "invalid character ']' looking for beginning of value",
            ),
            ("[01]", "invalid character '1' after array element"),
            ("[-]", "invalid character ']' in numeric literal"),
            (
                "[1.]",
                "invalid character ']' after decimal point in numeric literal",
            ),
            (
                "[1e]",
                "invalid character ']' in exponent of numeric literal",
            ),
            (
                "[tru]",
                "invalid character ']' in literal true (expecting 'e')",
            ),
            (
                "nope",
                "invalid character 'o' in literal null (expecting 'u')",
            ),
            (r#"["\x"]"#, "invalid character 'x' in string escape code"),
        ] {
            assert_eq!(err(body), msg, "{body}");
        }
    }

    #[test]
    fn only_the_first_value_is_read() {
        assert_eq!(
            decode(br#"[{"a":"b"}] xyz"#),
            Ok(Some(Json::Array(vec![Json::Object(vec![(
                "a".into(),
                Json::String("b".into())
            )])])))
        );
        assert_eq!(decode(b"  \n"), Ok(None));
        assert_eq!(decode(b""), Ok(None));
    }

    #[test]
    fn deep_nesting_is_refused_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert_eq!(
            decode(deep.as_bytes()),
            Err("invalid character '[' exceeded max depth".to_owned())
        );
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(decode(ok.as_bytes()).is_ok());
    }

    #[test]
    fn strings_decode_as_go() {
        assert_eq!(
            decode(br#""\ud800x\u00e9\ud83d\ude00\/""#),
            Ok(Some(Json::String("\u{fffd}xé😀/".into())))
        );
        assert_eq!(
            decode(b"\"a\xffb\""),
            Ok(Some(Json::String("a\u{fffd}b".into())))
        );
    }

    #[test]
    fn encodes_as_go() {
        let v = serde_json::json!({"b": "<a>&b é \u{2028} \u{1} \u{7f} \u{8}\u{c}\n\t\"\\"});
        assert_eq!(
            String::from_utf8(to_vec(&v)).unwrap_or_default(),
            "{\"b\":\"\\u003ca\\u003e\\u0026b é \\u2028 \\u0001 \u{7f} \\u0008\\u000c\\n\\t\\\"\\\\\"}\n"
        );
    }
}
