//! Runs the RFC 9162 Merkle vectors (transparency-dev layout) for tests and `rcsec vectors`.
//!
//! The folder holds `tree_hash.json` (roots of the first n of eight leaves), `inclusion/**` and
//! `consistency/**` (one proof per file, with `wantErr`). Entries are numbered in this order:
//! one per tree size of `tree_hash.json`, then every inclusion file, then every consistency
//! file, each folder walked in sorted path order. A file with `wantErr: true` passes only when
//! verification fails.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rcsec_core::vectors::{VectorError, VectorReport};
use serde::Deserialize;

use crate::merkle::{
    CompactTree, Hash, ProofError, leaf_hash, root_of, verify_consistency, verify_inclusion,
};

#[derive(Deserialize)]
struct TreeHashFile {
    leaf_inputs_hex: Vec<String>,
    root_by_tree_size_hex: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InclusionFile {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    want_err: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConsistencyFile {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    want_err: bool,
}

/// Why one vector entry failed to verify (a vector that expects an error passes on any of
/// these).
#[derive(Debug, thiserror::Error)]
enum EntryError {
    #[error("field is not base64")]
    Base64,
    #[error("hash is not 32 bytes")]
    HashLength,
    #[error(transparent)]
    Proof(#[from] ProofError),
}

/// Checks every Merkle vector under `dir` (laid out as `shared/vectors/merkle/`).
///
/// # Errors
/// [`VectorError`] when the folder or a file cannot be read or is not in the upstream format;
/// entries that merely fail are counted in the report.
pub fn run_merkle(dir: &Path) -> Result<VectorReport, VectorError> {
    let mut report = VectorReport::default();
    let mut index = 0usize;
    run_tree_hash(&dir.join("tree_hash.json"), &mut report, &mut index)?;
    for path in json_files(&dir.join("inclusion"))? {
        let file: InclusionFile = read_json(&path)?;
        let outcome = check_inclusion(&file);
        record(&mut report, index, &path, file.want_err, outcome);
        index += 1;
    }
    for path in json_files(&dir.join("consistency"))? {
        let file: ConsistencyFile = read_json(&path)?;
        let outcome = check_consistency(&file);
        record(&mut report, index, &path, file.want_err, outcome);
        index += 1;
    }
    Ok(report)
}

fn run_tree_hash(
    path: &Path,
    report: &mut VectorReport,
    index: &mut usize,
) -> Result<(), VectorError> {
    let file: TreeHashFile = read_json(path)?;
    let inputs = file
        .leaf_inputs_hex
        .iter()
        .map(hex::decode)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format_error(path, e))?;
    let leaves: Vec<Hash> = inputs.iter().map(|d| leaf_hash(d)).collect();
    if file.root_by_tree_size_hex.len() > leaves.len() + 1 {
        return Err(format_error(path, "more roots than leaves"));
    }
    let mut compact = CompactTree::new();
    for (n, want_hex) in file.root_by_tree_size_hex.iter().enumerate() {
        if n > 0 {
            compact.push(leaves[n - 1]);
        }
        let want = Hash::from_hex(want_hex).ok_or_else(|| format_error(path, "bad root hex"))?;
        let recursive = root_of(&leaves[..n]);
        if recursive == want && compact.root() == want {
            report.pass(*index);
        } else {
            report.fail(*index, format!("tree_hash.json: root of size {n} differs"));
        }
        *index += 1;
    }
    Ok(())
}

fn record(
    report: &mut VectorReport,
    index: usize,
    path: &Path,
    want_err: bool,
    outcome: Result<(), EntryError>,
) {
    let name = path.display();
    match (want_err, outcome) {
        (false, Ok(())) | (true, Err(_)) => report.pass(index),
        (false, Err(e)) => report.fail(index, format!("{name}: {e}")),
        (true, Ok(())) => report.fail(index, format!("{name}: verified but must fail")),
    }
}

fn b64(text: &str) -> Result<Vec<u8>, EntryError> {
    STANDARD.decode(text).map_err(|_| EntryError::Base64)
}

fn b64_hash(text: &str) -> Result<Hash, EntryError> {
    Hash::from_slice(&b64(text)?).ok_or(EntryError::HashLength)
}

fn proof_hashes(proof: Option<&Vec<String>>) -> Result<Vec<Hash>, EntryError> {
    proof.map_or(Ok(Vec::new()), |p| p.iter().map(|h| b64_hash(h)).collect())
}

fn check_inclusion(file: &InclusionFile) -> Result<(), EntryError> {
    let leaf = b64_hash(&file.leaf_hash)?;
    let root = b64(&file.root)?;
    let proof = proof_hashes(file.proof.as_ref())?;
    verify_inclusion(&leaf, file.leaf_idx, file.tree_size, &proof, &root)?;
    Ok(())
}

fn check_consistency(file: &ConsistencyFile) -> Result<(), EntryError> {
    let root1 = b64(&file.root1)?;
    let root2 = b64(&file.root2)?;
    let proof = proof_hashes(file.proof.as_ref())?;
    verify_consistency(file.size1, file.size2, &proof, &root1, &root2)?;
    Ok(())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, VectorError> {
    let bytes = std::fs::read(path).map_err(|source| io_error(path, source))?;
    serde_json::from_slice(&bytes).map_err(|e| format_error(path, e))
}

/// Every `*.json` below `dir`, in sorted path order.
fn json_files(dir: &Path) -> Result<Vec<PathBuf>, VectorError> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current).map_err(|source| io_error(&current, source))?;
        for entry in entries {
            let path = entry.map_err(|source| io_error(&current, source))?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn io_error(path: &Path, source: std::io::Error) -> VectorError {
    VectorError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn format_error(path: &Path, reason: impl std::fmt::Display) -> VectorError {
    VectorError::Format {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}
