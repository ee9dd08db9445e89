//! Protecting the payload of the `encrypted_push` route: an MLS `PrivateMessage` of the
//! responder's team group.
//!
//! # Design
//! The orchestrator is a member of each team group ([`MlsTeamProtector`]), next to the team's
//! enrolled phones. A page for a responder whose [`Responder::push_group`] names such a group
//! is encrypted with [`Group::encrypt_with_aad`](rcsec_keying::group::Group::encrypt_with_aad)
//! under the orchestrator's sender ratchet; the authenticated data binds the alert id and the
//! message id ([`page_aad`]), so an envelope replayed as another alert or message is refused
//! by the phone before it spends a key ([`PagedDevice::open`]). The push gateway and the
//! provider see an RFC 9420 `MLSMessage` and nothing else.
//!
//! What MLS adds over sealing to one device key: several devices per responder, forward
//! secrecy per message (each ratchet key is deleted once used), removal that locks a lost
//! phone out of every later page, and post-compromise healing by self-updates.
//!
//! # Persistence before send
//! Every encryption advances the sender ratchet. If the advanced state were lost (a crash
//! after the ciphertext left), a restarted orchestrator would encrypt again under the same
//! generation: the same key and nonce for two plaintexts. So the protector stores the new
//! state — sealed with AES-256-GCM under a store key ([`GroupStateKey`]) — through a
//! [`GroupStore`] with compare-and-set on a version counter *before* it returns the
//! ciphertext. A failed or lost save returns an error and no ciphertext; the cached state is
//! then dropped and re-read, so the unreleased generation is simply used again.
//!
//! # Failure
//! A protector failure stops the page with [`OrchestratorError::Protect`](crate::OrchestratorError::Protect)
//! before anything is sent: nothing goes out in the clear in its place. Whether push is
//! offered at all is [`PushProtector::reaches`], which the policy sees as the
//! `device_enrolled` fact.

mod group_store;
mod mls;
mod page;
mod state_key;

#[cfg(any(test, feature = "test-utils"))]
pub mod conformance;

use std::fmt;

use async_trait::async_trait;
use rcsec_core::AlertId;

pub use group_store::{
    GroupStore, GroupStoreError, MemoryGroupStore, SealedGroupState, check_next_version,
};
pub use mls::{Enrolment, MembershipChange, MlsTeamProtector, epoch_fingerprint};
pub use page::{PagedDevice, page_aad};
pub use state_key::GroupStateKey;

use crate::message::MessageId;
use crate::responder::Responder;

/// Why a payload could not be protected or opened, or a group could not be changed. Never
/// carries plaintext, keys, state bytes or numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtectError {
    /// The responder has no push group this protector holds, or the group has no device.
    #[error("no enrolled push device for this responder")]
    NoDevice,
    /// The group operation (encryption, commit) failed.
    #[error("push payload could not be sealed")]
    Seal,
    /// The group state could not be stored or read; nothing was released.
    #[error("group state store failed")]
    Store,
    /// A stored group state did not unseal (wrong store key, tampering, or swapped rows).
    #[error("stored group state is unreadable")]
    CorruptState,
    /// Device side: the envelope is malformed, for another group, alert or message, not from
    /// the orchestrator, a replay, or was modified.
    #[error("push payload could not be opened")]
    Open,
    /// A membership change was refused (device already a member, unknown device, ...).
    #[error("membership change refused")]
    Membership,
}

/// Turns a push payload into ciphertext only the recipient's enrolled device(s) can read.
///
/// # Contract
/// - The output is readable only by the devices of `responder`'s push group: the push
///   gateway, the provider and rcsec's own stores see ciphertext only.
/// - It is bound to `alert` and `message`: an envelope replayed as another alert or message
///   is refused on the device.
/// - The same plaintext twice gives different ciphertexts.
/// - Any state the protection advanced is durable before `protect` returns.
/// - [`PushProtector::reaches`] is `true` only for responders `protect` can serve.
///
/// ```
/// use std::time::Duration;
/// use rcsec::core::{AlertId, Msisdn, Secret, Timestamp};
/// use rcsec::keying::device::{Device, ValidatedKeyPackage};
/// use rcsec::keying::group::GroupConfig;
/// use rcsec::protect::{GroupStateKey, MemoryGroupStore, MlsTeamProtector, PagedDevice};
/// use rcsec::{MessageId, ProtectError, PushProtector, Responder};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let now = Timestamp::from_secs(1_800_000_000);
/// let protector = MlsTeamProtector::open(
///     Device::generate("rcsec/orchestrator")?,
///     std::sync::Arc::new(MemoryGroupStore::new()),
///     GroupStateKey::new(Secret::new([9; 32])),
///     GroupConfig::default(),
/// ).await?;
///
/// // Enrol Alice's phone: its key package in, a Welcome out (delivered to the phone).
/// let phone = Device::generate("alice/phone")?;
/// let bundle = phone.key_package(now, Duration::from_secs(86_400))?;
/// let validated = ValidatedKeyPackage::validate(&bundle.key_package, now)?;
/// let enrolled = protector.enroll("oncall-db", &validated).await?;
/// let orchestrator_key = protector.signature_key("oncall-db").await?;
/// let mut alice_phone = PagedDevice::join(&enrolled.welcome, bundle, &phone, orchestrator_key)?;
///
/// let alice = Responder::new(Msisdn::parse("+447700900101")?, "Alice").with_push_group("oncall-db");
/// assert!(protector.reaches(&alice));
/// let (alert, message) = (AlertId::new("a1")?, MessageId::new("a1-alice-0")?);
/// let envelope = protector.protect(&alice, &alert, &message, b"db-7 password rotated").await?;
///
/// // What the phone does:
/// let other = MessageId::new("a1-alice-1")?;
/// assert_eq!(alice_phone.open(&alert, &other, &envelope).err(), Some(ProtectError::Open));
/// assert_eq!(alice_phone.open(&alert, &message, &envelope)?.expose_secret(), b"db-7 password rotated");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[async_trait]
pub trait PushProtector: Send + Sync + fmt::Debug + 'static {
    /// A short name for audit events and reports (`mls_team_group`, `none`).
    fn name(&self) -> &str;

    /// Whether [`PushProtector::protect`] can serve `responder` (an enrolled device exists).
    /// The policy sees this as the `device_enrolled` fact, so `false` closes the push route.
    fn reaches(&self, responder: &Responder) -> bool;

    /// Protects `plaintext` for `responder`'s device(s), bound to the alert and message.
    ///
    /// # Errors
    /// [`ProtectError::NoDevice`], [`ProtectError::Seal`], [`ProtectError::Store`],
    /// [`ProtectError::CorruptState`]. On error no ciphertext exists.
    async fn protect(
        &self,
        responder: &Responder,
        alert: &AlertId,
        message: &MessageId,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, ProtectError>;
}

#[cfg(test)]
fn _obj_safe(_: &dyn PushProtector) {}

/// The default protector: no push devices anywhere, so the push route is never chosen and
/// content falls back to the other routes the policy allows. Wire an [`MlsTeamProtector`]
/// to offer app-encrypted push.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPushDevices;

#[async_trait]
impl PushProtector for NoPushDevices {
    fn name(&self) -> &str {
        "none"
    }

    fn reaches(&self, _: &Responder) -> bool {
        false
    }

    async fn protect(
        &self,
        _: &Responder,
        _: &AlertId,
        _: &MessageId,
        _: &[u8],
    ) -> Result<Vec<u8>, ProtectError> {
        Err(ProtectError::NoDevice)
    }
}
