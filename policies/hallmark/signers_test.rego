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
