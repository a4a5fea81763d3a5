//! OpenMetrics 1.0 text, accepted as Prometheus 2.42's scraper
//! (`textparse.OpenMetricsParser`) accepts it.
//!
//! - Every line ends with `\n`. The body must end with `# EOF` (its line
//!   break optional) and nothing may follow it. Blank lines, leading
//!   blanks, tabs and comments other than `# HELP`, `# TYPE`, `# UNIT`,
//!   `# EOF` are errors.
//! - Tokens are separated by exactly one space. `# HELP name text`: the
//!   text is everything after that space (possibly empty), UTF-8, with
//!   `\\`, `\n` and `\"` unescaped. Types are `counter`, `gauge`,
//!   `histogram`, `gaugehistogram`, `summary`, `info`, `stateset`,
//!   `unknown`. A non-empty `# UNIT` must be a suffix `_<unit>` of the
//!   metric name.
//! - Label sets have no blanks, commas only between pairs (no trailing
//!   comma), values without raw line breaks, and must be UTF-8.
//! - Timestamps are float seconds (not NaN or infinite), reported in
//!   milliseconds truncated toward zero.
//! - An exemplar ` # {labels} value [timestamp]` may follow the value or
//!   the timestamp of series named `*_total` or `*_bucket` only (Prometheus
//!   2.42 checks the name, not the family's type).
//! - `_created`, `_gcount`, `_gsum`, `_info` and stateset series are plain
//!   samples. As in Prometheus 2.42, nothing checks family order, `TYPE`
//!   before samples, suffixes against types, or repeated series.

use std::borrow::Cow;

use crate::entry::{Entry, Exemplar, MetricType, Sample};
use crate::error::{ParseError, ParseErrorKind};
use crate::lex::{Cursor, is_metric_start, unescape_label_value};
use crate::number::{NumberError, parse_float_timestamp, parse_value};

/// Pull parser for OpenMetrics text. Iterate it to get entries; after the
/// first error (a missing `# EOF` is one) it yields nothing more.
pub struct OpenMetricsParser<'a> {
    cur: Cursor<'a>,
    done: bool,
}

#[derive(Clone, Copy)]
enum Meta {
    Help,
    Type,
    Unit,
}

impl<'a> OpenMetricsParser<'a> {
    pub fn new(body: &'a [u8]) -> Self {
        OpenMetricsParser {
            cur: Cursor::new(body),
            done: false,
        }
    }

    /// The next entry, `Ok(None)` after `# EOF`.
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
        match self.cur.peek() {
            None => Err(self.cur.error(ParseErrorKind::MissingEof)),
            Some(b) if is_metric_start(b) => self.sample().map(Some),
            Some(b'#') => self.comment(),
            Some(b'\n') => Err(self.cur.error(ParseErrorKind::BlankLine)),
            Some(_) => Err(self.cur.unexpected("metric name or comment")),
        }
    }

    /// Ends a line: a line break, or the end of the body (which lacks
    /// `# EOF`, since that was not this line).
    fn end_line(&mut self, expected: &'static str) -> Result<(), ParseError> {
        match self.cur.peek() {
            Some(b'\n') => {
                self.cur.newline();
                Ok(())
            }
            None => Err(self.cur.error(ParseErrorKind::MissingEof)),
            Some(_) => Err(self.cur.unexpected(expected)),
        }
    }

    fn comment(&mut self) -> Result<Option<Entry<'a>>, ParseError> {
        let rest = self.cur.rest();
        let meta = if rest.starts_with(b"# HELP ") {
            Meta::Help
        } else if rest.starts_with(b"# TYPE ") {
            Meta::Type
        } else if rest.starts_with(b"# UNIT ") {
            Meta::Unit
        } else if rest.starts_with(b"# EOF") {
            self.cur.pos += 5;
            if self.cur.peek() == Some(b'\n') {
                self.cur.newline();
            }
            if self.cur.peek().is_some() {
                return Err(self.cur.error(ParseErrorKind::DataAfterEof));
            }
            return Ok(None);
        } else {
            return Err(self.cur.error(ParseErrorKind::UnexpectedComment));
        };
        self.cur.pos += 7;
        self.metadata(meta).map(Some)
    }

    fn metadata(&mut self, meta: Meta) -> Result<Entry<'a>, ParseError> {
        let start = self.cur.pos;
        let Some(end) = self.cur.metric_name() else {
            return Err(self.cur.unexpected(match meta {
                Meta::Help => "metric name after HELP",
                Meta::Type => "metric name after TYPE",
                Meta::Unit => "metric name after UNIT",
            }));
        };
        let metric = self.cur.str(start, end).unwrap_or_default();
        if self.cur.peek() != Some(b' ') {
            return Err(self.cur.unexpected(match meta {
                Meta::Help => "\" \" after metric name in HELP",
                Meta::Type => "\" \" after metric name in TYPE",
                Meta::Unit => "\" \" after metric name in UNIT",
            }));
        }
        self.cur.pos += 1;
        let (start, end) = self.cur.until_eol();
        let text = &self.cur.buf[start..end];
        let entry = match meta {
            Meta::Help => {
                let text = self
                    .cur
                    .str(start, end)
                    .ok_or_else(|| self.cur.error(ParseErrorKind::InvalidUtf8("help text")))?;
                let text = if text.contains('\\') {
                    Cow::Owned(unescape_label_value(text))
                } else {
                    Cow::Borrowed(text)
                };
                Entry::Help { metric, text }
            }
            Meta::Type => {
                let metric_type = match text {
                    b"counter" => MetricType::Counter,
                    b"gauge" => MetricType::Gauge,
                    b"histogram" => MetricType::Histogram,
                    b"gaugehistogram" => MetricType::GaugeHistogram,
                    b"summary" => MetricType::Summary,
                    b"info" => MetricType::Info,
                    b"stateset" => MetricType::Stateset,
                    b"unknown" => MetricType::Unknown,
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
            }
            Meta::Unit => match self.cur.str(start, end) {
                Some(unit)
                    if unit.is_empty()
                        || metric.strip_suffix(unit).is_some_and(|m| m.ends_with('_')) =>
                {
                    Entry::Unit { metric, unit }
                }
                _ => {
                    return Err(self.cur.error(ParseErrorKind::UnitNotSuffix {
                        unit: String::from_utf8_lossy(text).into_owned(),
                        metric: metric.to_string(),
                    }));
                }
            },
        };
        self.end_line("end of line")?;
        Ok(entry)
    }

    fn sample(&mut self) -> Result<Entry<'a>, ParseError> {
        let line = self.cur.line;
        let start = self.cur.pos;
        let name_end = self.cur.metric_name().unwrap_or(start);
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
        let name = &series[..name_end - start];
        self.space("value after metric")?;
        let value = self.number("value after metric", "value", parse_value)?;
        let mut timestamp = None;
        let mut exemplar = None;
        if self.at_exemplar() {
            exemplar = Some(self.exemplar(name)?);
        } else if self.cur.peek() == Some(b' ') {
            self.cur.pos += 1;
            timestamp = Some(self.number(
                "timestamp or exemplar after value",
                "timestamp",
                parse_float_timestamp,
            )?);
            if self.at_exemplar() {
                exemplar = Some(self.exemplar(name)?);
            }
        }
        self.end_line(if timestamp.is_some() {
            "end of line or exemplar after timestamp"
        } else {
            "timestamp or exemplar after value"
        })?;
        Ok(Entry::Sample(Sample {
            series,
            name,
            value,
            timestamp,
            exemplar,
            line,
            label_text: series.get(labels.0 - start..labels.1 - start).unwrap_or(""),
        }))
    }

    /// Consumes the single space before a value, or fails with `expected`.
    fn space(&mut self, expected: &'static str) -> Result<(), ParseError> {
        if self.cur.peek() != Some(b' ') {
            return Err(self.cur.unexpected(expected));
        }
        self.cur.pos += 1;
        Ok(())
    }

    /// Consumes a token up to a space or line break and parses it; an empty
    /// token fails with `expected`, a bad one names it as `what`.
    fn number<T>(
        &mut self,
        expected: &'static str,
        what: &'static str,
        parse: fn(&[u8]) -> Result<T, NumberError>,
    ) -> Result<T, ParseError> {
        let tok = self.cur.token(b" \n");
        if tok.is_empty() {
            return Err(self.cur.unexpected(expected));
        }
        parse(tok).map_err(|e| {
            let text = tok.to_vec();
            self.cur.error(match e {
                NumberError::Invalid => ParseErrorKind::InvalidNumber { what, text },
                NumberError::OutOfRange => ParseErrorKind::NumberOutOfRange { what, text },
            })
        })
    }

    fn at_exemplar(&self) -> bool {
        self.cur.rest().starts_with(b" # {")
    }

    /// Consumes ` # {labels} value [timestamp]`, the cursor on the first
    /// space.
    fn exemplar(&mut self, name: &str) -> Result<Exemplar<'a>, ParseError> {
        if !(name.ends_with("_total") || name.ends_with("_bucket")) {
            return Err(self
                .cur
                .error(ParseErrorKind::ExemplarNotAllowed(name.to_string())));
        }
        self.cur.pos += 3;
        let open = self.cur.pos;
        self.labels()?;
        let text = self
            .cur
            .str(open, self.cur.pos)
            .ok_or_else(|| self.cur.error(ParseErrorKind::InvalidUtf8("label value")))?;
        self.space("value after exemplar labels")?;
        let value = self.number("value after exemplar labels", "exemplar value", parse_value)?;
        let mut timestamp = None;
        if self.cur.peek() == Some(b' ') {
            self.cur.pos += 1;
            timestamp = Some(self.number(
                "exemplar timestamp",
                "exemplar timestamp",
                parse_float_timestamp,
            )?);
        }
        if !matches!(self.cur.peek(), None | Some(b'\n')) {
            return Err(self.cur.unexpected(if timestamp.is_some() {
                "end of line after exemplar timestamp"
            } else {
                "exemplar timestamp or end of line"
            }));
        }
        Ok(Exemplar {
            text,
            value,
            timestamp,
            label_text: text.get(1..text.len() - 1).unwrap_or(""),
        })
    }

    /// Consumes `{...}`, the cursor on `{`.
    fn labels(&mut self) -> Result<(), ParseError> {
        self.cur.pos += 1;
        if self.cur.peek() == Some(b'}') {
            self.cur.pos += 1;
            return Ok(());
        }
        let mut expected = "label name or \"}\"";
        loop {
            if self.cur.label_name().is_none() {
                return Err(self.cur.unexpected(expected));
            }
            if self.cur.peek() != Some(b'=') {
                return Err(self.cur.unexpected("\"=\" after label name"));
            }
            self.cur.pos += 1;
            if self.cur.peek() != Some(b'"') {
                return Err(self.cur.unexpected("quoted label value"));
            }
            self.cur.quoted(false)?;
            match self.cur.peek() {
                Some(b',') => self.cur.pos += 1,
                Some(b'}') => {
                    self.cur.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.cur.unexpected("\",\" or \"}\" after label value")),
            }
            expected = "label name after \",\"";
        }
    }
}

impl<'a> Iterator for OpenMetricsParser<'a> {
    type Item = Result<Entry<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_entry().transpose()
    }
}

impl std::iter::FusedIterator for OpenMetricsParser<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_after_eof_is_read() {
        let mut p = OpenMetricsParser::new(b"a 1\n# EOF\n");
        assert!(matches!(p.next(), Some(Ok(Entry::Sample(_)))));
        assert!(p.next().is_none());
        assert!(p.next().is_none());
    }

    #[test]
    fn a_missing_eof_is_the_last_entry() {
        let results: Vec<_> = OpenMetricsParser::new(b"a 1\nb 2\n").collect();
        assert_eq!(results.len(), 3);
        assert!(
            matches!(&results[2], Err(e) if e.kind == ParseErrorKind::MissingEof && e.line == 3)
        );
    }

    #[test]
    fn huge_inputs() {
        let mut body = String::from("# TYPE m counter\n");
        for i in 0..100_000 {
            body.push_str(&format!(
                "m_total{{i=\"{i}\"}} {i} # {{trace_id=\"{i}\"}} 1 1.5\n"
            ));
        }
        body.push_str("# EOF\n");
        let parsed: Result<Vec<_>, _> = OpenMetricsParser::new(body.as_bytes()).collect();
        let exemplars = parsed.map(|entries| {
            entries
                .iter()
                .filter(|e| matches!(e, Entry::Sample(s) if s.exemplar.is_some()))
                .count()
        });
        assert_eq!(exemplars, Ok(100_000));
    }
}
