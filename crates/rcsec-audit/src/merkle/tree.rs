//! Tree hashing (RFC 9162 §2.1.1) and the compact, append-only tree.

use super::Hash;
use crate::sha256::digest;

/// `SHA-256(0x00 || data)`: the hash of one leaf.
pub fn leaf_hash(data: &[u8]) -> Hash {
    Hash(digest(&[&[0x00], data]))
}

/// `SHA-256(0x01 || left || right)`: the hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Hash(digest(&[&[0x01], &left.0, &right.0]))
}

/// `SHA-256("")`: the root of the empty tree.
pub fn empty_root() -> Hash {
    Hash(digest(&[]))
}

/// The largest power of two strictly smaller than `n` (`n >= 2`).
pub(super) fn split_point(n: usize) -> usize {
    debug_assert!(n >= 2);
    let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
    if k == n { k / 2 } else { k }
}

/// MTH over already hashed leaves, by the recursive definition of RFC 9162 §2.1.1.
///
/// Linear in the number of leaves; meant for proofs and tests. Appends use [`CompactTree`].
pub fn root_of(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => empty_root(),
        [one] => *one,
        _ => {
            let k = split_point(leaves.len());
            node_hash(&root_of(&leaves[..k]), &root_of(&leaves[k..]))
        }
    }
}

/// A frontier does not fit the tree size it is given with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a tree of {size} leaves has {} frontier nodes, not {found}", size.count_ones())]
pub struct FrontierError {
    /// The tree size.
    pub size: u64,
    /// How many frontier hashes were given.
    pub found: usize,
}

/// An append-only Merkle tree that keeps only its frontier: the roots of the perfect subtrees
/// that the binary digits of its size decompose it into (at most 64 hashes).
///
/// An append merges equal-sized subtrees like a binary counter carries: O(log n) worst case,
/// one node hash amortized. The root folds the frontier from the right, which is exactly
/// MTH because the left child of every RFC 9162 node is the largest perfect subtree.
///
/// ```
/// use rcsec_audit::merkle::{CompactTree, leaf_hash, root_of};
///
/// let leaves: Vec<_> = (0u8..5).map(|i| leaf_hash(&[i])).collect();
/// let mut tree = CompactTree::new();
/// for leaf in &leaves {
///     tree.push(*leaf);
/// }
/// assert_eq!(tree.root(), root_of(&leaves));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactTree {
    size: u64,
    /// Perfect subtree roots, largest (leftmost) first.
    frontier: Vec<Hash>,
}

impl CompactTree {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash (see [`leaf_hash`]).
    pub fn push(&mut self, leaf: Hash) {
        let mut node = leaf;
        // Each trailing one bit of the old size is a subtree of the same height as `node`.
        let mut carries = self.size.trailing_ones();
        while carries > 0 {
            let Some(left) = self.frontier.pop() else {
                break;
            };
            node = node_hash(&left, &node);
            carries -= 1;
        }
        self.frontier.push(node);
        self.size += 1;
    }

    /// A tree of `size` leaves from its frontier: the roots of its perfect subtrees, largest
    /// (leftmost) first, one per set bit of `size` (what [`CompactTree::frontier`] returns).
    ///
    /// This is how a stored log resumes without rehashing every leaf; the caller checks the
    /// result's [`root`](CompactTree::root) against a signed checkpoint before trusting it.
    ///
    /// # Errors
    /// [`FrontierError`] when the number of hashes is not the number of set bits of `size`.
    pub fn from_frontier(size: u64, frontier: Vec<Hash>) -> Result<Self, FrontierError> {
        if frontier.len() != size.count_ones() as usize {
            return Err(FrontierError {
                size,
                found: frontier.len(),
            });
        }
        Ok(Self { size, frontier })
    }

    /// The roots of the perfect subtrees, largest (leftmost) first: `size.count_ones()` hashes.
    pub fn frontier(&self) -> &[Hash] {
        &self.frontier
    }

    /// The tree head: MTH of every leaf pushed so far.
    pub fn root(&self) -> Hash {
        let mut iter = self.frontier.iter().rev();
        let Some(last) = iter.next() else {
            return empty_root();
        };
        iter.fold(*last, |acc, left| node_hash(left, &acc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(8), 4);
        assert_eq!(split_point(9), 8);
    }

    #[test]
    fn compact_tree_matches_recursive_definition_at_every_size() {
        let leaves: Vec<Hash> = (0u32..130).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut tree = CompactTree::new();
        assert_eq!(tree.root(), empty_root());
        for (n, leaf) in leaves.iter().enumerate() {
            tree.push(*leaf);
            assert_eq!(tree.size(), n as u64 + 1);
            assert_eq!(tree.root(), root_of(&leaves[..=n]), "size {}", n + 1);
            assert_eq!(tree.frontier.len(), tree.size.count_ones() as usize);
            let resumed = CompactTree::from_frontier(tree.size(), tree.frontier().to_vec());
            assert_eq!(resumed.as_ref(), Ok(&tree));
        }
        assert_eq!(
            CompactTree::from_frontier(3, vec![leaves[0]]),
            Err(FrontierError { size: 3, found: 1 })
        );
        assert!(CompactTree::from_frontier(0, Vec::new()).is_ok());
    }
}
