//! The slash commands. Each one reads its options, asks the core
//! ([`crate::commands`]) and sends the translated reply; none holds logic of
//! its own beyond Discord's shape.

use poise::serenity_prelude as serenity;

use super::reply::send;
use super::{BotError, Context, personal};
use crate::commands::personal::{ExportKind, Personal, PriorityCommand, priority_codes};
use crate::commands::{self, Command, Reply, suggest_codes};
use crate::framework::DomainId;
use crate::reflections::{form, parse_tags, tags_text};
use crate::search::DEFAULT_LIMIT;

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
    let command = Command::Competence {
        code,
        domain: domain.map(DomainId::from),
    };
    send(ctx, &commands::handle(&ctx.data().framework, &command)).await
}

pub(super) async fn autocomplete_code(
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
    send(
        ctx,
        &commands::handle(
            &ctx.data().framework,
            &Command::Search {
                query,
                limit: DEFAULT_LIMIT,
            },
        ),
    )
    .await
}

/// The framework at a glance: domains, areas and their codes
#[poise::command(slash_command)]
pub async fn framework(ctx: Context<'_>) -> Result<(), BotError> {
    send(
        ctx,
        &commands::handle(&ctx.data().framework, &Command::Framework),
    )
    .await
}

/// Read a section of the BACP user guide: definitions, how to use the framework, supervision
#[poise::command(slash_command)]
pub async fn guide(
    ctx: Context<'_>,
    #[description = "A section's title, or words from it; leave empty for the contents"]
    #[autocomplete = "autocomplete_section"]
    #[max_length = 100]
    section: Option<String>,
    #[description = "Which part of a long section (1 unless the section says otherwise)"]
    #[min = 1]
    #[max = 20]
    part: Option<u8>,
) -> Result<(), BotError> {
    // Discord shows a section part by part, from the first; the contents
    // have no parts, so a part given alone is answered as a mistake.
    let part = match &section {
        Some(_) => Some(part.unwrap_or(1)),
        None => part,
    };
    let command = Command::Guide {
        section: section.unwrap_or_default(),
        part: part.map(usize::from),
    };
    send(ctx, &commands::handle(&ctx.data().framework, &command)).await
}

async fn autocomplete_section(
    ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let choices = commands::suggest_sections(&ctx.data().framework, partial)
        .into_iter()
        .map(|s| serenity::AutocompleteChoice::new(s.name, s.value))
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// What this bot does and how to use it
#[poise::command(slash_command)]
pub async fn help(ctx: Context<'_>) -> Result<(), BotError> {
    send(
        ctx,
        &commands::handle(
            &ctx.data().framework,
            &Command::Help(commands::FrontEnd::Discord),
        ),
    )
    .await
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
    let mut settings = data.store.guild_settings(guild.get())?;
    settings.inline = on;
    data.store.set_guild_settings(guild.get(), &settings)?;
    let text = match (on, data.message_content) {
        (true, true) => {
            "Inline answers are **on**: messages that mention a competence such as `C3.5` or `competence 3.5` get a short reply (once per competence per channel every few minutes)."
        }
        (true, false) => {
            "Inline answers are switched **on** for this server, but this bot was started without the message content intent, so it cannot read messages yet. The operator can enable it: see the README's section on inline mode."
        }
        (false, _) => "Inline answers are **off**.",
    };
    send(ctx, &Reply::private_text(text.to_string())).await
}

/// Write a private reflection, optionally on a competence and with a reflective model
#[poise::command(slash_command)]
pub async fn reflect(
    ctx: Context<'_>,
    #[description = "The competence it is about, e.g. C3.5"]
    #[autocomplete = "autocomplete_code"]
    #[max_length = 100]
    competence: Option<String>,
    #[description = "A reflective model to guide you (free writing if left out)"]
    #[autocomplete = "autocomplete_model"]
    #[max_length = 20]
    model: Option<String>,
) -> Result<(), BotError> {
    let data = ctx.data();
    let tags = match competence
        .as_deref()
        .map(|c| parse_tags(&data.framework, c))
    {
        Some(Ok(tags)) => tags_text(&tags),
        Some(Err(e)) => return Err(BotError::User(e.to_string())),
        None => String::new(),
    };
    let model =
        form::model(&data.models, model.as_deref().unwrap_or("free")).map_err(BotError::User)?;
    let modal = personal::new_modal(data, &tags, &model.id);
    respond_with_modal(ctx, modal).await
}

async fn autocomplete_model(
    ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let partial = partial.to_lowercase();
    let choices = ctx
        .data()
        .models
        .all()
        .iter()
        .filter(|m| m.id.contains(&partial) || m.name.to_lowercase().contains(&partial))
        .map(|m| {
            serenity::AutocompleteChoice::new(
                crate::render::fit(&format!("{} · {}", m.name, m.summary), 100),
                m.id.clone(),
            )
        })
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// Opens a modal as the answer to a slash command.
pub(super) async fn respond_with_modal(
    ctx: Context<'_>,
    modal: serenity::CreateModal,
) -> Result<(), BotError> {
    let poise::Context::Application(app) = ctx else {
        return Err(BotError::User(
            "This command works as a slash command.".into(),
        ));
    };
    app.interaction
        .create_response(
            ctx.serenity_context(),
            serenity::CreateInteractionResponse::Modal(modal),
        )
        .await?;
    app.has_sent_initial_response
        .store(true, std::sync::atomic::Ordering::SeqCst);
    Ok(())
}

/// Your private reflections: only you can ever see them
#[poise::command(
    slash_command,
    subcommands("list", "view", "edit", "delete", "export", "forget_me"),
    subcommand_required
)]
pub async fn reflections(_ctx: Context<'_>) -> Result<(), BotError> {
    Ok(())
}

async fn personal_reply(ctx: Context<'_>, command: Personal) -> Result<(), BotError> {
    let guild = ctx.guild_id().map(|g| g.get());
    let reply = personal::answer(ctx.data(), ctx.author().id.get(), guild, command)?;
    send(ctx, &reply).await
}

/// List your reflections, newest first
#[poise::command(slash_command)]
pub async fn list(
    ctx: Context<'_>,
    #[description = "Only those tagged with this competence, e.g. C3.5"]
    #[autocomplete = "autocomplete_code"]
    #[max_length = 100]
    competence: Option<String>,
    #[description = "Page number"]
    #[min = 1]
    #[max = 10000]
    page: Option<u32>,
) -> Result<(), BotError> {
    let tag = match competence
        .as_deref()
        .map(|c| parse_tags(&ctx.data().framework, c))
    {
        Some(Ok(tags)) => tags.first().copied(),
        Some(Err(e)) => return Err(BotError::User(e.to_string())),
        None => None,
    };
    let page = page.map_or(1, |p| p as usize);
    personal_reply(ctx, Personal::List { tag, page }).await
}

/// Read one of your reflections
#[poise::command(slash_command)]
pub async fn view(
    ctx: Context<'_>,
    #[description = "Its number, as /reflections list shows it"]
    #[min = 1]
    number: u64,
) -> Result<(), BotError> {
    personal_reply(ctx, Personal::View(number)).await
}

/// Edit one of your reflections
#[poise::command(slash_command)]
pub async fn edit(
    ctx: Context<'_>,
    #[description = "Its number, as /reflections list shows it"]
    #[min = 1]
    number: u64,
) -> Result<(), BotError> {
    match personal::edit_modal(ctx.data(), ctx.author().id.get(), number)? {
        Ok(modal) => respond_with_modal(ctx, modal).await,
        Err(reply) => send(ctx, &reply).await,
    }
}

/// Delete one of your reflections (asks first)
#[poise::command(slash_command)]
pub async fn delete(
    ctx: Context<'_>,
    #[description = "Its number, as /reflections list shows it"]
    #[min = 1]
    number: u64,
) -> Result<(), BotError> {
    let data = ctx.data();
    let reply = match data.store.reflection(ctx.author().id.get(), number)? {
        Some(r) => crate::commands::personal::confirm_delete(&r).reply(),
        None => personal::answer(data, ctx.author().id.get(), None, Personal::View(number))?,
    };
    send(ctx, &reply).await
}

/// What `/reflections export` makes.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum ExportFormat {
    /// Everything, as Markdown and JSON.
    #[name = "everything (Markdown and JSON)"]
    Everything,
    /// A CPD record, as Markdown and CSV.
    #[name = "CPD record (Markdown and CSV)"]
    Cpd,
}

/// The month a membership year starts in.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
#[allow(missing_docs)]
pub enum Month {
    January,
    February,
    March,
    April,
    May,
    June,
    July,
    August,
    September,
    October,
    November,
    December,
}

/// Download your reflections: everything, or a CPD record you can file
#[poise::command(slash_command)]
pub async fn export(
    ctx: Context<'_>,
    #[description = "Everything (the default), or a CPD record"] format: Option<ExportFormat>,
    #[description = "CPD record: only the membership year starting in this year"]
    #[min = 2000]
    #[max = 2100]
    year: Option<i32>,
    #[description = "CPD record: the month your membership year starts (January if not given)"]
    starts: Option<Month>,
) -> Result<(), BotError> {
    let kind = match format {
        Some(ExportFormat::Cpd) => ExportKind::Cpd {
            year,
            starts: starts.map_or(1, |m| m as u32 + 1),
        },
        _ if year.is_some() || starts.is_some() => {
            return Err(BotError::User(
                "`year` and `starts` belong to the CPD record: add `format: CPD record`.".into(),
            ));
        }
        _ => ExportKind::Everything,
    };
    let command = Personal::Export(kind);
    cooled_down(ctx, &command)?;
    personal_reply(ctx, command).await
}

/// Remove every trace of you from this bot (asks first)
#[poise::command(slash_command, rename = "forget-me")]
pub async fn forget_me(ctx: Context<'_>) -> Result<(), BotError> {
    // Asking costs no wait: the confirmation is what fair use counts (in
    // `sharing::forget`), so the first click after asking is never refused.
    let count = ctx.data().store.reflection_count(ctx.author().id.get())?;
    send(
        ctx,
        &crate::commands::personal::confirm_forget(count).reply(),
    )
    .await
}

/// Your competence map: what your reflections have touched, and the gaps
#[poise::command(slash_command)]
pub async fn map(ctx: Context<'_>) -> Result<(), BotError> {
    cooled_down(ctx, &Personal::Map)?;
    personal_reply(ctx, Personal::Map).await
}

/// The competences you and your supervisor agreed matter most now
#[poise::command(
    slash_command,
    subcommands(
        "priorities_show",
        "priorities_add",
        "priorities_remove",
        "priorities_clear",
        "priorities_review",
        "priorities_review_every"
    ),
    subcommand_required
)]
pub async fn priorities(_ctx: Context<'_>) -> Result<(), BotError> {
    Ok(())
}

/// Your priorities, each with the reflections and supervision time that touched it
#[poise::command(slash_command, rename = "show")]
pub async fn priorities_show(ctx: Context<'_>) -> Result<(), BotError> {
    personal_reply(ctx, Personal::Priorities(PriorityCommand::Show)).await
}

/// Add competences agreed with your supervisor (up to six in all)
#[poise::command(slash_command, rename = "add")]
pub async fn priorities_add(
    ctx: Context<'_>,
    #[description = "Competences, e.g. C3.5, I2.1"]
    #[autocomplete = "autocomplete_code"]
    #[max_length = 100]
    competences: String,
) -> Result<(), BotError> {
    let ids = priority_codes(&ctx.data().framework, &competences).map_err(BotError::User)?;
    personal_reply(ctx, Personal::Priorities(PriorityCommand::Add(ids))).await
}

/// Remove competences from your priorities
#[poise::command(slash_command, rename = "remove")]
pub async fn priorities_remove(
    ctx: Context<'_>,
    #[description = "Competences, e.g. C3.5"]
    #[autocomplete = "autocomplete_code"]
    #[max_length = 100]
    competences: String,
) -> Result<(), BotError> {
    let ids = priority_codes(&ctx.data().framework, &competences).map_err(BotError::User)?;
    personal_reply(ctx, Personal::Priorities(PriorityCommand::Remove(ids))).await
}

/// Clear your priorities
#[poise::command(slash_command, rename = "clear")]
pub async fn priorities_clear(ctx: Context<'_>) -> Result<(), BotError> {
    personal_reply(ctx, Personal::Priorities(PriorityCommand::Clear)).await
}

/// Review how each priority has moved; kept as a private reflection
#[poise::command(slash_command, rename = "review")]
pub async fn priorities_review(ctx: Context<'_>) -> Result<(), BotError> {
    match super::review::modal(ctx.data(), ctx.author().id.get())? {
        Ok(modal) => respond_with_modal(ctx, modal).await,
        Err(reply) => send(ctx, &reply).await,
    }
}

/// Be asked every few weeks how your priorities have moved (or turn it off)
#[poise::command(slash_command, rename = "review-every")]
pub async fn priorities_review_every(
    ctx: Context<'_>,
    #[description = "Weeks between reviews, 1 to 26, or 0 to turn them off"]
    #[min = 0]
    #[max = 26]
    weeks: u8,
) -> Result<(), BotError> {
    let every = (weeks > 0).then_some(weeks);
    personal_reply(
        ctx,
        Personal::Priorities(PriorityCommand::ReviewEvery(every)),
    )
    .await
}

/// Per-member fair use of the commands that read all of a member's
/// reflections, by the bot's clock: counted only once the command's options
/// were accepted, so a mistyped option costs no wait.
fn cooled_down(ctx: Context<'_>, command: &Personal) -> Result<(), BotError> {
    let data = ctx.data();
    data.fair_use
        .admit(ctx.author().id.get(), command, data.clock.now())
        .map_err(BotError::User)
}
