//! End to end, through the fake Discord on loopback: interactions dispatched
//! at a steady rate, latency from dispatch to the bot's callback, beside a
//! floor bot (a bare serenity client answering every command with a fixed
//! string and every autocomplete with a fixed choice) on the same harness in
//! the same run. Commands, autocomplete of `/competence`'s `code` as it is
//! typed, modal submits; also the bot's startup. The `/reflect` modal
//! submits again with the records on PostgreSQL (a private server started
//! as the tests start theirs), beside the same on sled; skipped, saying
//! why, where PostgreSQL cannot run.
//!
//! `cargo bench --bench e2e` (memory is measured by `benches/run-all.sh`).

#[path = "../tests/integration/fake_discord/mod.rs"]
#[allow(dead_code, unused_imports)]
mod fake_discord;
#[path = "../tests/integration/pg_server.rs"]
#[allow(dead_code)]
mod pg_server;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_discord::fixtures::{self, ALICE};
use fake_discord::{FakeDiscord, TOKEN};
use poise::serenity_prelude as serenity;
use practice_companion::Library;
use practice_companion::clock::SystemClock;
use practice_companion::discord::{Config, run_until};
use serde_json::{Value, json};

const COMMANDS: usize = 10_000;
const COMMAND_RATE: u64 = 500;
const MODALS: usize = 2_000;
const MODAL_RATE: u64 = 100;
/// What practitioners have typed so far in `/competence`'s `code` when
/// Discord asks for suggestions: codes, words part-way, everyday phrases.
const PARTIALS: [&str; 12] = [
    "mot",
    "motivat",
    "refer",
    "stren",
    "supervi",
    "goal sett",
    "3.",
    "C2.1",
    "bounda",
    "endin",
    "client cries in sess",
    "three-way contr",
];

struct Stats {
    p50: Duration,
    p99: Duration,
    max: Duration,
    dropped: usize,
}

/// `latencies[i]`: interaction `i`'s, `None` when it was never answered.
fn stats(latencies: &[Option<Duration>]) -> Stats {
    let sent = latencies.len();
    let mut latencies: Vec<Duration> = latencies.iter().flatten().copied().collect();
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or_default()
    };
    Stats {
        p50: at(0.5),
        p99: at(0.99),
        max: latencies.last().copied().unwrap_or_default(),
        dropped: sent - latencies.len(),
    }
}

/// Dispatches `n` interactions at `rate` per second, the `i`th made by
/// `make(id, i)`; returns the latency of each one's callback, in order.
async fn load(
    fake: &FakeDiscord,
    n: usize,
    rate: u64,
    make: impl Fn(u64, usize) -> Value,
) -> Vec<Option<Duration>> {
    let start = tokio::time::Instant::now();
    let mut sent: HashMap<String, Instant> = HashMap::with_capacity(n);
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        tokio::time::sleep_until(start + Duration::from_micros(1_000_000 * i as u64 / rate)).await;
        let id = fake.next_id();
        let interaction = make(id, i);
        sent.insert(id.to_string(), Instant::now());
        ids.push(id.to_string());
        fake.dispatch("INTERACTION_CREATE", interaction);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answered = callbacks(fake, &sent).len();
        if answered >= n || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let answered = callbacks(fake, &sent);
    ids.iter().map(|id| answered.get(id).copied()).collect()
}

fn callbacks(fake: &FakeDiscord, sent: &HashMap<String, Instant>) -> HashMap<String, Duration> {
    fake.requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/callback"))
        .filter_map(|r| {
            let id = r
                .path
                .strip_prefix("/api/v10/interactions/")?
                .split('/')
                .next()?
                .to_string();
            let sent_at = sent.get(&id)?;
            Some((id, r.at.saturating_duration_since(*sent_at)))
        })
        .collect()
}

fn competence(id: u64) -> Value {
    fixtures::command(
        id,
        ALICE,
        "competence",
        json!([{ "name": "code", "type": 3, "value": "3.5" }]),
    )
}

/// Autocomplete of `/competence`'s `code`, cycling through [`PARTIALS`].
fn autocomplete(id: u64, i: usize) -> Value {
    fixtures::autocomplete(
        id,
        ALICE,
        "competence",
        "code",
        PARTIALS[i % PARTIALS.len()],
    )
}

/// Per partial typed, p50/p99/max in ms, of latencies in the order of [`PARTIALS`]
/// (a load of `autocomplete`).
fn by_partial(latencies: &[Option<Duration>]) -> String {
    PARTIALS
        .iter()
        .enumerate()
        .map(|(p, partial)| {
            let mine: Vec<Option<Duration>> = latencies
                .iter()
                .skip(p)
                .step_by(PARTIALS.len())
                .copied()
                .collect();
            let s = stats(&mine);
            format!(
                "`{partial}` {:.2}/{:.2}/{:.1}",
                s.p50.as_secs_f64() * 1e3,
                s.p99.as_secs_f64() * 1e3,
                s.max.as_secs_f64() * 1e3
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn modal(id: u64) -> Value {
    fixtures::modal_submit(
        id,
        ALICE,
        "reflect:new:free",
        &[
            ("title", "Load"),
            (
                "text",
                "A reflection written under load, tagged and saved durably.",
            ),
            ("tags", "C3.5"),
        ],
    )
}

struct FloorBot;

#[serenity::async_trait]
impl serenity::EventHandler for FloorBot {
    async fn interaction_create(&self, ctx: serenity::Context, interaction: serenity::Interaction) {
        match interaction {
            serenity::Interaction::Command(command) => {
                let reply = serenity::CreateInteractionResponse::Message(
                    serenity::CreateInteractionResponseMessage::new().content("ok"),
                );
                let _ = command.create_response(&ctx.http, reply).await;
            }
            serenity::Interaction::Autocomplete(autocomplete) => {
                let reply = serenity::CreateInteractionResponse::Autocomplete(
                    serenity::CreateAutocompleteResponse::new().add_string_choice("ok", "ok"),
                );
                let _ = autocomplete.create_response(&ctx.http, reply).await;
            }
            _ => {}
        }
    }
}

struct FloorRun {
    commands: Stats,
    completions: Stats,
}

/// The floor bot's commands and autocompletes.
async fn floor_run() -> FloorRun {
    let fake = FakeDiscord::start().await;
    fake.skip_validation();
    let http = serenity::HttpBuilder::new(TOKEN)
        .proxy(fake.api_url())
        .ratelimiter_disabled(true)
        .build();
    let mut client =
        serenity::ClientBuilder::new_with_http(http, serenity::GatewayIntents::empty())
            .event_handler(FloorBot)
            .await
            .expect("floor client");
    let shards = client.shard_manager.clone();
    let task = tokio::spawn(async move { client.start().await });
    fake.wait_until("the floor bot's connection", || {
        fake.gateway_log()
            .contains(&"identify".to_string())
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let commands = stats(&load(&fake, COMMANDS, COMMAND_RATE, |id, _| competence(id)).await);
    let completions = stats(&load(&fake, COMMANDS, COMMAND_RATE, autocomplete).await);
    shards.shutdown_all().await;
    let _ = task.await;
    FloorRun {
        commands,
        completions,
    }
}

struct BotRun {
    startup: Duration,
    commands: Stats,
    /// Each interaction's latency, the `i`th typed `PARTIALS[i % PARTIALS.len()]`.
    completions: Vec<Option<Duration>>,
    modals: Stats,
}

fn config(fake: &FakeDiscord, data_dir: std::path::PathBuf) -> Config {
    Config {
        token: TOKEN.to_string(),
        api_url: Some(fake.api_url()),
        data_dir,
        database: None,
        shards: None,
        framework: Arc::new(Library::builtin().expect("framework")),
        dev_guild: None,
        message_content: false,
        clock: Arc::new(SystemClock),
        scheduler_events: None,
        http_timeout: Duration::from_secs(20),
        key_file: None,
    }
}

async fn bot_run() -> BotRun {
    let fake = FakeDiscord::start().await;
    fake.skip_validation();
    let dir = std::env::temp_dir().join(format!("companion-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = config(&fake, dir);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let task = tokio::spawn(run_until(config, async move {
        let _ = rx.await;
    }));
    fake.wait_ready().await;
    let startup = fake
        .requests()
        .iter()
        .find(|r| r.method == "PUT" && r.path.ends_with("/commands"))
        .map(|r| r.at.saturating_duration_since(started))
        .unwrap_or_default();
    let commands = stats(&load(&fake, COMMANDS, COMMAND_RATE, |id, _| competence(id)).await);
    let completions = load(&fake, COMMANDS, COMMAND_RATE, autocomplete).await;
    let modals = stats(&load(&fake, MODALS, MODAL_RATE, |id, _| modal(id)).await);
    let _ = tx.send(());
    let _ = task.await;
    BotRun {
        startup,
        commands,
        completions,
        modals,
    }
}

/// The `/reflect` modal submits of [`bot_run`], the records on PostgreSQL
/// (the data directory holds the erasure record only); why not, where
/// PostgreSQL cannot run here.
async fn postgres_modals() -> Result<Stats, String> {
    let db = tokio::task::spawn_blocking(pg_server::try_database)
        .await
        .map_err(|e| e.to_string())??;
    let fake = FakeDiscord::start().await;
    fake.skip_validation();
    let dir = std::env::temp_dir().join(format!("companion-e2e-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let key_file = dir.join("key");
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&key_file)
            .map_err(|e| e.to_string())?;
        let key = practice_companion::store::SecretKey::generate();
        file.write_all(key.to_hex().to_string().as_bytes())
            .map_err(|e| e.to_string())?;
    }
    let mut config = config(&fake, dir.join("data"));
    config.database = Some(practice_companion::store::PgOptions {
        url: db.url(),
        password_file: None,
        shards: None,
    });
    config.key_file = Some(key_file);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(run_until(config, async move {
        let _ = rx.await;
    }));
    fake.wait_ready().await;
    let modals = stats(&load(&fake, MODALS, MODAL_RATE, |id, _| modal(id)).await);
    let _ = tx.send(());
    let _ = task.await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(modals)
}

/// Resident set of a process, in MB, from /proc.
fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The real `companion` binary against the fake: resident memory idle after
/// READY, after 10,000 interactions, and idle with 100,000 reflections stored.
async fn memory_run() -> (f64, f64, f64) {
    let key = "11".repeat(32);
    let spawn = |dir: &std::path::Path, fake: &FakeDiscord| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_companion"))
            .args(["run", "--api-url", &fake.api_url(), "--data-dir"])
            .arg(dir)
            .env("DISCORD_TOKEN", TOKEN)
            .env("COMPANION_KEY", &key)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("companion starts")
    };
    let dir = std::env::temp_dir().join(format!("companion-mem-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let fake = FakeDiscord::start().await;
    fake.skip_validation();
    let mut child = spawn(&dir, &fake);
    fake.wait_ready().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pid = child.id().unwrap_or_default();
    let idle = rss_mb(pid);
    load(&fake, COMMANDS, COMMAND_RATE, |id, _| competence(id)).await;
    let loaded = rss_mb(pid);
    let _ = child.kill().await;

    // 100,000 reflections (1,000 members × 100), stored with the same key.
    {
        let framework = Library::builtin().expect("framework");
        let store = practice_companion::store::Store::open(
            &dir,
            practice_companion::store::SecretKey::from_hex(&key),
        )
        .expect("store");
        let text = "A reflection of ordinary length about contracting with a new coaching client. "
            .repeat(10);
        for member in 1..=1_000u64 {
            for _ in 0..100 {
                let draft = practice_companion::reflections::Draft {
                    title: "Session".into(),
                    text: text.clone(),
                    competences: vec!["core:1.5".parse().expect("id")],
                    model: "free".into(),
                    mode: practice_companion::reflections::Mode::Coaching,
                    minutes: None,
                };
                store
                    .add_reflection(member, |id| {
                        draft.into_reflection(id, member, chrono::Utc::now(), &framework)
                    })
                    .expect("save");
            }
        }
        store.close(chrono::Utc::now()).expect("close");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let fake = FakeDiscord::start().await;
    fake.skip_validation();
    let mut child = spawn(&dir, &fake);
    fake.wait_ready().await;
    // A member lists and maps their reflections, so the store is touched.
    let list = fixtures::command(fake.next_id(), ALICE, "map", json!([]));
    fake.interact(list).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let stored = rss_mb(child.id().unwrap_or_default());
    let _ = child.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
    (idle, loaded, stored)
}

fn row(what: &str, s: &Stats) {
    println!(
        "| {what} | {:.2} ms | {:.2} ms | {:.2} ms | {} |",
        s.p50.as_secs_f64() * 1e3,
        s.p99.as_secs_f64() * 1e3,
        s.max.as_secs_f64() * 1e3,
        s.dropped
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` and friends: nothing to list.
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let floor = floor_run().await;
        let run = bot_run().await;
        let completions = stats(&run.completions);
        println!("| run | p50 | p99 | max | dropped |\n|---|---|---|---|---|");
        row(&format!("floor bot, {COMMANDS} commands at {COMMAND_RATE}/s"), &floor.commands);
        row(&format!("/competence, {COMMANDS} at {COMMAND_RATE}/s"), &run.commands);
        row(
            &format!("floor bot, {COMMANDS} autocompletes at {COMMAND_RATE}/s"),
            &floor.completions,
        );
        row(
            &format!("/competence code autocomplete, {COMMANDS} at {COMMAND_RATE}/s"),
            &completions,
        );
        row(&format!("/reflect modal submits (durable saves), {MODALS} at {MODAL_RATE}/s"), &run.modals);
        let on_postgres = postgres_modals().await;
        match &on_postgres {
            Ok(modals) => row(
                &format!("/reflect modal submits on PostgreSQL, {MODALS} at {MODAL_RATE}/s"),
                modals,
            ),
            Err(why) => println!("\n/reflect on PostgreSQL not measured here: {why}"),
        }
        let ratio = |a: &Stats, floor: &Stats| a.p99.as_secs_f64() / floor.p99.as_secs_f64().max(1e-9);
        println!(
            "\np99 ratio, /competence to floor: {:.2}\np99 ratio, autocomplete to floor: {:.2}\nstartup to commands registered (loopback): {:.0} ms",
            ratio(&run.commands, &floor.commands),
            ratio(&completions, &floor.completions),
            run.startup.as_secs_f64() * 1e3
        );
        if let Ok(modals) = &on_postgres {
            println!(
                "p50 ratio, /reflect on PostgreSQL to sled: {:.2}; p99 ratio: {:.2}",
                modals.p50.as_secs_f64() / run.modals.p50.as_secs_f64().max(1e-9),
                ratio(modals, &run.modals)
            );
        }
        println!("autocomplete by partial, p50/p99/max ms: {}", by_partial(&run.completions));
        if std::env::args().any(|a| a == "--memory") {
            let (idle, loaded, stored) = memory_run().await;
            println!(
                "\nresident set of `companion run`: idle after READY {idle:.1} MB; after {COMMANDS} interactions {loaded:.1} MB; idle with 100,000 reflections {stored:.1} MB"
            );
        }
    });
}
