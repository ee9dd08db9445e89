//! Fallback policy for rcsec: sensitive-content classifier and fail-closed routing decisions.

#![forbid(unsafe_code)]

mod classify;
mod policy;
mod route;

pub use classify::{Classification, Classifier, Confidence, Finding, FindingKind, Sensitivity};
pub use policy::{
    Conditions, ConsentSettings, DEFAULT_POLICY_TOML, DEFAULT_SMS_TEMPLATE, Effect,
    OverrideSettings, Policy, PolicyError, Residency, Rule, Treatment,
};
pub use route::{ChannelFacts, E2eeState, FallbackReason, Indicator, Region, Route};
