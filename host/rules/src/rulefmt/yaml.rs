//! A YAML document as a tree of nodes with positions, the shape go-yaml v3's
//! `yaml.Node` has (`Kind`, `Tag`, `Value`, `Line`, `Column`), which is what
//! Prometheus' `model/rulefmt` decodes and reports lines from.
//!
//! The YAML itself is parsed by `serde_yaml_ng` (libyaml, as go-yaml is a
//! port of libyaml, so syntax errors carry libyaml's problem texts). That
//! crate does not expose node positions, so they are recovered from the
//! source text: plain and simply quoted scalars are handed to us borrowed
//! from the input (their address is their position), and every other node
//! is found by scanning forward from the end of the previous one, skipping
//! blanks, comments and the indicators `:`, `-`, `?` and `,`. This is exact
//! for the block-style YAML rule files are written in; in unusual layouts a
//! position may be off, never the values.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// A node's resolved tag, as go-yaml prints it in type errors (`!!str`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Str,
    Int,
    Float,
    Bool,
    Null,
    Seq,
    Map,
}

impl Tag {
    pub fn short(self) -> &'static str {
        match self {
            Tag::Str => "!!str",
            Tag::Int => "!!int",
            Tag::Float => "!!float",
            Tag::Bool => "!!bool",
            Tag::Null => "!!null",
            Tag::Seq => "!!seq",
            Tag::Map => "!!map",
        }
    }
}

/// The contents of a node.
#[derive(Debug, Clone)]
pub enum Content {
    /// A scalar's value (after unquoting and folding) and whether it was
    /// quoted or a block scalar (go-yaml: always a string then).
    Scalar {
        value: String,
        quoted: bool,
    },
    Seq(Vec<Node>),
    /// Key/value pairs in file order (duplicates kept, as go-yaml does).
    Map(Vec<(Node, Node)>),
}

/// One node with its 1-based position (0 when unknown).
#[derive(Debug, Clone)]
pub struct Node {
    pub content: Content,
    pub tag: Tag,
    pub line: usize,
    pub column: usize,
    /// `Some(name)` when the node was written as the alias `*name`; the
    /// content is then the anchored node's.
    pub alias: Option<String>,
}

impl Node {
    /// The scalar's value, `""` for collections (go-yaml's `Node.Value`;
    /// for an alias go-yaml holds the anchor name).
    pub fn node_value(&self) -> &str {
        if let Some(a) = &self.alias {
            return a;
        }
        match &self.content {
            Content::Scalar { value, .. } => value,
            _ => "",
        }
    }

    pub fn is_null(&self) -> bool {
        self.tag == Tag::Null && self.alias.is_none()
    }
}

/// A syntax error: libyaml's problem and go-yaml's line for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
}

/// Parses the first document of `src` (go-yaml decodes only the first).
/// `Ok(None)` for an empty stream.
pub fn parse_first_document(src: &str) -> Result<Option<Node>, SyntaxError> {
    let mut docs = serde_yaml_ng::Deserializer::from_str(src);
    let Some(doc) = docs.next() else {
        return Ok(None);
    };
    let mut builder = Builder {
        src,
        cursor: 0,
        line_starts: std::iter::once(0)
            .chain(src.match_indices('\n').map(|(i, _)| i + 1))
            .collect(),
    };
    let seed = NodeSeed {
        b: &mut builder,
        parent_indent: -1,
    };
    match seed.deserialize(doc) {
        Ok(node) => Ok(Some(node)),
        Err(e) => Err(syntax_error(src, &e)),
    }
}

/// go-yaml's text for a parse failure: `yaml: line N: problem`, where
/// go-yaml takes N from libyaml's context mark if it has one, else from the
/// problem mark, 0-based for parser errors and 1-based for scanner errors.
/// serde_yaml_ng shows libyaml's error fields only in its `Debug` form:
/// `Error { kind: PARSER, problem: "...", problem_mark: Mark { line: 4,
/// column: 1 }, context: "...", context_mark: Mark { .. } }` (1-based).
fn syntax_error(src: &str, e: &serde_yaml_ng::Error) -> SyntaxError {
    let debug = format!("{e:?}");
    if debug.starts_with("Error(\"unknown anchor\"") {
        let name = e
            .location()
            .and_then(|l| src.get(l.index()..))
            .and_then(|rest| rest.strip_prefix('*'))
            .map(|rest| {
                rest.split(|c: char| c.is_whitespace() || matches!(c, ',' | ']' | '}'))
                    .next()
                    .unwrap_or("")
                    .to_owned()
            })
            .unwrap_or_default();
        return SyntaxError {
            message: format!("unknown anchor '{name}' referenced"),
        };
    }
    let field = |name: &str| -> Option<&str> {
        let i = debug.find(&format!("{name}: "))? + name.len() + 2;
        let rest = &debug[i..];
        if let Some(q) = rest.strip_prefix('"') {
            let end = q.find("\", ").or_else(|| q.find("\" }"))?;
            Some(&q[..end])
        } else {
            let end = rest.find(", ").or_else(|| rest.find(" }"))?;
            Some(&rest[..end])
        }
    };
    let Some(problem) = field("problem") else {
        // Not a libyaml error: serde_yaml_ng's own message.
        let text = e.to_string();
        let message = text.split(" at line ").next().unwrap_or(&text).to_owned();
        return SyntaxError { message };
    };
    let scanner = field("kind") == Some("SCANNER");
    let mark_line = |name: &str| -> usize {
        let Some(i) = debug.find(&format!("{name}: Mark {{ line: ")) else {
            return 0;
        };
        debug[i + name.len() + 15..]
            .split(',')
            .next()
            .and_then(|n| n.parse::<usize>().ok())
            .map_or(0, |l| l.saturating_sub(1))
    };
    let (ctx, prob) = (mark_line("context_mark"), mark_line("problem_mark"));
    let line = if ctx != 0 { ctx } else { prob };
    let line = if line != 0 && scanner { line + 1 } else { line };
    let message = if line != 0 {
        format!("line {line}: {problem}")
    } else {
        problem.to_owned()
    };
    SyntaxError { message }
}

struct Builder<'s> {
    src: &'s str,
    /// Byte offset where the search for the next node starts.
    cursor: usize,
    /// Byte offset of each line's first character, so a node's line is a
    /// binary search rather than a count from the start of the file.
    line_starts: Vec<usize>,
}

impl<'s> Builder<'s> {
    fn bytes(&self) -> &'s [u8] {
        self.src.as_bytes()
    }

    /// Offset of the next node's first character from the cursor, skipping
    /// blanks, comments and indicators; `seq` keeps a leading `- `.
    fn next_start(&self, seq: bool) -> usize {
        let b = self.bytes();
        let mut i = self.cursor.min(b.len());
        let mut at_line_start = i == 0 || b.get(i.wrapping_sub(1)) == Some(&b'\n');
        loop {
            let Some(&c) = b.get(i) else { return i };
            let next_blank = matches!(b.get(i + 1), None | Some(b' ' | b'\t' | b'\n' | b'\r'));
            match c {
                b' ' | b'\t' | b'\r' => i += 1,
                b'\n' => {
                    i += 1;
                    at_line_start = true;
                    continue;
                }
                b'#' => {
                    while b.get(i).is_some_and(|&c| c != b'\n') {
                        i += 1;
                    }
                }
                b'-' if at_line_start && b[i..].starts_with(b"---") => i += 3,
                b'.' if at_line_start && b[i..].starts_with(b"...") => i += 3,
                b'%' if at_line_start => {
                    while b.get(i).is_some_and(|&c| c != b'\n') {
                        i += 1;
                    }
                }
                b'-' if next_blank && !seq => i += 1,
                b':' | b'?' if next_blank => i += 1,
                b',' => i += 1,
                _ => return i,
            }
            at_line_start = false;
        }
    }

    /// Where libyaml places an empty (null) value: just after the `:`
    /// (or `-`) that announced it.
    fn empty_value_start(&self) -> usize {
        let b = self.bytes();
        let mut i = self.cursor.min(b.len());
        while matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        if matches!(b.get(i), Some(b':' | b'-' | b'?')) {
            i += 1;
        }
        i
    }

    /// Past the `]` or `}` closing a flow collection, from the cursor.
    fn close_flow(&mut self, close: u8) {
        let b = self.bytes();
        let mut i = self.cursor.min(b.len());
        while let Some(&c) = b.get(i) {
            match c {
                b' ' | b'\t' | b'\r' | b'\n' | b',' => i += 1,
                b'#' => {
                    while b.get(i).is_some_and(|&c| c != b'\n') {
                        i += 1;
                    }
                }
                c if c == close => {
                    self.cursor = i + 1;
                    return;
                }
                _ => return,
            }
        }
    }

    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.src.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self
            .line_starts
            .get(line.wrapping_sub(1))
            .copied()
            .unwrap_or(0);
        let column = self
            .src
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line, column + 1)
    }

    /// The alias name at `offset` when the text there is `*name`.
    fn alias_at(&self, offset: usize) -> Option<(String, usize)> {
        let b = self.bytes();
        if b.get(offset) != Some(&b'*') {
            return None;
        }
        let end = (offset + 1..b.len())
            .find(|&i| matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | b',' | b']' | b'}'))
            .unwrap_or(b.len());
        Some((self.src.get(offset + 1..end)?.to_owned(), end))
    }

    /// End of a scalar that was not handed to us borrowed, starting at
    /// `start`: quoted scalars to their closing quote, everything else over
    /// the lines indented deeper than the parent.
    fn scalar_end(&self, start: usize, parent_indent: isize) -> usize {
        let b = self.bytes();
        match b.get(start) {
            Some(&q @ (b'"' | b'\'')) => {
                let mut i = start + 1;
                while let Some(&c) = b.get(i) {
                    if q == b'"' && c == b'\\' {
                        i += 2;
                        continue;
                    }
                    if c == q {
                        if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        return i + 1;
                    }
                    i += 1;
                }
                b.len()
            }
            _ => {
                // The rest of this line, then deeper-indented or blank lines.
                let mut i = start;
                while b.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
                let line_end = i;
                let mut end = line_end;
                while i < b.len() {
                    let line_start = i + 1;
                    let mut j = line_start;
                    while b.get(j) == Some(&b' ') {
                        j += 1;
                    }
                    let blank = matches!(b.get(j), None | Some(b'\n' | b'\r'));
                    let indent = (j - line_start) as isize;
                    if !blank && indent <= parent_indent {
                        break;
                    }
                    while b.get(j).is_some_and(|&c| c != b'\n') {
                        j += 1;
                    }
                    if !blank {
                        end = j;
                    }
                    i = j;
                }
                // A single-line plain scalar in flow context ends earlier.
                let first_line = &b[start..line_end];
                let flow_end = first_line
                    .iter()
                    .position(|&c| matches!(c, b',' | b']' | b'}'));
                match flow_end {
                    Some(k) if end == line_end => start + k,
                    _ => end,
                }
            }
        }
    }

    /// The raw text of a plain scalar at `start` (for numbers and booleans,
    /// whose text go-yaml keeps and prints).
    fn plain_text(&self, start: usize) -> String {
        let b = self.bytes();
        let mut end = start;
        while let Some(&c) = b.get(end) {
            if matches!(c, b'\n' | b'\r' | b',' | b']' | b'}')
                || (c == b'#' && end > start && matches!(b[end - 1], b' ' | b'\t'))
                || (c == b':' && matches!(b.get(end + 1), None | Some(b' ' | b'\n' | b'\r')))
            {
                break;
            }
            end += 1;
        }
        self.src.get(start..end).unwrap_or("").trim_end().to_owned()
    }

    fn offset_of(&self, s: &str) -> Option<usize> {
        let base = self.src.as_ptr() as usize;
        let p = s.as_ptr() as usize;
        (p >= base && p + s.len() <= base + self.src.len()).then(|| p - base)
    }
}

/// The null literal `src` starts with, if any.
fn null_literal(src: &str) -> Option<&'static str> {
    ["~", "null", "Null", "NULL"].into_iter().find(|lit| {
        src.strip_prefix(lit).is_some_and(|rest| {
            rest.is_empty()
                || rest
                    .starts_with(|c: char| c.is_whitespace() || matches!(c, ',' | ']' | '}' | '#'))
        })
    })
}

struct NodeSeed<'a, 's> {
    b: &'a mut Builder<'s>,
    /// Indentation (0-based column) of the parent key or entry; -1 at the
    /// top.
    parent_indent: isize,
}

impl<'de, 'a, 's> DeserializeSeed<'de> for NodeSeed<'a, 's> {
    type Value = Node;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor {
            b: self.b,
            parent_indent: self.parent_indent,
        })
    }
}

struct NodeVisitor<'a, 's> {
    b: &'a mut Builder<'s>,
    parent_indent: isize,
}

impl NodeVisitor<'_, '_> {
    /// A scalar that was not borrowed: found by scanning.
    fn scalar(self, tag: Tag, value: Option<String>) -> Node {
        let mut start = self.b.next_start(false);
        let mut value = value;
        if tag == Tag::Null {
            match null_literal(&self.b.src[start.min(self.b.src.len())..]) {
                // `~` or `null`: go-yaml keeps the text as the node's value.
                Some(lit) => value = Some(lit.to_owned()),
                // An empty value: libyaml places it right after the `:`.
                None => start = self.b.empty_value_start(),
            }
        }
        let (line, column) = self.b.line_col(start);
        if let Some((name, end)) = self.b.alias_at(start) {
            self.b.cursor = end;
            let value = value.unwrap_or_default();
            return Node {
                content: Content::Scalar {
                    value,
                    quoted: false,
                },
                tag,
                line,
                column,
                alias: Some(name),
            };
        }
        let quoted = matches!(self.b.bytes().get(start), Some(b'"' | b'\'' | b'|' | b'>'));
        let value = match value {
            Some(v) => v,
            None => self.b.plain_text(start),
        };
        let end = if tag == Tag::Null && value.is_empty() {
            start
        } else {
            self.b.scalar_end(start, self.parent_indent)
        };
        self.b.cursor = end.max(start);
        Node {
            content: Content::Scalar { value, quoted },
            tag,
            line,
            column,
            alias: None,
        }
    }
}

impl<'de, 'a, 's> Visitor<'de> for NodeVisitor<'a, 's> {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
        Ok(self.scalar(Tag::Bool, None))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
        Ok(self.scalar(Tag::Int, None))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
        Ok(self.scalar(Tag::Int, None))
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<Node, E> {
        Ok(self.scalar(Tag::Int, None))
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<Node, E> {
        Ok(self.scalar(Tag::Int, None))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
        Ok(self.scalar(Tag::Float, None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(self.scalar(Tag::Null, Some(String::new())))
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(self.scalar(Tag::Null, Some(String::new())))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Node, E> {
        let Some(off) = self.b.offset_of(v) else {
            return self.visit_str(v);
        };
        let scanned = self.b.next_start(false);
        if let Some((name, end)) = self.b.alias_at(scanned)
            && (scanned < off || scanned > off + v.len())
        {
            let (line, column) = self.b.line_col(scanned);
            self.b.cursor = end;
            return Ok(Node {
                content: Content::Scalar {
                    value: v.to_owned(),
                    quoted: false,
                },
                tag: Tag::Str,
                line,
                column,
                alias: Some(name),
            });
        }
        let quote = off
            .checked_sub(1)
            .and_then(|p| self.b.bytes().get(p))
            .copied()
            .filter(|c| matches!(c, b'"' | b'\''));
        let start = if quote.is_some() { off - 1 } else { off };
        // A tag or anchor before the scalar: the node starts there.
        let start = if scanned < start && matches!(self.b.bytes().get(scanned), Some(b'&' | b'!')) {
            scanned
        } else {
            start
        };
        let (line, column) = self.b.line_col(start);
        self.b.cursor = off + v.len() + usize::from(quote.is_some());
        Ok(Node {
            content: Content::Scalar {
                value: v.to_owned(),
                quoted: quote.is_some(),
            },
            tag: Tag::Str,
            line,
            column,
            alias: None,
        })
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(self.scalar(Tag::Str, Some(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(self.scalar(Tag::Str, Some(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let start = self.b.next_start(true);
        let (line, column) = self.b.line_col(start);
        let alias = self.b.alias_at(start);
        let flow = self.b.bytes().get(start) == Some(&b'[');
        self.b.cursor = if flow { start + 1 } else { start };
        let indent = column as isize - 1;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(NodeSeed {
            b: self.b,
            parent_indent: indent,
        })? {
            items.push(item);
        }
        if flow {
            self.b.close_flow(b']');
        }
        let alias = alias.map(|(name, end)| {
            self.b.cursor = end;
            name
        });
        Ok(Node {
            content: Content::Seq(items),
            tag: Tag::Seq,
            line,
            column,
            alias,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let start = self.b.next_start(false);
        let (line, column) = self.b.line_col(start);
        let alias = self.b.alias_at(start);
        let flow = self.b.bytes().get(start) == Some(&b'{');
        if flow {
            self.b.cursor = start + 1;
        }
        let mut pairs = Vec::new();
        loop {
            let Some(key) = map.next_key_seed(NodeSeed {
                b: self.b,
                parent_indent: self.parent_indent,
            })?
            else {
                break;
            };
            let key_indent = key.column as isize - 1;
            let value = map.next_value_seed(NodeSeed {
                b: self.b,
                parent_indent: key_indent,
            })?;
            pairs.push((key, value));
        }
        if flow {
            self.b.close_flow(b'}');
        }
        let alias = alias.map(|(name, end)| {
            self.b.cursor = end;
            name
        });
        Ok(Node {
            content: Content::Map(pairs),
            tag: Tag::Map,
            line,
            column,
            alias,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(src: &str) -> Node {
        match parse_first_document(src) {
            Ok(Some(n)) => n,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn positions_of_block_nodes() {
        let n = doc(
            "groups:\n  - name: x\n    rules:\n      - expr: |\n          a\n        record: b\n",
        );
        let Content::Map(top) = &n.content else {
            panic!()
        };
        let Content::Seq(groups) = &top[0].1.content else {
            panic!()
        };
        assert_eq!((groups[0].line, groups[0].column), (2, 5));
        let Content::Map(g) = &groups[0].content else {
            panic!()
        };
        let Content::Seq(rules) = &g[1].1.content else {
            panic!()
        };
        let Content::Map(r) = &rules[0].content else {
            panic!()
        };
        assert_eq!((r[0].1.line, r[0].1.column), (4, 15));
        assert_eq!(r[0].1.node_value(), "a\n");
        assert_eq!((r[1].0.line, r[1].0.column), (6, 9));
        assert_eq!((r[1].1.line, r[1].1.column), (6, 17));
    }

    #[test]
    fn aliases_are_marked() {
        let n = doc("a: &x foo\nb: *x\n");
        let Content::Map(m) = &n.content else {
            panic!()
        };
        assert_eq!(m[1].1.alias.as_deref(), Some("x"));
        assert_eq!((m[1].1.line, m[1].1.column), (2, 4));
    }
}
