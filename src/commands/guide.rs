//! `/guide`: the user guide's narrative sections, found by id, title or words,
//! shown part by part where a front-end needs parts.

use super::{
    Action, Answer, MAX_SUGGESTIONS, Reply, SUGGESTION_CHARS, SearchLine, Suggestion, Visibility,
};
use crate::framework::Section;
use crate::library::Library;
use crate::render;

/// What `/guide` finds for what was typed: the contents when nothing was
/// typed; else the section with that id, or that title, or whose title holds
/// the words, or that search ranks first among the sections holding all of
/// them.
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
                    crate::search::Item::Section(i) if h.whole => sections.get(i),
                    _ => None,
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

/// A section as a line in a list of results.
pub(super) fn line(section: &Section) -> SearchLine {
    SearchLine {
        opens: open_action(section, 1),
        label: "Guide".to_string(),
        statement: render::fit(&section.full_title(), 90),
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
        results: library.sections().iter().map(line).collect(),
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
            name: render::fit(&s.full_title(), SUGGESTION_CHARS),
            value: s.id.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::{Command, handle};
    use super::*;

    fn guide(library: &Library, section: &str, part: Option<usize>) -> Reply {
        handle(
            library,
            &Command::Guide {
                section: section.to_string(),
                part,
            },
        )
    }

    #[test]
    fn a_section_is_found_by_id_title_or_words() {
        let l = Library::builtin().unwrap();
        for typed in [
            "role-of-supervision",
            "The Role of Supervision",
            "role of supervision",
            "supervision group",
        ] {
            let r = guide(&l, typed, None);
            assert_eq!(r.visibility, Visibility::Public, "{typed}");
            assert_eq!(r.cards[0].title, "The role of supervision", "{typed}");
        }
        // Several sections share a title: the heading above tells them apart.
        let two = guide(&l, "guidance-domain-two", None);
        assert_eq!(
            two.cards[0].heading,
            "User guide › Guidance on the competences"
        );
    }

    #[test]
    fn every_part_of_every_section_is_the_guide_word_for_word() {
        let l = Library::builtin().unwrap();
        assert!(!l.sections().is_empty());
        for s in l.sections() {
            let whole = guide(&l, &s.id, None);
            let text: Vec<&str> = whole
                .cards
                .iter()
                .flat_map(|c| c.description.split_whitespace())
                .collect();
            let words: Vec<&str> = s.text.split_whitespace().collect();
            assert_eq!(text, words, "{}", s.id);
            for (i, card) in whole.cards.iter().enumerate() {
                assert!(
                    card.total_chars() <= render::limits::EMBED_TOTAL,
                    "{}",
                    s.id
                );
                assert!(card.description.chars().count() <= render::limits::DESCRIPTION);
                let one = guide(&l, &s.id, Some(i + 1));
                assert_eq!(
                    one.cards,
                    std::slice::from_ref(card),
                    "{} part {}",
                    s.id,
                    i + 1
                );
                let next = one.actions.iter().any(|a| {
                    matches!(a, Action::Guide { id, part, .. } if *id == s.id && *part == i + 2)
                });
                assert_eq!(next, i + 1 < whole.cards.len(), "{} part {}", s.id, i + 1);
            }
        }
    }

    #[test]
    fn mistakes_get_a_private_answer_that_says_what_works() {
        let l = Library::builtin().unwrap();
        let none = guide(&l, "xqzvw", None);
        assert!(none.is_error && none.visibility == Visibility::Private);
        assert!(none.text.unwrap().contains("`/guide` lists the sections"));
        // Words that only partly match are not taken for a section.
        assert!(guide(&l, "nonsense words here", None).is_error);
        let far = guide(&l, "role-of-supervision", Some(9));
        assert!(far.is_error);
        assert!(
            far.text
                .unwrap()
                .contains("has 1 part, so there is no part 9. `/guide role-of-supervision`")
        );
        assert!(guide(&l, "role-of-supervision", Some(0)).is_error);
    }

    #[test]
    fn the_contents_list_every_section_once() {
        let l = Library::builtin().unwrap();
        let r = guide(&l, "  ", None);
        assert_eq!(r.visibility, Visibility::Private);
        assert_eq!(r.results.len(), l.sections().len());
        for s in l.sections() {
            assert_eq!(
                r.cards[0]
                    .description
                    .matches(&format!("`{}`", s.id))
                    .count(),
                1
            );
        }
    }

    #[test]
    fn autocomplete_offers_sections_by_title_then_by_words() {
        let l = Library::builtin().unwrap();
        let all = suggest_sections(&l, "");
        assert_eq!(all.len(), l.sections().len().min(MAX_SUGGESTIONS));
        let sup = suggest_sections(&l, "superv");
        assert_eq!(sup[0].value, "role-of-supervision");
        let defs: Vec<String> = suggest_sections(&l, "definitions")
            .into_iter()
            .map(|s| s.value)
            .collect();
        // The seven under "Definitions and terminology" first, then what
        // search finds.
        assert!(defs.len() > 7, "{defs:?}");
        assert!(
            defs[..7].iter().all(|d| d.starts_with("definition-")),
            "{defs:?}"
        );
        let words = suggest_sections(&l, "working alliance");
        assert_eq!(words[0].value, "definition-partnership");
        for s in all {
            assert!(s.name.chars().count() <= SUGGESTION_CHARS);
        }
    }
}
