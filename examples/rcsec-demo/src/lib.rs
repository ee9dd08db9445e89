//! The rcsec main job as a library, so tests can run exactly what the binary runs.
//!
//! [`run`] builds the whole pipeline in a temporary directory — SQLite stores (or memory stores
//! and a JSON-lines audit log with [`Options::memory`]), the loopback provider over a roster,
//! the default or a given policy — sends a few alerts, redeems a link, acknowledges, escalates
//! and resolves, checks that the canary credential never left an end-to-end encrypted route,
//! and verifies the audit log.

#![forbid(unsafe_code)]

mod render;
mod scenario;
mod stores;

use std::io::Write;
use std::path::PathBuf;

pub use scenario::run;

/// The roster shipped with the demo.
pub const DEFAULT_ROSTER: &str = include_str!("../roster.toml");

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Roster TOML file (default: [`DEFAULT_ROSTER`]).
    pub roster: Option<PathBuf>,
    /// Policy TOML file (default: the policy crate's default).
    pub policy: Option<PathBuf>,
    /// Print JSON instead of tables.
    pub json: bool,
    /// Memory stores and a JSON-lines audit log instead of SQLite.
    pub memory: bool,
}

/// What the run established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Audit events verified.
    pub audit_events: u64,
    /// The verified chain head (hex).
    pub audit_head: String,
    /// Messages the loopback accepted.
    pub messages_sent: usize,
    /// A link was redeemed once and its replay refused.
    pub replay_refused: bool,
    /// The canary was found nowhere it must not be.
    pub canary_clean: bool,
}

/// Why the demo stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// A roster or policy file is unreadable or invalid.
    #[error("bad input: {0}")]
    Input(String),
    /// A check failed (audit verification, canary).
    #[error("check failed: {0}")]
    Check(String),
    /// The pipeline or a store failed.
    #[error("pipeline failed: {0}")]
    Pipeline(String),
    /// Writing the output failed.
    #[error("cannot write output")]
    Output(#[from] std::io::Error),
}

impl DemoError {
    /// The process exit code: 2 for bad input, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Input(_) => 2,
            _ => 1,
        }
    }
}

fn pipeline<E: std::fmt::Display>(e: E) -> DemoError {
    DemoError::Pipeline(e.to_string())
}

fn line(out: &mut dyn Write, text: &str) -> Result<(), DemoError> {
    writeln!(out, "{text}")?;
    Ok(())
}
