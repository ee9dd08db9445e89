//! A member's view of an RFC 9420 group: join from a Welcome, then follow the group through
//! proposals and commits made by any conforming implementation (the "passive client" of the
//! interop vectors).
//!
//! [`GroupState::join`] validates everything a Welcome brings (GroupInfo signature by a leaf of
//! a tree whose hash, parent hashes and leaf signatures check out; the confirmation tag of the
//! derived epoch). [`GroupState::handle`] authenticates each handshake message against the
//! current epoch, caches proposals under their `ProposalRef`, and applies a commit only after
//! the whole of it checked out — proposal-list rules, the UpdatePath's parent hash and leaf
//! signature, the path secret's keys, and finally the confirmation tag. A commit that fails
//! any check leaves the state untouched.
//!
//! # Security
//! Epoch secrets, path keys and the init secret are zeroized on drop and absent from `Debug`.

mod create;
mod persist;
mod proposals;

pub use create::CommitOutput;
pub(crate) use persist::StateParts;

use std::collections::VecDeque;
use std::fmt;

use rcsec_core::Secret;
use subtle::ConstantTimeEq;

use self::proposals::{CachedProposal, apply, resolve};
use super::codec::{CodecError, Decode, Encode, Reader};
use super::crypto::{
    CryptoError, HashSecret, HpkeSecretKey, NH, SignaturePublicKey, SignatureSecretKey, ref_hash,
};
use super::framing::{AuthenticatedContent, Content, FramingError, MlsMessage, Proposal, Sender};
use super::group_context::GroupContext;
use super::key_package::KeyPackage;
use super::key_schedule::{EpochSecrets, JoinerSecret, KeySchedule, KeyScheduleError};
use super::psk::{PreSharedKeyId, Psk, PskError, PskInput, ResumptionPskUsage, psk_secret};
use super::secret_tree::{SecretTree, SecretTreeConfig};
use super::transcript::{confirmed_transcript_hash, interim_transcript_hash};
use super::tree::{LeafError, RatchetTree, TreeError};
use super::tree_math::{LeafIndex, NodeIndex};
use super::treekem::{CommitSecret, PathKeys, PathSecret, TreeKemError, merge_update_path};
use super::welcome::{Welcome, WelcomeError};

/// The `ratchet_tree` extension type (RFC 9420 §12.4.3.3).
const RATCHET_TREE_EXTENSION: u16 = 2;
/// The `external_senders` extension type (RFC 9420 §12.1.8.1).
const EXTERNAL_SENDERS_EXTENSION: u16 = 5;
/// How many past epochs' resumption PSKs are kept for PSK proposals that name them.
const RESUMPTION_PSKS_KEPT: usize = 16;
/// How many proposals one epoch may cache before further ones are refused.
const MAX_CACHED_PROPOSALS: usize = 256;

/// Looks up an external PSK's value by its `psk_id` (the application distributes them).
pub type ExternalPsks<'a> = &'a dyn Fn(&[u8]) -> Option<Secret<Vec<u8>>>;

/// Why a Welcome or a message could not be processed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GroupError {
    /// The Welcome could not be decrypted or verified.
    #[error("welcome: {0}")]
    Welcome(#[from] WelcomeError),
    /// Authentication or decryption of a message failed.
    #[error("framing: {0}")]
    Framing(#[from] FramingError),
    /// A tree check failed.
    #[error("tree: {0}")]
    Tree(#[from] TreeError),
    /// TreeKEM failed.
    #[error("treekem: {0}")]
    TreeKem(#[from] TreeKemError),
    /// A structure is malformed.
    #[error("malformed: {0}")]
    Codec(#[from] CodecError),
    /// A primitive failed (opaque).
    #[error("{0}")]
    Crypto(#[from] CryptoError),
    /// The key schedule failed.
    #[error("{0}")]
    KeySchedule(#[from] KeyScheduleError),
    /// A PSK secret could not be computed.
    #[error("{0}")]
    Psk(#[from] PskError),
    /// Neither the Welcome nor the caller supplied the ratchet tree.
    #[error("no ratchet tree")]
    NoTree,
    /// The joiner's own leaf is not in the tree.
    #[error("own leaf not found in the tree")]
    NotInTree,
    /// The GroupInfo signature does not verify.
    #[error("invalid group info signature")]
    BadGroupInfoSignature,
    /// The confirmation tag does not match the derived epoch.
    #[error("invalid confirmation tag")]
    BadConfirmationTag,
    /// A PSK named by a Welcome or a proposal is unknown.
    #[error("unknown psk")]
    UnknownPsk,
    /// A commit references a proposal that was not received this epoch.
    #[error("commit references an unknown proposal")]
    UnknownProposal,
    /// The proposal list breaks a rule of RFC 9420 §12.2.
    #[error("invalid proposal list: {0}")]
    InvalidProposals(&'static str),
    /// An Update proposal's leaf is invalid.
    #[error("invalid leaf {index}: {reason}")]
    InvalidLeaf {
        /// The leaf.
        index: u32,
        /// Why.
        reason: LeafError,
    },
    /// An Add proposal's KeyPackage is invalid.
    #[error("invalid key package: {0}")]
    InvalidKeyPackage(LeafError),
    /// The commit lacks the path its proposals require.
    #[error("commit requires a path")]
    PathRequired,
    /// The sender is not allowed to send this content.
    #[error("sender not allowed: {0}")]
    BadSender(&'static str),
    /// The message is not a handshake message of this group's epoch.
    #[error("unexpected message: {0}")]
    Unexpected(&'static str),
    /// A feature this implementation does not support (named).
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// The proposal cache is full for this epoch.
    #[error("too many proposals this epoch")]
    TooManyProposals,
    /// This member was removed by the commit; the state is final.
    #[error("removed from the group")]
    Removed,
}

/// A joiner's own secrets: the KeyPackage it published and the private keys behind it.
pub struct JoinerKeys {
    /// The KeyPackage the Welcome is addressed to.
    pub key_package: KeyPackage,
    /// The KeyPackage's `init_key` private key.
    pub init_key: HpkeSecretKey,
    /// The leaf's `encryption_key` private key.
    pub leaf_key: HpkeSecretKey,
    /// The leaf's signature key.
    pub signer: SignatureSecretKey,
}

impl fmt::Debug for JoinerKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinerKeys").finish_non_exhaustive()
    }
}

/// Knobs of a group member.
#[derive(Debug, Clone, Copy, Default)]
pub struct GroupConfig {
    /// Current UNIX time (seconds) for KeyPackage lifetime checks; `None` skips them (only
    /// for replaying recorded traffic, such as conformance vectors).
    pub now: Option<u64>,
    /// Limits of the per-epoch secret tree.
    pub secret_tree: SecretTreeConfig,
}

/// What [`GroupState::handle`] did with a message.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Handled {
    /// A proposal was authenticated and cached for a later commit.
    Proposal,
    /// A commit was applied; the group is now at this epoch.
    Commit {
        /// The new epoch number.
        epoch: u64,
    },
    /// An application message was decrypted (its bytes; the caller owns them).
    Application(Vec<u8>),
}

/// What a processed commit changed (see [`GroupState::handle_commit`]).
pub(crate) struct AppliedCommit {
    /// The committer's leaf (an external joiner's new leaf; `None` only for an external
    /// commit without a path, which the proposal rules refuse).
    pub(crate) committer: Option<LeafIndex>,
    /// Leaves the commit added.
    pub(crate) added: Vec<LeafIndex>,
    /// Leaves the commit removed.
    pub(crate) removed: Vec<LeafIndex>,
    /// The epoch the commit ended, or `None` when it removed this member (state unchanged).
    pub(crate) retired: Option<RetiredEpoch>,
}

/// The epoch a commit replaced, handed to a caller that keeps a window of past epochs.
pub(crate) struct RetiredEpoch {
    pub(crate) context: GroupContext,
    pub(crate) tree: RatchetTree,
    pub(crate) epoch: EpochSecrets,
    pub(crate) secret_tree: SecretTree,
}

/// One member's state of one group at one epoch.
///
/// Cloning snapshots the whole state, secrets included (each copy zeroizes on drop): a
/// caller can keep the pre-commit state until the delivery service accepts a commit.
#[derive(Clone)]
pub struct GroupState {
    config: GroupConfig,
    context: GroupContext,
    tree: RatchetTree,
    keys: PathKeys,
    signer: SignatureSecretKey,
    epoch: EpochSecrets,
    secret_tree: SecretTree,
    interim_transcript_hash: Vec<u8>,
    proposals: Vec<CachedProposal>,
    resumption_psks: VecDeque<(u64, HashSecret)>,
}

impl fmt::Debug for GroupState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupState")
            .field("epoch", &self.context.epoch)
            .field("own_leaf", &self.keys.own_leaf())
            .field("members", &self.tree.members().count())
            .finish_non_exhaustive()
    }
}

/// Resolves one PSK id: external PSKs through the caller, resumption PSKs of this group
/// from the kept epochs.
fn resolve_psk(
    id: &PreSharedKeyId,
    group_id: &[u8],
    kept: &VecDeque<(u64, HashSecret)>,
    external: ExternalPsks<'_>,
) -> Option<Secret<Vec<u8>>> {
    if id.psk_nonce.len() != NH {
        return None;
    }
    match &id.psk {
        Psk::External { psk_id } => external(psk_id),
        Psk::Resumption {
            usage: ResumptionPskUsage::Application,
            psk_group_id,
            psk_epoch,
        } if psk_group_id.as_slice() == group_id => kept
            .iter()
            .find(|(e, _)| e == psk_epoch)
            .map(|(_, s)| Secret::new(s.expose_secret().to_vec())),
        Psk::Resumption { .. } => None,
    }
}

impl GroupState {
    /// Joins a group from a Welcome (§12.4.3.1). `ratchet_tree` is the tree when it was
    /// delivered out of band; otherwise the GroupInfo's `ratchet_tree` extension supplies it.
    /// `external_psk` returns the value of an external PSK by id.
    ///
    /// # Errors
    /// [`GroupError`] naming the first failed check.
    pub fn join(
        welcome: &Welcome,
        joiner: JoinerKeys,
        ratchet_tree: Option<RatchetTree>,
        external_psk: ExternalPsks<'_>,
        config: GroupConfig,
    ) -> Result<Self, GroupError> {
        let none = VecDeque::new();
        let (secrets, psk, info) =
            welcome.decrypt(&joiner.key_package, &joiner.init_key, |id| {
                resolve_psk(id, &[], &none, external_psk)
            })?;
        let gc = info.group_context.clone();
        let tree = match ratchet_tree {
            Some(tree) => tree,
            None => {
                let ext = info
                    .extensions
                    .iter()
                    .find(|e| e.extension_type == RATCHET_TREE_EXTENSION)
                    .ok_or(GroupError::NoTree)?;
                RatchetTree::from_bytes(&ext.extension_data)?
            }
        };
        tree.validate(&gc.group_id, &gc.tree_hash)?;
        let signer_leaf = tree
            .leaf(info.signer)
            .ok_or(GroupError::BadGroupInfoSignature)?;
        let signer_key = SignaturePublicKey::from_bytes(&signer_leaf.signature_key)
            .map_err(|_| GroupError::BadGroupInfoSignature)?;
        info.verify(&signer_key)
            .map_err(|_| GroupError::BadGroupInfoSignature)?;

        let own_leaf = tree
            .members()
            .find(|(_, leaf)| **leaf == joiner.key_package.leaf_node)
            .map(|(i, _)| i)
            .ok_or(GroupError::NotInTree)?;
        if joiner.leaf_key.public_key().as_bytes().as_slice()
            != joiner.key_package.leaf_node.encryption_key.as_slice()
        {
            return Err(GroupError::NotInTree);
        }
        let mut keys = PathKeys::new(own_leaf, joiner.leaf_key);
        if let Some(path_secret) = &secrets.path_secret {
            let lca = common_ancestor(&tree, own_leaf, info.signer).ok_or(GroupError::NotInTree)?;
            let secret = PathSecret::from_bytes(path_secret.expose_secret())?;
            keys.install_path_secret(&tree, info.signer, lca, secret)?;
        }

        let (_, epoch) = KeySchedule::join(&secrets.joiner_secret, psk.expose_secret(), &gc)?;
        let tag = epoch.confirmation_tag(&gc.confirmed_transcript_hash)?;
        if !bool::from(tag.as_slice().ct_eq(info.confirmation_tag.as_slice())) {
            return Err(GroupError::BadConfirmationTag);
        }
        let interim =
            interim_transcript_hash(&gc.confirmed_transcript_hash, &info.confirmation_tag)?;
        let secret_tree = epoch.secret_tree(tree.size(), config.secret_tree);
        let mut resumption_psks = VecDeque::new();
        resumption_psks.push_back((gc.epoch, secret_of(epoch.resumption_psk())));
        Ok(Self {
            config,
            context: gc,
            tree,
            keys,
            signer: joiner.signer,
            epoch,
            secret_tree,
            interim_transcript_hash: interim.to_vec(),
            proposals: Vec::new(),
            resumption_psks,
        })
    }

    /// The current group context.
    pub fn context(&self) -> &GroupContext {
        &self.context
    }

    /// The current ratchet tree.
    pub fn tree(&self) -> &RatchetTree {
        &self.tree
    }

    /// This member's leaf.
    pub fn own_leaf(&self) -> LeafIndex {
        self.keys.own_leaf()
    }

    /// This member's signature key.
    pub fn signer(&self) -> &SignatureSecretKey {
        &self.signer
    }

    /// The current epoch's secrets.
    pub fn epoch_secrets(&self) -> &EpochSecrets {
        &self.epoch
    }

    /// The current epoch authenticator (compare out of band to detect a split view).
    pub fn epoch_authenticator(&self) -> &[u8; NH] {
        self.epoch.epoch_authenticator()
    }

    fn member_key(&self, leaf: LeafIndex) -> Option<SignaturePublicKey> {
        SignaturePublicKey::from_bytes(&self.tree.leaf(leaf)?.signature_key).ok()
    }

    /// The signature key of an external sender from the `external_senders` extension.
    fn external_sender_key(&self, index: u32) -> Option<SignaturePublicKey> {
        let ext = self
            .context
            .extensions
            .iter()
            .find(|e| e.extension_type == EXTERNAL_SENDERS_EXTENSION)?;
        let mut r = Reader::new(&ext.extension_data);
        let mut list = Reader::new(r.vector().ok()?);
        let mut i = 0u32;
        while !list.is_empty() {
            let key = list.vector().ok()?;
            super::key_package::Credential::decode(&mut list).ok()?;
            if i == index {
                return SignaturePublicKey::from_bytes(key).ok();
            }
            i = i.checked_add(1)?;
        }
        None
    }

    /// Authenticates and processes one message of the current epoch: caches proposals,
    /// applies commits, decrypts application data.
    ///
    /// `external_psk` resolves external PSKs a commit injects.
    ///
    /// # Errors
    /// [`GroupError`]; on error the state is unchanged (except that a PrivateMessage's key
    /// is consumed only when it decrypted).
    pub fn handle(
        &mut self,
        message: &MlsMessage,
        external_psk: ExternalPsks<'_>,
    ) -> Result<Handled, GroupError> {
        let content = self.authenticate(message)?;
        match &content.content.content {
            Content::Application(data) => Ok(Handled::Application(data.clone())),
            Content::Proposal(p) => {
                if self.proposals.len() >= MAX_CACHED_PROPOSALS {
                    return Err(GroupError::TooManyProposals);
                }
                let reference = ref_hash(b"MLS 1.0 Proposal Reference", &content.to_bytes()?)?;
                self.proposals.push(CachedProposal {
                    reference,
                    proposal: p.clone(),
                    sender: content.content.sender,
                });
                Ok(Handled::Proposal)
            }
            Content::Commit(_) => {
                let applied = self.apply_commit(&content, external_psk)?;
                if applied.retired.is_none() {
                    return Err(GroupError::Removed);
                }
                Ok(Handled::Commit {
                    epoch: self.context.epoch,
                })
            }
        }
    }

    /// Processes one commit of the current epoch and reports what it changed, for a caller
    /// that keeps more than this state does (the on-call [`crate::group::Group`] keeps past
    /// epochs). Unlike [`GroupState::handle`], a failed commit gives back the handshake key
    /// its decryption consumed, so the intact commit can still be processed when it arrives.
    ///
    /// A commit that removes this member is authenticated and checked like any other, then
    /// reported with `retired: None`; the state is left as it was.
    pub(crate) fn handle_commit(
        &mut self,
        message: &MlsMessage,
    ) -> Result<AppliedCommit, GroupError> {
        let saved = self.secret_tree.clone();
        let result = self.authenticate(message).and_then(|content| {
            if !matches!(content.content.content, Content::Commit(_)) {
                return Err(GroupError::Unexpected("not a commit"));
            }
            self.apply_commit(&content, &|_| None)
        });
        if result.is_err() {
            self.secret_tree = saved;
        }
        result
    }

    /// Verifies and decrypts a handshake or application message of the current epoch.
    fn authenticate(&mut self, message: &MlsMessage) -> Result<AuthenticatedContent, GroupError> {
        Ok(match message {
            MlsMessage::Public(m) => {
                let key = match (m.content.sender, &m.content.content) {
                    (Sender::Member(leaf), _) => self.member_key(leaf),
                    (Sender::External(i), Content::Proposal(_)) => self.external_sender_key(i),
                    (Sender::NewMemberProposal, Content::Proposal(Proposal::Add(kp))) => {
                        SignaturePublicKey::from_bytes(&kp.leaf_node.signature_key).ok()
                    }
                    (Sender::NewMemberCommit, Content::Commit(c)) => {
                        c.path.as_ref().and_then(|p| {
                            SignaturePublicKey::from_bytes(&p.leaf_node.signature_key).ok()
                        })
                    }
                    _ => return Err(GroupError::BadSender("sender cannot send this content")),
                }
                .ok_or(GroupError::BadSender("unknown sender"))?;
                m.unprotect(&self.context, self.epoch.membership_key(), &key)?
            }
            MlsMessage::Private(m) => {
                let tree = &self.tree;
                m.unprotect(
                    &self.context,
                    self.epoch.sender_data_secret(),
                    &mut self.secret_tree,
                    |leaf| SignaturePublicKey::from_bytes(&tree.leaf(leaf)?.signature_key).ok(),
                )?
            }
            _ => {
                return Err(GroupError::Unexpected(
                    "not a PublicMessage or PrivateMessage",
                ));
            }
        })
    }

    /// Applies an authenticated commit (§12.4.2); all-or-nothing.
    fn apply_commit(
        &mut self,
        content: &AuthenticatedContent,
        external_psk: ExternalPsks<'_>,
    ) -> Result<AppliedCommit, GroupError> {
        let Content::Commit(commit) = &content.content.content else {
            return Err(GroupError::Unexpected("not a commit"));
        };
        let sender = content.content.sender;
        let committer = match sender {
            Sender::Member(leaf) => Some(leaf),
            Sender::NewMemberCommit => None,
            _ => return Err(GroupError::BadSender("commit from a non-member")),
        };
        if committer == Some(self.own_leaf()) {
            return Err(GroupError::Unexpected("own commit"));
        }
        let list = resolve(&commit.proposals, &self.proposals, sender)?;
        let applied = apply(
            &self.tree,
            &self.context.group_id,
            &list,
            committer,
            self.config.now,
        )?;
        if applied.removed.contains(&self.own_leaf()) {
            return Ok(AppliedCommit {
                committer,
                added: applied.added,
                removed: applied.removed,
                retired: None,
            });
        }
        if applied.path_required && commit.path.is_none() {
            return Err(GroupError::PathRequired);
        }
        let mut tree = applied.tree;
        let extensions = applied
            .extensions
            .unwrap_or_else(|| self.context.extensions.clone());
        let mut keys_after = PathKeys::new(self.own_leaf(), self.own_leaf_key()?);
        self.copy_keys_into(&mut keys_after);

        let mut committer = committer;
        let commit_secret = match &commit.path {
            None => CommitSecret::zero(),
            Some(path) => {
                let leaf = match committer {
                    Some(leaf) => leaf,
                    // An external joiner takes the leftmost blank leaf.
                    None => tree.add_leaf(path.leaf_node.clone())?,
                };
                committer = Some(leaf);
                merge_update_path(&mut tree, leaf, path, &self.context.group_id)?;
                let provisional = GroupContext {
                    epoch: self.context.epoch + 1,
                    tree_hash: tree.tree_hash()?.to_vec(),
                    extensions: extensions.clone(),
                    ..self.context.clone()
                };
                keys_after.prune(&tree);
                keys_after.decrypt_update_path(&tree, leaf, path, &provisional, &applied.added)?
            }
        };

        let confirmed = confirmed_transcript_hash(&self.interim_transcript_hash, content)?;
        let context = GroupContext {
            epoch: self.context.epoch + 1,
            tree_hash: tree.tree_hash()?.to_vec(),
            confirmed_transcript_hash: confirmed.to_vec(),
            extensions,
            ..self.context.clone()
        };
        let mut inputs = Vec::with_capacity(applied.psks.len());
        for id in applied.psks {
            let secret = resolve_psk(
                &id,
                &self.context.group_id,
                &self.resumption_psks,
                external_psk,
            )
            .ok_or(GroupError::UnknownPsk)?;
            inputs.push(PskInput { id, secret });
        }
        let psk = psk_secret(&inputs)?;
        let init_secret = match &applied.external_init {
            None => secret_of(self.epoch.init_secret()),
            Some(kem_output) => self.external_init_secret(kem_output)?,
        };
        let mut schedule = KeySchedule::new(init_secret);
        let (_joiner, epoch): (JoinerSecret, EpochSecrets) =
            schedule.advance(commit_secret.expose_secret(), psk.expose_secret(), &context)?;
        let tag = content
            .auth
            .confirmation_tag
            .as_deref()
            .ok_or(GroupError::BadConfirmationTag)?;
        let expected = epoch.confirmation_tag(&confirmed)?;
        if !bool::from(expected.as_slice().ct_eq(tag)) {
            return Err(GroupError::BadConfirmationTag);
        }
        let interim = interim_transcript_hash(&confirmed, tag)?;

        // Everything checked out: commit the new epoch.
        keys_after.prune(&tree);
        let retired = self.enter_epoch(keys_after, tree, context, epoch, interim.to_vec());
        Ok(AppliedCommit {
            committer,
            added: applied.added,
            removed: applied.removed,
            retired: Some(retired),
        })
    }

    /// Makes a fully checked epoch current and returns the one it replaces.
    fn enter_epoch(
        &mut self,
        keys: PathKeys,
        tree: RatchetTree,
        context: GroupContext,
        epoch: EpochSecrets,
        interim_transcript_hash: Vec<u8>,
    ) -> RetiredEpoch {
        let secret_tree = epoch.secret_tree(tree.size(), self.config.secret_tree);
        self.resumption_psks
            .push_back((context.epoch, secret_of(epoch.resumption_psk())));
        while self.resumption_psks.len() > RESUMPTION_PSKS_KEPT {
            self.resumption_psks.pop_front();
        }
        self.keys = keys;
        self.interim_transcript_hash = interim_transcript_hash;
        self.proposals.clear();
        RetiredEpoch {
            context: std::mem::replace(&mut self.context, context),
            tree: std::mem::replace(&mut self.tree, tree),
            epoch: std::mem::replace(&mut self.epoch, epoch),
            secret_tree: std::mem::replace(&mut self.secret_tree, secret_tree),
        }
    }

    /// `init_secret` of an external commit: the HPKE export for the ExternalInit's
    /// `kem_output` under this epoch's external key pair (§8.3).
    fn external_init_secret(&self, kem_output: &[u8]) -> Result<HashSecret, GroupError> {
        let (sk, _) = self.epoch.external_key_pair()?;
        let ctx = crate::hpke::setup_receiver(
            crate::hpke::Aead::Aes128Gcm,
            kem_output,
            &sk,
            &[],
            crate::hpke::ReceiverMode::Base,
        )
        .map_err(CryptoError::from)?;
        let out = ctx
            .export(b"MLS 1.0 external init secret", NH)
            .map_err(CryptoError::from)?;
        Ok(super::crypto::hash_secret(out.expose_secret())?)
    }

    fn own_leaf_key(&self) -> Result<HpkeSecretKey, GroupError> {
        let node = self.own_leaf().node().ok_or(GroupError::NotInTree)?;
        self.keys
            .key_for(&self.tree, node)
            .cloned()
            .ok_or(GroupError::NotInTree)
    }

    fn copy_keys_into(&self, target: &mut PathKeys) {
        for n in self.tree.direct_path(self.own_leaf()) {
            if let Some(k) = self.keys.key_for(&self.tree, n) {
                target.insert(n, k.clone());
            }
        }
    }
}

/// Copies a 32-byte secret.
fn secret_of(bytes: &[u8; NH]) -> HashSecret {
    Secret::new(*bytes)
}

/// The lowest common ancestor of two leaves.
fn common_ancestor(tree: &RatchetTree, a: LeafIndex, b: LeafIndex) -> Option<NodeIndex> {
    let pa = tree.size().direct_path_with_leaf(a)?;
    let pb = tree.size().direct_path_with_leaf(b)?;
    pa.into_iter().find(|n| pb.contains(n))
}
