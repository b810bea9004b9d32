//! `/guide`: the user guide's narrative sections, found by id, title or words,
//! shown part by part where a front-end needs parts.

use super::{Action, Answer, MAX_SUGGESTIONS, Reply, SUGGESTION_CHARS, Suggestion, Visibility};
use crate::framework::Section;
use crate::library::Library;
use crate::render;

/// What `/guide` finds for what was typed: the contents when nothing was
/// typed; else the section with that id, or that title, or whose title holds
/// the words, or that search ranks first among the sections.
pub(super) fn answer<'l>(library: &'l Library, typed: &str, part: Option<usize>) -> Answer<'l> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Answer::Contents;
    }
    let Some(section) = find(library, typed) else {
        return Answer::NoSection;
    };
    match part {
        Some(p) if p == 0 || p > parts(library, section) => Answer::NoSuchPart(section, p),
        _ => Answer::Section(section, part),
    }
}

fn find<'l>(library: &'l Library, typed: &str) -> Option<&'l Section> {
    let sections = library.sections();
    let lower = typed.to_lowercase();
    sections
        .iter()
        .find(|s| s.id == lower)
        .or_else(|| sections.iter().find(|s| s.title.to_lowercase() == lower))
        .or_else(|| {
            sections
                .iter()
                .find(|s| s.title.to_lowercase().contains(&lower))
        })
        .or_else(|| {
            library
                .search_index()
                .search(typed, library.competences().len() + sections.len())
                .iter()
                .find_map(|h| match h.item {
                    crate::search::Item::Section(i) => sections.get(i),
                    crate::search::Item::Competence(_) => None,
                })
        })
}

fn parts(library: &Library, section: &Section) -> usize {
    render::section_cards(library, section).len()
}

/// The button or menu choice that opens `part` of a section.
pub(super) fn open_action(section: &Section, part: usize) -> Action {
    Action::Guide {
        id: section.id.clone(),
        part,
        title: section.title.clone(),
    }
}

/// A section: all its parts, or one with a button to the next. The guide's
/// text is for the discussion, so it is shown in the channel, like a card.
pub(super) fn reply(library: &Library, section: &Section, part: Option<usize>) -> Reply {
    let mut cards = render::section_cards(library, section);
    let n = cards.len();
    let mut actions: Vec<Action> = section
        .discusses
        .iter()
        .take(4)
        .map(|id| Action::Open(*id))
        .collect();
    if let Some(p) = part {
        cards = cards.into_iter().skip(p - 1).take(1).collect();
        if p < n {
            actions.truncate(3);
            actions.push(open_action(section, p + 1));
        }
    }
    Reply {
        visibility: Visibility::Public,
        cards,
        actions,
        ..Reply::default()
    }
}

pub(super) fn no_such_part(library: &Library, section: &Section, part: usize) -> Reply {
    let n = parts(library, section);
    Reply::user_error(format!(
        "“{}” has {n} part{}, so there is no part {part}. `/guide {}` starts at the beginning.",
        section.title,
        if n == 1 { "" } else { "s" },
        section.id
    ))
}

pub(super) fn no_section() -> Reply {
    Reply::user_error(
        "No section of the user guide matches those words. `/guide` lists the sections; `/search` looks through the competences too."
            .to_string(),
    )
}

/// The contents, with a menu (in Discord) to open a section.
pub(super) fn contents(library: &Library) -> Reply {
    if library.sections().is_empty() {
        return Reply::user_error(
            "This framework file holds no sections of a user guide.".to_string(),
        );
    }
    Reply {
        visibility: Visibility::Private,
        cards: vec![render::contents_card(library)],
        results: library
            .sections()
            .iter()
            .map(|s| super::SearchLine {
                opens: open_action(s, 1),
                label: "Guide".to_string(),
                statement: render::fit(&s.title, 90),
            })
            .collect(),
        ..Reply::default()
    }
}

/// Autocomplete for `/guide`: every section when nothing is typed; else those
/// whose title or heading holds what was typed, then search's choice.
pub fn suggest_sections(library: &Library, partial: &str) -> Vec<Suggestion> {
    let sections = library.sections();
    let lower = partial.trim().to_lowercase();
    let mut chosen: Vec<&Section> = sections
        .iter()
        .filter(|s| {
            lower.is_empty()
                || s.id.contains(&lower)
                || s.title.to_lowercase().contains(&lower)
                || s.within
                    .as_ref()
                    .is_some_and(|w| w.to_lowercase().contains(&lower))
        })
        .collect();
    if !lower.is_empty() {
        for hit in library.search_index().search(partial, MAX_SUGGESTIONS) {
            if let crate::search::Item::Section(i) = hit.item
                && let Some(s) = sections.get(i)
                && !chosen.iter().any(|c| c.id == s.id)
            {
                chosen.push(s);
            }
        }
    }
    chosen
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|s| Suggestion {
            name: render::fit(
                &match &s.within {
                    Some(w) => format!("{w} › {}", s.title),
                    None => s.title.clone(),
                },
                SUGGESTION_CHARS,
            ),
            value: s.id.clone(),
        })
        .collect()
}
