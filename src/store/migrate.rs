//! Moving a store from one engine to the other (`companion db migrate`):
//! a sled data directory into a PostgreSQL database, or back.
//!
//! The source is opened as the bot opens it (so it is whole, its erasures
//! applied) and only read; it holds its lock throughout, so nothing
//! changes it meanwhile. The target must hold nothing, or only a
//! migration that did not finish. It is marked unfinished before anything
//! else is written (sled: the import mark; PostgreSQL: a row in `meta`,
//! committed alone), so that a store cut off part way is refused at start
//! rather than used half filled. Then the erasure record is copied as it
//! is (its bytes, so its chain and its reservations of numbers hold), every
//! record is written (sled: a new generation, installed and sealed;
//! PostgreSQL: one transaction), every record is read back from the target
//! and compared with what was read from the source, and only then is the
//! mark taken away. The target is then opened and checked as the bot
//! would open it.

use std::path::{Path, PathBuf};

use chrono::Utc;

use super::backup::{self, Records};
use super::crypto::SecretKey;
use super::disk::{self, DataDir};
use super::envelope::{ERASURES_FILE, Envelope, ErasureRecord};
use super::{MIGRATING, PgOptions, Report, Store, StoreError, Trees};

/// One side of a migration.
#[derive(Debug, Clone)]
pub enum Location {
    /// A sled data directory.
    Sled(PathBuf),
    /// A PostgreSQL database, and the local directory that keeps its
    /// erasure record.
    Postgres {
        /// Where the database is and how to log in.
        opts: PgOptions,
        /// The local directory (`--data-dir`).
        dir: PathBuf,
    },
}

impl Location {
    /// The directory that holds this side's erasure record.
    fn dir(&self) -> &Path {
        match self {
            Location::Sled(dir) | Location::Postgres { dir, .. } => dir,
        }
    }

    /// In words, for messages.
    pub fn describe(&self) -> String {
        match self {
            Location::Sled(dir) => format!("the data directory {}", dir.display()),
            Location::Postgres { dir, .. } => format!(
                "the PostgreSQL database (its erasure record in {})",
                dir.display()
            ),
        }
    }

    fn open(&self, key: &SecretKey) -> Result<Store, StoreError> {
        match self {
            Location::Sled(dir) => Store::open_existing(dir, Some(key.clone())),
            Location::Postgres { opts, dir } => Store::open_postgres_existing(opts, dir, key),
        }
    }
}

/// What a migration copied.
#[derive(Debug, Clone, Default)]
pub struct Migrated {
    /// The target as checked once the migration was done.
    pub report: Report,
    /// Records read back from the target and found as in the source.
    pub compared: usize,
    /// Entries of the erasure record copied (erasures and reservations).
    pub erasures: u64,
}

/// The target, held (locked) while it is written.
enum Target {
    Sled(DataDir),
    Postgres(super::Pg, Box<Trees>),
}

/// Copies the store at `from` into `to`, which must be empty (or hold
/// only a migration that did not finish); see the module's description.
/// `from` is only read. On any failure the target is left marked
/// unfinished (refused at start, until a migration finishes) or empty.
pub fn migrate(from: &Location, to: &Location, key: &SecretKey) -> Result<Migrated, StoreError> {
    if same_dir(from.dir(), to.dir()) {
        return Err(StoreError::Backup(format!(
            "both sides of the migration keep their erasure record in {}; give the target a directory of its own (an empty one: with PostgreSQL, --data-dir), so that the source stays exactly as it was. Nothing was changed.",
            from.dir().display()
        )));
    }
    let envelope = Envelope::new(key.clone());
    let target = empty_target(to, &envelope)?;
    let source = from.open(key)?;
    let copied = source.with(backup::records_of_live).and_then(|records| {
        let record = source.erasures().record().clone();
        let bytes = record_bytes(source.dir(), &record)?;
        copy_into(target, to, &envelope, records, &record, &bytes)
    });
    let closed = source.close(Utc::now());
    let migrated = copied?;
    closed?;
    Ok(migrated)
}

/// Whether two paths name the same directory.
fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The erasure record's verified bytes, as they are on the disk.
fn record_bytes(dir: &Path, record: &ErasureRecord) -> Result<Vec<u8>, StoreError> {
    let path = dir.join(ERASURES_FILE);
    let mut bytes = std::fs::read(&path).map_err(|source| StoreError::File {
        path: path.clone(),
        source,
    })?;
    // What follows the verified part was never confirmed.
    bytes.truncate(usize::try_from(record.good_len).unwrap_or(bytes.len()));
    Ok(bytes)
}

/// Locks the target and makes sure it holds nothing (or only a migration
/// that did not finish); refuses otherwise, having written nothing.
fn empty_target(to: &Location, envelope: &Envelope) -> Result<Target, StoreError> {
    match to {
        Location::Sled(dir) => {
            let data = DataDir::lock(dir, true)?;
            match data.has_database() {
                Ok(false) | Err(StoreError::ImportInterrupted(_)) => Ok(Target::Sled(data)),
                Ok(true) => Err(StoreError::Backup(format!(
                    "{} already holds a database; a migration goes only into an empty directory. Nothing was changed.",
                    dir.display()
                ))),
                Err(e) => Err(e),
            }
        }
        Location::Postgres { opts, dir } => {
            let pg = super::Pg::connect(opts, envelope.master())?;
            let t = Trees::open_pg(&pg)?;
            let unfinished = t.meta.contains_key(MIGRATING).map_err(|e| match e {
                StoreError::Crypto(_) => StoreError::KeyMismatch {
                    path: dir.clone(),
                    source_name: "the key given".into(),
                },
                other => other,
            })?;
            if !unfinished {
                let held = backup::rows_held(&t)?;
                if held > 0 {
                    return Err(StoreError::Backup(format!(
                        "the PostgreSQL database already holds {held} records; a migration goes only into an empty database. Nothing was changed."
                    )));
                }
                if std::fs::symlink_metadata(dir.join(ERASURES_FILE)).is_ok() {
                    return Err(StoreError::Backup(format!(
                        "{} already holds an erasure record (`{ERASURES_FILE}`), of another store; give the PostgreSQL database a local directory of its own (--data-dir, an empty one). Nothing was changed.",
                        dir.display()
                    )));
                }
            }
            Ok(Target::Postgres(pg, Box::new(t)))
        }
    }
}

/// Writes `records` and the erasure record into the target, reads every
/// record back and compares, then takes the mark away and opens it.
fn copy_into(
    target: Target,
    to: &Location,
    envelope: &Envelope,
    mut records: Records,
    record: &ErasureRecord,
    erasure_bytes: &[u8],
) -> Result<Migrated, StoreError> {
    // The source applied its erasure record when it opened; applied again
    // here, what it names can never travel.
    backup::without_erased(&mut records, envelope, &record.prints);
    backup::prepare_meta(&mut records, record.mark(), false);
    let dir = to.dir();
    let compared = match target {
        Target::Sled(data) => {
            data.begin_import()?;
            disk::write_atomically(dir, ERASURES_FILE, erasure_bytes).map_err(io(dir))?;
            let name = backup::install(&data, &records, envelope, record.mark(), false)?;
            let compared = compare(&records, &backup::read_back(&data, &name)?)?;
            data.end_import()?;
            compared
        }
        Target::Postgres(pg, t) => {
            disk::prepare_local_dir(dir)?;
            t.meta.insert(MIGRATING, [1])?;
            disk::write_atomically(dir, ERASURES_FILE, erasure_bytes).map_err(io(dir))?;
            let meta = records
                .entry(super::trees::META.as_bytes().to_vec())
                .or_default();
            meta.push((MIGRATING.to_vec(), vec![1]));
            backup::replace_all(&t, &records)?;
            let mut back = Records::new();
            for (name, tree) in t.named() {
                let entries = tree.iter().collect::<Result<Vec<_>, StoreError>>()?;
                back.insert(name.as_bytes().to_vec(), entries);
            }
            let compared = compare(&records, &back)?;
            t.meta.remove(MIGRATING)?;
            drop(t);
            drop(pg);
            compared
        }
    };
    let copied = super::envelope::ErasureLog::read(&dir.join(ERASURES_FILE), envelope)?;
    if copied.mark() != record.mark() || copied.prints != record.prints {
        return Err(StoreError::Corrupt(format!(
            "the erasure record copied to {} does not read back as the source's",
            dir.display()
        )));
    }
    let store = match to {
        Location::Sled(dir) => Store::open_existing(dir, Some(envelope.master().clone()))?,
        Location::Postgres { opts, dir } => {
            Store::open_postgres(opts, dir, Some(envelope.master().clone()))?
        }
    };
    let report = store.check()?;
    store.close(Utc::now())?;
    Ok(Migrated {
        report,
        compared,
        erasures: record.mark().count,
    })
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::File {
        path: path.to_path_buf(),
        source,
    }
}

/// Compares what was written with what was read back, tree by tree (a
/// tree with no record counts as absent); returns how many records agree,
/// or says how many differ.
fn compare(written: &Records, read: &Records) -> Result<usize, StoreError> {
    let normal = |r: &Records| -> Records {
        r.iter()
            .filter(|(_, entries)| !entries.is_empty())
            .map(|(name, entries)| {
                let mut entries = entries.clone();
                entries.sort();
                (name.clone(), entries)
            })
            .collect()
    };
    let (a, b) = (normal(written), normal(read));
    if a == b {
        return Ok(a.values().map(Vec::len).sum());
    }
    let mut differ = 0;
    for name in a.keys().chain(b.keys().filter(|n| !a.contains_key(*n))) {
        let empty = Vec::new();
        let (x, y) = (a.get(name).unwrap_or(&empty), b.get(name).unwrap_or(&empty));
        differ += x.iter().filter(|e| !y.contains(e)).count();
        differ += y.iter().filter(|e| !x.contains(e)).count();
    }
    Err(StoreError::Corrupt(format!(
        "the target does not read back as written ({differ} records differ), so the migration was not finished; the target stays marked unfinished and is refused at start, and the source was left as it was"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_reads_back_otherwise_than_written_is_found() {
        let mut written = Records::new();
        written.insert(
            b"reflections".to_vec(),
            vec![(vec![1], vec![2]), (vec![3], vec![4])],
        );
        written.insert(b"meetings".to_vec(), Vec::new());
        let mut read = written.clone();
        // Order and empty trees do not matter.
        read.remove(b"meetings".as_slice());
        if let Some(entries) = read.get_mut(b"reflections".as_slice()) {
            entries.reverse();
        }
        assert_eq!(compare(&written, &read).unwrap(), 2);
        // A value changed, a record lost or one more: each is found.
        let mut changed = read.clone();
        if let Some(entries) = changed.get_mut(b"reflections".as_slice()) {
            entries[0].1 = vec![9];
        }
        let e = compare(&written, &changed).unwrap_err();
        assert!(e.to_string().contains("2 records differ"), "{e}");
        let mut lost = read.clone();
        if let Some(entries) = lost.get_mut(b"reflections".as_slice()) {
            entries.pop();
        }
        assert!(compare(&written, &lost).is_err());
        let mut more = read;
        more.insert(b"meetings".to_vec(), vec![(vec![5], vec![6])]);
        let e = compare(&written, &more).unwrap_err();
        assert!(e.to_string().contains("1 records differ"), "{e}");
    }

    #[test]
    fn a_servers_meetings_travel_with_the_rest() {
        let (from, to) = (
            super::super::tests::temp_dir("migrate-meetings-from"),
            super::super::tests::temp_dir("migrate-meetings-to"),
        );
        let key = SecretKey::generate();
        let store = Store::open(&from, Some(key.clone())).unwrap();
        store
            .set_meetings(
                9,
                &crate::meetings::group::Meetings::default(),
                &crate::meetings::group::Meetings::default(),
            )
            .unwrap();
        let stored = |store: &Store| {
            store.with(|live| live.t.meetings.iter().collect::<Result<Vec<_>, _>>())
        };
        let before = stored(&store).unwrap();
        assert_eq!(before.len(), 1);
        store.close(Utc::now()).unwrap();
        drop(store);
        let migrated = migrate(
            &Location::Sled(from.clone()),
            &Location::Sled(to.clone()),
            &key,
        )
        .unwrap();
        assert!(migrated.compared >= 3, "{}", migrated.compared);
        let store = Store::open_existing(&to, Some(key)).unwrap();
        assert_eq!(stored(&store).unwrap(), before);
        store.close(Utc::now()).unwrap();
    }
}
