//! `POST /v1/providers/rbm/events`: the RCS Business Messaging webhook.
//!
//! Order: body size, RBM's one-time registration check, `X-Goog-Signature` (HMAC-SHA512 of
//! the decoded `message.data` under the client token, constant time) before anything else
//! is parsed, event decoding, a free queue slot, de-duplication on the event/message id, then
//! 200 at once. The pipeline work happens in the `crate::rbm` worker. A full queue answers
//! 503 *before* the event is marked seen, so the retry Pub/Sub sends is not dropped as a
//! duplicate.

use std::sync::Arc;

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rcsec_provider_rbm::webhook::{
    MAX_BODY_BYTES, Seen, WebhookError, decode_event, registration_secret, verify_signature,
};

use super::json_error;
use crate::app::App;

const ENDPOINT: &str = "rbm";

/// Handles one webhook request.
pub async fn receive(State(app): State<Arc<App>>, request: Request) -> Response {
    let Some(inbound) = app.rbm.as_ref() else {
        return json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "the rbm webhook is not configured",
        );
    };
    let reject = |reason: &'static str| {
        app.metrics.inc(
            "alertd_webhook_rejections_total",
            &[("endpoint", ENDPOINT), ("reason", reason)],
        );
    };
    let signature = request
        .headers()
        .get("x-goog-signature")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Ok(body) = to_bytes(request.into_body(), MAX_BODY_BYTES).await else {
        reject("too_large");
        return json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "request body too large",
        );
    };
    if signature.is_none() {
        match registration_secret(&inbound.token, &body) {
            Ok(Some(secret)) => {
                tracing::info!("rbm webhook registration answered");
                return (StatusCode::OK, secret.expose_secret().clone()).into_response();
            }
            Ok(None) => {}
            Err(_) => {
                reject("bad_registration");
                return json_error(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "registration refused",
                );
            }
        }
    }
    let payload = match verify_signature(&inbound.token, signature.as_deref(), &body) {
        Ok(p) => p,
        Err(e) => {
            let (status, reason, forgery) = match e {
                WebhookError::MissingSignature => (
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "missing_signature",
                ),
                WebhookError::BadSignature | WebhookError::MalformedSignature => {
                    (StatusCode::UNAUTHORIZED, "unauthorized", "bad_signature")
                }
                WebhookError::BodyTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too_large", ""),
                _ => (StatusCode::BAD_REQUEST, "malformed", ""),
            };
            reject(reason);
            if !forgery.is_empty() {
                app.forged_webhook(ENDPOINT, forgery, None).await;
            }
            return json_error(status, reason, &e.to_string());
        }
    };
    let event = match decode_event(&payload) {
        Ok(e) => e,
        Err(e) => {
            reject("malformed");
            return json_error(StatusCode::BAD_REQUEST, "malformed", &e.to_string());
        }
    };
    let Ok(permit) = inbound.queue.try_reserve() else {
        reject("queue_full");
        return json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "event queue is full; retry later",
        );
    };
    if inbound.dedup.check(&event.dedup_key, app.clock.now()) == Seen::Duplicate {
        app.metrics.inc(
            "alertd_provider_events_total",
            &[("kind", "any"), ("outcome", "duplicate")],
        );
        return (
            StatusCode::OK,
            axum::Json(serde_json::json!({"status": "duplicate"})),
        )
            .into_response();
    }
    permit.send(event);
    (
        StatusCode::OK,
        axum::Json(serde_json::json!({"status": "queued"})),
    )
        .into_response()
}
