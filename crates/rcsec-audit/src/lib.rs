//! Audit events for rcsec: pseudonymized, hash-chained, RFC 9162 Merkle-anchored.

#![forbid(unsafe_code)]

pub mod merkle;
pub mod vectors;
