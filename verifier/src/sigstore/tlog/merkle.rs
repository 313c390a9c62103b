//! RFC 6962 / RFC 9162 Merkle inclusion proofs.

use aws_lc_rs::digest::{Context, SHA256};

use crate::sigstore::error::InclusionProofError;

/// SHA-256 of a leaf: `H(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> [u8; 32] {
    let mut ctx = Context::new(&SHA256);
    ctx.update(&[0]);
    ctx.update(data);
    to_array(ctx.finish().as_ref())
}

fn node_hash(left: &[u8], right: &[u8]) -> [u8; 32] {
    let mut ctx = Context::new(&SHA256);
    ctx.update(&[1]);
    ctx.update(left);
    ctx.update(right);
    to_array(ctx.finish().as_ref())
}

fn to_array(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&bytes[..32]);
    out
}

/// Verifies that `leaf` sits at `index` in the tree of `size` leaves whose root is `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: [u8; 32],
    proof: &[Vec<u8>],
    root: &[u8],
) -> Result<(), InclusionProofError> {
    if index >= size {
        return Err(InclusionProofError::IndexOutsideTree { index, size });
    }
    let mut f_n = index;
    let mut s_n = size - 1;
    let mut r = leaf;
    for p in proof {
        if p.len() != 32 {
            return Err(InclusionProofError::HashLength(p.len()));
        }
        if s_n == 0 {
            return Err(InclusionProofError::TooLong);
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(InclusionProofError::TooShort);
    }
    if r.as_slice() != root {
        return Err(InclusionProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Root of a tree over `leaves` by the RFC 6962 definition, for checking proofs.
    fn root(leaves: &[[u8; 32]]) -> [u8; 32] {
        if leaves.len() == 1 {
            return leaves[0];
        }
        let k = leaves.len().next_power_of_two() / 2;
        node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
    }

    fn proof(leaves: &[[u8; 32]], index: usize) -> Vec<Vec<u8>> {
        if leaves.len() == 1 {
            return vec![];
        }
        let k = leaves.len().next_power_of_two() / 2;
        if index < k {
            let mut p = proof(&leaves[..k], index);
            p.push(root(&leaves[k..]).to_vec());
            p
        } else {
            let mut p = proof(&leaves[k..], index - k);
            p.push(root(&leaves[..k]).to_vec());
            p
        }
    }

    #[test]
    fn every_leaf_of_every_small_tree_proves_and_tampering_fails() {
        for size in 1..=17usize {
            let leaves: Vec<[u8; 32]> = (0..size).map(|i| leaf_hash(&[i as u8])).collect();
            let r = root(&leaves);
            for i in 0..size {
                let p = proof(&leaves, i);
                let (at, n) = (i as u64, size as u64);
                verify_inclusion(at, n, leaves[i], &p, &r).unwrap();
                let other = verify_inclusion(at, n, leaf_hash(b"x"), &p, &r);
                assert_eq!(other, Err(InclusionProofError::RootMismatch));
                if let Some(first) = p.first() {
                    let mut bad = p.clone();
                    bad[0] = leaf_hash(first).to_vec();
                    let tampered = verify_inclusion(at, n, leaves[i], &bad, &r);
                    assert_eq!(tampered, Err(InclusionProofError::RootMismatch));
                    let short = verify_inclusion(at, n, leaves[i], &p[1..], &r);
                    assert_eq!(short, Err(InclusionProofError::TooShort));
                    let extra = [p.as_slice(), &[vec![0; 32]]].concat();
                    let long = verify_inclusion(at, n, leaves[i], &extra, &r);
                    assert_eq!(long, Err(InclusionProofError::TooLong));
                    bad[0] = first[..31].to_vec();
                    let cut = verify_inclusion(at, n, leaves[i], &bad, &r);
                    assert_eq!(cut, Err(InclusionProofError::HashLength(31)));
                }
                let outside = verify_inclusion(n, n, leaves[i], &p, &r);
                let expected = InclusionProofError::IndexOutsideTree { index: n, size: n };
                assert_eq!(outside, Err(expected));
            }
        }
    }
}
