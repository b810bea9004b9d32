//! Reading a framework file: TOML in, a validated [`Framework`] out, or an error
//! that names the file, the line and the problem.
//!
//! The file is meant to be edited by hand (to correct a word, or to load another
//! BACP framework), so every check reports where in the file it failed.

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{Area, Code, Competence, CompetenceId, Domain, DomainId, Framework, Header, Section};

/// A framework file that could not be read or is not valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameworkError {
    /// The file's path, or a name for the built-in data.
    pub source_name: String,
    /// 1-based line of the problem, where known.
    pub line: Option<usize>,
    /// 1-based column of the problem, where known.
    pub column: Option<usize>,
    /// What is wrong, in words for the person editing the file.
    pub message: String,
}

impl fmt::Display for FrameworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{}:{}: {}", self.source_name, l, c, self.message),
            (Some(l), None) => write!(f, "{}:{}: {}", self.source_name, l, self.message),
            _ => write!(f, "{}: {}", self.source_name, self.message),
        }
    }
}

impl std::error::Error for FrameworkError {}

impl FrameworkError {
    /// An error in the file `source_name` holding `text`, at byte `offset`
    /// when known: the one place a framework or thesaurus problem gets its
    /// line and column.
    pub(crate) fn in_file(
        source_name: &str,
        text: &str,
        offset: Option<usize>,
        message: impl Into<String>,
    ) -> FrameworkError {
        let (line, column) = match offset.map(|o| line_col(text, o)) {
            Some((l, c)) => (Some(l), Some(c)),
            None => (None, None),
        };
        FrameworkError {
            source_name: source_name.to_string(),
            line,
            column,
            message: message.into(),
        }
    }
}

/// A data file's text and the name its errors give it (its path), or why
/// it cannot be read: one reader for the framework and the thesaurus.
pub(crate) fn read_source(path: &Path) -> Result<(String, String), FrameworkError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| FrameworkError {
        source_name: name.clone(),
        line: None,
        column: None,
        message: format!("cannot read the file: {e}"),
    })?;
    Ok((text, name))
}

/// Reads and validates the framework file at `path`.
pub fn load_file(path: &Path) -> Result<Framework, FrameworkError> {
    let (text, name) = read_source(path)?;
    parse(&text, &name)
}

/// Parses and validates framework TOML; `source_name` is used in error messages.
pub fn parse(text: &str, source_name: &str) -> Result<Framework, FrameworkError> {
    let ctx = Ctx { text, source_name };
    let raw: RawFramework = toml::from_str(text)
        .map_err(|e| ctx.error(e.span(), e.message().trim_end().to_string()))?;
    ctx.build(raw)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFramework {
    name: String,
    publisher: String,
    year: u16,
    version: String,
    foundational: Option<RawFoundational>,
    domain: Vec<RawDomain>,
    #[serde(default)]
    section: Vec<RawSection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    id: Spanned<String>,
    title: Spanned<String>,
    within: Option<Spanned<String>>,
    text: Spanned<String>,
    #[serde(default)]
    discusses: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFoundational {
    statement: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDomain {
    id: Spanned<String>,
    title: String,
    area: Vec<RawArea>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArea {
    number: Spanned<u8>,
    title: String,
    #[serde(default)]
    aliases: Vec<String>,
    metacompetence: Option<String>,
    note: Option<String>,
    competence: Vec<RawCompetence>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCompetence {
    code: Spanned<String>,
    statement: Spanned<String>,
    #[serde(default)]
    guidance: Option<Spanned<String>>,
    shared_guidance: Option<Spanned<String>>,
    #[serde(default)]
    see_also: Vec<Spanned<String>>,
}

struct Ctx<'a> {
    text: &'a str,
    source_name: &'a str,
}

/// A competence's links as written, checked once every competence is known.
struct PendingLinks {
    id: CompetenceId,
    shared: Option<Spanned<String>>,
    see_also: Vec<Spanned<String>>,
}

impl Ctx<'_> {
    fn error(&self, span: Option<Range<usize>>, message: String) -> FrameworkError {
        FrameworkError::in_file(self.source_name, self.text, span.map(|s| s.start), message)
    }

    fn at<T>(&self, spanned: &Spanned<T>, message: String) -> FrameworkError {
        self.error(Some(spanned.span()), message)
    }

    fn build(&self, raw: RawFramework) -> Result<Framework, FrameworkError> {
        if raw.domain.is_empty() {
            return Err(self.error(None, "the file has no [[domain]]".into()));
        }
        let header = Header {
            name: raw.name,
            publisher: raw.publisher,
            year: raw.year,
            version: raw.version,
            foundational: raw.foundational.map(|f| f.statement.trim().to_string()),
        };
        let mut domains = Vec::new();
        let mut areas = Vec::new();
        let mut competences = Vec::new();
        let mut pending = Vec::new();
        let mut seen_ids = HashSet::new();
        for raw_domain in raw.domain {
            let id: DomainId = raw_domain.id.get_ref().parse().map_err(|_| {
                self.at(
                    &raw_domain.id,
                    format!(
                        "unknown domain id `{}`: use `core` or `integration`",
                        raw_domain.id.get_ref()
                    ),
                )
            })?;
            if domains.iter().any(|d: &Domain| d.id == id) {
                return Err(self.at(&raw_domain.id, format!("domain `{id}` appears twice")));
            }
            domains.push(Domain {
                id,
                title: raw_domain.title,
            });
            for raw_area in raw_domain.area {
                let area =
                    self.build_area(id, raw_area, &mut competences, &mut pending, &mut seen_ids)?;
                if areas
                    .iter()
                    .any(|a: &Area| a.domain == id && a.number == area.number)
                {
                    return Err(self.error(
                        None,
                        format!("area {} appears twice in domain `{id}`", area.number),
                    ));
                }
                areas.push(area);
            }
        }
        self.resolve_links(&mut competences, pending, &seen_ids)?;
        let sections = self.build_sections(raw.section, &seen_ids)?;
        Ok(Framework::assemble(
            header,
            domains,
            areas,
            competences,
            sections,
        ))
    }

    /// The guide's narrative sections: ids unique and short enough to type, text
    /// as clean as a competence's, and every competence a section discusses both
    /// known and named in its text, so a card never links to a section that does
    /// not mention it.
    fn build_sections(
        &self,
        raw: Vec<RawSection>,
        known: &HashSet<CompetenceId>,
    ) -> Result<Vec<Section>, FrameworkError> {
        let mut sections: Vec<Section> = Vec::with_capacity(raw.len());
        for rs in raw {
            let id = rs.id.get_ref().clone();
            if !super::is_section_id(&id) {
                return Err(self.at(
                    &rs.id,
                    format!(
                        "section id `{id}`: use up to 40 lowercase letters, digits and hyphens, e.g. `role-of-supervision`"
                    ),
                ));
            }
            if sections.iter().any(|s| s.id == id) {
                return Err(self.at(&rs.id, format!("section `{id}` appears twice")));
            }
            let text = self.clean_text(&rs.text)?;
            if text.is_empty() {
                return Err(self.at(&rs.text, format!("section `{id}` has no text")));
            }
            let mut discusses = Vec::new();
            for target in &rs.discusses {
                let cid: CompetenceId = target.get_ref().parse().map_err(|e| {
                    self.at(target, format!("discusses `{}`: {e}", target.get_ref()))
                })?;
                if !known.contains(&cid) {
                    return Err(self.at(
                        target,
                        format!("section `{id}` discusses {cid}, which does not exist"),
                    ));
                }
                if discusses.contains(&cid) {
                    return Err(self.at(
                        target,
                        format!("section `{id}` lists {cid} twice in discusses"),
                    ));
                }
                if !mentions_code(&text, cid.code) {
                    return Err(self.at(
                        target,
                        format!(
                            "section `{id}` discusses {cid}, but its text never names {}",
                            cid.code
                        ),
                    ));
                }
                discusses.push(cid);
            }
            let title = self.clean_text(&rs.title)?;
            if title.is_empty() {
                return Err(self.at(&rs.title, format!("section `{id}` has no title")));
            }
            let within = match &rs.within {
                Some(w) => {
                    let w_text = self.clean_text(w)?;
                    if w_text.is_empty() {
                        return Err(self.at(
                            w,
                            format!("section `{id}` has an empty `within`: name the heading it sits under, or leave the line out"),
                        ));
                    }
                    Some(w_text)
                }
                None => None,
            };
            sections.push(Section {
                id,
                title,
                within,
                text,
                discusses,
            });
        }
        Ok(sections)
    }

    fn build_area(
        &self,
        domain: DomainId,
        raw: RawArea,
        competences: &mut Vec<Competence>,
        pending: &mut Vec<PendingLinks>,
        seen: &mut HashSet<CompetenceId>,
    ) -> Result<Area, FrameworkError> {
        let number = *raw.number.get_ref();
        if number == 0 || number > 99 {
            return Err(self.at(&raw.number, "an area number runs from 1 to 99".into()));
        }
        let mut codes = Vec::new();
        for rc in raw.competence {
            let code: Code = rc.code.get_ref().parse().map_err(|e| {
                self.at(
                    &rc.code,
                    format!("`{}` is not a code: {e}", rc.code.get_ref()),
                )
            })?;
            if code.area != number {
                return Err(self.at(
                    &rc.code,
                    format!("competence {code} is listed under area {number}"),
                ));
            }
            let id = CompetenceId::new(domain, code);
            if !seen.insert(id) {
                return Err(self.at(&rc.code, format!("competence {id} appears twice")));
            }
            let statement = self.clean_text(&rc.statement)?;
            if statement.is_empty() {
                return Err(self.at(&rc.statement, format!("competence {id} has no statement")));
            }
            let guidance = match &rc.guidance {
                Some(g) => self.clean_text(g)?,
                None => String::new(),
            };
            codes.push(code);
            competences.push(Competence {
                id,
                statement,
                guidance,
                shared_guidance: None,
                see_also: Vec::new(),
            });
            pending.push(PendingLinks {
                id,
                shared: rc.shared_guidance,
                see_also: rc.see_also,
            });
        }
        Ok(Area {
            domain,
            number,
            title: raw.title,
            aliases: raw.aliases,
            metacompetence: raw.metacompetence,
            note: raw.note,
            codes,
        })
    }

    /// Trims the text and refuses leftovers of a PDF export, which would otherwise
    /// be shown to users as if they were the guide's words.
    fn clean_text(&self, text: &Spanned<String>) -> Result<String, FrameworkError> {
        let t = text.get_ref().trim();
        if t.contains('\u{FFFD}') {
            return Err(self.at(
                text,
                "the text contains a replacement character (\u{FFFD}), an artifact of the PDF export"
                    .into(),
            ));
        }
        if t.contains('\t') {
            return Err(self.at(
                text,
                "the text contains a tab, an artifact of the PDF export".into(),
            ));
        }
        Ok(t.to_string())
    }

    fn resolve_links(
        &self,
        competences: &mut [Competence],
        pending: Vec<PendingLinks>,
        known: &HashSet<CompetenceId>,
    ) -> Result<(), FrameworkError> {
        let has_guidance: HashSet<CompetenceId> = competences
            .iter()
            .filter(|c| !c.guidance.is_empty())
            .map(|c| c.id)
            .collect();
        for (competence, links) in competences.iter_mut().zip(pending) {
            debug_assert_eq!(competence.id, links.id);
            if let Some(shared) = &links.shared {
                let code: Code = shared.get_ref().parse().map_err(|e| {
                    self.at(shared, format!("`{}` is not a code: {e}", shared.get_ref()))
                })?;
                let partner = CompetenceId::new(links.id.domain, code);
                if partner == links.id {
                    return Err(
                        self.at(shared, format!("{} shares guidance with itself", links.id))
                    );
                }
                if !has_guidance.contains(&partner) {
                    return Err(self.at(
                        shared,
                        format!(
                            "shared_guidance of {} points to {partner}, which has no guidance of its own",
                            links.id
                        ),
                    ));
                }
                competence.shared_guidance = Some(code);
            }
            for target in &links.see_also {
                let id: CompetenceId = target.get_ref().parse().map_err(|e| {
                    self.at(target, format!("see_also `{}`: {e}", target.get_ref()))
                })?;
                if !known.contains(&id) {
                    return Err(self.at(
                        target,
                        format!(
                            "see_also of {} points to {id}, which does not exist",
                            links.id
                        ),
                    ));
                }
                if id == links.id {
                    return Err(self.at(target, format!("{} lists itself in see_also", links.id)));
                }
                competence.see_also.push(id);
            }
        }
        Ok(())
    }
}

/// Whether `text` names `code` as a number of its own ("3.2," but not "13.2" or "3.25").
fn mentions_code(text: &str, code: Code) -> bool {
    let needle = code.to_string();
    text.match_indices(&needle).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit() || c == '.')
            && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "Test framework"
publisher = "Nobody"
year = 2024
version = "1"

[[domain]]
id = "core"
title = "Core"

[[domain.area]]
number = 1
title = "First"

[[domain.area.competence]]
code = "1.1"
statement = "One"
guidance = "Shared text."

[[domain.area.competence]]
code = "1.2"
statement = "Two"
shared_guidance = "1.1"
see_also = ["core:1.1"]
"#;

    fn error_for(text: &str) -> FrameworkError {
        match parse(text, "test.toml") {
            Ok(_) => panic!("expected an error"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_minimal_file_loads() {
        let f = parse(MINIMAL, "test.toml").unwrap();
        assert_eq!(f.competences().len(), 2);
        let two = f.competence("core:1.2".parse().unwrap()).unwrap();
        let (partner, text) = f.shared_guidance(two).unwrap();
        assert_eq!(partner.id.to_string(), "core:1.1");
        assert_eq!(text, "Shared text.");
    }

    #[test]
    fn a_duplicate_code_is_refused_with_its_line() {
        let text = MINIMAL.replace("code = \"1.2\"", "code = \"1.1\"");
        let e = error_for(&text);
        assert!(e.message.contains("appears twice"), "{e}");
        let line = text.lines().position(|l| l == "code = \"1.1\"").unwrap();
        let second = text
            .lines()
            .enumerate()
            .filter(|(_, l)| *l == "code = \"1.1\"")
            .nth(1)
            .unwrap()
            .0;
        assert!(second > line);
        assert_eq!(e.line, Some(second + 1), "{e}");
        assert!(e.to_string().starts_with("test.toml:"), "{e}");
    }

    #[test]
    fn a_dangling_see_also_is_refused() {
        let e = error_for(&MINIMAL.replace("[\"core:1.1\"]", "[\"integration:1.1\"]"));
        assert!(e.message.contains("does not exist"), "{e}");
        assert!(e.line.is_some());
    }

    #[test]
    fn shared_guidance_must_point_at_guidance() {
        let e =
            error_for(&MINIMAL.replace("shared_guidance = \"1.1\"", "shared_guidance = \"1.3\""));
        assert!(e.message.contains("no guidance"), "{e}");
    }

    #[test]
    fn a_code_in_the_wrong_area_is_refused() {
        let e = error_for(&MINIMAL.replace("code = \"1.2\"", "code = \"2.2\""));
        assert!(e.message.contains("listed under area 1"), "{e}");
    }

    #[test]
    fn syntax_errors_carry_a_line() {
        let e = error_for(&MINIMAL.replace("year = 2024", "year = "));
        assert!(e.line.is_some(), "{e}");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let e =
            error_for(&MINIMAL.replace("title = \"First\"", "title = \"First\"\ntitel = \"x\""));
        assert!(e.message.contains("titel"), "{e}");
    }

    #[test]
    fn pdf_artifacts_are_refused() {
        let e = error_for(&MINIMAL.replace("statement = \"One\"", "statement = \"On\u{FFFD}e\""));
        assert!(e.message.contains("replacement character"), "{e}");
    }

    const SECTION: &str = r#"
[[section]]
id = "about"
title = "About"
within = "Part one"
text = "Competence 1.2 is discussed here, and 1.1 too."
discusses = ["core:1.2"]
"#;

    #[test]
    fn sections_load_with_their_links() {
        let f = parse(&format!("{MINIMAL}{SECTION}"), "test.toml").unwrap();
        let s = f.section("about").unwrap();
        assert_eq!(
            (s.title.as_str(), s.within.as_deref()),
            ("About", Some("Part one"))
        );
        let two: CompetenceId = "core:1.2".parse().unwrap();
        assert_eq!(s.discusses, [two]);
        let discussing: Vec<&str> = f.sections_discussing(two).map(|s| s.id.as_str()).collect();
        assert_eq!(discussing, ["about"]);
        assert_eq!(
            f.sections_discussing("core:1.1".parse().unwrap()).count(),
            0
        );
    }

    #[test]
    fn a_section_must_name_what_it_discusses() {
        let text = format!("{MINIMAL}{SECTION}").replace("Competence 1.2", "Competence 11.2");
        let e = error_for(&text);
        assert!(e.message.contains("never names 1.2"), "{e}");
        let e =
            error_for(&format!("{MINIMAL}{SECTION}").replace("[\"core:1.2\"]", "[\"core:1.3\"]"));
        assert!(e.message.contains("does not exist"), "{e}");
    }

    #[test]
    fn a_section_needs_a_title_and_lists_each_competence_once() {
        let text = format!("{MINIMAL}{SECTION}");
        let e = error_for(&text.replace("title = \"About\"", "title = \" \""));
        assert!(e.message.contains("has no title"), "{e}");
        let e = error_for(&text.replace("within = \"Part one\"", "within = \"\""));
        assert!(e.message.contains("empty `within`"), "{e}");
        let e = error_for(&text.replace("[\"core:1.2\"]", "[\"core:1.2\", \"core:1.2\"]"));
        assert!(e.message.contains("twice"), "{e}");
    }

    #[test]
    fn section_ids_are_checked() {
        let e = error_for(
            &format!("{MINIMAL}{SECTION}").replace("id = \"about\"", "id = \"About us\""),
        );
        assert!(e.message.contains("lowercase letters"), "{e}");
        let e = error_for(&format!("{MINIMAL}{SECTION}{SECTION}"));
        assert!(e.message.contains("appears twice"), "{e}");
        let e = error_for(
            &format!("{MINIMAL}{SECTION}").replace("Competence 1.2 is", "Competence\t1.2 is"),
        );
        assert!(e.message.contains("tab"), "{e}");
    }

    #[test]
    fn unknown_domains_are_refused() {
        let e = error_for(&MINIMAL.replace("id = \"core\"", "id = \"supervision\""));
        assert!(e.message.contains("unknown domain"), "{e}");
    }
}
