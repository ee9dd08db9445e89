//! Races across two connections, the capability cache's TTL, and bad conditions on Redis.
//!
//! Skipped with a printed reason when `RCSEC_TEST_REDIS_URL` is unset; failing when it is
//! set and the server does not answer.
#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use rcsec_capability::{
    Capability, Carrier, ClientHints, ClientVersion, E2ee, Features, Reach, Region, Source,
};
use rcsec_core::{AlertId, Msisdn, Secret, Timestamp};
use rcsec_link::{
    BlobId, ConsumeOutcome, LinkId, LinkRecord, OsRandom, RecipientPseudonym, StoreError,
    TokenStore,
};
use rcsec_store_redis::testing::{fresh_connection, second_connection, url_or_skip};
use rcsec_store_redis::{
    NumberKeyer, RedisCapabilityCache, RedisConnection, RedisError, RedisTokenStore,
};
use tokio::sync::Barrier;

const T0: Timestamp = Timestamp::from_secs(1_800_000_000);

fn record() -> LinkRecord {
    LinkRecord::new(
        LinkId::random(&OsRandom).unwrap(),
        AlertId::new("race-alert").unwrap(),
        RecipientPseudonym::from_bytes([1; 32]),
        BlobId::random(&OsRandom).unwrap(),
        T0.saturating_add(Duration::from_secs(600)),
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

fn keyer() -> NumberKeyer {
    NumberKeyer::new(&Secret::new([0x24; 32]))
}

/// 64 tasks over two separate connections race to consume one token, 1,000 rounds: exactly
/// one winner every round.
#[test]
fn race_64_tasks_two_connections_1000_rounds_one_winner_each() {
    let Some(url) = url_or_skip("race_64_tasks_two_connections_1000_rounds_one_winner_each") else {
        return;
    };
    runtime().block_on(async {
        let conn_a = fresh_connection(&url);
        let conn_b = second_connection(&url, &conn_a);
        let a: Arc<dyn TokenStore> = Arc::new(RedisTokenStore::new(conn_a));
        let b: Arc<dyn TokenStore> = Arc::new(RedisTokenStore::new(conn_b));
        let started = Instant::now();
        for round in 0..1_000 {
            let r = record();
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
            "redis race: 1000 rounds x 64 tasks over 2 connections in {:?}",
            started.elapsed()
        );
    });
}

fn rich_capability() -> Capability {
    Capability::new(Reach::Rcs, E2ee::Verified, Source::ClientReport, T0)
        .with_features(Features::FILE_TRANSFER.union(Features::READ_RECEIPTS))
        .with_carrier(Carrier::new("Example Mobile").with_region(Region::parse("GB").unwrap()))
        .with_client(
            ClientHints::client("Messages")
                .with_version(ClientVersion::parse("20240311.1").unwrap())
                .with_os("android"),
        )
}

/// Entries round-trip, are stored under a keyed hash (no number in any key or value), are
/// replaced by `put`, dropped by `invalidate`, and expire by Redis' own TTL.
#[test]
fn capability_cache_round_trip_ttl_and_invalidate() {
    let Some(url) = url_or_skip("capability_cache_round_trip_ttl_and_invalidate") else {
        return;
    };
    runtime().block_on(async {
        let conn = fresh_connection(&url);
        let cache = RedisCapabilityCache::new(conn.clone(), keyer());
        let other_replica = RedisCapabilityCache::new(second_connection(&url, &conn), keyer());
        let to = Msisdn::parse("+447700900123").unwrap();
        let other = Msisdn::parse("+447700900124").unwrap();
        assert_eq!(cache.get(&to).await.unwrap(), None);

        let cap = rich_capability();
        cache
            .put(&to, &cap, Duration::from_secs(300))
            .await
            .unwrap();
        assert_eq!(other_replica.get(&to).await.unwrap(), Some(cap.clone()));
        assert_eq!(cache.get(&other).await.unwrap(), None);

        // Nothing in Redis names the number.
        let client = redis::Client::open(url.as_str()).unwrap();
        let mut raw = client.get_multiplexed_async_connection().await.unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", conn.prefix()))
            .query_async(&mut raw)
            .await
            .unwrap();
        assert_eq!(keys.len(), 1);
        assert!(!keys[0].contains("7700900123"));
        let value: Vec<u8> = redis::cmd("GET")
            .arg(&keys[0])
            .query_async(&mut raw)
            .await
            .unwrap();
        assert!(!String::from_utf8_lossy(&value).contains("7700900123"));
        let pttl: i64 = redis::cmd("PTTL")
            .arg(&keys[0])
            .query_async(&mut raw)
            .await
            .unwrap();
        assert!((299_000..=300_000).contains(&pttl), "pttl {pttl}");

        let weaker = Capability::new(Reach::SmsOnly, E2ee::Unavailable, Source::Provider, T0);
        cache
            .put(&to, &weaker, Duration::from_secs(300))
            .await
            .unwrap();
        assert_eq!(cache.get(&to).await.unwrap(), Some(weaker.clone()));
        assert!(cache.invalidate(&to).await.unwrap());
        assert!(!cache.invalidate(&to).await.unwrap());
        assert_eq!(cache.get(&to).await.unwrap(), None);

        // Native expiry: gone after the TTL without any sweep.
        cache
            .put(&to, &cap, Duration::from_millis(150))
            .await
            .unwrap();
        assert!(cache.get(&to).await.unwrap().is_some());
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(cache.get(&to).await.unwrap(), None);
        // A zero TTL stores nothing.
        cache.put(&to, &cap, Duration::ZERO).await.unwrap();
        assert_eq!(cache.get(&to).await.unwrap(), None);
    });
}

/// A tampered entry is a typed error, not a panic or a wrong answer.
#[test]
fn corrupt_cache_entry_is_a_typed_error() {
    let Some(url) = url_or_skip("corrupt_cache_entry_is_a_typed_error") else {
        return;
    };
    runtime().block_on(async {
        let conn = fresh_connection(&url);
        let cache = RedisCapabilityCache::new(conn.clone(), keyer());
        let to = Msisdn::parse("+447700900123").unwrap();
        cache
            .put(&to, &rich_capability(), Duration::from_secs(60))
            .await
            .unwrap();
        let client = redis::Client::open(url.as_str()).unwrap();
        let mut raw = client.get_multiplexed_async_connection().await.unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", conn.prefix()))
            .query_async(&mut raw)
            .await
            .unwrap();
        let _: () = redis::cmd("SET")
            .arg(&keys[0])
            .arg(r#"{"v":1,"reach":"teleport"}"#)
            .query_async(&mut raw)
            .await
            .unwrap();
        assert!(matches!(
            cache.get(&to).await,
            Err(RedisError::Corrupt { .. })
        ));
    });
}

/// An unreachable server is a typed error naming the operation.
#[test]
fn unreachable_server_is_a_typed_error() {
    runtime().block_on(async {
        let conn = RedisConnection::new("redis://127.0.0.1:1/", "rcsec_test:unreachable:").unwrap();
        let store = RedisTokenStore::new(conn.clone());
        let err = store.get(&LinkId::from_bytes([0; 16])).await.unwrap_err();
        let StoreError::Backend(source) = err else {
            panic!("expected Backend");
        };
        assert_eq!(
            source.downcast_ref::<RedisError>(),
            Some(&RedisError::Unreachable { op: "link get" })
        );
        let cache = RedisCapabilityCache::new(conn, keyer());
        let to = Msisdn::parse("+447700900123").unwrap();
        let err = cache.get(&to).await.unwrap_err();
        assert_eq!(
            err,
            RedisError::Unreachable {
                op: "capability get"
            }
        );
        assert!(!err.to_string().contains("7700900123"));
    });
}

#[test]
fn bad_configuration_is_refused_up_front() {
    assert!(matches!(
        RedisConnection::new("redis://127.0.0.1:6379/", "has space"),
        Err(RedisError::Config(_))
    ));
    assert!(matches!(
        RedisConnection::new("nonsense://", "ok:"),
        Err(RedisError::Config(_))
    ));
}

/// `url` with its database index replaced by `db`.
fn with_db(url: &str, db: u8) -> String {
    let base = url.trim_end_matches('/');
    let base = match base.rsplit_once('/') {
        Some((head, last)) if last.bytes().all(|b| b.is_ascii_digit()) && !head.ends_with('/') => {
            head
        }
        _ => base,
    };
    format!("{base}/{db}")
}

/// A connection killed server-side (`CLIENT KILL`) is reported at most once, and the next
/// call reconnects. The store uses database 13, which only this test selects, so the kill
/// hits no other test's connection.
#[test]
fn killed_connection_reconnects() {
    let Some(url) = url_or_skip("killed_connection_reconnects") else {
        return;
    };
    runtime().block_on(async {
        let url = with_db(&url, 13);
        let conn = fresh_connection(&url);
        let store = RedisTokenStore::new(conn.clone());
        let r = record();
        store.insert(r.clone()).await.unwrap();
        let client = redis::Client::open(with_db(&url, 0).as_str()).unwrap();
        let mut admin = client.get_multiplexed_async_connection().await.unwrap();
        let list: String = redis::cmd("CLIENT")
            .arg("LIST")
            .query_async(&mut admin)
            .await
            .unwrap();
        let mut killed = 0;
        for line in list.lines().filter(|l| l.split(' ').any(|f| f == "db=13")) {
            let id: i64 = line
                .split(' ')
                .find_map(|f| f.strip_prefix("id="))
                .and_then(|v| v.parse().ok())
                .unwrap();
            let _: i64 = redis::cmd("CLIENT")
                .arg("KILL")
                .arg("ID")
                .arg(id)
                .query_async(&mut admin)
                .await
                .unwrap();
            killed += 1;
        }
        assert_eq!(
            killed, 1,
            "expected exactly the store's connection on db 13"
        );
        // At most one call sees the drop (as a typed error); then the store reconnects.
        let outcome = match store.consume(&r.link_id, T0).await {
            Err(StoreError::Backend(source)) => {
                assert!(matches!(
                    source.downcast_ref::<RedisError>(),
                    Some(RedisError::ConnectionLost { .. })
                ));
                store.consume(&r.link_id, T0).await.unwrap()
            }
            other => other.unwrap(),
        };
        assert!(matches!(outcome, ConsumeOutcome::Consumed { .. }));
    });
}
