//! The master key: where it comes from, and the check that it belongs to
//! this database.
//!
//! Order: `--key-file PATH` if given; else `COMPANION_KEY` (64 hex digits)
//! if set; else `master.key` in the data directory. A new database with no key gets a fresh key file, created
//! with `create_new` and mode 0600. An existing database never gets a new key:
//! a missing or wrong key is an error, and nothing is written.

use std::fs;
use std::io::Write;
use std::path::Path;

use super::StoreError;
use super::crypto::SecretKey;
use super::envelope::Envelope;

/// The environment variable that may hold the master key.
pub const KEY_ENV: &str = "COMPANION_KEY";
/// The key file's name in the data directory.
pub const KEY_FILE: &str = "master.key";

const KEY_CHECK: &[u8] = b"key_check";
const KEY_CHECK_AAD: &[u8] = b"practice-companion key check v1";
const KEY_CHECK_TEXT: &[u8] = b"this database belongs to this key";

/// The key given to the process: from `key_file` (`--key-file`, e.g. a
/// systemd credential) if named, else from `COMPANION_KEY` if set. A set but
/// empty or malformed value is an error, never a reason to make a new key.
pub fn given_key(key_file: Option<&Path>) -> Result<Option<SecretKey>, StoreError> {
    if let Some(path) = key_file {
        return read_key_file(path).map(Some);
    }
    match std::env::var(KEY_ENV) {
        Ok(text) if text.trim().is_empty() => Err(StoreError::Key(format!(
            "{KEY_ENV} is set but empty: set it to the database's key (64 hexadecimal digits), or unset it to use {KEY_FILE} in the data directory"
        ))),
        Ok(text) => SecretKey::from_hex(&text).map(Some).ok_or_else(|| {
            StoreError::Key(format!(
                "{KEY_ENV} must be 64 hexadecimal digits (32 bytes); the value set is not"
            ))
        }),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(StoreError::Key(format!(
            "{KEY_ENV} must be 64 hexadecimal digits (32 bytes); the value set is not"
        ))),
    }
}

/// The master key for the database in `dir` and where it came from: the
/// key given, else the key file. Only a directory with no database gets a
/// new key file.
pub(super) fn master_key(
    dir: &Path,
    given: Option<SecretKey>,
    database_exists: bool,
) -> Result<(SecretKey, String), StoreError> {
    let file = dir.join(KEY_FILE);
    match given {
        Some(key) => Ok((key, format!("{KEY_ENV} or --key-file"))),
        None if file.exists() => Ok((read_key_file(&file)?, file.display().to_string())),
        None if database_exists => Err(StoreError::KeyMissing(dir.to_path_buf())),
        None => Ok((create_key_file(&file)?, file.display().to_string())),
    }
}

/// Checks the key against the key check stored in the database; a database
/// without one (new) gets one, written with its first commit.
pub(super) fn check(
    dir: &Path,
    meta: &super::engine::Tree,
    envelope: &Envelope,
    source_name: &str,
) -> Result<(), StoreError> {
    match meta.get(KEY_CHECK)? {
        Some(sealed) => {
            let opened = envelope
                .master()
                .open(KEY_CHECK_AAD, &sealed)
                .map_err(|_| StoreError::KeyMismatch {
                    path: dir.to_path_buf(),
                    source_name: source_name.to_string(),
                })?;
            if &opened[..] != KEY_CHECK_TEXT {
                return Err(StoreError::Key("the key check record is damaged".into()));
            }
        }
        None => {
            meta.insert(
                KEY_CHECK,
                envelope.master().seal(KEY_CHECK_AAD, KEY_CHECK_TEXT)?,
            )?;
        }
    }
    Ok(())
}

/// Whether `key` opens the key check among a backup's `meta` records.
pub(super) fn opens_check(key: &SecretKey, sealed: &[u8]) -> bool {
    key.open(KEY_CHECK_AAD, sealed)
        .is_ok_and(|t| &t[..] == KEY_CHECK_TEXT)
}

/// The meta key of the key check.
pub(super) const KEY_CHECK_KEY: &[u8] = KEY_CHECK;

/// What to do when the key file cannot be used.
const GIVE_KEY: &str = "Give the key this database was made with, from your copy kept apart from the data: put it back in that file, readable by the user the bot runs as, or pass it with --key-file PATH or the COMPANION_KEY environment variable.";

fn read_key_file(path: &Path) -> Result<SecretKey, StoreError> {
    let bytes = zeroize::Zeroizing::new(fs::read(path).map_err(|e| {
        StoreError::Key(format!(
            "cannot read the key file {}: {e}. Nothing was changed. {GIVE_KEY}",
            path.display()
        ))
    })?);
    std::str::from_utf8(&bytes)
        .ok()
        .and_then(SecretKey::from_hex)
        .ok_or_else(|| {
            StoreError::Key(format!(
                "{} does not hold a key (64 hexadecimal digits): it was changed or cut short. Nothing was changed. {GIVE_KEY}",
                path.display()
            ))
        })
}

fn create_key_file(path: &Path) -> Result<SecretKey, StoreError> {
    let key = SecretKey::generate();
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let err = |e: std::io::Error| {
        StoreError::Key(format!(
            "cannot create the key file {}: {e}",
            path.display()
        ))
    };
    let mut file = options.open(path).map_err(err)?;
    file.write_all(key.to_hex().as_bytes()).map_err(err)?;
    file.write_all(b"\n").map_err(err)?;
    file.sync_all().map_err(err)?;
    if let Some(dir) = path.parent() {
        super::disk::sync_dir(dir).map_err(err)?;
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::super::tests::temp_dir;
    use super::super::{Store, StoreError};
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_new_database_gets_a_private_key_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("keyfile");
        let _store = Store::open(&dir, None).unwrap();
        let mode = fs::metadata(dir.join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn a_missing_or_wrong_key_is_refused() {
        let dir = temp_dir("wrongkey");
        drop(Store::open(&dir, None).unwrap());
        // Wrong key from the environment's place:
        let err = Store::open(&dir, Some(SecretKey::generate())).unwrap_err();
        assert!(matches!(err, StoreError::KeyMismatch { .. }), "{err}");
        // Key file gone:
        let saved = fs::read(dir.join(KEY_FILE)).unwrap();
        fs::remove_file(dir.join(KEY_FILE)).unwrap();
        let err = Store::open(&dir, None).unwrap_err();
        assert!(matches!(err, StoreError::KeyMissing(_)), "{err}");
        assert!(
            !dir.join(KEY_FILE).exists(),
            "no new key was made for an existing database"
        );
        // Restored, it opens again:
        fs::write(dir.join(KEY_FILE), saved).unwrap();
        Store::open(&dir, None).unwrap();
    }

    #[test]
    fn a_key_given_for_a_new_database_is_used_and_no_file_is_written() {
        let dir = temp_dir("envkey");
        let key = SecretKey::generate();
        drop(Store::open(&dir, Some(key.clone())).unwrap());
        assert!(!dir.join(KEY_FILE).exists());
        Store::open(&dir, Some(key)).unwrap();
    }
}
