//! The keyring file: JSON, created with mode 0600, replaced atomically (temp file + rename).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rcsec_core::{Secret, Timestamp};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{KeyEntry, KeyInfo, KeyMaterial, KeyState, Keyring, KeyringError, KeyringPolicy};
use crate::rng::{OsRandom, RandomSource};
use crate::token::KeyId;

const FORMAT: &str = "rcsec-keyring/v1";
/// Refuse to parse keyring files larger than this (a keyring is a few kilobytes).
const MAX_FILE_BYTES: u64 = 256 * 1024;

/// Why the keyring file could not be read or written. Never carries key bytes or file content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringFileError {
    /// An I/O error on the file or its directory.
    #[error("keyring file i/o failed: {0}")]
    Io(#[source] std::io::Error),
    /// The file already exists (`create` never overwrites).
    #[error("keyring file already exists")]
    Exists,
    /// Group or other users may read or write the file; fix with `chmod 600`.
    #[error("keyring file is accessible to other users (mode {0:o}); expected 0600")]
    InsecurePermissions(u32),
    /// Not a keyring file of a supported format, or inconsistent content.
    #[error("keyring file is invalid")]
    Invalid,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRepr {
    format: String,
    max_ttl_secs: u64,
    nbf_leeway_secs: u64,
    active: u8,
    keys: Vec<KeyRepr>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyRepr {
    id: u8,
    created_at_ms: u64,
    /// `active`, `verify_only` or `retired`.
    state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retire_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retired_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret: Option<KeyBytes>,
}

/// Key bytes as base64url; (de)serialized without an unzeroized intermediate copy of the
/// decoded bytes.
struct KeyBytes(Secret<[u8; 32]>);

impl Serialize for KeyBytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = Zeroizing::new(URL_SAFE_NO_PAD.encode(self.0.expose_secret()));
        s.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for KeyBytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = KeyBytes;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a 32-byte base64url key")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<KeyBytes, E> {
                let mut key = Secret::new([0u8; 32]);
                let mut buf = Zeroizing::new([0u8; 33]);
                match URL_SAFE_NO_PAD.decode_slice(v.as_bytes(), &mut buf[..]) {
                    Ok(32) => {
                        key.expose_secret_mut().copy_from_slice(&buf[..32]);
                        Ok(KeyBytes(key))
                    }
                    // Never echo the value: it is (nearly) key material.
                    _ => Err(E::custom("invalid key encoding")),
                }
            }
        }
        d.deserialize_str(V)
    }
}

impl Keyring {
    /// Writes a new keyring file at `path`, mode 0600. Never overwrites: the file is written
    /// under a temporary name and hard-linked into place, which fails if `path` exists.
    ///
    /// # Errors
    /// [`KeyringFileError::Exists`] or [`KeyringFileError::Io`].
    pub fn create_file(&self, path: &Path) -> Result<(), KeyringFileError> {
        let tmp = self.write_temp(path)?;
        let linked = fs::hard_link(&tmp, path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => sync_dir(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(KeyringFileError::Exists)
            }
            Err(e) => Err(KeyringFileError::Io(e)),
        }
    }

    /// Atomically replaces the keyring file at `path` (temporary file, fsync, rename, fsync
    /// of the directory): a reader sees the old keyring or the new one, never a mix.
    ///
    /// # Errors
    /// [`KeyringFileError::Io`].
    pub fn save_file(&self, path: &Path) -> Result<(), KeyringFileError> {
        let tmp = self.write_temp(path)?;
        if let Err(e) = fs::rename(&tmp, path) {
            let _ = fs::remove_file(&tmp);
            return Err(KeyringFileError::Io(e));
        }
        sync_dir(path)
    }

    /// Reads a keyring file, refusing one that other users can access.
    ///
    /// # Errors
    /// [`KeyringFileError::InsecurePermissions`], [`KeyringFileError::Invalid`] or
    /// [`KeyringFileError::Io`] (wrapped in [`KeyringError::File`]); [`KeyringError`] for an
    /// inconsistent keyring.
    pub fn load_file(path: &Path) -> Result<Self, KeyringError> {
        let mut file = File::open(path).map_err(KeyringFileError::Io)?;
        let meta = file.metadata().map_err(KeyringFileError::Io)?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyringFileError::InsecurePermissions(mode).into());
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(KeyringFileError::Invalid.into());
        }
        let mut text = Zeroizing::new(String::with_capacity(
            usize::try_from(meta.len()).unwrap_or(0),
        ));
        (&mut file)
            .take(MAX_FILE_BYTES)
            .read_to_string(&mut text)
            .map_err(KeyringFileError::Io)?;
        Self::from_json(&text)
    }

    /// Parses the file format.
    fn from_json(text: &str) -> Result<Self, KeyringError> {
        let repr: FileRepr = serde_json::from_str(text).map_err(|_| KeyringFileError::Invalid)?;
        if repr.format != FORMAT {
            return Err(KeyringFileError::Invalid.into());
        }
        let policy = KeyringPolicy {
            max_ttl: Duration::from_secs(repr.max_ttl_secs),
            nbf_leeway: Duration::from_secs(repr.nbf_leeway_secs),
        };
        let mut keys: Vec<KeyEntry> = Vec::with_capacity(repr.keys.len());
        for k in repr.keys {
            let state = match (k.state.as_str(), k.retire_at_ms, k.retired_at_ms) {
                ("active", None, None) => KeyState::Active,
                ("verify_only", Some(at), None) => KeyState::VerifyOnly {
                    retire_at: Timestamp::from_millis(at),
                },
                ("retired", None, Some(at)) => KeyState::Retired {
                    at: Timestamp::from_millis(at),
                },
                _ => return Err(KeyringFileError::Invalid.into()),
            };
            let retired = matches!(state, KeyState::Retired { .. });
            if retired != k.secret.is_none() || keys.iter().any(|e| e.info.id == KeyId(k.id)) {
                return Err(KeyringFileError::Invalid.into());
            }
            keys.push(KeyEntry {
                info: KeyInfo {
                    id: KeyId(k.id),
                    created_at: Timestamp::from_millis(k.created_at_ms),
                    state,
                },
                material: k.secret.map(|b| KeyMaterial::new(b.0)),
            });
        }
        Self::from_parts(policy, KeyId(repr.active), keys).map_err(|e| match e {
            KeyringError::InvalidPolicy => e,
            _ => KeyringFileError::Invalid.into(),
        })
    }

    fn to_json(&self) -> Result<Zeroizing<Vec<u8>>, KeyringFileError> {
        let repr = FileRepr {
            format: FORMAT.to_owned(),
            max_ttl_secs: self.policy.max_ttl.as_secs(),
            nbf_leeway_secs: self.policy.nbf_leeway.as_secs(),
            active: self.active.0,
            keys: self
                .entries()
                .iter()
                .map(|e| {
                    let (state, retire_at_ms, retired_at_ms) = match e.info.state {
                        KeyState::Active => ("active", None, None),
                        KeyState::VerifyOnly { retire_at } => {
                            ("verify_only", Some(retire_at.as_millis()), None)
                        }
                        KeyState::Retired { at } => ("retired", None, Some(at.as_millis())),
                    };
                    KeyRepr {
                        id: e.info.id.0,
                        created_at_ms: e.info.created_at.as_millis(),
                        state: state.to_owned(),
                        retire_at_ms,
                        retired_at_ms,
                        secret: e.material.as_ref().map(|m| KeyBytes(m.secret().clone())),
                    }
                })
                .collect(),
        };
        // Serialize into a buffer that is wiped on drop, sized up front so it never
        // reallocates (leaving unwiped copies behind).
        let mut out = Zeroizing::new(Vec::with_capacity(512 + 512 * self.entries().len()));
        serde_json::to_writer_pretty(&mut *out, &repr).map_err(|_| KeyringFileError::Invalid)?;
        out.push(b'\n');
        Ok(out)
    }

    /// Writes the keyring to a fresh temporary file (mode 0600, `O_EXCL`) beside `path`.
    fn write_temp(&self, path: &Path) -> Result<PathBuf, KeyringFileError> {
        let json = self.to_json()?;
        let mut suffix = [0u8; 6];
        OsRandom
            .fill(&mut suffix)
            .map_err(|_| KeyringFileError::Io(std::io::Error::other("random source failed")))?;
        let name = path
            .file_name()
            .ok_or(KeyringFileError::Invalid)?
            .to_string_lossy()
            .into_owned();
        let tmp = path.with_file_name(format!(".{name}.tmp-{}", hex::encode(suffix)));
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(KeyringFileError::Io)?;
        let written = file.write_all(&json).and_then(|()| file.sync_all());
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(KeyringFileError::Io(e));
        }
        Ok(tmp)
    }
}

fn sync_dir(path: &Path) -> Result<(), KeyringFileError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(KeyringFileError::Io)
}
