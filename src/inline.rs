//! The inline mode: short answers to competence references in ordinary chat
//! ("shall we look at C3.5?"), at most once per reference per channel within a
//! cool-down, so a busy discussion is not flooded.
//!
//! Only explicit references wake it (`C3.5`, `core 3.5`, `competence 3.5`);
//! a bare `3.5` in chat is too often a time or a score.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use crate::framework::{CompetenceId, Framework};
use crate::references::find_references;
use crate::render::{fit, limits};

/// How long the same reference in the same channel stays answered.
pub const COOL_DOWN_MINUTES: i64 = 5;

/// Most references answered in one message.
pub const MAX_PER_MESSAGE: usize = 5;

/// Remembers what was answered where, to keep replies to once per cool-down.
#[derive(Debug, Default)]
pub struct InlineReplies {
    last: Mutex<HashMap<(u64, CompetenceId), DateTime<Utc>>>,
}

impl InlineReplies {
    /// The competences referenced explicitly in `text` that have not been
    /// answered in `channel` within the cool-down; marks them answered at `now`.
    pub fn due(
        &self,
        framework: &Framework,
        channel: u64,
        text: &str,
        now: DateTime<Utc>,
    ) -> Vec<CompetenceId> {
        let mut ids: Vec<CompetenceId> = Vec::new();
        for r in find_references(framework, text)
            .into_iter()
            .filter(|r| r.explicit)
        {
            for id in r.ids(framework) {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let window = Duration::minutes(COOL_DOWN_MINUTES);
        last.retain(|_, at| now - *at < window);
        let due: Vec<CompetenceId> = ids
            .into_iter()
            .filter(|id| !last.contains_key(&(channel, *id)))
            .take(MAX_PER_MESSAGE)
            .collect();
        for id in &due {
            last.insert((channel, *id), now);
        }
        due
    }
}

/// The compact answer: one line per competence, within a message's limit.
pub fn compact_reply(framework: &Framework, ids: &[CompetenceId]) -> Option<String> {
    let lines: Vec<String> = ids
        .iter()
        .filter_map(|id| framework.competence(*id))
        .map(|c| format!("**{}** {}", c.id.label(), fit(&c.statement, 300)))
        .collect();
    if lines.is_empty() {
        return None;
    }
    let mut text = lines.join("\n");
    text.push_str("\n-# Full card: /competence");
    Some(fit(&text, limits::MESSAGE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_per_reference_per_channel_per_cool_down() {
        let f = Framework::builtin().unwrap();
        let replies = InlineReplies::default();
        let t0 = Utc::now();
        let first = replies.due(&f, 1, "look at C3.5 and core 2.10", t0);
        assert_eq!(first.len(), 2);
        assert!(
            replies
                .due(&f, 1, "C3.5 again", t0 + Duration::minutes(1))
                .is_empty()
        );
        assert_eq!(
            replies
                .due(&f, 2, "C3.5 elsewhere", t0 + Duration::minutes(1))
                .len(),
            1
        );
        let later = t0 + Duration::minutes(COOL_DOWN_MINUTES + 1);
        assert_eq!(replies.due(&f, 1, "C3.5 later", later).len(), 1);
    }

    #[test]
    fn bare_numbers_do_not_wake_it() {
        let f = Framework::builtin().unwrap();
        let replies = InlineReplies::default();
        assert!(
            replies
                .due(&f, 1, "meet at 3.5? it took 2.10 hours", Utc::now())
                .is_empty()
        );
    }

    #[test]
    fn competence_without_domain_answers_both() {
        let f = Framework::builtin().unwrap();
        let replies = InlineReplies::default();
        let ids = replies.due(&f, 1, "competence 3.5", Utc::now());
        assert_eq!(ids.len(), 2);
        let text = compact_reply(&f, &ids).unwrap();
        assert!(text.contains("Core 3.5") && text.contains("Integration 3.5"));
    }
}
