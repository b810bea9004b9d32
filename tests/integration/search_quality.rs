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
//! `cargo test --test integration search_quality -- --nocapture` prints the
//! table.

use std::collections::HashSet;

use practice_companion::Library;
use practice_companion::search::Item;
use serde::Deserialize;

const EVAL: &str = include_str!("search_quality.toml");

const AIM: f64 = 0.90;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Eval {
    query: Vec<Case>,
    situation: Vec<Case>,
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
    let typed_mean = typed.iter().map(|s| s.precision).sum::<f64>() / typed.len() as f64;
    let report = format!(
        "{}\nprecision at 3: {mean:.3} over {} queries ({typed_mean:.3} over the {} typed); top result acceptable: {first:.3}",
        table(f, &scored),
        scored.len(),
        typed.len()
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
