//! One local HTTP fake for the outbound side of alertd: RBM's REST API, Kannel's `sendsms`,
//! ServiceNow's Table API and a ticket webhook, following their documented shapes, recording
//! every request so tests can assert on what left the daemon.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, patch, post};
use serde_json::{Value, json};

/// The bearer token the fake RBM expects.
pub const RBM_TOKEN: &str = "ya29.alertd-fake-rbm-token";
/// The ServiceNow integration user and password the fake instance expects.
pub const SN_USER: &str = "rcsec.integration";
pub const SN_PASSWORD: &str = "CANARY-sn-password-31337";
/// Kannel's sendsms account.
pub const KANNEL_USER: &str = "alertd";
pub const KANNEL_PASSWORD: &str = "CANARY-kannel-pw-4242";

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: HashMap<String, String>,
    pub authorization: Option<String>,
    pub body: Value,
}

#[derive(Debug, Default)]
pub struct FakeState {
    pub seen: Vec<Seen>,
    /// ServiceNow incidents as created, patched in place.
    pub incidents: Vec<Value>,
    /// sys_id -> work notes, in order.
    pub journal: HashMap<String, Vec<String>>,
    /// Numbers the fake RBM knows as RCS users; others get 404.
    pub rcs_users: Vec<String>,
}

pub type Fake = Arc<Mutex<FakeState>>;

fn record(fake: &Fake, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) {
    let query = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let body = serde_json::from_slice(body).unwrap_or(Value::Null);
    fake.lock().unwrap().seen.push(Seen {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query,
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body,
    });
}

fn rbm_authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {RBM_TOKEN}"))
}

fn status(code: StatusCode, text: &str) -> Response {
    (
        code,
        axum::Json(json!({"error": {"code": code.as_u16(), "status": text}})),
    )
        .into_response()
}

async fn rbm_capabilities(
    State(fake): State<Fake>,
    Path(phone): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    record(&fake, &method, &uri, &headers, b"");
    if !rbm_authorized(&headers) {
        return status(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED");
    }
    if fake.lock().unwrap().rcs_users.contains(&phone) {
        axum::Json(json!({"features": ["RICHCARD_STANDALONE", "ACTION_OPEN_URL"]})).into_response()
    } else {
        status(StatusCode::NOT_FOUND, "NOT_FOUND")
    }
}

async fn rbm_send(
    State(fake): State<Fake>,
    Path(phone): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&fake, &method, &uri, &headers, &body);
    if !rbm_authorized(&headers) {
        return status(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED");
    }
    if !fake.lock().unwrap().rcs_users.contains(&phone) {
        return status(StatusCode::NOT_FOUND, "NOT_FOUND");
    }
    axum::Json(json!({"name": format!("phones/{phone}/agentMessages/x")})).into_response()
}

async fn sendsms(
    State(fake): State<Fake>,
    RawQuery(_): RawQuery,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    record(&fake, &method, &uri, &headers, b"");
    let last = fake.lock().unwrap().seen.last().cloned().unwrap();
    if last.query.get("username").map(String::as_str) != Some(KANNEL_USER)
        || last.query.get("password").map(String::as_str) != Some(KANNEL_PASSWORD)
    {
        return (StatusCode::FORBIDDEN, "Authorization failed for sendsms").into_response();
    }
    (StatusCode::ACCEPTED, "0: Accepted for delivery").into_response()
}

fn sn_authorized(headers: &HeaderMap) -> bool {
    use base64::Engine as _;
    let expected =
        base64::engine::general_purpose::STANDARD.encode(format!("{SN_USER}:{SN_PASSWORD}"));
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Basic {expected}"))
}

async fn sn_list(
    State(fake): State<Fake>,
    Query(q): Query<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    record(&fake, &method, &uri, &headers, b"");
    if !sn_authorized(&headers) {
        return status(StatusCode::UNAUTHORIZED, "failure");
    }
    let query = q.get("sysparm_query").cloned().unwrap_or_default();
    let correlation = query
        .split('^')
        .find_map(|t| t.strip_prefix("correlation_id="))
        .unwrap_or_default()
        .to_owned();
    let hits: Vec<Value> = fake
        .lock()
        .unwrap()
        .incidents
        .iter()
        .filter(|i| i["correlation_id"] == correlation.as_str() && i["active"] == "true")
        .take(1)
        .cloned()
        .collect();
    axum::Json(json!({"result": hits})).into_response()
}

async fn sn_create(
    State(fake): State<Fake>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&fake, &method, &uri, &headers, &body);
    if !sn_authorized(&headers) {
        return status(StatusCode::UNAUTHORIZED, "failure");
    }
    let mut incident: Value = serde_json::from_slice(&body).unwrap();
    let mut f = fake.lock().unwrap();
    let n = f.incidents.len() + 1;
    incident["sys_id"] = json!(format!("{n:032x}"));
    incident["active"] = json!("true");
    f.incidents.push(incident.clone());
    (StatusCode::CREATED, axum::Json(json!({"result": incident}))).into_response()
}

async fn sn_update(
    State(fake): State<Fake>,
    Path(sys_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&fake, &method, &uri, &headers, &body);
    if !sn_authorized(&headers) {
        return status(StatusCode::UNAUTHORIZED, "failure");
    }
    let fields: Value = serde_json::from_slice(&body).unwrap();
    let mut guard = fake.lock().unwrap();
    let f = &mut *guard;
    let Some(incident) = f
        .incidents
        .iter_mut()
        .find(|i| i["sys_id"] == sys_id.as_str())
    else {
        return status(StatusCode::NOT_FOUND, "failure");
    };
    for (k, v) in fields.as_object().unwrap() {
        if k == "work_notes" {
            f.journal
                .entry(sys_id.clone())
                .or_default()
                .push(v.as_str().unwrap_or_default().to_owned());
        } else {
            incident[k] = v.clone();
        }
    }
    axum::Json(json!({"result": incident.clone()})).into_response()
}

async fn catch_all(
    State(fake): State<Fake>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&fake, &method, &uri, &headers, &body);
    (StatusCode::OK, axum::Json(json!({}))).into_response()
}

/// Starts the fake on 127.0.0.1:0; `rcs_users` are the numbers RBM reaches.
pub async fn start(rcs_users: &[&str]) -> (String, Fake) {
    let fake: Fake = Arc::default();
    fake.lock().unwrap().rcs_users = rcs_users.iter().map(|s| (*s).to_owned()).collect();
    let app = Router::new()
        .route("/v1/phones/{phone}/capabilities", get(rbm_capabilities))
        .route("/v1/phones/{phone}/agentMessages", post(rbm_send))
        .route("/cgi-bin/sendsms", get(sendsms))
        .route("/api/now/table/incident", get(sn_list).post(sn_create))
        .route("/api/now/table/incident/{sys_id}", patch(sn_update))
        .fallback(any(catch_all))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/"), fake)
}

/// The requests seen so far whose path starts with `prefix`.
pub fn seen(fake: &Fake, prefix: &str) -> Vec<Seen> {
    fake.lock()
        .unwrap()
        .seen
        .iter()
        .filter(|s| s.path.starts_with(prefix))
        .cloned()
        .collect()
}

/// Writes `content` to `path` with mode 0600 (alertd refuses looser credential files).
pub fn write_secret(path: &std::path::Path, content: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, content).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}
