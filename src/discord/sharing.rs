//! Consent-based sharing: a member may share one of their reflections into
//! the current week's thread, anonymously or with their name, after seeing
//! exactly what will be posted (with the confidentiality check's result) and
//! confirming. The buttons carry the store's content tag of that preview, so
//! an edit in between brings a fresh preview instead of a post. One post per
//! reflection; the author can withdraw it, and deleting or forgetting the
//! reflection withdraws it too. Nothing is ever shared otherwise, and only
//! the author can share or withdraw their own reflection.

use std::collections::HashMap;
use std::sync::Arc;

use poise::serenity_prelude as serenity;

use super::reply::{embed, no_mentions};
use super::{BotError, Data};
use crate::commands::Reply;
use crate::commands::personal::{self, Personal, Withdrawals, shared_card};
use crate::reflections::SharedPost;

/// One lock per member for the paths that post or remove posts: sharing
/// (from the check that nothing is shared yet to the record of the post),
/// withdrawing, and the withdrawal before a delete or forget-me (from
/// reading where the posts are to erasing the record). A second click waits
/// for the first, then sees what it did: no double post, and no post left
/// behind unrecorded by a forget-me that ran while it was being made.
#[derive(Debug, Default)]
pub struct MemberLocks(std::sync::Mutex<HashMap<u64, Arc<tokio::sync::Mutex<()>>>>);

impl MemberLocks {
    /// Waits for `member`'s lock.
    pub async fn lock(&self, member: u64) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
            // Locks nobody holds or waits for are dropped as others are taken.
            all.retain(|_, l| Arc::strong_count(l) > 1);
            Arc::clone(all.entry(member).or_default())
        };
        lock.lock_owned().await
    }
}

/// Where a reflection would be shared: the thread of the next meeting's
/// agenda when the member brought it there, else this week's thread.
struct Target {
    thread: u64,
    /// The place in words: "this week's thread".
    place: String,
    /// Mixed into the preview's tag, so a preview for one place never
    /// posts in another.
    salt: u64,
}

fn target(
    data: &Data,
    member: u64,
    guild: Option<u64>,
    id: u64,
) -> Result<Result<Target, Reply>, BotError> {
    if let Some(g) = guild {
        let m = data.store.meetings(g)?;
        if let Some((item, Some(thread), place)) =
            crate::meetings::group::brought(&m, member, data.clock.now())
            && item.reflection == Some(id)
        {
            return Ok(Ok(Target {
                thread,
                place,
                salt: thread,
            }));
        }
    }
    Ok(this_weeks_thread(data, guild)?.map(|thread| Target {
        thread,
        place: "this week's thread".into(),
        salt: 0,
    }))
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
    let to = match target(data, member, guild, id)? {
        Ok(to) => to,
        Err(reply) => return Ok(reply),
    };
    Ok(personal::share_preview(
        &r,
        data.store.content_tag(&r) ^ to.salt,
        &to.place,
    ))
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
    let _member = data.member_locks.lock(author).await;
    let Some(r) = data.store.reflection(author, id)? else {
        return Ok(personal::not_found(id));
    };
    if !r.shared.is_empty() {
        return Ok(personal::already_shared(id));
    }
    let to = match target(data, author, guild, id)? {
        Ok(to) => to,
        Err(reply) => return Ok(reply),
    };
    if data.store.content_tag(&r) ^ to.salt != tag {
        let mut fresh = ask(data, author, guild, id)?;
        let text = fresh.text.take().unwrap_or_default();
        fresh.text = Some(format!(
            "Reflection #{id}, or where it would be shared, has changed since that preview, so nothing was shared. This is what would be shared now.\n\n{text}"
        ));
        return Ok(fresh);
    }
    let thread = to.thread;
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
        guild,
        channel: thread,
        message: posted.id.get(),
        anonymous,
        at: now,
    };
    let recorded = data.store.update_shares(author, id, |shared, discussed| {
        shared.push(post);
        *discussed = true;
    });
    if !matches!(recorded, Ok(Some(_))) {
        // A post the author could not withdraw later is not left behind.
        let undone = withdraw_posts(data, &[post]).await;
        if let Err(e) = recorded {
            tracing::error!(error = %e, undone = undone.removed, "a share could not be recorded");
        }
        let mut text =
            "The share could not be recorded, so it was taken down again. Try again in a moment."
                .to_string();
        if !undone.left.is_empty() {
            text = format!(
                "The share could not be recorded. {}",
                personal::withdrawal_note(&undone).unwrap_or_default()
            );
        }
        return Ok(Reply::user_error(text));
    }
    Ok(Reply::private_text(format!(
        "Shared reflection #{id} into {}{}. You can withdraw it at any time from `/reflections view {id}`.",
        to.place,
        if anonymous {
            ", anonymously"
        } else {
            ", with your name"
        }
    )))
}

/// Deletes one of the bot's posts. A thread the week has archived is
/// opened for the deletion and archived again; a post already gone counts
/// as removed.
async fn delete_post(data: &Data, post: &SharedPost) -> bool {
    let rest = &data.rest;
    let first = rest.delete_message(post.channel, post.message).await;
    let result = match first {
        // 50083: the thread is archived; the bot made it, so it may reopen it.
        Err(e) if e.code() == Some(50083) => match rest.set_archived(post.channel, false).await {
            Ok(()) => {
                let again = rest.delete_message(post.channel, post.message).await;
                if let Err(e) = rest.set_archived(post.channel, true).await {
                    tracing::warn!(error = %e, "a thread reopened for a withdrawal stays open");
                }
                again
            }
            Err(e) => Err(e),
        },
        other => other,
    };
    match result {
        Ok(()) => true,
        Err(e) if e.status() == Some(404) => true,
        Err(e) => {
            tracing::warn!(error = %e, "a shared post could not be withdrawn");
            false
        }
    }
}

/// A post's link, for its author to find it.
fn post_link(post: &SharedPost) -> String {
    let guild = post.guild.map_or("@me".to_string(), |g| g.to_string());
    format!(
        "https://discord.com/channels/{guild}/{}/{}",
        post.channel, post.message
    )
}

/// Deletes the bot's posts, saying which stay.
pub async fn withdraw_posts(data: &Data, posts: &[SharedPost]) -> Withdrawals {
    let mut done = Withdrawals::default();
    for post in posts {
        if delete_post(data, post).await {
            done.removed += 1;
        } else {
            done.left.push((*post, post_link(post)));
        }
    }
    done
}

/// Withdraws `posts` of reflection `id`; those that could not be removed
/// stay on record, so a later withdrawal can try again.
async fn withdraw_and_record(
    data: &Data,
    author: u64,
    id: u64,
    posts: &[SharedPost],
) -> Result<Withdrawals, BotError> {
    let done = withdraw_posts(data, posts).await;
    data.store.update_shares(author, id, |shared, _| {
        shared.retain(|p| done.left.iter().any(|(left, _)| left == p));
    })?;
    Ok(done)
}

/// Withdraws reflection `id`'s post from the group's thread.
pub async fn withdraw(data: &Data, author: u64, id: u64) -> Result<Reply, BotError> {
    let _member = data.member_locks.lock(author).await;
    let Some(r) = data.store.reflection(author, id)? else {
        return Ok(personal::not_found(id));
    };
    if r.shared.is_empty() {
        return Ok(personal::not_shared(id));
    }
    let done = withdraw_and_record(data, author, id, &r.shared).await?;
    Ok(personal::withdrawn(id, &done))
}

/// Deletes reflection `id`, withdrawing its posts first. If a post cannot
/// be withdrawn, the reflection is kept (so the post can be withdrawn
/// later) unless the member said to delete it `anyway`.
pub async fn delete(
    data: &Data,
    author: u64,
    guild: Option<u64>,
    id: u64,
    anyway: bool,
) -> Result<Reply, BotError> {
    let _member = data.member_locks.lock(author).await;
    let mut done = Withdrawals::default();
    if let Some(r) = data.store.reflection(author, id)?
        && !r.shared.is_empty()
    {
        done = withdraw_and_record(data, author, id, &r.shared).await?;
        if !done.left.is_empty() && !anyway {
            return Ok(personal::not_deleted_while_shared(id, &done));
        }
    }
    let reply = super::personal::answer(data, author, guild, Personal::Delete(id))?;
    Ok(with_note(reply, personal::withdrawal_note(&done)))
}

/// Forget-me, confirmed: every post of the member's withdrawn, then
/// everything erased, under the member's lock so no share is recorded in
/// between. What could not be withdrawn is linked in the reply. The
/// confirmation is what fair use counts, before the lock, so a second click
/// within the wait (a stale or duplicated button) is refused at once with
/// nothing done.
pub async fn forget(data: &Data, author: u64, guild: Option<u64>) -> Result<Reply, BotError> {
    if let Err(wait) = data
        .fair_use
        .admit(author, &Personal::ForgetMe, data.clock.now())
    {
        return Ok(Reply::user_error(wait));
    }
    let _member = data.member_locks.lock(author).await;
    let readable = data.store.reflections_of(author)?;
    let posts: Vec<SharedPost> = readable
        .items
        .iter()
        .flat_map(|r| r.shared.iter().copied())
        .collect();
    let mut done = withdraw_posts(data, &posts).await;
    done.unknown = readable.unreadable.len();
    let reply = super::personal::answer(data, author, guild, Personal::ForgetMe)?;
    Ok(with_note(reply, personal::withdrawal_note(&done)))
}

/// A reply with one more paragraph, if there is one.
fn with_note(mut reply: Reply, note: Option<String>) -> Reply {
    if let Some(note) = note {
        let text = reply.text.take().unwrap_or_default();
        reply.text = Some(format!("{text}\n\n{note}"));
    }
    reply
}
