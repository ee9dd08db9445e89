//! The `treekem` kind (RFC 9420 §7.4–§7.6): private state consistent with the tree, every
//! official UpdatePath merged (parent-hash checked), decrypted by every member that can and
//! leading to the expected commit secret and tree hash; then a fresh path from the same
//! committer, created here, decrypts to one commit secret for everyone.

use std::path::Path;

use rcsec_core::vectors::{VectorError, VectorReport};
use serde::Deserialize;

use super::tree::decode_tree;
use super::{Check, ctx, expect, run_file, unhex};
use crate::mls::codec::Decode;
use crate::mls::crypto::{HpkeSecretKey, SignatureSecretKey};
use crate::mls::framing::UpdatePath;
use crate::mls::group_context::GroupContext;
use crate::mls::tree::RatchetTree;
use crate::mls::tree_math::{LeafIndex, NodeIndex};
use crate::mls::treekem::{PathKeys, PathSecret, merge_update_path, prepare_update_path};

#[derive(Deserialize)]
struct NodeSecretV {
    node: u32,
    path_secret: String,
}

#[derive(Deserialize)]
struct LeafPrivateV {
    index: u32,
    encryption_priv: String,
    signature_priv: String,
    path_secrets: Vec<NodeSecretV>,
}

#[derive(Deserialize)]
struct PathV {
    sender: u32,
    update_path: String,
    path_secrets: Vec<Option<String>>,
    commit_secret: String,
    tree_hash_after: String,
}

#[derive(Deserialize)]
struct TreeKemV {
    group_id: String,
    epoch: u64,
    confirmed_transcript_hash: String,
    ratchet_tree: String,
    leaves_private: Vec<LeafPrivateV>,
    update_paths: Vec<PathV>,
}

/// One member's private view: its keys and signer.
struct Member {
    leaf: LeafIndex,
    keys: PathKeys,
    signer: SignatureSecretKey,
}

/// Loads one member's private state and checks it against the tree.
fn member(tree: &RatchetTree, v: &LeafPrivateV) -> Result<Member, String> {
    let leaf = LeafIndex(v.index);
    let enc = HpkeSecretKey::from_bytes(&unhex("encryption_priv", &v.encryption_priv)?)
        .map_err(ctx("encryption_priv"))?;
    let node = tree
        .leaf(leaf)
        .ok_or(format!("leaf {} is blank", v.index))?;
    if enc.public_key().as_bytes().as_slice() != node.encryption_key.as_slice() {
        return Err(format!(
            "encryption_priv of leaf {} does not match",
            v.index
        ));
    }
    let signer = SignatureSecretKey::from_seed(&unhex("signature_priv", &v.signature_priv)?)
        .map_err(ctx("signature_priv"))?;
    if signer.public_key().as_bytes().as_slice() != node.signature_key.as_slice() {
        return Err(format!("signature_priv of leaf {} does not match", v.index));
    }
    let mut keys = PathKeys::new(leaf, enc);
    for ps in &v.path_secrets {
        let secret = PathSecret::from_bytes(&unhex("path_secret", &ps.path_secret)?)
            .map_err(ctx("path_secret"))?;
        let (sk, pk) = secret.key_pair().map_err(ctx("derive"))?;
        let on_tree = tree
            .node(NodeIndex(ps.node))
            .map(crate::mls::tree::Node::encryption_key);
        if on_tree != Some(pk.as_bytes().as_slice()) {
            return Err(format!("path secret for node {} does not match", ps.node));
        }
        keys.insert(NodeIndex(ps.node), sk);
    }
    Ok(Member { leaf, keys, signer })
}

fn context(v: &TreeKemV, tree: &RatchetTree) -> Result<GroupContext, String> {
    Ok(GroupContext::new(
        unhex("group_id", &v.group_id)?,
        v.epoch,
        tree.tree_hash().map_err(ctx("tree hash"))?.to_vec(),
        unhex("confirmed_transcript_hash", &v.confirmed_transcript_hash)?,
    ))
}

fn check_entry(v: &TreeKemV) -> Check {
    let tree = decode_tree("ratchet_tree", &v.ratchet_tree)?;
    let group_id = unhex("group_id", &v.group_id)?;
    let load = || -> Result<Vec<Member>, String> {
        v.leaves_private.iter().map(|l| member(&tree, l)).collect()
    };
    load()?;
    for (p, up) in v.update_paths.iter().enumerate() {
        let sender = LeafIndex(up.sender);
        let path = UpdatePath::from_bytes(&unhex("update_path", &up.update_path)?)
            .map_err(ctx("update_path"))?;
        let mut merged = tree.clone();
        merge_update_path(&mut merged, sender, &path, &group_id)
            .map_err(|e| format!("path {p}: merge: {e}"))?;
        let hash = merged.tree_hash().map_err(ctx("tree hash"))?;
        expect("tree_hash_after", &hash, &up.tree_hash_after)?;
        let gc = context(v, &merged)?;
        for mut m in load()? {
            let want = up.path_secrets.get(m.leaf.0 as usize).cloned().flatten();
            if m.leaf == sender || want.is_none() {
                continue;
            }
            let secret = m
                .keys
                .decrypt_update_path(&merged, sender, &path, &gc, &[])
                .map_err(|e| format!("path {p}, leaf {}: {e}", m.leaf.0))?;
            expect("commit_secret", secret.expose_secret(), &up.commit_secret)?;
        }

        // A fresh path from the same committer: everyone else must reach its commit secret.
        let mut members = load()?;
        let Some(pos) = members.iter().position(|m| m.leaf == sender) else {
            continue;
        };
        let mut committer = members.swap_remove(pos);
        let mut fresh = tree.clone();
        let template = fresh.leaf(sender).ok_or("sender leaf is blank")?.clone();
        let prepared =
            prepare_update_path(&mut fresh, sender, template, &committer.signer, &group_id)
                .map_err(ctx("prepare"))?;
        let gc = context(v, &fresh)?;
        let (new_path, secret) = prepared
            .encrypt(&fresh, &gc, &[], &mut committer.keys)
            .map_err(ctx("encrypt"))?;
        for mut m in members {
            let mut theirs = tree.clone();
            merge_update_path(&mut theirs, sender, &new_path, &group_id)
                .map_err(|e| format!("fresh path {p}: merge: {e}"))?;
            if theirs != fresh {
                return Err(format!(
                    "fresh path {p}: leaf {} merged a different tree",
                    m.leaf.0
                ));
            }
            let got = m
                .keys
                .decrypt_update_path(&theirs, sender, &new_path, &gc, &[])
                .map_err(|e| format!("fresh path {p}, leaf {}: {e}", m.leaf.0))?;
            if got.expose_secret() != secret.expose_secret() {
                return Err(format!(
                    "fresh path {p}: leaf {} derived another commit secret",
                    m.leaf.0
                ));
            }
        }
    }
    Ok(())
}

/// Checks `treekem.json`.
///
/// # Errors
/// [`VectorError`] when the file cannot be read or is not a JSON array.
pub fn run_treekem(path: &Path) -> Result<VectorReport, VectorError> {
    run_file(path, true, check_entry)
}
