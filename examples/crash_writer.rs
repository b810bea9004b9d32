//! The child process of the durability test (`tests/integration/durability.rs`):
//! writes reflections as fast as it can and prints each one it may confirm,
//! until it is killed.
//!
//! `crash_writer store DIR`: through `Store::add_reflection`, which syncs
//! before returning, exactly as the bot confirms to a member.
//! `crash_writer rewrite DIR STEP`: saves ten reflections, deletes #1, then
//! rewrites the database (the erasure swap) and aborts the process at STEP
//! (`written`, `switched` or `removed`), as a power cut would stop it.
//! `crash_writer unflushed DIR`: the same bytes into a plain sled tree with no
//! flush, the mistake the test exists to catch; it must lose records.

use std::io::Write;

use chrono::Utc;
use practice_companion::Framework;
use practice_companion::reflections::{Draft, Mode};
use practice_companion::store::{Store, SwapStep};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(mode), Some(dir)) = (args.next(), args.next()) else {
        eprintln!("usage: crash_writer store|unflushed|rewrite DIR [STEP]");
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
                let draft = draft(format!("t{i}"), text.clone());
                let saved = store
                    .add_reflection(1, |id| draft.into_reflection(id, 1, Utc::now(), &framework))
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
        "rewrite" => {
            let step = match args.next().as_deref() {
                Some("written") => SwapStep::Written,
                Some("switched") => SwapStep::Switched,
                Some("removed") => SwapStep::Removed,
                _ => {
                    eprintln!("STEP is written, switched or removed");
                    std::process::exit(2);
                }
            };
            let store = Store::open(&dir, None).expect("open store");
            for i in 0..10 {
                let draft = draft(String::new(), format!("run {run} record {i}"));
                let saved = store
                    .add_reflection(1, |id| draft.into_reflection(id, 1, Utc::now(), &framework))
                    .expect("save");
                writeln!(out, "{} {}", saved.id, saved.text).expect("stdout");
            }
            store.delete_reflection(1, 1, Utc::now()).expect("delete");
            writeln!(out, "deleted 1").expect("stdout");
            out.flush().expect("stdout");
            store
                .rewrite(&mut |at| {
                    if at == step {
                        std::process::abort();
                    }
                })
                .expect("rewrite");
            writeln!(out, "rewritten").expect("stdout");
        }
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    }
}

/// An untagged free-writing draft.
fn draft(title: String, text: String) -> Draft {
    Draft {
        title,
        text,
        competences: vec![],
        model: "free".into(),
        mode: Mode::Coaching,
        minutes: None,
    }
}
