//! A primary and its streaming standby on loopback ports, for the failover
//! tests: started by the test, reached by the store through a multi-host
//! URL (`target_session_attrs=read-write`), the primary killed with SIGKILL
//! and the standby promoted in the middle of the work.
//!
//! The servers are made with `postgres`'s helpers (the same programs, the
//! same unprivileged user under root, the same watchdog: no server outlives
//! the test process).

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use practice_companion::Framework;
use practice_companion::framework::CompetenceId;
use practice_companion::reflections::{Draft, Mode, Reflection};
use practice_companion::store::{
    COMMIT_WITHIN, PgOptions, RECONNECT_WITHIN, SecretKey, SlotState, Store, StoreError,
};

use super::postgres::{self, Server};

/// The database the store uses on the pair.
pub const DATABASE: &str = "companion";
/// The standby's name in `synchronous_standby_names`.
const STANDBY_NAME: &str = "standby1";
/// How long the standby may take to stream from the primary.
const STREAMING_WITHIN: Duration = Duration::from_secs(30);

static NEXT_PAIR: AtomicU32 = AtomicU32::new(0);

/// How the primary waits for its standby.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replication {
    /// `COMMIT` returns once the standby has flushed the commit.
    Synchronous,
    /// `COMMIT` returns at once; the standby follows when it can.
    Asynchronous,
}

/// One server of the pair.
pub struct Node {
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    pub socket_dir: PathBuf,
    pub server: Server,
}

/// A primary and its standby.
pub struct Pair {
    bin: PathBuf,
    user: (u32, u32),
    root: PathBuf,
    pub primary: Node,
    pub standby: Node,
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port on 127.0.0.1: {e}"))
}

impl Node {
    /// Starts a server on `data` on a free port (another if the port was
    /// taken meanwhile), with `extra` settings.
    pub fn start(
        bin: &Path,
        user: (u32, u32),
        root: &Path,
        name: &str,
        extra: &[String],
        port: Option<u16>,
    ) -> Result<Node, String> {
        let data = root.join(name);
        let socket_dir = root.join(format!("{name}-socket"));
        postgres::make_dir(&socket_dir, 0o700, user)?;
        let mut last = String::new();
        let fixed = port;
        for attempt in 0..20 {
            let port = match fixed {
                Some(port) => port,
                None => free_port()?,
            };
            let mut args = vec![
                "-p".to_string(),
                port.to_string(),
                "-k".into(),
                socket_dir.display().to_string(),
                "-c".into(),
                "listen_addresses=127.0.0.1".into(),
                "-c".into(),
                "max_connections=50".into(),
            ];
            args.extend_from_slice(extra);
            let log = root.join(format!("{name}-{attempt}.log"));
            let server = Server::spawn(bin, user, &data, &args, &log, root)?;
            let ready = server.wait_ready(|| {
                postgres::psql(bin, &socket_dir, Some(port), "postgres", "SELECT 1").is_ok()
            });
            match ready {
                Ok(()) => {
                    return Ok(Node {
                        port,
                        socket_dir,
                        server,
                    });
                }
                // A port taken meanwhile: another one. The processes of a
                // server just killed on this data directory still
                // leaving: a moment later.
                Err(why)
                    if (fixed.is_none() && why.contains("could not create any TCP/IP sockets"))
                        || why.contains("still in use")
                        || why.contains("already exists") =>
                {
                    last = why;
                    std::thread::sleep(Duration::from_millis(250));
                }
                Err(why) => return Err(why),
            }
        }
        Err(last)
    }

    /// Runs `sql` in the store's database on this server.
    pub fn sql(&self, bin: &Path, sql: &str) -> Result<String, String> {
        postgres::psql(bin, &self.socket_dir, Some(self.port), DATABASE, sql)
    }
}

impl Pair {
    /// A running pair, or `None` (with the reason on stderr) where
    /// PostgreSQL cannot run here and CI is not set; under `CI=true` it
    /// panics with the reason instead.
    pub fn start(replication: Replication) -> Option<Pair> {
        match Pair::try_start(replication) {
            Ok(pair) => Some(pair),
            Err(why) if postgres::required() => {
                panic!("CI=true and the tests' PostgreSQL pair cannot start: {why}")
            }
            Err(why) => {
                eprintln!("PostgreSQL failover not tested here: {why}");
                None
            }
        }
    }

    fn try_start(replication: Replication) -> Result<Pair, String> {
        let bin = postgres::bin_dir()?;
        let user = postgres::server_user()?;
        // SAFETY: getuid and getgid have no preconditions.
        let me = unsafe { (libc::getuid(), libc::getgid()) };
        let root = std::env::temp_dir().join(format!(
            "companion-pair-{}-{}",
            std::process::id(),
            NEXT_PAIR.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        postgres::make_dir(&root, 0o755, me)?;
        let primary_data = root.join("primary");
        postgres::make_dir(&primary_data, 0o700, user)?;
        if let Err(e) = postgres::initdb(&bin, user, &primary_data, &root) {
            let _ = std::fs::remove_dir_all(&root);
            return Err(e);
        }
        let primary = Node::start(&bin, user, &root, "primary", &[], None)?;
        primary_sql(&bin, &primary, &format!("CREATE DATABASE {DATABASE}"))?;

        // The standby: a base backup of the primary (`-R` writes
        // `standby.signal`), streaming under its own name.
        let standby_data = root.join("standby");
        postgres::make_dir(&standby_data, 0o700, user)?;
        let backup = Command::new(bin.join("pg_basebackup"))
            .args(["-h", "127.0.0.1", "-p", &primary.port.to_string()])
            .args(["-U", "postgres", "-R", "--checkpoint=fast", "-X", "stream"])
            .arg("-D")
            .arg(&standby_data)
            .uid(user.0)
            .gid(user.1)
            .current_dir(&root)
            .output()
            .map_err(|e| format!("cannot run pg_basebackup: {e}"))?;
        if !backup.status.success() {
            return Err(format!(
                "pg_basebackup failed: {}",
                String::from_utf8_lossy(&backup.stderr).trim()
            ));
        }
        let standby = Node::start(
            &bin,
            user,
            &root,
            "standby",
            &standby_settings(primary.port),
            None,
        )?;
        if replication == Replication::Synchronous {
            primary_sql(
                &bin,
                &primary,
                &format!("ALTER SYSTEM SET synchronous_standby_names = '{STANDBY_NAME}'"),
            )?;
            primary_sql(&bin, &primary, "SELECT pg_reload_conf()")?;
        }
        let pair = Pair {
            bin,
            user,
            root,
            primary,
            standby,
        };
        let want = match replication {
            Replication::Synchronous => format!("{STANDBY_NAME}|streaming|sync"),
            Replication::Asynchronous => format!("{STANDBY_NAME}|streaming|async"),
        };
        let started = Instant::now();
        loop {
            let seen = pair.primary_sql(
                "SELECT application_name, state, sync_state FROM pg_stat_replication",
            )?;
            if seen == want {
                return Ok(pair);
            }
            if started.elapsed() > STREAMING_WITHIN {
                return Err(format!(
                    "the standby is not streaming as `{want}` after {}s (`{seen}`); its log:\n{}",
                    STREAMING_WITHIN.as_secs(),
                    pair.standby.server.log_text()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The URL the store connects with: both servers, the primary first;
    /// a connection goes to whichever accepts writes.
    pub fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/{DATABASE}?target_session_attrs=read-write",
            self.primary.port, self.standby.port
        )
    }

    /// Runs `sql` through [`Pair::url`], as a client would: on whichever
    /// server accepts writes.
    pub fn url_sql(&self, sql: &str) -> Result<String, String> {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(self.url())
            .args(["-c", sql])
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("cannot run psql: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }

    /// Runs `sql` on the primary (while it lives).
    pub fn primary_sql(&self, sql: &str) -> Result<String, String> {
        self.primary.sql(&self.bin, sql)
    }

    /// Runs `sql` on the standby.
    pub fn standby_sql(&self, sql: &str) -> Result<String, String> {
        self.standby.sql(&self.bin, sql)
    }

    /// SIGKILL of the primary's postmaster: its sessions end on their own.
    pub fn kill_primary(&self) {
        self.primary.server.kill();
    }

    /// SIGKILL of the standby's postmaster.
    pub fn kill_standby(&self) {
        self.standby.server.kill();
    }

    /// Starts the standby again (after [`Pair::kill_standby`]) on its
    /// port, as it was when it stopped: behind the primary by whatever
    /// was committed meanwhile.
    pub fn restart_standby(&mut self) {
        let settings = standby_settings(self.primary.port);
        self.standby = Node::start(
            &self.bin,
            self.user,
            &self.root,
            "standby",
            &settings,
            Some(self.standby.port),
        )
        .unwrap_or_else(|e| panic!("the standby did not start again: {e}"));
    }

    /// Waits until `commits` backends of the primary wait for a
    /// synchronous standby (each a `COMMIT` sent, not yet answered), and
    /// until the standby (when `received`) has flushed everything the
    /// primary has.
    pub fn wait_for_commits_waiting_on_the_standby(&self, commits: usize, received: bool) {
        let started = Instant::now();
        loop {
            let waiting: usize = self
                .primary_sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let flushed = !received
                || self
                    .primary_sql(
                        "SELECT bool_and(flush_lsn >= pg_current_wal_flush_lsn()) FROM pg_stat_replication",
                    )
                    .is_ok_and(|b| b == "t");
            if waiting >= commits && flushed {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(8),
                "{commits} commits did not wait for the standby (waiting: {waiting})"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Makes the standby the primary, and waits until it accepts writes.
    pub fn promote(&self) {
        let promoted = self
            .standby_sql("SELECT pg_promote(true, 60)")
            .unwrap_or_else(|e| panic!("the standby could not be promoted: {e}"));
        assert_eq!(promoted, "t", "the standby was promoted");
        assert_eq!(
            self.standby_sql("SELECT pg_is_in_recovery()").as_deref(),
            Ok("f"),
            "the promoted standby accepts writes"
        );
    }
}

/// What makes a server a standby of the primary on `port`, under its name.
fn standby_settings(port: u16) -> Vec<String> {
    vec![
        "-c".into(),
        format!(
            "primary_conninfo=host=127.0.0.1 port={port} user=postgres application_name={STANDBY_NAME}"
        ),
    ]
}

pub fn primary_sql(bin: &Path, primary: &Node, sql: &str) -> Result<String, String> {
    postgres::psql(
        bin,
        &primary.socket_dir,
        Some(primary.port),
        "postgres",
        sql,
    )
}

// ------------------------------------------------------------------ tests

#[test]
fn a_synchronous_standby_promoted_after_the_primary_is_killed_has_every_committed_row() {
    let Some(pair) = Pair::start(Replication::Synchronous) else {
        return;
    };
    pair.primary_sql("CREATE TABLE t (n int); INSERT INTO t SELECT generate_series(1, 100)")
        .expect("written on the primary");
    assert_eq!(
        pair.standby_sql("SELECT pg_is_in_recovery()").as_deref(),
        Ok("t"),
        "the standby is read-only until promoted"
    );
    assert_eq!(
        pair.url_sql("SELECT inet_server_port()").as_deref(),
        Ok(pair.primary.port.to_string().as_str()),
        "the URL leads to the primary while it lives"
    );
    pair.kill_primary();
    assert!(
        pair.primary_sql("SELECT 1").is_err(),
        "the primary no longer answers"
    );
    pair.promote();
    assert_eq!(
        pair.standby_sql("SELECT count(*) FROM t").as_deref(),
        Ok("100"),
        "every committed row is on the promoted standby"
    );
    assert_eq!(
        pair.url_sql("INSERT INTO t VALUES (101); SELECT inet_server_port()")
            .as_deref(),
        Ok(pair.standby.port.to_string().as_str()),
        "the same URL leads to the promoted standby, which accepts writes"
    );
}

#[test]
fn an_asynchronous_pair_streams_without_waiting_for_the_standby() {
    let Some(pair) = Pair::start(Replication::Asynchronous) else {
        return;
    };
    pair.kill_standby();
    // With no standby at all, a commit on an asynchronous primary still
    // returns at once.
    let started = Instant::now();
    pair.primary_sql("CREATE TABLE t (n int); INSERT INTO t VALUES (1)")
        .expect("written without the standby");
    assert!(started.elapsed() < Duration::from_secs(5));
}

// ------------------------------------------------- the store across failover

/// A store on the pair, opened the way the front-ends open it.
struct Bot {
    store: Store,
    dir: PathBuf,
}

fn open_store(pair: &Pair, test: &str) -> Bot {
    let dir =
        std::env::temp_dir().join(format!("companion-failover-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = Store::open_postgres(
        &PgOptions {
            url: pair.url(),
            password_file: None,
            shards: None,
        },
        &dir,
        Some(SecretKey::generate()),
    )
    .expect("the store opens on the pair");
    Bot { store, dir }
}

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const MEMBER: u64 = 4242;
/// The session advisory lock the one bot process on a database holds.
const PROCESS_LOCK: i64 = 0x636f_6d70_616e_0001;
const GUILD: u64 = 77;

fn slot(n: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0)
        .single()
        .expect("a date")
        + chrono::Duration::weeks(i64::from(n))
}

fn competence() -> CompetenceId {
    "core:3.5".parse().expect("a competence")
}

/// Saves `text` as the member's reflection, through the method `/reflect`
/// ends in.
pub(crate) fn save(store: &Store, text: &str) -> Result<Reflection, StoreError> {
    let f = Framework::builtin().expect("the framework");
    let draft = Draft {
        title: "a session".into(),
        text: text.into(),
        competences: vec![competence()],
        model: "free".into(),
        mode: Mode::Coaching,
        minutes: None,
    };
    store.add_reflection(MEMBER, |id| draft.into_reflection(id, MEMBER, slot(0), &f))
}

/// Every text the member has, each as often as it is there.
fn texts(store: &Store) -> Vec<String> {
    let all = store.reflections_of(MEMBER).expect("listed");
    assert!(all.unreadable.is_empty());
    all.items.into_iter().map(|r| r.text).collect()
}

/// What a save was answered.
#[derive(Debug)]
enum Told {
    Saved,
    NotSaved,
    MaybeSaved,
}

fn told(outcome: &Result<Reflection, StoreError>) -> Told {
    match outcome {
        Ok(_) => Told::Saved,
        Err(e) if e.may_have_been_kept() => Told::MaybeSaved,
        Err(_) => Told::NotSaved,
    }
}

#[test]
fn saves_go_on_across_a_failover_and_every_one_confirmed_is_there_once() {
    let Some(pair) = Pair::start(Replication::Synchronous) else {
        return;
    };
    let bot = open_store(&pair, "stream");
    let store = bot.store.clone();
    assert_eq!(
        store
            .claim_slot(GUILD, slot(1), competence())
            .expect("claimed"),
        None,
        "the week's slot is claimed before the primary dies"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let saved_after = Arc::new(AtomicU32::new(0));
    let writer = {
        let (store, stop, saved_after) = (store.clone(), stop.clone(), saved_after.clone());
        std::thread::spawn(move || {
            let mut outcomes = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) && n < 2_000 {
                n += 1;
                let text = format!("reflection {n}");
                let started = Instant::now();
                let outcome = save(&store, &text);
                if outcome.is_ok() && n > 1 {
                    saved_after.fetch_add(1, Ordering::SeqCst);
                }
                outcomes.push((text, told(&outcome), outcome.err(), started.elapsed()));
            }
            outcomes
        })
    };
    // The primary dies in the middle of the stream.
    while saved_after.load(Ordering::SeqCst) < 20 {
        std::thread::sleep(Duration::from_millis(5));
    }
    pair.kill_primary();
    let killed_at = saved_after.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(300));
    pair.promote();
    // Saves carry on on the promoted standby.
    let started = Instant::now();
    while saved_after.load(Ordering::SeqCst) < killed_at + 20 {
        assert!(
            started.elapsed() < RECONNECT_WITHIN * 2,
            "saves did not carry on after the failover"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, Ordering::SeqCst);
    let outcomes = writer.join().expect("the writer ends");

    let there = texts(&store);
    for (text, answer, error, took) in &outcomes {
        let copies = there.iter().filter(|t| *t == text).count();
        assert!(copies <= 1, "{text} was saved {copies} times");
        match answer {
            Told::Saved => assert_eq!(copies, 1, "{text} was confirmed but is gone"),
            Told::NotSaved => assert_eq!(copies, 0, "{text} was said not saved, but is there"),
            Told::MaybeSaved => {}
        }
        assert!(
            *took < RECONNECT_WITHIN + COMMIT_WITHIN + Duration::from_secs(5),
            "{text} took {took:?} ({error:?})"
        );
    }
    let failed: Vec<_> = outcomes
        .iter()
        .filter(|o| !matches!(o.1, Told::Saved))
        .map(|o| (&o.0, &o.1, &o.2))
        .collect();
    let slowest = outcomes.iter().map(|o| o.3).max().unwrap_or_default();
    eprintln!(
        "{} saves, {} confirmed, the slowest in {slowest:?}; not confirmed: {failed:?}",
        outcomes.len(),
        outcomes.len() - failed.len()
    );
    assert!(
        failed.len() <= 1,
        "a save in flight at the kill may fail; the rest wait for the promoted standby: {failed:?}"
    );
    // The process lock was taken again on the promoted standby: a second
    // process would be refused there.
    assert_eq!(
        pair.standby_sql(&format!("SELECT pg_try_advisory_lock({PROCESS_LOCK})"))
            .as_deref(),
        Ok("f"),
        "the store holds its process lock on the new primary"
    );
    // The weekly slot claimed before the kill is still claimed: no second
    // post; a new slot is claimed once.
    assert!(matches!(
        store
            .claim_slot(GUILD, slot(1), competence())
            .expect("asked"),
        Some(SlotState::Claimed { .. })
    ));
    assert_eq!(
        store
            .claim_slot(GUILD, slot(2), competence())
            .expect("claimed"),
        None
    );
    assert!(
        store
            .claim_slot(GUILD, slot(2), competence())
            .expect("asked")
            .is_some()
    );
}

/// Saves one reflection and claims one weekly slot at once, each in a
/// thread of its own: what each was answered.
type Answers = (
    std::thread::JoinHandle<Result<Reflection, StoreError>>,
    std::thread::JoinHandle<Result<Option<SlotState>, StoreError>>,
);

fn save_and_claim(store: &Store, text: &'static str, week: u32) -> Answers {
    let (a, b) = (store.clone(), store.clone());
    (
        std::thread::spawn(move || save(&a, text)),
        std::thread::spawn(move || b.claim_slot(GUILD, slot(week), competence())),
    )
}

/// The save was confirmed and is there once; the slot was claimed by this
/// call and stays claimed.
fn confirmed_once(store: &Store, answers: Answers, text: &str, week: u32) {
    let (saved, claimed) = (
        answers.0.join().expect("the save ends"),
        answers.1.join().expect("the claim ends"),
    );
    let saved = saved.unwrap_or_else(|e| panic!("the save was not confirmed: {e}"));
    assert_eq!(saved.text, text);
    assert_eq!(
        texts(store).iter().filter(|t| *t == text).count(),
        1,
        "confirmed, and there exactly once"
    );
    assert_eq!(
        claimed.expect("the claim was confirmed"),
        None,
        "this call claimed the slot"
    );
    assert!(
        matches!(
            store
                .claim_slot(GUILD, slot(week), competence())
                .expect("asked"),
            Some(SlotState::Claimed { .. })
        ),
        "the slot stays claimed: it is not posted twice"
    );
}

#[test]
fn a_commit_whose_answer_was_lost_after_the_standby_had_it_is_resolved_as_done() {
    let Some(pair) = Pair::start(Replication::Synchronous) else {
        return;
    };
    let bot = open_store(&pair, "lost-kept");
    save(&bot.store, "before").expect("saved");
    // Commits now wait for a standby that never comes, while the real one
    // still receives every change: the answer to a `COMMIT` can be lost
    // after the standby has the commit.
    pair.primary_sql("ALTER SYSTEM SET synchronous_standby_names = 'nobody'")
        .expect("set");
    pair.primary_sql("SELECT pg_reload_conf()")
        .expect("reloaded");
    let answers = save_and_claim(&bot.store, "answer lost, kept", 3);
    pair.wait_for_commits_waiting_on_the_standby(2, true);
    pair.kill_primary();
    pair.promote();
    confirmed_once(&bot.store, answers, "answer lost, kept", 3);
    assert_eq!(texts(&bot.store), ["before", "answer lost, kept"]);
}

#[test]
fn a_commit_whose_answer_was_lost_before_the_standby_had_it_runs_again_and_is_kept_once() {
    let Some(mut pair) = Pair::start(Replication::Synchronous) else {
        return;
    };
    let bot = open_store(&pair, "lost-not-kept");
    save(&bot.store, "before").expect("saved");
    // The standby stops: commits wait for it, and it will never have them.
    pair.kill_standby();
    let answers = save_and_claim(&bot.store, "answer lost, not kept", 4);
    pair.wait_for_commits_waiting_on_the_standby(2, false);
    pair.kill_primary();
    pair.restart_standby();
    pair.promote();
    // Each was resolved as not committed (the promoted standby never had
    // it), so it was run again, there.
    confirmed_once(&bot.store, answers, "answer lost, not kept", 4);
    assert_eq!(texts(&bot.store), ["before", "answer lost, not kept"]);
}

#[test]
fn a_dead_synchronous_standby_makes_a_save_say_within_the_bound_that_it_may_have_been_kept() {
    let Some(pair) = Pair::start(Replication::Synchronous) else {
        return;
    };
    let bot = open_store(&pair, "standby-dead");
    save(&bot.store, "before").expect("saved");
    pair.kill_standby();
    let started = Instant::now();
    let outcome = save(&bot.store, "while the standby is dead");
    let took = started.elapsed();
    let e = outcome.expect_err("not confirmed without the standby");
    assert!(
        took >= COMMIT_WITHIN && took < COMMIT_WITHIN + Duration::from_secs(4),
        "answered in {took:?}, not within {COMMIT_WITHIN:?} and a moment"
    );
    assert!(e.may_have_been_kept(), "{e}");
    let said = e.to_string();
    assert!(
        said.contains("no standby confirmed its copy within 10 seconds")
            && said.contains("It may have been kept"),
        "{said}"
    );
    // It may have been kept: here it was, on the primary (and reads go on).
    assert_eq!(texts(&bot.store), ["before", "while the standby is dead"]);
}

#[test]
fn with_asynchronous_replication_what_was_confirmed_while_the_standby_was_behind_is_lost() {
    let Some(mut pair) = Pair::start(Replication::Asynchronous) else {
        return;
    };
    let bot = open_store(&pair, "async");
    save(&bot.store, "before").expect("saved");
    assert_eq!(
        bot.store
            .claim_slot(GUILD, slot(5), competence())
            .expect("claimed"),
        None
    );
    // The standby falls behind (here: stops); the primary confirms on.
    let started = Instant::now();
    while pair
        .primary_sql(
            "SELECT bool_and(flush_lsn >= pg_current_wal_flush_lsn()) FROM pg_stat_replication",
        )
        .as_deref()
        != Ok("t")
    {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the standby caught up"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    pair.kill_standby();
    let lost = save(&bot.store, "confirmed, then lost").expect("confirmed at once");
    assert_eq!(
        bot.store
            .claim_slot(GUILD, slot(6), competence())
            .expect("claimed"),
        None
    );
    pair.kill_primary();
    pair.restart_standby();
    pair.promote();
    // What the standby had is there; what was confirmed after it fell
    // behind is gone: the reflection, and the weekly slot's claim, which
    // can then be claimed (and posted) again.
    assert_eq!(texts(&bot.store), ["before"]);
    assert!(
        bot.store
            .claim_slot(GUILD, slot(5), competence())
            .expect("asked")
            .is_some()
    );
    assert_eq!(
        bot.store
            .claim_slot(GUILD, slot(6), competence())
            .expect("asked"),
        None,
        "a claim confirmed after the standby fell behind is lost"
    );
    // And the number the member was told is given out again.
    let next = save(&bot.store, "after").expect("saved");
    assert_eq!(next.id, lost.id);
}

#[test]
fn with_no_server_accepting_writes_a_save_fails_within_the_bound_saying_nothing_was_changed() {
    let Some(pair) = Pair::start(Replication::Synchronous) else {
        return;
    };
    let bot = open_store(&pair, "unreachable");
    save(&bot.store, "before").expect("saved");
    // The primary dies and the standby is not promoted: it answers, but
    // only reads, so no host of the URL takes writes.
    pair.kill_primary();
    let started = Instant::now();
    let e = save(&bot.store, "nowhere to go").expect_err("no server takes it");
    let took = started.elapsed();
    assert!(
        took >= RECONNECT_WITHIN - Duration::from_secs(1)
            && took < RECONNECT_WITHIN + Duration::from_secs(5),
        "answered in {took:?}, not within {RECONNECT_WITHIN:?} and a moment"
    );
    assert!(matches!(e, StoreError::Unavailable { .. }), "{e}");
    assert!(!e.may_have_been_kept(), "{e}");
    assert!(
        e.to_string()
            .contains("no database server that accepts writes could be reached for 15 seconds")
            && e.to_string().contains("nothing was changed"),
        "{e}"
    );
    pair.promote();
    // It was not saved, as the member was told; saving again works.
    assert_eq!(texts(&bot.store), ["before"]);
    save(&bot.store, "nowhere to go").expect("saved on the promoted standby");
    assert_eq!(texts(&bot.store), ["before", "nowhere to go"]);
}

#[test]
fn every_host_of_a_failover_url_is_held_to_tls_when_one_is_elsewhere() {
    // Refused before anything connects, wherever the remote host stands:
    // plain text asked for, or a Unix socket (which carries no TLS) beside
    // it. Over TLS such a URL connects: `tls.rs`.
    for (url, says) in [
        (
            "postgres://companion@127.0.0.1:5432,db.example.org:5433/companion?target_session_attrs=read-write&sslmode=disable",
            "`db.example.org` is not on this machine",
        ),
        (
            "postgres://companion@db.example.org:5432,127.0.0.1:5433/companion?target_session_attrs=read-write&sslmode=disable",
            "`db.example.org` is not on this machine",
        ),
        (
            "host=db.example.org,/run/postgresql user=companion dbname=companion target_session_attrs=read-write",
            "PostgreSQL does not speak TLS over a Unix socket",
        ),
    ] {
        let dir =
            std::env::temp_dir().join(format!("companion-failover-remote-{}", std::process::id()));
        let e = Store::open_postgres(
            &PgOptions {
                url: url.into(),
                password_file: None,
                shards: None,
            },
            &dir,
            Some(SecretKey::generate()),
        )
        .expect_err("refused");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(e.to_string().contains(says), "{url}: {e}");
    }
}

#[test]
fn the_console_says_a_save_it_could_not_confirm_may_be_there_and_shows_the_words_back() {
    use std::io::{BufRead, BufReader, Read, Write};
    let Some(pair) = Pair::start(Replication::Synchronous) else {
        return;
    };
    let dir =
        std::env::temp_dir().join(format!("companion-failover-{}-console", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let key = SecretKey::generate().to_hex().to_string();
    let mut console = Command::new(env!("CARGO_BIN_EXE_companion"))
        .args(["console", "--data-dir", dir.to_str().expect("utf-8")])
        .env("COMPANION_KEY", &key)
        .env("COMPANION_DATABASE_URL", pair.url())
        .current_dir(std::env::temp_dir())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the console starts");
    let mut input = console.stdin.take().expect("piped");
    let mut output = BufReader::new(console.stdout.take().expect("piped"));
    input
        .write_all(b"/reflect\nFirst\nKept.\n.\n\n\n\n")
        .expect("typed");
    let mut seen = String::new();
    while !seen.contains("Saved as reflection #1") {
        let mut line = String::new();
        assert!(
            output.read_line(&mut line).expect("read") > 0,
            "the console ended: {seen}"
        );
        seen.push_str(&line);
    }
    pair.kill_standby();
    let started = Instant::now();
    input
        .write_all(
            b"/reflect\nSecond\nWords while the standby is dead.\n.\n\n\n\n/reflections list\n",
        )
        .expect("typed");
    drop(input);
    let mut rest = String::new();
    output.read_to_string(&mut rest).expect("read");
    let status = console.wait().expect("the console ends");
    let took = started.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(took < COMMIT_WITHIN + Duration::from_secs(5), "{took:?}");
    assert!(
        rest.contains("This could not be confirmed: the database did not confirm the save in time, so it may have been saved, or not. Look at your reflections (/reflections) before saving it again.")
            && rest.contains("Words while the standby is dead."),
        "told it may be there, with the words shown back:\n{rest}"
    );
    assert!(
        !rest.contains("Nothing was saved") && !rest.contains("Saved as reflection #2"),
        "neither a false \"not saved\" nor a false \"Saved\":\n{rest}"
    );
    // It was kept on the primary: the list shows it.
    assert!(rest.contains("#2 "), "{rest}");
    assert_ne!(status.code(), Some(0), "the console reports the failure");
}
