//! What a member's own export holds of the group's meetings, server by
//! server: their place on the rota (on it or left, when they last served
//! each role, the roles they stay first in line for, the role they hold at
//! the next meeting), the items they brought to agendas, and their meeting
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
                for (role, at) in &place.last_served {
                    md.push_str(&format!("- Last served as {role}: {}.\n", day(*at)));
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
            let from = match (i.reflection, i.presentation) {
                (Some(n), _) => format!(", from my reflection #{n}"),
                (None, Some(n)) => format!(", from my case presentation #{n}"),
                (None, None) => String::new(),
            };
            md.push_str(&format!(
                "- An item for the meeting of {} ({} minutes), shown as \"{}\"{from}.\n",
                i.meeting,
                i.minutes,
                i.label.as_deref().unwrap_or("an item from a member")
            ));
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
}
