//! Entry point for the `plugin_manifest` fuzz target (`fuzz/` at the
//! repository root) and its regression test. Not an API.

use std::path::Path;

use crate::PluginStore;
use crate::manifest::{Manifest, valid_file};

/// A manifest as read from `<data>/plugins/`: parsed and checked; one
/// that is accepted names a component inside the store directory.
pub fn manifest(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(m) = Manifest::parse(text, Path::new("fuzz.json")) else {
        return;
    };
    assert!(valid_file(&m.file), "{:?}", m.file);
    let store = PluginStore::new(Path::new("/data"));
    let path = store.component_path(&m);
    assert_eq!(path.parent(), Some(store.dir()), "{:?}", m.file);
    let _ = m.plugin_kind();
}
