//! Asking a supervision log entry's and a case presentation's fields in
//! the console: each read and checked as typed by the core, asked again
//! with the reason, every free text read by the confidentiality check
//! before anything is saved; what was typed is shown back if it is not.

use std::io::{self, BufRead, Write};

use super::parse::SupervisionLine;
use super::{Confirmed, Console, LOCAL_MEMBER};
use crate::commands::personal::{self, CaseCommand, LogCommand, Personal, PriorityCommand};
use crate::framework::CompetenceId;
use crate::reflections::review;
use crate::reflections::{form, nudge, tags_text};
use crate::supervision::case::{self, CaseDraft, Field, Frame, QUESTION};
use crate::supervision::log::{self, LogDraft};

/// A free text as the member left it: what it holds, and whether the input
/// ended with it.
struct Written {
    text: String,
    ended: bool,
}

impl<R: BufRead, W: Write> Console<'_, R, W> {
    /// Runs a supervision line: a form, a delete (asked first), or a command.
    pub(super) fn supervision(&mut self, line: SupervisionLine) -> io::Result<bool> {
        let command = match line {
            SupervisionLine::LogAdd => match self.ask_log_entry()? {
                Some(draft) => {
                    let text = draft.took_away.clone();
                    return self
                        .save_or_show_back(Personal::Log(LogCommand::Add(draft)), &text)
                        .map(|()| true);
                }
                None => return Ok(true),
            },
            SupervisionLine::Present(frame) => match self.ask_case(frame)? {
                Some(draft) => {
                    let typed = shown_back(&draft.fields);
                    return self
                        .save_or_show_back(Personal::Cases(CaseCommand::Save(draft)), &typed)
                        .map(|()| true);
                }
                None => return Ok(true),
            },
            SupervisionLine::Review => match self.ask_review()? {
                Some(answers) => {
                    let typed = answers
                        .iter()
                        .map(|(id, a)| format!("{}\n{a}", id.short()))
                        .collect::<Vec<_>>()
                        .join("\n\n");
                    let command = Personal::Priorities(PriorityCommand::Review(answers));
                    return self.save_or_show_back(command, &typed).map(|()| true);
                }
                None => return Ok(true),
            },
            SupervisionLine::LogDelete(id) => {
                let asked = match self.store().map(|s| s.log_entry(LOCAL_MEMBER, id)) {
                    Ok(Ok(Some(e))) => personal::confirm_delete_log(&e),
                    Ok(Ok(None)) => return self.show(&personal::log_not_found(id)).map(|()| true),
                    Ok(Err(e)) => return self.say(&format!("error: {e}\n")).map(|()| true),
                    Err(problem) => return self.say(&format!("{problem}\n")).map(|()| true),
                };
                let answer = self.confirm(&asked)?;
                self.confirmed(answer, Personal::Log(LogCommand::Delete(id)))
            }
            SupervisionLine::PresentDelete(id) => {
                let asked = match self.store().map(|s| s.presentation(LOCAL_MEMBER, id)) {
                    Ok(Ok(Some(p))) => personal::confirm_delete_presentation(&p),
                    Ok(Ok(None)) => return self.show(&personal::case_not_found(id)).map(|()| true),
                    Ok(Err(e)) => return self.say(&format!("error: {e}\n")).map(|()| true),
                    Err(problem) => return self.say(&format!("{problem}\n")).map(|()| true),
                };
                let answer = self.confirm(&asked)?;
                self.confirmed(answer, Personal::Cases(CaseCommand::Delete(id)))
            }
        };
        if let Some(command) = command {
            match self.run_personal(command) {
                Ok(reply) => self.show(&reply)?,
                Err(problem) => self.say(&format!("{problem}\n"))?,
            }
        }
        Ok(true)
    }

    /// `command` when confirmed; a command typed instead is kept to run next.
    fn confirmed(&mut self, answer: Confirmed, command: Personal) -> Option<Personal> {
        match answer {
            Confirmed::Yes => Some(command),
            Confirmed::No => None,
            Confirmed::NoButRun(line) => {
                self.pending = Some(line);
                None
            }
        }
    }

    /// A required field's answer, asked again with the reason until `read`
    /// takes it. None when the input ends or a command is typed (kept to
    /// run next), said so.
    fn ask_until<T>(
        &mut self,
        prompt: &str,
        read: impl Fn(&str) -> Result<T, String>,
    ) -> io::Result<Option<T>> {
        loop {
            let Some(typed) = self.read_answer(prompt)? else {
                let why = self.skipped_because();
                self.say(&format!("{why}: nothing is saved.\n"))?;
                return Ok(None);
            };
            match read(&typed) {
                Ok(value) => return Ok(Some(value)),
                Err(why) => self.say(&why)?,
            }
        }
    }

    /// A free text ending with a line holding only a full stop, checked by
    /// `check` and asked again with the reason; then read by the
    /// confidentiality check, and the member asked to write it again or
    /// keep it as written. `required` is said when it is left empty. None
    /// when it cannot be kept as typed (the input ended): it is shown back.
    fn ask_private_text(
        &mut self,
        what: &str,
        check: fn(&str) -> Result<String, String>,
        required: Option<&str>,
    ) -> io::Result<Option<Written>> {
        let (mut typed, mut ended) = self.read_text()?;
        let mut kept: Option<String> = None;
        loop {
            let text = match check(&typed) {
                Ok(text) => text,
                Err(why) if ended => {
                    self.say(&format!(
                        "{why} Nothing is saved. Here is what you wrote, so it is not lost:\n"
                    ))?;
                    writeln!(self.out, "{typed}\n")?;
                    return Ok(None);
                }
                Err(why) => {
                    self.say(&format!(
                        "{why} Write it again; end with a line holding only a full stop (.)."
                    ))?;
                    (typed, ended) = self.read_text()?;
                    continue;
                }
            };
            if text.is_empty() {
                if let Some(text) = kept.take() {
                    return Ok(Some(Written { text, ended }));
                }
                if let Some(need) = required.filter(|_| !ended) {
                    self.say(need)?;
                    (typed, ended) = self.read_text()?;
                    continue;
                }
                return Ok(Some(Written { text, ended }));
            }
            match nudge::field_warning(what, &nudge::concerns(&text)) {
                Some(warning) if !ended => {
                    self.say(&format!(
                        "{warning} Write it again without them (end with a line holding only a full stop), or give just a full stop to keep it as written."
                    ))?;
                    kept = Some(text);
                    (typed, ended) = self.read_text()?;
                }
                _ => return Ok(Some(Written { text, ended })),
            }
        }
    }

    /// A log entry's fields, each checked as typed; none when the entry
    /// was not finished (said, and anything written shown back).
    fn ask_log_entry(&mut self) -> io::Result<Option<LogDraft>> {
        let today = personal::Times::Local.today(self.clock.now());
        self.say("Log a supervision meeting or session. Only you will ever read it.")?;
        let Some(date) = self.ask_until("Date [today]: ", |t| log::date(t, today))? else {
            return Ok(None);
        };
        let Some(attended) = self.ask_until("Did you attend? [yes]: ", log::attended)? else {
            return Ok(None);
        };
        let Some(kind) = self.ask_until(
            "Kind: group, peer, or individual (supervision elsewhere) [group]: ",
            log::kind,
        )?
        else {
            return Ok(None);
        };
        let mut draft = LogDraft {
            date,
            attended,
            minutes: 0,
            kind,
            took_away: String::new(),
            competences: Vec::new(),
            functions: Vec::new(),
        };
        if !attended {
            return Ok(Some(draft));
        }
        let Some(minutes) =
            self.ask_until("Time in supervision (e.g. 90 or 1h 30): ", log::minutes)?
        else {
            return Ok(None);
        };
        draft.minutes = minutes;
        self.say("What did you take away? End with a line holding only a full stop (.); just a full stop for nothing.")?;
        let Some(written) = self.ask_private_text("what you took away", log::took_away, None)?
        else {
            return Ok(None);
        };
        draft.took_away = written.text;
        if written.ended {
            self.say("Input ended: saving without competences or functions.")?;
            return Ok(Some(draft));
        }
        self.ask_log_tags(&mut draft)?;
        Ok(Some(draft))
    }

    /// The entry's competences and functions: optional, each bad tag left
    /// out by itself and named; the functions asked again until they read.
    fn ask_log_tags(&mut self, draft: &mut LogDraft) -> io::Result<()> {
        let Some(typed) =
            self.read_answer("Competences it touched, e.g. C3.5, I2.1 (optional): ")?
        else {
            let why = self.skipped_because();
            return self.say(&format!("{why}: saving without competences or functions."));
        };
        let read = form::tags(self.framework, &typed);
        if let Some(note) = read.note() {
            self.say(&format!(
                "{note}{}",
                if read.kept.is_empty() {
                    String::new()
                } else {
                    format!(" Kept: {}.", tags_text(&read.kept))
                }
            ))?;
        }
        draft.competences = read.kept;
        self.say(&log::functions_help())?;
        loop {
            let Some(typed) = self.read_answer(
                "Functions it served: normative, formative, restorative, any of them (optional): ",
            )?
            else {
                let why = self.skipped_because();
                return self.say(&format!("{why}: saving without functions."));
            };
            match log::functions(&typed) {
                Ok(functions) => {
                    draft.functions = functions;
                    return Ok(());
                }
                Err(why) => self.say(&why)?,
            }
        }
    }

    /// A case presentation's fields, in the frame's order, each checked as
    /// typed; none when the question was never written (said, and what
    /// was written shown back).
    fn ask_case(&mut self, frame: Frame) -> io::Result<Option<CaseDraft>> {
        self.say(&format!(
            "{}. Only you will ever read it; nothing is shared with the group. End each answer with a line holding only a full stop (.); a full stop alone leaves a view out.",
            frame.label()
        ))?;
        let mut fields = Vec::new();
        for eye in frame.eyes() {
            let touched = case::competences_of(self.framework, eye);
            let touches = if touched.is_empty() {
                String::new()
            } else {
                format!(" (touches {})", tags_text(&touched))
            };
            self.say(&format!("\n{}{touches}\n{}", eye.name, eye.prompt))?;
            let required = (eye.key == QUESTION.key).then_some(
                "A presentation needs its question for the group: write it, even in a line.",
            );
            let what = format!("“{}”", eye.name);
            let written = self.ask_private_text(&what, case::field, required)?;
            let Some(written) = written else {
                return self.case_not_kept(&fields);
            };
            if !written.text.is_empty() {
                fields.push(Field {
                    key: eye.key.to_string(),
                    text: written.text,
                });
            }
            if written.ended {
                break;
            }
        }
        if !fields.iter().any(|f| f.key == QUESTION.key) {
            return self.case_not_kept(&fields);
        }
        Ok(Some(CaseDraft { frame, fields }))
    }

    /// A review of the member's priorities: the question for each, in
    /// their order, each answer read by the confidentiality check; none
    /// when there are no priorities or the input ended before any answer.
    fn ask_review(&mut self) -> io::Result<Option<Vec<(CompetenceId, String)>>> {
        let priorities = match self.store().map(|s| s.priorities(LOCAL_MEMBER)) {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                self.say(&format!("error: {e}\n"))?;
                return Ok(None);
            }
            Err(problem) => {
                self.say(&format!("{problem}\n"))?;
                return Ok(None);
            }
        };
        if priorities.is_empty() {
            self.say("You have no priorities to review: `/priorities add C3.5` marks them.")?;
            return Ok(None);
        }
        let asked = review::reviewed(&priorities);
        let later = priorities.len() - asked.len();
        self.say(&format!(
            "A review of your development priorities, kept as a private reflection tagged with them. End each answer with a line holding only a full stop (.); a full stop alone passes one by.{}",
            if later > 0 { format!(" The first {} are asked; the rest come next time.", asked.len()) } else { String::new() }
        ))?;
        let mut answers = Vec::new();
        for id in asked {
            self.say(&format!("\n{}", review::prompt(self.framework, *id)))?;
            let what = format!("your answer about {}", id.short());
            let Some(written) = self.ask_private_text(&what, review_answer, None)? else {
                break;
            };
            answers.push((*id, written.text));
            if written.ended {
                break;
            }
        }
        Ok(Some(answers))
    }

    /// Says a presentation is not saved, and shows back what was written.
    fn case_not_kept(&mut self, fields: &[Field]) -> io::Result<Option<CaseDraft>> {
        self.say("The presentation has no question for the group yet, so nothing is saved.")?;
        if !fields.is_empty() {
            self.say("Here is what you wrote, so it is not lost:\n")?;
            writeln!(self.out, "{}\n", shown_back(fields))?;
        }
        Ok(None)
    }
}

/// A review's answer as typed, its ends trimmed.
fn review_answer(typed: &str) -> Result<String, String> {
    Ok(typed.trim().to_string())
}

/// A presentation's fields as text to show back, each under its name.
fn shown_back(fields: &[Field]) -> String {
    fields
        .iter()
        .map(|f| {
            let name = case::eye(&f.key).map_or(f.key.as_str(), |e| e.name);
            format!("{name}\n{}", f.text)
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}
