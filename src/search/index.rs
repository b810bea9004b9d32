//! Building the index: every competence and section of the guide read into
//! terms with BM25 weights, and the thesaurus resolved against them.

use std::collections::HashMap;

use rust_stemmers::{Algorithm, Stemmer};

use super::fxhash::FastMap;
use super::text::{stem_with, words};
use super::thesaurus::Phrase;
use super::{Doc, Expansions, Item, Key, NONE, SearchIndex, Term, Thesaurus};
use crate::framework::{CompetenceId, Framework};

const WEIGHT_STATEMENT: f32 = 3.0;
const WEIGHT_GUIDANCE: f32 = 1.0;
const WEIGHT_SHARED: f32 = 0.5;
const WEIGHT_AREA: f32 = 0.5;
const SATURATION: f32 = 1.2;
/// The thesaurus's cues for a competence: practitioners' words for the
/// situations it is called for in, below the guide's own words.
const WEIGHT_CUE: f32 = 1.0;

/// A document's weighted term frequencies, before saturation.
type Freq = HashMap<u32, f32>;

impl SearchIndex {
    /// Builds the index from a framework's competences and areas, with `thesaurus`
    /// for query expansion (its phrases that do not occur here are left out).
    pub fn build(framework: &Framework, thesaurus: &Thesaurus) -> SearchIndex {
        let mut index = SearchIndex {
            stemmer: Stemmer::create(Algorithm::English),
            stems: FastMap::default(),
            written: FastMap::default(),
            sorted: Vec::new(),
            known_stems: FastMap::default(),
            terms: Vec::new(),
            by_first: FastMap::default(),
            by_first_two: FastMap::default(),
            cues: FastMap::default(),
            cue_words: Vec::new(),
            docs: Vec::new(),
            competences: framework.competences().len(),
            related: Vec::new(),
            thesaurus: Expansions::default(),
        };
        let mut freqs = index.read_competences(framework, thesaurus);
        freqs.extend(index.read_sections(framework));
        index.post(freqs);
        index.order_written_words();
        index.cue_words.sort();
        index.resolve_thesaurus(thesaurus);
        index.weigh();
        index.relate();
        index
    }

    /// Reads each competence: its statement, its guidance (and the guidance
    /// it shares with its partner), its area's title, and the thesaurus's
    /// cues for it.
    fn read_competences(&mut self, framework: &Framework, thesaurus: &Thesaurus) -> Vec<Freq> {
        let (competences, areas) = (framework.competences(), framework.areas());
        let position: HashMap<CompetenceId, usize> = competences
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id, i))
            .collect();
        let mut freqs: Vec<Freq> = Vec::with_capacity(competences.len());
        for c in competences {
            let mut freq = HashMap::new();
            let statement = self.intern_text(&c.statement, WEIGHT_STATEMENT, &mut freq);
            let guidance = self.intern_text(&c.guidance, WEIGHT_GUIDANCE, &mut freq);
            let shared = c
                .shared_guidance
                .and_then(|code| position.get(&CompetenceId::new(c.id.domain, code)))
                .copied();
            if let Some(partner) = shared {
                self.intern_text(&competences[partner].guidance, WEIGHT_SHARED, &mut freq);
            }
            let area = areas
                .iter()
                .find(|a| a.domain == c.id.domain && a.number == c.id.code.area)
                .map(|a| self.intern_text(&a.title, WEIGHT_AREA, &mut freq))
                .unwrap_or_default();
            for cue in thesaurus.cues_for(c.id) {
                self.intern_cues(cue, WEIGHT_CUE, &mut freq);
            }
            freqs.push(freq);
            self.docs.push(Doc {
                item: Item::Competence(c.id),
                statement,
                guidance,
                shared,
                area,
            });
        }
        freqs
    }

    /// Reads each section of the guide: its title as a statement, its text
    /// as guidance, and the heading it sits under as its area.
    fn read_sections(&mut self, framework: &Framework) -> Vec<Freq> {
        let mut freqs = Vec::with_capacity(framework.sections().len());
        for (i, section) in framework.sections().iter().enumerate() {
            let mut freq = HashMap::new();
            let statement = self.intern_text(&section.title, WEIGHT_STATEMENT, &mut freq);
            let guidance = self.intern_text(&section.text, WEIGHT_GUIDANCE, &mut freq);
            let area = section
                .within
                .as_deref()
                .map(|w| self.intern_text(w, WEIGHT_AREA, &mut freq))
                .unwrap_or_default();
            freqs.push(freq);
            self.docs.push(Doc {
                item: Item::Section(i),
                statement,
                guidance,
                shared: None,
                area,
            });
        }
        freqs
    }

    /// Each document's frequencies as postings, in document order.
    fn post(&mut self, freqs: Vec<Freq>) {
        for (doc, freq) in freqs.into_iter().enumerate() {
            let mut entries: Vec<(u32, f32)> = freq.into_iter().collect();
            entries.sort_by_key(|&(t, _)| t);
            for (term, f) in entries {
                self.terms[term as usize].postings.push((doc as u32, f));
            }
        }
    }

    /// The written words sorted (for completion), their typo buckets
    /// shortest first, and the stem of each.
    fn order_written_words(&mut self) {
        let terms = &self.terms;
        self.sorted = self.written.values().copied().collect();
        self.sorted
            .sort_by(|&a, &b| terms[a as usize].text.cmp(&terms[b as usize].text));
        for bucket in self
            .by_first
            .values_mut()
            .chain(self.by_first_two.values_mut())
        {
            bucket.sort_by_key(|&t| (terms[t as usize].text.len(), t));
        }
        self.known_stems = self
            .written
            .iter()
            .map(|(word, &t)| {
                let stem = terms[t as usize].stem;
                (word.clone(), terms[stem as usize].text.to_string())
            })
            .collect();
    }

    /// Each term's rarity, and its frequencies saturated.
    ///
    /// Rarity is counted among the competences alone, so adding the guide's
    /// sections leaves how competences rank against each other as it was. A
    /// word only the guide's sections use counts as rarest: it is what sets
    /// them apart (counting it among the sections instead was measured:
    /// precision over the evaluation set fell, and the definitions fell below
    /// competences that only use their word).
    fn weigh(&mut self) {
        let competences = self.competences;
        let n = competences as f32;
        for term in &mut self.terms {
            let df = term
                .postings
                .iter()
                .filter(|&&(doc, _)| (doc as usize) < competences)
                .count() as f32;
            term.idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            for (_, tf) in &mut term.postings {
                *tf = *tf * (SATURATION + 1.0) / (*tf + SATURATION);
            }
        }
        // A cue that is also a word of the framework is no rarer than that
        // word: `coaching` in a cue must not outweigh it in the guide.
        for &t in self.cues.values() {
            let text = &self.terms[t as usize].text;
            if let Some(&word) = self.stems.get(&**text) {
                let idf = self.terms[word as usize].idf;
                let cue = &mut self.terms[t as usize];
                cue.idf = cue.idf.min(idf);
            }
        }
    }

    /// How alike each two competences are: the cosine of their words'
    /// weights (stems and cues, each by its rarity and saturated frequency).
    fn relate(&mut self) {
        let n = self.competences;
        let mut vectors: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
        for (t, term) in self.terms.iter().enumerate() {
            if term.stem != t as u32 {
                continue;
            }
            for &(doc, tf) in &term.postings {
                if (doc as usize) < n {
                    vectors[doc as usize].push((t as u32, term.idf * tf));
                }
            }
        }
        let norm: Vec<f32> = vectors
            .iter()
            .map(|v| {
                v.iter()
                    .map(|(_, w)| w * w)
                    .sum::<f32>()
                    .sqrt()
                    .max(f32::MIN_POSITIVE)
            })
            .collect();
        self.related = vec![0.0; n * n];
        for a in 0..n {
            for b in a + 1..n {
                let (va, vb) = (&vectors[a], &vectors[b]);
                let (mut i, mut j, mut dot) = (0, 0, 0.0);
                while i < va.len() && j < vb.len() {
                    match va[i].0.cmp(&vb[j].0) {
                        std::cmp::Ordering::Less => i += 1,
                        std::cmp::Ordering::Greater => j += 1,
                        std::cmp::Ordering::Equal => {
                            dot += va[i].1 * vb[j].1;
                            i += 1;
                            j += 1;
                        }
                    }
                }
                let cos = dot / (norm[a] * norm[b]);
                self.related[a * n + b] = cos;
                self.related[b * n + a] = cos;
            }
        }
    }

    /// A word's stem, or `None` for words search skips.
    pub(super) fn stem(&self, word: &str) -> Option<String> {
        stem_with(&self.stemmer, word)
    }

    /// Indexes `text` with `weight` into `freq`; returns its stems in order.
    fn intern_text(&mut self, text: &str, weight: f32, freq: &mut Freq) -> Vec<u32> {
        let mut stems = Vec::new();
        for word in words(text) {
            let Some(stem) = self.stem(&word) else {
                continue;
            };
            let s = self.intern_stem(stem);
            let w = self.intern_written(word, s);
            *freq.entry(s).or_default() += weight;
            *freq.entry(w).or_default() += weight;
            stems.push(s);
        }
        stems
    }

    /// Indexes a cue of the thesaurus (its words' stems, as cue terms) with
    /// `weight` into `freq`.
    fn intern_cues(&mut self, phrase: &Phrase, weight: f32, freq: &mut Freq) {
        for (word, stem) in phrase.words.iter().zip(&phrase.stems) {
            let t = match self.cues.get(stem) {
                Some(&t) => t,
                None => {
                    let t = self.new_term(stem, NONE, 0);
                    self.terms[t as usize].cue = true;
                    self.cues.insert(stem.clone(), t);
                    t
                }
            };
            *freq.entry(t).or_default() += weight;
            if !self.cue_words.iter().any(|(w, _)| **w == **word) {
                self.cue_words.push((word.as_str().into(), t));
            }
        }
    }

    fn new_term(&mut self, text: &str, stem: u32, letters: u32) -> u32 {
        let t = self.terms.len() as u32;
        self.terms.push(Term {
            text: text.into(),
            stem: if stem == NONE { t } else { stem },
            letters,
            postings: Vec::new(),
            idf: 0.0,
            cue: false,
        });
        t
    }

    fn intern_stem(&mut self, stem: String) -> u32 {
        if let Some(&t) = self.stems.get(&stem) {
            return t;
        }
        let t = self.new_term(&stem, NONE, 0);
        self.stems.insert(stem, t);
        t
    }

    fn intern_written(&mut self, word: String, stem: u32) -> u32 {
        if let Some(&t) = self.written.get(&word) {
            return t;
        }
        let t = self.new_term(&word, stem, letter_mask(&word));
        if let Some(&first) = word.as_bytes().first() {
            self.by_first.entry(first).or_default().push(t);
        }
        if let [a, b, ..] = word.as_bytes() {
            self.by_first_two.entry([*a, *b]).or_default().push(t);
        }
        self.written.insert(word, t);
        t
    }

    /// The term for a run of stems, with postings: how often each document
    /// holds the run, weighted like words. `None` where it occurs nowhere.
    fn phrase_term(&mut self, stems: &[String], cache: &mut HashMap<Vec<u32>, u32>) -> Option<u32> {
        let run: Vec<u32> = stems
            .iter()
            .map(|s| self.stems.get(s).copied())
            .collect::<Option<_>>()?;
        if let [one] = run[..] {
            return Some(one);
        }
        if let Some(&t) = cache.get(&run) {
            return Some(t);
        }
        let postings: Vec<(u32, f32)> = self
            .docs
            .iter()
            .enumerate()
            .filter_map(|(i, doc)| {
                let shared = doc
                    .shared
                    .map_or(0, |p| count_runs(&self.docs[p].guidance, &run));
                let tf = WEIGHT_STATEMENT * count_runs(&doc.statement, &run) as f32
                    + WEIGHT_GUIDANCE * count_runs(&doc.guidance, &run) as f32
                    + WEIGHT_SHARED * shared as f32
                    + WEIGHT_AREA * count_runs(&doc.area, &run) as f32;
                (tf > 0.0).then_some((i as u32, tf))
            })
            .collect();
        if postings.is_empty() {
            return None;
        }
        let t = self.new_term(&stems.join(" "), NONE, 0);
        self.terms[t as usize].stem = NONE;
        self.terms[t as usize].postings = postings;
        cache.insert(run, t);
        Some(t)
    }

    /// Resolves the thesaurus's phrases against this index's words.
    fn resolve_thesaurus(&mut self, thesaurus: &Thesaurus) {
        let mut cache = HashMap::new();
        let mut expansions = Expansions::default();
        for (e, entry) in thesaurus.entries.iter().enumerate() {
            let targets: Vec<u32> = entry
                .framework
                .iter()
                .filter_map(|p| self.phrase_term(&p.stems, &mut cache))
                .collect();
            expansions.targets.push(targets);
            for phrase in &entry.everyday {
                let k = expansions.keys.len() as u32;
                let phrase_term = if phrase.stems.len() > 1 {
                    self.phrase_term(&phrase.stems, &mut cache)
                } else {
                    None
                };
                expansions
                    .by_first
                    .entry(phrase.stems[0].clone())
                    .or_default()
                    .push(k);
                match &phrase.words[..] {
                    [word] => expansions.single.push((word.as_str().into(), k)),
                    [first, ..] => expansions.firsts.push((first.as_str().into(), k)),
                    [] => {}
                }
                expansions.keys.push(Key {
                    stems: phrase.stems.clone(),
                    written: phrase.words.clone(),
                    entry: e as u32,
                    phrase: phrase_term,
                });
            }
        }
        for keys in expansions.by_first.values_mut() {
            keys.sort_by_key(|&k| std::cmp::Reverse(expansions.keys[k as usize].stems.len()));
        }
        expansions.single.sort();
        expansions.firsts.sort();
        expansions.single_letters = expansions
            .single
            .iter()
            .map(|(w, _)| letter_mask(w))
            .collect();
        expansions.incidental = thesaurus
            .incidental
            .iter()
            .flat_map(|p| p.stems.iter().cloned())
            .collect();
        let phrases = thesaurus.entries.iter().flat_map(|e| &e.everyday);
        for phrase in phrases.chain(&thesaurus.incidental) {
            for (word, stem) in phrase.words.iter().zip(&phrase.stems) {
                self.known_stems
                    .entry(word.clone())
                    .or_insert_with(|| stem.clone());
            }
        }
        self.thesaurus = expansions;
    }

    /// Whether `stems` (stemmed, common words dropped) stand side by side in
    /// some competence's statement, guidance or area title (not only in the
    /// guide's sections: the thesaurus maps to the competences' language).
    pub(crate) fn occurs(&self, stems: &[String]) -> bool {
        let Some(run) = stems
            .iter()
            .map(|s| self.stems.get(s).copied())
            .collect::<Option<Vec<u32>>>()
        else {
            return false;
        };
        !run.is_empty()
            && self.docs[..self.competences].iter().any(|d| {
                count_runs(&d.statement, &run)
                    + count_runs(&d.guidance, &run)
                    + count_runs(&d.area, &run)
                    > 0
            })
    }
}

/// How many times `run` stands in `seq`.
pub(super) fn count_runs(seq: &[u32], run: &[u32]) -> usize {
    if run.is_empty() || seq.len() < run.len() {
        return 0;
    }
    seq.windows(run.len()).filter(|w| *w == run).count()
}

/// One bit per letter a–z present in `word`.
pub(super) fn letter_mask(word: &str) -> u32 {
    word.bytes()
        .filter(u8::is_ascii_lowercase)
        .fold(0, |mask, b| mask | (1 << (b - b'a')))
}
