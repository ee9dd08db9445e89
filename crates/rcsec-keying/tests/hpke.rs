//! HPKE behaviour beyond the official vectors: every mode through the public API, the
//! failures each mode must detect, low-order keys, tampering, and what `Debug` may show.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use rcsec_keying::hpke::{
    self, Aead, HpkeError, Mode, PrivateKey, Psk, PublicKey, ReceiverMode, SenderMode,
};

const PSK: &[u8] = b"0123456789abcdef0123456789abcdef";
const PSK_ID: &[u8] = b"psk-2026-11";

struct Parties {
    sk_r: PrivateKey,
    pk_r: PublicKey,
    sk_s: PrivateKey,
    pk_s: PublicKey,
}

fn parties() -> Parties {
    let (sk_r, pk_r) = hpke::derive_key_pair(b"recipient ikm, at least 32 bytes!").unwrap();
    let (sk_s, pk_s) = hpke::derive_key_pair(b"sender ikm, also at least 32 bytes").unwrap();
    Parties {
        sk_r,
        pk_r,
        sk_s,
        pk_s,
    }
}

fn modes<'a>(p: &'a Parties, psk: Psk<'a>) -> [(SenderMode<'a>, ReceiverMode<'a>); 4] {
    [
        (SenderMode::Base, ReceiverMode::Base),
        (SenderMode::Psk(psk), ReceiverMode::Psk(psk)),
        (SenderMode::Auth(&p.sk_s), ReceiverMode::Auth(&p.pk_s)),
        (
            SenderMode::AuthPsk(psk, &p.sk_s),
            ReceiverMode::AuthPsk(psk, &p.pk_s),
        ),
    ]
}

#[test]
fn every_mode_and_aead_round_trips_through_contexts() {
    let p = parties();
    let psk = Psk::new(PSK, PSK_ID);
    for (sender_mode, receiver_mode) in modes(&p, psk) {
        assert_eq!(sender_mode.mode(), receiver_mode.mode());
        for aead in Aead::ALL {
            let (enc, mut s) = hpke::setup_sender(aead, &p.pk_r, b"info", sender_mode).unwrap();
            let mut r = hpke::setup_receiver(aead, &enc, &p.sk_r, b"info", receiver_mode).unwrap();
            assert_eq!((s.aead(), r.aead()), (aead, aead));
            let exported = s.export(b"label", 42).unwrap();
            assert_eq!(exported.expose_secret().len(), 42);
            assert_eq!(exported, r.export(b"label", 42).unwrap());
            assert_ne!(exported, s.export(b"other label", 42).unwrap());

            if aead == Aead::ExportOnly {
                assert_eq!(s.seal(b"", b"x"), Err(HpkeError::ExportOnly));
                assert_eq!(r.open(b"", &[0; 17]), Err(HpkeError::ExportOnly));
                continue;
            }
            let mut previous = Vec::new();
            for i in 0..5u8 {
                let pt = vec![i; usize::from(i) * 7];
                let aad = [i];
                let ct = s.seal(&aad, &pt).unwrap();
                assert_eq!(ct.len(), pt.len() + hpke::TAG_LEN);
                assert_ne!(ct, previous, "each message has its own nonce");
                assert_eq!(r.open(&aad, &ct).unwrap(), pt);
                previous = ct;
            }
            assert_eq!((s.sequence_number(), r.sequence_number()), (5, 5));
        }
    }
}

#[test]
fn single_shot_works_in_every_mode_and_encapsulations_are_fresh() {
    let p = parties();
    let psk = Psk::new(PSK, PSK_ID);
    for (sender_mode, receiver_mode) in modes(&p, psk) {
        let (enc, ct) =
            hpke::seal(Aead::Aes256Gcm, &p.pk_r, b"i", b"a", b"msg", sender_mode).unwrap();
        let (enc2, ct2) =
            hpke::seal(Aead::Aes256Gcm, &p.pk_r, b"i", b"a", b"msg", sender_mode).unwrap();
        assert_ne!(enc, enc2);
        assert_ne!(ct, ct2);
        for (enc, ct) in [(&enc, &ct), (&enc2, &ct2)] {
            let pt = hpke::open(Aead::Aes256Gcm, enc, &p.sk_r, b"i", b"a", ct, receiver_mode);
            assert_eq!(pt.unwrap(), b"msg");
        }
    }
}

#[test]
fn wrong_psk_psk_id_or_sender_key_fails_to_open() {
    let p = parties();
    let (other_sk, other_pk) = hpke::derive_key_pair(b"someone else's ikm of 32 bytes..").unwrap();
    let psk = Psk::new(PSK, PSK_ID);
    let wrong_psk = Psk::new(b"0123456789abcdef0123456789abcdeF", PSK_ID);
    let wrong_id = Psk::new(PSK, b"psk-2026-12");
    let cases: [(SenderMode<'_>, ReceiverMode<'_>); 7] = [
        (SenderMode::Psk(psk), ReceiverMode::Psk(wrong_psk)),
        (SenderMode::Psk(psk), ReceiverMode::Psk(wrong_id)),
        (SenderMode::Auth(&p.sk_s), ReceiverMode::Auth(&other_pk)),
        (SenderMode::Auth(&other_sk), ReceiverMode::Auth(&p.pk_s)),
        (
            SenderMode::AuthPsk(psk, &p.sk_s),
            ReceiverMode::AuthPsk(wrong_psk, &p.pk_s),
        ),
        (
            SenderMode::AuthPsk(psk, &p.sk_s),
            ReceiverMode::AuthPsk(psk, &other_pk),
        ),
        // A mode mismatch is a different key schedule too.
        (SenderMode::Psk(psk), ReceiverMode::AuthPsk(psk, &p.pk_s)),
    ];
    for (sender_mode, receiver_mode) in cases {
        let (enc, ct) =
            hpke::seal(Aead::Aes128Gcm, &p.pk_r, b"", b"", b"secret", sender_mode).unwrap();
        let opened = hpke::open(Aead::Aes128Gcm, &enc, &p.sk_r, b"", b"", &ct, receiver_mode);
        assert_eq!(opened, Err(HpkeError::OpenFailed), "{receiver_mode:?}");
    }
    // Base mode with the wrong recipient key.
    let (enc, ct) = hpke::seal_base(Aead::Aes128Gcm, &p.pk_r, b"", b"", b"secret").unwrap();
    let opened = hpke::open_base(Aead::Aes128Gcm, &enc, &other_sk, b"", b"", &ct);
    assert_eq!(opened, Err(HpkeError::OpenFailed));
}

#[test]
fn psk_inputs_are_checked_on_both_sides() {
    let p = parties();
    let cases = [
        (Psk::new(b"", PSK_ID), HpkeError::InconsistentPsk),
        (Psk::new(PSK, b""), HpkeError::InconsistentPsk),
        (Psk::new(b"", b""), HpkeError::MissingPsk),
    ];
    let (enc, _) = hpke::setup_sender(Aead::Aes128Gcm, &p.pk_r, b"", SenderMode::Base).unwrap();
    for (psk, expected) in cases {
        for (sender_mode, receiver_mode) in [
            (SenderMode::Psk(psk), ReceiverMode::Psk(psk)),
            (
                SenderMode::AuthPsk(psk, &p.sk_s),
                ReceiverMode::AuthPsk(psk, &p.pk_s),
            ),
        ] {
            let sent = hpke::setup_sender(Aead::Aes128Gcm, &p.pk_r, b"", sender_mode);
            assert_eq!(sent.err(), Some(expected));
            let received = hpke::setup_receiver(Aead::Aes128Gcm, &enc, &p.sk_r, b"", receiver_mode);
            assert_eq!(received.err(), Some(expected));
        }
    }
}

/// The X25519 points of small order (and their non-canonical encodings), as listed by
/// libsodium: each gives the all-zero shared secret with every clamped scalar.
const LOW_ORDER: [&str; 7] = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
];

#[test]
fn low_order_keys_give_the_zero_shared_secret_error() {
    let p = parties();
    for point in LOW_ORDER {
        let bytes = hex::decode(point).unwrap();
        let bad = PublicKey::from_bytes(&bytes).unwrap();
        assert_eq!(
            hpke::seal_base(Aead::Aes128Gcm, &bad, b"", b"", b"x"),
            Err(HpkeError::ZeroSharedSecret),
            "recipient {point}"
        );
        assert_eq!(
            hpke::open_base(Aead::Aes128Gcm, &bytes, &p.sk_r, b"", b"", &[0; 16]),
            Err(HpkeError::ZeroSharedSecret),
            "enc {point}"
        );
        let (enc, _) = hpke::setup_sender(Aead::Aes128Gcm, &p.pk_r, b"", SenderMode::Base).unwrap();
        let received = hpke::setup_receiver(
            Aead::Aes128Gcm,
            &enc,
            &p.sk_r,
            b"",
            ReceiverMode::Auth(&bad),
        );
        assert_eq!(
            received.err(),
            Some(HpkeError::ZeroSharedSecret),
            "sender {point}"
        );
    }
}

#[test]
fn tampering_with_enc_ct_info_or_aad_fails() {
    let p = parties();
    let (enc, ct) = hpke::seal_base(Aead::Aes128Gcm, &p.pk_r, b"info", b"aad", b"payload").unwrap();
    let open = |enc: &[u8], info: &[u8], aad: &[u8], ct: &[u8]| {
        hpke::open_base(Aead::Aes128Gcm, enc, &p.sk_r, info, aad, ct)
    };
    assert_eq!(open(&enc, b"info", b"aad", &ct).unwrap(), b"payload");
    for i in 0..enc.len() {
        let mut bad = enc.clone();
        bad[i] ^= 0x01;
        assert!(open(&bad, b"info", b"aad", &ct).is_err(), "enc byte {i}");
    }
    for i in 0..ct.len() {
        let mut bad = ct.clone();
        bad[i] ^= 0x80;
        assert_eq!(
            open(&enc, b"info", b"aad", &bad),
            Err(HpkeError::OpenFailed),
            "ct byte {i}"
        );
    }
    assert_eq!(open(&enc, b"info", b"aaD", &ct), Err(HpkeError::OpenFailed));
    assert_eq!(open(&enc, b"info", b"", &ct), Err(HpkeError::OpenFailed));
    assert_eq!(open(&enc, b"Info", b"aad", &ct), Err(HpkeError::OpenFailed));
    assert_eq!(
        open(&enc, b"info", b"aad", &ct[..ct.len() - 1]),
        Err(HpkeError::OpenFailed)
    );
    assert_eq!(open(&enc, b"info", b"aad", &[]), Err(HpkeError::OpenFailed));
    assert_eq!(
        open(&enc[..31], b"info", b"aad", &ct),
        Err(HpkeError::BadEncapsulation)
    );
    assert_eq!(
        hpke::open_base(Aead::Aes256Gcm, &enc, &p.sk_r, b"info", b"aad", &ct),
        Err(HpkeError::OpenFailed)
    );
}

#[test]
fn wrong_lengths_and_export_limits_are_typed_errors() {
    assert_eq!(
        PrivateKey::from_bytes(&[7; 31]).err(),
        Some(HpkeError::KeyLength {
            expected: 32,
            actual: 31
        })
    );
    assert_eq!(
        PublicKey::from_bytes(&[7; 64]).err(),
        Some(HpkeError::KeyLength {
            expected: 32,
            actual: 64
        })
    );
    let p = parties();
    let (_, s) = hpke::setup_sender(Aead::ExportOnly, &p.pk_r, b"", SenderMode::Base).unwrap();
    assert_eq!(s.export(b"", 8160).unwrap().expose_secret().len(), 8160);
    assert_eq!(
        s.export(b"", 8161).err(),
        Some(HpkeError::ExportTooLong {
            requested: 8161,
            max: 8160
        })
    );
    let mut out = vec![0u8; 9000];
    assert!(matches!(
        s.export_into(b"", &mut out),
        Err(HpkeError::ExportTooLong { .. })
    ));
    assert_eq!(Mode::from_id(3), Some(Mode::AuthPsk));
}

#[test]
fn debug_output_leaks_no_key_material() {
    let canary = [0xA5u8; 32];
    let sk = PrivateKey::from_bytes(&canary).unwrap();
    let pk = sk.public_key();
    let psk = Psk::new(&[0x5Au8; 32], b"id");
    let (enc, s) = hpke::setup_sender(Aead::Aes128Gcm, &pk, b"", SenderMode::Psk(psk)).unwrap();
    let r = hpke::setup_receiver(Aead::Aes128Gcm, &enc, &sk, b"", ReceiverMode::Psk(psk)).unwrap();
    let exported = s.export(b"", 32).unwrap();

    let shown = [
        format!("{sk:?}"),
        format!("{:?}", SenderMode::Auth(&sk)),
        format!("{:?}", ReceiverMode::Psk(psk)),
        format!("{psk:?}"),
        format!("{s:?}"),
        format!("{r:?}"),
        format!("{exported:?}"),
        format!("{:?}", sk.to_bytes()),
    ];
    let secrets = [
        hex::encode(canary),
        "a5a5a5".to_owned(),
        "165, 165".to_owned(),
        "0xa5".to_owned(),
        "5a5a5a".to_owned(),
        "90, 90".to_owned(),
        hex::encode(exported.expose_secret()),
    ];
    for text in &shown {
        for secret in &secrets {
            assert!(
                !text.to_lowercase().contains(secret),
                "{text} shows {secret}"
            );
        }
    }
    assert_eq!(
        format!("{s:?}"),
        "SenderContext(Context { aead: Aes128Gcm, seq: 0, .. })"
    );
    assert_eq!(
        format!("{r:?}"),
        "ReceiverContext(Context { aead: Aes128Gcm, seq: 0, .. })"
    );
    assert_eq!(
        format!("{sk:?}"),
        format!(
            "PrivateKey {{ public: PublicKey({}), .. }}",
            hex::encode(pk.as_bytes())
        )
    );
}
