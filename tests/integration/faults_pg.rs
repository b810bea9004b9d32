//! The fault matrix of the PostgreSQL engine's local data directory. On
//! PostgreSQL the records live in the database; `--data-dir` holds the
//! erasure record (`erasures`, authenticated and MAC-chained) and the
//! upkeep's automatic backups (`backups/backup-*.pcbk`). One session is
//! prepared once: saves at the console (`--database URL`) and through the
//! library, an edit (its old text erased), a delete at the console, the
//! upkeep (so a backup exists), an export kept apart as the operator's copy,
//! clean closes. Then for every file and folder of that directory × every
//! fault (removed, cut to half, one byte flipped in the middle, one flipped
//! early, replaced by a link to a copy outside, owned by another user, mode
//! 000) × `console`, `db check`, `db restore` (without `--from`) and
//! `db export FILE`, a fresh copy of the directory and a fresh copy of the
//! database are given to the real binary with the right key, and:
//!
//! 1. nothing outside the data directory is written (the link's target, a
//!    sentinel, keeps its bytes; only the export's own file is new);
//! 2. nothing confirmed is lost: afterwards the console shows every
//!    confirmed reflection (and an export that succeeded holds them), or the
//!    command refused with what to do, which is then followed as an operator
//!    would (the `db` commands named, `--from` the operator's export, the real
//!    file put back for a link, `chmod`, `chown`) and the check made again;
//! 3. nothing erased (the deleted reflection, the text the edit replaced) is
//!    shown by the console, nor held by an export;
//! 4. the exit code and the words agree: a success never says "damaged", a
//!    refusal says what to do and never calls the right key wrong; an
//!    export's words count what it holds.
//!
//! And a wrong key (a random one) × each command, on the intact directory:
//! a non-zero exit, the data directory unchanged (bytes, links, modes,
//! owners) and the database's records unchanged.
//!
//! The master key is always given (`COMPANION_KEY`), never made up. When the
//! tests run as root the commands run as the server's own user (so they can
//! reach its socket, and a mode 000 means something) on copies that user
//! owns, and "another user" is 65533; not as root, the other-owner cases are
//! skipped, with the reason printed. Every failing case is collected and
//! reported at the end, grouped by what went wrong; failures of the product
//! not mended yet are listed in `KNOWN` and reported apart. `FAULTS_ONLY`
//! runs the cases whose name holds its words; `FAULTS_PG_VERBOSE` prints
//! each case's first words.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::Instant;

use chrono::Utc;
use practice_companion::Framework;
use practice_companion::store::{PgOptions, SecretKey, Store};
use regex::Regex;

use super::faults::{
    FAULTS, Fault, Node, Out, Runner, Snapshot, anonymise_numbers, calls_the_key_wrong, chown_tree,
    copy_tree, damage_words, differences, draft, give_access, is_root, remove_tree, s,
    says_what_to_do, set_modes, snap,
};
use super::postgres::{self, Database};

/// The member the console acts as.
const ME: u64 = 1;
/// The "another user" of the ownership fault.
const STRANGER: u32 = 65533;
/// Worker threads (two cores; most of a case is waiting on the server).
const WORKERS: usize = 3;
/// How many pieces of advice are followed, one after another, at most.
const MAX_ADVICE: usize = 4;

const KEPT_ONE: &str = "KEPT-PG-ONE-4H typed at the console.";
const DELETED: &str = "ERASED-PG-DELETED-8J typed at the console, deleted there.";
const KEPT_LIB: &str = "KEPT-PG-LIBRARY-2C saved through the library.";
const PRE_EDIT: &str = "ERASED-PG-PREEDIT-5N what I wrote before I edited it.";
const EDITED: &str = "KEPT-PG-EDITED-7B what I wrote instead.";
/// What must never be shown again.
const ERASED_MARKERS: [&str; 2] = ["ERASED-PG-DELETED-8J", "ERASED-PG-PREEDIT-5N"];
/// `ME`'s confirmed reflections and what each one's view must show.
const CONFIRMED: [(u64, &str); 3] = [
    (1, "KEPT-PG-ONE-4H"),
    (3, "KEPT-PG-LIBRARY-2C"),
    (4, "KEPT-PG-EDITED-7B"),
];

/// Failures of the product this matrix found that are not mended yet:
/// (what went wrong, words its detail holds). A case whose every failure is
/// listed counts as a known failure: reported, not failing the test. An
/// entry no case shows any more fails it, so that the list stays true.
const KNOWN: &[(&str, &str)] = &[];

fn known(f: &Failure) -> Option<usize> {
    KNOWN
        .iter()
        .position(|(kind, words)| f.kind == *kind && f.detail.contains(words))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Cmd {
    Console,
    Check,
    Restore,
    Export,
}

const CMDS: [Cmd; 4] = [Cmd::Console, Cmd::Check, Cmd::Restore, Cmd::Export];

impl Cmd {
    fn name(self) -> &'static str {
        match self {
            Cmd::Console => "console",
            Cmd::Check => "db check",
            Cmd::Restore => "db restore",
            Cmd::Export => "db export",
        }
    }
}

/// The prepared session, shared by every case.
struct Session {
    /// The local data directory after the session, never run on again.
    data: PathBuf,
    /// The database after the session (no one connected: it is copied).
    db: Database,
    /// The operator's export, kept apart.
    export: PathBuf,
    key_hex: String,
    /// Every file and folder of `data` (relative), with a label for reports.
    entries: Vec<(PathBuf, String)>,
}

fn open_store(db: &Database, dir: &Path, key_hex: &str) -> Store {
    Store::open_postgres(
        &PgOptions {
            url: db.url(),
            password_file: None,
            shards: None,
        },
        dir,
        Some(SecretKey::from_hex(key_hex).expect("a key")),
    )
    .expect("the session's store opens")
}

fn save(store: &Store, text: &str) -> u64 {
    let f = Framework::builtin().expect("framework");
    store
        .add_reflection(ME, |id| draft(text).into_reflection(id, ME, Utc::now(), &f))
        .expect("save")
        .id
}

fn console_args(dir: &Path, db: &Database) -> Vec<String> {
    vec![
        "console".into(),
        "--data-dir".into(),
        s(dir),
        "--database".into(),
        db.url(),
    ]
}

fn verify_input() -> String {
    let mut input = "/reflections list\n".to_string();
    for id in 1..=5 {
        input.push_str(&format!("/reflections view {id}\n"));
    }
    input
}

/// The confirmed reflections the console's output does not show.
fn shown_missing(stdout: &str) -> Vec<u64> {
    CONFIRMED
        .iter()
        .filter(|(id, marker)| !stdout.contains(&format!("#{id} ")) || !stdout.contains(marker))
        .map(|(id, _)| *id)
        .collect()
}

/// A digest of every record the store's tables hold (the schema's
/// versions, commit tokens and Discord's request counts aside).
fn records(db: &Database) -> String {
    let tables = db.sql(
        "SELECT tablename FROM pg_tables WHERE tablename LIKE 'companion\\_%' AND tablename NOT IN ('companion_schema', 'companion_commits', 'companion_discord_turns') ORDER BY 1",
    );
    tables
        .lines()
        .map(|t| {
            let digest = db.sql(&format!(
                "SELECT md5(coalesce(string_agg(encode(k, 'hex') || '=' || encode(v, 'hex'), ',' ORDER BY k), '')) FROM {t}"
            ));
            format!("{t}:{digest}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn prepare(base: &Path, runner: &Runner, db: Database) -> Session {
    let data = base.join("session").join("data");
    let export = base.join("session").join("operator-export.pcbk");
    std::fs::create_dir_all(base.join("session")).expect("mkdir");
    let key_hex = SecretKey::generate().to_hex().to_string();
    let env = [("COMPANION_KEY", key_hex.clone())];
    let console = |stdin: &str, expect: &[&str]| {
        let out = runner.run(&console_args(&data, &db), stdin, &env);
        assert_eq!(out.code, 0, "session console: {}", out.words());
        for e in expect {
            assert!(
                out.stdout.contains(e),
                "session console, {e:?}:\n{}",
                out.stdout
            );
        }
    };
    console(
        &format!("/reflect\n\n{KEPT_ONE}\n.\n\n\n/reflect\n\n{DELETED}\n.\n\n\n"),
        &["Saved as reflection #1", "Saved as reflection #2"],
    );
    {
        let store = open_store(&db, &data, &key_hex);
        assert_eq!(save(&store, KEPT_LIB), 3);
        assert_eq!(save(&store, PRE_EDIT), 4);
        store
            .update_reflection(ME, 4, Utc::now(), |r| r.text = EDITED.into())
            .expect("edit")
            .expect("reflection 4");
        store.close(Utc::now()).expect("clean close");
    }
    console("/reflections delete 2\nyes\n", &[]);
    {
        let store = open_store(&db, &data, &key_hex);
        store.maintain(Utc::now()).expect("the upkeep");
        store.export_to(&export).expect("the operator's export");
        store.close(Utc::now()).expect("clean close");
    }
    let snapshot = snap(&data);
    let entries: Vec<(PathBuf, String)> = snapshot
        .keys()
        .map(|rel| {
            let label = if rel.starts_with("backups") && rel.components().count() == 2 {
                "backups/<backup>".to_string()
            } else if snapshot[rel].node == Node::Dir {
                format!("{}/", rel.display())
            } else {
                rel.display().to_string()
            };
            (rel.clone(), label)
        })
        .collect();
    let labels: Vec<&str> = entries.iter().map(|(_, l)| l.as_str()).collect();
    assert!(
        labels.contains(&"erasures")
            && labels.contains(&"backups/")
            && labels.contains(&"backups/<backup>"),
        "the session left the erasure record and a backup: {labels:?}"
    );
    // Baseline: a copy opens with everything and nothing erased.
    let copy = base.join("session").join("copy");
    copy_tree(&data, &copy);
    let out = runner.run(&console_args(&copy, &db), &verify_input(), &env);
    let missing = shown_missing(&out.stdout);
    assert!(
        out.code == 0
            && missing.is_empty()
            && ERASED_MARKERS.iter().all(|m| !out.stdout.contains(m)),
        "the session opens with everything and nothing erased: missing {missing:?}\n{}",
        out.words()
    );
    remove_tree(&copy);
    Session {
        data,
        db,
        export,
        key_hex,
        entries,
    }
}

// ---------------------------------------------------------------------------
// Advice

static COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"companion db (restore|check|import)((?: --[a-z][a-z-]*)*)").expect("regex")
});

/// What the words tell the operator to do, as far as a test can do it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Advice {
    /// Run these `db` commands, in order (arguments after `db`).
    Commands(Vec<Vec<String>>),
    /// Put the real file or folder back where a link is.
    PutBack,
    /// `chmod -R u+rwX DIR`.
    GiveAccess,
    /// Give the faulty entry back to the user who runs the commands.
    TakeBack,
    /// Move the damaged erasure record aside (the `mv` the words give).
    MoveAside,
    None,
}

fn advice(words: &str, export: &Path) -> Advice {
    if words.contains("is a symbolic link") && words.contains("back in its place") {
        return Advice::PutBack;
    }
    if words.contains("chmod") {
        return Advice::GiveAccess;
    }
    if words.contains("move the damaged record aside") {
        return Advice::MoveAside;
    }
    if words.contains("chown") {
        return Advice::TakeBack;
    }
    if words.contains("--from FILE") {
        return Advice::Commands(vec![vec!["restore".into(), "--from".into(), s(export)]]);
    }
    let mut commands: Vec<Vec<String>> = Vec::new();
    for c in COMMAND.captures_iter(words) {
        let mut args = vec![c[1].to_string()];
        args.extend(
            c[2].split_whitespace()
                .filter(|f| *f != "--data-dir" && *f != "--database")
                .map(str::to_string),
        );
        if commands.last() != Some(&args) {
            commands.push(args);
        }
    }
    if commands.is_empty() {
        Advice::None
    } else {
        Advice::Commands(commands)
    }
}

// ---------------------------------------------------------------------------
// Cases

#[derive(Debug, Clone)]
struct Case {
    fault: Option<Fault>,
    entry: PathBuf,
    label: String,
    cmd: Cmd,
}

impl Case {
    fn name(&self) -> String {
        match self.fault {
            Some(f) => format!("{} / {} / {}", f.name(), self.label, self.cmd.name()),
            None => format!("wrong key / {}", self.cmd.name()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    NotApplicable,
    /// The command did its work and everything confirmed was there.
    Fine,
    /// Refused with advice; following it brought everything back.
    Recovered,
    /// Refused with nothing to follow; nothing was lost.
    Refused,
    /// A wrong key, refused, nothing changed.
    WrongKeyRefused,
    /// Every failure of the case is listed in `KNOWN`.
    Known,
    Failed,
}

#[derive(Debug, Clone)]
struct Failure {
    kind: String,
    detail: String,
    example: String,
}

struct Ctx<'a> {
    session: &'a Session,
    runner: &'a Runner,
    /// Where `DROP DATABASE` is sent from.
    admin: &'a Database,
    base: PathBuf,
    wrong_hex: String,
    /// Copies of the session's database are made one at a time.
    copying: Mutex<()>,
}

struct CaseRun<'a> {
    ctx: &'a Ctx<'a>,
    case: &'a Case,
    root: PathBuf,
    data: PathBuf,
    /// Where exports are written (outside the data directory, expected).
    out: PathBuf,
    /// The operator's export, in the case's own folder.
    export: PathBuf,
    db: Database,
    exports: usize,
    failures: Vec<Failure>,
}

/// `what` produced by a step of `recover`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Command(Cmd),
    Db(Vec<String>),
    Start,
}

impl CaseRun<'_> {
    fn normalise(&self, words: &str) -> String {
        let text = words
            .replace(&s(&self.data), "DIR")
            .replace(&s(&self.root), "CASE")
            .replace(&self.db.url(), "URL");
        let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        anonymise_numbers(line).chars().take(170).collect()
    }

    fn example(&self, what: &str, out: &Out) -> String {
        let words = out
            .words()
            .replace(&s(&self.data), "DIR")
            .replace(&s(&self.root), "CASE")
            .replace(&self.db.url(), "URL");
        let words: String = words
            .trim()
            .replace('\n', " ⏎ ")
            .chars()
            .take(500)
            .collect();
        format!("[{what}] exit {}: {words}", out.code)
    }

    fn fail(&mut self, kind: &str, detail: String, example: String) {
        self.failures.push(Failure {
            kind: kind.into(),
            detail,
            example,
        });
    }

    fn run(&self, args: Vec<String>, stdin: &str, key: &str) -> Out {
        self.ctx
            .runner
            .run(&args, stdin, &[("COMPANION_KEY", key.to_string())])
    }

    fn command(&mut self, cmd: Cmd, key: &str) -> Out {
        let (d, url) = (s(&self.data), self.db.url());
        let tail = ["--data-dir".to_string(), d, "--database".into(), url];
        let (mut args, stdin): (Vec<String>, &str) = match cmd {
            Cmd::Console => (vec!["console".into()], "/reflections list\n"),
            Cmd::Check => (vec!["db".into(), "check".into()], ""),
            Cmd::Restore => (vec!["db".into(), "restore".into()], ""),
            Cmd::Export => {
                self.exports += 1;
                let file = self.out.join(format!("export-{}.pcbk", self.exports));
                (vec!["db".into(), "export".into(), s(&file)], "")
            }
        };
        args.extend(tail);
        self.run(args, stdin, key)
    }

    fn db_cmd(&self, args: &[String]) -> Out {
        let mut all = vec!["db".to_string()];
        all.extend(args.iter().cloned());
        all.extend([
            "--data-dir".into(),
            s(&self.data),
            "--database".into(),
            self.db.url(),
        ]);
        self.run(all, "", &self.ctx.session.key_hex)
    }

    /// Rule 4 for one run with the right key.
    fn words_agree(&mut self, what: &str, out: &Out) {
        let words = out.words();
        if out.code == 0 {
            if let Some(w) = damage_words(&words) {
                let detail = format!("says {w:?} — {}", self.normalise(&words));
                let ex = self.example(what, out);
                self.fail(
                    "4: success, yet the words say something is wrong",
                    detail,
                    ex,
                );
            }
        } else if !says_what_to_do(&words) {
            let (detail, ex) = (self.normalise(&words), self.example(what, out));
            self.fail("4: a failure that does not say what to do", detail, ex);
        } else if calls_the_key_wrong(&words) || words.contains("wrong key") {
            let (detail, ex) = (self.normalise(&words), self.example(what, out));
            self.fail("4: the right key is called wrong", detail, ex);
        }
    }

    /// The console, listing and viewing everything: rules 2, 3, 4. `Ok` if
    /// it opened (missing reflections are failures, reported here).
    fn verify(&mut self) -> Result<(), Out> {
        let out = self.run(
            console_args(&self.data, &self.db),
            &verify_input(),
            &self.ctx.session.key_hex,
        );
        self.words_agree("the console afterwards", &out);
        for marker in ERASED_MARKERS {
            if out.stdout.contains(marker) {
                let ex = self.example("the console afterwards", &out);
                self.fail(
                    "3: an erased text is shown",
                    format!("the console shows {marker}"),
                    ex,
                );
            }
        }
        if out.code != 0 {
            return Err(out);
        }
        let missing = shown_missing(&out.stdout);
        if !missing.is_empty() {
            let list: String = out
                .stdout
                .lines()
                .take_while(|l| !l.starts_with("Next:"))
                .collect::<Vec<_>>()
                .join(" ⏎ ");
            self.fail(
                "2: a confirmed reflection is lost",
                "afterwards the console opens and does not show every confirmed reflection".into(),
                format!(
                    "missing {missing:?}; it shows: {}",
                    list.chars().take(400).collect::<String>()
                ),
            );
        }
        Ok(())
    }

    /// Rule 2 from a run of `first` that ended `last`: the console shows
    /// everything, or the advice is followed until it does, or it runs out
    /// with nothing lost. Returns (advice followed, ended refused).
    fn recover(&mut self, first: Cmd, last: Out, before: &Snapshot) -> (bool, bool) {
        let export = self.export.clone();
        let mut followed = 0usize;
        let mut step = Step::Command(first);
        let mut last = last;
        let mut seen = BTreeSet::new();
        loop {
            if step != Step::Start && last.code == 0 {
                match self.verify() {
                    Ok(()) => return (followed > 0, false),
                    Err(out) => {
                        last = out;
                        step = Step::Start;
                    }
                }
            }
            let next = advice(&last.words(), &export);
            let words = self.normalise(&last.words());
            // On PostgreSQL `db restore` without `--from` puts the newest
            // daily backup in place of every record: advice to run it
            // would cost up to a day of every member's saves.
            if let Advice::Commands(list) = &next
                && list
                    .iter()
                    .any(|a| a[0] == "restore" && !a.iter().any(|x| x == "--from"))
            {
                let ex = self.example("the last run", &last);
                self.fail(
                    "2: the advice rolls the whole database back to a daily backup",
                    words,
                    ex,
                );
                return (true, true);
            }
            if (next != Advice::None && !seen.insert((format!("{next:?}"), words.clone())))
                || followed >= MAX_ADVICE
            {
                let ex = self.example("the last run", &last);
                self.fail(
                    "2: following the advice does not help: the same refusal again",
                    format!("{words} (advice followed: {next:?})"),
                    ex,
                );
                return (true, true);
            }
            match next {
                Advice::Commands(list) => {
                    followed += 1;
                    for args in list {
                        let out = self.db_cmd(&args);
                        self.words_agree(&format!("advised `db {}`", args.join(" ")), &out);
                        let failed = out.code != 0;
                        last = out;
                        step = Step::Db(args);
                        if failed {
                            break;
                        }
                    }
                }
                fix @ (Advice::PutBack
                | Advice::GiveAccess
                | Advice::TakeBack
                | Advice::MoveAside) => {
                    followed += 1;
                    match fix {
                        Advice::PutBack => self.put_back(),
                        Advice::GiveAccess => give_access(&self.data),
                        Advice::MoveAside => std::fs::rename(
                            self.data.join("erasures"),
                            self.data.join("damaged-erasures"),
                        )
                        .expect("the record moved aside"),
                        _ => {
                            let uid = self.ctx.runner.as_user.unwrap_or_else(|| {
                                // SAFETY: getuid has no preconditions.
                                unsafe { libc::getuid() }
                            });
                            chown_tree(&self.data.join(&self.case.entry), uid);
                        }
                    }
                    last = match &step {
                        Step::Command(cmd) => {
                            let out = self.command(*cmd, &self.ctx.session.key_hex.clone());
                            self.words_agree("the command again", &out);
                            out
                        }
                        Step::Db(args) => {
                            let out = self.db_cmd(args);
                            self.words_agree("the advised command again", &out);
                            out
                        }
                        Step::Start => match self.verify() {
                            Ok(()) => return (true, false),
                            Err(out) => out,
                        },
                    };
                }
                Advice::None if step != Step::Start => match self.verify() {
                    Ok(()) => return (followed > 0, false),
                    Err(out) => {
                        last = out;
                        step = Step::Start;
                    }
                },
                Advice::None => {
                    // Refused at a start with nothing left to follow: what
                    // the data directory held must all still be there, and
                    // the database's records too.
                    let after = snap(&self.data);
                    let lost: Vec<String> = before
                        .iter()
                        .filter_map(|(p, a)| match after.get(p) {
                            None => Some(format!("{} was removed", p.display())),
                            Some(b) if a.node != b.node => Some(format!("{} changed", p.display())),
                            Some(_) => None,
                        })
                        .collect();
                    if !lost.is_empty() {
                        let ex = self.example("the console", &last);
                        self.fail(
                            "2: refused with nothing left to follow, and files were lost meanwhile",
                            format!("{words} — and {}", lost.join(", ")),
                            ex,
                        );
                    }
                    return (followed > 0, true);
                }
            }
        }
    }

    /// Puts the real file or folder back where the fault left a link.
    fn put_back(&mut self) {
        let link = self.data.join(&self.case.entry);
        if let Ok(target) = std::fs::read_link(&link) {
            std::fs::remove_file(&link).expect("remove the link");
            copy_tree(&target, &link);
            set_modes(&link, 0o600, 0o700);
            if let Some(uid) = self.ctx.runner.as_user {
                chown_tree(&link, uid);
            }
        }
    }

    /// An export that succeeded holds every confirmed reflection and
    /// nothing erased (read into a scratch sled directory).
    fn check_export(&mut self, out: &Out) {
        let file = self.out.join(format!("export-{}.pcbk", self.exports));
        let into = self.root.join("export-read");
        let key = SecretKey::from_hex(&self.ctx.session.key_hex).expect("key");
        let texts = match Store::import_from(&file, &into, Some(key), None, true) {
            Ok((store, _)) => {
                let texts: Vec<String> = store
                    .reflections_of(ME)
                    .map(|all| all.items.into_iter().map(|r| r.text).collect())
                    .unwrap_or_default();
                let _ = store.close(Utc::now());
                texts
            }
            Err(e) => {
                let ex = self.example("db export", out);
                self.fail(
                    "2: an export said it succeeded, and it does not read",
                    anonymise_numbers(&e.to_string())
                        .chars()
                        .take(170)
                        .collect(),
                    ex,
                );
                return;
            }
        };
        remove_tree(&into);
        // The words say how much it holds, and say it right.
        static HOLDS: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"([0-9]+) reflections? of ([0-9]+) members?").expect("regex")
        });
        let said = HOLDS
            .captures(&out.stdout)
            .map(|c| (c[1].to_string(), c[2].to_string()));
        let held = (texts.len().to_string(), "1".to_string());
        if said.as_ref() != Some(&held) {
            let ex = self.example("db export", out);
            self.fail(
                "4: an export's words do not say what it holds",
                format!(
                    "it holds {} reflections of {} member; the words say {}",
                    held.0,
                    held.1,
                    said.map_or("nothing of it".to_string(), |(r, m)| format!(
                        "{r} reflections of {m} members"
                    ))
                ),
                ex,
            );
        }
        let all = texts.join("\n");
        let missing: Vec<u64> = CONFIRMED
            .iter()
            .filter(|(_, m)| !all.contains(m))
            .map(|(id, _)| *id)
            .collect();
        if !missing.is_empty() {
            let ex = self.example("db export", out);
            self.fail(
                "2: an export that succeeded lacks a confirmed reflection",
                format!("missing {missing:?}"),
                ex,
            );
        }
        for m in ERASED_MARKERS {
            if all.contains(m) {
                let ex = self.example("db export", out);
                self.fail("3: an export holds an erased text", m.into(), ex);
            }
        }
    }
}

/// Applies the fault to the case's copy; `false` if it does not apply.
fn apply(fault: Fault, path: &Path, outside: &Path, as_user: Option<u32>) -> bool {
    let meta = std::fs::symlink_metadata(path).expect("entry");
    let remove = |p: &Path| {
        if std::fs::symlink_metadata(p).expect("entry").is_dir() {
            std::fs::remove_dir_all(p).expect("remove");
        } else {
            std::fs::remove_file(p).expect("remove");
        }
    };
    match fault {
        Fault::Removed => remove(path),
        Fault::Truncated | Fault::Flipped | Fault::FlippedEarly if meta.is_dir() => {
            let mut names: Vec<_> = std::fs::read_dir(path)
                .expect("read dir")
                .flatten()
                .map(|e| e.file_name())
                .collect();
            names.sort();
            if names.is_empty() {
                return false;
            }
            if fault == Fault::Truncated {
                // The second half of its entries goes.
                for name in &names[names.len() / 2..] {
                    remove(&path.join(name));
                }
            } else {
                // One byte of one entry's name (early: its first).
                let name = &names[names.len() / 2];
                let mut bytes = name.to_string_lossy().into_owned().into_bytes();
                let at = if fault == Fault::FlippedEarly {
                    0
                } else {
                    bytes.len() / 2
                };
                bytes[at] ^= 1;
                if bytes[at] == b'/' || bytes[at] == 0 || bytes[at] == b'.' {
                    bytes[at] ^= 3;
                }
                let new = String::from_utf8(bytes).expect("ascii");
                std::fs::rename(path.join(name), path.join(new)).expect("rename");
            }
        }
        Fault::Truncated | Fault::Flipped | Fault::FlippedEarly => {
            let mut bytes = std::fs::read(path).expect("read");
            if bytes.is_empty() {
                return false;
            }
            match fault {
                Fault::Truncated => bytes.truncate(bytes.len() / 2),
                Fault::FlippedEarly => {
                    let at = (bytes.len() - 1).min(12);
                    bytes[at] ^= 0xff;
                }
                _ => {
                    let at = bytes.len() / 2;
                    bytes[at] ^= 0xff;
                }
            }
            std::fs::write(path, &bytes).expect("write");
        }
        Fault::Symlink => {
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            let sentinel = outside.join(format!("{name}.sentinel"));
            copy_tree(path, &sentinel);
            set_modes(&sentinel, 0o644, 0o755);
            if let Some(uid) = as_user {
                chown_tree(&sentinel, uid);
            }
            remove(path);
            std::os::unix::fs::symlink(&sentinel, path).expect("symlink");
            if let Some(uid) = as_user {
                std::os::unix::fs::lchown(path, Some(uid), Some(uid)).expect("chown");
            }
        }
        Fault::OtherOwner => {
            chown_tree(path, STRANGER);
        }
        Fault::Unreadable => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o000)).expect("chmod");
        }
    }
    true
}

fn run_case(ctx: &Ctx, case: &Case, n: usize) -> (Outcome, Vec<Failure>) {
    let root = ctx.base.join(format!("case-{n}"));
    let data = root.join("data");
    let outside = root.join("outside");
    let out_dir = root.join("out");
    let export = root.join("operator-export.pcbk");
    std::fs::create_dir(&root).expect("case dir");
    copy_tree(&ctx.session.data, &data);
    std::fs::copy(&ctx.session.export, &export).expect("export");
    std::fs::create_dir(&outside).expect("outside");
    std::fs::create_dir(&out_dir).expect("out");
    if let Some(uid) = ctx.runner.as_user {
        chown_tree(&root, uid);
    }
    if let Some(fault) = case.fault
        && !apply(fault, &data.join(&case.entry), &outside, ctx.runner.as_user)
    {
        remove_tree(&root);
        return (Outcome::NotApplicable, Vec::new());
    }
    let db = {
        let _one = ctx.copying.lock().unwrap_or_else(|e| e.into_inner());
        ctx.session.db.copy()
    };
    // Everything of the case but the data directory and the exports' folder.
    let outside_of = |root: &Path| -> Snapshot {
        snap(root)
            .into_iter()
            .filter(|(p, _)| !p.starts_with("data") && !p.starts_with("out"))
            .collect()
    };
    let outside_before = outside_of(&root);
    let data_before = snap(&data);
    let mut run = CaseRun {
        ctx,
        case,
        root: root.clone(),
        data,
        out: out_dir,
        export,
        db,
        exports: 0,
        failures: Vec::new(),
    };
    let mut outcome;
    if case.fault.is_none() {
        // A wrong key: refused, and nothing changed, here or in the database.
        let records_before = records(&run.db);
        let out = run.command(case.cmd, &ctx.wrong_hex);
        if out.code == 0 {
            let ex = run.example("the command", &out);
            run.fail(
                "wrong key: a wrong key is not refused",
                format!("{} went ahead", case.cmd.name()),
                ex,
            );
        } else if !says_what_to_do(&out.words()) {
            let (detail, ex) = (
                run.normalise(&out.words()),
                run.example("the command", &out),
            );
            run.fail(
                "wrong key: a wrong key's refusal does not say what to do",
                detail,
                ex,
            );
        }
        let changed = differences(&data_before, &snap(&run.data), &[], true);
        if !changed.is_empty() {
            let ex = run.example("the command", &out);
            run.fail(
                "wrong key: a wrong key changed the data directory",
                changed.join("; "),
                ex,
            );
        }
        if records(&run.db) != records_before {
            let ex = run.example("the command", &out);
            run.fail(
                "wrong key: a wrong key changed the database's records",
                case.cmd.name().into(),
                ex,
            );
        }
        if std::fs::read_dir(&run.out).map_or(0, |d| d.count()) > 0 {
            let ex = run.example("the command", &out);
            run.fail("wrong key: a wrong key wrote an export", String::new(), ex);
        }
        outcome = Outcome::WrongKeyRefused;
    } else {
        let key = ctx.session.key_hex.clone();
        let out = run.command(case.cmd, &key);
        if std::env::var_os("FAULTS_PG_VERBOSE").is_some() {
            eprintln!(
                "faults_pg: {}: {}",
                case.name(),
                run.example("the command", &out)
            );
        }
        run.words_agree("the command", &out);
        if case.cmd == Cmd::Export && out.code == 0 {
            run.check_export(&out);
        }
        let opened = out.code == 0;
        let (followed, refused) = run.recover(case.cmd, out, &data_before);
        outcome = match (opened, followed, refused) {
            (_, _, true) => Outcome::Refused,
            (true, false, false) => Outcome::Fine,
            _ => Outcome::Recovered,
        };
    }
    // Rule 1: nothing outside written.
    let written = differences(&outside_before, &outside_of(&root), &[], true);
    if !written.is_empty() {
        run.fail(
            "1: something outside the data directory was written",
            written.into_iter().take(3).collect::<Vec<_>>().join("; "),
            String::new(),
        );
    }
    let _ = ctx
        .admin
        .try_sql(&format!("DROP DATABASE {} WITH (FORCE)", run.db.name));
    let failures = run.failures;
    remove_tree(&root);
    if failures.iter().all(|f| known(f).is_some()) {
        if !failures.is_empty() {
            outcome = Outcome::Known;
        }
    } else {
        outcome = Outcome::Failed;
    }
    (outcome, failures)
}

#[test]
fn every_fault_in_the_postgres_local_directory_under_every_command_loses_nothing_and_says_what_to_do()
 {
    let (Some(session_db), Some(admin)) = (postgres::database(), postgres::database()) else {
        return;
    };
    let started = Instant::now();
    let base = std::env::temp_dir().join(format!("companion-faults-pg-{}", std::process::id()));
    remove_tree(&base);
    std::fs::create_dir_all(&base).expect("base");
    std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let root = is_root();
    // The binary, where the server's user can run it.
    let bin_dir = base.join("bin");
    std::fs::create_dir(&bin_dir).expect("bin");
    std::fs::set_permissions(&bin_dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let bin = bin_dir.join("companion");
    std::fs::copy(env!("CARGO_BIN_EXE_companion"), &bin).expect("copy the binary");
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let runner = |as_user| Runner {
        bin: bin.clone(),
        cwd: base.clone(),
        as_user,
        api_url: String::new(),
        runs: AtomicUsize::new(0),
    };
    let session = prepare(&base, &runner(None), session_db);
    // Under root, the server's own user: it may enter the socket's folder.
    let as_user = root.then(|| postgres::server_user().expect("the server's user").0);
    let runner = runner(as_user);
    let cases_base = base.join("cases");
    std::fs::create_dir(&cases_base).expect("cases");
    std::fs::set_permissions(&cases_base, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let ctx = Ctx {
        session: &session,
        runner: &runner,
        admin: &admin,
        base: cases_base,
        wrong_hex: SecretKey::generate().to_hex().to_string(),
        copying: Mutex::new(()),
    };
    let prepared = started.elapsed();

    let only = std::env::var("FAULTS_ONLY").ok();
    let mut cases = Vec::new();
    let mut skipped = 0usize;
    for (entry, label) in &session.entries {
        for fault in FAULTS {
            for cmd in CMDS {
                if fault == Fault::OtherOwner && !root {
                    skipped += 1;
                    continue;
                }
                cases.push(Case {
                    fault: Some(fault),
                    entry: entry.clone(),
                    label: label.clone(),
                    cmd,
                });
            }
        }
    }
    for cmd in CMDS {
        cases.push(Case {
            fault: None,
            entry: PathBuf::new(),
            label: String::new(),
            cmd,
        });
    }
    cases.retain(|c| only.as_deref().is_none_or(|o| c.name().contains(o)));
    if skipped > 0 {
        eprintln!(
            "faults_pg: {skipped} cases of a file owned by another user skipped: the tests do not run as root, so no file can be given to another user"
        );
    }

    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Outcome, Vec<Failure>)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(case) = cases.get(i) else { break };
                    let (outcome, failures) = run_case(&ctx, case, i);
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((i, outcome, failures));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _, _)| *i);

    let mut by: BTreeMap<Option<Fault>, BTreeMap<Outcome, usize>> = BTreeMap::new();
    for (i, outcome, _) in &results {
        *by.entry(cases[*i].fault)
            .or_default()
            .entry(*outcome)
            .or_default() += 1;
    }
    let count = |o: Outcome| results.iter().filter(|(_, x, _)| *x == o).count();
    let tried = results.len() - count(Outcome::NotApplicable);
    let failed = count(Outcome::Failed);
    eprintln!(
        "faults_pg: {} entries × {} faults × {} commands + {} wrong-key cases = {} cases, {} not applicable, {} tried, {} failed; {} runs of the binary; session prepared in {:.1} s, all in {:.1} s",
        session.entries.len(),
        FAULTS.len() - usize::from(!root),
        CMDS.len(),
        CMDS.len(),
        results.len(),
        results.len() - tried,
        tried,
        failed,
        runner.runs.load(Ordering::Relaxed),
        prepared.as_secs_f64(),
        started.elapsed().as_secs_f64(),
    );
    eprintln!(
        "faults_pg: {:<18} {:>6} {:>6} {:>9} {:>8} {:>9} {:>6} {:>6}",
        "fault", "tried", "fine", "advice ok", "refused", "wrong key", "known", "FAILED"
    );
    for (fault, counts) in &by {
        let get = |o| counts.get(&o).copied().unwrap_or(0);
        let tried: usize = counts
            .iter()
            .filter(|(o, _)| **o != Outcome::NotApplicable)
            .map(|(_, n)| n)
            .sum();
        eprintln!(
            "faults_pg: {:<18} {:>6} {:>6} {:>9} {:>8} {:>9} {:>6} {:>6}",
            fault.map_or("(none, wrong key)", Fault::name),
            tried,
            get(Outcome::Fine),
            get(Outcome::Recovered),
            get(Outcome::Refused),
            get(Outcome::WrongKeyRefused),
            get(Outcome::Known),
            get(Outcome::Failed)
        );
    }

    // The failures, grouped by what went wrong; the known ones apart.
    type Groups = BTreeMap<(String, String), (String, String, BTreeSet<String>)>;
    let (mut groups, mut known_groups) = (Groups::new(), Groups::new());
    let mut seen_known = vec![false; KNOWN.len()];
    for (i, outcome, failures) in &results {
        let c = &cases[*i];
        for f in failures {
            let into = if *outcome == Outcome::Known {
                seen_known[known(f).expect("a known failure")] = true;
                &mut known_groups
            } else {
                &mut groups
            };
            let g = into
                .entry((f.kind.clone(), f.detail.clone()))
                .or_insert_with(|| (c.name(), f.example.clone(), BTreeSet::new()));
            g.2.insert(c.name());
        }
    }
    remove_tree(&base);
    let list = |groups: &Groups| {
        let mut text = String::new();
        for ((kind, detail), (first, ex, names)) in groups {
            text.push_str(&format!(
                "\n== {kind}\n- {detail} [{} cases]\n    e.g. {first}: {ex}\n    in: {}\n",
                names.len(),
                names.iter().cloned().collect::<Vec<_>>().join("; ")
            ));
        }
        text
    };
    if !known_groups.is_empty() {
        eprintln!(
            "faults_pg: {} cases fail as known (KNOWN), in {} groups:{}",
            count(Outcome::Known),
            known_groups.len(),
            list(&known_groups)
        );
    }
    let stale: Vec<&(&str, &str)> = KNOWN
        .iter()
        .zip(&seen_known)
        .filter(|(_, seen)| !**seen)
        .map(|(k, _)| k)
        .collect();
    if only.is_none() && !stale.is_empty() {
        panic!("known failures no case shows any more (mended? take them out of KNOWN): {stale:?}");
    }
    if failed > 0 {
        panic!(
            "{failed} of {tried} PostgreSQL fault cases failed, in {} groups:\n{}",
            groups.len(),
            list(&groups)
        );
    }
}
