//! The Prometheus text format 0.0.4, accepted as Prometheus 2.42's scraper
//! (`textparse.PromParser`) accepts it.
//!
//! - Lines end with `\n`; the last one may lack it. Blank lines and lines of
//!   blanks are skipped. A carriage return is not a blank, so CRLF bodies
//!   fail (on the value, as in Prometheus).
//! - `# HELP name text` and `# TYPE name type` are metadata when `HELP` or
//!   `TYPE` follows `#` and blanks and is followed by a blank; any other
//!   line starting with `#` is a comment (even `#HELP`, or `# HELP` alone).
//!   One blank separates the name from the text; further blanks belong to
//!   the text. Help text must be UTF-8 and has `\\` and `\n` unescaped.
//!   Types are `counter`, `gauge`, `histogram`, `summary`, `untyped`.
//! - A sample is `name`, optionally `{labels}`, a value, optionally an
//!   integer millisecond timestamp, separated by spaces or tabs. Blanks may
//!   surround every token inside the braces; a comma after a label pair is
//!   optional, so `{a="1",}` and `{a="1" b="2"}` are accepted. Label values
//!   may contain escapes and even raw line breaks, and must be UTF-8.
//! - Nothing checks that `# TYPE` comes before its samples, that a family
//!   is not split, or that a series is not repeated: Prometheus 2.42 does
//!   not either (its storage later drops duplicate samples).
//!
//! Differences from Prometheus 2.42, both refusing what it accepts only by
//! accident (listed in `testdata/deviations.txt`): a NUL byte is an error,
//! where Prometheus' lexer takes it for the end of the body and ignores the
//! rest; `# HELP a-b x` is an error, where Prometheus records help `b x`
//! for metric `a`. Blanks before a metric name fail in both, here with an
//! error saying so (Prometheus reports an invalid metric name `"  a"`).

use std::borrow::Cow;

use crate::entry::{Entry, MetricType, Sample};
use crate::error::{ParseError, ParseErrorKind};
use crate::lex::{Cursor, is_metric_start, unescape_help};
use crate::number::{NumberError, parse_int_timestamp, parse_value};

/// Pull parser for the Prometheus text format. Iterate it to get entries;
/// after the first error it yields nothing more.
pub struct PromTextParser<'a> {
    cur: Cursor<'a>,
    done: bool,
}

impl<'a> PromTextParser<'a> {
    pub fn new(body: &'a [u8]) -> Self {
        PromTextParser {
            cur: Cursor::new(body),
            done: false,
        }
    }

    /// The next entry, `Ok(None)` at the end of the body.
    pub fn next_entry(&mut self) -> Result<Option<Entry<'a>>, ParseError> {
        if self.done {
            return Ok(None);
        }
        let r = self.entry();
        if !matches!(r, Ok(Some(_))) {
            self.done = true;
        }
        r
    }

    fn entry(&mut self) -> Result<Option<Entry<'a>>, ParseError> {
        loop {
            let Some(b) = self.cur.peek() else {
                return Ok(None);
            };
            if is_metric_start(b) {
                return self.sample().map(Some);
            }
            match b {
                b'\n' => self.cur.newline(),
                b'#' => return self.comment().map(Some),
                b' ' | b'\t' => {
                    let blank = self.cur.pos;
                    self.cur.skip_blanks();
                    match self.cur.peek() {
                        None | Some(b'\n' | b'#') => {}
                        Some(b) if is_metric_start(b) => {
                            // Prometheus fails these too, on the name.
                            self.cur.pos = blank;
                            return Err(self
                                .cur
                                .unexpected("metric name at the start of the line"));
                        }
                        Some(_) => return Err(self.cur.unexpected("metric name or comment")),
                    }
                }
                _ => return Err(self.cur.unexpected("metric name or comment")),
            }
        }
    }

    /// Consumes the line break ending an entry, if there is one.
    fn end_line(&mut self) {
        if self.cur.peek() == Some(b'\n') {
            self.cur.newline();
        }
    }

    fn comment(&mut self) -> Result<Entry<'a>, ParseError> {
        let start = self.cur.pos;
        self.cur.pos += 1;
        if matches!(self.cur.peek(), Some(b' ' | b'\t')) {
            self.cur.skip_blanks();
            let rest = self.cur.rest();
            let keyword =
                |kw: &[u8]| rest.starts_with(kw) && matches!(rest.get(4), Some(b' ' | b'\t'));
            if keyword(b"HELP") {
                self.cur.pos += 4;
                return self.metadata(true);
            }
            if keyword(b"TYPE") {
                self.cur.pos += 4;
                return self.metadata(false);
            }
        }
        self.cur.pos = start;
        let (start, end) = self.cur.until_eol();
        self.end_line();
        Ok(Entry::Comment(&self.cur.buf[start..end]))
    }

    fn metadata(&mut self, help: bool) -> Result<Entry<'a>, ParseError> {
        self.cur.skip_blanks();
        let start = self.cur.pos;
        let Some(end) = self.cur.metric_name() else {
            return Err(self.cur.unexpected(if help {
                "metric name after HELP"
            } else {
                "metric name after TYPE"
            }));
        };
        let metric = self.cur.str(start, end).unwrap_or_default();
        let (start, end) = match self.cur.peek() {
            None | Some(b'\n') => (end, end),
            Some(b' ' | b'\t') => {
                self.cur.pos += 1;
                self.cur.until_eol()
            }
            Some(_) => {
                return Err(self.cur.unexpected(if help {
                    "blank after metric name in HELP"
                } else {
                    "blank after metric name in TYPE"
                }));
            }
        };
        let entry = if help {
            let text = self
                .cur
                .str(start, end)
                .ok_or_else(|| self.cur.error(ParseErrorKind::InvalidUtf8("help text")))?;
            let text = if text.contains('\\') {
                Cow::Owned(unescape_help(text))
            } else {
                Cow::Borrowed(text)
            };
            Entry::Help { metric, text }
        } else {
            let text = &self.cur.buf[start..end];
            let metric_type = match text {
                b"counter" => MetricType::Counter,
                b"gauge" => MetricType::Gauge,
                b"histogram" => MetricType::Histogram,
                b"summary" => MetricType::Summary,
                b"untyped" => MetricType::Unknown,
                _ => {
                    return Err(self
                        .cur
                        .error(ParseErrorKind::InvalidMetricType(text.to_vec())));
                }
            };
            Entry::Type {
                metric,
                metric_type,
            }
        };
        self.end_line();
        Ok(entry)
    }

    fn sample(&mut self) -> Result<Entry<'a>, ParseError> {
        let line = self.cur.line;
        let start = self.cur.pos;
        // The caller saw a name start, so this consumes at least one byte.
        let name_end = self.cur.metric_name().unwrap_or(start);
        self.cur.skip_blanks();
        let (series_end, labels) = if self.cur.peek() == Some(b'{') {
            let open = self.cur.pos + 1;
            self.labels()?;
            (self.cur.pos, (open, self.cur.pos - 1))
        } else {
            (name_end, (name_end, name_end))
        };
        let series = self
            .cur
            .str(start, series_end)
            .ok_or_else(|| self.cur.error(ParseErrorKind::InvalidUtf8("label value")))?;
        self.cur.skip_blanks();
        let tok = self.cur.token(b"{ \t\n");
        if tok.is_empty() {
            return Err(self.cur.unexpected("value after metric"));
        }
        let value = parse_value(tok).map_err(|e| self.number_error(e, "value", tok))?;
        self.cur.skip_blanks();
        let timestamp = match self.cur.peek() {
            None | Some(b'\n') => None,
            Some(b) if b.is_ascii_digit() => {
                let tok = self.cur.token(b" \t\n");
                let ts =
                    parse_int_timestamp(tok).map_err(|e| self.number_error(e, "timestamp", tok))?;
                self.cur.skip_blanks();
                if !matches!(self.cur.peek(), None | Some(b'\n')) {
                    return Err(self.cur.unexpected("end of line after timestamp"));
                }
                Some(ts)
            }
            Some(_) => return Err(self.cur.unexpected("timestamp or end of line after value")),
        };
        self.end_line();
        Ok(Entry::Sample(Sample {
            series,
            name: &series[..name_end - start],
            value,
            timestamp,
            exemplar: None,
            line,
            label_text: series.get(labels.0 - start..labels.1 - start).unwrap_or(""),
        }))
    }

    /// Consumes `{...}`, the cursor on `{`.
    fn labels(&mut self) -> Result<(), ParseError> {
        self.cur.pos += 1;
        loop {
            self.cur.skip_blanks();
            if self.cur.peek() == Some(b'}') {
                self.cur.pos += 1;
                return Ok(());
            }
            if self.cur.label_name().is_none() {
                return Err(self.cur.unexpected("label name"));
            }
            self.cur.skip_blanks();
            if self.cur.peek() != Some(b'=') {
                return Err(self.cur.unexpected("\"=\" after label name"));
            }
            self.cur.pos += 1;
            self.cur.skip_blanks();
            if self.cur.peek() != Some(b'"') {
                return Err(self.cur.unexpected("quoted label value"));
            }
            self.cur.quoted(true)?;
            self.cur.skip_blanks();
            if self.cur.peek() == Some(b',') {
                self.cur.pos += 1;
            }
        }
    }

    fn number_error(&self, e: NumberError, what: &'static str, tok: &[u8]) -> ParseError {
        let text = tok.to_vec();
        self.cur.error(match e {
            NumberError::Invalid => ParseErrorKind::InvalidNumber { what, text },
            NumberError::OutOfRange => ParseErrorKind::NumberOutOfRange { what, text },
        })
    }
}

impl<'a> Iterator for PromTextParser<'a> {
    type Item = Result<Entry<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_entry().transpose()
    }
}

impl std::iter::FusedIterator for PromTextParser<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::number::NORMAL_NAN_BITS;

    #[test]
    fn nan_is_never_the_stale_marker() {
        let mut p = PromTextParser::new(b"a NaN\n");
        match p.next() {
            Some(Ok(Entry::Sample(s))) => assert_eq!(s.value.to_bits(), NORMAL_NAN_BITS),
            other => panic!("{other:?}"),
        }
        assert!(!pharos_model::is_stale_nan(f64::from_bits(NORMAL_NAN_BITS)));
    }

    #[test]
    fn stops_after_the_first_error() {
        let mut p = PromTextParser::new(b"a 1\nb x\nc 3\n");
        assert!(matches!(p.next(), Some(Ok(_))));
        assert!(matches!(p.next(), Some(Err(e)) if e.line == 2));
        assert!(p.next().is_none());
        assert!(p.next().is_none());
    }

    #[test]
    fn huge_inputs() {
        // Many lines: line numbers keep counting.
        let mut body = String::new();
        for i in 0..200_000 {
            body.push_str(&format!("m{{i=\"{i}\"}} {i}\n"));
        }
        body.push_str("bad{\n");
        let mut p = PromTextParser::new(body.as_bytes());
        let samples = p.by_ref().take_while(Result::is_ok).count();
        assert_eq!(samples, 200_000);
        // The error came from the take_while; the parser is done.
        assert!(p.next().is_none());
        let err = PromTextParser::new(body.as_bytes()).find_map(Result::err);
        assert_eq!(err.map(|e| e.line), Some(200_001));

        // One huge label value and a huge help text.
        let big = "x".repeat(4 << 20);
        let body = format!("# HELP m {big}\nm{{v=\"{big}\"}} 1\n");
        let entries: Vec<_> = PromTextParser::new(body.as_bytes()).collect();
        assert!(matches!(&entries[0], Ok(Entry::Help { text, .. }) if text.len() == big.len()));
        match &entries[1] {
            Ok(Entry::Sample(s)) => {
                assert_eq!(s.series.len(), big.len() + 7);
                assert_eq!(
                    s.labels().ok().and_then(|l| l.get("v").map(str::len)),
                    Some(big.len())
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
