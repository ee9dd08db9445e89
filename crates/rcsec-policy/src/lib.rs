//! Fallback policy for rcsec: the sensitive-content classifier and fail-closed routing
//! decisions.
//!
//! An alert is about to leave for a recipient. This crate answers three questions, all sync
//! and sans-IO:
//!
//! 1. **What is in it?** [`Classifier`] finds credentials (private keys, cloud and SaaS
//!    tokens, JWTs, passwords in URLs and assignments) and personal data (cards, IBANs, US
//!    SSNs, e-mail addresses, phone numbers). Findings carry kind, confidence and byte span,
//!    never the matched text.
//! 2. **Where may it go?** [`Policy::decide`] picks the best route the recipient's
//!    [`ChannelFacts`] allow and the [`Policy`] permits, from `rcs_e2ee` down to `sms_link`,
//!    or blocks, with a [`FallbackReason`], an [`Indicator`] and a plain sentence.
//!    Policies are TOML ([`Policy::from_toml`], [`DEFAULT_POLICY_TOML`]); rules can only make
//!    routes stricter, and the defaults fail closed.
//! 3. **What exactly is sent?** [`Decision::render`] gives the full text on end-to-end
//!    encrypted routes, [`redact`]ed text plus a secure link on unencrypted RCS, and a fixed
//!    template plus the link on SMS.
//!
//! Overrides ("send anyway") live in [`danger`]; consent and residency in [`consent`] and
//! [`Residency`].
//!
//! [`Route`] is the workspace-wide type from `rcsec-core` (re-exported here); the fallback
//! vocabulary ([`FallbackReason`]) is owned here, and the pipeline maps what
//! `rcsec-capability` observes into [`ChannelFacts`].
//!
//! ```
//! use rcsec_core::Severity;
//! use rcsec_policy::{ChannelFacts, Classifier, DecisionInput, E2eeState, Policy, Route};
//!
//! let text = "db-7 down: DATABASE_URL=postgres://app:Pa55-w0rd!@db-7:5432/app";
//! let classification = Classifier::default().classify(text);
//! let facts = ChannelFacts { rcs_reachable: true, e2ee: E2eeState::Unsupported, ..Default::default() };
//!
//! let policy = Policy::default();
//! let decision = policy.decide(&DecisionInput::new(Severity::P1, &classification, &facts));
//! assert_eq!(decision.route, Route::RcsPlain);
//! assert_eq!(decision.fallback_reason.map(|r| r.as_str()), Some("carrier_no_e2ee"));
//!
//! let sent = decision.render(&policy, text, &classification, "https://l.example/AbC").unwrap();
//! assert!(!sent.contains("Pa55-w0rd!"));
//! assert!(sent.contains("[redacted url_credentials]") && sent.ends_with("https://l.example/AbC"));
//! ```
//!
//! # Crate features
//! None.
//!
//! # Security
//! - The classifier is measured, not perfect (`tests/corpus.rs` holds its precision and recall
//!   floors): the routes that need no classifier — end-to-end encrypted, app-encrypted push, and
//!   SMS carrying only a link — are the real defence; redaction is for `rcs_plain`.
//! - Policy rules can only make a route stricter; the defaults fail closed.
//! - Overrides live in [`danger`] and need an actor and a reason, which the pipeline audits.

#![forbid(unsafe_code)]

mod classify;
pub mod consent;
pub mod danger;
mod decision;
#[doc(hidden)]
pub mod fuzzing;
mod policy;
mod redact;
mod route;
#[doc(hidden)]
pub mod synthetic;

pub use classify::{Classification, Classifier, Confidence, Finding, FindingKind, Sensitivity};
pub use decision::{Action, Decision, DecisionInput};
pub use policy::{
    Conditions, ConsentSettings, DEFAULT_POLICY_TOML, DEFAULT_SMS_TEMPLATE, Effect,
    OverrideSettings, Policy, PolicyError, Residency, Rule, Treatment,
};
pub use redact::redact;
pub use route::{ChannelFacts, E2eeState, FallbackReason, Indicator, Region, Route};
