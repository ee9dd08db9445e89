//! `secret-tree`, `key-schedule` and `psk-secret`.

use std::path::Path;

use rcsec_core::Secret;
use rcsec_core::vectors::{VectorError, VectorReport};
use serde::Deserialize;

use super::{Check, ctx, expect, run_file, unhex};
use crate::mls::codec::Encode;
use crate::mls::crypto::hash_secret;
use crate::mls::group_context::GroupContext;
use crate::mls::key_schedule::{JoinerSecret, KeySchedule};
use crate::mls::psk::{PreSharedKeyId, Psk, PskInput, psk_secret};
use crate::mls::secret_tree::{RatchetType, SecretTree, SecretTreeConfig};
use crate::mls::tree_math::{LeafIndex, TreeSize};

#[derive(Deserialize)]
struct SecretTreeV {
    encryption_secret: String,
    sender_data: SenderDataV,
    leaves: Vec<Vec<LeafGeneration>>,
}

#[derive(Deserialize)]
struct SenderDataV {
    sender_data_secret: String,
    ciphertext: String,
    key: String,
    nonce: String,
}

#[derive(Deserialize)]
struct LeafGeneration {
    generation: u32,
    handshake_key: String,
    handshake_nonce: String,
    application_key: String,
    application_nonce: String,
}

/// Checks `secret-tree.json`: sender-data keys and every listed ratchet generation of every
/// leaf, derived through [`SecretTree`] as a receiver would.
///
/// # Errors
/// [`VectorError`] when the file cannot be read or is not a JSON array.
pub fn run_secret_tree(path: &Path) -> Result<VectorReport, VectorError> {
    run_file(path, true, |v: &SecretTreeV| -> Check {
        let sd = &v.sender_data;
        let sds = unhex("sender_data_secret", &sd.sender_data_secret)?;
        let ct = unhex("ciphertext", &sd.ciphertext)?;
        let key = crate::mls::framing::sender_data_key(&sds, &ct).map_err(ctx("sender data"))?;
        expect("sender_data key", key.key(), &sd.key)?;
        expect("sender_data nonce", key.nonce(), &sd.nonce)?;

        let leaves = u32::try_from(v.leaves.len()).map_err(|_| "too many leaves")?;
        let size = TreeSize::new(leaves).ok_or("no leaves")?;
        let secret = hash_secret(&unhex("encryption_secret", &v.encryption_secret)?)
            .map_err(ctx("encryption_secret"))?;
        let mut tree = SecretTree::new(secret, size, SecretTreeConfig::default());
        for (leaf, generations) in (0..leaves).zip(&v.leaves) {
            for g in generations {
                for (ty, want_key, want_nonce) in [
                    (RatchetType::Handshake, &g.handshake_key, &g.handshake_nonce),
                    (
                        RatchetType::Application,
                        &g.application_key,
                        &g.application_nonce,
                    ),
                ] {
                    let key = tree
                        .key(LeafIndex(leaf), ty, g.generation)
                        .map_err(|e| format!("leaf {leaf} {ty:?} gen {}: {e}", g.generation))?;
                    expect("key", key.key(), want_key)?;
                    expect("nonce", key.nonce(), want_nonce)?;
                }
            }
        }
        Ok(())
    })
}

#[derive(Deserialize)]
struct KeyScheduleV {
    group_id: String,
    initial_init_secret: String,
    epochs: Vec<EpochV>,
}

#[derive(Deserialize)]
struct EpochV {
    tree_hash: String,
    commit_secret: String,
    psk_secret: String,
    confirmed_transcript_hash: String,
    group_context: String,
    joiner_secret: String,
    welcome_secret: String,
    init_secret: String,
    sender_data_secret: String,
    encryption_secret: String,
    exporter_secret: String,
    epoch_authenticator: String,
    external_secret: String,
    confirmation_key: String,
    membership_key: String,
    resumption_psk: String,
    external_pub: String,
    exporter: ExporterV,
}

#[derive(Deserialize)]
struct ExporterV {
    label: String,
    context: String,
    length: u16,
    secret: String,
}

/// Checks `key-schedule.json`: every secret of every epoch, chaining `init_secret` through
/// [`KeySchedule::advance`], plus the exporter and the external public key.
///
/// # Errors
/// [`VectorError`] when the file cannot be read or is not a JSON array.
pub fn run_key_schedule(path: &Path) -> Result<VectorReport, VectorError> {
    run_file(path, true, |v: &KeyScheduleV| -> Check {
        let group_id = unhex("group_id", &v.group_id)?;
        let init = hash_secret(&unhex("initial_init_secret", &v.initial_init_secret)?)
            .map_err(ctx("initial_init_secret"))?;
        let mut schedule = KeySchedule::new(init);
        for (epoch, e) in (0u64..).zip(&v.epochs) {
            let at = |what: &str, r: Check| r.map_err(|m| format!("epoch {epoch} {what}: {m}"));
            let gc = GroupContext::new(
                group_id.clone(),
                epoch,
                unhex("tree_hash", &e.tree_hash)?,
                unhex("confirmed_transcript_hash", &e.confirmed_transcript_hash)?,
            );
            let encoded = gc.to_bytes().map_err(ctx("group context"))?;
            at("", expect("group_context", &encoded, &e.group_context))?;
            let (joiner, s) = schedule
                .advance(
                    &unhex("commit_secret", &e.commit_secret)?,
                    &unhex("psk_secret", &e.psk_secret)?,
                    &gc,
                )
                .map_err(ctx("advance"))?;
            let checks: [(&str, &[u8], &String); 11] = [
                ("joiner_secret", joiner.expose_secret(), &e.joiner_secret),
                ("welcome_secret", s.welcome_secret(), &e.welcome_secret),
                ("init_secret", s.init_secret(), &e.init_secret),
                (
                    "sender_data_secret",
                    s.sender_data_secret(),
                    &e.sender_data_secret,
                ),
                (
                    "encryption_secret",
                    s.encryption_secret(),
                    &e.encryption_secret,
                ),
                ("exporter_secret", s.exporter_secret(), &e.exporter_secret),
                (
                    "epoch_authenticator",
                    s.epoch_authenticator(),
                    &e.epoch_authenticator,
                ),
                ("external_secret", s.external_secret(), &e.external_secret),
                (
                    "confirmation_key",
                    s.confirmation_key(),
                    &e.confirmation_key,
                ),
                ("membership_key", s.membership_key(), &e.membership_key),
                ("resumption_psk", s.resumption_psk(), &e.resumption_psk),
            ];
            for (name, got, want) in checks {
                at(name, expect(name, got, want))?;
            }
            let welcome =
                JoinerSecret::new(hash_secret(joiner.expose_secret()).map_err(ctx("joiner"))?)
                    .welcome_secret(&unhex("psk_secret", &e.psk_secret)?)
                    .map_err(ctx("welcome"))?;
            at(
                "joiner path",
                expect("welcome_secret", welcome.expose_secret(), &e.welcome_secret),
            )?;
            // The label is used as its ASCII characters, the context hex-decoded.
            let x = &e.exporter;
            let exported = s
                .export(&x.label, &unhex("exporter.context", &x.context)?, x.length)
                .map_err(ctx("export"))?;
            at(
                "exporter",
                expect("exporter.secret", exported.expose_secret(), &x.secret),
            )?;
            let external = s.external_public_key().map_err(ctx("external key"))?;
            at(
                "external_pub",
                expect("external_pub", external.as_bytes(), &e.external_pub),
            )?;
        }
        Ok(())
    })
}

#[derive(Deserialize)]
struct PskSecretV {
    psks: Vec<PskV>,
    psk_secret: String,
}

#[derive(Deserialize)]
struct PskV {
    psk_id: String,
    psk: String,
    psk_nonce: String,
}

/// Checks `psk_secret.json`: the `psk_secret` fold over 0 to 10 external PSKs.
///
/// # Errors
/// [`VectorError`] when the file cannot be read or is not a JSON array.
pub fn run_psk_secret(path: &Path) -> Result<VectorReport, VectorError> {
    run_file(path, true, |v: &PskSecretV| -> Check {
        let mut inputs = Vec::with_capacity(v.psks.len());
        for p in &v.psks {
            inputs.push(PskInput {
                id: PreSharedKeyId {
                    psk: Psk::External {
                        psk_id: unhex("psk_id", &p.psk_id)?,
                    },
                    psk_nonce: unhex("psk_nonce", &p.psk_nonce)?,
                },
                secret: Secret::new(unhex("psk", &p.psk)?),
            });
        }
        let got = psk_secret(&inputs).map_err(ctx("psk_secret"))?;
        expect("psk_secret", got.expose_secret(), &v.psk_secret)
    })
}
