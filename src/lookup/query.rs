//! Reading what people type when they ask for a competence: `3.5`, `C3.5`,
//! `core 3.5`, `integration 3.5`, `competence 2.10`, `area 3`, `meta 2`,
//! `foundational`, in any case, with any spacing and trailing punctuation.
//!
//! Hand-written rather than a regex: it runs on every lookup and autocomplete
//! keystroke, allocates nothing, and is property-tested never to panic.

use crate::framework::DomainId;

/// What a lookup query asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    /// A competence by code, in one domain or (when `domain` is `None`) in any.
    Competence {
        /// The domain named, if any.
        domain: Option<DomainId>,
        /// Area part of the code.
        area: u8,
        /// Number part of the code.
        number: u8,
    },
    /// A code with too many parts (`3.5.1`), kept so the nearest codes can be offered.
    MalformedCode {
        /// The domain named, if any.
        domain: Option<DomainId>,
        /// The first part.
        area: u8,
        /// The second part.
        number: u8,
        /// The third part.
        extra: u16,
    },
    /// An area and its competences.
    Area {
        /// The domain named, if any.
        domain: Option<DomainId>,
        /// The area number.
        number: u8,
    },
    /// The metacompetence of an area.
    Meta {
        /// The domain named, if any.
        domain: Option<DomainId>,
        /// The area number.
        number: u8,
    },
    /// The foundational competence.
    Foundational,
}

/// Why a query could not be read as a code, an area or a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryError {
    /// Nothing but spaces and punctuation.
    Empty,
    /// Words that are not a code, an area or a keyword: a search, perhaps.
    NotACode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    Word(&'a str),
    /// Dot-separated numbers: up to three parts are kept, `parts` counts them all.
    Number {
        values: [u16; 3],
        parts: usize,
    },
}

const MAX_TOKENS: usize = 6;

/// Parses a lookup query. Never panics, whatever the input.
pub fn parse(input: &str) -> Result<Query, QueryError> {
    let input = trim_query(input);
    if input.is_empty() {
        return Err(QueryError::Empty);
    }
    if let Some(query) = fast_code(input) {
        return Ok(query);
    }
    let mut tokens: [Option<Token<'_>>; MAX_TOKENS] = [None; MAX_TOKENS];
    let mut count = 0;
    for token in Tokens::new(input) {
        let token = token?;
        if count == MAX_TOKENS {
            return Err(QueryError::NotACode);
        }
        tokens[count] = Some(token);
        count += 1;
    }
    interpret(&tokens[..count])
}

/// The common shapes (`3.5`, `C3.5`, `i 2.10`, `core 3.5`, `integration 3.5`)
/// read straight from the bytes, without tokenising; anything else is left
/// to the general parser, which gives the same answers more slowly.
fn fast_code(input: &str) -> Option<Query> {
    let (domain, rest) = if input.starts_with(|c: char| c.is_ascii_digit()) {
        (None, input)
    } else {
        let (domain, rest) = DomainId::split_prefix(input)?;
        (Some(domain), rest)
    };
    let rest = rest.as_bytes();
    let dot = rest.iter().position(|&b| b == b'.')?;
    let (area, number) = (small_number(&rest[..dot])?, small_number(&rest[dot + 1..])?);
    Some(Query::Competence {
        domain,
        area,
        number,
    })
}

/// One or two digits without a leading zero.
fn small_number(digits: &[u8]) -> Option<u8> {
    match digits {
        [d @ b'0'..=b'9'] => Some(d - b'0'),
        [a @ b'1'..=b'9', b @ b'0'..=b'9'] => Some((a - b'0') * 10 + (b - b'0')),
        _ => None,
    }
}

/// Strips surrounding space, a leading `/` or `#`, and trailing punctuation.
fn trim_query(input: &str) -> &str {
    let s = input.trim();
    let s = s.trim_start_matches(['/', '#']);
    s.trim_end_matches(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '.' | ',' | ';' | ':' | '!' | '?' | ')' | '"' | '\'' | '’' | '”'
            )
    })
    .trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '(' | '"' | '\'' | '‘' | '“'))
}

fn interpret(tokens: &[Option<Token<'_>>]) -> Result<Query, QueryError> {
    let mut domain = None;
    let mut rest = tokens;
    // An optional domain word first: `core`, `c`, `integration`, `i`.
    if let Some(Some(Token::Word(w))) = rest.first()
        && let Some(d) = DomainId::from_word(w)
    {
        domain = Some(d);
        rest = &rest[1..];
    }
    match rest {
        [Some(Token::Word(w))] if domain.is_none() && is_foundational(w) => Ok(Query::Foundational),
        [Some(Token::Word(w)), Some(Token::Word(c))]
            if domain.is_none() && is_foundational(w) && is_competence_word(c) =>
        {
            Ok(Query::Foundational)
        }
        [
            Some(Token::Word(w)),
            Some(Token::Number { values, parts: 1 }),
        ] if is_area_word(w) => Ok(Query::Area {
            domain,
            number: small(values[0])?,
        }),
        [
            Some(Token::Word(w)),
            Some(Token::Number { values, parts: 1 }),
        ] if is_meta_word(w) => Ok(Query::Meta {
            domain,
            number: small(values[0])?,
        }),
        [Some(Token::Word(w)), Some(Token::Number { values, parts })] if is_competence_word(w) => {
            code(domain, *values, *parts)
        }
        [Some(Token::Number { values, parts })] if *parts >= 2 => code(domain, *values, *parts),
        _ => Err(QueryError::NotACode),
    }
}

fn code(domain: Option<DomainId>, values: [u16; 3], parts: usize) -> Result<Query, QueryError> {
    let area = small(values[0])?;
    match parts {
        2 => Ok(Query::Competence {
            domain,
            area,
            number: small(values[1])?,
        }),
        n if n > 2 => Ok(Query::MalformedCode {
            domain,
            area,
            number: small(values[1])?,
            extra: values[2],
        }),
        _ => Err(QueryError::NotACode),
    }
}

fn small(v: u16) -> Result<u8, QueryError> {
    u8::try_from(v).map_err(|_| QueryError::NotACode)
}

fn is_competence_word(w: &str) -> bool {
    ["competence", "competency", "competences", "comp"]
        .iter()
        .any(|k| w.eq_ignore_ascii_case(k))
}

fn is_area_word(w: &str) -> bool {
    w.eq_ignore_ascii_case("area")
}

fn is_meta_word(w: &str) -> bool {
    ["meta", "metacompetence", "metacompetency"]
        .iter()
        .any(|k| w.eq_ignore_ascii_case(k))
}

fn is_foundational(w: &str) -> bool {
    ["foundational", "foundation"]
        .iter()
        .any(|k| w.eq_ignore_ascii_case(k))
}

/// Splits a query into words and dotted numbers; `C3.5` is `C` then `3.5`.
struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Tokens<'a> {
    fn new(s: &'a str) -> Self {
        Tokens { rest: s }
    }

    fn number(&mut self) -> Result<Token<'a>, QueryError> {
        let mut values = [0u16; 3];
        let mut parts = 0usize;
        let bytes = self.rest.as_bytes();
        let mut i = 0;
        loop {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let digits = &self.rest[start..i];
            if digits.is_empty()
                || digits.len() > 3
                || (digits.len() > 1 && digits.starts_with('0'))
            {
                return Err(QueryError::NotACode);
            }
            if parts < values.len() {
                // At most three digits, so this cannot overflow a u16.
                values[parts] = digits
                    .bytes()
                    .fold(0u16, |acc, b| acc * 10 + u16::from(b - b'0'));
            }
            parts += 1;
            // Continue only over a dot followed by a digit; a final dot is punctuation.
            if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
                i += 1;
            } else {
                break;
            }
        }
        self.rest = &self.rest[i..];
        Ok(Token::Number { values, parts })
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Result<Token<'a>, QueryError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.rest = self
            .rest
            .trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '-' | '_' | ':' | ','));
        let first = self.rest.chars().next()?;
        if first.is_ascii_digit() {
            return Some(self.number());
        }
        if first.is_ascii_alphabetic() {
            let end = self
                .rest
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(self.rest.len());
            let (word, rest) = self.rest.split_at(end);
            self.rest = rest;
            return Some(Ok(Token::Word(word)));
        }
        self.rest = "";
        Some(Err(QueryError::NotACode))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DomainId::*;

    fn comp(domain: Option<DomainId>, area: u8, number: u8) -> Result<Query, QueryError> {
        Ok(Query::Competence {
            domain,
            area,
            number,
        })
    }

    /// One table for what must parse, and to what.
    #[test]
    fn what_people_type_parses() {
        let cases: &[(&str, Result<Query, QueryError>)] = &[
            ("3.5", comp(None, 3, 5)),
            ("  3.5.  ", comp(None, 3, 5)),
            ("3.5?", comp(None, 3, 5)),
            ("core 3.5", comp(Some(Core), 3, 5)),
            ("CORE   3.5", comp(Some(Core), 3, 5)),
            ("C3.5", comp(Some(Core), 3, 5)),
            ("c3.5", comp(Some(Core), 3, 5)),
            ("c 3.5", comp(Some(Core), 3, 5)),
            ("c-3.5", comp(Some(Core), 3, 5)),
            ("integration 3.5", comp(Some(Integration), 3, 5)),
            ("I3.5", comp(Some(Integration), 3, 5)),
            ("i 3.5!", comp(Some(Integration), 3, 5)),
            ("competence 3.5", comp(None, 3, 5)),
            ("Competence 3.5:", comp(None, 3, 5)),
            ("core competence 2.10", comp(Some(Core), 2, 10)),
            ("2.10", comp(None, 2, 10)),
            ("2.1", comp(None, 2, 1)),
            ("/competence 4.4", comp(None, 4, 4)),
            ("(3.5)", comp(None, 3, 5)),
            ("9.9", comp(None, 9, 9)),
            ("1.11", comp(None, 1, 11)),
            (
                "3.5.1",
                Ok(Query::MalformedCode {
                    domain: None,
                    area: 3,
                    number: 5,
                    extra: 1,
                }),
            ),
            (
                "area 3",
                Ok(Query::Area {
                    domain: None,
                    number: 3,
                }),
            ),
            (
                "core area 3",
                Ok(Query::Area {
                    domain: Some(Core),
                    number: 3,
                }),
            ),
            (
                "Integration Area 2.",
                Ok(Query::Area {
                    domain: Some(Integration),
                    number: 2,
                }),
            ),
            (
                "meta 2",
                Ok(Query::Meta {
                    domain: None,
                    number: 2,
                }),
            ),
            (
                "metacompetence 4",
                Ok(Query::Meta {
                    domain: None,
                    number: 4,
                }),
            ),
            ("foundational", Ok(Query::Foundational)),
            ("Foundational competence", Ok(Query::Foundational)),
        ];
        for (input, expected) in cases {
            assert_eq!(&parse(input), expected, "input {input:?}");
        }
    }

    /// And one for what must not parse as a code.
    #[test]
    fn other_text_is_not_a_code() {
        let cases: &[(&str, QueryError)] = &[
            ("", QueryError::Empty),
            ("   ", QueryError::Empty),
            ("...", QueryError::Empty),
            ("strengths", QueryError::NotACode),
            ("theories of motivation", QueryError::NotACode),
            ("core", QueryError::NotACode),
            ("3", QueryError::NotACode),
            ("area", QueryError::NotACode),
            ("area 3.5", QueryError::NotACode),
            ("x3.5", QueryError::NotACode),
            ("3,5", QueryError::NotACode),
            ("£3.50", QueryError::NotACode),
            ("3.5 hours", QueryError::NotACode),
            ("core 3.5 4.1", QueryError::NotACode),
            ("03.5", QueryError::NotACode),
            ("3.05", QueryError::NotACode),
            ("99999.1", QueryError::NotACode),
            ("300.1", QueryError::NotACode),
            ("c c c c c c c 3.5", QueryError::NotACode),
            ("@everyone", QueryError::NotACode),
        ];
        for (input, expected) in cases {
            assert_eq!(parse(input), Err(*expected), "input {input:?}");
        }
    }
}
