//! Encryption at rest: XChaCha20-Poly1305 (RustCrypto) with random 24-byte
//! nonces, keys held in memory in zeroizing types.
//!
//! A sealed value is `[version 1][nonce 24][ciphertext + tag 16]`. The caller
//! passes associated data that names where the value lives (the record's key),
//! so a ciphertext moved to another record or member fails to open.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, Zeroizing};

const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// Bytes of a key.
pub const KEY_LEN: usize = 32;

/// A 256-bit key, wiped from memory when dropped.
#[derive(Clone)]
pub struct SecretKey(Zeroizing<[u8; KEY_LEN]>);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// Why sealing or opening failed. Deliberately vague about the contents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The value is not a sealed value of this version.
    #[error("a stored value has an unknown format")]
    Format,
    /// The key or associated data is wrong, or the value was altered.
    #[error("a stored value cannot be decrypted with this key")]
    Open,
    /// Encryption failed (it does not, for inputs of sane size).
    #[error("encryption failed")]
    Seal,
}

impl SecretKey {
    /// A fresh random key from the operating system's generator.
    pub fn generate() -> SecretKey {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let mut bytes = [0u8; KEY_LEN];
        bytes.copy_from_slice(&key);
        SecretKey(Zeroizing::new(bytes))
    }

    /// A key from its bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> SecretKey {
        SecretKey(Zeroizing::new(bytes))
    }

    /// A key from 64 hex digits (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Option<SecretKey> {
        let mut bytes = [0u8; KEY_LEN];
        hex::decode_to_slice(text.trim(), &mut bytes).ok()?;
        let key = SecretKey::from_bytes(bytes);
        bytes.zeroize();
        Some(key)
    }

    /// The key as 64 hex digits, for the key file.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(*self.0))
    }

    /// The key's bytes, for deriving other keys from it (HKDF).
    pub(crate) fn expose(&self) -> &[u8] {
        &self.0[..]
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(Key::from_slice(&self.0[..]))
    }

    /// Encrypts `plaintext`, binding `aad` to it.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Seal)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// Decrypts a value sealed with this key and the same `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if sealed.len() < 1 + NONCE_LEN + TAG_LEN || sealed[0] != VERSION {
            return Err(CryptoError::Format);
        }
        let nonce = XNonce::from_slice(&sealed[1..1 + NONCE_LEN]);
        self.cipher()
            .decrypt(
                nonce,
                Payload {
                    msg: &sealed[1 + NONCE_LEN..],
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Open)
    }

    /// Seals another key under this one (key wrapping).
    pub fn wrap(&self, aad: &[u8], key: &SecretKey) -> Result<Vec<u8>, CryptoError> {
        self.seal(aad, &key.0[..])
    }

    /// Opens a key sealed with [`SecretKey::wrap`].
    pub fn unwrap_key(&self, aad: &[u8], wrapped: &[u8]) -> Result<SecretKey, CryptoError> {
        let bytes = self.open(aad, wrapped)?;
        let array: [u8; KEY_LEN] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::Format)?;
        Ok(SecretKey::from_bytes(array))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_aad() {
        let key = SecretKey::generate();
        let sealed = key.seal(b"record-1", b"a private reflection").unwrap();
        assert_eq!(
            &key.open(b"record-1", &sealed).unwrap()[..],
            b"a private reflection"
        );
        assert_eq!(key.open(b"record-2", &sealed), Err(CryptoError::Open));
        assert_eq!(
            SecretKey::generate().open(b"record-1", &sealed),
            Err(CryptoError::Open)
        );
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(key.open(b"record-1", &tampered), Err(CryptoError::Open));
        assert_eq!(
            key.open(b"record-1", &sealed[..10]),
            Err(CryptoError::Format)
        );
    }

    #[test]
    fn nonces_differ_so_equal_plaintexts_do_not_look_equal() {
        let key = SecretKey::generate();
        assert_ne!(
            key.seal(b"", b"same").unwrap(),
            key.seal(b"", b"same").unwrap()
        );
    }

    #[test]
    fn keys_wrap_and_round_trip_through_hex() {
        let master = SecretKey::generate();
        let data = SecretKey::generate();
        let wrapped = master.wrap(b"member:1", &data).unwrap();
        let back = master.unwrap_key(b"member:1", &wrapped).unwrap();
        assert_eq!(back.0[..], data.0[..]);
        let hex = master.to_hex();
        assert_eq!(hex.len(), 64);
        assert_eq!(SecretKey::from_hex(&hex).unwrap().0[..], master.0[..]);
        assert!(SecretKey::from_hex("not hex").is_none());
        assert!(SecretKey::from_hex(&"ab".repeat(31)).is_none());
        assert_eq!(format!("{master:?}"), "SecretKey(<redacted>)");
    }
}
