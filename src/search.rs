//! Keyword search over statements and guidance: a small ranked index built
//! once when the framework loads.
//!
//! Words are lower-cased and stemmed (Snowball English), so `strengths`,
//! `strength` and `strengthening` meet. A query word that is not in the
//! vocabulary is matched to vocabulary words within one or two edits (typos
//! such as `stregnths`) or that it begins (`motiv`). Scores are BM25-like with
//! the statement weighted above the guidance, and documents that hold the
//! query's words side by side (`theories of motivation`) rank first.

use std::collections::HashMap;

use rust_stemmers::{Algorithm, Stemmer};

use crate::framework::{Area, Competence, CompetenceId};
use crate::fuzzy::edit_distance;

/// How many results a search returns by default.
pub const DEFAULT_LIMIT: usize = 5;

/// Longest query, in characters, that search reads; the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 200;

/// At most this many query words are used.
const MAX_QUERY_TERMS: usize = 12;

const WEIGHT_STATEMENT: f32 = 3.0;
const WEIGHT_GUIDANCE: f32 = 1.0;
const WEIGHT_SHARED: f32 = 0.5;
const WEIGHT_AREA: f32 = 0.5;
const SATURATION: f32 = 1.2;
const PHRASE_IN_STATEMENT: f32 = 2.0;
const PHRASE_IN_GUIDANCE: f32 = 1.5;

/// Words too common to rank by.
const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "how", "in",
    "into", "is", "it", "its", "of", "on", "or", "that", "the", "their", "them", "these", "they",
    "this", "to", "was", "were", "what", "when", "which", "who", "with", "within",
];

/// One search result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchHit {
    /// The competence found.
    pub id: CompetenceId,
    /// Its score: higher is better; comparable only within one search.
    pub score: f32,
}

/// The ranked keyword index over one framework's competences.
pub struct SearchIndex {
    stemmer: Stemmer,
    vocabulary: HashMap<String, u32>,
    terms: Vec<String>,
    /// Per term: the documents containing it, with their weighted frequency.
    postings: Vec<Vec<(u32, f32)>>,
    /// Terms by their first byte: typo matching only compares words that
    /// begin alike (or with the first two letters swapped).
    by_first: HashMap<u8, Vec<u32>>,
    /// Terms by their first two bytes, for typos that swap them.
    by_first_two: HashMap<[u8; 2], Vec<u32>>,
    /// Per term: which letters a–z it contains, one bit each. Words within
    /// `d` edits differ in at most `2d` of these bits, so most candidates are
    /// ruled out before any edit distance is computed.
    letters: Vec<u32>,
    docs: Vec<Doc>,
}

struct Doc {
    id: CompetenceId,
    statement: Vec<u32>,
    guidance: Vec<u32>,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("terms", &self.terms.len())
            .field("docs", &self.docs.len())
            .finish()
    }
}

/// A query word resolved to the vocabulary words it stands for.
struct QueryTerm {
    /// `(term id, how well it matches: 1.0 exact, less for typos and prefixes)`.
    matches: Vec<(u32, f32)>,
}

impl SearchIndex {
    /// Builds the index from a framework's competences and areas.
    pub fn build(competences: &[Competence], areas: &[Area]) -> SearchIndex {
        let mut index = SearchIndex {
            stemmer: Stemmer::create(Algorithm::English),
            vocabulary: HashMap::new(),
            terms: Vec::new(),
            postings: Vec::new(),
            by_first: HashMap::new(),
            by_first_two: HashMap::new(),
            letters: Vec::new(),
            docs: Vec::new(),
        };
        let guidance_of: HashMap<CompetenceId, &str> = competences
            .iter()
            .map(|c| (c.id, c.guidance.as_str()))
            .collect();
        for (doc_no, c) in competences.iter().enumerate() {
            let doc_no = doc_no as u32;
            let mut freq: HashMap<u32, f32> = HashMap::new();
            let statement = index.intern_all(&c.statement);
            let guidance = index.intern_all(&c.guidance);
            add(&mut freq, &statement, WEIGHT_STATEMENT);
            add(&mut freq, &guidance, WEIGHT_GUIDANCE);
            if let Some(code) = c.shared_guidance {
                let partner = CompetenceId::new(c.id.domain, code);
                if let Some(text) = guidance_of.get(&partner) {
                    let shared = index.intern_all(text);
                    add(&mut freq, &shared, WEIGHT_SHARED);
                }
            }
            if let Some(area) = areas
                .iter()
                .find(|a| a.domain == c.id.domain && a.number == c.id.code.area)
            {
                let title = index.intern_all(&area.title);
                add(&mut freq, &title, WEIGHT_AREA);
            }
            let mut entries: Vec<(u32, f32)> = freq.into_iter().collect();
            entries.sort_by_key(|&(t, _)| t);
            for (term, f) in entries {
                index.postings[term as usize].push((doc_no, f));
            }
            index.docs.push(Doc {
                id: c.id,
                statement,
                guidance,
            });
        }
        index
    }

    /// The best `limit` competences for `query`, best first. Empty when nothing matches.
    pub fn search(&self, query: &str, limit: usize) -> Vec<SearchHit> {
        let terms = self.query_terms(query);
        if terms.is_empty() || limit == 0 {
            return Vec::new();
        }
        let mut scores = vec![0f32; self.docs.len()];
        let mut matched = vec![0u8; self.docs.len()];
        let n = self.docs.len() as f32;
        for term in &terms {
            let mut best = vec![0f32; self.docs.len()];
            for &(t, quality) in &term.matches {
                let postings = &self.postings[t as usize];
                let df = postings.len() as f32;
                let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
                for &(doc, tf) in postings {
                    let s = idf * quality * tf * (SATURATION + 1.0) / (tf + SATURATION);
                    let slot = &mut best[doc as usize];
                    *slot = slot.max(s);
                }
            }
            for (doc, s) in best.into_iter().enumerate() {
                if s > 0.0 {
                    scores[doc] += s;
                    matched[doc] += 1;
                }
            }
        }
        let wanted = terms.len() as f32;
        let mut hits: Vec<SearchHit> = scores
            .iter()
            .enumerate()
            .filter(|&(_, &s)| s > 0.0)
            .map(|(doc, &s)| {
                let coverage = f32::from(matched[doc]) / wanted;
                let phrase = self.phrase_factor(&self.docs[doc], &terms);
                SearchHit {
                    id: self.docs[doc].id,
                    score: s * (0.5 + coverage) * phrase,
                }
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
        hits.truncate(limit);
        hits
    }

    fn query_terms(&self, query: &str) -> Vec<QueryTerm> {
        let query: String = query.chars().take(MAX_QUERY_CHARS).collect();
        words(&query)
            .filter_map(|w| self.stem(&w))
            .take(MAX_QUERY_TERMS)
            .map(|stem| self.resolve_term(&stem))
            .filter(|t| !t.matches.is_empty())
            .collect()
    }

    /// Exact vocabulary word, else typo-tolerant and prefix matches.
    fn resolve_term(&self, stem: &str) -> QueryTerm {
        if let Some(&t) = self.vocabulary.get(stem) {
            return QueryTerm {
                matches: vec![(t, 1.0)],
            };
        }
        let len = stem.len();
        let max_edits = match len {
            0..=3 => 0,
            4..=7 => 1,
            _ => 2,
        };
        let mut matches = Vec::new();
        let query = stem.as_bytes();
        let query_letters = letter_mask(stem);
        let same_first = query.first().and_then(|b| self.by_first.get(b));
        let swapped = match query {
            [a, b, ..] if a != b => self.by_first_two.get(&[*b, *a]),
            _ => None,
        };
        let candidates = same_first
            .into_iter()
            .chain(swapped)
            .flatten()
            .map(|&t| (t as usize, &self.terms[t as usize]))
            .filter(|(t, term)| {
                term.starts_with(stem)
                    || (term.len().abs_diff(len) <= max_edits
                        && (self.letters[*t] ^ query_letters).count_ones() as usize
                            <= 2 * max_edits)
            });
        for (t, term) in candidates {
            if len >= 4 && term.len() > len && term.starts_with(stem) {
                matches.push((t as u32, 0.6));
            } else if max_edits > 0
                && same_start(query, term.as_bytes())
                && let Some(d) = edit_distance(stem.as_bytes(), term.as_bytes(), max_edits)
            {
                matches.push((t as u32, if d == 1 { 0.8 } else { 0.5 }));
            }
        }
        QueryTerm { matches }
    }

    /// Multiplier for documents that hold the query's words side by side.
    fn phrase_factor(&self, doc: &Doc, terms: &[QueryTerm]) -> f32 {
        if terms.len() < 2 {
            return 1.0;
        }
        if contains_phrase(&doc.statement, terms) {
            PHRASE_IN_STATEMENT
        } else if contains_phrase(&doc.guidance, terms) {
            PHRASE_IN_GUIDANCE
        } else {
            1.0
        }
    }

    fn stem(&self, word: &str) -> Option<String> {
        if word.chars().count() < 2 || STOPWORDS.contains(&word) {
            return None;
        }
        Some(self.stemmer.stem(word).into_owned())
    }

    fn intern_all(&mut self, text: &str) -> Vec<u32> {
        let stems: Vec<String> = words(text).filter_map(|w| self.stem(&w)).collect();
        stems.into_iter().map(|s| self.intern(s)).collect()
    }

    fn intern(&mut self, stem: String) -> u32 {
        if let Some(&t) = self.vocabulary.get(&stem) {
            return t;
        }
        let t = self.terms.len() as u32;
        if let Some(&first) = stem.as_bytes().first() {
            self.by_first.entry(first).or_default().push(t);
        }
        if let [a, b, ..] = stem.as_bytes() {
            self.by_first_two.entry([*a, *b]).or_default().push(t);
        }
        self.letters.push(letter_mask(&stem));
        self.terms.push(stem.clone());
        self.vocabulary.insert(stem, t);
        self.postings.push(Vec::new());
        t
    }
}

/// One bit per letter a–z present in `word`.
fn letter_mask(word: &str) -> u32 {
    word.bytes()
        .filter(u8::is_ascii_lowercase)
        .fold(0, |mask, b| mask | (1 << (b - b'a')))
}

/// Typos rarely hit the first letter: comparing only words that begin alike
/// (or with the first two letters swapped) spares most edit-distance work.
fn same_start(a: &[u8], b: &[u8]) -> bool {
    match (a, b) {
        ([a0, a1, ..], [b0, b1, ..]) => a0 == b0 || (a0 == b1 && a1 == b0),
        _ => false,
    }
}

fn add(freq: &mut HashMap<u32, f32>, terms: &[u32], weight: f32) {
    for &t in terms {
        *freq.entry(t).or_default() += weight;
    }
}

/// Whether `seq` holds a run where each query term in turn matches.
fn contains_phrase(seq: &[u32], terms: &[QueryTerm]) -> bool {
    if seq.len() < terms.len() {
        return false;
    }
    seq.windows(terms.len()).any(|window| {
        window
            .iter()
            .zip(terms)
            .all(|(t, q)| q.matches.iter().any(|&(m, _)| m == *t))
    })
}

/// Lower-cased words: runs of letters and digits; `client’s` gives `client`, `s`.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

#[cfg(test)]
mod tests {
    use crate::framework::Framework;

    fn top(query: &str) -> Vec<String> {
        let f = Framework::builtin().unwrap();
        f.search_index()
            .search(query, 5)
            .into_iter()
            .map(|h| h.id.to_string())
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

    #[test]
    fn results_are_at_most_five_and_ranked() {
        let f = Framework::builtin().unwrap();
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
}
