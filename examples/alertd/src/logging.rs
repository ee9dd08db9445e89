//! Structured logs: JSON lines (or human text) on stderr, filtered by `RUST_LOG`.
//!
//! Nothing this crate logs carries a secret, a token, a payload key, alert text or a phone
//! number: handlers log fingerprints, link ids, outcomes and typed errors (whose messages
//! never quote input). `tests/logs.rs` checks that with canaries on captured output.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable text.
    Text,
}

/// Installs the global subscriber writing to `writer`; `RUST_LOG` overrides `default_filter`
/// (an `EnvFilter` directive such as `info`).
///
/// # Errors
/// A global subscriber is already installed.
pub fn init<W>(
    format: LogFormat,
    writer: W,
    default_filter: &str,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(true);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.with_ansi(false).try_init(),
    }
}
