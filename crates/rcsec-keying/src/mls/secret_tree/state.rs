//! Persisting a [`SecretTree`] mid-epoch, so a group state can be stored and reloaded.
//!
//! Only what the tree still holds is written: the unsplit node secrets, each used leaf's two
//! ratchets at their current generation and the retained keys of skipped generations. Nothing
//! already erased can come back, so a stored state keeps the forward secrecy of the live one.
//! The bytes are secret; callers keep them in a zeroizing buffer.

use std::collections::{BTreeMap, HashMap};

use rcsec_core::Secret;

use super::{LeafRatchets, Ratchet, SecretTree, SecretTreeConfig};
use crate::mls::codec::{CodecError, Reader};
use crate::mls::crypto::{AeadKey, NH, NK, NN};
use crate::mls::tree_math::{NodeIndex, TreeSize};

fn put_u32(out: &mut Vec<u8>, value: usize) -> Result<(), CodecError> {
    let value = u32::try_from(value).map_err(|_| CodecError::LengthOverLimit)?;
    out.extend_from_slice(&value.to_be_bytes());
    Ok(())
}

fn count(r: &mut Reader<'_>, limit: usize) -> Result<usize, CodecError> {
    let n = usize::try_from(r.u32()?).map_err(|_| CodecError::LengthOverLimit)?;
    if n > limit {
        return Err(CodecError::LengthOverLimit);
    }
    Ok(n)
}

impl Ratchet {
    fn write_state(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&self.generation.to_be_bytes());
        out.extend_from_slice(self.secret.expose_secret());
        put_u32(out, self.skipped.len())?;
        for (generation, key) in &self.skipped {
            out.extend_from_slice(&generation.to_be_bytes());
            out.extend_from_slice(key.key());
            out.extend_from_slice(key.nonce());
        }
        Ok(())
    }

    fn read_state(r: &mut Reader<'_>, config: SecretTreeConfig) -> Result<Self, CodecError> {
        let generation = r.u32()?;
        let secret = Secret::new(r.array::<NH>()?);
        // A stored state may have been written under a larger tolerance; keep the newest.
        let n = count(r, r.remaining().len() / (4 + NK + NN))?;
        let mut skipped = BTreeMap::new();
        for _ in 0..n {
            let skipped_generation = r.u32()?;
            if skipped_generation >= generation {
                return Err(CodecError::Invalid("skipped generation"));
            }
            let key = AeadKey::new(Secret::new(r.array::<NK>()?), Secret::new(r.array::<NN>()?));
            skipped.insert(skipped_generation, key);
        }
        while skipped.len() > config.out_of_order_tolerance {
            skipped.pop_first();
        }
        Ok(Self {
            secret,
            generation,
            skipped,
            config,
        })
    }
}

impl SecretTree {
    /// Appends the tree's remaining secrets and ratchet states to `out`.
    ///
    /// # Errors
    /// [`CodecError::LengthOverLimit`] (cannot happen for trees within `u32` bounds).
    pub fn write_state(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        put_u32(out, self.size.leaves() as usize)?;
        let mut nodes: Vec<_> = self.nodes.iter().collect();
        nodes.sort_unstable_by_key(|(index, _)| **index);
        put_u32(out, nodes.len())?;
        for (index, secret) in nodes {
            out.extend_from_slice(&index.to_be_bytes());
            out.extend_from_slice(secret.expose_secret());
        }
        let mut leaves: Vec<_> = self.leaves.iter().collect();
        leaves.sort_unstable_by_key(|(index, _)| **index);
        put_u32(out, leaves.len())?;
        for (index, ratchets) in leaves {
            out.extend_from_slice(&index.to_be_bytes());
            ratchets.handshake.write_state(out)?;
            ratchets.application.write_state(out)?;
        }
        Ok(())
    }

    /// Reads a tree written by [`SecretTree::write_state`]; `config` bounds the ratchets from
    /// now on (retained keys beyond its tolerance are dropped, oldest first).
    ///
    /// # Errors
    /// [`CodecError`] for truncated input, an empty tree, or node and leaf indices outside
    /// the tree.
    pub fn read_state(r: &mut Reader<'_>, config: SecretTreeConfig) -> Result<Self, CodecError> {
        let size = TreeSize::new(r.u32()?).ok_or(CodecError::Invalid("secret tree size"))?;
        let n = count(r, r.remaining().len() / (4 + NH))?;
        let mut nodes = HashMap::with_capacity(n);
        for _ in 0..n {
            let index = r.u32()?;
            if !size.contains(NodeIndex(index)) {
                return Err(CodecError::Invalid("secret tree node"));
            }
            nodes.insert(index, Secret::new(r.array::<NH>()?));
        }
        let n = count(r, r.remaining().len() / (4 + 2 * (8 + NH)))?;
        let mut leaves = HashMap::with_capacity(n);
        for _ in 0..n {
            let index = r.u32()?;
            if index >= size.leaves() {
                return Err(CodecError::Invalid("secret tree leaf"));
            }
            let handshake = Ratchet::read_state(r, config)?;
            let application = Ratchet::read_state(r, config)?;
            leaves.insert(
                index,
                LeafRatchets {
                    handshake,
                    application,
                },
            );
        }
        Ok(Self {
            size,
            nodes,
            leaves,
            config,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;
    use crate::mls::secret_tree::RatchetType;
    use crate::mls::tree_math::LeafIndex;

    fn roundtrip(tree: &SecretTree) -> SecretTree {
        let mut out = Vec::new();
        tree.write_state(&mut out).unwrap();
        let mut r = Reader::new(&out);
        let back = SecretTree::read_state(&mut r, tree.config).unwrap();
        r.finish().unwrap();
        back
    }

    #[test]
    fn a_reloaded_tree_continues_where_it_stopped() {
        let config = SecretTreeConfig::default();
        let size = TreeSize::new(5).unwrap();
        let mut sender = SecretTree::new(Secret::new([9; NH]), size, config);
        let mut receiver = SecretTree::new(Secret::new([9; NH]), size, config);
        let leaf = LeafIndex(3);
        let keys: Vec<_> = (0..4)
            .map(|_| sender.next_key(leaf, RatchetType::Application).unwrap())
            .collect();
        // Generation 3 first: 0..=2 are retained as skipped keys.
        let k3 = receiver.key(leaf, RatchetType::Application, 3).unwrap();
        assert_eq!(k3.key(), keys[3].1.key());
        let mut sender = roundtrip(&sender);
        let mut receiver = roundtrip(&receiver);
        let k1 = receiver.key(leaf, RatchetType::Application, 1).unwrap();
        assert_eq!(k1.nonce(), keys[1].1.nonce());
        assert!(receiver.key(leaf, RatchetType::Application, 3).is_err());
        let (g4, k4) = sender.next_key(leaf, RatchetType::Application).unwrap();
        assert_eq!(g4, 4);
        assert_eq!(
            receiver
                .key(leaf, RatchetType::Application, 4)
                .unwrap()
                .key(),
            k4.key()
        );
        // Untouched leaves still derive from the stored node secrets.
        let (_, h) = sender
            .next_key(LeafIndex(0), RatchetType::Handshake)
            .unwrap();
        assert_eq!(
            receiver
                .key(LeafIndex(0), RatchetType::Handshake, 0)
                .unwrap()
                .key(),
            h.key()
        );
    }

    #[test]
    fn malformed_states_are_typed_errors() {
        let tree = SecretTree::new(
            Secret::new([1; NH]),
            TreeSize::new(2).unwrap(),
            SecretTreeConfig::default(),
        );
        let mut out = Vec::new();
        tree.write_state(&mut out).unwrap();
        for cut in 0..out.len() {
            let mut r = Reader::new(&out[..cut]);
            assert!(SecretTree::read_state(&mut r, tree.config).is_err());
        }
        let mut bad = out.clone();
        bad[..4].copy_from_slice(&0u32.to_be_bytes());
        assert!(SecretTree::read_state(&mut Reader::new(&bad), tree.config).is_err());
        let mut bad = out;
        bad[8..12].copy_from_slice(&99u32.to_be_bytes());
        assert!(SecretTree::read_state(&mut Reader::new(&bad), tree.config).is_err());
    }
}
