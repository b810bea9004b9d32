//! Property tests: no input panics the parsers, and every competence is found
//! however it is typed.

use std::sync::LazyLock;

use practice_companion::lookup::{Found, query};
use practice_companion::references::find_references;
use practice_companion::render::split_text;
use practice_companion::{DomainId, Library};
use proptest::prelude::*;

static FRAMEWORK: LazyLock<Library> =
    LazyLock::new(|| Library::builtin().expect("the built-in framework loads"));

/// Text with the characters that trouble parsers: digits, dots, prefixes,
/// currency, Markdown, mentions, zero-width and right-to-left marks, NUL.
fn hostile_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "3.5",
        "2.10",
        "C",
        "I",
        "core ",
        "integration ",
        "competence ",
        "area ",
        "meta ",
        ".",
        ",",
        " ",
        "  ",
        "\n",
        "£",
        "v",
        "%",
        "hours",
        "and ",
        "1",
        "0",
        "99",
        "@everyone",
        "**",
        "`",
        "\u{200b}",
        "\u{202e}",
        "\0",
        "é",
        "🙂",
        "\u{301}",
        ":",
        "-",
        "/",
        "#",
    ]);
    prop::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_query_parser_never_panics(s in any::<String>()) {
        let _ = query::parse(&s);
        let _ = FRAMEWORK.lookup(&s);
    }

    #[test]
    fn the_query_parser_never_panics_on_code_like_text(s in hostile_text()) {
        let _ = FRAMEWORK.lookup(&s);
        let _ = FRAMEWORK.search_index().search(&s, 5);
    }

    #[test]
    fn the_reference_scanner_never_panics_and_spans_hold_codes(s in prop_oneof![any::<String>(), hostile_text()]) {
        for r in find_references(&FRAMEWORK, &s) {
            let text = s.get(r.span.clone()).expect("span on char boundaries");
            prop_assert_eq!(text, r.code.to_string());
        }
    }

    #[test]
    fn search_never_panics(s in any::<String>()) {
        let hits = FRAMEWORK.search_index().search(&s, 5);
        prop_assert!(hits.len() <= 5);
    }

    #[test]
    fn every_competence_is_found_however_it_is_typed(
        index in 0usize..60,
        prefix in prop::sample::select(vec!["", "competence ", "Competence  ", "/"]),
        domain_form in 0usize..4,
        upper in any::<bool>(),
        trailing in prop::sample::select(vec!["", ".", "?", "!", " ", ",", ":", ")"]),
    ) {
        let c = &FRAMEWORK.competences()[index];
        let letter = c.id.domain.letter();
        let domain = match domain_form {
            0 => String::new(),
            1 if prefix.is_empty() => format!("{letter}"),
            1 => format!("{letter} "),
            2 => format!("{letter} "),
            _ => format!("{} ", c.id.domain.as_str()),
        };
        let mut typed = format!("{domain}{prefix}{}{trailing}", c.id.code);
        if prefix == "/" { typed = format!("/{domain}{}{trailing}", c.id.code); }
        if upper { typed = typed.to_uppercase(); }
        match FRAMEWORK.lookup(&typed) {
            Ok(Found::Competences(hits)) => {
                let ids: Vec<_> = hits.iter().map(|h| h.id).collect();
                prop_assert!(ids.contains(&c.id), "{typed:?} gave {ids:?}");
                if domain_form > 0 {
                    prop_assert_eq!(ids.len(), 1);
                } else {
                    // No domain named: every domain holding the code, core first.
                    let expected = DomainId::ALL.iter().filter(|d| FRAMEWORK.competence(practice_companion::CompetenceId::new(**d, c.id.code)).is_some()).count();
                    prop_assert_eq!(ids.len(), expected);
                    prop_assert_eq!(ids[0].domain, if expected == 2 { DomainId::Core } else { c.id.domain });
                }
            }
            other => prop_assert!(false, "{typed:?} gave {other:?}"),
        }
    }

    #[test]
    fn the_other_parsers_never_panic(s in prop_oneof![any::<String>(), hostile_text()]) {
        let _ = practice_companion::reflections::parse_tags(&FRAMEWORK, &s);
        let _ = practice_companion::reflections::Mode::parse(&s);
        let _ = practice_companion::schedule::parse_time(&s);
        let _ = practice_companion::schedule::parse_zone(&s);
        let _ = practice_companion::schedule::parse_weekday(&s);
        let _ = practice_companion::schedule::zone_suggestions(&s, 25);
        let _ = practice_companion::discord::reply::custom_id::parse(&s);
        let _ = practice_companion::discord::reply::custom_id::parse_modal(&s);
        let _ = practice_companion::commands::suggest_codes(&FRAMEWORK, &s);
        let _ = practice_companion::reflections::nudge::concerns(&s);
        let _ = practice_companion::framework::DomainId::split_prefix(&s);
    }

    #[test]
    fn the_guide_answers_any_text_within_discords_limits(
        s in prop_oneof![any::<String>(), hostile_text()],
        part in prop::option::of(0usize..5),
    ) {
        use practice_companion::commands::{self, Command, SUGGESTION_CHARS};
        let reply = commands::handle(&FRAMEWORK, &Command::Guide { section: s.clone(), part });
        for card in &reply.cards {
            prop_assert!(card.total_chars() <= practice_companion::render::limits::EMBED_TOTAL);
        }
        prop_assert!(reply.results.len() <= 25);
        for choice in commands::suggest_sections(&FRAMEWORK, &s) {
            prop_assert!(!choice.name.is_empty() && choice.name.chars().count() <= SUGGESTION_CHARS);
        }
        let _ = commands::open_section(&FRAMEWORK, &s, part.unwrap_or(1));
    }

    #[test]
    fn valid_times_always_parse(h in 0u32..24, m in 0u32..60) {
        let t = practice_companion::schedule::parse_time(&format!("{h:02}:{m:02}")).expect("a valid time");
        prop_assert_eq!(t, chrono::NaiveTime::from_hms_opt(h, m, 0).expect("valid"));
    }

    #[test]
    fn split_text_keeps_every_word_within_the_limit(words in prop::collection::vec("[a-zA-Z’.,]{1,12}", 0..200), limit in 12usize..300) {
        let text = words.join(" ");
        let pieces = split_text(&text, limit);
        for p in &pieces {
            prop_assert!(p.chars().count() <= limit);
            prop_assert!(!p.is_empty());
        }
        let rejoined: Vec<&str> = pieces.iter().flat_map(|p| p.split_whitespace()).collect();
        let original: Vec<&str> = text.split_whitespace().collect();
        prop_assert_eq!(rejoined, original);
    }
}
