//! Integration tests of the public API (one binary; modules under `tests/api/`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on unexpected errors"
)]

mod api {
    mod common;
    mod keyring_file;
    mod redeem;
    mod sealed;
    mod token;
}
