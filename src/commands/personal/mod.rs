//! Commands about a member's own reflections: save, list, view, edit, delete,
//! export, forget-me and the competence map. Every reply is private, and every
//! lookup is scoped to the member who asked, so another member's reflection
//! is never found, whatever id is given.
//!
//! By job: this module holds the command, who asks, and the commands that
//! change a reflection; `read.rs` what a member reads (lists, views, export,
//! map); `cpd.rs` what a CPD record holds of the member's group practice
//! (case presentations, roles and items at meetings, priorities);
//! `confirm.rs` the questions asked before what cannot be undone and
//! what a form could not keep; `fair_use.rs` how often the heavy commands
//! run; `sharing.rs` every word about sharing and withdrawing;
//! `supervision.rs` the supervision log and case presentations.

mod confirm;
mod cpd;
mod fair_use;
mod priorities;
mod read;
mod sharing;
mod supervision;
#[cfg(test)]
mod tests;

pub use confirm::{
    Confirmation, REPLACED_FORM_FILE, confirm_delete, confirm_forget, form_held_note,
    with_form_notes, with_replaced_form,
};
pub use fair_use::{FairUse, Heavy, cooldown_text};
pub use priorities::{MAX_PRIORITIES, PriorityCommand, priority_codes};
pub use read::{reflection_card, shared_card};
pub use sharing::{
    Shareable, Withdrawals, already_shared, changed_since_preview, not_deleted_while_shared,
    not_shared, presentation_preview, share_cancelled, share_preview, shared_presentation,
    withdrawal_note, withdrawn,
};
pub use supervision::{
    CaseCommand, LogCommand, case_not_found, case_warnings, confirm_delete_log,
    confirm_delete_presentation, log_not_found,
};

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::{Action, Reply};
use crate::framework::{CompetenceId, Framework};
use crate::reflections::nudge;
use crate::reflections::{Draft, suggested_tags, tags_text};
use crate::store::{Store, StoreError};

/// Reflections per page of a list.
pub const PER_PAGE: usize = 10;

/// What a member is told when a save was sent but the database stopped
/// answering before it confirmed it: it may be there, or not, and saying
/// either would be a guess.
pub const MAYBE_SAVED: &str = "This could not be confirmed: the database did not confirm the save in time, so it may have been saved, or not. Look at your reflections (`/reflections`) before saving it again. Here is what you typed, to copy and keep.";

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
#[derive(Debug, Clone, Copy, Default)]
pub enum Times {
    /// In UTC, said so.
    #[default]
    Utc,
    /// In the machine's local time zone (the console).
    Local,
    /// As the front-end writes them: a date and time, and a date.
    Written {
        /// "25 November 2026, 14:05", as the front-end writes it.
        moment: fn(DateTime<Utc>) -> String,
        /// "25 Nov 2026", as the front-end writes it.
        day: fn(DateTime<Utc>) -> String,
    },
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
            Times::Written { moment, .. } => moment(t),
        }
    }

    /// Today's date where the member is: local in the console, UTC
    /// otherwise.
    pub fn today(self, now: DateTime<Utc>) -> chrono::NaiveDate {
        match self {
            Times::Local => now.with_timezone(&chrono::Local).date_naive(),
            Times::Utc | Times::Written { .. } => now.date_naive(),
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
            Times::Written { day, .. } => day(t),
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
    /// A supervision record of one membership year (this one when no year
    /// is given), as Markdown and CSV.
    Supervision {
        /// The calendar year the membership year starts in.
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
    /// My supervision log.
    Log(LogCommand),
    /// My case presentations.
    Cases(CaseCommand),
    /// My development priorities.
    Priorities(PriorityCommand),
}

pub(super) fn private(text: String) -> Reply {
    Reply::private_text(text)
}

/// The answer for a reflection number the member does not have.
pub fn not_found(id: u64) -> Reply {
    Reply::user_error(format!(
        "You have no reflection #{id}. `/reflections list` shows the ones you have."
    ))
}

pub(super) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Handles a personal command. Store failures come back as errors for the
/// front-end to log (without content) and apologise for.
pub fn handle(member: &Member<'_>, command: Personal) -> Result<Reply, StoreError> {
    match command {
        Personal::Save(draft) => save(member, draft),
        Personal::List { tag, page } => read::list(member, tag, page),
        Personal::View(id) => read::view(member, id),
        Personal::Edit(id, draft) => edit(member, id, draft),
        Personal::AddTag(id, tag) => add_tag(member, id, tag),
        Personal::RemoveTag(id, tag) => remove_tag(member, id, tag),
        Personal::Delete(id) => delete(member, id),
        Personal::Export(kind) => read::export(member, kind),
        Personal::ForgetMe => forget(member),
        Personal::Map => read::map(member),
        Personal::Log(command) => supervision::log(member, command),
        Personal::Cases(command) => supervision::cases(member, command),
        Personal::Priorities(command) => priorities::priorities(member, command),
    }
}

pub(super) fn save(member: &Member<'_>, draft: Draft) -> Result<Reply, StoreError> {
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
    let (logged, cases) = member.store.supervision_counts(member.id)?;
    let n = member.store.forget_member(member.id, member.now)?;
    let mut also = Vec::new();
    if logged > 0 {
        also.push(plural(
            logged,
            "supervision log entry",
            "supervision log entries",
        ));
    }
    if cases > 0 {
        also.push(plural(cases, "case presentation", "case presentations"));
    }
    let also = also.iter().map(|a| format!(", {a}")).collect::<String>();
    Ok(private(format!(
        "Done: {n} reflection{}{also}, your development priorities, your part in every group's meetings (the rota, your items, your meeting reminders, the quarterly counts) and your encryption key are removed from this bot's records; nothing of yours can be listed, opened or restored from now on. Their last encrypted copies leave the bot's files and its automatic backups within {} minutes. A new reflection would start above your old numbers, so no old button can reach it.",
        if n == 1 { "" } else { "s" },
        crate::store::ERASE_WITHIN.num_minutes()
    )))
}

/// What a member is told when some of their records cannot be read.
pub(super) fn unreadable_note(ids: &[u64]) -> Option<String> {
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
