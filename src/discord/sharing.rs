//! Consent-based sharing: a member may share one of their reflections into
//! the current week's thread, anonymously or with their name, after seeing
//! exactly what will be posted and confirming. Nothing is ever shared
//! otherwise, and only the author can share their own reflection.

use poise::serenity_prelude as serenity;

use super::reply::{embed, no_mentions};
use super::{BotError, Data};
use crate::commands::personal::shared_card;
use crate::commands::{Action, Reply, Visibility};

fn this_weeks_thread(data: &Data, guild: Option<u64>) -> Result<Result<u64, Reply>, BotError> {
    let none = || {
        Reply::user_error("There is no weekly thread to share into yet: sharing opens once this server's competence of the week has been posted.".into())
    };
    let Some(guild) = guild else {
        return Ok(Err(none()));
    };
    let week = data.store.schedule(guild)?.and_then(|r| r.current);
    Ok(week.and_then(|w| w.thread).ok_or_else(none))
}

/// The exact preview, with the two ways to share.
pub fn ask(data: &Data, member: u64, guild: Option<u64>, id: u64) -> Result<Reply, BotError> {
    let Some(r) = data.store.reflection(member, id)? else {
        return Ok(Reply::user_error(format!(
            "You have no reflection #{id}. `/reflections list` shows the ones you have."
        )));
    };
    if let Err(reply) = this_weeks_thread(data, guild)? {
        return Ok(reply);
    }
    Ok(Reply {
        visibility: Visibility::Private,
        text: Some("This is exactly what the group will see in this week's thread if you share anonymously; sharing with your name puts your name in place of “a member”. Nothing is shared unless you press a button below.".into()),
        cards: vec![shared_card(&r, "a member")],
        actions: vec![Action::Share(id, true), Action::Share(id, false)],
        ..Reply::default()
    })
}

/// Shares it, once the author has confirmed.
pub async fn share(
    data: &Data,
    member: &serenity::User,
    guild: Option<u64>,
    id: u64,
    anonymous: bool,
) -> Result<Reply, BotError> {
    let Some(r) = data.store.reflection(member.id.get(), id)? else {
        return Ok(Reply::user_error(format!(
            "You have no reflection #{id}. `/reflections list` shows the ones you have."
        )));
    };
    let thread = match this_weeks_thread(data, guild)? {
        Ok(thread) => thread,
        Err(reply) => return Ok(reply),
    };
    let byline = if anonymous {
        "a member".to_string()
    } else {
        member
            .global_name
            .clone()
            .unwrap_or_else(|| member.name.clone())
    };
    let card = shared_card(&r, &byline);
    let message = serenity::CreateMessage::new()
        .embed(embed(&card, None))
        .allowed_mentions(no_mentions());
    match data
        .rest
        .send_message(serenity::ChannelId::new(thread.max(1)), &message)
        .await
    {
        Ok(_) => Ok(Reply::private_text(format!(
            "Shared reflection #{id} into this week's thread{}.",
            if anonymous {
                ", anonymously"
            } else {
                ", with your name"
            }
        ))),
        Err(e) => {
            tracing::warn!(error = %e, "a shared reflection could not be posted");
            Ok(Reply::user_error("The thread could not be posted to just now (it may be archived or closed). Nothing was shared.".into()))
        }
    }
}
