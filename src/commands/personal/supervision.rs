//! A member's supervision log and case presentations: save, list, view,
//! delete, the yearly supervision record and the monthly minimum they set
//! for themselves. Every reply is private, and every lookup is keyed by the
//! member who asks.

use std::fmt::Write as _;

use super::confirm::{Confirmation, confirm_delete_record};
use super::{Member, plural, private};
use crate::commands::{Action, Reply, Visibility};
use crate::reflections::export::MembershipYear;
use crate::reflections::nudge;
use crate::reflections::{SharedPost, minutes_text, tags_text};
use crate::render::{Card, Field};
use crate::store::StoreError;
use crate::supervision::case::{self, CaseDraft, CasePresentation};
use crate::supervision::log::{LogDraft, LogEntry, functions_text};
use crate::supervision::record::{GROUP_TIME, hours_words, year_record};

/// A command about the member's supervision log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogCommand {
    /// Record a meeting or other supervision.
    Add(LogDraft),
    /// The entries, newest first.
    List,
    /// One entry in full.
    View(u64),
    /// Delete one entry (the front-end has asked for confirmation).
    Delete(u64),
    /// The supervision record of a membership year (this one when none is
    /// given), membership years starting in month `starts`.
    Year {
        /// The calendar year the membership year starts in.
        year: Option<i32>,
        /// The month membership years start in, 1–12.
        starts: u32,
        /// With the record's files (Markdown and CSV) attached, for a
        /// front-end that has no separate export of it.
        files: bool,
    },
    /// Set (or unset) the member's own monthly minimum, in minutes.
    Minimum(Option<u32>),
}

/// A command about the member's case presentations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseCommand {
    /// Save a new case presentation.
    Save(CaseDraft),
    /// The presentations, newest first.
    List,
    /// One presentation in full.
    View(u64),
    /// Delete one (the front-end has asked for confirmation).
    Delete(u64),
}

/// Asks before deleting log entry `e`, named by its day and kind.
pub fn confirm_delete_log(e: &LogEntry) -> Confirmation {
    confirm_delete_record(
        "supervision log entry",
        e.id,
        &format!("{}, {}", e.date.format("%-d %B %Y"), e.kind.label()),
        Action::DeleteLogEntry(e.id),
    )
}

/// Asks before deleting case presentation `p`, named by its question.
pub fn confirm_delete_presentation(p: &CasePresentation) -> Confirmation {
    confirm_delete_record(
        "case presentation",
        p.id,
        &p.heading(),
        Action::DeletePresentation(p.id),
    )
}

/// The answer for a log entry the member does not have.
pub fn log_not_found(id: u64) -> Reply {
    Reply::user_error(format!(
        "You have no supervision log entry #{id}. `/log list` shows the ones you have."
    ))
}

/// The answer for a case presentation the member does not have.
pub fn case_not_found(id: u64) -> Reply {
    Reply::user_error(format!(
        "You have no case presentation #{id}. `/present list` shows the ones you have."
    ))
}

fn damaged(e: StoreError, id: u64) -> Result<Reply, StoreError> {
    match e {
        StoreError::Crypto(_) | StoreError::Corrupt(_) => Ok(Reply::user_error(format!(
            "Record #{id} could not be read: the stored copy is damaged. The others are unaffected; the bot's operator can restore damaged records from a backup."
        ))),
        e => Err(e),
    }
}

/// Handles a log command.
pub(super) fn log(member: &Member<'_>, command: LogCommand) -> Result<Reply, StoreError> {
    match command {
        LogCommand::Add(draft) => log_add(member, draft),
        LogCommand::List => log_list(member),
        LogCommand::View(id) => match member.store.log_entry(member.id, id) {
            Ok(Some(e)) => Ok(log_view(member, &e)),
            Ok(None) => Ok(log_not_found(id)),
            Err(e) => damaged(e, id),
        },
        LogCommand::Delete(id) => Ok(
            if member.store.delete_log_entry(member.id, id, member.now)? {
                private(format!("Supervision log entry #{id} is deleted."))
            } else {
                log_not_found(id)
            },
        ),
        LogCommand::Year {
            year,
            starts,
            files,
        } => log_year(member, year, starts, files),
        LogCommand::Minimum(minutes) => {
            member.store.set_log_minimum(member.id, minutes)?;
            Ok(private(match minutes {
                Some(m) => format!(
                    "Your monthly minimum is now {}. It is your own figure (your professional body's requirement); the bot states none of its own. `/log year` names the months below it. {GROUP_TIME}",
                    hours_words(m)
                ),
                None => "Your monthly minimum is unset: `/log year` shows your hours without one."
                    .into(),
            }))
        }
    }
}

/// An entry in a few words: "10 Mar 2026 · group · 1 hour 30 minutes · formative".
fn log_summary(e: &LogEntry) -> String {
    let time = if e.attended {
        minutes_text(e.minutes)
    } else {
        "missed".to_string()
    };
    format!(
        "{} · {} · {time} · {}",
        e.date.format("%-d %b %Y"),
        e.kind.as_str(),
        functions_text(&e.functions)
    )
}

/// An entry in one line of a list: its number, then its summary.
fn log_line(e: &LogEntry) -> String {
    format!("**#{}** {}", e.id, log_summary(e))
}

fn log_add(member: &Member<'_>, draft: LogDraft) -> Result<Reply, StoreError> {
    let draft = match draft.validated(member.times.today(member.now)) {
        Ok(d) => d,
        Err(why) => return Ok(Reply::user_error(why)),
    };
    let concerns = nudge::concerns(&draft.took_away);
    let now = member.now;
    let e = member
        .store
        .add_log_entry(member.id, |id| draft.into_entry(id, now))?;
    let mut text = format!(
        "Logged as supervision log entry #{}: {}. Only you can read it.",
        e.id,
        log_summary(&e)
    );
    if !e.competences.is_empty() {
        let _ = write!(text, " Competences: {}.", tags_text(&e.competences));
    }
    if let Some(warning) = nudge::field_warning("what you took away", &concerns) {
        let _ = write!(
            text,
            "\n\n{warning} To change it, delete the entry (`/log delete {}`) and log it again.",
            e.id
        );
    }
    Ok(private(text))
}

fn log_list(member: &Member<'_>) -> Result<Reply, StoreError> {
    let mut all = member.store.log_of(member.id)?;
    let note = unreadable_records("supervision log entries", &all.unreadable);
    if all.items.is_empty() {
        let text = "Your supervision log is empty. `/log add` records a meeting or other supervision; only you will ever read it.".to_string();
        return Ok(private(
            note.map_or(text.clone(), |n| format!("{text}\n\n{n}")),
        ));
    }
    all.items.sort_by_key(|e| std::cmp::Reverse((e.date, e.id)));
    let lines: Vec<String> = all.items.iter().map(log_line).collect();
    let card = Card {
        title: "Your supervision log".into(),
        description: lines.join("\n"),
        footer: format!(
            "{} · /log view <number> to read one · /log year for the year's record",
            plural(all.items.len(), "entry", "entries")
        ),
        ..Card::default()
    };
    Ok(Reply {
        visibility: Visibility::Private,
        text: note,
        cards: vec![card],
        ..Reply::default()
    })
}

fn log_view(member: &Member<'_>, e: &LogEntry) -> Reply {
    let mut fields = vec![Field {
        name: "About".into(),
        value: format!(
            "{} · {} · functions: {} · written {}",
            e.kind.label(),
            if e.attended {
                format!("attended, {}", minutes_text(e.minutes))
            } else {
                "not attended".into()
            },
            functions_text(&e.functions),
            member.times.moment(e.created)
        ),
    }];
    if !e.competences.is_empty() {
        fields.push(Field {
            name: "Competences".into(),
            value: tags_text(&e.competences),
        });
    }
    let card = Card {
        title: format!("Supervision log #{} · {}", e.id, e.date.format("%-d %B %Y")),
        description: if e.took_away.is_empty() {
            "Nothing written about what you took away.".into()
        } else {
            e.took_away.clone()
        },
        fields,
        footer: format!("/log delete {} removes it", e.id),
        ..Card::default()
    };
    Reply {
        visibility: Visibility::Private,
        cards: vec![card],
        ..Reply::default()
    }
}

fn log_year(
    member: &Member<'_>,
    year: Option<i32>,
    starts: u32,
    files: bool,
) -> Result<Reply, StoreError> {
    let today = member.times.today(member.now);
    let starts = starts.clamp(1, 12);
    let year = year.map_or_else(
        || MembershipYear::of(today, starts),
        |y| MembershipYear { year: y, starts },
    );
    let all = member.store.log_of(member.id)?;
    let minimum = member.store.log_minimum(member.id)?;
    let record = year_record(&all.items, year, minimum, today);
    let mut text = record.text();
    if files {
        text.push_str(
            "\n\nThe files attached hold this record with every entry, as Markdown and CSV.",
        );
    } else {
        let _ = write!(
            text,
            "\n\n`/log export {}{}` writes this record with every entry, as Markdown and CSV.",
            year.year,
            if starts == 1 {
                String::new()
            } else {
                format!(" from {}", crate::reflections::export::month_name(starts))
            }
        );
    }
    if let Some(note) = unreadable_records("supervision log entries", &all.unreadable) {
        let _ = write!(text, "\n\n{note}");
    }
    let mut reply = private(text);
    if files {
        reply.attachments = export_year(member, Some(year.year), starts)?.attachments;
    }
    Ok(reply)
}

/// Handles a case presentation command.
pub(super) fn cases(member: &Member<'_>, command: CaseCommand) -> Result<Reply, StoreError> {
    match command {
        CaseCommand::Save(draft) => case_save(member, draft),
        CaseCommand::List => case_list(member),
        CaseCommand::View(id) => match member.store.presentation(member.id, id) {
            Ok(Some(p)) => {
                let posts = member.store.presentation_posts(member.id, id)?;
                Ok(case_view(member, &p, &posts))
            }
            Ok(None) => Ok(case_not_found(id)),
            Err(e) => damaged(e, id),
        },
        CaseCommand::Delete(id) => Ok(
            if member
                .store
                .delete_presentation(member.id, id, member.now)?
            {
                private(format!("Case presentation #{id} is deleted."))
            } else {
                case_not_found(id)
            },
        ),
    }
}

/// What the confidentiality check found in a presentation, field by field;
/// none when nothing was found.
pub fn case_warnings(fields: &[case::Field]) -> Vec<String> {
    case::concerns(fields)
        .into_iter()
        .filter_map(|(name, found)| nudge::field_warning(&format!("“{name}”"), &found))
        .collect()
}

fn case_save(member: &Member<'_>, draft: CaseDraft) -> Result<Reply, StoreError> {
    let draft = match draft.validated() {
        Ok(d) => d,
        Err(why) => return Ok(Reply::user_error(why)),
    };
    let warnings = case_warnings(&draft.fields);
    let now = member.now;
    let p = member
        .store
        .add_presentation(member.id, |id| draft.into_presentation(id, now))?;
    let mut text = format!(
        "Saved as case presentation #{} ({}). Only you can read it; nothing is shared with the group. `/present view {}` shows it.",
        p.id,
        p.frame.label(),
        p.id
    );
    for w in warnings {
        let _ = write!(text, "\n\n{w}");
    }
    Ok(private(text))
}

fn case_list(member: &Member<'_>) -> Result<Reply, StoreError> {
    let all = member.store.presentations_of(member.id)?;
    let note = unreadable_records("case presentations", &all.unreadable);
    if all.items.is_empty() {
        let text = "You have no case presentations. `/present seven-eyed` prepares one by the seven-eyed model, `/present short` one with the question alone; they stay private to you unless you bring one to a meeting and share it.".to_string();
        return Ok(private(
            note.map_or(text.clone(), |n| format!("{text}\n\n{n}")),
        ));
    }
    let lines: Vec<String> = all
        .items
        .iter()
        .rev()
        .map(|p| {
            format!(
                "**#{}** {} · {} · {}",
                p.id,
                member.times.day(p.created),
                match p.frame {
                    case::Frame::SevenEyed => "seven-eyed",
                    case::Frame::Short => "short",
                },
                p.heading()
            )
        })
        .collect();
    let card = Card {
        title: "Your case presentations".into(),
        description: lines.join("\n"),
        footer: format!(
            "{} · /present view <number> to read one",
            plural(all.items.len(), "presentation", "presentations")
        ),
        ..Card::default()
    };
    Ok(Reply {
        visibility: Visibility::Private,
        text: note,
        cards: vec![card],
        ..Reply::default()
    })
}

fn case_view(member: &Member<'_>, p: &CasePresentation, posts: &[SharedPost]) -> Reply {
    let mut text = String::new();
    for f in &p.fields {
        let name = case::eye(&f.key).map_or(f.key.as_str(), |e| e.name);
        let _ = write!(text, "**{name}**\n{}\n\n", f.text);
    }
    let mut fields = Vec::new();
    let touched = p.competences(member.framework);
    if !touched.is_empty() {
        fields.push(Field {
            name: "Competences these views touch".into(),
            value: tags_text(&touched),
        });
    }
    if let Some(post) = posts.first() {
        fields.push(Field {
            name: "Shared".into(),
            value: format!(
                "In the meeting's thread {}, since {}. Only the post is there; this presentation stays private.",
                if post.anonymous {
                    "anonymously"
                } else {
                    "with your name"
                },
                post.at.format("%-d %B %Y")
            ),
        });
    }
    let card = Card {
        heading: p.frame.label().into(),
        title: format!("Case presentation #{} · {}", p.id, p.heading()),
        description: text.trim_end().to_string(),
        fields,
        footer: format!(
            "Written {} · private to you · /present delete {} removes it",
            member.times.moment(p.created),
            p.id
        ),
        ..Card::default()
    };
    Reply {
        visibility: Visibility::Private,
        cards: vec![card],
        actions: if posts.is_empty() {
            Vec::new()
        } else {
            vec![Action::Withdraw(super::Shareable::Presentation(p.id))]
        },
        ..Reply::default()
    }
}

/// What a member is told when some of their log entries or presentations
/// cannot be read; none when all can.
pub(super) fn unreadable_records(what: &str, ids: &[u64]) -> Option<String> {
    if ids.is_empty() {
        return None;
    }
    let numbers: Vec<String> = ids.iter().map(|id| format!("#{id}")).collect();
    Some(format!(
        "Some of your {what} ({}) could not be read: the stored copy is damaged, so they are left out here. The others are unaffected; the bot's operator can restore damaged records from a backup.",
        numbers.join(", ")
    ))
}

/// The supervision record of a membership year as files: Markdown (the
/// sums and every entry) and CSV (every entry, and the sums).
pub(super) fn export_year(
    member: &Member<'_>,
    year: Option<i32>,
    starts: u32,
) -> Result<Reply, StoreError> {
    let today = member.times.today(member.now);
    let starts = starts.clamp(1, 12);
    let year = year.map_or_else(
        || MembershipYear::of(today, starts),
        |y| MembershipYear { year: y, starts },
    );
    let all = member.store.log_of(member.id)?;
    let minimum = member.store.log_minimum(member.id)?;
    let files = crate::supervision::export::year_files(
        member.framework,
        &all.items,
        year,
        minimum,
        today,
        member.now,
        crate::reflections::export::FILE_BYTES,
    )
    .map_err(|e| StoreError::Corrupt(format!("an export could not be written: {e}")))?;
    let mut text = format!(
        "Your supervision record for the membership year {}, as Markdown and as CSV: hours by kind and by month{}, the balance of functions, and every entry (in CSV, the entries in one file and the totals in another, ending -totals.csv). Only you can see these files.",
        year.label(),
        if minimum.is_some() {
            ", against your monthly minimum"
        } else {
            ""
        }
    );
    if let Some(note) = unreadable_records("supervision log entries", &all.unreadable) {
        let _ = write!(text, "\n\n{note}");
    }
    let mut reply = private(text);
    reply.attachments = files
        .into_iter()
        .map(|f| crate::commands::Attachment {
            filename: f.name,
            content: f.content,
        })
        .collect();
    Ok(reply)
}
