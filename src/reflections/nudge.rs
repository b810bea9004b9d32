//! The confidentiality check: before a reflection is kept or shared, a look
//! at its title and text for what might identify a client (BACP's Ethical
//! Framework puts client confidentiality first). It names the kind of detail
//! found, never the detail; it never blocks; nothing it sees is logged.
//!
//! Names are looked for where a client, coachee or colleague is mentioned
//! ("my client Tom", "my client (Jo)", "the coachee J.B.", "Sarah from HR"),
//! and organisations wherever they carry a legal or institutional suffix
//! ("Acme Ltd", "Leeds City Council") or follow a client or sponsor as their
//! workplace ("her sponsor at Unilever"), since an employer can identify an
//! executive-coaching client. A single letter ("my client A.") is the usual
//! pseudonym and is left alone, as are words that are capitalised for other
//! reasons: days, months, tools such as Zoom, the reflective models.

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
    /// A name (or initials) beside a client, coachee or colleague.
    Name,
    /// An employer or other organisation.
    Organisation,
}

impl Concern {
    /// How the concern is named to the member.
    pub fn describe(self) -> &'static str {
        match self {
            Concern::Email => "an email address",
            Concern::Phone => "a phone number",
            Concern::BirthDate => "a date that may be a date of birth",
            Concern::Postcode => "a postcode",
            Concern::Name => "what looks like someone's name or initials",
            Concern::Organisation => "what looks like an employer or organisation",
        }
    }
}

/// The people a reflection is most likely to identify.
const PERSON: &str = r"(?:[Cc]lient|[Cc]oachee|[Pp]atient|[Ss]upervisee|[Cc]olleague)s?(?:'s|’s)?";

/// Where a named person or an employer is most likely to be nearby.
const REFERENCE: &str = r"(?i)\b(?:clients?|coachees?|patients?|supervisees?|sponsors?|managers?|boss|employers?|colleagues?|HR|line manager|CEO|director)\b";

/// Words that end an organisation's name.
const ORGANISATION_SUFFIX: &str = r"(?:Ltd|Limited|PLC|plc|LLP|Inc|Corp|Corporation|Bank|Council|University|College|School|Academy|Hospital|Holdings|Partners|Associates|Foundation|Charity)";

struct Pattern {
    concern: Concern,
    regex: Regex,
    /// Which capture holds the word(s) to check against [`NOT_NAMES`]; 0
    /// when every match counts.
    word: usize,
}

static PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    let p = |concern, word, re: &str| Pattern {
        concern,
        regex: Regex::new(re).expect("nudge patterns are valid regexes"),
        word,
    };
    vec![
        p(
            Concern::Email,
            0,
            r"(?i)\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b",
        ),
        p(Concern::Phone, 0, r"(?:\+44\s?|\b0)(?:\d[\s-]?){9,10}\b"),
        p(
            Concern::BirthDate,
            0,
            r"(?i)\b(?:born|dob|d\.o\.b\.?|date of birth|birthday)\b[^.\n]{0,20}\d|\b\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)\d{2}\b",
        ),
        p(
            Concern::Postcode,
            0,
            r"(?i)\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[ABD-HJLNP-UW-Z]{2}\b",
        ),
        // "my client Tom", "the coachee, Tom,", "a client called Tom".
        p(
            Concern::Name,
            1,
            &format!(r"\b{PERSON},?\s+(?:called\s+|named\s+|known as\s+)?(\p{{Lu}}\p{{Ll}}+)\b"),
        ),
        // "my client (Jo)", "the coachee (J.B.)": a bracketed name.
        p(
            Concern::Name,
            1,
            &format!(r"\b{PERSON}\s*\(\s*(\p{{Lu}}\p{{Ll}}+|\p{{Lu}}\.?\s?\p{{Lu}}\.?)\s*\)"),
        ),
        // "my coachee J.B.", "client JB": two or more initials.
        p(
            Concern::Name,
            0,
            &format!(r"\b{PERSON},?\s+[A-Z]\.?\s?[A-Z]\b\.?"),
        ),
        // "Sarah from HR", "Dev in Finance".
        p(
            Concern::Name,
            1,
            r"\b(\p{Lu}\p{Ll}+)\s+(?:from|in)\s+(?:HR|IT|[Ff]inance|[Aa]ccounts|[Ss]ales|[Mm]arketing|[Pp]rocurement|[Ll]egal|[Oo]perations|[Cc]ompliance|[Pp]ayroll)\b",
        ),
        // "Acme Ltd", "Leeds City Council".
        p(
            Concern::Organisation,
            1,
            &format!(r"\b((?:[A-Z][\w&'’-]*\s+){{1,3}}){ORGANISATION_SUFFIX}\b"),
        ),
    ]
});

/// A workplace after a client, sponsor or colleague: "works at Barclays",
/// "her sponsor at Unilever". Looked for only in sentences that mention one.
static WORKPLACE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(?:at|for|from|with|by|joined|employer,?|company,?)\s+(?:the\s+)?([A-Z][\w&'’-]+)",
    )
    .expect("the workplace pattern is a valid regex")
});

static REFERENCES: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(REFERENCE).expect("the reference pattern is a valid regex"));

static SENTENCES: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[.!?]\s+|\n").expect("the sentence pattern is a valid regex"));

/// Capitalised words that are not names or employers: pronouns and sentence
/// openers, days and months, tools, the framework and its models.
const NOT_NAMES: &[&str] = &[
    "I",
    "He",
    "She",
    "They",
    "We",
    "It",
    "You",
    "This",
    "That",
    "These",
    "Those",
    "And",
    "But",
    "So",
    "Then",
    "When",
    "Who",
    "What",
    "Why",
    "How",
    "Where",
    "Work",
    "Said",
    "Told",
    "Asked",
    "The",
    "A",
    "An",
    "My",
    "Our",
    "Her",
    "His",
    "Their",
    "Your",
    "Some",
    "Someone",
    "Somebody",
    "Nobody",
    "Everyone",
    "Today",
    "Yesterday",
    "Tomorrow",
    "Session",
    "Sessions",
    "Week",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "Christmas",
    "Easter",
    "Zoom",
    "Teams",
    "Skype",
    "WhatsApp",
    "Google",
    "Outlook",
    "Slack",
    "Discord",
    "English",
    "British",
    "BACP",
    "Gibbs",
    "Rolfe",
    "Kolb",
    "Borton",
    "Coaching",
    "Therapy",
    "Integration",
    "Core",
    "Framework",
    "Ethical",
    "Supervision",
    "Peer",
    "Group",
];

fn is_ordinary(words: &str) -> bool {
    words.split_whitespace().all(|w| NOT_NAMES.contains(&w))
}

/// The kinds of identifying detail `text` seems to contain, each once.
pub fn concerns(text: &str) -> Vec<Concern> {
    let mut found = Vec::new();
    let mut add = |concern| {
        if !found.contains(&concern) {
            found.push(concern);
        }
    };
    for p in PATTERNS.iter() {
        let hit = p
            .regex
            .captures_iter(text)
            .any(|c| p.word == 0 || c.get(p.word).is_some_and(|w| !is_ordinary(w.as_str())));
        if hit {
            add(p.concern);
        }
    }
    let workplace = SENTENCES
        .split(text)
        .filter(|sentence| REFERENCES.is_match(sentence))
        .flat_map(|sentence| WORKPLACE.captures_iter(sentence))
        .any(|c| c.get(1).is_some_and(|w| !is_ordinary(w.as_str())));
    if workplace {
        add(Concern::Organisation);
    }
    found
}

/// The kinds of identifying detail in a reflection's title and text, each
/// once: titles show in lists and head a shared post, so they are read too.
pub fn concerns_in(title: &str, text: &str) -> Vec<Concern> {
    let mut found = concerns(title);
    for c in concerns(text) {
        if !found.contains(&c) {
            found.push(c);
        }
    }
    found
}

/// "a, b and c".
fn listed(kinds: &[&str]) -> String {
    match kinds {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The sentence shown to the member when there are concerns.
pub fn warning(found: &[Concern]) -> Option<String> {
    if found.is_empty() {
        return None;
    }
    let kinds: Vec<&str> = found.iter().map(|c| c.describe()).collect();
    Some(format!(
        "A gentle check: this reflection seems to contain {}. Reflections stay private, but notes like these can be requested by clients; pseudonyms and removing identifying details keep them safe. You can edit it now.",
        listed(&kinds)
    ))
}

/// The sentence shown in a share preview when there are concerns: the group
/// would read the details, so the member is asked to look before sharing.
pub fn share_warning(found: &[Concern]) -> Option<String> {
    if found.is_empty() {
        return None;
    }
    let kinds: Vec<&str> = found.iter().map(|c| c.describe()).collect();
    Some(format!(
        "Before you share: the title or text seems to contain {}. The group would see it exactly as below. Edit it first if a client could be recognised; sharing is still up to you.",
        listed(&kinds)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sentences a supervisor would want a second look at, with the kind of
    /// detail each must raise.
    const MUST_FLAG: &[(&str, Concern)] = &[
        ("write to jo.bloggs@example.org", Concern::Email),
        ("she called from 07700 900123", Concern::Phone),
        ("ring +44 7700 900123", Concern::Phone),
        ("born on 3 May 1980", Concern::BirthDate),
        ("dob 12/05/1990", Concern::BirthDate),
        ("lives near SW1A 1AA", Concern::Postcode),
        ("my client Sarah was late", Concern::Name),
        ("my client Zoë was late", Concern::Name),
        ("the coachee Siobhán said", Concern::Name),
        ("a client called Łukasz", Concern::Name),
        ("my colleague Priya covered", Concern::Name),
        ("My client Tom", Concern::Name),
        ("the coachee, Tom, said", Concern::Name),
        ("a client called Priya came back", Concern::Name),
        ("my client (Jo) cried", Concern::Name),
        ("the coachee (J.B.) was quiet", Concern::Name),
        ("my coachee J.B. works for the council", Concern::Name),
        ("our client JB cancelled", Concern::Name),
        ("Sarah from HR at Acme Ltd rang me", Concern::Name),
        ("Sarah from HR at Acme Ltd rang me", Concern::Organisation),
        ("Dev in Finance wants a report", Concern::Name),
        ("a client who works at Barclays", Concern::Organisation),
        (
            "her sponsor at Unilever wants progress",
            Concern::Organisation,
        ),
        ("an executive at Northwind Corp", Concern::Organisation),
        (
            "the client's employer, Contoso, pays",
            Concern::Organisation,
        ),
        (
            "my client is a nurse at St Mary's Hospital",
            Concern::Organisation,
        ),
        ("a partner at Baker Street Partners", Concern::Organisation),
        (
            "Leeds City Council commissioned the coaching",
            Concern::Organisation,
        ),
        (
            "her line manager joined Initech in May",
            Concern::Organisation,
        ),
    ];

    /// Ordinary reflective writing that must pass without a word.
    const MUST_PASS: &[&str] = &[
        "My client I will call A. arrived anxious; we explored 3.5 and strengths.",
        "The session ran 50 minutes. My client said the goal felt distant.",
        "Competence C2.10: reviewing at the end, in week 12.",
        "We met at 10.30 on Tuesday.",
        "the client Zoom link failed twice",
        "My client on Monday talked about her manager.",
        "A client in January said coaching felt lighter than therapy.",
        "I used Gibbs with my supervisee and it helped.",
        "My client A. and I reviewed the contract.",
        "The coachee, whom I will call B, set a goal.",
        "We took the client's Teams call at short notice.",
        "The sponsor at the first meeting asked about outcomes.",
        "I noticed my own anxiety at the end of the session.",
        "Supervision helped me see the parallel process.",
        "My client Sessions felt rushed this week.",
    ];

    #[test]
    fn identifying_details_are_noticed() {
        for (text, concern) in MUST_FLAG {
            assert!(
                concerns(text).contains(concern),
                "{text:?} should raise {concern:?}, found {:?}",
                concerns(text)
            );
        }
    }

    #[test]
    fn ordinary_reflection_text_is_left_alone() {
        for text in MUST_PASS {
            assert_eq!(concerns(text), vec![], "{text:?}");
        }
    }

    #[test]
    fn titles_are_read_too() {
        assert_eq!(
            concerns_in("My client Tom", "We worked on goals."),
            vec![Concern::Name]
        );
        assert_eq!(concerns_in("", "We worked on goals."), vec![]);
    }

    #[test]
    fn the_warning_names_kinds_not_details() {
        let found = concerns("my client Sarah, sarah@example.org, works at Acme Ltd");
        for w in [warning(&found).unwrap(), share_warning(&found).unwrap()] {
            assert!(
                w.contains("an email address, what looks like someone's name or initials and what looks like an employer or organisation"),
                "{w}"
            );
            assert!(!w.contains("Sarah") && !w.contains("example.org") && !w.contains("Acme"));
        }
        assert_eq!(warning(&[]), None);
        assert_eq!(share_warning(&[]), None);
        let two = warning(&[Concern::Phone, Concern::Name]).unwrap();
        assert!(
            two.contains("a phone number and what looks like someone's"),
            "{two}"
        );
    }
}
