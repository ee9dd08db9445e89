//! 64 tasks over two separate pools on one file race to consume one single-use token,
//! 1,000 rounds: exactly one winner every round.
//!
//! The two `SqliteStore`s share nothing in-process (separate connection pools and write
//! gates), so the only thing between their writers is SQLite's file lock: the same situation
//! as two daemon processes on one machine.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use rcsec_core::{AlertId, Timestamp};
use rcsec_link::{
    BlobId, ConsumeOutcome, LinkId, LinkRecord, OsRandom, RecipientPseudonym, TokenStore,
};
use rcsec_store_sqlite::{SqliteStore, SqliteTokenStore};
use tokio::sync::Barrier;

const ROUNDS: usize = 1_000;
const CONTENDERS: usize = 64;

fn record(now: Timestamp) -> LinkRecord {
    LinkRecord::new(
        LinkId::random(&OsRandom).unwrap(),
        AlertId::new("race").unwrap(),
        RecipientPseudonym::from_bytes([7; 32]),
        BlobId::random(&OsRandom).unwrap(),
        now.saturating_add(Duration::from_secs(600)),
    )
}

#[test]
fn sixty_four_tasks_two_pools_one_winner_per_round() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("race.db");
    let pools: [Arc<dyn TokenStore>; 2] = [
        Arc::new(SqliteTokenStore::new(SqliteStore::open(&path).unwrap())),
        Arc::new(SqliteTokenStore::new(SqliteStore::open(&path).unwrap())),
    ];
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let now = Timestamp::from_secs(1_800_000_000);
    let started = Instant::now();
    runtime.block_on(async {
        for round in 0..ROUNDS {
            let r = record(now);
            pools[round % 2].insert(r.clone()).await.unwrap();
            let barrier = Arc::new(Barrier::new(CONTENDERS));
            let tasks: Vec<_> = (0..CONTENDERS)
                .map(|i| {
                    let (store, barrier) = (Arc::clone(&pools[i % 2]), Arc::clone(&barrier));
                    let link = r.link_id;
                    tokio::spawn(async move {
                        barrier.wait().await;
                        match store.consume(&link, now).await.unwrap() {
                            ConsumeOutcome::Consumed { .. } => 1,
                            ConsumeOutcome::AlreadyConsumed => 0,
                            other => panic!("round {round}: unexpected {other:?}"),
                        }
                    })
                })
                .collect();
            let mut winners = 0;
            for t in tasks {
                winners += t.await.unwrap();
            }
            assert_eq!(winners, 1, "round {round}: {winners} winners");
            let stored = pools[(round + 1) % 2]
                .get(&r.link_id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(stored.uses, 1, "round {round}");
        }
    });
    let elapsed = started.elapsed();
    eprintln!(
        "race: {ROUNDS} rounds x {CONTENDERS} tasks over 2 pools in {:.2} s",
        elapsed.as_secs_f64()
    );
}

/// Two sinks on two pools (as two processes would be) append concurrently: one gap-free chain,
/// each batch contiguous, and both sinks agree on the head.
#[test]
fn two_sinks_on_one_file_extend_one_chain() {
    use rcsec_audit::sink::conformance::{events, expected_head};
    use rcsec_audit::{AuditSink, Verifier};
    use rcsec_store_sqlite::SqliteAuditSink;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let sinks: [Arc<dyn AuditSink>; 2] = [
        Arc::new(SqliteAuditSink::open(SqliteStore::open(&path).unwrap()).unwrap()),
        Arc::new(SqliteAuditSink::open(SqliteStore::open(&path).unwrap()).unwrap()),
    ];
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let tasks: Vec<_> = (0..8)
            .map(|t| {
                let sink = Arc::clone(&sinks[t % 2]);
                tokio::spawn(async move {
                    for b in 0..10 {
                        sink.append(events(3, &format!("t{t}b{b}"))).await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let head = sinks[0].head().await.unwrap();
        assert_eq!(head, sinks[1].head().await.unwrap());
        assert_eq!(head.size, 8 * 10 * 3);
        let stored = sinks[1].read_range(0, head.size).await.unwrap();
        assert_eq!(expected_head(&stored), head);
        for batch in stored.chunks(3) {
            let tag = batch[0].outcome().unwrap();
            assert!(
                batch.iter().all(|e| e.outcome() == Some(tag)),
                "batch split"
            );
        }
        let lines = rcsec_store_sqlite::audit::read_all_lines(&path).unwrap();
        assert_eq!(Verifier::new().verify_bytes(&lines).unwrap().head, head);
    });
}
