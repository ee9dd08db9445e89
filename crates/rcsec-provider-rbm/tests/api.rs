//! Integration tests of the public API, one module per concern.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

mod api {
    #[cfg(feature = "client")]
    mod conformance;
    #[cfg(feature = "client")]
    mod pipeline;
    #[cfg(feature = "client")]
    mod provider;
    #[cfg(feature = "client")]
    mod service_account;
    mod webhook;
}
