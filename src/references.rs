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

/// Prefix (optional) and code. Context before and after is checked in code,
/// since the regex crate has no look-around.
static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        (?:
            \b(?P<word>core|integration|integrating)(?:\s+competenc(?:e|es|y|ies))?\s+
          | \b(?P<comp>competenc(?:e|es|y|ies))\s+
          | \b(?P<letter>[ci])
        )?
        (?P<area>\d{1,3})\.(?P<number>\d{1,3})",
    )
    .expect("the reference pattern is a valid regex")
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
    for caps in REFERENCE.captures_iter(text) {
        let (Some(area_m), Some(number_m)) = (caps.name("area"), caps.name("number")) else {
            continue;
        };
        let domain = caps
            .name("word")
            .map(|w| w.as_str().to_ascii_lowercase())
            .map(|w| {
                if w == "core" {
                    DomainId::Core
                } else {
                    DomainId::Integration
                }
            })
            .or_else(|| {
                caps.name("letter").map(|l| match l.as_str() {
                    "c" | "C" => DomainId::Core,
                    _ => DomainId::Integration,
                })
            });
        let explicit = domain.is_some() || caps.name("comp").is_some();
        let start = caps.get(0).map_or(area_m.start(), |m| m.start());
        if !explicit && !stands_alone_before(text, start) {
            continue;
        }
        if !ends_cleanly(text, number_m.end(), explicit) {
            continue;
        }
        let Some(code) = code_of(area_m.as_str(), number_m.as_str()) else {
            continue;
        };
        push_if_known(
            framework,
            &mut found,
            domain,
            code,
            explicit,
            area_m.start()..number_m.end(),
        );
        if explicit {
            follow_list(framework, text, number_m.end(), domain, &mut found);
        }
    }
    found
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

fn has_dotted_number(bytes: &[u8]) -> bool {
    bytes
        .windows(3)
        .any(|w| w[0].is_ascii_digit() && w[1] == b'.' && w[2].is_ascii_digit())
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
