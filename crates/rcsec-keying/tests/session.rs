//! Devices, device linking and the group session, through the public API.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation,
    reason = "tests"
)]

mod session {
    pub(crate) mod common;
    mod device;
    mod group;
    mod state;
}
