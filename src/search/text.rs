//! How text becomes the words search reads: lower-cased runs of letters and
//! digits, common words dropped, each with its Snowball English stem.

use rust_stemmers::{Algorithm, Stemmer};

/// Words too common to rank by, in the texts and in queries.
const STOPWORDS: &[&str] = &[
    "a", "about", "all", "an", "and", "are", "as", "at", "be", "but", "by", "can", "could", "did",
    "do", "does", "doesn", "doing", "don", "done", "didn", "for", "from", "has", "have", "he",
    "her", "his", "how", "i", "if", "in", "into", "is", "isn", "it", "its", "may", "me", "might",
    "must", "my", "no", "not", "of", "on", "or", "our", "she", "should", "so", "than", "that",
    "the", "their", "them", "then", "there", "these", "they", "this", "to", "us", "was", "wasn",
    "we", "were", "what", "when", "which", "who", "will", "with", "within", "would", "you", "your",
];

/// Whether search skips `word` (lower-case) as too common to rank by.
pub fn is_common_word(word: &str) -> bool {
    STOPWORDS.contains(&word)
}

/// A word's stem, or `None` for words search skips: one letter, or common.
pub(super) fn stem_with(stemmer: &Stemmer, word: &str) -> Option<String> {
    if word.chars().count() < 2 || STOPWORDS.contains(&word) {
        return None;
    }
    Some(stemmer.stem(word).into_owned())
}

/// The words of `text` that search reads, lower-cased, each as written and stemmed.
pub(super) fn analyse(text: &str) -> Vec<(String, String)> {
    let stemmer = Stemmer::create(Algorithm::English);
    words(text)
        .filter_map(|w| stem_with(&stemmer, &w).map(|s| (w, s)))
        .collect()
}

/// Lower-cased words: runs of letters and digits; `client’s` gives `client`, `s`.
pub(super) fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Words of ordinary English that carry no topic: pronouns, auxiliaries,
/// quantifiers, connectives (a general stop list, not this guide's). In a
/// whole sentence they are conversation, not what it is about.
const CONVERSATIONAL: &[&str] = &[
    "about",
    "above",
    "after",
    "again",
    "against",
    "ain",
    "also",
    "am",
    "any",
    "aren",
    "away",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "couldn",
    "down",
    "during",
    "each",
    "ever",
    "few",
    "further",
    "had",
    "hadn",
    "hasn",
    "haven",
    "having",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "itself",
    "just",
    "ll",
    "more",
    "most",
    "mustn",
    "myself",
    "needn",
    "nor",
    "now",
    "off",
    "once",
    "only",
    "other",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "re",
    "same",
    "shan",
    "shouldn",
    "some",
    "such",
    "theirs",
    "themselves",
    "those",
    "through",
    "too",
    "under",
    "until",
    "up",
    "ve",
    "very",
    "weren",
    "where",
    "whether",
    "while",
    "whom",
    "why",
    "won",
    "wouldn",
    "yourself",
    "yourselves",
];

/// Whether `word` (lower-case) is ordinary English with no topic of its own.
pub(super) fn is_conversational(word: &str) -> bool {
    CONVERSATIONAL.contains(&word)
}
