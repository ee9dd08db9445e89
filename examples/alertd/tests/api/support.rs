//! An in-process alertd on 127.0.0.1:0 with a loopback roster, and a small HTTP client.

use std::path::Path;
use std::sync::Arc;

use alertd::{App, AppOptions, Config, Running};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

pub const TOKEN: &str = "test-bearer-token-0123456789abcdef";

/// Alice reads RCS with verified E2EE, Carol only SMS: one alert gives one full-text page and
/// one SMS with a one-time link.
pub const ROSTER: &str = r#"
[[recipient]]
name = "Alice"
number = "+447700900101"
reach = "rcs"
e2ee = "verified"

[[recipient]]
name = "Carol"
number = "+447700900103"
reach = "sms_only"
"#;

pub struct Daemon {
    pub running: Option<Running>,
    pub app: Arc<App>,
    pub base: String,
    /// The configuration it runs with (for a restart on the same state).
    config_text: String,
    /// Kept alive (the state directory) until the daemon is dropped.
    dir: tempfile::TempDir,
}

impl Daemon {
    pub async fn start() -> Self {
        Self::start_with(|_| {}, AppOptions::default()).await
    }

    /// Starts with the config text edited by `edit`, and parts replaced by `options`.
    pub async fn start_with(edit: impl FnOnce(&mut String), options: AppOptions) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut text = config_text(dir.path(), &format!("http://{addr}/"));
        edit(&mut text);
        Self::launch(text, dir, listener, options).await
    }

    /// Stops this daemon and starts a new one on the same configuration and state directory
    /// (a new port), with parts replaced by `options`: a process restart.
    pub async fn restart(mut self, options: AppOptions) -> Self {
        if let Some(r) = self.running.take() {
            r.shutdown().await.unwrap();
        }
        let Self {
            app,
            base,
            config_text,
            dir,
            ..
        } = self;
        drop(app);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let text = config_text.replace(&format!("{base}/"), &format!("http://{addr}/"));
        Self::launch(text, dir, listener, options).await
    }

    async fn launch(
        text: String,
        dir: tempfile::TempDir,
        listener: tokio::net::TcpListener,
        options: AppOptions,
    ) -> Self {
        let addr = listener.local_addr().unwrap();
        let config = Config::from_toml(&text).unwrap();
        let app = Arc::new(App::with_options(&config, options).unwrap());
        app.recover().await.unwrap();
        let running = alertd::start(Arc::clone(&app), listener).unwrap();
        Self {
            running: Some(running),
            app,
            base: format!("http://{addr}"),
            config_text: text,
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await.unwrap();
        }
    }

    /// Every SMS/RCS text the loopback accepted, in order.
    pub fn sent_texts(&self) -> Vec<String> {
        let lb = self.app.loopback.as_ref().unwrap();
        lb.sent()
            .iter()
            .filter_map(|r| match &r.message.body {
                rcsec::MessageBody::Sms { text } | rcsec::MessageBody::Text { text, .. } => {
                    Some(text.expose().clone())
                }
                _ => None,
            })
            .collect()
    }

    /// The links (`http://.../l/<token>#k=...`) in every accepted message.
    pub fn sent_links(&self) -> Vec<String> {
        let marker = format!("{}/l/", self.base);
        let mut links = Vec::new();
        for text in self.sent_texts() {
            for word in text.split_whitespace() {
                if word.starts_with(&marker) {
                    links.push(word.to_owned());
                }
            }
        }
        links
    }

    /// Waits until the loopback accepted `n` messages. The webhook answers once pages are
    /// durably enqueued; the background tick may still be sending some of them.
    pub async fn wait_sent(&self, n: usize) {
        let lb = self.app.loopback.as_ref().unwrap();
        crate::real::eventually(
            &format!("{n} sent messages"),
            std::time::Duration::from_secs(10),
            || async { (lb.sent().len() >= n).then_some(()) },
        )
        .await;
    }

    /// Messages the loopback accepted so far.
    pub fn sent_count(&self) -> usize {
        self.app.loopback.as_ref().unwrap().sent().len()
    }

    pub async fn outbox_depth(&self) -> usize {
        self.app.outbox.depth().await.unwrap()
    }
}

/// A config on SQLite in `dir` with the loopback roster and the bearer token written there.
pub fn config_text(dir: &Path, public_url: &str) -> String {
    std::fs::write(dir.join("roster.toml"), ROSTER).unwrap();
    let token = dir.join("am.token");
    std::fs::write(&token, format!("{TOKEN}\n")).unwrap();
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
public_url = "{public_url}"
shutdown_grace_secs = 5

[alertmanager]
bearer_token_file = "{token}"

[store]
kind = "sqlite"
state_dir = "{state}"

[pipeline]
tick_interval_ms = 200

[provider.loopback]
roster = "{roster}"
"#,
        token = token.display(),
        state = dir.join("state").display(),
        roster = dir.join("roster.toml").display(),
    )
}

pub struct Reply {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One HTTP/1.1 request.
pub async fn request(method: &str, url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut builder = hyper::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let response = client
        .request(builder.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

pub async fn get(url: &str) -> Reply {
    request("GET", url, &[], Vec::new()).await
}

pub async fn post_alerts(daemon: &Daemon, body: &str) -> Reply {
    let auth = format!("Bearer {TOKEN}");
    request(
        "POST",
        &daemon.url("/v1/alertmanager"),
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        body.as_bytes().to_vec(),
    )
    .await
}

/// A webhook v4 body with one alert per (fingerprint, status).
pub fn webhook(alerts: &[(&str, &str)], summary: &str) -> String {
    let alerts: Vec<serde_json::Value> = alerts
        .iter()
        .map(|(fp, status)| {
            serde_json::json!({
                "status": status,
                "labels": {"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"},
                "annotations": {"summary": summary},
                "startsAt": "2026-11-22T01:00:00Z",
                "endsAt": if *status == "resolved" { "2026-11-22T01:10:00Z" } else { "0001-01-01T00:00:00Z" },
                "generatorURL": "http://prometheus.example/graph",
                "fingerprint": fp,
            })
        })
        .collect();
    serde_json::json!({
        "version": "4",
        "groupKey": "{}:{alertname=\"HighErrorRate\"}",
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "ops",
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
        "alerts": alerts,
        "notification_reason": "new_alerts_or_updates",
    })
    .to_string()
}

/// The path of a link URL and its fragment key.
pub fn split_link(link: &str) -> (String, String) {
    let (url, fragment) = link.split_once('#').unwrap();
    let path = url.splitn(4, '/').nth(3).map(|p| format!("/{p}")).unwrap();
    (path, fragment.to_owned())
}
