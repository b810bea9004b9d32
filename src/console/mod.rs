//! The terminal console: the bot's commands typed as in Discord
//! (`/competence 3.5`, `/search strengths`, `/reflect`, `/reflections list`,
//! `/map`), one local member, no token needed, the same store format.
//!
//! It reads lines from any `BufRead`, so it is as usable piped as typed: a
//! prompt is shown only when stdin is a terminal, and output is plain text.
//! Where Discord opens a form, the console asks for each field in turn; a
//! reflection's text ends with a line holding only a full stop.
//!
//! By job: this module is the session (reading lines, answering each,
//! asking confirmations, showing replies); `parse.rs` reads a line into what
//! to do; `form.rs` asks a reflection's fields; `supervision.rs` a
//! supervision log entry's and a case presentation's; `look.rs` is how
//! output looks; `files.rs` writes exports.

mod files;
mod form;
mod look;
mod parse;
mod supervision;
#[cfg(test)]
mod tests;

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

pub use look::Look;
use parse::{Line, PersonalLine, parse_line};

use crate::clock::{Clock, SystemClock};
use crate::commands::personal::{self, Member, Personal};
use crate::commands::{self, Action, Command, FrontEnd, Reply, Week, catalogue};
use crate::framework::CompetenceId;
use crate::library::Library;
use crate::prompts::{Models, WeeklyPrompts};
use crate::store::Store;

/// The console's one member.
pub const LOCAL_MEMBER: u64 = 1;

/// A console session.
pub struct Console<'a, R, W> {
    framework: &'a Library,
    models: Models,
    prompts: WeeklyPrompts,
    data_dir: PathBuf,
    key_file: Option<PathBuf>,
    store: Option<Store>,
    /// A line read as an answer that turned out to be a command, run next.
    pending: Option<String>,
    clock: Box<dyn Clock>,
    input: io::Lines<R>,
    out: W,
    interactive: bool,
    look: Look,
    /// Whether the database failed during the session.
    failed: bool,
    /// The time zone the personal week starts its Mondays in.
    zone: chrono_tz::Tz,
    /// Every prompt with the line that answered it (tests read what was
    /// taken as what).
    #[cfg(test)]
    transcript: Vec<(String, Option<String>)>,
}

/// Runs the console on stdin and stdout until `/quit` or end of input;
/// false if the database failed along the way (it was said as it happened),
/// so the process can exit with its "failure while running" code.
pub fn run_stdio(
    framework: &Library,
    data_dir: &Path,
    key_file: Option<PathBuf>,
) -> io::Result<bool> {
    let stdin = io::stdin();
    let interactive = stdin.is_terminal();
    let mut console = Console::new(
        framework,
        data_dir,
        stdin.lock(),
        io::stdout().lock(),
        interactive,
    )?
    .with_key_file(key_file)
    .with_look(Look::for_stdout());
    if let Some(zone) = zone_named(std::env::var("TZ").ok().as_deref()) {
        console.zone = zone;
    }
    if interactive {
        console.say(&format!(
            "practice-companion console: {} ({} {}). Type /help, or /quit to leave.",
            framework.name, framework.publisher, framework.year
        ))?;
    }
    console.run()?;
    Ok(!console.failed)
}

/// What came of asking for a confirmation.
enum Confirmed {
    Yes,
    No,
    /// Not confirmed; the answer was a command, to be run.
    NoButRun(String),
}

impl<'a, R: BufRead, W: Write> Console<'a, R, W> {
    /// A console over `input` and `out`, storing reflections in `data_dir`.
    pub fn new(
        framework: &'a Library,
        data_dir: &Path,
        input: R,
        out: W,
        interactive: bool,
    ) -> io::Result<Self> {
        let models = Models::builtin().map_err(|e| io::Error::other(e.to_string()))?;
        let prompts =
            WeeklyPrompts::builtin(framework).map_err(|e| io::Error::other(e.to_string()))?;
        Ok(Console {
            framework,
            models,
            prompts,
            data_dir: data_dir.to_path_buf(),
            key_file: None,
            store: None,
            pending: None,
            clock: Box::new(SystemClock),
            input: input.lines(),
            out,
            interactive,
            look: Look::default(),
            failed: false,
            zone: crate::schedule::DEFAULT_TZ,
            #[cfg(test)]
            transcript: Vec::new(),
        })
    }

    /// Takes the master key from this file rather than the environment or
    /// the data directory.
    pub fn with_key_file(mut self, key_file: Option<PathBuf>) -> Self {
        self.key_file = key_file;
        self
    }

    /// Shows output with this look (wrapping and styling).
    pub fn with_look(mut self, look: Look) -> Self {
        self.look = look;
        self
    }

    /// Reads and answers commands until `/quit` or end of input, then
    /// closes the store cleanly (erasures made real, a backup, the seal).
    pub fn run(&mut self) -> io::Result<()> {
        // An existing data directory is opened first, so a lock or key
        // problem is said before the first prompt; a new one is made only
        // when a personal command needs it (lookups write nothing).
        if Store::exists_in(&self.data_dir) {
            let now = self.clock.now();
            match self.store() {
                Err(problem) => self.say(&format!("{problem}\n"))?,
                Ok(store) => {
                    // A review the member asked for, when it is due.
                    if store
                        .priority_reviews_due(now)
                        .is_ok_and(|(due, _)| due.contains(&LOCAL_MEMBER))
                    {
                        self.say("A review of your development priorities is due: `/priorities review` asks how each has moved.")?;
                    }
                }
            }
        }
        let answered = self.answer();
        let closed = match self.store.take() {
            Some(store) => store
                .close(self.clock.now())
                .map_err(|e| io::Error::other(format!("closing the database: {e}"))),
            None => Ok(()),
        };
        answered.and(closed)
    }

    fn answer(&mut self) -> io::Result<()> {
        loop {
            let line = match self.pending.take() {
                Some(line) => line,
                None => match self.read_line("> ")? {
                    Some(line) => line,
                    None => return Ok(()),
                },
            };
            if !self.dispatch(&line)? {
                return Ok(());
            }
        }
    }

    /// Answers one line; false once the member asks to quit.
    fn dispatch(&mut self, line: &str) -> io::Result<bool> {
        match parse_line(self.framework, line) {
            Line::Empty => {}
            Line::Quit => return Ok(false),
            Line::Command(command) => {
                let reply = commands::handle(self.framework, &command);
                self.show(&reply)?;
            }
            Line::Personal(p) => return self.personal(p),
            Line::Week {
                chosen: Some(id), ..
            } => {
                let reply = commands::week(self.framework, &self.prompts, id, Week::Chosen);
                self.show(&reply)?;
            }
            Line::Week { next, chosen: None } => self.week(next)?,
            Line::Problem(text) => self.say(&format!("{text}\n"))?,
        }
        Ok(true)
    }

    /// The competence of the week for a member practising alone: a personal
    /// rotation kept in the data directory, a new competence each Monday
    /// (local time in `TZ` when it names a zone, else Europe/London); or,
    /// with `next`, next week's without using it up.
    fn week(&mut self, next: bool) -> io::Result<()> {
        let framework = self.framework;
        let now = self.clock.now();
        let zone = self.zone;
        let found: Result<Option<CompetenceId>, String> = (|| {
            let store = self.store()?;
            let mut record = store
                .personal_rotation()
                .map_err(|e| format!("error: {e}"))?;
            let priorities = store
                .priorities(LOCAL_MEMBER)
                .map_err(|e| format!("error: {e}"))?;
            let (this_week, changed) = match crate::schedule::personal_week(
                framework,
                &mut record,
                &priorities,
                zone,
                now,
            ) {
                Some(found) => found,
                None => return Ok(None),
            };
            if changed && let Some(record) = &record {
                store
                    .set_personal_rotation(record)
                    .map_err(|e| format!("error: {e}"))?;
            }
            if !next {
                return Ok(Some(this_week));
            }
            Ok(record
                .as_ref()
                .and_then(|r| crate::schedule::personal_next(framework, r, &priorities)))
        })();
        let id = match found {
            Ok(Some(id)) => id,
            Ok(None) => return self.say("This framework has no competences to rotate through.\n"),
            Err(problem) => return self.say(&format!("{problem}\n")),
        };
        let which = if next { Week::MyNext } else { Week::Mine };
        let reply = commands::week(framework, &self.prompts, id, which);
        self.show(&reply)
    }

    /// Asks the core's question, confirmed by typing its word. An answer
    /// that looks like a command is not taken as one: the member is told,
    /// and the command is run.
    fn confirm(&mut self, asked: &personal::Confirmation) -> io::Result<Confirmed> {
        self.say(&asked.question)?;
        let answer = self.read_line(&format!("Type {} to confirm: ", asked.word))?;
        let answer = answer.as_deref().map(str::trim);
        if answer == Some(asked.word) {
            return Ok(Confirmed::Yes);
        }
        self.say(&format!("{}\n", asked.declined))?;
        match answer {
            Some(line) if line.starts_with('/') => Ok(Confirmed::NoButRun(line.to_string())),
            _ => Ok(Confirmed::No),
        }
    }

    fn read_line(&mut self, prompt: &str) -> io::Result<Option<String>> {
        if self.interactive {
            write!(self.out, "{prompt}")?;
            self.out.flush()?;
        }
        let line = match self.input.next() {
            None => None,
            Some(Ok(line)) => Some(line),
            Some(Err(e)) if e.kind() == io::ErrorKind::InvalidData => Some(String::new()),
            Some(Err(e)) => return Err(e),
        };
        #[cfg(test)]
        self.transcript.push((prompt.to_string(), line.clone()));
        Ok(line)
    }

    /// An answer to an optional field. A line that looks like a command is
    /// not taken as the answer: it is kept to run next, and this and every
    /// later optional field of the form keep their defaults (`None`, as at
    /// the end of input).
    fn read_answer(&mut self, prompt: &str) -> io::Result<Option<String>> {
        if self.pending.is_some() {
            return Ok(None);
        }
        match self.read_line(prompt)? {
            Some(line) if line.trim_start().starts_with('/') => {
                self.pending = Some(line.trim().to_string());
                Ok(None)
            }
            other => Ok(other),
        }
    }

    /// Why the rest of a form was skipped, for the member.
    fn skipped_because(&self) -> &'static str {
        if self.pending.is_some() {
            "That looks like a command, so it runs next"
        } else {
            "Input ended"
        }
    }

    fn say(&mut self, text: &str) -> io::Result<()> {
        let shown = self.look.text(text);
        writeln!(self.out, "{shown}")
    }

    fn store(&mut self) -> Result<&Store, String> {
        if self.store.is_none() {
            let opened = Store::open_with_key_from(&self.data_dir, self.key_file.as_deref());
            let store = opened.map_err(|e| {
                self.failed = true;
                format!("error: {e}")
            })?;
            self.store = Some(store);
        }
        self.store
            .as_ref()
            .ok_or_else(|| "error: the store is not open".to_string())
    }

    fn personal(&mut self, line: PersonalLine) -> io::Result<bool> {
        // Nothing is asked of a member before the store is known to open.
        if let Err(problem) = self.store() {
            self.say(&format!("{problem}\n"))?;
            return Ok(true);
        }
        let command = match line {
            PersonalLine::Run(p) => Some(p),
            PersonalLine::Reflect { tags, model } => {
                let Some(draft) = self.ask_new(&tags, &model)? else {
                    return Ok(true);
                };
                self.save_or_show_back(Personal::Save(draft.clone()), &draft.text)?;
                return Ok(true);
            }
            PersonalLine::Edit(id) => {
                if let Some(Personal::Edit(id, draft)) = self.ask_edit(id)? {
                    self.save_or_show_back(Personal::Edit(id, draft.clone()), &draft.text)?;
                }
                return Ok(true);
            }
            PersonalLine::Delete(id) => {
                let asked = match self.store().map(|s| s.reflection(LOCAL_MEMBER, id)) {
                    Ok(Ok(Some(r))) => personal::confirm_delete(&r),
                    Ok(Ok(None)) => return self.show(&personal::not_found(id)).map(|()| true),
                    Ok(Err(e)) => return self.say(&format!("error: {e}\n")).map(|()| true),
                    Err(problem) => return self.say(&format!("{problem}\n")).map(|()| true),
                };
                match self.confirm(&asked)? {
                    Confirmed::Yes => Some(Personal::Delete(id)),
                    Confirmed::No => None,
                    Confirmed::NoButRun(line) => {
                        self.pending = Some(line);
                        return Ok(true);
                    }
                }
            }
            PersonalLine::ForgetMe => {
                let count = self
                    .store()
                    .map(|s| s.reflection_count(LOCAL_MEMBER))
                    .unwrap_or(Ok(0))
                    .unwrap_or(0);
                match self.confirm(&personal::confirm_forget(count))? {
                    Confirmed::Yes => Some(Personal::ForgetMe),
                    Confirmed::No => None,
                    Confirmed::NoButRun(line) => {
                        self.pending = Some(line);
                        return Ok(true);
                    }
                }
            }
            PersonalLine::Export(kind, dir) => {
                self.export(kind, dir)?;
                return Ok(true);
            }
            PersonalLine::Supervision(line) => return self.supervision(line),
        };
        let Some(command) = command else {
            return Ok(true);
        };
        match self.run_personal(command) {
            Ok(reply) => self.show(&reply)?,
            Err(problem) => self.say(&format!("{problem}\n"))?,
        }
        Ok(true)
    }

    /// Saves (or edits) a reflection; if it is not saved, the text typed is
    /// shown back, so nothing written is lost.
    fn save_or_show_back(&mut self, command: Personal, text: &str) -> io::Result<()> {
        let mut maybe_kept = false;
        let saved = match self.run_personal_as_is(command) {
            Ok(reply) => {
                self.show(&reply)?;
                !reply.is_error
            }
            Err((problem, maybe)) => {
                maybe_kept = maybe;
                self.say(&format!("{problem}\n"))?;
                false
            }
        };
        if maybe_kept {
            self.say(&format!("{}\n", personal::MAYBE_SAVED))?;
            writeln!(self.out, "{text}\n")?;
        } else if !saved && !text.trim().is_empty() {
            self.say("Nothing was saved. Here is what you wrote, so it is not lost:\n")?;
            writeln!(self.out, "{text}\n")?;
        }
        Ok(())
    }

    fn run_personal(&mut self, command: Personal) -> Result<Reply, String> {
        self.run_personal_as_is(command)
            .map_err(|(problem, _)| problem)
    }

    /// [`Console::run_personal`]; a problem says too whether what was
    /// asked may have been done all the same (a save sent, not confirmed).
    fn run_personal_as_is(&mut self, command: Personal) -> Result<Reply, (String, bool)> {
        let now = self.clock.now();
        let framework = self.framework;
        let store = self.store().map_err(|problem| (problem, false))?;
        let member = Member {
            framework,
            store,
            id: LOCAL_MEMBER,
            now,
            guild: None,
            times: personal::Times::Local,
        };
        let answered = personal::handle(&member, command)
            .map_err(|e| (format!("error: {e}"), e.may_have_been_kept()));
        self.failed |= answered.is_err();
        answered
    }

    fn show(&mut self, reply: &Reply) -> io::Result<()> {
        if let Some(text) = &reply.text {
            self.say(text)?;
        }
        for line in reply.listed_results() {
            self.say(&format!("  {}", line.plain()))?;
        }
        for (i, card) in reply.cards.iter().enumerate() {
            if i > 0 || reply.text.is_some() {
                writeln!(self.out)?;
            }
            let shown = self.look.card(card);
            writeln!(self.out, "{shown}")?;
        }
        if let Some(first) = reply.results.first().and_then(|r| hint(&r.opens)) {
            self.say(&format!(
                "Next: {first} opens the first; the others open the same way."
            ))?;
        }
        let hints: Vec<String> = reply.actions.iter().filter_map(hint).collect();
        if !hints.is_empty() {
            self.say(&format!("Next: {}", hints.join(" · ")))?;
        }
        writeln!(self.out)
    }
}

/// The zone the personal week follows: the one `TZ` names (`Europe/Dublin`,
/// `:Europe/Dublin`); none for an unset `TZ` or one that names no zone
/// (`UTC0`, a file path), which leaves the default.
fn zone_named(tz: Option<&str>) -> Option<chrono_tz::Tz> {
    crate::schedule::parse_zone(tz?.trim_start_matches(':')).ok()
}

/// The console's way of doing what a Discord button does (the catalogue's next step).
fn hint(action: &Action) -> Option<String> {
    catalogue::next_step(action, FrontEnd::Console)
}
