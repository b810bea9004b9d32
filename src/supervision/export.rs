//! The supervision log and case presentations as files: the yearly
//! supervision record (Markdown and CSV, beside the CPD record), and
//! everything, for a member's full export (Markdown and JSON). Each file
//! is kept within a size, as the reflections' exports are.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::case::{CasePresentation, eye};
use super::log::{LogEntry, functions_text};
use super::record::{YearRecord, hours, year_record};
use crate::framework::{CompetenceId, Framework};
use crate::reflections::export::{
    ExportFile, MembershipYear, csv_files, groups, markdown_text, part_name,
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

/// A membership year's supervision record: the sums (hours by kind and
/// month against the member's own minimum, the functions' balance) and
/// each entry, as Markdown; each entry as CSV.
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
    let md_groups = groups(&rendered, limit, String::len, header(1, 2).len() + 16);
    let mut files = Vec::new();
    for (i, group) in md_groups.iter().enumerate() {
        let mut md = header(i + 1, md_groups.len());
        for e in *group {
            md.push_str(e);
        }
        files.push(ExportFile {
            name: part_name(&stem, "md", i + 1, md_groups.len()),
            content: md.into_bytes(),
        });
    }
    files.extend(record_csv(&in_year, year, &stem, limit)?);
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
fn presentation_markdown(framework: &Framework, p: &CasePresentation) -> String {
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
    let md_groups = groups(&rendered, limit, String::len, header(1, 2).len() + 16);
    let mut files = Vec::new();
    for (i, group) in md_groups.iter().enumerate() {
        let mut md = header(i + 1, md_groups.len());
        for r in *group {
            md.push_str(r);
        }
        files.push(ExportFile {
            name: part_name(stem, "md", i + 1, md_groups.len()),
            content: md.into_bytes(),
        });
    }
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
        assert_eq!(files.len(), 2);
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
