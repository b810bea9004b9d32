//! Identifiers: a domain, a code within it (`3.5`), and the two together
//! (`core:3.5`), the form used in see-also links, storage and JSON.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The two domains of the Coaching competence framework.
///
/// Codes repeat across domains (`3.5` exists in both), so a code alone never
/// names a competence; a [`CompetenceId`] does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DomainId {
    /// "Core coaching competences".
    Core,
    /// "Competences for integrating therapy and coaching".
    Integration,
}

impl DomainId {
    /// Both domains, core first: the order in which ambiguous results are shown.
    pub const ALL: [DomainId; 2] = [DomainId::Core, DomainId::Integration];

    /// The lowercase id used in files and links.
    pub fn as_str(self) -> &'static str {
        match self {
            DomainId::Core => "core",
            DomainId::Integration => "integration",
        }
    }

    /// The short label shown to people beside a code: "Core" or "Integration".
    pub fn label(self) -> &'static str {
        match self {
            DomainId::Core => "Core",
            DomainId::Integration => "Integration",
        }
    }

    /// The one-letter prefix people type: `C3.5`, `I3.5`.
    pub fn letter(self) -> char {
        match self {
            DomainId::Core => 'C',
            DomainId::Integration => 'I',
        }
    }

    /// The domain a word people type names, in any case: `core`, `c`;
    /// `integration`, `integrating`, `integrative`, `int`, `i`. The one list
    /// the lookup parser, autocomplete and the reference scanner read.
    pub fn from_word(word: &str) -> Option<DomainId> {
        const WORDS: [(&str, DomainId); 7] = [
            ("core", DomainId::Core),
            ("c", DomainId::Core),
            ("integration", DomainId::Integration),
            ("integrating", DomainId::Integration),
            ("integrative", DomainId::Integration),
            ("int", DomainId::Integration),
            ("i", DomainId::Integration),
        ];
        WORDS
            .iter()
            .find(|(w, _)| w.eq_ignore_ascii_case(word))
            .map(|&(_, d)| d)
    }

    /// A domain word at the start of `text` (`C3.5`, `core 3.`, `int2`) and
    /// what follows it, spaces skipped; `None` when `text` starts otherwise.
    pub fn split_prefix(text: &str) -> Option<(DomainId, &str)> {
        let end = text
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(text.len());
        let domain = DomainId::from_word(&text[..end])?;
        Some((domain, text[end..].trim_start_matches(' ')))
    }
}

impl fmt::Display for DomainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DomainId {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "core" => Ok(DomainId::Core),
            "integration" => Ok(DomainId::Integration),
            _ => Err(ParseIdError::Domain),
        }
    }
}

/// A competence code within a domain: area and number, e.g. `2.10`.
///
/// Held as numbers, so `2.10` and `2.1` are different codes and sort correctly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code {
    /// The area number.
    pub area: u8,
    /// The competence's number within the area.
    pub number: u8,
}

impl Code {
    /// A code from its two parts.
    pub const fn new(area: u8, number: u8) -> Code {
        Code { area, number }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.area, self.number)
    }
}

impl FromStr for Code {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (area, number) = s.split_once('.').ok_or(ParseIdError::Code)?;
        Ok(Code {
            area: parse_part(area)?,
            number: parse_part(number)?,
        })
    }
}

fn parse_part(s: &str) -> Result<u8, ParseIdError> {
    if s.is_empty() || s.len() > 2 || !s.bytes().all(|b| b.is_ascii_digit()) || s.starts_with('0') {
        return Err(ParseIdError::Code);
    }
    s.parse().map_err(|_| ParseIdError::Code)
}

/// A competence's full identity: domain and code, written `core:3.5`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CompetenceId {
    /// The domain.
    pub domain: DomainId,
    /// The code within the domain.
    pub code: Code,
}

impl CompetenceId {
    /// An id from its parts.
    pub const fn new(domain: DomainId, code: Code) -> CompetenceId {
        CompetenceId { domain, code }
    }

    /// How people read it: "Core 3.5".
    pub fn label(&self) -> String {
        format!("{} {}", self.domain.label(), self.code)
    }

    /// How people type it: "C3.5", "I2.1".
    pub fn short(&self) -> String {
        format!("{}{}", self.domain.letter(), self.code)
    }
}

impl fmt::Display for CompetenceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.domain, self.code)
    }
}

impl FromStr for CompetenceId {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (domain, code) = s.split_once(':').ok_or(ParseIdError::Id)?;
        Ok(CompetenceId {
            domain: domain.parse()?,
            code: code.parse()?,
        })
    }
}

impl Serialize for CompetenceId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CompetenceId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Why an identifier could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseIdError {
    /// Not `core` or `integration`.
    #[error("the domain must be `core` or `integration`")]
    Domain,
    /// Not two whole numbers joined by a dot.
    #[error("a code is two numbers joined by a dot, such as `3.5` or `2.10`")]
    Code,
    /// Not `domain:code`.
    #[error("an id is a domain and a code joined by a colon, such as `core:3.5`")]
    Id,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_as_numbers_so_2_10_is_not_2_1() {
        let a: Code = "2.10".parse().unwrap();
        let b: Code = "2.1".parse().unwrap();
        assert_ne!(a, b);
        assert!(b < a);
        assert_eq!(a.to_string(), "2.10");
    }

    #[test]
    fn ids_round_trip_through_text() {
        for s in ["core:3.5", "integration:4.4", "core:2.10"] {
            let id: CompetenceId = s.parse().unwrap();
            assert_eq!(id.to_string(), s);
        }
    }

    #[test]
    fn domain_words_in_any_case_and_nothing_else() {
        for (word, domain) in [
            ("C", DomainId::Core),
            ("core", DomainId::Core),
            ("CORE", DomainId::Core),
            ("i", DomainId::Integration),
            ("Int", DomainId::Integration),
            ("integrative", DomainId::Integration),
            ("Integration", DomainId::Integration),
        ] {
            assert_eq!(DomainId::from_word(word), Some(domain), "{word}");
        }
        for word in ["", "co", "cores", "in", "integ", "ic"] {
            assert_eq!(DomainId::from_word(word), None, "{word}");
        }
        assert_eq!(
            DomainId::split_prefix("C3.5"),
            Some((DomainId::Core, "3.5"))
        );
        assert_eq!(
            DomainId::split_prefix("integration  2."),
            Some((DomainId::Integration, "2."))
        );
        assert_eq!(DomainId::split_prefix("cores 3.5"), None);
        assert_eq!(DomainId::split_prefix("3.5"), None);
        let id: CompetenceId = "integration:2.10".parse().unwrap();
        assert_eq!(id.short(), "I2.10");
    }

    #[test]
    fn malformed_ids_are_refused() {
        for s in [
            "core3.5",
            "core:3",
            "core:3.5.1",
            "other:3.5",
            "core:03.5",
            "core:.5",
            "",
        ] {
            assert!(s.parse::<CompetenceId>().is_err(), "{s} should not parse");
        }
    }
}
