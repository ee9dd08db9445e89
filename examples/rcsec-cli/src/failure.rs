//! Outcomes that end the program with a non-zero exit code.

use std::fmt::Display;

/// Why a subcommand did not succeed, and so which exit code the contract prescribes.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A check ran and failed (exit 1): a bad signature, a failed vector, a tampered log.
    Check(String),
    /// The input or the invocation was unusable (exit 2).
    Input(String),
}

impl Failure {
    /// A failed check with a one-line reason.
    #[allow(dead_code, reason = "used by the subcommands that run checks")]
    pub(crate) fn check(reason: impl Display) -> Self {
        Self::Check(one_line(reason))
    }

    /// Bad input or usage with a one-line reason.
    pub(crate) fn input(reason: impl Display) -> Self {
        Self::Input(one_line(reason))
    }

    pub(crate) fn code(&self) -> u8 {
        match self {
            Self::Check(_) => 1,
            Self::Input(_) => 2,
        }
    }

    pub(crate) fn message(&self) -> &str {
        match self {
            Self::Check(m) | Self::Input(m) => m,
        }
    }
}

/// The contract promises a one-line error: fold any newlines an inner error carries.
fn one_line(reason: impl Display) -> String {
    reason.to_string().replace(['\n', '\r'], " ")
}
