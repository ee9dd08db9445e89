//! Long-lived key material in the state directory: created on first start, reused after.
//!
//! Pseudonyms in the audit log and link records must stay stable across restarts, and links
//! issued before a restart must still verify, so these keys cannot be per-process. Files are
//! created with mode 0600 inside a 0700 directory and refused when other users can read them.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rcsec::core::{Secret, Timestamp};
use rcsec::link::{Keyring, KeyringError, KeyringFileError, KeyringPolicy, OsRandom, RandomSource};

/// Why key material could not be loaded or created. Never includes key bytes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretsError {
    /// A file or directory operation failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Other users can read the file or directory.
    #[error("key file {0} is accessible to other users (want mode 0600 / 0700)")]
    InsecurePermissions(PathBuf),
    /// The file does not hold exactly 32 bytes.
    #[error("key file {0} is corrupt (want 32 bytes)")]
    Corrupt(PathBuf),
    /// The keyring could not be loaded or created.
    #[error("link keyring: {0}")]
    Keyring(#[from] KeyringError),
    /// The keyring file could not be written.
    #[error("link keyring file: {0}")]
    KeyringFile(#[from] KeyringFileError),
    /// The OS random source failed.
    #[error("random source failed")]
    Random,
    /// A credential file named by the config is empty, too large or not UTF-8.
    #[error("secret file {path} is unusable: {reason}")]
    SecretFile {
        /// The file.
        path: PathBuf,
        /// What is wrong (never the content).
        reason: &'static str,
    },
}

/// Largest credential file read (a service-account key is about 2.4 KiB).
const MAX_SECRET_FILE: u64 = 64 * 1024;

/// Reads a credential file named by the config (a password, a token, a service-account key),
/// refusing one other users can read: a world-readable password file is a leak waiting to be
/// noticed, and refusing to start is how it gets noticed. Surrounding whitespace is trimmed.
///
/// # Errors
/// [`SecretsError::Io`], [`SecretsError::InsecurePermissions`], [`SecretsError::SecretFile`].
pub fn read_secret_file(path: &Path) -> Result<Secret<String>, SecretsError> {
    let io = |source| SecretsError::Io {
        path: path.to_owned(),
        source,
    };
    let unusable = |reason| SecretsError::SecretFile {
        path: path.to_owned(),
        reason,
    };
    let mut file = fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(SecretsError::InsecurePermissions(path.to_owned()));
    }
    if !meta.is_file() {
        return Err(unusable("not a regular file"));
    }
    let mut buf = zeroize::Zeroizing::new(Vec::new());
    Read::take(&mut file, MAX_SECRET_FILE + 1)
        .read_to_end(&mut buf)
        .map_err(io)?;
    if buf.len() as u64 > MAX_SECRET_FILE {
        return Err(unusable("larger than 64 KiB"));
    }
    let text = std::str::from_utf8(&buf).map_err(|_| unusable("not UTF-8"))?;
    let text = text.trim();
    if text.is_empty() {
        return Err(unusable("empty"));
    }
    Ok(Secret::new(text.to_owned()))
}

/// Creates `dir` (mode 0700) if missing and refuses one other users can enter.
///
/// # Errors
/// [`SecretsError::Io`], [`SecretsError::InsecurePermissions`].
pub fn ensure_private_dir(dir: &Path) -> Result<(), SecretsError> {
    let io = |source| SecretsError::Io {
        path: dir.to_owned(),
        source,
    };
    if !dir.exists() {
        fs::create_dir_all(dir).map_err(io)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    let mode = fs::metadata(dir).map_err(io)?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(SecretsError::InsecurePermissions(dir.to_owned()));
    }
    Ok(())
}

/// Reads the 32-byte key in `path`, creating it from the OS random source when missing.
///
/// # Errors
/// [`SecretsError`] for I/O failures, loose permissions or a file of the wrong size.
pub fn load_or_create_key(path: &Path) -> Result<Secret<[u8; 32]>, SecretsError> {
    let io = |source| SecretsError::Io {
        path: path.to_owned(),
        source,
    };
    let mut key = Secret::new([0u8; 32]);
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(mut file) => {
            OsRandom
                .fill(key.expose_secret_mut())
                .map_err(|_| SecretsError::Random)?;
            file.write_all(key.expose_secret()).map_err(io)?;
            file.sync_all().map_err(io)?;
            return Ok(key);
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(e)),
    }
    let mut file = fs::File::open(path).map_err(io)?;
    let mode = file.metadata().map_err(io)?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(SecretsError::InsecurePermissions(path.to_owned()));
    }
    let mut buf = zeroize::Zeroizing::new(Vec::with_capacity(33));
    Read::take(&mut file, 33)
        .read_to_end(&mut buf)
        .map_err(io)?;
    if buf.len() != 32 {
        return Err(SecretsError::Corrupt(path.to_owned()));
    }
    key.expose_secret_mut().copy_from_slice(&buf);
    Ok(key)
}

/// Loads the link keyring from `path`, creating a fresh one when missing, and rotates or
/// retires keys that are due.
///
/// # Errors
/// [`SecretsError::Keyring`], [`SecretsError::KeyringFile`].
pub fn load_or_create_keyring(path: &Path, now: Timestamp) -> Result<Keyring, SecretsError> {
    if path.exists() {
        let mut ring = Keyring::load_file(path)?;
        if !ring.retire_due(now).is_empty() {
            ring.save_file(path)?;
        }
        return Ok(ring);
    }
    let ring = Keyring::generate(KeyringPolicy::default(), now, &OsRandom)?;
    ring.create_file(path)?;
    Ok(ring)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn key_is_created_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let a = load_or_create_key(&path).unwrap();
        let b = load_or_create_key(&path).unwrap();
        assert_eq!(a.expose_secret(), b.expose_secret());
        assert_ne!(a.expose_secret(), &[0u8; 32]);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn loose_permissions_and_wrong_size_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        load_or_create_key(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            load_or_create_key(&path),
            Err(SecretsError::InsecurePermissions(_))
        ));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&path, [1u8; 31]).unwrap();
        assert!(matches!(
            load_or_create_key(&path),
            Err(SecretsError::Corrupt(_))
        ));
    }

    #[test]
    fn private_dir_is_created_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        ensure_private_dir(&state).unwrap();
        assert_eq!(
            fs::metadata(&state).unwrap().permissions().mode() & 0o777,
            0o700
        );
        fs::set_permissions(&state, fs::Permissions::from_mode(0o755)).unwrap();
        assert!(matches!(
            ensure_private_dir(&state),
            Err(SecretsError::InsecurePermissions(_))
        ));
    }

    #[test]
    fn secret_files_are_trimmed_and_permission_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("password");
        fs::write(&path, "  CANARY-pw-4711\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let err = read_secret_file(&path).unwrap_err();
        assert!(matches!(err, SecretsError::InsecurePermissions(_)));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            read_secret_file(&path).unwrap().expose_secret(),
            "CANARY-pw-4711"
        );
        fs::write(&path, " \n").unwrap();
        let err = read_secret_file(&path).unwrap_err();
        assert!(matches!(
            err,
            SecretsError::SecretFile {
                reason: "empty",
                ..
            }
        ));
        fs::write(&path, [0xff, 0xfe, b'C', b'A']).unwrap();
        let err = read_secret_file(&path).unwrap_err();
        assert!(matches!(
            err,
            SecretsError::SecretFile {
                reason: "not UTF-8",
                ..
            }
        ));
        fs::write(&path, vec![b'a'; 65 * 1024]).unwrap();
        let err = read_secret_file(&path).unwrap_err().to_string();
        assert!(err.contains("64 KiB") && !err.contains("aaaa"), "{err}");
        let missing = read_secret_file(&dir.path().join("nope")).unwrap_err();
        assert!(matches!(missing, SecretsError::Io { .. }));
    }

    #[test]
    fn keyring_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyring.json");
        let now = Timestamp::from_secs(1_800_000_000);
        let a = load_or_create_keyring(&path, now).unwrap();
        let b = load_or_create_keyring(&path, now).unwrap();
        assert_eq!(a.active_key_id(), b.active_key_id());
    }
}
