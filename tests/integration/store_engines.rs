//! The store's promises, each held on both engines: sled in a data
//! directory, and PostgreSQL on the tests' own server (see `postgres`).
//!
//! Every test runs its body once per engine with a store opened the way
//! the front-ends open it; `reopen` closes it and opens the same database
//! again, so what a promise says survives a restart is tested too. Where
//! PostgreSQL cannot run here (and `CI` is not set) only sled is tested.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use practice_companion::Framework;
use practice_companion::reflections::form::{Held, HeldFor, HeldKind, Holding, Typed};
use practice_companion::reflections::{Draft, Mode, Reflection, SharedPost};
use practice_companion::store::envelope::ErasureLog;
use practice_companion::store::{
    ERASE_WITHIN, ERASURES_FILE, Envelope, PgOptions, SecretKey, SlotState, Store, StoreError, Turn,
};

use practice_companion::shards::ShardRange;

use super::postgres::{self, Database};

/// One engine a test runs on, and how to open its database again.
struct Engine {
    name: &'static str,
    dir: PathBuf,
    key: String,
    db: Option<Database>,
}

impl Engine {
    fn open(&self) -> Result<Store, StoreError> {
        let key = SecretKey::from_hex(&self.key).expect("a key");
        match &self.db {
            None => Store::open(&self.dir, Some(key)),
            Some(db) => Store::open_postgres(
                &PgOptions {
                    url: db.url(),
                    password_file: None,
                    shards: None,
                },
                &self.dir,
                Some(key),
            ),
        }
    }

    fn reopen(&self, store: Store) -> Store {
        store.close(Utc::now()).expect("a clean close");
        drop(store);
        self.open().expect("the store opens again")
    }
}

fn temp_dir(test: &str, engine: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "companion-engines-{}-{test}-{engine}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// sled, and PostgreSQL where it runs.
fn engines(test: &str) -> Vec<Engine> {
    let key = SecretKey::generate().to_hex().to_string();
    let mut out = vec![Engine {
        name: "sled",
        dir: temp_dir(test, "sled"),
        key: key.clone(),
        db: None,
    }];
    if let Some(db) = postgres::database() {
        out.push(Engine {
            name: "postgres",
            dir: temp_dir(test, "postgres"),
            key,
            db: Some(db),
        });
    }
    out
}

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, 12, 0, 0)
        .single()
        .expect("a date")
}

pub(crate) fn save(store: &Store, member: u64, text: &str) -> Reflection {
    let f = Framework::builtin().expect("the framework");
    let draft = Draft {
        title: format!("title of {text}"),
        text: text.into(),
        competences: vec!["core:3.5".parse().expect("a competence")],
        model: "free".into(),
        mode: Mode::Coaching,
        minutes: None,
    };
    store
        .add_reflection(member, |id| {
            draft.clone().into_reflection(id, member, at(1), &f)
        })
        .expect("saved")
}

pub(crate) fn texts(store: &Store, member: u64) -> Vec<String> {
    let all = store.reflections_of(member).expect("listed");
    assert!(all.unreadable.is_empty(), "{:?}", all.unreadable);
    all.items.into_iter().map(|r| r.text).collect()
}

#[test]
fn saved_reflections_are_listed_numbered_and_paged_after_a_restart() {
    for e in engines("save") {
        let store = e.open().expect("opens");
        let a = save(&store, 11, "first words");
        let b = save(&store, 11, "second words");
        save(&store, 12, "someone else's");
        assert_eq!((a.id, b.id), (1, 2), "{}", e.name);
        let store = e.reopen(store);
        assert_eq!(
            texts(&store, 11),
            ["first words", "second words"],
            "{}",
            e.name
        );
        assert_eq!(
            store.reflection(11, 2).unwrap().unwrap().text,
            "second words"
        );
        assert_eq!(
            store.reflection(12, 2).unwrap(),
            None,
            "{}: not another's",
            e.name
        );
        let page = store.page_of(11, None, 1, 1).unwrap();
        assert_eq!((page.total, page.pages), (2, 2), "{}", e.name);
        assert_eq!(page.items[0].id, 2, "{}: newest first", e.name);
        assert_eq!(store.reflection_count(11).unwrap(), 2);
        store.close(Utc::now()).unwrap();
    }
}

#[test]
fn an_edit_replaces_and_a_delete_removes_and_numbers_are_never_given_again() {
    for e in engines("edit") {
        let store = e.open().expect("opens");
        save(&store, 21, "one");
        save(&store, 21, "two");
        let edited = store
            .update_reflection(21, 1, at(2), |r| r.text = "one, edited".into())
            .unwrap()
            .expect("there is #1");
        assert_eq!(edited.text, "one, edited");
        assert!(store.delete_reflection(21, 2, at(2)).unwrap(), "{}", e.name);
        assert!(
            !store.delete_reflection(21, 2, at(2)).unwrap(),
            "{}",
            e.name
        );
        let store = e.reopen(store);
        assert_eq!(texts(&store, 21), ["one, edited"], "{}", e.name);
        assert_eq!(
            save(&store, 21, "three").id,
            3,
            "{}: #2 is not given again",
            e.name
        );
        store.close(Utc::now()).unwrap();
    }
}

#[test]
fn a_share_is_recorded_and_kept_without_changing_what_was_written() {
    for e in engines("shares") {
        let store = e.open().expect("opens");
        save(&store, 31, "shared words");
        let post = SharedPost {
            guild: Some(7),
            channel: 70,
            message: 700,
            anonymous: true,
            at: at(3),
        };
        store
            .update_shares(31, 1, |shared, _| shared.push(post))
            .unwrap()
            .expect("there is #1");
        let store = e.reopen(store);
        let r = store.reflection(31, 1).unwrap().expect("still there");
        assert_eq!(
            (r.text.as_str(), r.shared.len()),
            ("shared words", 1),
            "{}",
            e.name
        );
        assert_eq!(r.shared[0].message, 700, "{}", e.name);
        store.close(Utc::now()).unwrap();
    }
}

#[test]
fn forget_me_removes_every_record_of_the_member_and_no_one_elses() {
    for e in engines("forget") {
        let store = e.open().expect("opens");
        save(&store, 41, "to be forgotten");
        save(&store, 41, "this too");
        save(&store, 42, "kept");
        assert_eq!(store.forget_member(41, at(4)).unwrap(), 2, "{}", e.name);
        let store = e.reopen(store);
        assert!(texts(&store, 41).is_empty(), "{}", e.name);
        assert_eq!(texts(&store, 42), ["kept"], "{}", e.name);
        assert_eq!(
            save(&store, 41, "after").id,
            101,
            "{}: a forgotten member's numbers are not given again",
            e.name
        );
        store.close(Utc::now()).unwrap();
    }
}

#[test]
fn a_weekly_slot_is_claimed_once_and_stays_posted() {
    for e in engines("slots") {
        let store = e.open().expect("opens");
        let competence = "core:3.5".parse().expect("a competence");
        let slot = at(9);
        assert_eq!(
            store.claim_slot(5, slot, competence).unwrap(),
            None,
            "{}",
            e.name
        );
        assert!(
            matches!(
                store.claim_slot(5, slot, competence).unwrap(),
                Some(SlotState::Claimed { .. })
            ),
            "{}: a second claim sees the first",
            e.name
        );
        store.mark_posted(5, slot, competence, 99).unwrap();
        let store = e.reopen(store);
        assert!(
            matches!(
                store.claim_slot(5, slot, competence).unwrap(),
                Some(SlotState::Posted { message: 99, .. })
            ),
            "{}",
            e.name
        );
        // Claimed from many threads at once, it is won exactly once.
        let other = at(16);
        let wins = std::thread::scope(|s| {
            let tries: Vec<_> = (0..4)
                .map(|_| s.spawn(|| store.claim_slot(5, other, competence).unwrap().is_none()))
                .collect();
            tries
                .into_iter()
                .map(|t| t.join().expect("a claim"))
                .filter(|won| *won)
                .count()
        });
        assert_eq!(wins, 1, "{}", e.name);
        store.close(Utc::now()).unwrap();
    }
}

#[test]
fn reminders_and_held_forms_are_kept_per_member() {
    for e in engines("reminders") {
        let store = e.open().expect("opens");
        let reminder = practice_companion::store::Reminder {
            rule: practice_companion::schedule::Rule {
                weekday: chrono::Weekday::Mon,
                time: chrono::NaiveTime::from_hms_opt(9, 0, 0).expect("time"),
                tz: "Europe/London".into(),
                grace_hours: 2,
            },
            guild: 7,
            last_slot: at(2),
            skip: None,
        };
        store.set_reminder(51, Some(&reminder)).unwrap();
        let held = Held {
            purpose: HeldFor::New("free".into()),
            typed: Typed {
                text: Some("words kept for a while".into()),
                ..Typed::default()
            },
        };
        // Held for a day from now (a clean close lets go of older ones).
        let now = Utc::now();
        store.hold_form(52, &held, Holding::CarriedOn, now).unwrap();
        let store = e.reopen(store);
        assert_eq!(
            store.reminder(51).unwrap(),
            Some(reminder.clone()),
            "{}",
            e.name
        );
        let all = store.reminders().unwrap();
        assert_eq!(all, vec![(51, reminder)], "{}", e.name);
        assert_eq!(
            store.held_form(52, HeldKind::Reflection, now).unwrap(),
            Some(held),
            "{}",
            e.name
        );
        assert_eq!(
            store.held_form(51, HeldKind::Reflection, now).unwrap(),
            None,
            "{}",
            e.name
        );
        store.set_reminder(51, None).unwrap();
        assert!(store.reminders().unwrap().is_empty(), "{}", e.name);
        store.close(Utc::now()).unwrap();
    }
}

#[test]
fn the_supervision_log_is_numbered_per_member() {
    use practice_companion::supervision::log::{Kind, LogDraft};
    for e in engines("supervision") {
        let store = e.open().expect("opens");
        let entry = |note: &str| LogDraft {
            date: chrono::NaiveDate::from_ymd_opt(2026, 3, 10).expect("a date"),
            attended: true,
            minutes: 90,
            kind: Kind::Group,
            took_away: note.into(),
            competences: vec![],
            functions: vec![],
        };
        let now = at(10);
        store
            .add_log_entry(61, |id| entry("first").into_entry(id, now))
            .unwrap();
        store
            .add_log_entry(61, |id| entry("second").into_entry(id, now))
            .unwrap();
        assert!(store.delete_log_entry(61, 2, now).unwrap(), "{}", e.name);
        let store = e.reopen(store);
        let third = store
            .add_log_entry(61, |id| entry("third").into_entry(id, now))
            .unwrap();
        assert_eq!(third.id, 3, "{}", e.name);
        let log = store.log_of(61).unwrap();
        assert_eq!(log.items.len(), 2, "{}", e.name);
        assert_eq!(store.log_entry(62, 1).unwrap(), None, "{}", e.name);
        store.close(Utc::now()).unwrap();
    }
}

// ------------------------------------------------------------ PostgreSQL

fn pg_store(db: &Database, dir: &Path, key: &str) -> Result<Store, StoreError> {
    pg_store_for(db, dir, key, None)
}

/// Opens the database as a bot running `shards` (`None`: alone).
fn pg_store_for(
    db: &Database,
    dir: &Path,
    key: &str,
    shards: Option<(&str, u32)>,
) -> Result<Store, StoreError> {
    Store::open_postgres(
        &PgOptions {
            url: db.url(),
            password_file: None,
            shards: shards.map(|(range, total)| ShardRange::parse(range, total).expect("a range")),
        },
        dir,
        Some(SecretKey::from_hex(key).expect("a key")),
    )
}

/// Every value stored in the store's tables now, sorted (the server may
/// keep the same rows in another physical order; the schema's versions
/// and the commit tokens, random bytes, and the count of requests to
/// Discord, aside).
fn stored_values(db: &Database) -> Vec<Vec<u8>> {
    let tables = db.sql(
        "SELECT tablename FROM pg_tables WHERE tablename LIKE 'companion\\_%' AND tablename NOT IN ('companion_schema', 'companion_commits', 'companion_discord_turns')",
    );
    let mut out = Vec::new();
    for table in tables.lines() {
        for row in db
            .sql(&format!("SELECT encode(v, 'hex') FROM {table}"))
            .lines()
        {
            out.push(hex::decode(row).expect("hex"));
        }
    }
    out.sort();
    out
}

/// Every file of the cluster's databases (tables, TOAST tables, indexes).
fn cluster_files(db: &Database) -> Vec<Vec<u8>> {
    let mut stack = vec![db.cluster_dir().join("data").join("base")];
    let mut out = Vec::new();
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("a folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push(bytes);
            }
        }
    }
    out
}

/// Whether any piece of `value` (32-byte windows every 400 bytes, so a
/// TOAST chunk boundary cannot hide it) is anywhere in `files`.
fn found_in(files: &[Vec<u8>], value: &[u8]) -> bool {
    (0..value.len().saturating_sub(32))
        .step_by(400)
        .map(|at| &value[at..at + 32])
        .any(|piece| {
            files
                .iter()
                .any(|f| memchr::memmem::find(f, piece).is_some())
        })
}

#[test]
fn on_postgres_erased_bytes_leave_the_table_and_toast_files_within_the_bound() {
    let Some(db) = postgres::database() else {
        return;
    };
    let dir = temp_dir("erasure", "postgres");
    let key = SecretKey::generate().to_hex().to_string();
    let store = pg_store(&db, &dir, &key).expect("opens");
    // Long texts reach the TOAST table; short ones stay in the table.
    let long = "a long reflection ".repeat(400);
    save(&store, 71, "edited soon");
    save(&store, 71, &long);
    save(&store, 71, "deleted soon");
    save(&store, 72, "forgotten soon");
    save(&store, 72, &long);
    save(&store, 73, "kept");
    save(&store, 73, &long);
    let before = stored_values(&db);
    store
        .update_reflection(71, 1, at(5), |r| r.text = "after the edit".into())
        .unwrap();
    store.delete_reflection(71, 3, at(5)).unwrap();
    store.forget_member(72, at(5)).unwrap();
    let after = stored_values(&db);
    let erased: Vec<&Vec<u8>> = before.iter().filter(|v| !after.contains(v)).collect();
    assert!(erased.len() >= 6, "{} values erased", erased.len());
    // The test can fail: before the upkeep, the dead rows are on the disk.
    db.sql("CHECKPOINT");
    let files = cluster_files(&db);
    assert!(
        erased.iter().any(|v| found_in(&files, v)),
        "before the upkeep, an erased row is still in the files"
    );
    assert!(
        after.iter().all(|v| found_in(&files, v)),
        "the search finds live rows"
    );
    store.maintain(at(5) + ERASE_WITHIN).unwrap();
    assert!(store.erasure_pending_since().unwrap().is_none());
    db.sql("CHECKPOINT");
    let files = cluster_files(&db);
    for v in &erased {
        assert!(
            !found_in(&files, v),
            "erased bytes remain in the cluster's files"
        );
    }
    assert!(
        after.iter().all(|v| found_in(&files, v)),
        "live rows remain"
    );
    assert_eq!(texts(&store, 73).len(), 2);
    store.close(Utc::now()).unwrap();
}

#[test]
fn on_postgres_the_server_sees_no_discord_id_nor_anything_written() {
    let Some(db) = postgres::database() else {
        return;
    };
    let dir = temp_dir("opaque", "postgres");
    let key = SecretKey::generate().to_hex().to_string();
    let store = pg_store(&db, &dir, &key).expect("opens");
    let member: u64 = 912_345_678_901_234_567;
    save(&store, member, "a phrase only the member wrote");
    let reminder = practice_companion::store::Reminder {
        rule: practice_companion::schedule::Rule {
            weekday: chrono::Weekday::Mon,
            time: chrono::NaiveTime::from_hms_opt(9, 0, 0).expect("time"),
            tz: "Europe/London".into(),
            grace_hours: 2,
        },
        guild: 7,
        last_slot: at(2),
        skip: None,
    };
    store.set_reminder(member, Some(&reminder)).unwrap();
    store.close(Utc::now()).unwrap();
    db.sql("CHECKPOINT");
    let dump = db.sql(
        "SELECT string_agg(encode(k, 'hex') || ':' || encode(v, 'hex'), ',') FROM (SELECT k, v FROM companion_reflections UNION ALL SELECT k, v FROM companion_member_settings UNION ALL SELECT k, v FROM companion_member_keys) t",
    );
    assert!(!dump.is_empty());
    let files = cluster_files(&db);
    for needle in [
        member.to_be_bytes().to_vec(),
        member.to_string().into_bytes(),
        b"a phrase only".to_vec(),
        b"Europe/London".to_vec(),
    ] {
        assert!(
            !dump.contains(&hex::encode(&needle)),
            "the server's rows hold {needle:?}"
        );
        assert!(
            !files
                .iter()
                .any(|f| memchr::memmem::find(f, &needle).is_some()),
            "the server's files hold {needle:?}"
        );
    }
}

#[test]
fn on_postgres_a_second_process_a_wrong_key_and_no_key_are_refused() {
    let Some(db) = postgres::database() else {
        return;
    };
    let dir = temp_dir("refusals", "postgres");
    let key = SecretKey::generate().to_hex().to_string();
    let store = pg_store(&db, &dir, &key).expect("opens");
    save(&store, 81, "words");
    let second = pg_store(&db, &temp_dir("refusals-2", "postgres"), &key)
        .expect_err("a second process is refused");
    assert!(matches!(second, StoreError::DatabaseInUse), "{second}");
    assert!(second.to_string().contains("another companion process"));
    store.close(Utc::now()).unwrap();
    drop(store);
    let wrong =
        pg_store(&db, &dir, &SecretKey::generate().to_hex()).expect_err("another key is refused");
    assert!(matches!(wrong, StoreError::KeyMismatch { .. }), "{wrong}");
    let none = Store::open_postgres(
        &PgOptions {
            url: db.url(),
            password_file: None,
            shards: None,
        },
        &dir,
        None,
    )
    .expect_err("no key is refused");
    assert!(none.to_string().contains("--key-file"), "{none}");
    let store = pg_store(&db, &dir, &key).expect("the right key opens it again");
    assert_eq!(texts(&store, 81), ["words"]);
    store.close(Utc::now()).unwrap();
}

#[test]
fn on_postgres_a_password_in_the_url_and_a_server_without_durable_commits_are_refused() {
    let Some(db) = postgres::database() else {
        return;
    };
    let key = SecretKey::generate().to_hex().to_string();
    let with_password = db.url().replace("postgres@", "postgres:secret@");
    let e = Store::open_postgres(
        &PgOptions {
            url: with_password,
            password_file: None,
            shards: None,
        },
        &temp_dir("password", "postgres"),
        Some(SecretKey::from_hex(&key).expect("a key")),
    )
    .expect_err("a password in the URL is refused");
    assert!(e.to_string().contains("--database-password-file"), "{e}");
    assert!(!e.to_string().contains("secret"), "{e}");
    // A database whose sessions have synchronous_commit off stands for
    // such a server (fsync is the whole server's: read back the same way).
    db.sql(&format!(
        "ALTER DATABASE {} SET synchronous_commit = off",
        db.name
    ));
    let e = pg_store(&db, &temp_dir("durable", "postgres"), &key)
        .expect_err("a server that does not make commits durable is refused");
    assert!(e.to_string().contains("`synchronous_commit` off"), "{e}");
    db.sql(&format!(
        "ALTER DATABASE {} RESET synchronous_commit",
        db.name
    ));
    pg_store(&db, &temp_dir("durable-2", "postgres"), &key)
        .expect("durable again, it opens")
        .close(Utc::now())
        .unwrap();
}

#[test]
fn on_postgres_the_schema_is_migrated_once_under_a_lock() {
    let Some(db) = postgres::database() else {
        return;
    };
    let key = SecretKey::generate().to_hex().to_string();
    for n in 0..2 {
        let store = pg_store(&db, &temp_dir(&format!("migrate-{n}"), "postgres"), &key);
        store.expect("opens").close(Utc::now()).unwrap();
    }
    assert_eq!(
        db.sql("SELECT count(*), max(version) FROM companion_schema"),
        "4|4"
    );
}

#[test]
fn on_postgres_a_database_restored_from_before_an_erasure_has_it_applied_again() {
    let Some(db) = postgres::database() else {
        return;
    };
    let dir = temp_dir("restored", "postgres");
    let key = SecretKey::generate().to_hex().to_string();
    let store = pg_store(&db, &dir, &key).expect("opens");
    for text in ["kept", "deleted later", "also kept"] {
        save(&store, 91, text);
    }
    save(&store, 92, "forgotten later");
    store.close(Utc::now()).unwrap();
    drop(store);
    // The server's backup, taken before the erasures.
    let backup = db.copy();
    let store = pg_store(&db, &dir, &key).expect("opens");
    assert!(store.delete_reflection(91, 2, at(6)).unwrap());
    assert_eq!(store.forget_member(92, at(6)).unwrap(), 1);
    store.close(Utc::now()).unwrap();
    drop(store);
    // The database comes back from the backup; the erasure record, kept in
    // the local directory, does not go back with it.
    let store = pg_store(&backup, &dir, &key).expect("the restored database opens");
    assert_eq!(texts(&store, 91), ["kept", "also kept"]);
    assert!(texts(&store, 92).is_empty());
    assert_eq!(store.reflection_count(91).unwrap(), 2);
    assert_eq!(save(&store, 91, "new").id, 4, "#2 is not given again");
    assert!(store.erasure_pending_since().unwrap().is_none());
    assert_eq!(
        backup.sql("SELECT count(*) FROM companion_member_keys"),
        "1"
    );
    store.close(Utc::now()).unwrap();
}

/// Each kind of erasure, made through one process, of member 121's second
/// reflection (of two) or of the member.
#[derive(Clone, Copy, Debug)]
enum Erasure {
    ForgetMe,
    Delete,
    Edit,
}

impl Erasure {
    const ALL: [Erasure; 3] = [Erasure::ForgetMe, Erasure::Delete, Erasure::Edit];

    fn make(self, store: &Store) {
        self.try_make(store).expect("made");
    }

    fn try_make(self, store: &Store) -> Result<(), StoreError> {
        match self {
            Erasure::ForgetMe => assert_eq!(store.forget_member(121, at(9))?, 2),
            Erasure::Delete => assert!(store.delete_reflection(121, 2, at(9))?),
            Erasure::Edit => {
                store
                    .update_reflection(121, 2, at(9), |r| r.text = "rewritten".into())?
                    .expect("there is #2");
            }
        }
        Ok(())
    }

    /// Member 121's texts once it is made.
    fn after(self) -> &'static [&'static str] {
        match self {
            Erasure::ForgetMe => &[],
            Erasure::Delete => &["kept"],
            Erasure::Edit => &["kept", "rewritten"],
        }
    }

    /// Member 121's texts in a database put back to before it, once the
    /// erasure is applied again (an edit's new words were never in it).
    fn healed(self) -> &'static [&'static str] {
        match self {
            Erasure::ForgetMe => &[],
            Erasure::Delete | Erasure::Edit => &["kept"],
        }
    }
}

/// A fresh database, a key, and the local directories of two machines, the
/// store of the first open on them with member 121's reflections `kept` and
/// `erased` and member 122's `someone else's`.
struct Machines {
    db: Database,
    key: String,
    dir_a: PathBuf,
    dir_b: PathBuf,
    a: Store,
}

fn two_machines(test: &str) -> Machines {
    let db = postgres::database().expect("a database");
    let key = SecretKey::generate().to_hex().to_string();
    let (dir_a, dir_b) = (temp_dir(test, "a"), temp_dir(test, "b"));
    let a = pg_store(&db, &dir_a, &key).expect("A opens");
    save(&a, 121, "kept");
    save(&a, 121, "erased");
    save(&a, 122, "someone else's");
    Machines {
        db,
        key,
        dir_a,
        dir_b,
        a,
    }
}

/// Bot processes on two machines (two local directories) sharing one
/// database: an erasure made through either reaches the other's record
/// through the database, neither refuses the other, a database put back to
/// before the erasure is healed by the other machine's record, and a
/// machine whose directory was lost gets the whole record back from the
/// database; for each kind of erasure.
#[test]
fn on_postgres_processes_on_two_machines_share_every_erasure_and_heal_a_database_put_back() {
    if postgres::database().is_none() {
        return;
    }
    for kind in Erasure::ALL {
        let name = format!("{kind:?}").to_lowercase();
        let Machines {
            db,
            key,
            dir_a,
            dir_b,
            a,
        } = two_machines(&format!("machines-{name}"));
        let file = temp_dir(&format!("machines-{name}"), "backup-file");
        a.export_to(&file).expect("exported");
        a.close(Utc::now()).unwrap();
        drop(a);
        let b = pg_store(&db, &dir_b, &key).expect("B opens");
        b.close(Utc::now()).unwrap();
        drop(b);
        // The server's backups, taken before the erasure.
        let before = db.copy();
        let before_again = before.copy();
        let a = pg_store(&db, &dir_a, &key).expect("A opens again");
        kind.make(&a);
        a.close(Utc::now()).unwrap();
        drop(a);
        // B, on another machine, opens (it was refused before the database
        // carried the record) and takes A's entries into its own record.
        for turn in 0..2 {
            for dir in [&dir_b, &dir_a] {
                let store = pg_store(&db, dir, &key)
                    .unwrap_or_else(|e| panic!("{kind:?}: opens, turn {turn}: {e}"));
                assert_eq!(texts(&store, 121), kind.after(), "{kind:?}");
                assert!(store.erasure_pending_since().unwrap().is_none());
                store.close(Utc::now()).unwrap();
            }
        }
        // Machine A is lost; the database comes back from before the
        // erasure, which B's record alone now holds.
        std::fs::remove_dir_all(&dir_a).unwrap();
        let count = |db: &Database| -> u64 {
            db.sql("SELECT count(*) FROM companion_erasures")
                .parse()
                .expect("a count")
        };
        assert!(count(&before) < count(&db), "{kind:?}: put back before it");
        let b = pg_store(&before, &dir_b, &key).expect("B opens the database put back");
        assert_eq!(texts(&b, 121), kind.healed(), "{kind:?}: healed by B");
        assert_eq!(texts(&b, 122), ["someone else's"], "{kind:?}");
        assert!(b.erasure_pending_since().unwrap().is_none());
        b.close(Utc::now()).unwrap();
        drop(b);
        assert_eq!(count(&before), count(&db), "{kind:?}: carried again");
        // A new machine A, its directory empty, gets the record from the
        // database; then B is lost too, and the database is put back once
        // more: A's record, which came from the database, heals it.
        let a = pg_store(&before, &dir_a, &key).expect("a new A opens");
        a.close(Utc::now()).unwrap();
        drop(a);
        std::fs::remove_dir_all(&dir_b).unwrap();
        let a = pg_store(&before_again, &dir_a, &key).expect("A opens it put back");
        assert_eq!(
            texts(&a, 121),
            kind.healed(),
            "{kind:?}: healed by the new A"
        );
        assert_eq!(texts(&a, 122), ["someone else's"], "{kind:?}");
        a.close(Utc::now()).unwrap();
        drop(a);
        // `db restore --from` the backup made before the erasure, through a
        // third machine whose directory is new: what the database carries
        // is left out.
        let dir_c = temp_dir(&format!("machines-{name}"), "c");
        let opts = PgOptions {
            url: db.url(),
            password_file: None,
            shards: None,
        };
        let key_c = SecretKey::from_hex(&key).expect("a key");
        practice_companion::store::restore_postgres(&opts, &dir_c, Some(key_c), Some(&file), false)
            .expect("restored");
        let c = pg_store(&db, &dir_c, &key).expect("C opens");
        assert_eq!(
            texts(&c, 121),
            kind.healed(),
            "{kind:?}: left out by the restore"
        );
        assert_eq!(texts(&c, 122), ["someone else's"], "{kind:?}");
        c.close(Utc::now()).unwrap();
    }
}

/// A process running beside another (shards of one bot, on two machines)
/// takes the other's erasures into its own record in its upkeep, without
/// starting again: once the other machine is lost and the database put back
/// to before them, its record alone heals the database; for each kind.
#[test]
fn on_postgres_a_running_process_takes_anothers_erasures_in_its_upkeep() {
    if postgres::database().is_none() {
        return;
    }
    for kind in Erasure::ALL {
        let name = format!("{kind:?}").to_lowercase();
        let Machines {
            db,
            key,
            dir_a,
            dir_b,
            a,
        } = two_machines(&format!("upkeep-{name}"));
        a.close(Utc::now()).unwrap();
        drop(a);
        let before = db.copy();
        let a = pg_store_for(&db, &dir_a, &key, Some(("0-1", 4))).expect("A opens");
        let b = pg_store_for(&db, &dir_b, &key, Some(("2-3", 4))).expect("B opens beside it");
        kind.make(&a);
        // B runs shards 2-3: not the upkeep, which is shard 0's.
        b.share_erasures().expect("B takes A's erasures");
        for store in [a, b] {
            store.close(Utc::now()).unwrap();
        }
        std::fs::remove_dir_all(&dir_a).unwrap();
        let b = pg_store(&before, &dir_b, &key).expect("B opens the database put back");
        assert_eq!(texts(&b, 121), kind.healed(), "{kind:?}: healed by B");
        assert_eq!(texts(&b, 122), ["someone else's"], "{kind:?}");
        b.close(Utc::now()).unwrap();
    }
}

/// Two processes on one machine sharing a data directory, one erasing and
/// the other taking the erasures in: neither cuts off what the other
/// appended to the record they share, which stays whole and holds every
/// entry the database carries.
#[test]
fn on_postgres_processes_sharing_a_data_directory_never_cut_each_others_record() {
    let Some(db) = postgres::database() else {
        return;
    };
    let key = SecretKey::generate().to_hex().to_string();
    let dir = temp_dir("shared-record", "postgres");
    let a = pg_store_for(&db, &dir, &key, Some(("0-1", 4))).expect("A opens");
    let b = pg_store_for(&db, &dir, &key, Some(("2-3", 4))).expect("B opens beside it");
    for n in 0..4 {
        save(&a, 141, &format!("reflection {n}"));
    }
    save(&a, 142, "forgotten");
    assert!(a.delete_reflection(141, 1, at(9)).unwrap());
    assert!(a.delete_reflection(141, 2, at(9)).unwrap());
    b.share_erasures().expect("B takes them in");
    a.update_reflection(141, 3, at(9), |r| r.text = "edited".into())
        .unwrap()
        .expect("there is #3");
    b.share_erasures().expect("B takes it in");
    assert_eq!(a.forget_member(142, at(9)).unwrap(), 1);
    for store in [a, b] {
        store.close(Utc::now()).unwrap();
    }
    let envelope = Envelope::new(SecretKey::from_hex(&key).expect("a key"));
    let record = ErasureLog::read(&dir.join(ERASURES_FILE), &envelope).expect("reads");
    assert!(!record.altered && !record.torn_tail, "{record:?}");
    let carried: usize = db
        .sql("SELECT count(*) FROM companion_erasures")
        .parse()
        .expect("a count");
    assert_eq!(record.prints.len(), carried, "every entry, once");
}

/// An erasure whose transaction the server refuses was not made, and is
/// never made later: the member is told it was not done (never that it may
/// have been), and neither a process sharing the data directory that
/// merges while it is under way, nor the process's own upkeep, nor a
/// restart makes it from the erasure record it had been written into.
/// Asked again once the server takes it, it is made, and reaches the other
/// process. For each kind of erasure.
#[test]
fn on_postgres_an_erasure_the_server_refused_is_never_made_later() {
    if postgres::database().is_none() {
        return;
    }
    for kind in Erasure::ALL {
        let name = format!("{kind:?}").to_lowercase();
        let db = postgres::database().expect("a database");
        let key = SecretKey::generate().to_hex().to_string();
        let dir = temp_dir(&format!("refused-{name}"), "shared");
        let a = pg_store_for(&db, &dir, &key, Some(("0-1", 4))).expect("A opens");
        let b = pg_store_for(&db, &dir, &key, Some(("2-3", 4))).expect("B opens beside it");
        save(&a, 121, "kept");
        save(&a, 121, "erased");
        // Every erasure's transaction writes the entries the database
        // carries: the server waits a second over them, then refuses.
        db.sql(
            "CREATE OR REPLACE FUNCTION refuse_slowly() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(1); RAISE EXCEPTION 'refused by the test'; END $$; \
             CREATE TRIGGER refuse BEFORE INSERT OR UPDATE OR DELETE ON companion_erasures FOR EACH ROW EXECUTE FUNCTION refuse_slowly()",
        );
        let answer = std::thread::scope(|s| {
            let erasing = s.spawn(|| kind.try_make(&a));
            // B merges while A's erasure is under way: appended to the
            // record they share, its transaction waiting on the server.
            let waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'";
            while db.sql(waiting) == "0" {
                assert!(
                    !erasing.is_finished(),
                    "{kind:?}: the server was not reached"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
            b.share_erasures().expect("B merges");
            erasing.join().expect("no panic")
        });
        let e = answer.expect_err("the server refused it");
        assert!(!e.may_have_been_kept(), "{kind:?}: {e}");
        assert!(
            e.to_string().contains("refused by the test"),
            "{kind:?}: {e}"
        );
        db.sql("DROP TRIGGER refuse ON companion_erasures");
        let whole = ["kept", "erased"];
        assert_eq!(texts(&b, 121), whole, "{kind:?}: not made by B's merge");
        a.share_erasures().expect("A's upkeep merges");
        b.share_erasures().expect("B's upkeep merges");
        assert_eq!(texts(&a, 121), whole, "{kind:?}: not made by the upkeep");
        for store in [a, b] {
            store.close(Utc::now()).unwrap();
        }
        let a = pg_store_for(&db, &dir, &key, Some(("0-1", 4))).expect("A opens again");
        assert_eq!(texts(&a, 121), whole, "{kind:?}: not made at the restart");
        let b = pg_store_for(&db, &dir, &key, Some(("2-3", 4))).expect("B opens again");
        kind.make(&a);
        b.share_erasures().expect("B merges");
        assert_eq!(
            texts(&b, 121),
            kind.after(),
            "{kind:?}: made once asked again"
        );
        for store in [a, b] {
            store.close(Utc::now()).unwrap();
        }
        let envelope = Envelope::new(SecretKey::from_hex(&key).expect("a key"));
        let record = ErasureLog::read(&dir.join(ERASURES_FILE), &envelope).expect("reads");
        assert!(!record.altered && !record.torn_tail, "{kind:?}: {record:?}");
    }
}

/// A database that goes back to before an erasure while a bot runs on it
/// is healed by the bot's upkeep while a member goes on saving through the
/// same bot: the erased reflection goes again, and no save confirmed meanwhile
/// is lost, renumbered or given a number twice. Several times over, so that
/// the upkeep's reading and writing fall between saves.
#[test]
fn on_postgres_healing_a_database_put_back_never_costs_a_save_made_meanwhile() {
    let Some(db) = postgres::database() else {
        return;
    };
    let key = SecretKey::generate().to_hex().to_string();
    let dir = temp_dir("heal-beside-saves", "postgres");
    let store = pg_store(&db, &dir, &key).expect("opens");
    save(&store, 121, "kept");
    save(&store, 121, "erased");
    db.sql(
        "CREATE TABLE put_back_r AS SELECT * FROM companion_reflections; \
         CREATE TABLE put_back_s AS SELECT * FROM companion_summaries",
    );
    assert!(store.delete_reflection(121, 2, at(9)).unwrap());
    // The erased rows and the entries carried for them, as a restore of
    // the database to before the delete would bring back (the counter,
    // sealed, stays as it is).
    let put_back = "INSERT INTO companion_reflections SELECT * FROM put_back_r p WHERE NOT EXISTS (SELECT 1 FROM companion_reflections c WHERE c.k = p.k); \
         INSERT INTO companion_summaries SELECT * FROM put_back_s p WHERE NOT EXISTS (SELECT 1 FROM companion_summaries c WHERE c.k = p.k); \
         DELETE FROM companion_erasures";
    let stop = std::sync::atomic::AtomicBool::new(false);
    /// Stops the saver however the rounds end, a failed check too.
    struct Stop<'a>(&'a std::sync::atomic::AtomicBool);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
    let saved = std::thread::scope(|s| {
        let saver = s.spawn(|| {
            let mut saved = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let text = format!("meanwhile {}", saved.len());
                saved.push((save(&store, 121, &text).id, text));
            }
            saved
        });
        {
            let _stop = Stop(&stop);
            for round in 0..8 {
                db.sql(put_back);
                assert_eq!(
                    texts(&store, 121).iter().filter(|t| *t == "erased").count(),
                    1,
                    "round {round}: put back"
                );
                store.share_erasures().expect("the upkeep heals it");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        saver.join().expect("no panic")
    });
    assert!(!saved.is_empty());
    let mut want = vec!["kept".to_string()];
    want.extend(saved.iter().map(|(_, t)| t.clone()));
    assert_eq!(texts(&store, 121), want, "every save made meanwhile, once");
    let ids: Vec<u64> = saved.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        ids,
        (3..3 + saved.len() as u64).collect::<Vec<_>>(),
        "numbered in turn"
    );
    store.close(Utc::now()).unwrap();
}

/// On PostgreSQL the upkeep writes an automatic backup into the process's
/// own data directory, owner-only, once a day; an erasure leaves the
/// backup's file at the rewrite within the bound (read without any erasure
/// record, it no longer holds what was erased); and `db restore` without
/// `--from` puts the newest in place. With no backup there, the restore
/// says what would work and changes nothing.
#[test]
fn on_postgres_the_upkeep_keeps_daily_backups_that_erasure_reaches_and_restore_uses() {
    use std::os::unix::fs::PermissionsExt;
    let Some(db) = postgres::database() else {
        return;
    };
    let key = SecretKey::generate().to_hex().to_string();
    let master = || SecretKey::from_hex(&key).expect("a key");
    let dir = temp_dir("pg-backups", "postgres");
    let opts = PgOptions {
        url: db.url(),
        password_file: None,
        shards: None,
    };
    let store = pg_store(&db, &dir, &key).expect("opens");
    save(&store, 151, "kept");
    save(&store, 151, "erased");
    let backups = || -> Vec<PathBuf> {
        let mut all: Vec<PathBuf> = std::fs::read_dir(dir.join("backups"))
            .map(|d| d.map(|e| e.expect("an entry").path()).collect())
            .unwrap_or_default();
        all.sort();
        all
    };
    // What a backup file itself holds: imported into a new sled directory
    // with no erasure record at all.
    let held_in = |file: &Path, n: u32| -> Vec<String> {
        let into = temp_dir("pg-backups", &format!("read-{n}"));
        let (copy, _) =
            Store::import_from(file, &into, Some(master()), None, true).expect("the backup reads");
        let held = texts(&copy, 151);
        copy.close(Utc::now()).unwrap();
        held
    };
    let start = at(1);
    store.maintain(start).expect("the upkeep");
    let first = backups();
    assert_eq!(first.len(), 1, "the day's backup");
    let mode = std::fs::metadata(&first[0]).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "owner-only: {mode:o}");
    assert_eq!(held_in(&first[0], 0), ["kept", "erased"]);
    store.maintain(start + chrono::Duration::hours(1)).unwrap();
    assert_eq!(backups(), first, "one a day");
    assert!(
        store
            .delete_reflection(151, 2, start + chrono::Duration::hours(1))
            .unwrap()
    );
    store
        .maintain(start + chrono::Duration::hours(1) + ERASE_WITHIN)
        .expect("the upkeep rewrites");
    assert!(store.erasure_pending_since().unwrap().is_none());
    assert_eq!(
        held_in(&first[0], 1),
        ["kept"],
        "the erasure reached the backup"
    );
    store.maintain(start + chrono::Duration::days(1)).unwrap();
    assert_eq!(backups().len(), 2, "the next day's");
    save(&store, 151, "after the backups");
    store.close(Utc::now()).unwrap();
    drop(store);
    let newest = backups().pop();
    let report =
        practice_companion::store::restore_postgres(&opts, &dir, Some(master()), None, false)
            .expect("the newest automatic backup restored");
    assert_eq!(
        report
            .chosen
            .map(|(path, _, passed_over)| (path, passed_over)),
        newest.clone().map(|p| (p, 0)),
        "the report names the backup it chose"
    );
    let store = pg_store(&db, &dir, &key).expect("opens");
    assert_eq!(texts(&store, 151), ["kept"], "as the newest backup held it");
    store.close(Utc::now()).unwrap();
    drop(store);
    // The newest damaged: the one before it is restored, and the report
    // says one newer was passed over.
    let newest = newest.expect("a newest backup");
    let mut bytes = std::fs::read(&newest).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0xff;
    std::fs::write(&newest, &bytes).unwrap();
    let report =
        practice_companion::store::restore_postgres(&opts, &dir, Some(master()), None, false)
            .expect("the newest backup that opens restored");
    assert_eq!(
        report
            .chosen
            .map(|(path, _, passed_over)| (path, passed_over)),
        Some((first[0].clone(), 1)),
        "the report names the backup it chose and the one it passed over"
    );
    let store = pg_store(&db, &dir, &key).expect("opens");
    assert_eq!(texts(&store, 151), ["kept"], "as that backup held it");
    store.close(Utc::now()).unwrap();
    let empty = temp_dir("pg-backups", "none-here");
    let before = stored_values(&db);
    let refused =
        practice_companion::store::restore_postgres(&opts, &empty, Some(master()), None, false)
            .expect_err("nothing to restore");
    let words = refused.to_string();
    assert!(
        words.contains("--from FILE") && words.contains("--data-dir"),
        "{words}"
    );
    assert!(words.contains("Nothing was changed"), "{words}");
    assert_eq!(stored_values(&db), before, "nothing was changed");
}

/// A process that keeps automatic backups but no longer runs the upkeep
/// (it ran it alone before, and now runs other shards beside another
/// process) rewrites them without what another process erased, as its own
/// record takes the erasure in.
#[test]
fn on_postgres_backups_a_process_kept_lose_what_another_process_erased() {
    let Some(db) = postgres::database() else {
        return;
    };
    let key = SecretKey::generate().to_hex().to_string();
    let master = || SecretKey::from_hex(&key).expect("a key");
    let (dir_a, dir_b) = (
        temp_dir("pg-backups-kept", "a"),
        temp_dir("pg-backups-kept", "b"),
    );
    let a = pg_store(&db, &dir_a, &key).expect("A opens alone");
    save(&a, 161, "kept");
    save(&a, 161, "erased");
    a.maintain(at(1)).expect("A's upkeep backs up");
    a.close(Utc::now()).unwrap();
    drop(a);
    let a = pg_store_for(&db, &dir_a, &key, Some(("2-3", 4))).expect("A runs other shards");
    let b = pg_store_for(&db, &dir_b, &key, Some(("0-1", 4))).expect("B beside it");
    assert!(b.delete_reflection(161, 2, at(2)).unwrap());
    a.share_erasures().expect("A takes the erasure in");
    let backup = std::fs::read_dir(dir_a.join("backups"))
        .expect("A's backups")
        .map(|e| e.expect("an entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "pcbk"))
        .expect("a backup");
    let into = temp_dir("pg-backups-kept", "read");
    let (copy, _) =
        Store::import_from(&backup, &into, Some(master()), None, true).expect("the backup reads");
    assert_eq!(
        texts(&copy, 161),
        ["kept"],
        "the backup holds no more what B erased"
    );
    copy.close(Utc::now()).unwrap();
    for store in [a, b] {
        store.close(Utc::now()).unwrap();
    }
}

/// An entry of the erasure record that the database carries is trusted
/// only if it authenticates: a value changed, a key changed, a row written
/// without the master key, or one row's value put in another's place, and
/// no process opens, whether its own record holds the entry or not.
#[test]
fn on_postgres_an_erasure_entry_changed_in_the_database_is_refused() {
    let Some(db) = postgres::database() else {
        return;
    };
    let key = SecretKey::generate().to_hex().to_string();
    let dir_a = temp_dir("carried-changed", "a");
    let a = pg_store(&db, &dir_a, &key).expect("opens");
    save(&a, 131, "one");
    save(&a, 131, "two");
    assert!(a.delete_reflection(131, 1, at(9)).unwrap());
    a.close(Utc::now()).unwrap();
    drop(a);
    let first = "(SELECT k FROM companion_erasures ORDER BY k LIMIT 1)";
    let last = "(SELECT k FROM companion_erasures ORDER BY k DESC LIMIT 1)";
    for (what, sql) in [
        (
            "a value changed",
            format!("UPDATE companion_erasures SET v = set_byte(v, 5, get_byte(v, 5) # 1) WHERE k = {first}"),
        ),
        (
            "a key changed",
            format!("UPDATE companion_erasures SET k = set_byte(k, 12, get_byte(k, 12) # 1) WHERE k = {first}"),
        ),
        (
            "a row written without the key",
            "INSERT INTO companion_erasures (k, v) VALUES (decode(repeat('ab', 16), 'hex'), decode(repeat('cd', 72), 'hex'))".to_string(),
        ),
        (
            "a value put in another row's place",
            format!("UPDATE companion_erasures SET v = (SELECT v FROM companion_erasures WHERE k = {last}) WHERE k = {first}"),
        ),
    ] {
        let changed = db.copy();
        changed.sql(&sql);
        for dir in [dir_a.clone(), temp_dir("carried-changed", "b")] {
            match pg_store(&changed, &dir, &key) {
                Err(StoreError::CarriedErasures) => {}
                other => panic!("{what}: {other:?}"),
            }
        }
    }
    // Unchanged, it opens.
    pg_store(&db, &dir_a, &key)
        .expect("opens")
        .close(Utc::now())
        .unwrap();
}

#[test]
fn on_postgres_an_unreadable_password_file_is_named() {
    let Some(db) = postgres::database() else {
        return;
    };
    let missing = temp_dir("password-file", "postgres").join("no-such-file");
    let e = Store::open_postgres(
        &PgOptions {
            url: db.url(),
            password_file: Some(missing.clone()),
            shards: None,
        },
        &temp_dir("password-file-dir", "postgres"),
        Some(SecretKey::generate()),
    )
    .expect_err("a password file that cannot be read is refused");
    assert!(
        e.to_string().contains(&missing.display().to_string()),
        "{e}"
    );
}

#[test]
fn the_console_keeps_reflections_in_postgres_chosen_by_flag_or_environment() {
    use crate::support::companion_with_env;
    let Some(db) = postgres::database() else {
        return;
    };
    let dir = temp_dir("console", "postgres");
    let data = dir.to_str().expect("utf-8 path");
    let key = SecretKey::generate().to_hex().to_string();
    let url = db.url();
    let env = [("COMPANION_KEY", key.as_str())];
    let run = companion_with_env(
        &["console", "--data-dir", data, "--database", &url],
        "/reflect I2.1 model:kolb\nContracting\nExperience: a phrase kept in postgres.\n.\n\ntherapy\n",
        &env,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("Saved as reflection #1"),
        "{}",
        run.stdout
    );
    assert_eq!(db.sql("SELECT count(*) FROM companion_reflections"), "1");
    // The data directory holds the erasure record only: no sled database.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .expect("the local directory")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["erasures"], "{names:?}");
    // The environment chooses it just as well.
    let again = companion_with_env(
        &["console", "--data-dir", data],
        "/reflections view 1\n",
        &[env[0], ("COMPANION_DATABASE_URL", url.as_str())],
    );
    assert!(
        again.stdout.contains("a phrase kept in postgres"),
        "{}",
        again.stdout
    );
    // No key, no start: a PostgreSQL store never makes one up.
    let keyless = companion_with_env(
        &["console", "--data-dir", data, "--database", &url],
        "/reflections list\n",
        &[],
    );
    assert!(keyless.stdout.contains("--key-file"), "{}", keyless.stdout);
    // What has no meaning on PostgreSQL, or finds nothing to work on (no
    // automatic backup in this directory, whose process never ran the
    // upkeep), says why and what would work, and changes nothing.
    let before = db.sql("SELECT count(*) FROM companion_reflections");
    let restore = companion_with_env(
        &["db", "restore", "--data-dir", data, "--database", &url],
        "",
        &env,
    );
    assert_eq!(restore.code, 2, "{}", restore.stderr);
    assert!(
        restore
            .stderr
            .contains("no automatic backup in this data directory")
            && restore.stderr.contains("--from FILE")
            && restore.stderr.contains("Nothing was changed"),
        "{}",
        restore.stderr
    );
    let salvage = companion_with_env(
        &["db", "salvage", "--data-dir", data, "--database", &url],
        "",
        &env,
    );
    assert_eq!(salvage.code, 2, "{}", salvage.stderr);
    assert!(
        salvage.stderr.contains("keeps its own files whole")
            && salvage.stderr.contains("Nothing was changed"),
        "{}",
        salvage.stderr
    );
    assert_eq!(db.sql("SELECT count(*) FROM companion_reflections"), before);
}

#[test]
fn on_postgres_plain_text_to_a_remote_server_is_refused_and_the_systemd_credential_is_read() {
    use crate::support::companion_with_env;
    let Some(db) = postgres::database() else {
        return;
    };
    let key = SecretKey::generate().to_hex().to_string();
    // Refused before anything connects: no packet leaves the machine. (A
    // server elsewhere over verified TLS is tested in `tls.rs`.)
    for url in [
        "postgres://companion@db.example.org/companion?sslmode=disable",
        "postgres://companion@127.0.0.1,db.example.org/companion?sslmode=allow&target_session_attrs=read-write",
    ] {
        let remote = Store::open_postgres(
            &PgOptions {
                url: url.into(),
                password_file: None,
                shards: None,
            },
            &temp_dir("remote", "postgres"),
            Some(SecretKey::from_hex(&key).expect("a key")),
        )
        .expect_err("plain text to a server elsewhere is refused");
        let said = remote.to_string();
        assert!(
            said.contains("`db.example.org`")
                && said.contains("no TLS")
                && said.contains("nothing was opened")
                && said.contains("sslrootcert=PATH"),
            "{url}: {said}"
        );
    }
    // The credential is read where systemd puts it: here one that cannot be
    // read, so the error names it.
    let creds = temp_dir("credentials", "postgres");
    std::fs::create_dir_all(creds.join("database-password")).expect("a folder");
    let dir = temp_dir("credentials-data", "postgres");
    let run = companion_with_env(
        &["console", "--data-dir", dir.to_str().expect("utf-8")],
        "/reflections list\n",
        &[
            ("COMPANION_KEY", key.as_str()),
            ("COMPANION_DATABASE_URL", db.url().as_str()),
            ("CREDENTIALS_DIRECTORY", creds.to_str().expect("utf-8")),
        ],
    );
    assert!(
        run.stdout
            .contains(&creds.join("database-password").display().to_string()),
        "{}",
        run.stdout
    );
}

#[test]
fn a_postgres_database_exports_in_the_backup_format_that_sled_imports() {
    use crate::support::companion_with_env;
    let Some(db) = postgres::database() else {
        return;
    };
    let dir = temp_dir("export", "postgres");
    let key = SecretKey::generate().to_hex().to_string();
    let store = pg_store(&db, &dir, &key).expect("opens");
    save(&store, 101, "travels between engines");
    save(&store, 101, "deleted before the export");
    save(&store, 102, "forgotten before the export");
    store.delete_reflection(101, 2, at(7)).unwrap();
    store.forget_member(102, at(7)).unwrap();
    store.close(Utc::now()).unwrap();
    drop(store);
    let url = db.url();
    let env = [
        ("COMPANION_KEY", key.as_str()),
        ("COMPANION_DATABASE_URL", url.as_str()),
    ];
    let local = dir.to_str().expect("utf-8");
    let check = companion_with_env(&["db", "check", "--data-dir", local], "", &env);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    assert!(
        check.stdout.contains("1 reflection of 1 member"),
        "{}",
        check.stdout
    );
    let file = temp_dir("export-file", "postgres");
    let export = companion_with_env(
        &[
            "db",
            "export",
            "--data-dir",
            local,
            file.to_str().expect("utf-8"),
        ],
        "",
        &env,
    );
    assert_eq!(export.code, 0, "{}", export.stderr);
    // Into a sled data directory, with the PostgreSQL store's erasure record.
    let sled_dir = temp_dir("export-into", "sled");
    let import = companion_with_env(
        &[
            "db",
            "import",
            file.to_str().expect("utf-8"),
            "--data-dir",
            sled_dir.to_str().expect("utf-8"),
            "--erasures",
            dir.join("erasures").to_str().expect("utf-8"),
        ],
        "",
        &[env[0]],
    );
    assert_eq!(import.code, 0, "{}{}", import.stdout, import.stderr);
    let store = Store::open(&sled_dir, SecretKey::from_hex(&key)).expect("the sled copy opens");
    assert_eq!(texts(&store, 101), ["travels between engines"]);
    assert!(texts(&store, 102).is_empty());
    assert_eq!(
        save(&store, 101, "next").id,
        101,
        "after an import, numbers start above the hundreds reserved"
    );
    store.close(Utc::now()).unwrap();
}

/// A sled store whose backup (the file returned) was exported before a
/// reflection of member 111 was deleted and member 112 forgotten; returns
/// the key, the sled directory and the backup.
fn exported_before_erasures(test: &str) -> (String, PathBuf, PathBuf) {
    let key = SecretKey::generate().to_hex().to_string();
    let dir = temp_dir(test, "sled");
    let store = Store::open(&dir, SecretKey::from_hex(&key)).expect("opens");
    save(&store, 111, "kept");
    save(&store, 111, "deleted after the backup");
    save(&store, 112, "forgotten after the backup");
    let file = temp_dir(test, "backup-file");
    store.export_to(&file).expect("exported");
    assert!(store.delete_reflection(111, 2, at(8)).unwrap());
    assert_eq!(store.forget_member(112, at(8)).unwrap(), 1);
    store.close(Utc::now()).unwrap();
    (key, dir, file)
}

/// Makes the server refuse every row written into `table`, as a full disk
/// or a lost connection would part way through.
fn refuse_writes_to(db: &Database, table: &str) {
    db.sql(&format!(
        "CREATE OR REPLACE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$; \
         CREATE TRIGGER refuse BEFORE INSERT OR UPDATE OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION refuse()"
    ));
}

#[test]
fn on_postgres_an_import_fills_only_an_empty_database_at_once_and_brings_back_nothing_erased() {
    use crate::support::companion_with_env;
    let Some(db) = postgres::database() else {
        return;
    };
    let (key, sled_dir, file) = exported_before_erasures("pg-import");
    let local = temp_dir("pg-import", "postgres");
    let opts = PgOptions {
        url: db.url(),
        password_file: None,
        shards: None,
    };
    let erasures = sled_dir.join("erasures");
    let import = |erasures: Option<&Path>| {
        Store::import_into_postgres(
            &file,
            &opts,
            &local,
            SecretKey::from_hex(&key),
            erasures,
            false,
        )
    };
    let e = import(None).expect_err("no erasure record anywhere: refused");
    assert!(e.to_string().contains("Nothing was written"), "{e}");
    assert!(stored_values(&db).is_empty());
    // A failure part way (after the reflections, at their summaries)
    // leaves every table as it was: empty.
    refuse_writes_to(&db, "companion_summaries");
    let e = import(Some(&erasures)).expect_err("the server's refusal fails the import");
    assert!(e.to_string().contains("refused by the test"), "{e}");
    assert!(
        stored_values(&db).is_empty(),
        "a failed import leaves nothing behind"
    );
    db.sql("DROP TRIGGER refuse ON companion_summaries");
    let url = db.url();
    let args = [
        "db",
        "import",
        file.to_str().expect("utf-8"),
        "--data-dir",
        local.to_str().expect("utf-8"),
        "--database",
        &url,
        "--erasures",
        erasures.to_str().expect("utf-8"),
    ];
    let env = [("COMPANION_KEY", key.as_str())];
    let run = companion_with_env(&args, "", &env);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("1 reflection of 1 member")
            && run
                .stdout
                .contains("left out because the erasure record names them"),
        "{}",
        run.stdout
    );
    let store = pg_store(&db, &local, &key).expect("the imported database opens");
    assert_eq!(texts(&store, 111), ["kept"]);
    assert!(
        texts(&store, 112).is_empty(),
        "a forgotten member stays out"
    );
    assert_eq!(
        save(&store, 111, "next").id,
        101,
        "after an import, numbers start above the hundreds reserved"
    );
    store.close(Utc::now()).unwrap();
    drop(store);
    // A database that holds records is refused, and left as it was.
    let before = stored_values(&db);
    let run = companion_with_env(&args, "", &env);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("already holds") && run.stderr.contains("Nothing was changed"),
        "{}",
        run.stderr
    );
    assert_eq!(stored_values(&db), before);
}

#[test]
fn on_postgres_a_restore_puts_a_verified_backup_in_place_and_brings_back_nothing_erased() {
    use crate::support::companion_with_env;
    let Some(db) = postgres::database() else {
        return;
    };
    let local = temp_dir("pg-restore", "postgres");
    let key = SecretKey::generate().to_hex().to_string();
    let store = pg_store(&db, &local, &key).expect("opens");
    save(&store, 121, "kept");
    save(&store, 121, "deleted after the backup");
    save(&store, 122, "forgotten after the backup");
    let file = temp_dir("pg-restore", "backup-file");
    store.export_to(&file).expect("exported");
    assert!(store.delete_reflection(121, 2, at(9)).unwrap());
    assert_eq!(store.forget_member(122, at(9)).unwrap(), 1);
    assert_eq!(save(&store, 121, "written after the backup").id, 3);
    store.close(Utc::now()).unwrap();
    drop(store);
    let url = db.url();
    let env = [("COMPANION_KEY", key.as_str())];
    let restore = |from: &Path| {
        companion_with_env(
            &[
                "db",
                "restore",
                "--from",
                from.to_str().expect("utf-8"),
                "--data-dir",
                local.to_str().expect("utf-8"),
                "--database",
                &url,
            ],
            "",
            &env,
        )
    };
    // An altered backup is refused before anything is written.
    let before = stored_values(&db);
    let altered = temp_dir("pg-restore", "altered-file");
    let mut bytes = std::fs::read(&file).expect("the backup");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(&altered, bytes).expect("written");
    let run = restore(&altered);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("Nothing was written"), "{}", run.stderr);
    assert_eq!(stored_values(&db), before);
    // A failure part way leaves the database as it was.
    refuse_writes_to(&db, "companion_summaries");
    let run = restore(&file);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert_eq!(stored_values(&db), before);
    db.sql("DROP TRIGGER refuse ON companion_summaries");
    let run = restore(&file);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("in place of what it held before")
            && run.stdout.contains("1 reflection of 1 member")
            && run
                .stdout
                .contains("left out because the erasure record names them"),
        "{}",
        run.stdout
    );
    let store = pg_store(&db, &local, &key).expect("the restored database opens");
    assert_eq!(
        texts(&store, 121),
        ["kept"],
        "the backup's records, no more"
    );
    assert!(
        texts(&store, 122).is_empty(),
        "a forgotten member stays out"
    );
    assert_eq!(
        save(&store, 121, "next").id,
        101,
        "numbers never go back: #2 and #3 are not given again"
    );
    store.close(Utc::now()).unwrap();
}

// ------------------------------------------------------------ migration

/// A store's records: by tree, each a list of keys and values.
type Trees = BTreeMap<String, Vec<(Vec<u8>, Vec<u8>)>>;

/// The records of a backup file (the format `store/backup.rs` writes),
/// tree by tree, each tree's in key order; trees with none left out.
/// Two facts that belong to a moment and to sled's files, not to the
/// records, are left out: when the backup was made, and sled's count of
/// its commits.
fn records_in(file: &Path) -> Trees {
    fn take(body: &[u8], at: &mut usize, n: usize) -> Vec<u8> {
        let piece = body[*at..*at + n].to_vec();
        *at += n;
        piece
    }
    fn len(body: &[u8], at: &mut usize, n: usize) -> usize {
        take(body, at, n)
            .iter()
            .fold(0usize, |sum, b| sum * 256 + usize::from(*b))
    }
    let bytes = std::fs::read(file).expect("the backup");
    let body = &bytes[b"PCBK2\n".len()..bytes.len() - 32];
    let mut at = 0usize;
    let mut out = BTreeMap::new();
    while at < body.len() {
        let n = len(body, &mut at, 4);
        let name = String::from_utf8(take(body, &mut at, n)).expect("a tree's name");
        let count = len(body, &mut at, 8);
        let mut entries = Vec::new();
        for _ in 0..count {
            let n = len(body, &mut at, 4);
            let k = take(body, &mut at, n);
            let n = len(body, &mut at, 4);
            let v = take(body, &mut at, n);
            if name == "meta" && (k == b"backup_made" || k == b"commit_seq") {
                continue;
            }
            entries.push((k, v));
        }
        entries.sort();
        if !entries.is_empty() {
            out.insert(name, entries);
        }
    }
    out
}

/// Exports the sled store in `dir` and reads its records back.
fn sled_records(dir: &Path, key: &str, test: &str) -> Trees {
    let file = temp_dir(test, "records-file");
    let store = Store::open_existing(dir, SecretKey::from_hex(key)).expect("opens");
    store.export_to(&file).expect("exported");
    store.close(Utc::now()).unwrap();
    records_in(&file)
}

/// Fills a store with a record of every kind a member or a server makes:
/// reflections (one shared, one deleted), a forgotten member, settings, a
/// schedule, a claimed and posted slot, a reminder, a held form, a
/// supervision log entry, priorities, a case presentation.
fn fill_every_kind(store: &Store) {
    use practice_companion::store::{GuildSettings, ScheduleRecord};
    use practice_companion::supervision::case::{CaseDraft, Field, Frame};
    use practice_companion::supervision::log::{Kind, LogDraft};
    let competence: practice_companion::framework::CompetenceId =
        "core:3.5".parse().expect("a competence");
    save(store, 131, "shared words");
    save(store, 131, "deleted words");
    save(store, 131, "kept words");
    save(store, 132, "someone else's");
    save(store, 133, "forgotten words");
    store
        .update_shares(131, 1, |shared, _| {
            shared.push(SharedPost {
                guild: Some(7),
                channel: 70,
                message: 700,
                anonymous: false,
                at: at(3),
            })
        })
        .unwrap()
        .expect("there is #1");
    assert!(store.delete_reflection(131, 2, at(4)).unwrap());
    assert_eq!(store.forget_member(133, at(4)).unwrap(), 1);
    store
        .set_guild_settings(7, &GuildSettings { inline: true })
        .unwrap();
    let rule = practice_companion::schedule::Rule {
        weekday: chrono::Weekday::Mon,
        time: chrono::NaiveTime::from_hms_opt(9, 0, 0).expect("time"),
        tz: "Europe/London".into(),
        grace_hours: 2,
    };
    store
        .set_schedule(
            7,
            &ScheduleRecord {
                channel: 70,
                rule: rule.clone(),
                scope: Default::default(),
                order: Default::default(),
                rotation: Default::default(),
                last_slot: at(2),
                paused: None,
                skip: None,
                current: None,
            },
        )
        .unwrap();
    assert_eq!(store.claim_slot(7, at(9), competence).unwrap(), None);
    store.mark_posted(7, at(9), competence, 99).unwrap();
    let reminder = practice_companion::store::Reminder {
        rule,
        guild: 7,
        last_slot: at(2),
        skip: None,
    };
    store.set_reminder(132, Some(&reminder)).unwrap();
    let held = Held {
        purpose: HeldFor::New("free".into()),
        typed: Typed {
            text: Some("words held for a while".into()),
            ..Typed::default()
        },
    };
    store
        .hold_form(132, &held, Holding::CarriedOn, Utc::now())
        .unwrap();
    store
        .add_log_entry(131, |id| {
            LogDraft {
                date: chrono::NaiveDate::from_ymd_opt(2026, 3, 10).expect("a date"),
                attended: true,
                minutes: 90,
                kind: Kind::Group,
                took_away: "what I took away".into(),
                competences: vec![],
                functions: vec![],
            }
            .into_entry(id, at(10))
        })
        .unwrap();
    store.set_priorities(131, &[competence]).unwrap();
    store
        .add_presentation(131, |id| {
            CaseDraft {
                frame: Frame::Short,
                fields: vec![Field {
                    key: "question".into(),
                    text: "what am I missing?".into(),
                }],
            }
            .into_presentation(id, at(10))
        })
        .unwrap();
}

fn migrate(from: &str, to: &str, local: &Path, key: &str) -> crate::support::Run {
    crate::support::companion_with_env(
        &[
            "db",
            "migrate",
            "--from",
            from,
            "--to",
            to,
            "--data-dir",
            local.to_str().expect("utf-8"),
        ],
        "",
        &[("COMPANION_KEY", key)],
    )
}

#[test]
fn a_store_migrated_to_postgres_and_back_keeps_every_record_and_the_next_number() {
    let Some(db) = postgres::database() else {
        return;
    };
    let key = SecretKey::generate().to_hex().to_string();
    let sled = temp_dir("migrate-round", "sled");
    let store = Store::open(&sled, SecretKey::from_hex(&key)).expect("opens");
    fill_every_kind(&store);
    store.close(Utc::now()).unwrap();
    drop(store);
    let before = sled_records(&sled, &key, "migrate-round-before");
    for tree in [
        "meta",
        "member_keys",
        "reflections",
        "summaries",
        "counters",
        "guild_settings",
        "schedules",
        "slots",
        "member_settings",
        "held_forms",
        "supervision_log",
        "case_presentations",
    ] {
        assert!(before.contains_key(tree), "the source holds {tree}");
    }
    let local = temp_dir("migrate-round", "postgres");
    let url = db.url();
    let run = migrate(sled.to_str().expect("utf-8"), &url, &local, &key);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("read back from the target and found as written"),
        "{}",
        run.stdout
    );
    assert_eq!(
        sled_records(&sled, &key, "migrate-round-source"),
        before,
        "the source is as it was"
    );
    let back = temp_dir("migrate-round", "back");
    let run = migrate(&url, back.to_str().expect("utf-8"), &local, &key);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        sled_records(&back, &key, "migrate-round-after"),
        before,
        "every record came back as it was"
    );
    let record = std::fs::read(sled.join("erasures")).expect("the erasure record");
    assert!(record.len() > 100, "the record names the erasures made");
    for copy in [local.join("erasures"), back.join("erasures")] {
        assert_eq!(std::fs::read(&copy).expect("a copy"), record);
    }
    // The next number is the same on all three, and the shares, the
    // reminder and the log read back through the store.
    let pg = pg_store(&db, &local, &key).expect("the PostgreSQL store opens");
    for store in [
        Store::open_existing(&sled, SecretKey::from_hex(&key)).expect("opens"),
        pg,
        Store::open_existing(&back, SecretKey::from_hex(&key)).expect("opens"),
    ] {
        assert_eq!(texts(&store, 131), ["shared words", "kept words"]);
        assert_eq!(store.reflection(131, 1).unwrap().unwrap().shared.len(), 1);
        assert!(texts(&store, 133).is_empty());
        assert!(store.reminder(132).unwrap().is_some());
        assert_eq!(store.log_of(131).unwrap().items.len(), 1);
        assert_eq!(save(&store, 131, "next").id, 4, "the next number");
        store.close(Utc::now()).unwrap();
    }
}

/// Every file under `dir` and its bytes, in order.
fn files_and_bytes(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<(PathBuf, Vec<u8>)> = crate::support::files_under(dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_default();
            (p, bytes)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_migration_into_a_store_that_holds_anything_is_refused_with_nothing_changed() {
    let Some(db) = postgres::database() else {
        return;
    };
    let key = SecretKey::generate().to_hex().to_string();
    let sled = temp_dir("migrate-refused", "sled");
    let store = Store::open(&sled, SecretKey::from_hex(&key)).expect("opens");
    save(&store, 141, "in sled");
    store.close(Utc::now()).unwrap();
    drop(store);
    let local = temp_dir("migrate-refused", "postgres");
    let store = pg_store(&db, &local, &key).expect("opens");
    save(&store, 142, "in postgres");
    store.close(Utc::now()).unwrap();
    drop(store);
    let (pg_before, sled_before) = (stored_values(&db), files_and_bytes(&sled));
    let url = db.url();
    let sled_path = sled.to_str().expect("utf-8");
    // Into a database that holds records; into a directory that holds a
    // database; with both sides keeping their erasure record in one place.
    for (from, to, dir, says) in [
        (sled_path, url.as_str(), &local, "already holds"),
        (url.as_str(), sled_path, &local, "already holds a database"),
        (sled_path, url.as_str(), &sled, "a directory of its own"),
    ] {
        let run = migrate(from, to, dir, &key);
        assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(says) && run.stderr.contains("Nothing was changed"),
            "{}",
            run.stderr
        );
        assert_eq!(stored_values(&db), pg_before, "{from} → {to}");
        assert_eq!(files_and_bytes(&sled), sled_before, "{from} → {to}");
    }
    // Two data directories, or no key: the usage is refused, with what works.
    let run = migrate(sled_path, sled_path, &local, &key);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("postgres://"), "{}", run.stderr);
    let run = crate::support::companion_with_env(
        &["db", "migrate", "--from", sled_path, "--to", &url],
        "",
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--key-file"), "{}", run.stderr);
    assert_eq!(stored_values(&db), pg_before);
    assert_eq!(files_and_bytes(&sled), sled_before);
}

#[test]
fn what_a_member_erased_never_comes_back_through_a_migration_into_postgres() {
    let Some(db) = postgres::database() else {
        return;
    };
    // A backup from before member 112 was forgotten and 111's #2 deleted.
    let (key, sled, file) = exported_before_erasures("migrate-erased");
    let local = temp_dir("migrate-erased", "postgres");
    let url = db.url();
    let run = migrate(sled.to_str().expect("utf-8"), &url, &local, &key);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let store = pg_store(&db, &local, &key).expect("opens");
    assert_eq!(texts(&store, 111), ["kept"]);
    assert!(texts(&store, 112).is_empty());
    store.close(Utc::now()).unwrap();
    drop(store);
    // The old backup restored into the migrated database: the erasure
    // record came along, so what was erased stays out.
    let run = crate::support::companion_with_env(
        &[
            "db",
            "restore",
            "--from",
            file.to_str().expect("utf-8"),
            "--data-dir",
            local.to_str().expect("utf-8"),
            "--database",
            &url,
        ],
        "",
        &[("COMPANION_KEY", key.as_str())],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let store = pg_store(&db, &local, &key).expect("opens");
    assert_eq!(texts(&store, 111), ["kept"]);
    assert!(
        texts(&store, 112).is_empty(),
        "a forgotten member stays out"
    );
    assert_eq!(store.reflection_count(112).unwrap(), 0);
    store.close(Utc::now()).unwrap();
}

#[test]
fn a_migration_into_postgres_that_fails_part_way_leaves_the_source_and_is_refused_at_start() {
    use crate::support::companion_with_env;
    let Some(db) = postgres::database() else {
        return;
    };
    let key = SecretKey::generate().to_hex().to_string();
    let sled = temp_dir("migrate-cut", "sled");
    let store = Store::open(&sled, SecretKey::from_hex(&key)).expect("opens");
    fill_every_kind(&store);
    store.close(Utc::now()).unwrap();
    drop(store);
    let before = sled_records(&sled, &key, "migrate-cut-before");
    let local = temp_dir("migrate-cut", "postgres");
    let url = db.url();
    let sled_path = sled.to_str().expect("utf-8");
    // A source that is not there: refused, the target left empty.
    let missing = temp_dir("migrate-cut", "missing");
    let run = migrate(missing.to_str().expect("utf-8"), &url, &local, &key);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(stored_values(&db).is_empty());
    // The server fails the copy part way (after the reflections).
    refuse_writes_to(&db, "companion_summaries");
    let run = migrate(sled_path, &url, &local, &key);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("refused by the test")
            && run.stderr.contains("what it holds is as it was"),
        "{}",
        run.stderr
    );
    assert_eq!(
        sled_records(&sled, &key, "migrate-cut-source"),
        before,
        "the source is as it was"
    );
    assert_eq!(
        db.sql("SELECT count(*) FROM companion_reflections"),
        "0",
        "nothing of the copy was kept"
    );
    // The bot and the console refuse the half-migrated database.
    let env = [
        ("COMPANION_KEY", key.as_str()),
        ("COMPANION_DATABASE_URL", url.as_str()),
    ];
    let local_path = local.to_str().expect("utf-8");
    let console = companion_with_env(
        &["console", "--data-dir", local_path],
        "/reflections list\n",
        &env,
    );
    let said = format!("{}{}", console.stdout, console.stderr);
    assert!(
        said.contains("did not finish") && said.contains("companion db migrate"),
        "{said}"
    );
    let e = pg_store(&db, &local, &key).expect_err("refused");
    assert!(matches!(e, StoreError::MigrationUnfinished), "{e}");
    let check = companion_with_env(&["db", "check", "--data-dir", local_path], "", &env);
    assert_eq!(check.code, 3, "{}{}", check.stdout, check.stderr);
    // Run again once the server takes writes: it starts over and finishes.
    db.sql("DROP TRIGGER refuse ON companion_summaries");
    let run = migrate(sled_path, &url, &local, &key);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let store = pg_store(&db, &local, &key).expect("opens once migrated");
    assert_eq!(texts(&store, 131), ["shared words", "kept words"]);
    assert_eq!(save(&store, 131, "next").id, 4);
    store.close(Utc::now()).unwrap();
}

#[test]
fn a_migration_into_a_data_directory_killed_at_any_moment_is_whole_or_refused_until_run_again() {
    let Some(db) = postgres::database() else {
        return;
    };
    let key = SecretKey::generate().to_hex().to_string();
    let local = temp_dir("migrate-kill", "postgres");
    let store = pg_store(&db, &local, &key).expect("opens");
    fill_every_kind(&store);
    for i in 0..40 {
        save(
            &store,
            150 + i % 4,
            &format!("reflection {i} {}", "words ".repeat(200)),
        );
    }
    store.close(Utc::now()).unwrap();
    drop(store);
    let before = stored_values(&db);
    let url = db.url();
    let (mut whole, mut cut) = (0, 0);
    for step in 0..12u64 {
        let target = temp_dir(&format!("migrate-kill-{step}"), "sled");
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_companion"))
            .args(["db", "migrate", "--from", &url, "--to"])
            .arg(&target)
            .arg("--data-dir")
            .arg(&local)
            .env("COMPANION_KEY", &key)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the companion binary starts");
        std::thread::sleep(std::time::Duration::from_millis(step * 60));
        let _ = child.kill();
        child.wait().expect("reaped");
        assert_eq!(stored_values(&db), before, "the source, after {step}");
        match Store::open_existing(&target, SecretKey::from_hex(&key)) {
            Ok(store) => {
                whole += 1;
                assert_eq!(texts(&store, 131), ["shared words", "kept words"]);
                store.close(Utc::now()).unwrap();
            }
            Err(StoreError::ImportInterrupted(_)) => {
                cut += 1;
                let e = Store::open(&target, SecretKey::from_hex(&key))
                    .expect_err("the bot's start refuses it too");
                assert!(e.to_string().contains("did not finish"), "{e}");
                let run = migrate(&url, target.to_str().expect("utf-8"), &local, &key);
                assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
                let store = Store::open_existing(&target, SecretKey::from_hex(&key))
                    .expect("whole once run again");
                assert_eq!(texts(&store, 131), ["shared words", "kept words"]);
                store.close(Utc::now()).unwrap();
            }
            // Killed before anything was written.
            Err(StoreError::NoDatabase(_)) => {}
            Err(other) => panic!("after {step}: {other}"),
        }
    }
    eprintln!("killed part way {cut} times; whole {whole} times");
}

#[test]
fn on_postgres_processes_with_disjoint_shards_share_a_database_and_overlapping_ones_are_refused() {
    let Some(db) = postgres::database() else {
        return;
    };
    let key = SecretKey::generate().to_hex().to_string();
    // The processes share one data directory: the erasure record.
    let dir = temp_dir("shards", "postgres");
    let low = pg_store_for(&db, &dir, &key, Some(("0-1", 4))).expect("shards 0-1 open");
    let high =
        pg_store_for(&db, &dir, &key, Some(("2-3", 4))).expect("shards 2-3 open beside them");
    save(&low, 81, "through the first");
    assert_eq!(texts(&high, 81), ["through the first"]);
    let overlap = pg_store_for(
        &db,
        &temp_dir("shards-overlap", "postgres"),
        &key,
        Some(("1-2", 4)),
    )
    .expect_err("an overlapping range is refused");
    assert!(
        matches!(overlap, StoreError::ShardInUse { shard: 1, total: 4 }),
        "{overlap}"
    );
    assert!(overlap.to_string().contains("overlap"), "{overlap}");
    let alone = pg_store(&db, &temp_dir("shards-alone", "postgres"), &key)
        .expect_err("a process without shards is refused while shards run");
    assert!(matches!(alone, StoreError::DatabaseInUse), "{alone}");
    high.close(Utc::now()).unwrap();
    drop(high);
    let other_total = pg_store_for(
        &db,
        &temp_dir("shards-total", "postgres"),
        &key,
        Some(("1-1", 2)),
    )
    .expect_err("another shard total is refused");
    assert!(
        matches!(
            other_total,
            StoreError::ShardTotalDiffers { ours: 2, theirs: 4 }
        ),
        "{other_total}"
    );
    let again =
        pg_store_for(&db, &dir, &key, Some(("2-3", 4))).expect("the shards let go are taken again");
    again.close(Utc::now()).unwrap();
    low.close(Utc::now()).unwrap();
}

/// The class of a member's lock held across Discord calls, as the server
/// shows it in `pg_locks`.
const MEMBER_LOCK_CLASS: i64 = 0x636f_6d71;

/// What a waiting task took once the lock it waited for was let go (within
/// ten seconds); `why` says what the waiter expected.
fn taken_once_free<T>(
    rt: &tokio::runtime::Runtime,
    waiting: tokio::task::JoinHandle<Result<T, practice_companion::store::StoreError>>,
    why: &str,
) -> T {
    rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), waiting).await })
        .expect(why)
        .expect("the task ran")
        .expect("the lock is taken")
}

/// `member`'s lock through `store`, within `within`; `None` if still waiting.
fn hold_within(
    rt: &tokio::runtime::Runtime,
    store: &Store,
    member: u64,
    within: Duration,
) -> Option<practice_companion::store::MemberHold> {
    rt.block_on(async { tokio::time::timeout(within, store.hold_member(member)).await })
        .ok()
        .map(|held| held.expect("the lock is taken"))
}

/// Two bot processes on one database, with disjoint shards, sharing a data
/// directory as processes on one machine would.
fn two_processes(db: &Database, name: &str) -> (Store, Store) {
    let key = SecretKey::generate().to_hex().to_string();
    let dir = temp_dir(name, "postgres");
    let low = pg_store_for(db, &dir, &key, Some(("0-1", 4))).expect("shards 0-1 open");
    let high = pg_store_for(db, &dir, &key, Some(("2-3", 4))).expect("shards 2-3 open beside them");
    (low, high)
}

/// The member-lock rows of this database in `pg_locks`: the second key
/// and whether it is granted.
fn member_locks_shown(db: &Database) -> Vec<(i64, bool)> {
    db.sql(&format!(
        "SELECT objid::bigint, granted FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND classid::bigint = {MEMBER_LOCK_CLASS} AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY granted DESC"
    ))
    .lines()
    .map(|l| {
        let (objid, granted) = l.split_once('|').expect("two columns");
        (objid.parse().expect("a number"), granted == "t")
    })
    .collect()
}

#[test]
fn on_postgres_a_members_lock_taken_through_one_process_makes_another_wait_until_let_go() {
    let Some(db) = postgres::database() else {
        return;
    };
    let (low, high) = two_processes(&db, "member-lock");
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let member = 412_345_678_901_234_567_u64;
    let held = hold_within(&rt, &low, member, Duration::from_secs(10)).expect("taken at once");
    // The server holds it, under a keyed hash of the member, not the id.
    let shown = member_locks_shown(&db);
    assert_eq!(shown.len(), 1, "{shown:?}");
    let (objid, granted) = shown[0];
    assert!(granted);
    for part in [member & 0xffff_ffff, member >> 32] {
        assert_ne!(
            objid as u64 & 0xffff_ffff,
            part,
            "the lock's key shows the id"
        );
    }
    let other = high.clone();
    let waiting = rt.spawn(async move { other.hold_member(member).await });
    std::thread::sleep(Duration::from_millis(800));
    assert!(
        !waiting.is_finished(),
        "the second process took a member's lock the first holds"
    );
    // Another member does not wait for this one.
    let someone_else = hold_within(&rt, &high, member + 1, Duration::from_secs(5))
        .expect("another member's lock is not held up");
    drop(someone_else);
    drop(held);
    let theirs = taken_once_free(&rt, waiting, "the waiter gets the lock once it is let go");
    // And it is let go as its guard drops: the first process takes it again.
    drop(theirs);
    let again = hold_within(&rt, &low, member, Duration::from_secs(10))
        .expect("the lock is let go when its guard drops");
    drop(again);
    low.close(Utc::now()).unwrap();
    high.close(Utc::now()).unwrap();
}

#[test]
fn on_postgres_the_meetings_lock_taken_through_one_process_makes_another_wait_until_let_go() {
    let Some(db) = postgres::database() else {
        return;
    };
    let (low, high) = two_processes(&db, "meetings-lock");
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let held = rt
        .block_on(async {
            tokio::time::timeout(Duration::from_secs(10), low.hold_meetings()).await
        })
        .expect("taken at once")
        .expect("the lock is taken");
    let other = high.clone();
    let waiting = rt.spawn(async move { other.hold_meetings().await });
    std::thread::sleep(Duration::from_millis(800));
    assert!(
        !waiting.is_finished(),
        "the second process took the meetings lock the first holds"
    );
    // A member's lock is another lock.
    let member = hold_within(&rt, &high, 7, Duration::from_secs(5))
        .expect("a member's lock is not held up by the meetings'");
    drop(member);
    drop(held);
    let theirs = taken_once_free(&rt, waiting, "the waiter gets the lock once it is let go");
    drop(theirs);
    low.close(Utc::now()).unwrap();
    high.close(Utc::now()).unwrap();
}

#[test]
fn on_postgres_a_members_lock_is_let_go_when_its_holders_session_dies() {
    let Some(db) = postgres::database() else {
        return;
    };
    let (low, high) = two_processes(&db, "member-lock-dies");
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let member = 33;
    let held = hold_within(&rt, &low, member, Duration::from_secs(10)).expect("taken at once");
    let other = high.clone();
    let waiting = rt.spawn(async move { other.hold_member(member).await });
    std::thread::sleep(Duration::from_millis(500));
    assert!(!waiting.is_finished(), "the lock is held");
    // The holder's session ends, as it does when its process is killed.
    let ended = db.sql(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND classid::bigint = {MEMBER_LOCK_CLASS} AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    ));
    assert_eq!(ended.trim(), "t", "one holder's session was ended");
    let theirs = taken_once_free(
        &rt,
        waiting,
        "the waiter gets the lock once the holder's session is gone",
    );
    // The dead holder lets go without harm, and its process takes the
    // lock again on a new connection once the other lets go.
    drop(held);
    drop(theirs);
    let again = hold_within(&rt, &low, member, Duration::from_secs(10))
        .expect("taken again after the session was lost");
    drop(again);
    low.close(Utc::now()).unwrap();
    high.close(Utc::now()).unwrap();
}

#[test]
fn a_members_lock_within_one_process_makes_a_second_holder_wait() {
    for e in engines("member-lock-here") {
        let store = e.open().expect("opens");
        let rt = tokio::runtime::Runtime::new().expect("a runtime");
        let held = hold_within(&rt, &store, 5, Duration::from_secs(10)).expect("taken");
        assert!(
            hold_within(&rt, &store, 5, Duration::from_millis(300)).is_none(),
            "{}: a second holder did not wait",
            e.name
        );
        drop(hold_within(&rt, &store, 6, Duration::from_secs(5)).expect("another member's"));
        drop(held);
        drop(hold_within(&rt, &store, 5, Duration::from_secs(5)).expect("let go with its guard"));
    }
}

#[test]
fn on_postgres_one_members_saves_through_two_processes_at_once_get_distinct_numbers() {
    let Some(db) = postgres::database() else {
        return;
    };
    let (low, high) = two_processes(&db, "member-saves");
    let member = 77;
    let each = 12;
    let ids: Vec<u64> = std::thread::scope(|s| {
        let runs: Vec<_> = [(&low, "low"), (&high, "high")]
            .into_iter()
            .map(|(store, name)| {
                s.spawn(move || {
                    (0..each)
                        .map(|i| save(store, member, &format!("{name} {i}")).id)
                        .collect::<Vec<u64>>()
                })
            })
            .collect();
        runs.into_iter()
            .flat_map(|r| r.join().expect("saved"))
            .collect()
    });
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=2 * each).collect::<Vec<u64>>(), "{ids:?}");
    for store in [&low, &high] {
        let mut listed = texts(store, member);
        listed.sort();
        let mut expected: Vec<String> = ["low", "high"]
            .iter()
            .flat_map(|name| (0..each).map(move |i| format!("{name} {i}")))
            .collect();
        expected.sort();
        assert_eq!(listed, expected);
    }
    low.close(Utc::now()).unwrap();
    high.close(Utc::now()).unwrap();
}

/// Takes `each` turns under Discord's global rate limit through each
/// store at once, as fast as they are given; the second each was counted
/// in.
fn turns_taken(stores: &[&Store], per_second: u32, each: usize) -> Vec<i64> {
    std::thread::scope(|s| {
        let runs: Vec<_> = stores
            .iter()
            .map(|store| {
                s.spawn(move || {
                    let mut seconds = Vec::new();
                    while seconds.len() < each {
                        match store.discord_turn(per_second).expect("a turn") {
                            Turn::Go { second } => seconds.push(second),
                            Turn::Wait(wait) => std::thread::sleep(wait),
                        }
                    }
                    seconds
                })
            })
            .collect();
        runs.into_iter()
            .flat_map(|r| r.join().expect("turns"))
            .collect()
    })
}

/// Discord's global rate limit is the bot's as a whole: every store
/// given (processes sharing one database, or one process's tasks) is
/// granted no more than the limit in any second between them, and a hold
/// made through one (a global 429) keeps every other waiting.
fn keeps_under_the_global_limit(stores: &[&Store]) {
    const PER_SECOND: u32 = 10;
    let each = 25;
    let seconds = turns_taken(stores, PER_SECOND, each);
    assert_eq!(seconds.len(), stores.len() * each);
    let mut per: BTreeMap<i64, u32> = BTreeMap::new();
    for s in &seconds {
        *per.entry(*s).or_default() += 1;
    }
    assert!(
        per.values().all(|n| *n <= PER_SECOND),
        "more than {PER_SECOND} turns in a second: {per:?}"
    );
    assert!(per.len() >= seconds.len() / PER_SECOND as usize, "{per:?}");
    stores[0]
        .hold_discord_back(Duration::from_secs(2), PER_SECOND)
        .expect("held back");
    for store in stores {
        assert!(
            matches!(
                store.discord_turn(PER_SECOND).expect("a turn"),
                Turn::Wait(_)
            ),
            "a hold made through one holds back every other"
        );
    }
}

#[test]
fn one_process_keeps_under_discords_global_rate_limit() {
    let dir = temp_dir("discord-turns", "sled");
    let store = Store::open(&dir, None).expect("open");
    keeps_under_the_global_limit(&[&store, &store]);
    store.close(Utc::now()).expect("close");
}

#[test]
fn on_postgres_processes_sharing_a_database_keep_together_under_discords_global_rate_limit() {
    let Some(db) = postgres::database() else {
        return;
    };
    let (low, high) = two_processes(&db, "discord-turns");
    keeps_under_the_global_limit(&[&low, &high]);
    // The upkeep lets go of seconds over a minute gone.
    db.sql("INSERT INTO companion_discord_turns (second, used) VALUES (1, 45)");
    low.maintain(Utc::now()).expect("upkeep");
    assert_eq!(
        db.sql("SELECT count(*) FROM companion_discord_turns WHERE second < extract(epoch FROM clock_timestamp()) - 60")
            .trim(),
        "0"
    );
    low.close(Utc::now()).unwrap();
    high.close(Utc::now()).unwrap();
}

#[test]
fn on_postgres_a_save_whose_write_the_server_refuses_leaves_nothing_written_and_is_not_confirmed() {
    let Some(db) = postgres::database() else {
        return;
    };
    let dir = temp_dir("refused-save", "postgres");
    let key = SecretKey::generate().to_hex().to_string();
    let store = pg_store(&db, &dir, &key).expect("opens");
    assert_eq!(save(&store, 91, "first").id, 1);
    let f = Framework::builtin().expect("the framework");
    let mut next = 2;
    // A save's writes go to the server together, with its COMMIT: the
    // first of them, one in the middle and the last refused in turn.
    for table in [
        "companion_reflections",
        "companion_summaries",
        "companion_counters",
    ] {
        let before = stored_values(&db);
        refuse_writes_to(&db, table);
        let refused = store.add_reflection(91, |id| {
            Draft {
                title: "refused".into(),
                text: "refused words".into(),
                competences: vec![],
                model: "free".into(),
                mode: Mode::Coaching,
                minutes: None,
            }
            .into_reflection(id, 91, at(1), &f)
        });
        let e = refused.expect_err("not confirmed");
        assert!(
            e.to_string().contains("refused by the test"),
            "{table}: {e}"
        );
        assert_eq!(stored_values(&db), before, "{table}: nothing was written");
        db.sql(&format!("DROP TRIGGER refuse ON {table}"));
        // Every pooled connection (8) is used again, none left inside the
        // refused transaction; the number refused is given to the next.
        for _ in 0..10 {
            assert_eq!(
                save(&store, 91, &format!("saved {next}")).id,
                next,
                "{table}"
            );
            next += 1;
        }
    }
    let listed = texts(&store, 91);
    assert_eq!(listed.len(), 31);
    assert!(!listed.iter().any(|t| t.contains("refused")), "{listed:?}");
    store.close(Utc::now()).unwrap();
}
