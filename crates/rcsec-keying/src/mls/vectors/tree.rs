//! The `tree-validation` and `tree-operations` kinds (RFC 9420 §7, §12.1).

use std::path::Path;

use rcsec_core::vectors::{VectorError, VectorReport};
use serde::Deserialize;

use super::{Check, ctx, expect, run_file, unhex};
use crate::mls::codec::Decode;
use crate::mls::framing::Proposal;
use crate::mls::tree::RatchetTree;
use crate::mls::tree_math::{LeafIndex, NodeIndex};

/// Decodes a tree and checks that it re-encodes byte-exact.
pub(super) fn decode_tree(field: &str, hex: &str) -> Result<RatchetTree, String> {
    let tree = RatchetTree::from_bytes(&unhex(field, hex)?).map_err(|e| format!("{field}: {e}"))?;
    expect(field, &tree.to_bytes().map_err(ctx("encode"))?, hex)?;
    Ok(tree)
}

#[derive(Deserialize)]
struct ValidationV {
    tree: String,
    group_id: String,
    resolutions: Vec<Vec<u32>>,
    tree_hashes: Vec<String>,
}

/// Checks `tree-validation.json`: the resolution and tree hash of every node, then that the
/// tree is parent-hash valid and every leaf signature verifies against the group id.
///
/// # Errors
/// [`VectorError`] when the file cannot be read or is not a JSON array.
pub fn run_tree_validation(path: &Path) -> Result<VectorReport, VectorError> {
    run_file(path, true, |v: &ValidationV| -> Check {
        let tree = decode_tree("tree", &v.tree)?;
        let width = tree.size().width() as usize;
        if v.resolutions.len() != width || v.tree_hashes.len() != width {
            return Err(format!(
                "tree has {width} nodes, vector lists {} resolutions and {} hashes",
                v.resolutions.len(),
                v.tree_hashes.len()
            ));
        }
        for (i, (want_res, want_hash)) in v.resolutions.iter().zip(&v.tree_hashes).enumerate() {
            let node = NodeIndex(u32::try_from(i).map_err(ctx("index"))?);
            let got: Vec<u32> = tree.resolution(node).iter().map(|n| n.0).collect();
            if &got != want_res {
                return Err(format!("resolution of {i}: got {got:?}, want {want_res:?}"));
            }
            let hash = tree.subtree_hash(node, &[]).map_err(ctx("tree hash"))?;
            expect(&format!("tree hash of node {i}"), &hash, want_hash)?;
        }
        tree.verify_parent_hashes().map_err(ctx("parent hashes"))?;
        let group_id = unhex("group_id", &v.group_id)?;
        tree.verify_leaves(&group_id).map_err(ctx("leaves"))
    })
}

#[derive(Deserialize)]
struct OperationsV {
    tree_before: String,
    proposal: String,
    proposal_sender: u32,
    tree_hash_before: String,
    tree_after: String,
    tree_hash_after: String,
}

/// Checks `tree-operations.json`: applies one Add, Update or Remove proposal and compares the
/// resulting tree (byte-exact) and its hash.
///
/// # Errors
/// [`VectorError`] when the file cannot be read or is not a JSON array.
pub fn run_tree_operations(path: &Path) -> Result<VectorReport, VectorError> {
    run_file(path, true, |v: &OperationsV| -> Check {
        let mut tree = decode_tree("tree_before", &v.tree_before)?;
        expect(
            "tree_hash_before",
            &tree.tree_hash().map_err(ctx("tree hash"))?,
            &v.tree_hash_before,
        )?;
        let proposal =
            Proposal::from_bytes(&unhex("proposal", &v.proposal)?).map_err(ctx("proposal"))?;
        match proposal {
            Proposal::Add(kp) => tree.add_leaf(kp.leaf_node).map(|_| ()),
            Proposal::Update(leaf) => tree.update_leaf(LeafIndex(v.proposal_sender), *leaf),
            Proposal::Remove { removed } => tree.remove_leaf(LeafIndex(removed)),
            other => return Err(format!("not a tree operation: {other:?}")),
        }
        .map_err(ctx("apply"))?;
        expect(
            "tree_after",
            &tree.to_bytes().map_err(ctx("encode"))?,
            &v.tree_after,
        )?;
        expect(
            "tree_hash_after",
            &tree.tree_hash().map_err(ctx("tree hash"))?,
            &v.tree_hash_after,
        )
    })
}
