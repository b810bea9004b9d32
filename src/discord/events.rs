//! Gateway events that are not slash commands: clicks on the bot's buttons and
//! menus, submitted reflection forms, ordinary messages for the inline mode,
//! a meeting's event deleted in Discord, and a new gateway session (after
//! which every server's meeting events are compared with Discord's).

use poise::serenity_prelude as serenity;
use serenity::{ComponentInteraction, ComponentInteractionDataKind, FullEvent, Message};

use super::reply::{custom_id, no_mentions, to_edit, to_followup, to_response};
use super::{BotError, Data};
use super::{meetings, personal, review, sharing, supervision};
use crate::commands::personal::{Personal, Shareable};
use crate::commands::{Action, Reply, Visibility};
use crate::inline::compact_reply;
use crate::meetings::group::Source;
use crate::reflections::form::HeldKind;

/// The one handler poise calls for every event.
pub async fn handle(
    ctx: &serenity::Context,
    event: &FullEvent,
    data: &Data,
) -> Result<(), BotError> {
    match event {
        FullEvent::InteractionCreate { interaction } => match interaction {
            serenity::Interaction::Component(click) => component(ctx, click, data).await,
            serenity::Interaction::Modal(submit) if submit.data.custom_id == review::MODAL_ID => {
                review::submitted(ctx, submit, data).await
            }
            serenity::Interaction::Modal(submit)
                if supervision::is_ours(&submit.data.custom_id) =>
            {
                supervision::submitted(ctx, submit, data).await
            }
            serenity::Interaction::Modal(submit)
                if meetings::is_bring_form(&submit.data.custom_id) =>
            {
                meetings::bring_submitted(ctx, submit, data).await
            }
            serenity::Interaction::Modal(submit) => personal::submitted(ctx, submit, data).await,
            _ => Ok(()),
        },
        FullEvent::Message { new_message } => message(new_message, data).await,
        FullEvent::GuildScheduledEventDelete { event } => {
            meetings::event_deleted(
                &data.store,
                &data.rest,
                event.guild_id.get(),
                event.id.get(),
                data.clock.now(),
            )
            .await?;
            // The next meeting may now need its event.
            data.scheduler.changed();
            Ok(())
        }
        // A new session (not a resumed one): events deleted in Discord
        // before it were never told, so each server's are compared.
        FullEvent::Ready { .. } => {
            data.scheduler.reconnected();
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A click on one of the bot's buttons or menus. The member is whoever
/// clicked; anything that is not one of ours gets a polite refusal.
async fn component(
    ctx: &serenity::Context,
    click: &ComponentInteraction,
    data: &Data,
) -> Result<(), BotError> {
    let value = match &click.data.kind {
        ComponentInteractionDataKind::StringSelect { values } => values.first().map(String::as_str),
        ComponentInteractionDataKind::Button => Some(click.data.custom_id.as_str()),
        _ => None,
    };
    let action = value.and_then(custom_id::parse);
    // These call Discord (posting or deleting a shared post) before they can
    // answer: the click is acknowledged at once, privately, and answered
    // when done, so Discord's three seconds never run out.
    let deferred = matches!(
        action,
        Some(
            Action::Share { .. }
                | Action::Withdraw(_)
                | Action::ConfirmDelete(_)
                | Action::DeleteAnyway(_)
                | Action::DeletePresentation(_)
                | Action::ConfirmForget
        )
    );
    if action == Some(Action::CancelShare) {
        // The preview itself becomes the answer: its buttons go with it.
        let cancelled = serenity::CreateInteractionResponseMessage::new()
            .content(crate::commands::personal::share_cancelled())
            .embeds(Vec::new())
            .components(Vec::new())
            .allowed_mentions(no_mentions());
        click
            .create_response(
                &ctx.http,
                serenity::CreateInteractionResponse::UpdateMessage(cancelled),
            )
            .await?;
        return Ok(());
    }
    if deferred {
        click.defer_ephemeral(&ctx.http).await?;
    }
    let reply = match what_a_click_opens(click, data, action).await? {
        Opened::Modal(modal) => {
            click
                .create_response(&ctx.http, serenity::CreateInteractionResponse::Modal(modal))
                .await?;
            return Ok(());
        }
        Opened::Reply(reply) => reply,
    };
    if deferred {
        click.edit_response(&ctx.http, to_edit(&reply)).await?;
    } else {
        click
            .create_response(
                &ctx.http,
                serenity::CreateInteractionResponse::Message(to_response(&reply)),
            )
            .await?;
    }
    for more in &reply.more {
        click.create_followup(&ctx.http, to_followup(more)).await?;
    }
    Ok(())
}

/// What a click opens: a form, or a reply.
enum Opened {
    Modal(serenity::CreateModal),
    Reply(Reply),
}

/// What answers a click on `action` by `click`'s member.
async fn what_a_click_opens(
    click: &ComponentInteraction,
    data: &Data,
    action: Option<Action>,
) -> Result<Opened, BotError> {
    let member = click.user.id.get();
    let guild = click.guild_id.map(|g| g.get());
    Ok(Opened::Reply(match action {
        Some(Action::Open(id) | Action::SameNumber(id)) => {
            let mut reply = crate::commands::open(&data.framework, id);
            reply.visibility = Visibility::Private;
            reply
        }
        Some(Action::Guide { id, part, .. }) => {
            let mut reply = crate::commands::open_section(&data.framework, &id, part);
            reply.visibility = Visibility::Private;
            reply
        }
        Some(Action::Edit(n)) => match personal::edit_modal(data, member, n)? {
            Ok(modal) => return Ok(Opened::Modal(modal)),
            Err(reply) => reply,
        },
        Some(Action::Reopen(kind)) => {
            // A button from before kinds were held apart reopens whichever
            // supervision form is held, else the reflection.
            let supervision_kinds = match kind {
                Some(HeldKind::Reflection) => vec![],
                Some(k) => vec![k],
                None => vec![HeldKind::Log, HeldKind::Case],
            };
            for k in &supervision_kinds {
                if let Some(modal) = supervision::reopened_modal(data, member, *k) {
                    return Ok(Opened::Modal(modal));
                }
            }
            if kind.is_some() && !supervision_kinds.is_empty() {
                return Ok(Opened::Reply(supervision::nothing_held()));
            }
            match personal::reopened_modal(data, member)? {
                Ok(modal) => return Ok(Opened::Modal(modal)),
                Err(reply) => reply,
            }
        }
        Some(Action::Bring(n)) => {
            match meetings::bring_form(data, member, guild, Source::Reflection(n))? {
                Ok(modal) => return Ok(Opened::Modal(modal)),
                Err(reply) => reply,
            }
        }
        Some(Action::BringPresentation(n)) => {
            match meetings::bring_form(data, member, guild, Source::Presentation(n))? {
                Ok(modal) => return Ok(Opened::Modal(modal)),
                Err(reply) => reply,
            }
        }
        Some(Action::ReviewPriorities) => match review::modal(data, member)? {
            Ok(modal) => return Ok(Opened::Modal(modal)),
            Err(reply) => reply,
        },
        Some(Action::ReflectOn(id)) => {
            return Ok(Opened::Modal(personal::new_modal(
                data,
                &id.short(),
                "free",
            )));
        }
        Some(Action::Mine(id)) => personal::answer(
            data,
            member,
            guild,
            Personal::List {
                tag: Some(id),
                page: 1,
            },
        )?,
        Some(Action::Page { tag, page }) => {
            personal::answer(data, member, guild, Personal::List { tag, page })?
        }
        Some(Action::View(n)) => personal::answer(data, member, guild, Personal::View(n))?,
        Some(Action::AddTag(n, id)) => {
            personal::answer(data, member, guild, Personal::AddTag(n, id))?
        }
        Some(Action::ConfirmDelete(n)) => {
            sharing::delete(data, member, guild, Shareable::Reflection(n), false).await?
        }
        Some(Action::DeleteAnyway(item)) => {
            sharing::delete(data, member, guild, item, true).await?
        }
        Some(Action::ConfirmForget) => sharing::forget(data, member, guild).await?,
        Some(Action::DeleteLogEntry(n)) => personal::answer(
            data,
            member,
            guild,
            Personal::Log(crate::commands::personal::LogCommand::Delete(n)),
        )?,
        Some(Action::DeletePresentation(n)) => {
            sharing::delete(data, member, guild, Shareable::Presentation(n), false).await?
        }
        Some(Action::ContinueCase) => match supervision::continue_modal(data, member)? {
            Ok(modal) => return Ok(Opened::Modal(modal)),
            Err(reply) => reply,
        },
        Some(Action::PresentAfresh(frame)) => {
            return Ok(Opened::Modal(supervision::first_modal(frame)));
        }
        Some(Action::SaveAsWritten(kind)) => {
            supervision::save_as_written(data, member, guild, kind)?
        }
        Some(Action::LogAfresh(choices)) => {
            return Ok(Opened::Modal(supervision::fresh_log_modal(&choices)));
        }
        Some(Action::LogMeeting(choices)) => match supervision::log_form(data, member, choices) {
            Ok(modal) => return Ok(Opened::Modal(modal)),
            Err(reply) => *reply,
        },
        Some(Action::ShareAsk(n)) => sharing::ask(data, member, guild, Shareable::Reflection(n))?,
        Some(Action::Share {
            item,
            anonymous,
            tag,
        }) => sharing::share(data, &click.user, guild, item, anonymous, tag).await?,
        Some(Action::Withdraw(item)) => sharing::withdraw(data, member, item).await?,
        // Answered above, by changing the preview.
        Some(Action::CancelShare) => {
            Reply::private_text(crate::commands::personal::share_cancelled())
        }
        None => stale_component(),
    }))
}

fn stale_component() -> Reply {
    Reply::user_error(
        "That button or menu is not one this bot can answer any more. Try `/competence` instead."
            .to_string(),
    )
}

/// An ordinary message: in servers that switched inline mode on, answer the
/// explicit competence references it contains. Never answers bots.
async fn message(msg: &Message, data: &Data) -> Result<(), BotError> {
    if msg.author.bot || msg.webhook_id.is_some() || !data.message_content {
        return Ok(());
    }
    let Some(guild) = msg.guild_id else {
        return Ok(());
    };
    if !data.store.guild_settings(guild.get())?.inline {
        return Ok(());
    }
    let due = data.inline.due(
        &data.framework,
        msg.channel_id.get(),
        &msg.content,
        data.clock.now(),
    );
    let Some(text) = compact_reply(&data.framework, &due) else {
        return Ok(());
    };
    let reply = serenity::CreateMessage::new()
        .content(text)
        .reference_message(msg)
        .allowed_mentions(no_mentions());
    if let Err(e) = data.rest.send_message(msg.channel_id, &reply).await {
        tracing::warn!(channel = msg.channel_id.get(), error = %e, "inline answer not sent");
    }
    Ok(())
}
