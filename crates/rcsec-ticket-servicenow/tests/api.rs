//! The ticket sinks against local fakes.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod api {
    mod conformance;
    mod servicenow;
    mod webhook;
}
