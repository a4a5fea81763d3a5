//! Decoding a YAML node tree into raw rule groups the way go-yaml v3 decodes
//! into Prometheus' `rulefmt.RuleGroups` with `KnownFields(true)`: the same
//! type errors (`line 4: cannot unmarshal !!str `5` into int`), unknown and
//! duplicate field errors, null handling, merge keys, and the same fatal
//! errors of values that decode themselves (durations).
//!
//! Prometheus decodes every file twice: into `RuleGroups` (typed, known
//! fields only) and into `ruleGroups` (groups kept as raw nodes, for their
//! positions); both passes' errors are reported. [`decode`] does both.

use std::time::Duration;

use super::yaml::{Content, Node, Tag};

/// A string-valued node kept with its position (go-yaml's `yaml.Node`
/// fields of `rulefmt.RuleNode`): line and column 0 when absent.
#[derive(Debug, Clone, Default)]
pub struct PosValue {
    pub value: String,
    pub line: usize,
    pub column: usize,
}

impl PosValue {
    fn of(n: &Node) -> Self {
        PosValue {
            value: n.node_value().to_owned(),
            line: n.line,
            column: n.column,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct RawGroup {
    pub name: String,
    pub interval: Option<Duration>,
    pub query_offset: Option<Duration>,
    pub limit: i64,
    pub labels: Vec<(String, String)>,
    pub rules: Vec<RawRule>,
}

#[derive(Debug, Clone, Default)]
pub struct RawRule {
    pub record: PosValue,
    pub alert: PosValue,
    pub expr: PosValue,
    pub hold: Duration,
    pub keep_firing_for: Duration,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    /// Line of the rule's mapping.
    pub line: usize,
}

/// The outcome of decoding: the groups, the group nodes' positions (the
/// second pass, indexed as Prometheus indexes them) and the errors of both
/// passes, each one Prometheus error.
#[derive(Debug, Default)]
pub struct Decoded {
    pub groups: Vec<RawGroup>,
    pub group_positions: Vec<(usize, usize)>,
    pub errors: Vec<DecodeError>,
}

/// One pass's failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// go-yaml's collected type errors.
    Unmarshal(Vec<String>),
    /// An error a value's own decoder returned (aborts the pass).
    Fatal(String),
}

/// Decodes the first document (or nothing, for an empty file).
pub fn decode(root: Option<&Node>) -> Decoded {
    let mut out = Decoded::default();
    let Some(root) = root else { return out };

    let mut d = Decoder::default();
    let groups = d.rule_groups(root);
    match d.finish() {
        Some(e) => out.errors.push(e),
        None => out.groups = groups,
    }

    let mut d = Decoder::default();
    out.group_positions = d.raw_groups(root);
    if let Some(e) = d.finish() {
        out.errors.push(e);
    }
    out
}

type Fatal = String;

#[derive(Default)]
struct Decoder {
    terrors: Vec<String>,
    fatal: Option<Fatal>,
}

/// Go type names as go-yaml prints them.
const T_GROUPS: &str = "rulefmt.RuleGroups";
const T_GROUP_SLICE: &str = "[]rulefmt.RuleGroup";
const T_GROUP: &str = "rulefmt.RuleGroup";
const T_RULE_SLICE: &str = "[]rulefmt.RuleNode";
const T_RULE: &str = "rulefmt.RuleNode";
const T_RAW_GROUPS: &str = "rulefmt.ruleGroups";
const T_NODE_SLICE: &str = "[]yaml.Node";
const T_STRING_MAP: &str = "map[string]string";

impl Decoder {
    fn finish(self) -> Option<DecodeError> {
        if let Some(f) = self.fatal {
            return Some(DecodeError::Fatal(f));
        }
        (!self.terrors.is_empty()).then_some(DecodeError::Unmarshal(self.terrors))
    }

    fn failed(&self) -> bool {
        self.fatal.is_some()
    }

    /// go-yaml's `terror`: `line N: cannot unmarshal !!tag `value` into T`.
    fn terror(&mut self, n: &Node, into: &str) {
        let value = match n.tag {
            Tag::Seq | Tag::Map => String::new(),
            _ => {
                let v = n.node_value();
                if v.len() > 10 {
                    let cut = (0..=7).rev().find(|&i| v.is_char_boundary(i)).unwrap_or(0);
                    format!(" `{}...`", &v[..cut])
                } else {
                    format!(" `{v}`")
                }
            }
        };
        let tag = if n.alias.is_none() && is_quoted(n) {
            Tag::Str
        } else {
            n.tag
        };
        self.terrors.push(format!(
            "line {}: cannot unmarshal {}{value} into {into}",
            n.line,
            tag.short()
        ));
    }

    /// A mapping's pairs after go-yaml's unique-key check and with merge
    /// keys (`<<`) expanded; `None` when keys repeat (the mapping is not
    /// decoded then).
    fn pairs<'n>(&mut self, n: &'n Node) -> Option<Vec<(&'n Node, &'n Node)>> {
        let Content::Map(pairs) = &n.content else {
            return Some(Vec::new());
        };
        let before = self.terrors.len();
        for (i, (ki, _)) in pairs.iter().enumerate() {
            for (kj, _) in &pairs[i + 1..] {
                if same_kind(ki, kj) && ki.node_value() == kj.node_value() {
                    self.terrors.push(format!(
                        "line {}: mapping key {} already defined at line {}",
                        kj.line,
                        super::error::go_quote(kj.node_value()),
                        ki.line
                    ));
                }
            }
        }
        if self.terrors.len() > before {
            return None;
        }
        let mut out: Vec<(&Node, &Node)> = Vec::new();
        let mut merges = Vec::new();
        for (k, v) in pairs {
            if is_merge(k) {
                merges.push(v);
            } else {
                out.push((k, v));
            }
        }
        for m in merges {
            let sources: Vec<&Node> = match &m.content {
                Content::Map(_) => vec![m],
                Content::Seq(items) if m.alias.is_none() => items.iter().collect(),
                _ => {
                    self.fatal =
                        Some("map merge requires map or sequence of maps as the value".into());
                    return None;
                }
            };
            for src in sources {
                if !matches!(src.content, Content::Map(_)) {
                    self.fatal =
                        Some("map merge requires map or sequence of maps as the value".into());
                    return None;
                }
                for (k, v) in self.pairs(src)? {
                    if !out.iter().any(|(ok, _)| ok.node_value() == k.node_value()) {
                        out.push((k, v));
                    }
                }
            }
        }
        Some(out)
    }

    /// A key decoded into a Go string; `None` (with a type error) for a
    /// collection.
    fn key_string(&mut self, k: &Node) -> Option<String> {
        match &k.content {
            Content::Scalar { .. } => Some(k.node_value_resolved()),
            _ => {
                self.terror(k, "string");
                None
            }
        }
    }

    /// Decodes a struct: calls `field` for each known key; reports unknown
    /// and repeated ones. Returns false when `n` is not a mapping.
    fn structure(
        &mut self,
        n: &Node,
        ty: &str,
        known: &[&str],
        mut field: impl FnMut(&mut Self, &str, &Node),
    ) -> bool {
        match &n.content {
            Content::Map(_) => {}
            _ if n.is_null() => return false,
            _ => {
                self.terror(n, ty);
                return false;
            }
        }
        let Some(pairs) = self.pairs(n) else {
            return false;
        };
        let mut done = vec![false; known.len()];
        for (k, v) in pairs {
            if self.failed() {
                return false;
            }
            let Some(name) = self.key_string(k) else {
                continue;
            };
            match known.iter().position(|f| *f == name) {
                Some(i) if done[i] => self.terrors.push(format!(
                    "line {}: field {name} already set in type {ty}",
                    k.line
                )),
                Some(i) => {
                    done[i] = true;
                    field(self, &name, v);
                }
                None => self.terrors.push(format!(
                    "line {}: field {name} not found in type {ty}",
                    k.line
                )),
            }
        }
        true
    }

    /// Decodes a sequence, dropping items that fail (as go-yaml does).
    fn sequence<T>(
        &mut self,
        n: &Node,
        ty: &str,
        mut item: impl FnMut(&mut Self, &Node) -> Option<T>,
    ) -> Vec<T> {
        match &n.content {
            Content::Seq(items) => {
                let mut out = Vec::new();
                for i in items {
                    if self.failed() {
                        break;
                    }
                    if let Some(v) = item(self, i) {
                        out.push(v);
                    }
                }
                out
            }
            _ if n.is_null() => Vec::new(),
            _ => {
                self.terror(n, ty);
                Vec::new()
            }
        }
    }

    fn string(&mut self, n: &Node) -> String {
        match &n.content {
            _ if n.is_null() => String::new(),
            Content::Scalar { .. } => n.node_value_resolved(),
            _ => {
                self.terror(n, "string");
                String::new()
            }
        }
    }

    fn int(&mut self, n: &Node) -> i64 {
        if n.is_null() {
            return 0;
        }
        let text = n.node_value_resolved();
        let parsed = match (&n.content, n.tag) {
            (Content::Scalar { quoted: false, .. }, Tag::Int) => parse_go_int(&text),
            (Content::Scalar { quoted: false, .. }, Tag::Float) => text
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite() && f.abs() < 9.2e18)
                .map(|f| f as i64),
            _ => None,
        };
        match parsed {
            Some(v) => v,
            None => {
                self.terror(n, "int");
                0
            }
        }
    }

    /// `model.Duration`'s `UnmarshalYAML`: a string, then
    /// `model.ParseDuration`, whose error aborts decoding.
    fn duration(&mut self, n: &Node) -> Option<Duration> {
        if n.is_null() {
            return None;
        }
        if !matches!(n.content, Content::Scalar { .. }) {
            self.terror(n, "string");
            return None;
        }
        match pharos_model::parse_duration(&n.node_value_resolved()) {
            Ok(d) => Some(d),
            Err(e) => {
                self.fatal = Some(go_duration_error(&e, &n.node_value_resolved()));
                None
            }
        }
    }

    fn string_map(&mut self, n: &Node) -> Vec<(String, String)> {
        match &n.content {
            Content::Map(_) => {}
            _ if n.is_null() => return Vec::new(),
            _ => {
                self.terror(n, T_STRING_MAP);
                return Vec::new();
            }
        }
        let Some(pairs) = self.pairs(n) else {
            return Vec::new();
        };
        let mut out: Vec<(String, String)> = Vec::new();
        for (k, v) in pairs {
            let Some(key) = self.key_string(k) else {
                continue;
            };
            let ok = match &v.content {
                _ if v.is_null() => true,
                Content::Scalar { .. } => true,
                _ => {
                    self.terror(v, "string");
                    false
                }
            };
            if ok {
                let value = if v.is_null() {
                    String::new()
                } else {
                    v.node_value_resolved()
                };
                match out.iter_mut().find(|(k2, _)| *k2 == key) {
                    Some(slot) => slot.1 = value,
                    None => out.push((key, value)),
                }
            }
        }
        out
    }

    fn rule_groups(&mut self, root: &Node) -> Vec<RawGroup> {
        let mut groups = Vec::new();
        self.structure(root, T_GROUPS, &["groups"], |d, _, v| {
            groups = d.sequence(v, T_GROUP_SLICE, |d, g| d.group(g));
        });
        groups
    }

    fn group(&mut self, n: &Node) -> Option<RawGroup> {
        let mut g = RawGroup::default();
        let known = [
            "name",
            "interval",
            "query_offset",
            "limit",
            "labels",
            "rules",
        ];
        let ok = self.structure(n, T_GROUP, &known, |d, field, v| match field {
            "name" => g.name = d.string(v),
            "interval" => g.interval = d.duration(v),
            "query_offset" => g.query_offset = d.duration(v),
            "limit" => g.limit = d.int(v),
            "labels" => g.labels = d.string_map(v),
            _ => g.rules = d.sequence(v, T_RULE_SLICE, |d, r| d.rule(r)),
        });
        ok.then_some(g)
    }

    fn rule(&mut self, n: &Node) -> Option<RawRule> {
        let mut r = RawRule {
            line: n.line,
            ..RawRule::default()
        };
        let known = [
            "record",
            "alert",
            "expr",
            "for",
            "keep_firing_for",
            "labels",
            "annotations",
        ];
        let ok = self.structure(n, T_RULE, &known, |d, field, v| match field {
            "record" => r.record = PosValue::of(v),
            "alert" => r.alert = PosValue::of(v),
            "expr" => r.expr = PosValue::of(v),
            "for" => r.hold = d.duration(v).unwrap_or_default(),
            "keep_firing_for" => r.keep_firing_for = d.duration(v).unwrap_or_default(),
            "labels" => r.labels = d.string_map(v),
            _ => r.annotations = d.string_map(v),
        });
        ok.then_some(r)
    }

    /// The second pass: `groups` as raw nodes; their positions.
    fn raw_groups(&mut self, root: &Node) -> Vec<(usize, usize)> {
        let mut positions = Vec::new();
        match &root.content {
            Content::Map(_) => {}
            _ if root.is_null() => return positions,
            _ => {
                self.terror(root, T_RAW_GROUPS);
                return positions;
            }
        }
        let Some(pairs) = self.pairs(root) else {
            return positions;
        };
        for (k, v) in pairs {
            if self.key_string(k).as_deref() != Some("groups") {
                continue;
            }
            match &v.content {
                Content::Seq(items) => {
                    positions = items.iter().map(|i| (i.line, i.column)).collect();
                }
                _ if v.is_null() => positions.clear(),
                _ => self.terror(v, T_NODE_SLICE),
            }
        }
        positions
    }
}

impl Node {
    /// The value a Go string gets from this node: an alias resolves to its
    /// target's value.
    pub fn node_value_resolved(&self) -> String {
        match &self.content {
            Content::Scalar { value, .. } => value.clone(),
            _ => String::new(),
        }
    }
}

fn is_quoted(n: &Node) -> bool {
    matches!(n.content, Content::Scalar { quoted: true, .. })
}

fn same_kind(a: &Node, b: &Node) -> bool {
    match (&a.alias, &b.alias) {
        (Some(_), Some(_)) => true,
        (None, None) => std::mem::discriminant(&a.content) == std::mem::discriminant(&b.content),
        _ => false,
    }
}

fn is_merge(k: &Node) -> bool {
    k.alias.is_none()
        && matches!(&k.content, Content::Scalar { value, quoted: false } if value == "<<")
}

/// Go's `strconv.ParseInt(s, 0, 64)` as go-yaml resolves ints.
fn parse_go_int(s: &str) -> Option<i64> {
    let plain = s.replace('_', "");
    let (neg, digits) = match plain.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, plain.strip_prefix('+').unwrap_or(&plain)),
    };
    let (radix, digits) = if let Some(r) = digits.strip_prefix("0x").or(digits.strip_prefix("0X")) {
        (16, r)
    } else if let Some(r) = digits.strip_prefix("0o").or(digits.strip_prefix("0O")) {
        (8, r)
    } else if let Some(r) = digits.strip_prefix("0b").or(digits.strip_prefix("0B")) {
        (2, r)
    } else {
        (10, digits)
    };
    let v = i128::from_str_radix(digits, radix).ok()?;
    let v = if neg { -v } else { v };
    i64::try_from(v).ok()
}

/// `model.ParseDuration`'s messages (Go quotes with `%q`).
fn go_duration_error(e: &pharos_model::DurationError, text: &str) -> String {
    use pharos_model::DurationError as E;
    match e {
        E::Empty => "empty duration string".to_owned(),
        E::Invalid(_) => format!(
            "not a valid duration string: {}",
            super::error::go_quote(text)
        ),
        E::OutOfRange(_) => format!("duration out of range: {}", super::error::go_quote(text)),
    }
}
