//! Error mapping and request shape against a fake `sendsms` that answers like Kannel 1.4.5.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::routing::get;
use rcsec::{MessageBody, MessagingProvider, SendError};
use rcsec_capability::Route;
use rcsec_core::Secret;
use rcsec_provider_kannel::{DlrStatus, KannelConfig, KannelProvider};

use super::common::{CANARY, NUMBER, PASSWORD, dlr_receiver, guard, http, sms};

/// What the fake saw and will answer.
#[derive(Default)]
pub(crate) struct FakeKannel {
    /// Every request's query, in order.
    pub(crate) calls: Vec<HashMap<String, String>>,
    /// The queries answered "Accepted for delivery".
    pub(crate) accepted: Vec<HashMap<String, String>>,
    /// Statuses to answer instead of the normal behaviour, in order.
    pub(crate) script: VecDeque<StatusCode>,
}

pub(crate) type Calls = Arc<Mutex<FakeKannel>>;

/// Answers like Kannel: 403 on a wrong password, 400 without `to`, 503 when asked (`to` of
/// a "broken" number), otherwise 202 "0: Accepted for delivery".
pub(crate) async fn fake_kannel() -> (url::Url, Calls) {
    let calls: Calls = Arc::default();
    let log = calls.clone();
    let app = Router::new().route(
        "/cgi-bin/sendsms",
        get(move |Query(q): Query<HashMap<String, String>>| {
            let log = log.clone();
            async move {
                let mut fake = log.lock().unwrap();
                fake.calls.push(q.clone());
                if q.get("password").map(String::as_str) != Some(PASSWORD) {
                    return (StatusCode::FORBIDDEN, "Authorization failed for sendsms");
                }
                if let Some(status) = fake.script.pop_front() {
                    return (status, "Scripted answer");
                }
                match q.get("to").map(String::as_str) {
                    None | Some("") => {
                        (StatusCode::BAD_REQUEST, "Missing receiver number, rejected")
                    }
                    Some(_) if q.get("text").is_some_and(|t| t.contains("P3")) => {
                        (StatusCode::SERVICE_UNAVAILABLE, "Sending failed.")
                    }
                    Some(_) => {
                        fake.accepted.push(q);
                        (StatusCode::ACCEPTED, "0: Accepted for delivery")
                    }
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (
        format!("http://{addr}/cgi-bin/sendsms").parse().unwrap(),
        calls,
    )
}

pub(crate) fn config(
    url: url::Url,
    password: &str,
    dlr: Option<rcsec_provider_kannel::DlrSigner>,
) -> KannelConfig {
    KannelConfig {
        sendsms_url: url,
        username: "tester".into(),
        password: Secret::new(password.to_owned()),
        from: Some("rcsec".into()),
        dlr: dlr.map(|s| (DlrStatus::ALL_MASK, s)),
    }
}

pub(crate) const LINK_TEXT: &str =
    "rcsec: new P1 alert. Open it securely: https://alerts.example/l/AbC123#k=Zz9";

#[tokio::test]
async fn sends_the_documented_query_once_per_message_id() {
    let (url, calls) = fake_kannel().await;
    let (signer, _) = dlr_receiver().await;
    let kannel = KannelProvider::new(http(), config(url, PASSWORD, Some(signer)), guard());
    let m = sms("m-1", LINK_TEXT);
    let first = kannel.send(&m).await.unwrap();
    assert_eq!(kannel.send(&m).await.unwrap(), first);
    let calls = calls.lock().unwrap().calls.clone();
    assert_eq!(calls.len(), 1, "the retry was answered from memory");
    let q = &calls[0];
    assert_eq!(q["username"], "tester");
    assert_eq!(q["to"], NUMBER);
    assert_eq!(q["text"], LINK_TEXT);
    assert_eq!(q["from"], "rcsec");
    assert_eq!(q["coding"], "0");
    assert_eq!(q["dlr-mask"], "31");
    assert!(q["dlr-url"].contains("id=m-1&tag="));
    assert!(q["dlr-url"].ends_with("&type=%d&ts=%T"));
    assert!(!q["dlr-url"].contains("4915112345678"));
}

#[tokio::test]
async fn refuses_anything_but_template_and_link_and_maps_kannel_errors() {
    let (url, calls) = fake_kannel().await;
    let kannel = KannelProvider::new(http(), config(url.clone(), PASSWORD, None), guard());
    let leaky =
        format!("rcsec: new P1 alert. Open it securely: https://alerts.example/l/x {CANARY}");
    let mut errors = vec![kannel.send(&sms("m-2", &leaky)).await.unwrap_err()];
    let mut wrong_route = sms("m-3", LINK_TEXT);
    wrong_route.route = Route::RcsPlain;
    errors.push(kannel.send(&wrong_route).await.unwrap_err());
    let mut wrong_body = sms("m-4", LINK_TEXT);
    wrong_body.body = MessageBody::Encrypted {
        ciphertext: vec![1],
    };
    errors.push(kannel.send(&wrong_body).await.unwrap_err());
    assert!(errors.iter().all(|e| matches!(e, SendError::Rejected)));
    assert!(
        calls.lock().unwrap().calls.is_empty(),
        "nothing reached Kannel"
    );

    let p3 = LINK_TEXT.replace("P1", "P3");
    let transient = kannel.send(&sms("m-5", &p3)).await.unwrap_err();
    assert!(matches!(transient, SendError::Transient));
    let bad_pw = KannelProvider::new(http(), config(url, "wrong", None), guard());
    let backend = bad_pw.send(&sms("m-6", LINK_TEXT)).await.unwrap_err();
    assert!(matches!(backend, SendError::Backend(_)));
    errors.extend([transient, backend]);
    for e in &errors {
        let text = format!("{e} {e:?} {kannel:?}");
        for needle in [CANARY, PASSWORD, "4915112345678", "AbC123"] {
            assert!(!text.contains(needle), "{text}");
        }
    }
}
