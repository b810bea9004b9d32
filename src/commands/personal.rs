//! Commands about a member's own reflections: save, list, view, edit, delete,
//! export, forget-me and the competence map. Every reply is private, and every
//! lookup is scoped to the member who asked, so another member's reflection
//! is never found, whatever id is given.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::{Action, Attachment, Reply, Visibility};
use crate::framework::{CompetenceId, Framework};
use crate::prompts::model_name;
use crate::reflections::export;
use crate::reflections::map::{coverage, entries, map_card};
use crate::reflections::nudge;
use crate::reflections::{Draft, Reflection, Summary, minutes_text, suggested_tags, tags_text};
use crate::render::{Card, Field, fit, limits};
use crate::store::{Store, StoreError};

/// Reflections per page of a list.
pub const PER_PAGE: usize = 10;

/// Who is asking, and with what.
pub struct Member<'a> {
    /// The framework reflections are written against.
    pub framework: &'a Framework,
    /// The store.
    pub store: &'a Store,
    /// The member's id (their Discord user id; the console's local member).
    pub id: u64,
    /// Now, from the front-end's clock.
    pub now: DateTime<Utc>,
    /// The server the member wrote from, if any: its group counts (counts
    /// only) learn which competences were reflected on.
    pub guild: Option<u64>,
    /// How times are shown to this member.
    pub times: Times,
}

/// How a front-end shows a moment to its member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Times {
    /// In UTC, said so.
    #[default]
    Utc,
    /// In the machine's local time zone (the console).
    Local,
    /// As a Discord timestamp, which each reader's app shows in their own time.
    Discord,
}

impl Times {
    /// A date and time: "25 November 2026, 14:05".
    pub fn moment(self, t: DateTime<Utc>) -> String {
        match self {
            Times::Utc => t.format("%-d %B %Y, %H:%M UTC").to_string(),
            Times::Local => t
                .with_timezone(&chrono::Local)
                .format("%-d %B %Y, %H:%M")
                .to_string(),
            Times::Discord => format!("<t:{}:f>", t.timestamp()),
        }
    }

    /// A date: "25 Nov 2026".
    pub fn day(self, t: DateTime<Utc>) -> String {
        match self {
            Times::Utc => t.format("%-d %b %Y").to_string(),
            Times::Local => t
                .with_timezone(&chrono::Local)
                .format("%-d %b %Y")
                .to_string(),
            Times::Discord => format!("<t:{}:D>", t.timestamp()),
        }
    }
}

/// What an export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportKind {
    /// Everything, as Markdown and JSON.
    #[default]
    Everything,
    /// A CPD record, as Markdown and CSV.
    Cpd {
        /// Only the membership year starting in this calendar year.
        year: Option<i32>,
        /// The month membership years start in, 1–12.
        starts: u32,
    },
}

/// A command about the member's own reflections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Personal {
    /// Save a new reflection.
    Save(Draft),
    /// A page of my reflections, optionally only those tagged with a competence.
    List {
        /// Only those tagged with this competence.
        tag: Option<CompetenceId>,
        /// Page number, from 1.
        page: usize,
    },
    /// One of my reflections in full.
    View(u64),
    /// Replace one of my reflections.
    Edit(u64, Draft),
    /// Add one tag to one of my reflections.
    AddTag(u64, CompetenceId),
    /// Remove one tag from one of my reflections.
    RemoveTag(u64, CompetenceId),
    /// Delete one of my reflections (the front-end has asked for confirmation).
    Delete(u64),
    /// My reflections as files: everything, or a CPD record.
    Export(ExportKind),
    /// Remove everything of mine (the front-end has asked for confirmation).
    ForgetMe,
    /// My competence map.
    Map,
}

fn private(text: String) -> Reply {
    Reply::private_text(text)
}

/// The answer for a reflection number the member does not have.
pub fn not_found(id: u64) -> Reply {
    Reply::user_error(format!(
        "You have no reflection #{id}. `/reflections list` shows the ones you have."
    ))
}

/// A question a front-end asks before a change that cannot be undone: the
/// same words on every front-end, confirmed by a button (Discord) or by
/// typing a word (the console).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    /// The question, naming what would go.
    pub question: String,
    /// The word that confirms it when typed.
    pub word: &'static str,
    /// What is said when it is not confirmed.
    pub declined: String,
    /// What confirms it when clicked.
    pub confirm: Action,
}

impl Confirmation {
    /// The question as a reply with its button.
    pub fn reply(&self) -> Reply {
        let mut reply = private(self.question.clone());
        reply.actions = vec![self.confirm.clone()];
        reply
    }
}

/// Asks before deleting reflection `r`, named as every view names it.
pub fn confirm_delete(r: &Reflection) -> Confirmation {
    Confirmation {
        question: format!(
            "Delete reflection #{}, “{}”? This cannot be undone.{}",
            r.id,
            fit(&r.heading(), 80),
            if r.shared.is_empty() {
                ""
            } else {
                " Its post in the group's thread is withdrawn too."
            }
        ),
        word: "yes",
        declined: format!("Kept: reflection #{} was not deleted.", r.id),
        confirm: Action::ConfirmDelete(r.id),
    }
}

/// Asks before forgetting everything of a member who has `count` reflections.
pub fn confirm_forget(count: usize) -> Confirmation {
    Confirmation {
        question: format!(
            "This removes all {} and your encryption key, for good. `/reflections export` first if you want a copy. Go ahead?",
            match count {
                1 => "1 of your reflections".to_string(),
                n => format!("{n} of your reflections"),
            }
        ),
        word: "forget-me",
        declined: "Nothing was removed.".to_string(),
        confirm: Action::ConfirmForget,
    }
}

/// A reply to a submitted form with what was not kept of it: each refused
/// field named with its reason, and the button that reopens the form with
/// what was saved (the reflection's Edit), first.
pub fn with_form_notes(mut reply: Reply, notes: &[String]) -> Reply {
    if notes.is_empty() || reply.is_error {
        return reply;
    }
    let text = reply.text.take().unwrap_or_default();
    let edit = reply.actions.iter().find_map(|a| match a {
        Action::Edit(n) | Action::View(n) => Some(*n),
        _ => None,
    });
    let reopen = edit.map_or(String::new(), |n| {
        format!(" Edit #{n} reopens the form with what was saved.")
    });
    reply.text = Some(format!(
        "{text}\n\nNot everything you typed could be kept:\n{}{reopen}",
        notes
            .iter()
            .map(|n| format!("• {n}"))
            .collect::<Vec<_>>()
            .join("\n")
    ));
    if let Some(n) = edit {
        reply.actions.retain(|a| *a != Action::Edit(n));
        reply.actions.insert(0, Action::Edit(n));
    }
    reply
}

/// The answer when Discord's form cannot hold a reflection for editing.
pub fn too_long_for_the_form(id: u64, chars: usize) -> String {
    format!(
        "Reflection #{id} is {chars} characters long, more than Discord's form holds ({}), so it cannot be edited here without cutting it. Edit it where it was written, or `/reflections export` for a copy.",
        crate::reflections::MAX_TEXT_CHARS
    )
}

/// The answer to a member who runs an expensive command again too soon
/// (each of these reads all their reflections).
pub fn cooldown_text(command: &str, remaining: std::time::Duration) -> String {
    let seconds = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
    format!(
        "`/{command}` reads every reflection you have, so each member can run it only every so often. Try again in {} s.",
        seconds.max(1)
    )
}

/// The commands that read every reflection a member has: each member may run
/// each only every so often.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Heavy {
    /// `/reflections export`: once a minute.
    Export,
    /// `/reflections forget-me`: once every 30 seconds, counted when it is
    /// confirmed (it rewrites the database), not when a front-end only asks.
    ForgetMe,
    /// `/map`: once every 15 seconds.
    Map,
}

impl Heavy {
    /// How long a member waits between two runs.
    pub fn every(self) -> chrono::Duration {
        chrono::Duration::seconds(match self {
            Heavy::Export => 60,
            Heavy::ForgetMe => 30,
            Heavy::Map => 15,
        })
    }

    fn command(self) -> &'static str {
        match self {
            Heavy::Export => "reflections export",
            Heavy::ForgetMe => "reflections forget-me",
            Heavy::Map => "map",
        }
    }
}

impl Personal {
    /// The wait this command is charged to, if it is [`Heavy`]. Forget-me
    /// is charged by [`Personal::ForgetMe`], which runs only once the member
    /// has confirmed: asking for the confirmation costs nothing, so the first
    /// confirmation after asking is never refused, and a second one within
    /// the wait (a stale or duplicated button) is, with nothing done.
    pub fn heavy(&self) -> Option<Heavy> {
        match self {
            Personal::Export(_) => Some(Heavy::Export),
            Personal::ForgetMe => Some(Heavy::ForgetMe),
            Personal::Map => Some(Heavy::Map),
            Personal::Save(_)
            | Personal::List { .. }
            | Personal::View(_)
            | Personal::Edit(..)
            | Personal::AddTag(..)
            | Personal::RemoveTag(..)
            | Personal::Delete(_) => None,
        }
    }
}

/// When each member last ran each [`Heavy`] command, by the injected clock.
#[derive(Debug, Default)]
pub struct FairUse {
    started: std::sync::Mutex<std::collections::HashMap<(u64, Heavy), DateTime<Utc>>>,
}

impl FairUse {
    /// Starts `member`'s wait for `command` at `now`, or says how long is
    /// left of the last one.
    pub fn start(&self, member: u64, command: Heavy, now: DateTime<Utc>) -> Result<(), String> {
        let mut started = self.started.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = started.get(&(member, command)) {
            let ready = *at + command.every();
            if now < ready {
                let left = (ready - now).to_std().unwrap_or_default();
                return Err(cooldown_text(command.command(), left));
            }
        }
        // Only waits still running are kept.
        started.retain(|(_, c), at| now - *at < c.every());
        started.insert((member, command), now);
        Ok(())
    }

    /// Lets `member` run `command` at `now` if it is not [`Heavy`] or its
    /// wait is over (starting the next wait), or says how long is left.
    pub fn admit(&self, member: u64, command: &Personal, now: DateTime<Utc>) -> Result<(), String> {
        match command.heavy() {
            Some(heavy) => self.start(member, heavy, now),
            None => Ok(()),
        }
    }
}

/// What became of a member's shared posts when they withdrew them, or
/// deleted or forgot the reflections they came from.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Withdrawals {
    /// Posts removed from the group's threads (or already gone).
    pub removed: usize,
    /// Posts that could not be removed and are still there, each with the
    /// link its author can find it by (the front-end's own).
    pub left: Vec<(crate::reflections::SharedPost, String)>,
    /// Reflections that could not be read, so any posts of theirs are unknown.
    pub unknown: usize,
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The sentence that says what became of shared posts; none if there were
/// none. Posts still up are linked, so their author can find them.
pub fn withdrawal_note(w: &Withdrawals) -> Option<String> {
    let mut parts = Vec::new();
    if w.removed > 0 {
        parts.push(format!(
            "{} in the group's threads {} withdrawn.",
            plural(w.removed, "shared post", "shared posts"),
            if w.removed == 1 { "was" } else { "were" }
        ));
    }
    if !w.left.is_empty() {
        let links: Vec<&str> = w.left.iter().map(|(_, link)| link.as_str()).collect();
        parts.push(format!(
            "{} could not be removed just now, so {} in the thread: {}",
            plural(w.left.len(), "shared post", "shared posts"),
            if w.left.len() == 1 {
                "it stays"
            } else {
                "they stay"
            },
            links.join(" ")
        ));
    }
    if w.unknown > 0 {
        parts.push(format!(
            "{} could not be read, so any post shared from {} could not be withdrawn.",
            plural(w.unknown, "reflection", "reflections"),
            if w.unknown == 1 { "it" } else { "them" }
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// The answer when a reflection's posts could not all be withdrawn before
/// deleting it: it is kept, so its posts can still be withdrawn later.
pub fn not_deleted_while_shared(id: u64, w: &Withdrawals) -> Reply {
    let mut reply = Reply::user_error(format!(
        "Reflection #{id} is not deleted yet: {} Try again later, or delete it anyway and leave the post where it is.",
        withdrawal_note(w).unwrap_or_default()
    ));
    reply.actions = vec![Action::DeleteAnyway(id)];
    reply
}

/// The answer to withdrawing reflection `id`'s shared post.
pub fn withdrawn(id: u64, w: &Withdrawals) -> Reply {
    let note = withdrawal_note(w).unwrap_or_default();
    let text = format!(
        "Reflection #{id}: {note} The reflection itself is still yours, private as before."
    );
    if !w.left.is_empty() {
        Reply::user_error(text)
    } else {
        private(text)
    }
}

/// The answer when a reflection is not shared anywhere.
pub fn not_shared(id: u64) -> Reply {
    Reply::user_error(format!(
        "Reflection #{id} is not shared anywhere now, so there is nothing to withdraw."
    ))
}

/// The answer when a reflection is already in the group's thread: one post
/// per reflection, withdrawn before it is shared again.
pub fn already_shared(id: u64) -> Reply {
    let mut reply = Reply::user_error(format!(
        "Reflection #{id} is already shared in the group's thread. To share a newer version, withdraw that post first."
    ));
    reply.actions = vec![Action::Withdraw(id)];
    reply
}

/// The exact preview of sharing a reflection, with the confidentiality check
/// on its title and text, and the two ways to share it. `tag` is the
/// store's content tag of `r`: the buttons act only on exactly this.
pub fn share_preview(r: &Reflection, tag: u64) -> Reply {
    let mut text = String::from(
        "This is exactly what the group will see in this week's thread if you share anonymously; sharing with your name puts your name in place of “a member”. Nothing is shared unless you press a button below.",
    );
    let concerns = nudge::concerns_in(&r.title, &r.text);
    if let Some(warning) = nudge::share_warning(&concerns) {
        let _ = write!(text, "\n\n{warning}");
    }
    let chars = r.text.chars().count();
    if chars > limits::DESCRIPTION {
        let _ = write!(
            text,
            "\n\nThis reflection is {chars} characters long; a post shows the first {}, so the group would see it end where the preview does.",
            limits::DESCRIPTION
        );
    }
    let mut actions = vec![
        Action::Share {
            id: r.id,
            anonymous: true,
            tag,
        },
        Action::Share {
            id: r.id,
            anonymous: false,
            tag,
        },
    ];
    if !concerns.is_empty() {
        actions.push(Action::Edit(r.id));
    }
    Reply {
        visibility: Visibility::Private,
        text: Some(text),
        cards: vec![shared_card(r, "a member")],
        actions,
        ..Reply::default()
    }
}

/// Handles a personal command. Store failures come back as errors for the
/// front-end to log (without content) and apologise for.
pub fn handle(member: &Member<'_>, command: Personal) -> Result<Reply, StoreError> {
    match command {
        Personal::Save(draft) => save(member, draft),
        Personal::List { tag, page } => list(member, tag, page),
        Personal::View(id) => view(member, id),
        Personal::Edit(id, draft) => edit(member, id, draft),
        Personal::AddTag(id, tag) => add_tag(member, id, tag),
        Personal::RemoveTag(id, tag) => remove_tag(member, id, tag),
        Personal::Delete(id) => delete(member, id),
        Personal::Export(kind) => export(member, kind),
        Personal::ForgetMe => forget(member),
        Personal::Map => map(member),
    }
}

fn save(member: &Member<'_>, draft: Draft) -> Result<Reply, StoreError> {
    let concerns = nudge::concerns_in(&draft.title, &draft.text);
    let offered = suggested_tags(member.framework, &draft);
    // A text longer than one reflection holds is kept whole, in parts saved
    // at one instant: one entry on the map and in a CPD record.
    let mut parts = Vec::new();
    for part in draft.into_parts() {
        match part.validated() {
            Ok(d) => parts.push(d),
            Err(e) => return Ok(Reply::user_error(e.to_string())),
        }
    }
    let mut saved = Vec::new();
    for part in parts {
        let r = member.store.add_reflection(member.id, |id| {
            let mut r = part.into_reflection(id, member.id, member.now, member.framework);
            r.guild = member.guild;
            r
        })?;
        saved.push(r);
    }
    let (Some(first), Some(last)) = (saved.first(), saved.last()) else {
        return Ok(Reply::user_error(
            crate::reflections::DraftError::EmptyText.to_string(),
        ));
    };
    let mut text = if saved.len() == 1 {
        format!("Saved as reflection #{}", first.id)
    } else {
        format!("Saved as reflections #{} to #{}", first.id, last.id)
    };
    if !first.competences.is_empty() {
        let _ = write!(text, ", tagged {}", tags_text(&first.competences));
    }
    if saved.len() == 1 {
        text.push_str(". Only you can read it.");
    } else {
        let _ = write!(
            text,
            ". The text is longer than one reflection holds ({} characters), so it is kept whole in {} parts, which count as one entry on your map and in your CPD record. Only you can read them.",
            crate::reflections::MAX_STORED_CHARS,
            saved.len()
        );
    }
    if let Some(warning) = nudge::warning(&concerns) {
        let _ = write!(text, "\n\n{warning}");
    }
    let offered: Vec<CompetenceId> = offered
        .into_iter()
        .filter(|t| !first.competences.contains(t))
        .collect();
    if !offered.is_empty() {
        let _ = write!(
            text,
            "\n\nYou mention {} in the text: add as a tag?",
            tags_text(&offered)
        );
    }
    let mut reply = private(text);
    reply.actions.push(Action::Edit(first.id));
    reply
        .actions
        .extend(offered.into_iter().map(|tag| Action::AddTag(first.id, tag)));
    Ok(reply)
}

fn edit(member: &Member<'_>, id: u64, draft: Draft) -> Result<Reply, StoreError> {
    let draft = match draft.validated() {
        Ok(d) => d,
        Err(e) => return Ok(Reply::user_error(e.to_string())),
    };
    let concerns = nudge::concerns_in(&draft.title, &draft.text);
    match member
        .store
        .update_reflection(member.id, id, member.now, |r| r.revise(draft, member.now))?
    {
        Some(r) => {
            let mut text = format!("Reflection #{} updated.", r.id);
            if let Some(warning) = nudge::warning(&concerns) {
                let _ = write!(text, "\n\n{warning}");
            }
            if !r.shared.is_empty() {
                text.push_str("\n\nYour shared post in the group's thread still shows the earlier version: withdraw it and share again to update it.");
            }
            let mut reply = private(text);
            reply.actions.push(Action::View(r.id));
            Ok(reply)
        }
        None => Ok(not_found(id)),
    }
}

fn add_tag(member: &Member<'_>, id: u64, tag: CompetenceId) -> Result<Reply, StoreError> {
    if member.framework.competence(tag).is_none() {
        return Ok(Reply::user_error(
            "That competence is not in this framework.".into(),
        ));
    }
    let Some(r) = member.store.reflection(member.id, id)? else {
        return Ok(not_found(id));
    };
    if r.competences.contains(&tag) {
        let mut reply = private(format!(
            "Reflection #{id} is already tagged {}; nothing changed.",
            tag.short()
        ));
        reply.actions.push(Action::View(id));
        return Ok(reply);
    }
    if r.competences.len() >= crate::reflections::MAX_TAGS {
        return Ok(Reply::user_error(format!(
            "Reflection #{id} already has {} tags, the most one can have. Remove one first (/reflections edit, or untag in the console).",
            crate::reflections::MAX_TAGS
        )));
    }
    let tagged = member
        .store
        .update_reflection(member.id, id, member.now, |r| {
            if !r.competences.contains(&tag) && r.competences.len() < crate::reflections::MAX_TAGS {
                r.competences.push(tag);
                r.edited = Some(member.now);
            }
        })?;
    Ok(match tagged {
        Some(_) => {
            let mut reply = private(format!("Reflection #{id} is now tagged {}.", tag.short()));
            reply.actions.push(Action::View(id));
            reply
        }
        None => not_found(id),
    })
}

fn remove_tag(member: &Member<'_>, id: u64, tag: CompetenceId) -> Result<Reply, StoreError> {
    let Some(r) = member.store.reflection(member.id, id)? else {
        return Ok(not_found(id));
    };
    if !r.competences.contains(&tag) {
        return Ok(Reply::user_error(format!(
            "Reflection #{id} is not tagged {}; nothing changed.",
            tag.short()
        )));
    }
    let untagged = member
        .store
        .update_reflection(member.id, id, member.now, |r| {
            r.competences.retain(|t| *t != tag);
            r.edited = Some(member.now);
        })?;
    Ok(match untagged {
        Some(_) => {
            let mut reply = private(format!(
                "Reflection #{id} is no longer tagged {}.",
                tag.short()
            ));
            reply.actions.push(Action::View(id));
            reply
        }
        None => not_found(id),
    })
}

fn delete(member: &Member<'_>, id: u64) -> Result<Reply, StoreError> {
    if member.store.delete_reflection(member.id, id, member.now)? {
        Ok(private(format!("Reflection #{id} is deleted.")))
    } else {
        Ok(not_found(id))
    }
}

fn forget(member: &Member<'_>) -> Result<Reply, StoreError> {
    let n = member.store.forget_member(member.id, member.now)?;
    Ok(private(format!(
        "Done: {n} reflection{} and your encryption key are removed from this bot's records; nothing of yours can be listed, opened or restored from now on. Their last encrypted copies leave the bot's files and its automatic backups within {} minutes. A new reflection would start above your old numbers, so no old button can reach it.",
        if n == 1 { "" } else { "s" },
        crate::store::ERASE_WITHIN.num_minutes()
    )))
}

/// What a member is told when some of their records cannot be read.
fn unreadable_note(ids: &[u64]) -> Option<String> {
    if ids.is_empty() {
        return None;
    }
    let numbers: Vec<String> = ids.iter().map(|id| format!("#{id}")).collect();
    Some(format!(
        "{} ({}) could not be read: the stored copy is damaged, so {} left out here. The others are unaffected; the bot's operator can restore damaged records from a backup.",
        if ids.len() == 1 {
            "One of your reflections".to_string()
        } else {
            format!("{} of your reflections", ids.len())
        },
        numbers.join(", "),
        if ids.len() == 1 { "it is" } else { "they are" }
    ))
}

fn list(member: &Member<'_>, tag: Option<CompetenceId>, page: usize) -> Result<Reply, StoreError> {
    let page = member.store.page_of(member.id, tag, page, PER_PAGE)?;
    let note = unreadable_note(&page.unreadable);
    if page.total == 0 {
        let text = match tag {
            Some(t) => format!(
                "You have no reflections tagged {} yet. `/reflect` starts one.",
                t.short()
            ),
            None => {
                "You have no reflections yet. `/reflect` starts one; only you will ever read it."
                    .to_string()
            }
        };
        return Ok(private(text));
    }
    if page.items.is_empty() && note.is_none() {
        return Ok(Reply::user_error(format!(
            "There {} only {} page{} of reflections; try page 1 to {}.",
            if page.pages == 1 { "is" } else { "are" },
            page.pages,
            if page.pages == 1 { "" } else { "s" },
            page.pages
        )));
    }
    let mut text = String::new();
    for r in &page.items {
        let _ = writeln!(text, "{}", list_line(r, member.times));
    }
    let filter = tag.map_or(String::new(), |t| format!(" tagged {}", t.short()));
    let next = (page.page < page.pages).then_some(page.page + 1);
    let mut footer = format!(
        "Page {} of {} · {} in all",
        page.page, page.pages, page.total
    );
    if let Some(next) = next {
        let competence = tag.map_or(String::new(), |t| format!("competence:{} ", t.short()));
        let _ = write!(
            footer,
            " · /reflections list {competence}page:{next} for the next"
        );
    }
    footer.push_str(" · /reflections view <number> to read one");
    let card = Card {
        title: format!("Your reflections{filter}"),
        description: fit(text.trim_end(), limits::DESCRIPTION),
        footer,
        ..Card::default()
    };
    let mut reply = Reply {
        visibility: Visibility::Private,
        text: note,
        cards: vec![card],
        ..Reply::default()
    };
    // Five buttons at most: the next page takes one when there is one.
    let views = if next.is_some() { 4 } else { 5 };
    reply.actions = page
        .items
        .iter()
        .take(views)
        .map(|r| Action::View(r.id))
        .collect();
    if let Some(page) = next {
        reply.actions.push(Action::Page { tag, page });
    }
    Ok(reply)
}

fn list_line(r: &Summary, times: Times) -> String {
    let title = &r.heading;
    let tags = if r.competences.is_empty() {
        String::new()
    } else {
        format!(" — {}", tags_text(&r.competences))
    };
    format!("**#{}** {} · {}{tags}", r.id, times.day(r.created), title)
}

fn view(member: &Member<'_>, id: u64) -> Result<Reply, StoreError> {
    let r = match member.store.reflection(member.id, id) {
        Ok(Some(r)) => r,
        Ok(None) => return Ok(not_found(id)),
        Err(StoreError::Crypto(_) | StoreError::Corrupt(_)) => {
            return Ok(Reply::user_error(
                unreadable_note(&[id]).unwrap_or_default(),
            ));
        }
        Err(e) => return Err(e),
    };
    let mut reply = Reply {
        visibility: Visibility::Private,
        cards: vec![reflection_card(&r, member.times)],
        ..Reply::default()
    };
    let share = if r.shared.is_empty() {
        Action::ShareAsk(r.id)
    } else {
        Action::Withdraw(r.id)
    };
    reply.actions = vec![Action::Edit(r.id), share, Action::ConfirmDelete(r.id)];
    Ok(reply)
}

/// What every view of a reflection shows: its text and its tags, under a
/// heading, title and footer that say who is looking.
fn reflection_base(r: &Reflection, heading: &str, title: &str, footer: &str) -> Card {
    let mut fields = Vec::new();
    if !r.competences.is_empty() {
        fields.push(Field {
            name: "Competences".into(),
            value: tags_text(&r.competences),
        });
    }
    Card {
        heading: fit(heading, limits::TITLE),
        title: fit(title, limits::TITLE),
        description: fit(&r.text, limits::DESCRIPTION),
        fields,
        footer: fit(footer, limits::FOOTER),
        ..Card::default()
    }
}

/// A reflection shown to its author: with its number, kind, model and dates.
pub fn reflection_card(r: &Reflection, times: Times) -> Card {
    let footer = format!("Written against {} {}", r.framework, r.framework_version);
    let mut card = reflection_base(r, "", &format!("#{} {}", r.id, r.heading()), &footer);
    let mut when = format!("Written {}", times.moment(r.created));
    if let Some(edited) = r.edited {
        let _ = write!(when, " · edited {}", times.moment(edited));
    }
    if let Some(m) = r.minutes {
        let _ = write!(when, " · time spent: {}", minutes_text(m));
    }
    card.fields.push(Field {
        name: "About".into(),
        value: fit(
            &format!("{} · {} · {}", r.mode.label(), model_name(&r.model), when),
            limits::FIELD_VALUE,
        ),
    });
    if let Some(post) = r.shared.first() {
        card.fields.push(Field {
            name: "Shared".into(),
            value: format!(
                "In the group's thread {}, since {}. Only the post is there; this reflection stays private.",
                if post.anonymous {
                    "anonymously"
                } else {
                    "with your name"
                },
                post.at.format("%-d %B %Y")
            ),
        });
    }
    let chars = r.text.chars().count();
    if chars > limits::DESCRIPTION {
        card.description = r.text.clone();
        card.fields.push(Field {
            name: "Length".into(),
            value: format!(
                "{chars} characters: Discord shows the first {}; the console and `/reflections export` have it whole.",
                limits::DESCRIPTION
            ),
        });
    }
    card
}

/// A reflection as the group sees it when its author shares it: the text and
/// tags only, under "a member" or the author's name; no number, no dates.
pub fn shared_card(r: &Reflection, byline: &str) -> Card {
    let title = if r.title.is_empty() {
        "A reflection"
    } else {
        &r.title
    };
    reflection_base(
        r,
        &format!("Shared by {byline}"),
        title,
        "Shared by its author, with their consent, for the group's discussion.",
    )
}

fn export(member: &Member<'_>, kind: ExportKind) -> Result<Reply, StoreError> {
    let readable = member.store.reflections_of(member.id)?;
    let note = unreadable_note(&readable.unreadable);
    let all = readable.items;
    if all.is_empty() {
        let text = "You have no reflections to export.".to_string();
        return Ok(private(
            note.map_or(text.clone(), |n| format!("{text}\n\n{n}")),
        ));
    }
    let corrupt = |e: String| StoreError::Corrupt(format!("an export could not be written: {e}"));
    let (files, mut text) = match kind {
        ExportKind::Everything => (
            export::everything(
                member.framework,
                member.id,
                &all,
                member.now,
                export::FILE_BYTES,
            )
            .map_err(|e| corrupt(e.to_string()))?,
            format!(
                "Everything you have written here, {}, as Markdown and as JSON. Only you can see these files.",
                plural(all.len(), "reflection", "reflections")
            ),
        ),
        ExportKind::Cpd { year, starts } => {
            let files = export::cpd(
                member.framework,
                &all,
                member.now,
                year,
                starts,
                export::FILE_BYTES,
            )
            .map_err(|e| corrupt(e.to_string()))?;
            let period = year.map_or(String::new(), |y| {
                format!(
                    " for the membership year {}",
                    export::MembershipYear { year: y, starts }.label()
                )
            });
            (
                files,
                format!(
                    "Your CPD record{period}, as Markdown and as CSV: each reflection with its date, activity, time spent, competences, what you learned and what will change. Membership years start in {}. A reflection written with a model is read under its headings, numbered or not: {}. Only you can see these files.",
                    export::month_name(starts),
                    export::headings_read().join("; ")
                ),
            )
        }
    };
    if files.len() > 2 {
        let _ = write!(
            text,
            "\n\nIt is large, so it comes in {} files of at most {} MiB each.",
            files.len(),
            export::FILE_BYTES / (1024 * 1024)
        );
    }
    if let Some(note) = note {
        let _ = write!(text, "\n\n{note}");
    }
    let mut reply = private(text);
    reply.attachments = files
        .into_iter()
        .map(|f| Attachment {
            filename: f.name,
            content: f.content,
        })
        .collect();
    Ok(reply)
}

fn map(member: &Member<'_>) -> Result<Reply, StoreError> {
    let all = member.store.summaries_of(member.id)?;
    let touched = coverage(&all.items);
    Ok(Reply {
        visibility: Visibility::Private,
        text: unreadable_note(&all.unreadable),
        cards: vec![map_card(member.framework, &touched, entries(&all.items))],
        ..Reply::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reflections::Mode;
    use chrono::TimeZone;

    /// A framework and a store of their own for one test.
    fn scratch(name: &str) -> (Framework, Store) {
        let dir = std::env::temp_dir().join(format!(
            "companion-personal-{name}-{}-{}",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        (
            Framework::builtin().unwrap(),
            Store::open(&dir, None).unwrap(),
        )
    }

    fn member<'a>(framework: &'a Framework, store: &'a Store, id: u64) -> Member<'a> {
        Member {
            framework,
            store,
            id,
            now: Utc::now(),
            guild: None,
            times: Times::Utc,
        }
    }

    #[test]
    fn each_member_waits_for_each_heavy_command_by_the_clock() {
        let fair = FairUse::default();
        let t0 = Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap();
        assert!(fair.start(1, Heavy::Export, t0).is_ok());
        let soon = fair.start(1, Heavy::Export, t0 + chrono::Duration::seconds(20));
        assert!(soon.unwrap_err().contains("Try again in 40 s"));
        // Another member, another command: no wait.
        assert!(fair.start(2, Heavy::Export, t0).is_ok());
        assert!(fair.start(1, Heavy::Map, t0).is_ok());
        assert!(fair.start(1, Heavy::Map, t0 + Heavy::Map.every()).is_ok());
        assert!(
            fair.start(1, Heavy::Export, t0 + Heavy::Export.every())
                .is_ok()
        );
        assert!(fair.start(1, Heavy::ForgetMe, t0).is_ok());
        assert!(
            fair.start(1, Heavy::ForgetMe, t0 + chrono::Duration::seconds(29))
                .is_err()
        );
    }

    /// Forget-me is charged when confirmed: the asking is no command at all,
    /// so the first confirmation goes through, the next within 30 s is
    /// refused, and one after the wait goes through again.
    #[test]
    fn forget_me_is_charged_when_confirmed() {
        let fair = FairUse::default();
        let t0 = Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap();
        assert_eq!(Personal::ForgetMe.heavy(), Some(Heavy::ForgetMe));
        assert!(fair.admit(1, &Personal::ForgetMe, t0).is_ok());
        let again = fair.admit(1, &Personal::ForgetMe, t0 + chrono::Duration::seconds(10));
        let said = again.unwrap_err();
        assert!(
            said.contains("forget-me") && said.contains("Try again in 20 s"),
            "{said}"
        );
        // Nothing else a member does is held up by it, nor charged.
        for other in [Personal::View(1), Personal::Delete(1)] {
            assert_eq!(other.heavy(), None);
            assert!(fair.admit(1, &other, t0).is_ok());
            assert!(fair.admit(1, &other, t0).is_ok());
        }
        assert!(
            fair.admit(1, &Personal::ForgetMe, t0 + Heavy::ForgetMe.every())
                .is_ok()
        );
    }

    /// Every reply that confirms a change comes after the store synced the
    /// database at least once during the command (flush alone is not enough).
    #[test]
    fn every_confirmation_follows_a_sync() {
        let (framework, store) = scratch("syncs");
        let member = member(&framework, &store, 5);
        let draft = || Draft {
            title: "A title".into(),
            text: "Some text.".into(),
            competences: vec![],
            model: "free".into(),
            mode: Mode::Coaching,
            minutes: None,
        };
        let tag: CompetenceId = "core:3.5".parse().unwrap();
        let commands = [
            (Personal::Save(draft()), "Saved as reflection #1"),
            (Personal::Edit(1, draft()), "Reflection #1 updated."),
            (Personal::AddTag(1, tag), "now tagged C3.5"),
            (Personal::Delete(1), "Reflection #1 is deleted."),
            (Personal::Save(draft()), "Saved as reflection #2"),
            (Personal::ForgetMe, "Done: 1 reflection"),
        ];
        for (command, says) in commands {
            let before = store.syncs();
            let reply = handle(&member, command.clone()).unwrap();
            let text = reply.text.clone().unwrap_or_default();
            assert!(text.contains(says), "{text}");
            assert!(
                store.syncs() > before,
                "{command:?} confirmed without a sync"
            );
        }
        // A read confirms nothing and needs no sync.
        let before = store.syncs();
        handle(&member, Personal::List { tag: None, page: 1 }).unwrap();
        assert_eq!(store.syncs(), before);
    }

    #[test]
    fn confirmations_name_what_would_go() {
        let framework = Framework::builtin().unwrap();
        let untitled = Draft {
            text: "An untitled one, named by its words.".into(),
            ..Draft::default()
        }
        .into_reflection(3, 1, Utc::now(), &framework);
        let delete = confirm_delete(&untitled);
        assert!(
            delete
                .question
                .starts_with("Delete reflection #3, “An untitled one, named by its words.”?"),
            "{}",
            delete.question
        );
        assert_eq!(delete.reply().actions, vec![Action::ConfirmDelete(3)]);
        assert_eq!(delete.declined, "Kept: reflection #3 was not deleted.");
        let forget = confirm_forget(2);
        assert!(forget.question.contains("all 2 of your reflections"));
        assert_eq!(forget.word, "forget-me");
    }

    #[test]
    fn a_tag_past_the_limit_is_refused_in_words() {
        let (framework, store) = scratch("tags");
        let member = member(&framework, &store, 8);
        let ten: Vec<CompetenceId> = framework
            .competences()
            .iter()
            .take(crate::reflections::MAX_TAGS)
            .map(|c| c.id)
            .collect();
        let draft = Draft {
            text: "Tagged to the limit.".into(),
            competences: ten.clone(),
            ..Draft::default()
        };
        handle(&member, Personal::Save(draft)).unwrap();
        let eleventh = framework.competences()[crate::reflections::MAX_TAGS].id;
        let reply = handle(&member, Personal::AddTag(1, eleventh)).unwrap();
        assert!(
            reply
                .text
                .unwrap_or_default()
                .contains("already has 10 tags"),
            "refused in words"
        );
        assert_eq!(store.reflection(8, 1).unwrap().unwrap().competences, ten);
    }

    #[test]
    fn one_damaged_record_hides_nothing_else() {
        let (framework, store) = scratch("damaged");
        let member = member(&framework, &store, 6);
        for text in ["Damaged later.", "Still fine."] {
            let draft = Draft {
                text: text.into(),
                competences: vec!["core:3.5".parse().unwrap()],
                ..Draft::default()
            };
            handle(&member, Personal::Save(draft)).unwrap();
        }
        store.damage_for_test(6, 1);
        let says_damaged = |reply: &Reply| {
            let text = reply.text.clone().unwrap_or_default();
            assert!(text.contains("(#1) could not be read"), "{text}");
        };
        let list = handle(&member, Personal::List { tag: None, page: 1 }).unwrap();
        says_damaged(&list);
        let view = handle(&member, Personal::View(1)).unwrap();
        assert!(
            view.text
                .clone()
                .unwrap_or_default()
                .contains("could not be read"),
            "{view:?}"
        );
        assert!(list.cards[0].description.contains("Still fine."));
        let tagged = handle(
            &member,
            Personal::List {
                tag: Some("core:3.5".parse().unwrap()),
                page: 1,
            },
        )
        .unwrap();
        says_damaged(&tagged);
        let export = handle(&member, Personal::Export(ExportKind::Everything)).unwrap();
        says_damaged(&export);
        let md = String::from_utf8(export.attachments[0].content.clone()).unwrap();
        assert!(md.contains("Still fine.") && !md.contains("Damaged later."));
        let map = handle(&member, Personal::Map).unwrap();
        says_damaged(&map);
        let forget = handle(&member, Personal::ForgetMe).unwrap();
        assert!(
            forget
                .text
                .unwrap_or_default()
                .contains("Done: 2 reflections"),
            "forget-me needs no decryption"
        );
        assert!(!store.holds_anything_of(6).unwrap());
    }
}
