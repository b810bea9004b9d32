//! The competence framework as the rest of the program sees it: domains, areas,
//! competences and the links between them, loaded once and then only read.
//!
//! The data lives in `framework/coaching-2022.toml` (compiled into the binary)
//! or in another file of the same schema; [`file`] parses and validates it.
//! Everything here is plain data with lookups by [`CompetenceId`]; nothing here
//! knows about Discord, the terminal or storage.

mod file;
mod ids;

pub use file::{FrameworkError, load_file, parse};
pub(crate) use file::{line_col, read_source};
pub use ids::{Code, CompetenceId, DomainId, ParseIdError};

/// The BACP Coaching competence framework (2022), as shipped in the binary.
pub const BUILTIN_SOURCE: &str = include_str!("../../framework/coaching-2022.toml");

/// The name under which the built-in framework reports errors.
pub const BUILTIN_NAME: &str = "framework/coaching-2022.toml (built in)";

/// A whole competence framework, validated: every id unique, every link resolvable.
#[derive(Debug)]
pub struct Framework {
    /// The framework's name, e.g. "Coaching competence framework".
    pub name: String,
    /// Who publishes it, e.g. "BACP".
    pub publisher: String,
    /// Year of publication.
    pub year: u16,
    /// Version label, stored with every reflection so old entries stay interpretable.
    pub version: String,
    /// The foundational competence, if the framework has one.
    pub foundational: Option<String>,
    domains: Vec<Domain>,
    areas: Vec<Area>,
    competences: Vec<Competence>,
    sections: Vec<Section>,
    by_id: CodeIndex,
}

/// One domain of the framework, e.g. "Core coaching competences".
#[derive(Debug, Clone)]
pub struct Domain {
    /// `core` or `integration`.
    pub id: DomainId,
    /// The title as the guide prints it.
    pub title: String,
}

/// One area within a domain: a numbered group of competences.
#[derive(Debug, Clone)]
pub struct Area {
    /// The domain the area belongs to.
    pub domain: DomainId,
    /// The area's number within its domain (1-based).
    pub number: u8,
    /// The title as the guidance section of the guide prints it.
    pub title: String,
    /// Other wordings the guide uses for the same area.
    pub aliases: Vec<String>,
    /// The area's metacompetence (core areas only in the 2022 framework).
    pub metacompetence: Option<String>,
    /// A note the guide prints under the area heading.
    pub note: Option<String>,
    /// Codes of the competences in this area, in order.
    pub codes: Vec<Code>,
}

/// One narrative section of the guide (the introduction, the definitions, the role
/// of supervision, …), verbatim like the competences.
#[derive(Debug, Clone)]
pub struct Section {
    /// A short id to type and link by, e.g. `role-of-supervision`.
    pub id: String,
    /// The heading as the guide prints it.
    pub title: String,
    /// The heading it sits under, where the guide nests it ("Definitions and terminology").
    pub within: Option<String>,
    /// The text, paragraphs separated by a blank line.
    pub text: String,
    /// Competences the section names and discusses, in the order it names them.
    pub discusses: Vec<CompetenceId>,
}

impl Section {
    /// The title with the heading it sits under: "Definitions and terminology › Coaching".
    pub fn full_title(&self) -> String {
        match &self.within {
            Some(within) => format!("{within} › {}", self.title),
            None => self.title.clone(),
        }
    }
}

/// Whether `id` is a well-formed section id: 1 to 40 lowercase ASCII letters,
/// digits and hyphens, so it fits in a link or a custom id as it stands.
pub fn is_section_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 40
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// One competence: its statement, the guidance printed under it, and its links.
#[derive(Debug, Clone)]
pub struct Competence {
    /// Domain and code, e.g. `core:3.5`.
    pub id: CompetenceId,
    /// The competence statement, verbatim.
    pub statement: String,
    /// The guidance printed under this competence (empty where the guide prints none).
    pub guidance: String,
    /// The competence (same domain) whose guidance also covers this one.
    pub shared_guidance: Option<Code>,
    /// Competences the guidance points to.
    pub see_also: Vec<CompetenceId>,
}

impl Framework {
    /// The framework compiled into the binary.
    ///
    /// The built-in file is checked by the test suite, so failing to parse it is a
    /// build defect rather than a runtime condition; the error is still returned,
    /// never unwrapped.
    pub fn builtin() -> Result<Framework, FrameworkError> {
        parse(BUILTIN_SOURCE, BUILTIN_NAME)
    }

    /// All domains, in the guide's order.
    pub fn domains(&self) -> &[Domain] {
        &self.domains
    }

    /// The domain with this id, if the framework has it.
    pub fn domain(&self, id: DomainId) -> Option<&Domain> {
        self.domains.iter().find(|d| d.id == id)
    }

    /// All areas, domain by domain, in order.
    pub fn areas(&self) -> &[Area] {
        &self.areas
    }

    /// The area `number` of `domain`.
    pub fn area(&self, domain: DomainId, number: u8) -> Option<&Area> {
        self.areas
            .iter()
            .find(|a| a.domain == domain && a.number == number)
    }

    /// The area a competence belongs to.
    pub fn area_of(&self, competence: &Competence) -> Option<&Area> {
        self.area(competence.id.domain, competence.id.code.area)
    }

    /// All competences, core before integration, each in code order.
    pub fn competences(&self) -> &[Competence] {
        &self.competences
    }

    /// The guide's narrative sections, in the guide's order.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// The section with this id.
    pub fn section(&self, id: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.id == id)
    }

    /// The sections that discuss a competence, in the guide's order.
    pub fn sections_discussing(&self, id: CompetenceId) -> impl Iterator<Item = &Section> {
        self.sections
            .iter()
            .filter(move |s| s.discusses.contains(&id))
    }

    /// The position of a competence in [`Framework::competences`].
    pub(crate) fn index_of(&self, id: CompetenceId) -> Option<usize> {
        self.by_id.get(id)
    }

    /// The competence with this id: two array indexings, no hashing.
    pub fn competence(&self, id: CompetenceId) -> Option<&Competence> {
        self.by_id.get(id).map(|i| &self.competences[i])
    }

    /// The competences of one area, in order.
    pub fn competences_in<'f>(&'f self, area: &'f Area) -> impl Iterator<Item = &'f Competence> {
        area.codes
            .iter()
            .filter_map(move |&code| self.competence(CompetenceId::new(area.domain, code)))
    }

    /// Where this competence's guidance is printed under another competence: that
    /// competence and its guidance text.
    pub fn shared_guidance(&self, competence: &Competence) -> Option<(&Competence, &str)> {
        let code = competence.shared_guidance?;
        let partner = self.competence(CompetenceId::new(competence.id.domain, code))?;
        Some((partner, partner.guidance.as_str()))
    }

    /// The competences whose `shared_guidance` points at this one: the others its
    /// guidance also covers.
    pub fn guidance_also_covers<'f>(
        &'f self,
        competence: &'f Competence,
    ) -> impl Iterator<Item = &'f Competence> {
        self.competences.iter().filter(move |c| {
            c.id.domain == competence.id.domain && c.shared_guidance == Some(competence.id.code)
        })
    }

    /// Number of competences in one domain.
    pub fn count_in(&self, domain: DomainId) -> usize {
        self.competences
            .iter()
            .filter(|c| c.id.domain == domain)
            .count()
    }

    fn assemble(
        header: Header,
        domains: Vec<Domain>,
        areas: Vec<Area>,
        competences: Vec<Competence>,
        sections: Vec<Section>,
    ) -> Framework {
        let by_id = CodeIndex::new(&competences);
        Framework {
            name: header.name,
            publisher: header.publisher,
            year: header.year,
            version: header.version,
            foundational: header.foundational,
            domains,
            areas,
            competences,
            sections,
            by_id,
        }
    }
}

/// The framework-wide fields, gathered by the file parser before assembly.
struct Header {
    name: String,
    publisher: String,
    year: u16,
    version: String,
    foundational: Option<String>,
}

/// Position of each competence in `Framework::competences`, addressed by
/// domain, area and number. Codes are small numbers, so nested vectors beat a
/// hash map: a lookup is two bounds-checked indexings.
#[derive(Debug, Default)]
struct CodeIndex {
    /// `slots[domain][area][number]`, `u16::MAX` where there is no competence.
    slots: [Vec<Vec<u16>>; 2],
}

impl CodeIndex {
    const EMPTY: u16 = u16::MAX;

    fn new(competences: &[Competence]) -> CodeIndex {
        let mut index = CodeIndex::default();
        for (i, c) in competences.iter().enumerate() {
            let areas = &mut index.slots[c.id.domain as usize];
            let (area, number) = (usize::from(c.id.code.area), usize::from(c.id.code.number));
            if areas.len() <= area {
                areas.resize_with(area + 1, Vec::new);
            }
            let numbers = &mut areas[area];
            if numbers.len() <= number {
                numbers.resize(number + 1, Self::EMPTY);
            }
            numbers[number] = u16::try_from(i).unwrap_or(Self::EMPTY);
        }
        index
    }

    fn get(&self, id: CompetenceId) -> Option<usize> {
        let slot = *self.slots[id.domain as usize]
            .get(usize::from(id.code.area))?
            .get(usize::from(id.code.number))?;
        (slot != Self::EMPTY).then_some(usize::from(slot))
    }
}
