//! The terminal console: the bot's commands typed as in Discord
//! (`/competence 3.5`, `/search strengths`), one local user, no token needed.
//!
//! It reads lines from any `BufRead`, so it is as usable piped as typed: a
//! prompt is shown only when stdin is a terminal, and output is plain text.

use std::io::{self, BufRead, IsTerminal, Write};

use crate::commands::{self, Command, Reply};
use crate::framework::{DomainId, Framework};

/// Runs the console on stdin and stdout until `/quit` or end of input.
pub fn run_stdio(framework: &Framework) -> io::Result<()> {
    let stdin = io::stdin();
    let interactive = stdin.is_terminal();
    let mut out = io::stdout().lock();
    if interactive {
        writeln!(
            out,
            "practice-companion console: {} ({} {}). Type /help, or /quit to leave.",
            framework.name, framework.publisher, framework.year
        )?;
    }
    run(framework, stdin.lock(), &mut out, interactive)
}

/// Runs the console over any input and output.
pub fn run(
    framework: &Framework,
    input: impl BufRead,
    out: &mut impl Write,
    interactive: bool,
) -> io::Result<()> {
    let mut lines = input.lines();
    loop {
        if interactive {
            write!(out, "> ")?;
            out.flush()?;
        }
        let Some(line) = lines.next() else {
            break;
        };
        let line = line.unwrap_or_else(|_| String::from("\u{FFFD}"));
        match parse_line(&line) {
            Line::Empty => continue,
            Line::Quit => break,
            Line::Command(command) => show(out, &commands::handle(framework, &command))?,
            Line::Unknown(name) => writeln!(
                out,
                "There is no /{name} command. Try /competence, /search, /framework, /help or /quit.\n"
            )?,
        }
    }
    Ok(())
}

enum Line {
    Empty,
    Quit,
    Command(Command),
    Unknown(String),
}

fn parse_line(line: &str) -> Line {
    let line = line.trim();
    if line.is_empty() {
        return Line::Empty;
    }
    let Some(rest) = line.strip_prefix('/') else {
        // Plain text: look it up as a code, falling back to search.
        return Line::Command(Command::Competence {
            code: line.to_string(),
            domain: None,
        });
    };
    let (name, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let args = args.trim();
    match name.to_ascii_lowercase().as_str() {
        "competence" | "c" => Line::Command(competence(args)),
        "search" | "s" => Line::Command(Command::Search {
            query: args.to_string(),
        }),
        "framework" => Line::Command(Command::Framework),
        "help" | "?" => Line::Command(Command::Help),
        "quit" | "exit" | "q" => Line::Quit,
        _ => Line::Unknown(
            name.chars()
                .filter(|c| c.is_alphanumeric())
                .take(32)
                .collect(),
        ),
    }
}

/// `/competence 3.5 domain:integration` mirrors the Discord options.
fn competence(args: &str) -> Command {
    let mut domain = None;
    let mut code = Vec::new();
    for word in args.split_whitespace() {
        match word.strip_prefix("domain:").map(str::parse::<DomainId>) {
            Some(Ok(d)) => domain = Some(d),
            _ => code.push(word),
        }
    }
    Command::Competence {
        code: code.join(" "),
        domain,
    }
}

fn show(out: &mut impl Write, reply: &Reply) -> io::Result<()> {
    if let Some(text) = &reply.text {
        writeln!(out, "{}", text.replace("**", ""))?;
    }
    for line in &reply.results {
        writeln!(out, "  {:<16} {}", line.label, line.statement)?;
    }
    for (i, card) in reply.cards.iter().enumerate() {
        if i > 0 || reply.text.is_some() {
            writeln!(out)?;
        }
        writeln!(out, "{}", card.to_plain_text())?;
    }
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(input: &str) -> String {
        let f = Framework::builtin().unwrap();
        let mut out = Vec::new();
        run(&f, input.as_bytes(), &mut out, false).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn commands_are_typed_as_in_discord() {
        let out = session("/competence 3.5 domain:core\n/search theories of motivation\n");
        assert!(out.contains("Core 3.5"));
        assert!(!out.contains("Integration 3.5"));
        assert!(out.contains("Core 4.2"));
    }

    #[test]
    fn quit_stops_reading() {
        let out = session("/quit\n/competence 3.5\n");
        assert!(out.is_empty());
    }

    #[test]
    fn unknown_commands_say_what_exists() {
        let out = session("/frobnicate\n");
        assert!(out.contains("There is no /frobnicate command"));
    }
}
