//! Logging into Pharos' log through the `host.log` import. Lines are
//! tagged with the plugin's name by the host; keep secrets out of them.
//!
//! ```no_run
//! pharos_sdk::log::info("refreshed", &[("targets", "12")]);
//! ```

use crate::bindings::discovery::pharos::plugin::host;

pub use host::LogLevel as Level;

/// Writes a line at `level` with structured `fields`.
pub fn log(level: Level, message: &str, fields: &[(&str, &str)]) {
    let fields: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    host::log(level, message, &fields);
}

/// Writes a `trace` line.
pub fn trace(message: &str, fields: &[(&str, &str)]) {
    log(Level::Trace, message, fields);
}

/// Writes a `debug` line.
pub fn debug(message: &str, fields: &[(&str, &str)]) {
    log(Level::Debug, message, fields);
}

/// Writes an `info` line.
pub fn info(message: &str, fields: &[(&str, &str)]) {
    log(Level::Info, message, fields);
}

/// Writes a `warn` line.
pub fn warn(message: &str, fields: &[(&str, &str)]) {
    log(Level::Warn, message, fields);
}

/// Writes an `error` line.
pub fn error(message: &str, fields: &[(&str, &str)]) {
    log(Level::Error, message, fields);
}

/// The host's wall-clock time in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    host::now_ms()
}
