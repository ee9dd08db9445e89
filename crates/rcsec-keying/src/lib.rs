//! Session keying for rcsec: HPKE (RFC 9180) and MLS (RFC 9420, suite 1) building blocks
//!
//! This crate is being built; see the workspace README for its status.

#![forbid(unsafe_code)]

pub mod mls;
