//! Translating the core's replies into Discord messages: cards become embeds,
//! search results a select menu, links buttons. Every message built here
//! allows no mentions at all.

use poise::CreateReply;
use poise::serenity_prelude as serenity;
use serenity::{
    ButtonStyle, CreateActionRow, CreateAllowedMentions, CreateButton, CreateEmbed,
    CreateEmbedAuthor, CreateEmbedFooter, CreateSelectMenu, CreateSelectMenuKind,
    CreateSelectMenuOption,
};

use crate::commands::{Reply, Visibility};
use crate::framework::{CompetenceId, DomainId, Framework};
use crate::render::{Card, fit, limits};

/// Allowed mentions for everything the bot sends: none. Text from users can
/// never ping anyone, whatever it contains.
pub fn no_mentions() -> CreateAllowedMentions {
    CreateAllowedMentions::new().replied_user(false)
}

/// Custom ids of the bot's components. They carry everything needed to answer
/// a click, so they keep working across restarts; anything else is refused.
pub mod custom_id {
    use crate::framework::CompetenceId;

    /// Prefix of a button or menu option that opens a competence card.
    const OPEN: &str = "open:";
    /// The select menu of search results.
    pub const SEARCH_MENU: &str = "search-results";

    /// The custom id of a button that opens `id`.
    pub fn open(id: CompetenceId) -> String {
        format!("{OPEN}{id}")
    }

    /// The competence a button or menu value opens, if it is one of ours.
    pub fn parse_open(value: &str) -> Option<CompetenceId> {
        value.strip_prefix(OPEN)?.parse().ok()
    }
}

const CORE_COLOUR: u32 = 0x2E_6F_8E;
const INTEGRATION_COLOUR: u32 = 0x6A_4C_93;
const NEUTRAL_COLOUR: u32 = 0x5B_6B_73;

/// A core card as an embed, coloured by domain.
pub fn embed(card: &Card, domain: Option<DomainId>) -> CreateEmbed {
    let colour = match domain {
        Some(DomainId::Core) => CORE_COLOUR,
        Some(DomainId::Integration) => INTEGRATION_COLOUR,
        None => NEUTRAL_COLOUR,
    };
    let mut embed = CreateEmbed::new()
        .title(fit(&card.title, limits::TITLE))
        .colour(colour);
    if !card.heading.is_empty() {
        embed = embed.author(CreateEmbedAuthor::new(fit(&card.heading, limits::TITLE)));
    }
    if !card.description.is_empty() {
        embed = embed.description(fit(&card.description, limits::DESCRIPTION));
    }
    for field in &card.fields {
        embed = embed.field(
            fit(&field.name, limits::FIELD_NAME),
            fit(&field.value, limits::FIELD_VALUE),
            false,
        );
    }
    if !card.footer.is_empty() {
        embed = embed.footer(CreateEmbedFooter::new(fit(&card.footer, limits::FOOTER)));
    }
    embed
}

/// Turns a core reply into a poise reply, with buttons for `links`.
pub fn to_poise(reply: &Reply, links: &[CompetenceId]) -> CreateReply {
    let mut out = CreateReply::default()
        .ephemeral(reply.visibility == Visibility::Private)
        .allowed_mentions(no_mentions());
    if let Some(text) = &reply.text {
        out = out.content(fit(text, limits::MESSAGE));
    }
    for card in reply.cards.iter().take(10) {
        out = out.embed(embed(card, card.domain));
    }
    let mut rows = Vec::new();
    if !reply.results.is_empty() {
        rows.push(search_menu(reply));
    }
    if !links.is_empty() {
        rows.push(link_buttons(links));
    }
    if !rows.is_empty() {
        out = out.components(rows);
    }
    out
}

/// Turns a core reply into an interaction response message (for clicks).
pub fn to_response(reply: &Reply) -> serenity::CreateInteractionResponseMessage {
    let mut out = serenity::CreateInteractionResponseMessage::new()
        .ephemeral(reply.visibility == Visibility::Private)
        .allowed_mentions(no_mentions());
    if let Some(text) = &reply.text {
        out = out.content(fit(text, limits::MESSAGE));
    }
    let embeds: Vec<CreateEmbed> = reply
        .cards
        .iter()
        .take(10)
        .map(|c| embed(c, c.domain))
        .collect();
    if !embeds.is_empty() {
        out = out.embeds(embeds);
    }
    out
}

/// A select menu opening one of the search results.
fn search_menu(reply: &Reply) -> CreateActionRow {
    let options = reply
        .results
        .iter()
        .take(25)
        .map(|r| {
            CreateSelectMenuOption::new(fit(&r.label, 100), custom_id::open(r.id))
                .description(fit(&r.statement, 100))
        })
        .collect();
    CreateActionRow::SelectMenu(
        CreateSelectMenu::new(
            custom_id::SEARCH_MENU,
            CreateSelectMenuKind::String { options },
        )
        .placeholder("Open a competence"),
    )
}

/// Up to five buttons, each opening a competence.
fn link_buttons(links: &[CompetenceId]) -> CreateActionRow {
    CreateActionRow::Buttons(
        links
            .iter()
            .take(5)
            .map(|id| {
                CreateButton::new(custom_id::open(*id))
                    .label(id.label())
                    .style(ButtonStyle::Secondary)
            })
            .collect(),
    )
}

/// The competences worth a button under these cards: the same code in the other
/// domain (when only one is shown), then see-also links.
pub fn links_for(framework: &Framework, shown: &[CompetenceId]) -> Vec<CompetenceId> {
    let mut links: Vec<CompetenceId> = Vec::new();
    let mut push = |id: CompetenceId| {
        if !shown.contains(&id) && !links.contains(&id) {
            links.push(id);
        }
    };
    if let [only] = shown {
        for domain in DomainId::ALL {
            let other = CompetenceId::new(domain, only.code);
            if domain != only.domain && framework.competence(other).is_some() {
                push(other);
            }
        }
    }
    for id in shown {
        if let Some(c) = framework.competence(*id) {
            c.see_also.iter().copied().for_each(&mut push);
        }
    }
    links.truncate(5);
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_ids_round_trip_and_forgeries_are_refused() {
        let id: CompetenceId = "integration:2.1".parse().unwrap();
        assert_eq!(custom_id::parse_open(&custom_id::open(id)), Some(id));
        for forged in [
            "open:core:9.9x",
            "open:",
            "close:core:3.5",
            "",
            "open:core:3.5:x",
        ] {
            assert_eq!(custom_id::parse_open(forged), None, "{forged}");
        }
    }

    #[test]
    fn a_single_card_links_to_the_other_domain_first() {
        let f = Framework::builtin().unwrap();
        let shown = ["core:2.1".parse().unwrap()];
        let links = links_for(&f, &shown);
        assert_eq!(links[0].to_string(), "integration:2.1");
        let shown = ["core:4.8".parse().unwrap()];
        let links: Vec<String> = links_for(&f, &shown)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(links, ["core:2.2", "core:2.4", "core:2.6", "core:2.8"]);
    }
}
