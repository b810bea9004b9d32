//! The encryption envelope, apart from any storage engine: how a reflection
//! and a member's key are sealed, the keys derived from the master key, the
//! fingerprints that name a superseded record without revealing it, and the
//! erasure record kept outside the database.
//!
//! - A reflection is sealed with its author's data key, the record's storage
//!   key bound in as associated data ([`super::crypto`]).
//! - A member's data key is wrapped by the master key, bound to the member.
//! - From the master key, HKDF-SHA256 derives one key for fingerprints of
//!   erased records and one for authenticating backups; neither can be used
//!   to decrypt anything.
//! - A fingerprint is HMAC-SHA256(erasure key, tree ‖ key ‖ value), cut to
//!   16 bytes: it recognises the exact sealed bytes that were erased, and
//!   tells nobody without the master key which member or record it was.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::StoreError;
use super::crypto::SecretKey;
use super::disk::private_options;
use crate::framework::{Code, CompetenceId, DomainId};
use crate::reflections::{Reflection, Summary};

type HmacSha256 = Hmac<Sha256>;

/// Bytes of a fingerprint.
pub const FINGERPRINT_LEN: usize = 16;
/// A fingerprint of one erased record.
pub type Fingerprint = [u8; FINGERPRINT_LEN];

/// The master key and the keys derived from it.
#[derive(Clone)]
pub struct Envelope {
    master: SecretKey,
    erasure: Zeroizing<[u8; 32]>,
    backup: Zeroizing<[u8; 32]>,
    seal: Zeroizing<[u8; 32]>,
    /// Seals the records that belong to a server rather than to one member
    /// (its meetings and rota), so the database's files show none of them.
    server: SecretKey,
}

impl std::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Envelope(<redacted>)")
    }
}

fn member_key_aad(member: u64) -> Vec<u8> {
    let mut aad = b"member-key:".to_vec();
    aad.extend_from_slice(&member.to_be_bytes());
    aad
}

fn record_aad(record_key: &[u8]) -> Vec<u8> {
    let mut aad = b"reflection:".to_vec();
    aad.extend_from_slice(record_key);
    aad
}

fn held_aad(member: u64) -> Vec<u8> {
    let mut aad = b"held-form:".to_vec();
    aad.extend_from_slice(&member.to_be_bytes());
    aad
}

fn kind_aad(kind: &str, record_key: &[u8]) -> Vec<u8> {
    let mut aad = kind.as_bytes().to_vec();
    aad.push(b':');
    aad.extend_from_slice(record_key);
    aad
}

fn summary_aad(record_key: &[u8]) -> Vec<u8> {
    let mut aad = b"summary:".to_vec();
    aad.extend_from_slice(record_key);
    aad
}

/// A summary's layout, read on every list, so kept compact: version 1,
/// number (u64 BE), created (seconds i64 BE, nanoseconds u32 BE), tag count
/// (u8) and each tag as domain, area, number (u8 each), then the heading
/// (UTF-8, to the end).
const SUMMARY_V1: u8 = 1;

fn encode_summary(summary: &Summary) -> Vec<u8> {
    let tags = summary.competences.len().min(usize::from(u8::MAX));
    let mut out = Vec::with_capacity(22 + 3 * tags + summary.heading.len());
    out.push(SUMMARY_V1);
    out.extend_from_slice(&summary.id.to_be_bytes());
    out.extend_from_slice(&summary.created.timestamp().to_be_bytes());
    out.extend_from_slice(&summary.created.timestamp_subsec_nanos().to_be_bytes());
    out.push(tags as u8);
    for id in summary.competences.iter().take(tags) {
        out.push(match id.domain {
            DomainId::Core => 0,
            DomainId::Integration => 1,
        });
        out.push(id.code.area);
        out.push(id.code.number);
    }
    out.extend_from_slice(summary.heading.as_bytes());
    out
}

fn decode_summary(bytes: &[u8]) -> Option<Summary> {
    let (&version, rest) = bytes.split_first()?;
    if version != SUMMARY_V1 || rest.len() < 21 {
        return None;
    }
    let id = u64::from_be_bytes(rest[..8].try_into().ok()?);
    let secs = i64::from_be_bytes(rest[8..16].try_into().ok()?);
    let nanos = u32::from_be_bytes(rest[16..20].try_into().ok()?);
    let tags = usize::from(rest[20]);
    let tag_bytes = rest.get(21..21 + 3 * tags)?;
    let competences = tag_bytes
        .chunks_exact(3)
        .map(|t| {
            let domain = match t[0] {
                0 => DomainId::Core,
                1 => DomainId::Integration,
                _ => return None,
            };
            Some(CompetenceId::new(domain, Code::new(t[1], t[2])))
        })
        .collect::<Option<Vec<_>>>()?;
    let heading = std::str::from_utf8(rest.get(21 + 3 * tags..)?)
        .ok()?
        .to_string();
    Some(Summary {
        id,
        created: chrono::DateTime::from_timestamp(secs, nanos)?,
        heading,
        competences,
    })
}

fn seal_json<T: serde::Serialize>(
    key: &SecretKey,
    aad: &[u8],
    value: &T,
) -> Result<Vec<u8>, StoreError> {
    let plaintext =
        Zeroizing::new(serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(e.to_string()))?);
    Ok(key.seal(aad, &plaintext)?)
}

fn open_json<T: serde::de::DeserializeOwned>(
    key: &SecretKey,
    aad: &[u8],
    sealed: &[u8],
    what: &str,
) -> Result<T, StoreError> {
    let plaintext = key.open(aad, sealed)?;
    // serde's message may quote the text: name only where it failed.
    serde_json::from_slice(&plaintext).map_err(|e| {
        StoreError::Corrupt(format!(
            "{what} ({:?} error at line {}, column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    })
}

impl Envelope {
    /// The envelope of a master key.
    pub fn new(master: SecretKey) -> Envelope {
        let derive = |info: &[u8]| {
            let hk = hkdf::Hkdf::<Sha256>::new(Some(b"practice-companion"), master.expose());
            let mut out = Zeroizing::new([0u8; 32]);
            // 32 bytes is far below HKDF-SHA256's limit of 8,160.
            let _ = hk.expand(info, &mut out[..]);
            out
        };
        Envelope {
            erasure: derive(b"erasure record v1"),
            backup: derive(b"backup authentication v1"),
            seal: derive(b"clean close seal v1"),
            server: SecretKey::from_bytes(*derive(b"server records v1")),
            master,
        }
    }

    /// The master key itself (for the key check).
    pub fn master(&self) -> &SecretKey {
        &self.master
    }

    /// Seals a member's data key under the master key.
    pub fn wrap_member_key(&self, member: u64, key: &SecretKey) -> Result<Vec<u8>, StoreError> {
        Ok(self.master.wrap(&member_key_aad(member), key)?)
    }

    /// Opens a member's wrapped data key.
    pub fn unwrap_member_key(&self, member: u64, wrapped: &[u8]) -> Result<SecretKey, StoreError> {
        Ok(self.master.unwrap_key(&member_key_aad(member), wrapped)?)
    }

    /// Seals a reflection with its author's data key, bound to `record_key`.
    pub fn seal_reflection(
        &self,
        key: &SecretKey,
        record_key: &[u8],
        reflection: &Reflection,
    ) -> Result<Vec<u8>, StoreError> {
        seal_json(key, &record_aad(record_key), reflection)
    }

    /// Opens a reflection sealed by [`Envelope::seal_reflection`].
    pub fn open_reflection(
        &self,
        key: &SecretKey,
        record_key: &[u8],
        sealed: &[u8],
    ) -> Result<Reflection, StoreError> {
        open_json(key, &record_aad(record_key), sealed, "a reflection")
    }

    /// Seals any other record of a member's (`kind` names its kind, so a
    /// record of one kind never opens as another) with their data key,
    /// bound to `record_key`.
    pub fn seal_record<T: serde::Serialize>(
        &self,
        key: &SecretKey,
        kind: &str,
        record_key: &[u8],
        value: &T,
    ) -> Result<Vec<u8>, StoreError> {
        seal_json(key, &kind_aad(kind, record_key), value)
    }

    /// Opens a record sealed by [`Envelope::seal_record`].
    pub fn open_record<T: serde::de::DeserializeOwned>(
        &self,
        key: &SecretKey,
        kind: &str,
        record_key: &[u8],
        sealed: &[u8],
    ) -> Result<T, StoreError> {
        open_json(key, &kind_aad(kind, record_key), sealed, kind)
    }

    /// Seals a record of a server's (`kind` names its kind) with the key
    /// derived for server records, bound to `record_key`: what the group
    /// shares is still no one's to read from the database's files.
    pub fn seal_server_record<T: serde::Serialize>(
        &self,
        kind: &str,
        record_key: &[u8],
        value: &T,
    ) -> Result<Vec<u8>, StoreError> {
        seal_json(&self.server, &kind_aad(kind, record_key), value)
    }

    /// Opens a record sealed by [`Envelope::seal_server_record`].
    pub fn open_server_record<T: serde::de::DeserializeOwned>(
        &self,
        kind: &str,
        record_key: &[u8],
        sealed: &[u8],
    ) -> Result<T, StoreError> {
        open_json(&self.server, &kind_aad(kind, record_key), sealed, kind)
    }

    /// Seals a reflection's summary, bound to the reflection's `record_key`
    /// (with its own associated data: a summary never opens as a body).
    pub fn seal_summary(
        &self,
        key: &SecretKey,
        record_key: &[u8],
        summary: &Summary,
    ) -> Result<Vec<u8>, StoreError> {
        let plaintext = Zeroizing::new(encode_summary(summary));
        Ok(key.seal(&summary_aad(record_key), &plaintext)?)
    }

    /// Opens a summary sealed by [`Envelope::seal_summary`].
    pub fn open_summary(
        &self,
        key: &SecretKey,
        record_key: &[u8],
        sealed: &[u8],
    ) -> Result<Summary, StoreError> {
        let plaintext = key.open(&summary_aad(record_key), sealed)?;
        decode_summary(&plaintext)
            .ok_or_else(|| StoreError::Corrupt("a summary has an unknown layout".into()))
    }

    /// Seals a member's held form with their data key, bound to the member.
    pub fn seal_held_form(
        &self,
        key: &SecretKey,
        member: u64,
        held: &crate::reflections::form::Held,
    ) -> Result<Vec<u8>, StoreError> {
        seal_json(key, &held_aad(member), held)
    }

    /// Opens a form sealed by [`Envelope::seal_held_form`].
    pub fn open_held_form(
        &self,
        key: &SecretKey,
        member: u64,
        sealed: &[u8],
    ) -> Result<crate::reflections::form::Held, StoreError> {
        open_json(key, &held_aad(member), sealed, "a held form")
    }

    /// The fingerprint of one stored record: which tree, its key, its bytes.
    pub fn fingerprint(&self, tree: &[u8], key: &[u8], value: &[u8]) -> Fingerprint {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.erasure[..])
            .expect("HMAC takes a key of any length");
        for part in [tree, key, value] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; FINGERPRINT_LEN];
        out.copy_from_slice(&full[..FINGERPRINT_LEN]);
        out
    }

    /// The tag that authenticates one entry of the erasure record as the
    /// PostgreSQL database carries it: a row holding anything else was
    /// changed, or written without the master key.
    pub fn carried_tag(&self, print: &Fingerprint) -> [u8; 32] {
        let mut mac = record_mac(&self.erasure);
        mac.update(b"practice-companion erasure carried by the database v1");
        mac.update(print);
        mac.finalize().into_bytes().into()
    }

    /// The tag that authenticates the seal written at a clean close, as hex.
    pub fn seal_tag(&self, bytes: &[u8]) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.seal[..])
            .expect("HMAC takes a key of any length");
        mac.update(bytes);
        hex::encode(mac.finalize().into_bytes())
    }

    /// A MAC for a backup's body.
    pub fn backup_mac(&self) -> HmacSha256 {
        <HmacSha256 as Mac>::new_from_slice(&self.backup[..])
            .expect("HMAC takes a key of any length")
    }
}

/// The erasure record: fingerprints of every record erased from this data
/// directory (forgotten members, deleted reflections, the versions an edit
/// replaced, numbers that may never be given again), appended and synced
/// before the erasure is confirmed. It lives beside the database, not in it,
/// so that a restore of an older backup can leave out what was erased after
/// the backup was made.
///
/// The file is authenticated with a key derived from the master key, so a
/// changed, cut or replaced record is found, and so is a wrong key:
///
/// ```text
/// PCER2\n
/// header MAC (32)     HMAC(erasure key, "practice-companion erasure record v2")
/// block*              count (u32 BE) ‖ count × fingerprint (16) ‖ MAC (32)
/// ```
///
/// A block whose count has its top bit set ([`TAKEN_BACK`]) takes back
/// the fingerprints it names: they were appended for an erasure whose
/// transaction then failed (the member was told it was not done), so no
/// restore, import or merge may make it later. A later block naming them
/// again erases them again.
///
/// Each block's MAC covers the MAC before it (the header's for the first),
/// its count and its fingerprints: a chain, so no block can be changed,
/// reordered or dropped from the middle. Dropping blocks from the end is
/// found with the [`Mark`] the database keeps: the number of fingerprints
/// and the chain's MAC after its last erasure, committed with the erasure.
#[derive(Debug)]
pub struct ErasureLog {
    path: PathBuf,
    file: File,
    key: Zeroizing<[u8; 32]>,
    record: ErasureRecord,
    /// Fingerprints appended for erasures whose transaction's answer was
    /// lost (they may have been made, or not), until a PostgreSQL merge
    /// settles them (`Store::merge_erasures`). Kept in memory only.
    pub unsettled: Vec<Fingerprint>,
    /// Fingerprints to take back whose taking back could not be written
    /// (a failing disk): written before anything else the next time the
    /// record is held ([`ErasureLog::hold`]). Kept in memory only.
    owed: Vec<Fingerprint>,
}

/// What an erasure record holds, read and verified.
#[derive(Debug, Clone, Default)]
pub struct ErasureRecord {
    /// Every fingerprint it names as erased (none it took back since).
    pub prints: HashSet<Fingerprint>,
    /// The mark after each block, oldest first (the header's first).
    pub marks: Vec<Mark>,
    /// The length of the verified part; anything after it is a torn append
    /// (never confirmed) or damage, which the database's mark tells apart.
    pub good_len: u64,
    /// Whether a short piece follows the verified part (an append cut off
    /// by a crash: never confirmed).
    pub torn_tail: bool,
    /// Whether a whole block follows the verified part that does not
    /// authenticate: the record was changed.
    pub altered: bool,
    /// Whether this is a record from before authentication (`PCER1`).
    pub legacy: bool,
    /// Whether the record may hold blocks taking fingerprints back (its
    /// magic is [`MAGIC_TAKING_BACK`]).
    pub takes_back: bool,
}

/// Where an erasure record stood after an erasure: how many fingerprints,
/// and the chain's MAC there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    /// Fingerprints up to this point.
    pub count: u64,
    /// The chain's MAC after them.
    pub mac: [u8; 32],
}

impl Mark {
    /// 8 bytes of count, then the MAC.
    pub fn bytes(&self) -> [u8; 40] {
        let mut out = [0u8; 40];
        out[..8].copy_from_slice(&self.count.to_be_bytes());
        out[8..].copy_from_slice(&self.mac);
        out
    }

    /// Reads [`Mark::bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Option<Mark> {
        let count = u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?);
        let mac = bytes.get(8..40)?.try_into().ok()?;
        (bytes.len() == 40).then_some(Mark { count, mac })
    }
}

impl ErasureRecord {
    /// Whether this record reaches `mark`: it holds the very fingerprints the
    /// database's mark was taken after (a record cut short, replaced or from
    /// another directory does not).
    pub fn reaches(&self, mark: &Mark) -> bool {
        !self.altered && (self.legacy && mark.count == 0 || self.marks.contains(mark))
    }

    /// The newest mark.
    pub fn mark(&self) -> Mark {
        self.marks.last().copied().unwrap_or(Mark {
            count: 0,
            mac: [0; 32],
        })
    }
}

/// The erasure record's file name in the data directory.
pub const ERASURES_FILE: &str = "erasures";
const MAGIC: &[u8] = b"PCER2\n";
/// The magic of a record that holds a block taking fingerprints back
/// ([`TAKEN_BACK`]): written over [`MAGIC`] before the first such block,
/// so a binary from before them refuses the record instead of misreading
/// it. Read as [`MAGIC`] is otherwise.
const MAGIC_TAKING_BACK: &[u8] = b"PCER3\n";
const OLD_MAGIC: &[u8] = b"PCER1\n";
const HEADER_TEXT: &[u8] = b"practice-companion erasure record v2";
const MAC_LEN: usize = 32;
/// The top bit of a block's count: the block takes its fingerprints back.
pub const TAKEN_BACK: u32 = 0x8000_0000;
/// The length of an authenticated record with nothing erased in it.
pub const EMPTY_RECORD_LEN: u64 = (MAGIC.len() + MAC_LEN) as u64;

fn record_mac(key: &[u8; 32]) -> HmacSha256 {
    <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes a key of any length")
}

fn header_mac(key: &[u8; 32]) -> [u8; 32] {
    let mut mac = record_mac(key);
    mac.update(HEADER_TEXT);
    mac.finalize().into_bytes().into()
}

/// A block's MAC: over the MAC before it, its count word as written (with
/// [`TAKEN_BACK`], when set) and its fingerprints.
fn block_mac(key: &[u8; 32], prev: &[u8; 32], word: u32, prints: &[u8]) -> [u8; 32] {
    let mut mac = record_mac(key);
    mac.update(prev);
    mac.update(&word.to_be_bytes());
    mac.update(prints);
    mac.finalize().into_bytes().into()
}

/// Whether the first block of `blocks` authenticates under `key`, chained
/// from `header`.
fn first_block_opens(key: &[u8; 32], header: &[u8; 32], blocks: &[u8]) -> bool {
    let Some(word) = blocks
        .get(..4)
        .map(|n| u32::from_be_bytes([n[0], n[1], n[2], n[3]]))
    else {
        return false;
    };
    let n = (word & !TAKEN_BACK) as usize;
    let Some(len) = n.checked_mul(FINGERPRINT_LEN) else {
        return false;
    };
    match (
        blocks.get(4..4 + len),
        blocks.get(4 + len..4 + len + MAC_LEN),
    ) {
        (Some(body), Some(mac)) => n > 0 && block_mac(key, header, word, body)[..] == *mac,
        _ => false,
    }
}

fn encode_block(
    key: &[u8; 32],
    prev: &[u8; 32],
    prints: &[Fingerprint],
    taken_back: bool,
) -> (Vec<u8>, [u8; 32]) {
    let body: Vec<u8> = prints.iter().flatten().copied().collect();
    let word = prints.len() as u32 | if taken_back { TAKEN_BACK } else { 0 };
    let mac = block_mac(key, prev, word, &body);
    let mut out = Vec::with_capacity(4 + body.len() + MAC_LEN);
    out.extend_from_slice(&word.to_be_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&mac);
    (out, mac)
}

/// Why an erasure record cannot be used, in words for the operator (the
/// caller names the file).
fn unusable(_path: &Path, why: &str) -> StoreError {
    StoreError::Corrupt(why.to_string())
}

impl ErasureLog {
    /// Creates a new, empty erasure record at `path` (never over an existing
    /// file), synced with its directory.
    pub fn create(path: &Path, envelope: &Envelope) -> Result<ErasureLog, StoreError> {
        let err = |source| StoreError::File {
            path: path.to_path_buf(),
            source,
        };
        let key = envelope.erasure.clone();
        let header = header_mac(&key);
        let mut file = private_options(OpenOptions::new().read(true).write(true).create_new(true))
            .open(path)
            .map_err(err)?;
        file.write_all(MAGIC).map_err(err)?;
        file.write_all(&header).map_err(err)?;
        file.sync_all().map_err(err)?;
        if let Some(dir) = path.parent() {
            super::disk::sync_dir(dir).map_err(err)?;
        }
        let good_len = (MAGIC.len() + MAC_LEN) as u64;
        Ok(ErasureLog {
            path: path.to_path_buf(),
            file,
            key,
            unsettled: Vec::new(),
            owed: Vec::new(),
            record: ErasureRecord {
                marks: vec![Mark {
                    count: 0,
                    mac: header,
                }],
                good_len,
                ..ErasureRecord::default()
            },
        })
    }

    /// Opens the existing erasure record at `path` for appending, verified
    /// with the envelope's key. Nothing is written: a torn last append is
    /// cut off only by the next append. A record from before authentication
    /// is rewritten as an authenticated one (atomically).
    pub fn open(path: &Path, envelope: &Envelope) -> Result<ErasureLog, StoreError> {
        let record = ErasureLog::read(path, envelope)?;
        if record.legacy {
            let mut prints: Vec<Fingerprint> = record.prints.iter().copied().collect();
            prints.sort_unstable();
            let key = envelope.erasure.clone();
            let header = header_mac(&key);
            let mut bytes = MAGIC.to_vec();
            bytes.extend_from_slice(&header);
            if !prints.is_empty() {
                bytes.extend_from_slice(&encode_block(&key, &header, &prints, false).0);
            }
            let dir = path.parent().unwrap_or(Path::new("."));
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or(ERASURES_FILE);
            super::disk::write_atomically(dir, name, &bytes).map_err(|source| {
                StoreError::File {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
            return ErasureLog::open(path, envelope);
        }
        let file = super::disk::open_no_follow(path, true).map_err(|source| StoreError::File {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(ErasureLog {
            path: path.to_path_buf(),
            file,
            key: envelope.erasure.clone(),
            record,
            unsettled: Vec::new(),
            owed: Vec::new(),
        })
    }

    /// Appends fingerprints as one block and syncs it to the disk; returns
    /// the mark the database keeps with the erasure.
    pub fn append(&mut self, prints: &[Fingerprint]) -> Result<Mark, StoreError> {
        self.append_block(prints, false)
    }

    /// Takes back fingerprints appended for an erasure whose transaction
    /// failed (see [`TAKEN_BACK`]), in one block synced to the disk.
    pub fn take_back(&mut self, prints: &[Fingerprint]) -> Result<Mark, StoreError> {
        self.append_block(prints, true)
    }

    /// Waits for, and takes, the lock on the record's file that every
    /// process sharing it takes from an erasure's append until its
    /// transaction is settled, and while it merges: so no process ever
    /// takes another's erasure still under way (which may yet be taken
    /// back) for one made. Let go by [`ErasureLog::let_go`], or when the
    /// process ends.
    pub fn hold(&self) -> Result<(), StoreError> {
        self.file.lock().map_err(|source| StoreError::File {
            path: self.path.clone(),
            source,
        })
    }

    /// Writes a taking back still owed ([`ErasureLog::owe_back`]): called
    /// while the record is held, after taking in what other processes
    /// appended ([`ErasureLog::catch_up`]), before anything else is
    /// written or compared; if it cannot be written, nothing may go on.
    pub fn pay_owed(&mut self) -> Result<(), StoreError> {
        if self.owed.is_empty() {
            return Ok(());
        }
        let owed = std::mem::take(&mut self.owed);
        if let Err(e) = self.take_back(&owed) {
            self.owed = owed;
            return Err(e);
        }
        Ok(())
    }

    /// Takes `prints` back in memory at once, and owes the block that
    /// takes them back in the file, written by [`ErasureLog::pay_owed`]
    /// the next time the record is used (for when writing it failed). Owed
    /// in memory only: a process that stops first leaves them named.
    pub fn owe_back(&mut self, prints: &[Fingerprint]) {
        for p in prints {
            self.record.prints.remove(p);
        }
        self.owed.extend_from_slice(prints);
    }

    /// Lets go of [`ErasureLog::hold`].
    pub fn let_go(&self) {
        // Unlocking a lock this file holds cannot fail but for a closed
        // file, which the process's end lets go of as well.
        let _ = self.file.unlock();
    }

    fn append_block(
        &mut self,
        prints: &[Fingerprint],
        taken_back: bool,
    ) -> Result<Mark, StoreError> {
        if prints.is_empty() {
            return Ok(self.record.mark());
        }
        let err = |source| StoreError::File {
            path: self.path.clone(),
            source,
        };
        if taken_back && !self.record.takes_back {
            // Before the first block taking prints back, the magic that
            // binaries from before such blocks refuse.
            use std::os::unix::fs::FileExt;
            self.file
                .write_all_at(MAGIC_TAKING_BACK, 0)
                .and_then(|()| self.file.sync_data())
                .map_err(err)?;
            self.record.takes_back = true;
        }
        let before = self.record.good_len;
        let last = self.record.mark();
        let (bytes, mac) = encode_block(&self.key, &last.mac, prints, taken_back);
        // What follows the verified part was never confirmed: it goes.
        let written = self
            .file
            .set_len(before)
            .and_then(|()| self.file.seek(SeekFrom::Start(before)).map(|_| ()))
            .and_then(|()| self.file.write_all(&bytes))
            .and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            // Never leave half an entry confirmed: the next append cuts it.
            self.record.torn_tail = true;
            return Err(err(e));
        }
        self.record.good_len = before + bytes.len() as u64;
        self.record.torn_tail = false;
        if taken_back {
            for p in prints {
                self.record.prints.remove(p);
            }
        } else {
            self.record.prints.extend(prints.iter().copied());
        }
        let mark = Mark {
            count: last.count + prints.len() as u64,
            mac,
        };
        self.record.marks.push(mark);
        Ok(mark)
    }

    /// Takes in what another process sharing this data directory appended
    /// since this record was read (bot processes on one machine may share
    /// one, on PostgreSQL): when the file has grown past the verified part
    /// and, read again, holds everything this record does and more, the
    /// record becomes what was read, so the next append goes after it
    /// instead of cutting it off. Anything else (a torn append) is left to
    /// the next append, as before.
    pub fn catch_up(&mut self, envelope: &Envelope) -> Result<(), StoreError> {
        let len = self
            .file
            .metadata()
            .map_err(|source| StoreError::File {
                path: self.path.clone(),
                source,
            })?
            .len();
        if len <= self.record.good_len {
            return Ok(());
        }
        let read = ErasureLog::read(&self.path, envelope)?;
        if !read.altered
            && !read.legacy
            && read.good_len > self.record.good_len
            && read.marks.contains(&self.record.mark())
        {
            self.record = read;
        }
        Ok(())
    }

    /// What the record holds.
    pub fn record(&self) -> &ErasureRecord {
        &self.record
    }

    /// Every fingerprint in this erasure record.
    pub fn all(&self) -> &HashSet<Fingerprint> {
        &self.record.prints
    }

    /// Reads and verifies the erasure record at `path` without writing
    /// anything. A record that does not authenticate with this key, or was
    /// changed, is an error; one from before authentication (`PCER1`) is
    /// read as it is and marked `legacy`.
    pub fn read(path: &Path, envelope: &Envelope) -> Result<ErasureRecord, StoreError> {
        let mut file =
            super::disk::open_no_follow(path, false).map_err(|source| StoreError::File {
                path: path.to_path_buf(),
                source,
            })?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|source| StoreError::File {
                path: path.to_path_buf(),
                source,
            })?;
        if let Some(body) = bytes.strip_prefix(OLD_MAGIC) {
            let whole = body.len() / FINGERPRINT_LEN * FINGERPRINT_LEN;
            return Ok(ErasureRecord {
                prints: body[..whole]
                    .chunks_exact(FINGERPRINT_LEN)
                    .filter_map(|c| c.try_into().ok())
                    .collect(),
                marks: Vec::new(),
                good_len: (OLD_MAGIC.len() + whole) as u64,
                torn_tail: whole != body.len(),
                altered: false,
                legacy: true,
                takes_back: false,
            });
        }
        let (rest, takes_back) = match (
            bytes.strip_prefix(MAGIC),
            bytes.strip_prefix(MAGIC_TAKING_BACK),
        ) {
            (Some(rest), _) => (rest, false),
            (_, Some(rest)) => (rest, true),
            _ => return Err(unusable(path, "is not an erasure record (damaged)")),
        };
        let key = &envelope.erasure;
        let header: [u8; 32] = rest
            .get(..MAC_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or_else(|| unusable(path, "is cut short (damaged)"))?;
        // A header that does not authenticate is another key's, unless the
        // first block does under this key: then the key is right and the
        // header was changed.
        let expected = header_mac(key);
        let header_changed =
            header != expected && first_block_opens(key, &expected, &rest[MAC_LEN..]);
        if header != expected && !header_changed {
            return Err(StoreError::KeyMismatch {
                path: path.to_path_buf(),
                source_name: String::new(),
            });
        }
        let header = expected;
        let mut record = ErasureRecord {
            marks: vec![Mark {
                count: 0,
                mac: header,
            }],
            altered: header_changed,
            takes_back,
            ..ErasureRecord::default()
        };
        let mut at = MAGIC.len() + MAC_LEN;
        let mut prev = header;
        let mut count = 0u64;
        loop {
            let rest = &bytes[at..];
            if rest.is_empty() {
                break;
            }
            let block = rest.get(..4).and_then(|n| {
                let word = u32::from_be_bytes(n.try_into().ok()?);
                let n = (word & !TAKEN_BACK) as usize;
                let len = n.checked_mul(FINGERPRINT_LEN)?;
                let body = rest.get(4..4 + len)?;
                let mac: [u8; 32] = rest.get(4 + len..4 + len + MAC_LEN)?.try_into().ok()?;
                (n > 0 && mac == block_mac(key, &prev, word, body)).then_some((n, word, body, mac))
            });
            if let Some((_, word, ..)) = block
                && word & TAKEN_BACK != 0
                && !takes_back
            {
                // Such a block is written only after the magic that says
                // so: the magic was changed.
                record.altered = true;
                break;
            }
            let Some((n, word, body, mac)) = block else {
                // A block that is all there but does not authenticate was
                // changed; a short one, or zeros, is a crash's torn append.
                let whole = rest.get(..4).is_some_and(|n| {
                    let n = (u32::from_be_bytes([n[0], n[1], n[2], n[3]]) & !TAKEN_BACK) as usize;
                    n.checked_mul(FINGERPRINT_LEN)
                        .is_some_and(|len| rest.len() >= 4 + len + MAC_LEN)
                });
                if whole && rest.iter().any(|&b| b != 0) {
                    record.altered = true;
                } else {
                    record.torn_tail = true;
                }
                break;
            };
            let prints = body
                .chunks_exact(FINGERPRINT_LEN)
                .filter_map(|c| <Fingerprint>::try_from(c).ok());
            if word & TAKEN_BACK == 0 {
                record.prints.extend(prints);
            } else {
                for p in prints {
                    record.prints.remove(&p);
                }
            }
            count += n as u64;
            prev = mac;
            record.marks.push(Mark { count, mac });
            at += 4 + body.len() + MAC_LEN;
        }
        record.good_len = at as u64;
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_differ_from_the_master_and_from_each_other() {
        let e = Envelope::new(SecretKey::generate());
        assert_ne!(&e.erasure[..], e.master.expose());
        assert_ne!(&e.backup[..], e.master.expose());
        assert_ne!(e.erasure[..], e.backup[..]);
        assert_ne!(e.server.expose(), e.master.expose());
        for derived in [&e.erasure, &e.backup, &e.seal] {
            assert_ne!(e.server.expose(), &derived[..]);
        }
        let same = Envelope::new(e.master.clone());
        assert_eq!(
            e.fingerprint(b"t", b"k", b"v"),
            same.fingerprint(b"t", b"k", b"v")
        );
        assert_ne!(
            e.fingerprint(b"t", b"k", b"v"),
            Envelope::new(SecretKey::generate()).fingerprint(b"t", b"k", b"v")
        );
        // Lengths are bound in: moving a byte between parts changes the print.
        assert_ne!(
            e.fingerprint(b"t", b"kv", b""),
            e.fingerprint(b"t", b"k", b"v")
        );
    }

    #[test]
    fn summaries_round_trip_and_refuse_what_is_not_one() {
        let summary = Summary {
            id: 42,
            created: chrono::DateTime::from_timestamp(1_790_000_000, 123).unwrap(),
            heading: "Contracting — a first session".into(),
            competences: vec![
                "core:3.5".parse().unwrap(),
                "integration:2.10".parse().unwrap(),
            ],
        };
        assert_eq!(
            decode_summary(&encode_summary(&summary)),
            Some(summary.clone())
        );
        let e = Envelope::new(SecretKey::generate());
        let key = SecretKey::generate();
        let sealed = e.seal_summary(&key, b"rk", &summary).unwrap();
        assert_eq!(e.open_summary(&key, b"rk", &sealed).unwrap(), summary);
        assert!(
            e.open_reflection(&key, b"rk", &sealed).is_err(),
            "not a body"
        );
        for bad in [&b""[..], &[2u8; 30][..], &[1u8; 10][..]] {
            assert_eq!(decode_summary(bad), None);
        }
        let mut tags_past_end = encode_summary(&summary);
        tags_past_end[21] = 200;
        assert_eq!(decode_summary(&tags_past_end), None);
    }

    #[test]
    fn the_erasure_record_survives_a_torn_append() {
        let dir = super::super::tests::temp_dir("erasures");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(ERASURES_FILE);
        let e = Envelope::new(SecretKey::generate());
        let mut log = ErasureLog::create(&path, &e).unwrap();
        let first = log.append(&[[1; 16], [2; 16]]).unwrap();
        drop(log);
        // A crash mid-append leaves half a block.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[0, 0, 0, 1, 3, 3, 3]).unwrap();
        drop(f);
        let read = ErasureLog::read(&path, &e).unwrap();
        assert!(read.torn_tail);
        assert!(read.reaches(&first));
        let mut log = ErasureLog::open(&path, &e).unwrap();
        let second = log.append(&[[4; 16]]).unwrap();
        let read = ErasureLog::read(&path, &e).unwrap();
        assert_eq!(read.prints, HashSet::from([[1; 16], [2; 16], [4; 16]]));
        assert!(!read.torn_tail);
        assert!(read.reaches(&first) && read.reaches(&second));
        assert_eq!(second.count, 3);
    }

    /// Fingerprints taken back are no longer named, read again or not, and
    /// one named again after it is erased again; the marks count every
    /// block.
    #[test]
    fn what_a_record_takes_back_it_no_longer_names_until_it_is_named_again() {
        let dir = super::super::tests::temp_dir("erasures-taken-back");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(ERASURES_FILE);
        let e = Envelope::new(SecretKey::generate());
        let mut log = ErasureLog::create(&path, &e).unwrap();
        log.append(&[[1; 16], [2; 16]]).unwrap();
        let before = std::fs::read(&path).unwrap();
        assert!(before.starts_with(MAGIC));
        let back = log.take_back(&[[2; 16]]).unwrap();
        assert_eq!(log.all(), &HashSet::from([[1; 16]]));
        // The first block taking prints back changes the magic, so a
        // binary that cannot read such blocks refuses the record; nothing
        // before it changes.
        let after = std::fs::read(&path).unwrap();
        assert!(after.starts_with(MAGIC_TAKING_BACK));
        assert_eq!(after[MAGIC.len()..before.len()], before[MAGIC.len()..]);
        let read = ErasureLog::read(&path, &e).unwrap();
        assert_eq!(read.prints, HashSet::from([[1; 16]]));
        assert!(read.reaches(&back) && !read.torn_tail && !read.altered);
        assert_eq!(back.count, 3);
        let again = log.append(&[[2; 16]]).unwrap();
        let read = ErasureLog::read(&path, &e).unwrap();
        assert_eq!(read.prints, HashSet::from([[1; 16], [2; 16]]));
        assert!(read.reaches(&again));
        // Opened again, the record goes on from where it stood.
        drop(log);
        let mut log = ErasureLog::open(&path, &e).unwrap();
        log.take_back(&[[1; 16]]).unwrap();
        assert_eq!(
            ErasureLog::read(&path, &e).unwrap().prints,
            HashSet::from([[2; 16]])
        );
    }

    /// A taking back that could not be written is owed: the prints are
    /// taken back in memory at once, and the block is written when the
    /// record is next used.
    #[test]
    fn a_taking_back_owed_is_written_when_the_record_is_next_used() {
        let dir = super::super::tests::temp_dir("erasures-owed");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(ERASURES_FILE);
        let e = Envelope::new(SecretKey::generate());
        let mut log = ErasureLog::create(&path, &e).unwrap();
        log.append(&[[1; 16], [2; 16]]).unwrap();
        log.owe_back(&[[2; 16]]);
        assert_eq!(log.all(), &HashSet::from([[1; 16]]));
        let both = HashSet::from([[1; 16], [2; 16]]);
        assert_eq!(ErasureLog::read(&path, &e).unwrap().prints, both);
        log.pay_owed().unwrap();
        let read = ErasureLog::read(&path, &e).unwrap();
        assert_eq!(read.prints, HashSet::from([[1; 16]]));
        assert!(read.reaches(&log.record().mark()));
    }

    /// Every way of changing the record is found: a flipped bit anywhere, a
    /// cut at every length, a block dropped, another key.
    #[test]
    fn a_changed_cut_or_foreign_erasure_record_is_found() {
        let dir = super::super::tests::temp_dir("erasures-auth");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(ERASURES_FILE);
        let e = Envelope::new(SecretKey::generate());
        let mut log = ErasureLog::create(&path, &e).unwrap();
        log.append(&[[1; 16]]).unwrap();
        log.append(&[[2; 16], [3; 16]]).unwrap();
        // A block taking an erasure back is authenticated like any other:
        // its flag cannot be set or cleared unnoticed.
        let mark = log.take_back(&[[3; 16]]).unwrap();
        drop(log);
        let good = std::fs::read(&path).unwrap();
        let probe = dir.join("probe");
        for at in 0..good.len() {
            let mut bad = good.clone();
            bad[at] ^= 0x01;
            std::fs::write(&probe, &bad).unwrap();
            let read = ErasureLog::read(&probe, &e);
            // The first block proves the key: a changed header is a
            // changed record, never "another key".
            assert!(
                !matches!(read, Err(StoreError::KeyMismatch { .. })),
                "a flipped bit at {at} called the right key wrong"
            );
            let found = match read {
                Err(_) => true,
                Ok(r) => !r.reaches(&mark),
            };
            assert!(found, "a flipped bit at {at} went unnoticed");
        }
        for len in 0..good.len() {
            std::fs::write(&probe, &good[..len]).unwrap();
            let found = match ErasureLog::read(&probe, &e) {
                Err(_) => true,
                Ok(r) => !r.reaches(&mark),
            };
            assert!(found, "a record cut to {len} bytes went unnoticed");
        }
        let other = Envelope::new(SecretKey::generate());
        assert!(matches!(
            ErasureLog::read(&path, &other),
            Err(StoreError::KeyMismatch { .. })
        ));
        assert!(ErasureLog::read(&path, &e).unwrap().reaches(&mark));
    }
}
