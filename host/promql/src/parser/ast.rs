//! The typed PromQL syntax tree, shaped for the evaluator.
//!
//! Every node carries a byte [`Span`] into the query text. Spans always
//! compare equal, so `==` on two trees compares their structure only: this is
//! what "round-trips through the printer" means (`parse(print(e)) == e`).
//!
//! Durations (ranges, steps, offsets) are [`DurationExpr`]s: a plain
//! millisecond literal in the common case, an arithmetic expression for
//! Prometheus' experimental duration expressions (`[5m+1m]`, `offset step()`).
//! `@` timestamps are milliseconds.

use std::fmt;

use pharos_model::{METRIC_NAME, MatchOp, Matcher};

use super::functions::Function;

/// A byte range `start..end` into the query text.
///
/// Spans are positions, not content: all spans compare equal, so deriving
/// `PartialEq` on AST nodes compares structure only.
#[derive(Debug, Clone, Copy, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}

/// The type of a PromQL expression's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    Scalar,
    Vector,
    Matrix,
    String,
}

impl ValueType {
    /// The name Prometheus' documentation (and its error messages) use.
    pub fn documented(self) -> &'static str {
        match self {
            ValueType::Scalar => "scalar",
            ValueType::Vector => "instant vector",
            ValueType::Matrix => "range vector",
            ValueType::String => "string",
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.documented())
    }
}

/// A PromQL expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `1`, `0x1f`, `1e3`, `Inf`, `NaN`; also a duration used as a number
    /// (`5m` is 300).
    NumberLiteral(NumberLiteral),
    /// `"foo"`, `'foo'`, `` `foo` ``; the value is unescaped.
    StringLiteral(StringLiteral),
    /// `foo{job="x"} offset 5m @ 100`.
    VectorSelector(VectorSelector),
    /// `foo[5m]`; offset and `@` live in the inner selector.
    MatrixSelector(MatrixSelector),
    /// `expr[5m:1m]`.
    Subquery(SubqueryExpr),
    /// `-expr`, `+expr` (a sign on a number literal is folded into it).
    Unary(UnaryExpr),
    /// `lhs op rhs`.
    Binary(BinaryExpr),
    /// `sum by (job) (expr)`, `topk(5, expr)`.
    Aggregate(AggregateExpr),
    /// `rate(foo[5m])`.
    Call(Call),
    /// `(expr)`.
    Paren(ParenExpr),
}

#[derive(Debug, Clone)]
pub struct NumberLiteral {
    pub value: f64,
    pub span: Span,
}

/// NaN equals NaN here, so that trees with `NaN` literals compare equal.
impl PartialEq for NumberLiteral {
    fn eq(&self, other: &Self) -> bool {
        same_number(self.value, other.value)
    }
}

/// Equality on numbers for tree comparison: NaN equals NaN.
pub(crate) fn same_number(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

#[derive(Debug, Clone, PartialEq)]
pub struct StringLiteral {
    pub value: String,
    pub span: Span,
}

/// Whether `m` is the `__name__="<name>"` matcher a selector gets for its
/// metric name.
pub(crate) fn is_name_matcher(m: &Matcher, name: &str) -> bool {
    m.name == METRIC_NAME && m.op == MatchOp::Equal && m.value == name
}

/// An instant vector selector.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSelector {
    /// The metric name, when given outside the braces (`foo{…}`) or as a
    /// bare quoted string inside them (`{"foo.bar"}`).
    pub name: Option<String>,
    /// All matchers, sorted by their text as Prometheus prints them, with
    /// `__name__="<name>"` last when `name` is set.
    pub matchers: Vec<Matcher>,
    /// The value of the first `__name__` matcher inside the braces when the
    /// name is also given outside them (`foo{__name__="bar"}` has `bar`).
    /// Type checking refuses such a selector, as Prometheus' `checkAST`
    /// does; [`parse_metric_selector`](super::metric_selector) keeps it.
    pub name_inside: Option<String>,
    /// `offset <d>`; negative for `offset -5m`.
    pub offset: Option<DurationExpr>,
    /// `@ <t>`, `@ start()`, `@ end()`.
    pub at: Option<AtModifier>,
    /// Experimental `anchored` modifier (range selectors).
    pub anchored: bool,
    /// Experimental `smoothed` modifier.
    pub smoothed: bool,
    pub span: Span,
}

/// A range vector selector `vs[range]`.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixSelector {
    pub vs: VectorSelector,
    pub range: DurationExpr,
    pub span: Span,
}

/// `expr[range:step]`; `step` is `None` for `[5m:]` (the default step).
#[derive(Debug, Clone, PartialEq)]
pub struct SubqueryExpr {
    pub expr: Box<Expr>,
    pub range: DurationExpr,
    pub step: Option<DurationExpr>,
    pub offset: Option<DurationExpr>,
    pub at: Option<AtModifier>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg,
    Plus,
}

impl UnaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            UnaryOp::Neg => "-",
            UnaryOp::Plus => "+",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct UnaryExpr {
    pub op: UnaryOp,
    pub expr: Box<Expr>,
    pub span: Span,
}

/// Binary operators, in Prometheus' names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Atan2,
    Eql,
    Neq,
    Gtr,
    Lss,
    Gte,
    Lte,
    And,
    Or,
    Unless,
    /// `</`: experimental native-histogram trim of the upper part.
    TrimUpper,
    /// `>/`: experimental native-histogram trim of the lower part.
    TrimLower,
}

impl BinaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Pow => "^",
            BinaryOp::Atan2 => "atan2",
            BinaryOp::Eql => "==",
            BinaryOp::Neq => "!=",
            BinaryOp::Gtr => ">",
            BinaryOp::Lss => "<",
            BinaryOp::Gte => ">=",
            BinaryOp::Lte => "<=",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
            BinaryOp::Unless => "unless",
            BinaryOp::TrimUpper => "</",
            BinaryOp::TrimLower => ">/",
        }
    }

    /// `== != > < >= <=`
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eql
                | BinaryOp::Neq
                | BinaryOp::Gtr
                | BinaryOp::Lss
                | BinaryOp::Gte
                | BinaryOp::Lte
        )
    }

    /// `and or unless`
    pub fn is_set(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or | BinaryOp::Unless)
    }

    /// Binding strength, higher binds tighter (Prometheus' yacc order).
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And | BinaryOp::Unless => 2,
            BinaryOp::Eql
            | BinaryOp::Neq
            | BinaryOp::Gtr
            | BinaryOp::Lss
            | BinaryOp::Gte
            | BinaryOp::Lte
            | BinaryOp::TrimUpper
            | BinaryOp::TrimLower => 3,
            BinaryOp::Add | BinaryOp::Sub => 4,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod | BinaryOp::Atan2 => 5,
            BinaryOp::Pow => 6,
        }
    }
}

impl fmt::Display for BinaryOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How series on the two sides of a binary operation are matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Cardinality {
    #[default]
    OneToOne,
    /// `group_left`
    ManyToOne,
    /// `group_right`
    OneToMany,
    /// Set operators.
    ManyToMany,
}

/// Vector matching of a binary operation between two instant vectors.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VectorMatching {
    pub card: Cardinality,
    /// The `on(…)`/`ignoring(…)` labels.
    pub labels: Vec<String>,
    /// `on` (true) or `ignoring` (false, also when neither was written).
    pub on: bool,
    /// The `group_left(…)`/`group_right(…)` labels.
    pub include: Vec<String>,
    /// Experimental `fill(v)`, `fill_left(v)`, `fill_right(v)`.
    pub fill: FillValues,
}

/// Values to fill in for missing series on either side (experimental).
#[derive(Debug, Clone, Copy, Default)]
pub struct FillValues {
    pub lhs: Option<f64>,
    pub rhs: Option<f64>,
}

impl PartialEq for FillValues {
    fn eq(&self, other: &Self) -> bool {
        let same = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => same_number(a, b),
            (a, b) => a.is_none() && b.is_none(),
        };
        same(self.lhs, other.lhs) && same(self.rhs, other.rhs)
    }
}

impl FillValues {
    pub fn is_empty(&self) -> bool {
        self.lhs.is_none() && self.rhs.is_none()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BinaryExpr {
    pub op: BinaryOp,
    pub lhs: Box<Expr>,
    pub rhs: Box<Expr>,
    /// The `bool` modifier of comparisons.
    pub return_bool: bool,
    /// Set when both sides are instant vectors (cardinality `ManyToMany`
    /// for set operators), `None` when a side is a scalar.
    pub matching: Option<VectorMatching>,
    pub span: Span,
}

/// Aggregation operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateOp {
    Sum,
    Avg,
    Count,
    Min,
    Max,
    Group,
    Stddev,
    Stdvar,
    Topk,
    Bottomk,
    CountValues,
    Quantile,
    Limitk,
    LimitRatio,
}

impl AggregateOp {
    pub const ALL: [AggregateOp; 14] = [
        AggregateOp::Sum,
        AggregateOp::Avg,
        AggregateOp::Count,
        AggregateOp::Min,
        AggregateOp::Max,
        AggregateOp::Group,
        AggregateOp::Stddev,
        AggregateOp::Stdvar,
        AggregateOp::Topk,
        AggregateOp::Bottomk,
        AggregateOp::CountValues,
        AggregateOp::Quantile,
        AggregateOp::Limitk,
        AggregateOp::LimitRatio,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AggregateOp::Sum => "sum",
            AggregateOp::Avg => "avg",
            AggregateOp::Count => "count",
            AggregateOp::Min => "min",
            AggregateOp::Max => "max",
            AggregateOp::Group => "group",
            AggregateOp::Stddev => "stddev",
            AggregateOp::Stdvar => "stdvar",
            AggregateOp::Topk => "topk",
            AggregateOp::Bottomk => "bottomk",
            AggregateOp::CountValues => "count_values",
            AggregateOp::Quantile => "quantile",
            AggregateOp::Limitk => "limitk",
            AggregateOp::LimitRatio => "limit_ratio",
        }
    }

    /// Case-insensitive lookup, as the lexer does.
    pub fn from_name(name: &str) -> Option<AggregateOp> {
        AggregateOp::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(name))
    }

    /// The type of the first argument, for operators that take one.
    pub fn param_type(self) -> Option<ValueType> {
        match self {
            AggregateOp::Topk
            | AggregateOp::Bottomk
            | AggregateOp::Quantile
            | AggregateOp::Limitk
            | AggregateOp::LimitRatio => Some(ValueType::Scalar),
            AggregateOp::CountValues => Some(ValueType::String),
            _ => None,
        }
    }
}

impl fmt::Display for AggregateOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AggregateExpr {
    pub op: AggregateOp,
    pub expr: Box<Expr>,
    /// The parameter of `topk`, `bottomk`, `quantile`, `count_values`,
    /// `limitk`, `limit_ratio`.
    pub param: Option<Box<Expr>>,
    /// `by (…)` or `without (…)` labels.
    pub grouping: Vec<String>,
    pub without: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub func: &'static Function,
    pub args: Vec<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParenExpr {
    pub expr: Box<Expr>,
    pub span: Span,
}

/// The `@` modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AtModifier {
    /// `@ <unix seconds>`, stored in milliseconds.
    Timestamp(i64),
    /// `@ start()`
    Start,
    /// `@ end()`
    End,
}

/// A duration: a literal in milliseconds, or an experimental duration
/// expression evaluated per query (numbers in it are seconds).
#[derive(Debug, Clone, PartialEq)]
pub enum DurationExpr {
    /// Milliseconds; also what a bare number of seconds becomes.
    Literal(i64),
    /// A plain number of seconds inside an expression (`[60*30]`).
    Number(f64),
    /// `step()`: the query's step.
    Step,
    /// `range()`: the query's range (end - start).
    Range,
    Unary(UnaryOp, Box<DurationExpr>),
    Binary(DurationOp, Box<DurationExpr>, Box<DurationExpr>),
    MinOf(Box<DurationExpr>, Box<DurationExpr>),
    MaxOf(Box<DurationExpr>, Box<DurationExpr>),
    Paren(Box<DurationExpr>),
}

/// Operators of duration expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DurationOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

impl DurationOp {
    pub fn as_str(self) -> &'static str {
        match self {
            DurationOp::Add => "+",
            DurationOp::Sub => "-",
            DurationOp::Mul => "*",
            DurationOp::Div => "/",
            DurationOp::Mod => "%",
            DurationOp::Pow => "^",
        }
    }
}

/// Seconds to whole milliseconds; `None` when that is not finite or does
/// not fit an `i64`.
pub(crate) fn secs_to_millis(secs: f64) -> Option<i64> {
    let ms = (secs * 1000.0).round();
    (ms.is_finite() && ms.abs() < i64::MAX as f64).then_some(ms as i64)
}

/// What `step()` and `range()` resolve to, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DurationContext {
    pub step_ms: i64,
    pub range_ms: i64,
}

impl DurationExpr {
    /// The value in milliseconds when it does not depend on the query.
    pub fn as_millis(&self) -> Option<i64> {
        match self {
            DurationExpr::Literal(ms) => Some(*ms),
            e if !e.uses_query() => e.eval(DurationContext::default()),
            _ => None,
        }
    }

    /// Whether it uses `step()` or `range()`.
    pub fn uses_query(&self) -> bool {
        match self {
            DurationExpr::Literal(_) | DurationExpr::Number(_) => false,
            DurationExpr::Step | DurationExpr::Range => true,
            DurationExpr::Unary(_, e) | DurationExpr::Paren(e) => e.uses_query(),
            DurationExpr::Binary(_, a, b)
            | DurationExpr::MinOf(a, b)
            | DurationExpr::MaxOf(a, b) => a.uses_query() || b.uses_query(),
        }
    }

    /// Evaluates to milliseconds; `None` on division by zero or a result
    /// that is not finite.
    pub fn eval(&self, ctx: DurationContext) -> Option<i64> {
        secs_to_millis(self.eval_secs(ctx)?)
    }

    fn eval_secs(&self, ctx: DurationContext) -> Option<f64> {
        Some(match self {
            DurationExpr::Literal(ms) => *ms as f64 / 1000.0,
            DurationExpr::Number(n) => *n,
            DurationExpr::Step => ctx.step_ms as f64 / 1000.0,
            DurationExpr::Range => ctx.range_ms as f64 / 1000.0,
            DurationExpr::Paren(e) => e.eval_secs(ctx)?,
            DurationExpr::Unary(UnaryOp::Neg, e) => -e.eval_secs(ctx)?,
            DurationExpr::Unary(UnaryOp::Plus, e) => e.eval_secs(ctx)?,
            DurationExpr::MinOf(a, b) => a.eval_secs(ctx)?.min(b.eval_secs(ctx)?),
            DurationExpr::MaxOf(a, b) => a.eval_secs(ctx)?.max(b.eval_secs(ctx)?),
            DurationExpr::Binary(op, a, b) => {
                let (a, b) = (a.eval_secs(ctx)?, b.eval_secs(ctx)?);
                match op {
                    DurationOp::Add => a + b,
                    DurationOp::Sub => a - b,
                    DurationOp::Mul => a * b,
                    DurationOp::Div if b == 0.0 => return None,
                    DurationOp::Div => a / b,
                    DurationOp::Mod if b == 0.0 => return None,
                    DurationOp::Mod => a % b,
                    DurationOp::Pow => a.powf(b),
                }
            }
        })
    }
}

impl Expr {
    /// The byte range of this expression in the query.
    pub fn span(&self) -> Span {
        match self {
            Expr::NumberLiteral(e) => e.span,
            Expr::StringLiteral(e) => e.span,
            Expr::VectorSelector(e) => e.span,
            Expr::MatrixSelector(e) => e.span,
            Expr::Subquery(e) => e.span,
            Expr::Unary(e) => e.span,
            Expr::Binary(e) => e.span,
            Expr::Aggregate(e) => e.span,
            Expr::Call(e) => e.span,
            Expr::Paren(e) => e.span,
        }
    }

    pub(crate) fn set_span(&mut self, span: Span) {
        match self {
            Expr::NumberLiteral(e) => e.span = span,
            Expr::StringLiteral(e) => e.span = span,
            Expr::VectorSelector(e) => e.span = span,
            Expr::MatrixSelector(e) => e.span = span,
            Expr::Subquery(e) => e.span = span,
            Expr::Unary(e) => e.span = span,
            Expr::Binary(e) => e.span = span,
            Expr::Aggregate(e) => e.span = span,
            Expr::Call(e) => e.span = span,
            Expr::Paren(e) => e.span = span,
        }
    }

    /// The type of the value this expression evaluates to.
    pub fn value_type(&self) -> ValueType {
        match self {
            Expr::NumberLiteral(_) => ValueType::Scalar,
            Expr::StringLiteral(_) => ValueType::String,
            Expr::VectorSelector(_) => ValueType::Vector,
            Expr::MatrixSelector(_) | Expr::Subquery(_) => ValueType::Matrix,
            Expr::Unary(e) => e.expr.value_type(),
            Expr::Binary(e) => {
                if e.lhs.value_type() == ValueType::Scalar
                    && e.rhs.value_type() == ValueType::Scalar
                {
                    ValueType::Scalar
                } else {
                    ValueType::Vector
                }
            }
            Expr::Aggregate(_) => ValueType::Vector,
            Expr::Call(c) => c.func.return_type,
            Expr::Paren(e) => e.expr.value_type(),
        }
    }

    /// Removes any number of enclosing parentheses.
    pub fn unparen(&self) -> &Expr {
        match self {
            Expr::Paren(p) => p.expr.unparen(),
            e => e,
        }
    }
}
