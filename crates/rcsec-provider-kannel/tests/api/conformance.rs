//! The provider conformance suite against the fake `sendsms`. Kannel has no throttling
//! answer, does not know whether a number is reachable (the DLR says so later) and does not
//! de-duplicate, so those three checks are skipped; the rest hold.

use std::sync::Arc;

use axum::http::StatusCode;
use rcsec::conformance::provider::{Fault, ProviderHarness};
use rcsec::core::{Msisdn, Secret};
use rcsec::{MessageId, MessagingProvider};
use rcsec_provider_kannel::{DlrSigner, KannelProvider};

use super::common::{NUMBER, PASSWORD, guard, http};
use super::fake_sendsms::{Calls, LINK_TEXT, config, fake_kannel};

struct Kannel {
    provider: Arc<KannelProvider>,
    fake: Calls,
}

impl Kannel {
    async fn start() -> Self {
        let (url, fake) = fake_kannel().await;
        // The DLR URL carries our message id: how the harness tells deliveries apart.
        let signer = DlrSigner::new(
            Secret::new([9; 32]),
            "http://127.0.0.1:9/dlr".parse().unwrap(),
        );
        let provider = KannelProvider::new(http(), config(url, PASSWORD, Some(signer)), guard());
        Self {
            provider: Arc::new(provider),
            fake,
        }
    }
}

#[rcsec::async_trait]
impl ProviderHarness for Kannel {
    fn provider(&self) -> Arc<dyn MessagingProvider> {
        self.provider.clone()
    }

    fn recipient(&self) -> Msisdn {
        Msisdn::parse(NUMBER).unwrap()
    }

    fn sms_text(&self) -> String {
        LINK_TEXT.to_owned()
    }

    async fn deliveries(&self, id: &MessageId) -> usize {
        let tag = format!("id={}&", id.as_str());
        let fake = self.fake.lock().unwrap();
        fake.accepted
            .iter()
            .filter(|q| q.get("dlr-url").is_some_and(|u| u.contains(&tag)))
            .count()
    }

    async fn inject(&self, fault: Fault) -> bool {
        let status = match fault {
            Fault::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Fault::Refused => StatusCode::BAD_REQUEST,
            _ => return false,
        };
        self.fake.lock().unwrap().script.push_back(status);
        true
    }

    fn secrets(&self) -> Vec<String> {
        vec![PASSWORD.to_owned(), "AbC123".to_owned()]
    }
}

rcsec::messaging_provider_tests!(Kannel::start);
