//! Rendering a notifier's configuration: every string value through the
//! templates.

use serde_json::Value;

use super::defaults::fill_defaults;
use super::templates::Templates;

/// The schema keyword that keeps a value from being rendered:
/// `"x-pharos-template": false` on a property (a secret that may contain
/// `{{`, say) leaves it, and everything inside it, as written.
pub const TEMPLATE_KEYWORD: &str = "x-pharos-template";

/// A configuration value that does not render: the key path
/// (`headers.Subject`, `fields[0].value`) and the engine's message (Go's
/// text, `template: :1:12: executing "" at <.Foo>: …`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if key.is_empty() { String::new() } else { format!("{key}: ") })]
pub struct RenderError {
    /// Where in the configuration.
    pub key: String,
    /// What went wrong.
    pub message: String,
}

/// The schema of a member or element, as [`fill_defaults`] finds it.
pub(super) fn member_schema<'a>(schema: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    let schema = schema?;
    schema
        .get("properties")
        .and_then(|p| p.get(key))
        .or_else(|| schema.get("additionalProperties").filter(|s| s.is_object()))
}

pub(super) fn element_schema(schema: Option<&Value>, i: usize) -> Option<&Value> {
    let schema = schema?;
    schema
        .get("prefixItems")
        .and_then(|p| p.get(i))
        .or_else(|| schema.get("items").filter(|s| s.is_object()))
}

/// Renders every string of `config` with `templates` on `data` (the
/// template value of [`template_data`](super::template_data)), as
/// `wit/notifier.wit` says: nested values too, keys as they are; not the
/// values of `*_file` keys (paths) and not those whose schema has
/// `"x-pharos-template": false`. The first value that fails is the error.
pub fn render_config(
    schema: &Value,
    config: &Value,
    templates: &Templates,
    data: &pharos_template::Value,
) -> Result<Value, RenderError> {
    let mut out = config.clone();
    let mut key = String::new();
    render_value(Some(schema), &mut out, &mut key, templates, data)?;
    Ok(out)
}

/// What the host does to a notifier's configuration before `notify`:
/// [`fill_defaults`] from the plugin's schema, then [`render_config`].
pub fn render_notifier_config(
    schema: &Value,
    config: &Value,
    templates: &Templates,
    data: &pharos_template::Value,
) -> Result<Value, RenderError> {
    let mut filled = config.clone();
    fill_defaults(schema, &mut filled);
    let mut key = String::new();
    render_value(Some(schema), &mut filled, &mut key, templates, data)?;
    Ok(filled)
}

fn render_value(
    schema: Option<&Value>,
    value: &mut Value,
    key: &mut String,
    templates: &Templates,
    data: &pharos_template::Value,
) -> Result<(), RenderError> {
    if schema
        .and_then(|s| s.get(TEMPLATE_KEYWORD))
        .and_then(Value::as_bool)
        == Some(false)
    {
        return Ok(());
    }
    match value {
        Value::String(s) => {
            let rendered = templates.render(s, data).map_err(|e| RenderError {
                key: key.clone(),
                message: e.to_string(),
            })?;
            *s = rendered;
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = key.len();
                key.push_str(&format!("[{i}]"));
                render_value(element_schema(schema, i), item, key, templates, data)?;
                key.truncate(len);
            }
        }
        Value::Object(members) => {
            for (k, v) in members.iter_mut() {
                if k.ends_with("_file") {
                    continue;
                }
                let len = key.len();
                if !key.is_empty() {
                    key.push('.');
                }
                key.push_str(k);
                render_value(member_schema(schema, k), v, key, templates, data)?;
                key.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}
