//! `rcsec vectors KIND PATH`: run official conformance vectors.

use std::path::{Path, PathBuf};

use rcsec_core::vectors::{VectorError, VectorReport};

use crate::failure::Failure;

/// Arguments of `rcsec vectors`.
#[derive(Debug, clap::Args)]
pub(crate) struct VectorsArgs {
    /// Which vectors: hpke, crypto-basics, key-schedule, secret-tree, tree-math,
    /// message-protection, welcome, transcript-hashes, psk-secret, deserialization, messages,
    /// tree-validation, tree-operations, treekem, passive-client, merkle, ...
    kind: String,
    /// A vector file in the upstream format (for `merkle`, the folder laid out as upstream).
    path: PathBuf,
}

/// A library function that checks every entry of one vector file (or folder).
type Runner = fn(&Path) -> Result<VectorReport, VectorError>;

/// KIND -> the library runner that checks it, one line per KIND. A KIND missing here is bad
/// usage (exit 2), never a pass.
const RUNNERS: &[(&str, Runner)] = &[
    // RFC 9180 HPKE, DHKEM(X25519, HKDF-SHA256) with AES-GCM and export-only (rcsec-keying).
    ("hpke", rcsec_keying::hpke::vectors::run_hpke),
    // RFC 9420 MLS building blocks, cipher suite 1 (rcsec-keying).
    ("tree-math", rcsec_keying::mls::vectors::run_tree_math),
    (
        "deserialization",
        rcsec_keying::mls::vectors::run_deserialization,
    ),
    (
        "crypto-basics",
        rcsec_keying::mls::vectors::run_crypto_basics,
    ),
    ("secret-tree", rcsec_keying::mls::vectors::run_secret_tree),
    ("key-schedule", rcsec_keying::mls::vectors::run_key_schedule),
    ("psk-secret", rcsec_keying::mls::vectors::run_psk_secret),
    (
        "transcript-hashes",
        rcsec_keying::mls::vectors::run_transcript_hashes,
    ),
    (
        "message-protection",
        rcsec_keying::mls::vectors::run_message_protection,
    ),
    ("welcome", rcsec_keying::mls::vectors::run_welcome),
    // RFC 9420 full MLS: codec, ratchet tree, TreeKEM, passive client (rcsec-keying).
    ("messages", rcsec_keying::mls::vectors::run_messages),
    (
        "tree-validation",
        rcsec_keying::mls::vectors::run_tree_validation,
    ),
    (
        "tree-operations",
        rcsec_keying::mls::vectors::run_tree_operations,
    ),
    ("treekem", rcsec_keying::mls::vectors::run_treekem),
    (
        "passive-client",
        rcsec_keying::mls::vectors::run_passive_client,
    ),
    // RFC 9162 Merkle tree hashes, inclusion and consistency proofs (rcsec-audit).
    ("merkle", rcsec_audit::vectors::run_merkle),
];

fn runner(kind: &str) -> Option<Runner> {
    RUNNERS
        .iter()
        .find(|(name, _)| *name == kind)
        .map(|(_, run)| *run)
}

pub(crate) fn run(args: &VectorsArgs) -> Result<(), Failure> {
    let run = runner(&args.kind)
        .ok_or_else(|| Failure::input(format!("unsupported vector kind {:?}", args.kind)))?;
    let report = run(&args.path).map_err(Failure::input)?;
    for skip in &report.skipped {
        println!("skipped entry {}: {}", skip.index, skip.reason);
    }
    for failure in &report.failed {
        println!("FAILED entry {}: {}", failure.index, failure.reason);
    }
    println!("{}", report.summary_line());
    if report.failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::check(format!(
            "{} of {} vector entries failed",
            report.failed.len(),
            report.passed + report.failed.len()
        )))
    }
}
