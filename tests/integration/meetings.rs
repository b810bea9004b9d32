//! The group's meetings and rota through the fake Discord, with the bot's
//! clock in the test's hands: meetings as Discord's own scheduled events
//! (made, moved, cancelled, deleted by hand, stopped), roles given from the
//! rota once the meeting before has begun and never to a member who left
//! the server, passes and swaps, no one pinged, every body as the spec has it.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use practice_companion::clock::ManualClock;
use serde_json::{Value, json};

use crate::bot::{Bot, Storage, on_both_engines, scratch_dir};
use crate::fake_discord::FakeDiscord;
use crate::fake_discord::fixtures::{self, ADMIN, ALICE, BOB, CHANNEL_ID, Member};
use crate::replies::{content, is_ephemeral};

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn sub(name: &str, options: Value) -> Value {
    json!([{ "name": name, "type": 1, "options": options }])
}

fn text(name: &str, value: &str) -> Value {
    json!({ "name": name, "type": 3, "value": value })
}

fn int(name: &str, value: u64) -> Value {
    json!({ "name": name, "type": 4, "value": value })
}

async fn deferred(fake: &FakeDiscord, who: Member, name: &str, options: Value) -> Value {
    answered_later(fake, fixtures::command(fake.next_id(), who, name, options)).await
}

/// A command the bot acknowledges first (privately) and answers on the
/// interaction's webhook: the answer, shaped like a callback.
async fn answered_later(fake: &FakeDiscord, interaction: Value) -> Value {
    let id = interaction["id"].as_str().expect("id").to_string();
    let n: u64 = id.parse().expect("numeric id");
    fake.dispatch("INTERACTION_CREATE", interaction);
    let callback = fake.callback_for(&id).await.json().clone();
    assert_eq!(callback["type"], 5, "acknowledged first: {callback}");
    assert!(
        is_ephemeral(&callback),
        "acknowledged privately: {callback}"
    );
    let token = fixtures::token(n);
    let answer = fake
        .wait_for(&format!("the answer to {id}"), |r| {
            r.method == "POST"
                && r.path.starts_with("/api/v10/webhooks/")
                && r.path.contains(&token)
        })
        .await;
    json!({ "type": 4, "data": answer.json().clone() })
}

pub(crate) async fn rota(fake: &FakeDiscord, who: Member, what: &str) -> Value {
    deferred(fake, who, "rota", sub(what, json!([]))).await
}

async fn swap(fake: &FakeDiscord, who: Member, with: Member) -> Value {
    let options = sub(
        "swap",
        json!([{ "name": "with", "type": 6, "value": with.id.to_string() }]),
    );
    answered_later(
        fake,
        fixtures::command_naming(fake.next_id(), who, "rota", options, &[with]),
    )
    .await
}

/// The messages the bot posted in the test channel, as sent.
fn posts(fake: &FakeDiscord) -> Vec<Value> {
    let path = format!("/api/v10/channels/{CHANNEL_ID}/messages");
    fake.requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .map(|r| r.json().clone())
        .collect()
}

fn said(fake: &FakeDiscord) -> Vec<String> {
    posts(fake)
        .iter()
        .map(|p| p["content"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn set_options(date: &str) -> Value {
    sub(
        "set",
        json!([
            text("date", date),
            text("time", "18:00"),
            text("timezone", "Europe/London"),
            int("every_weeks", 2),
            text("place", "Room 4, Friends Meeting House"),
            int("agenda_days", 3),
        ]),
    )
}

/// A test's group in the fake Discord: the fake, the bot's clock in the
/// test's hands, and the bot.
type Group = (FakeDiscord, Arc<ManualClock>, Bot);

/// The bot on `storage`, its clock at `at`; no meetings set, no one on
/// the rota.
async fn started_on(storage: &Storage, at: DateTime<Utc>) -> Group {
    let fake = FakeDiscord::start().await;
    let clock = Arc::new(ManualClock::new(at));
    let bot = Bot::start_on(&fake, storage, clock.clone()).await;
    (fake, clock, bot)
}

/// The bot on a scratch store of its own, its clock at noon on Saturday
/// 5 December 2026.
async fn started() -> Group {
    started_on(&Storage::sled(scratch_dir()), utc(2026, 12, 5, 12, 0)).await
}

/// As `started`, with `members` joining the rota, in that order, and then
/// the meetings set (`convene`).
async fn convened(members: &[Member]) -> Group {
    let (fake, clock, bot) = started().await;
    join_rota(&fake, members).await;
    convene(&fake).await;
    (fake, clock, bot)
}

/// `members` join the rota, in that order.
async fn join_rota(fake: &FakeDiscord, members: &[Member]) {
    for &who in members {
        rota(fake, who, "join").await;
    }
}

/// The convenor sets the meetings: every two weeks from Thursday 17
/// December 2026 at 18:00 in London, the agenda opening 3 days before.
async fn convene(fake: &FakeDiscord) -> Value {
    deferred(fake, ADMIN, "convene", set_options("2026-12-17")).await
}

on_both_engines!(meetings_and_the_rota: meetings_are_discord_events_and_the_rota_gives_roles_fairly_without_pinging, on_postgres_meetings_are_discord_events_and_the_rota_gives_roles_fairly);

async fn meetings_and_the_rota(storage: Storage) {
    let (fake, clock, mut bot) = started_on(&storage, utc(2026, 12, 5, 12, 0)).await;

    for who in [ALICE, BOB, ADMIN] {
        let joined = rota(&fake, who, "join").await;
        let words = format!("{} joins the rota", who.name);
        assert!(content(&joined).contains(&words), "{joined}");
        // The group sees it in the channel, by name.
        assert!(said(&fake).last().is_some_and(|s| s.contains(&words)));
    }
    let again = rota(&fake, ALICE, "join").await;
    assert!(is_ephemeral(&again));
    assert_eq!(content(&again), "alice is already on the rota.");
    assert_eq!(said(&fake).len(), 3, "a refusal is the member's alone");

    let set = convene(&fake).await;
    assert!(is_ephemeral(&set));
    let words = content(&set);
    assert!(
        words.starts_with("Meetings set. Every 2 weeks on Thursday at 18:00 (Europe/London), from 17 December 2026."),
        "{words}"
    );
    let events = fake.scheduled_events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["entity_type"], 3);
    assert_eq!(
        events[0]["entity_metadata"]["location"],
        "Room 4, Friends Meeting House"
    );
    assert_eq!(events[0]["scheduled_start_time"], "2026-12-17T18:00:00Z");
    assert_eq!(events[0]["scheduled_end_time"], "2026-12-17T19:30:00Z");
    // The first meeting's roles, in the order members joined, by name.
    let roles = said(&fake)[3..].to_vec();
    assert_eq!(roles.len(), 1, "{roles:?}");
    assert!(
        roles[0].contains("presenting, alice; facilitating, bob; keeping time, admin"),
        "{roles:?}"
    );
    for post in posts(&fake) {
        assert_eq!(post["allowed_mentions"]["parse"], json!([]), "{post}");
    }

    let view = deferred_or_plain(&fake, BOB, "meeting").await;
    assert!(is_ephemeral(&view));
    let v = content(&view);
    assert!(
        v.starts_with("Next meeting: Thursday 17 December 2026, 18:00 GMT, at Room 4, Friends Meeting House, for 90 minutes."),
        "{v}"
    );
    assert!(
        v.contains("opens Monday 14 December 2026, 18:00 GMT, 3 days before."),
        "{v}"
    );

    // A swap happens only once both have asked for it.
    let offer = swap(&fake, ALICE, ADMIN).await;
    assert!(
        content(&offer).contains("The swap happens when admin runs `/rota swap` naming alice."),
        "{offer}"
    );
    let done = swap(&fake, ADMIN, ALICE).await;
    assert!(content(&done).starts_with("admin and alice swap"), "{done}");
    let shown = deferred_or_plain(&fake, BOB, "rota show").await;
    assert!(content(&shown).contains("presenting, admin"), "{shown}");

    // A move moves the event; a convenor is told.
    let moved = deferred(
        &fake,
        ADMIN,
        "convene",
        sub(
            "move",
            json!([
                text("date", "2026-12-17"),
                text("to_date", "2026-12-18"),
                text("to_time", "10:00")
            ]),
        ),
    )
    .await;
    assert!(
        content(&moved).contains("moves to Friday 18 December 2026, 10:00 GMT"),
        "{moved}"
    );
    // The group is told too, in the meetings' channel, pinging no one.
    assert!(
        said(&fake)
            .iter()
            .any(|s| s.contains("moves to Friday 18 December 2026, 10:00 GMT")),
        "{:?}",
        said(&fake)
    );
    let events = fake.scheduled_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["scheduled_start_time"], "2026-12-18T10:00:00Z");

    // Deleted by hand in Discord: cancelled here too, said in the channel,
    // and the next meeting gets its event; the roles carry over.
    let id = events[0]["id"].as_str().unwrap().to_string();
    fake.delete_event_by_hand(&id);
    fake.wait_until("the deletion said", || {
        said(&fake)
            .iter()
            .any(|s| s.contains("was deleted in Discord, so the meeting is cancelled here too"))
            .then_some(())
    })
    .await;
    let events = fake
        .wait_until("the next meeting's event", || {
            let events = fake.scheduled_events();
            (!events.is_empty()).then_some(events)
        })
        .await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["scheduled_start_time"], "2026-12-31T18:00:00Z");
    let v = content(&deferred_or_plain(&fake, BOB, "meeting").await);
    assert!(
        v.starts_with("The meeting of 17 December 2026 is cancelled.\nNext meeting: Thursday 31 December 2026, 18:00 GMT"),
        "{v}"
    );
    assert!(v.contains("presenting, admin"), "roles carried over: {v}");

    // Bob leaves the server; once the meeting has begun the next one's
    // roles go to those still here, and no one else is named.
    fake.member_leaves(BOB.id);
    clock.set(utc(2026, 12, 31, 18, 5));
    bot.ticked(utc(2026, 12, 31, 18, 5)).await;
    let last = said(&fake).last().cloned().unwrap_or_default();
    assert!(
        last.starts_with("The meeting on Thursday 14 January 2027, 18:00 GMT."),
        "{last}"
    );
    assert!(!last.contains("bob"), "{last}");
    assert!(last.contains("still needed, a timekeeper"), "{last}");

    // The meeting of 31 December held, alice's CPD record holds the role
    // she served at it, and no one else's.
    let id = fake.next_id();
    let cpd = json!([{ "name": "format", "type": 4, "value": 1 }]);
    fake.dispatch(
        "INTERACTION_CREATE",
        fixtures::command(id, ALICE, "reflections", sub("export", cpd)),
    );
    let export = fake.callback_for(&id.to_string()).await;
    assert!(is_ephemeral(export.json()));
    let (_, practice) = export
        .files
        .iter()
        .find(|(n, _)| n.starts_with("group-practice-2026-") && n.ends_with(".md"))
        .unwrap_or_else(|| panic!("a group practice file: {:?}", export.files));
    let practice = String::from_utf8_lossy(practice);
    let served: Vec<&str> = practice
        .lines()
        .filter(|l| l.starts_with("- Served as"))
        .collect();
    assert_eq!(
        served,
        ["- Served as timekeeper at the meeting of 2026-12-31."],
        "{practice}"
    );

    // Stopping removes the events to come.
    let stopped = deferred(&fake, ADMIN, "convene", sub("stop", json!([]))).await;
    assert!(
        content(&stopped).contains("The rota and who served when are kept"),
        "{stopped}"
    );
    let to_come: Vec<Value> = fake
        .scheduled_events()
        .into_iter()
        .filter(|e| e["scheduled_start_time"] == "2027-01-14T18:00:00Z")
        .collect();
    assert!(to_come.is_empty(), "{to_come:?}");

    bot.stop().await;
    fake.assert_bodies_valid();
}

/// `/meeting` and `/rota show`, privately.
async fn deferred_or_plain(fake: &FakeDiscord, who: Member, what: &str) -> Value {
    match what.split_once(' ') {
        Some((name, s)) => deferred(fake, who, name, sub(s, json!([]))).await,
        None => deferred(fake, who, what, json!([])).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_event_is_said_and_made_later_and_bad_settings_change_nothing() {
    let (fake, clock, mut bot) = started().await;

    // Every bad setting says what would work, and nothing is kept.
    for (options, expected) in [
        (set_options("17/12/2026"), "write it as YYYY-MM-DD"),
        (set_options("2026-12-01"), "choose a date and time to come"),
        (
            sub(
                "set",
                json!([text("date", "2026-12-17"), text("time", "18:00")]),
            ),
            "Say where the group meets",
        ),
        (
            sub(
                "set",
                json!([
                    text("date", "2026-12-17"),
                    text("time", "18:00"),
                    text("place", "x"),
                    int("every_weeks", 2),
                    int("monthly", 4)
                ]),
            ),
            "not both",
        ),
    ] {
        let answer = deferred(&fake, ADMIN, "convene", options).await;
        assert!(is_ephemeral(&answer));
        assert!(content(&answer).contains(expected), "{answer}");
    }
    let v = content(&deferred_or_plain(&fake, BOB, "meeting").await);
    assert!(v.starts_with("No meetings are set for this server."), "{v}");
    assert!(fake.scheduled_events().is_empty());

    // Without Create Events the convenor is told, and the meetings are kept.
    fake.fail_next(
        "POST",
        "/scheduled-events",
        403,
        json!({ "message": "Missing Permissions", "code": 50013 }),
        &[],
    );
    let set = convene(&fake).await;
    let words = content(&set);
    assert!(words.starts_with("Meetings set."), "{words}");
    assert!(
        words.contains("it needs the Create Events permission in this server (give"),
        "{words}"
    );
    // A later pass makes it, once.
    clock.set(utc(2026, 12, 5, 13, 0));
    bot.ticked(utc(2026, 12, 5, 13, 0)).await;
    assert_eq!(fake.scheduled_events().len(), 1);
    // No one on the rota: no roles posted.
    assert!(said(&fake).is_empty(), "{:?}", said(&fake));

    bot.stop().await;
    fake.assert_bodies_valid();
}

fn buttons(reply: &Value) -> Vec<String> {
    reply["data"]["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|b| b["custom_id"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_stays_private_until_shared_into_the_meetings_thread_and_reminders_come_once() {
    let (fake, clock, mut bot) = convened(&[ALICE, BOB]).await;
    let title = "Endings with a sponsor in the room";
    let text = "What the three-way contract left unsaid when the sponsor asked for a report.";
    fake.interact(fixtures::modal_submit(
        fake.next_id(),
        ALICE,
        "reflect:new:free",
        &[("title", title), ("text", text), ("tags", "C1.6")],
    ))
    .await;
    let agenda = |sub_name: &'static str, options: Value| sub(sub_name, options);

    // Before the agenda opens, bringing says when it opens.
    let early = fake
        .command(
            ALICE,
            "agenda",
            agenda("bring", json!([int("minutes", 20), int("reflection", 1)])),
        )
        .await;
    assert!(is_ephemeral(&early));
    assert!(
        content(&early).contains("opens Monday 14 December 2026, 18:00 GMT, 3 days before"),
        "{early}"
    );
    let remind = fake
        .command(ALICE, "agenda", agenda("remind", json!([int("hours", 24)])))
        .await;
    assert!(
        content(&remind).starts_with("You will get a direct message 24 hours before each meeting"),
        "{remind}"
    );

    // The agenda opens three days before, with a post and a thread.
    clock.set(utc(2026, 12, 14, 18, 0));
    bot.ticked(utc(2026, 12, 14, 18, 0)).await;
    assert!(
        said(&fake).iter().any(|s| s.starts_with(
            "The agenda for the meeting on Thursday 17 December 2026, 18:00 GMT is open."
        )),
        "{:?}",
        said(&fake)
    );
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.method == "POST" && r.path.ends_with("/threads"))
    );

    // Alice brings her reflection; the agenda shows only "an item from a member".
    let brought = fake
        .command(
            ALICE,
            "agenda",
            agenda("bring", json!([int("minutes", 20), int("reflection", 1)])),
        )
        .await;
    assert!(is_ephemeral(&brought));
    assert!(
        content(&brought).contains("the agenda shows an item from a member, 20 minutes"),
        "{brought}"
    );
    let shown = fake.command(BOB, "agenda", agenda("show", json!([]))).await;
    let shown = content(&shown);
    assert!(
        shown.contains("1. an item from a member (20 minutes)"),
        "{shown}"
    );
    assert!(
        !shown.contains("sponsor") && !shown.contains("#1"),
        "{shown}"
    );
    let bobs = fake
        .command(BOB, "agenda", agenda("share", json!([])))
        .await;
    assert!(
        content(&bobs).starts_with("You have no item on the next meeting's agenda"),
        "{bobs}"
    );
    let nothing_of_bob = fake
        .command(
            BOB,
            "agenda",
            agenda("bring", json!([int("minutes", 20), int("reflection", 1)])),
        )
        .await;
    assert!(
        content(&nothing_of_bob).starts_with("You have no reflection #1"),
        "another's reflection: {nothing_of_bob}"
    );

    // Shared only after the preview, into the meeting's thread (there is no
    // weekly thread in this server, so a post anywhere else would fail).
    let before = fake.created().len();
    let preview = fake
        .command(ALICE, "agenda", agenda("share", json!([])))
        .await;
    assert!(is_ephemeral(&preview));
    assert!(content(&preview).contains("in the thread of the meeting on Thursday 17 December 2026, 18:00 GMT if you share anonymously"), "{preview}");
    assert_eq!(preview["data"]["embeds"][0]["description"], text);
    assert_eq!(fake.created().len(), before, "a preview posts nothing");
    let anon = buttons(&preview)
        .into_iter()
        .find(|b| b.starts_with("share:") && b.contains(":anon:"))
        .expect("a share button");
    let done = fake
        .interact_deferred(fixtures::button(fake.next_id(), ALICE, &anon))
        .await;
    assert!(
        content(&done).starts_with(
            "Shared reflection #1 into the thread of the meeting on Thursday 17 December 2026"
        ),
        "{done}"
    );
    let post = fake.created().last().cloned().expect("posted");
    assert_ne!(post.channel, CHANNEL_ID, "into the thread, not the channel");
    // Bob's click on Alice's button shares nothing.
    let theirs = fake
        .interact_deferred(fixtures::button(fake.next_id(), BOB, &anon))
        .await;
    assert!(!content(&theirs).starts_with("Shared"), "{theirs}");

    // The reminder comes once, 24 hours before, by direct message.
    clock.set(utc(2026, 12, 16, 18, 0));
    bot.ticked(utc(2026, 12, 16, 18, 0)).await;
    clock.set(utc(2026, 12, 16, 19, 0));
    bot.ticked(utc(2026, 12, 16, 19, 0)).await;
    let dms: Vec<Value> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v10/users/@me/channels")
        .map(|r| r.json().clone())
        .collect();
    assert_eq!(dms.len(), 1, "{dms:?}");
    assert_eq!(dms[0]["recipient_id"], ALICE.id.to_string());
    let reminder = fake
        .requests()
        .into_iter()
        .filter_map(|r| r.json()["content"].as_str().map(str::to_string))
        .find(|c| c.starts_with("A reminder: the group meets"))
        .expect("the reminder's words");
    assert!(
        reminder.contains("Thursday 17 December 2026, 18:00 GMT, at Room 4"),
        "{reminder}"
    );
    assert!(reminder.contains("You are bringing an item."), "{reminder}");

    // Withdrawn from the thread by its author.
    let withdrawn = fake
        .interact_deferred(fixtures::button(fake.next_id(), ALICE, "withdraw:1"))
        .await;
    assert!(
        content(&withdrawn).contains("1 shared post in the group's threads was withdrawn"),
        "{withdrawn}"
    );
    assert!(
        fake.created().iter().all(|c| c.id != post.id),
        "the post is gone"
    );

    bot.stop().await;
    fake.assert_bodies_valid();
}

on_both_engines!(the_rota_across_a_restart: the_rota_and_the_events_survive_a_restart_a_lost_answer_and_the_clocks_going_forward, on_postgres_the_rota_and_the_events_survive_a_restart_and_a_lost_answer);

async fn the_rota_across_a_restart(storage: Storage) {
    let (fake, clock, bot) = started_on(&storage, utc(2027, 3, 10, 12, 0)).await;
    join_rota(&fake, &[ALICE, BOB]).await;
    // Discord makes the event but its answer is lost: the bot cannot know
    // its id, and does not try again blindly.
    fake.fail_next_after_acting("POST", "/scheduled-events", 500);
    let set = deferred(&fake, ADMIN, "convene", set_options("2027-03-18")).await;
    assert!(
        content(&set).contains("did not take the meeting's event just now"),
        "{set}"
    );
    assert_eq!(fake.scheduled_events().len(), 1, "made once by Discord");
    bot.stop().await;

    // Restarted: the event Discord made is found and kept, not made twice;
    // the rota and its roles are as they were.
    clock.set(utc(2027, 3, 10, 13, 0));
    let mut bot = Bot::start_on(&fake, &storage, clock.clone()).await;
    bot.ticked(utc(2027, 3, 10, 13, 0)).await;
    assert_eq!(
        fake.scheduled_events().len(),
        1,
        "{:?}",
        fake.scheduled_events()
    );
    let v = content(&deferred_or_plain(&fake, BOB, "meeting").await);
    assert!(v.contains("presenting, alice; facilitating, bob"), "{v}");

    // Once it has begun, the next meeting (after the clocks go forward) is
    // an event at 18:00 summer time, and the roles go round.
    clock.set(utc(2027, 3, 18, 18, 5));
    bot.ticked(utc(2027, 3, 18, 18, 5)).await;
    let starts: Vec<Value> = fake
        .scheduled_events()
        .iter()
        .map(|e| e["scheduled_start_time"].clone())
        .collect();
    assert!(
        starts.contains(&json!("2027-04-01T17:00:00Z")),
        "{starts:?}"
    );
    let last = said(&fake).last().cloned().unwrap_or_default();
    assert!(
        last.starts_with("The meeting on Thursday 1 April 2027, 18:00 BST."),
        "{last}"
    );
    assert!(
        last.contains("presenting, bob; facilitating, alice"),
        "{last}"
    );
    bot.stop().await;
    fake.assert_bodies_valid();
}

/// The ids of a modal's fields, in order.
fn modal_fields(modal: &Value) -> Vec<String> {
    modal["data"]["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f["custom_id"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reflection_is_brought_from_its_own_view_and_a_refused_form_gives_every_word_back() {
    let (fake, clock, mut bot) = convened(&[]).await;
    fake.interact(fixtures::modal_submit(
        fake.next_id(),
        ALICE,
        "reflect:new:free",
        &[
            ("title", "A sponsor's report"),
            ("text", "What the contract left unsaid."),
            ("tags", "C1.6"),
        ],
    ))
    .await;
    let view = |who| fake.interact(fixtures::button(fake.next_id(), who, "view:1"));

    // Before the agenda opens there is nothing to bring it to: no button,
    // and an old button says when the agenda opens.
    let closed = view(ALICE).await;
    assert!(
        buttons(&closed).iter().all(|b| !b.starts_with("bring:")),
        "{closed}"
    );
    let early = fake
        .interact(fixtures::button(fake.next_id(), ALICE, "bring:1"))
        .await;
    assert_ne!(early["type"], 9, "no form: {early}");
    assert!(
        content(&early).contains("opens Monday 14 December 2026"),
        "{early}"
    );
    assert!(content(&early).ends_with("Nothing was brought."), "{early}");

    clock.set(utc(2026, 12, 14, 18, 0));
    bot.ticked(utc(2026, 12, 14, 18, 0)).await;
    let open = view(ALICE).await;
    assert!(is_ephemeral(&open));
    assert!(buttons(&open).contains(&"bring:1".to_string()), "{open}");
    let form = fake
        .interact(fixtures::button(fake.next_id(), ALICE, "bring:1"))
        .await;
    assert_eq!(form["type"], 9, "a form: {form}");
    assert_eq!(form["data"]["custom_id"], "bring:1");
    assert_eq!(modal_fields(&form), ["minutes", "show_as"]);
    // Another member's click on the same button opens nothing of hers.
    let bobs = fake
        .interact(fixtures::button(fake.next_id(), BOB, "bring:1"))
        .await;
    assert_ne!(bobs["type"], 9, "{bobs}");
    assert!(
        content(&bobs).starts_with("You have no reflection #1"),
        "{bobs}"
    );

    // Every way the form can be refused gives back what was typed, and
    // brings nothing.
    let agenda_line = "Endings, and a report to a sponsor";
    for (minutes, label, says) in [
        (
            "twenty",
            agenda_line,
            "The minutes must be a whole number from 5 to 120",
        ),
        ("500", agenda_line, "An item can ask for 5 to 120 minutes."),
        (
            "20",
            "Jane Smith's report to her manager at Acme",
            "nothing was brought",
        ),
    ] {
        let refused = fake
            .interact(fixtures::modal_submit(
                fake.next_id(),
                ALICE,
                "bring:1",
                &[("minutes", minutes), ("show_as", label)],
            ))
            .await;
        assert!(is_ephemeral(&refused), "{refused}");
        let words = content(&refused);
        assert!(words.contains(says), "{minutes}/{label}: {words}");
        assert!(words.contains(label), "every word given back: {words}");
        let shown = fake.command(BOB, "agenda", sub("show", json!([]))).await;
        assert!(content(&shown).contains("nothing brought yet"), "{shown}");
    }

    let brought = fake
        .interact(fixtures::modal_submit(
            fake.next_id(),
            ALICE,
            "bring:1",
            &[("minutes", " 25 "), ("show_as", "")],
        ))
        .await;
    assert!(is_ephemeral(&brought));
    assert!(
        content(&brought).contains(
            "the agenda shows an item from a member, 25 minutes. It comes from your reflection #1"
        ),
        "{brought}"
    );
    let shown = content(&fake.command(BOB, "agenda", sub("show", json!([]))).await);
    assert!(
        shown.contains("1. an item from a member (25 minutes)"),
        "{shown}"
    );
    assert!(!shown.contains("sponsor"), "{shown}");
    assert!(fake.requests().iter().all(|r| {
        r.json()["allowed_mentions"].is_null() || r.json()["allowed_mentions"]["parse"] == json!([])
    }));

    bot.stop().await;
    fake.assert_bodies_valid();
}

const CAROL: Member = Member {
    id: 100000000000000015,
    name: "carol",
    permissions: "0",
    bot: false,
};

/// How many times the bot has asked Discord about a server's members.
pub(crate) fn members_asked(fake: &FakeDiscord) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains("/members/"))
        .count()
}

/// Waits until the bot asks about the members once more than `before`.
pub(crate) async fn asked_again(fake: &FakeDiscord, before: usize) {
    fake.wait_until("a change asking Discord about the members", || {
        (members_asked(fake) > before).then_some(())
    })
    .await;
}

on_both_engines!(forget_me_mid_change: a_forget_me_while_a_rota_change_waits_on_discord_is_never_undone, on_postgres_a_forget_me_while_a_rota_change_waits_on_discord_is_never_undone);

/// A rota change reads the server's record, asks Discord who is in the
/// server, then keeps the record. A forget-me in that wait must not be
/// undone by the change writing back the record it read.
async fn forget_me_mid_change(storage: Storage) {
    let (fake, _, bot) = started_on(&storage, utc(2026, 11, 24, 10, 0)).await;
    rota(&fake, ALICE, "join").await;
    let before = members_asked(&fake);
    // Discord answers the change's question about the members slowly.
    fake.hang_next("GET", "/members/", std::time::Duration::from_millis(1500));
    let (joined, forgotten) = tokio::join!(rota(&fake, BOB, "join"), async {
        asked_again(&fake, before).await;
        fake.interact_deferred(fixtures::button(fake.next_id(), ALICE, "forget:confirm"))
            .await
    });
    assert!(content(&joined).contains("bob"), "{joined}");
    assert!(is_ephemeral(&forgotten), "{forgotten}");
    let shown = content(&rota(&fake, ADMIN, "show").await);
    assert!(shown.contains("bob"), "{shown}");
    assert!(
        !shown.contains("alice"),
        "forgotten stays forgotten: {shown}"
    );
    bot.stop().await;
}

/// The same for an item brought by its form: a forget-me that takes the
/// meetings lock first erases the reflection, and the form that was
/// waiting for the lock then finds nothing to bring; no item of the
/// forgotten member's comes onto the agenda after the forget-me.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_bringing_a_reflection_waits_for_a_forget_me_and_brings_nothing() {
    let (fake, clock, mut bot) = convened(&[]).await;
    rota(&fake, ALICE, "join").await;
    fake.interact(fixtures::modal_submit(
        fake.next_id(),
        ALICE,
        "reflect:new:free",
        &[("title", "Endings"), ("text", "What the ending stirred.")],
    ))
    .await;
    clock.set(utc(2026, 12, 14, 18, 0));
    bot.ticked(utc(2026, 12, 14, 18, 0)).await;
    let before = members_asked(&fake);
    // Bob's rota change holds the meetings lock while Discord answers slowly;
    // Alice's forget-me waits for it, and her Bring form after that.
    fake.hang_next("GET", "/members/", std::time::Duration::from_millis(1500));
    let (_, forgotten, brought) = tokio::join!(
        rota(&fake, BOB, "join"),
        async {
            asked_again(&fake, before).await;
            fake.interact_deferred(fixtures::button(fake.next_id(), ALICE, "forget:confirm"))
                .await
        },
        async {
            asked_again(&fake, before).await;
            tokio::time::sleep(std::time::Duration::from_millis(400)).await;
            fake.interact(fixtures::modal_submit(
                fake.next_id(),
                ALICE,
                "bring:1",
                &[("minutes", "20"), ("show_as", "An ending")],
            ))
            .await
        }
    );
    assert!(is_ephemeral(&forgotten), "{forgotten}");
    let words = content(&brought);
    assert!(words.starts_with("You have no reflection #1"), "{words}");
    assert!(
        words.contains("An ending"),
        "every word given back: {words}"
    );
    let shown = content(&fake.command(BOB, "agenda", sub("show", json!([]))).await);
    assert!(shown.contains("nothing brought yet"), "{shown}");
    bot.stop().await;
}

on_both_engines!(the_quarter_counted: the_convenor_sees_the_quarter_counted_only_from_three_members_and_forget_me_takes_one_out, on_postgres_the_quarter_is_counted_from_three_members_and_forget_me_takes_one_out);

async fn the_quarter_counted(storage: Storage) {
    let (fake, clock, mut bot) = started_on(&storage, utc(2026, 12, 5, 12, 0)).await;
    convene(&fake).await;
    let view = || deferred(&fake, ADMIN, "convene", sub("view", json!([])));
    let members = [ALICE, BOB, CAROL];
    for (i, who) in members.into_iter().enumerate() {
        let tags = if i == 0 { "C1.6, I3.1" } else { "C1.6" };
        fake.interact(fixtures::modal_submit(
            fake.next_id(),
            who,
            "reflect:new:free",
            &[
                ("title", "Contracting"),
                ("text", "What the contract left unsaid."),
                ("tags", tags),
            ],
        ))
        .await;
        if i == 1 {
            // Two members reflected: not yet counted.
            let two = content(&view().await);
            assert!(
                two.contains("Areas reflected on: none yet by 3 members or more."),
                "{two}"
            );
        }
    }
    let first = view().await;
    assert!(is_ephemeral(&first));
    let first = content(&first);
    assert!(first.starts_with("The group this quarter (1 October to 31 December 2026), counted only where at least 3 members took part, never per member."), "{first}");
    assert!(
        first.contains("\n• Core 1 (") && first.contains("): 3 members"),
        "{first}"
    );
    assert!(first.contains("Meetings held: 0"), "{first}");
    assert!(
        first.contains("Items brought: not shown until at least 3 members"),
        "{first}"
    );
    // Integration area 3 had one member: among the areas not yet reached.
    let not_yet = first
        .split("Not yet reflected on by 3 members:")
        .nth(1)
        .unwrap_or_default();
    assert!(
        not_yet.contains("Integration 3 (") && !not_yet.contains("Core 1 ("),
        "{first}"
    );

    // Each brings an item to the meeting of 17 December, which is held.
    clock.set(utc(2026, 12, 14, 18, 0));
    bot.ticked(utc(2026, 12, 14, 18, 0)).await;
    for who in members {
        let brought = fake
            .command(who, "agenda", sub("bring", json!([int("minutes", 10)])))
            .await;
        assert!(
            content(&brought).starts_with("Brought to the meeting"),
            "{brought}"
        );
    }
    for at in [utc(2026, 12, 17, 18, 0), utc(2026, 12, 18, 9, 0)] {
        clock.set(at);
        bot.ticked(at).await;
    }
    let held = content(&view().await);
    assert!(held.contains("Meetings held: 1."), "{held}");
    assert!(held.contains("Items brought: 3, by 3 members."), "{held}");
    for who in [ALICE, BOB, CAROL, ADMIN] {
        assert!(
            !held.contains(who.name) && !held.contains(&who.id.to_string()),
            "{held}"
        );
    }

    // Carol is on the rota and asked for meeting reminders.
    rota(&fake, CAROL, "join").await;
    let remind = json!([{ "name": "hours", "type": 4, "value": 24 }]);
    fake.command(CAROL, "agenda", sub("remind", remind)).await;
    // The fake server does not show Carol's name: she is "a member".
    let on_the_rota = "On the rota, in the order they joined: a member.";
    let before = content(&rota(&fake, ADMIN, "show").await);
    assert!(before.starts_with(on_the_rota), "{before}");

    // Carol is forgotten: out of every count, off the rota, no reminders.
    let forgotten = fake
        .interact_deferred(fixtures::button(fake.next_id(), CAROL, "forget:confirm"))
        .await;
    assert!(is_ephemeral(&forgotten), "{forgotten}");
    let after = content(&view().await);
    assert!(after.contains("Meetings held: 1."), "{after}");
    assert!(
        after.contains("Items brought: not shown until at least 3 members"),
        "{after}"
    );
    assert!(
        after.contains("Areas reflected on: none yet by 3 members or more."),
        "{after}"
    );
    let rota_after = content(&rota(&fake, ADMIN, "show").await);
    assert!(
        rota_after.starts_with("No one is on the rota yet"),
        "{rota_after}"
    );
    let reminders = content(
        &fake
            .command(CAROL, "agenda", sub("remind-off", json!([])))
            .await,
    );
    assert_eq!(reminders, "You had no meeting reminders.");

    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_presentation_is_brought_to_the_agenda_and_shared_only_as_previewed() {
    let (fake, clock, mut bot) = convened(&[]).await;
    let question = "How do I end well with a long-standing client whose sponsor wants a report?";
    fake.interact(fixtures::modal_submit(
        fake.next_id(),
        ALICE,
        "present:short:0:new",
        &[("question", question)],
    ))
    .await;
    clock.set(utc(2026, 12, 14, 18, 0));
    bot.ticked(utc(2026, 12, 14, 18, 0)).await;
    let agenda = |who, options: Value| fake.command(who, "agenda", sub("bring", options));

    let both = agenda(
        ALICE,
        json!([
            int("minutes", 20),
            int("reflection", 1),
            int("presentation", 1)
        ]),
    )
    .await;
    assert!(content(&both).contains("not both"), "{both}");
    let bobs = agenda(BOB, json!([int("minutes", 20), int("presentation", 1)])).await;
    assert!(
        content(&bobs).starts_with("You have no case presentation #1"),
        "{bobs}"
    );
    let brought = agenda(ALICE, json!([int("minutes", 20), int("presentation", 1)])).await;
    assert!(is_ephemeral(&brought));
    assert!(
        content(&brought).contains("It comes from your case presentation #1, which stays private"),
        "{brought}"
    );
    let shown = content(&fake.command(BOB, "agenda", sub("show", json!([]))).await);
    assert!(
        shown.contains("1. an item from a member (20 minutes)"),
        "{shown}"
    );
    assert!(!shown.contains("sponsor"), "{shown}");

    // Its own view offers to bring it; another member's click opens nothing.
    let view = fake
        .command(ALICE, "present", sub("view", json!([int("number", 1)])))
        .await;
    assert!(
        buttons(&view).contains(&"bring-presentation:1".to_string()),
        "{view}"
    );
    let bobs_click = fake
        .interact(fixtures::button(
            fake.next_id(),
            BOB,
            "bring-presentation:1",
        ))
        .await;
    assert_ne!(bobs_click["type"], 9, "{bobs_click}");

    // `/agenda share` previews it privately, exactly as it would be
    // posted, and posts nothing.
    let before = fake.created().len();
    let preview = fake.command(ALICE, "agenda", sub("share", json!([]))).await;
    assert!(is_ephemeral(&preview));
    assert!(
        content(&preview).contains("in the thread of the meeting on Thursday 17 December 2026"),
        "{preview}"
    );
    let previewed = preview["data"]["embeds"].clone();
    assert!(previewed.to_string().contains(question), "{preview}");
    assert_eq!(previewed[0]["author"]["name"], "Shared by a member");
    assert_eq!(fake.created().len(), before, "a preview posts nothing");
    let anon = buttons(&preview)
        .into_iter()
        .find(|b| b.starts_with("share-case:1:anon:"))
        .expect("a share button");
    assert!(buttons(&preview).contains(&"cancel:share".to_string()));

    // Bob has nothing to preview, and Alice's button shares nothing for him.
    let bobs = fake.command(BOB, "agenda", sub("share", json!([]))).await;
    assert!(
        content(&bobs).starts_with("You have no item on the next meeting's agenda"),
        "{bobs}"
    );
    assert!(!bobs.to_string().contains("sponsor"), "{bobs}");
    let theirs = fake
        .interact_deferred(fixtures::button(fake.next_id(), BOB, &anon))
        .await;
    assert!(
        content(&theirs).starts_with("You have no case presentation #1"),
        "{theirs}"
    );
    assert_eq!(fake.created().len(), before);

    // Shared: into the meeting's thread, exactly as previewed, pinging no one.
    let done = fake
        .interact_deferred(fixtures::button(fake.next_id(), ALICE, &anon))
        .await;
    assert!(
        content(&done).starts_with("Shared case presentation #1 into the thread of the meeting on Thursday 17 December 2026"),
        "{done}"
    );
    let post = fake.created().last().cloned().expect("posted");
    assert_ne!(post.channel, CHANNEL_ID, "into the thread, not the channel");
    let body = fake
        .requests()
        .into_iter()
        .rev()
        .find(|r| {
            r.method == "POST"
                && r.path
                    .ends_with(&format!("/channels/{}/messages", post.channel))
        })
        .expect("the post's request")
        .json()
        .clone();
    assert_eq!(
        body["embeds"], previewed,
        "what was previewed is what is posted"
    );
    assert_eq!(body["allowed_mentions"]["parse"], json!([]));
    assert!(!body.to_string().contains("alice"), "{body}");
    let again = fake
        .interact_deferred(fixtures::button(fake.next_id(), ALICE, &anon))
        .await;
    assert!(content(&again).contains("already shared"), "{again}");
    assert_eq!(fake.created().len(), before + 1, "no double post");

    // Its view says so and offers the withdrawal, which deletes the post.
    let view = fake
        .command(ALICE, "present", sub("view", json!([int("number", 1)])))
        .await;
    assert!(
        view.to_string()
            .contains("In the meeting's thread anonymously"),
        "{view}"
    );
    assert!(
        buttons(&view).contains(&"withdraw-case:1".to_string()),
        "{view}"
    );
    let bobs_withdraw = fake
        .interact_deferred(fixtures::button(fake.next_id(), BOB, "withdraw-case:1"))
        .await;
    assert!(content(&bobs_withdraw).starts_with("You have no case presentation #1"));
    assert!(fake.created().iter().any(|c| c.id == post.id));
    let withdrawn = fake
        .interact_deferred(fixtures::button(fake.next_id(), ALICE, "withdraw-case:1"))
        .await;
    assert!(
        content(&withdrawn).contains("1 shared post in the group's threads was withdrawn. The presentation itself is still yours"),
        "{withdrawn}"
    );
    assert!(
        fake.created().iter().all(|c| c.id != post.id),
        "the post is gone"
    );
    let twice = fake
        .interact_deferred(fixtures::button(fake.next_id(), ALICE, "withdraw-case:1"))
        .await;
    assert!(content(&twice).contains("not shared anywhere"), "{twice}");

    bot.stop().await;
    fake.assert_bodies_valid();
}

/// A case presentation brought to a meeting and shared: Cancel leaves
/// the preview with nothing posted; a preview made stale (the
/// presentation deleted, or the item changed to another) posts nothing
/// and says so; deleting the presentation and forget-me take its post
/// down, and while the post cannot be withdrawn the presentation is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_presentation_goes_with_a_delete_or_forget_me_and_a_stale_preview_posts_nothing() {
    let (fake, clock, mut bot) = convened(&[]).await;
    for question in ["First question?", "Second question?", "Third question?"] {
        fake.interact(fixtures::modal_submit(
            fake.next_id(),
            ALICE,
            "present:short:0:new",
            &[("question", question)],
        ))
        .await;
    }
    clock.set(utc(2026, 12, 14, 18, 0));
    bot.ticked(utc(2026, 12, 14, 18, 0)).await;
    let bring = |n: u64| {
        fake.command(
            ALICE,
            "agenda",
            sub("bring", json!([int("minutes", 20), int("presentation", n)])),
        )
    };
    let share_button = |preview: &Value, how: &str| {
        buttons(preview)
            .into_iter()
            .find(|b| b.starts_with("share-case:") && b.contains(how))
            .unwrap_or_else(|| panic!("no share button in {preview}"))
    };
    let press = |id: String| fake.interact_deferred(fixtures::button(fake.next_id(), ALICE, &id));
    bring(1).await;
    let preview = fake.command(ALICE, "agenda", sub("share", json!([]))).await;
    let first = share_button(&preview, ":anon:");

    // Cancel: the preview gives way to words saying nothing was shared.
    let before = fake.created().len();
    let cancelled = fake
        .interact(fixtures::button(fake.next_id(), ALICE, "cancel:share"))
        .await;
    assert_eq!(
        cancelled["type"], 7,
        "the preview itself changes: {cancelled}"
    );
    assert!(
        content(&cancelled).starts_with("Nothing was shared."),
        "{cancelled}"
    );
    assert_eq!(cancelled["data"]["components"], json!([]));
    assert_eq!(cancelled["data"]["embeds"], json!([]));
    assert_eq!(fake.created().len(), before);

    // Shared, then the presentation deleted: its post goes with it.
    press(first.clone()).await;
    let post = fake.created().last().cloned().expect("posted");
    assert_eq!(fake.created().len(), before + 1);
    // While its post cannot be withdrawn, the presentation is kept (so the
    // post can be withdrawn later) unless Alice says otherwise.
    let missing = || json!({ "message": "Missing Access", "code": 50001 });
    fake.fail_next("DELETE", "/messages/", 403, missing(), &[]);
    let kept = press("present-delete:1".into()).await;
    assert!(
        content(&kept).starts_with("Case presentation #1 is not deleted yet")
            && content(&kept).contains("https://discord.com/channels/"),
        "{kept}"
    );
    assert_eq!(buttons(&kept), ["delete-anyway-case:1"]);
    let view = fake
        .command(ALICE, "present", sub("view", json!([int("number", 1)])))
        .await;
    assert!(
        buttons(&view).contains(&"withdraw-case:1".to_string()),
        "{view}"
    );
    let deleted = press("present-delete:1".into()).await;
    assert!(
        content(&deleted).starts_with("Case presentation #1 is deleted.")
            && content(&deleted).contains("1 shared post in the group's threads was withdrawn."),
        "{deleted}"
    );
    assert!(
        fake.created().iter().all(|c| c.id != post.id),
        "the post is gone"
    );

    // The preview's button, now stale, posts nothing and says so.
    let stale = press(first).await;
    assert!(
        content(&stale).starts_with("You have no case presentation #1")
            && content(&stale).ends_with("Nothing was shared."),
        "{stale}"
    );
    assert_eq!(fake.created().len(), before);

    // A preview of #2, then the item changed to #3: #2's button posts nothing.
    bring(2).await;
    let preview = fake.command(ALICE, "agenda", sub("share", json!([]))).await;
    let second = share_button(&preview, ":named:");
    bring(3).await;
    let moved = press(second).await;
    assert!(
        content(&moved).starts_with("Case presentation #2 is not on the next meeting's agenda")
            && content(&moved).ends_with("Nothing was shared."),
        "{moved}"
    );
    assert_eq!(fake.created().len(), before);

    // #3 shared with her name; forget-me takes it down.
    let preview = fake.command(ALICE, "agenda", sub("share", json!([]))).await;
    press(share_button(&preview, ":named:")).await;
    let post = fake.created().last().cloned().expect("posted");
    let named = fake
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.method == "POST" && r.json().to_string().contains("Third question?"))
        .expect("the post's request")
        .json()
        .clone();
    assert_ne!(named["embeds"][0]["author"]["name"], "Shared by a member");
    assert_eq!(named["allowed_mentions"]["parse"], json!([]));
    let forgot = press("forget:confirm".into()).await;
    assert!(
        content(&forgot).contains("1 shared post in the group's threads was withdrawn."),
        "{forgot}"
    );
    assert!(
        fake.created().iter().all(|c| c.id != post.id),
        "the post is gone"
    );
    assert_eq!(fake.created().len(), before);

    bot.stop().await;
    fake.assert_bodies_valid();
}

/// A seven-eyed presentation longer than one Discord post holds: the
/// preview shows each post as its own private message with the buttons
/// under the last, Share posts exactly those, whole and in order (or, if
/// Discord refuses one part way, takes down those already up and says
/// nothing was shared), and a withdrawal takes every one of them down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_presentation_is_previewed_and_shared_whole_in_several_posts_and_withdrawn_together()
{
    let (fake, clock, mut bot) = convened(&[]).await;
    let long = |k: &str| {
        format!(
            "{k}: {}",
            "I noticed how the pace of our work slowed when we came near the ending. ".repeat(20)
        )
    };
    let one: Vec<(String, String)> = [
        "client",
        "interventions",
        "relationship",
        "practitioner",
        "parallel",
    ]
    .iter()
    .map(|k| (k.to_string(), long(k)))
    .collect();
    let two: Vec<(String, String)> = ["here_and_now", "context", "question"]
        .iter()
        .map(|k| (k.to_string(), long(k)))
        .collect();
    for (step, fields) in [
        ("present:seven-eyed:0:new", &one),
        ("present:seven-eyed:1:new", &two),
    ] {
        let fields: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        fake.interact(fixtures::modal_submit(fake.next_id(), ALICE, step, &fields))
            .await;
    }
    clock.set(utc(2026, 12, 14, 18, 0));
    bot.ticked(utc(2026, 12, 14, 18, 0)).await;
    fake.command(
        ALICE,
        "agenda",
        sub("bring", json!([int("minutes", 30), int("presentation", 1)])),
    )
    .await;

    // The preview: the answer, then a private message for each further
    // post, the buttons under the last.
    let id = fake.next_id();
    let first = fake
        .interact(fixtures::command(
            id,
            ALICE,
            "agenda",
            sub("share", json!([])),
        ))
        .await;
    assert!(is_ephemeral(&first));
    assert!(
        content(&first).contains("posts, one after another"),
        "{first}"
    );
    let token = fixtures::token(id);
    let is_followup = |r: &crate::fake_discord::Request| {
        r.method == "POST" && r.path.starts_with("/api/v10/webhooks/") && r.path.contains(&token)
    };
    fake.wait_for("the preview's last message", |r| {
        is_followup(r)
            && r.json()["components"]
                .as_array()
                .is_some_and(|c| !c.is_empty())
    })
    .await;
    let followups: Vec<Value> = fake
        .requests()
        .into_iter()
        .filter(is_followup)
        .map(|r| r.json().clone())
        .collect();
    assert!(!followups.is_empty());
    let mut previewed = vec![first["data"]["embeds"].clone()];
    for f in &followups {
        assert_eq!(f["flags"], 64, "private: {f}");
        assert_eq!(f["allowed_mentions"]["parse"], json!([]));
        previewed.push(f["embeds"].clone());
    }
    let all_words = previewed.iter().map(Value::to_string).collect::<String>();
    for (k, v) in one.iter().chain(&two) {
        assert!(all_words.contains(v.trim()), "{k} is shown whole");
    }
    let last = json!({ "data": followups.last().cloned().unwrap_or_default() });
    let anon = buttons(&last)
        .into_iter()
        .find(|b| b.starts_with("share-case:1:anon:"))
        .expect("the share button under the last message");
    assert!(
        buttons(&first).is_empty(),
        "no button before the whole is shown"
    );

    // If Discord refuses a post part way, what went up comes down and
    // nothing is shared.
    let before = fake.created().len();
    let missing = json!({ "message": "Missing Access", "code": 50001 });
    fake.fail_after("POST", "/messages", 1, 403, missing);
    let refused = fake
        .interact_deferred(fixtures::button(fake.next_id(), ALICE, &anon))
        .await;
    assert!(
        content(&refused).ends_with("Nothing was shared."),
        "{refused}"
    );
    assert_eq!(
        fake.created().len(),
        before,
        "the part posted is taken down"
    );
    let view = fake
        .command(ALICE, "present", sub("view", json!([int("number", 1)])))
        .await;
    assert!(
        !buttons(&view).contains(&"withdraw-case:1".to_string()),
        "{view}"
    );

    // Shared: the same posts, in order, into the meeting's thread.
    let done = fake
        .interact_deferred(fixtures::button(fake.next_id(), ALICE, &anon))
        .await;
    assert!(
        content(&done).starts_with("Shared case presentation #1"),
        "{done}"
    );
    let created = fake.created();
    assert_eq!(created.len(), before + previewed.len());
    let thread = created
        .last()
        .map(|c| c.channel.clone())
        .unwrap_or_default();
    assert_ne!(thread, CHANNEL_ID.to_string());
    let path = format!("/api/v10/channels/{thread}/messages");
    let all_posted: Vec<Value> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .map(|r| r.json().clone())
        .collect();
    // The last attempt's posts (the refused attempt made two requests).
    let posted = all_posted[all_posted.len() - previewed.len()..].to_vec();
    assert_eq!(
        posted
            .iter()
            .map(|p| p["embeds"].clone())
            .collect::<Vec<_>>(),
        previewed,
        "what was previewed is what is posted"
    );
    assert!(
        posted
            .iter()
            .all(|p| p["allowed_mentions"]["parse"] == json!([]))
    );

    // Withdrawn together.
    let withdrawn = fake
        .interact_deferred(fixtures::button(fake.next_id(), ALICE, "withdraw-case:1"))
        .await;
    assert!(
        content(&withdrawn).contains(&format!(
            "{} shared posts in the group's threads were withdrawn.",
            previewed.len()
        )),
        "{withdrawn}"
    );
    assert_eq!(fake.created().len(), before);

    bot.stop().await;
    fake.assert_bodies_valid();
}

/// The voice channel the group meets in, in the tests below.
const VOICE: &str = "500000000000000077";

/// `/convene set` from the convenor naming [`VOICE`], with the channel as
/// Discord resolves it for the option.
fn set_in_voice(fake: &FakeDiscord, date: &str) -> Value {
    let options = sub(
        "set",
        json!([
            text("date", date),
            text("time", "18:00"),
            text("timezone", "Europe/London"),
            { "name": "voice", "type": 7, "value": VOICE },
            int("agenda_days", 3),
        ]),
    );
    let mut interaction = fixtures::command(fake.next_id(), ADMIN, "convene", options);
    interaction["data"]["resolved"] = json!({ "channels": { VOICE: {
        "id": VOICE, "name": "Meeting room", "type": 2, "permissions": "2248473465835073"
    } } });
    interaction
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_in_a_voice_channel_is_an_event_there_and_a_refusal_names_what_it_needs() {
    let (fake, clock, mut bot) = started().await;

    // Only voice channels are offered: an event's voice type is not a stage's.
    let put = fake
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT" && r.path.ends_with("/commands"))
        .expect("the commands registered");
    let voice_option = put
        .json()
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "convene"))
        .and_then(|c| c["options"].as_array())
        .and_then(|s| s.iter().find(|s| s["name"] == "set"))
        .and_then(|s| s["options"].as_array())
        .and_then(|o| o.iter().find(|o| o["name"] == "voice"))
        .cloned()
        .expect("the voice option");
    assert_eq!(voice_option["channel_types"], json!([2]), "{voice_option}");

    // Refused: the convenor is told what the bot needs, there and in the channel.
    fake.fail_next(
        "POST",
        "/scheduled-events",
        403,
        json!({ "message": "Missing Permissions", "code": 50013 }),
        &[],
    );
    let set = answered_later(&fake, set_in_voice(&fake, "2026-12-17")).await;
    assert!(is_ephemeral(&set));
    let words = content(&set);
    assert!(words.starts_with("Meetings set."), "{words}");
    assert!(
        words.contains(&format!(
            "it needs the Create Events permission in this server, and View Channel and Connect in <#{VOICE}>"
        )),
        "{words}"
    );
    assert!(!words.contains("Manage Events"), "{words}");

    // Made on a later pass: an event of the voice type in that channel,
    // with no place of its own.
    clock.set(utc(2026, 12, 5, 13, 0));
    bot.ticked(utc(2026, 12, 5, 13, 0)).await;
    let bodies: Vec<Value> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/scheduled-events"))
        .map(|r| r.json().clone())
        .collect();
    assert_eq!(bodies.len(), 2, "refused once, then made: {bodies:?}");
    for body in &bodies {
        assert_eq!(body["entity_type"], 2, "{body}");
        assert_eq!(body["channel_id"], VOICE, "{body}");
        assert!(body.get("entity_metadata").is_none(), "{body}");
        assert_eq!(body["scheduled_start_time"], "2026-12-17T18:00:00Z");
    }
    let events = fake.scheduled_events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["channel_id"], VOICE);
    let v = content(&deferred_or_plain(&fake, BOB, "meeting").await);
    assert!(
        v.starts_with(&format!(
            "Next meeting: Thursday 17 December 2026, 18:00 GMT, in <#{VOICE}>, for 90 minutes."
        )),
        "{v}"
    );

    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_meeting_loses_its_event_the_group_is_told_and_meeting_says_so() {
    let (fake, _, bot) = convened(&[]).await;
    let events = fake.scheduled_events();
    assert_eq!(events.len(), 1, "{events:?}");
    let first = events[0]["id"].as_str().expect("an id").to_string();
    let before = said(&fake).len();

    let cancel = |date: &str| sub("cancel", json!([text("date", date)]));
    let cancelled = deferred(&fake, ADMIN, "convene", cancel("2026-12-17")).await;
    assert!(is_ephemeral(&cancelled));
    let words = "The meeting on Thursday 17 December 2026, 18:00 GMT is cancelled. The next meeting is Thursday 31 December 2026, 18:00 GMT.";
    assert!(content(&cancelled).starts_with(words), "{cancelled}");
    // Its Discord event is deleted, and the next meeting's is made.
    assert!(
        fake.requests().iter().any(
            |r| r.method == "DELETE" && r.path.ends_with(&format!("/scheduled-events/{first}"))
        ),
        "the event deleted"
    );
    let events = fake.scheduled_events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_ne!(events[0]["id"], first.as_str());
    assert_eq!(events[0]["scheduled_start_time"], "2026-12-31T18:00:00Z");
    // The group is told in the channel, pinging no one.
    let told = said(&fake)[before..].to_vec();
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].starts_with(words), "{told:?}");
    for post in posts(&fake) {
        assert_eq!(post["allowed_mentions"]["parse"], json!([]), "{post}");
    }
    // `/meeting` says so.
    let v = content(&deferred_or_plain(&fake, BOB, "meeting").await);
    assert!(
        v.starts_with(
            "The meeting of 17 December 2026 is cancelled.\nNext meeting: Thursday 31 December 2026, 18:00 GMT"
        ),
        "{v}"
    );
    // Cancelling it again says so to the convenor alone, and changes nothing.
    let again = deferred(&fake, ADMIN, "convene", cancel("2026-12-17")).await;
    assert_eq!(
        content(&again),
        "The meeting of 17 December 2026 is already cancelled."
    );
    assert_eq!(said(&fake).len(), before + 1);
    assert_eq!(fake.scheduled_events().len(), 1);

    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_meeting_view_shows_the_agenda_only_as_its_members_chose_to_show_it() {
    let (fake, clock, mut bot) = convened(&[]).await;
    let title = "Endings with a sponsor in the room";
    fake.interact(fixtures::modal_submit(
        fake.next_id(),
        ALICE,
        "reflect:new:free",
        &[
            ("title", title),
            ("text", "What the three-way contract left unsaid."),
            ("tags", "C1.6"),
        ],
    ))
    .await;
    clock.set(utc(2026, 12, 14, 18, 0));
    bot.ticked(utc(2026, 12, 14, 18, 0)).await;
    let v = content(&deferred_or_plain(&fake, BOB, "meeting").await);
    assert!(
        v.contains("\nIts agenda is open: nothing brought yet. `/agenda bring` brings an item.\n"),
        "{v}"
    );

    let bring = |options: Value| sub("bring", options);
    fake.command(
        ALICE,
        "agenda",
        bring(json!([int("minutes", 20), int("reflection", 1)])),
    )
    .await;
    fake.command(
        BOB,
        "agenda",
        bring(json!([
            int("minutes", 30),
            text("show_as", "A question about contracting")
        ])),
    )
    .await;
    let v = content(&deferred_or_plain(&fake, ADMIN, "meeting").await);
    assert!(
        v.contains("\nIts agenda is open:\n1. an item from a member (20 minutes)\n2. A question about contracting (30 minutes)\n50 of the meeting's 90 minutes asked for.\n"),
        "{v}"
    );
    // No one is named, and nothing of what an item is shows.
    for private in ["alice", "bob", "sponsor", "three-way", "#1", "reflection"] {
        assert!(!v.contains(private), "{private}: {v}");
    }

    bot.stop().await;
    fake.assert_bodies_valid();
}

/// Who got each meeting reminder sent so far, in order.
fn reminded(fake: &FakeDiscord) -> Vec<String> {
    let mut to = String::new();
    let mut out = Vec::new();
    for r in fake.requests() {
        if r.method == "POST" && r.path == "/api/v10/users/@me/channels" {
            to = r.json()["recipient_id"].as_str().unwrap_or_default().into();
        } else if r.method == "POST"
            && r.json()["content"]
                .as_str()
                .is_some_and(|c| c.starts_with("A reminder: the group meets"))
        {
            out.push(to.clone());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_reminder_keeps_the_members_own_quiet_hours_unless_they_allow_them() {
    let (fake, clock, mut bot) = convened(&[]).await;
    let remind = |options: Value| sub("remind", options);

    // 20 hours before 18:00 is 22:00 in London, the meetings' zone.
    // Bob keeps his quiet hours there: his comes at 20:00 before.
    let bobs = fake
        .command(BOB, "agenda", remind(json!([int("hours", 20)])))
        .await;
    assert!(is_ephemeral(&bobs));
    assert!(
        content(&bobs).contains("unless that falls between 21:00 and 07:00 in the meetings' time zone, Europe/London, when it comes at 20:00 before instead"),
        "{bobs}"
    );
    // Alice allows them: hers comes at 22:00.
    let alices = fake
        .command(
            ALICE,
            "agenda",
            remind(json!([
                int("hours", 20),
                { "name": "in_quiet_hours", "type": 5, "value": true }
            ])),
        )
        .await;
    assert!(
        content(&alices).contains(
            "even if that falls between 21:00 and 07:00 in the meetings' time zone, Europe/London"
        ),
        "{alices}"
    );
    // The convenor's weekly reminder is in Tokyo, where 22:00 in London is
    // 07:00 the next morning: their zone is taken from it, so theirs comes
    // at 22:00 too.
    let weekly = json!([{ "name": "on", "type": 1, "options": [
        { "name": "weekday", "type": 4, "value": 0 },
        { "name": "time", "type": 3, "value": "10:00" },
        { "name": "timezone", "type": 3, "value": "Asia/Tokyo" },
    ] }]);
    assert!(is_ephemeral(&fake.command(ADMIN, "remind", weekly).await));
    let admins = fake
        .command(ADMIN, "agenda", remind(json!([int("hours", 20)])))
        .await;
    assert!(
        content(&admins).contains("between 21:00 and 07:00 in your time zone, Asia/Tokyo"),
        "{admins}"
    );
    // A zone the bot does not know is refused, and the reminder kept as it was.
    let unknown = fake
        .command(
            ADMIN,
            "agenda",
            remind(json!([int("hours", 2), text("timezone", "Mars/Olympus")])),
        )
        .await;
    assert!(is_ephemeral(&unknown));
    assert!(
        content(&unknown).starts_with("That is not a time zone the bot knows.")
            && content(&unknown).ends_with("No reminder was set."),
        "{unknown}"
    );

    clock.set(utc(2026, 12, 16, 20, 0));
    bot.ticked(utc(2026, 12, 16, 20, 0)).await;
    assert_eq!(reminded(&fake), [BOB.id.to_string()]);
    clock.set(utc(2026, 12, 16, 21, 59));
    bot.ticked(utc(2026, 12, 16, 21, 59)).await;
    assert_eq!(reminded(&fake).len(), 1, "nothing before 22:00");
    clock.set(utc(2026, 12, 16, 22, 0));
    bot.ticked(utc(2026, 12, 16, 22, 0)).await;
    let mut night = reminded(&fake)[1..].to_vec();
    night.sort();
    let mut expected = vec![ALICE.id.to_string(), ADMIN.id.to_string()];
    expected.sort();
    assert_eq!(night, expected);

    bot.stop().await;
    fake.assert_bodies_valid();
}

/// The agenda's opening posts in the test channel, as sent.
fn agenda_posts(fake: &FakeDiscord) -> usize {
    said(fake)
        .iter()
        .filter(|s| s.starts_with("The agenda for the meeting on Thursday 17 December 2026"))
        .count()
}

/// The message each request for a thread named, in order.
fn thread_tries(fake: &FakeDiscord) -> Vec<u64> {
    fake.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/threads"))
        .filter_map(|r| {
            r.path
                .split("/messages/")
                .nth(1)?
                .split('/')
                .next()?
                .parse()
                .ok()
        })
        .collect()
}

/// Discord refusing for now: rate limited for longer than the bot waits.
fn rate_limited() -> Value {
    json!({ "message": "You are being rate limited.", "retry_after": 300.0, "global": false })
}

/// Moves the clock to `at` and waits for the scheduler's pass there.
async fn pass_at(bot: &mut Bot, clock: &ManualClock, at: DateTime<Utc>) {
    clock.set(at);
    bot.ticked(at).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_agenda_thread_is_made_later_from_the_same_post_and_the_group_sees_one_post() {
    let (fake, clock, mut bot) = convened(&[]).await;

    // The post goes up; its thread is refused (rate limited for now).
    fake.fail_next("POST", "/threads", 429, rate_limited(), &[]);
    let open = utc(2026, 12, 14, 18, 0);
    pass_at(&mut bot, &clock, open).await;
    assert_eq!(agenda_posts(&fake), 1);
    assert!(fake.threads().is_empty());
    let tries = thread_tries(&fake);
    assert_eq!(tries.len(), 1, "{tries:?}");
    let v = content(&deferred_or_plain(&fake, BOB, "meeting").await);
    assert!(
        v.contains("\nIts agenda is open (its thread is still being opened): nothing brought yet."),
        "{v}"
    );
    // An item can be brought, but not yet shared: there is nowhere to.
    fake.interact(fixtures::modal_submit(
        fake.next_id(),
        ALICE,
        "reflect:new:free",
        &[
            ("title", "Endings"),
            ("text", "What the contract left unsaid."),
            ("tags", "C1.6"),
        ],
    ))
    .await;
    let bring = json!([int("minutes", 20), int("reflection", 1)]);
    fake.command(ALICE, "agenda", sub("bring", bring)).await;
    let share = fake.command(ALICE, "agenda", sub("share", json!([]))).await;
    assert!(is_ephemeral(&share));
    assert_eq!(
        content(&share),
        "The meeting's agenda has no thread to share into yet: Discord has not opened one (`/meeting` says whether it is still being opened). Nothing was shared."
    );

    // Five minutes on, the thread is made from that same post, which is
    // not posted again.
    pass_at(&mut bot, &clock, open + chrono::Duration::minutes(5)).await;
    assert_eq!(agenda_posts(&fake), 1, "{:?}", said(&fake));
    let threads = fake.threads();
    assert_eq!(threads.len(), 1, "{threads:?}");
    assert_eq!(threads[0].message, tries[0], "made from the first post");
    assert_eq!(threads[0].channel, CHANNEL_ID.to_string());
    assert_eq!(threads[0].name, "Agenda: meeting of 17 December 2026");
    assert!(
        fake.created()
            .iter()
            .any(|c| c.id == tries[0] && c.channel == CHANNEL_ID)
    );
    let v = content(&deferred_or_plain(&fake, BOB, "meeting").await);
    assert!(
        v.contains("\nIts agenda is open:\n1. an item from a member (20 minutes)"),
        "{v}"
    );
    assert!(!v.contains("still being opened"), "{v}");
    let share = fake.command(ALICE, "agenda", sub("share", json!([]))).await;
    assert!(
        content(&share).contains("in the thread of the meeting on Thursday 17 December 2026"),
        "{share}"
    );
    // Nothing more is tried, and the group was told nothing more.
    pass_at(&mut bot, &clock, open + chrono::Duration::hours(2)).await;
    assert_eq!(thread_tries(&fake).len(), 2);
    assert_eq!(said(&fake).len(), 1, "{:?}", said(&fake));

    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agenda_post_deleted_before_its_thread_is_made_is_posted_again_once() {
    let (fake, clock, mut bot) = convened(&[]).await;

    fake.fail_next("POST", "/threads", 429, rate_limited(), &[]);
    let open = utc(2026, 12, 14, 18, 0);
    pass_at(&mut bot, &clock, open).await;
    let first = thread_tries(&fake)[0];
    // Someone deletes the post meanwhile: the next try finds it gone (404),
    // posts the agenda again, once, and opens the thread on the new post.
    fake.delete_message_by_hand(first);
    pass_at(&mut bot, &clock, open + chrono::Duration::minutes(5)).await;
    assert_eq!(agenda_posts(&fake), 2, "{:?}", said(&fake));
    let tries = thread_tries(&fake);
    assert_eq!(tries.len(), 3, "{tries:?}");
    assert_eq!(tries[1], first, "the first post is tried first");
    assert_ne!(tries[2], first);
    let threads = fake.threads();
    assert_eq!(threads.len(), 1, "{threads:?}");
    assert_eq!(threads[0].message, tries[2]);
    let in_channel: Vec<u64> = fake
        .created()
        .iter()
        .filter(|c| c.channel == CHANNEL_ID)
        .map(|c| c.id)
        .collect();
    assert_eq!(in_channel, [tries[2]], "one opening post in the channel");
    // Nothing more later.
    pass_at(&mut bot, &clock, open + chrono::Duration::hours(2)).await;
    assert_eq!(agenda_posts(&fake), 2);
    assert_eq!(thread_tries(&fake).len(), 3);

    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agenda_thread_still_refused_when_its_meeting_begins_is_tried_no_more() {
    let (fake, clock, mut bot) = convened(&[]).await;

    // Discord's servers fail every thread, through the bot's own retries.
    fake.fail_every(
        "POST",
        "/threads",
        503,
        json!({ "message": "Service Unavailable", "code": 0 }),
    );
    let open = utc(2026, 12, 14, 18, 0);
    pass_at(&mut bot, &clock, open).await;
    let after_first = thread_tries(&fake).len();
    assert!(after_first > 0);
    // Tried again just before the meeting, from the same post.
    pass_at(&mut bot, &clock, utc(2026, 12, 17, 17, 58)).await;
    let tries = thread_tries(&fake);
    assert!(tries.len() > after_first, "{tries:?}");
    assert!(tries.iter().all(|t| *t == tries[0]), "{tries:?}");
    // Once the meeting has begun, no more tries, and no more posts.
    for at in [utc(2026, 12, 17, 18, 1), utc(2026, 12, 17, 20, 0)] {
        pass_at(&mut bot, &clock, at).await;
    }
    assert_eq!(thread_tries(&fake), tries);
    assert_eq!(agenda_posts(&fake), 1);
    // The next meeting's agenda opens as usual once Discord is back.
    fake.stop_failing("POST", "/threads");
    pass_at(&mut bot, &clock, utc(2026, 12, 28, 18, 0)).await;
    let threads = fake.threads();
    assert_eq!(threads.len(), 1, "{threads:?}");
    assert_eq!(threads[0].name, "Agenda: meeting of 31 December 2026");
    assert_ne!(threads[0].message, tries[0]);

    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agenda_post_and_thread_made_but_their_answers_lost_are_kept_not_made_twice() {
    let (fake, clock, mut bot) = convened(&[]).await;

    // Discord makes the post, but its answer is lost: sent again with the
    // same nonce, Discord gives back the post it made. Then it makes the
    // thread, and that answer is lost too: asked again, it says the message
    // has its thread already, which the bot keeps.
    let in_channel = format!("/channels/{CHANNEL_ID}/messages");
    fake.fail_next_after_acting("POST", &in_channel, 500);
    fake.fail_next_after_acting("POST", "/threads", 500);
    let open = utc(2026, 12, 14, 18, 0);
    pass_at(&mut bot, &clock, open).await;
    let posts: Vec<u64> = fake
        .created()
        .iter()
        .filter(|c| c.channel == CHANNEL_ID)
        .map(|c| c.id)
        .collect();
    assert_eq!(posts.len(), 1, "one opening post: {posts:?}");
    assert_eq!(agenda_posts(&fake), 2, "sent twice, made once");
    let tries = thread_tries(&fake);
    assert_eq!(tries, [posts[0], posts[0]]);
    assert_eq!(fake.threads().len(), 1);
    let v = content(&deferred_or_plain(&fake, BOB, "meeting").await);
    assert!(
        v.contains("\nIts agenda is open: nothing brought yet."),
        "{v}"
    );
    pass_at(&mut bot, &clock, open + chrono::Duration::hours(1)).await;
    assert_eq!(thread_tries(&fake), tries);
    assert_eq!(agenda_posts(&fake), 2);

    bot.stop().await;
    fake.assert_bodies_valid();
}

/// What the group is told of a meeting whose event was deleted in Discord.
const DELETED_IN_DISCORD: &str =
    "The Discord event for a meeting was deleted in Discord, so the meeting is cancelled here too.";

/// The channel's messages saying a meeting's event was deleted in Discord.
fn deletions_said(fake: &FakeDiscord) -> Vec<String> {
    said(fake)
        .into_iter()
        .filter(|s| s.starts_with(DELETED_IN_DISCORD))
        .collect()
}

/// How often the bot has listed the server's scheduled events.
fn events_listed(fake: &FakeDiscord) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/scheduled-events"))
        .count()
}

/// Meetings set every two weeks from 17 December, alice reminded 24 hours
/// before each; the id of the first meeting's event.
async fn meetings_with_a_reminder(fake: &FakeDiscord) -> String {
    convene(fake).await;
    let remind = fake
        .command(ALICE, "agenda", sub("remind", json!([int("hours", 24)])))
        .await;
    assert!(is_ephemeral(&remind), "{remind}");
    let events = fake.scheduled_events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["scheduled_start_time"], "2026-12-17T18:00:00Z");
    events[0]["id"].as_str().expect("an id").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_deleted_while_the_bot_was_away_cancels_its_meeting_once_it_is_back() {
    let storage = Storage::sled(scratch_dir());
    let (fake, clock, bot) = started_on(&storage, utc(2026, 12, 5, 12, 0)).await;
    let first = meetings_with_a_reminder(&fake).await;
    bot.stop().await;

    // Deleted in Discord while the bot is away: the gateway never says so.
    // The bot is back just as alice's reminder of that meeting falls due.
    fake.delete_event_unseen(&first);
    clock.set(utc(2026, 12, 16, 18, 0));
    let mut bot = Bot::start_on(&fake, &storage, clock.clone()).await;
    bot.ticked(utc(2026, 12, 16, 18, 0)).await;
    let told = deletions_said(&fake);
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(
        told[0].starts_with(&format!("{DELETED_IN_DISCORD} The meeting on Thursday 17 December 2026, 18:00 GMT is cancelled. The next meeting is Thursday 31 December 2026, 18:00 GMT.")),
        "{told:?}"
    );
    assert!(
        reminded(&fake).is_empty(),
        "no reminder of a meeting Discord no longer shows"
    );
    // The next meeting gets its event; `/meeting` says the first is cancelled.
    let events = fake
        .wait_until("the next meeting's event", || {
            let events = fake.scheduled_events();
            (!events.is_empty()).then_some(events)
        })
        .await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["scheduled_start_time"], "2026-12-31T18:00:00Z");
    let v = content(&deferred_or_plain(&fake, BOB, "meeting").await);
    assert!(
        v.starts_with("The meeting of 17 December 2026 is cancelled.\nNext meeting: Thursday 31 December 2026, 18:00 GMT"),
        "{v}"
    );

    // Later passes compare again and say nothing more; the next meeting's
    // reminder comes as usual.
    let listed = events_listed(&fake);
    clock.set(utc(2026, 12, 30, 18, 0));
    bot.ticked(utc(2026, 12, 30, 18, 0)).await;
    assert!(events_listed(&fake) > listed, "Discord was asked again");
    assert_eq!(deletions_said(&fake).len(), 1, "{:?}", said(&fake));
    assert_eq!(reminded(&fake), [ALICE.id.to_string()]);

    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_deleted_while_the_gateway_was_away_cancels_its_meeting_on_the_new_session() {
    let (fake, clock, mut bot) = started().await;
    let first = meetings_with_a_reminder(&fake).await;
    // The hourly pass compares the server's events with Discord's: they
    // match. The next comparison would be an hour later.
    let listed = events_listed(&fake);
    clock.set(utc(2026, 12, 5, 13, 0));
    bot.ticked(utc(2026, 12, 5, 13, 0)).await;
    assert!(events_listed(&fake) > listed, "Discord was asked");
    assert!(deletions_said(&fake).is_empty(), "{:?}", said(&fake));

    // Deleted while the connection was down; a new gateway session (not a
    // resumed one) has the server's events compared at once.
    fake.delete_event_unseen(&first);
    fake.invalidate_session(false);
    fake.wait_until("the deletion said", || {
        (!deletions_said(&fake).is_empty()).then_some(())
    })
    .await;
    let events = fake
        .wait_until("the next meeting's event", || {
            let events = fake.scheduled_events();
            (!events.is_empty()).then_some(events)
        })
        .await;
    assert_eq!(events[0]["scheduled_start_time"], "2026-12-31T18:00:00Z");
    clock.set(utc(2026, 12, 16, 18, 0));
    bot.ticked(utc(2026, 12, 16, 18, 0)).await;
    assert_eq!(deletions_said(&fake).len(), 1, "{:?}", said(&fake));
    assert!(
        reminded(&fake).is_empty(),
        "no reminder of a cancelled meeting"
    );

    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_discord_cannot_list_or_find_the_events_nothing_is_cancelled_until_it_can() {
    let storage = Storage::sled(scratch_dir());
    let (fake, clock, bot) = started_on(&storage, utc(2026, 12, 5, 12, 0)).await;
    let first = meetings_with_a_reminder(&fake).await;
    bot.stop().await;
    fake.delete_event_unseen(&first);

    let server_error = json!({ "message": "500: Internal Server Error", "code": 0 });
    let missing_access = json!({ "message": "Missing Access", "code": 50001 });
    let rate_limited =
        json!({ "message": "You are being rate limited.", "retry_after": 120.0, "global": false });
    for (what, path, status, body) in [
        (
            "the list: no access",
            "/scheduled-events",
            403,
            &missing_access,
        ),
        (
            "the list: server errors",
            "/scheduled-events",
            500,
            &server_error,
        ),
        (
            "the list: rate limited",
            "/scheduled-events",
            429,
            &rate_limited,
        ),
        (
            "the event: no access",
            "/scheduled-events/",
            403,
            &missing_access,
        ),
        (
            "the event: server errors",
            "/scheduled-events/",
            500,
            &server_error,
        ),
    ] {
        fake.fail_every("GET", path, status, body.clone());
        let asked = fake.requests().len();
        let mut bot = Bot::start_on(&fake, &storage, clock.clone()).await;
        bot.ticked(utc(2026, 12, 5, 12, 0)).await;
        assert!(
            fake.requests()[asked..].iter().any(|r| r.method == "GET"
                && (r.path.ends_with(path) || path.ends_with('/') && r.path.contains(path))),
            "{what}: Discord was asked"
        );
        assert!(
            deletions_said(&fake).is_empty(),
            "{what}: {:?}",
            said(&fake)
        );
        let v = content(&deferred_or_plain(&fake, BOB, "meeting").await);
        assert!(
            v.starts_with("Next meeting: Thursday 17 December 2026, 18:00 GMT"),
            "{what}: {v}"
        );
        bot.stop().await;
        fake.clear_faults();
    }

    // Discord answers again: the meeting is cancelled, and said once.
    let mut bot = Bot::start_on(&fake, &storage, clock.clone()).await;
    bot.ticked(utc(2026, 12, 5, 12, 0)).await;
    fake.wait_until("the deletion said", || {
        (!deletions_said(&fake).is_empty()).then_some(())
    })
    .await;
    let v = content(&deferred_or_plain(&fake, BOB, "meeting").await);
    assert!(
        v.starts_with(
            "The meeting of 17 December 2026 is cancelled.\nNext meeting: Thursday 31 December 2026"
        ),
        "{v}"
    );
    assert_eq!(deletions_said(&fake).len(), 1, "{:?}", said(&fake));

    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_the_bot_removed_itself_is_never_said_as_deleted_in_discord() {
    let storage = Storage::sled(scratch_dir());
    let (fake, clock, bot) = started_on(&storage, utc(2026, 12, 5, 12, 0)).await;
    let first = meetings_with_a_reminder(&fake).await;

    // The convenor cancels the first meeting: Discord deletes its event,
    // but its answer is lost, so the record still holds the event.
    fake.fail_next_after_acting("DELETE", &format!("/scheduled-events/{first}"), 403);
    let cancel = sub("cancel", json!([text("date", "2026-12-17")]));
    let cancelled = deferred(&fake, ADMIN, "convene", cancel).await;
    assert!(
        content(&cancelled)
            .starts_with("The meeting on Thursday 17 December 2026, 18:00 GMT is cancelled."),
        "{cancelled}"
    );
    assert!(
        fake.scheduled_events()
            .iter()
            .all(|e| e["id"] != first.as_str()),
        "gone from Discord"
    );
    bot.stop().await;

    // Back: the events are compared (the next meeting's is there), and the
    // one the bot removed is not said to have been deleted in Discord.
    let listed = events_listed(&fake);
    let mut bot = Bot::start_on(&fake, &storage, clock.clone()).await;
    bot.ticked(utc(2026, 12, 5, 12, 0)).await;
    assert!(events_listed(&fake) > listed, "Discord was asked");
    assert!(deletions_said(&fake).is_empty(), "{:?}", said(&fake));
    let cancellations = said(&fake)
        .iter()
        .filter(|s| s.contains("17 December 2026, 18:00 GMT is cancelled"))
        .count();
    assert_eq!(cancellations, 1, "{:?}", said(&fake));

    // Nor are the events a stop removes.
    let stopped = deferred(&fake, ADMIN, "convene", sub("stop", json!([]))).await;
    assert!(content(&stopped).contains("are removed"), "{stopped}");
    assert!(fake.scheduled_events().is_empty());
    bot.stop().await;
    let mut bot = Bot::start_on(&fake, &storage, clock.clone()).await;
    bot.ticked(utc(2026, 12, 5, 12, 0)).await;
    assert!(deletions_said(&fake).is_empty(), "{:?}", said(&fake));

    bot.stop().await;
    fake.assert_bodies_valid();
}

/// The bot's posts in `thread`, as sent.
fn thread_posts(fake: &FakeDiscord, thread: u64) -> Vec<Value> {
    let path = format!("/api/v10/channels/{thread}/messages");
    fake.requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .map(|r| r.json().clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_a_meeting_has_ended_its_thread_gets_one_note_whose_button_logs_it_privately() {
    let storage = Storage::sled(scratch_dir());
    let (fake, clock, mut bot) = started_on(&storage, utc(2026, 12, 5, 12, 0)).await;
    join_rota(&fake, &[ALICE, BOB]).await;
    convene(&fake).await;
    pass_at(&mut bot, &clock, utc(2026, 12, 14, 18, 0)).await;
    let threads = fake.threads();
    assert_eq!(threads.len(), 1, "{threads:?}");
    let thread = threads[0].message;

    // Not while the meeting (18:00, 90 minutes) is still on.
    pass_at(&mut bot, &clock, utc(2026, 12, 17, 18, 0)).await;
    pass_at(&mut bot, &clock, utc(2026, 12, 17, 19, 29)).await;
    assert!(thread_posts(&fake, thread).is_empty());

    // At its end, one note in its thread, naming and mentioning no one.
    pass_at(&mut bot, &clock, utc(2026, 12, 17, 19, 30)).await;
    let notes = thread_posts(&fake, thread);
    assert_eq!(notes.len(), 1, "{notes:?}");
    let note = &notes[0];
    assert_eq!(
        note["content"],
        "The meeting on Thursday 17 December 2026, 18:00 GMT has ended. If you want to keep it in your private supervision log, Log this meeting opens the form with its date, its 90 minutes and the kind, group, filled in: you write only what you took away, and only you read it."
    );
    assert_eq!(note["allowed_mentions"]["parse"], json!([]), "{note}");
    let text = note["content"].as_str().unwrap_or_default();
    assert!(!text.contains('@') && !text.contains("<"), "{text}");
    assert!(!text.contains("alice") && !text.contains("bob"), "{text}");
    let button = &note["components"][0]["components"][0];
    assert_eq!(button["label"], "Log this meeting", "{note}");
    let custom_id = button["custom_id"].as_str().unwrap_or_default().to_string();
    assert_eq!(custom_id, "log-meeting:2026-12-17:y:90:group:-");

    // Never again, after a restart either.
    bot.stop().await;
    clock.set(utc(2026, 12, 18, 9, 0));
    let mut bot = Bot::start_on(&fake, &storage, clock.clone()).await;
    bot.ticked(utc(2026, 12, 18, 9, 0)).await;
    assert_eq!(thread_posts(&fake, thread).len(), 1);

    // The button opens, for whoever clicks, the log form `/log add` opens,
    // its choices filled in from the meeting.
    let form = fake
        .interact(fixtures::button(fake.next_id(), BOB, &custom_id))
        .await;
    assert_eq!(form["type"], 9, "a form: {form}");
    assert_eq!(form["data"]["custom_id"], "log:new:2026-12-17:y:90:group:-");
    assert_eq!(modal_fields(&form), ["took_away", "competences"]);
    let took = "Naming the rupture out loud, as the group did, helped me.";
    let saved = fake
        .interact(fixtures::modal_submit(
            fake.next_id(),
            BOB,
            "log:new:2026-12-17:y:90:group:-",
            &[("took_away", took), ("competences", "C3.5")],
        ))
        .await;
    assert!(is_ephemeral(&saved), "{saved}");
    assert!(
        content(&saved).starts_with("Logged as supervision log entry #1: 17 Dec 2026 · group"),
        "{saved}"
    );
    let listed = fake.command(BOB, "log", sub("list", json!([]))).await;
    assert!(is_ephemeral(&listed));
    let shown = format!("{} {}", content(&listed), listed["data"]["embeds"]);
    assert!(
        shown.contains("**#1** 17 Dec 2026 · group · 1 hour 30 minutes"),
        "{shown}"
    );
    // Bob's entry is his alone, and nothing was posted of it.
    let alices = fake.command(ALICE, "log", sub("list", json!([]))).await;
    assert!(
        content(&alices).starts_with("Your supervision log is empty"),
        "{alices}"
    );
    assert_eq!(thread_posts(&fake, thread).len(), 1);
    assert!(!said(&fake).iter().any(|s| s.contains("rupture")));
    // As with `/log add`, an entry of hers held (a competence not found)
    // is offered back first, or a fresh form for this meeting.
    let held = fake
        .interact(fixtures::modal_submit(
            fake.next_id(),
            ALICE,
            "log:new:2026-12-17:y:90:group:-",
            &[("took_away", took), ("competences", "C9.9")],
        ))
        .await;
    assert!(content(&held).starts_with("Nothing is saved yet"), "{held}");
    let offer = fake
        .interact(fixtures::button(fake.next_id(), ALICE, &custom_id))
        .await;
    assert_ne!(offer["type"], 9, "{offer}");
    assert!(is_ephemeral(&offer), "{offer}");
    assert_eq!(
        buttons(&offer),
        ["reopen:log", "log-afresh:2026-12-17:y:90:group:-"]
    );

    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_note_whose_answer_was_lost_is_made_once_and_one_refused_is_not_tried_again() {
    let storage = Storage::sled(scratch_dir());
    let (fake, clock, mut bot) = started_on(&storage, utc(2026, 12, 5, 12, 0)).await;
    convene(&fake).await;
    let made_in = |thread: u64| {
        fake.created()
            .iter()
            .filter(|c| c.channel == thread.to_string())
            .count()
    };

    // Discord makes the note but its answer is lost: one note, kept as
    // made, and not made again after a restart.
    pass_at(&mut bot, &clock, utc(2026, 12, 14, 18, 0)).await;
    let first = fake.threads()[0].message;
    fake.fail_next_after_acting("POST", &format!("/channels/{first}/messages"), 500);
    pass_at(&mut bot, &clock, utc(2026, 12, 17, 19, 30)).await;
    assert_eq!(made_in(first), 1);
    let sent = thread_posts(&fake, first);
    assert!(!sent.is_empty());
    for post in &sent {
        assert_eq!(post["enforce_nonce"], true, "{post}");
        assert!(post["nonce"].as_str().is_some_and(|n| n.len() <= 25));
        assert_eq!(post["nonce"], sent[0]["nonce"], "one nonce for the note");
    }
    bot.stop().await;
    clock.set(utc(2026, 12, 18, 9, 0));
    let mut bot = Bot::start_on(&fake, &storage, clock.clone()).await;
    bot.ticked(utc(2026, 12, 18, 9, 0)).await;
    assert_eq!(made_in(first), 1);
    assert_eq!(thread_posts(&fake, first).len(), sent.len());

    // Discord refuses the next meeting's note (the thread closed to the
    // bot): it is not posted, and not tried again.
    pass_at(&mut bot, &clock, utc(2026, 12, 28, 18, 0)).await;
    let second = fake.threads()[1].message;
    fake.fail_next(
        "POST",
        &format!("/channels/{second}/messages"),
        403,
        json!({ "message": "Missing Access", "code": 50001 }),
        &[],
    );
    pass_at(&mut bot, &clock, utc(2026, 12, 31, 19, 30)).await;
    assert_eq!(thread_posts(&fake, second).len(), 1);
    assert_eq!(made_in(second), 0);
    bot.stop().await;
    clock.set(utc(2027, 1, 1, 9, 0));
    let mut bot = Bot::start_on(&fake, &storage, clock.clone()).await;
    bot.ticked(utc(2027, 1, 1, 9, 0)).await;
    assert_eq!(thread_posts(&fake, second).len(), 1, "not tried again");

    bot.stop().await;
    fake.assert_bodies_valid();
}
