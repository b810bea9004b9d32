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
    assert_eq!(buttons(&bad), ["reopen:log"]);
    // A button from before kinds were held apart still reopens it.
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
    assert_eq!(buttons(&refused), ["reopen:log", "held:save:log"]);
    let listed = fake.command(ALICE, "log", sub("list", json!([]))).await;
    assert!(!shown(&listed).contains("#2"), "{listed}");
    let back = click(&fake, ALICE, "reopen:held").await;
    assert_eq!(inputs(&back)[0].2, named, "every word given back");
    // Bob has nothing held: Alice's words are not his to save.
    let bobs = click(&fake, BOB, "held:save:log").await;
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
    assert_eq!(buttons(&refused), ["reopen:case", "held:save:case"]);
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
        ["reopen:case", "present-afresh:seven-eyed"]
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
    let carried_on = submit(&fake, ALICE, "present:seven-eyed:0:again", &one_fields).await;
    assert!(
        !content(&carried_on).contains(REPLACED),
        "a reopened form replaces its own words, nothing to give back: {carried_on}"
    );
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

    // A reflection's form held after a presentation's first step keeps
    // both: each reopens with its own words.
    submit(&fake, ALICE, "present:seven-eyed:0:new", &one_fields).await;
    let no_text = submit(
        &fake,
        ALICE,
        "reflect:new:gibbs",
        &[("title", "Before"), ("text", " ")],
    )
    .await;
    assert!(!content(&no_text).contains(REPLACED), "{no_text}");
    let case = click(&fake, ALICE, "reopen:case").await;
    let values: Vec<String> = inputs(&case).into_iter().map(|f| f.2).collect();
    for (_, words) in &one_fields {
        assert!(values.iter().any(|v| v == words), "{words}: {case}");
    }
    let reflection = click(&fake, ALICE, "reopen:reflection").await;
    assert_eq!(inputs(&reflection)[0].2, "Before", "{reflection}");

    bot.stop().await;
    every_reply_private_and_silent(&fake);
    fake.assert_bodies_valid();
}

/// What a reply says when the form it held replaced another of its kind.
const REPLACED: &str = "form held for you before, which can no longer be reopened: every word you typed in that one is in the attached file, so nothing is lost.";

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
    // A reflection's form with no text is held, and so is the
    // presentation's first step, each in its own place.
    let no_text = submit(
        &fake,
        ALICE,
        "reflect:new:gibbs",
        &[("title", "Before"), ("text", " ")],
    )
    .await;
    assert_eq!(buttons(&no_text), ["reopen:reflection"], "{no_text}");
    let step_one = submit(
        &fake,
        ALICE,
        "present:seven-eyed:0:new",
        &[("client", "A coachee in transition.")],
    )
    .await;
    assert!(!content(&step_one).contains(REPLACED), "{step_one}");
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
    for id in [
        "reopen:held",
        "reopen:reflection",
        "reopen:case",
        "reopen:log",
    ] {
        let reopen = click(&fake, ALICE, id).await;
        assert_ne!(reopen["type"], 9, "{id}: no form comes back: {reopen}");
    }
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

/// Every way a form comes to be held (a reflection refused whole; a
/// reflection saved with some fields refused; a log entry refused; a
/// presentation's first step, then another frame's) replacing a form of
/// its kind held for something else, or begun afresh over one held for the
/// same thing, gives the earlier form's words back as a file, and says so: a member has one held form of each kind, and no
/// word typed into the one replaced is lost. Forms of other kinds held
/// between are kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_way_a_held_form_is_replaced_gives_the_earlier_words_back() {
    let fake = FakeDiscord::start().await;
    let bot = start(&fake, &Storage::sled(crate::bot::scratch_dir())).await;
    let saved_with_a_refused_field = |words: &'static str| {
        vec![
            ("title", ""),
            ("text", words),
            ("tags", "C3.5, C9.9"),
            ("mode", "supervision"),
            ("minutes", "a while"),
        ]
    };
    let refused_log = |words: &'static str| vec![("took_away", words), ("competences", "C9.9")];
    // Each pair: a form held, then one of the same kind for something else.
    let pairs = [
        (
            (
                "reflect:new:gibbs",
                vec![("title", "Refused whole"), ("text", " ")],
            ),
            (
                "reflect:new:free",
                saved_with_a_refused_field("Saved, a tag refused."),
            ),
            "Refused whole",
            "reflection",
        ),
        (
            (
                "reflect:new:free",
                saved_with_a_refused_field("Saved first."),
            ),
            (
                "reflect:new:free",
                saved_with_a_refused_field("Saved second."),
            ),
            "Saved first.",
            "reflection",
        ),
        (
            (
                "log:new:2026-12-01:y:60:group:-",
                refused_log("First meeting's words."),
            ),
            (
                "log:new:2026-12-04:y:60:peer:-",
                refused_log("Second meeting's words."),
            ),
            "First meeting's words.",
            "log entry",
        ),
        (
            (
                "present:seven-eyed:0:new",
                vec![("client", "A coachee whose sponsor pays.")],
            ),
            (
                "present:short:0:new",
                vec![("question", "Sarah Jones from Barclays?")],
            ),
            "A coachee whose sponsor pays.",
            "case presentation",
        ),
        // Begun afresh for the same thing (a new form, Start afresh): the
        // one held is given back too, never replaced unseen.
        (
            (
                "reflect:new:gibbs",
                vec![("title", "Held first"), ("text", " ")],
            ),
            (
                "reflect:new:gibbs",
                vec![("title", "Begun afresh"), ("text", " ")],
            ),
            "Held first",
            "reflection",
        ),
        (
            (
                "log:new:2026-12-01:y:60:group:-",
                refused_log("The held entry's words."),
            ),
            (
                "log:new:2026-12-01:y:60:group:-",
                refused_log("The fresh entry's words."),
            ),
            "The held entry's words.",
            "log entry",
        ),
        (
            (
                "present:seven-eyed:0:new",
                vec![("client", "The held presentation's client.")],
            ),
            (
                "present:seven-eyed:0:new",
                vec![("client", "The fresh presentation's client.")],
            ),
            "The held presentation's client.",
            "case presentation",
        ),
    ];
    for ((first, first_fields), (second, second_fields), earlier, kind) in pairs {
        // (The first may replace the last pair's form of its kind.)
        submit(&fake, ALICE, first, &first_fields).await;
        // A form of another kind between them replaces neither.
        let other = if kind == "log entry" {
            (
                "reflect:new:gibbs",
                vec![("title", "Between"), ("text", " ")],
            )
        } else {
            ("log:new:2026-12-02:y:30:group:-", refused_log("Between."))
        };
        let between = submit(&fake, ALICE, other.0, &other.1).await;
        assert!(
            !content(&between).contains(&format!("It replaces the {kind} ")),
            "{between}"
        );
        let reply = submit(&fake, ALICE, second, &second_fields).await;
        assert!(
            content(&reply).ends_with(&format!("It replaces the {kind} {REPLACED}")),
            "{second} held over a {kind} form held for something else says so: {reply}"
        );
        let given_back = earlier_form(&fake);
        assert!(
            given_back.contains(earlier),
            "{second}: the earlier form's words {earlier:?} come back: {given_back}"
        );
    }

    bot.stop().await;
    every_reply_private_and_silent(&fake);
    fake.assert_bodies_valid();
}

/// A reflection held, then a log entry held: neither replaces the other,
/// and each Reopen brings back its own words; `/log add` then offers the
/// held entry back (Reopen, or Start afresh with the new choices) rather
/// than an empty form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_reflection_and_a_held_log_entry_each_reopen_with_their_own_words() {
    let fake = FakeDiscord::start().await;
    let bot = start(&fake, &Storage::sled(crate::bot::scratch_dir())).await;
    let reflection = submit(
        &fake,
        ALICE,
        "reflect:new:gibbs",
        &[("title", "What I wrote first"), ("text", " ")],
    )
    .await;
    assert_eq!(buttons(&reflection), ["reopen:reflection"], "{reflection}");
    let options = json!([{ "name": "time", "type": 3, "value": "60" }]);
    let modal = fake
        .command(ALICE, "log", sub("add", options.clone()))
        .await;
    let id = modal["data"]["custom_id"].as_str().unwrap().to_string();
    let took = "What the group helped me see about endings.";
    let log = submit(
        &fake,
        ALICE,
        &id,
        &[("took_away", took), ("competences", "C9.9")],
    )
    .await;
    assert_eq!(buttons(&log), ["reopen:log"], "{log}");
    assert!(!content(&log).contains(REPLACED), "{log}");

    let back = click(&fake, ALICE, "reopen:reflection").await;
    let values: Vec<String> = inputs(&back).into_iter().map(|f| f.2).collect();
    assert_eq!(values[0], "What I wrote first", "{back}");
    assert!(!values.iter().any(|v| v == took), "{back}");
    let back = click(&fake, ALICE, "reopen:log").await;
    let values: Vec<String> = inputs(&back).into_iter().map(|f| f.2).collect();
    assert_eq!(values, [took, "C9.9"], "{back}");
    let none = click(&fake, ALICE, "reopen:case").await;
    assert_ne!(none["type"], 9, "no presentation is held: {none}");
    // Bob reopens nothing of Alice's.
    for kind in ["reflection", "log", "case"] {
        let bobs = click(&fake, BOB, &format!("reopen:{kind}")).await;
        assert_ne!(bobs["type"], 9, "{kind}: {bobs}");
    }

    // `/log add` offers the held entry back.
    let offer = fake.command(ALICE, "log", sub("add", options)).await;
    assert_ne!(offer["type"], 9, "not an empty form: {offer}");
    assert!(
        content(&offer).starts_with("You have a log entry under way"),
        "{offer}"
    );
    let offered = buttons(&offer);
    assert_eq!(offered[0], "reopen:log", "{offer}");
    assert!(offered[1].starts_with("log-afresh:"), "{offer}");
    let afresh = click(&fake, ALICE, &offered[1]).await;
    let values: Vec<String> = inputs(&afresh).into_iter().map(|f| f.2).collect();
    assert!(values.iter().all(String::is_empty), "{afresh}");
    let afresh_id = afresh["data"]["custom_id"].as_str().unwrap().to_string();
    assert!(afresh_id.starts_with("log:new:"), "{afresh_id}");
    // The held entry stays until the fresh form is submitted.
    let still = click(&fake, ALICE, "reopen:log").await;
    assert_eq!(inputs(&still)[0].2, took, "{still}");
    // Bob, with nothing held, gets the form at once.
    let bobs = fake
        .command(
            BOB,
            "log",
            sub("add", json!([{ "name": "time", "type": 3, "value": "60" }])),
        )
        .await;
    assert_eq!(bobs["type"], 9, "{bobs}");

    bot.stop().await;
    every_reply_private_and_silent(&fake);
    fake.assert_bodies_valid();
}
