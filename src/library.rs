//! The framework with what is built over it once at start: the search index and
//! the rendered competence cards. The framework itself stays plain data; a
//! [`Library`] is what every front-end holds.
//!
//! A `Library` dereferences to its [`Framework`], so code that only reads the
//! framework takes `&Framework` and is handed a library unchanged.

use std::ops::Deref;
use std::sync::OnceLock;

use crate::framework::{Competence, Framework, FrameworkError, Section};
use crate::lookup::Found;
use crate::render::{self, Card};
use crate::search::{SearchIndex, Thesaurus};

/// A loaded framework, its search index, and its cards rendered on first use.
#[derive(Debug)]
pub struct Library {
    framework: Framework,
    search: SearchIndex,
    cards: OnceLock<Vec<Card>>,
    sections: OnceLock<Vec<Vec<Card>>>,
}

impl Library {
    /// Indexes `framework`, searched with `thesaurus`.
    pub fn new(framework: Framework, thesaurus: &Thesaurus) -> Library {
        let search = SearchIndex::build(&framework, thesaurus);
        Library {
            framework,
            search,
            cards: OnceLock::new(),
            sections: OnceLock::new(),
        }
    }

    /// The framework compiled into the binary, searched with the built-in thesaurus.
    pub fn builtin() -> Result<Library, FrameworkError> {
        Ok(Library::new(Framework::builtin()?, Thesaurus::builtin()?))
    }

    /// The keyword index over statements, guidance, area titles and the guide's sections.
    pub fn search_index(&self) -> &SearchIndex {
        &self.search
    }

    /// The card of a competence as served: rendered once per library, on first
    /// use, then cloned. The framework never changes after load, so neither do
    /// its cards.
    pub fn card(&self, c: &Competence) -> Card {
        let f = &self.framework;
        let cards = self.cards.get_or_init(|| {
            f.competences()
                .iter()
                .map(|c| render::competence_card(f, c))
                .collect()
        });
        f.index_of(c.id)
            .and_then(|i| cards.get(i))
            .cloned()
            .unwrap_or_else(|| render::competence_card(f, c))
    }
}

impl Library {
    /// A section of the guide as cards, one per part, rendered once per
    /// library on first use.
    pub fn section_cards(&self, section: &Section) -> Vec<Card> {
        let f = &self.framework;
        let all = self.sections.get_or_init(|| {
            f.sections()
                .iter()
                .map(|s| render::section_cards(f, s))
                .collect()
        });
        f.sections()
            .iter()
            .position(|s| s.id == section.id)
            .and_then(|i| all.get(i))
            .cloned()
            .unwrap_or_else(|| render::section_cards(f, section))
    }
}

impl Library {
    /// Any lookup result as one or more cards (two for an ambiguous code).
    pub fn cards_for(&self, found: &Found<'_>) -> Vec<Card> {
        let f = &self.framework;
        match found {
            Found::Competences(hits) => hits.iter().map(|c| self.card(c)).collect(),
            Found::Areas(areas) => areas.iter().map(|a| render::area_card(f, a)).collect(),
            Found::Meta(area) => vec![render::meta_card(f, area)],
            Found::Foundational(text) => vec![render::foundational_card(f, text)],
        }
    }
}

impl Deref for Library {
    type Target = Framework;

    fn deref(&self) -> &Framework {
        &self.framework
    }
}
