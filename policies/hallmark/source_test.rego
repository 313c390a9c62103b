package hallmark_test.source

import rego.v1

import data.hallmark_test.fixtures as f

# --- source.commit-mismatch ---

# The job built another checkout than the commit CI ran for (pull_request_target checking out a
# fork's head): the provenance records the checkout and keeps the platform's claim.
claimed_other := {"provenance": {"sourceCiClaim": {"commit": "ffff0000", "ref": "refs/heads/main", "repository": "https://git.example/acme/app"}}}

test_ci_commit_other_than_the_checkout_is_denied if {
	doc := f.with_steps([f.build_step(claimed_other), f.test_step({}), f.package_step({})])
	some v in f.denied(doc, {}, "source.commit-mismatch")
	v.step == "build"
	v.expected.commit == "ffff0000"
	v.actual.commit == "0123abcd"
	v.attestation == "store sha256:01"
}

test_agreeing_checkout_is_not_a_mismatch if {
	not "source.commit-mismatch" in f.codes(f.good, {})
}

# --- source.dirty ---

test_dirty_source_is_denied_by_default if {
	doc := f.with_steps([f.build_step({"provenance": {"sourceDirty": true}}), f.test_step({}), f.package_step({})])
	some v in f.denied(doc, {}, "source.dirty")
	v.step == "build"
	not "source.dirty" in f.codes(doc, {"allow_dirty_source": true})
}

test_clean_or_unknown_source_is_not_dirty if {
	doc := f.with_steps([f.build_step({"provenance": {"sourceDirty": false}}), f.test_step({}), f.package_step({})])
	not "source.dirty" in f.codes(doc, {})
	not "source.dirty" in f.codes(f.good, {})
}

# --- source.claim-mismatch ---

keyless_build(patch) := f.build_step(object.union(f.keyless("https://git.example/acme/app/.ci/build.yml@refs/heads/main", f.builder), patch))

certificate(extensions) := {"signerDetails": [{
	"identity": "https://git.example/acme/app/.ci/build.yml@refs/heads/main",
	"issuer": f.github_issuer,
	"extensions": extensions,
	"tlogEntries": 1,
}]}

test_keyless_step_agreeing_with_its_certificate_passes if {
	ext := {"sourceRepositoryURI": "https://git.example/acme/app.git", "sourceRepositoryRef": "refs/heads/main", "sourceRepositoryDigest": "0123ABCD"}
	doc := f.with_steps([keyless_build(certificate(ext)), f.test_step({}), f.package_step({})])
	not "source.claim-mismatch" in f.codes(doc, {})
}

test_statement_claiming_another_commit_than_the_certificate_is_denied if {
	ext := {"sourceRepositoryURI": "https://git.example/acme/app", "sourceRepositoryRef": "refs/heads/main", "sourceRepositoryDigest": "9999aaaa"}
	doc := f.with_steps([keyless_build(certificate(ext)), f.test_step({}), f.package_step({})])
	vs := f.denied(doc, {}, "source.claim-mismatch")
	count(vs) == 1
	some v in vs
	v.expected == "9999aaaa"
	v.actual == "0123abcd"
	v.step == "build"
}

test_statement_claiming_another_ref_or_repository_is_denied if {
	ext := {"sourceRepositoryURI": "https://git.example/evil/app", "sourceRepositoryRef": "refs/heads/feature"}
	doc := f.with_steps([keyless_build(certificate(ext)), f.test_step({}), f.package_step({})])
	actual := {v.actual | some v in f.denied(doc, {}, "source.claim-mismatch")}
	actual == {"https://git.example/acme/app", "refs/heads/main"}
}

test_statement_with_a_source_but_no_ref_is_denied_when_the_certificate_names_one if {
	ext := {"sourceRepositoryRef": "refs/heads/main"}
	doc := f.with_steps([
		keyless_build(object.union(certificate(ext), {"provenance": {"sourceUri": "git+https://git.example/acme/app"}})),
		f.test_step({}),
		f.package_step({}),
	])
	some v in f.denied(doc, {}, "source.claim-mismatch")
	v.actual == null
}

test_key_signed_steps_have_no_certificate_to_compare if {
	not "source.claim-mismatch" in f.codes(f.good, {})
}

# --- chain.mixed-sources ---

test_an_input_built_from_another_commit_is_denied if {
	doc := f.with_steps([f.build_step({"provenance": {"sourceCommit": "aaaa1111"}}), f.test_step({}), f.package_step({})])
	vs := f.denied(doc, {}, "chain.mixed-sources")
	count(vs) == 2
	some v in vs
	v.step == "package"
	v.file == "bin/app"
	v.expected == "0123abcd"
	v.actual == ["aaaa1111"]
	not "chain.mixed-sources" in f.codes(doc, {"allow_mixed_sources": true})
}

test_an_input_built_in_another_pipeline_run_is_denied if {
	run1 := {"provenance": {"pipelineRun": "https://git.example/acme/app/actions/runs/1"}}
	run2 := {"provenance": {"pipelineRun": "https://git.example/acme/app/actions/runs/2"}}
	doc := f.with_steps([f.build_step(run1), f.test_step(run2), f.package_step(run2)])
	some v in f.denied(doc, {}, "chain.mixed-sources")
	v.expected == "https://git.example/acme/app/actions/runs/2"
	v.actual == ["https://git.example/acme/app/actions/runs/1"]
}

test_an_identical_output_rebuilt_from_another_commit_does_no_harm if {
	# bin/app was built twice with the same bytes: from the old commit and from the current one.
	old_build := f.step("sha256:00", "build", [f.material("src/main.c", "sha256:c0", [])], [f.product("bin/app", "sha256:b1")], {"provenance": {"sourceCommit": "aaaa1111"}})
	both := [f.id_build, "sha256:00"]
	doc := f.with_steps([
		f.build_step({}),
		old_build,
		f.test_step({"materials": [f.material("bin/app", "sha256:b1", both)]}),
		f.package_step({"materials": [f.material("bin/app", "sha256:b1", both)]}),
	])
	not "chain.mixed-sources" in f.codes(doc, {})
}

test_a_step_outside_the_pipeline_consuming_its_outputs_is_denied if {
	run := {"provenance": {"pipelineRun": "https://git.example/acme/app/actions/runs/1"}}
	doc := f.with_steps([f.build_step(run), f.test_step(run), f.package_step({})])
	some v in f.denied(doc, {}, "chain.mixed-sources")
	v.step == "package"
	v.expected == null
}

test_one_commit_and_one_run_pass if {
	run := {"provenance": {"pipelineRun": "https://git.example/acme/app/actions/runs/1"}}
	doc := f.with_steps([f.build_step(run), f.test_step(run), f.package_step(run)])
	not "chain.mixed-sources" in f.codes(doc, {})
	not "chain.mixed-sources" in f.codes(f.good, {})
}

# --- chain.step-failed, allowed by name ---

test_failed_step_allowed_only_when_named if {
	doc := f.with_steps([f.build_step({}), f.test_step({"exitCode": 3}), f.package_step({})])
	"chain.step-failed" in f.codes(doc, {})
	"chain.step-failed" in f.codes(doc, {"allow_failed_steps": ["build"]})
	not "chain.step-failed" in f.codes(doc, {"allow_failed_steps": ["test"]})
}

test_repository_and_ref_are_split_as_the_ref_rule_splits_them if {
	ext := {"sourceRepositoryURI": "ssh://git@git.example/acme/app", "sourceRepositoryRef": "refs/heads/feature@refs/heads/main"}
	doc := f.with_steps([
		keyless_build(object.union(certificate(ext), {"provenance": {"sourceUri": "git+ssh://git@git.example/acme/app.git@refs/heads/feature@refs/heads/main"}})),
		f.test_step({}),
		f.package_step({}),
	])
	not "source.claim-mismatch" in f.codes(doc, {})
}
