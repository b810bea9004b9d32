//! Personal commands against a store of their own.

use super::*;
use crate::reflections::Mode;
use chrono::TimeZone;

/// A framework and a store of their own for one test.
fn scratch(name: &str) -> (Framework, Store) {
    let dir = std::env::temp_dir().join(format!(
        "companion-personal-{name}-{}-{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    (
        Framework::builtin().unwrap(),
        Store::open(&dir, None).unwrap(),
    )
}

fn member<'a>(framework: &'a Framework, store: &'a Store, id: u64) -> Member<'a> {
    Member {
        framework,
        store,
        id,
        now: Utc::now(),
        guild: None,
        times: Times::Utc,
    }
}

#[test]
fn each_member_waits_for_each_heavy_command_by_the_clock() {
    let fair = FairUse::default();
    let t0 = Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap();
    assert!(fair.start(1, Heavy::Export, t0).is_ok());
    let soon = fair.start(1, Heavy::Export, t0 + chrono::Duration::seconds(20));
    assert!(soon.unwrap_err().contains("Try again in 40 s"));
    // Another member, another command: no wait.
    assert!(fair.start(2, Heavy::Export, t0).is_ok());
    assert!(fair.start(1, Heavy::Map, t0).is_ok());
    assert!(fair.start(1, Heavy::Map, t0 + Heavy::Map.every()).is_ok());
    assert!(
        fair.start(1, Heavy::Export, t0 + Heavy::Export.every())
            .is_ok()
    );
    assert!(fair.start(1, Heavy::ForgetMe, t0).is_ok());
    assert!(
        fair.start(1, Heavy::ForgetMe, t0 + chrono::Duration::seconds(29))
            .is_err()
    );
}

/// Forget-me is charged when confirmed: the asking is no command at all,
/// so the first confirmation goes through, the next within 30 s is
/// refused, and one after the wait goes through again.
#[test]
fn forget_me_is_charged_when_confirmed() {
    let fair = FairUse::default();
    let t0 = Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap();
    assert_eq!(Personal::ForgetMe.heavy(), Some(Heavy::ForgetMe));
    assert!(fair.admit(1, &Personal::ForgetMe, t0).is_ok());
    let again = fair.admit(1, &Personal::ForgetMe, t0 + chrono::Duration::seconds(10));
    let said = again.unwrap_err();
    assert!(
        said.contains("forget-me") && said.contains("Try again in 20 s"),
        "{said}"
    );
    // Nothing else a member does is held up by it, nor charged.
    for other in [Personal::View(1), Personal::Delete(1)] {
        assert_eq!(other.heavy(), None);
        assert!(fair.admit(1, &other, t0).is_ok());
        assert!(fair.admit(1, &other, t0).is_ok());
    }
    assert!(
        fair.admit(1, &Personal::ForgetMe, t0 + Heavy::ForgetMe.every())
            .is_ok()
    );
}

/// Every reply that confirms a change comes after the store synced the
/// database at least once during the command (flush alone is not enough).
#[test]
fn every_confirmation_follows_a_sync() {
    let (framework, store) = scratch("syncs");
    let member = member(&framework, &store, 5);
    let draft = || Draft {
        title: "A title".into(),
        text: "Some text.".into(),
        competences: vec![],
        model: "free".into(),
        mode: Mode::Coaching,
        minutes: None,
    };
    let tag: CompetenceId = "core:3.5".parse().unwrap();
    let commands = [
        (Personal::Save(draft()), "Saved as reflection #1"),
        (Personal::Edit(1, draft()), "Reflection #1 updated."),
        (Personal::AddTag(1, tag), "now tagged C3.5"),
        (Personal::Delete(1), "Reflection #1 is deleted."),
        (Personal::Save(draft()), "Saved as reflection #2"),
        (Personal::ForgetMe, "Done: 1 reflection"),
    ];
    for (command, says) in commands {
        let before = store.syncs();
        let reply = handle(&member, command.clone()).unwrap();
        let text = reply.text.clone().unwrap_or_default();
        assert!(text.contains(says), "{text}");
        assert!(
            store.syncs() > before,
            "{command:?} confirmed without a sync"
        );
    }
    // A read confirms nothing and needs no sync.
    let before = store.syncs();
    handle(&member, Personal::List { tag: None, page: 1 }).unwrap();
    assert_eq!(store.syncs(), before);
}

#[test]
fn confirmations_name_what_would_go() {
    let framework = Framework::builtin().unwrap();
    let untitled = Draft {
        text: "An untitled one, named by its words.".into(),
        ..Draft::default()
    }
    .into_reflection(3, 1, Utc::now(), &framework);
    let delete = confirm_delete(&untitled);
    assert!(
        delete
            .question
            .starts_with("Delete reflection #3, “An untitled one, named by its words.”?"),
        "{}",
        delete.question
    );
    assert_eq!(delete.reply().actions, vec![Action::ConfirmDelete(3)]);
    assert_eq!(delete.declined, "Kept: reflection #3 was not deleted.");
    let forget = confirm_forget(2);
    assert!(forget.question.contains("all 2 of your reflections"));
    assert_eq!(forget.word, "forget-me");
}

#[test]
fn a_tag_past_the_limit_is_refused_in_words() {
    let (framework, store) = scratch("tags");
    let member = member(&framework, &store, 8);
    let ten: Vec<CompetenceId> = framework
        .competences()
        .iter()
        .take(crate::reflections::MAX_TAGS)
        .map(|c| c.id)
        .collect();
    let draft = Draft {
        text: "Tagged to the limit.".into(),
        competences: ten.clone(),
        ..Draft::default()
    };
    handle(&member, Personal::Save(draft)).unwrap();
    let eleventh = framework.competences()[crate::reflections::MAX_TAGS].id;
    let reply = handle(&member, Personal::AddTag(1, eleventh)).unwrap();
    assert!(
        reply
            .text
            .unwrap_or_default()
            .contains("already has 10 tags"),
        "refused in words"
    );
    assert_eq!(store.reflection(8, 1).unwrap().unwrap().competences, ten);
}

#[test]
fn one_damaged_record_hides_nothing_else() {
    let (framework, store) = scratch("damaged");
    let member = member(&framework, &store, 6);
    for text in ["Damaged later.", "Still fine."] {
        let draft = Draft {
            text: text.into(),
            competences: vec!["core:3.5".parse().unwrap()],
            ..Draft::default()
        };
        handle(&member, Personal::Save(draft)).unwrap();
    }
    store.damage_for_test(6, 1);
    let says_damaged = |reply: &Reply| {
        let text = reply.text.clone().unwrap_or_default();
        assert!(text.contains("(#1) could not be read"), "{text}");
    };
    let list = handle(&member, Personal::List { tag: None, page: 1 }).unwrap();
    says_damaged(&list);
    let view = handle(&member, Personal::View(1)).unwrap();
    assert!(
        view.text
            .clone()
            .unwrap_or_default()
            .contains("could not be read"),
        "{view:?}"
    );
    assert!(list.cards[0].description.contains("Still fine."));
    let tagged = handle(
        &member,
        Personal::List {
            tag: Some("core:3.5".parse().unwrap()),
            page: 1,
        },
    )
    .unwrap();
    says_damaged(&tagged);
    let export = handle(&member, Personal::Export(ExportKind::Everything)).unwrap();
    says_damaged(&export);
    let md = String::from_utf8(export.attachments[0].content.clone()).unwrap();
    assert!(md.contains("Still fine.") && !md.contains("Damaged later."));
    let map = handle(&member, Personal::Map).unwrap();
    says_damaged(&map);
    let forget = handle(&member, Personal::ForgetMe).unwrap();
    assert!(
        forget
            .text
            .unwrap_or_default()
            .contains("Done: 2 reflections"),
        "forget-me needs no decryption"
    );
    assert!(!store.holds_anything_of(6).unwrap());
}

#[test]
fn log_and_presentation_changes_are_synced_before_they_are_confirmed_and_scoped_to_their_member() {
    use crate::supervision::case::{CaseDraft, Field, Frame};
    use crate::supervision::log::{Kind, LogDraft};
    let (framework, store) = scratch("supervision");
    let alice = member(&framework, &store, 5);
    let bob = member(&framework, &store, 6);
    let entry = LogDraft {
        date: chrono::NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(),
        attended: true,
        minutes: 60,
        kind: Kind::Group,
        took_away: String::new(),
        competences: vec![],
        functions: vec![],
    };
    let case = CaseDraft {
        frame: Frame::Short,
        fields: vec![Field {
            key: "question".into(),
            text: "How do I end well?".into(),
        }],
    };
    let commands = [
        (
            Personal::Log(LogCommand::Add(entry)),
            "Logged as supervision log entry #1",
        ),
        (
            Personal::Log(LogCommand::Minimum(Some(90))),
            "now 1.5 hours",
        ),
        (
            Personal::Cases(CaseCommand::Save(case)),
            "Saved as case presentation #1",
        ),
        (
            Personal::Cases(CaseCommand::Delete(1)),
            "Case presentation #1 is deleted.",
        ),
        (
            Personal::Log(LogCommand::Delete(1)),
            "Supervision log entry #1 is deleted.",
        ),
    ];
    for (command, says) in commands {
        let before = store.syncs();
        let text = handle(&alice, command.clone())
            .unwrap()
            .text
            .unwrap_or_default();
        assert!(text.contains(says), "{text}");
        assert!(
            store.syncs() > before,
            "{command:?} confirmed without a sync"
        );
    }
    handle(
        &alice,
        Personal::Log(LogCommand::Add(LogDraft {
            date: chrono::NaiveDate::from_ymd_opt(2026, 3, 11).unwrap(),
            attended: false,
            minutes: 0,
            kind: Kind::Peer,
            took_away: String::new(),
            competences: vec![],
            functions: vec![],
        })),
    )
    .unwrap();
    // Bob reaches none of Alice's: her number 2 is not his.
    let his = handle(&bob, Personal::Log(LogCommand::View(2))).unwrap();
    assert!(
        his.is_error
            && his
                .text
                .unwrap()
                .contains("You have no supervision log entry #2")
    );
    let his = handle(&bob, Personal::Log(LogCommand::Delete(2))).unwrap();
    assert!(his.is_error);
    let year = handle(
        &bob,
        Personal::Log(LogCommand::Year {
            year: Some(2026),
            starts: 1,
            files: false,
        }),
    )
    .unwrap()
    .text
    .unwrap();
    assert!(
        year.contains("no time in supervision") && year.contains("set no monthly minimum"),
        "{year}"
    );
    assert!(
        handle(&alice, Personal::Log(LogCommand::View(2)))
            .unwrap()
            .cards
            .len()
            == 1
    );
    // A future date is refused by the core too, with what works.
    let future = handle(
        &alice,
        Personal::Log(LogCommand::Add(LogDraft {
            date: chrono::NaiveDate::from_ymd_opt(2100, 1, 1).unwrap(),
            attended: false,
            minutes: 0,
            kind: Kind::Peer,
            took_away: String::new(),
            competences: vec![],
            functions: vec![],
        })),
    )
    .unwrap();
    assert!(
        future.is_error
            && future
                .text
                .unwrap()
                .contains("give today's date or an earlier one")
    );
}

#[test]
fn a_damaged_log_entry_or_presentation_is_named_and_hides_nothing_else() {
    use crate::supervision::case::{CaseDraft, Field, Frame};
    use crate::supervision::log::{Kind, LogDraft};
    let (framework, store) = scratch("supervision-damaged");
    let me = member(&framework, &store, 5);
    for day in [10, 11] {
        let entry = LogDraft {
            date: chrono::NaiveDate::from_ymd_opt(2026, 3, day).unwrap(),
            attended: true,
            minutes: 60,
            kind: Kind::Peer,
            took_away: format!("Day {day}."),
            competences: vec![],
            functions: vec![],
        };
        handle(&me, Personal::Log(LogCommand::Add(entry))).unwrap();
        let case = CaseDraft {
            frame: Frame::Short,
            fields: vec![Field {
                key: "question".into(),
                text: format!("Question of day {day}?"),
            }],
        };
        handle(&me, Personal::Cases(CaseCommand::Save(case))).unwrap();
    }
    store.damage_supervision_for_test(5, 1);
    let list = handle(&me, Personal::Log(LogCommand::List)).unwrap();
    let note = list.text.unwrap_or_default();
    assert!(
        note.contains("Some of your supervision log entries (#1) could not be read"),
        "{note}"
    );
    assert!(list.cards[0].description.contains("#2"));
    let cases = handle(&me, Personal::Cases(CaseCommand::List)).unwrap();
    assert!(
        cases
            .text
            .unwrap_or_default()
            .contains("case presentations (#1)")
    );
    let view = handle(&me, Personal::Log(LogCommand::View(1))).unwrap();
    assert!(view.is_error && view.text.unwrap().contains("Record #1 could not be read"));
    let export = handle(&me, Personal::Export(ExportKind::Everything)).unwrap();
    let said = export.text.unwrap_or_default();
    assert!(
        said.contains("1 supervision log entry, 1 case presentation"),
        "{said}"
    );
    assert!(
        said.contains("Some of your case presentations (#1) could not be read"),
        "{said}"
    );
    let year = handle(
        &me,
        Personal::Export(ExportKind::Supervision {
            year: Some(2026),
            starts: 1,
        }),
    )
    .unwrap();
    assert_eq!(
        year.attachments.len(),
        3,
        "Markdown, the entries and the totals"
    );
    // A damaged header (the last number, the minimum, the priorities)
    // counts as empty: the map, the export, the week's priorities and a new
    // entry still work, numbered above every entry there.
    store.damage_supervision_for_test(5, 0);
    assert!(!handle(&me, Personal::Map).unwrap().is_error);
    assert!(
        !handle(&me, Personal::Export(ExportKind::Everything))
            .unwrap()
            .is_error
    );
    assert_eq!(store.priorities(5).unwrap(), Vec::new());
    assert_eq!(store.log_minimum(5).unwrap(), None);
    let again = LogDraft {
        date: chrono::NaiveDate::from_ymd_opt(2026, 3, 12).unwrap(),
        attended: true,
        minutes: 60,
        kind: Kind::Peer,
        took_away: "Day 12.".into(),
        competences: vec![],
        functions: vec![],
    };
    let added = handle(&me, Personal::Log(LogCommand::Add(again))).unwrap();
    assert!(
        added.text.unwrap_or_default().contains("#3"),
        "numbered above #2"
    );
    let forget = handle(&me, Personal::ForgetMe).unwrap().text.unwrap();
    assert!(
        forget.contains("3 supervision log entries, 2 case presentations"),
        "{forget}"
    );
    assert!(!store.holds_anything_of(5).unwrap());
}

#[test]
fn the_full_export_holds_priorities_and_a_part_in_meetings_even_with_no_reflection() {
    let (framework, store) = scratch("export-others");
    let empty = handle(
        &member(&framework, &store, 5),
        Personal::Export(ExportKind::Everything),
    )
    .unwrap();
    let said = empty.text.clone().unwrap_or_default();
    assert!(
        said.starts_with("You have nothing here to export"),
        "{said}"
    );
    assert!(empty.attachments.is_empty());

    // Priorities alone are exported, as Markdown and JSON.
    let c35: crate::framework::CompetenceId = "core:3.5".parse().unwrap();
    store.set_priorities(5, &[c35]).unwrap();
    let only_priorities = handle(
        &member(&framework, &store, 5),
        Personal::Export(ExportKind::Everything),
    )
    .unwrap();
    let names: Vec<&str> = only_priorities
        .attachments
        .iter()
        .map(|a| a.filename.as_str())
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("development-priorities-") && n.ends_with(".md"))
            && names
                .iter()
                .any(|n| n.starts_with("development-priorities-") && n.ends_with(".json")),
        "{names:?}"
    );

    // A member on a server's rota, with an item brought, gets that part of
    // the meetings record; another member's part is not in it.
    let mut m = crate::meetings::group::Meetings::default();
    for (who, label) in [(5, "Endings with a sponsor"), (6, "Someone else's item")] {
        m.items.push(crate::meetings::group::Item {
            slot: chrono::NaiveDate::from_ymd_opt(2027, 1, 14).unwrap(),
            member: who,
            minutes: 15,
            label: Some(label.into()),
            reflection: None,
            presentation: Some(2),
        });
    }
    store
        .set_meetings(77, &crate::meetings::group::Meetings::default(), &m)
        .unwrap();
    let with_meetings = handle(
        &member(&framework, &store, 5),
        Personal::Export(ExportKind::Everything),
    )
    .unwrap();
    let md = with_meetings
        .attachments
        .iter()
        .find(|a| a.filename.starts_with("meetings-") && a.filename.ends_with(".md"))
        .map(|a| String::from_utf8(a.content.clone()).unwrap())
        .expect("the meetings part, as Markdown");
    assert!(md.contains("Endings with a sponsor"), "{md}");
    assert!(md.contains("from my case presentation #2"), "{md}");
    assert!(!md.contains("Someone else's item"), "{md}");
    assert!(
        with_meetings
            .attachments
            .iter()
            .any(|a| a.filename.starts_with("meetings-") && a.filename.ends_with(".json"))
    );
    assert!(
        with_meetings
            .text
            .as_deref()
            .unwrap_or_default()
            .contains("your part in your group's meetings")
    );
}

#[test]
fn a_cpd_record_holds_the_years_supervision_even_with_no_reflection() {
    use crate::supervision::log::{Kind, LogDraft};
    let (framework, store) = scratch("cpd-supervision");
    let me = member(&framework, &store, 5);
    let cpd = |year| Personal::Export(ExportKind::Cpd { year, starts: 4 });
    let nothing = handle(&me, cpd(Some(2025))).unwrap();
    assert_eq!(
        nothing.text.as_deref(),
        Some(
            "You have no reflections, supervision logged, case presentations, or roles or items at a group's meetings for the membership year 1 April 2025 – 31 March 2026, and no development priorities, to make a CPD record from."
        )
    );
    for (y, m) in [(2026, 3), (2026, 5)] {
        let entry = LogDraft {
            date: chrono::NaiveDate::from_ymd_opt(y, m, 10).unwrap(),
            attended: true,
            minutes: 90,
            kind: Kind::Group,
            took_away: String::new(),
            competences: vec![],
            functions: vec![],
        };
        handle(&me, Personal::Log(LogCommand::Add(entry))).unwrap();
    }
    let names = |reply: &Reply| -> Vec<String> {
        reply
            .attachments
            .iter()
            .map(|a| a.filename.clone())
            .collect()
    };
    // March 2026 is in the membership year 2025 (from April); May in 2026.
    let one_year = handle(&me, cpd(Some(2025))).unwrap();
    let files = names(&one_year);
    assert!(
        files
            .iter()
            .any(|n| n.starts_with("supervision-2025-") && n.ends_with(".md"))
            && files
                .iter()
                .any(|n| n.starts_with("supervision-2025-") && n.ends_with(".csv"))
            && !files.iter().any(|n| n.starts_with("supervision-2026-")),
        "{files:?}"
    );
    assert!(
        one_year
            .text
            .as_deref()
            .unwrap_or_default()
            .contains("your supervision record for the same membership year"),
        "{:?}",
        one_year.text
    );
    let every_year = names(&handle(&me, cpd(None)).unwrap());
    for y in ["supervision-2025-", "supervision-2026-"] {
        assert!(
            every_year.iter().any(|n| n.starts_with(y)),
            "{every_year:?}"
        );
    }
    // A year with no supervision logged has no supervision record.
    let none_that_year = handle(&me, cpd(Some(2024))).unwrap();
    assert!(none_that_year.attachments.is_empty());
    assert!(
        none_that_year
            .text
            .as_deref()
            .unwrap_or_default()
            .starts_with(
                "You have no reflections, supervision logged, case presentations, or roles or items at a group's meetings for the membership year 1 April 2024"
            ),
        "{:?}",
        none_that_year.text
    );
}

/// A CPD record's export, its attachments by name and their text.
fn cpd_export(me: &Member<'_>, year: Option<i32>) -> (String, Vec<(String, String)>) {
    let reply = handle(me, Personal::Export(ExportKind::Cpd { year, starts: 4 })).unwrap();
    (
        reply.text.unwrap_or_default(),
        reply
            .attachments
            .into_iter()
            .map(|a| (a.filename, String::from_utf8(a.content).unwrap()))
            .collect(),
    )
}

/// The text of the one file whose name starts with `start` and ends with `end`.
fn file<'a>(files: &'a [(String, String)], start: &str, end: &str) -> &'a str {
    let found: Vec<&(String, String)> = files
        .iter()
        .filter(|(n, _)| n.starts_with(start) && n.ends_with(end))
        .collect();
    let names: Vec<&String> = files.iter().map(|(n, _)| n).collect();
    assert_eq!(found.len(), 1, "{start}…{end} in {names:?}");
    &found[0].1
}

#[test]
fn a_cpd_record_holds_the_years_group_practice_and_nothing_of_another_member() {
    use crate::meetings::group::{Item, Meetings};
    use crate::meetings::rota;
    use crate::supervision::case::{CaseDraft, Field, Frame};
    let (framework, store) = scratch("cpd-practice");
    let at = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 18, 0, 0).unwrap();
    let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let written_by = |who: u64, when, question: &str| {
        let mut writer = member(&framework, &store, who);
        writer.now = when;
        let case = CaseDraft {
            frame: Frame::Short,
            fields: vec![Field {
                key: "question".into(),
                text: question.into(),
            }],
        };
        let said = handle(&writer, Personal::Cases(CaseCommand::Save(case))).unwrap();
        assert!(
            said.text
                .unwrap_or_default()
                .starts_with("Saved as case presentation"),
            "{question}"
        );
    };
    // With years from April: June 2025 is in 2025, May 2026 in 2026.
    written_by(
        5,
        at(2025, 6, 1),
        "How do I end with a sponsor?\n# not a heading",
    );
    written_by(5, at(2026, 5, 2), "What do I owe the sponsor, \"really\"?");
    written_by(6, at(2026, 5, 2), "A case of someone else's");

    // Two members on one rota: a meeting in February 2026 (the year 2025),
    // then May, June, July and August (2026); giving each meeting its roles
    // records the one before as served. Ana presents in February, June and
    // August and facilitates in May and July.
    let names: rota::Names = [(5, "Ana".to_string()), (6, "Ben".to_string())].into();
    let both: std::collections::BTreeSet<u64> = [5, 6].into();
    let mut r = rota::Rota::default();
    for who in [5, 6] {
        r = rota::join(&r, who, &names).rota;
    }
    for starts in [
        at(2026, 2, 12),
        at(2026, 5, 14),
        at(2026, 6, 11),
        at(2026, 7, 9),
        at(2026, 8, 13),
    ] {
        r = rota::allocate(&r, starts, 1, &both, &names).rota;
    }
    let mut m = Meetings {
        rota: r,
        ..Meetings::default()
    };
    for (who, slot, label, presentation) in [
        (5, day(2026, 5, 14), "My sponsor question", Some(2)),
        (6, day(2026, 5, 14), "Someone else's item", Some(1)),
        (5, day(2025, 9, 10), "An early item", None),
    ] {
        m.items.push(Item {
            slot,
            member: who,
            minutes: 20,
            label: Some(label.into()),
            reflection: None,
            presentation,
        });
    }
    store.set_meetings(77, &Meetings::default(), &m).unwrap();
    let c35: crate::framework::CompetenceId = "core:3.5".parse().unwrap();
    store.set_priorities(5, &[c35]).unwrap();

    let mut ana = member(&framework, &store, 5);
    ana.now = at(2026, 12, 1);
    let (said, files) = cpd_export(&ana, Some(2026));
    let md = file(&files, "group-practice-2026-exported-2026-12-01", ".md");
    for kept in [
        "What do I owe the sponsor, \"really\"?",
        "Brought to the meeting of 2026-05-14 (server 77).",
        "- Served as facilitator at the meeting of 2026-05-14.",
        "- Served as presenter at the meeting of 2026-06-11.",
        "- Served as facilitator at the meeting of 2026-07-09.",
        "- Serving as presenter at the meeting of 2026-08-13: it has begun",
        "shown as \"My sponsor question\", from my case presentation #2",
        "The rota keeps every role you served at each meeting held, up to your latest 156 services of each role",
    ] {
        assert!(md.contains(kept), "{kept} in {md}");
    }
    for other in [
        "end with a sponsor",
        "Last served",
        "2026-02-12",
        "An early item",
        "Someone else's item",
        "A case of someone else's",
    ] {
        assert!(!md.contains(other), "{other} in {md}");
    }
    assert!(
        !files
            .iter()
            .any(|(n, _)| n.starts_with("group-practice-2025-"))
    );
    let cases = file(&files, "group-practice-2026-", "-presentations.csv");
    assert!(
        cases.contains("\"What do I owe the sponsor, \"\"really\"\"?\"")
            && !cases.contains("someone else"),
        "{cases}"
    );
    let roles = file(&files, "group-practice-2026-", "-meetings.csv");
    assert!(
        roles.starts_with("membership_year,server,date,record,role,minutes,shown_as,from\n"),
        "{roles}"
    );
    for row in [
        "77,2026-05-14,role served,facilitator,,,",
        "77,2026-06-11,role served,presenter,,,",
        "77,2026-07-09,role served,facilitator,,,",
        "77,2026-08-13,role at a meeting begun,presenter,,,",
        "77,2026-05-14,agenda item,,20,My sponsor question,my case presentation #2",
    ] {
        assert!(roles.contains(row), "{row} in {roles}");
    }
    assert!(
        !roles.contains("Someone else") && !roles.contains("2026-02-12"),
        "{roles}"
    );
    let priorities = file(&files, "development-priorities-2026-12-01", ".md");
    assert!(
        priorities.contains("As they stand at export, 1 December 2026")
            && priorities.contains("- **C3.5** "),
        "{priorities}"
    );
    file(&files, "development-priorities-2026-12-01", ".csv");
    assert!(
        said.contains("Your group practice for the same membership year")
            && said.contains("Your development priorities, as they stand at export"),
        "{said}"
    );

    // The year before holds the presentation written then, the role
    // served then and the item brought then, and none of 2026's.
    let (_, files) = cpd_export(&ana, Some(2025));
    let md = file(&files, "group-practice-2025-", ".md");
    for kept in [
        "How do I end with a sponsor?  \n\\# not a heading",
        "- Served as presenter at the meeting of 2026-02-12.",
        "shown as \"An early item\".",
    ] {
        assert!(md.contains(kept), "{kept} in {md}");
    }
    for other in ["owe the sponsor", "facilitator", "My sponsor question"] {
        assert!(!md.contains(other), "{other} in {md}");
    }
    // Every year, when none is asked.
    let (_, files) = cpd_export(&ana, None);
    for y in ["group-practice-2025-", "group-practice-2026-"] {
        file(&files, y, ".md");
    }
    // A role held at a meeting that has not begun is not yet practice.
    ana.now = at(2026, 8, 1);
    let (_, files) = cpd_export(&ana, Some(2026));
    let md = file(&files, "group-practice-2026-", ".md");
    assert!(!md.contains("Serving as"), "{md}");

    // The other member's record holds theirs, and nothing of Ana's.
    let mut ben = member(&framework, &store, 6);
    ben.now = at(2026, 12, 1);
    let (_, files) = cpd_export(&ben, Some(2026));
    let md = file(&files, "group-practice-2026-", ".md");
    assert!(
        md.contains("A case of someone else's") && md.contains("\"Someone else's item\""),
        "{md}"
    );
    for other in ["owe the sponsor", "My sponsor question", "An early item"] {
        assert!(!md.contains(other), "{other} in {md}");
    }
    assert!(
        !files
            .iter()
            .any(|(n, _)| n.starts_with("development-priorities-"))
    );
}

#[test]
fn a_cpd_record_with_nothing_to_hold_says_what_it_looked_for() {
    use crate::meetings::group::{MeetingReminder, Meetings};
    let (framework, store) = scratch("cpd-empty");
    // A meeting reminder names the member in the meetings record, but is
    // no practice to file.
    let mut m = Meetings::default();
    m.reminders.push(MeetingReminder {
        member: 7,
        lead_hours: 24,
        in_quiet_hours: false,
        zone: None,
        last: None,
    });
    store.set_meetings(77, &Meetings::default(), &m).unwrap();
    let me = member(&framework, &store, 7);
    let (said, files) = cpd_export(&me, None);
    assert!(files.is_empty());
    assert_eq!(
        said,
        "You have no reflections, supervision logged, case presentations, or roles or items at a group's meetings, and no development priorities, to make a CPD record from."
    );
    // Priorities alone make a record, whatever the year.
    let c35: crate::framework::CompetenceId = "core:3.5".parse().unwrap();
    store.set_priorities(7, &[c35]).unwrap();
    let (_, files) = cpd_export(&me, Some(2024));
    let names: Vec<&String> = files.iter().map(|(n, _)| n).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    file(&files, "development-priorities-", ".md");
}
