//! The `messages` kind: every structure of `messages.json` decodes and re-encodes byte-exact.
//!
//! Proposal bodies appear without their type (an `Add` is a bare KeyPackage, a `Remove` a bare
//! leaf index), so each is decoded as a [`Proposal`] of the type the field names and
//! re-encoded without the two type bytes.

use std::path::Path;

use rcsec_core::vectors::{VectorError, VectorReport};
use serde::Deserialize;

use super::{Check, ctx, expect, run_file, unhex};
use crate::mls::codec::{Decode, Encode};
use crate::mls::framing::{Commit, MlsMessage, Proposal, WireFormat};
use crate::mls::tree::RatchetTree;
use crate::mls::welcome::GroupSecrets;

#[derive(Deserialize)]
struct MessagesV {
    mls_welcome: String,
    mls_group_info: String,
    mls_key_package: String,
    ratchet_tree: String,
    group_secrets: String,
    add_proposal: String,
    update_proposal: String,
    remove_proposal: String,
    pre_shared_key_proposal: String,
    re_init_proposal: String,
    external_init_proposal: String,
    group_context_extensions_proposal: String,
    commit: String,
    public_message_application: String,
    public_message_proposal: String,
    public_message_commit: String,
    private_message: String,
}

/// Decodes an `MLSMessage`, checks its wire format and re-encodes it.
fn message(field: &str, hex: &str, wire_format: WireFormat) -> Check {
    let bytes = unhex(field, hex)?;
    let msg = MlsMessage::from_bytes(&bytes).map_err(|e| format!("{field}: decode: {e}"))?;
    if msg.wire_format() != wire_format {
        return Err(format!("{field}: wire format {:?}", msg.wire_format()));
    }
    let again = msg.to_bytes().map_err(ctx("encode"))?;
    expect(field, &again, hex)
}

/// Decodes a proposal body of type `ty` and re-encodes it.
fn proposal(field: &str, hex: &str, ty: u16) -> Check {
    let mut bytes = ty.to_be_bytes().to_vec();
    bytes.extend_from_slice(&unhex(field, hex)?);
    let p = Proposal::from_bytes(&bytes).map_err(|e| format!("{field}: decode: {e}"))?;
    let again = p.to_bytes().map_err(ctx("encode"))?;
    expect(field, again.get(2..).unwrap_or_default(), hex)
}

/// Checks `messages.json` (the file has no cipher suite field: its structures are
/// suite-independent codec tests).
///
/// # Errors
/// [`VectorError`] when the file cannot be read or is not a JSON array.
pub fn run_messages(path: &Path) -> Result<VectorReport, VectorError> {
    run_file(path, false, |v: &MessagesV| -> Check {
        message("mls_welcome", &v.mls_welcome, WireFormat::Welcome)?;
        message("mls_group_info", &v.mls_group_info, WireFormat::GroupInfo)?;
        message(
            "mls_key_package",
            &v.mls_key_package,
            WireFormat::KeyPackage,
        )?;
        let tree = RatchetTree::from_bytes(&unhex("ratchet_tree", &v.ratchet_tree)?)
            .map_err(ctx("ratchet_tree"))?;
        expect(
            "ratchet_tree",
            &tree.to_bytes().map_err(ctx("encode"))?,
            &v.ratchet_tree,
        )?;
        let secrets = GroupSecrets::from_bytes(&unhex("group_secrets", &v.group_secrets)?)
            .map_err(ctx("group_secrets"))?;
        let again = secrets.to_bytes().map_err(ctx("encode"))?;
        expect("group_secrets", again.expose_secret(), &v.group_secrets)?;
        proposal("add_proposal", &v.add_proposal, 1)?;
        proposal("update_proposal", &v.update_proposal, 2)?;
        proposal("remove_proposal", &v.remove_proposal, 3)?;
        proposal("pre_shared_key_proposal", &v.pre_shared_key_proposal, 4)?;
        proposal("re_init_proposal", &v.re_init_proposal, 5)?;
        proposal("external_init_proposal", &v.external_init_proposal, 6)?;
        proposal(
            "group_context_extensions_proposal",
            &v.group_context_extensions_proposal,
            7,
        )?;
        let commit =
            Commit::from_bytes(&unhex("commit", &v.commit)?).map_err(ctx("commit decode"))?;
        expect(
            "commit",
            &commit.to_bytes().map_err(ctx("encode"))?,
            &v.commit,
        )?;
        for (field, hex, wf) in [
            (
                "public_message_application",
                &v.public_message_application,
                WireFormat::PublicMessage,
            ),
            (
                "public_message_proposal",
                &v.public_message_proposal,
                WireFormat::PublicMessage,
            ),
            (
                "public_message_commit",
                &v.public_message_commit,
                WireFormat::PublicMessage,
            ),
            (
                "private_message",
                &v.private_message,
                WireFormat::PrivateMessage,
            ),
        ] {
            message(field, hex, wf)?;
        }
        Ok(())
    })
}
