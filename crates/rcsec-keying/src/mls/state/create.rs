//! The active side of a member: creating a group, committing proposals with a TreeKEM path
//! (and a Welcome for the members it adds), and sending application messages.

use rcsec_core::Secret;

use super::proposals::apply;
use super::{
    AppliedCommit, ExternalPsks, GroupConfig, GroupError, GroupState, RATCHET_TREE_EXTENSION,
    resolve_psk, secret_of,
};
use crate::mls::codec::Encode;
use crate::mls::crypto::{
    AeadKey, HpkeSecretKey, NH, NK, NN, SignatureSecretKey, encrypt_with_label, expand_with_label,
    hash_secret,
};
use crate::mls::framing::{
    AuthenticatedContent, Commit, Content, FramedContent, FramedContentAuthData, MlsMessage,
    PrivateMessage, Proposal, ProposalOrRef, PublicMessage, Sender, WireFormat,
};
use crate::mls::group_context::{Extension, GroupContext};
use crate::mls::key_package::{KeyPackage, LeafNode};
use crate::mls::key_schedule::{JoinerSecret, KeySchedule};
use crate::mls::psk::{PskInput, psk_secret};
use crate::mls::transcript::{confirmed_transcript_hash, interim_transcript_hash};
use crate::mls::tree::RatchetTree;
use crate::mls::tree_math::LeafIndex;
use crate::mls::treekem::{PathKeys, prepare_update_path};
use crate::mls::welcome::{EncryptedGroupSecrets, GroupInfo, GroupSecrets, Welcome};

/// What [`GroupState::commit`] produced. The committer's state has already advanced.
#[derive(Debug)]
pub struct CommitOutput {
    /// The commit, as a PublicMessage of the previous epoch, for the other members.
    pub commit: MlsMessage,
    /// The Welcome for the members the commit added, if any.
    pub welcome: Option<Welcome>,
}

impl GroupState {
    /// Creates a one-member group at epoch 0 (RFC 9420 §11): `leaf` is the creator's leaf
    /// (its encryption key's private half is `leaf_key`, its signature key `signer`'s).
    ///
    /// # Errors
    /// [`GroupError::InvalidLeaf`] when `leaf` does not match the keys; key schedule errors.
    pub fn create(
        group_id: Vec<u8>,
        leaf: LeafNode,
        leaf_key: HpkeSecretKey,
        signer: SignatureSecretKey,
        extensions: Vec<Extension>,
        config: GroupConfig,
    ) -> Result<Self, GroupError> {
        let matches = leaf_key.public_key().as_bytes().as_slice() == leaf.encryption_key
            && signer.public_key().as_bytes().as_slice() == leaf.signature_key;
        if !matches {
            return Err(GroupError::InvalidLeaf {
                index: 0,
                reason: crate::mls::tree::LeafError::BadKey,
            });
        }
        let tree = RatchetTree::new(leaf);
        let mut context = GroupContext::new(group_id, 0, tree.tree_hash()?.to_vec(), Vec::new());
        context.extensions = extensions;
        let mut schedule = KeySchedule::random()?;
        let (_, epoch) = schedule.advance(&[0; NH], &[0; NH], &context)?;
        let tag = epoch.confirmation_tag(&context.confirmed_transcript_hash)?;
        let interim = interim_transcript_hash(&context.confirmed_transcript_hash, &tag)?;
        let own = LeafIndex(0);
        let secret_tree = epoch.secret_tree(tree.size(), config.secret_tree);
        let mut resumption_psks = std::collections::VecDeque::new();
        resumption_psks.push_back((0, secret_of(epoch.resumption_psk())));
        Ok(Self {
            config,
            context,
            tree,
            keys: PathKeys::new(own, leaf_key),
            signer,
            epoch,
            secret_tree,
            interim_transcript_hash: interim.to_vec(),
            proposals: Vec::new(),
            resumption_psks,
        })
    }

    /// Commits `proposals` (by value; Add, Remove, PreSharedKey, GroupContextExtensions) with
    /// a fresh TreeKEM path: `O(log n)` HPKE encryptions to the copath resolutions instead of
    /// one per member. Returns the commit for the group and a Welcome (ratchet tree inline)
    /// for added members, and moves this member to the new epoch.
    ///
    /// An empty list is a self-update (fresh keys on the whole path: post-compromise
    /// security).
    ///
    /// # Errors
    /// [`GroupError::InvalidProposals`] and the other proposal checks, [`GroupError::UnknownPsk`],
    /// TreeKEM and key-schedule errors. On error the state is unchanged.
    pub fn commit(
        &mut self,
        proposals: Vec<Proposal>,
        external_psk: ExternalPsks<'_>,
    ) -> Result<CommitOutput, GroupError> {
        let (output, _) = self.commit_as(proposals, external_psk, WireFormat::PublicMessage)?;
        Ok(output)
    }

    /// [`GroupState::commit`] sent as `wire_format` (a PrivateMessage hides the proposals
    /// and the path from the delivery service), also returning what the commit changed.
    pub(crate) fn commit_as(
        &mut self,
        proposals: Vec<Proposal>,
        external_psk: ExternalPsks<'_>,
        wire_format: WireFormat,
    ) -> Result<(CommitOutput, AppliedCommit), GroupError> {
        let own = self.own_leaf();
        let listed: Vec<(Proposal, Sender)> = proposals
            .iter()
            .cloned()
            .map(|p| (p, Sender::Member(own)))
            .collect();
        let applied = apply(
            &self.tree,
            &self.context.group_id,
            &listed,
            Some(own),
            self.config.now,
        )?;
        if applied.external_init.is_some() {
            return Err(GroupError::InvalidProposals(
                "ExternalInit in a member commit",
            ));
        }
        let mut tree = applied.tree;
        let extensions = applied
            .extensions
            .unwrap_or_else(|| self.context.extensions.clone());
        let template = tree.leaf(own).ok_or(GroupError::NotInTree)?.clone();
        let group_id = self.context.group_id.clone();
        let prepared = prepare_update_path(&mut tree, own, template, &self.signer, &group_id)?;
        let provisional = GroupContext {
            epoch: self.context.epoch + 1,
            tree_hash: tree.tree_hash()?.to_vec(),
            extensions: extensions.clone(),
            ..self.context.clone()
        };
        // Path secrets for the Welcome, copied before `encrypt` consumes the path.
        let mut joiner_paths = Vec::with_capacity(applied.added.len());
        for leaf in &applied.added {
            let secret = prepared
                .path_secret_for(*leaf)
                .map(|(_, s)| Secret::new(s.expose_secret().to_vec()));
            joiner_paths.push(secret);
        }
        let mut keys_after = PathKeys::new(own, self.own_leaf_key()?);
        self.copy_keys_into(&mut keys_after);
        let (path, commit_secret) =
            prepared.encrypt(&tree, &provisional, &applied.added, &mut keys_after)?;

        let content = FramedContent {
            group_id: group_id.clone(),
            epoch: self.context.epoch,
            sender: Sender::Member(own),
            authenticated_data: Vec::new(),
            content: Content::Commit(Box::new(Commit {
                proposals: proposals.into_iter().map(ProposalOrRef::Proposal).collect(),
                path: Some(path),
            })),
        };
        let signature = content.sign(wire_format, &self.context, &self.signer)?;
        let authenticated = AuthenticatedContent {
            wire_format,
            content,
            auth: FramedContentAuthData {
                signature,
                confirmation_tag: None,
            },
        };
        let confirmed = confirmed_transcript_hash(&self.interim_transcript_hash, &authenticated)?;
        let context = GroupContext {
            epoch: self.context.epoch + 1,
            tree_hash: tree.tree_hash()?.to_vec(),
            confirmed_transcript_hash: confirmed.to_vec(),
            extensions,
            ..self.context.clone()
        };
        let mut inputs = Vec::with_capacity(applied.psks.len());
        for id in &applied.psks {
            let secret = resolve_psk(id, &group_id, &self.resumption_psks, external_psk)
                .ok_or(GroupError::UnknownPsk)?;
            inputs.push(PskInput {
                id: id.clone(),
                secret,
            });
        }
        let psk = psk_secret(&inputs)?;
        let mut schedule = KeySchedule::new(secret_of(self.epoch.init_secret()));
        let (joiner, epoch) =
            schedule.advance(commit_secret.expose_secret(), psk.expose_secret(), &context)?;
        let tag = epoch.confirmation_tag(&confirmed)?;
        // Protecting a PrivateMessage consumes a handshake key of this epoch: work on a copy
        // of the secret tree so a failure below leaves the state untouched.
        let mut secret_tree = self.secret_tree.clone();
        let message = match wire_format {
            WireFormat::PublicMessage => MlsMessage::Public(PublicMessage::protect(
                authenticated.content,
                Some(tag.to_vec()),
                &self.context,
                &self.signer,
                self.epoch.membership_key(),
            )?),
            WireFormat::PrivateMessage => {
                // Ed25519 is deterministic: `protect` signs to the same signature the
                // confirmed transcript hash above covers.
                MlsMessage::Private(PrivateMessage::protect(
                    &authenticated.content,
                    Some(tag.to_vec()),
                    &self.context,
                    &self.signer,
                    self.epoch.sender_data_secret(),
                    &mut secret_tree,
                    0,
                )?)
            }
            _ => return Err(GroupError::Unsupported("commit wire format")),
        };

        let welcome = if applied.added.is_empty() {
            None
        } else {
            let adds: Vec<&KeyPackage> = listed
                .iter()
                .filter_map(|(p, _)| match p {
                    Proposal::Add(kp) => Some(kp.as_ref()),
                    _ => None,
                })
                .collect();
            Some(self.welcome(
                &tree,
                &context,
                &tag,
                &joiner,
                psk.expose_secret(),
                &applied.psks,
                &adds,
                joiner_paths,
            )?)
        };

        let interim = interim_transcript_hash(&confirmed, &tag)?;
        keys_after.prune(&tree);
        self.secret_tree = secret_tree;
        let retired = self.enter_epoch(keys_after, tree, context, epoch, interim.to_vec());
        let removed = listed
            .iter()
            .filter_map(|(p, _)| match p {
                Proposal::Remove { removed } => Some(LeafIndex(*removed)),
                _ => None,
            })
            .collect();
        Ok((
            CommitOutput {
                commit: message,
                welcome,
            },
            AppliedCommit {
                committer: Some(own),
                added: applied.added,
                removed,
                retired: Some(retired),
            },
        ))
    }

    /// Builds the Welcome of a commit (§12.4.3): the signed GroupInfo of the new epoch with
    /// the ratchet tree inline, encrypted under the welcome key, and per joiner the
    /// GroupSecrets sealed to its KeyPackage init key.
    #[allow(
        clippy::too_many_arguments,
        reason = "each input is a distinct value of the commit being built"
    )]
    fn welcome(
        &self,
        tree: &RatchetTree,
        context: &GroupContext,
        confirmation_tag: &[u8; NH],
        joiner: &JoinerSecret,
        psk_secret: &[u8],
        psks: &[crate::mls::psk::PreSharedKeyId],
        adds: &[&KeyPackage],
        paths: Vec<Option<Secret<Vec<u8>>>>,
    ) -> Result<Welcome, GroupError> {
        let mut info = GroupInfo {
            group_context: context.clone(),
            extensions: vec![Extension {
                extension_type: RATCHET_TREE_EXTENSION,
                extension_data: tree.to_bytes()?,
            }],
            confirmation_tag: confirmation_tag.to_vec(),
            signer: self.own_leaf(),
            signature: Vec::new(),
        };
        info.sign(&self.signer)?;
        let welcome_secret = joiner.welcome_secret(psk_secret)?;
        let ws = welcome_secret.expose_secret();
        let key = AeadKey::new(
            expand_with_label::<NK>(ws, "key", &[])?,
            expand_with_label::<NN>(ws, "nonce", &[])?,
        );
        let encrypted_group_info = key.seal(&[], &info.to_bytes()?)?;
        let mut secrets = Vec::with_capacity(adds.len());
        for (kp, path_secret) in adds.iter().zip(paths) {
            let group_secrets = GroupSecrets {
                joiner_secret: JoinerSecret::new(hash_secret(joiner.expose_secret())?),
                path_secret,
                psks: psks.to_vec(),
            };
            let init_key = crate::mls::crypto::HpkePublicKey::from_bytes(&kp.init_key)
                .map_err(crate::mls::crypto::CryptoError::from)?;
            let encrypted = encrypt_with_label(
                &init_key,
                "Welcome",
                &encrypted_group_info,
                group_secrets.to_bytes()?.expose_secret(),
            )?;
            secrets.push(EncryptedGroupSecrets {
                new_member: kp.reference()?.to_vec(),
                encrypted_group_secrets: encrypted,
            });
        }
        Ok(Welcome {
            cipher_suite: context.cipher_suite,
            secrets,
            encrypted_group_info,
        })
    }

    /// Encrypts application data as a PrivateMessage of the current epoch.
    ///
    /// # Errors
    /// [`GroupError::Framing`] (e.g. an exhausted ratchet).
    pub fn encrypt_application(&mut self, data: &[u8]) -> Result<MlsMessage, GroupError> {
        let content = FramedContent {
            group_id: self.context.group_id.clone(),
            epoch: self.context.epoch,
            sender: Sender::Member(self.own_leaf()),
            authenticated_data: Vec::new(),
            content: Content::Application(data.to_vec()),
        };
        let message = PrivateMessage::protect(
            &content,
            None,
            &self.context,
            &self.signer,
            self.epoch.sender_data_secret(),
            &mut self.secret_tree,
            0,
        )?;
        Ok(MlsMessage::Private(message))
    }
}
