//! Integration tests: a fake `sendsms` for the error paths, and real Kannel (bearerbox +
//! smsbox + fakesmsc) end to end.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod api {
    mod common;
    mod conformance;
    mod fake_sendsms;
    mod real_kannel;
}
