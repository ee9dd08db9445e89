//! A stand-in for a messaging vendor's REST endpoint: what the phones would receive.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::http;

/// One message as the vendor received it.
#[derive(Clone, PartialEq, Eq)]
pub struct Received {
    /// The idempotency key the provider sent.
    pub id: String,
    /// The recipient in E.164 (what the vendor needs to deliver; never logged by rcsec).
    pub to: String,
    /// The route name (`rcs_plain`, `sms_link`, ...).
    pub route: String,
    /// The text the phone shows.
    pub text: String,
}

/// Prints lengths only: the text may be redacted, but the number is still a number.
impl std::fmt::Debug for Received {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Received")
            .field("id", &self.id)
            .field("route", &self.route)
            .field("text_len", &self.text.len())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct Inbox {
    delivered: Vec<Received>,
    by_id: HashMap<String, String>,
}

/// `POST /v1/messages` with `{"id", "to", "route", "text"}` on `127.0.0.1:0`; answers
/// `{"delivery_id": ...}`, the same one again for a repeated `id` (as RCS Business
/// Messaging's `messageId` does), so a retried send is delivered once.
#[derive(Debug)]
pub struct PhoneGateway {
    addr: SocketAddr,
    inbox: Arc<Mutex<Inbox>>,
    task: JoinHandle<()>,
}

impl PhoneGateway {
    /// Binds `127.0.0.1:0` and serves until dropped.
    ///
    /// # Errors
    /// When the socket cannot be bound.
    pub async fn start() -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let shared = inbox.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, shared.clone()));
            }
        });
        Ok(Self { addr, inbox, task })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every message delivered, once each, in order.
    pub fn received(&self) -> Vec<Received> {
        let inbox = self.inbox.lock().unwrap_or_else(PoisonError::into_inner);
        inbox.delivered.clone()
    }
}

impl Drop for PhoneGateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut stream: TcpStream, inbox: Arc<Mutex<Inbox>>) {
    let (status, body) = match http::read_message(&mut stream).await {
        Ok(request) if request.start_line.starts_with("POST /v1/messages ") => {
            match accept(&request.body, &inbox) {
                Some(delivery_id) => ("200 OK", serde_json::json!({ "delivery_id": delivery_id })),
                None => (
                    "400 Bad Request",
                    serde_json::json!({ "error": "bad message" }),
                ),
            }
        }
        Ok(_) => (
            "404 Not Found",
            serde_json::json!({ "error": "no such endpoint" }),
        ),
        Err(_) => (
            "400 Bad Request",
            serde_json::json!({ "error": "bad request" }),
        ),
    };
    let response = http::encode(&format!("HTTP/1.1 {status}"), body.to_string().as_bytes());
    // The client may have gone away; there is nobody to tell.
    let _ = stream.write_all(&response).await;
}

fn accept(body: &[u8], inbox: &Mutex<Inbox>) -> Option<String> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    let field = |name: &str| json.get(name)?.as_str().map(str::to_owned);
    let message = Received {
        id: field("id")?,
        to: field("to")?,
        route: field("route")?,
        text: field("text")?,
    };
    let mut inbox = inbox.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(existing) = inbox.by_id.get(&message.id) {
        return Some(existing.clone());
    }
    let delivery_id = format!("vendor-{}", inbox.delivered.len() + 1);
    inbox.by_id.insert(message.id.clone(), delivery_id.clone());
    inbox.delivered.push(message);
    Some(delivery_id)
}
