//! `rcsec audit verify|export` on a SQLite database written by `SqliteAuditSink`.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::path::Path;
use std::process::{Command, Output};

use rcsec_audit::{AuditKey, EventKind, Pseudonymizer};
use rcsec_core::{AlertId, Msisdn, Secret, Timestamp};
use rcsec_store_sqlite::{SqliteAuditSink, SqliteStore};

fn rcsec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rcsec"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn batch(n: u64, first: u64) -> Vec<rcsec_audit::PendingEvent> {
    let p = Pseudonymizer::new(AuditKey::from_bytes(1, &Secret::new([1; 32])));
    let to = Msisdn::parse("+447700900123").unwrap();
    (0..n)
        .map(|i| {
            p.event(
                EventKind::MessageSent,
                Timestamp::from_secs(1_700_000_000 + first + i),
            )
            .alert(AlertId::new("fp-1").unwrap())
            .recipient(&to)
            .message(b"secret body")
            .outcome("accepted")
            .build()
            .unwrap()
        })
        .collect()
}

/// Writes 12 events in three batches; returns the Merkle root as hex.
fn write_db(path: &Path) -> String {
    let sink = SqliteAuditSink::open(SqliteStore::open(path).unwrap()).unwrap();
    let mut head = None;
    for b in 0..3 {
        head = Some(sink.append_blocking(batch(4, b * 4)).unwrap());
    }
    head.unwrap().root.to_hex()
}

#[test]
fn verifies_a_sqlite_log_by_extension_and_by_header() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("audit.db");
    let root = write_db(&db);
    let out = rcsec(&["audit", "verify", db.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        format!("verified 12 events, head {root}")
    );

    // No telling extension: recognised by the SQLite header.
    let plain = dir.path().join("auditlog");
    let root = write_db(&plain);
    let out = rcsec(&["audit", "verify", plain.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&root));
}

#[test]
fn a_tampered_sqlite_log_fails_naming_the_event() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("audit.sqlite");
    write_db(&db);
    assert!(patch_event_6(&db));
    let out = rcsec(&["audit", "verify", db.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("event 6"), "{err}");
    assert_eq!(err.lines().count(), 1);
}

/// Rewrites event 6's outcome in the file's bytes, the way an attacker with the file would
/// (same length, so SQLite still reads the row). Every copy is patched: the file may also hold
/// stale copies of the page in free space.
fn patch_event_6(db: &Path) -> bool {
    // Dropping the last handle checkpoints the WAL into the main file.
    drop(SqliteStore::open(db).unwrap());
    let mut bytes = std::fs::read(db).unwrap();
    let needle = b"\"seq\":6,";
    let mut patched = false;
    let mut from = 0;
    while let Some(at) = bytes[from..]
        .windows(needle.len())
        .position(|w| w == needle)
    {
        let at = from + at;
        if let Some(o) = bytes[at..].windows(8).position(|w| w == b"accepted") {
            bytes[at + o..at + o + 8].copy_from_slice(b"rejected");
            patched = true;
        }
        from = at + needle.len();
    }
    std::fs::write(db, &bytes).unwrap();
    patched
}

#[test]
fn exports_a_sqlite_log() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("audit.db");
    write_db(&db);
    let out = rcsec(&["audit", "export", "--format", "ocsf", db.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 12);
    assert!(!stdout.contains("7700900123"));
}

#[test]
fn a_db_file_that_is_not_sqlite_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("audit.db");
    std::fs::write(&db, b"not a database at all\n".repeat(100)).unwrap();
    let out = rcsec(&["audit", "verify", db.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("not a SQLite database"), "{err}");
    assert_eq!(err.lines().count(), 1);
}
