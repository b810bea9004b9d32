//! Durable state in an embedded sled database: one tree per record kind.
//!
//! sled stays inside this module; front-ends call typed methods. Every write
//! that a user is told about is flushed before the method returns, because
//! sled loses unflushed writes on a crash (see `../shared/notes`).

mod backup;
pub mod crypto;
mod keys;
mod members;
mod reflections;
mod schedules;
mod settings;

use std::fs;
use std::path::{Path, PathBuf};

pub use backup::Report;
pub use crypto::{CryptoError, SecretKey};
pub use keys::{KEY_ENV, KEY_FILE};
pub use members::Reminder;
pub use reflections::Page;
pub use schedules::{ScheduleRecord, SlotState, Week};
pub use settings::GuildSettings;

/// Trees (record kinds) in the database.
mod trees {
    /// Per-server settings, keyed by guild id (big-endian u64).
    pub const GUILD_SETTINGS: &str = "guild_settings";
    /// Facts about the database itself (the key check).
    pub const META: &str = "meta";
    /// Each member's data key, wrapped by the master key; keyed by member id.
    pub const MEMBER_KEYS: &str = "member_keys";
    /// Reflections, sealed with their author's data key; keyed by member id then reflection id.
    pub const REFLECTIONS: &str = "reflections";
    /// Each member's next reflection number; keyed by member id.
    pub const COUNTERS: &str = "counters";
    /// Each server's weekly schedule; keyed by guild id.
    pub const SCHEDULES: &str = "schedules";
    /// Claimed and posted weekly slots; keyed by guild id then slot time.
    pub const SLOTS: &str = "slots";
    /// Each server's reflection counts per competence (counts only).
    pub const GROUP_COUNTS: &str = "group_counts";
    /// Each member's own settings (the weekly reminder); keyed by member id.
    pub const MEMBER_SETTINGS: &str = "member_settings";
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
    /// Another process holds the database.
    #[error(
        "the data directory {0} is in use by another companion process; stop it first, or give this one its own --data-dir"
    )]
    Locked(PathBuf),
    /// sled refused to open the database.
    #[error(
        "cannot open the database in {path}: {source}. Nothing was changed. If it is damaged, restore a backup into a new data directory with `companion db import`."
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
        "the database in {0} is encrypted, but no key was found: set {KEY_ENV} or restore {KEY_FILE} into the data directory. Without the key the reflections cannot be read."
    )]
    KeyMissing(PathBuf),
    /// The key given does not open this database.
    #[error(
        "the key from {source_name} does not open the database in {path}: it belongs to another database, or was changed. Nothing was modified."
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
    /// A backup file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// Encryption or decryption failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// The database and its trees.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    guild_settings: sled::Tree,
    member_keys: sled::Tree,
    reflections: sled::Tree,
    counters: sled::Tree,
    schedules: sled::Tree,
    slots: sled::Tree,
    group_counts: sled::Tree,
    member_settings: sled::Tree,
    master: SecretKey,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

/// The sled cache size: small, since the data is small; sled's default is 1 GiB.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;

impl Store {
    /// Opens (creating if needed) the database in `dir`, which is created
    /// readable by its owner only. The master key is `key` if given (from
    /// `COMPANION_KEY`), else the key file in `dir`, created for a new
    /// database. A database whose key is missing or wrong is refused untouched.
    pub fn open(dir: &Path, key: Option<SecretKey>) -> Result<Store, StoreError> {
        create_private_dir(dir)?;
        let db = open_db(dir)?;
        let meta = db.open_tree(trees::META)?;
        let master = keys::master_key(dir, &meta, key)?;
        Ok(Store {
            guild_settings: db.open_tree(trees::GUILD_SETTINGS)?,
            member_keys: db.open_tree(trees::MEMBER_KEYS)?,
            reflections: db.open_tree(trees::REFLECTIONS)?,
            counters: db.open_tree(trees::COUNTERS)?,
            schedules: db.open_tree(trees::SCHEDULES)?,
            slots: db.open_tree(trees::SLOTS)?,
            group_counts: db.open_tree(trees::GROUP_COUNTS)?,
            member_settings: db.open_tree(trees::MEMBER_SETTINGS)?,
            db,
            master,
        })
    }

    /// Opens with the key from the environment (`COMPANION_KEY`) when set.
    pub fn open_with_env_key(dir: &Path) -> Result<Store, StoreError> {
        Store::open(dir, keys::key_from_env()?)
    }

    /// Writes everything to disk; returns once it is durable against a crash.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}

/// How long to wait for sled's lock to be released: a database closed a
/// moment ago in this process keeps its lock until sled's background flusher
/// lets go (up to its 500 ms flush interval). Another process holding the
/// database is reported once this has passed.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

fn open_db(dir: &Path) -> Result<sled::Db, StoreError> {
    let started = std::time::Instant::now();
    loop {
        let opened = sled::Config::new()
            .path(dir.join("db"))
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(|source| classify_open_error(dir, source));
        match opened {
            Err(StoreError::Locked(_)) if started.elapsed() < LOCK_PATIENCE => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

fn classify_open_error(dir: &Path, source: sled::Error) -> StoreError {
    let locked = matches!(&source, sled::Error::Io(e) if e.kind() == std::io::ErrorKind::WouldBlock)
        || source.to_string().contains("could not acquire lock");
    if locked {
        StoreError::Locked(dir.to_path_buf())
    } else {
        StoreError::Open {
            path: dir.to_path_buf(),
            source,
        }
    }
}

/// Creates `dir` with mode 0700 (on Unix), or checks an existing one is a directory.
fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    let err = |source| StoreError::DataDir {
        path: dir.to_path_buf(),
        source,
    };
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(err)
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
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[cfg(unix)]
    #[test]
    fn the_data_dir_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("private");
        let _store = Store::open(&dir, None).unwrap();
        let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }
}
