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
