//! Schedule and reminder rules every front-end shares: setting a schedule,
//! describing it, pausing, resuming and skipping, the reminders' quiet
//! hours, and a personal rotation for a member practising alone (the
//! console). Each returns the record to keep and the words to say; a
//! front-end only translates its options in and shows the words.

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Timelike, Utc, Weekday};
use serde::{Deserialize, Serialize};

use super::{
    DEFAULT_GRACE_HOURS, DEFAULT_TZ, Order, Rotation, Rule, RuleError, Scope, next_competence,
    parse_time, parse_zone,
};
use crate::framework::{CompetenceId, Framework};

/// One server's schedule and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleRecord {
    /// The channel the weekly post goes to.
    pub channel: u64,
    /// When.
    pub rule: Rule,
    /// From which domains.
    pub scope: Scope,
    /// In what order.
    pub order: Order,
    /// Which competences this cycle has used.
    pub rotation: Rotation,
    /// The last slot dealt with (posted or skipped); the creation time at first.
    pub last_slot: DateTime<Utc>,
    /// Why the schedule is paused, when it is.
    pub paused: Option<String>,
    /// A slot the group asked to skip.
    pub skip: Option<DateTime<Utc>>,
    /// This week's competence and its post.
    pub current: Option<Week>,
}

/// A posted week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Week {
    /// The competence.
    pub competence: CompetenceId,
    /// The slot it was posted for.
    pub slot: DateTime<Utc>,
    /// The message.
    pub message: u64,
    /// The discussion thread, if one could be opened.
    pub thread: Option<u64>,
}

/// Quiet hours, local time: no reminder is sent from 21:00 to 07:00.
pub const QUIET_FROM: u32 = 21;
/// End of quiet hours.
pub const QUIET_UNTIL: u32 = 7;

/// Whether `now` falls in the quiet hours of the rule's time zone.
pub fn in_quiet_hours(rule: &Rule, now: DateTime<Utc>) -> bool {
    let hour = now.with_timezone(&rule.zone()).hour();
    !(QUIET_UNTIL..QUIET_FROM).contains(&hour)
}

/// The words of a member's weekly reminder: this week's competence in
/// their server (or the map, when none is posted) and, when they marked
/// development priorities, one of them, in turn week by week from `slot`.
pub fn reminder_words(
    framework: &Framework,
    current: Option<CompetenceId>,
    priorities: &[CompetenceId],
    slot: DateTime<Utc>,
) -> String {
    let mut out = match current.and_then(|id| framework.competence(id)) {
        Some(c) => format!(
            "A gentle nudge: this week's competence is **{}**, {}\nIf you have ten minutes, `/reflect competence:{}` is there for you. If not, that is fine too.",
            c.id.short(),
            crate::render::fit(&c.statement, 200),
            c.id.short(),
        ),
        None => "A gentle nudge: if you have ten minutes this week, `/map` suggests a competence you have not reflected on yet. If not, that is fine too.".to_string(),
    };
    let weeks = slot.timestamp().div_euclid(7 * 86_400);
    let turn = usize::try_from(weeks.rem_euclid(priorities.len().max(1) as i64)).unwrap_or(0);
    if let Some(c) = priorities
        .get(turn)
        .and_then(|id| framework.competence(*id))
        .filter(|c| Some(c.id) != current)
    {
        out.push_str(&format!(
            "\nOne of the priorities you agreed with your supervisor: **{}**, {}",
            c.id.short(),
            crate::render::fit(&c.statement, 200),
        ));
    }
    out.push_str("\n-# `/remind skip` skips next week · `/remind off` stops these.");
    out
}

/// A reminder's time of day, refused in words if it falls in quiet hours.
pub fn reminder_time(time: NaiveTime) -> Result<NaiveTime, String> {
    if (QUIET_UNTIL..QUIET_FROM).contains(&time.hour()) {
        Ok(time)
    } else {
        Err(format!(
            "Reminders keep quiet from {QUIET_FROM:02}:00 to {QUIET_UNTIL:02}:00; choose a time between {QUIET_UNTIL:02}:00 and {QUIET_FROM:02}:00."
        ))
    }
}

/// What someone asked a schedule to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<'a> {
    /// Where the posts go (a channel id; 0 for the console).
    pub channel: u64,
    /// Day of the week.
    pub weekday: Weekday,
    /// Time of day, as typed.
    pub time: &'a str,
    /// Time zone, as typed; the default when none.
    pub zone: Option<&'a str>,
    /// From which domains.
    pub scope: Scope,
    /// In what order.
    pub order: Order,
    /// How many hours late a missed post may go out.
    pub grace_hours: Option<u32>,
}

/// A new or changed schedule: the rotation and this week's post survive a
/// change of settings; a pause or a skip does not.
pub fn set(
    existing: Option<&ScheduleRecord>,
    setting: &Setting<'_>,
    now: DateTime<Utc>,
) -> Result<ScheduleRecord, RuleError> {
    let time = parse_time(setting.time)?;
    let zone = match setting.zone {
        Some(z) => parse_zone(z)?,
        None => DEFAULT_TZ,
    };
    Ok(ScheduleRecord {
        channel: setting.channel,
        rule: Rule {
            weekday: setting.weekday,
            time,
            tz: zone.name().to_string(),
            grace_hours: setting.grace_hours.unwrap_or(DEFAULT_GRACE_HOURS),
        },
        scope: setting.scope,
        order: setting.order,
        rotation: existing.map(|r| r.rotation.clone()).unwrap_or_default(),
        current: existing.and_then(|r| r.current.clone()),
        last_slot: now,
        paused: None,
        skip: None,
    })
}

/// A scope in words, counted from the loaded framework: "core (37
/// competences)", "both domains (60 competences)".
pub fn scope_name(framework: &Framework, scope: Scope) -> String {
    let n = framework
        .competences()
        .iter()
        .filter(|c| scope.includes(c.id))
        .count();
    let name = match scope {
        Scope::Core => "core",
        Scope::Integration => "integration",
        Scope::Both => "both domains",
    };
    format!("{name} ({n} competence{})", if n == 1 { "" } else { "s" })
}

/// An order in words.
pub fn order_name(order: Order) -> &'static str {
    match order {
        Order::Sequential => "framework order",
        Order::Shuffled => "shuffled order",
        Order::Gaps => "least-reflected-first order",
        Order::Alternating => "framework order, alternating between the domains",
    }
}

/// A weekday's name.
pub fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// A schedule in words: when, where (`place`, e.g. "in <#123>"), from what,
/// in what order, the next post, and whether it is paused or skipping.
pub fn describe(
    framework: &Framework,
    record: &ScheduleRecord,
    place: &str,
    now: DateTime<Utc>,
) -> String {
    let zone = record.rule.zone();
    let next = record.rule.next_slot(record.last_slot.max(now));
    let mut text = format!(
        "Every {} at {} ({}) {place}, from {}, {}. Next post: {}.",
        weekday_name(record.rule.weekday),
        record.rule.time.format("%H:%M"),
        zone.name(),
        scope_name(framework, record.scope),
        order_name(record.order),
        next.with_timezone(&zone).format("%A %-d %B, %H:%M %Z"),
    );
    if let Some(reason) = &record.paused {
        text.push_str(&format!("\n**Paused:** {reason}"));
    }
    if record.skip.is_some() {
        text.push_str("\nThe next post will be skipped.");
    }
    if let Some(week) = &record.current {
        text.push_str(&format!("\nThis week: {}.", week.competence.short()));
    }
    text
}

/// Pauses a schedule; the words to say.
pub fn pause(record: &mut ScheduleRecord) -> String {
    record.paused =
        Some("paused by someone with Manage Server; `/schedule resume` starts it again.".into());
    "Weekly posts are paused.".into()
}

/// Resumes a schedule: the weeks missed while paused are not posted.
pub fn resume(record: &mut ScheduleRecord, now: DateTime<Utc>) {
    record.paused = None;
    record.last_slot = record.last_slot.max(now);
}

/// Skips the next post; the words to say.
pub fn skip(record: &mut ScheduleRecord, now: DateTime<Utc>) -> String {
    record.skip = Some(record.rule.next_slot(record.last_slot.max(now)));
    "The next weekly post will be skipped; the one after goes out as usual.".into()
}

/// Chooses the group's next competence, whatever the order: it is counted as
/// used, so it does not come again before every competence in scope has had
/// its week. The words to say, or why it cannot be chosen.
pub fn choose_next(
    framework: &Framework,
    record: &mut ScheduleRecord,
    id: CompetenceId,
) -> Result<String, String> {
    if framework.competence(id).is_none() {
        return Err(format!(
            "{} is not in this framework. `/framework` shows the codes there are.",
            id.short()
        ));
    }
    if !record.scope.includes(id) {
        return Err(format!(
            "{} is not in this schedule's domains ({}). `/schedule set` with another `domain` changes them.",
            id.short(),
            scope_name(framework, record.scope)
        ));
    }
    let in_scope = framework
        .competences()
        .iter()
        .filter(|c| record.scope.includes(c.id))
        .count();
    let cycle_ends = record.rotation.used.len() >= in_scope;
    if record.rotation.used.contains(&id) && !cycle_ends {
        return Err(format!(
            "{} has had its week in this cycle; it comes again once every competence in {} has. Choose another, or `/schedule preview` to see what comes next.",
            id.short(),
            scope_name(framework, record.scope)
        ));
    }
    record.rotation.chosen = Some(id);
    Ok(format!(
        "The next weekly post will carry {}, chosen by the group; the order carries on after it, and {} will not come again before every competence in {} has had its week.",
        id.short(),
        id.short(),
        scope_name(framework, record.scope)
    ))
}

/// The Monday 00:00 that starts the week holding `now`, in `zone`.
fn week_start(now: DateTime<Utc>, zone: chrono_tz::Tz) -> DateTime<Utc> {
    let local = now.with_timezone(&zone).date_naive();
    let monday = local - Duration::days(i64::from(local.weekday().num_days_from_monday()));
    zone.from_local_datetime(&monday.and_time(NaiveTime::MIN))
        .earliest()
        .map_or(now, |t| t.with_timezone(&Utc))
}

/// A member practising alone: a personal rotation, one competence a week
/// from Monday in `zone`, the member's `priorities` first (each once a
/// cycle), then in framework order alternating between the domains (so the
/// 23 integration competences do not wait behind all 37 core ones). Returns
/// this week's competence and whether the record changed (a new week began).
pub fn personal_week(
    framework: &Framework,
    record: &mut Option<ScheduleRecord>,
    priorities: &[CompetenceId],
    zone: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Option<(CompetenceId, bool)> {
    let start = week_start(now, zone);
    let r = record.get_or_insert_with(|| ScheduleRecord {
        channel: 0,
        rule: Rule {
            weekday: Weekday::Mon,
            time: NaiveTime::MIN,
            tz: zone.name().to_string(),
            grace_hours: 0,
        },
        scope: Scope::Both,
        order: Order::Alternating,
        rotation: Rotation::default(),
        last_slot: start,
        paused: None,
        skip: None,
        current: None,
    });
    if let Some(week) = &r.current
        && week.slot >= start
    {
        return Some((week.competence, false));
    }
    // A rotation begun before the domains alternated carries on alternating;
    // what it has used stays used.
    r.order = Order::Alternating;
    put_priority_first(framework, &mut r.rotation, priorities);
    let (id, rotation) = next_competence(
        framework,
        r.scope,
        r.order,
        &r.rotation,
        &Default::default(),
        0,
    )?;
    r.rotation = rotation;
    r.last_slot = start;
    r.current = Some(Week {
        competence: id,
        slot: start,
        message: 0,
        thread: None,
    });
    Some((id, true))
}

/// The member's priorities come first in each cycle, in their order: the
/// first not yet used is the one chosen next.
fn put_priority_first(framework: &Framework, rotation: &mut Rotation, priorities: &[CompetenceId]) {
    if rotation.chosen.is_none() {
        rotation.chosen = priorities
            .iter()
            .copied()
            .find(|id| framework.competence(*id).is_some() && !rotation.used.contains(id));
    }
}

/// The competence a personal rotation gives next week, without using it up.
pub fn personal_next(
    framework: &Framework,
    record: &ScheduleRecord,
    priorities: &[CompetenceId],
) -> Option<CompetenceId> {
    let mut rotation = record.rotation.clone();
    put_priority_first(framework, &mut rotation, priorities);
    next_competence(
        framework,
        record.scope,
        // As `personal_week` will: a rotation from before alternates too.
        Order::Alternating,
        &rotation,
        &Default::default(),
        0,
    )
    .map(|(id, _)| id)
}
