package hallmark_test.signers

import rego.v1

import data.hallmark_test.fixtures as f

cfg := {"step_signers": {"build": ["ci-key"], "test": ["test-key", "tester@example.com (issuer https://accounts.example)"]}}

test_allowed_signers_pass if {
	doc := f.with_steps([f.build_step({}), f.test_step({"signers": ["other-key", "test-key"]}), f.package_step({})])
	not "step.signer-not-allowed" in f.codes(doc, cfg)
}

test_keyless_identity_is_a_signer if {
	doc := f.with_steps([f.build_step({}), f.test_step({"signers": ["tester@example.com (issuer https://accounts.example)"]}), f.package_step({})])
	not "step.signer-not-allowed" in f.codes(doc, cfg)
}

test_wrong_signer_is_denied if {
	# The build key signed the test step: not allowed for "test".
	vs := f.denied(f.good, cfg, "step.signer-not-allowed")
	count(vs) == 1
	some v in vs
	v.step == "test"
	v.attestation == "store sha256:02"
	v.actual == ["ci-key"]
	v.expected == ["test-key", "tester@example.com (issuer https://accounts.example)"]
	v.msg == `step "test" (store sha256:02) was signed by ["ci-key"], which is not allowed for that step (expected one of ["test-key", "tester@example.com (issuer https://accounts.example)"])`
}

test_unlisted_steps_are_not_checked if {
	not "step.signer-not-allowed" in f.codes(f.good, {"step_signers": {"deploy": ["nobody"]}})
}

# --- approvers may not sign steps ---

approver_cfg := {
	"step_signers": {"build": ["ci-key"], "package": ["ci-key", "release-key"]},
	"approvals": {"required": 1, "approvers": ["alice", "release-key"]},
}

test_step_signed_by_an_approver_only_is_denied if {
	# The test step, whose name step_signers does not list, is signed by alice's approval key.
	doc := f.with_steps([f.build_step({}), f.test_step({"signers": ["alice"]}), f.package_step({})])
	vs := f.denied(doc, approver_cfg, "step.signed-by-approver")
	count(vs) == 1
	some v in vs
	v.step == "test"
	v.attestation == "store sha256:02"
	v.actual == ["alice"]
	v.expected == ["ci-key", "release-key"]
	v.msg == `step "test" (store sha256:02) was signed only by ["alice"], listed as approvers and not as step signers: an approver may not sign a step of the build`
}

test_unnamed_step_signed_by_an_approver_is_denied if {
	doc := f.with_steps([f.build_step({}), f.test_step({"step": null, "signers": ["alice"]}), f.package_step({})])
	some v in f.denied(doc, {"approvals": {"required": 1, "approvers": ["alice"]}}, "step.signed-by-approver")
	v.step == null
	v.msg == `the step of store sha256:02 was signed only by ["alice"], listed as approvers and not as step signers: an approver may not sign a step of the build`
}

test_approvers_who_also_sign_steps_may_sign if {
	# release-key is both an approver and a step signer; ci-key co-signing makes alice's
	# signature not the only one.
	doc := f.with_steps([f.build_step({}), f.test_step({"signers": ["alice", "ci-key"]}), f.package_step({"signers": ["release-key"]})])
	not "step.signed-by-approver" in f.codes(doc, approver_cfg)
	not "step.signed-by-approver" in f.codes(f.good, approver_cfg)
}

test_approver_signing_is_not_checked_without_approvers if {
	doc := f.with_steps([f.build_step({}), f.test_step({"signers": ["alice"]}), f.package_step({})])
	not "step.signed-by-approver" in f.codes(doc, {"step_signers": {"build": ["ci-key"]}})
	not "step.signed-by-approver" in f.codes(doc, {"approvals": {"required": 1}})
	# Without step_signers every approver is approver-only.
	"step.signed-by-approver" in f.codes(doc, {"approvals": {"required": 1, "approvers": ["alice"]}})
}

test_a_root_copy_signed_by_another_trusted_key_does_not_deny if {
	# The chain step merges the copies' signers; the per-copy attestation record of the root
	# signed by another key alone does not make the step's signers wrong.
	pkg := f.package_step({"signers": ["ci-key", "other-key"]})
	doc := object.union(f.with_steps([f.build_step({}), f.test_step({}), pkg]), {"attestations": [object.union(f.provenance_attestation(pkg), {"signers": ["other-key"]})]})
	not "step.signer-not-allowed" in f.codes(doc, {"step_signers": {"package": ["ci-key"]}})
	only_other := f.with_steps([f.build_step({}), f.test_step({}), f.package_step({"signers": ["other-key"]})])
	"step.signer-not-allowed" in f.codes(only_other, {"step_signers": {"package": ["ci-key"]}})
}
