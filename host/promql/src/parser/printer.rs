//! Prints an AST back to PromQL in the style of Prometheus'
//! `/api/v1/format_query` (single line): `sum by (job) (rate(foo[5m]))`,
//! `a + on (x) group_left (y) b`, `foo{a="1",b="2"} @ 100.000 offset 5m`.
//! Matchers are sorted and joined without spaces, as Prometheus does.
//!
//! Parsing the output gives the same tree again (spans aside).

use std::borrow::Cow;
use std::fmt::{self, Write};

use pharos_model::{METRIC_NAME, Matcher, is_valid_legacy_label_name, is_valid_legacy_metric_name};

use super::ast::*;
use super::error::ParseError;
use super::lexer::go_quote;
use pharos_model::format_millis;

/// Parses `query` and prints it in canonical form.
pub fn format_query(query: &str) -> Result<String, ParseError> {
    super::parse(query).map(|e| e.to_string())
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::NumberLiteral(n) => f.write_str(&format_number(n.value)),
            Expr::StringLiteral(s) => f.write_str(&go_quote(&s.value)),
            Expr::VectorSelector(vs) => write_selector(f, vs, None),
            Expr::MatrixSelector(ms) => write_selector(f, &ms.vs, Some(&ms.range)),
            Expr::Subquery(sq) => {
                write!(f, "{}[{}:", sq.expr, DurationDisplay(&sq.range))?;
                if let Some(step) = &sq.step {
                    write!(f, "{}", DurationDisplay(step))?;
                }
                f.write_str("]")?;
                write_modifiers(f, sq.at.as_ref(), sq.offset.as_ref())
            }
            Expr::Unary(u) => write!(f, "{}{}", u.op.as_str(), u.expr),
            Expr::Binary(b) => {
                match &*b.lhs {
                    // `+Inf ^ 2` would read back as `+(Inf ^ 2)`.
                    Expr::NumberLiteral(n) if b.op == BinaryOp::Pow && n.value == f64::INFINITY => {
                        f.write_str("Inf")?;
                    }
                    lhs => write!(f, "{lhs}")?,
                }
                write!(f, " {}", b.op)?;
                if b.return_bool {
                    f.write_str(" bool")?;
                }
                if let Some(vm) = &b.matching {
                    write_matching(f, vm, b.op.is_set())?;
                }
                write!(f, " {}", b.rhs)
            }
            Expr::Aggregate(a) => {
                f.write_str(a.op.as_str())?;
                if a.without {
                    write!(f, " without ({}) ", LabelList(&a.grouping))?;
                } else if !a.grouping.is_empty() {
                    write!(f, " by ({}) ", LabelList(&a.grouping))?;
                }
                f.write_str("(")?;
                if let Some(p) = &a.param {
                    write!(f, "{p}, ")?;
                }
                write!(f, "{})", a.expr)
            }
            Expr::Call(c) => {
                write!(f, "{}(", c.func.name)?;
                write_joined(f, &c.args, ", ", |f, a| write!(f, "{a}"))?;
                f.write_str(")")
            }
            Expr::Paren(p) => write!(f, "({})", p.expr),
        }
    }
}

/// Numbers as Prometheus 3.x prints them (Go's
/// `strconv.FormatFloat(v, 'f', -1, 64)`): plain decimals, `+Inf`, `-Inf`,
/// `NaN`.
pub fn format_number(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v == f64::INFINITY {
        "+Inf".to_string()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        format!("{v}")
    }
}

fn write_matching(f: &mut fmt::Formatter<'_>, vm: &VectorMatching, is_set: bool) -> fmt::Result {
    let grouped = !is_set && matches!(vm.card, Cardinality::ManyToOne | Cardinality::OneToMany);
    if vm.on || !vm.labels.is_empty() || grouped {
        let tag = if vm.on { "on" } else { "ignoring" };
        write!(f, " {tag} ({})", LabelList(&vm.labels))?;
        if !is_set {
            match vm.card {
                Cardinality::ManyToOne => write!(f, " group_left ({})", LabelList(&vm.include))?,
                Cardinality::OneToMany => {
                    write!(f, " group_right ({})", LabelList(&vm.include))?;
                }
                _ => {}
            }
        }
    }
    match (vm.fill.lhs, vm.fill.rhs) {
        (Some(l), Some(r)) if same_number(l, r) => {
            write!(f, " fill({})", format_number(l))?;
        }
        (l, r) => {
            if let Some(l) = l {
                write!(f, " fill_left({})", format_number(l))?;
            }
            if let Some(r) = r {
                write!(f, " fill_right({})", format_number(r))?;
            }
        }
    }
    Ok(())
}

fn write_selector(
    f: &mut fmt::Formatter<'_>,
    vs: &VectorSelector,
    range: Option<&DurationExpr>,
) -> fmt::Result {
    // The parser puts the metric name matcher last.
    let (name, rest): (Option<&str>, &[Matcher]) = match (&vs.name, vs.matchers.split_last()) {
        (Some(n), Some((last, rest))) if is_name_matcher(last, n) => (Some(n), rest),
        _ => (None, &vs.matchers),
    };
    // Outside the braces a name cannot sit beside another `__name__`
    // matcher (`metric name must not be set twice`); inside it can.
    let other_name = rest.iter().any(|m| m.name == METRIC_NAME);
    match name {
        Some(n) if is_bare_metric_name(n) && !other_name => {
            f.write_str(n)?;
            if !rest.is_empty() {
                write!(f, "{{{}}}", MatcherList(rest))?;
            }
        }
        Some(n) => {
            write!(f, "{{{}", go_quote(n))?;
            if !rest.is_empty() {
                write!(f, ",{}", MatcherList(rest))?;
            }
            f.write_str("}")?;
        }
        None => write!(f, "{{{}}}", MatcherList(rest))?,
    }
    if let Some(r) = range {
        write!(f, "[{}]", DurationDisplay(r))?;
    }
    write_modifiers(f, vs.at.as_ref(), vs.offset.as_ref())?;
    if vs.anchored {
        f.write_str(" anchored")?;
    }
    if vs.smoothed {
        f.write_str(" smoothed")?;
    }
    Ok(())
}

struct MatcherList<'a>(&'a [Matcher]);

impl fmt::Display for MatcherList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_joined(f, self.0, ",", |f, m| f.write_str(&matcher_text(m)))
    }
}

/// A matcher as PromQL writes it: `job="api"`, `"utf8.name"=~"a.*"`.
pub(crate) fn matcher_text(m: &Matcher) -> String {
    format!(
        "{}{}{}",
        label_name(&m.name),
        m.op.as_str(),
        go_quote(&m.value)
    )
}

/// A label name as PromQL writes it: bare when it is a legacy name, quoted
/// otherwise.
fn label_name(name: &str) -> Cow<'_, str> {
    if is_valid_legacy_label_name(name) {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(go_quote(name))
    }
}

/// Writes `items` separated by `sep`.
fn write_joined<T>(
    f: &mut fmt::Formatter<'_>,
    items: &[T],
    sep: &str,
    mut write: impl FnMut(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write(f, item)?;
    }
    Ok(())
}

fn write_modifiers(
    f: &mut fmt::Formatter<'_>,
    at: Option<&AtModifier>,
    offset: Option<&DurationExpr>,
) -> fmt::Result {
    match at {
        Some(AtModifier::Timestamp(ms)) => {
            let sign = if *ms < 0 { "-" } else { "" };
            let abs = ms.unsigned_abs();
            write!(f, " @ {sign}{}.{:03}", abs / 1000, abs % 1000)?;
        }
        Some(AtModifier::Start) => f.write_str(" @ start()")?,
        Some(AtModifier::End) => f.write_str(" @ end()")?,
        None => {}
    }
    if let Some(o) = offset {
        write!(f, " offset {}", OffsetDisplay(o))?;
    }
    Ok(())
}

struct LabelList<'a>(&'a [String]);

impl fmt::Display for LabelList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_joined(f, self.0, ", ", |f, l| f.write_str(&label_name(l)))
    }
}

/// A duration inside `[…]`.
struct DurationDisplay<'a>(&'a DurationExpr);

impl fmt::Display for DurationDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_duration(f, self.0)
    }
}

/// A duration after `offset`: compound expressions need parentheses there.
struct OffsetDisplay<'a>(&'a DurationExpr);

impl fmt::Display for OffsetDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let signed_atom = match self.0 {
            DurationExpr::Unary(_, e) => is_duration_atom(e),
            d => is_duration_atom(d),
        };
        if signed_atom {
            write_duration(f, self.0)
        } else {
            f.write_char('(')?;
            write_duration(f, self.0)?;
            f.write_char(')')
        }
    }
}

/// What the grammar's `DurationAtom` reads back without parentheses.
fn is_duration_atom(d: &DurationExpr) -> bool {
    matches!(
        d,
        DurationExpr::Literal(_)
            | DurationExpr::Number(_)
            | DurationExpr::Step
            | DurationExpr::Range
            | DurationExpr::MinOf(..)
            | DurationExpr::MaxOf(..)
            | DurationExpr::Paren(_)
    )
}

fn write_duration(f: &mut fmt::Formatter<'_>, d: &DurationExpr) -> fmt::Result {
    match d {
        DurationExpr::Literal(ms) => f.write_str(&format_millis(*ms)),
        DurationExpr::Number(n) => f.write_str(&format_number(*n)),
        DurationExpr::Step => f.write_str("step()"),
        DurationExpr::Range => f.write_str("range()"),
        DurationExpr::Unary(op, e) => {
            f.write_str(op.as_str())?;
            // `+Inf` after the sign would read as two signs, which do not
            // parse: `-Inf`.
            if let DurationExpr::Number(n) = e.as_ref() {
                let text = format_number(*n);
                if let Some(unsigned) = text.strip_prefix('+') {
                    return f.write_str(unsigned);
                }
            }
            write_duration(f, e)
        }
        DurationExpr::Binary(op, a, b) => {
            write_duration(f, a)?;
            write!(f, " {} ", op.as_str())?;
            write_duration(f, b)
        }
        DurationExpr::MinOf(a, b) => write_duration_call(f, "min_of", a, b),
        DurationExpr::MaxOf(a, b) => write_duration_call(f, "max_of", a, b),
        DurationExpr::Paren(e) => {
            f.write_char('(')?;
            write_duration(f, e)?;
            f.write_char(')')
        }
    }
}

fn write_duration_call(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    a: &DurationExpr,
    b: &DurationExpr,
) -> fmt::Result {
    write!(f, "{name}(")?;
    write_duration(f, a)?;
    f.write_str(", ")?;
    write_duration(f, b)?;
    f.write_char(')')
}

/// Whether a metric name can be written without quotes: a legacy name
/// that does not lex as a keyword which cannot name a metric.
fn is_bare_metric_name(s: &str) -> bool {
    const RESERVED: [&str; 8] = [
        "bool",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "atan2",
        "inf",
        "nan",
    ];
    is_valid_legacy_metric_name(s) && !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s))
}
