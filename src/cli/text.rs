//! What `lookup`, `search`, `guide` and `framework export` print: text, or
//! JSON with `--json`; the exit code says whether anything was found.

use std::io::{self, Write};

use serde::Serialize;

use super::json::{AnswerJson, ExportJson};
use super::{FOUND, NOT_FOUND, SHELL, USAGE};
use crate::commands;
use crate::framework::Framework;
use crate::library::Library;
use crate::lookup::LookupError;
use crate::render;

/// What `lookup`, `search` and `guide` found (asked of the same command layer
/// as the console and Discord), as text (results on stdout, what went wrong on
/// stderr) or as JSON; the exit code says whether anything was found.
pub(super) fn show(library: &Library, answer: &commands::Answer<'_>, json: bool) -> u8 {
    if json {
        print_json(&AnswerJson::new(library, answer));
    } else {
        print_reply(&commands::reply(library, answer, SHELL));
    }
    match answer {
        // Nothing to look up is bad usage, like no argument at all.
        commands::Answer::NotFound(LookupError::Empty, _) | commands::Answer::NoWords => USAGE,
        _ if answer.found() => FOUND,
        _ => NOT_FOUND,
    }
}

/// The command that does what a button does in Discord (the catalogue's next step).
fn next_step(action: &commands::Action) -> Option<String> {
    commands::catalogue::next_step(action, commands::FrontEnd::CommandLine)
}

/// A reply as plain text: stdout for what was found, stderr for a mistake
/// and the suggestions that come with it.
fn print_reply(reply: &commands::Reply) {
    let mut text = String::new();
    if let Some(t) = &reply.text {
        text.push_str(&render::strip_emphasis(t));
        text.push('\n');
    }
    for line in reply.listed_results() {
        text.push_str(&format!("  {}\n", line.plain()));
    }
    for (i, card) in reply.cards.iter().enumerate() {
        if i > 0 || reply.text.is_some() {
            text.push('\n');
        }
        text.push_str(&card.to_plain_text());
        text.push('\n');
    }
    if reply.is_error {
        eprint!("{text}");
        return;
    }
    let mut out = io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    if let Some(first) = reply.results.first().and_then(|r| next_step(&r.opens)) {
        eprintln!("Next: `{first}` opens the first.");
    }
    let steps: Vec<String> = reply
        .actions
        .iter()
        .filter_map(next_step)
        .map(|s| format!("`{s}`"))
        .collect();
    if !steps.is_empty() {
        eprintln!("Next: {}", steps.join(" · "));
    }
}

pub(super) fn export(framework: &Framework, json: bool) -> u8 {
    if json {
        print_json(&ExportJson::new(framework));
    } else {
        let mut out = io::stdout().lock();
        for c in framework.competences() {
            let _ = writeln!(out, "{:<16} {}", c.id.label(), c.statement);
        }
    }
    FOUND
}

fn print_json<T: Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: could not write JSON: {e}"),
    }
}
