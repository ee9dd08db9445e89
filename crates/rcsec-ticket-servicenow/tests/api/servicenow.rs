//! `ServiceNowSink` against a fake instance that follows the Table API: `sysparm_query` on
//! `correlation_id` and `active`, `{"result": …}` envelopes, 201 on create, 404 for unknown
//! sys_ids, 401 without the right basic credentials.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rcsec::{TicketError, TicketId, TicketSink};
use rcsec_core::{AlertId, Secret, Severity};
use rcsec_http::{HttpClient, HttpConfig};
use rcsec_ticket_servicenow::{Auth, ServiceNowConfig, ServiceNowSink};
use serde_json::{Value, json};

pub(super) const PASSWORD: &str = "sn-CANARY-password";

#[derive(Default)]
pub(super) struct Instance {
    pub(super) incidents: Vec<Value>,
    /// Answer every request with 500, as an instance under maintenance does.
    pub(super) down: bool,
    /// sys_id -> work notes in order.
    journal: HashMap<String, Vec<String>>,
    display_value_patches: usize,
}

pub(super) type Shared = Arc<Mutex<Instance>>;

fn authorized(headers: &HeaderMap) -> bool {
    let expected = format!("Basic {}", STANDARD.encode(format!("rcsec:{PASSWORD}")));
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str())
}

fn refuse(sn: &Shared, headers: &HeaderMap) -> Option<Response> {
    if sn.lock().unwrap().down {
        let body = Json(json!({"error": {"message": "Instance unavailable"}}));
        return Some((StatusCode::INTERNAL_SERVER_ERROR, body).into_response());
    }
    (!authorized(headers)).then(unauthorized)
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": {"message": "User Not Authenticated"}, "status": "failure"})),
    )
        .into_response()
}

async fn list(
    State(sn): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(res) = refuse(&sn, &headers) {
        return res;
    }
    let query = q.get("sysparm_query").cloned().unwrap_or_default();
    let mut wanted = HashMap::new();
    for term in query.split('^').filter(|t| !t.is_empty()) {
        let Some((k, v)) = term.split_once('=') else {
            return (StatusCode::BAD_REQUEST, "bad query").into_response();
        };
        wanted.insert(k.to_owned(), v.to_owned());
    }
    let sn = sn.lock().unwrap();
    let hits: Vec<Value> = sn
        .incidents
        .iter()
        .filter(|i| {
            wanted.iter().all(|(k, v)| match k.as_str() {
                "active" => i["active"].as_str() == Some(v.as_str()),
                _ => i[k.as_str()].as_str() == Some(v.as_str()),
            })
        })
        .take(
            q.get("sysparm_limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(100),
        )
        .cloned()
        .collect();
    Json(json!({"result": hits})).into_response()
}

async fn create(
    State(sn): State<Shared>,
    headers: HeaderMap,
    Json(mut body): Json<Value>,
) -> Response {
    if let Some(res) = refuse(&sn, &headers) {
        return res;
    }
    let mut sn = sn.lock().unwrap();
    let n = sn.incidents.len() + 1;
    body["sys_id"] = json!(format!("{n:032x}"));
    body["number"] = json!(format!("INC{n:07}"));
    body["active"] = json!("true");
    body["state"] = json!("1");
    sn.incidents.push(body.clone());
    (StatusCode::CREATED, Json(json!({"result": body}))).into_response()
}

async fn update(
    State(sn): State<Shared>,
    Path(sys_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(res) = refuse(&sn, &headers) {
        return res;
    }
    let mut guard = sn.lock().unwrap();
    let sn = &mut *guard;
    let Some(incident) = sn.incidents.iter_mut().find(|i| i["sys_id"] == sys_id) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": {"message": "No Record found"}, "status": "failure"})),
        )
            .into_response();
    };
    if q.get("sysparm_input_display_value").map(String::as_str) == Some("true") {
        sn.display_value_patches += 1;
    }
    for (k, v) in body.as_object().unwrap() {
        if k == "work_notes" {
            sn.journal
                .entry(sys_id.clone())
                .or_default()
                .push(v.as_str().unwrap().to_owned());
        } else {
            incident[k] = v.clone();
        }
    }
    if incident["state"] == "6" {
        incident["active"] = json!("false");
    }
    Json(json!({"result": incident.clone()})).into_response()
}

pub(super) async fn fake_instance() -> (url::Url, Shared) {
    let sn: Shared = Arc::default();
    let app = Router::new()
        .route("/api/now/table/incident", get(list).post(create))
        .route(
            "/api/now/table/incident/{sys_id}",
            axum::routing::patch(update),
        )
        .with_state(sn.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/").parse().unwrap(), sn)
}

pub(super) fn sink(url: url::Url, password: &str) -> ServiceNowSink {
    let mut config = ServiceNowConfig::new(
        url,
        Auth::Basic {
            user: "rcsec".into(),
            password: Secret::new(password.into()),
        },
    );
    config.assignment_group = Some("Database On-Call".into());
    ServiceNowSink::new(
        HttpClient::new(HttpConfig {
            timeout: Duration::from_secs(3),
            ..HttpConfig::default()
        })
        .unwrap(),
        config,
    )
}

#[tokio::test]
async fn incident_lifecycle_follows_the_alert() {
    let (url, sn) = fake_instance().await;
    let alert = AlertId::new("c4a1b2d3e4f50617").unwrap();
    let a = sink(url.clone(), PASSWORD);
    let ticket = a
        .open(&alert, Severity::P1, "DiskFull on db-1")
        .await
        .unwrap();
    assert_eq!(
        a.open(&alert, Severity::P1, "DiskFull on db-1")
            .await
            .unwrap(),
        ticket
    );
    // Another replica (no local memory) finds the same incident by correlation_id.
    let b = sink(url, PASSWORD);
    assert_eq!(
        b.open(&alert, Severity::P1, "DiskFull on db-1")
            .await
            .unwrap(),
        ticket
    );
    assert_eq!(sn.lock().unwrap().incidents.len(), 1);

    b.note(&ticket, "rcsec: delivered to +44•••••••23 (rcs_plain)")
        .await
        .unwrap();
    b.assign(&ticket, "Alice").await.unwrap();
    b.resolve(&ticket, "rcsec: alert resolved").await.unwrap();

    let sn = sn.lock().unwrap();
    let incident = &sn.incidents[0];
    assert_eq!(incident["correlation_id"], "c4a1b2d3e4f50617");
    assert_eq!(incident["short_description"], "DiskFull on db-1");
    assert_eq!(
        (incident["impact"].as_str(), incident["urgency"].as_str()),
        (Some("1"), Some("2"))
    );
    assert_eq!(incident["assignment_group"], "Database On-Call");
    assert_eq!(incident["assigned_to"], "Alice");
    assert_eq!(incident["state"], "6");
    assert_eq!(incident["close_code"], "Solved (Permanently)");
    assert_eq!(incident["close_notes"], "rcsec: alert resolved");
    assert_eq!(incident["active"], "false");
    assert_eq!(
        sn.journal[ticket.as_str()],
        [
            "rcsec: delivered to +44•••••••23 (rcs_plain)",
            "rcsec: ownership taken by Alice"
        ]
    );
    assert_eq!(
        sn.display_value_patches, 1,
        "assigned_to is set by display value"
    );
}

#[tokio::test]
async fn errors_are_typed_and_never_carry_credentials() {
    let (url, _sn) = fake_instance().await;
    let good = sink(url.clone(), PASSWORD);
    let unknown = TicketId::new(format!("{:032x}", 999));
    assert!(matches!(
        good.note(&unknown, "x").await,
        Err(TicketError::NotFound)
    ));
    // Not a sys_id: never put into a URL path.
    assert!(matches!(
        good.note(&TicketId::new("../../sys_user"), "x").await,
        Err(TicketError::NotFound)
    ));
    let bad = sink(url, "wrong");
    let err = bad
        .open(&AlertId::new("a1").unwrap(), Severity::P0, "t")
        .await
        .unwrap_err();
    assert!(matches!(err, TicketError::Backend(_)));
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let down = sink(format!("http://{closed}/").parse().unwrap(), PASSWORD);
    let err2 = down
        .open(&AlertId::new("a1").unwrap(), Severity::P0, "t")
        .await
        .unwrap_err();
    assert!(matches!(err2, TicketError::Backend(_)));
    let text = format!("{err} {err:?} {err2} {err2:?} {good:?}");
    assert!(!text.contains("CANARY"), "{text}");
}
