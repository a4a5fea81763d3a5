//! The bindings wit-bindgen generates from `wit/`, one module per world.
//!
//! The three worlds share the `types`, `host` and `dns` interfaces: the
//! `discovery` module generates them and the other two reuse its types, so
//! a [`TargetGroup`](crate::TargetGroup) is the same Rust type everywhere.
//!
//! Each world's export macro is public and hidden: plugin authors use
//! [`export!`](crate::export) instead, which wires their trait
//! implementation to the world's `Guest` trait. Because the macro is
//! public, wit-bindgen encodes each world's exports only where the macro
//! is invoked, so a plugin's component exports only its own world.

#![allow(missing_docs, clippy::all)]

/// Bindings of the `discovery` world, and the shared `types`, `host` and
/// `dns`.
pub mod discovery {
    wit_bindgen::generate!({
        path: "../wit",
        world: "pharos:plugin/discovery",
        pub_export_macro: true,
        export_macro_name: "__export_discovery",
        default_bindings_module: "pharos_sdk::bindings::discovery",
        runtime_path: "pharos_sdk::__private::wit_bindgen::rt",
    });
}

/// Bindings of the `exporter` world.
pub mod exporter {
    wit_bindgen::generate!({
        path: "../wit",
        world: "pharos:plugin/exporter",
        pub_export_macro: true,
        export_macro_name: "__export_exporter",
        default_bindings_module: "pharos_sdk::bindings::exporter",
        runtime_path: "pharos_sdk::__private::wit_bindgen::rt",
        with: {
            "pharos:plugin/types@0.1.0": crate::bindings::discovery::pharos::plugin::types,
            "pharos:plugin/host@0.1.0": crate::bindings::discovery::pharos::plugin::host,
            "pharos:plugin/dns@0.1.0": crate::bindings::discovery::pharos::plugin::dns,
        },
    });
}

/// Bindings of the `notifier` world.
pub mod notifier {
    wit_bindgen::generate!({
        path: "../wit",
        world: "pharos:plugin/notifier",
        pub_export_macro: true,
        export_macro_name: "__export_notifier",
        default_bindings_module: "pharos_sdk::bindings::notifier",
        runtime_path: "pharos_sdk::__private::wit_bindgen::rt",
        with: {
            "pharos:plugin/types@0.1.0": crate::bindings::discovery::pharos::plugin::types,
            "pharos:plugin/host@0.1.0": crate::bindings::discovery::pharos::plugin::host,
            "pharos:plugin/dns@0.1.0": crate::bindings::discovery::pharos::plugin::dns,
        },
    });
}
