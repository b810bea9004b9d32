//! A case presentation prepared for the group: by the seven-eyed model of
//! supervision (seven ways of looking at the work, then the question for
//! the group), or as a short frame of the question alone. Each field is
//! read and checked as typed, and read by the confidentiality check.
//!
//! The prompts are this project's own words. They were read as a
//! supervisor trained in the model would read them, against the guide's
//! own wording of each competence named, and revised after that read: the
//! client's anonymity spelt out (no name, employer or telling detail; the
//! sponsor's organisation described, not named; a reminder in the question,
//! which is the whole of the short frame), the parallel process placed
//! between the presenter and the group, others' responses noted without
//! naming who said what, permission to keep one's own history private, the
//! client's say in a change of way of working; and the competences: core
//! 1.4 beside integration 2.2 for the client, core 3.1 for the group's
//! perspectives, core 3.6 for culture and difference. A later read added,
//! for the supervisory relationship (the model's fifth eye), how it is to
//! bring the work to the group, and said that the group's responses are
//! written after the meeting, since a saved presentation is not edited.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::framework::{CompetenceId, Framework};
use crate::reflections::nudge::{self, Concern};

/// Longest field, in characters.
pub const MAX_FIELD_CHARS: usize = 4_000;

/// One field of a case presentation: a way of looking at the work, with
/// the prompt that opens it and the competences it touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eye {
    /// Its key, as stored and exported.
    pub key: &'static str,
    /// Its name.
    pub name: &'static str,
    /// The prompt, in this project's own words.
    pub prompt: &'static str,
    /// The competences it touches (codes of the built-in framework).
    pub competences: &'static [&'static str],
}

/// The question for the group: the last field of the seven-eyed form, and
/// the whole of the short frame.
pub const QUESTION: Eye = Eye {
    key: "question",
    name: "My question for the group",
    prompt: "What do you want from the group today? Put it as one question the group can work with: what you are stuck on, unsure of, carrying or curious about. Leave out anything that could identify the client.",
    competences: &[],
};

/// The seven eyes, in the model's order, then the question.
pub const SEVEN_EYED: [Eye; 8] = [
    Eye {
        key: "client",
        name: "1. The client",
        prompt: "Describe the client without identifying them (no name, employer or telling detail): what they bring, what they want from the work, and what in their situation shapes it. What do you notice about how they tell their story?",
        competences: &["core:3.7", "core:4.3", "core:1.4", "integration:2.2"],
    },
    Eye {
        key: "interventions",
        name: "2. Your interventions",
        prompt: "What did you do and say, and why then? Which approach or model guided you? Where did you challenge or hold back, and where did you move between coaching and therapeutic ways of working, with what say for the client? What else might you have done?",
        competences: &["core:2.1", "core:2.8", "core:3.2", "integration:3.2"],
    },
    Eye {
        key: "relationship",
        name: "3. The relationship",
        prompt: "What happens between you and the client? Notice the quality of contact, who leads and who follows, how power and autonomy are shared, and any pattern that seems to work against the client finding their own way.",
        competences: &["core:2.2", "core:2.4", "core:2.6", "integration:3.3"],
    },
    Eye {
        key: "practitioner",
        name: "4. You, the practitioner",
        prompt: "What does this work stir in you: feelings, thoughts, images, bodily reactions? What of your own history, values or way of listening might be shaping how you hear this client? Share only what you choose to.",
        competences: &["integration:3.1", "integration:4.3", "integration:4.1"],
    },
    Eye {
        key: "parallel",
        name: "5. The parallel process",
        prompt: "How is it to bring this work to the group? Is something from the work with the client showing up between you and the group: in how you tell it, what you want from the group, or how it responds? Look for echoes: hurry, stuckness, avoidance, collusion, wanting to be rescued.",
        competences: &["integration:3.4", "core:2.6"],
    },
    Eye {
        key: "here_and_now",
        name: "6. The group's own responses",
        prompt: "Best written after the meeting: what did members feel, picture or want to do while hearing the case? Note the responses as information about the work rather than advice, without naming who said what. Writing beforehand? Leave this out, or note what you hope or fear the group will feel.",
        competences: &["integration:3.1", "core:3.1"],
    },
    Eye {
        key: "context",
        name: "7. The wider context",
        prompt: "What surrounds the work: an organisation or sponsor paying (describe, don't name it), any three-way contract (you, client, sponsor) and what each expects, culture, difference, professional codes and risk. Whose interests are in the room without being present?",
        competences: &[
            "core:1.5",
            "core:1.6",
            "integration:2.3",
            "integration:3.5",
            "core:2.9",
            "core:3.6",
        ],
    },
    QUESTION,
];

/// The form a presentation was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Frame {
    /// The seven eyes and the question.
    #[default]
    SevenEyed,
    /// The question alone.
    Short,
}

impl Frame {
    /// The fields it asks, in order.
    pub fn eyes(self) -> &'static [Eye] {
        match self {
            Frame::SevenEyed => &SEVEN_EYED,
            Frame::Short => std::slice::from_ref(&QUESTION),
        }
    }

    /// Its name.
    pub fn label(self) -> &'static str {
        match self {
            Frame::SevenEyed => "Seven-eyed model of supervision (after Hawkins and Shohet)",
            Frame::Short => "Short frame: the question alone",
        }
    }

    /// The word that names it in a command: `seven-eyed`, `short`.
    pub fn as_str(self) -> &'static str {
        match self {
            Frame::SevenEyed => "seven-eyed",
            Frame::Short => "short",
        }
    }

    /// The frame [`Frame::as_str`] names.
    pub fn from_word(word: &str) -> Option<Frame> {
        [Frame::SevenEyed, Frame::Short]
            .into_iter()
            .find(|f| f.as_str() == word)
    }
}

/// One answered field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// The eye's key.
    pub key: String,
    /// What the member wrote.
    pub text: String,
}

/// A presentation as its member writes it, before it is numbered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CaseDraft {
    /// The form it is written in.
    pub frame: Frame,
    /// The fields answered, in the form's order (an empty one left out).
    pub fields: Vec<Field>,
}

/// A stored case presentation, as its member sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CasePresentation {
    /// Its number, counted per member from 1.
    pub id: u64,
    /// When it was written (UTC).
    pub created: DateTime<Utc>,
    /// The form it is written in.
    pub frame: Frame,
    /// The fields answered.
    pub fields: Vec<Field>,
}

/// The eye a key names, in any frame.
pub fn eye(key: &str) -> Option<&'static Eye> {
    SEVEN_EYED.iter().find(|e| e.key == key)
}

/// The competences an eye touches, as the framework has them.
pub fn competences_of(framework: &Framework, eye: &Eye) -> Vec<CompetenceId> {
    eye.competences
        .iter()
        .filter_map(|c| c.parse::<CompetenceId>().ok())
        .filter(|id| framework.competence(*id).is_some())
        .collect()
}

/// A field as typed, as it will be saved, or why it cannot be.
pub fn field(typed: &str) -> Result<String, String> {
    let text = crate::reflections::clean(typed);
    let n = text.chars().count();
    if n > MAX_FIELD_CHARS {
        return Err(format!(
            "That is {n} characters; a field holds up to {MAX_FIELD_CHARS}. Shorten it: the group hears it in a few minutes."
        ));
    }
    Ok(text)
}

/// What the confidentiality check finds in each field, by the field's name.
pub fn concerns(fields: &[Field]) -> Vec<(&'static str, Vec<Concern>)> {
    fields
        .iter()
        .filter_map(|f| {
            let found = nudge::concerns(&f.text);
            let name = eye(&f.key).map_or("A field", |e| e.name);
            (!found.is_empty()).then_some((name, found))
        })
        .collect()
}

impl CaseDraft {
    /// The draft as it will be saved, or why it cannot be: every field
    /// checked, only the frame's own fields, the question required.
    pub fn validated(self) -> Result<CaseDraft, String> {
        let mut fields = Vec::new();
        for eye in self.frame.eyes() {
            let Some(given) = self.fields.iter().find(|f| f.key == eye.key) else {
                continue;
            };
            let text = field(&given.text).map_err(|why| format!("{}: {why}", eye.name))?;
            if !text.is_empty() {
                fields.push(Field {
                    key: eye.key.to_string(),
                    text,
                });
            }
        }
        if !fields.iter().any(|f| f.key == QUESTION.key) {
            return Err(
                "A presentation needs its question for the group: write it, even in a line.".into(),
            );
        }
        Ok(CaseDraft {
            frame: self.frame,
            fields,
        })
    }

    /// The presentation, numbered `id`, written at `now`.
    pub fn into_presentation(self, id: u64, now: DateTime<Utc>) -> CasePresentation {
        CasePresentation {
            id,
            created: now,
            frame: self.frame,
            fields: self.fields,
        }
    }
}

impl CasePresentation {
    /// How lists name it: the question's opening words.
    pub fn heading(&self) -> String {
        let question = self
            .fields
            .iter()
            .find(|f| f.key == QUESTION.key)
            .map_or("", |f| f.text.as_str());
        crate::reflections::heading("", question)
    }

    /// The competences the answered fields touch, each once.
    pub fn competences(&self, framework: &Framework) -> Vec<CompetenceId> {
        let mut out = Vec::new();
        for f in &self.fields {
            for id in eye(&f.key).map_or_else(Vec::new, |e| competences_of(framework, e)) {
                if !out.contains(&id) {
                    out.push(id);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prompt_is_short_and_every_code_is_in_the_framework() {
        let framework = Framework::builtin().unwrap();
        let mut keys = Vec::new();
        for eye in SEVEN_EYED {
            let words = eye.prompt.split_whitespace().count();
            assert!(words <= 60, "{}: {words} words", eye.key);
            assert!(words >= 12, "{}: a prompt says enough to start", eye.key);
            assert!(eye.prompt.ends_with(['?', '.']), "{}", eye.key);
            for code in eye.competences {
                let id: CompetenceId = code.parse().unwrap_or_else(|_| panic!("{code}"));
                assert!(framework.competence(id).is_some(), "{}: {code}", eye.key);
            }
            assert_eq!(
                competences_of(&framework, &eye).len(),
                eye.competences.len()
            );
            assert!(!keys.contains(&eye.key), "{} twice", eye.key);
            keys.push(eye.key);
        }
        // Every eye but the question touches competences.
        assert!(SEVEN_EYED[..7].iter().all(|e| !e.competences.is_empty()));
        // The wider context names a sponsor and a three-way contract.
        assert!(SEVEN_EYED[6].prompt.contains("sponsor"));
        assert!(SEVEN_EYED[6].prompt.contains("three-way contract"));
        assert!(SEVEN_EYED[6].competences.contains(&"core:1.6"));
        assert_eq!(Frame::Short.eyes(), &[QUESTION]);
        // The model is credited to its authors wherever its name shows.
        assert!(Frame::SevenEyed.label().contains("Hawkins and Shohet"));
        // The fifth eye is the supervisory relationship, not only its
        // echoes; the sixth is written after the group has responded.
        assert!(
            eye("parallel")
                .unwrap()
                .prompt
                .starts_with("How is it to bring this work to the group?")
        );
        assert!(
            eye("here_and_now")
                .unwrap()
                .prompt
                .starts_with("Best written after the meeting")
        );
    }

    #[test]
    fn the_question_is_required_and_only_the_frames_fields_are_kept() {
        let field = |key: &str, text: &str| Field {
            key: key.into(),
            text: text.into(),
        };
        let no_question = CaseDraft {
            frame: Frame::SevenEyed,
            fields: vec![field("client", "A coachee in transition.")],
        };
        assert!(no_question.validated().unwrap_err().contains("question"));
        let short = CaseDraft {
            frame: Frame::Short,
            fields: vec![
                field("client", "left out: not in the short frame"),
                field("question", "  How do I end well?  "),
            ],
        }
        .validated()
        .unwrap();
        assert_eq!(short.fields, vec![field("question", "How do I end well?")]);
        let long = CaseDraft {
            frame: Frame::SevenEyed,
            fields: vec![
                field("client", &"x".repeat(MAX_FIELD_CHARS + 1)),
                field("question", "Why?"),
            ],
        };
        assert!(long.validated().unwrap_err().starts_with("1. The client:"));
    }

    #[test]
    fn the_check_reads_every_field_and_names_the_field() {
        let fields = vec![
            Field {
                key: "client".into(),
                text: "My client Sarah Jones works at Barclays.".into(),
            },
            Field {
                key: "question".into(),
                text: "How do I hold the sponsor's wishes lightly?".into(),
            },
        ];
        let found = concerns(&fields);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "1. The client");
        let framework = Framework::builtin().unwrap();
        let p = CaseDraft {
            frame: Frame::SevenEyed,
            fields,
        }
        .into_presentation(1, Utc::now());
        assert_eq!(p.heading(), "How do I hold the sponsor's wishes lightly?");
        // The client's eye touches core 3.7, 4.3 and 1.4 and integration 2.2.
        assert_eq!(p.competences(&framework).len(), 4);
    }
}
