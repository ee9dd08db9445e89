//! Array-based left-balanced binary tree arithmetic (RFC 9420 §4.2, Appendix C).
//!
//! Leaves sit at even node indices (leaf `i` is node `2i`); the level of a node is the number
//! of trailing one bits of its index. Every function is total: out-of-range inputs give
//! `None` instead of panicking.

/// Index of a leaf (a member position) in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LeafIndex(pub u32);

/// Index of a node in the array representation of the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeIndex(pub u32);

impl LeafIndex {
    /// The node that holds this leaf (`2i`), or `None` if it overflows.
    pub fn node(self) -> Option<NodeIndex> {
        self.0.checked_mul(2).map(NodeIndex)
    }
}

impl NodeIndex {
    /// The level of the node: 0 for leaves, the number of trailing one bits otherwise.
    pub fn level(self) -> u32 {
        self.0.trailing_ones()
    }

    /// True for leaves (even indices).
    pub fn is_leaf(self) -> bool {
        self.0.is_multiple_of(2)
    }

    /// The leaf this node holds, if it is a leaf.
    pub fn leaf(self) -> Option<LeafIndex> {
        self.is_leaf().then_some(LeafIndex(self.0 / 2))
    }

    /// The left child, `None` for leaves.
    pub fn left(self) -> Option<Self> {
        let k = self.level();
        (k > 0).then(|| Self(self.0 ^ (1 << (k - 1))))
    }

    /// The right child in a tree of unbounded width, `None` for leaves.
    fn right_unbounded(self) -> Option<Self> {
        let k = self.level();
        (k > 0).then(|| Self(self.0 ^ (3 << (k - 1))))
    }
}

/// The shape of a tree with a given number of leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeSize {
    leaves: u32,
}

impl TreeSize {
    /// The one-leaf tree.
    pub const ONE: Self = Self { leaves: 1 };

    /// A tree with `leaves` leaves; `None` for 0 or more than 2^31 leaves.
    pub fn new(leaves: u32) -> Option<Self> {
        (leaves > 0 && leaves <= 1 << 31).then_some(Self { leaves })
    }

    /// Number of leaves.
    pub fn leaves(self) -> u32 {
        self.leaves
    }

    /// Number of nodes, `2n - 1`.
    pub fn width(self) -> u32 {
        2 * (self.leaves - 1) + 1
    }

    /// True when `node` lies inside the tree.
    pub fn contains(self, node: NodeIndex) -> bool {
        node.0 < self.width()
    }

    /// The root node.
    pub fn root(self) -> NodeIndex {
        NodeIndex((1u32 << self.width().ilog2()) - 1)
    }

    /// The left child of `node`, `None` for leaves and nodes outside the tree.
    pub fn left(self, node: NodeIndex) -> Option<NodeIndex> {
        self.contains(node).then(|| node.left()).flatten()
    }

    /// The right child of `node`, `None` for leaves and nodes outside the tree.
    pub fn right(self, node: NodeIndex) -> Option<NodeIndex> {
        if !self.contains(node) {
            return None;
        }
        let mut r = node.right_unbounded()?;
        while !self.contains(r) {
            r = r.left()?;
        }
        Some(r)
    }

    /// The parent of `node`, `None` for the root and nodes outside the tree.
    pub fn parent(self, node: NodeIndex) -> Option<NodeIndex> {
        if !self.contains(node) || node == self.root() {
            return None;
        }
        let mut p = node;
        loop {
            let k = p.level();
            if k >= 31 {
                return None;
            }
            let b = (p.0 >> (k + 1)) & 1;
            p = NodeIndex((p.0 | (1 << k)) ^ (b << (k + 1)));
            if self.contains(p) {
                return Some(p);
            }
        }
    }

    /// The other child of `node`'s parent, `None` for the root and nodes outside the tree.
    pub fn sibling(self, node: NodeIndex) -> Option<NodeIndex> {
        let p = self.parent(node)?;
        if node < p {
            self.right(p)
        } else {
            self.left(p)
        }
    }

    /// The nodes from `leaf` up to the root, both included.
    pub fn direct_path_with_leaf(self, leaf: LeafIndex) -> Option<Vec<NodeIndex>> {
        let mut node = leaf.node().filter(|n| self.contains(*n))?;
        let mut path = vec![node];
        while let Some(p) = self.parent(node) {
            path.push(p);
            node = p;
        }
        Some(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_trees_match_the_rfc_figures() {
        let t = TreeSize::new(4).unwrap();
        assert_eq!(t.width(), 7);
        assert_eq!(t.root(), NodeIndex(3));
        assert_eq!(t.parent(NodeIndex(0)), Some(NodeIndex(1)));
        assert_eq!(t.parent(NodeIndex(5)), Some(NodeIndex(3)));
        assert_eq!(t.sibling(NodeIndex(1)), Some(NodeIndex(5)));
        assert_eq!(t.left(NodeIndex(0)), None);
        assert_eq!(t.parent(NodeIndex(3)), None);
        assert_eq!(t.parent(NodeIndex(7)), None);
        let path = t.direct_path_with_leaf(LeafIndex(2)).unwrap();
        assert_eq!(path, [NodeIndex(4), NodeIndex(5), NodeIndex(3)]);
        assert_eq!(t.direct_path_with_leaf(LeafIndex(4)), None);
    }

    #[test]
    fn non_full_trees_stay_inside() {
        let t = TreeSize::new(3).unwrap();
        assert_eq!(t.root(), NodeIndex(3));
        assert_eq!(t.right(NodeIndex(3)), Some(NodeIndex(4)));
        assert_eq!(t.parent(NodeIndex(4)), Some(NodeIndex(3)));
        assert!(TreeSize::new(0).is_none());
        let big = TreeSize::new(1 << 31).unwrap();
        assert_eq!(big.parent(big.root()), None);
        assert!(big.parent(NodeIndex(0)).is_some());
    }
}
