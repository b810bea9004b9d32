//! The one catalogue of commands: each command's name, the aliases the
//! console takes, the front-ends that have it, what it does, how it is used
//! and the commands its replies lead to. The console's parser reads names
//! and aliases from it; `/help` on each front-end, "there is no such
//! command" and every "Next:" hint are made from it; Discord's registration
//! is tested against it.

use super::{Action, FrontEnd};

/// One command as the catalogue lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandInfo {
    /// Its name: `/name` in Discord and the console.
    pub name: &'static str,
    /// Shorter names the console also takes (`/c` for `/competence`).
    pub aliases: &'static [&'static str],
    /// The front-ends that have it.
    pub on: &'static [FrontEnd],
    /// The command line's subcommand for it, when it has one (`lookup`).
    pub shell: Option<&'static str>,
    /// What it does, in a line (Discord's description: at most 100 characters).
    pub summary: &'static str,
    /// How it is used, in Discord's and the console's words.
    pub usage: &'static str,
    /// How the console uses it, where that differs.
    pub console_usage: Option<&'static str>,
    /// The commands its replies lead to.
    pub next: &'static [&'static str],
}

use FrontEnd::{CommandLine as Cli, Console, Discord};

/// Every command there is, in the order help lists them.
pub const CATALOGUE: &[CommandInfo] = &[
    CommandInfo {
        name: "competence",
        aliases: &["c"],
        on: &[Discord, Console, Cli],
        shell: Some("lookup"),
        summary: "Show a competence of the BACP Coaching competence framework: statement and guidance",
        usage: "/competence 3.5 (or C3.5, I3.5, core area 3, meta 2, foundational)",
        console_usage: None,
        next: &["guide", "reflect", "reflections"],
    },
    CommandInfo {
        name: "search",
        aliases: &["s"],
        on: &[Discord, Console, Cli],
        shell: Some("search"),
        summary: "Search the competences' statements and guidance by keywords",
        usage: "/search strengths",
        console_usage: None,
        next: &["competence", "guide"],
    },
    CommandInfo {
        name: "framework",
        aliases: &[],
        on: &[Discord, Console, Cli],
        shell: Some("framework export"),
        summary: "The framework at a glance: domains, areas and their codes",
        usage: "/framework",
        console_usage: None,
        next: &["competence"],
    },
    CommandInfo {
        name: "guide",
        aliases: &["g"],
        on: &[Discord, Console, Cli],
        shell: Some("guide"),
        summary: "Read a section of the BACP user guide: definitions, how to use the framework, supervision",
        usage: "/guide supervision (a section's id, title or words; part:2 for a long section's second part)",
        console_usage: None,
        next: &["competence"],
    },
    CommandInfo {
        name: "reflect",
        aliases: &[],
        on: &[Discord, Console],
        shell: None,
        summary: "Write a private reflection, optionally on a competence and with a reflective model",
        usage: "/reflect C3.5 model:gibbs",
        console_usage: None,
        next: &["reflections", "map"],
    },
    CommandInfo {
        name: "reflections",
        aliases: &["r"],
        on: &[Discord, Console],
        shell: None,
        summary: "Your private reflections: only you can ever see them",
        usage: "/reflections list, view, edit, delete, export or forget-me",
        console_usage: Some(
            "/reflections list [competence] [page:N], view, edit, tag, untag, delete <number>, export [cpd [year] [from <month>]] [folder] or forget-me",
        ),
        next: &["reflect", "map"],
    },
    CommandInfo {
        name: "map",
        aliases: &[],
        on: &[Discord, Console],
        shell: None,
        summary: "Your competence map: what your reflections have touched, and the gaps",
        usage: "/map",
        console_usage: None,
        next: &["competence", "reflect"],
    },
    CommandInfo {
        name: "priorities",
        aliases: &[],
        on: &[Discord, Console],
        shell: None,
        summary: "The competences you and your supervisor agreed matter most now",
        usage: "/priorities, add C3.5 I2.1, remove C3.5, clear, review or review-every 4",
        console_usage: None,
        next: &["map", "week"],
    },
    CommandInfo {
        name: "log",
        aliases: &[],
        on: &[Discord, Console],
        shell: None,
        summary: "Your private supervision log and the year's supervision record, against your own monthly minimum",
        usage: "/log add (time, kind and functions as options; a form for what you took away), list, view, delete, year (with its Markdown and CSV files) or minimum <hours per month>",
        console_usage: Some(
            "/log add, list, view <number>, delete <number>, year [YYYY] [from <month>], export [YYYY] [from <month>] [folder] or minimum <hours per month>",
        ),
        next: &["present", "reflect"],
    },
    CommandInfo {
        name: "present",
        aliases: &[],
        on: &[Discord, Console],
        shell: None,
        summary: "Prepare a private case presentation by the seven-eyed model of supervision, or the question alone",
        usage: "/present seven-eyed (two forms, a Continue button between them), short (the question alone), list, view or delete",
        console_usage: Some(
            "/present (the seven-eyed model), /present short (the question alone), list, view <number>, delete <number>",
        ),
        next: &["log"],
    },
    CommandInfo {
        name: "meeting",
        aliases: &[],
        on: &[Discord],
        shell: None,
        summary: "The group's next meeting: when, where, its roles and when its agenda opens",
        usage: "/meeting",
        console_usage: None,
        next: &["rota", "agenda"],
    },
    CommandInfo {
        name: "rota",
        aliases: &[],
        on: &[Discord],
        shell: None,
        summary: "The fair rota of presenters, facilitator and timekeeper: join, leave, pass, swap or show",
        usage: "/rota join, leave, pass, swap with:@member or show",
        console_usage: None,
        next: &["meeting"],
    },
    CommandInfo {
        name: "agenda",
        aliases: &[],
        on: &[Discord],
        shell: None,
        summary: "The next meeting's agenda: bring an item, share it into the meeting's thread, be reminded",
        usage: "/agenda show, bring minutes:20 [show_as:] [reflection: or presentation:], withdraw, share, remind hours:24 or remind-off",
        console_usage: None,
        next: &["meeting", "reflections"],
    },
    CommandInfo {
        name: "convene",
        aliases: &[],
        on: &[Discord],
        shell: None,
        summary: "Set, cancel, move or stop the group's meetings, each a Discord event (convenors)",
        usage: "/convene set date:2027-01-14 time:18:30 place:Room 4 (or voice:#channel), cancel date:2027-01-14, move date: to_date: to_time: or stop",
        console_usage: None,
        next: &["meeting", "rota"],
    },
    CommandInfo {
        name: "week",
        aliases: &["w"],
        on: &[Discord, Console],
        shell: None,
        summary: "This week's competence, with its questions and practice experiment",
        usage: "/week",
        console_usage: Some(
            "/week (yours: a new competence each Monday), or /week C2.9 for a competence's card",
        ),
        next: &["reflect"],
    },
    CommandInfo {
        name: "schedule",
        aliases: &[],
        on: &[Discord, Console],
        shell: None,
        summary: "The competence of the week: when and where it is posted",
        usage: "/schedule set, show, pause, resume, skip, preview [competence], next C3.5 or post-now (Manage Server)",
        console_usage: Some("/schedule preview (next week's competence)"),
        next: &["week"],
    },
    CommandInfo {
        name: "remind",
        aliases: &[],
        on: &[Discord],
        shell: None,
        summary: "A weekly nudge in your direct messages, at your own time: never a streak, always optional",
        usage: "/remind on, off or skip",
        console_usage: None,
        next: &["week"],
    },
    CommandInfo {
        name: "inline",
        aliases: &[],
        on: &[Discord],
        shell: None,
        summary: "Answer competence references such as C3.5 in ordinary messages (server setting)",
        usage: "/inline on or off (Manage Server)",
        console_usage: None,
        next: &[],
    },
    CommandInfo {
        name: "help",
        aliases: &["?"],
        on: &[Discord, Console],
        shell: None,
        summary: "What this bot does and how to use it",
        usage: "/help",
        console_usage: None,
        next: &[],
    },
    CommandInfo {
        name: "quit",
        aliases: &["exit", "q"],
        on: &[Console],
        shell: None,
        summary: "Leave the console",
        usage: "/quit",
        console_usage: None,
        next: &[],
    },
];

impl CommandInfo {
    /// How it is used on `front`.
    pub fn usage_on(&self, front: FrontEnd) -> &'static str {
        match (front, self.console_usage) {
            (Console, Some(usage)) => usage,
            _ => self.usage,
        }
    }

    /// How it is typed on `front`: `/competence`, `companion lookup`.
    pub fn spelled(&self, front: FrontEnd) -> String {
        match (front, self.shell) {
            (Cli, Some(shell)) => format!("companion {shell}"),
            _ => format!("/{}", self.name),
        }
    }
}

/// The commands `front` has, in order.
pub fn on(front: FrontEnd) -> impl Iterator<Item = &'static CommandInfo> {
    CATALOGUE.iter().filter(move |c| c.on.contains(&front))
}

/// The command `front` has by this name or alias (any case).
pub fn find(front: FrontEnd, name: &str) -> Option<&'static CommandInfo> {
    let name = name.to_lowercase();
    on(front).find(|c| c.name == name || (front == Console && c.aliases.contains(&name.as_str())))
}

/// The names of the commands `front` has, in order.
pub fn commands_on(front: FrontEnd) -> Vec<&'static str> {
    on(front).map(|c| c.name).collect()
}

/// The answer to a command `front` does not have: the name as read (its
/// letters and digits only), and the commands there are.
pub fn no_such_command(front: FrontEnd, typed: &str) -> String {
    let known: Vec<String> = on(front).map(|c| c.spelled(front)).collect();
    let (last, rest) = known
        .split_last()
        .map_or(("", &[][..]), |(l, r)| (l.as_str(), r));
    let name: String = typed
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '-')
        .take(32)
        .collect();
    format!(
        "There is no /{name} command. Try {} or {last}.",
        rest.join(", ")
    )
}

/// The command that does on `front` what an action's button does in
/// Discord: `/competence C3.5`, `companion guide how-to-use --part 2`. None
/// when `front` has no such command.
pub fn next_step(action: &Action, front: FrontEnd) -> Option<String> {
    let part = if front == Cli { "--part " } else { "part:" };
    let (name, args) = match action {
        Action::Open(id) | Action::SameNumber(id) => ("competence", id.short()),
        Action::Guide { id, part: 1, .. } => ("guide", id.clone()),
        Action::Guide { id, part: n, .. } => ("guide", format!("{id} {part}{n}")),
        Action::Mine(id) => ("reflections", format!("list {}", id.short())),
        Action::Page { tag, page } => (
            "reflections",
            match tag {
                Some(t) => format!("list competence:{} page:{page}", t.short()),
                None => format!("list page:{page}"),
            },
        ),
        Action::View(n) => ("reflections", format!("view {n}")),
        Action::Edit(n) => ("reflections", format!("edit {n}")),
        Action::AddTag(n, id) => ("reflections", format!("tag {n} {}", id.short())),
        Action::ConfirmDelete(n) => ("reflections", format!("delete {n}")),
        Action::ReflectOn(id) => ("reflect", id.short()),
        Action::ReviewPriorities => ("priorities", "review".to_string()),
        Action::DeleteLogEntry(n) => ("log", format!("delete {n}")),
        Action::DeletePresentation(n) => ("present", format!("delete {n}")),
        Action::PresentAfresh(frame) => ("present", frame.as_str().to_string()),
        Action::ConfirmForget
        | Action::ShareAsk(_)
        | Action::Share { .. }
        | Action::Withdraw(_)
        | Action::CancelShare
        | Action::Reopen(_)
        | Action::ContinueCase
        | Action::SaveAsWritten(_)
        | Action::LogAfresh(_)
        | Action::LogMeeting(_)
        | Action::Bring(_)
        | Action::BringPresentation(_)
        | Action::DeleteAnyway(_) => return None,
    };
    let command = CATALOGUE.iter().find(|c| c.name == name)?;
    command
        .on
        .contains(&front)
        .then(|| format!("{} {args}", command.spelled(front)))
}

/// What `/help` says on `front`: what the framework is, then each command
/// `front` has, from the catalogue.
pub fn help_text(front: FrontEnd) -> String {
    let mut text = String::from(
        "**practice-companion** keeps the BACP Coaching competence framework (2022) to hand in your peer supervision group.

Codes exist in two domains: core coaching competences (`C3.5` or `core 3.5`) and competences for integrating therapy and coaching (`I3.5` or `integration 3.5`); a code in both domains shows both. Search finds competences and the guide's own sections in your own words (`sponsor`, `endings`, `is it coaching or therapy`), half-typed words and spelling slips too. Your reflections are private: only you can ever see them.
",
    );
    if front == Console {
        text.push_str(
            "A line without a slash is looked up as a code, or searched; `help`, `quit` and `exit` work without one too.\n",
        );
    }
    text.push('\n');
    for c in on(front) {
        let aliases = if front == Console && !c.aliases.is_empty() {
            let also: Vec<String> = c.aliases.iter().map(|a| format!("/{a}")).collect();
            format!(" (also {})", also.join(", "))
        } else {
            String::new()
        };
        text.push_str(&format!(
            "**{}**{aliases}: {}. `{}`\n",
            c.spelled(front),
            c.summary,
            c.usage_on(front)
        ));
    }
    text.push_str("\nFramework text © BACP, quoted word for word from its user guide.");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_is_consistent() {
        let mut names = Vec::new();
        for c in CATALOGUE {
            assert!(!c.on.is_empty(), "{}", c.name);
            assert!(
                c.summary.chars().count() <= 100,
                "{}: Discord takes 100 characters",
                c.name
            );
            assert!(c.usage.starts_with(&format!("/{}", c.name)), "{}", c.name);
            // "> " is the console's prompt: help must never print one.
            for usage in std::iter::once(c.usage).chain(c.console_usage) {
                assert!(!usage.contains("> "), "{}: {usage}", c.name);
            }
            assert_eq!(c.shell.is_some(), c.on.contains(&Cli), "{}", c.name);
            for n in c.next {
                let next = CATALOGUE.iter().find(|o| o.name == *n).expect(n);
                assert!(
                    c.on.iter()
                        .filter(|f| **f != Cli)
                        .all(|f| next.on.contains(f)),
                    "{} leads to {n}, which not every front-end of it has",
                    c.name
                );
            }
            for name in std::iter::once(&c.name).chain(c.aliases) {
                assert!(!names.contains(name), "{name} twice");
                names.push(*name);
            }
        }
    }

    #[test]
    fn names_and_aliases_find_commands_on_their_front_ends() {
        assert_eq!(find(Console, "C").map(|c| c.name), Some("competence"));
        assert_eq!(find(Console, "exit").map(|c| c.name), Some("quit"));
        assert_eq!(find(Discord, "c"), None, "aliases are the console's");
        assert_eq!(find(Console, "remind"), None);
        let said = no_such_command(Console, "frob<nicate>");
        assert!(
            said.starts_with("There is no /frobnicate command."),
            "{said}"
        );
        assert!(said.ends_with("/help or /quit."), "{said}");
    }

    #[test]
    fn every_next_step_is_a_command_of_its_front_end() {
        let id = "core:3.5".parse().unwrap();
        let guide = |part| Action::Guide {
            id: "how-to-use".into(),
            part,
            title: String::new(),
        };
        assert_eq!(
            next_step(&Action::Open(id), Console).as_deref(),
            Some("/competence C3.5")
        );
        assert_eq!(
            next_step(&Action::Open(id), Cli).as_deref(),
            Some("companion lookup C3.5")
        );
        assert_eq!(
            next_step(&guide(2), Cli).as_deref(),
            Some("companion guide how-to-use --part 2")
        );
        assert_eq!(
            next_step(&guide(2), Console).as_deref(),
            Some("/guide how-to-use part:2")
        );
        assert_eq!(next_step(&Action::View(3), Cli), None);
        assert_eq!(
            next_step(&Action::ReflectOn(id), Console).as_deref(),
            Some("/reflect C3.5")
        );
    }

    #[test]
    fn help_lists_only_what_each_front_end_has() {
        let console = help_text(Console);
        let discord = help_text(Discord);
        for c in CATALOGUE {
            assert_eq!(
                console.contains(&format!("**/{}**", c.name)),
                c.on.contains(&Console),
                "{}",
                c.name
            );
            assert_eq!(
                discord.contains(&format!("**/{}**", c.name)),
                c.on.contains(&Discord),
                "{}",
                c.name
            );
        }
        assert!(!console.contains("/schedule set") && console.contains("/schedule preview"));
        assert!(discord.contains("/remind on") && !discord.contains("/quit"));
        assert!(console.contains("(also /c)"));
    }
}
