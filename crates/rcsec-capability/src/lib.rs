//! Capability routing for rcsec: does a number reach RCS, is that path end-to-end encrypted, and did it get worse
//!
//! This crate is being built; see the workspace README for its status.

#![forbid(unsafe_code)]
