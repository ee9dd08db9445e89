//! The property behind the `mls_framing_decode` fuzz target (not a stable API).

use super::codec::{Decode, Encode};
use super::crypto::{NH, SignatureSecretKey};
use super::framing::{MlsMessage, PrivateMessage, PublicMessage};
use super::group_context::GroupContext;
use super::secret_tree::{SecretTree, SecretTreeConfig};
use super::tree_math::TreeSize;
use rcsec_core::Secret;

/// Decodes `data` as an `MLSMessage`, a bare `PrivateMessage` and a bare `PublicMessage`.
///
/// Never panics on any input; whatever decodes re-encodes to exactly `data` (the codec is
/// canonical); decoded Private- and PublicMessages go through `unprotect` with fixed keys,
/// which must fail cleanly (or succeed) without panicking.
///
/// # Panics
/// When the property fails: that is the bug the fuzzer is looking for.
pub fn mls_framing_decode(data: &[u8]) {
    if let Ok(msg) = MlsMessage::from_bytes(data) {
        assert_eq!(
            msg.to_bytes().ok().as_deref(),
            Some(data),
            "MLSMessage re-encoding"
        );
        match &msg {
            MlsMessage::Private(m) => unprotect_private(m),
            MlsMessage::Public(m) => unprotect_public(m),
            _ => {}
        }
    }
    if let Ok(m) = PrivateMessage::from_bytes(data) {
        assert_eq!(
            m.to_bytes().ok().as_deref(),
            Some(data),
            "PrivateMessage re-encoding"
        );
        unprotect_private(&m);
    }
    if let Ok(m) = PublicMessage::from_bytes(data) {
        assert_eq!(
            m.to_bytes().ok().as_deref(),
            Some(data),
            "PublicMessage re-encoding"
        );
        unprotect_public(&m);
    }
}

/// A context matching the message's own group and epoch, so the cryptographic checks run.
fn context_for(group_id: &[u8], epoch: u64) -> GroupContext {
    GroupContext::new(group_id.to_vec(), epoch, vec![0; NH], vec![0; NH])
}

fn unprotect_private(m: &PrivateMessage) {
    let gc = context_for(&m.group_id, m.epoch);
    let Some(size) = TreeSize::new(4) else { return };
    let mut tree = SecretTree::new(Secret::new([1; NH]), size, SecretTreeConfig::default());
    let _ = m.unprotect(&gc, &[2; NH], &mut tree, |_| None);
}

fn unprotect_public(m: &PublicMessage) {
    let gc = context_for(&m.content.group_id, m.content.epoch);
    let Ok(key) = SignatureSecretKey::from_seed(&[3; 32]) else {
        return;
    };
    let _ = m.unprotect(&gc, &[4; NH], &key.public_key());
}

/// Decodes `data` as a ratchet tree (`optional<Node> ratchet_tree<V>`).
///
/// Never panics on any input; a tree that decodes re-encodes to exactly `data`; hashing,
/// resolutions, filtered direct paths and the full validation (parent hashes, leaf
/// signatures) run to a result without panicking.
///
/// # Panics
/// When the property fails: that is the bug the fuzzer is looking for.
pub fn mls_tree_decode(data: &[u8]) {
    use super::tree::RatchetTree;
    use super::tree_math::{LeafIndex, NodeIndex};
    let Ok(tree) = RatchetTree::from_bytes(data) else {
        return;
    };
    assert_eq!(
        tree.to_bytes().ok().as_deref(),
        Some(data),
        "ratchet tree re-encoding"
    );
    let hash = tree.tree_hash();
    for i in 0..tree.size().width() {
        let _ = tree.resolution(NodeIndex(i));
    }
    for leaf in 0..tree.leaf_count() {
        let _ = tree.filtered_direct_path(LeafIndex(leaf));
    }
    if let Ok(hash) = hash {
        let _ = tree.validate(b"fuzz", &hash);
    }
    let _ = tree.verify_parent_hashes();
}
