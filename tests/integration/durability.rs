//! A reflection confirmed to its author survives a `kill -9` the instant
//! after: a child process writes and prints each confirmed id, is killed with
//! SIGKILL at a random moment, and every confirmed record must be there,
//! intact, when the store is reopened. The same harness run against writes
//! that skip the flush must find losses: the test can fail.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use practice_companion::store::Store;

const ROUNDS: u64 = 25;

fn writer() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let debug = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile dir");
    let path = debug
        .join("examples")
        .join(format!("crash_writer{}", std::env::consts::EXE_SUFFIX));
    if !path.exists() {
        // `cargo test` builds examples; `cargo test --test integration` does not.
        let status = Command::new(env!("CARGO"))
            .args(["build", "--example", "crash_writer"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the crash_writer example failed");
    }
    assert!(path.exists(), "{} is missing", path.display());
    path
}

/// A small deterministic generator: each run kills at different moments, and
/// a failure can be replayed.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// Runs the writer, kills it after a random number of confirmations, and
/// returns every (id, text) it printed.
fn run_and_kill(mode: &str, dir: &Path, kill_after: u64) -> Vec<(u64, String)> {
    let mut child: Child = Command::new(writer())
        .args([mode, dir.to_str().expect("utf-8 path")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the writer starts");
    let stdout = child.stdout.take().expect("piped");
    let mut lines = BufReader::new(stdout).lines();
    let mut confirmed = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        let parsed = line
            .split_once(' ')
            .and_then(|(id, text)| Some((id.parse().ok()?, text.to_string())));
        confirmed.extend(parsed);
        if confirmed.len() as u64 >= kill_after {
            break;
        }
    }
    child.kill().expect("SIGKILL");
    // Whatever it managed to print before dying was confirmed too.
    for line in lines.map_while(Result::ok) {
        if let Some((id, text)) = line.split_once(' ')
            && let Ok(id) = id.parse()
        {
            confirmed.push((id, text.to_string()));
        }
    }
    let _ = child.wait();
    confirmed
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "companion-durability-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn every_confirmed_reflection_survives_sigkill() {
    let dir = scratch("store");
    let mut seed = 0x9E37_79B9_7F4A_7C15;
    let mut all = Vec::new();
    for round in 0..ROUNDS {
        let kill_after = 1 + next(&mut seed) % 120;
        let confirmed = run_and_kill("store", &dir, kill_after);
        assert!(
            !confirmed.is_empty(),
            "round {round}: the writer confirmed nothing"
        );
        all.extend(confirmed);
        let store = Store::open(&dir, None).expect("reopens after a crash");
        for (id, text) in &all {
            let r = store
                .reflection(1, *id)
                .expect("readable")
                .unwrap_or_else(|| panic!("round {round}: confirmed reflection #{id} was lost"));
            assert_eq!(&r.text, text, "round {round}: #{id} is not intact");
        }
    }
    assert!(all.len() as u64 >= ROUNDS);
}

#[test]
fn the_same_harness_catches_writes_that_skip_the_flush() {
    let dir = scratch("unflushed");
    let mut seed = 0x2545_F491_4F6C_DD1D;
    let mut lost = 0;
    for _ in 0..ROUNDS {
        let kill_after = 50 + next(&mut seed) % 200;
        let confirmed = run_and_kill("unflushed", &dir, kill_after);
        let db = sled::open(dir.join("raw")).expect("reopens");
        let tree = db.open_tree("records").expect("tree");
        lost += confirmed
            .iter()
            .filter(|(id, text)| {
                tree.get(id.to_be_bytes()).ok().flatten().as_deref() != Some(text.as_bytes())
            })
            .count();
        drop(tree);
        drop(db);
        if lost > 0 {
            break;
        }
    }
    assert!(
        lost > 0,
        "without a flush, confirmed writes must be lost to SIGKILL; the harness saw none"
    );
}

/// Mounts a small tmpfs for the disk-full test, and unmounts it when dropped.
struct TinyDisk(PathBuf);

impl TinyDisk {
    fn mount(name: &str, size: &str) -> TinyDisk {
        let dir = scratch(name);
        std::fs::create_dir_all(&dir).expect("mount point");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status()
            .expect("mount runs");
        assert!(
            status.success(),
            "this test mounts a small tmpfs and needs root, as CI has"
        );
        TinyDisk(dir)
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_confirms_nothing_that_was_not_stored() {
    let disk = TinyDisk::mount("full-disk", "3m");
    let data = disk.0.join("data");
    // The writer fills the disk: every save it confirmed must be there; the
    // one that failed must not have been confirmed.
    let out = Command::new(writer())
        .args(["store", data.to_str().expect("utf-8 path")])
        .output()
        .expect("the writer runs");
    assert!(
        !out.status.success(),
        "the writer stops when the disk is full"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("No space left") || stderr.contains("os error 28"),
        "{stderr}"
    );
    let confirmed: Vec<(u64, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            l.split_once(' ')
                .and_then(|(id, text)| Some((id.parse().ok()?, text.to_string())))
        })
        .collect();
    assert!(confirmed.len() > 10, "it wrote until the disk was full");
    // Read a copy on a roomy disk (sled may want space to open).
    let copy = scratch("full-disk-copy");
    let status = Command::new("cp")
        .arg("-a")
        .arg(&data)
        .arg(&copy)
        .status()
        .expect("cp");
    assert!(status.success());
    drop(disk);
    let store = Store::open(&copy, None).expect("the copy opens");
    for (id, text) in &confirmed {
        let r = store
            .reflection(1, *id)
            .expect("readable")
            .unwrap_or_else(|| panic!("confirmed #{id} lost"));
        assert_eq!(&r.text, text);
    }
}

/// Runs the writer's `rewrite` mode, which aborts the process at `step` of
/// the erasure swap; returns what it confirmed.
fn run_rewrite_until(dir: &Path, step: &str) -> Vec<(u64, String)> {
    let out = Command::new(writer())
        .args(["rewrite", dir.to_str().expect("utf-8 path"), step])
        .stderr(Stdio::null())
        .output()
        .expect("the writer runs");
    assert!(!out.status.success(), "the writer was stopped at {step}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("deleted 1"), "{stdout}");
    assert!(!stdout.contains("rewritten"), "{stdout}");
    stdout
        .lines()
        .filter_map(|l| {
            l.split_once(' ')
                .and_then(|(id, text)| Some((id.parse().ok()?, text.to_string())))
        })
        .collect()
}

fn generations(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("data dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("db."))
        .collect();
    names.sort();
    names
}

/// The erasure swap killed at every step: afterwards exactly one complete
/// database opens (the old before the switch, the new after), every
/// confirmed reflection is there, the deleted one is not, and the leftover
/// generation is removed.
#[test]
fn a_crash_at_every_step_of_the_erasure_swap_loses_nothing_confirmed() {
    for step in ["written", "switched", "removed"] {
        let dir = scratch(&format!("swap-{step}"));
        let confirmed = run_rewrite_until(&dir, step);
        assert_eq!(confirmed.len(), 10, "{step}");
        let current = std::fs::read_to_string(dir.join("CURRENT")).expect("CURRENT");
        let expected = match step {
            "written" => "db.1",
            _ => "db.2",
        };
        assert_eq!(
            current.trim(),
            expected,
            "{step}: which database CURRENT names"
        );
        let store = Store::open(&dir, None).expect("exactly one database opens");
        for (id, text) in &confirmed {
            let found = store.reflection(1, *id).expect("readable");
            if *id == 1 {
                assert_eq!(found, None, "{step}: the confirmed delete holds");
            } else {
                assert_eq!(found.map(|r| r.text).as_ref(), Some(text), "{step}: #{id}");
            }
        }
        assert_eq!(
            generations(&dir).len(),
            1,
            "{step}: {:?}",
            generations(&dir)
        );
    }
}

/// What the console prints as "Saved" reaches the terminal only after the
/// database file was synced: the real process, traced by its system calls.
#[cfg(target_os = "linux")]
#[test]
fn the_console_says_saved_only_after_fdatasync_of_the_database() {
    let dir = scratch("traced");
    let trace = scratch("traced.log");
    let mut child = Command::new("strace")
        .args([
            "-f",
            "-y",
            "-s",
            "200",
            "-e",
            "trace=pwrite64,write,fdatasync,fsync",
            "-o",
        ])
        .arg(&trace)
        .arg(env!("CARGO_BIN_EXE_companion"))
        .args(["console", "--data-dir", dir.to_str().expect("utf-8")])
        .env_remove("COMPANION_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("strace runs (.ci/run installs it; apt-get install strace)");
    std::io::Write::write_all(
        child.stdin.as_mut().expect("stdin"),
        b"/reflect\n\nTraced.\n.\n\n\n/reflections delete 1\nyes\n",
    )
    .expect("input");
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("finishes");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Saved as reflection #1"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let log = std::fs::read_to_string(&trace).expect("trace");
    let lines: Vec<&str> = log.lines().collect();
    for said in ["Saved as reflection #1", "Reflection #1 is deleted"] {
        let at = lines
            .iter()
            .position(|l| l.contains("write(1") && l.contains(said))
            .unwrap_or_else(|| panic!("no write of {said:?} in the trace:\n{log}"));
        let is_db = |l: &str| l.contains("/db.1/db>");
        let last_write = lines[..at]
            .iter()
            .rposition(|l| l.contains("pwrite64(") && is_db(l))
            .unwrap_or_else(|| panic!("the database was never written before {said:?}"));
        assert!(
            lines[last_write..at]
                .iter()
                .any(|l| (l.contains("fdatasync(") || l.contains("fsync(")) && is_db(l)),
            "{said:?} was written before the database was synced:\n{}",
            lines[last_write..=at].join("\n")
        );
    }
}

/// Hole 3 of the storage review: a save long enough for sled to keep it in
/// a blob file (`db.N/blobs/`) is confirmed only after that file and the
/// folder that names it are synced, and before the log that points at it.
#[test]
fn a_save_kept_in_a_blob_file_is_confirmed_only_after_the_blob_is_synced() {
    let dir = scratch("traced-blob");
    let trace = scratch("traced-blob.log");
    let mut child = Command::new("strace")
        .args([
            "-f",
            "-y",
            "-s",
            "400",
            "-e",
            "trace=openat,pwrite64,write,fdatasync,fsync",
            "-o",
        ])
        .arg(&trace)
        .arg(env!("CARGO_BIN_EXE_companion"))
        .args(["console", "--data-dir", dir.to_str().expect("utf-8")])
        .env_remove("COMPANION_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("strace runs (.ci/run installs it; apt-get install strace)");
    let long = "é".repeat(99_000);
    std::io::Write::write_all(
        child.stdin.as_mut().expect("stdin"),
        format!("/reflect\n\n{long}\n.\n\n\n").as_bytes(),
    )
    .expect("input");
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("finishes");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Saved as reflection #1"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let log = std::fs::read_to_string(&trace).expect("trace");
    let lines: Vec<&str> = log.lines().collect();
    let said = lines
        .iter()
        .position(|l| l.contains("write(1") && l.contains("Saved as reflection #1"))
        .expect("the confirmation is in the trace");
    let before = &lines[..said];
    let blob_writes: Vec<&str> = before
        .iter()
        .filter(|l| l.contains("/blobs/") && (l.contains("write(") || l.contains("pwrite64(")))
        .copied()
        .collect();
    assert!(
        !blob_writes.is_empty(),
        "the save was expected to go to a blob file:\n{}",
        before.join("\n")
    );
    // Each blob file written before the confirmation is synced after its
    // last write and before the confirmation, and so is `blobs/` itself.
    let path_of = |l: &str| -> String {
        let start = l.find('<').map_or(0, |i| i + 1);
        let end = l[start..].find('>').map_or(l.len(), |i| start + i);
        l[start..end].to_string()
    };
    for write in &blob_writes {
        let file = path_of(write);
        let last = before
            .iter()
            .rposition(|l| l.contains(&format!("<{file}>")) && l.contains("write"))
            .expect("written");
        assert!(
            before[last..]
                .iter()
                .any(|l| (l.contains("fsync(") || l.contains("fdatasync("))
                    && l.contains(&format!("<{file}>"))),
            "{file} was not synced before the confirmation"
        );
        let folder = file
            .rsplit_once('/')
            .map(|(d, _)| d.to_string())
            .expect("folder");
        assert!(
            before
                .iter()
                .any(|l| l.contains("fsync(") && l.contains(&format!("<{folder}>"))),
            "{folder} was not synced before the confirmation"
        );
    }
}
