//! The hash chain and the Merkle tree over it, as one running state.
//!
//! Event `i` has chain hash `c_i = SHA-256(c_{i-1} || canonical_i)` with `c_{-1}` = 32 zero
//! bytes, and Merkle leaf `i` is `SHA-256(0x00 || c_i)`. The chain makes every event depend
//! on all before it (so a change shows at the first changed index); the tree gives compact
//! inclusion and consistency proofs and the root that checkpoints sign.

use ed25519_dalek::VerifyingKey;
#[cfg(test)]
use sha2::{Digest as _, Sha256};

use crate::checkpoint::Checkpoint;
use crate::merkle::{CompactTree, FrontierError, Hash, leaf_hash};
use crate::verify::VerifyFailure;

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
    let mut h = crate::sha256::Sha256::new();
    h.update(prev.as_bytes());
    for part in parts {
        h.update(part);
    }
    Hash::new(h.finish())
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

    /// A state resumed from stored parts: the log's size, the chain hash of its last event and
    /// the Merkle frontier ([`ChainState::frontier`]).
    ///
    /// This lets a sink continue a stored log without re-verifying all of it. The parts are
    /// trusted as given: check [`ChainState::head`] against a signed, verified checkpoint
    /// (same size, root and chain) before appending to it, and verify the events after it.
    ///
    /// # Errors
    /// [`FrontierError`] when the frontier does not have one hash per set bit of `size`.
    pub fn from_parts(size: u64, chain: Hash, frontier: Vec<Hash>) -> Result<Self, FrontierError> {
        Ok(Self {
            chain,
            tree: CompactTree::from_frontier(size, frontier)?,
        })
    }

    /// The Merkle frontier (see [`CompactTree::frontier`]): with [`ChainState::size`] and
    /// [`ChainState::chain`], everything [`ChainState::from_parts`] needs.
    pub fn frontier(&self) -> &[Hash] {
        self.tree.frontier()
    }

    /// The frontier as stored bytes: its hashes concatenated, 32 bytes each.
    pub fn frontier_bytes(&self) -> Vec<u8> {
        self.frontier()
            .iter()
            .flat_map(Hash::as_bytes)
            .copied()
            .collect()
    }

    /// Resumes a stored log at a signed checkpoint, from the frontier stored beside it
    /// ([`ChainState::frontier_bytes`] at the checkpoint's size), without reading the events
    /// it covers.
    ///
    /// Checks the signature (by `pinned`: a checkpoint signed by a key found in storage would
    /// prove nothing) and that the frontier's root and the chain are the signed ones, so the
    /// result is exactly the state a full verification would have reached.
    ///
    /// # Errors
    /// [`VerifyFailure::Checkpoint`] for a bad signature or another key,
    /// [`VerifyFailure::RootMismatch`] when the frontier does not have the signed root.
    pub fn resume(
        checkpoint: &Checkpoint,
        pinned: &VerifyingKey,
        frontier: &[u8],
    ) -> Result<Self, VerifyFailure> {
        checkpoint
            .verify(Some(pinned))
            .map_err(VerifyFailure::Checkpoint)?;
        let chunks = frontier.chunks_exact(32);
        if !chunks.remainder().is_empty() {
            return Err(VerifyFailure::RootMismatch);
        }
        let hashes = chunks.filter_map(Hash::from_slice).collect();
        let state = Self::from_parts(checkpoint.size(), checkpoint.chain(), hashes)
            .map_err(|_| VerifyFailure::RootMismatch)?;
        if state.head().root != checkpoint.root() {
            return Err(VerifyFailure::RootMismatch);
        }
        Ok(state)
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

    #[test]
    fn a_state_resumed_from_its_parts_continues_identically() {
        let mut state = ChainState::new();
        for i in 0u8..11 {
            state.absorb(&[&[i]]);
        }
        let mut resumed =
            ChainState::from_parts(state.size(), state.chain(), state.frontier().to_vec()).unwrap();
        assert_eq!(resumed, state);
        for i in 11u8..20 {
            assert_eq!(resumed.absorb(&[&[i]]), state.absorb(&[&[i]]));
        }
        assert_eq!(resumed.head(), state.head());
        assert!(ChainState::from_parts(4, state.chain(), state.frontier().to_vec()).is_err());
    }

    #[test]
    fn resume_checks_signature_key_and_frontier() {
        use crate::checkpoint::CheckpointSigner;
        use rcsec_core::{Secret, Timestamp};
        let mut state = ChainState::new();
        for i in 0u8..13 {
            state.absorb(&[&[i]]);
        }
        let signer = CheckpointSigner::from_seed("log", &Secret::new([4; 32])).unwrap();
        let other = CheckpointSigner::from_seed("log", &Secret::new([5; 32])).unwrap();
        let cp = signer.sign(&state.head(), Timestamp::from_secs(1));
        let key = signer.verifying_key();
        let bytes = state.frontier_bytes();
        assert_eq!(bytes.len(), 32 * 3);
        assert_eq!(ChainState::resume(&cp, &key, &bytes), Ok(state.clone()));
        assert!(matches!(
            ChainState::resume(&cp, &other.verifying_key(), &bytes),
            Err(VerifyFailure::Checkpoint(_))
        ));
        let mut flipped = bytes.clone();
        flipped[40] ^= 1;
        assert_eq!(
            ChainState::resume(&cp, &key, &flipped),
            Err(VerifyFailure::RootMismatch)
        );
        assert_eq!(
            ChainState::resume(&cp, &key, &bytes[..64]),
            Err(VerifyFailure::RootMismatch)
        );
        assert_eq!(
            ChainState::resume(&cp, &key, &bytes[..70]),
            Err(VerifyFailure::RootMismatch)
        );
    }
}
