//! Unit and property tests of meeting series, compiled only with
//! #[cfg(test)] (see `series.rs`). Dates are around the UK's clock changes
//! of 2027: forward on Sunday 28 March, back on Sunday 31 October.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Europe::London;
use proptest::prelude::*;

use super::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn time(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// Today, as the tests see it.
fn now() -> DateTime<Utc> {
    utc(2026, 12, 5, 12, 0)
}

fn weekly(first: NaiveDate, t: NaiveTime, every: u8) -> Series {
    Series::new(first, t, London, Repeat::Weekly { every }, 3, now()).unwrap()
}

#[test]
fn a_weekly_meeting_keeps_its_local_time_across_both_clock_changes() {
    let s = weekly(date(2026, 12, 17), time(18, 0), 1);
    let all = next_occurrences(&s, now(), 60);
    assert_eq!(all.len(), 60);
    for (a, b) in all.iter().zip(all.iter().skip(1)) {
        assert_eq!(b.slot - a.slot, chrono::Duration::weeks(1));
    }
    for o in &all {
        let local = o.starts.with_timezone(&London);
        assert_eq!(
            (local.weekday(), local.hour(), local.minute()),
            (Weekday::Thu, 18, 0)
        );
        assert_eq!(o.placed, Placed::AsSet);
    }
    let at = |d: NaiveDate| all.iter().find(|o| o.slot == d).unwrap().starts;
    assert_eq!(at(date(2027, 3, 25)), utc(2027, 3, 25, 18, 0));
    assert_eq!(at(date(2027, 4, 1)), utc(2027, 4, 1, 17, 0));
    assert_eq!(at(date(2027, 10, 28)), utc(2027, 10, 28, 17, 0));
    assert_eq!(at(date(2027, 11, 4)), utc(2027, 11, 4, 18, 0));
    assert_eq!(
        occurrence_words(&s, &all[0]),
        "Thursday 17 December 2026, 18:00 GMT"
    );
}

#[test]
fn a_time_the_clocks_skip_moves_forward_and_is_said() {
    let s = weekly(date(2027, 3, 21), time(1, 30), 1);
    let next = next_occurrences(&s, utc(2027, 3, 22, 0, 0), 2);
    assert_eq!(next[0].slot, date(2027, 3, 28));
    // 01:30 does not exist on 28 March 2027; 02:00 BST is 01:00 UTC.
    assert_eq!(next[0].starts, utc(2027, 3, 28, 1, 0));
    assert_eq!(next[0].placed, Placed::Forward { asked: time(1, 30) });
    assert_eq!(
        occurrence_words(&s, &next[0]),
        "Sunday 28 March 2027, 02:00 BST (01:30 does not exist that day in Europe/London: the clocks go forward, so the meeting starts just after the change)"
    );
    // The week after, 01:30 BST again.
    assert_eq!(next[1].starts, utc(2027, 4, 4, 0, 30));
    assert_eq!(next[1].placed, Placed::AsSet);
}

#[test]
fn a_time_that_happens_twice_takes_the_first_and_is_said() {
    let s = weekly(date(2027, 10, 24), time(1, 30), 1);
    let next = next_occurrences(&s, utc(2027, 10, 25, 0, 0), 2);
    // 01:30 happens twice on 31 October 2027; the first is 00:30 UTC.
    assert_eq!(next[0].starts, utc(2027, 10, 31, 0, 30));
    assert_eq!(next[0].placed, Placed::FirstOfTwo);
    assert_eq!(
        occurrence_words(&s, &next[0]),
        "Sunday 31 October 2027, 01:30 BST (01:30 happens twice that day in Europe/London, when the clocks go back; the meeting is at the first)"
    );
    assert_eq!(next[1].starts, utc(2027, 11, 7, 1, 30));
}

#[test]
fn monthly_on_the_last_sunday_meets_both_clock_changes() {
    let s = Series::new(
        date(2027, 1, 31),
        time(1, 30),
        London,
        Repeat::Monthly { nth: Nth::Last },
        7,
        now(),
    )
    .unwrap();
    let year = next_occurrences(&s, now(), 12);
    let slots: Vec<NaiveDate> = year.iter().map(|o| o.slot).collect();
    assert_eq!(
        slots[..3],
        [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 28)]
    );
    assert_eq!(year[2].starts, utc(2027, 3, 28, 1, 0));
    assert!(matches!(year[2].placed, Placed::Forward { .. }));
    assert_eq!(year[9].slot, date(2027, 10, 31));
    assert_eq!(year[9].placed, Placed::FirstOfTwo);
    assert!(year.iter().all(|o| o.slot.weekday() == Weekday::Sun));
}

#[test]
fn monthly_on_the_third_thursday_and_a_first_date_that_is_not_one() {
    let s = Series::new(
        date(2026, 12, 17),
        time(18, 0),
        London,
        Repeat::Monthly { nth: Nth::Third },
        3,
        now(),
    )
    .unwrap();
    let slots: Vec<NaiveDate> = next_occurrences(&s, now(), 3)
        .iter()
        .map(|o| o.slot)
        .collect();
    assert_eq!(
        slots,
        [date(2026, 12, 17), date(2027, 1, 21), date(2027, 2, 18)]
    );
    assert_eq!(
        describe(&s, now()),
        "On the third Thursday of every month at 18:00 (Europe/London), from 17 December 2026. The agenda opens 3 days before each meeting. Next: Thursday 17 December 2026, 18:00 GMT."
    );
    let wrong = Series::new(
        date(2026, 12, 17),
        time(18, 0),
        London,
        Repeat::Monthly { nth: Nth::First },
        3,
        now(),
    );
    assert_eq!(
        wrong.unwrap_err().to_string(),
        "17 December 2026 is not the first Thursday of its month; choose that date, or another day of the month."
    );
}

#[test]
fn every_two_weeks_and_a_one_off() {
    let s = weekly(date(2026, 12, 10), time(18, 0), 2);
    let slots: Vec<NaiveDate> = next_occurrences(&s, utc(2026, 12, 11, 0, 0), 3)
        .iter()
        .map(|o| o.slot)
        .collect();
    assert_eq!(
        slots,
        [date(2026, 12, 24), date(2027, 1, 7), date(2027, 1, 21)]
    );
    assert!(
        describe(&s, now()).starts_with(
            "Every 2 weeks on Thursday at 18:00 (Europe/London), from 10 December 2026."
        )
    );
    let once = Series::new(
        date(2027, 1, 9),
        time(10, 0),
        London,
        Repeat::Once,
        2,
        now(),
    )
    .unwrap();
    assert_eq!(next_occurrences(&once, now(), 5).len(), 1);
    assert!(next_occurrences(&once, utc(2027, 1, 9, 10, 0), 5).is_empty());
    assert_eq!(
        describe(&once, utc(2027, 2, 1, 0, 0)),
        "One meeting, on Saturday 9 January 2027 at 10:00 (Europe/London). The agenda opens 2 days before each meeting. No meetings to come."
    );
}

#[test]
fn a_series_out_of_bounds_or_begun_is_refused_in_words() {
    let new = |repeat, days, first| Series::new(first, time(18, 0), London, repeat, days, now());
    let every = new(Repeat::Weekly { every: 0 }, 3, date(2027, 1, 7)).unwrap_err();
    assert_eq!(
        every.to_string(),
        "Meetings can repeat every 1 to 12 weeks."
    );
    assert_eq!(
        new(Repeat::Weekly { every: 13 }, 3, date(2027, 1, 7)).unwrap_err(),
        every
    );
    let days = new(Repeat::Once, 0, date(2027, 1, 7)).unwrap_err();
    assert_eq!(
        days.to_string(),
        "The agenda can open 1 to 28 days before a meeting."
    );
    assert_eq!(new(Repeat::Once, 29, date(2027, 1, 7)).unwrap_err(), days);
    assert_eq!(
        new(Repeat::Once, 3, date(2026, 12, 4))
            .unwrap_err()
            .to_string(),
        "The first meeting would already have begun; choose a date and time to come."
    );
}

#[test]
fn cancelling_one_meeting_says_which_and_what_comes_next() {
    let s = weekly(date(2026, 12, 17), time(18, 0), 1);
    let done = cancel(&s, date(2026, 12, 24), now()).unwrap();
    assert_eq!(
        done.words,
        "The meeting on Thursday 24 December 2026, 18:00 GMT is cancelled. The next meeting is Thursday 17 December 2026, 18:00 GMT."
    );
    let slots: Vec<NaiveDate> = next_occurrences(&done.series, now(), 2)
        .iter()
        .map(|o| o.slot)
        .collect();
    assert_eq!(slots, [date(2026, 12, 17), date(2026, 12, 31)]);
    assert_eq!(
        cancel(&done.series, date(2026, 12, 24), now()).unwrap_err(),
        "The meeting of 24 December 2026 is already cancelled."
    );
    assert_eq!(
        cancel(&s, date(2026, 12, 23), now()).unwrap_err(),
        "There is no meeting of this series on 23 December 2026."
    );
    assert_eq!(
        cancel(&s, date(2026, 12, 17), utc(2026, 12, 17, 18, 0)).unwrap_err(),
        "That meeting has already begun; it stays on the record as it was."
    );
    let once = Series::new(
        date(2027, 1, 9),
        time(10, 0),
        London,
        Repeat::Once,
        2,
        now(),
    )
    .unwrap();
    assert_eq!(
        cancel(&once, date(2027, 1, 9), now()).unwrap().words,
        "The meeting on Saturday 9 January 2027, 10:00 GMT is cancelled. There are no more meetings in this series."
    );
}

#[test]
fn moving_one_meeting_keeps_its_name_and_its_place_in_order() {
    let s = weekly(date(2026, 12, 17), time(18, 0), 1);
    let done = move_occurrence(
        &s,
        date(2026, 12, 17),
        date(2027, 1, 2).and_time(time(10, 0)),
        now(),
    )
    .unwrap();
    assert_eq!(
        done.words,
        "The meeting on Thursday 17 December 2026, 18:00 GMT moves to Saturday 2 January 2027, 10:00 GMT."
    );
    let next = next_occurrences(&done.series, now(), 4);
    let order: Vec<(NaiveDate, bool)> = next.iter().map(|o| (o.slot, o.moved)).collect();
    assert_eq!(
        order,
        [
            (date(2026, 12, 24), false),
            (date(2026, 12, 31), false),
            (date(2026, 12, 17), true),
            (date(2027, 1, 7), false)
        ]
    );
    assert_eq!(
        done.series.occurrence(date(2026, 12, 17)).map(|o| o.starts),
        Some(utc(2027, 1, 2, 10, 0))
    );
    assert_eq!(
        move_occurrence(
            &s,
            date(2026, 12, 24),
            date(2026, 12, 1).and_time(time(10, 0)),
            now()
        )
        .unwrap_err(),
        "That time has passed; choose a time to come."
    );
    let gap = move_occurrence(
        &s,
        date(2027, 3, 25),
        date(2027, 3, 28).and_time(time(1, 30)),
        now(),
    )
    .unwrap();
    assert_eq!(
        gap.words,
        "The meeting on Thursday 25 March 2027, 18:00 GMT moves to Sunday 28 March 2027, 02:00 BST (01:30 does not exist that day in Europe/London: the clocks go forward, so the meeting starts just after the change)."
    );
    let cancelled = cancel(&s, date(2026, 12, 24), now()).unwrap().series;
    assert!(
        move_occurrence(
            &cancelled,
            date(2026, 12, 24),
            date(2027, 1, 2).and_time(time(10, 0)),
            now()
        )
        .is_err()
    );
}

#[test]
fn the_agenda_opens_days_before_at_the_meetings_local_time_across_a_clock_change() {
    let s = Series::new(
        date(2027, 4, 1),
        time(18, 0),
        London,
        Repeat::Once,
        7,
        now(),
    )
    .unwrap();
    let o = s.occurrence(date(2027, 4, 1)).unwrap();
    assert_eq!(o.starts, utc(2027, 4, 1, 17, 0));
    assert_eq!(agenda_opens(&s, &o), utc(2027, 3, 25, 18, 0));
    assert_eq!(
        agenda_words(&s, &o),
        "The agenda for the meeting on Thursday 1 April 2027, 18:00 BST opens Thursday 25 March 2027, 18:00 GMT, 7 days before."
    );
    // An agenda that would open in the gap opens just after it.
    let early = Series::new(
        date(2027, 3, 29),
        time(1, 30),
        London,
        Repeat::Once,
        1,
        now(),
    )
    .unwrap();
    let o = early.occurrence(date(2027, 3, 29)).unwrap();
    assert_eq!(agenda_opens(&early, &o), utc(2027, 3, 28, 1, 0));
}

#[test]
fn a_series_round_trips_as_data() {
    let s = weekly(date(2026, 12, 17), time(18, 0), 1);
    let s = cancel(&s, date(2026, 12, 24), now()).unwrap().series;
    let s = move_occurrence(
        &s,
        date(2026, 12, 31),
        date(2026, 12, 30).and_time(time(18, 0)),
        now(),
    )
    .unwrap()
    .series;
    let back: Series = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(back, s);
}

#[test]
fn the_ends_of_time_give_no_meetings_and_no_panic() {
    let s = weekly(date(2026, 12, 17), time(18, 0), 1);
    assert!(next_occurrences(&s, DateTime::<Utc>::MAX_UTC, 3).is_empty());
    let first = next_occurrences(&s, DateTime::<Utc>::MIN_UTC, 1);
    assert_eq!(first[0].slot, date(2026, 12, 17));
    let late = move_occurrence(&s, date(2026, 12, 24), NaiveDateTime::MAX, now());
    if let Ok(late) = late {
        let o = late.series.occurrence(date(2026, 12, 24)).unwrap();
        assert!(agenda_opens(&late.series, &o) <= o.starts);
    }
    let early = move_occurrence(&s, date(2026, 12, 24), NaiveDateTime::MIN, now());
    assert_eq!(
        early.unwrap_err(),
        "That time has passed; choose a time to come."
    );
}

proptest! {
    /// Whatever the moment asked from, a series repeating every few weeks
    /// in London gives meetings after it, in order, on its weekday, its
    /// slots the right number of weeks apart, each at its local time (or
    /// just after a gap the clocks skip), and each agenda opening before
    /// its meeting.
    #[test]
    fn occurrences_follow_the_series_from_any_moment(
        every in 1u8..=4,
        hour in 0u32..24,
        minute in 0u32..60,
        offset_hours in 0i64..(5 * 365 * 24),
    ) {
        let s = weekly(date(2026, 12, 17), time(hour, minute), every);
        let after = now() + chrono::Duration::hours(offset_hours);
        let next = next_occurrences(&s, after, 8);
        prop_assert_eq!(next.len(), 8);
        for (a, b) in next.iter().zip(next.iter().skip(1)) {
            prop_assert!(a.starts < b.starts);
            prop_assert_eq!((b.slot - a.slot).num_days(), 7 * i64::from(every));
        }
        for o in &next {
            prop_assert!(o.starts > after);
            prop_assert_eq!(o.slot.weekday(), Weekday::Thu);
            prop_assert!(agenda_opens(&s, o) < o.starts);
            let local = o.starts.with_timezone(&London).naive_local();
            match o.placed {
                Placed::Forward { asked } => prop_assert!(local > o.slot.and_time(asked)),
                _ => prop_assert_eq!(local, o.slot.and_time(time(hour, minute))),
            }
        }
    }
}

fn any_date() -> impl Strategy<Value = NaiveDate> {
    let (lo, hi) = (
        NaiveDate::MIN.num_days_from_ce(),
        NaiveDate::MAX.num_days_from_ce(),
    );
    (lo..=hi).prop_map(|d| NaiveDate::from_num_days_from_ce_opt(d).unwrap_or(NaiveDate::MIN))
}

fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
    let (lo, hi) = (
        DateTime::<Utc>::MIN_UTC.timestamp(),
        DateTime::<Utc>::MAX_UTC.timestamp(),
    );
    (lo..=hi).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap_or(DateTime::<Utc>::MIN_UTC))
}

fn any_repeat() -> impl Strategy<Value = Repeat> {
    let nth = prop_oneof![
        Just(Nth::First),
        Just(Nth::Second),
        Just(Nth::Third),
        Just(Nth::Fourth),
        Just(Nth::Last)
    ];
    prop_oneof![
        Just(Repeat::Once),
        (0u8..=13).prop_map(|every| Repeat::Weekly { every }),
        nth.prop_map(|nth| Repeat::Monthly { nth }),
    ]
}

proptest! {
    /// No date, time, zone, repetition or moment panics a series, even at
    /// the ends of the calendar.
    #[test]
    fn no_input_panics_a_series(
        first in any_date(),
        h in 0u32..24,
        m in 0u32..60,
        zone in 0..chrono_tz::TZ_VARIANTS.len(),
        repeat in any_repeat(),
        days in 0u8..=30,
        after in any_instant(),
        to in any_date(),
    ) {
        let zone = chrono_tz::TZ_VARIANTS[zone];
        let created = Series::new(first, time(h, m), zone, repeat, days, DateTime::<Utc>::MIN_UTC);
        if let Ok(s) = created {
            let _ = describe(&s, after);
            for o in next_occurrences(&s, after, 3) {
                let _ = occurrence_words(&s, &o);
                let _ = agenda_words(&s, &o);
                let _ = cancel(&s, o.slot, after);
                let _ = move_occurrence(&s, o.slot, to.and_time(time(h, m)), after);
            }
        }
    }
}
