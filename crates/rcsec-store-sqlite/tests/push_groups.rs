//! The MLS push protector on SQLite: a restart continues the ratchet, the file holds sealed
//! state only, and a tampered row is refused.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rcsec::core::{AlertId, Msisdn, Secret, Timestamp};
use rcsec::keying::device::{Device, ValidatedKeyPackage};
use rcsec::keying::group::GroupConfig;
use rcsec::keying::mls::crypto::SignatureSecretKey;
use rcsec::protect::{GroupStateKey, MlsTeamProtector, PagedDevice};
use rcsec::{MessageId, ProtectError, PushProtector, Responder};
use rcsec_store_sqlite::{SqliteGroupStore, SqliteStore};

const NOW: Timestamp = Timestamp::from_secs(1_800_000_000);
const TEAM: &str = "oncall-payments";
const CANARY: &[u8] = b"CANARY payments-db root password: hunter2-7f3a";

fn key(byte: u8) -> GroupStateKey {
    GroupStateKey::new(Secret::new([byte; 32]))
}

async fn protector(
    path: &Path,
    device: Device,
    key: GroupStateKey,
) -> Result<MlsTeamProtector, ProtectError> {
    let store = SqliteStore::open(path).unwrap();
    MlsTeamProtector::open(
        device,
        Arc::new(SqliteGroupStore::new(store)),
        key,
        GroupConfig::default(),
    )
    .await
}

fn responder() -> Responder {
    Responder::new(Msisdn::parse("+447700900101").unwrap(), "Alice").with_push_group(TEAM)
}

fn ids(n: u32) -> (AlertId, MessageId) {
    (
        AlertId::new("c4a1b2d3e4f50617").unwrap(),
        MessageId::new(format!("m-{n}")).unwrap(),
    )
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_protector_continues_the_ratchet_and_the_file_holds_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rcsec.db");
    let signer = SignatureSecretKey::generate().unwrap();
    let seed = signer.to_seed();
    let first = protector(
        &path,
        Device::from_signer("rcsec/orchestrator", signer),
        key(1),
    )
    .await
    .unwrap();

    let device = Device::generate("alice/phone").unwrap();
    let bundle = device
        .key_package(NOW, Duration::from_secs(86_400))
        .unwrap();
    let validated = ValidatedKeyPackage::validate(&bundle.key_package, NOW).unwrap();
    let enrolled = first.enroll(TEAM, &validated).await.unwrap();
    let orchestrator = first.signature_key(TEAM).await.unwrap();
    let mut phone = PagedDevice::join(&enrolled.welcome, bundle, &device, orchestrator).unwrap();
    let (alert, m1) = ids(1);
    let page1 = first
        .protect(&responder(), &alert, &m1, CANARY)
        .await
        .unwrap();
    let epoch = first.epoch(TEAM).await.unwrap();
    drop(first);

    // The last handle is gone, so the WAL was checkpointed: everything is in the main file.
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        !contains(&bytes, CANARY),
        "the canary is in the database file"
    );
    assert!(!contains(&bytes, b"hunter2"));
    assert!(
        !contains(&bytes, seed.expose_secret()),
        "the orchestrator's signing key is in the file"
    );
    assert!(
        !contains(&bytes, phone.group().epoch_authenticator()),
        "an epoch secret is in the file"
    );
    assert!(
        contains(&bytes, TEAM.as_bytes()),
        "the group row is missing"
    );

    // The wrong store key cannot read the state.
    let wrong = protector(&path, Device::generate("x").unwrap(), key(2)).await;
    assert_eq!(wrong.err(), Some(ProtectError::CorruptState));

    // A restart continues from the stored ratchet: the phone opens both pages (the second
    // first), so no generation was reused and nothing looks like a replay.
    let restarted = protector(
        &path,
        Device::generate("rcsec/orchestrator-2").unwrap(),
        key(1),
    )
    .await
    .unwrap();
    assert!(restarted.reaches(&responder()));
    assert_eq!(restarted.epoch(TEAM).await.unwrap(), epoch);
    assert_eq!(restarted.signature_key(TEAM).await.unwrap(), orchestrator);
    let (_, m2) = ids(2);
    let page2 = restarted
        .protect(&responder(), &alert, &m2, b"second page")
        .await
        .unwrap();
    assert_eq!(
        phone.open(&alert, &m2, &page2).unwrap().expose_secret(),
        b"second page"
    );
    assert_eq!(
        phone.open(&alert, &m1, &page1).unwrap().expose_secret(),
        CANARY
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_or_rolled_over_group_row_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rcsec.db");
    let p = protector(
        &path,
        Device::generate("rcsec/orchestrator").unwrap(),
        key(1),
    )
    .await
    .unwrap();
    let device = Device::generate("alice/phone").unwrap();
    let bundle = device
        .key_package(NOW, Duration::from_secs(86_400))
        .unwrap();
    let validated = ValidatedKeyPackage::validate(&bundle.key_package, NOW).unwrap();
    p.enroll(TEAM, &validated).await.unwrap();
    drop(p);

    let raw = rusqlite::Connection::open(&path).unwrap();
    // A flipped byte in the sealed state.
    let mut sealed: Vec<u8> = raw
        .query_row("SELECT sealed FROM mls_groups", [], |r| r.get(0))
        .unwrap();
    sealed[30] ^= 1;
    raw.execute("UPDATE mls_groups SET sealed = ?1", [sealed])
        .unwrap();
    drop(raw);
    let opened = protector(&path, Device::generate("x").unwrap(), key(1)).await;
    assert_eq!(opened.err(), Some(ProtectError::CorruptState));

    // An intact state under another version number (the version is bound into the seal).
    let dir2 = tempfile::tempdir().unwrap();
    let path2 = dir2.path().join("rcsec.db");
    let p = protector(
        &path2,
        Device::generate("rcsec/orchestrator").unwrap(),
        key(1),
    )
    .await
    .unwrap();
    p.enroll(TEAM, &validated).await.unwrap();
    drop(p);
    let raw = rusqlite::Connection::open(&path2).unwrap();
    raw.execute("UPDATE mls_groups SET version = version + 1", [])
        .unwrap();
    drop(raw);
    let opened = protector(&path2, Device::generate("x").unwrap(), key(1)).await;
    assert_eq!(opened.err(), Some(ProtectError::CorruptState));
}
