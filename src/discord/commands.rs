//! The slash commands. Each one reads its options, asks the core
//! ([`crate::commands::handle`]) and sends the translated reply; none holds
//! logic of its own beyond Discord's shape.

use poise::serenity_prelude as serenity;

use super::reply::{links_for, to_poise};
use super::{BotError, Context};
use crate::commands::{self, Command, suggest_codes};
use crate::framework::{CompetenceId, DomainId};
use crate::store::GuildSettings;

/// The domain option.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum DomainChoice {
    /// Core coaching competences.
    #[name = "core"]
    Core,
    /// Competences for integrating therapy and coaching.
    #[name = "integration"]
    Integration,
}

impl From<DomainChoice> for DomainId {
    fn from(d: DomainChoice) -> DomainId {
        match d {
            DomainChoice::Core => DomainId::Core,
            DomainChoice::Integration => DomainId::Integration,
        }
    }
}

/// On or off.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum Switch {
    /// Switch on.
    #[name = "on"]
    On,
    /// Switch off.
    #[name = "off"]
    Off,
}

/// Show a competence of the BACP Coaching competence framework: statement and guidance
#[poise::command(slash_command)]
pub async fn competence(
    ctx: Context<'_>,
    #[description = "A code such as 3.5, C3.5 (core) or I3.5 (integration); or area 3, meta 2"]
    #[autocomplete = "autocomplete_code"]
    #[max_length = 100]
    code: String,
    #[description = "Only this domain (both, where the code exists in both)"] domain: Option<
        DomainChoice,
    >,
) -> Result<(), BotError> {
    let data = ctx.data();
    let command = Command::Competence {
        code,
        domain: domain.map(DomainId::from),
    };
    let reply = commands::handle(&data.framework, &command);
    let shown: Vec<CompetenceId> = reply.cards.iter().filter_map(|c| c.competence).collect();
    let links = links_for(&data.framework, &shown);
    ctx.send(to_poise(&reply, &links)).await?;
    Ok(())
}

async fn autocomplete_code(
    ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let choices = suggest_codes(&ctx.data().framework, partial)
        .into_iter()
        .map(|s| serenity::AutocompleteChoice::new(s.name, s.value))
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// Search the competences' statements and guidance by keywords
#[poise::command(slash_command)]
pub async fn search(
    ctx: Context<'_>,
    #[description = "Words to look for, e.g. strengths or theories of motivation"]
    #[max_length = 200]
    query: String,
) -> Result<(), BotError> {
    let reply = commands::handle(&ctx.data().framework, &Command::Search { query });
    ctx.send(to_poise(&reply, &[])).await?;
    Ok(())
}

/// The framework at a glance: domains, areas and their codes
#[poise::command(slash_command)]
pub async fn framework(ctx: Context<'_>) -> Result<(), BotError> {
    let reply = commands::handle(&ctx.data().framework, &Command::Framework);
    ctx.send(to_poise(&reply, &[])).await?;
    Ok(())
}

/// What this bot does and how to use it
#[poise::command(slash_command)]
pub async fn help(ctx: Context<'_>) -> Result<(), BotError> {
    let reply = commands::handle(&ctx.data().framework, &Command::Help);
    ctx.send(to_poise(&reply, &[])).await?;
    Ok(())
}

/// Answer competence references such as C3.5 in ordinary messages (server setting)
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MANAGE_GUILD",
    required_permissions = "MANAGE_GUILD"
)]
pub async fn inline(
    ctx: Context<'_>,
    #[description = "Switch inline answers on or off for this server"] mode: Switch,
) -> Result<(), BotError> {
    let data = ctx.data();
    let guild = ctx
        .guild_id()
        .ok_or_else(|| BotError::User("This setting belongs to a server; use it there.".into()))?;
    let on = matches!(mode, Switch::On);
    data.store
        .set_guild_settings(guild.get(), &GuildSettings { inline: on })?;
    let text = match (on, data.message_content) {
        (true, true) => {
            "Inline answers are **on**: messages that mention a competence such as `C3.5` or `competence 3.5` get a short reply (once per competence per channel every few minutes)."
        }
        (true, false) => {
            "Inline answers are switched **on** for this server, but this bot was started without the message content intent, so it cannot read messages yet. The operator can enable it: see the README's section on inline mode."
        }
        (false, _) => "Inline answers are **off**.",
    };
    ctx.send(
        poise::CreateReply::default()
            .content(text)
            .ephemeral(true)
            .allowed_mentions(super::reply::no_mentions()),
    )
    .await?;
    Ok(())
}

/// Every command the bot registers.
pub fn all() -> Vec<poise::Command<super::Data, BotError>> {
    vec![competence(), search(), framework(), help(), inline()]
}
