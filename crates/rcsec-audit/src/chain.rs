//! The hash chain and the Merkle tree over it, as one running state.
//!
//! Event `i` has chain hash `c_i = SHA-256(c_{i-1} || canonical_i)` with `c_{-1}` = 32 zero
//! bytes, and Merkle leaf `i` is `SHA-256(0x00 || c_i)`. The chain makes every event depend
//! on all before it (so a change shows at the first changed index); the tree gives compact
//! inclusion and consistency proofs and the root that checkpoints sign.

use sha2::{Digest as _, Sha256};

use crate::merkle::{CompactTree, Hash, leaf_hash};

/// The state of a log after some number of events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Head {
    /// How many events.
    pub size: u64,
    /// Chain hash of the last event (zeros when empty).
    pub chain: Hash,
    /// Merkle root over the chain hashes (`SHA-256("")` when empty).
    pub root: Hash,
}

/// `SHA-256(prev || parts...)`: the chain hash of an event whose canonical encoding is the
/// concatenation of `parts`.
pub fn chain_hash(prev: &Hash, parts: &[&[u8]]) -> Hash {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    for part in parts {
        h.update(part);
    }
    Hash::new(h.finalize().into())
}

/// Running chain hash and compact Merkle tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainState {
    chain: Hash,
    tree: CompactTree,
}

impl ChainState {
    /// The state of the empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of events absorbed.
    pub fn size(&self) -> u64 {
        self.tree.size()
    }

    /// Chain hash of the last event.
    pub fn chain(&self) -> Hash {
        self.chain
    }

    /// The head (computes the root: O(log n)).
    pub fn head(&self) -> Head {
        Head {
            size: self.tree.size(),
            chain: self.chain,
            root: self.tree.root(),
        }
    }

    /// The chain hash the next event would get, without absorbing it.
    pub fn next_chain(&self, parts: &[&[u8]]) -> Hash {
        chain_hash(&self.chain, parts)
    }

    /// Absorbs an event whose chain hash was computed with [`ChainState::next_chain`].
    pub fn push_chain(&mut self, chain: Hash) {
        self.tree.push(leaf_hash(chain.as_bytes()));
        self.chain = chain;
    }

    /// Absorbs the next event's canonical encoding (given as parts) and returns its chain hash.
    pub fn absorb(&mut self, parts: &[&[u8]]) -> Hash {
        let chain = self.next_chain(parts);
        self.push_chain(chain);
        chain
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::root_of;

    #[test]
    fn chain_and_tree_follow_the_documented_formulas() {
        let mut state = ChainState::new();
        assert_eq!(state.head().root, crate::merkle::empty_root());
        let c0 = state.absorb(&[b"{\"a\"", b"}"]);
        assert_eq!(c0, chain_hash(&Hash::default(), &[b"{\"a\"}"]));
        let c1 = state.absorb(&[b"x"]);
        let mut direct = Sha256::new();
        direct.update(c0.as_bytes());
        direct.update(b"x");
        assert_eq!(c1.as_bytes(), &<[u8; 32]>::from(direct.finalize()));
        let head = state.head();
        assert_eq!(head.size, 2);
        assert_eq!(head.chain, c1);
        assert_eq!(
            head.root,
            root_of(&[leaf_hash(c0.as_bytes()), leaf_hash(c1.as_bytes())])
        );
    }
}
