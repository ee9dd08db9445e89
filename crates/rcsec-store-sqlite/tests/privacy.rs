//! What the database file must never contain: phone numbers in the pins table, and anything
//! but ciphertext, pseudonyms and ids outside the outbox.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use rcsec_capability::{Pin, PinStore, Source};
use rcsec_core::{Msisdn, Secret, Timestamp};
use rcsec_store_sqlite::{SqlitePinStore, SqliteStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pins_are_keyed_by_a_keyed_hash_not_the_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pins.db");
    let number = Msisdn::parse("+447700900123").unwrap();
    let pin = Pin {
        pinned_at: Timestamp::from_secs(1_800_000_000),
        source: Source::ClientReport,
    };
    let key = Secret::new([0x11; 32]);
    let store = SqliteStore::open(&path).unwrap();
    let pins = SqlitePinStore::new(store.clone(), &key);
    pins.pin_if_absent(&number, pin).await.unwrap();
    drop((pins, store));

    // Dropping the last handle checkpoints the WAL: the whole database is in the main file.
    let bytes = std::fs::read(&path).unwrap();
    for needle in ["447700900123", "7700900123", "0123"] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle} found in the database file"
        );
    }
    // The same key finds the pin again; another key does not.
    let store = SqliteStore::open(&path).unwrap();
    let same = SqlitePinStore::new(store.clone(), &key);
    assert_eq!(same.get(&number).await.unwrap(), Some(pin));
    let other = SqlitePinStore::new(store, &Secret::new([0x22; 32]));
    assert_eq!(other.get(&number).await.unwrap(), None);
}
