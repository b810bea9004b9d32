//! Reading a query: its words, the thesaurus's everyday phrases among them,
//! and what each matches in the index (as written, by stem, the words it
//! begins, typo guesses, the framework's phrases for an everyday one).

use super::index::letter_mask;
use super::text::{is_conversational, words};
use super::{MAX_QUERY_CHARS, NONE, SearchIndex};
use crate::fuzzy::edit_distance;

/// At most this many query words are used.
const MAX_QUERY_TERMS: usize = 12;

/// A word as written: for a query word the framework has as typed, every
/// word of its stem.
const QUALITY_WRITTEN: f32 = 1.0;
/// The words of a query word's stem, where the framework has the word itself
/// only in other forms.
const QUALITY_STEM: f32 = 0.9;
/// A word the query word begins: this, plus [`QUALITY_PREFIX_SPAN`] times the
/// share of the word typed.
const QUALITY_PREFIX_FLOOR: f32 = 0.6;
const QUALITY_PREFIX_SPAN: f32 = 0.3;
/// Completions of a word that is itself a word of the framework count this
/// share: the word typed is more likely meant as it stands.
const QUALITY_COMPLETING_A_WORD: f32 = 0.5;
/// Typo guesses, one and two edits away.
const QUALITY_ONE_EDIT: f32 = 0.8;
const QUALITY_TWO_EDITS: f32 = 0.5;
/// The framework's phrases for an everyday phrase, below the user's own words.
const QUALITY_EXPANSION: f32 = 0.7;
/// An incidental word (see the thesaurus) counts this much beside the others.
const WEIGHT_INCIDENTAL: f32 = 0.25;

/// A cue of the thesaurus: practitioners' words for a situation.
const QUALITY_CUE: f32 = 1.0;
/// In a sentence, cues count this many times as much: a sentence describes
/// a situation, in the words the cues are.
const CUE_IN_SENTENCE: f32 = 2.5;

/// A query of this many words (common words aside) is read as a sentence.
const SENTENCE_WORDS: usize = 4;
/// In a sentence, a word no competence has, or matched only by a typo
/// guess, counts this much: it is more likely conversation than the point.
const WEIGHT_ASIDE_IN_SENTENCE: f32 = 0.25;

/// A framework word or cue that an unknown word is made from (`powerless`:
/// `power`), below the word itself.
const QUALITY_ROOT: f32 = 0.7;
/// Prefixes and suffixes an unknown word may be taken apart by, and the
/// shortest root left that is read.
const PREFIXES: &[&str] = &["un", "dis", "mis", "non", "de", "over", "under", "self"];
const SUFFIXES: &[&str] = &["lessness", "less", "fulness", "fully", "ful", "ness"];
const ROOT_MIN_BYTES: usize = 5;

/// In a sentence, a word of ordinary English with no topic of its own
/// (`between`, `only`, `himself`) counts this much.
const WEIGHT_CONVERSATIONAL_IN_SENTENCE: f32 = 0.5;

/// Shortest word completed as a prefix.
const PREFIX_MIN_BYTES: usize = 3;
/// Shortest word completed to a one-word everyday phrase of the thesaurus.
const KEY_PREFIX_MIN_BYTES: usize = 4;

/// A query word as typed.
pub(super) struct Token {
    pub(super) written: String,
    pub(super) stem: String,
    /// The query's last word: perhaps still being typed.
    pub(super) last: bool,
}

/// One part of the query: a word, or an everyday phrase of the thesaurus.
pub(super) struct Unit {
    /// Alternatives, `(term, quality, group)`, sorted by group. A document's
    /// score for the unit is its best group plus a share of the others; within
    /// a group only the best match counts.
    pub(super) matches: Vec<(u32, f32, u16)>,
    pub(super) weight: f32,
    /// For a word: the stems it matched, for the side-by-side bonus.
    pub(super) stems: Option<Vec<u32>>,
    /// Whether its matches are only typo guesses.
    pub(super) guessed: bool,
    /// The query's words it reads, as typed: `tokens[words]`.
    pub(super) words: std::ops::Range<usize>,
}

/// A query read: its units, whether a word was left out because nothing
/// matches it, and whether it is a whole sentence rather than keywords.
pub(super) struct Query {
    pub(super) units: Vec<Unit>,
    pub(super) dropped: bool,
    pub(super) sentence: bool,
}

impl SearchIndex {
    /// The query's words that search reads: no common words, at most
    /// [`MAX_QUERY_TERMS`], the last marked when it ends the query.
    pub(super) fn tokens(&self, query: &str) -> Vec<Token> {
        let end = query
            .char_indices()
            .nth(MAX_QUERY_CHARS)
            .map_or(query.len(), |(i, _)| i);
        let mut all = words(&query[..end]).peekable();
        let mut tokens = Vec::with_capacity(4);
        while let Some(word) = all.next() {
            let last = all.peek().is_none();
            // Words of the framework and the thesaurus have their stems in the
            // index already: Snowball only runs on the others.
            let stem = match self.known_stems.get(&word) {
                Some(stem) => Some(stem.clone()),
                None => self.stem(&word),
            };
            if let Some(stem) = stem {
                tokens.push(Token {
                    written: word,
                    stem,
                    last,
                });
                if tokens.len() == MAX_QUERY_TERMS {
                    break;
                }
            }
        }
        tokens
    }

    /// The query's units: everyday phrases of the thesaurus (longest first), and words.
    /// Also whether a word was left out because nothing matches it.
    pub(super) fn units(&self, tokens: &[Token]) -> Query {
        let mut units = Vec::with_capacity(tokens.len());
        let mut dropped = false;
        let mut i = 0;
        while i < tokens.len() {
            if let Some((mut unit, used)) = self.thesaurus_unit(tokens, i) {
                unit.words = i..i + used;
                units.push(unit);
                i += used;
                continue;
            }
            let mut unit = self.word_unit(&tokens[i]);
            unit.words = i..i + 1;
            if unit.matches.is_empty() {
                dropped = true;
            } else {
                units.push(unit);
            }
            i += 1;
        }
        let sentence = tokens.len() >= SENTENCE_WORDS;
        if sentence {
            for unit in &mut units {
                for m in &mut unit.matches {
                    if self.terms[m.0 as usize].cue {
                        m.1 *= CUE_IN_SENTENCE;
                    }
                }
                let competences = unit
                    .matches
                    .iter()
                    .any(|&(t, _, _)| self.reaches_competences(t));
                if unit.guessed || !competences {
                    unit.weight *= WEIGHT_ASIDE_IN_SENTENCE;
                }
                if unit.words.len() == 1 && is_conversational(&tokens[unit.words.start].written) {
                    unit.weight *= WEIGHT_CONVERSATIONAL_IN_SENTENCE;
                }
            }
        }
        if units.iter().all(|u| u.weight < 1.0) {
            // Only incidental words: they are all there is to rank by.
            units.iter_mut().for_each(|u| u.weight = 1.0);
        }
        Query {
            units,
            dropped,
            sentence,
        }
    }

    /// A query word: as written, by stem, the words it begins, or typo guesses.
    pub(super) fn word_unit(&self, token: &Token) -> Unit {
        let mut matches = Vec::new();
        let written = self.written.get(&token.written).copied();
        let stem = self.stems.get(&token.stem).copied();
        if let Some(t) = stem {
            // A word the framework has as typed counts in full, through its
            // stem; one it has only in other forms (`refer`: `reference`) a
            // little less.
            let quality = if written.is_some() {
                QUALITY_WRITTEN
            } else {
                QUALITY_STEM
            };
            matches.push((t, quality, 0));
        }
        if token.last || (written.is_none() && stem.is_none()) {
            self.push_completions(&token.written, &mut matches);
        }
        // A word no competence has (or has only in the guide's sections) may
        // be another form of one that a competence or a cue has (`powerless`,
        // `demotivated`), or failing that a slip for one.
        let mut guessed = !matches.iter().any(|&(t, _, _)| self.reaches_competences(t));
        let mut derived = false;
        if guessed && !self.cues.contains_key(&token.stem) {
            derived = self.push_roots(&token.written, &mut matches);
        }
        if guessed && !derived {
            self.push_typo_guesses(&token.written, &mut matches);
        }
        guessed &= !derived;
        let before_cue = matches.len();
        self.push_cue(token, &mut matches);
        let guessed = guessed && stem.is_none() && matches.len() == before_cue;
        let mut stems: Vec<u32> = matches
            .iter()
            .map(|&(t, _, _)| self.terms[t as usize].stem)
            .filter(|&s| s != NONE)
            .collect();
        stems.sort_unstable();
        stems.dedup();
        let weight = if self.thesaurus.incidental.contains(&token.stem) {
            WEIGHT_INCIDENTAL
        } else {
            1.0
        };
        Unit {
            matches,
            weight,
            stems: Some(stems),
            guessed,
            words: 0..1,
        }
    }

    /// The cue of the thesaurus with the word's stem, if any, as a group of
    /// its own after the others.
    /// The word being typed is completed to cues' words it begins.
    fn push_cue(&self, token: &Token, matches: &mut Vec<(u32, f32, u16)>) {
        let group = matches.last().map_or(0, |m| m.2.saturating_add(1));
        let whole = self.cues.get(&token.stem).copied();
        if let Some(t) = whole {
            matches.push((t, QUALITY_CUE, group));
        }
        if !token.last || token.written.len() < PREFIX_MIN_BYTES {
            return;
        }
        let prefix = token.written.as_str();
        let start = self.cue_words.partition_point(|(w, _)| &**w < prefix);
        let begun = self.cue_words[start..]
            .iter()
            .take_while(|(w, _)| w.starts_with(prefix));
        for &(ref word, t) in begun {
            if Some(t) != whole && word.len() > prefix.len() {
                let typed = prefix.len() as f32 / word.len() as f32;
                let quality = QUALITY_PREFIX_FLOOR + QUALITY_PREFIX_SPAN * typed;
                matches.push((t, QUALITY_CUE * quality, group));
            }
        }
    }

    /// The written words that `prefix` begins (not `prefix` itself), graded by
    /// how much of each is typed, and halved when `prefix` is a whole word of
    /// the framework already (`self` is more likely meant than `selfhood`).
    fn push_completions(&self, prefix: &str, matches: &mut Vec<(u32, f32, u16)>) {
        if prefix.len() < PREFIX_MIN_BYTES {
            return;
        }
        let whole = if self.written.contains_key(prefix) {
            QUALITY_COMPLETING_A_WORD
        } else {
            1.0
        };
        let start = self
            .sorted
            .partition_point(|&t| &*self.terms[t as usize].text < prefix);
        for &t in &self.sorted[start..] {
            let word = &self.terms[t as usize].text;
            if !word.starts_with(prefix) {
                break;
            }
            if word.len() > prefix.len() {
                let typed = prefix.len() as f32 / word.len() as f32;
                let quality = QUALITY_PREFIX_FLOOR + QUALITY_PREFIX_SPAN * typed;
                matches.push((t, whole * quality, 0));
            }
        }
    }

    /// The framework's stems and the cues that `word`, a word neither has, is
    /// made from: `word` with a prefix (`un`, `dis`, `de`, `over`...) or a
    /// suffix (`less`, `ful`, `ness`) taken off, where what is left is a word
    /// of five letters or more whose stem a competence or a cue has. Whether
    /// any was found.
    fn push_roots(&self, word: &str, matches: &mut Vec<(u32, f32, u16)>) -> bool {
        let mut stems = Vec::new();
        let mut cues = Vec::new();
        let prefixed = PREFIXES.iter().filter_map(|p| word.strip_prefix(p));
        let suffixed = SUFFIXES.iter().filter_map(|s| word.strip_suffix(s));
        for root in prefixed.chain(suffixed) {
            if root.len() < ROOT_MIN_BYTES {
                continue;
            }
            let Some(stem) = self.stem(root) else {
                continue;
            };
            if let Some(&t) = self.stems.get(&stem)
                && self.reaches_competences(t)
            {
                stems.push(t);
            }
            if let Some(&t) = self.cues.get(&stem) {
                cues.push(t);
            }
        }
        let group = matches.last().map_or(0, |m| m.2.saturating_add(1));
        let found = !stems.is_empty() || !cues.is_empty();
        stems.dedup();
        cues.dedup();
        matches.extend(stems.into_iter().map(|t| (t, QUALITY_ROOT, group)));
        let group = group.saturating_add(1);
        matches.extend(
            cues.into_iter()
                .map(|t| (t, QUALITY_CUE * QUALITY_ROOT, group)),
        );
        found
    }

    /// Written words within one edit, or failing that two (for long words),
    /// as their stems.
    fn push_typo_guesses(&self, word: &str, matches: &mut Vec<(u32, f32, u16)>) {
        let len = word.len();
        let query = word.as_bytes();
        let query_letters = letter_mask(word);
        let same_first = query.first().and_then(|b| self.by_first.get(b));
        let swapped = match query {
            [a, b, ..] if a != b => self.by_first_two.get(&[*b, *a]),
            _ => None,
        };
        let mut guesses: Vec<u32> = Vec::new();
        for edits in 1..=max_edits(len) {
            for bucket in same_first.into_iter().chain(swapped) {
                let from =
                    bucket.partition_point(|&t| self.terms[t as usize].text.len() + edits < len);
                for &t in &bucket[from..] {
                    let term = &self.terms[t as usize];
                    if term.text.len() > len + edits {
                        break;
                    }
                    if (term.letters ^ query_letters).count_ones() as usize <= 2 * edits
                        && same_start(query, term.text.as_bytes())
                        && edit_distance(query, term.text.as_bytes(), edits).is_some()
                    {
                        guesses.push(term.stem);
                    }
                }
            }
            if !guesses.is_empty() {
                let quality = if edits == 1 {
                    QUALITY_ONE_EDIT
                } else {
                    QUALITY_TWO_EDITS
                };
                guesses.sort_unstable();
                guesses.dedup();
                matches.extend(guesses.into_iter().map(|t| (t, quality, 0)));
                return;
            }
        }
    }

    /// The everyday phrase of the thesaurus starting at `tokens[i]`, if any, as
    /// a unit, with how many tokens it takes.
    fn thesaurus_unit(&self, tokens: &[Token], i: usize) -> Option<(Unit, usize)> {
        let th = &self.thesaurus;
        if th.keys.is_empty() {
            return None;
        }
        let token = &tokens[i];
        let (mut found, mut used) = self.phrase_keys(tokens, i);
        let mut own = Vec::new();
        if found.is_empty() {
            found = self.keys_for_a_word(token);
            if found.is_empty() {
                return None;
            }
            used = 1;
            if token.last {
                self.push_completions(&token.written, &mut own);
            }
        } else if used == 1 {
            if let Some(&t) = self.written.get(&token.written) {
                own.push((t, QUALITY_WRITTEN, 0));
            }
            if token.last {
                self.push_completions(&token.written, &mut own);
            }
        } else {
            own.extend(
                found
                    .iter()
                    .filter_map(|&k| th.keys[k as usize].phrase)
                    .map(|t| (t, QUALITY_WRITTEN, 0)),
            );
        }
        let mut entries: Vec<u32> = found.iter().map(|&k| th.keys[k as usize].entry).collect();
        entries.sort_unstable();
        entries.dedup();
        let mut matches = own;
        let mut group = 1u16;
        for e in entries {
            for &t in &th.targets[e as usize] {
                matches.push((t, QUALITY_EXPANSION, group));
                group = group.saturating_add(1);
            }
        }
        if used == 1 {
            self.push_cue(token, &mut matches);
        }
        if matches.is_empty() {
            return None;
        }
        Some((
            Unit {
                matches,
                weight: 1.0,
                stems: None,
                guessed: false,
                words: 0..1,
            },
            used,
        ))
    }

    /// The longest everyday phrases whose stems the tokens from `tokens[i]`
    /// spell (the last of them perhaps part-way typed), with their length.
    fn phrase_keys(&self, tokens: &[Token], i: usize) -> (Vec<u32>, usize) {
        let th = &self.thesaurus;
        let mut found: Vec<u32> = Vec::new();
        let mut used = 0;
        for &k in th.by_first.get(&tokens[i].stem).into_iter().flatten() {
            let key = &th.keys[k as usize];
            let n = key.stems.len();
            if n < used || i + n > tokens.len() {
                continue;
            }
            let fits = (1..n).all(|j| {
                let t = &tokens[i + j];
                t.stem == key.stems[j]
                    || (t.last
                        && t.written.len() >= PREFIX_MIN_BYTES
                        && key.written[j].starts_with(&t.written))
            });
            if fits {
                used = n;
                found.push(k);
            }
        }
        found.retain(|&k| th.keys[k as usize].stems.len() == used);
        (found, used)
    }

    /// Everyday phrases a word that spells none may still mean: one-word
    /// phrases it begins while typed; and, where it is no word of the
    /// framework nor begins one (`stren` is `strengths`, not
    /// `strengths-based`; `strenghts` is a slip), phrases whose first word it
    /// begins, or one-word phrases it is a slip for.
    fn keys_for_a_word(&self, token: &Token) -> Vec<u32> {
        let th = &self.thesaurus;
        let mut found = Vec::new();
        let typing = token.last && token.written.len() >= KEY_PREFIX_MIN_BYTES;
        if typing {
            found.extend(keys_begun(&th.single, &token.written));
        }
        if found.is_empty() && self.is_unknown(token) {
            if typing {
                found.extend(keys_begun(&th.firsts, &token.written));
            }
            if found.is_empty() {
                found.extend(self.key_typo_guesses(&token.written));
            }
        }
        found
    }

    /// A word that is no word of the framework, nor the start of one.
    fn is_unknown(&self, token: &Token) -> bool {
        if self.written.contains_key(&token.written) || self.stems.contains_key(&token.stem) {
            return false;
        }
        let start = self
            .sorted
            .partition_point(|&t| *self.terms[t as usize].text < *token.written);
        !self.sorted.get(start).is_some_and(|&t| {
            self.terms[t as usize]
                .text
                .starts_with(token.written.as_str())
        })
    }

    /// One-word everyday phrases within one or two edits of `word` (`sponser`).
    fn key_typo_guesses(&self, word: &str) -> Vec<u32> {
        let max_edits = max_edits(word.len());
        if max_edits == 0 {
            return Vec::new();
        }
        let query = word.as_bytes();
        let letters = letter_mask(word);
        let th = &self.thesaurus;
        th.single
            .iter()
            .zip(&th.single_letters)
            .filter(|&((w, _), mask)| {
                w.len().abs_diff(word.len()) <= max_edits
                    && (mask ^ letters).count_ones() as usize <= 2 * max_edits
                    && same_start(query, w.as_bytes())
                    && edit_distance(query, w.as_bytes(), max_edits).is_some()
            })
            .map(|(&(_, k), _)| k)
            .collect()
    }
}

/// The keys in `sorted` (word as written, key) whose word `prefix` begins.
fn keys_begun<'a>(
    sorted: &'a [(Box<str>, u32)],
    prefix: &'a str,
) -> impl Iterator<Item = u32> + 'a {
    let start = sorted.partition_point(|(w, _)| &**w < prefix);
    sorted[start..]
        .iter()
        .take_while(move |(w, _)| w.starts_with(prefix))
        .map(|&(_, k)| k)
}

/// How many edits a typo guess may be from a word of `len` bytes.
fn max_edits(len: usize) -> usize {
    match len {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Typos rarely hit the first letter: comparing only words that begin alike
/// (or with the first two letters swapped) spares most edit-distance work.
fn same_start(a: &[u8], b: &[u8]) -> bool {
    match (a, b) {
        ([a0, a1, ..], [b0, b1, ..]) => a0 == b0 || (a0 == b1 && a1 == b0),
        _ => false,
    }
}
