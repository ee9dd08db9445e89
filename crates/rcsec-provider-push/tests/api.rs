//! The push adapter against a local fake gateway: what the gateway sees, and every refusal.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rcsec::keying::device::{Device, ValidatedKeyPackage};
use rcsec::keying::group::GroupConfig;
use rcsec::keying::mls::codec::Decode;
use rcsec::keying::mls::framing::MlsMessage;
use rcsec::protect::{GroupStateKey, MemoryGroupStore, MlsTeamProtector, PagedDevice};
use rcsec::{
    MessageBody, MessageId, MessagingProvider, OutboundMessage, PushProtector, Responder, SendError,
};
use rcsec_capability::Route;
use rcsec_core::{AlertId, Msisdn, Redacted, Secret, Timestamp};
use rcsec_http::{HttpClient, HttpConfig};
use rcsec_provider_push::{PushConfig, PushProvider, RecipientKeyer};

const CANARY: &str = "CANARY db-7 root password: hunter2-7f3a";
const NUMBER: &str = "+447700900123";
const BEARER: &str = "gw-CANARY-bearer";

/// A push gateway that de-duplicates on `Idempotency-Key`, as the adapter's contract expects.
#[derive(Default)]
struct Gateway {
    /// Every request body, in order.
    bodies: Vec<Vec<u8>>,
    headers: Vec<HeaderMap>,
    /// The answer for the next request instead of accepting it.
    status: Option<StatusCode>,
    /// Accept the next message, then answer 503 as if the response were lost.
    lose_next_answer: bool,
    /// Idempotency key -> the gateway's id for it.
    by_key: HashMap<String, String>,
    /// `message_id` of each message actually forwarded to a device.
    forwarded: Vec<String>,
}

async fn fake_gateway() -> (url::Url, Arc<Mutex<Gateway>>) {
    let state: Arc<Mutex<Gateway>> = Arc::default();
    let s = state.clone();
    let app = Router::new().route(
        "/v1/messages",
        post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let s = s.clone();
            async move {
                let mut g = s.lock().unwrap();
                g.bodies.push(body.to_vec());
                g.headers.push(headers.clone());
                if let Some(status) = g.status.take() {
                    return (status, [("retry-after", "9")], String::new());
                }
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let known = key.as_ref().and_then(|k| g.by_key.get(k).cloned());
                let id = match known {
                    Some(id) => id,
                    None => {
                        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
                        g.forwarded
                            .push(json["message_id"].as_str().unwrap_or_default().to_owned());
                        let id = format!("gw-{}", g.forwarded.len());
                        if let Some(key) = key {
                            g.by_key.insert(key, id.clone());
                        }
                        id
                    }
                };
                if std::mem::take(&mut g.lose_next_answer) {
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        [("retry-after", "0")],
                        String::new(),
                    );
                }
                (
                    StatusCode::ACCEPTED,
                    [("retry-after", "0")],
                    format!("{{\"id\":\"{id}\"}}"),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/v1/messages").parse().unwrap(), state)
}

fn provider(url: url::Url) -> PushProvider {
    PushProvider::new(
        HttpClient::new(HttpConfig {
            timeout: Duration::from_secs(3),
            ..HttpConfig::default()
        })
        .unwrap(),
        PushConfig {
            gateway_url: url,
            bearer: Some(Secret::new(BEARER.to_owned())),
            recipients: RecipientKeyer::new(Secret::new([4; 32])),
        },
    )
}

fn message(id: &str, body: MessageBody) -> OutboundMessage {
    OutboundMessage {
        id: MessageId::new(id).unwrap(),
        alert: AlertId::new("c4a1b2d3e4f50617").unwrap(),
        recipient: Msisdn::parse(NUMBER).unwrap(),
        route: Route::EncryptedPush,
        body,
        created_at: Timestamp::from_secs(1_800_000_000),
        expires_at: Timestamp::from_secs(1_800_000_600),
    }
}

/// The orchestrator's protector with one enrolled phone in team `oncall`.
async fn team_with_phone() -> (MlsTeamProtector, PagedDevice) {
    let now = Timestamp::from_secs(1_800_000_000);
    let protector = MlsTeamProtector::open(
        Device::generate("rcsec/orchestrator").unwrap(),
        Arc::new(MemoryGroupStore::new()),
        GroupStateKey::new(Secret::new([5; 32])),
        GroupConfig::default(),
    )
    .await
    .unwrap();
    let device = Device::generate("alice/phone").unwrap();
    let bundle = device.key_package(now, Duration::from_secs(3600)).unwrap();
    let validated = ValidatedKeyPackage::validate(&bundle.key_package, now).unwrap();
    let enrolled = protector.enroll("oncall", &validated).await.unwrap();
    let key = protector.signature_key("oncall").await.unwrap();
    let phone = PagedDevice::join(&enrolled.welcome, bundle, &device, key).unwrap();
    (protector, phone)
}

#[tokio::test]
async fn the_gateway_sees_an_mls_private_message_only_and_the_phone_opens_it() {
    let (url, gateway) = fake_gateway().await;
    let push = provider(url);
    let (protector, mut phone) = team_with_phone().await;
    let alert = AlertId::new("c4a1b2d3e4f50617").unwrap();
    let id = MessageId::new("m-1").unwrap();
    let responder =
        Responder::new(Msisdn::parse(NUMBER).unwrap(), "Alice").with_push_group("oncall");
    let ciphertext = protector
        .protect(&responder, &alert, &id, CANARY.as_bytes())
        .await
        .unwrap();
    let delivery = push
        .send(&message("m-1", MessageBody::Encrypted { ciphertext }))
        .await
        .unwrap();
    assert_eq!(delivery.as_str(), "push:gw-1");

    let g = gateway.lock().unwrap();
    let raw = &g.bodies[0];
    let text = String::from_utf8_lossy(raw);
    for needle in [CANARY, "hunter2", "7700900", BEARER] {
        assert!(!text.contains(needle), "gateway saw {needle}: {text}");
    }
    let json: serde_json::Value = serde_json::from_slice(raw).unwrap();
    assert_eq!(json["v"], 1);
    assert_eq!(json["message_id"], "m-1");
    assert_eq!(json["alert"], "c4a1b2d3e4f50617");
    assert_eq!(json["expires_at"], 1_800_000_600_000u64);
    assert_eq!(
        json["recipient"],
        RecipientKeyer::new(Secret::new([4; 32])).key_for(&Msisdn::parse(NUMBER).unwrap())
    );
    // What the gateway forwards is an MLSMessage (PrivateMessage) of the team group, and it
    // is exactly what the phone opens.
    let forwarded = STANDARD
        .decode(json["ciphertext"].as_str().unwrap())
        .unwrap();
    let Ok(MlsMessage::Private(private)) = MlsMessage::from_bytes(&forwarded) else {
        panic!("the push body is not an MLS PrivateMessage");
    };
    assert_eq!(private.group_id, b"oncall");
    let forwarded_canary = CANARY.as_bytes();
    assert!(
        !forwarded
            .windows(forwarded_canary.len())
            .any(|w| w == forwarded_canary)
    );
    assert_eq!(
        phone.open(&alert, &id, &forwarded).unwrap().expose_secret(),
        CANARY.as_bytes()
    );
    assert_eq!(g.headers[0]["idempotency-key"], "m-1");
    assert_eq!(g.headers[0]["authorization"], format!("Bearer {BEARER}"));
}

#[tokio::test]
async fn refuses_unprotected_bodies_and_maps_gateway_errors() {
    let (url, gateway) = fake_gateway().await;
    let push = provider(url);
    let refused = [
        message(
            "m-2",
            MessageBody::Text {
                text: Redacted::new("text", CANARY.into()),
                actions: Vec::new(),
            },
        ),
        message(
            "m-3",
            MessageBody::Sms {
                text: Redacted::new("text", CANARY.into()),
            },
        ),
        // Plaintext wrongly wrapped as "encrypted".
        message(
            "m-4",
            MessageBody::Encrypted {
                ciphertext: format!("{CANARY} {CANARY}").into_bytes(),
            },
        ),
        message(
            "m-5",
            MessageBody::Encrypted {
                ciphertext: vec![0x80; 10],
            },
        ),
        message(
            "m-6",
            MessageBody::Encrypted {
                ciphertext: vec![0x80; 70_000],
            },
        ),
    ];
    let mut errors = Vec::new();
    for m in &refused {
        errors.push(push.send(m).await.unwrap_err());
    }
    let mut wrong_route = message(
        "m-7",
        MessageBody::Encrypted {
            ciphertext: vec![0x80; 64],
        },
    );
    wrong_route.route = Route::RcsPlain;
    errors.push(push.send(&wrong_route).await.unwrap_err());
    assert!(errors.iter().all(|e| matches!(e, SendError::Rejected)));
    assert!(
        gateway.lock().unwrap().bodies.is_empty(),
        "nothing reached the gateway"
    );

    let sealed = || {
        message(
            "m-8",
            MessageBody::Encrypted {
                ciphertext: vec![0x80; 64],
            },
        )
    };
    for (status, check) in [
        (StatusCode::GONE, "not_reachable"),
        (StatusCode::NOT_FOUND, "not_reachable"),
        (StatusCode::PAYLOAD_TOO_LARGE, "rejected"),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        (StatusCode::BAD_GATEWAY, "provider_transient"),
        (StatusCode::UNAUTHORIZED, "provider_backend"),
    ] {
        gateway.lock().unwrap().status = Some(status);
        let e = push.send(&sealed()).await.unwrap_err();
        assert_eq!(e.code(), check, "{status}");
        if let SendError::RateLimited { retry_after } = e {
            assert_eq!(retry_after, Duration::from_secs(9));
        }
        errors.push(e);
    }
    for e in &errors {
        let text = format!("{e} {e:?} {push:?}");
        for needle in [CANARY, "7700900", BEARER] {
            assert!(!text.contains(needle), "{text}");
        }
    }
}

/// The provider conformance suite against the fake gateway.
mod conformance {
    use std::sync::{Arc, Mutex};

    use axum::http::StatusCode;
    use rcsec::conformance::provider::{Fault, ProviderHarness};
    use rcsec::{MessageId, MessagingProvider};
    use rcsec_core::Msisdn;
    use rcsec_provider_push::PushProvider;

    use super::{BEARER, Gateway, NUMBER, fake_gateway, provider};

    struct Push {
        provider: Arc<PushProvider>,
        gateway: Arc<Mutex<Gateway>>,
    }

    impl Push {
        async fn start() -> Self {
            let (url, gateway) = fake_gateway().await;
            Self {
                provider: Arc::new(provider(url)),
                gateway,
            }
        }
    }

    #[rcsec::async_trait]
    impl ProviderHarness for Push {
        fn provider(&self) -> Arc<dyn MessagingProvider> {
            self.provider.clone()
        }

        fn recipient(&self) -> Msisdn {
            Msisdn::parse(NUMBER).unwrap()
        }

        async fn deliveries(&self, id: &MessageId) -> usize {
            let g = self.gateway.lock().unwrap();
            g.forwarded.iter().filter(|f| *f == id.as_str()).count()
        }

        async fn inject(&self, fault: Fault) -> bool {
            let mut g = self.gateway.lock().unwrap();
            g.status = Some(match fault {
                Fault::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                Fault::Throttled => StatusCode::TOO_MANY_REQUESTS,
                Fault::UnknownRecipient => StatusCode::GONE,
                Fault::Refused => StatusCode::BAD_REQUEST,
                Fault::AnswerLost => {
                    g.lose_next_answer = true;
                    return true;
                }
                _ => return false,
            });
            true
        }

        fn secrets(&self) -> Vec<String> {
            vec![BEARER.to_owned()]
        }
    }

    rcsec::messaging_provider_tests!(Push::start);
}
