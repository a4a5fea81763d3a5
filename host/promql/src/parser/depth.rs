//! A bound on how deeply a query nests, checked without recursion.
//!
//! The type checker, the printer and the evaluator walk the tree
//! recursively; a query such as `a + a + … + a` with 100 000 terms (or
//! `((((…))))`) would overflow the stack. Queries nested deeper than
//! [`MAX_DEPTH`] are rejected before any of them runs. The parser itself is
//! an LR automaton with a heap stack, and dropping a tree never recurses
//! (the `Drop` impls below), so a deep tree can be built, refused and
//! freed (also when a syntax error follows it) on any stack.

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

/// A leaf left in a box whose content was taken out; costs no allocation.
fn hole() -> Expr {
    Expr::NumberLiteral(NumberLiteral {
        value: 0.0,
        span: Span::default(),
    })
}

/// Whether dropping `e` cannot recurse into expressions. Durations drop
/// iteratively on their own ([`Drop for DurationExpr`](DurationExpr)).
fn is_leaf(e: &Expr) -> bool {
    matches!(
        e,
        Expr::NumberLiteral(_)
            | Expr::StringLiteral(_)
            | Expr::VectorSelector(_)
            | Expr::MatrixSelector(_)
    )
}

/// Moves the non-leaf children of `e` into `out`, leaving holes.
fn detach(e: &mut Expr, out: &mut Vec<Expr>) {
    let mut take = |b: &mut Expr| {
        if !is_leaf(b) {
            out.push(std::mem::replace(b, hole()));
        }
    };
    match e {
        Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::VectorSelector(_)
        | Expr::MatrixSelector(_) => {}
        Expr::Subquery(sq) => take(&mut sq.expr),
        Expr::Unary(u) => take(&mut u.expr),
        Expr::Paren(p) => take(&mut p.expr),
        Expr::Binary(b) => {
            take(&mut b.lhs);
            take(&mut b.rhs);
        }
        Expr::Aggregate(a) => {
            take(&mut a.expr);
            if let Some(p) = &mut a.param {
                take(p);
            }
        }
        Expr::Call(c) => c.args.iter_mut().for_each(take),
    }
}

/// Drops the subtrees below a node without recursing: each subtree is
/// emptied onto a heap stack before it is dropped, so every `drop` the
/// compiler runs afterwards sees only leaves.
fn drop_children<'a>(children: impl IntoIterator<Item = &'a mut Expr>) {
    let mut stack = Vec::new();
    for c in children {
        if !is_leaf(c) {
            stack.push(std::mem::replace(c, hole()));
        }
    }
    while let Some(mut e) = stack.pop() {
        detach(&mut e, &mut stack);
    }
}

// Drop is implemented on every node that boxes an expression: the derived
// drop glue would recurse once per level, and a tree a hundred thousand
// levels deep (built by the parser before the depth check, or dropped by
// it on a syntax error) would overflow the stack.

impl Drop for UnaryExpr {
    fn drop(&mut self) {
        drop_children([&mut *self.expr]);
    }
}

impl Drop for ParenExpr {
    fn drop(&mut self) {
        drop_children([&mut *self.expr]);
    }
}

impl Drop for SubqueryExpr {
    fn drop(&mut self) {
        drop_children([&mut *self.expr]);
    }
}

impl Drop for BinaryExpr {
    fn drop(&mut self) {
        drop_children([&mut *self.lhs, &mut *self.rhs]);
    }
}

impl Drop for AggregateExpr {
    fn drop(&mut self) {
        let param = self.param.as_deref_mut();
        drop_children(std::iter::once(&mut *self.expr).chain(param));
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        drop_children(self.args.iter_mut());
    }
}

impl Drop for DurationExpr {
    fn drop(&mut self) {
        let mut stack = Vec::new();
        detach_duration(self, &mut stack);
        while let Some(mut d) = stack.pop() {
            detach_duration(&mut d, &mut stack);
        }
    }
}

/// Moves the non-leaf operands of `d` into `out`, leaving `step()` leaves.
fn detach_duration(d: &mut DurationExpr, out: &mut Vec<DurationExpr>) {
    let mut take = |x: &mut DurationExpr| {
        if !matches!(
            x,
            DurationExpr::Literal(_)
                | DurationExpr::Number(_)
                | DurationExpr::Step
                | DurationExpr::Range
        ) {
            out.push(std::mem::replace(x, DurationExpr::Step));
        }
    };
    match d {
        DurationExpr::Literal(_)
        | DurationExpr::Number(_)
        | DurationExpr::Step
        | DurationExpr::Range => {}
        DurationExpr::Unary(_, x) | DurationExpr::Paren(x) => take(x),
        DurationExpr::Binary(_, a, b) | DurationExpr::MinOf(a, b) | DurationExpr::MaxOf(a, b) => {
            take(a);
            take(b);
        }
    }
}
