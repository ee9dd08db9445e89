//! Fallback policy for rcsec: sensitive-content classifier and fail-closed routing decisions.

#![forbid(unsafe_code)]

mod classify;

pub use classify::{Classification, Classifier, Confidence, Finding, FindingKind, Sensitivity};
