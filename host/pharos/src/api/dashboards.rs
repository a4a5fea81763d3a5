//! `/api/v1/dashboards`: the `[[dashboards]]` of the running config, for
//! the web interface's Dashboards page (not a Prometheus endpoint).
//!
//! - `GET /api/v1/dashboards`: `[{name, title, source, file?, error?}]`.
//! - `GET /api/v1/dashboards/{name}`: the dashboard normalised
//!   ([`pharos_web::dashboard::Dashboard`]) with `name` and
//!   `scrapeInterval` (seconds, `[global] scrape_interval`: what Grafana
//!   calls the data source's scrape interval, used for
//!   `$__rate_interval`); `?raw=true` answers a Grafana file as it is.
//!
//! Grafana files are read on every request (relative paths from the
//! config file's directory), so an edited file shows on the next load
//! and a reload picks up added or removed dashboards.

use std::path::{Path, PathBuf};

use axum::extract::{Path as UrlPath, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use pharos_config::{Config, DashboardConfig, DashboardPanelKind};
use pharos_web::dashboard::{
    self, Dashboard, GRID_COLUMNS, Grid, Panel, PanelKind, Row, Target, TimeRange,
};
use serde::Serialize;

use super::params::Params;
use super::{ApiError, ApiResponse, AppState, ErrorType};

#[derive(Debug, Serialize)]
pub struct Listed {
    name: String,
    title: String,
    source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    /// Why the file cannot be shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Named {
    name: String,
    scrape_interval: f64,
    #[serde(flatten)]
    dashboard: Dashboard,
}

/// The running config and the directory its relative paths start from.
fn current(state: &AppState) -> Option<(std::sync::Arc<Config>, PathBuf)> {
    let r = state.reloader.as_ref()?;
    Some((r.current(), r.source().base_dir()))
}

pub async fn list(State(state): State<AppState>) -> Result<ApiResponse<Vec<Listed>>, ApiError> {
    let Some((config, base)) = current(&state) else {
        return Ok(ApiResponse::new(Vec::new()));
    };
    let listed = tokio::task::spawn_blocking(move || list_dashboards(&config, &base))
        .await
        .map_err(|e| ApiError::internal(format!("dashboards task failed: {e}")))?;
    Ok(ApiResponse::new(listed))
}

pub async fn get(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let raw = match params.get("raw") {
        None | Some("" | "0" | "false") => false,
        Some("1" | "true") => true,
        Some(other) => {
            return Err(ApiError::invalid_param(
                "raw",
                format!("{other:?} is not a boolean"),
            ));
        }
    };
    let not_found = || ApiError::new(ErrorType::NotFound, format!("no dashboard named {name:?}"));
    let (config, base) = current(&state).ok_or_else(not_found)?;
    let Some(d) = config.dashboards.iter().find(|d| d.name == name).cloned() else {
        return Err(not_found());
    };
    let scrape_interval = config.global.scrape_interval.as_secs_f64();
    tokio::task::spawn_blocking(move || {
        if raw {
            let file = d.file.as_deref().ok_or_else(|| {
                ApiError::bad_data(format!(
                    "dashboard {:?} is written in the config, not a Grafana file",
                    d.name
                ))
            })?;
            let bytes = read(&base, file)?;
            return Ok(([(header::CONTENT_TYPE, "application/json")], bytes).into_response());
        }
        let dashboard = load(&d, &base)?;
        Ok(ApiResponse::new(Named {
            name: d.name.clone(),
            scrape_interval,
            dashboard,
        })
        .into_response())
    })
    .await
    .map_err(|e| ApiError::internal(format!("dashboards task failed: {e}")))?
}

fn list_dashboards(config: &Config, base: &Path) -> Vec<Listed> {
    config
        .dashboards
        .iter()
        .map(|d| {
            let (title, error) = match load(d, base) {
                Ok(dash) => (dash.title, None),
                Err(e) => (
                    d.title.clone().unwrap_or_else(|| d.name.clone()),
                    Some(e.message),
                ),
            };
            Listed {
                name: d.name.clone(),
                title,
                source: if d.file.is_some() { "grafana" } else { "toml" },
                file: d.file.clone(),
                error,
            }
        })
        .collect()
}

fn read(base: &Path, file: &str) -> Result<Vec<u8>, ApiError> {
    let path = base.join(file);
    std::fs::read(&path).map_err(|e| {
        tracing::warn!(path = %path.display(), err = %e, "cannot read a dashboard file");
        ApiError::internal(format!(
            "cannot read dashboard file {}: {e}",
            path.display()
        ))
    })
}

/// The dashboard `d` describes: its Grafana file read and imported (the
/// config's `title` and `refresh` win over the file's), or its rows laid
/// out.
fn load(d: &DashboardConfig, base: &Path) -> Result<Dashboard, ApiError> {
    let mut dash = match &d.file {
        Some(file) => {
            let bytes = read(base, file)?;
            dashboard::grafana::import(&bytes).map_err(|e| {
                ApiError::internal(format!("dashboard file {}: {e}", base.join(file).display()))
            })?
        }
        None => from_rows(d),
    };
    if let Some(t) = &d.title {
        dash.title.clone_from(t);
    }
    if let Some(r) = d.refresh {
        dash.refresh = Some(pharos_model::format_duration(r));
    }
    if let Some(r) = d.range {
        dash.time.from = format!("now-{}", pharos_model::format_duration(r));
        dash.time.to = "now".to_owned();
    }
    Ok(dash)
}

/// A TOML dashboard: each row's panels side by side, sharing its 24
/// columns unless they say their width, wrapping when full.
fn from_rows(d: &DashboardConfig) -> Dashboard {
    let rows = d
        .rows
        .iter()
        .map(|row| {
            let n = u32::try_from(row.panels.len()).unwrap_or(1).max(1);
            let share = (GRID_COLUMNS / n).max(1);
            let (mut x, mut y, mut line_h) = (0, 0, 0);
            let panels = row
                .panels
                .iter()
                .map(|p| {
                    let w = p.width.unwrap_or(share).clamp(1, GRID_COLUMNS);
                    let h = p.height.unwrap_or(match p.kind {
                        DashboardPanelKind::Stat => 4,
                        _ => 8,
                    });
                    if x + w > GRID_COLUMNS {
                        (x, y, line_h) = (0, y + line_h, 0);
                    }
                    let grid = Grid { x, y, w, h };
                    x += w;
                    line_h = line_h.max(h);
                    let kind = match p.kind {
                        DashboardPanelKind::Timeseries => PanelKind::Timeseries,
                        DashboardPanelKind::Stat => PanelKind::Stat,
                        DashboardPanelKind::Table => PanelKind::Table,
                    };
                    Panel {
                        title: p.title.clone(),
                        kind,
                        grafana_type: None,
                        description: None,
                        grid,
                        targets: vec![Target {
                            ref_id: "A".to_owned(),
                            expr: p.expr.clone(),
                            legend: p.legend.clone(),
                            instant: kind != PanelKind::Timeseries,
                            interval: None,
                        }],
                        unit: p.unit.clone(),
                        decimals: None,
                        min: None,
                        max: None,
                        stacking: None,
                        interval: None,
                        max_data_points: None,
                        thresholds: Vec::new(),
                        repeat: None,
                    }
                })
                .collect();
            Row {
                title: row.title.clone(),
                collapsed: false,
                panels,
            }
        })
        .collect();
    Dashboard {
        title: d.title.clone().unwrap_or_else(|| d.name.clone()),
        source: "toml",
        refresh: None,
        time: TimeRange::default(),
        variables: Vec::new(),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
[global]
scrape_interval = "5s"

[[dashboards]]
name = "node"
file = "node-exporter-full.json"
refresh = "15s"

[[dashboards]]
name = "missing"
title = "Gone"
file = "nope/missing.json"

[[dashboards]]
name = "self"
range = "30m"

[[dashboards.rows]]
title = "Ingestion"
panels = [
  { title = "Samples", expr = "rate(x[$__rate_interval])", unit = "ops" },
  { title = "Series", type = "stat", expr = "y" },
  { title = "Wide", type = "table", expr = "up", width = 20 },
]
"#;

    fn setup() -> (Config, PathBuf) {
        let config = Config::from_toml(CONFIG, "t.toml").unwrap_or_else(|e| panic!("{e}"));
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/testdata/grafana");
        (config, base)
    }

    #[test]
    fn lists_every_dashboard_with_what_is_wrong() {
        let (config, base) = setup();
        let listed = serde_json::to_value(list_dashboards(&config, &base)).unwrap_or_default();
        let path = base.join("nope/missing.json");
        assert_eq!(
            listed,
            serde_json::json!([
                {"name": "node", "title": "Node Exporter Full", "source": "grafana",
                 "file": "node-exporter-full.json"},
                {"name": "missing", "title": "Gone", "source": "grafana",
                 "file": "nope/missing.json",
                 "error": format!("cannot read dashboard file {}: No such file or directory (os error 2)", path.display())},
                {"name": "self", "title": "self", "source": "toml"},
            ])
        );
    }

    #[test]
    fn grafana_file_with_the_config_overrides() {
        let (config, base) = setup();
        let d = load(&config.dashboards[0], &base).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.title, "Node Exporter Full");
        assert_eq!(d.refresh.as_deref(), Some("15s"));
        assert_eq!(d.time.from, "now-24h");
        assert_eq!(d.rows.len(), 16);
    }

    #[test]
    fn toml_rows_share_the_width_and_wrap() {
        let (config, base) = setup();
        let d = load(&config.dashboards[2], &base).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.source, "toml");
        assert_eq!(d.time.from, "now-30m");
        let row = &d.rows[0];
        assert_eq!(row.title.as_deref(), Some("Ingestion"));
        let grids: Vec<Grid> = row.panels.iter().map(|p| p.grid).collect();
        assert_eq!(
            grids,
            [
                Grid {
                    x: 0,
                    y: 0,
                    w: 8,
                    h: 8
                },
                Grid {
                    x: 8,
                    y: 0,
                    w: 8,
                    h: 4
                },
                Grid {
                    x: 0,
                    y: 8,
                    w: 20,
                    h: 8
                },
            ]
        );
        assert!(!row.panels[0].targets[0].instant);
        assert!(row.panels[1].targets[0].instant);
        assert_eq!(row.panels[0].unit.as_deref(), Some("ops"));
    }
}
