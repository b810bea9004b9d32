//! Consent-based sharing: a member may share one of their reflections into
//! the current week's thread, anonymously or with their name, after seeing
//! exactly what will be posted (with the confidentiality check's result) and
//! confirming. The buttons carry the store's content tag of that preview, so
//! an edit in between brings a fresh preview instead of a post. One post per
//! reflection; the author can withdraw it, and deleting or forgetting the
//! reflection withdraws it too. Nothing is ever shared otherwise, and only
//! the author can share or withdraw their own reflection.

use std::collections::HashSet;
use std::sync::Mutex;

use poise::serenity_prelude as serenity;

use super::reply::{embed, no_mentions};
use super::{BotError, Data};
use crate::commands::Reply;
use crate::commands::personal::{self, Withdrawals, shared_card};
use crate::reflections::SharedPost;

/// Reflections being shared right now: a second click while the first is
/// posting is refused rather than posted twice.
#[derive(Debug, Default)]
pub struct InFlight(Mutex<HashSet<(u64, u64)>>);

/// Holds one reflection's place in [`InFlight`] until dropped.
struct Claim<'a> {
    set: &'a InFlight,
    key: (u64, u64),
}

impl InFlight {
    fn claim(&self, member: u64, id: u64) -> Option<Claim<'_>> {
        let mut set = self.0.lock().unwrap_or_else(|e| e.into_inner());
        set.insert((member, id)).then_some(Claim {
            set: self,
            key: (member, id),
        })
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let mut set = self.set.0.lock().unwrap_or_else(|e| e.into_inner());
        set.remove(&self.key);
    }
}

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
        return Ok(personal::not_found(id));
    };
    if !r.shared.is_empty() {
        return Ok(personal::already_shared(id));
    }
    if let Err(reply) = this_weeks_thread(data, guild)? {
        return Ok(reply);
    }
    Ok(personal::share_preview(&r, data.store.content_tag(&r)))
}

/// Shares it, once the author has confirmed the preview named by `tag`.
pub async fn share(
    data: &Data,
    member: &serenity::User,
    guild: Option<u64>,
    id: u64,
    anonymous: bool,
    tag: u64,
) -> Result<Reply, BotError> {
    let author = member.id.get();
    let Some(r) = data.store.reflection(author, id)? else {
        return Ok(personal::not_found(id));
    };
    if !r.shared.is_empty() {
        return Ok(personal::already_shared(id));
    }
    if data.store.content_tag(&r) != tag {
        let mut fresh = ask(data, author, guild, id)?;
        let text = fresh.text.take().unwrap_or_default();
        fresh.text = Some(format!(
            "Reflection #{id} has changed since that preview, so nothing was shared. This is what would be shared now.\n\n{text}"
        ));
        return Ok(fresh);
    }
    let thread = match this_weeks_thread(data, guild)? {
        Ok(thread) => thread,
        Err(reply) => return Ok(reply),
    };
    let Some(_claim) = data.sharing.claim(author, id) else {
        return Ok(Reply::user_error(format!(
            "Reflection #{id} is being shared already; it is posted once."
        )));
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
    let posted = match data
        .rest
        .send_message(serenity::ChannelId::new(thread.max(1)), &message)
        .await
    {
        Ok(posted) => posted,
        Err(e) => {
            tracing::warn!(error = %e, "a shared reflection could not be posted");
            return Ok(Reply::user_error("The thread could not be posted to just now (it may be archived or closed). Nothing was shared.".into()));
        }
    };
    let now = data.clock.now();
    let post = SharedPost {
        channel: thread,
        message: posted.id.get(),
        anonymous,
        at: now,
    };
    let recorded = data.store.update_reflection(author, id, now, |r| {
        r.shared.push(post);
        r.discussed = true;
    });
    if !matches!(recorded, Ok(Some(_))) {
        // A post the author could not withdraw later is not left behind.
        let undone = withdraw_posts(data, &[post]).await;
        if let Err(e) = recorded {
            tracing::error!(error = %e, undone = undone.removed, "a share could not be recorded");
        }
        return Ok(Reply::user_error(format!(
            "The share could not be recorded, so it was taken down again{}. Try again in a moment.",
            if undone.left > 0 {
                " (the post could not be removed: ask a moderator to delete it)"
            } else {
                ""
            }
        )));
    }
    Ok(Reply::private_text(format!(
        "Shared reflection #{id} into this week's thread{}. You can withdraw it at any time from `/reflections view {id}`.",
        if anonymous {
            ", anonymously"
        } else {
            ", with your name"
        }
    )))
}

/// Deletes the bot's posts; a post already gone counts as removed.
pub async fn withdraw_posts(data: &Data, posts: &[SharedPost]) -> Withdrawals {
    let mut done = Withdrawals::default();
    for post in posts {
        match data.rest.delete_message(post.channel, post.message).await {
            Ok(()) => done.removed += 1,
            Err(e) if e.status() == Some(404) => done.removed += 1,
            Err(e) => {
                tracing::warn!(error = %e, "a shared post could not be withdrawn");
                done.left += 1;
            }
        }
    }
    done
}

/// The posts that could not be removed stay on record, so a later withdrawal
/// can try again; the removed ones are forgotten.
async fn withdraw_and_record(
    data: &Data,
    author: u64,
    id: u64,
    posts: &[SharedPost],
) -> Result<Withdrawals, BotError> {
    let mut left = Vec::new();
    let mut done = Withdrawals::default();
    for post in posts {
        let one = withdraw_posts(data, std::slice::from_ref(post)).await;
        done.removed += one.removed;
        done.left += one.left;
        if one.left > 0 {
            left.push(*post);
        }
    }
    data.store
        .update_reflection(author, id, data.clock.now(), |r| {
            r.shared.retain(|p| left.contains(p));
        })?;
    Ok(done)
}

/// Withdraws reflection `id`'s post from the group's thread.
pub async fn withdraw(data: &Data, author: u64, id: u64) -> Result<Reply, BotError> {
    let Some(r) = data.store.reflection(author, id)? else {
        return Ok(personal::not_found(id));
    };
    if r.shared.is_empty() {
        return Ok(personal::not_shared(id));
    }
    let done = withdraw_and_record(data, author, id, &r.shared).await?;
    data.scheduler.changed();
    Ok(personal::withdrawn(id, done))
}

/// Before reflection `id` is deleted: its posts withdrawn.
pub async fn withdraw_before_delete(
    data: &Data,
    author: u64,
    id: u64,
) -> Result<Withdrawals, BotError> {
    match data.store.reflection(author, id)? {
        Some(r) if !r.shared.is_empty() => withdraw_and_record(data, author, id, &r.shared).await,
        _ => Ok(Withdrawals::default()),
    }
}

/// Before forget-me: every post of the member's withdrawn. Reflections that
/// cannot be read are counted, as their posts cannot be known.
pub async fn withdraw_before_forget(data: &Data, author: u64) -> Result<Withdrawals, BotError> {
    let readable = data.store.reflections_of(author)?;
    let posts: Vec<SharedPost> = readable
        .items
        .iter()
        .flat_map(|r| r.shared.iter().copied())
        .collect();
    Ok(withdraw_posts(data, &posts).await)
}
