//! The supervision log and case presentations in Discord, end to end
//! through the fake Discord: every command; the seven-eyed form over two
//! modals, its first step kept through a second that fails or is left;
//! the confidentiality check refusing with every word given back; two
//! members kept apart; forget-me erasing held steps; every reply private
//! and pinging no one.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use practice_companion::clock::ManualClock;
use serde_json::{Value, json};

use crate::bot::{Bot, Storage, on_both_engines};
use crate::fake_discord::FakeDiscord;
use crate::fake_discord::fixtures::{self, ALICE, BOB, Member};
use crate::replies::{content, is_ephemeral};

fn sub(name: &str, options: Value) -> Value {
    json!([{ "name": name, "type": 1, "options": options }])
}

fn number(n: u64) -> Value {
    json!([{ "name": "number", "type": 4, "value": n }])
}

async fn start(fake: &FakeDiscord, storage: &Storage) -> Bot {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 12, 5, 10, 0, 0).unwrap(),
    ));
    Bot::start_on(fake, storage, clock).await
}

/// The text inputs of a modal callback: (custom id, label, value).
fn inputs(modal: &Value) -> Vec<(String, String, String)> {
    assert_eq!(modal["type"], 9, "a modal: {modal}");
    modal["data"]["components"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            let i = &row["components"][0];
            let s = |k: &str| i[k].as_str().unwrap_or_default().to_string();
            (s("custom_id"), s("label"), s("value"))
        })
        .collect()
}

/// The custom ids of a reply's buttons.
fn buttons(reply: &Value) -> Vec<String> {
    reply["data"]["components"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .flat_map(|r| r["components"].as_array().cloned().unwrap_or_default())
                .filter_map(|b| b["custom_id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Everything a reply shows: its text and its embeds.
fn shown(reply: &Value) -> String {
    format!("{} {}", content(reply), reply["data"]["embeds"])
}

/// A click; a delete, which may first withdraw a shared post from a
/// thread, is acknowledged privately and answered when done.
async fn click(fake: &FakeDiscord, who: Member, custom_id: &str) -> Value {
    let button = fixtures::button(fake.next_id(), who, custom_id);
    if custom_id.starts_with("present-delete:") {
        let answer = fake.interact_deferred(button).await;
        assert!(is_ephemeral(&answer), "{answer}");
        answer
    } else {
        fake.interact(button).await
    }
}

async fn submit(
    fake: &FakeDiscord,
    who: Member,
    custom_id: &str,
    fields: &[(&str, &str)],
) -> Value {
    fake.interact(fixtures::modal_submit(
        fake.next_id(),
        who,
        custom_id,
        fields,
    ))
    .await
}

/// Every message the bot answered with (interaction callbacks and their
/// edits) is ephemeral and allows no mentions.
fn every_reply_private_and_silent(fake: &FakeDiscord) {
    let mut seen = 0;
    for r in fake.requests() {
        if !(r.method == "POST" && r.path.ends_with("/callback")) {
            continue;
        }
        let body = r.json();
        if body["type"] != 4 {
            continue;
        }
        seen += 1;
        assert!(is_ephemeral(body), "not private: {body}");
        assert_eq!(
            body["data"]["allowed_mentions"]["parse"],
            json!([]),
            "{body}"
        );
    }
    assert!(seen >= 5, "replies were read: {seen}");
}

on_both_engines!(the_log_in_discord: the_supervision_log_in_discord_every_command_two_members_apart, on_postgres_the_supervision_log_in_discord_every_command_two_members_apart);

async fn the_log_in_discord(storage: Storage) {
    let fake = FakeDiscord::start().await;
    let bot = start(&fake, &storage).await;

    // The closed choices are options; a missing time is asked for before
    // anything is typed.
    let no_time = fake.command(ALICE, "log", sub("add", json!([]))).await;
    assert!(is_ephemeral(&no_time));
    assert!(
        content(&no_time).contains("Give the time in supervision"),
        "{no_time}"
    );
    let bad_date = json!([
        { "name": "time", "type": 3, "value": "60" },
        { "name": "date", "type": 3, "value": "next tuesday" },
    ]);
    let bad_date = fake.command(ALICE, "log", sub("add", bad_date)).await;
    assert!(is_ephemeral(&bad_date));
    assert!(
        content(&bad_date).starts_with("That is not a date: write it as 2026-03-10"),
        "{bad_date}"
    );
    let options = json!([
        { "name": "time", "type": 3, "value": "1h 30" },
        { "name": "kind", "type": 4, "value": 1 },
        { "name": "formative", "type": 5, "value": true },
        { "name": "restorative", "type": 5, "value": true },
    ]);
    let modal = fake.command(ALICE, "log", sub("add", options)).await;
    let id = modal["data"]["custom_id"].as_str().unwrap().to_string();
    assert_eq!(id, "log:new:2026-12-05:y:90:peer:fr");
    let fields: Vec<String> = inputs(&modal).into_iter().map(|f| f.0).collect();
    assert_eq!(fields, ["took_away", "competences"]);

    // A bad competence costs nothing: held, reopened as typed.
    let took = "Slowing down helped; I noticed my urge to rescue.";
    let bad = submit(
        &fake,
        ALICE,
        &id,
        &[("took_away", took), ("competences", "C3.5, C9.9")],
    )
    .await;
    assert!(content(&bad).contains("C9.9"), "{bad}");
    assert!(content(&bad).starts_with("Nothing is saved yet."), "{bad}");
    assert_eq!(buttons(&bad), ["reopen:held"]);
    let reopened = click(&fake, ALICE, "reopen:held").await;
    let again = reopened["data"]["custom_id"].as_str().unwrap().to_string();
    assert_eq!(again, "log:again:2026-12-05:y:90:peer:fr");
    let values: Vec<String> = inputs(&reopened).into_iter().map(|f| f.2).collect();
    assert_eq!(values, [took, "C3.5, C9.9"]);
    let saved = submit(
        &fake,
        ALICE,
        &again,
        &[("took_away", took), ("competences", "C3.5")],
    )
    .await;
    assert!(
        content(&saved).starts_with("Logged as supervision log entry #1: 5 Dec 2026 · peer · 1 hour 30 minutes · formative, restorative."),
        "{saved}"
    );

    // The confidentiality check: nothing saved, every word given back;
    // Save as written keeps it as it is.
    let named = "Sarah Jones from Barclays was on my mind all session.";
    let refused = submit(
        &fake,
        ALICE,
        &id,
        &[("took_away", named), ("competences", "")],
    )
    .await;
    assert!(shown(&refused).contains("A gentle check"), "{refused}");
    assert!(content(&refused).starts_with("Nothing is saved yet"));
    assert_eq!(buttons(&refused), ["reopen:held", "held:save"]);
    let listed = fake.command(ALICE, "log", sub("list", json!([]))).await;
    assert!(!shown(&listed).contains("#2"), "{listed}");
    let back = click(&fake, ALICE, "reopen:held").await;
    assert_eq!(inputs(&back)[0].2, named, "every word given back");
    // Bob has nothing held: Alice's words are not his to save.
    let bobs = click(&fake, BOB, "held:save").await;
    assert!(content(&bobs).starts_with("Nothing of a presentation or log entry is held"));
    let kept = click(&fake, ALICE, "held:save").await;
    assert!(
        content(&kept).starts_with("Logged as supervision log entry #2"),
        "{kept}"
    );

    // Missed: logged at once, no form.
    let missed = fake
        .command(
            ALICE,
            "log",
            sub(
                "add",
                json!([{ "name": "attended", "type": 5, "value": false },
                       { "name": "date", "type": 3, "value": "2026-11-03" }]),
            ),
        )
        .await;
    assert!(
        content(&missed)
            .starts_with("Logged as supervision log entry #3: 3 Nov 2026 · group · missed"),
        "{missed}"
    );

    let list = fake.command(ALICE, "log", sub("list", json!([]))).await;
    for n in ["#1", "#2", "#3"] {
        assert!(shown(&list).contains(n), "{list}");
    }
    let view = fake.command(ALICE, "log", sub("view", number(1))).await;
    assert!(shown(&view).contains(took), "{view}");
    // Two members apart: Bob sees none of it, by any number.
    let bob_list = fake.command(BOB, "log", sub("list", json!([]))).await;
    assert!(content(&bob_list).starts_with("Your supervision log is empty"));
    let bob_view = fake.command(BOB, "log", sub("view", number(1))).await;
    assert!(content(&bob_view).contains("You have no supervision log entry #1"));
    assert!(!shown(&bob_view).contains("rescue"));

    let minimum = fake
        .command(
            ALICE,
            "log",
            sub(
                "minimum",
                json!([{ "name": "hours", "type": 3, "value": "2" }]),
            ),
        )
        .await;
    assert!(
        content(&minimum).starts_with("Your monthly minimum is now 2 hours"),
        "{minimum}"
    );
    let refused_minimum = fake
        .command(
            ALICE,
            "log",
            sub(
                "minimum",
                json!([{ "name": "hours", "type": 3, "value": "lots" }]),
            ),
        )
        .await;
    assert!(content(&refused_minimum).contains("e.g. 1.5 or 1h 30"));

    // The year's record, with its files.
    let year = fake.next_id();
    fake.dispatch(
        "INTERACTION_CREATE",
        fixtures::command(year, ALICE, "log", sub("year", json!([]))),
    );
    let year = fake.callback_for(&year.to_string()).await;
    assert!(is_ephemeral(year.json()));
    let record = shown(year.json());
    assert!(
        record.contains("Supervision record, membership year 2026"),
        "{record}"
    );
    assert!(
        record.contains("Below it: January 2026 (nothing logged)"),
        "{record}"
    );
    assert!(record.contains("files attached"), "{record}");
    let names: Vec<&str> = year.files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names[0].ends_with(".md")
            && names[1].ends_with(".csv")
            && names[2].ends_with("-totals.csv"),
        "{names:?}"
    );
    let totals = String::from_utf8_lossy(&year.files[2].1);
    assert!(
        totals
            .lines()
            .any(|l| l.starts_with("2026,month,2026-01,over,,,0,0,") && l.ends_with(",yes")),
        "January is below the minimum in the totals too: {totals}"
    );
    assert!(String::from_utf8_lossy(&year.files[0].1).contains(took));

    // Delete asks first; only Alice's button deletes Alice's entry.
    let ask = fake.command(ALICE, "log", sub("delete", number(2))).await;
    assert!(
        content(&ask).starts_with("Delete supervision log entry #2"),
        "{ask}"
    );
    assert_eq!(buttons(&ask), ["log-delete:2"]);
    let bob_delete = click(&fake, BOB, "log-delete:2").await;
    assert!(content(&bob_delete).contains("You have no supervision log entry #2"));
    let deleted = click(&fake, ALICE, "log-delete:2").await;
    assert_eq!(content(&deleted), "Supervision log entry #2 is deleted.");
    let gone = fake.command(ALICE, "log", sub("view", number(2))).await;
    assert!(content(&gone).contains("You have no supervision log entry #2"));

    bot.stop().await;
    every_reply_private_and_silent(&fake);
    fake.assert_bodies_valid();
}

on_both_engines!(a_seven_eyed_presentation: a_seven_eyed_presentation_runs_over_two_forms_and_keeps_step_one_when_step_two_fails, on_postgres_a_seven_eyed_presentation_keeps_step_one_when_step_two_fails);

async fn a_seven_eyed_presentation(storage: Storage) {
    let fake = FakeDiscord::start().await;
    let bot = start(&fake, &storage).await;

    let first = fake
        .command(ALICE, "present", sub("seven-eyed", json!([])))
        .await;
    assert_eq!(first["data"]["custom_id"], "present:seven-eyed:0:new");
    let step_one: Vec<(String, String, String)> = inputs(&first);
    let keys: Vec<&str> = step_one.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        keys,
        [
            "client",
            "interventions",
            "relationship",
            "practitioner",
            "parallel"
        ]
    );
    assert!(step_one.iter().all(|f| f.1.chars().count() <= 45));
    let one: Vec<(&str, String)> = keys
        .iter()
        .map(|k| (*k, format!("What I wrote about the {k}, at some length.")))
        .collect();
    let one_fields: Vec<(&str, &str)> = one.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let kept = submit(&fake, ALICE, "present:seven-eyed:0:new", &one_fields).await;
    assert!(
        content(&kept).starts_with("Step 1 of 2 is kept for you"),
        "{kept}"
    );
    assert_eq!(buttons(&kept), ["present:continue"]);

    // Bob's Continue opens nothing of Alice's.
    let bobs = click(&fake, BOB, "present:continue").await;
    assert!(
        content(&bobs).starts_with("Nothing of a presentation"),
        "{bobs}"
    );
    let second = click(&fake, ALICE, "present:continue").await;
    assert_eq!(second["data"]["custom_id"], "present:seven-eyed:1:new");
    let keys: Vec<String> = inputs(&second).into_iter().map(|f| f.0).collect();
    assert_eq!(keys, ["here_and_now", "context", "question"]);

    // Step two fails the confidentiality check: nothing saved, step one
    // and step two both kept.
    let question = "Should I tell Sarah Jones's sponsor at Barclays what I notice?";
    let two = [
        ("here_and_now", "The group felt hurried."),
        ("context", "A three-way contract with the sponsor."),
        ("question", question),
    ];
    let refused = submit(&fake, ALICE, "present:seven-eyed:1:new", &two).await;
    assert!(
        shown(&refused).contains("“My question for the group”"),
        "{refused}"
    );
    assert!(content(&refused).starts_with("Nothing is saved yet"));
    assert_eq!(buttons(&refused), ["reopen:held", "held:save"]);
    let none = fake.command(ALICE, "present", sub("list", json!([]))).await;
    assert!(
        content(&none).starts_with("You have no case presentations"),
        "{none}"
    );

    // A later /present offers to go on.
    let offer = fake
        .command(ALICE, "present", sub("seven-eyed", json!([])))
        .await;
    assert!(
        content(&offer).starts_with("You have a presentation under way"),
        "{offer}"
    );
    assert_eq!(
        buttons(&offer),
        ["reopen:held", "present-afresh:seven-eyed"]
    );
    let afresh = click(&fake, ALICE, "present-afresh:seven-eyed").await;
    assert_eq!(afresh["data"]["custom_id"], "present:seven-eyed:0:new");
    assert!(inputs(&afresh).iter().all(|f| f.2.is_empty()), "{afresh}");
    let reopened = click(&fake, ALICE, "reopen:held").await;
    assert_eq!(reopened["data"]["custom_id"], "present:seven-eyed:0:again");
    let values: Vec<(String, String)> = inputs(&reopened).into_iter().map(|f| (f.0, f.2)).collect();
    let expected: Vec<(String, String)> = one
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    assert_eq!(values, expected, "every word of step one");
    submit(&fake, ALICE, "present:seven-eyed:0:again", &one_fields).await;
    let second = click(&fake, ALICE, "present:continue").await;
    let values: Vec<String> = inputs(&second).into_iter().map(|f| f.2).collect();
    assert_eq!(
        values,
        [two[0].1, two[1].1, question],
        "every word of step two"
    );
    let saved = submit(
        &fake,
        ALICE,
        "present:seven-eyed:1:new",
        &[
            two[0],
            two[1],
            (
                "question",
                "How do I stay with the client and not the sponsor?",
            ),
        ],
    )
    .await;
    assert!(
        content(&saved).starts_with("Saved as case presentation #1"),
        "{saved}"
    );
    // Kept whole: nothing is held any more.
    let after = click(&fake, ALICE, "present:continue").await;
    assert!(
        content(&after).starts_with("Nothing of a presentation"),
        "{after}"
    );

    let view = fake.command(ALICE, "present", sub("view", number(1))).await;
    for (_, text) in &one {
        assert!(shown(&view).contains(text.as_str()), "{view}");
    }
    assert!(shown(&view).contains("three-way contract"));
    let bob_view = fake.command(BOB, "present", sub("view", number(1))).await;
    assert!(content(&bob_view).contains("You have no case presentation #1"));
    assert!(!shown(&bob_view).contains("sponsor"));

    // The short frame: the question alone.
    let short = fake
        .command(ALICE, "present", sub("short", json!([])))
        .await;
    let keys: Vec<String> = inputs(&short).into_iter().map(|f| f.0).collect();
    assert_eq!(keys, ["question"]);
    let saved = submit(
        &fake,
        ALICE,
        "present:short:0:new",
        &[("question", "How do I end well with a long-standing client?")],
    )
    .await;
    assert!(
        content(&saved).starts_with("Saved as case presentation #2"),
        "{saved}"
    );
    let list = fake.command(ALICE, "present", sub("list", json!([]))).await;
    assert!(
        shown(&list).contains("#1") && shown(&list).contains("#2"),
        "{list}"
    );

    let ask = fake
        .command(ALICE, "present", sub("delete", number(2)))
        .await;
    assert_eq!(buttons(&ask), ["present-delete:2"]);
    let bob_delete = click(&fake, BOB, "present-delete:2").await;
    assert!(content(&bob_delete).contains("You have no case presentation #2"));
    let deleted = click(&fake, ALICE, "present-delete:2").await;
    assert_eq!(content(&deleted), "Case presentation #2 is deleted.");

    // A reflection's form held over a presentation's first step says so.
    submit(&fake, ALICE, "present:seven-eyed:0:new", &one_fields).await;
    let no_text = submit(
        &fake,
        ALICE,
        "reflect:new:gibbs",
        &[("title", "Before"), ("text", " ")],
    )
    .await;
    assert!(content(&no_text).ends_with(REPLACED), "{no_text}");
    // Every word of the presentation's first step comes back as a file.
    let given_back = earlier_form(&fake);
    for (_, words) in &one_fields {
        assert!(given_back.contains(words), "{words}: {given_back}");
    }

    bot.stop().await;
    every_reply_private_and_silent(&fake);
    fake.assert_bodies_valid();
}

/// What a reply says when the form it held replaced another.
const REPLACED: &str = "It replaces the form held for you before, which can no longer be reopened: every word you typed in that one is in the attached file, so nothing is lost.";

/// The newest file giving back a replaced held form's words.
fn earlier_form(fake: &FakeDiscord) -> String {
    fake.requests()
        .iter()
        .rev()
        .flat_map(|r| r.files.clone())
        .find(|(name, _)| name == "earlier-form.txt")
        .map(|(_, bytes)| String::from_utf8(bytes).expect("text"))
        .expect("the earlier form's words, attached")
}

on_both_engines!(forget_me_erases_held_and_log: forget_me_erases_a_held_step_and_the_log, on_postgres_forget_me_erases_a_held_step_and_the_log);

async fn forget_me_erases_held_and_log(storage: Storage) {
    let fake = FakeDiscord::start().await;
    let bot = start(&fake, &storage).await;
    let options = json!([{ "name": "time", "type": 3, "value": "60" }]);
    let modal = fake.command(ALICE, "log", sub("add", options)).await;
    let id = modal["data"]["custom_id"].as_str().unwrap().to_string();
    submit(
        &fake,
        ALICE,
        &id,
        &[("took_away", "Kept."), ("competences", "")],
    )
    .await;
    // A reflection's form with no text is held; the presentation's first
    // step replaces it (a member has one held form), and says so.
    let no_text = submit(
        &fake,
        ALICE,
        "reflect:new:gibbs",
        &[("title", "Before"), ("text", " ")],
    )
    .await;
    assert_eq!(buttons(&no_text), ["reopen:held"], "{no_text}");
    let step_one = submit(
        &fake,
        ALICE,
        "present:seven-eyed:0:new",
        &[("client", "A coachee in transition.")],
    )
    .await;
    assert!(content(&step_one).ends_with(REPLACED), "{step_one}");
    let given_back = earlier_form(&fake);
    assert!(given_back.contains("Title:\nBefore"), "{given_back}");
    // Step two left unopened (closed, timed out): step one is still held.
    let offer = fake
        .command(ALICE, "present", sub("seven-eyed", json!([])))
        .await;
    assert!(
        content(&offer).starts_with("You have a presentation under way"),
        "{offer}"
    );

    fake.command(ALICE, "reflections", sub("forget-me", json!([])))
        .await;
    let done = fake
        .interact_deferred(fixtures::button(fake.next_id(), ALICE, "forget:confirm"))
        .await;
    assert!(content(&done).contains("1 supervision log entry"), "{done}");
    let held = click(&fake, ALICE, "present:continue").await;
    assert!(
        content(&held).starts_with("Nothing of a presentation"),
        "{held}"
    );
    let reopen = click(&fake, ALICE, "reopen:held").await;
    assert_ne!(reopen["type"], 9, "no form comes back: {reopen}");
    let list = fake.command(ALICE, "log", sub("list", json!([]))).await;
    assert!(content(&list).starts_with("Your supervision log is empty"));
    let fresh = fake
        .command(ALICE, "present", sub("seven-eyed", json!([])))
        .await;
    let values: Vec<String> = inputs(&fresh).into_iter().map(|f| f.2).collect();
    assert!(values.iter().all(String::is_empty), "{fresh}");
    bot.stop().await;
    fake.assert_bodies_valid();
}

/// Every way a form comes to be held (a presentation's first step; a
/// reflection refused whole; a reflection saved with some fields refused)
/// replacing a form held for something else gives the earlier form's
/// words back as a file, and says so: a member has one held form, and no
/// word typed into the one replaced is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_way_a_held_form_is_replaced_gives_the_earlier_words_back() {
    let fake = FakeDiscord::start().await;
    let bot = start(&fake, &Storage::sled(crate::bot::scratch_dir())).await;
    let step_one = |words: &'static str| [("client", words)];
    let saved_with_a_refused_field = |words: &'static str| {
        [
            ("title", ""),
            ("text", words),
            ("tags", "C3.5, C9.9"),
            ("mode", "supervision"),
            ("minutes", "a while"),
        ]
    };
    let refused_whole = |words: &'static str| [("title", words), ("text", " ")];

    let first = submit(
        &fake,
        ALICE,
        "present:seven-eyed:0:new",
        &step_one("A coachee whose sponsor pays."),
    )
    .await;
    assert!(
        !content(&first).contains(REPLACED),
        "nothing held before: {first}"
    );

    // Each form below replaces the one held before it, of another kind.
    let mut earlier = "A coachee whose sponsor pays.";
    let steps = [
        (
            "reflect:new:free",
            saved_with_a_refused_field("Saved, with a tag refused.").to_vec(),
            "Saved, with a tag refused.",
        ),
        (
            "present:seven-eyed:0:new",
            step_one("A client who arrives late.").to_vec(),
            "A client who arrives late.",
        ),
        (
            "reflect:new:gibbs",
            refused_whole("Refused whole").to_vec(),
            "Refused whole",
        ),
        (
            "reflect:new:free",
            saved_with_a_refused_field("Saved again, a tag refused.").to_vec(),
            "Saved again, a tag refused.",
        ),
    ];
    for (form, fields, words) in steps {
        let reply = submit(&fake, ALICE, form, &fields).await;
        assert!(
            content(&reply).ends_with(REPLACED),
            "{form} held over a form of another kind says so: {reply}"
        );
        let given_back = earlier_form(&fake);
        assert!(
            given_back.contains(earlier),
            "{form}: the earlier form's words {earlier:?} come back: {given_back}"
        );
        earlier = words;
    }

    bot.stop().await;
    every_reply_private_and_silent(&fake);
    fake.assert_bodies_valid();
}
