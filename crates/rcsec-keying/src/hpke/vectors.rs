//! The RFC 9180 test vectors (the upstream `test-vectors.json` format), checked end to end.
//!
//! [`run_hpke`] serves both `cargo test` and `rcsec vectors hpke PATH`. For every entry of this
//! crate's suite it checks: `DeriveKeyPair` for the ephemeral, recipient and sender keys;
//! deterministic encapsulation with `skEm` (`enc`, `shared_secret`); decapsulation; every
//! key-schedule value (`key_schedule_context`, `secret`, `key`, `base_nonce`,
//! `exporter_secret`); every encryption at its sequence number (nonce, `seal == ct`, and open
//! back); and every export on both sides. Entries of other suites are skipped with the reason.

use std::path::Path;

use rcsec_core::vectors::{VectorError, VectorReport};
use serde::Deserialize;

use super::Aead;
use super::context::{ReceiverContext, SenderContext};
use super::kem::{KEM_ID, PrivateKey, PublicKey, derive_key_pair};
use super::schedule::{KDF_ID, Mode, Psk, Schedule};
use super::setup::{ReceiverMode, SenderMode, receiver_schedule, sender_setup};

/// Bytes written as lowercase hex in the file.
#[derive(Debug, Default)]
struct Hex(Vec<u8>);

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(text)
            .map(Self)
            .map_err(serde::de::Error::custom)
    }
}

/// One entry, with the upstream field names.
#[derive(Debug, Deserialize)]
#[allow(non_snake_case, reason = "field names are the upstream JSON keys")]
struct Entry {
    mode: u8,
    kem_id: u16,
    kdf_id: u16,
    aead_id: u16,
    info: Hex,
    ikmE: Hex,
    ikmR: Hex,
    ikmS: Option<Hex>,
    skEm: Hex,
    skRm: Hex,
    skSm: Option<Hex>,
    pkEm: Hex,
    pkRm: Hex,
    pkSm: Option<Hex>,
    psk: Option<Hex>,
    psk_id: Option<Hex>,
    enc: Hex,
    shared_secret: Hex,
    key_schedule_context: Hex,
    secret: Hex,
    key: Hex,
    base_nonce: Hex,
    exporter_secret: Hex,
    #[serde(default)]
    encryptions: Option<Vec<Encryption>>,
    exports: Vec<Export>,
}

#[derive(Debug, Deserialize)]
struct Encryption {
    aad: Hex,
    ct: Hex,
    nonce: Hex,
    pt: Hex,
}

#[derive(Debug, Deserialize)]
struct Export {
    exporter_context: Hex,
    #[serde(rename = "L")]
    length: usize,
    exported_value: Hex,
}

/// Runs every entry of an RFC 9180 vector file.
///
/// # Errors
/// [`VectorError`] when the file cannot be read or is not in the upstream format; entries that
/// fail a check are reported in the [`VectorReport`], not as an error.
pub fn run_hpke(path: &Path) -> Result<VectorReport, VectorError> {
    let text = std::fs::read_to_string(path).map_err(|source| VectorError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let entries: Vec<Entry> = serde_json::from_str(&text).map_err(|e| VectorError::Format {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let mut report = VectorReport::default();
    for (index, entry) in entries.iter().enumerate() {
        match suite(entry) {
            Ok((mode, aead)) => report.record(index, check(entry, mode, aead)),
            Err(reason) => report.skip(index, reason),
        }
    }
    Ok(report)
}

/// The mode and AEAD of an entry, or why this crate does not implement its suite.
fn suite(entry: &Entry) -> Result<(Mode, Aead), String> {
    if entry.kem_id != KEM_ID {
        return Err(format!("kem_id {:#06x} not implemented", entry.kem_id));
    }
    if entry.kdf_id != KDF_ID {
        return Err(format!("kdf_id {:#06x} not implemented", entry.kdf_id));
    }
    let aead = Aead::from_id(entry.aead_id)
        .ok_or_else(|| format!("aead_id {:#06x} not implemented", entry.aead_id))?;
    let mode = Mode::from_id(entry.mode).ok_or_else(|| format!("mode {} unknown", entry.mode))?;
    Ok((mode, aead))
}

/// Fails with `what` unless `got == want`.
fn same(what: &str, got: &[u8], want: &Hex) -> Result<(), String> {
    if got == want.0.as_slice() {
        Ok(())
    } else {
        Err(format!(
            "{what} mismatch: got {}, want {}",
            hex::encode(got),
            hex::encode(&want.0)
        ))
    }
}

fn key_pair(name: &str, ikm: &Hex, sk: &Hex, pk: &Hex) -> Result<PrivateKey, String> {
    let (derived_sk, derived_pk) =
        derive_key_pair(&ikm.0).map_err(|e| format!("DeriveKeyPair({name}): {e}"))?;
    same(
        &format!("sk{name}m"),
        derived_sk.to_bytes().expose_secret(),
        sk,
    )?;
    same(&format!("pk{name}m"), derived_pk.as_bytes(), pk)?;
    Ok(derived_sk)
}

fn required<'a>(field: &str, value: Option<&'a Hex>) -> Result<&'a Hex, String> {
    value.ok_or_else(|| format!("entry lacks {field}"))
}

fn schedule_matches(side: &str, schedule: &Schedule, entry: &Entry) -> Result<(), String> {
    let check = |what: &str, got: &[u8], want: &Hex| same(&format!("{side} {what}"), got, want);
    check(
        "key_schedule_context",
        &schedule.context,
        &entry.key_schedule_context,
    )?;
    check("secret", schedule.secret.bytes(), &entry.secret)?;
    check("key", schedule.key(), &entry.key)?;
    let nonce: &[u8] = if schedule.aead == Aead::ExportOnly {
        &[]
    } else {
        &schedule.base_nonce
    };
    check("base_nonce", nonce, &entry.base_nonce)?;
    check(
        "exporter_secret",
        schedule.exporter_secret.as_ref(),
        &entry.exporter_secret,
    )
}

fn check(entry: &Entry, mode: Mode, aead: Aead) -> Result<(), String> {
    let sk_e = key_pair("E", &entry.ikmE, &entry.skEm, &entry.pkEm)?;
    let sk_r = key_pair("R", &entry.ikmR, &entry.skRm, &entry.pkRm)?;
    let uses_sender = matches!(mode, Mode::Auth | Mode::AuthPsk);
    let sk_s = if uses_sender {
        let ikm = required("ikmS", entry.ikmS.as_ref())?;
        let sk = required("skSm", entry.skSm.as_ref())?;
        let pk = required("pkSm", entry.pkSm.as_ref())?;
        Some(key_pair("S", ikm, sk, pk)?)
    } else {
        None
    };
    let pk_r = PublicKey::from_bytes(&entry.pkRm.0).map_err(|e| format!("pkRm: {e}"))?;
    let pk_s = sk_s.as_ref().map(PrivateKey::public_key);
    let psk = match (&entry.psk, &entry.psk_id) {
        (Some(psk), Some(id)) => Some(Psk::new(&psk.0, &id.0)),
        _ => None,
    };
    let (sender_mode, receiver_mode) = match (mode, psk, &sk_s, &pk_s) {
        (Mode::Base, _, _, _) => (SenderMode::Base, ReceiverMode::Base),
        (Mode::Psk, Some(psk), _, _) => (SenderMode::Psk(psk), ReceiverMode::Psk(psk)),
        (Mode::Auth, _, Some(sk), Some(pk)) => (SenderMode::Auth(sk), ReceiverMode::Auth(pk)),
        (Mode::AuthPsk, Some(psk), Some(sk), Some(pk)) => {
            (SenderMode::AuthPsk(psk, sk), ReceiverMode::AuthPsk(psk, pk))
        }
        _ => return Err(format!("entry lacks the inputs of mode {}", mode.id())),
    };

    let setup = sender_setup(&sk_e, aead, &pk_r, &entry.info.0, sender_mode)
        .map_err(|e| format!("sender setup: {e}"))?;
    same("enc", &setup.enc, &entry.enc)?;
    same(
        "shared_secret",
        setup.shared_secret.as_ref(),
        &entry.shared_secret,
    )?;
    schedule_matches("sender", &setup.schedule, entry)?;

    let (shared, schedule) =
        receiver_schedule(aead, &entry.enc.0, &sk_r, &entry.info.0, receiver_mode)
            .map_err(|e| format!("receiver setup: {e}"))?;
    same("decap shared_secret", shared.as_ref(), &entry.shared_secret)?;
    schedule_matches("receiver", &schedule, entry)?;

    let mut sender = SenderContext::new(&setup.schedule).map_err(|e| e.to_string())?;
    let mut receiver = ReceiverContext::new(&schedule).map_err(|e| e.to_string())?;
    for (seq, enc) in entry.encryptions.iter().flatten().enumerate() {
        let at = |what: &str| format!("encryption {seq}: {what}");
        let nonce = sender.next_nonce().map_err(|e| at(&e.to_string()))?;
        same(&at("nonce"), &nonce, &enc.nonce)?;
        let nonce = receiver.next_nonce().map_err(|e| at(&e.to_string()))?;
        same(&at("receiver nonce"), &nonce, &enc.nonce)?;
        let ct = sender
            .seal(&enc.aad.0, &enc.pt.0)
            .map_err(|e| at(&format!("seal: {e}")))?;
        same(&at("ct"), &ct, &enc.ct)?;
        let pt = receiver
            .open(&enc.aad.0, &enc.ct.0)
            .map_err(|e| at(&format!("open: {e}")))?;
        same(&at("pt"), &pt, &enc.pt)?;
    }
    for (i, export) in entry.exports.iter().enumerate() {
        for (side, value) in [
            (
                "sender",
                sender.export(&export.exporter_context.0, export.length),
            ),
            (
                "receiver",
                receiver.export(&export.exporter_context.0, export.length),
            ),
        ] {
            let value = value.map_err(|e| format!("export {i} ({side}): {e}"))?;
            same(
                &format!("export {i} ({side})"),
                value.expose_secret(),
                &export.exported_value,
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/vectors/hpke")
            .join(name)
    }

    #[test]
    fn every_official_vector_passes() {
        let report = run_hpke(&shared("test-vectors.json")).unwrap();
        assert!(report.failed.is_empty(), "{:?}", report.failed);
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        assert_eq!(report.passed, 12);
    }

    #[test]
    fn a_corrupted_entry_fails_and_other_suites_are_skipped() {
        let text = std::fs::read_to_string(shared("test-vectors.json")).unwrap();
        let mut entries: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        entries.truncate(2);
        entries[0]["encryptions"][5]["ct"] = serde_json::Value::from("00");
        entries[1]["kdf_id"] = serde_json::Value::from(3);
        let dir = std::env::temp_dir().join(format!("rcsec-hpke-vectors-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mutated.json");
        std::fs::write(&path, serde_json::to_string(&entries).unwrap()).unwrap();
        let report = run_hpke(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(report.passed, 0);
        assert_eq!(report.failed.len(), 1);
        assert!(
            report.failed[0]
                .reason
                .starts_with("encryption 5: ct mismatch")
        );
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].reason, "kdf_id 0x0003 not implemented");
        assert!(matches!(
            run_hpke(Path::new("/nonexistent/hpke.json")),
            Err(VectorError::Io { .. })
        ));
    }
}
