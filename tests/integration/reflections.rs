//! Private reflections end to end: the modal, saving, listing, viewing,
//! exporting, deleting and forgetting through the fake Discord; two members
//! and an admin, proving nothing of one reaches another; encryption at rest.

use serde_json::{Value, json};

use crate::bot::{Bot, Storage, logs, on_both_engines};
use crate::fake_discord::FakeDiscord;
use crate::fake_discord::fixtures::{self, ADMIN, ALICE, BOB, Member};
use crate::replies::{content, is_ephemeral};

fn sub(name: &str, options: Value) -> Value {
    json!([{ "name": name, "type": 1, "options": options }])
}

async fn reflections(fake: &FakeDiscord, who: Member, name: &str, options: Value) -> Value {
    fake.command(who, "reflections", sub(name, options)).await
}

fn number(n: u64) -> Value {
    json!([{ "name": "number", "type": 4, "value": n }])
}

/// Writes a reflection through the modal, as `who`; returns the reply.
async fn write(fake: &FakeDiscord, who: Member, text: &str, tags: &str) -> Value {
    fake.interact(fixtures::modal_submit(
        fake.next_id(),
        who,
        "reflect:new:gibbs",
        &[
            ("title", "Session notes"),
            ("text", text),
            ("tags", tags),
            ("mode", "integrated"),
        ],
    ))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflect_with_an_unknown_model_lists_the_models_instead_of_a_form() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, false).await;
    let options = json!([{ "name": "model", "type": 3, "value": "driscoll" }]);
    let reply = fake.command(ALICE, "reflect", options).await;
    assert_ne!(reply["type"], 9, "no form: {reply}");
    assert!(is_ephemeral(&reply), "{reply}");
    assert_eq!(
        content(&reply),
        "There is no reflective model `driscoll`. Choose one of: free, gibbs, rolfe, kolb."
    );
    bot.stop().await;
}

on_both_engines!(reflect_and_save: reflect_opens_a_modal_and_a_submission_is_saved_privately, on_postgres_reflect_opens_a_modal_and_a_submission_is_saved_privately);

/// Tables of the bot's database held locked by another session for six
/// seconds, as a long transaction or a failover would hold the bot's calls.
struct TablesLocked {
    session: std::thread::JoinHandle<()>,
    ended: std::sync::Arc<std::sync::atomic::AtomicBool>,
    server: crate::postgres::Database,
    /// The query counting the lock's grants on the server.
    granted: String,
}

impl TablesLocked {
    /// Takes `mode` (an SQL lock mode, `EXCLUSIVE`) on `tables` and returns
    /// once the server has granted it.
    fn for_six_seconds(storage: &Storage, tables: &[&str], mode: &str) -> TablesLocked {
        use std::time::{Duration, Instant};
        let server = storage.server().expect("a database");
        let ended = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let session = {
            let (db, ended) = (server.clone(), std::sync::Arc::clone(&ended));
            let sql = format!(
                "BEGIN; LOCK TABLE {} IN {mode} MODE; SELECT pg_sleep(6); COMMIT;",
                tables.join(", ")
            );
            std::thread::spawn(move || {
                db.sql(&sql);
                ended.store(true, std::sync::atomic::Ordering::SeqCst);
            })
        };
        // pg_locks names `ACCESS EXCLUSIVE` as `AccessExclusiveLock`.
        let shown: String = mode
            .split_whitespace()
            .map(|w| w[..1].to_string() + &w[1..].to_lowercase())
            .collect();
        let relations: Vec<String> = tables.iter().map(|t| format!("'{t}'::regclass")).collect();
        let granted = format!(
            "SELECT count(*) FROM pg_locks WHERE relation IN ({}) AND mode = '{shown}Lock' AND granted",
            relations.join(", ")
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while server.sql(&granted) != tables.len().to_string() {
            assert!(Instant::now() < deadline, "the lock is taken");
            std::thread::sleep(Duration::from_millis(50));
        }
        TablesLocked {
            session,
            ended,
            server: server.clone(),
            granted,
        }
    }

    /// Whether the session has ended (it let go of the tables before).
    fn let_go(&self) -> bool {
        self.ended.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Whether the server still grants the lock: asked of the server, so
    /// that a session that let go but whose client has not yet returned
    /// (a busy machine) counts as let go.
    fn still_held(&self) -> bool {
        self.server.sql(&self.granted) != "0"
    }

    /// Waits for the session to end.
    fn end(self) {
        self.session.join().expect("the lock's session ends");
    }
}

/// A save that waits on the database (here a lock another session holds
/// on the reflections' table) is acknowledged within Discord's three
/// seconds, privately, and answered once it is kept: the member is never
/// left with "This interaction failed" while their words are being saved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_slow_save_is_acknowledged_in_time_and_answered_once_kept() {
    let Some(storage) = Storage::postgres() else {
        return;
    };
    let fake = FakeDiscord::start().await;
    let bot = Bot::start_on(&fake, &storage, crate::bot::first_clock()).await;
    let held = TablesLocked::for_six_seconds(&storage, &["companion_reflections"], "EXCLUSIVE");

    let id = fake.next_id();
    fake.dispatch(
        "INTERACTION_CREATE",
        fixtures::modal_submit(
            id,
            ALICE,
            "reflect:new:free",
            &[
                ("title", "Waiting"),
                ("text", "Words typed while the database waits."),
            ],
        ),
    );
    let callback = fake.callback_for(&id.to_string()).await.json().clone();
    assert!(!held.let_go(), "acknowledged while the save still waited");
    assert_eq!(callback["type"], 5, "acknowledged first: {callback}");
    assert_eq!(callback["data"]["flags"], 64, "privately: {callback}");
    let token = fixtures::token(id);
    let answer = fake
        .wait_for("the answer once kept", |r| {
            r.method == "PATCH" && r.path.contains(&token) && r.path.ends_with("/@original")
        })
        .await;
    assert!(!held.still_held(), "answered once kept");
    let said = answer.json()["content"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(said.contains("Saved as reflection #1"), "{said}");
    held.end();

    let list = reflections(&fake, ALICE, "list", json!([])).await;
    assert!(
        content(&list).contains("Waiting") || list.to_string().contains("Waiting"),
        "{list}"
    );
    bot.stop().await;
    fake.assert_bodies_valid();
}

/// Commands that wait on the database (here behind a lock another session
/// holds on the reflections' tables) hold up nothing else: with more of
/// them waiting than the runtime has threads, a lookup is still answered
/// at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_commands_waiting_on_the_database_hold_up_no_one_else() {
    use std::time::Duration;
    let Some(storage) = Storage::postgres() else {
        return;
    };
    let fake = FakeDiscord::start().await;
    let bot = Bot::start_on(&fake, &storage, crate::bot::first_clock()).await;
    let held = TablesLocked::for_six_seconds(
        &storage,
        &[
            "companion_reflections",
            "companion_summaries",
            "companion_member_keys",
        ],
        "ACCESS EXCLUSIVE",
    );
    // Three members list their reflections: each waits for the lock.
    for who in [ALICE, BOB, ADMIN] {
        fake.dispatch(
            "INTERACTION_CREATE",
            fixtures::command(fake.next_id(), who, "reflections", sub("list", json!([]))),
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let looked_up = fake
        .command(
            ALICE,
            "competence",
            json!([{ "name": "code", "type": 3, "value": "3.5" }]),
        )
        .await;
    assert!(!held.let_go(), "answered while the others still waited");
    assert!(looked_up.to_string().contains("3.5"), "{looked_up}");
    held.end();
    bot.stop().await;
}

async fn reflect_and_save(storage: Storage) {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start_on(&fake, &storage, crate::bot::first_clock()).await;

    let options = json!([
        { "name": "competence", "type": 3, "value": "C3.5" },
        { "name": "model", "type": 3, "value": "gibbs" },
    ]);
    let modal = fake.command(ALICE, "reflect", options).await;
    assert_eq!(modal["type"], 9, "a modal");
    assert_eq!(modal["data"]["custom_id"], "reflect:new:gibbs");
    let fields: Vec<&Value> = modal["data"]["components"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| &row["components"][0])
        .collect();
    let tags = fields
        .iter()
        .find(|f| f["custom_id"] == "tags")
        .expect("tags field");
    assert_eq!(tags["value"], "C3.5", "prefilled from the option");
    let text = fields
        .iter()
        .find(|f| f["custom_id"] == "text")
        .expect("text field");
    assert_eq!(text["max_length"], 4000);
    assert!(
        text["value"]
            .as_str()
            .is_some_and(|v| v.starts_with("Description:")),
        "Gibbs template"
    );

    let saved = write(
        &fake,
        ALICE,
        "We explored C2.8 today; my client Sarah set a goal.",
        "C3.5",
    )
    .await;
    assert!(is_ephemeral(&saved));
    let said = content(&saved);
    assert!(
        said.contains("Saved as reflection #1, tagged C3.5"),
        "{said}"
    );
    assert!(
        said.contains("someone's name"),
        "the confidentiality nudge: {said}"
    );
    assert!(
        !said.contains("Sarah"),
        "the nudge never repeats the detail"
    );
    assert!(said.contains("You mention C2.8"), "{said}");
    let buttons: Vec<&str> = saved["data"]["components"][0]["components"]
        .as_array()
        .expect("buttons")
        .iter()
        .filter_map(|b| b["custom_id"].as_str())
        .collect();
    assert_eq!(buttons, ["edit:1", "tag:1:core:2.8"]);

    let tagged = fake
        .interact(fixtures::button(fake.next_id(), ALICE, "tag:1:core:2.8"))
        .await;
    assert!(content(&tagged).contains("now tagged C2.8"));

    let list = reflections(&fake, ALICE, "list", json!([])).await;
    assert!(is_ephemeral(&list));
    let listed = list["data"]["embeds"][0]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(
        listed.contains("#1") && listed.contains("C3.5, C2.8"),
        "{listed}"
    );

    let view = reflections(&fake, ALICE, "view", number(1)).await;
    assert!(is_ephemeral(&view));
    assert!(
        view["data"]["embeds"][0]["description"]
            .as_str()
            .unwrap_or_default()
            .contains("set a goal")
    );

    let mine = fake
        .interact(fixtures::button(fake.next_id(), ALICE, "mine:core:3.5"))
        .await;
    assert!(is_ephemeral(&mine));
    assert!(
        mine["data"]["embeds"][0]["title"]
            .as_str()
            .unwrap_or_default()
            .contains("tagged C3.5")
    );

    let map = fake.command(ALICE, "map", json!([])).await;
    assert!(is_ephemeral(&map));
    assert!(map.to_string().contains("▰"));

    let edit = fake
        .interact(fixtures::button(fake.next_id(), ALICE, "edit:1"))
        .await;
    assert_eq!(edit["type"], 9);
    assert_eq!(edit["data"]["custom_id"], "reflect:edit:1");
    let edited = fake
        .interact(fixtures::modal_submit(
            fake.next_id(),
            ALICE,
            "reflect:edit:1",
            &[
                ("title", "Renamed"),
                ("text", "A calmer account."),
                ("tags", "C3.5, 9.9"),
                ("mode", "nonsense"),
            ],
        ))
        .await;
    let said = content(&edited);
    assert!(said.contains("#1 updated"), "{said}");
    assert!(
        said.contains("9.9 was left out: there is no such competence")
            && said.contains("It is kept as integrated"),
        "an edit keeps what it cannot read, and nothing is lost: {said}"
    );
    assert!(
        said.contains(
            "What you typed is kept for 24 hours: Reopen brings the form back as you typed it."
        ),
        "{said}"
    );
    assert_eq!(
        edited["data"]["components"][0]["components"][0]["custom_id"], "reopen:reflection",
        "the form reopens from the reply: {edited}"
    );
    // Only the bad tag is dropped: C3.5 stays.
    let view = reflections(&fake, ALICE, "view", number(1)).await;
    assert!(view.to_string().contains("C3.5"), "{view}");
    // Reopened, the form is as typed, refused values included, to correct.
    let reopened = fake
        .interact(fixtures::button(fake.next_id(), ALICE, "reopen:held"))
        .await;
    assert_eq!(reopened["type"], 9, "{reopened}");
    assert_eq!(reopened["data"]["custom_id"], "reflect:again:edit:1");
    assert_eq!(
        modal_values(&reopened),
        ["Renamed", "A calmer account.", "C3.5, 9.9", "nonsense", ""]
    );
    // Nobody else reopens it: the member comes from Discord, not the button.
    let other = fake
        .interact(fixtures::button(fake.next_id(), BOB, "reopen:held"))
        .await;
    assert!(
        content(&other).starts_with("Nothing you typed is held any more"),
        "{other}"
    );
    let corrected = fake
        .interact(fixtures::modal_submit(
            fake.next_id(),
            ALICE,
            "reflect:again:edit:1",
            &[
                ("title", "Renamed"),
                ("text", "A calmer account."),
                ("tags", "C3.5, C2.8"),
                ("mode", "coaching"),
            ],
        ))
        .await;
    let said = content(&corrected);
    assert!(
        said.contains("#1 updated") && !said.contains("Not everything"),
        "{said}"
    );
    // Kept whole now: the held form is let go of.
    let gone = fake
        .interact(fixtures::button(fake.next_id(), ALICE, "reopen:held"))
        .await;
    assert!(
        content(&gone).starts_with("Nothing you typed is held any more"),
        "{gone}"
    );

    // A form with no text saves nothing, and keeps what was typed.
    let blank = fake
        .interact(fixtures::modal_submit(
            fake.next_id(),
            ALICE,
            "reflect:new:gibbs",
            &[
                ("title", "Before the next session"),
                ("text", "   "),
                ("tags", "C3.5"),
                ("mode", "therapy"),
                ("minutes", "50"),
            ],
        ))
        .await;
    let said = content(&blank);
    assert!(
        said.contains("What you typed is kept for 24 hours"),
        "{said}"
    );
    assert_eq!(
        blank["data"]["components"][0]["components"][0]["custom_id"],
        "reopen:reflection"
    );
    let reopened = fake
        .interact(fixtures::button(fake.next_id(), ALICE, "reopen:held"))
        .await;
    assert_eq!(reopened["data"]["custom_id"], "reflect:again:new:gibbs");
    assert_eq!(
        modal_values(&reopened),
        ["Before the next session", "   ", "C3.5", "therapy", "50"]
    );

    // A new reflection whose kind of work is none of them is filed as other,
    // never as coaching, and says so; its time is refused by itself.
    let saved = fake
        .interact(fixtures::modal_submit(
            fake.next_id(),
            ALICE,
            "reflect:new:free",
            &[
                ("title", ""),
                ("text", "Supervising a new coach."),
                ("tags", "C3.5, C9.9"),
                ("mode", "supervision"),
                ("minutes", "a while"),
            ],
        ))
        .await;
    let said = content(&saved);
    assert!(
        said.contains("Saved as reflection #2, tagged C3.5"),
        "{said}"
    );
    assert!(said.contains("C9.9 was left out"), "{said}");
    assert!(said.contains("filed as other"), "{said}");
    assert!(
        said.contains("Time spent: That is not a time spent"),
        "{said}"
    );
    assert_eq!(
        saved["data"]["components"][0]["components"][0]["custom_id"], "reopen:reflection",
        "{saved}"
    );

    bot.stop().await;
    fake.assert_bodies_valid();
}

on_both_engines!(export_delete_forget: export_delete_and_forget_me, on_postgres_export_delete_and_forget_me);

async fn export_delete_forget(storage: Storage) {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start_on(&fake, &storage, crate::bot::first_clock()).await;
    write(&fake, ALICE, "First reflection.", "").await;
    write(&fake, ALICE, "Second reflection.", "I2.1").await;

    let id = fake.next_id();
    fake.dispatch(
        "INTERACTION_CREATE",
        fixtures::command(id, ALICE, "reflections", sub("export", json!([]))),
    );
    let export = fake.callback_for(&id.to_string()).await;
    assert!(is_ephemeral(export.json()));
    let names: Vec<&str> = export.files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[0].ends_with(".md") && names[1].ends_with(".json"));
    let md = String::from_utf8_lossy(&export.files[0].1);
    assert!(md.contains("First reflection.") && md.contains("Second reflection."));
    let json: Value = serde_json::from_slice(&export.files[1].1).expect("JSON export");
    assert_eq!(json["reflections"].as_array().map(Vec::len), Some(2));
    assert_eq!(json["reflections"][1]["competences"][0], "integration:2.1");

    let ask = reflections(&fake, ALICE, "delete", number(2)).await;
    assert!(content(&ask).contains("cannot be undone"));
    assert_eq!(
        ask["data"]["components"][0]["components"][0]["custom_id"],
        "delete:2"
    );
    assert!(
        reflections(&fake, ALICE, "view", number(2))
            .await
            .to_string()
            .contains("Second"),
        "asking deletes nothing"
    );
    let gone = fake
        .interact_deferred(fixtures::button(fake.next_id(), ALICE, "delete:2"))
        .await;
    assert!(content(&gone).contains("#2 is deleted"));
    assert!(
        content(&reflections(&fake, ALICE, "view", number(2)).await)
            .contains("You have no reflection #2")
    );

    let ask = reflections(&fake, ALICE, "forget-me", json!([])).await;
    assert!(content(&ask).contains("all 1 of your reflections"));
    let done = fake
        .interact_deferred(fixtures::button(fake.next_id(), ALICE, "forget:confirm"))
        .await;
    assert!(content(&done).contains("removed from this bot's records"));
    assert!(content(&done).contains("within 15 minutes"));
    assert!(
        content(&reflections(&fake, ALICE, "list", json!([])).await).contains("no reflections yet")
    );

    bot.stop().await;
    fake.assert_bodies_valid();
}

/// The data directory's files, each with its bytes, in order.
fn snapshot(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = crate::support::files_under(dir)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(&f).unwrap_or_default();
            (f, bytes)
        })
        .collect();
    files.sort();
    files
}

/// Forget-me rewrites the database, so fair use counts its confirmation,
/// not the asking: the command and one click erase everything; a second
/// click within 30 s (a stale or duplicated button) is refused in words,
/// privately, with nothing erased and not a byte of the data directory
/// written; once the bot's clock is past the wait, a click works again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_me_is_counted_at_the_confirmation() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, false).await;
    let confirm = |who: Member| {
        fake.interact_deferred(fixtures::button(fake.next_id(), who, "forget:confirm"))
    };
    write(&fake, ALICE, "Before.", "").await;
    // Asking, even twice, costs no wait; the first click is never refused.
    for _ in 0..2 {
        let ask = reflections(&fake, ALICE, "forget-me", json!([])).await;
        assert!(content(&ask).contains("all 1 of your reflections"), "{ask}");
    }
    let done = confirm(ALICE).await;
    assert!(content(&done).contains("Done: 1 reflection"), "{done}");

    // Something new to lose; the same button again, 10 s on.
    write(&fake, ALICE, "After.", "").await;
    bot.clock.advance(chrono::Duration::seconds(10));
    let before = snapshot(&bot.data_dir);
    let again = confirm(ALICE).await;
    assert!(is_ephemeral(&again), "{again}");
    let said = content(&again);
    assert!(
        said.contains("forget-me") && said.contains("Try again in 20 s"),
        "{said}"
    );
    assert!(
        snapshot(&bot.data_dir) == before,
        "a refused click rewrites nothing"
    );
    let list = reflections(&fake, ALICE, "list", json!([])).await;
    assert!(!content(&list).contains("no reflections yet"), "{list}");
    // Alice's wait is hers: Bob's click goes through.
    let bobs = confirm(BOB).await;
    assert!(!content(&bobs).contains("Try again"), "{bobs}");

    // Past the wait by the bot's clock, a click erases again.
    bot.clock.advance(chrono::Duration::seconds(20));
    let later = confirm(ALICE).await;
    assert!(content(&later).contains("Done: 1 reflection"), "{later}");
    assert!(
        content(&reflections(&fake, ALICE, "list", json!([])).await).contains("no reflections yet")
    );

    bot.stop().await;
    fake.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_of_one_member_reaches_another_or_an_admin() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, false).await;
    let marker = "alice-private-marker-7f3a9c";
    write(
        &fake,
        ALICE,
        &format!("Client work I must keep private: {marker}."),
        "C3.5",
    )
    .await;

    for who in [BOB, ADMIN] {
        let list = reflections(&fake, who, "list", json!([])).await;
        assert!(content(&list).contains("no reflections yet"), "{list}");
        for sub_name in ["view", "edit", "delete"] {
            let r = reflections(&fake, who, sub_name, number(1)).await;
            assert!(is_ephemeral(&r));
            assert!(
                content(&r).contains("You have no reflection #1"),
                "{sub_name}: {r}"
            );
        }
        // Forged clicks and forms name Alice's reflection; they act on the clicker's own.
        for forged in [
            "view:1",
            "edit:1",
            "delete:1",
            "tag:1:core:2.8",
            "mine:core:3.5",
        ] {
            let button = fixtures::button(fake.next_id(), who, forged);
            let r = if forged.starts_with("delete:") {
                fake.interact_deferred(button).await
            } else {
                fake.interact(button).await
            };
            assert!(!r.to_string().contains(marker), "{forged}");
        }
        let r = fake
            .interact(fixtures::modal_submit(
                fake.next_id(),
                who,
                "reflect:edit:1",
                &[("text", "overwrite!")],
            ))
            .await;
        assert!(content(&r).contains("You have no reflection #1"));
        let map = fake.command(who, "map", json!([])).await;
        assert!(
            map.to_string().contains("0 reflections touching 0 of 60"),
            "{map}"
        );
        let forgot = fake
            .interact_deferred(fixtures::button(fake.next_id(), who, "forget:confirm"))
            .await;
        assert!(content(&forgot).contains("Done: 0 reflections"), "{forgot}");
        let export = reflections(&fake, who, "export", json!([])).await;
        assert!(
            content(&export).starts_with("You have nothing here to export"),
            "{export}"
        );
    }

    // Alice's reflection is intact, and only her own interactions ever carried it.
    let view = reflections(&fake, ALICE, "view", number(1)).await;
    assert!(view.to_string().contains(marker));
    for r in fake.requests() {
        let body = r.body.as_ref().map(Value::to_string).unwrap_or_default();
        if body.contains(marker) {
            assert!(
                is_reply_to(&fake, &r.path, ALICE),
                "{} {} carries Alice's text",
                r.method,
                r.path
            );
        }
    }
    assert!(!logs().contains(marker), "reflection text is never logged");
    let dir = bot.data_dir.clone();
    bot.stop().await;

    // Encrypted at rest: the marker is nowhere in the data directory's bytes.
    for entry in walk(&dir) {
        let bytes = std::fs::read(&entry).expect("read data file");
        assert!(
            !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
            "{} holds the marker in plain text",
            entry.display()
        );
    }
    fake.assert_bodies_valid();
}

/// Whether a callback path answers an interaction that `who` made.
fn is_reply_to(fake: &FakeDiscord, path: &str, who: Member) -> bool {
    let Some(id) = path
        .strip_prefix("/api/v10/interactions/")
        .and_then(|p| p.split('/').next())
    else {
        return false;
    };
    fake.dispatched().iter().any(|d| {
        d["id"] == id && d["member"]["user"]["id"].as_str() == Some(who.id.to_string().as_str())
    })
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let files = crate::support::files_under(dir);
    assert!(!files.is_empty(), "the data directory holds files");
    files
}

/// Deleted through Discord, a reflection's sealed bytes leave the data
/// directory at the scheduler's upkeep, 15 minutes later by the bot's clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_reflection_leaves_the_data_directory_within_fifteen_minutes() {
    use crate::storage::{occurs_in, raw_tree};
    let fake = FakeDiscord::start().await;
    let mut bot = Bot::start(&fake, false).await;
    write(&fake, ALICE, "Deleted, then erased.", "").await;
    let sealed = raw_tree(&bot.data_dir, "reflections")
        .into_iter()
        .map(|(_, v)| v)
        .next()
        .expect("the sealed record");
    let probe = sealed[sealed.len() / 2..sealed.len() / 2 + 24].to_vec();
    let gone = fake
        .interact_deferred(fixtures::button(fake.next_id(), ALICE, "delete:1"))
        .await;
    assert!(content(&gone).contains("#1 is deleted"));
    assert!(
        !occurs_in(&bot.data_dir, &probe).is_empty(),
        "until the upkeep, sled's log still holds it (the probe works)"
    );
    let due = practice_companion::clock::Clock::now(bot.clock.as_ref())
        + practice_companion::store::ERASE_WITHIN;
    bot.clock.advance(practice_companion::store::ERASE_WITHIN);
    bot.ticked(due).await;
    assert_eq!(
        occurs_in(&bot.data_dir, &probe),
        Vec::<std::path::PathBuf>::new(),
        "erased from every file of the data directory"
    );
    bot.stop().await;
}

/// Forget-me through Discord: the reply says the records are removed now
/// and their last sealed bytes leave within 15 minutes; the scheduler's
/// upkeep makes that true by the bot's clock, backups included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_member_leaves_the_data_directory_within_the_bound_the_reply_states() {
    use crate::storage::{occurs_in, raw_tree};
    let fake = FakeDiscord::start().await;
    let mut bot = Bot::start(&fake, false).await;
    write(&fake, ALICE, "Forgotten, then erased.", "").await;
    let sealed = raw_tree(&bot.data_dir, "reflections")
        .into_iter()
        .map(|(_, v)| v)
        .next()
        .expect("the sealed record");
    let probe = sealed[sealed.len() / 2..sealed.len() / 2 + 24].to_vec();
    let ask = reflections(&fake, ALICE, "forget-me", json!([])).await;
    assert!(content(&ask).contains("all 1 of your reflections"));
    let done = fake
        .interact_deferred(fixtures::button(fake.next_id(), ALICE, "forget:confirm"))
        .await;
    assert!(content(&done).contains("within 15 minutes"), "{done}");
    let due = practice_companion::clock::Clock::now(bot.clock.as_ref())
        + practice_companion::store::ERASE_WITHIN;
    bot.clock.advance(practice_companion::store::ERASE_WITHIN);
    bot.ticked(due).await;
    assert_eq!(
        occurs_in(&bot.data_dir, &probe),
        Vec::<std::path::PathBuf>::new(),
        "erased from every file of the data directory, backups included"
    );
    bot.stop().await;
}

/// A CPD record through Discord: the time spent from the form, the
/// membership year's start month, Markdown and CSV, privately.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cpd_record_is_exported_from_what_the_form_recorded() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, false).await;
    let saved = fake
        .interact(fixtures::modal_submit(
            fake.next_id(),
            ALICE,
            "reflect:new:rolfe",
            &[
                ("title", "Rupture and repair"),
                (
                    "text",
                    "What? A rupture.\nSo what? I rushed.\nNow what? Pause first.",
                ),
                ("tags", "C3.5"),
                ("mode", "coaching"),
                ("minutes", "1h 30"),
            ],
        ))
        .await;
    assert!(content(&saved).contains("Saved as reflection #1"));
    let untimed = fake
        .interact(fixtures::modal_submit(
            fake.next_id(),
            ALICE,
            "reflect:new:free",
            &[("text", "Kept, time or no time."), ("minutes", "soon")],
        ))
        .await;
    let said = content(&untimed);
    assert!(
        said.contains("Saved as reflection #2")
            && said.contains("Time spent: That is not a time spent")
            && said.contains("give minutes (45)"),
        "the text is kept and the time refused in words: {said}"
    );

    let id = fake.next_id();
    let options = json!([
        { "name": "format", "type": 4, "value": 1 },
        { "name": "starts", "type": 4, "value": 3 },
    ]);
    fake.dispatch(
        "INTERACTION_CREATE",
        fixtures::command(id, ALICE, "reflections", sub("export", options)),
    );
    let export = fake.callback_for(&id.to_string()).await;
    assert!(is_ephemeral(export.json()));
    assert!(content(export.json()).contains("Membership years start in April"));
    let names: Vec<&str> = export.files.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names[0].starts_with("cpd-") && names[0].ends_with(".md"),
        "{names:?}"
    );
    assert!(names[1].ends_with(".csv"), "{names:?}");
    let md = String::from_utf8_lossy(&export.files[0].1);
    assert!(md.contains("**Time spent:** 1 hour 30 minutes"), "{md}");
    assert!(md.contains("**What I learned:**\n\nI rushed."), "{md}");
    assert!(
        md.contains("**What will change in my practice:**\n\nPause first."),
        "{md}"
    );
    assert!(md.contains("Core 3.5 — "), "{md}");
    assert!(md.contains("**Time spent:** not recorded"), "{md}");
    let csv = String::from_utf8_lossy(&export.files[1].1);
    assert!(
        csv.starts_with("membership_year,date,title,activity"),
        "{csv}"
    );

    // The CPD options alone are refused in words.
    let wrong = reflections(
        &fake,
        ALICE,
        "export",
        json!([{ "name": "year", "type": 4, "value": 2026 }]),
    )
    .await;
    assert!(
        content(&wrong).contains("belong to the CPD record"),
        "{wrong}"
    );
    // Bob's record holds nothing of Alice's.
    let id = fake.next_id();
    fake.dispatch(
        "INTERACTION_CREATE",
        fixtures::command(
            id,
            BOB,
            "reflections",
            sub(
                "export",
                json!([{ "name": "format", "type": 4, "value": 1 }]),
            ),
        ),
    );
    let bobs = fake.callback_for(&id.to_string()).await;
    assert!(
        bobs.files.is_empty()
            && content(bobs.json()).starts_with(
                "You have no reflections, supervision logged, case presentations, or roles or items at a group's meetings"
            ),
        "{}",
        bobs.json()
    );

    // Asking again at once meets the cooldown, in words: export once a
    // minute, the map every 15 s, per member.
    let wait = |reply: &Value| -> u64 {
        let said = content(reply);
        assert!(is_ephemeral(reply), "{said}");
        said.split("Try again in ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a wait in seconds: {said}"))
    };
    let soon = reflections(&fake, ALICE, "export", json!([])).await;
    assert_eq!(wait(&soon), 60, "the bot's clock has not moved: {soon}");
    // The waits follow the bot's clock: a minute on, export works again.
    bot.clock.advance(chrono::Duration::seconds(59));
    let almost = reflections(&fake, ALICE, "export", json!([])).await;
    assert_eq!(wait(&almost), 1, "{almost}");
    bot.clock.advance(chrono::Duration::seconds(1));
    let again = reflections(&fake, ALICE, "export", json!([])).await;
    assert!(!content(&again).contains("Try again"), "{again}");
    fake.command(ALICE, "map", json!([])).await;
    let map = fake.command(ALICE, "map", json!([])).await;
    assert_eq!(wait(&map), 15, "{map}");
    // Forget-me's wait is counted at its confirmation (see
    // `forget_me_is_counted_at_the_confirmation`): asking again is free.
    reflections(&fake, ALICE, "forget-me", json!([])).await;
    let forget = reflections(&fake, ALICE, "forget-me", json!([])).await;
    assert!(content(&forget).contains("Go ahead?"), "{forget}");
    // Per member: Bob's map is not held up by Alice's.
    let bobs_map = fake.command(BOB, "map", json!([])).await;
    assert!(!content(&bobs_map).contains("Try again"), "{bobs_map}");
    bot.stop().await;
    fake.assert_bodies_valid();
}

/// An export larger than one message may carry arrives in several private
/// messages, each within Discord's upload limit, with every reflection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_export_arrives_in_messages_within_the_upload_limit() {
    use practice_companion::framework::Framework;
    use practice_companion::reflections::{Draft, MAX_STORED_CHARS};
    use practice_companion::store::Store;

    let dir = crate::bot::scratch_dir();
    {
        let store = Store::open(&dir, None).expect("store");
        let f = Framework::builtin().expect("framework");
        for i in 0..110 {
            let text = format!(
                "Entry {i}. {}",
                "A long reflection, written in the console. ".repeat(MAX_STORED_CHARS / 45)
            );
            let draft = Draft {
                text,
                ..Draft::default()
            };
            store
                .add_reflection(ALICE.id, |id| {
                    draft
                        .validated()
                        .unwrap()
                        .into_reflection(id, ALICE.id, chrono::Utc::now(), &f)
                })
                .expect("save");
        }
    }
    let fake = FakeDiscord::start().await;
    let bot = Bot::start_in(&fake, false, dir).await;
    let id = fake.next_id();
    fake.dispatch(
        "INTERACTION_CREATE",
        fixtures::command(id, ALICE, "reflections", sub("export", json!([]))),
    );
    let first = fake.callback_for(&id.to_string()).await;
    assert!(is_ephemeral(first.json()));
    let said = content(first.json());
    let files: usize = said
        .split("comes in ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the reply says how many files: {said}"));
    assert!(files >= 4, "{said}");
    let followups = fake
        .wait_until("the export's follow-up messages", || {
            let f: Vec<_> = fake
                .requests()
                .into_iter()
                .filter(|r| {
                    r.method == "POST" && r.path.contains("/webhooks/") && !r.files.is_empty()
                })
                .collect();
            let arrived: usize = first.files.len() + f.iter().map(|r| r.files.len()).sum::<usize>();
            (arrived >= files).then_some(f)
        })
        .await;
    assert!(!followups.is_empty());
    let mut md = String::new();
    let mut json_items = 0;
    for message in std::iter::once(&first).chain(followups.iter()) {
        let bytes: usize = message.files.iter().map(|(_, b)| b.len()).sum();
        assert!(bytes <= 10 * 1024 * 1024, "a message carries {bytes} bytes");
        assert!(message.files.len() <= 10);
        if !std::ptr::eq(message, &first) {
            assert_eq!(message.json()["flags"], 64, "follow-ups are private too");
        }
        for (name, content) in &message.files {
            if name.ends_with(".md") {
                md.push_str(&String::from_utf8_lossy(content));
            } else {
                let v: Value = serde_json::from_slice(content).expect("each JSON part parses");
                json_items += v["reflections"].as_array().map_or(0, Vec::len);
            }
        }
    }
    assert_eq!(json_items, 110);
    // Discord's form cannot hold such a text: editing it there is refused
    // rather than cutting it.
    let edit = fake
        .interact(fixtures::button(fake.next_id(), ALICE, "edit:1"))
        .await;
    assert_ne!(edit["type"], 9, "no modal");
    assert!(
        content(&edit).contains("more than Discord's form holds"),
        "{edit}"
    );
    for i in 0..110 {
        assert!(md.contains(&format!("Entry {i}. ")), "entry {i}");
    }
    bot.stop().await;
    fake.assert_bodies_valid();
}

/// A list longer than a page says how to reach the next one, and its Page
/// button opens it; no card repeats what Discord already says of an
/// ephemeral reply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_leads_to_its_next_page() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, false).await;
    for i in 1..=11 {
        write(&fake, ALICE, &format!("Entry {i}."), "").await;
    }
    let list = reflections(&fake, ALICE, "list", json!([])).await;
    let footer = list["data"]["embeds"][0]["footer"]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(
        footer.contains("Page 1 of 2 · 11 in all · /reflections list page:2 for the next"),
        "{footer}"
    );
    assert!(list["data"]["embeds"][0]["author"].is_null(), "{list}");
    let buttons: Vec<&str> = list["data"]["components"][0]["components"]
        .as_array()
        .expect("buttons")
        .iter()
        .filter_map(|b| b["custom_id"].as_str())
        .collect();
    assert_eq!(buttons.last(), Some(&"page:2"), "{buttons:?}");
    let next = fake
        .interact(fixtures::button(fake.next_id(), ALICE, "page:2"))
        .await;
    assert!(is_ephemeral(&next));
    assert!(
        next.to_string().contains("Page 2 of 2"),
        "the button opens the next page: {next}"
    );
    bot.stop().await;
    fake.assert_bodies_valid();
}

/// The values a modal opens with, field by field (empty where none).
fn modal_values(modal: &Value) -> Vec<String> {
    modal["data"]["components"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|row| {
            row["components"][0]["value"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// `/priorities` in Discord: private to the member who set them, refused
/// codes named with what to write, and first on the member's map.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn priorities_are_private_and_come_first_on_the_map() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, false).await;
    let sub = |name: &str, codes: Option<&str>| {
        let options = match codes {
            Some(c) => json!([{ "name": "competences", "type": 3, "value": c }]),
            None => json!([]),
        };
        json!([{ "name": name, "type": 1, "options": options }])
    };
    let added = fake
        .command(ALICE, "priorities", sub("add", Some("C3.5, I2.1")))
        .await;
    assert!(is_ephemeral(&added));
    assert!(
        added.to_string().contains("Your development priorities"),
        "{added}"
    );
    let refused = fake
        .command(ALICE, "priorities", sub("add", Some("3.5")))
        .await;
    assert!(
        content(&refused).contains("write C3.5 (core) or I3.5 (integration). Nothing was changed"),
        "{refused}"
    );
    let bobs = fake.command(BOB, "priorities", sub("show", None)).await;
    assert!(is_ephemeral(&bobs));
    assert!(
        content(&bobs).starts_with("You have no priorities yet"),
        "another member's are not shown: {bobs}"
    );
    let map = fake.command(ALICE, "map", json!([])).await;
    assert_eq!(
        map["data"]["embeds"][0]["fields"][0]["name"],
        "Your priorities, agreed with your supervisor",
        "{map}"
    );
    // The full export carries them.
    write(&fake, ALICE, "A reflection to export beside them.", "").await;
    let id = fake.next_id();
    fake.dispatch(
        "INTERACTION_CREATE",
        fixtures::command(
            id,
            ALICE,
            "reflections",
            json!([{ "name": "export", "type": 1, "options": [] }]),
        ),
    );
    let export = fake.callback_for(&id.to_string()).await;
    let priorities = export
        .files
        .iter()
        .find(|(n, _)| n.starts_with("development-priorities-"))
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    assert!(
        priorities.contains("**C3.5**") && priorities.contains("**I2.1**"),
        "{priorities}"
    );
    bot.stop().await;
    fake.assert_bodies_valid();
}
