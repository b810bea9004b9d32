//! Unit tests of the weekly schedule, compiled only with #[cfg(test)] (see `mod.rs`).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Timelike, Utc, Weekday};

use super::*;
use crate::framework::{CompetenceId, Framework};

fn rule(weekday: Weekday, hh: u32, mm: u32, tz: &str) -> Rule {
    Rule {
        weekday,
        time: NaiveTime::from_hms_opt(hh, mm, 0).unwrap(),
        tz: tz.into(),
        grace_hours: DEFAULT_GRACE_HOURS,
    }
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

#[test]
fn three_years_of_london_slots_keep_local_time_across_both_clock_changes() {
    let r = rule(Weekday::Sun, 10, 0, "Europe/London");
    let mut slot = utc(2025, 1, 1, 0, 0);
    let mut seen_gmt = false;
    let mut seen_bst = false;
    for _ in 0..156 {
        let next = r.next_slot(slot);
        let local = next.with_timezone(&chrono_tz::Europe::London);
        assert_eq!(
            (local.weekday(), local.hour(), local.minute()),
            (Weekday::Sun, 10, 0),
            "{next}"
        );
        let gap = next - slot;
        assert!(
            gap <= Duration::days(7) + Duration::hours(1),
            "{slot} → {next}"
        );
        if next.hour() == 10 {
            seen_gmt = true;
        }
        if next.hour() == 9 {
            seen_bst = true;
        }
        slot = next;
    }
    assert!(seen_gmt && seen_bst);
    // The spring change (Sunday 29 March 2026, 01:00 UTC) and the autumn one (25 October 2026).
    assert_eq!(r.next_slot(utc(2026, 3, 28, 12, 0)), utc(2026, 3, 29, 9, 0));
    assert_eq!(
        r.next_slot(utc(2026, 10, 24, 12, 0)),
        utc(2026, 10, 25, 10, 0)
    );
}

#[test]
fn a_time_the_clock_skips_posts_just_after_the_gap_and_a_repeated_one_once() {
    let skipped = rule(Weekday::Sun, 1, 30, "Europe/London");
    // 01:30 does not exist on 29 March 2026 in London; 02:00 BST is 01:00 UTC.
    assert_eq!(
        skipped.next_slot(utc(2026, 3, 28, 12, 0)),
        utc(2026, 3, 29, 1, 0)
    );
    let repeated = rule(Weekday::Sun, 1, 30, "Europe/London");
    // 01:30 happens twice on 25 October 2026; the first is 00:30 UTC.
    assert_eq!(
        repeated.next_slot(utc(2026, 10, 24, 12, 0)),
        utc(2026, 10, 25, 0, 30)
    );
    assert_eq!(
        repeated.next_slot(utc(2026, 10, 25, 0, 30)),
        utc(2026, 11, 1, 1, 30)
    );
}

#[test]
fn a_us_zone_follows_its_own_clock_changes() {
    let r = rule(Weekday::Mon, 9, 0, "America/New_York");
    // US summer time starts 8 March 2026, ends 1 November 2026.
    assert_eq!(
        r.next_slot(utc(2026, 3, 1, 0, 0)),
        utc(2026, 3, 2, 14, 0),
        "EST"
    );
    assert_eq!(
        r.next_slot(utc(2026, 3, 3, 0, 0)),
        utc(2026, 3, 9, 13, 0),
        "EDT"
    );
    assert_eq!(r.next_slot(utc(2026, 11, 1, 0, 0)), utc(2026, 11, 2, 14, 0));
}

#[test]
fn downtime_posts_one_late_slot_within_grace_and_skips_older_ones() {
    let r = rule(Weekday::Tue, 10, 0, "UTC");
    let last = utc(2026, 11, 10, 10, 0);
    // On time.
    let d = decide(&r, last, utc(2026, 11, 17, 10, 0));
    assert_eq!(d.post, Some(utc(2026, 11, 17, 10, 0)));
    assert!(d.skipped.is_empty());
    // Three hours late: still posted, once.
    let d = decide(&r, last, utc(2026, 11, 17, 13, 0));
    assert_eq!(d.post, Some(utc(2026, 11, 17, 10, 0)));
    // A day late: skipped.
    let d = decide(&r, last, utc(2026, 11, 18, 10, 0));
    assert_eq!(d.post, None);
    assert_eq!(d.skipped, vec![utc(2026, 11, 17, 10, 0)]);
    // Three weeks down: the older slots are skipped, only the latest may post.
    let d = decide(&r, last, utc(2026, 12, 8, 11, 0));
    assert_eq!(d.post, Some(utc(2026, 12, 8, 10, 0)));
    assert_eq!(d.skipped.len(), 3);
    assert_eq!(d.next, utc(2026, 12, 15, 10, 0));
    // Before the slot: nothing yet.
    let d = decide(&r, last, utc(2026, 11, 17, 9, 59));
    assert_eq!((d.post, d.next), (None, utc(2026, 11, 17, 10, 0)));
}

#[test]
fn settings_parse_and_bad_ones_say_what_works() {
    assert_eq!(
        parse_time("09:30").unwrap(),
        NaiveTime::from_hms_opt(9, 30, 0).unwrap()
    );
    assert_eq!(
        parse_time("7.05").unwrap(),
        NaiveTime::from_hms_opt(7, 5, 0).unwrap()
    );
    for bad in ["25:00", "12:60", "noon", "", "9", "09:5", "-1:00", "١٢:٠٠"] {
        assert!(parse_time(bad).is_err(), "{bad}");
    }
    assert!(
        parse_time("25:00")
            .unwrap_err()
            .to_string()
            .contains("HH:MM")
    );
    assert_eq!(
        parse_zone("europe/london").unwrap(),
        chrono_tz::Europe::London
    );
    assert!(
        parse_zone("Europe/Londres")
            .unwrap_err()
            .to_string()
            .contains("Europe/London")
    );
    assert_eq!(parse_weekday("Wednesday").unwrap(), Weekday::Wed);
    assert_eq!(parse_weekday("thu").unwrap(), Weekday::Thu);
    assert!(parse_weekday("Wendsday").is_err());
    assert_eq!(zone_suggestions("london", 5), ["Europe/London"]);
    assert!(zone_suggestions("america/new", 25).contains(&"America/New_York"));
}

#[test]
fn no_competence_repeats_until_all_have_had_their_week_in_any_order() {
    let f = Framework::builtin().unwrap();
    for (scope, size) in [
        (Scope::Core, 37),
        (Scope::Integration, 23),
        (Scope::Both, 60),
    ] {
        for order in [
            Order::Sequential,
            Order::Shuffled,
            Order::Gaps,
            Order::Alternating,
        ] {
            let mut rotation = Rotation::default();
            let mut seen = HashSet::new();
            for week in 0..size {
                let (id, next) =
                    next_competence(&f, scope, order, &rotation, &HashMap::new(), 7).unwrap();
                assert!(scope.includes(id));
                assert!(
                    seen.insert(id),
                    "{scope:?} {order:?}: {id} repeated in week {week}"
                );
                rotation = next;
            }
            let (_, next) =
                next_competence(&f, scope, order, &rotation, &HashMap::new(), 7).unwrap();
            assert_eq!(next.cycle, 1, "a new cycle starts once all are used");
        }
    }
}

#[test]
fn changing_order_mid_cycle_keeps_the_used_ones_out() {
    let f = Framework::builtin().unwrap();
    let mut rotation = Rotation::default();
    let mut seen = HashSet::new();
    let orders = [
        Order::Sequential,
        Order::Shuffled,
        Order::Gaps,
        Order::Alternating,
    ];
    for week in 0..60 {
        let (id, next) = next_competence(
            &f,
            Scope::Both,
            orders[week % orders.len()],
            &rotation,
            &HashMap::new(),
            3,
        )
        .unwrap();
        assert!(seen.insert(id), "{id} repeated");
        rotation = next;
    }
}

#[test]
fn gaps_order_picks_the_least_reflected_on() {
    let f = Framework::builtin().unwrap();
    let mut counts: HashMap<_, u32> = f.competences().iter().map(|c| (c.id, 5)).collect();
    counts.insert("core:3.5".parse().unwrap(), 1);
    let (id, _) = next_competence(
        &f,
        Scope::Both,
        Order::Gaps,
        &Rotation::default(),
        &counts,
        0,
    )
    .unwrap();
    assert_eq!(id.to_string(), "core:3.5");
}

/// The alternating order takes the domains in turn, in framework order, and
/// carries on with the larger domain once the smaller one is used up.
#[test]
fn alternating_order_takes_the_domains_in_turn() {
    let f = Framework::builtin().unwrap();
    let mut rotation = Rotation::default();
    let mut labels = Vec::new();
    for _ in 0..60 {
        let (id, next) = next_competence(
            &f,
            Scope::Both,
            Order::Alternating,
            &rotation,
            &HashMap::new(),
            0,
        )
        .unwrap();
        labels.push(id.short());
        rotation = next;
    }
    assert_eq!(labels[..4], ["C1.1", "I1.1", "C1.2", "I1.2"]);
    // 23 of each, in turn; then the 14 core competences left, in order.
    for pair in labels[..46].chunks(2) {
        assert!(
            pair[0].starts_with('C') && pair[1].starts_with('I'),
            "{pair:?}"
        );
    }
    assert!(labels[46..].iter().all(|l| l.starts_with('C')));
}

/// A chosen competence must be in the schedule's domains and not yet used in
/// the cycle, unless the cycle is over; it is then the next, and used.
#[test]
fn a_chosen_competence_comes_next_once_and_only_from_the_schedules_domains() {
    let f = Framework::builtin().unwrap();
    let setting = Setting {
        channel: 1,
        weekday: Weekday::Mon,
        time: "10:00",
        zone: None,
        scope: Scope::Integration,
        order: Order::Sequential,
        grace_hours: None,
    };
    let mut record = set(None, &setting, Utc::now()).unwrap();
    let core: CompetenceId = "core:3.5".parse().unwrap();
    let chosen: CompetenceId = "integration:2.1".parse().unwrap();
    let refused = choose_next(&f, &mut record, core).unwrap_err();
    assert!(
        refused.contains("not in this schedule's domains"),
        "{refused}"
    );
    assert!(choose_next(&f, &mut record, chosen).is_ok());
    let (id, rotation) = next_competence(
        &f,
        record.scope,
        record.order,
        &record.rotation,
        &HashMap::new(),
        0,
    )
    .unwrap();
    assert_eq!(id, chosen);
    assert_eq!(rotation.chosen, None, "used once");
    record.rotation = rotation;
    let again = choose_next(&f, &mut record, chosen).unwrap_err();
    assert!(again.contains("has had its week in this cycle"), "{again}");
    // Once every competence in scope is used, the next cycle may begin with it.
    while let Some((_, next)) = next_competence(
        &f,
        record.scope,
        record.order,
        &record.rotation,
        &HashMap::new(),
        0,
    )
    .filter(|(_, r)| r.cycle == 0)
    {
        record.rotation = next;
    }
    assert_eq!(record.rotation.used.len(), 23);
    assert!(choose_next(&f, &mut record, chosen).is_ok());
}

#[test]
fn a_reminder_names_the_members_priorities_in_turn_week_by_week() {
    let f = Framework::builtin().unwrap();
    let p: Vec<CompetenceId> = ["core:3.5", "integration:2.1"]
        .iter()
        .map(|c| c.parse().unwrap())
        .collect();
    let week = |n: i64| Utc.with_ymd_and_hms(2026, 11, 30, 13, 0, 0).unwrap() + Duration::weeks(n);
    let named = |n: i64| {
        let words = reminder_words(&f, Some("core:1.1".parse().unwrap()), &p, week(n));
        assert!(
            words.starts_with("A gentle nudge: this week's competence is **C1.1**"),
            "{words}"
        );
        assert!(words.ends_with("`/remind off` stops these."), "{words}");
        words
    };
    let a = named(0);
    let b = named(1);
    assert!(
        a.contains("supervisor: **C3.5**") != b.contains("supervisor: **C3.5**"),
        "{a}\n{b}"
    );
    assert!(
        a.contains("supervisor: **I2.1**") != b.contains("supervisor: **I2.1**"),
        "{a}\n{b}"
    );
    assert_eq!(named(2), a, "in turn");
    // None marked: nothing said of priorities; this week's own is not named twice.
    assert!(!reminder_words(&f, None, &[], week(0)).contains("priorities"));
    let same = reminder_words(&f, Some(p[0]), &p[..1], week(0));
    assert_eq!(same.matches("C3.5").count(), 2, "{same}");
}
