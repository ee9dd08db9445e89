//! The provider conformance suite against the fake RBM API: RBM de-duplicates on our
//! `messageId` (409 ALREADY_EXISTS), so even a lost answer is retried without a second
//! message.

use std::sync::Arc;

use axum::http::StatusCode;
use rcsec::conformance::provider::{Fault, ProviderHarness, T0};
use rcsec::core::Msisdn;
use rcsec::{MessageId, MessagingProvider};
use rcsec_provider_rbm::RbmProvider;

use super::provider::{NOW, RCS_USER, Shared, TOKEN, fake_rbm, provider};

struct Rbm {
    provider: Arc<RbmProvider>,
    fake: Shared,
}

impl Rbm {
    async fn start() -> Self {
        assert_eq!(T0.as_secs(), NOW, "the provider's clock is the suite's");
        let (base, fake) = fake_rbm().await;
        Self {
            provider: Arc::new(provider(base, TOKEN)),
            fake,
        }
    }
}

#[rcsec::async_trait]
impl ProviderHarness for Rbm {
    fn provider(&self) -> Arc<dyn MessagingProvider> {
        self.provider.clone()
    }

    fn recipient(&self) -> Msisdn {
        Msisdn::parse(RCS_USER).unwrap()
    }

    async fn deliveries(&self, id: &MessageId) -> usize {
        usize::from(self.fake.lock().unwrap().messages.contains_key(id.as_str()))
    }

    async fn inject(&self, fault: Fault) -> bool {
        let mut fake = self.fake.lock().unwrap();
        let status = match fault {
            Fault::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Fault::Throttled => StatusCode::TOO_MANY_REQUESTS,
            Fault::UnknownRecipient => StatusCode::NOT_FOUND,
            Fault::Refused => StatusCode::BAD_REQUEST,
            Fault::AnswerLost => {
                fake.lose_next_answer = true;
                return true;
            }
            _ => return false,
        };
        fake.script.push_back(status);
        true
    }

    fn secrets(&self) -> Vec<String> {
        vec![TOKEN.to_owned()]
    }
}

rcsec::messaging_provider_tests!(Rbm::start);
