//! The secret tree and its per-leaf symmetric ratchets (RFC 9420 §9).
//!
//! The epoch's `encryption_secret` sits at the root; each node's children are
//! `ExpandWithLabel(node, "tree", "left"/"right", Nh)`. A leaf's secret seeds a handshake and an
//! application [`Ratchet`], each yielding one AES-128-GCM key and nonce per generation.
//!
//! # Security
//! Forward secrecy is by deletion: a parent secret is erased as soon as its children are
//! derived, a leaf secret as soon as its ratchets exist, a ratchet secret as soon as the next
//! one is derived, and a key as soon as it is handed out. Out-of-order delivery is allowed
//! only within [`SecretTreeConfig`]'s bounds: at most `out_of_order_tolerance` skipped keys are
//! retained per ratchet, and a message may jump at most `max_forward_distance` generations
//! ahead, so a forged generation cannot make a receiver derive millions of keys.

mod state;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use super::crypto::{
    AeadKey, CryptoError, HashSecret, NH, NK, NN, derive_tree_secret, expand_with_label,
};
use super::tree_math::{LeafIndex, TreeSize};

/// Which of a leaf's two ratchets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RatchetType {
    /// Proposals and commits.
    Handshake,
    /// Application messages.
    Application,
}

/// Bounds on out-of-order and skipped messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretTreeConfig {
    /// How many keys of skipped generations each ratchet retains (oldest evicted first).
    pub out_of_order_tolerance: usize,
    /// How far beyond the next expected generation a message may jump.
    pub max_forward_distance: u32,
}

impl Default for SecretTreeConfig {
    fn default() -> Self {
        Self {
            out_of_order_tolerance: 32,
            max_forward_distance: 1000,
        }
    }
}

/// Why a key could not be provided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretTreeError {
    /// The leaf is not in the tree.
    #[error("leaf index out of range")]
    LeafOutOfRange,
    /// The generation was already used, or is older than the retained window.
    #[error("generation already consumed or too old")]
    Consumed,
    /// The generation is further ahead than the configured maximum.
    #[error("generation too far ahead")]
    TooFarAhead,
    /// The ratchet reached the last 32-bit generation.
    #[error("ratchet exhausted")]
    Exhausted,
    /// A derivation failed.
    #[error("key derivation failed: {0}")]
    Crypto(#[from] CryptoError),
}

/// One symmetric hash ratchet (RFC 9420 §9.1).
///
/// Cloning copies the current secret (the copy is zeroized on drop too); receivers clone,
/// derive and try to decrypt, and keep the advanced clone only when decryption succeeds, so
/// forged messages cannot burn keys.
#[derive(Clone)]
pub struct Ratchet {
    secret: HashSecret,
    generation: u32,
    skipped: BTreeMap<u32, AeadKey>,
    config: SecretTreeConfig,
}

impl fmt::Debug for Ratchet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ratchet")
            .field("generation", &self.generation)
            .field("retained_keys", &self.skipped.len())
            .finish_non_exhaustive()
    }
}

impl Ratchet {
    /// A ratchet at generation 0 seeded with `secret`.
    pub fn new(secret: HashSecret, config: SecretTreeConfig) -> Self {
        Self {
            secret,
            generation: 0,
            skipped: BTreeMap::new(),
            config,
        }
    }

    /// How many keys of skipped generations are retained for late messages.
    pub fn retained_keys(&self) -> usize {
        self.skipped.len()
    }

    /// The next generation this ratchet will produce.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    fn current_key(&self) -> Result<AeadKey, CryptoError> {
        let s = self.secret.expose_secret();
        Ok(AeadKey::new(
            derive_tree_secret::<NK>(s, "key", self.generation)?,
            derive_tree_secret::<NN>(s, "nonce", self.generation)?,
        ))
    }

    /// Replaces the secret with the next one, erasing the current one.
    fn step(&mut self) -> Result<(), SecretTreeError> {
        let next_generation = self
            .generation
            .checked_add(1)
            .ok_or(SecretTreeError::Exhausted)?;
        self.secret =
            derive_tree_secret::<NH>(self.secret.expose_secret(), "secret", self.generation)?;
        self.generation = next_generation;
        Ok(())
    }

    /// The key for the next generation, for a sender; the ratchet moves past it.
    ///
    /// # Errors
    /// [`SecretTreeError::Exhausted`] after 2^32 - 1 messages.
    pub fn next_key(&mut self) -> Result<(u32, AeadKey), SecretTreeError> {
        let generation = self.generation;
        let key = self.current_key()?;
        self.step()?;
        Ok((generation, key))
    }

    /// The key for `generation`, for a receiver; it is handed out once and then forgotten.
    ///
    /// Jumping ahead retains the keys of the skipped generations (up to the tolerance).
    ///
    /// # Errors
    /// [`SecretTreeError::Consumed`] for a used or evicted generation,
    /// [`SecretTreeError::TooFarAhead`] beyond the forward bound.
    pub fn key(&mut self, generation: u32) -> Result<AeadKey, SecretTreeError> {
        if generation < self.generation {
            return self
                .skipped
                .remove(&generation)
                .ok_or(SecretTreeError::Consumed);
        }
        if generation - self.generation > self.config.max_forward_distance {
            return Err(SecretTreeError::TooFarAhead);
        }
        while self.generation < generation {
            let (skipped_generation, key) = self.next_key()?;
            self.skipped.insert(skipped_generation, key);
            while self.skipped.len() > self.config.out_of_order_tolerance {
                self.skipped.pop_first();
            }
        }
        Ok(self.next_key()?.1)
    }
}

/// A leaf's two ratchets.
#[derive(Debug, Clone)]
struct LeafRatchets {
    handshake: Ratchet,
    application: Ratchet,
}

/// The secret tree of one epoch.
///
/// Cloning copies the remaining secrets (zeroized on drop too): a group snapshots the tree
/// before processing a commit and restores it if any later check fails.
#[derive(Clone)]
pub struct SecretTree {
    size: TreeSize,
    nodes: HashMap<u32, HashSecret>,
    leaves: HashMap<u32, LeafRatchets>,
    config: SecretTreeConfig,
}

impl fmt::Debug for SecretTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretTree")
            .field("leaves", &self.size.leaves())
            .field("live_nodes", &self.nodes.len())
            .finish_non_exhaustive()
    }
}

impl SecretTree {
    /// The tree for an epoch's `encryption_secret` over `size` leaves.
    pub fn new(encryption_secret: HashSecret, size: TreeSize, config: SecretTreeConfig) -> Self {
        let mut nodes = HashMap::new();
        nodes.insert(size.root().0, encryption_secret);
        Self {
            size,
            nodes,
            leaves: HashMap::new(),
            config,
        }
    }

    /// Number of leaves.
    pub fn size(&self) -> TreeSize {
        self.size
    }

    /// The ratchet of `leaf` of the given type, deriving (and erasing) tree secrets on first use.
    ///
    /// # Errors
    /// [`SecretTreeError::LeafOutOfRange`]; [`SecretTreeError::Crypto`] (internal).
    pub fn ratchet(
        &mut self,
        leaf: LeafIndex,
        ty: RatchetType,
    ) -> Result<&mut Ratchet, SecretTreeError> {
        if !self.leaves.contains_key(&leaf.0) {
            let secret = self.take_leaf_secret(leaf)?;
            let s = secret.expose_secret();
            let ratchets = LeafRatchets {
                handshake: Ratchet::new(expand_with_label(s, "handshake", &[])?, self.config),
                application: Ratchet::new(expand_with_label(s, "application", &[])?, self.config),
            };
            self.leaves.insert(leaf.0, ratchets);
        }
        let ratchets = self
            .leaves
            .get_mut(&leaf.0)
            .ok_or(SecretTreeError::LeafOutOfRange)?;
        Ok(match ty {
            RatchetType::Handshake => &mut ratchets.handshake,
            RatchetType::Application => &mut ratchets.application,
        })
    }

    /// Replaces `leaf`'s ratchet (used to commit a clone after a successful decryption).
    ///
    /// # Errors
    /// [`SecretTreeError::LeafOutOfRange`].
    pub fn set_ratchet(
        &mut self,
        leaf: LeafIndex,
        ty: RatchetType,
        ratchet: Ratchet,
    ) -> Result<(), SecretTreeError> {
        *self.ratchet(leaf, ty)? = ratchet;
        Ok(())
    }

    /// Convenience for senders: the next key of `leaf`'s ratchet.
    ///
    /// # Errors
    /// As [`SecretTree::ratchet`] and [`Ratchet::next_key`].
    pub fn next_key(
        &mut self,
        leaf: LeafIndex,
        ty: RatchetType,
    ) -> Result<(u32, AeadKey), SecretTreeError> {
        self.ratchet(leaf, ty)?.next_key()
    }

    /// Convenience for receivers: the key of `leaf`'s ratchet at `generation`, consumed.
    ///
    /// # Errors
    /// As [`SecretTree::ratchet`] and [`Ratchet::key`].
    pub fn key(
        &mut self,
        leaf: LeafIndex,
        ty: RatchetType,
        generation: u32,
    ) -> Result<AeadKey, SecretTreeError> {
        self.ratchet(leaf, ty)?.key(generation)
    }

    /// Derives down from the lowest stored ancestor to `leaf`, erasing each parent, and takes
    /// the leaf's secret out of the tree.
    fn take_leaf_secret(&mut self, leaf: LeafIndex) -> Result<HashSecret, SecretTreeError> {
        let path = self
            .size
            .direct_path_with_leaf(leaf)
            .ok_or(SecretTreeError::LeafOutOfRange)?;
        let start = path
            .iter()
            .position(|n| self.nodes.contains_key(&n.0))
            .ok_or(SecretTreeError::Consumed)?;
        for node in path[1..=start].iter().rev() {
            let secret = self
                .nodes
                .remove(&node.0)
                .ok_or(SecretTreeError::Consumed)?;
            let (left, right) = self
                .size
                .left(*node)
                .zip(self.size.right(*node))
                .ok_or(SecretTreeError::LeafOutOfRange)?;
            let s = secret.expose_secret();
            self.nodes
                .insert(left.0, expand_with_label(s, "tree", b"left")?);
            self.nodes
                .insert(right.0, expand_with_label(s, "tree", b"right")?);
        }
        self.nodes
            .remove(&path[0].0)
            .ok_or(SecretTreeError::Consumed)
    }
}

#[cfg(test)]
mod tests {
    use rcsec_core::Secret;

    use super::*;

    fn tree(leaves: u32, config: SecretTreeConfig) -> SecretTree {
        SecretTree::new(Secret::new([7; NH]), TreeSize::new(leaves).unwrap(), config)
    }

    #[test]
    fn sender_and_receiver_agree_and_keys_are_single_use() {
        let mut sender = tree(4, SecretTreeConfig::default());
        let mut receiver = tree(4, SecretTreeConfig::default());
        let leaf = LeafIndex(2);
        let (g0, k0) = sender.next_key(leaf, RatchetType::Application).unwrap();
        let (g1, k1) = sender.next_key(leaf, RatchetType::Application).unwrap();
        assert_eq!((g0, g1), (0, 1));
        assert_ne!(k0.key(), k1.key());
        let r1 = receiver.key(leaf, RatchetType::Application, 1).unwrap();
        assert_eq!(r1.key(), k1.key());
        let r0 = receiver.key(leaf, RatchetType::Application, 0).unwrap();
        assert_eq!(r0.nonce(), k0.nonce());
        assert_eq!(
            receiver.key(leaf, RatchetType::Application, 0).unwrap_err(),
            SecretTreeError::Consumed
        );
        assert_eq!(
            receiver.key(leaf, RatchetType::Application, 1).unwrap_err(),
            SecretTreeError::Consumed
        );
        let h = receiver.key(leaf, RatchetType::Handshake, 0).unwrap();
        assert_ne!(h.key(), k0.key());
    }

    #[test]
    fn forward_jumps_and_retention_are_bounded() {
        let config = SecretTreeConfig {
            out_of_order_tolerance: 2,
            max_forward_distance: 10,
        };
        let mut t = tree(2, config);
        let leaf = LeafIndex(0);
        assert_eq!(
            t.key(leaf, RatchetType::Application, 11).unwrap_err(),
            SecretTreeError::TooFarAhead
        );
        t.key(leaf, RatchetType::Application, 10).unwrap();
        assert_eq!(
            t.ratchet(leaf, RatchetType::Application)
                .unwrap()
                .retained_keys(),
            2
        );
        t.key(leaf, RatchetType::Application, 9).unwrap();
        assert_eq!(
            t.key(leaf, RatchetType::Application, 7).unwrap_err(),
            SecretTreeError::Consumed
        );
        assert_eq!(
            t.key(LeafIndex(2), RatchetType::Application, 0)
                .unwrap_err(),
            SecretTreeError::LeafOutOfRange
        );
    }

    #[test]
    fn parents_are_erased_once_children_exist() {
        let mut t = tree(8, SecretTreeConfig::default());
        t.next_key(LeafIndex(0), RatchetType::Handshake).unwrap();
        // Root, then nodes 3 and 1 were split; their secrets are gone. What remains are the
        // right siblings along the path: 11, 5 and 2 (leaf 1).
        let mut live: Vec<u32> = t.nodes.keys().copied().collect();
        live.sort_unstable();
        assert_eq!(live, [2, 5, 11]);
        assert!(!format!("{t:?}").contains("07"));
    }
}
