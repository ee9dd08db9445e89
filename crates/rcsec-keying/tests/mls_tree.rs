//! The ratchet tree rejects what RFC 9420 §7 forbids, with a typed error: non-canonical or
//! mistyped node lists, forged parent hashes, tampered leaves, hostile sizes.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::path::Path;

use rcsec_keying::mls::codec::{CodecError, WriteExt};
use rcsec_keying::mls::tree::{LeafError, Node, RatchetTree, TreeError};
use rcsec_keying::mls::tree_math::{LeafIndex, NodeIndex};

/// The first tree of the official tree-validation file and its group id.
fn official_tree(entry: usize) -> (RatchetTree, Vec<u8>, Vec<u8>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/mls/tree-validation.json");
    let entries: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let bytes = hex::decode(entries[entry]["tree"].as_str().unwrap()).unwrap();
    let group_id = hex::decode(entries[entry]["group_id"].as_str().unwrap()).unwrap();
    (RatchetTree::from_bytes(&bytes).unwrap(), group_id, bytes)
}

/// Re-wraps a node list (each entry already `optional<Node>`-encoded) as a tree encoding.
fn wrap(entries: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    out.put_vector(&entries.concat()).unwrap();
    out
}

#[test]
fn official_trees_validate_and_round_trip() {
    for entry in 0..14 {
        let (tree, group_id, bytes) = official_tree(entry);
        assert_eq!(tree.to_bytes().unwrap(), bytes);
        tree.verify_leaves(&group_id).unwrap();
        tree.verify_parent_hashes().unwrap();
        let hash = tree.tree_hash().unwrap();
        tree.validate(&group_id, &hash).unwrap();
        assert_eq!(
            tree.validate(&group_id, &[0; 32]),
            Err(TreeError::Structure("tree hash mismatch"))
        );
    }
}

#[test]
fn a_leaf_signed_for_another_group_is_rejected() {
    let (tree, mut group_id, _) = official_tree(0);
    group_id.push(0);
    let err = tree.verify_leaves(&group_id).unwrap_err();
    assert!(
        matches!(
            err,
            TreeError::Leaf {
                reason: LeafError::BadSignature,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_forged_parent_key_breaks_parent_hash_validity() {
    // Find a tree with a non-blank parent, swap that parent's key: its own hash chain (and
    // the leaf that vouched for it) no longer match.
    for entry in 0..14 {
        let (tree, _, _) = official_tree(entry);
        let width = tree.size().width();
        let Some(parent) = (1..width)
            .step_by(2)
            .map(NodeIndex)
            .find(|n| tree.parent_node(*n).is_some())
        else {
            continue;
        };
        let mut nodes: Vec<Option<Node>> = (0..width)
            .map(|i| tree.node(NodeIndex(i)).cloned())
            .collect();
        while nodes.last().is_some_and(Option::is_none) {
            nodes.pop();
        }
        if let Some(Some(Node::Parent(p))) = nodes.get_mut(parent.0 as usize) {
            p.encryption_key[0] ^= 1;
        }
        let forged = RatchetTree::from_nodes(nodes).unwrap();
        assert!(
            matches!(forged.verify_parent_hashes(), Err(TreeError::ParentHash(_))),
            "entry {entry}"
        );
        return;
    }
    panic!("no official tree has a parent node");
}

#[test]
fn non_canonical_and_mistyped_node_lists_are_rejected() {
    let (tree, _, _) = official_tree(0);
    let mut leaf = vec![1u8];
    // `optional` present + the first node (a leaf) as encoded inside the tree.
    let first = tree.node(NodeIndex(0)).unwrap();
    let mut body = Vec::new();
    rcsec_keying::mls::codec::Encode::encode(first, &mut body).unwrap();
    leaf.extend_from_slice(&body);

    assert!(RatchetTree::from_bytes(&wrap(&[&leaf])).is_ok());
    assert_eq!(
        RatchetTree::from_bytes(&wrap(&[&leaf, &[0]])),
        Err(TreeError::Structure("trailing blank node"))
    );
    assert_eq!(
        RatchetTree::from_bytes(&wrap(&[])),
        Err(TreeError::Structure("empty tree"))
    );
    // A leaf at an odd (parent) position.
    assert_eq!(
        RatchetTree::from_bytes(&wrap(&[&leaf, &leaf])),
        Err(TreeError::Structure("node type does not match position"))
    );
    assert!(matches!(
        RatchetTree::from_bytes(&wrap(&[&[2]])),
        Err(TreeError::Codec(CodecError::UnknownValue { .. }))
    ));
    assert!(matches!(
        RatchetTree::from_bytes(&wrap(&[&[1, 9]])),
        Err(TreeError::Codec(CodecError::UnknownValue { .. }))
    ));
    let truncated = wrap(&[&leaf]);
    assert!(RatchetTree::from_bytes(&truncated[..truncated.len() - 1]).is_err());
}

#[test]
fn hostile_sizes_are_refused_without_allocation() {
    // 70 000 blank entries then one leaf-shaped byte: too many nodes long before the end.
    let mut entries = vec![0u8; 70_000];
    entries.push(1);
    let mut bytes = Vec::new();
    bytes.put_vector(&entries).unwrap();
    assert_eq!(RatchetTree::from_bytes(&bytes), Err(TreeError::TooLarge));
}

#[test]
fn add_update_remove_keep_the_tree_canonical() {
    let (mut tree, _, _) = official_tree(0);
    let members: Vec<LeafIndex> = tree.members().map(|(i, _)| i).collect();
    let leaf = tree.leaf(members[0]).unwrap().clone();
    let leaves_before = tree.leaf_count();
    // Remove every member but the first: the tree truncates to one leaf.
    for m in members.iter().skip(1) {
        tree.remove_leaf(*m).unwrap();
    }
    assert_eq!(tree.leaf_count(), 1);
    assert_eq!(tree.remove_leaf(LeafIndex(5)), Err(TreeError::NoMember(5)));
    assert_eq!(
        tree.update_leaf(LeafIndex(1), leaf.clone()),
        Err(TreeError::NoMember(1))
    );
    // Adding grows to the next power of two and takes the leftmost blank.
    assert_eq!(tree.add_leaf(leaf.clone()).unwrap(), LeafIndex(1));
    assert_eq!(tree.leaf_count(), 2);
    assert_eq!(tree.add_leaf(leaf.clone()).unwrap(), LeafIndex(2));
    assert_eq!(tree.leaf_count(), 4);
    tree.remove_leaf(LeafIndex(1)).unwrap();
    assert_eq!(tree.add_leaf(leaf).unwrap(), LeafIndex(1));
    assert!(leaves_before >= 1);
    let again = RatchetTree::from_bytes(&tree.to_bytes().unwrap()).unwrap();
    assert_eq!(again, tree);
}
