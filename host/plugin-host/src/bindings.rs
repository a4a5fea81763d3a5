//! wasmtime's `bindgen!` output for the three worlds of `wit/`, kept in one
//! private module (as wasmtime-wasi-http does); the crate re-exports a
//! curated surface in [`crate::types`]. The `discovery` world generates the
//! shared `types` and `host` interfaces; the other worlds reuse them, so a
//! `PluginError` is one Rust type whichever world returned it.

pub(crate) mod discovery {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "pharos:plugin/discovery",
        imports: { "pharos:plugin/dns": async },
        exports: { default: async },
        additional_derives: [PartialEq],
    });
}

pub(crate) mod exporter {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "pharos:plugin/exporter",
        exports: { default: async },
        with: {
            "pharos:plugin/types": crate::bindings::discovery::pharos::plugin::types,
            "pharos:plugin/host": crate::bindings::discovery::pharos::plugin::host,
            "pharos:plugin/dns": crate::bindings::discovery::pharos::plugin::dns,
        },
    });
}

pub(crate) mod notifier {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "pharos:plugin/notifier",
        exports: { default: async },
        with: {
            "pharos:plugin/types": crate::bindings::discovery::pharos::plugin::types,
            "pharos:plugin/host": crate::bindings::discovery::pharos::plugin::host,
            "pharos:plugin/dns": crate::bindings::discovery::pharos::plugin::dns,
        },
    });
}

pub(crate) use discovery::pharos::plugin::{dns, host};
