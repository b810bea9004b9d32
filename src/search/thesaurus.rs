//! The practitioners' thesaurus: the words therapists and coaches use
//! (`sponsor`, `endings`, `three-way contract`) mapped to the framework's own
//! phrases, so a search in everyday words finds the competences.
//!
//! The data lives in `framework/thesaurus.toml` (compiled into the binary,
//! like the framework) and is meant to be edited by hand. Reading it refuses
//! empty entries and phrases, phrases search would skip entirely, the same
//! everyday phrase twice and the same framework phrase twice in an entry;
//! [`Thesaurus::check_against`] adds that every framework phrase occurs in the
//! framework (words side by side, as search reads them). Every error names
//! the file, line and column.
//!
//! Its `[[cues]]` list, for each competence, the words practitioners use
//! when they describe a situation that calls for it (`angry`, `furious`,
//! `tearful` for emotions): search reads them as part of the competence, so
//! a sentence in those words finds it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use serde::Deserialize;
use toml::Spanned;

use super::text::analyse;
use crate::framework::{CompetenceId, Framework, FrameworkError, line_col};

/// The thesaurus shipped with the built-in framework.
pub const BUILTIN_THESAURUS: &str = include_str!("../../framework/thesaurus.toml");

/// The name under which the built-in thesaurus reports errors.
pub const BUILTIN_THESAURUS_NAME: &str = "framework/thesaurus.toml (built in)";

/// Everyday phrases mapped to the framework's phrases, read and checked.
#[derive(Debug, Clone, Default)]
pub struct Thesaurus {
    source_name: String,
    pub(super) entries: Vec<Entry>,
    pub(super) incidental: Vec<Phrase>,
    pub(super) cues: Vec<Cues>,
}

/// The words practitioners use for situations that call for one competence.
#[derive(Debug, Clone)]
pub(super) struct Cues {
    pub(super) competence: CompetenceId,
    pub(super) words: Vec<Phrase>,
    /// Where `competence` is written, for errors.
    line: usize,
    column: usize,
}

/// One idea: the ways practitioners say it, and the framework's words for it.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) everyday: Vec<Phrase>,
    pub(super) framework: Vec<Phrase>,
}

/// A phrase as written in the file, and as search reads it.
#[derive(Debug, Clone)]
pub(super) struct Phrase {
    text: String,
    /// Its words as written, lower-cased, common words dropped.
    pub(super) words: Vec<String>,
    /// The same words' stems.
    pub(super) stems: Vec<String>,
    line: usize,
    column: usize,
}

/// Everyday phrases as search reads them (stems) → the phrase as written and its line.
type EverydaySeen = HashMap<Vec<String>, (String, usize)>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThesaurus {
    #[serde(default)]
    entry: Vec<RawEntry>,
    incidental: Option<RawIncidental>,
    #[serde(default)]
    cues: Vec<RawCues>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCues {
    competence: Spanned<String>,
    words: Spanned<Vec<Spanned<String>>>,
    /// Why these words call for it, for the people who edit the file.
    #[serde(default)]
    #[allow(dead_code, reason = "read by people, not by search")]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    everyday: Spanned<Vec<Spanned<String>>>,
    framework: Spanned<Vec<Spanned<String>>>,
    /// Why the mapping holds, for the people who edit the file.
    #[serde(default)]
    #[allow(dead_code, reason = "read by people, not by search")]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIncidental {
    words: Spanned<Vec<Spanned<String>>>,
}

impl Thesaurus {
    /// The thesaurus compiled into the binary, read once.
    ///
    /// The test suite reads it and checks it against the built-in framework, so
    /// an error here is a build defect; it is still returned, never unwrapped.
    pub fn builtin() -> Result<&'static Thesaurus, FrameworkError> {
        static BUILTIN: OnceLock<Result<Thesaurus, FrameworkError>> = OnceLock::new();
        BUILTIN
            .get_or_init(|| Thesaurus::parse(BUILTIN_THESAURUS, BUILTIN_THESAURUS_NAME))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Reads and validates the thesaurus file at `path`.
    pub fn load_file(path: &Path) -> Result<Thesaurus, FrameworkError> {
        let (text, name) = crate::framework::read_source(path)?;
        Thesaurus::parse(&text, &name)
    }

    /// Parses and validates thesaurus TOML; `source_name` is used in error messages.
    pub fn parse(text: &str, source_name: &str) -> Result<Thesaurus, FrameworkError> {
        let ctx = Ctx { text, source_name };
        let raw: RawThesaurus = toml::from_str(text)
            .map_err(|e| ctx.error(e.span().map(|s| s.start), e.message().trim_end()))?;
        ctx.build(raw)
    }

    /// Checks that every framework phrase occurs in `framework`: its words side
    /// by side (stemmed, common words dropped) in some competence's statement,
    /// guidance or area title. The first phrase that does not is the error.
    pub fn check_against(&self, framework: &Framework) -> Result<(), FrameworkError> {
        let index = super::SearchIndex::build(framework, &Thesaurus::default());
        for entry in &self.entries {
            for phrase in &entry.framework {
                if !index.occurs(&phrase.stems) {
                    return Err(self.error_at(
                        phrase,
                        format!(
                            "the framework phrase `{}` (for `{}`) does not occur in the framework: use the guide's own words, side by side as a statement, guidance or area title has them",
                            phrase.text, entry.everyday[0].text
                        ),
                    ));
                }
            }
        }
        for cues in &self.cues {
            if framework.competence(cues.competence).is_none() {
                return Err(FrameworkError {
                    source_name: self.source_name.clone(),
                    line: Some(cues.line),
                    column: Some(cues.column),
                    message: format!(
                        "the cues name competence `{}`, which is not in the framework",
                        cues.competence
                    ),
                });
            }
        }
        Ok(())
    }

    /// The words listed as cues for `competence`.
    pub(super) fn cues_for(&self, competence: CompetenceId) -> impl Iterator<Item = &Phrase> {
        self.cues
            .iter()
            .filter(move |c| c.competence == competence)
            .flat_map(|c| &c.words)
    }

    /// Where the thesaurus was read from.
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// How many entries (ideas) it maps.
    pub fn entry_count(&self) -> usize {
        self.entries.len()
    }

    /// How many everyday phrases it knows, over all entries.
    pub fn everyday_count(&self) -> usize {
        self.entries.iter().map(|e| e.everyday.len()).sum()
    }

    /// How many incidental words it lists.
    pub fn incidental_count(&self) -> usize {
        self.incidental.len()
    }

    fn error_at(&self, phrase: &Phrase, message: String) -> FrameworkError {
        FrameworkError {
            source_name: self.source_name.clone(),
            line: Some(phrase.line),
            column: Some(phrase.column),
            message,
        }
    }
}

struct Ctx<'a> {
    text: &'a str,
    source_name: &'a str,
}

impl Ctx<'_> {
    fn error(&self, offset: Option<usize>, message: impl Into<String>) -> FrameworkError {
        FrameworkError::in_file(self.source_name, self.text, offset, message)
    }

    fn at<T>(&self, spanned: &Spanned<T>, message: impl Into<String>) -> FrameworkError {
        self.error(Some(spanned.span().start), message)
    }

    fn build(&self, raw: RawThesaurus) -> Result<Thesaurus, FrameworkError> {
        if raw.entry.is_empty() {
            return Err(self.error(None, "the file has no [[entry]]"));
        }
        // Everyday phrases as search reads them → where first seen.
        let mut everyday_seen: EverydaySeen = HashMap::new();
        let entries = raw
            .entry
            .iter()
            .map(|raw_entry| self.entry(raw_entry, &mut everyday_seen))
            .collect::<Result<Vec<Entry>, FrameworkError>>()?;
        let incidental = match &raw.incidental {
            Some(raw_incidental) => self.incidental(raw_incidental, &everyday_seen)?,
            None => Vec::new(),
        };
        let cues = raw
            .cues
            .iter()
            .map(|raw_cues| self.cues(raw_cues))
            .collect::<Result<Vec<Cues>, FrameworkError>>()?;
        Ok(Thesaurus {
            source_name: self.source_name.to_string(),
            entries,
            incidental,
            cues,
        })
    }

    /// One competence's cues: its id, and at least one word, none twice.
    fn cues(&self, raw: &RawCues) -> Result<Cues, FrameworkError> {
        let competence: CompetenceId = raw.competence.get_ref().parse().map_err(|_| {
            self.at(
                &raw.competence,
                format!(
                    "`{}` is not a competence id (write it as `core:3.9` or `integration:2.3`)",
                    raw.competence.get_ref()
                ),
            )
        })?;
        if raw.words.get_ref().is_empty() {
            return Err(self.at(&raw.words, "these cues have no words"));
        }
        let mut words: Vec<Phrase> = Vec::new();
        for raw_word in raw.words.get_ref() {
            let word = self.phrase(raw_word)?;
            if let Some(first) = words.iter().find(|p| p.stems == word.stems) {
                return Err(self.at(
                    raw_word,
                    format!(
                        "the cue `{}` reads the same as `{}` (line {}) for this competence: keep one",
                        word.text, first.text, first.line
                    ),
                ));
            }
            words.push(word);
        }
        let (line, column) = line_col(self.text, raw.competence.span().start);
        Ok(Cues {
            competence,
            words,
            line,
            column,
        })
    }

    /// One entry: at least one everyday phrase, none read the same as one
    /// before it in the file, and at least one framework phrase, none twice.
    fn entry(
        &self,
        raw_entry: &RawEntry,
        everyday_seen: &mut EverydaySeen,
    ) -> Result<Entry, FrameworkError> {
        if raw_entry.everyday.get_ref().is_empty() {
            return Err(self.at(
                &raw_entry.everyday,
                "this entry has no everyday phrase: list at least one way practitioners say it",
            ));
        }
        if raw_entry.framework.get_ref().is_empty() {
            return Err(self.at(
                &raw_entry.framework,
                "this entry has no framework phrase: list at least one of the guide's phrases for it",
            ));
        }
        let mut everyday = Vec::new();
        for raw_phrase in raw_entry.everyday.get_ref() {
            let phrase = self.phrase(raw_phrase)?;
            if let Some((first, line)) = everyday_seen.get(&phrase.stems) {
                return Err(self.at(
                    raw_phrase,
                    format!(
                        "the everyday phrase `{}` reads the same as `{first}` (line {line}) once common words are dropped and words are stemmed: keep one",
                        phrase.text
                    ),
                ));
            }
            everyday_seen.insert(phrase.stems.clone(), (phrase.text.clone(), phrase.line));
            everyday.push(phrase);
        }
        let mut framework: Vec<Phrase> = Vec::new();
        for raw_phrase in raw_entry.framework.get_ref() {
            let phrase = self.phrase(raw_phrase)?;
            if let Some(first) = framework.iter().find(|p| p.stems == phrase.stems) {
                return Err(self.at(
                    raw_phrase,
                    format!(
                        "the framework phrase `{}` reads the same as `{}` (line {}) in this entry: keep one",
                        phrase.text, first.text, first.line
                    ),
                ));
            }
            framework.push(phrase);
        }
        Ok(Entry {
            everyday,
            framework,
        })
    }

    /// The incidental words: one word each, none twice, none an everyday phrase.
    fn incidental(
        &self,
        raw_incidental: &RawIncidental,
        everyday_seen: &EverydaySeen,
    ) -> Result<Vec<Phrase>, FrameworkError> {
        if raw_incidental.words.get_ref().is_empty() {
            return Err(self.at(
                &raw_incidental.words,
                "[incidental] has no words: list some, or leave the table out",
            ));
        }
        let mut incidental: Vec<Phrase> = Vec::new();
        for raw_word in raw_incidental.words.get_ref() {
            let word = self.phrase(raw_word)?;
            if word.stems.len() != 1 {
                return Err(self.at(
                    raw_word,
                    format!("`{}`: an incidental word is one word", word.text),
                ));
            }
            if let Some(first) = incidental.iter().find(|p| p.stems == word.stems) {
                return Err(self.at(
                    raw_word,
                    format!(
                        "the incidental word `{}` reads the same as `{}` (line {}) once stemmed: keep one",
                        word.text, first.text, first.line
                    ),
                ));
            }
            if let Some((phrase, line)) = everyday_seen.get(&word.stems) {
                return Err(self.at(
                    raw_word,
                    format!(
                        "`{}` is both an incidental word and the everyday phrase `{phrase}` (line {line}): it cannot be both",
                        word.text
                    ),
                ));
            }
            incidental.push(word);
        }
        Ok(incidental)
    }

    fn phrase(&self, raw: &Spanned<String>) -> Result<Phrase, FrameworkError> {
        let text = raw.get_ref().trim();
        if text.is_empty() {
            return Err(self.at(raw, "an empty phrase"));
        }
        let (words, stems): (Vec<String>, Vec<String>) = analyse(text).into_iter().unzip();
        if stems.is_empty() {
            return Err(self.at(
                raw,
                format!(
                    "`{text}` has no word search reads (it skips one-letter words and common words such as `the`, `of` and `not`)"
                ),
            ));
        }
        let (line, column) = line_col(self.text, raw.span().start);
        Ok(Phrase {
            text: text.to_string(),
            words,
            stems,
            line,
            column,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[[entry]]
everyday = ["sponsor", "paying organisation"]
framework = ["stakeholders", "three-party contract"]

[[entry]]
everyday = ["endings"]
framework = ["conclusion of the coaching"]

[incidental]
words = ["session"]
"#;

    fn error_for(text: &str) -> FrameworkError {
        match Thesaurus::parse(text, "t.toml") {
            Ok(_) => panic!("expected an error"),
            Err(e) => e,
        }
    }

    fn line_of(text: &str, needle: &str) -> usize {
        text.lines().position(|l| l.contains(needle)).expect("line") + 1
    }

    #[test]
    fn a_minimal_file_reads_and_checks() {
        let t = Thesaurus::parse(MINIMAL, "t.toml").unwrap();
        assert_eq!(
            (t.entry_count(), t.everyday_count(), t.incidental_count()),
            (2, 3, 1)
        );
        let f = Framework::builtin().unwrap();
        t.check_against(&f).unwrap();
        assert_eq!(t.entries[0].everyday[1].stems, ["pay", "organis"]);
    }

    #[test]
    fn the_built_in_thesaurus_reads_and_checks_against_the_built_in_framework() {
        let t = Thesaurus::builtin().unwrap();
        t.check_against(&Framework::builtin().unwrap()).unwrap();
        assert!(t.entry_count() >= 40, "{} entries", t.entry_count());
    }

    #[test]
    fn a_framework_phrase_that_does_not_occur_is_named_with_its_line() {
        let text = MINIMAL.replace("\"three-party contract\"", "\"four-party treaty\"");
        let t = Thesaurus::parse(&text, "t.toml").unwrap();
        let e = t.check_against(&Framework::builtin().unwrap()).unwrap_err();
        assert!(e.message.contains("`four-party treaty`"), "{e}");
        assert!(e.message.contains("does not occur"), "{e}");
        assert_eq!(e.line, Some(line_of(&text, "four-party")), "{e}");
        assert!(e.to_string().starts_with("t.toml:"), "{e}");
        // Words that occur, but never side by side, are not a phrase of the framework.
        let apart = MINIMAL.replace("\"three-party contract\"", "\"contract stakeholders\"");
        let t = Thesaurus::parse(&apart, "t.toml").unwrap();
        assert!(t.check_against(&Framework::builtin().unwrap()).is_err());
    }

    #[test]
    fn empty_entries_and_phrases_are_refused() {
        let e = error_for(&MINIMAL.replace("everyday = [\"endings\"]", "everyday = []"));
        assert!(e.message.contains("no everyday phrase"), "{e}");
        assert!(e.line.is_some());
        let e = error_for(&MINIMAL.replace(
            "framework = [\"conclusion of the coaching\"]",
            "framework = []",
        ));
        assert!(e.message.contains("no framework phrase"), "{e}");
        let e = error_for(&MINIMAL.replace("\"endings\"", "\"  \""));
        assert!(e.message.contains("empty phrase"), "{e}");
        let e = error_for(&MINIMAL.replace("\"endings\"", "\"of the\""));
        assert!(e.message.contains("no word search reads"), "{e}");
        let e = error_for("");
        assert!(e.message.contains("no [[entry]]"), "{e}");
        let e = error_for(&MINIMAL.replace("words = [\"session\"]", "words = []"));
        assert!(e.message.contains("[incidental] has no words"), "{e}");
    }

    #[test]
    fn duplicates_are_refused_with_both_lines() {
        // The same everyday phrase in two entries, once stemmed.
        let text = MINIMAL.replace("\"endings\"", "\"sponsors\"");
        let e = error_for(&text);
        assert!(
            e.message.contains("`sponsors` reads the same as `sponsor`"),
            "{e}"
        );
        assert!(
            e.message
                .contains(&format!("(line {})", line_of(&text, "\"sponsor\""))),
            "{e}"
        );
        assert_eq!(e.line, Some(line_of(&text, "\"sponsors\"")), "{e}");
        // Common words do not make a phrase different.
        let e = error_for(&MINIMAL.replace("\"endings\"", "\"the sponsor\""));
        assert!(e.message.contains("reads the same"), "{e}");
        // The same framework phrase twice in one entry.
        let e =
            error_for(&MINIMAL.replace("\"stakeholders\"", "\"stakeholders\", \"stakeholder\""));
        assert!(
            e.message
                .contains("`stakeholder` reads the same as `stakeholders`"),
            "{e}"
        );
        // Incidental words: twice, more than one word, or also everyday.
        let e = error_for(&MINIMAL.replace("[\"session\"]", "[\"session\", \"sessions\"]"));
        assert!(e.message.contains("incidental word `sessions`"), "{e}");
        let e = error_for(&MINIMAL.replace("[\"session\"]", "[\"first session\"]"));
        assert!(e.message.contains("an incidental word is one word"), "{e}");
        let e = error_for(&MINIMAL.replace("[\"session\"]", "[\"endings\"]"));
        assert!(e.message.contains("both an incidental word"), "{e}");
    }

    #[test]
    fn unknown_fields_and_syntax_errors_carry_a_line() {
        let e = error_for(&MINIMAL.replace("everyday = [\"endings\"]", "everday = [\"endings\"]"));
        assert!(e.message.contains("everday"), "{e}");
        assert!(e.line.is_some(), "{e}");
        let e = error_for(&MINIMAL.replace("[\"endings\"]", "[\"endings\""));
        assert!(e.line.is_some(), "{e}");
    }

    #[test]
    fn cues_name_a_competence_of_the_framework_and_no_word_twice() {
        let with = |cues: &str| format!("{MINIMAL}\n[[cues]]\n{cues}\n");
        let good = with("competence = \"core:3.9\"\nwords = [\"angry\", \"tearful\"]");
        let t = Thesaurus::parse(&good, "t.toml").unwrap();
        t.check_against(&Framework::builtin().unwrap()).unwrap();
        let id = "core:3.9".parse().unwrap();
        assert_eq!(t.cues_for(id).count(), 2);
        let e = error_for(&with("competence = \"C3.9\"\nwords = [\"angry\"]"));
        assert!(e.message.contains("not a competence id"), "{e}");
        let e = error_for(&with("competence = \"core:3.9\"\nwords = []"));
        assert!(e.message.contains("no words"), "{e}");
        let e = error_for(&with(
            "competence = \"core:3.9\"\nwords = [\"anger\", \"angers\"]",
        ));
        assert!(
            e.message.contains("`angers` reads the same as `anger`"),
            "{e}"
        );
        let missing = with("competence = \"core:9.9\"\nwords = [\"angry\"]");
        let t = Thesaurus::parse(&missing, "t.toml").unwrap();
        let e = t.check_against(&Framework::builtin().unwrap()).unwrap_err();
        assert!(e.message.contains("not in the framework"), "{e}");
        assert_eq!(e.line, Some(line_of(&missing, "core:9.9")), "{e}");
    }
}
