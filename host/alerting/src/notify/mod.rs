//! Notification rendering: what turns a flushed [`Notification`] and a
//! notifier's configuration into the final text a notifier plugin sends.
//!
//! Templates are the host's business (see `wit/notifier.wit`): before each
//! `notify`, the host
//!
//! 1. fills in the defaults of the plugin's configuration schema the
//!    operator left out ([`fill_defaults`]) — the `slack` plugin's `title`
//!    defaults to `{{ template "slack.default.title" . }}`, and so on;
//! 2. renders every string value of the configuration ([`render_config`])
//!    with the Go template engine (`pharos-template`), Alertmanager's
//!    template functions, Pharos' default templates
//!    ([`DEFAULT_TEMPLATES`], every name Alertmanager 0.25 defines, same
//!    output) and the operator's template files (`[alerting] templates`),
//!    on Alertmanager's template data for the group ([`template_data`]).
//!
//! [`render_notifier_config`] does both. [`Templates`] is built once per
//! configuration load (the files are parsed then, and a parse error is a
//! config error naming the file and line); rendering clones nothing per
//! call but a cached parse of each distinct configuration string.
//!
//! What is rendered, and what is not:
//! - every string, at any depth, inside objects and arrays; keys are left
//!   as they are; numbers and booleans too;
//! - not the values of keys ending in `_file`: they are paths of files
//!   holding secrets (`routing_key_file`, `password_file`), never
//!   templates in Alertmanager, and a path may contain `{{`; the file's
//!   contents are not templates either (the plugin reads them);
//! - not a value whose schema says `"x-pharos-template": false` (a plugin
//!   marks its secrets so: a password may contain `{{`);
//! - a string without `{{` is the same string (no parse).
//!
//! A render error is a [`RenderError`] naming the key
//! (`headers.Subject: template: :1:12: executing "" at <.Foo>: …`): the
//! delivery logs it as a config error and drops the notification, as for a
//! plugin's `config` error.
//!
//! [`preview`] renders a receiver's notifier configurations for a synthetic
//! alert group: what `pharos check template --config F --receiver NAME`
//! prints.
//!
//! [`Notification`]: crate::dispatch::Notification

mod data;
mod defaults;
mod preview;
mod render;
mod templates;

pub use data::{common_pairs, quote_meta, template_data};
pub use defaults::fill_defaults;
pub use preview::{
    Preview, PreviewEntry, PreviewError, SAMPLE_GROUP_LABELS, SEND_RESOLVED_KEYWORD, preview,
    sample_notification,
};
pub use render::{RenderError, TEMPLATE_KEYWORD, render_config, render_notifier_config};
pub use templates::{
    DEFAULT_TEMPLATES, TemplateFileError, Templates, check_template_pattern, template_files,
};
