//! Inclusion and consistency proofs: generation (RFC 9162 §2.1.3.1, §2.1.4.1) and
//! verification (§2.1.3.2, §2.1.4.2).

use super::Hash;
use super::tree::{node_hash, root_of, split_point};

/// Why a proof could not be generated or did not verify.
///
/// Deliberately coarse: a verifier needs to know that a proof failed, and the reason codes are
/// enough to tell a caller's mistake (bad sizes) from a forged or stale proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The leaf index is not below the tree size.
    #[error("leaf index is outside the tree")]
    IndexOutOfRange,
    /// The sizes do not describe an older tree and a newer one (`0 < size1 <= size2`).
    ///
    /// A consistency proof from the empty tree proves nothing, so size 0 is refused even when
    /// both sizes are 0 (as the transparency-dev verifier does).
    #[error("tree sizes are not 0 < size1 <= size2")]
    InvalidSizes,
    /// The proof has the wrong number of hashes for these sizes.
    #[error("proof has the wrong length")]
    WrongLength,
    /// The recomputed root differs from the expected one.
    #[error("proof does not match the root")]
    RootMismatch,
}

/// The audit path of leaf `index` in the tree over `leaves` (RFC 9162 §2.1.3.1), bottom up.
///
/// # Errors
/// [`ProofError::IndexOutOfRange`] when `index >= leaves.len()`.
pub fn inclusion_proof(leaves: &[Hash], index: usize) -> Result<Vec<Hash>, ProofError> {
    if index >= leaves.len() {
        return Err(ProofError::IndexOutOfRange);
    }
    let mut path = Vec::new();
    path_into(index, leaves, &mut path);
    Ok(path)
}

fn path_into(m: usize, leaves: &[Hash], out: &mut Vec<Hash>) {
    if leaves.len() <= 1 {
        return;
    }
    let k = split_point(leaves.len());
    if m < k {
        path_into(m, &leaves[..k], out);
        out.push(root_of(&leaves[k..]));
    } else {
        path_into(m - k, &leaves[k..], out);
        out.push(root_of(&leaves[..k]));
    }
}

/// The proof that the tree over the first `size1` of `leaves` is a prefix of the tree over all
/// of them (RFC 9162 §2.1.4.1).
///
/// # Errors
/// [`ProofError::InvalidSizes`] unless `0 < size1 <= leaves.len()`.
pub fn consistency_proof(leaves: &[Hash], size1: usize) -> Result<Vec<Hash>, ProofError> {
    if size1 == 0 || size1 > leaves.len() {
        return Err(ProofError::InvalidSizes);
    }
    let mut proof = Vec::new();
    subproof_into(size1, leaves, true, &mut proof);
    Ok(proof)
}

fn subproof_into(m: usize, leaves: &[Hash], complete: bool, out: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !complete {
            out.push(root_of(leaves));
        }
        return;
    }
    let k = split_point(n);
    if m <= k {
        subproof_into(m, &leaves[..k], complete, out);
        out.push(root_of(&leaves[k..]));
    } else {
        subproof_into(m - k, &leaves[k..], false, out);
        out.push(root_of(&leaves[..k]));
    }
}

/// Checks that `leaf` (a leaf hash) sits at `index` in the tree of `size` leaves whose root is
/// `root` (RFC 9162 §2.1.3.2).
///
/// `root` is compared byte for byte, so a root of the wrong length simply never matches.
///
/// # Errors
/// [`ProofError`] saying why the proof does not hold.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &[u8],
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange);
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if r.as_bytes().as_slice() != root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of `size1` leaves with root `root1` is a prefix of the tree of `size2`
/// leaves with root `root2` (RFC 9162 §2.1.4.2).
///
/// Equal sizes need an empty proof and equal roots. Size 0 is refused: every tree extends the
/// empty one, so such a "proof" carries no information and accepting it has hidden bugs.
///
/// # Errors
/// [`ProofError`] saying why the proof does not hold.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &[u8],
    root2: &[u8],
) -> Result<(), ProofError> {
    if size1 == 0 || size1 > size2 {
        return Err(ProofError::InvalidSizes);
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if root1 == root2 {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    let Some(root1_hash) = Hash::from_slice(root1) else {
        return Err(ProofError::RootMismatch);
    };
    // Step 2: when size1 is a power of two, the old root itself starts the path.
    let (first, rest) = if size1.is_power_of_two() {
        (root1_hash, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => return Err(ProofError::WrongLength),
        }
    };
    let (mut fn_, mut sn) = (size1 - 1, size2 - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (first, first);
    for c in rest {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr.as_bytes().as_slice() != root1 || sr.as_bytes().as_slice() != root2 {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tree::leaf_hash;
    use super::*;

    fn leaves(n: u32) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_le_bytes())).collect()
    }

    #[test]
    fn generated_inclusion_proofs_verify_and_mutations_fail() {
        for n in 1..=33u32 {
            let all = leaves(n);
            let root = root_of(&all);
            for i in 0..all.len() {
                let proof = inclusion_proof(&all, i).unwrap();
                let (idx, size) = (i as u64, u64::from(n));
                assert_eq!(
                    verify_inclusion(&all[i], idx, size, &proof, root.as_bytes()),
                    Ok(())
                );
                let other = leaf_hash(b"other");
                assert!(verify_inclusion(&other, idx, size, &proof, root.as_bytes()).is_err());
                assert!(verify_inclusion(&all[i], idx + 1, size, &proof, root.as_bytes()).is_err());
                let mut longer = proof.clone();
                longer.push(root);
                assert!(verify_inclusion(&all[i], idx, size, &longer, root.as_bytes()).is_err());
                if let Some((_, shorter)) = proof.split_last() {
                    assert!(
                        verify_inclusion(&all[i], idx, size, shorter, root.as_bytes()).is_err()
                    );
                }
            }
            assert_eq!(
                inclusion_proof(&all, all.len()),
                Err(ProofError::IndexOutOfRange)
            );
        }
    }

    #[test]
    fn generated_consistency_proofs_verify_and_mutations_fail() {
        for n in 1..=33u32 {
            let all = leaves(n);
            let root2 = root_of(&all);
            for m in 1..=all.len() {
                let root1 = root_of(&all[..m]);
                let proof = consistency_proof(&all, m).unwrap();
                let (s1, s2) = (m as u64, u64::from(n));
                assert_eq!(
                    verify_consistency(s1, s2, &proof, root1.as_bytes(), root2.as_bytes()),
                    Ok(()),
                    "{m} -> {n}"
                );
                let wrong = leaf_hash(b"x");
                assert!(
                    verify_consistency(s1, s2, &proof, wrong.as_bytes(), root2.as_bytes()).is_err()
                );
                for j in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[j] = wrong;
                    assert!(
                        verify_consistency(s1, s2, &bad, root1.as_bytes(), root2.as_bytes())
                            .is_err()
                    );
                }
            }
            assert_eq!(consistency_proof(&all, 0), Err(ProofError::InvalidSizes));
        }
    }

    #[test]
    fn empty_tree_consistency_is_refused() {
        let e = super::super::tree::empty_root();
        assert_eq!(
            verify_consistency(0, 0, &[], e.as_bytes(), e.as_bytes()),
            Err(ProofError::InvalidSizes)
        );
    }
}
