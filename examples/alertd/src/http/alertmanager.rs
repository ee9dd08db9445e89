//! `POST /v1/alertmanager`: the Prometheus Alertmanager webhook (payload version 4).
//!
//! Order of checks: bearer token (before the body is read, so an unauthenticated client
//! cannot make us buffer anything), body size, decoding, then each alert through the
//! Orchestrator. The answer is 200 only when every alert was handled — enqueued durably in
//! the outbox, deduplicated as a repeat, or resolved — because Alertmanager retries 5xx and
//! drops 4xx: storage trouble answers 503 (retry; repeats are deduplicated), a body that can
//! never succeed answers 4xx.

use std::sync::Arc;

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rcsec::{AlertOutcome, AlertReport, AlertStatus, Delivery, DeliveryStatus, OrchestratorError};
use serde_json::json;

use super::json_error;
use crate::app::App;
use crate::metrics::Metrics;

const ENDPOINT: &str = "alertmanager";

/// Handles one webhook notification.
pub async fn receive(State(app): State<Arc<App>>, request: Request) -> Response {
    let auth = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    if !app.alertmanager_token.verify_header(auth) {
        app.metrics.inc(
            "alertd_webhook_rejections_total",
            &[("endpoint", ENDPOINT), ("reason", "unauthorized")],
        );
        let mut response = json_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong bearer token",
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    let Ok(body) = to_bytes(request.into_body(), app.max_body).await else {
        app.metrics.inc(
            "alertd_webhook_rejections_total",
            &[("endpoint", ENDPOINT), ("reason", "too_large")],
        );
        return json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "request body exceeds server.max_body_bytes",
        );
    };
    let notification = match app.decoder.decode(&body) {
        Ok(n) => n,
        Err(e) => {
            app.metrics.inc(
                "alertd_webhook_rejections_total",
                &[("endpoint", ENDPOINT), ("reason", "malformed")],
            );
            tracing::info!(error = %e, "alertmanager webhook refused");
            // WebhookError never quotes the body, only positions and field names.
            return json_error(StatusCode::BAD_REQUEST, "malformed", &e.to_string());
        }
    };
    if notification.truncated_alerts > 0 {
        tracing::warn!(
            truncated = notification.truncated_alerts,
            "alertmanager truncated this notification (max_alerts): some alerts were not sent"
        );
    }
    let mut results = Vec::with_capacity(notification.alerts.len());
    for alert in notification.alerts {
        let fingerprint = alert.id.to_string();
        let status = alert.status;
        let responders = app.responders_for(&alert);
        match app.orchestrator.handle_alert(alert, responders).await {
            Ok(report) => {
                let outcome = record(&app, status, &report);
                tracing::info!(
                    fingerprint = %fingerprint,
                    status = status.as_str(),
                    outcome,
                    deliveries = report.deliveries.len(),
                    "alert handled"
                );
                results.push(json!({
                    "fingerprint": fingerprint,
                    "status": status.as_str(),
                    "outcome": outcome,
                    "deliveries": report.deliveries.len(),
                }));
            }
            Err(OrchestratorError::UnknownAlert) if status == AlertStatus::Resolved => {
                // Resolved before we ever saw it fire (or after a restart): nothing to revoke.
                app.metrics.inc(
                    "alertd_alerts_total",
                    &[("status", "resolved"), ("outcome", "unknown")],
                );
                results.push(json!({
                    "fingerprint": fingerprint, "status": "resolved", "outcome": "unknown",
                    "deliveries": 0,
                }));
            }
            Err(e) => {
                let (code, reason) = classify(&e);
                app.metrics.inc(
                    "alertd_alerts_total",
                    &[("status", status.as_str()), ("outcome", reason)],
                );
                tracing::error!(fingerprint = %fingerprint, error = %e, "alert not handled");
                let message = format!("alert {fingerprint} not handled: {e}");
                return json_error(code, reason, &message);
            }
        }
    }
    (
        StatusCode::OK,
        axum::Json(json!({ "status": "ok", "alerts": results })),
    )
        .into_response()
}

/// 503 for a dependency that may come back (Alertmanager retries), 500 for a bug.
fn classify(e: &OrchestratorError) -> (StatusCode, &'static str) {
    match e {
        OrchestratorError::Outbox(_)
        | OrchestratorError::Audit(_)
        | OrchestratorError::Link(_)
        | OrchestratorError::Ticket(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

/// Counts the report in the metrics and names its outcome.
fn record(app: &App, status: AlertStatus, report: &AlertReport) -> &'static str {
    let outcome = match report.outcome {
        AlertOutcome::Paged => "paged",
        AlertOutcome::Deduplicated => "deduplicated",
        AlertOutcome::Resolved { .. } => "resolved",
        _ => "other",
    };
    app.metrics.inc(
        "alertd_alerts_total",
        &[("status", status.as_str()), ("outcome", outcome)],
    );
    record_deliveries(&app.metrics, &report.deliveries);
    outcome
}

/// Counts sends by route, page outcomes and fallbacks by reason.
pub(crate) fn record_deliveries(m: &Metrics, deliveries: &[Delivery]) {
    for d in deliveries {
        let route = d.route.as_str();
        m.inc(
            "rcsec_deliveries_total",
            &[("route", route), ("status", status_label(&d.status))],
        );
        if let Some(reason) = d.fallback_reason {
            m.inc("rcsec_fallbacks_total", &[("reason", reason.as_str())]);
        }
    }
}

/// The metric label for a delivery status.
pub(crate) fn status_label(status: &DeliveryStatus) -> &'static str {
    match status {
        DeliveryStatus::Sent { .. } => "sent",
        DeliveryStatus::Retrying { .. } => "retrying",
        DeliveryStatus::Failed { .. } => "failed",
        DeliveryStatus::Expired => "expired",
        DeliveryStatus::Blocked => "blocked",
        DeliveryStatus::Held { .. } => "held",
        DeliveryStatus::RateLimited => "rate_limited",
        _ => "other",
    }
}
