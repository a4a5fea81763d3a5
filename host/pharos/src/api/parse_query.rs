//! `/api/v1/parse_query`: the syntax tree of a query as JSON, in the shape
//! Prometheus' web UI reads for its "explain" view: every node has a
//! `type`; durations and `@` times are milliseconds.

use pharos_promql::{
    AtModifier, Cardinality, DurationExpr, Expr, ValueType, VectorSelector, parse,
    parser::format_number,
};
use serde_json::{Value, json};

use super::params::Params;
use super::{ApiError, ApiResponse};

fn value_type(t: ValueType) -> &'static str {
    match t {
        ValueType::Scalar => "scalar",
        ValueType::Vector => "vector",
        ValueType::Matrix => "matrix",
        ValueType::String => "string",
    }
}

fn duration(d: Option<&DurationExpr>) -> Value {
    match d {
        None => json!(0),
        Some(d) => d.as_millis().map_or(Value::Null, |ms| json!(ms)),
    }
}

/// `timestamp` and `startOrEnd` of an `@` modifier.
fn at(a: Option<AtModifier>) -> (Value, Value) {
    match a {
        None => (Value::Null, Value::Null),
        Some(AtModifier::Timestamp(ms)) => (json!(ms), Value::Null),
        Some(AtModifier::Start) => (Value::Null, json!("start")),
        Some(AtModifier::End) => (Value::Null, json!("end")),
    }
}

fn selector(vs: &VectorSelector, kind: &str) -> Value {
    let matchers: Vec<Value> = vs
        .matchers
        .iter()
        .map(|m| json!({"type": m.op.as_str(), "name": m.name, "value": m.value}))
        .collect();
    let (timestamp, start_or_end) = at(vs.at);
    json!({
        "type": kind,
        "name": vs.name.clone().unwrap_or_default(),
        "matchers": matchers,
        "offset": duration(vs.offset.as_ref()),
        "timestamp": timestamp,
        "startOrEnd": start_or_end,
    })
}

/// The JSON tree of `e`.
pub fn tree(e: &Expr) -> Value {
    match e {
        Expr::NumberLiteral(n) => json!({"type": "numberLiteral", "val": format_number(n.value)}),
        Expr::StringLiteral(s) => json!({"type": "stringLiteral", "val": s.value}),
        Expr::VectorSelector(vs) => selector(vs, "vectorSelector"),
        Expr::MatrixSelector(ms) => {
            let mut v = selector(&ms.vs, "matrixSelector");
            v["range"] = duration(Some(&ms.range));
            v
        }
        Expr::Subquery(sq) => {
            let (timestamp, start_or_end) = at(sq.at);
            json!({
                "type": "subquery",
                "expr": tree(&sq.expr),
                "range": duration(Some(&sq.range)),
                "step": duration(sq.step.as_ref()),
                "offset": duration(sq.offset.as_ref()),
                "timestamp": timestamp,
                "startOrEnd": start_or_end,
            })
        }
        Expr::Paren(p) => json!({"type": "parenExpr", "expr": tree(&p.expr)}),
        Expr::Unary(u) => json!({"type": "unaryExpr", "op": u.op.as_str(), "expr": tree(&u.expr)}),
        Expr::Binary(b) => {
            let matching = b.matching.as_ref().map_or(Value::Null, |m| {
                json!({
                    "card": match m.card {
                        Cardinality::OneToOne => "one-to-one",
                        Cardinality::ManyToOne => "many-to-one",
                        Cardinality::OneToMany => "one-to-many",
                        Cardinality::ManyToMany => "many-to-many",
                    },
                    "labels": m.labels,
                    "on": m.on,
                    "include": m.include,
                })
            });
            json!({
                "type": "binaryExpr",
                "op": b.op.as_str(),
                "lhs": tree(&b.lhs),
                "rhs": tree(&b.rhs),
                "bool": b.return_bool,
                "matching": matching,
            })
        }
        Expr::Aggregate(a) => json!({
            "type": "aggregation",
            "op": a.op.as_str(),
            "expr": tree(&a.expr),
            "param": a.param.as_deref().map_or(Value::Null, tree),
            "grouping": a.grouping,
            "without": a.without,
        }),
        Expr::Call(c) => json!({
            "type": "call",
            "func": {
                "name": c.func.name,
                "argTypes": c.func.arg_types.iter().map(|t| value_type(*t)).collect::<Vec<_>>(),
                "variadic": c.func.variadic,
                "returnType": value_type(c.func.return_type),
            },
            "args": c.args.iter().map(tree).collect::<Vec<_>>(),
        }),
    }
}

pub async fn parse_query(p: Params) -> Result<ApiResponse<Value>, ApiError> {
    let text = p.get("query").unwrap_or("");
    let e = parse(text).map_err(|e| ApiError::invalid_param("query", e))?;
    Ok(ApiResponse::new(tree(&e)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::api::test_util::{get, seeded};

    #[tokio::test]
    async fn a_tree_with_types() {
        let (_, body) = get(
            seeded(),
            "/api/v1/parse_query?query=sum by (job) (rate(up{job=\"a\"}[5m] offset 1m)) > bool 1",
        )
        .await;
        assert_eq!(body["status"], "success");
        let d = &body["data"];
        assert_eq!(d["type"], "binaryExpr");
        assert_eq!(d["op"], ">");
        assert_eq!(d["bool"], true);
        assert_eq!(d["rhs"], json!({"type": "numberLiteral", "val": "1"}));
        let agg = &d["lhs"];
        assert_eq!(agg["type"], "aggregation");
        assert_eq!(agg["grouping"], json!(["job"]));
        let call = &agg["expr"];
        assert_eq!(call["func"]["name"], "rate");
        assert_eq!(call["func"]["argTypes"], json!(["matrix"]));
        let ms = &call["args"][0];
        assert_eq!(ms["type"], "matrixSelector");
        assert_eq!(ms["range"], 300_000);
        assert_eq!(ms["offset"], 60_000);
        assert_eq!(ms["name"], "up");
    }

    #[tokio::test]
    async fn a_bad_query_is_bad_data() {
        let (status, body) = get(seeded(), "/api/v1/parse_query?query=sum(").await;
        assert_eq!(status, axum::http::StatusCode::BAD_REQUEST);
        assert_eq!(body["errorType"], "bad_data");
    }
}
