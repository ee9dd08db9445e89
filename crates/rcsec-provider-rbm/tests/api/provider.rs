//! The REST adapter against a local fake that follows the documented RBM API, error cases
//! included.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use rcsec::{ActionKind, MessageBody, MessageId, MessagingProvider, OutboundMessage, SendError};
use rcsec_capability::{CapabilityError, CapabilityProvider, E2ee, Reach, Route};
use rcsec_core::{AlertId, ManualClock, Msisdn, Redacted, Secret, Timestamp};
use rcsec_http::{HttpClient, HttpConfig};
use rcsec_provider_rbm::webhook::{PostbackKey, PostbackSigner};
use rcsec_provider_rbm::{RbmConfig, RbmProvider, RevokeOutcome, StaticToken};
use serde_json::{Value, json};

pub(super) const RCS_USER: &str = "+447700900123";
const SMS_USER: &str = "+447700900456";
pub(super) const TOKEN: &str = "ya29.CANARY-TOKEN";
const CANARY: &str = "CANARY-hunter2";

#[derive(Default)]
pub(super) struct Fake {
    /// messageId -> (phone, body), messages accepted and not revoked.
    pub(super) messages: HashMap<String, (String, Value)>,
    accepted: usize,
    /// Statuses to answer instead of the normal behaviour, in order.
    pub(super) script: VecDeque<StatusCode>,
    /// Accept the next message, then answer 503 as if the response were lost.
    pub(super) lose_next_answer: bool,
    capability_queries: Vec<HashMap<String, String>>,
}

pub(super) type Shared = Arc<Mutex<Fake>>;

fn google_error(status: StatusCode, text: &str) -> Response {
    let mut res = (
        status,
        Json(json!({"error": {"code": status.as_u16(), "message": text, "status": text}})),
    )
        .into_response();
    if status == StatusCode::TOO_MANY_REQUESTS {
        res.headers_mut().insert(
            "retry-after",
            "7".parse().unwrap_or_else(|_| unreachable!()),
        );
    }
    res
}

fn gate(fake: &Shared, headers: &HeaderMap) -> Option<Response> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if auth != Some(&format!("Bearer {TOKEN}")) {
        return Some(google_error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"));
    }
    let scripted = fake.lock().unwrap().script.pop_front();
    scripted.map(|s| google_error(s, "SCRIPTED"))
}

async fn capabilities(
    State(fake): State<Shared>,
    Path(phone): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(res) = gate(&fake, &headers) {
        return res;
    }
    if !q.contains_key("requestId") {
        return google_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
    }
    fake.lock().unwrap().capability_queries.push(q);
    if phone == RCS_USER {
        Json(json!({"features": ["RICHCARD_STANDALONE", "ACTION_OPEN_URL"]})).into_response()
    } else {
        google_error(StatusCode::NOT_FOUND, "NOT_FOUND")
    }
}

async fn send(
    State(fake): State<Shared>,
    Path(phone): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(res) = gate(&fake, &headers) {
        return res;
    }
    let Some(id) = q.get("messageId") else {
        return google_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
    };
    let text = body["contentMessage"]["text"].as_str().unwrap_or_default();
    let suggestions = body["contentMessage"]["suggestions"]
        .as_array()
        .map_or(0, Vec::len);
    if text.chars().count() > 3072 || suggestions > 11 || body["ttl"].as_str().is_none() {
        return google_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
    }
    if phone != RCS_USER {
        return google_error(StatusCode::NOT_FOUND, "NOT_FOUND");
    }
    let mut f = fake.lock().unwrap();
    if f.messages.contains_key(id) {
        return google_error(StatusCode::CONFLICT, "ALREADY_EXISTS");
    }
    f.messages.insert(id.clone(), (phone.clone(), body.clone()));
    f.accepted += 1;
    if std::mem::take(&mut f.lose_next_answer) {
        return google_error(StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE");
    }
    Json(json!({
        "name": format!("phones/{phone}/agentMessages/{id}"),
        "sendTime": "2026-11-22T04:00:00Z",
        "contentMessage": body["contentMessage"],
    }))
    .into_response()
}

async fn revoke(
    State(fake): State<Shared>,
    Path((phone, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(res) = gate(&fake, &headers) {
        return res;
    }
    let mut f = fake.lock().unwrap();
    match f.messages.get(&id) {
        Some((p, _)) if *p == phone => {
            f.messages.remove(&id);
            Json(json!({})).into_response()
        }
        _ => google_error(StatusCode::NOT_FOUND, "NOT_FOUND"),
    }
}

pub(super) async fn fake_rbm() -> (url::Url, Shared) {
    let fake: Shared = Arc::default();
    let app = Router::new()
        .route("/v1/phones/{phone}/capabilities", get(capabilities))
        .route("/v1/phones/{phone}/agentMessages", post(send))
        .route("/v1/phones/{phone}/agentMessages/{id}", delete(revoke))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/").parse().unwrap(), fake)
}

pub(super) fn signer() -> PostbackSigner {
    PostbackSigner::new(PostbackKey::new(1, Secret::new([5; 32])), Vec::new())
}

pub(super) const NOW: u64 = 1_800_000_000;

pub(super) fn provider(base: url::Url, token: &str) -> RbmProvider {
    let http = HttpClient::new(HttpConfig {
        timeout: Duration::from_secs(3),
        ..HttpConfig::default()
    })
    .unwrap();
    RbmProvider::new(
        http,
        RbmConfig {
            base_url: base,
            agent_id: Some("rcsec-agent".into()),
            link_prefix: Some("https://alerts.example/l/".parse().unwrap()),
        },
        Arc::new(StaticToken::new(token)),
        signer(),
        Arc::new(ManualClock::new(Timestamp::from_secs(NOW))),
    )
}

fn message(id: &str, to: &str, text: &str) -> OutboundMessage {
    OutboundMessage {
        id: MessageId::new(id).unwrap(),
        alert: AlertId::new("c4a1b2d3e4f50617").unwrap(),
        recipient: Msisdn::parse(to).unwrap(),
        route: Route::RcsPlain,
        body: MessageBody::Text {
            text: Redacted::new("text", text.to_owned()),
            actions: vec![
                ActionKind::Acknowledge,
                ActionKind::TakeOwnership,
                ActionKind::Escalate,
            ],
        },
        created_at: Timestamp::from_secs(NOW),
        expires_at: Timestamp::from_secs(NOW + 300),
    }
}

#[tokio::test]
async fn capability_reports_rcs_without_e2ee_and_404_as_not_found() {
    let (base, fake) = fake_rbm().await;
    let rbm = provider(base, TOKEN);
    let cap = rbm.query(&Msisdn::parse(RCS_USER).unwrap()).await.unwrap();
    assert_eq!(cap.reach(), Reach::Rcs);
    assert_eq!(cap.e2ee(), E2ee::Unverified, "RBM must never affirm E2EE");
    assert!(matches!(
        rbm.query(&Msisdn::parse(SMS_USER).unwrap()).await,
        Err(CapabilityError::NotFound)
    ));
    let queries = fake.lock().unwrap().capability_queries.clone();
    assert_eq!(
        queries[0].get("agentId").map(String::as_str),
        Some("rcsec-agent")
    );
    assert_ne!(queries[0].get("requestId"), queries[1].get("requestId"));

    fake.lock().unwrap().script.extend([
        StatusCode::TOO_MANY_REQUESTS,
        StatusCode::SERVICE_UNAVAILABLE,
        StatusCode::IM_A_TEAPOT,
    ]);
    let n = Msisdn::parse(RCS_USER).unwrap();
    assert!(matches!(
        rbm.query(&n).await,
        Err(CapabilityError::RateLimited)
    ));
    assert!(matches!(
        rbm.query(&n).await,
        Err(CapabilityError::Unavailable)
    ));
    let err = rbm.query(&n).await.unwrap_err();
    assert!(matches!(err, CapabilityError::Backend(_)));
    let bad_token = provider(fake_rbm().await.0, "wrong");
    let err = bad_token.query(&n).await.unwrap_err();
    assert!(matches!(err, CapabilityError::Backend(_)));
    let text = format!("{err} {err:?} {bad_token:?} {rbm:?}");
    assert!(
        !text.contains("7700900") && !text.contains("CANARY"),
        "{text}"
    );
}

#[tokio::test]
async fn send_builds_the_documented_agent_message_and_retries_idempotently() {
    let (base, fake) = fake_rbm().await;
    let rbm = provider(base, TOKEN);
    let text = "P1 DiskFull on db-1. Details: https://alerts.example/l/AbC123#k=xyz";
    let m = message("m-1", RCS_USER, text);
    let first = rbm.send(&m).await.unwrap();
    let again = rbm.send(&m).await.unwrap();
    assert_eq!(
        first, again,
        "a retry of the same message id is the same delivery"
    );
    let (accepted, body) = {
        let f = fake.lock().unwrap();
        (f.accepted, f.messages["m-1"].1.clone())
    };
    assert_eq!(accepted, 1, "RBM de-duplicated on messageId");
    assert_eq!(body["ttl"], "300s");
    assert_eq!(body["contentMessage"]["text"], text);
    let suggestions = body["contentMessage"]["suggestions"].as_array().unwrap();
    assert_eq!(suggestions.len(), 4);
    let recipient = Msisdn::parse(RCS_USER).unwrap();
    for (s, action) in suggestions.iter().zip([
        ActionKind::Acknowledge,
        ActionKind::TakeOwnership,
        ActionKind::Escalate,
    ]) {
        let postback = s["reply"]["postbackData"].as_str().unwrap();
        let verified = signer().verify(postback, &recipient).unwrap();
        assert_eq!(verified.action, action);
        assert_eq!(verified.message.as_str(), "m-1");
        assert!(!postback.contains("7700900"));
    }
    assert_eq!(
        suggestions[3]["action"]["openUrlAction"]["url"],
        "https://alerts.example/l/AbC123#k=xyz"
    );
    assert_eq!(
        rbm.revoke(&recipient, &m.id).await.unwrap(),
        RevokeOutcome::Revoked
    );
    assert_eq!(
        rbm.revoke(&recipient, &m.id).await.unwrap(),
        RevokeOutcome::NotFound
    );
}

#[tokio::test]
async fn send_errors_map_to_the_pipeline_and_never_leak() {
    let (base, fake) = fake_rbm().await;
    let rbm = provider(base, TOKEN);
    let secret_text = format!("password is {CANARY}");
    let not_rcs = rbm.send(&message("m-2", SMS_USER, &secret_text)).await;
    assert!(matches!(not_rcs, Err(SendError::NotReachable)));
    fake.lock().unwrap().script.extend([
        StatusCode::BAD_REQUEST,
        StatusCode::TOO_MANY_REQUESTS,
        StatusCode::INTERNAL_SERVER_ERROR,
        StatusCode::FORBIDDEN,
    ]);
    let m = message("m-3", RCS_USER, &secret_text);
    let mut errors = Vec::new();
    for _ in 0..4 {
        errors.push(rbm.send(&m).await.unwrap_err());
    }
    assert!(matches!(errors[0], SendError::Rejected));
    assert!(matches!(
        errors[1],
        SendError::RateLimited { retry_after } if retry_after == Duration::from_secs(7)
    ));
    assert!(matches!(errors[2], SendError::Transient));
    assert!(matches!(errors[3], SendError::Rejected));
    // Refused locally, before any request: too long, wrong route, wrong body, expired.
    let before = fake.lock().unwrap().accepted;
    let long = message("m-4", RCS_USER, &"x".repeat(3073));
    assert!(matches!(rbm.send(&long).await, Err(SendError::Rejected)));
    let mut plain = message("m-5", RCS_USER, "hi");
    plain.route = Route::SmsLink;
    assert!(matches!(rbm.send(&plain).await, Err(SendError::Rejected)));
    plain.route = Route::RcsPlain;
    plain.body = MessageBody::Encrypted {
        ciphertext: vec![1, 2, 3],
    };
    assert!(matches!(rbm.send(&plain).await, Err(SendError::Rejected)));
    let mut expired = message("m-6", RCS_USER, "hi");
    expired.expires_at = Timestamp::from_secs(NOW);
    assert!(matches!(rbm.send(&expired).await, Err(SendError::Rejected)));
    assert_eq!(fake.lock().unwrap().accepted, before);
    // The full 3072 characters are fine.
    assert!(
        rbm.send(&message("m-7", RCS_USER, &"é".repeat(3072)))
            .await
            .is_ok()
    );

    // Nobody listening: transient (retry, fail over).
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let down = provider(format!("http://{closed}/").parse().unwrap(), TOKEN);
    errors.push(down.send(&m).await.unwrap_err());
    assert!(matches!(errors[4], SendError::Transient));
    for e in &errors {
        let text = format!("{e} {e:?}");
        assert!(
            !text.contains("7700900") && !text.contains(CANARY),
            "{text}"
        );
    }
}
