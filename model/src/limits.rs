//! Size limits for everything Hallmark reads from outside.
//!
//! One place, so readers agree and the limits are documented (docs/ARCHITECTURE.md).

/// Largest Sigstore bundle or DSSE envelope accepted: 16 MiB. Real bundles are a few KiB;
/// large SBOM predicates stay well under this.
pub const MAX_BUNDLE_BYTES: u64 = 16 * 1024 * 1024;

/// Largest JSON predicate file accepted by `attest --predicate`: 64 MiB.
pub const MAX_PREDICATE_BYTES: u64 = 64 * 1024 * 1024;

/// Largest key file accepted: 64 KiB.
pub const MAX_KEY_BYTES: u64 = 64 * 1024;

/// Largest OCI manifest or index accepted: 4 MiB (the distribution spec's own recommended limit).
pub const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;

/// Largest Sigstore SigningConfig accepted: 4 MiB, as for trust roots, because a
/// ClientTrustConfig carries its trusted root alongside (real ones are a few KiB).
pub const MAX_SIGNING_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

/// Checks `size` against `limit`.
pub fn check(what: &'static str, size: u64, limit: u64) -> crate::Result<()> {
    if size > limit {
        return Err(crate::Error::TooLarge { what, size, limit });
    }
    Ok(())
}

/// Most signatures a DSSE envelope may carry: 16. Real envelopes carry one (or a few for a
/// threshold); more are refused before any is verified, so a flood of bogus signatures costs a
/// parse, not a signature check per signature and trusted key. `--threshold` is at most this.
pub const MAX_DSSE_SIGNATURES: usize = 16;

/// Largest local store `index.json` read: 128 MiB, about 340,000 entries (an entry is ~390
/// bytes). A step with 20,000 products adds 20,000 entries, so this holds seventeen such runs, or
/// years of a project's ordinary builds; reading one this size takes a few hundred milliseconds.
pub const MAX_STORE_INDEX_BYTES: u64 = 128 * 1024 * 1024;

/// Most subject lists a local store's readers use: 1,024. An attestation of more than 16
/// subjects is stored as one `index.json` entry plus a sorted list of its subjects, and a lookup
/// searches every list, so their number bounds a lookup's time (about 30 µs a list): 1,024 lists
/// of 20,000-product steps hold 20 million subjects. Lists beyond are not read (with a note),
/// whoever added them; a writer stores one index entry per subject instead.
pub const MAX_STORE_SUBJECT_LISTS: usize = 1024;

/// Most bytes of subject lists a local store's readers use, all lists together: 128 MiB (72
/// bytes a subject: about 1.86 million subjects), as for `index.json`, which they stand in for.
/// A chain walk reads each list at most once (a single lookup reads a few records of each), so
/// this bounds the reading a store's lists cause for one decision; lists beyond are not read,
/// with a note, and a writer stores one index entry per subject instead.
pub const MAX_STORE_SUBJECT_LIST_BYTES: u64 = 128 * 1024 * 1024;

/// Largest SBOM document accepted by `attest --sbom` (read and schema-validated): 64 MiB, as for
/// any predicate file. Real SBOMs of large images are a few MiB.
pub const MAX_SBOM_BYTES: u64 = MAX_PREDICATE_BYTES;

/// Most components read from one SBOM into an inventory (the policy input, `hallmark sbom`):
/// 20,000, past any real image's package count; the rest are counted and the inventory is marked
/// truncated (a policy that denies components then denies, as it cannot see them all).
pub const MAX_SBOM_COMPONENTS: usize = 20_000;
