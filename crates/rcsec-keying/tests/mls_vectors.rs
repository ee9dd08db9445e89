//! Every official MLS vector file of the kinds implemented passes, with the exact entry count.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::path::{Path, PathBuf};

use rcsec_core::vectors::{VectorError, VectorReport};
use rcsec_keying::mls::vectors;

fn file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/mls")
        .join(name)
}

fn assert_all_pass(run: fn(&Path) -> Result<VectorReport, VectorError>, name: &str, passed: usize) {
    let report = run(&file(name)).unwrap();
    assert!(report.failed.is_empty(), "{name}: {:#?}", report.failed);
    assert_eq!(report.passed, passed, "{name}: {report:?}");
    assert!(report.skipped.is_empty(), "{name}: {:?}", report.skipped);
}

#[test]
fn tree_math() {
    assert_all_pass(vectors::run_tree_math, "tree-math.json", 10);
}

#[test]
fn deserialization() {
    assert_all_pass(vectors::run_deserialization, "deserialization.json", 14);
}

#[test]
fn crypto_basics() {
    assert_all_pass(vectors::run_crypto_basics, "crypto-basics.json", 1);
}

#[test]
fn missing_file_is_an_io_error() {
    let err = vectors::run_tree_math(Path::new("/nonexistent/tree-math.json")).unwrap_err();
    assert!(matches!(err, VectorError::Io { .. }), "{err}");
}

#[test]
fn other_suites_are_skipped_not_passed() {
    let dir = std::env::temp_dir().join(format!("rcsec-mls-skip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("psk.json");
    std::fs::write(
        &path,
        r#"[{"cipher_suite": 3, "psks": [], "psk_secret": ""}]"#,
    )
    .unwrap();
    let report = vectors::run_crypto_basics(&path).unwrap();
    assert_eq!(
        (report.passed, report.failed.len(), report.skipped.len()),
        (0, 0, 1)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_tampered_entry_fails() {
    let dir = std::env::temp_dir().join(format!("rcsec-mls-tamper-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("deser.json");
    std::fs::write(&path, r#"[{"vlbytes_header": "4040", "length": 65}]"#).unwrap();
    let report = vectors::run_deserialization(&path).unwrap();
    assert_eq!((report.passed, report.failed.len()), (0, 1));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn secret_tree() {
    assert_all_pass(vectors::run_secret_tree, "secret-tree.json", 3);
}

#[test]
fn key_schedule() {
    assert_all_pass(vectors::run_key_schedule, "key-schedule.json", 1);
}

#[test]
fn psk_secret() {
    assert_all_pass(vectors::run_psk_secret, "psk_secret.json", 11);
}

#[test]
fn transcript_hashes() {
    assert_all_pass(vectors::run_transcript_hashes, "transcript-hashes.json", 1);
}

#[test]
fn message_protection() {
    assert_all_pass(
        vectors::run_message_protection,
        "message-protection.json",
        1,
    );
}

#[test]
fn welcome() {
    assert_all_pass(vectors::run_welcome, "welcome.json", 1);
}

#[test]
fn messages() {
    assert_all_pass(vectors::run_messages, "messages.json", 300);
}

#[test]
fn tree_validation() {
    assert_all_pass(vectors::run_tree_validation, "tree-validation.json", 14);
}

#[test]
fn tree_operations() {
    assert_all_pass(vectors::run_tree_operations, "tree-operations.json", 5);
}

#[test]
fn treekem() {
    assert_all_pass(vectors::run_treekem, "treekem.json", 11);
}

#[test]
fn passive_client_welcome() {
    assert_all_pass(
        vectors::run_passive_client,
        "passive-client-welcome.json",
        8,
    );
}

#[test]
fn passive_client_handling_commit() {
    assert_all_pass(
        vectors::run_passive_client,
        "passive-client-handling-commit.json",
        13,
    );
}
