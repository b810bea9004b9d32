//! The terminal console, scripted over stdin as the README shows.

use crate::support::{companion_with_env, companion_with_input};

#[test]
fn a_scripted_session_answers_each_command() {
    let run = companion_with_input(
        &["console"],
        "/competence 3.5\n/search theories of motivation\n/competence 9.9\n/framework\n/help\n/quit\n/competence 1.1\n",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &run.stdout;
    assert!(out.contains("Core 3.5") && out.contains("Integration 3.5"));
    assert!(out.contains("Core 4.2"));
    assert!(out.contains("There is no competence 9.9"));
    assert!(out.contains("The framework at a glance"));
    assert!(out.contains("/search strengths"), "help is shown");
    assert!(!out.contains("Core 1.1\n"), "nothing runs after /quit");
    assert!(!out.contains("> "), "no prompt when piped");
}

#[test]
fn hostile_lines_get_an_answer_not_a_crash() {
    let run = companion_with_input(
        &["console"],
        "\0\n@everyone\n/\n/competence\n/search\n\u{202e}3.5\n",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Type a competence code"));
}

#[test]
fn reflections_are_written_and_read_back_through_the_binary() {
    let dir = std::env::temp_dir().join(format!("companion-console-bin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.to_str().expect("utf-8 path");
    let run = companion_with_input(
        &["console", "--data-dir", data],
        "/reflect I2.1 model:kolb\nContracting\nExperience: we agreed a combined approach.\n.\n\ntherapy\n/reflections list\n",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Kolb"), "{}", run.stdout);
    assert!(
        run.stdout.contains("Saved as reflection #1, tagged I2.1"),
        "{}",
        run.stdout
    );
    // A second session reads what the first wrote.
    let again = companion_with_input(&["console", "--data-dir", data], "/reflections view 1\n");
    assert!(
        again.stdout.contains("we agreed a combined approach"),
        "{}",
        again.stdout
    );
    assert!(again.stdout.contains("Therapy"), "{}", again.stdout);
}

#[test]
fn an_unknown_reflective_model_is_answered_with_the_models_there_are() {
    let dir = std::env::temp_dir().join(format!("companion-console-model-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.to_str().expect("utf-8 path");
    let run = companion_with_input(
        &["console", "--data-dir", data],
        "/reflect C3.5 model:driscoll\n/reflections list\n",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &run.stdout;
    assert!(
        out.contains(
            "There is no reflective model driscoll. Choose one of: free, gibbs, rolfe, kolb."
        ),
        "{out}"
    );
    assert!(
        !out.contains("Free writing"),
        "not silently free writing: {out}"
    );
    assert!(!out.contains("Saved as reflection"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The console on a terminal of `cols` columns (a pseudo-terminal made by
/// util-linux's `script`), with `env` set; what it printed.
fn on_a_terminal(cols: u16, env: &[(&str, &str)], input: &str) -> String {
    let dir = std::env::temp_dir().join(format!(
        "companion-console-tty-{}-{cols}-{}",
        std::process::id(),
        env.len()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let command = format!(
        "stty rows 40 cols {cols}; {} console --data-dir {}",
        env!("CARGO_BIN_EXE_companion"),
        dir.display()
    );
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("TERM", "xterm-256color")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs the console on a pseudo-terminal (.ci/run installs it)");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("input");
    let out = child.wait_with_output().expect("script ran");
    String::from_utf8_lossy(&out.stdout).replace('\r', "")
}

/// Visible width of a line: ANSI escape sequences take no room.
fn visible_width(line: &str) -> usize {
    let mut width = 0;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            width += 1;
        }
    }
    width
}

#[test]
fn on_a_terminal_the_console_wraps_at_words_and_styles_and_piped_it_is_plain() {
    let input = "/competence 3.5 domain:core\n/help\n";
    let styled = on_a_terminal(50, &[], input);
    assert!(styled.contains("\u{1b}[1m"), "bold on a terminal: {styled}");
    assert!(styled.contains("Ability to listen for"), "{styled}");
    for line in styled.lines().filter(|l| !l.starts_with('/')) {
        assert!(
            visible_width(line) <= 50,
            "wider than the terminal: {line:?}"
        );
    }
    // Words are never cut: every word of the statement is whole somewhere.
    let words: Vec<&str> = styled.split_whitespace().collect();
    for word in ["strengths,", "qualities", "identify,"] {
        assert!(
            words.iter().any(|w| w.ends_with(word) || w.contains(word)),
            "{word}"
        );
    }
    assert!(
        !styled.contains("**") && !styled.contains('`'),
        "no literal Markdown: {styled}"
    );

    let no_colour = on_a_terminal(50, &[("NO_COLOR", "1")], input);
    assert!(
        !no_colour.contains('\u{1b}'),
        "NO_COLOR means plain: {no_colour}"
    );
    assert!(no_colour.contains("Ability to listen for"));

    let dir = std::env::temp_dir().join(format!("companion-console-piped-{}", std::process::id()));
    let piped = companion_with_input(
        &["console", "--data-dir", dir.to_str().expect("utf-8")],
        input,
    );
    assert!(!piped.stdout.contains('\u{1b}'), "{}", piped.stdout);
    assert!(
        !piped.stdout.contains("**") && !piped.stdout.contains('`'),
        "{}",
        piped.stdout
    );
}

/// Exit codes: a database that will not open (here, held by another process)
/// and output that cannot be written are failures while running (3), not
/// "not found" (1); a clean session is 0.
#[test]
fn runtime_failures_exit_with_3() {
    use practice_companion::store::Store;
    let dir = std::env::temp_dir().join(format!("companion-console-exit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.to_str().expect("utf-8 path");
    let clean = companion_with_input(
        &["console", "--data-dir", data],
        "/reflect\n\nKept.\n.\n\n\n\n",
    );
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    let holder = Store::open(&dir, None).expect("held by this test");
    let locked = companion_with_input(&["console", "--data-dir", data], "/competence 3.5\n/map\n");
    assert!(
        locked.stdout.contains("in use by another"),
        "{}",
        locked.stdout
    );
    assert!(
        locked.stdout.contains("Core 3.5"),
        "lookups still work: {}",
        locked.stdout
    );
    assert_eq!(locked.code, 3, "{}", locked.stdout);
    drop(holder);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_companion"))
        .args(["console", "--data-dir", data])
        .stdin(std::process::Stdio::piped())
        .stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .expect("/dev/full"),
        )
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"/competence 3.5\n")
        .expect("input");
    let out = child.wait_with_output().expect("exits");
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Times are shown in local time: the zone `TZ` names. Pago Pago (UTC−11) and
/// Kiritimati (UTC+14) are 25 hours apart, so the same save has a different
/// date in each, whenever the test runs.
#[test]
fn times_are_shown_in_the_local_zone() {
    let dir = std::env::temp_dir().join(format!("companion-tz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.to_str().expect("utf-8");
    let saved = companion_with_env(
        &["console", "--data-dir", data],
        "/reflect\nA title\nSome text.\n.\n\n\n\n",
        &[("TZ", "Pacific/Pago_Pago")],
    );
    assert_eq!(saved.code, 0, "{}", saved.stderr);
    let listed_in = |zone: &str| {
        let run = companion_with_env(
            &["console", "--data-dir", data],
            "/reflections list\n",
            &[("TZ", zone)],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
            .lines()
            .find(|l| l.starts_with("#1 "))
            .map(|l| l.split(" · ").next().unwrap_or_default().to_string())
            .expect("the reflection listed")
    };
    let west = listed_in("Pacific/Pago_Pago");
    let east = listed_in("Pacific/Kiritimati");
    assert_ne!(west, east, "the same moment, two local dates");
    let _ = std::fs::remove_dir_all(&dir);
}
