//! What an SMS may say: the policy's fixed template with a one-time link, in one GSM-7 segment.
//!
//! Every provider that carries [`Route::SmsLink`](rcsec_core::Route::SmsLink) checks its texts
//! with an [`SmsGuard`] before they leave (the Kannel adapter, the loopback simulator, the
//! recording provider), so the rule is one piece of code and the provider conformance suite
//! can hold every adapter to it.

pub mod gsm7;
mod guard;

pub use guard::{SmsGuard, SmsTextError};
