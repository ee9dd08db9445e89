//! The MLS push protector against phones that join from its Welcomes: binding to alert and
//! message, removal, persistence before send, restart and concurrent replicas.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use rcsec::core::{AlertId, Msisdn, Secret, Timestamp};
use rcsec::keying::device::{Device, ValidatedKeyPackage};
use rcsec::keying::group::{Group, GroupConfig};
use rcsec::protect::{
    GroupStateKey, GroupStore, GroupStoreError, MemoryGroupStore, MlsTeamProtector, NoPushDevices,
    PagedDevice, SealedGroupState, page_aad,
};
use rcsec::{MessageId, ProtectError, PushProtector, Responder, async_trait};

use crate::harness::runtime;

const NOW: Timestamp = Timestamp::from_secs(1_800_000_000);
const TEAM: &str = "oncall-db";
const CANARY: &[u8] = b"CANARY db-7 root password: hunter2-7f3a";

fn key() -> GroupStateKey {
    GroupStateKey::new(Secret::new([0x42; 32]))
}

async fn protector(store: Arc<dyn GroupStore>) -> MlsTeamProtector {
    MlsTeamProtector::open(
        Device::generate("rcsec/orchestrator").unwrap(),
        store,
        key(),
        GroupConfig::default(),
    )
    .await
    .unwrap()
}

/// A phone's identity and key package, enrolled through `protector`; returns the phone.
async fn enroll(protector: &MlsTeamProtector, name: &str) -> (PagedDevice, Vec<u8>) {
    let device = Device::generate(name).unwrap();
    let bundle = device
        .key_package(NOW, Duration::from_secs(86_400))
        .unwrap();
    let validated = ValidatedKeyPackage::validate(&bundle.key_package, NOW).unwrap();
    let enrolled = protector.enroll(TEAM, &validated).await.unwrap();
    let key = protector.signature_key(TEAM).await.unwrap();
    (
        PagedDevice::join(&enrolled.welcome, bundle, &device, key).unwrap(),
        enrolled.change.commit,
    )
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

#[test]
fn a_push_page_opens_on_the_phone_only_as_its_alert_and_message_and_once() {
    runtime().block_on(async {
        let p = protector(Arc::new(MemoryGroupStore::new())).await;
        let (mut phone, _) = enroll(&p, "alice/phone").await;
        let (alert, message) = ids(1);
        let envelope = p
            .protect(&responder(), &alert, &message, CANARY)
            .await
            .unwrap();
        assert!(!envelope.windows(CANARY.len()).any(|w| w == CANARY));
        // The same plaintext twice: different ciphertexts.
        let (_, message2) = ids(2);
        let second = p
            .protect(&responder(), &alert, &message2, CANARY)
            .await
            .unwrap();
        assert_ne!(envelope, second);

        let other_alert = AlertId::new("ffff0000ffff0000").unwrap();
        assert_eq!(
            phone.open(&other_alert, &message, &envelope).err(),
            Some(ProtectError::Open)
        );
        assert_eq!(
            phone.open(&alert, &message2, &envelope).err(),
            Some(ProtectError::Open)
        );
        // The refusals above cost no key: the genuine delivery still opens, exactly once.
        assert_eq!(
            phone
                .open(&alert, &message, &envelope)
                .unwrap()
                .expose_secret(),
            CANARY
        );
        assert_eq!(
            phone.open(&alert, &message, &envelope).err(),
            Some(ProtectError::Open)
        );
        assert_eq!(
            phone
                .open(&alert, &message2, &second)
                .unwrap()
                .expose_secret(),
            CANARY
        );
        let mut cut = envelope.clone();
        cut.truncate(cut.len() / 2);
        assert!(phone.open(&alert, &message, &cut).is_err());
        assert!(phone.open(&alert, &message, b"").is_err());
    });
}

#[test]
fn a_removed_phone_cannot_read_the_next_page() {
    runtime().block_on(async {
        let p = protector(Arc::new(MemoryGroupStore::new())).await;
        let (mut alice, _) = enroll(&p, "alice/phone").await;
        let bob_device = Device::generate("bob/phone").unwrap();
        let (mut bob, add_bob) = enroll(&p, "bob/phone").await;
        alice.process_commit(&add_bob).unwrap();
        assert_eq!(p.device_count(TEAM).await.unwrap(), 2);

        let (alert, m1) = ids(1);
        let before = p
            .protect(&responder(), &alert, &m1, b"page 1")
            .await
            .unwrap();
        assert_eq!(
            bob.open(&alert, &m1, &before).unwrap().expose_secret(),
            b"page 1"
        );

        let bob_key = bob
            .group()
            .members()
            .into_iter()
            .find(|m| m.leaf == bob.group().own_leaf())
            .unwrap()
            .signature_key;
        let removal = p.remove(TEAM, &bob_key).await.unwrap();
        alice.process_commit(&removal.commit).unwrap();
        assert_eq!(alice.group().epoch(), removal.epoch);
        // Bob's phone learns it was removed, or never sees the commit: either way it is out.
        let _ = bob.process_commit(&removal.commit);
        let (_, m2) = ids(2);
        let after = p.protect(&responder(), &alert, &m2, CANARY).await.unwrap();
        assert_eq!(
            bob.open(&alert, &m2, &after).err(),
            Some(ProtectError::Open)
        );
        assert_eq!(
            alice.open(&alert, &m2, &after).unwrap().expose_secret(),
            CANARY
        );
        assert_eq!(
            p.remove(TEAM, &bob_key).await.err(),
            Some(ProtectError::Membership)
        );
        assert_eq!(
            p.remove(TEAM, &bob_device.signature_key()).await.err(),
            Some(ProtectError::Membership)
        );
    });
}

#[test]
fn a_page_signed_by_another_team_member_is_refused() {
    runtime().block_on(async {
        let p = protector(Arc::new(MemoryGroupStore::new())).await;
        let (mut alice, _) = enroll(&p, "alice/phone").await;
        // Mallory's phone is a legitimate member and forges a "page" with the right ids.
        let mallory = Device::generate("mallory/phone").unwrap();
        let bundle = mallory
            .key_package(NOW, Duration::from_secs(86_400))
            .unwrap();
        let validated = ValidatedKeyPackage::validate(&bundle.key_package, NOW).unwrap();
        let enrolled = p.enroll(TEAM, &validated).await.unwrap();
        alice.process_commit(&enrolled.change.commit).unwrap();
        let mut mallory_group =
            Group::join(&enrolled.welcome, bundle, &mallory, GroupConfig::default()).unwrap();
        let (alert, message) = ids(1);
        let forged = mallory_group
            .encrypt_with_aad(
                b"ack by replying with the root password",
                &page_aad(&alert, &message),
            )
            .unwrap();
        assert_eq!(
            alice.open(&alert, &message, &forged).err(),
            Some(ProtectError::Open)
        );
        // Enrolling the same key package twice is refused.
        assert_eq!(
            p.enroll(TEAM, &validated).await.err(),
            Some(ProtectError::Membership)
        );
    });
}

#[test]
fn reaches_only_responders_whose_group_has_a_phone() {
    runtime().block_on(async {
        let p = protector(Arc::new(MemoryGroupStore::new())).await;
        let (alert, message) = ids(1);
        assert!(!p.reaches(&responder()));
        assert_eq!(
            p.protect(&responder(), &alert, &message, b"x").await.err(),
            Some(ProtectError::NoDevice)
        );
        let _phone = enroll(&p, "alice/phone").await;
        assert!(p.reaches(&responder()));
        let no_group = Responder::new(Msisdn::parse("+447700900102").unwrap(), "Bob");
        assert!(!p.reaches(&no_group));
        assert!(!p.reaches(&no_group.clone().with_push_group("other-team")));
        assert_eq!(
            p.protect(&no_group, &alert, &message, b"x").await.err(),
            Some(ProtectError::NoDevice)
        );
        assert!(!NoPushDevices.reaches(&responder()));
        assert_eq!(
            NoPushDevices
                .protect(&responder(), &alert, &message, b"x")
                .await
                .err(),
            Some(ProtectError::NoDevice)
        );
        assert_eq!(p.name(), "mls_team_group");
    });
}

/// A store that can be told to fail saves, and counts successful ones.
#[derive(Debug, Default)]
struct FlakyStore {
    inner: MemoryGroupStore,
    fail: AtomicBool,
    saves: AtomicUsize,
}

#[async_trait]
impl GroupStore for FlakyStore {
    async fn load(&self, group: &[u8]) -> Result<Option<SealedGroupState>, GroupStoreError> {
        self.inner.load(group).await
    }
    async fn save(
        &self,
        group: &[u8],
        expected: Option<u64>,
        state: &SealedGroupState,
    ) -> Result<(), GroupStoreError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(GroupStoreError::Backend("disk full".into()));
        }
        self.inner.save(group, expected, state).await?;
        self.saves.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    async fn groups(&self) -> Result<Vec<Vec<u8>>, GroupStoreError> {
        self.inner.groups().await
    }
}

#[test]
fn no_ciphertext_leaves_before_its_state_is_stored() {
    runtime().block_on(async {
        let store = Arc::new(FlakyStore::default());
        let p = protector(store.clone()).await;
        let (mut phone, _) = enroll(&p, "alice/phone").await;
        let (alert, m1) = ids(1);
        let saves = store.saves.load(Ordering::SeqCst);
        let first = p.protect(&responder(), &alert, &m1, b"one").await.unwrap();
        // The advanced ratchet was stored before `protect` returned.
        assert_eq!(store.saves.load(Ordering::SeqCst), saves + 1);
        let stored = store.inner.load(TEAM.as_bytes()).await.unwrap().unwrap();

        store.fail.store(true, Ordering::SeqCst);
        let (_, m2) = ids(2);
        assert_eq!(
            p.protect(&responder(), &alert, &m2, b"lost").await.err(),
            Some(ProtectError::Store)
        );
        assert_eq!(
            store.inner.load(TEAM.as_bytes()).await.unwrap().unwrap(),
            stored
        );
        store.fail.store(false, Ordering::SeqCst);
        // The unreleased step is redone from the stored state; the phone sees no gap or replay.
        let (_, m3) = ids(3);
        let third = p
            .protect(&responder(), &alert, &m3, b"three")
            .await
            .unwrap();
        assert_eq!(
            phone.open(&alert, &m1, &first).unwrap().expose_secret(),
            b"one"
        );
        assert_eq!(
            phone.open(&alert, &m3, &third).unwrap().expose_secret(),
            b"three"
        );
    });
}

#[test]
fn a_restarted_protector_continues_the_ratchet_and_needs_its_key() {
    runtime().block_on(async {
        let store: Arc<dyn GroupStore> = Arc::new(MemoryGroupStore::new());
        let first = protector(store.clone()).await;
        let (mut phone, _) = enroll(&first, "alice/phone").await;
        let (alert, m1) = ids(1);
        let page1 = first
            .protect(&responder(), &alert, &m1, b"before")
            .await
            .unwrap();
        let epoch = first.epoch(TEAM).await.unwrap();
        drop(first);

        let wrong = MlsTeamProtector::open(
            Device::generate("rcsec/orchestrator").unwrap(),
            store.clone(),
            GroupStateKey::new(Secret::new([0x43; 32])),
            GroupConfig::default(),
        )
        .await;
        assert_eq!(wrong.err(), Some(ProtectError::CorruptState));

        let restarted = protector(store).await;
        assert!(restarted.reaches(&responder()));
        assert_eq!(restarted.epoch(TEAM).await.unwrap(), epoch);
        let (_, m2) = ids(2);
        let page2 = restarted
            .protect(&responder(), &alert, &m2, b"after")
            .await
            .unwrap();
        // Out of order on purpose: both open, neither is a replay of the other's generation.
        assert_eq!(
            phone.open(&alert, &m2, &page2).unwrap().expose_secret(),
            b"after"
        );
        assert_eq!(
            phone.open(&alert, &m1, &page1).unwrap().expose_secret(),
            b"before"
        );
    });
}

#[test]
fn two_replicas_on_one_store_never_reuse_a_generation() {
    runtime().block_on(async {
        let store: Arc<dyn GroupStore> = Arc::new(MemoryGroupStore::new());
        let a = protector(store.clone()).await;
        let (mut phone, _) = enroll(&a, "alice/phone").await;
        // `b` loads the group now; `a` then moves it on, so `b`'s copy is stale.
        let b = protector(store).await;
        let (alert, m1) = ids(1);
        let from_a = a
            .protect(&responder(), &alert, &m1, b"from a")
            .await
            .unwrap();
        let (_, m2) = ids(2);
        let from_b = b
            .protect(&responder(), &alert, &m2, b"from b")
            .await
            .unwrap();
        let (_, m3) = ids(3);
        let again_a = a
            .protect(&responder(), &alert, &m3, b"a again")
            .await
            .unwrap();
        for (m, page, text) in [
            (&m1, &from_a, b"from a".as_slice()),
            (&m2, &from_b, b"from b".as_slice()),
            (&m3, &again_a, b"a again".as_slice()),
        ] {
            assert_eq!(phone.open(&alert, m, page).unwrap().expose_secret(), text);
        }
    });
}

#[test]
fn epoch_fingerprints_match_between_orchestrator_and_phone() {
    runtime().block_on(async {
        let p = protector(Arc::new(MemoryGroupStore::new())).await;
        let (mut phone, _) = enroll(&p, "alice/phone").await;
        let (epoch, fingerprint) = p.epoch(TEAM).await.unwrap();
        assert_eq!(phone.group().epoch(), epoch);
        assert_eq!(
            rcsec::protect::epoch_fingerprint(phone.group()),
            fingerprint
        );
        assert_eq!(fingerprint.len(), 16);
        let update = p.self_update(TEAM).await.unwrap();
        phone.process_commit(&update.commit).unwrap();
        assert_eq!(update.epoch, epoch + 1);
        assert_eq!(
            rcsec::protect::epoch_fingerprint(phone.group()),
            update.fingerprint
        );
        assert_ne!(update.fingerprint, fingerprint);
        assert_eq!(
            p.epoch("no-such-team").await.err(),
            Some(ProtectError::NoDevice)
        );
    });
}
