//! What a member's own export holds of the group's meetings, server by
//! server: their place on the rota (on it or left, every role they served
//! at each meeting held as far as the rota's history keeps it, when they
//! last served each role, the roles they stay first in line for, the role
//! they hold at the next meeting), the items they brought to agendas, and their meeting
//! reminder. Only records that name the member; nothing of anyone else.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::group::Meetings;
use super::rota::{self, Place};

/// One server's records of one member.
#[derive(Debug, Serialize)]
pub(crate) struct ServerRecord {
    /// The server (Discord's id).
    pub(crate) server: u64,
    /// Their place on its rota, if they ever joined it.
    pub(crate) rota: Option<Place>,
    /// The items they have on its agendas.
    pub(crate) items: Vec<ItemRecord>,
    /// Their reminder of its meetings, if they asked for one.
    pub(crate) reminder: Option<ReminderRecord>,
}

/// An item the member brought.
#[derive(Debug, Serialize)]
pub(crate) struct ItemRecord {
    /// The meeting's date.
    pub(crate) meeting: NaiveDate,
    /// Minutes asked for.
    pub(crate) minutes: u16,
    /// What the agenda shows (none: "an item from a member").
    pub(crate) label: Option<String>,
    /// The member's reflection it comes from, if any.
    pub(crate) reflection: Option<u64>,
    /// The member's case presentation it comes from, if any.
    pub(crate) presentation: Option<u64>,
}

/// The member's meeting reminder.
#[derive(Debug, Serialize)]
pub(crate) struct ReminderRecord {
    /// Hours before each meeting.
    pub(crate) lead_hours: u16,
    /// Whether it may come in quiet hours.
    pub(crate) in_quiet_hours: bool,
    /// The time zone its quiet hours are kept in, if the member gave one.
    pub(crate) zone: Option<String>,
}

/// `member`'s records in every server whose meetings name them.
pub(crate) fn records_of(all: &[(u64, Meetings)], member: u64) -> Vec<ServerRecord> {
    all.iter()
        .filter(|(_, m)| m.names(member))
        .map(|(server, m)| ServerRecord {
            server: *server,
            rota: rota::place_of(&m.rota, member),
            items: m
                .items
                .iter()
                .filter(|i| i.member == member)
                .map(|i| ItemRecord {
                    meeting: i.slot,
                    minutes: i.minutes,
                    label: i.label.clone(),
                    reflection: i.reflection,
                    presentation: i.presentation,
                })
                .collect(),
            reminder: m
                .reminders
                .iter()
                .find(|r| r.member == member)
                .map(|r| ReminderRecord {
                    lead_hours: r.lead_hours,
                    in_quiet_hours: r.in_quiet_hours,
                    zone: r.zone.clone(),
                }),
        })
        .collect()
}

fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// The line that says the member served `role` at the meeting that started
/// `at`.
fn served_line(role: &str, at: DateTime<Utc>) -> String {
    format!("- Served as {role} at the meeting of {}.\n", day(at))
}

/// The line for a last service the rota's history does not hold (recorded
/// before the rota kept each service).
fn last_only_line(role: &str, at: DateTime<Utc>) -> String {
    format!(
        "- Last served as {role}: {} (recorded before the rota kept every service; earlier ones were not kept).\n",
        day(at)
    )
}

/// Each role's last service that the history does not hold.
fn last_only(place: &Place) -> impl Iterator<Item = (&'static str, DateTime<Utc>)> + '_ {
    place
        .last_served
        .iter()
        .map(|(role, at)| (*role, *at))
        .filter(|last| !place.served.contains(last))
}

/// What an item's own record is written from: its reflection or case
/// presentation, in words after "from", or nothing.
fn item_source(i: &ItemRecord) -> Option<String> {
    match (i.reflection, i.presentation) {
        (Some(n), _) => Some(format!("my reflection #{n}")),
        (None, Some(n)) => Some(format!("my case presentation #{n}")),
        (None, None) => None,
    }
}

/// What the agenda shows of an item: the label the member chose, or the
/// words shown for an item without one.
fn item_label(i: &ItemRecord) -> &str {
    i.label.as_deref().unwrap_or("an item from a member")
}

/// The line that says the member brought item `i`.
fn item_line(i: &ItemRecord) -> String {
    let from = item_source(i).map_or(String::new(), |f| format!(", from {f}"));
    format!(
        "- An item for the meeting of {} ({} minutes), shown as \"{}\"{from}.\n",
        i.meeting,
        i.minutes,
        item_label(i)
    )
}

/// The records as Markdown, for reading.
pub(crate) fn markdown(records: &[ServerRecord]) -> String {
    let mut md = String::from("# My part in my groups' meetings\n");
    for r in records {
        md.push_str(&format!("\n## Server {}\n\n", r.server));
        match &r.rota {
            None => md.push_str("- Never on the rota.\n"),
            Some(place) => {
                md.push_str(if place.on_rota {
                    "- On the rota.\n"
                } else {
                    "- Left the rota (my history is kept for when I rejoin).\n"
                });
                for (role, at) in &place.served {
                    md.push_str(&served_line(role, *at));
                }
                for (role, at) in last_only(place) {
                    md.push_str(&last_only_line(role, at));
                }
                for role in &place.first_in_line_for {
                    md.push_str(&format!("- First in line as {role} (I passed).\n"));
                }
                if let Some((role, starts)) = place.holds {
                    md.push_str(&format!("- {role} at the meeting of {}.\n", day(starts)));
                }
            }
        }
        for i in &r.items {
            md.push_str(&item_line(i));
        }
        if let Some(rem) = &r.reminder {
            md.push_str(&format!(
                "- Reminded {} hours before each meeting{}{}.\n",
                rem.lead_hours,
                if rem.in_quiet_hours {
                    ", in quiet hours too"
                } else {
                    ""
                },
                rem.zone
                    .as_deref()
                    .map_or(String::new(), |z| format!(" (quiet hours in {z})"))
            ));
        }
    }
    md
}

/// A member's practice at one server's meetings within a period, for their
/// CPD record: every role they served at meetings in it (as far as the
/// rota's history keeps them), the role they hold at a meeting in it that
/// has begun (served, though the rota records it only once the next meeting
/// is given roles), and the items they brought to its meetings. A last
/// service recorded before the rota kept each one is there as the last.
#[derive(Debug)]
pub(crate) struct Practice<'a> {
    /// The server (Discord's id).
    pub(crate) server: u64,
    /// Each role served at a meeting in the period, with its start, oldest
    /// first.
    pub(crate) served: Vec<(&'static str, DateTime<Utc>)>,
    /// Each role last served at a meeting in the period that the history
    /// does not hold (recorded before the rota kept every service).
    pub(crate) last_only: Vec<(&'static str, DateTime<Utc>)>,
    /// The role held at a meeting in the period that has begun.
    pub(crate) serving: Option<(&'static str, DateTime<Utc>)>,
    /// The items brought to meetings in the period, up to today's.
    pub(crate) items: Vec<&'a ItemRecord>,
}

impl Practice<'_> {
    /// The days it names: each meeting served at or brought to.
    pub(crate) fn days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.served
            .iter()
            .chain(&self.last_only)
            .chain(&self.serving)
            .map(|(_, at)| at.date_naive())
            .chain(self.items.iter().map(|i| i.meeting))
    }
}

/// The practice in `records` at meetings on the days `within` keeps (a
/// meeting's start read as its UTC date, an item by its meeting's date), as
/// things stand at `now`; a server with none is left out.
pub(crate) fn practice_within(
    records: &[ServerRecord],
    within: impl Fn(NaiveDate) -> bool,
    now: DateTime<Utc>,
) -> Vec<Practice<'_>> {
    records
        .iter()
        .map(|r| {
            let place = r.rota.as_ref();
            Practice {
                server: r.server,
                served: place
                    .map(|p| {
                        p.served
                            .iter()
                            .filter(|(_, at)| within(at.date_naive()))
                            .copied()
                            .collect()
                    })
                    .unwrap_or_default(),
                last_only: place
                    .map(|p| {
                        last_only(p)
                            .filter(|(_, at)| within(at.date_naive()))
                            .collect()
                    })
                    .unwrap_or_default(),
                serving: place
                    .and_then(|p| p.holds)
                    .filter(|(_, starts)| *starts <= now && within(starts.date_naive())),
                // An item counts once its meeting's day has come: one
                // brought to a meeting still ahead is a plan, not practice.
                items: r
                    .items
                    .iter()
                    .filter(|i| within(i.meeting) && i.meeting <= now.date_naive())
                    .collect(),
            }
        })
        .filter(|p| p.days().next().is_some())
        .collect()
}

/// One server's practice in Markdown, under a heading of its own.
pub(crate) fn practice_markdown(p: &Practice<'_>) -> String {
    let mut md = format!("\n### Server {}\n\n", p.server);
    for (role, at) in &p.served {
        md.push_str(&served_line(role, *at));
    }
    for (role, at) in &p.last_only {
        md.push_str(&last_only_line(role, *at));
    }
    if let Some((role, starts)) = p.serving {
        md.push_str(&format!(
            "- Serving as {role} at the meeting of {}: it has begun; the rota records it as served once the next meeting is given roles.\n",
            day(starts)
        ));
    }
    for i in &p.items {
        md.push_str(&item_line(i));
    }
    md
}

/// The columns of [`practice_rows`], in order.
pub(crate) const PRACTICE_COLUMNS: [&str; 8] = [
    "membership_year",
    "server",
    "date",
    "record",
    "role",
    "minutes",
    "shown_as",
    "from",
];

/// One server's practice as CSV rows under [`PRACTICE_COLUMNS`], each
/// beginning with `year`.
pub(crate) fn practice_rows(p: &Practice<'_>, year: &str) -> Vec<Vec<String>> {
    let role_row = |record: &str, role: &str, at: DateTime<Utc>| {
        vec![
            year.to_string(),
            p.server.to_string(),
            day(at),
            record.to_string(),
            role.to_string(),
            String::new(),
            String::new(),
            String::new(),
        ]
    };
    let mut rows: Vec<Vec<String>> = p
        .served
        .iter()
        .map(|(role, at)| role_row("role served", role, *at))
        .chain(
            p.last_only
                .iter()
                .map(|(role, at)| role_row("role last served", role, *at)),
        )
        .collect();
    if let Some((role, starts)) = p.serving {
        rows.push(role_row("role at a meeting begun", role, starts));
    }
    for i in &p.items {
        rows.push(vec![
            year.to_string(),
            p.server.to_string(),
            i.meeting.to_string(),
            "agenda item".to_string(),
            String::new(),
            i.minutes.to_string(),
            item_label(i).to_string(),
            item_source(i).unwrap_or_default(),
        ]);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meetings::group::{Item, MeetingReminder};

    #[test]
    fn only_the_members_own_records_are_kept_and_every_one_is_written() {
        let mut m = Meetings::default();
        for (member, label) in [(1, Some("Endings".to_string())), (2, None)] {
            m.items.push(Item {
                slot: NaiveDate::from_ymd_opt(2027, 1, 14).unwrap(),
                member,
                minutes: 20,
                label,
                reflection: Some(3),
                presentation: None,
            });
        }
        m.reminders.push(MeetingReminder {
            member: 2,
            lead_hours: 24,
            in_quiet_hours: false,
            zone: Some("Australia/Sydney".into()),
            last: None,
        });
        let all = vec![(10, m.clone()), (11, Meetings::default())];
        let mine = records_of(&all, 1);
        assert_eq!(mine.len(), 1, "only the server that names the member");
        assert_eq!(mine[0].items.len(), 1);
        assert!(
            mine[0].reminder.is_none(),
            "another member's reminder is not mine"
        );
        let md = markdown(&mine);
        assert!(md.contains("\"Endings\", from my reflection #3"), "{md}");
        assert!(md.contains("Never on the rota"), "{md}");
        let theirs = markdown(&records_of(&all, 2));
        assert!(theirs.contains("\"an item from a member\""), "{theirs}");
        assert!(
            theirs.contains(
                "Reminded 24 hours before each meeting (quiet hours in Australia/Sydney)."
            ),
            "{theirs}"
        );
        assert!(!theirs.contains("Endings"), "{theirs}");
        assert!(records_of(&all, 3).is_empty());
    }

    /// A CPD record's practice holds the items brought to meetings whose
    /// day has come, never one for a meeting still ahead.
    #[test]
    fn practice_holds_items_of_meetings_come_not_ones_ahead() {
        use chrono::TimeZone;
        let mut m = Meetings::default();
        for day in [7, 14, 21] {
            m.items.push(Item {
                slot: NaiveDate::from_ymd_opt(2027, 1, day).unwrap(),
                member: 1,
                minutes: 20,
                label: None,
                reflection: None,
                presentation: Some(day.into()),
            });
        }
        let records = records_of(&[(10, m)], 1);
        let now = Utc.with_ymd_and_hms(2027, 1, 14, 12, 0, 0).unwrap();
        let practice = practice_within(&records, |_| true, now);
        let days: Vec<u32> = practice[0]
            .items
            .iter()
            .map(|i| chrono::Datelike::day(&i.meeting))
            .collect();
        assert_eq!(days, [7, 14]);
        let before = Utc.with_ymd_and_hms(2027, 1, 6, 12, 0, 0).unwrap();
        assert!(
            practice_within(&records, |_| true, before).is_empty(),
            "nothing come yet: no practice"
        );
    }

    #[test]
    fn every_service_kept_is_written_and_a_last_one_from_before_says_so() {
        use chrono::{Datelike, TimeZone};
        let at = |d| Utc.with_ymd_and_hms(2027, 1, d, 18, 0, 0).unwrap();
        let names: rota::Names = [(1, "Ana".to_string()), (2, "Ben".to_string())].into();
        let both = [1, 2].into();
        let mut r = rota::Rota::default();
        for who in [1, 2] {
            r = rota::join(&r, who, &names).rota;
        }
        // Ana presents on the 7th and 21st and facilitates on the 14th.
        for d in [7, 14, 21] {
            r = rota::allocate(&r, at(d), 1, &both, &names).rota;
        }
        let r = rota::close(&r, true);
        let m = Meetings {
            rota: r,
            ..Meetings::default()
        };
        let md = markdown(&records_of(&[(10, m.clone())], 1));
        for line in [
            "- Served as presenter at the meeting of 2027-01-07.\n",
            "- Served as facilitator at the meeting of 2027-01-14.\n",
            "- Served as presenter at the meeting of 2027-01-21.\n",
        ] {
            assert!(md.contains(line), "{line} in {md}");
        }
        assert!(!md.contains("Last served"), "{md}");
        let records = records_of(&[(10, m.clone())], 1);
        let in_january = practice_within(&records, |d| d.day() <= 14, at(28));
        assert_eq!(
            in_january[0].served,
            vec![("presenter", at(7)), ("facilitator", at(14))]
        );
        assert!(in_january[0].last_only.is_empty());

        // The same rota kept before it had histories: only the last
        // service of each role, said to be so.
        let mut json = serde_json::to_value(&m).unwrap();
        for member in json["rota"]["members"].as_array_mut().unwrap() {
            member.as_object_mut().unwrap().remove("history");
        }
        let old: Meetings = serde_json::from_value(json).unwrap();
        let records = records_of(&[(10, old)], 1);
        let md = markdown(&records);
        assert!(!md.contains("Served as"), "{md}");
        assert!(
            md.contains("- Last served as presenter: 2027-01-21 (recorded before the rota kept every service; earlier ones were not kept).\n")
                && md.contains("- Last served as facilitator: 2027-01-14 ("),
            "{md}"
        );
        let practice = practice_within(&records, |_| true, at(28));
        let rows = practice_rows(&practice[0], "2026");
        assert!(
            rows.iter()
                .any(|r| r[2] == "2027-01-14" && r[3] == "role last served"),
            "{rows:?}"
        );
    }
}
