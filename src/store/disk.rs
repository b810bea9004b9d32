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
//! DIR/scratch/     private copies a check or a salvage reads; cleared at every start
//! ```
//!
//! Nothing here follows a symbolic link inside the data directory (the
//! directory's own path may be one): a link where a file of the store's
//! should be is damage, and a stray one is removed as a link. Every
//! directory entry the store makes or removes is synced before anything
//! that depends on it is confirmed, and so is every file sled writes
//! (its log, its blob files, its snapshots), not only the log.
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
/// Private copies for checks and salvage, inside the data directory.
const SCRATCH: &str = "scratch";
/// Present while an import into the directory has not finished: what is
/// there was never confirmed, and the import starts over when run again.
const IMPORTING: &str = "importing";
/// The directory name of a database made before generations existed.
const LEGACY: &str = "db";

/// The sled cache size: small, since the data is small; sled's default is 1 GiB.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// How long to wait for another holder of the data directory to let go
/// (a store closed a moment ago in this process, a console finishing).
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// How long to wait for sled's own lock on a generation that a handle in
/// this process, just dropped, still holds: sled lets go from its threads,
/// and on a loaded machine that was seen to take over 2 s. Only this process
/// can hold it (the data directory's lock keeps others out), so waiting
/// longer delays no refusal.
const SLED_LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(15);

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
    /// The commit counter beside the database, once the database is known.
    seq: std::sync::Mutex<Option<File>>,
}

/// One open generation.
pub(super) struct Generation {
    pub(super) db: sled::Db,
    name: String,
    dir: PathBuf,
    /// sled's log file, for `fdatasync`: sled's own flush is not a sync.
    log: File,
    /// The names in the generation's folder and in its `blobs/` that are
    /// known to be synced with their directory.
    synced: std::sync::Mutex<Listing>,
}

/// The entries of a generation's folder and of its `blobs/`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Listing {
    top: std::collections::BTreeSet<std::ffi::OsString>,
    blobs: std::collections::BTreeSet<std::ffi::OsString>,
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

fn damaged(path: &Path, why: String) -> StoreError {
    StoreError::Damaged {
        path: path.to_path_buf(),
        why,
    }
}

impl DataDir {
    /// Creates `path` owner-only if missing (with `create`) and takes its
    /// lock; another process holding it is [`StoreError::Locked`]. A
    /// directory owned by another user, or with a link where a file of the
    /// store's should be, is refused before anything is written.
    pub(super) fn lock(path: &Path, create: bool) -> Result<DataDir, StoreError> {
        if create && fs::symlink_metadata(path).is_err() {
            create_private_dir(path)?;
        } else if create && !path.is_dir() {
            return Err(damaged(
                path,
                "it is not a folder (a link to one is not followed, or a file)".into(),
            ));
        } else if !path.is_dir() {
            return Err(StoreError::NoDatabase(path.to_path_buf()));
        }
        check_entries(path)?;
        if !create && survey(path)?.is_none() {
            return Err(StoreError::NoDatabase(path.to_path_buf()));
        }
        let file = private_options(OpenOptions::new().read(true).write(true).create(true))
            .open(path.join(LOCK))
            .map_err(|source| StoreError::DataDir {
                path: path.to_path_buf(),
                source,
            })?;
        take_lock(&file, path, File::try_lock)?;
        Ok(DataDir {
            path: path.to_path_buf(),
            _lock: file,
            seq: std::sync::Mutex::new(None),
        })
    }

    /// Marks the directory as being imported into (synced before anything
    /// else is written). What an earlier import that did not finish left
    /// is scrubbed first; the key file, which the import only reads, stays.
    pub(super) fn begin_import(&self) -> Result<(), StoreError> {
        let err = |source| StoreError::DataDir {
            path: self.path.clone(),
            source,
        };
        if fs::symlink_metadata(self.path.join(IMPORTING)).is_ok() {
            for entry in fs::read_dir(&self.path).map_err(err)? {
                let entry = entry.map_err(err)?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let keep = [IMPORTING, LOCK, super::keys::KEY_FILE].contains(&name.as_str());
                if !(is_own_name(&name) && !keep || name.ends_with(".tmp")) {
                    continue;
                }
                if entry.file_type().map_err(err)?.is_dir() {
                    scrub_dir(&entry.path()).map_err(err)?;
                } else {
                    scrub_file(&entry.path()).map_err(err)?;
                }
            }
        }
        write_atomically(
            &self.path,
            IMPORTING,
            b"an import into this directory has not finished\n",
        )
        .map_err(err)
    }

    /// The import is whole (installed, synced and sealed): the mark goes.
    pub(super) fn end_import(&self) -> Result<(), StoreError> {
        remove_synced(&self.path, IMPORTING)
    }

    /// Notes the number of a commit that has just been synced, and syncs it
    /// too. The counter lives in the database as well; a copy recovered
    /// after a crash must reach this number, or sled's recovery cut off
    /// confirmed changes.
    pub(super) fn note_commit(&self, seq: u64) -> Result<(), StoreError> {
        let mut guard = self.seq.lock().unwrap_or_else(|e| e.into_inner());
        let err = |source| StoreError::DataDir {
            path: self.path.join(SEQ),
            source,
        };
        if guard.is_none() {
            *guard = Some(open_no_follow(&self.path.join(SEQ), true).map_err(err)?);
        }
        let Some(file) = guard.as_ref() else {
            return Ok(());
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileExt;
            file.write_all_at(&seq.to_be_bytes(), 0).map_err(err)?;
        }
        file.sync_data().map_err(err)
    }

    /// Sets the commit counter (a new database, a restore), synced with its
    /// directory.
    pub(super) fn reset_seq(&self, seq: u64) -> Result<(), StoreError> {
        let mut guard = self.seq.lock().unwrap_or_else(|e| e.into_inner());
        *guard = None;
        write_atomically(&self.path, SEQ, &seq.to_be_bytes()).map_err(|source| {
            StoreError::DataDir {
                path: self.path.clone(),
                source,
            }
        })
    }

    /// The number of the last commit noted beside the database; `None` if
    /// the counter is missing or damaged.
    pub(super) fn committed_seq(&self) -> Option<u64> {
        read_seq(&self.path)
    }

    /// The live generation's name, if `CURRENT` names one.
    pub(super) fn current(&self) -> Option<String> {
        survey(&self.path).ok().flatten()
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
    /// `key_proven`: the erasure record has already shown the key to be
    /// this database's, so a seal that does not authenticate was damaged,
    /// and is treated as no seal (the stop is taken as unclean and the
    /// database recovered and checked against the commit counter).
    pub(super) fn open_live(
        &self,
        tag: &dyn Fn(&[u8]) -> String,
        key_proven: bool,
    ) -> Result<Opened, StoreError> {
        let Some(name) = survey(&self.path)? else {
            // A first start: whatever an interrupted first start left (it
            // confirmed nothing, or `survey` would have called it damage)
            // goes, then the new generation is synced before `CURRENT`
            // names it.
            self.remove_strays()?;
            let generation = self.create_generation()?;
            generation.sync_all()?;
            self.reset_seq(0)?;
            self.switch_to(&generation.name)?;
            return Ok(Opened::New(generation));
        };
        let dir = self.path.join(&name);
        let seal = match self.seal_state(&name, tag)? {
            Seal::WrongKey if key_proven => Seal::Damaged,
            seal => seal,
        };
        match seal {
            Seal::WrongKey => Err(StoreError::KeyMismatch {
                path: self.path.clone(),
                source_name: String::new(),
            }),
            Seal::Matches => {
                if self.committed_seq().is_none() {
                    // Sealed whole: the counter comes back from the database.
                    let db = open_generation(&dir, name.clone())?;
                    let seq = db
                        .db
                        .open_tree(super::trees::META)?
                        .get(super::COMMIT_SEQ)?;
                    drop(db);
                    self.reset_seq(super::be_u64(seq.as_deref()))?;
                    return self.open_live(tag, key_proven);
                }
                // From here on the generation will change: the seal goes first.
                remove_synced(&self.path, CLEAN)?;
                Ok(Opened::Clean(open_generation(&dir, name)?))
            }
            Seal::Differs => Err(damaged(
                &self.path,
                format!(
                    "the files of {name} changed after it was last closed cleanly (damaged disk, or altered)"
                ),
            )),
            Seal::Missing | Seal::Damaged => {
                if self.committed_seq().is_none() && name != LEGACY {
                    return Err(damaged(
                        &self.path,
                        format!(
                            "the last stop was not clean and the commit counter `{SEQ}` beside it is missing or damaged, so what was confirmed last cannot be told"
                        ),
                    ));
                }
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
                            StoreError::Open { source, .. } => {
                                damaged(&self.path, format!("sled cannot read it back ({source})"))
                            }
                            other => other,
                        })
                    }
                }
            }
        }
    }

    /// Whether the directory holds a database. One whose `CURRENT` is
    /// missing or damaged while anything was ever confirmed in it is
    /// [`StoreError::Damaged`], never "no database".
    pub(super) fn has_database(&self) -> Result<bool, StoreError> {
        Ok(survey(&self.path)?.is_some())
    }

    /// The live generation's directory and whether its files are exactly as
    /// sealed at the last clean close; never writes.
    pub(super) fn inspect(
        &self,
        tag: &dyn Fn(&[u8]) -> String,
    ) -> Result<(PathBuf, Seal), StoreError> {
        let name = survey(&self.path)?.ok_or_else(|| StoreError::NoDatabase(self.path.clone()))?;
        let seal = self.seal_state(&name, tag)?;
        Ok((self.path.join(name), seal))
    }

    fn seal_state(&self, name: &str, tag: &dyn Fn(&[u8]) -> String) -> Result<Seal, StoreError> {
        let text = match read_optional(&self.path.join(CLEAN)) {
            Ok(Some(text)) => text,
            Ok(None) => return Ok(Seal::Missing),
            // Not text at all: the seal itself was damaged.
            Err(StoreError::File { source, .. }) if source.kind() == ErrorKind::InvalidData => {
                return Ok(Seal::Damaged);
            }
            Err(e) => return Err(e),
        };
        let Some((line, mac)) = text.trim_end().rsplit_once(' ') else {
            return Ok(Seal::Damaged);
        };
        let mut parts = line.split(' ');
        let (Some(sealed_name), Some(digest)) = (parts.next(), parts.next()) else {
            return Ok(Seal::Damaged);
        };
        if tag(line.as_bytes()) != mac {
            // Either another key, or the seal itself was changed: the MAC
            // cannot tell which, so neither is trusted and nothing opens.
            return Ok(Seal::WrongKey);
        }
        if sealed_name != name {
            return Ok(Seal::Missing);
        }
        let actual = digest_dir(&self.path.join(name)).map_err(|source| StoreError::DataDir {
            path: self.path.clone(),
            source,
        })?;
        Ok(if hex::encode(actual) != digest {
            Seal::Differs
        } else {
            Seal::Matches
        })
    }

    /// The erasure record's mark kept in the seal of the last clean close,
    /// if the seal authenticates and names the live generation.
    pub(super) fn sealed_mark(&self, tag: &dyn Fn(&[u8]) -> String) -> Option<Vec<u8>> {
        let text = read_optional(&self.path.join(CLEAN)).ok()??;
        let (line, mac) = text.trim_end().rsplit_once(' ')?;
        if tag(line.as_bytes()) != mac {
            return None;
        }
        let mut parts = line.split(' ');
        let name = parts.next()?;
        if Some(name.to_string()) != survey(&self.path).ok()? {
            return None;
        }
        hex::decode(parts.nth(1)?).ok()
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
        // The generation's own name in the data directory, before `CURRENT`
        // names it.
        sync_dir(&self.path).map_err(|source| StoreError::DataDir {
            path: self.path.clone(),
            source,
        })?;
        on_step(SwapStep::Written);
        self.switch_to(&generation.name)?;
        on_step(SwapStep::Switched);
        Ok(())
    }

    /// Takes the lock of an existing data directory, to read it: for checks,
    /// which write nothing but their private copy in `scratch/`. Exclusive,
    /// so no start, restore or other check changes it meanwhile. A directory
    /// without a lock file has no process of this version using it.
    pub(super) fn lock_readonly(path: &Path) -> Result<DataDir, StoreError> {
        if !path.is_dir() {
            return Err(StoreError::NoDatabase(path.to_path_buf()));
        }
        check_entries(path)?;
        if survey(path)?.is_none() {
            return Err(StoreError::NoDatabase(path.to_path_buf()));
        }
        let file = match open_no_follow(&path.join(LOCK), false) {
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
        take_lock(&file, path, File::try_lock)?;
        Ok(DataDir {
            path: path.to_path_buf(),
            _lock: file,
            seq: std::sync::Mutex::new(None),
        })
    }

    /// Moves the live generation out of the way, untouched, under a name
    /// starting with `prefix`: a damaged database kept for salvage. With no
    /// readable `CURRENT`, every generation is moved aside, so nothing of a
    /// database whose pointer was lost is ever scrubbed as a stray.
    pub(super) fn set_aside(&self, prefix: &str) -> Result<(), StoreError> {
        let err = |source| StoreError::DataDir {
            path: self.path.clone(),
            source,
        };
        let names = match survey(&self.path) {
            Ok(Some(name)) => vec![name],
            Ok(None) | Err(_) => generation_names(&self.path).map_err(err)?,
        };
        for name in names {
            let mut target = self.path.join(format!("{prefix}{name}"));
            let mut n = 1;
            while fs::symlink_metadata(&target).is_ok() {
                n += 1;
                target = self.path.join(format!("{prefix}{name}-{n}"));
            }
            fs::rename(self.path.join(&name), &target).map_err(err)?;
        }
        if let Err(e) = fs::remove_file(self.path.join(CURRENT))
            && e.kind() != ErrorKind::NotFound
        {
            return Err(err(e));
        }
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

    /// A new, empty private folder for a copy that a check or a salvage
    /// reads, inside the data directory, so that erasure reaches it and no
    /// copy of the database is ever left elsewhere. Every start clears them.
    pub(super) fn scratch(&self, what: &str) -> Result<PathBuf, StoreError> {
        let err = |source| StoreError::DataDir {
            path: self.path.join(SCRATCH),
            source,
        };
        let folder = self.path.join(SCRATCH);
        create_private_dir(&folder)?;
        let path = folder.join(what);
        scrub_dir(&path).map_err(err)?;
        let mut builder = fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(&path).map_err(err)?;
        Ok(path)
    }

    /// Removes what an interrupted swap, recovery, backup, check or salvage
    /// left: every generation but the live one, half-written files (`*.tmp`,
    /// here and in `backups/`), and the scratch copies. A stray link is
    /// removed as a link; what it points to is never touched.
    pub(super) fn remove_strays(&self) -> Result<(), StoreError> {
        let live = survey(&self.path)?;
        let err = |source| StoreError::DataDir {
            path: self.path.clone(),
            source,
        };
        for folder in [
            self.path.clone(),
            self.path.join(super::backup::BACKUPS_DIR),
        ] {
            let entries = match fs::read_dir(&folder) {
                Ok(entries) => entries,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(err(e)),
            };
            for entry in entries {
                let entry = entry.map_err(err)?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let top = folder == self.path;
                let stray = name.ends_with(".tmp")
                    || top && name == SCRATCH
                    || top && is_generation_name(&name) && Some(&name) != live.as_ref();
                if !stray {
                    continue;
                }
                if entry.file_type().map_err(err)?.is_symlink() {
                    fs::remove_file(entry.path()).map_err(err)?;
                } else if entry.file_type().map_err(err)?.is_dir() {
                    scrub_dir(&entry.path()).map_err(err)?;
                } else {
                    scrub_file(&entry.path()).map_err(err)?;
                }
                sync_dir(&folder).map_err(err)?;
            }
        }
        Ok(())
    }

    /// Seals a closed generation: records the SHA-256 of its files, so the
    /// next start can open it in place only if nothing has changed them.
    pub(super) fn seal(
        &self,
        generation: Generation,
        mark: &[u8],
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
        // The erasure record's mark goes into the seal too, so the next start
        // checks the record before it writes anything.
        let line = format!("{name} {} {}", hex::encode(digest), hex::encode(mark));
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
                .map(|n| n.strip_prefix(DAMAGED_PREFIX).unwrap_or(n))
                .and_then(|n| n.strip_prefix("db."))
                .and_then(|n| n.split('-').next())
                .and_then(|n| n.parse::<u64>().ok())
            {
                highest = highest.max(n);
            }
        }
        Ok(format!("db.{}", highest.saturating_add(1)))
    }
}

/// The prefix of a damaged database set aside for salvage.
pub(super) const DAMAGED_PREFIX: &str = "damaged-";

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
    /// The seal does not authenticate with this key: the key given is not
    /// this database's (or the seal was altered).
    WrongKey,
    /// There is a seal, but it is not one (not text, or not in its form):
    /// it was damaged, and says nothing about the database.
    Damaged,
}

impl Generation {
    /// The generation's directory name (`db.3`).
    pub(super) fn name(&self) -> &str {
        &self.name
    }

    /// Makes every write so far durable: sled's flush (its buffers to the
    /// kernel), then every file sled has made since the last commit (blob
    /// files, snapshots) and the folders that name them, then `fdatasync` of
    /// its log (the kernel's to the disk, with the file's new size). The log
    /// goes last, so it never names a blob that the disk does not hold.
    pub(super) fn commit(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        self.sync_new_files()
            .map_err(|source| StoreError::DataDir {
                path: self.dir.clone(),
                source,
            })?;
        self.log.sync_data().map_err(|e| StoreError::Db(e.into()))
    }

    /// Syncs the files that appeared in the generation's folder or its
    /// `blobs/` since the last call, and each folder whose names changed.
    fn sync_new_files(&self) -> std::io::Result<()> {
        let mut known = self.synced.lock().unwrap_or_else(|e| e.into_inner());
        let now = listing(&self.dir)?;
        if now == *known {
            return Ok(());
        }
        for (folder, names, before) in [
            (self.dir.clone(), &now.top, &known.top),
            (self.dir.join("blobs"), &now.blobs, &known.blobs),
        ] {
            if names == before {
                continue;
            }
            for name in names.difference(before) {
                let path = folder.join(name);
                if fs::symlink_metadata(&path)?.is_file() {
                    open_no_follow(&path, false)?.sync_all()?;
                }
            }
            if folder.exists() {
                sync_dir(&folder)?;
            }
        }
        if now.blobs != known.blobs || now.top != known.top {
            sync_dir(&self.dir)?;
        }
        *known = now;
        Ok(())
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

/// The names in a generation's folder and its `blobs/`.
fn listing(dir: &Path) -> std::io::Result<Listing> {
    let names = |folder: &Path| -> std::io::Result<std::collections::BTreeSet<_>> {
        match fs::read_dir(folder) {
            Ok(entries) => entries.map(|e| e.map(|e| e.file_name())).collect(),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(Default::default()),
            Err(e) => Err(e),
        }
    };
    Ok(Listing {
        top: names(dir)?,
        blobs: names(&dir.join("blobs"))?,
    })
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
            synced: std::sync::Mutex::new(Listing::default()),
        })
    }
}

/// Opens a scratch copy of a generation (sled's recovery runs on the copy).
pub(super) fn open_scratch(dir: &Path) -> Result<sled::Db, StoreError> {
    open_sled(dir)
}

fn sled_config(dir: &Path) -> sled::Config {
    sled::Config::new()
        .path(dir)
        .cache_capacity(CACHE_BYTES)
        // Every write the store confirms is flushed and synced by `commit`;
        // no background thread writes behind its back or outlives a close.
        .flush_every_ms(None)
}

/// Opens sled at `dir`, first waiting (see [`wait_for_sled_lock`]) for a
/// handle this process dropped a moment ago to let go of sled's lock.
fn open_sled(dir: &Path) -> Result<sled::Db, StoreError> {
    wait_for_sled_lock(dir)?;
    sled_config(dir).open().map_err(|source| StoreError::Open {
        path: dir.to_path_buf(),
        source,
    })
}

/// Waits up to [`SLED_LOCK_PATIENCE`] until nothing holds sled's lock on
/// `dir/db`. sled locks that file with `flock` and lets go only when the last
/// of its threads drops the file, which can be after the handle itself was
/// dropped; its own open does not wait, and reports a lock held as an error
/// of kind `Other`, so the wait is done here, probing with the same `flock`.
/// A file that cannot be probed is left for sled's open to report.
fn wait_for_sled_lock(dir: &Path) -> Result<(), StoreError> {
    let Ok(file) = open_no_follow(&dir.join("db"), false) else {
        return Ok(());
    };
    let started = std::time::Instant::now();
    loop {
        match file.try_lock() {
            // Dropping the probe lets go of the lock it just took.
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < SLED_LOCK_PATIENCE => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            // Still held: sled's open says so, naming the file.
            Err(std::fs::TryLockError::WouldBlock) => return Ok(()),
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(StoreError::DataDir {
                    path: dir.to_path_buf(),
                    source,
                });
            }
        }
    }
}

fn open_generation(dir: &Path, name: String) -> Result<Generation, StoreError> {
    let err = |source| StoreError::DataDir {
        path: dir.to_path_buf(),
        source,
    };
    if fs::symlink_metadata(dir).is_ok_and(|m| !m.is_dir()) {
        return Err(StoreError::Damaged {
            path: dir.to_path_buf(),
            why: "it is not a folder of the store's (a link or a file)".into(),
        });
    }
    let db = open_sled(dir)?;
    let log = open_no_follow(&dir.join("db"), false).map_err(err)?;
    // sled creates files with the process's umask; these hold member data.
    restrict_tree(dir).map_err(err)?;
    // Whatever sled wrote in opening it is synced now, so the first commit
    // knows which files are new.
    sync_files(dir).map_err(err)?;
    let known = listing(dir).map_err(err)?;
    Ok(Generation {
        db,
        name,
        dir: dir.to_path_buf(),
        log,
        synced: std::sync::Mutex::new(known),
    })
}

/// Whether `dir` holds a database (possibly damaged); reads, never writes.
pub(super) fn holds_database(dir: &Path) -> bool {
    !matches!(survey(dir), Ok(None))
}

/// The live generation's name, from `CURRENT` (or a database from before
/// generations); `None` if the directory holds no database. A directory
/// without a readable `CURRENT` in which anything was ever confirmed (a
/// commit counted, a clean close, an erasure, a backup, a database set
/// aside) is damaged, never new: only an interrupted first start, which
/// confirmed nothing, leaves generations without `CURRENT` that may go.
fn survey(dir: &Path) -> Result<Option<String>, StoreError> {
    let err = |source| StoreError::DataDir {
        path: dir.to_path_buf(),
        source,
    };
    if fs::symlink_metadata(dir).is_err_and(|e| e.kind() == ErrorKind::NotFound) {
        return Ok(None);
    }
    if fs::symlink_metadata(dir.join(IMPORTING)).is_ok() {
        return Err(StoreError::ImportInterrupted(dir.to_path_buf()));
    }
    let current = read_optional(&dir.join(CURRENT)).map_err(|e| match e {
        StoreError::File { source, .. } => {
            damaged(dir, format!("its {CURRENT} file cannot be read ({source})"))
        }
        other => other,
    })?;
    if let Some(text) = current {
        let name = text.trim();
        let real_dir = fs::symlink_metadata(dir.join(name)).is_ok_and(|m| m.is_dir());
        if !is_generation_name(name) || !real_dir {
            return Err(damaged(
                dir,
                format!("{CURRENT} does not name a database in this directory"),
            ));
        }
        return Ok(Some(name.to_string()));
    }
    match fs::symlink_metadata(dir.join(LEGACY)) {
        Ok(m) if m.is_dir() => return Ok(Some(LEGACY.to_string())),
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(err(e)),
    }
    let mut evidence = Vec::new();
    if read_seq(dir).is_none_or(|n| n > 0) && fs::symlink_metadata(dir.join(SEQ)).is_ok() {
        evidence.push(format!("its commit counter `{SEQ}` counts changes"));
    }
    if fs::symlink_metadata(dir.join(CLEAN)).is_ok() {
        evidence.push("it was closed cleanly before".to_string());
    }
    let erasures = dir.join(super::envelope::ERASURES_FILE);
    if let Ok(m) = fs::symlink_metadata(&erasures)
        && m.len() > super::envelope::EMPTY_RECORD_LEN
    {
        evidence.push("its erasure record holds erasures".to_string());
    }
    let backups = dir.join(super::backup::BACKUPS_DIR);
    if fs::read_dir(&backups).is_ok_and(|mut e| e.next().is_some())
        || fs::symlink_metadata(&backups).is_ok_and(|m| !m.is_dir())
    {
        evidence.push("it holds automatic backups".to_string());
    }
    for entry in fs::read_dir(dir).map_err(err)? {
        let name = entry.map_err(err)?.file_name();
        if name.to_string_lossy().starts_with(DAMAGED_PREFIX) {
            evidence.push("a damaged database is set aside in it".to_string());
            break;
        }
    }
    if evidence.is_empty() {
        return Ok(None);
    }
    Err(damaged(
        dir,
        format!(
            "its {CURRENT} file, which names the live database, is missing, though {}",
            evidence.join(" and ")
        ),
    ))
}

/// The counter `seq` beside the database: exactly 8 bytes, or `None`.
fn read_seq(dir: &Path) -> Option<u64> {
    let mut file = open_no_follow(&dir.join(SEQ), false).ok()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    <[u8; 8]>::try_from(bytes.as_slice())
        .ok()
        .map(u64::from_be_bytes)
}

/// The generations in `dir` (`db.N` and a database from before them).
fn generation_names(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_generation_name(&name) && entry.file_type()?.is_dir() {
            out.push(name);
        }
    }
    out.sort();
    Ok(out)
}

fn is_generation_name(name: &str) -> bool {
    name == LEGACY
        || name
            .strip_prefix("db.")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn read_optional(path: &Path) -> Result<Option<String>, StoreError> {
    let read = open_no_follow(path, false).and_then(|mut f| {
        let mut text = String::new();
        f.read_to_string(&mut text).map(|_| text)
    });
    match read {
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
    IMPORTING,
    CLEAN,
    SEQ,
    LOCK,
    SCRATCH,
    super::envelope::ERASURES_FILE,
    super::keys::KEY_FILE,
    super::backup::BACKUPS_DIR,
];

fn is_own_name(name: &str) -> bool {
    OWN_NAMES.contains(&name) || is_generation_name(name) || name.starts_with(DAMAGED_PREFIX)
}

/// The user this process runs as.
#[cfg(unix)]
fn effective_uid() -> u32 {
    // SAFETY: geteuid takes no arguments, cannot fail and touches no memory.
    unsafe { libc::geteuid() }
}

/// Refuses a data directory that another user owns, or that has a link,
/// an entry owned by another user, or an entry its owner cannot read and
/// write, where the store keeps its files (the live generation and the
/// backups included). Reads only.
fn check_entries(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        let me = effective_uid();
        let err = |source| StoreError::DataDir {
            path: dir.to_path_buf(),
            source,
        };
        let meta = fs::metadata(dir).map_err(err)?;
        check_one(dir, dir, &meta, me)?;
        let mut to_check = Vec::new();
        for entry in fs::read_dir(dir).map_err(err)? {
            let entry = entry.map_err(err)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            // Strays (`*.tmp`, old generations) are removed as they are.
            if is_own_name(&name) && !name.ends_with(".tmp") {
                to_check.push((name, entry.path()));
            }
        }
        let live = read_optional(&dir.join(CURRENT)).ok().flatten();
        let live = live.as_deref().map(str::trim);
        for (name, path) in to_check {
            let meta = fs::symlink_metadata(&path).map_err(err)?;
            if meta.file_type().is_symlink() {
                let stray =
                    is_generation_name(&name) && Some(name.as_str()) != live || name == SCRATCH;
                if stray {
                    continue;
                }
                return Err(StoreError::Link {
                    path: dir.to_path_buf(),
                    name: name.clone(),
                });
            }
            let stray = is_generation_name(&name) && Some(name.as_str()) != live || name == SCRATCH;
            if stray {
                // Removed at the start; only its owner matters.
                check_owner(&path, &meta, me)?;
                continue;
            }
            check_one(dir, &path, &meta, me)?;
            let deep = Some(name.as_str()) == live || name == super::backup::BACKUPS_DIR;
            if deep && meta.is_dir() {
                check_tree(dir, &path, me)?;
            }
        }
    }
    Ok(())
}

/// [`check_one`] for everything under `folder`, never following a link.
#[cfg(unix)]
fn check_tree(dir: &Path, folder: &Path, me: u32) -> Result<(), StoreError> {
    let err = |source| StoreError::DataDir {
        path: folder.to_path_buf(),
        source,
    };
    let mut entries: Vec<_> = fs::read_dir(folder)
        .map_err(err)?
        .collect::<Result<_, _>>()
        .map_err(err)?;
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let meta = fs::symlink_metadata(&path).map_err(err)?;
        if meta.file_type().is_symlink() {
            return Err(StoreError::Link {
                path: dir.to_path_buf(),
                name: path
                    .strip_prefix(dir)
                    .unwrap_or(&path)
                    .display()
                    .to_string(),
            });
        }
        check_one(dir, &path, &meta, me)?;
        if meta.is_dir() {
            check_tree(dir, &path, me)?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn check_owner(path: &Path, meta: &fs::Metadata, me: u32) -> Result<(), StoreError> {
    use std::os::unix::fs::MetadataExt;
    if meta.uid() != me {
        return Err(StoreError::NotOwner {
            path: path.to_path_buf(),
            owner: meta.uid(),
            me,
        });
    }
    Ok(())
}

/// An entry of the store's must be its user's, and readable and writable
/// by it (a folder also searchable): modes the store did not set are never
/// changed behind the operator's back, and a wrong key changes nothing.
#[cfg(unix)]
fn check_one(dir: &Path, path: &Path, meta: &fs::Metadata, me: u32) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    check_owner(path, meta, me)?;
    let needed = if meta.is_dir() { 0o700 } else { 0o600 };
    let mode = meta.permissions().mode() & 0o7777;
    if mode & needed != needed {
        return Err(StoreError::NoAccess {
            path: path.to_path_buf(),
            dir: dir.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

/// A PostgreSQL store's local data directory (its erasure record and its
/// automatic backups): an existing one is checked as a sled data directory
/// is ([`check_entries`]: its owner, its entries' owners and access, no link
/// where the store keeps a file), so a refusal names the file and what to
/// do, before anything is written in it; then it is created, or tightened,
/// by [`create_private_dir`].
pub(super) fn prepare_local_dir(dir: &Path) -> Result<(), StoreError> {
    if fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
        check_entries(dir)?;
    }
    create_private_dir(dir)
}

/// Creates `dir` with mode 0700 (on Unix), or checks an existing one is a
/// directory and tightens it and the store's own files in it. A link in
/// the store's place is refused, never followed.
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
                let entry = entry.map_err(err)?;
                let path = entry.path();
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                let kind = entry.file_type().map_err(err)?;
                if !is_own_name(name) || kind.is_symlink() {
                    continue;
                }
                if kind.is_dir() {
                    restrict_tree(&path).map_err(err)?;
                } else if kind.is_file() {
                    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).map_err(err)?;
                }
            }
        }
        return Ok(());
    }
    if fs::symlink_metadata(dir).is_ok() {
        return Err(damaged(
            dir,
            "it is not a folder (a link to one is not followed, or a file)".into(),
        ));
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(err)?;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent).map_err(err)?;
    }
    Ok(())
}

/// Options that create files readable and writable by their owner only,
/// and never open a file through a link.
pub(super) fn private_options(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// Opens an existing file, for reading (and writing with `write`), never
/// through a link.
pub(super) fn open_no_follow(path: &Path, write: bool) -> std::io::Result<File> {
    private_options(OpenOptions::new().read(true).write(write)).open(path)
}

/// Makes every file under `dir` 0600 and every directory 0700.
fn restrict_tree(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for entry in walk(dir)? {
            // A link is never followed: its target is not the store's.
            if entry.is_link {
                continue;
            }
            let mode = if entry.is_dir { 0o700 } else { 0o600 };
            fs::set_permissions(&entry.path, fs::Permissions::from_mode(mode))?;
        }
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// One entry of [`walk`], its kind read without following a link.
struct Entry {
    path: PathBuf,
    is_dir: bool,
    is_link: bool,
}

/// Every file and directory under `dir`, sorted, depth first; links are
/// listed as links and never entered.
fn walk(dir: &Path) -> std::io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() {
            out.push(Entry {
                path: path.clone(),
                is_dir: true,
                is_link: false,
            });
            out.extend(walk(&path)?);
        } else {
            out.push(Entry {
                path,
                is_dir: false,
                is_link: kind.is_symlink(),
            });
        }
    }
    Ok(out)
}

/// [`walk`], refusing any link: a database's files are never links.
fn walk_no_links(dir: &Path) -> std::io::Result<Vec<Entry>> {
    let entries = walk(dir)?;
    if let Some(link) = entries.iter().find(|e| e.is_link) {
        return Err(std::io::Error::other(format!(
            "{} is a symbolic link; the store never follows links inside its data directory",
            link.path.display()
        )));
    }
    Ok(entries)
}

/// SHA-256 over every file under `dir`: relative name, length and bytes.
pub(super) fn digest_dir(dir: &Path) -> std::io::Result<[u8; 32]> {
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    for entry in walk_no_links(dir)? {
        if entry.is_dir {
            continue;
        }
        let path = entry.path;
        let rel = path.strip_prefix(dir).unwrap_or(&path);
        hash.update(rel.to_string_lossy().as_bytes());
        hash.update([0]);
        let mut file = open_no_follow(&path, false)?;
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
/// and syncs them all. A link inside `from` is refused.
pub(super) fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(to)?;
    for entry in walk_no_links(from)? {
        let path = entry.path;
        // A snapshot sled was still writing when the process stopped: sled
        // 0.34 reads it anyway and calls the database corrupt. The copy
        // leaves it out; sled rebuilds from its log.
        if path.extension().is_some_and(|e| e == "generating") {
            continue;
        }
        let target = to.join(path.strip_prefix(from).unwrap_or(&path));
        if entry.is_dir {
            builder.create(&target)?;
        } else {
            let mut src = open_no_follow(&path, false)?;
            let mut dst =
                private_options(OpenOptions::new().write(true).create_new(true)).open(&target)?;
            std::io::copy(&mut src, &mut dst)?;
            dst.sync_all()?;
        }
    }
    sync_tree_dirs(to)?;
    if let Some(parent) = to.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Syncs every file under `dir`, then the directories that name them.
fn sync_files(dir: &Path) -> std::io::Result<()> {
    for entry in walk_no_links(dir)? {
        if !entry.is_dir {
            open_no_follow(&entry.path, false)?.sync_all()?;
        }
    }
    sync_tree_dirs(dir)
}

fn sync_tree_dirs(dir: &Path) -> std::io::Result<()> {
    for entry in walk(dir)? {
        if entry.is_dir {
            sync_dir(&entry.path)?;
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
    if fs::symlink_metadata(&tmp).is_ok() {
        fs::remove_file(&tmp)?;
    }
    let mut file = private_options(OpenOptions::new().write(true).create_new(true)).open(&tmp)?;
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
    let paced = super::pace::is_paced();
    let (mut piece, mut started) = (0u64, std::time::Instant::now());
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        out.write_all(&zeros[..n])?;
        left -= n as u64;
        piece += n as u64;
        if paced && piece >= super::pace::PIECE && left > 0 {
            file.sync_data()?;
            started = super::pace::breathe(started);
            piece = 0;
        }
    }
    file.sync_data()
}

/// Overwrites a file with zeros, syncs it, then removes it. On an ordinary
/// disk this leaves nothing of it to read through the filesystem; see
/// SECURITY.md for what a copy-on-write filesystem or an SSD may keep. A
/// link is removed as a link, never followed.
pub(super) fn scrub_file(path: &Path) -> std::io::Result<()> {
    if let Ok(file) = open_no_follow(path, true)
        && file.metadata()?.is_file()
    {
        zero(&file)?;
    }
    match fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Scrubs every file under `dir`, then removes it (a link inside is
/// removed as a link; a link in `dir`'s own place, likewise).
pub(super) fn scrub_dir(dir: &Path) -> std::io::Result<()> {
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
        Ok(m) if !m.is_dir() => {
            fs::remove_file(dir)?;
        }
        Ok(_) => {
            for entry in walk(dir)? {
                if !entry.is_dir {
                    scrub_file(&entry.path)?;
                }
            }
            fs::remove_dir_all(dir)?;
        }
    }
    if let Some(parent) = dir.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sled lets go of its lock from its own threads, after its handle is
    /// dropped; an open that comes a moment later waits for it instead of
    /// failing (seen as a reopen failing under load).
    #[test]
    fn an_open_waits_for_a_handle_that_lets_go_late() {
        let dir = std::env::temp_dir().join(format!("companion-sled-lock-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let held = sled_config(&dir).open().expect("first open");
        held.insert(b"k", b"v".as_slice()).expect("insert");
        held.flush().expect("flush");
        let letting_go = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(held);
        });
        let db = open_sled(&dir).expect("the second open waits for the first to let go");
        letting_go.join().expect("thread");
        assert_eq!(db.get(b"k").expect("get").as_deref(), Some(b"v".as_slice()));
        drop(db);
        let _ = fs::remove_dir_all(&dir);
    }
}
