//! `WebhookSink` against a local receiver.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use rcsec::{TicketError, TicketId, TicketSink};
use rcsec_core::{AlertId, Secret, Severity};
use rcsec_http::{HttpClient, HttpConfig};
use rcsec_ticket_servicenow::{Auth, WebhookSink};
use serde_json::{Value, json};

/// (Authorization header, event) per request.
type Seen = Arc<Mutex<Vec<(Option<String>, Value)>>>;

#[tokio::test]
async fn posts_one_event_per_operation() {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let app = Router::new().route(
        "/tickets",
        post(move |headers: HeaderMap, Json(v): Json<Value>| {
            let log = log.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .map(|h| h.to_str().unwrap().to_owned());
                log.lock().unwrap().push((auth, v.clone()));
                match v["ticket"].as_str() {
                    Some("missing") => (StatusCode::NOT_FOUND, Json(json!({}))),
                    _ if v["event"] == "open" => (StatusCode::OK, Json(json!({"id": "T-17"}))),
                    _ => (StatusCode::OK, Json(json!({}))),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = HttpClient::new(HttpConfig {
        timeout: Duration::from_secs(3),
        ..HttpConfig::default()
    })
    .unwrap();
    let sink = WebhookSink::new(
        http,
        format!("http://{addr}/tickets").parse().unwrap(),
        Auth::Bearer(Secret::new("wh-CANARY".into())),
    );
    let alert = AlertId::new("fp1").unwrap();
    let t = sink.open(&alert, Severity::P2, "Title").await.unwrap();
    assert_eq!(t.as_str(), "T-17");
    sink.note(&t, "n").await.unwrap();
    sink.assign(&t, "Bob").await.unwrap();
    sink.resolve(&t, "done").await.unwrap();
    assert!(matches!(
        sink.note(&TicketId::new("missing"), "n").await,
        Err(TicketError::NotFound)
    ));
    let seen = seen.lock().unwrap();
    let events: Vec<&str> = seen
        .iter()
        .map(|(_, v)| v["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["open", "note", "assign", "resolve", "note"]);
    assert_eq!(seen[0].1["severity"], "P2");
    assert_eq!(seen[0].1["alert"], "fp1");
    assert_eq!(seen[2].1["text"], "Bob");
    assert!(
        seen.iter()
            .all(|(a, _)| a.as_deref() == Some("Bearer wh-CANARY"))
    );
    assert!(!format!("{sink:?}").contains("CANARY"));
}
