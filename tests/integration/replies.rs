//! Reading the bot's answers: the few questions every test asks of a callback body.

use serde_json::{Value, json};

/// Discord's flag for a reply only its recipient sees.
pub const EPHEMERAL: u64 = 1 << 6;

/// Whether a callback is visible to its recipient only.
pub fn is_ephemeral(callback: &Value) -> bool {
    callback["data"]["flags"]
        .as_u64()
        .is_some_and(|f| f & EPHEMERAL != 0)
}

/// A callback's message text.
pub fn content(callback: &Value) -> String {
    callback["data"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The titles of a callback's embeds, in order.
pub fn embed_titles(callback: &Value) -> Vec<String> {
    callback["data"]["embeds"]
        .as_array()
        .map(|embeds| {
            embeds
                .iter()
                .filter_map(|e| e["title"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The `code` option of `/competence`.
pub fn code_option(code: &str) -> Value {
    json!([{ "name": "code", "type": 3, "value": code }])
}

/// The options of `/schedule set` (weekday: 0 Monday … 6 Sunday).
pub fn schedule_set(channel: &str, weekday: u64, time: &str, zone: &str) -> Value {
    json!([{ "name": "set", "type": 1, "options": [
        { "name": "channel", "type": 7, "value": channel },
        { "name": "weekday", "type": 4, "value": weekday },
        { "name": "time", "type": 3, "value": time },
        { "name": "timezone", "type": 3, "value": zone },
    ] }])
}
