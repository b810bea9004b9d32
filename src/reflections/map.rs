//! A member's competence map: for each area, which competences their
//! reflections have touched (how often, how lately) and which not yet, and a
//! gentle suggestion of a gap to reflect on next.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::{Entry, Summary};
use crate::framework::{CompetenceId, Framework};
use crate::render::{Card, Field, fit, limits};

/// How much one competence has been reflected on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Touch {
    /// Reflections tagged with it.
    pub count: u32,
    /// The newest of them.
    pub last: DateTime<Utc>,
}

/// Coverage of the framework by one member's reflections: each entry counts
/// once, so the parts of one long text count as one reflection.
pub fn coverage(reflections: &[Summary]) -> HashMap<CompetenceId, Touch> {
    let mut map: HashMap<CompetenceId, Touch> = HashMap::new();
    let mut counted: HashSet<(Entry, CompetenceId)> = HashSet::new();
    for r in reflections {
        let entry = Entry::of(r.id, r.created, &r.heading);
        for id in &r.competences {
            let touch = map.entry(*id).or_insert(Touch {
                count: 0,
                last: r.created,
            });
            if counted.insert((entry, *id)) {
                touch.count += 1;
            }
            touch.last = touch.last.max(r.created);
        }
    }
    map
}

/// How many entries the reflections make: the parts of one long text are one.
pub fn entries(reflections: &[Summary]) -> usize {
    reflections
        .iter()
        .map(|r| Entry::of(r.id, r.created, &r.heading))
        .collect::<HashSet<_>>()
        .len()
}

/// A gap worth reflecting on next: in the area with the least coverage, the
/// first competence not yet touched.
pub fn suggest_gap(
    framework: &Framework,
    touched: &HashMap<CompetenceId, Touch>,
) -> Option<CompetenceId> {
    framework
        .areas()
        .iter()
        .filter_map(|area| {
            let ids: Vec<CompetenceId> = framework.competences_in(area).map(|c| c.id).collect();
            let done = ids.iter().filter(|id| touched.contains_key(id)).count();
            let gap = ids.iter().find(|id| !touched.contains_key(id)).copied()?;
            // Fewest touched relative to size first; ties keep framework order.
            Some(((done * 1000) / ids.len().max(1), gap))
        })
        .min_by_key(|(ratio, _)| *ratio)
        .map(|(_, gap)| gap)
}

/// The map as a card: one field per domain, one line per area saying how
/// many of its competences were reflected on ("3 of 8 competences") and then
/// showing it as a bar of touched (▰) and untouched (▱), then what was
/// touched.
pub fn map_card(
    framework: &Framework,
    touched: &HashMap<CompetenceId, Touch>,
    total: usize,
) -> Card {
    let all = framework.competences().len();
    let done = framework
        .competences()
        .iter()
        .filter(|c| touched.contains_key(&c.id))
        .count();
    let mut card = Card {
        title: "Your competence map".to_string(),
        description: format!(
            "{total} reflection{} touching {done} of {all} competences.",
            if total == 1 { "" } else { "s" }
        ),
        ..Card::default()
    };
    for domain in framework.domains() {
        let mut value = String::new();
        for area in framework.areas().iter().filter(|a| a.domain == domain.id) {
            let ids: Vec<CompetenceId> = framework.competences_in(area).map(|c| c.id).collect();
            let bar: String = ids
                .iter()
                .map(|id| {
                    if touched.contains_key(id) {
                        '▰'
                    } else {
                        '▱'
                    }
                })
                .collect();
            let n = ids.iter().filter(|id| touched.contains_key(id)).count();
            // The words come first, so a screen reader says "3 of 8
            // competences" before (or instead of) the bar's symbols.
            // Labelled as `/competence` opens an area ("core area 3").
            let _ = writeln!(
                value,
                "**{} area {}** {n} of {} competence{} {bar}",
                domain.id.label(),
                area.number,
                ids.len(),
                if ids.len() == 1 { "" } else { "s" }
            );
            let seen: Vec<String> = ids
                .iter()
                .filter_map(|id| touched.get(id).map(|t| (id, t)))
                .map(|(id, t)| format!("{} ×{} ({})", id.short(), t.count, t.last.format("%-d %b")))
                .collect();
            if !seen.is_empty() {
                let _ = writeln!(value, "{}", seen.join(" · "));
            }
        }
        card.fields.push(Field {
            name: fit(&domain.title, limits::FIELD_NAME),
            value: fit(value.trim_end(), limits::FIELD_VALUE),
        });
    }
    if let Some(gap) = suggest_gap(framework, touched).and_then(|id| framework.competence(id)) {
        card.fields.push(Field {
            name: "A gap to reflect on next".to_string(),
            value: fit(
                &format!("**{}** {}", gap.id.short(), gap.statement),
                limits::FIELD_VALUE,
            ),
        });
    }
    card.footer =
        "In each bar, ▰ is a competence reflected on and ▱ one not yet. `/competence core area 3` opens an area, `/competence C3.5` a competence. Counts only: the map never shows what you wrote.".to_string();
    card
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reflections::{Mode, Reflection};

    fn summaries(rs: &[Reflection]) -> Vec<Summary> {
        rs.iter().map(Summary::of).collect()
    }

    fn reflection(id: u64, tags: &[&str], day: u32) -> Reflection {
        use chrono::TimeZone;
        Reflection {
            id,
            author: 1,
            created: Utc.with_ymd_and_hms(2026, 11, day, 9, 0, 0).unwrap(),
            edited: None,
            title: String::new(),
            text: "x".into(),
            competences: tags.iter().map(|t| t.parse().unwrap()).collect(),
            model: "free".into(),
            framework: "f".into(),
            framework_version: "1".into(),
            mode: Mode::Coaching,
            minutes: None,
            shared: Vec::new(),
            discussed: false,
            guild: None,
        }
    }

    #[test]
    fn coverage_counts_and_keeps_the_latest_date() {
        let rs = [
            reflection(1, &["core:3.5"], 1),
            reflection(2, &["core:3.5", "core:1.1"], 5),
        ];
        let c = coverage(&summaries(&rs));
        let t = c[&"core:3.5".parse().unwrap()];
        assert_eq!(t.count, 2);
        assert_eq!(t.last.format("%d").to_string(), "05");
        assert_eq!(c.len(), 2);
    }

    /// The parts of one long text, saved at one instant, count once.
    #[test]
    fn the_parts_of_one_text_count_once() {
        let mut rs: Vec<Reflection> = (1..=3)
            .map(|i| {
                let mut r = reflection(i, &["core:3.5"], 2);
                r.title = format!("Long (part {i} of 3)");
                r
            })
            .collect();
        rs.push(reflection(4, &["core:3.5"], 2));
        let all = summaries(&rs);
        assert_eq!(coverage(&all)[&"core:3.5".parse().unwrap()].count, 2);
        assert_eq!(entries(&all), 2);
    }

    #[test]
    fn the_suggested_gap_is_in_the_least_covered_area() {
        let f = Framework::builtin().unwrap();
        let rs = [reflection(1, &["core:1.1"], 1)];
        let gap = suggest_gap(&f, &coverage(&summaries(&rs))).unwrap();
        assert_eq!(
            gap.to_string(),
            "core:2.1",
            "core area 1 has one; core 2 has none"
        );
    }

    #[test]
    fn the_map_fits_discord_and_shows_counts_not_text() {
        let f = Framework::builtin().unwrap();
        let rs = [reflection(1, &["core:3.5", "integration:4.4"], 3)];
        let card = map_card(&f, &coverage(&summaries(&rs)), 1);
        assert!(
            card.fields[0]
                .value
                .contains("**Core area 3** 1 of 10 competences ▱▱▱▱▰▱▱▱▱▱"),
            "{}",
            card.fields[0].value
        );
        // Every bar has its words, before it.
        for field in card.fields.iter().take(2) {
            for line in field
                .value
                .lines()
                .filter(|l| l.contains('▱') || l.contains('▰'))
            {
                let words = line.find(" competence").expect(line);
                let bar = line.find(['▱', '▰']).expect(line);
                assert!(words < bar, "{line}");
                assert!(line.contains(" of "), "{line}");
            }
        }
        assert!(card.fields[0].value.contains("C3.5 ×1 (3 Nov)"));
        // Every area label opens with /competence as it is written.
        let l = crate::Library::builtin().unwrap();
        for field in card.fields.iter().take(2) {
            for line in field.value.lines().filter(|l| l.starts_with("**")) {
                let label = line.trim_start_matches("**").split("**").next().unwrap();
                assert!(l.lookup(label).is_ok(), "{label} does not open");
            }
        }
        assert!(
            card.fields
                .iter()
                .all(|fl| fl.value.chars().count() <= limits::FIELD_VALUE)
        );
        assert!(card.description.contains("1 reflection touching 2 of 60"));
    }
}
