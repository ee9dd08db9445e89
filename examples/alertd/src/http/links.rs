//! The secure-link gateway: `GET /l/{token}` shows the page, `POST /l/{token}` consumes.
//!
//! # Why two steps
//! Chat apps, mail scanners and link previewers fetch every URL they see. A GET therefore
//! only verifies the token and reports the link's state ([`Gateway::preview`]); the one use
//! is spent by the explicit POST the page sends when the recipient confirms
//! ([`Gateway::confirm`], atomic in the token store).
//!
//! # Why the server never sees plaintext
//! The payload key is in the URL fragment (`#k=...`), which browsers never send. The POST
//! returns the sealed payload; `app.js` opens it with WebCrypto (HMAC-SHA256 commitment, then
//! AES-256-GCM records, exactly the `rcsec_link::sealed` format) and shows it in the page.
//!
//! The page runs only its own script (`script-src 'self'`, no inline script, no third
//! party), may talk only to its own origin, and cannot be framed.
//!
//! [`Gateway::preview`]: rcsec::link::Gateway::preview
//! [`Gateway::confirm`]: rcsec::link::Gateway::confirm

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rcsec::link::{LinkState, RedeemContext, RedeemError, RejectReason};

use super::json_error;
use crate::app::App;

const PAGE: &str = include_str!("../../assets/page.html");
const SCRIPT: &str = include_str!("../../assets/app.js");
const STYLE: &str = include_str!("../../assets/app.css");

/// The page's policy: its own script and style only, requests to its own origin only,
/// downloads through `blob:` URLs, no framing, no forms, no `<base>` tricks.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self' blob:; base-uri 'none'; form-action 'none'; \
                   frame-ancestors 'none'";

/// What the page shows, server-side. The script takes over only for `valid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PageState {
    Valid,
    Expired,
    Used,
    Revoked,
    Invalid,
    Mismatch,
    Unavailable,
}

impl PageState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Expired => "expired",
            Self::Used => "used",
            Self::Revoked => "revoked",
            Self::Invalid => "invalid",
            Self::Mismatch => "mismatch",
            Self::Unavailable => "unavailable",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Self::Valid => {
                "A secure item is waiting for you. Opening it uses the link up: it works once."
            }
            Self::Expired => "This link has expired. Ask the sender for a new one.",
            Self::Used => {
                "This link has already been used. Each link opens once; ask the sender for a new one if that was not you."
            }
            Self::Revoked => {
                "This link has been revoked (the alert was resolved or the link withdrawn)."
            }
            Self::Invalid => "This link is not valid. Check that you opened the whole link.",
            Self::Mismatch => "This link cannot be opened from this device or network.",
            Self::Unavailable => {
                "The link service is temporarily unavailable. Try again in a minute."
            }
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Self::Valid => StatusCode::OK,
            Self::Expired | Self::Used | Self::Revoked => StatusCode::GONE,
            Self::Invalid => StatusCode::NOT_FOUND,
            Self::Mismatch => StatusCode::FORBIDDEN,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn from_error(e: &RedeemError) -> Self {
        match e.reason() {
            Some(RejectReason::Expired) => Self::Expired,
            Some(RejectReason::Consumed) => Self::Used,
            Some(RejectReason::Revoked) => Self::Revoked,
            Some(RejectReason::BindingMismatch) => Self::Mismatch,
            Some(_) => Self::Invalid,
            None if matches!(e, RedeemError::PayloadGone) => Self::Revoked,
            None => Self::Unavailable,
        }
    }
}

fn user_agent(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
}

/// What the gateway checks a link against: now, the client's address and its user agent.
fn redeem_context<'h>(app: &App, peer: SocketAddr, headers: &'h HeaderMap) -> RedeemContext<'h> {
    let ctx = RedeemContext::at(app.clock.now()).client_ip(peer.ip());
    match user_agent(headers) {
        Some(ua) => ctx.user_agent(ua),
        None => ctx,
    }
}

/// `GET /l/{token}`: verify and report the state; consumes nothing.
pub async fn page(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    token: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Response {
    let ctx = redeem_context(&app, peer, &headers);
    // A path that is not even UTF-8 is an invalid link like any other, not a 400.
    let token = token.map(|Path(t)| t).unwrap_or_default();
    let gateway = app.orchestrator.gateway();
    let (state, link_id, expires) = match gateway.preview(&token, &ctx).await {
        Ok(p) => {
            let state = match p.state {
                LinkState::Valid { .. } => PageState::Valid,
                LinkState::Expired => PageState::Expired,
                LinkState::Used => PageState::Used,
                _ => PageState::Revoked,
            };
            (state, p.link_id.to_string(), p.expires_at.as_secs())
        }
        Err(e) => {
            let state = PageState::from_error(&e);
            if state == PageState::Unavailable {
                tracing::error!(error = %e, "link preview failed");
            }
            (state, String::new(), 0)
        }
    };
    app.metrics
        .inc("rcsec_link_previews_total", &[("state", state.as_str())]);
    let html = PAGE
        .replace("{{state}}", state.as_str())
        .replace("{{link_id}}", &link_id)
        .replace("{{expires}}", &expires.to_string())
        .replace("{{message}}", state.message());
    let mut response = (state.status(), html).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "x-robots-tag",
        HeaderValue::from_static("noindex, nofollow"),
    );
    response
}

/// `POST /l/{token}`: consume one use atomically and return the sealed payload.
pub async fn confirm(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    token: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Response {
    let ctx = redeem_context(&app, peer, &headers);
    let token = token.map(|Path(t)| t).unwrap_or_default();
    match app.orchestrator.gateway().confirm(&token, &ctx).await {
        Ok(redeemed) => {
            app.metrics
                .inc("rcsec_link_redemptions_total", &[("outcome", "redeemed")]);
            tracing::info!(link = %redeemed.link_id, "secure link redeemed");
            let link_id = redeemed.link_id.to_string();
            let mut response = (StatusCode::OK, redeemed.ciphertext).into_response();
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            if let Ok(v) = HeaderValue::from_str(&link_id) {
                h.insert("x-link-id", v);
            }
            response
        }
        Err(e) => {
            let state = PageState::from_error(&e);
            app.metrics.inc(
                "rcsec_link_redemptions_total",
                &[("outcome", state.as_str())],
            );
            if state == PageState::Unavailable {
                tracing::error!(error = %e, "link confirmation failed");
            }
            let mut response = json_error(state.status(), state.as_str(), state.message());
            response.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            );
            response
        }
    }
}

/// `GET /l/app.js`.
pub async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
        .into_response()
}

/// `GET /l/app.css`.
pub async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}
