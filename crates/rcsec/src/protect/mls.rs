//! [`MlsTeamProtector`]: the orchestrator as a member of each team group.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use rcsec_core::AlertId;
use rcsec_keying::device::{Device, ValidatedKeyPackage};
use rcsec_keying::group::{Group, GroupConfig, GroupError};
use rcsec_keying::mls::crypto::SignaturePublicKey;
use tokio::sync::Mutex;

use super::group_store::{GroupStore, GroupStoreError, SealedGroupState};
use super::page::page_aad;
use super::state_key::GroupStateKey;
use super::{ProtectError, PushProtector};
use crate::message::MessageId;
use crate::responder::Responder;

/// How often a save that lost a compare-and-set race is retried from the winner's state.
const CONFLICT_RETRIES: usize = 3;

/// What enrolling a device produced.
pub struct Enrolment {
    /// For the new device only: pass to [`PagedDevice::join`](super::PagedDevice::join). It is
    /// HPKE-sealed to the device's key package, so any channel may carry it.
    pub welcome: Vec<u8>,
    /// The same membership change for every device already in the group.
    pub change: MembershipChange,
}

impl fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Enrolment")
            .field("welcome_len", &self.welcome.len())
            .field("change", &self.change)
            .finish()
    }
}

/// A commit every existing device of the group must process
/// ([`PagedDevice::process_commit`](super::PagedDevice::process_commit)) before it can open
/// pages of the new epoch; it is a `PrivateMessage` of the previous epoch, safe on any channel.
pub struct MembershipChange {
    /// The commit.
    pub commit: Vec<u8>,
    /// The epoch the group is now in.
    pub epoch: u64,
    /// A short fingerprint of the new epoch's authenticator (RFC 9420 §8.7): the same on every
    /// member of the epoch, for comparison on a phone's screen.
    pub fingerprint: String,
}

impl fmt::Debug for MembershipChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MembershipChange")
            .field("commit_len", &self.commit.len())
            .field("epoch", &self.epoch)
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

/// The first 8 bytes of a group's epoch authenticator, hex: equal on every member of the
/// epoch. The authenticator is meant for out-of-band comparison, so showing a prefix of it
/// reveals nothing a member could not already show.
pub fn epoch_fingerprint(group: &Group) -> String {
    hex::encode(&group.epoch_authenticator()[..8])
}

struct Loaded {
    group: Group,
    version: u64,
}

/// The [`PushProtector`] that sends each page as an MLS `PrivateMessage` of the responder's
/// team group ([`Responder::push_group`]), persisting the advanced group state before the
/// ciphertext is returned. See the [module documentation](super).
///
/// Groups are created on first enrolment and identified by their name's bytes. All group
/// operations of one protector are serialized (a ratchet is sequential anyway); several
/// processes sharing a [`GroupStore`] stay consistent through its compare-and-set.
pub struct MlsTeamProtector {
    device: Device,
    config: GroupConfig,
    store: Arc<dyn GroupStore>,
    key: GroupStateKey,
    groups: Mutex<BTreeMap<Vec<u8>, Loaded>>,
    /// Groups with at least one device besides the orchestrator, for the synchronous
    /// [`PushProtector::reaches`].
    reachable: std::sync::Mutex<BTreeSet<Vec<u8>>>,
}

impl fmt::Debug for MlsTeamProtector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MlsTeamProtector")
            .field("device", &self.device)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

fn store_error(_: GroupStoreError) -> ProtectError {
    ProtectError::Store
}

fn has_devices(group: &Group) -> bool {
    group.members().len() > 1
}

impl MlsTeamProtector {
    /// A protector over `store`, loading (and so checking) every group already in it.
    /// `device` is the orchestrator's identity in groups it creates from now on; groups
    /// loaded from the store keep the identity they were created with.
    ///
    /// # Errors
    /// [`ProtectError::Store`]; [`ProtectError::CorruptState`] for a state that does not
    /// unseal under `key` or does not parse.
    pub async fn open(
        device: Device,
        store: Arc<dyn GroupStore>,
        key: GroupStateKey,
        config: GroupConfig,
    ) -> Result<Self, ProtectError> {
        let this = Self {
            device,
            config,
            store,
            key,
            groups: Mutex::new(BTreeMap::new()),
            reachable: std::sync::Mutex::new(BTreeSet::new()),
        };
        let ids = this.store.groups().await.map_err(store_error)?;
        let mut groups = this.groups.lock().await;
        for id in ids {
            if let Some(loaded) = this.load(&id).await? {
                this.mark(&id, &loaded.group);
                groups.insert(id, loaded);
            }
        }
        drop(groups);
        Ok(this)
    }

    fn mark(&self, id: &[u8], group: &Group) {
        let mut reachable = self
            .reachable
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if has_devices(group) && !group.is_removed() {
            reachable.insert(id.to_vec());
        } else {
            reachable.remove(id);
        }
    }

    async fn load(&self, id: &[u8]) -> Result<Option<Loaded>, ProtectError> {
        let Some(row) = self.store.load(id).await.map_err(store_error)? else {
            return Ok(None);
        };
        let plain = self.key.open(id, row.version, &row.sealed)?;
        let group =
            Group::from_bytes(plain.expose_secret()).map_err(|_| ProtectError::CorruptState)?;
        if group.group_id() != id {
            return Err(ProtectError::CorruptState);
        }
        Ok(Some(Loaded {
            group,
            version: row.version,
        }))
    }

    /// Applies `op` to the group `id` and stores the result before returning `op`'s output.
    ///
    /// If the store refuses or fails, the in-memory state (advanced by `op`) is discarded
    /// and re-read next time, and `op`'s output never leaves this function: that is what
    /// keeps an unsaved ratchet step from being released. A compare-and-set conflict means
    /// another process moved the group on; `op` is retried on its state.
    async fn update<T>(
        &self,
        id: &[u8],
        create: bool,
        mut op: impl FnMut(&mut Group) -> Result<T, ProtectError> + Send,
    ) -> Result<T, ProtectError> {
        let mut groups = self.groups.lock().await;
        for _ in 0..CONFLICT_RETRIES {
            let (mut loaded, expected) = match groups.remove(id) {
                Some(l) => {
                    let v = l.version;
                    (l, Some(v))
                }
                None => match self.load(id).await? {
                    Some(l) => {
                        let v = l.version;
                        (l, Some(v))
                    }
                    None if create => (
                        Loaded {
                            group: Group::create(id.to_vec(), &self.device, self.config)
                                .map_err(|_| ProtectError::Seal)?,
                            version: 0,
                        },
                        None,
                    ),
                    None => return Err(ProtectError::NoDevice),
                },
            };
            let out = op(&mut loaded.group)?;
            let version = loaded.version.checked_add(1).ok_or(ProtectError::Store)?;
            let state = loaded.group.to_bytes().map_err(|_| ProtectError::Seal)?;
            let sealed = SealedGroupState {
                version,
                sealed: self.key.seal(id, version, &state)?,
            };
            drop(state);
            match self.store.save(id, expected, &sealed).await {
                Ok(()) => {
                    loaded.version = version;
                    self.mark(id, &loaded.group);
                    groups.insert(id.to_vec(), loaded);
                    return Ok(out);
                }
                // Another writer saved first: drop our step, re-read theirs, try again.
                Err(GroupStoreError::Conflict) => {}
                Err(e) => return Err(store_error(e)),
            }
        }
        Err(ProtectError::Store)
    }

    /// Adds a device to the team group `group` (created with the orchestrator as its first
    /// member if it does not exist yet) from its validated key package — checked with
    /// [`ValidatedKeyPackage::validate`] (lifetime, signatures) or, to require that an
    /// enrolled device vouched for it, [`ChainVerifier::admit`](rcsec_keying::device::ChainVerifier::admit).
    ///
    /// # Errors
    /// [`ProtectError::Membership`] when the device is already a member; the store errors of
    /// the protector.
    pub async fn enroll(
        &self,
        group: &str,
        device: &ValidatedKeyPackage,
    ) -> Result<Enrolment, ProtectError> {
        self.update(group.as_bytes(), true, |g| {
            if g.find_member(&device.signature_key()).is_some() {
                return Err(ProtectError::Membership);
            }
            let added = g.add(std::slice::from_ref(device)).map_err(membership)?;
            let welcome = added.welcome.ok_or(ProtectError::Seal)?;
            Ok(Enrolment {
                welcome,
                change: MembershipChange {
                    commit: added.commit,
                    epoch: g.epoch(),
                    fingerprint: epoch_fingerprint(g),
                },
            })
        })
        .await
    }

    /// Removes the device holding `device` (its signature key) from `group`: it gets no secret
    /// of the new epoch and cannot open any later page.
    ///
    /// # Errors
    /// [`ProtectError::NoDevice`] for an unknown group; [`ProtectError::Membership`] for a
    /// device that is not a member (or the orchestrator itself).
    pub async fn remove(
        &self,
        group: &str,
        device: &SignaturePublicKey,
    ) -> Result<MembershipChange, ProtectError> {
        self.update(group.as_bytes(), false, |g| {
            let leaf = g.find_member(device).ok_or(ProtectError::Membership)?;
            let out = g.remove(&[leaf]).map_err(membership)?;
            Ok(MembershipChange {
                commit: out.commit,
                epoch: g.epoch(),
                fingerprint: epoch_fingerprint(g),
            })
        })
        .await
    }

    /// Refreshes the orchestrator's leaf and starts a new epoch (post-compromise security for
    /// the orchestrator's own state, and a fresh ratchet).
    ///
    /// # Errors
    /// [`ProtectError::NoDevice`] for an unknown group; the store errors of the protector.
    pub async fn self_update(&self, group: &str) -> Result<MembershipChange, ProtectError> {
        self.update(group.as_bytes(), false, |g| {
            let out = g.self_update().map_err(|_| ProtectError::Seal)?;
            Ok(MembershipChange {
                commit: out.commit,
                epoch: g.epoch(),
                fingerprint: epoch_fingerprint(g),
            })
        })
        .await
    }

    /// The orchestrator's signature key in `group`: what a phone checks pages against
    /// ([`PagedDevice::join`](super::PagedDevice::join)).
    ///
    /// # Errors
    /// [`ProtectError::NoDevice`] for an unknown group.
    pub async fn signature_key(&self, group: &str) -> Result<SignaturePublicKey, ProtectError> {
        self.inspect(group, |g| {
            g.members()
                .into_iter()
                .find(|m| m.leaf == g.own_leaf())
                .map(|m| m.signature_key)
                .ok_or(ProtectError::CorruptState)
        })
        .await?
    }

    /// The group's current epoch and its [`epoch_fingerprint`].
    ///
    /// # Errors
    /// [`ProtectError::NoDevice`] for an unknown group.
    pub async fn epoch(&self, group: &str) -> Result<(u64, String), ProtectError> {
        self.inspect(group, |g| (g.epoch(), epoch_fingerprint(g)))
            .await
    }

    /// The number of devices in `group` besides the orchestrator.
    ///
    /// # Errors
    /// [`ProtectError::NoDevice`] for an unknown group.
    pub async fn device_count(&self, group: &str) -> Result<usize, ProtectError> {
        self.inspect(group, |g| g.members().len().saturating_sub(1))
            .await
    }

    async fn inspect<T>(
        &self,
        group: &str,
        f: impl FnOnce(&Group) -> T,
    ) -> Result<T, ProtectError> {
        let id = group.as_bytes();
        let mut groups = self.groups.lock().await;
        if !groups.contains_key(id) {
            let loaded = self.load(id).await?.ok_or(ProtectError::NoDevice)?;
            groups.insert(id.to_vec(), loaded);
        }
        let loaded = groups.get(id).ok_or(ProtectError::NoDevice)?;
        Ok(f(&loaded.group))
    }
}

fn membership(e: GroupError) -> ProtectError {
    match e {
        GroupError::InvalidCommit(_) | GroupError::InvalidMember | GroupError::KeyPackage(_) => {
            ProtectError::Membership
        }
        _ => ProtectError::Seal,
    }
}

#[async_trait]
impl PushProtector for MlsTeamProtector {
    fn name(&self) -> &str {
        "mls_team_group"
    }

    fn reaches(&self, responder: &Responder) -> bool {
        responder.push_group.as_ref().is_some_and(|g| {
            self.reachable
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .contains(g.as_bytes())
        })
    }

    async fn protect(
        &self,
        responder: &Responder,
        alert: &AlertId,
        message: &MessageId,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, ProtectError> {
        let group = responder
            .push_group
            .as_ref()
            .ok_or(ProtectError::NoDevice)?;
        let aad = page_aad(alert, message);
        self.update(group.as_bytes(), false, |g| {
            if !has_devices(g) {
                return Err(ProtectError::NoDevice);
            }
            g.encrypt_with_aad(plaintext, &aad)
                .map_err(|_| ProtectError::Seal)
        })
        .await
    }
}
