//! Every word about sharing a reflection or a case presentation into the
//! group's thread and withdrawing it: the previews, the posts' cards, what
//! became of posts, the refusals.

use std::fmt::Write as _;

use super::{plural, private, shared_card};
use crate::commands::{Action, Reply, Visibility};
use crate::framework::Framework;
use crate::reflections::{Reflection, nudge, tags_text};
use crate::render::{Card, Field, limits, split_text};
use crate::supervision::case::{self, CasePresentation};

/// Something of a member's own that can be shared into a group's thread,
/// by its number among theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shareable {
    /// One of their reflections.
    Reflection(u64),
    /// One of their case presentations (brought to a meeting).
    Presentation(u64),
}

impl Shareable {
    /// Its number.
    pub fn number(self) -> u64 {
        match self {
            Shareable::Reflection(n) | Shareable::Presentation(n) => n,
        }
    }

    /// What it is, starting a sentence: "Reflection #3".
    pub fn named(self) -> String {
        match self {
            Shareable::Reflection(n) => format!("Reflection #{n}"),
            Shareable::Presentation(n) => format!("Case presentation #{n}"),
        }
    }

    /// What it is, within a sentence: "reflection #3".
    pub fn words(self) -> String {
        match self {
            Shareable::Reflection(n) => format!("reflection #{n}"),
            Shareable::Presentation(n) => format!("case presentation #{n}"),
        }
    }

    /// Where its author reads it, and withdraws its post.
    pub fn read_at(self) -> String {
        match self {
            Shareable::Reflection(n) => format!("`/reflections view {n}`"),
            Shareable::Presentation(n) => format!("`/present view {n}`"),
        }
    }

    /// The answer when the member has no such thing.
    pub fn not_found(self) -> Reply {
        match self {
            Shareable::Reflection(n) => super::not_found(n),
            Shareable::Presentation(n) => super::case_not_found(n),
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

/// The answer when the posts of a reflection or presentation could not
/// all be withdrawn before deleting it: it is kept, so its posts can still
/// be withdrawn later.
pub fn not_deleted_while_shared(item: Shareable, w: &Withdrawals) -> Reply {
    let mut reply = Reply::user_error(format!(
        "{} is not deleted yet: {} Try again later, or delete it anyway and leave the post where it is.",
        item.named(),
        withdrawal_note(w).unwrap_or_default()
    ));
    reply.actions = vec![Action::DeleteAnyway(item)];
    reply
}

/// The answer to withdrawing the shared post of a reflection or presentation.
pub fn withdrawn(item: Shareable, w: &Withdrawals) -> Reply {
    let note = withdrawal_note(w).unwrap_or_default();
    let itself = match item {
        Shareable::Reflection(_) => "The reflection itself",
        Shareable::Presentation(_) => "The presentation itself",
    };
    let text = format!(
        "{}: {note} {itself} is still yours, private as before.",
        item.named()
    );
    if !w.left.is_empty() {
        Reply::user_error(text)
    } else {
        private(text)
    }
}

/// The answer when a reflection or presentation is not shared anywhere.
pub fn not_shared(item: Shareable) -> Reply {
    Reply::user_error(format!(
        "{} is not shared anywhere now, so there is nothing to withdraw.",
        item.named()
    ))
}

/// The answer when a reflection or presentation is already in the group's
/// thread: one share each, withdrawn before it is shared again.
pub fn already_shared(item: Shareable) -> Reply {
    let mut reply = Reply::user_error(format!(
        "{} is already shared in the group's thread. To share it again, withdraw it from the thread first.",
        item.named()
    ));
    reply.actions = vec![Action::Withdraw(item)];
    reply
}

/// The answer when a share button's preview no longer shows what would be
/// shared: nothing was, and `fresh` (the preview now) follows.
pub fn changed_since_preview(item: Shareable, mut fresh: Reply) -> Reply {
    let text = fresh.text.take().unwrap_or_default();
    fresh.text = Some(format!(
        "{}, or where it would be shared, has changed since that preview, so nothing was shared. This is what would be shared now.\n\n{text}",
        item.named()
    ));
    fresh
}

/// The answer to the preview's Cancel button.
pub fn share_cancelled() -> String {
    "Nothing was shared. It stays private to you.".into()
}

/// A preview's words and buttons around the posts the group would see,
/// each post's cards in a message of its own; the buttons come last, under
/// the whole of it.
fn preview(
    item: Shareable,
    tag: u64,
    place: &str,
    notes: &[String],
    posts: Vec<Vec<Card>>,
    edit: bool,
) -> Reply {
    let mut text = format!(
        "This is exactly what the group will see in {place} if you share anonymously; sharing with your name puts your name in place of “a member”. Nothing is shared unless you press a share button below.",
    );
    if posts.len() > 1 {
        let _ = write!(
            text,
            " It is too long for one post, so it would be posted whole in {} posts, one after another, shown here as they would be.",
            posts.len()
        );
    }
    for note in notes {
        let _ = write!(text, "\n\n{note}");
    }
    let mut actions = vec![
        Action::Share {
            item,
            anonymous: true,
            tag,
        },
        Action::Share {
            item,
            anonymous: false,
            tag,
        },
        Action::CancelShare,
    ];
    if edit {
        actions.push(Action::Edit(item.number()));
    }
    let mut messages: Vec<Reply> = posts
        .into_iter()
        .map(|cards| Reply {
            visibility: Visibility::Private,
            cards,
            ..Reply::default()
        })
        .collect();
    if let Some(last) = messages.last_mut() {
        last.actions = actions;
    }
    let mut messages = messages.into_iter();
    let mut first = messages.next().unwrap_or_default();
    first.visibility = Visibility::Private;
    first.text = Some(text);
    first.more = messages.collect();
    first
}

/// The exact preview of sharing a reflection, with the confidentiality check
/// on its title and text, and the two ways to share it. `tag` is the
/// store's content tag of `r`: the buttons act only on exactly this.
pub fn share_preview(r: &Reflection, tag: u64, place: &str) -> Reply {
    let concerns = nudge::concerns_in(&r.title, &r.text);
    let mut notes: Vec<String> = nudge::share_warning(&concerns).into_iter().collect();
    let chars = r.text.chars().count();
    if chars > limits::DESCRIPTION {
        notes.push(format!(
            "This reflection is {chars} characters long; a post shows the first {}, so the group would see it end where the preview does.",
            limits::DESCRIPTION
        ));
    }
    preview(
        Shareable::Reflection(r.id),
        tag,
        place,
        &notes,
        vec![vec![shared_card(r, "a member")]],
        !concerns.is_empty(),
    )
}

/// The most cards one post carries.
const MAX_EMBEDS: usize = 10;

/// Room kept in each post for the words added once the posts are counted
/// ("(2 of 3)").
const NUMBERING_ROOM: usize = 32;

/// A case presentation as the group sees it when its author shares it:
/// every field answered, whole, under its name, with the competences the
/// views touch, under "a member" or the author's name; no number, no
/// dates. In posts, in order, each the cards of one message within
/// Discord's limits; a presentation longer than one post holds runs on
/// into the next, split between fields where it can be, and nothing of it
/// is cut.
pub fn shared_presentation(
    p: &CasePresentation,
    byline: &str,
    framework: &Framework,
) -> Vec<Vec<Card>> {
    // Each field under its name, in pieces an embed's description holds.
    let pieces = p.fields.iter().flat_map(|f| {
        let name = case::eye(&f.key).map_or(f.key.as_str(), |e| e.name);
        split_text(&format!("**{name}**\n{}", f.text), limits::DESCRIPTION)
    });
    let mut descriptions: Vec<String> = Vec::new();
    for piece in pieces {
        match descriptions.last_mut() {
            Some(d) if d.chars().count() + 2 + piece.chars().count() <= limits::DESCRIPTION => {
                d.push_str("\n\n");
                d.push_str(&piece);
            }
            _ => descriptions.push(piece),
        }
    }
    let heading = format!("Shared by {byline}");
    let mut cards: Vec<Card> = descriptions
        .into_iter()
        .map(|description| Card {
            heading: heading.clone(),
            title: "A case presentation, continued".into(),
            description,
            ..Card::default()
        })
        .collect();
    if let Some(last) = cards.last_mut() {
        let touched = p.competences(framework);
        if !touched.is_empty() {
            last.fields.push(Field {
                name: "Competences these views touch".into(),
                value: tags_text(&touched),
            });
        }
        last.footer =
            "Shared by its author, with their consent, for the group's discussion.".into();
    }
    // Cards into posts, each within one message's limits.
    let mut posts: Vec<Vec<Card>> = Vec::new();
    let mut chars = 0;
    for card in cards {
        let n = card.total_chars();
        match posts.last_mut() {
            Some(post)
                if post.len() < MAX_EMBEDS && chars + n + NUMBERING_ROOM <= limits::EMBED_TOTAL =>
            {
                chars += n;
                post.push(card);
            }
            _ => {
                chars = n;
                posts.push(vec![card]);
            }
        }
    }
    // Each post opens with who shared it and which part it is.
    let count = posts.len();
    for (i, post) in posts.iter_mut().enumerate() {
        for card in post.iter_mut().skip(1) {
            card.heading.clear();
        }
        if let Some(opening) = post.first_mut() {
            opening.title = match (i, count) {
                (0, 1) => format!("A case presentation · {}", p.frame.label()),
                (0, _) => format!("A case presentation · {} (1 of {count})", p.frame.label()),
                (i, _) => format!("A case presentation, continued ({} of {count})", i + 1),
            };
        }
    }
    posts
}

/// The exact preview of sharing a case presentation, with the
/// confidentiality check on every field, and the two ways to share it,
/// each of its posts shown as its own message. `tag` is the store's tag of
/// `p`: the buttons act only on exactly this.
pub fn presentation_preview(
    p: &CasePresentation,
    tag: u64,
    place: &str,
    framework: &Framework,
) -> Reply {
    let notes: Vec<String> = case::concerns(&p.fields)
        .into_iter()
        .filter_map(|(name, found)| nudge::share_field_warning(&format!("“{name}”"), &found))
        .collect();
    preview(
        Shareable::Presentation(p.id),
        tag,
        place,
        &notes,
        shared_presentation(p, "a member", framework),
        false,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supervision::case::{Field as CaseField, Frame};

    fn presentation(frame: Frame, chars: usize) -> CasePresentation {
        CasePresentation {
            id: 3,
            created: chrono::Utc::now(),
            frame,
            fields: frame
                .eyes()
                .iter()
                .enumerate()
                .map(|(i, eye)| CaseField {
                    key: eye.key.to_string(),
                    // Each field's own words, to find each whole again.
                    text: format!("{i}{}", "é word. ".repeat(chars / 8)),
                })
                .collect(),
        }
    }

    /// Whether an embed shows every character of `card`.
    fn whole_in_an_embed(card: &Card) -> bool {
        let within = |s: &str, limit: usize| s.chars().count() <= limit;
        within(&card.heading, limits::TITLE)
            && within(&card.title, limits::TITLE)
            && within(&card.description, limits::DESCRIPTION)
            && within(&card.footer, limits::FOOTER)
            && card.fields.len() <= limits::FIELDS
            && card.fields.iter().all(|f| {
                within(&f.name, limits::FIELD_NAME) && within(&f.value, limits::FIELD_VALUE)
            })
    }

    /// For every size a member can write, up to the longest each field
    /// holds, a presentation is posted whole: every card within an embed's
    /// limits, every post within one message's, and every word of every
    /// field in the posts, in order, nothing cut.
    #[test]
    fn a_presentation_is_posted_whole_in_as_many_posts_as_it_needs() {
        let framework = Framework::builtin().unwrap();
        let mut several = 0;
        for frame in [Frame::Short, Frame::SevenEyed] {
            for chars in [1, 100, 500, 700, 1_000, 2_000, 3_000, case::MAX_FIELD_CHARS] {
                let p = presentation(frame, chars);
                let posts = shared_presentation(&p, "a member", &framework);
                several += usize::from(posts.len() > 1);
                for post in &posts {
                    assert!(!post.is_empty() && post.len() <= MAX_EMBEDS);
                    assert!(post.iter().all(whole_in_an_embed));
                    let total: usize = post.iter().map(Card::total_chars).sum();
                    assert!(total <= limits::EMBED_TOTAL, "{total}");
                    assert_eq!(post[0].heading, "Shared by a member");
                    assert!(!post.iter().any(|c| c.title.contains("#3")));
                }
                let shown: String = posts
                    .iter()
                    .flatten()
                    .map(|c| c.description.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                let words = |t: &str| t.split_whitespace().map(str::to_string).collect::<Vec<_>>();
                let mut expected = Vec::new();
                for f in &p.fields {
                    let name = case::eye(&f.key).unwrap().name;
                    expected.extend(words(&format!("**{name}**\n{}", f.text)));
                }
                assert_eq!(words(&shown), expected, "every word, in order");
                if posts.len() > 1 {
                    assert!(
                        posts[1][0]
                            .title
                            .starts_with("A case presentation, continued (2 of")
                    );
                }
            }
        }
        assert!(several > 0, "the longest run on into more posts");
    }

    /// The preview shows exactly the posts the group would see, each as a
    /// message, with both ways to share and the way not to under the last;
    /// the confidentiality check reads every field and names the field,
    /// never the detail.
    #[test]
    fn the_preview_is_the_posts_with_the_buttons_under_the_last() {
        let framework = Framework::builtin().unwrap();
        let item = Shareable::Presentation(3);
        let buttons = vec![
            Action::Share {
                item,
                anonymous: true,
                tag: 9,
            },
            Action::Share {
                item,
                anonymous: false,
                tag: 9,
            },
            Action::CancelShare,
        ];
        for chars in [300, case::MAX_FIELD_CHARS] {
            let p = presentation(Frame::SevenEyed, chars);
            let preview = presentation_preview(&p, 9, "the thread", &framework);
            assert!(!preview.is_error);
            let mut messages = vec![preview.clone()];
            messages.extend(preview.more.clone());
            let posts = shared_presentation(&p, "a member", &framework);
            assert_eq!(messages.len(), posts.len());
            for (i, (message, post)) in messages.iter().zip(&posts).enumerate() {
                assert_eq!(&message.cards, post);
                assert_eq!(message.visibility, Visibility::Private);
                let last = i + 1 == posts.len();
                assert_eq!(message.actions, if last { buttons.clone() } else { vec![] });
            }
            let said = preview.text.clone().unwrap_or_default();
            assert!(!said.contains("Before you share"), "{said}");
            assert_eq!(
                said.contains("posts, one after another"),
                posts.len() > 1,
                "{said}"
            );
        }

        let mut named = presentation(Frame::SevenEyed, 300);
        named.fields[1].text = "I stayed quiet when my coachee J.B. mentioned her manager.".into();
        let checked = presentation_preview(&named, 9, "the thread", &framework);
        let said = checked.text.unwrap_or_default();
        assert!(
            said.contains("Before you share: “2. Your interventions” seems to contain"),
            "{said}"
        );
        assert!(!said.contains("J.B."), "{said}");
        assert_eq!(checked.actions, buttons, "still the member's choice");
    }
}
