//! Tree hashes and parent hashes (RFC 9420 §7.8, §7.9), and the checks a joiner or a member
//! processing a commit runs over a whole tree.
//!
//! The tree hash commits to every node and is what the GroupContext carries, so two members
//! agree on the tree exactly when they agree on the context. Parent hashes chain each parent
//! node to the committer that set it, through the leaf that committer signed: a tree in
//! which every parent is "parent-hash valid" cannot contain a key that no member vouched for.

use std::collections::BTreeSet;

use super::super::codec::{CodecError, Encode, WriteExt};
use super::super::crypto::{NH, hash};
use super::super::tree_math::{LeafIndex, NodeIndex};
use super::leaf::{LeafNodeContext, LeafSourceKind};
use super::{Node, ParentNode, RatchetTree, TreeError, is_below};

/// `ParentHash = Hash(ParentHashInput{encryption_key, parent_hash, original_sibling_tree_hash})`.
///
/// # Errors
/// [`CodecError`] for oversized inputs.
pub fn parent_hash(parent: &ParentNode, sibling_tree_hash: &[u8]) -> Result<[u8; NH], CodecError> {
    let mut input = Vec::with_capacity(3 * NH + 8);
    input.put_vector(&parent.encryption_key)?;
    input.put_vector(&parent.parent_hash)?;
    input.put_vector(sibling_tree_hash)?;
    Ok(hash(&input))
}

impl RatchetTree {
    /// The root tree hash (the GroupContext's `tree_hash`).
    ///
    /// # Errors
    /// [`TreeError::Codec`] for oversized nodes.
    pub fn tree_hash(&self) -> Result<[u8; NH], TreeError> {
        self.subtree_hash(self.size().root(), &[])
    }

    /// The tree hash of the subtree rooted at `node`, computed as if the leaves in `excluded`
    /// were blank and absent from every unmerged-leaves list (the "original" tree hash that
    /// parent hashes use). Nodes outside the tree hash as blank leaves would.
    ///
    /// # Errors
    /// [`TreeError::Codec`] for oversized nodes.
    pub fn subtree_hash(&self, node: NodeIndex, excluded: &[u32]) -> Result<[u8; NH], TreeError> {
        let mut input = Vec::new();
        if node.is_leaf() {
            input.push(1);
            let leaf_index = node.0 / 2;
            input.extend_from_slice(&leaf_index.to_be_bytes());
            match self.node(node) {
                Some(Node::Leaf(leaf)) if !excluded.contains(&leaf_index) => {
                    input.push(1);
                    leaf.encode(&mut input)?;
                }
                _ => input.push(0),
            }
        } else {
            input.push(2);
            match self.node(node) {
                Some(Node::Parent(p)) => {
                    input.push(1);
                    let kept: Vec<u32> = p
                        .unmerged_leaves
                        .iter()
                        .copied()
                        .filter(|l| !excluded.contains(l))
                        .collect();
                    input.put_vector(&p.encryption_key)?;
                    input.put_vector(&p.parent_hash)?;
                    input.put_vector_of(&kept)?;
                }
                _ => input.push(0),
            }
            let size = self.size();
            let (Some(left), Some(right)) = (size.left(node), size.right(node)) else {
                return Err(TreeError::Structure("node outside the tree"));
            };
            input.put_vector(&self.subtree_hash(left, excluded)?)?;
            input.put_vector(&self.subtree_hash(right, excluded)?)?;
        }
        Ok(hash(&input))
    }

    /// The parent hash of `parent` as seen from its child `child` (whose sibling supplies the
    /// original tree hash).
    ///
    /// # Errors
    /// [`TreeError::Structure`] when `parent` is not a parent node or `child` not its child.
    pub fn parent_hash_from(
        &self,
        parent: NodeIndex,
        child: NodeIndex,
    ) -> Result<[u8; NH], TreeError> {
        let p = self
            .parent_node(parent)
            .ok_or(TreeError::Structure("parent hash of a blank node"))?;
        let size = self.size();
        let sibling = match (size.left(parent), size.right(parent)) {
            (Some(l), Some(r)) if l == child => r,
            (Some(l), Some(r)) if r == child => l,
            _ => return Err(TreeError::Structure("not a child of the parent")),
        };
        let sibling_hash = self.subtree_hash(sibling, &p.unmerged_leaves)?;
        Ok(parent_hash(p, &sibling_hash)?)
    }

    /// Checks that every non-blank parent node is parent-hash valid (§7.9.2): some child `C`
    /// has a node `D` in its resolution whose parent hash is the parent's hash seen from `C`,
    /// and the rest of that resolution is exactly the parent's unmerged leaves below `C`.
    ///
    /// # Errors
    /// [`TreeError::ParentHash`] naming the first parent that fails.
    pub fn verify_parent_hashes(&self) -> Result<(), TreeError> {
        let size = self.size();
        for i in (1..size.width()).step_by(2) {
            let index = NodeIndex(i);
            let Some(p) = self.parent_node(index) else {
                continue;
            };
            let (Some(left), Some(right)) = (size.left(index), size.right(index)) else {
                return Err(TreeError::ParentHash(i));
            };
            let mut valid = false;
            for child in [left, right] {
                if self.parent_hash_valid_from(index, p, child)? {
                    valid = true;
                    break;
                }
            }
            if !valid {
                return Err(TreeError::ParentHash(i));
            }
        }
        Ok(())
    }

    fn parent_hash_valid_from(
        &self,
        index: NodeIndex,
        p: &ParentNode,
        child: NodeIndex,
    ) -> Result<bool, TreeError> {
        let expected = self.parent_hash_from(index, child)?;
        let resolution = self.resolution(child);
        let unmerged_below: BTreeSet<NodeIndex> = p
            .unmerged_leaves
            .iter()
            .filter_map(|l| LeafIndex(*l).node())
            .filter(|n| is_below(*n, child))
            .collect();
        for d in &resolution {
            let matches = self
                .node(*d)
                .is_some_and(|n| n.parent_hash() == expected.as_slice());
            if matches {
                let rest: BTreeSet<NodeIndex> =
                    resolution.iter().copied().filter(|n| n != d).collect();
                if rest == unmerged_below {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// Validates every member's leaf in place (signature bound to `group_id` and its index;
    /// lifetimes are not re-checked for members already in the group) and that no two
    /// members share an encryption or signature key.
    ///
    /// # Errors
    /// [`TreeError::Leaf`] naming the first bad leaf.
    pub fn verify_leaves(&self, group_id: &[u8]) -> Result<(), TreeError> {
        let mut encryption_keys = BTreeSet::new();
        let mut signature_keys = BTreeSet::new();
        for (index, leaf) in self.members() {
            let context = LeafNodeContext {
                group_id,
                leaf_index: index,
            };
            leaf.validate(LeafSourceKind::Any, Some(context), None)
                .map_err(|reason| TreeError::Leaf {
                    index: index.0,
                    reason,
                })?;
            if !encryption_keys.insert(leaf.encryption_key.as_slice())
                || !signature_keys.insert(leaf.signature_key.as_slice())
            {
                return Err(TreeError::Leaf {
                    index: index.0,
                    reason: super::LeafError::BadKey,
                });
            }
        }
        Ok(())
    }

    /// Everything a joiner checks about a received tree: leaves, parent hashes, and that its
    /// hash is the one the (signed) GroupContext names.
    ///
    /// # Errors
    /// [`TreeError`] naming the first failure; a hash mismatch is
    /// [`TreeError::Structure`]`("tree hash mismatch")`.
    pub fn validate(&self, group_id: &[u8], tree_hash: &[u8]) -> Result<(), TreeError> {
        if self.tree_hash()?.as_slice() != tree_hash {
            return Err(TreeError::Structure("tree hash mismatch"));
        }
        self.verify_leaves(group_id)?;
        self.verify_parent_hashes()
    }
}
