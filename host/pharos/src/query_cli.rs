//! `pharos query EXPR`: asks a running server's `/api/v1/query` and prints
//! the answer as a table, for a quick look from a shell.

use anyhow::{Context, bail};
use serde_json::Value;

use crate::cli::QueryArgs;

/// Runs the query and returns the table to print.
pub async fn run(args: QueryArgs) -> anyhow::Result<String> {
    let url = format!("{}/api/v1/query", args.server.trim_end_matches('/'));
    let mut form = vec![("query", args.expr.clone())];
    if let Some(t) = &args.time {
        form.push(("time", t.clone()));
    }
    let resp = reqwest::Client::new()
        .post(&url)
        .form(&form)
        .send()
        .await
        .with_context(|| format!("querying {url}"))?;
    let body: Value = resp
        .json()
        .await
        .with_context(|| format!("reading the answer of {url}"))?;
    if body["status"] != "success" {
        bail!(
            "{}: {}",
            body["errorType"].as_str().unwrap_or("error"),
            body["error"].as_str().unwrap_or("unknown error")
        );
    }
    let mut out = table(&body["data"]);
    for key in ["warnings", "infos"] {
        if let Some(list) = body[key].as_array() {
            for w in list {
                out.push_str(&format!("{}\n", w.as_str().unwrap_or_default()));
            }
        }
    }
    Ok(out)
}

/// `{a="1", b="2"}` with the metric name in front.
fn series_name(metric: &Value) -> String {
    let Some(m) = metric.as_object() else {
        return "{}".into();
    };
    let name = m.get("__name__").and_then(Value::as_str).unwrap_or("");
    let rest: Vec<String> = m
        .iter()
        .filter(|(k, _)| *k != "__name__")
        .map(|(k, v)| format!("{k}={}", v))
        .collect();
    if rest.is_empty() && !name.is_empty() {
        name.to_string()
    } else {
        format!("{name}{{{}}}", rest.join(", "))
    }
}

fn point_value(p: &Value) -> String {
    p[1].as_str().unwrap_or_default().to_string()
}

/// Two aligned columns: series and value (or values for a range vector).
fn table(data: &Value) -> String {
    let rows: Vec<(String, String)> = match data["resultType"].as_str() {
        Some("vector") => data["result"]
            .as_array()
            .map(|r| {
                r.iter()
                    .map(|s| (series_name(&s["metric"]), point_value(&s["value"])))
                    .collect()
            })
            .unwrap_or_default(),
        Some("matrix") => data["result"]
            .as_array()
            .map(|r| {
                r.iter()
                    .map(|s| {
                        let vals: Vec<String> = s["values"]
                            .as_array()
                            .map(|v| {
                                v.iter()
                                    .map(|p| format!("{} @{}", point_value(p), p[0]))
                                    .collect()
                            })
                            .unwrap_or_default();
                        (series_name(&s["metric"]), vals.join("  "))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        Some("scalar") => vec![("scalar".into(), point_value(&data["result"]))],
        Some("string") => vec![("string".into(), point_value(&data["result"]))],
        _ => Vec::new(),
    };
    if rows.is_empty() {
        return "(no series)\n".into();
    }
    let width = rows
        .iter()
        .map(|(s, _)| s.chars().count())
        .max()
        .unwrap_or(0)
        .max(6);
    let mut out = format!("{:width$}  VALUE\n", "SERIES");
    for (s, v) in rows {
        out.push_str(&format!("{s:width$}  {v}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::table;

    #[test]
    fn vector_table() {
        let data = json!({"resultType":"vector","result":[
            {"metric":{"__name__":"up","job":"node"},"value":[1.5,"1"]},
            {"metric":{},"value":[1.5,"NaN"]}
        ]});
        assert_eq!(
            table(&data),
            "SERIES          VALUE\nup{job=\"node\"}  1\n{}              NaN\n"
        );
    }

    #[test]
    fn scalar_and_empty() {
        assert_eq!(
            table(&json!({"resultType":"scalar","result":[1,"2"]})),
            "SERIES  VALUE\nscalar  2\n"
        );
        assert_eq!(
            table(&json!({"resultType":"vector","result":[]})),
            "(no series)\n"
        );
    }
}
