//! States written before TreeKEM (versions 1 and 2): the member list ("roster") they kept,
//! and its conversion into a ratchet tree.
//!
//! The roster was the leaf level of the RFC 9420 tree without parent nodes: one optional
//! leaf node per leaf index, trailing blanks dropped, its hash `RefHash("rcsec 1.0 roster",
//! V(optional<LeafNode> ...))` standing in the group context's `tree_hash`. A ratchet tree
//! with exactly these leaves and every parent blank is a valid TreeKEM tree (a blank parent
//! asks nothing of anyone; a path secret is then encrypted to each leaf of a copath subtree),
//! and every member who loads the same roster builds the same tree, so the next commit
//! agrees everywhere. The epoch being read keeps the roster hash in its context: it was
//! derived from it and every member holds the same context.

use crate::mls::codec::{Reader, WriteExt};
use crate::mls::crypto::{NH, ref_hash};
use crate::mls::key_package::LeafNode;
use crate::mls::tree::{Node, RatchetTree};

use super::GroupError;

/// The hash label of the pre-TreeKEM roster.
const ROSTER_HASH_LABEL: &[u8] = b"rcsec 1.0 roster";

/// Reads a stored roster (`V(optional<LeafNode> ...)`) as the ratchet tree with those
/// leaves and blank parents.
pub(super) fn read_roster(r: &mut Reader<'_>) -> Result<RatchetTree, GroupError> {
    let mut body = Reader::new(r.vector()?);
    let mut nodes = Vec::new();
    while !body.is_empty() {
        let leaf: Option<LeafNode> = body.optional()?;
        if !nodes.is_empty() {
            // The parent between this leaf and the previous one: blank.
            nodes.push(None);
        }
        nodes.push(leaf.map(|l| Node::Leaf(Box::new(l))));
    }
    if !matches!(nodes.last(), Some(Some(_))) {
        return Err(GroupError::CorruptState("roster"));
    }
    RatchetTree::from_nodes(nodes).map_err(|_| GroupError::CorruptState("roster"))
}

/// The number of leaves the roster of `tree` had (up to its last member): the size of the
/// secret trees its epochs derived.
pub(super) fn roster_len(tree: &RatchetTree) -> u32 {
    tree.members().last().map_or(0, |(leaf, _)| leaf.0 + 1)
}

/// The roster hash of `tree`'s leaves, as a pre-TreeKEM context bound it.
pub(super) fn roster_hash(tree: &RatchetTree) -> Result<[u8; NH], GroupError> {
    let mut body = Vec::new();
    for i in 0..roster_len(tree) {
        body.put_optional(tree.leaf(crate::mls::tree_math::LeafIndex(i)))?;
    }
    let mut encoded = Vec::with_capacity(body.len() + 4);
    encoded.put_vector(&body)?;
    Ok(ref_hash(ROSTER_HASH_LABEL, &encoded)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn an_empty_or_blank_ended_roster_is_corrupt() {
        let mut empty = Vec::new();
        empty.put_vector(&[]).unwrap();
        assert_eq!(
            read_roster(&mut Reader::new(&empty)).unwrap_err(),
            GroupError::CorruptState("roster")
        );
        let mut blank = Vec::new();
        blank.put_vector(&[0]).unwrap();
        assert_eq!(
            read_roster(&mut Reader::new(&blank)).unwrap_err(),
            GroupError::CorruptState("roster")
        );
    }
}
