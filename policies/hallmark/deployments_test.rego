package hallmark_test.deployments

import rego.v1

import data.hallmark_test.fixtures as f

deployment_type := "https://hallmark.dev/deployment/v1"

cfg := {"deployments": {"require_approval": true}, "approvals": {"required": 1, "approvers": ["alice", "bob", "ci-key"]}}

# A deployment record to production at 11:30, half an hour after the default approval (11:00).
deployment(origin, patch) := f.attestation_with(
	origin,
	deployment_type,
	["deployer"],
	object.union({"target": "plant-a/line-3/hmi-2", "environment": "production", "replaces": null, "lots": [], "deployedAt": "2026-11-25T11:30:00Z"}, patch),
)

doc(attestations) := f.doc_with([f.build_step({}), f.test_step({}), f.package_step({})], attestations)

in_env(d, env) := object.union(d, {"context": {"facts": {"environment": env}}})

unapproved(d, c) := f.denied(d, c, "deployment.unapproved")

test_not_required_by_default if {
	d := doc([deployment("store sha256:d1", {})])
	count(unapproved(d, {})) == 0
	count(unapproved(d, {"approvals": {"required": 1}})) == 0
}

test_a_deployment_without_any_approval_is_denied if {
	vs := unapproved(doc([deployment("store sha256:d1", {})]), cfg)
	count(vs) == 1
	some v in vs
	v.deployment == "store sha256:d1"
	v.target == "plant-a/line-3/hmi-2"
	v.environment == "production"
	v.actual == 0
	v.expected == 1
	v.msg == `dist/app.tar was deployed to "plant-a/line-3/hmi-2" for environment "production" at 2026-11-25T11:30:00Z (deployedAt) (store sha256:d1) with 0 of the 1 approvals it needs signed by then ([])`
}

test_an_approval_before_the_deployment_allows_it if {
	count(unapproved(doc([f.approval("store sha256:a1", ["alice"]), deployment("store sha256:d1", {})]), cfg)) == 0
	count(unapproved(doc([f.approval_with("store sha256:a1", ["alice"], {"environment": "production"}), deployment("store sha256:d1", {})]), cfg)) == 0
	# At the same second counts too.
	count(unapproved(doc([f.approval_with("store sha256:a1", ["alice"], {"approvedAt": "2026-11-25T11:30:00Z"}), deployment("store sha256:d1", {})]), cfg)) == 0
}

test_an_approval_for_another_environment_does_not_count if {
	d := doc([f.approval_with("store sha256:a1", ["alice"], {"environment": "staging"}), deployment("store sha256:d1", {})])
	some v in unapproved(d, cfg)
	v.actual == 0
}

test_a_deployment_without_environment_needs_an_approval_without_one if {
	no_env := deployment("store sha256:d1", {"environment": null})
	some v in unapproved(doc([f.approval_with("store sha256:a1", ["alice"], {"environment": "production"}), no_env]), cfg)
	v.msg == `dist/app.tar was deployed to "plant-a/line-3/hmi-2" for no particular environment at 2026-11-25T11:30:00Z (deployedAt) (store sha256:d1) with 0 of the 1 approvals it needs signed by then ([])`
	count(unapproved(doc([f.approval("store sha256:a1", ["alice"]), no_env]), cfg)) == 0
}

test_an_approval_after_the_deployment_does_not_count if {
	late := f.approval_with("store sha256:a1", ["alice"], {"approvedAt": "2026-11-25T11:30:01Z"})
	some v in unapproved(doc([late, deployment("store sha256:d1", {})]), cfg)
	v.actual == 0
}

test_the_verified_time_of_an_approval_wins_over_its_claim if {
	# Claims 11:00, but the log saw it signed at 11:45: after the deployment.
	backdated := object.union(f.approval("store sha256:a1", ["alice"]), {"verifiedTimes": ["2026-11-25T11:45:00Z"]})
	some v in unapproved(doc([backdated, deployment("store sha256:d1", {})]), cfg)
	v.actual == 0
}

test_a_record_signed_before_its_claimed_deployment_is_judged_at_its_signing if {
	# Signed at 10:30 (verified), claiming 11:30: the 11:00 approval came after it.
	early := object.union(deployment("store sha256:d1", {}), {"verifiedTimes": ["2026-11-25T10:30:00Z"]})
	some v in unapproved(doc([f.approval("store sha256:a1", ["alice"]), early]), cfg)
	v.msg == `dist/app.tar was deployed to "plant-a/line-3/hmi-2" for environment "production" at 2026-11-25T10:30:00Z (verified time) (store sha256:d1) with 0 of the 1 approvals it needs signed by then ([])`
}

test_a_record_without_a_time_is_denied if {
	timeless := deployment("store sha256:d1", {"deployedAt": "soon"})
	some v in unapproved(doc([f.approval("store sha256:a1", ["alice"]), timeless]), cfg)
	contains(v.msg, "at a time it does not record")
}

test_unlisted_approvers_and_builders_do_not_count if {
	some v in unapproved(doc([f.approval("store sha256:a1", ["mallory"]), deployment("store sha256:d1", {})]), cfg)
	v.actual == 0
	# ci-key signed the build steps.
	some w in unapproved(doc([f.approval("store sha256:a1", ["ci-key"]), deployment("store sha256:d1", {})]), cfg)
	w.actual == 0
	# Without an approvers list any signer counts.
	count(unapproved(doc([f.approval("store sha256:a1", ["mallory"]), deployment("store sha256:d1", {})]), {"deployments": {"require_approval": true}})) == 0
}

test_the_required_number_of_approvals_applies if {
	two := object.union(cfg, {"approvals": {"required": 2}})
	d := doc([f.approval("store sha256:a1", ["alice"]), deployment("store sha256:d1", {})])
	some v in unapproved(d, two)
	v.expected == 2
	v.approvers == ["alice"]
	count(unapproved(doc([f.approval("store sha256:a1", ["alice"]), f.approval("store sha256:a2", ["bob"]), deployment("store sha256:d1", {})]), two)) == 0
}

test_each_record_is_judged_and_a_rollback_is_one_more if {
	# Deployed at 11:30 (approved at 11:00), rolled back to at 12:00 after a production-only
	# approval at 11:50: both approved. Without the later approval the first still passes.
	rollback := deployment("store sha256:d2", {"deployedAt": "2026-11-25T12:00:00Z", "replaces": "sha256:bb"})
	approvals := [f.approval("store sha256:a1", ["alice"]), f.approval_with("store sha256:a2", ["bob"], {"environment": "production", "approvedAt": "2026-11-25T11:50:00Z"})]
	count(unapproved(doc(array.concat(approvals, [deployment("store sha256:d1", {}), rollback])), cfg)) == 0
	late := [f.approval_with("store sha256:a2", ["bob"], {"approvedAt": "2026-11-25T11:50:00Z"})]
	vs := unapproved(doc(array.concat(late, [deployment("store sha256:d1", {}), rollback])), cfg)
	{v.deployment | some v in vs} == {"store sha256:d1"}
}

test_the_decision_environment_selects_the_records if {
	staging := deployment("store sha256:d2", {"environment": "staging"})
	d := doc([f.approval_with("store sha256:a1", ["alice"], {"environment": "production"}), deployment("store sha256:d1", {}), staging])
	{v.deployment | some v in unapproved(d, cfg)} == {"store sha256:d2"}
	# Deciding for production: the staging record is not judged.
	count(unapproved(in_env(d, "production"), cfg)) == 0
	{v.deployment | some v in unapproved(in_env(d, "staging"), cfg)} == {"store sha256:d2"}
}

test_unknown_deployment_settings_warn if {
	"config.unknown-key" in f.warnings(doc([]), {"deployments": {"require_aproval": true}})
	not "config.unknown-key" in f.warnings(doc([]), cfg)
}
