//! [`Located`]: a config value with the byte span it came from, when there
//! is one.
//!
//! `toml::Spanned` only deserializes from TOML text; from a `toml::Value`
//! (a table another crate already parsed) it fails. `Located` speaks the
//! same protocol with the text deserializer, so errors can name
//! `file:line:column`, and falls back to the bare value (no span) for
//! every other deserializer.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, Range};

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// The private struct name and fields `toml` recognises as a span request.
const NAME: &str = "$__serde_spanned_private_Spanned";
const START: &str = "$__serde_spanned_private_start";
const END: &str = "$__serde_spanned_private_end";
const VALUE: &str = "$__serde_spanned_private_value";
const FIELDS: [&str; 3] = [START, END, VALUE];

/// A value and, when read from TOML text, its byte range in that text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Byte range in the source text, if known.
    pub span: Option<Range<usize>>,
}

impl<T> Located<T> {
    /// A value with no span (built in code).
    pub fn new(value: T) -> Self {
        Located { value, span: None }
    }

    /// The byte range in the source text, if known.
    pub fn span(&self) -> Option<Range<usize>> {
        self.span.clone()
    }

    /// The value.
    pub fn get_ref(&self) -> &T {
        &self.value
    }
}

impl<T> Deref for Located<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> From<T> for Located<T> {
    fn from(value: T) -> Self {
        Located::new(value)
    }
}

struct LocatedVisitor<T>(PhantomData<T>);

fn plain<'de, T: Deserialize<'de>, E: de::Error>(v: toml::Value) -> Result<Located<T>, E> {
    T::deserialize(v)
        .map(Located::new)
        .map_err(|e| E::custom(e.message()))
}

macro_rules! forward_scalar {
    ($($f:ident: $t:ty => $conv:expr),* $(,)?) => {
        $(fn $f<E: de::Error>(self, v: $t) -> Result<Self::Value, E> {
            #[allow(clippy::redundant_closure_call)]
            plain(($conv)(v))
        })*
    };
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for LocatedVisitor<T> {
    type Value = Located<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value")
    }

    forward_scalar! {
        visit_bool: bool => toml::Value::Boolean,
        visit_i64: i64 => toml::Value::Integer,
        visit_u64: u64 => |v: u64| i64::try_from(v).map_or(toml::Value::Float(v as f64), toml::Value::Integer),
        visit_f64: f64 => toml::Value::Float,
        visit_str: &str => |v: &str| toml::Value::String(v.to_owned()),
        visit_string: String => toml::Value::String,
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element::<toml::Value>()? {
            items.push(v);
        }
        plain(toml::Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some(first) = map.next_key::<String>()? else {
            return plain(toml::Value::Table(toml::Table::new()));
        };
        if first != START {
            // A plain table: buffer it and deserialize the value from it.
            let mut table = toml::Table::new();
            table.insert(first, map.next_value()?);
            while let Some((k, v)) = map.next_entry::<String, toml::Value>()? {
                table.insert(k, v);
            }
            return plain(toml::Value::Table(table));
        }
        let start: usize = map.next_value()?;
        let (mut end, mut value) = (None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                END => end = Some(map.next_value::<usize>()?),
                VALUE => value = Some(map.next_value::<T>()?),
                other => return Err(de::Error::unknown_field(other, &FIELDS)),
            }
        }
        let end = end.ok_or_else(|| de::Error::missing_field(END))?;
        let value = value.ok_or_else(|| de::Error::missing_field(VALUE))?;
        Ok(Located {
            value,
            span: Some(start..end),
        })
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct(NAME, &FIELDS, LocatedVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Doc {
        a: Located<String>,
        b: Located<Vec<Located<i64>>>,
        c: Located<toml::Table>,
    }

    #[test]
    fn spans_from_text_and_none_from_values() {
        let text = "a = \"x\"\nb = [1, 2]\nc = { k = 1 }\n";
        let doc: Doc = toml::from_str(text).expect("parses");
        assert_eq!(doc.a.value, "x");
        assert_eq!(doc.a.span().and_then(|s| text.get(s)), Some("\"x\""));
        assert_eq!(doc.b.value[1].span().and_then(|s| text.get(s)), Some("2"));
        let value: toml::Value = toml::from_str(text).expect("parses");
        let doc = Doc::deserialize(value).expect("from a value too");
        assert_eq!(doc.a.value, "x");
        assert_eq!(doc.a.span, None);
        assert_eq!(*doc.b.value[0], 1);
        assert_eq!(
            doc.c.value.get("k").and_then(toml::Value::as_integer),
            Some(1)
        );
    }
}
