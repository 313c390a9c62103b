//! `hallmark verify`: the yes-or-no answer for one artifact.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use hallmark_model::budget::Budget;
use hallmark_model::text::printable;
use hallmark_verifier::policy::{Policy, policy_input};
use hallmark_verifier::session::Session;
use hallmark_verifier::verdict::{Verdict, Violation, decide_in};
use hallmark_verifier::vsa;

use crate::Outcome;
use crate::evidence::{Evidence, SourceArgs, TrustArgs, read_key, trust_root, warn_budget};
use crate::render::{self, Format};
use crate::signing::{KeylessArgs, load_key};
use hallmark_attester::signer::{KeySigner, Signer};
use hallmark_verifier::sigstore::identity::IdentityPolicy;
use hallmark_verifier::verdict::{KeylessTrust, Requirements};

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
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    #[command(flatten)]
    pub sources: SourceArgs,
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
    #[arg(long, value_name = "PUB", conflicts_with_all = ["step", "threshold", "emit_vsa"])]
    pub accept_vsa_from: Vec<PathBuf>,
    /// Accept a PASSED VSA signed keyless by this identity (certificate SAN), as --accept-vsa-from
    /// does for keys; with --accept-vsa-issuer, against --trusted-root or the embedded root.
    #[arg(long, value_name = "ID", requires = "accept_vsa_issuer", conflicts_with_all = ["step", "threshold", "emit_vsa"])]
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

fn facts(pairs: &[String]) -> Result<serde_json::Value> {
    let mut map = serde_json::Map::new();
    for pair in pairs {
        let (k, v) = pair
            .split_once('=')
            .with_context(|| format!("--fact {pair}: expected KEY=VALUE"))?;
        map.insert(k.to_owned(), serde_json::Value::String(v.to_owned()));
    }
    Ok(serde_json::Value::Object(map))
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

/// Who may sign an acceptable VSA: `--accept-vsa-from` keys and the keyless identity, if any.
fn vsa_trust(args: &Args) -> Result<Option<Requirements>> {
    let keys = args
        .accept_vsa_from
        .iter()
        .map(|p| read_key(p))
        .collect::<Result<Vec<_>>>()?;
    let identity = match (&args.accept_vsa_identity, &args.accept_vsa_issuer) {
        (Some(identity), Some(issuer)) => Some(IdentityPolicy::exact(identity, issuer)),
        _ => None,
    };
    if keys.is_empty() && identity.is_none() {
        return Ok(None);
    }
    let keyless = match identity {
        Some(identity) => Some(KeylessTrust {
            root: trust_root(args.trust.trusted_root.as_deref())?,
            identities: vec![identity],
        }),
        None => None,
    };
    Ok(Some(Requirements {
        keys,
        keyless,
        ..Default::default()
    }))
}

/// The fast path: a trusted verifier's PASSED VSA for the policy the caller names. `Some` when it
/// decided (accepted, or denied because there is nothing as strong to fall back to).
fn fast_path(
    args: &Args,
    policy: Option<&Policy>,
    evidence: &Evidence,
    now: SystemTime,
) -> Result<Option<Outcome>> {
    let Some(trust) = vsa_trust(args)? else {
        return Ok(None);
    };
    let wanted = match (policy, &args.vsa_policy_digest) {
        (Some(p), _) => p.digest().to_owned(),
        (None, Some(d)) => d
            .parse::<hallmark_model::digest::Digest>()
            .with_context(|| format!("--vsa-policy-digest {d}"))?
            .to_string(),
        (None, None) => bail!(
            "accepting a VSA needs the policy it must have been decided under: --policy FILE \
             or --vsa-policy-digest sha256:HEX (a VSA for any policy would accept anything that \
             verifier ever passed)"
        ),
    };
    let why = match vsa::accept(
        &evidence.candidates,
        &evidence.digest,
        &trust,
        &wanted,
        now,
        args.vsa_max_age,
    ) {
        Ok(accepted) => {
            render::accepted_vsa(&accepted, evidence, args.format)?;
            return Ok(Some(Outcome::Success));
        }
        Err(why) => why,
    };
    // Falling back is only as strong as the VSA when the same policy is applied, with trust:
    // with a digest only, a rejected VSA denies.
    let can_fall_back = policy.is_some_and(|p| {
        !args.trust.key.is_empty() || !p.keys().is_empty() || !p.identities().is_empty()
    }) || (policy.is_some() && args.trust.identity.policy()?.is_some());
    if can_fall_back {
        eprintln!(
            "hallmark: no acceptable VSA for {} ({why}); verifying the attestations",
            evidence.label()
        );
        return Ok(None);
    }
    let verdict = Verdict {
        digest: evidence.digest.to_string(),
        allowed: false,
        attestations: Vec::new(),
        violations: vec![Violation::Policy {
            code: "vsa.not-accepted".to_owned(),
            message: format!("no acceptable verification summary: {why}"),
            details: serde_json::Value::Null,
        }],
    };
    render::verdict(
        &verdict,
        evidence.name.as_deref(),
        args.format,
        &trust.keys,
        None,
    )?;
    Ok(Some(Outcome::Denied))
}

/// Walks the chain, evaluates `policy` into `verdict`, and emits the VSA when asked. Returns
/// what the JSON output adds: the policy, its warnings and the chain.
fn apply_policy(
    args: &Args,
    policy: &Policy,
    evidence: &Evidence,
    session: &Session<'_>,
    verdict: &mut Verdict,
    facts: &serde_json::Value,
    now: SystemTime,
) -> Result<serde_json::Value> {
    let chain = evidence.chain(session)?;
    let input = policy_input(verdict, evidence.name.as_deref(), &chain, now, facts);
    if let Some(path) = &args.save_policy_input {
        std::fs::write(path, serde_json::to_vec_pretty(&input)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let decision = policy.evaluate(&input);
    for w in &decision.warn {
        eprintln!(
            "hallmark: warning: {}: {}",
            printable(&w.code),
            printable(&w.msg)
        );
    }
    verdict
        .violations
        .extend(decision.deny.iter().map(|f| Violation::Policy {
            code: f.code.clone(),
            message: f.msg.clone(),
            details: f.details.clone(),
        }));
    verdict.allowed = verdict.violations.is_empty();
    if let Some(path) = &args.emit_vsa {
        let summary = vsa::Summary {
            verifier_id: args.vsa_verifier_id.clone(),
            // The file name, not the local path (which would leak into a shared record).
            policy_uri: policy
                .path()
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            policy_digest: policy.digest().to_owned(),
            levels: decision.levels.clone(),
            passed: verdict.allowed,
            time: now,
        };
        let signer: Box<dyn Signer> = match &args.vsa_signing_key {
            Some(key) => Box::new(KeySigner::new(load_key(key)?)),
            None => Box::new(args.vsa_sigstore.signer()?),
        };
        crate::vsa_out::emit(
            verdict,
            evidence,
            &chain,
            &summary,
            signer.as_ref(),
            path,
            &args.sources,
        )?;
    }
    Ok(serde_json::json!({
        "policy": {"path": policy.path().display().to_string(), "digest": policy.digest()},
        "warnings": decision.warn,
        "chain": chain,
    }))
}

/// Runs `hallmark verify`.
pub fn run(args: Args) -> Result<Outcome> {
    check_flags(&args)?;
    let facts = facts(&args.fact)?;
    let policy = args
        .policy
        .as_deref()
        .map(|p| Policy::load(p, false))
        .transpose()?;
    // One budget for the whole decision: gathering, checking and the chain walk.
    let budget = Budget::default();
    let evidence = Evidence::gather(&args.artifact, &args.sources, &budget)?;
    let now = SystemTime::now();
    if let Some(outcome) = fast_path(&args, policy.as_ref(), &evidence, now)? {
        return Ok(outcome);
    }
    let requirements = args
        .trust
        .requirements(policy.as_ref(), args.step.clone())?;
    let session = Session::new(&requirements, &budget);
    let mut verdict = decide_in(&session, &evidence.digest, &evidence.candidates);
    let extra = match &policy {
        Some(policy) => Some(apply_policy(
            &args,
            policy,
            &evidence,
            &session,
            &mut verdict,
            &facts,
            now,
        )?),
        None => None,
    };
    warn_budget(&budget);
    render::verdict(
        &verdict,
        evidence.name.as_deref(),
        args.format,
        &requirements.keys,
        extra,
    )?;
    Ok(if verdict.allowed {
        Outcome::Success
    } else {
        Outcome::Denied
    })
}
