//! A catalogue of hostile inputs, tried against every command that takes
//! text, in Discord and in the console: each gets an answer, none panics, none
//! is echoed where it could ping, none changes stored data unless the command
//! is meant to.

use serde_json::{Value, json};

use crate::bot::Bot;
use crate::fake_discord::FakeDiscord;
use crate::fake_discord::fixtures::{self, ADMIN, ALICE, CHANNEL_ID, GUILD_ID};
use crate::replies::{is_ephemeral, schedule_set};
use crate::support::companion_with_input;

/// The catalogue.
fn inputs() -> Vec<String> {
    vec![
        String::new(),
        "   \t  ".into(),
        "x".repeat(10_000),
        "\0\u{1}\u{7f}3.5\u{0}".into(),
        "\u{202e}3.5\u{200b}\u{200d}".into(),
        "🙂\u{301}\u{0308} C3.5 👩‍⚕️".into(),
        "**bold** __under__ `code` ```fence``` > quote ||spoiler||".into(),
        "@everyone".into(),
        "@here look".into(),
        "<@&400000000000000001> <@100000000000000012> <#500000000000000001>".into(),
        "25:00".into(),
        "Wendsday".into(),
        "Mars/Olympus".into(),
        "-1".into(),
        "99999999999999999999".into(),
        "3.5.1.2.3.4.5.6.7.8.9".into(),
        "core core core core core core core 3.5".into(),
    ]
}

/// What may never appear in anything the bot sends back (outside a member's own
/// reflection, shown only to them).
fn pings(text: &str) -> bool {
    text.contains("@everyone") || text.contains("@here") || text.contains("<@")
}

fn callback_ok(callback: &Value) -> bool {
    matches!(callback["type"].as_u64(), Some(4 | 5 | 8 | 9))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_text_option_answers_hostile_input_safely() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, false).await;
    for input in inputs() {
        let text = json!(input);
        let commands = [
            (
                "competence",
                json!([{ "name": "code", "type": 3, "value": text }]),
            ),
            (
                "search",
                json!([{ "name": "query", "type": 3, "value": text }]),
            ),
            (
                "reflect",
                json!([{ "name": "competence", "type": 3, "value": text }]),
            ),
            (
                "reflections",
                json!([{ "name": "list", "type": 1, "options": [{ "name": "competence", "type": 3, "value": text }] }]),
            ),
            (
                "log",
                json!([{ "name": "add", "type": 1, "options": [
                    { "name": "time", "type": 3, "value": text },
                    { "name": "date", "type": 3, "value": text },
                ] }]),
            ),
            (
                "log",
                json!([{ "name": "minimum", "type": 1, "options": [{ "name": "hours", "type": 3, "value": text }] }]),
            ),
        ];
        for (name, options) in commands {
            let reply = fake.command(ALICE, name, options).await;
            assert!(callback_ok(&reply), "{name} with {input:?}: {reply}");
            assert!(
                !pings(&reply.to_string()),
                "{name} echoed a mention for {input:?}"
            );
        }
        let autocomplete = fake
            .interact(fixtures::autocomplete(
                fake.next_id(),
                ALICE,
                "competence",
                "code",
                &input,
            ))
            .await;
        assert_eq!(autocomplete["type"], 8);
        let schedule = schedule_set(CHANNEL_ID, 0, &input, &input);
        let reply = fake
            .command_in(ADMIN, "schedule", schedule, GUILD_ID, CHANNEL_ID)
            .await;
        assert!(callback_ok(&reply));
        assert!(
            !pings(&reply.to_string()),
            "schedule echoed a mention for {input:?}: {reply}"
        );
        // A form submitted with the input everywhere: saved only if it is a real
        // reflection (non-empty, within limits), never with a bad tag or mode.
        let saved = fake
            .interact(fixtures::modal_submit(
                fake.next_id(),
                ALICE,
                "reflect:new:free",
                &[
                    ("title", &input),
                    ("text", &input),
                    ("tags", &input),
                    ("mode", &input),
                ],
            ))
            .await;
        assert!(callback_ok(&saved), "{saved}");
        let said = saved["data"]["content"].as_str().unwrap_or_default();
        assert!(
            !pings(said),
            "the confirmation echoed a mention for {input:?}"
        );
        // The supervision forms, every field given the input.
        let log = [("took_away", input.as_str()), ("competences", &input)];
        let eyes = [
            "client",
            "interventions",
            "relationship",
            "practitioner",
            "parallel",
        ];
        let step: Vec<(&str, &str)> = eyes.iter().map(|k| (*k, input.as_str())).collect();
        let question = [("question", input.as_str())];
        for (id, fields) in [
            ("log:new:2026-11-24:y:60:group:-", &log[..]),
            ("present:seven-eyed:0:new", &step[..]),
            ("present:short:0:new", &question[..]),
        ] {
            let answered = fake
                .interact(fixtures::modal_submit(fake.next_id(), ALICE, id, fields))
                .await;
            assert!(callback_ok(&answered), "{id}: {answered}");
            assert!(is_ephemeral(&answered), "{id}: {answered}");
            let said = answered["data"]["content"].as_str().unwrap_or_default();
            assert!(!pings(said), "{id} echoed a mention for {input:?}");
        }
    }
    // A weekday that is not one of the seven choices (a forged option value).
    let schedule = schedule_set(CHANNEL_ID, 9, "09:00", "Europe/London");
    let weekday = fake
        .command_in(ADMIN, "schedule", schedule, GUILD_ID, CHANNEL_ID)
        .await;
    assert!(callback_ok(&weekday), "{weekday}");
    assert!(is_ephemeral(&weekday), "answered privately: {weekday}");
    // Pages out of range say what would work.
    let page = fake.command(ALICE,
            "reflections",
            json!([{ "name": "list", "type": 1, "options": [{ "name": "page", "type": 4, "value": 9999 }] }]),
        )
        .await;
    let said = page["data"]["content"].as_str().unwrap_or_default();
    assert!(
        said.contains("page 1 to") || said.contains("no reflections"),
        "{said}"
    );
    // Nothing was saved but what the forms meant to save: valid texts only.
    let list = fake
        .command(
            ALICE,
            "reflections",
            json!([{ "name": "list", "type": 1, "options": [] }]),
        )
        .await;
    let listed = list.to_string();
    assert!(
        !listed.contains(&"x".repeat(100)),
        "the 10,000-character text was refused"
    );
    // The bot still answers normally afterwards.
    let ok = fake
        .command(
            ALICE,
            "competence",
            json!([{ "name": "code", "type": 3, "value": "C3.5" }]),
        )
        .await;
    assert_eq!(ok["data"]["embeds"][0]["title"], "Core 3.5");
    bot.stop().await;
    fake.assert_bodies_valid();
}

#[test]
fn every_console_command_answers_hostile_input_safely() {
    let dir = std::env::temp_dir().join(format!("companion-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut script = String::new();
    for input in inputs() {
        let line = input.replace(['\n', '\r'], " ");
        for command in [
            "/competence",
            "/search",
            "/guide",
            "/reflections list",
            "/reflections view",
            "/reflections tag 1",
            "",
        ] {
            script.push_str(&format!("{command} {line}\n"));
        }
        // A reflection typed through the console's prompts.
        script.push_str(&format!(
            "/reflect {line}\n{line}\n{line}\n.\n{line}\n{line}\n"
        ));
    }
    script.push_str("/reflections list 999\n/competence 3.5\n");
    let run = companion_with_input(
        &["console", "--data-dir", dir.to_str().expect("utf-8")],
        &script,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let last = run.stdout.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.starts_with("Next: /reflections list C3.5"),
        "the last command still answers: {last}"
    );
}
