//! The child process of the durability test (`tests/integration/durability.rs`):
//! writes reflections as fast as it can and prints each one it may confirm,
//! until it is killed.
//!
//! `crash_writer store DIR`: through `Store::save_reflection`, which flushes
//! before returning, exactly as the bot confirms to a member.
//! `crash_writer unflushed DIR`: the same bytes into a plain sled tree with no
//! flush, the mistake the test exists to catch; it must lose records.

use std::io::Write;

use chrono::Utc;
use practice_companion::Framework;
use practice_companion::reflections::{Draft, Mode};
use practice_companion::store::Store;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(mode), Some(dir)) = (args.next(), args.next()) else {
        eprintln!("usage: crash_writer store|unflushed DIR");
        std::process::exit(2);
    };
    let dir = std::path::PathBuf::from(dir);
    let framework = Framework::builtin().expect("framework");
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let run = std::process::id();
    match mode.as_str() {
        "store" => {
            let store = Store::open(&dir, None).expect("open store");
            for i in 0u64.. {
                let text = format!("run {run} record {i} {}", "x".repeat((i % 7 * 50) as usize));
                let draft = Draft {
                    title: format!("t{i}"),
                    text: text.clone(),
                    competences: vec![],
                    model: "free".into(),
                    mode: Mode::Coaching,
                };
                let saved = store
                    .save_reflection(1, draft, &framework, Utc::now())
                    .expect("save");
                writeln!(out, "{} {}", saved.id, text).expect("stdout");
                out.flush().expect("stdout");
            }
        }
        "unflushed" => {
            let db = sled::open(dir.join("raw")).expect("open sled");
            let tree = db.open_tree("records").expect("tree");
            let start = tree.len() as u64;
            for i in start.. {
                let text = format!("run {run} record {i}");
                tree.insert(i.to_be_bytes(), text.as_bytes())
                    .expect("insert");
                writeln!(out, "{i} {text}").expect("stdout");
                out.flush().expect("stdout");
            }
        }
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    }
}
