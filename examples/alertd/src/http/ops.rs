//! `GET /metrics` (Prometheus text) and `GET /healthz`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::App;

/// Prometheus text exposition; the outbox depth is read at scrape time.
pub async fn metrics(State(app): State<Arc<App>>) -> Response {
    let depth = app.outbox.depth().await.ok();
    let body = app.metrics.render(depth);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// 200 when the outbox (the durable store every page passes through) answers, else 503, so
/// a load balancer stops sending webhooks to a replica that could not enqueue them.
pub async fn healthz(State(app): State<Arc<App>>) -> Response {
    match app.outbox.depth().await {
        Ok(depth) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({ "status": "ok", "outbox_depth": depth })),
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check: outbox unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({ "status": "unavailable" })),
            )
                .into_response()
        }
    }
}
