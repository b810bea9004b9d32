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

use super::{BotError, Context};
use crate::commands::personal::Shareable;
use crate::commands::{Action, Attachment, Reply, Visibility};
use crate::framework::DomainId;
use crate::render::{Card, fit, limits};

/// Allowed mentions for everything the bot sends: none. Text from users can
/// never ping anyone, whatever it contains.
pub fn no_mentions() -> CreateAllowedMentions {
    CreateAllowedMentions::new().replied_user(false)
}

/// Custom ids of the bot's components and modals. They carry everything
/// needed to answer, so they keep working across restarts; anything else is
/// refused. None carries a secret: the reflection a button names is always
/// looked up among the clicking member's own.
pub mod custom_id {
    use crate::commands::Action;
    use crate::commands::personal::Shareable;
    use crate::framework::{CompetenceId, is_section_id};
    use crate::reflections::form::HeldKind;
    use crate::supervision::log::LogChoices;

    /// The select menu of search results.
    pub const SEARCH_MENU: &str = "search-results";
    /// The modal field names.
    pub const FIELD_TITLE: &str = "title";
    /// The reflection text field.
    pub const FIELD_TEXT: &str = "text";
    /// The tags field.
    pub const FIELD_TAGS: &str = "tags";
    /// The mode field.
    pub const FIELD_MODE: &str = "mode";
    /// The time-spent field.
    pub const FIELD_MINUTES: &str = "minutes";

    /// The custom id of a menu option or button that opens `id`.
    pub fn open(id: CompetenceId) -> String {
        format!("open:{id}")
    }

    /// What tells a presentation's share, withdrawal or delete apart from
    /// a reflection's in a custom id (a reflection's ids are as they were
    /// before presentations could be shared, so old buttons still work).
    fn case(item: &Shareable) -> &'static str {
        match item {
            Shareable::Reflection(_) => "",
            Shareable::Presentation(_) => "-case",
        }
    }

    /// The custom id of a button for an action.
    pub fn action(action: &Action) -> String {
        match action {
            Action::Open(id) | Action::SameNumber(id) => open(*id),
            Action::Guide { id, part, .. } => format!("guide:{id}:{part}"),
            Action::Mine(id) => format!("mine:{id}"),
            Action::Page { tag: None, page } => format!("page:{page}"),
            Action::Page { tag: Some(t), page } => format!("page:{page}:{t}"),
            Action::View(n) => format!("view:{n}"),
            Action::Edit(n) => format!("edit:{n}"),
            Action::AddTag(n, id) => format!("tag:{n}:{id}"),
            Action::ConfirmDelete(n) => format!("delete:{n}"),
            Action::DeleteAnyway(item) => format!("delete-anyway{}:{}", case(item), item.number()),
            Action::ConfirmForget => "forget:confirm".to_string(),
            Action::DeleteLogEntry(n) => format!("log-delete:{n}"),
            Action::DeletePresentation(n) => format!("present-delete:{n}"),
            Action::ContinueCase => "present:continue".to_string(),
            Action::SaveAsWritten(None) => "held:save".to_string(),
            Action::SaveAsWritten(Some(kind)) => format!("held:save:{}", kind.as_str()),
            Action::LogAfresh(choices) => format!("log-afresh:{}", choices.to_words()),
            Action::LogMeeting(choices) => format!("log-meeting:{}", choices.to_words()),
            Action::PresentAfresh(frame) => format!("present-afresh:{}", frame.as_str()),
            Action::ReflectOn(id) => format!("reflect-on:{id}"),
            Action::ShareAsk(n) => format!("share-ask:{n}"),
            Action::Share {
                item,
                anonymous,
                tag,
            } => format!(
                "share{}:{}:{}:{tag:016x}",
                case(item),
                item.number(),
                if *anonymous { "anon" } else { "named" }
            ),
            Action::Withdraw(item) => format!("withdraw{}:{}", case(item), item.number()),
            Action::CancelShare => "cancel:share".to_string(),
            Action::Reopen(None) => "reopen:held".to_string(),
            Action::Reopen(Some(kind)) => format!("reopen:{}", kind.as_str()),
            Action::ReviewPriorities => "review:open".to_string(),
            Action::Bring(n) => format!("bring:{n}"),
            Action::BringPresentation(n) => format!("bring-presentation:{n}"),
        }
    }

    /// The action a custom id stands for, if it is one of ours.
    pub fn parse(value: &str) -> Option<Action> {
        let (kind, rest) = value.split_once(':')?;
        let number = |s: &str| s.parse::<u64>().ok().filter(|n| *n > 0);
        match kind {
            "open" => rest.parse().ok().map(Action::Open),
            "guide" => {
                let (id, part) = rest.split_once(':')?;
                let part = number(part).and_then(|p| usize::try_from(p).ok())?;
                is_section_id(id).then(|| Action::Guide {
                    id: id.to_string(),
                    part,
                    title: String::new(),
                })
            }
            "mine" => rest.parse().ok().map(Action::Mine),
            "page" => {
                let (page, tag) = match rest.split_once(':') {
                    Some((page, tag)) => (page, Some(tag.parse().ok()?)),
                    None => (rest, None),
                };
                let page = number(page).and_then(|p| usize::try_from(p).ok())?;
                Some(Action::Page { tag, page })
            }
            "view" => number(rest).map(Action::View),
            "edit" => number(rest).map(Action::Edit),
            "delete" => number(rest).map(Action::ConfirmDelete),
            "delete-anyway" => number(rest).map(|n| Action::DeleteAnyway(Shareable::Reflection(n))),
            "delete-anyway-case" => {
                number(rest).map(|n| Action::DeleteAnyway(Shareable::Presentation(n)))
            }
            "forget" if rest == "confirm" => Some(Action::ConfirmForget),
            "log-delete" => number(rest).map(Action::DeleteLogEntry),
            "present-delete" => number(rest).map(Action::DeletePresentation),
            "present" if rest == "continue" => Some(Action::ContinueCase),
            "held" if rest == "save" => Some(Action::SaveAsWritten(None)),
            "held" => match rest.split_once(':')? {
                ("save", kind) => HeldKind::from_word(kind).map(|k| Action::SaveAsWritten(Some(k))),
                _ => None,
            },
            "log-afresh" => LogChoices::from_words(rest).map(Action::LogAfresh),
            "log-meeting" => LogChoices::from_words(rest).map(Action::LogMeeting),
            "present-afresh" => {
                crate::supervision::case::Frame::from_word(rest).map(Action::PresentAfresh)
            }
            "reflect-on" => rest.parse().ok().map(Action::ReflectOn),
            "share-ask" => number(rest).map(Action::ShareAsk),
            "share" | "share-case" => {
                let mut parts = rest.split(':');
                let n = number(parts.next()?)?;
                let item = if kind == "share" {
                    Shareable::Reflection(n)
                } else {
                    Shareable::Presentation(n)
                };
                let anonymous = match parts.next()? {
                    "anon" => true,
                    "named" => false,
                    _ => return None,
                };
                let tag = parts.next().filter(|t| t.len() == 16)?;
                let tag = u64::from_str_radix(tag, 16).ok()?;
                parts.next().is_none().then_some(Action::Share {
                    item,
                    anonymous,
                    tag,
                })
            }
            "withdraw" => number(rest).map(|n| Action::Withdraw(Shareable::Reflection(n))),
            "withdraw-case" => number(rest).map(|n| Action::Withdraw(Shareable::Presentation(n))),
            "cancel" if rest == "share" => Some(Action::CancelShare),
            "bring" => number(rest).map(Action::Bring),
            "bring-presentation" => number(rest).map(Action::BringPresentation),
            "reopen" if rest == "held" => Some(Action::Reopen(None)),
            "reopen" => HeldKind::from_word(rest).map(|k| Action::Reopen(Some(k))),
            "review" if rest == "open" => Some(Action::ReviewPriorities),
            "tag" => {
                let (n, id) = rest.split_once(':')?;
                Some(Action::AddTag(number(n)?, id.parse().ok()?))
            }
            _ => None,
        }
    }

    /// What a reflection modal is for.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum ModalPurpose {
        /// A new reflection with this model.
        New(String),
        /// A new version of reflection n.
        Edit(u64),
    }

    /// The custom id of a reflection modal.
    pub fn modal(purpose: &ModalPurpose) -> String {
        match purpose {
            ModalPurpose::New(model) => format!("reflect:new:{model}"),
            ModalPurpose::Edit(n) => format!("reflect:edit:{n}"),
        }
    }

    /// The custom id of a held form reopened for `purpose`: submitting it
    /// lets go of the held form once it is kept whole.
    pub fn modal_reopened(purpose: &ModalPurpose) -> String {
        format!(
            "reflect:again:{}",
            modal(purpose).trim_start_matches("reflect:")
        )
    }

    /// The purpose of a modal, if it is one of ours, and whether it is a
    /// held form reopened.
    pub fn parse_modal(value: &str) -> Option<(ModalPurpose, bool)> {
        match value.strip_prefix("reflect:again:") {
            Some(rest) => parse_purpose(rest).map(|p| (p, true)),
            None => parse_purpose(value.strip_prefix("reflect:")?).map(|p| (p, false)),
        }
    }

    fn parse_purpose(rest: &str) -> Option<ModalPurpose> {
        match rest.split_once(':')? {
            ("new", model)
                if !model.is_empty()
                    && model.len() <= 20
                    && model.bytes().all(|b| b.is_ascii_lowercase()) =>
            {
                Some(ModalPurpose::New(model.to_string()))
            }
            ("edit", n) => n.parse().ok().filter(|n| *n > 0).map(ModalPurpose::Edit),
            _ => None,
        }
    }
}

const CORE_COLOUR: u32 = 0x2E_6F_8E;
const INTEGRATION_COLOUR: u32 = 0x6A_4C_93;
const NEUTRAL_COLOUR: u32 = 0x5B_6B_73;

/// The most a message's files may weigh together: Discord's upload limit
/// for a message without boosts, with room for the request around them.
pub const UPLOAD_BYTES: usize = 9 * 1024 * 1024;

/// Most files one message carries.
pub const FILES_PER_MESSAGE: usize = 10;

/// Files grouped into messages, in order, each group within
/// [`UPLOAD_BYTES`] and [`FILES_PER_MESSAGE`]. No files: no groups.
pub fn attachment_batches(files: &[Attachment]) -> Vec<Vec<Attachment>> {
    let mut batches: Vec<Vec<Attachment>> = Vec::new();
    let mut bytes = 0;
    for file in files {
        let fits = batches.last().is_some_and(|b| {
            b.len() < FILES_PER_MESSAGE && bytes + file.content.len() <= UPLOAD_BYTES
        });
        if !fits {
            batches.push(Vec::new());
            bytes = 0;
        }
        bytes += file.content.len();
        if let Some(b) = batches.last_mut() {
            b.push(file.clone());
        }
    }
    batches
}

/// Sends a core reply as the answer to a slash command, with files beyond
/// one message's upload limit following in further private messages.
pub(super) async fn send(ctx: Context<'_>, reply: &Reply) -> Result<(), BotError> {
    let mut batches = attachment_batches(&reply.attachments).into_iter();
    let first = Reply {
        attachments: batches.next().unwrap_or_default(),
        ..reply.clone()
    };
    ctx.send(to_poise(&first)).await?;
    // Files beyond one message's upload limit follow, privately, in order.
    for rest in batches {
        let more = Reply {
            attachments: rest,
            ..Reply::private_text("…continued.".into())
        };
        ctx.send(to_poise(&more)).await?;
    }
    // Then the messages that follow this one.
    for more in &reply.more {
        ctx.send(to_poise(more)).await?;
    }
    Ok(())
}

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
    let chars = card.description.chars().count();
    if chars > limits::DESCRIPTION {
        embed = embed.field(
            "Length",
            format!(
                "{chars} characters: Discord shows the first {}; the console and `/reflections export` have it whole.",
                limits::DESCRIPTION
            ),
            false,
        );
    }
    if !card.footer.is_empty() {
        embed = embed.footer(CreateEmbedFooter::new(fit(&card.footer, limits::FOOTER)));
    }
    embed
}

/// A core reply's Discord parts, assembled once for either builder below.
struct Parts {
    ephemeral: bool,
    content: Option<String>,
    embeds: Vec<CreateEmbed>,
    components: Vec<CreateActionRow>,
    files: Vec<serenity::CreateAttachment>,
}

fn parts(reply: &Reply) -> Parts {
    let mut components = Vec::new();
    if !reply.results.is_empty() {
        components.push(search_menu(reply));
    }
    if !reply.actions.is_empty() {
        components.push(action_buttons(&reply.actions));
    }
    // Search results are listed in the message itself (unless a card lists
    // them already), the menu below opens one.
    let mut content = reply.text.clone();
    if !reply.listed_results().is_empty() {
        let lines: Vec<String> = reply
            .listed_results()
            .iter()
            .map(|r| format!("**{}** · {}", r.label, fit(&r.statement, 160)))
            .collect();
        let lead = content.take().unwrap_or_default();
        content = Some(format!("{lead}\n{}", lines.join("\n")).trim().to_string());
    }
    Parts {
        ephemeral: reply.visibility == Visibility::Private,
        content: content.as_deref().map(|t| fit(t, limits::MESSAGE)),
        embeds: reply
            .cards
            .iter()
            .take(10)
            .map(|c| embed(c, c.domain))
            .collect(),
        components,
        files: reply
            .attachments
            .iter()
            .map(|f| serenity::CreateAttachment::bytes(f.content.clone(), f.filename.clone()))
            .collect(),
    }
}

/// Turns a core reply into a poise reply (the answer to a slash command):
/// embeds, a results menu, buttons for its actions, files.
pub fn to_poise(reply: &Reply) -> CreateReply {
    let parts = parts(reply);
    let mut out = CreateReply::default()
        .ephemeral(parts.ephemeral)
        .allowed_mentions(no_mentions());
    if let Some(content) = parts.content {
        out = out.content(content);
    }
    for e in parts.embeds {
        out = out.embed(e);
    }
    if !parts.components.is_empty() {
        out = out.components(parts.components);
    }
    for file in parts.files {
        out = out.attachment(file);
    }
    out
}

/// Turns a core reply into the edit that answers a deferred click (which was
/// acknowledged privately, so the answer is private too).
pub fn to_edit(reply: &Reply) -> serenity::EditInteractionResponse {
    let parts = parts(reply);
    let mut out = serenity::EditInteractionResponse::new()
        .allowed_mentions(no_mentions())
        .content(parts.content.unwrap_or_default())
        .embeds(parts.embeds)
        .components(parts.components);
    for file in parts.files {
        out = out.new_attachment(file);
    }
    out
}

/// Turns a core reply into an interaction response message (the answer to a
/// click or a submitted form).
pub fn to_response(reply: &Reply) -> serenity::CreateInteractionResponseMessage {
    let parts = parts(reply);
    let mut out = serenity::CreateInteractionResponseMessage::new()
        .ephemeral(parts.ephemeral)
        .allowed_mentions(no_mentions());
    if let Some(content) = parts.content {
        out = out.content(content);
    }
    if !parts.embeds.is_empty() {
        out = out.embeds(parts.embeds);
    }
    if !parts.components.is_empty() {
        out = out.components(parts.components);
    }
    for file in parts.files {
        out = out.add_file(file);
    }
    out
}

/// Turns a core reply into a follow-up message (one of the messages that
/// follow the answer to a click).
pub fn to_followup(reply: &Reply) -> serenity::CreateInteractionResponseFollowup {
    let parts = parts(reply);
    let mut out = serenity::CreateInteractionResponseFollowup::new()
        .ephemeral(parts.ephemeral)
        .allowed_mentions(no_mentions())
        .embeds(parts.embeds)
        .components(parts.components);
    if let Some(content) = parts.content {
        out = out.content(content);
    }
    for file in parts.files {
        out = out.add_file(file);
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
            CreateSelectMenuOption::new(fit(&r.label, 100), custom_id::action(&r.opens))
                .description(fit(&r.statement, 100))
        })
        .collect();
    CreateActionRow::SelectMenu(
        CreateSelectMenu::new(
            custom_id::SEARCH_MENU,
            CreateSelectMenuKind::String { options },
        )
        .placeholder("Open one"),
    )
}

/// Up to five buttons, one per action.
pub(super) fn action_buttons(actions: &[Action]) -> CreateActionRow {
    CreateActionRow::Buttons(
        actions
            .iter()
            .take(5)
            .map(|action| {
                let (label, style) = match action {
                    Action::Open(id) => (id.label(), ButtonStyle::Secondary),
                    Action::Guide { part: 1, title, .. } => {
                        (fit(&format!("Guide: {title}"), 80), ButtonStyle::Secondary)
                    }
                    Action::Guide { part, title, .. } => (
                        fit(&format!("Part {part}: {title}"), 80),
                        ButtonStyle::Primary,
                    ),
                    Action::SameNumber(id) => (
                        format!("{} — same number, other domain", id.label()),
                        ButtonStyle::Secondary,
                    ),
                    Action::Mine(_) => {
                        ("My reflections on this".to_string(), ButtonStyle::Secondary)
                    }
                    Action::Page { page, .. } => (format!("Page {page}"), ButtonStyle::Primary),
                    Action::View(n) => (format!("View #{n}"), ButtonStyle::Secondary),
                    Action::Edit(n) => (format!("Edit #{n}"), ButtonStyle::Primary),
                    Action::AddTag(_, id) => {
                        (format!("Tag {}", id.short()), ButtonStyle::Secondary)
                    }
                    Action::ConfirmDelete(n) => (format!("Yes, delete #{n}"), ButtonStyle::Danger),
                    Action::DeleteAnyway(Shareable::Reflection(n)) => (
                        format!("Delete #{n} and leave the post"),
                        ButtonStyle::Danger,
                    ),
                    Action::DeleteAnyway(Shareable::Presentation(n)) => (
                        format!("Delete presentation #{n} and leave the post"),
                        ButtonStyle::Danger,
                    ),
                    Action::ConfirmForget => {
                        ("Yes, forget everything".to_string(), ButtonStyle::Danger)
                    }
                    Action::DeleteLogEntry(n) => {
                        (format!("Yes, delete log entry #{n}"), ButtonStyle::Danger)
                    }
                    Action::DeletePresentation(n) => (
                        format!("Yes, delete presentation #{n}"),
                        ButtonStyle::Danger,
                    ),
                    Action::ContinueCase => ("Continue".to_string(), ButtonStyle::Primary),
                    Action::SaveAsWritten(_) => {
                        ("Save as written".to_string(), ButtonStyle::Secondary)
                    }
                    Action::PresentAfresh(_) | Action::LogAfresh(_) => {
                        ("Start afresh".to_string(), ButtonStyle::Secondary)
                    }
                    Action::LogMeeting(_) => ("Log this meeting".to_string(), ButtonStyle::Primary),
                    Action::ReflectOn(_) => ("Reflect privately".to_string(), ButtonStyle::Primary),
                    Action::Reopen(_) => ("Reopen what I typed".to_string(), ButtonStyle::Primary),
                    Action::ReviewPriorities => {
                        ("Review my priorities".to_string(), ButtonStyle::Primary)
                    }
                    Action::ShareAsk(_) => (
                        "Share in this week's thread…".to_string(),
                        ButtonStyle::Secondary,
                    ),
                    Action::Share {
                        anonymous: true, ..
                    } => ("Share anonymously".to_string(), ButtonStyle::Primary),
                    Action::Share {
                        anonymous: false, ..
                    } => ("Share with my name".to_string(), ButtonStyle::Primary),
                    Action::Withdraw(Shareable::Reflection(n)) => (
                        format!("Withdraw #{n} from the thread"),
                        ButtonStyle::Danger,
                    ),
                    Action::Withdraw(Shareable::Presentation(n)) => (
                        format!("Withdraw presentation #{n} from the thread"),
                        ButtonStyle::Danger,
                    ),
                    Action::CancelShare => ("Cancel".to_string(), ButtonStyle::Secondary),
                    Action::Bring(n) => (
                        format!("Bring #{n} to the next meeting…"),
                        ButtonStyle::Secondary,
                    ),
                    Action::BringPresentation(n) => (
                        format!("Bring presentation #{n} to the next meeting…"),
                        ButtonStyle::Secondary,
                    ),
                };
                CreateButton::new(custom_id::action(action))
                    .label(label)
                    .style(style)
            })
            .collect(),
    )
}

/// A text input of a submitted modal, as typed; `None` if the form has no
/// such input.
pub(super) fn modal_input(
    submit: &poise::serenity_prelude::ModalInteraction,
    name: &str,
) -> Option<String> {
    submit
        .data
        .components
        .iter()
        .flat_map(|row| row.components.iter())
        .find_map(|c| match c {
            poise::serenity_prelude::ActionRowComponent::InputText(input)
                if input.custom_id == name =>
            {
                Some(input.value.clone().unwrap_or_default())
            }
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::custom_id::{self, ModalPurpose};
    use crate::commands::Action;
    use crate::commands::personal::Shareable;
    use crate::framework::CompetenceId;
    use crate::reflections::form::HeldKind;
    use crate::supervision::log::LogChoices;

    #[test]
    fn custom_ids_round_trip_and_forgeries_are_refused() {
        let id: CompetenceId = "integration:2.1".parse().unwrap();
        for action in [
            Action::Open(id),
            Action::Mine(id),
            Action::View(3),
            Action::Page { tag: None, page: 2 },
            Action::Page {
                tag: Some(id),
                page: 3,
            },
            Action::Edit(3),
            Action::AddTag(3, id),
            Action::ConfirmDelete(3),
            Action::ConfirmForget,
            Action::DeleteLogEntry(2),
            Action::DeletePresentation(2),
            Action::ContinueCase,
            Action::SaveAsWritten(None),
            Action::SaveAsWritten(Some(HeldKind::Log)),
            Action::SaveAsWritten(Some(HeldKind::Case)),
            Action::SaveAsWritten(Some(HeldKind::Reflection)),
            Action::LogAfresh(LogChoices {
                date: chrono::NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(),
                attended: true,
                minutes: crate::reflections::MAX_MINUTES,
                kind: crate::supervision::log::Kind::Individual,
                functions: crate::supervision::log::Function::ALL.to_vec(),
            }),
            Action::LogAfresh(LogChoices {
                date: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
                attended: false,
                minutes: 0,
                kind: crate::supervision::log::Kind::Group,
                functions: vec![],
            }),
            Action::LogMeeting(LogChoices {
                date: chrono::NaiveDate::from_ymd_opt(2026, 12, 17).unwrap(),
                attended: true,
                minutes: 90,
                kind: crate::supervision::log::Kind::Group,
                functions: vec![],
            }),
            Action::PresentAfresh(crate::supervision::case::Frame::SevenEyed),
            Action::PresentAfresh(crate::supervision::case::Frame::Short),
            Action::ReflectOn(id),
            Action::Reopen(None),
            Action::Reopen(Some(HeldKind::Reflection)),
            Action::Reopen(Some(HeldKind::Log)),
            Action::Reopen(Some(HeldKind::Case)),
            Action::ShareAsk(4),
            Action::Share {
                item: Shareable::Reflection(4),
                anonymous: true,
                tag: 0x0123_4567_89ab_cdef,
            },
            Action::Share {
                item: Shareable::Reflection(4),
                anonymous: false,
                tag: 7,
            },
            Action::Share {
                item: Shareable::Presentation(4),
                anonymous: true,
                tag: 7,
            },
            Action::Withdraw(Shareable::Reflection(4)),
            Action::Withdraw(Shareable::Presentation(4)),
            Action::DeleteAnyway(Shareable::Reflection(4)),
            Action::DeleteAnyway(Shareable::Presentation(4)),
            Action::CancelShare,
            Action::Bring(4),
            Action::BringPresentation(4),
            Action::ReviewPriorities,
            Action::Guide {
                id: "role-of-supervision".to_string(),
                part: 2,
                title: String::new(),
            },
        ] {
            let id = custom_id::action(&action);
            assert!(id.len() <= 100, "{id}");
            assert_eq!(custom_id::parse(&id), Some(action.clone()));
        }
        // Buttons sent before kinds were held apart still work, for
        // whichever form is held.
        assert_eq!(custom_id::parse("reopen:held"), Some(Action::Reopen(None)));
        assert_eq!(
            custom_id::parse("held:save"),
            Some(Action::SaveAsWritten(None))
        );
        assert_eq!(
            custom_id::parse("reopen:log"),
            Some(Action::Reopen(Some(HeldKind::Log)))
        );
        assert_eq!(
            custom_id::parse("held:save:case"),
            Some(Action::SaveAsWritten(Some(HeldKind::Case)))
        );
        for forged in [
            "guide:",
            "guide:role-of-supervision",
            "guide:Role of supervision:1",
            "guide:role-of-supervision:0",
            "guide:role-of-supervision:1:2",
            "open:core:9.9x",
            "open:",
            "close:core:3.5",
            "",
            "open:core:3.5:x",
            "view:0",
            "page:0",
            "page:2:core",
            "page:2:core:3.5:x",
            "view:-1",
            "edit:abc",
            "tag:1:core",
            "share:1:anon",
            "share:1:anon:0123",
            "share:1:anon:0123456789abcdef:x",
            "share:1:maybe:0123456789abcdef",
            "share:1:anon:0123456789abcdeg",
            "withdraw:0",
            "withdraw-case:0",
            "share-case:1:anon",
            "delete-anyway-case:x",
            "cancel:all",
            "forget:now",
            "log-delete:0",
            "present-delete:x",
            "present:again",
            "held:keep",
            "present-afresh:long",
            "reopen:other",
            "reopen:",
            "held:save:",
            "held:save:other",
            "held:keep:log",
            "log-afresh:",
            "log-afresh:2026-02-30:y:90:group:-",
            "log-afresh:2026-03-10:y:90:group:nn",
            "log-afresh:2026-03-10:y:90:group:-:x",
            "delete:18446744073709551616",
        ] {
            assert_eq!(custom_id::parse(forged), None, "{forged}");
        }
        for purpose in [ModalPurpose::New("gibbs".into()), ModalPurpose::Edit(7)] {
            assert_eq!(
                custom_id::parse_modal(&custom_id::modal(&purpose)),
                Some((purpose.clone(), false))
            );
            assert_eq!(
                custom_id::parse_modal(&custom_id::modal_reopened(&purpose)),
                Some((purpose, true))
            );
        }
        for forged in [
            "reflect:new:",
            "reflect:edit:0",
            "reflect:new:../x",
            "reflect:other:1",
            "reflect:again:again:new:gibbs",
            "reflect:again:edit:0",
            "x",
        ] {
            assert_eq!(custom_id::parse_modal(forged), None, "{forged}");
        }
    }
}
