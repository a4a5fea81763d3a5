//! A bound on how deeply a query nests, checked without recursion.
//!
//! The type checker, the printer, the evaluator and even `Drop` walk the tree
//! recursively; a query such as `a + a + … + a` with 100 000 terms (or
//! `((((…))))`) would overflow the stack. Queries nested deeper than
//! [`MAX_DEPTH`] are rejected, and such trees are taken apart iteratively.

use super::ast::*;

/// The deepest tree [`super::parse`] accepts.
pub const MAX_DEPTH: usize = 1000;

/// Whether `expr` nests deeper than `limit`, counting duration expressions.
pub fn exceeds(expr: &Expr, limit: usize) -> bool {
    let mut stack: Vec<(&Expr, usize)> = vec![(expr, 1)];
    while let Some((e, d)) = stack.pop() {
        if d > limit {
            return true;
        }
        let mut durations: Vec<&DurationExpr> = Vec::new();
        match e {
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) => {}
            Expr::VectorSelector(vs) => durations.extend(vs.offset.as_ref()),
            Expr::MatrixSelector(ms) => {
                durations.push(&ms.range);
                durations.extend(ms.vs.offset.as_ref());
            }
            Expr::Subquery(sq) => {
                stack.push((&sq.expr, d + 1));
                durations.push(&sq.range);
                durations.extend(sq.step.as_ref());
                durations.extend(sq.offset.as_ref());
            }
            Expr::Unary(u) => stack.push((&u.expr, d + 1)),
            Expr::Paren(p) => stack.push((&p.expr, d + 1)),
            Expr::Binary(b) => {
                stack.push((&b.lhs, d + 1));
                stack.push((&b.rhs, d + 1));
            }
            Expr::Aggregate(a) => {
                stack.push((&a.expr, d + 1));
                if let Some(p) = &a.param {
                    stack.push((p, d + 1));
                }
            }
            Expr::Call(c) => stack.extend(c.args.iter().map(|a| (a, d + 1))),
        }
        if durations
            .iter()
            .any(|x| duration_exceeds(x, limit.saturating_sub(d)))
        {
            return true;
        }
    }
    false
}

fn duration_exceeds(expr: &DurationExpr, limit: usize) -> bool {
    let mut stack = vec![(expr, 1)];
    while let Some((e, d)) = stack.pop() {
        if d > limit {
            return true;
        }
        match e {
            DurationExpr::Literal(_)
            | DurationExpr::Number(_)
            | DurationExpr::Step
            | DurationExpr::Range => {}
            DurationExpr::Unary(_, x) | DurationExpr::Paren(x) => stack.push((x, d + 1)),
            DurationExpr::Binary(_, a, b)
            | DurationExpr::MinOf(a, b)
            | DurationExpr::MaxOf(a, b) => {
                stack.push((a, d + 1));
                stack.push((b, d + 1));
            }
        }
    }
    false
}

/// Drops a tree of any depth without recursing.
pub fn dismantle(expr: Expr) {
    let placeholder = || {
        Box::new(Expr::NumberLiteral(NumberLiteral {
            value: 0.0,
            span: Span::default(),
        }))
    };
    let mut exprs: Vec<Expr> = vec![expr];
    let mut durations: Vec<DurationExpr> = Vec::new();
    while let Some(e) = exprs.pop() {
        match e {
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) => {}
            Expr::VectorSelector(mut vs) => durations.extend(vs.offset.take()),
            Expr::MatrixSelector(mut ms) => {
                durations.extend(ms.vs.offset.take());
                durations.push(std::mem::replace(&mut ms.range, DurationExpr::Step));
            }
            Expr::Subquery(mut sq) => {
                exprs.push(*std::mem::replace(&mut sq.expr, placeholder()));
                durations.push(std::mem::replace(&mut sq.range, DurationExpr::Step));
                durations.extend(sq.step.take());
                durations.extend(sq.offset.take());
            }
            Expr::Unary(mut u) => exprs.push(*std::mem::replace(&mut u.expr, placeholder())),
            Expr::Paren(mut p) => exprs.push(*std::mem::replace(&mut p.expr, placeholder())),
            Expr::Binary(mut b) => {
                exprs.push(*std::mem::replace(&mut b.lhs, placeholder()));
                exprs.push(*std::mem::replace(&mut b.rhs, placeholder()));
            }
            Expr::Aggregate(mut a) => {
                exprs.push(*std::mem::replace(&mut a.expr, placeholder()));
                if let Some(p) = a.param.take() {
                    exprs.push(*p);
                }
            }
            Expr::Call(mut c) => exprs.append(&mut c.args),
        }
    }
    while let Some(d) = durations.pop() {
        match d {
            DurationExpr::Unary(_, x) | DurationExpr::Paren(x) => durations.push(*x),
            DurationExpr::Binary(_, a, b)
            | DurationExpr::MinOf(a, b)
            | DurationExpr::MaxOf(a, b) => {
                durations.push(*a);
                durations.push(*b);
            }
            _ => {}
        }
    }
}
