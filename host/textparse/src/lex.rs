//! The byte cursor both parsers share: character classes, names, quoted
//! label values, and descriptions of unexpected input for errors.
//!
//! Names follow Prometheus' lexers: metric names `[a-zA-Z_:][a-zA-Z0-9_:]*`,
//! label names `[a-zA-Z_][a-zA-Z0-9_]*`. A label value is a double-quoted
//! string in which a backslash escapes any one character but a line break.

use crate::error::{Found, ParseError, ParseErrorKind};

const METRIC_START: u8 = 1;
const METRIC_CONT: u8 = 2;
const LABEL_START: u8 = 4;
const LABEL_CONT: u8 = 8;
/// Bytes a quoted label value must stop at: `"`, `\` and the line break.
const QUOTE_STOP: u8 = 16;
/// Bytes of a "word" when describing unexpected input.
const WORD: u8 = 32;

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let alpha = c.is_ascii_alphabetic() || c == b'_';
        let digit = c.is_ascii_digit();
        let mut f = 0;
        if alpha || c == b':' {
            f |= METRIC_START | METRIC_CONT;
        }
        if digit {
            f |= METRIC_CONT | LABEL_CONT;
        }
        if alpha {
            f |= LABEL_START | LABEL_CONT;
        }
        if c == b'"' || c == b'\\' || c == b'\n' {
            f |= QUOTE_STOP;
        }
        if alpha || digit || matches!(c, b':' | b'.' | b'+' | b'-') {
            f |= WORD;
        }
        t[b] = f;
        b += 1;
    }
    t
};

#[inline]
fn is(b: u8, class: u8) -> bool {
    CLASS[b as usize] & class != 0
}

/// Whether `b` can start a metric name.
#[inline]
pub(crate) fn is_metric_start(b: u8) -> bool {
    is(b, METRIC_START)
}

/// Where the cursor is in the body: a byte offset and the 1-based line.
pub(crate) struct Cursor<'a> {
    pub buf: &'a [u8],
    pub pos: usize,
    pub line: usize,
    /// A stretch of `buf` known to be UTF-8, starting at `utf8_from`: the
    /// body is checked once, not piece by piece (see [`Cursor::str`]).
    utf8: &'a str,
    utf8_from: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        let mut cur = Cursor {
            buf,
            pos: 0,
            line: 1,
            utf8: "",
            utf8_from: 0,
        };
        cur.check_utf8_from(0);
        cur
    }

    /// Makes the UTF-8 stretch the longest valid one starting at `start`.
    fn check_utf8_from(&mut self, start: usize) {
        let rest = self.buf.get(start..).unwrap_or_default();
        let valid = match std::str::from_utf8(rest) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&rest[..e.valid_up_to()]).unwrap_or_default(),
        };
        self.utf8 = valid;
        self.utf8_from = start;
    }

    /// `buf[start..end]` as text, or `None` if it is not UTF-8. A valid body
    /// is checked once, when the cursor is made; past a byte that is not
    /// UTF-8 (allowed in text-format comments) the check resumes where text
    /// is next needed, so every byte is checked about once.
    #[inline]
    pub fn str(&mut self, start: usize, end: usize) -> Option<&'a str> {
        let window = self.utf8_from..=self.utf8_from + self.utf8.len();
        if !(window.contains(&start) && window.contains(&end)) {
            self.check_utf8_from(start);
        }
        self.utf8
            .get(start - self.utf8_from..end.checked_sub(self.utf8_from)?)
    }

    #[inline]
    pub fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    #[inline]
    pub fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// Skips spaces and tabs.
    #[inline]
    pub fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// Consumes a line break; the cursor must be on one.
    #[inline]
    pub fn newline(&mut self) {
        self.pos += 1;
        self.line += 1;
    }

    /// Consumes a metric name and returns its end, or `None` (consuming
    /// nothing) if none starts here.
    #[inline]
    pub fn metric_name(&mut self) -> Option<usize> {
        self.name(METRIC_START, METRIC_CONT)
    }

    /// Consumes a label name and returns its end, or `None`.
    #[inline]
    pub fn label_name(&mut self) -> Option<usize> {
        self.name(LABEL_START, LABEL_CONT)
    }

    #[inline]
    fn name(&mut self, start: u8, cont: u8) -> Option<usize> {
        if !self.peek().is_some_and(|b| is(b, start)) {
            return None;
        }
        self.pos += 1;
        while self.peek().is_some_and(|b| is(b, cont)) {
            self.pos += 1;
        }
        Some(self.pos)
    }

    /// Consumes a run of bytes that are none of `stops` and returns it.
    #[inline]
    pub fn token(&mut self, stops: &[u8]) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(|b| !stops.contains(&b)) {
            self.pos += 1;
        }
        &self.buf[start..self.pos]
    }

    /// Consumes the rest of the line and returns its span, not including
    /// its line break, which is left under the cursor (if any).
    pub fn until_eol(&mut self) -> (usize, usize) {
        let start = self.pos;
        let rest = self.rest();
        self.pos += memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        (start, self.pos)
    }

    /// Consumes a double-quoted label value, the cursor on its opening
    /// quote. Line breaks inside it are allowed only if `multiline` (the
    /// text format allows them; OpenMetrics does not). Returns whether it
    /// has a backslash escape.
    #[inline]
    pub fn quoted(&mut self, multiline: bool) -> Result<bool, ParseError> {
        self.pos += 1;
        let mut escaped = false;
        loop {
            while self.peek().is_some_and(|b| !is(b, QUOTE_STOP)) {
                self.pos += 1;
            }
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(escaped);
                }
                Some(b'\\') => match self.buf.get(self.pos + 1) {
                    Some(b'\n') | None => {
                        self.pos += 1;
                        return Err(self.unexpected("escaped character after backslash"));
                    }
                    Some(_) => {
                        escaped = true;
                        self.pos += 2;
                    }
                },
                Some(_) if multiline => self.newline(),
                _ => return Err(self.unexpected("closing quote of label value")),
            }
        }
    }

    /// An error at the current line.
    pub fn error(&self, kind: ParseErrorKind) -> ParseError {
        ParseError {
            line: self.line,
            kind,
        }
    }

    /// "expected `expected`, got `<what is under the cursor>`".
    pub fn unexpected(&self, expected: &'static str) -> ParseError {
        self.error(ParseErrorKind::Unexpected {
            expected,
            found: self.found(),
        })
    }

    /// Describes what is under the cursor: end of input or line, a word
    /// (letters, digits and `_:.+-`, at most 32 bytes), or one character.
    pub fn found(&self) -> Found {
        let rest = self.rest();
        match rest.first() {
            None => Found::EndOfInput,
            Some(b'\n') => Found::EndOfLine,
            Some(&b) if is(b, WORD) => {
                let n = rest.iter().take(32).take_while(|&&b| is(b, WORD)).count();
                Found::Text(rest[..n].to_vec())
            }
            Some(&b) => {
                // One UTF-8 character, or one byte if it is not UTF-8.
                let n = match b {
                    0xc0..=0xdf => 2,
                    0xe0..=0xef => 3,
                    0xf0..=0xf7 => 4,
                    _ => 1,
                };
                let n = if rest.len() >= n && std::str::from_utf8(&rest[..n]).is_ok() {
                    n
                } else {
                    1
                };
                Found::Text(rest[..n].to_vec())
            }
        }
    }
}

/// Iterates the label pairs of a label set already checked by a parser:
/// the text between the braces, with blanks and commas between pairs.
/// Values are unescaped (`\\`, `\"`, `\n`; any other backslash pair is
/// kept as written, as Prometheus does).
pub(crate) fn next_pair<'a>(text: &mut &'a str) -> Option<(&'a str, &'a str, bool)> {
    let s = text.trim_start_matches([' ', '\t', ',']);
    let eq = s.find('=')?;
    let name = s[..eq].trim_end_matches([' ', '\t']);
    let after = s[eq + 1..].trim_start_matches([' ', '\t']);
    let body = after.strip_prefix('"')?;
    let bytes = body.as_bytes();
    let mut i = 0;
    let mut escaped = false;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => break,
            b'\\' => {
                escaped = true;
                i += 2;
            }
            _ => i += 1,
        }
    }
    let i = i.min(bytes.len());
    let value = body.get(..i)?;
    *text = body.get(i + 1..).unwrap_or("");
    Some((name, value, escaped))
}

/// Undoes label-value escapes: `\\`, `\"` and `\n`; other pairs stay.
pub(crate) fn unescape_label_value(v: &str) -> String {
    unescape(v, true)
}

/// Undoes text-format help escapes: `\\` and `\n` (`\"` stays, as in
/// Prometheus).
pub(crate) fn unescape_help(v: &str) -> String {
    unescape(v, false)
}

fn unescape(v: &str, quote: bool) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if quote => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_like_prometheus() {
        assert_eq!(
            unescape_label_value(r#"a\\b\"c\nd\te\"#),
            "a\\b\"c\nd\\te\\"
        );
        assert_eq!(unescape_help(r#"a\\b\"c\nd"#), "a\\b\\\"c\nd");
    }

    #[test]
    fn pairs_skip_blanks_and_commas() {
        let mut t = r#" a = "1" ,b="x\"y" c="",  "#;
        assert_eq!(next_pair(&mut t), Some(("a", "1", false)));
        assert_eq!(next_pair(&mut t), Some(("b", r#"x\"y"#, true)));
        assert_eq!(next_pair(&mut t), Some(("c", "", false)));
        assert_eq!(next_pair(&mut t), None);
    }

    #[test]
    fn str_checks_utf8_across_invalid_bytes() {
        let body = "ab\u{e9}c\n"
            .as_bytes()
            .iter()
            .chain(b"#\xff\nxy\xc3\xa9z\n\xfe")
            .copied();
        let body: Vec<u8> = body.collect();
        let mut cur = Cursor::new(&body);
        assert_eq!(cur.str(0, 5), Some("ab\u{e9}c"));
        assert_eq!(cur.str(2, 4), Some("\u{e9}"));
        assert_eq!(cur.str(2, 3), None, "not a character boundary");
        assert_eq!(cur.str(6, 8), None, "0xff");
        assert_eq!(cur.str(9, 14), Some("xy\u{e9}z"));
        assert_eq!(cur.str(0, 2), Some("ab"), "going back");
        assert_eq!(cur.str(14, 16), None, "0xfe at the end");
        assert_eq!(cur.str(16, 16), Some(""));
    }

    #[test]
    fn found_describes_words_and_characters() {
        let at = |s: &'static [u8]| Cursor::new(s).found();
        assert_eq!(at(b""), Found::EndOfInput);
        assert_eq!(at(b"\nx"), Found::EndOfLine);
        assert_eq!(at(b"1a.b c"), Found::Text(b"1a.b".to_vec()));
        assert_eq!(at(b"}x"), Found::Text(b"}".to_vec()));
        assert_eq!(at("é1".as_bytes()), Found::Text("é".as_bytes().to_vec()));
        assert_eq!(at(b"\xff\xfe"), Found::Text(b"\xff".to_vec()));
        assert_eq!(at(&[b'a'; 40]), Found::Text(vec![b'a'; 32]));
    }
}
