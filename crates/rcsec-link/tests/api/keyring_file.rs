//! The keyring file: 0600, atomic replace, refusal of insecure files, no key bytes in Debug.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use rcsec_link::{
    Keyring, KeyringError, KeyringFileError, MintRequest, OsRandom, VerifyContext, VerifyError,
};

use super::common::{T0, alice, at, ring};

#[test]
fn create_save_load_round_trip_with_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ring.json");
    let mut ring = ring();
    ring.create_file(&path).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(matches!(
        ring.create_file(&path),
        Err(KeyringFileError::Exists)
    ));

    let a = alice();
    let minted = ring
        .mint(
            &MintRequest::new(&a, Duration::from_secs(600)),
            T0,
            &OsRandom,
        )
        .unwrap();
    let loaded = Keyring::load_file(&path).unwrap();
    assert!(
        loaded
            .verify(minted.token.as_str(), &VerifyContext::at(at(1)))
            .is_ok()
    );

    let old_id = ring.active_key_id();
    ring.rotate(at(5), &OsRandom).unwrap();
    ring.save_file(&path).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let loaded = Keyring::load_file(&path).unwrap();
    assert_eq!(loaded.active_key_id(), ring.active_key_id());
    assert_eq!(
        loaded.keys().collect::<Vec<_>>(),
        ring.keys().collect::<Vec<_>>()
    );
    assert!(
        loaded
            .verify(minted.token.as_str(), &VerifyContext::at(at(6)))
            .is_ok()
    );

    ring.retire(old_id, at(7)).unwrap();
    ring.save_file(&path).unwrap();
    let loaded = Keyring::load_file(&path).unwrap();
    assert_eq!(
        loaded.verify(minted.token.as_str(), &VerifyContext::at(at(8))),
        Err(VerifyError::UnknownKey)
    );
    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("ring.json")]);
}

#[test]
fn insecure_or_invalid_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ring.json");
    ring().create_file(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(matches!(
        Keyring::load_file(&path),
        Err(KeyringError::File(KeyringFileError::InsecurePermissions(
            0o644
        )))
    ));
    let bad = dir.path().join("bad.json");
    for text in [
        "",
        "{}",
        "[1]",
        r#"{"format":"rcsec-keyring/v1","max_ttl_secs":60,"nbf_leeway_secs":0,"active":1,"keys":[]}"#,
    ] {
        std::fs::write(&bad, text).unwrap();
        std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Keyring::load_file(&bad).is_err(), "{text}");
    }
    assert!(matches!(
        Keyring::load_file(&dir.path().join("missing")),
        Err(KeyringError::File(KeyringFileError::Io(_)))
    ));
}

#[test]
fn key_bytes_never_appear_in_debug_or_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ring.json");
    let ring = ring();
    ring.create_file(&path).unwrap();
    let file = std::fs::read_to_string(&path).unwrap();
    let json: serde_json::Value = serde_json::from_str(&file).unwrap();
    let secret = json["keys"][0]["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 43);
    let debug = format!("{ring:?} {:?}", Keyring::load_file(&path).unwrap());
    assert!(!debug.contains(&secret), "{debug}");
    assert!(!debug.contains(&secret[..8]));
    // A corrupt key value is refused without echoing it.
    let corrupt = file.replace(&secret, &format!("{}!", &secret[..42]));
    std::fs::write(&path, &corrupt).unwrap();
    let err = Keyring::load_file(&path).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(&secret[..20]), "{shown}");
}
