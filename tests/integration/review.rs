//! The review of development priorities in Discord: off until a member
//! asks; due its weeks later, asked once by direct message; the button
//! opens a form with a question for each priority; the answers kept as a
//! private reflection; nobody else's review opened.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use practice_companion::clock::ManualClock;
use serde_json::{Value, json};

use crate::bot::{Bot, scratch_dir};
use crate::fake_discord::FakeDiscord;
use crate::fake_discord::fixtures::{self, ALICE, BOB};
use crate::replies::{content, is_ephemeral};

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn sub(name: &str, options: Value) -> Value {
    json!([{ "name": name, "type": 1, "options": options }])
}

/// The messages sent to members directly, in order.
fn direct_messages(fake: &FakeDiscord) -> Vec<Value> {
    let dm_channels: usize = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v10/users/@me/channels")
        .count();
    let posts: Vec<Value> = fake
        .requests()
        .iter()
        .filter(|r| {
            r.method == "POST"
                && r.path.ends_with("/messages")
                && r.json()["components"][0]["components"][0]["custom_id"] == "review:open"
        })
        .map(|r| r.json().clone())
        .collect();
    assert_eq!(
        dm_channels,
        posts.len(),
        "each review asked in a direct message"
    );
    posts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_of_priorities_is_asked_once_when_due_and_kept_as_a_private_reflection() {
    let fake = FakeDiscord::start().await;
    let clock = Arc::new(ManualClock::new(utc(2026, 11, 2, 12, 0)));
    let mut bot = Bot::start_with_clock(&fake, false, scratch_dir(), None, clock.clone()).await;
    let add = sub(
        "add",
        json!([{ "name": "competences", "type": 3, "value": "C3.5, I2.1" }]),
    );
    fake.command(ALICE, "priorities", add).await;
    let on = fake
        .command(
            ALICE,
            "priorities",
            sub(
                "review-every",
                json!([{ "name": "weeks", "type": 4, "value": 4 }]),
            ),
        )
        .await;
    assert!(is_ephemeral(&on));
    assert!(
        content(&on).contains("The first comes on 30 November 2026."),
        "{on}"
    );

    // Not before its time; then once.
    clock.set(utc(2026, 11, 30, 11, 0));
    bot.ticked(utc(2026, 11, 30, 11, 0)).await;
    assert!(direct_messages(&fake).is_empty());
    clock.set(utc(2026, 11, 30, 12, 0));
    bot.ticked(utc(2026, 11, 30, 12, 0)).await;
    clock.set(utc(2026, 11, 30, 14, 0));
    bot.ticked(utc(2026, 11, 30, 14, 0)).await;
    let asked = direct_messages(&fake);
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0]["allowed_mentions"]["parse"], json!([]));

    // The button opens a question for each priority.
    let form = fake
        .interact(fixtures::button(fake.next_id(), ALICE, "review:open"))
        .await;
    assert_eq!(form["type"], 9, "{form}");
    assert_eq!(form["data"]["custom_id"], "review:priorities");
    let labels: Vec<&str> = form["data"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|row| row["components"][0]["label"].as_str())
        .collect();
    assert_eq!(
        labels,
        ["C3.5: how has it moved?", "I2.1: how has it moved?"]
    );
    // Bob has no priorities: nothing of Alice's is opened for him.
    let bobs = fake
        .interact(fixtures::button(fake.next_id(), BOB, "review:open"))
        .await;
    assert!(
        content(&bobs).starts_with("You have no priorities to review"),
        "{bobs}"
    );

    // An empty form keeps nothing and says so; a written one is kept.
    let empty = fake
        .interact(fixtures::modal_submit(
            fake.next_id(),
            ALICE,
            "review:priorities",
            &[("core:3.5", " "), ("integration:2.1", "")],
        ))
        .await;
    assert!(
        content(&empty).starts_with("Nothing was written"),
        "{empty}"
    );
    let saved = fake
        .interact(fixtures::modal_submit(
            fake.next_id(),
            ALICE,
            "review:priorities",
            &[
                ("core:3.5", "Less rescuing, more asking."),
                ("integration:2.1", ""),
            ],
        ))
        .await;
    assert!(is_ephemeral(&saved));
    assert!(
        content(&saved).contains("Saved as reflection #1, tagged C3.5"),
        "{saved}"
    );
    let view = fake
        .command(
            ALICE,
            "reflections",
            sub("view", json!([{ "name": "number", "type": 4, "value": 1 }])),
        )
        .await;
    assert!(
        view.to_string().contains("Less rescuing, more asking."),
        "{view}"
    );
    let bob_view = fake
        .command(
            BOB,
            "reflections",
            sub("view", json!([{ "name": "number", "type": 4, "value": 1 }])),
        )
        .await;
    assert!(!bob_view.to_string().contains("rescuing"), "{bob_view}");

    // The next comes four weeks after the review was made (at 14:00).
    clock.set(utc(2026, 12, 28, 13, 59));
    bot.ticked(utc(2026, 12, 28, 13, 59)).await;
    assert_eq!(direct_messages(&fake).len(), 1);
    clock.set(utc(2026, 12, 28, 14, 0));
    bot.ticked(utc(2026, 12, 28, 14, 0)).await;
    assert_eq!(direct_messages(&fake).len(), 2);
    bot.stop().await;
    fake.assert_bodies_valid();
}
