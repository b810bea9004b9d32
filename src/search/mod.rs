//! Search over statements and guidance, in keywords or whole sentences: a
//! small ranked index built once when the framework loads.
//!
//! **Words.** Text is split into lower-cased words and common words are
//! dropped. Every word is indexed twice: as written (`motivational`) and by its
//! Snowball English stem (`motiv`), so `strengths` meets `strength`, while a
//! word being typed is completed from the words as written.
//!
//! **What a query word matches**, best first:
//! - the words of its stem: in full (1.0) when the framework has the word as
//!   typed, a little less (0.9) when it has only other forms (`refer`: `reference`);
//! - the words it begins (0.6 to 0.9, more the more of the word is typed),
//!   when it is the last word of the query (the one being typed) or is no word
//!   of the framework (`mot`, `motivat`, `contr`), from three letters;
//! - only when neither finds anything: words within one or two edits
//!   (`stregnths`), at 0.8 and 0.5, so a typo guess never stands beside a
//!   real match.
//!
//! **The thesaurus** ([`Thesaurus`], `framework/thesaurus.toml`) maps the
//! words practitioners use (`sponsor`, `goal setting`, `endings`) to the
//! framework's own phrases. Query words that form one of its everyday phrases
//! are read as one unit, which a document matches by the phrase as typed
//! (unstemmed for one word, so `endings` is not `end`; side by side for
//! several, so `goal setting` is not `organisational settings`), or, at 0.7,
//! by the framework's phrases for the same idea.
//!
//! **Scores** are BM25-like with the statement weighted above the guidance.
//! Within one unit of the query a document's best match counts, with a
//! quarter of its other matches added; documents that hold more of the
//! query's units rank higher; words the thesaurus calls incidental
//! (`session`, `client`) count a quarter as much as the others; and
//! documents that hold the query's words side by side (`theories of
//! motivation`) rank first.
//!
//! **Whole sentences.** A member mid-discussion types what happened ("she
//! can't decide between two job offers"), in words the guide seldom uses. The
//! thesaurus's cues list, per competence, the words of the situations it is
//! called for in (`decide`, `options`, `offers` for 4.4); they are terms of
//! their own in the competence (weighted like its guidance, no rarer than the
//! same word in the guide, never guessed at; the word being typed is
//! completed to them). A query of four or more words (common ones aside) is
//! read as a sentence: conversational words (`really`, `know`, `work`, the
//! thesaurus's incidental list) count a quarter, and words of ordinary
//! English with no topic (`between`, `only`, `himself`) half; cues count 2.5
//! times as much, a word no competence has or a typo guess counts a quarter,
//! a section whose title the sentence does not name counts half, and each
//! competence gains twice the best competence's score times the likeness of
//! their texts (the cosine of their weighted words, worked out when the
//! index is built), never rising above the best without a word of its own.
//! A word that neither the guide nor a cue has is read by its root where a
//! prefix or suffix comes off to leave one (`powerless`: `power`, at 0.7),
//! before any typo guess. Every result carries the
//! query's words it went by ([`SearchHit::matched_words`]), so a reply can say
//! so when it is a guess from one word.

mod fxhash;
mod index;
mod query;
mod text;
mod thesaurus;
mod units;

pub use text::is_common_word;
pub use thesaurus::{BUILTIN_THESAURUS, BUILTIN_THESAURUS_NAME, Thesaurus};

use std::collections::HashSet;
use std::hash::BuildHasherDefault;

use rust_stemmers::Stemmer;

use crate::framework::CompetenceId;
use fxhash::{FastMap, FxHasher};

/// How many results a search returns by default.
pub const DEFAULT_LIMIT: usize = 5;

/// Longest query, in characters, that search reads; the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 200;

/// What a search finds: a competence, or one of the guide's narrative sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Item {
    /// A competence, by its id.
    Competence(CompetenceId),
    /// A section of the guide, by its position in `Framework::sections`.
    Section(usize),
}

/// One search result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchHit {
    /// The competence or section found.
    pub item: Item,
    /// Its score: higher is better; comparable only within one search.
    pub score: f32,
    /// Whether it matches every word (or everyday phrase) of the query.
    pub whole: bool,
    /// The words of the query it went by, as typed (lower-cased), in the
    /// query's order: the words it matched, leaving out conversational ones
    /// (`session`, `really`) unless they are all it matched.
    pub matched_words: MatchedWords,
    /// How many of the query's words search read (common words such as
    /// `the` dropped), the conversational ones aside unless they are all
    /// there is: the words a result could have gone by.
    pub query_words: u8,
}

impl SearchHit {
    /// The competence found, if the result is a competence.
    pub fn competence(&self) -> Option<CompetenceId> {
        match self.item {
            Item::Competence(id) => Some(id),
            Item::Section(_) => None,
        }
    }

    /// Whether the result is a guess from one word: the query had several
    /// words search reads, and this result went by one of them (or none but
    /// conversational ones). A reply should then say which words it went by
    /// ([`SearchHit::matched_words`]), so the member can rephrase.
    pub fn is_guess_from_one_word(&self) -> bool {
        self.query_words >= 2 && self.matched_words.len() <= 1
    }
}

/// Words of a query, held inline so that [`SearchHit`] stays `Copy`: up to
/// [`MatchedWords::CAPACITY`] bytes of words; a word that does not fit is left out.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MatchedWords {
    bytes: [u8; MatchedWords::CAPACITY],
    len: u8,
}

impl MatchedWords {
    /// Room for the words, in bytes, spaces between them included.
    pub const CAPACITY: usize = 62;

    /// No words.
    pub const fn new() -> MatchedWords {
        MatchedWords {
            bytes: [0; MatchedWords::CAPACITY],
            len: 0,
        }
    }

    /// The words, in the query's order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        // Only whole words (UTF-8 strings) are ever pushed.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)])
            .unwrap_or_default()
            .split(' ')
            .filter(|w| !w.is_empty())
    }

    /// How many words.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds `word` (no spaces) when it fits and is not there already.
    fn push(&mut self, word: &str) {
        let at = usize::from(self.len);
        let sep = usize::from(at > 0);
        if word.is_empty()
            || at + sep + word.len() > Self::CAPACITY
            || self.iter().any(|w| w == word)
        {
            return;
        }
        if sep == 1 {
            self.bytes[at] = b' ';
        }
        self.bytes[at + sep..at + sep + word.len()].copy_from_slice(word.as_bytes());
        self.len = (at + sep + word.len()) as u8;
    }
}

impl Default for MatchedWords {
    fn default() -> Self {
        MatchedWords::new()
    }
}

impl std::fmt::Debug for MatchedWords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The ranked keyword index over one framework's competences.
pub struct SearchIndex {
    stemmer: Stemmer,
    /// Stem → its term.
    stems: FastMap<String, u32>,
    /// Word as written → its term.
    written: FastMap<String, u32>,
    /// The written words' terms in text order: the words a prefix begins are one run.
    sorted: Vec<u32>,
    /// Stems, written words and phrases, each with its postings.
    terms: Vec<Term>,
    /// Every word of the framework and the thesaurus as written → its stem.
    known_stems: FastMap<String, String>,
    /// Written words by their first byte, shortest first: typo matching only
    /// compares words that begin alike and are about as long.
    by_first: FastMap<u8, Vec<u32>>,
    /// A cue's stem → its term. Cues are terms of their own, apart from the
    /// framework's words: they are not completed or guessed at, and count
    /// more in a sentence than among keywords.
    cues: FastMap<String, u32>,
    /// The cues' words as written, sorted, with their terms: the word being
    /// typed is completed to them too.
    cue_words: Vec<(Box<str>, u32)>,
    /// Written words by their first two bytes, for typos that swap them.
    by_first_two: FastMap<[u8; 2], Vec<u32>>,
    docs: Vec<Doc>,
    /// How many of `docs` are competences: they come first, the guide's
    /// sections after.
    competences: usize,
    /// How alike each two competences' texts are (cosine of their weighted
    /// words), `competences × competences`.
    related: Vec<f32>,
    thesaurus: Expansions,
}

/// A stem, a word as written, or a phrase (a run of stems).
struct Term {
    text: Box<str>,
    /// For a written word, its stem's term; for a stem, itself; else `NONE`.
    stem: u32,
    /// Which letters a–z a written word contains, one bit each. Words within
    /// `d` edits differ in at most `2d` of these bits, so most typo candidates
    /// are ruled out before any edit distance is computed.
    letters: u32,
    /// The documents holding the term, with its weighted frequency there
    /// (saturated, BM25's `tf·(k+1)/(tf+k)`, once the index is built).
    postings: Vec<(u32, f32)>,
    idf: f32,
    /// Whether the term is a cue of the thesaurus (see [`Thesaurus`]) rather
    /// than a word of the framework.
    cue: bool,
}

const NONE: u32 = u32::MAX;

struct Doc {
    item: Item,
    /// Stems of the statement and guidance (a section's title and text), in
    /// order (for side-by-side matches).
    statement: Vec<u32>,
    guidance: Vec<u32>,
    /// The document whose guidance this one shares.
    shared: Option<usize>,
    /// The area title's stems (for a section, the heading it sits under).
    area: Vec<u32>,
}

/// The thesaurus, resolved against this index.
#[derive(Default)]
struct Expansions {
    keys: Vec<Key>,
    /// Keys by their first stem, longest first.
    by_first: FastMap<String, Vec<u32>>,
    /// One-word keys as written, sorted, for the word being typed.
    single: Vec<(Box<str>, u32)>,
    /// The letters of each of `single`, as [`letter_mask`] gives them.
    single_letters: Vec<u32>,
    /// Keys of several words by their first word as written, sorted: a word
    /// being typed that neither is nor begins a word of the framework
    /// (`chemis`) may begin one.
    firsts: Vec<(Box<str>, u32)>,
    /// Per entry: its framework phrases that occur here, as terms.
    targets: Vec<Vec<u32>>,
    /// Stems of the incidental words.
    incidental: HashSet<String, BuildHasherDefault<FxHasher>>,
}

/// One everyday phrase of the thesaurus.
struct Key {
    stems: Vec<String>,
    written: Vec<String>,
    entry: u32,
    /// For a phrase of several words: its term, where it occurs.
    phrase: Option<u32>,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("terms", &self.terms.len())
            .field("docs", &self.docs.len())
            .field("thesaurus_keys", &self.thesaurus.keys.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::{Item, SearchHit};
    use crate::framework::Framework;

    fn label(hit: &SearchHit) -> String {
        match hit.item {
            Item::Competence(id) => id.to_string(),
            Item::Section(i) => format!("section {i}"),
        }
    }

    fn top(query: &str) -> Vec<String> {
        let f = crate::Library::builtin().unwrap();
        f.search_index()
            .search(query, 5)
            .into_iter()
            .map(|h| label(&h))
            .collect()
    }

    #[test]
    fn search_cases() {
        // (query, the competence that must come first)
        let cases = [
            ("strengths", "core:3.5"),
            ("stregnths", "core:3.5"),
            ("theories of motivation", "core:4.2"),
            ("motivation theory", "core:4.2"),
            ("multi-party contracting", "core:1.6"),
            ("three party contract", "core:1.6"),
            ("avoidance collusion", "integration:3.4"),
            ("colusion", "integration:3.4"),
            ("ethical framework", "integration:3.5"),
            ("360 feedback", "core:3.8"),
            ("types of goals", "core:4.1"),
            ("suicide risk", "core:2.9"),
        ];
        for (query, first) in cases {
            let got = top(query);
            assert_eq!(
                got.first().map(String::as_str),
                Some(first),
                "{query}: {got:?}"
            );
        }
    }

    /// The top three without the thesaurus: what the index alone does.
    fn top_plain(query: &str) -> Vec<String> {
        super::SearchIndex::build(&Framework::builtin().unwrap(), &super::Thesaurus::default())
            .search(query, 3)
            .into_iter()
            .map(|h| label(&h))
            .collect()
    }

    #[test]
    fn a_word_being_typed_is_completed_from_the_words_as_written() {
        // The stem of `motivat` is not a prefix of `motiv`, the stem of
        // `motivation`: completion reads the words as written.
        for typed in ["mot", "moti", "motivat", "motivati"] {
            assert_eq!(top_plain(typed)[0], "core:4.2", "{typed}");
        }
        // `refer` is the stem of `reference` and `refers`, but the statements
        // that say `referral` come first, without the thesaurus's help.
        let refer = top_plain("refer");
        for id in &refer {
            assert!(
                ["core:1.4", "integration:2.4", "integration:2.6"].contains(&id.as_str()),
                "{refer:?}"
            );
        }
        // Earlier words are completed too when the framework lacks them.
        assert_eq!(top_plain("motivat theories")[0], "core:4.2");
        // A whole word is not pushed aside by longer words it begins.
        assert_eq!(top_plain("self")[0], "core:3.1");
    }

    #[test]
    fn typo_guesses_only_where_nothing_real_matches() {
        assert_eq!(top_plain("stregnths")[0], "core:3.5");
        assert_eq!(top_plain("motivaton")[0], "core:4.2");
        // `prefer` is one edit from `refer`, but `refer` begins real words.
        let f = crate::Library::builtin().unwrap();
        let index = f.search_index();
        let tokens = index.tokens("refer");
        let unit = index.word_unit(&tokens[0]);
        assert!(index.stems.contains_key("prefer"));
        let matched: Vec<&str> = unit
            .matches
            .iter()
            .map(|&(t, _, _)| &*index.terms[t as usize].text)
            .collect();
        assert!(!matched.is_empty());
        assert!(
            matched.iter().all(|w| w.starts_with("refer")),
            "{matched:?}"
        );
    }

    #[test]
    fn everyday_phrases_are_not_won_by_incidental_words() {
        // `settings` (1.6, 2.6, 3.7) and `this end` (2.5) are not what is meant.
        for (query, not) in [
            (
                "goal setting",
                ["core:1.6", "core:2.6", "core:3.7"].as_slice(),
            ),
            ("goal sett", &["core:1.6", "core:2.6", "core:3.7"]),
            ("endings", &["core:2.5"]),
            ("endin", &["core:2.5"]),
        ] {
            let got = top(query);
            assert!(
                got.iter().take(3).all(|id| !not.contains(&id.as_str())),
                "{query}: {got:?}"
            );
        }
        assert_eq!(
            top("goal setting")[..3]
                .iter()
                .filter(|id| id.starts_with("core:4."))
                .count(),
            3
        );
        assert_eq!(top("endings")[0], "core:2.10");
        // `session` is incidental: 2.1's `individual sessions` does not lead.
        assert_ne!(top("client cries in session")[0], "core:2.1");
        assert!(top("client cries in session")[..3].contains(&"core:3.9".to_string()));
        // Alone, an incidental word is still searched.
        assert_eq!(top("session")[0], "core:2.1");
    }

    #[test]
    fn everyday_words_reach_the_framework_through_the_thesaurus() {
        assert!(top_plain("sponsor").is_empty());
        assert_eq!(top("sponsor")[0], "core:1.6");
        assert_eq!(top("sponso")[0], "core:1.6");
        assert_eq!(top("sponser")[0], "core:1.6", "a slip in an everyday word");
        assert_eq!(top("safeguarding")[0], "core:2.9");
        // The first word of an everyday phrase, part-way typed (`chemistry session`),
        // but not where the word begins a word of the framework (`strengths-based`).
        assert_eq!(top("chemis")[0], "core:1.4");
        assert_eq!(top("stren")[..3], top_plain("stren"));
        let therapy = top("is it coaching or therapy");
        assert!(
            therapy[..3].contains(&"core:1.2".to_string()),
            "{therapy:?}"
        );
        assert_ne!(therapy[0], "core:2.9");
    }

    #[test]
    fn results_are_at_most_five_and_ranked() {
        let f = crate::Library::builtin().unwrap();
        let hits = f.search_index().search("client", 5);
        assert_eq!(hits.len(), 5);
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    }

    #[test]
    fn nonsense_finds_nothing() {
        assert!(top("xqzv").is_empty());
        assert!(top("").is_empty());
        assert!(top("the of and").is_empty());
    }

    fn first_hit(query: &str) -> SearchHit {
        let f = crate::Library::builtin().unwrap();
        f.search_index().search(query, 5)[0]
    }

    #[test]
    fn a_result_says_which_words_of_a_sentence_it_went_by() {
        let words = |hit: &SearchHit| {
            hit.matched_words
                .iter()
                .map(String::from)
                .collect::<Vec<_>>()
        };
        // A sentence: the words it went by, as typed, in order.
        let hit = first_hit("she can't decide between two job offers");
        assert_eq!(label(&hit), "core:4.4");
        assert!(words(&hit).contains(&"decide".to_string()), "{hit:?}");
        assert!(!hit.is_guess_from_one_word(), "{hit:?}");
        // One word of four: a guess, and it says which.
        let hit = first_hit("the photocopier broke during our supervision");
        assert_eq!(words(&hit), ["supervision"]);
        assert_eq!(hit.query_words, 4);
        assert!(hit.is_guess_from_one_word());
        // Conversational words are not what a result went by, nor counted.
        let hit = first_hit("my client gets really angry when we talk about work");
        assert_eq!(label(&hit), "core:3.9");
        assert_eq!(
            (words(&hit), hit.query_words),
            (vec!["angry".to_string()], 1)
        );
        assert!(!hit.is_guess_from_one_word());
        // Unless they are all there is.
        let hit = first_hit("client session");
        assert_eq!(
            (words(&hit), hit.query_words),
            (vec!["session".to_string()], 2)
        );
        // A keyword is no guess.
        assert!(!first_hit("sponsor").is_guess_from_one_word());
        assert_eq!(words(&first_hit("goal setting")), ["goal", "setting"]);
    }

    #[test]
    fn the_last_word_of_a_sentence_is_completed_as_it_is_typed() {
        assert_eq!(top("she can't decide between two job off")[0], "core:4.4");
        assert_eq!(top("my client gets really ang")[0], "core:3.9");
        assert_eq!(top("the sponsor wants a progress rep")[0], "core:1.6");
    }

    #[test]
    fn a_word_neither_the_guide_nor_a_cue_has_is_read_by_its_root() {
        // `powerless` is `power` (2.4), `unmotivated` is `motivated` (4.2).
        assert_eq!(top("powerless")[0], "core:2.4");
        assert_eq!(top("unmotivated")[0], "core:4.2");
        // A word of the guide is read as it stands, not taken apart:
        // `understanding` is not `standing`.
        let f = crate::Library::builtin().unwrap();
        let index = f.search_index();
        let tokens = index.tokens("understanding");
        let unit = index.word_unit(&tokens[0]);
        assert!(
            unit.matches
                .iter()
                .all(|&(t, _, _)| index.terms[t as usize].text.starts_with("understand")),
            "{:?}",
            unit.matches
        );
        // Nor is a root shorter than five letters read: `unfit` leaves `fit`.
        assert!(top("unfit").is_empty());
    }

    #[test]
    fn competences_are_alike_where_the_guide_describes_them_alike() {
        let f = crate::Library::builtin().unwrap();
        let index = f.search_index();
        let n = index.competences;
        let at = |code: &str| {
            let id: crate::framework::CompetenceId = code.parse().unwrap();
            f.competences().iter().position(|c| c.id == id).unwrap()
        };
        let like = |a: &str, b: &str| index.related[at(a) * n + at(b)];
        for a in 0..n {
            assert_eq!(index.related[a * n + a], 0.0);
            for b in 0..n {
                let r = index.related[a * n + b];
                assert!((0.0..=1.0).contains(&r), "{a} {b} {r}");
                assert_eq!(r, index.related[b * n + a]);
            }
        }
        // 4.4 and 4.5 share their guidance; 1.6 is about contracts.
        assert!(like("core:4.4", "core:4.5") > 2.0 * like("core:4.4", "core:1.6"));
        // 3.1 and 3.2 (perspectives, framings) more than 3.1 and 2.10 (ending).
        assert!(like("core:3.1", "core:3.2") > like("core:3.1", "core:2.10"));
    }

    #[test]
    fn the_first_result_of_a_sentence_went_by_some_of_its_words() {
        // Competences alike to the best may rise in a sentence without a word
        // of their own, but never to first place.
        for sentence in [
            "she can't decide between two job offers",
            "my client gets really angry when we talk about work",
            "he feels completely powerless whenever his director is around",
            "the photocopier broke during our supervision",
        ] {
            let hit = first_hit(sentence);
            assert!(!hit.matched_words.is_empty(), "{sentence}: {hit:?}");
        }
    }

    #[test]
    fn matched_words_hold_what_fits() {
        let mut m = super::MatchedWords::new();
        assert!(m.is_empty());
        m.push("alpha");
        m.push("alpha");
        m.push(&"x".repeat(super::MatchedWords::CAPACITY));
        m.push("beta");
        assert_eq!(m.iter().collect::<Vec<_>>(), ["alpha", "beta"]);
        assert_eq!(m.len(), 2);
    }
}
