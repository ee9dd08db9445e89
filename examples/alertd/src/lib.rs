//! alertd: the rcsec daemon an ops team deploys.
//!
//! Prometheus Alertmanager posts alerts in (`POST /v1/alertmanager`, bearer token); each
//! alert goes through the [`rcsec::Orchestrator`] (classify, capability, fail-closed policy,
//! one-time links, provider with failover, audit); recipients open secure links on
//! `/l/{token}`, where the page decrypts in the browser; `/metrics` and `/healthz` serve the
//! operators. State lives in SQLite by default. See the README's *alertd* section for the
//! configuration file.
//!
//! The binary is a thin shell over this library so the integration tests run the same
//! daemon in-process against real Alertmanager and Chromium.

#![forbid(unsafe_code)]

pub mod app;
mod audit;
pub mod auth;
pub mod config;
pub mod counting;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod providers;
pub mod rbm;
pub mod secrets;
pub mod server;

pub use app::{App, AppOptions, StartError};
pub use config::{Config, ConfigError};
pub use server::{Running, start};
