//! Competence of the week: when a server's next post is due, and which
//! competence it carries. Pure functions of (rule, what was posted, now):
//! no clock, no storage, no Discord, so a year of slots can be checked in a
//! test, clock changes included.

mod manage;
mod rotation;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

pub use manage::{
    QUIET_FROM, QUIET_UNTIL, ScheduleRecord, Setting, Week, choose_next, describe, in_quiet_hours,
    order_name, pause, personal_next, personal_week, reminder_time, reminder_words, resume,
    scope_name, set, skip, weekday_name,
};
pub use rotation::{Order, Rotation, Scope, next_competence};

/// The default time zone: the framework is BACP's, its members mostly in the UK.
pub const DEFAULT_TZ: Tz = chrono_tz::Europe::London;

/// How late a missed slot may still be posted, by default.
pub const DEFAULT_GRACE_HOURS: u32 = 12;

/// When a server's weekly post goes out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// Day of the week, in the server's time zone.
    pub weekday: Weekday,
    /// Local time of day.
    pub time: NaiveTime,
    /// IANA time zone name, e.g. `Europe/London`.
    pub tz: String,
    /// How many hours late a missed slot may still be posted.
    pub grace_hours: u32,
}

/// Why a schedule setting was refused, in words for the person setting it.
/// What was typed is kept for tests and logs but never shown: it could carry
/// a mention or formatting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// Not a time of day.
    #[error(
        "That is not a time of day: write it as HH:MM on the 24-hour clock, e.g. 09:30 or 18:00."
    )]
    Time(String),
    /// Not an IANA time zone.
    #[error(
        "That is not a time zone the bot knows. Use a name such as Europe/London, Europe/Dublin or America/New_York (the list offers them as you type)."
    )]
    Zone(String),
    /// Not a weekday.
    #[error("That is not a day of the week: use Monday to Sunday.")]
    Weekday(String),
}

/// Reads `HH:MM` (or `H:MM`, `HH.MM`) on the 24-hour clock.
pub fn parse_time(text: &str) -> Result<NaiveTime, RuleError> {
    let t = text.trim();
    let err = || RuleError::Time(crate::render::fit(t, 20));
    let (h, m) = t.split_once([':', '.']).ok_or_else(err)?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || m.len() != 2 || !digits(m) {
        return Err(err());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| err())?, m.parse().map_err(|_| err())?);
    NaiveTime::from_hms_opt(h, m, 0).ok_or_else(err)
}

/// Reads an IANA time zone name, case-insensitively.
pub fn parse_zone(text: &str) -> Result<Tz, RuleError> {
    let t = text.trim();
    t.parse::<Tz>()
        .ok()
        .or_else(|| {
            chrono_tz::TZ_VARIANTS
                .iter()
                .copied()
                .find(|z| z.name().eq_ignore_ascii_case(t))
        })
        .ok_or_else(|| RuleError::Zone(crate::render::fit(t, 40)))
}

/// Reads a weekday name or its first three letters.
pub fn parse_weekday(text: &str) -> Result<Weekday, RuleError> {
    let t = text.trim().to_ascii_lowercase();
    const DAYS: [(&str, Weekday); 7] = [
        ("monday", Weekday::Mon),
        ("tuesday", Weekday::Tue),
        ("wednesday", Weekday::Wed),
        ("thursday", Weekday::Thu),
        ("friday", Weekday::Fri),
        ("saturday", Weekday::Sat),
        ("sunday", Weekday::Sun),
    ];
    DAYS.iter()
        .find(|(name, _)| t.len() >= 3 && name.starts_with(&t))
        .map(|(_, d)| *d)
        .ok_or_else(|| RuleError::Weekday(crate::render::fit(text.trim(), 20)))
}

/// Time zone names matching what has been typed, for autocomplete.
pub fn zone_suggestions(partial: &str, limit: usize) -> Vec<&'static str> {
    let p = partial.trim().to_ascii_lowercase().replace(' ', "_");
    let mut names: Vec<&'static str> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|z| z.name())
        .filter(|n| n.to_ascii_lowercase().contains(&p))
        .collect();
    names.sort_by_key(|n| (!n.to_ascii_lowercase().starts_with(&p), *n));
    names.truncate(limit);
    names
}

impl Rule {
    /// The rule's time zone (the default if the stored name is unknown).
    pub fn zone(&self) -> Tz {
        self.tz.parse().unwrap_or(DEFAULT_TZ)
    }

    /// The first slot strictly after `after`.
    ///
    /// A slot is the rule's weekday and time in its zone. A local time that
    /// the clock change skips (01:30 on the UK's spring-forward night) is
    /// posted at the first moment after the gap; a time that occurs twice (in
    /// autumn) is posted at its first occurrence.
    pub fn next_slot(&self, after: DateTime<Utc>) -> DateTime<Utc> {
        let zone = self.zone();
        let start = after.with_timezone(&zone).date_naive() - Duration::days(1);
        (0..16)
            .filter_map(|i| start.checked_add_signed(Duration::days(i)))
            .filter(|d| d.weekday() == self.weekday)
            .filter_map(|d| self.instant_on(zone, d))
            .find(|slot| *slot > after)
            // Unreachable for any real zone: a weekday recurs within 16 days.
            .unwrap_or(after + Duration::weeks(1))
    }

    fn instant_on(&self, zone: Tz, date: NaiveDate) -> Option<DateTime<Utc>> {
        let local = date.and_time(self.time);
        (0..=8)
            .map(|quarter| local + Duration::minutes(15 * quarter))
            .find_map(|t| zone.from_local_datetime(&t).earliest())
            .map(|t| t.with_timezone(&Utc))
    }
}

/// What to do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The slot to post now, if one is due (it may be late, within the grace period).
    pub post: Option<DateTime<Utc>>,
    /// Slots missed by more than the grace period (or passed over for a newer
    /// one): never posted, only recorded and logged.
    pub skipped: Vec<DateTime<Utc>>,
    /// The next slot after now.
    pub next: DateTime<Utc>,
}

/// Decides from the rule, the last slot dealt with (posted or skipped), and
/// now. Only the latest due slot can be posted, and only within the grace
/// period: after downtime there is at most one post, never a burst.
pub fn decide(rule: &Rule, last: DateTime<Utc>, now: DateTime<Utc>) -> Decision {
    let mut due = Vec::new();
    let mut slot = rule.next_slot(last);
    while slot <= now && due.len() < 10_000 {
        due.push(slot);
        slot = rule.next_slot(slot);
    }
    let grace = Duration::hours(i64::from(rule.grace_hours));
    let post = match due.last() {
        Some(latest) if now - *latest <= grace => due.pop(),
        _ => None,
    };
    Decision {
        post,
        skipped: due,
        next: slot,
    }
}

#[cfg(test)]
mod tests;
