//! Creating and processing commits: add, remove, self-update, and entering the next epoch.

use std::fmt;

use subtle::ConstantTimeEq;

use super::distribution::Distribution;
use super::roster::{Member, Roster};
use super::{EpochKeys, Group, GroupConfig, GroupError, NO_PSK, PastEpoch, welcome};
use crate::device::{Device, ValidatedKeyPackage, capabilities, sign_leaf, verify_leaf_signature};
use crate::hpke;
use crate::mls::codec::{CodecError, Decode, Encode, Reader, WriteExt};
use crate::mls::crypto::{CryptoError, HashSecret, HpkeSecretKey, NH, hash_secret};
use crate::mls::framing::{
    AuthenticatedContent, Commit, Content, ContentType, FramedContent, FramedContentAuthData,
    MlsMessage, PrivateMessage, Proposal, ProposalOrRef, Sender, UpdatePath, WireFormat,
};
use crate::mls::group_context::GroupContext;
use crate::mls::key_package::{LeafNode, LeafNodeSource};
use crate::mls::key_schedule::{EpochSecrets, KeySchedule};
use crate::mls::transcript::{confirmed_transcript_hash, interim_transcript_hash};
use crate::mls::tree_math::LeafIndex;

/// Version of the commit wire format (`u16` before the message), outside the space of MLS
/// protocol versions so an `MLSMessage` is never mistaken for a commit.
const COMMIT_FORMAT: u16 = 0xF001;

/// What a committer sends: the commit for the existing members and, when devices were added,
/// the Welcome for them.
pub struct CommitOutput {
    /// For every other current member: pass to [`Group::process_commit`].
    pub commit: Vec<u8>,
    /// For the added devices: pass to [`Group::join`].
    pub welcome: Option<Vec<u8>>,
}

impl fmt::Debug for CommitOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommitOutput")
            .field("commit_len", &self.commit.len())
            .field("welcome_len", &self.welcome.as_ref().map(Vec::len))
            .finish()
    }
}

/// What a processed commit changed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommitEffect {
    /// The epoch now current (unchanged when this device was removed).
    pub epoch: u64,
    /// Who committed.
    pub committer: LeafIndex,
    /// Leaves that received new devices.
    pub added: Vec<LeafIndex>,
    /// Leaves whose devices were removed.
    pub removed: Vec<LeafIndex>,
    /// This device was removed: the group is now closed for it.
    pub removed_self: bool,
}

/// A commit on the wire: `u16 format || V(MLSMessage(PrivateMessage)) || distribution`.
pub(crate) struct CommitMessage {
    pub(crate) message: PrivateMessage,
    pub(crate) distribution: Distribution,
}

impl Encode for CommitMessage {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&COMMIT_FORMAT.to_be_bytes());
        out.put_vector(&MlsMessage::Private(self.message.clone()).to_bytes()?)?;
        self.distribution.encode(out)
    }
}

impl Decode for CommitMessage {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let format = r.u16()?;
        if format != COMMIT_FORMAT {
            return Err(CodecError::UnknownValue {
                field: "commit format",
                value: u64::from(format),
            });
        }
        let MlsMessage::Private(message) = MlsMessage::from_bytes(r.vector()?)? else {
            return Err(CodecError::Invalid("commit is not a private message"));
        };
        Ok(Self {
            message,
            distribution: Distribution::decode(r)?,
        })
    }
}

fn random_secret() -> Result<HashSecret, CryptoError> {
    let mut secret = HashSecret::new([0; NH]);
    getrandom::fill(secret.expose_secret_mut()).map_err(|_| CryptoError::Random)?;
    Ok(secret)
}

impl EpochKeys {
    pub(super) fn from_secrets(secrets: &EpochSecrets) -> Result<Self, GroupError> {
        Ok(Self {
            init_secret: hash_secret(secrets.init_secret())?,
            sender_data_secret: hash_secret(secrets.sender_data_secret())?,
            exporter_secret: hash_secret(secrets.exporter_secret())?,
            epoch_authenticator: hash_secret(secrets.epoch_authenticator())?,
        })
    }
}

/// A freshly keyed leaf for `signer` at `leaf` of `group_id`, made by a commit.
fn commit_leaf(
    template: &LeafNode,
    device_signer: &crate::mls::crypto::SignatureSecretKey,
    group_id: &[u8],
    leaf: LeafIndex,
) -> Result<(LeafNode, HpkeSecretKey), GroupError> {
    let (secret, public) = hpke::generate_key_pair().map_err(CryptoError::from)?;
    let mut node = LeafNode {
        encryption_key: public.as_bytes().to_vec(),
        signature_key: template.signature_key.clone(),
        credential: template.credential.clone(),
        capabilities: capabilities(),
        source: LeafNodeSource::Commit {
            parent_hash: Vec::new(),
        },
        extensions: Vec::new(),
        signature: Vec::new(),
    };
    sign_leaf(&mut node, device_signer, Some((group_id, leaf)))?;
    Ok((node, secret))
}

pub(super) fn create(
    group_id: Vec<u8>,
    device: &Device,
    config: GroupConfig,
) -> Result<Group, GroupError> {
    let template = LeafNode {
        encryption_key: Vec::new(),
        signature_key: device.signature_key().as_bytes().to_vec(),
        credential: device.credential(),
        capabilities: capabilities(),
        source: LeafNodeSource::Update,
        extensions: Vec::new(),
        signature: Vec::new(),
    };
    let (leaf, leaf_secret) = commit_leaf(&template, device.signer(), &group_id, LeafIndex(0))?;
    let roster = Roster::new(Member::from_leaf(leaf)?);
    let context = GroupContext::new(group_id, 0, roster.hash()?.to_vec(), Vec::new());
    // Epoch 0: a random init secret and an all-zero commit secret (RFC 9420 §8).
    let (_, secrets) = KeySchedule::random()?.advance(&[0; NH], &NO_PSK, &context)?;
    let tag = secrets.confirmation_tag(&[])?;
    let interim = interim_transcript_hash(&[], &tag)?;
    let secret_tree = secrets.secret_tree(roster.tree_size()?, config.secret_tree());
    Ok(Group {
        config,
        own_leaf: LeafIndex(0),
        signer: device.signer().clone(),
        leaf_secret,
        keys: EpochKeys::from_secrets(&secrets)?,
        roster,
        context,
        interim_transcript_hash: interim.to_vec(),
        secret_tree,
        past: Default::default(),
        removed: false,
    })
}

impl Group {
    /// Adds devices from validated key packages in one commit.
    ///
    /// This member moves to the new epoch at once; send [`CommitOutput::commit`] to the
    /// other members and [`CommitOutput::welcome`] to the new devices.
    ///
    /// # Errors
    /// [`GroupError::InvalidCommit`] for an empty list or a device already in the group;
    /// [`GroupError::Removed`]; crypto and encoding failures.
    pub fn add(&mut self, devices: &[ValidatedKeyPackage]) -> Result<CommitOutput, GroupError> {
        if devices.is_empty() {
            return Err(GroupError::InvalidCommit("nothing to add"));
        }
        self.commit(&[], devices)
    }

    /// Removes the devices at `leaves` in one commit; they get no secret of the new epoch.
    ///
    /// # Errors
    /// [`GroupError::InvalidMember`] for a blank leaf or this member's own leaf;
    /// [`GroupError::InvalidCommit`] for an empty list; [`GroupError::Removed`].
    pub fn remove(&mut self, leaves: &[LeafIndex]) -> Result<CommitOutput, GroupError> {
        if leaves.is_empty() {
            return Err(GroupError::InvalidCommit("nothing to remove"));
        }
        if leaves.contains(&self.own_leaf) {
            return Err(GroupError::InvalidMember);
        }
        self.commit(leaves, &[])
    }

    /// Refreshes this member's leaf key and starts a new epoch from a fresh commit secret:
    /// post-compromise security for this device (an attacker holding its old state cannot
    /// read the new epoch).
    ///
    /// # Errors
    /// [`GroupError::Removed`]; crypto and encoding failures.
    pub fn self_update(&mut self) -> Result<CommitOutput, GroupError> {
        self.commit(&[], &[])
    }

    fn commit(
        &mut self,
        removes: &[LeafIndex],
        adds: &[ValidatedKeyPackage],
    ) -> Result<CommitOutput, GroupError> {
        self.ensure_member()?;
        let group_id = self.context.group_id.clone();
        let mut roster = self.roster.clone();
        let mut proposals = Vec::with_capacity(removes.len() + adds.len());
        for leaf in removes {
            roster.remove(*leaf)?;
            proposals.push(ProposalOrRef::Proposal(Proposal::Remove {
                removed: leaf.0,
            }));
        }
        let mut added = Vec::with_capacity(adds.len());
        for kp in adds {
            let member = Member::from_leaf(kp.key_package().leaf_node.clone())?;
            added.push(roster.add(member)?);
            proposals.push(ProposalOrRef::Proposal(Proposal::Add(Box::new(
                kp.key_package().clone(),
            ))));
        }
        let own = self
            .roster
            .member(self.own_leaf)
            .ok_or(GroupError::InvalidMember)?;
        let (leaf_node, leaf_secret) =
            commit_leaf(&own.leaf, &self.signer, &group_id, self.own_leaf)?;
        roster.replace(self.own_leaf, Member::from_leaf(leaf_node.clone())?)?;

        let content = FramedContent {
            group_id,
            epoch: self.context.epoch,
            sender: Sender::Member(self.own_leaf),
            authenticated_data: Vec::new(),
            content: Content::Commit(Box::new(Commit {
                proposals,
                path: Some(UpdatePath {
                    leaf_node,
                    nodes: Vec::new(),
                }),
            })),
        };
        // Ed25519 is deterministic: this is the signature `protect` will produce, needed
        // first because the confirmed transcript hash (and so the tag) covers it.
        let signature = content.sign(WireFormat::PrivateMessage, &self.context, &self.signer)?;
        let authenticated = AuthenticatedContent {
            wire_format: WireFormat::PrivateMessage,
            content,
            auth: FramedContentAuthData {
                signature,
                confirmation_tag: None,
            },
        };
        let confirmed = confirmed_transcript_hash(&self.interim_transcript_hash, &authenticated)?;
        let new_context = GroupContext {
            epoch: self.context.epoch + 1,
            tree_hash: roster.hash()?.to_vec(),
            confirmed_transcript_hash: confirmed.to_vec(),
            ..self.context.clone()
        };
        let commit_secret = random_secret()?;
        let (joiner, secrets) = KeySchedule::new(self.keys.init_secret.clone()).advance(
            commit_secret.expose_secret(),
            &NO_PSK,
            &new_context,
        )?;
        let tag = secrets.confirmation_tag(&confirmed)?;
        let message = PrivateMessage::protect(
            &authenticated.content,
            Some(tag.to_vec()),
            &self.context,
            &self.signer,
            self.keys.sender_data_secret.expose_secret(),
            &mut self.secret_tree,
            0,
        )?;
        let context_bytes = new_context.to_bytes()?;
        let mut skip = added.clone();
        skip.push(self.own_leaf);
        let distribution = Distribution::seal(
            &roster,
            &skip,
            commit_secret.expose_secret(),
            &context_bytes,
        )?;
        let welcome = if adds.is_empty() {
            None
        } else {
            Some(welcome::create(
                &joiner,
                &new_context,
                &roster,
                &tag,
                &self.signer,
                self.own_leaf,
                adds,
            )?)
        };
        let commit = CommitMessage {
            message,
            distribution,
        }
        .to_bytes()?;
        let interim = interim_transcript_hash(&confirmed, &tag)?;
        self.enter_epoch(roster, new_context, interim.to_vec(), &secrets)?;
        self.leaf_secret = leaf_secret;
        Ok(CommitOutput { commit, welcome })
    }

    /// Processes a commit from another member and moves to its epoch.
    ///
    /// Checks, in order: format, group and epoch, decryption and the committer's signature,
    /// the proposals (key package signatures, members that exist), the committer's new leaf
    /// (signed, same signature key), then opens this member's copy of the commit secret and
    /// checks the confirmation tag. Nothing changes unless every check passes; once it has
    /// been processed, a commit cannot be processed again.
    ///
    /// # Errors
    /// [`GroupError::Codec`], [`GroupError::WrongGroup`], [`GroupError::FutureEpoch`],
    /// [`GroupError::EpochTooOld`], [`GroupError::Framing`] (decryption, signature, replay),
    /// [`GroupError::InvalidCommit`], [`GroupError::InvalidMember`],
    /// [`GroupError::KeyPackage`], [`GroupError::NoSecretForMember`],
    /// [`GroupError::Crypto`], [`GroupError::BadConfirmationTag`], [`GroupError::Removed`].
    pub fn process_commit(&mut self, bytes: &[u8]) -> Result<CommitEffect, GroupError> {
        self.ensure_member()?;
        // Decrypting consumes the commit's handshake key; restore it unless the whole commit
        // verifies, so a commit whose unauthenticated parts were damaged in transit can
        // still be processed when it arrives intact.
        let saved = self.secret_tree.clone();
        let result = self.process_commit_checked(bytes);
        if result.is_err() {
            self.secret_tree = saved;
        }
        result
    }

    fn process_commit_checked(&mut self, bytes: &[u8]) -> Result<CommitEffect, GroupError> {
        let CommitMessage {
            message,
            distribution,
        } = CommitMessage::from_bytes(bytes)?;
        if message.group_id != self.context.group_id {
            return Err(GroupError::WrongGroup);
        }
        if message.content_type != ContentType::Commit {
            return Err(GroupError::UnexpectedMessage);
        }
        if message.epoch > self.context.epoch {
            return Err(GroupError::FutureEpoch);
        }
        if message.epoch < self.context.epoch {
            return Err(GroupError::EpochTooOld);
        }
        let roster = &self.roster;
        let authenticated = message.unprotect(
            &self.context,
            self.keys.sender_data_secret.expose_secret(),
            &mut self.secret_tree,
            |leaf| roster.member(leaf).map(|m| m.signature_key),
        )?;
        let Sender::Member(committer) = authenticated.content.sender else {
            return Err(GroupError::InvalidCommit("committer is not a member"));
        };
        if committer == self.own_leaf {
            return Err(GroupError::InvalidCommit("own commit"));
        }
        let Content::Commit(commit) = &authenticated.content.content else {
            return Err(GroupError::UnexpectedMessage);
        };
        let tag = authenticated
            .auth
            .confirmation_tag
            .as_deref()
            .ok_or(GroupError::InvalidCommit("missing confirmation tag"))?;

        let (roster, effect) = self.apply(committer, commit)?;
        if effect.removed_self {
            self.close();
            return Ok(effect);
        }
        let confirmed = confirmed_transcript_hash(&self.interim_transcript_hash, &authenticated)?;
        let new_context = GroupContext {
            epoch: self.context.epoch + 1,
            tree_hash: roster.hash()?.to_vec(),
            confirmed_transcript_hash: confirmed.to_vec(),
            ..self.context.clone()
        };
        let commit_secret =
            distribution.open(self.own_leaf, &self.leaf_secret, &new_context.to_bytes()?)?;
        let (_, secrets) = KeySchedule::new(self.keys.init_secret.clone()).advance(
            commit_secret.expose_secret(),
            &NO_PSK,
            &new_context,
        )?;
        let expected = secrets.confirmation_tag(&confirmed)?;
        if !bool::from(expected.as_slice().ct_eq(tag)) {
            return Err(GroupError::BadConfirmationTag);
        }
        let interim = interim_transcript_hash(&confirmed, tag)?;
        self.enter_epoch(roster, new_context, interim.to_vec(), &secrets)?;
        Ok(CommitEffect {
            epoch: self.context.epoch,
            ..effect
        })
    }

    /// Applies a commit's proposals (removes, then adds, as RFC 9420 orders them) and the
    /// committer's new leaf to a copy of the roster.
    fn apply(
        &self,
        committer: LeafIndex,
        commit: &Commit,
    ) -> Result<(Roster, CommitEffect), GroupError> {
        let mut roster = self.roster.clone();
        let mut effect = CommitEffect {
            epoch: self.context.epoch,
            committer,
            added: Vec::new(),
            removed: Vec::new(),
            removed_self: false,
        };
        let mut adds = Vec::new();
        for proposal in &commit.proposals {
            match proposal {
                ProposalOrRef::Proposal(Proposal::Remove { removed }) => {
                    let leaf = LeafIndex(*removed);
                    if leaf == committer {
                        return Err(GroupError::InvalidMember);
                    }
                    roster.remove(leaf)?;
                    effect.removed.push(leaf);
                }
                ProposalOrRef::Proposal(Proposal::Add(kp)) => adds.push(kp),
                _ => return Err(GroupError::InvalidCommit("unsupported proposal")),
            }
        }
        for kp in adds {
            let validated = ValidatedKeyPackage::verify_signatures(kp)?;
            let member = Member::from_leaf(validated.key_package().leaf_node.clone())?;
            effect.added.push(roster.add(member)?);
        }
        let path = commit
            .path
            .as_ref()
            .ok_or(GroupError::InvalidCommit("missing path"))?;
        if !path.nodes.is_empty() {
            return Err(GroupError::InvalidCommit("path nodes are not supported"));
        }
        if !matches!(path.leaf_node.source, LeafNodeSource::Commit { .. }) {
            return Err(GroupError::InvalidCommit("path leaf source"));
        }
        let key =
            verify_leaf_signature(&path.leaf_node, Some((&self.context.group_id, committer)))?;
        let current = self
            .roster
            .member(committer)
            .ok_or(GroupError::InvalidMember)?;
        if key != current.signature_key || path.leaf_node.credential != current.leaf.credential {
            return Err(GroupError::InvalidCommit("committer changed its identity"));
        }
        roster.replace(committer, Member::from_leaf(path.leaf_node.clone())?)?;
        effect.removed_self = effect.removed.contains(&self.own_leaf);
        Ok((roster, effect))
    }

    /// Makes the derived epoch current; the old one joins the past-epoch window.
    fn enter_epoch(
        &mut self,
        roster: Roster,
        context: GroupContext,
        interim: Vec<u8>,
        secrets: &EpochSecrets,
    ) -> Result<(), GroupError> {
        let keys = EpochKeys::from_secrets(secrets)?;
        let tree = secrets.secret_tree(roster.tree_size()?, self.config.secret_tree());
        let old_keys = std::mem::replace(&mut self.keys, keys);
        let old_tree = std::mem::replace(&mut self.secret_tree, tree);
        let old_context = std::mem::replace(&mut self.context, context);
        let old_roster = std::mem::replace(&mut self.roster, roster);
        self.interim_transcript_hash = interim;
        if self.config.past_epochs > 0 {
            self.past.push_front(PastEpoch {
                context: old_context,
                sender_data_secret: old_keys.sender_data_secret,
                secret_tree: old_tree,
                signature_keys: old_roster.signature_keys(),
            });
            self.past.truncate(usize::from(self.config.past_epochs));
        }
        Ok(())
    }

    /// Forgets every secret after this device was removed.
    fn close(&mut self) {
        self.removed = true;
        self.past.clear();
        // Drop the live tree's secrets; every operation is refused from now on anyway.
        if let Ok(size) = self.roster.tree_size() {
            self.secret_tree = crate::mls::secret_tree::SecretTree::new(
                HashSecret::new([0; NH]),
                size,
                self.config.secret_tree(),
            );
        }
    }
}
