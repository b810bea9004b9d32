//! What an erasure costs, as the member who asks and the others feel it,
//! among 10,000 and 100,000 reflections (100 per member): the time until
//! the forgetting member's reply, the rewrite that follows within the
//! bound (by the upkeep), and the other members' durable saves (p50, p99)
//! with no erasure running, while the upkeep's paced rewrite runs, and
//! while the same rewrite runs unpaced (as a close or a restore runs it).
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

/// Saves as members 2–51 in a loop while `work` runs; returns how long
/// `work` took and the saves' latencies.
fn during(
    store: &Store,
    framework: &Framework,
    from: u64,
    work: impl FnOnce(),
) -> (Duration, Vec<Duration>) {
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let saver = s.spawn(|| {
            let mut lat = Vec::new();
            let mut i = 0;
            while !done.load(Ordering::SeqCst) || lat.len() < 50 {
                lat.push(save(store, framework, 2 + i % 50, from + i));
                i += 1;
            }
            lat
        });
        std::thread::sleep(Duration::from_millis(20));
        let started = Instant::now();
        work();
        let took = started.elapsed();
        done.store(true, Ordering::SeqCst);
        (took, saver.join().expect("saver"))
    })
}

fn p50_p99(xs: &[Duration]) -> String {
    format!(
        "{} / {}",
        ms(quantile(xs.to_vec(), 0.5)),
        ms(quantile(xs.to_vec(), 0.99))
    )
}

fn main() {
    let framework = Framework::builtin().expect("framework");
    println!(
        "| reflections | forget-me reply | upkeep's rewrite (paced) | others' save p50 / p99: idle | during the upkeep | p99 ratio | unpaced rewrite (as at a close) | during it | p99 ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for members in [100u64, 1_000] {
        let dir = scratch(&format!("erasure-{members}"));
        let store = Store::open(&dir, Some(SecretKey::generate())).expect("store");
        for member in 1..=members {
            for i in 0..100 {
                save(&store, &framework, member, i);
            }
        }
        // The automatic backups the upkeep purges: as in a running bot.
        store.maintain(Utc::now()).expect("backup");
        let idle: Vec<Duration> = (0..300)
            .map(|i| save(&store, &framework, 2 + i % 50, 1_000 + i))
            .collect();
        let asked = Utc::now();
        let started = Instant::now();
        store.forget_member(1, asked).expect("forget");
        let reply = started.elapsed();
        // The upkeep as the scheduler calls it once the rewrite is due.
        let due = asked + practice_companion::store::ERASE_WITHIN
            - practice_companion::store::REWRITE_MARGIN;
        let (paced, with_paced) = during(&store, &framework, 5_000, || {
            store.maintain(due).expect("upkeep");
        });
        assert!(
            store.erasure_pending_since().expect("pending").is_none(),
            "the upkeep made the erasure real"
        );
        // The same rewrite unpaced, as a close or a restore runs it.
        store.forget_member(3, Utc::now()).expect("forget");
        let (unpaced, with_unpaced) = during(&store, &framework, 50_000, || {
            store.rewrite(&mut |_| {}).expect("rewrite");
        });
        let i99 = quantile(idle.clone(), 0.99).as_secs_f64();
        let ratio = |xs: &[Duration]| quantile(xs.to_vec(), 0.99).as_secs_f64() / i99;
        println!(
            "| {} | {} | {} | {} | {} | {:.2}× | {} | {} | {:.2}× |",
            members * 100,
            ms(reply),
            ms(paced),
            p50_p99(&idle),
            p50_p99(&with_paced),
            ratio(&with_paced),
            ms(unpaced),
            p50_p99(&with_unpaced),
            ratio(&with_unpaced),
        );
        store.close(Utc::now()).expect("close");
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
