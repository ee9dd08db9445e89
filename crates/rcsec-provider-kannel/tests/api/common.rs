//! Shared fixtures.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::RawQuery;
use axum::routing::get;
use rcsec::{MessageBody, MessageId, OutboundMessage};
use rcsec_capability::Route;
use rcsec_core::{AlertId, Msisdn, Redacted, Secret, Timestamp};
use rcsec_http::{HttpClient, HttpConfig};
use rcsec_provider_kannel::{DlrSigner, SmsGuard};

pub(crate) const TEMPLATE: &str = "rcsec: new {severity} alert. Open it securely: {link}";
pub(crate) const NUMBER: &str = "+4915112345678";
pub(crate) const CANARY: &str = "CANARY-hunter2-db-password";
pub(crate) const PASSWORD: &str = "foobar-CANARY-PW";

pub(crate) fn guard() -> SmsGuard {
    SmsGuard::new(&[TEMPLATE], "https://alerts.example/l/".parse().unwrap()).unwrap()
}

pub(crate) fn sms(id: &str, text: &str) -> OutboundMessage {
    OutboundMessage {
        id: MessageId::new(id).unwrap(),
        alert: AlertId::new("c4a1b2d3e4f50617").unwrap(),
        recipient: Msisdn::parse(NUMBER).unwrap(),
        route: Route::SmsLink,
        body: MessageBody::Sms {
            text: Redacted::new("text", text.to_owned()),
        },
        created_at: Timestamp::from_secs(1_800_000_000),
        expires_at: Timestamp::from_secs(1_800_000_600),
    }
}

pub(crate) fn http() -> HttpClient {
    HttpClient::new(HttpConfig {
        timeout: Duration::from_secs(3),
        ..HttpConfig::default()
    })
    .unwrap()
}

/// A DLR receiver on 127.0.0.1:0 recording every callback's raw query.
pub(crate) async fn dlr_receiver() -> (DlrSigner, Arc<Mutex<Vec<String>>>) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let app = Router::new().route(
        "/dlr",
        get(move |RawQuery(q): RawQuery| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push(q.unwrap_or_default());
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let signer = DlrSigner::new(
        Secret::new([9; 32]),
        format!("http://{addr}/dlr").parse().unwrap(),
    );
    (signer, seen)
}
