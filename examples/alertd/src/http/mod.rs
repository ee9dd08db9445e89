//! The HTTP surface: routes, shared security headers, and error bodies.
//!
//! | route | handler |
//! |---|---|
//! | `POST /v1/alertmanager` | [`alertmanager`]: Alertmanager webhook v4, bearer token |
//! | `POST /v1/providers/rbm/events` | [`rbm`]: RCS Business Messaging webhook, signed |
//! | `GET /v1/providers/kannel/dlr` | [`kannel`]: Kannel delivery reports, MAC in the URL |
//! | `GET /l/{token}` | [`links`]: the secure-link page (consumes nothing) |
//! | `POST /l/{token}` | [`links`]: consume once, return the ciphertext |
//! | `GET /l/app.js`, `GET /l/app.css` | the page's own script and style (no third party) |
//! | `GET /metrics`, `GET /healthz` | [`ops`] |

pub mod alertmanager;
pub mod kannel;
pub mod links;
pub mod ops;
pub mod rbm;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::app::App;

/// The router for `app`.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/v1/alertmanager", post(alertmanager::receive))
        .route("/v1/providers/rbm/events", post(rbm::receive))
        .route("/v1/providers/kannel/dlr", get(kannel::dlr))
        .route("/l/app.js", get(links::script))
        .route("/l/app.css", get(links::style))
        .route("/l/{token}", get(links::page).post(links::confirm))
        .route("/metrics", get(ops::metrics))
        .route("/healthz", get(ops::healthz))
        .fallback(not_found)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(app)
}

async fn not_found() -> Response {
    json_error(
        axum::http::StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint",
    )
}

/// Headers every response carries: nothing here may be cached by a shared proxy or the
/// browser (link pages and ciphertext are one-time), leak its URL in a `Referer`, or be
/// sniffed into another content type.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// A JSON error body `{"error": code, "message": text}`. `message` is always a fixed or
/// typed-error text: never request content.
pub(crate) fn json_error(
    status: axum::http::StatusCode,
    code: &'static str,
    message: &str,
) -> Response {
    let body = serde_json::json!({ "error": code, "message": message });
    (status, axum::Json(body)).into_response()
}
