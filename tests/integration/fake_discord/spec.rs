//! Validating request bodies against Discord's OpenAPI spec (MIT, copied into
//! `tests/fixtures/discord-api-spec/` with its licence and version).
//!
//! For each request the matching path template and method are looked up, the
//! JSON request schema is compiled with the spec's `components` (no network:
//! every `$ref` is local), and the body is checked. A union (`anyOf`) is checked
//! against each alternative: the body passes if one accepts it, and otherwise
//! the errors of the alternative whose `type` matches are reported, with the
//! path of each offending field.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use serde_json::{Value, json};

static SPEC: LazyLock<Value> = LazyLock::new(|| {
    let text = include_str!("../../fixtures/discord-api-spec/openapi.json");
    serde_json::from_str(text).expect("the copied OpenAPI spec is JSON")
});

/// A compiled alternative: its name, its schema (with components) and validator.
type Alternative = (String, Value, jsonschema::Validator);
type Compiled = Arc<Vec<Alternative>>;

/// Compiled schemas by (method, path template, `request` or the answer's
/// status); `None` where the spec has no JSON body.
type Cache = HashMap<(String, String, String), Option<Compiled>>;

static VALIDATORS: LazyLock<Mutex<Cache>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// Checks `body` sent as `method path` (path as sent, e.g. `/api/v10/channels/1/messages`).
/// `Ok` when valid or when the spec has no JSON body schema for it.
pub fn validate(method: &str, path: &str, body: &Value) -> Result<(), String> {
    check(method, path, "request", body)
}

/// Checks `body` answered with 200 OK to `method path`, as the fake answers
/// what the bot's library reads.
pub fn validate_answer(method: &str, path: &str, body: &Value) -> Result<(), String> {
    check(method, path, "200", body)
}

fn check(method: &str, path: &str, part: &str, body: &Value) -> Result<(), String> {
    let Some(template) = template_for(path) else {
        return Err(format!(
            "{method} {path}: no such path in Discord's API spec"
        ));
    };
    let key = (
        method.to_ascii_lowercase(),
        template.clone(),
        part.to_string(),
    );
    let compiled = {
        let mut cache = VALIDATORS.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(key.clone())
            .or_insert_with(|| compile(&key.0, &template, part))
            .clone()
    };
    let Some(alternatives) = compiled else {
        return Ok(());
    };
    let normalised = attachment_ids_as_strings(&permissions_as_numbers(body));
    let body = &normalised;
    if alternatives.iter().any(|(_, _, v)| v.is_valid(body)) {
        return Ok(());
    }
    let chosen = pick_alternative(&alternatives, body);
    let errors: Vec<String> = chosen
        .iter()
        .flat_map(|(name, root, v)| {
            explain(root, v, body, "", 0)
                .into_iter()
                .map(move |e| format!("[{name}] {e}"))
        })
        .take(12)
        .collect();
    Err(format!(
        "{method} {path} (spec path {template}):\n  {}",
        errors.join("\n  ")
    ))
}

/// Discord documents permission bit sets as decimal strings (and every library
/// sends them so), while its OpenAPI spec types them as integers. Such strings
/// are read as the number they stand for before validation, so the range
/// check still applies; anything that is not all digits is left to fail.
fn permissions_as_numbers(body: &Value) -> Value {
    const FIELDS: [&str; 4] = ["default_member_permissions", "permissions", "allow", "deny"];
    match body {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match v.as_str().and_then(|s| s.parse::<u64>().ok()) {
                        Some(n) if FIELDS.contains(&k.as_str()) => json!(n),
                        _ => permissions_as_numbers(v),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(permissions_as_numbers).collect()),
        other => other.clone(),
    }
}

/// Discord's docs number new attachments `{"id": 0}` (and serenity sends them
/// so), while the spec types every snowflake as a string. Integer attachment
/// ids are read as the decimal string they stand for.
fn attachment_ids_as_strings(body: &Value) -> Value {
    let mut body = body.clone();
    for path in ["/attachments", "/data/attachments"] {
        if let Some(items) = body.pointer_mut(path).and_then(Value::as_array_mut) {
            for item in items {
                if let Some(n) = item.get("id").and_then(Value::as_u64) {
                    item["id"] = json!(n.to_string());
                }
            }
        }
    }
    body
}

/// The errors of `body` against one schema, each with the path of the
/// offending field. A failed `oneOf`/`anyOf` is opened: the branch that comes
/// closest is validated in turn, so the message names the field inside it
/// rather than "not valid under any of the schemas".
fn explain(
    root: &Value,
    validator: &jsonschema::Validator,
    body: &Value,
    prefix: &str,
    depth: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    for e in validator.iter_errors(body) {
        let instance_path = e.instance_path().to_string();
        let schema_path = e.schema_path().to_string();
        let union = schema_path.ends_with("/oneOf") || schema_path.ends_with("/anyOf");
        if union
            && depth < 4
            && let (Some(branches), Some(fragment)) = (
                root.pointer(&schema_path).and_then(Value::as_array),
                body.pointer(&instance_path),
            )
        {
            let best = branches
                .iter()
                .filter(|b| b["type"] != "null" || fragment.is_null())
                .filter_map(|b| {
                    let branch_root = with_components(b);
                    let v = jsonschema::validator_for(&branch_root).ok()?;
                    let path = format!("{prefix}{instance_path}");
                    Some(explain(&branch_root, &v, fragment, &path, depth + 1))
                })
                .filter(|errors| !errors.is_empty())
                .min_by_key(Vec::len);
            if let Some(best) = best {
                out.extend(best);
                continue;
            }
        }
        let message: String = e.to_string().chars().take(200).collect();
        out.push(format!("at {prefix}{instance_path}: {message}"));
    }
    out
}

fn with_components(schema: &Value) -> Value {
    let mut root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": SPEC["components"].clone(),
    });
    if let (Some(root), Some(schema)) = (root.as_object_mut(), schema.as_object()) {
        for (k, v) in schema {
            root.insert(k.clone(), v.clone());
        }
    }
    root
}

/// The alternative whose schema's `type` property admits the body's `type`,
/// else all of them.
fn pick_alternative<'a>(alternatives: &'a [Alternative], body: &Value) -> Vec<&'a Alternative> {
    let Some(kind) = body.get("type") else {
        return alternatives.iter().collect();
    };
    let matching: Vec<_> = alternatives
        .iter()
        .filter(|(name, _, _)| {
            let schema = &SPEC["components"]["schemas"][name.as_str()];
            let property = &schema["properties"]["type"];
            let mut allowed: Vec<Value> = Vec::new();
            collect_consts(property, &mut allowed);
            allowed.contains(kind)
        })
        .collect();
    if matching.is_empty() {
        alternatives.iter().collect()
    } else {
        matching
    }
}

/// The values a schema admits, from its own `const`/`enum` (which narrow any
/// shared enum it also refers to), else from what it refers to.
fn collect_consts(schema: &Value, out: &mut Vec<Value>) {
    if let Some(c) = schema.get("const") {
        out.push(c.clone());
        return;
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        out.extend(values.iter().cloned());
        return;
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str)
        && let Some(name) = r.strip_prefix("#/components/schemas/")
    {
        collect_consts(&SPEC["components"]["schemas"][name], out);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(items) = schema.get(key).and_then(Value::as_array) {
            for item in items {
                collect_consts(item, out);
            }
        }
    }
}

fn compile(method: &str, template: &str, part: &str) -> Option<Compiled> {
    let operation = &SPEC["paths"][template][method];
    let content = match part {
        "request" => &operation["requestBody"]["content"],
        status => &operation["responses"][status]["content"],
    };
    let schema = content["application/json"].get("schema")?.clone();
    let alternatives: Vec<(String, Value)> = match schema.get("anyOf").and_then(Value::as_array) {
        Some(items) => items
            .iter()
            .map(|item| {
                let name = item["$ref"]
                    .as_str()
                    .and_then(|r| r.rsplit('/').next())
                    .unwrap_or("alternative")
                    .to_string();
                (name, item.clone())
            })
            .collect(),
        None => vec![("body".to_string(), schema)],
    };
    let compiled = alternatives
        .into_iter()
        .map(|(name, schema)| {
            let root = with_components(&schema);
            let validator = jsonschema::validator_for(&root).unwrap_or_else(|e| {
                panic!("the spec's schema for {method} {template} compiles: {e}")
            });
            (name, root, validator)
        })
        .collect();
    Some(Arc::new(compiled))
}

/// The spec's path template for a path as sent: literal segments must match,
/// `{param}` segments match anything; the most literal template wins.
fn template_for(path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or(path);
    let path = path.strip_prefix("/api/v10").unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    SPEC["paths"]
        .as_object()?
        .keys()
        .filter_map(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut literal = 0;
            for (t, s) in parts.iter().zip(&segments) {
                if t.starts_with('{') && t.ends_with('}') {
                    continue;
                }
                if t != s {
                    return None;
                }
                literal += 1;
            }
            Some((literal, template.clone()))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_callback_passes_and_broken_ones_name_the_field() {
        let path = "/api/v10/interactions/1/tok/callback";
        let ok = json!({ "type": 4, "data": { "content": "hello", "allowed_mentions": { "parse": [] } } });
        assert_eq!(validate("POST", path, &ok), Ok(()));

        let long = json!({ "type": 4, "data": { "content": "x".repeat(2001) } });
        let err = validate("POST", path, &long).unwrap_err();
        assert!(err.contains("/data/content"), "{err}");

        let bad_type = json!({ "type": 99 });
        assert!(validate("POST", path, &bad_type).is_err());
    }

    #[test]
    fn command_registration_is_checked() {
        let path = "/api/v10/applications/1/commands";
        let ok = json!([{ "name": "competence", "description": "Show a competence", "type": 1 }]);
        assert_eq!(validate("PUT", path, &ok), Ok(()));
        let too_long = json!([{ "name": "x".repeat(33), "description": "d", "type": 1 }]);
        let err = validate("PUT", path, &too_long).unwrap_err();
        assert!(err.contains("/0/name"), "{err}");
    }

    #[test]
    fn unknown_paths_are_reported() {
        assert!(validate("POST", "/api/v10/not/a/real/path", &json!({})).is_err());
    }
}
