//! Merkle tree arithmetic of RFC 6962 / RFC 9162 as Rekor uses it: leaf and node hashes, and the
//! inclusion-proof check of RFC 9162 §2.1.3.2 (bottom-up, audit path ordered leaf → root, with the
//! tree-local leaf index).

use serde::Serialize;
use sha2::{Digest, Sha256};

/// At most this many audit-path hashes: a tree of 2^64 leaves needs 64.
pub const MAX_PROOF_HASHES: usize = 64;

/// An inclusion proof as logs publish it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InclusionProof {
    /// Index of the leaf in the tree the proof is for (shard-local in Rekor v1, not the global
    /// `logIndex`).
    pub log_index: u64,
    pub tree_size: u64,
    #[serde(serialize_with = "super::serialize_hex")]
    pub root_hash: [u8; 32],
    #[serde(serialize_with = "super::serialize_hex_list")]
    pub hashes: Vec<[u8; 32]>,
    /// The signed note (checkpoint) that came with the proof, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

/// `SHA-256(0x00 ‖ entry)`.
pub fn leaf_hash(entry: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Why an inclusion proof does not hold.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    #[error("leaf index {index} is not below the tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("audit path has {given} hashes, the tree shape needs {needed}")]
    WrongPathLength { given: usize, needed: usize },
    #[error("computed root {computed} differs from the stated root {stated}")]
    RootMismatch { computed: String, stated: String },
}

/// Recomputes the root from a leaf hash and its audit path (RFC 9162 §2.1.3.2).
pub fn root_from_inclusion_proof(
    leaf: &[u8; 32],
    index: u64,
    size: u64,
    path: &[[u8; 32]],
) -> Result<[u8; 32], MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let needed = path_length(index, size);
    if path.len() != needed {
        return Err(MerkleError::WrongPathLength {
            given: path.len(),
            needed,
        });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            // A right-edge node with no sibling at this level is promoted unchanged.
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    Ok(r)
}

/// The number of audit-path hashes a leaf at `index` in a tree of `size` leaves has.
fn path_length(index: u64, size: u64) -> usize {
    // Walks the same loop as the check, counting the hashes it consumes.
    let (mut fn_, mut sn) = (index, size - 1);
    let mut n = 0;
    while sn != 0 {
        if fn_ & 1 == 1 || fn_ == sn {
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        }
        n += 1;
        fn_ >>= 1;
        sn >>= 1;
    }
    n
}

/// Checks that `leaf` is at `index` of the tree of `size` leaves whose root is `root`.
pub fn verify_inclusion(
    leaf: &[u8; 32],
    index: u64,
    size: u64,
    path: &[[u8; 32]],
    root: &[u8; 32],
) -> Result<(), MerkleError> {
    let computed = root_from_inclusion_proof(leaf, index, size, path)?;
    if &computed != root {
        return Err(MerkleError::RootMismatch {
            computed: hex::encode(computed),
            stated: hex::encode(root),
        });
    }
    Ok(())
}

/// Root of a whole tree of leaf hashes (RFC 9162 §2.1.1): for building test trees and private
/// logs.
pub fn tree_root(leaves: &[[u8; 32]]) -> [u8; 32] {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = largest_power_of_two_below(n);
            node_hash(&tree_root(&leaves[..k]), &tree_root(&leaves[k..]))
        }
    }
}

/// Audit path of leaf `index` in a whole tree (RFC 9162 §2.1.3.1), leaf → root order.
pub fn inclusion_path(leaves: &[[u8; 32]], index: usize) -> Vec<[u8; 32]> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = largest_power_of_two_below(n);
    if index < k {
        let mut p = inclusion_path(&leaves[..k], index);
        p.push(tree_root(&leaves[k..]));
        p
    } else {
        let mut p = inclusion_path(&leaves[k..], index - k);
        p.push(tree_root(&leaves[..k]));
        p
    }
}

/// The largest power of two strictly below `n` (n ≥ 2).
fn largest_power_of_two_below(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<[u8; 32]> {
        (0..n).map(|i| leaf_hash(&[i as u8])).collect()
    }

    #[test]
    fn every_leaf_of_small_trees_verifies_and_wrong_ones_do_not() {
        for n in 1..=17 {
            let l = leaves(n);
            let root = tree_root(&l);
            for i in 0..n {
                let p = inclusion_path(&l, i);
                verify_inclusion(&l[i], i as u64, n as u64, &p, &root).unwrap();
                let other = leaf_hash(b"other");
                assert!(verify_inclusion(&other, i as u64, n as u64, &p, &root).is_err());
                if n > 1 {
                    let j = (i + 1) % n;
                    assert!(verify_inclusion(&l[i], j as u64, n as u64, &p, &root).is_err());
                }
            }
        }
    }

    #[test]
    fn out_of_range_index_and_wrong_length_are_named() {
        let l = leaves(7);
        let p = inclusion_path(&l, 3);
        assert_eq!(
            root_from_inclusion_proof(&l[3], 7, 7, &p),
            Err(MerkleError::IndexOutOfRange { index: 7, size: 7 })
        );
        let mut longer = p.clone();
        longer.push([0; 32]);
        assert!(matches!(
            root_from_inclusion_proof(&l[3], 3, 7, &longer),
            Err(MerkleError::WrongPathLength {
                given: 4,
                needed: 3
            })
        ));
    }

    /// RFC 6962 test vector: the empty tree hash.
    #[test]
    fn empty_tree_root_is_sha256_of_nothing() {
        assert_eq!(
            hex::encode(tree_root(&[])),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
