//! A member's development priorities: the few competences they and their
//! supervisor agreed matter most now (the guide's `how-to-use` section asks
//! practitioners to work with their supervisors to identify them). They
//! come first on the map and in the personal week; each is shown with the
//! reflections and the supervision time that touched it.

use std::fmt::Write as _;

use super::{Member, plural, private};
use crate::commands::Reply;
use crate::framework::CompetenceId;
use crate::reflections::map::coverage;
use crate::reflections::minutes_text;
use crate::reflections::review::{self, Review};
use crate::render::Card;
use crate::store::StoreError;

/// The most priorities a member keeps: a few, so they stay a focus.
pub const MAX_PRIORITIES: usize = 6;

/// A command about the member's development priorities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriorityCommand {
    /// The priorities, each with what touched it.
    Show,
    /// Add these (in order, after the ones there).
    Add(Vec<CompetenceId>),
    /// Remove these.
    Remove(Vec<CompetenceId>),
    /// Remove them all.
    Clear,
    /// Ask for a review every so many weeks (`None`: no more reviews).
    ReviewEvery(Option<u8>),
    /// A review's answers, priority by priority: kept as a reflection.
    Review(Vec<(CompetenceId, String)>),
}

/// Handles a priorities command.
pub(super) fn priorities(
    member: &Member<'_>,
    command: PriorityCommand,
) -> Result<Reply, StoreError> {
    let now = member.store.priorities(member.id)?;
    match command {
        PriorityCommand::Show => show(member, &now),
        PriorityCommand::Add(ids) => {
            let mut next = now.clone();
            for id in ids {
                if !next.contains(&id) {
                    next.push(id);
                }
            }
            if next.len() > MAX_PRIORITIES {
                return Ok(Reply::user_error(format!(
                    "That would make {} priorities; up to {MAX_PRIORITIES} keep them a focus. Nothing was changed: `/priorities remove` one first (you have {}).",
                    next.len(),
                    codes(&now)
                )));
            }
            if next == now {
                return Ok(private(format!(
                    "Those are already among your priorities: {}.",
                    codes(&now)
                )));
            }
            member.store.set_priorities(member.id, &next)?;
            show(member, &next)
        }
        PriorityCommand::Remove(ids) => {
            let absent: Vec<CompetenceId> =
                ids.iter().copied().filter(|id| !now.contains(id)).collect();
            let next: Vec<CompetenceId> =
                now.iter().copied().filter(|id| !ids.contains(id)).collect();
            if next != now {
                member.store.set_priorities(member.id, &next)?;
            }
            let mut reply = show(member, &next)?;
            if !absent.is_empty() {
                let note = format!(
                    "{} {} not among them.",
                    codes(&absent),
                    if absent.len() == 1 { "was" } else { "were" }
                );
                reply.text = Some(match reply.text.take() {
                    Some(t) => format!("{note}\n{t}"),
                    None => note,
                });
            }
            Ok(reply)
        }
        PriorityCommand::Clear => {
            member.store.set_priorities(member.id, &[])?;
            Ok(private(
                "Your priorities are cleared: the map and the personal week no longer put any competence first."
                    .into(),
            ))
        }
        PriorityCommand::ReviewEvery(every) => {
            let review = every.map(|every_weeks| Review {
                every_weeks,
                asked: member.now,
            });
            member.store.set_priority_review(member.id, review)?;
            let mut words = review::every_words(every, member.now);
            if every.is_some() && now.is_empty() {
                words.push_str(
                    " You have no priorities yet: none comes until `/priorities add` marks some.",
                );
            }
            Ok(private(words))
        }
        PriorityCommand::Review(answers) => match review::as_draft(member.framework, &answers) {
            Err(words) => Ok(Reply::user_error(words)),
            Ok(draft) => {
                let reply = super::save(member, draft)?;
                if !reply.is_error
                    && let Some(r) = member.store.priority_review(member.id)?
                {
                    member.store.set_priority_review(
                        member.id,
                        Some(Review {
                            asked: member.now,
                            ..r
                        }),
                    )?;
                }
                Ok(reply)
            }
        },
    }
}

/// The competences named in `typed` (`C3.5, I2.1`), or what is wrong with
/// one of them, re-printed as read (never as typed) with what to write.
pub fn priority_codes(
    framework: &crate::framework::Framework,
    typed: &str,
) -> Result<Vec<CompetenceId>, String> {
    let read = crate::reflections::form::tags(framework, typed);
    if let Some((name, why)) = read.left_out.first() {
        return Err(format!(
            "{name}: {why} Nothing was changed; name competences such as C3.5 or I2.1."
        ));
    }
    if read.kept.is_empty() {
        return Err("Name competences such as C3.5 or I2.1.".into());
    }
    Ok(read.kept)
}

fn codes(ids: &[CompetenceId]) -> String {
    if ids.is_empty() {
        return "none".into();
    }
    ids.iter()
        .map(CompetenceId::short)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The supervision attended that touched `id`, in words: "1 hour 30
/// minutes of supervision", or "no supervision logged".
pub(super) fn supervision_time(
    log: &[crate::supervision::log::LogEntry],
    id: CompetenceId,
) -> String {
    let minutes: u32 = log
        .iter()
        .filter(|e| e.attended && e.competences.contains(&id))
        .map(|e| e.minutes)
        .sum();
    if minutes == 0 {
        "no supervision logged".to_string()
    } else {
        format!("{} of supervision", minutes_text(minutes))
    }
}

/// The priorities as a card: each competence, then what touched it.
fn show(member: &Member<'_>, ids: &[CompetenceId]) -> Result<Reply, StoreError> {
    if ids.is_empty() {
        return Ok(private(format!(
            "You have no priorities yet. Agree a few with your supervisor (up to {MAX_PRIORITIES}), then `/priorities add C3.5 I2.1`: the map and your personal week put them first."
        )));
    }
    let reflections = member.store.summaries_of(member.id)?;
    let touched = coverage(&reflections.items);
    let log = member.store.log_of(member.id)?;
    let mut description = String::new();
    for id in ids {
        let statement = member
            .framework
            .competence(*id)
            .map_or("", |c| c.statement.as_str());
        let count = touched.get(id).map_or(0, |t| t.count);
        let time = supervision_time(&log.items, *id);
        let _ = writeln!(
            description,
            "**{}** {statement}\n{} · {time}\n",
            id.short(),
            plural(count as usize, "reflection", "reflections"),
        );
    }
    let _ = write!(
        description,
        "Agreed with your supervisor; they come first on `/map` and in your personal `/week`. `/priorities add` or `remove` changes them."
    );
    let _ = write!(
        description,
        "{}",
        match member.store.priority_review(member.id)? {
            Some(r) => format!(
                "\nA review every {} week{}, next on {}; `/priorities review` reviews them now.",
                r.every_weeks,
                if r.every_weeks == 1 { "" } else { "s" },
                r.next().format("%-d %B %Y")
            ),
            None => "\n`/priorities review-every 4` asks every four weeks how each has moved (off until you turn it on).".to_string(),
        }
    );
    Ok(Reply {
        visibility: crate::commands::Visibility::Private,
        cards: vec![Card {
            title: "Your development priorities".into(),
            description,
            ..Card::default()
        }],
        ..Reply::default()
    })
}
