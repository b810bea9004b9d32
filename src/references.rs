//! Finding competence references inside free text: "we discussed 3.5 and C2.8
//! today" mentions core/integration 3.5 and core 2.8.
//!
//! Chat is full of numbers that look like codes, so the rule is strict:
//!
//! * An **explicit** reference has a prefix: `C3.5`, `I3.5`, `core 3.5`,
//!   `integration 3.5`, `competence 3.5`, and the codes listed after one
//!   (`competences 2.2, 2.4 and 2.8`). Only these wake the inline mode.
//! * A **bare** code (`3.5`) counts only when it stands alone: not after a
//!   letter, digit, currency sign, `.`, `/`, `-`, `+` or `#` (so not `v2.1`,
//!   `£3.50`, `#3.5`), not followed by a digit, a letter, `%` or another
//!   `.`/`,`/`:` and digit (so not `12.10.2024`, `3.5k`, `2.10pm`), and not
//!   followed by a unit word (`3.5 hours`, `2.5 miles`, `1.5 times`).
//! * Either way the code must exist in the framework.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use crate::framework::{Code, CompetenceId, DomainId, Framework};

/// Longest text scanned, in bytes; the rest is ignored (a Discord message is at most 4,000 bytes of text, a reflection 16,000).
pub const MAX_SCAN_BYTES: usize = 64 * 1024;

/// One reference found in text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The domain named, if any (`C3.5` names core; a bare `3.5` names none).
    pub domain: Option<DomainId>,
    /// The code.
    pub code: Code,
    /// Whether the reference carried a prefix (`C`, `core`, `competence` …).
    pub explicit: bool,
    /// Where the code itself sits in the text (byte offsets).
    pub span: Range<usize>,
}

impl Reference {
    /// The competences this reference can mean, core first.
    pub fn ids(&self, framework: &Framework) -> Vec<CompetenceId> {
        framework
            .find_code(self.domain, self.code)
            .map(|hits| hits.iter().map(|c| c.id).collect())
            .unwrap_or_default()
    }
}

/// A candidate code: two numbers joined by a dot. What comes before and after
/// is read by hand (the regex crate has no look-around), which also keeps the
/// pattern a plain DFA scan.
static CANDIDATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<area>\d{1,3})\.(?P<number>\d{1,3})")
        .expect("the candidate pattern is a valid regex")
});

/// A continuation of a list after an explicit reference: `, 2.4`, `and 2.8`.
static CONTINUATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or|&)\s+)(?P<area>\d{1,3})\.(?P<number>\d{1,3})",
    )
    .expect("the continuation pattern is a valid regex")
});

/// Words that make a number a quantity, not a code.
const UNITS: &[&str] = &[
    "am", "bn", "cm", "day", "days", "dollars", "euros", "ft", "gb", "h", "hour", "hours", "hr",
    "hrs", "k", "kb", "kg", "km", "lbs", "m", "mb", "mi", "mile", "miles", "million", "min",
    "mins", "minute", "minutes", "mm", "month", "months", "percent", "per", "pm", "pounds", "quid",
    "s", "sec", "secs", "second", "seconds", "stars", "times", "week", "weeks", "x", "year",
    "years", "yrs",
];

/// Finds the competence references in `text`, in order. Only codes that exist
/// in `framework` are returned.
pub fn find_references(framework: &Framework, text: &str) -> Vec<Reference> {
    let text = truncate(text, MAX_SCAN_BYTES);
    let mut found = Vec::new();
    // Fast exit: no digit-dot-digit anywhere.
    if !has_dotted_number(text.as_bytes()) {
        return found;
    }
    for candidate in CANDIDATE.find_iter(text) {
        let Some((area, number)) = candidate.as_str().split_once('.') else {
            continue;
        };
        let Some(prefix) = prefix_before(text, candidate.start()) else {
            continue;
        };
        let (domain, explicit) = match prefix {
            Prefix::Explicit(domain) => (domain, true),
            Prefix::Bare => (None, false),
        };
        if !ends_cleanly(text, candidate.end(), explicit) {
            continue;
        }
        let Some(code) = code_of(area, number) else {
            continue;
        };
        push_if_known(
            framework,
            &mut found,
            domain,
            code,
            explicit,
            candidate.range(),
        );
        if explicit {
            follow_list(framework, text, candidate.end(), domain, &mut found);
        }
    }
    found
}

/// What stands before a candidate code.
enum Prefix {
    /// `C3.5`, `core 3.5`, `competence 3.5`, `integration competence 3.5`.
    Explicit(Option<DomainId>),
    /// Nothing that names it, but nothing that rules it out either.
    Bare,
}

/// Reads back from `start`: a prefix word or letter makes the reference
/// explicit; a letter, digit, currency sign or joining punctuation rules it
/// out (`v2.1`, `£3.50`, `#3.5`); anything else leaves it bare.
fn prefix_before(text: &str, start: usize) -> Option<Prefix> {
    let before = &text[..start];
    let Some(last) = before.chars().next_back() else {
        return Some(Prefix::Bare);
    };
    if last.is_alphabetic() {
        // Only a lone `C` or `I` may be attached: `C3.5`, not `v2.1` or `core3.5`.
        let word = trailing_word(before);
        let domain = match word.chars().count() {
            1 => DomainId::from_word(word)?,
            _ => return None,
        };
        return boundary_before(before, word).then_some(Prefix::Explicit(Some(domain)));
    }
    if !last.is_whitespace() {
        return stands_alone_before(text, start).then_some(Prefix::Bare);
    }
    let trimmed = before.trim_end();
    let word = trailing_word(trimmed);
    if !boundary_before(trimmed, word) {
        return Some(Prefix::Bare);
    }
    // A separate word names a domain when it is more than a letter: `core 3.5`,
    // `integration 3.5`, but not `I 3.5`, which is more often the pronoun.
    let domain_of = |w: &str| DomainId::from_word(w).filter(|_| w.len() > 1);
    if let Some(domain) = domain_of(word) {
        return Some(Prefix::Explicit(Some(domain)));
    }
    let lower = word.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "competence" | "competences" | "competency" | "competencies"
    ) {
        let rest = trimmed[..trimmed.len() - word.len()].trim_end();
        let before_word = trailing_word(rest);
        let domain =
            if rest.len() < trimmed.len() - word.len() && boundary_before(rest, before_word) {
                domain_of(before_word)
            } else {
                None
            };
        return Some(Prefix::Explicit(domain));
    }
    Some(Prefix::Bare)
}

/// The run of letters at the end of `text`.
fn trailing_word(text: &str) -> &str {
    let start = text
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphabetic())
        .last()
        .map_or(text.len(), |(i, _)| i);
    &text[start..]
}

/// Whether `word`, at the end of `text`, starts at a word boundary.
fn boundary_before(text: &str, word: &str) -> bool {
    !word.is_empty()
        && text[..text.len() - word.len()]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
}

fn follow_list(
    framework: &Framework,
    text: &str,
    mut at: usize,
    domain: Option<DomainId>,
    found: &mut Vec<Reference>,
) {
    while let Some(caps) = text.get(at..).and_then(|rest| CONTINUATION.captures(rest)) {
        let (Some(a), Some(n)) = (caps.name("area"), caps.name("number")) else {
            return;
        };
        let end = at + n.end();
        if !ends_cleanly(text, end, true) {
            return;
        }
        if let Some(code) = code_of(a.as_str(), n.as_str()) {
            push_if_known(framework, found, domain, code, true, at + a.start()..end);
        }
        at = end;
    }
}

fn push_if_known(
    framework: &Framework,
    found: &mut Vec<Reference>,
    domain: Option<DomainId>,
    code: Code,
    explicit: bool,
    span: Range<usize>,
) {
    if framework.find_code(domain, code).is_some() && !found.iter().any(|r| r.span == span) {
        found.push(Reference {
            domain,
            code,
            explicit,
            span,
        });
    }
}

fn code_of(area: &str, number: &str) -> Option<Code> {
    if (area.len() > 1 && area.starts_with('0')) || (number.len() > 1 && number.starts_with('0')) {
        return None;
    }
    Some(Code::new(area.parse().ok()?, number.parse().ok()?))
}

fn stands_alone_before(text: &str, start: usize) -> bool {
    match text[..start].chars().next_back() {
        None => true,
        Some(c) => {
            !(c.is_alphanumeric()
                || matches!(
                    c,
                    '£' | '$'
                        | '€'
                        | '¥'
                        | '.'
                        | ','
                        | '/'
                        | '\\'
                        | '-'
                        | '+'
                        | '#'
                        | '@'
                        | ':'
                        | '='
                ))
        }
    }
}

fn ends_cleanly(text: &str, end: usize, explicit: bool) -> bool {
    let rest = &text[end..];
    let mut chars = rest.chars();
    match chars.next() {
        None => return true,
        Some(c) if c.is_alphanumeric() || matches!(c, '%' | '°' | '£' | '$' | '€') => {
            return false;
        }
        Some('.' | ',' | ':' | '-' | '/') => {
            if chars.next().is_some_and(|d| d.is_ascii_digit()) {
                return false;
            }
        }
        Some(_) => {}
    }
    explicit || !followed_by_unit(rest)
}

fn followed_by_unit(rest: &str) -> bool {
    let next_word: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphabetic())
        .take(16)
        .collect::<String>()
        .to_lowercase();
    rest.starts_with(char::is_whitespace) && UNITS.contains(&next_word.as_str())
}

/// Whether any `.` sits between two digits (memchr finds the dots).
fn has_dotted_number(bytes: &[u8]) -> bool {
    memchr::memchr_iter(b'.', bytes).any(|i| {
        i > 0 && bytes[i - 1].is_ascii_digit() && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
    })
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(text: &str) -> Vec<String> {
        let f = Framework::builtin().unwrap();
        find_references(&f, text)
            .into_iter()
            .map(|r| {
                let prefix = match r.domain {
                    Some(d) => format!("{}:", d.as_str()),
                    None => String::new(),
                };
                format!("{prefix}{}{}", r.code, if r.explicit { "!" } else { "" })
            })
            .collect()
    }

    #[test]
    fn references_that_must_be_found() {
        let cases: &[(&str, &[&str])] = &[
            ("we discussed 3.5 and C2.8 today", &["3.5", "core:2.8!"]),
            ("C3.5", &["core:3.5!"]),
            ("i3.5 please", &["integration:3.5!"]),
            ("see competence 2.10.", &["2.10!"]),
            (
                "core 4.9, then integration 4.4",
                &["core:4.9!", "integration:4.4!"],
            ),
            (
                "Competences 2.2, 2.4, 2.6 and 2.8 are also relevant",
                &["2.2!", "2.4!", "2.6!", "2.8!"],
            ),
            ("core competences 1.4 and 1.8", &["core:1.4!", "core:1.8!"]),
            ("(3.5)", &["3.5"]),
            ("**3.5**", &["3.5"]),
            ("what about 2.10?", &["2.10"]),
            ("3.5: strengths", &["3.5"]),
            ("is 2.1 the same as 2.10", &["2.1", "2.10"]),
        ];
        for (text, want) in cases {
            assert_eq!(&refs(text), want, "text {text:?}");
        }
    }

    #[test]
    fn numbers_that_are_not_references() {
        let cases = [
            "3.5 hours",
            "it took 1.5 hrs",
            "£3.50",
            "$3.5",
            "v2.1",
            "version v2.1.3",
            "12.10.2024",
            "on 1.10.24",
            "at 2.10pm",
            "3.5k",
            "3.5%",
            "1.2.3",
            "#3.5",
            "9.9",
            "C9.9",
            "1.11",
            "x3.5",
            "abc3.5",
            "3.05",
            "walked 2.5 miles",
            "ratio 1:2.5",
            "3.5/10",
            "3.5-4.1",
            "version 10.3",
        ];
        for text in cases {
            assert_eq!(refs(text), Vec::<String>::new(), "text {text:?}");
        }
    }

    #[test]
    fn explicit_references_survive_units() {
        assert_eq!(refs("C3.5 hours of practice"), ["core:3.5!"]);
    }

    #[test]
    fn spans_point_at_the_code() {
        let f = Framework::builtin().unwrap();
        let text = "see C2.10 now";
        let r = &find_references(&f, text)[0];
        assert_eq!(&text[r.span.clone()], "2.10");
    }
}
