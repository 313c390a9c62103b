//! The work one decision may do, whatever its evidence holds.
//!
//! A store or registry is writable by more people than the verifier trusts, so the evidence for
//! one decision is bounded as a whole: bytes read, attestations parsed and signatures checked.
//! Readers and the verifier spend from one [`Budget`]; once a kind of work is spent, more of it
//! is refused and the decision is made on what was done (a chain walk cut short is marked
//! truncated, which policy denies).

use std::sync::atomic::{AtomicU64, Ordering};

/// A kind of work a budget counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Bytes of evidence read: manifests and bundles, from stores, registries and files.
    Bytes,
    /// Documents parsed: attestation manifests and bundles (each distinct one once).
    Attestations,
    /// Signature checks: one signature against one key.
    Signatures,
}

impl Work {
    fn index(self) -> usize {
        match self {
            Work::Bytes => 0,
            Work::Attestations => 1,
            Work::Signatures => 2,
        }
    }
}

impl std::fmt::Display for Work {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Work::Bytes => "bytes read",
            Work::Attestations => "attestations parsed",
            Work::Signatures => "signature checks",
        })
    }
}

/// Most bytes of evidence one decision reads: 128 MiB (eight of the largest bundles; a 1,000-step
/// chain of ordinary bundles is a few MiB, a 20,000-product step's bundle about 4 MiB). Reading,
/// hashing, parsing and checking this much takes about half a second.
pub const DECISION_BYTES: u64 = 128 * 1024 * 1024;
/// Most attestation manifests and bundles one decision parses: 20,000 (a 1,000-step chain with
/// copies, approvals and VSAs uses a few thousand).
pub const DECISION_ATTESTATIONS: u64 = 20_000;
/// Most signature checks one decision makes: 20,000 (one per step and trusted key tried).
pub const DECISION_SIGNATURES: u64 = 20_000;

/// How much of each kind of work a decision may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// See [`Work::Bytes`].
    pub bytes: u64,
    /// See [`Work::Attestations`].
    pub attestations: u64,
    /// See [`Work::Signatures`].
    pub signatures: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            bytes: DECISION_BYTES,
            attestations: DECISION_ATTESTATIONS,
            signatures: DECISION_SIGNATURES,
        }
    }
}

impl Limits {
    fn of(&self, work: Work) -> u64 {
        match work {
            Work::Bytes => self.bytes,
            Work::Attestations => self.attestations,
            Work::Signatures => self.signatures,
        }
    }
}

/// A kind of work whose budget is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the decision's budget of {limit} {work} is spent")]
pub struct Exhausted {
    /// What ran out.
    pub work: Work,
    /// Its limit.
    pub limit: u64,
}

/// What one decision has spent. Shared by reference between the readers and the verifier
/// (atomic counters, so a reader on another thread can spend too).
#[derive(Debug, Default)]
pub struct Budget {
    limits: Limits,
    spent: [AtomicU64; 3],
    refused: [AtomicU64; 3],
}

impl Budget {
    /// A budget with these limits.
    pub fn new(limits: Limits) -> Self {
        Budget {
            limits,
            ..Default::default()
        }
    }

    /// Spends `amount` of `work`, or refuses (spending nothing) when that would exceed the
    /// limit; after a refusal the budget reports itself [`Self::exhausted`].
    pub fn spend(&self, work: Work, amount: u64) -> Result<(), Exhausted> {
        let limit = self.limits.of(work);
        let spent = &self.spent[work.index()];
        let mut now = spent.load(Ordering::Relaxed);
        loop {
            let next = now.saturating_add(amount);
            if next > limit {
                self.refused[work.index()].store(1, Ordering::Relaxed);
                return Err(Exhausted { work, limit });
            }
            match spent.compare_exchange_weak(now, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return Ok(()),
                Err(actual) => now = actual,
            }
        }
    }

    /// The first kind of work that was refused, if any: the decision did not see everything.
    pub fn exhausted(&self) -> Option<Exhausted> {
        [Work::Bytes, Work::Attestations, Work::Signatures]
            .into_iter()
            .find(|w| self.refused[w.index()].load(Ordering::Relaxed) != 0)
            .map(|work| Exhausted {
                work,
                limit: self.limits.of(work),
            })
    }

    /// How much of `work` has been spent.
    pub fn spent(&self, work: Work) -> u64 {
        self.spent[work.index()].load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_limit_and_remembers() {
        let b = Budget::new(Limits {
            bytes: 10,
            attestations: 1,
            signatures: 1,
        });
        assert!(b.spend(Work::Bytes, 6).is_ok());
        assert_eq!(b.exhausted(), None);
        assert_eq!(
            b.spend(Work::Bytes, 5),
            Err(Exhausted {
                work: Work::Bytes,
                limit: 10
            })
        );
        // A smaller amount still fits; the refusal is remembered.
        assert!(b.spend(Work::Bytes, 4).is_ok());
        assert_eq!(b.spent(Work::Bytes), 10);
        assert_eq!(b.exhausted().map(|e| e.work), Some(Work::Bytes));
        assert!(b.spend(Work::Signatures, 1).is_ok());
        assert!(b.spend(Work::Signatures, u64::MAX).is_err());
    }
}
