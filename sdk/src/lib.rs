//! `pharos-sdk`: write Pharos plugins as WebAssembly components.
//!
//! A plugin is a `cdylib` crate built for `wasm32-wasip2`. It implements
//! one trait — [`Discovery`], [`Exporter`] or [`Notifier`] — and invokes
//! [`export!`] once. The SDK parses the JSON configuration the host passes
//! into the trait's `Config` type, answers `describe` and `validate-config`,
//! and offers logging ([`log`]), an HTTP client ([`http`], feature `http`),
//! DNS lookups ([`dns`]) and file reading ([`fs`]), each working only as
//! far as the operator granted it. The contract itself is the WIT package `pharos:plugin@0.1.0`
//! in the repository's `wit/` folder: read it for what each field means.
//!
//! ```no_run
//! use pharos_sdk::{Discovery, Error, TargetGroup, labels};
//!
//! #[derive(serde::Deserialize)]
//! struct Config { addresses: Vec<String> }
//!
//! struct Static;
//!
//! impl Discovery for Static {
//!     type Config = Config;
//!     const NAME: &'static str = "static";
//!     const DESCRIPTION: &'static str = "Targets listed in the configuration.";
//!
//!     fn discover(config: Config) -> Result<Vec<TargetGroup>, Error> {
//!         let group = config.addresses.iter().fold(TargetGroup::new("static"), |g, a| {
//!             g.target(labels([("__address__", a.as_str())]))
//!         });
//!         Ok(vec![group])
//!     }
//! }
//!
//! pharos_sdk::export!(discovery: Static);
//! ```

#![deny(missing_docs)]

extern crate self as pharos_sdk;

pub mod bindings;
pub mod dns;
pub mod fs;
#[cfg(feature = "http")]
pub mod http;
pub mod log;
mod types;

use serde::de::DeserializeOwned;

pub use types::labels;

pub use bindings::discovery::pharos::plugin::types::{
    Alert, AlertStatus, Label, Labels, Metric, MetricFamily, MetricType, Notification,
    PluginError as Error, PluginInfo, PluginKind, TargetGroup,
};

/// The version of this SDK (its crate version), for a plugin's logs.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A service discovery plugin (the `discovery` world): finds scrape targets.
pub trait Discovery {
    /// The configuration, parsed from the JSON text the host passes (the
    /// TOML table of the job's `discovery` entry, converted to JSON).
    type Config: DeserializeOwned;
    /// The plugin's name (`[a-z0-9_-]+`); meta labels are `__meta_<name>_*`.
    const NAME: &'static str;
    /// One line saying what the plugin does.
    const DESCRIPTION: &'static str;
    /// A JSON Schema of `Config`, as JSON text. `{}` accepts anything.
    const CONFIG_SCHEMA: &'static str = "{}";

    /// Checks a parsed configuration beyond what its type enforces, without
    /// using the network. The default accepts every configuration that
    /// parses.
    fn validate(config: &Self::Config) -> Result<(), Error> {
        let _ = config;
        Ok(())
    }

    /// Returns every current target group (see `wit/discovery.wit`).
    fn discover(config: Self::Config) -> Result<Vec<TargetGroup>, Error>;
}

/// An exporter plugin (the `exporter` world): produces metrics itself.
pub trait Exporter {
    /// The configuration, parsed from the JSON text the host passes.
    type Config: DeserializeOwned;
    /// The plugin's name (`[a-z0-9_-]+`).
    const NAME: &'static str;
    /// One line saying what the plugin does.
    const DESCRIPTION: &'static str;
    /// A JSON Schema of `Config`, as JSON text. `{}` accepts anything.
    const CONFIG_SCHEMA: &'static str = "{}";

    /// Checks a parsed configuration without using the network.
    fn validate(config: &Self::Config) -> Result<(), Error> {
        let _ = config;
        Ok(())
    }

    /// Collects the current metric families (see `wit/exporter.wit`).
    fn collect(config: Self::Config) -> Result<Vec<MetricFamily>, Error>;
}

/// A notifier plugin (the `notifier` world): delivers alert notifications.
pub trait Notifier {
    /// The configuration, parsed from the JSON text the host passes.
    type Config: DeserializeOwned;
    /// The plugin's name (`[a-z0-9_-]+`).
    const NAME: &'static str;
    /// One line saying what the plugin does.
    const DESCRIPTION: &'static str;
    /// A JSON Schema of `Config`, as JSON text. `{}` accepts anything.
    const CONFIG_SCHEMA: &'static str = "{}";

    /// Checks a parsed configuration without using the network.
    fn validate(config: &Self::Config) -> Result<(), Error> {
        let _ = config;
        Ok(())
    }

    /// Delivers one notification (see `wit/notifier.wit`).
    fn notify(config: Self::Config, notification: Notification) -> Result<(), Error>;
}

/// Parses a configuration the way the exported functions do: JSON text into
/// `C`, failing with a `config` error that says where and what.
pub fn parse_config<C: DeserializeOwned>(config: &str) -> Result<C, Error> {
    serde_json::from_str(config).map_err(|e| Error::config(format!("invalid configuration: {e}")))
}

/// Exports a plugin: `export!(discovery: MyType)`, `export!(exporter:
/// MyType)` or `export!(notifier: MyType)`, once per crate, where `MyType`
/// implements the matching trait. The plugin's version is the crate's
/// `CARGO_PKG_VERSION`.
#[macro_export]
macro_rules! export {
    (discovery: $plugin:ty) => {
        #[doc(hidden)]
        pub struct __PharosExport;

        impl $crate::bindings::discovery::Guest for __PharosExport {
            fn describe() -> $crate::PluginInfo {
                $crate::PluginInfo {
                    name: <$plugin as $crate::Discovery>::NAME.into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    kind: $crate::PluginKind::Discovery,
                    description: <$plugin as $crate::Discovery>::DESCRIPTION.into(),
                    config_schema: <$plugin as $crate::Discovery>::CONFIG_SCHEMA.into(),
                }
            }

            fn validate_config(config: String) -> Result<(), $crate::Error> {
                let config = $crate::parse_config(&config)?;
                <$plugin as $crate::Discovery>::validate(&config)
            }

            fn discover(config: String) -> Result<Vec<$crate::TargetGroup>, $crate::Error> {
                let config = $crate::parse_config(&config)?;
                <$plugin as $crate::Discovery>::validate(&config)?;
                <$plugin as $crate::Discovery>::discover(config)
            }
        }

        $crate::bindings::discovery::__export_discovery!(__PharosExport with_types_in $crate::bindings::discovery);
    };
    (exporter: $plugin:ty) => {
        #[doc(hidden)]
        pub struct __PharosExport;

        impl $crate::bindings::exporter::Guest for __PharosExport {
            fn describe() -> $crate::PluginInfo {
                $crate::PluginInfo {
                    name: <$plugin as $crate::Exporter>::NAME.into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    kind: $crate::PluginKind::Exporter,
                    description: <$plugin as $crate::Exporter>::DESCRIPTION.into(),
                    config_schema: <$plugin as $crate::Exporter>::CONFIG_SCHEMA.into(),
                }
            }

            fn validate_config(config: String) -> Result<(), $crate::Error> {
                let config = $crate::parse_config(&config)?;
                <$plugin as $crate::Exporter>::validate(&config)
            }

            fn collect(config: String) -> Result<Vec<$crate::MetricFamily>, $crate::Error> {
                let config = $crate::parse_config(&config)?;
                <$plugin as $crate::Exporter>::validate(&config)?;
                <$plugin as $crate::Exporter>::collect(config)
            }
        }

        $crate::bindings::exporter::__export_exporter!(__PharosExport with_types_in $crate::bindings::exporter);
    };
    (notifier: $plugin:ty) => {
        #[doc(hidden)]
        pub struct __PharosExport;

        impl $crate::bindings::notifier::Guest for __PharosExport {
            fn describe() -> $crate::PluginInfo {
                $crate::PluginInfo {
                    name: <$plugin as $crate::Notifier>::NAME.into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    kind: $crate::PluginKind::Notifier,
                    description: <$plugin as $crate::Notifier>::DESCRIPTION.into(),
                    config_schema: <$plugin as $crate::Notifier>::CONFIG_SCHEMA.into(),
                }
            }

            fn validate_config(config: String) -> Result<(), $crate::Error> {
                let config = $crate::parse_config(&config)?;
                <$plugin as $crate::Notifier>::validate(&config)
            }

            fn notify(
                config: String,
                notification: $crate::Notification,
            ) -> Result<(), $crate::Error> {
                let config = $crate::parse_config(&config)?;
                <$plugin as $crate::Notifier>::validate(&config)?;
                <$plugin as $crate::Notifier>::notify(config, notification)
            }
        }

        $crate::bindings::notifier::__export_notifier!(__PharosExport with_types_in $crate::bindings::notifier);
    };
}

#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;
}
