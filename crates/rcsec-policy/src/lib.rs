//! Fallback policy for rcsec: sensitive-content classifier and fail-closed routing decisions
//!
//! This crate is being built; see the workspace README for its status.

#![forbid(unsafe_code)]
