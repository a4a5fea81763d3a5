//! A notifier configuration's defaults, from the plugin's JSON Schema.

use serde_json::Value;

/// Fills in every key of `config` the operator left out that `schema`
/// gives a `default`, at every level, as `wit/notifier.wit` promises:
///
/// - in an object, each of the schema's `properties` that is missing and
///   has a `default` gets a copy of it (and the copy gets its own
///   defaults, so an object default is completed by its `properties`);
/// - then every member is completed by its schema: its entry in
///   `properties`, else `additionalProperties` when that is a schema;
/// - in an array, each element by `prefixItems[i]` for the first ones and
///   `items` for the rest.
///
/// An object the operator left out is not created unless the schema gives
/// it a `default` (an absent `authorization` stays absent even though its
/// `type` has one). Values the operator gave are never replaced, whatever
/// their type; a value of the wrong type is the plugin's
/// `validate-config`'s business. `$ref`, `allOf`/`anyOf`/`oneOf` and
/// `patternProperties` are not followed.
pub fn fill_defaults(schema: &Value, config: &mut Value) {
    match config {
        Value::Object(members) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            if let Some(properties) = properties {
                for (key, sub) in properties {
                    if !members.contains_key(key)
                        && let Some(default) = sub.get("default")
                    {
                        members.insert(key.clone(), default.clone());
                    }
                }
            }
            let additional = schema.get("additionalProperties").filter(|s| s.is_object());
            for (key, value) in members.iter_mut() {
                let sub = properties.and_then(|p| p.get(key)).or(additional);
                if let Some(sub) = sub {
                    fill_defaults(sub, value);
                }
            }
        }
        Value::Array(items) => {
            let prefix = schema.get("prefixItems").and_then(Value::as_array);
            let rest = schema.get("items").filter(|s| s.is_object());
            for (i, item) in items.iter_mut().enumerate() {
                let sub = prefix.and_then(|p| p.get(i)).or(rest);
                if let Some(sub) = sub {
                    fill_defaults(sub, item);
                }
            }
        }
        _ => {}
    }
}
