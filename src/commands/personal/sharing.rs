//! Every word about sharing a reflection into the group's thread and
//! withdrawing it: the preview, what became of posts, the refusals.

use std::fmt::Write as _;

use super::{plural, private, shared_card};
use crate::commands::{Action, Reply, Visibility};
use crate::reflections::{Reflection, nudge};
use crate::render::limits;

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
pub fn share_preview(r: &Reflection, tag: u64, place: &str) -> Reply {
    let mut text = format!(
        "This is exactly what the group will see in {place} if you share anonymously; sharing with your name puts your name in place of “a member”. Nothing is shared unless you press a button below.",
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
