//! The components `build.rs` built from `plugins/`: first-party plugins
//! embedded in the binary, and the paths of everything built (test fixtures
//! included) for tests and examples.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/components.rs"));
}

/// First-party plugins embedded in the binary, as `(name, component bytes)`
/// (crates `plugins/<dir>` named `plugin-<name>`), sorted by name.
pub fn embedded() -> &'static [(&'static str, &'static [u8])] {
    generated::EMBEDDED
}

/// The bytes of the embedded first-party plugin `name`, if there is one.
pub fn embedded_component(name: &str) -> Option<&'static [u8]> {
    generated::EMBEDDED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| *bytes)
}

/// The path of a component built from `plugins/`, by crate name (e.g.
/// `fixture-chaos`). Fixtures are not embedded; tests load them from here.
pub fn built_component_path(crate_name: &str) -> Option<&'static std::path::Path> {
    generated::BUILT
        .iter()
        .find(|(n, _)| *n == crate_name)
        .map(|(_, path)| std::path::Path::new(*path))
}
