//! The terminal console: the bot's commands typed as in Discord
//! (`/competence 3.5`, `/search strengths`, `/reflect`, `/reflections list`,
//! `/map`), one local member, no token needed, the same store format.
//!
//! It reads lines from any `BufRead`, so it is as usable piped as typed: a
//! prompt is shown only when stdin is a terminal, and output is plain text.
//! Where Discord opens a form, the console asks for each field in turn; a
//! reflection's text ends with a line holding only a full stop.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::clock::{Clock, SystemClock};
use crate::commands::personal::{self, ExportKind, Member, Personal};
use crate::commands::{self, Action, Command, FrontEnd, Reply, Week, catalogue};
use crate::framework::{CompetenceId, DomainId, Framework};
use crate::library::Library;
use crate::prompts::{Models, WeeklyPrompts};
use crate::reflections::export;
use crate::reflections::{Draft, Mode, form, minutes_text, parse_tags, tags_text};
use crate::search::DEFAULT_LIMIT;
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

/// How the console's output looks: wrapped at word boundaries to a width
/// (on a terminal), with bold, italic and dim styling where the terminal
/// shows it, and plain text when piped or when `NO_COLOR` is set. The
/// Markdown emphasis the core writes for Discord (`**bold**`, `*italic*`
/// lines, `code`) becomes styling or disappears; it is never shown as is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Look {
    /// Wrap lines to this many columns; none leaves lines whole (for pipes).
    pub width: Option<usize>,
    /// Style with ANSI escape codes.
    pub colour: bool,
}

impl Look {
    /// What standard output can show: its width and colours on a terminal
    /// (honouring `NO_COLOR`, `CLICOLOR` and `TERM=dumb`), plain otherwise.
    pub fn for_stdout() -> Look {
        let stdout = io::stdout();
        let terminal = stdout.is_terminal();
        let colour = matches!(
            anstream::AutoStream::choice(&stdout),
            anstream::ColorChoice::Always | anstream::ColorChoice::AlwaysAnsi
        );
        Look {
            width: terminal.then(textwrap::termwidth),
            colour,
        }
    }

    fn styled(&self, style: anstyle::Style, text: &str) -> String {
        if self.colour && !text.is_empty() {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }

    /// One line of the core's text: `**bold**` and `code` as styling (or
    /// plain), a line wrapped in single `*` as italic.
    fn inline(&self, line: &str) -> String {
        let bold = anstyle::Style::new().bold();
        let italic = anstyle::Style::new().italic();
        if let Some(inner) = line
            .strip_prefix('*')
            .and_then(|l| l.strip_suffix('*'))
            .filter(|l| !l.starts_with('*') && !l.is_empty())
        {
            return self.styled(italic, inner);
        }
        let mut out = String::new();
        let mut rest = line;
        let mut strong = false;
        while let Some(at) = rest.find("**") {
            let piece = rest[..at].replace('`', "");
            out.push_str(&if strong {
                self.styled(bold, &piece)
            } else {
                piece
            });
            strong = !strong;
            rest = &rest[at + 2..];
        }
        let piece = rest.replace('`', "");
        out.push_str(&if strong {
            self.styled(bold, &piece)
        } else {
            piece
        });
        out
    }

    /// Text of any length: each line styled, then wrapped to the width,
    /// keeping its indent on the lines it wraps onto.
    pub fn text(&self, text: &str) -> String {
        text.lines()
            .map(|line| {
                let styled = self.inline(line);
                match self.width {
                    Some(width) if textwrap::core::display_width(&styled) > width => {
                        let indent: String =
                            line.chars().take_while(|c| c.is_whitespace()).collect();
                        let hang = if line.trim_start().starts_with(['·', '-']) {
                            format!("{indent}  ")
                        } else {
                            indent
                        };
                        let options = textwrap::Options::new(width.max(20))
                            .subsequent_indent(&hang)
                            .break_words(false)
                            .word_separator(textwrap::WordSeparator::AsciiSpace);
                        textwrap::fill(&styled, options)
                    }
                    _ => styled,
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A card: its heading dim, its title bold and underlined by a rule, its
    /// text, each field under its name in bold, its footer dim.
    pub fn card(&self, card: &crate::render::Card) -> String {
        let dim = anstyle::Style::new().dimmed();
        let bold = anstyle::Style::new().bold();
        let mut out = Vec::new();
        if !card.heading.is_empty() {
            out.push(self.styled(dim, &self.text(&card.heading)));
        }
        out.push(self.styled(bold, &card.title));
        let rule = card
            .title
            .chars()
            .count()
            .clamp(8, self.width.unwrap_or(60).min(60));
        out.push("─".repeat(rule));
        if !card.description.is_empty() {
            out.push(self.text(&card.description));
            out.push(String::new());
        }
        for field in &card.fields {
            out.push(self.styled(bold, &format!("{}:", field.name)));
            out.push(self.text(&field.value));
            out.push(String::new());
        }
        if !card.footer.is_empty() {
            out.push(self.styled(dim, &self.text(&card.footer)));
        }
        while out.last().is_some_and(String::is_empty) {
            out.pop();
        }
        out.join("\n")
    }
}

enum Line {
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

/// What came of asking for a confirmation.
enum Confirmed {
    Yes,
    No,
    /// Not confirmed; the answer was a command, to be run.
    NoButRun(String),
}

/// Names for an export's files in `dir` that nothing there has yet (not
/// even a link): the names as given, or all of them with the same `-2`,
/// `-3`, … before the extension, so a second export the same day sits
/// beside the first.
fn free_names(dir: &Path, names: &[&str]) -> Vec<String> {
    let taken = |name: &str| dir.join(name).symlink_metadata().is_ok();
    let numbered = |n: usize| -> Vec<String> {
        names
            .iter()
            .map(|name| match (n, name.rsplit_once('.')) {
                (1, _) => (*name).to_string(),
                (n, Some((stem, ext))) => format!("{stem}-{n}.{ext}"),
                (n, None) => format!("{name}-{n}"),
            })
            .collect()
    };
    (1..1000)
        .map(numbered)
        .find(|candidate| !candidate.iter().any(|name| taken(name)))
        .unwrap_or_else(|| numbered(1))
}

/// Writes a new file readable by its owner only: never over an existing
/// file, never through a symbolic link.
fn write_private(path: &Path, content: &[u8]) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let mut file = options.open(path)?;
    let written = file.write_all(content).and_then(|()| file.sync_all());
    if written.is_err() {
        // Never leave half an export behind.
        let _ = std::fs::remove_file(path);
    }
    written
}

enum PersonalLine {
    Reflect { tags: String, model: String },
    Edit(u64),
    Delete(u64),
    Export(ExportKind, Option<PathBuf>),
    ForgetMe,
    Run(Personal),
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
        if Store::exists_in(&self.data_dir)
            && let Err(problem) = self.store()
        {
            self.say(&format!("{problem}\n"))?;
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
            let (this_week, changed) =
                match crate::schedule::personal_week(framework, &mut record, zone, now) {
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
                .and_then(|r| crate::schedule::personal_next(framework, r)))
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
        let saved = match self.run_personal(command) {
            Ok(reply) => {
                self.show(&reply)?;
                !reply.is_error
            }
            Err(problem) => {
                self.say(&format!("{problem}\n"))?;
                false
            }
        };
        if !saved && !text.trim().is_empty() {
            self.say("Nothing was saved. Here is what you wrote, so it is not lost:\n")?;
            writeln!(self.out, "{text}\n")?;
        }
        Ok(())
    }

    fn run_personal(&mut self, command: Personal) -> Result<Reply, String> {
        let now = self.clock.now();
        let framework = self.framework;
        let store = self.store()?;
        let member = Member {
            framework,
            store,
            id: LOCAL_MEMBER,
            now,
            guild: None,
            times: personal::Times::Local,
        };
        let answered = personal::handle(&member, command).map_err(|e| format!("error: {e}"));
        self.failed |= answered.is_err();
        answered
    }

    fn export(&mut self, kind: ExportKind, dir: Option<PathBuf>) -> io::Result<()> {
        let reply = match self.run_personal(Personal::Export(kind)) {
            Ok(reply) => reply,
            Err(problem) => return self.say(&format!("{problem}\n")),
        };
        let dir = dir.unwrap_or_else(|| PathBuf::from("."));
        let names: Vec<&str> = reply
            .attachments
            .iter()
            .map(|f| f.filename.as_str())
            .collect();
        let names = free_names(&dir, &names);
        let mut written = Vec::new();
        for (file, name) in reply.attachments.iter().zip(&names) {
            let path = dir.join(name);
            if let Err(e) = write_private(&path, &file.content) {
                let why = if e.kind() == io::ErrorKind::AlreadyExists {
                    "it exists already, and nothing is ever overwritten".to_string()
                } else {
                    e.to_string()
                };
                self.say(&format!(
                    "error: cannot write {}: {why}. Give another folder: /reflections export <folder>\n",
                    path.display()
                ))?;
                break;
            }
            written.push(path.display().to_string());
        }
        if written.len() < reply.attachments.len() {
            for path in &written {
                self.say(&format!("  wrote {path}"))?;
            }
            return self.say("");
        }
        if let Some(text) = &reply.text {
            self.say(text)?;
        }
        for path in written {
            self.say(&format!("  wrote {path}"))?;
        }
        self.say("")
    }

    /// Asks for a new reflection's fields, each checked as it is typed; none
    /// when nothing was written (or the model or the tags asked for are not
    /// there, said at once).
    fn ask_new(&mut self, tags: &str, model: &str) -> io::Result<Option<Draft>> {
        let model = match form::model(&self.models, model) {
            Ok(model) => model.clone(),
            Err(unknown) => {
                self.say(&format!("{unknown}\n"))?;
                return Ok(None);
            }
        };
        let preset = form::tags(self.framework, tags);
        if let Some((name, why)) = preset.left_out.first() {
            self.say(&format!(
                "{name} is not a competence to tag: {why} Nothing was opened.\n"
            ))?;
            return Ok(None);
        }
        self.say(&format!("{} — {}", model.name, model.summary))?;
        for q in &model.questions {
            self.say(&format!("  · {q}"))?;
        }
        let Some(title) = self.ask_title("Title (optional): ", None)? else {
            return Ok(None);
        };
        self.say("Write your reflection; end with a line holding only a full stop (.).")?;
        let Some(text) = self.ask_text(None)? else {
            return Ok(None);
        };
        let mut skipped = false;
        let competences = self.ask_tags(&preset.kept, false, &mut skipped)?;
        let mode = self.ask_mode(Mode::default(), &mut skipped)?;
        let minutes = self.ask_minutes(None, &mut skipped)?;
        if skipped {
            let why = self.skipped_because();
            self.say(&format!(
                "{why}: saving with {} and kind {}.",
                if competences.is_empty() {
                    "no tags".to_string()
                } else {
                    tags_text(&competences)
                },
                mode.as_str()
            ))?;
        }
        Ok(Some(Draft {
            title,
            text,
            competences,
            model: model.id,
            mode,
            minutes,
        }))
    }

    fn ask_edit(&mut self, id: u64) -> io::Result<Option<Personal>> {
        let existing = match self.store().map(|s| s.reflection(LOCAL_MEMBER, id)) {
            Ok(Ok(Some(r))) => r,
            Ok(Ok(None)) => {
                self.show(&personal::not_found(id))?;
                return Ok(None);
            }
            Ok(Err(e)) => {
                self.say(&format!("error: {e}\n"))?;
                return Ok(None);
            }
            Err(problem) => {
                self.say(&format!("{problem}\n"))?;
                return Ok(None);
            }
        };
        self.say(&format!("Editing #{id}. Press Enter to keep a field as it is; end the text with a line holding only '.', or give just '.' to keep it."))?;
        let Some(title) = self.ask_title(
            &format!("Title [{}]: ", existing.title),
            Some(&existing.title),
        )?
        else {
            return Ok(None);
        };
        let Some(text) = self.ask_text(Some(&existing.text))? else {
            return Ok(None);
        };
        // Input that ends from here on keeps the remaining fields as they were.
        let mut skipped = false;
        let competences = self.ask_tags(&existing.competences, true, &mut skipped)?;
        let mode = self.ask_mode(existing.mode, &mut skipped)?;
        let minutes = self.ask_minutes(existing.minutes, &mut skipped)?;
        if skipped {
            let why = self.skipped_because();
            self.say(&format!("{why}: the other fields are kept as they were."))?;
        }
        Ok(Some(Personal::Edit(
            id,
            Draft {
                title,
                text,
                competences,
                model: existing.model,
                mode,
                minutes,
            },
        )))
    }

    /// The title, asked again (with the reason) until it fits; `keep` is
    /// what Enter keeps in an edit. None when the input ends.
    fn ask_title(&mut self, prompt: &str, keep: Option<&str>) -> io::Result<Option<String>> {
        loop {
            let Some(line) = self.read_line(prompt)? else {
                return Ok(None);
            };
            if let Some(keep) = keep.filter(|_| line.trim().is_empty()) {
                return Ok(Some(keep.to_string()));
            }
            match form::title(&line) {
                Ok(title) => return Ok(Some(title)),
                Err(why) => self.say(&format!(
                    "{why} Give a shorter one{}.",
                    if keep.is_some() {
                        ", or press Enter to keep it"
                    } else {
                        ", or press Enter for none"
                    }
                ))?,
            }
        }
    }

    /// The text, asked again (with the reason) while it is empty; `keep` is
    /// what an empty text keeps in an edit. None when the input ends with
    /// nothing written.
    fn ask_text(&mut self, keep: Option<&str>) -> io::Result<Option<String>> {
        loop {
            let (typed, ended) = self.read_text()?;
            if let Some(keep) = keep.filter(|_| typed.trim().is_empty()) {
                return Ok(Some(keep.to_string()));
            }
            match form::text(&typed) {
                Ok(text) => return Ok(Some(text)),
                Err(_) if ended => {
                    self.say("Input ended with nothing written, so nothing is saved.\n")?;
                    return Ok(None);
                }
                Err(why) => self.say(&format!(
                    "{why} Write it now; end with a line holding only a full stop (.)."
                ))?,
            }
        }
    }

    /// The tags: those that are competences kept, each other entry named
    /// with the reason it was left out. Enter keeps `default`.
    fn ask_tags(
        &mut self,
        default: &[CompetenceId],
        editing: bool,
        skipped: &mut bool,
    ) -> io::Result<Vec<CompetenceId>> {
        let prompt = match (default.is_empty(), editing) {
            (true, false) => "Competences, e.g. C3.5, I2.1 (optional): ".to_string(),
            (true, true) => "Competences [none]: ".to_string(),
            (false, false) => format!("Competences [{}]: ", tags_text(default)),
            (false, true) => format!(
                "Competences [{}] (Enter keeps them, none removes them): ",
                tags_text(default)
            ),
        };
        let Some(typed) = self.read_answer(&prompt)? else {
            *skipped = true;
            return Ok(default.to_vec());
        };
        if typed.trim().is_empty() {
            return Ok(default.to_vec());
        }
        let read = form::tags(self.framework, &typed);
        if let Some(note) = read.note() {
            self.say(&format!(
                "{note} {} with /reflections tag <number> <competence>.",
                if read.kept.is_empty() {
                    "Add tags later"
                } else {
                    "The others are kept; add more later"
                }
            ))?;
        }
        Ok(read.kept)
    }

    /// The kind of work, asked again (with the reason) until it is one of
    /// them. Enter keeps `default`.
    fn ask_mode(&mut self, default: Mode, skipped: &mut bool) -> io::Result<Mode> {
        loop {
            let Some(typed) = self.read_answer(&format!(
                "Kind of work: therapy, coaching, integrated or other [{}]: ",
                default.as_str()
            ))?
            else {
                *skipped = true;
                return Ok(default);
            };
            if typed.trim().is_empty() {
                return Ok(default);
            }
            match form::mode(&typed) {
                Ok(mode) => return Ok(mode),
                Err(why) => self.say(&why)?,
            }
        }
    }

    /// The time spent, asked again (with the reason) until it reads as one.
    /// Enter keeps `default`.
    fn ask_minutes(&mut self, default: Option<u32>, skipped: &mut bool) -> io::Result<Option<u32>> {
        let now = default.map_or("none".to_string(), minutes_text);
        loop {
            let prompt = if default.is_some() {
                format!("Time spent [{now}] (none removes it): ")
            } else {
                "Time spent, for your CPD record (optional, e.g. 45 or 1h 30): ".to_string()
            };
            let Some(typed) = self.read_answer(&prompt)? else {
                *skipped = true;
                return Ok(default);
            };
            if typed.trim().is_empty() {
                return Ok(default);
            }
            match form::minutes(&typed) {
                Ok(minutes) => return Ok(minutes),
                Err(why) => self.say(&format!("{why} Or press Enter to leave it out."))?,
            }
        }
    }

    /// Lines until one holding only `.`, and whether the input ended first.
    fn read_text(&mut self) -> io::Result<(String, bool)> {
        let mut lines = Vec::new();
        loop {
            match self.read_line("| ")? {
                Some(line) if line.trim() == "." => return Ok((lines.join("\n"), false)),
                Some(line) => lines.push(line),
                None => return Ok((lines.join("\n"), true)),
            }
        }
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

fn parse_line(framework: &Framework, line: &str) -> Line {
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

/// `/reflect [competences] [model:gibbs]`.
fn reflect(args: &str) -> Line {
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

const REFLECTIONS_USAGE: &str = "Use /reflections list [competence] [page:N], view <number>, edit <number>, tag or untag <number> <competence>, delete <number>, export [cpd [year] [from <month>]] [folder] or forget-me.";

/// Reads `export [cpd [year] [from <month>]] [folder]`.
fn export_line(rest: &[&str]) -> Line {
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
fn list_line(framework: &Framework, rest: &[&str]) -> Line {
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

fn reflections(framework: &Framework, args: &str) -> Line {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::commands_on;
    use chrono::Datelike;

    fn session(dir: &Path, input: &str) -> String {
        let f = Library::builtin().unwrap();
        let mut out = Vec::new();
        Console::new(&f, dir, input.as_bytes(), &mut out, false)
            .unwrap()
            .run()
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    fn temp(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("companion-console-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_cpd_record_is_written_with_the_time_spent_and_the_year_asked_for() {
        let dir = temp("cpd");
        let folder = temp("cpd-out");
        std::fs::create_dir_all(&folder).unwrap();
        let out = session(
            &dir,
            &format!(
                "/reflect C3.5 model:rolfe\nRupture\nWhat? A rupture.\nSo what? I rushed.\nNow what? Pause first.\n.\n\ncoaching\n1h 30\n/reflections export cpd 20x6\n/reflections export cpd 1999\n/reflections export cpd from Smarch\n/reflections export cpd {} from April {}\n",
                chrono::Utc::now().year() - 1 + i32::from(chrono::Utc::now().month() >= 4),
                folder.display()
            ),
        );
        assert!(out.contains("Saved as reflection #1"), "{out}");
        assert!(out.contains("The year is written in digits only"), "{out}");
        assert!(!out.contains("20x6"), "never echoed: {out}");
        assert!(
            out.contains("Give the month your membership year starts"),
            "{out}"
        );
        assert!(out.contains("Membership years start in April"), "{out}");
        assert!(
            out.contains("Membership years from 2000 to 2100 can be exported")
                && !out.contains("1999")
                && !out.contains("is not a year"),
            "{out}"
        );
        assert!(
            out.contains("read under its headings, numbered or not"),
            "the headings read are shown: {out}"
        );
        let files: Vec<PathBuf> = std::fs::read_dir(&folder)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert_eq!(files.len(), 2, "{files:?}");
        let md_path = files
            .iter()
            .find(|p| p.extension().is_some_and(|e| e == "md"));
        let md = std::fs::read_to_string(md_path.unwrap()).unwrap();
        assert!(md.contains("**Time spent:** 1 hour 30 minutes"), "{md}");
        assert!(md.contains("**What I learned:**\n\nI rushed."), "{md}");
        assert!(md.contains("Core 3.5 — "), "{md}");
    }

    #[test]
    fn a_text_longer_than_one_reflection_is_saved_whole_in_parts() {
        let dir = temp("long");
        let folder = temp("long-out");
        std::fs::create_dir_all(&folder).unwrap();
        let paragraph = "Written at length in the console, every word kept. ".repeat(50);
        let text = vec![paragraph.trim(); 45].join("\n\n");
        assert!(text.chars().count() > crate::reflections::MAX_STORED_CHARS);
        let out = session(
            &dir,
            &format!(
                "/reflect C3.5\nLong\n{text}\n.\n\n\n1h\n/reflections list\n/map\n/reflections export cpd {}\n",
                folder.display()
            ),
        );
        let tail = |out: &str| {
            out.chars()
                .rev()
                .take(3000)
                .collect::<String>()
                .chars()
                .rev()
                .collect::<String>()
        };
        assert!(
            out.contains("Saved as reflections #1 to #2, tagged C3.5")
                && out.contains("kept whole in 2 parts, which count as one entry"),
            "{}",
            tail(&out)
        );
        assert!(out.contains("Long (part 1 of 2)") && out.contains("Long (part 2 of 2)"));
        assert!(
            out.contains("1 reflection touching 1 of 60"),
            "one entry on the map: {}",
            tail(&out)
        );
        let md = std::fs::read_dir(&folder)
            .unwrap()
            .flatten()
            .find(|e| e.path().extension().is_some_and(|x| x == "md"))
            .map(|e| std::fs::read_to_string(e.path()).unwrap())
            .unwrap();
        assert!(
            md.contains("1 entry · time recorded: 1 hour ·"),
            "{}",
            &md[..400]
        );
        let one = session(&dir, "/reflections view 1\n");
        let two = session(&dir, "/reflections view 2\n");
        let words = |t: &str| t.split_whitespace().filter(|w| *w == "kept.").count();
        assert_eq!(
            words(&one) + words(&two),
            50 * 45,
            "every sentence is kept and shown"
        );
    }

    /// Each field is checked as it is typed and asked again with the reason:
    /// a title too long, an empty text, a kind of work that is none of them,
    /// a time that is not one. Nothing typed before is lost.
    #[test]
    fn each_field_is_checked_when_typed_and_asked_again() {
        let dir = temp("fields");
        let long = "t".repeat(124);
        let out = session(
            &dir,
            &format!(
                "/reflect\n{long}\nA shorter title\n.\nThe work itself.\n.\n\nsupervision\nother\nan hour or so\n45\n/reflections view 1\n"
            ),
        );
        let refused = out.find("The title is 124 characters long").expect(&out);
        let asked = out.find("Write your reflection").expect(&out);
        assert!(refused < asked, "refused at the title prompt: {out}");
        assert!(out.contains("The reflection is empty."), "{out}");
        assert!(
            out.contains("supervision, training and reading are other"),
            "{out}"
        );
        assert!(!out.contains("saved as coaching"), "{out}");
        assert!(out.contains("That is not a time spent"), "{out}");
        assert!(out.contains("Saved as reflection #1."), "{out}");
        assert!(out.contains("#1 A shorter title"), "{out}");
        assert!(
            out.contains("Other work") && out.contains("45 minutes"),
            "{out}"
        );
        assert!(out.contains("The work itself."), "{out}");
    }

    /// A bad tag drops only itself, by name, in a new reflection and in an
    /// edit; a bad tag given to /reflect is said at once.
    #[test]
    fn a_bad_tag_drops_only_itself() {
        let dir = temp("tags");
        let out = session(&dir, "/reflect\n\nTagged.\n.\nC3.5, C2.10, C9.9\n\n\n");
        assert!(
            out.contains("C9.9 was left out: there is no such competence."),
            "{out}"
        );
        assert!(
            out.contains("Saved as reflection #1, tagged C3.5, C2.10"),
            "{out}"
        );
        let out = session(
            &dir,
            "/reflections edit 1\n\n.\nC3.5, I2.3, C9.9, strengths\n\n\n/reflections view 1\n",
        );
        assert!(out.contains("The 4th entry was left out"), "{out}");
        assert!(!out.contains("kept as they were"), "{out}");
        assert!(out.contains("C3.5, I2.3"), "{out}");
        let out = session(&dir, "/reflect C9.9\n/reflections list\n");
        assert!(out.contains("C9.9 is not a competence to tag"), "{out}");
        assert!(
            !out.contains("Write your reflection"),
            "nothing asked: {out}"
        );
        assert!(out.contains("1 in all"), "the next line ran: {out}");
    }

    #[test]
    fn the_look_wraps_at_words_styles_or_strips_emphasis_and_keeps_indents() {
        let plain = Look {
            width: Some(30),
            colour: false,
        };
        let text = "**Bold start** then `code` and a sentence long enough to wrap twice over.\n  · an indented item that also runs long enough to wrap";
        let shown = plain.text(text);
        assert!(!shown.contains("**") && !shown.contains('`'), "{shown}");
        assert!(shown.lines().all(|l| l.chars().count() <= 30), "{shown}");
        let words = |t: &str| t.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(
            words(&shown),
            words(&text.replace("**", "").replace('`', ""))
        );
        let item: Vec<&str> = shown.lines().skip_while(|l| !l.contains('·')).collect();
        assert!(
            item.len() > 1 && item[1].starts_with("    "),
            "hanging indent: {shown}"
        );
        assert_eq!(plain.text("*An aside.*"), "An aside.");
        let styled = Look {
            width: None,
            colour: true,
        };
        let shown = styled.text("**Bold** rest");
        assert!(
            shown.starts_with("\u{1b}[1mBold\u{1b}[0m rest"),
            "{shown:?}"
        );
        assert_eq!(Look::default().text("a **b** c"), "a b c");
    }

    /// The console shows reflection times in local time, not UTC.
    #[test]
    fn reflection_times_are_local() {
        let dir = temp("local-time");
        let day = || chrono::Local::now().format("%-d %B %Y").to_string();
        let before = day();
        let out = session(
            &dir,
            "/reflect\n\nA moment.\n.\n\n\n\n/reflections view 1\n",
        );
        let after = day();
        let written = out
            .lines()
            .find(|l| l.contains("Written "))
            .unwrap_or_default();
        assert!(!written.contains("UTC"), "{written}");
        assert!(
            written.contains(&before) || written.contains(&after),
            "{written}"
        );
    }

    /// The console has every command the core's list gives it, and `/help`
    /// names only those; Discord's help names none of the console's own.
    #[test]
    fn the_console_has_the_commands_its_help_lists() {
        let f = Library::builtin().unwrap();
        for name in commands_on(FrontEnd::Console) {
            let line = format!("/{name} preview");
            assert!(
                !matches!(parse_line(&f, &line), Line::Problem(ref p) if p.starts_with("There is no")),
                "/{name} is listed for the console but not parsed"
            );
        }
        let console = commands::help_text(FrontEnd::Console);
        let discord = commands::help_text(FrontEnd::Discord);
        for absent in ["/remind", "/inline", "/schedule set"] {
            assert!(!console.contains(absent), "{absent} in the console's help");
        }
        assert!(console.contains("/week") && console.contains("/quit"));
        assert!(!discord.contains("/quit") && discord.contains("/remind on"));
        let out = session(&temp("help"), "/help\n/remind on\n");
        assert!(out.contains("There is no /remind command"), "{out}");
        assert!(out.contains("/help or /quit."), "{out}");
    }

    /// `/week` for a member practising alone: one competence a week from
    /// Monday, kept across sessions; `/schedule preview` shows the next
    /// without using it up.
    #[test]
    fn the_week_is_a_personal_rotation_that_moves_on_each_monday() {
        use crate::clock::ManualClock;
        use chrono::TimeZone;
        let dir = temp("week");
        let f = Library::builtin().unwrap();
        let at = |day: u32| {
            chrono::Utc
                .with_ymd_and_hms(2026, 11, day, 12, 0, 0)
                .unwrap()
        };
        let run = |day: u32, input: &str| {
            let mut out = Vec::new();
            let mut console = Console::new(&f, &dir, input.as_bytes(), &mut out, false).unwrap();
            console.clock = Box::new(ManualClock::new(at(day)));
            console.run().unwrap();
            String::from_utf8(out).unwrap()
        };
        let title = |out: &str, lead: &str| -> String {
            let after = out.split(lead).nth(1).unwrap_or_default();
            after
                .lines()
                .find(|l| l.starts_with("Competence of the week: "))
                .unwrap_or_default()
                .to_string()
        };
        // Wednesday 25 November: C1.1; again the same week; next is C1.2.
        let out = run(25, "/week\n/week\n/schedule preview\n");
        assert_eq!(
            title(&out, "Your competence of the week:"),
            "Competence of the week: C1.1"
        );
        assert_eq!(
            out.matches("Competence of the week: C1.1").count(),
            2,
            "{out}"
        );
        assert_eq!(
            title(&out, "Next week's competence"),
            "Competence of the week: C1.2"
        );
        // Sunday, same week, a new session: still C1.1.
        let out = run(29, "/w\n");
        assert!(out.contains("Competence of the week: C1.1"), "{out}");
        // Monday 30 November: the rotation moves on, once.
        let out = run(30, "/week\n/week\n/schedule preview\n");
        assert_eq!(
            out.matches("Competence of the week: C1.2").count(),
            2,
            "{out}"
        );
        assert!(out.contains("Competence of the week: C1.3"), "{out}");
        let out = run(30, "/schedule set\n");
        assert!(out.contains("set up in Discord"), "{out}");
    }

    #[test]
    fn the_week_follows_the_zone_tz_names() {
        assert_eq!(
            zone_named(Some("Pacific/Auckland")),
            Some(chrono_tz::Pacific::Auckland)
        );
        assert_eq!(
            zone_named(Some(":Europe/Dublin")),
            Some(chrono_tz::Europe::Dublin)
        );
        assert_eq!(zone_named(Some("/etc/localtime")), None);
        assert_eq!(zone_named(Some("")), None);
        assert_eq!(zone_named(None), None);
    }

    /// The personal week turns at Monday 00:00 in the console's zone: at
    /// 12:00 UTC on Sunday 29 November it is already Monday in Auckland.
    #[test]
    fn the_week_turns_at_monday_in_the_consoles_zone() {
        use crate::clock::ManualClock;
        use chrono::TimeZone;
        let f = Library::builtin().unwrap();
        let run = |dir: &Path, zone: chrono_tz::Tz, day: u32| {
            let mut out = Vec::new();
            let mut console = Console::new(&f, dir, "/week\n".as_bytes(), &mut out, false).unwrap();
            console.zone = zone;
            console.clock = Box::new(ManualClock::new(
                chrono::Utc
                    .with_ymd_and_hms(2026, 11, day, 12, 0, 0)
                    .unwrap(),
            ));
            console.run().unwrap();
            String::from_utf8(out).unwrap()
        };
        let london = temp("week-zone-london");
        let auckland = temp("week-zone-auckland");
        // Friday 27th: the first week, in both zones.
        run(&london, chrono_tz::Europe::London, 27);
        run(&auckland, chrono_tz::Pacific::Auckland, 27);
        let in_london = run(&london, chrono_tz::Europe::London, 29);
        let in_auckland = run(&auckland, chrono_tz::Pacific::Auckland, 29);
        assert!(
            in_london.contains("Competence of the week: C1.1"),
            "still Sunday: {in_london}"
        );
        assert!(
            in_auckland.contains("Competence of the week: C1.2"),
            "already Monday: {in_auckland}"
        );
    }

    #[test]
    fn search_results_end_with_a_next_step() {
        let out = session(&temp("search-next"), "/search theories of motivation\n");
        assert!(out.contains("Core 4.2"), "{out}");
        assert!(
            out.contains("Next: /competence C4.2 opens the first"),
            "{out}"
        );
        let out = session(&temp("same-number"), "/competence C3.5\n");
        let next = out
            .lines()
            .find(|l| l.starts_with("Next:"))
            .unwrap_or_default();
        assert!(
            next.ends_with("/competence I3.5"),
            "the other domain last: {next}"
        );
    }

    #[test]
    fn the_guide_reads_whole_sections_and_lists_them() {
        let out = session(&temp("guide"), "/guide supervision\n/guide\n/guide xqzvw\n");
        assert!(out.contains("The role of supervision"), "{out}");
        assert!(
            out.contains("might therefore need to engage a second supervisor"),
            "{out}"
        );
        assert!(out.contains("Definitions and terminology"), "{out}");
        assert!(
            out.contains("Next: /guide executive-summary opens the first"),
            "{out}"
        );
        assert_eq!(
            out.matches("definition-coaching").count(),
            1,
            "listed once: {out}"
        );
        assert!(
            out.contains("No section of the user guide matches"),
            "{out}"
        );
        // A long section is printed whole: every part, in order.
        let out = session(&temp("guide-long"), "/guide how-to-use\n");
        assert!(
            out.contains("(part 1 of 2)") && out.contains("(part 2 of 2)"),
            "{out}"
        );
        assert!(out.contains("for the greater benefit of those they work with."));
    }

    #[test]
    fn lookups_need_no_store() {
        let dir = temp("lookups");
        let out = session(
            &dir,
            "/competence 3.5 domain:core\n/search theories of motivation\n",
        );
        assert!(out.contains("Core 3.5") && !out.contains("Integration 3.5"));
        assert!(out.contains("Core 4.2"));
        assert!(!dir.exists(), "nothing is written for lookups");
    }

    #[test]
    fn a_reflection_is_written_listed_viewed_and_mapped() {
        let dir = temp("reflect");
        let out = session(
            &dir,
            "/reflect C3.5 model:rolfe\nStrengths session\nWhat? My client named their values.\nNow what? Try C2.8.\n.\n\nintegrated\n/reflections list\n/reflections view 1\n/map\n",
        );
        assert!(out.contains("Rolfe"), "{out}");
        assert!(out.contains("Saved as reflection #1, tagged C3.5"), "{out}");
        assert!(out.contains("You mention C2.8"), "{out}");
        assert!(out.contains("/reflections tag 1 C2.8"), "{out}");
        assert!(out.contains("#1 "), "{out}");
        assert!(out.contains("My client named their values."), "{out}");
        assert!(out.contains("Your competence map"), "{out}");
        assert!(out.contains("Integrated therapy and coaching"), "{out}");
    }

    #[test]
    fn delete_and_forget_ask_first() {
        let dir = temp("delete");
        let out = session(
            &dir,
            "/reflect\n\nOne.\n.\n\n\n/reflections delete 1\nno\n/reflections view 1\n/reflections forget-me\nyes\n/reflections forget-me\nforget-me\n/reflections list\n",
        );
        assert!(
            out.contains("Kept: reflection #1 was not deleted."),
            "{out}"
        );
        assert!(out.contains("Nothing was removed."), "{out}");
        assert!(out.contains("Done: 1 reflection"), "{out}");
        assert!(out.contains("You have no reflections yet"), "{out}");
    }

    #[test]
    fn a_locked_data_directory_is_reported_before_anything_is_asked() {
        let dir = temp("locked-early");
        let holder = Store::open(&dir, None).unwrap();
        let out = session(&dir, "/reflect\n");
        assert!(out.contains("in use by another companion process"), "{out}");
        assert!(
            !out.contains("Write your reflection"),
            "nothing was asked: {out}"
        );
        drop(holder);
    }

    #[test]
    fn input_that_ends_after_the_text_still_saves_it() {
        let dir = temp("eof");
        let out = session(
            &dir,
            "/reflect C3.5\nA title\nThe text, then the input ends.\n",
        );
        assert!(out.contains("Input ended: saving with C3.5"), "{out}");
        assert!(out.contains("Saved as reflection #1"), "{out}");
        let out = session(&dir, "/reflections view 1\n");
        assert!(out.contains("The text, then the input ends."), "{out}");
        // An edit whose input ends after the text keeps the other fields.
        let out = session(&dir, "/reflections edit 1\n\nRevised text.\n.\n");
        assert!(out.contains("Reflection #1 updated."), "{out}");
        let out = session(&dir, "/reflections view 1\n");
        assert!(
            out.contains("Revised text.") && out.contains("C3.5"),
            "{out}"
        );
    }

    #[test]
    fn unknown_numbers_are_not_found_and_commands_are_not_answers() {
        let dir = temp("not-found");
        let out = session(
            &dir,
            "/reflect\n\nOne.\n.\n\n\n/reflections delete 7\n/reflections view 1\n",
        );
        assert!(out.contains("You have no reflection #7"), "{out}");
        assert!(!out.contains("Type yes"), "{out}");
        assert!(out.contains("One."), "the next command was run: {out}");
        let out = session(&dir, "/reflections delete 1\n/reflections list\n");
        assert!(
            out.contains("Kept: reflection #1 was not deleted."),
            "{out}"
        );
        assert!(
            out.contains("1 in all"),
            "the command was run, not swallowed: {out}"
        );
        let out = session(&dir, "/reflections forget-me\n/map\n");
        assert!(out.contains("Nothing was removed."), "{out}");
        assert!(out.contains("competence map"), "{out}");
    }

    #[cfg(unix)]
    #[test]
    fn exports_are_private_new_files_never_through_a_link() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp("export-private");
        let folder = temp("export-private-out");
        std::fs::create_dir_all(&folder).unwrap();
        let export = format!("/reflections export {}\n", folder.display());
        let out = session(&dir, &format!("/reflect\n\nPrivate.\n.\n\n\n{export}"));
        assert!(out.contains("wrote"), "{out}");
        let files: Vec<_> = std::fs::read_dir(&folder).unwrap().flatten().collect();
        assert_eq!(files.len(), 2);
        for f in &files {
            assert_eq!(f.metadata().unwrap().permissions().mode() & 0o777, 0o600);
        }
        // Again the same day: nothing is overwritten.
        let before: Vec<Vec<u8>> = files
            .iter()
            .map(|f| std::fs::read(f.path()).unwrap())
            .collect();
        let out = session(&dir, &export);
        assert!(!out.contains("error"), "{out}");
        let names = |dir: &Path| {
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .flatten()
                .map(|f| f.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        let now = names(&folder);
        assert_eq!(now.len(), 4, "a second export beside the first: {now:?}");
        assert!(
            now.iter().filter(|n| n.contains("-2.")).count() == 2,
            "{now:?}"
        );
        let after: Vec<Vec<u8>> = files
            .iter()
            .map(|f| std::fs::read(f.path()).unwrap())
            .collect();
        assert_eq!(before, after);
        // A link planted at the name is not followed.
        let other = temp("export-link-out");
        std::fs::create_dir_all(&other).unwrap();
        let target = temp("export-link-target");
        std::fs::write(&target, b"not yours").unwrap();
        for f in &files {
            std::os::unix::fs::symlink(&target, other.join(f.file_name())).unwrap();
        }
        let out = session(&dir, &format!("/reflections export {}\n", other.display()));
        assert!(out.contains("wrote"), "{out}");
        assert_eq!(std::fs::read(&target).unwrap(), b"not yours");
        assert_eq!(names(&other).len(), 4, "written beside the links");
    }

    #[test]
    fn a_long_script_of_declined_confirmations_runs_every_line() {
        let dir = temp("many-confirms");
        // Each answer is itself a command asking for confirmation: they are
        // run one after another, never nested.
        let script = "/reflections forget-me\n".repeat(20_000) + "/map\n";
        let out = session(&dir, &script);
        // Each line answers the one before (declined) and then runs as a command
        // that asks again; the last ask is answered by /map, which then runs.
        assert_eq!(out.matches("Nothing was removed.").count(), 20_000);
        assert!(out.contains("competence map"), "the last line ran");
    }

    #[test]
    fn lookups_in_an_empty_existing_directory_create_no_database() {
        let dir = temp("empty-existing");
        std::fs::create_dir_all(&dir).unwrap();
        let out = session(&dir, "/competence 3.5\n");
        assert!(out.contains("3.5"), "{out}");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    }

    #[test]
    fn unknown_commands_say_what_exists() {
        let dir = temp("unknown");
        let out = session(
            &dir,
            "/frobnicate\n/reflections frob\n/reflections view x\n",
        );
        assert!(out.contains("There is no /frobnicate command"));
        assert!(out.contains("Use /reflections list"));
        assert!(out.contains("Give the reflection's number"));
    }

    /// Every message the console gives for what the issue found untrue.
    #[test]
    fn messages_say_what_is_true() {
        let dir = temp("true");
        let out = session(&dir, "//competence 3.5\n");
        assert!(
            out.contains("Core 3.5") && !out.contains("There is no"),
            "{out}"
        );
        let out = session(&dir, "/reflect model:\n/reflect model:borton\n");
        assert!(
            out.contains("Name a reflective model after model: one of free, gibbs, rolfe, kolb."),
            "{out}"
        );
        assert!(!out.contains("model ."), "{out}");
        assert!(
            out.contains("What? So what? Now what?"),
            "borton found: {out}"
        );
        let out = session(&dir, "/guide how-to-use part 2\n");
        assert!(
            out.contains("(part 2 of 2)") && !out.contains("(part 1 of 2)"),
            "{out}"
        );
        let out = session(&dir, "help\n");
        assert!(
            out.contains("keeps the BACP Coaching competence framework"),
            "{out}"
        );
        assert!(!out.contains("Best matches"), "help is not searched: {out}");
        let out = session(&dir, "exit\n/competence 3.5\n");
        assert!(!out.contains("Core 3.5"), "exit leaves: {out}");
        let out = session(&dir, "quit\n/competence 3.5\n");
        assert!(!out.contains("Core 3.5"), "quit leaves: {out}");
        let out = session(&dir, "theories of motivation\n");
        assert!(out.contains("Core 4.2"), "{out}");
        assert!(!out.contains("isn't a competence code"), "{out}");
        let out = session(&dir, "/week C2.9\n");
        assert!(out.contains("Competence of the week: C2.9"), "{out}");
        let out = session(&dir, "/search what is therapy\n");
        for row in out.lines().filter(|l| l.starts_with("  Guide: ")) {
            assert!(row.contains(" · "), "{row}");
        }
        assert!(out.contains("  Guide: "), "{out}");
    }

    /// Tags added twice say so; a tag can be removed; an untitled
    /// reflection is named alike in its list, its view and its export; no
    /// card tells the console's one member that only they can see it.
    #[test]
    fn reflections_are_named_and_tagged_truly() {
        let dir = temp("tagged");
        let folder = temp("tagged-out");
        std::fs::create_dir_all(&folder).unwrap();
        let out = session(
            &dir,
            &format!(
                "/reflect\n\nThe opening words name it.\n.\n\n\n\n/reflections tag 1 C2.9\n/reflections tag 1 C2.9\n/reflections untag 1 C2.9\n/reflections untag 1 C2.9\n/reflections list\n/reflections view 1\n/map\n/reflections export {}\n",
                folder.display()
            ),
        );
        assert!(out.contains("Reflection #1 is now tagged C2.9."), "{out}");
        assert!(
            out.contains("Reflection #1 is already tagged C2.9; nothing changed."),
            "{out}"
        );
        assert!(
            out.contains("Reflection #1 is no longer tagged C2.9."),
            "{out}"
        );
        assert!(out.contains("Reflection #1 is not tagged C2.9"), "{out}");
        assert!(
            out.contains("· The opening words name it.")
                && out.contains("#1 The opening words name it."),
            "{out}"
        );
        assert!(!out.contains("Untitled"), "{out}");
        assert!(!out.contains("Only you can see this"), "{out}");
        let md = std::fs::read_dir(&folder)
            .unwrap()
            .flatten()
            .find(|e| e.path().extension().is_some_and(|x| x == "md"))
            .map(|e| std::fs::read_to_string(e.path()).unwrap())
            .unwrap();
        assert!(md.contains("## #1 The opening words name it."), "{md}");
    }

    /// A list longer than a page says how to reach the next, and
    /// `page 2`, `page:2` and `2` all reach it.
    #[test]
    fn a_list_says_how_to_reach_its_next_page() {
        let dir = temp("pages");
        let twelve: String = (1..=12)
            .map(|i| format!("/reflect\nNumber {i}\nText {i}.\n.\n\n\n\n"))
            .collect();
        let out = session(&dir, &format!("{twelve}/reflections list\n"));
        assert!(
            out.contains("Page 1 of 2 · 12 in all · /reflections list page:2 for the next"),
            "{out}"
        );
        assert!(out.contains("Next: /reflections view 12"), "{out}");
        assert!(out.contains("/reflections list page:2"), "{out}");
        for asked in ["page 2", "page:2", "2"] {
            let out = session(&dir, &format!("/reflections list {asked}\n"));
            assert!(out.contains("Page 2 of 2"), "{asked}: {out}");
            assert!(!out.contains("tag"), "{asked}: {out}");
        }
    }

    mod typed_text_is_never_dropped {
        use super::*;
        use proptest::prelude::*;

        /// An answer to one prompt: anything on one line, or the answers
        /// people give (codes, kinds, times, a full stop, nothing, a
        /// harmless command).
        fn answer() -> impl Strategy<Value = String> {
            prop_oneof![
                "[^\n]{0,130}",
                Just(String::new()),
                Just(".".to_string()),
                Just("/map".to_string()),
                Just("C3.5, C9.9, strengths".to_string()),
                Just("supervision".to_string()),
                Just("other".to_string()),
                Just("1h 30".to_string()),
                Just("soon".to_string()),
                "[tT]{95,110}",
            ]
            .prop_filter("no command but the harmless", |a| {
                !a.trim_start().starts_with('/') || a.trim() == "/map"
            })
        }

        fn clean(line: &str) -> String {
            line.chars()
                .filter(|c| !c.is_control() || *c == '\t')
                .collect::<String>()
                .trim()
                .to_string()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(40))]

            /// Whatever is answered to each prompt of /reflect, every line
            /// the console took as the text is saved, or shown back.
            #[test]
            fn the_text_is_saved_or_shown_back(
                answers in prop::collection::vec(answer(), 1..14),
            ) {
                let dir = temp(&format!("prop-{}", std::process::id() as u128 * 1_000_000 + u128::from(rand_id())));
                let f = Library::builtin().unwrap();
                let input = format!("/reflect\n{}\n", answers.join("\n"));
                let mut out = Vec::new();
                let mut console = Console::new(&f, &dir, input.as_bytes(), &mut out, false).unwrap();
                console.run().unwrap();
                let transcript = std::mem::take(&mut console.transcript);
                drop(console);
                let shown = String::from_utf8(out).unwrap();
                let store = Store::open(&dir, None).unwrap();
                let saved: String = store
                    .reflections_of(LOCAL_MEMBER)
                    .unwrap()
                    .items
                    .iter()
                    .map(|r| format!("{}\n{}\n", r.title, r.text))
                    .collect();
                drop(store);
                let _ = std::fs::remove_dir_all(&dir);
                for (prompt, line) in &transcript {
                    let Some(line) = line else { continue };
                    if prompt != "| " || line.trim() == "." {
                        continue;
                    }
                    let typed = clean(line);
                    prop_assert!(
                        typed.is_empty() || saved.contains(&typed) || shown.contains(&typed),
                        "{typed:?} was typed as the text, and is neither saved nor shown back\nsaved: {saved:?}\nshown: {shown}"
                    );
                }
            }
        }

        fn rand_id() -> u32 {
            use std::sync::atomic::{AtomicU32, Ordering};
            static NEXT: AtomicU32 = AtomicU32::new(0);
            NEXT.fetch_add(1, Ordering::Relaxed)
        }
    }
}
