//! Warnings and infos attached to a query result, worded as Prometheus
//! words them (`PromQL warning: … (1:5)`).

use crate::Span;

/// Collected warnings and infos of one query, without duplicates.
#[derive(Debug, Default, Clone)]
pub struct Annotations {
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}

impl Annotations {
    pub(crate) fn warn(&mut self, query: &str, span: Span, msg: impl AsRef<str>) {
        let text = format!("PromQL warning: {}{}", msg.as_ref(), position(query, span));
        if !self.warnings.contains(&text) {
            self.warnings.push(text);
        }
    }

    pub(crate) fn info(&mut self, query: &str, span: Span, msg: impl AsRef<str>) {
        let text = format!("PromQL info: {}{}", msg.as_ref(), position(query, span));
        if !self.infos.contains(&text) {
            self.infos.push(text);
        }
    }
}

/// ` (line:column)` of the start of `span`, 1-based, as Prometheus prints
/// positions; empty when the query text is unknown.
fn position(query: &str, span: Span) -> String {
    if query.is_empty() {
        return String::new();
    }
    let before = &query[..span.start.min(query.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1)
        + 1;
    format!(" ({line}:{col})")
}
