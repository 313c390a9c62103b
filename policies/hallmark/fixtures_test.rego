# Shared fixtures of the policy tests (no tests here). An intact three-step chain:
#   build (source step: reads src/main.c from the checkout) -> bin/app
#   test  (consumes bin/app)
#   package (consumes bin/app) -> dist/app.tar, the artifact (the root)
# Its steps are key-signed by "ci-key" (no verified time: their age is the claimed finishedOn);
# `keyless(...)` patches a step into a keyless (certificate) signature with a verified time.
package hallmark_test.fixtures

import rego.v1

builder := "https://ci.example/builder"

source := "git+https://git.example/acme/app@refs/heads/main"

now := "2026-11-25T12:00:00Z"

id_build := "sha256:01"

id_test := "sha256:02"

id_package := "sha256:03"

# A chain step; `patch` is merged over the defaults (object.union: nested objects merge,
# arrays and scalars replace).
step(id, name, materials, products, patch) := object.union(
	{
		"id": id,
		"origin": sprintf("store %s", [id]),
		"step": name,
		"signers": ["ci-key"],
		"signerDetails": [{"keyid": "ci-key"}],
		"verifiedTimes": [],
		"provenance": {
			"buildType": "https://hallmark.dev/step/v1",
			"builderId": builder,
			"step": name,
			"sourceUri": source,
			"sourceCommit": "0123abcd",
			"startedOn": "2026-11-25T10:00:00Z",
			"finishedOn": "2026-11-25T10:05:00Z",
		},
		"command": ["sh", "-c", "make"],
		"exitCode": 0,
		"runnerEnvironment": "github-hosted",
		"materials": materials,
		"products": products,
	},
	patch,
)

# A keyless signature: the certificate's identity (the workflow that signed) and its Fulcio
# extensions, with the signing time a transparency log proved. Merge into a step's patch.
github_issuer := "https://token.actions.githubusercontent.com"

keyless(identity, build_signer_uri) := {
	"signers": [sprintf("%s (issuer %s)", [identity, github_issuer])],
	"signerDetails": [{
		"identity": identity,
		"issuer": github_issuer,
		"extensions": {
			"buildSignerURI": build_signer_uri,
			"runnerEnvironment": "github-hosted",
			"sourceRepositoryURI": "https://git.example/acme/app",
			"sourceRepositoryRef": "refs/heads/main",
		},
		"tlogEntries": 1,
	}],
	"verifiedTimes": ["2026-11-25T10:05:03Z"],
}

material(name, digest, produced_by) := {"name": name, "digest": digest, "producedBy": produced_by}

product(name, digest) := {"name": name, "digest": digest}

build_step(patch) := step(id_build, "build", [material("src/main.c", "sha256:c0", [])], [product("bin/app", "sha256:b1")], patch)

test_step(patch) := step(id_test, "test", [material("bin/app", "sha256:b1", [id_build])], [product("report.xml", "sha256:e1")], patch)

package_step(patch) := step(id_package, "package", [material("bin/app", "sha256:b1", [id_build])], [product("dist/app.tar", "sha256:aa")], patch)

# The provenance attestation of a chain step, as input.attestations lists it.
provenance_attestation(st) := {
	"origin": st.origin,
	"predicateType": "https://slsa.dev/provenance/v1",
	"statement": {"predicateType": "https://slsa.dev/provenance/v1", "predicate": {}},
	"signers": st.signers,
	"signerDetails": st.signerDetails,
	"verifiedTimes": st.verifiedTimes,
	"step": st.step,
	"provenance": st.provenance,
}

attestation(origin, predicate_type, signers) := attestation_with(origin, predicate_type, signers, {})

attestation_with(origin, predicate_type, signers, predicate) := {
	"origin": origin,
	"predicateType": predicate_type,
	"statement": {"predicateType": predicate_type, "predicate": predicate},
	"signers": signers,
	"signerDetails": [{"keyid": s} | some s in signers],
	"verifiedTimes": [],
	"step": null,
	"provenance": null,
}

# An approval, approved an hour before `now`, for no particular environment.
approval(origin, signers) := approval_with(origin, signers, {})

# An approval whose predicate is the default one with `patch` merged over it.
approval_with(origin, signers, patch) := attestation_with(
	origin,
	"https://hallmark.dev/approval/v1",
	signers,
	object.union({"reason": "release", "ticket": "REL-1", "approvedAt": "2026-11-25T11:00:00Z"}, patch),
)

# A verified SBOM with its inventory (as the policy input carries it).
sbom := object.union(
	attestation("store sha256:5b", "https://spdx.dev/Document/v2.3", ["ci-key"]),
	{"sbom": {"format": "SPDX", "specVersion": "2.3", "describes": "app", "componentCount": 0, "truncated": false, "components": []}},
)

# The input for a chain: `steps`, whose last one is the root.
doc_with(steps, extra_attestations) := {
	"version": "hallmark.dev/policy-input/v1",
	"artifact": {"digest": "sha256:aa", "name": "dist/app.tar"},
	"attestations": array.concat([provenance_attestation(steps[count(steps) - 1])], extra_attestations),
	"chain": {"roots": [steps[count(steps) - 1].id], "truncated": false, "steps": steps},
	"context": {"time": now, "facts": {}},
}

good := doc_with([build_step({}), test_step({}), package_step({})], [sbom, approval("store sha256:a1", ["alice"]), approval("store sha256:a2", ["bob"])])

# The same input with its chain's steps replaced.
with_steps(steps) := doc_with(steps, [sbom, approval("store sha256:a1", ["alice"]), approval("store sha256:a2", ["bob"])])

# Every setting, satisfied by `good`.
full_config := {
	"required_steps": ["build", "test", "package"],
	"declared_steps": ["build", "test", "package"],
	"artifact_steps": ["package"],
	"trusted_builders": [builder],
	"builder_keys": ["ci-key"],
	"builder_issuers": [github_issuer],
	"source_repositories": ["https://git.example/acme/app"],
	"source_refs": ["refs/heads/main", "refs/tags/v*"],
	"max_age_hours": 24,
	"step_signers": {"build": ["ci-key"], "test": ["ci-key"], "package": ["ci-key"]},
	"step_inputs": {"build": ["source"], "test": ["build"], "package": ["build"]},
	"source_steps": ["build"],
	"external_inputs": ["sha256:e0"],
	"sbom_required": true,
	"sbom_deny": [{"purl": "pkg:npm/lodash", "versions": "<4.17.21", "ranges": {"intervals": [{"lt": "4.17.21"}], "except": []}}],
	"sbom_unknown_version": "deny",
	"allow_self_hosted_runners": false,
	"approvals": {"required": 2, "approvers": ["alice", "bob", "ci-key"], "max_age_hours": 72},
	"deployments": {"require_approval": true},
	"min_slsa_build_level": 2,
	"slsa_l3_builders": ["https://github.com/slsa-framework/slsa-github-generator/*"],
	"allow_dirty_source": false,
	"allow_mixed_sources": false,
	"allow_failed_steps": ["scan"],
}

# Inputs get the derived facts a real decision's input carries (docs/policy-input.md), computed
# by the same Rust code: hallmark.with_facts exists only under `hallmark policy test`.
denials(doc, cfg) := {v | some v in data.hallmark.deny with input as hallmark.with_facts(doc) with data.hallmark_config as cfg}

codes(doc, cfg) := {v.code | some v in denials(doc, cfg)}

warnings(doc, cfg) := {v.code | some v in data.hallmark.warn with input as hallmark.with_facts(doc) with data.hallmark_config as cfg}

# The denials of one code.
denied(doc, cfg, code) := {v | some v in denials(doc, cfg); v.code == code}
