//! Commands about a member's own reflections: save, list, view, edit, delete,
//! export, forget-me and the competence map. Every reply is private, and every
//! lookup is scoped to the member who asked, so another member's reflection
//! is never found, whatever id is given.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Action, Attachment, Reply, Visibility};
use crate::framework::{CompetenceId, Framework};
use crate::reflections::map::{coverage, map_card};
use crate::reflections::nudge;
use crate::reflections::{Draft, Reflection, short_code, suggested_tags, tags_text};
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
    /// Delete one of my reflections (the front-end has asked for confirmation).
    Delete(u64),
    /// Everything I have, as Markdown and JSON files.
    Export,
    /// Remove everything of mine (the front-end has asked for confirmation).
    ForgetMe,
    /// My competence map.
    Map,
}

fn private(text: String) -> Reply {
    Reply::private_text(text)
}

fn not_found(id: u64) -> Reply {
    Reply::user_error(format!(
        "You have no reflection #{id}. `/reflections list` shows the ones you have."
    ))
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
        Personal::Delete(id) => delete(member, id),
        Personal::Export => export(member),
        Personal::ForgetMe => forget(member),
        Personal::Map => map(member),
    }
}

fn save(member: &Member<'_>, draft: Draft) -> Result<Reply, StoreError> {
    let draft = match draft.validated() {
        Ok(d) => d,
        Err(e) => return Ok(Reply::user_error(e.to_string())),
    };
    let concerns = nudge::concerns(&draft.text);
    let offered = suggested_tags(member.framework, &draft);
    let saved = member
        .store
        .save_reflection(member.id, draft, member.framework, member.now)?;
    let mut text = format!("Saved as reflection #{}", saved.id);
    if !saved.competences.is_empty() {
        let _ = write!(text, ", tagged {}", tags_text(&saved.competences));
    }
    text.push_str(". Only you can read it.");
    if let Some(warning) = nudge::warning(&concerns) {
        let _ = write!(text, "\n\n{warning}");
    }
    if !offered.is_empty() {
        let _ = write!(
            text,
            "\n\nYou mention {} in the text: add as a tag?",
            tags_text(&offered)
        );
    }
    let mut reply = private(text);
    reply.actions.push(Action::Edit(saved.id));
    reply
        .actions
        .extend(offered.into_iter().map(|tag| Action::AddTag(saved.id, tag)));
    Ok(reply)
}

fn edit(member: &Member<'_>, id: u64, draft: Draft) -> Result<Reply, StoreError> {
    let draft = match draft.validated() {
        Ok(d) => d,
        Err(e) => return Ok(Reply::user_error(e.to_string())),
    };
    let concerns = nudge::concerns(&draft.text);
    match member
        .store
        .edit_reflection(member.id, id, draft, member.now)?
    {
        Some(r) => {
            let mut text = format!("Reflection #{} updated.", r.id);
            if let Some(warning) = nudge::warning(&concerns) {
                let _ = write!(text, "\n\n{warning}");
            }
            let mut reply = private(text);
            reply.actions.push(Action::View(r.id));
            Ok(reply)
        }
        None => Ok(not_found(id)),
    }
}

fn add_tag(member: &Member<'_>, id: u64, tag: CompetenceId) -> Result<Reply, StoreError> {
    let Some(r) = member.store.reflection(member.id, id)? else {
        return Ok(not_found(id));
    };
    if member.framework.competence(tag).is_none() {
        return Ok(Reply::user_error(
            "That competence is not in this framework.".into(),
        ));
    }
    let mut competences = r.competences.clone();
    if !competences.contains(&tag) {
        competences.push(tag);
    }
    let draft = Draft {
        title: r.title,
        text: r.text,
        competences,
        model: r.model,
        mode: r.mode,
    };
    edit(member, id, draft).map(|mut reply| {
        reply.text = Some(format!(
            "Reflection #{id} is now tagged {}.",
            short_code(&tag)
        ));
        reply
    })
}

fn delete(member: &Member<'_>, id: u64) -> Result<Reply, StoreError> {
    if member.store.delete_reflection(member.id, id)? {
        Ok(private(format!("Reflection #{id} is deleted.")))
    } else {
        Ok(not_found(id))
    }
}

fn forget(member: &Member<'_>) -> Result<Reply, StoreError> {
    let n = member.store.forget_member(member.id)?;
    Ok(private(format!(
        "Done: {n} reflection{} and your encryption key are gone. Nothing of yours remains in this bot's records.",
        if n == 1 { "" } else { "s" }
    )))
}

fn list(member: &Member<'_>, tag: Option<CompetenceId>, page: usize) -> Result<Reply, StoreError> {
    let page = member.store.page_of(member.id, tag, page, PER_PAGE)?;
    if page.total == 0 {
        let text = match tag {
            Some(t) => format!(
                "You have no reflections tagged {} yet. `/reflect` starts one.",
                short_code(&t)
            ),
            None => {
                "You have no reflections yet. `/reflect` starts one; only you will ever read it."
                    .to_string()
            }
        };
        return Ok(private(text));
    }
    if page.items.is_empty() {
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
        let _ = writeln!(text, "{}", list_line(r));
    }
    let filter = tag.map_or(String::new(), |t| format!(" tagged {}", short_code(&t)));
    let card = Card {
        heading: "Only you can see this.".to_string(),
        title: format!("Your reflections{filter}"),
        description: fit(text.trim_end(), limits::DESCRIPTION),
        footer: format!(
            "Page {} of {} · {} in all · /reflections view <number> to read one",
            page.page, page.pages, page.total
        ),
        ..Card::default()
    };
    let mut reply = Reply {
        visibility: Visibility::Private,
        cards: vec![card],
        ..Reply::default()
    };
    reply.actions = page
        .items
        .iter()
        .take(5)
        .map(|r| Action::View(r.id))
        .collect();
    Ok(reply)
}

fn list_line(r: &Reflection) -> String {
    let title = if r.title.is_empty() {
        fit(&r.text.replace('\n', " "), 60)
    } else {
        fit(&r.title, 60)
    };
    let tags = if r.competences.is_empty() {
        String::new()
    } else {
        format!(" — {}", tags_text(&r.competences))
    };
    format!(
        "**#{}** {} · {}{tags}",
        r.id,
        r.created.format("%-d %b %Y"),
        title
    )
}

fn view(member: &Member<'_>, id: u64) -> Result<Reply, StoreError> {
    let Some(r) = member.store.reflection(member.id, id)? else {
        return Ok(not_found(id));
    };
    let mut reply = Reply {
        visibility: Visibility::Private,
        cards: vec![reflection_card(&r)],
        ..Reply::default()
    };
    reply.actions = vec![
        Action::Edit(r.id),
        Action::ShareAsk(r.id),
        Action::ConfirmDelete(r.id),
    ];
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
pub fn reflection_card(r: &Reflection) -> Card {
    let title = if r.title.is_empty() {
        "Untitled"
    } else {
        &r.title
    };
    let footer = format!("Written against {} {}", r.framework, r.framework_version);
    let mut card = reflection_base(
        r,
        "Only you can see this.",
        &format!("#{} {title}", r.id),
        &footer,
    );
    let mut when = format!("Written {}", r.created.format("%-d %B %Y, %H:%M UTC"));
    if let Some(edited) = r.edited {
        let _ = write!(when, " · edited {}", edited.format("%-d %B %Y, %H:%M UTC"));
    }
    card.fields.push(Field {
        name: "About".into(),
        value: fit(
            &format!("{} · model: {} · {}", r.mode.as_str(), r.model, when),
            limits::FIELD_VALUE,
        ),
    });
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

#[derive(Serialize)]
struct ExportJson<'a> {
    exported_at: DateTime<Utc>,
    member: u64,
    reflections: &'a [Reflection],
}

fn export(member: &Member<'_>) -> Result<Reply, StoreError> {
    let all = member.store.reflections_of(member.id)?;
    if all.is_empty() {
        return Ok(private("You have no reflections to export.".to_string()));
    }
    let json = serde_json::to_vec_pretty(&ExportJson {
        exported_at: member.now,
        member: member.id,
        reflections: &all,
    })
    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut md = format!(
        "# My reflections\n\nExported {} · {} reflection{} · keep this file somewhere private.\n",
        member.now.format("%-d %B %Y %H:%M UTC"),
        all.len(),
        if all.len() == 1 { "" } else { "s" }
    );
    for r in &all {
        let _ = write!(
            md,
            "\n## #{} {}\n\n*{} · {} · model: {}{}*\n\n",
            r.id,
            if r.title.is_empty() {
                "Untitled"
            } else {
                &r.title
            },
            r.created.format("%-d %B %Y %H:%M UTC"),
            r.mode.as_str(),
            r.model,
            if r.competences.is_empty() {
                String::new()
            } else {
                format!(" · {}", tags_text(&r.competences))
            }
        );
        md.push_str(&r.text);
        md.push('\n');
    }
    let date = member.now.format("%Y-%m-%d");
    let mut reply = private(format!(
        "Everything you have written here, {} reflection{}, as Markdown and as JSON. Only you can see these files.",
        all.len(),
        if all.len() == 1 { "" } else { "s" }
    ));
    reply.attachments = vec![
        Attachment {
            filename: format!("reflections-{date}.md"),
            content: md.into_bytes(),
        },
        Attachment {
            filename: format!("reflections-{date}.json"),
            content: json,
        },
    ];
    Ok(reply)
}

fn map(member: &Member<'_>) -> Result<Reply, StoreError> {
    let all = member.store.reflections_of(member.id)?;
    let touched = coverage(&all);
    Ok(Reply {
        visibility: Visibility::Private,
        cards: vec![map_card(member.framework, &touched, all.len())],
        ..Reply::default()
    })
}
