//! A group's meetings as a series of occurrences in the server's time zone:
//! one-off, weekly or every few weeks, or monthly on the nth weekday; one
//! occurrence cancelled or moved; and when each agenda opens.
//!
//! A meeting keeps its local time across clock changes (18:00 stays 18:00
//! in winter and summer), as the weekly schedule does. A local time the
//! clock change skips moves forward to the first moment after the gap, and
//! an ambiguous one (it happens twice when the clocks go back) takes the
//! first; both are said. An occurrence is known by its slot: the local date
//! the series gives it, which stays its name when it is moved.

use chrono::{
    DateTime, Datelike, Days, Duration, LocalResult, Months, NaiveDate, NaiveDateTime, NaiveTime,
    Offset, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::schedule::{DEFAULT_TZ, weekday_name};

/// The longest gap between meetings of a series repeating by weeks.
pub(crate) const MAX_EVERY_WEEKS: u8 = 12;
/// The most days before a meeting its agenda may open.
pub(crate) const MAX_AGENDA_DAYS: u8 = 28;
/// The most occurrences asked for at once.
pub(crate) const MAX_OCCURRENCES: usize = 60;

/// Which weekday of the month a monthly series falls on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Nth {
    /// The first of the month.
    First,
    /// The second.
    Second,
    /// The third.
    Third,
    /// The fourth.
    Fourth,
    /// The last, whether the fourth or the fifth.
    Last,
}

impl Nth {
    fn word(self) -> &'static str {
        match self {
            Nth::First => "first",
            Nth::Second => "second",
            Nth::Third => "third",
            Nth::Fourth => "fourth",
            Nth::Last => "last",
        }
    }

    /// This weekday of the given month, if the month has one.
    fn date_in(self, year: i32, month: u32, weekday: Weekday) -> Option<NaiveDate> {
        let n = match self {
            Nth::First => 1,
            Nth::Second => 2,
            Nth::Third => 3,
            Nth::Fourth => 4,
            Nth::Last => {
                return [5, 4]
                    .into_iter()
                    .find_map(|n| NaiveDate::from_weekday_of_month_opt(year, month, weekday, n));
            }
        };
        NaiveDate::from_weekday_of_month_opt(year, month, weekday, n)
    }
}

/// How a series repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Repeat {
    /// A single meeting.
    Once,
    /// Every `every` weeks on the first meeting's weekday (1: weekly).
    Weekly {
        /// Weeks between meetings.
        every: u8,
    },
    /// Monthly, on the nth of the first meeting's weekday.
    Monthly {
        /// Which one in the month.
        nth: Nth,
    },
}

/// An occurrence moved to another local time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Moved {
    slot: NaiveDate,
    to: NaiveDateTime,
}

/// A group's meetings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Series {
    /// The local date of the first meeting.
    first: NaiveDate,
    /// The local time each meeting starts.
    time: NaiveTime,
    /// The IANA time zone, e.g. `Europe/London`.
    tz: String,
    repeat: Repeat,
    /// How many days before a meeting its agenda opens.
    agenda_days: u8,
    /// Slots cancelled.
    cancelled: Vec<NaiveDate>,
    /// Slots moved.
    moved: Vec<Moved>,
}

/// How an occurrence's local time was placed on the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placed {
    /// At the time set.
    AsSet,
    /// The time set does not exist that day (the clocks go forward): at the
    /// first moment after the gap.
    Forward {
        /// The time set.
        asked: NaiveTime,
    },
    /// The time set happens twice that day (the clocks go back): the first.
    FirstOfTwo,
}

/// One meeting of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Occurrence {
    /// Its name: the local date the series gives it.
    pub(crate) slot: NaiveDate,
    /// When it starts.
    pub(crate) starts: DateTime<Utc>,
    /// How its local time was placed.
    pub(crate) placed: Placed,
    /// Whether it was moved from its slot.
    pub(crate) moved: bool,
}

/// What a change did: the series to keep and the words to tell the
/// convenor, or only the words when it was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Changed {
    /// The series after the change.
    pub(crate) series: Series,
    /// What to tell the convenor.
    pub(crate) words: String,
}

/// Places a local time in `zone`: a time the clocks skip moves forward to
/// the first minute after the gap, an ambiguous one takes the first.
fn place(zone: Tz, local: NaiveDateTime) -> Option<(DateTime<Utc>, Placed)> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => Some((t.with_timezone(&Utc), Placed::AsSet)),
        LocalResult::Ambiguous(first, _) => Some((first.with_timezone(&Utc), Placed::FirstOfTwo)),
        LocalResult::None => (1..=26 * 60)
            .filter_map(|m| local.checked_add_signed(Duration::minutes(m)))
            .find_map(|t| zone.from_local_datetime(&t).earliest())
            .map(|t| {
                let asked = local.time();
                (t.with_timezone(&Utc), Placed::Forward { asked })
            }),
    }
}

/// A moment's local time in `zone`, if it has one (not at the ends of time).
fn local_time(zone: Tz, t: DateTime<Utc>) -> Option<NaiveDateTime> {
    let offset = zone.offset_from_utc_datetime(&t.naive_utc()).fix();
    t.naive_utc().checked_add_offset(offset)
}

/// A moment in words, in the series' zone: "Thursday 17 December 2026, 18:00 GMT".
fn when(zone: Tz, t: DateTime<Utc>) -> String {
    t.with_timezone(&zone)
        .format("%A %-d %B %Y, %H:%M %Z")
        .to_string()
}

/// Why a series could not be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SeriesError {
    /// Weeks between meetings out of range.
    #[error("Meetings can repeat every 1 to {MAX_EVERY_WEEKS} weeks.")]
    Every,
    /// Agenda days out of range.
    #[error("The agenda can open 1 to {MAX_AGENDA_DAYS} days before a meeting.")]
    AgendaDays,
    /// A monthly series whose first date is not the nth weekday it names.
    #[error("{0}")]
    NotNth(String),
    /// The first meeting has passed.
    #[error("The first meeting would already have begun; choose a date and time to come.")]
    Past,
}

impl Series {
    /// A new series, its first meeting on `first` at `time` in `zone`,
    /// checked: the first meeting is to come, a monthly series' first date
    /// is the weekday it names.
    pub(crate) fn new(
        first: NaiveDate,
        time: NaiveTime,
        zone: Tz,
        repeat: Repeat,
        agenda_days: u8,
        now: DateTime<Utc>,
    ) -> Result<Series, SeriesError> {
        match repeat {
            Repeat::Weekly { every } if every == 0 || every > MAX_EVERY_WEEKS => {
                return Err(SeriesError::Every);
            }
            Repeat::Monthly { nth }
                if nth.date_in(first.year(), first.month(), first.weekday()) != Some(first) =>
            {
                return Err(SeriesError::NotNth(format!(
                    "{} is not the {} {} of its month; choose that date, or another day of the month.",
                    first.format("%-d %B %Y"),
                    nth.word(),
                    weekday_name(first.weekday()),
                )));
            }
            _ => {}
        }
        if agenda_days == 0 || agenda_days > MAX_AGENDA_DAYS {
            return Err(SeriesError::AgendaDays);
        }
        let series = Series {
            first,
            time,
            tz: zone.name().to_string(),
            repeat,
            agenda_days,
            cancelled: Vec::new(),
            moved: Vec::new(),
        };
        match series.regular(first) {
            Some(o) if o.starts > now => Ok(series),
            _ => Err(SeriesError::Past),
        }
    }

    /// The series' zone (the default if the stored name is unknown).
    pub(crate) fn zone(&self) -> Tz {
        self.tz.parse().unwrap_or(DEFAULT_TZ)
    }

    /// The slots cancelled.
    pub(crate) fn cancelled(&self) -> &[NaiveDate] {
        &self.cancelled
    }

    /// The slots on or after `from`, in order (at most `limit`).
    fn slots_from(&self, from: NaiveDate, limit: usize) -> Vec<NaiveDate> {
        let from = from.max(self.first);
        match self.repeat {
            Repeat::Once => vec![self.first]
                .into_iter()
                .filter(|d| *d >= from)
                .collect(),
            Repeat::Weekly { every } => {
                let step = 7 * i64::from(every.max(1));
                let k0 = ((from - self.first).num_days() + step - 1) / step;
                (k0..)
                    .map_while(|k| self.first.checked_add_signed(Duration::days(k * step)))
                    .take(limit)
                    .collect()
            }
            Repeat::Monthly { nth } => {
                let month = |d: NaiveDate| d.with_day(1);
                let Some(start) = month(from) else {
                    return Vec::new();
                };
                (0..)
                    .map_while(|k| start.checked_add_months(Months::new(k)))
                    .take(limit + 1)
                    .filter_map(|m| nth.date_in(m.year(), m.month(), self.first.weekday()))
                    .filter(|d| *d >= from)
                    .take(limit)
                    .collect()
            }
        }
    }

    /// Whether `date` is one of the series' slots.
    fn is_slot(&self, date: NaiveDate) -> bool {
        self.slots_from(date, 1).first() == Some(&date)
    }

    /// The occurrence at a slot, as the series gives it (not moved).
    fn regular(&self, slot: NaiveDate) -> Option<Occurrence> {
        let (starts, placed) = place(self.zone(), slot.and_time(self.time))?;
        Some(Occurrence {
            slot,
            starts,
            placed,
            moved: false,
        })
    }

    fn moved_occurrence(&self, m: &Moved) -> Option<Occurrence> {
        let (starts, placed) = place(self.zone(), m.to)?;
        Some(Occurrence {
            slot: m.slot,
            starts,
            placed,
            moved: true,
        })
    }

    /// The occurrence named by `slot`, moved if it was; none if the series
    /// has no such slot or it was cancelled.
    pub(crate) fn occurrence(&self, slot: NaiveDate) -> Option<Occurrence> {
        if !self.is_slot(slot) || self.cancelled.contains(&slot) {
            return None;
        }
        match self.moved.iter().find(|m| m.slot == slot) {
            Some(m) => self.moved_occurrence(m),
            None => self.regular(slot),
        }
    }
}

/// The next `count` occurrences starting after `after`, in order of their
/// start, cancelled ones left out and moved ones where they were moved to.
pub(crate) fn next_occurrences(
    series: &Series,
    after: DateTime<Utc>,
    count: usize,
) -> Vec<Occurrence> {
    let count = count.min(MAX_OCCURRENCES);
    let local = local_time(series.zone(), after).map_or(after.date_naive(), |t| t.date());
    let from = local.checked_sub_days(Days::new(2)).unwrap_or(local);
    let limit = count + series.cancelled.len() + series.moved.len() + 3;
    let mut out: Vec<Occurrence> = series
        .slots_from(from, limit)
        .into_iter()
        .filter(|d| !series.cancelled.contains(d) && !series.moved.iter().any(|m| m.slot == *d))
        .filter_map(|d| series.regular(d))
        .filter(|o| o.starts > after)
        .take(count)
        .collect();
    out.extend(
        series
            .moved
            .iter()
            .filter(|m| !series.cancelled.contains(&m.slot))
            .filter_map(|m| series.moved_occurrence(m))
            .filter(|o| o.starts > after),
    );
    out.sort_by_key(|o| (o.starts, o.slot));
    out.truncate(count);
    out
}

/// An occurrence in words, with what a clock change did to it.
pub(crate) fn occurrence_words(series: &Series, o: &Occurrence) -> String {
    let zone = series.zone();
    let at = when(zone, o.starts);
    match o.placed {
        Placed::AsSet => at,
        Placed::Forward { asked } => format!(
            "{at} ({} does not exist that day in {}: the clocks go forward, so the meeting starts just after the change)",
            asked.format("%H:%M"),
            zone.name()
        ),
        Placed::FirstOfTwo => format!(
            "{at} ({} happens twice that day in {}, when the clocks go back; the meeting is at the first)",
            o.starts.with_timezone(&zone).format("%H:%M"),
            zone.name()
        ),
    }
}

/// The series in words for the convenor: how it repeats, when the agenda
/// opens, and the next meeting after `now`.
pub(crate) fn describe(series: &Series, now: DateTime<Utc>) -> String {
    let zone = series.zone();
    let day = weekday_name(series.first.weekday());
    let at = format!("{} ({})", series.time.format("%H:%M"), zone.name());
    let from = series.first.format("%-d %B %Y");
    let how = match series.repeat {
        Repeat::Once => format!("One meeting, on {day} {from} at {at}"),
        Repeat::Weekly { every: 1 } => format!("Every {day} at {at}, from {from}"),
        Repeat::Weekly { every } => format!("Every {every} weeks on {day} at {at}, from {from}"),
        Repeat::Monthly { nth } => format!(
            "On the {} {day} of every month at {at}, from {from}",
            nth.word()
        ),
    };
    let days = series.agenda_days;
    let plural = if days == 1 { "" } else { "s" };
    let next = match next_occurrences(series, now, 1).first() {
        Some(o) => format!("Next: {}.", occurrence_words(series, o)),
        None => "No meetings to come.".to_string(),
    };
    format!("{how}. The agenda opens {days} day{plural} before each meeting. {next}")
}

/// Cancels the occurrence named by `slot`, if it has not begun by `now`.
pub(crate) fn cancel(
    series: &Series,
    slot: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Changed, String> {
    let zone = series.zone();
    let Some(o) = series.occurrence(slot) else {
        return Err(no_such(series, slot));
    };
    if o.starts <= now {
        return Err("That meeting has already begun; it stays on the record as it was.".into());
    }
    let mut next = series.clone();
    next.cancelled.push(slot);
    next.moved.retain(|m| m.slot != slot);
    let after = match next_occurrences(&next, now, 1).first() {
        Some(n) => format!("The next meeting is {}.", occurrence_words(&next, n)),
        None => "There are no more meetings in this series.".to_string(),
    };
    Ok(Changed {
        words: format!(
            "The meeting on {} is cancelled. {after}",
            when(zone, o.starts)
        ),
        series: next,
    })
}

fn no_such(series: &Series, slot: NaiveDate) -> String {
    if series.cancelled.contains(&slot) {
        format!(
            "The meeting of {} is already cancelled.",
            slot.format("%-d %B %Y")
        )
    } else {
        format!(
            "There is no meeting of this series on {}.",
            slot.format("%-d %B %Y")
        )
    }
}

/// Moves the occurrence named by `slot` to the local time `to`, if it has
/// not begun and `to` is still to come.
pub(crate) fn move_occurrence(
    series: &Series,
    slot: NaiveDate,
    to: NaiveDateTime,
    now: DateTime<Utc>,
) -> Result<Changed, String> {
    let zone = series.zone();
    let Some(o) = series.occurrence(slot) else {
        return Err(no_such(series, slot));
    };
    if o.starts <= now {
        return Err("That meeting has already begun; it stays on the record as it was.".into());
    }
    let moved = Moved { slot, to };
    let Some(new) = series.moved_occurrence(&moved).filter(|n| n.starts > now) else {
        return Err("That time has passed; choose a time to come.".into());
    };
    let mut next = series.clone();
    next.moved.retain(|m| m.slot != slot);
    next.moved.push(moved);
    Ok(Changed {
        words: format!(
            "The meeting on {} moves to {}.",
            when(zone, o.starts),
            occurrence_words(&next, &new)
        ),
        series: next,
    })
}

/// When the agenda for an occurrence opens: the series' number of days
/// before, at the meeting's local time (so across a clock change it keeps
/// the local time, placed as a meeting would be).
pub(crate) fn agenda_opens(series: &Series, o: &Occurrence) -> DateTime<Utc> {
    let zone = series.zone();
    let days = Days::new(u64::from(series.agenda_days));
    local_time(zone, o.starts)
        .and_then(|t| t.checked_sub_days(days))
        .and_then(|local| place(zone, local))
        .map(|(t, _)| t)
        .or_else(|| o.starts.checked_sub_days(days))
        .unwrap_or(o.starts)
}

/// When the agenda for an occurrence opens, in words.
pub(crate) fn agenda_words(series: &Series, o: &Occurrence) -> String {
    let days = series.agenda_days;
    format!(
        "The agenda for the meeting on {} opens {}, {days} day{} before.",
        when(series.zone(), o.starts),
        when(series.zone(), agenda_opens(series, o)),
        if days == 1 { "" } else { "s" }
    )
}

#[cfg(test)]
mod tests;
