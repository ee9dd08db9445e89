//! SMS through [Kannel](https://www.kannel.org/)'s `sendsms` HTTP interface.
//!
//! The SMS route carries nothing but a fixed template and a one-time link: [`SmsGuard`] holds
//! every text to that shape and to one 160-septet GSM-7 segment before it leaves ([`gsm7`]).
//! [`KannelProvider`] sends with `GET /cgi-bin/sendsms?username&password&to&text&dlr-mask&dlr-url`
//! and maps Kannel's answers (202 accepted or queued; 400 rejected; 403 bad credentials;
//! 5xx and timeouts transient). Delivery reports come back on the DLR URL, which carries our
//! message id and a MAC ([`DlrSigner`]); the daemon parses the callback into a
//! [`DeliveryReport`] and, for "delivered", a pipeline event.
//!
//! # Security
//! SMS is not end-to-end encrypted and sits in carrier logs and lock screens. The sendsms
//! password travels in the query string: keep Kannel on loopback or a private network. Errors
//! and `Debug` never carry the number, the text or the password.

#![forbid(unsafe_code)]

mod dlr;
mod provider;

pub use dlr::{DeliveryReport, DlrError, DlrSigner, DlrStatus};
pub use provider::{KannelConfig, KannelProvider};
/// The GSM-7 alphabet check, shared with every SMS-carrying provider (it lives in `rcsec`).
pub use rcsec::sms::gsm7;
/// The SMS text guard (it lives in `rcsec`, so every SMS-carrying provider applies the same rule).
pub use rcsec::sms::{SmsGuard, SmsTextError};
