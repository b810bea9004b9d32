//! The confidentiality check, measured: `reflections::nudge::concerns`
//! against the labelled sentences of `nudge_set.toml`, written in
//! practitioners' words with what a careful supervisor would want flagged.
//!
//! **Per sentence.** A sentence labelled with kinds of identifying detail is
//! *caught* when the check raises any concern for it; a sentence labelled
//! with none is *wrongly flagged* when it raises one. Recall is the caught
//! share of the labelled sentences; precision is the share of the flagged
//! sentences that are labelled. Both are measured on the development part and,
//! apart, on the held-out part, which the check is never tuned on. Beside
//! them, *kinds right* is the share of labelled sentences for which every
//! labelled kind is raised (a name in a sentence also flagged for an employer
//! still counts as missed there).
//!
//! The aim is recall 0.95 and precision 0.90: over the whole set it is met
//! (0.962 and 1.000) and held. Read per part, the development
//! part meets it and is held to it; the held-out part meets the precision
//! aim but not the recall one (0.909, 40 of 44, when the check was
//! finished), and is held at that floor so it cannot fall unnoticed.
//!
//! `cargo test --test integration nudge_quality -- --nocapture` prints the
//! figures, and the development part's misses. The held-out part's misses
//! are counted, not listed: reading them is how a held-out set stops being
//! one.

use std::collections::HashSet;

use practice_companion::reflections::nudge::{Concern, concerns};
use serde::Deserialize;

const SET: &str = include_str!("nudge_set.toml");

const RECALL: f64 = 0.95;
const PRECISION: f64 = 0.90;
/// The held-out part's recall when the check was finished, short of
/// [`RECALL`]. Raise it with a check that generalises better, never by
/// reading the held-out sentences it misses.
const HELD_OUT_RECALL_FLOOR: f64 = 0.90;

/// The kinds a sentence may be labelled with (see the file's header).
const KINDS: &[&str] = &[
    "name",
    "address",
    "postcode",
    "organisation",
    "birthdate",
    "email",
    "phone",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Set {
    sentence: Vec<Sentence>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sentence {
    text: String,
    kinds: Vec<String>,
    #[allow(dead_code, reason = "read by people: why a label may surprise")]
    note: Option<String>,
    #[serde(default)]
    held_out: bool,
}

fn set() -> Vec<Sentence> {
    toml::from_str::<Set>(SET)
        .expect("nudge_set.toml parses")
        .sentence
}

/// The label a concern answers to.
fn kind(c: Concern) -> &'static str {
    match c {
        Concern::Email => "email",
        Concern::Phone => "phone",
        Concern::BirthDate => "birthdate",
        Concern::Postcode => "postcode",
        Concern::Address => "address",
        Concern::Name => "name",
        Concern::Organisation => "organisation",
    }
}

struct Figures {
    sentences: usize,
    labelled: usize,
    flagged: usize,
    caught: usize,
    kinds_right: usize,
    /// Labelled sentences the check let pass.
    missed: Vec<String>,
    /// Unlabelled sentences it flagged, with what it raised.
    wrongly_flagged: Vec<(String, Vec<&'static str>)>,
    /// Caught sentences where a labelled kind was not raised, with the kinds
    /// missing.
    kinds_missed: Vec<(String, Vec<String>)>,
}

impl Figures {
    fn precision(&self) -> f64 {
        if self.flagged == 0 {
            1.0
        } else {
            self.caught as f64 / self.flagged as f64
        }
    }

    fn recall(&self) -> f64 {
        self.caught as f64 / self.labelled as f64
    }

    fn line(&self, part: &str) -> String {
        format!(
            "{part:<12} {:>3} sentences ({:>3} labelled): precision {:.3} ({}/{}), recall {:.3} ({}/{}), kinds right {:.3}",
            self.sentences,
            self.labelled,
            self.precision(),
            self.caught,
            self.flagged,
            self.recall(),
            self.caught,
            self.labelled,
            self.kinds_right as f64 / self.labelled as f64,
        )
    }
}

fn measure<'a>(part: impl Iterator<Item = &'a Sentence>) -> Figures {
    let mut f = Figures {
        sentences: 0,
        labelled: 0,
        flagged: 0,
        caught: 0,
        kinds_right: 0,
        missed: Vec::new(),
        wrongly_flagged: Vec::new(),
        kinds_missed: Vec::new(),
    };
    for s in part {
        let raised: Vec<&'static str> = concerns(&s.text).into_iter().map(kind).collect();
        f.sentences += 1;
        let labelled = !s.kinds.is_empty();
        f.labelled += usize::from(labelled);
        f.flagged += usize::from(!raised.is_empty());
        match (labelled, raised.is_empty()) {
            (true, false) => {
                f.caught += 1;
                let missing: Vec<String> = s
                    .kinds
                    .iter()
                    .filter(|k| !raised.contains(&k.as_str()))
                    .cloned()
                    .collect();
                if missing.is_empty() {
                    f.kinds_right += 1;
                } else {
                    f.kinds_missed.push((s.text.clone(), missing));
                }
            }
            (true, true) => f.missed.push(s.text.clone()),
            (false, false) => f.wrongly_flagged.push((s.text.clone(), raised)),
            (false, true) => {}
        }
    }
    f
}

#[test]
fn the_set_is_large_balanced_and_well_formed() {
    let set = set();
    let held_out = set.iter().filter(|s| s.held_out).count();
    assert!(set.len() >= 200, "{} sentences", set.len());
    assert!(held_out >= 50, "{held_out} held out");
    assert!(held_out * 4 >= set.len(), "a quarter is held out");
    for part in [false, true] {
        let (labelled, clean) = set
            .iter()
            .filter(|s| s.held_out == part)
            .partition::<Vec<&Sentence>, _>(|s| !s.kinds.is_empty());
        assert!(
            labelled.len() * 3 >= clean.len() && clean.len() * 3 >= labelled.len(),
            "both labels well represented (held out: {part}): {} and {}",
            labelled.len(),
            clean.len()
        );
    }
    let mut seen = HashSet::new();
    for s in &set {
        assert!(seen.insert(s.text.as_str()), "{:?} twice", s.text);
        for k in &s.kinds {
            assert!(KINDS.contains(&k.as_str()), "unknown kind {k:?}");
        }
    }
}

#[test]
fn the_check_catches_and_spares_on_both_parts() {
    let set = set();
    let dev = measure(set.iter().filter(|s| !s.held_out));
    let held = measure(set.iter().filter(|s| s.held_out));
    println!("{}", dev.line("development"));
    println!("{}", held.line("held out"));
    for text in &dev.missed {
        println!("  missed           {text:?}");
    }
    for (text, raised) in &dev.wrongly_flagged {
        println!("  wrongly flagged  {text:?} as {}", raised.join(", "));
    }
    for (text, missing) in &dev.kinds_missed {
        println!("  kind not raised  {text:?}: {}", missing.join(", "));
    }
    println!(
        "held out: {} missed, {} wrongly flagged, {} with a kind not raised (not listed)",
        held.missed.len(),
        held.wrongly_flagged.len(),
        held.kinds_missed.len()
    );
    if held.recall() < RECALL {
        println!("held out: recall below the aim of {RECALL}");
    }
    assert!(dev.recall() >= RECALL, "{}", dev.line("development"));
    assert!(dev.precision() >= PRECISION, "{}", dev.line("development"));
    assert!(
        held.recall() >= HELD_OUT_RECALL_FLOOR,
        "{}",
        held.line("held out")
    );
    assert!(held.precision() >= PRECISION, "{}", held.line("held out"));
    // The whole labelled set, as the aim was first stated.
    let whole = measure(set.iter());
    println!("{}", whole.line("whole set"));
    assert!(whole.recall() >= RECALL, "{}", whole.line("whole set"));
    assert!(
        whole.precision() >= PRECISION,
        "{}",
        whole.line("whole set")
    );
}
