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
