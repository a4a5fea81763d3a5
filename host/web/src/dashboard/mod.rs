//! Dashboards as the web interface draws them: rows of panels on a grid 24
//! columns wide, each panel one or more PromQL queries with a legend
//! format and a unit, and template variables that the queries use as
//! `$name`.
//!
//! Two sources make one: [`Dashboard`]s written in Pharos' TOML (built by
//! the server from its config) and Grafana dashboard JSON files imported
//! as they are ([`grafana::import`]). The page (`web/ui/src/pages/dashboards/`)
//! resolves the variables, expands `$__interval`, `$__rate_interval` and
//! `$__range` as Grafana does, runs the queries and draws the panels;
//! panel types it cannot draw keep their Grafana type and say so.

use serde::Serialize;

pub mod grafana;

/// The grid's width in columns, as Grafana's.
pub const GRID_COLUMNS: u32 = 24;

/// A dashboard, normalised.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub title: String,
    /// Where it came from: `toml` or `grafana`.
    pub source: &'static str,
    /// How often the page re-runs the queries, as written (`30s`, `1m`);
    /// `None`: the page's default.
    pub refresh: Option<String>,
    /// The time range shown first, Grafana's form (`now-1h` to `now`).
    pub time: TimeRange,
    pub variables: Vec<Variable>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeRange {
    pub from: String,
    pub to: String,
}

impl Default for TimeRange {
    fn default() -> Self {
        TimeRange {
            from: "now-1h".to_owned(),
            to: "now".to_owned(),
        }
    }
}

/// A template variable.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Variable {
    pub name: String,
    pub label: Option<String>,
    pub kind: VariableKind,
    /// `query`: `label_values(…)`, `query_result(…)`, `metrics(…)` or a
    /// PromQL expression; `custom`: `a,b,c` or `text : value, …`;
    /// `constant`, `textbox`: the value; `interval`: `1m,10m,…`.
    pub query: String,
    /// A regular expression (`/…/flags`) that filters the values, its
    /// first capture group taken when it has one (Grafana's).
    pub regex: Option<String>,
    pub multi: bool,
    pub include_all: bool,
    /// What "All" stands for; `None`: every value, as a regex alternation.
    pub all_value: Option<String>,
    /// The value(s) selected in the file, if any.
    pub current: Vec<String>,
    /// Grafana's `sort`: 0 none, 1/2 alphabetical asc/desc, 3/4 numerical,
    /// 5/6 alphabetical case-insensitive.
    pub sort: u8,
    /// Not shown above the panels (its value is still used).
    pub hidden: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VariableKind {
    Query,
    Custom,
    Constant,
    Textbox,
    Interval,
    /// Grafana's data source choice: Pharos is the only one, so it has no
    /// values and is not shown.
    Datasource,
}

/// A row: a title bar (none for panels above the first row) over panels.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub title: Option<String>,
    /// Folded: the page shows the title only, until it is opened.
    pub collapsed: bool,
    pub panels: Vec<Panel>,
}

/// A panel on the grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Panel {
    pub title: String,
    /// What the page draws: `timeseries`, `stat`, `gauge`, `table`, or
    /// `unsupported` (then [`Panel::grafana_type`] says which).
    #[serde(rename = "type")]
    pub kind: PanelKind,
    /// The panel's type in the Grafana file (`graph`, `bargauge`, …).
    pub grafana_type: Option<String>,
    pub description: Option<String>,
    /// Columns from the left (0–23), rows from the top of its row, width
    /// in columns, height in grid rows (30 px each, Grafana's).
    pub grid: Grid,
    pub targets: Vec<Target>,
    /// Grafana's unit names (`bytes`, `percent`, `percentunit`, `s`, …).
    pub unit: Option<String>,
    pub decimals: Option<u32>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Series stacked (`normal`) or stacked to 100 % (`percent`).
    pub stacking: Option<String>,
    /// The least step of the panel's queries (`15s`, `>1m`), Grafana's
    /// "min interval".
    pub interval: Option<String>,
    /// At most this many points per series (Grafana's `maxDataPoints`);
    /// `None`: the panel's width in pixels.
    pub max_data_points: Option<u32>,
    /// Threshold steps, lowest first: the first has no value (the base).
    pub thresholds: Vec<Threshold>,
    /// `repeat`: the variable the panel is repeated for (drawn once, for
    /// the variable's first value).
    pub repeat: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PanelKind {
    Timeseries,
    Stat,
    Gauge,
    Table,
    Unsupported,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Grid {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// One query of a panel.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub ref_id: String,
    pub expr: String,
    /// `{{label}}` placeholders; `None` or `__auto`: the series' name.
    pub legend: Option<String>,
    /// Run as an instant query at the range's end.
    pub instant: bool,
    /// The query's least step (`interval` in Grafana's target).
    pub interval: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    pub value: Option<f64>,
    pub color: String,
}
