//! `GET /api/v2/status` and `GET /api/v2/receivers`, as Alertmanager 0.25
//! answers them.
//!
//! - `status`: the cluster as a standalone Alertmanager shows it
//!   (`{"peers":[],"status":"disabled"}`), `config.original` (the routing
//!   configuration as Alertmanager YAML, secrets masked: amtool's `config
//!   show` prints it and `config routes` parses it), `uptime` (the start
//!   time, as Alertmanager names it) and `versionInfo` — Pharos' build,
//!   with `version` `0.25.0+pharos.<version>`: the Alertmanager version
//!   whose API this is, so amtool does not warn about a version mismatch,
//!   and Pharos' own version as build metadata.
//! - `receivers`: every configured receiver, in configuration order.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use pharos_alerting::AlertingConfig;
use serde::Serialize;

use super::strfmt::format_ms;
use super::{AmError, ReceiverName, json};
use crate::api::AppState;
use crate::build_info;

/// The Alertmanager release whose API v2 Pharos answers as.
const ALERTMANAGER_VERSION: &str = "0.25.0";

#[derive(Serialize)]
struct StatusJson {
    cluster: ClusterJson,
    config: ConfigJson,
    uptime: String,
    #[serde(rename = "versionInfo")]
    version_info: VersionInfo,
}

#[derive(Serialize)]
struct ClusterJson {
    peers: [(); 0],
    status: &'static str,
}

#[derive(Serialize)]
struct ConfigJson {
    original: String,
}

#[derive(Serialize)]
struct VersionInfo {
    branch: &'static str,
    #[serde(rename = "buildDate")]
    build_date: &'static str,
    #[serde(rename = "buildUser")]
    build_user: &'static str,
    #[serde(rename = "goVersion")]
    go_version: &'static str,
    revision: &'static str,
    version: String,
}

/// `config.original`: the routing configuration as Alertmanager YAML.
fn config_original(cfg: &AlertingConfig) -> String {
    pharos_alerting::amyaml::to_alertmanager_yaml(cfg)
}

/// `GET /api/v2/status`.
pub(super) async fn status(State(state): State<AppState>) -> Result<Response, AmError> {
    let svc = super::service(&state)?;
    let original = svc.with_state(|st| config_original(&st.config));
    let out = StatusJson {
        cluster: ClusterJson {
            peers: [],
            status: "disabled",
        },
        config: ConfigJson { original },
        uptime: format_ms(svc.started_at()),
        version_info: VersionInfo {
            branch: build_info::BRANCH,
            build_date: build_info::BUILD_DATE,
            build_user: build_info::BUILD_USER,
            go_version: build_info::RUSTC_VERSION,
            revision: build_info::REVISION,
            version: format!("{ALERTMANAGER_VERSION}+pharos.{}", build_info::VERSION),
        },
    };
    Ok(json(StatusCode::OK, &out))
}

/// `GET /api/v2/receivers`.
pub(super) async fn receivers(State(state): State<AppState>) -> Result<Response, AmError> {
    let svc = super::service(&state)?;
    let out: Vec<ReceiverName> = svc.with_state(|st| {
        st.config
            .receivers
            .iter()
            .map(|r| ReceiverName {
                name: r.name.as_str().to_owned(),
            })
            .collect()
    });
    Ok(json(StatusCode::OK, &out))
}
