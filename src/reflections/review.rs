//! A member's review of their development priorities, every few weeks if
//! they ask for one (off unless they do): a question for each priority,
//! and the answers kept as one private reflection tagged with them, so the
//! review joins the member's own record and CPD export.

use std::ops::RangeInclusive;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{Draft, Mode};
use crate::framework::{CompetenceId, Framework};

/// How many weeks apart reviews may be.
pub const REVIEW_WEEKS: RangeInclusive<u8> = 1..=26;
/// The most priorities one review asks about (a Discord form holds five
/// fields); the rest wait for the next review.
pub const MAX_REVIEWED: usize = 5;
/// The title every review is saved under.
pub const TITLE: &str = "How my development priorities have moved";

/// A member's review of priorities: how often, and when it was last asked
/// for or made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// Weeks between reviews.
    pub every_weeks: u8,
    /// When the last review was asked for or made (or when they turned it on).
    pub asked: DateTime<Utc>,
}

impl Review {
    /// When the next review is due.
    pub fn next(&self) -> DateTime<Utc> {
        self.asked + Duration::weeks(i64::from(self.every_weeks))
    }

    /// Whether a review is due at `now` (never while there are no priorities).
    pub fn is_due(&self, has_priorities: bool, now: DateTime<Utc>) -> bool {
        has_priorities && self.next() <= now
    }
}

/// Reads how often, as typed: a number of weeks, or `off`.
pub fn parse_every(text: &str) -> Result<Option<u8>, String> {
    let t = text
        .trim()
        .trim_end_matches("weeks")
        .trim_end_matches("week")
        .trim();
    if t.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    match t.parse::<u8>() {
        Ok(n) if REVIEW_WEEKS.contains(&n) => Ok(Some(n)),
        _ => Err(format!(
            "A review can come every {} to {} weeks, or `off`.",
            REVIEW_WEEKS.start(),
            REVIEW_WEEKS.end()
        )),
    }
}

/// What the member is told when they set or stop the review.
pub fn every_words(every: Option<u8>, now: DateTime<Utc>) -> String {
    match every {
        None => "Reviews of your priorities are off.".into(),
        Some(n) => {
            let r = Review {
                every_weeks: n,
                asked: now,
            };
            format!(
                "Every {n} week{} you will be asked how each of your priorities has moved; the answers are kept as a private reflection tagged with them. The first comes on {}. `/priorities review` reviews them now.",
                if n == 1 { "" } else { "s" },
                r.next().format("%-d %B %Y")
            )
        }
    }
}

/// The priorities one review asks about, in the member's order.
pub fn reviewed(priorities: &[CompetenceId]) -> &[CompetenceId] {
    &priorities[..priorities.len().min(MAX_REVIEWED)]
}

/// The question for one priority, short enough for a form's label.
pub fn question(id: CompetenceId) -> String {
    format!("{}: how has it moved?", id.short())
}

/// What the question is about, for a prompt or a placeholder.
pub fn prompt(framework: &Framework, id: CompetenceId) -> String {
    let statement = framework
        .competence(id)
        .map(|c| c.statement.clone())
        .unwrap_or_default();
    format!(
        "{} {statement} What has changed in your practice since you and your supervisor chose it, and what is next?",
        id.short()
    )
}

/// The answers as one reflection: each priority with what the member
/// wrote, tagged with those answered. `Err` when nothing was written.
pub fn as_draft(
    framework: &Framework,
    answers: &[(CompetenceId, String)],
) -> Result<Draft, String> {
    let answered: Vec<&(CompetenceId, String)> = answers
        .iter()
        .filter(|(_, a)| !a.trim().is_empty())
        .collect();
    if answered.is_empty() {
        return Err(
            "Nothing was written, so no review was kept; your priorities are as they were.".into(),
        );
    }
    let text = answered
        .iter()
        .map(|(id, a)| {
            let statement = framework
                .competence(*id)
                .map(|c| crate::render::fit(&c.statement, 160))
                .unwrap_or_default();
            format!("{} {statement}\n{}", id.short(), a.trim())
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    Ok(Draft {
        title: TITLE.into(),
        text,
        competences: answered.iter().map(|(id, _)| *id).collect(),
        model: "free".into(),
        mode: Mode::Other,
        minutes: None,
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_review_comes_its_weeks_after_the_last_and_never_without_priorities() {
        let t = Utc.with_ymd_and_hms(2026, 12, 5, 12, 0, 0).unwrap();
        let r = Review {
            every_weeks: 4,
            asked: t,
        };
        assert!(!r.is_due(true, t + Duration::weeks(4) - Duration::seconds(1)));
        assert!(r.is_due(true, t + Duration::weeks(4)));
        assert!(!r.is_due(false, t + Duration::weeks(40)));
        assert_eq!(parse_every("4 weeks"), Ok(Some(4)));
        assert_eq!(parse_every("OFF"), Ok(None));
        for bad in ["0", "27", "often", ""] {
            assert!(
                parse_every(bad)
                    .unwrap_err()
                    .contains("every 1 to 26 weeks, or `off`"),
                "{bad}"
            );
        }
        assert!(every_words(Some(4), t).contains("The first comes on 2 January 2027."));
    }

    #[test]
    fn answers_are_kept_as_one_reflection_tagged_with_what_was_answered() {
        let f = Framework::builtin().unwrap();
        let a: CompetenceId = "core:3.5".parse().unwrap();
        let b: CompetenceId = "integration:2.1".parse().unwrap();
        let d = as_draft(&f, &[(a, "Less rescuing. ".into()), (b, "  ".into())]).unwrap();
        assert_eq!(d.title, TITLE);
        assert_eq!(d.competences, vec![a]);
        assert!(
            d.text.starts_with("C3.5 ") && d.text.ends_with("\nLess rescuing."),
            "{}",
            d.text
        );
        assert!(
            as_draft(&f, &[(a, " ".into())])
                .unwrap_err()
                .starts_with("Nothing was written")
        );
        for id in f.competences().iter().map(|c| c.id) {
            assert!(
                question(id).chars().count() <= 45,
                "a form's label: {}",
                question(id)
            );
        }
        let six: Vec<CompetenceId> = f.competences().iter().map(|c| c.id).take(6).collect();
        assert_eq!(reviewed(&six).len(), MAX_REVIEWED);
    }
}
