//! The provider conformance suite against the loopback simulator: every route, SMS guarded,
//! failures from its script.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::sync::Arc;
use std::time::Duration;

use rcsec::conformance::provider::{Fault, ProviderHarness, T0};
use rcsec::core::{ManualClock, Msisdn};
use rcsec::sms::SmsGuard;
use rcsec::{MessageId, MessagingProvider};
use rcsec_provider_loopback::{LoopbackFailure, LoopbackProvider, Roster};

const NUMBER: &str = "+447700900123";

struct Loopback(Arc<LoopbackProvider>);

impl Loopback {
    async fn start() -> Self {
        let roster = Roster::from_toml(&format!(
            r#"
            [[recipient]]
            name = "Alice"
            number = "{NUMBER}"
            reach = "rcs"
            e2ee = "verified"
            simulated_device = true
            "#
        ))
        .unwrap();
        let guard = SmsGuard::new(
            &["rcsec: new {severity} alert. Open it securely: {link}"],
            "https://alerts.example/l/".parse().unwrap(),
        )
        .unwrap();
        let clock = Arc::new(ManualClock::new(T0));
        let loopback = LoopbackProvider::new(&roster, clock)
            .unwrap()
            .with_sms_guard(guard);
        // The simulated phone carries encrypted push once it joined its MLS team group.
        loopback.team_protector().await.unwrap();
        Self(Arc::new(loopback))
    }
}

#[rcsec::async_trait]
impl ProviderHarness for Loopback {
    fn provider(&self) -> Arc<dyn MessagingProvider> {
        self.0.clone()
    }

    fn recipient(&self) -> Msisdn {
        Msisdn::parse(NUMBER).unwrap()
    }

    fn sms_text(&self) -> String {
        "rcsec: new P1 alert. Open it securely: https://alerts.example/l/AbC123#k=Zz9".into()
    }

    async fn deliveries(&self, id: &MessageId) -> usize {
        self.0.sent().iter().filter(|s| &s.message.id == id).count()
    }

    async fn inject(&self, fault: Fault) -> bool {
        let failure = match fault {
            Fault::Unavailable => LoopbackFailure::Transient,
            Fault::Throttled => LoopbackFailure::RateLimited(Duration::from_secs(3)),
            Fault::UnknownRecipient => LoopbackFailure::NotReachable,
            Fault::Refused => LoopbackFailure::Rejected,
            Fault::AnswerLost => LoopbackFailure::TransientAfterAccept,
            _ => return false,
        };
        self.0.fail_next(1, failure);
        true
    }
}

rcsec::messaging_provider_tests!(Loopback::start);
