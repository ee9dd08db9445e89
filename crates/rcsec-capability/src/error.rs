//! Error types, one per area. None of them carries a phone number.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A capability query or resolution failed.
///
/// Providers return the first five variants; the [`Resolver`](crate::Resolver) folds provider
/// failures into [`CapabilityError::ProviderOutage`] once every provider has failed, which the
/// policy maps to the `provider_outage` fallback reason.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CapabilityError {
    /// The provider does not know the number as an RCS user (e.g. an RBM capability 404).
    ///
    /// This is an answer, not a failure: the resolver records it as "not RCS" (negative
    /// cache) and does not fail over.
    #[error("number is not known to the provider")]
    NotFound,
    /// The provider did not answer in time.
    #[error("capability provider timed out")]
    Timeout,
    /// The provider refused the query for rate limiting.
    #[error("capability provider rate-limited the query")]
    RateLimited,
    /// The provider is down or refused service.
    #[error("capability provider is unavailable")]
    Unavailable,
    /// Any other adapter failure. Adapters must keep phone numbers out of the source error.
    #[error("capability provider backend failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Every configured provider failed or was skipped by its circuit breaker.
    #[error("all capability providers failed ({0})")]
    ProviderOutage(OutageReport),
    /// A bug: an invariant this crate relies on did not hold.
    #[error("internal capability error: {0}")]
    Internal(&'static str),
}

impl CapabilityError {
    /// Whether this is a total provider outage (the policy's `provider_outage`).
    pub fn is_outage(&self) -> bool {
        matches!(self, Self::ProviderOutage(_))
    }
}

/// Why one provider did not produce an answer during a resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureKind {
    /// Its circuit breaker is open; it was not asked.
    CircuitOpen,
    /// It did not answer within its timeout.
    Timeout,
    /// It rate-limited the query.
    RateLimited,
    /// It reported itself unavailable.
    Unavailable,
    /// Its backend failed (detail is dropped so it cannot leak into the report).
    Backend,
}

impl FailureKind {
    /// A stable lowercase name for metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CircuitOpen => "circuit_open",
            Self::Timeout => "timeout",
            Self::RateLimited => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::Backend => "backend",
        }
    }
}

/// One provider's failure in an [`OutageReport`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderFailure {
    /// The provider's [`name`](crate::CapabilityProvider::name).
    pub provider: Arc<str>,
    /// What went wrong.
    pub kind: FailureKind,
}

/// What every provider did during a failed resolution, in failover order.
///
/// Cloneable and free of source errors on purpose: it is handed to every caller that joined
/// the same single-flight resolution, and backend error text must not reach policy or audit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutageReport {
    failures: Vec<ProviderFailure>,
}

impl OutageReport {
    pub(crate) fn push(&mut self, provider: Arc<str>, kind: FailureKind) {
        self.failures.push(ProviderFailure { provider, kind });
    }

    /// The failures, in the order the providers were tried.
    pub fn failures(&self) -> &[ProviderFailure] {
        &self.failures
    }
}

impl fmt::Display for OutageReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.failures.is_empty() {
            return f.write_str("no providers");
        }
        for (i, failure) in self.failures.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}: {}", failure.provider, failure.kind.as_str())?;
        }
        Ok(())
    }
}

/// A configuration value is out of its allowed range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The positive TTL must be between 1 and 15 minutes.
    #[error("cache ttl must be between 1 and 15 minutes, got {0:?}")]
    TtlOutOfRange(Duration),
    /// The negative TTL must be between 1 second and the positive TTL.
    #[error("negative cache ttl must be between 1 second and the positive ttl, got {0:?}")]
    NegativeTtlOutOfRange(Duration),
    /// The cache must hold at least one entry.
    #[error("cache capacity must be at least 1")]
    ZeroCapacity,
    /// A resolver needs at least one provider.
    #[error("at least one capability provider is required")]
    NoProviders,
    /// Provider timeouts must be positive.
    #[error("provider timeout must be positive")]
    ZeroTimeout,
    /// A breaker must allow at least one failure before opening.
    #[error("circuit breaker failure threshold must be at least 1")]
    ZeroFailureThreshold,
}

/// A value given as a carrier, region or client hint is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HintError {
    /// Not two ASCII letters.
    #[error("region must be a two-letter ISO 3166-1 code")]
    InvalidRegion,
    /// Not one to four dot-separated numbers.
    #[error("client version must be one to four dot-separated numbers")]
    InvalidVersion,
}

/// A [`PinStore`](crate::PinStore) backend failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The storage backend failed; adapters keep phone numbers out of the source error.
    #[error("pin store backend failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// An unpin request was refused or could not be stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UnpinError {
    /// Unpinning must name who did it.
    #[error("unpin requires an actor")]
    MissingActor,
    /// Unpinning must say why.
    #[error("unpin requires a reason")]
    MissingReason,
    /// Actor or reason has control characters or is longer than 256 characters.
    #[error("unpin actor and reason must be at most 256 printable characters")]
    InvalidText,
    /// The pin store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A carrier matrix file is not valid. Positions are 1-based line and column (in characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CarrierMatrixError {
    /// TOML syntax, an unknown field, or a value of the wrong type.
    #[error("carrier matrix {line}:{column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// Well-formed TOML whose content is not acceptable (bad region, duplicate id, ...).
    #[error("carrier matrix {line}:{column}: {reason}")]
    Invalid {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

impl CarrierMatrixError {
    /// The 1-based `(line, column)` the error points at.
    pub fn position(&self) -> (usize, usize) {
        match self {
            Self::Syntax { line, column, .. } | Self::Invalid { line, column, .. } => {
                (*line, *column)
            }
        }
    }
}
