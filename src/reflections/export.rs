//! A member's exports: everything they wrote, as Markdown that renders as
//! written and as JSON; and a CPD record (Markdown and CSV) they can file,
//! grouped by membership year. Files are split so that each fits
//! [`FILE_BYTES`], the most a chat upload reliably takes.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;

use super::{Reflection, minutes_text};
use crate::framework::Framework;
use crate::prompts::{builtin_model, model_name};

/// The largest file an export makes, in bytes: under Discord's 10 MiB upload
/// limit for a message, with room for the request around it.
pub const FILE_BYTES: usize = 8 * 1024 * 1024;

/// One file of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFile {
    /// Its name.
    pub name: String,
    /// Its contents.
    pub content: Vec<u8>,
}

/// A month's name ("April") from its number, 1–12 (chrono's names).
pub fn month_name(month: u32) -> &'static str {
    u8::try_from(month.clamp(1, 12))
        .ok()
        .and_then(|m| chrono::Month::try_from(m).ok())
        .map_or("January", |m| m.name())
}

/// Reads a month as typed ("april", "Apr", "4"): a number, or a name or
/// three-letter abbreviation as chrono reads them.
pub fn parse_month(text: &str) -> Option<u32> {
    let t = text.trim();
    if let Ok(n) = t.parse::<u32>() {
        return (1..=12).contains(&n).then_some(n);
    }
    t.parse::<chrono::Month>()
        .ok()
        .map(|m| m.number_from_month())
}

/// Text for a Markdown paragraph: every line break kept (a hard break), and
/// a line that would turn into a heading or a rule escaped.
pub(crate) fn markdown_text(text: &str) -> String {
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with('#')
                || trimmed.starts_with("---")
                || trimmed.starts_with("===")
                || trimmed.starts_with("***")
            {
                format!("\\{trimmed}")
            } else {
                line.trim_end().to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("  \n")
        .replace("  \n  \n", "\n\n")
}

/// How an entry is named: as every view names it (see [`Reflection::heading`]).
fn title_of(r: &Reflection) -> String {
    r.heading()
}

fn competence_lines(framework: &Framework, r: &Reflection) -> Vec<String> {
    r.competences
        .iter()
        .map(|id| match framework.competence(*id) {
            Some(c) => format!("{} — {}", id.label(), c.statement),
            None => id.short(),
        })
        .collect()
}

/// Splits `items` into as few groups as keep each rendered group within
/// `limit` bytes; an item larger than `limit` on its own is a group alone.
pub(crate) fn groups<T>(
    items: &[T],
    limit: usize,
    size: impl Fn(&T) -> usize,
    overhead: usize,
) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = overhead;
    for (i, item) in items.iter().enumerate() {
        let s = size(item);
        if i > start && bytes + s > limit {
            out.push(&items[start..i]);
            start = i;
            bytes = overhead;
        }
        bytes += s;
    }
    if start < items.len() || out.is_empty() {
        out.push(&items[start..]);
    }
    out
}

/// Rendered Markdown pieces as files of at most `limit` bytes (a piece
/// larger on its own is a file alone), each opening with
/// `header(part, parts)`, named from `stem`.
pub(crate) fn markdown_files(
    rendered: &[String],
    limit: usize,
    header: impl Fn(usize, usize) -> String,
    stem: &str,
) -> Vec<ExportFile> {
    let md_groups = groups(rendered, limit, String::len, header(1, 2).len() + 16);
    md_groups
        .iter()
        .enumerate()
        .map(|(i, group)| {
            let mut md = header(i + 1, md_groups.len());
            for piece in *group {
                md.push_str(piece);
            }
            ExportFile {
                name: part_name(stem, "md", i + 1, md_groups.len()),
                content: md.into_bytes(),
            }
        })
        .collect()
}

pub(crate) fn part_name(stem: &str, ext: &str, part: usize, parts: usize) -> String {
    if parts == 1 {
        format!("{stem}.{ext}")
    } else {
        format!("{stem}-part{part}-of-{parts}.{ext}")
    }
}

fn one_markdown(framework: &Framework, r: &Reflection) -> String {
    let mut md = format!("\n## #{} {}\n\n", r.id, markdown_text(&title_of(r)));
    let mut about = vec![
        r.created.format("%-d %B %Y, %H:%M UTC").to_string(),
        r.mode.label().to_string(),
        model_name(&r.model),
    ];
    if let Some(edited) = r.edited {
        about.push(format!("edited {}", edited.format("%-d %B %Y")));
    }
    if let Some(m) = r.minutes {
        about.push(format!("time spent: {}", minutes_text(m)));
    }
    if r.discussed {
        about.push("shared with the group".to_string());
    }
    let _ = writeln!(md, "*{}*\n", about.join(" · "));
    let lines = competence_lines(framework, r);
    if !lines.is_empty() {
        md.push_str("Competences:\n\n");
        for line in lines {
            let _ = writeln!(md, "- {line}");
        }
        md.push('\n');
    }
    md.push_str(&markdown_text(&r.text));
    md.push('\n');
    md
}

#[derive(Serialize)]
struct ExportJson<'a> {
    exported_at: DateTime<Utc>,
    member: u64,
    part: usize,
    parts: usize,
    reflections: &'a [Reflection],
}

/// Everything a member wrote, as Markdown and JSON, split into parts that
/// each fit `limit` bytes.
pub fn everything(
    framework: &Framework,
    member: u64,
    all: &[Reflection],
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<ExportFile>, serde_json::Error> {
    let date = now.format("%Y-%m-%d");
    let header = |part: usize, parts: usize| {
        let mut h = format!(
            "# My reflections\n\nExported {} · {} reflection{} · keep this file somewhere private.\n",
            now.format("%-d %B %Y, %H:%M UTC"),
            all.len(),
            if all.len() == 1 { "" } else { "s" }
        );
        if parts > 1 {
            let _ = writeln!(h, "\nPart {part} of {parts}.");
        }
        h
    };
    let rendered: Vec<String> = all.iter().map(|r| one_markdown(framework, r)).collect();
    let mut files = markdown_files(&rendered, limit, header, &format!("reflections-{date}"));
    let sizes: Vec<usize> = all
        .iter()
        .map(|r| {
            // Nested two levels deep in the file: four more spaces a line.
            serde_json::to_vec_pretty(r).map_or(0, |v| {
                v.len() + 4 * v.iter().filter(|&&b| b == b'\n').count() + 8
            })
        })
        .collect();
    let indexed: Vec<(usize, &Reflection)> = all.iter().enumerate().collect();
    let json_groups = groups(&indexed, limit, |(i, _)| sizes[*i], 256);
    for (i, group) in json_groups.iter().enumerate() {
        let items: Vec<Reflection> = group.iter().map(|(_, r)| (*r).clone()).collect();
        let json = serde_json::to_vec_pretty(&ExportJson {
            exported_at: now,
            member,
            part: i + 1,
            parts: json_groups.len(),
            reflections: &items,
        })?;
        files.push(ExportFile {
            name: part_name(
                &format!("reflections-{date}"),
                "json",
                i + 1,
                json_groups.len(),
            ),
            content: json,
        });
    }
    Ok(files)
}

/// A membership year: from the first day of `starts` in `year`, for twelve months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MembershipYear {
    /// The calendar year it starts in.
    pub year: i32,
    /// The month it starts in, 1–12.
    pub starts: u32,
}

impl MembershipYear {
    /// The membership year a date falls in.
    pub fn of(date: NaiveDate, starts: u32) -> MembershipYear {
        let year = if date.month() >= starts {
            date.year()
        } else {
            date.year() - 1
        };
        MembershipYear { year, starts }
    }

    fn first_day(self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.year, self.starts, 1)
    }

    /// "2026" for a calendar year, "1 April 2026 – 31 March 2027" otherwise.
    pub fn label(self) -> String {
        if self.starts == 1 {
            return self.year.to_string();
        }
        let first = self.first_day();
        let last =
            NaiveDate::from_ymd_opt(self.year + 1, self.starts, 1).and_then(|d| d.pred_opt());
        match (first, last) {
            (Some(a), Some(b)) => format!("{} – {}", a.format("%-d %B %Y"), b.format("%-d %B %Y")),
            _ => self.year.to_string(),
        }
    }
}

/// A heading as a member writes it, without its closing punctuation:
/// `Action plan:` is `Action plan`, `So what?` is `So what`.
fn heading_words(heading: &str) -> &str {
    heading
        .trim()
        .trim_end_matches([':', '?', '.', '-'])
        .trim_end()
}

/// The heading of `model` that opens `line`, with the rest of the line: the
/// heading's words at the start, numbered or not (`5. Conclusion`, `6)
/// Action plan`), in any case, marked up or not (`**Analysis:**`, `## Ideas`),
/// then the end of the line or a separator (`:`, `?`, `-`, `–`, `—`, `.`).
/// "What happened" does not open the heading "What?": a word follows it.
fn opens<'h>(headings: &[&'h str], line: &str) -> Option<(&'h str, String)> {
    let mut rest = line
        .trim_start()
        .trim_start_matches(['#', '*', '>', '_', ' ']);
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits > 0 {
        rest = rest[digits..].trim_start_matches(['.', ')']).trim_start();
    }
    headings.iter().find_map(|h| {
        let words = heading_words(h);
        let head = rest.get(..words.len())?;
        if words.is_empty() || !head.eq_ignore_ascii_case(words) {
            return None;
        }
        let after = rest[words.len()..].trim_start_matches(['*', '_']);
        let tail = after.trim_start();
        let separated = tail.is_empty() || tail.starts_with([':', '?', '-', '–', '—', '.']);
        separated.then(|| {
            let text = tail
                .trim_start_matches([':', '?', '-', '–', '—', '.', '*', '_'])
                .trim();
            (*h, text.to_string())
        })
    })
}

/// The parts of a reflection's text under its model's headings: what was
/// learned, and what will change in practice. Free writing has neither.
fn learned_and_changes(r: &Reflection) -> (String, String) {
    let Some(model) = builtin_model(&r.model) else {
        return (String::new(), String::new());
    };
    let headings: Vec<&str> = model
        .template
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let mut found: Vec<(&str, String)> = Vec::new();
    for line in r.text.lines() {
        let trimmed = line.trim();
        if let Some((h, text)) = opens(&headings, trimmed) {
            found.push((h, text));
        } else if let Some((_, text)) = found.last_mut() {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(trimmed);
        }
    }
    let collect = |names: &[String]| {
        found
            .iter()
            .filter(|(h, _)| names.iter().any(|n| n.trim() == *h))
            .map(|(_, t)| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    };
    (collect(&model.learned), collect(&model.changes))
}

/// The headings a CPD record reads in each model's reflections, in words
/// for the member: which are filed as what was learned, which as what will
/// change in practice.
pub fn headings_read() -> Vec<String> {
    let Ok(models) = crate::prompts::Models::builtin() else {
        return Vec::new();
    };
    models
        .all()
        .iter()
        .filter(|m| !m.learned.is_empty() || !m.changes.is_empty())
        .map(|m| {
            let list = |names: &[String]| {
                names
                    .iter()
                    .map(|n| format!("“{}”", heading_words(n)))
                    .collect::<Vec<_>>()
                    .join(" and ")
            };
            format!(
                "{}: {} as what you learned, {} as what will change",
                m.name,
                list(&m.learned),
                list(&m.changes)
            )
        })
        .collect()
}

/// The reflections as entries: the parts of one long text (saved at one
/// instant, titled as its parts) joined into one, in order, with the first
/// part's time spent counted once and every part's tags.
fn whole_entries(all: &[Reflection]) -> Vec<Reflection> {
    let mut sorted: Vec<&Reflection> = all.iter().collect();
    sorted.sort_by_key(|r| r.id);
    let mut out: Vec<(super::Entry, Reflection)> = Vec::new();
    for r in sorted {
        let entry = super::Entry::of(r.id, r.created, &r.title);
        match out.iter_mut().find(|(e, _)| *e == entry) {
            Some((_, whole)) if matches!(entry, super::Entry::Parts(_)) => {
                whole.text.push_str("\n\n");
                whole.text.push_str(&r.text);
                for tag in &r.competences {
                    if !whole.competences.contains(tag) {
                        whole.competences.push(*tag);
                    }
                }
                whole.discussed |= r.discussed;
            }
            _ => {
                let mut whole = r.clone();
                if let Some(part) = super::part_of(&r.title) {
                    whole.title = part.stem.to_string();
                }
                out.push((entry, whole));
            }
        }
    }
    out.into_iter().map(|(_, r)| r).collect()
}

/// The kind of CPD activity a reflection records.
fn activity(r: &Reflection) -> String {
    let mut a = format!(
        "Reflective practice: written reflection ({})",
        model_name(&r.model)
    );
    if r.discussed {
        a.push_str("; peer supervision: shared with the group for discussion");
    }
    a
}

/// One CPD entry's fields, in the order both formats give them.
struct Entry<'a> {
    year: MembershipYear,
    r: &'a Reflection,
    activity: String,
    competences: Vec<String>,
    learned: String,
    changes: String,
}

/// A CPD record: each reflection with its date, the kind of activity, time
/// spent, competences with their statements, what was learned and what will
/// change in practice, grouped by membership year (starting in month
/// `starts`); only `year`'s entries when given. Markdown and CSV.
pub fn cpd(
    framework: &Framework,
    all: &[Reflection],
    now: DateTime<Utc>,
    year: Option<i32>,
    starts: u32,
    limit: usize,
) -> Result<Vec<ExportFile>, csv::Error> {
    let starts = starts.clamp(1, 12);
    let whole = whole_entries(all);
    let entries = cpd_entries(framework, &whole, year, starts);
    let date = now.format("%Y-%m-%d");
    let stem = match year {
        Some(y) => format!("cpd-{y}-exported-{date}"),
        None => format!("cpd-exported-{date}"),
    };
    let mut files = cpd_markdown(&entries, now, starts, &stem, limit);
    files.extend(cpd_csv(&entries, &stem, limit)?);
    Ok(files)
}

/// The entries of a CPD record, oldest first: `year`'s only, when given.
fn cpd_entries<'a>(
    framework: &Framework,
    whole: &'a [Reflection],
    year: Option<i32>,
    starts: u32,
) -> Vec<Entry<'a>> {
    let mut entries: Vec<Entry<'a>> = whole
        .iter()
        .map(|r| {
            let (learned, changes) = learned_and_changes(r);
            Entry {
                year: MembershipYear::of(r.created.date_naive(), starts),
                r,
                activity: activity(r),
                competences: competence_lines(framework, r),
                learned,
                changes,
            }
        })
        .filter(|e| year.is_none_or(|y| e.year.year == y))
        .collect();
    entries.sort_by_key(|e| e.r.created);
    entries
}

/// Minutes in words, or "none".
fn time_recorded(minutes: u32) -> String {
    if minutes == 0 {
        "none".to_string()
    } else {
        minutes_text(minutes)
    }
}

/// The CPD record as Markdown, in files within `limit` bytes.
fn cpd_markdown(
    entries: &[Entry<'_>],
    now: DateTime<Utc>,
    starts: u32,
    stem: &str,
    limit: usize,
) -> Vec<ExportFile> {
    let total: u32 = entries.iter().filter_map(|e| e.r.minutes).sum();
    let header = |part: usize, parts: usize| {
        let mut h = format!(
            "# CPD record: reflective practice\n\nExported {} from practice-companion · {} entr{} · time recorded: {} · membership years start in {}.\n\nEach entry is a reflection the member wrote, tagged with the BACP Coaching competence framework (2022). Written with a reflective model, its text is read under the model's headings, numbered or not ({}); free writing is filed whole under “Reflection”. Keep this file somewhere private.\n",
            now.format("%-d %B %Y"),
            entries.len(),
            if entries.len() == 1 { "y" } else { "ies" },
            time_recorded(total),
            month_name(starts),
            headings_read().join("; "),
        );
        if parts > 1 {
            let _ = writeln!(h, "\nPart {part} of {parts}.");
        }
        h
    };
    let mut rendered: Vec<String> = Vec::new();
    let mut last_year = None;
    for e in entries {
        let mut md = String::new();
        // A year heading belongs to the entry it opens, so a split never
        // separates them.
        if last_year != Some(e.year) {
            let year_total: u32 = entries
                .iter()
                .filter(|o| o.year == e.year)
                .filter_map(|o| o.r.minutes)
                .sum();
            let _ = write!(
                md,
                "\n## Membership year {}\n\nTime recorded this year: {}.\n",
                e.year.label(),
                time_recorded(year_total)
            );
            last_year = Some(e.year);
        }
        md.push_str(&entry_markdown(e));
        rendered.push(md);
    }
    let opening = |part, parts| {
        let mut md = header(part, parts);
        if entries.is_empty() {
            md.push_str("\nNo reflections in this period.\n");
        }
        md
    };
    markdown_files(&rendered, limit, opening, stem)
}

/// One CPD entry in Markdown.
fn entry_markdown(e: &Entry<'_>) -> String {
    let mut md = format!(
        "\n### {} · {}\n\n- **Activity:** {}\n- **Kind of work:** {}\n- **Time spent:** {}\n",
        e.r.created.format("%-d %B %Y"),
        markdown_text(&title_of(e.r)),
        e.activity,
        e.r.mode.label(),
        e.r.minutes.map_or("not recorded".to_string(), minutes_text),
    );
    if e.competences.is_empty() {
        md.push_str("- **Competences:** none tagged\n");
    } else {
        md.push_str("- **Competences:**\n");
        for c in &e.competences {
            let _ = writeln!(md, "  - {c}");
        }
    }
    if e.learned.is_empty() && e.changes.is_empty() {
        let _ = write!(md, "\n**Reflection:**\n\n{}\n", markdown_text(&e.r.text));
    } else {
        let or_none = |t: &str| {
            if t.is_empty() {
                "not written".to_string()
            } else {
                markdown_text(t)
            }
        };
        let _ = write!(
            md,
            "\n**What I learned:**\n\n{}\n\n**What will change in my practice:**\n\n{}\n",
            or_none(&e.learned),
            or_none(&e.changes)
        );
    }
    md
}

/// The CPD record's columns, in order.
const CPD_COLUMNS: [&str; 9] = [
    "membership_year",
    "date",
    "title",
    "activity",
    "kind_of_work",
    "minutes",
    "competences",
    "learned_or_reflection",
    "changes_in_practice",
];

/// One CPD entry as a CSV row.
fn entry_row(e: &Entry<'_>) -> Vec<String> {
    vec![
        e.year.label(),
        e.r.created.format("%Y-%m-%d").to_string(),
        title_of(e.r),
        e.activity.clone(),
        e.r.mode.label().to_string(),
        e.r.minutes.map_or(String::new(), |m| m.to_string()),
        e.competences.join("\n"),
        if e.learned.is_empty() && e.changes.is_empty() {
            e.r.text.clone()
        } else {
            e.learned.clone()
        },
        e.changes.clone(),
    ]
}

/// The CPD record as CSV, in files within `limit` bytes.
fn cpd_csv(entries: &[Entry<'_>], stem: &str, limit: usize) -> Result<Vec<ExportFile>, csv::Error> {
    let rows: Vec<Vec<String>> = entries.iter().map(entry_row).collect();
    csv_files(&rows, &CPD_COLUMNS, stem, limit)
}

/// `rows` as CSV under `columns`, split into files within `limit` bytes
/// (each with the header), named `stem` and numbered when there are several.
pub(crate) fn csv_files(
    rows: &[Vec<String>],
    columns: &[&str],
    stem: &str,
    limit: usize,
) -> Result<Vec<ExportFile>, csv::Error> {
    let csv_groups = groups(
        rows,
        limit,
        |r| r.iter().map(|f| f.len() * 2 + 3).sum::<usize>() + 2,
        256,
    );
    let mut files = Vec::new();
    for (i, group) in csv_groups.iter().enumerate() {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(columns)?;
        for r in *group {
            writer.write_record(r)?;
        }
        let content = writer
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))?;
        files.push(ExportFile {
            name: part_name(stem, "csv", i + 1, csv_groups.len()),
            content,
        });
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::reflections::{Mode, SharedPost};

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 9, 30, 0).unwrap()
    }

    fn reflection(id: u64, model: &str, text: &str, created: DateTime<Utc>) -> Reflection {
        Reflection {
            id,
            author: 7,
            created,
            edited: None,
            title: format!("Reflection {id}"),
            text: text.into(),
            competences: vec!["core:3.5".parse().unwrap()],
            model: model.into(),
            framework: "Coaching competence framework".into(),
            framework_version: "2022".into(),
            mode: Mode::Integrated,
            minutes: Some(45),
            shared: Vec::new(),
            discussed: false,
            guild: None,
        }
    }

    fn text(file: &ExportFile) -> String {
        String::from_utf8(file.content.clone()).unwrap()
    }

    #[test]
    fn markdown_keeps_every_line_break_and_names_things_in_words() {
        let f = Framework::builtin().unwrap();
        let r = reflection(
            1,
            "gibbs",
            "Description: line one\nline two\n# not a heading\n\nNew paragraph.",
            at(2026, 5, 4),
        );
        let files = everything(&f, 7, &[r], at(2026, 11, 25), FILE_BYTES).unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["reflections-2026-11-25.md", "reflections-2026-11-25.json"]
        );
        let md = text(&files[0]);
        assert!(
            md.contains("line one  \nline two  \n\\# not a heading\n\nNew paragraph."),
            "{md}"
        );
        assert!(md.contains("Gibbs' reflective cycle"), "{md}");
        assert!(md.contains("Integrated therapy and coaching"), "{md}");
        assert!(md.contains("time spent: 45 minutes"), "{md}");
        let statement = &f.competence("core:3.5".parse().unwrap()).unwrap().statement;
        assert!(md.contains(&format!("- Core 3.5 — {statement}")), "{md}");
        assert!(
            !md.contains("model: gibbs") && !md.contains("integrated ·"),
            "{md}"
        );
        let json: serde_json::Value = serde_json::from_slice(&files[1].content).unwrap();
        assert_eq!(
            json["reflections"][0]["text"]
                .as_str()
                .unwrap()
                .lines()
                .count(),
            5
        );
    }

    #[test]
    fn a_large_export_is_split_into_files_within_the_limit_and_loses_nothing() {
        let f = Framework::builtin().unwrap();
        let all: Vec<Reflection> = (1..=40)
            .map(|i| {
                reflection(
                    i,
                    "free",
                    &format!("Entry {i}. {}", "words ".repeat(400)),
                    at(2026, 3, 1),
                )
            })
            .collect();
        let limit = 20_000;
        let files = everything(&f, 7, &all, at(2026, 11, 25), limit).unwrap();
        assert!(files.len() > 2, "{}", files.len());
        for file in &files {
            assert!(
                file.content.len() <= limit,
                "{} is {}",
                file.name,
                file.content.len()
            );
            assert!(file.name.contains("-part"), "{}", file.name);
        }
        let md: String = files
            .iter()
            .filter(|f| f.name.ends_with(".md"))
            .map(text)
            .collect();
        let json_count: usize = files
            .iter()
            .filter(|f| f.name.ends_with(".json"))
            .map(|f| {
                let v: serde_json::Value = serde_json::from_slice(&f.content).unwrap();
                v["reflections"].as_array().unwrap().len()
            })
            .sum();
        assert_eq!(json_count, 40);
        for i in 1..=40 {
            assert!(md.contains(&format!("Entry {i}. ")), "entry {i}");
        }
        let cpd = cpd(&f, &all, at(2026, 11, 25), None, 1, limit).unwrap();
        assert!(cpd.len() > 2);
        assert!(cpd.iter().all(|f| f.content.len() <= limit));
    }

    #[test]
    fn a_cpd_record_files_each_reflection_by_membership_year() {
        let f = Framework::builtin().unwrap();
        let mut shared = reflection(
            2,
            "rolfe",
            "What? A rupture.\nSo what? I rushed to fix it.\nIt showed me my own urgency.\nNow what? Pause before offering a tool.",
            at(2026, 4, 2),
        );
        shared.discussed = true;
        shared.shared.push(SharedPost {
            guild: None,
            channel: 1,
            message: 2,
            anonymous: true,
            at: at(2026, 4, 3),
        });
        let mut untimed = reflection(
            3,
            "free",
            "Free writing, \"quoted\", with a comma.",
            at(2027, 2, 1),
        );
        untimed.minutes = None;
        let all = vec![
            reflection(
                1,
                "kolb",
                "Experience: x\nIdeas: contracting theory\nExperiment: ask sooner",
                at(2026, 3, 15),
            ),
            shared,
            untimed,
        ];
        let files = cpd(&f, &all, at(2027, 3, 1), None, 4, FILE_BYTES).unwrap();
        let md = text(&files[0]);
        // April start: March 2026 is in the year from April 2025.
        let first = md
            .find("Membership year 1 April 2025 – 31 March 2026")
            .expect("2025–26");
        let second = md
            .find("Membership year 1 April 2026 – 31 March 2027")
            .expect("2026–27");
        assert!(first < second, "{md}");
        assert!(
            md.contains("**What I learned:**\n\ncontracting theory"),
            "{md}"
        );
        assert!(
            md.contains("**What will change in my practice:**\n\nask sooner"),
            "{md}"
        );
        assert!(
            md.contains("I rushed to fix it.  \nIt showed me my own urgency."),
            "{md}"
        );
        assert!(
            md.contains("peer supervision: shared with the group"),
            "{md}"
        );
        assert!(md.contains("**Time spent:** not recorded"), "{md}");
        assert!(md.contains("Time recorded this year: 45 minutes."), "{md}");
        assert!(md.contains("**Reflection:**\n\nFree writing"), "{md}");
        // The CSV reads back with a standard reader, one row per entry.
        let mut reader = csv::Reader::from_reader(files[1].content.as_slice());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(&rows[1][0], "1 April 2026 – 31 March 2027");
        assert_eq!(&rows[1][1], "2026-04-02");
        assert_eq!(&rows[1][5], "45");
        assert_eq!(
            &rows[1][7],
            "I rushed to fix it.\nIt showed me my own urgency."
        );
        assert_eq!(&rows[1][8], "Pause before offering a tool.");
        assert_eq!(&rows[2][7], "Free writing, \"quoted\", with a comma.");
        // One year only.
        let only = cpd(&f, &all, at(2027, 3, 1), Some(2025), 4, FILE_BYTES).unwrap();
        let md = text(&only[0]);
        assert!(
            md.contains("1 entry") && md.contains("contracting theory"),
            "{md}"
        );
        assert!(!md.contains("rupture"), "{md}");
        assert_eq!(only[0].name, "cpd-2025-exported-2027-03-01.md");
    }

    /// A text saved in parts is one entry, its time counted once.
    #[test]
    fn the_parts_of_one_text_are_one_entry_with_one_time() {
        let f = Framework::builtin().unwrap();
        let all: Vec<Reflection> = (1..=3)
            .map(|i| {
                let mut r = reflection(i, "free", &format!("Part {i} text."), at(2026, 5, 1));
                r.title = format!("Long (part {i} of 3)");
                r.minutes = Some(60);
                r
            })
            .collect();
        let files = cpd(&f, &all, at(2026, 11, 25), None, 1, FILE_BYTES).unwrap();
        let md = text(&files[0]);
        assert!(md.contains("1 entry · time recorded: 1 hour ·"), "{md}");
        assert!(md.contains("· Long\n"), "{md}");
        assert!(
            md.contains("Part 1 text.\n\nPart 2 text.\n\nPart 3 text."),
            "{md}"
        );
    }

    /// Each model's own headings are read, numbered or not, marked up or
    /// not, with any separator; a sentence that starts with a heading's word
    /// is not a heading.
    #[test]
    fn a_cpd_record_reads_each_models_headings_as_members_write_them() {
        let f = Framework::builtin().unwrap();
        let gibbs = reflection(
            1,
            "gibbs",
            "1. Description\nA session.\n4. Analysis: contracting theory\n5. Conclusion\nI could have paused.\n6. Action plan\nAsk sooner.",
            at(2026, 5, 1),
        );
        let kolb = reflection(
            2,
            "kolb",
            "Experience - a rupture\n**Ideas:** repair\nExperiment – name it next time",
            at(2026, 5, 2),
        );
        let rolfe = reflection(
            3,
            "rolfe",
            "What happened was hard.\nSo what? I rushed.\nNow what? Pause.",
            at(2026, 5, 3),
        );
        let files = cpd(
            &f,
            &[gibbs, kolb, rolfe],
            at(2026, 11, 25),
            None,
            1,
            FILE_BYTES,
        )
        .unwrap();
        let md = text(&files[0]);
        assert!(
            md.contains("**What I learned:**\n\ncontracting theory  \nI could have paused.\n\n**What will change in my practice:**\n\nAsk sooner."),
            "{md}"
        );
        assert!(
            md.contains("**What I learned:**\n\nrepair\n\n**What will change in my practice:**\n\nname it next time"),
            "{md}"
        );
        assert!(
            md.contains(
                "**What I learned:**\n\nI rushed.\n\n**What will change in my practice:**\n\nPause."
            ),
            "{md}"
        );
        // The member is shown the headings read.
        assert!(
            md.contains("Gibbs' reflective cycle: “Analysis” and “Conclusion” as what you learned, “Action plan” as what will change"),
            "{md}"
        );
    }

    #[test]
    fn months_are_read_as_typed() {
        assert_eq!(parse_month("April"), Some(4));
        assert_eq!(parse_month("apr"), Some(4));
        assert_eq!(parse_month("9"), Some(9));
        assert_eq!(parse_month("13"), None);
        assert_eq!(parse_month("ju"), None);
        assert_eq!(parse_month(""), None);
        assert_eq!(
            MembershipYear {
                year: 2026,
                starts: 1
            }
            .label(),
            "2026"
        );
    }
}
