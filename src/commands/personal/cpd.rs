//! What a CPD record holds of a member's group practice, beside their
//! reflections and supervision: for each membership year, the case
//! presentations they wrote and their own part in their groups' meetings
//! (the roles they served, the items they brought), as Markdown and CSV;
//! and their development priorities as they stand at export. Only the
//! member's own records: the meetings' part comes from
//! [`records_of`](crate::meetings::export::records_of), which keeps
//! nothing of anyone else.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};

use crate::framework::{CompetenceId, Framework};
use crate::meetings::export::{
    PRACTICE_COLUMNS, ServerRecord, practice_markdown, practice_rows, practice_within,
};
use crate::meetings::rota::HISTORY_PER_ROLE;
use crate::reflections::export::{ExportFile, MembershipYear, csv_files, markdown_files};
use crate::reflections::review::Review;
use crate::supervision::case::CasePresentation;
use crate::supervision::export::{presentation_columns, presentation_markdown, presentation_row};

/// What the group practice file says of where its records come from and
/// what the meetings record does not keep.
fn kept() -> String {
    format!(
        "Case presentations are filed under the membership year they were written in, each with the meetings it was brought to where the meetings record still holds the item. The rota keeps every role you served at each meeting held, up to your latest {HISTORY_PER_ROLE} services of each role, so each is here under its meeting's date. A role served before the rota kept every service shows only as the last time you served it, and its earlier services are not here. An item stays in the meetings record only until its meeting has been held and counted, so items brought to earlier meetings may be missing; an item for a meeting still ahead is not here until its day."
    )
}

/// The membership years (starting in month `starts`) with any group
/// practice: a case presentation written, a role served or an item brought.
pub(super) fn practice_years(
    cases: &[CasePresentation],
    meetings: &[ServerRecord],
    starts: u32,
    now: DateTime<Utc>,
) -> BTreeSet<i32> {
    let of = |d: NaiveDate| MembershipYear::of(d, starts).year;
    let practice = practice_within(meetings, |_| true, now);
    cases
        .iter()
        .map(|p| of(p.created.date_naive()))
        .chain(practice.iter().flat_map(|p| p.days().map(of)))
        .collect()
}

/// One membership year's group practice: the case presentations written in
/// it and the member's part in the meetings in it, as Markdown, and each as
/// CSV (`…-presentations.csv`, `…-meetings.csv`, when there are any), in
/// files within `limit` bytes.
pub(super) fn practice_files(
    framework: &Framework,
    cases: &[CasePresentation],
    meetings: &[ServerRecord],
    year: MembershipYear,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<ExportFile>, csv::Error> {
    let in_year = |d: NaiveDate| MembershipYear::of(d, year.starts) == year;
    let mut written: Vec<&CasePresentation> = cases
        .iter()
        .filter(|p| in_year(p.created.date_naive()))
        .collect();
    written.sort_by_key(|p| (p.created, p.id));
    let practice = practice_within(meetings, in_year, now);
    // The meetings each presentation was brought to, of any year.
    let brought_to = |p: &CasePresentation| -> Vec<(u64, NaiveDate)> {
        meetings
            .iter()
            .flat_map(|r| {
                r.items
                    .iter()
                    .filter(|i| i.presentation == Some(p.id))
                    .map(|i| (r.server, i.meeting))
            })
            .collect()
    };
    let label = year.label();
    let stem = format!(
        "group-practice-{}-exported-{}",
        year.year,
        now.format("%Y-%m-%d")
    );
    let header = |part: usize, parts: usize| {
        let mut h = format!(
            "# Group practice: membership year {label}\n\nExported {} from practice-companion. Keep this file somewhere private.\n\n{}\n",
            now.format("%-d %B %Y"),
            kept(),
        );
        if written.is_empty() {
            h.push_str("\nNo case presentations written in this year.\n");
        }
        if practice.is_empty() {
            h.push_str("\nNo roles or items at a group's meetings in this year that the meetings record holds.\n");
        }
        if parts > 1 {
            let _ = writeln!(h, "\nPart {part} of {parts}.");
        }
        h
    };
    let mut rendered: Vec<String> = written
        .iter()
        .map(|p| {
            let mut md = presentation_markdown(framework, p);
            for (server, day) in brought_to(p) {
                let _ = write!(md, "\nBrought to the meeting of {day} (server {server}).\n");
            }
            md
        })
        .collect();
    for (i, p) in practice.iter().enumerate() {
        let mut md = if i == 0 {
            "\n## My part in my groups' meetings\n".to_string()
        } else {
            String::new()
        };
        md.push_str(&practice_markdown(p));
        rendered.push(md);
    }
    let mut files = markdown_files(&rendered, limit, header, &stem);
    if !written.is_empty() {
        let rows: Vec<Vec<String>> = written
            .iter()
            .map(|p| {
                let days: Vec<NaiveDate> = brought_to(p).into_iter().map(|(_, d)| d).collect();
                presentation_row(framework, p, &label, &days)
            })
            .collect();
        files.extend(csv_files(
            &rows,
            &presentation_columns(),
            &format!("{stem}-presentations"),
            limit,
        )?);
    }
    if !practice.is_empty() {
        let rows: Vec<Vec<String>> = practice
            .iter()
            .flat_map(|p| practice_rows(p, &label))
            .collect();
        files.extend(csv_files(
            &rows,
            &PRACTICE_COLUMNS,
            &format!("{stem}-meetings"),
            limit,
        )?);
    }
    Ok(files)
}

/// The member's development priorities in Markdown, as they stand at
/// `now`: the store keeps no date for when each was set, only when a review
/// of them was last asked for or made.
pub(super) fn priorities_markdown(
    framework: &Framework,
    priorities: &[CompetenceId],
    review: Option<&Review>,
    now: DateTime<Utc>,
) -> String {
    let mut md = format!(
        "# My development priorities\n\nAgreed with my supervisor. As they stand at export, {}; the record keeps no date for when each was set.\n",
        now.format("%-d %B %Y")
    );
    if let Some(r) = review {
        let _ = writeln!(
            md,
            "\nI asked to review them every {} weeks; the last review was asked for or made (or reviews turned on) on {}.",
            r.every_weeks,
            r.asked.format("%-d %B %Y")
        );
    }
    md.push('\n');
    for id in priorities {
        let _ = writeln!(md, "- **{}** {}", id.short(), statement(framework, *id));
    }
    md
}

fn statement(framework: &Framework, id: CompetenceId) -> &str {
    framework
        .competence(id)
        .map_or("", |c| c.statement.as_str())
}

/// The columns of the priorities' CSV, in order.
const PRIORITY_COLUMNS: [&str; 5] = [
    "competence",
    "statement",
    "as_of",
    "review_every_weeks",
    "last_review",
];

/// The member's development priorities for a CPD record, as they stand at
/// `now`: Markdown and CSV; none when there are none.
pub(super) fn priorities_files(
    framework: &Framework,
    priorities: &[CompetenceId],
    review: Option<&Review>,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<ExportFile>, csv::Error> {
    if priorities.is_empty() {
        return Ok(Vec::new());
    }
    let stem = format!("development-priorities-{}", now.format("%Y-%m-%d"));
    let mut files = vec![ExportFile {
        name: format!("{stem}.md"),
        content: priorities_markdown(framework, priorities, review, now).into_bytes(),
    }];
    let rows: Vec<Vec<String>> = priorities
        .iter()
        .map(|id| {
            vec![
                id.short(),
                statement(framework, *id).to_string(),
                now.format("%Y-%m-%d").to_string(),
                review.map_or(String::new(), |r| r.every_weeks.to_string()),
                review.map_or(String::new(), |r| r.asked.format("%Y-%m-%d").to_string()),
            ]
        })
        .collect();
    files.extend(csv_files(&rows, &PRIORITY_COLUMNS, &stem, limit)?);
    Ok(files)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::supervision::case::{CaseDraft, Field, Frame};

    #[test]
    fn a_large_year_is_split_into_files_within_the_limit_and_loses_nothing() {
        let framework = Framework::builtin().unwrap();
        let written = Utc.with_ymd_and_hms(2026, 5, 2, 9, 0, 0).unwrap();
        let question = |id: u64| {
            format!(
                "Question {id}: {}",
                "what do I owe the sponsor? ".repeat(20).trim_end()
            )
        };
        let cases: Vec<CasePresentation> = (1..=30)
            .map(|id| {
                CaseDraft {
                    frame: Frame::Short,
                    fields: vec![Field {
                        key: "question".into(),
                        text: question(id),
                    }],
                }
                .into_presentation(id, written)
            })
            .collect();
        let year = MembershipYear {
            year: 2026,
            starts: 4,
        };
        let files = practice_files(&framework, &cases, &[], year, written, 4096).unwrap();
        let md: Vec<&ExportFile> = files.iter().filter(|f| f.name.ends_with(".md")).collect();
        assert!(md.len() > 1, "{}", md.len());
        let mut all = String::new();
        for f in &md {
            assert!(f.content.len() <= 4096, "{} is {}", f.name, f.content.len());
            assert!(
                f.name.contains(&format!("-of-{}.md", md.len())),
                "{}",
                f.name
            );
            all.push_str(std::str::from_utf8(&f.content).unwrap());
        }
        for id in 1..=30 {
            assert_eq!(all.matches(&question(id)).count(), 1, "{id}");
        }
        let csv: Vec<&ExportFile> = files
            .iter()
            .filter(|f| f.name.contains("-presentations"))
            .collect();
        let rows: usize = csv
            .iter()
            .map(|f| {
                csv::Reader::from_reader(f.content.as_slice())
                    .records()
                    .count()
            })
            .sum();
        assert_eq!(rows, 30);
        assert!(!files.iter().any(|f| f.name.contains("-meetings")));
    }
}
