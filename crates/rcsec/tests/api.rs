//! End-to-end tests of the Orchestrator against in-memory stores and the loopback provider.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on unexpected errors"
)]

#[path = "api/harness.rs"]
mod harness;

#[path = "api/canary.rs"]
mod canary;
#[path = "api/escalation.rs"]
mod escalation;
#[path = "api/failover.rs"]
mod failover;
#[path = "api/oncall.rs"]
mod oncall;
#[path = "api/push_mls.rs"]
mod push_mls;
#[path = "api/resolve.rs"]
mod resolve;
#[path = "api/routes.rs"]
mod routes;
