//! Runners for the official MLS conformance vectors (mlswg/mls-implementations
//! `test-vectors/`), shared by `cargo test` and `rcsec vectors KIND PATH`.
//!
//! Each runner reads one file in the upstream JSON format, checks every entry it supports and
//! returns a [`VectorReport`]. Entries for a cipher suite other than 1 are skipped with the
//! reason; a skip never counts as a pass. Vector values are public, so failure reasons may
//! quote them.

mod basics;
mod framing;
mod messages;
mod passive;
mod schedule;
mod tree;
mod treekem;

use std::path::Path;

use rcsec_core::vectors::{VectorError, VectorReport};
use serde::de::DeserializeOwned;

use super::crypto::CIPHER_SUITE;

pub use basics::{run_crypto_basics, run_deserialization, run_tree_math};
pub use framing::{run_message_protection, run_transcript_hashes, run_welcome};
pub use messages::run_messages;
pub use passive::run_passive_client;
pub use schedule::{run_key_schedule, run_psk_secret, run_secret_tree};
pub use tree::{run_tree_operations, run_tree_validation};
pub use treekem::run_treekem;

/// The outcome of checking one entry: `Err` names the first mismatch.
type Check = Result<(), String>;

/// Reads a vector file as a JSON array of raw entries.
fn load(path: &Path) -> Result<Vec<serde_json::Value>, VectorError> {
    let text = std::fs::read_to_string(path).map_err(|source| VectorError::Io {
        path: path.display().to_string(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| VectorError::Format {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Runs `check` on every entry of the file, skipping suites other than 1 when `suited`.
fn run_file<T: DeserializeOwned>(
    path: &Path,
    suited: bool,
    check: impl Fn(&T) -> Check,
) -> Result<VectorReport, VectorError> {
    let mut report = VectorReport::default();
    for (index, raw) in load(path)?.into_iter().enumerate() {
        if suited {
            match raw.get("cipher_suite").and_then(serde_json::Value::as_u64) {
                Some(suite) if suite == u64::from(CIPHER_SUITE) => {}
                Some(suite) => {
                    report.skip(index, format!("cipher suite {suite} not implemented"));
                    continue;
                }
                None => {
                    report.fail(index, "missing cipher_suite");
                    continue;
                }
            }
        }
        let outcome = serde_json::from_value::<T>(raw)
            .map_err(|e| format!("malformed entry: {e}"))
            .and_then(|entry| check(&entry));
        report.record(index, outcome);
    }
    Ok(report)
}

/// Hex-decodes a vector field.
fn unhex(field: &str, value: &str) -> Result<Vec<u8>, String> {
    hex::decode(value).map_err(|_| format!("{field} is not hex"))
}

/// Compares a computed value with the expected hex.
fn expect(field: &str, got: &[u8], want_hex: &str) -> Check {
    let want = unhex(field, want_hex)?;
    if got == want.as_slice() {
        Ok(())
    } else {
        Err(format!(
            "{field} mismatch: got {}, want {want_hex}",
            hex::encode(got)
        ))
    }
}

/// Turns any displayable error into a failure reason prefixed with what was being done.
fn ctx<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> String {
    move |e| format!("{what}: {e}")
}
