//! Tests of a group's meetings as a whole: what is due, and what a
//! front-end keeps after doing it.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::*;

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn now() -> DateTime<Utc> {
    utc(2026, 12, 5, 12, 0)
}

fn setting(date: &str) -> Setting<'_> {
    Setting {
        date,
        time: "18:00",
        zone: Some("Europe/London"),
        repeat: Repeat::Weekly { every: 2 },
        voice: None,
        location: Some("Room 4, the Quaker meeting house"),
        minutes: Some(90),
        presenters: Some(1),
        agenda_days: Some(3),
        channel: 55,
    }
}

fn names() -> Names {
    (1..=6).map(|i| (i, format!("M{i}"))).collect()
}

fn with_rota(members: &[u64]) -> Meetings {
    let mut m = Meetings::default();
    for id in members {
        m.rota = rota::join(&m.rota, *id, &names()).rota;
    }
    m
}

/// Does what is due as a front-end would when Discord agrees, with event
/// ids from `ids`; returns the record and the words it would post.
fn apply(m: &Meetings, now: DateTime<Utc>, ids: &mut u64) -> (Meetings, Vec<String>) {
    let mut m = tidy(m, now).unwrap_or_else(|| m.clone());
    let mut said = Vec::new();
    for d in due(&m, now) {
        m = match d {
            Due::Create(o) => {
                *ids += 1;
                linked(&m, &o, *ids)
            }
            Due::Retime { event, occurrence } => retimed(&m, event, occurrence.starts),
            Due::Remove(l) => unlinked(&m, l.event),
            Due::Allocate(o) => {
                let present: BTreeSet<u64> = m.rota.on_rota().into_iter().collect();
                let (next, words) = allocated(&m, &o, &present, &names());
                said.push(words);
                next
            }
            Due::OpenAgenda { occurrence: o, .. } => {
                said.push(agenda_opening_words(&m, &o));
                *ids += 1;
                agenda_opened(&agenda_posted(&m, &o, *ids, now), &o, *ids)
            }
            Due::Remind { member, occurrence } => {
                said.push(format!(
                    "to {member}: {}",
                    reminder_words(&m, member, &occurrence, "at Room 4")
                ));
                reminded(&m, member, &occurrence)
            }
            Due::LogNote { occurrence, thread } => {
                said.push(format!("in {thread}: {}", log_note_words(&m, &occurrence)));
                log_noted(&m, &occurrence)
            }
        };
    }
    (m, said)
}

#[test]
fn a_new_plan_makes_its_next_meeting_an_event_and_gives_its_roles() {
    let (m, words) = set(&with_rota(&[1, 2, 3]), &setting("2026-12-17"), now()).unwrap();
    assert!(words.starts_with("Meetings set. Every 2 weeks on Thursday at 18:00 (Europe/London), from 17 December 2026."), "{words}");
    let d = due(&m, now());
    assert_eq!(d.len(), 2, "{d:?}");
    assert!(matches!(d[0], Due::Create(o) if o.starts == utc(2026, 12, 17, 18, 0)));
    assert!(matches!(d[1], Due::Allocate(o) if o.starts == utc(2026, 12, 17, 18, 0)));
    let mut ids = 0;
    let (m, said) = apply(&m, now(), &mut ids);
    assert_eq!(m.events.len(), 1);
    assert_eq!(said.len(), 1);
    assert!(
        said[0].contains("presenting, M1; facilitating, M2; keeping time, M3"),
        "{said:?}"
    );
    assert!(due(&m, now()).is_empty(), "done once: {:?}", due(&m, now()));
    // Once the meeting has begun, the next one's event and roles are due.
    let during = utc(2026, 12, 17, 18, 30);
    let (m, said) = apply(&m, during, &mut ids);
    assert_eq!(m.events.len(), 2, "the meeting under way keeps its link");
    assert!(
        said[0].contains("presenting, M4") || said[0].contains("presenting, M"),
        "{said:?}"
    );
    assert_eq!(
        m.roles_for,
        Some(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap())
    );
    // After it ends its link is let go.
    let (m, _) = apply(&m, utc(2026, 12, 17, 20, 0), &mut ids);
    assert_eq!(m.events.len(), 1);
}

#[test]
fn no_roles_are_given_while_no_one_is_on_the_rota() {
    let (m, _) = set(&Meetings::default(), &setting("2026-12-17"), now()).unwrap();
    let d = due(&m, now());
    assert_eq!(d.len(), 1);
    assert!(matches!(d[0], Due::Create(_)));
    let view = view(&m, &names(), "in Room 4", now());
    assert!(view.contains("once the meeting before has begun"), "{view}");
}

#[test]
fn a_moved_meeting_moves_its_event_and_its_roles() {
    let (m, _) = set(&with_rota(&[1, 2, 3]), &setting("2026-12-17"), now()).unwrap();
    let mut ids = 0;
    let (m, _) = apply(&m, now(), &mut ids);
    let (m, words) = move_meeting(&m, "2026-12-17", "2026-12-18", "10:00", now()).unwrap();
    assert!(
        words.contains("moves to Friday 18 December 2026, 10:00 GMT"),
        "{words}"
    );
    assert_eq!(m.rota.open_starts(), Some(utc(2026, 12, 18, 10, 0)));
    let d = due(&m, now());
    assert_eq!(
        d,
        vec![Due::Retime {
            event: 1,
            occurrence: m
                .plan
                .as_ref()
                .unwrap()
                .series
                .occurrence(NaiveDate::from_ymd_opt(2026, 12, 17).unwrap())
                .unwrap()
        }]
    );
    let (m, _) = apply(&m, now(), &mut ids);
    assert!(due(&m, now()).is_empty());
}

#[test]
fn a_cancelled_meeting_loses_its_event_and_its_roles_carry_over() {
    let (m, _) = set(&with_rota(&[1, 2, 3]), &setting("2026-12-17"), now()).unwrap();
    let mut ids = 0;
    let (m, _) = apply(&m, now(), &mut ids);
    let before = rota::describe(&m.rota, &names());
    let (m, words) = cancel(&m, "2026-12-17", now()).unwrap();
    assert!(
        words.contains("is cancelled. The next meeting is Thursday 31 December 2026, 18:00 GMT."),
        "{words}"
    );
    assert!(
        words.ends_with("The roles given for it carry over to the next meeting."),
        "{words}"
    );
    assert_eq!(rota::describe(&m.rota, &names()), before);
    assert_eq!(m.rota.open_starts(), Some(utc(2026, 12, 31, 18, 0)));
    let d = due(&m, now());
    assert!(matches!(d[0], Due::Remove(l) if l.event == 1), "{d:?}");
    assert!(
        matches!(d[1], Due::Create(o) if o.starts == utc(2026, 12, 31, 18, 0)),
        "{d:?}"
    );
    assert_eq!(d.len(), 2, "no second allocation: {d:?}");
    // Anyone asking for the next meeting is told it is cancelled.
    let v = view(&m, &names(), "at Room 4", now());
    assert!(
        v.starts_with("The meeting of 17 December 2026 is cancelled.\nNext meeting: Thursday 31 December 2026, 18:00 GMT"),
        "{v}"
    );
    // Not once the day has gone.
    let v = view(&m, &names(), "at Room 4", utc(2026, 12, 18, 9, 0));
    assert!(v.starts_with("Next meeting:"), "{v}");
    // Cancelling it twice says so.
    assert_eq!(
        cancel(&m, "2026-12-17", now()).unwrap_err(),
        "The meeting of 17 December 2026 is already cancelled."
    );
}

#[test]
fn an_event_deleted_in_discord_cancels_its_meeting_once() {
    let (m, _) = set(&with_rota(&[1, 2]), &setting("2026-12-17"), now()).unwrap();
    let mut ids = 0;
    let (m, _) = apply(&m, now(), &mut ids);
    assert!(event_deleted(&m, 99, now()).is_none(), "not ours");
    let (m, words) = event_deleted(&m, 1, now()).unwrap();
    assert!(words.starts_with("The Discord event for a meeting was deleted in Discord, so the meeting is cancelled here too. The meeting on Thursday 17 December 2026, 18:00 GMT is cancelled."), "{words}");
    assert!(m.events.is_empty());
    assert!(event_deleted(&m, 1, now()).is_none(), "said once");
    // The next meeting gets its own event.
    assert!(matches!(due(&m, now())[0], Due::Create(o) if o.starts == utc(2026, 12, 31, 18, 0)));
}

#[test]
fn stopping_removes_the_events_to_come_and_keeps_the_rota() {
    let (m, _) = set(&with_rota(&[1, 2]), &setting("2026-12-17"), now()).unwrap();
    let mut ids = 0;
    let (m, _) = apply(&m, now(), &mut ids);
    let (m, words) = stop(&m, now()).unwrap();
    assert!(words.contains("The rota and who served when are kept"));
    assert_eq!(due(&m, now()), vec![Due::Remove(m.events[0])]);
    assert_eq!(m.rota.on_rota(), vec![1, 2]);
    let (m, _) = apply(&m, now(), &mut ids);
    assert!(m.events.is_empty());
    assert_eq!(
        stop(&m, now()).unwrap_err(),
        "This server has no meetings set: a convenor sets them with `/convene set`."
    );
}

/// The roles given at the meetings set from `date` once those of `m` are
/// done with at `at`.
fn roles_when_set_again(m: &Meetings, date: &str, at: DateTime<Utc>) -> String {
    let (m, _) = set(m, &setting(date), at).unwrap();
    let (_, said) = apply(&m, at, &mut 100);
    said.join("\n")
}

#[test]
fn a_meeting_stopped_before_it_began_counts_as_served_by_no_one() {
    let (m, _) = set(&with_rota(&[1, 2, 3]), &setting("2026-12-17"), now()).unwrap();
    let (m, said) = apply(&m, now(), &mut 0);
    assert!(said[0].contains("presenting, M1; facilitating, M2; keeping time, M3"));
    let later = utc(2027, 1, 2, 12, 0);

    // Stopped before it began: the same members are first in line again.
    let (stopped, words) = stop(&m, now()).unwrap();
    assert!(
        words.ends_with("The roles given for the next meeting are let go: as it is not held, no one is counted as having served them, and whoever held one stays first in line for it."),
        "{words}"
    );
    assert_eq!(stopped.rota.open_starts(), None);
    assert_eq!(stopped.roles_for, None);
    let again = roles_when_set_again(&stopped, "2027-01-07", later);
    assert!(
        again.contains("presenting, M1; facilitating, M2; keeping time, M3"),
        "{again}"
    );

    // Stopped once it had begun: it was held, and its roles were served.
    let during = utc(2026, 12, 17, 18, 30);
    let (stopped, words) = stop(&m, during).unwrap();
    assert!(!words.contains("let go"), "{words}");
    let again = roles_when_set_again(&stopped, "2027-01-07", later);
    assert!(!again.contains("presenting, M1;"), "{again}");
}

#[test]
fn a_last_meeting_cancelled_lets_its_roles_go_unserved() {
    let once = Setting {
        repeat: Repeat::Once,
        ..setting("2026-12-17")
    };
    let (m, _) = set(&with_rota(&[1, 2, 3]), &once, now()).unwrap();
    let mut ids = 0;
    let (m, _) = apply(&m, now(), &mut ids);
    let (m, words) = cancel(&m, "2026-12-17", now()).unwrap();
    assert!(
        words.ends_with("The roles given for it are let go: as it is not held, no one is counted as having served them, and whoever held one stays first in line for it."),
        "{words}"
    );
    assert_eq!(m.rota.open_starts(), None);
    let again = roles_when_set_again(&m, "2027-01-07", utc(2027, 1, 2, 12, 0));
    assert!(
        again.contains("presenting, M1; facilitating, M2; keeping time, M3"),
        "{again}"
    );
}

#[test]
fn every_bad_setting_says_what_would_work_and_changes_nothing() {
    let base = with_rota(&[1]);
    let long = "x".repeat(101);
    let cases: Vec<(Setting<'_>, &str)> = vec![
        (
            Setting {
                date: "17/12/2026",
                ..setting("")
            },
            "write it as YYYY-MM-DD",
        ),
        (
            Setting {
                time: "6pm",
                ..setting("2026-12-17")
            },
            "HH:MM on the 24-hour clock",
        ),
        (
            Setting {
                zone: Some("Mars/Olympus"),
                ..setting("2026-12-17")
            },
            "Europe/London",
        ),
        (
            Setting {
                voice: Some(9),
                ..setting("2026-12-17")
            },
            "not both",
        ),
        (
            Setting {
                location: None,
                ..setting("2026-12-17")
            },
            "Say where the group meets",
        ),
        (
            Setting {
                location: Some("   "),
                ..setting("2026-12-17")
            },
            "Say where the group meets",
        ),
        (
            Setting {
                location: Some(&long),
                ..setting("2026-12-17")
            },
            "at most 100",
        ),
        (
            Setting {
                minutes: Some(5),
                ..setting("2026-12-17")
            },
            "15 to 480 minutes",
        ),
        (
            Setting {
                presenters: Some(9),
                ..setting("2026-12-17")
            },
            "at most 8 presenters",
        ),
        (
            Setting {
                agenda_days: Some(0),
                ..setting("2026-12-17")
            },
            "1 to 28 days",
        ),
        (
            Setting {
                repeat: Repeat::Weekly { every: 13 },
                ..setting("2026-12-17")
            },
            "every 1 to 12 weeks",
        ),
        (
            Setting {
                repeat: Repeat::Monthly { nth: Nth::First },
                ..setting("2026-12-17")
            },
            "is not the first Thursday",
        ),
        (setting("2026-12-01"), "choose a date and time to come"),
    ];
    for (s, expected) in cases {
        let err = set(&base, &s, now()).unwrap_err();
        assert!(err.contains(expected), "{s:?}: {err}");
    }
    assert_eq!(
        repeat_of(Some(2), Some(Nth::Last)).unwrap_err(),
        "Choose weeks between meetings or a monthly day, not both."
    );
    assert_eq!(repeat_of(Some(0), None), Ok(Repeat::Once));
    assert_eq!(repeat_of(None, None), Ok(Repeat::Weekly { every: 4 }));
}

#[test]
fn the_view_shows_when_where_the_agenda_and_the_roles() {
    let (m, _) = set(&with_rota(&[1, 2, 3]), &setting("2026-12-17"), now()).unwrap();
    let mut ids = 0;
    let (m, _) = apply(&m, now(), &mut ids);
    let v = view(&m, &names(), "at Room 4", now());
    assert_eq!(
        v,
        "Next meeting: Thursday 17 December 2026, 18:00 GMT, at Room 4, for 90 minutes.\nThe agenda for the meeting on Thursday 17 December 2026, 18:00 GMT opens Monday 14 December 2026, 18:00 GMT, 3 days before.\nRoles for the next meeting: presenting, M1; facilitating, M2; keeping time, M3."
    );
    let open = utc(2026, 12, 15, 9, 0);
    let v = view(&m, &names(), "at Room 4", open);
    assert!(
        v.contains("\nIts agenda is open: nothing brought yet. `/agenda bring` brings an item.\n"),
        "{v}"
    );
    // Its items, each only as its member chose to show it: no name, no
    // reflection, nothing of what the item is.
    let (m, _) = bring(&m, 1, 20, None, Some(Source::Reflection(4)), open).unwrap();
    let (m, _) = bring(&m, 5, 30, Some("Endings"), None, open).unwrap();
    let v = view(&m, &names(), "at Room 4", open);
    assert!(
        v.contains("\nIts agenda is open:\n1. an item from a member (20 minutes)\n2. Endings (30 minutes)\n50 of the meeting's 90 minutes asked for.\nRoles"),
        "{v}"
    );
    assert!(
        !v.contains("M5") && !v.contains('#') && !v.contains("reflection"),
        "{v}"
    );
    assert!(view(&Meetings::default(), &names(), "", now()).contains("No one is on the rota yet"));
}

fn op() -> impl Strategy<Value = (u8, u8, u16)> {
    (0u8..6, 0u8..6, 0u16..2000)
}

proptest! {
    /// Whatever a convenor and Discord do, in any order: after the due work
    /// is done nothing more is due, every event links a meeting still to
    /// come at the time its event says, no two events share a meeting, and
    /// roles are given for one meeting at a time.
    #[test]
    fn doing_what_is_due_leaves_nothing_due(ops in proptest::collection::vec(op(), 1..25)) {
        let (mut m, _) = set(&with_rota(&[1, 2, 3, 4]), &setting("2026-12-17"), now()).unwrap();
        let mut t = now();
        let mut ids = 0;
        for (kind, pick, hours) in ops {
            t += Duration::hours(i64::from(hours));
            let slots: Vec<NaiveDate> = m.plan.as_ref().map(|p| series::next_occurrences(&p.series, t, 4).iter().map(|o| o.slot).collect()).unwrap_or_default();
            let slot = slots.get(usize::from(pick) % slots.len().max(1)).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
            let changed = match kind {
                0 => cancel(&m, &slot, t).ok(),
                1 => move_meeting(&m, &slot, &slot, "09:15", t).ok(),
                2 => m.events.get(usize::from(pick) % m.events.len().max(1)).and_then(|l| event_deleted(&m, l.event, t)),
                3 => Some((Meetings { rota: rota::join(&m.rota, u64::from(pick) + 1, &names()).rota, ..m.clone() }, String::new())),
                4 => stop(&m, t).ok().filter(|_| pick == 0),
                _ => None,
            };
            if let Some((next, _)) = changed {
                m = next;
            }
            if kind == 5 {
                m = remind(&m, u64::from(pick) + 1, hours % 168 + 1, pick % 2 == 0, None).unwrap().0;
            }
            if let Ok((next, _)) = bring(&m, u64::from(pick) + 1, 10, None, None, t) {
                m = next;
            }
            let (next, _) = apply(&m, t, &mut ids);
            m = next;
            prop_assert!(due(&m, t).is_empty(), "still due: {:?}", due(&m, t));
            let mut slots = BTreeSet::new();
            for l in &m.events {
                prop_assert!(slots.insert(l.slot), "two events for one meeting");
                if let Some(p) = &m.plan && l.starts > t {
                    let o = p.series.occurrence(l.slot);
                    prop_assert_eq!(o.map(|o| o.starts), Some(l.starts));
                }
            }
            for i in &m.items {
                let o = m.plan.as_ref().and_then(|p| p.series.occurrence(i.slot));
                prop_assert!(o.is_some_and(|o| m.plan.as_ref().unwrap().ends(&o) > t), "an item of a meeting still to end");
            }
            // Roles held for a meeting still to come are for a meeting still set.
            if m.rota.open_starts().is_some_and(|open| open > t) {
                prop_assert!(m.plan.is_some() && m.roles_for.is_some(), "roles for a meeting not set");
            }
            if let (Some(slot), Some(p)) = (m.roles_for, &m.plan) && let Some(open) = m.rota.open_starts() && open > t {
                prop_assert_eq!(p.series.occurrence(slot).map(|o| o.starts), Some(open));
            }
        }
    }
}

#[test]
fn a_swap_waits_for_the_other_member_to_agree() {
    let (m, _) = set(&with_rota(&[1, 2, 3]), &setting("2026-12-17"), now()).unwrap();
    let mut ids = 0;
    let (m, _) = apply(&m, now(), &mut ids);
    let (m, words, changed) = offer_swap(&m, 1, 3, now(), &names());
    assert!(changed);
    assert_eq!(
        words,
        "M1 offers to swap roles at the next meeting with M3. The swap happens when M3 runs `/rota swap` naming M1."
    );
    assert!(
        rota::describe(&m.rota, &names()).contains("presenting, M1"),
        "not yet"
    );
    let (_, again, changed) = offer_swap(&m, 1, 3, now(), &names());
    assert!(!changed && again.contains("already offered"), "{again}");
    // Agreed only once the meeting has begun: the roles stand.
    let begun = m.rota.open_starts().unwrap();
    let (late, words, changed) = offer_swap(&m, 3, 1, begun, &names());
    assert!(!changed);
    assert_eq!(late, m);
    assert!(words.starts_with("That meeting has begun"), "{words}");
    let (m, words, changed) = offer_swap(&m, 3, 1, now(), &names());
    assert!(changed, "{words}");
    assert!(words.starts_with("M3 and M1 swap"), "{words}");
    assert!(rota::describe(&m.rota, &names()).contains("presenting, M3"));
    assert!(m.swap_offers.is_empty());
    let (_, words, changed) = offer_swap(&m, 1, 1, now(), &names());
    assert!(!changed && words.starts_with("A swap takes two members"));
    let (_, words, changed) = offer_swap(&with_rota(&[1, 2]), 1, 2, now(), &names());
    assert!(!changed);
    assert_eq!(words, "No meeting has been given roles yet.");
}

#[test]
fn reminders_come_at_their_lead_once_and_keep_quiet_hours_unless_allowed() {
    let (m, _) = set(&with_rota(&[1, 2]), &setting("2026-12-17"), now()).unwrap();
    let (m, words) = remind(&m, 1, 24, false, None).unwrap();
    assert!(words.starts_with("You will get a direct message 24 hours before each meeting, unless that falls between 21:00 and 07:00"), "{words}");
    // 12 hours before an 18:00 meeting is 06:00: quiet, so 20:00 the evening before.
    let (m, _) = remind(&m, 2, 12, false, None).unwrap();
    let plan = m.plan.clone().unwrap();
    let o = series::next_occurrences(&plan.series, now(), 1)[0];
    assert_eq!(
        reminder_at(&plan, &m.reminders[0], &o),
        utc(2026, 12, 16, 18, 0)
    );
    assert_eq!(
        reminder_at(&plan, &m.reminders[1], &o),
        utc(2026, 12, 16, 20, 0)
    );
    let (allowed, _) = remind(&m, 2, 12, true, None).unwrap();
    let r = allowed.reminders.iter().find(|r| r.member == 2).unwrap();
    assert_eq!(reminder_at(&plan, r, &o), utc(2026, 12, 17, 6, 0));
    // Nothing before its time; once each, then not again for that meeting.
    let mut ids = 0;
    let (m, said) = apply(&m, utc(2026, 12, 16, 17, 59), &mut ids);
    assert!(!said.iter().any(|s| s.starts_with("to ")), "{said:?}");
    let (m, said) = apply(&m, utc(2026, 12, 16, 20, 0), &mut ids);
    let sent: Vec<&String> = said.iter().filter(|s| s.starts_with("to ")).collect();
    assert_eq!(sent.len(), 2, "{said:?}");
    assert!(
        sent[0].contains(
            "the group meets Thursday 17 December 2026, 18:00 GMT, at Room 4. You are presenting."
        ),
        "{sent:?}"
    );
    let (m, said) = apply(&m, utc(2026, 12, 17, 9, 0), &mut ids);
    assert!(!said.iter().any(|s| s.starts_with("to ")), "once: {said:?}");
    // Off.
    let (m, words, changed) = remind_off(&m, 1);
    assert!(changed && words == "Meeting reminders are off for you.");
    assert_eq!(remind_off(&m, 1).1, "You had no meeting reminders.");
    for bad in [0, 169] {
        assert!(
            remind(&m, 1, bad, false, None)
                .unwrap_err()
                .contains("1 to 168 hours")
        );
    }
}

#[test]
fn an_agenda_opens_its_days_before_and_shows_only_what_members_chose() {
    let (m, _) = set(&with_rota(&[1, 2]), &setting("2026-12-17"), now()).unwrap();
    // Before it opens: bringing says when it opens.
    let early = bring(&m, 1, 20, None, Some(Source::Reflection(4)), now()).unwrap_err();
    assert!(early.contains("opens Monday 14 December 2026, 18:00 GMT, 3 days before. Items can be brought once it is open."), "{early}");
    let mut ids = 0;
    let open = utc(2026, 12, 14, 18, 0);
    let (m, said) = apply(&m, open, &mut ids);
    let opening = said
        .iter()
        .find(|s| {
            s.starts_with(
                "The agenda for the meeting on Thursday 17 December 2026, 18:00 GMT is open.",
            )
        })
        .unwrap_or_else(|| panic!("{said:?}"));
    // Its thread is where members' work is talked about: it opens with the
    // reminder to leave out what could identify a client.
    assert!(
        opening.ends_with(crate::prompts::IDENTIFYING_DETAILS),
        "{opening}"
    );
    assert_eq!(m.agendas.len(), 1);
    let (m, words) = bring(&m, 1, 20, None, Some(Source::Reflection(4)), open).unwrap();
    assert!(words.starts_with("Brought to the meeting on Thursday 17 December 2026, 18:00 GMT: the agenda shows an item from a member, 20 minutes."), "{words}");
    assert!(
        words.contains("reflection #4, which stays private"),
        "{words}"
    );
    let (m, _) = bring(
        &m,
        2,
        30,
        Some("Endings with a coaching client"),
        None,
        open,
    )
    .unwrap();
    let view = agenda_view(&m, open);
    assert_eq!(
        view,
        "Agenda for the meeting on Thursday 17 December 2026, 18:00 GMT:\n1. an item from a member (20 minutes)\n2. Endings with a coaching client (30 minutes)\n50 of the meeting's 90 minutes asked for."
    );
    assert!(!view.contains("#4"), "the reflection is not shown");
    // A second item replaces the first.
    let (m, words) = bring(&m, 1, 15, None, Some(Source::Reflection(4)), open).unwrap();
    assert!(
        words.starts_with("Your item is now, for the meeting"),
        "{words}"
    );
    assert_eq!(m.items.len(), 2);
    let (item, thread, place) = brought(&m, 1, open).unwrap();
    assert_eq!(
        (item.reflection, thread),
        (Some(4), Some(m.agendas[0].thread.unwrap()))
    );
    assert_eq!(
        place,
        "the thread of the meeting on Thursday 17 December 2026, 18:00 GMT"
    );
    // Withdrawn.
    let (m, words, changed) = withdraw_item(&m, 1, open);
    assert!(
        changed && words.starts_with("Your item is off the agenda."),
        "{words}"
    );
    assert!(brought(&m, 1, open).is_none());
    assert_eq!(
        withdraw_item(&m, 1, open).1,
        "You have no item on the next meeting's agenda."
    );
    // A cancelled meeting's items carry over; an ended meeting's go.
    let (c, _) = cancel(&m, "2026-12-17", open).unwrap();
    assert_eq!(c.items.len(), 1);
    assert_eq!(
        c.items[0].slot,
        NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
    );
    assert!(c.agendas.is_empty(), "the cancelled meeting's agenda goes");
    // An ended meeting's items go; its agenda stays until the log note is
    // posted in its thread, and goes with the tidy after that.
    let after = utc(2026, 12, 17, 19, 31);
    let ended = tidy(&m, after).unwrap();
    assert!(ended.items.is_empty());
    assert_eq!(ended.agendas.len(), 1);
    let o = m
        .plan
        .as_ref()
        .unwrap()
        .series
        .occurrence(m.agendas[0].slot);
    let noted = tidy(&log_noted(&ended, &o.unwrap()), after).unwrap();
    assert!(noted.agendas.is_empty());
}

/// The log notes due for `m` at `at`: each meeting's slot and thread.
fn log_notes(m: &Meetings, at: DateTime<Utc>) -> Vec<(NaiveDate, u64)> {
    due(m, at)
        .into_iter()
        .filter_map(|d| match d {
            Due::LogNote { occurrence, thread } => Some((occurrence.slot, thread)),
            _ => None,
        })
        .collect()
}

#[test]
fn the_log_note_is_due_once_a_meeting_has_ended_never_before_never_twice_never_if_cancelled() {
    let (m, _) = set(&with_rota(&[1, 2]), &setting("2026-12-17"), now()).unwrap();
    let mut ids = 0;
    let (m, _) = apply(&m, utc(2026, 12, 14, 18, 0), &mut ids);
    let slot = NaiveDate::from_ymd_opt(2026, 12, 17).unwrap();
    let thread = m.agendas[0].thread.unwrap();
    // Not before its end (18:00 for 90 minutes), which is when the
    // front-end is next woken.
    for at in [
        utc(2026, 12, 17, 17, 59),
        utc(2026, 12, 17, 18, 0),
        utc(2026, 12, 17, 19, 29),
    ] {
        let m = tidy(&m, at).unwrap_or_else(|| m.clone());
        assert!(log_notes(&m, at).is_empty(), "{at}");
    }
    let end = utc(2026, 12, 17, 19, 30);
    assert_eq!(next_moment(&m, utc(2026, 12, 17, 18, 0)), Some(end));
    // From its end, once, in its thread (the tidy keeps the agenda for it).
    for at in [end, utc(2026, 12, 20, 9, 0)] {
        let kept = tidy(&m, at).unwrap_or_else(|| m.clone());
        assert_eq!(log_notes(&kept, at), vec![(slot, thread)], "{at}");
    }
    let (after, said) = apply(&m, utc(2026, 12, 17, 20, 0), &mut ids);
    let notes: Vec<&String> = said.iter().filter(|s| s.contains("has ended")).collect();
    assert_eq!(
        notes,
        [&format!(
            "in {thread}: The meeting on Thursday 17 December 2026, 18:00 GMT has ended. If you want to keep it in your private supervision log, Log this meeting opens the form with its date, its 90 minutes and the kind, group, filled in: you write only what you took away, and only you read it."
        )]
    );
    // What it offers to fill in.
    let plan = m.plan.as_ref().unwrap();
    let o = plan.series.occurrence(slot).unwrap();
    assert_eq!(
        log_choices(plan, &o),
        LogChoices {
            date: slot,
            attended: true,
            minutes: 90,
            kind: Kind::Group,
            functions: Vec::new(),
        }
    );
    // Never twice: the record as kept (and read back) has it noted, and
    // the agenda goes.
    let kept: Meetings = serde_json::from_str(&serde_json::to_string(&after).unwrap()).unwrap();
    assert!(log_notes(&kept, utc(2026, 12, 17, 20, 5)).is_empty());
    let (later, said) = apply(&kept, utc(2026, 12, 18, 9, 0), &mut ids);
    assert!(!said.iter().any(|s| s.contains("has ended")), "{said:?}");
    assert!(later.agendas.iter().all(|a| a.slot != slot));
    // An agenda whose thread was never made has nowhere to post it, and
    // goes once its meeting ended.
    let mut threadless = m.clone();
    threadless.agendas[0].thread = None;
    assert!(log_notes(&threadless, end).is_empty());
    assert!(tidy(&threadless, end).unwrap().agendas.is_empty());
    // A cancelled meeting has none, even were its agenda still kept.
    let (mut cancelled, _) = cancel(&m, "2026-12-17", utc(2026, 12, 15, 9, 0)).unwrap();
    assert!(cancelled.agendas.is_empty());
    cancelled.agendas = m.agendas.clone();
    assert!(log_notes(&cancelled, end).is_empty());
    // Nor do meetings stopped.
    let (stopped, _) = stop(&m, utc(2026, 12, 15, 9, 0)).unwrap();
    assert!(log_notes(&stopped, end).is_empty());
}

#[test]
fn what_the_agenda_would_show_is_checked_and_every_word_given_back() {
    let (m, _) = set(&with_rota(&[1]), &setting("2026-12-17"), now()).unwrap();
    let open = utc(2026, 12, 14, 18, 0);
    for (label, expected) in [
        ("x".repeat(81), "at most 80 characters"),
        (
            "Mrs Dalloway's divorce, 07700 900123".to_string(),
            "A gentle check: what the agenda would show seems to contain",
        ),
    ] {
        let err = bring(&m, 1, 20, Some(&label), None, open).unwrap_err();
        assert!(err.contains(expected), "{err}");
        assert!(err.ends_with(&format!("You wrote: {label}")), "{err}");
    }
    // The agenda is read by the whole group: the check says so, and never
    // that what it shows stays private.
    let err = bring(&m, 1, 20, Some("Call 07700 900123"), None, open).unwrap_err();
    assert!(err.contains("The whole group reads it"), "{err}");
    assert!(err.contains("So nothing was brought"), "{err}");
    assert!(!err.to_lowercase().contains("private"), "{err}");
    for minutes in [4, 121] {
        assert!(
            bring(&m, 1, minutes, None, None, open)
                .unwrap_err()
                .contains("5 to 120 minutes")
        );
    }
}

#[test]
fn forgetting_a_member_leaves_nothing_that_names_them() {
    let (m, _) = set(&with_rota(&[1, 2, 3]), &setting("2026-12-17"), now()).unwrap();
    let mut ids = 0;
    let open = utc(2026, 12, 14, 18, 0);
    let (m, _) = apply(&m, open, &mut ids);
    let (m, _) = remind(&m, 1, 24, false, None).unwrap();
    let (m, _) = bring(
        &m,
        1,
        20,
        Some("Endings"),
        Some(Source::Reflection(2)),
        open,
    )
    .unwrap();
    let (m, _, _) = offer_swap(&m, 1, 3, now(), &names());
    assert!(m.names(1));
    let f = forget(&m, 1);
    assert!(!f.names(1), "{f:?}");
    assert!(f.names(2) && f.names(3));
    assert!(!serde_json::to_string(&f).unwrap().contains("Endings"));
    // Once the meeting is held, the member's services go with them too.
    let (held, _) = apply(&m, utc(2026, 12, 17, 19, 0), &mut ids);
    let served = rota::place_of(&held.rota, 1).unwrap().served;
    assert_eq!(served, vec![("presenter", utc(2026, 12, 17, 18, 0))]);
    let f = forget(&held, 1);
    assert!(!f.names(1), "{f:?}");
    assert!(rota::place_of(&f.rota, 1).is_none());
    assert_eq!(rota::place_of(&f.rota, 2).unwrap().served.len(), 1);
}

#[test]
fn the_next_moment_is_the_soonest_of_a_reminder_an_agenda_and_a_start() {
    let (m, _) = set(&with_rota(&[1]), &setting("2026-12-17"), now()).unwrap();
    assert_eq!(
        next_moment(&m, now()),
        Some(utc(2026, 12, 14, 18, 0)),
        "the agenda opens first"
    );
    let (m, _) = remind(&m, 1, 120, false, None).unwrap();
    assert_eq!(
        next_moment(&m, now()),
        Some(utc(2026, 12, 12, 18, 0)),
        "then a five-day reminder"
    );
    assert_eq!(
        next_moment(&m, utc(2026, 12, 15, 0, 0)),
        Some(utc(2026, 12, 17, 18, 0)),
        "then the start"
    );
    assert_eq!(next_moment(&Meetings::default(), now()), None);
}

/// A member's tag as the store makes one: different in every quarter.
fn tag(member: u64, q: Quarter) -> u64 {
    member * 100_000 + q.year as u64 * 10 + u64::from(q.q)
}

#[test]
fn meetings_are_tallied_once_by_their_quarter_with_their_items_even_after_a_gap() {
    let (m, _) = set(&with_rota(&[1, 2, 3]), &setting("2026-12-17"), now()).unwrap();
    // The first tally only starts the count.
    let m = tally(&m, now(), tag).unwrap();
    assert!(m.tallies.is_empty());
    assert_eq!(tally(&m, now(), tag), None, "nothing began since");
    let open = utc(2026, 12, 15, 9, 0);
    let (m, _) = bring(&m, 1, 20, None, None, open).unwrap();
    let (m, _) = bring(&m, 2, 20, Some("Endings"), None, open).unwrap();

    // The bot was away from before the meeting until after it ended: the
    // tidy keeps the items until the meeting is tallied.
    let after = utc(2026, 12, 18, 9, 0);
    let kept = tidy(&m, after).unwrap_or_else(|| m.clone());
    assert_eq!(kept.items.len(), 2, "{kept:?}");
    let counted = tally(&kept, after, tag).unwrap();
    let q4 = Quarter { year: 2026, q: 4 };
    assert_eq!(counted.tallies.len(), 1);
    assert_eq!(counted.tallies[0].quarter, Some(q4));
    assert_eq!(counted.tallies[0].held, 1);
    let mut by: Vec<_> = counted.tallies[0].bringers.clone();
    by.sort();
    assert_eq!(by, [(tag(1, q4), 1), (tag(2, q4), 1)]);
    assert_eq!(tally(&counted, after, tag), None, "counted once");
    let tidied = tidy(&counted, after).unwrap();
    assert!(tidied.items.is_empty(), "gone once tallied");

    // The next meetings fall on 31 December and 14 January: two quarters.
    let later = tally(&tidied, utc(2027, 1, 14, 19, 0), tag).unwrap();
    let held: Vec<_> = later.tallies.iter().map(|t| (t.quarter, t.held)).collect();
    assert_eq!(
        held,
        [(Some(q4), 2), (Some(Quarter { year: 2027, q: 1 }), 1)]
    );

    // A cancelled meeting is not held.
    let (c, _) = cancel(&later, "2027-01-28", utc(2027, 1, 20, 9, 0)).unwrap();
    let c = tally(&c, utc(2027, 1, 29, 9, 0), tag).unwrap_or(c);
    assert_eq!(c.tallies.last().unwrap().held, 1, "{:?}", c.tallies);
}

#[test]
fn a_reminders_quiet_hours_are_kept_in_the_members_own_zone() {
    let (m, _) = set(&with_rota(&[1, 2]), &setting("2026-12-17"), now()).unwrap();
    let plan = m.plan.clone().unwrap();
    let o = series::next_occurrences(&plan.series, now(), 1)[0];
    let sydney: Tz = "Australia/Sydney".parse().unwrap();
    let at = |m: &Meetings| reminder_at(&plan, &m.reminders[0], &o);
    // 12 hours before 18:00 in London is 06:00 there, but 17:00 in Sydney:
    // not the member's night, so it comes on time.
    let (theirs, words) = remind(&m, 1, 12, false, Some(sydney)).unwrap();
    assert!(
        words.contains("between 21:00 and 07:00 in your time zone, Australia/Sydney, when it comes at 20:00 before instead"),
        "{words}"
    );
    assert_eq!(at(&theirs), utc(2026, 12, 17, 6, 0));
    let (london, words) = remind(&m, 1, 12, false, None).unwrap();
    assert!(
        words.contains("in the meetings' time zone, Europe/London"),
        "{words}"
    );
    assert_eq!(at(&london), utc(2026, 12, 16, 20, 0));
    // 3 hours before is 15:00 in London but 02:00 in Sydney: moved to
    // 20:00 the evening before there, unless the member allows it.
    let (theirs, _) = remind(&m, 1, 3, false, Some(sydney)).unwrap();
    assert_eq!(at(&theirs), utc(2026, 12, 17, 9, 0));
    let (allowed, words) = remind(&m, 1, 3, true, Some(sydney)).unwrap();
    assert!(
        words.contains(
            "even if that falls between 21:00 and 07:00 in your time zone, Australia/Sydney"
        ),
        "{words}"
    );
    assert_eq!(at(&allowed), utc(2026, 12, 17, 15, 0));
    // The zone is kept with the reminder and read back as it was.
    let json = serde_json::to_string(&theirs).unwrap();
    let back: Meetings = serde_json::from_str(&json).unwrap();
    assert_eq!(at(&back), utc(2026, 12, 17, 9, 0));
}

/// Whether the agenda of the meeting of 17 December 2026 is due at `now`:
/// the post to make its thread from, if one was made.
fn agenda_due(m: &Meetings, now: DateTime<Utc>) -> Option<Option<u64>> {
    let slot = NaiveDate::from_ymd_opt(2026, 12, 17).unwrap();
    due(m, now).into_iter().find_map(|d| match d {
        Due::OpenAgenda { occurrence, post } if occurrence.slot == slot => Some(post),
        _ => None,
    })
}

#[test]
fn a_refused_agenda_thread_is_tried_again_from_the_same_post_until_made() {
    let (m, _) = set(&with_rota(&[1, 2]), &setting("2026-12-17"), now()).unwrap();
    let o = series::next_occurrences(&m.plan.as_ref().unwrap().series, now(), 1)[0];
    let open = utc(2026, 12, 14, 18, 0);
    assert_eq!(agenda_due(&m, open), Some(None), "first: post");
    // Posted, then the thread refused: the post is kept, tried in 5 minutes.
    let posted = agenda_posted(&m, &o, 77, open);
    let m = agenda_not_opened(&posted, &o, Some(77), open);
    assert_eq!(agenda_due(&m, open), None);
    assert_eq!(agenda_due(&m, open + Duration::minutes(4)), None);
    assert_eq!(next_moment(&m, open), Some(open + Duration::minutes(5)));
    let view_words = view(&m, &names(), "in Room 4", open);
    assert!(
        view_words.contains(
            "\nIts agenda is open (its thread is still being opened): nothing brought yet."
        ),
        "{view_words}"
    );
    // The next try makes the thread from the same post, not a new one.
    let retry = open + Duration::minutes(5);
    assert_eq!(agenda_due(&m, retry), Some(Some(77)));
    // Refused again: twice the wait.
    let m2 = agenda_not_opened(&m, &o, Some(77), retry);
    assert_eq!(next_moment(&m2, retry), Some(retry + Duration::minutes(10)));
    // Made: nothing more is due, the post is kept, and no one is told more.
    let made = agenda_opened(&m, &o, 900);
    assert_eq!(agenda_due(&made, retry + Duration::days(1)), None);
    assert_eq!(made.agendas[0].post, Some(77));
    assert_eq!(made.agendas[0].thread, Some(900));
    let view_words = view(&made, &names(), "in Room 4", retry);
    assert!(
        view_words.contains("\nIts agenda is open: nothing brought yet."),
        "{view_words}"
    );
    // The post found gone: the next try posts again.
    let gone = agenda_not_opened(&m, &o, None, retry);
    assert_eq!(agenda_due(&gone, retry + Duration::minutes(10)), Some(None));
    // A post kept before a crash took the thread's answer is tried at once.
    assert_eq!(agenda_due(&posted, open), Some(Some(77)));
}

#[test]
fn an_agenda_kept_before_retries_without_its_thread_is_tried_at_the_next_pass() {
    let (m, _) = set(&with_rota(&[1, 2]), &setting("2026-12-17"), now()).unwrap();
    let o = series::next_occurrences(&m.plan.as_ref().unwrap().series, now(), 1)[0];
    let open = utc(2026, 12, 14, 18, 0);
    // Read from the shape kept before tries were counted: its thread is due
    // at whatever pass comes first, as after a failed try, and with no
    // post kept the try posts the opening afresh.
    let mut m = m;
    m.agendas = vec![serde_json::from_str(r#"{"slot":"2026-12-17","thread":null}"#).unwrap()];
    assert_eq!(m.agendas[0].post, None);
    for t in [
        open,
        open + Duration::hours(1),
        o.starts - Duration::minutes(1),
    ] {
        assert_eq!(agenda_due(&m, t), Some(None), "at {t}");
    }
    let view_words = view(&m, &names(), "in Room 4", open);
    assert!(
        view_words.contains("Its agenda is open (its thread is still being opened)"),
        "{view_words}"
    );
    // Not once its meeting has begun.
    assert_eq!(agenda_due(&m, o.starts), None);
    // The same retry as any: posted and refused, it waits; made, it is done.
    let tried = agenda_not_opened(&agenda_posted(&m, &o, 77, open), &o, Some(77), open);
    assert_eq!(tried.agendas[0].retry.map(|r| r.failed), Some(1));
    assert_eq!(agenda_due(&tried, open), None);
    assert_eq!(agenda_due(&tried, open + RETRY_FIRST), Some(Some(77)));
    let made = agenda_opened(&tried, &o, 900);
    assert_eq!(agenda_due(&made, open + Duration::days(1)), None);
    // Such a record whose thread was made is left as it is.
    let opened: Agenda = serde_json::from_str(r#"{"slot":"2026-12-17","thread":900}"#).unwrap();
    assert_eq!(opened.retry, None);
    m.agendas = vec![opened];
    assert_eq!(agenda_due(&m, open), None);
    // And a record with its post and retry, or made, reads back as written.
    for kept in [&tried, &made] {
        let back: Meetings = serde_json::from_str(&serde_json::to_string(kept).unwrap()).unwrap();
        assert_eq!(&back, kept);
    }
}

#[test]
fn the_wait_between_tries_doubles_from_five_minutes_to_an_hour() {
    let waits: Vec<i64> = (1..=7).map(|n| retry_wait(n).num_minutes()).collect();
    assert_eq!(waits, [5, 10, 20, 40, 60, 60, 60]);
    assert_eq!(retry_wait(u32::MAX), RETRY_MOST);
}

proptest! {
    /// However often Discord refuses an agenda's thread, and whenever the
    /// passes come: each try comes once its wait is over, the waits are
    /// five minutes to an hour, every try after the first makes the thread
    /// from the one post, and none comes once the meeting has begun.
    #[test]
    fn an_agenda_thread_is_tried_again_only_before_its_meeting(
        late in proptest::collection::vec(0..90_i64, 1..400),
        opens_late in 0..(3 * 24 * 60_i64),
    ) {
        let (mut m, _) = set(&with_rota(&[1, 2]), &setting("2026-12-17"), now()).unwrap();
        let o = series::next_occurrences(&m.plan.as_ref().unwrap().series, now(), 1)[0];
        let mut t = utc(2026, 12, 14, 18, 0) + Duration::minutes(opens_late);
        let mut posts = 0;
        let mut last: Option<DateTime<Utc>> = None;
        for extra in late {
            if let Some(post) = agenda_due(&m, t) {
                prop_assert!(t < o.starts, "tried at {t}, after the meeting began");
                if let Some(before) = last {
                    let wait = t - before;
                    prop_assert!(wait >= RETRY_FIRST, "{wait}");
                }
                if post.is_none() {
                    posts += 1;
                    m = agenda_posted(&m, &o, 77, t);
                }
                m = agenda_not_opened(&m, &o, Some(77), t);
                let at = m.agendas.iter().find(|a| a.slot == o.slot).unwrap().retry.unwrap().at;
                prop_assert!(at - t >= RETRY_FIRST && at - t <= RETRY_MOST);
                last = Some(t);
            }
            // The scheduler wakes at the next moment, or a pass comes later.
            let Some(wake) = next_moment(&m, t) else { break };
            prop_assert!(wake > t);
            t = wake + Duration::minutes(extra);
            m = tidy(&m, t).unwrap_or(m);
        }
        prop_assert!(posts <= 1, "{posts} opening posts");
    }
}
