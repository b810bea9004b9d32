//! The Discord front-end end to end: the real serenity client and poise
//! framework talking to the fake Discord over HTTP and a WebSocket on
//! 127.0.0.1. Every body the bot sends is validated against Discord's spec.

use std::process::Stdio;

use chrono::Duration;
use serde_json::{Value, json};

use crate::bot::{Bot, OFF, ON, scratch_dir, switch};
use crate::replies::{code_option, embed_titles, is_ephemeral};

use crate::fake_discord::fixtures::{self, ADMIN, ALICE, BOB, CHANNEL_ID, OTHER_BOT};
use crate::fake_discord::{FakeDiscord, TOKEN};

/// Every message-carrying body allows no mentions at all.
fn assert_no_mentions_allowed(fake: &FakeDiscord) {
    for r in fake.requests() {
        let Some(body) = &r.body else { continue };
        let message = if r.path.ends_with("/callback") {
            &body["data"]
        } else {
            body
        };
        let carries_text = message.get("content").is_some() || message.get("embeds").is_some();
        if r.method == "PUT" || !carries_text {
            continue;
        }
        let allowed = &message["allowed_mentions"];
        assert_eq!(
            allowed["parse"],
            json!([]),
            "{} {} allows mentions: {allowed}",
            r.method,
            r.path
        );
        for key in ["users", "roles"] {
            assert!(
                allowed[key].as_array().is_none_or(Vec::is_empty),
                "{} {}: {allowed}",
                r.method,
                r.path
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_are_registered_globally_with_valid_schemas() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, false).await;
    let put = fake
        .wait_for("registration", |r| {
            r.method == "PUT" && r.path.ends_with("/commands")
        })
        .await;
    assert_eq!(
        put.path,
        format!(
            "/api/v10/applications/{}/commands",
            fixtures::APPLICATION_ID
        )
    );
    assert_eq!(
        put.header("authorization"),
        Some(format!("Bot {TOKEN}").as_str())
    );
    let names: Vec<&str> = put
        .json()
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "competence",
            "search",
            "framework",
            "guide",
            "help",
            "inline",
            "reflect",
            "reflections",
            "map",
            "priorities",
            "log",
            "present",
            "schedule",
            "week",
            "remind",
            "meeting",
            "convene",
            "rota",
            "agenda"
        ]
    );
    // The same commands the core's one list gives Discord, no more, no fewer.
    let mut registered = names.clone();
    registered.sort_unstable();
    let mut declared =
        practice_companion::commands::commands_on(practice_companion::commands::FrontEnd::Discord);
    declared.sort_unstable();
    assert_eq!(registered, declared);
    // Each described as the catalogue describes it.
    for command in put.json().as_array().expect("array") {
        let name = command["name"].as_str().expect("a name");
        let listed = practice_companion::commands::catalogue::find(
            practice_companion::commands::FrontEnd::Discord,
            name,
        )
        .expect("in the catalogue");
        assert_eq!(command["description"], listed.summary, "{name}");
    }
    let inline = put
        .json()
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "inline"))
        .expect("inline");
    assert_eq!(
        inline["default_member_permissions"], "32",
        "inline needs Manage Server by default"
    );
    let competence = put
        .json()
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "competence"))
        .expect("competence");
    assert_eq!(competence["options"][0]["autocomplete"], true);
    let schedule = put
        .json()
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "schedule"))
        .expect("schedule");
    assert_eq!(
        schedule["default_member_permissions"], "32",
        "schedule needs Manage Server by default"
    );
    let convene = put
        .json()
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "convene"))
        .expect("convene");
    assert_eq!(
        convene["default_member_permissions"], "32",
        "convene needs Manage Server by default (a server may give it to a convenor role)"
    );
    for anyone in ["meeting", "rota"] {
        let command = put
            .json()
            .as_array()
            .and_then(|a| a.iter().find(|c| c["name"] == anyone))
            .cloned()
            .expect(anyone);
        assert!(
            command["default_member_permissions"].is_null(),
            "{anyone}: {command}"
        );
    }
    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dev_guild_gets_the_commands_registered_on_it_alone() {
    let fake = FakeDiscord::start().await;
    let guild: u64 = fixtures::GUILD_ID.parse().expect("guild id");
    let bot = Bot::start_with(&fake, false, scratch_dir(), Some(guild)).await;
    let puts: Vec<String> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .map(|r| r.path)
        .collect();
    assert_eq!(
        puts,
        [format!(
            "/api/v10/applications/{}/guilds/{}/commands",
            fixtures::APPLICATION_ID,
            fixtures::GUILD_ID
        )]
    );
    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn competence_shows_both_domains_publicly_and_unknown_codes_privately() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, false).await;

    let both = fake.command(ALICE, "competence", code_option("3.5")).await;
    assert_eq!(both["type"], 4);
    assert_eq!(embed_titles(&both), ["Core 3.5", "Integration 3.5"]);
    assert!(
        !is_ephemeral(&both),
        "a competence card is for the discussion"
    );
    let description = both["data"]["embeds"][0]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(description.contains("personal strengths, qualities and values"));

    let mut options = code_option("3.5");
    options
        .as_array_mut()
        .expect("array")
        .push(json!({ "name": "domain", "type": 4, "value": 1 }));
    let one = fake.command(ALICE, "competence", options).await;
    assert_eq!(embed_titles(&one), ["Integration 3.5"]);
    let buttons = &one["data"]["components"][0]["components"];
    assert_eq!(
        buttons[0]["custom_id"], "mine:integration:3.5",
        "my reflections on it"
    );
    assert_eq!(
        buttons[1]["custom_id"], "open:core:3.5",
        "a button opens the other domain's 3.5"
    );

    let unknown = fake.command(ALICE, "competence", code_option("9.9")).await;
    assert!(is_ephemeral(&unknown));
    let text = unknown["data"]["content"].as_str().unwrap_or_default();
    assert!(
        text.contains("There is no competence 9.9") && text.contains("Core 4.9"),
        "{text}"
    );

    let mention = fake
        .command(ALICE, "competence", code_option("@everyone"))
        .await;
    assert!(is_ephemeral(&mention));
    assert!(
        !mention.to_string().contains("@everyone"),
        "user text is not echoed"
    );

    bot.stop().await;
    assert_no_mentions_allowed(&fake);
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autocomplete_offers_codes_and_search_results() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, false).await;

    let codes = fake
        .interact(fixtures::autocomplete(
            fake.next_id(),
            ALICE,
            "competence",
            "code",
            "3.",
        ))
        .await;
    assert_eq!(codes["type"], 8);
    let choices = codes["data"]["choices"].as_array().expect("choices");
    assert_eq!(choices.len(), 15, "3.x of both domains");
    assert_eq!(choices[0]["value"], "core 3.1");
    for c in choices {
        assert!(c["name"].as_str().is_some_and(|n| n.chars().count() <= 100));
    }
    let words = fake
        .interact(fixtures::autocomplete(
            fake.next_id(),
            ALICE,
            "competence",
            "code",
            "stregnths",
        ))
        .await;
    assert_eq!(words["data"]["choices"][0]["value"], "core 3.5");
    // A word part-way typed, and a practitioner's word the framework does not use.
    // Each with the competences a supervisor accepts first: "refer" is both
    // core 1.4 (facilitating a referral) and integration 2.6 (managing one).
    for (typed, first) in [
        ("mot", &["core 4.2"][..]),
        ("refer", &["core 1.4", "integration 2.6"][..]),
        ("sponso", &["core 1.6"][..]),
    ] {
        let partial = fake
            .interact(fixtures::autocomplete(
                fake.next_id(),
                ALICE,
                "competence",
                "code",
                typed,
            ))
            .await;
        let value = partial["data"]["choices"][0]["value"]
            .as_str()
            .unwrap_or("");
        assert!(first.contains(&value), "{typed}: {value}");
    }

    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_framework_help_and_clicks() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, false).await;

    let search = fake
        .command(
            ALICE,
            "search",
            json!([{ "name": "query", "type": 3, "value": "theories of motivation" }]),
        )
        .await;
    assert!(is_ephemeral(&search));
    let menu = &search["data"]["components"][0]["components"][0];
    assert_eq!(menu["custom_id"], "search-results");
    assert_eq!(menu["options"][0]["value"], "open:core:4.2");
    // The results are readable in the reply itself, each with its statement.
    let listed = search["data"]["content"].as_str().unwrap_or_default();
    assert!(
        listed.contains("**Core 4.2** · Knowledge and understanding of, and ability to apply, one or more theories of motivation"),
        "{listed}"
    );
    assert_eq!(
        listed.lines().filter(|l| l.starts_with("**")).count(),
        menu["options"].as_array().map_or(0, Vec::len)
    );

    // A card's buttons: related competences first, then the same number in
    // the other domain, saying what it is.
    let card = fake
        .command(
            ALICE,
            "competence",
            json!([{ "name": "code", "type": 3, "value": "C3.5" }]),
        )
        .await;
    let labels: Vec<String> = card["data"]["components"][0]["components"]
        .as_array()
        .expect("buttons")
        .iter()
        .filter_map(|b| b["label"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        labels.last().map(String::as_str),
        Some("Integration 3.5 — same number, other domain"),
        "{labels:?}"
    );
    let same = fake
        .interact(fixtures::button(
            fake.next_id(),
            ALICE,
            "open:integration:3.5",
        ))
        .await;
    assert_eq!(embed_titles(&same), ["Integration 3.5"]);

    let opened = fake
        .interact(fixtures::select(
            fake.next_id(),
            ALICE,
            "search-results",
            "open:core:4.2",
        ))
        .await;
    assert_eq!(embed_titles(&opened), ["Core 4.2"]);
    assert!(is_ephemeral(&opened));

    let see_also = fake
        .interact(fixtures::button(fake.next_id(), ALICE, "open:core:1.7"))
        .await;
    assert_eq!(embed_titles(&see_also), ["Core 1.7"]);

    let forged = fake
        .interact(fixtures::button(
            fake.next_id(),
            ALICE,
            "open:core:../../etc",
        ))
        .await;
    assert!(is_ephemeral(&forged));
    assert!(
        forged["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("not one this bot can answer")
    );

    let overview = fake.command(ALICE, "framework", json!([])).await;
    assert_eq!(embed_titles(&overview), ["The framework at a glance"]);
    let help = fake.command(ALICE, "help", json!([])).await;
    assert!(is_ephemeral(&help));
    assert!(
        help["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("/competence 3.5")
    );

    bot.stop().await;
    assert_no_mentions_allowed(&fake);
    fake.assert_bodies_valid();
}

/// Sends a message and returns the bot's inline reply to it.
async fn inline_reply_to(fake: &FakeDiscord, who: fixtures::Member, content: &str) -> Value {
    let id = fake.next_id();
    fake.dispatch("MESSAGE_CREATE", fixtures::message(id, who, content));
    let reply = fake
        .wait_for("an inline reply", |r| {
            r.method == "POST"
                && r.path == format!("/api/v10/channels/{CHANNEL_ID}/messages")
                && r.json()["message_reference"]["message_id"].as_str()
                    == Some(id.to_string().as_str())
        })
        .await;
    reply.json().clone()
}

fn inline_replies(fake: &FakeDiscord) -> Vec<Value> {
    fake.requests()
        .into_iter()
        .filter(|r| {
            r.method == "POST"
                && r.path.ends_with("/messages")
                && r.path.starts_with("/api/v10/channels/")
        })
        .map(|r| r.json().clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_mode_is_off_by_default_switched_by_admins_and_rate_limited() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, true).await;

    // Off by default: the marker reply to /help arrives, no inline reply does.
    fake.dispatch(
        "MESSAGE_CREATE",
        fixtures::message(fake.next_id(), ALICE, "let's look at C3.5"),
    );
    let denied = fake.command(BOB, "inline", switch(ON)).await;
    assert!(
        is_ephemeral(&denied),
        "a member without Manage Server is refused privately"
    );
    assert!(inline_replies(&fake).is_empty());

    let on = fake.command(ADMIN, "inline", switch(ON)).await;
    assert!(is_ephemeral(&on));
    assert!(
        on["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("**on**")
    );

    let reply = inline_reply_to(
        &fake,
        ALICE,
        "shall we look at C3.5 and competence 2.10? @everyone",
    )
    .await;
    let content = reply["content"].as_str().unwrap_or_default();
    assert!(
        content.contains("Core 3.5") && content.contains("Core 2.10"),
        "{content}"
    );
    assert!(!content.contains("@everyone"));
    assert_eq!(reply["allowed_mentions"]["parse"], json!([]));
    assert_eq!(reply["allowed_mentions"]["replied_user"], false);

    // Bots are never answered; a repeat within the cool-down is not answered;
    // a fresh reference is.
    fake.dispatch(
        "MESSAGE_CREATE",
        fixtures::message(fake.next_id(), OTHER_BOT, "C4.1 from a bot"),
    );
    let fresh = inline_reply_to(&fake, BOB, "C3.5 again, and I2.1").await;
    let content = fresh["content"].as_str().unwrap_or_default();
    assert!(
        content.contains("Integration 2.1") && !content.contains("Core 3.5"),
        "{content}"
    );
    assert!(!content.contains("4.1"));

    // After the cool-down (time moved by the injected clock) it answers again.
    bot.clock.advance(Duration::minutes(6));
    let again = inline_reply_to(&fake, ALICE, "back to C3.5").await;
    assert!(
        again["content"]
            .as_str()
            .unwrap_or_default()
            .contains("Core 3.5")
    );
    assert_eq!(inline_replies(&fake).len(), 3);

    // Switched off, it stays quiet; the marker is the /inline reply itself.
    let off = fake.command(ADMIN, "inline", switch(OFF)).await;
    assert!(
        off["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("**off**")
    );
    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_setting_survives_a_restart() {
    let fake = FakeDiscord::start().await;
    let dir = scratch_dir();
    let bot = Bot::start_in(&fake, true, dir.clone()).await;
    fake.command(ADMIN, "inline", switch(ON)).await;
    bot.stop().await;

    let fake = FakeDiscord::start().await;
    let bot = Bot::start_in(&fake, true, dir).await;
    let reply = inline_reply_to(&fake, ALICE, "C1.1?").await;
    assert!(
        reply["content"]
            .as_str()
            .unwrap_or_default()
            .contains("Core 1.1")
    );
    assert!(bot.data_dir.exists());
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_gateway_connection_is_resumed_and_the_next_interaction_answered() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, false).await;
    fake.command(ALICE, "competence", code_option("1.1")).await;

    fake.drop_connection();
    fake.wait_until("a resume", || {
        fake.gateway_log()
            .contains(&"resume".to_string())
            .then_some(())
    })
    .await;
    fake.wait_ready().await;
    let after = fake.command(ALICE, "competence", code_option("C2.2")).await;
    assert_eq!(embed_titles(&after), ["Core 2.2"]);
    assert_eq!(
        fake.gateway_log()
            .iter()
            .filter(|l| *l == "identify")
            .count(),
        1,
        "resumed, not re-identified"
    );
    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_honoured_and_a_500_on_a_callback_is_not_fatal() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, true).await;
    fake.command(ADMIN, "inline", switch(ON)).await;

    // A rate limit on posting to the channel: serenity waits retry_after and retries.
    let messages = format!("/channels/{CHANNEL_ID}/messages");
    fake.fail_next(
        "POST",
        &messages,
        429,
        json!({ "message": "You are being rate limited.", "retry_after": 0.05, "global": false }),
        &[
            ("retry-after", "0.05"),
            ("x-ratelimit-bucket", "fake"),
            ("x-ratelimit-remaining", "0"),
        ],
    );
    fake.dispatch(
        "MESSAGE_CREATE",
        fixtures::message(fake.next_id(), ALICE, "C4.2 please"),
    );
    let posts = || -> Vec<Value> {
        fake.requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with(&messages))
            .map(|r| r.json().clone())
            .collect()
    };
    let attempts = fake
        .wait_until("the retry after the 429", || {
            let p = posts();
            (p.len() >= 2).then_some(p)
        })
        .await;
    assert_eq!(attempts.len(), 2, "one 429, then one retry");
    assert_eq!(attempts[0], attempts[1], "the retry sends the same message");
    assert!(
        attempts[1]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("Core 4.2")
    );

    // A 500 on an interaction callback: logged; the bot carries on.
    fake.fail_next(
        "POST",
        "/callback",
        500,
        json!({ "message": "500: Internal Server Error", "code": 0 }),
        &[],
    );
    let failed_id = fake.next_id();
    fake.dispatch(
        "INTERACTION_CREATE",
        fixtures::command(failed_id, ALICE, "competence", code_option("1.2")),
    );
    fake.callback_for(&failed_id.to_string()).await;
    let next = fake.command(ALICE, "competence", code_option("C1.3")).await;
    assert_eq!(embed_titles(&next), ["Core 1.3"]);
    bot.stop().await;
    fake.assert_bodies_valid();
}

fn companion_run(
    fake: &FakeDiscord,
    token: &str,
    data_dir: &std::path::Path,
) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_companion"))
        .args(["run", "--api-url", &fake.api_url(), "--data-dir"])
        .arg(data_dir)
        .env("DISCORD_TOKEN", token)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env_remove("COMPANION_MESSAGE_CONTENT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("companion starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_is_one_clear_line_and_exit_3() {
    let fake = FakeDiscord::start().await;
    let child = companion_run(&fake, "wrong-token", &scratch_dir());
    let out = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("exits promptly")
        .expect("runs");
    assert_eq!(out.status.code(), Some(3), "a failure while running");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("rejected the bot token"), "{stderr}");
    assert!(
        !stderr.contains("wrong-token"),
        "the token is never printed"
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_shuts_down_cleanly_with_exit_0() {
    let fake = FakeDiscord::start().await;
    let dir = scratch_dir();
    let child = companion_run(&fake, TOKEN, &dir);
    fake.wait_ready().await;
    let pid = child.id().expect("running").to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let out = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("exits promptly")
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains(TOKEN));
    assert!(
        dir.join("clean").exists(),
        "the database was sealed at the clean shutdown"
    );
}

/// `companion run --database URL`: the running bot keeps what a member
/// saves in that PostgreSQL database (the data directory holds only the
/// erasure record), and stops cleanly on SIGTERM.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_with_database_keeps_a_saved_reflection_in_postgres() {
    let Some(db) = crate::postgres::database() else {
        return;
    };
    let fake = FakeDiscord::start().await;
    let dir = scratch_dir();
    let key = practice_companion::store::SecretKey::generate()
        .to_hex()
        .to_string();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_companion"))
        .args(["run", "--api-url", &fake.api_url(), "--data-dir"])
        .arg(&dir)
        .args(["--database", &db.url()])
        .env("DISCORD_TOKEN", TOKEN)
        .env("COMPANION_KEY", &key)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env_remove("COMPANION_MESSAGE_CONTENT")
        .env_remove("COMPANION_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("companion starts");
    fake.wait_ready().await;
    let saved = fake
        .interact(fixtures::modal_submit(
            fake.next_id(),
            ALICE,
            "reflect:new:free",
            &[
                ("title", ""),
                ("text", "A contract with a sponsor, kept on the server."),
                ("tags", "C1.6"),
                ("mode", "coaching"),
            ],
        ))
        .await;
    assert!(
        saved["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("Saved as reflection #1"),
        "{saved}"
    );
    let pid = child.id().expect("running").to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let out = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("exits promptly")
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(db.sql("SELECT count(*) FROM companion_reflections"), "1");
    crate::bot::assert_kept_in_postgres(&dir);
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_token_is_one_clear_line_and_exit_2() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_companion"))
        .args(["run", "--data-dir"])
        .arg(scratch_dir())
        .env_remove("DISCORD_TOKEN")
        .output()
        .await
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(2),
        "bad usage: the token is missing"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no bot token"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_session_is_followed_by_a_fresh_identify_and_the_bot_answers() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, false).await;
    fake.invalidate_session(false);
    fake.wait_until("a second identify", || {
        (fake
            .gateway_log()
            .iter()
            .filter(|l| *l == "identify")
            .count()
            >= 2)
            .then_some(())
    })
    .await;
    let after = fake.command(ALICE, "competence", code_option("C4.4")).await;
    assert_eq!(embed_titles(&after), ["Core 4.4"]);
    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unanswered_heartbeats_make_the_bot_reconnect_and_it_answers_again() {
    let fake = FakeDiscord::start().await;
    fake.set_heartbeat_interval(300);
    let bot = Bot::start(&fake, false).await;
    fake.wait_until("a first heartbeat", || {
        fake.gateway_log()
            .contains(&"heartbeat".to_string())
            .then_some(())
    })
    .await;
    fake.ack_heartbeats(false);
    fake.wait_until("a reconnection", || {
        (fake
            .gateway_log()
            .iter()
            .filter(|l| *l == "connect")
            .count()
            >= 2)
            .then_some(())
    })
    .await;
    fake.ack_heartbeats(true);
    fake.wait_until("the session back", || {
        let log = fake.gateway_log();
        let last_connect = log.iter().rposition(|l| l == "connect")?;
        log[last_connect..]
            .iter()
            .any(|l| l == "resume" || l == "identify")
            .then_some(())
    })
    .await;
    let after = fake.command(ALICE, "competence", code_option("C4.1")).await;
    assert_eq!(embed_titles(&after), ["Core 4.1"]);
    bot.stop().await;
}
