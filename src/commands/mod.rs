//! The bot's commands, handled once for every front-end.
//!
//! A front-end turns what the user did (a slash command, a console line) into
//! a [`Command`], calls [`handle`], and shows the [`Reply`] in its own way.
//! Nothing here knows which front-end asked. Commands about a member's own
//! reflections are in [`personal`].

pub mod catalogue;
mod guide;
pub mod personal;
mod week;

pub use catalogue::{commands_on, help_text};
pub use guide::{open_section, suggest_sections};
pub use week::{Week, week, weekly_card};

use crate::framework::{CompetenceId, DomainId, Section};
use crate::library::Library;
use crate::lookup::{Found, LookupError};
use crate::render::{self, Card};
use crate::search::{DEFAULT_LIMIT, Item, SearchHit};

/// What a user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `/competence <code> [domain]`: a competence card (or an area, meta, foundational).
    Competence {
        /// What was typed in the code option.
        code: String,
        /// The domain option, when given.
        domain: Option<DomainId>,
    },
    /// `/search <query>`: ranked keyword search.
    Search {
        /// The words to search for.
        query: String,
        /// How many results at most ([`DEFAULT_LIMIT`] on Discord and the console).
        limit: usize,
    },
    /// `/framework`: domains, areas and codes at a glance.
    Framework,
    /// `/guide [section]`: a narrative section of the user guide, found by
    /// its id, its title or words in it; the contents when empty.
    Guide {
        /// What was typed: an id (`role-of-supervision`), a title, or words.
        section: String,
        /// One part of a long section (from 1), or every part.
        part: Option<usize>,
    },
    /// `/help`: what this front-end offers and how to use it.
    Help(FrontEnd),
    /// A line typed without a command: a code looked up, anything else
    /// searched (with no word about it not being a code).
    Typed(String),
}

/// Who may see a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Visibility {
    /// Shown in the channel: framework content meant for the discussion.
    Public,
    /// Shown only to the person who asked: errors and anything personal.
    #[default]
    Private,
}

/// One search result as a front-end lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchLine {
    /// What choosing it does: [`Action::Open`] a competence, or
    /// [`Action::Guide`] a section of the guide.
    pub opens: Action,
    /// e.g. "Core 3.5", or "Guide: The role of supervision".
    pub label: String,
    /// The statement, whole, or the heading a section sits under; a
    /// front-end with little room shortens it.
    pub statement: String,
}

impl SearchLine {
    /// The line as plain text: the label in a column, a separator, the
    /// statement after it (every row alike, however long its label).
    pub fn plain(&self) -> String {
        format!("{:<16} · {}", self.label, self.statement)
    }
}

/// Something the user can do next from a reply: a button in Discord, a hint
/// in the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Open a competence's card.
    Open(CompetenceId),
    /// Open a section of the guide, at one of its parts.
    Guide {
        /// The section's id.
        id: String,
        /// The part (from 1).
        part: usize,
        /// Its title, for a button's label (links carry only the id and part).
        title: String,
    },
    /// Open the competence with the same number in the other domain (a
    /// different competence, not a related one).
    SameNumber(CompetenceId),
    /// List my own reflections on a competence.
    Mine(CompetenceId),
    /// Another page of my reflections (only those tagged, when a tag is given).
    Page {
        /// The tag the list is filtered by, if any.
        tag: Option<CompetenceId>,
        /// The page, from 1.
        page: usize,
    },
    /// View one of my reflections.
    View(u64),
    /// Edit one of my reflections.
    Edit(u64),
    /// Add a tag to one of my reflections.
    AddTag(u64, CompetenceId),
    /// Confirm deleting one of my reflections.
    ConfirmDelete(u64),
    /// Delete one of my reflections or presentations although its shared
    /// post could not be withdrawn (the post stays in the thread).
    DeleteAnyway(personal::Shareable),
    /// Confirm forgetting everything of mine.
    ConfirmForget,
    /// Confirm deleting one of my supervision log entries.
    DeleteLogEntry(u64),
    /// Confirm deleting one of my case presentations.
    DeletePresentation(u64),
    /// Open the next step of the case presentation held for me.
    ContinueCase,
    /// Save the supervision form of this kind held for me as I wrote it,
    /// past the confidentiality check's question (none: a button from
    /// before kinds were held apart, for whichever is held).
    SaveAsWritten(Option<crate::reflections::form::HeldKind>),
    /// Start a supervision log entry with these choices afresh (what is
    /// held for me stays until the new form replaces it).
    LogAfresh(crate::supervision::log::LogChoices),
    /// Log a meeting the bot held: the log form with its choices (date,
    /// length, kind) filled in, as `/log add` opens it.
    LogMeeting(crate::supervision::log::LogChoices),
    /// Start a case presentation in this frame afresh (what is held for me
    /// stays until a new form replaces it).
    PresentAfresh(crate::supervision::case::Frame),
    /// Write a private reflection on a competence.
    ReflectOn(CompetenceId),
    /// Preview sharing one of my reflections into this week's thread.
    ShareAsk(u64),
    /// Share one of my reflections (into this week's thread, or the
    /// meeting's I brought it to) or a case presentation I brought to a
    /// meeting (into its thread), anonymously or not: only while it still
    /// shows exactly what was previewed, which `tag` (the store's
    /// [`content tag`](crate::store::Store::content_tag) or
    /// [`presentation tag`](crate::store::Store::presentation_tag)) names.
    Share {
        /// The reflection or presentation.
        item: personal::Shareable,
        /// Under "a member" rather than the author's name.
        anonymous: bool,
        /// The content tag of the preview the member saw.
        tag: u64,
    },
    /// Withdraw my shared post of a reflection or presentation from the
    /// group's thread.
    Withdraw(personal::Shareable),
    /// Leave a share preview without sharing anything.
    CancelShare,
    /// Reopen the form of this kind I submitted that could not be kept
    /// whole, as I typed it (none: a button from before kinds were held
    /// apart, for whichever is held).
    Reopen(Option<crate::reflections::form::HeldKind>),
    /// Open the review of my development priorities.
    ReviewPriorities,
    /// Bring one of my reflections to the next meeting's agenda (a form
    /// asks the time and what the agenda shows).
    Bring(u64),
    /// Bring one of my case presentations to the next meeting's agenda (a
    /// form asks the time and what the agenda shows).
    BringPresentation(u64),
}

/// A file attached to a reply (exports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The file's name.
    pub filename: String,
    /// Its contents.
    pub content: Vec<u8>,
}

/// What a command produced, for a front-end to show.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reply {
    /// Who may see it.
    pub visibility: Visibility,
    /// A short message shown above any cards.
    pub text: Option<String>,
    /// Cards to show, in order.
    pub cards: Vec<Card>,
    /// Search results, for front-ends that offer a menu to open one.
    pub results: Vec<SearchLine>,
    /// What the user can do next.
    pub actions: Vec<Action>,
    /// Files to attach.
    pub attachments: Vec<Attachment>,
    /// Whether this reply reports something the user got wrong.
    pub is_error: bool,
    /// Further messages that follow this one, in order, with the same
    /// visibility: what one message cannot hold (a share preview of several
    /// posts shows each as its own message).
    pub more: Vec<Reply>,
}

impl Reply {
    /// The results to list as lines: none when a card lists them already
    /// (the guide's contents), so nothing is shown twice.
    pub fn listed_results(&self) -> &[SearchLine] {
        if self.cards.is_empty() {
            &self.results
        } else {
            &[]
        }
    }

    fn public(cards: Vec<Card>) -> Reply {
        Reply {
            visibility: Visibility::Public,
            cards,
            ..Reply::default()
        }
    }

    /// A message only the asker sees.
    pub fn private_text(text: String) -> Reply {
        Reply {
            visibility: Visibility::Private,
            text: Some(text),
            ..Reply::default()
        }
    }

    /// A private message about something the user got wrong.
    pub fn user_error(text: String) -> Reply {
        Reply {
            is_error: true,
            ..Reply::private_text(text)
        }
    }
}

/// What a lookup, a search or `/guide` found, before any front-end shows it:
/// [`reply`] words it for people, and the command line prints it as JSON
/// with `--json`.
#[derive(Debug)]
pub enum Answer<'l> {
    /// A lookup found competences, areas, a metacompetence or the foundational competence.
    Found(Found<'l>),
    /// A lookup failed; for words that are no code, what search finds for them.
    NotFound(LookupError, Vec<SearchHit>),
    /// Search results, best first; empty when nothing matched.
    Hits(Vec<SearchHit>),
    /// A search with no words to search for.
    NoWords,
    /// A section of the guide: every part, or the one asked for.
    Section(&'l Section, Option<usize>),
    /// Several sections answer to the words (a title or heading they share).
    Several(Vec<&'l Section>),
    /// A section was found, but has fewer parts than the one asked for.
    NoSuchPart(&'l Section, usize),
    /// No section matches the words (the contents say what there is).
    NoSection,
    /// A part was asked for without a section.
    PartWithoutSection,
    /// The guide's contents.
    Contents,
    /// The framework loaded holds no sections of a user guide.
    NoGuide,
}

impl Answer<'_> {
    /// Whether the command found what was asked for (the command line's exit
    /// code 0) rather than nothing (1).
    pub fn found(&self) -> bool {
        match self {
            Answer::Found(_) | Answer::Section(..) | Answer::Several(_) | Answer::Contents => true,
            Answer::Hits(hits) => !hits.is_empty(),
            Answer::NotFound(..)
            | Answer::NoWords
            | Answer::NoSuchPart(..)
            | Answer::NoSection
            | Answer::PartWithoutSection
            | Answer::NoGuide => false,
        }
    }
}

/// How a front-end writes the commands its messages point to.
#[derive(Debug, Clone, Copy)]
pub struct Spelling {
    /// Looking up a code: `/competence`.
    pub lookup: &'static str,
    /// Searching: `/search`.
    pub search: &'static str,
    /// Reading the guide: `/guide`.
    pub guide: &'static str,
    /// The part of a long section, before its number: `part:`.
    pub part: &'static str,
}

/// The slash commands of Discord and the console.
pub const SLASH: Spelling = Spelling {
    lookup: "/competence",
    search: "/search",
    guide: "/guide",
    part: "part:",
};

/// Handles one command (in Discord's and the console's words).
pub fn handle(library: &Library, command: &Command) -> Reply {
    match command {
        Command::Competence { code, domain } => {
            reply(library, &lookup(library, code, *domain), SLASH)
        }
        Command::Search { query, limit } => reply(library, &search(library, query, *limit), SLASH),
        Command::Guide { section, part } => {
            reply(library, &guide::answer(library, section, *part), SLASH)
        }
        Command::Framework => Reply::public(vec![render::overview_card(library)]),
        Command::Help(front) => Reply::private_text(help_text(*front)),
        Command::Typed(text) => match lookup(library, text, None) {
            Answer::NotFound(LookupError::NotACode, _) => {
                reply(library, &search(library, text, DEFAULT_LIMIT), SLASH)
            }
            answer => reply(library, &answer, SLASH),
        },
    }
}

/// A lookup of what was typed as a code (in one domain, when given); words
/// that are no code are searched for instead.
pub fn lookup<'l>(library: &'l Library, code: &str, domain: Option<DomainId>) -> Answer<'l> {
    let query = match domain {
        Some(d) => format!("{} {}", d.as_str(), code),
        None => code.to_string(),
    };
    match library.lookup(&query) {
        Ok(found) => Answer::Found(found),
        Err(e @ LookupError::NotACode) => {
            Answer::NotFound(e, library.search_index().search(code, DEFAULT_LIMIT))
        }
        Err(e) => Answer::NotFound(e, Vec::new()),
    }
}

/// The best `limit` competences and sections for the words.
pub fn search<'l>(library: &'l Library, query: &str, limit: usize) -> Answer<'l> {
    if query.trim().is_empty() {
        return Answer::NoWords;
    }
    Answer::Hits(library.search_index().search(query, limit))
}

/// A section of the guide by what was typed (see [`guide::answer`]).
pub fn guide<'l>(library: &'l Library, section: &str, part: Option<usize>) -> Answer<'l> {
    guide::answer(library, section, part)
}

/// What the user is shown for an answer, pointing to other commands as `spelling` writes them.
pub fn reply(library: &Library, answer: &Answer<'_>, spelling: Spelling) -> Reply {
    match answer {
        Answer::Found(found) => {
            let cards = library.cards_for(found);
            let shown: Vec<CompetenceId> = cards.iter().filter_map(|c| c.competence).collect();
            let mut reply = Reply::public(cards);
            if reply.cards.len() > 1 {
                reply.text = Some(format!("{found}: this code exists in both domains."));
            }
            reply.actions = card_actions(library, &shown);
            reply
        }
        Answer::NotFound(e, hits) => {
            let mut reply = Reply::user_error(e.to_string());
            if !hits.is_empty() {
                let results = result_lines(library, hits);
                reply.text = Some(format!("{e}\n\nBest matches ({}):", results.len()));
                reply.results = results;
            }
            reply
        }
        Answer::Hits(hits) => search_reply(library, hits, spelling),
        Answer::NoWords => Reply::user_error(format!(
            "Type the words to search for, e.g. `{} strengths` or `{} sponsor`.",
            spelling.search, spelling.search
        )),
        Answer::Section(section, part) => guide::reply(library, section, *part),
        Answer::Several(sections) => guide::several(sections, spelling),
        Answer::NoSuchPart(section, part) => guide::no_such_part(library, section, *part, spelling),
        Answer::NoSection => guide::no_section(spelling),
        Answer::PartWithoutSection => guide::part_without_section(spelling),
        Answer::Contents => guide::contents(library),
        Answer::NoGuide => guide::no_guide(),
    }
}

/// One competence's card, opened by its id (a clicked button or menu
/// option), with what to do next.
pub fn open(library: &Library, id: CompetenceId) -> Reply {
    match library.competence(id) {
        Some(c) => {
            let mut reply = Reply::public(vec![library.card(c)]);
            reply.actions = card_actions(library, &[id]);
            reply
        }
        None => Reply::user_error(format!(
            "{} is not in this framework. `/framework` shows the codes there are.",
            id.label()
        )),
    }
}

/// What to offer under competence cards: my reflections on the first shown,
/// its see-also links, the guide's sections that discuss it, and last the same
/// code in the other domain (when one is shown).
fn card_actions(library: &Library, shown: &[CompetenceId]) -> Vec<Action> {
    let mut links: Vec<CompetenceId> = Vec::new();
    let mut push = |id: CompetenceId| {
        if !shown.contains(&id) && !links.contains(&id) {
            links.push(id);
        }
    };
    for id in shown {
        if let Some(c) = library.competence(*id) {
            c.see_also.iter().copied().for_each(&mut push);
        }
    }
    // The same number in the other domain is a different competence: it
    // comes after the related ones, and says what it is.
    let mut same_number = None;
    if let [only] = shown {
        for domain in DomainId::ALL {
            let other = CompetenceId::new(domain, only.code);
            if domain != only.domain && library.competence(other).is_some() {
                same_number = Some(other);
            }
        }
    }
    // The guide's sections that discuss a competence shown come after its
    // see-also links.
    // A see-also link to the same number elsewhere is that button: one
    // button a competence, or Discord refuses the message.
    links.retain(|id| Some(*id) != same_number);
    let mut sections: Vec<&Section> = Vec::new();
    for id in shown {
        for s in library.sections_discussing(*id) {
            if !sections.iter().any(|known| known.id == s.id) {
                sections.push(s);
            }
        }
    }
    let mut actions: Vec<Action> = shown.iter().take(1).map(|id| Action::Mine(*id)).collect();
    let room = if same_number.is_some() { 3 } else { 4 };
    // The guide keeps one place, however many see-also links there are.
    let for_links = room - usize::from(!sections.is_empty());
    let linked = links.len().min(for_links);
    actions.extend(links.into_iter().take(linked).map(Action::Open));
    actions.extend(
        sections
            .into_iter()
            .take(room - linked)
            .map(|s| guide::open_action(s, 1)),
    );
    actions.extend(same_number.map(Action::SameNumber));
    actions
}

fn search_reply(library: &Library, hits: &[SearchHit], spelling: Spelling) -> Reply {
    if hits.is_empty() {
        return Reply::user_error(nothing_matches(spelling));
    }
    let results = result_lines(library, hits);
    Reply {
        visibility: Visibility::Private,
        text: Some(best_matches(results.len(), &hits[0])),
        results,
        ..Reply::default()
    }
}

/// The line above search results. When the first result is a guess from one
/// of several words, it says which word it went by, so the member can
/// rephrase rather than wonder why the rest of their sentence was ignored.
fn best_matches(count: usize, first: &SearchHit) -> String {
    if !first.is_guess_from_one_word() {
        return format!("Best matches ({count}):");
    }
    match first.matched_words.iter().next() {
        Some(word) => format!(
            "Best matches ({count}), found by one of your words only, “{word}”: other words of your own may find a closer one."
        ),
        None => format!(
            "Best matches ({count}), a guess: none of your words matched as typed, so other words of your own may find a closer one."
        ),
    }
}

/// What search says when nothing matches.
pub fn nothing_matches(spelling: Spelling) -> String {
    format!(
        "Nothing in the framework or its guide matches those words. Try fewer or other words, or look a code up: `{} 3.5`.",
        spelling.lookup
    )
}

/// Search results as lines to list: competences by code and statement,
/// sections of the guide by title.
fn result_lines(library: &Library, hits: &[SearchHit]) -> Vec<SearchLine> {
    hits.iter()
        .filter_map(|h| match h.item {
            Item::Competence(id) => library.competence(id).map(|c| SearchLine {
                opens: Action::Open(id),
                label: id.label(),
                statement: c.statement.clone(),
            }),
            Item::Section(i) => library.sections().get(i).map(guide::line),
        })
        .collect()
}

/// One autocomplete choice: what the user sees and what the option receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// Shown in the list: "Core 3.5 · Ability to listen for …" (at most 100 characters).
    pub name: String,
    /// Put into the option: "core 3.5" (at most 100 characters).
    pub value: String,
}

/// Most suggestions a list shows (Discord's limit).
pub const MAX_SUGGESTIONS: usize = 25;
/// Longest suggestion name or value (Discord's limit).
pub const SUGGESTION_CHARS: usize = 100;

/// Suggestions for a partly typed code: `3.` offers the 3.x competences of both
/// domains, `C3.` only core's; words offer search results.
pub fn suggest_codes(library: &Library, partial: &str) -> Vec<Suggestion> {
    let partial = partial.trim();
    let (domain, digits) = split_code_prefix(partial);
    let by_code: Vec<&crate::framework::Competence> = match digits {
        Some(digits) => library
            .competences()
            .iter()
            .filter(|c| domain.is_none_or(|d| c.id.domain == d))
            .filter(|c| c.id.code.to_string().starts_with(digits))
            .collect(),
        None => Vec::new(),
    };
    let chosen: Vec<&crate::framework::Competence> = if partial.is_empty() {
        library.competences().iter().collect()
    } else if digits.is_some() {
        by_code
    } else {
        library
            .search_index()
            .search(partial, MAX_SUGGESTIONS + library.sections().len())
            .iter()
            .filter_map(SearchHit::competence)
            .filter_map(|id| library.competence(id))
            .collect()
    };
    chosen
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|c| Suggestion {
            name: render::fit(
                &format!("{} · {}", c.id.label(), c.statement),
                SUGGESTION_CHARS,
            ),
            value: format!("{} {}", c.id.domain.as_str(), c.id.code),
        })
        .collect()
}

/// Splits `C3.`, `core 3.`, `i2`, `3.1` into an optional domain and the digits
/// typed so far; `None` digits when the text is not the start of a code.
fn split_code_prefix(partial: &str) -> (Option<DomainId>, Option<&str>) {
    let (domain, rest) = strip_domain(partial);
    let digits_only = rest.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let starts_with_digit = rest.starts_with(|c: char| c.is_ascii_digit());
    if digits_only && (starts_with_digit || (rest.is_empty() && domain.is_some())) {
        (domain, Some(rest))
    } else {
        (None, None)
    }
}

/// `core 3.` → (core, `3.`); text that does not start with a domain and a
/// digit is returned whole.
fn strip_domain(partial: &str) -> (Option<DomainId>, &str) {
    match DomainId::split_prefix(partial) {
        Some((domain, tail))
            if tail.is_empty() || tail.starts_with(|c: char| c.is_ascii_digit()) =>
        {
            (Some(domain), tail)
        }
        _ => (None, partial),
    }
}

/// The front-ends a user can be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrontEnd {
    /// The Discord bot.
    Discord,
    /// The terminal console.
    Console,
    /// The `companion` command line (lookups, search and the guide).
    CommandLine,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framework() -> Library {
        Library::builtin().unwrap()
    }

    #[test]
    fn a_competence_is_public_and_an_error_private() {
        let f = framework();
        let ok = handle(
            &f,
            &Command::Competence {
                code: "3.5".into(),
                domain: None,
            },
        );
        assert_eq!(ok.visibility, Visibility::Public);
        assert_eq!(ok.cards.len(), 2);
        assert!(ok.text.unwrap().contains("both domains"));

        let err = handle(
            &f,
            &Command::Competence {
                code: "9.9".into(),
                domain: None,
            },
        );
        assert_eq!(err.visibility, Visibility::Private);
        assert!(err.is_error);
        assert!(err.text.unwrap().contains("Nearest: Core 4.9"));
    }

    #[test]
    fn the_domain_option_picks_one() {
        let f = framework();
        let r = handle(
            &f,
            &Command::Competence {
                code: "3.5".into(),
                domain: Some(DomainId::Integration),
            },
        );
        assert_eq!(r.cards.len(), 1);
        assert_eq!(r.cards[0].title, "Integration 3.5");
    }

    /// Words typed without a command are searched, with no telling-off.
    #[test]
    fn typed_words_are_searched_and_codes_looked_up() {
        let f = framework();
        let words = handle(&f, &Command::Typed("strengths".into()));
        assert!(!words.is_error);
        assert_eq!(words.results[0].label, "Core 3.5");
        assert!(!words.text.unwrap().contains("isn't a competence code"));
        let code = handle(&f, &Command::Typed("C3.5".into()));
        assert_eq!(code.cards[0].title, "Core 3.5");
        let missing = handle(&f, &Command::Typed("9.9".into()));
        assert!(missing.is_error && missing.text.unwrap().contains("Nearest"));
    }

    /// Search rows keep their separator, whatever the label's length.
    #[test]
    fn search_rows_keep_their_separator() {
        let f = framework();
        let r = handle(
            &f,
            &Command::Search {
                query: "what is therapy".into(),
                limit: 10,
            },
        );
        assert!(!r.results.is_empty());
        for line in &r.results {
            let plain = line.plain();
            assert!(
                plain.starts_with(&line.label) && plain.contains(" · "),
                "{plain}"
            );
        }
    }

    /// A first result found by one word of a sentence says which word, so
    /// the member can rephrase; a result found by the sentence does not.
    #[test]
    fn a_guess_from_one_word_says_which_word() {
        let f = framework();
        let said = |query: &str| {
            handle(
                &f,
                &Command::Search {
                    query: query.into(),
                    limit: DEFAULT_LIMIT,
                },
            )
            .text
            .unwrap_or_default()
        };
        let guess = said("the photocopier broke during our supervision");
        assert!(
            guess.starts_with("Best matches (")
                && guess.contains("found by one of your words only, “supervision”"),
            "{guess}"
        );
        for sure in [
            "she can't decide between two job offers",
            "sponsor",
            "goal setting",
        ] {
            let text = said(sure);
            assert!(
                text.starts_with("Best matches (") && text.ends_with("):"),
                "{sure}: {text}"
            );
        }
    }

    #[test]
    fn words_in_the_code_option_fall_back_to_search() {
        let f = framework();
        let r = handle(
            &f,
            &Command::Competence {
                code: "strengths".into(),
                domain: None,
            },
        );
        assert!(r.is_error);
        assert_eq!(r.results[0].label, "Core 3.5");
    }

    #[test]
    fn autocomplete_offers_codes_of_both_domains_then_words() {
        let f = framework();
        let names: Vec<String> = suggest_codes(&f, "3.")
            .into_iter()
            .map(|s| s.value)
            .collect();
        assert_eq!(names.len(), 15);
        assert_eq!(names[0], "core 3.1");
        assert!(names.contains(&"integration 3.5".to_string()));
        let core_only = suggest_codes(&f, "C3.");
        assert_eq!(core_only.len(), 10);
        let two_one: Vec<String> = suggest_codes(&f, "2.1")
            .into_iter()
            .map(|s| s.value)
            .collect();
        assert_eq!(two_one, ["core 2.1", "core 2.10", "integration 2.1"]);
        let words = suggest_codes(&f, "strengths");
        assert_eq!(words[0].value, "core 3.5");
        for s in suggest_codes(&f, "") {
            assert!(s.name.chars().count() <= SUGGESTION_CHARS);
        }
        assert_eq!(suggest_codes(&f, "").len(), MAX_SUGGESTIONS);
        assert!(suggest_codes(&f, "xqzv").is_empty());
    }

    #[test]
    fn search_lists_results_privately() {
        let f = framework();
        let r = handle(
            &f,
            &Command::Search {
                limit: DEFAULT_LIMIT,
                query: "theories of motivation".into(),
            },
        );
        assert_eq!(r.visibility, Visibility::Private);
        assert_eq!(r.results[0].label, "Core 4.2");
        assert_eq!(r.results.len(), DEFAULT_LIMIT, "as many as asked for");
        let sections = handle(
            &f,
            &Command::Search {
                limit: DEFAULT_LIMIT,
                query: "what is coaching".into(),
            },
        );
        assert_eq!(sections.results[0].label, "Guide: Coaching");
        assert_eq!(
            sections.results[0].statement,
            "User guide › Definitions and terminology"
        );
        // Statements are listed whole: a front-end with little room shortens them.
        let c = f.competence(CompetenceId::new(DomainId::Core, crate::Code::new(4, 2)));
        assert_eq!(r.results[0].statement, c.unwrap().statement);
        assert!(matches!(
            &sections.results[0].opens,
            Action::Guide { id, part: 1, .. } if id == "definition-coaching"
        ));
        let nothing = handle(
            &f,
            &Command::Search {
                limit: DEFAULT_LIMIT,
                query: "xqzvw".into(),
            },
        );
        let said = nothing.text.clone().unwrap_or_default();
        assert!(nothing.is_error, "{said}");
        assert!(
            said.starts_with("Nothing in the framework or its guide matches those words.")
                && said.contains("`/competence 3.5`"),
            "{said}"
        );
    }

    #[test]
    fn the_guide_keeps_a_place_among_many_see_also_links() {
        let f = framework();
        for c in f.competences() {
            let sections: Vec<&str> = f.sections_discussing(c.id).map(|s| s.id.as_str()).collect();
            let r = open(&f, c.id);
            let guide_at = r
                .actions
                .iter()
                .position(|a| matches!(a, Action::Guide { .. }));
            assert_eq!(guide_at.is_some(), !sections.is_empty(), "{}", c.id);
            if let Some(at) = guide_at {
                // See-also links come first, then the guide, then the same
                // number elsewhere.
                assert!(
                    r.actions[..at]
                        .iter()
                        .all(|a| matches!(a, Action::Mine(_) | Action::Open(_))),
                    "{}: {:?}",
                    c.id,
                    r.actions
                );
                assert!(
                    r.actions[at..]
                        .iter()
                        .all(|a| matches!(a, Action::Guide { .. } | Action::SameNumber(_))),
                    "{}: {:?}",
                    c.id,
                    r.actions
                );
            }
            assert!(r.actions.len() <= 5, "{}", c.id);
            // Each button opens something different (Discord refuses a
            // message whose buttons share a custom id).
            let mut opened: Vec<String> = r
                .actions
                .iter()
                .map(|a| match a {
                    Action::Open(id) | Action::SameNumber(id) => format!("open {id}"),
                    other => format!("{other:?}"),
                })
                .collect();
            opened.sort();
            let n = opened.len();
            opened.dedup();
            assert_eq!(opened.len(), n, "{}: {:?}", c.id, r.actions);
        }
        // Core 3.2 has a see-also link and is discussed in how-to-use: both show.
        let r = open(&f, "core:3.2".parse().unwrap());
        assert!(
            r.actions.iter().any(|a| matches!(a, Action::Open(_))),
            "{:?}",
            r.actions
        );
        assert!(
            r.actions
                .iter()
                .any(|a| matches!(a, Action::Guide { id, .. } if id == "how-to-use"))
        );
    }

    #[test]
    fn a_card_links_to_the_guide_before_the_same_number_elsewhere() {
        let f = framework();
        let r = open(&f, "core:3.5".parse().unwrap());
        let sections: Vec<String> = f
            .sections_discussing("core:3.5".parse().unwrap())
            .map(|s| s.id.clone())
            .collect();
        assert!(!sections.is_empty());
        let guide_at = r
            .actions
            .iter()
            .position(|a| matches!(a, Action::Guide { id, .. } if *id == sections[0]))
            .expect("a link to the guide");
        assert_eq!(
            r.actions.last(),
            Some(&Action::SameNumber("integration:3.5".parse().unwrap()))
        );
        assert!(guide_at < r.actions.len() - 1);
        // My reflections first; then what the card links to.
        assert_eq!(
            r.actions.first(),
            Some(&Action::Mine("core:3.5".parse().unwrap()))
        );
        let opened: Vec<String> = r
            .actions
            .iter()
            .map(|a| match a {
                Action::Mine(id) => format!("mine {}", id.short()),
                Action::Guide { id, .. } => format!("guide {id}"),
                Action::SameNumber(id) | Action::Open(id) => format!("open {}", id.short()),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            opened,
            [
                "mine C3.5",
                "guide methodology-core",
                "guide how-to-use",
                "open I3.5"
            ]
        );
        let field = r.cards[0]
            .fields
            .iter()
            .find(|f| f.name == "Discussed in the user guide")
            .expect("the card names the sections");
        assert!(field.value.contains(&format!("`{}`", sections[0])));
        assert!(
            !field.value.contains("/guide"),
            "no front-end's command in a card"
        );
    }
}
