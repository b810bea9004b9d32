//! What an erasure costs, as the member who asks and the others feel it,
//! among 10,000 and 100,000 reflections (100 per member): the time until
//! the forgetting member's reply, the rewrite that follows within the
//! bound (by the upkeep), and the other members' durable saves (p50, p99)
//! with no erasure running and while that rewrite runs.
//!
//! `cargo bench --bench erasure` (prints a table; no criterion: it measures
//! tails under a concurrent rewrite, which criterion's loop does not).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use practice_companion::Framework;
use practice_companion::reflections::{Draft, Mode};
use practice_companion::store::{SecretKey, Store};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("companion-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn draft(i: u64) -> Draft {
    Draft {
        title: format!("Session {i}"),
        text: "We explored what the client wants from coaching and how it differs from the therapy they had before. ".repeat(8),
        competences: vec!["core:1.2".parse().expect("id")],
        model: "free".into(),
        mode: Mode::Coaching,
        minutes: None,
    }
}

fn save(store: &Store, framework: &Framework, member: u64, i: u64) -> Duration {
    let started = Instant::now();
    store
        .add_reflection(member, |id| {
            draft(i).into_reflection(id, member, Utc::now(), framework)
        })
        .expect("save");
    started.elapsed()
}

fn quantile(mut xs: Vec<Duration>, q: f64) -> Duration {
    xs.sort();
    xs[((xs.len() as f64 - 1.0) * q).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let framework = Framework::builtin().expect("framework");
    println!(
        "| reflections | forget-me reply | rewrite after (upkeep) | others' save p50 / p99, idle | others' save p50 / p99, during the rewrite | p99 ratio |"
    );
    println!("|---|---|---|---|---|---|");
    for members in [100u64, 1_000] {
        let dir = scratch(&format!("erasure-{members}"));
        let store = Store::open(&dir, Some(SecretKey::generate())).expect("store");
        for member in 1..=members {
            for i in 0..100 {
                save(&store, &framework, member, i);
            }
        }
        let idle: Vec<Duration> = (0..300)
            .map(|i| save(&store, &framework, 2 + i % 50, 1_000 + i))
            .collect();
        let started = Instant::now();
        store.forget_member(1, Utc::now()).expect("forget");
        let reply = started.elapsed();
        let done = AtomicBool::new(false);
        let (rewrite, during) = std::thread::scope(|s| {
            let saver = s.spawn(|| {
                let mut lat = Vec::new();
                let mut i = 0;
                while !done.load(Ordering::SeqCst) || lat.len() < 50 {
                    lat.push(save(&store, &framework, 2 + i % 50, 5_000 + i));
                    i += 1;
                }
                lat
            });
            std::thread::sleep(Duration::from_millis(20));
            let started = Instant::now();
            store.rewrite(&mut |_| {}).expect("rewrite");
            let took = started.elapsed();
            done.store(true, Ordering::SeqCst);
            (took, saver.join().expect("saver"))
        });
        let (i50, i99) = (quantile(idle.clone(), 0.5), quantile(idle, 0.99));
        let (d50, d99) = (quantile(during.clone(), 0.5), quantile(during, 0.99));
        println!(
            "| {} | {} | {} | {} / {} | {} / {} | {:.2}× |",
            members * 100,
            ms(reply),
            ms(rewrite),
            ms(i50),
            ms(i99),
            ms(d50),
            ms(d99),
            d99.as_secs_f64() / i99.as_secs_f64()
        );
        store.close(Utc::now()).expect("close");
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
