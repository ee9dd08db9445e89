//! Audit events for rcsec: pseudonymized, hash-chained, RFC 9162 Merkle-anchored
//!
//! This crate is being built; see the workspace README for its status.

#![forbid(unsafe_code)]
