//! Decoders that turn what alert sources send into [`crate::Alert`]s.
//!
//! Decoders are sync and sans-IO: the daemon reads the body (with its own size limit),
//! authenticates the sender, and hands the bytes here. Every decoder returns a typed error for
//! malformed input and never echoes the input in that error, because alert bodies can carry
//! secrets.

pub mod alertmanager;
mod rfc3339;

pub use alertmanager::{AlertmanagerDecoder, AlertmanagerNotification, WebhookError};
pub use rfc3339::{Rfc3339Error, parse_rfc3339};
