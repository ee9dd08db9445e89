//! Bad conditions: foreign and future files, a full disk, read-only storage and corrupt rows
//! give typed errors, and nothing is half-written.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on unexpected errors"
)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rcsec::outbox::conformance::message;
use rcsec::{ClaimToken, Outbox, OutboxError, OutboxState};
use rcsec_audit::sink::conformance::events;
use rcsec_audit::{AuditSink, SinkError, Verifier};
use rcsec_core::{AlertId, Timestamp};
use rcsec_link::{BlobId, LinkId, LinkRecord, RecipientPseudonym, StoreError, TokenStore};
use rcsec_store_sqlite::{
    SCHEMA_VERSION, SqliteAuditSink, SqliteError, SqliteOptions, SqliteOutbox, SqliteStore,
    SqliteTokenStore,
};

const T0: Timestamp = Timestamp::from_secs(1_800_000_000);
const LEASE: Duration = Duration::from_secs(30);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The `SqliteError` inside a trait error's `Backend` source.
fn sqlite_source<'a>(e: &'a (dyn std::error::Error + 'static)) -> &'a SqliteError {
    e.source()
        .and_then(|s| s.downcast_ref::<SqliteError>())
        .unwrap_or_else(|| panic!("no SqliteError source in {e:?}"))
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    let junk = b"{\"not\": \"a database\"}\n".repeat(300);
    std::fs::write(&path, &junk).unwrap();
    assert!(matches!(
        SqliteStore::open(&path),
        Err(SqliteError::NotADatabase)
    ));
    assert_eq!(std::fs::read(&path).unwrap(), junk);
    assert!(!rcsec_store_sqlite::audit::is_sqlite_file(&path).unwrap());
    assert!(matches!(
        rcsec_store_sqlite::audit::read_all_lines(&path),
        Err(SqliteError::NotADatabase)
    ));
}

#[test]
fn a_newer_schema_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rcsec.db");
    drop(SqliteStore::open(&path).unwrap());
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(raw);
    match SqliteStore::open(&path) {
        Err(SqliteError::NewerSchema { found, supported }) => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
    let raw = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = raw
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION + 1);
}

#[test]
fn another_applications_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.sqlite");
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('x');")
        .unwrap();
    drop(raw);
    assert!(matches!(
        SqliteStore::open(&path),
        Err(SqliteError::ForeignDatabase { found: 0 })
    ));
    let raw = rusqlite::Connection::open(&path).unwrap();
    let tables: i64 = raw
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 1, "migration touched a foreign database");
}

#[test]
fn migration_is_idempotent_across_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rcsec.db");
    for _ in 0..3 {
        drop(SqliteStore::open(&path).unwrap());
    }
    let raw = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = raw
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = raw
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

fn page_count(path: &Path) -> u32 {
    let raw = rusqlite::Connection::open(path).unwrap();
    raw.pragma_query_value(None, "page_count", |r| r.get(0))
        .unwrap()
}

#[test]
fn a_full_disk_fails_appends_cleanly_and_keeps_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.db");
    drop(SqliteStore::open(&path).unwrap());
    let quota = page_count(&path) + 4;
    let options = SqliteOptions::default().max_page_count(quota);
    runtime().block_on(async {
        let store = SqliteStore::open_with(&path, options).unwrap();
        let sink = SqliteAuditSink::open(store.clone()).unwrap();
        let mut acknowledged = sink.head().await.unwrap();
        let mut failure = None;
        for i in 0..10_000 {
            match sink.append(events(20, &format!("b{i}"))).await {
                Ok(head) => acknowledged = head,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let failure = failure.expect("the quota was never reached");
        assert!(matches!(failure, SinkError::Backend(_)), "{failure:?}");
        assert!(matches!(sqlite_source(&failure), SqliteError::Full));
        assert!(acknowledged.size > 0);
        // Nothing of the failed batch is visible, and the sink keeps working for reads.
        assert_eq!(sink.head().await.unwrap(), acknowledged);
        assert_eq!(
            sink.read_range(0, acknowledged.size).await.unwrap().len() as u64,
            acknowledged.size
        );
        // Other adapters on the full file fail the same typed way.
        let outbox = SqliteOutbox::new(store);
        let mut outbox_failure = None;
        for n in 0..10_000 {
            if let Err(e) = outbox.enqueue(&message(n), T0).await {
                outbox_failure = Some(e);
                break;
            }
        }
        let e = outbox_failure.expect("outbox never hit the quota");
        assert!(matches!(e, OutboxError::Backend(_)));
        assert!(matches!(sqlite_source(&e), SqliteError::Full));
    });
    // Reopened without the quota: the log verifies and holds exactly what was acknowledged.
    let lines = rcsec_store_sqlite::audit::read_all_lines(&path).unwrap();
    let verified = Verifier::new().verify_bytes(&lines).unwrap();
    runtime().block_on(async {
        let sink = SqliteAuditSink::open(SqliteStore::open(&path).unwrap()).unwrap();
        let head = sink.head().await.unwrap();
        assert_eq!(verified.head, head);
        let more = sink.append(events(3, "after")).await.unwrap();
        assert_eq!(more.size, head.size + 3);
    });
}

fn link(n: u8) -> LinkRecord {
    LinkRecord::new(
        LinkId::from_bytes([n; 16]),
        AlertId::new("a1").unwrap(),
        RecipientPseudonym::from_bytes([7; 32]),
        BlobId::from_bytes([n; 16]),
        T0.saturating_add(Duration::from_secs(600)),
    )
}

#[test]
fn a_read_only_store_refuses_writes_with_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.db");
    runtime().block_on(async {
        let store = SqliteStore::open(&path).unwrap();
        SqliteTokenStore::new(store.clone())
            .insert(link(1))
            .await
            .unwrap();
        SqliteAuditSink::open(store)
            .unwrap()
            .append(events(2, "x"))
            .await
            .unwrap();
    });
    let options = SqliteOptions::default().read_only(true);
    runtime().block_on(async {
        let store = SqliteStore::open_with(&path, options).unwrap();
        let tokens = SqliteTokenStore::new(store.clone());
        assert!(tokens.get(&link(1).link_id).await.unwrap().is_some());
        let e = tokens.consume(&link(1).link_id, T0).await.unwrap_err();
        assert!(matches!(e, StoreError::Backend(_)));
        assert!(matches!(sqlite_source(&e), SqliteError::ReadOnly));
        let sink = SqliteAuditSink::open(store).unwrap();
        assert_eq!(sink.head().await.unwrap().size, 2);
        let e = sink.append(events(1, "y")).await.unwrap_err();
        assert!(matches!(sqlite_source(&e), SqliteError::ReadOnly));
    });
    // A read-only file: a fresh open for writing is refused (unless this process can write
    // anyway, as root can; then the permission bits cannot simulate it and we say so).
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&path, perms.clone()).unwrap();
    let writable_anyway = std::fs::OpenOptions::new().append(true).open(&path).is_ok();
    if writable_anyway {
        eprintln!(
            "note: running with privileges that ignore file modes; read-only file case skipped"
        );
    } else {
        match SqliteStore::open(&path) {
            Err(SqliteError::ReadOnly | SqliteError::CannotOpen(_)) => {}
            other => panic!("expected ReadOnly, got {other:?}"),
        }
    }
    #[allow(
        clippy::permissions_set_readonly_false,
        reason = "let tempdir clean up"
    )]
    perms.set_readonly(false);
    std::fs::set_permissions(&path, perms).unwrap();
}

#[test]
fn a_corrupt_outbox_row_is_a_typed_error_and_claims_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.db");
    let outbox = Arc::new(SqliteOutbox::new(SqliteStore::open(&path).unwrap()));
    let rt = runtime();
    rt.block_on(async {
        for n in 0..3 {
            outbox.enqueue(&message(n), T0).await.unwrap();
        }
    });
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute(
        "UPDATE outbox SET message = ?1 WHERE message_id = ?2",
        rusqlite::params![
            b"{\"v\":1,\"recipient\":\"+447700900123\"".to_vec(),
            "msg-1"
        ],
    )
    .unwrap();
    drop(raw);
    rt.block_on(async {
        let e = outbox.claim_due(T0, LEASE, 10).await.unwrap_err();
        match sqlite_source(&e) {
            SqliteError::CorruptMessage { id, .. } => assert_eq!(id, "msg-1"),
            other => panic!("expected CorruptMessage, got {other:?}"),
        }
        let text = format!("{e} {:?} {}", sqlite_source(&e), sqlite_source(&e));
        assert!(!text.contains("7700900123"), "number leaked: {text}");
        // Nothing was claimed: msg-0 sorts first and is still untouched.
        let status = outbox.status(&message(0).id, T0).await.unwrap().unwrap();
        assert_eq!((status.state, status.attempts), (OutboxState::Pending, 0));
        // Failing the bad row (under the attempt count its status reports: nobody holds a
        // claim on it) takes it out of the queue; the rest flows again.
        let attempts = outbox
            .status(&message(1).id, T0)
            .await
            .unwrap()
            .unwrap()
            .attempts;
        outbox
            .mark_failed(
                &ClaimToken::new(message(1).id, attempts),
                "stored_message_corrupt",
                T0,
            )
            .await
            .unwrap();
        let claimed: Vec<_> = outbox
            .claim_due(T0, LEASE, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.message.id)
            .collect();
        assert_eq!(claimed, vec![message(0).id, message(2).id]);
    });
}

#[test]
fn a_tampered_audit_row_is_refused_on_open_and_before_append() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let rt = runtime();
    let sink = rt.block_on(async {
        let sink = SqliteAuditSink::open(SqliteStore::open(&path).unwrap()).unwrap();
        sink.append(events(5, "before")).await.unwrap();
        sink
    });
    let raw = rusqlite::Connection::open(&path).unwrap();
    // The table is append-only...
    assert!(
        raw.execute("UPDATE audit_events SET line = x'00' WHERE seq = 2", [])
            .is_err()
    );
    assert!(
        raw.execute("DELETE FROM audit_events WHERE seq = 4", [])
            .is_err()
    );
    // ...so an attacker with the file drops the trigger and rewrites the last line.
    raw.execute_batch(
        "DROP TRIGGER audit_events_no_update;
         UPDATE audit_events SET line = CAST(replace(CAST(line AS TEXT), 'before', 'after_') AS BLOB)
         WHERE seq = 4;",
    )
    .unwrap();
    drop(raw);
    rt.block_on(async {
        let e = sink.append(events(1, "next")).await.unwrap_err();
        assert!(
            matches!(e, SinkError::Corrupt(ref v) if v.index == 4),
            "{e:?}"
        );
    });
    match SqliteAuditSink::open(SqliteStore::open(&path).unwrap()) {
        Err(SinkError::Corrupt(v)) => assert_eq!(v.index, 4),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn an_unreachable_path_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    // The "directory" is a file: nothing can be created under it.
    match SqliteStore::open(file.join("rcsec.db")) {
        Err(SqliteError::Io(_) | SqliteError::CannotOpen(_)) => {}
        other => panic!("expected Io or CannotOpen, got {other:?}"),
    }
    // A read-only open of a file that does not exist creates nothing.
    let missing = dir.path().join("missing.db");
    match SqliteStore::open_with(&missing, SqliteOptions::default().read_only(true)) {
        Err(SqliteError::CannotOpen(_)) => {}
        other => panic!("expected CannotOpen, got {other:?}"),
    }
    assert!(!missing.exists());
}
