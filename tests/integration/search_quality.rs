//! Search quality, measured: the queries practitioners type (half of them
//! part-way through a word, as autocomplete sees them) against the
//! competences a supervisor would accept, from `search_quality.toml`.
//!
//! **Precision at 3.** For each query, the top three results of
//! `SearchIndex::search` are compared with its acceptable competences:
//! precision = (acceptable results among the top three) ÷ min(3, number of
//! acceptable competences). A query with a single right answer scores 1 when
//! that answer is in the top three; a query with five acceptable answers scores
//! 1 only when all three results are among them. A missing result counts as a
//! wrong one. The figure is the mean over all queries, and must be at least
//! 0.90. The top result is also counted: the share of queries whose first
//! result is acceptable (reported, and held at 0.90 too).
//!
//! **Whole sentences.** Two further sets hold sentences a member types
//! mid-discussion ("she can't decide between two job offers"), each with the
//! answers a supervisor would accept, listed before any search was run:
//! `search_sentences_develop.toml`, which search may be tuned on, and
//! `search_sentences_held_out.toml`, written first and kept apart, which
//! reports whether what was tuned generalises. Both figures are held for both.
//! The first kept-apart set was read more than once by the hand that wrote the
//! thesaurus's cues, so a third, `search_sentences_blind.toml`, was written
//! before any search was run by a hand that had not seen the cues: its figures
//! are the honest measure of generalisation. Its table is printed only when
//! its floor fails, so that nobody reads it while tuning. By the time the
//! synonyms were tried again both kept-apart sets had been read for
//! decisions, so a fourth, `search_sentences_blind2.toml`, was written
//! before any search ran on it, with its answers chosen from the guide; it
//! too shows only its figures unless its floor fails.
//!
//! `cargo test --test integration search_quality -- --nocapture` prints the
//! tables.

use std::collections::HashSet;

use practice_companion::Library;
use practice_companion::search::Item;
use serde::Deserialize;

const EVAL: &str = include_str!("search_quality.toml");
const DEVELOP: &str = include_str!("search_sentences_develop.toml");
const HELD_OUT: &str = include_str!("search_sentences_held_out.toml");
const BLIND: &str = include_str!("search_sentences_blind.toml");
const BLIND2: &str = include_str!("search_sentences_blind2.toml");

const AIM: f64 = 0.90;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Eval {
    query: Vec<Case>,
    situation: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sentences {
    sentence: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    text: String,
    #[serde(default)]
    typed: bool,
    accept: Vec<String>,
    #[allow(dead_code, reason = "read by people: the reason for the list")]
    why: String,
}

struct Scored {
    text: String,
    typed: bool,
    top: Vec<Item>,
    accept: HashSet<Item>,
    precision: f64,
}

fn eval() -> Eval {
    toml::from_str::<Eval>(EVAL).expect("search_quality.toml parses")
}

fn cases() -> Vec<Case> {
    eval().query
}

fn sentences(text: &str, name: &str) -> Vec<Case> {
    toml::from_str::<Sentences>(text)
        .unwrap_or_else(|e| panic!("{name} does not parse: {e}"))
        .sentence
}

/// Precision at 3, the same over typed queries only, and the share whose
/// first result is acceptable; with the table, for the report.
fn measure(f: &Library, cases: &[Case]) -> (f64, f64, f64, String) {
    let scored: Vec<Scored> = cases.iter().map(|c| score(f, c)).collect();
    let n = scored.len() as f64;
    let mean = scored.iter().map(|s| s.precision).sum::<f64>() / n;
    let first = scored
        .iter()
        .filter(|s| s.top.first().is_some_and(|id| s.accept.contains(id)))
        .count() as f64
        / n;
    let typed: Vec<&Scored> = scored.iter().filter(|s| s.typed).collect();
    let typed_mean = typed.iter().map(|s| s.precision).sum::<f64>() / typed.len().max(1) as f64;
    let typed_note = if typed.is_empty() {
        String::new()
    } else {
        format!(" ({typed_mean:.3} over the {} typed)", typed.len())
    };
    let report = format!(
        "{}\nprecision at 3: {mean:.3} over {} queries{typed_note}; top result acceptable: {first:.3}",
        table(f, &scored),
        scored.len(),
    );
    (mean, typed_mean, first, report)
}

/// An accepted answer: a competence (`core:3.5`) or a section of the guide
/// (`section:role-of-supervision`).
fn item(f: &Library, case: &Case, s: &str) -> Item {
    if let Some(id) = s.strip_prefix("section:") {
        let at = f
            .sections()
            .iter()
            .position(|section| section.id == id)
            .unwrap_or_else(|| panic!("{:?}: there is no section {id:?}", case.text));
        return Item::Section(at);
    }
    let id = s
        .parse()
        .unwrap_or_else(|e| panic!("{:?}: {s:?} is not an id: {e}", case.text));
    assert!(
        f.competence(id).is_some(),
        "{:?}: {id} is not in the framework",
        case.text
    );
    Item::Competence(id)
}

fn label(f: &Library, item: &Item) -> String {
    match item {
        Item::Competence(id) => id.label(),
        Item::Section(i) => format!("§{}", f.sections()[*i].id),
    }
}

fn score(f: &Library, case: &Case) -> Scored {
    let accept: HashSet<Item> = case.accept.iter().map(|s| item(f, case, s)).collect();
    assert!(!accept.is_empty(), "{:?} accepts nothing", case.text);
    let top: Vec<Item> = f
        .search_index()
        .search(&case.text, 3)
        .into_iter()
        .map(|h| h.item)
        .collect();
    let good = top.iter().filter(|id| accept.contains(id)).count();
    let precision = good as f64 / accept.len().min(3) as f64;
    Scored {
        text: case.text.clone(),
        typed: case.typed,
        top,
        accept,
        precision,
    }
}

fn table(f: &Library, scored: &[Scored]) -> String {
    let mut out = String::new();
    for s in scored {
        let top: Vec<String> = s
            .top
            .iter()
            .map(|id| {
                let mark = if s.accept.contains(id) { "" } else { "✗" };
                format!("{}{mark}", label(f, id))
            })
            .collect();
        out.push_str(&format!(
            "{:.2}  {:<42} {}\n",
            s.precision,
            format!("{:?}{}", s.text, if s.typed { " (typed)" } else { "" }),
            top.join(", ")
        ));
    }
    out
}

#[test]
fn the_evaluation_set_is_large_and_half_typed() {
    let cases = cases();
    assert!(cases.len() >= 40, "{} queries", cases.len());
    let typed = cases.iter().filter(|c| c.typed).count();
    assert!(2 * typed >= cases.len(), "{typed} of {} typed", cases.len());
    let mut seen = HashSet::new();
    for c in &cases {
        assert!(seen.insert(c.text.as_str()), "{:?} appears twice", c.text);
        assert!(!c.why.trim().is_empty(), "{:?} gives no reason", c.text);
    }
}

#[test]
fn top_three_precision_is_at_least_ninety_percent() {
    let f = Library::builtin().expect("framework");
    let (mean, _, first, report) = measure(&f, &cases());
    eprintln!("{report}");
    assert!(mean >= AIM, "precision at 3 is {mean:.3}\n{report}");
    assert!(first >= AIM, "top result acceptable {first:.3}\n{report}");
}

/// Situations described the way practitioners talk about them in a group
/// ("client seems depressed"), listed by a supervisor before any search was
/// run: the first result is acceptable for at least 90% of them.
#[test]
fn situations_in_practitioners_words_find_an_acceptable_answer_first() {
    let f = Library::builtin().expect("framework");
    let situations = eval().situation;
    assert!(situations.len() >= 20, "{} situations", situations.len());
    let typed = situations.iter().filter(|c| c.typed).count();
    assert!(2 * typed >= situations.len(), "{typed} typed");
    let (_, _, first, report) = measure(&f, &situations);
    eprintln!("{report}");
    assert!(first >= AIM, "top result acceptable {first:.3}\n{report}");
}

/// Floors for whole sentences, (top result acceptable, precision at 3).
/// Before search read sentences as sentences they were 0.432 and 0.341 for
/// the set to develop on, 0.444 and 0.333 for the set kept apart; with the
/// thesaurus's cues and sentence reading, 0.841 and 0.629, 0.756 and 0.552.
/// The set written blind read 0.529 and 0.408 then. With each competence
/// lifted by its likeness to the best, conversational words counting half,
/// and unknown words read by their roots: 0.886 and 0.659 to develop on,
/// 0.800 and 0.581 kept apart, 0.588 and 0.412 written blind.
/// Short of the aim (0.9 and 0.8 kept apart): these hold what is reached,
/// rounded down. A third round measured six further methods and kept none
/// (BENCHMARKS.md says which and why), so they stand. The fourth set, written
/// before any search ran on it, read 0.478 and 0.377 at its first measure;
/// a fourth round's synonyms were not kept, so that too is its floor.
const DEVELOP_FLOOR: (f64, f64) = (0.88, 0.65);
const HELD_OUT_FLOOR: (f64, f64) = (0.80, 0.58);
const BLIND_FLOOR: (f64, f64) = (0.58, 0.41);
const BLIND2_FLOOR: (f64, f64) = (0.47, 0.37);

/// The sentences issue #23 saw fail, with the answer each must find first.
#[test]
fn the_sentences_the_issue_saw_fail_find_an_accepted_competence_first() {
    let f = Library::builtin().expect("framework");
    let develop = sentences(DEVELOP, "search_sentences_develop.toml");
    for text in [
        "the client's boss is paying and wants to know what we talk about",
        "she sees herself only as a victim of her manager",
        "my client gets really angry when we talk about work",
        "she can't decide between two job offers",
    ] {
        let case = develop
            .iter()
            .find(|c| c.text == text)
            .unwrap_or_else(|| panic!("{text:?} is in the set to develop on"));
        let scored = score(&f, case);
        assert!(
            scored
                .top
                .first()
                .is_some_and(|id| scored.accept.contains(id)),
            "{text:?}: {}",
            table(&f, &[scored])
        );
    }
}

#[test]
fn the_sentence_sets_are_large_and_kept_apart() {
    let develop = sentences(DEVELOP, "search_sentences_develop.toml");
    let held_out = sentences(HELD_OUT, "search_sentences_held_out.toml");
    let blind = sentences(BLIND, "search_sentences_blind.toml");
    assert!(
        develop.len() >= 40,
        "{} sentences to develop on",
        develop.len()
    );
    assert!(
        held_out.len() >= 40,
        "{} sentences kept apart",
        held_out.len()
    );
    assert!(blind.len() >= 40, "{} sentences written blind", blind.len());
    let blind2 = sentences(BLIND2, "search_sentences_blind2.toml");
    assert!(blind2.len() >= 40, "{} in the fourth set", blind2.len());
    let keywords = eval();
    let mut seen = HashSet::new();
    for c in keywords.query.iter().chain(&keywords.situation) {
        seen.insert(c.text.to_lowercase());
    }
    for c in develop.iter().chain(&held_out).chain(&blind).chain(&blind2) {
        assert!(
            seen.insert(c.text.to_lowercase()),
            "{:?} appears twice among the sets",
            c.text
        );
        assert!(!c.why.trim().is_empty(), "{:?} gives no reason", c.text);
        assert!(!c.typed, "{:?}: sentences are whole", c.text);
        assert!(
            c.text.split_whitespace().count() >= 5,
            "{:?} is not a sentence",
            c.text
        );
    }
}

#[test]
fn sentences_to_develop_on_find_acceptable_answers() {
    let f = Library::builtin().expect("framework");
    let (mean, _, first, report) =
        measure(&f, &sentences(DEVELOP, "search_sentences_develop.toml"));
    eprintln!("sentences to develop on:\n{report}");
    assert!(
        first >= DEVELOP_FLOOR.0,
        "top result acceptable {first:.3}\n{report}"
    );
    assert!(
        mean >= DEVELOP_FLOOR.1,
        "precision at 3 is {mean:.3}\n{report}"
    );
}

/// The kept-apart sentences: never tuned on, so their figures say how search
/// does on sentences it has not seen.
#[test]
fn sentences_kept_apart_find_acceptable_answers() {
    let f = Library::builtin().expect("framework");
    let (mean, _, first, report) =
        measure(&f, &sentences(HELD_OUT, "search_sentences_held_out.toml"));
    eprintln!("sentences kept apart:\n{report}");
    assert!(
        first >= HELD_OUT_FLOOR.0,
        "top result acceptable {first:.3}\n{report}"
    );
    assert!(
        mean >= HELD_OUT_FLOOR.1,
        "precision at 3 is {mean:.3}\n{report}"
    );
}

/// The sentences written blind: before any search was run on them, by a hand
/// that had not seen the thesaurus's cues, and never tuned on. Only the
/// figures are printed; the table is shown when the floor fails.
#[test]
fn sentences_written_blind_find_acceptable_answers() {
    let f = Library::builtin().expect("framework");
    let (mean, _, first, report) = measure(&f, &sentences(BLIND, "search_sentences_blind.toml"));
    let figures = report.lines().last().unwrap_or_default();
    eprintln!("sentences written blind: {figures}");
    assert!(
        first >= BLIND_FLOOR.0,
        "top result acceptable {first:.3}\n{report}"
    );
    assert!(
        mean >= BLIND_FLOOR.1,
        "precision at 3 is {mean:.3}\n{report}"
    );
}

/// The fourth set, written before any search ran on it, with its answers
/// chosen from the guide, never tuned on. Only the figures are printed; the
/// table is shown when the floor fails.
#[test]
fn sentences_written_before_any_search_find_acceptable_answers() {
    let f = Library::builtin().expect("framework");
    let (mean, _, first, report) = measure(&f, &sentences(BLIND2, "search_sentences_blind2.toml"));
    let figures = report.lines().last().unwrap_or_default();
    eprintln!("sentences written before any search: {figures}");
    assert!(
        first >= BLIND2_FLOOR.0,
        "top result acceptable {first:.3}\n{report}"
    );
    assert!(
        mean >= BLIND2_FLOOR.1,
        "precision at 3 is {mean:.3}\n{report}"
    );
}
