//! One entry of the supervision log, and each of its fields read and
//! checked as typed, so a front-end can ask again with the reason.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::framework::CompetenceId;
use crate::reflections::{MAX_MINUTES, ordinal, parse_minutes};

/// Longest "what I took away", in characters.
pub const MAX_TAKEAWAY_CHARS: usize = 10_000;

/// The kind of supervision an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A supervision group (this one, or another).
    #[default]
    Group,
    /// Peer supervision: colleagues supervising one another.
    Peer,
    /// Individual supervision elsewhere, with one's own supervisor.
    Individual,
}

impl Kind {
    /// Every kind, in the order a record lists them.
    pub const ALL: [Kind; 3] = [Kind::Group, Kind::Peer, Kind::Individual];

    /// The word typed for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Group => "group",
            Kind::Peer => "peer",
            Kind::Individual => "individual",
        }
    }

    /// In words, for records and views.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Group => "Group supervision",
            Kind::Peer => "Peer supervision",
            Kind::Individual => "Individual supervision elsewhere",
        }
    }
}

/// Which of supervision's functions (Proctor's model) a session served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Function {
    /// Standards, ethics and accountability.
    Normative,
    /// Learning and developing skills and understanding.
    Formative,
    /// Support for the practitioner: being heard, restored, resourced.
    Restorative,
}

impl Function {
    /// Every function, in Proctor's order.
    pub const ALL: [Function; 3] = [
        Function::Normative,
        Function::Formative,
        Function::Restorative,
    ];

    /// The word typed for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Function::Normative => "normative",
            Function::Formative => "formative",
            Function::Restorative => "restorative",
        }
    }

    /// What it is about, in a few words.
    pub fn about(self) -> &'static str {
        match self {
            Function::Normative => "standards, ethics, accountability",
            Function::Formative => "learning and skills",
            Function::Restorative => "support with how the work affects you",
        }
    }
}

/// A log entry as its member writes it, before it is numbered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogDraft {
    /// The day of the meeting or session.
    pub date: NaiveDate,
    /// Whether the member was there.
    pub attended: bool,
    /// Time in supervision, in minutes (0 when not attended).
    pub minutes: u32,
    /// The kind of supervision.
    pub kind: Kind,
    /// What the member took away (may be empty).
    pub took_away: String,
    /// Competences it touched.
    pub competences: Vec<CompetenceId>,
    /// Which functions it served.
    pub functions: Vec<Function>,
}

/// A stored log entry, as its member sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Its number, counted per member from 1.
    pub id: u64,
    /// The day of the meeting or session.
    pub date: NaiveDate,
    /// Whether the member was there.
    pub attended: bool,
    /// Time in supervision, in minutes (0 when not attended).
    pub minutes: u32,
    /// The kind of supervision.
    pub kind: Kind,
    /// What the member took away.
    pub took_away: String,
    /// Competences it touched.
    pub competences: Vec<CompetenceId>,
    /// Which functions it served.
    pub functions: Vec<Function>,
    /// When it was written (UTC).
    pub created: DateTime<Utc>,
}

/// An entry's closed choices, read before its free text (a front-end that
/// asks them apart, as options, and the text in a form): kept with a form
/// held for its member, so reopening it asks none of them again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogChoices {
    /// The day of the meeting or session.
    pub date: NaiveDate,
    /// Whether the member was there.
    pub attended: bool,
    /// Time in supervision, in minutes (0 when not attended).
    pub minutes: u32,
    /// The kind of supervision.
    pub kind: Kind,
    /// Which functions it served.
    pub functions: Vec<Function>,
}

impl LogChoices {
    /// The choices in a few words a front-end can carry (Discord's custom
    /// ids): `2026-03-10:y:90:group:nf`, within 40 characters; read back by
    /// [`LogChoices::from_words`].
    pub fn to_words(&self) -> String {
        let functions: String = Function::ALL
            .into_iter()
            .filter(|f| self.functions.contains(f))
            .map(|f| f.as_str().chars().next().unwrap_or('-'))
            .collect();
        format!(
            "{}:{}:{}:{}:{}",
            self.date.format("%Y-%m-%d"),
            if self.attended { "y" } else { "n" },
            self.minutes,
            self.kind.as_str(),
            if functions.is_empty() {
                "-".to_string()
            } else {
                functions
            }
        )
    }

    /// The choices [`LogChoices::to_words`] wrote, if `words` are exactly
    /// such words (anything else, forged or malformed, is none).
    pub fn from_words(words: &str) -> Option<LogChoices> {
        let parts: Vec<&str> = words.split(':').collect();
        let [date, attended, minutes, kind, functions] = parts.as_slice() else {
            return None;
        };
        let mut read = Vec::new();
        if *functions != "-" {
            for c in functions.chars() {
                let f = Function::ALL
                    .into_iter()
                    .find(|f| f.as_str().starts_with(c))?;
                if read.contains(&f) {
                    return None;
                }
                read.push(f);
            }
        }
        read.sort();
        Some(LogChoices {
            date: NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?,
            attended: match *attended {
                "y" => true,
                "n" => false,
                _ => return None,
            },
            minutes: minutes
                .parse()
                .ok()
                .filter(|m| *m <= crate::reflections::MAX_MINUTES)?,
            kind: Kind::ALL.into_iter().find(|k| k.as_str() == *kind)?,
            functions: read,
        })
    }

    /// The draft these choices make with the free text and competences.
    pub fn draft(&self, took_away: String, competences: Vec<CompetenceId>) -> LogDraft {
        LogDraft {
            date: self.date,
            attended: self.attended,
            minutes: if self.attended { self.minutes } else { 0 },
            kind: self.kind,
            took_away,
            competences,
            functions: self.functions.clone(),
        }
    }
}

impl LogDraft {
    /// The entry, numbered `id`, written at `now`. Time counts only when
    /// the member attended.
    pub fn into_entry(self, id: u64, now: DateTime<Utc>) -> LogEntry {
        LogEntry {
            id,
            date: self.date,
            attended: self.attended,
            minutes: if self.attended { self.minutes } else { 0 },
            kind: self.kind,
            took_away: self.took_away,
            competences: self.competences,
            functions: self.functions,
            created: now,
        }
    }

    /// The draft as it will be saved, or why it cannot be (a front-end
    /// that reads whole forms checks here what the console checks as typed).
    pub fn validated(self, today: NaiveDate) -> Result<LogDraft, String> {
        date(&self.date.format("%Y-%m-%d").to_string(), today)?;
        if self.attended && !(1..=MAX_MINUTES).contains(&self.minutes) {
            return Err(format!(
                "Give the time in supervision, from 1 minute to {MAX_MINUTES} minutes."
            ));
        }
        let took_away = took_away(&self.took_away)?;
        Ok(LogDraft { took_away, ..self })
    }
}

/// The day as typed: empty or `today`, `yesterday`, `2026-03-10`,
/// `10/03/2026`, `10 March 2026`, `10 Mar 2026`. Not after `today`, not
/// before 2000.
pub fn date(typed: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let t = typed.trim();
    let read = match t.to_lowercase().as_str() {
        "" | "today" => Some(today),
        "yesterday" => today.pred_opt(),
        _ => ["%Y-%m-%d", "%d/%m/%Y", "%d %B %Y", "%d %b %Y"]
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(t, f).ok()),
    };
    let Some(day) = read else {
        return Err(
            "That is not a date: write it as 2026-03-10, 10/03/2026 or 10 March 2026 (or today, yesterday)."
                .into(),
        );
    };
    if day > today {
        return Err(
            "A log records supervision that happened: give today's date or an earlier one.".into(),
        );
    }
    if day < NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(day) {
        return Err("Give a date from the year 2000 on.".into());
    }
    Ok(day)
}

/// Whether the member attended, as typed: empty or yes, or no.
pub fn attended(typed: &str) -> Result<bool, String> {
    match typed.trim().to_lowercase().as_str() {
        "" | "y" | "yes" | "attended" => Ok(true),
        "n" | "no" | "missed" | "absent" => Ok(false),
        _ => Err("Answer yes or no.".into()),
    }
}

/// The kind as typed: group (the default), peer, or individual.
pub fn kind(typed: &str) -> Result<Kind, String> {
    let t = typed.trim().to_lowercase();
    if t.is_empty() {
        return Ok(Kind::default());
    }
    if matches!(t.as_str(), "1:1" | "one-to-one" | "one to one") {
        return Ok(Kind::Individual);
    }
    Kind::ALL
        .into_iter()
        .find(|k| t.len() >= 3 && k.as_str().starts_with(&t) || t == k.as_str())
        .ok_or_else(|| {
            "That is not one of group, peer or individual (individual supervision elsewhere)."
                .into()
        })
}

/// The time in supervision as typed (`90`, `1h 30`, `1:30`); required.
pub fn minutes(typed: &str) -> Result<u32, String> {
    match parse_minutes(typed)? {
        Some(m) => Ok(m),
        None => Err("Give the time in supervision, e.g. 90 or 1h 30.".into()),
    }
}

/// What the member took away, as it will be saved (may be empty).
pub fn took_away(typed: &str) -> Result<String, String> {
    let text = crate::reflections::clean(typed);
    let n = text.chars().count();
    if n > MAX_TAKEAWAY_CHARS {
        return Err(format!(
            "That is {n} characters; what you took away holds up to {MAX_TAKEAWAY_CHARS}. Shorten it, or write the rest as a reflection."
        ));
    }
    Ok(text)
}

/// The functions as typed, any of normative, formative and restorative
/// (or the first three letters of each), separated by commas or spaces;
/// `none` or `-` for none.
pub fn functions(typed: &str) -> Result<Vec<Function>, String> {
    let t = typed.trim().to_lowercase();
    let mut out = Vec::new();
    if matches!(t.as_str(), "" | "none" | "-") {
        return Ok(out);
    }
    for (i, word) in t
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|w| !w.is_empty() && *w != "and")
        .enumerate()
    {
        let found = Function::ALL
            .into_iter()
            .find(|f| word.len() >= 3 && f.as_str().starts_with(word));
        match found {
            Some(f) if !out.contains(&f) => out.push(f),
            Some(_) => {}
            None => {
                return Err(format!(
                    "The {} word is not one of normative, formative or restorative; give any of them, or none.",
                    ordinal(i + 1)
                ));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The monthly minimum a member sets, in hours as typed (`1.5`, `2`,
/// `1h 30`); `none` or `off` unsets it.
pub fn monthly_minimum(typed: &str) -> Result<Option<u32>, String> {
    let t = typed.trim().to_lowercase();
    if matches!(t.as_str(), "none" | "off" | "-") {
        return Ok(None);
    }
    let refuse = || {
        "Give your monthly minimum in hours, as your professional body states it (e.g. 1.5 or 1h 30), or none to unset it.".to_string()
    };
    if t.is_empty() {
        return Err(refuse());
    }
    if let Ok(hours) = t.parse::<f64>() {
        return match hours * 60.0 {
            m if m.is_finite() && (1.0..=f64::from(31 * MAX_MINUTES)).contains(&m) => {
                Ok(Some(m.round() as u32))
            }
            _ => Err(refuse()),
        };
    }
    match parse_minutes(&t) {
        Ok(Some(m)) if t.chars().any(|c| c.is_ascii_alphabetic() || c == ':') => Ok(Some(m)),
        _ => Err(refuse()),
    }
}

/// Proctor's three functions, each with what it is about, for a front-end
/// that asks for them by word.
pub fn functions_help() -> String {
    let [normative, formative, restorative] =
        Function::ALL.map(|f| format!("{} ({})", f.as_str(), f.about()));
    format!("Supervision's functions, after Proctor: {normative}, {formative} and {restorative}.")
}

/// "normative, restorative", or "none marked".
pub fn functions_text(functions: &[Function]) -> String {
    if functions.is_empty() {
        return "none marked".into();
    }
    functions
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn dates_are_read_in_the_ways_people_write_them_and_never_in_the_future() {
        let today = day(2026, 12, 5);
        assert_eq!(date("", today), Ok(today));
        assert_eq!(date("yesterday", today), Ok(day(2026, 12, 4)));
        assert_eq!(date("2026-03-10", today), Ok(day(2026, 3, 10)));
        assert_eq!(date("10/03/2026", today), Ok(day(2026, 3, 10)));
        assert_eq!(date("10 March 2026", today), Ok(day(2026, 3, 10)));
        assert_eq!(date("10 mar 2026", today), Ok(day(2026, 3, 10)));
        assert!(date("2026-12-06", today).unwrap_err().contains("happened"));
        assert!(date("1999-12-31", today).unwrap_err().contains("2000"));
        assert!(
            date("next tuesday", today)
                .unwrap_err()
                .contains("2026-03-10")
        );
    }

    #[test]
    fn kinds_functions_and_answers_are_read_or_refused_with_what_works() {
        assert_eq!(kind(""), Ok(Kind::Group));
        assert_eq!(kind("Peer"), Ok(Kind::Peer));
        assert_eq!(kind("indiv"), Ok(Kind::Individual));
        assert_eq!(kind("1:1"), Ok(Kind::Individual));
        assert!(
            kind("training")
                .unwrap_err()
                .contains("group, peer or individual")
        );
        assert_eq!(attended(""), Ok(true));
        assert_eq!(attended("No"), Ok(false));
        assert!(attended("maybe").is_err());
        assert_eq!(
            functions("Restorative, norm"),
            Ok(vec![Function::Normative, Function::Restorative])
        );
        assert_eq!(functions("none"), Ok(vec![]));
        assert_eq!(
            functions("formative and formative"),
            Ok(vec![Function::Formative])
        );
        let refused = functions("formative, supportive").unwrap_err();
        assert!(refused.contains("The 2nd word"), "{refused}");
        assert!(!refused.contains("supportive"), "never echoed: {refused}");
        assert_eq!(minutes("1h 30"), Ok(90));
        assert!(minutes("").is_err());
        let help = functions_help();
        for f in Function::ALL {
            assert!(
                help.contains(&format!("{} ({})", f.as_str(), f.about())),
                "{help}"
            );
        }
    }

    #[test]
    fn a_monthly_minimum_is_read_in_hours() {
        assert_eq!(monthly_minimum("1.5"), Ok(Some(90)));
        assert_eq!(monthly_minimum("2"), Ok(Some(120)));
        assert_eq!(monthly_minimum("1h 30"), Ok(Some(90)));
        assert_eq!(monthly_minimum("none"), Ok(None));
        for bad in ["", "lots", "-3", "0", "NaN", "inf", "100000"] {
            assert!(monthly_minimum(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_counts_only_when_attended_and_a_draft_is_checked_whole() {
        let today = day(2026, 12, 5);
        let draft = LogDraft {
            date: day(2026, 3, 10),
            attended: false,
            minutes: 90,
            kind: Kind::Group,
            took_away: "  ".into(),
            competences: vec![],
            functions: vec![],
        };
        let entry = draft
            .clone()
            .validated(today)
            .unwrap()
            .into_entry(1, Utc::now());
        assert_eq!((entry.minutes, entry.took_away.as_str()), (0, ""));
        let none = LogDraft {
            attended: true,
            minutes: 0,
            ..draft.clone()
        };
        assert!(none.validated(today).is_err());
        let future = LogDraft {
            date: day(2027, 1, 1),
            ..draft
        };
        assert!(future.validated(today).is_err());
    }
}
