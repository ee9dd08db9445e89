//! Races across two pools, bad conditions, migrations and sweeping against PostgreSQL.
//!
//! Skipped with a printed reason when `RCSEC_TEST_POSTGRES_URL` is unset; failing when it is
//! set and the server does not answer.
#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use rcsec_audit::{AuditKey, AuditSink, EventKind, Pseudonymizer, SinkError, Verifier};
use rcsec_core::{AlertId, Msisdn, Secret, Timestamp};
use rcsec_link::{
    BlobId, BlobStore as _, ConsumeOutcome, LinkId, LinkRecord, OsRandom, RecipientPseudonym,
    StoreError, TokenStore,
};
use rcsec_store_postgres::testing::{admin_connection, fresh_database, second_pool, url_or_skip};
use rcsec_store_postgres::{
    PgAuditSink, PgBlobStore, PgDatabase, PgError, PgOptions, PgTokenStore, SCHEMA_VERSION,
    sweep_expired,
};
use tokio::sync::Barrier;

const T0: Timestamp = Timestamp::from_secs(1_800_000_000);

fn record(expires_in_secs: u64) -> LinkRecord {
    LinkRecord::new(
        LinkId::random(&OsRandom).unwrap(),
        AlertId::new("race-alert").unwrap(),
        RecipientPseudonym::from_bytes([1; 32]),
        BlobId::random(&OsRandom).unwrap(),
        T0.saturating_add(Duration::from_secs(expires_in_secs)),
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

/// 64 tasks over two separate pools race to consume one token, 1,000 rounds: exactly one
/// winner every round.
#[test]
fn race_64_tasks_two_pools_1000_rounds_one_winner_each() {
    let Some(url) = url_or_skip("race_64_tasks_two_pools_1000_rounds_one_winner_each") else {
        return;
    };
    runtime().block_on(async {
        let db_a = fresh_database(&url);
        let db_b = second_pool(&url, &db_a);
        db_a.migrate().await.unwrap();
        let a: Arc<dyn TokenStore> = Arc::new(PgTokenStore::new(db_a));
        let b: Arc<dyn TokenStore> = Arc::new(PgTokenStore::new(db_b));
        let started = Instant::now();
        for round in 0..1_000 {
            let r = record(600);
            a.insert(r.clone()).await.unwrap();
            let barrier = Arc::new(Barrier::new(64));
            let tasks: Vec<_> = (0..64)
                .map(|i| {
                    let store = Arc::clone(if i % 2 == 0 { &a } else { &b });
                    let barrier = Arc::clone(&barrier);
                    let id = r.link_id;
                    tokio::spawn(async move {
                        barrier.wait().await;
                        store.consume(&id, T0).await.unwrap()
                    })
                })
                .collect();
            let mut winners = 0;
            for t in tasks {
                match t.await.unwrap() {
                    ConsumeOutcome::Consumed { .. } => winners += 1,
                    ConsumeOutcome::AlreadyConsumed => {}
                    other => panic!("round {round}: unexpected {other:?}"),
                }
            }
            assert_eq!(winners, 1, "round {round}");
        }
        eprintln!(
            "postgres race: 1000 rounds x 64 tasks over 2 pools in {:?}",
            started.elapsed()
        );
    });
}

/// An unreachable server is a typed error naming the operation, not a panic or a hang.
#[test]
fn unreachable_database_is_a_typed_error() {
    runtime().block_on(async {
        let mut options = PgOptions::new("postgres://postgres@127.0.0.1:1/test");
        options.connect_timeout = Duration::from_secs(2);
        let store = PgTokenStore::new(PgDatabase::new(options).unwrap());
        let err = store.get(&LinkId::from_bytes([0; 16])).await.unwrap_err();
        let StoreError::Backend(source) = err else {
            panic!("expected Backend");
        };
        let pg = source.downcast_ref::<PgError>().unwrap();
        assert_eq!(pg, &PgError::Unreachable { op: "migrate" });
    });
}

#[test]
fn bad_configuration_is_refused_up_front() {
    assert!(matches!(
        PgDatabase::new(PgOptions::new("postgres://h/db").schema("Robert'); DROP")),
        Err(PgError::Config(_))
    ));
    assert!(matches!(
        PgDatabase::new(PgOptions::new("not a url at all ===")),
        Err(PgError::Config(_))
    ));
}

fn pseudonymizer() -> Pseudonymizer {
    Pseudonymizer::new(AuditKey::from_bytes(1, &Secret::new([0x33; 32])))
}

fn events(n: usize, tag: &str) -> Vec<rcsec_audit::PendingEvent> {
    let p = pseudonymizer();
    let to = Msisdn::parse("+447700900123").unwrap();
    (0..n)
        .map(|i| {
            p.event(EventKind::MessageSent, T0)
                .alert(AlertId::new(format!("alert-{i}")).unwrap())
                .recipient(&to)
                .message(b"disk full on db-1")
                .route("rcs_e2ee")
                .outcome(tag)
                .build()
                .unwrap()
        })
        .collect()
}

async fn count(client: &tokio_postgres::Client, schema: &str, table: &str) -> i64 {
    client
        .query_one(&format!("SELECT count(*) FROM {schema}.{table}"), &[])
        .await
        .unwrap()
        .get(0)
}

/// A connection terminated mid-transaction (after the head row is locked, while the batch
/// insert waits) yields `ConnectionLost`, writes nothing, and the sink keeps working.
#[test]
fn connection_killed_mid_transaction_writes_nothing() {
    let Some(url) = url_or_skip("connection_killed_mid_transaction_writes_nothing") else {
        return;
    };
    runtime().block_on(async {
        let db = fresh_database(&url);
        let schema = db.schema().unwrap().to_owned();
        let sink = PgAuditSink::new(db);
        sink.append(events(3, "before")).await.unwrap();

        // Hold a lock that blocks the batch INSERT (but not the head row lock before it).
        let blocker = admin_connection(&url).await.unwrap();
        blocker.batch_execute("BEGIN").await.unwrap();
        blocker
            .batch_execute(&format!("LOCK TABLE {schema}.audit_events IN SHARE MODE"))
            .await
            .unwrap();
        let appender = {
            let sink = sink.clone();
            tokio::spawn(async move { sink.append(events(50, "doomed")).await })
        };
        // Find the appender's backend once it waits on the lock, then kill it.
        let admin = admin_connection(&url).await.unwrap();
        let mut pid = None;
        for _ in 0..200 {
            let row = admin
                .query_opt(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
                     AND query LIKE 'INSERT INTO audit_events%' AND pid <> pg_backend_pid()",
                    &[],
                )
                .await
                .unwrap();
            if let Some(row) = row {
                pid = Some(row.get::<_, i32>(0));
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let pid = pid.expect("appender never blocked on the lock");
        admin
            .execute("SELECT pg_terminate_backend($1)", &[&pid])
            .await
            .unwrap();
        blocker.batch_execute("ROLLBACK").await.unwrap();

        let err = appender.await.unwrap().unwrap_err();
        let SinkError::Backend(source) = err else {
            panic!("expected Backend, got {err:?}");
        };
        assert_eq!(
            source.downcast_ref::<PgError>(),
            Some(&PgError::ConnectionLost { op: "audit append" })
        );
        assert!(!source.to_string().contains("7700900123"));
        assert_eq!(count(&admin, &schema, "audit_events").await, 3);
        let size: i64 = admin
            .query_one(&format!("SELECT size FROM {schema}.audit_head"), &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(size, 3);

        // The pool replaces the dead connection; the chain continues at 3.
        let head = sink.append(events(2, "after")).await.unwrap();
        assert_eq!(head.size, 5);
        let lines = admin
            .query(
                &format!("SELECT line FROM {schema}.audit_events ORDER BY seq"),
                &[],
            )
            .await
            .unwrap();
        let mut log = Vec::new();
        for row in lines {
            log.extend_from_slice(row.get::<_, &[u8]>(0));
            log.push(b'\n');
        }
        assert_eq!(Verifier::new().verify_bytes(&log).unwrap().head, head);
        assert!(!String::from_utf8_lossy(&log).contains("7700900123"));
    });
}

/// Two sinks on two pools (two replicas) append concurrently: one verifiable chain.
#[test]
fn two_replicas_append_one_chain() {
    let Some(url) = url_or_skip("two_replicas_append_one_chain") else {
        return;
    };
    runtime().block_on(async {
        let db_a = fresh_database(&url);
        let db_b = second_pool(&url, &db_a);
        let a = PgAuditSink::new(db_a);
        let b = PgAuditSink::new(db_b);
        let mut tasks = Vec::new();
        for t in 0..8 {
            let sink = if t % 2 == 0 { a.clone() } else { b.clone() };
            tasks.push(tokio::spawn(async move {
                for i in 0..10 {
                    sink.append(events(3, &format!("t{t}i{i}"))).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let head_a = a.head().await.unwrap();
        assert_eq!(head_a.size, 240);
        assert_eq!(b.head().await.unwrap(), head_a);
        let all = a.read_range(0, 240).await.unwrap();
        assert_eq!(rcsec_audit::sink::conformance::expected_head(&all), head_a);
    });
}

/// Two replicas migrating at once apply each migration once.
#[test]
fn concurrent_migrations_apply_once() {
    let Some(url) = url_or_skip("concurrent_migrations_apply_once") else {
        return;
    };
    runtime().block_on(async {
        let db = fresh_database(&url);
        let others: Vec<PgDatabase> = (0..4).map(|_| second_pool(&url, &db)).collect();
        let mut tasks = vec![tokio::spawn({
            let db = db.clone();
            async move { db.migrate().await }
        })];
        for o in others {
            tasks.push(tokio::spawn(async move { o.migrate().await }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let admin = admin_connection(&url).await.unwrap();
        let schema = db.schema().unwrap();
        let versions: Vec<i32> = admin
            .query(
                &format!("SELECT version FROM {schema}.schema_version ORDER BY version"),
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    });
}

/// `sweep_expired` removes expired links and blobs together and keeps live ones.
#[test]
fn sweep_removes_expired_links_and_blobs() {
    let Some(url) = url_or_skip("sweep_removes_expired_links_and_blobs") else {
        return;
    };
    runtime().block_on(async {
        let db = fresh_database(&url);
        let links = PgTokenStore::new(db.clone());
        let blobs = PgBlobStore::new(db.clone());
        let (short, long) = (record(60), record(600));
        links.insert(short.clone()).await.unwrap();
        links.insert(long.clone()).await.unwrap();
        let b1 = blobs
            .put(vec![1; 10], Duration::from_secs(60), 1, T0)
            .await
            .unwrap();
        let b2 = blobs
            .put(vec![2; 10], Duration::from_secs(600), 1, T0)
            .await
            .unwrap();
        let at = T0.saturating_add(Duration::from_secs(60));
        let swept = sweep_expired(&db, at).await.unwrap();
        assert_eq!((swept.links, swept.blobs), (1, 1));
        assert!(links.get(&short.link_id).await.unwrap().is_none());
        assert!(links.get(&long.link_id).await.unwrap().is_some());
        assert!(blobs.delete(&b2).await.unwrap());
        assert!(!blobs.delete(&b1).await.unwrap());
        assert_eq!(sweep_expired(&db, at).await.unwrap().links, 0);
    });
}
