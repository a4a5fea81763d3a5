//! text/template's built-in functions: `and or not len index slice print
//! printf println eq ne lt le gt ge html js urlquery call`, with Go's
//! error texts (`incompatible types for comparison`, `index out of
//! range: 3`, ...). `and`/`or` short-circuit inside the executor.

use std::sync::OnceLock;

use super::{Func, FuncMap, Param};
use crate::fmt::{sprint, sprintf, sprintln};
use crate::value::{MapKind, Value};

/// The built-in function table (shared, built once).
pub fn builtins() -> &'static FuncMap {
    static B: OnceLock<FuncMap> = OnceLock::new();
    B.get_or_init(build)
}

fn build() -> FuncMap {
    use Param::{Any, Reflect};
    let mut m = FuncMap::new();
    let two = || vec![Reflect, Reflect];
    m.insert(
        "and",
        Func::variadic(two(), |_, a| {
            Ok(a.into_iter().find(|v| !v.truth()).unwrap_or(Value::Missing))
        }),
    );
    m.insert(
        "or",
        Func::variadic(two(), |_, a| {
            Ok(a.into_iter().find(Value::truth).unwrap_or(Value::Missing))
        }),
    );
    m.insert(
        "not",
        Func::simple(vec![Reflect], |a| Ok(Value::Bool(!a[0].truth()))),
    );
    m.insert("len", Func::simple(vec![Reflect], |a| length(&a[0])));
    m.insert("index", Func::variadic(two(), |_, a| index(&a[0], &a[1..])));
    m.insert("slice", Func::variadic(two(), |_, a| slice(&a[0], &a[1..])));
    m.insert(
        "print",
        Func::variadic(vec![Any], |_, a| Ok(Value::from(sprint(&a)))),
    );
    m.insert(
        "println",
        Func::variadic(vec![Any], |_, a| Ok(Value::from(sprintln(&a)))),
    );
    m.insert(
        "printf",
        Func::variadic(vec![Param::String, Any], |_, a| {
            Ok(Value::from(sprintf(
                a[0].as_str().unwrap_or_default(),
                &a[1..],
            )))
        }),
    );
    m.insert(
        "eq",
        Func::variadic(two(), |_, a| eq(&a[0], &a[1..]).map(Value::Bool)),
    );
    m.insert(
        "ne",
        Func::simple(two(), |a| eq(&a[0], &a[1..]).map(|b| Value::Bool(!b))),
    );
    m.insert(
        "lt",
        Func::simple(two(), |a| lt(&a[0], &a[1]).map(Value::Bool)),
    );
    m.insert(
        "le",
        Func::simple(two(), |a| le(&a[0], &a[1]).map(Value::Bool)),
    );
    m.insert(
        "gt",
        Func::simple(two(), |a| le(&a[0], &a[1]).map(|b| Value::Bool(!b))),
    );
    m.insert(
        "ge",
        Func::simple(two(), |a| lt(&a[0], &a[1]).map(|b| Value::Bool(!b))),
    );
    m.insert(
        "html",
        Func::variadic(vec![Any], |_, a| {
            Ok(Value::from(html_escape(&eval_args(&a))))
        }),
    );
    m.insert(
        "js",
        Func::variadic(vec![Any], |_, a| Ok(Value::from(js_escape(&eval_args(&a))))),
    );
    m.insert(
        "urlquery",
        Func::variadic(vec![Any], |_, a| {
            Ok(Value::from(query_escape(&eval_args(&a))))
        }),
    );
    m.insert("call", Func::variadic(two(), call));
    m
}

/// Go's `evalArgs`: a lone string as is, else `fmt.Sprint` of the
/// printable values.
fn eval_args(args: &[Value]) -> String {
    if let [Value::String(s)] = args {
        return s.to_string();
    }
    let args: Vec<Value> = args
        .iter()
        .map(|a| match a {
            Value::Missing | Value::Nil => Value::from("<no value>"),
            v => v.clone(),
        })
        .collect();
    sprint(&args)
}

fn length(v: &Value) -> Result<Value, String> {
    Ok(Value::Int(match v {
        Value::String(s) | Value::Html(s) => s.len() as i64,
        Value::List(l) => l.items.len() as i64,
        Value::Map(m) => m.entries.len() as i64,
        Value::Nil | Value::Missing => return Err("len of nil pointer".into()),
        other => return Err(format!("len of type {}", other.type_name())),
    }))
}

fn index_arg(i: &Value, cap: usize) -> Result<usize, String> {
    let x = match i {
        Value::Int(x) | Value::Duration(x) => *x,
        Value::Nil | Value::Missing => return Err("cannot index slice/array with nil".into()),
        other => {
            return Err(format!(
                "cannot index slice/array with type {}",
                other.type_name()
            ));
        }
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

fn index(item: &Value, indexes: &[Value]) -> Result<Value, String> {
    let mut item = item.clone();
    if matches!(item, Value::Missing | Value::Nil) {
        return Err("index of untyped nil".into());
    }
    for ix in indexes {
        item = match &item {
            Value::Missing | Value::Nil => return Err("index of nil pointer".into()),
            Value::List(l) => {
                let x = index_arg(ix, l.items.len())?;
                match l.items.get(x) {
                    Some(v) => v.clone(),
                    None => return Err(format!("index out of range: {x}")),
                }
            }
            Value::String(s) | Value::Html(s) => {
                let x = index_arg(ix, s.len())?;
                match s.as_bytes().get(x) {
                    Some(b) => Value::Int(*b as i64),
                    None => return Err(format!("index out of range: {x}")),
                }
            }
            Value::Map(m) => {
                let key = match ix {
                    Value::String(k) => k.to_string(),
                    Value::Missing | Value::Nil => {
                        return Err("value is nil; should be of type string".into());
                    }
                    other => {
                        return Err(format!(
                            "value has type {}; should be string",
                            other.type_name()
                        ));
                    }
                };
                match m.entries.get(&key) {
                    Some(Value::Nil) => Value::Missing,
                    Some(v) => v.clone(),
                    None => match m.kind {
                        MapKind::Any => Value::Missing,
                        _ => Value::from(""),
                    },
                }
            }
            other => return Err(format!("can't index item of type {}", other.type_name())),
        };
    }
    Ok(item)
}

fn slice(item: &Value, indexes: &[Value]) -> Result<Value, String> {
    if matches!(item, Value::Missing | Value::Nil) {
        return Err("slice of untyped nil".into());
    }
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()));
    }
    let len = match item {
        Value::String(s) | Value::Html(s) => {
            if indexes.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            s.len()
        }
        Value::List(l) => l.items.len(),
        other => return Err(format!("can't slice item of type {}", other.type_name())),
    };
    let mut idx = [0, len, len];
    for (i, ix) in indexes.iter().enumerate() {
        idx[i] = index_arg(ix, len)?;
    }
    if idx[0] > idx[1] {
        return Err(format!("invalid slice index: {} > {}", idx[0], idx[1]));
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(format!("invalid slice index: {} > {}", idx[1], idx[2]));
    }
    Ok(match item {
        Value::String(s) => {
            Value::from(String::from_utf8_lossy(&s.as_bytes()[idx[0]..idx[1]]).into_owned())
        }
        Value::Html(s) => {
            Value::Html(String::from_utf8_lossy(&s.as_bytes()[idx[0]..idx[1]]).into())
        }
        Value::List(l) => Value::list(l.kind.clone(), l.items[idx[0]..idx[1]].to_vec()),
        _ => Value::Missing,
    })
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    String,
    Other,
}

fn basic_kind(v: &Value) -> Kind {
    match v {
        Value::Missing | Value::Nil => Kind::Invalid,
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) | Value::Duration(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::String(_) | Value::Html(_) => Kind::String,
        _ => Kind::Other,
    }
}

const BAD_TYPE: &str = "invalid type for comparison";
const BAD_CMP: &str = "incompatible types for comparison";

/// Go's `eq`: true if `a` equals any of `rest`.
pub(crate) fn eq(a: &Value, rest: &[Value]) -> Result<bool, String> {
    if rest.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = basic_kind(a);
    for b in rest {
        let k2 = basic_kind(b);
        let truth = if k1 != k2 {
            if k1 != Kind::Invalid && k2 != Kind::Invalid {
                return Err(BAD_CMP.into());
            }
            false
        } else {
            match (a, b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Int(x) | Value::Duration(x), Value::Int(y) | Value::Duration(y)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                _ if k1 == Kind::String => a.as_str() == b.as_str(),
                _ if k1 == Kind::Invalid => true,
                (Value::Time(x), Value::Time(y)) => x == y,
                (Value::List(_), _) | (Value::Map(_), _) | (Value::Func(_), _) => {
                    return Err(format!(
                        "non-comparable type {}: {}",
                        crate::fmt::value_v(b, false, 0),
                        b.type_name()
                    ));
                }
                _ => {
                    if a.type_name() != b.type_name() {
                        return Err(format!(
                            "non-comparable types {}: {}, {}: {}",
                            crate::fmt::value_v(a, false, 0),
                            a.type_name(),
                            b.type_name(),
                            crate::fmt::value_v(b, false, 0)
                        ));
                    }
                    crate::fmt::value_v(a, true, 0) == crate::fmt::value_v(b, true, 0)
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn lt(a: &Value, b: &Value) -> Result<bool, String> {
    let k1 = basic_kind(a);
    if matches!(k1, Kind::Invalid | Kind::Other) {
        return Err(BAD_TYPE.into());
    }
    let k2 = basic_kind(b);
    if matches!(k2, Kind::Invalid | Kind::Other) {
        return Err(BAD_TYPE.into());
    }
    if k1 != k2 {
        return Err(BAD_CMP.into());
    }
    Ok(match (a, b) {
        (Value::Bool(_), _) => return Err(BAD_TYPE.into()),
        (Value::Int(x) | Value::Duration(x), Value::Int(y) | Value::Duration(y)) => x < y,
        (Value::Float(x), Value::Float(y)) => x < y,
        _ => a.as_str() < b.as_str(),
    })
}

fn le(a: &Value, b: &Value) -> Result<bool, String> {
    if lt(a, b)? {
        return Ok(true);
    }
    eq(a, std::slice::from_ref(b))
}

fn call(ctx: &mut dyn super::Context, a: Vec<Value>) -> Result<Value, String> {
    let mut it = a.into_iter();
    let f = match it.next() {
        Some(Value::Func(f)) => f,
        Some(Value::Missing | Value::Nil) | None => return Err("call of nil".into()),
        Some(other) => return Err(format!("non-function of type {}", other.type_name())),
    };
    let args: Vec<Value> = it.collect();
    let n = f.params().len();
    if (!f.is_variadic() && args.len() != n) || (f.is_variadic() && args.len() + 1 < n) {
        return Err(format!(
            "wrong number of args: got {} want {}",
            args.len(),
            n
        ));
    }
    f.call(ctx, args)
}

/// Go's `template.HTMLEscapeString`.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Go's `template.JSEscapeString`.
pub fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if (c as u32) < 0x80 => out.push(c),
            c if crate::fmt::is_print(c) => out.push(c),
            c => out.push_str(&format!("\\u{:04X}", c as u32)),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
