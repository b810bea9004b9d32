//! Backups, restores and checks.
//!
//! A backup holds the records exactly as stored, so reflections stay sealed
//! with their members' keys: it is useless without the master key, as the
//! database is. The file is `PCBK2\n`, then per tree its name and entries
//! (length-prefixed bytes), then HMAC-SHA256 of everything before it under a
//! key derived from the master key: a backup is verified whole before
//! anything is written, and one that was altered (a record removed, a key
//! entry dropped) or made under another key is refused.
//!
//! Every restore leaves out what the erasure record names, so a backup made
//! before a member asked to be forgotten never brings them back. Automatic
//! backups live in `DIR/backups/`, written at each clean close and daily,
//! the newest [`KEEP_BACKUPS`] kept, and purged of erased records whenever
//! the database is rewritten.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};
use hmac::Mac;

use super::crypto::SecretKey;
use super::disk::{self, DAMAGED_PREFIX, DataDir, Seal, private_options};
use super::envelope::{ERASURES_FILE, Envelope, ErasureLog, ErasureRecord, Fingerprint, Mark};
use super::{Live, Store, StoreError, Tree, Trees, keys, trees};
use crate::reflections::Summary;

const MAGIC: &[u8] = b"PCBK2\n";
const OLD_MAGIC: &[u8] = b"PCBK1\n";
const MAC_LEN: usize = 32;
/// The automatic backups' folder in the data directory.
pub const BACKUPS_DIR: &str = "backups";
/// How many automatic backups are kept.
pub const KEEP_BACKUPS: usize = 7;
const STAMP: &str = "%Y%m%dT%H%M%SZ";
/// Meta key inside a backup (so authenticated with it): when it was made.
const BACKUP_MADE: &[u8] = b"backup_made";

/// What a check, an import, a restore or a salvage found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Trees (record kinds) seen.
    pub trees: usize,
    /// Records seen.
    pub records: usize,
    /// Reflections that decrypted and parsed.
    pub reflections: usize,
    /// Members with reflections.
    pub members: usize,
    /// Records left out because the erasure record names them.
    pub erased: usize,
    /// Reflections added back by a salvage.
    pub salvaged: usize,
    /// What is wrong, described without contents; empty when all is well.
    pub problems: Vec<String>,
    /// What to do about the problems `db check` found, when there are any.
    pub next_step: Option<String>,
    /// The automatic backup a restore chose, when it was made, and how
    /// many newer ones it passed over because they do not open with the
    /// key (damaged, or another key's); when none was named.
    pub chosen: Option<(PathBuf, DateTime<Utc>, usize)>,
}

impl Report {
    /// "3 reflections of 2 members", for people.
    pub fn summary(&self) -> String {
        format!(
            "{} of {}",
            count(self.reflections, "reflection", "reflections"),
            count(self.members, "member", "members")
        )
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::File {
        path: path.to_path_buf(),
        source,
    }
}

/// Records by tree name, as in a backup.
pub(super) type Records = BTreeMap<Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>>;

/// Every record of the open database: on sled every tree of its
/// generation, on PostgreSQL every table of the store.
pub(super) fn records_of_live(live: &Live) -> Result<Records, StoreError> {
    if let Ok(generation) = live.generation() {
        return records_of(&generation.db);
    }
    let mut out = Records::new();
    for (name, tree) in live.t.named() {
        let entries = tree.iter().collect::<Result<Vec<_>, StoreError>>()?;
        out.insert(name.as_bytes().to_vec(), entries);
    }
    Ok(out)
}

fn records_of(db: &sled::Db) -> Result<Records, StoreError> {
    let mut out = Records::new();
    for name in db.tree_names() {
        let tree = db.open_tree(&name)?;
        let mut records = Vec::with_capacity(tree.len());
        for entry in tree.iter() {
            let (k, v) = entry?;
            records.push((k.to_vec(), v.to_vec()));
        }
        out.insert(name.to_vec(), records);
    }
    Ok(out)
}

/// Writes `records` to a new file at `path` (owner-only; never overwrites),
/// authenticated, and syncs it.
fn write_file(
    records: &Records,
    envelope: &Envelope,
    path: &Path,
    made: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut records = records.clone();
    let meta = records.entry(trees::META.as_bytes().to_vec()).or_default();
    meta.retain(|(k, _)| k != BACKUP_MADE);
    meta.push((
        BACKUP_MADE.to_vec(),
        made.timestamp().to_be_bytes().to_vec(),
    ));
    let records = &records;
    let file = private_options(OpenOptions::new().write(true).create_new(true))
        .open(path)
        .map_err(io(path))?;
    let mut out = BufWriter::new(file);
    let mut mac = envelope.backup_mac();
    let mut n = 0;
    let paced = super::pace::is_paced();
    let (mut piece, mut started) = (0u64, std::time::Instant::now());
    let mut write = |bytes: &[u8]| -> Result<(), StoreError> {
        mac.update(bytes);
        out.write_all(bytes).map_err(io(path))?;
        piece += bytes.len() as u64;
        if paced && piece >= super::pace::PIECE {
            // The upkeep's backups go to disk a piece at a time (see `pace`).
            out.flush().map_err(io(path))?;
            out.get_ref().sync_data().map_err(io(path))?;
            started = super::pace::breathe(started);
            piece = 0;
        }
        Ok(())
    };
    write(MAGIC)?;
    for (name, entries) in records {
        write(&(name.len() as u32).to_be_bytes())?;
        write(name)?;
        write(&(entries.len() as u64).to_be_bytes())?;
        for (k, v) in entries {
            write(&(k.len() as u32).to_be_bytes())?;
            write(k)?;
            write(&(v.len() as u32).to_be_bytes())?;
            write(v)?;
            n += 1;
        }
    }
    let tag = mac.finalize().into_bytes();
    out.write_all(&tag).map_err(io(path))?;
    let file = out.into_inner().map_err(|e| io(path)(e.into_error()))?;
    file.sync_all().map_err(io(path))?;
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        disk::sync_dir(dir).map_err(io(path))?;
    }
    Ok(n)
}

/// When a backup says, inside what its MAC covers, it was made.
fn made_at(records: &Records) -> Option<DateTime<Utc>> {
    let (_, v) = records
        .get(trees::META.as_bytes())?
        .iter()
        .find(|(k, _)| k == BACKUP_MADE)?;
    DateTime::from_timestamp(i64::from_be_bytes(v.as_slice().try_into().ok()?), 0)
}

/// The erasure mark a backup's database held when it was made.
fn mark_in(records: &Records) -> Option<Mark> {
    let (_, v) = records
        .get(trees::META.as_bytes())?
        .iter()
        .find(|(k, _)| k == super::ERASURE_MARK)?;
    Mark::from_bytes(v)
}

/// Reads a backup, verifying its authentication before anything else.
fn read_file(path: &Path, envelope: &Envelope) -> Result<Records, StoreError> {
    let bytes = fs::read(path).map_err(io(path))?;
    if bytes.starts_with(OLD_MAGIC) {
        return Err(StoreError::Backup(format!(
            "{} is a backup from an earlier version, which could be altered without anyone knowing; it is not restored. Make a new one with `companion db export` from the database it came from.",
            path.display()
        )));
    }
    if !bytes.starts_with(MAGIC) || bytes.len() < MAGIC.len() + MAC_LEN {
        return Err(StoreError::Backup(format!(
            "{} is not a practice-companion backup",
            path.display()
        )));
    }
    let (body, tag) = bytes.split_at(bytes.len() - MAC_LEN);
    let mut mac = envelope.backup_mac();
    mac.update(body);
    if mac.verify_slice(tag).is_err() {
        return Err(StoreError::Backup(format!(
            "{} does not authenticate with this key: it was made under another key, or it was altered or cut short. Nothing was written. Give the key of the database it came from (--key-file PATH or the COMPANION_KEY environment variable); if that is the key given, the file is damaged: use another export or automatic backup.",
            path.display()
        )));
    }
    parse(&body[MAGIC.len()..]).map_err(|why| {
        StoreError::Backup(format!("{}: {why}. Nothing was written.", path.display()))
    })
}

fn parse(body: &[u8]) -> Result<Records, String> {
    let mut cursor = Cursor(body);
    let mut trees = Records::new();
    while !cursor.0.is_empty() {
        let name_len = cursor.u32()? as usize;
        let name = cursor.take(name_len)?.to_vec();
        let count = cursor.u64()?;
        let mut records = Vec::new();
        for _ in 0..count {
            let klen = cursor.u32()? as usize;
            let k = cursor.take(klen)?.to_vec();
            let vlen = cursor.u32()? as usize;
            let v = cursor.take(vlen)?.to_vec();
            records.push((k, v));
        }
        trees.insert(name, records);
    }
    Ok(trees)
}

/// Leaves out every record the erasure record names, and every reflection,
/// supervision log entry or case presentation whose member's key is gone;
/// returns how many were left out.
pub(super) fn without_erased(
    records: &mut Records,
    envelope: &Envelope,
    erased: &HashSet<Fingerprint>,
) -> usize {
    let mut left_out = 0;
    for (name, entries) in records.iter_mut() {
        let before = entries.len();
        // A reminder changes every week, so a forgotten member's is named by
        // its key alone (see `forget_member`).
        // So does a server's meetings record, whose every version before a
        // forget-me is named by its old key (see `store/meetings.rs`).
        let by_key = name.as_slice() == trees::MEMBER_SETTINGS.as_bytes()
            || name.as_slice() == trees::MEETINGS.as_bytes();
        entries.retain(|(k, v)| {
            let named = erased.contains(&envelope.fingerprint(name, k, v));
            let forgotten = by_key && erased.contains(&envelope.fingerprint(name, k, b""));
            !(named || forgotten)
        });
        left_out += before - entries.len();
    }
    let members: HashSet<Vec<u8>> = records
        .get(trees::MEMBER_KEYS.as_bytes())
        .map(|e| e.iter().map(|(k, _)| k.clone()).collect())
        .unwrap_or_default();
    for tree in [
        trees::REFLECTIONS,
        trees::SUMMARIES,
        trees::SUPERVISION_LOG,
        trees::CASE_PRESENTATIONS,
    ] {
        if let Some(entries) = records.get_mut(tree.as_bytes()) {
            let before = entries.len();
            entries.retain(|(k, _)| k.get(..8).is_some_and(|m| members.contains(m)));
            if tree == trees::REFLECTIONS {
                left_out += before - entries.len();
            }
        }
    }
    // A summary goes with its reflection: never one without the other.
    let bodies: HashSet<Vec<u8>> = records
        .get(trees::REFLECTIONS.as_bytes())
        .map(|e| e.iter().map(|(k, _)| k.clone()).collect())
        .unwrap_or_default();
    if let Some(entries) = records.get_mut(trees::SUMMARIES.as_bytes()) {
        let before = entries.len();
        entries.retain(|(k, _)| bodies.contains(k));
        left_out += before - entries.len();
    }
    if left_out > 0 {
        recount(records);
    }
    left_out
}

/// Sets each member's counter to how many reflections they have in
/// `records`, keeping the last number given (numbers are never reused).
fn recount(records: &mut Records) {
    let mut counts = reflections_by_member(records);
    let counters = records
        .entry(trees::COUNTERS.as_bytes().to_vec())
        .or_default();
    for (k, v) in counters.iter_mut() {
        let last = v
            .get(..8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map_or(0, u64::from_be_bytes);
        let (highest, n) = counts.remove(k).unwrap_or_default();
        let mut bytes = last.max(highest).to_be_bytes().to_vec();
        bytes.extend_from_slice(&n.to_be_bytes());
        *v = bytes;
    }
    for (member, (highest, n)) in counts {
        let mut bytes = highest.to_be_bytes().to_vec();
        bytes.extend_from_slice(&n.to_be_bytes());
        counters.push((member, bytes));
    }
}

/// Builds a generation from `records`, makes it live and seals it, so the
/// next open finds it exactly as written; returns its name.
pub(super) fn install(
    data: &DataDir,
    records: &Records,
    envelope: &Envelope,
    mark: Mark,
    restored: bool,
) -> Result<String, StoreError> {
    let mut records = records.clone();
    prepare_meta(&mut records, mark, restored);
    let records = &records;
    let generation = data.create_generation()?;
    for (name, entries) in records {
        let tree = generation.db.open_tree(name)?;
        for (k, v) in entries {
            tree.insert(k.as_slice(), v.as_slice())?;
        }
    }
    // The counter first: `CURRENT` never names a database whose counter
    // is behind it.
    let seq = records
        .get(trees::META.as_bytes())
        .and_then(|m| m.iter().find(|(k, _)| k == super::COMMIT_SEQ))
        .map_or(0, |(_, v)| super::be_u64(Some(v)));
    data.reset_seq(seq)?;
    data.adopt(&generation, &mut |_| {})?;
    let name = generation.name().to_string();
    data.seal(generation, &mark.bytes(), &|b: &[u8]| envelope.seal_tag(b))?;
    Ok(name)
}

/// Every record of the generation `name`, read from a private copy of its
/// files (in `scratch/`, removed afterwards): what the disk holds, not
/// what the open database remembers.
pub(super) fn read_back(data: &DataDir, name: &str) -> Result<Records, StoreError> {
    let scratch = data.scratch("read-back")?;
    let copy = scratch.join("db");
    let result = disk::copy_dir(&data.path().join(name), &copy)
        .map_err(io(&copy))
        .and_then(|()| disk::open_scratch(&copy))
        .and_then(|db| records_of(&db));
    let _ = disk::scrub_dir(&scratch);
    result
}

/// The newest automatic backup that authenticates with this key, read.
/// Newest by the time each backup authenticates, not by its file name.
fn newest_readable(
    dir: &Path,
    envelope: &Envelope,
) -> Result<Option<(DateTime<Utc>, PathBuf, Records)>, StoreError> {
    let mut best: Option<(DateTime<Utc>, PathBuf, Records)> = None;
    for (named, path) in automatic(dir)?.into_iter().rev() {
        if let Ok(records) = read_file(&path, envelope) {
            let at = made_at(&records).unwrap_or(named);
            if best.as_ref().is_none_or(|(b, ..)| at > *b) {
                best = Some((at, path, records));
            }
        }
    }
    Ok(best)
}

/// When the newest automatic backup was made, if there is one.
pub(super) fn newest_time(dir: &Path) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(automatic(dir)?.pop().map(|(t, _)| t))
}

/// Every automatic backup in `dir`, oldest first.
fn automatic(dir: &Path) -> Result<Vec<(DateTime<Utc>, PathBuf)>, StoreError> {
    let folder = dir.join(BACKUPS_DIR);
    let entries = match fs::read_dir(&folder) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(&folder)(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry.map_err(io(&folder))?.path();
        let stamp = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("backup-"))
            .and_then(|n| n.strip_suffix(".pcbk"))
            .and_then(|n| NaiveDateTime::parse_from_str(n, STAMP).ok());
        if let Some(at) = stamp {
            out.push((at.and_utc(), path));
        }
    }
    out.sort();
    Ok(out)
}

/// The erasure record of `dir`, verified with the key: missing, damaged or
/// under another key is an error (so a wrong key is found before anything
/// is written).
/// Leaves out of a backup's `records` (read from `source`) what `record`,
/// the erasure record of `dir`, names; refuses a record that does not reach
/// the point the backup had reached. How many records were left out.
fn leave_out_erased(
    records: &mut Records,
    record: Option<&ErasureRecord>,
    envelope: &Envelope,
    dir: &Path,
    source: &Path,
) -> Result<usize, StoreError> {
    if let (Some(record), Some(mark)) = (record, mark_in(records))
        && !record.reaches(&mark)
    {
        return Err(StoreError::ErasureRecord {
            path: dir.to_path_buf(),
            why: format!(
                "does not reach the point the backup {} had reached: it was cut short or replaced",
                source.display()
            ),
        });
    }
    let erased = record.map(|r| r.prints.clone()).unwrap_or_default();
    Ok(without_erased(records, envelope, &erased))
}

fn own_record(dir: &Path, envelope: &Envelope) -> Result<ErasureRecord, StoreError> {
    let record = ErasureLog::read(&dir.join(ERASURES_FILE), envelope);
    if record.as_ref().is_ok_and(|r| r.altered) {
        return Err(StoreError::ErasureRecord {
            path: dir.to_path_buf(),
            why: "was changed: a part of it does not authenticate".into(),
        });
    }
    record.map_err(|e| match e {
        StoreError::KeyMismatch { .. } => StoreError::KeyMismatch {
            path: dir.to_path_buf(),
            source_name: "the key given".into(),
        },
        StoreError::Corrupt(why) => StoreError::ErasureRecord {
            path: dir.to_path_buf(),
            why,
        },
        StoreError::File { source, .. } => StoreError::ErasureRecord {
            path: dir.to_path_buf(),
            why: if source.kind() == std::io::ErrorKind::NotFound {
                "is missing".into()
            } else {
                format!("cannot be read ({source})")
            },
        },
        other => other,
    })
}

/// Refuses an erasure record that does not reach the mark the last clean
/// close sealed (cut short, or replaced by an older one).
fn reaches_sealed_mark(
    data: &DataDir,
    envelope: &Envelope,
    record: &ErasureRecord,
) -> Result<(), StoreError> {
    let sealed = data
        .sealed_mark(&|b: &[u8]| envelope.seal_tag(b))
        .and_then(|b| Mark::from_bytes(&b));
    match sealed {
        Some(mark) if !record.reaches(&mark) => Err(StoreError::ErasureRecord {
            path: data.path().to_path_buf(),
            why: format!(
                "does not hold what the database says it does (at least {} erased records): it was cut short, replaced or changed",
                mark.count
            ),
        }),
        _ => Ok(()),
    }
}

/// The erasure record of the open store's data directory.
fn erasures_in(store: &Store) -> HashSet<Fingerprint> {
    store.erasures().all().clone()
}

/// Applies the erasure record to the live trees: what it names is removed,
/// with every reflection whose member's key went and every summary whose
/// reflection went, and the counters recounted, as a restore does. For a
/// database that came back from before erasures the record holds (a
/// PostgreSQL database restored from its own backups, which the record,
/// kept apart, outlives). Returns how many records were removed.
///
/// It runs beside members' own writes (the upkeep of a running bot), so
/// each change is made only on the value it was worked out from, by
/// compare-and-swap: a record written since (a new value, never the one
/// erased) is left alone, and a counter is lowered by the reflections
/// this removed itself, from whatever it holds by then, and never below
/// the numbers it has given.
pub(super) fn reapply_erasures(store: &Store) -> Result<usize, StoreError> {
    let erased = erasures_in(store);
    store.with(|live| {
        let trees = live.t.named();
        let mut records = Records::new();
        for (name, tree) in &trees {
            let entries = tree.iter().collect::<Result<Vec<_>, StoreError>>()?;
            records.insert(name.as_bytes().to_vec(), entries);
        }
        let before = records.clone();
        if without_erased(&mut records, &store.shared.envelope, &erased) == 0 {
            return Ok(0);
        }
        let highest = reflections_by_member(&records);
        let mut removed = 0;
        // Reflections removed here, by member: what their counters lose.
        let mut gone: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        let empty = Vec::new();
        let counters = trees::COUNTERS.as_bytes();
        let ordered = trees
            .iter()
            .filter(|(name, _)| name.as_bytes() != counters)
            .chain(trees.iter().filter(|(name, _)| name.as_bytes() == counters));
        for (name, tree) in ordered {
            let old = before.get(name.as_bytes()).unwrap_or(&empty);
            let new: BTreeMap<&[u8], &[u8]> = records
                .get(name.as_bytes())
                .unwrap_or(&empty)
                .iter()
                .map(|(k, v)| (k.as_slice(), v.as_slice()))
                .collect();
            let had: HashSet<&[u8]> = old.iter().map(|(k, _)| k.as_slice()).collect();
            let counting = name.as_bytes() == counters;
            for (k, v) in old {
                match new.get(k.as_slice()) {
                    None => {
                        if tree.compare_and_swap(k, Some(v), None)?.is_ok() {
                            removed += 1;
                            if name.as_bytes() == trees::REFLECTIONS.as_bytes()
                                && let Some(member) = k.get(..8)
                            {
                                *gone.entry(member.to_vec()).or_default() += 1;
                            }
                        }
                    }
                    Some(_) if counting => {
                        let lost = gone.get(k.as_slice()).copied().unwrap_or(0);
                        let highest = highest.get(k.as_slice()).map_or(0, |(h, _)| *h);
                        lower_counter(tree, k, lost, highest)?;
                    }
                    Some(now) if *now != v.as_slice() => {
                        let _ = tree.compare_and_swap(k, Some(v), Some(now))?;
                    }
                    Some(_) => {}
                }
            }
            // A counter the snapshot lacked is not made: its member may
            // have been forgotten since.
            for (k, v) in new.iter().filter(|_| !counting) {
                if !had.contains(k) {
                    let _ = tree.compare_and_swap(k, None, Some(v))?;
                }
            }
        }
        store.commit(live)?;
        Ok(removed)
    })
}

/// Each member's highest reflection number in `records`, and how many
/// reflections they have there.
fn reflections_by_member(records: &Records) -> BTreeMap<Vec<u8>, (u64, u64)> {
    let mut counts: BTreeMap<Vec<u8>, (u64, u64)> = BTreeMap::new();
    for (k, _) in records
        .get(trees::REFLECTIONS.as_bytes())
        .into_iter()
        .flatten()
    {
        if let (Some(member), Some(id)) = (
            k.get(..8),
            k.get(8..16).and_then(|b| <[u8; 8]>::try_from(b).ok()),
        ) {
            let entry = counts.entry(member.to_vec()).or_default();
            entry.0 = entry.0.max(u64::from_be_bytes(id));
            entry.1 += 1;
        }
    }
    counts
}

/// Lowers the count of the counter at `k` by `lost`, from what it holds
/// now, and raises its last number to `highest` if it is below: retried
/// until no other writer changed it in between.
fn lower_counter(tree: &Tree, k: &[u8], lost: u64, highest: u64) -> Result<(), StoreError> {
    loop {
        let Some(now) = tree.get(k)? else {
            return Ok(());
        };
        let (Some(last), Some(count)) = (
            now.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()),
            now.get(8..16).and_then(|b| <[u8; 8]>::try_from(b).ok()),
        ) else {
            return Ok(());
        };
        let last = u64::from_be_bytes(last).max(highest);
        let count = u64::from_be_bytes(count).saturating_sub(lost);
        let mut want = last.to_be_bytes().to_vec();
        want.extend_from_slice(&count.to_be_bytes());
        if want == now || tree.compare_and_swap(k, Some(&now), Some(&want))?.is_ok() {
            return Ok(());
        }
    }
}

/// Checks the live records: every reflection opens with its member's key,
/// every counter agrees with the records, and nothing in the newest
/// automatic backup is missing unless it was erased since.
pub(super) fn verify(live: &Live, envelope: &Envelope, dir: &Path) -> Result<Report, StoreError> {
    let mut report = readable(live, envelope)?;
    if let Some((at, _, backup)) = newest_readable(dir, envelope)? {
        let erased = ErasureLog::read(&dir.join(ERASURES_FILE), envelope)
            .map(|r| r.prints)
            .unwrap_or_default();
        let mut missing = 0;
        for tree in [trees::MEMBER_KEYS, trees::REFLECTIONS] {
            let live_tree = live.generation()?.db.open_tree(tree)?;
            for (k, v) in backup.get(tree.as_bytes()).into_iter().flatten() {
                if !live_tree.contains_key(k)?
                    && !erased.contains(&envelope.fingerprint(tree.as_bytes(), k, v))
                {
                    missing += 1;
                }
            }
        }
        if missing > 0 {
            report.problems.push(format!(
                "{} in the automatic backup of {} missing from the database",
                count(missing, "record is", "records are"),
                at.format("%-d %B %Y %H:%M UTC")
            ));
        }
    }
    Ok(report)
}

/// Counts the records and checks every one can be read.
fn readable(live: &Live, envelope: &Envelope) -> Result<Report, StoreError> {
    let mut report = Report::default();
    match live.generation() {
        Ok(generation) => {
            for name in generation.db.tree_names() {
                report.trees += 1;
                report.records += generation.db.open_tree(&name)?.len();
            }
        }
        Err(_) => {
            for (_, tree) in live.t.named() {
                report.trees += 1;
                report.records += tree.len()?;
            }
        }
    }
    check_records(&live.t, envelope, &mut report)?;
    Ok(report)
}

fn check_records(t: &Trees, envelope: &Envelope, report: &mut Report) -> Result<(), StoreError> {
    if !t.meta.contains_key(keys::KEY_CHECK_KEY)? && !t.reflections.is_empty()? {
        report
            .problems
            .push("the key check record is missing".to_string());
    }
    let mut member: Option<(u64, Option<SecretKey>, u64, u64)> = None;
    let finish = |m: Option<(u64, Option<SecretKey>, u64, u64)>,
                  report: &mut Report|
     -> Result<(), StoreError> {
        if let Some((id, _, n, highest)) = m {
            report.members += 1;
            let counter = t.counters.get(id.to_be_bytes())?;
            let ok = counter.as_ref().is_some_and(|b| {
                b.len() == 8 && b[..8] >= highest.to_be_bytes()[..]
                    || b.len() == 16
                        && b[..8] >= highest.to_be_bytes()[..]
                        && b[8..] == n.to_be_bytes()[..]
            });
            if !ok {
                report.problems.push(format!(
                    "member {id}'s counter does not agree with their {}",
                    count(n as usize, "reflection", "reflections")
                ));
            }
        }
        Ok(())
    };
    for entry in t.reflections.iter() {
        let (k, v) = entry?;
        let (Some(m), Some(id)) = (
            k.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()),
            k.get(8..16).and_then(|b| <[u8; 8]>::try_from(b).ok()),
        ) else {
            report
                .problems
                .push("a reflection record has a malformed key".to_string());
            continue;
        };
        let (m, id) = (u64::from_be_bytes(m), u64::from_be_bytes(id));
        if member.as_ref().is_none_or(|(cur, ..)| *cur != m) {
            finish(member.take(), report)?;
            let key = match t.member_keys.get(m.to_be_bytes())? {
                Some(w) => match envelope.unwrap_member_key(m, &w) {
                    Ok(key) => Some(key),
                    Err(_) => {
                        report
                            .problems
                            .push(format!("member {m}'s key cannot be opened"));
                        None
                    }
                },
                None => {
                    report.problems.push(format!("member {m}'s key is missing"));
                    None
                }
            };
            member = Some((m, key, 0, 0));
        }
        if let Some((_, key, n, highest)) = member.as_mut() {
            *n += 1;
            *highest = (*highest).max(id);
            let summary = t.summaries.get(&k)?;
            let summary_ok = summary.is_some_and(|sealed| {
                key.as_ref()
                    .is_some_and(|key| envelope.open_summary(key, &k, &sealed).is_ok())
            });
            if key.is_some() && !summary_ok {
                report.problems.push(format!(
                    "member {m}'s reflection #{id} has no readable summary (lists leave it out or name it damaged)"
                ));
            }
            match key
                .as_ref()
                .map(|key| envelope.open_reflection(key, &k, &v))
            {
                Some(Ok(_)) => report.reflections += 1,
                Some(Err(_)) => report
                    .problems
                    .push(format!("member {m}'s reflection #{id} cannot be read")),
                None => {}
            }
        }
    }
    finish(member, report)?;
    super::supervision::check(t, envelope, report)?;
    super::held::check(t, envelope, report)
}

impl Store {
    /// Writes every tree to `path` (created owner-only; refused if it
    /// exists), authenticated with a key derived from the master key.
    pub fn export_to(&self, path: &Path) -> Result<Report, StoreError> {
        let records = self.with(|live| {
            self.commit(live)?;
            records_of_live(live)
        })?;
        let n = write_file(&records, &self.shared.envelope, path, Utc::now())?;
        let reflections = records
            .get(trees::REFLECTIONS.as_bytes())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let members: HashSet<&[u8]> = reflections.iter().filter_map(|(k, _)| k.get(..8)).collect();
        Ok(Report {
            trees: records.len(),
            records: n,
            reflections: reflections.len(),
            members: members.len(),
            ..Report::default()
        })
    }

    /// Writes an automatic backup into the data directory's `backups/`
    /// and keeps the newest [`KEEP_BACKUPS`]. Returns its path. On
    /// PostgreSQL, the data directory is the process's local one (beside
    /// its erasure record), and the backup holds every table.
    pub fn backup_now(&self, now: DateTime<Utc>) -> Result<PathBuf, StoreError> {
        let folder = self.dir().join(BACKUPS_DIR);
        let _backups = self.backups_lock();
        disk::create_private_dir(&folder)?;
        let _shared = hold_shared_backups(self, &folder)?;
        let mut path = folder.join(format!("backup-{}.pcbk", now.format(STAMP)));
        let mut second = now;
        while path.exists() {
            second += chrono::Duration::seconds(1);
            path = folder.join(format!("backup-{}.pcbk", second.format(STAMP)));
        }
        let records = self.with(|live| {
            self.commit(live)?;
            records_of_live(live)
        })?;
        let tmp = path.with_extension("pcbk.tmp");
        let _ = fs::remove_file(&tmp);
        write_file(&records, &self.shared.envelope, &tmp, second)?;
        fs::rename(&tmp, &path).map_err(io(&path))?;
        disk::sync_dir(&folder).map_err(io(&folder))?;
        self.shared
            .dirty
            .store(false, std::sync::atomic::Ordering::SeqCst);
        let all = automatic(self.dir())?;
        for (_, old) in all.iter().take(all.len().saturating_sub(KEEP_BACKUPS)) {
            disk::scrub_file(old).map_err(io(old))?;
        }
        Ok(path)
    }

    /// Reads every record and decrypts every reflection of the open database.
    pub fn check(&self) -> Result<Report, StoreError> {
        self.with(|live| readable(live, &self.shared.envelope))
    }

    /// Restores a backup into `dir`, which must not hold a database yet,
    /// leaving out everything the erasure record names. The erasure record
    /// is the file `erasures` names (the `erasures` of the data directory
    /// the backup came from; it must reach the point the backup's database
    /// had reached, and open with the same key); without one, the import is
    /// refused unless `without_erasures` says the operator knows nothing
    /// was ever erased since the backup.
    pub fn import_from(
        path: &Path,
        dir: &Path,
        key: Option<SecretKey>,
        erasures: Option<&Path>,
        without_erasures: bool,
    ) -> Result<(Store, Report), StoreError> {
        let data = DataDir::lock(dir, true)?;
        let interrupted = matches!(data.has_database(), Err(StoreError::ImportInterrupted(_)));
        if !interrupted && data.has_database()? {
            return Err(StoreError::File {
                path: dir.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "it already holds a database; import into an empty directory, or use `companion db restore`",
                ),
            });
        }
        let (master, _) = keys::master_key(dir, key, true)?;
        let envelope = Envelope::new(master);
        let mut records = read_backup(path, &envelope)?;
        let erased = erased_for_import(&records, &envelope, erasures, without_erasures, None)?;
        let left_out = without_erased(&mut records, &envelope, &erased);
        // From here on the directory is written: marked first, so that an
        // import cut short is told apart from a damaged database.
        data.begin_import()?;
        let own = dir.join(ERASURES_FILE);
        disk::scrub_file(&own).map_err(io(&own))?;
        let mut log = ErasureLog::create(&own, &envelope)?;
        let mut prints: Vec<Fingerprint> = erased.into_iter().collect();
        prints.sort_unstable();
        let mark = log.append(&prints)?;
        drop(log);
        install(&data, &records, &envelope, mark, true)?;
        data.end_import()?;
        drop(data);
        let store = Store::open_existing(dir, Some(envelope.master().clone()))?;
        let mut report = store.check()?;
        report.erased = left_out;
        Ok((store, report))
    }
}

/// Reads a backup for an import or a restore: authenticated whole, and its
/// database's key check opened with this key, before anything is written.
fn read_backup(path: &Path, envelope: &Envelope) -> Result<Records, StoreError> {
    let records = read_file(path, envelope)?;
    let key_ok = records
        .get(trees::META.as_bytes())
        .and_then(|m| m.iter().find(|(k, _)| k == keys::KEY_CHECK_KEY))
        .is_none_or(|(_, v)| keys::opens_check(envelope.master(), v));
    if !key_ok {
        return Err(StoreError::Backup(format!(
            "{}: the key does not open this backup's database. Nothing was written.",
            path.display()
        )));
    }
    Ok(records)
}

/// What an import leaves out: the fingerprints of the erasure record given
/// (`--erasures`, which must reach the point the backup's database had
/// reached) and of the target's own record (`own`: on PostgreSQL, the local
/// directory's), together. With neither, the import is refused unless
/// `without_erasures` says the operator knows nothing was erased since the
/// backup.
fn erased_for_import(
    records: &Records,
    envelope: &Envelope,
    erasures: Option<&Path>,
    without_erasures: bool,
    own: Option<(&Path, &ErasureRecord)>,
) -> Result<HashSet<Fingerprint>, StoreError> {
    let given = match erasures {
        Some(file) => {
            let record = ErasureLog::read(file, envelope).map_err(|e| {
                StoreError::Backup(format!(
                    "{}: {}. Nothing was written. Give --erasures the `{ERASURES_FILE}` file of the data directory the backup came from, readable by the user running this command; if it is lost for good, --without-erasures imports without it (and anything erased before the backup was made may then come back).",
                    file.display(),
                    match e {
                        StoreError::KeyMismatch { .. } =>
                            "this erasure record does not open with this key".to_string(),
                        other => format!("not a usable erasure record ({other})"),
                    }
                ))
            })?;
            if let Some(mark) = mark_in(records)
                && !record.reaches(&mark)
            {
                return Err(StoreError::Backup(format!(
                    "{}: this erasure record is older than the backup, or from another data directory: erasures made before the backup was taken are missing from it. Pass the `{ERASURES_FILE}` of the data directory the backup came from. Nothing was written.",
                    file.display()
                )));
            }
            Some(record.prints)
        }
        None => None,
    };
    match (given, own) {
        (Some(mut given), Some((_, own))) => {
            given.extend(own.prints.iter().copied());
            Ok(given)
        }
        (Some(given), None) => Ok(given),
        (None, Some((dir, own))) => {
            if let Some(mark) = mark_in(records)
                && !own.reaches(&mark)
                && !without_erasures
            {
                return Err(StoreError::Backup(format!(
                    "the erasure record `{ERASURES_FILE}` in {} does not reach the point this backup's database had reached: the backup came from another database, whose erasures it may not name. Pass --erasures with the `{ERASURES_FILE}` of the data directory the backup came from (both records are then applied), or --without-erasures if you know nothing was erased there since the backup. Nothing was written.",
                    dir.display()
                )));
            }
            Ok(own.prints.clone())
        }
        (None, None) if without_erasures => Ok(HashSet::new()),
        (None, None) => Err(StoreError::Backup(format!(
            "no erasure record: pass --erasures with the `{ERASURES_FILE}` file of the data directory this backup came from, so that members who were forgotten, and reflections deleted, after the backup was made stay erased; or --without-erasures if you know there were none. Nothing was written."
        ))),
    }
}

/// Sets a restored database's own facts in `records`' meta tree: where
/// the erasure record stands (`mark`), and, after an import or a restore
/// (`restored`), that numbers must start above every hundred reserved.
pub(super) fn prepare_meta(records: &mut Records, mark: Mark, restored: bool) {
    let meta = records.entry(trees::META.as_bytes().to_vec()).or_default();
    meta.retain(|(k, _)| k != BACKUP_MADE && k != super::ERASURE_MARK && k != super::RESTORED);
    meta.push((super::ERASURE_MARK.to_vec(), mark.bytes().to_vec()));
    if restored {
        meta.push((super::RESTORED.to_vec(), vec![1]));
    }
}

/// Appends to the erasure record in `dir` (made if there is none) what
/// `erased` names that it lacks, synced; returns its mark. A record only
/// grows: a failure after this leaves it naming more, never less.
fn grow_record(
    dir: &Path,
    envelope: &Envelope,
    erased: &HashSet<Fingerprint>,
) -> Result<Mark, StoreError> {
    let path = dir.join(ERASURES_FILE);
    let mut log = if std::fs::symlink_metadata(&path).is_ok() {
        ErasureLog::open(&path, envelope).map_err(|e| erasure_error(dir, e))?
    } else {
        ErasureLog::create(&path, envelope)?
    };
    let mut new: Vec<Fingerprint> = erased
        .iter()
        .filter(|p| !log.all().contains(*p))
        .copied()
        .collect();
    new.sort_unstable();
    log.append(&new)
}

/// The rows every table of a PostgreSQL store holds, together.
pub(super) fn rows_held(t: &Trees) -> Result<usize, StoreError> {
    let mut n = 0;
    for (_, tree) in t.named() {
        n += tree.len()?;
    }
    Ok(n)
}

/// Replaces every record of a PostgreSQL store's tables with `records`, in
/// one transaction: if anything fails, the database is as it was.
pub(super) fn replace_all(t: &Trees, records: &Records) -> Result<(), StoreError> {
    let named = t.named();
    for (name, entries) in records {
        if !entries.is_empty() && !named.iter().any(|(n, _)| n.as_bytes() == name.as_slice()) {
            return Err(StoreError::Backup(format!(
                "the backup holds records of a kind this version does not know (`{}`): it was made by a newer version. Nothing was written; use that version.",
                String::from_utf8_lossy(name)
            )));
        }
    }
    let mut old = Vec::with_capacity(named.len());
    for (_, tree) in &named {
        old.push(tree.keys().collect::<Result<Vec<_>, StoreError>>()?);
    }
    let tables: Vec<&super::engine::Tree> = named.iter().map(|(_, t)| *t).collect();
    super::engine::run(&tables, &|txs| {
        for (i, (name, _)) in named.iter().enumerate() {
            for k in &old[i] {
                txs[i].remove(k)?;
            }
            for (k, v) in records.get(name.as_bytes()).into_iter().flatten() {
                txs[i].insert(k, v)?;
            }
        }
        Ok(())
    })
}

/// A PostgreSQL store's master key, which must be given.
fn pg_key(key: Option<SecretKey>) -> Result<Envelope, StoreError> {
    key.map(Envelope::new).ok_or_else(super::pg_key_missing)
}

impl Store {
    /// Imports the backup at `path` into the PostgreSQL database `opts`
    /// names, which must hold no record (refused otherwise, with nothing
    /// changed), leaving out what the erasure records name: the one in
    /// `dir` (the store's local directory) if there is one, and the one
    /// `erasures` names (see [`Store::import_from`]). Every record is
    /// written in one transaction: a failure leaves the database empty. The
    /// local erasure record only grows. Then the store is opened and
    /// checked.
    pub fn import_into_postgres(
        path: &Path,
        opts: &super::PgOptions,
        dir: &Path,
        key: Option<SecretKey>,
        erasures: Option<&Path>,
        without_erasures: bool,
    ) -> Result<(Store, Report), StoreError> {
        let envelope = pg_key(key)?;
        disk::prepare_local_dir(dir)?;
        let pg = super::Pg::connect(opts, envelope.master())?;
        let t = Trees::open_pg(&pg)?;
        let held = rows_held(&t)?;
        if held > 0 {
            return Err(StoreError::Backup(format!(
                "the PostgreSQL database already holds {}: `companion db import` fills only an empty database. Nothing was changed. To put a backup in place of what it holds, use `companion db restore --from FILE`.",
                count(held, "record", "records")
            )));
        }
        let mut records = read_backup(path, &envelope)?;
        let own = own_record_if_any(dir, &envelope)?;
        let erased = erased_for_import(
            &records,
            &envelope,
            erasures,
            without_erasures,
            own.as_ref().map(|r| (dir, r)),
        )?;
        let left_out = without_erased(&mut records, &envelope, &erased);
        let mark = grow_record(dir, &envelope, &erased)?;
        prepare_meta(&mut records, mark, true);
        replace_all(&t, &records)?;
        drop(t);
        drop(pg);
        let store = Store::open_postgres(opts, dir, Some(envelope.master().clone()))?;
        let mut report = store.check()?;
        report.erased = left_out;
        Ok((store, report))
    }
}

/// Why `db restore` on PostgreSQL needs `--from`.
pub const POSTGRES_HAS_NO_AUTOMATIC_BACKUPS: &str = "there is no automatic backup in this data directory that opens with the key: on PostgreSQL they are written by the process that runs the upkeep (a bot alone, or the one running shard 0), into its own data directory, once a day. Give the data directory of that process with --data-dir, or a backup made by `companion db export` with --from FILE (the server's own backups, made with pg_dump or pg_basebackup, are restored with the server's tools; the erasure record in the data directory is applied again when the store next opens).";

/// Why `db restore --without-erasures` on PostgreSQL needs `--from`.
pub const POSTGRES_WITHOUT_ERASURES_NEEDS_FROM: &str = "on PostgreSQL, `companion db restore --without-erasures` puts a backup you name with --from FILE in place of every record; it is not how a damaged erasure record is mended, since the database carries the record's entries: move the damaged record aside and start again, and a new one is made from them.";

/// Why `db salvage` is not for PostgreSQL.
pub const POSTGRES_NEEDS_NO_SALVAGE: &str = "`companion db salvage` rebuilds a sled database from what still reads of its damaged files; a PostgreSQL server keeps its own files whole (its write-ahead log replayed after a crash, and page checksums where they are on), so there is nothing of that kind to salvage. To go back to a backup, use `companion db restore --from FILE`.";

/// Replaces every record of the PostgreSQL database `opts` names with the
/// backup `from`, leaving out what the erasure record in `dir` names. The
/// key must open the database's key check, its erasure record and the
/// backup, and the record must reach the points the database and the
/// backup had reached, before anything is written; the records are then
/// replaced in one transaction (a failure leaves the database as it was),
/// and numbers start above every hundred reserved. With
/// `without_erasures`, a missing or damaged record is set aside and a new
/// one begun (what was erased since the backup may come back).
pub fn restore_postgres(
    opts: &super::PgOptions,
    dir: &Path,
    key: Option<SecretKey>,
    from: Option<&Path>,
    without_erasures: bool,
) -> Result<Report, StoreError> {
    let envelope = pg_key(key)?;
    disk::prepare_local_dir(dir)?;
    let (from, chosen) = match from {
        Some(from) => (from.to_path_buf(), None),
        // Rolling the database back to the newest automatic backup to
        // mend a damaged local record would lose up to a day's saves: a
        // record is mended otherwise (`StoreError::LocalErasureRecord`).
        None if without_erasures => {
            return Err(StoreError::NotForPostgres(
                POSTGRES_WITHOUT_ERASURES_NEEDS_FROM,
            ));
        }
        None => {
            let (at, path, _) = newest_readable(dir, &envelope)?.ok_or(
                StoreError::NotForPostgres(POSTGRES_HAS_NO_AUTOMATIC_BACKUPS),
            )?;
            let passed_over = automatic(dir)?
                .iter()
                .filter(|(named, p)| *p != path && *named >= at)
                .filter(|(_, p)| read_file(p, &envelope).is_err())
                .count();
            (path.clone(), Some((path, at, passed_over)))
        }
    };
    let from = from.as_path();
    let pg = super::Pg::connect(opts, envelope.master())?;
    let t = Trees::open_pg(&pg)?;
    let wrong_key = |e| match e {
        StoreError::Crypto(_) => StoreError::KeyMismatch {
            path: dir.to_path_buf(),
            source_name: "the key given".into(),
        },
        other => other,
    };
    if let Some(sealed) = t.meta.get(keys::KEY_CHECK_KEY).map_err(wrong_key)?
        && !keys::opens_check(envelope.master(), &sealed)
    {
        return Err(wrong_key(StoreError::Crypto(super::CryptoError::Open)));
    }
    // On PostgreSQL the record is this machine's own, and the database
    // carries every process's entries: they are made one first (a record
    // that is missing starts empty; one that was changed is refused), and
    // no mark of one process's record is asked of it.
    let carried = super::carried_in(&t, &envelope)?;
    let own = dir.join(ERASURES_FILE);
    if std::fs::symlink_metadata(&own).is_err() {
        ErasureLog::create(&own, &envelope)?;
    }
    let record = match own_record(dir, &envelope) {
        Ok(_) => {
            let mut log = ErasureLog::open(&own, &envelope).map_err(|e| erasure_error(dir, e))?;
            let mut lacking: Vec<Fingerprint> = carried
                .iter()
                .flatten()
                .filter(|p| !log.all().contains(*p))
                .copied()
                .collect();
            lacking.sort_unstable();
            log.append(&lacking)?;
            Some(log.record().clone())
        }
        Err(StoreError::ErasureRecord { .. }) if without_erasures => None,
        Err(e) => return Err(super::local_record_error(dir, e)),
    };
    let mut records = read_backup(from, &envelope)?;
    // The backup's mark names a place in the record of the process that
    // exported it, perhaps on another machine: the entries, not the mark,
    // decide what is left out.
    if let Some(meta) = records.get_mut(trees::META.as_bytes()) {
        meta.retain(|(k, _)| k != super::ERASURE_MARK);
    }
    let record = match record {
        Some(record) => record,
        None => {
            let aside = dir.join(format!("{DAMAGED_PREFIX}{ERASURES_FILE}"));
            std::fs::rename(&own, &aside).map_err(io(&own))?;
            disk::sync_dir(dir).map_err(io(dir))?;
            let mut log = ErasureLog::create(&own, &envelope)?;
            let mut carried: Vec<Fingerprint> = carried.into_iter().flatten().collect();
            carried.sort_unstable();
            log.append(&carried)?;
            log.record().clone()
        }
    };
    let left_out = leave_out_erased(&mut records, Some(&record), &envelope, dir, from)?;
    prepare_meta(&mut records, record.mark(), true);
    replace_all(&t, &records)?;
    drop(t);
    drop(pg);
    let store = Store::open_postgres(opts, dir, Some(envelope.master().clone()))?;
    let mut report = store.check()?;
    store.close(Utc::now())?;
    report.erased = left_out;
    report.chosen = chosen;
    Ok(report)
}

/// The erasure record in `dir`, verified with the key, if there is one.
fn own_record_if_any(dir: &Path, envelope: &Envelope) -> Result<Option<ErasureRecord>, StoreError> {
    if std::fs::symlink_metadata(dir.join(ERASURES_FILE)).is_err() {
        return Ok(None);
    }
    own_record(dir, envelope).map(Some)
}

/// An error reading the erasure record in `dir`, in the operator's words.
fn erasure_error(dir: &Path, e: StoreError) -> StoreError {
    match e {
        StoreError::KeyMismatch { .. } => StoreError::KeyMismatch {
            path: dir.to_path_buf(),
            source_name: "the key given".into(),
        },
        StoreError::Corrupt(why) => StoreError::ErasureRecord {
            path: dir.to_path_buf(),
            why,
        },
        other => other,
    }
}

/// Opens the data directory's key for a command that must not create one.
fn existing_key(dir: &Path, key: Option<SecretKey>) -> Result<(Envelope, String), StoreError> {
    let (master, source) = keys::master_key(dir, key, true)?;
    Ok((Envelope::new(master), source))
}

/// Whether something in `dir` besides its erasure record authenticates under
/// `envelope`'s key: the clean-close seal, or an automatic backup.
pub(super) fn key_proven(
    dir: &Path,
    data: &DataDir,
    envelope: &Envelope,
) -> Result<bool, StoreError> {
    if data.sealed_mark(&|b: &[u8]| envelope.seal_tag(b)).is_some() {
        return Ok(true);
    }
    Ok(automatic(dir)?
        .iter()
        .any(|(_, path)| read_file(path, envelope).is_ok()))
}

/// Checks the database in `dir` without changing it, its backups or its
/// erasure record: whether its files are as sealed at the last clean close,
/// the erasure record against the database's mark, every automatic backup,
/// then a private copy (in `scratch/`, removed afterwards and at the next
/// start) is opened and every record read. Problems are listed.
pub fn check_dir(dir: &Path, key: Option<SecretKey>) -> Result<Report, StoreError> {
    let data = DataDir::lock_readonly(dir)?;
    let (envelope, source) = existing_key(dir, key)?;
    let mut problems = Vec::new();
    let mut proven = false;
    let record = match own_record(dir, &envelope) {
        Ok(r) => Some(r),
        // The key is proven by the clean-close seal or an automatic
        // backup: the record, not the key, is at fault.
        Err(StoreError::KeyMismatch { .. }) if key_proven(dir, &data, &envelope)? => {
            problems.push(format!(
                "the erasure record {}",
                super::KEY_PROVEN_ELSEWHERE
            ));
            proven = true;
            None
        }
        Err(StoreError::KeyMismatch { .. }) => {
            return Err(StoreError::KeyMismatch {
                path: dir.to_path_buf(),
                source_name: source,
            });
        }
        Err(e) => {
            problems.push(match e {
                StoreError::ErasureRecord { why, .. } => format!("the erasure record {why}"),
                other => other.to_string(),
            });
            None
        }
    };
    if let Some(record) = &record
        && let Err(StoreError::ErasureRecord { why, .. }) =
            reaches_sealed_mark(&data, &envelope, record)
    {
        problems.push(format!("the erasure record {why}"));
    }
    let (generation_dir, seal) = data.inspect(&|b: &[u8]| envelope.seal_tag(b))?;
    // With the key proven by the erasure record, a seal that does not
    // authenticate was damaged: the next start treats it as no seal.
    let seal = match seal {
        Seal::WrongKey if record.is_some() || proven => Seal::Missing,
        Seal::Damaged => Seal::Missing,
        seal => seal,
    };
    let unsealed = seal == Seal::Missing;
    match seal {
        Seal::WrongKey => {
            return Err(StoreError::KeyMismatch {
                path: dir.to_path_buf(),
                source_name: source,
            });
        }
        Seal::Differs => problems.push(
            "its files changed after it was last closed cleanly (a damaged disk, or altered)"
                .to_string(),
        ),
        Seal::Matches | Seal::Missing | Seal::Damaged => {}
    }
    let mut backup_problems = Vec::new();
    for (named, path) in automatic(dir)? {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        match read_file(&path, &envelope) {
            Err(_) => backup_problems.push(format!(
                "the automatic backup {name} does not authenticate (damaged, cut short or altered): it cannot be restored"
            )),
            Ok(records) => {
                if made_at(&records).is_some_and(|at| at != named) {
                    backup_problems.push(format!(
                        "the automatic backup {name} was renamed: it was made at another time than its name says"
                    ));
                }
            }
        }
    }
    let record_reported = problems.iter().any(|p| p.starts_with("the erasure record"));
    let scratch = data.scratch("check")?;
    let copy = scratch.join("db");
    let result = disk::copy_dir(&generation_dir, &copy)
        .map_err(io(&copy))
        .and_then(|()| disk::open_scratch(&copy))
        .and_then(|db| {
            let t = Trees::open(&db)?;
            if let Some(sealed) = t.meta.get(keys::KEY_CHECK_KEY)?
                && !keys::opens_check(envelope.master(), &sealed)
            {
                return Err(StoreError::KeyMismatch {
                    path: dir.to_path_buf(),
                    source_name: source.clone(),
                });
            }
            let reached = super::be_u64(t.meta.get(super::COMMIT_SEQ)?.as_deref());
            let mark = t.meta.get(super::ERASURE_MARK)?;
            let live = Live {
                engine: super::Engine::Sled(disk::Generation::scratch(db, &copy)?),
                t,
            };
            let mut report = verify(&live, &envelope, dir)?;
            if let (false, Some(record), Some(mark)) = (record_reported, &record, mark) {
                let reached_mark = Mark::from_bytes(&mark).is_some_and(|m| record.reaches(&m));
                if !reached_mark {
                    report.problems.push(
                        "the erasure record does not hold what the database says it does: it was cut short, replaced or changed".to_string(),
                    );
                }
            }
            match data.committed_seq() {
                Some(confirmed) if unsealed && reached < confirmed => report.problems.push(format!(
                    "it ends before the last change that was confirmed (change {reached} of {confirmed}): part of it is unreadable"
                )),
                None if unsealed => report.problems.push(
                    "the last stop was not clean and the commit counter `seq` is missing or damaged".to_string(),
                ),
                _ => {}
            }
            Ok(report)
        });
    let _ = disk::scrub_dir(&scratch);
    let mut report = match result {
        Err(StoreError::Open { source, .. }) => Report {
            problems: vec![format!("sled cannot read it back ({source})")],
            ..Report::default()
        },
        other => other?,
    };
    let database_trouble = !problems.is_empty() || !report.problems.is_empty();
    let record_trouble = problems
        .iter()
        .chain(&report.problems)
        .any(|p| p.starts_with("the erasure record"));
    let set_aside = set_aside_present(dir)?;
    if set_aside {
        report.problems.push(
            "a damaged database is set aside in it: the next start salvages what still reads of it and removes it (or run `companion db salvage` now)".to_string(),
        );
    }
    let shown = dir.display();
    report.next_step = if record_trouble {
        Some(format!(
            "put the erasure record `{ERASURES_FILE}` back from a copy of the data directory; if it is lost for good, `companion db restore --without-erasures --data-dir {shown}` restores the newest automatic backup and starts a new record (anything erased since that backup may then come back)"
        ))
    } else if database_trouble {
        Some(format!(
            "stop the bot, then run `companion db restore --data-dir {shown}`: it restores the newest automatic backup that authenticates and adds back every reflection that still reads from the damaged database, which it keeps aside until then"
        ))
    } else if !backup_problems.is_empty() {
        Some(format!(
            "the database itself reads whole, so nothing needs restoring. A backup named above cannot be restored as it is: remove it from {}, or move it out to inspect it; a new automatic backup is written within a day of the next change",
            dir.join(BACKUPS_DIR).display()
        ))
    } else if set_aside {
        Some(format!(
            "start the bot as usual, or run `companion db salvage --data-dir {shown}` now"
        ))
    } else {
        None
    };
    problems.append(&mut report.problems);
    problems.append(&mut backup_problems);
    report.problems = problems;
    Ok(report)
}

/// Replaces a damaged database with the newest automatic backup (or
/// `from`), leaving out what the erasure record names, then adds back
/// every record that still reads from the damaged database (set aside
/// first, never scrubbed before its records are salvaged) and removes it.
/// The key must open the erasure record before anything is written; with
/// `without_erasures`, a missing or damaged record is replaced by a new
/// one (what was erased since the backup may come back).
pub fn restore(
    dir: &Path,
    key: Option<SecretKey>,
    from: Option<&Path>,
    without_erasures: bool,
) -> Result<Report, StoreError> {
    let data = DataDir::lock(dir, false).or_else(|e| match e {
        StoreError::Damaged { .. } | StoreError::NoDatabase(_)
            if dir.join(BACKUPS_DIR).is_dir() || from.is_some() =>
        {
            DataDir::lock(dir, true)
        }
        other => Err(other),
    })?;
    let (envelope, _) = existing_key(dir, key)?;
    let record = match own_record(dir, &envelope)
        .and_then(|r| reaches_sealed_mark(&data, &envelope, &r).map(|()| r))
    {
        Ok(record) => Some(record),
        Err(StoreError::ErasureRecord { .. }) if without_erasures => None,
        Err(e) => return Err(e),
    };
    let (mut records, source) = match from {
        Some(p) => (read_file(p, &envelope)?, p.to_path_buf()),
        None => newest_readable(dir, &envelope)?
            .map(|(_, path, records)| (records, path))
            .ok_or_else(|| StoreError::Backup(format!(
                "there is no automatic backup in {} that this key opens; pass --from FILE with a backup made by `companion db export`. Nothing was changed.",
                dir.join(BACKUPS_DIR).display()
            )))?,
    };
    let left_out = leave_out_erased(&mut records, record.as_ref(), &envelope, dir, &source)?;
    data.set_aside(DAMAGED_PREFIX)?;
    let own = dir.join(ERASURES_FILE);
    let mark = match &record {
        Some(record) => record.mark(),
        None => {
            // The old record is unusable: it is set aside like the
            // database, never trusted, and a new one begins.
            if std::fs::symlink_metadata(&own).is_ok() {
                let aside = dir.join(format!("{DAMAGED_PREFIX}{ERASURES_FILE}"));
                std::fs::rename(&own, &aside).map_err(io(&own))?;
                disk::sync_dir(dir).map_err(io(dir))?;
            }
            ErasureLog::create(&own, &envelope)?.record().mark()
        }
    };
    install(&data, &records, &envelope, mark, true)?;
    drop(data);
    // Opening salvages what still reads of the database set aside, then
    // scrubs it (see `Store::rewrite`).
    let store = Store::open_existing(dir, Some(envelope.master().clone()))?;
    let mut report = store.check()?;
    report.salvaged = store
        .shared
        .salvaged
        .load(std::sync::atomic::Ordering::SeqCst);
    store.close(Utc::now())?;
    report.erased = left_out;
    Ok(report)
}

/// The damaged databases set aside in `dir` by `restore` or `salvage`.
fn set_aside(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(DAMAGED_PREFIX) && name != format!("{DAMAGED_PREFIX}{ERASURES_FILE}") {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

/// Whether a damaged database is set aside in `dir`.
pub(super) fn set_aside_present(dir: &Path) -> Result<bool, StoreError> {
    Ok(!set_aside(dir)?.is_empty())
}

/// Adds back every record that still reads from the damaged databases set
/// aside in the store's directory (leaving out what the erasure record
/// names, and reflections that do not decrypt), then scrubs them: nothing
/// erased stays in a copy set aside. Returns how many reflections came back.
pub(super) fn salvage_set_aside(store: &Store) -> Result<usize, StoreError> {
    let mut salvaged = 0;
    let erased = erasures_in(store);
    for source in set_aside(store.dir())? {
        let scratch = store.data()?.scratch("salvage")?;
        let copy = scratch.join("db");
        let found = if std::fs::symlink_metadata(&source).is_ok_and(|m| m.is_dir()) {
            disk::copy_dir(&source, &copy)
                .map_err(io(&copy))
                .and_then(|()| disk::open_scratch(&copy))
                .and_then(|db| records_of(&db))
        } else {
            Err(StoreError::Corrupt("not a folder".into()))
        };
        disk::scrub_dir(&scratch).map_err(io(&scratch))?;
        match found {
            Ok(mut records) => {
                without_erased(&mut records, &store.shared.envelope, &erased);
                salvaged += store.salvage_records(&records)?;
            }
            Err(e) => {
                // Never scrubbed unread: it may be all there is of someone's
                // work. `db check` keeps naming it until an operator acts.
                tracing::warn!(error = %e, path = %source.display(), "a damaged database set aside cannot be read; it is kept as it is");
                continue;
            }
        }
        disk::scrub_dir(&source).map_err(io(&source))?;
    }
    Ok(salvaged)
}

/// Rebuilds the live database from what still reads of it, leaving out
/// what the erasure record names: the live database is set aside, a new
/// empty one installed, and what reads of the old one salvaged into it.
/// The key must open the erasure record before anything is written.
pub fn salvage(dir: &Path, key: Option<SecretKey>) -> Result<Report, StoreError> {
    if !dir.is_dir() {
        return Err(StoreError::NoDatabase(dir.to_path_buf()));
    }
    let data = DataDir::lock(dir, false).or_else(|e| match e {
        StoreError::Damaged { .. } => DataDir::lock(dir, true),
        other => Err(other),
    })?;
    let (envelope, _) = existing_key(dir, key.clone())?;
    let record = own_record(dir, &envelope)?;
    reaches_sealed_mark(&data, &envelope, &record)?;
    let present = data.has_database().unwrap_or(true);
    if present || !set_aside_present(dir)? {
        // What the newest automatic backup holds is the floor; what still
        // reads of the database set aside is added to it.
        let mut base = newest_readable(dir, &envelope)?
            .map(|(_, _, records)| records)
            .unwrap_or_default();
        without_erased(&mut base, &envelope, &record.prints);
        data.set_aside(DAMAGED_PREFIX)?;
        install(&data, &base, &envelope, record.mark(), true)?;
    }
    drop(data);
    let store = Store::open_existing(dir, key)?;
    let salvaged = store
        .shared
        .salvaged
        .load(std::sync::atomic::Ordering::SeqCst);
    let mut report = store.check()?;
    store.close(Utc::now())?;
    report.salvaged = salvaged;
    Ok(report)
}

/// Whether `tree` holds records sealed with a member's key, keyed by member
/// first (besides reflections and summaries, which are salvaged by reading).
fn member_sealed(tree: &[u8]) -> bool {
    [
        trees::SUPERVISION_LOG,
        trees::CASE_PRESENTATIONS,
        trees::HELD_FORMS,
    ]
    .iter()
    .any(|t| t.as_bytes() == tree)
}

/// Whether a member-sealed record opens under `key`.
fn opens_sealed(
    tree: &[u8],
    envelope: &Envelope,
    key: &SecretKey,
    member: u64,
    rk: &[u8],
    sealed: &[u8],
) -> bool {
    if tree == trees::HELD_FORMS.as_bytes() {
        return envelope
            .open_held_form(key, member, sealed.get(8..).unwrap_or_default())
            .is_ok();
    }
    super::supervision::opens_in(tree, envelope, key, rk, sealed).unwrap_or(false)
}

impl Store {
    /// The wrapped key a salvaged record of `member` must open under: the
    /// live database's, or, when it has none, the salvaged database's.
    fn key_to_salvage(
        &self,
        live: &Live,
        member: [u8; 8],
        salvaged_keys: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(match live.t.member_keys.get(member)? {
            Some(w) => Some(w.to_vec()),
            None => salvaged_keys
                .iter()
                .find(|(mk, _)| mk[..] == member[..])
                .map(|(_, w)| w.clone()),
        })
    }

    /// Adds what is missing from the live database: records of every kind
    /// the live one lacks, member keys that unwrap, reflections that
    /// decrypt; then sets each member's counter from what is there.
    fn salvage_records(&self, records: &Records) -> Result<usize, StoreError> {
        let envelope = &self.shared.envelope;
        let empty = Vec::new();
        let get = |tree: &str| records.get(tree.as_bytes()).unwrap_or(&empty);
        self.with(|live| {
            for (name, entries) in records {
                let plain = [
                    trees::META,
                    trees::MEMBER_KEYS,
                    trees::REFLECTIONS,
                    trees::SUMMARIES,
                    trees::COUNTERS,
                ];
                if plain.iter().any(|t| t.as_bytes() == name.as_slice()) {
                    continue;
                }
                let tree = live.generation()?.db.open_tree(name)?;
                for (k, v) in entries {
                    if tree.contains_key(k)? {
                        continue;
                    }
                    // A member's sealed record comes back only with a key
                    // that opens it: the live one, or the salvaged one
                    // when the live database has none for the member.
                    if let Some(member) = member_sealed(name)
                        .then(|| k.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()))
                    {
                        let Some(member) = member else { continue };
                        let Some(wrapped) =
                            self.key_to_salvage(live, member, get(trees::MEMBER_KEYS))?
                        else {
                            continue;
                        };
                        let id = u64::from_be_bytes(member);
                        let Ok(key) = envelope.unwrap_member_key(id, &wrapped) else {
                            continue;
                        };
                        if !opens_sealed(name, envelope, &key, id, k, v) {
                            continue;
                        }
                        live.t.member_keys.insert(member, wrapped)?;
                    }
                    tree.insert(k.as_slice(), v.as_slice())?;
                }
            }
            let mut added = 0;
            let mut touched = Vec::new();
            for (k, v) in get(trees::REFLECTIONS) {
                let Some(member) = k.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()) else {
                    continue;
                };
                if live.t.reflections.contains_key(k)? {
                    continue;
                }
                let wrapped = match live.t.member_keys.get(member)? {
                    Some(w) => w.to_vec(),
                    None => match get(trees::MEMBER_KEYS)
                        .iter()
                        .find(|(mk, _)| mk[..] == member[..])
                    {
                        Some((_, w)) => w.clone(),
                        None => continue,
                    },
                };
                let id = u64::from_be_bytes(member);
                let Ok(key) = envelope.unwrap_member_key(id, &wrapped) else {
                    continue;
                };
                let Ok(reflection) = envelope.open_reflection(&key, k, v) else {
                    continue;
                };
                let summary = envelope.seal_summary(&key, k, &Summary::of(&reflection))?;
                live.t.member_keys.insert(member, wrapped)?;
                live.t.reflections.insert(k.as_slice(), v.as_slice())?;
                live.t.summaries.insert(k.as_slice(), summary)?;
                touched.push(member);
                added += 1;
            }
            touched.dedup();
            for member in touched {
                let old_last = match live.t.counters.get(member)? {
                    Some(b) if b.len() >= 8 => {
                        u64::from_be_bytes(b[..8].try_into().unwrap_or_default())
                    }
                    _ => 0,
                };
                let (mut highest, mut n) = (old_last, 0u64);
                for entry in live.t.reflections.scan_prefix(member) {
                    let key = entry?.0;
                    highest = highest.max(
                        key.get(8..16)
                            .and_then(|b| <[u8; 8]>::try_from(b).ok())
                            .map_or(0, u64::from_be_bytes),
                    );
                    n += 1;
                }
                let mut bytes = [0u8; 16];
                bytes[..8].copy_from_slice(&highest.to_be_bytes());
                bytes[8..].copy_from_slice(&n.to_be_bytes());
                live.t.counters.insert(member, &bytes[..])?;
            }
            self.commit(live)?;
            Ok(added)
        })
    }
}

/// On PostgreSQL, where bot processes on one machine may share a data
/// directory, holds its `backups/` folder (a lock on the folder itself,
/// never followed if it is a link) while one of them writes or purges the
/// backups in it, so no process renames or scrubs a file another is
/// writing; let go when dropped. A sled data directory has one process.
fn hold_shared_backups(store: &Store, folder: &Path) -> Result<Option<fs::File>, StoreError> {
    if !store.on_postgres() {
        return Ok(None);
    }
    let held = disk::open_no_follow(folder, false).map_err(io(folder))?;
    held.lock().map_err(io(folder))?;
    Ok(Some(held))
}

/// Rewrites each automatic backup without the records the erasure record
/// names: after a rewrite of the database, nothing erased stays in the data
/// directory's backups either.
pub(super) fn purge(store: &Store) -> Result<(), StoreError> {
    let erased = erasures_in(store);
    if erased.is_empty() {
        return Ok(());
    }
    let _backups = store.backups_lock();
    let folder = store.dir().join(BACKUPS_DIR);
    if !folder.exists() {
        return Ok(());
    }
    let _shared = hold_shared_backups(store, &folder)?;
    let envelope = &store.shared.envelope;
    for (_, path) in automatic(store.dir())? {
        let Ok(mut records) = read_file(&path, envelope) else {
            // A backup this key cannot read restores nothing, and may hold
            // what was erased: it goes.
            disk::scrub_file(&path).map_err(io(&path))?;
            continue;
        };
        if without_erased(&mut records, envelope, &erased) == 0 {
            continue;
        }
        // The new file replaces the old by rename; the old one's bytes are
        // then overwritten through a handle opened before, so a crash
        // leaves one whole backup under the name, never none.
        let old = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        let tmp = path.with_extension("pcbk.tmp");
        let _ = fs::remove_file(&tmp);
        let made = made_at(&records).unwrap_or_else(Utc::now);
        write_file(&records, envelope, &tmp, made)?;
        fs::rename(&tmp, &path).map_err(io(&path))?;
        if let Some(dir) = path.parent() {
            disk::sync_dir(dir).map_err(io(&path))?;
        }
        disk::zero(&old).map_err(io(&path))?;
    }
    Ok(())
}

/// Reads length-prefixed pieces off the front of a byte slice.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("the file ends early".into());
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let bytes: [u8; 4] = self.take(4)?.try_into().map_err(|_| "bad length")?;
        Ok(u32::from_be_bytes(bytes))
    }

    fn u64(&mut self) -> Result<u64, String> {
        let bytes: [u8; 8] = self.take(8)?.try_into().map_err(|_| "bad count")?;
        Ok(u64::from_be_bytes(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restore_keeps_no_summary_without_its_reflection() {
        let envelope = Envelope::new(SecretKey::generate());
        let member = 1u64.to_be_bytes().to_vec();
        let key = |id: u64| [member.clone(), id.to_be_bytes().to_vec()].concat();
        let mut records = Records::new();
        records.insert(
            trees::MEMBER_KEYS.as_bytes().to_vec(),
            vec![(member.clone(), b"wrapped".to_vec())],
        );
        records.insert(
            trees::REFLECTIONS.as_bytes().to_vec(),
            vec![(key(1), b"body 1".to_vec())],
        );
        records.insert(
            trees::SUMMARIES.as_bytes().to_vec(),
            vec![
                (key(1), b"summary 1".to_vec()),
                (key(2), b"summary 2".to_vec()),
            ],
        );
        let left_out = without_erased(&mut records, &envelope, &HashSet::new());
        assert_eq!(left_out, 1);
        assert_eq!(
            records[trees::SUMMARIES.as_bytes()],
            vec![(key(1), b"summary 1".to_vec())]
        );
    }
}
