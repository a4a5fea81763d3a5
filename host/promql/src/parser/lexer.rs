//! The hand-written PromQL lexer.
//!
//! PromQL needs context to tokenize, as Prometheus' `promql/parser/lex.go`
//! knows: inside `{…}` every word is a label name (`{by="x"}`), inside a
//! grouping list (`by (on, offset)`) too, inside `[…]` only duration
//! expressions occur, `5m` is a duration but `5` a number, and keywords are
//! case-insensitive (`SUM … BY (job)`). The lexer tracks these contexts and
//! hands the grammar (`promql.lalrpop`) tokens with byte positions.

use super::ast::{AggregateOp, Span};
use super::error::SyntaxError;

/// A token.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A word without `:`, not a keyword in its context.
    Ident(String),
    /// A word containing `:` (recording-rule style metric names).
    MetricIdent(String),
    Number(f64),
    /// A duration literal, in milliseconds.
    Duration(i64),
    /// A string literal, unescaped.
    Str(String),

    LParen,
    /// The `(` opening a label list after `by`, `without`, `on`,
    /// `ignoring`, `group_left`, `group_right`.
    GroupLParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Colon,
    At,
    /// `=` (label matching)
    Assign,
    /// `=~`
    EqlRegex,
    /// `!~`
    NeqRegex,

    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Atan2,
    Eqlc,
    Neq,
    Lss,
    Lte,
    Gtr,
    Gte,
    TrimUpper,
    TrimLower,
    And,
    Or,
    Unless,

    Aggr(AggregateOp),

    Bool,
    By,
    Without,
    On,
    Ignoring,
    GroupLeft,
    GroupRight,
    Offset,
    Anchored,
    Smoothed,
    Fill,
    FillLeft,
    FillRight,
}

impl Tok {
    /// How Prometheus names a token in "unexpected …" messages, given the
    /// token's source text.
    pub fn describe(&self, text: &str) -> String {
        let quoted = || match text.char_indices().nth(10) {
            Some((cut, _)) => format!("{}...", go_quote(&text[..cut])),
            None => go_quote(text),
        };
        match self {
            Tok::Ident(_) => format!("identifier {}", go_quote(text)),
            Tok::MetricIdent(_) => format!("metric identifier {}", go_quote(text)),
            Tok::Number(_) => format!("number {}", quoted()),
            Tok::Duration(_) => format!("duration {}", quoted()),
            Tok::Str(_) => format!("string {}", quoted()),
            Tok::Add
            | Tok::Sub
            | Tok::Mul
            | Tok::Div
            | Tok::Mod
            | Tok::Pow
            | Tok::Atan2
            | Tok::Eqlc
            | Tok::Neq
            | Tok::Lss
            | Tok::Lte
            | Tok::Gtr
            | Tok::Gte
            | Tok::TrimUpper
            | Tok::TrimLower
            | Tok::And
            | Tok::Or
            | Tok::Unless
            | Tok::EqlRegex
            | Tok::NeqRegex
            | Tok::At => format!("<op:{text}>"),
            Tok::Aggr(_) => format!("<aggr:{text}>"),
            Tok::Bool
            | Tok::By
            | Tok::Without
            | Tok::On
            | Tok::Ignoring
            | Tok::GroupLeft
            | Tok::GroupRight
            | Tok::Offset
            | Tok::Anchored
            | Tok::Smoothed
            | Tok::Fill
            | Tok::FillLeft
            | Tok::FillRight => format!("<{text}>"),
            Tok::LParen
            | Tok::GroupLParen
            | Tok::RParen
            | Tok::LBrace
            | Tok::RBrace
            | Tok::LBracket
            | Tok::RBracket
            | Tok::Comma
            | Tok::Colon
            | Tok::Assign => go_quote(text),
        }
    }
}

/// Quotes like Go's `%q`/`strconv.Quote`: `"` delimited, with `\"`, `\\`,
/// `\n` etc. and `\x`/`\u` escapes for non-printable characters.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    push_go_escaped(&mut out, s);
    out.push('"');
    out
}

/// The body of [`go_quote`], without the quotes.
fn push_go_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
}

/// Go's `%#U` for a character, as Prometheus names bad escapes:
/// `U+0071 'q'`, or `U+000A` alone when the character is not printable.
fn go_unicode(c: char) -> String {
    if c.is_control() || (c.is_whitespace() && c != ' ') {
        format!("U+{:04X}", c as u32)
    } else {
        format!("U+{:04X} '{c}'", c as u32)
    }
}

/// Go's `%q` for a single character.
fn quote_char(c: char) -> String {
    match c {
        '\'' => "'\\''".to_string(),
        '\n' => "'\\n'".to_string(),
        '\t' => "'\\t'".to_string(),
        '\r' => "'\\r'".to_string(),
        c if c.is_control() => format!("'\\x{:02x}'", c as u32),
        c => format!("'{c}'"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Normal,
    /// Inside `{…}`.
    Braces,
    /// Inside a grouping label list `by (…)`.
    Grouping,
    /// Inside `[…]`.
    Brackets,
}

/// The lexer: an iterator of `(start, token, end)` triples as lalrpop
/// wants them.
pub struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    mode: Mode,
    paren_depth: usize,
    /// `paren_depth` when the current `[` opened.
    bracket_parens: usize,
    /// The last token was a keyword that takes a label list.
    pending_group: bool,
    done: bool,
}

type Spanned = (usize, Tok, usize);

impl<'a> Lexer<'a> {
    pub fn new(input: &'a str) -> Self {
        Lexer {
            input,
            pos: 0,
            mode: Mode::Normal,
            paren_depth: 0,
            bracket_parens: 0,
            pending_group: false,
            done: false,
        }
    }

    fn peek(&self) -> Option<char> {
        self.input[self.pos..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.input[self.pos..].chars().nth(n)
    }

    /// Advances past the characters that satisfy `pred`.
    fn eat_while(&mut self, pred: impl Fn(char) -> bool) {
        while let Some(c) = self.peek().filter(|&c| pred(c)) {
            self.pos += c.len_utf8();
        }
    }

    /// Whether a number or duration starts at `c`, the next character.
    fn at_number(&self, c: char) -> bool {
        c.is_ascii_digit() || (c == '.' && self.peek_at(1).is_some_and(|d| d.is_ascii_digit()))
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn err<T>(&self, start: usize, message: impl Into<String>) -> Result<T, SyntaxError> {
        Err(SyntaxError::new(
            Span::new(start, self.pos.max(start)),
            message,
        ))
    }

    /// Skips white space and `#` comments.
    fn skip_space(&mut self) {
        loop {
            match self.peek() {
                Some(' ' | '\t' | '\n' | '\r') => {
                    self.pos += 1;
                }
                Some('#') => self.eat_while(|c| c != '\n' && c != '\r'),
                _ => return,
            }
        }
    }

    fn next_token(&mut self) -> Result<Option<Spanned>, SyntaxError> {
        self.skip_space();
        let start = self.pos;
        let Some(c) = self.peek() else {
            return match self.mode {
                Mode::Braces => self.err(start, "unexpected end of input inside braces"),
                Mode::Brackets => self.err(start, "unclosed left bracket"),
                _ if self.paren_depth > 0 => self.err(start, "unclosed left parenthesis"),
                _ => Ok(None),
            };
        };
        let tok = match self.mode {
            Mode::Braces => self.lex_braces(c, start)?,
            Mode::Brackets => self.lex_brackets(c, start)?,
            Mode::Grouping => match self.lex_grouping(c, start)? {
                Some(t) => t,
                None => self.lex_normal(c, start)?,
            },
            Mode::Normal => self.lex_normal(c, start)?,
        };
        let takes_group = matches!(
            tok,
            Tok::By | Tok::Without | Tok::On | Tok::Ignoring | Tok::GroupLeft | Tok::GroupRight
        );
        self.pending_group = takes_group && self.mode == Mode::Normal;
        Ok(Some((start, tok, self.pos)))
    }

    fn lex_normal(&mut self, c: char, start: usize) -> Result<Tok, SyntaxError> {
        if self.at_number(c) {
            return self.lex_number_or_duration(start);
        }
        if is_alpha(c) || c == ':' {
            return Ok(self.lex_word(start));
        }
        self.bump();
        Ok(match c {
            ',' => Tok::Comma,
            '*' => Tok::Mul,
            '/' => Tok::Div,
            '%' => Tok::Mod,
            '+' => Tok::Add,
            '-' => Tok::Sub,
            '^' => Tok::Pow,
            '@' => Tok::At,
            '=' => match self.peek() {
                Some('=') => {
                    self.bump();
                    Tok::Eqlc
                }
                Some('~') => return self.err(start, "unexpected character after '=': '~'"),
                _ => Tok::Assign,
            },
            '!' => match self.bump() {
                Some('=') => Tok::Neq,
                Some(t) => {
                    return self.err(
                        start,
                        format!("unexpected character after '!': {}", quote_char(t)),
                    );
                }
                None => return self.err(start, "unexpected end of input after '!'"),
            },
            '<' => match self.peek() {
                Some('=') => {
                    self.bump();
                    Tok::Lte
                }
                Some('/') => {
                    self.bump();
                    Tok::TrimUpper
                }
                _ => Tok::Lss,
            },
            '>' => match self.peek() {
                Some('=') => {
                    self.bump();
                    Tok::Gte
                }
                Some('/') => {
                    self.bump();
                    Tok::TrimLower
                }
                _ => Tok::Gtr,
            },
            '"' | '\'' => Tok::Str(self.lex_string(c, start)?),
            '`' => Tok::Str(self.lex_raw_string(start)?),
            '(' => {
                self.paren_depth += 1;
                if self.pending_group {
                    self.mode = Mode::Grouping;
                    Tok::GroupLParen
                } else {
                    Tok::LParen
                }
            }
            ')' => {
                if self.paren_depth == 0 {
                    return self.err(start, "unexpected right parenthesis ')'");
                }
                self.paren_depth -= 1;
                Tok::RParen
            }
            '{' => {
                self.mode = Mode::Braces;
                Tok::LBrace
            }
            '}' => return self.err(start, "unexpected right brace '}'"),
            '[' => {
                self.mode = Mode::Brackets;
                self.bracket_parens = self.paren_depth;
                Tok::LBracket
            }
            ']' => return self.err(start, "unexpected right bracket ']'"),
            c => {
                return self.err(start, format!("unexpected character: {}", quote_char(c)));
            }
        })
    }

    /// A word in normal context: keyword, `Inf`/`NaN`, identifier or metric
    /// identifier.
    fn lex_word(&mut self, start: usize) -> Tok {
        self.eat_while(|c| is_alnum(c) || c == ':');
        let word = &self.input[start..self.pos];
        if word.contains(':') {
            return Tok::MetricIdent(word.to_string());
        }
        let lower = word.to_ascii_lowercase();
        if let Some(op) = AggregateOp::from_name(&lower) {
            return Tok::Aggr(op);
        }
        match lower.as_str() {
            "and" => Tok::And,
            "or" => Tok::Or,
            "unless" => Tok::Unless,
            "atan2" => Tok::Atan2,
            "bool" => Tok::Bool,
            "by" => Tok::By,
            "without" => Tok::Without,
            "on" => Tok::On,
            "ignoring" => Tok::Ignoring,
            "group_left" => Tok::GroupLeft,
            "group_right" => Tok::GroupRight,
            "offset" => Tok::Offset,
            "anchored" => Tok::Anchored,
            "smoothed" => Tok::Smoothed,
            "inf" => Tok::Number(f64::INFINITY),
            "nan" => Tok::Number(f64::NAN),
            // `fill` and friends are keywords only before `(`.
            "fill" if self.next_non_space() == Some('(') => Tok::Fill,
            "fill_left" if self.next_non_space() == Some('(') => Tok::FillLeft,
            "fill_right" if self.next_non_space() == Some('(') => Tok::FillRight,
            _ => Tok::Ident(word.to_string()),
        }
    }

    fn next_non_space(&self) -> Option<char> {
        self.input[self.pos..]
            .chars()
            .find(|c| !matches!(c, ' ' | '\t' | '\n' | '\r'))
    }

    /// A plain identifier (label name): no `:`, no keywords.
    fn lex_ident(&mut self, start: usize) -> Tok {
        self.eat_while(is_alnum);
        Tok::Ident(self.input[start..self.pos].to_string())
    }

    fn lex_braces(&mut self, c: char, start: usize) -> Result<Tok, SyntaxError> {
        if is_alpha(c) {
            return Ok(self.lex_ident(start));
        }
        self.bump();
        Ok(match c {
            ',' => Tok::Comma,
            '"' | '\'' => Tok::Str(self.lex_string(c, start)?),
            '`' => Tok::Str(self.lex_raw_string(start)?),
            '=' => {
                if self.peek() == Some('~') {
                    self.bump();
                    Tok::EqlRegex
                } else {
                    Tok::Assign
                }
            }
            '!' => match self.bump() {
                Some('~') => Tok::NeqRegex,
                Some('=') => Tok::Neq,
                Some(t) => {
                    return self.err(
                        start,
                        format!(
                            "unexpected character after '!' inside braces: {}",
                            quote_char(t)
                        ),
                    );
                }
                None => return self.err(start, "unexpected end of input inside braces"),
            },
            '{' => return self.err(start, "unexpected left brace '{'"),
            '}' => {
                self.mode = Mode::Normal;
                Tok::RBrace
            }
            c => {
                return self.err(
                    start,
                    format!("unexpected character inside braces: {}", quote_char(c)),
                );
            }
        })
    }

    /// Label names, strings, commas and the closing `)`; `None` for
    /// anything else, which is then lexed as in normal context and left to
    /// the grammar to reject.
    fn lex_grouping(&mut self, c: char, start: usize) -> Result<Option<Tok>, SyntaxError> {
        if is_alpha(c) {
            return Ok(Some(self.lex_ident(start)));
        }
        Ok(Some(match c {
            ',' => {
                self.bump();
                Tok::Comma
            }
            '"' | '\'' => {
                self.bump();
                Tok::Str(self.lex_string(c, start)?)
            }
            '`' => {
                self.bump();
                Tok::Str(self.lex_raw_string(start)?)
            }
            ')' => {
                self.bump();
                self.mode = Mode::Normal;
                self.paren_depth = self.paren_depth.saturating_sub(1);
                Tok::RParen
            }
            _ => {
                self.mode = Mode::Normal;
                return Ok(None);
            }
        }))
    }

    fn lex_brackets(&mut self, c: char, start: usize) -> Result<Tok, SyntaxError> {
        if self.at_number(c) {
            return self.lex_number_or_duration(start);
        }
        if is_alpha(c) {
            return Ok(self.lex_ident(start));
        }
        self.bump();
        Ok(match c {
            ']' => {
                if self.paren_depth > self.bracket_parens {
                    return self.err(start, "unclosed left parenthesis");
                }
                self.mode = Mode::Normal;
                Tok::RBracket
            }
            ':' => Tok::Colon,
            ',' => Tok::Comma,
            '+' => Tok::Add,
            '-' => Tok::Sub,
            '*' => Tok::Mul,
            '/' => Tok::Div,
            '%' => Tok::Mod,
            '^' => Tok::Pow,
            '(' => {
                self.paren_depth += 1;
                Tok::LParen
            }
            ')' => {
                if self.paren_depth <= self.bracket_parens {
                    return self.err(start, "unexpected right parenthesis ')'");
                }
                self.paren_depth -= 1;
                Tok::RParen
            }
            '[' => return self.err(start, "unexpected left bracket '['"),
            c => {
                return self.err(
                    start,
                    format!(
                        "unexpected character in duration expression: {}",
                        quote_char(c)
                    ),
                );
            }
        })
    }

    fn lex_number_or_duration(&mut self, start: usize) -> Result<Tok, SyntaxError> {
        let rest = &self.input[start..];
        let bytes = rest.as_bytes();
        // Hexadecimal.
        if bytes.len() > 1 && bytes[0] == b'0' && (bytes[1] == b'x' || bytes[1] == b'X') {
            let mut end = 2;
            while end < bytes.len() && (bytes[end].is_ascii_hexdigit() || bytes[end] == b'_') {
                end += 1;
            }
            let digits: String = rest[2..end].chars().filter(|&c| c != '_').collect();
            self.pos = start + end;
            if self.peek().is_some_and(is_alnum) || digits.is_empty() {
                self.eat_alnum();
                return self.bad_number(start);
            }
            return match u64::from_str_radix(&digits, 16) {
                Ok(v) => Ok(Tok::Number(v as f64)),
                Err(_) => Ok(Tok::Number(parse_big_hex(&digits))),
            };
        }
        // Decimal: digits [. digits] [e [+-] digits], underscores between digits.
        let mut end = 0;
        let digits = |end: &mut usize| {
            let s = *end;
            while *end < bytes.len()
                && (bytes[*end].is_ascii_digit()
                    || (bytes[*end] == b'_'
                        && *end > s
                        && bytes.get(*end + 1).is_some_and(|b| b.is_ascii_digit())))
            {
                *end += 1;
            }
            *end > s
        };
        let int_digits = digits(&mut end);
        let mut is_float = false;
        if end < bytes.len() && bytes[end] == b'.' {
            end += 1;
            let frac = digits(&mut end);
            if !int_digits && !frac {
                self.pos = start + end;
                return self.bad_number(start);
            }
            is_float = true;
        }
        if end < bytes.len() && (bytes[end] == b'e' || bytes[end] == b'E') {
            let mut e = end + 1;
            if e < bytes.len() && (bytes[e] == b'+' || bytes[e] == b'-') {
                e += 1;
            }
            if digits(&mut e) {
                end = e;
                is_float = true;
            }
        }
        self.pos = start + end;
        match self.peek() {
            Some(c) if is_alnum(c) => {
                if !is_float && "smhdwy".contains(c) {
                    // A duration: restart and read unit groups.
                    self.pos = start;
                    return self.lex_duration(start);
                }
                self.eat_alnum();
                self.bad_number(start)
            }
            _ => {
                let text: String = rest[..end].chars().filter(|&c| c != '_').collect();
                match text.parse::<f64>() {
                    Ok(v) => Ok(Tok::Number(v)),
                    Err(_) => self.bad_number(start),
                }
            }
        }
    }

    fn eat_alnum(&mut self) {
        self.eat_while(|c| is_alnum(c) || c == '.');
    }

    fn bad_number<T>(&self, start: usize) -> Result<T, SyntaxError> {
        self.err(
            start,
            format!(
                "bad number or duration syntax: {}",
                go_quote(&self.input[start..self.pos])
            ),
        )
    }

    /// `1h30m`, `5m`, `100ms`, `1y2w`: unit groups in decreasing order.
    fn lex_duration(&mut self, start: usize) -> Result<Tok, SyntaxError> {
        self.eat_while(is_alnum);
        let text = &self.input[start..self.pos];
        match duration_ms(text) {
            Some(ms) => Ok(Tok::Duration(ms)),
            None => self.err(
                start,
                format!("not a valid duration string: {}", go_quote(text)),
            ),
        }
    }

    /// A `"…"` or `'…'` string with Go escapes; the opening quote, at
    /// `start`, is read. Errors are placed at the opening quote, as
    /// Prometheus places them.
    fn lex_string(&mut self, quote: char, start: usize) -> Result<String, SyntaxError> {
        let mut buf: Vec<u8> = Vec::new();
        loop {
            let Some(c) = self.bump() else {
                return self.err(start, "unterminated quoted string");
            };
            match c {
                '\n' => return self.err(start, "unterminated quoted string"),
                c if c == quote => break,
                '\\' => self.lex_escape(quote, start, &mut buf)?,
                c => {
                    let mut tmp = [0u8; 4];
                    buf.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
                }
            }
        }
        String::from_utf8(buf).or_else(|e| {
            let bytes = e.into_bytes();
            self.err(
                start,
                format!("invalid UTF-8 in string literal {}", go_quote_bytes(&bytes)),
            )
        })
    }

    /// One escape after its backslash, in a string that starts at `start`.
    fn lex_escape(
        &mut self,
        quote: char,
        start: usize,
        buf: &mut Vec<u8>,
    ) -> Result<(), SyntaxError> {
        let Some(c) = self.bump() else {
            return self.err(start, "escape sequence not terminated");
        };
        let simple = match c {
            'a' => Some(0x07u8),
            'b' => Some(0x08),
            'f' => Some(0x0c),
            'n' => Some(b'\n'),
            'r' => Some(b'\r'),
            't' => Some(b'\t'),
            'v' => Some(0x0b),
            '\\' => Some(b'\\'),
            c if c == quote => Some(c as u8),
            _ => None,
        };
        if let Some(b) = simple {
            buf.push(b);
            return Ok(());
        }
        let (n, base, max, first) = match c {
            '0'..='7' => (3, 8, 255, Some(c)),
            'x' => (2, 16, 255, None),
            'u' => (4, 16, 0x10ffff, None),
            'U' => (8, 16, 0x10ffff, None),
            c => {
                return self.err(start, format!("unknown escape sequence {}", go_unicode(c)));
            }
        };
        let mut x: u32 = 0;
        let mut pending = first;
        for _ in 0..n {
            let d = match pending.take().or_else(|| self.bump()) {
                None => return self.err(start, "escape sequence not terminated"),
                Some(d) => d,
            };
            match d.to_digit(base) {
                Some(v) => x = x * base + v,
                None => {
                    return self.err(
                        start,
                        format!("illegal character {} in escape sequence", go_unicode(d)),
                    );
                }
            }
        }
        if x > max || (0xD800..0xE000).contains(&x) {
            return self.err(start, "escape sequence is an invalid Unicode code point");
        }
        if max == 255 {
            buf.push(x as u8);
        } else if let Some(ch) = char::from_u32(x) {
            let mut tmp = [0u8; 4];
            buf.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
        }
        Ok(())
    }

    fn lex_raw_string(&mut self, start: usize) -> Result<String, SyntaxError> {
        let body_start = self.pos;
        loop {
            match self.bump() {
                None => return self.err(start, "unterminated raw string"),
                Some('`') => return Ok(self.input[body_start..self.pos - 1].to_string()),
                Some(_) => {}
            }
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Result<Spanned, SyntaxError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_token() {
            Ok(Some(t)) => Some(Ok(t)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

fn is_alpha(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_alnum(c: char) -> bool {
    is_alpha(c) || c.is_ascii_digit()
}

fn parse_big_hex(digits: &str) -> f64 {
    digits
        .chars()
        .filter_map(|c| c.to_digit(16))
        .fold(0.0, |acc, d| acc * 16.0 + f64::from(d))
}

/// Go-style quoting of bytes that may not be UTF-8 (`"a\xc5z"`).
fn go_quote_bytes(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for chunk in bytes.utf8_chunks() {
        push_go_escaped(&mut out, chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
    out
}

/// A Prometheus duration (`1y2w3d4h5m6s7ms`) in milliseconds, read as
/// config files read it ([`pharos_model::parse_duration_millis`]), up to
/// what an `i64` of milliseconds holds.
fn duration_ms(s: &str) -> Option<i64> {
    let ms = pharos_model::parse_duration_millis(s).ok()?;
    i64::try_from(ms).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pharos_model::format_millis;

    fn toks(s: &str) -> Vec<Tok> {
        Lexer::new(s)
            .map(|r| r.map(|(_, t, _)| t))
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("lex error on {s:?}: {e:?}"))
    }

    fn lex_err(s: &str) -> String {
        match Lexer::new(s).collect::<Result<Vec<_>, _>>() {
            Ok(t) => panic!("expected an error for {s:?}, got {t:?}"),
            Err(e) => e.message,
        }
    }

    fn num(s: &str) -> f64 {
        match toks(s).as_slice() {
            [Tok::Number(v)] => *v,
            t => panic!("{s:?} lexed as {t:?}"),
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(num("1"), 1.0);
        assert_eq!(num("1.5"), 1.5);
        assert_eq!(num(".5"), 0.5);
        assert_eq!(num("5."), 5.0);
        assert_eq!(num("0x1f"), 31.0);
        assert_eq!(num("0X1F"), 31.0);
        assert_eq!(num("1e3"), 1000.0);
        assert_eq!(num("12.34e-6"), 12.34e-6);
        assert_eq!(num("12.34E+6"), 12.34e6);
        assert_eq!(num("1_000"), 1000.0);
        assert_eq!(num("Inf"), f64::INFINITY);
        assert_eq!(num("iNf"), f64::INFINITY);
        assert!(num("NaN").is_nan());
        assert!(num("nan").is_nan());
        assert_eq!(num("0755"), 755.0);
    }

    #[test]
    fn durations() {
        assert_eq!(toks("5m"), [Tok::Duration(300_000)]);
        assert_eq!(toks("1h30m"), [Tok::Duration(5_400_000)]);
        assert_eq!(toks("100ms"), [Tok::Duration(100)]);
        assert_eq!(toks("1y"), [Tok::Duration(365 * 86_400_000)]);
        assert_eq!(toks("2w1d"), [Tok::Duration(15 * 86_400_000)]);
        assert_eq!(toks("1m40s"), [Tok::Duration(100_000)]);
        assert!(lex_err("1m1h").contains("not a valid duration"));
        assert!(lex_err("5x").contains("bad number or duration syntax"));
        assert!(lex_err("1.5h").contains("bad number or duration syntax"));
    }

    #[test]
    fn duration_round_trip() {
        for ms in [
            0,
            1,
            999,
            1000,
            60_000,
            5_400_000,
            86_400_000 * 8,
            31_536_000_001,
        ] {
            let s = format_millis(ms);
            assert_eq!(duration_ms(&s), Some(ms), "{s}");
        }
        assert_eq!(format_millis(-300_000), "-5m");
    }

    #[test]
    fn strings_and_escapes() {
        let s = |q: &str| match toks(q).as_slice() {
            [Tok::Str(v)] => v.clone(),
            t => panic!("{q:?} lexed as {t:?}"),
        };
        assert_eq!(s(r#""a\"b""#), "a\"b");
        assert_eq!(s(r"'a\'b'"), "a'b");
        assert_eq!(s(r#""\a\b\f\n\r\t\v\\""#), "\x07\x08\x0c\n\r\t\x0b\\");
        assert_eq!(s(r#""\x41\101\u00e9\U0001F600""#), "AAé😀");
        assert_eq!(s(r"`a\nb`"), "a\\nb");
        assert_eq!(s("`multi\nline`"), "multi\nline");
        assert_eq!(s(r#""ü""#), "ü");
        assert!(lex_err(r#""\'""#).contains("unknown escape sequence"));
        assert!(lex_err(r#""\q""#).contains("unknown escape sequence"));
        assert!(lex_err(r#""\xZZ""#).contains("illegal character"));
        // As Prometheus (Go's `%#U`) words them.
        assert_eq!(lex_err(r#""\q""#), "unknown escape sequence U+0071 'q'");
        assert_eq!(lex_err("\"\\\n\""), "unknown escape sequence U+000A");
        assert_eq!(
            lex_err(r#""\x4""#),
            "illegal character U+0022 '\"' in escape sequence"
        );
        assert_eq!(lex_err(r#""\x4"#), "escape sequence not terminated");
        // Placed at the opening quote, as Prometheus places them.
        match Lexer::new(r#"{a="bc\q"}"#).find_map(Result::err) {
            Some(e) => assert_eq!(e.span.start, 3),
            None => panic!("no error"),
        }
        assert!(lex_err(r#""\ud800""#).contains("invalid Unicode code point"));
        assert!(lex_err(r#""\xff""#).contains("invalid UTF-8"));
        assert!(lex_err("\"abc").contains("unterminated quoted string"));
        assert!(lex_err("\"a\nb\"").contains("unterminated quoted string"));
        assert!(lex_err("`abc").contains("unterminated raw string"));
    }

    #[test]
    fn keywords_depend_on_context() {
        assert_eq!(
            toks("sum by (by, on) (x)"),
            [
                Tok::Aggr(AggregateOp::Sum),
                Tok::By,
                Tok::GroupLParen,
                Tok::Ident("by".into()),
                Tok::Comma,
                Tok::Ident("on".into()),
                Tok::RParen,
                Tok::LParen,
                Tok::Ident("x".into()),
                Tok::RParen,
            ]
        );
        assert_eq!(
            toks("{offset=\"1\"}"),
            [
                Tok::LBrace,
                Tok::Ident("offset".into()),
                Tok::Assign,
                Tok::Str("1".into()),
                Tok::RBrace
            ]
        );
        assert_eq!(toks("SUM")[0], Tok::Aggr(AggregateOp::Sum));
        assert_eq!(toks("a:b:c"), [Tok::MetricIdent("a:b:c".into())]);
        assert_eq!(toks("fill (0)")[0], Tok::Fill);
        assert_eq!(toks("fill + 1")[0], Tok::Ident("fill".into()));
    }

    #[test]
    fn brackets_and_operators() {
        assert_eq!(
            toks("x[5m:1m]"),
            [
                Tok::Ident("x".into()),
                Tok::LBracket,
                Tok::Duration(300_000),
                Tok::Colon,
                Tok::Duration(60_000),
                Tok::RBracket
            ]
        );
        assert_eq!(
            toks("a </ b >/ c <= d >= e != f == g"),
            [
                Tok::Ident("a".into()),
                Tok::TrimUpper,
                Tok::Ident("b".into()),
                Tok::TrimLower,
                Tok::Ident("c".into()),
                Tok::Lte,
                Tok::Ident("d".into()),
                Tok::Gte,
                Tok::Ident("e".into()),
                Tok::Neq,
                Tok::Ident("f".into()),
                Tok::Eqlc,
                Tok::Ident("g".into()),
            ]
        );
        assert_eq!(toks("a # comment\n+ b").len(), 3);
    }

    #[test]
    fn lexer_errors() {
        assert_eq!(lex_err("(a"), "unclosed left parenthesis");
        assert_eq!(lex_err("a)"), "unexpected right parenthesis ')'");
        assert_eq!(lex_err("a[5m"), "unclosed left bracket");
        assert_eq!(lex_err("{a"), "unexpected end of input inside braces");
        assert_eq!(lex_err("a =~ b"), "unexpected character after '=': '~'");
        assert_eq!(lex_err("{a?}"), "unexpected character inside braces: '?'");
        assert_eq!(lex_err("a $"), "unexpected character: '$'");
    }

    #[test]
    fn go_quoting() {
        assert_eq!(go_quote("a\"b\\c\n"), r#""a\"b\\c\n""#);
        assert_eq!(go_quote("\x01é"), r#""\x01é""#);
        assert_eq!(go_quote_bytes(b"a\xc5z"), r#""a\xc5z""#);
    }
}
