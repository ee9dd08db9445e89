//! The phone's side of a push page: join the team group from a Welcome, follow commits, and
//! open pages only for the alert and message they were sent as, only from the orchestrator.
//!
//! The rcsec app on a phone does exactly this; tests, the loopback simulator and the demo use
//! it as their "phone".

use std::fmt;

use rcsec_core::{AlertId, Secret};
use rcsec_keying::device::{Device, KeyPackageBundle};
use rcsec_keying::group::{CommitEffect, Group, GroupConfig};
use rcsec_keying::mls::codec::Decode;
use rcsec_keying::mls::crypto::SignaturePublicKey;
use rcsec_keying::mls::framing::MlsMessage;

use super::ProtectError;
use crate::message::MessageId;

const AAD_DOMAIN: &[u8] = b"rcsec/v1/push-page\0";

/// The authenticated data of a page: a domain label, then the alert id and the message id,
/// each length-prefixed. Sent in the clear (the push gateway already sees both ids), so it
/// must never carry content.
pub fn page_aad(alert: &AlertId, message: &MessageId) -> Vec<u8> {
    let (a, m) = (alert.as_str().as_bytes(), message.as_str().as_bytes());
    let mut aad = Vec::with_capacity(AAD_DOMAIN.len() + 8 + a.len() + m.len());
    aad.extend_from_slice(AAD_DOMAIN);
    for part in [a, m] {
        aad.extend_from_slice(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
        aad.extend_from_slice(part);
    }
    aad
}

/// One enrolled phone's membership in a team group.
pub struct PagedDevice {
    group: Group,
    orchestrator: SignaturePublicKey,
}

impl fmt::Debug for PagedDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PagedDevice")
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

impl PagedDevice {
    /// Joins from the Welcome the orchestrator returned at enrolment, with the key package
    /// bundle it was made for. `orchestrator` is the signature key pages must come from,
    /// learnt out of band (the enrolment channel), never from the Welcome itself: another
    /// member of the team could otherwise sign "pages" too.
    ///
    /// # Errors
    /// [`ProtectError::Open`] for a Welcome that does not open or a group the orchestrator is
    /// not a member of.
    pub fn join(
        welcome: &[u8],
        bundle: KeyPackageBundle,
        device: &Device,
        orchestrator: SignaturePublicKey,
    ) -> Result<Self, ProtectError> {
        let group = Group::join(welcome, bundle, device, GroupConfig::default())
            .map_err(|_| ProtectError::Open)?;
        if group.find_member(&orchestrator).is_none() {
            return Err(ProtectError::Open);
        }
        Ok(Self {
            group,
            orchestrator,
        })
    }

    /// Applies a membership change the orchestrator committed (another device added or
    /// removed, a self-update).
    ///
    /// # Errors
    /// [`ProtectError::Open`] when the commit does not apply.
    pub fn process_commit(&mut self, commit: &[u8]) -> Result<CommitEffect, ProtectError> {
        self.group
            .process_commit(commit)
            .map_err(|_| ProtectError::Open)
    }

    /// Opens a page delivered as `alert` / `message`.
    ///
    /// The authenticated data is compared *before* decryption, so an envelope replayed under
    /// other ids costs no ratchet key (the genuine delivery still opens). After decryption the
    /// sender must be the orchestrator.
    ///
    /// # Errors
    /// [`ProtectError::Open`] for anything but an intact, first-seen page of this group for
    /// these ids from the orchestrator.
    pub fn open(
        &mut self,
        alert: &AlertId,
        message: &MessageId,
        envelope: &[u8],
    ) -> Result<Secret<Vec<u8>>, ProtectError> {
        let Ok(MlsMessage::Private(private)) = MlsMessage::from_bytes(envelope) else {
            return Err(ProtectError::Open);
        };
        if private.authenticated_data != page_aad(alert, message) {
            return Err(ProtectError::Open);
        }
        let opened = self
            .group
            .decrypt(envelope)
            .map_err(|_| ProtectError::Open)?;
        let from_orchestrator = self
            .group
            .members()
            .iter()
            .any(|m| m.leaf == opened.sender() && m.signature_key == self.orchestrator);
        if !from_orchestrator {
            return Err(ProtectError::Open);
        }
        Ok(opened.into_data())
    }

    /// The group as this phone sees it (epoch, epoch authenticator for comparison).
    pub fn group(&self) -> &Group {
        &self.group
    }
}
