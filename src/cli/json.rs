//! The JSON the command line prints with `--json`: its shapes are the
//! documented output, kept apart from how they are printed.

use serde::Serialize;

use super::SHELL;
use crate::commands;
use crate::framework::{Area, Competence, CompetenceId, DomainId, Framework, Section};
use crate::library::Library;
use crate::lookup::{Found, LookupError};
use crate::search::{Item, SearchHit};

/// One competence in `framework export --json` and `lookup --json`.
#[derive(Serialize)]
pub(super) struct CompetenceJson<'a> {
    id: CompetenceId,
    domain: DomainId,
    area: u8,
    code: String,
    statement: &'a str,
    guidance: &'a str,
    shared_guidance: Option<&'a str>,
    shared_guidance_from: Option<CompetenceId>,
    see_also: Vec<CompetenceId>,
}

impl<'a> CompetenceJson<'a> {
    pub(super) fn new(framework: &'a Framework, c: &'a Competence) -> Self {
        let shared = framework.shared_guidance(c);
        CompetenceJson {
            id: c.id,
            domain: c.id.domain,
            area: c.id.code.area,
            code: c.id.code.to_string(),
            statement: &c.statement,
            guidance: &c.guidance,
            shared_guidance: shared.map(|(_, text)| text),
            shared_guidance_from: shared.map(|(p, _)| p.id),
            see_also: c.see_also.clone(),
        }
    }
}

#[derive(Serialize)]
pub(super) struct FrameworkJson<'a> {
    name: &'a str,
    publisher: &'a str,
    year: u16,
    version: &'a str,
    foundational: Option<&'a str>,
}

#[derive(Serialize)]
pub(super) struct ExportJson<'a> {
    framework: FrameworkJson<'a>,
    competences: Vec<CompetenceJson<'a>>,
}

impl<'a> ExportJson<'a> {
    pub(super) fn new(framework: &'a Framework) -> Self {
        ExportJson {
            framework: FrameworkJson {
                name: &framework.name,
                publisher: &framework.publisher,
                year: framework.year,
                version: &framework.version,
                foundational: framework.foundational.as_deref(),
            },
            competences: framework
                .competences()
                .iter()
                .map(|c| CompetenceJson::new(framework, c))
                .collect(),
        }
    }
}

/// Any answer of `lookup`, `search` or `guide`, as JSON.
#[derive(Serialize)]
#[serde(untagged)]
pub(super) enum AnswerJson<'a> {
    Found(FoundJson<'a>),
    Error(ErrorJson<'a>),
    Search(SearchJson<'a>),
    Section(SectionJson<'a>),
    Contents(ContentsJson<'a>),
}

impl<'a> AnswerJson<'a> {
    pub(super) fn new(library: &'a Library, answer: &commands::Answer<'a>) -> Self {
        use commands::Answer;
        let framework: &'a Framework = library;
        let error_json = |kind| {
            AnswerJson::Error(ErrorJson {
                error: ErrorBody {
                    kind,
                    message: commands::reply(library, answer, SHELL)
                        .text
                        .unwrap_or_default(),
                    nearest: Vec::new(),
                    search: Vec::new(),
                },
            })
        };
        match answer {
            Answer::Found(found) => AnswerJson::Found(found_json(framework, found)),
            Answer::NotFound(e, hits) => {
                let mut json = ErrorJson::from_lookup(e);
                json.error.search = hits
                    .iter()
                    .filter_map(|h| SearchResultJson::new(framework, h))
                    .collect();
                AnswerJson::Error(json)
            }
            Answer::Hits(hits) => AnswerJson::Search(SearchJson {
                results: hits
                    .iter()
                    .filter_map(|h| SearchResultJson::new(framework, h))
                    .collect(),
            }),
            Answer::Section(section, part) => {
                AnswerJson::Section(SectionJson::new(library, section, *part))
            }
            Answer::NoWords => error_json("no_words"),
            Answer::NoSuchPart(..) => error_json("no_such_part"),
            Answer::NoSection => error_json("no_section"),
            Answer::PartWithoutSection => error_json("part_without_section"),
            Answer::NoGuide => error_json("no_guide"),
            Answer::Contents => AnswerJson::Contents(ContentsJson::new(framework.sections())),
            Answer::Several(sections) => {
                AnswerJson::Contents(ContentsJson::new(sections.iter().copied()))
            }
        }
    }
}

#[derive(Serialize)]
pub(super) struct SearchJson<'a> {
    results: Vec<SearchResultJson<'a>>,
}

/// One search result: a competence (with the fields results always had) or
/// a section of the guide, told apart by `kind`.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum SearchResultJson<'a> {
    Competence {
        id: CompetenceId,
        domain: DomainId,
        code: String,
        statement: &'a str,
        score: f32,
    },
    Section {
        id: &'a str,
        title: &'a str,
        within: Option<&'a str>,
        score: f32,
    },
}

impl<'a> SearchResultJson<'a> {
    pub(super) fn new(framework: &'a Framework, hit: &SearchHit) -> Option<Self> {
        let score = (hit.score * 1000.0).round() / 1000.0;
        match hit.item {
            Item::Competence(id) => {
                let c = framework.competence(id)?;
                Some(SearchResultJson::Competence {
                    id,
                    domain: id.domain,
                    code: id.code.to_string(),
                    statement: &c.statement,
                    score,
                })
            }
            Item::Section(i) => {
                let s = framework.sections().get(i)?;
                Some(SearchResultJson::Section {
                    id: &s.id,
                    title: &s.title,
                    within: s.within.as_deref(),
                    score,
                })
            }
        }
    }
}

/// A section of the guide, whole, in `guide --json`.
#[derive(Serialize)]
pub(super) struct SectionJson<'a> {
    kind: &'static str,
    id: &'a str,
    title: &'a str,
    within: Option<&'a str>,
    /// The whole text, or with `--part`, that part's.
    text: String,
    /// The part given with `--part`.
    #[serde(skip_serializing_if = "Option::is_none")]
    part: Option<usize>,
    /// How many parts Discord shows it in.
    parts: usize,
    discusses: &'a [CompetenceId],
}

impl<'a> SectionJson<'a> {
    pub(super) fn new(library: &Library, s: &'a Section, part: Option<usize>) -> Self {
        let cards = library.section_cards(s);
        let text = match part {
            Some(p) => cards
                .get(p.saturating_sub(1))
                .map(|c| c.description.clone())
                .unwrap_or_default(),
            None => s.text.clone(),
        };
        SectionJson {
            kind: "section",
            id: &s.id,
            title: &s.title,
            within: s.within.as_deref(),
            text,
            part,
            parts: cards.len(),
            discusses: &s.discusses,
        }
    }
}

/// The guide's contents in `guide --json` with no section named, or the
/// sections that share the title or heading named.
#[derive(Serialize)]
pub(super) struct ContentsJson<'a> {
    sections: Vec<SectionEntryJson<'a>>,
}

impl<'a> ContentsJson<'a> {
    pub(super) fn new(sections: impl IntoIterator<Item = &'a Section>) -> Self {
        ContentsJson {
            sections: sections
                .into_iter()
                .map(|s| SectionEntryJson {
                    id: &s.id,
                    title: &s.title,
                    within: s.within.as_deref(),
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
pub(super) struct SectionEntryJson<'a> {
    id: &'a str,
    title: &'a str,
    within: Option<&'a str>,
}

#[derive(Serialize)]
pub(super) struct AreaJson<'a> {
    domain: DomainId,
    number: u8,
    title: &'a str,
    aliases: &'a [String],
    metacompetence: Option<&'a str>,
    note: Option<&'a str>,
    competences: Vec<CompetenceJson<'a>>,
}

impl<'a> AreaJson<'a> {
    pub(super) fn new(framework: &'a Framework, area: &'a Area) -> Self {
        AreaJson {
            domain: area.domain,
            number: area.number,
            title: &area.title,
            aliases: &area.aliases,
            metacompetence: area.metacompetence.as_deref(),
            note: area.note.as_deref(),
            competences: framework
                .competences_in(area)
                .map(|c| CompetenceJson::new(framework, c))
                .collect(),
        }
    }
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum FoundJson<'a> {
    Competences {
        results: Vec<CompetenceJson<'a>>,
    },
    Areas {
        results: Vec<AreaJson<'a>>,
    },
    Metacompetence {
        domain: DomainId,
        area: u8,
        text: &'a str,
    },
    Foundational {
        text: &'a str,
    },
}

fn found_json<'a>(framework: &'a Framework, found: &Found<'a>) -> FoundJson<'a> {
    match *found {
        Found::Competences(hits) => FoundJson::Competences {
            results: hits
                .iter()
                .map(|c| CompetenceJson::new(framework, c))
                .collect(),
        },
        Found::Areas(areas) => FoundJson::Areas {
            results: areas.iter().map(|a| AreaJson::new(framework, a)).collect(),
        },
        Found::Meta(area) => FoundJson::Metacompetence {
            domain: area.domain,
            area: area.number,
            text: area.metacompetence.as_deref().unwrap_or_default(),
        },
        Found::Foundational(text) => FoundJson::Foundational { text },
    }
}

#[derive(Serialize)]
pub(super) struct ErrorJson<'a> {
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
pub(super) struct ErrorBody<'a> {
    kind: &'static str,
    message: String,
    nearest: Vec<CompetenceId>,
    /// For words that are no code: what search finds for them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    search: Vec<SearchResultJson<'a>>,
}

impl ErrorJson<'_> {
    fn from_lookup(e: &LookupError) -> Self {
        let (kind, nearest) = match e {
            LookupError::Empty => ("empty", Vec::new()),
            LookupError::NotACode => ("not_a_code", Vec::new()),
            LookupError::NotFound { nearest, .. } => ("not_found", nearest.clone()),
            LookupError::NoSuchArea { .. } => ("no_such_area", Vec::new()),
            LookupError::NoMetacompetence(_) => ("no_metacompetence", Vec::new()),
            LookupError::NoFoundational => ("no_foundational", Vec::new()),
        };
        ErrorJson {
            error: ErrorBody {
                kind,
                message: e.to_string(),
                nearest,
                search: Vec::new(),
            },
        }
    }
}
