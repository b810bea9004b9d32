//! The console, scripted.

use super::*;
use crate::commands::commands_on;
use chrono::Datelike;

fn session(dir: &Path, input: &str) -> String {
    let f = Library::builtin().unwrap();
    let mut out = Vec::new();
    Console::new(&f, dir, input.as_bytes(), &mut out, false)
        .unwrap()
        .run()
        .unwrap();
    String::from_utf8(out).unwrap()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("companion-console-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn a_cpd_record_is_written_with_the_time_spent_and_the_year_asked_for() {
    let dir = temp("cpd");
    let folder = temp("cpd-out");
    std::fs::create_dir_all(&folder).unwrap();
    let out = session(
        &dir,
        &format!(
            "/reflect C3.5 model:rolfe\nRupture\nWhat? A rupture.\nSo what? I rushed.\nNow what? Pause first.\n.\n\ncoaching\n1h 30\n/reflections export cpd 20x6\n/reflections export cpd 1999\n/reflections export cpd from Smarch\n/reflections export cpd {} from April {}\n",
            chrono::Utc::now().year() - 1 + i32::from(chrono::Utc::now().month() >= 4),
            folder.display()
        ),
    );
    assert!(out.contains("Saved as reflection #1"), "{out}");
    assert!(out.contains("The year is written in digits only"), "{out}");
    assert!(!out.contains("20x6"), "never echoed: {out}");
    assert!(
        out.contains("Give the month your membership year starts"),
        "{out}"
    );
    assert!(out.contains("Membership years start in April"), "{out}");
    assert!(
        out.contains("The membership year is one from 2000 to 2100")
            && !out.contains("1999")
            && !out.contains("is not a year"),
        "{out}"
    );
    assert!(
        out.contains("read under its headings, numbered or not"),
        "the headings read are shown: {out}"
    );
    let files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    let md_path = files
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "md"));
    let md = std::fs::read_to_string(md_path.unwrap()).unwrap();
    assert!(md.contains("**Time spent:** 1 hour 30 minutes"), "{md}");
    assert!(md.contains("**What I learned:**\n\nI rushed."), "{md}");
    assert!(md.contains("Core 3.5 — "), "{md}");
}

#[test]
fn a_text_longer_than_one_reflection_is_saved_whole_in_parts() {
    let dir = temp("long");
    let folder = temp("long-out");
    std::fs::create_dir_all(&folder).unwrap();
    let paragraph = "Written at length in the console, every word kept. ".repeat(50);
    let text = vec![paragraph.trim(); 45].join("\n\n");
    assert!(text.chars().count() > crate::reflections::MAX_STORED_CHARS);
    let out = session(
        &dir,
        &format!(
            "/reflect C3.5\nLong\n{text}\n.\n\n\n1h\n/reflections list\n/map\n/reflections export cpd {}\n",
            folder.display()
        ),
    );
    let tail = |out: &str| {
        out.chars()
            .rev()
            .take(3000)
            .collect::<String>()
            .chars()
            .rev()
            .collect::<String>()
    };
    assert!(
        out.contains("Saved as reflections #1 to #2, tagged C3.5")
            && out.contains("kept whole in 2 parts, which count as one entry"),
        "{}",
        tail(&out)
    );
    assert!(out.contains("Long (part 1 of 2)") && out.contains("Long (part 2 of 2)"));
    assert!(
        out.contains("1 reflection touching 1 of 60"),
        "one entry on the map: {}",
        tail(&out)
    );
    let md = std::fs::read_dir(&folder)
        .unwrap()
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "md"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .unwrap();
    assert!(
        md.contains("1 entry · time recorded: 1 hour ·"),
        "{}",
        &md[..400]
    );
    let one = session(&dir, "/reflections view 1\n");
    let two = session(&dir, "/reflections view 2\n");
    let words = |t: &str| t.split_whitespace().filter(|w| *w == "kept.").count();
    assert_eq!(
        words(&one) + words(&two),
        50 * 45,
        "every sentence is kept and shown"
    );
}

/// Each field is checked as it is typed and asked again with the reason:
/// a title too long, an empty text, a kind of work that is none of them,
/// a time that is not one. Nothing typed before is lost.
#[test]
fn each_field_is_checked_when_typed_and_asked_again() {
    let dir = temp("fields");
    let long = "t".repeat(124);
    let out = session(
        &dir,
        &format!(
            "/reflect\n{long}\nA shorter title\n.\nThe work itself.\n.\n\nsupervision\nother\nan hour or so\n45\n/reflections view 1\n"
        ),
    );
    let refused = out.find("The title is 124 characters long").expect(&out);
    let asked = out.find("Write your reflection").expect(&out);
    assert!(refused < asked, "refused at the title prompt: {out}");
    assert!(out.contains("The reflection is empty."), "{out}");
    assert!(
        out.contains("supervision, training and reading are other"),
        "{out}"
    );
    assert!(!out.contains("saved as coaching"), "{out}");
    assert!(out.contains("That is not a time spent"), "{out}");
    assert!(out.contains("Saved as reflection #1."), "{out}");
    assert!(out.contains("#1 A shorter title"), "{out}");
    assert!(
        out.contains("Other work") && out.contains("45 minutes"),
        "{out}"
    );
    assert!(out.contains("The work itself."), "{out}");
}

/// A bad tag drops only itself, by name, in a new reflection and in an
/// edit; a bad tag given to /reflect is said at once.
#[test]
fn a_bad_tag_drops_only_itself() {
    let dir = temp("tags");
    let out = session(&dir, "/reflect\n\nTagged.\n.\nC3.5, C2.10, C9.9\n\n\n");
    assert!(
        out.contains("C9.9 was left out: there is no such competence."),
        "{out}"
    );
    assert!(
        out.contains("Saved as reflection #1, tagged C3.5, C2.10"),
        "{out}"
    );
    let out = session(
        &dir,
        "/reflections edit 1\n\n.\nC3.5, I2.3, C9.9, strengths\n\n\n/reflections view 1\n",
    );
    assert!(out.contains("The 4th entry was left out"), "{out}");
    assert!(!out.contains("kept as they were"), "{out}");
    assert!(out.contains("C3.5, I2.3"), "{out}");
    let out = session(&dir, "/reflect C9.9\n/reflections list\n");
    assert!(out.contains("C9.9 is not a competence to tag"), "{out}");
    assert!(
        !out.contains("Write your reflection"),
        "nothing asked: {out}"
    );
    assert!(out.contains("1 in all"), "the next line ran: {out}");
}

#[test]
fn the_look_wraps_at_words_styles_or_strips_emphasis_and_keeps_indents() {
    let plain = Look {
        width: Some(30),
        colour: false,
    };
    let text = "**Bold start** then `code` and a sentence long enough to wrap twice over.\n  · an indented item that also runs long enough to wrap";
    let shown = plain.text(text);
    assert!(!shown.contains("**") && !shown.contains('`'), "{shown}");
    assert!(shown.lines().all(|l| l.chars().count() <= 30), "{shown}");
    let words = |t: &str| t.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(
        words(&shown),
        words(&text.replace("**", "").replace('`', ""))
    );
    let item: Vec<&str> = shown.lines().skip_while(|l| !l.contains('·')).collect();
    assert!(
        item.len() > 1 && item[1].starts_with("    "),
        "hanging indent: {shown}"
    );
    assert_eq!(plain.text("*An aside.*"), "An aside.");
    let styled = Look {
        width: None,
        colour: true,
    };
    let shown = styled.text("**Bold** rest");
    assert!(
        shown.starts_with("\u{1b}[1mBold\u{1b}[0m rest"),
        "{shown:?}"
    );
    assert_eq!(Look::default().text("a **b** c"), "a b c");
}

/// The console shows reflection times in local time, not UTC.
#[test]
fn reflection_times_are_local() {
    let dir = temp("local-time");
    let day = || chrono::Local::now().format("%-d %B %Y").to_string();
    let before = day();
    let out = session(
        &dir,
        "/reflect\n\nA moment.\n.\n\n\n\n/reflections view 1\n",
    );
    let after = day();
    let written = out
        .lines()
        .find(|l| l.contains("Written "))
        .unwrap_or_default();
    assert!(!written.contains("UTC"), "{written}");
    assert!(
        written.contains(&before) || written.contains(&after),
        "{written}"
    );
}

/// The console has every command the core's list gives it, and `/help`
/// names only those; Discord's help names none of the console's own.
#[test]
fn the_console_has_the_commands_its_help_lists() {
    let f = Library::builtin().unwrap();
    for name in commands_on(FrontEnd::Console) {
        let line = format!("/{name} preview");
        assert!(
            !matches!(parse_line(&f, &line), Line::Problem(ref p) if p.starts_with("There is no")),
            "/{name} is listed for the console but not parsed"
        );
    }
    let console = commands::help_text(FrontEnd::Console);
    let discord = commands::help_text(FrontEnd::Discord);
    for absent in ["/remind", "/inline", "/schedule set"] {
        assert!(!console.contains(absent), "{absent} in the console's help");
    }
    assert!(console.contains("/week") && console.contains("/quit"));
    assert!(!discord.contains("/quit") && discord.contains("/remind on"));
    let out = session(&temp("help"), "/help\n/remind on\n");
    assert!(out.contains("There is no /remind command"), "{out}");
    assert!(out.contains("/help or /quit."), "{out}");
}

/// `/week` for a member practising alone: one competence a week from
/// Monday, kept across sessions, the domains in turn; `/schedule preview`
/// shows the next without using it up.
#[test]
fn the_week_is_a_personal_rotation_that_moves_on_each_monday() {
    use crate::clock::ManualClock;
    use chrono::TimeZone;
    let dir = temp("week");
    let f = Library::builtin().unwrap();
    let at = |day: u32| {
        chrono::Utc
            .with_ymd_and_hms(2026, 11, day, 12, 0, 0)
            .unwrap()
    };
    let run = |day: u32, input: &str| {
        let mut out = Vec::new();
        let mut console = Console::new(&f, &dir, input.as_bytes(), &mut out, false).unwrap();
        console.clock = Box::new(ManualClock::new(at(day)));
        console.run().unwrap();
        String::from_utf8(out).unwrap()
    };
    let title = |out: &str, lead: &str| -> String {
        let after = out.split(lead).nth(1).unwrap_or_default();
        after
            .lines()
            .find(|l| l.starts_with("Competence of the week: "))
            .unwrap_or_default()
            .to_string()
    };
    // Wednesday 25 November: C1.1; again the same week; next is I1.1.
    let out = run(25, "/week\n/week\n/schedule preview\n");
    assert_eq!(
        title(&out, "Your competence of the week:"),
        "Competence of the week: C1.1"
    );
    assert_eq!(
        out.matches("Competence of the week: C1.1").count(),
        2,
        "{out}"
    );
    assert_eq!(
        title(&out, "Next week's competence"),
        "Competence of the week: I1.1"
    );
    // Sunday, same week, a new session: still C1.1.
    let out = run(29, "/w\n");
    assert!(out.contains("Competence of the week: C1.1"), "{out}");
    // Monday 30 November: the rotation moves on, once.
    let out = run(30, "/week\n/week\n/schedule preview\n");
    assert_eq!(
        out.matches("Competence of the week: I1.1").count(),
        2,
        "{out}"
    );
    assert!(out.contains("Competence of the week: C1.2"), "{out}");
    let out = run(30, "/schedule set\n");
    assert!(out.contains("set up in Discord"), "{out}");
}

#[test]
fn the_week_follows_the_zone_tz_names() {
    assert_eq!(
        zone_named(Some("Pacific/Auckland")),
        Some(chrono_tz::Pacific::Auckland)
    );
    assert_eq!(
        zone_named(Some(":Europe/Dublin")),
        Some(chrono_tz::Europe::Dublin)
    );
    assert_eq!(zone_named(Some("/etc/localtime")), None);
    assert_eq!(zone_named(Some("")), None);
    assert_eq!(zone_named(None), None);
}

/// The personal week turns at Monday 00:00 in the console's zone: at
/// 12:00 UTC on Sunday 29 November it is already Monday in Auckland.
#[test]
fn the_week_turns_at_monday_in_the_consoles_zone() {
    use crate::clock::ManualClock;
    use chrono::TimeZone;
    let f = Library::builtin().unwrap();
    let run = |dir: &Path, zone: chrono_tz::Tz, day: u32| {
        let mut out = Vec::new();
        let mut console = Console::new(&f, dir, "/week\n".as_bytes(), &mut out, false).unwrap();
        console.zone = zone;
        console.clock = Box::new(ManualClock::new(
            chrono::Utc
                .with_ymd_and_hms(2026, 11, day, 12, 0, 0)
                .unwrap(),
        ));
        console.run().unwrap();
        String::from_utf8(out).unwrap()
    };
    let london = temp("week-zone-london");
    let auckland = temp("week-zone-auckland");
    // Friday 27th: the first week, in both zones.
    run(&london, chrono_tz::Europe::London, 27);
    run(&auckland, chrono_tz::Pacific::Auckland, 27);
    let in_london = run(&london, chrono_tz::Europe::London, 29);
    let in_auckland = run(&auckland, chrono_tz::Pacific::Auckland, 29);
    assert!(
        in_london.contains("Competence of the week: C1.1"),
        "still Sunday: {in_london}"
    );
    assert!(
        in_auckland.contains("Competence of the week: I1.1"),
        "already Monday: {in_auckland}"
    );
}

#[test]
fn search_results_end_with_a_next_step() {
    let out = session(&temp("search-next"), "/search theories of motivation\n");
    assert!(out.contains("Core 4.2"), "{out}");
    assert!(
        out.contains("Next: /competence C4.2 opens the first"),
        "{out}"
    );
    let out = session(&temp("same-number"), "/competence C3.5\n");
    let next = out
        .lines()
        .find(|l| l.starts_with("Next:"))
        .unwrap_or_default();
    assert!(
        next.ends_with("/competence I3.5"),
        "the other domain last: {next}"
    );
}

#[test]
fn the_guide_reads_whole_sections_and_lists_them() {
    let out = session(&temp("guide"), "/guide supervision\n/guide\n/guide xqzvw\n");
    assert!(out.contains("The role of supervision"), "{out}");
    assert!(
        out.contains("might therefore need to engage a second supervisor"),
        "{out}"
    );
    assert!(out.contains("Definitions and terminology"), "{out}");
    assert!(
        out.contains("Next: /guide executive-summary opens the first"),
        "{out}"
    );
    assert_eq!(
        out.matches("definition-coaching").count(),
        1,
        "listed once: {out}"
    );
    assert!(
        out.contains("No section of the user guide matches"),
        "{out}"
    );
    // A long section is printed whole: every part, in order.
    let out = session(&temp("guide-long"), "/guide how-to-use\n");
    assert!(
        out.contains("(part 1 of 2)") && out.contains("(part 2 of 2)"),
        "{out}"
    );
    assert!(out.contains("for the greater benefit of those they work with."));
}

#[test]
fn lookups_need_no_store() {
    let dir = temp("lookups");
    let out = session(
        &dir,
        "/competence 3.5 domain:core\n/search theories of motivation\n",
    );
    assert!(out.contains("Core 3.5") && !out.contains("Integration 3.5"));
    assert!(out.contains("Core 4.2"));
    assert!(!dir.exists(), "nothing is written for lookups");
}

#[test]
fn a_reflection_is_written_listed_viewed_and_mapped() {
    let dir = temp("reflect");
    let out = session(
        &dir,
        "/reflect C3.5 model:rolfe\nStrengths session\nWhat? My client named their values.\nNow what? Try C2.8.\n.\n\nintegrated\n/reflections list\n/reflections view 1\n/map\n",
    );
    assert!(out.contains("Rolfe"), "{out}");
    assert!(out.contains("Saved as reflection #1, tagged C3.5"), "{out}");
    assert!(out.contains("You mention C2.8"), "{out}");
    assert!(out.contains("/reflections tag 1 C2.8"), "{out}");
    assert!(out.contains("#1 "), "{out}");
    assert!(out.contains("My client named their values."), "{out}");
    assert!(out.contains("Your competence map"), "{out}");
    assert!(out.contains("Integrated therapy and coaching"), "{out}");
}

#[test]
fn delete_and_forget_ask_first() {
    let dir = temp("delete");
    let out = session(
        &dir,
        "/reflect\n\nOne.\n.\n\n\n/reflections delete 1\nno\n/reflections view 1\n/reflections forget-me\nyes\n/reflections forget-me\nforget-me\n/reflections list\n",
    );
    assert!(
        out.contains("Kept: reflection #1 was not deleted."),
        "{out}"
    );
    assert!(out.contains("Nothing was removed."), "{out}");
    assert!(out.contains("Done: 1 reflection"), "{out}");
    assert!(out.contains("You have no reflections yet"), "{out}");
}

#[test]
fn a_locked_data_directory_is_reported_before_anything_is_asked() {
    let dir = temp("locked-early");
    let holder = Store::open(&dir, None).unwrap();
    let out = session(&dir, "/reflect\n");
    assert!(out.contains("in use by another companion process"), "{out}");
    assert!(
        !out.contains("Write your reflection"),
        "nothing was asked: {out}"
    );
    drop(holder);
}

#[test]
fn input_that_ends_after_the_text_still_saves_it() {
    let dir = temp("eof");
    let out = session(
        &dir,
        "/reflect C3.5\nA title\nThe text, then the input ends.\n",
    );
    assert!(out.contains("Input ended: saving with C3.5"), "{out}");
    assert!(out.contains("Saved as reflection #1"), "{out}");
    let out = session(&dir, "/reflections view 1\n");
    assert!(out.contains("The text, then the input ends."), "{out}");
    // An edit whose input ends after the text keeps the other fields.
    let out = session(&dir, "/reflections edit 1\n\nRevised text.\n.\n");
    assert!(out.contains("Reflection #1 updated."), "{out}");
    let out = session(&dir, "/reflections view 1\n");
    assert!(
        out.contains("Revised text.") && out.contains("C3.5"),
        "{out}"
    );
}

#[test]
fn unknown_numbers_are_not_found_and_commands_are_not_answers() {
    let dir = temp("not-found");
    let out = session(
        &dir,
        "/reflect\n\nOne.\n.\n\n\n/reflections delete 7\n/reflections view 1\n",
    );
    assert!(out.contains("You have no reflection #7"), "{out}");
    assert!(!out.contains("Type yes"), "{out}");
    assert!(out.contains("One."), "the next command was run: {out}");
    let out = session(&dir, "/reflections delete 1\n/reflections list\n");
    assert!(
        out.contains("Kept: reflection #1 was not deleted."),
        "{out}"
    );
    assert!(
        out.contains("1 in all"),
        "the command was run, not swallowed: {out}"
    );
    let out = session(&dir, "/reflections forget-me\n/map\n");
    assert!(out.contains("Nothing was removed."), "{out}");
    assert!(out.contains("competence map"), "{out}");
}

#[cfg(unix)]
#[test]
fn exports_are_private_new_files_never_through_a_link() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp("export-private");
    let folder = temp("export-private-out");
    std::fs::create_dir_all(&folder).unwrap();
    let export = format!("/reflections export {}\n", folder.display());
    let out = session(&dir, &format!("/reflect\n\nPrivate.\n.\n\n\n{export}"));
    assert!(out.contains("wrote"), "{out}");
    let files: Vec<_> = std::fs::read_dir(&folder).unwrap().flatten().collect();
    assert_eq!(files.len(), 2);
    for f in &files {
        assert_eq!(f.metadata().unwrap().permissions().mode() & 0o777, 0o600);
    }
    // Again the same day: nothing is overwritten.
    let before: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f.path()).unwrap())
        .collect();
    let out = session(&dir, &export);
    assert!(!out.contains("error"), "{out}");
    let names = |dir: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|f| f.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let now = names(&folder);
    assert_eq!(now.len(), 4, "a second export beside the first: {now:?}");
    assert!(
        now.iter().filter(|n| n.contains("-2.")).count() == 2,
        "{now:?}"
    );
    let after: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f.path()).unwrap())
        .collect();
    assert_eq!(before, after);
    // A link planted at the name is not followed.
    let other = temp("export-link-out");
    std::fs::create_dir_all(&other).unwrap();
    let target = temp("export-link-target");
    std::fs::write(&target, b"not yours").unwrap();
    for f in &files {
        std::os::unix::fs::symlink(&target, other.join(f.file_name())).unwrap();
    }
    let out = session(&dir, &format!("/reflections export {}\n", other.display()));
    assert!(out.contains("wrote"), "{out}");
    assert_eq!(std::fs::read(&target).unwrap(), b"not yours");
    assert_eq!(names(&other).len(), 4, "written beside the links");
}

#[test]
fn a_long_script_of_declined_confirmations_runs_every_line() {
    let dir = temp("many-confirms");
    // Each answer is itself a command asking for confirmation: they are
    // run one after another, never nested.
    let script = "/reflections forget-me\n".repeat(20_000) + "/map\n";
    let out = session(&dir, &script);
    // Each line answers the one before (declined) and then runs as a command
    // that asks again; the last ask is answered by /map, which then runs.
    assert_eq!(out.matches("Nothing was removed.").count(), 20_000);
    assert!(out.contains("competence map"), "the last line ran");
}

#[test]
fn lookups_in_an_empty_existing_directory_create_no_database() {
    let dir = temp("empty-existing");
    std::fs::create_dir_all(&dir).unwrap();
    let out = session(&dir, "/competence 3.5\n");
    assert!(out.contains("3.5"), "{out}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[test]
fn unknown_commands_say_what_exists() {
    let dir = temp("unknown");
    let out = session(
        &dir,
        "/frobnicate\n/reflections frob\n/reflections view x\n",
    );
    assert!(out.contains("There is no /frobnicate command"));
    assert!(out.contains("Use /reflections list"));
    assert!(out.contains("Give the reflection's number"));
}

/// Every message the console gives for what the issue found untrue.
#[test]
fn messages_say_what_is_true() {
    let dir = temp("true");
    let out = session(&dir, "//competence 3.5\n");
    assert!(
        out.contains("Core 3.5") && !out.contains("There is no"),
        "{out}"
    );
    let out = session(&dir, "/reflect model:\n/reflect model:borton\n");
    assert!(
        out.contains("Name a reflective model after model: one of free, gibbs, rolfe, kolb."),
        "{out}"
    );
    assert!(!out.contains("model ."), "{out}");
    assert!(
        out.contains("What? So what? Now what?"),
        "borton found: {out}"
    );
    let out = session(&dir, "/guide how-to-use part 2\n");
    assert!(
        out.contains("(part 2 of 2)") && !out.contains("(part 1 of 2)"),
        "{out}"
    );
    let out = session(&dir, "help\n");
    assert!(
        out.contains("keeps the BACP Coaching competence framework"),
        "{out}"
    );
    assert!(!out.contains("Best matches"), "help is not searched: {out}");
    let out = session(&dir, "exit\n/competence 3.5\n");
    assert!(!out.contains("Core 3.5"), "exit leaves: {out}");
    let out = session(&dir, "quit\n/competence 3.5\n");
    assert!(!out.contains("Core 3.5"), "quit leaves: {out}");
    let out = session(&dir, "theories of motivation\n");
    assert!(out.contains("Core 4.2"), "{out}");
    assert!(!out.contains("isn't a competence code"), "{out}");
    let out = session(&dir, "/week C2.9\n");
    assert!(out.contains("Competence of the week: C2.9"), "{out}");
    let out = session(&dir, "/search what is therapy\n");
    for row in out.lines().filter(|l| l.starts_with("  Guide: ")) {
        assert!(row.contains(" · "), "{row}");
    }
    assert!(out.contains("  Guide: "), "{out}");
}

/// Tags added twice say so; a tag can be removed; an untitled
/// reflection is named alike in its list, its view and its export; no
/// card tells the console's one member that only they can see it.
#[test]
fn reflections_are_named_and_tagged_truly() {
    let dir = temp("tagged");
    let folder = temp("tagged-out");
    std::fs::create_dir_all(&folder).unwrap();
    let out = session(
        &dir,
        &format!(
            "/reflect\n\nThe opening words name it.\n.\n\n\n\n/reflections tag 1 C2.9\n/reflections tag 1 C2.9\n/reflections untag 1 C2.9\n/reflections untag 1 C2.9\n/reflections list\n/reflections view 1\n/map\n/reflections export {}\n",
            folder.display()
        ),
    );
    assert!(out.contains("Reflection #1 is now tagged C2.9."), "{out}");
    assert!(
        out.contains("Reflection #1 is already tagged C2.9; nothing changed."),
        "{out}"
    );
    assert!(
        out.contains("Reflection #1 is no longer tagged C2.9."),
        "{out}"
    );
    assert!(out.contains("Reflection #1 is not tagged C2.9"), "{out}");
    assert!(
        out.contains("· The opening words name it.")
            && out.contains("#1 The opening words name it."),
        "{out}"
    );
    assert!(!out.contains("Untitled"), "{out}");
    assert!(!out.contains("Only you can see this"), "{out}");
    let md = std::fs::read_dir(&folder)
        .unwrap()
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "md"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .unwrap();
    assert!(md.contains("## #1 The opening words name it."), "{md}");
}

/// A list longer than a page says how to reach the next, and
/// `page 2`, `page:2` and `2` all reach it.
#[test]
fn a_list_says_how_to_reach_its_next_page() {
    let dir = temp("pages");
    let twelve: String = (1..=12)
        .map(|i| format!("/reflect\nNumber {i}\nText {i}.\n.\n\n\n\n"))
        .collect();
    let out = session(&dir, &format!("{twelve}/reflections list\n"));
    assert!(
        out.contains("Page 1 of 2 · 12 in all · /reflections list page:2 for the next"),
        "{out}"
    );
    assert!(out.contains("Next: /reflections view 12"), "{out}");
    assert!(out.contains("/reflections list page:2"), "{out}");
    for asked in ["page 2", "page:2", "2"] {
        let out = session(&dir, &format!("/reflections list {asked}\n"));
        assert!(out.contains("Page 2 of 2"), "{asked}: {out}");
        assert!(!out.contains("tag"), "{asked}: {out}");
    }
}

mod typed_text_is_never_dropped {
    use super::*;
    use proptest::prelude::*;

    /// An answer to one prompt: anything on one line, or the answers
    /// people give (codes, kinds, times, a full stop, nothing, a
    /// harmless command).
    fn answer() -> impl Strategy<Value = String> {
        prop_oneof![
            "[^\n]{0,130}",
            Just(String::new()),
            Just(".".to_string()),
            Just("/map".to_string()),
            Just("C3.5, C9.9, strengths".to_string()),
            Just("supervision".to_string()),
            Just("other".to_string()),
            Just("1h 30".to_string()),
            Just("soon".to_string()),
            "[tT]{95,110}",
        ]
        .prop_filter("no command but the harmless", |a| {
            !a.trim_start().starts_with('/') || a.trim() == "/map"
        })
    }

    fn clean(line: &str) -> String {
        line.chars()
            .filter(|c| !c.is_control() || *c == '\t')
            .collect::<String>()
            .trim()
            .to_string()
    }

    /// Answers `/reflect` with `answers`, one a line: every line the
    /// console took as the text must be saved, or shown back.
    fn saved_or_shown(answers: &[String]) -> Result<(), String> {
        let dir = temp(&format!(
            "prop-{}",
            std::process::id() as u128 * 1_000_000 + u128::from(rand_id())
        ));
        let f = Library::builtin().unwrap();
        let input = format!("/reflect\n{}\n", answers.join("\n"));
        let mut out = Vec::new();
        let mut console = Console::new(&f, &dir, input.as_bytes(), &mut out, false).unwrap();
        console.run().unwrap();
        let transcript = std::mem::take(&mut console.transcript);
        drop(console);
        let shown = String::from_utf8(out).unwrap();
        let store = Store::open(&dir, None).unwrap();
        let saved: String = store
            .reflections_of(LOCAL_MEMBER)
            .unwrap()
            .items
            .iter()
            .map(|r| format!("{}\n{}\n", r.title, r.text))
            .collect();
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
        for (prompt, line) in &transcript {
            let Some(line) = line else { continue };
            if prompt != "| " || line.trim() == "." {
                continue;
            }
            let typed = clean(line);
            if !(typed.is_empty() || saved.contains(&typed) || shown.contains(&typed)) {
                return Err(format!(
                    "{typed:?} was typed as the text, and is neither saved nor shown back\nsaved: {saved:?}\nshown: {shown}"
                ));
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(40))]

        /// Whatever is answered to each prompt of /reflect, every line
        /// the console took as the text is saved, or shown back.
        #[test]
        fn the_text_is_saved_or_shown_back(
            answers in prop::collection::vec(answer(), 1..14),
        ) {
            saved_or_shown(&answers).map_err(TestCaseError::fail)?;
        }
    }

    /// The answers CI once found: a text line holding control characters
    /// and characters no font draws, ended by the input, not by `.`.
    #[test]
    fn a_text_line_of_control_and_unassigned_characters_is_saved_or_shown_back() {
        let answers = [
            "supervision",
            "C3.5, C9.9, strengths",
            "C3.5, C9.9, strengths",
            "soon",
            "supervision",
            "*``O\"\u{8}/E\u{60d6a}\u{fffd}\u{e0656}'-W\u{95f0e}\u{92afb}\u{b}\u{7f}j\u{468}\u{7f}:v\u{dc76f}\u{24f7f}'",
            "1h 30",
            "soon",
            "/map",
        ]
        .map(String::from);
        saved_or_shown(&answers).unwrap();
    }

    fn rand_id() -> u32 {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed)
    }
}

#[test]
fn a_log_entry_asks_each_refused_field_again_with_the_reason() {
    let dir = temp("log-form");
    let out = session(
        &dir,
        "/log add\nnext tuesday\n2026-03-10\nmaybe\nno\ntraining\npeer\n/log add\n2026-03-11\n\n\nlots\n1h\nTook away a question.\n.\n\nsupportive\nformative\n/log list\n/log delete 1\nno\n/log delete 1\nyes\n/log list\n",
    );
    assert!(
        out.contains("That is not a date: write it as 2026-03-10"),
        "{out}"
    );
    assert!(out.contains("Answer yes or no."), "{out}");
    assert!(
        out.contains("That is not one of group, peer or individual"),
        "{out}"
    );
    assert!(
        out.contains("Logged as supervision log entry #1: 10 Mar 2026 · peer · missed"),
        "{out}"
    );
    assert!(out.contains("That is not a time spent"), "{out}");
    assert!(
        out.contains("The 1st word is not one of normative, formative or restorative"),
        "{out}"
    );
    assert!(
        out.contains(&crate::supervision::log::functions_help()),
        "the functions are said before they are asked: {out}"
    );
    assert!(
        out.contains(
            "Logged as supervision log entry #2: 11 Mar 2026 · group · 1 hour · formative"
        ),
        "{out}"
    );
    assert!(
        out.contains("Delete supervision log entry #1, “10 March 2026, Peer supervision”?")
            && out.contains("Kept: supervision log entry #1 was not deleted.")
            && out.contains("Supervision log entry #1 is deleted."),
        "{out}"
    );
}

#[test]
fn a_command_typed_into_a_log_form_runs_next_and_nothing_is_saved() {
    let dir = temp("log-command");
    let out = session(&dir, "/log add\n2026-03-10\n/present list\n/log list\n");
    assert!(
        out.contains("That looks like a command, so it runs next: nothing is saved."),
        "{out}"
    );
    assert!(out.contains("You have no case presentations."), "{out}");
    assert!(out.contains("Your supervision log is empty."), "{out}");
}

#[test]
fn log_and_present_lines_that_cannot_be_read_say_what_would_work() {
    let dir = temp("log-lines");
    let out = session(
        &dir,
        "/log minimum lots\n/log view x\n/log year 20x6\n/log year 1999\n/log frob\n/present view\n/present frob\n/log view 4\n/present view 4\n/present delete 4\n",
    );
    for said in [
        "Give your monthly minimum in hours, as your professional body states it",
        "Give the entry's number, e.g. /log view 3.",
        "The year is written in digits only, e.g. /log year 2026 from April.",
        "The membership year is one from 2000 to 2100: give one such as 2026, e.g. /log year 2026 from April.",
        parse::LOG_USAGE,
        "Give the presentation's number, e.g. /present view 2.",
        parse::PRESENT_USAGE,
        "You have no supervision log entry #4. /log list shows the ones you have.",
        "You have no case presentation #4.",
    ] {
        assert!(out.contains(said), "{said}: {out}");
    }
    assert!(
        !out.contains("20x6") && !out.contains("frob"),
        "never echoed: {out}"
    );
}

#[test]
fn a_field_over_its_length_is_asked_again_and_nothing_typed_is_dropped() {
    let dir = temp("case-long");
    let long = "word ".repeat(900);
    let out = session(
        &dir,
        &format!(
            "/present short\n{long}\n.\nHow do I hold two contracts?\n.\n/present delete 1\nyes\n/present short\n{long}\n"
        ),
    );
    assert!(out.contains("a field holds up to 4000"), "{out}");
    assert!(out.contains("Saved as case presentation #1"), "{out}");
    assert!(
        out.contains("Delete case presentation #1, “How do I hold two contracts?”?")
            && out.contains("Case presentation #1 is deleted."),
        "{out}"
    );
    assert!(
        out.contains("Nothing is saved. Here is what you wrote, so it is not lost:"),
        "the input ended on a field too long: {out}"
    );
    assert_eq!(out.matches(long.trim_end()).count(), 1, "shown back once");
}

/// Development priorities: added by code (a bad one changes nothing and
/// says what to write), at most six, shown first on the map with what
/// touched them, first in the personal week, and erased by forget-me.
#[test]
fn priorities_come_first_on_the_map_and_in_the_week_and_forget_me_erases_them() {
    let dir = temp("priorities");
    let out = session(&dir, "/priorities\n");
    assert!(out.contains("You have no priorities yet"), "{out}");
    let out = session(
        &dir,
        "/priorities add C3.5, I2.1\n/priorities add 3.5\n/priorities add C9.9\n/priorities add C1.1 C1.2 C1.3 C1.4 C1.5\n/priorities\n",
    );
    assert!(out.contains("Your development priorities"), "{out}");
    assert!(
        out.contains("3.5: it exists in both domains, so write C3.5 (core) or I3.5 (integration). Nothing was changed"),
        "{out}"
    );
    assert!(out.contains("there is no such competence"), "{out}");
    assert!(
        out.contains(
            "That would make 7 priorities; up to 6 keep them a focus. Nothing was changed"
        ),
        "{out}"
    );
    let shown = out
        .rsplit("Your development priorities")
        .next()
        .unwrap_or_default();
    assert!(shown.contains("C3.5") && shown.contains("I2.1"), "{shown}");
    assert!(
        !shown.contains("C1.5"),
        "the refused add changed nothing: {shown}"
    );
    assert!(
        shown.contains("0 reflections · no supervision logged"),
        "{shown}"
    );

    // A reflection on one of them: counted beside it, and first on the map.
    let out = session(
        &dir,
        "/reflect C3.5\nStrengths\nWe looked at her strengths.\n.\n\n\n/priorities\n/map\n",
    );
    assert!(
        out.contains("1 reflection · no supervision logged"),
        "{out}"
    );
    let map = out.split("Your competence map").nth(1).unwrap_or_default();
    let first = map.find("Your priorities, agreed with your supervisor");
    let domains = map.find("Core coaching competences");
    assert!(
        first.is_some() && first < domains,
        "priorities come first: {map}"
    );
    assert!(
        map.contains("C3.5 ▰ ×1") && map.contains("I2.1 ▱ not yet, no supervision logged"),
        "{map}"
    );

    // Supervision attended that touched one: its time beside it, on the
    // priorities and on the map.
    let out = session(
        &dir,
        "/log add\n2026-03-10\nyes\ngroup\n1h 30\nStrengths, in the group.\n.\nC3.5\nformative\n/priorities\n/map\n",
    );
    assert!(
        out.contains("1 reflection · 1 hour 30 minutes of supervision"),
        "{out}"
    );
    let map = out.split("Your competence map").nth(1).unwrap_or_default();
    assert!(
        map.contains(", 1 hour 30 minutes of supervision")
            && map.contains("I2.1 ▱ not yet, no supervision logged"),
        "{map}"
    );

    // The personal week starts with them, in their order, and previews the next.
    let out = session(&dir, "/week\n/schedule preview\n");
    assert!(out.contains("Competence of the week: C3.5"), "{out}");
    let next = out
        .split("Next week's competence")
        .nth(1)
        .unwrap_or_default();
    assert!(next.contains("Competence of the week: I2.1"), "{out}");

    let out = session(
        &dir,
        "/priorities remove I2.1 C1.1\n/priorities clear\n/priorities\n",
    );
    assert!(out.contains("C1.1 was not among them."), "{out}");
    assert!(out.contains("Your priorities are cleared"), "{out}");
    assert!(out.contains("You have no priorities yet"), "{out}");

    session(
        &dir,
        "/priorities add C2.1\n/reflections forget-me\nforget-me\n",
    );
    let store = Store::open(&dir, None).unwrap();
    assert_eq!(store.priorities(LOCAL_MEMBER).unwrap(), Vec::new());
    assert!(!store.holds_anything_of(LOCAL_MEMBER).unwrap());
}

/// The review of priorities: off until asked for; due its weeks later,
/// said at the start; each priority asked in turn; kept as a reflection
/// tagged with them; the next one its weeks after.
#[test]
fn a_review_of_priorities_is_asked_in_turn_and_kept_as_a_reflection() {
    use crate::clock::ManualClock;
    use chrono::TimeZone;
    let dir = temp("review");
    let f = Library::builtin().unwrap();
    let at = |month: u32, day: u32| {
        chrono::Utc
            .with_ymd_and_hms(2026, month, day, 12, 0, 0)
            .unwrap()
    };
    let run = |when: chrono::DateTime<chrono::Utc>, input: &str| {
        let mut out = Vec::new();
        let mut console = Console::new(&f, &dir, input.as_bytes(), &mut out, false).unwrap();
        console.clock = Box::new(ManualClock::new(when));
        console.run().unwrap();
        String::from_utf8(out).unwrap()
    };
    let out = run(
        at(11, 2),
        "/priorities review\n/priorities add C3.5 I2.1\n/priorities\n/priorities review-every 30\n/priorities review-every 4\n",
    );
    assert!(out.contains("You have no priorities to review"), "{out}");
    assert!(
        out.contains("/priorities review-every 4 asks every four weeks"),
        "{out}"
    );
    assert!(out.contains("every 1 to 26 weeks, or off"), "{out}");
    assert!(
        out.contains("Every 4 weeks you will be asked how each of your priorities has moved"),
        "{out}"
    );
    assert!(
        out.contains("The first comes on 30 November 2026."),
        "{out}"
    );
    // Not yet due: nothing said at the start.
    assert!(!run(at(11, 29), "").contains("is due"));
    let out = run(
        at(11, 30),
        "/priorities review\nLess rescuing, more asking.\n.\nI named the three-way contract aloud.\n.\n/priorities\n",
    );
    assert!(
        out.starts_with("A review of your development priorities is due"),
        "{out}"
    );
    assert!(
        out.contains("C3.5 "),
        "the question names the competence: {out}"
    );
    assert!(
        out.contains("Saved as reflection #1, tagged C3.5, I2.1"),
        "{out}"
    );
    assert!(out.contains("next on 28 December 2026"), "{out}");
    let out = run(at(11, 30), "/reflections view 1\n");
    assert!(
        out.contains("How my development priorities have moved"),
        "{out}"
    );
    assert!(
        out.contains("Less rescuing, more asking.")
            && out.contains("I named the three-way contract aloud."),
        "{out}"
    );
    // Off.
    let out = run(at(12, 28), "/priorities review-every off\n");
    assert!(
        out.starts_with("A review of your development priorities is due"),
        "{out}"
    );
    assert!(out.contains("Reviews of your priorities are off."), "{out}");
    assert!(!run(at(12, 29), "").contains("is due"));
}
