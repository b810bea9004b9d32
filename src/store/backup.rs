//! Backups: the whole database to one file and back, and a check that every
//! record can still be read.
//!
//! The export holds the records exactly as stored, so reflections stay sealed
//! with their members' keys and the key check travels with them: a backup is
//! useless without the master key, as the database is. The file is
//! `PCBK1\n`, then per tree its name and entries (length-prefixed bytes),
//! then an FNV-1a checksum of everything before it.

use std::fs;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

use super::crypto::SecretKey;
use super::{Store, StoreError};

const MAGIC: &[u8] = b"PCBK1\n";

/// What a check or an import found.
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
    /// Records that could not be read, described without their contents.
    pub problems: Vec<String>,
}

impl Report {
    /// "12 records; 3 reflections of 2 members", for people.
    pub fn summary(&self) -> String {
        let count =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        format!(
            "{}; {} of {}",
            count(self.records, "record", "records"),
            count(self.reflections, "reflection", "reflections"),
            count(self.members, "member", "members")
        )
    }
}

struct Checksum(u64);

impl Checksum {
    fn new() -> Checksum {
        Checksum(0xcbf2_9ce4_8422_2325)
    }
    fn add(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::File {
        path: path.to_path_buf(),
        source,
    }
}

impl Store {
    /// Writes every tree to `path` (created; refused if it exists).
    pub fn export_to(&self, path: &Path) -> Result<Report, StoreError> {
        self.flush()?;
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(io(path))?;
        let mut out = BufWriter::new(file);
        let mut sum = Checksum::new();
        let mut write = |bytes: &[u8]| -> Result<(), StoreError> {
            sum.add(bytes);
            out.write_all(bytes).map_err(io(path))
        };
        write(MAGIC)?;
        let mut report = Report::default();
        for name in self.db.tree_names() {
            let tree = self.db.open_tree(&name)?;
            write(&(name.len() as u32).to_be_bytes())?;
            write(&name)?;
            write(&(tree.len() as u64).to_be_bytes())?;
            for entry in tree.iter() {
                let (k, v) = entry?;
                write(&(k.len() as u32).to_be_bytes())?;
                write(&k)?;
                write(&(v.len() as u32).to_be_bytes())?;
                write(&v)?;
                report.records += 1;
            }
            report.trees += 1;
        }
        let digest = sum.0.to_be_bytes();
        out.write_all(&digest).map_err(io(path))?;
        let file = out.into_inner().map_err(|e| io(path)(e.into_error()))?;
        file.sync_all().map_err(io(path))?;
        Ok(report)
    }

    /// Restores a backup into `dir`, which must not hold a database yet, then
    /// opens it with `key` (so a wrong key is found at once) and checks it.
    pub fn import_from(
        path: &Path,
        dir: &Path,
        key: Option<SecretKey>,
    ) -> Result<(Store, Report), StoreError> {
        if dir.join("db").exists() {
            return Err(StoreError::File {
                path: dir.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "it already holds a database; import into an empty directory",
                ),
            });
        }
        let mut bytes = Vec::new();
        fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(io(path))?;
        let entries = parse(&bytes)
            .map_err(|why| StoreError::Corrupt(format!("{}: {why}", path.display())))?;
        super::create_private_dir(dir)?;
        {
            let db = super::open_db(dir)?;
            for (tree_name, records) in &entries {
                let tree = db.open_tree(tree_name)?;
                for (k, v) in records {
                    tree.insert(k.as_slice(), v.as_slice())?;
                }
            }
            db.flush()?;
        }
        let store = Store::open(dir, key)?;
        let report = store.check()?;
        Ok((store, report))
    }

    /// Reads every record; decrypts every reflection with its member's key.
    pub fn check(&self) -> Result<Report, StoreError> {
        let mut report = Report::default();
        for name in self.db.tree_names() {
            report.trees += 1;
            report.records += self.db.open_tree(&name)?.len();
        }
        let mut members: Vec<u64> = Vec::new();
        for entry in self.reflections.iter().keys() {
            let key = entry?;
            if let Ok(member) = <[u8; 8]>::try_from(&key[..8.min(key.len())]) {
                let member = u64::from_be_bytes(member);
                if members.last() != Some(&member) {
                    members.push(member);
                }
            }
        }
        report.members = members.len();
        for member in members {
            match self.reflections_of(member) {
                Ok(all) => report.reflections += all.len(),
                Err(e) => report.problems.push(format!("a member's reflections: {e}")),
            }
        }
        Ok(report)
    }
}

type Trees = Vec<(Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>)>;

fn parse(bytes: &[u8]) -> Result<Trees, String> {
    let body_len = bytes
        .len()
        .checked_sub(8)
        .ok_or("too short to be a backup")?;
    let (body, digest) = bytes.split_at(body_len);
    let mut sum = Checksum::new();
    sum.add(body);
    if sum.0.to_be_bytes() != digest {
        return Err("the checksum does not match: the file is damaged or incomplete".into());
    }
    let mut cursor = Cursor(
        body.strip_prefix(MAGIC)
            .ok_or("not a practice-companion backup")?,
    );
    let mut trees = Vec::new();
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
        trees.push((name, records));
    }
    Ok(trees)
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
    use super::super::tests::temp_dir;
    use super::*;
    use crate::framework::Framework;
    use crate::reflections::{Draft, Mode};

    #[test]
    fn a_backup_round_trips_and_stays_encrypted() {
        let f = Framework::builtin().unwrap();
        let key = SecretKey::generate();
        let dir = temp_dir("backup-src");
        let file = temp_dir("backup-file").with_extension("bak");
        let marker = "backup-marker-5c1e";
        {
            let store = Store::open(&dir, Some(key.clone())).unwrap();
            for member in [1, 2] {
                let draft = Draft {
                    text: format!("{marker} for {member}"),
                    mode: Mode::Therapy,
                    ..Draft::default()
                };
                store
                    .save_reflection(member, draft.validated().unwrap(), &f, chrono::Utc::now())
                    .unwrap();
            }
            let report = store.export_to(&file).unwrap();
            assert!(report.records >= 2);
            assert!(
                store.export_to(&file).is_err(),
                "an existing file is never overwritten"
            );
        }
        let bytes = fs::read(&file).unwrap();
        assert!(
            !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
            "the export stays encrypted"
        );

        let target = temp_dir("backup-dst");
        assert!(
            Store::import_from(&file, &target, Some(SecretKey::generate())).is_err(),
            "the wrong key is refused"
        );
        let _ = fs::remove_dir_all(&target);
        let (restored, report) = Store::import_from(&file, &target, Some(key.clone())).unwrap();
        assert_eq!((report.reflections, report.members), (2, 2));
        assert!(report.problems.is_empty());
        assert!(
            restored
                .reflection(2, 1)
                .unwrap()
                .unwrap()
                .text
                .contains(marker)
        );

        let mut damaged = bytes.clone();
        let middle = damaged.len() / 2;
        damaged[middle] ^= 0xff;
        let damaged_file = temp_dir("backup-damaged").with_extension("bak");
        fs::write(&damaged_file, damaged).unwrap();
        let err =
            Store::import_from(&damaged_file, &temp_dir("backup-dst2"), Some(key)).unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
    }
}
