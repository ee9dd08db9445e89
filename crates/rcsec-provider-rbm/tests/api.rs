//! Integration tests of the public API, one module per concern.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

mod api {
    #[cfg(feature = "client")]
    mod provider;
    mod webhook;
}
