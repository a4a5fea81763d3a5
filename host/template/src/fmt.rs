//! Go's `fmt` for [`Value`]s: `Sprint`, `Sprintln`, `Sprintf` and the
//! `%v` rendering templates print with, including Go's float formatting
//! (`1e+06`, `0.1`, `3`), map and slice layout (`map[a:b]`, `[a b]`) and
//! the bad-verb texts (`%!d(string=foo)`, `%!v(MISSING)`, `%!(EXTRA ...)`).
//!
//! Floats are formatted from Rust's exact shortest / fixed-precision digit
//! generation, then laid out with Go's rules (`strconv.FormatFloat`).

use crate::value::Value;

/// Go's `strconv.Quote`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c, '"');
    }
    out.push('"');
    out
}

fn push_escaped(out: &mut String, c: char, q: char) {
    match c {
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        '\\' => out.push_str("\\\\"),
        c if c == q => {
            out.push('\\');
            out.push(c);
        }
        c if is_print(c) => out.push(c),
        c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// An approximation of Go's `unicode.IsPrint`.
pub(crate) fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(c as u32, 0xAD | 0x600..=0x605 | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0xFEFF | 0xE000..=0xF8FF | 0xFFF9..=0xFFFB)
}

// ---------------------------------------------------------------------
// Floats.

/// Decimal digits of |f| (no leading/trailing zeros) and the decimal
/// point position: |f| = 0.DIGITS × 10^dp.
fn shortest_digits(f: f64) -> (Vec<u8>, i32) {
    if f == 0.0 {
        return (Vec::new(), 0);
    }
    split_sci(&format!("{:e}", f.abs()))
}

/// |f| rounded to `n` (≥ 1) significant digits, trailing zeros trimmed.
fn rounded_digits(f: f64, n: usize) -> (Vec<u8>, i32) {
    if f == 0.0 {
        return (Vec::new(), 0);
    }
    let (mut d, dp) = split_sci(&format!("{:.*e}", n.saturating_sub(1), f.abs()));
    while d.last() == Some(&b'0') {
        d.pop();
    }
    (d, dp)
}

fn split_sci(s: &str) -> (Vec<u8>, i32) {
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    while digits.last() == Some(&b'0') && digits.len() > 1 {
        digits.pop();
    }
    (digits, exp + 1)
}

fn fmt_e(digits: &[u8], dp: i32, prec: usize, e: char) -> String {
    let mut s = String::new();
    s.push(digits.first().map_or('0', |&d| d as char));
    if prec > 0 {
        s.push('.');
        for i in 1..=prec {
            s.push(digits.get(i).map_or('0', |&d| d as char));
        }
    }
    s.push(e);
    let exp = if digits.is_empty() { 0 } else { dp - 1 };
    s.push(if exp < 0 { '-' } else { '+' });
    let a = exp.unsigned_abs();
    if a < 10 {
        s.push('0');
    }
    s.push_str(&a.to_string());
    s
}

fn fmt_f(digits: &[u8], dp: i32, prec: usize) -> String {
    let mut s = String::new();
    if dp > 0 {
        for i in 0..dp as usize {
            s.push(digits.get(i).map_or('0', |&d| d as char));
        }
    } else {
        s.push('0');
    }
    if prec > 0 {
        s.push('.');
        for i in 1..=prec as i32 {
            let idx = dp + i - 1;
            let c = if idx >= 0 {
                digits.get(idx as usize).map_or('0', |&d| d as char)
            } else {
                '0'
            };
            s.push(c);
        }
    }
    s
}

/// Go's `strconv.FormatFloat(f, verb, prec, 64)` for verbs `e E f F g G`,
/// without the sign (returned separately). `prec` `None` means shortest.
fn format_float_abs(f: f64, verb: char, prec: Option<usize>) -> String {
    match verb {
        'e' | 'E' => {
            let e = if verb == 'E' { 'E' } else { 'e' };
            match prec {
                None => {
                    let (d, dp) = shortest_digits(f);
                    fmt_e(&d, dp, d.len().saturating_sub(1), e)
                }
                Some(p) => {
                    let (d, dp) = rounded_digits(f, p + 1);
                    fmt_e(&d, dp, p, e)
                }
            }
        }
        'f' | 'F' => match prec {
            None => {
                let (d, dp) = shortest_digits(f);
                fmt_f(&d, dp, (d.len() as i32 - dp).max(0) as usize)
            }
            Some(p) => format!("{:.*}", p, f.abs()),
        },
        _ => {
            let e = if verb == 'G' { 'E' } else { 'e' };
            let (d, dp, mut prec, eprec) = match prec {
                None => {
                    let (d, dp) = shortest_digits(f);
                    let n = d.len();
                    (d, dp, n, 6)
                }
                Some(p) => {
                    let p = p.max(1);
                    let (d, dp) = rounded_digits(f, p);
                    let mut eprec = p as i32;
                    if eprec > d.len() as i32 && d.len() as i32 >= dp {
                        eprec = d.len() as i32;
                    }
                    (d, dp, p, eprec as usize)
                }
            };
            let exp = dp - 1;
            if exp < -4 || exp >= eprec as i32 {
                if prec > d.len() {
                    prec = d.len();
                }
                return fmt_e(&d, dp, prec.saturating_sub(1), e);
            }
            if prec as i32 > dp {
                prec = d.len();
            }
            fmt_f(&d, dp, (prec as i32 - dp).max(0) as usize)
        }
    }
}

/// Go's `%v` of a float64 (`strconv.FormatFloat(f, 'g', -1, 64)` with Go's
/// `+Inf`).
pub fn format_float_v(f: f64) -> String {
    let spec = Spec {
        verb: 'v',
        ..Spec::default()
    };
    float(&spec, f)
}

/// `fmt.Sprintf("%.4g", f)` and friends, for the Prometheus functions.
pub(crate) fn format_float(f: f64, verb: char, prec: Option<usize>) -> String {
    let spec = Spec {
        verb,
        prec,
        ..Spec::default()
    };
    float(&spec, f)
}

// ---------------------------------------------------------------------
// Printf machinery.

#[derive(Debug, Clone, Default)]
struct Spec {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
    verb: char,
}

fn pad(spec: &Spec, s: String) -> String {
    let Some(w) = spec.width else { return s };
    let n = s.chars().count();
    if n >= w {
        return s;
    }
    let fill = " ".repeat(w - n);
    if spec.minus { s + &fill } else { fill + &s }
}

/// Pads a signed number: zero padding goes after the sign.
fn pad_number(spec: &Spec, sign: &str, body: &str) -> String {
    if spec.zero
        && !spec.minus
        && let Some(w) = spec.width
    {
        let n = sign.len() + body.chars().count();
        if n < w {
            return format!("{sign}{}{body}", "0".repeat(w - n));
        }
    }
    pad(spec, format!("{sign}{body}"))
}

fn float(spec: &Spec, f: f64) -> String {
    if f.is_nan() || f.is_infinite() {
        let body = if f.is_nan() { "NaN" } else { "Inf" };
        let sign = if f.is_nan() {
            if spec.plus {
                "+"
            } else if spec.space {
                " "
            } else {
                ""
            }
        } else if f < 0.0 {
            "-"
        } else if spec.plus || !spec.space {
            "+"
        } else {
            " "
        };
        let s = Spec {
            zero: false,
            ..spec.clone()
        };
        return pad(&s, format!("{sign}{body}"));
    }
    let verb = match spec.verb {
        'v' => 'g',
        v => v,
    };
    let prec = match verb {
        'e' | 'E' | 'f' | 'F' => Some(spec.prec.unwrap_or(6)),
        _ => spec.prec,
    };
    let mut body = format_float_abs(f, verb, prec);
    if spec.sharp && verb != 'v' && !body.contains('.') {
        // %#g etc. keep the decimal point.
        if let Some(i) = body.find(['e', 'E']) {
            body.insert(i, '.');
        } else {
            body.push('.');
        }
    }
    let neg = f.is_sign_negative();
    let sign = if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    pad_number(spec, sign, &body)
}

fn integer(spec: &Spec, i: i64) -> String {
    let neg = i < 0;
    let a = i.unsigned_abs();
    let mut body = match spec.verb {
        'b' => format!("{a:b}"),
        'o' | 'O' => format!("{a:o}"),
        'x' => format!("{a:x}"),
        'X' => format!("{a:X}"),
        _ => a.to_string(),
    };
    if let Some(p) = spec.prec {
        if p == 0 && a == 0 {
            body.clear();
        } else if body.len() < p {
            body = "0".repeat(p - body.len()) + &body;
        }
    }
    let prefix = match spec.verb {
        'O' => "0o",
        'x' if spec.sharp => "0x",
        'X' if spec.sharp => "0X",
        'b' if spec.sharp => "0b",
        'o' if spec.sharp => "0",
        _ => "",
    };
    let sign = if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    let s = Spec {
        zero: spec.zero && spec.prec.is_none(),
        ..spec.clone()
    };
    pad_number(&s, &format!("{sign}{prefix}"), &body)
}

fn string(spec: &Spec, s: &str) -> String {
    match spec.verb {
        'q' => {
            let s = truncate(s, spec.prec);
            if spec.sharp && !s.contains('`') {
                pad(spec, format!("`{s}`"))
            } else {
                pad(spec, quote(&s))
            }
        }
        'x' | 'X' => {
            let s = truncate_bytes(s, spec.prec);
            let mut out = String::new();
            for (i, b) in s.iter().enumerate() {
                if spec.space && i > 0 {
                    out.push(' ');
                }
                if spec.sharp && (spec.space || i == 0) {
                    out.push_str(if spec.verb == 'x' { "0x" } else { "0X" });
                }
                if spec.verb == 'x' {
                    out.push_str(&format!("{b:02x}"));
                } else {
                    out.push_str(&format!("{b:02X}"));
                }
            }
            pad(spec, out)
        }
        _ => pad(spec, truncate(s, spec.prec)),
    }
}

fn truncate(s: &str, prec: Option<usize>) -> String {
    match prec {
        Some(p) => s.chars().take(p).collect(),
        None => s.to_string(),
    }
}

fn truncate_bytes(s: &str, prec: Option<usize>) -> Vec<u8> {
    let t = truncate(s, prec);
    t.into_bytes()
}

fn bad_verb(spec: &Spec, v: &Value) -> String {
    match v {
        Value::Nil | Value::Missing => format!("%!{}(<nil>)", spec.verb),
        _ => format!(
            "%!{}({}={})",
            spec.verb,
            v.type_name(),
            value_v(v, false, 0)
        ),
    }
}

/// Formats one argument for one verb (Go's `printArg`).
fn format_arg(spec: &Spec, v: &Value, depth: usize) -> String {
    if depth > 64 {
        return "...".into();
    }
    let verb = spec.verb;
    match v {
        Value::Nil | Value::Missing => match verb {
            'v' | 'T' => pad(spec, "<nil>".into()),
            _ => bad_verb(spec, v),
        },
        Value::Bool(b) => match verb {
            't' | 'v' => pad(spec, b.to_string()),
            _ => bad_verb(spec, v),
        },
        Value::Int(i) => match verb {
            'v' | 'd' | 'b' | 'o' | 'O' | 'x' | 'X' => integer(spec, *i),
            'c' => pad(
                spec,
                char::from_u32(*i as u32).unwrap_or('\u{FFFD}').to_string(),
            ),
            'q' => {
                let c = char::from_u32(*i as u32).unwrap_or('\u{FFFD}');
                let mut s = String::from("'");
                push_escaped(&mut s, c, '\'');
                s.push('\'');
                pad(spec, s)
            }
            'U' => pad(spec, format!("U+{:04X}", i)),
            _ => bad_verb(spec, v),
        },
        Value::Duration(d) => match verb {
            'v' | 's' | 'q' => string(spec, &crate::gotime::duration_string(*d)),
            'd' | 'b' | 'o' | 'O' | 'x' | 'X' => integer(spec, *d),
            _ => bad_verb(spec, v),
        },
        Value::Float(f) => match verb {
            'v' | 'b' | 'g' | 'G' | 'x' | 'X' | 'f' | 'F' | 'e' | 'E' => float(spec, *f),
            _ => bad_verb(spec, v),
        },
        Value::String(s) | Value::Html(s) => match verb {
            'v' => {
                if spec.sharp {
                    pad(spec, quote(s))
                } else {
                    pad(spec, truncate(s, spec.prec))
                }
            }
            's' | 'q' | 'x' | 'X' => string(spec, s),
            _ => bad_verb(spec, v),
        },
        Value::Time(t) => match verb {
            'v' | 's' | 'q' | 'x' | 'X' => {
                let s = crate::gotime::time_string(t);
                let sp = Spec {
                    verb: if verb == 'v' { 's' } else { verb },
                    ..spec.clone()
                };
                string(&sp, &s)
            }
            _ => bad_verb(spec, v),
        },
        Value::Func(_) => match verb {
            'v' | 'p' => pad(spec, "0x0".into()),
            _ => bad_verb(spec, v),
        },
        Value::Object(o) => pad(spec, o.format()),
        Value::List(l) => {
            let inner = Spec {
                width: spec.width,
                ..spec.clone()
            };
            let parts: Vec<String> = l
                .items
                .iter()
                .map(|i| format_arg(&inner, i, depth + 1))
                .collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Map(m) => {
            let parts: Vec<String> = m
                .entries
                .iter()
                .map(|(k, val)| {
                    format!(
                        "{}:{}",
                        format_arg(spec, &Value::from(k.as_str()), depth + 1),
                        format_arg(spec, val, depth + 1)
                    )
                })
                .collect();
            format!("map[{}]", parts.join(" "))
        }
        Value::Struct(s) => {
            let parts: Vec<String> = s
                .fields
                .iter()
                .map(|(n, val)| {
                    let body = format_arg(spec, val, depth + 1);
                    if spec.plus {
                        format!("{n}:{body}")
                    } else {
                        body
                    }
                })
                .collect();
            let amp = if s.pointer && depth == 0 { "&" } else { "" };
            format!("{amp}{{{}}}", parts.join(" "))
        }
    }
}

/// `%v` of a value (`plus` for `%+v`).
pub(crate) fn value_v(v: &Value, plus: bool, depth: usize) -> String {
    let spec = Spec {
        plus,
        verb: 'v',
        ..Spec::default()
    };
    format_arg(&spec, v, depth)
}

fn is_string_kind(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Html(_))
}

/// Go's `fmt.Sprint`: operands joined, with a space between two operands
/// when neither is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_str = is_string_kind(a);
        if i > 0 && !is_str && !prev_string {
            out.push(' ');
        }
        out.push_str(&value_v(a, false, 0));
        prev_string = is_str;
    }
    out
}

/// Go's `fmt.Sprintln`: operands joined by spaces, then a newline.
pub fn sprintln(args: &[Value]) -> String {
    let mut out: Vec<String> = args.iter().map(|a| value_v(a, false, 0)).collect();
    let mut s = std::mem::take(&mut out).join(" ");
    s.push('\n');
    s
}

/// Go's `fmt.Sprintf`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut argi = 0;
    let mut chars = format.char_indices().peekable();
    let mut reordered = false;
    while let Some((_, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        // Flags.
        while let Some(&(_, f)) = chars.peek() {
            match f {
                '+' => spec.plus = true,
                '-' => {
                    spec.minus = true;
                    spec.zero = false;
                }
                '#' => spec.sharp = true,
                ' ' => spec.space = true,
                '0' => spec.zero = !spec.minus,
                _ => break,
            }
            chars.next();
        }
        // Argument index [n].
        let mut take_index = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
                              argi: &mut usize|
         -> bool {
            if chars.peek().map(|&(_, c)| c) != Some('[') {
                return true;
            }
            chars.next();
            let mut n = String::new();
            while let Some(&(_, d)) = chars.peek() {
                chars.next();
                if d == ']' {
                    break;
                }
                n.push(d);
            }
            match n.parse::<usize>() {
                Ok(i) if i >= 1 => {
                    *argi = i - 1;
                    reordered = true;
                    true
                }
                _ => false,
            }
        };
        let mut good = take_index(&mut chars, &mut argi);
        // Width.
        if chars.peek().map(|&(_, c)| c) == Some('*') {
            chars.next();
            match args.get(argi) {
                Some(Value::Int(w)) => {
                    if *w < 0 {
                        spec.minus = true;
                        spec.zero = false;
                    }
                    spec.width = Some(w.unsigned_abs() as usize);
                }
                _ => out.push_str("%!(BADWIDTH)"),
            }
            argi += 1;
        } else {
            let mut w = String::new();
            while let Some(&(_, d)) = chars.peek() {
                if !d.is_ascii_digit() {
                    break;
                }
                w.push(d);
                chars.next();
            }
            if !w.is_empty() {
                spec.width = w.parse().ok();
            }
        }
        // Precision.
        if chars.peek().map(|&(_, c)| c) == Some('.') {
            chars.next();
            good = good && take_index(&mut chars, &mut argi);
            if chars.peek().map(|&(_, c)| c) == Some('*') {
                chars.next();
                match args.get(argi) {
                    Some(Value::Int(p)) if *p >= 0 => spec.prec = Some(*p as usize),
                    _ => out.push_str("%!(BADPREC)"),
                }
                argi += 1;
            } else {
                let mut p = String::new();
                while let Some(&(_, d)) = chars.peek() {
                    if !d.is_ascii_digit() {
                        break;
                    }
                    p.push(d);
                    chars.next();
                }
                spec.prec = Some(p.parse().unwrap_or(0));
            }
        }
        good = good && take_index(&mut chars, &mut argi);
        let Some((_, verb)) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        spec.verb = verb;
        if verb == '%' {
            out.push('%');
            continue;
        }
        if !good {
            out.push_str(&format!("%!{verb}(BADINDEX)"));
            continue;
        }
        let Some(arg) = args.get(argi) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        argi += 1;
        if verb == 'T' {
            out.push_str(&pad(&spec, arg.type_name()));
            continue;
        }
        if verb == 'v' && spec.sharp {
            out.push_str(&go_syntax(arg));
            continue;
        }
        out.push_str(&format_arg(&spec, arg, 0));
    }
    if !reordered && argi < args.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = args[argi..]
            .iter()
            .map(|a| match a {
                Value::Nil | Value::Missing => "<nil>".to_string(),
                _ => format!("{}={}", a.type_name(), value_v(a, false, 0)),
            })
            .collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    out
}

/// A close approximation of `%#v`.
fn go_syntax(v: &Value) -> String {
    match v {
        Value::String(s) => quote(s),
        Value::Html(s) => format!("\"{}\"", &quote(s)[1..quote(s).len() - 1]),
        Value::Nil | Value::Missing => "<nil>".into(),
        Value::Map(m) => {
            let parts: Vec<String> = m
                .entries
                .iter()
                .map(|(k, v)| format!("{}:{}", quote(k), go_syntax(v)))
                .collect();
            format!("{}{{{}}}", v.type_name(), parts.join(", "))
        }
        Value::List(l) => {
            let parts: Vec<String> = l.items.iter().map(go_syntax).collect();
            format!("{}{{{}}}", v.type_name(), parts.join(", "))
        }
        _ => value_v(v, false, 0),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn f(fmt: &str, args: &[Value]) -> String {
        sprintf(fmt, args)
    }

    #[test]
    fn floats_like_go() {
        assert_eq!(format_float_v(1e6), "1e+06");
        assert_eq!(format_float_v(0.1), "0.1");
        assert_eq!(format_float_v(3.0), "3");
        assert_eq!(format_float_v(123456.0), "123456");
        assert_eq!(format_float_v(1234567.0), "1.234567e+06");
        assert_eq!(format_float_v(0.0001), "0.0001");
        assert_eq!(format_float_v(0.00001), "1e-05");
        assert_eq!(format_float_v(f64::INFINITY), "+Inf");
        assert_eq!(format_float_v(-0.0), "-0");
        assert_eq!(f("%.4g", &[Value::Float(1234.5678)]), "1235");
        assert_eq!(f("%.4g", &[Value::Float(1.2345678)]), "1.235");
        assert_eq!(f("%.4g", &[Value::Float(0.0)]), "0");
        assert_eq!(f("%.4g", &[Value::Float(12345678.0)]), "1.235e+07");
        assert_eq!(f("%.2f", &[Value::Float(1234.5678)]), "1234.57");
        assert_eq!(f("%e", &[Value::Float(1234.5678)]), "1.234568e+03");
        assert_eq!(
            f(
                "%5.1f|%-10s|%%",
                &[Value::Float(3.25159), Value::from("ab")]
            ),
            "  3.3|ab        |%"
        );
        assert_eq!(f("%d", &[Value::from("foo")]), "%!d(string=foo)");
        assert_eq!(f("%d %d", &[Value::Int(1)]), "1 %!d(MISSING)");
        assert_eq!(
            f("%d", &[Value::Int(1), Value::from("x")]),
            "1%!(EXTRA string=x)"
        );
        assert_eq!(
            f("%x %q", &[Value::from("hi"), Value::from("a\"b")]),
            "6869 \"a\\\"b\""
        );
        assert_eq!(
            f(
                "%05d|%+d|%x",
                &[Value::Int(42), Value::Int(5), Value::Int(255)]
            ),
            "00042|+5|ff"
        );
    }
}
