//! Exposition-format parsers for Pharos' scraper: the Prometheus text
//! format 0.0.4 ([`PromTextParser`]) and OpenMetrics 1.0 text
//! ([`OpenMetricsParser`]), plus scrape content negotiation
//! ([`SCRAPE_ACCEPT_HEADER`], [`Format::from_content_type`]). Pharos' twin of
//! Prometheus' `model/textparse`, matching what Prometheus 2.42's scraper
//! accepts and refuses; each parser module lists the rules and the few
//! deliberate differences.
//!
//! The parsers are pull parsers over the scraped body: each entry borrows
//! from it, and a sample costs no allocation. A [`Sample`] carries its
//! series text exactly as written (`name{labels}`), meant as a scrape-cache
//! key: labels are built ([`Sample::labels`]) only for series not seen
//! before. The first malformed line ends parsing with a [`ParseError`]
//! naming the line; the scrape then fails as a whole. Explicit timestamps
//! and exemplars are reported; whether to honour them is the scraper's
//! choice.
//!
//! ```
//! use pharos_textparse::{Entry, Format, Parser, SCRAPE_ACCEPT_HEADER};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The scraper sends SCRAPE_ACCEPT_HEADER and reads the answer's type.
//! assert!(SCRAPE_ACCEPT_HEADER.starts_with("application/openmetrics-text"));
//! let format = Format::from_content_type(Some("text/plain; version=0.0.4"))
//!     .unwrap_or(Format::PromText);
//!
//! let body = concat!(
//!     "# HELP http_requests_total Requests.\n",
//!     "# TYPE http_requests_total counter\n",
//!     "http_requests_total{code=\"200\",path=\"/\"} 1027 1395066363000\n",
//! );
//! let mut samples = 0;
//! for entry in Parser::new(body.as_bytes(), format) {
//!     match entry? {
//!         Entry::Sample(s) => {
//!             samples += 1;
//!             assert_eq!(s.series, r#"http_requests_total{code="200",path="/"}"#);
//!             assert_eq!((s.value, s.timestamp), (1027.0, Some(1395066363000)));
//!             let labels = s.labels()?; // only on a scrape-cache miss
//!             assert_eq!(labels.get("code"), Some("200"));
//!             assert_eq!(labels.metric_name(), Some("http_requests_total"));
//!         }
//!         Entry::Help { metric, text } => assert_eq!((metric, &*text), ("http_requests_total", "Requests.")),
//!         Entry::Type { metric_type, .. } => assert_eq!(metric_type.as_str(), "counter"),
//!         Entry::Unit { .. } | Entry::Comment(_) => {}
//!     }
//! }
//! assert_eq!(samples, 1);
//!
//! // Errors name the line.
//! let err = Parser::new(b"a 1\nb{x=\"1\"}\n", Format::PromText)
//!     .find_map(Result::err)
//!     .map(|e| e.to_string());
//! assert_eq!(err.as_deref(), Some("line 2: expected value after metric, got end of line"));
//! # Ok(())
//! # }
//! ```

mod entry;
mod error;
mod lex;
mod negotiate;
mod number;
mod openmetrics;
mod promtext;

pub use entry::{Entry, Exemplar, LabelPairs, MetricType, Sample};
pub use error::{Found, ParseError, ParseErrorKind};
pub use negotiate::{ContentTypeError, Format, SCRAPE_ACCEPT_HEADER};
pub use number::NORMAL_NAN_BITS;
pub use openmetrics::OpenMetricsParser;
pub use promtext::PromTextParser;

/// A parser for either format, chosen at run time (from the response's
/// `Content-Type`, see [`Format::from_content_type`]).
pub enum Parser<'a> {
    PromText(PromTextParser<'a>),
    OpenMetrics(OpenMetricsParser<'a>),
}

impl<'a> Parser<'a> {
    /// A parser for `body` in `format`.
    pub fn new(body: &'a [u8], format: Format) -> Self {
        match format {
            Format::PromText => Parser::PromText(PromTextParser::new(body)),
            Format::OpenMetrics => Parser::OpenMetrics(OpenMetricsParser::new(body)),
        }
    }

    /// The format this parser reads.
    pub fn format(&self) -> Format {
        match self {
            Parser::PromText(_) => Format::PromText,
            Parser::OpenMetrics(_) => Format::OpenMetrics,
        }
    }

    /// The next entry; `Ok(None)` at the end of the body (for OpenMetrics,
    /// after `# EOF`). After an error, `Ok(None)`.
    #[inline]
    pub fn next_entry(&mut self) -> Result<Option<Entry<'a>>, ParseError> {
        match self {
            Parser::PromText(p) => p.next_entry(),
            Parser::OpenMetrics(p) => p.next_entry(),
        }
    }
}

impl<'a> Iterator for Parser<'a> {
    type Item = Result<Entry<'a>, ParseError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.next_entry().transpose()
    }
}

impl std::iter::FusedIterator for Parser<'_> {}
