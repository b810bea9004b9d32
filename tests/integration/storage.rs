//! The database from the operator's side, through the binary where an
//! operator would use it: back up, restore, check, damage, salvage; erasure
//! that leaves no sealed byte behind, in the data directory or its backups;
//! restores that respect erasures; keys; a second process refused.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::Utc;
use practice_companion::Framework;
use practice_companion::reflections::{Draft, Mode};
use practice_companion::store::{SecretKey, Store};

use crate::support::{companion, companion_with_input, files_under};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("companion-storage-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Every file under `dir` and its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files_under(dir)
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).expect("read");
            (path, bytes)
        })
        .collect()
}

/// Reflection `id` as the console shows it, read from `dir`.
fn console_view(dir: &Path, id: u64) -> String {
    companion_with_input(
        &["console", "--data-dir", s(dir)],
        &format!("/reflections view {id}\n"),
    )
    .stdout
}

/// Whether `needle` occurs in any file under `dir`.
pub(crate) fn occurs_in(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    snapshot(dir)
        .into_iter()
        .filter(|(_, bytes)| bytes.windows(needle.len()).any(|w| w == needle))
        .map(|(p, _)| p)
        .collect()
}

/// The live generation's raw records of one tree, read from a private copy
/// with sled itself (as someone with the disk would).
pub(crate) fn raw_tree(dir: &Path, tree: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    let live = std::fs::read_to_string(dir.join("CURRENT")).expect("CURRENT");
    let copy = scratch(&format!("raw-{}", live.trim()));
    let status = Command::new("cp")
        .arg("-a")
        .arg(dir.join(live.trim()))
        .arg(&copy)
        .status()
        .expect("cp");
    assert!(status.success());
    let db = sled::open(&copy).expect("sled opens the copy");
    let out = db
        .open_tree(tree)
        .expect("tree")
        .iter()
        .map(|e| e.map(|(k, v)| (k.to_vec(), v.to_vec())).expect("record"))
        .collect();
    drop(db);
    let _ = std::fs::remove_dir_all(&copy);
    out
}

fn draft(text: &str) -> Draft {
    Draft {
        title: String::new(),
        text: text.into(),
        competences: vec![],
        model: "free".into(),
        mode: Mode::Coaching,
        minutes: None,
    }
}

fn save(store: &Store, member: u64, text: &str) -> u64 {
    let f = Framework::builtin().expect("framework");
    store
        .add_reflection(member, |id| {
            draft(text).into_reflection(id, member, Utc::now(), &f)
        })
        .expect("save")
        .id
}

fn console_reflect(dir: &Path, text: &str) {
    let run = companion_with_input(
        &["console", "--data-dir", s(dir)],
        &format!("/reflect\n\n{text}\n.\n\n\n"),
    );
    assert!(
        run.stdout.contains("Saved as reflection #"),
        "{}",
        run.stdout
    );
}

#[test]
fn export_import_and_check_round_trip_a_database() {
    let a = scratch("a");
    let b = scratch("b");
    let file = scratch("backup").with_extension("bak");
    console_reflect(&a, "A reflection to keep.");

    let check = companion(&["db", "check", "--data-dir", s(&a)]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert!(
        check
            .stdout
            .contains("1 reflection of 1 member, every one readable"),
        "{}",
        check.stdout
    );

    let export = companion(&["db", "export", s(&file), "--data-dir", s(&a)]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file)
            .expect("backup")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "a backup file is owner-only");
    }
    let again = companion(&["db", "export", s(&file), "--data-dir", s(&a)]);
    assert_eq!(again.code, 3, "an existing backup is never overwritten");

    // Without the key, nothing is restored (and no key is made up).
    let keyless = companion(&["db", "import", s(&file), "--data-dir", s(&b)]);
    assert_eq!(keyless.code, 3);
    assert!(
        keyless.stderr.contains("no key was found"),
        "{}",
        keyless.stderr
    );
    assert!(!b.join("master.key").exists());

    // With the key but no erasure record: refused, with what would work.
    std::fs::copy(a.join("master.key"), b.join("master.key")).expect("copy key");
    let blind = companion(&["db", "import", s(&file), "--data-dir", s(&b)]);
    assert_eq!(blind.code, 3);
    assert!(blind.stderr.contains("--erasures"), "{}", blind.stderr);
    assert!(!b.join("CURRENT").exists(), "nothing was written");

    let erasures = a.join("erasures");
    let import = companion(&[
        "db",
        "import",
        s(&file),
        "--erasures",
        s(&erasures),
        "--data-dir",
        s(&b),
    ]);
    assert_eq!(import.code, 0, "{}", import.stderr);
    assert!(
        import.stdout.contains("1 reflection of 1 member"),
        "{}",
        import.stdout
    );
    let read = console_view(&b, 1);
    assert!(read.contains("A reflection to keep."), "{read}");
}

#[test]
fn a_backup_that_was_altered_or_made_under_another_key_is_refused_before_anything_is_written() {
    let a = scratch("auth-a");
    let file = scratch("auth-backup").with_extension("bak");
    console_reflect(&a, "Authenticated.");
    let export = companion(&["db", "export", s(&file), "--data-dir", s(&a)]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    let bytes = std::fs::read(&file).expect("backup");

    // One byte changed anywhere: refused.
    let target = scratch("auth-b");
    std::fs::create_dir_all(&target).expect("mkdir");
    std::fs::copy(a.join("master.key"), target.join("master.key")).expect("key");
    let mut altered = bytes.clone();
    let at = altered.len() / 2;
    altered[at] ^= 1;
    let altered_file = scratch("auth-altered").with_extension("bak");
    std::fs::write(&altered_file, &altered).expect("write");
    let run = companion(&[
        "db",
        "import",
        s(&altered_file),
        "--without-erasures",
        "--data-dir",
        s(&target),
    ]);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("does not authenticate"),
        "{}",
        run.stderr
    );
    assert!(!target.join("CURRENT").exists(), "nothing was written");

    // Cut short: refused.
    std::fs::write(&altered_file, &bytes[..bytes.len() - 40]).expect("write");
    let run = companion(&[
        "db",
        "import",
        s(&altered_file),
        "--without-erasures",
        "--data-dir",
        s(&target),
    ]);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("does not authenticate"),
        "{}",
        run.stderr
    );

    // Another key: refused.
    let other = scratch("auth-c");
    std::fs::create_dir_all(&other).expect("mkdir");
    std::fs::write(
        other.join("master.key"),
        SecretKey::generate().to_hex().as_bytes(),
    )
    .expect("key");
    let run = companion(&[
        "db",
        "import",
        s(&file),
        "--without-erasures",
        "--data-dir",
        s(&other),
    ]);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("does not authenticate"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_second_process_on_the_same_data_dir_is_refused_clearly() {
    let dir = scratch("locked");
    let mut holder = Command::new(env!("CARGO_BIN_EXE_companion"))
        .args(["console", "--data-dir", s(&dir)])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("console starts");
    let mut stdin = holder.stdin.take().expect("stdin");
    stdin.write_all(b"/map\n").expect("write");
    stdin.flush().expect("flush");
    // Wait until the holder has opened the store (its answer arrives).
    let mut out = holder.stdout.take().expect("stdout");
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !seen.contains("competence map") {
        let n = std::io::Read::read(&mut out, &mut buf).expect("read");
        assert!(n > 0, "the console ended early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    for args in [
        vec!["db", "check", "--data-dir", s(&dir)],
        vec![
            "db",
            "export",
            "/nonexistent-dir/x.bak",
            "--data-dir",
            s(&dir),
        ],
    ] {
        let second = companion(&args);
        assert_eq!(second.code, 3, "{args:?}");
        assert!(
            second
                .stderr
                .contains("in use by another companion process"),
            "{}",
            second.stderr
        );
    }
    drop(stdin);
    let _ = holder.wait();
}

#[test]
fn db_commands_on_a_directory_without_a_database_create_nothing() {
    let missing = scratch("no-db");
    for args in [
        vec!["db", "check", "--data-dir", s(&missing)],
        vec!["db", "export", "/tmp/never.bak", "--data-dir", s(&missing)],
        vec!["db", "restore", "--data-dir", s(&missing)],
        vec!["db", "salvage", "--data-dir", s(&missing)],
    ] {
        let run = companion(&args);
        assert_eq!(run.code, 3, "{args:?}");
        assert!(
            run.stderr.contains("there is no database"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("Nothing was created"), "{}", run.stderr);
        assert!(!missing.exists(), "{args:?} created {}", missing.display());
    }
    // An empty directory stays empty.
    std::fs::create_dir_all(&missing).expect("mkdir");
    let run = companion(&["db", "check", "--data-dir", s(&missing)]);
    assert_eq!(run.code, 3);
    assert!(snapshot(&missing).is_empty(), "nothing was written");
}

#[test]
fn a_data_dir_that_cannot_be_created_fails_with_a_clear_message() {
    let file = scratch("not-a-dir");
    std::fs::write(&file, b"a file, not a directory").expect("write");
    let inside = file.join("data");
    let run = companion_with_input(
        &["console", "--data-dir", s(&inside)],
        "/reflections list\n",
    );
    assert!(
        run.stdout.contains("cannot prepare the data directory"),
        "{}",
        run.stdout
    );
}

#[test]
fn keys_are_never_made_up_and_a_bad_key_is_refused() {
    let dir = scratch("keys");
    console_reflect(&dir, "Keyed.");
    let before = snapshot(&dir);
    for (value, says) in [
        ("", "set but empty"),
        ("   ", "set but empty"),
        ("not hex at all", "64 hexadecimal digits"),
    ] {
        let run = Command::new(env!("CARGO_BIN_EXE_companion"))
            .args(["db", "check", "--data-dir", s(&dir)])
            .env("COMPANION_KEY", value)
            .output()
            .expect("runs");
        assert_eq!(run.status.code(), Some(2), "{value:?}");
        assert!(
            String::from_utf8_lossy(&run.stderr).contains(says),
            "{value:?}"
        );
    }
    // The wrong key: refused, and nothing in the data directory changed.
    let wrong = Command::new(env!("CARGO_BIN_EXE_companion"))
        .args(["db", "check", "--data-dir", s(&dir)])
        .env("COMPANION_KEY", "00".repeat(32))
        .output()
        .expect("runs");
    assert_eq!(wrong.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("does not open the database"));
    let start = companion_with_input(
        &["console", "--data-dir", s(&dir), "--key-file", "/dev/null"],
        "/reflections list\n",
    );
    assert!(
        start.stdout.contains("does not hold a key"),
        "{}",
        start.stdout
    );
    let wrong_file = scratch("wrong.key");
    std::fs::write(&wrong_file, "11".repeat(32)).expect("write");
    let start = companion_with_input(
        &[
            "console",
            "--data-dir",
            s(&dir),
            "--key-file",
            s(&wrong_file),
        ],
        "/reflections list\n",
    );
    assert!(
        start.stdout.contains("does not open the database"),
        "{}",
        start.stdout
    );
    assert_eq!(snapshot(&dir), before, "a wrong key changes nothing");

    // The key moved out of the data directory into a key file (as with a
    // systemd credential): it opens, and no new key file appears.
    let key_file = scratch("moved.key");
    std::fs::rename(dir.join("master.key"), &key_file).expect("move key");
    let keyless = companion(&["db", "check", "--data-dir", s(&dir)]);
    assert_eq!(keyless.code, 3);
    assert!(
        keyless.stderr.contains("no key was found"),
        "{}",
        keyless.stderr
    );
    let with_file = companion(&[
        "db",
        "check",
        "--data-dir",
        s(&dir),
        "--key-file",
        s(&key_file),
    ]);
    assert_eq!(with_file.code, 0, "{}", with_file.stderr);
    let read = companion_with_input(
        &["console", "--data-dir", s(&dir), "--key-file", s(&key_file)],
        "/reflections view 1\n",
    );
    assert!(read.stdout.contains("Keyed."), "{}", read.stdout);
    assert!(!dir.join("master.key").exists());
}

#[test]
fn a_damaged_database_is_never_made_worse_and_comes_back_from_its_backup() {
    let dir = scratch("damaged");
    console_reflect(&dir, "First, in the backup.");
    console_reflect(&dir, "Second, in the backup too.");
    assert!(
        std::fs::read_dir(dir.join("backups"))
            .expect("backups")
            .count()
            >= 1,
        "a clean close writes an automatic backup"
    );
    let live = std::fs::read_to_string(dir.join("CURRENT")).expect("CURRENT");
    let log = dir.join(live.trim()).join("db");
    let mut bytes = std::fs::read(&log).expect("db");
    let at = bytes.len() / 3;
    bytes[at] ^= 0xff;
    std::fs::write(&log, &bytes).expect("damage");
    let damaged = snapshot(&dir);

    // The check reports it, exits non-zero, and writes nothing.
    let check = companion(&["db", "check", "--data-dir", s(&dir)]);
    assert_eq!(check.code, 1, "{}\n{}", check.stdout, check.stderr);
    assert!(check.stdout.contains("problem: "), "{}", check.stdout);
    assert!(
        !check.stdout.contains("every one readable"),
        "{}",
        check.stdout
    );
    assert_eq!(snapshot(&dir), damaged, "db check wrote nothing");

    // Starting refuses, says how to restore, and changes nothing.
    let start = companion_with_input(&["console", "--data-dir", s(&dir)], "/reflections list\n");
    assert!(start.stdout.contains("is damaged"), "{}", start.stdout);
    assert!(
        start.stdout.contains("companion db restore"),
        "{}",
        start.stdout
    );
    assert!(
        start.stdout.contains("left exactly as it was"),
        "{}",
        start.stdout
    );
    assert_eq!(snapshot(&dir), damaged, "a refused start wrote nothing");

    // One command restores the newest backup; another salvages the rest.
    let restore = companion(&["db", "restore", "--data-dir", s(&dir)]);
    assert_eq!(restore.code, 0, "{}", restore.stderr);
    assert!(
        restore.stdout.contains("2 reflections of 1 member"),
        "{}",
        restore.stdout
    );
    let salvage = companion(&["db", "salvage", "--data-dir", s(&dir)]);
    assert_eq!(salvage.code, 0, "{}", salvage.stderr);
    let list = companion_with_input(
        &["console", "--data-dir", s(&dir)],
        "/reflections view 1\n/reflections view 2\n",
    );
    assert!(
        list.stdout.contains("First, in the backup."),
        "{}",
        list.stdout
    );
    assert!(
        list.stdout.contains("Second, in the backup too."),
        "{}",
        list.stdout
    );
    let check = companion(&["db", "check", "--data-dir", s(&dir)]);
    assert_eq!(check.code, 0, "{}", check.stdout);
}

/// After a crash (no seal) a damaged log is recovered by sled by cutting it
/// at the damage; the commit counter beside the database shows confirmed
/// changes were cut off, so the copy is not adopted and nothing changes.
#[test]
fn a_crash_and_a_damaged_log_are_refused_not_adopted() {
    let dir = scratch("crash-damage");
    for i in 1..=6 {
        console_reflect(&dir, &format!("Reflection number {i} with some text."));
    }
    // As after a crash: no seal, and (to isolate the counter) no backups.
    std::fs::remove_file(dir.join("clean")).expect("unseal");
    std::fs::remove_dir_all(dir.join("backups")).expect("no backups");
    let live = std::fs::read_to_string(dir.join("CURRENT")).expect("CURRENT");
    let log = dir.join(live.trim()).join("db");
    let mut bytes = std::fs::read(&log).expect("db");
    let written: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] != 0).collect();
    let at = written[written.len() * 9 / 10];
    bytes[at] ^= 0xff;
    std::fs::write(&log, &bytes).expect("damage");
    let damaged = snapshot(&dir);

    let check = companion(&["db", "check", "--data-dir", s(&dir)]);
    assert_eq!(check.code, 1, "{}\n{}", check.stdout, check.stderr);
    assert!(check.stdout.contains("problem: "), "{}", check.stdout);
    let start = companion_with_input(&["console", "--data-dir", s(&dir)], "/reflections list\n");
    assert!(start.stdout.contains("is damaged"), "{}", start.stdout);
    assert_eq!(
        snapshot(&dir),
        damaged,
        "nothing was adopted, nothing changed"
    );
}

#[test]
fn salvage_without_a_backup_keeps_every_record_that_still_decrypts() {
    let dir = scratch("salvage-only");
    console_reflect(&dir, "Kept through salvage.");
    std::fs::remove_dir_all(dir.join("backups")).expect("no backups");
    // The seal no longer matches: damaged, and no backup to restore.
    std::fs::write(dir.join("clean"), "db.1 00 00\n").expect("break the seal");
    let restore = companion(&["db", "restore", "--data-dir", s(&dir)]);
    assert_eq!(restore.code, 3);
    assert!(
        restore.stderr.contains("no automatic backup"),
        "{}",
        restore.stderr
    );
    let salvage = companion(&["db", "salvage", "--data-dir", s(&dir)]);
    assert_eq!(salvage.code, 0, "{}", salvage.stderr);
    assert!(
        salvage.stdout.contains("salvaged 1 reflection"),
        "{}",
        salvage.stdout
    );
    let read = console_view(&dir, 1);
    assert!(read.contains("Kept through salvage."), "{read}");
}

/// Member 1 edits one reflection and deletes another, then asks to be
/// forgotten; member 2 stays. Every sealed byte member 1 ever had (their
/// wrapped key, each reflection, the version an edit replaced) must be gone
/// from every file of the data directory, backups included.
#[test]
fn erasure_leaves_no_sealed_byte_in_the_data_directory_or_its_backups() {
    let dir = scratch("erasure");
    let key = SecretKey::generate();
    let now = Utc::now();
    let mut secrets: Vec<Vec<u8>> = Vec::new();
    {
        let store = Store::open(&dir, Some(key.clone())).expect("open");
        save(&store, 1, "Alice's first, to be edited");
        save(&store, 1, "Alice's second, to be deleted");
        save(&store, 2, "Bob's, to be kept");
        store.backup_now(now).expect("a backup holding everything");
        for (_, v) in raw_tree(&dir, "reflections") {
            secrets.push(v);
        }
        secrets.extend(raw_tree(&dir, "member_keys").into_iter().map(|(_, v)| v));
        let bobs: Vec<Vec<u8>> = raw_tree(&dir, "reflections")
            .into_iter()
            .filter(|(k, _)| k[..8] == 2u64.to_be_bytes())
            .map(|(_, v)| v)
            .collect();
        let bob_key: Vec<u8> = raw_tree(&dir, "member_keys")
            .into_iter()
            .find(|(k, _)| k[..] == 2u64.to_be_bytes())
            .map(|(_, v)| v)
            .expect("bob's key");
        secrets.retain(|v| !bobs.contains(v) && *v != bob_key);
        assert_eq!(secrets.len(), 3, "two reflections and a key of alice's");
        secrets.extend(
            raw_tree(&dir, "summaries")
                .into_iter()
                .filter(|(k, _)| k[..8] == 1u64.to_be_bytes())
                .map(|(_, v)| v),
        );
        assert_eq!(secrets.len(), 5, "and the two summaries a list shows");

        store
            .update_reflection(1, 1, now, |r| r.text = "Alice's first, edited".into())
            .expect("edit");
        // The edit's old version waits for the rewrite; maintenance makes it
        // real within the documented time.
        let first_new = raw_tree(&dir, "reflections")
            .into_iter()
            .find(|(k, _)| k[..8] == 1u64.to_be_bytes() && k[8..] == 1u64.to_be_bytes())
            .map(|(_, v)| v)
            .expect("edited record");
        store
            .maintain(now + practice_companion::store::ERASE_WITHIN)
            .expect("maintain");
        let old = &secrets[0];
        let probe = &old[old.len() / 2..old.len() / 2 + 24];
        assert_eq!(
            occurs_in(&dir, probe),
            Vec::<PathBuf>::new(),
            "the replaced version is gone"
        );
        secrets.push(first_new);

        assert!(store.delete_reflection(1, 2, now).expect("delete"));
        assert_eq!(store.forget_member(1, now).expect("forget"), 1);
        assert_eq!(store.reflections_of(2).expect("bob").items.len(), 1);
        // Forget-me removes the member's records at once; their last
        // sealed bytes leave the files and the backups within the bound
        // the reply states, by the store's own upkeep, while it is open.
        assert!(!store.holds_anything_of(1).expect("query"));
        let next = store
            .maintain(now + practice_companion::store::ERASE_WITHIN)
            .expect("maintain");
        assert!(next > now, "upkeep says when to come again");
        for secret in &secrets {
            let probe = &secret[secret.len() / 2..secret.len() / 2 + 24];
            assert_eq!(
                occurs_in(&dir, probe),
                Vec::<PathBuf>::new(),
                "within the bound after forget-me"
            );
        }
        store.close(now).expect("close");
    }
    for secret in &secrets {
        let probe = &secret[secret.len() / 2..secret.len() / 2 + 24];
        assert_eq!(
            occurs_in(&dir, probe),
            Vec::<PathBuf>::new(),
            "a sealed byte of a forgotten member remains"
        );
    }
    let store = Store::open(&dir, Some(key)).expect("reopens");
    assert!(!store.holds_anything_of(1).expect("query"));
    assert_eq!(
        store.reflections_of(2).expect("bob").items[0].text,
        "Bob's, to be kept"
    );
}

#[test]
fn a_backup_made_before_an_erasure_never_brings_it_back() {
    let dir = scratch("restore-erasure");
    let key = SecretKey::generate();
    let file = scratch("restore-erasure-backup").with_extension("bak");
    let now = Utc::now();
    {
        let store = Store::open(&dir, Some(key.clone())).expect("open");
        save(&store, 1, "Alice, forgotten later");
        let reminder = |last_slot| practice_companion::store::Reminder {
            rule: practice_companion::schedule::Rule {
                weekday: chrono::Weekday::Mon,
                time: chrono::NaiveTime::from_hms_opt(9, 0, 0).expect("time"),
                tz: "Europe/London".into(),
                grace_hours: 2,
            },
            guild: 7,
            last_slot,
            skip: None,
        };
        store
            .set_reminder(1, Some(&reminder(now)))
            .expect("reminder");
        save(&store, 2, "Bob's first, kept");
        save(&store, 2, "Bob's second, deleted later");
        save(&store, 2, "Bob's third, edited later");
        store.export_to(&file).expect("backup");
        // The reminder moves on every week, so the backup's copy differs.
        store
            .set_reminder(1, Some(&reminder(now + chrono::Duration::days(7))))
            .expect("reminder");
        store.forget_member(1, now).expect("forget");
        store.delete_reflection(2, 2, now).expect("delete");
        store
            .update_reflection(2, 3, now, |r| r.text = "Bob's third, as edited".into())
            .expect("edit");
        store.close(now).expect("close");
    }
    let key_file = scratch("restore-erasure.key");
    std::fs::write(&key_file, key.to_hex().as_bytes()).expect("key file");
    let target = scratch("restore-erasure-target");
    let run = companion(&[
        "db",
        "import",
        s(&file),
        "--erasures",
        s(&dir.join("erasures")),
        "--key-file",
        s(&key_file),
        "--data-dir",
        s(&target),
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("1 reflection of 1 member"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("left out because the erasure record"),
        "{}",
        run.stdout
    );
    let store = Store::open(&target, Some(key.clone())).expect("open restored");
    assert!(
        !store.holds_anything_of(1).expect("query"),
        "alice stays forgotten"
    );
    assert_eq!(store.reminder(1).expect("query"), None, "her reminder too");
    let bob: Vec<String> = store
        .reflections_of(2)
        .expect("bob")
        .items
        .into_iter()
        .map(|r| r.text)
        .collect();
    assert_eq!(
        bob,
        ["Bob's first, kept"],
        "the deleted and the pre-edit text stay erased"
    );
    assert_eq!(save(&store, 1, "Alice, in the imported copy"), 101);
    drop(store);

    // The same backup restored over the original directory: the same.
    let run = companion(&[
        "db",
        "restore",
        "--from",
        s(&file),
        "--key-file",
        s(&key_file),
        "--data-dir",
        s(&dir),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let store = Store::open(&dir, Some(key)).expect("open");
    assert!(!store.holds_anything_of(1).expect("query"));
    // The backup comes back, and what still reads of the database it
    // replaced is added back (here, the edited third); nothing erased does.
    let mut bob: Vec<String> = store
        .reflections_of(2)
        .expect("bob")
        .items
        .into_iter()
        .map(|r| r.text)
        .collect();
    bob.sort();
    assert_eq!(bob, ["Bob's first, kept", "Bob's third, as edited"]);
    // Alice's old numbers stay retired though the backup predates her
    // forget-me: the erasure record holds them.
    assert_eq!(save(&store, 1, "Alice returns"), 101);
}

#[test]
fn automatic_backups_are_written_daily_and_only_the_newest_are_kept() {
    let dir = scratch("auto-backups");
    let store = Store::open(&dir, Some(SecretKey::generate())).expect("open");
    let start = Utc::now();
    save(&store, 1, "one");
    let next = store.maintain(start).expect("maintain");
    assert_eq!(
        std::fs::read_dir(dir.join("backups")).expect("dir").count(),
        1
    );
    assert_eq!(next, start + practice_companion::store::BACKUP_EVERY);
    store
        .maintain(start + chrono::Duration::hours(1))
        .expect("maintain");
    assert_eq!(
        std::fs::read_dir(dir.join("backups")).expect("dir").count(),
        1,
        "not again within the day"
    );
    for day in 1..=10 {
        save(&store, 1, "more");
        store
            .maintain(start + chrono::Duration::days(day))
            .expect("maintain");
    }
    assert_eq!(
        std::fs::read_dir(dir.join("backups")).expect("dir").count(),
        practice_companion::store::KEEP_BACKUPS
    );
}

/// The systemd unit keeps the master key apart from the data (a
/// credential), and its command line is one the binary accepts.
#[test]
fn the_service_unit_passes_the_key_as_a_credential_and_its_command_line_parses() {
    for name in ["companion.service", "companion-postgres.service"] {
        let unit = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("deploy")
                .join(name),
        )
        .expect("unit file");
        assert!(unit.contains("LoadCredential=master-key:"), "{name}");
        assert!(unit.contains("UMask=0077"), "{name}");
        let exec = unit
            .lines()
            .find_map(|l| l.strip_prefix("ExecStart="))
            .expect("ExecStart");
        assert!(
            exec.contains("--key-file ${CREDENTIALS_DIRECTORY}/master-key"),
            "{exec}"
        );
        if name.contains("postgres") {
            // Known to the server over its socket by the user's name, with
            // no password; the password credential is where the bot reads it.
            assert!(unit.contains("\nUser=companion\n"), "{name}");
            assert!(unit.contains("After=network-online.target postgresql.service"));
            assert!(
                exec.contains("--database postgres://companion@/companion?host=/run/postgresql"),
                "{exec}"
            );
            assert!(
                unit.contains(&format!(
                    "LoadCredential={}:",
                    practice_companion::store::PASSWORD_CREDENTIAL
                )),
                "{name}"
            );
        }
        let creds = scratch("credentials");
        let state = scratch("state");
        std::fs::create_dir_all(&creds).expect("mkdir");
        std::fs::write(
            creds.join("master-key"),
            SecretKey::generate().to_hex().as_bytes(),
        )
        .expect("key");
        let args: Vec<String> = exec
            .split_whitespace()
            .skip(1)
            .map(|a| {
                a.replace("${CREDENTIALS_DIRECTORY}", s(&creds))
                    .replace("${STATE_DIRECTORY}", s(&state))
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = companion(&args);
        // No token credential here: the command line parsed, and it stops at
        // the missing token (bad usage, 2), not at an unknown option.
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains("cannot read the token file"),
            "{name}: {}",
            run.stderr
        );
    }
}

/// A form held for its member (one that could not be saved whole) is sealed
/// at rest, opens only for that member, and is erased, to the last sealed
/// byte in the data directory and its backups, when it is replaced, when
/// its 24 hours have passed, and by forget-me.
#[test]
fn a_held_form_is_sealed_and_erased_when_replaced_expired_or_forgotten() {
    use practice_companion::reflections::form::{
        HOLD_FORM_FOR, Held, HeldFor, HeldKind, Holding, Typed,
    };
    use practice_companion::store::ERASE_WITHIN;
    let dir = scratch("held-forms");
    let now = Utc::now();
    let store = Store::open(&dir, Some(SecretKey::generate())).expect("store");
    let form = |text: &str| Held {
        purpose: HeldFor::New("gibbs".into()),
        typed: Typed {
            title: Some("Before the next session".into()),
            text: Some(text.into()),
            tags: Some("C3.5, C9.9".into()),
            mode: Some("supervision".into()),
            minutes: Some("a while".into()),
            ..Typed::default()
        },
    };
    let sealed = |member: u64| -> Vec<u8> {
        raw_tree(&dir, "held_forms")
            .into_iter()
            .find(|(k, _)| k.starts_with(&member.to_be_bytes()))
            .map(|(_, v)| v)
            .expect("held")
    };
    let gone = |secret: &[u8]| {
        let probe = &secret[secret.len() / 2..secret.len() / 2 + 24];
        occurs_in(&dir, probe)
    };

    // Replaced: the first form's sealed bytes leave within the bound.
    store
        .hold_form(
            1,
            &form("first words about Mrs Dalloway"),
            Holding::CarriedOn,
            now,
        )
        .expect("hold");
    let first = sealed(1);
    assert!(
        occurs_in(&dir, b"Mrs Dalloway").is_empty(),
        "a held form is sealed at rest"
    );
    store.maintain(now).expect("a backup holding it");
    store
        .hold_form(1, &form("second words"), Holding::CarriedOn, now)
        .expect("hold again");
    assert_eq!(
        store
            .held_form(1, HeldKind::Reflection, now)
            .expect("read")
            .map(|h| h.typed.text),
        Some(Some("second words".to_string()))
    );
    assert_eq!(
        store.held_form(2, HeldKind::Reflection, now).expect("read"),
        None,
        "only its member's"
    );
    store.maintain(now + ERASE_WITHIN).expect("upkeep");
    assert_eq!(
        gone(&first),
        Vec::<PathBuf>::new(),
        "the replaced form is erased"
    );

    // Expired: unreadable once its time has passed, erased by the upkeep.
    let second = sealed(1);
    let later = now + HOLD_FORM_FOR + chrono::Duration::seconds(1);
    assert_eq!(
        store
            .held_form(1, HeldKind::Reflection, later)
            .expect("read"),
        None
    );
    store.maintain(later).expect("upkeep lets go");
    store
        .maintain(later + ERASE_WITHIN)
        .expect("upkeep rewrites");
    assert_eq!(
        gone(&second),
        Vec::<PathBuf>::new(),
        "the expired form is erased"
    );

    // Forget-me: a member whose only record is a held form is forgotten too.
    store
        .hold_form(3, &form("third words"), Holding::CarriedOn, later)
        .expect("hold");
    let third = sealed(3);
    assert!(store.holds_anything_of(3).expect("query"));
    store.forget_member(3, later).expect("forget");
    assert!(!store.holds_anything_of(3).expect("query"));
    assert_eq!(
        store
            .held_form(3, HeldKind::Reflection, later)
            .expect("read"),
        None
    );
    store
        .maintain(later + ERASE_WITHIN)
        .expect("upkeep rewrites");
    assert_eq!(gone(&third), Vec::<PathBuf>::new(), "forget-me erases it");

    // A form held to correct a reflection goes when the reflection is
    // edited or deleted (it holds the words they replace); another stays.
    let framework = Framework::builtin().expect("framework");
    let save = || {
        store
            .add_reflection(4, |id| {
                Draft {
                    title: "Saved".into(),
                    text: "Saved words.".into(),
                    competences: vec![],
                    model: "free".into(),
                    mode: Mode::Coaching,
                    minutes: None,
                }
                .into_reflection(id, 4, later, &framework)
            })
            .expect("save")
    };
    let (saved, other) = (save(), save());
    let about = |purpose: HeldFor| Held {
        purpose,
        ..form("words the delete must take")
    };
    store
        .hold_form(
            4,
            &about(HeldFor::Edit(saved.id)),
            Holding::CarriedOn,
            later,
        )
        .expect("hold");
    let for_edit = sealed(4);
    store
        .update_reflection(4, saved.id, later, |r| r.text = "Edited.".into())
        .expect("edit");
    assert_eq!(
        store
            .held_form(4, HeldKind::Reflection, later)
            .expect("read"),
        None,
        "an edit lets it go"
    );
    store
        .hold_form(
            4,
            &about(HeldFor::Edit(saved.id)),
            Holding::CarriedOn,
            later,
        )
        .expect("hold");
    let for_delete = sealed(4);
    assert!(store.delete_reflection(4, saved.id, later).expect("delete"));
    assert_eq!(
        store
            .held_form(4, HeldKind::Reflection, later)
            .expect("read"),
        None,
        "a delete lets it go"
    );
    store
        .hold_form(
            4,
            &about(HeldFor::New("free".into())),
            Holding::CarriedOn,
            later,
        )
        .expect("hold");
    assert!(store.delete_reflection(4, other.id, later).expect("delete"));
    assert!(
        store
            .held_form(4, HeldKind::Reflection, later)
            .expect("read")
            .is_some(),
        "another stays"
    );
    store
        .maintain(later + ERASE_WITHIN)
        .expect("upkeep rewrites");
    for secret in [&for_edit, &for_delete] {
        assert_eq!(
            gone(secret),
            Vec::<PathBuf>::new(),
            "erased with the reflection's words"
        );
    }
    store.close(later).expect("close");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A restore or a salvage brings a member's supervision log back with the
/// key that opens it, and numbers go on above every entry present: nothing
/// saved is overwritten, and nothing is locked out, whether the backup was
/// made before the newer entries or before the member had any.
#[test]
fn a_restore_keeps_every_log_entry_readable_and_never_reuses_a_number() {
    use practice_companion::supervision::log::{Kind, LogDraft, LogEntry};
    let entry = |words: &str| LogDraft {
        date: chrono::NaiveDate::from_ymd_opt(2026, 11, 3).expect("date"),
        attended: true,
        minutes: 90,
        kind: Kind::Group,
        took_away: words.into(),
        competences: vec![],
        functions: vec![],
    };
    let add = |store: &Store, words: &str| -> LogEntry {
        let draft = entry(words);
        store
            .add_log_entry(1, |id| draft.into_entry(id, Utc::now()))
            .expect("logged")
    };
    let restore = |dir: &Path, file: &Path| {
        let run = companion(&["db", "restore", "--from", s(file), "--data-dir", s(dir)]);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    };
    let texts = |store: &Store| -> Vec<(u64, String)> {
        let log = store.log_of(1).expect("log");
        assert!(
            log.unreadable.is_empty(),
            "unreadable: {:?}",
            log.unreadable
        );
        log.items.into_iter().map(|e| (e.id, e.took_away)).collect()
    };

    // A backup from before the newer entries.
    let dir = scratch("restore-log-newer");
    let file = scratch("restore-log-newer-backup").with_extension("bak");
    {
        let store = Store::open(&dir, None).expect("open");
        add(&store, "first");
        add(&store, "second");
        store.export_to(&file).expect("backup");
        add(&store, "third, kept");
        store.close(Utc::now()).expect("close");
    }
    restore(&dir, &file);
    {
        let store = Store::open(&dir, None).expect("reopen");
        assert_eq!(
            add(&store, "fourth").id,
            4,
            "numbers go on above every entry"
        );
        let all = texts(&store);
        assert!(all.contains(&(3, "third, kept".into())), "{all:?}");
        assert_eq!(all.len(), 4, "{all:?}");
        store.close(Utc::now()).expect("close");
    }

    // A backup from before the member had anything at all.
    let dir = scratch("restore-log-none");
    let file = scratch("restore-log-none-backup").with_extension("bak");
    {
        let store = Store::open(&dir, None).expect("open");
        store
            .set_guild_settings(
                7,
                &practice_companion::store::GuildSettings { inline: true },
            )
            .expect("something to back up");
        store.export_to(&file).expect("backup");
        add(&store, "first, after the backup");
        store.close(Utc::now()).expect("close");
    }
    restore(&dir, &file);
    let store = Store::open(&dir, None).expect("reopen");
    assert_eq!(texts(&store), [(1, "first, after the backup".to_string())]);
    assert_eq!(add(&store, "second").id, 2, "the member is not locked out");
    store.close(Utc::now()).expect("close");
}
