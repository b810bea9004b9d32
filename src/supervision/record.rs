//! The yearly supervision record, by membership year: hours by kind and by
//! month, against the monthly minimum the member set for themselves (the
//! bot states no figure of its own), the months below it named, and the
//! balance of the three functions. Pure sums over the log.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};

use super::log::{Function, Kind, LogEntry};
use crate::reflections::export::{MembershipYear, month_name};
use crate::reflections::minutes_text;

/// Said wherever hours are set against a member's minimum: the record sums
/// the time as logged, and a professional body may count only part of the
/// time spent in group or peer supervision.
pub const GROUP_TIME: &str = "Hours are summed as you log them, and some professional bodies count only part of the time spent in group or peer supervision (BACP's accreditation rules do): log the time yours lets you count, or read the months with that in mind.";

/// Where a month stands against today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Over: it can be held to a minimum.
    Past,
    /// Under way: counted so far, never called below.
    Current,
    /// Not yet begun.
    Future,
}

/// One month of a membership year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month {
    /// The calendar year it is in.
    pub year: i32,
    /// Its number, 1–12.
    pub month: u32,
    /// Minutes in supervision attended.
    pub minutes: u32,
    /// Where it stands against today.
    pub reach: Reach,
}

impl Month {
    /// "March 2026".
    pub fn label(&self) -> String {
        format!("{} {}", month_name(self.month), self.year)
    }
}

/// Time and sessions of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindLine {
    /// The kind.
    pub kind: Kind,
    /// Minutes attended.
    pub minutes: u32,
    /// Sessions attended.
    pub attended: usize,
    /// Sessions logged as missed.
    pub missed: usize,
}

/// How many attended sessions served a function, and their time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionLine {
    /// The function.
    pub function: Function,
    /// Attended sessions marked with it.
    pub sessions: usize,
    /// Their minutes.
    pub minutes: u32,
}

/// A membership year's supervision record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearRecord {
    /// The membership year.
    pub year: MembershipYear,
    /// Its twelve months, in order.
    pub months: Vec<Month>,
    /// By kind, in [`Kind::ALL`]'s order.
    pub kinds: Vec<KindLine>,
    /// Minutes attended in all.
    pub total: u32,
    /// The member's own monthly minimum, in minutes, if set.
    pub minimum: Option<u32>,
    /// The balance of functions, in Proctor's order.
    pub functions: Vec<FunctionLine>,
    /// Attended sessions with no function marked.
    pub unmarked: usize,
    /// The functions by quarter of the year (three months each), for the
    /// quarters begun: how the balance moves over the year.
    pub quarters: Vec<QuarterFunctions>,
}

/// The sessions marked with each function in one quarter of the year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarterFunctions {
    /// Its first month and its last, as labelled ("April 2026").
    pub from: String,
    /// Its last month.
    pub to: String,
    /// Attended sessions marked with each function, in Proctor's order.
    pub sessions: [usize; 3],
}

/// The twelve months of `year`, first to last, as (calendar year, month).
fn months_of(year: MembershipYear) -> Vec<(i32, u32)> {
    (0..12)
        .map(|i| {
            let m0 = year.starts.clamp(1, 12) - 1 + i;
            (year.year + i32::try_from(m0 / 12).unwrap_or(0), m0 % 12 + 1)
        })
        .collect()
}

/// The record of `year` from `entries` (any years), as of `today`.
pub fn year_record(
    entries: &[LogEntry],
    year: MembershipYear,
    minimum: Option<u32>,
    today: NaiveDate,
) -> YearRecord {
    let in_year: Vec<&LogEntry> = entries
        .iter()
        .filter(|e| MembershipYear::of(e.date, year.starts) == year)
        .collect();
    let this_month = (today.year(), today.month());
    let months: Vec<Month> = months_of(year)
        .into_iter()
        .map(|(y, m)| Month {
            year: y,
            month: m,
            minutes: in_year
                .iter()
                .filter(|e| (e.date.year(), e.date.month()) == (y, m))
                .map(|e| e.minutes)
                .sum(),
            reach: match (y, m).cmp(&this_month) {
                std::cmp::Ordering::Less => Reach::Past,
                std::cmp::Ordering::Equal => Reach::Current,
                std::cmp::Ordering::Greater => Reach::Future,
            },
        })
        .collect();
    let kinds = Kind::ALL
        .into_iter()
        .map(|kind| {
            let of_kind = in_year.iter().filter(|e| e.kind == kind);
            KindLine {
                kind,
                minutes: of_kind.clone().map(|e| e.minutes).sum(),
                attended: of_kind.clone().filter(|e| e.attended).count(),
                missed: of_kind.filter(|e| !e.attended).count(),
            }
        })
        .collect();
    let attended: Vec<&&LogEntry> = in_year.iter().filter(|e| e.attended).collect();
    let functions = Function::ALL
        .into_iter()
        .map(|function| {
            let served = attended.iter().filter(|e| e.functions.contains(&function));
            FunctionLine {
                function,
                sessions: served.clone().count(),
                minutes: served.map(|e| e.minutes).sum(),
            }
        })
        .collect();
    let quarters = months
        .chunks(3)
        .filter(|q| q.first().is_some_and(|m| m.reach != Reach::Future))
        .map(|q| {
            let mut sessions = [0; 3];
            for e in &attended {
                let month = (e.date.year(), e.date.month());
                if !q.iter().any(|m| (m.year, m.month) == month) {
                    continue;
                }
                for (i, f) in Function::ALL.into_iter().enumerate() {
                    if e.functions.contains(&f) {
                        sessions[i] += 1;
                    }
                }
            }
            QuarterFunctions {
                from: q.first().map(Month::label).unwrap_or_default(),
                to: q.last().map(Month::label).unwrap_or_default(),
                sessions,
            }
        })
        .collect();
    YearRecord {
        year,
        months,
        kinds,
        total: in_year.iter().map(|e| e.minutes).sum(),
        minimum,
        functions,
        unmarked: attended.iter().filter(|e| e.functions.is_empty()).count(),
        quarters,
    }
}

/// Hours as a record shows them: "1.5", "0", "12.25".
pub fn hours(minutes: u32) -> String {
    let h = f64::from(minutes) / 60.0;
    let s = format!("{h:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// "1 hour", "1.5 hours", "0 hours".
pub fn hours_words(minutes: u32) -> String {
    match hours(minutes).as_str() {
        "1" => "1 hour".into(),
        h => format!("{h} hours"),
    }
}

impl YearRecord {
    /// The months that are over and below the member's minimum (none when
    /// no minimum is set).
    pub fn below(&self) -> Vec<&Month> {
        match self.minimum {
            Some(min) => self
                .months
                .iter()
                .filter(|m| m.reach == Reach::Past && m.minutes < min)
                .collect(),
            None => Vec::new(),
        }
    }

    /// The functions no attended session served, when any session was
    /// marked at all.
    pub fn functions_missing(&self) -> Vec<Function> {
        if self.functions.iter().all(|f| f.sessions == 0) {
            return Vec::new();
        }
        self.functions
            .iter()
            .filter(|f| f.sessions == 0)
            .map(|f| f.function)
            .collect()
    }

    /// The record in words (Markdown that reads as plain text too).
    pub fn text(&self) -> String {
        let mut t = format!(
            "Supervision record, membership year {}: {} in supervision ({}).\n",
            self.year.label(),
            if self.total == 0 {
                "no time".to_string()
            } else {
                minutes_text(self.total)
            },
            hours_words(self.total)
        );
        t.push_str("\nBy kind:\n");
        for k in &self.kinds {
            let _ = write!(
                t,
                "- {}: {}, {} attended",
                k.kind.label(),
                hours_words(k.minutes),
                k.attended
            );
            if k.missed > 0 {
                let _ = write!(t, ", {} missed", k.missed);
            }
            t.push('\n');
        }
        t.push_str("\nBy month (hours):\n");
        for m in self.months.iter().filter(|m| m.reach != Reach::Future) {
            let so_far = if m.reach == Reach::Current {
                " (so far)"
            } else {
                ""
            };
            let _ = writeln!(t, "- {}: {}{so_far}", m.label(), hours(m.minutes));
        }
        t.push('\n');
        t.push_str(&self.minimum_text());
        t.push_str("\n\n");
        t.push_str(&self.balance_text());
        t
    }

    /// The minimum and the months below it, or that none is set.
    fn minimum_text(&self) -> String {
        let Some(min) = self.minimum else {
            return "You have set no monthly minimum, so hours are shown without one. Your professional body's requirement is yours to set: /log minimum <hours per month>.".into();
        };
        let below = self.below();
        let mut t = format!("Your monthly minimum, as you set it: {}.", hours_words(min));
        if below.is_empty() {
            t.push_str(" No month that is over is below it.");
        } else {
            let named: Vec<String> = below
                .iter()
                .map(|m| {
                    if m.minutes == 0 {
                        format!("{} (nothing logged)", m.label())
                    } else {
                        format!("{} ({})", m.label(), hours_words(m.minutes))
                    }
                })
                .collect();
            let _ = write!(t, " Below it: {}.", named.join(", "));
        }
        if self.months.iter().any(|m| m.reach == Reach::Current) {
            t.push_str(" This month is still under way, so it is not counted as below.");
        }
        t.push(' ');
        t.push_str(GROUP_TIME);
        t
    }

    /// The balance of Proctor's three functions over the attended sessions.
    fn balance_text(&self) -> String {
        let mut t = String::from("Functions served (attended sessions):\n");
        for f in &self.functions {
            let _ = writeln!(
                t,
                "- {} ({}): {} session{}, {}",
                f.function.as_str(),
                f.function.about(),
                f.sessions,
                if f.sessions == 1 { "" } else { "s" },
                hours_words(f.minutes)
            );
        }
        if self.unmarked > 0 {
            let _ = writeln!(t, "- none marked: {}", self.unmarked);
        }
        if !self.quarters.is_empty() {
            let names: Vec<&str> = Function::ALL.iter().map(|f| f.as_str()).collect();
            let _ = writeln!(t, "\nBy quarter (sessions marked {}):", names.join(", "));
            for q in &self.quarters {
                let counts: Vec<String> = q.sessions.iter().map(usize::to_string).collect();
                let _ = writeln!(t, "- {} to {}: {}", q.from, q.to, counts.join(", "));
            }
            t.push('\n');
        }
        let missing = self.functions_missing();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|f| f.as_str()).collect();
            let _ = write!(
                t,
                "No session this year was marked {}: worth raising with your group or supervisor if that is not by choice.",
                names.join(" or ")
            );
        }
        t.trim_end().to_string()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn entry(date: (i32, u32, u32), minutes: u32, kind: Kind, functions: &[Function]) -> LogEntry {
        LogEntry {
            id: 1,
            date: NaiveDate::from_ymd_opt(date.0, date.1, date.2).unwrap(),
            attended: minutes > 0,
            minutes,
            kind,
            took_away: String::new(),
            competences: vec![],
            functions: functions.to_vec(),
            created: Utc::now(),
        }
    }

    #[test]
    fn hours_are_summed_by_kind_and_month_and_months_below_are_named() {
        use Function::*;
        let entries = [
            entry((2026, 3, 10), 90, Kind::Group, &[Formative, Normative]),
            entry((2026, 3, 24), 60, Kind::Individual, &[Formative]),
            entry((2026, 4, 14), 60, Kind::Group, &[]),
            entry((2026, 5, 12), 0, Kind::Group, &[]),
            entry((2026, 2, 1), 45, Kind::Peer, &[Formative]),
            entry((2025, 12, 1), 600, Kind::Group, &[Restorative]),
        ];
        let year = MembershipYear {
            year: 2026,
            starts: 3,
        };
        let today = NaiveDate::from_ymd_opt(2026, 6, 3).unwrap();
        let r = year_record(&entries, year, Some(120), today);
        assert_eq!(
            r.total, 210,
            "February and December fall in the year before"
        );
        assert_eq!(r.months.len(), 12);
        assert_eq!((r.months[0].month, r.months[0].minutes), (3, 150));
        assert_eq!((r.months[11].year, r.months[11].month), (2027, 2));
        let group = r.kinds[0];
        assert_eq!((group.minutes, group.attended, group.missed), (150, 2, 1));
        let below: Vec<String> = r.below().iter().map(|m| m.label()).collect();
        assert_eq!(below, ["April 2026", "May 2026"], "June is under way");
        assert_eq!(r.months[3].reach, Reach::Current);
        let served: Vec<usize> = r.functions.iter().map(|f| f.sessions).collect();
        assert_eq!(served, [1, 2, 0]);
        assert_eq!(r.unmarked, 1);
        assert_eq!(r.functions_missing(), [Restorative]);
        let text = r.text();
        assert!(
            text.contains("Below it: April 2026 (1 hour), May 2026 (nothing logged)."),
            "{text}"
        );
        assert!(
            text.contains("No session this year was marked restorative"),
            "{text}"
        );
        assert!(text.contains("- March 2026: 2.5\n"), "{text}");
        // Set against a minimum, the hours say how they were counted.
        assert!(text.contains(GROUP_TIME), "{text}");
        assert!(
            !text.contains("July 2026"),
            "months to come are not listed: {text}"
        );
    }

    #[test]
    fn without_a_minimum_the_record_says_so_and_names_no_month() {
        let entries = [entry((2026, 1, 5), 60, Kind::Peer, &[])];
        let year = MembershipYear {
            year: 2026,
            starts: 1,
        };
        let today = NaiveDate::from_ymd_opt(2027, 2, 1).unwrap();
        let r = year_record(&entries, year, None, today);
        assert!(r.below().is_empty());
        assert!(
            r.functions_missing().is_empty(),
            "nothing marked, nothing singled out"
        );
        let text = r.text();
        assert!(text.contains("You have set no monthly minimum"), "{text}");
        assert!(!text.contains(GROUP_TIME), "nothing set against: {text}");
        assert!(text.contains("- December 2026: 0\n"), "{text}");
        assert_eq!(hours(90), "1.5");
        assert_eq!(hours(75), "1.25");
        assert_eq!(hours(0), "0");
    }

    #[test]
    fn the_functions_are_shown_by_quarter_so_a_change_over_the_year_shows() {
        use Function::*;
        let entries = [
            entry((2026, 4, 14), 60, Kind::Group, &[Restorative, Formative]),
            entry((2026, 5, 12), 60, Kind::Group, &[Restorative]),
            entry((2026, 7, 14), 60, Kind::Group, &[Formative]),
            entry((2026, 8, 11), 0, Kind::Group, &[Restorative]),
        ];
        let year = MembershipYear {
            year: 2026,
            starts: 4,
        };
        let today = NaiveDate::from_ymd_opt(2026, 10, 5).unwrap();
        let record = year_record(&entries, year, None, today);
        let quarters: Vec<(&str, [usize; 3])> = record
            .quarters
            .iter()
            .map(|q| (q.from.as_str(), q.sessions))
            .collect();
        // Normative, formative, restorative; a missed session counts for none;
        // the last quarter, not begun, is not shown.
        assert_eq!(
            quarters,
            [
                ("April 2026", [0, 1, 2]),
                ("July 2026", [0, 1, 0]),
                ("October 2026", [0, 0, 0]),
            ]
        );
        let text = record.text();
        assert!(
            text.contains("By quarter (sessions marked normative, formative, restorative):\n- April 2026 to June 2026: 0, 1, 2\n- July 2026 to September 2026: 0, 1, 0\n"),
            "{text}"
        );
    }
}
