//! The layering ARCHITECTURE.md states, read from the source: which modules
//! may import which crates and which parts of the core.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every source file with its path relative to `src/`, in `/` form.
fn files() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    sources(&src, &mut paths);
    paths
        .into_iter()
        .map(|p| {
            let name = p
                .strip_prefix(&src)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            (name, std::fs::read_to_string(&p).expect("readable"))
        })
        .collect()
}

/// The lines that use or name a path, comments left out.
fn code_mentions(text: &str, needle: &str) -> bool {
    text.lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with("//"))
        .any(|l| l.contains(needle))
}

#[test]
fn the_framework_is_plain_data() {
    for (name, text) in files().iter().filter(|(n, _)| n.starts_with("framework/")) {
        for layer in [
            "crate::search",
            "crate::render",
            "crate::library",
            "crate::commands",
        ] {
            assert!(!code_mentions(text, layer), "{name} uses {layer}");
        }
    }
}

#[test]
fn only_discord_knows_discord_and_only_the_store_knows_sled() {
    for (name, text) in files() {
        if !name.starts_with("discord/") {
            for krate in ["serenity", "poise::", "discord.com"] {
                assert!(!code_mentions(&text, krate), "{name} uses {krate}");
            }
        }
        if !name.starts_with("store/") {
            assert!(!code_mentions(&text, "sled::"), "{name} uses sled");
        }
    }
}

#[test]
fn front_ends_do_not_parse_domain_words_themselves() {
    for (name, text) in files() {
        if name == "framework/ids.rs" {
            continue;
        }
        for spelled in [
            "\"integrating\"",
            "\"int\"",
            "['c', 'C', 'i', 'I']",
            "b'c' | b'C'",
        ] {
            assert!(
                !code_mentions(&text, spelled),
                "{name} spells out the domain grammar ({spelled}); use DomainId::from_word"
            );
        }
    }
}

/// The core's modules, as ARCHITECTURE.md names them.
const CORE: &[&str] = &[
    "framework/",
    "lookup/",
    "search/",
    "references.rs",
    "render.rs",
    "commands/",
    "inline.rs",
    "schedule/",
    "meetings/",
    "reflections/",
    "supervision/",
    "prompts.rs",
    "library.rs",
];

fn is_core(name: &str) -> bool {
    CORE.iter().any(|c| name.starts_with(c))
}

#[test]
fn no_core_module_speaks_of_discords_limits_or_timestamps() {
    for (name, text) in files().iter().filter(|(n, _)| is_core(n)) {
        for said in [
            "<t:",
            "Discord's",
            "Discord shows",
            "upload limit",
            "Discord's form",
        ] {
            assert!(
                !code_mentions(text, said),
                "{name} says {said:?}: that is the Discord front-end's to say"
            );
        }
    }
}

/// The source files a path names (`crate::commands::personal::Member`,
/// `super::reply::send`), as written from `file`: the longest module path
/// that is a file.
fn named_files(file: &str, path: &str, all: &[String]) -> Vec<String> {
    let module_of = |f: &str| -> Vec<String> {
        let f = f.trim_end_matches(".rs");
        let mut parts: Vec<String> = f.split('/').map(str::to_string).collect();
        if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
            parts.pop();
        }
        parts
    };
    let mut segments: Vec<String> = if let Some(rest) = path.strip_prefix("crate::") {
        rest.split("::").map(str::to_string).collect()
    } else if path.starts_with("super::") {
        let mut base = module_of(file);
        let mut rest = path;
        while let Some(r) = rest.strip_prefix("super::") {
            base.pop();
            rest = r;
        }
        base.extend(rest.split("::").map(str::to_string));
        base
    } else {
        return Vec::new();
    };
    let mut out = Vec::new();
    while !segments.is_empty() {
        let joined = segments.join("/");
        for candidate in [format!("{joined}.rs"), format!("{joined}/mod.rs")] {
            if all.contains(&candidate) {
                out.push(candidate);
            }
        }
        if !out.is_empty() {
            break;
        }
        segments.pop();
    }
    out
}

/// Whether `a` is `b`'s parent module or the other way round (a module and
/// its own parts may name each other).
fn parent_and_child(a: &str, b: &str) -> bool {
    let dir = |f: &str| f.rsplit_once('/').map_or("", |(d, _)| d).to_string();
    let is_parent = |p: &str, c: &str| {
        p.ends_with("mod.rs") && dir(c).starts_with(&dir(p)) && c != p || (p == "lib.rs")
    };
    is_parent(a, b) || is_parent(b, a)
}

#[test]
fn no_two_modules_import_each_other() {
    let all = files();
    let names: Vec<String> = all.iter().map(|(n, _)| n.clone()).collect();
    let path = regex::Regex::new(r"\b((?:crate|super)(?:::super)*::[A-Za-z_][A-Za-z_0-9]*(?:::[A-Za-z_][A-Za-z_0-9]*)*)(?:::\{([^}]*)\})?")
        .expect("a regex");
    let mut edges: std::collections::HashSet<(String, String)> = Default::default();
    for (name, text) in &all {
        // What a module's own tests use is no import of the module.
        let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
        for line in text
            .lines()
            .map(str::trim_start)
            .filter(|l| !l.starts_with("//"))
        {
            for m in path.captures_iter(line) {
                let base = &m[1];
                let mut paths = vec![base.to_string()];
                if let Some(inner) = m.get(2) {
                    for item in inner.as_str().split(',') {
                        let item = item.split_whitespace().next().unwrap_or("");
                        if !item.is_empty() && item != "self" {
                            paths.push(format!("{base}::{item}"));
                        }
                    }
                }
                for p in paths {
                    for target in named_files(name, &p, &names) {
                        if &target != name {
                            edges.insert((name.clone(), target));
                        }
                    }
                }
            }
        }
    }
    let mut circles: Vec<String> = edges
        .iter()
        .filter(|(a, b)| a < b && edges.contains(&(b.clone(), a.clone())))
        .filter(|(a, b)| !parent_and_child(a, b))
        // store/ is left out: its layers (envelope, persistence, records)
        // are its owners' to hold.
        .filter(|(a, b)| !(a.starts_with("store/") && b.starts_with("store/")))
        .map(|(a, b)| format!("{a} <-> {b}"))
        .collect();
    circles.sort();
    assert!(circles.is_empty(), "import circles: {circles:#?}");
    // The detector sees what it must: a file that names another is an edge.
    assert!(edges.contains(&("library.rs".to_string(), "render.rs".to_string())));
    assert!(edges.contains(&(
        "discord/schedule_commands.rs".to_string(),
        "discord/reply.rs".to_string()
    )));
}

/// The front-ends and the personal commands are split by job, as
/// ARCHITECTURE.md shows them.
#[test]
fn front_ends_are_split_by_job() {
    let names: Vec<String> = files().into_iter().map(|(n, _)| n).collect();
    for part in [
        "console/mod.rs",
        "console/parse.rs",
        "console/form.rs",
        "console/look.rs",
        "console/files.rs",
        "cli/mod.rs",
        "cli/json.rs",
        "cli/text.rs",
        "commands/personal/mod.rs",
        "commands/personal/read.rs",
        "commands/personal/confirm.rs",
        "commands/personal/fair_use.rs",
        "commands/personal/sharing.rs",
        "commands/catalogue.rs",
        "commands/week.rs",
        "reflections/form.rs",
    ] {
        assert!(names.iter().any(|n| n == part), "{part} is missing");
    }
    let architecture =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .expect("ARCHITECTURE.md");
    for named in [
        "`console/`",
        "`cli/`",
        "`personal/`",
        "`catalogue.rs`",
        "`week.rs`",
        "`form.rs`",
    ] {
        assert!(
            architecture.contains(named),
            "ARCHITECTURE.md lacks {named}"
        );
    }
}
