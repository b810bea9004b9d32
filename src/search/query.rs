//! Querying the index: each unit of the query scored over the documents its
//! terms reach, and the best few ranked.

use super::units::{Query, Token, Unit};
use super::{Doc, Item, MatchedWords, SearchHit, SearchIndex};

const PHRASE_IN_STATEMENT: f32 = 2.0;
const PHRASE_IN_GUIDANCE: f32 = 1.5;
/// A section of the guide beside a competence: its long text holds more of
/// any query's words, so it counts less, and ranks first only when the query
/// is about what the section is about.
const WEIGHT_SECTION: f32 = 0.5;
/// A section whose title the query's words make up ranks up to this much
/// higher again: `what is coaching` finds the definition of coaching.
const TITLE_BONUS: f32 = 2.0;
/// In a sentence, a section whose title it does not name counts this share
/// of what it would among keywords: a section's long text holds some of any
/// sentence's words.
const SECTION_BASE_IN_SENTENCE: f32 = 0.5;
/// In a sentence, how much of the best competence's score another gains,
/// times the likeness of their texts (a cosine, 0 to 1).
const LIKENESS_LIFT: f32 = 2.0;
/// A competence that matched none of a sentence's words stays below the best
/// by at least this share.
const UNMATCHED_BELOW_BEST: f32 = 0.99;
/// A unit's matches other than its best one count this much.
const WEIGHT_OTHER_MATCHES: f32 = 0.25;

/// What a search gathers for one document.
#[derive(Clone, Copy, Default)]
struct Acc {
    score: f32,
    /// The weight of the query's units it matches.
    covered: f32,
    /// How many of the query's words (not phrases) it matches.
    words_held: u8,
    group_best: f32,
    unit_best: f32,
    unit_sum: f32,
    /// The units it matches, one bit each (a query has at most 16).
    units: u16,
}

impl SearchIndex {
    /// The best `limit` competences and sections for `query`, best first. Empty when nothing matches.
    pub fn search(&self, query: &str, limit: usize) -> Vec<SearchHit> {
        if limit == 0 {
            return Vec::new();
        }
        let tokens = self.tokens(query);
        let query = self.units(&tokens);
        if query.units.is_empty() {
            return Vec::new();
        }
        let acc = self.gather(&query.units);
        let mut hits = self.rank(&query, &acc, limit);
        for hit in &mut hits {
            self.note_words(hit, &query, &tokens, &acc);
        }
        hits
    }

    /// Each document's score and coverage over the query's units.
    fn gather(&self, units: &[Unit]) -> Vec<Acc> {
        let mut acc = vec![Acc::default(); self.docs.len()];
        // The documents the current unit, and the current group, have touched:
        // only those are visited, and reset, after each.
        let mut in_unit: Vec<u32> = Vec::with_capacity(self.docs.len());
        let mut in_group: Vec<u32> = Vec::with_capacity(self.docs.len());
        for (u, unit) in units.iter().enumerate() {
            for group in unit.matches.chunk_by(|a, b| a.2 == b.2) {
                for &(t, quality, _) in group {
                    let term = &self.terms[t as usize];
                    // idf, quality and the saturated frequency are all positive.
                    for &(doc, saturated) in &term.postings {
                        let s = term.idf * quality * saturated;
                        let slot = &mut acc[doc as usize].group_best;
                        if *slot == 0.0 {
                            in_group.push(doc);
                        }
                        *slot = slot.max(s);
                    }
                }
                for doc in in_group.drain(..) {
                    let a = &mut acc[doc as usize];
                    if a.unit_sum == 0.0 {
                        in_unit.push(doc);
                    }
                    a.unit_best = a.unit_best.max(a.group_best);
                    a.unit_sum += a.group_best;
                    a.group_best = 0.0;
                }
            }
            for doc in in_unit.drain(..) {
                let a = &mut acc[doc as usize];
                let s = a.unit_best + WEIGHT_OTHER_MATCHES * (a.unit_sum - a.unit_best);
                a.score += unit.weight * s;
                a.covered += unit.weight;
                a.words_held += u8::from(unit.stems.is_some());
                a.units |= 1u16.checked_shl(u as u32).unwrap_or(0);
                a.unit_best = 0.0;
                a.unit_sum = 0.0;
            }
        }
        acc
    }

    /// The best `limit` documents, scored by what they gathered, how much of
    /// the query they cover, and whether they hold its words side by side.
    fn rank(&self, query: &Query, acc: &[Acc], limit: usize) -> Vec<SearchHit> {
        let (units, dropped) = (&query.units, query.dropped);
        let wanted: f32 = units.iter().map(|u| u.weight).sum();
        // A competence's coverage counts only the units that can reach a
        // competence: words found in the guide's sections alone leave how
        // competences rank against each other as it was.
        let wanted_competence: f32 = units
            .iter()
            .filter(|u| {
                u.matches
                    .iter()
                    .any(|&(t, _, _)| self.reaches_competences(t))
            })
            .map(|u| u.weight)
            .sum();
        let words: Vec<&[u32]> = units.iter().filter_map(|u| u.stems.as_deref()).collect();
        // Ids are unique, so this order is total: the best `limit`, kept in order.
        let better = |a: &SearchHit, b: &SearchHit| {
            b.score.total_cmp(&a.score).then(a.item.cmp(&b.item)) == std::cmp::Ordering::Less
        };
        let mut scored: Vec<SearchHit> = Vec::with_capacity(self.docs.len());
        let mut at: Vec<usize> = Vec::with_capacity(self.docs.len());
        for (i, (a, doc)) in acc.iter().zip(&self.docs).enumerate() {
            // In a sentence every competence is kept for now: one that
            // matched none of its words may still be lifted by its likeness
            // to the best (see `lift_by_likeness`).
            if a.score <= 0.0 && !(query.sentence && i < self.competences) {
                continue;
            }
            let coverage = match doc.item {
                Item::Competence(_) => (a.covered / wanted_competence).min(1.0),
                Item::Section(_) => a.covered / wanted,
            };
            // Only a document that holds every word can hold them side by side.
            let phrase = if usize::from(a.words_held) == words.len() {
                phrase_factor(doc, &words)
            } else {
                1.0
            };
            let kind = match doc.item {
                Item::Competence(_) => 1.0,
                Item::Section(_) => {
                    let base = if query.sentence {
                        SECTION_BASE_IN_SENTENCE
                    } else {
                        1.0
                    };
                    WEIGHT_SECTION * (base + TITLE_BONUS * title_share(doc, &words))
                }
            };
            at.push(i);
            scored.push(SearchHit {
                item: doc.item,
                score: a.score * (0.5 + coverage) * phrase * kind,
                whole: !dropped && a.covered >= wanted * 0.999,
                matched_words: MatchedWords::new(),
                query_words: 0,
            });
        }
        if query.sentence {
            self.lift_by_likeness(&mut scored, &at);
        }
        let mut hits: Vec<SearchHit> = Vec::with_capacity(limit.min(self.docs.len()) + 1);
        for hit in scored.into_iter().filter(|h| h.score > 0.0) {
            if hits.len() < limit || hits.last().is_some_and(|worst| better(&hit, worst)) {
                let at = hits.partition_point(|h| better(h, &hit));
                hits.insert(at, hit);
                hits.truncate(limit);
            }
        }
        hits
    }

    /// Notes on `hit` the query's words it went by, and how many there were.
    fn note_words(&self, hit: &mut SearchHit, query: &Query, tokens: &[Token], acc: &[Acc]) {
        let Some(doc) = self.docs.iter().position(|d| d.item == hit.item) else {
            return;
        };
        let held = acc[doc].units;
        let light = |t: &Token| self.thesaurus.incidental.contains(&t.stem);
        let all_light = tokens.iter().all(light);
        let mut words = MatchedWords::new();
        for (i, unit) in query.units.iter().enumerate() {
            if held & 1u16.checked_shl(i as u32).unwrap_or(0) == 0 {
                continue;
            }
            for token in &tokens[unit.words.clone()] {
                if all_light || !light(token) {
                    words.push(&token.written);
                }
            }
        }
        let counted = if all_light {
            tokens.len()
        } else {
            tokens.iter().filter(|t| !light(t)).count()
        };
        let counted = u8::try_from(counted).unwrap_or(u8::MAX);
        hit.matched_words = words;
        hit.query_words = counted;
    }

    /// Whether a term occurs in some competence (postings are in document
    /// order, competences first).
    pub(super) fn reaches_competences(&self, term: u32) -> bool {
        self.terms[term as usize]
            .postings
            .first()
            .is_some_and(|&(doc, _)| (doc as usize) < self.competences)
    }
}

impl SearchIndex {
    /// For a sentence: each competence lifted by the best competence's score
    /// in proportion to how alike their texts are (the cosine of their
    /// weighted words, worked out once when the index is built). A sentence
    /// names one situation, and the competences a supervisor accepts for it
    /// are mostly ones the guide describes in like words; the best match
    /// says which, where a sentence's other words are conversation. A
    /// competence that matched none of the sentence's words can rise this
    /// way, but never above the best, so a first result always went by
    /// some of the member's words.
    fn lift_by_likeness(&self, scored: &mut [SearchHit], at: &[usize]) {
        let n = self.competences;
        let best = scored
            .iter()
            .zip(at)
            .filter(|&(_, &d)| d < n)
            .map(|(h, &d)| (d, h.score))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let Some((best, top)) = best.filter(|&(_, s)| s > 0.0) else {
            return;
        };
        for (hit, &d) in scored.iter_mut().zip(at) {
            if d >= n || d == best {
                continue;
            }
            let lift = LIKENESS_LIFT * self.related[d * n + best] * top;
            hit.score = if hit.score > 0.0 {
                hit.score + lift
            } else {
                lift.min(top * UNMATCHED_BELOW_BEST)
            };
        }
    }
}

/// Multiplier for documents that hold the query's words side by side.
fn phrase_factor(doc: &Doc, words: &[&[u32]]) -> f32 {
    if words.len() < 2 {
        return 1.0;
    }
    if contains_phrase(&doc.statement, words) {
        PHRASE_IN_STATEMENT
    } else if contains_phrase(&doc.guidance, words) {
        PHRASE_IN_GUIDANCE
    } else {
        1.0
    }
}

/// The share of a section's title (its words that are not common ones) that
/// the query's words match: for "The role of supervision", all of it for
/// `role of supervision`, half for `supervision`.
fn title_share(doc: &Doc, words: &[&[u32]]) -> f32 {
    if doc.statement.is_empty() {
        return 0.0;
    }
    let matched = doc
        .statement
        .iter()
        .filter(|t| words.iter().any(|stems| stems.binary_search(t).is_ok()))
        .count();
    matched as f32 / doc.statement.len() as f32
}

/// Whether `seq` holds a run where each query word in turn matches.
fn contains_phrase(seq: &[u32], words: &[&[u32]]) -> bool {
    if seq.len() < words.len() {
        return false;
    }
    seq.windows(words.len()).any(|window| {
        window
            .iter()
            .zip(words)
            .all(|(t, stems)| stems.binary_search(t).is_ok())
    })
}
