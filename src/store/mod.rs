//! Durable state in an embedded sled database: one tree per record kind,
//! sealed with the [`envelope`], kept in generations by [`disk`].
//!
//! sled stays inside this module; front-ends call typed methods. A method
//! that changes anything a user is told about returns only after the change
//! is synced to the disk (`fdatasync` after sled's flush), so what the caller
//! confirms survives a crash and a power cut. What members erase leaves the
//! data directory: forget-me at once, deletes and edits within
//! [`ERASE_WITHIN`], at a clean close, or at the next start.

mod backup;
pub mod crypto;
mod disk;
mod engine;
pub mod envelope;
mod held;
mod keys;
mod meetings;
mod members;
mod migrate;
mod pace;
pub mod postgres;
mod reflections;
mod schedules;
mod settings;
mod supervision;
mod tls;
mod turns;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use chrono::{DateTime, Utc};

pub use backup::{
    BACKUPS_DIR, KEEP_BACKUPS, POSTGRES_NEEDS_NO_SALVAGE, Report, check_dir, restore,
    restore_postgres, salvage,
};
pub use crypto::{CryptoError, SecretKey};
pub use disk::SwapStep;
pub use envelope::{ERASURES_FILE, Envelope};
pub use keys::{KEY_ENV, KEY_FILE, given_key};
pub use members::Reminder;
pub use migrate::{Location, Migrated, migrate};
pub use postgres::{COMMIT_WITHIN, DATABASE_ENV, PASSWORD_CREDENTIAL, PgOptions, RECONNECT_WITHIN};
pub use reflections::{Page, Readable};
pub use schedules::{ScheduleRecord, SlotState, Week};
pub use settings::GuildSettings;
pub use turns::Turn;

use disk::{DataDir, Generation, Opened};
use engine::Tree;
use envelope::ErasureLog;
use postgres::Pg;

/// The PostgreSQL database this process keeps its records in, if the
/// command line chose one (see [`use_database`]).
static DATABASE: std::sync::OnceLock<PgOptions> = std::sync::OnceLock::new();

/// Chooses PostgreSQL for every store this process opens with
/// [`Store::open_with_key_from`] (the console's and the bot's): called once,
/// by the command line, before anything opens a store.
pub fn use_database(opts: PgOptions) {
    let _ = DATABASE.set(opts);
}

/// The PostgreSQL database chosen for this process, if any.
pub fn database() -> Option<&'static PgOptions> {
    DATABASE.get()
}

/// Trees (record kinds) in the database.
mod trees {
    /// Per-server settings, keyed by guild id (big-endian u64).
    pub const GUILD_SETTINGS: &str = "guild_settings";
    /// Facts about the database itself (the key check, a pending erasure).
    pub const META: &str = "meta";
    /// Each member's data key, wrapped by the master key; keyed by member id.
    pub const MEMBER_KEYS: &str = "member_keys";
    /// Reflections, sealed with their author's data key; keyed by member id then reflection id.
    pub const REFLECTIONS: &str = "reflections";
    /// Each reflection's summary (what a list shows), sealed likewise, keyed likewise.
    pub const SUMMARIES: &str = "summaries";
    /// Each member's last reflection number and how many they have; keyed by member id.
    pub const COUNTERS: &str = "counters";
    /// Each server's weekly schedule; keyed by guild id.
    pub const SCHEDULES: &str = "schedules";
    /// Claimed and posted weekly slots; keyed by guild id then slot time.
    pub const SLOTS: &str = "slots";
    /// Each server's reflection counts per competence (counts only).
    pub const GROUP_COUNTS: &str = "group_counts";
    /// Each member's own settings (the weekly reminder); keyed by member id.
    pub const MEMBER_SETTINGS: &str = "member_settings";
    /// Fingerprints of the sealed versions of a reflection that a share or
    /// a withdrawal replaced without changing what the member wrote; keyed
    /// like the reflection. An edit or a delete erases them with it.
    pub const SUPERSEDED: &str = "superseded";
    /// A form a member submitted that could not be kept whole, as typed,
    /// sealed with their data key after the time it was held (seconds, i64
    /// BE); keyed by member id then the form's kind (see `held.rs`). See
    /// `Store::hold_form`.
    pub const HELD_FORMS: &str = "held_forms";
    /// Each member's supervision log, sealed with their data key; keyed by
    /// member id then entry number (0: the member's sealed header).
    pub const SUPERVISION_LOG: &str = "supervision_log";
    /// Each member's case presentations, sealed and keyed likewise.
    pub const CASE_PRESENTATIONS: &str = "case_presentations";
    /// Each server's meetings and rota (members named by id); keyed by guild
    /// id then generation (a forget-me moves the record to the next).
    pub const MEETINGS: &str = "meetings";
}

/// The longest a deleted reflection, or the version an edit replaced, stays
/// in the data directory while the store runs (see [`Store::maintain`]).
pub const ERASE_WITHIN: chrono::Duration = chrono::Duration::minutes(15);
/// The upkeep starts an erasure's rewrite this long before
/// [`ERASE_WITHIN`] has passed, so that the rewrite, paced to leave the disk
/// to members' saves (see `pace`), has ended by then.
pub const REWRITE_MARGIN: chrono::Duration = chrono::Duration::minutes(5);
/// How often an automatic backup is written while the store runs.
pub const BACKUP_EVERY: chrono::Duration = chrono::Duration::hours(24);

/// Meta key: when the oldest erasure still waiting for a rewrite was made.
pub(crate) const ERASURE_PENDING: &[u8] = b"erasure_pending";
/// Meta key: how many commits the database has had (see `DataDir::note_commit`).
const COMMIT_SEQ: &[u8] = b"commit_seq";

fn be_u64(bytes: Option<&[u8]>) -> u64 {
    bytes
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_be_bytes)
}

/// Why the store could not do what was asked, in words for the operator.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory could not be created or secured.
    #[error("cannot prepare the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The data directory, or a file of the store's in it, belongs to
    /// another user.
    #[error(
        "{path} belongs to another user (user id {owner}; this command runs as user id {me}). Run the command as the user who owns the data directory (for example `sudo -u <that user> companion …`), so that no file in it comes to belong to anyone else. Nothing was changed."
    )]
    NotOwner {
        /// The directory or file.
        path: PathBuf,
        /// Its owner's user id.
        owner: u32,
        /// The user id this process runs as.
        me: u32,
    },
    /// A file or folder of the store's that its owner cannot read and
    /// write (a mode changed by hand).
    #[error(
        "{path} cannot be read and written by its owner (its mode is {mode:04o}), so nothing was opened and nothing was changed: the store does not change a mode it did not set. As the user who owns the data directory, give the owner access again with `chmod -R u+rwX {dir}` (which opens nothing to anyone else), then run the command again."
    )]
    NoAccess {
        /// The file or folder.
        path: PathBuf,
        /// The data directory.
        dir: PathBuf,
        /// Its mode.
        mode: u32,
    },
    /// A link stands where a file or folder of the store's should be.
    #[error(
        "`{name}` in {path} is a symbolic link; the store never follows links inside its data directory, so nothing was opened and nothing was changed (restore and salvage refuse it too). Put the real file or folder back in its place, from a copy of the data directory, or remove the link if it is a stray; then run the command again."
    )]
    Link {
        /// The data directory.
        path: PathBuf,
        /// The link, relative to it.
        name: String,
    },
    /// Another process holds the database.
    #[error(
        "the data directory {0} is in use by another companion process; stop it first, or give this one its own --data-dir"
    )]
    Locked(PathBuf),
    /// An import or a migration into the directory stopped before it
    /// finished.
    #[error(
        "an import or a migration into {0} did not finish (the process stopped part way), so nothing in it was ever confirmed and nothing was opened. Run the same `companion db import` again (or the same `companion db migrate`, if it was a migration): it starts over, and what it copies from was never changed."
    )]
    ImportInterrupted(PathBuf),
    /// A migration into the PostgreSQL database stopped before it finished.
    #[error(
        "a migration into this PostgreSQL database did not finish (it stopped part way, or what it wrote did not read back as written), so what it holds may be incomplete and nothing was opened. Run the same `companion db migrate` again: it starts over, and what it copies from was left as it was."
    )]
    MigrationUnfinished,
    /// There is no database where one was expected.
    #[error(
        "there is no database in {0}: check --data-dir (or COMPANION_DATA_DIR). Nothing was created."
    )]
    NoDatabase(PathBuf),
    /// The database is damaged; it was left exactly as it was.
    #[error(
        "the database in {path} is damaged: {why}. It was left exactly as it was. Restore the newest automatic backup with `companion db restore --data-dir {path}`, then recover what is newer from the damaged copy with `companion db salvage --data-dir {path}`."
    )]
    Damaged {
        /// The data directory.
        path: PathBuf,
        /// What is wrong, without contents.
        why: String,
    },
    /// The erasure record is missing, damaged or not the database's own.
    #[error(
        "the erasure record `{ERASURES_FILE}` in {path} {why}. Without it, a member who was forgotten or a reflection that was deleted could come back, so nothing was opened and nothing was changed. Put the record back from where it went (a backup of the data directory); if it is lost for good, `companion db restore --without-erasures --data-dir {path}` restores the newest automatic backup and starts a new record, and anything erased since that backup may then come back."
    )]
    ErasureRecord {
        /// The data directory.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// On PostgreSQL, this process's own erasure record is missing a part,
    /// damaged or changed; the database carries its entries too.
    #[error(
        "the erasure record `{ERASURES_FILE}` in {path} {why}. On PostgreSQL the database carries its entries too, so nothing was opened, nothing was changed, and nothing needs restoring: move the damaged record aside (`mv {path}/{ERASURES_FILE} {path}/damaged-{ERASURES_FILE}`) and start again, and a new record is made from every entry the database carries. Only if the database was put back to an earlier point since this record was last whole, first put the record back from a backup of this directory: an erasure that only it held would otherwise be lost."
    )]
    LocalErasureRecord {
        /// The local data directory.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// Entries of the erasure record that the PostgreSQL database carries
    /// do not authenticate.
    #[error(
        "entries of the erasure record that the PostgreSQL database carries (the table `companion_erasures`) do not authenticate with the master key: they were changed, or written without it. None was trusted, so nothing was opened and nothing was changed. Put the table back from the server's backup; if there is none, empty it (`TRUNCATE companion_erasures`) and start the processes again: each gives the database back every entry its own erasure record holds, and an entry no process's record holds is then lost."
    )]
    CarriedErasures,
    /// sled refused to open the database.
    #[error(
        "cannot open the database in {path}: {source}. If it is damaged, restore the newest automatic backup with `companion db restore`."
    )]
    Open {
        /// The directory.
        path: PathBuf,
        /// What sled said.
        source: sled::Error,
    },
    /// A read or write failed.
    #[error("database error: {0}")]
    Db(#[from] sled::Error),
    /// A stored record could not be read back.
    #[error("a stored record is damaged: {0}")]
    Corrupt(String),
    /// The database exists but its key is nowhere to be found.
    #[error(
        "the database in {0} is encrypted, but no key was found: set {KEY_ENV}, pass --key-file, or restore {KEY_FILE} into the data directory. Without the key the reflections cannot be read."
    )]
    KeyMissing(PathBuf),
    /// The key given does not open this database.
    #[error(
        "the key from {source_name} does not open the database in {path}: it belongs to another database, or was changed. Nothing was modified. Give the key this database was made with: --key-file PATH, the COMPANION_KEY environment variable, or master.key in the data directory (from your copy of it kept apart from the data)."
    )]
    KeyMismatch {
        /// The directory.
        path: PathBuf,
        /// Where the key came from.
        source_name: String,
    },
    /// The key could not be read or written.
    #[error("{0}")]
    Key(String),
    /// A backup or erasure file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A backup that cannot be used as it is.
    #[error("{0}")]
    Backup(String),
    /// The store was closed (the process is shutting down).
    #[error("the database is closed")]
    Closed,
    /// Encryption or decryption failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// Another writer changed what a transaction read (it is run again).
    #[error("a transaction conflicted with another writer")]
    Conflict,
    /// A server's meetings changed between the read a change was worked out
    /// from and its write (see [`Store::set_meetings`]); nothing was written.
    #[error(
        "The group's meetings changed while this was being done (another change got there first), so this change was not kept; nothing else was affected. Please run it again: it will start from the meetings as they are now."
    )]
    MeetingsChanged,
    /// PostgreSQL refused.
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    /// The connection to the PostgreSQL server was lost (a call tries
    /// again on a new one before it says so).
    #[error("the connection to the database server was lost ({0}); nothing was changed")]
    Disconnected(String),
    /// No PostgreSQL server that accepts writes answered in time.
    #[error(
        "no database server that accepts writes could be reached for {seconds} seconds ({why}); nothing was changed"
    )]
    Unavailable {
        /// How long the call tried.
        seconds: u64,
        /// What the last try met.
        why: String,
    },
    /// A change was sent to PostgreSQL but not confirmed: it may have been
    /// kept, or not.
    #[error("the database did not confirm this change: {0}. It may have been kept, or not")]
    Unconfirmed(String),
    /// Another bot process holds the PostgreSQL database.
    #[error(
        "another companion process is using this PostgreSQL database (it holds the database's lock); only one at a time can, unless each is a bot given its own shards (`run --shards A-B --shard-total N`). Stop it first, or give this one its own database. Nothing was changed."
    )]
    DatabaseInUse,
    /// Another bot process runs one of the shards asked for.
    #[error(
        "another companion process on this PostgreSQL database runs shard {shard} of {total}: the processes' --shards overlap. Give each process its own shards (for example 0-1 and 2-3 of 4). Nothing was changed."
    )]
    ShardInUse {
        /// The shard held elsewhere.
        shard: u32,
        /// The shard total asked for.
        total: u32,
    },
    /// Another bot process on the database was given another shard total.
    #[error(
        "another companion process on this PostgreSQL database runs with --shard-total {theirs}, this one with {ours}: every process on one database must give the same total, or servers would be run twice or not at all. Nothing was changed."
    )]
    ShardTotalDiffers {
        /// This process's total.
        ours: u32,
        /// The other process's total.
        theirs: i64,
    },
    /// What was asked needs the sled engine.
    #[error(
        "this is not available on PostgreSQL (salvage works on a sled data directory only; export, check, import, restore and the automatic backups work on both); nothing was changed"
    )]
    NotOnPostgres,
    /// What was asked has no meaning on PostgreSQL: why, and what to do.
    #[error("{0} Nothing was changed.")]
    NotForPostgres(&'static str),
}

impl StoreError {
    /// Whether what was asked may have been done all the same: the member
    /// is then told it could not be confirmed, never that it was not saved.
    pub fn may_have_been_kept(&self) -> bool {
        matches!(self, StoreError::Unconfirmed(_))
    }
}

/// A member's lock from [`Store::hold_member`], let go when dropped.
pub struct MemberHold {
    // Dropped first: the server's lock goes before the next waiter here
    // asks for it.
    _server: Option<postgres::MemberLock>,
    _here: tokio::sync::OwnedMutexGuard<()>,
}

impl std::fmt::Debug for MemberHold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberHold")
            .field("on_the_server", &self._server.is_some())
            .finish()
    }
}

/// The lock on every server's meetings record from
/// [`Store::hold_meetings`], let go when dropped.
pub struct MeetingsHold {
    // Dropped first, as a member's.
    _server: Option<postgres::MemberLock>,
    _here: tokio::sync::OwnedMutexGuard<()>,
}

impl std::fmt::Debug for MeetingsHold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeetingsHold")
            .field("on_the_server", &self._server.is_some())
            .finish()
    }
}

/// A member's write lock from `Store::member_lock`, let go when dropped.
struct MemberWrite<'a> {
    _server: Option<postgres::MemberLock>,
    _stripe: MutexGuard<'a, ()>,
}

/// The database, shared by every task of the process.
#[derive(Clone)]
pub struct Store {
    shared: Arc<Shared>,
}

struct Shared {
    place: Place,
    envelope: Envelope,
    live: RwLock<Option<Live>>,
    erasures: Mutex<ErasureLog>,
    /// Read-modify-write of one member's records, one at a time.
    stripes: Vec<Mutex<()>>,
    /// Each member's lock held across Discord calls, in this process
    /// ([`Store::hold_member`]).
    held: Mutex<std::collections::HashMap<u64, Arc<tokio::sync::Mutex<()>>>>,
    /// The lock on every server's meetings record in this process
    /// ([`Store::hold_meetings`]).
    meetings_held: Arc<tokio::sync::Mutex<()>>,
    /// Syncs of the database, for the tests that hold confirmations to them.
    syncs: AtomicU64,
    /// Something was committed since the last backup.
    dirty: AtomicBool,
    /// Writing, rotating and purging the automatic backups, one at a time.
    backups: Mutex<()>,
    /// Reflections salvaged from damaged databases set aside (reports).
    salvaged: std::sync::atomic::AtomicUsize,
    /// One rewrite at a time.
    rewriting: Mutex<()>,
    /// Erasures made since the store opened (reservations of numbers
    /// aside): a rewrite that sees this change while it copies leaves the
    /// erasure pending for the next one.
    erasures_made: AtomicU64,
    /// On PostgreSQL, how many entries the erasure record had when the
    /// local automatic backups were last purged of what it names.
    purged_at: AtomicU64,
    /// The turns of the bot's requests to Discord taken in this process
    /// (with sled, the only process; `turns.rs`).
    turns: Mutex<turns::LocalTurns>,
}

/// One change a watcher saw: a key and its new value (`None`: removed).
type Change = (sled::IVec, Option<sled::IVec>);

/// Every change made to a database's trees while a rewrite copies it,
/// collected as it happens (sled's subscribers hold back writers whose
/// events are not taken, so a thread takes them).
struct Watch {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<Vec<Change>>>,
    names: Vec<sled::IVec>,
}

impl Watch {
    fn start(db: &sled::Db) -> Watch {
        let stop = Arc::new(AtomicBool::new(false));
        let names = db.tree_names();
        let threads = names
            .iter()
            .filter_map(|name| db.open_tree(name).ok())
            .map(|tree| {
                let mut events = tree.watch_prefix(Vec::<u8>::new());
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    let mut seen = Vec::new();
                    loop {
                        match events.next_timeout(std::time::Duration::from_millis(5)) {
                            Ok(sled::Event::Insert { key, value }) => seen.push((key, Some(value))),
                            Ok(sled::Event::Remove { key }) => seen.push((key, None)),
                            Err(_) if stop.load(Ordering::SeqCst) => return seen,
                            Err(_) => {}
                        }
                    }
                })
            })
            .collect();
        Watch {
            stop,
            threads,
            names,
        }
    }

    /// Applies every change seen to `to`, in the order each key saw them.
    /// Called with the live database held, so no change is still under way.
    fn apply(mut self, to: &sled::Db) -> Result<(), StoreError> {
        self.stop.store(true, Ordering::SeqCst);
        let threads = std::mem::take(&mut self.threads);
        for (name, thread) in self.names.iter().zip(threads) {
            let seen = thread
                .join()
                .map_err(|_| StoreError::Corrupt("a rewrite's watcher stopped".into()))?;
            let tree = to.open_tree(name)?;
            for (key, value) in seen {
                match value {
                    Some(v) => tree.insert(key, v)?,
                    None => tree.remove(key)?,
                };
            }
        }
        Ok(())
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Copies whole any tree `from` has that `to` lacks (made during a rewrite).
fn copy_new_trees(from: &sled::Db, to: &sled::Db) -> Result<(), StoreError> {
    let have = to.tree_names();
    for name in from.tree_names() {
        if have.contains(&name) {
            continue;
        }
        let (src, dst) = (from.open_tree(&name)?, to.open_tree(&name)?);
        for entry in src.iter() {
            let (k, v) = entry?;
            dst.insert(k, v)?;
        }
    }
    Ok(())
}

/// The open database and its trees.
struct Live {
    engine: Engine,
    t: Trees,
}

/// What holds the trees.
enum Engine {
    /// sled: one generation of the data directory.
    Sled(Generation),
    /// A PostgreSQL database.
    Pg(Pg),
}

impl Live {
    /// The sled generation; on PostgreSQL, what needs one is not available.
    fn generation(&self) -> Result<&Generation, StoreError> {
        match &self.engine {
            Engine::Sled(g) => Ok(g),
            Engine::Pg(_) => Err(StoreError::NotOnPostgres),
        }
    }

    fn pg(&self) -> Option<&Pg> {
        match &self.engine {
            Engine::Pg(pg) => Some(pg),
            Engine::Sled(_) => None,
        }
    }
}

/// Where the store keeps what is not in the database's trees.
enum Place {
    /// The data directory of a sled store.
    Sled(DataDir),
    /// The local directory of a PostgreSQL store: its erasure record,
    /// which no restore of the database can roll back.
    Pg(PathBuf),
}

struct Trees {
    meta: Tree,
    guild_settings: Tree,
    member_keys: Tree,
    reflections: Tree,
    summaries: Tree,
    counters: Tree,
    schedules: Tree,
    slots: Tree,
    group_counts: Tree,
    member_settings: Tree,
    superseded: Tree,
    held_forms: Tree,
    supervision_log: Tree,
    case_presentations: Tree,
    meetings: Tree,
    /// On PostgreSQL, the erasure record's entries the database carries
    /// (not a record tree: no backup, export or migration holds it).
    carried: Option<Tree>,
}

impl Trees {
    fn open(db: &sled::Db) -> Result<Trees, StoreError> {
        Trees::with(&|name| Ok(Tree::Sled(db.open_tree(name)?)))
    }

    fn open_pg(pg: &Pg) -> Result<Trees, StoreError> {
        let mut t = Trees::with(&|name| Ok(Tree::Pg(pg.tree(name)?)))?;
        t.carried = Some(Tree::Pg(pg.tree(postgres::CARRIED)?));
        Ok(t)
    }

    /// Every tree and its name.
    fn named(&self) -> [(&'static str, &Tree); 15] {
        [
            (trees::META, &self.meta),
            (trees::GUILD_SETTINGS, &self.guild_settings),
            (trees::MEMBER_KEYS, &self.member_keys),
            (trees::REFLECTIONS, &self.reflections),
            (trees::SUMMARIES, &self.summaries),
            (trees::COUNTERS, &self.counters),
            (trees::SCHEDULES, &self.schedules),
            (trees::SLOTS, &self.slots),
            (trees::GROUP_COUNTS, &self.group_counts),
            (trees::MEMBER_SETTINGS, &self.member_settings),
            (trees::SUPERSEDED, &self.superseded),
            (trees::HELD_FORMS, &self.held_forms),
            (trees::SUPERVISION_LOG, &self.supervision_log),
            (trees::CASE_PRESENTATIONS, &self.case_presentations),
            (trees::MEETINGS, &self.meetings),
        ]
    }

    fn with(open: &dyn Fn(&'static str) -> Result<Tree, StoreError>) -> Result<Trees, StoreError> {
        Ok(Trees {
            meta: open(trees::META)?,
            guild_settings: open(trees::GUILD_SETTINGS)?,
            member_keys: open(trees::MEMBER_KEYS)?,
            reflections: open(trees::REFLECTIONS)?,
            summaries: open(trees::SUMMARIES)?,
            counters: open(trees::COUNTERS)?,
            schedules: open(trees::SCHEDULES)?,
            slots: open(trees::SLOTS)?,
            group_counts: open(trees::GROUP_COUNTS)?,
            member_settings: open(trees::MEMBER_SETTINGS)?,
            superseded: open(trees::SUPERSEDED)?,
            held_forms: open(trees::HELD_FORMS)?,
            supervision_log: open(trees::SUPERVISION_LOG)?,
            case_presentations: open(trees::CASE_PRESENTATIONS)?,
            meetings: open(trees::MEETINGS)?,
            carried: None,
        })
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

const STRIPES: usize = 32;

/// Entries of the erasure record written into the PostgreSQL database per
/// transaction when it is given back entries it lacks.
const CARRY_AT_ONCE: usize = 1000;

/// An erasure under way: the entries of the erasure record it writes into
/// the PostgreSQL database, in its own transaction ([`Carried::write`]),
/// so that every process sharing the database, each with its own record,
/// learns of it (on sled there are none); and, from the append of its new
/// fingerprints to the record until its transaction's answer settles it
/// ([`Carried::settle`]), the record itself, held in this process and,
/// by its file's lock, from every process sharing the file, so that no
/// merge ever takes an erasure still under way for one made.
#[must_use]
struct Carried<'a> {
    tree: Option<&'a Tree>,
    entries: Vec<(envelope::Fingerprint, [u8; 32])>,
    /// The record, while this erasure's fingerprints in it are unsettled.
    record: Option<MutexGuard<'a, ErasureLog>>,
    /// Where the record's mark is kept (the database's meta tree).
    meta: Option<&'a Tree>,
    /// The fingerprints this erasure appended to the record.
    new: Vec<envelope::Fingerprint>,
    /// Whether its transaction made it (or may have).
    made: bool,
    /// Whether its transaction's answer was lost: made or not, unknown.
    unsure: bool,
}

impl<'a> Carried<'a> {
    /// The entries for `prints` in `live`'s database (none on sled).
    fn of(live: &'a Live, envelope: &Envelope, prints: &[envelope::Fingerprint]) -> Carried<'a> {
        let tree = live.t.carried.as_ref();
        let mut entries: Vec<_> = match tree {
            Some(_) => prints
                .iter()
                .map(|p| (*p, envelope.carried_tag(p)))
                .collect(),
            None => Vec::new(),
        };
        entries.sort_unstable();
        entries.dedup();
        Carried {
            tree,
            entries,
            record: None,
            meta: None,
            new: Vec::new(),
            made: false,
            unsure: false,
        }
    }

    /// Nothing to carry (no erasure was made).
    fn none() -> Carried<'a> {
        Carried {
            tree: None,
            entries: Vec::new(),
            record: None,
            meta: None,
            new: Vec::new(),
            made: false,
            unsure: false,
        }
    }

    /// Writes the entries as part of `tx`'s transaction (any of its trees).
    fn write(&self, tx: &engine::TxTree<'_>) -> Result<(), StoreError> {
        let Some(tree) = self.tree else {
            return Ok(());
        };
        for (print, tag) in &self.entries {
            tx.insert_beside(tree, print, tag)?;
        }
        Ok(())
    }

    /// Settles the erasure with its transaction's answer, and returns that
    /// answer. Committed, or perhaps committed (the server's answer was
    /// lost: the member is told it may have been done), the record goes on
    /// naming it. Refused, the erasure was not made, and the member is
    /// told so: the record takes back what it appended for it
    /// ([`envelope::ErasureLog::take_back`]), so that no merge, import or
    /// restore makes it later. Dropped unsettled (an error before its
    /// transaction ran), it was not made either. Perhaps committed, it is
    /// settled by the next merge, which takes it back if the database does
    /// not carry it (its transaction did not commit) — while the process
    /// runs; after a restart the record goes on naming it.
    fn settle<T>(mut self, answer: Result<T, StoreError>) -> Result<T, StoreError> {
        self.made = match &answer {
            Ok(_) => true,
            Err(e) => e.may_have_been_kept(),
        };
        self.unsure = answer.is_err() && self.made;
        answer
    }
}

impl Drop for Carried<'_> {
    fn drop(&mut self) {
        let Some(log) = self.record.as_mut() else {
            return;
        };
        if self.unsure {
            log.unsettled.extend(self.new.iter().copied());
        } else if !self.made && !self.new.is_empty() {
            match log.take_back(&self.new) {
                Ok(mark) => {
                    if let Some(meta) = self.meta {
                        // Committed with the next write: the record is then
                        // known to reach past the taking back.
                        let _ = meta.insert(ERASURE_MARK, &mark.bytes()[..]);
                    }
                }
                Err(e) => {
                    tracing::error!(
                        error = %e,
                        "an erasure that was not made could not be taken back from the erasure record yet; it is taken back when the record is next used, unless the process stops first (then a merge, import or restore may still make it)"
                    );
                    log.owe_back(&self.new);
                }
            }
        }
        log.let_go();
    }
}

/// Meta key: where the erasure record stood after the last erasure (see
/// [`envelope::Mark`]), committed with the erasure.
const ERASURE_MARK: &[u8] = b"erasure_mark";
/// Meta key: the database was just restored, imported or salvaged (see
/// `Store::after_restore`).
const RESTORED: &[u8] = b"restored";
/// Meta key: a migration into this PostgreSQL database has not finished
/// (see `migrate`); the store refuses to open while it is there.
const MIGRATING: &[u8] = b"migrating";

/// The erasure record of a sled store being opened, verified against the
/// mark the database keeps: a record that is missing, cut short, replaced
/// or changed is damage, and nothing opens. (On PostgreSQL the database
/// carries the entries themselves: [`open_local_erasures`].)
fn open_erasures(dir: &Path, live: &Live, envelope: &Envelope) -> Result<ErasureLog, StoreError> {
    let path = dir.join(ERASURES_FILE);
    let mark = live
        .t
        .meta
        .get(ERASURE_MARK)?
        .map(|b| envelope::Mark::from_bytes(&b).ok_or(b.len()));
    match mark {
        Some(Err(_)) => {
            return Err(erasure_record_error(
                dir,
                StoreError::Corrupt(
                    "cannot be checked: the database's mark of it is damaged".into(),
                ),
            ));
        }
        Some(Ok(mark)) if std::fs::symlink_metadata(&path).is_err() => {
            if mark.count > 0 {
                return Err(erasure_record_error(
                    dir,
                    StoreError::Corrupt(format!(
                        "is missing, though the database says {} erased records are named in it",
                        mark.count
                    )),
                ));
            }
            // Nothing was ever erased here: a new record loses nothing.
            return ErasureLog::create(&path, envelope);
        }
        None if std::fs::symlink_metadata(&path).is_err() => {
            return Err(erasure_record_error(
                dir,
                StoreError::Corrupt("is missing".into()),
            ));
        }
        _ => {}
    }
    let log = ErasureLog::open(&path, envelope).map_err(|e| erasure_record_error(dir, e))?;
    if log.record().altered {
        return Err(erasure_record_error(
            dir,
            StoreError::Corrupt("was changed: a part of it does not authenticate".into()),
        ));
    }
    if let Some(Ok(mark)) = mark
        && !log.record().reaches(&mark)
    {
        return Err(erasure_record_error(
            dir,
            StoreError::Corrupt(format!(
                "does not hold what the database says it does (at least {} erased records, in an order only the right record has): it was cut short, replaced or changed",
                mark.count
            )),
        ));
    }
    Ok(log)
}

/// The erasure record of a PostgreSQL store being opened: this machine's
/// own. One that is missing starts empty (the database carries every entry
/// and [`Store::merge_erasures`] brings them in); one that was changed (a
/// part does not authenticate) or is another key's is refused.
fn open_local_erasures(dir: &Path, envelope: &Envelope) -> Result<ErasureLog, StoreError> {
    let path = dir.join(ERASURES_FILE);
    let log = match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => ErasureLog::create(&path, envelope),
        _ => ErasureLog::open(&path, envelope),
    }
    .map_err(|e| local_record_error(dir, e))?;
    if log.record().altered {
        return Err(local_record_error(
            dir,
            StoreError::Corrupt("was changed: a part of it does not authenticate".into()),
        ));
    }
    Ok(log)
}

/// [`erasure_record_error`] for a PostgreSQL store's own record, whose
/// remedy is not a restore.
pub(super) fn local_record_error(dir: &Path, e: StoreError) -> StoreError {
    match erasure_record_error(dir, e) {
        StoreError::ErasureRecord { path, why } => StoreError::LocalErasureRecord { path, why },
        other => other,
    }
}

/// Every entry of the erasure record the PostgreSQL database of `t`
/// carries, each authenticated (`None` on sled, which carries none). A
/// row that was changed, or written without the master key, is refused:
/// [`StoreError::CarriedErasures`].
fn carried_in(
    t: &Trees,
    envelope: &Envelope,
) -> Result<Option<HashSet<envelope::Fingerprint>>, StoreError> {
    let Some(tree) = &t.carried else {
        return Ok(None);
    };
    let mut out = HashSet::new();
    for entry in tree.iter() {
        let (k, v) = match entry {
            Ok(entry) => entry,
            // A row whose key or value was changed does not open.
            Err(StoreError::Crypto(_) | StoreError::Corrupt(_)) => {
                return Err(StoreError::CarriedErasures);
            }
            Err(e) => return Err(e),
        };
        match <envelope::Fingerprint>::try_from(k.as_slice()) {
            Ok(print) if v == envelope.carried_tag(&print) => {
                out.insert(print);
            }
            _ => return Err(StoreError::CarriedErasures),
        }
    }
    Ok(Some(out))
}

/// Why a PostgreSQL store was not opened without its master key.
fn pg_key_missing() -> StoreError {
    StoreError::Key(format!(
        "a PostgreSQL store needs its master key given: --key-file PATH (for example a systemd credential) or {KEY_ENV} (64 hexadecimal digits). It is never made on its own, so that no second key can ever start a second database by mistake; make one with `head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n' > master.key` and keep a copy apart from the database"
    ))
}

/// An erasure record that cannot be used, in words that say what to do.
/// Why an erasure record that another part of the data directory proves
/// the key against does not open.
pub(super) const KEY_PROVEN_ELSEWHERE: &str = "does not authenticate with the key that opens the database (its seal or backups do): it was changed";

fn erasure_record_error(dir: &Path, e: StoreError) -> StoreError {
    match e {
        StoreError::Corrupt(why) => StoreError::ErasureRecord {
            path: dir.to_path_buf(),
            why,
        },
        StoreError::File { source, .. } => StoreError::ErasureRecord {
            path: dir.to_path_buf(),
            why: format!("cannot be read ({source})"),
        },
        other => other,
    }
}

impl Store {
    /// Opens (creating if needed) the database in `dir`, which is created
    /// readable by its owner only. The master key is `key` if given (from
    /// `COMPANION_KEY` or `--key-file`), else the key file in `dir`, created
    /// for a new database. A database whose key is missing or wrong, or
    /// whose files are damaged, is refused and left as it was.
    pub fn open(dir: &Path, key: Option<SecretKey>) -> Result<Store, StoreError> {
        Store::open_inner(dir, key, true)
    }

    /// Opens the database in `dir`, which must exist: nothing is created.
    pub fn open_existing(dir: &Path, key: Option<SecretKey>) -> Result<Store, StoreError> {
        Store::open_inner(dir, key, false)
    }

    fn open_inner(dir: &Path, key: Option<SecretKey>, create: bool) -> Result<Store, StoreError> {
        let data = DataDir::lock(dir, create)?;
        let exists = data.has_database()?;
        let (master, source) = keys::master_key(dir, key, exists)?;
        let envelope = Envelope::new(master);
        let mismatch = |e| match e {
            StoreError::KeyMismatch { .. } => StoreError::KeyMismatch {
                path: dir.to_path_buf(),
                source_name: source.clone(),
            },
            other => other,
        };
        let record_path = dir.join(ERASURES_FILE);
        let record_present = std::fs::symlink_metadata(&record_path).is_ok();
        let tag = |bytes: &[u8]| envelope.seal_tag(bytes);
        let mut key_proven = false;
        if exists {
            // The key is proven against the erasure record, and the record
            // against the mark the last clean close sealed, before anything
            // is written.
            let sealed = data
                .sealed_mark(&tag)
                .and_then(|b| envelope::Mark::from_bytes(&b));
            if record_present {
                let record = ErasureLog::read(&record_path, &envelope)
                    .map_err(|e| match e {
                        // The clean-close seal or a backup authenticates
                        // under this key: the key is right, the record changed.
                        StoreError::KeyMismatch { .. }
                            if backup::key_proven(dir, &data, &envelope).unwrap_or(false) =>
                        {
                            StoreError::Corrupt(KEY_PROVEN_ELSEWHERE.into())
                        }
                        e => e,
                    })
                    .map_err(|e| erasure_record_error(dir, e))
                    .map_err(mismatch)?;
                let why = if record.altered {
                    Some("was changed: a part of it does not authenticate".to_string())
                } else {
                    sealed.filter(|m| !record.reaches(m)).map(|m| {
                        format!(
                            "does not hold what the database says it does (at least {} erased records): it was cut short, replaced or changed",
                            m.count
                        )
                    })
                };
                if let Some(why) = why {
                    return Err(StoreError::ErasureRecord {
                        path: dir.to_path_buf(),
                        why,
                    });
                }
                key_proven = true;
                // With the right key, what interrupted work left can go.
                data.remove_strays()?;
            } else if let Some(m) = sealed.filter(|m| m.count > 0) {
                return Err(StoreError::ErasureRecord {
                    path: dir.to_path_buf(),
                    why: format!(
                        "is missing, though the database says {} erased records are named in it",
                        m.count
                    ),
                });
            }
        }
        if !exists {
            // A first start (or one that was cut short and confirmed
            // nothing): a new record, before `CURRENT` names a database.
            disk::scrub_file(&record_path).map_err(|source| StoreError::File {
                path: record_path.clone(),
                source,
            })?;
            ErasureLog::create(&record_path, &envelope)?;
        }
        let opened = data.open_live(&tag, key_proven).map_err(mismatch)?;
        let (generation, recovered) = match opened {
            Opened::Clean(g) | Opened::New(g) => (g, false),
            Opened::Recovered(g) => (g, true),
        };
        let t = match Trees::open(&generation.db)
            .and_then(|t| keys::check(dir, &t.meta, &envelope, &source).map(|()| t))
        {
            Ok(t) => t,
            Err(e) => {
                if recovered {
                    data.discard(generation);
                }
                return Err(e);
            }
        };
        // Only a key shown to be the database's own (or a new database's)
        // tightens what is too open in the directory: a wrong key changes
        // nothing.
        if let Err(e) = disk::create_private_dir(dir) {
            if recovered {
                data.discard(generation);
            }
            return Err(e);
        }
        let live = Live {
            engine: Engine::Sled(generation),
            t,
        };
        let erasures = match open_erasures(dir, &live, &envelope) {
            Ok(log) => log,
            Err(e) => {
                if recovered && let Engine::Sled(g) = live.engine {
                    data.discard(g);
                }
                return Err(e);
            }
        };
        if recovered {
            let report = backup::verify(&live, &envelope, data.path()).and_then(|mut r| {
                let reached = be_u64(live.t.meta.get(COMMIT_SEQ)?.as_deref());
                let confirmed = data.committed_seq().unwrap_or(0);
                if reached < confirmed {
                    r.problems.push(format!(
                        "it ends before the last change that was confirmed (change {reached} of {confirmed}): part of it is unreadable"
                    ));
                }
                Ok(r)
            });
            match report {
                Ok(r) if r.problems.is_empty() => data.adopt(live.generation()?, &mut |_| {})?,
                Ok(r) => {
                    if let Engine::Sled(g) = live.engine {
                        data.discard(g);
                    }
                    return Err(StoreError::Damaged {
                        path: dir.to_path_buf(),
                        why: r.problems.join("; "),
                    });
                }
                Err(e) => {
                    if let Engine::Sled(g) = live.engine {
                        data.discard(g);
                    }
                    return Err(e);
                }
            }
        }
        data.remove_strays()?;
        let pending = live.t.meta.contains_key(ERASURE_PENDING)?;
        let store = Store {
            shared: Arc::new(Shared {
                place: Place::Sled(data),
                envelope,
                live: RwLock::new(Some(live)),
                erasures: Mutex::new(erasures),
                stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
                held: Mutex::default(),
                meetings_held: Arc::default(),
                syncs: AtomicU64::new(0),
                dirty: AtomicBool::new(false),
                backups: Mutex::new(()),
                salvaged: std::sync::atomic::AtomicUsize::new(0),
                rewriting: Mutex::new(()),
                erasures_made: AtomicU64::new(0),
                purged_at: AtomicU64::new(0),
                turns: Mutex::default(),
            }),
        };
        store.keep_erasure_mark()?;
        store.fill_summaries()?;
        if pending || backup::set_aside_present(dir)? {
            // An erasure was confirmed but the process stopped before the
            // rewrite that makes it real, or a damaged database set aside
            // by a restore may still hold erased records (the rewrite
            // salvages what reads of it, then scrubs it): do it before
            // serving anyone.
            store.rewrite(&mut |_| {})?;
        }
        store.after_restore()?;
        Ok(store)
    }

    /// Opens (creating the schema if needed) the PostgreSQL database
    /// `opts` names, with the master key `key`, which must be given: a
    /// PostgreSQL store never makes one. `dir` is a local directory, created
    /// readable by its owner only, that keeps the erasure record apart from
    /// the database, so that restoring the database to an earlier point
    /// cannot roll the record back.
    pub fn open_postgres(
        opts: &PgOptions,
        dir: &Path,
        key: Option<SecretKey>,
    ) -> Result<Store, StoreError> {
        Store::open_postgres_inner(opts, dir, key, true)
    }

    /// Opens the PostgreSQL database `opts` names, which must hold a store:
    /// none is begun.
    pub fn open_postgres_existing(
        opts: &PgOptions,
        dir: &Path,
        key: &SecretKey,
    ) -> Result<Store, StoreError> {
        Store::open_postgres_inner(opts, dir, Some(key.clone()), false)
    }

    fn open_postgres_inner(
        opts: &PgOptions,
        dir: &Path,
        key: Option<SecretKey>,
        create: bool,
    ) -> Result<Store, StoreError> {
        let key = key.ok_or_else(pg_key_missing)?;
        disk::prepare_local_dir(dir)?;
        let envelope = Envelope::new(key);
        let pg = Pg::connect(opts, envelope.master())?;
        let t = Trees::open_pg(&pg)?;
        let source = "the key given".to_string();
        let mismatch = |e| match e {
            StoreError::KeyMismatch { .. } | StoreError::Crypto(_) => StoreError::KeyMismatch {
                path: dir.to_path_buf(),
                source_name: source.clone(),
            },
            other => other,
        };
        if t.meta.contains_key(MIGRATING).map_err(mismatch)? {
            return Err(StoreError::MigrationUnfinished);
        }
        let new = !t.meta.contains_key(keys::KEY_CHECK_KEY).map_err(mismatch)?;
        if new && !create {
            return Err(StoreError::Postgres(
                "the database holds no companion store yet: check the URL. Nothing was changed."
                    .into(),
            ));
        }
        let record_path = dir.join(ERASURES_FILE);
        if new && std::fs::symlink_metadata(&record_path).is_err() {
            ErasureLog::create(&record_path, &envelope)?;
        }
        keys::check(dir, &t.meta, &envelope, &source).map_err(mismatch)?;
        let live = Live {
            engine: Engine::Pg(pg),
            t,
        };
        let erasures = open_local_erasures(dir, &envelope)?;
        let pending = live.t.meta.contains_key(ERASURE_PENDING)?;
        let store = Store {
            shared: Arc::new(Shared {
                place: Place::Pg(dir.to_path_buf()),
                envelope,
                live: RwLock::new(Some(live)),
                erasures: Mutex::new(erasures),
                stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
                held: Mutex::default(),
                meetings_held: Arc::default(),
                syncs: AtomicU64::new(0),
                dirty: AtomicBool::new(false),
                backups: Mutex::new(()),
                salvaged: std::sync::atomic::AtomicUsize::new(0),
                rewriting: Mutex::new(()),
                erasures_made: AtomicU64::new(0),
                purged_at: AtomicU64::new(0),
                turns: Mutex::default(),
            }),
        };
        // The local record and the entries the database carries are made
        // one: a database behind the record (restored from a copy made
        // before erasures the record, kept apart, names) has them applied
        // again before anyone is served, and its tables rewritten.
        let reapplied = store.merge_erasures()?;
        store.keep_erasure_mark()?;
        store.fill_summaries()?;
        if pending || reapplied > 0 {
            store.rewrite(&mut |_| {})?;
        }
        store.after_restore()?;
        Ok(store)
    }

    /// Opens with the key from `--key-file` or the environment
    /// (`COMPANION_KEY`): the PostgreSQL database chosen by [`use_database`]
    /// if one was, else the sled database in `dir`.
    pub fn open_with_key_from(dir: &Path, key_file: Option<&Path>) -> Result<Store, StoreError> {
        Store::open_in(dir, key_file, database())
    }

    /// Opens the store in `database` when one is named, else in the data
    /// directory `dir`, with the key from `key_file` or where the key is
    /// looked for.
    pub fn open_in(
        dir: &Path,
        key_file: Option<&Path>,
        database: Option<&PgOptions>,
    ) -> Result<Store, StoreError> {
        match database {
            Some(opts) => Store::open_postgres(opts, dir, keys::given_key(key_file)?),
            None => Store::open(dir, keys::given_key(key_file)?),
        }
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        match &self.shared.place {
            Place::Sled(data) => data.path(),
            Place::Pg(dir) => dir,
        }
    }

    /// The sled data directory (not on PostgreSQL).
    fn data(&self) -> Result<&DataDir, StoreError> {
        match &self.shared.place {
            Place::Sled(data) => Ok(data),
            Place::Pg(_) => Err(StoreError::NotOnPostgres),
        }
    }

    /// Whether the store is on PostgreSQL.
    pub fn on_postgres(&self) -> bool {
        matches!(self.shared.place, Place::Pg(_))
    }

    /// How many times this store has synced the database to the disk.
    pub fn syncs(&self) -> u64 {
        self.shared.syncs.load(Ordering::SeqCst)
    }

    fn with<T>(&self, f: impl FnOnce(&Live) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let guard = self
            .shared
            .live
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        match guard.as_ref() {
            Some(live) => f(live),
            None => Err(StoreError::Closed),
        }
    }

    /// Makes every write so far durable; callers confirm only after this.
    /// (On PostgreSQL every write has been committed by the time it
    /// returns: there is nothing more to do.)
    fn commit(&self, live: &Live) -> Result<(), StoreError> {
        if let (Engine::Sled(generation), Some(meta)) = (&live.engine, live.t.meta.as_sled()) {
            let seq = meta.update_and_fetch(COMMIT_SEQ, |old| {
                Some((be_u64(old) + 1).to_be_bytes().to_vec())
            })?;
            generation.commit()?;
            self.data()?.note_commit(be_u64(seq.as_deref()))?;
        }
        self.shared.syncs.fetch_add(1, Ordering::SeqCst);
        self.shared.dirty.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn backups_lock(&self) -> MutexGuard<'_, ()> {
        self.shared
            .backups
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Held while one member's records are read and then written (a new
    /// reflection's number, an edit, a delete, forget-me, a held form, a
    /// reminder), so that two writers never interleave: in this process a
    /// stripe of mutexes; where other processes share the PostgreSQL
    /// database, the member's write lock on the server as well.
    fn member_lock(&self, member: u64) -> Result<MemberWrite<'_>, StoreError> {
        let stripe = self.shared.stripes[(member % STRIPES as u64) as usize]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let pg = self.with(|live| Ok(live.pg().cloned()))?;
        let server = match pg {
            Some(pg) => pg.member_lock_blocking(postgres::MemberLockKind::Write, member)?,
            None => None,
        };
        Ok(MemberWrite {
            _server: server,
            _stripe: stripe,
        })
    }

    /// Waits for `member`'s lock for what spans calls to Discord: sharing
    /// (from the check that nothing is shared yet to the record of the
    /// post), withdrawing, and the withdrawal before a delete or forget-me
    /// (from reading where the posts are to erasing the record). A second
    /// click waits for the first, then sees what it did: no double post,
    /// and no post left behind unrecorded by a forget-me that ran while it
    /// was being made.
    ///
    /// Within the process it is a mutex per member, so waiters here spend
    /// no connection. Where other processes share the PostgreSQL database
    /// (`run --shards`), the holder of that mutex also takes the member's
    /// advisory lock on the server, keyed by a keyed hash of the member's
    /// id (never the id), so one member acting through two processes at
    /// once is serialised the same way. Dropping the guard lets go of
    /// both; a process that dies lets go of the server's as its session
    /// ends. A failover loses the server's lock with the server: see
    /// [`postgres::MemberLock`] for what that leaves unserialised. The
    /// store's own writes take a separate lock inside this one, never the
    /// other way round.
    pub async fn hold_member(&self, member: u64) -> Result<MemberHold, StoreError> {
        let mine = {
            let mut all = self
                .shared
                .held
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            // Locks nobody holds or waits for are dropped as others are taken.
            all.retain(|_, l| Arc::strong_count(l) > 1);
            Arc::clone(all.entry(member).or_default())
        };
        let here = mine.lock_owned().await;
        let taking = self.with(|live| {
            Ok(live
                .pg()
                .and_then(|pg| pg.member_lock(postgres::MemberLockKind::AcrossCalls, member)))
        })?;
        let server = match taking {
            Some(taking) => Some(taking.await?),
            None => None,
        };
        Ok(MemberHold {
            _server: server,
            _here: here,
        })
    }

    /// Waits for the lock on every server's meetings record, held while a
    /// meetings change is worked out, made in Discord and kept (a command,
    /// the scheduler's pass, an event deleted in Discord), and by forget-me
    /// while it takes the member out of every record: so a change read
    /// before a forget-me can never write the member back in after it.
    /// One lock for every server, in this process a mutex and, where
    /// other processes share the PostgreSQL database, an advisory lock on
    /// the server too. Taken after a member's [`Store::hold_member`] and
    /// before the store's own write locks, never the other way round.
    pub async fn hold_meetings(&self) -> Result<MeetingsHold, StoreError> {
        let here = Arc::clone(&self.shared.meetings_held).lock_owned().await;
        let taking = self.with(|live| {
            Ok(live
                .pg()
                .and_then(|pg| pg.member_lock(postgres::MemberLockKind::Meetings, 0)))
        })?;
        let server = match taking {
            Some(taking) => Some(taking.await?),
            None => None,
        };
        Ok(MeetingsHold {
            _server: server,
            _here: here,
        })
    }

    fn erasures(&self) -> MutexGuard<'_, ErasureLog> {
        self.shared
            .erasures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Once after a restore, an import or a salvage (the database says so):
    /// numbers start above every hundred a member reserved.
    fn after_restore(&self) -> Result<(), StoreError> {
        if !self.with(|live| live.t.meta.contains_key(RESTORED))? {
            return Ok(());
        }
        self.raise_counters_to_reservations()?;
        self.with(|live| {
            live.t.meta.remove(RESTORED)?;
            self.commit(live)
        })
    }

    /// Keeps the erasure record's newest mark in the database, so that a
    /// record cut short or replaced later is found at the next start.
    fn keep_erasure_mark(&self) -> Result<(), StoreError> {
        let mark = self.erasures().record().mark();
        self.with(|live| {
            if live.t.meta.get(ERASURE_MARK)?.as_deref() == Some(&mark.bytes()[..]) {
                return Ok(());
            }
            live.t.meta.insert(ERASURE_MARK, &mark.bytes()[..])?;
            self.commit(live)
        })
    }

    /// Appends `prints` to the erasure record (synced), and notes its new
    /// mark in the database, to be committed with the erasure itself.
    /// Fingerprints the record already holds are not written again. On
    /// PostgreSQL, the entries the database carries for them come back, for
    /// the erasure's transaction to write ([`Carried::write`]). The caller
    /// settles the erasure with that transaction's answer
    /// ([`Carried::settle`]) before anything else it does erases.
    fn erase<'a>(
        &'a self,
        live: &'a Live,
        prints: &[envelope::Fingerprint],
    ) -> Result<Carried<'a>, StoreError> {
        let carried = self.append_erasures(live, prints)?;
        // A rewrite under way may have copied these bytes already.
        self.shared.erasures_made.fetch_add(1, Ordering::SeqCst);
        Ok(carried)
    }

    /// Names a hundred of a member's numbers in the erasure record, so that
    /// no restore gives them out again. Nothing is erased: a rewrite under
    /// way is not made to wait for another. Settled as [`Store::erase`] is.
    fn reserve_numbers<'a>(
        &'a self,
        live: &'a Live,
        print: envelope::Fingerprint,
    ) -> Result<Carried<'a>, StoreError> {
        self.append_erasures(live, &[print])
    }

    fn append_erasures<'a>(
        &'a self,
        live: &'a Live,
        prints: &[envelope::Fingerprint],
    ) -> Result<Carried<'a>, StoreError> {
        let mut carried = Carried::of(live, &self.shared.envelope, prints);
        let mut log = self.erasures();
        log.hold()?;
        // Let go again by `carried`, once it holds the record; until then
        // here.
        let appended = (|| {
            if live.t.carried.is_some() {
                log.catch_up(&self.shared.envelope)?;
            }
            log.pay_owed()?;
            let mut new: Vec<_> = prints
                .iter()
                .filter(|p| !log.all().contains(*p))
                .copied()
                .collect();
            new.sort_unstable();
            new.dedup();
            if !new.is_empty() {
                let mark = log.append(&new)?;
                if let Err(e) = live.t.meta.insert(ERASURE_MARK, &mark.bytes()[..]) {
                    // Not made: what was appended for it is taken back.
                    let _ = log.take_back(&new);
                    return Err(e);
                }
            }
            Ok::<_, StoreError>(new)
        })();
        match appended {
            Ok(new) if !new.is_empty() => {
                carried.new = new;
                carried.record = Some(log);
                carried.meta = Some(&live.t.meta);
            }
            // Nothing new is under way: the record is not held.
            Ok(_) => log.let_go(),
            Err(e) => {
                log.let_go();
                return Err(e);
            }
        }
        Ok(carried)
    }

    /// On PostgreSQL, makes this process's erasure record and the entries
    /// the database carries one, both ways: what the database carries and
    /// the record lacks (another process's erasures) is appended to the
    /// record; what the record holds and the database lacks (the database
    /// went back to an earlier point) is applied to the database again,
    /// what it names removed, and then carried by it. Returns how many
    /// records that removed (the caller rewrites the tables if any). An
    /// entry in the database that does not authenticate is refused
    /// ([`StoreError::CarriedErasures`]), and nothing is changed. On sled,
    /// nothing to do.
    fn merge_erasures(&self) -> Result<usize, StoreError> {
        if self.with(|live| Ok(live.t.carried.is_none()))? {
            return Ok(0);
        }
        let envelope = &self.shared.envelope;
        let lacking_there: Vec<envelope::Fingerprint> = self.with(|live| {
            // Held, here and in the file, so that no erasure is under way
            // (appended, and not yet made or taken back) while the record
            // and the database are read and compared; taken inside the
            // live database's lock, as an erasure takes them.
            let mut log = self.erasures();
            log.hold()?;
            let merged = carried_in(&live.t, envelope).and_then(|carried| {
                Self::merge_into(&mut log, &carried.unwrap_or_default(), envelope)
            });
            log.let_go();
            merged
        })?;
        if lacking_there.is_empty() {
            return Ok(0);
        }
        // Applied first, then carried: an entry the database carries is
        // one it has had applied.
        let removed = backup::reapply_erasures(self)?;
        self.with(|live| {
            for chunk in lacking_there.chunks(CARRY_AT_ONCE) {
                let carried = Carried::of(live, &self.shared.envelope, chunk);
                engine::Transactional::transaction(&&live.t.meta, |meta| carried.write(meta))?;
            }
            self.commit(live)
        })?;
        Ok(removed)
    }

    /// The record's side of [`Store::merge_erasures`]: appends what the
    /// database carries and `log` lacks; returns what `log` holds and the
    /// database lacks.
    fn merge_into(
        log: &mut ErasureLog,
        carried: &HashSet<envelope::Fingerprint>,
        envelope: &Envelope,
    ) -> Result<Vec<envelope::Fingerprint>, StoreError> {
        log.catch_up(envelope)?;
        log.pay_owed()?;
        // An erasure whose answer was lost committed exactly if the
        // database carries its entries (written in its transaction): one
        // it does not carry was not made, and is taken back.
        let not_made: Vec<_> = log
            .unsettled
            .iter()
            .filter(|p| !carried.contains(*p) && log.all().contains(*p))
            .copied()
            .collect();
        if !not_made.is_empty() {
            log.take_back(&not_made)?;
        }
        log.unsettled.clear();
        let mut lacking_here: Vec<_> = carried
            .iter()
            .filter(|p| !log.all().contains(*p))
            .copied()
            .collect();
        if !lacking_here.is_empty() {
            lacking_here.sort_unstable();
            log.append(&lacking_here)?;
        }
        let mut there: Vec<_> = log
            .all()
            .iter()
            .filter(|p| !carried.contains(*p))
            .copied()
            .collect();
        there.sort_unstable();
        Ok(there)
    }

    /// Since when erased bytes have been waiting for a rewrite, if they are.
    pub fn erasure_pending_since(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.with(|live| {
            Ok(live
                .t
                .meta
                .get(ERASURE_PENDING)?
                .and_then(|b| <[u8; 8]>::try_from(b.as_ref()).ok())
                .and_then(|b| DateTime::from_timestamp(i64::from_be_bytes(b), 0)))
        })
    }

    /// Rewrites the live records into a fresh generation and swaps it in
    /// atomically, then removes the old one: superseded and erased bytes
    /// leave the data directory. The automatic backups are purged of erased
    /// records too. `on_step` is told each step of the swap.
    pub fn rewrite(&self, on_step: &mut dyn FnMut(SwapStep)) -> Result<(), StoreError> {
        let _one = self
            .shared
            .rewriting
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(pg) = self.with(|live| Ok(live.pg().cloned()))? {
            return self.rewrite_postgres(&pg, on_step);
        }
        let data = self.data()?;
        // A damaged database set aside by a restore is salvaged into the
        // live one and scrubbed first: erasure reaches it too.
        let salvaged = backup::salvage_set_aside(self)?;
        self.shared.salvaged.fetch_add(salvaged, Ordering::SeqCst);
        let erasures_before = self.shared.erasures_made.load(Ordering::SeqCst);
        // The bulk of the copy is made while everyone else carries on: every
        // change made meanwhile is watched, and applied to the copy once the
        // live database is held for the swap, which is then short.
        let (fresh, watch) = {
            let guard = self
                .shared
                .live
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            let old = guard.as_ref().ok_or(StoreError::Closed)?;
            let watch = Watch::start(&old.generation()?.db);
            // The copy is synced whole before the live database is held, so
            // the swap only syncs what the catch-up adds.
            match self.copy_live(old).and_then(|fresh| {
                fresh.generation()?.sync_all()?;
                Ok(fresh)
            }) {
                Ok(fresh) => (fresh, watch),
                Err(e) => {
                    drop(watch);
                    let _ = data.remove_strays();
                    return Err(e);
                }
            }
        };
        let mut guard = self
            .shared
            .live
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let old = guard.take().ok_or(StoreError::Closed)?;
        let caught_up = watch
            .apply(&fresh.generation()?.db)
            .and_then(|()| copy_new_trees(&old.generation()?.db, &fresh.generation()?.db));
        if let Err(e) = caught_up {
            drop(fresh);
            *guard = Some(old);
            let _ = data.remove_strays();
            return Err(e);
        }
        if let Err(e) = data.adopt(fresh.generation()?, on_step) {
            // Whichever generation CURRENT names now is the live one: the
            // fresh one was synced whole before the switch was tried.
            if data.current().as_deref() != fresh.generation().ok().map(Generation::name) {
                drop(fresh);
                *guard = Some(old);
                let _ = data.remove_strays();
                return Err(e);
            }
            tracing::warn!(error = %e, "the switch to the rewritten database was not confirmed by the disk, but it holds");
        }
        drop(old);
        *guard = Some(fresh);
        drop(guard);
        data.remove_strays()?;
        on_step(SwapStep::Removed);
        backup::purge(self)?;
        // Only now is the erasure complete everywhere: a crash before this
        // line repeats the rewrite and the purge at the next start. An
        // erasure made while the copy was being made may have reached the
        // copy's log before it was applied: it waits for the next rewrite.
        if self.shared.erasures_made.load(Ordering::SeqCst) != erasures_before {
            return Ok(());
        }
        self.with(|live| {
            live.t.meta.remove(ERASURE_PENDING)?;
            self.commit(live)
        })
    }

    /// On PostgreSQL, a rewrite is a `VACUUM FULL` of every table.
    fn rewrite_postgres(
        &self,
        pg: &Pg,
        on_step: &mut dyn FnMut(SwapStep),
    ) -> Result<(), StoreError> {
        let erasures_before = self.shared.erasures_made.load(Ordering::SeqCst);
        pg.rewrite_tables()?;
        on_step(SwapStep::Removed);
        // An erasure made while a table was rewritten may have left its
        // row behind in it: it waits for the next rewrite.
        if self.shared.erasures_made.load(Ordering::SeqCst) == erasures_before {
            self.with(|live| {
                live.t.meta.remove(ERASURE_PENDING)?;
                self.commit(live)
            })?;
        }
        // The automatic backups in the local data directory go without
        // what is erased too.
        let _ = self.purge_backups();
        Ok(())
    }

    /// Rewrites the local automatic backups of a PostgreSQL store without
    /// what the erasure record names. A failure (a full disk) is logged,
    /// not returned: the rest of the upkeep (the tables' rewrite, the
    /// day's backup) goes on, and the purge is tried again at the next
    /// rewrite or merge. Whether it was done.
    fn purge_backups(&self) -> bool {
        match backup::purge(self) {
            Ok(()) => true,
            Err(e) => {
                self.shared.purged_at.store(u64::MAX, Ordering::SeqCst);
                tracing::error!(error = %e, "the automatic backups could not be rewritten without what was erased; tried again at the next upkeep");
                false
            }
        }
    }

    fn copy_live(&self, old: &Live) -> Result<Live, StoreError> {
        let generation = self.data()?.create_generation()?;
        let paced = pace::is_paced();
        let (mut piece, mut started) = (0u64, std::time::Instant::now());
        let db = &old.generation()?.db;
        for name in db.tree_names() {
            let from = db.open_tree(&name)?;
            let to = generation.db.open_tree(&name)?;
            for entry in from.iter() {
                let (k, v) = entry?;
                piece += (k.len() + v.len()) as u64;
                to.insert(k, v)?;
                if paced && piece >= pace::PIECE {
                    // Written and synced a piece at a time, with a rest
                    // after each: the others' saves find the disk free.
                    // (One sync of the log per piece; every file and folder
                    // is synced once the copy is whole.)
                    generation.commit()?;
                    started = pace::breathe(started);
                    piece = 0;
                }
            }
        }
        let t = Trees::open(&generation.db)?;
        Ok(Live {
            engine: Engine::Sled(generation),
            t,
        })
    }

    /// On PostgreSQL, takes the other processes' erasures (the entries the
    /// database carries) into this process's erasure record, and applies
    /// what the database lacks of the record (it went back meanwhile) to
    /// it again, rewriting its tables at once if that removed anything
    /// ([`Store::merge_erasures`]). Part of [`Store::maintain`]; a bot
    /// process that does not run the upkeep calls it on its own clock. On
    /// sled, nothing to do.
    pub fn share_erasures(&self) -> Result<(), StoreError> {
        if self.merge_erasures()? > 0 {
            self.rewrite(&mut |_| {})?;
        }
        // A process that does not run the upkeep (or no longer does) may
        // still keep automatic backups it wrote when it did: they go
        // without what the record names once it has grown.
        if self.on_postgres() {
            let count = self.erasures().record().mark().count;
            if self.shared.purged_at.load(Ordering::SeqCst) != count && self.purge_backups() {
                self.shared.purged_at.store(count, Ordering::SeqCst);
            }
        }
        Ok(())
    }

    /// Periodic care, called by the front-end's clock: erases held forms
    /// past their time, makes pending
    /// erasures real once they are [`ERASE_WITHIN`] old, and writes an
    /// automatic backup every [`BACKUP_EVERY`]. Returns when to call again.
    pub fn maintain(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, StoreError> {
        let later = |at: DateTime<Utc>, by| at.checked_add_signed(by).unwrap_or(at);
        // Nobody waits for the upkeep: its rewrite and backups are paced.
        let _paced = pace::Paced::start();
        let mut next = later(now, BACKUP_EVERY);
        // Held forms past their time are erased as a delete is (within
        // the same bound, by the rewrite below or at a later call).
        if let Some(due) = self.let_go_of_old_forms(now)? {
            next = next.min(later(due, chrono::Duration::seconds(1)));
        }
        self.share_erasures()?;
        if let Some(since) = self.erasure_pending_since()? {
            let start_by = later(since, ERASE_WITHIN - REWRITE_MARGIN);
            if now >= start_by {
                // Paced, but at full speed once half the margin is left,
                // so the rewrite ends within the bound however large.
                let full_speed_at = later(since, ERASE_WITHIN - REWRITE_MARGIN / 2);
                let left = (full_speed_at - now).to_std().ok();
                let _bounded =
                    pace::Paced::until(left.and_then(|l| std::time::Instant::now().checked_add(l)));
                self.rewrite(&mut |_| {})?;
            } else {
                next = next.min(start_by);
            }
        }
        let pg = self.with(|live| Ok(live.pg().cloned()))?;
        if let Some(pg) = &pg {
            pg.forget_old_turns()?;
        }
        match backup::newest_time(self.dir())? {
            Some(at) if now < later(at, BACKUP_EVERY) && at <= now => {
                next = next.min(later(at, BACKUP_EVERY));
            }
            _ => {
                // On PostgreSQL other processes change the database too:
                // the day's backup is written whatever this one did.
                if self.shared.dirty.load(Ordering::SeqCst)
                    || pg.is_some()
                    || backup::newest_time(self.dir())?.is_none()
                {
                    self.backup_now(now)?;
                }
            }
        }
        Ok(next)
    }

    /// Closes the store cleanly: makes pending erasures real, writes an
    /// automatic backup if anything changed, and seals the database so the
    /// next start can tell it is exactly as left. Every clone of this store
    /// answers [`StoreError::Closed`] afterwards.
    pub fn close(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        // Held forms past their time go now, not only by a bot's upkeep.
        self.let_go_of_old_forms(now)?;
        if self.erasure_pending_since()?.is_some() {
            self.rewrite(&mut |_| {})?;
        }
        if self.shared.dirty.load(Ordering::SeqCst) && !self.on_postgres() {
            self.backup_now(now)?;
        }
        let mut guard = self
            .shared
            .live
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(live) = guard.take() else {
            return Ok(());
        };
        let Live { engine, t } = live;
        drop(t);
        let Engine::Sled(generation) = engine else {
            // PostgreSQL: every change was committed as it was made.
            return Ok(());
        };
        let envelope = &self.shared.envelope;
        let mark = self.erasures().record().mark();
        self.data()?
            .seal(generation, &mark.bytes(), &|bytes: &[u8]| {
                envelope.seal_tag(bytes)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "companion-store-{}-{name}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[cfg(unix)]
    #[test]
    fn the_data_dir_and_the_database_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("private");
        let store = Store::open(&dir, None).unwrap();
        store
            .set_guild_settings(1, &GuildSettings { inline: true })
            .unwrap();
        store.close(Utc::now()).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        // Everything a clean close leaves: the generation, CURRENT, the seal,
        // the lock, the counter, the key, the erasure record, the backups.
        let mut stack = vec![dir.clone()];
        let mut seen = 0;
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let entry = entry.unwrap();
                let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
                let want = if entry.path().is_dir() { 0o700 } else { 0o600 };
                assert_eq!(mode, want, "{}", entry.path().display());
                if entry.path().is_dir() {
                    stack.push(entry.path());
                }
                seen += 1;
            }
        }
        assert!(seen >= 9, "{seen} entries checked");
    }

    /// A data directory made by hand (`mkdir`, mode 0755) is tightened to
    /// 0700 when the store opens, and an old database in it to 0600.
    #[cfg(unix)]
    #[test]
    fn an_existing_open_data_dir_is_tightened() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("tightened");
        let store = Store::open(&dir, None).unwrap();
        store.close(Utc::now()).unwrap();
        drop(store);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        for path in support_files(&dir) {
            let mode = if path.is_dir() { 0o755 } else { 0o644 };
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let store = Store::open(&dir, None).unwrap();
        store.close(Utc::now()).unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        for path in support_files(&dir) {
            let want = if path.is_dir() { 0o700 } else { 0o600 };
            assert_eq!(mode(&path), want, "{}", path.display());
        }
    }

    /// A merge settles the erasures whose transaction's answer was lost:
    /// one the database does not carry did not commit and is taken back,
    /// one it carries stays; an entry the database lacks that was never
    /// unsettled is one the database lost, to be applied again.
    #[test]
    fn a_merge_takes_back_an_unsure_erasure_the_database_does_not_carry() {
        let dir = temp_dir("unsettled");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(ERASURES_FILE);
        let e = Envelope::new(SecretKey::generate());
        let mut log = ErasureLog::create(&path, &e).unwrap();
        log.append(&[[1; 16], [2; 16], [3; 16]]).unwrap();
        log.unsettled = vec![[2; 16], [3; 16]];
        let carried = HashSet::from([[1; 16], [3; 16]]);
        let lacking = Store::merge_into(&mut log, &carried, &e).unwrap();
        assert!(lacking.is_empty(), "{lacking:?}");
        let kept = HashSet::from([[1; 16], [3; 16]]);
        assert_eq!(log.all(), &kept);
        assert_eq!(ErasureLog::read(&path, &e).unwrap().prints, kept);
        assert!(log.unsettled.is_empty());
        log.append(&[[4; 16]]).unwrap();
        assert_eq!(
            Store::merge_into(&mut log, &carried, &e).unwrap(),
            vec![[4; 16]]
        );
        assert!(log.all().contains(&[4; 16]));
    }

    /// A rewrite copies while others carry on: every save made during the
    /// copy is in the rewritten database, and a delete made during it keeps
    /// the erasure pending, since its bytes may have reached the copy.
    #[test]
    fn writes_made_during_a_rewrite_are_kept_and_erasures_during_it_stay_pending() {
        let f = crate::Framework::builtin().unwrap();
        let dir = temp_dir("concurrent-rewrite");
        let store = Store::open(&dir, None).unwrap();
        let save = |member: u64, text: String| {
            let draft = crate::reflections::Draft {
                title: String::new(),
                text,
                competences: vec![],
                model: "free".into(),
                mode: crate::reflections::Mode::Coaching,
                minutes: None,
            };
            store
                .add_reflection(member, |id| {
                    draft.into_reflection(id, member, Utc::now(), &f)
                })
                .unwrap()
                .id
        };
        for i in 0..300 {
            save(1, format!("before {i} {}", "x".repeat(200)));
        }
        store.delete_reflection(1, 1, Utc::now()).unwrap();
        let during = std::thread::scope(|s| {
            let writer = s.spawn(|| {
                let mut ids = Vec::new();
                for i in 0..60 {
                    ids.push(save(2, format!("during {i}")));
                }
                store.delete_reflection(1, 2, Utc::now()).unwrap();
                ids
            });
            store.rewrite(&mut |_| {}).unwrap();
            writer.join().unwrap()
        });
        let texts: Vec<String> = store
            .reflections_of(2)
            .unwrap()
            .items
            .into_iter()
            .map(|r| r.text)
            .collect();
        assert_eq!(
            texts.len(),
            during.len(),
            "a save made during the copy was lost"
        );
        assert!(store.reflection(1, 2).unwrap().is_none());
        // Whether the second delete fell inside the copy or after it, its
        // erasure is made real by the next rewrite at the latest.
        store.rewrite(&mut |_| {}).unwrap();
        assert!(store.erasure_pending_since().unwrap().is_none());
        store.close(Utc::now()).unwrap();
        drop(store);
        let store = Store::open(&dir, None).unwrap();
        assert_eq!(store.reflections_of(2).unwrap().items.len(), 60);
        assert_eq!(store.reflections_of(1).unwrap().items.len(), 298);
    }

    fn support_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap().flatten() {
                if entry.path().is_dir() {
                    stack.push(entry.path());
                }
                out.push(entry.path());
            }
        }
        out
    }
}
