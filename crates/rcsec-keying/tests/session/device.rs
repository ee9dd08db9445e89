//! Key packages and device-linking chains.

use std::time::Duration;

use rcsec_core::Timestamp;
use rcsec_keying::device::{
    ChainVerifier, Device, DeviceChain, KeyPackageError, LinkError, MAX_KEY_PACKAGE_LIFETIME,
    ValidatedKeyPackage,
};
use rcsec_keying::mls::codec::{Decode, Encode};

use super::common::NOW;

const MIN: Duration = Duration::from_secs(60);

#[test]
fn key_packages_are_signed_and_expire() {
    let device = Device::generate("alice/phone").unwrap();
    let bundle = device.key_package(NOW, Duration::from_secs(86400)).unwrap();
    let kp = &bundle.key_package;
    let ok = ValidatedKeyPackage::validate(kp, NOW).unwrap();
    assert_eq!(ok.identity(), b"alice/phone");
    assert_eq!(ok.signature_key(), device.signature_key());
    // Survives the wire.
    let back =
        rcsec_keying::mls::key_package::KeyPackage::from_bytes(&kp.to_bytes().unwrap()).unwrap();
    assert!(ValidatedKeyPackage::validate(&back, NOW).is_ok());

    let later = NOW.saturating_add(Duration::from_secs(86401));
    assert_eq!(
        ValidatedKeyPackage::validate(kp, later),
        Err(KeyPackageError::Expired)
    );
    let earlier = NOW.saturating_sub(MIN);
    assert_eq!(
        ValidatedKeyPackage::validate(kp, earlier),
        Err(KeyPackageError::NotYetValid)
    );

    assert_eq!(
        device
            .key_package(NOW, MAX_KEY_PACKAGE_LIFETIME + MIN)
            .unwrap_err(),
        KeyPackageError::Lifetime
    );
    assert_eq!(
        device.key_package(NOW, Duration::ZERO).unwrap_err(),
        KeyPackageError::Lifetime
    );
}

#[test]
fn tampering_with_a_key_package_breaks_a_signature() {
    let device = Device::generate("bob").unwrap();
    let kp = device.key_package(NOW, MIN * 60).unwrap().key_package;

    let mut t = kp.clone();
    t.leaf_node.encryption_key[0] ^= 1;
    assert_eq!(
        ValidatedKeyPackage::validate(&t, NOW),
        Err(KeyPackageError::BadLeafSignature)
    );

    let mut t = kp.clone();
    t.init_key[0] ^= 1;
    assert_eq!(
        ValidatedKeyPackage::validate(&t, NOW),
        Err(KeyPackageError::BadSignature)
    );

    let mut t = kp.clone();
    t.signature[10] ^= 1;
    assert_eq!(
        ValidatedKeyPackage::validate(&t, NOW),
        Err(KeyPackageError::BadSignature)
    );

    // Another device's signature key in the leaf: the leaf signature no longer verifies.
    let mut t = kp;
    t.leaf_node.signature_key = Device::generate("eve")
        .unwrap()
        .signature_key()
        .as_bytes()
        .to_vec();
    assert_eq!(
        ValidatedKeyPackage::validate(&t, NOW),
        Err(KeyPackageError::BadLeafSignature)
    );
}

/// root → laptop → phone, each authorization valid for five minutes from `NOW`.
fn chain() -> (Device, Device, Device, DeviceChain) {
    let root = Device::generate("alice/root").unwrap();
    let laptop = Device::generate("alice/laptop").unwrap();
    let phone = Device::generate("alice/phone").unwrap();
    let a1 = root
        .authorize(laptop.signature_key(), "alice/laptop", NOW, MIN * 5)
        .unwrap();
    let a2 = laptop
        .authorize(phone.signature_key(), "alice/phone", NOW, MIN * 5)
        .unwrap();
    (root, laptop, phone, DeviceChain(vec![a1, a2]))
}

#[test]
fn a_linked_device_is_admitted_through_its_chain() {
    let (root, _laptop, phone, chain) = chain();
    let verifier = ChainVerifier::new([root.signature_key()]);
    let kp = phone.key_package(NOW, MIN * 60).unwrap().key_package;
    let admitted = verifier
        .admit(&kp, &chain, NOW.saturating_add(MIN))
        .unwrap();
    assert_eq!(admitted.signature_key(), phone.signature_key());
    // The chain round-trips through its encoding.
    let back = DeviceChain::from_bytes(&chain.to_bytes().unwrap()).unwrap();
    assert_eq!(back, chain);
    // A root needs no chain; any other device does.
    let root_kp = root.key_package(NOW, MIN * 60).unwrap().key_package;
    assert!(
        verifier
            .admit(&root_kp, &DeviceChain::default(), NOW)
            .is_ok()
    );
    assert_eq!(
        verifier
            .admit(&kp, &DeviceChain::default(), NOW)
            .unwrap_err(),
        LinkError::UntrustedRoot
    );
}

#[test]
fn every_chain_check_can_fail() {
    let (root, laptop, phone, chain) = chain();
    let verifier = ChainVerifier::new([root.signature_key()]);
    let kp = phone
        .key_package(NOW.saturating_sub(MIN * 10), MIN * 60)
        .unwrap()
        .key_package;
    let admit =
        |v: &ChainVerifier, c: &DeviceChain, at: Timestamp| v.admit(&kp, c, at).unwrap_err();

    // Expired, and not yet valid.
    assert_eq!(
        admit(&verifier, &chain, NOW.saturating_add(MIN * 6)),
        LinkError::Expired { index: 0 }
    );
    assert_eq!(
        admit(&verifier, &chain, NOW.saturating_sub(MIN)),
        LinkError::NotYetValid { index: 0 }
    );
    // A window longer than the verifier allows, even if signed.
    let strict = verifier.clone().with_max_lifetime(MIN);
    assert_eq!(
        admit(&strict, &chain, NOW),
        LinkError::Lifetime { index: 0 }
    );
    // Revocation of any device on the chain.
    let mut revoked = verifier.clone();
    revoked.revoke(laptop.signature_key());
    assert_eq!(
        admit(&revoked, &chain, NOW),
        LinkError::Revoked { index: 0 }
    );
    let mut revoked = verifier.clone();
    revoked.revoke(phone.signature_key());
    assert_eq!(
        admit(&revoked, &chain, NOW),
        LinkError::Revoked { index: 1 }
    );
    // Unknown root, too long, broken and forged links.
    let other = ChainVerifier::new([laptop.signature_key()]);
    assert_eq!(admit(&other, &chain, NOW), LinkError::UntrustedRoot);
    assert_eq!(
        admit(&verifier.clone().with_max_depth(1), &chain, NOW),
        LinkError::TooLong
    );
    let mut broken = chain.clone();
    broken.0.swap(0, 1);
    assert_eq!(admit(&verifier, &broken, NOW), LinkError::UntrustedRoot);
    let stranger = Device::generate("mallory").unwrap();
    let mut broken = chain.clone();
    broken.0[1] = stranger
        .authorize(phone.signature_key(), "alice/phone", NOW, MIN)
        .unwrap();
    assert_eq!(
        admit(&verifier, &broken, NOW),
        LinkError::Broken { index: 1 }
    );
    let mut forged = chain.clone();
    forged.0[1].subject_identity = b"alice/tablet".to_vec();
    assert_eq!(
        admit(&verifier, &forged, NOW),
        LinkError::BadSignature { index: 1 }
    );
    // The chain must end at the presented key package.
    let other_kp = laptop.key_package(NOW, MIN * 60).unwrap().key_package;
    assert_eq!(
        verifier.admit(&other_kp, &chain, NOW).unwrap_err(),
        LinkError::Mismatch
    );
    // And the key package must itself be valid.
    assert_eq!(
        verifier
            .admit(&kp, &chain, NOW.saturating_sub(MIN * 20))
            .unwrap_err(),
        LinkError::KeyPackage(KeyPackageError::NotYetValid)
    );
    assert!(DeviceChain::from_bytes(&[1, 2, 3]).is_err());
}
