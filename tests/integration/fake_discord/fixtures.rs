//! Gateway payloads as Discord sends them, with just the fields serenity
//! needs. Each builder is checked to deserialize into serenity's model in the
//! unit tests at the bottom: serenity silently drops an event it cannot parse.

use serde_json::{Value, json};

/// The bot's own user and application.
pub const BOT_USER_ID: &str = "900000000000000001";
pub const APPLICATION_ID: &str = "900000000000000002";
/// The server and channel the tests talk in.
pub const GUILD_ID: &str = "400000000000000001";
pub const CHANNEL_ID: &str = "500000000000000001";

/// MANAGE_GUILD, as Discord writes permissions: a decimal string.
pub const MANAGE_GUILD: &str = "32";

/// A member of the test server.
#[derive(Clone, Copy, Debug)]
pub struct Member {
    pub id: u64,
    pub name: &'static str,
    pub permissions: &'static str,
    pub bot: bool,
}

pub const ALICE: Member = Member {
    id: 100000000000000011,
    name: "alice",
    permissions: "0",
    bot: false,
};
pub const BOB: Member = Member {
    id: 100000000000000012,
    name: "bob",
    permissions: "0",
    bot: false,
};
pub const ADMIN: Member = Member {
    id: 100000000000000013,
    name: "admin",
    permissions: MANAGE_GUILD,
    bot: false,
};
pub const OTHER_BOT: Member = Member {
    id: 100000000000000014,
    name: "otherbot",
    permissions: "0",
    bot: true,
};

pub fn user(m: Member) -> Value {
    json!({
        "id": m.id.to_string(),
        "username": m.name,
        "discriminator": "0",
        "global_name": m.name,
        "avatar": null,
        "bot": m.bot,
    })
}

pub fn member(m: Member) -> Value {
    json!({
        "user": user(m),
        "roles": [],
        "joined_at": "2024-01-01T00:00:00.000000+00:00",
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "permissions": m.permissions,
    })
}

/// A scheduled event as Discord answers one made with `body`.
pub fn scheduled_event(id: u64, guild: &str, body: &Value) -> Value {
    json!({
        "id": id.to_string(),
        "guild_id": guild,
        "channel_id": body.get("channel_id").cloned().unwrap_or(Value::Null),
        "creator_id": BOT_USER_ID,
        "name": body["name"],
        "description": body.get("description").cloned().unwrap_or(Value::Null),
        "scheduled_start_time": body["scheduled_start_time"],
        "scheduled_end_time": body.get("scheduled_end_time").cloned().unwrap_or(Value::Null),
        "privacy_level": 2,
        "status": 1,
        "entity_type": body["entity_type"],
        "entity_id": null,
        "entity_metadata": body.get("entity_metadata").cloned().unwrap_or(Value::Null),
        "user_count": 0,
        "image": null,
    })
}

/// READY for shard `shard` of `total`: the test server among its guilds
/// only if that shard owns it.
pub fn ready(gateway_url: &str, session_id: &str, shard: u32, total: u32) -> Value {
    let guild: u64 = GUILD_ID.parse().unwrap_or(0);
    let guilds = if super::shard_of(guild, total) == shard {
        json!([{ "id": GUILD_ID, "unavailable": true }])
    } else {
        json!([])
    };
    json!({
        "v": 10,
        "user": {
            "id": BOT_USER_ID, "username": "companion", "discriminator": "0",
            "global_name": null, "avatar": null, "bot": true,
        },
        "guilds": guilds,
        "session_id": session_id,
        "resume_gateway_url": gateway_url,
        "application": { "id": APPLICATION_ID, "flags": 0 },
        "shard": [shard, total],
    })
}

fn interaction(id: u64, kind: u8, who: Member, data: Value) -> Value {
    interaction_in(id, kind, who, data, GUILD_ID, CHANNEL_ID)
}

fn interaction_in(
    id: u64,
    kind: u8,
    who: Member,
    data: Value,
    guild: &str,
    channel: &str,
) -> Value {
    json!({
        "id": id.to_string(),
        "application_id": APPLICATION_ID,
        "type": kind,
        "token": token(id),
        "version": 1,
        "channel_id": channel,
        "channel": { "id": channel, "type": 0 },
        "guild_id": guild,
        "guild_locale": "en-GB",
        "locale": "en-GB",
        "app_permissions": "2248473465835073",
        "entitlements": [],
        "authorizing_integration_owners": { "0": guild },
        "context": 0,
        "attachment_size_limit": 8388608,
        "member": member(who),
        "data": data,
    })
}

/// The token of interaction `id`: what the bot puts in the callback path.
pub fn token(id: u64) -> String {
    format!("itok-{id}")
}

/// The id of the registered command named `name`.
fn command_id(name: &str) -> String {
    let n: u64 = name.bytes().map(u64::from).sum();
    (700000000000000000 + n).to_string()
}

/// A slash command: `options` as Discord sends them, e.g.
/// `[{"name":"code","type":3,"value":"3.5"}]`.
pub fn command(id: u64, who: Member, name: &str, options: Value) -> Value {
    interaction(
        id,
        2,
        who,
        json!({ "id": command_id(name), "name": name, "type": 1, "options": options, "guild_id": GUILD_ID }),
    )
}

/// A slash command in another server and channel, with `resolved` data
/// (the channels its options name).
pub fn command_in(
    id: u64,
    who: Member,
    name: &str,
    options: Value,
    guild: &str,
    channel: &str,
) -> Value {
    let resolved = json!({ "channels": {
        channel: { "id": channel, "name": "supervision", "type": 0, "permissions": "2248473465835073" }
    } });
    interaction_in(
        id,
        2,
        who,
        json!({ "id": command_id(name), "name": name, "type": 1, "options": options, "guild_id": guild, "resolved": resolved }),
        guild,
        channel,
    )
}

/// A slash command whose options name members (`resolved.users`).
pub fn command_naming(id: u64, who: Member, name: &str, options: Value, named: &[Member]) -> Value {
    let users: serde_json::Map<String, Value> =
        named.iter().map(|m| (m.id.to_string(), user(*m))).collect();
    interaction(
        id,
        2,
        who,
        json!({ "id": command_id(name), "name": name, "type": 1, "options": options, "guild_id": GUILD_ID, "resolved": { "users": users } }),
    )
}

/// An autocomplete request for option `option` of `name`, typed so far `partial`.
pub fn autocomplete(id: u64, who: Member, name: &str, option: &str, partial: &str) -> Value {
    interaction(
        id,
        4,
        who,
        json!({
            "id": command_id(name), "name": name, "type": 1, "guild_id": GUILD_ID,
            "options": [{ "name": option, "type": 3, "value": partial, "focused": true }],
        }),
    )
}

/// A click on a button with `custom_id` under a message the bot sent.
pub fn button(id: u64, who: Member, custom_id: &str) -> Value {
    let mut v = interaction(
        id,
        3,
        who,
        json!({ "custom_id": custom_id, "component_type": 2 }),
    );
    v["message"] = bot_message(id + 1);
    v
}

/// A choice in a string select menu.
pub fn select(id: u64, who: Member, custom_id: &str, value: &str) -> Value {
    let mut v = interaction(
        id,
        3,
        who,
        json!({ "custom_id": custom_id, "component_type": 3, "values": [value] }),
    );
    v["message"] = bot_message(id + 1);
    v
}

/// A submitted modal: `fields` are (custom_id, value) of its text inputs.
pub fn modal_submit(id: u64, who: Member, custom_id: &str, fields: &[(&str, &str)]) -> Value {
    let rows: Vec<Value> = fields
        .iter()
        .map(|(field, value)| {
            json!({ "type": 1, "components": [{ "type": 4, "custom_id": field, "value": value }] })
        })
        .collect();
    interaction(
        id,
        5,
        who,
        json!({ "custom_id": custom_id, "components": rows }),
    )
}

fn message_fields(id: u64, author: Value, content: &str) -> Value {
    json!({
        "id": id.to_string(),
        "channel_id": CHANNEL_ID,
        "author": author,
        "content": content,
        "timestamp": "2026-11-24T10:00:00.000000+00:00",
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": false,
        "type": 0,
        "flags": 0,
        "components": [],
    })
}

fn bot_message(id: u64) -> Value {
    let mut author = user(ADMIN);
    author["id"] = json!(BOT_USER_ID);
    author["username"] = json!("companion");
    author["bot"] = json!(true);
    message_fields(id, author, "")
}

/// A MESSAGE_CREATE in the test channel.
pub fn message(id: u64, who: Member, content: &str) -> Value {
    let mut v = message_fields(id, user(who), content);
    v["guild_id"] = json!(GUILD_ID);
    let mut m = member(who);
    if let Some(obj) = m.as_object_mut() {
        obj.remove("user");
    }
    v["member"] = m;
    v
}

/// What the fake answers to a request that creates or edits a message.
pub fn message_response(id: u64, content: &str) -> Value {
    bot_message(id)
        .as_object()
        .map(|o| {
            let mut o = o.clone();
            o.insert("content".into(), json!(content));
            Value::Object(o)
        })
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use poise::serenity_prelude as serenity;

    fn parses<T: serde::de::DeserializeOwned>(v: Value, what: &str) -> T {
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{what} does not parse: {e}"))
    }

    #[test]
    fn every_fixture_deserializes_into_serenity_models() {
        let _: serenity::Ready = parses(
            ready("ws://127.0.0.1:1/gateway", "fake-session-1-2", 1, 2),
            "READY",
        );
        let i: serenity::Interaction = parses(
            command(
                1,
                ALICE,
                "competence",
                json!([{"name":"code","type":3,"value":"3.5"}]),
            ),
            "command",
        );
        assert!(matches!(i, serenity::Interaction::Command(_)));
        let i: serenity::Interaction = parses(
            autocomplete(2, ALICE, "competence", "code", "3."),
            "autocomplete",
        );
        assert!(matches!(i, serenity::Interaction::Autocomplete(_)));
        let i: serenity::Interaction = parses(button(3, ALICE, "open:core:3.5"), "button");
        assert!(matches!(i, serenity::Interaction::Component(_)));
        let i: serenity::Interaction = parses(
            select(5, ALICE, "search-results", "open:core:3.5"),
            "select",
        );
        assert!(matches!(i, serenity::Interaction::Component(_)));
        let m: serenity::Message = parses(message(7, BOB, "see C3.5"), "message");
        assert_eq!(m.content, "see C3.5");
        let _: serenity::Message = parses(message_response(8, "hi"), "message response");
        let _: serenity::CurrentUser = parses(user(ALICE), "user");
        let set = command_in(
            11,
            ADMIN,
            "schedule",
            json!([{ "name": "set", "type": 1, "options": [
            { "name": "channel", "type": 7, "value": CHANNEL_ID },
        ] }]),
            GUILD_ID,
            CHANNEL_ID,
        );
        let i: serenity::Interaction = parses(set, "schedule set");
        assert!(matches!(i, serenity::Interaction::Command(_)));
        let i: serenity::Interaction = parses(
            modal_submit(
                9,
                ALICE,
                "reflect:new:free",
                &[("title", "t"), ("text", "x")],
            ),
            "modal submit",
        );
        assert!(matches!(i, serenity::Interaction::Modal(_)));
    }
}
