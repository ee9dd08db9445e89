//! Shared vocabulary of rcsec.
//!
//! Every other rcsec crate speaks in these types, so they carry the project's two standing rules
//! with them:
//!
//! - **Nothing sensitive leaks through formatting.** [`Msisdn`] masks all but its last two
//!   digits in both `Display` and `Debug`; [`Secret`] prints only its length; [`Redacted`] prints
//!   only a label. Code that needs the raw value has to ask for it by a name that stands out in
//!   review ([`Msisdn::expose_e164`], [`Secret::expose_secret`]).
//! - **Time is injected.** Nothing here reads the system clock except [`SystemClock`]; tests drive
//!   TTLs, expiries and escalation timers with [`ManualClock`].
//!
//! This crate performs no I/O and pulls in no runtime.
//!
//! ```
//! use rcsec_core::{Msisdn, Severity, SeverityMap};
//!
//! let number = Msisdn::parse("+1 (555) 010-9999")?;
//! assert_eq!(number.to_string(), "+*********99");
//! assert_eq!(SeverityMap::default().parse("critical")?, Severity::P0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Crate features
//! - `test-utils`: seed replay for the workspace's fuzz-corpus tests (reads files; tests only).
//!
//! # Security
//! Masking is the first defence against metadata leakage (THREAT_MODEL.md §3): `Display` and
//! `Debug` of every type here are safe to log. [`Secret`] zeroizes its value on drop and compares
//! in constant time; `expose_*` calls are the places to review.

#![forbid(unsafe_code)]

mod clock;
#[doc(hidden)]
pub mod fuzzing;
mod ids;
mod msisdn;
mod route;
mod secret;
mod severity;
pub mod vectors;

pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use ids::{AlertId, DeviceId, IdError};
pub use msisdn::{DefaultRegion, Msisdn, MsisdnError};
pub use route::{Route, RouteParseError};
pub use secret::{Redacted, Secret};
pub use severity::{Severity, SeverityError, SeverityMap};
