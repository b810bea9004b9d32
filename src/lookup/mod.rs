//! Looking things up by what people type: codes, areas, metacompetences and the
//! foundational competence, with a clear answer when there is no such thing.
//!
//! A code that exists in both domains returns both, core first; the caller
//! never gets one of them silently.

pub mod query;

use std::fmt;

use crate::framework::{Area, Code, Competence, CompetenceId, DomainId, Framework};
pub use query::{Query, QueryError};

/// One result, or two when a code or area exists in both domains (core first).
#[derive(Debug)]
pub struct OneOrTwo<'f, T> {
    /// The first result (core, when both domains match).
    pub first: &'f T,
    /// The second result (integration), when both domains match.
    pub second: Option<&'f T>,
}

impl<T> Clone for OneOrTwo<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for OneOrTwo<'_, T> {}

impl<'f, T> OneOrTwo<'f, T> {
    /// The results in order.
    pub fn iter(&self) -> impl Iterator<Item = &'f T> + use<'f, T> {
        std::iter::once(self.first).chain(self.second)
    }

    /// How many results: 1 or 2.
    pub fn len(&self) -> usize {
        1 + usize::from(self.second.is_some())
    }

    /// Always false: there is at least one result.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// What a lookup found.
#[derive(Debug, Clone, Copy)]
pub enum Found<'f> {
    /// One competence, or the same code in both domains.
    Competences(OneOrTwo<'f, Competence>),
    /// An area (or the same-numbered area of both domains), to list with its competences.
    Areas(OneOrTwo<'f, Area>),
    /// The area whose metacompetence was asked for.
    Meta(&'f Area),
    /// The foundational competence's statement.
    Foundational(&'f str),
}

/// Why a lookup found nothing. The messages are written for the person who typed.
///
/// They never repeat the raw input: a code is echoed only as re-printed from
/// the numbers parsed, so nothing a user typed can reach a channel through them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// Nothing was typed.
    #[error(
        "Type a competence code such as `3.5`, `C3.5` (core) or `I3.5` (integration), an area such as `area 3`, `meta 2`, or `foundational`."
    )]
    Empty,
    /// The text is not a code, area or keyword.
    #[error(
        "That isn't a competence code. Codes look like `3.5`, `C3.5` (core) or `I3.5` (integration); `area 3`, `meta 2` and `foundational` work too. To find a competence by its words, search instead."
    )]
    NotACode,
    /// A well-formed code that the framework does not have.
    #[error("There is no competence {asked} in the framework. {}", nearest_sentence(.nearest))]
    NotFound {
        /// The code as understood, e.g. "core 9.9".
        asked: String,
        /// The nearest codes that do exist, best first.
        nearest: Vec<CompetenceId>,
    },
    /// An area number the framework does not have.
    #[error("There is no {asked}. {available}")]
    NoSuchArea {
        /// The area as understood, e.g. "core area 7".
        asked: String,
        /// Which areas exist.
        available: String,
    },
    /// Metacompetences were asked of a domain that has none.
    #[error(
        "The guide gives no metacompetences for the integration domain; each core area has one: try `meta {0}`."
    )]
    NoMetacompetence(u8),
    /// The framework loaded has no foundational competence.
    #[error("This framework has no foundational competence.")]
    NoFoundational,
}

fn nearest_sentence(nearest: &[CompetenceId]) -> String {
    if nearest.is_empty() {
        return "The framework's overview lists the codes there are.".to_string();
    }
    let list: Vec<String> = nearest.iter().map(CompetenceId::label).collect();
    format!("Nearest: {}.", list.join(", "))
}

/// How many nearest codes an error offers.
pub const NEAREST: usize = 4;

impl Framework {
    /// Looks up what someone typed: a code, an area, `meta N` or `foundational`.
    pub fn lookup(&self, input: &str) -> Result<Found<'_>, LookupError> {
        match query::parse(input) {
            Ok(q) => self.resolve(q),
            Err(QueryError::Empty) => Err(LookupError::Empty),
            Err(QueryError::NotACode) => Err(LookupError::NotACode),
        }
    }

    /// Resolves a parsed query against this framework.
    pub fn resolve(&self, query: Query) -> Result<Found<'_>, LookupError> {
        match query {
            Query::Competence {
                domain,
                area,
                number,
            } => {
                let code = Code::new(area, number);
                self.find_code(domain, code)
                    .map(Found::Competences)
                    .ok_or_else(|| LookupError::NotFound {
                        asked: describe(domain, code),
                        nearest: self.nearest(domain, code, NEAREST),
                    })
            }
            Query::MalformedCode {
                domain,
                area,
                number,
                extra,
            } => Err(LookupError::NotFound {
                asked: format!("{}.{extra}", describe(domain, Code::new(area, number))),
                nearest: self.nearest(domain, Code::new(area, number), NEAREST),
            }),
            Query::Area { domain, number } => self.find_area(domain, number).map(Found::Areas),
            Query::Meta { domain, number } => self.find_meta(domain, number),
            Query::Foundational => self
                .foundational
                .as_deref()
                .map(Found::Foundational)
                .ok_or(LookupError::NoFoundational),
        }
    }

    /// The competence(s) with this code: in `domain`, or in every domain, core first.
    pub fn find_code(
        &self,
        domain: Option<DomainId>,
        code: Code,
    ) -> Option<OneOrTwo<'_, Competence>> {
        match domain {
            Some(d) => self
                .competence(CompetenceId::new(d, code))
                .map(|first| OneOrTwo {
                    first,
                    second: None,
                }),
            None => {
                let core = self.competence(CompetenceId::new(DomainId::Core, code));
                let integration = self.competence(CompetenceId::new(DomainId::Integration, code));
                match (core, integration) {
                    (Some(first), second) => Some(OneOrTwo { first, second }),
                    (None, Some(first)) => Some(OneOrTwo {
                        first,
                        second: None,
                    }),
                    (None, None) => None,
                }
            }
        }
    }

    fn find_area(
        &self,
        domain: Option<DomainId>,
        number: u8,
    ) -> Result<OneOrTwo<'_, Area>, LookupError> {
        let mut found = self
            .areas()
            .iter()
            .filter(|a| a.number == number && domain.is_none_or(|d| a.domain == d));
        match found.next() {
            Some(first) => Ok(OneOrTwo {
                first,
                second: found.next(),
            }),
            None => Err(LookupError::NoSuchArea {
                asked: match domain {
                    Some(d) => format!("{} area {number}", d.as_str()),
                    None => format!("area {number}"),
                },
                available: self.areas_sentence(domain),
            }),
        }
    }

    fn find_meta(&self, domain: Option<DomainId>, number: u8) -> Result<Found<'_>, LookupError> {
        let areas = self.find_area(domain, number)?;
        areas
            .iter()
            .find(|a| a.metacompetence.is_some())
            .map(Found::Meta)
            .ok_or(LookupError::NoMetacompetence(number))
    }

    fn areas_sentence(&self, domain: Option<DomainId>) -> String {
        let parts: Vec<String> = self
            .domains()
            .iter()
            .filter(|d| domain.is_none_or(|x| x == d.id))
            .map(|d| {
                let count = self.areas().iter().filter(|a| a.domain == d.id).count();
                format!("{} has areas 1 to {count}", d.title)
            })
            .collect();
        format!("{}.", parts.join("; "))
    }

    /// The codes nearest to `code` that exist, best first: same-looking codes
    /// (`1.11` → `1.1`) and numerically close ones (`1.11` → `1.8`, `9.9` →
    /// `4.9`). With no domain named, the best of each domain are offered, core first.
    pub fn nearest(&self, domain: Option<DomainId>, code: Code, limit: usize) -> Vec<CompetenceId> {
        let typed = code.to_string();
        let domains: Vec<DomainId> = match domain {
            Some(d) => vec![d],
            None => self.domains().iter().map(|d| d.id).collect(),
        };
        let per_domain = limit.div_ceil(domains.len().max(1));
        let mut nearest = Vec::with_capacity(limit);
        for d in domains {
            let mut scored: Vec<(u32, CompetenceId)> = self
                .competences()
                .iter()
                .filter(|c| c.id.domain == d)
                .map(|c| (code_distance(&typed, code, c.id.code), c.id))
                .collect();
            scored.sort();
            nearest.extend(scored.into_iter().take(per_domain).map(|(_, id)| id));
        }
        nearest.truncate(limit);
        nearest
    }
}

/// How far apart two codes are: areas count far more than numbers; within the
/// same area, a code that differs by one typed character is close.
fn code_distance(typed: &str, wanted: Code, candidate: Code) -> u32 {
    let candidate_area = candidate.area;
    let numeric = if wanted.area == candidate.area {
        u32::from(wanted.number.abs_diff(candidate.number))
    } else {
        20 * u32::from(wanted.area.abs_diff(candidate.area))
            + u32::from(wanted.number.abs_diff(candidate.number))
    };
    // `1.11` was probably `1.1` with a key pressed twice; `2.1` may be `2.10`.
    let candidate = candidate.to_string();
    if wanted.area == candidate_area
        && (typed.starts_with(&candidate) || candidate.starts_with(typed))
    {
        return numeric.min(2);
    }
    numeric
}

fn describe(domain: Option<DomainId>, code: Code) -> String {
    match domain {
        Some(d) => format!("{} {code}", d.as_str()),
        None => code.to_string(),
    }
}

impl fmt::Display for Found<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Found::Competences(c) => {
                let ids: Vec<String> = c.iter().map(|c| c.id.label()).collect();
                write!(f, "{}", ids.join(" and "))
            }
            Found::Areas(a) => {
                let ids: Vec<String> = a
                    .iter()
                    .map(|a| format!("{} area {}", a.domain.label(), a.number))
                    .collect();
                write!(f, "{}", ids.join(" and "))
            }
            Found::Meta(a) => write!(
                f,
                "metacompetence of {} area {}",
                a.domain.label(),
                a.number
            ),
            Found::Foundational(_) => f.write_str("foundational competence"),
        }
    }
}
