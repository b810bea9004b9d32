//! Lookups, search, reference scanning and rendering, each beside its floor:
//! the cheapest thing that could do the same job, measured in the same run.
//!
//! `cargo bench --bench lookup`

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use practice_companion::Library;
use practice_companion::references::find_references;
use practice_companion::render::competence_card;

const CODES: [&str; 3] = ["3.5", "core 2.10", "I3.5"];

fn lookups(c: &mut Criterion) {
    let f = Library::builtin().expect("framework");
    let mut group = c.benchmark_group("code lookup");
    group.bench_function("parse + resolve (3.5, core 2.10, I3.5)", |b| {
        b.iter(|| {
            for q in CODES {
                black_box(f.lookup(black_box(q)).is_ok());
            }
        })
    });
    let floor: HashMap<&str, &str> = CODES
        .iter()
        .zip(f.competences())
        .map(|(k, c)| (*k, c.statement.as_str()))
        .collect();
    group.bench_function("floor: HashMap::get on the same keys", |b| {
        b.iter(|| {
            for q in CODES {
                black_box(floor.get(black_box(q)));
            }
        })
    });
    group.finish();
}

/// Single queries of each kind, the whole evaluation set of
/// `tests/integration/search_quality.toml` (its queries, half typed
/// part-way) and the whole sentences of the three sentence sets, each beside a
/// `str::contains` scan of every text search reads (each competence's
/// statement, guidance and the thesaurus's cues for it, and every guide
/// section) for the same words.
fn search(c: &mut Criterion) {
    let f = Library::builtin().expect("framework");
    // Search reads the competences and the guide's sections: so does the floor.
    let texts: Vec<String> = f
        .competences()
        .iter()
        .map(|c| format!("{} {}", c.statement, c.guidance))
        .chain(
            f.sections()
                .iter()
                .map(|s| format!("{} {}", s.title, s.text)),
        )
        .map(|t| t.to_lowercase())
        .collect();
    // The thesaurus's cues are read as part of their competences.
    let thesaurus: toml::Table =
        toml::from_str(include_str!("../framework/thesaurus.toml")).expect("the thesaurus parses");
    let mut texts = texts;
    for cues in thesaurus["cues"].as_array().expect("[[cues]]") {
        let id = cues["competence"].as_str().expect("competence");
        let at = f
            .competences()
            .iter()
            .position(|c| c.id.to_string() == id)
            .expect("a competence");
        for word in cues["words"].as_array().expect("words") {
            texts[at].push(' ');
            texts[at].push_str(&word.as_str().expect("a word").to_lowercase());
        }
    }
    let n = texts.len();
    let scan = |query: &str| texts.iter().filter(|t| t.contains(query)).count();
    let mut group = c.benchmark_group("keyword search");
    for query in [
        "strengths",
        "stregnths",
        "theories of motivation",
        "motivat",
        "sponso",
        "goal setting",
        "client cries in session",
        "she can't decide between two job offers",
        "my client gets really angry when we talk about work",
    ] {
        group.bench_function(format!("search {query:?}"), |b| {
            b.iter(|| black_box(f.search_index().search(black_box(query), 5)))
        });
        group.bench_function(
            format!("floor: str::contains scan of {n} texts for {query:?}"),
            |b| b.iter(|| black_box(scan(black_box(query)))),
        );
    }
    let eval: toml::Table =
        toml::from_str(include_str!("../tests/integration/search_quality.toml"))
            .expect("the evaluation set parses");
    let queries: Vec<String> = eval["query"]
        .as_array()
        .expect("[[query]]")
        .iter()
        .map(|q| q["text"].as_str().expect("text").to_lowercase())
        .collect();
    group.bench_function(
        format!("search the {} evaluation queries", queries.len()),
        |b| {
            b.iter(|| {
                for q in &queries {
                    black_box(f.search_index().search(black_box(q), 5));
                }
            })
        },
    );
    group.bench_function(
        format!(
            "floor: str::contains scan of {n} texts for the {} evaluation queries",
            queries.len()
        ),
        |b| {
            b.iter(|| {
                for q in &queries {
                    black_box(scan(black_box(q)));
                }
            })
        },
    );
    let mut sentences: Vec<String> = Vec::new();
    for set in [
        include_str!("../tests/integration/search_sentences_develop.toml"),
        include_str!("../tests/integration/search_sentences_held_out.toml"),
        include_str!("../tests/integration/search_sentences_blind.toml"),
    ] {
        let set: toml::Table = toml::from_str(set).expect("a sentence set parses");
        sentences.extend(
            set["sentence"]
                .as_array()
                .expect("[[sentence]]")
                .iter()
                .map(|q| q["text"].as_str().expect("text").to_lowercase()),
        );
    }
    group.bench_function(
        format!("search the {} whole sentences", sentences.len()),
        |b| {
            b.iter(|| {
                for q in &sentences {
                    black_box(f.search_index().search(black_box(q), 5));
                }
            })
        },
    );
    group.bench_function(
        format!(
            "floor: str::contains scan of {n} texts for the {} whole sentences",
            sentences.len()
        ),
        |b| {
            b.iter(|| {
                for q in &sentences {
                    black_box(scan(black_box(q)));
                }
            })
        },
    );
    group.finish();
}

fn references(c: &mut Criterion) {
    let f = Library::builtin().expect("framework");
    let sentence = "We spent most of the session on contracting, then came back to C3.5 and how strengths show up; it took 1.5 hours and cost £3.50 for parking. ";
    let message: String = sentence.chars().cycle().take(2000).collect();
    let floor = regex::Regex::new(r"\d\.\d").expect("regex");
    let mut group = c.benchmark_group("reference scan, 2,000-character message");
    group.bench_function("find_references", |b| {
        b.iter(|| black_box(find_references(&f, black_box(&message))))
    });
    group.bench_function("floor: one Regex::is_match", |b| {
        b.iter(|| black_box(floor.is_match(black_box(&message))))
    });
    group.bench_function(
        "context: Regex::find_iter count (every candidate, no checks)",
        |b| b.iter(|| black_box(floor.find_iter(black_box(&message)).count())),
    );
    group.finish();
    // The common case in a chat: a long message that names no competence.
    let plain: String =
        "We spent most of the session on contracting and on what the sponsor expects; it ran long. "
            .chars()
            .cycle()
            .take(2000)
            .collect();
    let mut group = c.benchmark_group("reference scan, 2,000-character message without a code");
    group.bench_function("find_references", |b| {
        b.iter(|| black_box(find_references(&f, black_box(&plain))))
    });
    group.bench_function("floor: one Regex::is_match", |b| {
        b.iter(|| black_box(floor.is_match(black_box(&plain))))
    });
    group.finish();
}

fn rendering(c: &mut Criterion) {
    let f = Library::builtin().expect("framework");
    let longest = f
        .competences()
        .iter()
        .max_by_key(|c| c.guidance.len())
        .expect("competences");
    let mut group = c.benchmark_group("card for the longest guidance");
    group.bench_function(format!("card as served, cached ({})", longest.id), |b| {
        b.iter(|| black_box(f.card(black_box(longest))))
    });
    group.bench_function(
        format!("render from scratch, once per framework ({})", longest.id),
        |b| b.iter(|| black_box(competence_card(&f, black_box(longest)))),
    );
    group.bench_function("floor: String clone of that guidance", |b| {
        b.iter(|| black_box(black_box(&longest.guidance).clone()))
    });
    group.finish();
}

criterion_group!(benches, lookups, search, references, rendering);
criterion_main!(benches);
