//! Starting and stopping the real bot in-process against the fake Discord,
//! with an injected clock and a scratch data directory; and capturing its logs.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{TimeZone, Utc};
use practice_companion::Library;
use practice_companion::clock::ManualClock;
use practice_companion::discord::scheduler::SchedulerEvent;
use practice_companion::discord::{Config, RunError, run_until};
use practice_companion::shards::ShardRange;
use practice_companion::store::PgOptions;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::fake_discord::{FakeDiscord, TOKEN};

pub struct Bot {
    /// What the scheduler did, in order.
    pub events: tokio::sync::mpsc::UnboundedReceiver<SchedulerEvent>,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), RunError>>,
    pub clock: Arc<ManualClock>,
    pub data_dir: PathBuf,
}

impl Bot {
    pub async fn start(fake: &FakeDiscord, message_content: bool) -> Bot {
        let data_dir = scratch_dir();
        Bot::start_in(fake, message_content, data_dir).await
    }

    pub async fn start_in(fake: &FakeDiscord, message_content: bool, data_dir: PathBuf) -> Bot {
        Bot::start_with(fake, message_content, data_dir, None).await
    }

    pub async fn start_with(
        fake: &FakeDiscord,
        message_content: bool,
        data_dir: PathBuf,
        dev_guild: Option<u64>,
    ) -> Bot {
        Bot::start_with_clock(fake, message_content, data_dir, dev_guild, first_clock()).await
    }

    /// Starts the bot with this clock (kept across restarts by the caller).
    pub async fn start_with_clock(
        fake: &FakeDiscord,
        message_content: bool,
        data_dir: PathBuf,
        dev_guild: Option<u64>,
        clock: Arc<ManualClock>,
    ) -> Bot {
        let storage = Storage::sled(data_dir);
        Bot::start_configured(fake, message_content, &storage, dev_guild, clock).await
    }

    /// Starts the bot on `storage` with this clock (both kept across
    /// restarts by the caller).
    pub async fn start_on(fake: &FakeDiscord, storage: &Storage, clock: Arc<ManualClock>) -> Bot {
        Bot::start_configured(fake, false, storage, None, clock).await
    }

    /// Starts the bot on `storage` running only `shards` of Discord's
    /// gateway shards (`run --shards`).
    pub async fn start_sharded(
        fake: &FakeDiscord,
        storage: &Storage,
        clock: Arc<ManualClock>,
        shards: ShardRange,
    ) -> Bot {
        Bot::start_configured_with(fake, false, storage, None, clock, Some(shards)).await
    }

    async fn start_configured(
        fake: &FakeDiscord,
        message_content: bool,
        storage: &Storage,
        dev_guild: Option<u64>,
        clock: Arc<ManualClock>,
    ) -> Bot {
        Bot::start_configured_with(fake, message_content, storage, dev_guild, clock, None).await
    }

    async fn start_configured_with(
        fake: &FakeDiscord,
        message_content: bool,
        storage: &Storage,
        dev_guild: Option<u64>,
        clock: Arc<ManualClock>,
        shards: Option<ShardRange>,
    ) -> Bot {
        init_logs();
        let data_dir = storage.data_dir.clone();
        let (events_tx, events) = tokio::sync::mpsc::unbounded_channel();
        let config = Config {
            token: TOKEN.to_string(),
            api_url: Some(fake.api_url()),
            data_dir: data_dir.clone(),
            database: storage.database.clone(),
            shards,
            framework: Arc::new(Library::builtin().expect("framework")),
            dev_guild,
            message_content,
            clock: clock.clone(),
            scheduler_events: Some(events_tx),
            // Well under the hung requests' six seconds, well over what a
            // loaded CI machine takes to answer one.
            http_timeout: std::time::Duration::from_secs(4),
            key_file: storage.key_file.clone(),
        };
        let (tx, rx) = oneshot::channel();
        let opened = fake.sessions_opened();
        let task = tokio::spawn(run_until(config, async move {
            let _ = rx.await;
        }));
        match shards {
            // Another process may hold the other shards' sessions (and have
            // registered the commands): this one is up when its own are.
            Some(range) => {
                for shard in range.first()..=range.last() {
                    fake.wait_for_shard(shard, opened).await;
                }
            }
            None => fake.wait_ready().await,
        }
        Bot {
            events,
            shutdown: Some(tx),
            task,
            clock,
            data_dir,
        }
    }

    /// Waits for the scheduler to finish a pass at or after `at`.
    pub async fn ticked(&mut self, at: chrono::DateTime<Utc>) -> Vec<SchedulerEvent> {
        let mut seen = Vec::new();
        loop {
            let event =
                tokio::time::timeout(std::time::Duration::from_secs(20), self.events.recv())
                    .await
                    .unwrap_or_else(|_| panic!("no scheduler pass at {at}; saw {seen:?}"))
                    .expect("the scheduler is running");
            let done = matches!(event, SchedulerEvent::Ticked(t) if t >= at);
            seen.push(event);
            if done {
                return seen;
            }
        }
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let result = tokio::time::timeout(std::time::Duration::from_secs(20), &mut self.task)
            .await
            .expect("the bot stops when asked")
            .expect("the bot task does not panic");
        assert!(result.is_ok(), "the bot ended with an error: {result:?}");
    }
}

/// Where a test's bot keeps its records: a scratch data directory (sled),
/// or a database of the tests' own PostgreSQL server with the data
/// directory beside it for the erasure record. Kept across restarts.
pub struct Storage {
    pub data_dir: PathBuf,
    database: Option<PgOptions>,
    key_file: Option<PathBuf>,
    /// The PostgreSQL database, kept while the test runs.
    server: Option<crate::postgres::Database>,
}

impl Storage {
    /// The PostgreSQL database the records go to, if they go to one.
    pub fn server(&self) -> Option<&crate::postgres::Database> {
        self.server.as_ref()
    }

    pub fn sled(data_dir: PathBuf) -> Storage {
        Storage {
            data_dir,
            database: None,
            key_file: None,
            server: None,
        }
    }

    /// A fresh PostgreSQL database and its master key (which PostgreSQL
    /// needs given), or `None` where the tests' server cannot run outside CI.
    pub fn postgres() -> Option<Storage> {
        let db = crate::postgres::database()?;
        let data_dir = scratch_dir();
        let key_file = PathBuf::from(format!("{}.key", data_dir.display()));
        let key = practice_companion::store::SecretKey::generate();
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&key_file)
            .expect("the key file is made");
        file.write_all(key.to_hex().to_string().as_bytes())
            .expect("the key file is written");
        Some(Storage {
            data_dir,
            database: Some(PgOptions {
                url: db.url(),
                password_file: None,
                shards: None,
            }),
            key_file: Some(key_file),
            server: Some(db),
        })
    }
}

/// Asserts that a bot on PostgreSQL kept nothing but its erasure record and
/// its automatic backups (the upkeep's, in `backups/`) in its data
/// directory: the records went to the server.
pub fn assert_kept_in_postgres(dir: &std::path::Path) {
    let files = crate::support::files_under(dir);
    let names: Vec<String> = files
        .iter()
        .filter_map(|f| f.file_name()?.to_str().map(str::to_string))
        .collect();
    let backup = |f: &std::path::PathBuf| {
        f.parent().and_then(|p| p.file_name()) == Some(std::ffi::OsStr::new("backups"))
            && f.extension() == Some(std::ffi::OsStr::new("pcbk"))
    };
    assert!(
        files
            .iter()
            .zip(&names)
            .all(|(f, n)| n.starts_with("erasures") || backup(f)),
        "on PostgreSQL the data directory holds only the erasure record and the backups: {names:?}"
    );
}

/// The clock a test's bot starts with unless the test gives its own.
pub fn first_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap(),
    ))
}

/// Two tests of one body (an `async fn(Storage)`): on sled, and on a
/// database of the tests' own PostgreSQL server.
macro_rules! on_both_engines {
    ($body:ident: $sled:ident, $postgres:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sled() {
            $body($crate::bot::Storage::sled($crate::bot::scratch_dir())).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            if let Some(storage) = $crate::bot::Storage::postgres() {
                let dir = storage.data_dir.clone();
                $body(storage).await;
                $crate::bot::assert_kept_in_postgres(&dir);
            }
        }
    };
}
pub(crate) use on_both_engines;

/// Everything the bot logged in this test process, at every level of its own.
static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct LogBuffer;

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sends the bot's logs (all of its own levels, warnings from libraries) to a
/// buffer that privacy tests read.
fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::new("warn,practice_companion=trace");
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(|| LogBuffer)
        .try_init();
}

/// The bot's logs so far.
pub fn logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
}

/// A fresh data directory.
pub fn scratch_dir() -> PathBuf {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("companion-discord-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// poise registers choice options as integers: the index of the choice.
pub const ON: u64 = 0;
pub const OFF: u64 = 1;

pub fn switch(mode: u64) -> Value {
    json!([{ "name": "mode", "type": 4, "value": mode }])
}
