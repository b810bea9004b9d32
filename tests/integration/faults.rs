//! The fault matrix (issue #19, item 4). One realistic session is prepared
//! once: saves at the console and through the library (one of them ~150 KB,
//! so sled writes a blob file), a share and its withdrawal, an edit, a
//! delete, a forget-me of another member, an automatic backup, an export,
//! clean closes. Then, for every file and folder of the resulting data
//! directory × every fault (removed, cut to half, one byte flipped in the
//! middle, one flipped early, in its header, replaced by a link to a copy
//! outside, owned by another user, mode 000) × every
//! command that opens the store (`console`, `run`, `db check`, `db restore`,
//! `db salvage`, `db import`) × the right key and a wrong one, a fresh copy
//! is damaged, the real binary run on it, and the result checked:
//!
//! 1. nothing outside the data directory is written (the link's target, a
//!    sentinel, keeps its bytes, mode and owner; nothing new beside it);
//! 2. nothing confirmed is lost: afterwards the console shows every
//!    confirmed reflection, unless the command refused with what to do, in
//!    which case the advice is followed (the commands its words name, the key
//!    supplied, a link put back) and the check made again;
//! 3. nothing erased (the deleted reflection, the text an edit replaced, the
//!    forgotten member's records) is shown, nor in any file of the data
//!    directory, as plaintext or as its sealed bytes;
//! 4. with a wrong key: a non-zero exit, and the data directory unchanged
//!    (bytes, links, modes and owners; only `lock` may appear);
//! 5. the exit code and the words agree: a success never says "damaged",
//!    a failure always says what to do, and with the right key (its file
//!    untouched) never says the key is wrong.
//!
//! `run` is given a token and `--api-url` at a local port nothing listens
//! on: it opens the store, then stops at "cannot reach Discord" (exit 3),
//! which counts as opened. `import` reads the session's export into a new
//! directory with `--erasures DIR/erasures` and `--key-file DIR/master.key`;
//! the other commands take the key from `DIR/master.key`, the wrong key from
//! `COMPANION_KEY`. Advice is followed as an operator would: the `companion
//! db restore`/`salvage` commands the words name, in order; `--from FILE`
//! with the session's export; the key from the operator's copy
//! (`COMPANION_KEY`) when the key file is the trouble; the real file put
//! back where a link was. With nothing left to follow, the operator starts
//! the console again; refused there too, nothing the data directory held may
//! have been lost meanwhile. The same refusal after following its advice is
//! a failure.
//!
//! Cases about owners and modes mean nothing to root, so when the tests run
//! as root every command runs as `nobody` (65534) on a copy that `nobody`
//! owns, and the "other user" is 65533; not as root, the other-user cases
//! are skipped, with the reason printed. The cases run on `/dev/shm` when it
//! has room (the store syncs every change). Every failing case is collected
//! and reported at the end, grouped by what went wrong.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use practice_companion::Framework;
use practice_companion::reflections::{Draft, Mode, SharedPost};
use practice_companion::store::{SecretKey, Store};
use regex::Regex;

/// The member the console acts as (`console::LOCAL_MEMBER`).
const ME: u64 = 1;
/// The member who asks to be forgotten.
const OTHER: u64 = 2;
/// Who runs the commands when the tests run as root.
const NOBODY: u32 = 65534;
/// The "another user" of the ownership fault.
const STRANGER: u32 = 65533;
/// Worker threads (two cores).
const WORKERS: usize = 3;
/// A command that takes longer than this is killed and reported.
const PATIENCE: Duration = Duration::from_secs(60);
/// How many pieces of advice are followed, one after another, at most.
const MAX_ADVICE: usize = 5;

// The texts of the session. Each marker occurs once, in one reflection.
const KEPT_ONE: &str = "KEPT-ONE-7Q first reflection, typed at the console.";
const PRE_EDIT: &str = "ERASED-PREEDIT-3K what I wrote before I edited it.";
const EDITED: &str = "KEPT-TWO-EDITED-5M what I wrote instead.";
const LONG_START: &str = "KEPT-LONG-START-8R";
const LONG_END: &str = "KEPT-LONG-END-2W";
const DELETED: &str = "ERASED-DELETED-6T a reflection deleted at the console.";
const SHARED: &str = "KEPT-SHARED-4P shared into a thread, then withdrawn.";
const FORGOTTEN_A: &str = "ERASED-FORGOTTEN-A-9X the other member's first.";
const FORGOTTEN_B: &str = "ERASED-FORGOTTEN-B-1Z the other member's second.";
const KEPT_SIX: &str = "KEPT-SIX-AFTER-EXPORT-0V saved at the console after the export.";

/// What must not be found anywhere afterwards, as plaintext.
const ERASED_MARKERS: [&str; 4] = [
    "ERASED-PREEDIT-3K",
    "ERASED-DELETED-6T",
    "ERASED-FORGOTTEN-A-9X",
    "ERASED-FORGOTTEN-B-1Z",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Fault {
    Removed,
    Truncated,
    Flipped,
    FlippedEarly,
    Symlink,
    OtherOwner,
    Unreadable,
}

pub(super) const FAULTS: [Fault; 7] = [
    Fault::Removed,
    Fault::Truncated,
    Fault::Flipped,
    Fault::FlippedEarly,
    Fault::Symlink,
    Fault::OtherOwner,
    Fault::Unreadable,
];

impl Fault {
    pub(super) fn name(self) -> &'static str {
        match self {
            Fault::Removed => "removed",
            Fault::Truncated => "cut to half",
            Fault::Flipped => "byte flipped",
            Fault::FlippedEarly => "early byte flipped",
            Fault::Symlink => "link to outside",
            Fault::OtherOwner => "other owner",
            Fault::Unreadable => "mode 000",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Cmd {
    Console,
    Run,
    Check,
    Restore,
    Salvage,
    Import,
}

const CMDS: [Cmd; 6] = [
    Cmd::Console,
    Cmd::Run,
    Cmd::Check,
    Cmd::Restore,
    Cmd::Salvage,
    Cmd::Import,
];

impl Cmd {
    fn name(self) -> &'static str {
        match self {
            Cmd::Console => "console",
            Cmd::Run => "run",
            Cmd::Check => "db check",
            Cmd::Restore => "db restore",
            Cmd::Salvage => "db salvage",
            Cmd::Import => "db import",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum KeyCase {
    Right,
    Wrong,
}

/// Where a command's key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeySrc {
    /// `master.key` in the data directory (`--key-file` of it for an import).
    DataDir,
    /// `COMPANION_KEY` with this value.
    Env(String),
}

/// The prepared session, shared by every case.
struct Session {
    /// The data directory after the session, never run on again.
    data: PathBuf,
    /// The export made during the session.
    export: PathBuf,
    key_hex: String,
    /// Every file and folder of `data` (relative), with a label for reports.
    entries: Vec<(PathBuf, String, bool)>,
    /// Reflection numbers of `ME` and what each one's view must show, after
    /// the whole session and as the export holds them.
    confirmed: Vec<(u64, Vec<&'static str>)>,
    exported: Vec<(u64, Vec<&'static str>)>,
    /// Pieces of the sealed bytes of everything erased, and the plaintext
    /// markers, with what each is.
    erased: Needles,
}

/// How one run of the binary ended.
#[derive(Debug, Clone)]
pub(super) struct Out {
    pub(super) code: i32,
    pub(super) stdout: String,
    pub(super) stderr: String,
}

impl Out {
    pub(super) fn words(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs the binary, as `nobody` when the tests run as root.
pub(super) struct Runner {
    pub(super) bin: PathBuf,
    pub(super) cwd: PathBuf,
    pub(super) as_user: Option<u32>,
    pub(super) api_url: String,
    /// How many times the binary ran.
    pub(super) runs: AtomicUsize,
}

impl Runner {
    pub(super) fn run(&self, args: &[String], stdin: &str, env: &[(&str, String)]) -> Out {
        use std::io::Write;
        self.runs.fetch_add(1, Ordering::Relaxed);
        let mut command = Command::new(&self.bin);
        command
            .args(args)
            .current_dir(&self.cwd)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        if let Some(uid) = self.as_user {
            // std drops the supplementary groups (setgroups(0)) before setuid.
            command.uid(uid).gid(uid);
        }
        // A copy of the binary just written may still be open for writing
        // in a child another test thread is forking: wait for it to exec.
        let mut tries = 0;
        let mut child = loop {
            match command.spawn() {
                Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 100 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                spawned => break spawned.expect("the companion binary starts"),
            }
        };
        let pid = child.id();
        let mut input = child.stdin.take().expect("stdin");
        let stdin = stdin.to_string();
        let writer = std::thread::spawn(move || {
            let _ = input.write_all(stdin.as_bytes());
        });
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        let output = match rx.recv_timeout(PATIENCE) {
            Ok(o) => o.expect("wait"),
            Err(_) => {
                // SAFETY: kill only signals the child this function started.
                unsafe {
                    libc::kill(pid as libc::pid_t, libc::SIGKILL);
                }
                let mut o = rx
                    .recv()
                    .expect("the killed child is reaped")
                    .expect("wait");
                o.stderr
                    .extend_from_slice(b"\n[killed by the test after 60 s: it hung]");
                o
            }
        };
        let _ = writer.join();
        Out {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

pub(super) fn s(p: &Path) -> String {
    p.to_str().expect("utf-8 path").to_string()
}

// ---------------------------------------------------------------------------
// Files

/// One entry of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Node {
    File(Vec<u8>),
    /// A file the test cannot read (only when not root): its size.
    Unreadable(u64),
    Dir,
    Link(PathBuf),
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) node: Node,
    pub(super) mode: u32,
    pub(super) uid: u32,
}

pub(super) type Snapshot = BTreeMap<PathBuf, Entry>;

/// Every entry under `root` (not `root` itself), links not followed.
pub(super) fn snap(root: &Path) -> Snapshot {
    let mut out = Snapshot::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let rel = path.strip_prefix(root).expect("under root").to_path_buf();
            let kind = meta.file_type();
            let node = if kind.is_symlink() {
                Node::Link(std::fs::read_link(&path).unwrap_or_default())
            } else if kind.is_dir() {
                stack.push(path.clone());
                Node::Dir
            } else if kind.is_file() {
                match std::fs::read(&path) {
                    Ok(bytes) => Node::File(bytes),
                    Err(_) => Node::Unreadable(meta.len()),
                }
            } else {
                Node::Other
            };
            out.insert(
                rel,
                Entry {
                    node,
                    mode: meta.mode() & 0o7777,
                    uid: meta.uid(),
                },
            );
        }
    }
    out
}

fn describe(node: &Node) -> String {
    match node {
        Node::File(b) => format!("a file of {} bytes", b.len()),
        Node::Unreadable(n) => format!("an unreadable file of {n} bytes"),
        Node::Dir => "a folder".into(),
        Node::Link(t) => format!("a link to {}", t.display()),
        Node::Other => "a special file".into(),
    }
}

/// What differs between two snapshots (at most a few lines), leaving out
/// the names in `ignore`; with `meta`, modes and owners count too.
pub(super) fn differences(
    before: &Snapshot,
    after: &Snapshot,
    ignore: &[&str],
    meta: bool,
) -> Vec<String> {
    let skip = |p: &Path| ignore.iter().any(|i| p == Path::new(i));
    let mut out = Vec::new();
    for (path, a) in before {
        if skip(path) {
            continue;
        }
        match after.get(path) {
            None => out.push(format!("{} was removed", path.display())),
            Some(b) if a.node != b.node => out.push(format!(
                "{} changed ({} → {})",
                path.display(),
                describe(&a.node),
                describe(&b.node)
            )),
            Some(b) if meta && a.mode != b.mode => out.push(format!(
                "{} mode {:03o} → {:03o}",
                path.display(),
                a.mode,
                b.mode
            )),
            Some(b) if meta && a.uid != b.uid => {
                out.push(format!("{} owner {} → {}", path.display(), a.uid, b.uid))
            }
            Some(_) => {}
        }
    }
    for path in after.keys() {
        if !skip(path) && !before.contains_key(path) {
            out.push(format!("{} was added", path.display()));
        }
    }
    out
}

/// What of `before` is gone or changed in `after` (additions allowed).
fn losses(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    before
        .iter()
        .filter(|(p, _)| *p != Path::new("lock"))
        .filter_map(|(path, a)| match after.get(path) {
            None => Some(format!("{} was removed", path.display())),
            Some(b) if a.node != b.node => Some(format!("{} changed", path.display())),
            Some(_) => None,
        })
        .collect()
}

/// Copies a tree, keeping modes; links are copied as links.
pub(super) fn copy_tree(from: &Path, to: &Path) {
    let meta = std::fs::symlink_metadata(from).expect("source");
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(from).expect("link");
        std::os::unix::fs::symlink(target, to).expect("copy link");
    } else if meta.is_dir() {
        std::fs::create_dir(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("read dir").flatten() {
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        }
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(meta.mode() & 0o7777))
            .expect("chmod");
    } else {
        std::fs::copy(from, to).expect("copy");
    }
}

pub(super) fn chown_tree(path: &Path, uid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid)).expect("chown");
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        for entry in std::fs::read_dir(path).expect("read dir").flatten() {
            chown_tree(&entry.path(), uid);
        }
    }
}

pub(super) fn set_modes(path: &Path, file: u32, dir: u32) {
    let meta = std::fs::symlink_metadata(path).expect("meta");
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).expect("read dir").flatten() {
            set_modes(&entry.path(), file, dir);
        }
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(dir)).expect("chmod");
    } else if meta.is_file() {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(file)).expect("chmod");
    }
}

/// Removes a tree whatever its modes (for a test not running as root).
pub(super) fn remove_tree(path: &Path) {
    fn open_up(p: &Path) {
        if let Ok(m) = std::fs::symlink_metadata(p)
            && m.is_dir()
        {
            let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o700));
            if let Ok(entries) = std::fs::read_dir(p) {
                for e in entries.flatten() {
                    open_up(&e.path());
                }
            }
        }
    }
    if std::fs::remove_dir_all(path).is_err() {
        open_up(path);
        let _ = std::fs::remove_dir_all(path);
    }
}

pub(super) fn is_root() -> bool {
    // SAFETY: geteuid takes no arguments and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

// ---------------------------------------------------------------------------
// The session

pub(super) fn draft(text: &str) -> Draft {
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

/// The live generation's records of `tree`, read with sled from a copy.
fn raw_tree(dir: &Path, tree: &str, scratch: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    let live = std::fs::read_to_string(dir.join("CURRENT")).expect("CURRENT");
    let copy = scratch.join(format!("raw-{tree}"));
    remove_tree(&copy);
    copy_tree(&dir.join(live.trim()), &copy);
    let db = sled::open(&copy).expect("sled opens the copy");
    let out = db
        .open_tree(tree)
        .expect("tree")
        .iter()
        .map(|e| e.map(|(k, v)| (k.to_vec(), v.to_vec())).expect("record"))
        .collect();
    drop(db);
    remove_tree(&copy);
    out
}

fn probe_of(value: &[u8]) -> Vec<u8> {
    if value.len() <= 24 {
        return value.to_vec();
    }
    let at = value.len() / 2 - 12;
    value[at..at + 24].to_vec()
}

fn record_key(member: u64, id: u64) -> Vec<u8> {
    [member.to_be_bytes(), id.to_be_bytes()].concat()
}

fn long_text() -> String {
    let mut text = format!("{LONG_START} ");
    let words = [
        "supervision",
        "contracting",
        "boundaries",
        "rupture",
        "repair",
        "presence",
        "attunement",
        "sponsor",
    ];
    let mut i = 0usize;
    while text.len() < 150_000 {
        text.push_str(words[i % words.len()]);
        text.push_str(if i % 13 == 12 { ".\n" } else { " " });
        i += 1;
    }
    text.push_str(LONG_END);
    text
}

fn console_ok(runner: &Runner, data: &Path, stdin: &str, expect: &[&str]) {
    let out = runner.run(
        &["console".into(), "--data-dir".into(), s(data)],
        stdin,
        &[],
    );
    assert_eq!(out.code, 0, "session console: {}{}", out.stdout, out.stderr);
    for e in expect {
        assert!(
            out.stdout.contains(e),
            "session console, {e:?}:\n{}",
            out.stdout
        );
    }
}

fn prepare(base: &Path, runner: &Runner) -> Session {
    let data = base.join("session").join("data");
    let export = base.join("session").join("export.pcbk");
    std::fs::create_dir_all(data.parent().expect("parent")).expect("mkdir");
    let scratch = base.join("session");

    // At the console: two saves.
    console_ok(
        runner,
        &data,
        &format!("/reflect\n\n{KEPT_ONE}\n.\n\n\n/reflect\n\n{PRE_EDIT}\n.\n\n\n"),
        &["Saved as reflection #1", "Saved as reflection #2"],
    );
    let key_hex = std::fs::read_to_string(data.join("master.key"))
        .expect("master.key")
        .trim()
        .to_string();

    // Through the library: a long save, a share and its withdrawal, the
    // other member's saves, an edit, an automatic backup, forget-me, an
    // export, a clean close.
    let mut probes = Vec::new();
    {
        let store = Store::open(&data, None).expect("open the session's store");
        let now = Utc::now();
        assert_eq!(save(&store, ME, &long_text()), 3);
        assert_eq!(save(&store, ME, DELETED), 4);
        assert_eq!(save(&store, ME, SHARED), 5);
        store
            .update_shares(ME, 5, |shared, _| {
                shared.push(SharedPost {
                    guild: Some(7),
                    channel: 70,
                    message: 700,
                    anonymous: true,
                    at: now,
                })
            })
            .expect("share")
            .expect("reflection 5");
        store
            .update_shares(ME, 5, |shared, _| shared.clear())
            .expect("withdraw")
            .expect("reflection 5");
        save(&store, OTHER, FORGOTTEN_A);
        save(&store, OTHER, FORGOTTEN_B);
        // The sealed bytes of everything that will be erased.
        for tree in ["reflections", "summaries"] {
            for (k, v) in raw_tree(&data, tree, &scratch) {
                let what = if k == record_key(ME, 2) {
                    "#2 as it was before its edit"
                } else if k == record_key(ME, 4) {
                    "#4, deleted"
                } else if k[..8] == OTHER.to_be_bytes() {
                    "a forgotten member's reflection"
                } else {
                    continue;
                };
                probes.push((format!("the sealed bytes of {what} ({tree})"), probe_of(&v)));
            }
        }
        for (k, v) in raw_tree(&data, "member_keys", &scratch) {
            if k == OTHER.to_be_bytes() {
                probes.push((
                    "the sealed bytes of the forgotten member's key".to_string(),
                    probe_of(&v),
                ));
            }
        }
        assert_eq!(probes.len(), 9, "2 + 2 + 4 sealed records and a key");
        store
            .update_reflection(ME, 2, now, |r| r.text = EDITED.into())
            .expect("edit")
            .expect("reflection 2");
        store.backup_now(now).expect("automatic backup");
        assert_eq!(store.forget_member(OTHER, now).expect("forget-me"), 2);
        store.export_to(&export).expect("export");
        store.close(now).expect("clean close");
    }

    // At the console again: the delete, one more save, a clean close.
    console_ok(
        runner,
        &data,
        &format!("/reflections delete 4\nyes\n/reflect\n\n{KEPT_SIX}\n.\n\n\n"),
        &["Saved as reflection #6"],
    );

    let confirmed = vec![
        (1, vec!["KEPT-ONE-7Q"]),
        (2, vec!["KEPT-TWO-EDITED-5M"]),
        (3, vec![LONG_START, LONG_END]),
        (5, vec!["KEPT-SHARED-4P"]),
        (6, vec!["KEPT-SIX-AFTER-EXPORT-0V"]),
    ];
    let exported = confirmed[..4].to_vec();

    // The entries, with labels that read the same in every run.
    let snapshot = snap(&data);
    let backups: Vec<&PathBuf> = snapshot
        .keys()
        .filter(|p| p.starts_with("backups") && p.components().count() == 2)
        .collect();
    let newest = backups.last().map(|p| p.to_path_buf());
    let mut entries = Vec::new();
    for (rel, e) in &snapshot {
        let text = rel.display().to_string();
        let name = rel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let label = if rel.starts_with("backups") && rel.components().count() == 2 {
            if Some(rel) == newest.as_ref() {
                "backups/<newest>".to_string()
            } else {
                "backups/<older>".to_string()
            }
        } else if text.contains("/blobs/") {
            text.replace(&name, "<blob>")
        } else if name.starts_with("snap.") {
            text.replace(&name, "snap.*")
        } else {
            text
        };
        entries.push((rel.clone(), label, e.node == Node::Dir));
    }
    assert!(
        entries.iter().any(|(_, l, _)| l.ends_with("/blobs/<blob>")),
        "the long reflection made sled write a blob file: {:?}",
        snapshot.keys().collect::<Vec<_>>()
    );
    let session = Session {
        data,
        export,
        key_hex,
        entries,
        confirmed,
        exported,
        erased: Needles::new(
            probes
                .into_iter()
                .chain(
                    ERASED_MARKERS
                        .iter()
                        .map(|m| (format!("{m} as plaintext"), m.as_bytes().to_vec())),
                )
                .collect(),
        ),
    };
    // Baseline: nothing erased is in the data directory, and a copy opens
    // with everything in it.
    let leaks = erased_in(&session.erased, &session.data);
    assert!(leaks.is_empty(), "the session left erased bytes: {leaks:?}");
    let copy = base.join("session").join("copy");
    copy_tree(&session.data, &copy);
    if let Some(uid) = runner.as_user {
        chown_tree(&copy, uid);
    }
    let out = runner.run(&verify_args(&copy, None), &verify_input(), &[]);
    let missing = shown_missing(&out, &session.confirmed);
    assert!(
        out.code == 0 && missing.is_empty(),
        "the session's data directory opens with everything: missing {missing:?}\n{}{}",
        out.stdout,
        out.stderr
    );
    remove_tree(&copy);
    session
}

/// Byte strings to look for, found in one pass over a file (the tests are
/// built without optimisation: a window-by-window search of every file for
/// every needle would take most of the run).
struct Needles {
    list: Vec<(String, Vec<u8>)>,
    /// Which first two bytes start a needle.
    starts: Vec<bool>,
}

impl Needles {
    fn new(list: Vec<(String, Vec<u8>)>) -> Needles {
        let mut starts = vec![false; 1 << 16];
        for (_, n) in &list {
            assert!(n.len() >= 2);
            starts[usize::from(n[0]) << 8 | usize::from(n[1])] = true;
        }
        Needles { list, starts }
    }

    /// What of the list occurs in `hay`.
    fn found_in(&self, hay: &[u8]) -> Vec<&str> {
        let mut found = vec![false; self.list.len()];
        for i in 0..hay.len().saturating_sub(1) {
            if self.starts[usize::from(hay[i]) << 8 | usize::from(hay[i + 1])] {
                for (j, (_, n)) in self.list.iter().enumerate() {
                    if hay[i..].starts_with(n) {
                        found[j] = true;
                    }
                }
            }
        }
        self.list
            .iter()
            .zip(found)
            .filter(|(_, f)| *f)
            .map(|((what, _), _)| what.as_str())
            .collect()
    }
}

/// Everything erased that is found in a file under `dir`.
fn erased_in(erased: &Needles, dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for (path, entry) in snap(dir) {
        let Node::File(bytes) = &entry.node else {
            continue;
        };
        for what in erased.found_in(bytes) {
            found.push(format!("{what} in {}", path.display()));
        }
    }
    found
}

fn verify_args(dir: &Path, key_file: Option<&Path>) -> Vec<String> {
    let mut args = vec!["console".into(), "--data-dir".into(), s(dir)];
    if let Some(k) = key_file {
        args.extend(["--key-file".into(), s(k)]);
    }
    args
}

fn verify_input() -> String {
    let mut input = "/reflections list\n".to_string();
    for id in 1..=6 {
        input.push_str(&format!("/reflections view {id}\n"));
    }
    input
}

/// The confirmed reflections the console's output does not show.
fn shown_missing(out: &Out, expected: &[(u64, Vec<&'static str>)]) -> Vec<u64> {
    expected
        .iter()
        .filter(|(id, markers)| {
            !out.stdout.contains(&format!("#{id} "))
                || markers.iter().any(|m| !out.stdout.contains(m))
        })
        .map(|(id, _)| *id)
        .collect()
}

// ---------------------------------------------------------------------------
// Words

/// Words that say something is wrong.
const DAMAGE_WORDS: [&str; 11] = [
    "error:",
    "problem:",
    "is damaged",
    "are damaged",
    "damaged:",
    "unreadable",
    "cannot be read",
    "could not be read",
    "does not authenticate",
    "left exactly as it was",
    "corrupt",
];

pub(super) fn damage_words(words: &str) -> Option<&'static str> {
    let words: String = words
        .lines()
        .filter(|l| !l.contains("cannot reach Discord"))
        .collect::<Vec<_>>()
        .join("\n")
        .to_lowercase();
    DAMAGE_WORDS.into_iter().find(|w| words.contains(w))
}

static ADVICE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:^|[.;:!?(]\s+|\n|\b(?:then|or|and|first|please)\s+)(restore|run|set|pass|put|stop|give|use|move|copy|remove|free|make|start|try|fix|chown|chmod|check|rename|delete|unset|import|export)\b",
    )
    .expect("regex")
});

/// Whether the words say what to do.
pub(super) fn says_what_to_do(words: &str) -> bool {
    words.contains("companion db ") || ADVICE.is_match(words)
}

static COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"companion db (restore|salvage)((?: --[a-z][a-z-]*)*)").expect("regex")
});

/// What the words tell the operator to do, as far as a test can do it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Advice {
    /// Run these `db` commands, in order (arguments after `db`).
    Commands(Vec<Vec<String>>),
    /// Give the key (from the operator's copy kept apart).
    SupplyKey,
    /// Put the real file or folder back where a link is.
    PutBack,
    /// Give the owner access again (`chmod -R u+rwX DIR`).
    GiveAccess,
    None,
}

fn advice(words: &str, key: &KeySrc, export: &Path) -> Advice {
    // The first thing the words ask for comes first.
    if words.contains("is a symbolic link") && words.contains("back in its place") {
        return Advice::PutBack;
    }
    if words.contains("chmod -R u+rwX") {
        return Advice::GiveAccess;
    }
    if words.contains("--from FILE") {
        return Advice::Commands(vec![vec!["restore".into(), "--from".into(), s(export)]]);
    }
    let mut commands: Vec<Vec<String>> = Vec::new();
    for c in COMMAND.captures_iter(words) {
        let mut args = vec![c[1].to_string()];
        args.extend(
            c[2].split_whitespace()
                .filter(|f| *f != "--data-dir")
                .map(str::to_string),
        );
        if commands.last() != Some(&args) {
            commands.push(args);
        }
    }
    if !commands.is_empty() {
        return Advice::Commands(commands);
    }
    let key_trouble = words.contains("no key was found")
        || words.contains("does not hold a key")
        || words.contains("cannot read the key file")
        || words.contains("master.key does not open");
    if key_trouble && *key == KeySrc::DataDir {
        return Advice::SupplyKey;
    }
    Advice::None
}

// ---------------------------------------------------------------------------
// Cases

#[derive(Debug, Clone)]
struct Case {
    fault: Fault,
    entry: PathBuf,
    label: String,
    is_dir: bool,
    cmd: Cmd,
    key: KeyCase,
}

impl Case {
    /// "fault / entry / command / key key", as the report names a case.
    fn name(&self) -> String {
        format!(
            "{} / {} / {} / {} key",
            self.fault.name(),
            self.label,
            self.cmd.name(),
            if self.key == KeyCase::Right {
                "right"
            } else {
                "wrong"
            }
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// Not applicable (an empty file cannot be cut or flipped).
    NotApplicable,
    /// The command did its work and everything confirmed was there.
    Fine,
    /// Refused with advice; following it brought everything back.
    Recovered,
    /// Refused with advice that names nothing to run; nothing was lost.
    Refused,
    /// A wrong key, refused, nothing changed.
    WrongKeyRefused,
    Failed,
}

#[derive(Debug, Clone)]
struct Failure {
    /// Which rule (1–5) and what went wrong, in a few words.
    kind: String,
    /// The words that make the failure what it is, normalised.
    detail: String,
    /// The exact words and exit code of one instance.
    example: String,
}

struct Ctx<'a> {
    session: &'a Session,
    runner: &'a Runner,
    base: PathBuf,
    wrong_hex: String,
}

/// The paths of one case.
struct Paths {
    root: PathBuf,
    data: PathBuf,
    outside: PathBuf,
    export: PathBuf,
    imported: PathBuf,
}

fn normalise(words: &str, paths: &Paths) -> String {
    let text = words
        .replace(&s(&paths.imported), "NEW")
        .replace(&s(&paths.data), "DIR")
        .replace(&s(&paths.root), "CASE");
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .to_string();
    let line = anonymise_numbers(&line)
        .replace("problems found", "problem found")
        .replace("members readable", "member readable")
        .replace("reflections of", "reflection of");
    line.chars().take(170).collect()
}

/// Numbers that differ from case to case (counts, times, generations, blob
/// names) become `N`; the ones that say what happened (`os error 13`,
/// `UTF-8`, a mode `000 → 600`) stay.
pub(super) fn anonymise_numbers(text: &str) -> String {
    static NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[0-9]+").expect("regex"));
    let mut out = String::new();
    let mut at = 0;
    for m in NUMBER.find_iter(text) {
        let before = &text[..m.start()];
        let keep = before.ends_with("UTF-")
            || before.ends_with("os error ")
            || before.ends_with("mode ")
            || before.ends_with("→ ")
            || (before.ends_with('(') && text[m.end()..].starts_with(" hexadecimal"));
        out.push_str(&text[at..m.start()]);
        out.push_str(if keep { m.as_str() } else { "N" });
        at = m.end();
    }
    out.push_str(&text[at..]);
    out
}

fn example(out: &Out, paths: &Paths) -> String {
    let words = out
        .words()
        .replace(&s(&paths.imported), "NEW")
        .replace(&s(&paths.data), "DIR")
        .replace(&s(&paths.root), "CASE");
    let words = words.trim().replace('\n', " ⏎ ");
    let words: String = words.chars().take(600).collect();
    format!("exit {}: {words}", out.code)
}

struct CaseRun<'a> {
    ctx: &'a Ctx<'a>,
    case: &'a Case,
    paths: Paths,
    failures: Vec<Failure>,
}

impl CaseRun<'_> {
    fn fail(&mut self, kind: &str, detail: String, example: String) {
        let entry = s(&self.case.entry);
        let detail = detail.replace(&format!("{entry} "), "<the faulty entry> ");
        self.failures.push(Failure {
            kind: kind.to_string(),
            detail: anonymise_numbers(&detail),
            example,
        });
    }

    fn env(&self, key: &KeySrc) -> Vec<(&'static str, String)> {
        match key {
            KeySrc::DataDir => vec![],
            KeySrc::Env(hex) => vec![("COMPANION_KEY", hex.clone())],
        }
    }

    /// Runs `cmd` on the case's data directory (or, for an import, into
    /// the new directory) with the key from `key`.
    fn command(&mut self, cmd: Cmd, key: &KeySrc) -> Out {
        let d = s(&self.paths.data);
        let (args, stdin, mut env): (Vec<String>, &str, _) = match cmd {
            Cmd::Console => (
                vec!["console".into(), "--data-dir".into(), d],
                "/reflections list\n",
                self.env(key),
            ),
            Cmd::Run => (
                vec![
                    "run".into(),
                    "--data-dir".into(),
                    d,
                    "--api-url".into(),
                    self.ctx.runner.api_url.clone(),
                ],
                "",
                self.env(key),
            ),
            Cmd::Check | Cmd::Restore | Cmd::Salvage => (
                vec![
                    "db".into(),
                    match cmd {
                        Cmd::Check => "check",
                        Cmd::Restore => "restore",
                        _ => "salvage",
                    }
                    .into(),
                    "--data-dir".into(),
                    d,
                ],
                "",
                self.env(key),
            ),
            Cmd::Import => {
                let mut args = vec![
                    "db".into(),
                    "import".into(),
                    s(&self.paths.export),
                    "--erasures".into(),
                    s(&self.paths.data.join("erasures")),
                    "--data-dir".into(),
                    s(&self.paths.imported),
                ];
                if *key == KeySrc::DataDir {
                    args.extend(["--key-file".into(), s(&self.paths.data.join("master.key"))]);
                }
                (args, "", self.env(key))
            }
        };
        if cmd == Cmd::Run {
            env.push(("DISCORD_TOKEN", "fault-matrix-token".into()));
        }
        self.ctx.runner.run(&args, stdin, &env)
    }

    fn db(&mut self, args: &[String], key: &KeySrc) -> Out {
        let mut all = vec!["db".to_string()];
        all.extend(args.iter().cloned());
        all.extend(["--data-dir".into(), s(&self.paths.data)]);
        let env = self.env(key);
        self.ctx.runner.run(&all, "", &env)
    }

    /// Rule 5 for one run; `what` names it in the report.
    fn words_agree(&mut self, cmd: Cmd, what: &str, out: &Out) {
        let ok = succeeded(cmd, out);
        if ok {
            if let Some(w) = damage_words(&out.words()) {
                let detail = format!("says {w:?} — {}", normalise(&out.words(), &self.paths));
                let ex = format!("[{what}] {}", example(out, &self.paths));
                self.fail(
                    "5: success, yet the words say something is wrong",
                    detail,
                    ex,
                );
            }
        } else if !says_what_to_do(&out.words()) {
            let detail = normalise(&out.words(), &self.paths);
            let ex = format!("[{what}] {}", example(out, &self.paths));
            self.fail("5: a failure that does not say what to do", detail, ex);
        } else if self.case.key == KeyCase::Right
            && !self.case.entry.ends_with("master.key")
            && calls_the_key_wrong(&out.words())
        {
            // The right key, and the key file untouched: whatever is wrong,
            // it is not the key.
            let detail = normalise(&out.words(), &self.paths);
            let ex = format!("[{what}] {}", example(out, &self.paths));
            self.fail("5: the right key is called wrong", detail, ex);
        }
    }

    /// The console on `dir`, listing and viewing everything: rules 2, 3, 5.
    /// `Ok` if it showed everything expected.
    fn verify(
        &mut self,
        dir: &Path,
        key: &KeySrc,
        expected: &[(u64, Vec<&'static str>)],
    ) -> Result<(), Out> {
        let env = self.env(key);
        let out = self
            .ctx
            .runner
            .run(&verify_args(dir, None), &verify_input(), &env);
        self.words_agree(Cmd::Console, "the console afterwards", &out);
        for marker in ERASED_MARKERS {
            if out.stdout.contains(marker) {
                let ex = example(&out, &self.paths);
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
        let missing = shown_missing(&out, expected);
        if !missing.is_empty() {
            let list: String = out
                .stdout
                .lines()
                .take_while(|l| !l.starts_with("Next:"))
                .collect::<Vec<_>>()
                .join(" ⏎ ");
            self.fail(
                "2: a confirmed reflection is lost",
                format!(
                    "after the command (and any advice followed), the console opens and shows {} of the confirmed reflections",
                    if missing.len() == expected.len() {
                        "none"
                    } else {
                        "not all"
                    }
                ),
                format!(
                    "[the console afterwards] exit 0, missing #{}; it shows: {}",
                    missing
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(", #"),
                    list.chars().take(400).collect::<String>()
                ),
            );
        }
        Ok(())
    }

    /// Runs `step` again (after the key was supplied or a link put back).
    fn repeat(&mut self, step: &Step, key: &KeySrc) -> Out {
        match step {
            Step::Command(cmd) => {
                let out = self.command(*cmd, key);
                self.words_agree(*cmd, "the command again", &out);
                out
            }
            Step::Db(args) => {
                let out = self.db(args, key);
                let what = format!("advised `db {}` again", args.join(" "));
                self.words_agree(Cmd::Check, &what, &out);
                out
            }
            Step::Start => unreachable!("a start is repeated by `verify`"),
        }
    }

    /// Rule 2 from a run of `first` that ended `last`: the console shows
    /// everything, or the advice is followed until it does, or the advice
    /// runs out with nothing lost. Returns whether any advice was followed
    /// and whether it ended refused.
    fn recover(&mut self, first: Cmd, last: Out, before: &Snapshot) -> (bool, bool) {
        let export = self.paths.export.clone();
        let expected = self.ctx.session.confirmed.clone();
        let data = self.paths.data.clone();
        let mut key = KeySrc::DataDir;
        let mut followed = 0usize;
        let mut step = Step::Command(first);
        let mut last = last;
        let mut seen = BTreeSet::new();
        loop {
            let ok = match &step {
                Step::Command(cmd) => succeeded(*cmd, &last),
                Step::Db(_) => last.code == 0,
                Step::Start => false,
            };
            if ok {
                // Done, or done as advised: the next start must show it all.
                match self.verify(&data, &key, &expected) {
                    Ok(()) => return (followed > 0, false),
                    Err(out) => {
                        last = out;
                        step = Step::Start;
                    }
                }
            }
            let next = advice(&last.words(), &key, &export);
            let words = normalise(&last.words(), &self.paths);
            let again = next != Advice::None && !seen.insert((format!("{next:?}"), words.clone()));
            if again || followed >= MAX_ADVICE {
                let ex = example(&last, &self.paths);
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
                        let out = self.db(&args, &key);
                        let what = format!("advised `db {}`", args.join(" "));
                        self.words_agree(Cmd::Check, &what, &out);
                        let failed = out.code != 0;
                        last = out;
                        step = Step::Db(args);
                        if failed {
                            break;
                        }
                    }
                }
                fix @ (Advice::SupplyKey | Advice::PutBack | Advice::GiveAccess) => {
                    followed += 1;
                    match fix {
                        Advice::SupplyKey => key = KeySrc::Env(self.ctx.session.key_hex.clone()),
                        Advice::PutBack => self.put_back(),
                        _ => give_access(&data),
                    }
                    if step == Step::Start {
                        match self.verify(&data, &key, &expected) {
                            Ok(()) => return (true, false),
                            Err(out) => last = out,
                        }
                    } else {
                        last = self.repeat(&step, &key);
                    }
                }
                Advice::None if step != Step::Start => {
                    // Nothing to run: the operator starts it again.
                    match self.verify(&data, &key, &expected) {
                        Ok(()) => return (followed > 0, false),
                        Err(out) => {
                            last = out;
                            step = Step::Start;
                        }
                    }
                }
                Advice::None => {
                    // Refused at a start, with nothing left to follow: what
                    // the data directory held must all still be there.
                    let lost = losses(before, &snap(&data));
                    if !lost.is_empty() {
                        let ex = example(&last, &self.paths);
                        self.fail(
                            "2: refused with nothing left to follow, and files were lost meanwhile",
                            format!(
                                "ends with: {} — and {}",
                                normalise(&last.words(), &self.paths),
                                lost.into_iter().take(3).collect::<Vec<_>>().join(", ")
                            ),
                            ex,
                        );
                    }
                    return (followed > 0, true);
                }
            }
        }
    }

    /// Puts the real file or folder back where the fault left a link: a
    /// copy of what the link points to, owned and private as the store's.
    fn put_back(&mut self) {
        let link = self.paths.data.join(&self.case.entry);
        if let Ok(target) = std::fs::read_link(&link) {
            std::fs::remove_file(&link).expect("remove the link");
            copy_tree(&target, &link);
            set_modes(&link, 0o600, 0o700);
            if let Some(uid) = self.ctx.runner.as_user {
                chown_tree(&link, uid);
            }
        }
    }
}

/// `chmod -R u+rwX DIR`, as the operator the words ask it of would: the
/// owner's bits added, nothing else changed, links never followed.
pub(super) fn give_access(dir: &Path) {
    fn add(path: &Path) {
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            return;
        };
        if meta.file_type().is_symlink() {
            return;
        }
        let extra = if meta.is_dir() { 0o700 } else { 0o600 };
        let mode = meta.permissions().mode() | extra;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        if meta.is_dir() {
            for entry in std::fs::read_dir(path).expect("read_dir").flatten() {
                add(&entry.path());
            }
        }
    }
    add(dir);
}

/// What the last run of [`CaseRun::recover`] was.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// The command under test.
    Command(Cmd),
    /// An advised `db` command.
    Db(Vec<String>),
    /// A start of the console (`verify`).
    Start,
}

/// Whether a run did what it was asked: exit 0, or for `run`, the store
/// opened (it stops at the Discord it cannot reach).
fn succeeded(cmd: Cmd, out: &Out) -> bool {
    match cmd {
        Cmd::Run => out.stderr.contains("cannot reach Discord"),
        _ => out.code == 0,
    }
}

/// Applies the fault to the case's copy; `false` if it does not apply.
fn apply(case: &Case, paths: &Paths, runner: &Runner) -> bool {
    let path = paths.data.join(&case.entry);
    let meta = std::fs::symlink_metadata(&path).expect("entry");
    match case.fault {
        Fault::Removed => {
            if meta.is_dir() {
                std::fs::remove_dir_all(&path).expect("remove");
            } else {
                std::fs::remove_file(&path).expect("remove");
            }
        }
        Fault::Truncated | Fault::Flipped | Fault::FlippedEarly if meta.is_dir() => {
            let mut names: Vec<_> = std::fs::read_dir(&path)
                .expect("read dir")
                .flatten()
                .map(|e| e.file_name())
                .collect();
            names.sort();
            if names.is_empty() {
                return false;
            }
            if case.fault == Fault::Truncated {
                // The second half of its entries goes.
                for name in &names[names.len() / 2..] {
                    let p = path.join(name);
                    if p.is_dir() {
                        std::fs::remove_dir_all(&p).expect("remove");
                    } else {
                        std::fs::remove_file(&p).expect("remove");
                    }
                }
            } else {
                // One byte of one entry's name.
                let name = names[names.len() / 2].to_string_lossy().into_owned();
                let mut bytes = name.into_bytes();
                let at = bytes.len() / 2;
                bytes[at] ^= 1;
                if bytes[at] == b'/' || bytes[at] == 0 {
                    bytes[at] ^= 3;
                }
                let new = String::from_utf8(bytes).expect("ascii");
                std::fs::rename(path.join(&names[names.len() / 2]), path.join(new))
                    .expect("rename");
            }
        }
        Fault::Truncated | Fault::Flipped | Fault::FlippedEarly => {
            let mut bytes = std::fs::read(&path).expect("read");
            if bytes.is_empty() {
                return false;
            }
            match case.fault {
                Fault::Truncated => bytes.truncate(bytes.len() / 2),
                // In a file's header (a magic, a MAC, a name): where a
                // change is most easily read as something else.
                Fault::FlippedEarly => {
                    let at = (bytes.len() - 1).min(12);
                    bytes[at] ^= 0xff;
                }
                _ => {
                    let at = bytes.len() / 2;
                    bytes[at] ^= 0xff;
                }
            }
            std::fs::write(&path, &bytes).expect("write");
        }
        Fault::Symlink => {
            // A copy outside, writable by whoever runs the commands.
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            let sentinel = paths.outside.join(format!("{name}.sentinel"));
            copy_tree(&path, &sentinel);
            set_modes(&sentinel, 0o644, 0o755);
            if let Some(uid) = runner.as_user {
                chown_tree(&sentinel, uid);
            }
            if meta.is_dir() {
                std::fs::remove_dir_all(&path).expect("remove");
            } else {
                std::fs::remove_file(&path).expect("remove");
            }
            std::os::unix::fs::symlink(&sentinel, &path).expect("symlink");
            if let Some(uid) = runner.as_user {
                std::os::unix::fs::lchown(&path, Some(uid), Some(uid)).expect("chown");
            }
        }
        Fault::OtherOwner => {
            std::os::unix::fs::lchown(&path, Some(STRANGER), Some(STRANGER)).expect("chown");
        }
        Fault::Unreadable => {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).expect("chmod");
        }
    }
    true
}

fn run_case(ctx: &Ctx, case: &Case, n: usize) -> (Outcome, Vec<Failure>) {
    let root = ctx.base.join(format!("case-{n}"));
    let paths = Paths {
        data: root.join("data"),
        outside: root.join("outside"),
        export: root.join("export.pcbk"),
        imported: root.join("imported"),
        root: root.clone(),
    };
    std::fs::create_dir(&root).expect("case dir");
    copy_tree(&ctx.session.data, &paths.data);
    std::fs::copy(&ctx.session.export, &paths.export).expect("export");
    std::fs::create_dir(&paths.outside).expect("outside");
    if let Some(uid) = ctx.runner.as_user {
        chown_tree(&root, uid);
    }
    if !apply(case, &paths, ctx.runner) {
        remove_tree(&root);
        return (Outcome::NotApplicable, Vec::new());
    }
    // Everything of the case but the data directory and the import's
    // target: "outside".
    let outside = |root: &Path| -> Snapshot {
        snap(root)
            .into_iter()
            .filter(|(p, _)| !p.starts_with("data") && !p.starts_with("imported"))
            .collect()
    };
    let outside_before = outside(&root);
    let data_before = snap(&paths.data);
    let mut run = CaseRun {
        ctx,
        case,
        paths,
        failures: Vec::new(),
    };
    let key = match case.key {
        KeyCase::Right => KeySrc::DataDir,
        KeyCase::Wrong => KeySrc::Env(ctx.wrong_hex.clone()),
    };
    let out = run.command(case.cmd, &key);
    run.words_agree(case.cmd, "the command", &out);
    let mut outcome = Outcome::Fine;

    match (case.key, case.cmd) {
        (KeyCase::Wrong, _) => {
            if succeeded(case.cmd, &out) || out.code == 0 {
                let ex = example(&out, &run.paths);
                run.fail(
                    "4: a wrong key is not refused",
                    format!("{} went ahead", case.cmd.name()),
                    ex,
                );
            }
            let after = snap(&run.paths.data);
            let mut changed = differences(&data_before, &after, &["lock"], true);
            if case.cmd == Cmd::Import && run.paths.imported.exists() {
                let made: Vec<String> = snap(&run.paths.imported)
                    .into_keys()
                    .filter(|p| p != Path::new("lock"))
                    .map(|p| format!("NEW/{} was written", p.display()))
                    .collect();
                changed.extend(made);
            }
            if changed.is_empty() {
                outcome = Outcome::WrongKeyRefused;
            } else {
                let ex = example(&out, &run.paths);
                run.fail(
                    "4: a wrong key changed the data directory",
                    changed
                        .iter()
                        .take(3)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("; "),
                    ex,
                );
                // And was anything lost? The right key must still show it all.
                if case.cmd != Cmd::Import {
                    let start = run.ctx.runner.run(
                        &verify_args(&run.paths.data, None),
                        &verify_input(),
                        &[],
                    );
                    run.recover(Cmd::Console, start, &data_before);
                }
            }
        }
        (KeyCase::Right, Cmd::Import) => {
            let source_changed = differences(&data_before, &snap(&run.paths.data), &[], true);
            if !source_changed.is_empty() {
                let ex = example(&out, &run.paths);
                run.fail(
                    "2: an import changed the data directory it reads from",
                    source_changed
                        .into_iter()
                        .take(3)
                        .collect::<Vec<_>>()
                        .join("; "),
                    ex,
                );
            }
            let mut last = out;
            let mut key = KeySrc::DataDir;
            if !succeeded(Cmd::Import, &last)
                && advice(&last.words(), &key, &run.paths.export) == Advice::SupplyKey
            {
                key = KeySrc::Env(ctx.session.key_hex.clone());
                // The key file could not be used: the operator gives the key.
                remove_tree(&run.paths.imported);
                last = run.command(Cmd::Import, &key);
                run.words_agree(Cmd::Import, "the import again, with the key", &last);
                outcome = Outcome::Recovered;
            }
            if succeeded(Cmd::Import, &last) {
                let imported = run.paths.imported.clone();
                let expected = ctx.session.exported.clone();
                let env_key = KeySrc::Env(ctx.session.key_hex.clone());
                if let Err(out) = run.verify(&imported, &env_key, &expected) {
                    let ex = example(&out, &run.paths);
                    run.fail(
                        "2: an import said it succeeded, and its database does not open",
                        normalise(&out.words(), &run.paths),
                        ex,
                    );
                }
            } else {
                outcome = Outcome::Refused;
                let written = run.paths.imported.join("CURRENT").exists();
                if written {
                    let ex = example(&last, &run.paths);
                    run.fail(
                        "2: a refused import left a database behind",
                        normalise(&last.words(), &run.paths),
                        ex,
                    );
                }
            }
            if run.paths.imported.exists() {
                for leak in erased_in(&ctx.session.erased, &run.paths.imported) {
                    run.fail(
                        "3: erased bytes in a file",
                        format!("import target: {leak}"),
                        String::new(),
                    );
                }
            }
        }
        (KeyCase::Right, cmd) => {
            let opened = succeeded(cmd, &out);
            let (followed, refused) = run.recover(cmd, out, &data_before);
            outcome = match (opened, followed, refused) {
                (_, _, true) => Outcome::Refused,
                (_, true, false) => Outcome::Recovered,
                (true, false, false) => Outcome::Fine,
                (false, false, false) => Outcome::Recovered,
            };
        }
    }

    // Rule 3: nothing erased in any file of the data directory.
    for leak in erased_in(&ctx.session.erased, &run.paths.data) {
        run.fail("3: erased bytes in a file", leak, String::new());
    }
    // Rule 1: nothing outside written.
    let outside_after = outside(&run.paths.root);
    let written = differences(&outside_before, &outside_after, &[], true);
    if !written.is_empty() {
        run.fail(
            "1: something outside the data directory was written",
            written.into_iter().take(3).collect::<Vec<_>>().join("; "),
            String::new(),
        );
    }
    let failures = run.failures;
    remove_tree(&root);
    if failures.is_empty() {
        (outcome, failures)
    } else {
        (Outcome::Failed, failures)
    }
}

#[test]
fn every_fault_in_every_file_under_every_command_loses_nothing_and_says_what_to_do() {
    let started = Instant::now();
    let base = std::env::temp_dir().join(format!("companion-faults-{}", std::process::id()));
    remove_tree(&base);
    std::fs::create_dir_all(&base).expect("base");
    std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).expect("chmod");

    let root = is_root();
    // The binary, where `nobody` can run it.
    let bin_dir = base.join("bin");
    std::fs::create_dir(&bin_dir).expect("bin");
    std::fs::set_permissions(&bin_dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let bin = bin_dir.join("companion");
    std::fs::copy(env!("CARGO_BIN_EXE_companion"), &bin).expect("copy the binary");
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    // A port nothing listens on: `run` opens the store, then cannot reach
    // Discord and stops.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let api_url = format!("http://127.0.0.1:{port}");
    let session_runner = Runner {
        bin: bin.clone(),
        cwd: base.clone(),
        as_user: None,
        api_url: api_url.clone(),
        runs: AtomicUsize::new(0),
    };
    let session = prepare(&base, &session_runner);
    let runner = Runner {
        bin,
        cwd: base.clone(),
        as_user: root.then_some(NOBODY),
        api_url,
        runs: AtomicUsize::new(0),
    };
    // The cases on a memory file system where there is one with room: the
    // store syncs every change, and two cores spend the run waiting for
    // the disk otherwise.
    let cases_base = memory_dir().unwrap_or_else(|| base.join("cases"));
    std::fs::create_dir_all(&cases_base).expect("cases");
    std::fs::set_permissions(&cases_base, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let ctx = Ctx {
        session: &session,
        runner: &runner,
        base: cases_base.clone(),
        wrong_hex: SecretKey::generate().to_hex().to_string(),
    };
    let prepared = started.elapsed();

    // `FAULTS_ONLY="removed / db.3 / db salvage"` runs the cases whose
    // name holds the words, to look at one class while fixing it.
    let only = std::env::var("FAULTS_ONLY").ok();
    let mut cases = Vec::new();
    let mut skipped = 0usize;
    for (entry, label, is_dir) in &session.entries {
        for fault in FAULTS {
            for cmd in CMDS {
                for key in [KeyCase::Right, KeyCase::Wrong] {
                    if fault == Fault::OtherOwner && !root {
                        skipped += 1;
                        continue;
                    }
                    let case = Case {
                        fault,
                        entry: entry.clone(),
                        label: label.clone(),
                        is_dir: *is_dir,
                        cmd,
                        key,
                    };
                    if only.as_deref().is_none_or(|o| case.name().contains(o)) {
                        cases.push(case);
                    }
                }
            }
        }
    }
    if skipped > 0 {
        eprintln!(
            "faults: {skipped} cases of a file owned by another user skipped: the tests do not run as root, so no file can be given to another user"
        );
    }

    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Outcome, Vec<Failure>)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(case) = cases.get(i) else {
                        break;
                    };
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

    // The figures.
    let mut by: BTreeMap<(Fault, KeyCase), BTreeMap<Outcome, usize>> = BTreeMap::new();
    for (i, outcome, _) in &results {
        let c = &cases[*i];
        *by.entry((c.fault, c.key))
            .or_default()
            .entry(*outcome)
            .or_default() += 1;
    }
    let tried = results
        .iter()
        .filter(|(_, o, _)| *o != Outcome::NotApplicable)
        .count();
    let failed = results
        .iter()
        .filter(|(_, o, _)| *o == Outcome::Failed)
        .count();
    eprintln!(
        "faults: {} entries × {} faults × {} commands × 2 keys = {} cases, {} not applicable (an empty file or folder cannot be cut or flipped), {} tried, {} failed; {} runs of the binary; session prepared in {:.1} s, all in {:.1} s ({} workers)",
        session.entries.len(),
        FAULTS.len(),
        CMDS.len(),
        cases.len(),
        cases.len() - tried,
        tried,
        failed,
        runner.runs.load(Ordering::Relaxed),
        prepared.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        WORKERS
    );
    eprintln!(
        "faults: {:<16} {:<6} {:>6} {:>9} {:>9} {:>9} {:>9} {:>6}",
        "fault", "key", "tried", "fine", "advice ok", "refused", "wrong key", "FAILED"
    );
    for ((fault, key), counts) in &by {
        let get = |o| counts.get(&o).copied().unwrap_or(0);
        let tried: usize = counts
            .iter()
            .filter(|(o, _)| **o != Outcome::NotApplicable)
            .map(|(_, n)| n)
            .sum();
        eprintln!(
            "faults: {:<16} {:<6} {:>6} {:>9} {:>9} {:>9} {:>9} {:>6}",
            fault.name(),
            if *key == KeyCase::Right {
                "right"
            } else {
                "wrong"
            },
            tried,
            get(Outcome::Fine),
            get(Outcome::Recovered),
            get(Outcome::Refused),
            get(Outcome::WrongKeyRefused),
            get(Outcome::Failed)
        );
    }

    // The failures, grouped by what went wrong.
    type Where = BTreeMap<(Fault, KeyCase), BTreeMap<String, BTreeSet<Cmd>>>;
    let mut groups: BTreeMap<(String, String), (String, String, Where)> = BTreeMap::new();
    for (i, _, failures) in &results {
        let c = &cases[*i];
        let mut seen = BTreeSet::new();
        for f in failures {
            if !seen.insert((f.kind.clone(), f.detail.clone())) {
                continue;
            }
            let g = groups
                .entry((f.kind.clone(), f.detail.clone()))
                .or_insert_with(|| (c.name(), f.example.clone(), Where::new()));
            g.2.entry((c.fault, c.key))
                .or_default()
                .entry(if c.is_dir {
                    format!("{}/", c.label)
                } else {
                    c.label.clone()
                })
                .or_default()
                .insert(c.cmd);
        }
    }
    if failed > 0 {
        let mut report = format!(
            "{failed} of {tried} fault cases failed, in {} groups (rule: what — where: fault / key: file{{commands}}):\n",
            groups.len()
        );
        let mut by_kind: BTreeMap<&str, Vec<_>> = BTreeMap::new();
        for ((kind, detail), g) in &groups {
            by_kind.entry(kind.as_str()).or_default().push((detail, g));
        }
        for (kind, list) in by_kind {
            report.push_str(&format!("\n== {kind} ({} groups)\n", list.len()));
            for (detail, (first, ex, places)) in list {
                let count: usize = places
                    .values()
                    .flat_map(|m| m.values())
                    .map(BTreeSet::len)
                    .sum();
                report.push_str(&format!("- {detail} [{count} cases]\n"));
                report.push_str(&format!("    e.g. {first}"));
                if ex.is_empty() {
                    report.push('\n');
                } else {
                    report.push_str(&format!(": {ex}\n"));
                }
                for ((fault, key), files) in places {
                    let files: Vec<String> = files
                        .iter()
                        .map(|(f, cmds)| {
                            if cmds.len() == CMDS.len() {
                                format!("{f}{{all}}")
                            } else {
                                format!(
                                    "{f}{{{}}}",
                                    cmds.iter().map(|c| c.name()).collect::<Vec<_>>().join(",")
                                )
                            }
                        })
                        .collect();
                    report.push_str(&format!(
                        "    {} / {}: {}\n",
                        fault.name(),
                        if *key == KeyCase::Right {
                            "right"
                        } else {
                            "wrong"
                        },
                        files.join(" ")
                    ));
                }
            }
        }
        remove_tree(&base);
        remove_tree(&cases_base);
        panic!("{report}");
    }
    remove_tree(&base);
    remove_tree(&cases_base);
}

/// A folder on a memory file system (`/dev/shm`) with room for the cases.
fn memory_dir() -> Option<PathBuf> {
    let shm = Path::new("/dev/shm");
    let c = std::ffi::CString::new("/dev/shm").ok()?;
    // SAFETY: statvfs writes only into the struct it is given.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    // The field types differ between platforms (u32 on some 32-bit ones).
    #[allow(clippy::useless_conversion)]
    let free = u64::from(st.f_bavail) * u64::from(st.f_frsize);
    let dir = shm.join(format!("companion-faults-{}", std::process::id()));
    (free >= 256 << 20 && std::fs::create_dir_all(&dir).is_ok()).then_some(dir)
}

/// Whether `words` say the key given is not this database's.
pub(super) fn calls_the_key_wrong(words: &str) -> bool {
    words.contains("does not open the database") || words.contains("belongs to another database")
}
