//! `GET /v1/providers/kannel/dlr`: Kannel's delivery reports.
//!
//! Kannel fetches the `dlr-url` handed over with each `sendsms` call, as plain HTTP and with
//! nothing but the URL to authenticate it. The URL therefore carries our message id and a MAC
//! over it under this deployment's `kannel-dlr.key` (see `rcsec_provider_kannel::DlrSigner`):
//! a report for a message we did not send, or for another message, fails the tag and is
//! counted and audited as a forgery. "Delivered" reports feed the pipeline (the message is
//! delivered, over a route without E2EE); the others are counted only.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rcsec::OrchestratorError;
use rcsec_provider_kannel::{DlrError, DlrStatus};

use super::json_error;
use crate::app::App;
use crate::http::alertmanager::record_deliveries;

const ENDPOINT: &str = "kannel";

fn status_name(status: DlrStatus) -> &'static str {
    match status {
        DlrStatus::Delivered => "dlr_delivered",
        DlrStatus::Failed => "dlr_failed",
        DlrStatus::Buffered => "dlr_buffered",
        DlrStatus::SmscAccepted => "dlr_smsc_accepted",
        DlrStatus::SmscRejected => "dlr_smsc_rejected",
        _ => "dlr_other",
    }
}

/// Handles one delivery report.
pub async fn dlr(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let Some(signer) = app.kannel_dlr.as_ref() else {
        return json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "kannel delivery reports are not configured",
        );
    };
    let reject = |reason: &'static str| {
        app.metrics.inc(
            "alertd_webhook_rejections_total",
            &[("endpoint", ENDPOINT), ("reason", reason)],
        );
    };
    let report = match signer.parse(query.as_deref().unwrap_or_default()) {
        Ok(r) => r,
        Err(DlrError::BadTag) => {
            reject("unauthorized");
            app.forged_webhook(ENDPOINT, "bad_tag", None).await;
            return json_error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "delivery report does not verify",
            );
        }
        Err(e) => {
            reject("malformed");
            return json_error(StatusCode::BAD_REQUEST, "malformed", &e.to_string());
        }
    };
    let kind = status_name(report.status);
    let count = |outcome: &str| {
        app.metrics.inc(
            "alertd_provider_events_total",
            &[("kind", kind), ("outcome", outcome)],
        );
    };
    let Some(event) = report.to_provider_event() else {
        count("recorded");
        return (StatusCode::OK, "ok").into_response();
    };
    match app.orchestrator.on_event(event).await {
        Ok(deliveries) => {
            record_deliveries(&app.metrics, &deliveries);
            count("applied");
        }
        Err(OrchestratorError::UnknownMessage) => count("unknown_message"),
        Err(e) => {
            tracing::error!(error = %e, "kannel delivery report not applied");
            count("failed");
            return json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "delivery report not applied; retry later",
            );
        }
    }
    (StatusCode::OK, "ok").into_response()
}
