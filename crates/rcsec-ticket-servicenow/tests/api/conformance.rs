//! The ticket sink conformance suite against the fake ServiceNow instance and a webhook
//! receiver that keeps the documented contract (open idempotent per alert, 404 for unknown
//! tickets).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use rcsec::conformance::ticket::TicketHarness;
use rcsec::core::{AlertId, Secret};
use rcsec::{TicketId, TicketSink};
use rcsec_http::{HttpClient, HttpConfig};
use rcsec_ticket_servicenow::{Auth, ServiceNowSink, WebhookSink};
use serde_json::{Value, json};

use super::servicenow::{PASSWORD, Shared, fake_instance, sink};

struct ServiceNow {
    url: url::Url,
    sink: Arc<ServiceNowSink>,
    instance: Shared,
}

impl ServiceNow {
    async fn start() -> Self {
        let (url, instance) = fake_instance().await;
        Self {
            sink: Arc::new(sink(url.clone(), PASSWORD)),
            url,
            instance,
        }
    }
}

#[rcsec::async_trait]
impl TicketHarness for ServiceNow {
    fn sink(&self) -> Arc<dyn TicketSink> {
        self.sink.clone()
    }

    fn replica(&self) -> Option<Arc<dyn TicketSink>> {
        Some(Arc::new(sink(self.url.clone(), PASSWORD)))
    }

    async fn tickets_for(&self, alert: &AlertId) -> usize {
        let sn = self.instance.lock().unwrap();
        sn.incidents
            .iter()
            .filter(|i| i["correlation_id"] == alert.as_str())
            .count()
    }

    fn unknown_ticket(&self) -> TicketId {
        TicketId::new(format!("{:032x}", 0xdead_beef_u64))
    }

    async fn break_backend(&self) -> bool {
        self.instance.lock().unwrap().down = true;
        true
    }

    fn secrets(&self) -> Vec<String> {
        vec![PASSWORD.to_owned()]
    }
}

mod servicenow_sink {
    rcsec::ticket_sink_tests!(super::ServiceNow::start);
}

/// What the webhook receiver holds.
#[derive(Default)]
struct Receiver {
    /// Alert id -> ticket id, one ticket per alert.
    tickets: HashMap<String, String>,
    down: bool,
}

const WEBHOOK_BEARER: &str = "wh-CANARY-bearer";

struct Webhook {
    url: url::Url,
    receiver: Arc<Mutex<Receiver>>,
    sink: Option<Arc<dyn TicketSink>>,
}

impl Webhook {
    async fn start() -> Self {
        let receiver: Arc<Mutex<Receiver>> = Arc::default();
        let state = receiver.clone();
        let app = Router::new().route(
            "/tickets",
            post(move |Json(v): Json<Value>| {
                let state = state.clone();
                async move {
                    let mut r = state.lock().unwrap();
                    if r.down {
                        return (StatusCode::BAD_GATEWAY, Json(json!({})));
                    }
                    if v["event"] == "open" {
                        let alert = v["alert"].as_str().unwrap_or_default().to_owned();
                        let next = format!("T-{}", r.tickets.len() + 1);
                        let id = r.tickets.entry(alert).or_insert(next).clone();
                        return (StatusCode::OK, Json(json!({"id": id})));
                    }
                    let ticket = v["ticket"].as_str().unwrap_or_default();
                    if r.tickets.values().any(|t| t == ticket) {
                        (StatusCode::OK, Json(json!({})))
                    } else {
                        (StatusCode::NOT_FOUND, Json(json!({})))
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let mut harness = Self {
            url: format!("http://{addr}/tickets").parse().unwrap(),
            receiver,
            sink: None,
        };
        harness.sink = Some(harness.new_sink());
        harness
    }

    fn new_sink(&self) -> Arc<dyn TicketSink> {
        let http = HttpClient::new(HttpConfig {
            timeout: Duration::from_secs(3),
            ..HttpConfig::default()
        })
        .unwrap();
        let auth = Auth::Bearer(Secret::new(WEBHOOK_BEARER.into()));
        Arc::new(WebhookSink::new(http, self.url.clone(), auth))
    }
}

#[rcsec::async_trait]
impl TicketHarness for Webhook {
    fn sink(&self) -> Arc<dyn TicketSink> {
        self.sink.clone().unwrap()
    }

    fn replica(&self) -> Option<Arc<dyn TicketSink>> {
        Some(self.new_sink())
    }

    async fn tickets_for(&self, alert: &AlertId) -> usize {
        usize::from(
            self.receiver
                .lock()
                .unwrap()
                .tickets
                .contains_key(alert.as_str()),
        )
    }

    fn unknown_ticket(&self) -> TicketId {
        TicketId::new("T-999")
    }

    async fn break_backend(&self) -> bool {
        self.receiver.lock().unwrap().down = true;
        true
    }

    fn secrets(&self) -> Vec<String> {
        vec![WEBHOOK_BEARER.to_owned()]
    }
}

mod webhook_sink {
    rcsec::ticket_sink_tests!(super::Webhook::start);
}
