//! `rcsec hpke`: round trips, the exit-code contract, and interop with rust-hpke (a second,
//! independent RFC 9180 implementation) in both directions.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};

type PeerKem = hpke::kem::X25519HkdfSha256;
type PeerKdf = hpke::kdf::HkdfSha256;

fn rcsec(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rcsec"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A run that fails on its arguments exits without reading stdin; that is not an error.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
    }
    child.wait_with_output().unwrap()
}

/// Runs `rcsec hpke keygen` and returns `(private hex, public hex)`.
fn keygen() -> (String, String) {
    let out = rcsec(&["hpke", "keygen"], b"");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let private = lines[0].strip_prefix("private: ").unwrap().to_owned();
    let public = lines[1].strip_prefix("public: ").unwrap().to_owned();
    for key in [&private, &public] {
        assert_eq!(key.len(), 64);
        assert!(
            key.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }
    (private, public)
}

fn seal(aead: &str, pk: &str, info: &str, aad: &str, pt: &[u8]) -> Output {
    rcsec(
        &[
            "hpke", "seal", "--aead", aead, "--pk", pk, "--info", info, "--aad", aad,
        ],
        pt,
    )
}

fn open(aead: &str, sk: &str, info: &str, aad: &str, message: &[u8]) -> Output {
    rcsec(
        &[
            "hpke", "open", "--aead", aead, "--sk", sk, "--info", info, "--aad", aad,
        ],
        message,
    )
}

fn sealed_hex(out: Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.ends_with('\n'));
    text.trim_end().to_owned()
}

/// The exit code and the (single-line) stderr of a failed run.
fn failure(out: &Output) -> (Option<i32>, String) {
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(out.stdout.is_empty());
    (out.status.code(), err)
}

#[test]
fn keygen_prints_a_matching_pair() {
    let (private, public) = keygen();
    let sk = rcsec_keying::hpke::PrivateKey::from_bytes(&hex::decode(&private).unwrap()).unwrap();
    assert_eq!(hex::encode(sk.public_key().as_bytes()), public);
    assert_ne!(keygen().0, private);
}

#[test]
fn seal_then_open_round_trips_for_both_aeads() {
    let (sk, pk) = keygen();
    let binary: Vec<u8> = (0..=255u8).collect();
    for aead in ["aes128gcm", "aes256gcm"] {
        for pt in [&b""[..], b"disk full on db-1\n", &binary] {
            let message = sealed_hex(seal(aead, &pk, "0a0b", "cafe", pt));
            assert_eq!(message.len(), 2 * (32 + pt.len() + 16));
            let out = open(aead, &sk, "0a0b", "cafe", message.as_bytes());
            assert_eq!(out.status.code(), Some(0));
            assert_eq!(out.stdout, pt);
        }
    }
}

#[test]
fn wrong_key_info_aad_aead_or_tampering_exits_1() {
    let (sk, pk) = keygen();
    let (other_sk, _) = keygen();
    let message = sealed_hex(seal("aes128gcm", &pk, "01", "02", b"secret"));
    let mut tampered = message.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
    for out in [
        open("aes128gcm", &other_sk, "01", "02", message.as_bytes()),
        open("aes128gcm", &sk, "ff", "02", message.as_bytes()),
        open("aes128gcm", &sk, "01", "", message.as_bytes()),
        open("aes256gcm", &sk, "01", "02", message.as_bytes()),
        open("aes128gcm", &sk, "01", "02", &tampered),
    ] {
        let (code, err) = failure(&out);
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains("decryption failed"), "{err}");
    }
    // The unchanged message still opens: the failures above were the inputs' fault.
    assert_eq!(
        open("aes128gcm", &sk, "01", "02", message.as_bytes()).stdout,
        b"secret"
    );
}

#[test]
fn malformed_input_exits_2_without_echoing_keys() {
    let (sk, pk) = keygen();
    let short_key = &pk[..62];
    let cases = [
        seal("aes128gcm", "zz", "", "", b"x"),
        seal("aes128gcm", short_key, "", "", b"x"),
        seal("aes128gcm", &pk, "0", "", b"x"),
        seal("aes128gcm", &"00".repeat(32), "", "", b"x"),
        open("aes128gcm", &sk[..60], "", "", b"00"),
        open("aes128gcm", &sk, "", "xyz", b"00"),
        open("aes128gcm", &sk, "", "", b"not hex"),
        open("aes128gcm", &sk, "", "", "00".repeat(31).as_bytes()),
        rcsec(
            &["hpke", "seal", "--aead", "chacha20poly1305", "--pk", &pk],
            b"x",
        ),
        rcsec(&["hpke", "open", "--aead", "aes128gcm"], b"00"),
    ];
    for out in cases {
        let err = String::from_utf8(out.stderr.clone()).unwrap();
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(!err.contains(&sk), "{err}");
    }
    for out in [
        seal("aes128gcm", short_key, "", "", b"x"),
        open("aes128gcm", &sk, "", "", b"not hex"),
    ] {
        failure(&out);
    }
}

#[test]
fn messages_from_rust_hpke_open_with_rcsec() {
    let (sk, pk) = keygen();
    let peer_pk =
        <PeerKem as hpke::Kem>::PublicKey::from_bytes(&hex::decode(&pk).unwrap()).unwrap();
    let pt = b"sealed by rust-hpke";
    for aead in ["aes128gcm", "aes256gcm"] {
        let (enc, ct) = match aead {
            "aes128gcm" => hpke::single_shot_seal::<hpke::aead::AesGcm128, PeerKdf, PeerKem>(
                &OpModeS::Base,
                &peer_pk,
                b"info",
                pt,
                b"aad",
            ),
            _ => hpke::single_shot_seal::<hpke::aead::AesGcm256, PeerKdf, PeerKem>(
                &OpModeS::Base,
                &peer_pk,
                b"info",
                pt,
                b"aad",
            ),
        }
        .unwrap();
        let message = hex::encode([enc.to_bytes().as_slice(), &ct].concat());
        let out = open(
            aead,
            &sk,
            &hex::encode("info"),
            &hex::encode("aad"),
            message.as_bytes(),
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, pt);
    }
}

#[test]
fn messages_from_rcsec_open_with_rust_hpke() {
    let (peer_sk, peer_pk) = PeerKem::gen_keypair();
    let pk = hex::encode(peer_pk.to_bytes());
    let pt = b"sealed by rcsec";
    for aead in ["aes128gcm", "aes256gcm"] {
        let message = sealed_hex(seal(
            aead,
            &pk,
            &hex::encode("info"),
            &hex::encode("aad"),
            pt,
        ));
        let bytes = hex::decode(message).unwrap();
        let (enc, ct) = bytes.split_at(32);
        let enc = <PeerKem as hpke::Kem>::EncappedKey::from_bytes(enc).unwrap();
        let opened = match aead {
            "aes128gcm" => hpke::single_shot_open::<hpke::aead::AesGcm128, PeerKdf, PeerKem>(
                &OpModeR::Base,
                &peer_sk,
                &enc,
                b"info",
                ct,
                b"aad",
            ),
            _ => hpke::single_shot_open::<hpke::aead::AesGcm256, PeerKdf, PeerKem>(
                &OpModeR::Base,
                &peer_sk,
                &enc,
                b"info",
                ct,
                b"aad",
            ),
        }
        .unwrap();
        assert_eq!(opened, pt);
    }
}

#[test]
fn vectors_hpke_passes_every_official_entry() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/hpke/test-vectors.json");
    let out = rcsec(&["vectors", "hpke", path.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().last(), Some("12 passed, 0 failed"), "{text}");
    assert!(!text.contains("skipped"), "{text}");
}
