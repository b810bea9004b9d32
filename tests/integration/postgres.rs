//! The tests' private PostgreSQL server (`pg_server.rs`, shared with the
//! benches) and the tests that hold it to its promises: no server outlives
//! the test process, a missing server fails under CI and skips elsewhere,
//! each test has its own database, the server keeps durable defaults.

#[path = "pg_server.rs"]
mod server;
pub use server::*;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether a process with this id is alive (and not a zombie).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// The environment variable that makes `holder` a helper for the tests below.
const HOLDER_MODE: &str = "COMPANION_TEST_PG_HOLDER";

/// Starts a server and says so. Run on its own it checks only that; the tests
/// below run it in a child test process (`HOLDER_MODE` = `hold` or `panic`)
/// that prints the server's pid and directory, then waits to be killed or
/// panics.
#[test]
#[ignore = "a helper the tests below run in a child process"]
fn holder() {
    let Some(db) = database() else { return };
    assert_eq!(db.sql("SELECT 1"), "1");
    match std::env::var(HOLDER_MODE).as_deref() {
        Ok("hold") => {
            println!("SERVER {} {}", db.server_pid(), db.cluster_dir().display());
            std::thread::sleep(Duration::from_secs(600));
        }
        Ok("panic") => {
            println!("SERVER {} {}", db.server_pid(), db.cluster_dir().display());
            panic!("the holder panics on purpose");
        }
        _ => {}
    }
}

/// Runs `holder` in a child test process in `mode`; returns the child and,
/// read from its output, the server's pid and directory.
fn spawn_holder(mode: &str, env: &[(&str, &str)]) -> (Child, Option<(u32, PathBuf)>) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(std::env::current_exe().expect("test executable"))
        .args(["postgres::holder", "--exact", "--ignored", "--nocapture"])
        .env(HOLDER_MODE, mode)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary runs again");
    let stdout = child.stdout.take().expect("piped");
    let server = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| {
            let rest = line.strip_prefix("SERVER ")?;
            let (pid, dir) = rest.split_once(' ')?;
            Some((pid.parse().ok()?, PathBuf::from(dir)))
        });
    (child, server)
}

/// Waits up to ten seconds for the server to be gone and its directory removed.
fn assert_gone(pid: u32, dir: &Path, how: &str) {
    let started = Instant::now();
    while (alive(pid) || dir.exists()) && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !alive(pid),
        "the server (pid {pid}) outlived a test process that {how}"
    );
    assert!(
        !dir.exists(),
        "{} is left behind by a test process that {how}",
        dir.display()
    );
}

#[test]
fn no_server_outlives_a_test_process_killed_with_sigkill() {
    if database().is_none() {
        return;
    }
    let (mut child, server) = spawn_holder("hold", &[]);
    let (pid, dir) = server.expect("the holder printed its server");
    assert!(alive(pid), "the holder's server is running");
    child.kill().expect("SIGKILL the holder");
    child.wait().expect("reap the holder");
    assert_gone(pid, &dir, "was killed with SIGKILL");
}

#[test]
fn no_server_outlives_a_test_that_panics() {
    if database().is_none() {
        return;
    }
    let (mut child, server) = spawn_holder("panic", &[]);
    let (pid, dir) = server.expect("the holder printed its server");
    let status = child.wait().expect("the holder ends");
    assert!(!status.success(), "the holder panicked, so its run failed");
    assert_gone(pid, &dir, "panicked");
}

#[test]
fn under_ci_a_server_that_cannot_start_fails_the_test_and_elsewhere_says_why() {
    let empty = std::env::temp_dir().join(format!("companion-no-pg-{}", std::process::id()));
    std::fs::create_dir_all(&empty).expect("an empty folder");
    let empty_str = empty.to_str().expect("utf-8 temp dir");
    let env = [("COMPANION_TEST_PG_BINDIR", empty_str)];

    let (mut child, _) = spawn_holder("check", &[env[0], ("CI", "true")]);
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().expect("piped"), &mut stderr)
        .expect("read stderr");
    let status = child.wait().expect("the holder ends");
    assert!(!status.success(), "under CI=true a missing server fails");
    assert!(
        stderr.contains("CI=true and the tests' PostgreSQL server cannot start")
            && stderr.contains("/usr/lib/postgresql/15/bin"),
        "the failure says why and what would work:\n{stderr}"
    );

    let (mut child, _) = spawn_holder("check", &[env[0], ("CI", "")]);
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().expect("piped"), &mut stderr)
        .expect("read stderr");
    let status = child.wait().expect("the holder ends");
    let _ = std::fs::remove_dir(&empty);
    assert!(
        status.success(),
        "outside CI a missing server skips:\n{stderr}"
    );
    assert!(
        stderr.contains("PostgreSQL not tested here") && stderr.contains("initdb"),
        "the skip says why:\n{stderr}"
    );
}

#[test]
fn each_test_gets_its_own_database_copied_from_the_template() {
    let (Some(one), Some(two)) = (database(), database()) else {
        return;
    };
    assert_ne!(one.name, two.name);
    for db in [&one, &two] {
        assert_eq!(
            db.sql("SELECT made_by FROM harness_template_mark"),
            "tests/integration/postgres.rs",
            "{} was made from the template",
            db.name
        );
    }
    one.sql("CREATE TABLE only_in_one (x int)");
    let err = two
        .try_sql("SELECT * FROM only_in_one")
        .expect_err("a table made in one test's database is not in another's");
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn the_tests_server_keeps_durable_defaults_and_listens_on_no_network() {
    let Some(db) = database() else { return };
    assert_eq!(db.sql("SHOW fsync"), "on");
    assert_eq!(db.sql("SHOW synchronous_commit"), "on");
    assert_eq!(db.sql("SHOW listen_addresses"), "");
    let sockets = db.sql("SHOW unix_socket_directories");
    let mode = std::fs::metadata(&sockets)
        .expect("the socket directory")
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o077,
        0,
        "only the server's user may enter {sockets}"
    );
}
