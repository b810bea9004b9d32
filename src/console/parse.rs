//! Reading a console line into what to do: a core command, a personal
//! command, the week, or a problem to say.

use std::path::PathBuf;

use super::{Command, FrontEnd};
use crate::commands::catalogue;
use crate::commands::personal::{ExportKind, Personal};
use crate::framework::{CompetenceId, DomainId, Framework};
use crate::reflections::{export, parse_tags};
use crate::search::DEFAULT_LIMIT;

pub(super) enum Line {
    /// `/week` (this week's competence), `/schedule preview` (next week's),
    /// or `/week C2.9` (that competence's weekly card).
    Week {
        next: bool,
        chosen: Option<CompetenceId>,
    },
    Empty,
    Quit,
    Command(Command),
    Personal(PersonalLine),
    Problem(String),
}

pub(super) enum PersonalLine {
    Reflect { tags: String, model: String },
    Edit(u64),
    Delete(u64),
    Export(ExportKind, Option<PathBuf>),
    ForgetMe,
    Run(Personal),
}

pub(super) fn parse_line(framework: &Framework, line: &str) -> Line {
    let line = line.trim();
    if line.is_empty() {
        return Line::Empty;
    }
    // `//competence 3.5` is `/competence 3.5`.
    let rest = line.trim_start_matches('/');
    if rest.len() == line.len() {
        // Plain `help`, `quit` and `exit` do what they say; other plain
        // text is looked up as a code, or searched.
        return match line.to_lowercase().as_str() {
            "help" | "?" => Line::Command(Command::Help(FrontEnd::Console)),
            "quit" | "exit" => Line::Quit,
            _ => Line::Command(Command::Typed(line.to_string())),
        };
    }
    let (name, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let args = args.trim();
    let Some(command) = catalogue::find(FrontEnd::Console, name) else {
        return Line::Problem(catalogue::no_such_command(FrontEnd::Console, name));
    };
    match command.name {
        "competence" => Line::Command(competence(args)),
        "search" => Line::Command(Command::Search {
            query: args.to_string(),
            limit: DEFAULT_LIMIT,
        }),
        "framework" => Line::Command(Command::Framework),
        "guide" => Line::Command(Command::Guide {
            section: args.to_string(),
            part: None,
        }),
        "help" => Line::Command(Command::Help(FrontEnd::Console)),
        "reflect" => reflect(args),
        "reflections" => reflections(framework, args),
        "map" => Line::Personal(PersonalLine::Run(Personal::Map)),
        "week" if args.is_empty() => Line::Week {
            next: false,
            chosen: None,
        },
        "week" => match parse_tags(framework, args) {
            Ok(tags) if tags.len() == 1 => Line::Week {
                next: false,
                chosen: tags.first().copied(),
            },
            Ok(_) => Line::Problem("Give one competence, e.g. /week C2.9.".into()),
            Err(e) => Line::Problem(e.to_string()),
        },
        "schedule" => match args.to_ascii_lowercase().as_str() {
            "preview" => Line::Week {
                next: true,
                chosen: None,
            },
            _ => Line::Problem(
                "In the console, /schedule preview shows next week's competence; a server's weekly posts are set up in Discord.".into(),
            ),
        },
        "quit" => Line::Quit,
        _ => Line::Problem(catalogue::no_such_command(FrontEnd::Console, name)),
    }
}

/// `/competence 3.5 domain:integration` mirrors the Discord options.
pub(super) fn competence(args: &str) -> Command {
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

/// `/reflect [competences] [model:gibbs]`.
pub(super) fn reflect(args: &str) -> Line {
    let mut model = "free".to_string();
    let mut tags = Vec::new();
    for word in args.split_whitespace() {
        match word.strip_prefix("model:") {
            Some(m) => model = m.to_ascii_lowercase(),
            None => tags.push(word),
        }
    }
    Line::Personal(PersonalLine::Reflect {
        tags: tags.join(" "),
        model,
    })
}

pub(super) const REFLECTIONS_USAGE: &str = "Use /reflections list [competence] [page:N], view <number>, edit <number>, tag or untag <number> <competence>, delete <number>, export [cpd [year] [from <month>]] [folder] or forget-me.";

/// Reads `export [cpd [year] [from <month>]] [folder]`.
pub(super) fn export_line(rest: &[&str]) -> Line {
    let mut words = rest.iter().copied().peekable();
    let kind = if words.peek().is_some_and(|w| w.eq_ignore_ascii_case("cpd")) {
        words.next();
        let mut year = None;
        if let Some(w) = words
            .peek()
            .filter(|w| w.starts_with(|c: char| c.is_ascii_digit()))
        {
            match w.parse::<i32>() {
                Ok(y) if (2000..=2100).contains(&y) => year = Some(y),
                Ok(_) => {
                    return Line::Problem(
                        "Membership years from 2000 to 2100 can be exported: give one such as 2026, e.g. /reflections export cpd 2026 from April.".into(),
                    );
                }
                Err(_) => {
                    return Line::Problem(
                        "The year is written in digits only, e.g. /reflections export cpd 2026 from April.".into(),
                    );
                }
            }
            words.next();
        }
        let mut starts = 1;
        if words.peek().is_some_and(|w| w.eq_ignore_ascii_case("from")) {
            words.next();
            match words.next().and_then(export::parse_month) {
                Some(m) => starts = m,
                None => {
                    return Line::Problem(
                        "Give the month your membership year starts, e.g. /reflections export cpd 2026 from April.".into(),
                    );
                }
            }
        }
        ExportKind::Cpd { year, starts }
    } else {
        ExportKind::Everything
    };
    let folder: Vec<&str> = words.collect();
    let folder = (!folder.is_empty()).then(|| PathBuf::from(folder.join(" ")));
    Line::Personal(PersonalLine::Export(kind, folder))
}

/// Reads `list [competence] [page]`: the competence as a code
/// (`competence:C3.5` as in Discord, too), the page as a number, `page 2`
/// or `page:2`.
pub(super) fn list_line(framework: &Framework, rest: &[&str]) -> Line {
    let mut tag = None;
    let mut page = 1;
    let mut words = rest.iter().peekable();
    while let Some(w) = words.next() {
        let lower = w.to_lowercase();
        let number = if lower == "page" {
            words.next().map(|n| n.parse::<usize>())
        } else if let Some(n) = lower.strip_prefix("page:") {
            Some(n.parse::<usize>())
        } else {
            w.parse::<usize>().ok().map(Ok)
        };
        match number {
            Some(Ok(p)) if p > 0 => page = p,
            Some(_) => {
                return Line::Problem(
                    "Give the page as a number, e.g. /reflections list page:2.".into(),
                );
            }
            None => {
                let code = lower.strip_prefix("competence:").unwrap_or(w);
                match parse_tags(framework, code) {
                    Ok(t) => tag = t.first().copied(),
                    Err(e) => return Line::Problem(e.to_string()),
                }
            }
        }
    }
    Line::Personal(PersonalLine::Run(Personal::List { tag, page }))
}

pub(super) fn reflections(framework: &Framework, args: &str) -> Line {
    let mut words = args.split_whitespace();
    let sub = words.next().unwrap_or("list").to_ascii_lowercase();
    let rest: Vec<&str> = words.collect();
    let number = |s: Option<&&str>| {
        s.and_then(|s| s.trim_start_matches('#').parse::<u64>().ok())
            .filter(|n| *n > 0)
    };
    let need_number = || {
        Line::Problem(format!(
            "Give the reflection's number, e.g. /reflections {sub} 3."
        ))
    };
    match sub.as_str() {
        "list" => list_line(framework, &rest),
        "view" => number(rest.first()).map_or_else(need_number, |n| {
            Line::Personal(PersonalLine::Run(Personal::View(n)))
        }),
        "edit" => {
            number(rest.first()).map_or_else(need_number, |n| Line::Personal(PersonalLine::Edit(n)))
        }
        "delete" => number(rest.first())
            .map_or_else(need_number, |n| Line::Personal(PersonalLine::Delete(n))),
        "tag" | "untag" => {
            let Some(n) = number(rest.first()) else {
                return need_number();
            };
            match parse_tags(framework, &rest[1..].join(" ")) {
                Ok(tags) if tags.len() == 1 && sub == "tag" => {
                    Line::Personal(PersonalLine::Run(Personal::AddTag(n, tags[0])))
                }
                Ok(tags) if tags.len() == 1 => {
                    Line::Personal(PersonalLine::Run(Personal::RemoveTag(n, tags[0])))
                }
                Ok(_) => Line::Problem(format!(
                    "Give one competence, e.g. /reflections {sub} 3 C2.8."
                )),
                Err(e) => Line::Problem(e.to_string()),
            }
        }
        "export" => export_line(&rest),
        "forget-me" => Line::Personal(PersonalLine::ForgetMe),
        _ => Line::Problem(REFLECTIONS_USAGE.to_string()),
    }
}
