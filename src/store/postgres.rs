//! The PostgreSQL engine: each tree a table of `(k bytea, v bytea)`, reached
//! through a pool (deadpool-postgres) on the store's own runtime.
//!
//! The store's API is synchronous (sled's is), and front-ends call it from
//! their tasks. So that PostgreSQL's asynchronous client never needs the
//! caller's runtime (and never blocks one of its workers' event loops with
//! its own I/O), every query runs on a runtime of the store's own with one
//! worker thread; the calling thread waits on a channel for the answer, as
//! it waits for sled's `fdatasync` today.
//!
//! What the server is given is unreadable to its administrator: the
//! Discord id that leads every key but `meta`'s is replaced by a keyed
//! permutation of it (a four-round Feistel network over its 64 bits, keyed
//! from the master key), so one member's records still sort together but
//! the server cannot tell which Discord account they belong to; and every
//! value is sealed once more (XChaCha20-Poly1305, a key derived from the
//! master key, the table and stored key as associated data), so settings,
//! schedules and rotas, which the envelope leaves as JSON, are sealed too.
//!
//! Durability: every write is confirmed only after its `COMMIT` has
//! returned, and the store refuses a server with `fsync` or
//! `synchronous_commit` off. One process uses a database at a time (it
//! holds a session advisory lock for its life), unless each is a bot given
//! its own gateway shards (`run --shards`): each then holds that lock
//! shared and one lock per shard it runs, so processes with disjoint
//! shards run together and overlapping ones are refused.
//!
//! Failover: the URL may name several servers (a primary and its standbys,
//! `target_session_attrs=read-write`); every new connection goes to the one
//! that accepts writes. When the server is lost, a call tries again on a new
//! connection for up to [`RECONNECT_WITHIN`], taking the process lock again
//! on the server it reaches, and then fails saying nothing was changed. A
//! write is never sent twice blindly: every transaction writes a random
//! commit token with its changes, and a transaction whose `COMMIT` was sent
//! but whose answer was lost is resolved, after reconnecting, by that token
//! (there: it was committed; absent: it never will be, and it runs again).
//! The message that carries a `COMMIT` (with the transaction's writes not
//! sent yet, see [`PgTx`]) and waits longer than [`COMMIT_WITHIN`] (a
//! synchronous standby that does not answer) is cancelled and reported as
//! not confirmed: it may have been kept.
//!
//! A server on this machine may be reached in plain text; one elsewhere
//! only over TLS whose certificate is checked (`tls.rs` reads the URL's
//! TLS words and makes the connector).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chacha20poly1305::aead::{OsRng, rand_core::RngCore};

use deadpool_postgres::tokio_postgres::{self, error::SqlState};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use hmac::Mac;
use tokio_postgres_rustls::MakeRustlsConnect;
use zeroize::Zeroizing;

use super::StoreError;
use super::crypto::SecretKey;
use super::engine::{Both, Entries, Entry};

/// The environment variable that names the database instead of `--database`.
pub const DATABASE_ENV: &str = "COMPANION_DATABASE_URL";
/// The systemd credential (in `$CREDENTIALS_DIRECTORY`) read for the
/// database password when no `--database-password-file` is given.
pub const PASSWORD_CREDENTIAL: &str = "database-password";

/// How long opening waits for the process lock of a store just closed
/// (its session ends on the server a moment after) before saying the
/// database is in use.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

/// Session advisory lock held by the one bot process using the database.
const PROCESS_LOCK: i64 = 0x636f_6d70_616e_0001;
/// Class (the first key of the two-key form) of the locks on shards: the
/// second key is `total << 16 | shard`, so that a process given another
/// shard total can be seen in `pg_locks`.
const SHARD_LOCK_CLASS: i32 = 0x636f_6d70;
/// Transaction advisory lock held while migrations are applied.
const MIGRATION_LOCK: i64 = 0x636f_6d70_616e_0002;
/// Class of a member's lock held across Discord calls (sharing,
/// withdrawal): the second key is [`Keys::lock_key`] of the member.
const MEMBER_LOCK_CLASS: i32 = 0x636f_6d71;
/// Class of a member's lock held by the store while it reads and then
/// writes the member's records (a new reflection's number, an edit, a
/// delete, forget-me, held forms): always taken after, never before, one
/// of [`MEMBER_LOCK_CLASS`], so the two never wait on each other in a
/// circle.
const MEMBER_WRITE_CLASS: i32 = 0x636f_6d72;
/// Class of the lock on every server's meetings record (one lock, key 0),
/// held across Discord calls as a meetings change is made, and by
/// forget-me while it takes the member out of every record: taken after a
/// member's [`MEMBER_LOCK_CLASS`] lock and before their
/// [`MEMBER_WRITE_CLASS`] one, never the other way round.
const MEETINGS_LOCK_CLASS: i32 = 0x636f_6d73;
/// How many times a transaction that lost a serialization conflict is tried.
const TRIES: usize = 16;
/// How long a call keeps trying to reach a server that accepts writes
/// (every host of the URL in turn) after the one it used is lost, before
/// it fails saying nothing was changed.
pub const RECONNECT_WITHIN: Duration = Duration::from_secs(15);
/// How long a `COMMIT` may wait (for a synchronous standby's copy) before
/// the wait is cancelled and the change reported as not confirmed.
pub const COMMIT_WITHIN: Duration = Duration::from_secs(10);
/// How long the server has to answer a cancelled `COMMIT`.
const CANCEL_WITHIN: Duration = Duration::from_secs(2);
/// How long one attempt to connect to one host may take, unless the URL
/// says (`connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The pause between two attempts to reach a server.
const RETRY_PAUSE: Duration = Duration::from_millis(200);
/// How old a commit token is before the upkeep removes it: far longer than
/// any call waits to resolve one.
const TOKENS_KEPT: &str = "1 hour";
/// Connections in the pool.
const POOL_SIZE: usize = 8;
/// Connections in each pool that holds members' locks (see [`MemberLock`]).
const LOCK_POOL_SIZE: usize = 8;

/// The trees of schema version 1, each a table `companion_<name>`.
const TREES_V1: &[&str] = &[
    "meta",
    "guild_settings",
    "member_keys",
    "reflections",
    "summaries",
    "counters",
    "schedules",
    "slots",
    "group_counts",
    "member_settings",
    "superseded",
    "held_forms",
    "supervision_log",
    "case_presentations",
    "meetings",
];

/// The one tree whose keys do not begin with a Discord id.
const PLAIN_KEYS: &str = "meta";

/// Every migration, in order; the schema's version is how many have run.
fn migrations() -> Vec<String> {
    let v1 = TREES_V1
        .iter()
        .map(|t| {
            // Sealed bytes do not compress: kept as they are (no pglz),
            // out of line once large.
            format!(
                "CREATE TABLE companion_{t} (k bytea PRIMARY KEY, v bytea NOT NULL); \
                 ALTER TABLE companion_{t} ALTER COLUMN v SET STORAGE EXTERNAL;"
            )
        })
        .collect::<String>();
    // Version 2: the commit token every transaction writes with its
    // changes, by which one whose `COMMIT` answer was lost is resolved.
    let v2 = "CREATE TABLE companion_commits (token bytea PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());".to_string();
    // Version 3: the bot's requests to Discord counted per second of the
    // server's clock, so that every process sharing the database keeps
    // together under Discord's global rate limit (`turns.rs`).
    let v3 =
        "CREATE TABLE companion_discord_turns (second bigint PRIMARY KEY, used integer NOT NULL);"
            .to_string();
    // Version 4: the erasure record's entries, carried by the database
    // itself (each written in the transaction of the erasure it records),
    // so that processes on different machines, each with a record of its
    // own, share them (`Store::merge_erasures`).
    let v4 = format!("CREATE TABLE companion_{CARRIED} (k bytea PRIMARY KEY, v bytea NOT NULL);");
    vec![v1, v2, v3, v4]
}

/// The table (schema version 4) of the erasure record's entries the
/// database carries: one row per fingerprint.
pub(crate) const CARRIED: &str = "erasures";

/// Where the database is and how to log in, as an operator gave it.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// `postgres://…` without a password.
    pub url: String,
    /// A file holding the password (else the systemd credential, if any).
    pub password_file: Option<PathBuf>,
    /// The bot's gateway shards (`run --shards`): the database is then
    /// shared with the processes running the other shards. `None`: this
    /// process uses the database alone.
    pub shards: Option<crate::shards::ShardRange>,
}

/// Takes the process's locks on `client`'s session: the database's alone,
/// or with `shards` that lock shared and one lock per shard. The inner
/// error says why they are held elsewhere (nothing is then kept).
async fn take_locks(
    client: &tokio_postgres::Client,
    shards: Option<crate::shards::ShardRange>,
) -> Result<Result<(), StoreError>, StoreError> {
    let Some(range) = shards else {
        let got = try_lock(client, "SELECT pg_try_advisory_lock($1)", &[&PROCESS_LOCK]).await?;
        return Ok(if got {
            Ok(())
        } else {
            Err(StoreError::DatabaseInUse)
        });
    };
    let mut busy = None;
    if !try_lock(
        client,
        "SELECT pg_try_advisory_lock_shared($1)",
        &[&PROCESS_LOCK],
    )
    .await?
    {
        busy = Some(StoreError::DatabaseInUse);
    }
    for shard in range.first()..=range.last() {
        if busy.is_some() {
            break;
        }
        let key = ((range.total() << 16) | shard).cast_signed();
        let got = try_lock(
            client,
            "SELECT pg_try_advisory_lock($1, $2)",
            &[&SHARD_LOCK_CLASS, &key],
        )
        .await?;
        if !got {
            busy = Some(StoreError::ShardInUse {
                shard,
                total: range.total(),
            });
        }
    }
    if busy.is_none() {
        // Another shard total would split the servers otherwise: refused.
        let other = client
            .query_opt(
                "SELECT (objid::bigint >> 16) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND classid::bigint = $1 AND pid <> pg_backend_pid() AND (objid::bigint >> 16) <> $2 LIMIT 1",
                &[&i64::from(SHARD_LOCK_CLASS), &i64::from(range.total())],
            )
            .await
            .map_err(pg_err)?;
        if let Some(row) = other {
            busy = Some(StoreError::ShardTotalDiffers {
                ours: range.total(),
                theirs: row.get(0),
            });
        }
    }
    match busy {
        None => Ok(Ok(())),
        Some(why) => {
            client
                .batch_execute("SELECT pg_advisory_unlock_all()")
                .await
                .map_err(pg_err)?;
            Ok(Err(why))
        }
    }
}

/// Runs one `pg_try_advisory_lock…` query: whether the lock was taken.
async fn try_lock(
    client: &tokio_postgres::Client,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<bool, StoreError> {
    let row = client.query_one(sql, params).await.map_err(pg_err)?;
    Ok(row.get(0))
}

/// Which of a member's locks on the server.
#[derive(Debug, Clone, Copy)]
pub(crate) enum MemberLockKind {
    /// Held across Discord calls ([`MEMBER_LOCK_CLASS`]).
    AcrossCalls,
    /// Held by the store over one member's read and write
    /// ([`MEMBER_WRITE_CLASS`]).
    Write,
    /// Every server's meetings record ([`MEETINGS_LOCK_CLASS`]); the
    /// member is not part of its key.
    Meetings,
}

/// A member's advisory lock on the server, held by the session of one
/// pooled connection until this is dropped: the drop unlocks it and
/// returns the connection to its pool, or closes the connection (which
/// ends the session, and the lock with it) when the unlock is not
/// confirmed. A process that dies lets go of its locks as the server ends
/// its sessions.
///
/// The lock lives on the server: when the server is lost (a failover), so
/// is the lock, and its holder is not told. Every write the holder makes
/// after is still its own transaction, and a write it begins then takes
/// [`MemberLockKind::Write`] again on the server the URL leads to now, so
/// no write is lost or half made; what is no longer serialised is only
/// the holder's remaining steps (for a share, recording the post it has
/// just made) against the same member's steps in another process, for the
/// seconds around a failover.
pub(crate) struct MemberLock {
    client: Option<Object>,
    class: i32,
    key: i32,
    runtime: tokio::runtime::Handle,
}

impl Drop for MemberLock {
    fn drop(&mut self) {
        let Some(c) = self.client.take() else {
            return;
        };
        let (class, key) = (self.class, self.key);
        // Never blocks the dropping thread (it may be a runtime's worker).
        // Should the runtime be gone, the connection went with it.
        self.runtime.spawn(async move {
            let let_go = c
                .query_one("SELECT pg_advisory_unlock($1, $2)", &[&class, &key])
                .await;
            if !matches!(let_go, Ok(ref row) if row.get::<_, bool>(0)) {
                drop(Object::take(c));
            }
        });
    }
}

/// Takes the advisory lock `(class, key)` on a connection from `pool`,
/// waiting for whoever holds it; when the server is lost, again on a new
/// connection until [`RECONNECT_WITHIN`] has passed since it was lost.
async fn take_member_lock(
    pool: Pool,
    class: i32,
    key: i32,
    runtime: tokio::runtime::Handle,
) -> Result<MemberLock, StoreError> {
    let mut lost_since = None;
    loop {
        let tried = match pool.get().await {
            Ok(c) => match c
                .execute("SELECT pg_advisory_lock($1, $2)", &[&class, &key])
                .await
            {
                Ok(_) => {
                    return Ok(MemberLock {
                        client: Some(c),
                        class,
                        key,
                        runtime,
                    });
                }
                Err(e) => {
                    // Whatever the server did with the request, this
                    // session ends with it: no lock is left behind.
                    drop(Object::take(c));
                    pg_err(e)
                }
            },
            Err(e) => pool_err(e),
        };
        let StoreError::Disconnected(why) = tried else {
            return Err(tried);
        };
        let since = *lost_since.get_or_insert_with(tokio::time::Instant::now);
        if tokio::time::Instant::now() + RETRY_PAUSE >= since + RECONNECT_WITHIN {
            return Err(unavailable(why));
        }
        tokio::time::sleep(RETRY_PAUSE).await;
    }
}

/// Whether `e` says the server was lost (or is not the primary any more),
/// rather than refusing what was asked.
fn server_lost(e: &tokio_postgres::Error) -> bool {
    match e.code() {
        Some(code) => [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::READ_ONLY_SQL_TRANSACTION,
        ]
        .contains(code),
        None => e.as_db_error().is_none(),
    }
}

fn pg_err(e: tokio_postgres::Error) -> StoreError {
    if matches!(
        e.code(),
        Some(&SqlState::T_R_SERIALIZATION_FAILURE) | Some(&SqlState::T_R_DEADLOCK_DETECTED)
    ) {
        return StoreError::Conflict;
    }
    let lost = server_lost(&e);
    let why = match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            text
        }
    };
    if lost {
        StoreError::Disconnected(why)
    } else {
        StoreError::Postgres(why)
    }
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => pg_err(e),
        deadpool_postgres::PoolError::Timeout(_) => StoreError::Disconnected(e.to_string()),
        other => StoreError::Postgres(other.to_string()),
    }
}

/// A call that could reach no server within [`RECONNECT_WITHIN`].
fn unavailable(why: String) -> StoreError {
    StoreError::Unavailable {
        seconds: RECONNECT_WITHIN.as_secs(),
        why,
    }
}

/// Runs `op` on a pooled connection; when the server is lost, again on a
/// new one (to whichever server the URL leads to now) until
/// [`RECONNECT_WITHIN`] has passed. Only for what may run twice: reads, and
/// statements that change nothing a member is told about.
async fn on_a_connection<T, Fut>(pool: Pool, op: impl Fn(Object) -> Fut) -> Result<T, StoreError>
where
    Fut: Future<Output = Result<T, StoreError>>,
{
    let deadline = tokio::time::Instant::now() + RECONNECT_WITHIN;
    loop {
        let outcome = match pool.get().await {
            Ok(c) => op(c).await,
            Err(e) => Err(pool_err(e)),
        };
        match outcome {
            Err(StoreError::Disconnected(why)) => {
                if tokio::time::Instant::now() + RETRY_PAUSE >= deadline {
                    return Err(unavailable(why));
                }
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            other => return other,
        }
    }
}

/// Makes sure this process still holds the process lock on the server
/// the URL leads to: after a lost connection, the lock's connection is
/// asked too, and where it is gone the lock is taken again (on a promoted
/// standby, where no one holds it).
async fn hold_lock(inner: &Inner) -> Result<(), StoreError> {
    let mut lock = inner.lock.lock().await;
    let suspect = inner.suspect.swap(false, Ordering::SeqCst);
    let alive = match lock.as_ref() {
        Some(c) if c.is_closed() => false,
        Some(c) if suspect => matches!(
            tokio::time::timeout(CANCEL_WITHIN, c.simple_query("SELECT 1")).await,
            Ok(Ok(_))
        ),
        Some(_) => true,
        None => false,
    };
    if !alive {
        *lock = None;
        match take_process_lock(inner.config.clone(), inner.tls.clone(), inner.shards).await {
            Ok(c) => *lock = Some(c),
            Err(e) => {
                inner.suspect.store(true, Ordering::SeqCst);
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Connects to the server the URL leads to and takes the process lock
/// there (waiting up to [`LOCK_PATIENCE`] for a session just ended to let go
/// of it); refuses a server that does not make commits durable.
async fn take_process_lock(
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    shards: Option<crate::shards::ShardRange>,
) -> Result<tokio_postgres::Client, StoreError> {
    let (client, connection) = config
        .connect(tls)
        .await
        .map_err(|e| super::tls::refusal(&e, &config).unwrap_or_else(|| pg_err(e)))?;
    tokio::spawn(connection);
    // A process that just closed the store lets go of the lock when
    // the server ends its session, a moment later: wait for that,
    // as the sled engine waits for sled's own lock.
    let started = Instant::now();
    loop {
        match take_locks(&client, shards).await? {
            Ok(()) => break,
            Err(busy) if started.elapsed() >= LOCK_PATIENCE => return Err(busy),
            Err(_) => {}
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for setting in ["fsync", "synchronous_commit"] {
        let value: String = client
            .query_one(&format!("SHOW {setting}"), &[])
            .await
            .map_err(pg_err)?
            .get(0);
        if value == "off" {
            return Err(StoreError::Postgres(format!(
                "the server has `{setting}` off, so a save it confirms could be lost in a crash and members would be told \"Saved\" wrongly; nothing was opened. Turn it on (`ALTER SYSTEM SET {setting} = on; SELECT pg_reload_conf();`, or in postgresql.conf), or for this role: `ALTER ROLE … RESET {setting}`"
            )));
        }
    }
    Ok(client)
}

/// The keys the engine's own layer uses, derived from the master key.
struct Keys {
    values: SecretKey,
    ids: Zeroizing<[u8; 32]>,
}

impl Keys {
    fn new(master: &SecretKey) -> Keys {
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"practice-companion"), master.expose());
        let mut values = Zeroizing::new([0u8; 32]);
        let mut ids = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's limit.
        let _ = hk.expand(b"postgres values v1", &mut values[..]);
        let _ = hk.expand(b"postgres ids v1", &mut ids[..]);
        Keys {
            values: SecretKey::from_bytes(*values),
            ids,
        }
    }

    /// The first four bytes of the keyed hash of `parts`, under the ids'
    /// key.
    fn keyed(&self, parts: [&[u8]; 2]) -> [u8; 4] {
        let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.ids[..])
            .expect("HMAC takes a key of any length");
        for part in parts {
            mac.update(part);
        }
        let out = mac.finalize().into_bytes();
        [out[0], out[1], out[2], out[3]]
    }

    fn round(&self, i: u8, half: u32) -> u32 {
        u32::from_be_bytes(self.keyed([&[i], &half.to_be_bytes()]))
    }

    /// The second key of a member's advisory locks: 32 bits of a keyed
    /// hash of the member's id, so the server never learns the id (two
    /// members whose bits agree only wait on each other now and then).
    fn lock_key(&self, member: u64) -> i32 {
        i32::from_be_bytes(self.keyed([b"member lock", &member.to_be_bytes()]))
    }

    /// The keyed permutation of an id (`inverse`: back again).
    fn permute(&self, id: u64, inverse: bool) -> u64 {
        let (mut l, mut r) = ((id >> 32) as u32, id as u32);
        if inverse {
            for i in (0..4).rev() {
                (l, r) = (r ^ self.round(i, l), l);
            }
        } else {
            for i in 0..4 {
                (l, r) = (r, l ^ self.round(i, r));
            }
        }
        (u64::from(l) << 32) | u64::from(r)
    }
}

struct Inner {
    runtime: Option<tokio::runtime::Runtime>,
    pool: Pool,
    keys: Keys,
    /// Where the database is, to take the process lock again after a
    /// failover.
    config: tokio_postgres::Config,
    /// How connections are made: TLS or not, and whom to trust (`tls.rs`).
    tls: MakeRustlsConnect,
    /// The connection that holds the process lock, kept for the store's
    /// life (made again on the server the URL leads to if it is lost).
    lock: tokio::sync::Mutex<Option<tokio_postgres::Client>>,
    /// A connection was lost since the lock was last seen held: see that
    /// its connection still answers before the next write.
    suspect: AtomicBool,
    /// The bot's gateway shards, whose locks are taken with the process
    /// lock (again after a failover).
    shards: Option<crate::shards::ShardRange>,
    /// With shards (other processes share the database), the connections
    /// that hold members' locks on the server: one pool for the locks held
    /// across Discord calls, one for the store's own, so that holders of
    /// the first waiting for the second can never take every connection
    /// the second needs. `None`: the process uses the database alone, and
    /// its own locks are enough.
    member_locks: Option<[Pool; 3]>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The store may be dropped on a runtime's worker: never block it.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// A connected PostgreSQL engine, shared by the store's trees.
#[derive(Clone)]
pub(crate) struct Pg {
    inner: Arc<Inner>,
}

/// One table.
#[derive(Clone)]
pub(crate) struct PgTree {
    pg: Pg,
    name: &'static str,
    select: Arc<str>,
}

impl Pg {
    /// Runs `fut` on the store's runtime and waits for it.
    fn block<T: Send + 'static>(
        &self,
        fut: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let rt = self.inner.runtime.as_ref().ok_or(StoreError::Closed)?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        rt.spawn(async move {
            let _ = tx.send(fut.await);
        });
        // Called from a worker of a front-end's multi-threaded runtime (a
        // Discord command), the wait tells that runtime it blocks, so the
        // worker's other tasks (the gateway's heartbeat, other members'
        // commands) move to another thread while the server answers.
        let on_a_worker = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        let answer = if on_a_worker {
            tokio::task::block_in_place(|| rx.recv())
        } else {
            rx.recv()
        };
        answer.map_err(|_| StoreError::Closed)?
    }

    /// Runs one statement that changes nothing a member is told about on
    /// a pooled connection (its own transaction).
    fn execute(&self, sql: String) -> Result<(), StoreError> {
        let pool = self.inner.pool.clone();
        self.block(on_a_connection(pool, move |c| {
            let sql = sql.clone();
            async move { c.batch_execute(&sql).await.map_err(pg_err) }
        }))
    }

    /// Takes `member`'s lock of `kind` on the server, waiting while
    /// another process holds it; `None` when this process uses the
    /// database alone (its own locks are then enough). The wait runs as a
    /// task of the store's runtime, which always finishes: a caller that
    /// stops waiting leaves no lock taken, since the lock the task took is
    /// let go as it is dropped.
    pub(crate) fn member_lock(
        &self,
        kind: MemberLockKind,
        member: u64,
    ) -> Option<impl Future<Output = Result<MemberLock, StoreError>> + Send + use<>> {
        let pools = self.inner.member_locks.as_ref()?;
        let (pool, class, key) = match kind {
            MemberLockKind::AcrossCalls => (
                pools[0].clone(),
                MEMBER_LOCK_CLASS,
                self.inner.keys.lock_key(member),
            ),
            MemberLockKind::Write => (
                pools[1].clone(),
                MEMBER_WRITE_CLASS,
                self.inner.keys.lock_key(member),
            ),
            MemberLockKind::Meetings => (pools[2].clone(), MEETINGS_LOCK_CLASS, 0),
        };
        let handle = self.inner.runtime.as_ref().map(|rt| rt.handle().clone());
        Some(async move {
            let handle = handle.ok_or(StoreError::Closed)?;
            let (tx, rx) = tokio::sync::oneshot::channel();
            let runtime = handle.clone();
            handle.spawn(async move {
                let _ = tx.send(take_member_lock(pool, class, key, runtime).await);
            });
            rx.await.map_err(|_| StoreError::Closed)?
        })
    }

    /// [`Pg::member_lock`], waited for on the calling thread.
    pub(crate) fn member_lock_blocking(
        &self,
        kind: MemberLockKind,
        member: u64,
    ) -> Result<Option<MemberLock>, StoreError> {
        match self.member_lock(kind, member) {
            Some(taking) => self.block(taking).map(Some),
            None => Ok(None),
        }
    }

    /// Connects, refuses a server that does not make commits durable or a
    /// database another process uses, and applies the migrations.
    pub(crate) fn connect(opts: &PgOptions, master: &SecretKey) -> Result<Pg, StoreError> {
        let (mut config, tls) = super::tls::configure(&opts.url)?;
        if config.get_password().is_some() {
            return Err(StoreError::Postgres(format!(
                "the database URL holds a password; a password on the command line or in the environment can be read by other users of the machine, so nothing was opened. Take it out of the URL and give it in a file readable only by the bot's user, with --database-password-file PATH (or as the systemd credential `{PASSWORD_CREDENTIAL}`)"
            )));
        }
        if let Some(password) = password(opts.password_file.as_deref())? {
            config.password(password.as_bytes());
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("companion-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Postgres(format!("cannot start the database runtime: {e}")))?;
        let manager = Manager::from_config(
            config.clone(),
            tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| StoreError::Postgres(e.to_string()))?;
        let lock_pool = || {
            let manager = Manager::from_config(
                config.clone(),
                tls.clone(),
                ManagerConfig {
                    recycling_method: RecyclingMethod::Fast,
                },
            );
            Pool::builder(manager)
                .max_size(LOCK_POOL_SIZE)
                .build()
                .map_err(|e| StoreError::Postgres(e.to_string()))
        };
        let member_locks = match opts.shards {
            Some(_) => Some([lock_pool()?, lock_pool()?, lock_pool()?]),
            None => None,
        };
        let pg = Pg {
            inner: Arc::new(Inner {
                runtime: Some(runtime),
                pool,
                keys: Keys::new(master),
                config: config.clone(),
                tls: tls.clone(),
                lock: tokio::sync::Mutex::new(None),
                suspect: AtomicBool::new(false),
                shards: opts.shards,
                member_locks,
            }),
        };
        let inner = Arc::clone(&pg.inner);
        let shards = opts.shards;
        pg.block(async move {
            let lock = take_process_lock(config, tls, shards).await?;
            *inner.lock.lock().await = Some(lock);
            Ok(())
        })?;
        pg.migrate()?;
        Ok(pg)
    }

    /// Applies the migrations not yet applied, under an advisory lock.
    fn migrate(&self) -> Result<(), StoreError> {
        let pool = self.inner.pool.clone();
        self.block(async move {
            let mut c = pool.get().await.map_err(pool_err)?;
            let tx = c.transaction().await.map_err(pg_err)?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
                .await
                .map_err(pg_err)?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS companion_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
            )
            .await
            .map_err(pg_err)?;
            let done: i32 = tx
                .query_one("SELECT coalesce(max(version), 0) FROM companion_schema", &[])
                .await
                .map_err(pg_err)?
                .get(0);
            let all = migrations();
            if done as usize > all.len() {
                return Err(StoreError::Postgres(format!(
                    "the database's schema is at version {done}, newer than this program knows ({}): it was used by a newer companion. Run that version, or restore a backup into a new database",
                    all.len()
                )));
            }
            for (i, sql) in all.iter().enumerate().skip(done as usize) {
                tx.batch_execute(sql).await.map_err(pg_err)?;
                let version = i as i32 + 1;
                tx.execute(
                    "INSERT INTO companion_schema (version) VALUES ($1)",
                    &[&version],
                )
                .await
                .map_err(pg_err)?;
            }
            tx.commit().await.map_err(pg_err)
        })
    }

    /// The table of a tree.
    pub(crate) fn tree(&self, name: &'static str) -> Result<PgTree, StoreError> {
        if !TREES_V1.contains(&name) && name != CARRIED {
            return Err(StoreError::Corrupt(format!(
                "no table for the tree `{name}`"
            )));
        }
        Ok(PgTree {
            pg: self.clone(),
            name,
            select: format!("SELECT v FROM companion_{name} WHERE k = $1").into(),
        })
    }

    /// Rewrites every table, its TOAST table and its index into new files
    /// (`VACUUM FULL`), so that no dead row version, erased or replaced,
    /// stays in the database's files. A transaction open meanwhile that
    /// could still see an old version keeps it (and holds this back until
    /// it ends).
    pub(crate) fn rewrite_tables(&self) -> Result<(), StoreError> {
        for name in TREES_V1.iter().chain([&CARRIED]) {
            self.execute(format!("VACUUM FULL companion_{name}"))?;
        }
        // Commit tokens are needed only while a call resolves its own.
        self.execute(format!(
            "DELETE FROM companion_commits WHERE at < now() - interval '{TOKENS_KEPT}'"
        ))?;
        self.execute("VACUUM FULL companion_commits".into())
    }

    /// Lets go of the turns counted in seconds over a minute gone.
    pub(crate) fn forget_old_turns(&self) -> Result<(), StoreError> {
        self.execute(
            "DELETE FROM companion_discord_turns WHERE second < extract(epoch FROM clock_timestamp()) - 60".into(),
        )
    }

    /// Takes one of the bot's requests to Discord in this moment's slot of
    /// the server's clock (`turns.rs`), if no process sharing the database
    /// has taken it or a later one: the second it was taken in, or how long
    /// until the next free slot.
    pub(crate) fn discord_turn(&self, per_second: u32) -> Result<super::Turn, StoreError> {
        let pool = self.inner.pool.clone();
        let slots = super::turns::slots(per_second);
        let slots_f = f64::from(slots);
        self.block(on_a_connection(pool, move |c| async move {
            // The clock is read once (a CTE read twice is evaluated once).
            // A row's `used` is how many of its second's slots are taken or
            // passed by; the turn goes only if its slot is not among them.
            let row = c
                .query_one(
                    "WITH s AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS at), \
                     n AS (SELECT at, floor(at)::bigint AS second, \
                                  least(floor((at - floor(at)) * $1::float8), $1::float8 - 1)::integer AS slot FROM s), \
                     up AS (INSERT INTO companion_discord_turns AS d (second, used) \
                            SELECT second, slot + 1 FROM n \
                            ON CONFLICT (second) DO UPDATE SET used = EXCLUDED.used WHERE d.used < EXCLUDED.used \
                            RETURNING d.second) \
                     SELECT (SELECT second FROM up), at, \
                            (SELECT used FROM companion_discord_turns t WHERE t.second = n.second) FROM n",
                    &[&slots_f],
                )
                .await
                .map_err(pg_err)?;
            let second: Option<i64> = row.get(0);
            let at: f64 = row.get(1);
            let used: Option<i32> = row.get(2);
            // A row not yet seen (made meanwhile by another process): ask again soon.
            let used = used.map_or(0, |u| u32::try_from(u).unwrap_or(slots));
            Ok(match second {
                Some(second) => super::Turn::Go { second },
                None => super::Turn::Wait(super::turns::until_free_slot(at, used, slots)),
            })
        }))
    }

    /// Marks every second of the server's clock from now until `wait` has
    /// passed as having no turns left, for every process sharing the
    /// database (Discord asked the bot as a whole to wait).
    pub(crate) fn hold_discord_back(
        &self,
        wait: std::time::Duration,
        per_second: u32,
    ) -> Result<(), StoreError> {
        let pool = self.inner.pool.clone();
        let limit = i32::try_from(per_second).unwrap_or(i32::MAX);
        let seconds = wait.as_secs_f64();
        self.block(on_a_connection(pool, move |c| async move {
            c.execute(
                "WITH s AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS at) \
                 INSERT INTO companion_discord_turns AS d (second, used) \
                 SELECT g, $1 FROM s, generate_series(floor(at)::bigint, ceil(at + $2)::bigint) AS g \
                 ON CONFLICT (second) DO UPDATE SET used = greatest(d.used, EXCLUDED.used)",
                &[&limit, &seconds],
            )
            .await
            .map_err(pg_err)
            .map(|_| ())
        }))
    }
}

/// The password, from the file given or the systemd credential.
fn password(file: Option<&Path>) -> Result<Option<Zeroizing<String>>, StoreError> {
    let path = match file {
        Some(f) => f.to_path_buf(),
        None => match std::env::var_os("CREDENTIALS_DIRECTORY") {
            Some(dir) if Path::new(&dir).join(PASSWORD_CREDENTIAL).exists() => {
                Path::new(&dir).join(PASSWORD_CREDENTIAL)
            }
            _ => return Ok(None),
        },
    };
    let text = Zeroizing::new(std::fs::read_to_string(&path).map_err(|e| {
        StoreError::Postgres(format!(
            "cannot read the database password from {}: {e}. Give a file readable by the bot's user that holds only the password",
            path.display()
        ))
    })?);
    Ok(Some(Zeroizing::new(
        text.trim_end_matches(['\n', '\r']).to_string(),
    )))
}

/// The value `sql` (a tree's `SELECT`) reads for the stored key `k`.
async fn select(c: &Object, sql: &str, k: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
    let st = c.prepare_cached(sql).await.map_err(pg_err)?;
    let row = c.query_opt(&st, &[&k]).await.map_err(pg_err)?;
    Ok(row.map(|r| r.get::<_, Vec<u8>>(0)))
}

/// [`super::engine::get_both`] on PostgreSQL: both `SELECT`s sent together
/// on one pooled connection, in one hop to the store's runtime.
pub(crate) fn get_both(
    (a, a_key): (&PgTree, &[u8]),
    (b, b_key): (&PgTree, &[u8]),
) -> Result<Both, StoreError> {
    let (ka, kb) = (a.stored_key(a_key)?, b.stored_key(b_key)?);
    let (sa, sb, ka2, kb2) = (a.select.clone(), b.select.clone(), ka.clone(), kb.clone());
    let pool = a.pg.inner.pool.clone();
    let (va, vb) = a.pg.block(on_a_connection(pool, move |c| {
        let (sa, sb, ka, kb) = (sa.clone(), sb.clone(), ka2.clone(), kb2.clone());
        async move {
            // Sent in this order, answered in it: one round-trip.
            let (va, vb) = tokio::join!(select(&c, &sa, &ka), select(&c, &sb, &kb));
            Ok((va?, vb?))
        }
    }))?;
    Ok((
        va.map(|v| a.open(&ka, &v)).transpose()?,
        vb.map(|v| b.open(&kb, &v)).transpose()?,
    ))
}

/// The first key after every key that starts with `prefix`, if any.
fn successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut next = prefix.to_vec();
    while let Some(last) = next.pop() {
        if last < u8::MAX {
            next.push(last + 1);
            return Some(next);
        }
    }
    None
}

impl PgTree {
    fn keys(&self) -> &Keys {
        &self.pg.inner.keys
    }

    /// The key as stored: its leading id permuted.
    fn stored_key(&self, key: &[u8]) -> Result<Vec<u8>, StoreError> {
        if self.name == PLAIN_KEYS || key.is_empty() {
            return Ok(key.to_vec());
        }
        let Some(id) = key.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()) else {
            return Err(StoreError::Corrupt(format!(
                "a key of {} bytes in `{}`, shorter than an id",
                key.len(),
                self.name
            )));
        };
        let mut out = self
            .keys()
            .permute(u64::from_be_bytes(id), false)
            .to_be_bytes()
            .to_vec();
        out.extend_from_slice(&key[8..]);
        Ok(out)
    }

    /// The key as the store knows it.
    fn real_key(&self, stored: &[u8]) -> Result<Vec<u8>, StoreError> {
        if self.name == PLAIN_KEYS {
            return Ok(stored.to_vec());
        }
        let id = stored
            .get(..8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .ok_or_else(|| StoreError::Corrupt(format!("a short key in `{}`", self.name)))?;
        let mut out = self
            .keys()
            .permute(u64::from_be_bytes(id), true)
            .to_be_bytes()
            .to_vec();
        out.extend_from_slice(&stored[8..]);
        Ok(out)
    }

    fn aad(&self, stored_key: &[u8]) -> Vec<u8> {
        [self.name.as_bytes(), &[0], stored_key].concat()
    }

    fn seal(&self, stored_key: &[u8], value: &[u8]) -> Result<Vec<u8>, StoreError> {
        Ok(self.keys().values.seal(&self.aad(stored_key), value)?)
    }

    fn open(&self, stored_key: &[u8], sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
        Ok(self
            .keys()
            .values
            .open(&self.aad(stored_key), sealed)?
            .to_vec())
    }

    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let k = self.stored_key(key)?;
        let (pool, sql, k2) = (self.pg.inner.pool.clone(), self.select.clone(), k.clone());
        let row = self.pg.block(on_a_connection(pool, move |c| {
            let (sql, k2) = (sql.clone(), k2.clone());
            async move { select(&c, &sql, &k2).await }
        }))?;
        row.map(|v| self.open(&k, &v)).transpose()
    }

    /// One write, in a transaction of its own (so that a lost answer is
    /// resolved by its commit token, like any other).
    pub(crate) fn insert(&self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        transaction(&[self], &|tx| tx.insert(self, key, value))
    }

    pub(crate) fn remove(&self, key: &[u8]) -> Result<(), StoreError> {
        transaction(&[self], &|tx| tx.remove(self, key))
    }

    pub(crate) fn scan_prefix(&self, prefix: &[u8]) -> Entries {
        let rows = self.scan_rows(prefix).and_then(|rows| {
            rows.into_iter()
                .map(|(k, v)| Ok((self.real_key(&k)?, self.open(&k, &v)?)))
                .collect::<Result<Vec<Entry>, StoreError>>()
        });
        match rows {
            Ok(rows) => Box::new(rows.into_iter().map(Ok)),
            Err(e) => Box::new(std::iter::once(Err(e))),
        }
    }

    fn scan_rows(&self, prefix: &[u8]) -> Result<Vec<Entry>, StoreError> {
        if self.name != PLAIN_KEYS && !prefix.is_empty() && prefix.len() < 8 {
            return Err(StoreError::Corrupt(format!(
                "a scan of `{}` by part of an id",
                self.name
            )));
        }
        let from = self.stored_key(prefix)?;
        let to = successor(&from);
        let name = self.name;
        let pool = self.pg.inner.pool.clone();
        self.pg.block(on_a_connection(pool, move |c| {
            let (from, to) = (from.clone(), to.clone());
            async move {
                let rows = match to {
                    Some(to) => {
                        let st = c
                        .prepare_cached(&format!(
                            "SELECT k, v FROM companion_{name} WHERE k >= $1 AND k < $2 ORDER BY k"
                        ))
                        .await
                        .map_err(pg_err)?;
                        c.query(&st, &[&from, &to]).await
                    }
                    None => {
                        let st = c
                            .prepare_cached(&format!(
                                "SELECT k, v FROM companion_{name} WHERE k >= $1 ORDER BY k"
                            ))
                            .await
                            .map_err(pg_err)?;
                        c.query(&st, &[&from]).await
                    }
                }
                .map_err(pg_err)?;
                Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
            }
        }))
    }

    pub(crate) fn len(&self) -> Result<usize, StoreError> {
        let name = self.name;
        let pool = self.pg.inner.pool.clone();
        let n: i64 = self.pg.block(on_a_connection(pool, move |c| async move {
            Ok(
                c.query_one(&format!("SELECT count(*) FROM companion_{name}"), &[])
                    .await
                    .map_err(pg_err)?
                    .get(0),
            )
        }))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    pub(crate) fn compare_and_swap(
        &self,
        key: &[u8],
        old: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Result<(), Option<Vec<u8>>>, StoreError> {
        let tree = self.clone();
        let (key, old, new) = (
            key.to_vec(),
            old.map(<[u8]>::to_vec),
            new.map(<[u8]>::to_vec),
        );
        transaction(&[self], &move |tx| {
            let now = tx.get(&tree, &key)?;
            if now != old {
                return Ok(Err(now));
            }
            match &new {
                Some(v) => tx.insert(&tree, &key, v)?,
                None => tx.remove(&tree, &key)?,
            }
            Ok(Ok(()))
        })
    }

    pub(crate) fn apply_batch(
        &self,
        ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    ) -> Result<(), StoreError> {
        transaction(&[self], &|tx| {
            for (k, v) in &ops {
                match v {
                    Some(v) => tx.insert(self, k, v)?,
                    None => tx.remove(self, k)?,
                }
            }
            Ok(())
        })
    }
}

/// How a transaction begins on the server.
const BEGIN: &str = "BEGIN ISOLATION LEVEL SERIALIZABLE;";
/// How long (as SQL text) the writes a transaction keeps may grow before
/// they are sent ahead of its `COMMIT`.
const KEPT_AT_MOST: usize = 1 << 20;

/// A transaction under way on one connection.
///
/// Its writes are not sent one at a time: each is kept as a statement
/// (its key and sealed value written out in hexadecimal), and they go
/// together in one message, with `BEGIN` ahead of them when it has not
/// been sent yet, and at the end with the commit token and `COMMIT`
/// after them. The server runs the statements of one message in order
/// and skips the rest at the first error, so nothing runs after a `BEGIN`
/// or a write that failed, and then the `COMMIT` never does. A read first
/// sends what is kept (so it sees the transaction's own writes), in the
/// same round-trip. The connection is taken, and the process lock seen
/// held, as the first message is sent: a transaction that only writes is
/// one hop to the store's runtime and one round-trip to the server.
pub(crate) struct PgTx {
    pg: Pg,
    state: std::sync::Mutex<TxState>,
}

#[derive(Default)]
struct TxState {
    /// The connection, once something was sent on it (`BEGIN` first).
    client: Option<Arc<Object>>,
    /// Writes not sent yet, each a statement ending in `;`.
    kept: String,
    /// Committed or rolled back: the connection may be pooled again.
    done: bool,
}

impl Drop for PgTx {
    fn drop(&mut self) {
        // Never finished (a panic, a `ROLLBACK` not confirmed): the
        // connection is closed, not pooled, so the server rolls the
        // transaction back.
        let state = self
            .state
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !state.done
            && let Some(client) = state.client.take()
        {
            close(client);
        }
    }
}

/// Closes a connection rather than pooling it again.
fn close(client: Arc<Object>) {
    if let Ok(object) = Arc::try_unwrap(client) {
        drop(Object::take(object));
    }
}

/// A transaction's connection: the one it has, or, once the process lock
/// is seen held, a pooled one, with the `BEGIN` to send ahead of anything
/// else on it.
async fn connection(
    inner: &Inner,
    client: Option<Arc<Object>>,
) -> Result<(Arc<Object>, &'static str), StoreError> {
    match client {
        Some(c) => Ok((c, "")),
        None => {
            hold_lock(inner).await?;
            let c = inner.pool.get().await.map_err(pool_err)?;
            Ok((Arc::new(c), BEGIN))
        }
    }
}

impl PgTx {
    fn state(&self) -> std::sync::MutexGuard<'_, TxState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sends the writes kept (after `BEGIN` on a new connection) and then,
    /// pipelined behind them in the same round-trip, the read of `read`'s
    /// stored key by its `SELECT`, if any: the value read.
    fn send(&self, read: Option<(Arc<str>, Vec<u8>)>) -> Result<Option<Vec<u8>>, StoreError> {
        let (client, kept) = {
            let mut state = self.state();
            (state.client.take(), std::mem::take(&mut state.kept))
        };
        let inner = Arc::clone(&self.pg.inner);
        let (client, answer) = self.pg.block(async move {
            let (c, begin) = match connection(&inner, client).await {
                Ok(c) => c,
                Err(e) => return Ok((None, Err(e))),
            };
            let sql = format!("{begin}{kept}");
            let writes = async {
                if sql.is_empty() {
                    return Ok(());
                }
                c.batch_execute(&sql).await.map_err(pg_err)
            };
            let read = async {
                let Some((sql, k)) = &read else {
                    return Ok(None);
                };
                select(&c, sql, k).await
            };
            // Sent in this order (each is sent as it is first polled) and
            // answered in it. Should `BEGIN` or a write have failed, the
            // read ran outside the transaction or in an aborted one, and
            // its answer is not used.
            let (wrote, read) = tokio::join!(writes, read);
            Ok((Some(c), wrote.and(read)))
        })?;
        self.state().client = client;
        answer
    }

    pub(crate) fn get(&self, tree: &PgTree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let k = tree.stored_key(key)?;
        let row = self.send(Some((tree.select.clone(), k.clone())))?;
        row.map(|v| tree.open(&k, &v)).transpose()
    }

    /// Keeps `statement` to send with the next message, sending what is
    /// kept now once it is long.
    fn keep(&self, statement: &str) -> Result<(), StoreError> {
        let long = {
            let mut state = self.state();
            state.kept.push_str(statement);
            state.kept.len() >= KEPT_AT_MOST
        };
        if long {
            self.send(None).map(drop)
        } else {
            Ok(())
        }
    }

    pub(crate) fn insert(&self, tree: &PgTree, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        let k = tree.stored_key(key)?;
        let v = tree.seal(&k, value)?;
        // Hexadecimal digits only between the quotes: nothing in a key or
        // a value can end the string.
        self.keep(&format!(
            "INSERT INTO companion_{} (k, v) VALUES (decode('{}', 'hex'), decode('{}', 'hex')) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v;",
            tree.name,
            hex::encode(&k),
            hex::encode(&v)
        ))
    }

    pub(crate) fn remove(&self, tree: &PgTree, key: &[u8]) -> Result<(), StoreError> {
        let k = tree.stored_key(key)?;
        self.keep(&format!(
            "DELETE FROM companion_{} WHERE k = decode('{}', 'hex');",
            tree.name,
            hex::encode(&k)
        ))
    }

    /// Rolls back what was sent, if anything; the connection is pooled
    /// again once the server confirms it (else closed as this is dropped).
    fn roll_back(&self) {
        let client = self.state().client.clone();
        let rolled_back = match client {
            None => true,
            Some(c) => self
                .pg
                .block(async move { c.batch_execute("ROLLBACK").await.map_err(pg_err) })
                .is_ok(),
        };
        self.state().done = rolled_back;
    }
}

/// How a `COMMIT` ended.
enum Commit {
    /// The server answered that it committed.
    Done,
    /// The server answered with an error: nothing was committed.
    Refused(StoreError),
    /// The answer was lost with the connection: resolve by the token.
    Lost(String),
    /// Not confirmed in time, and it may have been kept.
    Unconfirmed(String),
}

/// Sends `sql`, the message that ends in the transaction's commit token
/// and `COMMIT` (an error in any statement skips the rest, the `COMMIT`
/// with them). A message still waiting after [`COMMIT_WITHIN`] (for a
/// synchronous standby) is cancelled: the server then ends the wait,
/// keeping the change it has already made durable on the primary,
/// unconfirmed by any standby.
async fn commit(c: &Object, sql: &str, tls: MakeRustlsConnect) -> Commit {
    let answer = |r: Result<(), tokio_postgres::Error>| match r.map_err(pg_err) {
        Ok(()) => Commit::Done,
        Err(StoreError::Disconnected(why)) => Commit::Lost(why),
        Err(e) => Commit::Refused(e),
    };
    let sent = c.batch_execute(sql);
    tokio::pin!(sent);
    if let Ok(r) = tokio::time::timeout(COMMIT_WITHIN, &mut sent).await {
        return answer(r);
    }
    let _ = c.cancel_token().cancel_query(tls).await;
    let waited = COMMIT_WITHIN.as_secs();
    match tokio::time::timeout(CANCEL_WITHIN, &mut sent).await {
        Ok(Ok(())) => Commit::Unconfirmed(format!(
            "no standby confirmed its copy within {waited} seconds; the change is on the primary server but could be lost if it failed now"
        )),
        Ok(r) => match answer(r) {
            Commit::Lost(why) => Commit::Unconfirmed(format!(
                "the server did not answer within {waited} seconds and the connection was then lost ({why})"
            )),
            other => other,
        },
        Err(_) => Commit::Unconfirmed(format!("the server did not answer within {waited} seconds")),
    }
}

/// Ends a transaction on the store's runtime, in one hop: sends the
/// writes it kept, its commit token and `COMMIT` in one message (after
/// `BEGIN` on a new connection, when nothing was sent before), and settles
/// what the answer means. `Ok` only once the server said it committed, or,
/// when the answer was lost, once the token is found on the server the URL
/// leads to now (asked until `deadline`, and for at least
/// [`COMMIT_WITHIN`]); `Disconnected`: it did not commit and never will.
async fn finish(
    inner: Arc<Inner>,
    client: Option<Arc<Object>>,
    kept: String,
    deadline: tokio::time::Instant,
) -> Result<(), StoreError> {
    let (c, begin) = connection(&inner, client).await?;
    let mut token = [0u8; 16];
    OsRng.fill_bytes(&mut token);
    let sql = format!(
        "{begin}{kept}INSERT INTO companion_commits (token) VALUES (decode('{}', 'hex')); COMMIT",
        hex::encode(token)
    );
    match commit(&c, &sql, inner.tls.clone()).await {
        Commit::Done => Ok(()),
        Commit::Refused(e) => {
            // Nothing after the error ran; the transaction, if it began,
            // is rolled back.
            if c.batch_execute("ROLLBACK").await.is_err() {
                close(c);
            }
            Err(e)
        }
        Commit::Unconfirmed(why) => {
            close(c);
            Err(StoreError::Unconfirmed(why))
        }
        Commit::Lost(why) => {
            // The connection is gone: closed, never pooled again.
            close(c);
            inner.suspect.store(true, Ordering::SeqCst);
            let until = deadline.max(tokio::time::Instant::now() + COMMIT_WITHIN);
            match resolve(inner.pool.clone(), token, until).await? {
                Some(true) => Ok(()),
                Some(false) => Err(StoreError::Disconnected(why)),
                None => Err(StoreError::Unconfirmed(format!(
                    "the connection was lost while the change was being committed ({why}), and no server could say within {} seconds whether it was",
                    RECONNECT_WITHIN.as_secs()
                ))),
            }
        }
    }
}

/// Whether the transaction that wrote `token` committed, asked on a new
/// connection to the server the URL leads to now. The token is written
/// if absent, which waits for a transaction still holding it to end and
/// makes sure one that did not commit never will. `None`: no server
/// answered before `deadline`.
async fn resolve(
    pool: Pool,
    token: [u8; 16],
    deadline: tokio::time::Instant,
) -> Result<Option<bool>, StoreError> {
    loop {
        if let Ok(c) = pool.get().await {
            let asked = tokio::time::timeout_at(
                deadline,
                c.execute(
                    "INSERT INTO companion_commits (token) VALUES ($1) ON CONFLICT DO NOTHING",
                    &[&&token[..]],
                ),
            )
            .await;
            match asked {
                Ok(Ok(inserted)) => return Ok(Some(inserted == 0)),
                Ok(Err(e)) => match pg_err(e) {
                    StoreError::Disconnected(_) => {}
                    other => return Err(other),
                },
                Err(_) => {
                    // Still waiting: this connection is left to close.
                    drop(Object::take(c));
                    return Ok(None);
                }
            }
        }
        if tokio::time::Instant::now() + RETRY_PAUSE >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(RETRY_PAUSE).await;
    }
}

/// Runs `f` in one serializable transaction, again when the server reports
/// a serialization conflict or is lost before the `COMMIT`; confirmed only
/// once `COMMIT` has returned, or, when its answer was lost, once its
/// commit token is found after reconnecting. A transaction is run again
/// only when it is known not to have committed.
pub(crate) fn transaction<R>(
    trees: &[&PgTree],
    f: &dyn Fn(&PgTx) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    let Some(first) = trees.first() else {
        return Err(StoreError::Corrupt("a transaction over no tree".into()));
    };
    let pg = &first.pg;
    let deadline = Instant::now() + RECONNECT_WITHIN;
    let mut tries = 0;
    loop {
        tries += 1;
        match attempt(pg, f, deadline) {
            Err(StoreError::Conflict) if tries < TRIES => {}
            Err(StoreError::Disconnected(why)) => {
                // Nothing was committed.
                pg.inner.suspect.store(true, Ordering::SeqCst);
                if Instant::now() + RETRY_PAUSE >= deadline {
                    return Err(unavailable(why));
                }
                std::thread::sleep(RETRY_PAUSE);
            }
            outcome => return outcome,
        }
    }
}

/// One try of [`transaction`]: `Disconnected` means it did not commit.
fn attempt<R>(
    pg: &Pg,
    f: &dyn Fn(&PgTx) -> Result<R, StoreError>,
    deadline: Instant,
) -> Result<R, StoreError> {
    let tx = PgTx {
        pg: pg.clone(),
        state: std::sync::Mutex::default(),
    };
    let r = match f(&tx) {
        Ok(r) => r,
        Err(e) => {
            tx.roll_back();
            return Err(e);
        }
    };
    let (client, kept) = {
        let mut state = tx.state();
        (state.client.take(), std::mem::take(&mut state.kept))
    };
    if client.is_none() && kept.is_empty() {
        // Nothing read, nothing written: nothing to commit.
        return Ok(r);
    }
    let deadline = tokio::time::Instant::now() + deadline.saturating_duration_since(Instant::now());
    let outcome = pg.block(finish(Arc::clone(&pg.inner), client, kept, deadline));
    tx.state().done = true;
    outcome.map(|()| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_permutation_is_keyed_and_reversible() {
        let a = Keys::new(&SecretKey::generate());
        let b = Keys::new(&SecretKey::generate());
        for id in [0u64, 1, 42, 1_234_567_890_123_456_789, u64::MAX] {
            let p = a.permute(id, false);
            assert_eq!(a.permute(p, true), id);
            assert_ne!(p, b.permute(id, false), "{id}");
        }
        assert_ne!(a.permute(1, false), 1);
    }

    #[test]
    fn a_prefix_successor_bounds_exactly_the_keys_that_start_with_it() {
        assert_eq!(successor(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(successor(&[1, 0xff]), Some(vec![2]));
        assert_eq!(successor(&[0xff, 0xff]), None);
        assert_eq!(successor(&[]), None);
    }
}
