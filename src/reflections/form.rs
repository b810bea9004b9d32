//! A reflection's form, field by field: each field read and checked as it is
//! typed, so a front-end can ask again at once (the console) or keep what it
//! can and say what it could not (Discord's form); and a whole form merged
//! over a new or an existing reflection, with a note for every field that
//! was refused. Nothing a member typed is dropped without being named.

use super::{Draft, DraftError, MAX_TAGS, MAX_TITLE_CHARS, Mode, Reflection, clean, parse_minutes};
use crate::framework::{CompetenceId, Framework};
use crate::lookup::{Found, LookupError, Query, QueryError, query};
use crate::prompts::{Model, Models};

/// The title as it will be saved, or why it cannot be.
pub fn title(typed: &str) -> Result<String, String> {
    let title = clean(typed).replace(['\n', '\r'], " ");
    let n = title.chars().count();
    if n > MAX_TITLE_CHARS {
        return Err(DraftError::TitleTooLong(n).to_string());
    }
    Ok(title)
}

/// The text as it will be saved, or why it cannot be (nothing written).
pub fn text(typed: &str) -> Result<String, String> {
    let text = clean(typed);
    if text.is_empty() {
        return Err(DraftError::EmptyText.to_string());
    }
    Ok(text)
}

/// The kind of work as typed, or why it is none of them.
pub fn mode(typed: &str) -> Result<Mode, String> {
    Mode::parse(typed).ok_or_else(|| {
        "That is not one of therapy, coaching, integrated or other; supervision, training and reading are other.".to_string()
    })
}

/// The time spent as typed (none when empty or `none`), or why it is not a time.
pub fn minutes(typed: &str) -> Result<Option<u32>, String> {
    if matches!(typed.trim().to_lowercase().as_str(), "none" | "-") {
        return Ok(None);
    }
    parse_minutes(typed)
}

/// The tags read from what was typed: those that are competences kept, and
/// every other entry named (by its code when it reads as one, else by its
/// place) with the reason it was left out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tags {
    /// The competences kept, in the order typed, without repeats.
    pub kept: Vec<CompetenceId>,
    /// Each entry left out: its name (`C9.9`, `the 4th entry`) and why.
    pub left_out: Vec<(String, String)>,
}

impl Tags {
    /// What was left out and why, as sentences; none when nothing was.
    pub fn note(&self) -> Option<String> {
        let sentences: Vec<String> = self
            .left_out
            .iter()
            .map(|(name, why)| format!("{} was left out: {why}", capitalised(name)))
            .collect();
        (!sentences.is_empty()).then(|| sentences.join(" "))
    }
}

/// Reads a list of tags as typed (`C3.5, I2.1 core 4.2`): a competence is
/// kept; anything else is left out by itself, named, with the reason. `none`
/// (or `-`) is no tags at all.
pub fn tags(framework: &Framework, typed: &str) -> Tags {
    let mut out = Tags::default();
    if matches!(typed.trim().to_lowercase().as_str(), "none" | "-") {
        return out;
    }
    let pieces = super::split_tags(typed);
    for (i, piece) in pieces.iter().enumerate() {
        match one_tag(framework, piece, i + 1) {
            Ok(id) if out.kept.contains(&id) => {}
            Ok(id) if out.kept.len() >= MAX_TAGS => out.left_out.push((
                id.short(),
                format!("a reflection holds up to {MAX_TAGS} competences."),
            )),
            Ok(id) => out.kept.push(id),
            Err(why) => out.left_out.push(why),
        }
    }
    out
}

/// One entry of a tag list: the competence, or its name (as re-printed
/// from the numbers read, never as typed) and why it was left out.
fn one_tag(
    framework: &Framework,
    piece: &str,
    place: usize,
) -> Result<CompetenceId, (String, String)> {
    let by_place = || format!("the {} entry", super::ordinal(place));
    match framework.lookup(piece) {
        Ok(Found::Competences(hits)) => match hits.second {
            Some(second) => {
                let code = second.id.code;
                Err((
                    code.to_string(),
                    format!(
                        "it exists in both domains, so write C{code} (core) or I{code} (integration)."
                    ),
                ))
            }
            None => Ok(hits.first.id),
        },
        Ok(Found::Areas(areas)) => {
            let area = areas.first.number;
            let (named, example) = match areas.second {
                Some(_) => (format!("area {area}"), format!("C{area}.1 or I{area}.1")),
                None => (
                    format!("{} area {area}", areas.first.domain.label()),
                    format!("{}{area}.1", areas.first.domain.letter()),
                ),
            };
            Err((
                named,
                format!("it is a whole area; tag one of its competences, such as {example}."),
            ))
        }
        Err(LookupError::NotFound { nearest, .. }) => {
            let near: Vec<String> = nearest.iter().map(CompetenceId::short).collect();
            let nearest = if near.is_empty() {
                String::new()
            } else {
                format!(" Nearest: {}.", near.join(", "))
            };
            Err((
                code_as_read(piece).unwrap_or_else(by_place),
                format!("there is no such competence.{nearest}"),
            ))
        }
        _ => Err((
            by_place(),
            "tags are competence codes such as C3.5 or I2.1, separated by commas.".to_string(),
        )),
    }
}

/// A code as read from what was typed, re-printed from its numbers: `C9.9`, `9.9`.
fn code_as_read(piece: &str) -> Option<String> {
    match query::parse(piece) {
        Ok(Query::Competence {
            domain,
            area,
            number,
        }) => Some(format!(
            "{}{area}.{number}",
            domain.map(|d| d.letter().to_string()).unwrap_or_default()
        )),
        Ok(Query::MalformedCode {
            domain,
            area,
            number,
            extra,
        }) => Some(format!(
            "{}{area}.{number}.{extra}",
            domain.map(|d| d.letter().to_string()).unwrap_or_default()
        )),
        Ok(_) | Err(QueryError::Empty | QueryError::NotACode) => None,
    }
}

/// The reflective model a member asked for: by its id (`gibbs`), or by a word
/// of its name (`borton` finds the model named after Borton); the free
/// model when nothing is given. Refused in words naming the models there are.
pub fn model<'m>(models: &'m Models, typed: &str) -> Result<&'m Model, String> {
    let wanted = typed.trim().to_lowercase();
    let ids = || {
        models
            .all()
            .iter()
            .map(|m| m.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if wanted.is_empty() {
        return Err(format!(
            "Name a reflective model after model: one of {}.",
            ids()
        ));
    }
    if let Ok(m) = models.get(&wanted) {
        return Ok(m);
    }
    let named: Vec<&Model> = models
        .all()
        .iter()
        .filter(|m| {
            wanted.chars().count() >= 3
                && m.name
                    .to_lowercase()
                    .split(|c: char| !c.is_alphanumeric())
                    .any(|w| w == wanted)
        })
        .collect();
    match named.as_slice() {
        [one] => Ok(one),
        _ => Err(models
            .get(&wanted)
            .err()
            .map_or_else(String::new, |e| e.to_string())),
    }
}

/// What a member typed into a form, field by field, as typed. `None` is a
/// field not given (input that ended, or a form without it): it keeps what
/// the reflection had, or the default for a new one.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Typed {
    /// The title.
    pub title: Option<String>,
    /// The text.
    pub text: Option<String>,
    /// The tags, as a list.
    pub tags: Option<String>,
    /// The kind of work.
    pub mode: Option<String>,
    /// The time spent.
    pub minutes: Option<String>,
    /// A case presentation's fields, each under its eye's key (a
    /// reflection's form has none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<crate::supervision::case::Field>,
}

/// A form a member submitted that could not be kept whole (no text, or a
/// field refused), held as typed so the member can reopen it and correct
/// it: the store keeps it sealed for [`HOLD_FORM_FOR`], and forget-me
/// erases it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Held {
    /// What submitting it again does.
    pub purpose: HeldFor,
    /// Every field as the member typed it, refused values included.
    pub typed: Typed,
}

/// How a form about to be held came, which decides what becomes of a form
/// of its kind already held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holding {
    /// Reopened from the form held, or its next step: it carries that form's
    /// words on, and replaces it when both are for the same thing.
    CarriedOn,
    /// Begun afresh (a new form, or Start afresh): a form of its kind held
    /// is given back whole, whatever it was for, never replaced unseen.
    Afresh,
}

/// What a held form is for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum HeldFor {
    /// A new reflection written with this model (nothing was saved).
    New(String),
    /// Reflection n (saved, or being edited), to correct what was refused.
    Edit(u64),
    /// A supervision log entry with these choices (nothing was saved): its
    /// free text is the typed text, its competences the typed tags.
    Log(crate::supervision::log::LogChoices),
    /// A case presentation in this frame (nothing was saved), its fields
    /// so far: the first step of a form in more than one, or the whole of
    /// one refused.
    Case(crate::supervision::case::Frame),
}

impl HeldFor {
    /// Which of a member's held forms this is.
    pub fn kind(&self) -> HeldKind {
        match self {
            HeldFor::New(_) | HeldFor::Edit(_) => HeldKind::Reflection,
            HeldFor::Log(_) => HeldKind::Log,
            HeldFor::Case(_) => HeldKind::Case,
        }
    }
}

/// The kinds of form a member may have held at once, one of each: holding
/// one never replaces another kind's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeldKind {
    /// A reflection's form (new, or correcting one saved).
    Reflection,
    /// A supervision log entry's form.
    Log,
    /// A case presentation's form, or its first step.
    Case,
}

impl HeldKind {
    /// Every kind, in the order a form is looked for when the kind is not
    /// said (a button from before kinds were held apart).
    pub const ALL: [HeldKind; 3] = [HeldKind::Log, HeldKind::Case, HeldKind::Reflection];

    /// Its word in a custom id.
    pub fn as_str(self) -> &'static str {
        match self {
            HeldKind::Reflection => "reflection",
            HeldKind::Log => "log",
            HeldKind::Case => "case",
        }
    }

    /// The kind a word names, if any.
    pub fn from_word(word: &str) -> Option<HeldKind> {
        HeldKind::ALL.into_iter().find(|k| k.as_str() == word)
    }

    /// How a reply names a form of this kind.
    pub fn label(self) -> &'static str {
        match self {
            HeldKind::Reflection => "reflection",
            HeldKind::Log => "log entry",
            HeldKind::Case => "case presentation",
        }
    }
}

/// How long a held form is kept for its member to reopen. Afterwards it is
/// erased as a deleted reflection is.
pub const HOLD_FORM_FOR: chrono::Duration = chrono::Duration::hours(24);

/// What a form is filled over.
#[derive(Debug, Clone, Copy)]
pub enum Base<'a> {
    /// A new reflection, written with this model.
    New(&'a str),
    /// A reflection being edited: a field refused keeps what it had.
    Existing(&'a Reflection),
}

/// A form read into a draft, with a note for each field that was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filled {
    /// What is saved.
    pub draft: Draft,
    /// What was refused, why, and what was kept instead.
    pub notes: Vec<String>,
}

/// A whole form read at once (Discord's modal): every field checked, each
/// refused one named in a note and kept as it was (an edit) or left at its
/// default (a new reflection; an unknown kind of work is filed as other).
/// Only a form with no text at all, for a new reflection, is refused whole.
pub fn fill(framework: &Framework, typed: &Typed, base: Base<'_>) -> Result<Filled, String> {
    let existing = match base {
        Base::Existing(r) => Some(r),
        Base::New(_) => None,
    };
    let kept = if existing.is_some() {
        "it is kept as it was"
    } else {
        "it is left empty"
    };
    let mut notes = Vec::new();
    let title = match typed.title.as_deref().map(title) {
        Some(Ok(t)) => t,
        Some(Err(e)) => {
            notes.push(format!("Title: {e} {}.", capitalised(kept)));
            existing.map(|r| r.title.clone()).unwrap_or_default()
        }
        None => existing.map(|r| r.title.clone()).unwrap_or_default(),
    };
    let text = match (typed.text.as_deref().map(text), existing) {
        (Some(Ok(t)), _) => t,
        (Some(Err(_)) | None, Some(r)) => r.text.clone(),
        (Some(Err(e)), None) => return Err(e),
        (None, None) => return Err(DraftError::EmptyText.to_string()),
    };
    let competences = match typed.tags.as_deref() {
        Some(typed) => {
            let read = tags(framework, typed);
            notes.extend(read.note());
            read.kept
        }
        None => existing.map(|r| r.competences.clone()).unwrap_or_default(),
    };
    // An emptied field in an edit keeps the kind it had, never the default.
    let typed_mode = typed
        .mode
        .as_deref()
        .filter(|m| existing.is_none() || !m.trim().is_empty());
    let mode = match (typed_mode.map(mode), existing) {
        (Some(Ok(m)), _) => m,
        (Some(Err(e)), Some(r)) => {
            notes.push(format!(
                "Kind of work: {e} It is kept as {}.",
                r.mode.as_str()
            ));
            r.mode
        }
        (Some(Err(e)), None) => {
            notes.push(format!(
                "Kind of work: {e} It is filed as {} until you change it.",
                Mode::Other.as_str()
            ));
            Mode::Other
        }
        (None, r) => r.map_or(Mode::default(), |r| r.mode),
    };
    let minutes = match typed.minutes.as_deref().map(minutes) {
        Some(Ok(m)) => m,
        Some(Err(e)) => {
            notes.push(format!("Time spent: {e} {}.", capitalised(kept)));
            existing.and_then(|r| r.minutes)
        }
        None => existing.and_then(|r| r.minutes),
    };
    let model = match base {
        Base::New(model) => model.to_string(),
        Base::Existing(r) => r.model.clone(),
    };
    Ok(Filled {
        draft: Draft {
            title,
            text,
            competences,
            model,
            mode,
            minutes,
        },
        notes,
    })
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().collect::<String>() + chars.as_str()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reflections::tags_text;

    fn f() -> Framework {
        Framework::builtin().unwrap()
    }

    #[test]
    fn a_bad_tag_drops_only_itself_by_name() {
        let read = tags(&f(), "C3.5, C2.10, C9.9");
        assert_eq!(tags_text(&read.kept), "C3.5, C2.10");
        let note = read.note().unwrap();
        assert!(
            note.starts_with("C9.9 was left out: there is no such competence."),
            "{note}"
        );
        let read = tags(&f(), "C3.5, I2.3, C9.9, strengths");
        assert_eq!(tags_text(&read.kept), "C3.5, I2.3");
        assert_eq!(read.left_out.len(), 2, "{:?}", read.left_out);
        assert_eq!(read.left_out[1].0, "the 4th entry");
        assert!(read.note().unwrap().contains("The 4th entry was left out"));
        assert!(!read.note().unwrap().contains("strengths"), "never echoed");
        let both = tags(&f(), "3.5");
        assert!(both.kept.is_empty());
        assert!(
            both.left_out[0].1.contains("write C3.5 (core) or I3.5"),
            "{both:?}"
        );
        assert!(tags(&f(), "none").kept.is_empty() && tags(&f(), "none").left_out.is_empty());
    }

    #[test]
    fn more_than_ten_tags_keep_ten_and_name_the_rest() {
        let framework = f();
        let all: Vec<String> = framework
            .competences()
            .iter()
            .take(12)
            .map(|c| c.id.short())
            .collect();
        let read = tags(&framework, &all.join(", "));
        assert_eq!(read.kept.len(), MAX_TAGS);
        assert_eq!(read.left_out.len(), 2);
        assert!(read.left_out[0].0 == all[10], "{:?}", read.left_out);
    }

    #[test]
    fn each_field_says_why_it_is_refused() {
        assert!(
            title(&"t".repeat(101))
                .unwrap_err()
                .contains("101 characters")
        );
        assert_eq!(title("  A title \u{7}").unwrap(), "A title");
        assert!(text(" \n ").unwrap_err().contains("empty"));
        let m = mode("supervision").unwrap_err();
        assert!(
            m.contains("supervision, training and reading are other"),
            "{m}"
        );
        assert_eq!(mode("other"), Ok(Mode::Other));
        assert!(minutes("an hour or so").is_err());
    }

    #[test]
    fn a_model_is_found_by_id_or_a_word_of_its_name() {
        let models = Models::builtin().unwrap();
        assert_eq!(model(&models, "gibbs").unwrap().id, "gibbs");
        assert_eq!(model(&models, "Borton").unwrap().id, "rolfe");
        // A word two models' names share names neither.
        assert!(model(&models, "cycle").is_err());
        let empty = model(&models, "").unwrap_err();
        assert!(
            empty.contains("free, gibbs, rolfe, kolb") && !empty.contains("model ."),
            "{empty}"
        );
        let unknown = model(&models, "driscoll").unwrap_err();
        assert!(unknown.contains("Choose one of"), "{unknown}");
    }

    #[test]
    fn a_form_over_a_reflection_keeps_what_it_refuses() {
        let framework = f();
        let existing = Draft {
            title: "Before".into(),
            text: "The text.".into(),
            competences: vec!["core:3.5".parse().unwrap()],
            model: "gibbs".into(),
            mode: Mode::Integrated,
            minutes: Some(30),
        }
        .into_reflection(1, 1, chrono::Utc::now(), &framework);
        let typed = Typed {
            title: Some("After".into()),
            text: Some(" ".into()),
            tags: Some("C2.8, 9.9".into()),
            mode: Some("nonsense".into()),
            minutes: Some("soon".into()),
            ..Typed::default()
        };
        let filled = fill(&framework, &typed, Base::Existing(&existing)).unwrap();
        assert_eq!(filled.draft.title, "After");
        assert_eq!(filled.draft.text, "The text.");
        assert_eq!(tags_text(&filled.draft.competences), "C2.8");
        assert_eq!(filled.draft.mode, Mode::Integrated);
        assert_eq!(filled.draft.minutes, Some(30));
        assert_eq!(filled.notes.len(), 3, "{:?}", filled.notes);
        let new = fill(&framework, &typed, Base::New("free"));
        assert!(new.is_err(), "no text, nothing to save");
        let typed = Typed {
            text: Some("Written.".into()),
            mode: Some("supervision".into()),
            ..typed
        };
        let new = fill(&framework, &typed, Base::New("free")).unwrap();
        assert_eq!(new.draft.mode, Mode::Other, "never misfiled as coaching");
        assert_eq!(new.draft.minutes, None);
    }
}
