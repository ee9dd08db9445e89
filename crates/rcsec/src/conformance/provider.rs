//! The [`MessagingProvider`] conformance suite: `rcsec::messaging_provider_tests!(make)`.
//!
//! `make` is called once per test, with no arguments, and returns a future of a
//! [`ProviderHarness`] (a fresh backend each time). The rules checked:
//!
//! - **Idempotent send**: the same [`MessageId`] sent twice is delivered once and answers the
//!   same [`DeliveryId`]; distinct ids to the same recipient are distinct deliveries.
//! - **Honest error classification**: a backend that is temporarily unavailable gives
//!   [`SendError::Transient`], throttling gives [`SendError::RateLimited`], an unknown
//!   recipient [`SendError::NotReachable`], a permanent refusal [`SendError::Rejected`]; after
//!   each, the retry of the same message is delivered exactly once. When the backend accepted
//!   but its answer was lost, the retry must not be a second delivery (only where the backend
//!   de-duplicates by the key the adapter passes).
//! - **Only what the route allows**: a body that does not fit its route
//!   ([`MessageBody::fits`]), plaintext on the ciphertext route, anything but the configured
//!   template with a link on SMS, and any message on a route the provider does not carry are
//!   [`SendError::Rejected`] and never reach the backend.
//! - **Leak nothing**: no error (`Display`, `Debug`, sources) and not the provider's `Debug`
//!   contains the recipient's number, the message text or a configured secret.
//! - **Health**: a provider whose backend serves reports itself up.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rcsec_core::{AlertId, Msisdn, Redacted, Route, Timestamp};

use super::{assert_free_of, renderings};
use crate::message::{ActionKind, MessageBody, MessageId, OutboundMessage};
use crate::provider::{DeliveryId, MessagingProvider, ProviderHealth, SendError};

/// When the suite's messages are created; they expire an hour later. A harness whose
/// provider reads a clock sets it to this instant.
pub const T0: Timestamp = Timestamp::from_secs(1_800_000_000);

/// Text put into every message and every refused body; no error may repeat it.
pub const CANARY: &str = "CANARY-conformance-db7-root-password-hunter2";

/// A failure the harness's backend produces for the next send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Temporarily unavailable before accepting (a 5xx, a timeout): expect
    /// [`SendError::Transient`]. Every harness must simulate this.
    Unavailable,
    /// Throttling (a 429 with a retry hint): expect [`SendError::RateLimited`].
    Throttled,
    /// The recipient is unknown on this route (an RBM or push-gateway 404): expect
    /// [`SendError::NotReachable`].
    UnknownRecipient,
    /// A permanent refusal (a 400): expect [`SendError::Rejected`]. Every harness must
    /// simulate this.
    Refused,
    /// The backend accepts the message, then the answer is lost (a 5xx after accepting):
    /// expect [`SendError::Transient`], and the retry must not deliver a second time.
    AnswerLost,
}

/// A provider under test and the backend behind it.
#[async_trait]
pub trait ProviderHarness: Send + Sync + 'static {
    /// The provider, wired to this harness's backend. It must carry at least one route.
    fn provider(&self) -> Arc<dyn MessagingProvider>;

    /// A recipient the backend delivers to on every route the provider carries.
    fn recipient(&self) -> Msisdn;

    /// An SMS text the provider accepts (its configured template with a one-time link).
    /// Only asked for when the provider carries [`Route::SmsLink`].
    fn sms_text(&self) -> String {
        String::new()
    }

    /// How many times the backend delivered (accepted) message `id`.
    async fn deliveries(&self, id: &MessageId) -> usize;

    /// Makes the backend answer the next send with `fault`; `false` when this backend has no
    /// such answer (the check is then skipped, and says so on stderr).
    async fn inject(&self, fault: Fault) -> bool;

    /// Configured secrets (passwords, bearer tokens) that must never appear in an error or a
    /// `Debug` rendering.
    fn secrets(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Expands one `#[test]` per provider conformance check; see [`crate::conformance::provider`].
#[macro_export]
macro_rules! messaging_provider_tests {
    ($make:expr) => {
        $crate::__messaging_provider_tests!($make;
            sends_once_per_idempotency_key, temporary_failure_is_transient_and_retry_delivers_once,
            throttling_is_rate_limited, unknown_recipient_is_not_reachable,
            permanent_refusal_is_rejected, lost_answer_retry_is_not_a_second_delivery,
            refuses_bodies_the_route_forbids, errors_and_debug_leak_nothing,
            healthy_backend_reports_up);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __messaging_provider_tests {
    ($make:expr; $($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                $crate::conformance::run($make, |h| async move {
                    $crate::conformance::provider::$name(::std::sync::Arc::new(h)).await
                });
            }
        )*
    };
}

/// The harness as the checks take it.
type Harness = Arc<dyn ProviderHarness>;

/// Routes that carry messages, in the policy's order.
const ROUTES: [Route; 4] = [
    Route::RcsE2ee,
    Route::EncryptedPush,
    Route::RcsPlain,
    Route::SmsLink,
];

fn carried(h: &Harness) -> Vec<Route> {
    let provider = h.provider();
    let routes: Vec<Route> = ROUTES
        .into_iter()
        .filter(|r| provider.routes().contains(r))
        .collect();
    assert!(
        !routes.is_empty(),
        "{} carries no route: nothing to test",
        provider.name()
    );
    routes
}

/// Bytes shaped like ciphertext: 96 bytes, invalid UTF-8 from the first byte on.
fn sealed() -> Vec<u8> {
    (0u8..96)
        .map(|i| 0x80 | (i.wrapping_mul(37) % 0x80))
        .collect()
}

fn text_body() -> MessageBody {
    MessageBody::Text {
        text: Redacted::new("text", format!("P1 DiskFull on db-1 /var at 97% {CANARY}")),
        actions: vec![ActionKind::Acknowledge, ActionKind::TakeOwnership],
    }
}

fn sms_body(h: &Harness) -> MessageBody {
    MessageBody::Sms {
        text: Redacted::new("text", h.sms_text()),
    }
}

/// The body that fits `route`, as the policy would shape it.
fn body_for(h: &Harness, route: Route) -> MessageBody {
    match route {
        Route::SmsLink => sms_body(h),
        Route::EncryptedPush => MessageBody::Encrypted {
            ciphertext: sealed(),
        },
        _ => text_body(),
    }
}

fn message(h: &Harness, id: &str, route: Route, body: MessageBody) -> OutboundMessage {
    OutboundMessage {
        id: MessageId::new(id).expect("suite ids are valid"),
        alert: AlertId::new("c4a1b2d3e4f50617").expect("valid alert id"),
        recipient: h.recipient(),
        route,
        body,
        created_at: T0,
        expires_at: T0.saturating_add(Duration::from_secs(3_600)),
    }
}

/// A deliverable message on the provider's first route.
fn deliverable(h: &Harness, id: &str) -> OutboundMessage {
    let route = carried(h)[0];
    message(h, id, route, body_for(h, route))
}

/// Everything that must not appear in an error or a `Debug` rendering.
fn needles(h: &Harness) -> Vec<String> {
    let e164 = h.recipient().expose_e164().to_owned();
    let digits = e164.trim_start_matches('+').to_owned();
    let tail = digits[digits.len().saturating_sub(8)..].to_owned();
    let mut needles = vec![CANARY.to_owned(), "hunter2".to_owned(), e164, digits, tail];
    needles.extend(h.secrets());
    needles
}

fn assert_leak_free(h: &Harness, errors: &[SendError]) {
    let mut texts = vec![format!("{:?}", h.provider())];
    for e in errors {
        texts.extend(renderings(e));
        texts.push(e.code().to_owned());
    }
    assert_free_of("provider error or Debug", &texts, &needles(h));
}

/// Sends `m` expecting the backend's failure; returns the error.
async fn send_err(h: &Harness, m: &OutboundMessage) -> SendError {
    match h.provider().send(m).await {
        Ok(d) => panic!("{} accepted {:?} as {d:?}", h.provider().name(), m.id),
        Err(e) => e,
    }
}

async fn send_ok(h: &Harness, m: &OutboundMessage) -> DeliveryId {
    match h.provider().send(m).await {
        Ok(d) => d,
        Err(e) => panic!(
            "{} failed {:?} on {}: {e:?}",
            h.provider().name(),
            m.id,
            m.route
        ),
    }
}

/// The same message id twice is one delivery with one answer, on every carried route;
/// another id to the same recipient is another delivery.
pub async fn sends_once_per_idempotency_key(h: Harness) {
    for route in carried(&h) {
        let m = message(
            &h,
            &format!("conf-once-{route}"),
            route,
            body_for(&h, route),
        );
        let first = send_ok(&h, &m).await;
        let second = send_ok(&h, &m).await;
        assert_eq!(
            first, second,
            "a retry on {route} answered another delivery"
        );
        assert_eq!(h.deliveries(&m.id).await, 1, "{route}: delivered twice");

        let other = message(
            &h,
            &format!("conf-other-{route}"),
            route,
            body_for(&h, route),
        );
        let third = send_ok(&h, &other).await;
        assert_ne!(third, first, "{route}: two messages, one delivery id");
        assert_eq!(h.deliveries(&other.id).await, 1, "{route}: second id lost");
    }
}

/// Injects `fault`, checks the error with `expected`, then checks the retry delivers once.
/// Returns the error, or `None` when the harness cannot produce the fault.
async fn fault_then_retry(
    h: &Harness,
    fault: Fault,
    id: &str,
    expected: fn(&SendError) -> bool,
) -> Option<SendError> {
    if !h.inject(fault).await {
        eprintln!(
            "conformance: {} harness has no {fault:?} answer; check skipped",
            h.provider().name()
        );
        return None;
    }
    let m = deliverable(h, id);
    let err = send_err(h, &m).await;
    assert!(expected(&err), "{fault:?} was classified as {err:?}");
    let accepted_before = h.deliveries(&m.id).await;
    let expected_before = usize::from(fault == Fault::AnswerLost);
    assert_eq!(accepted_before, expected_before, "{fault:?}: deliveries");
    send_ok(h, &m).await;
    assert_eq!(
        h.deliveries(&m.id).await,
        1,
        "after {fault:?} the retry must deliver exactly once"
    );
    Some(err)
}

/// A temporarily unavailable backend is `Transient`, and the retry delivers once.
pub async fn temporary_failure_is_transient_and_retry_delivers_once(h: Harness) {
    let err = fault_then_retry(&h, Fault::Unavailable, "conf-unavailable", |e| {
        matches!(e, SendError::Transient)
    })
    .await
    .expect("every harness must simulate a temporarily unavailable backend");
    assert_leak_free(&h, &[err]);
}

/// Throttling is `RateLimited` with a hint, and the retry delivers once.
pub async fn throttling_is_rate_limited(h: Harness) {
    let err = fault_then_retry(&h, Fault::Throttled, "conf-throttled", |e| {
        matches!(e, SendError::RateLimited { .. })
    })
    .await;
    assert_leak_free(&h, &err.into_iter().collect::<Vec<_>>());
}

/// An unknown recipient is `NotReachable` (the policy falls back), not a retry.
pub async fn unknown_recipient_is_not_reachable(h: Harness) {
    let err = fault_then_retry(&h, Fault::UnknownRecipient, "conf-unknown", |e| {
        matches!(e, SendError::NotReachable)
    })
    .await;
    assert_leak_free(&h, &err.into_iter().collect::<Vec<_>>());
}

/// A permanent refusal is `Rejected`, and is not remembered as a delivery.
pub async fn permanent_refusal_is_rejected(h: Harness) {
    let err = fault_then_retry(&h, Fault::Refused, "conf-refused", |e| {
        matches!(e, SendError::Rejected)
    })
    .await
    .expect("every harness must simulate a permanent refusal");
    assert_leak_free(&h, &[err]);
}

/// Accepted but the answer lost: `Transient`, and the retry is the same single delivery.
pub async fn lost_answer_retry_is_not_a_second_delivery(h: Harness) {
    let err = fault_then_retry(&h, Fault::AnswerLost, "conf-lost", |e| {
        matches!(e, SendError::Transient)
    })
    .await;
    assert_leak_free(&h, &err.into_iter().collect::<Vec<_>>());
}

/// Bodies that do not fit the route, plaintext as "ciphertext", SMS that is not the template
/// with a link, and routes the provider does not carry are all `Rejected` before the backend.
pub async fn refuses_bodies_the_route_forbids(h: Harness) {
    let provider = h.provider();
    let mut refused: Vec<OutboundMessage> = Vec::new();
    let mut n = 0;
    let mut next_id = |what: &str| {
        n += 1;
        format!("conf-refuse-{what}-{n}")
    };
    let plaintext = MessageBody::Encrypted {
        ciphertext: format!("P1 DiskFull on db-1: {CANARY}, rotate it now").into_bytes(),
    };
    for route in carried(&h) {
        let mut wrong = vec![text_body(), sms_body(&h), plaintext.clone()];
        wrong.push(MessageBody::Encrypted {
            ciphertext: sealed(),
        });
        for body in wrong.into_iter().filter(|b| !b.fits(route)) {
            refused.push(message(&h, &next_id(route.as_str()), route, body));
        }
        if route == Route::SmsLink {
            let template = h.sms_text();
            for text in [
                format!("{template} {CANARY}"),
                format!("{CANARY} {template}"),
                format!("P1 DiskFull on db-1: {CANARY}"),
                template.replace("https://", &format!("{CANARY} https://")),
            ]
            .into_iter()
            .filter(|t| *t != template)
            {
                let body = MessageBody::Sms {
                    text: Redacted::new("text", text),
                };
                refused.push(message(&h, &next_id("sms"), route, body));
            }
        }
    }
    for route in ROUTES.into_iter().chain([Route::Blocked]) {
        if !provider.routes().contains(&route) || route == Route::Blocked {
            let body = body_for(&h, route);
            refused.push(message(&h, &next_id("route"), route, body));
        }
    }
    let mut errors = Vec::new();
    for m in &refused {
        let err = send_err(&h, m).await;
        assert!(
            matches!(err, SendError::Rejected),
            "{:?} on {} ({:?}) must be Rejected, was {err:?}",
            m.id,
            m.route,
            m.body
        );
        assert_eq!(
            h.deliveries(&m.id).await,
            0,
            "{:?} reached the backend",
            m.id
        );
        errors.push(err);
    }
    assert_leak_free(&h, &errors);
}

/// Every failure the suite can provoke, rendered every way, carries no number, text or
/// secret; neither does the provider's `Debug`.
pub async fn errors_and_debug_leak_nothing(h: Harness) {
    let mut errors = Vec::new();
    for (n, fault) in [
        Fault::Unavailable,
        Fault::Throttled,
        Fault::UnknownRecipient,
        Fault::Refused,
        Fault::AnswerLost,
    ]
    .into_iter()
    .enumerate()
    {
        if h.inject(fault).await {
            let m = deliverable(&h, &format!("conf-leak-{n}"));
            errors.push(send_err(&h, &m).await);
        }
    }
    let wrong = message(&h, "conf-leak-wrong", Route::Blocked, text_body());
    errors.push(send_err(&h, &wrong).await);
    assert!(errors.len() >= 3, "at least two faults and one refusal");
    assert_leak_free(&h, &errors);
}

/// A provider whose backend serves says it is up.
pub async fn healthy_backend_reports_up(h: Harness) {
    assert_eq!(h.provider().health().await, ProviderHealth::Up);
    let m = deliverable(&h, "conf-health");
    send_ok(&h, &m).await;
    assert_eq!(h.provider().health().await, ProviderHealth::Up);
}

#[cfg(test)]
mod tests {
    //! The suite bites: a provider that breaks a rule fails the check for it.

    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::Mutex;

    use super::*;

    /// Delivers every call (no idempotency), carries any body, classifies every fault as
    /// `Backend` and quotes the number in it.
    #[derive(Debug, Default)]
    struct Careless {
        delivered: Mutex<Vec<MessageId>>,
        fault: Mutex<Option<Fault>>,
    }

    #[async_trait]
    impl MessagingProvider for Careless {
        fn name(&self) -> &str {
            "careless"
        }
        fn routes(&self) -> &[Route] {
            &[Route::RcsPlain]
        }
        async fn send(&self, m: &OutboundMessage) -> Result<DeliveryId, SendError> {
            if self.fault.lock().unwrap().take().is_some() {
                let why = format!("failed for {}", m.recipient.expose_e164());
                return Err(SendError::Backend(why.into()));
            }
            let mut delivered = self.delivered.lock().unwrap();
            delivered.push(m.id.clone());
            Ok(DeliveryId::new(format!("c-{}", delivered.len())))
        }
    }

    struct CarelessHarness(Arc<Careless>);

    #[async_trait]
    impl ProviderHarness for CarelessHarness {
        fn provider(&self) -> Arc<dyn MessagingProvider> {
            self.0.clone()
        }
        fn recipient(&self) -> Msisdn {
            Msisdn::parse("+447700900123").unwrap()
        }
        async fn deliveries(&self, id: &MessageId) -> usize {
            let delivered = self.0.delivered.lock().unwrap();
            delivered.iter().filter(|d| *d == id).count()
        }
        async fn inject(&self, fault: Fault) -> bool {
            *self.0.fault.lock().unwrap() = Some(fault);
            true
        }
    }

    fn fails<F: Future<Output = ()>>(check: fn(Harness) -> F) -> bool {
        catch_unwind(AssertUnwindSafe(|| {
            crate::conformance::run(
                || async { CarelessHarness(Arc::default()) },
                |h| check(Arc::new(h)),
            );
        }))
        .is_err()
    }

    use std::future::Future;

    #[test]
    fn a_careless_provider_fails_each_rule_it_breaks() {
        assert!(fails(sends_once_per_idempotency_key));
        assert!(fails(
            temporary_failure_is_transient_and_retry_delivers_once
        ));
        assert!(fails(permanent_refusal_is_rejected));
        assert!(fails(refuses_bodies_the_route_forbids));
        assert!(fails(errors_and_debug_leak_nothing));
    }
}
