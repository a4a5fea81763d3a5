//! Type checking after parsing, as Prometheus' `checkAST` does: argument
//! and operand types, `bool` only on comparisons, vector matching only
//! between instant vectors, no selector that matches everything.
//!
//! It also settles [`BinaryExpr::matching`]: `None` when a side is a scalar,
//! `ManyToMany` for set operators.

use super::ast::*;
use super::error::SyntaxError;

type Result<T> = std::result::Result<T, SyntaxError>;

fn err<T>(span: Span, message: impl Into<String>) -> Result<T> {
    Err(SyntaxError::new(span, message))
}

/// Checks `expr` and returns its type.
pub fn check(expr: &mut Expr, q: &str) -> Result<ValueType> {
    match expr {
        Expr::NumberLiteral(_) => Ok(ValueType::Scalar),
        Expr::StringLiteral(_) => Ok(ValueType::String),
        Expr::VectorSelector(vs) => {
            check_selector(vs)?;
            Ok(ValueType::Vector)
        }
        Expr::MatrixSelector(ms) => {
            check_selector(&ms.vs)?;
            Ok(ValueType::Matrix)
        }
        Expr::Subquery(sq) => {
            let t = check(&mut sq.expr, q)?;
            if t != ValueType::Vector {
                return err(
                    sq.span,
                    format!("subquery is only allowed on instant vector, got {t} instead"),
                );
            }
            Ok(ValueType::Matrix)
        }
        Expr::Paren(p) => check(&mut p.expr, q),
        Expr::Unary(u) => {
            let t = check(&mut u.expr, q)?;
            if !is_scalar_or_vector(t) {
                return err(
                    u.span,
                    format!(
                        "unary expression only allowed on expressions of type scalar or instant vector, got {:?}",
                        t.documented()
                    ),
                );
            }
            Ok(t)
        }
        Expr::Aggregate(a) => {
            if let (Some(want), Some(param)) = (a.op.param_type(), a.param.as_mut()) {
                expect(param, want, "aggregation parameter", q)?;
            }
            expect(&mut a.expr, ValueType::Vector, "aggregation expression", q)?;
            Ok(ValueType::Vector)
        }
        Expr::Call(c) => check_call(c, q),
        Expr::Binary(b) => check_binary(b, q),
    }
}

fn expect(expr: &mut Expr, want: ValueType, context: &str, q: &str) -> Result<()> {
    let got = check(expr, q)?;
    if got != want {
        return err(
            expr.span(),
            format!("expected type {want} in {context}, got {got}"),
        );
    }
    Ok(())
}

fn check_selector(vs: &VectorSelector) -> Result<()> {
    if let Some(name) = &vs.name {
        if let Some(second) = &vs.name_inside {
            return err(
                vs.span,
                format!("metric name must not be set twice: {name:?} or {second:?}"),
            );
        }
        return Ok(());
    }
    if vs.matchers.iter().all(|m| m.matches_empty()) {
        return err(
            vs.span,
            "vector selector must contain at least one non-empty matcher",
        );
    }
    Ok(())
}

/// Range functions that accept `anchored` and `smoothed` range selectors.
const ANCHORED_OK: &[&str] = &["changes", "delta", "increase", "rate", "resets"];
const SMOOTHED_OK: &[&str] = &["delta", "increase", "rate"];

fn check_call(c: &mut Call, q: &str) -> Result<ValueType> {
    let f = c.func;
    let nargs = f.arg_types.len();
    let got = c.args.len();
    if f.variadic == 0 {
        if nargs != got {
            return err(
                c.span,
                format!(
                    "expected {nargs} argument(s) in call to {:?}, got {got}",
                    f.name
                ),
            );
        }
    } else {
        let min = nargs.saturating_sub(1);
        if min > got {
            return err(
                c.span,
                format!(
                    "expected at least {min} argument(s) in call to {:?}, got {got}",
                    f.name
                ),
            );
        }
        let max = min + f.variadic.max(0) as usize;
        if f.variadic > 0 && max < got {
            return err(
                c.span,
                format!(
                    "expected at most {max} argument(s) in call to {:?}, got {got}",
                    f.name
                ),
            );
        }
    }
    if f.name == "info" && c.args.len() > 1 {
        // The second argument selects info metrics by labels: it may match
        // the empty string (`{data=~".*"}`).
        match c.args[1].unparen() {
            Expr::VectorSelector(_) => {}
            other => {
                return err(
                    other.span(),
                    format!(
                        "expected label selectors as the second argument to \"info\" function, got {}",
                        other.value_type()
                    ),
                );
            }
        }
    }
    let context = format!("call to function {:?}", f.name);
    for (i, arg) in c.args.iter_mut().enumerate() {
        let want = f.arg_types[i.min(nargs.saturating_sub(1))];
        if f.name == "info" && i == 1 {
            continue;
        }
        expect(arg, want, &context, q)?;
        if let Expr::MatrixSelector(ms) = arg.unparen() {
            let modifiers = [
                (ms.vs.smoothed, "smoothed", SMOOTHED_OK),
                (ms.vs.anchored, "anchored", ANCHORED_OK),
            ];
            for (set, word, allowed) in modifiers {
                if set && !allowed.contains(&f.name) {
                    return err(
                        ms.span,
                        format!(
                            "{word} modifier can only be used with: {} - not with {}",
                            allowed.join(", "),
                            f.name
                        ),
                    );
                }
            }
        }
    }
    Ok(f.return_type)
}

fn check_binary(b: &mut BinaryExpr, q: &str) -> Result<ValueType> {
    let lt = check(&mut b.lhs, q)?;
    let rt = check(&mut b.rhs, q)?;
    let op = b.op;
    // The operator and its modifiers, without surrounding white space; only
    // errors need it.
    let op_span = || {
        let (lhs_end, rhs_start) = (b.lhs.span().end, b.rhs.span().start);
        let between = q.get(lhs_end..rhs_start).unwrap_or_default();
        let lead = between.len() - between.trim_start().len();
        Span::new(lhs_end + lead, lhs_end + between.trim_end().len())
    };
    if b.return_bool && !op.is_comparison() {
        return err(
            op_span(),
            "bool modifier can only be used on comparison operators",
        );
    }
    if op.is_comparison() && !b.return_bool && lt == ValueType::Scalar && rt == ValueType::Scalar {
        return err(
            op_span(),
            "comparisons between scalars must use BOOL modifier",
        );
    }
    if let Some(vm) = &mut b.matching {
        if op.is_set() && vm.card == Cardinality::OneToOne {
            vm.card = Cardinality::ManyToMany;
        }
        if vm.on
            && let Some(l) = vm.labels.iter().find(|l| vm.include.contains(l))
        {
            return err(
                op_span(),
                format!("label {l:?} must not occur in ON and GROUP clause at once"),
            );
        }
    }
    for (t, side) in [(lt, &b.lhs), (rt, &b.rhs)] {
        if !is_scalar_or_vector(t) {
            return err(
                side.span(),
                "binary expression must contain only scalar and instant vector types",
            );
        }
    }
    let both_vectors = lt == ValueType::Vector && rt == ValueType::Vector;
    if !both_vectors {
        if b.matching.as_ref().is_some_and(|vm| !vm.labels.is_empty()) {
            return err(
                b.span,
                "vector matching only allowed between instant vectors",
            );
        }
        b.matching = None;
    } else if op.is_set()
        && let Some(vm) = &b.matching
    {
        if matches!(vm.card, Cardinality::OneToMany | Cardinality::ManyToOne) {
            return err(
                b.span,
                format!("no grouping allowed for {:?} operation", op.as_str()),
            );
        }
        if !vm.fill.is_empty() {
            return err(
                b.span,
                format!("fill modifiers not allowed for {:?} operation", op.as_str()),
            );
        }
    }
    if (lt == ValueType::Scalar || rt == ValueType::Scalar) && op.is_set() {
        return err(
            b.span,
            format!(
                "set operator {:?} not allowed in binary scalar expression",
                op.as_str()
            ),
        );
    }
    Ok(if lt == ValueType::Scalar && rt == ValueType::Scalar {
        ValueType::Scalar
    } else {
        ValueType::Vector
    })
}

fn is_scalar_or_vector(t: ValueType) -> bool {
    matches!(t, ValueType::Scalar | ValueType::Vector)
}
