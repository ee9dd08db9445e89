//! The `passive-client` kind: join from the official Welcome (tree inline or given), check
//! the epoch authenticator, then follow every epoch's proposals and commit.

use std::path::Path;

use rcsec_core::Secret;
use rcsec_core::vectors::{VectorError, VectorReport};
use serde::Deserialize;

use super::{Check, ctx, expect, run_file, unhex};
use crate::mls::codec::Decode;
use crate::mls::crypto::{HpkeSecretKey, SignatureSecretKey};
use crate::mls::framing::MlsMessage;
use crate::mls::state::{GroupConfig, GroupState, JoinerKeys};
use crate::mls::tree::RatchetTree;

#[derive(Deserialize)]
struct PskV {
    psk_id: String,
    psk: String,
}

#[derive(Deserialize)]
struct EpochV {
    proposals: Vec<String>,
    commit: String,
    epoch_authenticator: String,
}

#[derive(Deserialize)]
struct PassiveV {
    external_psks: Vec<PskV>,
    key_package: String,
    signature_priv: String,
    encryption_priv: String,
    init_priv: String,
    welcome: String,
    ratchet_tree: Option<String>,
    initial_epoch_authenticator: String,
    epochs: Vec<EpochV>,
}

fn message(field: &str, hex: &str) -> Result<MlsMessage, String> {
    MlsMessage::from_bytes(&unhex(field, hex)?).map_err(|e| format!("{field}: {e}"))
}

fn check_entry(v: &PassiveV) -> Check {
    let MlsMessage::KeyPackage(key_package) = message("key_package", &v.key_package)? else {
        return Err("key_package is not a KeyPackage".into());
    };
    let MlsMessage::Welcome(welcome) = message("welcome", &v.welcome)? else {
        return Err("welcome is not a Welcome".into());
    };
    let init_key =
        HpkeSecretKey::from_bytes(&unhex("init_priv", &v.init_priv)?).map_err(ctx("init_priv"))?;
    let leaf_key = HpkeSecretKey::from_bytes(&unhex("encryption_priv", &v.encryption_priv)?)
        .map_err(ctx("encryption_priv"))?;
    let signer = SignatureSecretKey::from_seed(&unhex("signature_priv", &v.signature_priv)?)
        .map_err(ctx("signature_priv"))?;
    if init_key.public_key().as_bytes().as_slice() != key_package.init_key.as_slice()
        || leaf_key.public_key().as_bytes().as_slice()
            != key_package.leaf_node.encryption_key.as_slice()
        || signer.public_key().as_bytes().as_slice()
            != key_package.leaf_node.signature_key.as_slice()
    {
        return Err("private keys do not match the key package".into());
    }
    let tree = match &v.ratchet_tree {
        Some(hex) => Some(
            RatchetTree::from_bytes(&unhex("ratchet_tree", hex)?).map_err(ctx("ratchet_tree"))?,
        ),
        None => None,
    };
    let mut psks = Vec::new();
    for p in &v.external_psks {
        psks.push((unhex("psk_id", &p.psk_id)?, unhex("psk", &p.psk)?));
    }
    let external = |id: &[u8]| {
        psks.iter()
            .find(|(i, _)| i.as_slice() == id)
            .map(|(_, s)| Secret::new(s.clone()))
    };
    let joiner = JoinerKeys {
        key_package,
        init_key,
        leaf_key,
        signer,
    };
    // Recorded traffic: lifetimes are those of the recording, not of today.
    let mut state = GroupState::join(&welcome, joiner, tree, &external, GroupConfig::default())
        .map_err(ctx("join"))?;
    expect(
        "initial_epoch_authenticator",
        state.epoch_authenticator(),
        &v.initial_epoch_authenticator,
    )?;
    for (i, epoch) in v.epochs.iter().enumerate() {
        for (k, p) in epoch.proposals.iter().enumerate() {
            let msg = message("proposal", p)?;
            state
                .handle(&msg, &external)
                .map_err(|e| format!("epoch {i}, proposal {k}: {e}"))?;
        }
        let msg = message("commit", &epoch.commit)?;
        state
            .handle(&msg, &external)
            .map_err(|e| format!("epoch {i}, commit: {e}"))?;
        expect(
            &format!("epoch {i} authenticator"),
            state.epoch_authenticator(),
            &epoch.epoch_authenticator,
        )?;
    }
    Ok(())
}

/// Checks a passive-client file (`passive-client-welcome.json`,
/// `passive-client-handling-commit.json`, `passive-client-random.json`).
///
/// # Errors
/// [`VectorError`] when the file cannot be read or is not a JSON array.
pub fn run_passive_client(path: &Path) -> Result<VectorReport, VectorError> {
    run_file(path, true, check_entry)
}
