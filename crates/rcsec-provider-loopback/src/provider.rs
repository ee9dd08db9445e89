//! The loopback provider: capability answers and deliveries from the roster, in process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use rcsec::message::{MessageBody, OutboundMessage};
use rcsec::sms::SmsGuard;
use rcsec::{DeliveryId, HpkeDeviceEnvelope, MessageId, MessagingProvider, Responder, SendError};
use rcsec_capability::{
    Capability, CapabilityError, CapabilityProvider, Carrier, E2ee, Reach, Route, Source,
};
use rcsec_core::{Clock, Msisdn, Timestamp};
use rcsec_keying::hpke::{self, PrivateKey, PublicKey};

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

#[derive(Debug)]
struct Phone {
    entry: RosterEntry,
    device_key: Option<PublicKey>,
    device_secret: Option<PrivateKey>,
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
    /// `simulated_device` get a fresh device key pair.
    ///
    /// # Errors
    /// [`RosterError::KeyGeneration`].
    pub fn new(roster: &Roster, clock: Arc<dyn Clock>) -> Result<Self, RosterError> {
        let mut phones = Vec::with_capacity(roster.entries().len());
        for entry in roster.entries() {
            let (device_key, device_secret) = if entry.simulated_device {
                let (sk, pk) = hpke::generate_key_pair().map_err(|_| RosterError::KeyGeneration)?;
                (Some(pk), Some(sk))
            } else {
                (entry.device_public_key, None)
            };
            phones.push(Phone {
                entry: entry.clone(),
                device_key,
                device_secret,
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

    /// The roster as responders for the orchestrator (with device keys where enrolled).
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
                device_key: p.device_key,
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

    /// What the recipient's simulated device reads from an encrypted-push record; `None` when
    /// the record is not a push envelope, the number has no simulated device, or it does not
    /// open.
    pub fn open_push(&self, record: &SentRecord) -> Option<Vec<u8>> {
        let MessageBody::Encrypted { ciphertext } = &record.message.body else {
            return None;
        };
        let inner = self.lock();
        let phone = inner
            .phones
            .iter()
            .find(|p| p.entry.number == record.message.recipient)?;
        HpkeDeviceEnvelope::open(
            phone.device_secret.as_ref()?,
            &record.message.alert,
            &record.message.id,
            ciphertext,
        )
        .ok()
    }

    fn can_carry(phone: &Phone, route: Route) -> bool {
        let e = &phone.entry;
        match route {
            Route::RcsE2ee => e.reach == Reach::Rcs && e.e2ee == E2ee::Verified,
            Route::RcsPlain => e.reach == Reach::Rcs,
            Route::SmsLink => e.reach != Reach::Unreachable,
            Route::EncryptedPush => phone.device_key.is_some(),
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
