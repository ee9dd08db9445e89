//! `rcsec vectors KIND FILE` for the MLS kinds: every official file passes with its exact
//! count, and a tampered entry exits 1.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn vectors(kind: &str, path: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rcsec"))
        .args(["vectors", kind])
        .arg(path)
        .output()
        .unwrap()
}

fn shared(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/mls")
        .join(file)
}

#[test]
fn every_mls_kind_passes_its_official_file() {
    for (kind, file, passed) in [
        ("tree-math", "tree-math.json", 10),
        ("deserialization", "deserialization.json", 14),
        ("crypto-basics", "crypto-basics.json", 1),
        ("secret-tree", "secret-tree.json", 3),
        ("key-schedule", "key-schedule.json", 1),
        ("psk-secret", "psk_secret.json", 11),
        ("transcript-hashes", "transcript-hashes.json", 1),
        ("message-protection", "message-protection.json", 1),
        ("welcome", "welcome.json", 1),
        ("messages", "messages.json", 300),
        ("tree-validation", "tree-validation.json", 14),
        ("tree-operations", "tree-operations.json", 5),
        ("treekem", "treekem.json", 11),
        ("passive-client", "passive-client-welcome.json", 8),
        ("passive-client", "passive-client-handling-commit.json", 13),
    ] {
        let out = vectors(kind, &shared(file));
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(0), "{kind}: {stdout}");
        assert_eq!(
            stdout.lines().last(),
            Some(format!("{passed} passed, 0 failed").as_str()),
            "{kind}"
        );
    }
}

#[test]
fn a_tampered_psk_entry_fails_with_exit_1() {
    let original = std::fs::read_to_string(shared("psk_secret.json")).unwrap();
    let entries: Vec<serde_json::Value> = serde_json::from_str(&original).unwrap();
    let mut entry = entries[1].clone();
    let want = entry["psk_secret"].as_str().unwrap().to_owned();
    let flipped = if want.starts_with('0') { "1" } else { "0" };
    entry["psk_secret"] = serde_json::Value::String(format!("{flipped}{}", &want[1..]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("psk.json");
    std::fs::write(&path, serde_json::to_string(&[entry]).unwrap()).unwrap();
    let out = vectors("psk-secret", &path);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("FAILED entry 0"), "{stdout}");
    assert!(stdout.ends_with("0 passed, 1 failed\n"), "{stdout}");
}
