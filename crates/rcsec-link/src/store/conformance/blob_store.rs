//! The blob-store checks; each takes a fresh, empty store.

#![allow(
    clippy::unwrap_used,
    clippy::missing_panics_doc,
    reason = "conformance tests"
)]

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Barrier;

use super::at;
use crate::store::{BlobId, BlobStore, TakeOutcome};

const TTL: Duration = Duration::from_secs(600);

/// One read returns the bytes and deletes the blob.
pub async fn put_take_single_read(s: Arc<dyn BlobStore>) {
    let id = s
        .put(b"ciphertext-1".to_vec(), TTL, 1, at(0))
        .await
        .unwrap();
    let other = s
        .put(b"ciphertext-2".to_vec(), TTL, 1, at(0))
        .await
        .unwrap();
    assert_ne!(id, other);
    assert_eq!(
        s.take(&id, at(1)).await.unwrap(),
        TakeOutcome::Taken {
            ciphertext: b"ciphertext-1".to_vec(),
            reads_left: 0
        }
    );
    assert_eq!(s.take(&id, at(2)).await.unwrap(), TakeOutcome::Gone);
    assert_eq!(
        s.take(&BlobId::from_bytes([0; 16]), at(2)).await.unwrap(),
        TakeOutcome::Gone
    );
    assert!(matches!(
        s.take(&other, at(2)).await.unwrap(),
        TakeOutcome::Taken { .. }
    ));
}

/// `max_reads` reads, then gone.
pub async fn max_reads_then_gone(s: Arc<dyn BlobStore>) {
    let data = vec![0x5A; 100_000];
    let id = s.put(data.clone(), TTL, 3, at(0)).await.unwrap();
    for left in [2, 1, 0] {
        assert_eq!(
            s.take(&id, at(1)).await.unwrap(),
            TakeOutcome::Taken {
                ciphertext: data.clone(),
                reads_left: left
            }
        );
    }
    assert_eq!(s.take(&id, at(1)).await.unwrap(), TakeOutcome::Gone);
}

/// Expired blobs are gone at the instant of expiry, even with reads left.
pub async fn expiry_deletes(s: Arc<dyn BlobStore>) {
    let id = s
        .put(b"x".to_vec(), Duration::from_secs(60), 5, at(0))
        .await
        .unwrap();
    assert!(matches!(
        s.take(&id, at(59)).await.unwrap(),
        TakeOutcome::Taken { .. }
    ));
    assert_eq!(s.take(&id, at(60)).await.unwrap(), TakeOutcome::Gone);
    assert_eq!(s.take(&id, at(1)).await.unwrap(), TakeOutcome::Gone);
}

/// `delete` and `sweep_expired` remove blobs.
pub async fn delete_and_sweep(s: Arc<dyn BlobStore>) {
    let a = s
        .put(b"a".to_vec(), Duration::from_secs(60), 1, at(0))
        .await
        .unwrap();
    let b = s
        .put(b"b".to_vec(), Duration::from_secs(120), 1, at(0))
        .await
        .unwrap();
    let c = s
        .put(b"c".to_vec(), Duration::from_secs(120), 1, at(0))
        .await
        .unwrap();
    assert!(s.delete(&c).await.unwrap());
    assert!(!s.delete(&c).await.unwrap());
    assert_eq!(s.sweep_expired(at(59)).await.unwrap(), 0);
    assert_eq!(s.sweep_expired(at(60)).await.unwrap(), 1);
    assert_eq!(s.take(&a, at(10)).await.unwrap(), TakeOutcome::Gone);
    assert!(matches!(
        s.take(&b, at(10)).await.unwrap(),
        TakeOutcome::Taken { .. }
    ));
}

/// 32 tasks take a 2-read blob at once, 50 rounds: exactly two get it.
pub async fn concurrent_take_race(s: Arc<dyn BlobStore>) {
    for round in 0..50 {
        let id = s.put(vec![round; 64], TTL, 2, at(0)).await.unwrap();
        let barrier = Arc::new(Barrier::new(32));
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let (s, barrier) = (Arc::clone(&s), Arc::clone(&barrier));
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                matches!(s.take(&id, at(1)).await.unwrap(), TakeOutcome::Taken { .. })
            }));
        }
        let mut winners = 0;
        for t in tasks {
            winners += usize::from(t.await.unwrap());
        }
        assert_eq!(winners, 2, "round {round}");
    }
}
