//! Imports of real and hand-written Grafana files (`testdata/grafana/`).

use super::*;

const NODE_EXPORTER_FULL: &[u8] =
    include_bytes!("../../../testdata/grafana/node-exporter-full.json");
const LEGACY_ROWS: &[u8] = include_bytes!("../../../testdata/grafana/legacy-rows.json");

fn kinds(d: &Dashboard) -> std::collections::BTreeMap<String, usize> {
    let mut m = std::collections::BTreeMap::new();
    for p in d.rows.iter().flat_map(|r| &r.panels) {
        let k = serde_json::to_value(p.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        *m.entry(k).or_insert(0) += 1;
    }
    m
}

#[test]
fn node_exporter_full() {
    let d = import(NODE_EXPORTER_FULL).expect("imports");
    assert_eq!(d.title, "Node Exporter Full");
    assert_eq!(d.source, "grafana");
    assert_eq!(d.refresh.as_deref(), Some("1m"));
    assert_eq!(d.time.from, "now-24h");
    // 16 row panels; 125 panels in them: 111 time series, 5 gauges, 5
    // stats and 4 bar gauges (not drawn).
    assert_eq!(d.rows.len(), 16);
    assert_eq!(d.rows.iter().map(|r| r.panels.len()).sum::<usize>(), 125);
    let k = kinds(&d);
    assert_eq!(k.get("timeseries"), Some(&111), "{k:?}");
    assert_eq!(k.get("gauge"), Some(&5), "{k:?}");
    assert_eq!(k.get("stat"), Some(&5), "{k:?}");
    assert_eq!(k.get("unsupported"), Some(&4), "{k:?}");

    let quick = &d.rows[0];
    assert_eq!(quick.title.as_deref(), Some("Quick CPU / Mem / Disk"));
    assert!(!quick.collapsed);
    assert_eq!(quick.panels.len(), 11);
    // Positions are relative to the row: its first panels at the top.
    assert_eq!(
        quick.panels[0].grid,
        Grid {
            x: 0,
            y: 0,
            w: 3,
            h: 4
        }
    );
    let busy = quick
        .panels
        .iter()
        .find(|p| p.title == "CPU Busy")
        .expect("CPU Busy");
    assert_eq!(busy.kind, PanelKind::Gauge);
    assert_eq!(busy.unit.as_deref(), Some("percent"));
    assert!(busy.targets[0].instant);
    assert!(busy.targets[0].expr.contains("[$__rate_interval]"));
    let pressure = &quick.panels[0];
    assert_eq!(pressure.kind, PanelKind::Unsupported);
    assert_eq!(pressure.grafana_type.as_deref(), Some("bargauge"));

    let basic = &d.rows[1];
    let cpu = basic
        .panels
        .iter()
        .find(|p| p.title == "CPU Basic")
        .expect("CPU Basic");
    assert_eq!(cpu.kind, PanelKind::Timeseries);
    assert_eq!(cpu.stacking.as_deref(), Some("percent"));
    assert_eq!(cpu.unit.as_deref(), Some("percentunit"));
    assert_eq!(cpu.targets[0].legend.as_deref(), Some("Busy System"));
    assert_eq!(cpu.min, Some(0.0));

    // Collapsed rows keep their panels.
    let meminfo = d
        .rows
        .iter()
        .find(|r| r.title.as_deref() == Some("Memory Meminfo"))
        .expect("Memory Meminfo");
    assert!(meminfo.collapsed);
    assert_eq!(meminfo.panels.len(), 13);

    let names: Vec<_> = d.variables.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["ds_prometheus", "job", "nodename", "node"]);
    assert!(d.variables[0].hidden);
    assert_eq!(d.variables[1].kind, VariableKind::Query);
    assert_eq!(d.variables[1].query, "label_values(node_uname_info, job)");
    assert_eq!(
        d.variables[3].query,
        r#"label_values(node_uname_info{job="$job", nodename="$nodename"}, instance)"#
    );
}

#[test]
fn legacy_rows_and_the_api_wrapper() {
    let d = import(LEGACY_ROWS).expect("imports");
    assert_eq!(d.title, "Old style");
    assert_eq!(d.refresh, None);
    assert_eq!(d.time.from, "now-6h");
    assert_eq!(d.rows.len(), 2);
    let traffic = &d.rows[0];
    assert_eq!(traffic.title.as_deref(), Some("Traffic"));
    // span 8 of 12 → 16 of 24 columns; 250px → 9 rows of 30px; the third
    // panel wraps.
    let grids: Vec<Grid> = traffic.panels.iter().map(|p| p.grid).collect();
    assert_eq!(
        grids,
        [
            Grid {
                x: 0,
                y: 0,
                w: 16,
                h: 9
            },
            Grid {
                x: 16,
                y: 0,
                w: 8,
                h: 9
            },
            Grid {
                x: 0,
                y: 9,
                w: 12,
                h: 9
            },
        ]
    );
    let graph = &traffic.panels[0];
    assert_eq!(graph.kind, PanelKind::Timeseries);
    assert_eq!(graph.unit.as_deref(), Some("Bps"));
    assert_eq!(graph.min, Some(0.0));
    assert_eq!(graph.stacking.as_deref(), Some("percent"));
    // The hidden query is left out.
    assert_eq!(graph.targets.len(), 1);
    assert_eq!(graph.targets[0].legend.as_deref(), Some("{{instance}}"));
    let stat = &traffic.panels[1];
    assert_eq!(stat.kind, PanelKind::Stat);
    assert_eq!(stat.unit.as_deref(), Some("percent"));
    assert_eq!(stat.decimals, Some(1));
    assert_eq!(stat.targets[0].ref_id, "A");
    assert_eq!(traffic.panels[2].kind, PanelKind::Unsupported);
    assert_eq!(traffic.panels[2].grafana_type.as_deref(), Some("text"));
    assert_eq!(d.rows[1].title, None);
    assert!(d.rows[1].collapsed);

    // adhoc is not a variable to substitute.
    assert_eq!(d.variables.len(), 3);
    let instance = &d.variables[0];
    assert!(instance.multi && instance.include_all);
    assert_eq!(instance.all_value.as_deref(), Some(".*"));
    assert_eq!(instance.current, ["$__all"]);
    assert_eq!(instance.regex.as_deref(), Some(r"/(.*):\d+/"));
    assert_eq!(d.variables[1].kind, VariableKind::Custom);
    assert_eq!(d.variables[1].current, ["eth0"]);
    assert!(d.variables[2].hidden);
}

#[test]
fn what_is_not_a_dashboard() {
    let cases: &[(&str, &str)] = &[
        (
            "{",
            "not JSON: EOF while parsing an object at line 1 column 1",
        ),
        ("[]", "not a Grafana dashboard: the JSON is not an object"),
        (
            r#"{"title": "x"}"#,
            "not a Grafana dashboard: it has neither panels nor rows",
        ),
    ];
    for (text, want) in cases {
        let err = import(text.as_bytes()).expect_err(text);
        assert_eq!(err.to_string(), *want, "{text}");
    }
}

#[test]
fn odd_shapes_are_read_as_missing() {
    let d = import(
        br#"{"panels": [
            {"type": "stat", "gridPos": {"x": 30, "y": "2", "w": 99, "h": -1},
             "targets": [{"expr": 5}, {"expr": "up", "instant": true, "range": true}],
             "fieldConfig": {"defaults": {"unit": 7, "min": "x"}}},
            "not a panel",
            {"title": "no type"}
        ]}"#,
    )
    .expect("imports");
    assert_eq!(d.title, "Untitled");
    assert_eq!(d.rows.len(), 1);
    let p = &d.rows[0].panels[0];
    assert_eq!(
        p.grid,
        Grid {
            x: 23,
            y: 0,
            w: 1,
            h: 8
        }
    );
    assert_eq!(p.targets.len(), 1);
    // Both instant and range: Grafana runs a range query too.
    assert!(!p.targets[0].instant);
    assert_eq!((p.unit.as_deref(), p.min), (None, None));
}
