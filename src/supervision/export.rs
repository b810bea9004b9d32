//! The supervision log and case presentations as files: the yearly
//! supervision record (Markdown and CSV, beside the CPD record), and
//! everything, for a member's full export (Markdown and JSON). Each file
//! is kept within a size, as the reflections' exports are.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::case::{CasePresentation, SEVEN_EYED, eye};
use super::log::{Function, LogEntry, functions_text};
use super::record::{Reach, YearRecord, hours, year_record};
use crate::framework::{CompetenceId, Framework};
use crate::reflections::export::{
    ExportFile, MembershipYear, csv_files, groups, markdown_files, markdown_text, part_name,
};
use crate::reflections::{minutes_text, tags_text};

fn competence_lines(framework: &Framework, tags: &[CompetenceId]) -> Vec<String> {
    tags.iter()
        .map(|id| match framework.competence(*id) {
            Some(c) => format!("{} — {}", id.label(), c.statement),
            None => id.short(),
        })
        .collect()
}

/// One log entry in Markdown.
fn entry_markdown(framework: &Framework, e: &LogEntry) -> String {
    let mut md = format!(
        "\n### #{} · {} · {}\n\n- **Attended:** {}\n- **Time:** {}\n- **Functions:** {}\n",
        e.id,
        e.date.format("%-d %B %Y"),
        e.kind.label(),
        if e.attended { "yes" } else { "no" },
        if e.attended {
            minutes_text(e.minutes)
        } else {
            "none".into()
        },
        functions_text(&e.functions),
    );
    let lines = competence_lines(framework, &e.competences);
    if lines.is_empty() {
        md.push_str("- **Competences:** none tagged\n");
    } else {
        md.push_str("- **Competences:**\n");
        for line in lines {
            let _ = writeln!(md, "  - {line}");
        }
    }
    if !e.took_away.is_empty() {
        let _ = write!(
            md,
            "\n**What I took away:**\n\n{}\n",
            markdown_text(&e.took_away)
        );
    }
    md
}

/// The record's columns, in order.
const RECORD_COLUMNS: [&str; 9] = [
    "membership_year",
    "date",
    "kind",
    "attended",
    "minutes",
    "hours",
    "functions",
    "competences",
    "took_away",
];

/// The columns of the record's totals, in order.
const TOTALS_COLUMNS: [&str; 10] = [
    "membership_year",
    "section",
    "period",
    "name",
    "sessions",
    "missed",
    "minutes",
    "hours",
    "minimum_hours",
    "below_minimum",
];

/// The sums of `record` as CSV rows under [`TOTALS_COLUMNS`], the same
/// numbers its Markdown shows: the year's total; each kind (sessions
/// attended and missed); each month begun (`period` `2026-03`, `name`
/// `over` or `under way`, with the member's minimum and, for a month that
/// is over, whether it is below it); each function over the year and the
/// attended sessions with none marked; each function by quarter begun
/// (`period` `2026-04/2026-06`), the balance over time.
fn totals_rows(record: &YearRecord) -> Vec<Vec<String>> {
    let year = record.year.label();
    let row = |section: &str, period: &str, name: &str, counts: [String; 6]| {
        let mut r = vec![year.clone(), section.into(), period.into(), name.into()];
        r.extend(counts);
        r
    };
    let none = String::new;
    let attended: usize = record.kinds.iter().map(|k| k.attended).sum();
    let missed: usize = record.kinds.iter().map(|k| k.missed).sum();
    let mut rows = vec![row(
        "total",
        &year,
        "all",
        [
            attended.to_string(),
            missed.to_string(),
            record.total.to_string(),
            hours(record.total),
            none(),
            none(),
        ],
    )];
    for k in &record.kinds {
        rows.push(row(
            "kind",
            &year,
            k.kind.as_str(),
            [
                k.attended.to_string(),
                k.missed.to_string(),
                k.minutes.to_string(),
                hours(k.minutes),
                none(),
                none(),
            ],
        ));
    }
    let minimum = record.minimum.map_or_else(none, hours);
    let below_it = record.below();
    for m in record.months.iter().filter(|m| m.reach != Reach::Future) {
        let is_below = below_it.iter().any(|b| std::ptr::eq(*b, m));
        let (name, below) = match (m.reach, record.minimum) {
            (Reach::Past, Some(_)) => ("over", if is_below { "yes" } else { "no" }),
            (Reach::Past, None) => ("over", ""),
            _ => ("under way", ""),
        };
        rows.push(row(
            "month",
            &format!("{}-{:02}", m.year, m.month),
            name,
            [
                none(),
                none(),
                m.minutes.to_string(),
                hours(m.minutes),
                minimum.clone(),
                below.into(),
            ],
        ));
    }
    for f in &record.functions {
        rows.push(row(
            "function",
            &year,
            f.function.as_str(),
            [
                f.sessions.to_string(),
                none(),
                f.minutes.to_string(),
                hours(f.minutes),
                none(),
                none(),
            ],
        ));
    }
    rows.push(row(
        "function",
        &year,
        "none marked",
        [
            record.unmarked.to_string(),
            none(),
            none(),
            none(),
            none(),
            none(),
        ],
    ));
    // The quarters begun are the first of the year's quarters, in order.
    for (q, months) in record.quarters.iter().zip(record.months.chunks(3)) {
        let period = match (months.first(), months.last()) {
            (Some(a), Some(b)) => format!("{}-{:02}/{}-{:02}", a.year, a.month, b.year, b.month),
            _ => continue,
        };
        for (f, sessions) in Function::ALL.iter().zip(q.sessions) {
            rows.push(row(
                "quarter",
                &period,
                f.as_str(),
                [sessions.to_string(), none(), none(), none(), none(), none()],
            ));
        }
    }
    rows
}

/// A membership year's supervision record: the sums (hours by kind and
/// month against the member's own minimum, the functions' balance) and
/// each entry, as Markdown; each entry as CSV, and the sums as a second
/// CSV (`…-totals.csv`), both from one [`year_record`].
pub fn year_files(
    framework: &Framework,
    entries: &[LogEntry],
    year: MembershipYear,
    minimum: Option<u32>,
    today: NaiveDate,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<ExportFile>, csv::Error> {
    let record: YearRecord = year_record(entries, year, minimum, today);
    let mut in_year: Vec<&LogEntry> = entries
        .iter()
        .filter(|e| MembershipYear::of(e.date, year.starts) == year)
        .collect();
    in_year.sort_by_key(|e| (e.date, e.id));
    let stem = format!(
        "supervision-{}-exported-{}",
        year.year,
        now.format("%Y-%m-%d")
    );
    let header = |part: usize, parts: usize| {
        let mut h = format!(
            "# Supervision record\n\nExported {} from practice-companion. Keep this file somewhere private.\n\n{}\n\n## Entries\n",
            now.format("%-d %B %Y"),
            record.text()
        );
        if in_year.is_empty() {
            h.push_str("\nNo supervision logged in this year.\n");
        }
        if parts > 1 {
            let _ = writeln!(h, "\nPart {part} of {parts}.");
        }
        h
    };
    let rendered: Vec<String> = in_year
        .iter()
        .map(|e| entry_markdown(framework, e))
        .collect();
    let mut files = markdown_files(&rendered, limit, header, &stem);
    files.extend(record_csv(&in_year, year, &stem, limit)?);
    files.extend(csv_files(
        &totals_rows(&record),
        &TOTALS_COLUMNS,
        &format!("{stem}-totals"),
        limit,
    )?);
    Ok(files)
}

/// Each entry of a year's record as a CSV row, in files within `limit`.
fn record_csv(
    in_year: &[&LogEntry],
    year: MembershipYear,
    stem: &str,
    limit: usize,
) -> Result<Vec<ExportFile>, csv::Error> {
    let rows: Vec<Vec<String>> = in_year
        .iter()
        .map(|e| {
            vec![
                year.label(),
                e.date.format("%Y-%m-%d").to_string(),
                e.kind.as_str().to_string(),
                if e.attended { "yes" } else { "no" }.to_string(),
                e.minutes.to_string(),
                hours(e.minutes),
                functions_text(&e.functions),
                tags_text(&e.competences),
                e.took_away.clone(),
            ]
        })
        .collect();
    csv_files(&rows, &RECORD_COLUMNS, stem, limit)
}

/// One case presentation in Markdown.
pub(crate) fn presentation_markdown(framework: &Framework, p: &CasePresentation) -> String {
    let mut md = format!(
        "\n## #{} {}\n\n*{} · {}*\n",
        p.id,
        markdown_text(&p.heading()),
        p.created.format("%-d %B %Y, %H:%M UTC"),
        p.frame.label()
    );
    for f in &p.fields {
        let name = eye(&f.key).map_or(f.key.as_str(), |e| e.name);
        let _ = write!(md, "\n**{name}**\n\n{}\n", markdown_text(&f.text));
    }
    let lines = competence_lines(framework, &p.competences(framework));
    if !lines.is_empty() {
        md.push_str("\nCompetences these views touch:\n\n");
        for line in lines {
            let _ = writeln!(md, "- {line}");
        }
    }
    md
}

/// The columns of [`presentation_row`], in order: the presentation's own,
/// then one for each field of the seven-eyed form (the question last, the
/// whole of a short frame).
pub(crate) fn presentation_columns() -> Vec<&'static str> {
    let mut columns = vec![
        "membership_year",
        "number",
        "written",
        "frame",
        "brought_to",
        "competences",
    ];
    columns.extend(SEVEN_EYED.iter().map(|e| e.key));
    columns
}

/// A case presentation as a CSV row under [`presentation_columns`]: `year`
/// its membership year, `brought_to` the meetings it was brought to, and
/// each field as written (empty where not answered).
pub(crate) fn presentation_row(
    framework: &Framework,
    p: &CasePresentation,
    year: &str,
    brought_to: &[NaiveDate],
) -> Vec<String> {
    let mut row = vec![
        year.to_string(),
        p.id.to_string(),
        p.created.format("%Y-%m-%d").to_string(),
        p.frame.label().to_string(),
        brought_to
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        tags_text(&p.competences(framework)),
    ];
    row.extend(SEVEN_EYED.iter().map(|e| {
        p.fields
            .iter()
            .find(|f| f.key == e.key)
            .map_or(String::new(), |f| f.text.clone())
    }));
    row
}

#[derive(Serialize)]
struct AllJson<'a, T> {
    exported_at: DateTime<Utc>,
    member: u64,
    part: usize,
    parts: usize,
    records: &'a [T],
}

/// Every record of one kind as Markdown and JSON files named `stem`, each
/// within `limit` bytes; none when there are none.
fn all_files<T: Serialize>(
    items: &[T],
    title: &str,
    stem: &str,
    member: u64,
    now: DateTime<Utc>,
    limit: usize,
    markdown: impl Fn(&T) -> String,
) -> Result<Vec<ExportFile>, serde_json::Error> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let header = |part: usize, parts: usize| {
        let mut h = format!(
            "# {title}\n\nExported {} · {} · keep this file somewhere private.\n",
            now.format("%-d %B %Y, %H:%M UTC"),
            items.len()
        );
        if parts > 1 {
            let _ = writeln!(h, "\nPart {part} of {parts}.");
        }
        h
    };
    let rendered: Vec<String> = items.iter().map(markdown).collect();
    let mut files = markdown_files(&rendered, limit, header, stem);
    let sizes: Vec<usize> = items
        .iter()
        .map(|r| {
            serde_json::to_vec_pretty(r).map_or(0, |v| {
                v.len() + 4 * v.iter().filter(|&&b| b == b'\n').count() + 8
            })
        })
        .collect();
    let indexed: Vec<usize> = (0..items.len()).collect();
    let json_groups = groups(&indexed, limit, |i| sizes[*i], 256);
    for (i, group) in json_groups.iter().enumerate() {
        let first = group.first().copied().unwrap_or(0);
        let json = serde_json::to_vec_pretty(&AllJson {
            exported_at: now,
            member,
            part: i + 1,
            parts: json_groups.len(),
            records: &items[first..first + group.len()],
        })?;
        files.push(ExportFile {
            name: part_name(stem, "json", i + 1, json_groups.len()),
            content: json,
        });
    }
    Ok(files)
}

/// The whole supervision log and every case presentation, for a member's
/// full export: Markdown and JSON for each kind that has records.
pub fn everything(
    framework: &Framework,
    member: u64,
    log: &[LogEntry],
    presentations: &[CasePresentation],
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<ExportFile>, serde_json::Error> {
    let date = now.format("%Y-%m-%d");
    let mut files = all_files(
        log,
        "My supervision log",
        &format!("supervision-log-{date}"),
        member,
        now,
        limit,
        |e| entry_markdown(framework, e),
    )?;
    files.extend(all_files(
        presentations,
        "My case presentations",
        &format!("case-presentations-{date}"),
        member,
        now,
        limit,
        |p| presentation_markdown(framework, p),
    )?);
    Ok(files)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::supervision::case::{CaseDraft, Field, Frame};
    use crate::supervision::log::{Function, Kind, LogDraft};

    fn log_entry(id: u64, date: (i32, u32, u32), minutes: u32) -> LogEntry {
        LogDraft {
            date: NaiveDate::from_ymd_opt(date.0, date.1, date.2).unwrap(),
            attended: true,
            minutes,
            kind: Kind::Peer,
            took_away: "# Slow down\nat endings".into(),
            competences: vec!["core:2.10".parse().unwrap()],
            functions: vec![Function::Formative],
        }
        .into_entry(id, Utc::now())
    }

    #[test]
    fn a_year_record_has_the_sums_the_entries_and_a_csv_row_each() {
        let framework = Framework::builtin().unwrap();
        let entries = [
            log_entry(1, (2026, 3, 10), 90),
            log_entry(2, (2025, 3, 1), 60),
        ];
        let year = MembershipYear {
            year: 2026,
            starts: 1,
        };
        let today = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        let files = year_files(
            &framework,
            &entries,
            year,
            Some(60),
            today,
            Utc::now(),
            1 << 20,
        )
        .unwrap();
        assert_eq!(files.len(), 3);
        let md = String::from_utf8(files[0].content.clone()).unwrap();
        assert!(
            md.contains(
                "Below it: January 2026 (nothing logged), February 2026 (nothing logged), April 2026 (nothing logged)"
            ),
            "{md}"
        );
        assert!(md.contains("\\# Slow down  \nat endings"), "{md}");
        assert!(md.contains("Core 2.10 — "), "{md}");
        assert!(!md.contains("1 March 2025"), "{md}");
        let csv = String::from_utf8(files[1].content.clone()).unwrap();
        assert_eq!(
            csv.lines().filter(|l| l.starts_with("2026,")).count(),
            1,
            "{csv}"
        );
        assert!(files[0].name.starts_with("supervision-2026-exported-"));
        assert!(files[2].name.ends_with("-totals.csv"), "{}", files[2].name);
        let totals = String::from_utf8(files[2].content.clone()).unwrap();
        assert!(
            totals.starts_with("membership_year,section,period,name,sessions,missed,minutes,hours,minimum_hours,below_minimum\n"),
            "{totals}"
        );
        // The numbers the Markdown shows: the year, March and the months below.
        assert!(md.contains("- March 2026: 1.5\n"), "{md}");
        for line in [
            "2026,total,2026,all,1,0,90,1.5,,",
            "2026,month,2026-03,over,,,90,1.5,1,no",
            "2026,month,2026-04,over,,,0,0,1,yes",
            "2026,function,2026,formative,1,,90,1.5,,",
            "2026,function,2026,none marked,0,,,,,",
            "2026,quarter,2026-01/2026-03,formative,1,,,,,",
            "2026,quarter,2026-10/2026-12,normative,0,,,,,",
        ] {
            assert!(totals.lines().any(|l| l == line), "{line} in {totals}");
        }
        assert!(
            totals
                .lines()
                .any(|l| l == "2026,month,2026-12,under way,,,0,0,1,"),
            "December 2026 is under way, never called below: {totals}"
        );
    }

    /// The rows of a CSV file, by column name.
    fn csv_rows(file: &ExportFile) -> Vec<std::collections::HashMap<String, String>> {
        let mut reader = csv::Reader::from_reader(file.content.as_slice());
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        reader
            .records()
            .map(|r| {
                header
                    .iter()
                    .cloned()
                    .zip(r.unwrap().iter().map(String::from))
                    .collect()
            })
            .collect()
    }

    fn arb_entry() -> impl Strategy<Value = LogDraft> {
        (
            0u64..500,
            0u32..240,
            0usize..3,
            any::<bool>(),
            proptest::collection::vec(0usize..3, 0..4),
            "[a-z ,\"\n]{0,12}",
        )
            .prop_map(|(day, minutes, kind, attended, functions, took_away)| {
                let mut fs: Vec<Function> =
                    functions.into_iter().map(|i| Function::ALL[i]).collect();
                fs.sort_by_key(|f| f.as_str());
                fs.dedup();
                LogDraft {
                    date: NaiveDate::from_ymd_opt(2025, 11, 1).unwrap() + chrono::Days::new(day),
                    attended,
                    minutes: if attended { minutes } else { 0 },
                    kind: Kind::ALL[kind],
                    took_away,
                    competences: vec![],
                    functions: fs,
                }
            })
    }

    proptest! {
        /// Over any log, the year's entry rows add up to its totals rows:
        /// by kind, by month, by function and in all.
        #[test]
        fn the_totals_csv_is_the_sum_of_the_entries_csv(
            drafts in proptest::collection::vec(arb_entry(), 0..40),
            starts in 1u32..=12,
            minimum in proptest::option::of(0u32..200),
        ) {
            let framework = Framework::builtin().unwrap();
            let entries: Vec<LogEntry> = drafts
                .into_iter()
                .zip(1..)
                .map(|(d, id)| d.into_entry(id, Utc::now()))
                .collect();
            let year = MembershipYear { year: 2026, starts };
            let today = NaiveDate::from_ymd_opt(2028, 1, 1).unwrap();
            let files = year_files(&framework, &entries, year, minimum, today, Utc::now(), 1 << 20).unwrap();
            prop_assert_eq!(files.len(), 3);
            let rows = csv_rows(&files[1]);
            let totals = csv_rows(&files[2]);
            let minutes = |r: &std::collections::HashMap<String, String>| r["minutes"].parse::<u32>().unwrap();
            let total = |section: &str, period: &str, name: &str| {
                let t = totals
                    .iter()
                    .find(|t| t["section"] == section && t["period"] == period && t["name"] == name)
                    .unwrap_or_else(|| panic!("{section} {period} {name}"));
                (t["sessions"].clone(), t["missed"].clone(), t["minutes"].clone())
            };
            let label = year.label();
            let sum = |of: &dyn Fn(&std::collections::HashMap<String, String>) -> bool| {
                let chosen: Vec<_> = rows.iter().filter(|r| of(r)).collect();
                (
                    chosen.iter().filter(|r| r["attended"] == "yes").count().to_string(),
                    chosen.iter().filter(|r| r["attended"] != "yes").count().to_string(),
                    chosen.iter().map(|r| minutes(r)).sum::<u32>().to_string(),
                )
            };
            prop_assert_eq!(total("total", &label, "all"), sum(&|_| true));
            for kind in Kind::ALL {
                prop_assert_eq!(total("kind", &label, kind.as_str()), sum(&|r| r["kind"] == kind.as_str()));
            }
            let months: Vec<_> = totals.iter().filter(|t| t["section"] == "month").collect();
            prop_assert_eq!(months.len(), 12);
            for m in months {
                let (_, _, of_month) = sum(&|r| r["date"].starts_with(&m["period"]));
                prop_assert_eq!(&m["minutes"], &of_month);
                let below = minimum.map_or("", |min| if minutes(m) < min { "yes" } else { "no" });
                prop_assert_eq!(&m["below_minimum"], below);
            }
            for f in Function::ALL {
                let served = |r: &std::collections::HashMap<String, String>| {
                    r["attended"] == "yes" && r["functions"].split(", ").any(|n| n == f.as_str())
                };
                let (sessions, _, of_function) = sum(&served);
                let (t_sessions, _, t_minutes) = total("function", &label, f.as_str());
                prop_assert_eq!((t_sessions, t_minutes), (sessions.clone(), of_function));
                let by_quarter: usize = totals
                    .iter()
                    .filter(|t| t["section"] == "quarter" && t["name"] == f.as_str())
                    .map(|t| t["sessions"].parse::<usize>().unwrap())
                    .sum();
                prop_assert_eq!(by_quarter.to_string(), sessions);
            }
            let (unmarked, _, _) = sum(&|r| r["functions"] == "none marked");
            prop_assert_eq!(total("function", &label, "none marked").0, unmarked);
        }
    }

    #[test]
    fn everything_holds_both_kinds_and_splits_to_the_limit() {
        let framework = Framework::builtin().unwrap();
        let log: Vec<LogEntry> = (1..=40).map(|i| log_entry(i, (2026, 3, 10), 60)).collect();
        let p = CaseDraft {
            frame: Frame::Short,
            fields: vec![Field {
                key: "question".into(),
                text: "How do I end well?".into(),
            }],
        }
        .into_presentation(1, Utc::now());
        let files = everything(&framework, 1, &log, &[p], Utc::now(), 4096).unwrap();
        assert!(files.iter().all(|f| f.content.len() <= 4096 + 1024));
        assert!(
            files
                .iter()
                .any(|f| f.name.starts_with("supervision-log-") && f.name.contains("-part1-of-"))
        );
        let cases: Vec<&ExportFile> = files
            .iter()
            .filter(|f| f.name.starts_with("case-presentations-"))
            .collect();
        assert_eq!(cases.len(), 2);
        let md = String::from_utf8(cases[0].content.clone()).unwrap();
        assert!(
            md.contains("**My question for the group**\n\nHow do I end well?"),
            "{md}"
        );
        assert!(
            everything(&framework, 1, &[], &[], Utc::now(), 4096)
                .unwrap()
                .is_empty()
        );
    }
}
