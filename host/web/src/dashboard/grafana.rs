//! Grafana dashboard JSON, imported as it is: the file Grafana's "Export →
//! Save to file" writes, a dashboard from grafana.com, or the API's
//! `{"dashboard": {…}}` wrapper. Both layouts are read: `panels` with
//! `gridPos` and `row` panels (schema 16 and later; a collapsed row holds
//! its panels), and the older `rows` of panels with a `span` of 12.
//!
//! Grafana's files are loose (fields missing, numbers as strings, queries
//! as strings or objects), so this reads a [`serde_json::Value`] and takes
//! what it understands: a field of the wrong shape is the same as a
//! missing one, never an error. Only text that is not JSON, or JSON that
//! is not an object with panels or rows, is refused.

use serde_json::Value;

use super::{
    Dashboard, GRID_COLUMNS, Grid, Panel, PanelKind, Row, Target, Threshold, TimeRange, Variable,
    VariableKind,
};

/// Why a file is not a Grafana dashboard.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not a Grafana dashboard: {0}")]
    NotADashboard(&'static str),
}

/// Grafana's grid row height in pixels, to turn the old layout's heights
/// (`"250px"`) into rows.
const ROW_PX: f64 = 30.0;

/// Reads a Grafana dashboard file.
pub fn import(bytes: &[u8]) -> Result<Dashboard, ImportError> {
    let doc: Value = serde_json::from_slice(bytes)?;
    let Some(mut d) = doc.as_object() else {
        return Err(ImportError::NotADashboard("the JSON is not an object"));
    };
    // The HTTP API's form: {"dashboard": {…}, "meta": {…}}.
    if !d.contains_key("panels")
        && !d.contains_key("rows")
        && let Some(inner) = d.get("dashboard").and_then(Value::as_object)
    {
        d = inner;
    }
    let rows = match (d.get("panels"), d.get("rows")) {
        (Some(Value::Array(panels)), _) => grid_rows(panels),
        (_, Some(Value::Array(rows))) => legacy_rows(rows),
        _ => return Err(ImportError::NotADashboard("it has neither panels nor rows")),
    };
    let time = d.get("time");
    let time = TimeRange {
        from: text(time.and_then(|t| t.get("from"))).unwrap_or_else(|| "now-1h".to_owned()),
        to: text(time.and_then(|t| t.get("to"))).unwrap_or_else(|| "now".to_owned()),
    };
    let variables = d
        .get("templating")
        .and_then(|t| t.get("list"))
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(variable).collect())
        .unwrap_or_default();
    Ok(Dashboard {
        title: text(d.get("title")).unwrap_or_else(|| "Untitled".to_owned()),
        source: "grafana",
        // `false` or "" when the dashboard does not refresh by itself.
        refresh: text(d.get("refresh")),
        time,
        variables,
        rows,
    })
}

/// A non-empty string.
fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn flag(v: Option<&Value>) -> bool {
    v.and_then(Value::as_bool).unwrap_or(false)
}

/// A number, also written as a string (`"0"`, old files' axis bounds).
fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite())
}

fn small(v: Option<&Value>) -> Option<u32> {
    number(v)
        .filter(|f| *f >= 0.0 && *f <= f64::from(u32::MAX))
        .map(|f| f as u32)
}

fn variable(v: &Value) -> Option<Variable> {
    let name = text(v.get("name"))?;
    let kind = match v.get("type").and_then(Value::as_str)? {
        "query" => VariableKind::Query,
        "custom" => VariableKind::Custom,
        "constant" => VariableKind::Constant,
        "textbox" => VariableKind::Textbox,
        "interval" => VariableKind::Interval,
        "datasource" => VariableKind::Datasource,
        // adhoc filters, groupby, system variables: nothing to substitute.
        _ => return None,
    };
    // Queries are strings, or objects since Grafana 9 ({"query": "…"}).
    let query = match v.get("query") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => text(o.get("query")).unwrap_or_default(),
        _ => String::new(),
    };
    let current = match v.get("current").and_then(|c| c.get("value")) {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    Some(Variable {
        name,
        label: text(v.get("label")),
        kind,
        query,
        regex: text(v.get("regex")),
        multi: flag(v.get("multi")),
        include_all: flag(v.get("includeAll")),
        all_value: text(v.get("allValue")),
        current,
        sort: small(v.get("sort"))
            .and_then(|s| u8::try_from(s).ok())
            .unwrap_or(0),
        hidden: kind == VariableKind::Datasource
            || kind == VariableKind::Constant
            || small(v.get("hide")) == Some(2),
    })
}

fn grid_pos(p: &Value) -> Grid {
    let g = p.get("gridPos");
    let get = |k: &str| small(g.and_then(|g| g.get(k)));
    let w = get("w").unwrap_or(12).clamp(1, GRID_COLUMNS);
    let x = get("x").unwrap_or(0).min(GRID_COLUMNS - 1);
    Grid {
        x,
        y: get("y").unwrap_or(0),
        w: w.min(GRID_COLUMNS - x),
        h: get("h").unwrap_or(8).clamp(1, 100),
    }
}

/// Schema 16+: panels in reading order; each `row` panel starts a row
/// (a collapsed one holds its own panels), panels above the first row
/// make an untitled one.
fn grid_rows(panels: &[Value]) -> Vec<Row> {
    let mut sorted: Vec<&Value> = panels.iter().filter(|p| p.is_object()).collect();
    sorted.sort_by_key(|p| {
        let g = grid_pos(p);
        (g.y, g.x)
    });
    let mut rows: Vec<Row> = Vec::new();
    for p in sorted {
        if p.get("type").and_then(Value::as_str) == Some("row") {
            let collapsed = flag(p.get("collapsed"));
            let nested = p.get("panels").and_then(Value::as_array);
            rows.push(Row {
                title: text(p.get("title")),
                collapsed,
                panels: nested.into_iter().flatten().filter_map(panel).collect(),
            });
            continue;
        }
        let Some(panel) = panel(p) else { continue };
        match rows.last_mut() {
            Some(row) => row.panels.push(panel),
            None => rows.push(Row {
                title: None,
                collapsed: false,
                panels: vec![panel],
            }),
        }
    }
    for row in &mut rows {
        row.panels.sort_by_key(|p| (p.grid.y, p.grid.x));
        let top = row.panels.iter().map(|p| p.grid.y).min().unwrap_or(0);
        for p in &mut row.panels {
            p.grid.y -= top;
        }
    }
    rows
}

/// Before schema 16: rows of panels whose `span` is out of 12 columns,
/// laid out left to right, wrapping.
fn legacy_rows(rows: &[Value]) -> Vec<Row> {
    rows.iter()
        .map(|r| {
            let height = match r.get("height") {
                Some(Value::String(s)) => s.trim_end_matches("px").trim().parse::<f64>().ok(),
                other => number(other),
            };
            let h = height.map_or(8, |px| ((px / ROW_PX).ceil() as u32).clamp(1, 100));
            let (mut x, mut y) = (0, 0);
            let mut panels = Vec::new();
            for p in r
                .get("panels")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(mut panel) = panel(p) else { continue };
                let span = number(p.get("span")).unwrap_or(12.0);
                let w = ((span * 2.0).round() as u32).clamp(1, GRID_COLUMNS);
                if x + w > GRID_COLUMNS {
                    (x, y) = (0, y + h);
                }
                panel.grid = Grid { x, y, w, h };
                x += w;
                panels.push(panel);
            }
            let shown = r.get("showTitle").and_then(Value::as_bool).unwrap_or(true);
            Row {
                title: text(r.get("title")).filter(|_| shown),
                collapsed: flag(r.get("collapse")),
                panels,
            }
        })
        .collect()
}

fn panel(p: &Value) -> Option<Panel> {
    let grafana_type = text(p.get("type"))?;
    let kind = match grafana_type.as_str() {
        "timeseries" | "graph" => PanelKind::Timeseries,
        "stat" | "singlestat" => PanelKind::Stat,
        "gauge" => PanelKind::Gauge,
        "table" | "table-old" => PanelKind::Table,
        _ => PanelKind::Unsupported,
    };
    let defaults = p.get("fieldConfig").and_then(|f| f.get("defaults"));
    let field = |k: &str| defaults.and_then(|d| d.get(k));
    // Old graphs keep the unit on the left axis, old singlestats in `format`.
    let left_axis = p.get("yaxes").and_then(|a| a.get(0));
    let unit = text(field("unit"))
        .or_else(|| text(left_axis.and_then(|a| a.get("format"))))
        .or_else(|| text(p.get("format")));
    let stacking = defaults
        .and_then(|d| d.pointer("/custom/stacking/mode"))
        .and_then(Value::as_str)
        .filter(|m| *m != "none")
        .map(str::to_owned)
        .or_else(|| {
            flag(p.get("stack")).then(|| {
                if flag(p.get("percentage")) {
                    "percent".to_owned()
                } else {
                    "normal".to_owned()
                }
            })
        });
    let thresholds = field("thresholds")
        .and_then(|t| t.get("steps"))
        .and_then(Value::as_array)
        .map(|steps| {
            steps
                .iter()
                .map(|s| Threshold {
                    value: number(s.get("value")),
                    color: text(s.get("color")).unwrap_or_else(|| "green".to_owned()),
                })
                .collect()
        })
        .unwrap_or_default();
    let targets = p
        .get("targets")
        .and_then(Value::as_array)
        .map(|ts| {
            ts.iter()
                .enumerate()
                .filter_map(|(i, t)| target(i, t))
                .collect()
        })
        .unwrap_or_default();
    Some(Panel {
        title: text(p.get("title")).unwrap_or_default(),
        kind,
        grid: grid_pos(p),
        description: text(p.get("description")),
        targets,
        unit,
        decimals: small(field("decimals").or_else(|| p.get("decimals"))),
        min: number(field("min")).or_else(|| number(left_axis.and_then(|a| a.get("min")))),
        max: number(field("max")).or_else(|| number(left_axis.and_then(|a| a.get("max")))),
        stacking,
        interval: text(p.get("interval")),
        max_data_points: small(p.get("maxDataPoints")).filter(|n| *n > 0),
        thresholds,
        repeat: text(p.get("repeat")),
        grafana_type: Some(grafana_type),
    })
}

fn target(i: usize, t: &Value) -> Option<Target> {
    if flag(t.get("hide")) {
        return None;
    }
    let expr = text(t.get("expr"))?;
    let ref_id = text(t.get("refId")).unwrap_or_else(|| {
        // A, B, … as Grafana names them.
        let letter = u8::try_from(i % 26).unwrap_or(0) + b'A';
        char::from(letter).to_string()
    });
    Some(Target {
        ref_id,
        expr,
        legend: text(t.get("legendFormat")),
        instant: flag(t.get("instant")) && !flag(t.get("range")),
        interval: text(t.get("interval")),
    })
}

#[cfg(test)]
mod tests;
