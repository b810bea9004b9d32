//! `/guide`: the user guide's narrative sections, found by id, title or words,
//! shown part by part where a front-end needs parts.

use super::{
    Action, Answer, MAX_SUGGESTIONS, Reply, SUGGESTION_CHARS, SearchLine, Spelling, Suggestion,
    Visibility,
};
use crate::framework::Section;
use crate::library::Library;
use crate::render;
use crate::search::Item;

/// Fewest letters that find a section by the start of a word of its title.
const TITLE_WORD_MIN: usize = 3;

/// What `/guide` finds for what was typed: the contents when nothing was
/// typed; else the section with that id or that title; else the sections
/// with a title word, or a heading word, that starts with what was typed
/// (three letters or more, not a common word); else the section search
/// ranks first among those holding every word typed, as typed.
pub(super) fn answer<'l>(library: &'l Library, typed: &str, part: Option<usize>) -> Answer<'l> {
    if library.sections().is_empty() {
        return Answer::NoGuide;
    }
    let (typed, named_part) = split_part(typed.trim());
    let part = part.or(named_part);
    if typed.is_empty() {
        return match part {
            Some(_) => Answer::PartWithoutSection,
            None => Answer::Contents,
        };
    }
    match find(library, typed).as_slice() {
        [] => Answer::NoSection,
        [section] => in_parts(library, section, part),
        several => Answer::Several(several.to_vec()),
    }
}

/// What was typed, less a part named at its end: `supervision --part 2`,
/// `role-of-supervision part 2`, `how-to-use part:2` name part 2.
fn split_part(typed: &str) -> (&str, Option<usize>) {
    let words: Vec<&str> = typed.split_whitespace().collect();
    let number = |w: &str| w.parse::<usize>().ok();
    let found = match words.as_slice() {
        [.., p, n] if matches!(p.to_lowercase().as_str(), "part" | "--part" | "part:") => {
            number(n).map(|n| (2, n))
        }
        [.., last] => ["part:", "--part=", "part"]
            .iter()
            .find_map(|prefix| {
                let lower = last.to_lowercase();
                lower.strip_prefix(prefix).and_then(number)
            })
            .map(|n| (1, n)),
        [] => None,
    };
    match found {
        Some((n_words, n)) => {
            // The section is what comes before the part's words.
            let mut section = typed.trim_end();
            for _ in 0..n_words {
                section = section
                    .rsplit_once(char::is_whitespace)
                    .map_or("", |(before, _)| before)
                    .trim_end();
            }
            (section, Some(n))
        }
        None => (typed, None),
    }
}

/// A section opened by its id, as a clicked button or menu option names it:
/// never a guess.
pub fn open_section(library: &Library, id: &str, part: usize) -> Reply {
    match library.section(id) {
        Some(section) => {
            let answer = in_parts(library, section, Some(part));
            super::reply(library, &answer, super::SLASH)
        }
        None => Reply::user_error(
            "That section is not in the guide this bot has (it may have been renamed). `/guide` lists the sections there are."
                .to_string(),
        ),
    }
}

fn in_parts<'l>(library: &'l Library, section: &'l Section, part: Option<usize>) -> Answer<'l> {
    match part {
        Some(p) if p == 0 || p > library.section_cards(section).len() => {
            Answer::NoSuchPart(section, p)
        }
        _ => Answer::Section(section, part),
    }
}

/// Whether a word of `text` starts with `what` (both lower-case).
fn starts_a_word(text: &str, what: &str) -> bool {
    text.match_indices(what).any(|(at, _)| {
        !text[..at]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric)
    })
}

/// The sections `typed` names, in the guide's order: one, several, or none.
fn find<'l>(library: &'l Library, typed: &str) -> Vec<&'l Section> {
    let sections = library.sections();
    let lower = typed.to_lowercase();
    if let Some(s) = sections.iter().find(|s| s.id == lower) {
        return vec![s];
    }
    let titled: Vec<&Section> = sections
        .iter()
        .filter(|s| s.title.to_lowercase() == lower)
        .collect();
    if !titled.is_empty() {
        return titled;
    }
    if lower.chars().count() >= TITLE_WORD_MIN && !crate::search::is_common_word(&lower) {
        let named = |text: &str| starts_a_word(&text.to_lowercase(), &lower);
        let by_title: Vec<&Section> = sections.iter().filter(|s| named(&s.title)).collect();
        if !by_title.is_empty() {
            return by_title;
        }
        let by_heading: Vec<&Section> = sections
            .iter()
            .filter(|s| s.within.as_deref().is_some_and(named))
            .collect();
        if !by_heading.is_empty() {
            return by_heading;
        }
    }
    // Words, as typed (no guesses: a slip is for `/search` to forgive).
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !crate::search::is_common_word(w))
        .collect();
    if words.is_empty() {
        return Vec::new();
    }
    let holds_every_word = |s: &Section| {
        let text = format!(
            "{} {} {}",
            s.title,
            s.within.as_deref().unwrap_or_default(),
            s.text
        )
        .to_lowercase();
        words.iter().all(|w| starts_a_word(&text, w))
    };
    library
        .search_index()
        .search(typed, library.competences().len() + sections.len())
        .iter()
        .find_map(|h| match h.item {
            Item::Section(i) => sections.get(i).filter(|s| holds_every_word(s)),
            Item::Competence(_) => None,
        })
        .into_iter()
        .collect()
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
        label: format!("Guide: {}", section.title),
        statement: match &section.within {
            Some(within) => format!("User guide › {within}"),
            None => "User guide".to_string(),
        },
    }
}

/// A section: all its parts, or one with a button to the next. The guide's
/// text is for the discussion, so it is shown in the channel, like a card.
pub(super) fn reply(library: &Library, section: &Section, part: Option<usize>) -> Reply {
    let all = library.section_cards(section);
    let mut actions: Vec<Action> = section
        .discusses
        .iter()
        .take(4)
        .map(|id| Action::Open(*id))
        .collect();
    let cards = match part {
        Some(p) => {
            if p < all.len() {
                actions.truncate(3);
                actions.push(open_action(section, p + 1));
            }
            all.get(p.saturating_sub(1)).cloned().into_iter().collect()
        }
        None => all,
    };
    Reply {
        visibility: Visibility::Public,
        cards,
        actions,
        ..Reply::default()
    }
}

pub(super) fn no_such_part(
    library: &Library,
    section: &Section,
    part: usize,
    spelling: Spelling,
) -> Reply {
    let n = library.section_cards(section).len();
    Reply::user_error(format!(
        "“{}” has {n} part{}, so there is no part {part}. `{} {}` starts at the beginning.",
        section.title,
        if n == 1 { "" } else { "s" },
        spelling.guide,
        section.id
    ))
}

pub(super) fn no_section(spelling: Spelling) -> Reply {
    Reply::user_error(format!(
        "No section of the user guide matches those words. `{}` lists the sections; `{}` looks through the competences too.",
        spelling.guide, spelling.search
    ))
}

pub(super) fn part_without_section(spelling: Spelling) -> Reply {
    Reply::user_error(format!(
        "A part belongs to a section: name the section too, e.g. `{g} how-to-use {p}2`. `{g}` alone lists the sections.",
        g = spelling.guide,
        p = spelling.part
    ))
}

pub(super) fn no_guide() -> Reply {
    Reply::user_error(
        "This framework file holds no sections of a user guide. The built-in framework has them; another file needs `[[section]]` tables like those at the end of framework/coaching-2022.toml."
            .to_string(),
    )
}

/// Several sections answer to what was typed: a list to choose from.
pub(super) fn several(sections: &[&Section], spelling: Spelling) -> Reply {
    Reply {
        visibility: Visibility::Private,
        text: Some(format!(
            "{} sections of the user guide match; open one by its id, e.g. `{} {}`:",
            sections.len(),
            spelling.guide,
            sections.first().map_or("", |s| s.id.as_str())
        )),
        // Their titles may be the same: each line says its id.
        results: sections
            .iter()
            .map(|s| {
                let mut line = line(s);
                line.statement = format!("{} · `{}`", line.statement, s.id);
                line
            })
            .collect(),
        ..Reply::default()
    }
}

/// The contents, with a menu (in Discord) to open a section.
pub(super) fn contents(library: &Library) -> Reply {
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
        let enough = MAX_SUGGESTIONS + library.competences().len();
        for hit in library.search_index().search(partial, enough) {
            if let Item::Section(i) = hit.item
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

    /// A part named at the end of what was typed opens that part.
    #[test]
    fn a_part_named_after_the_section_opens_that_part() {
        let l = Library::builtin().unwrap();
        let title = &l.section("how-to-use").unwrap().title;
        for typed in [
            "how-to-use --part 2",
            "how-to-use part 2",
            &format!("{title} part:2"),
            "how-to-use part2",
        ] {
            let r = guide(&l, typed, None);
            assert_eq!(r.cards.len(), 1, "{typed}: {:?}", r.text);
            assert!(
                r.cards[0].title.starts_with(&format!("{title} (part 2 of")),
                "{typed}: {}",
                r.cards[0].title
            );
        }
        // A section of one part says so, rather than open another section.
        for typed in ["supervision --part 2", "role-of-supervision part 2"] {
            let r = guide(&l, typed, None);
            let said = r.text.unwrap_or_default();
            assert!(
                said.starts_with("“The role of supervision” has 1 part, so there is no part 2."),
                "{typed}: {said}"
            );
        }
        assert_eq!(split_part("how-to-use"), ("how-to-use", None));
        assert_eq!(split_part("part 2"), ("", Some(2)));
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
    fn short_or_partly_unknown_words_open_nothing() {
        let l = Library::builtin().unwrap();
        for typed in [
            "a",
            "e",
            "co",
            "in",
            "the",
            "and",
            "for",
            "supervision xqzvw",
            "therapy blorptastic",
            // Guesses are for search: a guide section opens by words as typed.
            "crying",
            "supervison",
            "boss",
        ] {
            assert!(guide(&l, typed, None).is_error, "{typed}");
        }
        assert_eq!(guide(&l, "metacomp", None).cards[0].title, "Metacompetence");
        // A heading, or a title, that several sections share lists them all.
        let defs = guide(&l, "Definitions and terminology", None);
        assert!(defs.cards.is_empty() && !defs.is_error);
        assert_eq!(defs.results.len(), 7);
        assert!(
            defs.text
                .unwrap()
                .contains("7 sections of the user guide match")
        );
        assert_eq!(guide(&l, "definitions", None).results.len(), 7);
        for typed in [
            "Domain Two",
            "Domain Two: Competences for integrating therapy and coaching",
        ] {
            let two: Vec<Action> = guide(&l, typed, None)
                .results
                .into_iter()
                .map(|r| r.opens)
                .collect();
            assert_eq!(two.len(), 2, "{typed}");
            let lines = guide(&l, typed, None).results;
            assert!(
                lines[1].statement.ends_with("`guidance-domain-two`"),
                "{typed}"
            );
            let other = open_action(l.section("guidance-domain-two").unwrap(), 1);
            assert!(two.contains(&other), "{typed}");
        }
        let part = guide(&l, "", Some(2));
        assert!(part.is_error);
        assert!(part.text.unwrap().contains("`/guide how-to-use part:2`"));
    }

    #[test]
    fn a_click_opens_a_section_by_its_id_and_never_guesses() {
        let l = Library::builtin().unwrap();
        let r = open_section(&l, "how-to-use", 2);
        assert_eq!(r.cards.len(), 1);
        assert!(
            r.cards[0].title.ends_with("(part 2 of 2)"),
            "{}",
            r.cards[0].title
        );
        for stale in ["a", "supervision", "how-to-use-old"] {
            let r = open_section(&l, stale, 1);
            assert!(r.is_error, "{stale}");
            assert!(r.text.unwrap().contains("`/guide` lists the sections"));
        }
        assert!(open_section(&l, "how-to-use", 3).is_error);
    }

    #[test]
    fn a_framework_without_a_guide_says_so() {
        let text = crate::framework::BUILTIN_SOURCE;
        let cut = text
            .find("\n[[section]]")
            .expect("sections in the built-in file");
        let framework = crate::framework::parse(&text[..cut], "no-guide.toml").unwrap();
        let l = Library::new(framework, crate::search::Thesaurus::builtin().unwrap());
        let answer = super::answer(&l, "", None);
        assert!(matches!(answer, Answer::NoGuide) && !answer.found());
        assert!(guide(&l, "supervision", None).is_error);
        assert!(suggest_sections(&l, "").is_empty());
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
