//! The store on PostgreSQL beside its floors, on a private server started
//! the way the tests start theirs (`tests/integration/pg_server.rs`: a Unix
//! socket, fsync and synchronous_commit on):
//!
//! - a durable reflection save through `Store` (sealed, its commit token
//!   written with it) beside a bare one-row `BEGIN; INSERT; COMMIT` of the
//!   same size into a table of the same shape, over the same kind of
//!   connection, and beside one autocommitted `INSERT`; then the statements
//!   (round-trips) one save sends, counted in the server's log;
//! - saves per second of one process and of two (two stores opened with
//!   disjoint shard ranges, as two bot processes open one database), each
//!   with several members saving at once;
//! - what an erasure costs there: the forget-me reply, the `VACUUM FULL`
//!   rewrite of every table that makes it real, and other members' saves
//!   (p50, p99) while it runs, beside the same saves with no rewrite
//!   (`VACUUM FULL` locks each table while it writes it anew, so a save
//!   waits for the table it needs).
//!
//! Where PostgreSQL cannot run here it says why and measures nothing.
//!
//! `cargo bench --bench postgres`

#[path = "../tests/integration/pg_server.rs"]
#[allow(dead_code)]
mod pg_server;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::Criterion;
use practice_companion::Framework;
use practice_companion::reflections::{Draft, Mode};
use practice_companion::shards::ShardRange;
use practice_companion::store::{PgOptions, SecretKey, Store};

/// How long each throughput run saves for.
const RUN_FOR: Duration = Duration::from_secs(5);

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("companion-bench-pg-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The same reflection `benches/store.rs` saves on sled.
fn draft(i: u64) -> Draft {
    Draft {
        title: format!("Session {i}"),
        text: "We explored what the client wants from coaching and how it differs from the therapy they had before. ".repeat(8),
        competences: vec!["core:1.2".parse().expect("id"), "core:3.5".parse().expect("id")],
        model: "free".into(),
        mode: Mode::Coaching,
        minutes: None,
    }
}

fn open(db: &pg_server::Database, dir: &Path, key: &SecretKey, shards: Option<&str>) -> Store {
    Store::open_postgres(
        &PgOptions {
            url: db.url(),
            password_file: None,
            shards: shards.map(|r| ShardRange::parse(r, 2).expect("a range")),
        },
        dir,
        Some(key.clone()),
    )
    .expect("the store opens on PostgreSQL")
}

fn save(store: &Store, framework: &Framework, member: u64, i: u64) {
    store
        .add_reflection(member, |id| {
            draft(i).into_reflection(id, member, Utc::now(), framework)
        })
        .expect("save");
}

/// The floor's connection: the same URL, the same Unix socket, the same
/// client library, driven from this thread.
struct Floor {
    runtime: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
}

impl Floor {
    /// The floor itself: `BEGIN`, one row inserted, `COMMIT`.
    fn insert_and_commit(&self, insert: &tokio_postgres::Statement, key: &[u8], value: &[u8]) {
        self.runtime.block_on(async {
            self.client.batch_execute("BEGIN").await.expect("begin");
            self.client
                .execute(insert, &[&key, &value])
                .await
                .expect("insert");
            self.client.batch_execute("COMMIT").await.expect("commit");
        });
    }

    fn connect(db: &pg_server::Database) -> Floor {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let client = runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&db.url(), tokio_postgres::NoTls)
                .await
                .expect("the floor connects");
            tokio::spawn(connection);
            client
        });
        Floor { runtime, client }
    }
}

/// The floor's statements as the store sends its own: each one handed to
/// a one-thread runtime that holds the connection, and waited for.
struct Hop {
    runtime: tokio::runtime::Runtime,
    client: std::sync::Arc<tokio_postgres::Client>,
    insert: tokio_postgres::Statement,
}

impl Hop {
    fn connect(db: &pg_server::Database) -> Hop {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let url = db.url();
        let (client, insert) = runtime.block_on(async move {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("the floor connects");
            tokio::spawn(connection);
            let insert = client
                .prepare("INSERT INTO floor (k, v) VALUES ($1, $2)")
                .await
                .expect("prepare");
            (client, insert)
        });
        Hop {
            runtime,
            client: std::sync::Arc::new(client),
            insert,
        }
    }

    /// Runs `fut` on the runtime's thread and waits for it here.
    fn block<T: Send + 'static>(&self, fut: impl Future<Output = T> + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.runtime.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv().expect("the runtime answers")
    }

    fn insert_and_commit(&self, key: Vec<u8>, value: Vec<u8>) {
        let c = std::sync::Arc::clone(&self.client);
        self.block(async move { c.batch_execute("BEGIN").await.expect("begin") });
        let (c, st) = (std::sync::Arc::clone(&self.client), self.insert.clone());
        self.block(async move { c.execute(&st, &[&key, &value]).await.expect("insert") });
        let c = std::sync::Arc::clone(&self.client);
        self.block(async move { c.batch_execute("COMMIT").await.expect("commit") });
    }
}

fn durable_save(c: &mut Criterion, db: &pg_server::Database) {
    let framework = Framework::builtin().expect("framework");
    let dir = scratch("save");
    let store = open(db, &dir, &SecretKey::generate(), None);
    save(&store, &framework, 1, 0);
    // The floor's row is as long as a sealed reflection, in a table made
    // like the store's.
    let row: usize = db
        .sql("SELECT max(length(v)) FROM companion_reflections")
        .parse()
        .expect("a length");
    db.sql(
        "CREATE TABLE floor (k bytea PRIMARY KEY, v bytea NOT NULL); \
         ALTER TABLE floor ALTER COLUMN v SET STORAGE EXTERNAL",
    );
    let floor = Floor::connect(db);
    let insert = floor
        .runtime
        .block_on(
            floor
                .client
                .prepare("INSERT INTO floor (k, v) VALUES ($1, $2)"),
        )
        .expect("prepare");
    let value = vec![7u8; row];
    println!("sealed reflection row: {row} bytes; the floor writes rows of {row} bytes");

    let mut group = c.benchmark_group("durable reflection save on PostgreSQL");
    let mut i = 0;
    group.bench_function(
        "Store::add_reflection (sealed, commit token, COMMIT)",
        |b| {
            b.iter(|| {
                i += 1;
                save(&store, &framework, 1, i);
            })
        },
    );
    let mut n = 0u64;
    group.bench_function("floor: BEGIN; INSERT one row; COMMIT, same server", |b| {
        b.iter(|| {
            n += 1;
            let key = n.to_be_bytes().to_vec();
            floor.insert_and_commit(&insert, &key, &value);
        })
    });
    group.bench_function("floor: one autocommitted INSERT, same server", |b| {
        b.iter(|| {
            n += 1;
            let key = n.to_be_bytes().to_vec();
            black_box(
                floor
                    .runtime
                    .block_on(floor.client.execute(&insert, &[&key, &value]))
                    .expect("insert"),
            );
        })
    });
    group.finish();

    // The same three, interleaved (one of each in turn), so that the
    // disk's and the machine's moods fall on all three alike: medians. A
    // fourth: the floor's statements each sent from this thread to a
    // one-thread runtime holding the connection and waited for, as the
    // store sends each of its statements, to show what those crossings cost.
    let hop = Hop::connect(db);
    const ROUNDS: usize = 400;
    let mut times: [Vec<Duration>; 4] = Default::default();
    for _ in 0..ROUNDS {
        i += 1;
        let t = Instant::now();
        save(&store, &framework, 1, i);
        times[0].push(t.elapsed());
        n += 1;
        let key = n.to_be_bytes().to_vec();
        let t = Instant::now();
        floor.insert_and_commit(&insert, &key, &value);
        times[1].push(t.elapsed());
        n += 1;
        let key = n.to_be_bytes().to_vec();
        let t = Instant::now();
        floor
            .runtime
            .block_on(floor.client.execute(&insert, &[&key, &value]))
            .expect("insert");
        times[2].push(t.elapsed());
        n += 1;
        let key = n.to_be_bytes().to_vec();
        let t = Instant::now();
        hop.insert_and_commit(key, value.clone());
        times[3].push(t.elapsed());
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1e3
    };
    let [save_ms, floor_ms, autocommit_ms, hop_ms] = times.map(|mut v| median(&mut v));
    println!(
        "interleaved, {ROUNDS} rounds, medians: save {save_ms:.3} ms, floor BEGIN/INSERT/COMMIT {floor_ms:.3} ms, floor autocommitted INSERT {autocommit_ms:.3} ms, floor with a crossing to a runtime per statement {hop_ms:.3} ms; ratio save to floor {:.2}×, to autocommitted INSERT {:.2}×, to the floor with crossings {:.2}×",
        save_ms / floor_ms,
        save_ms / autocommit_ms,
        save_ms / hop_ms
    );

    // The statements one save sends (each one round-trip to the server)
    // and the time the server spent on each, from the server's own log of
    // every statement's duration; the rest of a save's time is the
    // client's and the socket's.
    let log = db.cluster_dir().join("server.log");
    db.sql("ALTER SYSTEM SET log_min_duration_statement = 0");
    db.sql("SELECT pg_reload_conf()");
    std::thread::sleep(Duration::from_millis(500));
    let before = std::fs::read_to_string(&log).unwrap_or_default().len();
    const COUNTED: u64 = 20;
    let started = Instant::now();
    for k in 0..COUNTED {
        save(&store, &framework, 1, 1_000_000 + k);
    }
    let wall_ms = started.elapsed().as_secs_f64() * 1e3 / COUNTED as f64;
    std::thread::sleep(Duration::from_millis(200));
    let after = std::fs::read_to_string(&log).unwrap_or_default();
    db.sql("ALTER SYSTEM RESET log_min_duration_statement");
    db.sql("SELECT pg_reload_conf()");
    // "… LOG:  duration: 0.123 ms  execute s26: SELECT …", and `parse` and
    // `bind` lines for the extended protocol's other steps.
    let mut kinds: Vec<(String, u32, f64)> = Vec::new();
    let mut round_trips = 0;
    let mut server_ms = 0.0;
    for line in after.get(before..).unwrap_or_default().lines() {
        let Some((_, rest)) = line.split_once("LOG:  duration: ") else {
            continue;
        };
        let Some((ms, what)) = rest.split_once(" ms  ") else {
            continue;
        };
        if what.contains("ALTER SYSTEM") || what.contains("pg_reload_conf") {
            continue;
        }
        let ms: f64 = ms.parse().unwrap_or(0.0);
        server_ms += ms;
        if what.starts_with("execute") || what.starts_with("statement") {
            round_trips += 1;
        }
        let kind: String = what
            .split_once(": ")
            .map_or(what, |(_, sql)| sql)
            .chars()
            .take(44)
            .collect();
        let step = what.split_whitespace().next().unwrap_or("");
        let kind = format!("{step:<9} {kind}");
        match kinds.iter_mut().find(|(k, _, _)| *k == kind) {
            Some((_, n, total)) => {
                *n += 1;
                *total += ms;
            }
            None => kinds.push((kind, 1, ms)),
        }
    }
    println!(
        "per save, {COUNTED} saves with every statement's duration logged: {:.1} statements (round-trips), {:.3} ms in the server, {wall_ms:.3} ms in all",
        f64::from(round_trips) / COUNTED as f64,
        server_ms / COUNTED as f64
    );
    for (kind, n, total) in &kinds {
        println!("  {kind}: {n} times, {:.3} ms each", total / f64::from(*n));
    }
    store.close(Utc::now()).expect("close");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Saves per second by `savers` members at once on each of `stores`, for
/// [`RUN_FOR`].
fn saves_per_second(stores: &[&Store], savers: u64, framework: &Framework) -> f64 {
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    std::thread::scope(|s| {
        for (p, store) in stores.iter().enumerate() {
            for t in 0..savers {
                let member = 10_000 * (p as u64 + 1) + t;
                let (done, stop) = (&done, &stop);
                s.spawn(move || {
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        i += 1;
                        save(store, framework, member, i);
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        }
        std::thread::sleep(RUN_FOR);
        stop.store(true, Ordering::Relaxed);
    });
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn throughput(db: &pg_server::Database) {
    let framework = Framework::builtin().expect("framework");
    let key = SecretKey::generate();
    // The processes share the data directory (the erasure record).
    let dir = scratch("throughput");
    let first = open(db, &dir, &key, Some("0-0"));
    let second = open(db, &dir, &key, Some("1-1"));
    // Every saver's member key exists before the clock starts.
    for (p, store) in [&first, &second].into_iter().enumerate() {
        for t in 0..16 {
            save(store, &framework, 10_000 * (p as u64 + 1) + t, 0);
        }
    }
    println!("\n## Saves per second, one process and two (shards 0-0 and 1-1 of 2)");
    println!("| processes × members saving at once | saves/s |\n|---|---|");
    for (stores, savers) in [
        (vec![&first], 1),
        (vec![&first], 8),
        (vec![&first], 16),
        (vec![&first, &second], 8),
    ] {
        let rate = saves_per_second(&stores, savers, &framework);
        println!("| {} × {savers} | {rate:.0} |", stores.len());
    }
    second.close(Utc::now()).expect("close");
    first.close(Utc::now()).expect("close");
    let _ = std::fs::remove_dir_all(&dir);
}

fn quantile(mut xs: Vec<Duration>, q: f64) -> Duration {
    xs.sort();
    xs[((xs.len() as f64 - 1.0) * q).round() as usize]
}

fn timed_save(store: &Store, framework: &Framework, member: u64, i: u64) -> Duration {
    let started = Instant::now();
    save(store, framework, member, i);
    started.elapsed()
}

/// The p50 and p99 of `xs`, in milliseconds.
fn p50_p99(xs: &[Duration]) -> (f64, f64) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (
        ms(quantile(xs.to_vec(), 0.5)),
        ms(quantile(xs.to_vec(), 0.99)),
    )
}

/// An erasure on PostgreSQL among `members` × 100 reflections: the
/// forget-me reply, the `VACUUM FULL` rewrite, and members 2–51 saving
/// back to back before it and while it runs; a database of its own for
/// each size.
fn erasure() {
    let framework = Framework::builtin().expect("framework");
    println!("\n## Erasure on PostgreSQL (VACUUM FULL of every table)");
    println!(
        "| reflections | forget-me reply | VACUUM FULL rewrite | others' save p50 / p99, idle | during the rewrite | p99 ratio |"
    );
    println!("|---|---|---|---|---|---|");
    for members in [10u64, 100] {
        let db = match pg_server::try_database() {
            Ok(db) => db,
            Err(why) => {
                println!("erasure not measured: {why}");
                return;
            }
        };
        let key = SecretKey::generate();
        let dir = scratch(&format!("erasure-{members}"));
        let store = open(&db, &dir, &key, None);
        for member in 1..=members {
            for i in 0..100 {
                save(&store, &framework, member, i);
            }
        }
        let idle: Vec<Duration> = (0..300)
            .map(|i| timed_save(&store, &framework, 2 + i % 50, 1_000 + i))
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
                    lat.push(timed_save(&store, &framework, 2 + i % 50, 5_000 + i));
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
        let (i50, i99) = p50_p99(&idle);
        let (d50, d99) = p50_p99(&during);
        println!(
            "| {} | {:.2} ms | {:.0} ms | {i50:.2} / {i99:.2} ms | {d50:.2} / {d99:.2} ms | {:.2}× |",
            members * 100,
            reply.as_secs_f64() * 1000.0,
            rewrite.as_secs_f64() * 1000.0,
            d99 / i99,
        );
        store.close(Utc::now()).expect("close");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` and friends: nothing to list.
    }
    let db = match pg_server::try_database() {
        Ok(db) => db,
        Err(why) => {
            println!("PostgreSQL not benchmarked here: {why}");
            return;
        }
    };
    let mut c = Criterion::default().configure_from_args();
    durable_save(&mut c, &db);
    c.final_summary();
    match pg_server::try_database() {
        Ok(db) => throughput(&db),
        Err(why) => println!("throughput not measured: {why}"),
    }
    erasure();
}
