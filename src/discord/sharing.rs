//! Consent-based sharing: a member may share one of their reflections into
//! the current week's thread (or the thread of the meeting they brought it
//! to), or a case presentation they brought to a meeting into that
//! meeting's thread, anonymously or with their name, after seeing exactly
//! what will be posted (with the confidentiality check's result) and
//! confirming. The buttons carry the store's content tag of that preview,
//! so a change in between brings a fresh preview instead of a post. One
//! share each; the author can withdraw it, and deleting or forgetting what
//! was shared withdraws it too. Nothing is ever shared otherwise, and only
//! the author can share or withdraw their own. Reflections and
//! presentations go through the one path here; only reading them,
//! recording their posts and deleting them differ, in [`Thing`].

use poise::serenity_prelude as serenity;

use super::reply::{embed, no_mentions};
use super::{BotError, Data};
use crate::commands::Reply;
use crate::commands::personal::{self, CaseCommand, Personal, Shareable, Withdrawals, shared_card};
use crate::reflections::{Reflection, SharedPost};
use crate::render::Card;
use crate::supervision::case::CasePresentation;

/// A reflection or presentation of the member's, as read now.
enum Thing {
    Reflection(Reflection),
    Presentation(CasePresentation, Vec<SharedPost>),
}

impl Thing {
    /// `member`'s `item`, if they have it.
    fn read(data: &Data, member: u64, item: Shareable) -> Result<Option<Thing>, BotError> {
        Ok(match item {
            Shareable::Reflection(n) => data.store.reflection(member, n)?.map(Thing::Reflection),
            Shareable::Presentation(n) => match data.store.presentation(member, n)? {
                Some(p) => Some(Thing::Presentation(
                    p,
                    data.store.presentation_posts(member, n)?,
                )),
                None => None,
            },
        })
    }

    /// Where it is posted now.
    fn posts(&self) -> &[SharedPost] {
        match self {
            Thing::Reflection(r) => &r.shared,
            Thing::Presentation(_, posts) => posts,
        }
    }

    /// The store's tag of what it shows.
    fn tag(&self, data: &Data, member: u64) -> u64 {
        match self {
            Thing::Reflection(r) => data.store.content_tag(r),
            Thing::Presentation(p, _) => data.store.presentation_tag(member, p),
        }
    }

    /// The exact preview, with `tag` on its buttons.
    fn preview(&self, data: &Data, tag: u64, place: &str) -> Reply {
        match self {
            Thing::Reflection(r) => personal::share_preview(r, tag, place),
            Thing::Presentation(p, _) => {
                personal::presentation_preview(p, tag, place, &data.framework)
            }
        }
    }

    /// What the group sees, under `byline`: the cards of each post, in order.
    fn posts_of(&self, data: &Data, byline: &str) -> Vec<Vec<Card>> {
        match self {
            Thing::Reflection(r) => vec![vec![shared_card(r, byline)]],
            Thing::Presentation(p, _) => personal::shared_presentation(p, byline, &data.framework),
        }
    }
}

/// Records `change` to where `item` is posted; false if it is gone.
fn record(
    data: &Data,
    author: u64,
    item: Shareable,
    change: impl FnOnce(&mut Vec<SharedPost>),
) -> Result<bool, crate::store::StoreError> {
    match item {
        Shareable::Reflection(n) => Ok(data
            .store
            .update_shares(author, n, |shared, discussed| {
                let before = shared.len();
                change(shared);
                // A reflection shared is one the group discussed.
                *discussed |= shared.len() > before;
            })?
            .is_some()),
        Shareable::Presentation(n) => data.store.update_presentation_posts(author, n, change),
    }
}

/// Where something would be shared: the thread of the next meeting's
/// agenda when the member brought it there, else (a reflection only) this
/// week's thread.
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
    item: Shareable,
) -> Result<Result<Target, Reply>, BotError> {
    if let Some(g) = guild {
        let m = data.store.meetings(g)?;
        if let Some((brought, thread, place)) =
            crate::meetings::group::brought(&m, member, data.clock.now())
        {
            let this = match item {
                Shareable::Reflection(n) => brought.reflection == Some(n),
                Shareable::Presentation(n) => brought.presentation == Some(n),
            };
            match thread {
                Some(thread) if this => {
                    return Ok(Ok(Target {
                        thread,
                        place,
                        salt: thread,
                    }));
                }
                None if this && matches!(item, Shareable::Presentation(_)) => {
                    return Ok(Err(no_agenda_thread()));
                }
                _ => {}
            }
        }
    }
    if let Shareable::Presentation(n) = item {
        return Ok(Err(Reply::user_error(format!(
            "Case presentation #{n} is not on the next meeting's agenda, and a presentation is shared only into the thread of the meeting it is brought to: `/agenda bring minutes:20 presentation:{n}` brings it, then `/agenda share` previews it. Nothing was shared."
        ))));
    }
    Ok(this_weeks_thread(data, guild)?.map(|thread| Target {
        thread,
        place: "this week's thread".into(),
        salt: 0,
    }))
}

/// The answer when the next meeting's agenda has no thread to share into.
pub(super) fn no_agenda_thread() -> Reply {
    Reply::user_error(
        "The meeting's agenda has no thread to share into yet: Discord has not opened one (`/meeting` says whether it is still being opened). Nothing was shared.".into(),
    )
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

/// The exact preview, with the two ways to share and the way not to.
pub fn ask(
    data: &Data,
    member: u64,
    guild: Option<u64>,
    item: Shareable,
) -> Result<Reply, BotError> {
    let Some(thing) = Thing::read(data, member, item)? else {
        return Ok(item.not_found());
    };
    if !thing.posts().is_empty() {
        return Ok(personal::already_shared(item));
    }
    let to = match target(data, member, guild, item)? {
        Ok(to) => to,
        Err(reply) => return Ok(reply),
    };
    Ok(thing.preview(data, thing.tag(data, member) ^ to.salt, &to.place))
}

/// Shares it, once the author has confirmed the preview named by `tag`.
pub async fn share(
    data: &Data,
    member: &serenity::User,
    guild: Option<u64>,
    item: Shareable,
    anonymous: bool,
    tag: u64,
) -> Result<Reply, BotError> {
    let author = member.id.get();
    let _member = data.store.hold_member(author).await?;
    let Some(thing) = Thing::read(data, author, item)? else {
        let mut reply = item.not_found();
        if let Some(text) = &mut reply.text {
            text.push_str(" Nothing was shared.");
        }
        return Ok(reply);
    };
    if !thing.posts().is_empty() {
        return Ok(personal::already_shared(item));
    }
    let to = match target(data, author, guild, item)? {
        Ok(to) => to,
        Err(reply) => return Ok(reply),
    };
    if thing.tag(data, author) ^ to.salt != tag {
        let fresh = ask(data, author, guild, item)?;
        return Ok(personal::changed_since_preview(item, fresh));
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
    let now = data.clock.now();
    let mut posts = Vec::new();
    for cards in thing.posts_of(data, &byline) {
        let message = serenity::CreateMessage::new()
            .embeds(cards.iter().map(|card| embed(card, None)).collect())
            .allowed_mentions(no_mentions());
        match data
            .rest
            .send_message(serenity::ChannelId::new(thread.max(1)), &message)
            .await
        {
            Ok(posted) => posts.push(SharedPost {
                guild,
                channel: thread,
                message: posted.id.get(),
                anonymous,
                at: now,
            }),
            Err(e) => {
                tracing::warn!(error = %e, "a share could not be posted");
                // Part of it is not shared: what went up comes down.
                let undone = withdraw_posts(data, &posts).await;
                let text = match personal::withdrawal_note(&undone) {
                    Some(note) if !undone.left.is_empty() => format!(
                        "The thread could not be posted to just now (it may be archived or closed), so not all of it was shared. {note}"
                    ),
                    _ => "The thread could not be posted to just now (it may be archived or closed). Nothing was shared.".into(),
                };
                return Ok(Reply::user_error(text));
            }
        }
    }
    let recorded = record(data, author, item, |shared| {
        shared.extend(posts.iter().copied())
    });
    if !matches!(recorded, Ok(true)) {
        // A post the author could not withdraw later is not left behind.
        let undone = withdraw_posts(data, &posts).await;
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
        "Shared {} into {}{}. You can withdraw it at any time from {}.",
        item.words(),
        to.place,
        if anonymous {
            ", anonymously"
        } else {
            ", with your name"
        },
        item.read_at()
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

/// Withdraws `posts` of `item`; those that could not be removed stay on
/// record, so a later withdrawal can try again.
async fn withdraw_and_record(
    data: &Data,
    author: u64,
    item: Shareable,
    posts: &[SharedPost],
) -> Result<Withdrawals, BotError> {
    let done = withdraw_posts(data, posts).await;
    record(data, author, item, |shared| {
        shared.retain(|p| done.left.iter().any(|(left, _)| left == p));
    })?;
    Ok(done)
}

/// Withdraws `item`'s post from the group's thread.
pub async fn withdraw(data: &Data, author: u64, item: Shareable) -> Result<Reply, BotError> {
    let _member = data.store.hold_member(author).await?;
    let Some(thing) = Thing::read(data, author, item)? else {
        return Ok(item.not_found());
    };
    if thing.posts().is_empty() {
        return Ok(personal::not_shared(item));
    }
    let done = withdraw_and_record(data, author, item, thing.posts()).await?;
    Ok(personal::withdrawn(item, &done))
}

/// Deletes `item`, withdrawing its posts first. If a post cannot be
/// withdrawn, it is kept (so the post can be withdrawn later) unless the
/// member said to delete it `anyway`.
pub async fn delete(
    data: &Data,
    author: u64,
    guild: Option<u64>,
    item: Shareable,
    anyway: bool,
) -> Result<Reply, BotError> {
    let _member = data.store.hold_member(author).await?;
    let mut done = Withdrawals::default();
    if let Some(thing) = Thing::read(data, author, item)?
        && !thing.posts().is_empty()
    {
        done = withdraw_and_record(data, author, item, thing.posts()).await?;
        if !done.left.is_empty() && !anyway {
            return Ok(personal::not_deleted_while_shared(item, &done));
        }
    }
    let command = match item {
        Shareable::Reflection(n) => Personal::Delete(n),
        Shareable::Presentation(n) => Personal::Cases(CaseCommand::Delete(n)),
    };
    let reply = super::personal::answer(data, author, guild, command)?;
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
    let _member = data.store.hold_member(author).await?;
    let readable = data.store.reflections_of(author)?;
    let mut posts: Vec<SharedPost> = readable
        .items
        .iter()
        .flat_map(|r| r.shared.iter().copied())
        .collect();
    posts.extend(
        data.store
            .all_presentation_posts(author)?
            .into_iter()
            .map(|(_, post)| post),
    );
    let mut done = withdraw_posts(data, &posts).await;
    done.unknown = readable.unreadable.len();
    // No meetings change read before the erasure may write the member back
    // into a rota after it.
    let _meetings = data.store.hold_meetings().await?;
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
