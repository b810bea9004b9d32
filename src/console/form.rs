//! Asking a reflection's fields in the console: each read and checked as it
//! is typed by the core's form, and asked again with the reason.

use std::io::{self, BufRead, Write};

use super::{Console, LOCAL_MEMBER};
use crate::commands::personal::{self, Personal};
use crate::framework::CompetenceId;
use crate::reflections::{Draft, Mode, form, minutes_text, tags_text};

impl<R: BufRead, W: Write> Console<'_, R, W> {
    /// Asks for a new reflection's fields, each checked as it is typed; none
    /// when nothing was written (or the model or the tags asked for are not
    /// there, said at once).
    pub(super) fn ask_new(&mut self, tags: &str, model: &str) -> io::Result<Option<Draft>> {
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

    pub(super) fn ask_edit(&mut self, id: u64) -> io::Result<Option<Personal>> {
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
    pub(super) fn ask_title(
        &mut self,
        prompt: &str,
        keep: Option<&str>,
    ) -> io::Result<Option<String>> {
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
    pub(super) fn ask_text(&mut self, keep: Option<&str>) -> io::Result<Option<String>> {
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
    pub(super) fn ask_tags(
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
    pub(super) fn ask_mode(&mut self, default: Mode, skipped: &mut bool) -> io::Result<Mode> {
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
    pub(super) fn ask_minutes(
        &mut self,
        default: Option<u32>,
        skipped: &mut bool,
    ) -> io::Result<Option<u32>> {
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
    pub(super) fn read_text(&mut self) -> io::Result<(String, bool)> {
        let mut lines = Vec::new();
        loop {
            match self.read_line("| ")? {
                Some(line) if line.trim() == "." => return Ok((lines.join("\n"), false)),
                Some(line) => lines.push(line),
                None => return Ok((lines.join("\n"), true)),
            }
        }
    }
}
