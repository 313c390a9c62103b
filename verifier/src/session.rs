//! One decision's memory and budget: each bundle (by its blob digest) is parsed, and its
//! signatures checked, at most once, however many digests it is listed for; every parse and
//! signature check is spent from the decision's [`Budget`].

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::SystemTime;

use hallmark_model::budget::{Budget, Exhausted, Work};
use hallmark_model::bundle::Bundle;
use hallmark_model::digest::Digest;
use hallmark_model::signer::SignerDetails;

use crate::Rejection;
use crate::attestation::{Signed, VerifiedAttestation, verify_key_signed};
use crate::chain::{Peek, payload_id, peek};
use crate::sigstore::trust_root::OTHER_INSTANCE_CODES;
use crate::sigstore::verify::{ExpectedSigner, statement_of, verify_parsed};
use crate::verdict::{Candidate, Requirements};

/// What a decision knows about one bundle.
struct Memo {
    bundle: Result<Bundle, Rejection>,
    peek: OnceCell<Option<Rc<Peek>>>,
    signed_peek: OnceCell<Option<Rc<Peek>>>,
    signed: OnceCell<Result<Signed, Rejection>>,
}

/// One decision: its requirements, its time, its budget, and what it learnt about each bundle.
pub struct Session<'a> {
    requirements: &'a Requirements,
    budget: &'a Budget,
    now: SystemTime,
    memo: RefCell<HashMap<String, Rc<Memo>>>,
}

fn spent(e: Exhausted) -> Rejection {
    Rejection::Budget(e.to_string())
}

/// Verifies one bundle for whatever subjects it names, against `requirements` (keys and/or
/// keyless trust, signature policy and revocations, judged at `requirements.at`), within a
/// budget of its own: what an evidence index ingests. The checks are a decision's
/// ([`Session::check_any_subject`]); only the subject match is left out, so the caller must
/// record every subject the statement names rather than trust it for one artifact.
pub fn verify_any_subject(
    bytes: &[u8],
    requirements: &Requirements,
) -> Result<VerifiedAttestation, Rejection> {
    let budget = Budget::default();
    let session = Session::new(requirements, &budget);
    session.check_any_subject(&Candidate::new("bundle", bytes))
}

impl<'a> Session<'a> {
    /// A decision under `requirements` (at `requirements.at`), spending from `budget`.
    pub fn new(requirements: &'a Requirements, budget: &'a Budget) -> Self {
        Session {
            requirements,
            budget,
            now: requirements.at,
            memo: RefCell::default(),
        }
    }

    /// The requirements.
    pub fn requirements(&self) -> &Requirements {
        self.requirements
    }

    /// The decision's budget.
    pub fn budget(&self) -> &Budget {
        self.budget
    }

    fn memo(&self, c: &Candidate) -> Rc<Memo> {
        if let Some(m) = self.memo.borrow().get(c.digest()) {
            return Rc::clone(m);
        }
        let bundle = self
            .budget
            .spend(Work::Attestations, 1)
            .map_err(spent)
            .and_then(|()| {
                Bundle::from_slice(c.bytes()).map_err(|e| Rejection::Bundle(e.to_string()))
            });
        let memo = Rc::new(Memo {
            bundle,
            peek: OnceCell::new(),
            signed_peek: OnceCell::new(),
            signed: OnceCell::new(),
        });
        self.memo
            .borrow_mut()
            .insert(c.digest().to_owned(), Rc::clone(&memo));
        memo
    }

    /// What `c` claims to be, before any check: only for routing and skipping.
    pub fn peek(&self, c: &Candidate) -> Option<Rc<Peek>> {
        let memo = self.memo(c);
        memo.peek
            .get_or_init(|| peek(memo.bundle.as_ref().ok()?).map(Rc::new))
            .clone()
    }

    /// What `c` is, when its signatures verify (for any artifact); `None` when they do not.
    pub fn signed_peek(&self, c: &Candidate) -> Option<Rc<Peek>> {
        let memo = self.memo(c);
        memo.signed_peek
            .get_or_init(|| {
                let signed = self.signed(&memo).as_ref().ok()?;
                Some(Rc::new(Peek {
                    id: payload_id(memo.bundle.as_ref().ok()?)?,
                    predicate_type: signed.predicate_type().to_owned(),
                }))
            })
            .clone()
    }

    /// Checks `c` for the artifact `digest`: key-signed bundles against the keys, keyless ones
    /// against the Sigstore trust root and identities. The signatures are checked once per
    /// bundle; only the subject is matched per digest.
    pub fn check(&self, c: &Candidate, digest: &Digest) -> Result<VerifiedAttestation, Rejection> {
        let memo = self.memo(c);
        self.signed(&memo)
            .as_ref()
            .map_err(Clone::clone)?
            .for_artifact(digest)
    }

    /// Checks `c` for whatever subjects its statement names (an evidence index records them
    /// all): the same signature, certificate, log, timestamp, predicate and revocation checks
    /// as [`Self::check`], only no subject is matched.
    pub fn check_any_subject(&self, c: &Candidate) -> Result<VerifiedAttestation, Rejection> {
        let memo = self.memo(c);
        self.signed(&memo).clone()?.into_verified()
    }

    /// `c`'s verified statement and signers, for any artifact (revocation lists).
    pub(crate) fn signed_of(&self, c: &Candidate) -> Result<Signed, Rejection> {
        let memo = self.memo(c);
        self.signed(&memo).clone()
    }

    fn signed<'m>(&self, memo: &'m Memo) -> &'m Result<Signed, Rejection> {
        memo.signed.get_or_init(|| match &memo.bundle {
            // A revoked signer's bundle is rejected wherever it is used: as evidence, as a
            // step of the chain, as a VSA.
            Ok(bundle) => self.verify(bundle).and_then(|signed| {
                self.requirements
                    .revocations
                    .check_signed(&signed, self.now)
                    .map(|()| signed)
            }),
            Err(e) => Err(e.clone()),
        })
    }

    fn verify(&self, bundle: &Bundle) -> Result<Signed, Rejection> {
        let r = self.requirements;
        let mut charge = |n: u64| self.budget.spend(Work::Signatures, n).map_err(spent);
        match verify_key_signed(bundle, &r.keys, r.signatures, &mut charge) {
            Err(Rejection::Keyless) => self.verify_keyless(bundle),
            other => other,
        }
    }

    /// A certificate-signed bundle: its evidence verified once, then its certificate matched
    /// against each trusted identity (cheap), then its statement read.
    fn verify_keyless(&self, bundle: &Bundle) -> Result<Signed, Rejection> {
        let keyless = self
            .requirements
            .keyless
            .as_ref()
            .filter(|k| !k.identities.is_empty())
            .ok_or(Rejection::Keyless)?;
        // The certificate chain and SCT, each log entry, each timestamp: one verification's
        // cost, however many identities are tried.
        let vm = &bundle.verification_material;
        let cost = 2
            + vm.tlog_entries.len() as u64
            + vm.timestamp_verification_data.rfc3161_timestamps.len() as u64;
        // Each root tried costs a verification.
        let verified = keyless.roots.first_verifying(
            |root| {
                self.budget.spend(Work::Signatures, cost).map_err(spent)?;
                verify_parsed(bundle, None, root, ExpectedSigner::Certificate, self.now)
                    .map_err(Rejection::from)
            },
            |e: &Rejection| OTHER_INSTANCE_CODES.contains(&e.code()),
        )?;
        let identity = verified.identity(&keyless.identities)?;
        let envelope = verified.envelope().ok_or(Rejection::NotDsse)?;
        let statement = statement_of(envelope)?;
        let issuer = verified
            .certificate()
            .and_then(|leaf| leaf.issuer())
            .unwrap_or_default()
            .to_owned();
        let signer = format!("{identity} (issuer {issuer})");
        let details = SignerDetails::Certificate {
            identity,
            issuer,
            extensions: verified.extensions().clone(),
            tlog_entries: verified.tlog_entries(),
        };
        Ok(Signed::from_sigstore(
            statement,
            signer,
            details,
            verified.times(),
        ))
    }
}
