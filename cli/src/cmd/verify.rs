//! `hallmark verify`: the yes-or-no answer for one artifact. The decision is the engine's
//! (`hallmark_verifier::engine::decide`); this file maps flags to its request and renders it.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use hallmark_attester::signer::Signer;
use hallmark_model::budget::Budget;
use hallmark_model::provenance::predicate_type_uri;
use hallmark_model::text::printable;
use hallmark_verifier::engine::{self, Decision, Request, Trust, VsaAcceptance};
use hallmark_verifier::policy::Policy;
use hallmark_verifier::sigstore::identity::IdentityPolicy;
use hallmark_verifier::vendor::VendorProfiles;
use hallmark_verifier::vsa;

use crate::Outcome;
use crate::evidence::{Evidence, SourceArgs, TrustArgs, explain, read_key, warn_notes};
use crate::render::{self, Format};
use crate::signing::KeylessArgs;

/// Arguments of `hallmark verify`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  hallmark verify dist/app.tar --key k.pub --step package\n  \
hallmark verify dist/app.tar --policy release.yaml            (keys come from the policy)\n  \
hallmark verify dist/app.tar --key k.pub --policy policies/hallmark --emit-vsa app.vsa.json --vsa-signing-key verifier.key\n  \
hallmark verify dist/app.tar --accept-vsa-from verifier.pub --policy release.yaml\n  \
hallmark verify sha256:<hex> --key k.pub --format json\n  \
hallmark verify app.tar --bundle app.sigstore.json --certificate-identity https://github.com/o/r/.github/workflows/release.yml@refs/heads/main \\\n    \
--certificate-oidc-issuer https://token.actions.githubusercontent.com --source-repository https://github.com/o/r\n\n\
With --policy, the verified chain of steps behind the artifact (found in the store and the --bundle files)\n\
goes into the policy input (docs/policy-input.md); violations name the rule, the step and the file.\n\n\
Exit codes: 0 allowed, 1 denied (the output says which check failed), 2 error."
)]
pub struct Args {
    /// The artifact: a file path, sha256:HEX / sha512:HEX, or oci://REGISTRY/REPO:TAG|@DIGEST.
    #[arg(value_name = "ARTIFACT")]
    pub artifact: String,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// A step that must have a verified attestation for this artifact. Repeatable.
    #[arg(long, value_name = "NAME")]
    pub step: Vec<String>,
    /// The predicate type of which at least one verified attestation is required (repeatable:
    /// any of them). Default without --policy: SLSA provenance (v1 or v0.2). cosign's shorthands
    /// work: slsaprovenance, slsaprovenance1, spdxjson, cyclonedx, vuln, openvex, link. A VSA
    /// counts only through --accept-vsa-from, an approval only in a policy.
    #[arg(long, value_name = "URI")]
    pub predicate_type: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    #[command(flatten)]
    pub sources: SourceArgs,
    #[command(flatten)]
    pub revocations: crate::revocations::RevocationArgs,
    /// Apply this vendor's trust profile (docs/vendor-profiles.md): only its keys and identities
    /// count, its required predicate types and maximum age hold, and an expired profile retires
    /// its signers. Replaces --key and the identity flags.
    #[arg(long, value_name = "NAME")]
    pub vendor: Option<String>,
    /// Where vendor profiles are: a directory of YAML profiles or one file.
    #[arg(
        long,
        value_name = "DIR|FILE",
        default_value = "vendors",
        requires = "vendor"
    )]
    pub vendors: PathBuf,
    /// A policy: a declarative release policy (.yaml with apiVersion hallmark.dev/policy/v1), a
    /// Rego file, or a directory of Rego modules and data.json/.yaml; see policies/README.md.
    /// Fail closed.
    #[arg(long, value_name = "FILE|DIR")]
    pub policy: Option<PathBuf>,
    /// Also write the policy input document to FILE (to debug a policy with
    /// `hallmark policy eval --input FILE`).
    #[arg(long, value_name = "FILE", requires = "policy")]
    pub save_policy_input: Option<PathBuf>,
    /// A caller-supplied fact for the policy input (`context.facts`), e.g. environment=prod.
    /// Repeatable. Not with VSAs (emitted or accepted), which record no facts.
    #[arg(long, value_name = "KEY=VALUE", conflicts_with_all = ["accept_vsa_from", "accept_vsa_identity", "emit_vsa"])]
    pub fact: Vec<String>,
    /// The environment the artifact is decided for, e.g. production (`context.facts.environment`
    /// in the policy input): approvals for another environment do not count, and only
    /// deployment records for it are checked. Same as --fact environment=NAME.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["accept_vsa_from", "accept_vsa_identity", "emit_vsa"])]
    pub environment: Option<String>,
    /// Write a signed SLSA Verification Summary (VSA) of this decision to FILE, and store it with
    /// the artifact's attestations. Needs --policy, and --vsa-signing-key or --vsa-keyless.
    #[arg(long, value_name = "FILE", requires = "policy")]
    pub emit_vsa: Option<PathBuf>,
    /// The verifier's private key that signs the VSA.
    #[arg(
        long,
        value_name = "FILE",
        requires = "emit_vsa",
        conflicts_with = "vsa_keyless"
    )]
    pub vsa_signing_key: Option<PathBuf>,
    /// Sign the VSA keyless (the verifier's OIDC identity: --identity-token, $SIGSTORE_ID_TOKEN
    /// or the GitHub Actions token; Fulcio and Rekor as below).
    #[arg(long, requires = "emit_vsa")]
    pub vsa_keyless: bool,
    #[command(flatten)]
    pub vsa_sigstore: KeylessArgs,
    /// The verifier id written into the VSA.
    #[arg(long, value_name = "URI", default_value = vsa::DEFAULT_VERIFIER_ID)]
    pub vsa_verifier_id: String,
    /// Accept a PASSED VSA signed by this verifier key (PEM) as the evidence: no chain walk, no
    /// policy evaluation. The VSA must be for the policy given with --policy (same digest) or
    /// --vsa-policy-digest. Repeatable.
    #[arg(long, value_name = "PUB", conflicts_with_all = ["step", "threshold", "emit_vsa", "predicate_type"])]
    pub accept_vsa_from: Vec<PathBuf>,
    /// Accept a PASSED VSA signed keyless by this identity (certificate SAN), as --accept-vsa-from
    /// does for keys; with --accept-vsa-issuer, against the trust roots of --trusted-root, the last `trust update`, or the embedded root.
    #[arg(long, value_name = "ID", requires = "accept_vsa_issuer", conflicts_with_all = ["step", "threshold", "emit_vsa", "predicate_type"])]
    pub accept_vsa_identity: Option<String>,
    /// The OIDC issuer of --accept-vsa-identity.
    #[arg(long, value_name = "URL", requires = "accept_vsa_identity")]
    pub accept_vsa_issuer: Option<String>,
    /// The policy digest an accepted VSA must record (as `hallmark policy explain` prints it),
    /// instead of --policy.
    #[arg(long, value_name = "sha256:HEX", conflicts_with = "policy")]
    pub vsa_policy_digest: Option<String>,
    /// The oldest VSA accepted, e.g. 24h or 7d.
    #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = humantime::parse_duration)]
    pub vsa_max_age: Duration,
}

fn facts(
    pairs: &[String],
    environment: Option<&str>,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let mut map = serde_json::Map::new();
    if let Some(env) = environment {
        if env.trim().is_empty() {
            bail!("--environment must not be empty");
        }
        map.insert("environment".to_owned(), env.into());
    }
    for pair in pairs {
        let (k, v) = pair
            .split_once('=')
            .with_context(|| format!("--fact {pair}: expected KEY=VALUE"))?;
        if k == "environment" && environment.is_some_and(|e| e != v) {
            bail!("--fact environment={v} contradicts --environment; give one");
        }
        map.insert(k.to_owned(), serde_json::Value::String(v.to_owned()));
    }
    Ok(map)
}

/// Flag combinations clap cannot express.
fn check_flags(args: &Args) -> Result<()> {
    if args.emit_vsa.is_some() && args.vsa_signing_key.is_none() && !args.vsa_keyless {
        bail!("--emit-vsa needs the verifier's signature: --vsa-signing-key FILE or --vsa-keyless");
    }
    if args.vsa_policy_digest.is_some()
        && args.accept_vsa_from.is_empty()
        && args.accept_vsa_identity.is_none()
    {
        bail!("--vsa-policy-digest goes with --accept-vsa-from or --accept-vsa-identity");
    }
    Ok(())
}

/// `--accept-vsa-*`: who may sign an acceptable VSA, and for which policy.
fn vsa_acceptance(args: &Args) -> Result<Option<VsaAcceptance>> {
    let keys = args
        .accept_vsa_from
        .iter()
        .map(|p| read_key(p))
        .collect::<Result<Vec<_>>>()?;
    let identities: Vec<IdentityPolicy> = match (&args.accept_vsa_identity, &args.accept_vsa_issuer)
    {
        (Some(identity), Some(issuer)) => vec![IdentityPolicy::exact(identity, issuer)],
        _ => Vec::new(),
    };
    if keys.is_empty() && identities.is_empty() {
        return Ok(None);
    }
    let roots = match identities.is_empty() {
        false => Some(crate::roots::resolve(&args.trust.trusted_root)?.roots),
        true => None,
    };
    let policy_digest = args
        .vsa_policy_digest
        .as_deref()
        .map(|d| {
            d.parse()
                .with_context(|| format!("--vsa-policy-digest {d}"))
        })
        .transpose()?;
    Ok(Some(VsaAcceptance {
        verifiers: Trust {
            keys,
            identities,
            roots,
        },
        policy_digest,
        max_age: args.vsa_max_age,
    }))
}

/// Signs the decision as a VSA (`--emit-vsa`).
fn emit_vsa(
    args: &Args,
    path: &Path,
    policy: &Policy,
    decision: &Decision,
    evidence: &Evidence,
    at: SystemTime,
) -> Result<()> {
    let summary = vsa::Summary {
        verifier_id: args.vsa_verifier_id.clone(),
        // The file name, not the local path (which would leak into a shared record); `.` and
        // `..` name the directory they stand for.
        policy_uri: std::fs::canonicalize(policy.path())
            .unwrap_or_else(|_| policy.path().to_path_buf())
            .file_name()
            .map_or_else(|| "policy".to_owned(), |n| n.to_string_lossy().into_owned()),
        policy_digest: policy.digest().to_owned(),
        levels: decision
            .policy
            .as_ref()
            .map(|p| p.levels.clone())
            .unwrap_or_default(),
        passed: decision.verdict.allowed(),
        time: at,
    };
    let signer: Box<dyn Signer> = match &args.vsa_signing_key {
        Some(key) => crate::signing::key_signer(key)?,
        None => Box::new(args.vsa_sigstore.signer()?),
    };
    crate::vsa_out::emit(
        decision,
        evidence,
        &summary,
        signer.as_ref(),
        path,
        &args.sources,
    )
}

/// Runs `hallmark verify`: flags into a request, one call of the engine, the verdict rendered.
pub fn run(args: Args) -> Result<Outcome> {
    check_flags(&args)?;
    let policy = args
        .policy
        .as_deref()
        .map(|p| Policy::load(p, false))
        .transpose()?;
    // One budget for the whole decision: gathering, checking and the chain walk.
    let budget = Budget::default();
    let evidence = Evidence::gather(&args.artifact, &args.sources, &budget)?;
    let at = SystemTime::now();
    let trust = args.trust.trust()?;
    let profiles = match &args.vendor {
        Some(_) if !trust.is_empty() => {
            bail!("--vendor takes the signers from the profile: drop --key and the identity flags")
        }
        Some(_) => Some(
            VendorProfiles::load(&args.vendors)
                .map_err(|e| crate::coded::coded(e.code(), e.to_string()))?,
        ),
        None => None,
    };
    let vendor = match (&profiles, &args.vendor) {
        (Some(p), Some(name)) => Some(
            p.get(name)
                .map_err(|e| crate::coded::coded(e.code(), e.to_string()))?,
        ),
        _ => None,
    };
    let request = Request {
        vendor,
        name: evidence.name.clone(),
        aliases: evidence.aliases.clone(),
        revocations: args.revocations.load(&trust, policy.as_ref(), at)?,
        trust,
        signatures: args.trust.signatures()?,
        steps: args.step.clone(),
        predicate_types: args
            .predicate_type
            .iter()
            .map(|t| predicate_type_uri(t).to_owned())
            .collect(),
        policy: policy.as_ref(),
        facts: facts(&args.fact, args.environment.as_deref())?,
        accept_vsa: vsa_acceptance(&args)?,
        ..Request::new(evidence.digest.clone(), at)
    };
    let decision =
        engine::decide_within(&request, &evidence.sources(), &budget).map_err(explain)?;
    warn_notes(&decision.notes);
    if let Some(why) = &decision.vsa_fallback {
        eprintln!(
            "hallmark: no acceptable VSA for {} ({}); verifying the attestations",
            evidence.label(),
            printable(why)
        );
    }
    if let Some(report) = &decision.policy {
        for w in &report.warnings {
            eprintln!(
                "hallmark: warning: {}: {}",
                printable(&w.code),
                printable(&w.msg)
            );
        }
        if let Some(path) = &args.save_policy_input {
            std::fs::write(path, serde_json::to_vec_pretty(&report.input)?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    if let (Some(path), Some(policy)) = (&args.emit_vsa, &policy) {
        emit_vsa(&args, path, policy, &decision, &evidence, at)?;
    }
    render::decision(
        &decision,
        policy.as_ref(),
        evidence.name.as_deref(),
        args.format,
    )?;
    Ok(if decision.verdict.allowed() {
        Outcome::Success
    } else {
        Outcome::Denied
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_is_a_fact_and_may_not_contradict_one() {
        let f = facts(&["team=ops".to_owned()], Some("production")).unwrap();
        assert_eq!(f["environment"], "production");
        assert_eq!(f["team"], "ops");
        assert!(facts(&["environment=production".to_owned()], Some("production")).is_ok());
        let e = facts(&["environment=staging".to_owned()], Some("production")).unwrap_err();
        assert!(e.to_string().contains("contradicts --environment"), "{e}");
        assert!(facts(&[], Some(" ")).is_err());
        assert!(facts(&[], None).unwrap().is_empty());
    }
}
