//! Private reflections: what a member writes, the checks it passes before it
//! is stored, and what is shown back to its author alone.
//!
//! This module is the model and its rules; the encrypted storage is in
//! `store::reflections`, and the commands that use both are in
//! `commands::personal`.

pub mod export;
pub mod form;
pub mod map;
pub mod nudge;
pub mod review;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::framework::{CompetenceId, DomainId, Framework};

/// Longest reflection text kept as one reflection, in characters. A longer
/// text is saved as consecutive parts (see [`Draft::into_parts`]) rather
/// than refused; a front-end's own form may hold less.
pub const MAX_STORED_CHARS: usize = 100_000;
/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 100;
/// Most competences one reflection is tagged with.
pub const MAX_TAGS: usize = 10;

/// The kind of work a reflection is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Therapeutic work.
    Therapy,
    /// Coaching.
    #[default]
    Coaching,
    /// Integrated therapy and coaching.
    Integrated,
    /// Anything else (supervision, training, reading …).
    Other,
}

impl Mode {
    /// Every mode, in the order offered.
    pub const ALL: [Mode; 4] = [Mode::Therapy, Mode::Coaching, Mode::Integrated, Mode::Other];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Therapy => "therapy",
            Mode::Coaching => "coaching",
            Mode::Integrated => "integrated",
            Mode::Other => "other",
        }
    }

    /// The kind of work in words, for exports and views.
    pub fn label(self) -> &'static str {
        match self {
            Mode::Therapy => "Therapy",
            Mode::Coaching => "Coaching",
            Mode::Integrated => "Integrated therapy and coaching",
            Mode::Other => "Other work",
        }
    }

    /// Reads a mode as typed ("Coaching", " integrated "); empty means coaching.
    pub fn parse(text: &str) -> Option<Mode> {
        let t = text.trim().to_ascii_lowercase();
        if t.is_empty() {
            return Some(Mode::default());
        }
        Mode::ALL
            .into_iter()
            .find(|m| m.as_str() == t || (t.len() >= 3 && m.as_str().starts_with(&t)))
    }
}

/// What a member submits: a new reflection, or the new version of one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Draft {
    /// A short title (may be empty: it is then shown by its opening words).
    pub title: String,
    /// The reflection itself.
    pub text: String,
    /// Competences it is tagged with.
    pub competences: Vec<CompetenceId>,
    /// The reflective model used (`free`, `gibbs`, `rolfe`, `kolb`).
    pub model: String,
    /// The kind of work it is about.
    pub mode: Mode,
    /// Time spent, in minutes, if the member gave it (for a CPD record).
    pub minutes: Option<u32>,
}

/// A post the bot made in a group's thread when the author shared the
/// reflection: kept sealed inside the reflection, so the author can withdraw
/// it and forget-me can remove it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedPost {
    /// The server it is in.
    #[serde(default)]
    pub guild: Option<u64>,
    /// The thread (channel) it is in.
    pub channel: u64,
    /// The message.
    pub message: u64,
    /// Whether it was shared as "a member".
    pub anonymous: bool,
    /// When it was shared.
    pub at: DateTime<Utc>,
}

/// A stored reflection, as its author sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reflection {
    /// The reflection's number, counted per author from 1.
    pub id: u64,
    /// The author's Discord user id (or the console's local member).
    pub author: u64,
    /// When it was written (UTC).
    pub created: DateTime<Utc>,
    /// When it was last edited (UTC), if ever.
    pub edited: Option<DateTime<Utc>>,
    /// Title.
    pub title: String,
    /// Text.
    pub text: String,
    /// Competences it is tagged with.
    pub competences: Vec<CompetenceId>,
    /// The reflective model used.
    pub model: String,
    /// The framework's name when it was written.
    pub framework: String,
    /// The framework's version when it was written.
    pub framework_version: String,
    /// The kind of work it is about.
    pub mode: Mode,
    /// Time spent, in minutes, if the member gave it (for a CPD record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u32>,
    /// Its posts in the group's threads now (withdrawn ones are removed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared: Vec<SharedPost>,
    /// Whether it was ever shared with the group: a CPD record counts it as
    /// peer supervision, even after the post is withdrawn.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub discussed: bool,
    /// The server it was written in, whose anonymous counts its tags add to
    /// (for the `gaps` order); none in direct messages and the console.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guild: Option<u64>,
}

/// Why a draft cannot be saved, in words for its author.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DraftError {
    /// Nothing but spaces.
    #[error(
        "The reflection is empty. Write what happened, what you noticed, what you will try next."
    )]
    EmptyText,
    /// Over the text limit.
    #[error(
        "The reflection is {0} characters long; one reflection holds up to {MAX_STORED_CHARS}. Split it into two, or shorten it."
    )]
    TextTooLong(usize),
    /// Over the title limit.
    #[error("The title is {0} characters long; the limit is {MAX_TITLE_CHARS}.")]
    TitleTooLong(usize),
    /// Too many tags.
    #[error("A reflection can be tagged with up to {MAX_TAGS} competences; this one has {0}.")]
    TooManyTags(usize),
    /// A tag that is not a competence.
    #[error("{0}")]
    BadTag(String),
}

impl Draft {
    /// Checks the limits and tidies the draft: trims, drops control
    /// characters other than line breaks and tabs, removes duplicate tags.
    pub fn validated(mut self) -> Result<Draft, DraftError> {
        self.text = clean(&self.text);
        self.title = clean(&self.title).replace(['\n', '\r'], " ");
        if self.text.is_empty() {
            return Err(DraftError::EmptyText);
        }
        let text_len = self.text.chars().count();
        if text_len > MAX_STORED_CHARS {
            return Err(DraftError::TextTooLong(text_len));
        }
        let title_len = self.title.chars().count();
        if title_len > MAX_TITLE_CHARS {
            return Err(DraftError::TitleTooLong(title_len));
        }
        let mut seen = Vec::with_capacity(self.competences.len());
        for id in self.competences {
            if !seen.contains(&id) {
                seen.push(id);
            }
        }
        if seen.len() > MAX_TAGS {
            return Err(DraftError::TooManyTags(seen.len()));
        }
        self.competences = seen;
        if self.model.trim().is_empty() {
            self.model = "free".to_string();
        }
        Ok(self)
    }
}

impl Draft {
    /// The draft as one or more drafts that each fit [`MAX_STORED_CHARS`]:
    /// itself when it fits, else consecutive parts split at paragraph or
    /// sentence boundaries, titled "… (part 2 of 3)" within [`HEADING_CHARS`]
    /// (so every list and the map see which entry a part belongs to), each
    /// with the whole entry's tags, kind and time. Saved at one instant, they
    /// are one entry (see [`Entry`]). Nothing is dropped.
    pub fn into_parts(self) -> Vec<Draft> {
        if self.text.trim().chars().count() <= MAX_STORED_CHARS {
            return vec![self];
        }
        let parts = crate::render::split_text(self.text.trim(), MAX_STORED_CHARS);
        let n = parts.len();
        let title = if self.title.trim().is_empty() {
            "Long reflection".to_string()
        } else {
            self.title.trim().to_string()
        };
        parts
            .into_iter()
            .enumerate()
            .map(|(i, text)| {
                let suffix = format!(" (part {} of {n})", i + 1);
                let room = HEADING_CHARS.saturating_sub(suffix.chars().count());
                Draft {
                    title: format!("{}{suffix}", crate::render::fit(&title, room)),
                    text,
                    ..self.clone()
                }
            })
            .collect()
    }

    /// The reflection this (validated) draft becomes as number `id` of `author`.
    pub fn into_reflection(
        self,
        id: u64,
        author: u64,
        now: DateTime<Utc>,
        framework: &Framework,
    ) -> Reflection {
        Reflection {
            id,
            author,
            created: now,
            edited: None,
            title: self.title,
            text: self.text,
            competences: self.competences,
            model: self.model,
            framework: framework.name.clone(),
            framework_version: framework.version.clone(),
            mode: self.mode,
            minutes: self.minutes,
            shared: Vec::new(),
            discussed: false,
            guild: None,
        }
    }
}

/// What a list shows of a reflection: enough to find it again, no more.
/// Stored sealed beside the reflection, so a list opens a few bytes per item
/// rather than every text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The reflection's number.
    pub id: u64,
    /// When it was written (UTC).
    pub created: DateTime<Utc>,
    /// Its title, or the opening words of an untitled reflection.
    pub heading: String,
    /// Competences it is tagged with.
    pub competences: Vec<CompetenceId>,
}

/// Longest heading a summary keeps, in characters.
pub const HEADING_CHARS: usize = 60;

impl Summary {
    /// The summary of a reflection.
    pub fn of(r: &Reflection) -> Summary {
        Summary {
            id: r.id,
            created: r.created,
            heading: heading(&r.title, &r.text),
            competences: r.competences.clone(),
        }
    }
}

/// How a reflection is named wherever it is shown (lists, views, exports,
/// confirmations): its title, or the opening words of an untitled one.
pub fn heading(title: &str, text: &str) -> String {
    let title = title.trim();
    if title.is_empty() {
        crate::render::fit(
            &text.split_whitespace().collect::<Vec<_>>().join(" "),
            HEADING_CHARS,
        )
    } else {
        crate::render::fit(title, HEADING_CHARS)
    }
}

impl Reflection {
    /// Its name as every view shows it: see [`heading`].
    pub fn heading(&self) -> String {
        heading(&self.title, &self.text)
    }
}

/// A part of one long text saved as several reflections: the title it shares
/// with the other parts, its place and how many there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part<'a> {
    /// The title before " (part i of n)".
    pub stem: &'a str,
    /// Its place, from 1.
    pub index: usize,
    /// How many parts the text was saved in.
    pub of: usize,
}

/// The part a title (or heading) names, if it ends "… (part i of n)".
pub fn part_of(title: &str) -> Option<Part<'_>> {
    let open = title.strip_suffix(')')?;
    let at = open.rfind(" (part ")?;
    let (index, of) = open[at + 7..].split_once(" of ")?;
    let index: usize = index.parse().ok()?;
    let of: usize = of.parse().ok()?;
    (index >= 1 && index <= of && of >= 2).then_some(Part {
        stem: &open[..at],
        index,
        of,
    })
}

/// One entry of a member's practice: a reflection, or the parts of one long
/// text (saved at one instant, titled as parts of one stem), which count once
/// on the map and in a CPD record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entry {
    /// A reflection on its own, by its number.
    One(u64),
    /// The parts saved together at this instant (nanoseconds since the epoch).
    Parts(i64),
}

impl Entry {
    /// The entry a reflection belongs to, from when it was saved and how it is titled.
    pub fn of(id: u64, created: DateTime<Utc>, heading: &str) -> Entry {
        match part_of(heading) {
            Some(_) => Entry::Parts(
                created
                    .timestamp_nanos_opt()
                    .unwrap_or_else(|| created.timestamp()),
            ),
            None => Entry::One(id),
        }
    }
}

impl Reflection {
    /// Replaces what its author wrote with a (validated) draft, edited `now`.
    pub fn revise(&mut self, draft: Draft, now: DateTime<Utc>) {
        self.title = draft.title;
        self.text = draft.text;
        self.competences = draft.competences;
        self.model = draft.model;
        self.mode = draft.mode;
        self.minutes = draft.minutes;
        self.edited = Some(now);
    }
}

/// Longest time one reflection can record, in minutes: a day.
pub const MAX_MINUTES: u32 = 24 * 60;

/// Reads the optional time-spent field as typed: empty is none; `45`,
/// `45 min`, `1h`, `1h 30`, `1:30`, `1.5 hours`. Anything else is refused in
/// words, with what would work.
pub fn parse_minutes(text: &str) -> Result<Option<u32>, String> {
    let t = text.trim().to_lowercase();
    if t.is_empty() {
        return Ok(None);
    }
    let refuse = || {
        format!(
            "That is not a time spent: give minutes (45) or hours (1h 30, 1:30), up to {MAX_MINUTES} minutes."
        )
    };
    let number = |s: &str| -> Option<f64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
            .then(|| s.parse::<f64>().ok())
            .flatten()
    };
    let strip_unit = |s: &str, units: &[&str]| -> Option<String> {
        units
            .iter()
            .find_map(|u| s.trim().strip_suffix(u).map(|r| r.trim().to_string()))
    };
    const MINUTE_UNITS: &[&str] = &["minutes", "minute", "mins", "min", "m"];
    const HOUR_UNITS: &[&str] = &["hours", "hour", "hrs", "hr", "h"];
    let minutes: Option<f64> = if let Some((h, m)) = t.split_once(':') {
        match (number(h), number(m)) {
            (Some(h), Some(m)) if m < 60.0 && h.fract() == 0.0 => Some(h * 60.0 + m),
            _ => None,
        }
    } else if let Some(n) = number(&t) {
        Some(n)
    } else if let Some(n) = strip_unit(&t, MINUTE_UNITS).and_then(|s| number(&s)) {
        Some(n)
    } else {
        // Hours, then optional minutes: "1h", "1h 30", "1 hour 30 min", "1.5 hours".
        let split = HOUR_UNITS
            .iter()
            .filter_map(|u| t.find(u).map(|i| (i, u.len())))
            .min_by_key(|(i, _)| *i);
        split.and_then(|(i, len)| {
            let hours = number(&t[..i])?;
            let rest = t[i + len..].trim_start_matches(|c: char| c.is_ascii_alphabetic());
            let rest = rest.trim();
            let extra = if rest.is_empty() {
                0.0
            } else {
                strip_unit(rest, MINUTE_UNITS)
                    .as_deref()
                    .and_then(number)
                    .or_else(|| number(rest))?
            };
            (extra < 60.0).then_some(hours * 60.0 + extra)
        })
    };
    match minutes {
        Some(m) if m.is_finite() && m >= 1.0 && m <= f64::from(MAX_MINUTES) => {
            Ok(Some(m.round() as u32))
        }
        _ => Err(refuse()),
    }
}

/// "45 minutes", "1 hour", "1 hour 30 minutes".
pub fn minutes_text(minutes: u32) -> String {
    let (h, m) = (minutes / 60, minutes % 60);
    let unit = |n: u32, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    match (h, m) {
        (0, m) => unit(m, "minute"),
        (h, 0) => unit(h, "hour"),
        (h, m) => format!("{} {}", unit(h, "hour"), unit(m, "minute")),
    }
}

/// Text as typed, without control characters (line breaks and tabs kept),
/// trimmed: how every free-text field is saved.
pub(crate) fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect::<String>()
        .trim()
        .to_string()
}

/// Reads a list of tags as typed: `C3.5, I2.1 core 4.2`, refused whole at
/// the first entry that is not a competence (with the reason; a form keeps
/// the others instead, see [`form::tags`]). A code in both domains without a
/// domain (`3.5`) is refused with the two ways to write it.
pub fn parse_tags(framework: &Framework, text: &str) -> Result<Vec<CompetenceId>, DraftError> {
    let read = form::tags(framework, text);
    match read.left_out.first() {
        Some((name, why)) => Err(DraftError::BadTag(format!(
            "{name} is not a competence to tag: {why}"
        ))),
        None => Ok(read.kept),
    }
}

/// Splits `C3.5, I2.1 core 4.2; 1.1` into `C3.5`, `I2.1`, `core 4.2`, `1.1`:
/// commas and semicolons separate, and so does a space before a new code
/// unless the word before it is a domain word.
fn split_tags(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    for chunk in text.split([',', ';', '\n']) {
        let mut current: Vec<&str> = Vec::new();
        for word in chunk.split_whitespace() {
            let starts_code = word.starts_with(|c: char| c.is_ascii_digit())
                || DomainId::split_prefix(word)
                    .is_some_and(|(_, rest)| rest.starts_with(|c: char| c.is_ascii_digit()));
            let after_domain = current.last().is_some_and(|w| is_domain_word(w));
            let starts_piece = is_domain_word(word) || (starts_code && !after_domain);
            if starts_piece && !current.is_empty() {
                pieces.push(current.join(" "));
                current.clear();
            }
            current.push(word);
        }
        if !current.is_empty() {
            pieces.push(current.join(" "));
        }
    }
    pieces
}

fn is_domain_word(word: &str) -> bool {
    DomainId::from_word(word).is_some() || word.eq_ignore_ascii_case("competence")
}

/// Tags written back as a field value: `C3.5, I2.1`.
pub fn tags_text(tags: &[CompetenceId]) -> String {
    tags.iter()
        .map(CompetenceId::short)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The competences a reflection's text mentions explicitly and does not yet carry
/// as tags: offered to its author as tags.
pub fn suggested_tags(framework: &Framework, draft: &Draft) -> Vec<CompetenceId> {
    let mut out = Vec::new();
    for r in crate::references::find_references(framework, &draft.text) {
        let Some(domain) = r.domain else { continue };
        let id = CompetenceId::new(domain, r.code);
        if !draft.competences.contains(&id) && !out.contains(&id) {
            out.push(id);
        }
    }
    out.truncate(5);
    out
}

/// An ordinal for naming an entry by its place: "1st", "2nd", "3rd", "4th".
pub(crate) fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    /// A text longer than one reflection holds becomes consecutive parts
    /// that together hold every word, each within the limit.
    #[test]
    fn a_long_text_is_split_into_parts_and_nothing_is_dropped() {
        let paragraph = "A sentence about the work, said plainly. ".repeat(40);
        let text = vec![paragraph.trim(); 70].join("\n\n");
        assert!(text.chars().count() > MAX_STORED_CHARS);
        let parts = Draft {
            title: "Long one".into(),
            text: text.clone(),
            ..Draft::default()
        }
        .into_parts();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].title, "Long one (part 1 of 2)");
        assert_eq!(parts[1].title, "Long one (part 2 of 2)");
        for p in &parts {
            assert!(p.clone().validated().is_ok());
        }
        let words = |t: &str| t.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        let joined: Vec<String> = parts.iter().flat_map(|p| words(&p.text)).collect();
        assert_eq!(joined, words(&text));
        let short = Draft {
            text: "short".into(),
            ..Draft::default()
        };
        assert_eq!(short.clone().into_parts(), vec![short]);
    }

    #[test]
    fn time_spent_is_read_as_typed_or_refused_in_words() {
        for (typed, want) in [
            ("", None),
            ("  ", None),
            ("45", Some(45)),
            ("45 min", Some(45)),
            ("45 minutes", Some(45)),
            ("1h", Some(60)),
            ("1 hour", Some(60)),
            ("1h 30", Some(90)),
            ("1h30m", Some(90)),
            ("1 hour 30 minutes", Some(90)),
            ("1:30", Some(90)),
            ("1.5 hours", Some(90)),
            ("1440", Some(1440)),
        ] {
            assert_eq!(parse_minutes(typed), Ok(want), "{typed:?}");
        }
        for typed in [
            "0", "1441", "abc", "1:75", "-5", "1h 75", "25 hours", "NaN", "1e3",
        ] {
            let e = parse_minutes(typed).expect_err(typed);
            assert!(e.contains("give minutes (45)"), "{e}");
        }
        assert_eq!(minutes_text(45), "45 minutes");
        assert_eq!(minutes_text(60), "1 hour");
        assert_eq!(minutes_text(91), "1 hour 31 minutes");
    }

    use super::*;

    fn f() -> Framework {
        Framework::builtin().unwrap()
    }

    #[test]
    fn limits_are_enforced_with_clear_messages() {
        let ok = Draft {
            text: "  Something happened.  ".into(),
            ..Draft::default()
        };
        let ok = ok.validated().unwrap();
        assert_eq!(ok.text, "Something happened.");
        assert_eq!(ok.model, "free");
        let empty = Draft {
            text: " \n\t ".into(),
            ..Draft::default()
        };
        assert_eq!(empty.validated(), Err(DraftError::EmptyText));
        let long = Draft {
            text: "é".repeat(MAX_STORED_CHARS + 1),
            ..Draft::default()
        };
        assert_eq!(
            long.validated(),
            Err(DraftError::TextTooLong(MAX_STORED_CHARS + 1))
        );
        let exactly = Draft {
            text: "é".repeat(MAX_STORED_CHARS),
            ..Draft::default()
        };
        assert!(exactly.validated().is_ok());
        let title = Draft {
            text: "x".into(),
            title: "t".repeat(101),
            ..Draft::default()
        };
        assert_eq!(title.validated(), Err(DraftError::TitleTooLong(101)));
        let nul = Draft {
            text: "a\0b\u{7}c\nd".into(),
            ..Draft::default()
        };
        assert_eq!(nul.validated().unwrap().text, "abc\nd");
    }

    #[test]
    fn tags_parse_and_ambiguous_codes_ask_for_a_domain() {
        let f = f();
        let tags = parse_tags(&f, "C3.5, I2.1 core 4.2; 2.10").unwrap();
        let want: Vec<String> = tags.iter().map(ToString::to_string).collect();
        assert_eq!(
            want,
            ["core:3.5", "integration:2.1", "core:4.2", "core:2.10"]
        );
        let err = parse_tags(&f, "3.5").unwrap_err().to_string();
        assert!(err.contains("C3.5") && err.contains("I3.5"), "{err}");
        let err = parse_tags(&f, "C9.9").unwrap_err().to_string();
        assert!(
            err.contains("C9.9 is not a competence to tag: there is no such competence"),
            "{err}"
        );
        assert_eq!(parse_tags(&f, "").unwrap(), vec![]);
        assert!(parse_tags(&f, "strengths").is_err());
    }

    #[test]
    fn references_in_the_text_are_offered_as_tags() {
        let f = f();
        let draft = Draft {
            text: "We talked about C2.8 and competence 3.5, then I3.5.".into(),
            competences: vec!["core:2.8".parse().unwrap()],
            ..Draft::default()
        };
        let offered: Vec<String> = suggested_tags(&f, &draft)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(offered, ["integration:3.5"]);
    }

    #[test]
    fn modes_parse_forgivingly() {
        assert_eq!(Mode::parse("Therapy"), Some(Mode::Therapy));
        assert_eq!(Mode::parse(" integ "), Some(Mode::Integrated));
        assert_eq!(Mode::parse(""), Some(Mode::Coaching));
        assert_eq!(Mode::parse("x"), None);
    }
}
