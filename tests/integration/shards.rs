//! Two bot processes on one PostgreSQL database, each running its own
//! gateway shard (`run --shards 0-0` and `1-1 --shard-total 2`), against the
//! fake Discord, which sends each server's events only to the shard that owns
//! it: what a member does through one process is seen through the other, and
//! each weekly post and reminder goes out once across both. Discord's global
//! rate limit, counted by the fake's clock: one process, and two together,
//! never send more than its share in any one second, and a global 429 to
//! one holds both back until its `retry_after` has passed.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use poise::serenity_prelude as serenity;
use practice_companion::clock::ManualClock;
use practice_companion::discord::scheduler::SchedulerEvent;
use practice_companion::shards::ShardRange;
use serde_json::{Value, json};

use crate::bot::{Bot, Storage};
use crate::fake_discord::fixtures::{self, ADMIN, ALICE, BOB, CHANNEL_ID, GUILD_ID, Member};
use crate::fake_discord::{FakeDiscord, TOKEN, spec};
use crate::meetings::{asked_again, members_asked, rota};
use crate::replies::{content, is_ephemeral, schedule_set};

/// A server on shard 1 of 2 (the test server, `GUILD_ID`, is on shard 0).
const SHARD_ONE_GUILD: &str = "400000000004194305";
const SHARD_ONE_CHANNEL: &str = "500000000000000002";

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// `interaction` as sent from `guild`'s `channel`.
fn in_server(mut interaction: Value, guild: &str, channel: &str) -> Value {
    interaction["guild_id"] = json!(guild);
    interaction["channel_id"] = json!(channel);
    interaction["channel"]["id"] = json!(channel);
    interaction["authorizing_integration_owners"]["0"] = json!(guild);
    if interaction["data"].get("guild_id").is_some() {
        interaction["data"]["guild_id"] = json!(guild);
    }
    interaction
}

/// `/reflections <sub>` from Alice in `guild`.
async fn reflections(fake: &FakeDiscord, sub: &str, guild: &str, channel: &str) -> Value {
    let options = json!([{ "name": sub, "type": 1, "options": [] }]);
    let command = fixtures::command(fake.next_id(), ALICE, "reflections", options);
    fake.interact(in_server(command, guild, channel)).await
}

/// The weekly posts sent to `channel`.
fn posts_to(fake: &FakeDiscord, channel: &str) -> usize {
    let path = format!("/api/v10/channels/{channel}/messages");
    fake.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .count()
}

/// The reminders sent to members (in their direct messages).
fn reminders_sent(fake: &FakeDiscord) -> usize {
    fake.requests()
        .iter()
        .filter(|r| {
            r.method == "POST"
                && r.path.ends_with("/messages")
                && !r.path.contains(CHANNEL_ID)
                && !r.path.contains(SHARD_ONE_CHANNEL)
                && r.json()["content"]
                    .as_str()
                    .is_some_and(|c| c.contains("gentle nudge"))
        })
        .count()
}

fn posted(events: &[SchedulerEvent]) -> Vec<u64> {
    events
        .iter()
        .filter_map(|e| match e {
            SchedulerEvent::Posted { guild, .. } => Some(*guild),
            _ => None,
        })
        .collect()
}

/// The members reminded, in order.
fn reminded(events: &[SchedulerEvent]) -> Vec<u64> {
    events
        .iter()
        .filter_map(|e| match e {
            SchedulerEvent::Reminded { member } => Some(*member),
            _ => None,
        })
        .collect()
}

/// `who` asks, through shard 1's process, for a reminder on Sundays at
/// 10:00 London time.
async fn remind_on_sunday(fake: &FakeDiscord, who: Member) {
    let remind = json!([{ "name": "on", "type": 1, "options": [
        { "name": "weekday", "type": 4, "value": 6 },
        { "name": "time", "type": 3, "value": "10:00" },
        { "name": "timezone", "type": 3, "value": "Europe/London" },
    ] }]);
    let command = fixtures::command(fake.next_id(), who, "remind", remind);
    let reply = fake
        .interact(in_server(command, SHARD_ONE_GUILD, SHARD_ONE_CHANNEL))
        .await;
    assert!(is_ephemeral(&reply), "{reply}");
}

/// Two processes at once, shards 0 and 1 of 2, on one database: a
/// reflection saved through one is listed by the same member through the
/// other; forget-me through the other leaves nothing to list through the
/// first; each server's weekly post goes out once, from the process of its
/// shard, and the member's reminder once, from shard 0's (and none after
/// her forget-me). With shard 1's process stopped, shard 0's carries on for
/// its own server and the reminders; restarted within the grace period,
/// shard 1's posts its server's missed week once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_two_processes_with_a_shard_each_act_once_across_both() {
    let Some(storage) = Storage::postgres() else {
        return;
    };
    let zero = ShardRange::parse("0-0", 2).unwrap();
    let one = ShardRange::parse("1-1", 2).unwrap();
    let guild_zero: u64 = GUILD_ID.parse().unwrap();
    let guild_one: u64 = SHARD_ONE_GUILD.parse().unwrap();
    assert!(zero.owns(guild_zero) && one.owns(guild_one));
    assert!(!zero.owns(guild_one) && !one.owns(guild_zero));

    let fake = FakeDiscord::start().await;
    // Saturday noon; the posts and the reminder are due Sunday 10:00 (London, UTC).
    let clock = Arc::new(ManualClock::new(utc(2026, 11, 28, 12, 0)));
    let mut first = Bot::start_sharded(&fake, &storage, clock.clone(), zero).await;
    let mut second = Bot::start_sharded(&fake, &storage, clock.clone(), one).await;
    assert_eq!(fake.connected_shards(), [0, 1]);
    assert!(
        fake.gateway_log()
            .iter()
            .any(|l| l == "identify shard 1 of 2"),
        "{:?}",
        fake.gateway_log()
    );

    for (guild, channel) in [(GUILD_ID, CHANNEL_ID), (SHARD_ONE_GUILD, SHARD_ONE_CHANNEL)] {
        let set = schedule_set(channel, 6, "10:00", "Europe/London");
        let id = fake.next_id();
        let reply = fake
            .interact(fixtures::command_in(
                id, ADMIN, "schedule", set, guild, channel,
            ))
            .await;
        assert!(is_ephemeral(&reply), "{reply}");
        let owner = crate::fake_discord::shard_of(guild.parse().unwrap(), 2);
        assert_eq!(
            fake.routed_to("INTERACTION_CREATE", &id.to_string()),
            Some(owner),
            "Discord sends a server's interactions to its shard"
        );
    }

    // Saved through shard 1's process (its server).
    let (saved, id) = save_in_shard_ones_server(
        &fake,
        "Contract with a sponsor",
        "Three parties in the room, one of them absent.",
        "C1.6",
    )
    .await;
    assert!(
        content(&saved).contains("Saved as reflection #1"),
        "{saved}"
    );
    assert_eq!(
        fake.routed_to("INTERACTION_CREATE", &id.to_string()),
        Some(1)
    );
    // Listed through shard 0's.
    let listed = reflections(&fake, "list", GUILD_ID, CHANNEL_ID).await;
    assert!(
        listed.to_string().contains("Contract with a sponsor"),
        "{listed}"
    );

    // The reminder asked for through shard 1's process.
    remind_on_sunday(&fake, ALICE).await;

    first.ticked(utc(2026, 11, 28, 12, 0)).await;
    second.ticked(utc(2026, 11, 28, 12, 0)).await;
    clock.set(utc(2026, 11, 29, 10, 0));
    let by_first = first.ticked(utc(2026, 11, 29, 10, 0)).await;
    let by_second = second.ticked(utc(2026, 11, 29, 10, 0)).await;
    assert_eq!(posted(&by_first), [guild_zero], "{by_first:?}");
    assert_eq!(posted(&by_second), [guild_one], "{by_second:?}");
    assert_eq!(posts_to(&fake, CHANNEL_ID), 1);
    assert_eq!(posts_to(&fake, SHARD_ONE_CHANNEL), 1);
    assert_eq!(reminded(&by_first), [ALICE.id], "{by_first:?}");
    assert!(reminded(&by_second).is_empty(), "{by_second:?}");
    assert_eq!(reminders_sent(&fake), 1);

    // Forget-me through shard 1's process; nothing left to list through shard 0's.
    let ask = reflections(&fake, "forget-me", SHARD_ONE_GUILD, SHARD_ONE_CHANNEL).await;
    assert!(content(&ask).contains("all 1 of your reflections"), "{ask}");
    let click = fixtures::button(fake.next_id(), ALICE, "forget:confirm");
    let done = fake
        .interact_deferred(in_server(click, SHARD_ONE_GUILD, SHARD_ONE_CHANNEL))
        .await;
    assert!(content(&done).contains("Done: 1 reflection"), "{done}");
    let listed = reflections(&fake, "list", GUILD_ID, CHANNEL_ID).await;
    assert!(content(&listed).contains("no reflections yet"), "{listed}");
    let listed = reflections(&fake, "list", SHARD_ONE_GUILD, SHARD_ONE_CHANNEL).await;
    assert!(content(&listed).contains("no reflections yet"), "{listed}");
    // Her reminder went with the rest (below, shard 0's process sends
    // Bob's and not hers).
    remind_on_sunday(&fake, BOB).await;

    // Shard 1's process stops; shard 0's carries on for its own server.
    second.stop().await;
    fake.wait_until("shard 1's session closed", || {
        (fake.connected_shards() == [0]).then_some(())
    })
    .await;
    clock.set(utc(2026, 12, 6, 10, 0));
    let by_first = first.ticked(utc(2026, 12, 6, 10, 0)).await;
    assert_eq!(posted(&by_first), [guild_zero], "{by_first:?}");
    assert_eq!(reminded(&by_first), [BOB.id], "{by_first:?}");
    assert_eq!(posts_to(&fake, CHANNEL_ID), 2);
    assert_eq!(posts_to(&fake, SHARD_ONE_CHANNEL), 1);
    assert_eq!(reminders_sent(&fake), 2);

    // Back within the two hours' grace, it posts its server's week, once.
    clock.set(utc(2026, 12, 6, 11, 0));
    let mut second = Bot::start_sharded(&fake, &storage, clock.clone(), one).await;
    let by_second = second.ticked(utc(2026, 12, 6, 11, 0)).await;
    assert_eq!(posted(&by_second), [guild_one], "{by_second:?}");
    assert!(reminded(&by_second).is_empty(), "{by_second:?}");
    first.ticked(utc(2026, 12, 6, 11, 0)).await;
    assert_eq!(posts_to(&fake, CHANNEL_ID), 2);
    assert_eq!(posts_to(&fake, SHARD_ONE_CHANNEL), 2);
    assert_eq!(reminders_sent(&fake), 2);

    second.stop().await;
    first.stop().await;
    fake.assert_bodies_valid();
}

/// `companion run --shards <shards> --shard-total 2` on `db`, against the fake.
fn spawn_process(
    fake: &FakeDiscord,
    db: &crate::postgres::Database,
    dir: &std::path::Path,
    key: &str,
    shards: &str,
) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_companion"))
        .args(["run", "--api-url", &fake.api_url(), "--data-dir"])
        .arg(dir)
        .args(["--database", &db.url()])
        .args(["--shards", shards, "--shard-total", "2"])
        .env("DISCORD_TOKEN", TOKEN)
        .env("COMPANION_KEY", key)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env_remove("COMPANION_MESSAGE_CONTENT")
        .env_remove("COMPANION_DATABASE_URL")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("companion starts")
}

/// The same with two real processes of the binary, as an operator runs
/// them (`run --shards 0-0` and `1-1 --shard-total 2`): a reflection saved
/// through shard 1's process is listed through shard 0's; shard 1's is
/// killed (SIGKILL) and shard 0's goes on answering its server; shard 1's,
/// started again, takes its shard's lock back and lists the reflection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_two_real_processes_share_a_database_and_one_survives_the_other_killed() {
    let Some(db) = crate::postgres::database() else {
        return;
    };
    let fake = FakeDiscord::start().await;
    let dir = crate::bot::scratch_dir();
    let key = practice_companion::store::SecretKey::generate()
        .to_hex()
        .to_string();
    let opened = fake.sessions_opened();
    let _zero = spawn_process(&fake, &db, &dir, &key, "0-0");
    fake.wait_for_shard(0, opened).await;
    let opened = fake.sessions_opened();
    let mut one = spawn_process(&fake, &db, &dir, &key, "1-1");
    fake.wait_for_shard(1, opened).await;

    let (saved, _) = save_in_shard_ones_server(
        &fake,
        "Kept across processes",
        "Written through one, read through the other.",
        "",
    )
    .await;
    assert!(
        content(&saved).contains("Saved as reflection #1"),
        "{saved}"
    );
    let listed = reflections(&fake, "list", GUILD_ID, CHANNEL_ID).await;
    assert!(
        listed.to_string().contains("Kept across processes"),
        "{listed}"
    );

    one.kill().await.expect("shard 1's process is killed");
    fake.wait_until("shard 1's session gone", || {
        (fake.connected_shards() == [0]).then_some(())
    })
    .await;
    let listed = reflections(&fake, "list", GUILD_ID, CHANNEL_ID).await;
    assert!(
        listed.to_string().contains("Kept across processes"),
        "{listed}"
    );

    let opened = fake.sessions_opened();
    let _one = spawn_process(&fake, &db, &dir, &key, "1-1");
    fake.wait_for_shard(1, opened).await;
    let listed = reflections(&fake, "list", SHARD_ONE_GUILD, SHARD_ONE_CHANNEL).await;
    assert!(
        listed.to_string().contains("Kept across processes"),
        "{listed}"
    );
    assert_eq!(db.sql("SELECT count(*) FROM companion_reflections"), "1");
    fake.assert_bodies_valid();
}

/// The gateway calls serenity makes before it connects are answered as
/// Discord answers them (the spec's schemas), and serenity reads them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_answers_the_gateway_calls_as_discord_does() {
    let fake = FakeDiscord::start().await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    for path in ["/api/v10/gateway", "/api/v10/gateway/bot"] {
        let answer: Value = client
            .get(format!("{}{path}", fake.api_url()))
            .header("authorization", format!("Bot {TOKEN}"))
            .send()
            .await
            .expect("the fake answers")
            .bytes()
            .await
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .expect("JSON");
        assert_eq!(
            spec::validate_answer("GET", path, &answer),
            Ok(()),
            "{answer}"
        );
    }
    let http = serenity::HttpBuilder::new(TOKEN)
        .client(client)
        .proxy(fake.api_url())
        .ratelimiter_disabled(true)
        .build();
    let gateway = http.get_bot_gateway().await.expect("serenity reads it");
    assert_eq!(gateway.shards, 1);
    assert!(
        gateway.url.starts_with("ws://127.0.0.1:"),
        "{}",
        gateway.url
    );
    assert_eq!(gateway.session_start_limit.max_concurrency, 1);
    assert_eq!(gateway.session_start_limit.remaining, 1000);
}

/// The environment variable that keeps `standalone` running, for a person
/// to run `companion run` by hand against the fake: how many seconds.
const STANDALONE_HOLD: &str = "COMPANION_FAKE_DISCORD_SECONDS";
/// The port `standalone` listens on (default: a free one).
const STANDALONE_PORT: &str = "COMPANION_FAKE_DISCORD_PORT";

/// The fake Discord on its own, for running the real bot by hand:
///
/// ```text
/// COMPANION_FAKE_DISCORD_PORT=8765 COMPANION_FAKE_DISCORD_SECONDS=600 \
///   cargo test --test integration shards::standalone -- --ignored --nocapture
/// ```
///
/// prints its URL and the `companion run` lines for two processes, then
/// what happens on its gateway and REST for that long. Run on its own (no
/// seconds given) it only starts, checks that it answers, and stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a helper run by hand: the fake Discord standalone"]
async fn standalone() {
    let port = match std::env::var(STANDALONE_PORT) {
        Ok(p) => p.parse().unwrap_or_else(|_| {
            panic!("{STANDALONE_PORT} takes a port number, like 8765, not {p:?}")
        }),
        Err(_) => 0,
    };
    let seconds: u64 = match std::env::var(STANDALONE_HOLD) {
        Ok(s) => s.parse().unwrap_or_else(|_| {
            panic!("{STANDALONE_HOLD} takes a number of seconds, like 600, not {s:?}")
        }),
        Err(_) => 0,
    };
    let fake = FakeDiscord::start_on(port).await;
    let url = fake.api_url();
    let answer = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{url}/api/v10/gateway/bot"))
        .header("authorization", format!("Bot {TOKEN}"))
        .send()
        .await
        .expect("the fake answers");
    assert!(answer.status().is_success(), "{answer:?}");
    println!("fake Discord at {url} (token {TOKEN})");
    for shard in ["0-0", "1-1"] {
        println!(
            "  DISCORD_TOKEN={TOKEN} COMPANION_KEY=… companion run --api-url {url} --shards {shard} --shard-total 2 --database postgres://… --data-dir …"
        );
    }
    let until = tokio::time::Instant::now() + std::time::Duration::from_secs(seconds);
    let (mut logged, mut requested) = (0, 0);
    while tokio::time::Instant::now() < until {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let log = fake.gateway_log();
        for line in log.iter().skip(logged) {
            println!("gateway: {line}");
        }
        logged = log.len();
        let requests = fake.requests();
        for r in requests.iter().skip(requested) {
            println!("rest: {} {}", r.method, r.path);
        }
        requested = requests.len();
    }
}

/// Alice's reflection, written through the form in the server shard 1 owns.
/// Returns the answer and the interaction's id.
async fn save_in_shard_ones_server(
    fake: &FakeDiscord,
    title: &str,
    text: &str,
    tags: &str,
) -> (Value, u64) {
    let id = fake.next_id();
    let form = fixtures::modal_submit(
        id,
        ALICE,
        "reflect:new:free",
        &[
            ("title", title),
            ("text", text),
            ("tags", tags),
            ("mode", "coaching"),
        ],
    );
    let answer = fake
        .interact(in_server(form, SHARD_ONE_GUILD, SHARD_ONE_CHANNEL))
        .await;
    (answer, id)
}

/// Class of the server's lock on the meetings (the store's
/// `MEETINGS_LOCK_CLASS`).
const MEETINGS_LOCK_CLASS: i64 = 0x636f_6d73;

/// A failover lets go of the server's locks without telling their holders.
/// Here the session holding the meetings lock is ended while a rota change
/// through shard 0's process waits on Discord; a forget-me through shard
/// 1's process then takes the lock and takes Alice off the rota. The
/// change, worked out from the record with Alice in it, is not kept and
/// Bob is told so; Alice stays forgotten; Bob's change run again is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_rota_change_that_lost_its_lock_never_undoes_a_forget_me_through_another_process()
 {
    let Some(storage) = Storage::postgres() else {
        return;
    };
    let db = storage.server().expect("on PostgreSQL").clone();
    let fake = FakeDiscord::start().await;
    let clock = Arc::new(ManualClock::new(utc(2026, 11, 28, 12, 0)));
    let zero = ShardRange::parse("0-0", 2).unwrap();
    let one = ShardRange::parse("1-1", 2).unwrap();
    let first = Bot::start_sharded(&fake, &storage, clock.clone(), zero).await;
    let second = Bot::start_sharded(&fake, &storage, clock.clone(), one).await;
    rota(&fake, ALICE, "join").await;
    let before = members_asked(&fake);
    // Discord answers the change's question about Alice slowly, twice.
    for _ in 0..2 {
        fake.hang_next("GET", "/members/", std::time::Duration::from_millis(1800));
    }
    let (joined, forgotten) = tokio::join!(rota(&fake, BOB, "join"), async {
        asked_again(&fake, before).await;
        let ended = tokio::task::block_in_place(|| {
            db.sql(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND classid::bigint = {MEETINGS_LOCK_CLASS} AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ))
        });
        assert_eq!(ended.trim(), "t", "the holder's session was ended");
        let confirm = fixtures::button(fake.next_id(), ALICE, "forget:confirm");
        fake.interact_deferred(in_server(confirm, SHARD_ONE_GUILD, SHARD_ONE_CHANNEL))
            .await
    });
    assert!(is_ephemeral(&forgotten), "{forgotten}");
    let words = content(&joined);
    assert!(
        words.contains("changed while this was being done") && words.contains("not kept"),
        "{words}"
    );
    let shown = content(&rota(&fake, ADMIN, "show").await);
    assert!(
        !shown.contains("alice"),
        "forgotten stays forgotten: {shown}"
    );
    assert!(!shown.contains("bob"), "the change was not kept: {shown}");
    let again = content(&rota(&fake, BOB, "join").await);
    assert!(again.contains("bob"), "{again}");
    let shown = content(&rota(&fake, ADMIN, "show").await);
    assert!(shown.contains("bob") && !shown.contains("alice"), "{shown}");
    first.stop().await;
    second.stop().await;
}

/// The bot's share of Discord's global rate limit, the turns it takes.
const PER_SECOND: usize = practice_companion::discord::rest::GLOBAL_PER_SECOND as usize;

/// Discord's global rate limit: 50 requests a second per bot. The bot takes
/// turns for a share of it (`PER_SECOND`, in 40 slots a second), so the room
/// between its share and the limit absorbs requests delayed on their way to
/// the fake by a busy machine; a count over 50 is a request Discord would
/// refuse.
const DISCORDS_LIMIT: usize = 50;
const _: () = assert!(PER_SECOND < DISCORDS_LIMIT);

/// `count` servers, each with its own channel, all owned by shard `shard`
/// of 2 (or any shard: `None`).
fn servers(count: usize, shard: Option<u32>) -> Vec<(String, String)> {
    (0..)
        .map(|i: u64| {
            (
                410_000_000_000_000_000 + (i << 22),
                510_000_000_000_000_000 + i,
            )
        })
        .filter(|(guild, _)| shard.is_none_or(|s| crate::fake_discord::shard_of(*guild, 2) == s))
        .take(count)
        .map(|(guild, channel)| (guild.to_string(), channel.to_string()))
        .collect()
}

/// Each server's weekly post set for Sundays at 10:00 London time.
async fn schedule_sundays(fake: &FakeDiscord, servers: &[(String, String)]) {
    for (guild, channel) in servers {
        let set = schedule_set(channel, 6, "10:00", "Europe/London");
        let reply = fake
            .command_in(ADMIN, "schedule", set, guild, channel)
            .await;
        assert!(is_ephemeral(&reply), "{reply}");
    }
}

/// Every server's week was posted once, each in its own channel.
fn each_posted_once(fake: &FakeDiscord, servers: &[(String, String)]) {
    for (_, channel) in servers {
        let made = fake
            .created()
            .iter()
            .filter(|c| &c.channel == channel)
            .count();
        assert_eq!(made, 1, "channel {channel}");
    }
}

/// No second the fake counted, wherever it begins, had more requests than
/// Discord's global rate limit lets through.
fn kept_under_discords_limit(fake: &FakeDiscord) {
    let busiest = fake.busiest_second();
    assert!(
        busiest <= DISCORDS_LIMIT,
        "{busiest} requests in one second, over Discord's {DISCORDS_LIMIT}"
    );
}

/// One process with sixty servers' weekly posts due at once (a post and
/// its thread each, 120 requests, sent as fast as the fake answers) never
/// sends Discord more than its global rate limit in any one second
/// the fake counts, a window beginning anywhere (the fake is not told to
/// check bodies, which would slow it below the limit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_process_posting_to_many_servers_at_once_keeps_under_discords_global_rate_limit() {
    let fake = FakeDiscord::start().await;
    fake.skip_validation();
    let clock = Arc::new(ManualClock::new(utc(2026, 11, 28, 12, 0)));
    let storage = Storage::sled(crate::bot::scratch_dir());
    let mut bot = Bot::start_on(&fake, &storage, clock.clone()).await;
    let servers = servers(60, None);
    schedule_sundays(&fake, &servers).await;
    bot.ticked(utc(2026, 11, 28, 12, 0)).await;
    clock.set(utc(2026, 11, 29, 10, 0));
    let events = bot.ticked(utc(2026, 11, 29, 10, 0)).await;
    assert_eq!(posted(&events).len(), servers.len(), "{events:?}");
    each_posted_once(&fake, &servers);
    kept_under_discords_limit(&fake);
    bot.stop().await;
}

/// Two processes on one database, shards 0 and 1 of 2, with forty servers'
/// weekly posts due at once in each (160 requests, each process as fast as
/// the fake answers): together they never send Discord more than the
/// global rate limit in any one second the fake counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_two_processes_posting_at_once_keep_together_under_discords_global_rate_limit()
{
    let Some(storage) = Storage::postgres() else {
        return;
    };
    let fake = FakeDiscord::start().await;
    fake.skip_validation();
    let clock = Arc::new(ManualClock::new(utc(2026, 11, 28, 12, 0)));
    let zero = ShardRange::parse("0-0", 2).unwrap();
    let one = ShardRange::parse("1-1", 2).unwrap();
    let mut first = Bot::start_sharded(&fake, &storage, clock.clone(), zero).await;
    let mut second = Bot::start_sharded(&fake, &storage, clock.clone(), one).await;
    let (zeros, ones) = (servers(40, Some(0)), servers(40, Some(1)));
    schedule_sundays(&fake, &zeros).await;
    schedule_sundays(&fake, &ones).await;
    first.ticked(utc(2026, 11, 28, 12, 0)).await;
    second.ticked(utc(2026, 11, 28, 12, 0)).await;
    clock.set(utc(2026, 11, 29, 10, 0));
    let (by_first, by_second) = tokio::join!(
        first.ticked(utc(2026, 11, 29, 10, 0)),
        second.ticked(utc(2026, 11, 29, 10, 0))
    );
    assert_eq!(posted(&by_first).len(), zeros.len(), "{by_first:?}");
    assert_eq!(posted(&by_second).len(), ones.len(), "{by_second:?}");
    each_posted_once(&fake, &zeros);
    each_posted_once(&fake, &ones);
    kept_under_discords_limit(&fake);
    first.stop().await;
    second.stop().await;
}

/// Whether the database has seconds held back for a global 429 (every
/// turn of them marked used).
fn held_back(db: &crate::postgres::Database) -> bool {
    let held = tokio::task::block_in_place(|| {
        db.sql(&format!(
            "SELECT count(*) FROM companion_discord_turns WHERE used >= {PER_SECOND} AND second >= floor(extract(epoch FROM clock_timestamp()))"
        ))
    });
    held.trim() != "0"
}

/// A global 429 answered to shard 0's process holds back both processes:
/// shard 1's, whose posts fall due once shard 0's has been answered, sends
/// nothing to Discord, and neither does shard 0's, until the 429's
/// `retry_after` has passed by the fake's clock; the post answered 429 is
/// sent again and made, once, and every other post goes out after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_global_429_to_one_process_holds_both_back_until_its_retry_after() {
    const RETRY_AFTER: f64 = 1.5;
    let Some(storage) = Storage::postgres() else {
        return;
    };
    let db = storage.server().expect("on PostgreSQL").clone();
    let fake = FakeDiscord::start().await;
    let saturday = utc(2026, 11, 28, 12, 0);
    let sunday = utc(2026, 11, 29, 10, 0);
    // A clock each, so that each process's posts fall due when the test says.
    let clock_zero = Arc::new(ManualClock::new(saturday));
    let clock_one = Arc::new(ManualClock::new(saturday));
    let zero = ShardRange::parse("0-0", 2).unwrap();
    let one = ShardRange::parse("1-1", 2).unwrap();
    let mut first = Bot::start_sharded(&fake, &storage, clock_zero.clone(), zero).await;
    let mut second = Bot::start_sharded(&fake, &storage, clock_one.clone(), one).await;
    let (zeros, ones) = (servers(3, Some(0)), servers(3, Some(1)));
    schedule_sundays(&fake, &zeros).await;
    schedule_sundays(&fake, &ones).await;
    first.ticked(saturday).await;
    second.ticked(saturday).await;

    let limited_path = format!("/api/v10/channels/{}/messages", zeros[0].1);
    fake.rate_limit_globally_next("POST", &limited_path, RETRY_AFTER);
    clock_zero.set(sunday);
    let limited = fake
        .wait_for("the post answered with a global 429", |r| {
            r.method == "POST" && r.path == limited_path
        })
        .await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while !held_back(&db) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "shard 0's process never held the others back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    clock_one.set(sunday);
    let (by_first, by_second) = tokio::join!(first.ticked(sunday), second.ticked(sunday));
    assert_eq!(posted(&by_first).len(), zeros.len(), "{by_first:?}");
    assert_eq!(posted(&by_second).len(), ones.len(), "{by_second:?}");
    each_posted_once(&fake, &zeros);
    each_posted_once(&fake, &ones);

    let requests = fake.requests();
    let free = limited.at + std::time::Duration::from_secs_f64(RETRY_AFTER);
    let early: Vec<String> = requests
        .iter()
        .filter(|r| r.at > limited.at && r.at < free)
        .map(|r| format!("{} {} after {:?}", r.method, r.path, r.at - limited.at))
        .collect();
    assert!(early.is_empty(), "sent within the 429's wait: {early:#?}");
    let attempts = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path == limited_path)
        .count();
    assert_eq!(attempts, 2, "the post answered 429, then sent again once");
    assert!(
        requests
            .iter()
            .any(|r| r.at >= free && r.path.contains(&ones[0].1)),
        "shard 1's process posted after the wait"
    );
    first.stop().await;
    second.stop().await;
    fake.assert_bodies_valid();
}
