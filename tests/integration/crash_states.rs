//! What a power cut can leave, explored from the real store's system calls:
//! the technique of ALICE ("All File Systems Are Not Created Equal", OSDI
//! 2014).
//!
//! The model:
//! 1. A child process (`examples/crash_ops.rs`) performs one operation of
//!    the store on a copy of a small prepared data directory, under
//!    `strace`, and writes a line to stdout the moment it could confirm
//!    something to a member.
//! 2. The trace is replayed over the directory's starting bytes in the order
//!    the calls returned: writes (to the file, at the offset the call used),
//!    truncations, creations, unlinks, renames, syncs, and the lines written
//!    to stdout. A crash point follows every call that changes any of that.
//!    With everything kept, the replay must equal what the process left.
//! 3. At each crash point the states a power cut may leave under POSIX are
//!    built. A file holds what it held at its last `fsync`/`fdatasync`, plus
//!    a prefix of its later writes, in order. A folder holds the entries it
//!    had at its last `fsync`, plus a prefix of its later creations, unlinks
//!    and renames, or all of them but one: a name is durable only once its
//!    folder is synced, whatever was synced of the file. `sync_file_range`
//!    syncs nothing. Built per point: everything kept (what a kill leaves);
//!    nothing unsynced kept; each file or folder on its own over all its
//!    choices while the others keep all or nothing; every combination when
//!    at most three have something unsynced; a few random combinations
//!    (fixed seed) when more do.
//! 4. States identical by content (and by what was confirmed) are checked
//!    once, each opened in this process with `Store::open`. A state passes if
//!    it holds exactly what members were told: every reflection confirmed
//!    before the crash point, with its exact text and shares, and nothing
//!    deleted, forgotten or edited away before it (the one change in flight
//!    may be there or not, whole). Or it passes if the open refuses in words
//!    that say what to do (`companion db restore`/`salvage`, or for an
//!    import cut short, the import again) and leaves the bytes as they
//!    were. Anything else is a failure, described by its operation, crash
//!    point, the unsynced changes it kept or dropped, and what was lost or
//!    came back.
//! 5. After a refusal the advice is followed, on a copy (`companion db
//!    restore`; for an import, the same import again), and it must get back
//!    everything members were told: otherwise the state fails too.
//!
//! A negative control (raw sled, confirmed after sled's flush, which is not
//! a sync) must be caught losing records: the explorer can fail.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use practice_companion::reflections::form::HeldKind;
use practice_companion::store::{SecretKey, Store};

/// The master key the child and the checks use.
const KEY_HEX: &str = "5ca1ab1e0ddba11c0ffee0ddf00d5eed5ca1ab1e0ddba11c0ffee0ddf00d5eed";
/// The members of the prepared data set.
const MEMBERS: [u64; 3] = [1, 2, 3];
/// Added to a member id in a [`View`] for their supervision log entries.
const LOG: u64 = 1 << 32;
/// Added to a member id in a [`View`] for their held form (number 0).
const HELD: u64 = 2 << 32;
/// The negative control's records are read as this member's.
const RAW_MEMBER: u64 = 9;
/// Random combinations per crash point when more than three files or
/// folders have something unsynced.
const RANDOM_PER_POINT: usize = 32;
/// Every combination is built when at most this many have something unsynced.
const FULL_PRODUCT_UNITS: usize = 3;
/// At most this many combinations of a full product per crash point.
const PRODUCT_CAP: usize = 256;
/// The most distinct states opened per operation (sampled beyond it).
const STATES_PER_OP: usize = 700;
/// The calls traced: every one that changes a file or a folder, the syncs,
/// and what moves a file's offset (`lseek`, `read`, the `dup`s).
const TRACED: &str = "openat,open,creat,write,pwrite64,writev,pwritev,pwritev2,ftruncate,truncate,\
fallocate,fsync,fdatasync,sync_file_range,syncfs,sync,rename,renameat,renameat2,unlink,unlinkat,\
mkdir,mkdirat,rmdir,link,linkat,symlink,symlinkat,close,copy_file_range,sendfile,lseek,read,dup,\
dup2,dup3,fcntl";

/// What members can read: (member, number) → (text, how many posts it has).
type View = BTreeMap<(u64, u64), (String, usize)>;

// ---------------------------------------------------------------- the child

fn child() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile dir");
    let path = profile
        .join("examples")
        .join(format!("crash_ops{}", std::env::consts::EXE_SUFFIX));
    {
        // `cargo test` builds examples; `cargo test --test integration` does
        // not, and a copy left by an earlier build may be stale: cargo
        // rebuilds it only if the code changed.
        let status = Command::new(env!("CARGO"))
            .args(["build", "--example", "crash_ops"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the crash_ops example failed");
    }
    path
}

/// Runs the child (under `strace` if `trace` is given); returns its lines,
/// or what it said on failing.
fn run_child(args: &[&Path], trace: Option<&Path>) -> Result<Vec<String>, String> {
    let mut command = match trace {
        Some(trace) => {
            let mut c = Command::new("strace");
            c.args(["-f", "-y", "-xx", "-s", "10000000", "-e", "raw=read"])
                .arg(format!("-etrace={TRACED}"))
                .arg("-o")
                .arg(trace)
                .arg(child());
            c
        }
        None => Command::new(child()),
    };
    let out = command
        .args(args)
        .env("COMPANION_KEY", KEY_HEX)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("strace and the child run (.ci/run installs strace; apt-get install strace)");
    if !out.status.success() {
        return Err(format!(
            "crash_ops {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(str::to_string)
        .collect())
}

// ------------------------------------------------- what members were told

/// Applies one confirmation line to what members can read.
fn apply_line(view: &mut View, line: &str, imported: &View) {
    let mut words = line.splitn(4, ' ');
    let verb = words.next().unwrap_or("");
    let mut number = || -> u64 {
        words
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("a number in {line:?}"))
    };
    match verb {
        "saved" | "edited" => {
            let key = (number(), number());
            let text = words.next().unwrap_or("").to_string();
            let shares = view.get(&key).map_or(0, |v| v.1);
            view.insert(key, (text, shares));
        }
        "logged" => {
            let key = (number() + LOG, number());
            view.insert(key, (words.next().unwrap_or("").to_string(), 0));
        }
        "held" => {
            let key = (number() + HELD, 0);
            let rest: Vec<&str> = words.collect();
            view.insert(key, (rest.join(" "), 0));
        }
        "shared" | "withdrawn" => {
            let key = (number(), number());
            let entry = view.get_mut(&key).expect("a shared reflection exists");
            entry.1 = if verb == "shared" {
                entry.1 + 1
            } else {
                entry.1 - 1
            };
        }
        "deleted" => {
            let key = (number(), number());
            view.remove(&key);
        }
        "forgotten" => {
            let member = number();
            view.retain(|k, _| ![member, member + LOG, member + HELD].contains(&k.0));
        }
        "imported" => *view = imported.clone(),
        "backed-up" | "rewritten" | "closed" | "restored" | "salvaged" => {}
        other => panic!("unknown confirmation {other:?} in {line:?}"),
    }
}

/// What members can read after each confirmation: `models[c]` is the view
/// once `c` lines were printed.
fn models(start: &View, lines: &[String], imported: &View) -> Vec<View> {
    let mut out = vec![start.clone()];
    for line in lines {
        let mut next = out.last().expect("one").clone();
        apply_line(&mut next, line, imported);
        out.push(next);
    }
    out
}

/// The prepared data set: what it holds, and what an import of its backup
/// must hold (the backup less what was edited or deleted after it).
struct Prepared {
    dir: PathBuf,
    view: View,
    imported: View,
}

/// The prepared data set, made by the child's `prepare` or `prepare-unclean`.
fn prepare(work: &Path, how: &str) -> Prepared {
    let dir = work.join(how);
    let lines = run_child(&[Path::new(how), &dir], None).unwrap_or_else(|e| panic!("{e}"));
    let none = View::new();
    let mut view = View::new();
    let mut at_backup = None;
    let mut erased_after = BTreeSet::new();
    for line in &lines {
        apply_line(&mut view, line, &none);
        let words: Vec<&str> = line.split(' ').collect();
        match words[0] {
            "backed-up" => at_backup = Some(view.clone()),
            "edited" | "deleted" if at_backup.is_some() => {
                erased_after.insert((words[1].parse().unwrap(), words[2].parse().unwrap()));
            }
            _ => {}
        }
    }
    let mut imported = at_backup.expect("the preparation made a backup");
    imported.retain(|k, _| !erased_after.contains(k));
    Prepared {
        dir,
        view,
        imported,
    }
}

// ------------------------------------------------------------ the trace

/// One completed system call: its name, arguments and return value as
/// strace printed them.
struct Call {
    name: String,
    args: Vec<String>,
    ret: String,
}

/// The calls in the order they returned; a call another thread interrupted
/// (`<unfinished ...>`) is joined to its end (`<... resumed>`).
fn parse_trace(text: &str) -> Vec<Call> {
    let mut unfinished: HashMap<&str, String> = HashMap::new();
    let mut calls = Vec::new();
    for line in text.lines() {
        let Some((pid, rest)) = line.split_once(' ') else {
            continue;
        };
        let rest = rest.trim_start();
        let whole = if let Some(head) = rest.strip_suffix(" <unfinished ...>") {
            unfinished.insert(pid, head.to_string());
            continue;
        } else if rest.starts_with("<... ") {
            let Some(head) = unfinished.remove(pid) else {
                continue;
            };
            let tail = rest.split_once("resumed>").map_or("", |(_, t)| t);
            format!("{head}{tail}")
        } else {
            rest.to_string()
        };
        if let Some(call) = parse_call(&whole) {
            calls.push(call);
        }
    }
    calls
}

fn parse_call(text: &str) -> Option<Call> {
    let open = text.find('(')?;
    // strace pads short calls: `unlink("…")        = 0`.
    let equals = text.rfind(" = ")?;
    let close = text[..equals].trim_end().strip_suffix(')')?.len();
    let name = &text[..open];
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    Some(Call {
        name: name.to_string(),
        args: split_args(&text[open + 1..close]),
        ret: text[equals + 3..].trim().to_string(),
    })
}

/// Splits strace's arguments at the commas outside brackets, strings and
/// `<path>` annotations (with `-xx`, strings and paths are all `\xHH`).
fn split_args(text: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                for (_, c) in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                }
            }
            '<' => {
                for (_, c) in chars.by_ref() {
                    if c == '>' {
                        break;
                    }
                }
            }
            '[' | '{' | '(' => depth += 1,
            ']' | '}' | ')' => depth -= 1,
            ',' if depth == 0 => {
                args.push(text[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    if !text[start..].trim().is_empty() {
        args.push(text[start..].trim().to_string());
    }
    args
}

/// The bytes of `\xHH\xHH…`.
fn unhex(text: &str) -> Vec<u8> {
    text.split("\\x")
        .filter(|h| !h.is_empty())
        .map(|h| u8::from_str_radix(&h[..2], 16).expect("hex byte"))
        .collect()
}

/// The bytes of a quoted string argument.
fn string_arg(arg: &str) -> Vec<u8> {
    let inner = arg
        .strip_prefix('"')
        .and_then(|a| a.strip_suffix('"'))
        .unwrap_or_else(|| panic!("a whole string (is -s large enough?): {arg:.80}"));
    unhex(inner)
}

/// Every `iov_base="…"` of a `writev`, in order.
fn iov_data(arg: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for part in arg.split("iov_base=\"").skip(1) {
        let end = part.find('"').expect("end of iov_base");
        out.extend(unhex(&part[..end]));
    }
    out
}

/// A number strace printed: decimal, `0x…`, or the first in `[…]`.
fn number(text: &str) -> Option<i64> {
    let t = text.trim().trim_start_matches('[');
    let end = t
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .unwrap_or(t.len());
    let t = &t[..end];
    match t.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => t.parse().ok(),
    }
}

/// A file descriptor argument (`3</path>`, `0x3`, `AT_FDCWD</cwd>`).
fn fd_arg(arg: &str) -> i64 {
    if arg.starts_with("AT_FDCWD") {
        return AT_FDCWD;
    }
    number(arg).unwrap_or_else(|| panic!("a file descriptor: {arg:.80}"))
}

/// The path strace annotated a descriptor with (`-y`).
fn fd_annotation(arg: &str) -> Option<String> {
    let start = arg.find('<')? + 1;
    let end = start + arg[start..].find('>')?;
    Some(String::from_utf8_lossy(&unhex(&arg[start..end])).into_owned())
}

const AT_FDCWD: i64 = -100;

// ------------------------------------------------------------ the replay

const BLOCK: usize = 4096;

/// A file's bytes, with a hash kept up to date block by block, so that a
/// state's content hash costs nothing per state.
#[derive(Clone, Default)]
struct Content {
    bytes: Vec<u8>,
    blocks: Vec<u64>,
    sum: u64,
}

fn fnv(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = seed ^ 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Content {
    fn of(bytes: &[u8]) -> Content {
        let mut c = Content::default();
        c.write(0, bytes);
        c
    }

    fn hash(&self) -> u64 {
        fnv(self.sum, &(self.bytes.len() as u64).to_be_bytes())
    }

    fn write(&mut self, at: usize, data: &[u8]) {
        let old = self.bytes.len();
        if at + data.len() > old {
            self.bytes.resize(at + data.len(), 0);
        }
        self.bytes[at..at + data.len()].copy_from_slice(data);
        self.rehash(at.min(old), at + data.len());
    }

    fn set_len(&mut self, len: usize) {
        let old = self.bytes.len();
        self.bytes.resize(len, 0);
        self.rehash(old.min(len), old.max(len));
    }

    /// Recomputes the blocks over the changed byte range.
    fn rehash(&mut self, from: usize, to: usize) {
        let count = self.bytes.len().div_ceil(BLOCK);
        while self.blocks.len() > count {
            let gone = self.blocks.pop().expect("a block");
            self.sum = self.sum.wrapping_sub(gone);
        }
        for b in from / BLOCK..to.div_ceil(BLOCK).min(count) {
            let end = ((b + 1) * BLOCK).min(self.bytes.len());
            let h = fnv(b as u64, &self.bytes[b * BLOCK..end]);
            if b < self.blocks.len() {
                self.sum = self.sum.wrapping_sub(self.blocks[b]);
                self.blocks[b] = h;
            } else {
                self.blocks.push(h);
            }
            self.sum = self.sum.wrapping_add(h);
        }
    }
}

/// A change to a file's bytes.
enum Data {
    Write(u64, Vec<u8>),
    SetLen(u64),
}

impl Data {
    fn apply(&self, to: &mut Vec<u8>) {
        match self {
            Data::Write(at, data) => {
                let at = *at as usize;
                if to.len() < at + data.len() {
                    to.resize(at + data.len(), 0);
                }
                to[at..at + data.len()].copy_from_slice(data);
            }
            Data::SetLen(len) => to.resize(*len as usize, 0),
        }
    }

    fn describe(&self) -> String {
        match self {
            Data::Write(at, data) => format!("{} bytes at {at}", data.len()),
            Data::SetLen(len) => format!("length set to {len}"),
        }
    }
}

/// A change to a folder's entries: a rename within it removes and adds at
/// once.
struct Entry {
    remove: Option<String>,
    add: Option<(String, usize)>,
    what: String,
}

impl Entry {
    fn apply(&self, to: &mut BTreeMap<String, usize>) {
        if let Some(name) = &self.remove {
            to.remove(name);
        }
        if let Some((name, inode)) = &self.add {
            to.insert(name.clone(), *inode);
        }
    }
}

/// A file or folder of the data directory, as the replay knows it.
#[derive(Default)]
struct Inode {
    dir: bool,
    /// Its path when last named, for the reports.
    name: String,
    /// Files: every write applied.
    now: Content,
    /// Files: the bytes at the last sync, and the writes since, each with
    /// the hash and length of the file after it.
    synced: Vec<u8>,
    synced_hash: u64,
    writes: Vec<(Data, u64, usize)>,
    /// Folders: every change applied; the entries at the last sync, and the
    /// changes since.
    entries: BTreeMap<String, usize>,
    durable: BTreeMap<String, usize>,
    changes: Vec<Entry>,
}

impl Inode {
    fn file(name: String, bytes: &[u8]) -> Inode {
        let now = Content::of(bytes);
        Inode {
            name,
            synced: bytes.to_vec(),
            synced_hash: now.hash(),
            now,
            ..Inode::default()
        }
    }

    fn folder(name: String) -> Inode {
        Inode {
            dir: true,
            name,
            ..Inode::default()
        }
    }

    fn sync(&mut self) {
        if self.dir {
            self.durable = self.entries.clone();
            self.changes.clear();
        } else {
            self.synced = self.now.bytes.clone();
            self.synced_hash = self.now.hash();
            self.writes.clear();
        }
    }

    fn change(&mut self, data: Data) {
        match &data {
            Data::Write(at, bytes) => self.now.write(*at as usize, bytes),
            Data::SetLen(len) => self.now.set_len(*len as usize),
        }
        self.writes
            .push((data, self.now.hash(), self.now.bytes.len()));
    }

    /// The hash and length of the file with its first `kept` unsynced writes.
    fn version(&self, kept: usize) -> (u64, usize) {
        match kept {
            0 => (self.synced_hash, self.synced.len()),
            k => (self.writes[k - 1].1, self.writes[k - 1].2),
        }
    }

    fn bytes(&self, kept: usize) -> Vec<u8> {
        let mut bytes = self.synced.clone();
        for (data, _, _) in &self.writes[..kept] {
            data.apply(&mut bytes);
        }
        bytes
    }
}

/// An open file description: shared by `dup`s, with its own offset.
struct Open {
    path: String,
    inode: Option<usize>,
    offset: u64,
    append: bool,
}

/// The data directory as the trace changes it.
struct Replay {
    root: String,
    inodes: Vec<Inode>,
    fds: HashMap<i64, Rc<RefCell<Open>>>,
    /// What the process wrote to stdout.
    stdout: Vec<u8>,
}

impl Replay {
    /// The replay of a directory as it is on the disk now (all synced).
    fn load(root: &Path) -> Replay {
        let mut replay = Replay {
            root: root.to_str().expect("utf-8 path").to_string(),
            inodes: vec![Inode::folder(String::new())],
            fds: HashMap::new(),
            stdout: Vec::new(),
        };
        replay.load_folder(0, root, "");
        replay
    }

    fn load_folder(&mut self, folder: usize, path: &Path, rel: &str) {
        let mut names: Vec<_> = std::fs::read_dir(path)
            .expect("read dir")
            .map(|e| e.expect("entry"))
            .collect();
        names.sort_by_key(std::fs::DirEntry::file_name);
        for entry in names {
            let name = entry.file_name().to_string_lossy().into_owned();
            let child_rel = format!("{rel}{name}");
            let kind = entry.file_type().expect("file type");
            assert!(!kind.is_symlink(), "a link in the prepared directory");
            let inode = self.inodes.len();
            if kind.is_dir() {
                self.inodes.push(Inode::folder(child_rel.clone()));
                self.load_folder(inode, &entry.path(), &format!("{child_rel}/"));
            } else {
                let bytes = std::fs::read(entry.path()).expect("read");
                self.inodes.push(Inode::file(child_rel, &bytes));
            }
            self.inodes[folder].entries.insert(name, inode);
        }
        self.inodes[folder].sync();
    }

    /// The components of `path` below the data directory, if it is in it.
    fn below_root(&self, path: &str) -> Option<Vec<String>> {
        if path == self.root {
            return Some(Vec::new());
        }
        let rest = path.strip_prefix(&self.root)?.strip_prefix('/')?;
        Some(
            rest.split('/')
                .filter(|c| !c.is_empty() && *c != ".")
                .map(str::to_string)
                .collect(),
        )
    }

    fn lookup(&self, parts: &[String]) -> Option<usize> {
        let mut at = 0;
        for part in parts {
            at = *self.inodes[at].entries.get(part)?;
        }
        Some(at)
    }

    /// The folder holding `path` and the name in it, if both are known.
    fn parent(&self, path: &str) -> Option<(usize, String)> {
        let parts = self.below_root(path)?;
        let (name, up) = parts.split_last()?;
        Some((self.lookup(up)?, name.clone()))
    }

    /// `path` made absolute against `dirfd` (or the working directory).
    fn absolute(&self, dirfd: Option<&str>, path: &str) -> String {
        let path = String::from_utf8_lossy(&string_arg(path)).into_owned();
        if path.starts_with('/') {
            return path;
        }
        let base = match dirfd {
            Some(arg) if fd_arg(arg) != AT_FDCWD => self.fds[&fd_arg(arg)].borrow().path.clone(),
            Some(arg) => fd_annotation(arg).expect("the working directory"),
            None => panic!("a relative path without a directory: {path}"),
        };
        format!("{base}/{path}")
    }

    fn rel(&self, path: &str) -> String {
        self.below_root(path)
            .map_or_else(|| path.to_string(), |p| p.join("/"))
    }

    /// Applies one call; returns what it changed, if anything (a crash
    /// point follows it).
    fn apply(&mut self, call: &Call) -> Option<String> {
        if call.ret.starts_with('-') || call.ret.starts_with('?') {
            return None;
        }
        let ret = number(&call.ret);
        let a = &call.args;
        match call.name.as_str() {
            "openat" => self.open(&self.absolute(Some(&a[0]), &a[1]), &a[2], ret?),
            "open" => self.open(&self.absolute(None, &a[0]), &a[1], ret?),
            "creat" => self.open(&self.absolute(None, &a[0]), "O_CREAT|O_TRUNC", ret?),
            "close" => {
                self.fds.remove(&fd_arg(&a[0]));
                None
            }
            "dup" | "dup2" | "dup3" => self.dup(&a[0], ret?),
            "fcntl" if a[1].starts_with("F_DUPFD") => self.dup(&a[0], ret?),
            "lseek" => {
                self.with_fd(&a[0], |o| o.offset = ret.unwrap_or(0) as u64);
                None
            }
            "read" => {
                self.with_fd(&a[0], |o| o.offset += ret.unwrap_or(0) as u64);
                None
            }
            "write" => self.write(&a[0], None, string_arg(&a[1]), ret?),
            "pwrite64" => self.write(&a[0], number(&a[3]), string_arg(&a[1]), ret?),
            "writev" => self.write(&a[0], None, iov_data(&a[1]), ret?),
            "pwritev" | "pwritev2" => self.write(&a[0], number(&a[3]), iov_data(&a[1]), ret?),
            "ftruncate" => self.set_len_fd(&a[0], number(&a[1])? as u64),
            "truncate" => {
                let inode = self.lookup(&self.below_root(&self.absolute(None, &a[0]))?)?;
                self.change(inode, Data::SetLen(number(&a[1])? as u64))
            }
            "fallocate" => self.fallocate(a),
            "fsync" | "fdatasync" => self.sync(&call.name, &a[0]),
            "syncfs" | "sync" => {
                self.inodes.iter_mut().for_each(Inode::sync);
                Some(call.name.clone())
            }
            "sync_file_range" => None,
            "rename" => self.rename(&self.absolute(None, &a[0]), &self.absolute(None, &a[1]), ""),
            "renameat" | "renameat2" => self.rename(
                &self.absolute(Some(&a[0]), &a[1]),
                &self.absolute(Some(&a[2]), &a[3]),
                a.get(4).map_or("", String::as_str),
            ),
            "unlink" | "rmdir" => self.remove(&self.absolute(None, &a[0])),
            "unlinkat" => self.remove(&self.absolute(Some(&a[0]), &a[1])),
            "mkdir" => self.mkdir(&self.absolute(None, &a[0])),
            "mkdirat" => self.mkdir(&self.absolute(Some(&a[0]), &a[1])),
            "copy_file_range" => self.copy(&a[0], &a[1], &a[2], &a[3], ret?),
            "sendfile" => self.copy(&a[1], &a[2], &a[0], "NULL", ret?),
            "link" | "linkat" | "symlink" | "symlinkat" => {
                let target = a.iter().rev().find(|x| x.starts_with('"')).expect("a path");
                let dirfd = (call.name.ends_with("at")).then(|| a[a.len() - 2].as_str());
                let path = self.absolute(dirfd.filter(|d| !d.starts_with('"')), target);
                assert!(
                    self.below_root(&path).is_none(),
                    "{} in the data directory is not modelled: {path}",
                    call.name
                );
                None
            }
            _ => None,
        }
    }

    fn with_fd(&mut self, arg: &str, f: impl FnOnce(&mut Open)) {
        if let Some(open) = self.fds.get(&fd_arg(arg)) {
            f(&mut open.borrow_mut());
        }
    }

    fn dup(&mut self, old: &str, new: i64) -> Option<String> {
        if let Some(open) = self.fds.get(&fd_arg(old)).cloned() {
            self.fds.insert(new, open);
        }
        None
    }

    fn open(&mut self, path: &str, flags: &str, fd: i64) -> Option<String> {
        let parts = self.below_root(path);
        let mut inode = parts.as_ref().and_then(|p| self.lookup(p));
        let mut changed = None;
        if let Some(parts) = &parts
            && inode.is_none()
            && flags.contains("O_CREAT")
        {
            let (folder, name) = self.parent(path).expect("the folder of a new file");
            let new = self.inodes.len();
            self.inodes.push(Inode::file(parts.join("/"), &[]));
            self.add_entry(
                folder,
                name.clone(),
                new,
                format!("create {}", parts.join("/")),
            );
            inode = Some(new);
            changed = Some(format!("create {}", parts.join("/")));
        } else if let Some(i) = inode
            && flags.contains("O_TRUNC")
            && !self.inodes[i].dir
        {
            changed = self.change(i, Data::SetLen(0));
        }
        let open = Open {
            path: path.to_string(),
            inode,
            offset: 0,
            append: flags.contains("O_APPEND"),
        };
        self.fds.insert(fd, Rc::new(RefCell::new(open)));
        changed
    }

    fn add_entry(&mut self, folder: usize, name: String, inode: usize, what: String) {
        let entry = Entry {
            remove: None,
            add: Some((name, inode)),
            what,
        };
        entry.apply(&mut self.inodes[folder].entries);
        self.inodes[folder].changes.push(entry);
    }

    fn change(&mut self, inode: usize, data: Data) -> Option<String> {
        let what = format!("{} {}", self.inodes[inode].name, data.describe());
        self.inodes[inode].change(data);
        Some(what)
    }

    fn write(&mut self, fd: &str, at: Option<i64>, mut data: Vec<u8>, ret: i64) -> Option<String> {
        data.truncate(ret as usize);
        let fd = fd_arg(fd);
        let Some(open) = self.fds.get(&fd).cloned() else {
            if fd == 1 {
                self.stdout.extend_from_slice(&data);
                let text = String::from_utf8_lossy(&data);
                return Some(format!("stdout: {:.60}", text.trim_end()));
            }
            return None;
        };
        let mut open = open.borrow_mut();
        let offset = match at {
            Some(at) => at as u64,
            None => {
                let inode = open.inode.map(|i| self.inodes[i].now.bytes.len() as u64);
                let offset = match (open.append, inode) {
                    (true, Some(len)) => len,
                    _ => open.offset,
                };
                open.offset = offset + data.len() as u64;
                offset
            }
        };
        let inode = open.inode?;
        drop(open);
        self.change(inode, Data::Write(offset, data))
    }

    fn set_len_fd(&mut self, fd: &str, len: u64) -> Option<String> {
        let inode = self.fds.get(&fd_arg(fd))?.borrow().inode?;
        self.change(inode, Data::SetLen(len))
    }

    fn fallocate(&mut self, a: &[String]) -> Option<String> {
        let inode = self.fds.get(&fd_arg(&a[0]))?.borrow().inode?;
        assert!(
            a[1] == "0" || a[1].contains("KEEP_SIZE") && !a[1].contains("PUNCH"),
            "fallocate mode {} is not modelled",
            a[1]
        );
        let end = (number(&a[2])? + number(&a[3])?) as u64;
        let len = self.inodes[inode].now.bytes.len() as u64;
        (a[1] == "0" && end > len).then(|| self.change(inode, Data::SetLen(end)))?
    }

    fn sync(&mut self, how: &str, fd: &str) -> Option<String> {
        let inode = self.fds.get(&fd_arg(fd))?.borrow().inode?;
        self.inodes[inode].sync();
        Some(format!("{how} {}", self.inodes[inode].name))
    }

    fn rename(&mut self, from: &str, to: &str, flags: &str) -> Option<String> {
        assert!(
            !flags.contains("EXCHANGE"),
            "RENAME_EXCHANGE is not modelled"
        );
        let (Some((src, old)), Some((dst, new))) = (self.parent(from), self.parent(to)) else {
            assert!(
                self.below_root(from).is_none() && self.below_root(to).is_none(),
                "a rename into or out of the data directory is not modelled: {from} → {to}"
            );
            return None;
        };
        let inode = *self.inodes[src].entries.get(&old)?;
        let what = format!("rename {} → {}", self.rel(from), self.rel(to));
        if src == dst {
            let entry = Entry {
                remove: Some(old),
                add: Some((new, inode)),
                what: what.clone(),
            };
            entry.apply(&mut self.inodes[src].entries);
            self.inodes[src].changes.push(entry);
        } else {
            // Across folders each side is durable with its own folder.
            let entry = Entry {
                remove: Some(old),
                add: None,
                what: what.clone(),
            };
            entry.apply(&mut self.inodes[src].entries);
            self.inodes[src].changes.push(entry);
            self.add_entry(dst, new, inode, what.clone());
        }
        self.inodes[inode].name = self.rel(to);
        Some(what)
    }

    fn remove(&mut self, path: &str) -> Option<String> {
        let (folder, name) = self.parent(path)?;
        let what = format!("unlink {}", self.rel(path));
        let entry = Entry {
            remove: Some(name),
            add: None,
            what: what.clone(),
        };
        entry.apply(&mut self.inodes[folder].entries);
        self.inodes[folder].changes.push(entry);
        Some(what)
    }

    fn mkdir(&mut self, path: &str) -> Option<String> {
        let (folder, name) = self.parent(path)?;
        let new = self.inodes.len();
        self.inodes.push(Inode::folder(self.rel(path)));
        let what = format!("mkdir {}", self.rel(path));
        self.add_entry(folder, name, new, what.clone());
        Some(what)
    }

    /// `copy_file_range`/`sendfile`: the bytes come from the source as it is
    /// now (the page cache), at its offset.
    fn copy(&mut self, src: &str, src_at: &str, dst: &str, dst_at: &str, n: i64) -> Option<String> {
        let source = self.fds.get(&fd_arg(src))?.clone();
        let at = match number(src_at) {
            Some(at) if src_at != "NULL" => at as u64,
            _ => {
                let mut s = source.borrow_mut();
                s.offset += n as u64;
                s.offset - n as u64
            }
        };
        let s = source.borrow();
        let bytes = match s.inode {
            Some(i) => self.inodes[i].now.bytes.clone(),
            None => std::fs::read(&s.path).expect("the source outside the data directory"),
        };
        let data = bytes[at as usize..at as usize + n as usize].to_vec();
        drop(s);
        let at = (dst_at != "NULL").then(|| number(dst_at)).flatten();
        self.write(dst, at, data, n)
    }
}

// ------------------------------------------------------- the crash states

/// A file or folder with something unsynced at a crash point.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Unit {
    inode: usize,
    /// How many unsynced writes or entry changes it has.
    pending: usize,
    /// How many ways it can be kept: a prefix of its changes (0 to
    /// `pending`), and for a folder with two or more, also all of them but
    /// one (`pending + 1 + j` drops change `j` alone).
    options: usize,
}

impl Unit {
    /// Which of its changes a choice keeps.
    fn kept(&self, choice: usize) -> Vec<usize> {
        if choice <= self.pending {
            (0..choice).collect()
        } else {
            let dropped = choice - self.pending - 1;
            (0..self.pending).filter(|j| *j != dropped).collect()
        }
    }
}

/// One state: for each unit, how many of its unsynced changes it keeps.
type Choice = Vec<usize>;

/// The files and folders of one state, by path: a file is (inode, writes
/// kept).
type Tree = BTreeMap<String, Option<(usize, usize)>>;

/// A small deterministic generator (xorshift), so that runs can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

impl Replay {
    fn units(&self) -> Vec<Unit> {
        self.inodes
            .iter()
            .enumerate()
            .map(|(inode, i)| {
                let pending = if i.dir {
                    i.changes.len()
                } else {
                    i.writes.len()
                };
                let but_one = if i.dir && pending >= 2 { pending } else { 0 };
                Unit {
                    inode,
                    pending,
                    options: pending + 1 + but_one,
                }
            })
            .filter(|u| u.pending > 0)
            .collect()
    }

    /// The state with `choice` kept of each unit's unsynced changes.
    fn tree(&self, units: &[Unit], choice: &[usize]) -> Tree {
        let kept: HashMap<usize, Vec<usize>> = units
            .iter()
            .zip(choice)
            .map(|(u, k)| (u.inode, u.kept(*k)))
            .collect();
        let mut tree = Tree::new();
        self.walk(0, "", &kept, &mut tree);
        tree
    }

    /// Adds to `tree` what `folder` holds when `kept` names, for each file
    /// or folder, which of its unsynced changes it keeps (none if absent).
    fn walk(
        &self,
        folder: usize,
        prefix: &str,
        kept: &HashMap<usize, Vec<usize>>,
        tree: &mut Tree,
    ) {
        let node = &self.inodes[folder];
        let mut entries = node.durable.clone();
        for j in kept.get(&folder).into_iter().flatten() {
            node.changes[*j].apply(&mut entries);
        }
        for (name, inode) in entries {
            let path = format!("{prefix}{name}");
            if self.inodes[inode].dir {
                tree.insert(path.clone(), None);
                self.walk(inode, &format!("{path}/"), kept, tree);
            } else {
                let k = kept.get(&inode).map_or(0, Vec::len);
                tree.insert(path, Some((inode, k)));
            }
        }
    }

    /// A state's content hash.
    fn hash(&self, tree: &Tree) -> u64 {
        let mut h = 0u64;
        for (path, file) in tree {
            let (content, len) = file.map_or((1, 0), |(i, k)| self.inodes[i].version(k));
            h = fnv(h, path.as_bytes());
            h = fnv(h, &content.to_be_bytes());
            h = fnv(h, &(len as u64).to_be_bytes());
        }
        h
    }

    /// What a refusal must leave as it was: everything but the lock file
    /// and the leftovers of interrupted work (half-written `*.tmp` files,
    /// the private copies in `scratch/`), which are not the database and
    /// which any start that has proven its key removes.
    fn listing(&self, tree: &Tree) -> Listing {
        tree.iter()
            .filter(|(path, _)| {
                *path != "lock"
                    && !path.ends_with(".tmp")
                    && *path != "scratch"
                    && !path.starts_with("scratch/")
            })
            .map(|(path, file)| (path.clone(), file.map(|(i, k)| self.inodes[i].version(k))))
            .collect()
    }

    fn materialize(&self, tree: &Tree, at: &Path) {
        std::fs::create_dir_all(at).expect("state dir");
        for (path, file) in tree {
            match file {
                None => std::fs::create_dir_all(at.join(path)).expect("folder"),
                Some((inode, kept)) => {
                    std::fs::write(at.join(path), self.inodes[*inode].bytes(*kept)).expect("file")
                }
            }
        }
    }

    /// In words: what each unit kept that is not all its unsynced changes.
    fn describe(&self, units: &[Unit], choice: &[usize]) -> String {
        let mut parts = Vec::new();
        for (u, k) in units.iter().zip(choice) {
            let node = &self.inodes[u.inode];
            let kept = u.kept(*k);
            if kept.len() == u.pending {
                continue;
            }
            let dropped: Vec<String> = (0..u.pending)
                .filter(|j| !kept.contains(j))
                .map(|j| {
                    if node.dir {
                        node.changes[j].what.clone()
                    } else {
                        node.writes[j].0.describe()
                    }
                })
                .collect();
            parts.push(format!(
                "{} kept {} of {} unsynced {} (dropped: {})",
                if node.dir && node.name.is_empty() {
                    "the data directory".to_string()
                } else {
                    node.name.clone()
                },
                kept.len(),
                u.pending,
                if node.dir { "entry changes" } else { "writes" },
                dropped.join("; ")
            ));
        }
        if parts.is_empty() {
            "every unsynced write kept (what a killed process leaves)".to_string()
        } else {
            format!("{}; everything else unsynced kept", parts.join("; "))
        }
    }
}

/// The choices built at one crash point (see the model at the top).
fn choices(units: &[Unit], rng: &mut Rng) -> Vec<Choice> {
    let all: Choice = units.iter().map(|u| u.pending).collect();
    let none: Choice = vec![0; units.len()];
    let mut out = vec![all.clone(), none.clone()];
    for (i, u) in units.iter().enumerate() {
        for k in 0..u.options {
            for base in [&all, &none] {
                let mut c = base.clone();
                c[i] = k;
                out.push(c);
            }
        }
    }
    let product: usize = units.iter().map(|u| u.options).product();
    if units.len() <= FULL_PRODUCT_UNITS && product <= PRODUCT_CAP {
        for mut n in 0..product {
            let mut c = Choice::new();
            for u in units {
                c.push(n % u.options);
                n /= u.options;
            }
            out.push(c);
        }
    } else {
        let extra = if units.len() <= FULL_PRODUCT_UNITS {
            PRODUCT_CAP
        } else {
            RANDOM_PER_POINT
        };
        for _ in 0..extra {
            out.push(units.iter().map(|u| rng.below(u.options)).collect());
        }
    }
    let mut seen = HashSet::new();
    out.retain(|c| seen.insert(c.clone()));
    out
}

/// A state to open, found at a crash point.
struct Candidate {
    point: usize,
    /// Lines printed before the crash point.
    confirmed: usize,
    choice: Choice,
    /// Lower is checked first when an operation has more states than the
    /// budget: 0 = everything or nothing kept, 1 = one unit varied, 2 = more.
    rank: u8,
}

/// What the first replay of a trace found.
struct Replayed {
    /// Every distinct state (by content and lines confirmed).
    states: Vec<Candidate>,
    /// How many states were built before duplicates were dropped.
    built: usize,
    /// Each change the trace made, in order (the crash points).
    changes: Vec<String>,
}

/// Every distinct state of a trace.
fn candidates(initial: &Path, root: &str, calls: &[Call]) -> Replayed {
    let mut replay = Replay::load(initial);
    replay.root = root.to_string();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut built = 0;
    let mut point = 0;
    let mut visit = |replay: &Replay, point: usize, rng: &mut Rng| {
        let units = replay.units();
        let confirmed = replay.stdout.iter().filter(|b| **b == b'\n').count();
        for choice in choices(&units, rng) {
            built += 1;
            let tree = replay.tree(&units, &choice);
            if !seen.insert((replay.hash(&tree), confirmed)) {
                continue;
            }
            let from_all = units.iter().zip(&choice).filter(|(u, k)| u.pending != **k);
            let from_none = choice.iter().filter(|k| **k != 0);
            let rank = match (from_all.count(), from_none.count()) {
                (0, _) | (_, 0) => 0,
                (1, _) | (_, 1) => 1,
                _ => 2,
            };
            out.push(Candidate {
                point,
                confirmed,
                choice,
                rank,
            });
        }
    };
    let mut changes = Vec::new();
    visit(&replay, 0, &mut rng);
    for call in calls {
        if let Some(what) = replay.apply(call) {
            changes.push(what);
            point += 1;
            visit(&replay, point, &mut rng);
        }
    }
    // With everything kept, the replay is what the process left.
    let units = replay.units();
    let all: Choice = units.iter().map(|u| u.pending).collect();
    let replayed = replay.listing(&replay.tree(&units, &all));
    let run = disk_listing(Path::new(root));
    assert!(
        replayed == run,
        "the replay of the trace differs from the directory the process left: {}",
        changed_paths(&run, &replayed)
    );
    Replayed {
        states: out,
        built,
        changes,
    }
}

/// Keeps at most `budget` candidates: by rank, then a fixed-seed sample.
fn sample(mut all: Vec<Candidate>, budget: usize) -> Vec<Candidate> {
    if all.len() <= budget {
        return all;
    }
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut keyed: Vec<(u8, u64, Candidate)> =
        all.drain(..).map(|c| (c.rank, rng.next(), c)).collect();
    keyed.sort_by_key(|(rank, r, _)| (*rank, *r));
    keyed.truncate(budget);
    let mut kept: Vec<Candidate> = keyed.into_iter().map(|(_, _, c)| c).collect();
    kept.sort_by_key(|c| c.point);
    kept
}

// ------------------------------------------------------------ the checks

/// What opening a state found.
enum Found {
    Opened(View),
    Refused { kind: String, words: String },
}

/// Opens a state with the store and reads every member's reflections.
fn open_store(dir: &Path) -> Found {
    let key = SecretKey::from_hex(KEY_HEX).expect("key");
    match Store::open(dir, Some(key)) {
        Ok(store) => {
            let mut view = View::new();
            for member in MEMBERS {
                let readable = store.reflections_of(member).expect("read");
                for r in readable.items {
                    view.insert((member, r.id), (r.text, r.shared.len()));
                }
                for id in readable.unreadable {
                    view.insert((member, id), ("<unreadable>".into(), 0));
                }
                let log = store.log_of(member).expect("read the log");
                for e in log.items {
                    view.insert((member + LOG, e.id), (e.took_away, 0));
                }
                for id in log.unreadable {
                    view.insert((member + LOG, id), ("<unreadable>".into(), 0));
                }
                // Held forms are read at the moment they were held: the
                // child's clock, within the day they are kept.
                match store.held_form(member, HeldKind::Reflection, chrono::Utc::now()) {
                    Ok(Some(held)) => {
                        view.insert((member + HELD, 0), (held.typed.text.unwrap_or_default(), 0));
                    }
                    Ok(None) => {}
                    Err(_) => {
                        view.insert((member + HELD, 0), ("<unreadable>".into(), 0));
                    }
                }
            }
            Found::Opened(view)
        }
        Err(e) => Found::Refused {
            kind: format!("{e:?}")
                .split(['{', '(', ' '])
                .next()
                .unwrap_or("")
                .to_string(),
            words: e.to_string(),
        },
    }
}

/// Opens the negative control's raw sled database.
fn open_raw(dir: &Path) -> Found {
    let opened = sled::Config::new()
        .path(dir.join("raw"))
        .flush_every_ms(None)
        .open()
        .and_then(|db| {
            let mut view = View::new();
            for entry in db.open_tree("records")?.iter() {
                let (k, v) = entry?;
                let id = u64::from_be_bytes(k.as_ref().try_into().unwrap_or_default());
                view.insert(
                    (RAW_MEMBER, id),
                    (String::from_utf8_lossy(&v).into_owned(), 0),
                );
            }
            Ok(view)
        });
    match opened {
        Ok(view) => Found::Opened(view),
        Err(e) => Found::Refused {
            kind: "sled".into(),
            words: e.to_string(),
        },
    }
}

/// A refusal passes if it says what to do.
fn says_what_to_do(words: &str) -> bool {
    words.contains("companion db restore")
        || words.contains("companion db salvage")
        || words.contains("companion db import` again")
}

/// The difference between what a state holds and what members were told.
fn difference(found: &View, told: &View) -> String {
    let mut parts = Vec::new();
    let short = |t: &str| format!("{:?}", t.chars().take(40).collect::<String>());
    for (key, (text, shares)) in told {
        match found.get(key) {
            None => parts.push(format!("lost {}#{} {}", key.0, key.1, short(text))),
            Some((t, _)) if t != text => parts.push(format!(
                "{}#{} reads {} instead of {}",
                key.0,
                key.1,
                short(t),
                short(text)
            )),
            Some((_, s)) if s != shares => parts.push(format!(
                "{}#{} has {s} shared posts instead of {shares}",
                key.0, key.1
            )),
            Some(_) => {}
        }
    }
    for (key, (text, _)) in found {
        if !told.contains_key(key) {
            parts.push(format!(
                "{}#{} is readable though it was erased or never confirmed: {}",
                key.0,
                key.1,
                short(text)
            ));
        }
    }
    parts.join("; ")
}

/// One state that lost or brought back something, or refused badly.
struct Failure {
    point: usize,
    after: String,
    kept: String,
    what: String,
}

#[derive(Default)]
struct Tally {
    built: usize,
    distinct: usize,
    checked: AtomicUsize,
    /// Opened and holding what members were told.
    fine: AtomicUsize,
    /// Refused in words that say what to do, changing nothing.
    refused: AtomicUsize,
    /// Each reason for refusing: how often, and one state that had it.
    refusals: Mutex<BTreeMap<String, (usize, String)>>,
    /// The changes the trace made (its crash points).
    changes: Vec<String>,
    /// Refused states that the advised restore brought back to what
    /// members were told, and those it did not (reported, not failed).
    remedied: AtomicUsize,
    advice_lost: Mutex<Vec<Failure>>,
    failures: Mutex<Vec<Failure>>,
}

/// A state built and waiting to be opened.
struct Job {
    dir: PathBuf,
    point: usize,
    after: String,
    kept: String,
    confirmed: usize,
    /// Its files' content hashes, to prove a refusal changed nothing.
    files: Listing,
}

impl Job {
    fn failure(&self, what: String) -> Failure {
        Failure {
            point: self.point,
            after: self.after.clone(),
            kept: self.kept.clone(),
            what,
        }
    }
}

/// Each path of a state (but `lock`, an empty file only ever locked) and its
/// content's hash and length (folders: none).
type Listing = BTreeMap<String, Option<(u64, usize)>>;

/// The listing of a directory on the disk.
fn disk_listing(dir: &Path) -> Listing {
    let replay = Replay::load(dir);
    let mut tree = Tree::new();
    replay.walk(0, "", &HashMap::new(), &mut tree);
    replay.listing(&tree)
}

/// The paths whose content differs between two listings, in words.
fn changed_paths(before: &Listing, after: &Listing) -> String {
    let mut out = Vec::new();
    for (path, was) in before {
        match after.get(path) {
            None => out.push(format!("{path} removed")),
            Some(now) if now != was => out.push(format!("{path} changed")),
            Some(_) => {}
        }
    }
    for path in after.keys().filter(|p| !before.contains_key(*p)) {
        out.push(format!("{path} added"));
    }
    out.join(", ")
}

fn judge(case: &Case, job: &Job, found: Found, models: &[View], tally: &Tally) {
    let verdict = match found {
        Found::Opened(view) => judge_view(&view, models, job.confirmed).map(|()| &tally.fine),
        Found::Refused { kind, words } => {
            let words = words.replace(&job.dir.display().to_string(), "DIR");
            judge_refusal(job, &kind, &words, tally).map(|()| {
                follow_advice(case, job, models, tally);
                &tally.refused
            })
        }
    };
    match verdict {
        Ok(count) => {
            count.fetch_add(1, Ordering::SeqCst);
        }
        Err(what) => tally.failures.lock().unwrap().push(job.failure(what)),
    }
}

/// Whether a state that opened holds what members were told (the change
/// in flight may be there, whole, or not at all).
fn judge_view(view: &View, models: &[View], confirmed: usize) -> Result<(), String> {
    let told = &models[confirmed];
    let in_flight = models.get(confirmed + 1);
    if view == told || in_flight == Some(view) {
        return Ok(());
    }
    let mut what = difference(view, told);
    if let Some(next) = in_flight {
        what = format!(
            "{what} (or, with the change in flight: {})",
            difference(view, next)
        );
    }
    Err(what)
}

/// A refusal passes if it says what to do and changed nothing.
fn judge_refusal(job: &Job, kind: &str, words: &str, tally: &Tally) -> Result<(), String> {
    let gist = format!("{kind}: {}", refusal_gist(words));
    let example = || {
        format!(
            "e.g. crash point {} (after {}), {}",
            job.point, job.after, job.kept
        )
    };
    tally
        .refusals
        .lock()
        .unwrap()
        .entry(gist.clone())
        .or_insert_with(|| (0, example()))
        .0 += 1;
    let changed = changed_paths(&job.files, &disk_listing(&job.dir));
    match (says_what_to_do(words), changed.is_empty()) {
        (true, true) => Ok(()),
        (false, true) => Err(format!("refused without saying what to do: {words}")),
        (_, false) => Err(format!(
            "refused ({gist}) but changed what it refused to open; changed: {changed}"
        )),
    }
}

/// After a refusal, does what the refusal advises (`companion db restore`)
/// and notes, apart from the failures, whether that gets back what members
/// were told.
fn follow_advice(case: &Case, job: &Job, models: &[View], tally: &Tally) {
    let Some(remedy) = case.remedy else {
        return;
    };
    // On a copy, so that the state stays as it was to look at.
    let copy = job.dir.with_extension("advice");
    let _ = std::fs::remove_dir_all(&copy);
    copy_tree(&job.dir, &copy);
    let outcome = match remedy(case, &copy) {
        Found::Opened(view) => judge_view(&view, models, job.confirmed),
        Found::Refused { words, .. } => Err(format!(
            "the advised remedy failed: {}",
            words.replace(&copy.display().to_string(), "DIR")
        )),
    };
    let _ = std::fs::remove_dir_all(&copy);
    match outcome {
        Ok(()) => {
            tally.remedied.fetch_add(1, Ordering::SeqCst);
        }
        Err(what) => tally
            .advice_lost
            .lock()
            .unwrap()
            .push(job.failure(format!("after the advised remedy: {what}"))),
    }
}

/// What a refusal advises, done: `companion db restore`, then the store
/// opened and read.
fn restore_then_open(_: &Case, dir: &Path) -> Found {
    let key = SecretKey::from_hex(KEY_HEX).expect("key");
    match practice_companion::store::restore(dir, Some(key), None, false) {
        Ok(_) => open_store(dir),
        Err(e) => Found::Refused {
            kind: "restore".into(),
            words: e.to_string(),
        },
    }
}

/// What a refusal of an import cut short advises, done: the same import
/// run again (from the case's backup and erasure record), then the store
/// opened and read.
fn import_again_then_open(case: &Case, dir: &Path) -> Found {
    let key = SecretKey::from_hex(KEY_HEX).expect("key");
    let imported = practice_companion::store::Store::import_from(
        &case.extra[0],
        dir,
        Some(key),
        Some(&case.extra[1]),
        false,
    )
    .and_then(|(store, _)| store.close(chrono::Utc::now()));
    match imported {
        Ok(()) => open_store(dir),
        Err(e) => Found::Refused {
            kind: "import again".into(),
            words: e.to_string(),
        },
    }
}

/// The reason of a refusal without the directory's path.
fn refusal_gist(words: &str) -> String {
    let gist = words
        .split_once(" is damaged: ")
        .map_or(words, |(_, w)| w)
        .split(". ")
        .next()
        .unwrap_or(words);
    gist.chars().take(110).collect()
}

// ------------------------------------------------------------ one operation

/// One operation explored: a label for the reports, the child's operation
/// and arguments after DIR, the directory it starts from and what members
/// could read there, and how a state is opened.
struct Case<'a> {
    label: &'a str,
    op: &'a str,
    extra: Vec<PathBuf>,
    initial: PathBuf,
    start: View,
    imported: View,
    open: fn(&Path) -> Found,
    /// What a refusal advises, done, then the state opened.
    remedy: Option<fn(&Case, &Path) -> Found>,
}

/// Runs the child under strace on a copy of `case.initial`, then builds and
/// opens the crash states of its trace.
fn explore(case: &Case, work: &Path) -> Tally {
    let root = work.join(case.label);
    let (run, lines) = run_traced(case, &root);
    let trace = root.join("trace");
    let calls = parse_trace(&std::fs::read_to_string(&trace).expect("trace"));
    assert_eq!(
        replay_markers(&calls),
        lines.len(),
        "{}: every confirmation line is in the trace",
        case.label
    );
    let models = models(&case.start, &lines, &case.imported);
    let root_str = run.to_str().expect("utf-8").to_string();
    let found = candidates(&case.initial, &root_str, &calls);
    let tally = Tally {
        built: found.built,
        distinct: found.states.len(),
        changes: found.changes,
        ..Tally::default()
    };
    let chosen = sample(found.states, STATES_PER_OP);
    let trace = Trace {
        root: &root_str,
        calls: &calls,
        models: &models,
    };
    check_all(case, &trace, &chosen, &root, &tally);
    if std::env::var_os("CRASH_STATES_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&root);
    }
    tally
}

/// Runs the child under strace on a fresh copy of `case.initial` in
/// `root/data`; returns the directory and the lines printed.
fn run_traced(case: &Case, root: &Path) -> (PathBuf, Vec<String>) {
    let run = root.join("data");
    let _ = std::fs::remove_dir_all(&run);
    copy_tree(&case.initial, &run);
    let run = run.canonicalize().expect("canonical");
    let mut args: Vec<&Path> = vec![Path::new(case.op), &run];
    args.extend(case.extra.iter().map(PathBuf::as_path));
    match run_child(&args, Some(&root.join("trace"))) {
        Ok(lines) => (run, lines),
        Err(e) => panic!("{e}"),
    }
}

/// A replayed trace and what members were told along it.
struct Trace<'a> {
    root: &'a str,
    calls: &'a [Call],
    models: &'a [View],
}

/// Builds each chosen state while two threads open them.
fn check_all(case: &Case, trace: &Trace, chosen: &[Candidate], work: &Path, tally: &Tally) {
    let (send, receive) = std::sync::mpsc::sync_channel::<Job>(4);
    let receive = Mutex::new(receive);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while let Ok(job) = receive.lock().unwrap().recv() {
                    check_one(case, &job, trace.models, tally);
                }
            });
        }
        build_states(case, trace, chosen, work, &send);
        drop(send);
    });
}

/// Replays the trace again, materializing each chosen state at its crash
/// point.
fn build_states(
    case: &Case,
    trace: &Trace,
    chosen: &[Candidate],
    work: &Path,
    send: &std::sync::mpsc::SyncSender<Job>,
) {
    let mut replay = Replay::load(&case.initial);
    replay.root = trace.root.to_string();
    let mut point = 0;
    let mut after = "the start".to_string();
    let mut calls = trace.calls.iter();
    for (n, candidate) in chosen.iter().enumerate() {
        while point < candidate.point {
            let call = calls.next().expect("the crash point is in the trace");
            if let Some(what) = replay.apply(call) {
                point += 1;
                after = what;
            }
        }
        let units = replay.units();
        let tree = replay.tree(&units, &candidate.choice);
        let dir = work.join(format!("state-{n}"));
        replay.materialize(&tree, &dir);
        let job = Job {
            dir,
            point,
            after: after.clone(),
            kept: replay.describe(&units, &candidate.choice),
            confirmed: candidate.confirmed,
            files: replay.listing(&tree),
        };
        send.send(job).expect("a checker runs");
    }
}

/// Opens a state; a panic is a refusal that says nothing.
fn open_caught(case: &Case, dir: &Path) -> Found {
    std::panic::catch_unwind(|| (case.open)(dir)).unwrap_or_else(|_| Found::Refused {
        kind: "panic".into(),
        words: "opening the state panicked".into(),
    })
}

/// Opens one state, judges it, and removes it (unless `CRASH_STATES_KEEP`
/// is set, to look at them).
fn check_one(case: &Case, job: &Job, models: &[View], tally: &Tally) {
    let found = open_caught(case, &job.dir);
    judge(case, job, found, models, tally);
    tally.checked.fetch_add(1, Ordering::SeqCst);
    if std::env::var_os("CRASH_STATES_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&job.dir);
    }
}

/// How many lines the traced process wrote to stdout.
fn replay_markers(calls: &[Call]) -> usize {
    calls
        .iter()
        .filter(|c| c.name == "write" && fd_arg(&c.args[0]) == 1)
        .map(|c| {
            string_arg(&c.args[1])
                .iter()
                .filter(|b| **b == b'\n')
                .count()
        })
        .sum()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A scratch directory on a memory file system when there is one (the
/// states are many and small), removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let shm = Path::new("/dev/shm");
        let base = if free_bytes(shm) >= 512 << 20 {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("companion-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch");
        Scratch(dir)
    }
}

/// The space left on the file system of `dir` (0 if it cannot be told).
fn free_bytes(dir: &Path) -> u64 {
    use std::os::unix::ffi::OsStrExt;
    let Ok(path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return 0;
    };
    let mut stats = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `path` is a valid C string and `stats` is written by the call
    // before it is read, only if the call succeeds.
    if unsafe { libc::statvfs(path.as_ptr(), stats.as_mut_ptr()) } != 0 {
        return 0;
    }
    // SAFETY: statvfs returned 0, so it filled `stats`.
    let stats = unsafe { stats.assume_init() };
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
    (stats.f_bavail as u64).saturating_mul(stats.f_frsize as u64)
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::env::var_os("CRASH_STATES_KEEP").is_some() {
            eprintln!("crash states kept in {}", self.0.display());
            return;
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn report(label: &str, tally: &Tally, seconds: f64) -> String {
    format!(
        "{label:>10}: {} crash points, {} states built, {} distinct, {} checked: {} opened fine, \
         {} refused as damaged (the advised remedy then gets back what members were told \
         in {}, not in {}), {} failures ({seconds:.1} s)",
        tally.changes.len() + 1,
        tally.built,
        tally.distinct,
        tally.checked.load(Ordering::SeqCst),
        tally.fine.load(Ordering::SeqCst),
        tally.refused.load(Ordering::SeqCst),
        tally.remedied.load(Ordering::SeqCst),
        tally.advice_lost.lock().unwrap().len(),
        tally.failures.lock().unwrap().len(),
    )
}

fn failure_lines(label: &str, failures: &Mutex<Vec<Failure>>) -> Vec<String> {
    failures
        .lock()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{label}, crash point {} (after {}): {}. Kept: {}",
                f.point, f.after, f.what, f.kept
            )
        })
        .collect()
}

/// Failures grouped by operation and what went wrong (without the crash
/// point, the files changed or what was kept).
fn classes(lines: &[String]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for line in lines {
        let (label, rest) = line.split_once(", crash point").unwrap_or((line, ""));
        let what = rest.split_once("): ").map_or(rest, |(_, w)| w);
        let what = what.split("; changed:").next().unwrap_or(what);
        let what = what.split(". Kept:").next().unwrap_or(what);
        *out.entry(format!("{label}: {what}")).or_default() += 1;
    }
    out
}

/// The operations explored, each on the clean data set but the last two:
/// an import into an empty directory, and a save on a data set whose last
/// stop was not clean (the open recovers it).
fn cases<'a>(clean: &Prepared, unclean: &Prepared, work: &Path) -> Vec<Case<'a>> {
    let on_clean = |label: &'a str| Case {
        label,
        op: label,
        extra: vec![],
        initial: clean.dir.clone(),
        start: clean.view.clone(),
        imported: View::new(),
        open: open_store,
        remedy: Some(restore_then_open),
    };
    let mut cases: Vec<Case> = [
        "save",
        "save-long",
        "edit",
        "share",
        "log",
        "hold",
        "delete",
        "forget",
        "rewrite",
        "backup",
        "close",
        "restore",
        "salvage",
    ]
    .into_iter()
    .map(on_clean)
    .collect();
    // The import reads a copy of the clean set's backup and erasure record,
    // outside the directory it writes.
    let source = work.join("import-source");
    copy_tree(&clean.dir, &source);
    let backup = std::fs::read_dir(source.join("backups"))
        .expect("backups")
        .map(|e| e.expect("entry").path())
        .next()
        .expect("one automatic backup");
    let empty = work.join("empty");
    std::fs::create_dir_all(&empty).expect("empty");
    cases.push(Case {
        label: "import",
        op: "import",
        extra: vec![backup, source.join("erasures")],
        initial: empty,
        start: View::new(),
        imported: clean.imported.clone(),
        open: open_store,
        remedy: Some(import_again_then_open),
    });
    cases.push(Case {
        label: "recover",
        initial: unclean.dir.clone(),
        start: unclean.view.clone(),
        ..on_clean("save")
    });
    cases
}

// ------------------------------------------------------------ the tests

/// Every operation of the store, at every crash point a power cut could
/// leave: nothing confirmed is lost, nothing erased comes back, or the store
/// refuses to open in words that say what to do, changing nothing.
#[test]
fn no_power_cut_loses_a_confirmed_change_or_brings_back_an_erased_one() {
    let work = Scratch::new("crash-states");
    let clean = prepare(&work.0, "prepare");
    let unclean = prepare(&work.0, "prepare-unclean");
    let started = std::time::Instant::now();
    let mut failures = Vec::new();
    let mut advice = Vec::new();
    for case in cases(&clean, &unclean, &work.0) {
        let began = std::time::Instant::now();
        let tally = explore(&case, &work.0);
        eprintln!(
            "{}",
            report(case.label, &tally, began.elapsed().as_secs_f64())
        );
        for (refusal, (n, example)) in tally.refusals.lock().unwrap().iter() {
            eprintln!("{:>12}refused {n}×: {refusal}\n{:>14}{example}", "", "");
        }
        if case.label == "save-long" {
            assert!(
                tally
                    .changes
                    .iter()
                    .any(|c| c.starts_with("create") && c.contains("/blobs/")),
                "the long save was meant to make sled write a blob file: {:?}",
                tally.changes
            );
        }
        failures.extend(failure_lines(case.label, &tally.failures));
        advice.extend(failure_lines(case.label, &tally.advice_lost));
    }
    eprintln!(
        "crash states: {} failures in {:.0} s",
        failures.len(),
        started.elapsed().as_secs_f64()
    );
    for (class, n) in classes(&failures) {
        eprintln!("  {n}× {class}");
    }
    // A refusal's advice, followed, must get back what members were told:
    // the restore for damage, the import again for an import cut short.
    for (class, n) in classes(&advice) {
        eprintln!("  advice lost {n}×: {class}");
    }
    assert!(
        advice.is_empty(),
        "{} refusals' advice, followed, did not get back what members were told:\n{}",
        advice.len(),
        advice
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    assert!(
        failures.is_empty(),
        "{} crash states lost a confirmed change, brought back an erased one, or were \
         refused badly:\n{}",
        failures.len(),
        failures
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

/// The explorer can fail: records confirmed after sled's flush alone (a
/// `pwrite` and `sync_file_range`, no sync) are lost in some crash state.
#[test]
fn the_explorer_finds_the_loss_of_writes_confirmed_without_a_sync() {
    let work = Scratch::new("crash-states-control");
    let empty = work.0.join("empty");
    std::fs::create_dir_all(&empty).expect("empty");
    let case = Case {
        label: "unflushed",
        op: "unflushed",
        extra: vec![],
        initial: empty,
        start: View::new(),
        imported: View::new(),
        open: open_raw,
        remedy: None,
    };
    let began = std::time::Instant::now();
    let tally = explore(&case, &work.0);
    eprintln!(
        "{}",
        report("unflushed", &tally, began.elapsed().as_secs_f64())
    );
    let lines = failure_lines("unflushed", &tally.failures);
    assert!(
        lines.iter().any(|l| l.contains("lost 9#")),
        "the explorer found no lost record in writes that were never synced:\n{}",
        lines.join("\n")
    );
}
