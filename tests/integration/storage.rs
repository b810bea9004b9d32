//! The database from the operator's side: backup and restore through the
//! binary, a check that reads everything, and a second process refused
//! while the first holds the database.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::{companion, companion_with_input};

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("companion-storage-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn export_import_and_check_round_trip_a_database() {
    let a = scratch("a");
    let b = scratch("b");
    let file = scratch("backup").with_extension("bak");
    let a_str = a.to_str().expect("utf-8");
    let wrote = companion_with_input(
        &["console", "--data-dir", a_str],
        "/reflect C3.5\nBackup test\nA reflection to keep.\n.\n\n\n",
    );
    assert!(
        wrote.stdout.contains("Saved as reflection #1"),
        "{}",
        wrote.stdout
    );

    let check = companion(&["db", "check", "--data-dir", a_str]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert!(
        check.stdout.contains("1 reflection of 1 member"),
        "{}",
        check.stdout
    );

    let export = companion(&[
        "db",
        "export",
        file.to_str().expect("utf-8"),
        "--data-dir",
        a_str,
    ]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    let again = companion(&[
        "db",
        "export",
        file.to_str().expect("utf-8"),
        "--data-dir",
        a_str,
    ]);
    assert_eq!(again.code, 1, "an existing backup is never overwritten");

    // Without the key, the restored database cannot be opened.
    let b_str = b.to_str().expect("utf-8");
    let keyless = companion(&[
        "db",
        "import",
        file.to_str().expect("utf-8"),
        "--data-dir",
        b_str,
    ]);
    assert_eq!(keyless.code, 1);
    assert!(
        keyless.stderr.contains("no key was found"),
        "{}",
        keyless.stderr
    );

    // With the key beside it, everything comes back.
    let _ = std::fs::remove_dir_all(&b);
    std::fs::create_dir_all(&b).expect("mkdir");
    std::fs::copy(a.join("master.key"), b.join("master.key")).expect("copy key");
    let import = companion(&[
        "db",
        "import",
        file.to_str().expect("utf-8"),
        "--data-dir",
        b_str,
    ]);
    assert_eq!(import.code, 0, "{}", import.stderr);
    assert!(
        import.stdout.contains("1 reflection of 1 member"),
        "{}",
        import.stdout
    );
    let read = companion_with_input(&["console", "--data-dir", b_str], "/reflections view 1\n");
    assert!(
        read.stdout.contains("A reflection to keep."),
        "{}",
        read.stdout
    );
}

#[test]
fn a_second_process_on_the_same_data_dir_is_refused_clearly() {
    let dir = scratch("locked");
    let dir_str = dir.to_str().expect("utf-8");
    let mut holder = Command::new(env!("CARGO_BIN_EXE_companion"))
        .args(["console", "--data-dir", dir_str])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("console starts");
    let mut stdin = holder.stdin.take().expect("stdin");
    stdin.write_all(b"/map\n").expect("write");
    stdin.flush().expect("flush");
    // Wait until the holder has opened the store (its answer arrives).
    let mut out = holder.stdout.take().expect("stdout");
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !seen.contains("competence map") {
        let n = std::io::Read::read(&mut out, &mut buf).expect("read");
        assert!(n > 0, "the console ended early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let second = companion(&["db", "check", "--data-dir", dir_str]);
    assert_eq!(second.code, 1);
    assert!(
        second
            .stderr
            .contains("in use by another companion process"),
        "{}",
        second.stderr
    );
    drop(stdin);
    let _ = holder.wait();
}

#[test]
fn a_data_dir_that_cannot_be_created_fails_with_a_clear_message() {
    let file = scratch("not-a-dir");
    std::fs::write(&file, b"a file, not a directory").expect("write");
    let inside = file.join("data");
    let run = companion(&["db", "check", "--data-dir", inside.to_str().expect("utf-8")]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("cannot prepare the data directory"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_damaged_database_or_a_wrong_key_fails_at_start_and_touches_nothing() {
    let dir = scratch("damaged");
    let dir_str = dir.to_str().expect("utf-8");
    let wrote = companion_with_input(
        &["console", "--data-dir", dir_str],
        "/reflect\n\nKeep me.\n.\n\n\n",
    );
    assert!(
        wrote.stdout.contains("Saved as reflection #1"),
        "{}",
        wrote.stdout
    );

    // The wrong key: refused, and the database is left as it was.
    let wrong = Command::new(env!("CARGO_BIN_EXE_companion"))
        .args(["db", "check", "--data-dir", dir_str])
        .env("COMPANION_KEY", "00".repeat(32))
        .output()
        .expect("runs");
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("does not open the database"));
    let still = companion(&["db", "check", "--data-dir", dir_str]);
    assert_eq!(still.code, 0, "{}", still.stderr);

    // A database file overwritten with garbage: a clear error, no panic.
    let db_dir = dir.join("db");
    for entry in std::fs::read_dir(&db_dir).expect("db dir").flatten() {
        if entry.path().is_file() {
            std::fs::write(entry.path(), vec![0xAB; 4096]).expect("damage");
        }
    }
    let damaged = companion(&["db", "check", "--data-dir", dir_str]);
    assert_eq!(damaged.code, 1, "{}", damaged.stdout);
    assert!(damaged.stderr.starts_with("error: "), "{}", damaged.stderr);
    assert!(!damaged.stderr.contains("panicked"), "{}", damaged.stderr);
}
