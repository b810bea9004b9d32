//! The child process of the crash-state explorer
//! (`tests/integration/crash_states.rs`): performs ONE operation of the
//! store on a data directory and prints a line the moment it could confirm
//! something to a member, written and flushed at once, so that the trace of
//! its system calls shows where each confirmation fell.
//!
//! `crash_ops OP DIR [ARGS]`, with the master key in `COMPANION_KEY`. OP:
//!
//! - `prepare`: the starting data set: three members, a few reflections
//!   (one kept by sled in a blob file), one automatic backup, then a save, an edit and a delete made after it,
//!   and a clean close. Only the oldest backup is kept, so that a restore
//!   has something to add back and something to leave out.
//! - `prepare-unclean`: the same, then one more save and a stop without a
//!   close (as a kill leaves it), so that the next open recovers.
//! - `save`, `save-long` (about 200 KB, so sled writes a blob file), `edit`,
//!   `share` (a share, then its withdrawal, through `update_shares` as the
//!   Discord path does), `delete`, `forget`, `rewrite` (a delete, then the
//!   rewrite that makes it real), `backup`, `close` (a save, then a clean
//!   close), `restore`, `salvage`: each on a prepared directory.
//! - `log` (a supervision log entry), `hold` (a form held for reopening):
//!   the member-sealed records beside reflections, on a prepared directory.
//! - `import DIR BACKUP ERASURES`: `Store::import_from` into an empty DIR,
//!   then a close, as `companion db import` does.
//! - `unflushed`: the negative control: raw sled records confirmed after
//!   sled's flush alone (`pwrite` and `sync_file_range`, no sync), which a
//!   power cut may take back; the explorer must find the loss.
//!
//! Lines: `saved M ID TEXT`, `edited M ID TEXT`, `logged M ID TEXT`,
//! `held M TEXT`, `shared M ID`,
//! `withdrawn M ID`, `deleted M ID`, `forgotten M N`, `backed-up`,
//! `rewritten`, `closed`, `restored`, `salvaged`, `imported`.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use practice_companion::Framework;
use practice_companion::reflections::form::{Held, HeldFor, Holding, Typed};
use practice_companion::reflections::{Draft, Mode, SharedPost};
use practice_companion::store::{self, BACKUPS_DIR, SecretKey, Store};
use practice_companion::supervision::log::{Kind, LogDraft};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(op), Some(dir)) = (args.first(), args.get(1)) else {
        eprintln!("usage: crash_ops OP DIR [ARGS] (with COMPANION_KEY set)");
        std::process::exit(2);
    };
    let dir = PathBuf::from(dir);
    let key = match store::given_key(None) {
        Ok(Some(key)) => key,
        _ => {
            eprintln!("COMPANION_KEY must hold the key (64 hexadecimal digits)");
            std::process::exit(2);
        }
    };
    let ops = Ops {
        framework: Framework::builtin().expect("framework"),
        now: Utc::now(),
    };
    match op.as_str() {
        "prepare" => ops.prepare(&dir, key),
        "prepare-unclean" => {
            ops.prepare(&dir, key.clone());
            ops.save(&open(&dir, key), 2, short_text("before the stop"));
            // Stopped as a kill would: no close, no destructor.
            std::process::exit(0);
        }
        "save" => ops.save(&open(&dir, key), 1, short_text("a new one")),
        "save-long" => ops.save(&open(&dir, key), 2, long_text()),
        "edit" => ops.edit(&open(&dir, key), 1, 1, short_text("edited")),
        "share" => ops.share_and_withdraw(&open(&dir, key), 1, 3),
        "log" => ops.log(&open(&dir, key), 1, short_text("taken away")),
        "hold" => ops.hold(&open(&dir, key), 2, short_text("held as typed")),
        "delete" => ops.delete(&open(&dir, key), 1, 3),
        "forget" => ops.forget(&open(&dir, key), 3),
        "rewrite" => {
            let store = open(&dir, key);
            ops.delete(&store, 2, 2);
            store.rewrite(&mut |_| {}).expect("rewrite");
            say("rewritten");
        }
        "backup" => {
            open(&dir, key).backup_now(ops.now).expect("backup");
            say("backed-up");
        }
        "close" => {
            let store = open(&dir, key);
            ops.save(&store, 2, short_text("before the close"));
            store.close(ops.now).expect("close");
            say("closed");
        }
        "restore" => {
            store::restore(&dir, Some(key), None, false).expect("restore");
            say("restored");
        }
        "salvage" => {
            store::salvage(&dir, Some(key)).expect("salvage");
            say("salvaged");
        }
        "import" => {
            let (Some(file), Some(erasures)) = (args.get(2), args.get(3)) else {
                eprintln!("usage: crash_ops import DIR BACKUP ERASURES");
                std::process::exit(2);
            };
            let (store, _) = Store::import_from(
                Path::new(file),
                &dir,
                Some(key),
                Some(Path::new(erasures)),
                false,
            )
            .expect("import");
            store.close(ops.now).expect("close");
            say("imported");
        }
        "unflushed" => unflushed(&dir),
        other => {
            eprintln!("unknown operation {other}");
            std::process::exit(2);
        }
    }
}

/// Writes one line to stdout at once: the confirmation a member would see.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    out.write_all(format!("{line}\n").as_bytes())
        .expect("stdout");
    out.flush().expect("stdout");
}

fn open(dir: &Path, key: SecretKey) -> Store {
    Store::open(dir, Some(key)).expect("open the store")
}

/// A short text, distinct per run of the operation.
fn short_text(what: &str) -> String {
    format!("{what}: a short reflection about a session, with its own words")
}

/// About 200 KB of text, varied so that no two lines of it are alike.
fn long_text() -> String {
    let mut text = String::from("long:");
    let mut i = 0u64;
    while text.len() < 200 * 1024 {
        text.push_str(&format!(" sentence {i} of a very long reflection."));
        i += 1;
    }
    text
}

struct Ops {
    framework: Framework,
    now: DateTime<Utc>,
}

impl Ops {
    fn save(&self, store: &Store, member: u64, text: String) {
        let draft = Draft {
            title: String::new(),
            text,
            competences: vec![],
            model: "free".into(),
            mode: Mode::Coaching,
            minutes: None,
        };
        let saved = store
            .add_reflection(member, |id| {
                draft.into_reflection(id, member, self.now, &self.framework)
            })
            .expect("save");
        say(&format!("saved {member} {} {}", saved.id, saved.text));
    }

    fn log(&self, store: &Store, member: u64, text: String) {
        let draft = LogDraft {
            date: self.now.date_naive(),
            attended: true,
            minutes: 90,
            kind: Kind::Group,
            took_away: text,
            competences: vec![],
            functions: vec![],
        };
        let entry = store
            .add_log_entry(member, |id| draft.into_entry(id, self.now))
            .expect("log");
        say(&format!("logged {member} {} {}", entry.id, entry.took_away));
    }

    fn hold(&self, store: &Store, member: u64, text: String) {
        let held = Held {
            purpose: HeldFor::New("free".into()),
            typed: Typed {
                text: Some(text.clone()),
                ..Typed::default()
            },
        };
        store
            .hold_form(member, &held, Holding::CarriedOn, self.now)
            .expect("hold");
        say(&format!("held {member} {text}"));
    }

    fn edit(&self, store: &Store, member: u64, id: u64, text: String) {
        let edited = store
            .update_reflection(member, id, self.now, |r| r.text = text)
            .expect("edit")
            .expect("the reflection exists");
        say(&format!("edited {member} {id} {}", edited.text));
    }

    fn share_and_withdraw(&self, store: &Store, member: u64, id: u64) {
        let post = SharedPost {
            guild: Some(77),
            channel: 78,
            message: 79,
            anonymous: false,
            at: self.now,
        };
        store
            .update_shares(member, id, |shared, discussed| {
                shared.push(post);
                *discussed = true;
            })
            .expect("share")
            .expect("the reflection exists");
        say(&format!("shared {member} {id}"));
        store
            .update_shares(member, id, |shared, _| {
                shared.retain(|p| p.message != post.message);
            })
            .expect("withdraw")
            .expect("the reflection exists");
        say(&format!("withdrawn {member} {id}"));
    }

    fn delete(&self, store: &Store, member: u64, id: u64) {
        assert!(
            store
                .delete_reflection(member, id, self.now)
                .expect("delete"),
            "the reflection exists"
        );
        say(&format!("deleted {member} {id}"));
    }

    fn forget(&self, store: &Store, member: u64) {
        let n = store.forget_member(member, self.now).expect("forget");
        say(&format!("forgotten {member} {n}"));
    }

    /// The starting data set, closed cleanly, with one automatic backup
    /// older than the last changes.
    fn prepare(&self, dir: &Path, key: SecretKey) {
        let store = open(dir, key);
        for (member, count) in [(1, 3), (2, 3), (3, 1)] {
            for i in 1..=count {
                self.save(&store, member, format!("member {member} reflection {i}"));
            }
        }
        // One long enough for a blob file, so every copy copies one.
        self.save(&store, 3, long_text());
        // The member-sealed records beside reflections, for the one
        // forgotten and for one kept.
        self.log(&store, 3, "member 3 log entry 1".into());
        self.hold(&store, 3, "member 3 held form".into());
        self.log(&store, 2, "member 2 log entry 1".into());
        store
            .backup_now(self.now - Duration::days(1))
            .expect("backup");
        say("backed-up");
        self.save(&store, 1, "member 1 reflection 4, after the backup".into());
        self.edit(&store, 1, 2, "member 1 reflection 2, edited".into());
        self.delete(&store, 2, 1);
        store.close(self.now).expect("close");
        say("closed");
        // The close wrote a newer backup: only the oldest stays.
        let folder = dir.join(BACKUPS_DIR);
        let mut backups: Vec<PathBuf> = std::fs::read_dir(&folder)
            .expect("backups")
            .map(|e| e.expect("entry").path())
            .collect();
        backups.sort();
        for newer in backups.iter().skip(1) {
            std::fs::remove_file(newer).expect("remove a newer backup");
        }
    }
}

/// The negative control: records in a plain sled tree, each confirmed after
/// sled's own flush, which is not a sync.
fn unflushed(dir: &Path) {
    let db = sled::Config::new()
        .path(dir.join("raw"))
        .flush_every_ms(None)
        .open()
        .expect("open sled");
    let tree = db.open_tree("records").expect("tree");
    for id in 1..=3u64 {
        let text = format!("unsynced record {id}");
        tree.insert(id.to_be_bytes(), text.as_bytes())
            .expect("insert");
        db.flush().expect("flush");
        say(&format!("saved 9 {id} {text}"));
    }
}
