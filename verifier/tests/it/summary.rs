//! The policy input's `summary` (docs/policy-input.md) is an optimisation only: the library's rules
//! use it to skip looking at every step when nothing can be wrong. Over random chains (builders,
//! sources, refs, times, certificates, crossed inputs, attestations inside and outside the
//! chain, whole-job steps), a decision with the summary and `inChain` equals the decision without
//! them, where every rule looks at every record.

use hallmark_verifier::policy::{Policy, add_facts};
use proptest::prelude::*;
use serde_json::{Value, json};

const BUILDERS: [&str; 3] = [
    "https://ci.example/builder",
    "https://evil.example/builder",
    "https://ci.example/self-asserted",
];
const URIS: [&str; 4] = [
    "git+https://git.example/acme/app.git@refs/heads/main",
    "git+https://git.example/fork/app@refs/heads/main",
    "git+https://git.example/acme/app@refs/tags/x",
    "",
];
const TIMES: [&str; 4] = [
    "2026-12-06T10:00:00Z",
    "2020-01-01T00:00:00Z",
    "2100-01-01T00:00:00Z",
    "not a time",
];

fn policy() -> Policy {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("policy.yaml");
    std::fs::write(
        &path,
        "apiVersion: hallmark.dev/policy/v1\n\
         steps:\n  s0: {signers: [{keyid: k0}], inputs: [source]}\n  s1: {signers: [{keyid: k0}], inputs: [s0]}\n  s2: {signers: [{keyid: k0}], inputs: [s1]}\n\
         sources: {repositories: [https://git.example/acme/app], refs: [refs/heads/main]}\n\
         builders: [https://ci.example/builder]\nmaxAge: 7d\n",
    )
    .expect("the policy is written");
    Policy::load(&path, false).expect("the policy loads")
}

/// One step record as the verifier writes it, from the choices drawn.
#[allow(clippy::too_many_arguments)]
fn step(
    i: usize,
    builder: Option<usize>,
    uri: usize,
    time: Option<usize>,
    commit: Option<&str>,
    run: Option<&str>,
    certified: Option<&str>,
) -> Value {
    let mut provenance = json!({
        "buildType": "https://hallmark.dev/buildtypes/step/v1",
        "step": format!("s{i}"),
    });
    if let Some(b) = builder {
        provenance["builderId"] = json!(BUILDERS[b]);
    }
    if !URIS[uri].is_empty() {
        provenance["sourceUri"] = json!(URIS[uri]);
    }
    if let Some(t) = time {
        provenance["finishedOn"] = json!(TIMES[t]);
    }
    if let Some(c) = commit {
        provenance["sourceCommit"] = json!(c);
    }
    if let Some(r) = run {
        provenance["pipelineRun"] = json!(r);
    }
    let details = match certified {
        Some(repo) => {
            json!([{"identity": "https://github.com/acme/app/.github/workflows/ci.yml@refs/heads/main",
            "issuer": "https://token.actions.githubusercontent.com",
            "extensions": {"sourceRepositoryURI": repo, "sourceRepositoryRef": "refs/heads/main"}}])
        }
        None => json!([{"keyid": "k0"}]),
    };
    let materials = if i == 0 {
        json!([{"name": "src/a.c", "digest": "sha256:aa", "producedBy": []}])
    } else {
        json!([{"name": format!("out/{}", i - 1), "digest": format!("sha256:0{}", i - 1), "producedBy": [format!("id{}", i - 1)]}])
    };
    json!({
        "id": format!("id{i}"),
        "origin": format!("store s{i}"),
        "step": format!("s{i}"),
        "signers": ["k0"],
        "signerDetails": details,
        "verifiedTimes": [],
        "exitCode": 0,
        "provenance": provenance,
        "materials": materials,
        "products": [{"name": format!("out/{i}"), "digest": format!("sha256:0{i}")}],
    })
}

/// A step's builder, source URI, finish time, commit, pipeline run and certified repository.
type Choice = (
    Option<usize>,
    usize,
    Option<usize>,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);

fn step_choice() -> impl Strategy<Value = Choice> {
    (
        proptest::option::of(0..BUILDERS.len()),
        0..URIS.len(),
        proptest::option::of(0..TIMES.len()),
        proptest::option::of(prop_oneof![Just("c1"), Just("c2")]),
        proptest::option::of(prop_oneof![Just("r1"), Just("r2")]),
        proptest::option::of(prop_oneof![
            Just("https://git.example/acme/app"),
            Just("https://git.example/other/app")
        ]),
    )
}

/// The codes and messages of a decision's denials and warnings.
fn outcome(policy: &Policy, input: &Value) -> (Vec<String>, Vec<String>) {
    let d = policy.evaluate(input);
    let mut deny: Vec<String> = d
        .deny
        .iter()
        .map(|f| format!("{} {}", f.code, f.msg))
        .collect();
    let mut warn: Vec<String> = d
        .warn
        .iter()
        .map(|f| format!("{} {}", f.code, f.msg))
        .collect();
    deny.sort();
    warn.sort();
    (deny, warn)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn a_decision_with_the_summary_equals_one_without(
        choices in proptest::collection::vec(step_choice(), 1..=3),
        root_attestation in prop_oneof![Just(0u8), Just(1), Just(2), Just(3)],
        job in proptest::option::of(step_choice()),
    ) {
        let mut steps: Vec<Value> = choices
            .iter()
            .enumerate()
            .map(|(i, (b, u, t, c, r, cert))| step(i, *b, *u, *t, *c, *r, *cert))
            .collect();
        let last = steps.len() - 1;
        // Whole-job provenance somewhere in the chain: judged by the builder, source and time
        // rules like any record.
        if let Some((b, u, t, c, r, cert)) = job {
            let mut j = step(9, b, u, t, c, r, cert);
            j["step"] = Value::Null;
            j["provenance"]["step"] = Value::Null;
            j["provenance"]["buildType"] = json!("https://actions.github.io/buildtypes/workflow/v1");
            steps.push(j);
        }
        // The artifact's own attestation: none, the chain's root itself, one outside the chain,
        // or the whole-job step's record (the same record as a job step: inChain).
        let twin = |st: &Value| json!([{"origin": st["origin"], "step": st["step"],
            "signers": st["signers"], "verifiedTimes": [], "provenance": st["provenance"]}]);
        let attestations = match root_attestation {
            0 => json!([]),
            1 => twin(&steps[last]),
            3 => steps.last().map_or(json!([]), twin),
            _ => json!([{"origin": "elsewhere", "step": "s9", "signers": ["k0"], "verifiedTimes": [],
                "provenance": {"builderId": BUILDERS[1], "sourceUri": URIS[1], "finishedOn": TIMES[1]}}]),
        };
        let mut input = json!({
            "version": 1,
            "artifact": {"digest": format!("sha256:0{last}"), "name": "app"},
            "attestations": attestations,
            "chain": {"roots": [format!("id{last}")], "steps": steps, "truncated": false},
            "context": {"time": "2026-12-06T12:00:00Z"},
        });
        add_facts(&mut input);
        // Without the summary and without `inChain`: every rule looks at every record, and
        // the chain's root is counted twice (the library's rules report a violation once).
        let mut bare = input.clone();
        if let Some(obj) = bare.as_object_mut() {
            obj.remove("summary");
        }
        for a in bare["attestations"].as_array_mut().into_iter().flatten() {
            if let Some(obj) = a.as_object_mut() {
                obj.remove("inChain");
            }
        }
        let policy = policy();
        prop_assert_eq!(outcome(&policy, &input), outcome(&policy, &bare));
    }
}
