//! What a member reads of their own: a page of the list, one reflection,
//! the export and the map; and the cards reflections are shown on.

use std::fmt::Write as _;

use super::{ExportKind, Member, PER_PAGE, Times, not_found, plural, private, unreadable_note};
use crate::commands::{Action, Attachment, Reply, Visibility};
use crate::framework::CompetenceId;
use crate::prompts::model_name;
use crate::reflections::export;
use crate::reflections::map::{coverage, entries, map_card};
use crate::reflections::{Reflection, Summary, minutes_text, tags_text};
use crate::render::{Card, Field, fit, limits};
use crate::store::StoreError;
use crate::supervision::case::CasePresentation;
use crate::supervision::log::LogEntry;

pub(super) fn list(
    member: &Member<'_>,
    tag: Option<CompetenceId>,
    page: usize,
) -> Result<Reply, StoreError> {
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

pub(super) fn view(member: &Member<'_>, id: u64) -> Result<Reply, StoreError> {
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
        Action::Withdraw(super::Shareable::Reflection(r.id))
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
    // The whole text: a front-end with less room says how much it shows.
    card.description = r.text.clone();
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

pub(super) fn export(member: &Member<'_>, kind: ExportKind) -> Result<Reply, StoreError> {
    let cpd = match kind {
        ExportKind::Everything => None,
        ExportKind::Cpd { year, starts } => Some((year, starts)),
        ExportKind::Supervision { year, starts } => {
            return super::supervision::export_year(member, year, starts);
        }
    };
    let readable = member.store.reflections_of(member.id)?;
    let mut note = unreadable_note(&readable.unreadable);
    let all = readable.items;
    let (log, cases) = supervision_records(member, &mut note)?;
    let priorities = member.store.priorities(member.id)?;
    let meetings = crate::meetings::export::records_of(&member.store.all_meetings()?, member.id);
    let others = Others {
        log: &log,
        cases: &cases,
        priorities: &priorities,
        meetings: &meetings,
    };
    // A CPD record says itself what it has nothing of, year by year.
    if cpd.is_none() && all.is_empty() && others.is_empty() {
        let text = "You have nothing here to export: no reflections, supervision log, case presentations, development priorities or part in a group's meetings.".to_string();
        return Ok(private(
            note.map_or(text.clone(), |n| format!("{text}\n\n{n}")),
        ));
    }
    let (files, mut text) = match cpd {
        None => everything_files(member, &all, &others)?,
        Some((year, starts)) => cpd_files(member, &all, &others, year, starts)?,
    };
    if files.iter().any(|f| f.name.contains("-part1-of-")) {
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

fn corrupt(e: &str) -> StoreError {
    StoreError::Corrupt(format!("an export could not be written: {e}"))
}

/// The member's supervision log and case presentations, with any that
/// cannot be read added to `note`.
fn supervision_records(
    member: &Member<'_>,
    note: &mut Option<String>,
) -> Result<(Vec<LogEntry>, Vec<CasePresentation>), StoreError> {
    let log = member.store.log_of(member.id)?;
    let cases = member.store.presentations_of(member.id)?;
    for (what, ids) in [
        ("supervision log entries", &log.unreadable),
        ("case presentations", &cases.unreadable),
    ] {
        if let Some(more) = super::supervision::unreadable_records(what, ids) {
            *note = Some(
                note.take()
                    .map_or(more.clone(), |n| format!("{n}\n\n{more}")),
            );
        }
    }
    Ok((log.items, cases.items))
}

/// What the exports hold besides reflections.
struct Others<'a> {
    log: &'a [LogEntry],
    cases: &'a [CasePresentation],
    priorities: &'a [crate::framework::CompetenceId],
    meetings: &'a [crate::meetings::export::ServerRecord],
}

impl Others<'_> {
    fn is_empty(&self) -> bool {
        self.log.is_empty()
            && self.cases.is_empty()
            && self.priorities.is_empty()
            && self.meetings.is_empty()
    }
}

/// Everything as files, and what the reply says of them.
fn everything_files(
    member: &Member<'_>,
    all: &[Reflection],
    others: &Others<'_>,
) -> Result<(Vec<export::ExportFile>, String), StoreError> {
    let Others {
        log,
        cases,
        priorities,
        meetings,
    } = *others;
    let mut files = if all.is_empty() {
        Vec::new()
    } else {
        export::everything(
            member.framework,
            member.id,
            all,
            member.now,
            export::FILE_BYTES,
        )
        .map_err(|e| corrupt(&e.to_string()))?
    };
    files.extend(
        crate::supervision::export::everything(
            member.framework,
            member.id,
            log,
            cases,
            member.now,
            export::FILE_BYTES,
        )
        .map_err(|e| corrupt(&e.to_string()))?,
    );
    let mut held = vec![plural(all.len(), "reflection", "reflections")];
    if !log.is_empty() {
        held.push(plural(
            log.len(),
            "supervision log entry",
            "supervision log entries",
        ));
    }
    if !cases.is_empty() {
        held.push(plural(
            cases.len(),
            "case presentation",
            "case presentations",
        ));
    }
    if !priorities.is_empty() {
        let md = super::cpd::priorities_markdown(
            member.framework,
            priorities,
            member.store.priority_review(member.id)?.as_ref(),
            member.now,
        );
        let mut json = Vec::new();
        for id in priorities {
            let statement = member
                .framework
                .competence(*id)
                .map_or("", |c| c.statement.as_str());
            json.push(serde_json::json!({ "competence": id.short(), "statement": statement }));
        }
        let date = member.now.format("%Y-%m-%d");
        files.push(export::ExportFile {
            name: format!("development-priorities-{date}.md"),
            content: md.into_bytes(),
        });
        files.push(export::ExportFile {
            name: format!("development-priorities-{date}.json"),
            content: serde_json::to_vec_pretty(&json).map_err(|e| corrupt(&e.to_string()))?,
        });
        held.push(plural(priorities.len(), "priority", "priorities"));
    }
    if !meetings.is_empty() {
        let date = member.now.format("%Y-%m-%d");
        files.push(export::ExportFile {
            name: format!("meetings-{date}.md"),
            content: crate::meetings::export::markdown(meetings).into_bytes(),
        });
        files.push(export::ExportFile {
            name: format!("meetings-{date}.json"),
            content: serde_json::to_vec_pretty(meetings).map_err(|e| corrupt(&e.to_string()))?,
        });
        held.push("your part in your group's meetings (the rota, items you brought, your meeting reminder)".into());
    }
    let text = format!(
        "Everything you have written here, {}, as Markdown and as JSON. Only you can see these files.",
        held.join(", ")
    );
    Ok((files, text))
}

/// A CPD record as files, and what the reply says of them: the
/// reflections, with the supervision record and the group practice
/// (case presentations written, roles served and items brought to a
/// group's meetings) of the year asked for, or of each membership year with
/// any; and the development priorities as they stand.
fn cpd_files(
    member: &Member<'_>,
    all: &[Reflection],
    others: &Others<'_>,
    year: Option<i32>,
    starts: u32,
) -> Result<(Vec<export::ExportFile>, String), StoreError> {
    let Others {
        log,
        cases,
        priorities,
        meetings,
    } = *others;
    let mut files = if all.is_empty() {
        Vec::new()
    } else {
        export::cpd(
            member.framework,
            all,
            member.now,
            year,
            starts,
            export::FILE_BYTES,
        )
        .map_err(|e| corrupt(&e.to_string()))?
    };
    // The years asked for among those with records of a kind.
    let asked = |with: std::collections::BTreeSet<i32>| -> std::collections::BTreeSet<i32> {
        with.into_iter()
            .filter(|y| year.is_none_or(|asked| asked == *y))
            .collect()
    };
    let years = asked(
        log.iter()
            .map(|e| export::MembershipYear::of(e.date, starts).year)
            .collect(),
    );
    let minimum = member.store.log_minimum(member.id)?;
    for y in &years {
        files.extend(
            crate::supervision::export::year_files(
                member.framework,
                log,
                export::MembershipYear { year: *y, starts },
                minimum,
                member.times.today(member.now),
                member.now,
                export::FILE_BYTES,
            )
            .map_err(|e| corrupt(&e.to_string()))?,
        );
    }
    let practice_years = asked(super::cpd::practice_years(
        cases, meetings, starts, member.now,
    ));
    for y in &practice_years {
        files.extend(
            super::cpd::practice_files(
                member.framework,
                cases,
                meetings,
                export::MembershipYear { year: *y, starts },
                member.now,
                export::FILE_BYTES,
            )
            .map_err(|e| corrupt(&e.to_string()))?,
        );
    }
    files.extend(
        super::cpd::priorities_files(
            member.framework,
            priorities,
            member.store.priority_review(member.id)?.as_ref(),
            member.now,
            export::FILE_BYTES,
        )
        .map_err(|e| corrupt(&e.to_string()))?,
    );
    let each = |what: &str| {
        if year.is_some() {
            "for the same membership year".to_string()
        } else {
            format!("for each membership year with {what}")
        }
    };
    let supervision = if years.is_empty() {
        String::new()
    } else {
        format!(
            " With it, your supervision record {} (hours by kind and by month, the balance of functions, every entry), also as Markdown and CSV (the entries, and the totals in a file ending -totals.csv).",
            each("supervision logged")
        )
    };
    let practice = if practice_years.is_empty() {
        String::new()
    } else {
        format!(
            " Your group practice {}, as Markdown and CSV: the case presentations you wrote, with the meetings you brought them to, and your part in your groups' meetings, every role you served and the items you brought.",
            each("any")
        )
    };
    let held_priorities = if priorities.is_empty() {
        String::new()
    } else {
        " Your development priorities, as they stand at export, as Markdown and CSV.".to_string()
    };
    let period = year.map_or(String::new(), |y| {
        format!(
            " for the membership year {}",
            export::MembershipYear { year: y, starts }.label()
        )
    });
    if files.is_empty() {
        return Ok((
            files,
            format!(
                "You have no reflections, supervision logged, case presentations, or roles or items at a group's meetings{period}, and no development priorities, to make a CPD record from."
            ),
        ));
    }
    Ok((
        files,
        format!(
            "Your CPD record{period}, as Markdown and as CSV: each reflection with its date, activity, time spent, competences, what you learned and what will change. Membership years start in {}. A reflection written with a model is read under its headings, numbered or not: {}.{supervision}{practice}{held_priorities} Only you can see these files.",
            export::month_name(starts),
            export::headings_read().join("; ")
        ),
    ))
}

pub(super) fn map(member: &Member<'_>) -> Result<Reply, StoreError> {
    let all = member.store.summaries_of(member.id)?;
    let touched = coverage(&all.items);
    let mut card = map_card(member.framework, &touched, entries(&all.items));
    // The member's priorities come first: how far each has been reflected on.
    let priorities = member.store.priorities(member.id)?;
    if !priorities.is_empty() {
        let log = member.store.log_of(member.id)?;
        let value: Vec<String> = priorities
            .iter()
            .map(|id| {
                let reflected = match touched.get(id) {
                    Some(t) => format!("▰ ×{} ({})", t.count, t.last.format("%-d %b")),
                    None => "▱ not yet".to_string(),
                };
                format!(
                    "{} {reflected}, {}",
                    id.short(),
                    super::priorities::supervision_time(&log.items, *id)
                )
            })
            .collect();
        card.fields.insert(
            0,
            crate::render::Field {
                name: "Your priorities, agreed with your supervisor".into(),
                value: value.join(" · "),
            },
        );
    }
    Ok(Reply {
        visibility: Visibility::Private,
        text: unreadable_note(&all.unreadable),
        cards: vec![card],
        ..Reply::default()
    })
}
