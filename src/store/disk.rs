//! Persistence: the data directory's files, sled generations, durable
//! commits, the atomic swap that makes erasure real, and the seal written at
//! a clean close that lets the next start tell a damaged database from a
//! healthy one without opening it.
//!
//! ```text
//! DIR/lock         held (flock) by the one process using DIR
//! DIR/CURRENT      names the live generation, e.g. `db.7`; replaced atomically
//! DIR/db.N/        a sled database (one generation)
//! DIR/clean        written at a clean close: the generation and the SHA-256 of its files
//! DIR/seq          the number of the last synced commit (also inside the database)
//! ```
//!
//! A generation is never modified by anything but the sled instance that has
//! it open as the live database. Recovery after an unclean stop happens on a
//! copy, which replaces the original only once it has been checked. Only
//! this file touches sled's files.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::StoreError;

const CURRENT: &str = "CURRENT";
const CLEAN: &str = "clean";
const LOCK: &str = "lock";
const SEQ: &str = "seq";
/// The directory name of a database made before generations existed.
const LEGACY: &str = "db";

/// The sled cache size: small, since the data is small; sled's default is 1 GiB.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// How long to wait for another holder of the data directory to let go
/// (a store closed a moment ago in this process, a console finishing).
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// The steps of replacing the live generation, in order; a crash between any
/// two leaves exactly one complete generation named by `CURRENT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwapStep {
    /// The new generation is written and synced; `CURRENT` still names the old.
    Written,
    /// `CURRENT` names the new generation (renamed and the directory synced).
    Switched,
    /// The old generation's files are overwritten and removed.
    Removed,
}

/// The data directory, held by this process for as long as the value lives.
#[derive(Debug)]
pub(super) struct DataDir {
    path: PathBuf,
    _lock: File,
    /// The commit counter beside the database (`None` for read-only use).
    seq: Option<File>,
}

/// One open generation.
pub(super) struct Generation {
    pub(super) db: sled::Db,
    name: String,
    dir: PathBuf,
    /// sled's log file, for `fdatasync`: sled's own flush is not a sync.
    log: File,
}

/// What [`DataDir::open_live`] found.
pub(super) enum Opened {
    /// The live generation was sealed at a clean close and is unchanged.
    Clean(Generation),
    /// No database yet: a fresh, empty generation, already named by `CURRENT`.
    New(Generation),
    /// The last stop was not clean: this is a recovered copy of the live
    /// generation, to be checked and then [`DataDir::adopt`]ed or
    /// [`DataDir::discard`]ed. The original is untouched.
    Recovered(Generation),
}

impl DataDir {
    /// Creates `path` owner-only if missing and takes its lock; another
    /// process holding it is [`StoreError::Locked`].
    pub(super) fn lock(path: &Path, create: bool) -> Result<DataDir, StoreError> {
        if create {
            create_private_dir(path)?;
        } else if current_name(path)?.is_none() {
            return Err(StoreError::NoDatabase(path.to_path_buf()));
        }
        let file = private_options(OpenOptions::new().read(true).write(true).create(true))
            .open(path.join(LOCK))
            .map_err(|source| StoreError::DataDir {
                path: path.to_path_buf(),
                source,
            })?;
        take_lock(&file, path, File::try_lock)?;
        let seq = private_options(OpenOptions::new().read(true).write(true).create(true))
            .open(path.join(SEQ))
            .map_err(|source| StoreError::DataDir {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(DataDir {
            path: path.to_path_buf(),
            _lock: file,
            seq: Some(seq),
        })
    }

    /// Notes the number of a commit that has just been synced. The counter
    /// lives in the database too; a copy recovered after a crash must reach
    /// this number, or sled's recovery cut off confirmed changes. Written
    /// without a sync of its own: after a power cut it may lag behind, which
    /// only weakens the check, never fails a sound database.
    pub(super) fn note_commit(&self, seq: u64) {
        #[cfg(unix)]
        if let Some(file) = &self.seq {
            use std::os::unix::fs::FileExt;
            if let Err(e) = file.write_all_at(&seq.to_be_bytes(), 0) {
                tracing::warn!(error = %e, "cannot note the commit counter");
            }
        }
    }

    /// Sets the commit counter after a restore, synced.
    pub(super) fn reset_seq(&self, seq: u64) -> Result<(), StoreError> {
        write_atomically(&self.path, SEQ, &seq.to_be_bytes()).map_err(|source| {
            StoreError::DataDir {
                path: self.path.clone(),
                source,
            }
        })
    }

    /// The number of the last commit noted beside the database (0 if none).
    pub(super) fn committed_seq(&self) -> u64 {
        fs::read(self.path.join(SEQ))
            .ok()
            .and_then(|b| <[u8; 8]>::try_from(b.get(..8)?).ok())
            .map_or(0, u64::from_be_bytes)
    }

    /// The live generation's name, if `CURRENT` names one.
    pub(super) fn current(&self) -> Option<String> {
        current_name(&self.path).ok().flatten()
    }

    /// The directory.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the live generation: in place if it was sealed at a clean close
    /// and its files are unchanged; refused, untouched, if they changed; as a
    /// recovered copy if the last stop was not clean.
    ///
    /// `tag` authenticates the seal with the master key, so a wrong key is
    /// found before anything is opened.
    pub(super) fn open_live(&self, tag: &dyn Fn(&[u8]) -> String) -> Result<Opened, StoreError> {
        let Some(name) = current_name(&self.path)? else {
            let generation = self.create_generation()?;
            generation.sync_all()?;
            self.switch_to(&generation.name)?;
            return Ok(Opened::New(generation));
        };
        let dir = self.path.join(&name);
        match self.seal_state(&name, tag)? {
            Seal::WrongKey => Err(StoreError::KeyMismatch {
                path: self.path.clone(),
                source_name: String::new(),
            }),
            Seal::Matches => {
                // From here on the generation will change: the seal goes first.
                remove_synced(&self.path, CLEAN)?;
                Ok(Opened::Clean(open_generation(&dir, name)?))
            }
            Seal::Differs => Err(StoreError::Damaged {
                path: self.path.clone(),
                why: format!(
                    "the files of {name} changed after it was last closed cleanly (damaged disk, or altered)"
                ),
            }),
            Seal::Missing => {
                let copy = self.next_name()?;
                let target = self.path.join(&copy);
                let opened = copy_dir(&dir, &target)
                    .map_err(|source| StoreError::DataDir {
                        path: self.path.clone(),
                        source,
                    })
                    .and_then(|()| open_generation(&target, copy));
                match opened {
                    Ok(generation) => Ok(Opened::Recovered(generation)),
                    Err(e) => {
                        let _ = scrub_dir(&target);
                        Err(match e {
                            StoreError::Open { source, .. } => StoreError::Damaged {
                                path: self.path.clone(),
                                why: format!("sled cannot read it back ({source})"),
                            },
                            other => other,
                        })
                    }
                }
            }
        }
    }

    /// Whether the directory holds a database.
    pub(super) fn has_database(&self) -> Result<bool, StoreError> {
        Ok(current_name(&self.path)?.is_some())
    }

    /// The live generation's directory and whether its files are exactly as
    /// sealed at the last clean close; never writes.
    pub(super) fn inspect(
        &self,
        tag: &dyn Fn(&[u8]) -> String,
    ) -> Result<(PathBuf, Seal), StoreError> {
        let name =
            current_name(&self.path)?.ok_or_else(|| StoreError::NoDatabase(self.path.clone()))?;
        let seal = self.seal_state(&name, tag)?;
        Ok((self.path.join(name), seal))
    }

    fn seal_state(&self, name: &str, tag: &dyn Fn(&[u8]) -> String) -> Result<Seal, StoreError> {
        let Some(text) = read_optional(&self.path.join(CLEAN))? else {
            return Ok(Seal::Missing);
        };
        let mut parts = text.split_whitespace();
        let (Some(sealed_name), Some(digest), Some(mac)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Ok(Seal::Differs);
        };
        if sealed_name != name {
            return Ok(Seal::Missing);
        }
        let actual = digest_dir(&self.path.join(name)).map_err(|source| StoreError::DataDir {
            path: self.path.clone(),
            source,
        })?;
        Ok(if hex::encode(actual) != digest {
            Seal::Differs
        } else if tag(format!("{sealed_name} {digest}").as_bytes()) != mac {
            Seal::WrongKey
        } else {
            Seal::Matches
        })
    }

    /// Makes a checked, recovered or rewritten generation the live one:
    /// syncs it whole, then switches `CURRENT` to it. The generation it
    /// replaces stays until [`DataDir::remove_strays`]. `on_step` is told
    /// each step.
    pub(super) fn adopt(
        &self,
        generation: &Generation,
        on_step: &mut dyn FnMut(SwapStep),
    ) -> Result<(), StoreError> {
        generation.sync_all()?;
        on_step(SwapStep::Written);
        self.switch_to(&generation.name)?;
        on_step(SwapStep::Switched);
        Ok(())
    }

    /// Takes the lock of an existing data directory without writing
    /// anything: for checks. A directory without a lock file has no process
    /// of this version using it.
    pub(super) fn lock_readonly(path: &Path) -> Result<DataDir, StoreError> {
        if current_name(path)?.is_none() {
            return Err(StoreError::NoDatabase(path.to_path_buf()));
        }
        let file = match File::open(path.join(LOCK)) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                File::open(path).map_err(|source| StoreError::DataDir {
                    path: path.to_path_buf(),
                    source,
                })?
            }
            Err(source) => {
                return Err(StoreError::DataDir {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        take_lock(&file, path, File::try_lock_shared)?;
        Ok(DataDir {
            path: path.to_path_buf(),
            _lock: file,
            seq: None,
        })
    }

    /// Moves the live generation out of the way, untouched, under a name
    /// starting with `prefix`: a damaged database kept for salvage.
    pub(super) fn set_aside(&self, prefix: &str) -> Result<(), StoreError> {
        let Ok(Some(name)) = current_name(&self.path) else {
            return Ok(());
        };
        let err = |source| StoreError::DataDir {
            path: self.path.clone(),
            source,
        };
        let mut target = self.path.join(format!("{prefix}{name}"));
        let mut n = 1;
        while target.exists() {
            n += 1;
            target = self.path.join(format!("{prefix}{name}-{n}"));
        }
        fs::rename(self.path.join(&name), &target).map_err(err)?;
        sync_dir(&self.path).map_err(err)
    }

    /// Removes a recovered copy that failed its check.
    pub(super) fn discard(&self, generation: Generation) {
        let name = generation.name.clone();
        drop(generation);
        let _ = scrub_dir(&self.path.join(name));
    }

    /// A new, empty generation beside the live one (not yet live).
    pub(super) fn create_generation(&self) -> Result<Generation, StoreError> {
        let name = self.next_name()?;
        open_generation(&self.path.join(&name), name)
    }

    /// Removes what an interrupted swap or recovery left: every generation
    /// but the live one, and a half-written `CURRENT`.
    pub(super) fn remove_strays(&self) -> Result<(), StoreError> {
        let live = current_name(&self.path)?;
        let err = |source| StoreError::DataDir {
            path: self.path.clone(),
            source,
        };
        for entry in fs::read_dir(&self.path).map_err(err)? {
            let entry = entry.map_err(err)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_generation_name(&name) && Some(&name) != live.as_ref() {
                scrub_dir(&entry.path()).map_err(err)?;
            } else if name.ends_with(".tmp") {
                scrub_file(&entry.path()).map_err(err)?;
            }
        }
        Ok(())
    }

    /// Seals a closed generation: records the SHA-256 of its files, so the
    /// next start can open it in place only if nothing has changed them.
    pub(super) fn seal(
        &self,
        generation: Generation,
        tag: &dyn Fn(&[u8]) -> String,
    ) -> Result<(), StoreError> {
        let name = generation.name.clone();
        generation.sync_all()?;
        // sled flushes its log once more when the last handle goes: sync
        // whatever that wrote before taking the digest.
        drop(generation);
        let err = |source| StoreError::DataDir {
            path: self.path.clone(),
            source,
        };
        sync_files(&self.path.join(&name)).map_err(err)?;
        let digest = digest_dir(&self.path.join(&name)).map_err(err)?;
        let line = format!("{name} {}", hex::encode(digest));
        let mac = tag(line.as_bytes());
        write_atomically(&self.path, CLEAN, format!("{line} {mac}\n").as_bytes()).map_err(err)
    }

    fn switch_to(&self, name: &str) -> Result<(), StoreError> {
        write_atomically(&self.path, CURRENT, format!("{name}\n").as_bytes()).map_err(|source| {
            StoreError::DataDir {
                path: self.path.clone(),
                source,
            }
        })
    }

    fn next_name(&self) -> Result<String, StoreError> {
        let err = |source| StoreError::DataDir {
            path: self.path.clone(),
            source,
        };
        let mut highest = 0u64;
        for entry in fs::read_dir(&self.path).map_err(err)? {
            let name = entry.map_err(err)?.file_name();
            if let Some(n) = name
                .to_str()
                .and_then(|n| n.strip_prefix("db."))
                .and_then(|n| n.parse::<u64>().ok())
            {
                highest = highest.max(n);
            }
        }
        Ok(format!("db.{}", highest.saturating_add(1)))
    }
}

/// Takes a lock on the data directory's lock file with `try`, waiting up to
/// [`LOCK_PATIENCE`] for another holder to let go.
fn take_lock(
    file: &File,
    path: &Path,
    try_lock: fn(&File) -> Result<(), std::fs::TryLockError>,
) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    loop {
        match try_lock(file) {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < LOCK_PATIENCE => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked(path.to_path_buf()));
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(StoreError::DataDir {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
    }
}

/// Whether a generation is as sealed at its last clean close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Seal {
    /// Sealed, and unchanged since.
    Matches,
    /// Sealed, and changed since: damaged or altered.
    Differs,
    /// Not sealed: the last stop was not clean (or it is in use).
    Missing,
    /// Sealed under another master key: the key given is not this database's.
    WrongKey,
}

impl Generation {
    /// The generation's directory name (`db.3`).
    pub(super) fn name(&self) -> &str {
        &self.name
    }

    /// Makes every write so far durable: sled's flush (its buffers to the
    /// kernel), then `fdatasync` of its log (the kernel's to the disk, with
    /// the file's new size).
    pub(super) fn commit(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        self.log.sync_data().map_err(|e| StoreError::Db(e.into()))
    }

    /// Commits, then syncs every file sled made and the directories that
    /// name them, so the generation survives a power cut whole.
    pub(super) fn sync_all(&self) -> Result<(), StoreError> {
        self.commit()?;
        sync_files(&self.dir).map_err(|source| StoreError::DataDir {
            path: self.dir.clone(),
            source,
        })
    }
}

impl Generation {
    /// A generation over a scratch copy (checks), never made live.
    pub(super) fn scratch(db: sled::Db, dir: &Path) -> Result<Generation, StoreError> {
        let log = File::open(dir.join("db")).map_err(|source| StoreError::DataDir {
            path: dir.to_path_buf(),
            source,
        })?;
        Ok(Generation {
            db,
            name: String::new(),
            dir: dir.to_path_buf(),
            log,
        })
    }
}

/// A new private directory for a scratch copy, outside the data directory.
pub(super) fn scratch_dir(what: &str) -> Result<PathBuf, StoreError> {
    let path = std::env::temp_dir().join(format!(
        "companion-{what}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(&path)
        .map_err(|source| StoreError::DataDir {
            path: path.clone(),
            source,
        })?;
    Ok(path)
}

/// Opens a scratch copy of a generation (sled's recovery runs on the copy).
pub(super) fn open_scratch(dir: &Path) -> Result<sled::Db, StoreError> {
    sled_config(dir).open().map_err(|source| StoreError::Open {
        path: dir.to_path_buf(),
        source,
    })
}

fn sled_config(dir: &Path) -> sled::Config {
    sled::Config::new()
        .path(dir)
        .cache_capacity(CACHE_BYTES)
        // Every write the store confirms is flushed and synced by `commit`;
        // no background thread writes behind its back or outlives a close.
        .flush_every_ms(None)
}

fn open_generation(dir: &Path, name: String) -> Result<Generation, StoreError> {
    let db = sled_config(dir).open().map_err(|source| StoreError::Open {
        path: dir.to_path_buf(),
        source,
    })?;
    let log = File::open(dir.join("db")).map_err(|source| StoreError::DataDir {
        path: dir.to_path_buf(),
        source,
    })?;
    // sled creates files with the process's umask; these hold member data.
    restrict_tree(dir).map_err(|source| StoreError::DataDir {
        path: dir.to_path_buf(),
        source,
    })?;
    Ok(Generation {
        db,
        name,
        dir: dir.to_path_buf(),
        log,
    })
}

/// Whether `dir` holds a database (possibly damaged); reads, never writes.
pub(super) fn holds_database(dir: &Path) -> bool {
    !matches!(current_name(dir), Ok(None))
}

/// The live generation's name, from `CURRENT` (or a database from before
/// generations); `None` if there is no database.
fn current_name(dir: &Path) -> Result<Option<String>, StoreError> {
    let err = |source| StoreError::DataDir {
        path: dir.to_path_buf(),
        source,
    };
    if let Some(text) = read_optional(&dir.join(CURRENT))? {
        let name = text.trim();
        if !is_generation_name(name) || !dir.join(name).is_dir() {
            return Err(StoreError::Damaged {
                path: dir.to_path_buf(),
                why: format!("{CURRENT} does not name a database in this directory"),
            });
        }
        return Ok(Some(name.to_string()));
    }
    match fs::metadata(dir.join(LEGACY)) {
        Ok(m) if m.is_dir() => Ok(Some(LEGACY.to_string())),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(err(e)),
    }
}

fn is_generation_name(name: &str) -> bool {
    name == LEGACY
        || name
            .strip_prefix("db.")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn read_optional(path: &Path) -> Result<Option<String>, StoreError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StoreError::File {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn remove_synced(dir: &Path, name: &str) -> Result<(), StoreError> {
    let err = |source| StoreError::DataDir {
        path: dir.to_path_buf(),
        source,
    };
    fs::remove_file(dir.join(name)).map_err(err)?;
    sync_dir(dir).map_err(err)
}

/// The names the store gives to files and folders of its own in a data
/// directory, besides the generations (`db.N`) and what it set aside
/// (`damaged-…`).
const OWN_NAMES: &[&str] = &[
    CURRENT,
    CLEAN,
    SEQ,
    LOCK,
    super::envelope::ERASURES_FILE,
    super::keys::KEY_FILE,
    super::backup::BACKUPS_DIR,
];

/// Creates `dir` with mode 0700 (on Unix), or checks an existing one is a
/// directory and tightens it and the store's own files in it.
pub(super) fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    let err = |source| StoreError::DataDir {
        path: dir.to_path_buf(),
        source,
    };
    if dir.is_dir() {
        // An existing directory is tightened: it will hold member data. So is
        // everything of the store's in it (a database copied in, or a
        // directory made by hand); anything else there is left as it is.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir).map_err(err)?.permissions().mode();
            if mode & 0o077 != 0 {
                fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(err)?;
            }
            for entry in fs::read_dir(dir).map_err(err)? {
                let path = entry.map_err(err)?.path();
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                let ours = OWN_NAMES.contains(&name)
                    || name.starts_with("db.")
                    || name.starts_with("damaged-");
                if !ours {
                    continue;
                }
                if path.is_dir() && !path.is_symlink() {
                    restrict_tree(&path).map_err(err)?;
                } else if path.is_file() && !path.is_symlink() {
                    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).map_err(err)?;
                }
            }
        }
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

/// Options that create files readable and writable by their owner only.
pub(super) fn private_options(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Makes every file under `dir` 0600 and every directory 0700.
fn restrict_tree(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for path in walk(dir)? {
            // A link is never followed: its target is not the store's.
            let kind = fs::symlink_metadata(&path)?.file_type();
            if kind.is_symlink() {
                continue;
            }
            let mode = if kind.is_dir() { 0o700 } else { 0o600 };
            fs::set_permissions(&path, fs::Permissions::from_mode(mode))?;
        }
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Every file and directory under `dir`, sorted, depth first.
fn walk(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            out.push(path.clone());
            out.extend(walk(&path)?);
        } else {
            out.push(path);
        }
    }
    Ok(out)
}

/// SHA-256 over every file under `dir`: relative name, length and bytes.
pub(super) fn digest_dir(dir: &Path) -> std::io::Result<[u8; 32]> {
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    for path in walk(dir)? {
        if path.is_dir() {
            continue;
        }
        let rel = path.strip_prefix(dir).unwrap_or(&path);
        hash.update(rel.to_string_lossy().as_bytes());
        hash.update([0]);
        let mut file = File::open(&path)?;
        hash.update(file.metadata()?.len().to_be_bytes());
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
        }
    }
    Ok(hash.finalize().into())
}

/// Copies every file under `from` into a new directory `to`, owner-only,
/// and syncs them all.
pub(super) fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(to)?;
    for path in walk(from)? {
        let target = to.join(path.strip_prefix(from).unwrap_or(&path));
        if path.is_dir() {
            builder.create(&target)?;
        } else {
            let mut src = File::open(&path)?;
            let mut dst =
                private_options(OpenOptions::new().write(true).create_new(true)).open(&target)?;
            std::io::copy(&mut src, &mut dst)?;
            dst.sync_all()?;
        }
    }
    sync_tree_dirs(to)
}

/// Syncs every file under `dir`, then the directories that name them.
fn sync_files(dir: &Path) -> std::io::Result<()> {
    for path in walk(dir)? {
        if !path.is_dir() {
            File::open(&path)?.sync_all()?;
        }
    }
    sync_tree_dirs(dir)
}

fn sync_tree_dirs(dir: &Path) -> std::io::Result<()> {
    for path in walk(dir)? {
        if path.is_dir() {
            sync_dir(&path)?;
        }
    }
    sync_dir(dir)
}

/// Syncs a directory, so that names created or removed in it are durable.
pub(super) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Writes `name` in `dir` through a synced temporary file and a rename, then
/// syncs the directory: afterwards the file is either wholly old or wholly new.
pub(super) fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    let mut file =
        private_options(OpenOptions::new().write(true).create(true).truncate(true)).open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, dir.join(name))?;
    sync_dir(dir)
}

/// Overwrites an open file with zeros and syncs it.
pub(super) fn zero(file: &File) -> std::io::Result<()> {
    let len = file.metadata()?.len();
    let zeros = vec![0u8; 64 * 1024];
    let mut left = len;
    let mut out = file;
    out.seek(std::io::SeekFrom::Start(0))?;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        out.write_all(&zeros[..n])?;
        left -= n as u64;
    }
    file.sync_data()
}

/// Overwrites a file with zeros, syncs it, then removes it. On an ordinary
/// disk this leaves nothing of it to read through the filesystem; see
/// SECURITY.md for what a copy-on-write filesystem or an SSD may keep.
pub(super) fn scrub_file(path: &Path) -> std::io::Result<()> {
    if let Ok(file) = OpenOptions::new().write(true).open(path) {
        zero(&file)?;
    }
    match fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Scrubs every file under `dir`, then removes it.
pub(super) fn scrub_dir(dir: &Path) -> std::io::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    for path in walk(dir)? {
        if !path.is_dir() {
            scrub_file(&path)?;
        }
    }
    fs::remove_dir_all(dir)?;
    if let Some(parent) = dir.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}
