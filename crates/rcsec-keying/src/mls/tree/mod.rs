//! The ratchet tree (RFC 9420 §7): leaves hold members, parent nodes hold the HPKE keys that
//! TreeKEM encrypts path secrets to.
//!
//! The tree is kept *full*: its leaf count is always a power of two, so the array holds
//! `2 * leaves - 1` nodes and every node index has a well-defined parent. Blank nodes are
//! `None`. On the wire (`optional<Node> ratchet_tree<V>`) trailing blanks are omitted; decoding
//! pads back to the full width and rejects a list that ends in a blank (not the canonical
//! encoding) or puts a parent where a leaf belongs.
//!
//! Operations ([`RatchetTree::add_leaf`], [`RatchetTree::update_leaf`],
//! [`RatchetTree::remove_leaf`]) follow §12.1: adds take the leftmost blank leaf (extending the
//! tree when there is none) and record themselves as unmerged in the non-blank parents above;
//! updates and removes blank the direct path; removes then truncate the tree while its right
//! half is empty. Tree hashes, parent hashes and leaf validation are methods of
//! [`RatchetTree`] and [`LeafNode`] defined beside this module.

mod hash;
mod leaf;

pub use hash::parent_hash;
pub use leaf::{LeafError, LeafNodeContext, LeafSourceKind};

use super::codec::{CodecError, Decode, Encode, Reader, WriteExt};
use super::crypto::CryptoError;
use super::key_package::LeafNode;
use super::tree_math::{LeafIndex, NodeIndex, TreeSize};

/// The most leaves a tree decoded or grown here may have. Far above any on-call rotation, far
/// below what would let a hostile tree exhaust memory or recursion.
pub const MAX_LEAVES: u32 = 1 << 15;

/// Why a tree could not be decoded, changed or validated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TreeError {
    /// The encoding is malformed.
    #[error("malformed tree: {0}")]
    Codec(#[from] CodecError),
    /// A primitive failed (opaque).
    #[error("{0}")]
    Crypto(#[from] CryptoError),
    /// The node list is structurally wrong (why is given).
    #[error("invalid tree structure: {0}")]
    Structure(&'static str),
    /// The tree would exceed [`MAX_LEAVES`].
    #[error("tree too large")]
    TooLarge,
    /// A leaf index is outside the tree or names a blank leaf.
    #[error("no member at leaf {0}")]
    NoMember(u32),
    /// A parent node is not parent-hash valid (RFC 9420 §7.9.2).
    #[error("parent node {0} is not parent-hash valid")]
    ParentHash(u32),
    /// A leaf node failed validation.
    #[error("leaf {index}: {reason}")]
    Leaf {
        /// The leaf index.
        index: u32,
        /// What was wrong.
        reason: LeafError,
    },
}

/// A parent node: an HPKE public key shared by the members below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentNode {
    /// The node's HPKE public key.
    pub encryption_key: Vec<u8>,
    /// Hash binding this node to the one above it on the committer's path.
    pub parent_hash: Vec<u8>,
    /// Leaves added below since the key was set; they do not know its private key.
    pub unmerged_leaves: Vec<u32>,
}

impl Encode for ParentNode {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.put_vector(&self.encryption_key)?;
        out.put_vector(&self.parent_hash)?;
        out.put_vector_of(&self.unmerged_leaves)
    }
}

impl Decode for ParentNode {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            encryption_key: r.vector()?.to_vec(),
            parent_hash: r.vector()?.to_vec(),
            unmerged_leaves: r.vector_of()?,
        })
    }
}

/// A non-blank node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A member's leaf (`node_type` 1).
    Leaf(Box<LeafNode>),
    /// A parent (`node_type` 2).
    Parent(ParentNode),
}

impl Node {
    /// The node's HPKE public key.
    pub fn encryption_key(&self) -> &[u8] {
        match self {
            Self::Leaf(leaf) => &leaf.encryption_key,
            Self::Parent(parent) => &parent.encryption_key,
        }
    }

    /// The parent hash the node carries: a parent's, or a leaf's from a commit; empty otherwise.
    pub fn parent_hash(&self) -> &[u8] {
        match self {
            Self::Leaf(leaf) => match &leaf.source {
                super::key_package::LeafNodeSource::Commit { parent_hash } => parent_hash,
                _ => &[],
            },
            Self::Parent(parent) => &parent.parent_hash,
        }
    }
}

impl Encode for Node {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        match self {
            Self::Leaf(leaf) => {
                out.push(1);
                leaf.encode(out)
            }
            Self::Parent(parent) => {
                out.push(2);
                parent.encode(out)
            }
        }
    }
}

impl Decode for Node {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        match r.u8()? {
            1 => Ok(Self::Leaf(Box::new(LeafNode::decode(r)?))),
            2 => Ok(Self::Parent(ParentNode::decode(r)?)),
            value => Err(CodecError::UnknownValue {
                field: "node_type",
                value: u64::from(value),
            }),
        }
    }
}

/// A ratchet tree: `2^k` leaves, blanks as `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatchetTree {
    nodes: Vec<Option<Node>>,
}

impl RatchetTree {
    /// A one-member tree (a group's creator).
    pub fn new(creator: LeafNode) -> Self {
        Self {
            nodes: vec![Some(Node::Leaf(Box::new(creator)))],
        }
    }

    /// Decodes `optional<Node> ratchet_tree<V>` and checks its shape (see the module docs).
    ///
    /// # Errors
    /// [`TreeError::Codec`], [`TreeError::Structure`], [`TreeError::TooLarge`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TreeError> {
        let mut outer = Reader::new(bytes);
        let mut r = Reader::new(outer.vector()?);
        outer.finish()?;
        let mut nodes = Vec::new();
        while !r.is_empty() {
            let node = match r.u8()? {
                0 => None,
                1 => Some(Node::decode(&mut r)?),
                value => {
                    return Err(CodecError::UnknownValue {
                        field: "optional presence",
                        value: u64::from(value),
                    }
                    .into());
                }
            };
            nodes.push(node);
            if nodes.len() > 2 * MAX_LEAVES as usize {
                return Err(TreeError::TooLarge);
            }
        }
        Self::from_nodes(nodes)
    }

    /// Builds a tree from its node list (trailing blanks already omitted).
    ///
    /// # Errors
    /// [`TreeError::Structure`], [`TreeError::TooLarge`].
    pub fn from_nodes(mut nodes: Vec<Option<Node>>) -> Result<Self, TreeError> {
        match nodes.last() {
            None => return Err(TreeError::Structure("empty tree")),
            Some(None) => return Err(TreeError::Structure("trailing blank node")),
            Some(Some(_)) => {}
        }
        for (i, node) in nodes.iter().enumerate() {
            let ok = match node {
                None => true,
                Some(Node::Leaf(_)) => i % 2 == 0,
                Some(Node::Parent(_)) => i % 2 == 1,
            };
            if !ok {
                return Err(TreeError::Structure("node type does not match position"));
            }
        }
        let mut leaves = 1usize;
        while 2 * leaves - 1 < nodes.len() {
            leaves *= 2;
        }
        if leaves > MAX_LEAVES as usize {
            return Err(TreeError::TooLarge);
        }
        nodes.resize(2 * leaves - 1, None);
        let tree = Self { nodes };
        tree.check_unmerged()?;
        Ok(tree)
    }

    /// Every unmerged leaf must be a non-blank leaf below the parent that lists it, listed once.
    fn check_unmerged(&self) -> Result<(), TreeError> {
        for (i, node) in self.nodes.iter().enumerate() {
            let Some(Node::Parent(p)) = node else {
                continue;
            };
            let parent = NodeIndex(index_u32(i));
            for (k, leaf) in p.unmerged_leaves.iter().enumerate() {
                let below = LeafIndex(*leaf)
                    .node()
                    .is_some_and(|n| is_below(n, parent) && self.leaf(LeafIndex(*leaf)).is_some());
                if !below || p.unmerged_leaves[..k].contains(leaf) {
                    return Err(TreeError::Structure("invalid unmerged leaf"));
                }
            }
        }
        Ok(())
    }

    /// The canonical encoding (trailing blanks omitted).
    ///
    /// # Errors
    /// [`CodecError::LengthOverLimit`] for a tree over the vector limit.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CodecError> {
        let used = self
            .nodes
            .iter()
            .rposition(Option::is_some)
            .map_or(0, |i| i + 1);
        let mut inner = Vec::new();
        for node in &self.nodes[..used] {
            match node {
                None => inner.push(0),
                Some(node) => {
                    inner.push(1);
                    node.encode(&mut inner)?;
                }
            }
        }
        let mut out = Vec::with_capacity(inner.len() + 4);
        out.put_vector(&inner)?;
        Ok(out)
    }

    /// The shape of the tree.
    pub fn size(&self) -> TreeSize {
        // The node count never exceeds 2 * MAX_LEAVES, so the conversion cannot fail.
        u32::try_from(self.nodes.len().div_ceil(2))
            .ok()
            .and_then(TreeSize::new)
            .unwrap_or(TreeSize::ONE)
    }

    /// Number of leaf slots (members and blanks).
    pub fn leaf_count(&self) -> u32 {
        self.size().leaves()
    }

    /// The node at `index`, `None` for blanks and indices outside the tree.
    pub fn node(&self, index: NodeIndex) -> Option<&Node> {
        self.nodes.get(index.0 as usize).and_then(Option::as_ref)
    }

    /// The leaf node of a member, `None` for blank or out-of-range leaves.
    pub fn leaf(&self, leaf: LeafIndex) -> Option<&LeafNode> {
        match self.node(leaf.node()?) {
            Some(Node::Leaf(l)) => Some(l),
            _ => None,
        }
    }

    /// The parent node at `index`, `None` for blanks and leaves.
    pub fn parent_node(&self, index: NodeIndex) -> Option<&ParentNode> {
        match self.node(index) {
            Some(Node::Parent(p)) => Some(p),
            _ => None,
        }
    }

    /// The members' leaves, in leaf order.
    pub fn members(&self) -> impl Iterator<Item = (LeafIndex, &LeafNode)> {
        self.nodes
            .iter()
            .step_by(2)
            .enumerate()
            .filter_map(|(i, n)| match n {
                Some(Node::Leaf(l)) => Some((LeafIndex(index_u32(i)), l.as_ref())),
                _ => None,
            })
    }

    /// The resolution of a node (§4.1.1): itself and its unmerged leaves when non-blank, the
    /// resolutions of its children when a blank parent, nothing for a blank leaf.
    pub fn resolution(&self, index: NodeIndex) -> Vec<NodeIndex> {
        let mut out = Vec::new();
        self.resolve_into(index, &mut out);
        out
    }

    fn resolve_into(&self, index: NodeIndex, out: &mut Vec<NodeIndex>) {
        match self.node(index) {
            Some(Node::Leaf(_)) => out.push(index),
            Some(Node::Parent(p)) => {
                out.push(index);
                out.extend(
                    p.unmerged_leaves
                        .iter()
                        .filter_map(|l| LeafIndex(*l).node()),
                );
            }
            None => {
                let size = self.size();
                if let (Some(l), Some(r)) = (size.left(index), size.right(index)) {
                    self.resolve_into(l, out);
                    self.resolve_into(r, out);
                }
            }
        }
    }

    /// The direct path of a leaf: its ancestors from its parent up to the root.
    pub fn direct_path(&self, leaf: LeafIndex) -> Vec<NodeIndex> {
        let size = self.size();
        let mut path = size.direct_path_with_leaf(leaf).unwrap_or_default();
        if !path.is_empty() {
            path.remove(0);
        }
        path
    }

    /// The filtered direct path of a leaf (§4.1.2) as `(ancestor, copath child)` pairs: the
    /// ancestors whose child off the path has a non-empty resolution.
    pub fn filtered_direct_path(&self, leaf: LeafIndex) -> Vec<(NodeIndex, NodeIndex)> {
        let size = self.size();
        let Some(mut child) = leaf.node().filter(|n| size.contains(*n)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        while let Some(parent) = size.parent(child) {
            if let Some(sibling) = size.sibling(child)
                && !self.resolution(sibling).is_empty()
            {
                out.push((parent, sibling));
            }
            child = parent;
        }
        out
    }

    /// Adds a member at the leftmost blank leaf (extending the tree if it is full) and marks
    /// it unmerged in every non-blank ancestor. Returns the new leaf's index.
    ///
    /// # Errors
    /// [`TreeError::TooLarge`] past [`MAX_LEAVES`].
    pub fn add_leaf(&mut self, leaf: LeafNode) -> Result<LeafIndex, TreeError> {
        let slot = self.nodes.iter().step_by(2).position(Option::is_none);
        let index = match slot {
            Some(i) => i,
            None => {
                let leaves = self.nodes.len().div_ceil(2);
                if leaves * 2 > MAX_LEAVES as usize {
                    return Err(TreeError::TooLarge);
                }
                self.nodes.resize(4 * leaves - 1, None);
                leaves
            }
        };
        let leaf_index = LeafIndex(u32::try_from(index).map_err(|_| TreeError::TooLarge)?);
        self.nodes[2 * index] = Some(Node::Leaf(Box::new(leaf)));
        for p in self.direct_path(leaf_index) {
            if let Some(Some(Node::Parent(parent))) = self.nodes.get_mut(p.0 as usize) {
                let at = parent
                    .unmerged_leaves
                    .partition_point(|l| *l < leaf_index.0);
                parent.unmerged_leaves.insert(at, leaf_index.0);
            }
        }
        Ok(leaf_index)
    }

    /// Replaces a member's leaf and blanks its direct path (an Update proposal).
    ///
    /// # Errors
    /// [`TreeError::NoMember`] for a blank or out-of-range leaf.
    pub fn update_leaf(&mut self, index: LeafIndex, leaf: LeafNode) -> Result<(), TreeError> {
        self.leaf(index).ok_or(TreeError::NoMember(index.0))?;
        self.blank_direct_path(index);
        self.nodes[2 * index.0 as usize] = Some(Node::Leaf(Box::new(leaf)));
        Ok(())
    }

    /// Blanks a member's leaf and direct path, then truncates (a Remove proposal).
    ///
    /// # Errors
    /// [`TreeError::NoMember`] for a blank or out-of-range leaf.
    pub fn remove_leaf(&mut self, index: LeafIndex) -> Result<(), TreeError> {
        self.leaf(index).ok_or(TreeError::NoMember(index.0))?;
        self.blank_direct_path(index);
        self.nodes[2 * index.0 as usize] = None;
        self.truncate();
        Ok(())
    }

    /// Blanks the ancestors of a leaf (not the leaf itself).
    pub(crate) fn blank_direct_path(&mut self, index: LeafIndex) {
        for p in self.direct_path(index) {
            if let Some(slot) = self.nodes.get_mut(p.0 as usize) {
                *slot = None;
            }
        }
    }

    /// Halves the tree while its right half holds no member (§7.8).
    fn truncate(&mut self) {
        loop {
            let leaves = self.nodes.len().div_ceil(2);
            if leaves <= 1 || self.nodes[leaves..].iter().any(Option::is_some) {
                return;
            }
            self.nodes.truncate(leaves - 1);
        }
    }

    /// Sets a parent node (TreeKEM merging an UpdatePath).
    pub(crate) fn set_parent(&mut self, index: NodeIndex, node: ParentNode) {
        if let Some(slot) = self.nodes.get_mut(index.0 as usize)
            && !index.is_leaf()
        {
            *slot = Some(Node::Parent(node));
        }
    }

    /// Sets a member's leaf without touching its path (TreeKEM merging an UpdatePath).
    pub(crate) fn set_leaf(&mut self, index: LeafIndex, leaf: LeafNode) -> Result<(), TreeError> {
        let slot = index
            .node()
            .and_then(|n| self.nodes.get_mut(n.0 as usize))
            .ok_or(TreeError::NoMember(index.0))?;
        *slot = Some(Node::Leaf(Box::new(leaf)));
        Ok(())
    }
}

/// A node-array position as a node index (arrays here never exceed `2 * MAX_LEAVES`).
fn index_u32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// True when `node` lies in the subtree rooted at `root` (inclusive).
pub fn is_below(node: NodeIndex, root: NodeIndex) -> bool {
    let span = (1u64 << root.level()) - 1;
    let (n, r) = (u64::from(node.0), u64::from(root.0));
    n + span >= r && n <= r + span
}
