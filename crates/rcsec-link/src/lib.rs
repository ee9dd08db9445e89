//! Ephemeral one-time links for rcsec: tokens, keyring, sealed payloads and the store traits
//!
//! This crate is being built; see the workspace README for its status.

#![forbid(unsafe_code)]
