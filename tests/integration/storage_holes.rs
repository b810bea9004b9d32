//! The holes a hostile review of the store found, each reproduced as the
//! review did (an operator's commands on a data directory left by a crash,
//! a lost file, a link, a wrong key), each held to what the documents
//! promise: a wrong key changes nothing, nothing confirmed is lost, nothing
//! erased comes back, numbers never go back, links are never followed.
//! The classes they belong to are walked whole by `crash_states.rs` and
//! `faults.rs`; these are the instances, kept so each stays closed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::Utc;
use practice_companion::Framework;
use practice_companion::reflections::{Draft, Mode};
use practice_companion::store::{SecretKey, Store};

use crate::support::{Run, files_under};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("companion-holes-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&dir);
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Every file under `dir` with its bytes (the lock file's existence aside).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files_under(dir)
        .into_iter()
        .filter(|p| p.file_name().is_none_or(|n| n != "lock"))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_default();
            (p, bytes)
        })
        .collect()
}

fn save(store: &Store, member: u64, text: &str) -> u64 {
    let f = Framework::builtin().expect("framework");
    let draft = Draft {
        title: String::new(),
        text: text.into(),
        competences: vec![],
        model: "free".into(),
        mode: Mode::Coaching,
        minutes: None,
    };
    store
        .add_reflection(member, |id| {
            draft.into_reflection(id, member, Utc::now(), &f)
        })
        .expect("save")
        .id
}

/// Runs `companion` with the master key in the environment.
fn run(args: &[&str], key: &SecretKey) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_companion"))
        .args(args)
        .env("COMPANION_KEY", key.to_hex())
        .env_remove("DISCORD_TOKEN")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Texts of `member`'s reflections, read with the right key.
fn texts(dir: &Path, key: &SecretKey, member: u64) -> Vec<String> {
    let store = Store::open(dir, Some(key.clone())).expect("opens with the right key");
    let mut out: Vec<String> = store
        .reflections_of(member)
        .expect("read")
        .items
        .into_iter()
        .map(|r| r.text)
        .collect();
    out.sort();
    store.close(Utc::now()).expect("close");
    out
}

/// A database with #1 closed cleanly, then #2 saved and the process gone
/// without a clean close (as after kill -9).
fn crashed_after_two(name: &str) -> (PathBuf, SecretKey) {
    let dir = scratch(name);
    let key = SecretKey::generate();
    let store = Store::open(&dir, Some(key.clone())).expect("open");
    save(&store, 1, "First, closed cleanly.");
    store.close(Utc::now()).expect("close");
    drop(store);
    let store = Store::open(&dir, Some(key.clone())).expect("open");
    save(&store, 1, "Second, confirmed before the crash.");
    drop(store);
    (dir, key)
}

/// Hole 1: a wrong key (random, or the key file with one digit changed)
/// never writes to a directory that holds a database: salvage, restore,
/// check, import and start all refuse and leave every byte as it was.
#[test]
fn a_wrong_key_changes_nothing_whatever_the_command() {
    let (dir, key) = crashed_after_two("wrong-key");
    let before = snapshot(&dir);
    let mut flipped = key.to_hex();
    let first = if flipped.starts_with('0') { "1" } else { "0" };
    flipped.replace_range(0..1, first);
    let flipped = SecretKey::from_hex(&flipped).expect("hex");
    for wrong in [SecretKey::generate(), flipped] {
        for args in [
            vec!["db", "salvage"],
            vec!["db", "restore"],
            vec!["db", "check"],
            vec!["console"],
        ] {
            let mut all = args.clone();
            all.extend(["--data-dir", s(&dir)]);
            let out = run(&all, &wrong);
            assert_ne!(out.code, 0, "{args:?} with a wrong key: {}", out.stdout);
            let words = format!("{}{}", out.stdout, out.stderr);
            assert!(
                words.contains("does not open the database"),
                "{args:?}: {words}"
            );
            assert_eq!(snapshot(&dir), before, "{args:?} with a wrong key wrote");
        }
    }
    assert_eq!(
        texts(&dir, &key, 1),
        [
            "First, closed cleanly.",
            "Second, confirmed before the crash."
        ]
    );
}

/// Hole 2: a missing `CURRENT` is damage, never a new database; with the
/// key file gone too, no new key is made; `db restore` brings everything
/// back and scrubs nothing it has not salvaged.
#[test]
fn a_missing_current_is_damage_and_restore_loses_nothing() {
    let (dir, key) = crashed_after_two("no-current");
    {
        let store = Store::open(&dir, Some(key.clone())).expect("open");
        store.backup_now(Utc::now()).expect("backup");
        store.close(Utc::now()).expect("close");
    }
    std::fs::remove_file(dir.join("CURRENT")).expect("rm CURRENT");
    let before = snapshot(&dir);
    let start = run(&["console", "--data-dir", s(&dir)], &SecretKey::generate());
    assert!(
        format!("{}{}", start.stdout, start.stderr).contains("CURRENT"),
        "{}{}",
        start.stdout,
        start.stderr
    );
    assert!(
        !start.stdout.contains("no reflections yet"),
        "{}",
        start.stdout
    );
    assert_eq!(
        snapshot(&dir),
        before,
        "a start wrote to a damaged directory"
    );
    // Without any key at all: still damage, and no key is made up.
    let keyless = crate::support::companion_with_input(
        &["console", "--data-dir", s(&dir)],
        "/reflections list\n",
    );
    assert!(!dir.join("master.key").exists(), "a key was made up");
    assert!(!keyless.stdout.contains("no reflections yet"));
    assert_eq!(snapshot(&dir), before);
    let restored = run(&["db", "restore", "--data-dir", s(&dir)], &key);
    assert_eq!(restored.code, 0, "{}{}", restored.stdout, restored.stderr);
    assert_eq!(
        texts(&dir, &key, 1),
        [
            "First, closed cleanly.",
            "Second, confirmed before the crash."
        ]
    );
}

/// Hole 4: a share (or a withdrawal) re-seals a reflection; a later delete
/// or edit erases every sealing of the words, so a backup from before the
/// share brings neither the deleted text nor the pre-edit text back.
#[test]
fn a_share_then_a_delete_or_an_edit_leaves_no_old_sealing_to_restore() {
    let dir = scratch("share-then-delete");
    let key = SecretKey::generate();
    let backup = scratch("share-then-delete.bak");
    let now = Utc::now();
    {
        let store = Store::open(&dir, Some(key.clone())).expect("open");
        save(&store, 1, "Shared, then deleted.");
        save(&store, 1, "Shared, then edited.");
        store.export_to(&backup).expect("backup before the share");
        for id in [1, 2] {
            store
                .update_shares(1, id, |_, discussed| *discussed = true)
                .expect("share")
                .expect("there");
        }
        store.delete_reflection(1, 1, now).expect("delete");
        store
            .update_reflection(1, 2, now, |r| r.text = "As edited.".into())
            .expect("edit");
        store.close(now).expect("close");
    }
    let out = run(
        &["db", "restore", "--from", s(&backup), "--data-dir", s(&dir)],
        &key,
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let now_there = texts(&dir, &key, 1);
    assert!(
        !now_there.iter().any(|t| t.starts_with("Shared, then")),
        "an erased text came back: {now_there:?}"
    );
    assert_eq!(now_there, ["As edited."]);
}

/// Hole 5: a restore after a crash finishes the erasure that was pending:
/// the deleted reflection's sealed bytes leave the backups and the damaged
/// copy, and the check says all is well only then.
#[test]
fn a_restore_after_a_crash_finishes_a_pending_erasure() {
    let dir = scratch("restore-pending");
    let key = SecretKey::generate();
    let secret = "A text deleted just before the crash, never to return.";
    let sealed;
    {
        let store = Store::open(&dir, Some(key.clone())).expect("open");
        save(&store, 1, secret);
        save(&store, 1, "Kept.");
        store.backup_now(Utc::now()).expect("backup");
        store.close(Utc::now()).expect("close");
        drop(store);
        let store = Store::open(&dir, Some(key.clone())).expect("open");
        sealed = crate::storage::raw_tree(&dir, "reflections")[0].1.clone();
        store.delete_reflection(1, 1, Utc::now()).expect("delete");
        drop(store); // the process dies before the rewrite
    }
    let out = run(&["db", "restore", "--data-dir", s(&dir)], &key);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let probe = &sealed[sealed.len() / 2..sealed.len() / 2 + 24];
    assert_eq!(
        crate::storage::occurs_in(&dir, probe),
        Vec::<PathBuf>::new(),
        "the deleted reflection's sealed bytes remain"
    );
    let check = run(&["db", "check", "--data-dir", s(&dir)], &key);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    assert_eq!(texts(&dir, &key, 1), ["Kept."]);
}

/// Hole 6 and 11: what an interrupted backup, check or salvage leaves
/// (a half-written backup, a scratch copy) is scrubbed at the next start,
/// and no copy is ever made outside the data directory.
#[test]
fn leftovers_of_interrupted_work_are_scrubbed_at_the_next_start() {
    let dir = scratch("leftovers");
    let key = SecretKey::generate();
    {
        let store = Store::open(&dir, Some(key.clone())).expect("open");
        save(&store, 1, "Something.");
        store.backup_now(Utc::now()).expect("backup");
        store.close(Utc::now()).expect("close");
    }
    let marker = b"LEFTOVER-SEALED-BYTES";
    std::fs::write(dir.join("backups/backup-20260101T000000Z.pcbk.tmp"), marker).expect("tmp");
    std::fs::create_dir_all(dir.join("scratch/check/db")).expect("scratch");
    std::fs::write(dir.join("scratch/check/db/db"), marker).expect("scratch copy");
    // Recovery copies that starts killed midway left (many once piled up).
    for n in [77, 78] {
        std::fs::create_dir_all(dir.join(format!("db.{n}"))).expect("stray generation");
        std::fs::write(dir.join(format!("db.{n}/db")), marker).expect("stray log");
    }
    let temp_before: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .expect("temp")
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().starts_with("companion-check"))
        .collect();
    let check = run(&["db", "check", "--data-dir", s(&dir)], &key);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    let temp_after: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .expect("temp")
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().starts_with("companion-check"))
        .collect();
    assert_eq!(
        temp_before, temp_after,
        "a check copied the database outside"
    );
    drop(Store::open(&dir, Some(key)).expect("start"));
    assert!(!dir.join("db.77").exists() && !dir.join("db.78").exists());
    assert_eq!(
        crate::storage::occurs_in(&dir, marker),
        Vec::<PathBuf>::new()
    );
    assert!(!dir.join("scratch").exists());
}

/// Hole 7: the erasure record is authenticated and checked: a flipped bit,
/// a record cut short or deleted is found by a start, by `db check`, and
/// by a restore, which refuses it unless told `--without-erasures`.
#[test]
fn a_changed_or_missing_erasure_record_is_found_and_restores_refuse_it() {
    let dir = scratch("erasure-record");
    let key = SecretKey::generate();
    let backup = scratch("erasure-record.bak");
    {
        let store = Store::open(&dir, Some(key.clone())).expect("open");
        save(&store, 1, "Deleted after the export.");
        save(&store, 1, "Kept.");
        store.export_to(&backup).expect("export");
        store.delete_reflection(1, 1, Utc::now()).expect("delete");
        store.close(Utc::now()).expect("close");
    }
    let good = std::fs::read(dir.join("erasures")).expect("record");
    let mut flipped = good.clone();
    let at = flipped.len() - 5;
    flipped[at] ^= 0x01;
    for (what, bytes) in [
        ("a flipped bit", Some(flipped)),
        ("cut short", Some(good[..good.len() - 40].to_vec())),
        ("deleted", None),
    ] {
        match &bytes {
            Some(b) => std::fs::write(dir.join("erasures"), b).expect("write"),
            None => std::fs::remove_file(dir.join("erasures")).expect("rm"),
        }
        let before = snapshot(&dir);
        let start = run(&["console", "--data-dir", s(&dir)], &key);
        assert!(
            start.stdout.contains("erasure record"),
            "{what}: {}",
            start.stdout
        );
        let check = run(&["db", "check", "--data-dir", s(&dir)], &key);
        assert_eq!(check.code, 1, "{what}: {}{}", check.stdout, check.stderr);
        assert!(
            check.stdout.contains("erasure record"),
            "{what}: {}",
            check.stdout
        );
        let restore = run(
            &["db", "restore", "--from", s(&backup), "--data-dir", s(&dir)],
            &key,
        );
        assert_ne!(restore.code, 0, "{what}: a restore took it");
        assert!(
            restore.stderr.contains("--without-erasures"),
            "{what}: {}",
            restore.stderr
        );
        assert_eq!(snapshot(&dir), before, "{what}: something was written");
        std::fs::write(dir.join("erasures"), &good).expect("put back");
    }
    assert_eq!(texts(&dir, &key, 1), ["Kept."]);
}

/// Hole 8: links inside the data directory are never followed: a stray
/// `x.tmp` or `db.99` link is removed as a link and its target untouched;
/// `backups` as a link is refused, and the place it points to is neither
/// written nor chmod'ed.
#[cfg(unix)]
#[test]
fn links_inside_the_data_directory_are_never_followed() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let dir = scratch("links");
    let key = SecretKey::generate();
    {
        let store = Store::open(&dir, Some(key.clone())).expect("open");
        save(&store, 1, "Linked around.");
        store.close(Utc::now()).expect("close");
    }
    let outside = scratch("links-outside");
    std::fs::create_dir_all(outside.join("folder")).expect("outside");
    std::fs::write(outside.join("file"), b"outside bytes").expect("outside file");
    std::fs::write(outside.join("folder/inner"), b"inner bytes").expect("inner");
    std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o755)).expect("mode");
    let look = |p: &Path| {
        (
            snapshot(p),
            std::fs::metadata(p).expect("meta").permissions().mode(),
        )
    };
    let outside_before = look(&outside);
    symlink(outside.join("file"), dir.join("x.tmp")).expect("link");
    symlink(outside.join("folder"), dir.join("db.99")).expect("link");
    drop(Store::open(&dir, Some(key.clone())).expect("opens"));
    assert!(std::fs::symlink_metadata(dir.join("x.tmp")).is_err());
    assert!(std::fs::symlink_metadata(dir.join("db.99")).is_err());
    assert_eq!(look(&outside), outside_before, "a stray link was followed");

    std::fs::remove_dir_all(dir.join("backups")).ok();
    symlink(&outside, dir.join("backups")).expect("link");
    let start = run(&["console", "--data-dir", s(&dir)], &key);
    assert!(start.stdout.contains("symbolic link"), "{}", start.stdout);
    for args in [["db", "check"], ["db", "salvage"], ["db", "restore"]] {
        let out = run(&[args[0], args[1], "--data-dir", s(&dir)], &key);
        assert_ne!(out.code, 0, "{args:?}");
        assert!(
            out.stderr.contains("symbolic link"),
            "{args:?}: {}",
            out.stderr
        );
    }
    assert_eq!(look(&outside), outside_before, "backups was followed");
    std::fs::remove_file(dir.join("backups")).expect("unlink");
    assert_eq!(texts(&dir, &key, 1), ["Linked around."]);
}

/// Hole 9: numbers never go back: after a restore from a backup older than
/// a since-deleted #3, and after a salvage, the next reflection is not #3,
/// so a stale "delete #3" or "view 3" never reaches a new one.
#[test]
fn numbers_never_go_back_after_a_restore_or_a_salvage() {
    let dir = scratch("numbers");
    let key = SecretKey::generate();
    let backup = scratch("numbers.bak");
    {
        let store = Store::open(&dir, Some(key.clone())).expect("open");
        save(&store, 1, "One.");
        save(&store, 1, "Two.");
        store.export_to(&backup).expect("export with #1 and #2");
        assert_eq!(save(&store, 1, "Three, deleted."), 3);
        store.delete_reflection(1, 3, Utc::now()).expect("delete");
        store.close(Utc::now()).expect("close");
    }
    let out = run(
        &["db", "restore", "--from", s(&backup), "--data-dir", s(&dir)],
        &key,
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let next = {
        let store = Store::open(&dir, Some(key.clone())).expect("open");
        let id = save(&store, 1, "After the restore.");
        store.close(Utc::now()).expect("close");
        id
    };
    assert!(next > 3, "a number came back: #{next}");
    let out = run(&["db", "salvage", "--data-dir", s(&dir)], &key);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let store = Store::open(&dir, Some(key)).expect("open");
    let after = save(&store, 1, "After the salvage.");
    assert!(after > next, "#{after} after #{next}");
}

/// Hole 10: after an unclean stop, the counter beside the database is what
/// tells a cut log from a whole one: missing, it is damage, never adopted.
#[test]
fn a_missing_commit_counter_after_a_crash_is_damage() {
    let (dir, key) = crashed_after_two("no-seq");
    std::fs::remove_file(dir.join("seq")).expect("rm seq");
    let before = snapshot(&dir);
    let start = run(&["console", "--data-dir", s(&dir)], &key);
    assert!(start.stdout.contains("damaged"), "{}", start.stdout);
    assert!(start.stdout.contains("seq"), "{}", start.stdout);
    assert_eq!(snapshot(&dir), before);
    // With no automatic backup, a salvage keeps every record that reads.
    let out = run(&["db", "salvage", "--data-dir", s(&dir)], &key);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        texts(&dir, &key, 1),
        [
            "First, closed cleanly.",
            "Second, confirmed before the crash."
        ]
    );
}

/// A `db` command run by root on a data directory another user owns
/// refuses, and leaves no file behind that root owns.
#[cfg(unix)]
#[test]
fn root_refuses_a_data_directory_another_user_owns() {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid takes no arguments and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("not root: the case is about root, skipped");
        return;
    }
    let dir = scratch("owner");
    let key = SecretKey::generate();
    {
        let store = Store::open(&dir, Some(key.clone())).expect("open");
        save(&store, 1, "Owned by someone else.");
        store.close(Utc::now()).expect("close");
    }
    let chown = Command::new("chown")
        .args(["-R", "65534:65534", s(&dir)])
        .status()
        .expect("chown");
    assert!(chown.success());
    let before = snapshot(&dir);
    for args in [
        vec!["db", "check"],
        vec!["db", "restore"],
        vec!["db", "salvage"],
        vec!["console"],
    ] {
        let mut all = args.clone();
        all.extend(["--data-dir", s(&dir)]);
        let out = run(&all, &key);
        assert_ne!(out.code, 0, "{args:?}");
        let words = format!("{}{}", out.stdout, out.stderr);
        assert!(
            words.contains("belongs to another user"),
            "{args:?}: {words}"
        );
    }
    assert_eq!(snapshot(&dir), before);
    for path in files_under(&dir) {
        let uid = std::fs::symlink_metadata(&path).expect("meta").uid();
        assert_eq!(uid, 65534, "{} belongs to {uid}", path.display());
    }
}

/// A salvage of a database that no longer reads at all starts from the
/// newest automatic backup: what a backup holds is never dropped by it.
#[test]
fn a_salvage_never_drops_what_the_backups_hold() {
    let dir = scratch("salvage-floor");
    let key = SecretKey::generate();
    {
        let store = Store::open(&dir, Some(key.clone())).expect("open");
        save(&store, 1, "In the backup.");
        store.close(Utc::now()).expect("close writes a backup");
    }
    let live = std::fs::read_to_string(dir.join("CURRENT")).expect("CURRENT");
    std::fs::remove_file(dir.join(live.trim()).join("db")).expect("rm the log");
    let out = run(&["db", "salvage", "--data-dir", s(&dir)], &key);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(texts(&dir, &key, 1), ["In the backup."]);
}
