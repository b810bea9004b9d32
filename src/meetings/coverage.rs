//! The group's coverage of the framework by quarter, for its convenor,
//! without singling anyone out: the areas members reflected on, the
//! meetings held and the items brought, each counted only where at least
//! [`AT_LEAST`] distinct members contributed, never per member.
//!
//! Nothing here knows who a member is. Reflections are counted when the
//! view is asked for, from the reflections themselves (a forgotten member's
//! are gone, so they count no more). Items brought are kept in the
//! meetings record as keyed tags, one per member and quarter
//! ([`Tally::bringers`]): a tag tells whether two items came from the same
//! member within a quarter and nothing else (it is made with a key only
//! the bot holds, and a member's tags in two quarters differ), and
//! forget-me removes the member's tag from every quarter.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::framework::{DomainId, Framework};

/// The fewest distinct members a count is shown for.
pub(crate) const AT_LEAST: usize = 3;
/// How many quarters of tallies a record keeps.
pub(crate) const KEEP_QUARTERS: usize = 8;

/// A quarter of a year: January to March is the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct Quarter {
    /// The year.
    pub(crate) year: i32,
    /// 1 to 4.
    pub(crate) q: u8,
}

impl Quarter {
    /// The quarter a day falls in.
    pub(crate) fn of(day: NaiveDate) -> Quarter {
        Quarter {
            year: day.year(),
            q: (day.month0() / 3 + 1) as u8,
        }
    }

    /// The quarter `at` falls in, in `zone`.
    pub(crate) fn at(at: DateTime<Utc>, zone: Tz) -> Quarter {
        Quarter::of(at.with_timezone(&zone).date_naive())
    }

    /// Its first day.
    pub(crate) fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, u32::from(self.q) * 3 - 2, 1).unwrap_or_default()
    }

    /// The quarter after it.
    pub(crate) fn next(self) -> Quarter {
        if self.q >= 4 {
            Quarter {
                year: self.year + 1,
                q: 1,
            }
        } else {
            Quarter {
                year: self.year,
                q: self.q + 1,
            }
        }
    }

    /// When it begins and when the next begins, midnight in `zone`.
    pub(crate) fn bounds(self, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let midnight = |day: NaiveDate| {
            zone.from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
                .earliest()
                .map_or_else(
                    || day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
                    |t| t.with_timezone(&Utc),
                )
        };
        (
            midnight(self.first_day()),
            midnight(self.next().first_day()),
        )
    }

    /// The bytes a member's tag for this quarter is made over.
    pub(crate) fn bytes(self) -> [u8; 5] {
        let y = self.year.to_be_bytes();
        [y[0], y[1], y[2], y[3], self.q]
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let first = self.first_day();
        let last = self.next().first_day().pred_opt().unwrap_or(first);
        write!(
            f,
            "{} to {}",
            first.format("%-d %B"),
            last.format("%-d %B %Y")
        )
    }
}

/// One quarter's meetings: how many were held and who brought items, as
/// tags.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Tally {
    /// The quarter.
    pub(crate) quarter: Option<Quarter>,
    /// Meetings held (begun, not cancelled).
    pub(crate) held: u16,
    /// Each member who brought items, as their tag for the quarter, and
    /// how many items.
    pub(crate) bringers: Vec<(u64, u16)>,
}

/// The tallies with a held meeting of `quarter` added, and the items
/// brought to it by the members whose tags are given (one per item).
pub(crate) fn held(tallies: &[Tally], quarter: Quarter, items_by: &[u64]) -> Vec<Tally> {
    let mut out = tallies.to_vec();
    let at = match out.iter().position(|t| t.quarter == Some(quarter)) {
        Some(i) => i,
        None => {
            out.push(Tally {
                quarter: Some(quarter),
                ..Tally::default()
            });
            out.len() - 1
        }
    };
    let tally = &mut out[at];
    tally.held = tally.held.saturating_add(1);
    for tag in items_by {
        match tally.bringers.iter_mut().find(|(t, _)| t == tag) {
            Some((_, n)) => *n = n.saturating_add(1),
            None => tally.bringers.push((*tag, 1)),
        }
    }
    out.sort_by_key(|t| t.quarter);
    let drop = out.len().saturating_sub(KEEP_QUARTERS);
    out.drain(..drop);
    out
}

/// The tallies without the member whose tag in each quarter `tag_in`
/// gives (forget-me), and whether any held them.
pub(crate) fn without(tallies: &[Tally], tag_in: impl Fn(Quarter) -> u64) -> (Vec<Tally>, bool) {
    let mut out = tallies.to_vec();
    let mut found = false;
    for t in &mut out {
        let Some(q) = t.quarter else { continue };
        let tag = tag_in(q);
        let before = t.bringers.len();
        t.bringers.retain(|(b, _)| *b != tag);
        found |= t.bringers.len() != before;
    }
    (out, found)
}

/// An area of the framework: its domain and number.
pub(crate) type AreaId = (DomainId, u8);

/// The convenor's view of `quarter`: `areas_by_member` holds, for each
/// member who reflected in this server during the quarter, the areas of
/// the competences they tagged (in no particular order, naming no one).
pub(crate) fn view(
    framework: &Framework,
    quarter: Quarter,
    tally: Option<&Tally>,
    areas_by_member: &[BTreeSet<AreaId>],
) -> String {
    let mut members_per_area: BTreeMap<AreaId, usize> = BTreeMap::new();
    for areas in areas_by_member {
        for area in areas {
            *members_per_area.entry(*area).or_default() += 1;
        }
    }
    let mut out = format!(
        "The group this quarter ({quarter}), counted only where at least {AT_LEAST} members took part, never per member."
    );
    let held = tally.map_or(0, |t| t.held);
    out.push_str(&format!(
        "\nMeetings held: {held}{}.",
        if held == 0 {
            " (a meeting counts once it has begun)"
        } else {
            ""
        }
    ));
    let bringers = tally.map_or(0, |t| t.bringers.len());
    if bringers >= AT_LEAST {
        let items: u32 = tally
            .map(|t| t.bringers.iter().map(|(_, n)| u32::from(*n)).sum())
            .unwrap_or(0);
        out.push_str(&format!("\nItems brought: {items}, by {bringers} members."));
    } else {
        out.push_str(&format!(
            "\nItems brought: not shown until at least {AT_LEAST} members have brought one this quarter."
        ));
    }
    let name = |(domain, number): AreaId| {
        let title = framework
            .area(domain, number)
            .map(|a| a.title.clone())
            .unwrap_or_default();
        format!("{} {number} ({title})", domain_word(domain))
    };
    let reached: Vec<String> = framework
        .areas()
        .iter()
        .map(|a| (a.domain, a.number))
        .filter_map(|id| {
            let n = members_per_area.get(&id).copied().unwrap_or(0);
            (n >= AT_LEAST).then(|| format!("{}: {n} members", name(id)))
        })
        .collect();
    let not_yet: Vec<String> = framework
        .areas()
        .iter()
        .map(|a| (a.domain, a.number))
        .filter(|id| members_per_area.get(id).copied().unwrap_or(0) < AT_LEAST)
        .map(name)
        .collect();
    if reached.is_empty() {
        out.push_str(&format!(
            "\nAreas reflected on: none yet by {AT_LEAST} members or more."
        ));
    } else {
        out.push_str("\nAreas reflected on:");
        for line in reached {
            out.push_str(&format!("\n• {line}"));
        }
    }
    if !not_yet.is_empty() {
        out.push_str(&format!(
            "\nNot yet reflected on by {AT_LEAST} members: {}.",
            not_yet.join("; ")
        ));
    }
    out.push_str("\nOnly reflections written in this server and tagged with a competence count; what anyone wrote is never read out.");
    out
}

fn domain_word(domain: DomainId) -> &'static str {
    match domain {
        DomainId::Core => "Core",
        DomainId::Integration => "Integration",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(year: i32, q: u8) -> Quarter {
        Quarter { year, q }
    }

    #[test]
    fn quarters_begin_and_end_on_their_days_in_the_zone() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(Quarter::of(day(2026, 3, 31)), q(2026, 1));
        assert_eq!(Quarter::of(day(2026, 4, 1)), q(2026, 2));
        assert_eq!(Quarter::of(day(2026, 12, 31)), q(2026, 4));
        assert_eq!(q(2026, 4).next(), q(2027, 1));
        assert_eq!(q(2026, 4).to_string(), "1 October to 31 December 2026");
        let zone: Tz = "Europe/London".parse().unwrap();
        let (from, to) = q(2026, 2).bounds(zone);
        // Midnight in London, on summer time at both ends.
        assert_eq!(from, Utc.with_ymd_and_hms(2026, 3, 31, 23, 0, 0).unwrap());
        assert_eq!(to, Utc.with_ymd_and_hms(2026, 6, 30, 23, 0, 0).unwrap());
        // 23:30 on 31 December in New York is already the next year in UTC.
        let ny: Tz = "America/New_York".parse().unwrap();
        let late = Utc.with_ymd_and_hms(2027, 1, 1, 4, 30, 0).unwrap();
        assert_eq!(Quarter::at(late, ny), q(2026, 4));
    }

    #[test]
    fn a_count_shows_only_from_three_distinct_members() {
        let framework = Framework::builtin().unwrap();
        let c1 = (DomainId::Core, 1);
        let i3 = (DomainId::Integration, 3);
        for members in 0..6usize {
            // Each member reflected on core area 1; one of them on integration 3 too.
            let mut areas: Vec<BTreeSet<AreaId>> =
                (0..members).map(|_| BTreeSet::from([c1])).collect();
            if let Some(first) = areas.first_mut() {
                first.insert(i3);
            }
            // The same members bringing many items count once each.
            let tags: Vec<u64> = (0..members as u64).flat_map(|t| [t, t]).collect();
            let tally = held(&[], q(2026, 4), &tags);
            let words = view(&framework, q(2026, 4), tally.first(), &areas);
            let shown = words.contains("Core 1 (");
            let core1_line = format!(
                "Core 1 ({}): {members} members",
                framework.area(DomainId::Core, 1).unwrap().title
            );
            assert_eq!(
                words.contains(&core1_line),
                members >= AT_LEAST,
                "{members}: {words}"
            );
            assert!(shown, "named in one list or the other: {words}");
            assert!(
                !words.contains("Integration 3 (") || words.contains("Not yet reflected on"),
                "{words}"
            );
            assert!(!words.contains(": 1 members"), "{words}");
            assert_eq!(
                words.contains(&format!(
                    "Items brought: {}, by {members} members.",
                    members * 2
                )),
                members >= AT_LEAST,
                "{members}: {words}"
            );
            assert!(words.contains("Meetings held: 1."), "{words}");
        }
    }

    #[test]
    fn forget_me_takes_a_member_out_of_every_quarter_and_old_quarters_go() {
        let mut tallies = Vec::new();
        for (i, quarter) in [q(2024, 1), q(2024, 2), q(2026, 4)].into_iter().enumerate() {
            // Member 7's tag differs by quarter, as the store makes them.
            let tag = 7_000 + i as u64;
            tallies = held(&tallies, quarter, &[tag, 1, 2]);
        }
        let tag_in = |quarter: Quarter| match quarter {
            Quarter { year: 2024, q: 1 } => 7_000,
            Quarter { year: 2024, q: 2 } => 7_001,
            _ => 7_002,
        };
        let (after, found) = without(&tallies, tag_in);
        assert!(found);
        assert!(after.iter().all(|t| t.bringers.len() == 2), "{after:?}");
        assert!(after.iter().all(|t| t.held == 1));
        let (again, found) = without(&after, tag_in);
        assert!(!found);
        assert_eq!(again, after);

        let mut many = Vec::new();
        let mut quarter = q(2024, 1);
        let mut last = quarter;
        for _ in 0..(KEEP_QUARTERS + 3) {
            many = held(&many, quarter, &[]);
            last = quarter;
            quarter = quarter.next();
        }
        assert_eq!(many.len(), KEEP_QUARTERS);
        assert_eq!(many.last().unwrap().quarter, Some(last));
        assert_eq!(many.first().unwrap().quarter, Some(q(2024, 4)));
    }
}
