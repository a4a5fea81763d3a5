//! The lexer: Go's `text/template/parse/lex.go` behaviour, written as a
//! plain function producing a token vector.
//!
//! Delimiters are fixed at `{{` / `}}`. Trim markers (`{{- ` and ` -}}`)
//! remove the white space next to them; comments `{{/* */}}` are dropped.
//! A lexical error ends the token stream with an [`TokKind::Error`] token
//! carrying Go's message.

/// Kinds of tokens, named after Go's `itemType`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokKind {
    Error,
    Bool,
    Char,
    CharConstant,
    Comment,
    Complex,
    Assign,
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    // Keywords.
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl TokKind {
    fn is_keyword(self) -> bool {
        matches!(
            self,
            TokKind::Block
                | TokKind::Break
                | TokKind::Continue
                | TokKind::Dot
                | TokKind::Define
                | TokKind::Else
                | TokKind::End
                | TokKind::If
                | TokKind::Nil
                | TokKind::Range
                | TokKind::Template
                | TokKind::With
        )
    }
}

/// One token: its kind, byte offset, text and the line it starts on.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub kind: TokKind,
    pub pos: usize,
    pub val: String,
    pub line: usize,
}

impl std::fmt::Display for Token {
    /// Go's `item.String()`, used in "unexpected X in Y" messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            TokKind::Eof => f.write_str("EOF"),
            TokKind::Error => f.write_str(&self.val),
            k if k.is_keyword() => write!(f, "<{}>", self.val),
            _ => {
                if self.val.chars().count() > 10 {
                    let head: String = self.val.chars().take(10).collect();
                    write!(f, "{}...", crate::fmt::quote(&head))
                } else {
                    f.write_str(&crate::fmt::quote(&self.val))
                }
            }
        }
    }
}

const LEFT: &str = "{{";
const RIGHT: &str = "}}";
const TRIM_LEN: usize = 2;

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

fn has_left_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(b[1] as char)
}

fn has_right_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(b[0] as char) && b[1] == b'-'
}

/// Go's `%#U` rendering of a rune: `U+0023 '#'`.
fn sharp_u(c: char) -> String {
    if c.is_control() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("U+{:04X} '{}'", c as u32, c)
    }
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    start_line: usize,
    paren_depth: i32,
    out: Vec<Token>,
}

enum State {
    Text,
    LeftDelim,
    InsideAction,
    RightDelim,
    Done,
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.input[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn backup(&mut self, c: Option<char>) {
        if let Some(c) = c {
            self.pos -= c.len_utf8();
        }
    }

    fn emit(&mut self, kind: TokKind) {
        self.out.push(Token {
            kind,
            pos: self.start,
            val: self.input[self.start..self.pos].to_string(),
            line: self.start_line,
        });
        self.ignore();
    }

    fn ignore(&mut self) {
        if self.pos >= self.start {
            self.start_line += self.input[self.start..self.pos].matches('\n').count();
        }
        self.start = self.pos;
    }

    fn error(&mut self, msg: String) -> State {
        self.out.push(Token {
            kind: TokKind::Error,
            pos: self.start,
            val: msg,
            line: self.start_line,
        });
        State::Done
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.next();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    /// Whether the input at `pos` is a right delimiter, possibly trim-marked.
    fn at_right_delim(&self) -> (bool, bool) {
        let r = self.rest();
        if has_right_trim(r) && r[TRIM_LEN..].starts_with(RIGHT) {
            return (true, true);
        }
        (r.starts_with(RIGHT), false)
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            Some('}') => true,
            _ => false,
        }
    }

    fn skip_leading_space(&mut self) {
        let trimmed = self.rest().trim_start_matches(is_space);
        self.pos = self.input.len() - trimmed.len();
    }

    fn lex_text(&mut self) -> State {
        if let Some(x) = self.rest().find(LEFT) {
            let delim = self.pos + x;
            let trim = has_left_trim(&self.input[delim + LEFT.len()..]);
            let mut end = delim;
            if trim {
                end = self.start
                    + self.input[self.start..delim]
                        .trim_end_matches(is_space)
                        .len();
            }
            self.pos = end;
            if self.pos > self.start {
                self.emit(TokKind::Text);
            }
            self.pos = delim;
            self.ignore();
            return State::LeftDelim;
        }
        self.pos = self.input.len();
        if self.pos > self.start {
            self.emit(TokKind::Text);
        }
        self.out.push(Token {
            kind: TokKind::Eof,
            pos: self.pos,
            val: String::new(),
            line: self.start_line,
        });
        State::Done
    }

    fn lex_left_delim(&mut self) -> State {
        self.pos += LEFT.len();
        let trim = has_left_trim(self.rest());
        let after = if trim { TRIM_LEN } else { 0 };
        if self.rest()[after..].starts_with("/*") {
            self.pos += after;
            self.ignore();
            return self.lex_comment();
        }
        self.emit(TokKind::LeftDelim);
        self.pos += after;
        self.ignore();
        self.paren_depth = 0;
        State::InsideAction
    }

    fn lex_comment(&mut self) -> State {
        self.pos += 2;
        let Some(x) = self.rest().find("*/") else {
            return self.error("unclosed comment".into());
        };
        self.pos += x + 2;
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return self.error("comment ends before closing delimiter".into());
        }
        self.emit(TokKind::Comment);
        if trim {
            self.pos += TRIM_LEN;
        }
        self.pos += RIGHT.len();
        if trim {
            self.skip_leading_space();
        }
        self.ignore();
        State::Text
    }

    fn lex_right_delim(&mut self) -> State {
        let (_, trim) = self.at_right_delim();
        if trim {
            self.pos += TRIM_LEN;
            self.ignore();
        }
        self.pos += RIGHT.len();
        self.emit(TokKind::RightDelim);
        if trim {
            self.skip_leading_space();
            self.ignore();
        }
        State::Text
    }

    fn lex_inside_action(&mut self) -> State {
        let (delim, _) = self.at_right_delim();
        if delim {
            if self.paren_depth == 0 {
                return State::RightDelim;
            }
            return self.error("unclosed left paren".into());
        }
        let Some(c) = self.next() else {
            return self.error("unclosed action".into());
        };
        match c {
            c if is_space(c) => {
                self.backup(Some(c));
                return self.lex_space();
            }
            '=' => self.emit(TokKind::Assign),
            ':' => {
                if self.next() != Some('=') {
                    return self.error("expected :=".into());
                }
                self.emit(TokKind::Declare);
            }
            '|' => self.emit(TokKind::Pipe),
            '"' => return self.lex_quote(),
            '`' => return self.lex_raw_quote(),
            '$' => return self.lex_variable(),
            '\'' => return self.lex_char(),
            '.' => {
                if let Some(n) = self.peek()
                    && !n.is_ascii_digit()
                {
                    return self.lex_field_or_variable(TokKind::Field);
                }
                if self.peek().is_none() {
                    return self.lex_field_or_variable(TokKind::Field);
                }
                self.backup(Some(c));
                return self.lex_number();
            }
            '+' | '-' | '0'..='9' => {
                self.backup(Some(c));
                return self.lex_number();
            }
            c if is_alnum(c) => {
                self.backup(Some(c));
                return self.lex_identifier();
            }
            '(' => {
                self.paren_depth += 1;
                self.emit(TokKind::LeftParen);
            }
            ')' => {
                // A stray `)` is the parser's to report ("unexpected ")" in
                // command"), as in the Go release Prometheus 2.42 uses.
                self.paren_depth -= 1;
                self.emit(TokKind::RightParen);
            }
            c if c.is_ascii() && !c.is_ascii_control() => self.emit(TokKind::Char),
            c => return self.error(format!("unrecognized character in action: {}", sharp_u(c))),
        }
        State::InsideAction
    }

    fn lex_space(&mut self) -> State {
        let mut n = 0;
        while let Some(c) = self.peek() {
            if !is_space(c) {
                break;
            }
            self.next();
            n += 1;
        }
        let before = &self.input[self.pos - 1..];
        if has_right_trim(before) && before[TRIM_LEN..].starts_with(RIGHT) {
            self.pos -= 1;
            if n == 1 {
                return State::RightDelim;
            }
        }
        self.emit(TokKind::Space);
        State::InsideAction
    }

    fn lex_identifier(&mut self) -> State {
        loop {
            match self.next() {
                Some(c) if is_alnum(c) => {}
                other => {
                    self.backup(other);
                    break;
                }
            }
        }
        if !self.at_terminator() {
            let c = self.peek().unwrap_or('\u{0}');
            return self.error(format!("bad character {}", sharp_u(c)));
        }
        let word = &self.input[self.start..self.pos];
        let kind = match word {
            "block" => TokKind::Block,
            "break" => TokKind::Break,
            "continue" => TokKind::Continue,
            "define" => TokKind::Define,
            "else" => TokKind::Else,
            "end" => TokKind::End,
            "if" => TokKind::If,
            "range" => TokKind::Range,
            "nil" => TokKind::Nil,
            "template" => TokKind::Template,
            "with" => TokKind::With,
            "true" | "false" => TokKind::Bool,
            _ => TokKind::Identifier,
        };
        self.emit(kind);
        State::InsideAction
    }

    fn lex_variable(&mut self) -> State {
        if self.at_terminator() {
            self.emit(TokKind::Variable);
            return State::InsideAction;
        }
        self.lex_field_or_variable(TokKind::Variable)
    }

    fn lex_field_or_variable(&mut self, kind: TokKind) -> State {
        if self.at_terminator() {
            self.emit(if kind == TokKind::Variable {
                TokKind::Variable
            } else {
                TokKind::Dot
            });
            return State::InsideAction;
        }
        loop {
            match self.next() {
                Some(c) if is_alnum(c) => {}
                other => {
                    self.backup(other);
                    break;
                }
            }
        }
        if !self.at_terminator() {
            let c = self.peek().unwrap_or('\u{0}');
            return self.error(format!("bad character {}", sharp_u(c)));
        }
        self.emit(kind);
        State::InsideAction
    }

    fn lex_char(&mut self) -> State {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    Some(c) if c != '\n' => continue,
                    _ => return self.error("unterminated character constant".into()),
                },
                None | Some('\n') => return self.error("unterminated character constant".into()),
                Some('\'') => break,
                _ => {}
            }
        }
        self.emit(TokKind::CharConstant);
        State::InsideAction
    }

    fn lex_number(&mut self) -> State {
        if !self.scan_number() {
            let text = self.input[self.start..self.pos].to_string();
            return self.error(format!("bad number syntax: {}", crate::fmt::quote(&text)));
        }
        if matches!(self.peek(), Some('+' | '-')) {
            if !self.scan_number() || !self.input[..self.pos].ends_with('i') {
                let text = self.input[self.start..self.pos].to_string();
                return self.error(format!("bad number syntax: {}", crate::fmt::quote(&text)));
            }
            self.emit(TokKind::Complex);
        } else {
            self.emit(TokKind::Number);
        }
        State::InsideAction
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if let Some(c) = self.peek()
            && is_alnum(c)
        {
            self.next();
            return false;
        }
        true
    }

    fn lex_quote(&mut self) -> State {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    Some(c) if c != '\n' => continue,
                    _ => return self.error("unterminated quoted string".into()),
                },
                None | Some('\n') => return self.error("unterminated quoted string".into()),
                Some('"') => break,
                _ => {}
            }
        }
        self.emit(TokKind::String);
        State::InsideAction
    }

    fn lex_raw_quote(&mut self) -> State {
        loop {
            match self.next() {
                None => return self.error("unterminated raw quoted string".into()),
                Some('`') => break,
                _ => {}
            }
        }
        self.emit(TokKind::RawString);
        State::InsideAction
    }
}

/// Splits `input` into tokens. The last token is `Eof` or `Error`.
pub(crate) fn lex(input: &str) -> Vec<Token> {
    let mut l = Lexer {
        input,
        pos: 0,
        start: 0,
        start_line: 1,
        paren_depth: 0,
        out: Vec::new(),
    };
    let mut state = State::Text;
    loop {
        state = match state {
            State::Text => l.lex_text(),
            State::LeftDelim => l.lex_left_delim(),
            State::InsideAction => l.lex_inside_action(),
            State::RightDelim => l.lex_right_delim(),
            State::Done => break,
        };
    }
    l.out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_tokens() {
        let toks = lex("a  {{- .x -}}  b");
        let kinds: Vec<_> = toks.iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            vec![
                TokKind::Text,
                TokKind::LeftDelim,
                TokKind::Field,
                TokKind::RightDelim,
                TokKind::Text,
                TokKind::Eof
            ]
        );
        assert_eq!(toks[0].val, "a");
        assert_eq!(toks[4].val, "b");
    }
}
