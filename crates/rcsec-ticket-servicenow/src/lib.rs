//! Ticket sinks for the pipeline's [`TicketSink`] seam.
//!
//! - [`ServiceNowSink`]: incidents through ServiceNow's Table API — `POST
//!   /api/now/table/incident` with `correlation_id` = the alert fingerprint (and a lookup by it
//!   first, so opening twice, or from another replica, finds the same incident), `PATCH`
//!   `work_notes` for each action, `assigned_to` on take-ownership, and resolve with `state`,
//!   `close_code` and `close_notes`. Basic or bearer (OAuth) authentication.
//! - [`WebhookSink`]: the same four operations as JSON events posted to any URL, for trackers
//!   without a dedicated adapter.
//!
//! Ticket systems are not end-to-end encrypted: the pipeline passes only redacted titles and
//! notes, and these sinks never log or echo them, the credentials or response bodies in
//! errors.
//!
//! [`TicketSink`]: rcsec::TicketSink

#![forbid(unsafe_code)]

mod auth;
mod servicenow;
mod webhook;

pub use auth::Auth;
pub use servicenow::{ServiceNowConfig, ServiceNowSink};
pub use webhook::WebhookSink;
