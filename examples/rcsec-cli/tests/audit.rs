//! `rcsec audit verify|export`: exit codes, one-line errors naming the bad event, exports.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use rcsec_audit::{
    AuditKey, CheckpointConfig, CheckpointPolicy, CheckpointSigner, EventKind, JsonlAuditSink,
    JsonlOptions, MemoryAuditSink, Pseudonymizer,
};
use rcsec_core::{AlertId, ManualClock, Msisdn, Secret, Timestamp};

fn rcsec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rcsec"))
        .args(args)
        .output()
        .unwrap()
}

fn signer() -> CheckpointSigner {
    CheckpointSigner::from_seed("cli-test", &Secret::new([0x42; 32])).unwrap()
}

fn config() -> CheckpointConfig {
    CheckpointConfig {
        signer: signer(),
        policy: CheckpointPolicy {
            every_events: 4,
            every: Duration::ZERO,
        },
        clock: Arc::new(ManualClock::new(Timestamp::from_secs(1_700_000_000))),
    }
}

fn batch(n: u64) -> Vec<rcsec_audit::PendingEvent> {
    let p = Pseudonymizer::new(AuditKey::from_bytes(1, &Secret::new([1; 32])));
    let to = Msisdn::parse("+447700900123").unwrap();
    (0..n)
        .map(|i| {
            let kind = if i % 2 == 0 {
                EventKind::MessageSent
            } else {
                EventKind::LinkIssued
            };
            p.event(kind, Timestamp::from_secs(1_700_000_000 + i))
                .alert(AlertId::new("fp-1").unwrap())
                .recipient(&to)
                .message(b"secret body")
                .link("L1")
                .build()
                .unwrap()
        })
        .collect()
}

/// Writes a 10-event signed log to `dir/audit.jsonl`; returns its bytes and the Merkle root.
fn write_log(dir: &Path) -> (Vec<u8>, String) {
    let sink = MemoryAuditSink::with_checkpoints(config());
    let mut head = None;
    for pending in batch(10) {
        head = Some(sink.append_now(vec![pending]).unwrap());
    }
    let bytes = sink.log_bytes().unwrap();
    std::fs::write(dir.join("audit.jsonl"), &bytes).unwrap();
    (bytes, head.unwrap().root.to_hex())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn verify_prints_count_and_head() {
    let dir = tempfile::tempdir().unwrap();
    let (_, root) = write_log(dir.path());
    let log = dir.path().join("audit.jsonl");
    let key = hex::encode(signer().verifying_key().as_bytes());
    let out = rcsec(&["audit", "verify", "--key", &key, path_str(&log)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("verified 10 events, head {root}\n")
    );
    assert!(out.stderr.is_empty());
    // Unpinned: still verified, with a note on stderr.
    let out = rcsec(&["audit", "verify", path_str(&log)]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("not pinned"));
}

#[test]
fn a_tampered_log_exits_1_naming_the_first_bad_event() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, _) = write_log(dir.path());
    let log = dir.path().join("audit.jsonl");
    let tampered = text(&bytes).replacen(
        "\"seq\":6,\"time\":1700000006000,\"kind\":\"message_sent\"",
        "\"seq\":6,\"time\":1700000006001,\"kind\":\"message_sent\"",
        1,
    );
    assert_ne!(tampered.as_bytes(), bytes.as_slice());
    std::fs::write(&log, &tampered).unwrap();
    let out = rcsec(&["audit", "verify", path_str(&log)]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("event 6"), "{err}");
    assert!(out.stdout.is_empty());

    // Deleting event 3's line.
    let kept: String = text(&bytes)
        .lines()
        .filter(|l| !l.starts_with("{\"type\":\"event\",\"seq\":3,"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&log, kept).unwrap();
    let out = rcsec(&["audit", "verify", path_str(&log)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("event 3"));

    // A torn last line.
    std::fs::write(&log, &bytes[..bytes.len() - 5]).unwrap();
    let out = rcsec(&["audit", "verify", path_str(&log)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("incomplete"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn truncation_is_caught_with_a_kept_checkpoint_and_a_wrong_key_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, _) = write_log(dir.path());
    let log = dir.path().join("audit.jsonl");
    let latest = text(&bytes)
        .lines()
        .rfind(|l| l.starts_with("{\"type\":\"checkpoint\""))
        .unwrap()
        .to_owned();
    let cp_file = dir.path().join("latest.checkpoint");
    std::fs::write(&cp_file, format!("{latest}\n")).unwrap();
    let cut: String = text(&bytes)
        .lines()
        .take_while(|l| !l.starts_with("{\"type\":\"event\",\"seq\":5,"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&log, cut).unwrap();
    let ok = rcsec(&["audit", "verify", path_str(&log)]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "a clean prefix is valid on its own"
    );
    let out = rcsec(&[
        "audit",
        "verify",
        "--checkpoint",
        path_str(&cp_file),
        path_str(&log),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("event 5"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("truncated"));

    std::fs::write(&log, &bytes).unwrap();
    let other = CheckpointSigner::from_seed("cli-test", &Secret::new([9; 32])).unwrap();
    let key = hex::encode(other.verifying_key().as_bytes());
    let out = rcsec(&["audit", "verify", "--key", &key, path_str(&log)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("event 4"));
}

#[test]
fn bad_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("audit.sqlite");
    std::fs::write(&db, b"SQLite format 3\0").unwrap();
    let out = rcsec(&["audit", "verify", path_str(&db)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("SQLite"));
    assert_eq!(text(&out.stderr).lines().count(), 1);
    let missing = dir.path().join("missing.jsonl");
    assert_eq!(
        rcsec(&["audit", "verify", path_str(&missing)])
            .status
            .code(),
        Some(2)
    );
    write_log(dir.path());
    let log = dir.path().join("audit.jsonl");
    let out = rcsec(&["audit", "verify", "--key", "abc", path_str(&log)]);
    assert_eq!(out.status.code(), Some(2));
    let out = rcsec(&["audit", "export", "--format", "csv", path_str(&log)]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_directory_of_rotated_files_verifies_as_one_log() {
    let dir = tempfile::tempdir().unwrap();
    let options = JsonlOptions {
        max_file_bytes: 1_200,
        checkpoints: Some(config()),
    };
    let sink = JsonlAuditSink::open(dir.path(), options).unwrap();
    let mut head = None;
    for pending in batch(12) {
        head = Some(sink.append_blocking(vec![pending]).unwrap());
    }
    assert!(sink.files().unwrap().len() > 2);
    let out = rcsec(&["audit", "verify", path_str(dir.path())]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("verified 12 events, head {}\n", head.unwrap().root.to_hex())
    );
}

#[test]
fn export_writes_ocsf_or_syslog_and_refuses_tampered_logs() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, _) = write_log(dir.path());
    let log = dir.path().join("audit.jsonl");
    let out = rcsec(&["audit", "export", "--format", "ocsf", path_str(&log)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 10);
    assert_eq!(lines[0]["class_uid"], 6003);
    assert_eq!(lines[1]["class_uid"], 6001);
    assert_eq!(lines[1]["type_uid"], 600_101);
    let out = rcsec(&[
        "audit",
        "export",
        "--format",
        "syslog",
        "--hostname",
        "h1",
        path_str(&log),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let syslog = text(&out.stdout);
    assert_eq!(syslog.lines().count(), 10);
    assert!(
        syslog
            .lines()
            .all(|l| l.starts_with("<110>1 ") && l.contains(" h1 rcsec - "))
    );
    assert!(!syslog.contains("7700900123") && !syslog.contains("secret body"));

    let tampered = text(&bytes).replacen("message_sent", "message_snet", 1);
    std::fs::write(&log, tampered).unwrap();
    let out = rcsec(&["audit", "export", "--format", "ocsf", path_str(&log)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("event 0"));
}
