//! The confidentiality nudge: before a reflection is kept, a look for what
//! might identify a client (BACP's Ethical Framework puts client
//! confidentiality first). It names the kind of detail found, never the
//! detail; it never blocks; nothing it sees is logged.

use std::sync::LazyLock;

use regex::Regex;

/// A kind of detail that can identify a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concern {
    /// An email address.
    Email,
    /// A phone number.
    Phone,
    /// A date that may be a date of birth.
    BirthDate,
    /// A UK postcode.
    Postcode,
    /// A name after "my client", "client", "coachee" …
    ClientName,
}

impl Concern {
    /// How the concern is named to the member.
    pub fn describe(self) -> &'static str {
        match self {
            Concern::Email => "an email address",
            Concern::Phone => "a phone number",
            Concern::BirthDate => "a date that may be a date of birth",
            Concern::Postcode => "a postcode",
            Concern::ClientName => "what looks like a client's name",
        }
    }
}

struct Pattern {
    concern: Concern,
    regex: Regex,
}

static PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    let p = |concern, re: &str| Pattern {
        concern,
        regex: Regex::new(re).expect("nudge patterns are valid regexes"),
    };
    vec![
        p(
            Concern::Email,
            r"(?i)\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b",
        ),
        p(Concern::Phone, r"(?:\+44\s?|\b0)(?:\d[\s-]?){9,10}\b"),
        p(
            Concern::BirthDate,
            r"(?i)\b(?:born|dob|d\.o\.b\.?|date of birth|birthday)\b[^.\n]{0,20}\d|\b\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)\d{2}\b",
        ),
        p(
            Concern::Postcode,
            r"(?i)\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[ABD-HJLNP-UW-Z]{2}\b",
        ),
        p(
            Concern::ClientName,
            r"\b(?:[Mm]y |[Tt]he |[Aa] |[Oo]ur )?(?:client|coachee|patient|supervisee)(?:'s|’s)?,?\s+(?:called\s+|named\s+)?(?:[A-Z][a-z]+)\b",
        ),
    ]
});

/// Words after "client" that are ordinary English, not names.
const NOT_NAMES: &[&str] = &[
    "I", "He", "She", "They", "We", "It", "This", "That", "And", "But", "So", "Then", "When",
    "Who", "Work", "Said", "Told", "Asked",
];

/// The kinds of identifying detail `text` seems to contain, each once.
pub fn concerns(text: &str) -> Vec<Concern> {
    let mut found = Vec::new();
    for p in PATTERNS.iter() {
        let hit = p.regex.find_iter(text).any(|m| {
            p.concern != Concern::ClientName
                || m.as_str()
                    .split_whitespace()
                    .last()
                    .is_some_and(|name| !NOT_NAMES.contains(&name))
        });
        if hit && !found.contains(&p.concern) {
            found.push(p.concern);
        }
    }
    found
}

/// The sentence shown to the member when there are concerns.
pub fn warning(found: &[Concern]) -> Option<String> {
    if found.is_empty() {
        return None;
    }
    let kinds: Vec<&str> = found.iter().map(|c| c.describe()).collect();
    Some(format!(
        "A gentle check: this reflection seems to contain {}. Reflections stay private, but notes like these can be requested by clients; pseudonyms and removing identifying details keep them safe. You can edit it now.",
        kinds.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifying_details_are_noticed() {
        let cases = [
            ("write to jo.bloggs@example.org", Concern::Email),
            ("she called from 07700 900123", Concern::Phone),
            ("ring +44 7700 900123", Concern::Phone),
            ("born on 3 May 1980", Concern::BirthDate),
            ("dob 12/05/1990", Concern::BirthDate),
            ("lives near SW1A 1AA", Concern::Postcode),
            ("my client Sarah was late", Concern::ClientName),
            ("the coachee, Tom, said", Concern::ClientName),
        ];
        for (text, concern) in cases {
            assert!(
                concerns(text).contains(&concern),
                "{text:?} should raise {concern:?}"
            );
        }
    }

    #[test]
    fn ordinary_reflection_text_is_left_alone() {
        for text in [
            "My client I will call A. arrived anxious; we explored 3.5 and strengths.",
            "The session ran 50 minutes. My client said the goal felt distant.",
            "Competence C2.10: reviewing at the end, in week 12.",
            "We met at 10.30 on Tuesday.",
        ] {
            assert_eq!(concerns(text), vec![], "{text:?}");
        }
    }

    #[test]
    fn the_warning_names_kinds_not_details() {
        let w = warning(&concerns("my client Sarah, sarah@example.org")).unwrap();
        assert!(w.contains("an email address") && w.contains("client's name"));
        assert!(!w.contains("Sarah") && !w.contains("example.org"));
        assert_eq!(warning(&[]), None);
    }
}
