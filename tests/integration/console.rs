//! The terminal console, scripted over stdin as the README shows.

use crate::support::companion_with_input;

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
            "There is no reflective model `driscoll`. Choose one of: free, gibbs, rolfe, kolb."
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
