//! The loopback provider: capability answers and deliveries from the roster, in process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use rcsec::message::{MessageBody, OutboundMessage};
use rcsec::protect::{GroupStateKey, MemoryGroupStore, MlsTeamProtector, PagedDevice};
use rcsec::sms::SmsGuard;
use rcsec::{DeliveryId, MessageId, MessagingProvider, ProtectError, Responder, SendError};
use rcsec_capability::{
    Capability, CapabilityError, CapabilityProvider, Carrier, E2ee, Reach, Route, Source,
};
use rcsec_core::{Clock, Msisdn, Secret, Timestamp};
use rcsec_keying::device::{Device, KeyPackageBundle, ValidatedKeyPackage};
use rcsec_keying::group::GroupConfig;

use crate::roster::{Roster, RosterEntry, RosterError};

/// A failure the loopback produces on command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoopbackFailure {
    /// [`SendError::Transient`] before accepting.
    Transient,
    /// Accept the message, then report [`SendError::Transient`] (an ambiguous failure).
    TransientAfterAccept,
    /// [`SendError::RateLimited`] with the given hint.
    RateLimited(Duration),
    /// [`SendError::Rejected`].
    Rejected,
    /// [`SendError::NotReachable`], as a provider answers for a number it cannot reach.
    NotReachable,
}

/// One message the loopback accepted.
#[derive(Debug, Clone)]
pub struct SentRecord {
    /// The message as handed over.
    pub message: OutboundMessage,
    /// The id the loopback returned.
    pub delivery: DeliveryId,
    /// When it was accepted.
    pub at: Timestamp,
}

/// How long a simulated phone's key package stays valid (enrolment normally follows load).
const KEY_PACKAGE_LIFETIME: Duration = Duration::from_secs(7 * 86_400);

/// The group a simulated phone with no roster `group` joins.
const DEFAULT_TEAM: &str = "loopback";

/// The phone's app: a device identity waiting to be enrolled, then a member of its team group.
#[derive(Debug)]
enum App {
    Pending(Box<Enrolling>),
    Joined {
        group: String,
        phone: Box<PagedDevice>,
    },
}

/// A phone's identity and the key package it will be enrolled with.
#[derive(Debug)]
struct Enrolling {
    device: Device,
    bundle: KeyPackageBundle,
}

#[derive(Debug)]
struct Phone {
    entry: RosterEntry,
    app: Option<App>,
}

impl Phone {
    fn team(&self) -> &str {
        if self.entry.group.is_empty() {
            DEFAULT_TEAM
        } else {
            &self.entry.group
        }
    }

    fn joined_group(&self) -> Option<&str> {
        match &self.app {
            Some(App::Joined { group, .. }) => Some(group),
            _ => None,
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    phones: Vec<Phone>,
    sent: Vec<SentRecord>,
    by_id: HashMap<MessageId, DeliveryId>,
    script: Vec<LoopbackFailure>,
    attempts: usize,
    queries: usize,
}

/// A roster-driven simulator of a messaging provider and its capability API.
#[derive(Debug)]
pub struct LoopbackProvider {
    name: String,
    routes: Vec<Route>,
    sms_guard: Option<SmsGuard>,
    clock: Arc<dyn Clock>,
    inner: Mutex<Inner>,
}

impl LoopbackProvider {
    /// A provider named `loopback` for `roster`, carrying every route. Entries with
    /// `simulated_device` get a device identity and a key package, ready for
    /// [`LoopbackProvider::enroll_devices`].
    ///
    /// # Errors
    /// [`RosterError::KeyGeneration`].
    pub fn new(roster: &Roster, clock: Arc<dyn Clock>) -> Result<Self, RosterError> {
        let now = clock.now();
        let mut phones = Vec::with_capacity(roster.entries().len());
        for (index, entry) in roster.entries().iter().enumerate() {
            let app = if entry.simulated_device {
                let device = Device::generate(format!("loopback/phone-{index}"))
                    .map_err(|_| RosterError::KeyGeneration)?;
                let bundle = device
                    .key_package(now, KEY_PACKAGE_LIFETIME)
                    .map_err(|_| RosterError::KeyGeneration)?;
                Some(App::Pending(Box::new(Enrolling { device, bundle })))
            } else {
                None
            };
            phones.push(Phone {
                entry: entry.clone(),
                app,
            });
        }
        Ok(Self {
            name: "loopback".to_owned(),
            routes: vec![
                Route::RcsE2ee,
                Route::EncryptedPush,
                Route::RcsPlain,
                Route::SmsLink,
            ],
            sms_guard: None,
            clock,
            inner: Mutex::new(Inner {
                phones,
                ..Inner::default()
            }),
        })
    }

    /// Renames it (a lowercase code, e.g. `loopback-b`) and limits the routes it carries.
    #[must_use]
    pub fn with_name_and_routes(mut self, name: &str, routes: &[Route]) -> Self {
        name.clone_into(&mut self.name);
        self.routes = routes.to_vec();
        self
    }

    /// Refuses SMS texts `guard` does not allow (the policy's template with a one-time link),
    /// as a real SMS adapter does; without one any SMS-shaped body is carried.
    #[must_use]
    pub fn with_sms_guard(mut self, guard: SmsGuard) -> Self {
        self.sms_guard = Some(guard);
        self
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned simulator is still a simulator: keep serving what was recorded.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Enrols every simulated phone not yet enrolled in its team group through `protector`:
    /// the phone's key package is validated and added, the phone joins from the Welcome, and
    /// phones already in the group process the commit. Returns how many joined.
    ///
    /// # Errors
    /// The protector's [`ProtectError`]; [`ProtectError::Open`] when a Welcome does not open.
    pub async fn enroll_devices(
        &self,
        protector: &MlsTeamProtector,
    ) -> Result<usize, ProtectError> {
        let now = self.clock.now();
        let pending: Vec<(usize, String, Box<Enrolling>)> = {
            let mut inner = self.lock();
            inner
                .phones
                .iter_mut()
                .enumerate()
                .filter_map(|(i, p)| {
                    let team = p.team().to_owned();
                    match p.app.take() {
                        Some(App::Pending(d)) => Some((i, team, d)),
                        other => {
                            p.app = other;
                            None
                        }
                    }
                })
                .collect()
        };
        let mut joined = 0;
        for (index, team, pending) in pending {
            let Enrolling { device, bundle } = *pending;
            let validated = ValidatedKeyPackage::validate(&bundle.key_package, now)
                .map_err(|_| ProtectError::Membership)?;
            let enrolment = protector.enroll(&team, &validated).await?;
            let orchestrator = protector.signature_key(&team).await?;
            self.deliver_commit(&team, &enrolment.change.commit)?;
            let phone = PagedDevice::join(&enrolment.welcome, bundle, &device, orchestrator)?;
            if let Some(p) = self.lock().phones.get_mut(index) {
                p.app = Some(App::Joined {
                    group: team,
                    phone: Box::new(phone),
                });
                joined += 1;
            }
        }
        Ok(joined)
    }

    /// An [`MlsTeamProtector`] on an in-memory group store (a fixed store key: this is a
    /// simulator) with every simulated phone enrolled.
    ///
    /// # Errors
    /// As [`LoopbackProvider::enroll_devices`].
    pub async fn team_protector(&self) -> Result<Arc<MlsTeamProtector>, ProtectError> {
        let orchestrator =
            Device::generate("rcsec/orchestrator").map_err(|_| ProtectError::Seal)?;
        let protector = MlsTeamProtector::open(
            orchestrator,
            Arc::new(MemoryGroupStore::new()),
            GroupStateKey::new(Secret::new([0x5a; 32])),
            GroupConfig::default(),
        )
        .await?;
        self.enroll_devices(&protector).await?;
        Ok(Arc::new(protector))
    }

    /// Hands a commit of `group` (a device added or removed, a self-update) to every simulated
    /// phone in it, as the push gateway would.
    ///
    /// # Errors
    /// [`ProtectError::Open`] when a phone cannot apply it.
    pub fn deliver_commit(&self, group: &str, commit: &[u8]) -> Result<(), ProtectError> {
        for p in &mut self.lock().phones {
            if let Some(App::Joined { group: g, phone }) = &mut p.app
                && g == group
            {
                phone.process_commit(commit)?;
            }
        }
        Ok(())
    }

    /// The epoch and epoch fingerprint `number`'s simulated phone is in, if it joined a group
    /// (to compare with the orchestrator's).
    pub fn device_epoch(&self, number: &Msisdn) -> Option<(u64, String)> {
        let inner = self.lock();
        let p = inner.phones.iter().find(|p| &p.entry.number == number)?;
        match &p.app {
            Some(App::Joined { phone, .. }) => Some((
                phone.group().epoch(),
                rcsec::protect::epoch_fingerprint(phone.group()),
            )),
            _ => None,
        }
    }

    /// The roster as responders for the orchestrator (with the push group of each phone that
    /// joined one).
    pub fn responders(&self) -> Vec<Responder> {
        self.lock()
            .phones
            .iter()
            .map(|p| Responder {
                number: p.entry.number.clone(),
                name: p.entry.name.clone(),
                group: p.entry.group.clone(),
                region: p.entry.region.as_deref().map(rcsec_policy::Region::new),
                step: p.entry.step,
                push_group: p.joined_group().map(str::to_owned),
                consent: consent_ledger(&p.entry.consent),
                utc_offset: None,
            })
            .collect()
    }

    /// Changes what the provider reports for `number` from now on; `false` if unknown.
    pub fn set_capability(&self, number: &Msisdn, reach: Reach, e2ee: E2ee) -> bool {
        let mut inner = self.lock();
        match inner.phones.iter_mut().find(|p| &p.entry.number == number) {
            Some(p) => {
                p.entry.reach = reach;
                p.entry.e2ee = e2ee;
                true
            }
            None => false,
        }
    }

    /// Makes the next `n` sends fail with `failure`.
    pub fn fail_next(&self, n: usize, failure: LoopbackFailure) {
        self.lock().script.extend(std::iter::repeat_n(failure, n));
    }

    /// Every accepted message, once per idempotency key, in order.
    pub fn sent(&self) -> Vec<SentRecord> {
        self.lock().sent.clone()
    }

    /// The accepted messages to `number`.
    pub fn sent_to(&self, number: &Msisdn) -> Vec<SentRecord> {
        self.lock()
            .sent
            .iter()
            .filter(|s| &s.message.recipient == number)
            .cloned()
            .collect()
    }

    /// Calls to `send`, including failed and repeated ones.
    pub fn attempts(&self) -> usize {
        self.lock().attempts
    }

    /// Capability queries answered.
    pub fn queries(&self) -> usize {
        self.lock().queries
    }

    /// What the recipient's simulated phone reads from an encrypted-push record; `None` when
    /// the record is not a push payload, the number has no enrolled phone, or the payload
    /// does not open (wrong ids, not from the orchestrator, a replay: each page opens once).
    pub fn open_push(&self, record: &SentRecord) -> Option<Vec<u8>> {
        let MessageBody::Encrypted { ciphertext } = &record.message.body else {
            return None;
        };
        let mut inner = self.lock();
        let phone = inner
            .phones
            .iter_mut()
            .find(|p| p.entry.number == record.message.recipient)?;
        let Some(App::Joined { phone, .. }) = &mut phone.app else {
            return None;
        };
        phone
            .open(&record.message.alert, &record.message.id, ciphertext)
            .ok()
            .map(|plain| plain.expose_secret().clone())
    }

    fn can_carry(phone: &Phone, route: Route) -> bool {
        let e = &phone.entry;
        match route {
            Route::RcsE2ee => e.reach == Reach::Rcs && e.e2ee == E2ee::Verified,
            Route::RcsPlain => e.reach == Reach::Rcs,
            Route::SmsLink => e.reach != Reach::Unreachable,
            Route::EncryptedPush => phone.joined_group().is_some(),
            Route::Blocked => false,
        }
    }
}

#[async_trait]
impl CapabilityProvider for LoopbackProvider {
    fn name(&self) -> &str {
        &self.name
    }

    async fn query(&self, number: &Msisdn) -> Result<Capability, CapabilityError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        inner.queries += 1;
        let phone = inner
            .phones
            .iter()
            .find(|p| &p.entry.number == number)
            .ok_or(CapabilityError::NotFound)?;
        let e = &phone.entry;
        if e.reach == Reach::SmsOnly {
            return Err(CapabilityError::NotFound);
        }
        let mut cap = Capability::new(e.reach, e.e2ee, Source::Provider, now);
        if let Some(c) = &e.carrier {
            cap = cap.with_carrier(Carrier::new(c));
        }
        Ok(cap)
    }
}

#[async_trait]
impl MessagingProvider for LoopbackProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn routes(&self) -> &[Route] {
        &self.routes
    }

    async fn send(&self, message: &OutboundMessage) -> Result<DeliveryId, SendError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        inner.attempts += 1;
        // The provider contract: only carried routes, only bodies shaped for their route, only
        // guarded SMS text; refused before anything is "delivered".
        let sms_refused = match (&self.sms_guard, &message.body) {
            (Some(guard), MessageBody::Sms { text }) => guard.check(text.expose()).is_err(),
            _ => false,
        };
        if !self.routes.contains(&message.route) || !message.body.fits(message.route) || sms_refused
        {
            return Err(SendError::Rejected);
        }
        let scripted = if inner.script.is_empty() {
            None
        } else {
            Some(inner.script.remove(0))
        };
        match scripted {
            Some(LoopbackFailure::Transient) => return Err(SendError::Transient),
            Some(LoopbackFailure::RateLimited(retry_after)) => {
                return Err(SendError::RateLimited { retry_after });
            }
            Some(LoopbackFailure::Rejected) => return Err(SendError::Rejected),
            Some(LoopbackFailure::NotReachable) => return Err(SendError::NotReachable),
            Some(LoopbackFailure::TransientAfterAccept) | None => {}
        }
        if let Some(existing) = inner.by_id.get(&message.id) {
            return Ok(existing.clone());
        }
        let phone = inner
            .phones
            .iter()
            .find(|p| p.entry.number == message.recipient)
            .ok_or(SendError::NotReachable)?;
        if !Self::can_carry(phone, message.route) {
            return Err(SendError::NotReachable);
        }
        let delivery = DeliveryId::new(format!("{}-{}", self.name, inner.sent.len() + 1));
        inner.by_id.insert(message.id.clone(), delivery.clone());
        inner.sent.push(SentRecord {
            message: message.clone(),
            delivery: delivery.clone(),
            at: now,
        });
        if scripted == Some(LoopbackFailure::TransientAfterAccept) {
            return Err(SendError::Transient);
        }
        Ok(delivery)
    }
}

/// Opt-ins from the roster, as granted at the epoch under terms version `roster`.
fn consent_ledger(categories: &[String]) -> rcsec_policy::consent::ConsentLedger {
    let mut ledger = rcsec_policy::consent::ConsentLedger::new();
    for c in categories {
        ledger.grant(c, Timestamp::EPOCH, "roster");
    }
    ledger
}
