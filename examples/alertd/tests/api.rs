//! alertd end to end, in process: the HTTP surface against SQLite and the loopback provider,
//! and, when their binaries are configured, real Alertmanager, Chromium and wrk.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    unreachable_pub,
    missing_docs,
    clippy::panic,
    reason = "tests fail loudly on unexpected errors"
)]

#[path = "api/support.rs"]
mod support;

#[path = "api/alertmanager.rs"]
mod alertmanager;
#[path = "api/links.rs"]
mod links;
#[path = "api/ops.rs"]
mod ops;

#[path = "api/fakes.rs"]
mod fakes;
#[path = "api/providers.rs"]
mod providers;

#[path = "api/load.rs"]
mod load;
#[path = "api/rbm.rs"]
mod rbm;
#[path = "api/real.rs"]
mod real;
#[path = "api/real_alertmanager.rs"]
mod real_alertmanager;
#[path = "api/real_chromium.rs"]
mod real_chromium;
#[path = "api/restart.rs"]
mod restart;
#[path = "api/webdriver.rs"]
mod webdriver;
