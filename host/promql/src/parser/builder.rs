//! AST construction for the grammar's actions, with the structural checks
//! Prometheus makes while parsing (where an `offset` may go, ranges only on
//! selectors, the metric name set once, argument counts of aggregations).

use lalrpop_util::ParseError as LalrError;
use pharos_model::{METRIC_NAME, MatchOp, Matcher};

use super::ast::*;
use super::error::SyntaxError;
use super::functions;
use super::lexer::Tok;

/// The result type of the grammar's fallible actions.
pub type PResult<T> = Result<T, LalrError<usize, Tok, SyntaxError>>;

fn fail<T>(span: Span, message: impl Into<String>) -> PResult<T> {
    Err(LalrError::User {
        error: SyntaxError::new(span, message),
    })
}

/// One item between `{` and `}`.
pub enum MatcherItem {
    /// `name op "value"`
    Matcher(String, MatchOp, String, Span),
    /// A bare quoted metric name: `{"foo.bar"}`.
    MetricName(String),
}

/// `group_left (labels)` / `group_right (labels)`.
pub type GroupMod = (Cardinality, Vec<String>);

/// `on (labels) group…` (true) or `ignoring (labels) group…` (false).
pub type OnIgnoring = (bool, Vec<String>, Option<GroupMod>);

/// The modifiers between a binary operator and its right operand.
#[derive(Default)]
pub struct BinMods {
    pub return_bool: bool,
    pub on_ignoring: Option<OnIgnoring>,
    pub fills: Vec<(FillSide, f64, Span)>,
}

#[derive(Clone, Copy)]
pub enum FillSide {
    Both,
    Left,
    Right,
}

pub fn number(value: f64, span: Span) -> Expr {
    Expr::NumberLiteral(NumberLiteral { value, span })
}

/// `name{…}`, `{…}`, `{"name", …}`. The metric name may be given once, by
/// the outer name or a bare string. A `__name__` matcher beside an outer
/// name is kept, and noted in [`VectorSelector::name_inside`] for type
/// checking to refuse, as Prometheus' `checkAST` does (its
/// `ParseMetricSelector` does not check).
pub fn vector_selector(
    outer_name: Option<String>,
    items: Vec<MatcherItem>,
    span: Span,
) -> PResult<Expr> {
    let has_outer_name = outer_name.is_some();
    let mut name = outer_name;
    // The first `__name__` matcher beside an outer name: a second name.
    let mut name_inside: Option<String> = None;
    let mut matchers = Vec::with_capacity(items.len() + 1);
    for item in items {
        let second = match item {
            MatcherItem::Matcher(n, op, v, s) => {
                if has_outer_name && n == METRIC_NAME && name_inside.is_none() {
                    name_inside = Some(v.clone());
                }
                match Matcher::new(op, n, v) {
                    Ok(m) => matchers.push(m),
                    Err(e) => return fail(s, regex_error(&e)),
                }
                continue;
            }
            MatcherItem::MetricName(n) if name.is_none() => {
                name = Some(n);
                continue;
            }
            MatcherItem::MetricName(n) => name_inside.unwrap_or(n),
        };
        return fail(
            span,
            format!(
                "metric name must not be set twice: {:?} or {second:?}",
                name.unwrap_or_default()
            ),
        );
    }
    // A bare string name also given as a matcher: `{"foo", __name__="foo"}`.
    if let Some(n) = name.as_ref().filter(|_| !has_outer_name) {
        matchers.retain(|m| !is_name_matcher(m, n));
    }
    // Canonical order, as Prometheus prints them: sorted by their text, the
    // metric name matcher last.
    matchers.sort_by_cached_key(super::printer::matcher_text);
    if let Some(n) = &name {
        matchers.push(Matcher::equal(METRIC_NAME, n.clone()));
    }
    Ok(Expr::VectorSelector(VectorSelector {
        name,
        matchers,
        name_inside,
        offset: None,
        at: None,
        anchored: false,
        smoothed: false,
        span,
    }))
}

/// A one-line message for a bad regex, close to Go's
/// "error parsing regexp: missing closing ): `(`".
fn regex_error(e: &pharos_model::MatcherError) -> String {
    let detail = match &e.source {
        regex::Error::Syntax(s) => s
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.trim_start_matches("error: ").to_string())
            .unwrap_or_else(|| s.clone()),
        other => other.to_string(),
    };
    format!("error parsing regexp: {detail}: `{}`", e.pattern)
}

/// `expr[range]`; `bracket` is the span of `[…]`, for errors.
pub fn matrix(expr: Expr, range: DurationExpr, bracket: Span, span: Span) -> PResult<Expr> {
    let Expr::VectorSelector(vs) = expr else {
        return fail(bracket, "ranges only allowed for vector selectors");
    };
    if vs.offset.is_some() {
        return fail(bracket, "no offset modifiers allowed before range");
    }
    if vs.at.is_some() {
        return fail(bracket, "no @ modifiers allowed before range");
    }
    if vs.anchored || vs.smoothed {
        return fail(
            bracket,
            "no anchored or smoothed modifiers allowed before range",
        );
    }
    check_positive(&range, bracket, "range")?;
    Ok(Expr::MatrixSelector(MatrixSelector { vs, range, span }))
}

fn check_positive(d: &DurationExpr, span: Span, what: &str) -> PResult<()> {
    match d {
        DurationExpr::Literal(ms) if *ms <= 0 => fail(
            span,
            format!(
                "{what} must be greater than 0, got {}",
                pharos_model::format_millis(*ms)
            ),
        ),
        _ => Ok(()),
    }
}

pub fn subquery(
    expr: Expr,
    range: DurationExpr,
    step: Option<DurationExpr>,
    bracket: Span,
    span: Span,
) -> PResult<Expr> {
    check_positive(&range, bracket, "subquery range")?;
    if let Some(s) = &step {
        check_positive(s, bracket, "subquery step")?;
    }
    Ok(Expr::Subquery(SubqueryExpr {
        expr: Box::new(expr),
        range,
        step,
        offset: None,
        at: None,
        span,
    }))
}

/// The `offset` and `@` slots of a selector or subquery.
fn modifier_slots(expr: &mut Expr) -> Option<(&mut Option<DurationExpr>, &mut Option<AtModifier>)> {
    match expr {
        Expr::VectorSelector(vs) => Some((&mut vs.offset, &mut vs.at)),
        Expr::MatrixSelector(ms) => Some((&mut ms.vs.offset, &mut ms.vs.at)),
        Expr::Subquery(sq) => Some((&mut sq.offset, &mut sq.at)),
        _ => None,
    }
}

/// The error for a modifier after something that is not a selector or a
/// subquery.
fn misplaced<T>(modifier: &str, span: Span) -> PResult<T> {
    fail(
        span,
        format!(
            "{modifier} modifier must be preceded by an instant vector selector or range vector selector or a subquery"
        ),
    )
}

pub fn offset(mut expr: Expr, d: DurationExpr, span: Span) -> PResult<Expr> {
    let Some((slot, _)) = modifier_slots(&mut expr) else {
        return misplaced("offset", span);
    };
    if slot.replace(d).is_some() {
        return fail(span, "offset may not be set multiple times");
    }
    expr.set_span(span);
    Ok(expr)
}

pub fn at(mut expr: Expr, at: AtModifier, span: Span) -> PResult<Expr> {
    let Some((_, slot)) = modifier_slots(&mut expr) else {
        return misplaced("@", span);
    };
    if slot.replace(at).is_some() {
        return fail(span, "@ <timestamp> may not be set multiple times");
    }
    expr.set_span(span);
    Ok(expr)
}

/// `anchored` (`smoothed == false`) or `smoothed`.
pub fn extended(mut expr: Expr, smoothed: bool, span: Span) -> PResult<Expr> {
    let word = if smoothed { "smoothed" } else { "anchored" };
    let vs = match &mut expr {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &mut ms.vs,
        _ => {
            return fail(
                span,
                format!(
                    "{word} modifier must be preceded by an instant vector selector or range vector selector"
                ),
            );
        }
    };
    if vs.anchored || vs.smoothed {
        return fail(span, "anchored and smoothed modifiers may only be set once");
    }
    if smoothed {
        vs.smoothed = true;
    } else {
        vs.anchored = true;
    }
    expr.set_span(span);
    Ok(expr)
}

pub fn at_timestamp(secs: f64, span: Span) -> PResult<AtModifier> {
    match secs_to_millis(secs) {
        Some(ms) => Ok(AtModifier::Timestamp(ms)),
        None => fail(span, "timestamp out of bounds for @ modifier"),
    }
}

pub fn at_preprocessor(name: &str, span: Span) -> PResult<AtModifier> {
    match name.to_ascii_lowercase().as_str() {
        "start" => Ok(AtModifier::Start),
        "end" => Ok(AtModifier::End),
        _ => fail(
            span,
            format!("unexpected identifier {name:?} in @, expected timestamp"),
        ),
    }
}

pub fn unary(op: UnaryOp, expr: Expr, span: Span) -> Expr {
    match (op, expr) {
        (UnaryOp::Neg, Expr::NumberLiteral(n)) => number(-n.value, span),
        (UnaryOp::Plus, Expr::NumberLiteral(n)) => number(n.value, span),
        (op, expr) => Expr::Unary(UnaryExpr {
            op,
            expr: Box::new(expr),
            span,
        }),
    }
}

pub fn binary(lhs: Expr, op: BinaryOp, mods: BinMods, rhs: Expr, span: Span) -> PResult<Expr> {
    let mut vm = VectorMatching::default();
    if let Some((on, labels, group)) = mods.on_ignoring {
        vm.on = on;
        vm.labels = labels;
        if let Some((card, include)) = group {
            vm.card = card;
            vm.include = include;
        }
    }
    for (side, v, s) in mods.fills {
        let (l, r) = match side {
            FillSide::Both => (true, true),
            FillSide::Left => (true, false),
            FillSide::Right => (false, true),
        };
        if (l && vm.fill.lhs.is_some()) || (r && vm.fill.rhs.is_some()) {
            return fail(s, "fill modifier may only be set once per side");
        }
        if l {
            vm.fill.lhs = Some(v);
        }
        if r {
            vm.fill.rhs = Some(v);
        }
    }
    Ok(Expr::Binary(BinaryExpr {
        op,
        lhs: Box::new(lhs),
        rhs: Box::new(rhs),
        return_bool: mods.return_bool,
        matching: Some(vm),
        span,
    }))
}

pub fn aggregate(
    op: AggregateOp,
    modifier: Option<(bool, Vec<String>)>,
    mut args: Vec<Expr>,
    span: Span,
) -> PResult<Expr> {
    let want = if op.param_type().is_some() { 2 } else { 1 };
    if args.len() != want {
        return fail(
            span,
            format!(
                "wrong number of arguments for aggregate expression provided, expected {want}, got {}",
                args.len()
            ),
        );
    }
    let expr = args.pop();
    let param = args.pop().map(Box::new);
    let (without, grouping) = modifier.unwrap_or_default();
    match expr {
        Some(expr) => Ok(Expr::Aggregate(AggregateExpr {
            op,
            expr: Box::new(expr),
            param,
            grouping,
            without,
            span,
        })),
        None => fail(span, "missing aggregation expression"),
    }
}

pub fn call(name: &str, name_span: Span, args: Vec<Expr>, span: Span) -> PResult<Expr> {
    match functions::lookup(name) {
        Some(func) => Ok(Expr::Call(Call { func, args, span })),
        None => fail(name_span, format!("unknown function with name {name:?}")),
    }
}

pub fn trailing_comma<T>(span: Span) -> PResult<T> {
    fail(span, "trailing commas not allowed in function call args")
}

/// A duration in a range, step or offset: a bare number of seconds or a
/// signed literal becomes a millisecond literal; anything else stays an
/// expression.
pub fn duration(d: DurationExpr) -> DurationExpr {
    // A loop, not recursion: `[- - - … 1m]` may be arbitrarily long.
    fn lit(mut d: &DurationExpr) -> Option<i64> {
        let mut negative = false;
        loop {
            match d {
                DurationExpr::Literal(ms) => break Some(*ms),
                DurationExpr::Number(n) => break secs_to_millis(*n),
                DurationExpr::Unary(op, e) => {
                    negative ^= *op == UnaryOp::Neg;
                    d = e;
                }
                _ => return None,
            }
        }
        .and_then(|ms| if negative { ms.checked_neg() } else { Some(ms) })
    }
    match lit(&d) {
        Some(ms) => DurationExpr::Literal(ms),
        None => d,
    }
}

pub fn duration_call(name: &str, mut args: Vec<DurationExpr>, span: Span) -> PResult<DurationExpr> {
    let lower = name.to_ascii_lowercase();
    let want = match lower.as_str() {
        "step" | "range" => 0,
        "min_of" | "max_of" => 2,
        _ => {
            return fail(
                span,
                format!("unknown function {name:?} in duration expression"),
            );
        }
    };
    if args.len() != want {
        return fail(
            span,
            format!(
                "expected {want} argument(s) in call to {lower:?}, got {}",
                args.len()
            ),
        );
    }
    let b = args.pop().map(Box::new);
    let a = args.pop().map(Box::new);
    Ok(match (lower.as_str(), a, b) {
        ("step", _, _) => DurationExpr::Step,
        ("range", _, _) => DurationExpr::Range,
        ("min_of", Some(a), Some(b)) => DurationExpr::MinOf(a, b),
        (_, Some(a), Some(b)) => DurationExpr::MaxOf(a, b),
        _ => return fail(span, "bad duration function call"),
    })
}
