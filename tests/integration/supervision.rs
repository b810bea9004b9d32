//! One member's supervision log and case presentations through the console,
//! as the binary runs them: the year's record against the member's own
//! minimum, the confidentiality check before a presentation is saved, the
//! export, and forget-me erasing both for good.

use std::path::{Path, PathBuf};

use crate::storage::{occurs_in, raw_tree};
use crate::support::{companion_with_input, files_under};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "companion-supervision-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn console(data: &Path, input: &str) -> String {
    let run = companion_with_input(
        &["console", "--data-dir", data.to_str().expect("utf-8 path")],
        input,
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    run.stdout
}

/// Two entries, March and April 2026: a group meeting and a peer session.
const TWO_ENTRIES: &str = "/log add\n2026-03-10\nyes\ngroup\n1h 30\nI slow down at endings now.\n.\nC2.10, C9.9\nformative, restorative\n/log add\n14 April 2026\n\npeer\n45\n.\n\nnormative\n";

#[test]
fn two_entries_make_a_year_record_that_names_the_months_below_the_members_own_minimum() {
    let data = scratch("year");
    let out = console(
        &data,
        &format!("{TWO_ENTRIES}/log year 2026\n/log minimum 1.5\n/log year 2026\n/log list\n"),
    );
    assert!(out.contains("Logged as supervision log entry #1: 10 Mar 2026 · group · 1 hour 30 minutes · formative, restorative"), "{out}");
    assert!(
        out.contains("C9.9 was left out: there is no such competence.")
            && out.contains("Competences: C2.10."),
        "a bad tag drops only itself, named: {out}"
    );
    assert!(
        out.contains(
            "Logged as supervision log entry #2: 14 Apr 2026 · peer · 45 minutes · normative"
        ),
        "{out}"
    );
    let (before, after) = out
        .split_once("Your monthly minimum is now 1.5 hours.")
        .expect("the minimum is set");
    assert!(
        before.contains("You have set no monthly minimum, so hours are shown without one."),
        "no figure of the bot's own: {before}"
    );
    assert!(!before.contains("Below it"), "{before}");
    assert!(
        after.contains("some professional bodies count only part of the time spent in group or peer supervision"),
        "how the hours are counted is said where they meet the minimum: {after}"
    );
    assert!(
        after.contains("- March 2026: 1.5\n- April 2026: 0.75\n"),
        "{after}"
    );
    assert!(
        after.contains("- Group supervision: 1.5 hours, 1 attended")
            && after.contains("- Peer supervision: 0.75 hours, 1 attended"),
        "{after}"
    );
    let below = after
        .lines()
        .find(|l| l.contains("Below it:"))
        .expect("months below are named");
    assert!(below.contains("April 2026 (0.75 hours)"), "{below}");
    assert!(below.contains("February 2026 (nothing logged)"), "{below}");
    assert!(!below.contains("March 2026"), "March met it: {below}");
    assert!(
        after.contains(
            "- restorative (support with how the work affects you): 1 session, 1.5 hours"
        ),
        "{after}"
    );
    assert!(after.contains("#2 14 Apr 2026 · peer"), "{after}");
}

#[test]
fn a_name_in_a_case_presentation_gets_the_check_before_it_is_saved() {
    let data = scratch("case");
    let skipped = ".\n".repeat(5);
    let out = console(
        &data,
        &format!(
            "/present\nMy client Sarah Jones manages a team.\n.\nA manager in transition.\n.\n.\n{skipped}What am I missing about the sponsor?\n.\n/present view 1\n/present short\nShould I tell Mr Smith at Barclays?\n.\n.\n/present list\n"
        ),
    );
    let check = out
        .find("A gentle check: “1. The client” seems to contain")
        .expect("the check on the client field");
    let saved = out
        .find("Saved as case presentation #1")
        .expect("saved once the question is written");
    assert!(check < saved, "the check comes before the save: {out}");
    let view = &out[saved..];
    assert!(view.contains("A manager in transition."), "{view}");
    assert!(
        !out[check..].contains("Sarah Jones"),
        "rewritten, never echoed: {out}"
    );
    // Kept as written, by the member's choice: said again with the save.
    let second = &out[out.find("Saved as case presentation #2").expect("saved")..];
    assert!(
        second.contains("A gentle check: “My question for the group” seems to contain"),
        "{second}"
    );
    assert!(
        out.contains("#2 5 Dec") || out.contains("· short · Should I tell"),
        "{out}"
    );
}

#[test]
fn a_presentation_without_its_question_is_not_saved_and_what_was_written_is_shown_back() {
    let data = scratch("case-ended");
    let out = console(&data, "/present\nA coachee in transition.\n.\n.\n");
    assert!(
        out.contains("The presentation has no question for the group yet, so nothing is saved."),
        "{out}"
    );
    assert!(
        out.contains("1. The client\nA coachee in transition."),
        "{out}"
    );
    assert!(console(&data, "/present list\n").contains("You have no case presentations."));
}

#[test]
fn the_full_export_holds_the_log_and_the_presentations_and_the_year_has_its_record() {
    let data = scratch("export");
    let all = scratch("export-all");
    let year = scratch("export-year");
    std::fs::create_dir_all(&all).expect("folder");
    std::fs::create_dir_all(&year).expect("folder");
    let out = console(
        &data,
        &format!(
            "{TWO_ENTRIES}/present short\nHow do I end well with a sponsor watching?\n.\n/reflections export {}\n/log export 2026 {}\n",
            all.display(),
            year.display()
        ),
    );
    assert!(
        out.contains(
            "0 reflections, 2 supervision log entries, 1 case presentation, as Markdown and as JSON"
        ),
        "{out}"
    );
    let read = |dir: &Path, starts: &str, ext: &str| -> String {
        let path = files_under(dir)
            .into_iter()
            .find(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                name.starts_with(starts)
                    && name.ends_with(ext)
                    && (ext == "-totals.csv" || !name.ends_with("-totals.csv"))
            })
            .unwrap_or_else(|| panic!("{starts}*{ext} in {}", dir.display()));
        std::fs::read_to_string(path).expect("readable")
    };
    let log_md = read(&all, "supervision-log-", ".md");
    assert!(log_md.contains("I slow down at endings now."), "{log_md}");
    let log_json = read(&all, "supervision-log-", ".json");
    assert!(log_json.contains("\"functions\""), "{log_json}");
    let cases = read(&all, "case-presentations-", ".md");
    assert!(
        cases.contains("How do I end well with a sponsor watching?"),
        "{cases}"
    );
    read(&all, "case-presentations-", ".json");
    let record = read(&year, "supervision-2026-", ".md");
    assert!(record.contains("# Supervision record"), "{record}");
    assert!(record.contains("Group supervision: 1.5 hours"), "{record}");
    let csv = read(&year, "supervision-2026-", ".csv");
    assert_eq!(csv.lines().count(), 3, "a header and two entries: {csv}");
    let totals = read(&year, "supervision-2026-", "-totals.csv");
    assert!(
        totals
            .lines()
            .any(|l| l.starts_with("2026,kind,2026,group,1,0,90,1.5,")),
        "the same 1.5 hours of group supervision as the Markdown: {totals}"
    );
}

#[test]
fn forget_me_erases_the_log_and_the_presentations_and_nothing_of_them_is_readable_again() {
    let data = scratch("forget");
    let marker = "Quillfeather-7741";
    let out = console(
        &data,
        &format!(
            "/log add\n2026-03-10\nyes\npeer\n60\n{marker} in the log.\n.\n\n\n/log minimum 2\n/present short\n{marker} in a question?\n.\n"
        ),
    );
    assert!(out.contains("Saved as case presentation #1"), "{out}");
    assert!(
        occurs_in(&data, marker.as_bytes()).is_empty(),
        "sealed: the words appear in no file"
    );
    let mut sealed: Vec<Vec<u8>> = Vec::new();
    for tree in ["supervision_log", "case_presentations"] {
        sealed.extend(raw_tree(&data, tree).into_iter().map(|(_, v)| v));
    }
    assert_eq!(
        sealed.len(),
        4,
        "an entry, a presentation and their headers"
    );

    let out = console(&data, "/reflections forget-me\nforget-me\n");
    for named in [
        "your supervision log",
        "your case presentations",
        "your development priorities",
        "your place and history on every group's rota",
        "the items you brought to meetings",
        "your meeting reminders",
        "your share in the group's quarterly counts",
        "A role you hold at the next meeting is left open",
        "your encryption key, for good",
    ] {
        assert!(out.contains(named), "the question names {named:?}: {out}");
    }
    assert!(
        out.contains("Done: 0 reflections, 1 supervision log entry, 1 case presentation, your development priorities, your part in every group's meetings (the rota, your items, your meeting reminders, the quarterly counts) and your encryption key are removed"),
        "{out}"
    );
    // The console closed cleanly: the erasure is real, in the backups too.
    for value in &sealed {
        let probe = &value[value.len() / 2..value.len() / 2 + 16];
        assert_eq!(occurs_in(&data, probe), Vec::<PathBuf>::new());
    }
    let out = console(&data, "/log list\n/present list\n/log year 2026\n");
    assert!(out.contains("Your supervision log is empty."), "{out}");
    assert!(out.contains("You have no case presentations."), "{out}");
    assert!(out.contains("You have set no monthly minimum"), "{out}");
    let store = practice_companion::store::Store::open(&data, None).expect("reopens");
    let me = practice_companion::console::LOCAL_MEMBER;
    assert!(!store.holds_anything_of(me).expect("query"));
    assert_eq!(store.supervision_counts(me).expect("counts"), (0, 0));
}
