//! Literals: Go's `strconv.Unquote` for strings and characters, and the
//! number interpretation of Go's `parse.NumberNode`.

use crate::ast::Number;

/// Decodes one (possibly escaped) character at the start of `s`, as Go's
/// `strconv.UnquoteChar`. Returns the character (or byte) and the rest.
fn unquote_char(s: &str, quote: char) -> Result<(Unit, &str), ()> {
    let mut it = s.chars();
    let c = it.next().ok_or(())?;
    if c == quote && (quote == '\'' || quote == '"') {
        return Err(());
    }
    if c != '\\' {
        return Ok((Unit::Char(c), it.as_str()));
    }
    let e = it.next().ok_or(())?;
    let rest = it.as_str();
    let simple = match e {
        'a' => Some('\u{7}'),
        'b' => Some('\u{8}'),
        'f' => Some('\u{c}'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\u{b}'),
        '\\' => Some('\\'),
        '\'' | '"' => {
            if e != quote {
                return Err(());
            }
            Some(e)
        }
        _ => None,
    };
    if let Some(c) = simple {
        return Ok((Unit::Char(c), rest));
    }
    match e {
        'x' | 'u' | 'U' => {
            let n = match e {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let digits = rest.get(..n).ok_or(())?;
            if !digits.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(());
            }
            let v = u32::from_str_radix(digits, 16).map_err(|_| ())?;
            let rest = &rest[n..];
            if e == 'x' {
                return Ok((Unit::Byte(v as u8), rest));
            }
            let c = char::from_u32(v).ok_or(())?;
            Ok((Unit::Char(c), rest))
        }
        '0'..='7' => {
            let digits = s.get(1..4).ok_or(())?;
            if !digits.chars().all(|c| ('0'..='7').contains(&c)) {
                return Err(());
            }
            let v = u32::from_str_radix(digits, 8).map_err(|_| ())?;
            if v > 255 {
                return Err(());
            }
            Ok((Unit::Byte(v as u8), &s[4..]))
        }
        _ => Err(()),
    }
}

enum Unit {
    Char(char),
    Byte(u8),
}

/// Go's `strconv.Unquote` for `"..."`, `` `...` `` and `'...'`.
/// The error text is Go's (`invalid syntax`).
pub(crate) fn unquote(q: &str) -> Result<String, String> {
    let bad = || "invalid syntax".to_string();
    if q.len() < 2 {
        return Err(bad());
    }
    let quote = q.chars().next().ok_or_else(bad)?;
    if !q.ends_with(quote) {
        return Err(bad());
    }
    let body = &q[1..q.len() - 1];
    match quote {
        '`' => {
            if body.contains('`') {
                return Err(bad());
            }
            Ok(body.replace('\r', ""))
        }
        '"' | '\'' => {
            if body.contains('\n') {
                return Err(bad());
            }
            let mut bytes = Vec::new();
            let mut s = body;
            let mut count = 0;
            while !s.is_empty() {
                let (u, rest) = unquote_char(s, quote).map_err(|_| bad())?;
                match u {
                    Unit::Char(c) => {
                        let mut buf = [0u8; 4];
                        bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                    Unit::Byte(b) => bytes.push(b),
                }
                s = rest;
                count += 1;
            }
            if quote == '\'' && count != 1 {
                return Err(bad());
            }
            Ok(String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
        }
        _ => Err(bad()),
    }
}

/// The value of a character constant such as `'a'` or `'\n'`.
fn char_value(text: &str) -> Result<i64, String> {
    let body = text.get(1..).ok_or_else(|| "invalid syntax".to_string())?;
    let (u, tail) = unquote_char(body, '\'').map_err(|_| "invalid syntax".to_string())?;
    if tail != "'" {
        return Err(format!("malformed character constant: {text}"));
    }
    Ok(match u {
        Unit::Char(c) => c as i64,
        Unit::Byte(b) => b as i64,
    })
}

/// Go's `strconv.ParseInt(text, 0, 64)` / `ParseUint`: base prefixes
/// `0x`, `0o`, `0b`, a leading `0` for octal, `_` separators.
fn parse_go_int(text: &str) -> Option<(bool, u64)> {
    let (neg, t) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = t.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_string(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string(), true)
    } else {
        (10, lower.clone(), false)
    };
    if digits.contains('_') {
        // Underscores only between digits (or after a base prefix).
        let ok = !digits.ends_with('_')
            && !digits.contains("__")
            && (prefixed || !digits.starts_with('_'));
        if !ok {
            return None;
        }
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() {
        return None;
    }
    let v = u64::from_str_radix(&clean, radix).ok()?;
    Some((neg, v))
}

/// Go's `strconv.ParseFloat(text, 64)` for the literal forms the lexer
/// accepts (decimal, `_` separators, hex floats).
pub(crate) fn parse_go_float(text: &str) -> Option<f64> {
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    let (neg, t) = match clean.as_bytes().first() {
        Some(b'-') => (true, &clean[1..]),
        Some(b'+') => (false, &clean[1..]),
        _ => (false, clean.as_str()),
    };
    let lower = t.to_ascii_lowercase();
    let v = if let Some(h) = lower.strip_prefix("0x") {
        let (mant, exp) = h.split_once('p')?;
        let exp: i32 = exp.parse().ok()?;
        let (ip, fp) = mant.split_once('.').unwrap_or((mant, ""));
        let mut v = 0f64;
        for c in ip.chars().chain(fp.chars()) {
            v = v * 16.0 + c.to_digit(16)? as f64;
        }
        v * 2f64.powi(exp - 4 * fp.len() as i32)
    } else {
        match lower.as_str() {
            "inf" | "infinity" => f64::INFINITY,
            "nan" => f64::NAN,
            _ => {
                if !lower.chars().next()?.is_ascii_digit() && !lower.starts_with('.') {
                    return None;
                }
                lower.parse::<f64>().ok()?
            }
        }
    };
    Some(if neg { -v } else { v })
}

/// Builds a [`Number`] as Go's `newNumber`: which of int, uint and float
/// interpretations hold. Errors carry Go's text.
pub(crate) fn parse_number(pos: usize, text: &str, is_char: bool) -> Result<Number, String> {
    let mut n = Number {
        pos,
        text: text.to_string(),
        is_int: false,
        is_uint: false,
        is_float: false,
        is_complex: false,
        int: 0,
        float: 0.0,
    };
    if is_char {
        let v = char_value(text)?;
        n.is_int = true;
        n.is_uint = true;
        n.is_float = true;
        n.int = v;
        n.float = v as f64;
        return Ok(n);
    }
    if let Some(body) = text.strip_suffix('i') {
        if let Some(f) = parse_go_float(body) {
            n.is_complex = true;
            n.float = f;
            if f == 0.0 {
                n.is_int = true;
                n.is_uint = true;
                n.is_float = true;
            }
            return Ok(n);
        }
        return Err(format!(
            "illegal number syntax: {}",
            crate::fmt::quote(text)
        ));
    }
    if let Some((neg, v)) = parse_go_int(text) {
        if !neg {
            n.is_uint = true;
        }
        if neg && v <= (i64::MAX as u64) + 1 {
            n.is_int = true;
            n.int = (v as i64).wrapping_neg();
        } else if !neg && v <= i64::MAX as u64 {
            n.is_int = true;
            n.int = v as i64;
        }
        if n.is_int && n.int == 0 {
            n.is_uint = true;
        }
        if neg && v != 0 {
            n.is_uint = false;
        }
        if n.is_int {
            n.is_float = true;
            n.float = n.int as f64;
        } else if n.is_uint {
            n.is_float = true;
            n.float = v as f64;
        }
    } else if let Some(f) = parse_go_float(text) {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {}", crate::fmt::quote(text)));
        }
        n.is_float = true;
        n.float = f;
        if f.fract() == 0.0 && (-9.223372036854776e18..9.223372036854776e18).contains(&f) {
            n.is_int = true;
            n.int = f as i64;
        }
        if f.fract() == 0.0 && (0.0..1.8446744073709552e19).contains(&f) {
            n.is_uint = true;
        }
    }
    if !n.is_int && !n.is_uint && !n.is_float {
        return Err(format!(
            "illegal number syntax: {}",
            crate::fmt::quote(text)
        ));
    }
    Ok(n)
}
