package hallmark_test.chain

import rego.v1

import data.hallmark_test.fixtures as f

extra := f.material("extra.txt", "sha256:ee", [])

from_build := f.material("bin/app", "sha256:b1", [f.id_build])

test_intact_chain_has_no_gaps if {
	count(f.denials(f.good, {})) == 0
}

test_unattested_input_is_denied if {
	doc := f.with_steps([f.build_step({}), f.test_step({}), f.package_step({"materials": [from_build, extra]})])
	vs := f.denied(doc, {}, "chain.unattested-input")
	count(vs) == 1
	some v in vs
	v.step == "package"
	v.file == "extra.txt"
	v.digest == "sha256:ee"
	v.attestation == "store sha256:03"
	v.msg == `step "package" consumed "extra.txt" (sha256:ee) that no attested step produced and that is not a declared external input`
}

test_declared_external_input_is_allowed if {
	doc := f.with_steps([f.build_step({}), f.test_step({}), f.package_step({"materials": [from_build, extra]})])
	not "chain.unattested-input" in f.codes(doc, {"external_inputs": ["sha256:ee"]})
	"chain.unattested-input" in f.codes(doc, {"external_inputs": ["sha256:ff"]})
}

test_source_step_without_any_source_is_not_a_source_step if {
	# The build step reads src/main.c; recording no source at all, it is not a source step.
	doc := f.with_steps([f.step(f.id_build, "build", [f.material("src/main.c", "sha256:c0", [])], [f.product("bin/app", "sha256:b1")], {"provenance": {"sourceUri": null, "sourceCommit": null}}), f.test_step({}), f.package_step({})])
	some v in f.denied(doc, {}, "chain.unattested-input")
	v.step == "build"
	v.file == "src/main.c"
}

test_step_consuming_produced_material_is_not_a_source_step if {
	doc := f.with_steps([f.build_step({}), f.test_step({}), f.package_step({"materials": [from_build, extra]})])
	some v in f.denied(doc, {}, "chain.unattested-input")
	v.step == "package"
}

test_source_steps_setting_names_the_source_steps if {
	# With source_steps set, only the named steps may read unattested inputs: the package step
	# (a sourceUri, no produced material) would qualify by default but is not named.
	doc := f.with_steps([f.build_step({}), f.test_step({}), f.package_step({"materials": [extra]})])
	not "chain.unattested-input" in f.codes(doc, {})
	vs := f.denied(doc, {"source_steps": ["build"]}, "chain.unattested-input")
	count(vs) == 1
	some v in vs
	v.step == "package"
}

test_step_with_only_a_source_commit_is_a_source_step if {
	doc := f.with_steps([f.build_step({"provenance": {"sourceUri": null}}), f.test_step({}), f.package_step({})])
	not "chain.unattested-input" in f.codes(doc, {})
}

test_named_source_step_needs_no_source if {
	doc := f.with_steps([f.build_step({"provenance": {"sourceUri": null, "sourceCommit": null}}), f.test_step({}), f.package_step({})])
	not "chain.unattested-input" in f.codes(doc, {"source_steps": ["build"]})
	"chain.unattested-input" in f.codes(doc, {})
}

test_unnamed_step_is_described_by_origin if {
	doc := f.with_steps([f.build_step({}), f.test_step({}), f.package_step({"step": null, "materials": [from_build, extra]})])
	some v in f.denied(doc, {}, "chain.unattested-input")
	v.step == null
	v.msg == `the step of store sha256:03 consumed "extra.txt" (sha256:ee) that no attested step produced and that is not a declared external input`
}

test_failed_step_is_denied if {
	doc := f.with_steps([f.build_step({}), f.test_step({"exitCode": 2}), f.package_step({})])
	some v in f.denied(doc, {}, "chain.step-failed")
	v.step == "test"
	v.actual == 2
	v.attestation == "store sha256:02"
}

test_step_without_exit_code_is_not_failed if {
	doc := f.with_steps([f.build_step({}), f.test_step({"exitCode": null}), f.package_step({})])
	not "chain.step-failed" in f.codes(doc, {})
	not "chain.step-failed" in f.codes(f.good, {})
}

test_truncated_chain_is_denied if {
	doc := object.union(f.good, {"chain": {"truncated": true}})
	"chain.truncated" in f.codes(doc, {})
	not "chain.truncated" in f.codes(f.good, {})
}

test_the_source_step_heuristic_warns if {
	"chain.source-step-assumed" in f.warnings(f.good, {})
	not "chain.source-step-assumed" in f.warnings(f.good, {"source_steps": ["build"]})
	not "chain.source-step-assumed" in f.warnings(f.good, {"step_inputs": {"build": ["source"]}})
}

test_input_from_a_step_not_named_for_it_is_denied if {
	from_test := f.material("report.xml", "sha256:e1", [f.id_test])
	doc := f.with_steps([f.build_step({}), f.test_step({}), f.package_step({"materials": [f.material("bin/app", "sha256:b1", [f.id_build]), from_test]})])
	inputs := {"build": ["source"], "test": ["build"], "package": ["build"]}
	some v in f.denied(doc, {"step_inputs": inputs}, "chain.input-from-wrong-step")
	v.step == "package"
	v.file == "report.xml"
	allowed := object.union(inputs, {"package": ["build", "test"]})
	not "chain.input-from-wrong-step" in f.codes(doc, {"step_inputs": allowed})
}

test_a_chain_re_recorded_from_a_tampered_file_is_denied_when_sources_are_named if {
	# Someone changed bin/app after the build and re-recorded only the later steps: the test
	# step now reads a file no attested step produced. By the heuristic alone it would pass as
	# a source step; with the source steps named it cannot.
	tampered := f.material("bin/app", "sha256:bad", [])
	doc := f.with_steps([f.test_step({"id": "sha256:12", "materials": [tampered]})])
	not "chain.unattested-input" in f.codes(doc, {})
	some v in f.denied(doc, {"step_inputs": {"build": ["source"], "test": ["build"]}}, "chain.unattested-input")
	v.step == "test"
	v.file == "bin/app"
}

# --- the step that produced the artifact ---

test_artifact_from_a_wrong_step_is_denied if {
	# The test step's products include dist/app.tar, and it is the root.
	t := f.test_step({"products": [f.product("dist/app.tar", "sha256:aa")]})
	doc := f.with_steps([f.build_step({}), f.package_step({}), t])
	vs := f.denied(doc, f.full_config, "chain.artifact-from-wrong-step")
	count(vs) == 1
	some v in vs
	v.step == "test"
	v.attestation == "store sha256:02"
	v.expected == ["package"]
	v.actual == "test"
	v.msg == `dist/app.tar was produced by step "test" (store sha256:02), not by one of ["package"]`
}

test_artifact_from_an_unnamed_step_is_denied if {
	doc := f.with_steps([f.build_step({}), f.test_step({}), f.package_step({"step": null})])
	some v in f.denied(doc, {"artifact_steps": ["package"]}, "chain.artifact-from-wrong-step")
	v.step == null
	v.msg == `dist/app.tar was produced by the step of store sha256:03, not by one of ["package"]`
}

test_artifact_from_one_of_the_artifact_steps_passes if {
	not "chain.artifact-from-wrong-step" in f.codes(f.good, {"artifact_steps": ["package"]})
	not "chain.artifact-from-wrong-step" in f.codes(f.good, {"artifact_steps": ["test", "package"]})
	t := f.test_step({"products": [f.product("dist/app.tar", "sha256:aa")]})
	not "chain.artifact-from-wrong-step" in f.codes(f.with_steps([f.build_step({}), f.package_step({}), t]), {})
}

test_artifact_without_a_producing_step_is_denied_when_artifact_steps_are_set if {
	doc := object.union(f.good, {"chain": {"roots": []}})
	some v in f.denied(doc, {"artifact_steps": ["package"]}, "chain.artifact-from-wrong-step")
	v.actual == null
	v.msg == `no verified step of the chain produced dist/app.tar (expected one of ["package"])`
	not "chain.artifact-from-wrong-step" in f.codes(doc, {})
}

# --- unpinned inputs ---

unpinned := {"name": "https://example.com/lib.tar", "digest": null, "producedBy": []}

test_unpinned_input_is_denied if {
	doc := f.with_steps([f.build_step({"materials": [f.material("src/main.c", "sha256:c0", []), unpinned]}), f.test_step({}), f.package_step({})])
	vs := f.denied(doc, f.full_config, "chain.unpinned-input")
	count(vs) == 1
	some v in vs
	v.step == "build"
	v.file == "https://example.com/lib.tar"
	v.digest == null
	v.attestation == "store sha256:01"
	v.msg == `step "build" consumed "https://example.com/lib.tar" with no digest: an unpinned input cannot be checked`
	# The source step reads it, and by the heuristic too.
	"chain.unpinned-input" in f.codes(doc, {})
}

test_unpinned_input_is_one_finding if {
	# In a step that is not a source step, the unpinned material is not also unattested.
	doc := f.with_steps([f.build_step({}), f.test_step({}), f.package_step({"materials": [from_build, unpinned]})])
	vs := {v | some v in f.denials(doc, {}); v.file == "https://example.com/lib.tar"}
	count(vs) == 1
	some v in vs
	v.code == "chain.unpinned-input"
	v.step == "package"
}

test_material_without_a_digest_field_is_unpinned if {
	m := {"name": "vendor.tar", "producedBy": []}
	doc := f.with_steps([f.build_step({}), f.test_step({"materials": [from_build, m]}), f.package_step({})])
	some v in f.denied(doc, {}, "chain.unpinned-input")
	v.step == "test"
	v.file == "vendor.tar"
	not "chain.unattested-input" in f.codes(doc, {})
}

test_pinned_inputs_are_not_unpinned if {
	not "chain.unpinned-input" in f.codes(f.good, f.full_config)
}

test_sha512_input_is_checked_like_any_digest if {
	sha512 := f.material("lib.tar", "sha512:5e", [])
	doc := f.with_steps([f.build_step({}), f.test_step({}), f.package_step({"materials": [from_build, sha512]})])
	some v in f.denied(doc, {}, "chain.unattested-input")
	v.digest == "sha512:5e"
	v.msg == `step "package" consumed "lib.tar" (sha512:5e) that no attested step produced and that is not a declared external input`
	not "chain.unpinned-input" in f.codes(doc, {})
	not "chain.unattested-input" in f.codes(doc, {"external_inputs": ["sha512:5e"]})
}

test_wrong_step_message_survives_a_null_digest if {
	# A material with producers but no digest (not what Hallmark records, but it must not stop
	# the evaluation or print garbage).
	m := {"name": "report.xml", "digest": null, "producedBy": [f.id_test]}
	doc := f.with_steps([f.build_step({}), f.test_step({}), f.package_step({"materials": [from_build, m]})])
	some v in f.denied(doc, {"step_inputs": {"build": ["source"], "test": ["build"], "package": ["build"]}}, "chain.input-from-wrong-step")
	v.digest == null
	v.msg == `step "package" consumed "report.xml", produced by {"test"}, not by one of the steps it may take inputs from (["build"])`
	"chain.unpinned-input" in f.codes(doc, {})
}

test_failed_unnamed_step_names_its_origin_once if {
	doc := f.with_steps([f.build_step({}), f.test_step({"step": null, "exitCode": 1}), f.package_step({})])
	some v in f.denied(doc, {}, "chain.step-failed")
	v.msg == "the step of store sha256:02 exited with code 1"
}

test_an_uncommitted_file_is_not_read_from_the_source if {
	planted := f.material("src/evil.c", "sha256:e7", [])
	uncommitted := object.union(planted, {"uncommitted": true})
	doc := f.with_steps([
		f.build_step({"materials": [f.material("src/main.c", "sha256:c0", []), uncommitted]}),
		f.test_step({}),
		f.package_step({}),
	])
	vs := f.denied(doc, {"source_steps": ["build"]}, "chain.unattested-input")
	count(vs) == 1
	some v in vs
	v.file == "src/evil.c"
	endswith(v.msg, "it is not committed to the source (untracked, ignored or hidden from git status)")
	# Committed, the same file is read from the source.
	committed := f.with_steps([
		f.build_step({"materials": [f.material("src/main.c", "sha256:c0", []), planted]}),
		f.test_step({}),
		f.package_step({}),
	])
	not "chain.unattested-input" in f.codes(committed, {"source_steps": ["build"]})
}

test_an_uncommitted_file_does_not_match_source_patterns if {
	uncommitted := object.union(f.material("src/evil.c", "sha256:e7", []), {"uncommitted": true})
	doc := f.with_steps([f.build_step({"materials": [uncommitted]}), f.test_step({}), f.package_step({})])
	"chain.unattested-input" in f.codes(doc, {"step_inputs": {"build": {"source": ["src/**"]}, "test": ["build"], "package": ["build"]}})
}

test_a_failed_attempt_rerun_successfully_is_not_relied_on if {
	# bin/app came from a failed attempt and, byte for byte, from its successful re-run.
	failed := f.step("sha256:0f", "build", [f.material("src/main.c", "sha256:c0", [])], [f.product("bin/app", "sha256:b1")], {"exitCode": 1})
	both := [f.id_build, "sha256:0f"]
	doc := f.with_steps([
		f.build_step({}),
		failed,
		f.test_step({"materials": [f.material("bin/app", "sha256:b1", both)]}),
		f.package_step({"materials": [f.material("bin/app", "sha256:b1", both)]}),
	])
	not "chain.step-failed" in f.codes(doc, {})
	# Alone, the failed attempt is relied on.
	only := f.with_steps([
		failed,
		f.test_step({"materials": [f.material("bin/app", "sha256:b1", ["sha256:0f"])]}),
		f.package_step({"materials": [f.material("bin/app", "sha256:b1", ["sha256:0f"])]}),
	])
	"chain.step-failed" in f.codes(only, {})
}

# A file whose only "producer" is whole-job provenance (attest --provenance over a workspace
# file) came from no attested step: the job's own signature must not vouch for it.
job_over_input := f.step("sha256:09", null, [], [{"name": "vendor.tar", "digest": "sha256:5e"}], {"provenance": {
	"buildType": "https://actions.github.io/buildtypes/workflow/v1",
	"builderId": "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main",
	"step": null,
}})

test_job_provenance_does_not_produce_a_step_input if {
	slipped := f.material("vendor.tar", "sha256:5e", ["sha256:09"])
	steps := [f.build_step({}), f.test_step({}), f.package_step({"materials": [from_build, slipped]}), job_over_input]
	doc := f.with_steps(steps)
	some v in f.denied(doc, {}, "chain.unattested-input")
	v.step == "package"
	v.file == "vendor.tar"
	# The same file from the build step is a hand-over, not an unattested input.
	from_step := f.material("vendor.tar", "sha256:5e", [f.id_build])
	ok := f.with_steps([f.build_step({}), f.test_step({}), f.package_step({"materials": [from_build, from_step]}), job_over_input])
	not "chain.unattested-input" in f.codes(ok, {})
	# With step inputs named, a job provenance is no producer either: the input is unattested, not
	# handed over by an allowed step.
	named := f.codes(doc, {"step_inputs": {"package": ["build"]}})
	"chain.unattested-input" in named
}

# A failed step that produced the artifact stays denied when a whole-job provenance over the same
# artifact is also a root (attest-build-provenance run with `if: always()` after the failure):
# job provenance is no step, so it never succeeds in the failed step's place.
test_failed_root_with_job_provenance_is_still_denied if {
	job := {
		"id": "sha256:0j",
		"origin": "store sha256:0j",
		"step": null,
		"signers": ["ci-key"],
		"signerDetails": [{"keyid": "ci-key"}],
		"verifiedTimes": [],
		"provenance": {"buildType": "https://actions.github.io/buildtypes/workflow/v1", "builderId": f.builder, "sourceUri": f.source, "sourceCommit": "0123abcd", "finishedOn": "2026-11-25T10:06:00Z"},
		"materials": [],
		"products": [f.product("dist/app.tar", "sha256:aa")],
	}
	doc := object.union(
		f.with_steps([f.build_step({}), f.test_step({}), f.package_step({"exitCode": 1}), job]),
		{"chain": {"roots": [f.id_package, "sha256:0j"]}},
	)
	"chain.step-failed" in f.codes(doc, {})
}
