//! Every RFC 9162 vector in `shared/vectors/merkle/` passes, and our proof generators
//! reproduce the upstream happy-path proofs byte for byte.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rcsec_audit::merkle::{Hash, consistency_proof, inclusion_proof, leaf_hash};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/merkle")
}

#[test]
fn every_merkle_vector_passes() {
    let report = rcsec_audit::vectors::run_merkle(&vectors_dir()).unwrap();
    assert!(report.failed.is_empty(), "{:#?}", report.failed);
    assert!(report.skipped.is_empty());
    // 9 roots (sizes 0..=8) + 98 inclusion files + 98 consistency files. The folder README
    // says 82 inclusion files: that is inclusion/0..4 alone; inclusion/single-entry (4 files)
    // and inclusion/additional (12 files) are run too, so the count here is 98.
    let count = |sub: &str| json_count(&vectors_dir().join(sub));
    assert_eq!((count("inclusion"), count("consistency")), (98, 98));
    assert_eq!(report.passed, 9 + 98 + 98);
}

fn json_count(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            if p.is_dir() {
                json_count(&p)
            } else {
                usize::from(p.extension().is_some_and(|e| e == "json"))
            }
        })
        .sum()
}

#[test]
fn a_missing_folder_is_an_error_not_a_pass() {
    assert!(rcsec_audit::vectors::run_merkle(Path::new("/nonexistent/merkle")).is_err());
}

fn standard_leaves() -> Vec<Hash> {
    let text = std::fs::read_to_string(vectors_dir().join("tree_hash.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["leaf_inputs_hex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| leaf_hash(&hex::decode(h.as_str().unwrap()).unwrap()))
        .collect()
}

fn b64_list(v: &serde_json::Value) -> Vec<Hash> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|h| Hash::from_slice(&STANDARD.decode(h.as_str().unwrap()).unwrap()).unwrap())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn generated_proofs_equal_upstream_happy_paths() {
    let leaves = standard_leaves();
    let mut checked = 0;
    for k in 0..5 {
        let dir = vectors_dir();
        let incl = dir.join(format!("inclusion/{k}/happy-path.json"));
        if let Ok(text) = std::fs::read_to_string(&incl) {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            let size = usize::try_from(v["treeSize"].as_u64().unwrap()).unwrap();
            let idx = usize::try_from(v["leafIdx"].as_u64().unwrap()).unwrap();
            if size <= leaves.len() {
                let proof = inclusion_proof(&leaves[..size], idx).unwrap();
                assert_eq!(proof, b64_list(&v["proof"]), "{}", incl.display());
                checked += 1;
            }
        }
        let cons = dir.join(format!("consistency/{k}/happy-path.json"));
        if let Ok(text) = std::fs::read_to_string(&cons) {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            let size1 = usize::try_from(v["size1"].as_u64().unwrap()).unwrap();
            let size2 = usize::try_from(v["size2"].as_u64().unwrap()).unwrap();
            if size2 <= leaves.len() {
                let proof = consistency_proof(&leaves[..size2], size1).unwrap();
                assert_eq!(proof, b64_list(&v["proof"]), "{}", cons.display());
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 4,
        "only {checked} happy paths were over the standard leaves"
    );
}
