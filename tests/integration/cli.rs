//! The `companion` command line, run as a user would: exit codes, stdout, stderr.

use crate::support::{companion, companion_in, json};

#[test]
fn lookup_of_a_code_in_both_domains_shows_both_core_first() {
    let run = companion(&["lookup", "3.5"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let core = run.stdout.find("Core 3.5").expect("core shown");
    let integration = run
        .stdout
        .find("Integration 3.5")
        .expect("integration shown");
    assert!(core < integration);
    assert!(run.stdout.contains("exists in both domains"));
    assert!(
        run.stdout
            .contains("personal strengths, qualities and values")
    );
}

#[test]
fn lookup_forms_people_type() {
    let cases = [
        (&["lookup", "C3.5"][..], "core:3.5"),
        (&["lookup", "core", "3.5"][..], "core:3.5"),
        (&["lookup", "I3.5"][..], "integration:3.5"),
        (&["lookup", "integration 3.5."][..], "integration:3.5"),
        (&["lookup", "competence", "2.10"][..], "core:2.10"),
        (&["lookup", "c", "2.1"][..], "core:2.1"),
    ];
    for (args, want) in cases {
        let mut args = args.to_vec();
        args.push("--json");
        let run = companion(&args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        let v = json(&run);
        assert_eq!(v["kind"], "competences");
        assert_eq!(v["results"][0]["id"], want, "{args:?}");
    }
}

#[test]
fn lookup_of_an_area_lists_its_competences_and_metacompetence() {
    let run = companion(&["lookup", "core", "area", "3", "--json"]);
    assert_eq!(run.code, 0);
    let v = json(&run);
    assert_eq!(v["kind"], "areas");
    assert_eq!(v["results"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        v["results"][0]["competences"].as_array().map(Vec::len),
        Some(10)
    );
    assert!(
        v["results"][0]["metacompetence"]
            .as_str()
            .is_some_and(|m| m.starts_with("Ability to help the client to develop"))
    );

    let both = json(&companion(&["lookup", "area", "3", "--json"]));
    assert_eq!(both["results"].as_array().map(Vec::len), Some(2));
}

#[test]
fn lookup_of_meta_and_foundational() {
    let meta = json(&companion(&["lookup", "meta", "2", "--json"]));
    assert_eq!(meta["kind"], "metacompetence");
    assert!(
        meta["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Ability to facilitate a coaching process"))
    );
    let f = companion(&["lookup", "foundational"]);
    assert_eq!(f.code, 0);
    assert!(f.stdout.contains("grounded optimism"));
}

#[test]
fn unknown_codes_exit_1_with_the_nearest_codes() {
    for (query, nearest) in [
        ("9.9", "Core 4.9"),
        ("1.11", "Core 1.1"),
        ("3.5.1", "Core 3.5"),
    ] {
        let run = companion(&["lookup", query]);
        assert_eq!(run.code, 1, "{query}");
        assert!(run.stdout.is_empty(), "{query}: nothing on stdout");
        assert!(
            run.stderr.contains("There is no competence"),
            "{query}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(nearest), "{query}: {}", run.stderr);
    }
    let v = json(&companion(&["lookup", "1.11", "--json"]));
    assert_eq!(v["error"]["kind"], "not_found");
    assert_eq!(v["error"]["nearest"][0], "core:1.1");
}

#[test]
fn words_given_to_lookup_get_search_suggestions() {
    let run = companion(&["lookup", "strengths"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("isn't a competence code"));
    assert!(run.stderr.contains("Core 3.5"), "{}", run.stderr);
}

#[test]
fn search_ranks_and_tolerates_typos() {
    let v = json(&companion(&["search", "stregnths", "--json"]));
    let results = v["results"].as_array().expect("results array");
    assert_eq!(results.len(), 5, "the default five");
    assert_eq!(
        (results[0]["domain"].as_str(), results[0]["code"].as_str()),
        (Some("core"), Some("3.5"))
    );
    for r in results {
        match r["kind"].as_str() {
            Some("competence") => assert!(
                r["statement"].is_string() && r["domain"].is_string() && r["code"].is_string()
            ),
            Some("section") => assert!(r["id"].is_string() && r["title"].is_string()),
            other => panic!("unknown kind {other:?}"),
        }
        assert!(r["score"].is_number());
    }
    let v = json(&companion(&[
        "search",
        "theories",
        "of",
        "motivation",
        "--json",
    ]));
    assert_eq!(v["results"][0]["code"], "4.2");
    assert_eq!(v["results"][0]["domain"], "core");
}

#[test]
fn search_with_no_match_exits_1() {
    let run = companion(&["search", "xqzvw"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("Nothing in the framework or its guide matches"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
}

#[test]
fn export_json_has_every_competence_in_the_documented_shape() {
    let run = companion(&["framework", "export", "--json"]);
    assert_eq!(run.code, 0);
    let v = json(&run);
    let items = v["competences"].as_array().expect("competences array");
    assert_eq!(items.len(), 60);
    for item in items {
        assert!(matches!(
            item["domain"].as_str(),
            Some("core" | "integration")
        ));
        assert!(item["area"].is_u64());
        assert!(
            item["code"].is_string()
                && item["statement"].is_string()
                && item["guidance"].is_string()
        );
        assert!(item["shared_guidance"].is_string() || item["shared_guidance"].is_null());
        assert!(item["see_also"].is_array());
    }
    let c12 = items
        .iter()
        .find(|i| i["domain"] == "core" && i["code"] == "1.2")
        .expect("core 1.2");
    assert_eq!(c12["guidance"], "");
    assert!(
        c12["shared_guidance"]
            .as_str()
            .is_some_and(|s| s.starts_with("These two competences form a pair."))
    );
    let c48 = items
        .iter()
        .find(|i| i["domain"] == "core" && i["code"] == "4.8")
        .expect("core 4.8");
    assert_eq!(c48["see_also"][0], "core:2.2");
}

#[test]
fn framework_check_accepts_the_shipped_file_and_refuses_a_broken_one() {
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/framework/coaching-2022.toml");
    let ok = companion(&["framework", "check", shipped]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(ok.stdout.contains("60 competences"));
    assert!(
        ok.stdout.contains("22 sections of the user guide"),
        "{}",
        ok.stdout
    );

    let dir = scratch("check");
    let text = std::fs::read_to_string(shipped).expect("read");
    let broken = text.replacen("see_also = [\"core:2.5\"]", "see_also = [\"core:2.50\"]", 1);
    assert_ne!(broken, text);
    let path = dir.join("broken.toml");
    std::fs::write(&path, &broken).expect("write");
    let bad = companion(&["framework", "check", path.to_str().expect("utf-8 path")]);
    assert_eq!(bad.code, 1);
    let line = broken
        .lines()
        .position(|l| l.contains("core:2.50"))
        .expect("line")
        + 1;
    assert!(
        bad.stderr.contains(&format!("broken.toml:{line}:")),
        "{}",
        bad.stderr
    );
    assert!(bad.stderr.contains("does not exist"), "{}", bad.stderr);

    // The same file given to --framework is refused as bad usage.
    let run = companion(&[
        "--framework",
        path.to_str().expect("utf-8 path"),
        "lookup",
        "3.5",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("broken.toml"));
}

#[test]
fn framework_check_checks_the_thesaurus_beside_the_framework() {
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/framework/coaching-2022.toml");
    let ok = companion(&["framework", "check", shipped]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(
        ok.stdout.contains("thesaurus.toml: valid:"),
        "{}",
        ok.stdout
    );

    // A copy of the framework with an edited thesaurus beside it.
    let dir = scratch("thesaurus");
    let framework = dir.join("coaching.toml");
    std::fs::copy(shipped, &framework).expect("copy");
    let alone = companion(&[
        "framework",
        "check",
        framework.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(alone.code, 0, "{}", alone.stderr);
    assert!(
        alone.stdout.contains("no thesaurus.toml beside it"),
        "{}",
        alone.stdout
    );

    let thesaurus = concat!(env!("CARGO_MANIFEST_DIR"), "/framework/thesaurus.toml");
    let text = std::fs::read_to_string(thesaurus).expect("read");
    let broken = text.replacen("\"three-party contract\"", "\"three-way handshake\"", 1);
    assert_ne!(broken, text);
    std::fs::write(dir.join("thesaurus.toml"), &broken).expect("write");
    let bad = companion(&[
        "framework",
        "check",
        framework.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(bad.code, 1);
    let line = broken
        .lines()
        .position(|l| l.contains("three-way handshake"))
        .expect("line")
        + 1;
    assert!(
        bad.stderr.contains(&format!("thesaurus.toml:{line}:")),
        "{}",
        bad.stderr
    );
    assert!(
        bad.stderr.contains("`three-way handshake`"),
        "{}",
        bad.stderr
    );
    assert!(bad.stderr.contains("does not occur"), "{}", bad.stderr);

    // The same file given to --thesaurus is refused as bad usage.
    let thesaurus_arg = dir.join("thesaurus.toml");
    let run = companion(&[
        "--thesaurus",
        thesaurus_arg.to_str().expect("utf-8 path"),
        "search",
        "sponsor",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("does not occur"), "{}", run.stderr);
}

#[test]
fn another_thesaurus_file_replaces_the_built_in_one() {
    let dir = scratch("own-thesaurus");
    let path = dir.join("mine.toml");
    std::fs::write(
        &path,
        "[[entry]]\neveryday = [\"sparkle\"]\nframework = [\"personal strengths, qualities and values\"]\n",
    )
    .expect("write");
    assert_eq!(companion(&["search", "sparkle"]).code, 1);
    let v = json(&companion(&[
        "--thesaurus",
        path.to_str().expect("utf-8 path"),
        "search",
        "sparkle",
        "--json",
    ]));
    assert_eq!(v["results"][0]["code"], "3.5", "{v}");
    // The built-in entries are gone with the built-in thesaurus.
    let run = companion(&[
        "--thesaurus",
        path.to_str().expect("utf-8 path"),
        "search",
        "sponsor",
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
}

#[test]
fn another_framework_file_replaces_the_built_in_one() {
    let dir = scratch("other");
    let path = dir.join("mini.toml");
    std::fs::write(
        &path,
        "name = \"Mini\"\npublisher = \"Test\"\nyear = 2024\nversion = \"1\"\n\n[[domain]]\nid = \"core\"\ntitle = \"Only\"\n\n[[domain.area]]\nnumber = 1\ntitle = \"One\"\n\n[[domain.area.competence]]\ncode = \"1.1\"\nstatement = \"A test statement\"\n",
    )
    .expect("write");
    let run = companion_in(&dir, &["--framework", "mini.toml", "lookup", "1.1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("A test statement"));
    let missing = companion_in(&dir, &["--framework", "mini.toml", "lookup", "3.5"]);
    assert_eq!(missing.code, 1);
}

#[test]
fn bad_usage_exits_2_and_help_is_everywhere() {
    assert_eq!(companion(&["lookup"]).code, 2);
    assert_eq!(companion(&["lookup", " "]).code, 2, "nothing to look up");
    let blank = companion(&["search", " "]);
    assert_eq!(blank.code, 2, "nothing to search for");
    assert!(
        blank.stderr.contains("`companion search strengths`"),
        "{}",
        blank.stderr
    );
    assert_eq!(companion(&["frobnicate"]).code, 2);
    assert_eq!(companion(&["search", "x", "--limit", "0"]).code, 2);
    for args in [
        &["--help"][..],
        &["lookup", "--help"],
        &["search", "--help"],
        &["framework", "export", "--help"],
        &["framework", "check", "--help"],
    ] {
        let run = companion(args);
        assert_eq!(run.code, 0, "{args:?}");
        assert!(run.stdout.contains("Usage:"), "{args:?}");
    }
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("companion-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

#[test]
fn guide_prints_a_section_whole_or_the_contents() {
    let run = companion(&["guide", "role", "of", "supervision"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("The role of supervision"));
    assert!(run.stdout.contains(
        "‘Appropriate’ in this context means not only meeting or exceeding the requisite minimum number of hours of supervision"
    ));
    let v = json(&companion(&["guide", "how-to-use", "--json"]));
    assert_eq!(v["kind"], "section");
    assert_eq!(v["id"], "how-to-use");
    assert!(
        v["text"]
            .as_str()
            .expect("text")
            .starts_with("The first point to make is that the competences are not to be read as a set of requirements")
    );
    assert!(
        v["discusses"]
            .as_array()
            .expect("discusses")
            .contains(&serde_json::json!("core:3.5"))
    );
    let contents = json(&companion(&["guide", "--json"]));
    let sections = contents["sections"].as_array().expect("sections");
    assert!(sections.iter().any(|s| s["id"] == "role-of-supervision"));
    let plain = companion(&["guide"]);
    assert_eq!(plain.code, 0);
    assert!(
        plain.stdout.contains("`role-of-supervision`"),
        "{}",
        plain.stdout
    );
}

#[test]
fn an_unknown_section_exits_1_and_says_what_works() {
    let run = companion(&["guide", "xqzvw"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("`companion guide` lists the sections"),
        "{}",
        run.stderr
    );
    let v = json(&companion(&["guide", "xqzvw", "--json"]));
    assert_eq!(v["error"]["kind"], "no_section");
    let far = companion(&["guide", "role-of-supervision", "--part", "2"]);
    assert_eq!(far.code, 1);
    assert!(far.stderr.contains("has 1 part"), "{}", far.stderr);
    let v = json(&companion(&[
        "guide",
        "how-to-use",
        "--part",
        "2",
        "--json",
    ]));
    assert_eq!(
        (v["part"].as_u64(), v["parts"].as_u64()),
        (Some(2), Some(2))
    );
    assert!(
        v["text"]
            .as_str()
            .expect("text")
            .starts_with("More specifically, effective coaching work")
    );
    // A part needs a section: bad usage.
    assert_eq!(companion(&["guide", "--part", "2"]).code, 2);
    let first = companion(&["guide", "how-to-use", "--part", "1"]);
    assert!(
        first
            .stderr
            .contains("`companion guide how-to-use --part 2`"),
        "the next part: {}",
        first.stderr
    );
    let shared = json(&companion(&["guide", "Domain", "Two", "--json"]));
    let ids: Vec<&str> = shared["sections"]
        .as_array()
        .expect("the sections that share the title")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(ids, ["about-domain-two", "guidance-domain-two"]);
}

#[test]
fn search_prints_statements_whole_and_the_next_step() {
    let run = companion(&["search", "multi-party", "contracting"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains(
        "Knowledge and understanding of, and ability to address, the practical and ethical issues involved in three-, four- or multi-party contracting"
    ), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("Next: `companion lookup C1.6` opens the first."),
        "{}",
        run.stderr
    );
    let guide = companion(&["search", "role", "of", "supervision"]);
    assert!(
        guide.stdout.contains("Guide: The role of supervision"),
        "{}",
        guide.stdout
    );
    assert!(
        guide
            .stderr
            .contains("`companion guide role-of-supervision`"),
        "{}",
        guide.stderr
    );
}

#[test]
fn domain_words_are_read_in_any_case() {
    for args in [
        &["lookup", "INTEGRATIVE", "3.5", "--json"][..],
        &["lookup", "int", "3.5", "--json"][..],
        &["lookup", "Integration3.5", "--json"][..],
    ] {
        let v = json(&companion(args));
        assert_eq!(v["results"][0]["id"], "integration:3.5", "{args:?}");
        assert_eq!(v["results"].as_array().map(Vec::len), Some(1), "{args:?}");
    }
}

#[test]
fn search_results_say_whether_they_are_a_section_or_a_competence() {
    let v = json(&companion(&[
        "search",
        "role",
        "of",
        "supervision",
        "--json",
    ]));
    let first = &v["results"][0];
    assert_eq!(first["kind"], "section");
    assert_eq!(first["id"], "role-of-supervision");
    assert_eq!(first["within"], "How to use the competence framework");
    let v = json(&companion(&["search", "strengths", "--json"]));
    assert_eq!(v["results"][0]["kind"], "competence");
    assert_eq!(v["results"][0]["id"], "core:3.5");
    // Words given to lookup: the error, and what search finds, as JSON too.
    let v = json(&companion(&["lookup", "strengths", "--json"]));
    assert_eq!(v["error"]["kind"], "not_a_code");
    assert_eq!(v["error"]["search"][0]["id"], "core:3.5");
}

/// `run --shards` is checked before anything is opened or Discord is asked.
fn run_sharded(dir: &std::path::Path, extra: &[&str]) -> crate::support::Run {
    let token = dir.join("token");
    std::fs::write(&token, "not-a-real-token").expect("token file");
    let data = dir.join("data");
    let mut args = vec![
        "run",
        "--token-file",
        token.to_str().expect("utf-8 path"),
        "--data-dir",
        data.to_str().expect("utf-8 path"),
        "--api-url",
        "http://127.0.0.1:9",
    ];
    args.extend_from_slice(extra);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_companion"))
        .args(&args)
        .current_dir(dir)
        .env_remove("COMPANION_DATABASE_URL")
        .env_remove("COMPANION_KEY")
        .output()
        .expect("the companion binary runs");
    crate::support::Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn shard_ranges_are_checked_and_need_postgres_to_split() {
    let dir = scratch("shards");
    for (extra, says) in [
        (&["--shards", "0-1"][..], "--shard-total"),
        (&["--shard-total", "4"][..], "--shards"),
        (
            &["--shards", "2-1", "--shard-total", "4"],
            "must not come after",
        ),
        (&["--shards", "0-4", "--shard-total", "4"], "from 0 to 3"),
        (&["--shards", "0-0", "--shard-total", "0"], "from 1 to"),
        (
            &["--shards", "x", "--shard-total", "4"],
            "range of shard numbers",
        ),
        (
            &["--shards", "0-1", "--shard-total", "4"],
            "a data directory can be open in only one process",
        ),
    ] {
        let run = run_sharded(&dir, extra);
        assert_eq!(run.code, 2, "{extra:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{extra:?}: {}", run.stderr);
    }
    assert!(
        !dir.join("data").exists(),
        "nothing was opened for a refused range"
    );
    // Every shard in one process is fine on sled: it gets as far as Discord.
    let run = run_sharded(&dir, &["--shards", "0-1", "--shard-total", "2"]);
    assert!(
        run.stderr.contains("cannot reach Discord"),
        "{}",
        run.stderr
    );
}
