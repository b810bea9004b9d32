//! A private PostgreSQL server for the tests and the benchmarks: one cluster
//! per test (or bench) binary, started on first use, and a database per test
//! made from a template. Included by `tests/integration/postgres.rs` and by
//! the benches with `#[path]`.
//!
//! Debian keeps the server's programs in `/usr/lib/postgresql/VERSION/bin`
//! (the newest is used; `COMPANION_TEST_PG_BINDIR` names another folder).
//! `initdb` and `postgres` refuse to run as root, so under root the cluster
//! belongs to the `postgres` system user (else `nobody`). The server listens
//! on a Unix socket only, in a directory of its own, so no port is shared
//! with anything else on the machine.
//!
//! No server outlives the test process: a watchdog child reads a pipe whose
//! only writer is the test process. When the test process ends in any way
//! (it returns, panics or is killed with SIGKILL) the kernel closes that pipe,
//! and the watchdog stops the server at once (SIGQUIT, an immediate shutdown)
//! and removes the cluster's directory.
//!
//! Where the programs are missing, or the server does not start, a test that
//! asks for a server fails under `CI=true` and otherwise says why on stderr
//! and returns without testing PostgreSQL.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The database every test's database is copied from.
const TEMPLATE: &str = "companion_template";
/// How long the server may take to accept connections.
const START_WITHIN: Duration = Duration::from_secs(60);

/// The running cluster of this test binary.
pub struct Cluster {
    bin: PathBuf,
    /// The directory holding the data directory and the socket directory.
    root: PathBuf,
    socket_dir: PathBuf,
    server: Server,
}

/// One running server (a postmaster) and the watchdog that stops it when
/// the test process ends.
pub struct Server {
    /// The server's process id (the postmaster).
    pub pid: u32,
    log: PathBuf,
    /// Kept open for the life of the process; its closing stops the server.
    _watchdog_pipe: Mutex<ChildStdin>,
    /// Kept so the watchdog is never reaped early; never waited on.
    _watchdog: Mutex<Child>,
    child: Mutex<Child>,
}

/// One test's own database on the shared cluster (a handle: clones name
/// the same database).
#[derive(Clone)]
pub struct Database {
    pub name: String,
    cluster: &'static Cluster,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
static NEXT_DATABASE: AtomicU32 = AtomicU32::new(0);

/// Whether a server that cannot start fails the test (CI) or skips it.
pub fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A fresh database for one test, or `None` (with the reason on stderr) where
/// PostgreSQL cannot run here and CI is not set. Under `CI=true` it panics
/// with the reason instead.
pub fn database() -> Option<Database> {
    match try_database() {
        Ok(db) => Some(db),
        Err(why) if required() => {
            panic!("CI=true and the tests' PostgreSQL server cannot start: {why}")
        }
        Err(why) => {
            eprintln!("PostgreSQL not tested here: {why}");
            None
        }
    }
}

/// A fresh database on this process's server (started on first use), or
/// why no server can run here.
pub fn try_database() -> Result<Database, String> {
    match CLUSTER.get_or_init(Cluster::start) {
        Ok(cluster) => Ok(cluster.new_database()),
        Err(why) => Err(why.clone()),
    }
}

/// The folder with `initdb`, `pg_ctl` and `postgres`: `COMPANION_TEST_PG_BINDIR`
/// if set, else the newest `/usr/lib/postgresql/*/bin` that has them.
pub fn bin_dir() -> Result<PathBuf, String> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(dir) = std::env::var_os("COMPANION_TEST_PG_BINDIR") {
        let dir = PathBuf::from(dir);
        return if has_server(&dir) {
            Ok(dir)
        } else {
            Err(format!(
                "COMPANION_TEST_PG_BINDIR={} has no initdb and postgres; \
                 name a folder like /usr/lib/postgresql/15/bin",
                dir.display()
            ))
        };
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_server(&bin).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).ok_or_else(|| {
        "no PostgreSQL server programs in /usr/lib/postgresql/*/bin; \
         install them with `apt-get install postgresql`"
            .to_string()
    })
}

/// The user the server runs as: the current one, or an unprivileged one under root.
pub fn server_user() -> Result<(u32, u32), String> {
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    if uid != 0 {
        // SAFETY: getgid has no preconditions.
        return Ok((uid, unsafe { libc::getgid() }));
    }
    for name in [c"postgres", c"nobody"] {
        // SAFETY: `name` is NUL-terminated; the result is read at once, before
        // any other call that could reuse the static buffer.
        let entry = unsafe { libc::getpwnam(name.as_ptr()) };
        if !entry.is_null() {
            // SAFETY: a non-null result points to a valid passwd record.
            let (uid, gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
            if uid != 0 {
                return Ok((uid, gid));
            }
        }
    }
    Err("running as root and neither a `postgres` nor a `nobody` user exists to run the server as; \
         create one (`useradd --system postgres`)"
        .to_string())
}

pub fn make_dir(path: &Path, mode: u32, owner: (u32, u32)) -> Result<(), String> {
    std::fs::create_dir_all(path)
        .and_then(|()| std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)))
        .and_then(|()| std::os::unix::fs::chown(path, Some(owner.0), Some(owner.1)))
        .map_err(|e| format!("cannot make {}: {e}", path.display()))
}

/// Runs `sql` in `database` with psql on the server whose socket is in
/// `socket_dir` (at `port`, else the default), stopping at the first error;
/// returns the unaligned, tuples-only output.
pub fn psql(
    bin: &Path,
    socket_dir: &Path,
    port: Option<u16>,
    database: &str,
    sql: &str,
) -> Result<String, String> {
    let mut command = Command::new(bin.join("psql"));
    command
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-U",
            "postgres",
        ])
        .arg("-h")
        .arg(socket_dir);
    if let Some(port) = port {
        command.args(["-p", &port.to_string()]);
    }
    let out = command
        .args(["-d", database, "-c", sql])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
    } else {
        Err(format!(
            "psql in {database}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Makes a new cluster in `data` (which `user` owns), its superuser
/// `postgres`, every local connection trusted.
pub fn initdb(bin: &Path, user: (u32, u32), data: &Path, cwd: &Path) -> Result<(), String> {
    let out = Command::new(bin.join("initdb"))
        .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
        .args(["--locale", "C", "-D"])
        .arg(data)
        .uid(user.0)
        .gid(user.1)
        .current_dir(cwd)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.join("initdb").display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Server {
    /// Starts `postgres -D data ARGS` as `user`, its output in `log`. When
    /// the test process ends in any way, a watchdog stops it at once and
    /// removes `remove` (a directory holding its data).
    pub fn spawn(
        bin: &Path,
        user: (u32, u32),
        data: &Path,
        args: &[String],
        log: &Path,
        remove: &Path,
    ) -> Result<Server, String> {
        let log_file = std::fs::File::create(log)
            .map_err(|e| format!("cannot make {}: {e}", log.display()))?;
        let log_err = log_file
            .try_clone()
            .map_err(|e| format!("cannot open {} twice: {e}", log.display()))?;
        let child = Command::new(bin.join("postgres"))
            .arg("-D")
            .arg(data)
            .args(args)
            .uid(user.0)
            .gid(user.1)
            .current_dir(remove)
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", bin.join("postgres").display()))?;
        let pid = child.id();

        // The watchdog: waits for the test process's end (EOF on stdin), then
        // stops the server immediately (only if that pid is still a
        // postgres: a server the test killed itself may have had its pid
        // reused), waits for it to go, and removes what it was given. It
        // lives in its own process group, so a terminal's Ctrl-C reaches
        // the test process and, through the pipe, the watchdog.
        let script = format!(
            "cat >/dev/null; \
             grep -q postgres /proc/{pid}/cmdline 2>/dev/null && kill -QUIT {pid} 2>/dev/null; \
             i=0; while [ -e '{data}/postmaster.pid' ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; \
             rm -rf '{remove}'",
            data = data.display(),
            remove = remove.display(),
        );
        let mut watchdog = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start the server's watchdog (sh): {e}"))?;
        let pipe = watchdog
            .stdin
            .take()
            .expect("the watchdog's stdin is piped");
        Ok(Server {
            pid,
            log: log.to_path_buf(),
            _watchdog_pipe: Mutex::new(pipe),
            _watchdog: Mutex::new(watchdog),
            child: Mutex::new(child),
        })
    }

    /// Waits until `ready` says the server answers; its log if it exits
    /// or does not answer within [`START_WITHIN`].
    pub fn wait_ready(&self, ready: impl Fn() -> bool) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if ready() {
                return Ok(());
            }
            if let Some(status) = self.exited() {
                return Err(format!(
                    "the server exited ({status}) while starting; its log:\n{}",
                    self.log_text()
                ));
            }
            if started.elapsed() > START_WITHIN {
                return Err(format!(
                    "the server did not accept connections within {}s; its log:\n{}",
                    START_WITHIN.as_secs(),
                    self.log_text()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the server wrote to its log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// How the server ended, if it has.
    pub fn exited(&self) -> Option<std::process::ExitStatus> {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        child.try_wait().ok().flatten()
    }

    /// Kills the postmaster with SIGKILL (as a crash of the machine's
    /// server would) and waits for it; its children exit on their own.
    pub fn kill(&self) {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Cluster {
    fn start() -> Result<Cluster, String> {
        let bin = bin_dir()?;
        let user = server_user()?;
        // SAFETY: getuid has no preconditions.
        let me = unsafe { (libc::getuid(), libc::getgid()) };
        let root = std::env::temp_dir().join(format!("companion-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        make_dir(&root, 0o755, me)?;
        let data = root.join("data");
        let socket_dir = root.join("socket");
        make_dir(&data, 0o700, user)?;
        make_dir(&socket_dir, 0o700, user)?;

        if let Err(e) = initdb(&bin, user, &data, &root) {
            let _ = std::fs::remove_dir_all(&root);
            return Err(e);
        }

        // fsync and synchronous_commit keep their defaults (on): the store
        // refuses a server without them, and the tests hold it to that.
        let server = Server::spawn(
            &bin,
            user,
            &data,
            &[
                "-k".into(),
                socket_dir.display().to_string(),
                "-c".into(),
                "listen_addresses=".into(),
                "-c".into(),
                "max_connections=200".into(),
            ],
            &root.join("server.log"),
            &root,
        )?;
        let cluster = Cluster {
            bin,
            root,
            socket_dir,
            server,
        };
        cluster
            .server
            .wait_ready(|| cluster.psql("postgres", "SELECT 1").is_ok())?;
        cluster.psql("postgres", &format!("CREATE DATABASE {TEMPLATE}"))?;
        // A mark that shows a test's database was copied from the template.
        cluster.psql(
            TEMPLATE,
            "CREATE TABLE harness_template_mark (made_by text); \
             INSERT INTO harness_template_mark VALUES ('tests/integration/postgres.rs')",
        )?;
        Ok(cluster)
    }

    /// Runs `sql` in `database` with psql, stopping at the first error;
    /// returns the unaligned, tuples-only output.
    fn psql(&self, database: &str, sql: &str) -> Result<String, String> {
        psql(&self.bin, &self.socket_dir, None, database, sql)
    }

    fn new_database(&'static self) -> Database {
        self.new_database_from(TEMPLATE)
    }

    fn new_database_from(&'static self, template: &str) -> Database {
        let n = NEXT_DATABASE.fetch_add(1, Ordering::Relaxed);
        let name = format!("test_{n}");
        self.psql(
            "postgres",
            &format!("CREATE DATABASE {name} TEMPLATE {template}"),
        )
        .unwrap_or_else(|e| panic!("cannot make the test's database: {e}"));
        Database {
            name,
            cluster: self,
        }
    }
}

impl Database {
    /// Runs `sql` here; panics with the server's words if it fails.
    pub fn sql(&self, sql: &str) -> String {
        self.cluster
            .psql(&self.name, sql)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs `sql` here; the server's words if it fails.
    pub fn try_sql(&self, sql: &str) -> Result<String, String> {
        self.cluster.psql(&self.name, sql)
    }

    /// The server's process id.
    pub fn server_pid(&self) -> u32 {
        self.cluster.server.pid
    }

    /// The directory the cluster lives in (removed when the test process ends).
    pub fn cluster_dir(&self) -> &Path {
        &self.cluster.root
    }

    /// A copy of this database as it is now (no one may be connected to
    /// it): what restoring a backup of the server brings back.
    pub fn copy(&self) -> Database {
        self.cluster.new_database_from(&self.name)
    }

    /// The URL the store connects with: the superuser, over the socket.
    pub fn url(&self) -> String {
        format!(
            "postgres://postgres@/{}?host={}",
            self.name,
            self.cluster.socket_dir.display()
        )
    }
}
