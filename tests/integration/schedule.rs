//! Competence of the week through the fake Discord, with the bot's clock in
//! the test's hands: a post at the right instant across a clock change, none
//! twice after a restart mid-send, catch-up after downtime, a missing channel,
//! two servers at once.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use practice_companion::clock::ManualClock;
use practice_companion::discord::scheduler::SchedulerEvent;
use serde_json::{Value, json};

use crate::bot::{Bot, Storage, on_both_engines, scratch_dir};
use crate::fake_discord::FakeDiscord;
use crate::fake_discord::fixtures::{self, ADMIN, ALICE, BOB, CHANNEL_ID, GUILD_ID};
use crate::replies::{is_ephemeral, schedule_set};

const OTHER_GUILD: &str = "400000000000000002";
const OTHER_CHANNEL: &str = "500000000000000002";

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// `/schedule set` on Sunday at `time` London time (weekday choice 6 is Sunday).
async fn set_schedule(fake: &FakeDiscord, guild: &str, channel: &str, time: &str) -> Value {
    let options = schedule_set(channel, 6, time, "Europe/London");
    fake.command_in(ADMIN, "schedule", options, guild, channel)
        .await
}

async fn schedule_sub(fake: &FakeDiscord, guild: &str, channel: &str, sub: &str) -> Value {
    let options = json!([{ "name": sub, "type": 1, "options": [] }]);
    fake.command_in(ADMIN, "schedule", options, guild, channel)
        .await
}

fn posts_to(fake: &FakeDiscord, channel: &str) -> Vec<Value> {
    let path = format!("/api/v10/channels/{channel}/messages");
    fake.requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .map(|r| r.json().clone())
        .collect()
}

fn posted(events: &[SchedulerEvent]) -> Vec<(u64, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            SchedulerEvent::Posted {
                guild, competence, ..
            } => Some((*guild, competence.to_string())),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_weekly_post_goes_out_at_local_time_across_the_spring_clock_change() {
    let fake = FakeDiscord::start().await;
    let clock = Arc::new(ManualClock::new(utc(2026, 3, 28, 12, 0)));
    let mut bot = Bot::start_with_clock(&fake, false, scratch_dir(), None, clock.clone()).await;

    let set = set_schedule(&fake, GUILD_ID, CHANNEL_ID, "10:00").await;
    assert!(is_ephemeral(&set));
    let text = set["data"]["content"].as_str().unwrap_or_default();
    assert!(text.contains("Sunday 29 March, 10:00 BST"), "{text}");

    // One minute before 10:00 BST (09:00 UTC, the first morning of summer time): nothing.
    clock.set(utc(2026, 3, 29, 8, 59));
    let events = bot.ticked(utc(2026, 3, 29, 8, 59)).await;
    assert!(posted(&events).is_empty());
    assert!(posts_to(&fake, CHANNEL_ID).is_empty());

    clock.set(utc(2026, 3, 29, 9, 0));
    let events = bot.ticked(utc(2026, 3, 29, 9, 0)).await;
    assert_eq!(
        posted(&events),
        [(GUILD_ID.parse().unwrap(), "core:1.1".to_string())]
    );
    let posts = posts_to(&fake, CHANNEL_ID);
    assert_eq!(posts.len(), 1);
    let post = &posts[0];
    assert_eq!(post["enforce_nonce"], true);
    assert!(post["nonce"].as_str().is_some_and(|n| n.len() <= 25));
    assert_eq!(post["embeds"][0]["title"], "Competence of the week: C1.1");
    let fields = post["embeds"][0]["fields"].as_array().expect("fields");
    assert_eq!(fields[0]["name"], "Reflect");
    assert_eq!(fields[1]["name"], "Practise this week");
    assert_eq!(
        post["components"][0]["components"][0]["custom_id"],
        "reflect-on:core:1.1"
    );
    assert_eq!(post["allowed_mentions"]["parse"], json!([]));
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.method == "POST" && r.path.ends_with("/threads")),
        "a discussion thread is opened"
    );

    // Anyone can see this week's competence; the button opens a tagged reflection form.
    let week = fake.command(BOB, "week", json!([])).await;
    assert_eq!(
        week["data"]["embeds"][0]["title"],
        "Competence of the week: C1.1"
    );
    let form = fake
        .interact(fixtures::button(
            fake.next_id(),
            ALICE,
            "reflect-on:core:1.1",
        ))
        .await;
    assert_eq!(form["type"], 9);
    assert!(form.to_string().contains("\"value\":\"C1.1\""), "{form}");

    // The next week carries the next competence, and nothing repeats.
    clock.set(utc(2026, 4, 5, 9, 0));
    let events = bot.ticked(utc(2026, 4, 5, 9, 0)).await;
    assert_eq!(
        posted(&events),
        [(GUILD_ID.parse().unwrap(), "core:1.2".to_string())]
    );
    bot.stop().await;
    fake.assert_bodies_valid();
}

on_both_engines!(a_restart_mid_send: a_restart_mid_send_does_not_post_twice, on_postgres_a_restart_mid_send_does_not_post_twice);

async fn a_restart_mid_send(storage: Storage) {
    let fake = FakeDiscord::start().await;
    let clock = Arc::new(ManualClock::new(utc(2026, 11, 28, 12, 0)));
    let mut bot = Bot::start_on(&fake, &storage, clock.clone()).await;
    set_schedule(&fake, GUILD_ID, CHANNEL_ID, "10:00").await;
    bot.ticked(utc(2026, 11, 28, 12, 0)).await;

    // Discord makes the message, but every answer is lost, so the bot cannot
    // know: it gives up for now.
    let path = format!("/channels/{CHANNEL_ID}/messages");
    for _ in 0..4 {
        fake.fail_next_after_acting("POST", &path, 500);
    }
    clock.set(utc(2026, 11, 29, 10, 0));
    let events = bot.ticked(utc(2026, 11, 29, 10, 0)).await;
    assert!(posted(&events).is_empty());
    assert_eq!(posts_to(&fake, CHANNEL_ID).len(), 4);
    bot.stop().await;

    // Restarted half an hour later, it retries the claimed slot with the same nonce.
    clock.set(utc(2026, 11, 29, 10, 30));
    let mut bot = Bot::start_on(&fake, &storage, clock.clone()).await;
    let events = bot.ticked(utc(2026, 11, 29, 10, 30)).await;
    assert_eq!(posted(&events).len(), 1);
    let posts = posts_to(&fake, CHANNEL_ID);
    assert_eq!(posts.len(), 5);
    assert!(
        posts.windows(2).all(|w| w[0]["nonce"] == w[1]["nonce"]),
        "one nonce for the slot"
    );
    let created: Vec<_> = fake
        .created()
        .into_iter()
        .filter(|c| c.channel == CHANNEL_ID)
        .collect();
    assert_eq!(created.len(), 1, "exactly one message exists: {created:?}");
    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_downtime_a_recent_slot_posts_once_late_and_an_old_one_is_skipped() {
    let fake = FakeDiscord::start().await;
    let dir = scratch_dir();
    let clock = Arc::new(ManualClock::new(utc(2026, 11, 28, 12, 0)));
    let mut bot = Bot::start_with_clock(&fake, false, dir.clone(), None, clock.clone()).await;
    set_schedule(&fake, GUILD_ID, CHANNEL_ID, "10:00").await;
    bot.ticked(utc(2026, 11, 28, 12, 0)).await;
    bot.stop().await;

    // Down over Sunday's slot; back three hours later: posted once, late.
    clock.set(utc(2026, 11, 29, 13, 0));
    let mut bot = Bot::start_with_clock(&fake, false, dir.clone(), None, clock.clone()).await;
    let events = bot.ticked(utc(2026, 11, 29, 13, 0)).await;
    assert_eq!(posted(&events).len(), 1);
    bot.stop().await;

    // Down for three weeks; back two days after the last missed slot: nothing
    // is posted in a burst, and the next slot goes out as usual.
    clock.set(utc(2026, 12, 22, 10, 0));
    let mut bot = Bot::start_with_clock(&fake, false, dir, None, clock.clone()).await;
    let events = bot.ticked(utc(2026, 12, 22, 10, 0)).await;
    assert!(posted(&events).is_empty(), "{events:?}");
    assert_eq!(posts_to(&fake, CHANNEL_ID).len(), 1);
    clock.set(utc(2026, 12, 27, 10, 0));
    let events = bot.ticked(utc(2026, 12, 27, 10, 0)).await;
    assert_eq!(posted(&events).len(), 1);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_channel_pauses_one_server_and_the_other_still_posts() {
    let fake = FakeDiscord::start().await;
    let clock = Arc::new(ManualClock::new(utc(2026, 11, 28, 12, 0)));
    let mut bot = Bot::start_with_clock(&fake, false, scratch_dir(), None, clock.clone()).await;
    set_schedule(&fake, GUILD_ID, CHANNEL_ID, "10:00").await;
    set_schedule(&fake, OTHER_GUILD, OTHER_CHANNEL, "10:00").await;
    bot.ticked(utc(2026, 11, 28, 12, 0)).await;

    fake.fail_next(
        "POST",
        &format!("/channels/{CHANNEL_ID}/messages"),
        404,
        json!({ "message": "Unknown Channel", "code": 10003 }),
        &[],
    );
    clock.set(utc(2026, 11, 29, 10, 0));
    let events = bot.ticked(utc(2026, 11, 29, 10, 0)).await;
    assert_eq!(
        posted(&events),
        [(OTHER_GUILD.parse().unwrap(), "core:1.1".to_string())]
    );
    assert!(events.contains(&SchedulerEvent::Paused {
        guild: GUILD_ID.parse().unwrap()
    }));

    let show = schedule_sub(&fake, GUILD_ID, CHANNEL_ID, "show").await;
    let text = show["data"]["content"].as_str().unwrap_or_default();
    assert!(
        text.contains("Paused") && text.contains("no longer exists"),
        "{text}"
    );

    // A week later the paused server stays quiet and the other posts again.
    clock.set(utc(2026, 12, 6, 10, 0));
    let events = bot.ticked(utc(2026, 12, 6, 10, 0)).await;
    assert_eq!(
        posted(&events),
        [(OTHER_GUILD.parse().unwrap(), "core:1.2".to_string())]
    );

    // Resumed, it posts at its next slot, without a burst of the missed ones.
    let resumed = schedule_sub(&fake, GUILD_ID, CHANNEL_ID, "resume").await;
    assert!(
        resumed["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Resumed.")
    );
    clock.set(utc(2026, 12, 13, 10, 0));
    let events = bot.ticked(utc(2026, 12, 13, 10, 0)).await;
    assert_eq!(posted(&events).len(), 2);
    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_settings_and_non_admins_get_clear_answers() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, false).await;
    let bad = set_schedule(&fake, GUILD_ID, CHANNEL_ID, "25:00").await;
    assert!(
        bad["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("HH:MM"),
        "{bad}"
    );

    let options = schedule_set(CHANNEL_ID, 0, "09:00", "Mars/Olympus");
    let zone = fake
        .command_in(ADMIN, "schedule", options.clone(), GUILD_ID, CHANNEL_ID)
        .await;
    assert!(
        zone["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("Europe/London"),
        "{zone}"
    );

    let denied = fake
        .command_in(BOB, "schedule", options, GUILD_ID, CHANNEL_ID)
        .await;
    assert!(is_ephemeral(&denied));
    let none = schedule_sub(&fake, GUILD_ID, CHANNEL_ID, "show").await;
    assert!(
        none["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("no schedule yet")
    );

    let week = fake.command(ALICE, "week", json!([])).await;
    assert!(
        week["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("no competence of the week yet")
    );
    bot.stop().await;
    fake.assert_bodies_valid();
}

fn dm_posts(fake: &FakeDiscord) -> Vec<Value> {
    let dm_channels: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v10/users/@me/channels")
        .map(|r| {
            r.json()["recipient_id"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert!(
        dm_channels.iter().all(|id| id == &ALICE.id.to_string()),
        "only Alice asked for reminders"
    );
    fake.requests()
        .into_iter()
        .filter(|r| {
            r.method == "POST" && r.path.ends_with("/messages") && !r.path.contains(CHANNEL_ID)
        })
        .filter(|r| {
            r.json()["content"]
                .as_str()
                .is_some_and(|c| c.contains("gentle nudge"))
        })
        .map(|r| r.json().clone())
        .collect()
}

on_both_engines!(reminders_at_own_time: reminders_come_at_the_members_own_time_and_can_be_skipped, on_postgres_reminders_come_at_the_members_own_time_and_can_be_skipped);

async fn reminders_at_own_time(storage: Storage) {
    let fake = FakeDiscord::start().await;
    let clock = Arc::new(ManualClock::new(utc(2026, 11, 28, 12, 0)));
    let mut bot = Bot::start_on(&fake, &storage, clock.clone()).await;
    set_schedule(&fake, GUILD_ID, CHANNEL_ID, "10:00").await;

    let remind = |time: &'static str| {
        json!([{ "name": "on", "type": 1, "options": [
            { "name": "weekday", "type": 4, "value": 0 },
            { "name": "time", "type": 3, "value": time },
            { "name": "timezone", "type": 3, "value": "America/New_York" },
        ] }])
    };
    let quiet = fake.command(ALICE, "remind", remind("22:30")).await;
    assert!(
        quiet["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("keep quiet"),
        "{quiet}"
    );
    let on = fake.command(ALICE, "remind", remind("08:00")).await;
    assert!(is_ephemeral(&on));
    // Her development priorities: one is named in each reminder.
    let priorities = json!([{ "name": "add", "type": 1, "options": [{ "name": "competences", "type": 3, "value": "C3.5" }] }]);
    fake.command(ALICE, "priorities", priorities).await;
    bot.ticked(utc(2026, 11, 28, 12, 0)).await;

    // Sunday's post, then Monday 08:00 in New York (13:00 UTC): one gentle DM.
    clock.set(utc(2026, 11, 29, 10, 0));
    bot.ticked(utc(2026, 11, 29, 10, 0)).await;
    clock.set(utc(2026, 11, 30, 12, 59));
    let events = bot.ticked(utc(2026, 11, 30, 12, 59)).await;
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, SchedulerEvent::Reminded { .. }))
    );
    clock.set(utc(2026, 11, 30, 13, 0));
    let events = bot.ticked(utc(2026, 11, 30, 13, 0)).await;
    assert!(
        events.contains(&SchedulerEvent::Reminded { member: ALICE.id }),
        "{events:?}"
    );
    let dms = dm_posts(&fake);
    assert_eq!(dms.len(), 1);
    let text = dms[0]["content"].as_str().unwrap_or_default();
    assert!(
        text.contains("C1.1") && !text.to_lowercase().contains("streak"),
        "{text}"
    );
    assert!(
        text.contains("One of the priorities you agreed with your supervisor: **C3.5**"),
        "{text}"
    );
    assert_eq!(dms[0]["allowed_mentions"]["parse"], json!([]));

    // Skipped next week; back the week after.
    let skip = json!([{ "name": "skip", "type": 1, "options": [] }]);
    fake.command(ALICE, "remind", skip).await;
    clock.set(utc(2026, 12, 7, 13, 0));
    bot.ticked(utc(2026, 12, 7, 13, 0)).await;
    assert_eq!(dm_posts(&fake).len(), 1, "skipped");
    clock.set(utc(2026, 12, 14, 13, 0));
    bot.ticked(utc(2026, 12, 14, 13, 0)).await;
    assert_eq!(dm_posts(&fake).len(), 2);
    let off = json!([{ "name": "off", "type": 1, "options": [] }]);
    fake.command(ALICE, "remind", off).await;
    clock.set(utc(2026, 12, 21, 13, 0));
    bot.ticked(utc(2026, 12, 21, 13, 0)).await;
    assert_eq!(dm_posts(&fake).len(), 2, "off means off");
    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_requests_time_out_without_stopping_the_bot_or_posting_twice() {
    let fake = FakeDiscord::start().await;
    let clock = Arc::new(ManualClock::new(utc(2026, 11, 28, 12, 0)));
    let mut bot = Bot::start_with_clock(&fake, false, scratch_dir(), None, clock.clone()).await;
    set_schedule(&fake, GUILD_ID, CHANNEL_ID, "10:00").await;
    bot.ticked(utc(2026, 11, 28, 12, 0)).await;

    // An interaction callback that hangs: the bot gives up on it and answers the next.
    let hung = fake.next_id();
    fake.hang_next(
        "POST",
        &format!("/interactions/{hung}/"),
        std::time::Duration::from_secs(6),
    );
    fake.dispatch(
        "INTERACTION_CREATE",
        fixtures::command(
            hung,
            ALICE,
            "competence",
            json!([{ "name": "code", "type": 3, "value": "C1.1" }]),
        ),
    );
    let next = fake
        .command(
            BOB,
            "competence",
            json!([{ "name": "code", "type": 3, "value": "C1.2" }]),
        )
        .await;
    assert_eq!(next["data"]["embeds"][0]["title"], "Core 1.2");

    // A weekly post that Discord makes but never confirms: the bot times out,
    // retries later with the same nonce, and one message exists.
    fake.hang_next(
        "POST",
        &format!("/channels/{CHANNEL_ID}/messages"),
        std::time::Duration::from_secs(6),
    );
    clock.set(utc(2026, 11, 29, 10, 0));
    let events = bot.ticked(utc(2026, 11, 29, 10, 0)).await;
    assert!(posted(&events).is_empty(), "not confirmed yet");
    clock.set(utc(2026, 11, 29, 10, 10));
    let events = bot.ticked(utc(2026, 11, 29, 10, 10)).await;
    assert_eq!(posted(&events).len(), 1);
    let created: Vec<_> = fake
        .created()
        .into_iter()
        .filter(|c| c.channel == CHANNEL_ID)
        .collect();
    assert_eq!(created.len(), 1, "{created:?}");
    bot.stop().await;
}

/// `order: gaps` puts first what the group has reflected on least: a
/// reflection written in the server and tagged moves the next competence;
/// an untagged one, or one written in a direct message, changes nothing;
/// deleting it moves the order back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_groups_reflections_move_the_gaps_order() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, false).await;
    let mut options = schedule_set(CHANNEL_ID, 6, "10:00", "Europe/London");
    options[0]["options"]
        .as_array_mut()
        .expect("options")
        .extend([
            json!({ "name": "domain", "type": 4, "value": 0 }),
            json!({ "name": "order", "type": 4, "value": 2 }),
        ]);
    fake.command_in(ADMIN, "schedule", options, GUILD_ID, CHANNEL_ID)
        .await;
    async fn next(fake: &FakeDiscord) -> String {
        let preview = schedule_sub(fake, GUILD_ID, CHANNEL_ID, "preview").await;
        preview["data"]["embeds"][0]["title"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
    let write = |who, tags: &'static str| {
        fixtures::modal_submit(
            fake.next_id(),
            who,
            "reflect:new:free",
            &[("text", "Counted, never read."), ("tags", tags)],
        )
    };
    assert!(next(&fake).await.ends_with("C1.1"), "{}", next(&fake).await);

    // Two members reflect on C1.1 in the server: it is no longer a gap.
    fake.interact(write(ALICE, "C1.1")).await;
    fake.interact(write(BOB, "C1.1, C1.3")).await;
    assert!(next(&fake).await.ends_with("C1.2"), "{}", next(&fake).await);

    // Untagged, or written in a direct message: nothing moves.
    fake.interact(write(ALICE, "")).await;
    let mut dm = write(ALICE, "C1.2");
    let object = dm.as_object_mut().expect("interaction");
    object.remove("guild_id");
    object.remove("member");
    object.insert("user".into(), fixtures::user(ALICE));
    object.insert("channel".into(), json!({ "id": CHANNEL_ID, "type": 1 }));
    object.insert("context".into(), json!(1));
    let saved = fake.interact(dm).await;
    assert!(
        saved.to_string().contains("Saved as reflection #3"),
        "{saved}"
    );
    assert!(next(&fake).await.ends_with("C1.2"), "{}", next(&fake).await);

    // In the server it counts; deleted, it no longer does.
    fake.interact(write(BOB, "C1.2")).await;
    assert!(next(&fake).await.ends_with("C1.4"), "{}", next(&fake).await);
    fake.interact_deferred(fixtures::button(fake.next_id(), BOB, "delete:2"))
        .await;
    assert!(next(&fake).await.ends_with("C1.2"), "{}", next(&fake).await);
    bot.stop().await;
    fake.assert_bodies_valid();
}

/// `/schedule post-now` says what happened: posted (and what), not taken
/// (try again), or paused because the channel is closed to the bot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_now_says_what_happened() {
    let fake = FakeDiscord::start().await;
    let clock = Arc::new(ManualClock::new(utc(2026, 11, 25, 12, 0)));
    let bot = Bot::start_with_clock(&fake, false, scratch_dir(), None, clock.clone()).await;
    set_schedule(&fake, GUILD_ID, CHANNEL_ID, "10:00").await;
    let post_now = || async {
        clock.advance(chrono::Duration::minutes(1));
        let before = fake.requests().len();
        schedule_sub(&fake, GUILD_ID, CHANNEL_ID, "post-now").await;
        // post-now acknowledges first, then answers on the interaction's webhook.
        let answer = fake
            .wait_until("the post-now answer", || {
                fake.requests()
                    .into_iter()
                    .skip(before)
                    .find(|r| r.path.starts_with("/api/v10/webhooks/"))
            })
            .await;
        answer.json()["content"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let said = post_now().await;
    assert!(said.starts_with("Posted C1.1 in <#"), "{said}");
    let made = || {
        fake.created()
            .iter()
            .filter(|c| c.channel == CHANNEL_ID)
            .count()
    };
    assert_eq!(made(), 1);

    fake.fail_next(
        "POST",
        "/messages",
        400,
        json!({ "message": "Bad", "code": 0 }),
        &[],
    );
    let said = post_now().await;
    assert!(
        said.starts_with("Nothing was posted: Discord did not take"),
        "{said}"
    );

    fake.fail_next(
        "POST",
        "/messages",
        403,
        json!({ "message": "Missing Access", "code": 50001 }),
        &[],
    );
    let said = post_now().await;
    assert!(said.contains("paused until `/schedule resume`"), "{said}");
    let said = post_now().await;
    assert!(
        said.starts_with("Nothing was posted: the schedule is paused"),
        "{said}"
    );
    assert_eq!(made(), 1, "nothing more went out");
    bot.stop().await;
    fake.assert_bodies_valid();
}

/// The convenor chooses the group's next competence: the next post carries
/// it, the order carries on after it, and it does not come again in the
/// cycle; any competence's card can be previewed without choosing it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_convenor_chooses_the_next_competence_and_previews_any_card() {
    let fake = FakeDiscord::start().await;
    let clock = Arc::new(ManualClock::new(utc(2026, 11, 25, 12, 0)));
    let bot = Bot::start_with_clock(&fake, false, scratch_dir(), None, clock.clone()).await;
    set_schedule(&fake, GUILD_ID, CHANNEL_ID, "10:00").await;
    let with = |sub: &str, code: &str| {
        json!([{ "name": sub, "type": 1, "options": [
            { "name": "competence", "type": 3, "value": code }
        ] }])
    };
    let said = |reply: &Value| {
        reply["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let title = |reply: &Value| {
        reply["data"]["embeds"][0]["title"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    // A convenor without Manage Server (a role the server gave `/schedule`
    // in its Integrations settings) previews and chooses; setting the
    // schedule still needs Manage Server.
    let refused = fake
        .command_in(
            BOB,
            "schedule",
            json!([{ "name": "pause", "type": 1, "options": [] }]),
            GUILD_ID,
            CHANNEL_ID,
        )
        .await;
    assert!(is_ephemeral(&refused));
    assert!(
        said(&refused)
            == "`/schedule pause` needs the Manage Server permission in this server: ask someone who has it. Nothing was changed.",
        "pausing needs Manage Server: {refused}"
    );
    // Any competence's card, seen privately, chooses nothing.
    let card = fake
        .command_in(
            BOB,
            "schedule",
            with("preview", "I2.1"),
            GUILD_ID,
            CHANNEL_ID,
        )
        .await;
    assert!(is_ephemeral(&card));
    assert!(title(&card).ends_with("I2.1"), "{card}");
    let next = schedule_sub(&fake, GUILD_ID, CHANNEL_ID, "preview").await;
    assert!(title(&next).ends_with("C1.1"), "{next}");

    // Chosen: the next post carries it.
    let chose = fake
        .command_in(BOB, "schedule", with("next", "C3.5"), GUILD_ID, CHANNEL_ID)
        .await;
    assert!(is_ephemeral(&chose));
    assert!(
        said(&chose).starts_with("The next weekly post will carry C3.5, chosen by the group"),
        "{chose}"
    );
    let next = schedule_sub(&fake, GUILD_ID, CHANNEL_ID, "preview").await;
    assert!(title(&next).ends_with("C3.5"), "{next}");
    clock.advance(chrono::Duration::minutes(1));
    let before = fake.requests().len();
    schedule_sub(&fake, GUILD_ID, CHANNEL_ID, "post-now").await;
    // post-now answers on the interaction's webhook once the post is made.
    let answer = fake
        .wait_until("the post-now answer", || {
            fake.requests()
                .into_iter()
                .skip(before)
                .find(|r| r.path.starts_with("/api/v10/webhooks/"))
        })
        .await;
    assert!(
        answer.json()["content"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Posted C3.5 in <#"),
        "{:?}",
        answer.json()
    );
    // The order carries on, and the chosen one is used for this cycle.
    let next = schedule_sub(&fake, GUILD_ID, CHANNEL_ID, "preview").await;
    assert!(title(&next).ends_with("C1.1"), "{next}");
    let again = fake
        .command_in(
            ADMIN,
            "schedule",
            with("next", "C3.5"),
            GUILD_ID,
            CHANNEL_ID,
        )
        .await;
    assert!(
        said(&again).contains("C3.5 has had its week in this cycle"),
        "{again}"
    );
    // A code in both domains, or none: what to write instead.
    let both = fake
        .command_in(ADMIN, "schedule", with("next", "3.5"), GUILD_ID, CHANNEL_ID)
        .await;
    assert!(
        said(&both).contains("write C3.5 (core) or I3.5 (integration)"),
        "{both}"
    );
    let none = fake
        .command_in(
            ADMIN,
            "schedule",
            with("next", "C9.9"),
            GUILD_ID,
            CHANNEL_ID,
        )
        .await;
    assert!(
        said(&none).contains("there is no such competence"),
        "{none}"
    );
    let next = schedule_sub(&fake, GUILD_ID, CHANNEL_ID, "preview").await;
    assert!(title(&next).ends_with("C1.1"), "nothing was chosen: {next}");
    bot.stop().await;
    fake.assert_bodies_valid();
}

/// A process acts only for the servers its shards own: the weekly post of
/// a server on another process's shard, and the members' reminders (sent by
/// shard 0's process), are left to the others; the process with every shard
/// sends them. (The server's commands reach the process of its own shard,
/// as Discord routes them.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_process_posts_only_for_the_servers_its_shards_own() {
    let Some(storage) = Storage::postgres() else {
        return;
    };
    let guild: u64 = GUILD_ID.parse().unwrap();
    let theirs = practice_companion::shards::ShardRange::parse("0-1", 2).unwrap();
    assert_eq!(
        theirs.shard_of(guild),
        0,
        "the test server is on shard 0 of 2"
    );
    let fake = FakeDiscord::start().await;
    let clock = Arc::new(ManualClock::new(utc(2026, 11, 28, 12, 0)));
    let owner = practice_companion::shards::ShardRange::parse("0-0", 2).unwrap();
    let not_owner = practice_companion::shards::ShardRange::parse("1-1", 2).unwrap();
    assert!(!not_owner.owns(guild));
    let mut bot = Bot::start_sharded(&fake, &storage, clock.clone(), owner).await;
    set_schedule(&fake, GUILD_ID, CHANNEL_ID, "10:00").await;
    // Alice's reminder falls due with the post: Sunday 10:00 in London (UTC).
    let remind = json!([{ "name": "on", "type": 1, "options": [
        { "name": "weekday", "type": 4, "value": 6 },
        { "name": "time", "type": 3, "value": "10:00" },
        { "name": "timezone", "type": 3, "value": "Europe/London" },
    ] }]);
    assert!(is_ephemeral(&fake.command(ALICE, "remind", remind).await));
    bot.ticked(utc(2026, 11, 28, 12, 0)).await;
    bot.stop().await;

    let mut bot = Bot::start_sharded(&fake, &storage, clock.clone(), not_owner).await;
    clock.set(utc(2026, 11, 29, 10, 0));
    let events = bot.ticked(utc(2026, 11, 29, 10, 0)).await;
    assert!(posted(&events).is_empty(), "{events:?}");
    assert!(posts_to(&fake, CHANNEL_ID).is_empty());
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, SchedulerEvent::Reminded { .. })),
        "only shard 0's process sends reminders: {events:?}"
    );
    bot.stop().await;

    let mut bot = Bot::start_sharded(&fake, &storage, clock.clone(), theirs).await;
    let events = bot.ticked(utc(2026, 11, 29, 10, 0)).await;
    assert_eq!(posted(&events), [(guild, "core:1.1".to_string())]);
    assert_eq!(posts_to(&fake, CHANNEL_ID).len(), 1);
    assert!(
        events.contains(&SchedulerEvent::Reminded { member: ALICE.id }),
        "{events:?}"
    );
    assert_eq!(dm_posts(&fake).len(), 1);
    bot.stop().await;
}
