//! TreeKEM (RFC 9420 §7.4–§7.6): a committer refreshes every key on its path with one fresh
//! secret and encrypts each step to the resolution of the copath, so a commit costs
//! `O(log n)` HPKE operations instead of one per member.
//!
//! ```text
//! path_secret[0]   = DeriveSecret(leaf_secret, "path")   (leaf key from DeriveSecret(leaf_secret, "node"))
//! path_secret[i+1] = DeriveSecret(path_secret[i], "path")
//! node key pair i  = DeriveKeyPair(DeriveSecret(path_secret[i], "node"))
//! commit_secret    = DeriveSecret(path_secret[last], "path")
//! ```
//!
//! The committer calls [`prepare_update_path`] (which merges the new keys and parent hashes
//! into its tree and signs its new leaf), builds the provisional GroupContext from the new
//! tree hash, then [`PreparedPath::encrypt`]. A receiver calls [`merge_update_path`] (which
//! checks the path's shape, leaf signature and parent hash), builds the same GroupContext and
//! calls [`PathKeys::decrypt_update_path`] to learn the commit secret.
//!
//! # Security
//! Path secrets, node private keys and the commit secret live in zeroizing wrappers and
//! never appear in `Debug`. A receiver checks every derived public key against the path
//! before trusting the commit secret, so a committer cannot give members different secrets
//! for the same public path. Decryption failures are opaque.

use std::collections::BTreeMap;
use std::fmt;

use rcsec_core::Secret;

use super::codec::{CodecError, Encode};
use super::crypto::{
    CryptoError, HashSecret, HpkePublicKey, HpkeSecretKey, NH, SignatureSecretKey,
    decrypt_with_label, derive_secret, encrypt_with_label, hash_secret,
};
use super::framing::{UpdatePath, UpdatePathNode};
use super::group_context::GroupContext;
use super::key_package::{LeafNode, LeafNodeSource};
use super::tree::{
    LeafError, LeafNodeContext, LeafSourceKind, ParentNode, RatchetTree, TreeError, is_below,
    parent_hash,
};
use super::tree_math::{LeafIndex, NodeIndex};

/// Why an UpdatePath could not be created, merged or decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TreeKemError {
    /// The tree rejected an operation.
    #[error("{0}")]
    Tree(#[from] TreeError),
    /// A primitive failed (opaque; includes HPKE decryption failures).
    #[error("{0}")]
    Crypto(#[from] CryptoError),
    /// A structure could not be encoded.
    #[error("{0}")]
    Codec(#[from] CodecError),
    /// The committer is not a member.
    #[error("committer is not a member")]
    UnknownSender,
    /// The path has the wrong number of nodes or ciphertexts for the tree.
    #[error("update path does not match the tree")]
    PathShape,
    /// The new leaf is invalid (signature, source or keys).
    #[error("update path leaf: {0}")]
    Leaf(LeafError),
    /// The new leaf's parent hash does not match the path.
    #[error("update path is not parent-hash valid")]
    ParentHash,
    /// This member holds no private key for any node the path secret was encrypted to.
    #[error("no private key to decrypt the update path")]
    NoKey,
    /// A decrypted path secret derives a key other than the one the path announces.
    #[error("path secret does not match the path's public keys")]
    KeyMismatch,
    /// The receiver is the committer (it already knows the commit secret).
    #[error("cannot process an update path from oneself")]
    OwnPath,
}

/// One step of the path-secret chain.
pub struct PathSecret(HashSecret);

impl fmt::Debug for PathSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PathSecret(..)")
    }
}

impl PathSecret {
    /// A fresh random leaf secret.
    ///
    /// # Errors
    /// [`CryptoError::Random`].
    pub fn random() -> Result<Self, CryptoError> {
        let mut s = Secret::new([0u8; NH]);
        getrandom::fill(s.expose_secret_mut()).map_err(|_| CryptoError::Random)?;
        Ok(Self(s))
    }

    /// A path secret received in `GroupSecrets` or a vector.
    ///
    /// # Errors
    /// [`CryptoError::InvalidLength`] unless 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        hash_secret(bytes).map(Self)
    }

    /// The secret bytes. Do not log or store.
    pub fn expose_secret(&self) -> &[u8; NH] {
        self.0.expose_secret()
    }

    /// `DeriveSecret(path_secret, "path")`: the next secret up the path.
    ///
    /// # Errors
    /// [`CryptoError`] (internal).
    pub fn next(&self) -> Result<Self, CryptoError> {
        derive_secret(self.expose_secret(), "path").map(Self)
    }

    /// `DeriveKeyPair(DeriveSecret(path_secret, "node"))`: the node's key pair.
    ///
    /// # Errors
    /// [`CryptoError`] (internal).
    pub fn key_pair(&self) -> Result<(HpkeSecretKey, HpkePublicKey), CryptoError> {
        let node = derive_secret(self.expose_secret(), "node")?;
        Ok(crate::hpke::derive_key_pair(node.expose_secret())?)
    }
}

/// The secret a commit with a path feeds to the key schedule.
pub struct CommitSecret(HashSecret);

impl fmt::Debug for CommitSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CommitSecret(..)")
    }
}

impl CommitSecret {
    /// All zeros: the commit secret of a commit without a path.
    pub fn zero() -> Self {
        Self(Secret::new([0u8; NH]))
    }

    /// The secret bytes. Do not log or store.
    pub fn expose_secret(&self) -> &[u8; NH] {
        self.0.expose_secret()
    }
}

/// The HPKE private keys one member holds in the tree: its leaf's and those of the parent
/// nodes on its direct path it learned path secrets for.
///
/// A key is only used while the tree still shows its public key, so keys of nodes that were
/// blanked or replaced since are never tried.
#[derive(Clone)]
pub struct PathKeys {
    own_leaf: LeafIndex,
    keys: BTreeMap<NodeIndex, HpkeSecretKey>,
}

impl fmt::Debug for PathKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PathKeys")
            .field("own_leaf", &self.own_leaf)
            .field("nodes", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl PathKeys {
    /// A member at `own_leaf` holding its leaf's private key.
    pub fn new(own_leaf: LeafIndex, leaf_key: HpkeSecretKey) -> Self {
        let mut keys = BTreeMap::new();
        if let Some(node) = own_leaf.node() {
            keys.insert(node, leaf_key);
        }
        Self { own_leaf, keys }
    }

    /// Adds the private key of a node (e.g. restored from storage or derived by the caller).
    pub fn insert(&mut self, node: NodeIndex, key: HpkeSecretKey) {
        self.keys.insert(node, key);
    }

    /// Every held key by node, for a stored member state.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (NodeIndex, &HpkeSecretKey)> {
        self.keys.iter().map(|(n, k)| (*n, k))
    }

    /// A holder of no key at all (a removed member's).
    pub(crate) fn none(own_leaf: LeafIndex) -> Self {
        Self {
            own_leaf,
            keys: BTreeMap::new(),
        }
    }

    /// The member's leaf.
    pub fn own_leaf(&self) -> LeafIndex {
        self.own_leaf
    }

    /// The private key for `node`, if held and still matching the tree.
    pub fn key_for(&self, tree: &RatchetTree, node: NodeIndex) -> Option<&HpkeSecretKey> {
        let key = self.keys.get(&node)?;
        let public = tree.node(node)?.encryption_key();
        (key.public_key().as_bytes().as_slice() == public).then_some(key)
    }

    /// Installs the keys derived from `path_secret` at `start` and on up the filtered direct
    /// path of `committer` (a joiner's path secret from a Welcome, or a decrypted one),
    /// checking each against the tree. Returns the commit secret the chain ends in.
    ///
    /// # Errors
    /// [`TreeKemError::KeyMismatch`] when a derived key is not the tree's;
    /// [`TreeKemError::PathShape`] when `start` is not on that path.
    pub fn install_path_secret(
        &mut self,
        tree: &RatchetTree,
        committer: LeafIndex,
        start: NodeIndex,
        path_secret: PathSecret,
    ) -> Result<CommitSecret, TreeKemError> {
        let fdp = tree.filtered_direct_path(committer);
        let from = fdp
            .iter()
            .position(|(p, _)| *p == start)
            .ok_or(TreeKemError::PathShape)?;
        let mut secret = path_secret;
        let mut derived = Vec::new();
        for (k, (node, _)) in fdp.iter().enumerate().skip(from) {
            if k > from {
                secret = secret.next()?;
            }
            let (private, public) = secret.key_pair()?;
            let announced = tree
                .node(*node)
                .map(super::tree::Node::encryption_key)
                .ok_or(TreeKemError::KeyMismatch)?;
            if public.as_bytes().as_slice() != announced {
                return Err(TreeKemError::KeyMismatch);
            }
            derived.push((*node, private));
        }
        let commit_secret = CommitSecret(secret.next()?.0);
        self.keys.extend(derived);
        Ok(commit_secret)
    }

    /// Decrypts the path secret addressed to this member in an UpdatePath already merged
    /// into `tree` by [`merge_update_path`], derives the rest of the path, checks every
    /// derived key against the tree and returns the commit secret.
    ///
    /// `context` is the provisional GroupContext (new epoch, new tree hash) the committer
    /// encrypted to; `excluded` are the leaves the same commit added (they get the path secret
    /// through the Welcome instead).
    ///
    /// # Errors
    /// [`TreeKemError::OwnPath`], [`TreeKemError::PathShape`], [`TreeKemError::NoKey`],
    /// [`TreeKemError::Crypto`] (decryption), [`TreeKemError::KeyMismatch`].
    pub fn decrypt_update_path(
        &mut self,
        tree: &RatchetTree,
        committer: LeafIndex,
        path: &UpdatePath,
        context: &GroupContext,
        excluded: &[LeafIndex],
    ) -> Result<CommitSecret, TreeKemError> {
        if committer == self.own_leaf {
            return Err(TreeKemError::OwnPath);
        }
        let me = self.own_leaf.node().ok_or(TreeKemError::NoKey)?;
        let fdp = tree.filtered_direct_path(committer);
        if fdp.len() != path.nodes.len() {
            return Err(TreeKemError::PathShape);
        }
        let (i, (node, copath)) = fdp
            .iter()
            .enumerate()
            .find(|(_, (_, copath))| is_below(me, *copath))
            .ok_or(TreeKemError::NoKey)?;
        let resolution = resolution_excluding(tree, *copath, excluded);
        let ciphertexts = &path
            .nodes
            .get(i)
            .ok_or(TreeKemError::PathShape)?
            .encrypted_path_secret;
        if ciphertexts.len() != resolution.len() {
            return Err(TreeKemError::PathShape);
        }
        let (position, key) = resolution
            .iter()
            .enumerate()
            .find_map(|(k, n)| self.key_for(tree, *n).map(|key| (k, key)))
            .ok_or(TreeKemError::NoKey)?;
        let ciphertext = ciphertexts.get(position).ok_or(TreeKemError::PathShape)?;
        let plain = decrypt_with_label(key, "UpdatePathNode", &context.to_bytes()?, ciphertext)?;
        let secret = PathSecret::from_bytes(plain.expose_secret())?;
        // Keys of the committer's old path are dead: the merge replaced or blanked them.
        for n in tree.direct_path(committer) {
            self.keys.remove(&n);
        }
        self.install_path_secret(tree, committer, *node, secret)
    }

    /// Drops every key for nodes the tree no longer shows with the same public key.
    pub fn prune(&mut self, tree: &RatchetTree) {
        let stale: Vec<NodeIndex> = self
            .keys
            .keys()
            .copied()
            .filter(|n| self.key_for(tree, *n).is_none())
            .collect();
        for n in stale {
            self.keys.remove(&n);
        }
    }
}

/// The resolution of `node` without the leaves in `excluded`.
fn resolution_excluding(
    tree: &RatchetTree,
    node: NodeIndex,
    excluded: &[LeafIndex],
) -> Vec<NodeIndex> {
    tree.resolution(node)
        .into_iter()
        .filter(|n| !n.leaf().is_some_and(|l| excluded.contains(&l)))
        .collect()
}

/// Blanks the committer's direct path, installs `keys` on its filtered direct path with the
/// parent hashes chained top-down (§7.9), and returns the parent hash its leaf must carry.
fn install_path_nodes(
    tree: &mut RatchetTree,
    committer: LeafIndex,
    fdp: &[(NodeIndex, NodeIndex)],
    keys: &[Vec<u8>],
) -> Result<Vec<u8>, TreeKemError> {
    tree.blank_direct_path(committer);
    let mut above: Vec<u8> = Vec::new();
    for ((node, copath), key) in fdp.iter().zip(keys).rev() {
        let parent = ParentNode {
            encryption_key: key.clone(),
            parent_hash: above,
            unmerged_leaves: Vec::new(),
        };
        // What the node below must carry: this node's hash seen from the path side.
        let sibling_hash = tree.subtree_hash(*copath, &[])?;
        above = parent_hash(&parent, &sibling_hash)?.to_vec();
        tree.set_parent(*node, parent);
    }
    Ok(above)
}

/// Merges a received UpdatePath into `tree` (§7.5, §12.4.2): checks its shape, blanks the
/// committer's direct path, installs the new keys with parent hashes, checks that the new
/// leaf is a valid Commit leaf of `group_id` whose parent hash matches, and replaces the
/// committer's leaf. On error the tree is left unchanged.
///
/// # Errors
/// [`TreeKemError::UnknownSender`], [`TreeKemError::PathShape`], [`TreeKemError::Leaf`],
/// [`TreeKemError::ParentHash`].
pub fn merge_update_path(
    tree: &mut RatchetTree,
    committer: LeafIndex,
    path: &UpdatePath,
    group_id: &[u8],
) -> Result<(), TreeKemError> {
    tree.leaf(committer).ok_or(TreeKemError::UnknownSender)?;
    let fdp = tree.filtered_direct_path(committer);
    if fdp.len() != path.nodes.len() {
        return Err(TreeKemError::PathShape);
    }
    for node in &path.nodes {
        HpkePublicKey::from_bytes(&node.encryption_key).map_err(|_| TreeKemError::PathShape)?;
    }
    let context = LeafNodeContext {
        group_id,
        leaf_index: committer,
    };
    path.leaf_node
        .validate(LeafSourceKind::Commit, Some(context), None)
        .map_err(TreeKemError::Leaf)?;
    let mut merged = tree.clone();
    let keys: Vec<Vec<u8>> = path
        .nodes
        .iter()
        .map(|n| n.encryption_key.clone())
        .collect();
    let expected = install_path_nodes(&mut merged, committer, &fdp, &keys)?;
    match &path.leaf_node.source {
        LeafNodeSource::Commit { parent_hash } if *parent_hash == expected => {}
        _ => return Err(TreeKemError::ParentHash),
    }
    merged.set_leaf(committer, path.leaf_node.clone())?;
    *tree = merged;
    Ok(())
}

/// A committer's new path, merged into its tree but not yet encrypted (the encryption
/// context needs the new tree hash).
pub struct PreparedPath {
    committer: LeafIndex,
    leaf: LeafNode,
    fdp: Vec<(NodeIndex, NodeIndex)>,
    secrets: Vec<PathSecret>,
    keys: Vec<Vec<u8>>,
    commit_secret: CommitSecret,
    private: Vec<(NodeIndex, HpkeSecretKey)>,
}

impl fmt::Debug for PreparedPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedPath")
            .field("committer", &self.committer)
            .field("path_len", &self.fdp.len())
            .finish_non_exhaustive()
    }
}

/// Creates a fresh path for `committer` (§7.4): draws a leaf secret, derives the path
/// secrets and key pairs of its filtered direct path, merges them into `tree` with parent
/// hashes, and installs `leaf` (the committer's leaf with its new encryption key, source
/// `Commit` with the parent hash, signed with `signer` for `group_id`).
///
/// `leaf` supplies the identity fields (credential, capabilities, extensions, signature
/// key); its encryption key, source and signature are replaced.
///
/// # Errors
/// [`TreeKemError::UnknownSender`], [`TreeKemError::Crypto`], [`TreeKemError::Leaf`].
pub fn prepare_update_path(
    tree: &mut RatchetTree,
    committer: LeafIndex,
    mut leaf: LeafNode,
    signer: &SignatureSecretKey,
    group_id: &[u8],
) -> Result<PreparedPath, TreeKemError> {
    tree.leaf(committer).ok_or(TreeKemError::UnknownSender)?;
    let fdp = tree.filtered_direct_path(committer);
    let leaf_secret = PathSecret::random()?;
    let (leaf_private, leaf_public) = leaf_secret.key_pair()?;
    let mut secrets = Vec::with_capacity(fdp.len());
    let mut keys = Vec::with_capacity(fdp.len());
    let mut private = Vec::with_capacity(fdp.len() + 1);
    let mut current = leaf_secret;
    for (node, _) in &fdp {
        current = current.next()?;
        let (sk, pk) = current.key_pair()?;
        keys.push(pk.as_bytes().to_vec());
        private.push((*node, sk));
        secrets.push(PathSecret(current.0.clone()));
    }
    let commit_secret = CommitSecret(current.next()?.0);
    let mut merged = tree.clone();
    let parent_hash = install_path_nodes(&mut merged, committer, &fdp, &keys)?;
    leaf.encryption_key = leaf_public.as_bytes().to_vec();
    leaf.source = LeafNodeSource::Commit { parent_hash };
    leaf.sign(
        signer,
        Some(LeafNodeContext {
            group_id,
            leaf_index: committer,
        }),
    )
    .map_err(TreeKemError::Leaf)?;
    merged.set_leaf(committer, leaf.clone())?;
    *tree = merged;
    if let Some(n) = committer.node() {
        private.push((n, leaf_private));
    }
    Ok(PreparedPath {
        committer,
        leaf,
        fdp,
        secrets,
        keys,
        commit_secret,
        private,
    })
}

impl PreparedPath {
    /// The path secret a member added by this commit needs in its Welcome: the one at the
    /// lowest filtered-direct-path node above `joiner`, with that node's index.
    pub fn path_secret_for(&self, joiner: LeafIndex) -> Option<(NodeIndex, &PathSecret)> {
        let node = joiner.node()?;
        self.fdp
            .iter()
            .zip(&self.secrets)
            .find(|((_, copath), _)| is_below(node, *copath))
            .map(|((p, _), s)| (*p, s))
    }

    /// Encrypts each path secret to the resolution of its copath child in `tree` (the tree
    /// [`prepare_update_path`] merged into, with this commit's proposals applied), leaving out
    /// the `excluded` new members, under `context` (the provisional GroupContext). Returns the
    /// UpdatePath, the commit secret and the committer's new private keys (replacing those
    /// in `keys`).
    ///
    /// # Errors
    /// [`TreeKemError::Crypto`] for a recipient key that does not encrypt.
    pub fn encrypt(
        self,
        tree: &RatchetTree,
        context: &GroupContext,
        excluded: &[LeafIndex],
        keys: &mut PathKeys,
    ) -> Result<(UpdatePath, CommitSecret), TreeKemError> {
        let context_bytes = context.to_bytes()?;
        let mut nodes = Vec::with_capacity(self.fdp.len());
        for (((_, copath), secret), key) in self.fdp.iter().zip(&self.secrets).zip(&self.keys) {
            let mut encrypted_path_secret = Vec::new();
            for n in resolution_excluding(tree, *copath, excluded) {
                let public = tree
                    .node(n)
                    .map(super::tree::Node::encryption_key)
                    .ok_or(TreeKemError::PathShape)?;
                let public = HpkePublicKey::from_bytes(public).map_err(CryptoError::from)?;
                encrypted_path_secret.push(encrypt_with_label(
                    &public,
                    "UpdatePathNode",
                    &context_bytes,
                    secret.expose_secret(),
                )?);
            }
            nodes.push(UpdatePathNode {
                encryption_key: key.clone(),
                encrypted_path_secret,
            });
        }
        for n in tree.direct_path(self.committer) {
            keys.keys.remove(&n);
        }
        keys.keys.extend(self.private);
        Ok((
            UpdatePath {
                leaf_node: self.leaf,
                nodes,
            },
            self.commit_secret,
        ))
    }
}
