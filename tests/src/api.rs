//! Asking a running Pharos (or Prometheus) over its HTTP API.

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// `GET base + path` as JSON.
pub fn get_json(base: &str, path: &str) -> Result<Value> {
    let resp = reqwest::blocking::Client::new()
        .get(format!("{base}{path}"))
        .send()
        .with_context(|| path.to_owned())?;
    Ok(resp.json()?)
}

/// An instant query's result vector; an error unless the API says success.
pub fn query(base: &str, expr: &str) -> Result<Vec<Value>> {
    let resp = reqwest::blocking::Client::new()
        .post(format!("{base}/api/v1/query"))
        .form(&[("query", expr)])
        .send()?;
    let v: Value = resp.json()?;
    if v["status"] != "success" {
        bail!("{expr}: {v}");
    }
    Ok(v["data"]["result"].as_array().cloned().unwrap_or_default())
}

/// The value of a one-series instant query, if there is one.
pub fn scalar(base: &str, expr: &str) -> Result<Option<f64>> {
    Ok(query(base, expr)?
        .first()
        .and_then(|s| s["value"][1].as_str())
        .and_then(|v| v.parse().ok()))
}
