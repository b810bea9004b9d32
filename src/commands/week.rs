//! The competence of the week as every front-end shows it: one card (the
//! renderer's weekly card, with its prompt) and one set of words around it.

use super::{Action, Reply, Visibility};
use crate::framework::CompetenceId;
use crate::library::Library;
use crate::prompts::WeeklyPrompts;
use crate::render::{self, Card};

/// Which week's card is shown, and to whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Week {
    /// A member's own week (the console's personal rotation).
    Mine,
    /// A member's next week, not used up by looking.
    MyNext,
    /// A group's week, in its channel; `stale` when no post has gone out for
    /// more than a week, so it is the most recent one rather than this week's.
    Group {
        /// No post for more than a week.
        stale: bool,
    },
    /// A group's next post, seen before it goes out by whoever set it up.
    GroupNext,
    /// The weekly card of a competence a member chose.
    Chosen,
}

/// The weekly card of a competence: the guide's knowledge, questions and
/// practice. None if it is not in the framework or has no prompt.
pub fn weekly_card(library: &Library, prompts: &WeeklyPrompts, id: CompetenceId) -> Option<Card> {
    let c = library.competence(id)?;
    let prompt = prompts.for_competence(library, id)?;
    Some(render::weekly_card(library, c, &prompt))
}

/// The reply that shows `id`'s weekly card as `week`.
pub fn week(library: &Library, prompts: &WeeklyPrompts, id: CompetenceId, week: Week) -> Reply {
    let Some(card) = weekly_card(library, prompts, id) else {
        return Reply::user_error(match library.competence(id) {
            Some(_) => format!("{} has no weekly prompt in this build.", id.short()),
            None => format!("{} is not in the current framework.", id.short()),
        });
    };
    let text = match week {
        Week::Mine => Some("Your competence of the week:".to_string()),
        Week::MyNext => Some("Next week's competence, from Monday:".to_string()),
        Week::Group { stale: true } => {
            Some("(The most recent weekly competence; no post has gone out since.)".to_string())
        }
        Week::Group { stale: false } | Week::GroupNext => None,
        Week::Chosen => Some(format!("The weekly card of {}:", id.short())),
    };
    let actions = match week {
        Week::MyNext | Week::GroupNext => Vec::new(),
        Week::Mine | Week::Group { .. } | Week::Chosen => vec![Action::ReflectOn(id)],
    };
    Reply {
        visibility: if matches!(week, Week::Group { .. }) {
            Visibility::Public
        } else {
            Visibility::Private
        },
        text,
        cards: vec![card],
        actions,
        ..Reply::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_week_shows_the_same_card_with_its_own_words() {
        let l = Library::builtin().unwrap();
        let prompts = WeeklyPrompts::builtin(&l).unwrap();
        let id: CompetenceId = "core:2.9".parse().unwrap();
        let card = weekly_card(&l, &prompts, id).unwrap();
        for which in [
            Week::Mine,
            Week::MyNext,
            Week::Group { stale: false },
            Week::GroupNext,
            Week::Chosen,
        ] {
            let reply = week(&l, &prompts, id, which);
            assert_eq!(reply.cards, vec![card.clone()], "{which:?}");
            assert_eq!(
                reply.actions.contains(&Action::ReflectOn(id)),
                !matches!(which, Week::MyNext | Week::GroupNext),
                "{which:?}"
            );
        }
        assert_eq!(
            week(&l, &prompts, id, Week::Group { stale: false }).visibility,
            Visibility::Public
        );
        assert!(
            week(&l, &prompts, id, Week::Chosen)
                .text
                .unwrap()
                .contains("C2.9")
        );
        let absent = week(&l, &prompts, "core:9.9".parse().unwrap(), Week::Mine);
        assert!(absent.is_error);
    }
}
