//! Signed checkpoints in the PostgreSQL audit sink: signed in the batch's transaction, and
//! the resume point on first use (a new replica does not re-read the rows a verified
//! checkpoint covers; a checkpoint by another key or with a forged frontier is refused).
//!
//! Skipped with a printed reason when `RCSEC_TEST_POSTGRES_URL` is unset.
#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::sync::Arc;
use std::time::Duration;

use rcsec_audit::sink::conformance::events;
use rcsec_audit::{
    AuditSink, CheckpointConfig, CheckpointPolicy, CheckpointSigner, SinkError, Verifier,
    VerifyFailure,
};
use rcsec_core::{ManualClock, Secret, Timestamp};
use rcsec_store_postgres::PgAuditSink;
use rcsec_store_postgres::testing::{admin_connection, fresh_database, second_pool, url_or_skip};

fn config(seed: u8, every_events: u64, clock: &ManualClock) -> CheckpointConfig {
    CheckpointConfig {
        signer: CheckpointSigner::from_seed("pg-audit", &Secret::new([seed; 32])).unwrap(),
        policy: CheckpointPolicy {
            every_events,
            every: Duration::from_secs(60),
        },
        clock: Arc::new(clock.clone()),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn checkpoints_are_signed_and_a_new_replica_resumes_from_the_latest() {
    let Some(url) = url_or_skip("checkpoints_are_signed_and_a_new_replica_resumes_from_the_latest")
    else {
        return;
    };
    runtime().block_on(async {
        let clock = ManualClock::new(Timestamp::from_secs(1_800_000_000));
        let db = fresh_database(&url);
        let schema = db.schema().unwrap().to_owned();
        let sink = PgAuditSink::with_checkpoints(db.clone(), config(1, 5, &clock));
        assert_eq!(sink.latest_checkpoint().await.unwrap(), None);
        sink.append(events(6, "a")).await.unwrap();
        let cp = sink.latest_checkpoint().await.unwrap().unwrap();
        assert_eq!(cp.size(), 6);
        clock.advance(Duration::from_secs(61));
        let head = sink.append(events(2, "b")).await.unwrap();
        let cp = sink.latest_checkpoint().await.unwrap().unwrap();
        assert_eq!((cp.size(), cp.root(), cp.chain()), (8, head.root, head.chain));

        // The rows, with each checkpoint after the event it covers, verify as one log.
        let admin = admin_connection(&url).await.unwrap();
        let mut log = Vec::new();
        let rows = admin
            .query(&format!("SELECT line FROM {schema}.audit_events ORDER BY seq"), &[])
            .await
            .unwrap();
        let cps = admin
            .query(&format!("SELECT size, line FROM {schema}.audit_checkpoints ORDER BY size"), &[])
            .await
            .unwrap();
        for (i, row) in rows.iter().enumerate() {
            log.extend_from_slice(&row.get::<_, Vec<u8>>(0));
            log.push(b'\n');
            for cp in cps.iter().filter(|c| c.get::<_, i64>(0) == i as i64 + 1) {
                log.extend_from_slice(&cp.get::<_, Vec<u8>>(1));
                log.push(b'\n');
            }
        }
        let verified = Verifier::new()
            .pin_key(config(1, 5, &clock).signer.verifying_key())
            .verify_bytes(&log)
            .unwrap();
        assert_eq!((verified.head, verified.checkpoints), (head, 2));

        // Damage an event the latest checkpoint covers. A replica that signs resumes from the
        // checkpoint and does not read it; one without a key re-reads everything and stops.
        admin
            .batch_execute(&format!(
                "UPDATE {schema}.audit_events \
                 SET line = convert_to(replace(convert_from(line, 'UTF8'), '\"a\"', '\"x\"'), 'UTF8') \
                 WHERE seq = 1"
            ))
            .await
            .unwrap();
        let resumed = PgAuditSink::with_checkpoints(second_pool(&url, &db), config(1, 5, &clock));
        assert_eq!(resumed.head().await.unwrap(), head);
        let after = resumed.append(events(1, "c")).await.unwrap();
        assert_eq!(after.size, 9);
        let unkeyed = PgAuditSink::new(second_pool(&url, &db));
        match unkeyed.head().await {
            Err(SinkError::Corrupt(e)) => assert_eq!(e.index, 1),
            other => panic!("expected Corrupt, got {other:?}"),
        }
        // A replica with another key refuses the stored checkpoint.
        let foreign = PgAuditSink::with_checkpoints(second_pool(&url, &db), config(2, 5, &clock));
        match foreign.head().await {
            Err(SinkError::Corrupt(e)) => {
                assert_eq!(e.index, 8);
                assert!(matches!(e.failure, VerifyFailure::Checkpoint(_)), "{e:?}");
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
        // A forged frontier does not have the signed root.
        admin
            .batch_execute(&format!(
                "UPDATE {schema}.audit_checkpoints SET frontier = decode(repeat('00', octet_length(frontier)), 'hex')"
            ))
            .await
            .unwrap();
        let forged = PgAuditSink::with_checkpoints(second_pool(&url, &db), config(1, 5, &clock));
        match forged.head().await {
            Err(SinkError::Corrupt(e)) => assert_eq!(e.failure, VerifyFailure::RootMismatch),
            other => panic!("expected Corrupt, got {other:?}"),
        }
    });
}
