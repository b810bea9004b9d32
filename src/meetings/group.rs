//! One group's meetings as a whole: the plan a convenor set (the series,
//! where the group meets, how long, how many present), the rota, and the
//! Discord events made for occurrences. What is due (an event to make, move
//! or remove; roles to give; an agenda to open; a reminder; the note after
//! a meeting inviting members to log it) is worked out here from the record
//! and the time; a front-end does it and keeps what changed.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::coverage::{self, Quarter, Tally};
use super::rota::{self, MAX_PRESENTERS, Names, Rota};
use super::series::{self, Nth, Occurrence, Repeat, Series};
use crate::reflections::nudge;
use crate::schedule::{DEFAULT_TZ, QUIET_FROM, QUIET_UNTIL, parse_time, parse_zone};
use crate::supervision::log::{Kind, LogChoices};

/// The longest place description Discord keeps for an event.
pub(crate) const MAX_LOCATION: usize = 100;
/// The shortest and longest meeting, in minutes.
pub(crate) const MINUTES: std::ops::RangeInclusive<u16> = 15..=480;
/// A meeting's length unless the convenor says otherwise.
pub(crate) const DEFAULT_MINUTES: u16 = 90;
/// Days before a meeting its agenda opens unless the convenor says otherwise.
pub(crate) const DEFAULT_AGENDA_DAYS: u8 = 7;
/// The name every meeting's Discord event carries.
pub(crate) const EVENT_NAME: &str = "Supervision group meeting";

/// Where the group meets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Place {
    /// A voice channel of the server.
    Voice {
        /// The channel.
        channel: u64,
    },
    /// Somewhere else: a room, an address or a video link.
    Elsewhere {
        /// As the convenor wrote it.
        location: String,
    },
}

/// What a convenor set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Plan {
    /// When the meetings fall.
    pub(crate) series: Series,
    /// Where.
    pub(crate) place: Place,
    /// How long each lasts, in minutes.
    pub(crate) minutes: u16,
    /// How many members present at each.
    pub(crate) presenters: u8,
    /// The channel the rota and notices are posted in.
    pub(crate) channel: u64,
}

/// A Discord event made for an occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Linked {
    /// The occurrence's slot.
    pub(crate) slot: NaiveDate,
    /// The event's id.
    pub(crate) event: u64,
    /// When the event says the meeting starts.
    pub(crate) starts: DateTime<Utc>,
}

/// One group's meetings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Meetings {
    /// The meetings set, if any.
    pub(crate) plan: Option<Plan>,
    /// Who does what.
    pub(crate) rota: Rota,
    /// The slot the rota's roles were given for.
    pub(crate) roles_for: Option<NaiveDate>,
    /// Discord events made for occurrences still to come.
    pub(crate) events: Vec<Linked>,
    /// Swaps of roles at the next meeting one member offered another
    /// (from, to), waiting for the other to agree.
    pub(crate) swap_offers: Vec<(u64, u64)>,
    /// Members who asked to be reminded of each meeting.
    pub(crate) reminders: Vec<MeetingReminder>,
    /// Agendas opened, with their threads.
    pub(crate) agendas: Vec<Agenda>,
    /// Items brought to meetings.
    pub(crate) items: Vec<Item>,
    /// Meetings held and items brought, by quarter (members only as tags:
    /// see [`coverage`](super::coverage)).
    pub(crate) tallies: Vec<Tally>,
    /// Meetings that began up to this moment are in `tallies`.
    pub(crate) tallied_until: Option<DateTime<Utc>>,
}

/// A member's reminder of each meeting, by direct message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MeetingReminder {
    /// The member.
    pub(crate) member: u64,
    /// How many hours before a meeting.
    pub(crate) lead_hours: u16,
    /// Whether it may come in quiet hours (21:00 to 07:00 in `zone`); if
    /// not, it comes at 20:00 before them instead.
    pub(crate) in_quiet_hours: bool,
    /// The member's IANA time zone, which their quiet hours are kept in;
    /// none: the meetings' zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) zone: Option<String>,
    /// The meeting last reminded of.
    pub(crate) last: Option<NaiveDate>,
}

/// A meeting's agenda, opened a set number of days before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "KeptAgenda")]
pub(crate) struct Agenda {
    /// The meeting's slot.
    pub(crate) slot: NaiveDate,
    /// The thread opened for it, if Discord allowed one.
    pub(crate) thread: Option<u64>,
    /// The post that opened it, once Discord took it: its thread is made
    /// from this post, so trying again never posts the opening twice (but
    /// see [`KeptAgenda`] for a record kept before posts were).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) post: Option<u64>,
    /// While its thread is still to be made: when it is tried again. None
    /// once it is made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) retry: Option<Retry>,
    /// Whether the note inviting members to log the meeting was posted in
    /// its thread once the meeting ended (kept as soon as it is posted, or
    /// when it could not be). The agenda is kept past its meeting's end
    /// until it is.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) log_note: bool,
}

/// An [`Agenda`] as kept, in either shape: with its post and its next try,
/// or as kept before tries were counted (its slot and thread alone).
#[derive(Deserialize)]
struct KeptAgenda {
    slot: NaiveDate,
    thread: Option<u64>,
    #[serde(default)]
    post: Option<u64>,
    #[serde(default)]
    retry: Option<Retry>,
    #[serde(default)]
    log_note: bool,
}

impl From<KeptAgenda> for Agenda {
    /// A record kept before tries were counted whose thread was never made
    /// is due to be tried at once, as after a failed try. Its post's id was
    /// not kept, so the try posts the opening again and makes the thread
    /// from that; an earlier post, if Discord took one, stays without a
    /// thread.
    fn from(kept: KeptAgenda) -> Agenda {
        let retry = match (kept.thread, kept.retry) {
            (None, None) => Some(Retry {
                at: DateTime::UNIX_EPOCH,
                failed: 0,
            }),
            (_, retry) => retry,
        };
        Agenda {
            slot: kept.slot,
            thread: kept.thread,
            post: kept.post,
            retry,
            log_note: kept.log_note,
        }
    }
}

/// When an agenda's thread is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Retry {
    /// Not before this moment.
    pub(crate) at: DateTime<Utc>,
    /// Tries that have failed so far.
    pub(crate) failed: u32,
}

/// The wait before an agenda's thread is tried again after its first
/// failed try; it doubles with each failure after that, to at most
/// [`RETRY_MOST`]. Tries stop once the meeting has begun.
pub(crate) const RETRY_FIRST: Duration = Duration::minutes(5);
/// The longest wait between two tries of an agenda's thread.
pub(crate) const RETRY_MOST: Duration = Duration::hours(1);

/// The wait after the `failed`th failed try of an agenda's thread.
pub(crate) fn retry_wait(failed: u32) -> Duration {
    let doublings = failed.saturating_sub(1).min(16);
    let wait = RETRY_FIRST * (1_i32 << doublings);
    wait.min(RETRY_MOST)
}

/// An item a member brings to a meeting. The agenda shows only `label`
/// (or "an item from a member") and the time asked for; what the item is
/// stays with the member until they share it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Item {
    /// The meeting's slot.
    pub(crate) slot: NaiveDate,
    /// Who brings it.
    pub(crate) member: u64,
    /// Minutes asked for.
    pub(crate) minutes: u16,
    /// What the agenda shows, as the member chose; none: "an item from a member".
    pub(crate) label: Option<String>,
    /// The member's reflection it comes from, if any.
    #[serde(default)]
    pub(crate) reflection: Option<u64>,
    /// Or the member's case presentation it comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) presentation: Option<u64>,
}

/// What of the member's own an item comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// One of their reflections, by number.
    Reflection(u64),
    /// One of their case presentations, by number.
    Presentation(u64),
}

impl Source {
    /// The source a member named, or why naming both will not do.
    pub(crate) fn of(
        reflection: Option<u64>,
        presentation: Option<u64>,
    ) -> Result<Option<Source>, String> {
        match (reflection, presentation) {
            (Some(r), Some(p)) => Err(format!(
                "An item comes from one thing of yours: a reflection or a case presentation, not both. Bring it again with `reflection:{r}` or with `presentation:{p}`. Nothing was brought."
            )),
            (Some(r), None) => Ok(Some(Source::Reflection(r))),
            (None, Some(p)) => Ok(Some(Source::Presentation(p))),
            (None, None) => Ok(None),
        }
    }

    /// What it is, in words: "your reflection #3".
    fn words(self) -> String {
        match self {
            Source::Reflection(n) => format!("your reflection #{n}"),
            Source::Presentation(n) => format!("your case presentation #{n}"),
        }
    }
}

/// The longest a member's agenda line may be.
pub(crate) const MAX_LABEL: usize = 80;
/// The most minutes one item may ask for.
pub(crate) const ITEM_MINUTES: std::ops::RangeInclusive<u16> = 5..=120;
/// The longest lead a meeting reminder may have, in hours.
pub(crate) const MAX_LEAD_HOURS: u16 = 168;

/// Something the front-end is to do for a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Due {
    /// Make a Discord event for this occurrence.
    Create(Occurrence),
    /// The event's meeting moved: give it this start.
    Retime {
        /// The event.
        event: u64,
        /// Where its meeting is now.
        occurrence: Occurrence,
    },
    /// The event's meeting was cancelled, or the meetings stopped.
    Remove(Linked),
    /// Give the roles of this occurrence (after checking who is in the server).
    Allocate(Occurrence),
    /// Open this occurrence's agenda: a post and its thread, or try its
    /// thread again.
    OpenAgenda {
        /// The meeting.
        occurrence: Occurrence,
        /// The post made for it already, to make the thread from; none:
        /// post first.
        post: Option<u64>,
    },
    /// Remind this member of this occurrence.
    Remind {
        /// The member.
        member: u64,
        /// The meeting.
        occurrence: Occurrence,
    },
    /// This meeting has ended: post, once, the note inviting members to
    /// keep it in their private supervision log, in its agenda's thread.
    LogNote {
        /// The meeting.
        occurrence: Occurrence,
        /// Its agenda's thread.
        thread: u64,
    },
}

impl Plan {
    /// When an occurrence ends.
    pub(crate) fn ends(&self, o: &Occurrence) -> DateTime<Utc> {
        o.starts + Duration::minutes(i64::from(self.minutes))
    }
}

/// What is due for `m` at `now`, in the order to do it.
pub(crate) fn due(m: &Meetings, now: DateTime<Utc>) -> Vec<Due> {
    let mut out = Vec::new();
    let next = m
        .plan
        .as_ref()
        .and_then(|p| series::next_occurrences(&p.series, now, 1).first().copied());
    for linked in &m.events {
        let now_is = m
            .plan
            .as_ref()
            .and_then(|p| p.series.occurrence(linked.slot));
        match now_is {
            Some(o) if o.starts != linked.starts && o.starts > now => out.push(Due::Retime {
                event: linked.event,
                occurrence: o,
            }),
            Some(_) => {}
            None if linked.starts > now => out.push(Due::Remove(*linked)),
            None => {}
        }
    }
    if let Some(o) = next {
        if !m.events.iter().any(|l| l.slot == o.slot) {
            out.push(Due::Create(o));
        }
        let begun = m.rota.open_starts().is_none_or(|s| s <= now);
        if begun && m.roles_for != Some(o.slot) && m.rota.has_members() {
            out.push(Due::Allocate(o));
        }
        if let Some(plan) = &m.plan {
            // `o` has not begun, so a thread is never tried after its
            // meeting began.
            let opening = match m.agendas.iter().find(|a| a.slot == o.slot) {
                None if series::agenda_opens(&plan.series, &o) <= now => Some(None),
                Some(a) if a.thread.is_none() && a.retry.is_some_and(|r| r.at <= now) => {
                    Some(a.post)
                }
                _ => None,
            };
            if let Some(post) = opening {
                out.push(Due::OpenAgenda {
                    occurrence: o,
                    post,
                });
            }
            for r in &m.reminders {
                if r.last != Some(o.slot) && reminder_at(plan, r, &o) <= now {
                    out.push(Due::Remind {
                        member: r.member,
                        occurrence: o,
                    });
                }
            }
        }
    }
    if let Some(plan) = &m.plan {
        out.extend(
            m.agendas
                .iter()
                .filter(|a| !a.log_note)
                .filter_map(|a| Some((plan.series.occurrence(a.slot)?, a.thread?)))
                .filter(|(o, _)| plan.ends(o) <= now)
                .map(|(occurrence, thread)| Due::LogNote { occurrence, thread }),
        );
    }
    out
}

/// The next moment after `now` at which something may fall due for `m`:
/// the next meeting's start (roles for the one after), its agenda's
/// opening or its thread's next try, a reminder of it, the end of a
/// meeting whose thread waits for its log note.
pub(crate) fn next_moment(m: &Meetings, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let plan = m.plan.as_ref()?;
    let ends = m
        .agendas
        .iter()
        .filter(|a| a.thread.is_some() && !a.log_note)
        .filter_map(|a| plan.series.occurrence(a.slot))
        .map(|o| plan.ends(&o))
        .filter(|t| *t > now)
        .min();
    let Some(o) = series::next_occurrences(&plan.series, now, 1)
        .first()
        .copied()
    else {
        return ends;
    };
    let retry = m
        .agendas
        .iter()
        .filter(|a| a.slot == o.slot && a.thread.is_none())
        .filter_map(|a| a.retry.map(|r| r.at));
    std::iter::once(o.starts)
        .chain(std::iter::once(series::agenda_opens(&plan.series, &o)))
        .chain(retry)
        .chain(m.reminders.iter().map(|r| reminder_at(plan, r, &o)))
        .chain(ends)
        .filter(|t| *t > now)
        .min()
}

/// When `r` reminds of `o`: its lead before the meeting, or, if that falls
/// in quiet hours the member kept, at 20:00 before them (in the member's
/// zone, or the meetings' if they gave none).
pub(crate) fn reminder_at(plan: &Plan, r: &MeetingReminder, o: &Occurrence) -> DateTime<Utc> {
    let at = o.starts - Duration::hours(i64::from(r.lead_hours));
    if r.in_quiet_hours {
        return at;
    }
    let zone = r
        .zone
        .as_deref()
        .and_then(|z| z.parse::<Tz>().ok())
        .unwrap_or_else(|| plan.series.zone());
    let local = at.with_timezone(&zone);
    let hour = local.hour();
    let day = if hour < QUIET_UNTIL {
        local.date_naive().pred_opt()
    } else if hour >= QUIET_FROM {
        Some(local.date_naive())
    } else {
        return at;
    };
    day.and_then(|d| d.and_hms_opt(QUIET_FROM - 1, 0, 0))
        .and_then(|t| zone.from_local_datetime(&t).earliest())
        .map_or(at, |t| t.with_timezone(&Utc))
}

/// The record once `member` was reminded of `o` (or the reminder was let go).
pub(crate) fn reminded(m: &Meetings, member: u64, o: &Occurrence) -> Meetings {
    let mut next = m.clone();
    for r in next.reminders.iter_mut().filter(|r| r.member == member) {
        r.last = Some(o.slot);
    }
    next
}

/// `o`'s agenda as the record has it, or a new one not yet posted.
fn agenda_of(m: &Meetings, o: &Occurrence) -> Agenda {
    m.agendas
        .iter()
        .find(|a| a.slot == o.slot)
        .copied()
        .unwrap_or(Agenda {
            slot: o.slot,
            thread: None,
            post: None,
            retry: None,
            log_note: false,
        })
}

/// The record with `agenda` for its meeting.
fn with_agenda(m: &Meetings, agenda: Agenda) -> Meetings {
    let mut next = m.clone();
    next.agendas.retain(|a| a.slot != agenda.slot);
    next.agendas.push(agenda);
    next
}

/// The record once `o`'s agenda was posted as `post`, kept before its
/// thread is asked for: should nothing more be kept (a crash), the thread
/// is due again at once, from this post.
pub(crate) fn agenda_posted(
    m: &Meetings,
    o: &Occurrence,
    post: u64,
    now: DateTime<Utc>,
) -> Meetings {
    let mut agenda = agenda_of(m, o);
    agenda.post = Some(post);
    agenda.retry = Some(agenda.retry.unwrap_or(Retry { at: now, failed: 0 }));
    with_agenda(m, agenda)
}

/// The record once `o`'s agenda has its thread.
pub(crate) fn agenda_opened(m: &Meetings, o: &Occurrence, thread: u64) -> Meetings {
    let mut agenda = agenda_of(m, o);
    agenda.thread = Some(thread);
    agenda.retry = None;
    with_agenda(m, agenda)
}

/// The record once a try at `o`'s agenda failed at `now`: `post` is its
/// opening post if Discord still has it (none: not made, or gone). Its
/// thread is tried again after [`retry_wait`], while the meeting is still
/// to come.
pub(crate) fn agenda_not_opened(
    m: &Meetings,
    o: &Occurrence,
    post: Option<u64>,
    now: DateTime<Utc>,
) -> Meetings {
    let mut agenda = agenda_of(m, o);
    let failed = agenda.retry.map_or(0, |r| r.failed).saturating_add(1);
    agenda.post = post;
    agenda.retry = Some(Retry {
        at: now + retry_wait(failed),
        failed,
    });
    with_agenda(m, agenda)
}

/// The record once the log note of `o` was posted in its thread (or could
/// not be): it is not due again, and the agenda goes with the next tidy.
pub(crate) fn log_noted(m: &Meetings, o: &Occurrence) -> Meetings {
    let mut agenda = agenda_of(m, o);
    agenda.log_note = true;
    with_agenda(m, agenda)
}

/// What the log note offers to fill in for `o`: its local date, its length
/// and the kind, group, attended.
pub(crate) fn log_choices(plan: &Plan, o: &Occurrence) -> LogChoices {
    LogChoices {
        date: o.starts.with_timezone(&plan.series.zone()).date_naive(),
        attended: true,
        minutes: u32::from(plan.minutes),
        kind: Kind::Group,
        functions: Vec::new(),
    }
}

/// When `o` is, in the words of the group's zone (nothing without a plan).
fn when_words(m: &Meetings, o: &Occurrence) -> String {
    m.plan
        .as_ref()
        .map(|p| series::occurrence_words(&p.series, o))
        .unwrap_or_default()
}

/// The note posted in an ended meeting's thread, naming no one: whoever
/// wants can keep the meeting in their private supervision log.
pub(crate) fn log_note_words(m: &Meetings, o: &Occurrence) -> String {
    let when = when_words(m, o);
    let minutes = m.plan.as_ref().map_or(0, |p| p.minutes);
    format!(
        "The meeting on {when} has ended. If you want to keep it in your private supervision log, Log this meeting opens the form with its date, its {minutes} minutes and the kind, group, filled in: you write only what you took away, and only you read it."
    )
}

/// The record with links to meetings that have ended let go, and the roles
/// given for a meeting that moved or was cancelled following it (to its new
/// time, or to the next meeting). `None` when nothing changed.
pub(crate) fn tidy(m: &Meetings, now: DateTime<Utc>) -> Option<Meetings> {
    let mut next = m.clone();
    let ends = |l: &Linked| {
        let minutes = m.plan.as_ref().map_or(0, |p| p.minutes);
        l.starts + Duration::minutes(i64::from(minutes))
    };
    next.events.retain(|l| ends(l) > now);
    if let (Some(plan), Some(slot), Some(open)) = (&m.plan, m.roles_for, m.rota.open_starts())
        && open > now
    {
        match plan.series.occurrence(slot) {
            Some(o) if o.starts != open => next.rota = rota::retime(&m.rota, o.starts),
            Some(_) => {}
            None => match series::next_occurrences(&plan.series, now, 1).first() {
                Some(o) => {
                    next.rota = rota::retime(&m.rota, o.starts);
                    next.roles_for = Some(o.slot);
                }
                // No meeting follows: it was not held, so no one served.
                None => {
                    next.rota = rota::close(&m.rota, false);
                    next.roles_for = None;
                    next.swap_offers.clear();
                }
            },
        }
    }
    // Agendas (once their log note is posted) and items of meetings that
    // have ended go; a cancelled
    // meeting's items carry over to the next one, and with no meetings set
    // there is nothing to bring to.
    match &m.plan {
        None => {
            next.agendas.clear();
            next.items.clear();
        }
        Some(plan) => {
            let coming = series::next_occurrences(&plan.series, now, 1)
                .first()
                .copied();
            let open = |slot: NaiveDate| plan.series.occurrence(slot).map(|o| plan.ends(&o) > now);
            // An agenda with a thread stays after its meeting until the
            // log note is posted in it.
            next.agendas.retain(|a| match open(a.slot) {
                Some(still) => still || (a.thread.is_some() && !a.log_note),
                None => false,
            });
            // An item stays after its meeting until the meeting is tallied.
            let untallied = |slot: NaiveDate| {
                m.tallied_until
                    .is_some_and(|t| plan.series.occurrence(slot).is_some_and(|o| o.starts > t))
            };
            next.items.retain_mut(|i| match open(i.slot) {
                Some(still) => still || untallied(i.slot),
                None => match coming {
                    Some(o) => {
                        i.slot = o.slot;
                        true
                    }
                    None => false,
                },
            });
        }
    }
    (next != *m).then_some(next)
}

/// The record with every meeting that began after the last tally and by
/// `now` counted as held in its quarter, with the items brought to it, each
/// by its member's tag for the quarter (`tag`). The first call only starts
/// the count, from `now`. `None` when nothing changed.
pub(crate) fn tally(
    m: &Meetings,
    now: DateTime<Utc>,
    tag: impl Fn(u64, Quarter) -> u64,
) -> Option<Meetings> {
    let mut next = m.clone();
    let Some(since) = m.tallied_until else {
        next.tallied_until = Some(now);
        return Some(next);
    };
    if let Some(plan) = &m.plan {
        let zone = plan.series.zone();
        let begun = series::next_occurrences(&plan.series, since, series::MAX_OCCURRENCES)
            .into_iter()
            .filter(|o| o.starts <= now);
        for o in begun {
            next.tallied_until = Some(now);
            let quarter = Quarter::at(o.starts, zone);
            let by: Vec<u64> = m
                .items
                .iter()
                .filter(|i| i.slot == o.slot)
                .map(|i| tag(i.member, quarter))
                .collect();
            next.tallies = coverage::held(&next.tallies, quarter, &by);
        }
    }
    (next != *m).then_some(next)
}

impl Meetings {
    /// Whether anything here names `member`.
    pub(crate) fn names(&self, member: u64) -> bool {
        self.rota.knows(member)
            || self.reminders.iter().any(|r| r.member == member)
            || self.items.iter().any(|i| i.member == member)
            || self
                .swap_offers
                .iter()
                .any(|(a, b)| *a == member || *b == member)
    }
}

/// The record without `member` (forget-me): off the rota, their reminder,
/// items and swap offers gone.
pub(crate) fn forget(m: &Meetings, member: u64) -> Meetings {
    let mut next = m.clone();
    next.rota = rota::forget(&m.rota, member);
    next.reminders.retain(|r| r.member != member);
    next.items.retain(|i| i.member != member);
    next.swap_offers
        .retain(|(a, b)| *a != member && *b != member);
    next
}

/// `member` asks to be reminded `lead_hours` before each meeting, their
/// quiet hours kept in `zone` (none: the meetings' zone).
pub(crate) fn remind(
    m: &Meetings,
    member: u64,
    lead_hours: u16,
    in_quiet_hours: bool,
    zone: Option<Tz>,
) -> Result<(Meetings, String), String> {
    if lead_hours == 0 || lead_hours > MAX_LEAD_HOURS {
        return Err(format!(
            "A reminder can come 1 to {MAX_LEAD_HOURS} hours (a week) before a meeting."
        ));
    }
    let mut next = m.clone();
    let last = m
        .reminders
        .iter()
        .find(|r| r.member == member)
        .and_then(|r| r.last);
    next.reminders.retain(|r| r.member != member);
    next.reminders.push(MeetingReminder {
        member,
        lead_hours,
        in_quiet_hours,
        zone: zone.map(|z| z.name().to_string()),
        last,
    });
    let zone = match (zone, &m.plan) {
        (Some(z), _) => format!("your time zone, {}", z.name()),
        (None, Some(plan)) => format!("the meetings' time zone, {}", plan.series.zone().name()),
        (None, None) => "the meetings' time zone".to_string(),
    };
    let quiet = if in_quiet_hours {
        format!("even if that falls between {QUIET_FROM}:00 and {QUIET_UNTIL:02}:00 in {zone}")
    } else {
        format!(
            "unless that falls between {QUIET_FROM}:00 and {QUIET_UNTIL:02}:00 in {zone}, when it comes at {}:00 before instead",
            QUIET_FROM - 1
        )
    };
    let plural = if lead_hours == 1 { "" } else { "s" };
    Ok((
        next,
        format!(
            "You will get a direct message {lead_hours} hour{plural} before each meeting, {quiet}. `/agenda remind-off` stops it."
        ),
    ))
}

/// `member` stops their meeting reminders.
pub(crate) fn remind_off(m: &Meetings, member: u64) -> (Meetings, String, bool) {
    let mut next = m.clone();
    next.reminders.retain(|r| r.member != member);
    let changed = next != *m;
    let words = if changed {
        "Meeting reminders are off for you."
    } else {
        "You had no meeting reminders."
    };
    (next, words.to_string(), changed)
}

/// The words of a meeting reminder, `place` in the front-end's words.
pub(crate) fn reminder_words(m: &Meetings, member: u64, o: &Occurrence, place: &str) -> String {
    let when = when_words(m, o);
    let role = if m.roles_for == Some(o.slot) {
        rota::role_of(&m.rota, member).map_or(String::new(), |r| format!(" You are {r}."))
    } else {
        String::new()
    };
    let item = if m
        .items
        .iter()
        .any(|i| i.member == member && i.slot == o.slot)
    {
        " You are bringing an item."
    } else {
        ""
    };
    format!(
        "A reminder: the group meets {when}, {place}.{role}{item} `/meeting` in the server shows its roles and `/agenda show` its agenda."
    )
}

/// The next meeting whose agenda is open, if any.
fn open_meeting(m: &Meetings, now: DateTime<Utc>) -> Result<(&Plan, Occurrence), String> {
    let plan = plan_of(m)?;
    let o = series::next_occurrences(&plan.series, now, 1)
        .first()
        .copied()
        .ok_or_else(|| "There are no meetings to come.".to_string())?;
    let opens = series::agenda_opens(&plan.series, &o);
    if opens > now {
        return Err(format!(
            "{} Items can be brought once it is open.",
            series::agenda_words(&plan.series, &o)
        ));
    }
    Ok((plan, o))
}

/// Whether the next meeting's agenda is open, so items can be brought; if
/// not, the words that say why (no meetings, or when it opens).
pub(crate) fn agenda_open(m: &Meetings, now: DateTime<Utc>) -> Result<(), String> {
    open_meeting(m, now).map(|_| ())
}

/// `member` brings an item to the next meeting: the time they ask for,
/// what the agenda shows (their words, read by the confidentiality check;
/// else "an item from a member") and the reflection or case presentation
/// it comes from. A second item replaces the first.
pub(crate) fn bring(
    m: &Meetings,
    member: u64,
    minutes: u16,
    label: Option<&str>,
    from: Option<Source>,
    now: DateTime<Utc>,
) -> Result<(Meetings, String), String> {
    let (plan, o) = open_meeting(m, now)?;
    if !ITEM_MINUTES.contains(&minutes) {
        return Err(format!(
            "An item can ask for {} to {} minutes.",
            ITEM_MINUTES.start(),
            ITEM_MINUTES.end()
        ));
    }
    let label = label.map(str::trim).filter(|l| !l.is_empty());
    if let Some(l) = label {
        if l.chars().count() > MAX_LABEL {
            return Err(format!(
                "What the agenda shows can be at most {MAX_LABEL} characters; yours is {}. You wrote: {l}",
                l.chars().count()
            ));
        }
        let found = nudge::concerns(l);
        if let Some(warning) = nudge::group_field_warning("what the agenda would show", &found) {
            return Err(format!(
                "{warning} So nothing was brought: write it without them, or leave it empty to show “an item from a member”. You wrote: {l}"
            ));
        }
    }
    let mut next = m.clone();
    let replaced = m
        .items
        .iter()
        .any(|i| i.member == member && i.slot == o.slot);
    next.items
        .retain(|i| !(i.member == member && i.slot == o.slot));
    next.items.push(Item {
        slot: o.slot,
        member,
        minutes,
        label: label.map(str::to_string),
        reflection: match from {
            Some(Source::Reflection(n)) => Some(n),
            _ => None,
        },
        presentation: match from {
            Some(Source::Presentation(n)) => Some(n),
            _ => None,
        },
    });
    let shown = label.map_or("an item from a member".to_string(), |l| format!("“{l}”"));
    let from = from.map_or(String::new(), |f| format!(" It comes from {}, which stays private: `/agenda share` previews it for the meeting's thread, and nothing is posted unless you confirm.", f.words()));
    Ok((
        next,
        format!(
            "{} the meeting on {}: the agenda shows {shown}, {minutes} minutes.{from}",
            if replaced {
                "Your item is now, for"
            } else {
                "Brought to"
            },
            series::occurrence_words(&plan.series, &o)
        ),
    ))
}

/// `member` takes their item off the next meeting's agenda.
pub(crate) fn withdraw_item(
    m: &Meetings,
    member: u64,
    now: DateTime<Utc>,
) -> (Meetings, String, bool) {
    let mut next = m.clone();
    let coming = m
        .plan
        .as_ref()
        .and_then(|p| series::next_occurrences(&p.series, now, 1).first().copied());
    next.items
        .retain(|i| !(i.member == member && Some(i.slot) == coming.map(|o| o.slot)));
    let changed = next != *m;
    let words = if changed {
        "Your item is off the agenda. Anything you shared into the meeting's thread stays until you withdraw it from where you read it (`/reflections view` or `/present view`)."
    } else {
        "You have no item on the next meeting's agenda."
    };
    (next, words.to_string(), changed)
}

/// The item `member` brings to the next meeting, with that meeting's
/// agenda thread, when the agenda is open and has one.
pub(crate) fn brought(
    m: &Meetings,
    member: u64,
    now: DateTime<Utc>,
) -> Option<(Item, Option<u64>, String)> {
    let (plan, o) = open_meeting(m, now).ok()?;
    let item = m
        .items
        .iter()
        .find(|i| i.member == member && i.slot == o.slot)?
        .clone();
    let thread = m
        .agendas
        .iter()
        .find(|a| a.slot == o.slot)
        .and_then(|a| a.thread);
    Some((
        item,
        thread,
        format!(
            "the thread of the meeting on {}",
            series::occurrence_words(&plan.series, &o)
        ),
    ))
}

/// The next meeting's agenda in words: each item as its member chose to
/// show it, with the time asked, and the time left.
pub(crate) fn agenda_view(m: &Meetings, now: DateTime<Utc>) -> String {
    let (plan, o) = match open_meeting(m, now) {
        Ok(open) => open,
        Err(words) => return words,
    };
    format!(
        "Agenda for the meeting on {}:{}",
        series::occurrence_words(&plan.series, &o),
        items_words(m, plan, &o)
    )
}

/// The items brought to `o`, each only as its member chose to show it, with
/// the time asked, and the time asked in all; to follow a colon.
fn items_words(m: &Meetings, plan: &Plan, o: &Occurrence) -> String {
    let items: Vec<&Item> = m.items.iter().filter(|i| i.slot == o.slot).collect();
    if items.is_empty() {
        return " nothing brought yet. `/agenda bring` brings an item.".into();
    }
    let mut out = String::new();
    for (n, i) in items.iter().enumerate() {
        let shown = i.label.as_deref().unwrap_or("an item from a member");
        out.push_str(&format!("\n{}. {shown} ({} minutes)", n + 1, i.minutes));
    }
    let asked: u32 = items.iter().map(|i| u32::from(i.minutes)).sum();
    out.push_str(&format!(
        "\n{asked} of the meeting's {} minutes asked for.",
        plan.minutes
    ));
    out
}

/// The words that open an agenda, posted in the group's channel: the
/// thread made from them is where the group talks about its members' work,
/// so they end with the reminder to leave out what could identify a client.
pub(crate) fn agenda_opening_words(m: &Meetings, o: &Occurrence) -> String {
    let when = when_words(m, o);
    format!(
        "The agenda for the meeting on {when} is open. `/agenda bring` brings an item (the agenda shows only what you choose, by default “an item from a member”); `/agenda show` lists what is on it. Anything shared into this thread is shared by its author, after a preview, and can be withdrawn. {}",
        crate::prompts::IDENTIFYING_DETAILS
    )
}

/// The record once a Discord event was made for `o`.
pub(crate) fn linked(m: &Meetings, o: &Occurrence, event: u64) -> Meetings {
    let mut next = m.clone();
    next.events.retain(|l| l.slot != o.slot);
    next.events.push(Linked {
        slot: o.slot,
        event,
        starts: o.starts,
    });
    next
}

/// The record once an event was removed (or found gone).
pub(crate) fn unlinked(m: &Meetings, event: u64) -> Meetings {
    let mut next = m.clone();
    next.events.retain(|l| l.event != event);
    next
}

/// The record once an event was given its meeting's new start.
pub(crate) fn retimed(m: &Meetings, event: u64, starts: DateTime<Utc>) -> Meetings {
    let mut next = m.clone();
    for l in next.events.iter_mut().filter(|l| l.event == event) {
        l.starts = starts;
    }
    next
}

/// Gives the roles of `o` to the members of the rota in `present` (those
/// Discord confirmed are in the server); the record and the words to post.
pub(crate) fn allocated(
    m: &Meetings,
    o: &Occurrence,
    present: &BTreeSet<u64>,
    names: &Names,
) -> (Meetings, String) {
    let presenters = m.plan.as_ref().map_or(1, |p| p.presenters);
    let outcome = rota::allocate(&m.rota, o.starts, presenters, present, names);
    let mut next = m.clone();
    if outcome.changed {
        next.rota = outcome.rota;
        next.roles_for = Some(o.slot);
        next.swap_offers.clear();
    }
    let when = when_words(m, o);
    (next, format!("The meeting on {when}. {}", outcome.words))
}

/// `from` offers to swap roles at the next meeting with `to`; the swap is
/// made when `to` offers it back, if the meeting has not begun by then. Returns the record, the words and
/// whether anything changed.
pub(crate) fn offer_swap(
    m: &Meetings,
    from: u64,
    to: u64,
    now: DateTime<Utc>,
    names: &Names,
) -> (Meetings, String, bool) {
    let who = |id: u64| {
        names
            .get(&id)
            .map_or("a member", String::as_str)
            .to_string()
    };
    if from == to {
        return (
            m.clone(),
            "A swap takes two members: name the member you would swap roles with.".into(),
            false,
        );
    }
    let swapped = rota::swap(&m.rota, from, to, now, names);
    if !swapped.changed {
        return (m.clone(), swapped.words, false);
    }
    let mut next = m.clone();
    if m.swap_offers.contains(&(to, from)) {
        next.rota = swapped.rota;
        next.swap_offers
            .retain(|o| *o != (to, from) && *o != (from, to));
        return (next, swapped.words, true);
    }
    if m.swap_offers.contains(&(from, to)) {
        return (
            m.clone(),
            format!(
                "{} has already offered to swap with {}; it happens when {} runs `/rota swap` naming {}.",
                who(from),
                who(to),
                who(to),
                who(from)
            ),
            false,
        );
    }
    next.swap_offers.push((from, to));
    (
        next,
        format!(
            "{} offers to swap roles at the next meeting with {}. The swap happens when {} runs `/rota swap` naming {}.",
            who(from),
            who(to),
            who(to),
            who(from)
        ),
        true,
    )
}

/// What a convenor gives to set the meetings, as typed.
#[derive(Debug, Clone)]
pub(crate) struct Setting<'a> {
    /// The first meeting's date, `YYYY-MM-DD`.
    pub(crate) date: &'a str,
    /// Its local time, `HH:MM`.
    pub(crate) time: &'a str,
    /// The IANA zone (default Europe/London).
    pub(crate) zone: Option<&'a str>,
    /// How it repeats.
    pub(crate) repeat: Repeat,
    /// A voice channel to meet in.
    pub(crate) voice: Option<u64>,
    /// Or a place, an address or a link.
    pub(crate) location: Option<&'a str>,
    /// Minutes each lasts.
    pub(crate) minutes: Option<u16>,
    /// Presenters at each.
    pub(crate) presenters: Option<u8>,
    /// Days before each its agenda opens.
    pub(crate) agenda_days: Option<u8>,
    /// Where notices go.
    pub(crate) channel: u64,
}

/// Reads a date written `YYYY-MM-DD`.
pub(crate) fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let t = text.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| {
        format!(
            "`{}` is not a date I can read: write it as YYYY-MM-DD, e.g. 2027-01-14.",
            crate::render::fit(t, 20)
        )
    })
}

/// Sets the group's meetings (replacing any set before, keeping the rota).
pub(crate) fn set(
    m: &Meetings,
    s: &Setting<'_>,
    now: DateTime<Utc>,
) -> Result<(Meetings, String), String> {
    let first = parse_date(s.date)?;
    let time: NaiveTime = parse_time(s.time).map_err(|e| e.to_string())?;
    let zone = match s.zone {
        Some(z) => parse_zone(z).map_err(|e| e.to_string())?,
        None => DEFAULT_TZ,
    };
    let place = match (s.voice, s.location.map(str::trim).filter(|l| !l.is_empty())) {
        (Some(_), Some(_)) => {
            return Err("Give a voice channel or a place, not both: the meeting's Discord event has one place.".into());
        }
        (Some(channel), None) => Place::Voice { channel },
        (None, Some(l)) if l.chars().count() > MAX_LOCATION => {
            return Err(format!(
                "The place is {} characters; Discord keeps at most {MAX_LOCATION}. A shorter link or address will do.",
                l.chars().count()
            ));
        }
        (None, Some(l)) => Place::Elsewhere {
            location: l.to_string(),
        },
        (None, None) => {
            return Err("Say where the group meets: a voice channel, or a place (a room, an address or a video link).".into());
        }
    };
    let minutes = s.minutes.unwrap_or(DEFAULT_MINUTES);
    if !MINUTES.contains(&minutes) {
        return Err(format!(
            "A meeting can last {} to {} minutes.",
            MINUTES.start(),
            MINUTES.end()
        ));
    }
    let presenters = s.presenters.unwrap_or(1);
    if presenters > MAX_PRESENTERS {
        return Err(format!(
            "A meeting can take at most {MAX_PRESENTERS} presenters."
        ));
    }
    let series = Series::new(
        first,
        time,
        zone,
        s.repeat,
        s.agenda_days.unwrap_or(DEFAULT_AGENDA_DAYS),
        now,
    )
    .map_err(|e| e.to_string())?;
    let words = format!(
        "Meetings set. {} Each lasts {minutes} minutes, with {presenters} presenter{}. Each meeting is made a Discord event, and its roles are given from the rota once the meeting before has begun.",
        series::describe(&series, now),
        if presenters == 1 { "" } else { "s" }
    );
    let mut next = m.clone();
    next.plan = Some(Plan {
        series,
        place,
        minutes,
        presenters,
        channel: s.channel,
    });
    let next = tidy(&next, now).unwrap_or(next);
    Ok((next, words))
}

fn plan_of(m: &Meetings) -> Result<&Plan, String> {
    m.plan.as_ref().ok_or_else(|| {
        "This server has no meetings set: a convenor sets them with `/convene set`.".to_string()
    })
}

/// Cancels the meeting of `date` (its slot's date).
pub(crate) fn cancel(
    m: &Meetings,
    date: &str,
    now: DateTime<Utc>,
) -> Result<(Meetings, String), String> {
    let slot = parse_date(date)?;
    cancel_slot(m, slot, now)
}

/// What is said of roles let go with a meeting not held (`which`: "it",
/// "the next meeting").
fn roles_let_go(which: &str) -> String {
    format!(
        " The roles given for {which} are let go: as it is not held, no one is counted as having served them, and whoever held one stays first in line for it."
    )
}

/// Cancels the meeting of `slot`: its roles carry over to the next meeting,
/// or, with none to come, are let go unserved.
fn cancel_slot(
    m: &Meetings,
    slot: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(Meetings, String), String> {
    let plan = plan_of(m)?;
    let changed = series::cancel(&plan.series, slot, now)?;
    let mut next = m.clone();
    let had_roles = m.roles_for == Some(slot) && m.rota.open_starts().is_some_and(|s| s > now);
    if let Some(p) = next.plan.as_mut() {
        p.series = changed.series;
    }
    let next = tidy(&next, now).unwrap_or(next);
    let mut words = changed.words;
    if had_roles {
        if next.roles_for.is_some() {
            words.push_str(" The roles given for it carry over to the next meeting.");
        } else {
            words.push_str(&roles_let_go("it"));
        }
    }
    Ok((next, words))
}

/// Moves the meeting of `date` to `to_date` at `to_time` (local).
pub(crate) fn move_meeting(
    m: &Meetings,
    date: &str,
    to_date: &str,
    to_time: &str,
    now: DateTime<Utc>,
) -> Result<(Meetings, String), String> {
    let plan = plan_of(m)?;
    let slot = parse_date(date)?;
    let day = parse_date(to_date)?;
    let time = parse_time(to_time).map_err(|e| e.to_string())?;
    let changed = series::move_occurrence(&plan.series, slot, NaiveDateTime::new(day, time), now)?;
    let mut next = m.clone();
    if let Some(p) = next.plan.as_mut() {
        p.series = changed.series;
    }
    let next = tidy(&next, now).unwrap_or(next);
    Ok((next, changed.words))
}

/// Stops the group's meetings: the events to come are removed; the rota
/// and its history stay. Roles given for a meeting that has not begun by
/// `now` are let go unserved.
pub(crate) fn stop(m: &Meetings, now: DateTime<Utc>) -> Result<(Meetings, String), String> {
    plan_of(m)?;
    let mut next = m.clone();
    next.plan = None;
    let mut words = "The meetings are stopped and their Discord events to come are removed. The rota and who served when are kept for when meetings are set again.".to_string();
    if m.rota.open_starts().is_some_and(|s| s > now) {
        next.rota = rota::close(&m.rota, false);
        next.roles_for = None;
        next.swap_offers.clear();
        words.push_str(&roles_let_go("the next meeting"));
    }
    Ok((next, words))
}

/// A Discord event deleted by someone in Discord: its meeting is cancelled
/// here too, if it was still to come. `None` when the event was not one of
/// this group's meetings to come (or its meeting was already cancelled).
pub(crate) fn event_deleted(
    m: &Meetings,
    event: u64,
    now: DateTime<Utc>,
) -> Option<(Meetings, String)> {
    let linked = m.events.iter().find(|l| l.event == event)?;
    let (next, words) = cancel_slot(&unlinked(m, event), linked.slot, now).ok()?;
    Some((
        next,
        format!(
            "The Discord event for a meeting was deleted in Discord, so the meeting is cancelled here too. {words} A convenor can move another meeting to its time with `/convene move`, or set the meetings again with `/convene set`."
        ),
    ))
}

/// The next meeting in words for anyone: the meetings cancelled before it,
/// when, where, its agenda (when it opens, or its items as their members
/// chose to show them) and its roles (`place` in the front-end's words).
pub(crate) fn view(m: &Meetings, names: &Names, place: &str, now: DateTime<Utc>) -> String {
    let Some(plan) = &m.plan else {
        return format!(
            "No meetings are set for this server. A convenor sets them with `/convene set`.\n{}",
            rota::on_rota_words(&m.rota, names)
        );
    };
    let Some(o) = series::next_occurrences(&plan.series, now, 1)
        .first()
        .copied()
    else {
        return "There are no meetings to come in this server's series.".into();
    };
    let roles = if m.roles_for == Some(o.slot) {
        rota::describe(&m.rota, names)
    } else {
        "Roles for it are given from the rota once the meeting before has begun.".to_string()
    };
    // Meetings cancelled before it are said, so no one comes to one.
    let today = now.with_timezone(&plan.series.zone()).date_naive();
    let mut cancelled: Vec<NaiveDate> = plan
        .series
        .cancelled()
        .iter()
        .copied()
        .filter(|s| *s >= today && *s < o.slot)
        .collect();
    cancelled.sort_unstable();
    let cancelled: String = cancelled
        .iter()
        .map(|s| format!("The meeting of {} is cancelled.\n", s.format("%-d %B %Y")))
        .collect();
    let agenda = if series::agenda_opens(&plan.series, &o) <= now {
        let opening = m
            .agendas
            .iter()
            .any(|a| a.slot == o.slot && a.thread.is_none() && a.retry.is_some());
        let thread = if opening {
            " (its thread is still being opened)"
        } else {
            ""
        };
        format!("Its agenda is open{thread}:{}", items_words(m, plan, &o))
    } else {
        series::agenda_words(&plan.series, &o)
    };
    format!(
        "{cancelled}Next meeting: {}, {place}, for {} minutes.\n{agenda}\n{roles}",
        series::occurrence_words(&plan.series, &o),
        plan.minutes
    )
}

/// The choices a convenor has for repeating, as Discord's option gives them.
pub(crate) fn repeat_of(every_weeks: Option<u8>, monthly: Option<Nth>) -> Result<Repeat, String> {
    match (every_weeks, monthly) {
        (Some(_), Some(_)) => {
            Err("Choose weeks between meetings or a monthly day, not both.".into())
        }
        (Some(0), None) => Ok(Repeat::Once),
        (Some(every), None) => Ok(Repeat::Weekly { every }),
        (None, Some(nth)) => Ok(Repeat::Monthly { nth }),
        (None, None) => Ok(Repeat::Weekly { every: 4 }),
    }
}

#[cfg(test)]
mod tests;
