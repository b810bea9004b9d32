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
/// replaced), appended and synced before the erasure is confirmed. It lives
/// beside the database, not in it, so that a restore of an older backup can
/// leave out what was erased after the backup was made.
#[derive(Debug)]
pub struct ErasureLog {
    path: PathBuf,
    file: File,
}

/// The erasure record's file name in the data directory.
pub const ERASURES_FILE: &str = "erasures";
const MAGIC: &[u8] = b"PCER1\n";

impl ErasureLog {
    /// Opens (creating, owner-only) the erasure record at `path`; a torn
    /// last entry from a crash is cut off.
    pub fn open(path: &Path) -> Result<ErasureLog, StoreError> {
        let err = |source| StoreError::File {
            path: path.to_path_buf(),
            source,
        };
        let mut file = private_options(OpenOptions::new().read(true).write(true).create(true))
            .open(path)
            .map_err(err)?;
        let len = file.metadata().map_err(err)?.len();
        if len < MAGIC.len() as u64 {
            file.set_len(0).map_err(err)?;
            file.write_all(MAGIC).map_err(err)?;
            file.sync_all().map_err(err)?;
            if let Some(dir) = path.parent() {
                super::disk::sync_dir(dir).map_err(err)?;
            }
        } else {
            let mut magic = [0u8; 6];
            file.read_exact(&mut magic).map_err(err)?;
            if magic != MAGIC {
                return Err(StoreError::Corrupt(format!(
                    "{} is not an erasure record",
                    path.display()
                )));
            }
            let whole = (len - MAGIC.len() as u64) / FINGERPRINT_LEN as u64;
            let good = MAGIC.len() as u64 + whole * FINGERPRINT_LEN as u64;
            if good != len {
                file.set_len(good).map_err(err)?;
                file.sync_all().map_err(err)?;
            }
        }
        file.seek(SeekFrom::End(0)).map_err(err)?;
        Ok(ErasureLog {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Appends fingerprints and syncs them to the disk.
    pub fn append(&mut self, prints: &[Fingerprint]) -> Result<(), StoreError> {
        if prints.is_empty() {
            return Ok(());
        }
        let err = |source| StoreError::File {
            path: self.path.clone(),
            source,
        };
        let bytes: Vec<u8> = prints.iter().flatten().copied().collect();
        let before = self.file.stream_position().map_err(err)?;
        let written = self
            .file
            .write_all(&bytes)
            .and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            // Never leave half an entry: every later one would be misread.
            let _ = self.file.set_len(before);
            let _ = self.file.seek(SeekFrom::Start(before));
            return Err(err(e));
        }
        Ok(())
    }

    /// Every fingerprint in this erasure record.
    pub fn all(&self) -> Result<HashSet<Fingerprint>, StoreError> {
        ErasureLog::read(&self.path)
    }

    /// Every fingerprint in the erasure record at `path`.
    pub fn read(path: &Path) -> Result<HashSet<Fingerprint>, StoreError> {
        let bytes = std::fs::read(path).map_err(|source| StoreError::File {
            path: path.to_path_buf(),
            source,
        })?;
        let body = bytes.strip_prefix(MAGIC).ok_or_else(|| {
            StoreError::Corrupt(format!("{} is not an erasure record", path.display()))
        })?;
        Ok(body
            .chunks_exact(FINGERPRINT_LEN)
            .filter_map(|c| c.try_into().ok())
            .collect())
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
        let mut log = ErasureLog::open(&path).unwrap();
        log.append(&[[1; 16], [2; 16]]).unwrap();
        drop(log);
        // A crash mid-append leaves half an entry.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[3; 7]).unwrap();
        drop(f);
        let mut log = ErasureLog::open(&path).unwrap();
        log.append(&[[4; 16]]).unwrap();
        let all = ErasureLog::read(&path).unwrap();
        assert_eq!(all, HashSet::from([[1; 16], [2; 16], [4; 16]]));
    }
}
