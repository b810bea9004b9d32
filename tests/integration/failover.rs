//! A primary and its streaming standby on loopback ports, for the failover
//! tests: started by the test, reached by the store through a multi-host
//! URL (`target_session_attrs=read-write`), the primary killed with SIGKILL
//! and the standby promoted in the middle of the work.
//!
//! The servers are made with `postgres`'s helpers (the same programs, the
//! same unprivileged user under root, the same watchdog: no server outlives
//! the test process).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt;

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
    socket_dir: PathBuf,
    server: Server,
}

/// A primary and its standby.
pub struct Pair {
    bin: PathBuf,
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
    fn start(
        bin: &Path,
        user: (u32, u32),
        root: &Path,
        name: &str,
        extra: &[String],
    ) -> Result<Node, String> {
        let data = root.join(name);
        let socket_dir = root.join(format!("{name}-socket"));
        postgres::make_dir(&socket_dir, 0o700, user)?;
        let mut last = String::new();
        for attempt in 0..3 {
            let port = free_port()?;
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
                Err(why) if why.contains("could not create any TCP/IP sockets") => last = why,
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
        let primary = Node::start(&bin, user, &root, "primary", &[])?;
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
        let conninfo = format!(
            "primary_conninfo=host=127.0.0.1 port={} user=postgres application_name={STANDBY_NAME}",
            primary.port
        );
        let standby = Node::start(&bin, user, &root, "standby", &["-c".into(), conninfo])?;
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

fn primary_sql(bin: &Path, primary: &Node, sql: &str) -> Result<String, String> {
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
