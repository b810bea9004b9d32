//! Reading a console line into what to do: a core command, a personal
//! command, the week, or a problem to say.

use std::path::PathBuf;

use super::{Command, FrontEnd};
use crate::commands::catalogue;
use crate::commands::personal::{CaseCommand, ExportKind, LogCommand, Personal, PriorityCommand};
use crate::framework::{CompetenceId, DomainId, Framework};
use crate::reflections::{export, parse_tags};
use crate::search::DEFAULT_LIMIT;
use crate::supervision::case::Frame;
use crate::supervision::log;

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
    Supervision(SupervisionLine),
}

/// What the supervision log and case presentations ask before they run.
pub(super) enum SupervisionLine {
    /// `/log add`: the entry's fields asked one by one.
    LogAdd,
    /// `/log delete <number>`, asked first.
    LogDelete(u64),
    /// `/present` or `/present short`: the form's fields asked one by one.
    Present(Frame),
    /// `/present delete <number>`, asked first.
    PresentDelete(u64),
    /// `/priorities review`: a question for each priority, asked in turn.
    Review,
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
        "priorities" => priorities(framework, args),
        "log" => log_command(args),
        "present" => present(args),
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

/// Reads an optional `[year] [from <month>]` off the front of `words`;
/// a refusal names what would work, after `example`.
fn year_from<'w>(
    words: &mut std::iter::Peekable<impl Iterator<Item = &'w str>>,
    example: &str,
) -> Result<(Option<i32>, u32), String> {
    let mut year = None;
    if let Some(w) = words
        .peek()
        .filter(|w| w.starts_with(|c: char| c.is_ascii_digit()))
    {
        match w.parse::<i32>() {
            Ok(y) if (2000..=2100).contains(&y) => year = Some(y),
            Ok(_) => {
                return Err(format!(
                    "The membership year is one from 2000 to 2100: give one such as 2026, e.g. {example}."
                ));
            }
            Err(_) => {
                return Err(format!(
                    "The year is written in digits only, e.g. {example}."
                ));
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
                return Err(format!(
                    "Give the month your membership year starts, e.g. {example}."
                ));
            }
        }
    }
    Ok((year, starts))
}

/// Reads `export [cpd [year] [from <month>]] [folder]`.
pub(super) fn export_line(rest: &[&str]) -> Line {
    let mut words = rest.iter().copied().peekable();
    let kind = if words.peek().is_some_and(|w| w.eq_ignore_ascii_case("cpd")) {
        words.next();
        match year_from(&mut words, "/reflections export cpd 2026 from April") {
            Ok((year, starts)) => ExportKind::Cpd { year, starts },
            Err(why) => return Line::Problem(why),
        }
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

pub(super) const LOG_USAGE: &str = "Use /log add, list, view <number>, delete <number>, year [YYYY] [from <month>], export [YYYY] [from <month>] [folder] or minimum <hours per month>; none unsets it.";

fn record_number(word: Option<&&str>) -> Option<u64> {
    word.and_then(|s| s.trim_start_matches('#').parse::<u64>().ok())
        .filter(|n| *n > 0)
}

/// `/log [add | list | view N | delete N | year [YYYY] [from <month>] |
/// export [YYYY] [from <month>] [folder] | minimum <hours>]`.
pub(super) fn log_command(args: &str) -> Line {
    let mut words = args.split_whitespace();
    let sub = words.next().unwrap_or("list").to_ascii_lowercase();
    let rest: Vec<&str> = words.collect();
    let run = |c: LogCommand| Line::Personal(PersonalLine::Run(Personal::Log(c)));
    let need_number = || Line::Problem(format!("Give the entry's number, e.g. /log {sub} 3."));
    match sub.as_str() {
        "add" if rest.is_empty() => {
            Line::Personal(PersonalLine::Supervision(SupervisionLine::LogAdd))
        }
        "list" if rest.is_empty() => run(LogCommand::List),
        "view" => {
            record_number(rest.first()).map_or_else(need_number, |n| run(LogCommand::View(n)))
        }
        "delete" => record_number(rest.first()).map_or_else(need_number, |n| {
            Line::Personal(PersonalLine::Supervision(SupervisionLine::LogDelete(n)))
        }),
        "year" | "export" => {
            let mut words = rest.iter().copied().peekable();
            let example = format!("/log {sub} 2026 from April");
            let (year, starts) = match year_from(&mut words, &example) {
                Ok(found) => found,
                Err(why) => return Line::Problem(why),
            };
            let folder: Vec<&str> = words.collect();
            if sub == "year" {
                return if folder.is_empty() {
                    run(LogCommand::Year {
                        year,
                        starts,
                        files: false,
                    })
                } else {
                    Line::Problem(format!(
                        "{LOG_USAGE} A year is written in digits, e.g. /log year 2026."
                    ))
                };
            }
            let folder = (!folder.is_empty()).then(|| PathBuf::from(folder.join(" ")));
            Line::Personal(PersonalLine::Export(
                ExportKind::Supervision { year, starts },
                folder,
            ))
        }
        "minimum" => match log::monthly_minimum(&rest.join(" ")) {
            Ok(minutes) => run(LogCommand::Minimum(minutes)),
            Err(why) => Line::Problem(why),
        },
        _ => Line::Problem(LOG_USAGE.to_string()),
    }
}

pub(super) const PRESENT_USAGE: &str = "Use /present (the seven-eyed model), /present short (the question alone), /present list, view <number>, delete <number>.";

/// `/present [seven-eyed | short | list | view N | delete N]`.
pub(super) fn present(args: &str) -> Line {
    let mut words = args.split_whitespace();
    let sub = words.next().unwrap_or("seven-eyed").to_ascii_lowercase();
    let rest: Vec<&str> = words.collect();
    let run = |c: CaseCommand| Line::Personal(PersonalLine::Run(Personal::Cases(c)));
    let need_number = || {
        Line::Problem(format!(
            "Give the presentation's number, e.g. /present {sub} 2."
        ))
    };
    match (sub.as_str(), rest.is_empty()) {
        ("seven-eyed" | "seven" | "7", true) => Line::Personal(PersonalLine::Supervision(
            SupervisionLine::Present(Frame::SevenEyed),
        )),
        ("short" | "question", true) => Line::Personal(PersonalLine::Supervision(
            SupervisionLine::Present(Frame::Short),
        )),
        ("list", true) => run(CaseCommand::List),
        ("view", _) => {
            record_number(rest.first()).map_or_else(need_number, |n| run(CaseCommand::View(n)))
        }
        ("delete", _) => record_number(rest.first()).map_or_else(need_number, |n| {
            Line::Personal(PersonalLine::Supervision(SupervisionLine::PresentDelete(n)))
        }),
        _ => Line::Problem(PRESENT_USAGE.to_string()),
    }
}

const PRIORITIES_USAGE: &str = "Use /priorities, /priorities add C3.5 I2.1, /priorities remove C3.5, /priorities clear, /priorities review, or /priorities review-every 4 (weeks; or off).";

/// `/priorities [add|remove <competences>|clear]`.
fn priorities(framework: &Framework, args: &str) -> Line {
    let (sub, codes) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    let run = |c: PriorityCommand| Line::Personal(PersonalLine::Run(Personal::Priorities(c)));
    match (sub.to_ascii_lowercase().as_str(), codes.trim()) {
        ("", _) | ("show", "") => run(PriorityCommand::Show),
        ("clear", "") => run(PriorityCommand::Clear),
        ("review", "") => Line::Personal(PersonalLine::Supervision(SupervisionLine::Review)),
        ("review-every", every) => match crate::reflections::review::parse_every(every) {
            Ok(every) => run(PriorityCommand::ReviewEvery(every)),
            Err(why) => Line::Problem(why),
        },
        (verb @ ("add" | "remove"), codes) if !codes.is_empty() => {
            match crate::commands::personal::priority_codes(framework, codes) {
                Ok(ids) if verb == "add" => run(PriorityCommand::Add(ids)),
                Ok(ids) => run(PriorityCommand::Remove(ids)),
                Err(why) => Line::Problem(why),
            }
        }
        _ => Line::Problem(PRIORITIES_USAGE.to_string()),
    }
}
