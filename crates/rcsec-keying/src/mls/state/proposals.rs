//! Resolving and applying a commit's proposals (RFC 9420 §12.2, §12.3): by value or by
//! reference, checked against the list rules, applied to a copy of the tree in the order
//! GroupContextExtensions, Update, Remove, Add.

use std::collections::BTreeSet;

use super::super::crypto::NH;
use super::super::framing::{Proposal, ProposalOrRef, Sender};
use super::super::group_context::Extension;
use super::super::psk::PreSharedKeyId;
use super::super::tree::{LeafNodeContext, LeafSourceKind, RatchetTree};
use super::super::tree_math::LeafIndex;
use super::GroupError;

/// A proposal received in a handshake message of the current epoch, kept until a commit
/// references it.
#[derive(Debug, Clone)]
pub(super) struct CachedProposal {
    pub(super) reference: [u8; NH],
    pub(super) proposal: Proposal,
    pub(super) sender: Sender,
}

/// What applying a commit's proposals produced.
#[derive(Debug)]
pub(super) struct Applied {
    /// The tree after the proposals.
    pub(super) tree: RatchetTree,
    /// The new group context extensions, if replaced.
    pub(super) extensions: Option<Vec<Extension>>,
    /// Leaves added by this commit (excluded from the path encryption).
    pub(super) added: Vec<LeafIndex>,
    /// Leaves removed by this commit.
    pub(super) removed: Vec<LeafIndex>,
    /// PSKs to inject, in order.
    pub(super) psks: Vec<PreSharedKeyId>,
    /// The `kem_output` of an ExternalInit proposal.
    pub(super) external_init: Option<Vec<u8>>,
    /// Whether the proposal list forces the commit to carry a path (§12.4).
    pub(super) path_required: bool,
}

/// Resolves references against `cache`; proposals by value come from `committer`.
pub(super) fn resolve(
    list: &[ProposalOrRef],
    cache: &[CachedProposal],
    committer: Sender,
) -> Result<Vec<(Proposal, Sender)>, GroupError> {
    list.iter()
        .map(|p| match p {
            ProposalOrRef::Proposal(p) => Ok((p.clone(), committer)),
            ProposalOrRef::Reference(r) => cache
                .iter()
                .find(|c| c.reference.as_slice() == r.as_slice())
                .map(|c| (c.proposal.clone(), c.sender))
                .ok_or(GroupError::UnknownProposal),
        })
        .collect()
}

/// Checks the proposal-list rules of §12.2 and applies the list to a copy of `tree`.
///
/// `committer` is the committer's leaf for member commits, `None` for external commits.
pub(super) fn apply(
    tree: &RatchetTree,
    group_id: &[u8],
    proposals: &[(Proposal, Sender)],
    committer: Option<LeafIndex>,
    now: Option<u64>,
) -> Result<Applied, GroupError> {
    let mut out = Applied {
        tree: tree.clone(),
        extensions: None,
        added: Vec::new(),
        removed: Vec::new(),
        psks: Vec::new(),
        external_init: None,
        path_required: proposals.is_empty(),
    };
    let mut touched = BTreeSet::new();
    let mut psk_ids = Vec::new();
    let mut new_keys = BTreeSet::new();
    let reinit = proposals
        .iter()
        .any(|(p, _)| matches!(p, Proposal::ReInit { .. }));
    if reinit && proposals.len() > 1 {
        return Err(GroupError::InvalidProposals("ReInit must be alone"));
    }
    if reinit {
        return Err(GroupError::Unsupported("ReInit"));
    }

    // GroupContextExtensions: at most one.
    for (p, _) in proposals {
        if let Proposal::GroupContextExtensions(ext) = p {
            if out.extensions.is_some() {
                return Err(GroupError::InvalidProposals("two GroupContextExtensions"));
            }
            out.extensions = Some(ext.clone());
            out.path_required = true;
        }
    }
    // Updates: by members other than the committer, one per leaf.
    for (p, sender) in proposals {
        if let Proposal::Update(leaf) = p {
            let Sender::Member(index) = *sender else {
                return Err(GroupError::InvalidProposals("Update from a non-member"));
            };
            if Some(index) == committer {
                return Err(GroupError::InvalidProposals("committer's own Update"));
            }
            if !touched.insert(index) {
                return Err(GroupError::InvalidProposals("two changes to one leaf"));
            }
            leaf.validate(
                LeafSourceKind::Update,
                Some(LeafNodeContext {
                    group_id,
                    leaf_index: index,
                }),
                None,
            )
            .map_err(|reason| GroupError::InvalidLeaf {
                index: index.0,
                reason,
            })?;
            out.tree.update_leaf(index, (**leaf).clone())?;
            out.path_required = true;
        }
    }
    // Removes: of members, not the committer, one per leaf.
    for (p, _) in proposals {
        if let Proposal::Remove { removed } = p {
            let index = LeafIndex(*removed);
            if Some(index) == committer {
                return Err(GroupError::InvalidProposals("committer removes itself"));
            }
            if !touched.insert(index) {
                return Err(GroupError::InvalidProposals("two changes to one leaf"));
            }
            out.tree.remove_leaf(index)?;
            out.removed.push(index);
            out.path_required = true;
        }
    }
    // Adds: valid KeyPackages whose keys are new to the group.
    for (p, _) in proposals {
        if let Proposal::Add(kp) = p {
            kp.validate(now).map_err(GroupError::InvalidKeyPackage)?;
            let sig = kp.leaf_node.signature_key.clone();
            let clash = out.tree.members().any(|(_, l)| {
                l.signature_key == sig || l.encryption_key == kp.leaf_node.encryption_key
            });
            if clash || !new_keys.insert(sig) {
                return Err(GroupError::InvalidProposals("Add of an existing member"));
            }
            out.added.push(out.tree.add_leaf(kp.leaf_node.clone())?);
        }
    }
    for (p, sender) in proposals {
        match p {
            Proposal::PreSharedKey(id) => {
                if psk_ids.contains(id) {
                    return Err(GroupError::InvalidProposals("duplicate PSK"));
                }
                psk_ids.push(id.clone());
            }
            Proposal::ExternalInit { kem_output } => {
                if committer.is_some() || *sender != Sender::NewMemberCommit {
                    return Err(GroupError::InvalidProposals(
                        "ExternalInit in a member commit",
                    ));
                }
                if out.external_init.is_some() {
                    return Err(GroupError::InvalidProposals("two ExternalInit"));
                }
                out.external_init = Some(kem_output.clone());
                out.path_required = true;
            }
            _ => {}
        }
    }
    if committer.is_none() && out.external_init.is_none() {
        return Err(GroupError::InvalidProposals(
            "external commit without ExternalInit",
        ));
    }
    out.psks = psk_ids;
    Ok(out)
}
