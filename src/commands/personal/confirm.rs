//! The questions asked before what cannot be undone, and what a form could
//! not keep.

use super::private;
use crate::commands::{Action, Reply};
use crate::reflections::Reflection;
use crate::render::fit;

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
    /// What confirms it when clicked, where a front-end has a button for it.
    pub confirm: Option<Action>,
}

impl Confirmation {
    /// The question as a reply with its button.
    pub fn reply(&self) -> Reply {
        let mut reply = private(self.question.clone());
        reply.actions = self.confirm.iter().cloned().collect();
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
        confirm: Some(Action::ConfirmDelete(r.id)),
    }
}

/// Asks before deleting one of a member's other records: `what` names
/// its kind ("supervision log entry"), `heading` how it is shown, `confirm`
/// the button that deletes it.
pub(super) fn confirm_delete_record(
    what: &str,
    id: u64,
    heading: &str,
    confirm: Action,
) -> Confirmation {
    Confirmation {
        question: format!(
            "Delete {what} #{id}, “{}”? This cannot be undone.",
            fit(heading, 80)
        ),
        word: "yes",
        declined: format!("Kept: {what} #{id} was not deleted."),
        confirm: Some(confirm),
    }
}

/// Asks before forgetting everything of a member who has `count` reflections.
pub fn confirm_forget(count: usize) -> Confirmation {
    Confirmation {
        question: format!(
            "This removes all {}, your supervision log, your case presentations, your development priorities, your place and history on every group's rota, the items you brought to meetings, your meeting reminders, your share in the group's quarterly counts, and your encryption key, for good. A role you hold at the next meeting is left open: `/rota pass` first hands it to the next in line. `/reflections export` first if you want a copy. Go ahead?",
            match count {
                1 => "1 of your reflections".to_string(),
                n => format!("{n} of your reflections"),
            }
        ),
        word: "forget-me",
        declined: "Nothing was removed.".to_string(),
        confirm: Some(Action::ConfirmForget),
    }
}

/// How a reply says a form is held (see [`crate::reflections::form::Held`]).
pub fn form_held_note() -> String {
    format!(
        "What you typed is kept for {} hours: Reopen brings the form back as you typed it.",
        crate::reflections::form::HOLD_FORM_FOR.num_hours()
    )
}

/// What a reply adds when the form it holds replaced one of the same kind
/// held for something else (a member has one held form of each kind).
fn held_replaced_note(kind: crate::reflections::form::HeldKind) -> String {
    format!(
        "It replaces the {} form held for you before, which can no longer be reopened: every word you typed in that one is in the attached file, so nothing is lost.",
        kind.label()
    )
}

/// The name of the file that gives back a replaced held form's words.
pub const REPLACED_FORM_FILE: &str = "earlier-form.txt";

/// `reply` with the note that its form replaced `old`, held for something
/// else, and `old`'s words, every field as typed, attached for the member
/// to keep.
pub fn with_replaced_form(mut reply: Reply, old: &crate::reflections::form::Held) -> Reply {
    let text = reply.text.take().unwrap_or_default();
    reply.text = Some(
        format!("{text} {}", held_replaced_note(old.purpose.kind()))
            .trim()
            .to_string(),
    );
    let t = &old.typed;
    let mut words = String::from("The form you typed earlier, as you typed it:\n");
    for (label, value) in [
        ("Title", &t.title),
        ("Text", &t.text),
        ("Tags", &t.tags),
        ("Kind of work", &t.mode),
        ("Time", &t.minutes),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.trim().is_empty()) {
            words.push_str(&format!("\n{label}:\n{v}\n"));
        }
    }
    for field in &t.fields {
        if !field.text.trim().is_empty() {
            words.push_str(&format!("\n{}:\n{}\n", field.key, field.text));
        }
    }
    reply.attachments.push(crate::commands::Attachment {
        filename: REPLACED_FORM_FILE.to_string(),
        content: words.into_bytes(),
    });
    reply
}

/// A reply to a submitted form with what was not kept of it: each refused
/// field named with its reason, and first the button that reopens the form:
/// as typed when `held` (the store holds it), else with what was saved (the
/// reflection's Edit).
pub fn with_form_notes(mut reply: Reply, notes: &[String], held: bool) -> Reply {
    if notes.is_empty() || reply.is_error {
        return reply;
    }
    let text = reply.text.take().unwrap_or_default();
    let edit = reply.actions.iter().find_map(|a| match a {
        Action::Edit(n) | Action::View(n) => Some(*n),
        _ => None,
    });
    let reopen = match edit {
        _ if held => format!(" {}", form_held_note()),
        Some(n) => format!(" Edit #{n} reopens the form with what was saved."),
        None => String::new(),
    };
    reply.text = Some(format!(
        "{text}\n\nNot everything you typed could be kept:\n{}{reopen}",
        notes
            .iter()
            .map(|n| format!("• {n}"))
            .collect::<Vec<_>>()
            .join("\n")
    ));
    if held {
        reply.actions.insert(
            0,
            Action::Reopen(Some(crate::reflections::form::HeldKind::Reflection)),
        );
    } else if let Some(n) = edit {
        reply.actions.retain(|a| *a != Action::Edit(n));
        reply.actions.insert(0, Action::Edit(n));
    }
    reply
}
