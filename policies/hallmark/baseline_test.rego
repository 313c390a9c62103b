package hallmark_test.baseline

import rego.v1

import data.hallmark_test.fixtures as f

test_intact_chain_passes_every_setting if {
	count(f.denials(f.good, f.full_config)) == 0
	count(f.warnings(f.good, f.full_config)) == 0
}

test_intact_chain_passes_without_config if {
	count(f.denials(f.good, {})) == 0
}

test_nothing_verified_is_denied if {
	doc := object.union(f.good, {"attestations": []})
	"attestation.none" in f.codes(doc, {})
}

test_missing_step_is_denied if {
	doc := f.with_steps([f.build_step({}), f.package_step({})])
	some v in f.denied(doc, f.full_config, "step.missing")
	v.step == "test"
	v.msg == `required step "test" has no verified attestation in the chain of dist/app.tar`
	count(f.denied(doc, f.full_config, "step.missing")) == 1
}

test_missing_step_names_digest_without_name if {
	doc := object.union(f.with_steps([f.build_step({}), f.package_step({})]), {"artifact": {"name": null}})
	some v in f.denied(doc, f.full_config, "step.missing")
	v.msg == `required step "test" has no verified attestation in the chain of sha256:aa`
}

test_step_only_in_an_unlinked_attestation_is_not_in_chain if {
	# A "test" step that is not in the chain (e.g. of another artifact) does not count.
	doc := f.with_steps([f.build_step({}), f.package_step({})])
	"step.missing" in f.codes(doc, {"required_steps": ["test"]})
	not "step.missing" in f.codes(f.good, {"required_steps": ["test"]})
}

test_untrusted_builder_of_inner_step_is_denied if {
	doc := f.with_steps([f.build_step({}), f.test_step({"provenance": {"builderId": "https://evil.example/b"}}), f.package_step({})])
	vs := f.denied(doc, f.full_config, "builder.untrusted")
	count(vs) == 1
	some v in vs
	v.step == "test"
	v.attestation == "store sha256:02"
	v.actual == "https://evil.example/b"
	v.expected == [f.builder]
}

test_trusted_builders_are_allowed if {
	not "builder.untrusted" in f.codes(f.good, {"trusted_builders": [f.builder]})
}

test_foreign_source_is_denied if {
	doc := f.with_steps([f.build_step({"provenance": {"sourceUri": "git+https://git.example/fork/app@refs/heads/main"}}), f.test_step({}), f.package_step({})])
	some v in f.denied(doc, f.full_config, "source.untrusted")
	v.step == "build"
	v.actual == "git+https://git.example/fork/app@refs/heads/main"
}

test_source_with_allowed_prefix_is_denied if {
	doc := f.with_steps([f.build_step({"provenance": {"sourceUri": "git+https://git.example/acme/app-evil@refs/heads/main"}}), f.test_step({}), f.package_step({})])
	"source.untrusted" in f.codes(doc, f.full_config)
}

test_source_equal_to_repository_is_allowed if {
	doc := f.with_steps([f.build_step({"provenance": {"sourceUri": "https://git.example/acme/app"}}), f.test_step({}), f.package_step({})])
	not "source.untrusted" in f.codes(doc, {"source_repositories": ["https://git.example/acme/app"]})
	not "source.untrusted" in f.codes(f.good, {"source_repositories": ["https://git.example/acme/app"]})
}

test_source_clone_url_with_dot_git_is_allowed if {
	uri := "git+https://git.example/acme/app.git@refs/heads/main"
	doc := f.with_steps([f.build_step({"provenance": {"sourceUri": uri}}), f.test_step({}), f.package_step({})])
	not "source.untrusted" in f.codes(doc, {"source_repositories": ["https://git.example/acme/app"]})
	evil := "git+https://git.example/acme/app.gitx@refs/heads/main"
	doc2 := f.with_steps([f.build_step({"provenance": {"sourceUri": evil}}), f.test_step({}), f.package_step({})])
	"source.untrusted" in f.codes(doc2, {"source_repositories": ["https://git.example/acme/app"]})
}

test_disallowed_ref_is_denied if {
	doc := f.with_steps([f.build_step({"provenance": {"sourceUri": "git+https://git.example/acme/app@refs/heads/feature"}}), f.test_step({}), f.package_step({})])
	some v in f.denied(doc, f.full_config, "source.ref-not-allowed")
	v.actual == "refs/heads/feature"
	v.step == "build"
	v.attestation == "store sha256:01"
}

test_ref_glob_does_not_cross_segments if {
	uri := "git+https://git.example/acme/app@refs/tags/v1/evil"
	doc := f.with_steps([f.build_step({"provenance": {"sourceUri": uri}}), f.test_step({}), f.package_step({})])
	"source.ref-not-allowed" in f.codes(doc, {"source_refs": ["refs/heads/main", "refs/tags/v*"]})
}

test_double_star_spans_segments if {
	uri := "git+https://git.example/acme/app@refs/heads/release/2026/11"
	doc := f.with_steps([f.build_step({"provenance": {"sourceUri": uri}}), f.test_step({"provenance": {"sourceUri": uri}}), f.package_step({"provenance": {"sourceUri": uri}})])
	not "source.ref-not-allowed" in f.codes(doc, {"source_refs": ["refs/heads/release/**"]})
	"source.ref-not-allowed" in f.codes(doc, {"source_refs": ["refs/heads/release/*"]})
}

test_tag_ref_matches_glob if {
	tag := "git+https://git.example/acme/app@refs/tags/v1.2.3"
	doc := f.with_steps([f.build_step({"provenance": {"sourceUri": tag}}), f.test_step({"provenance": {"sourceUri": tag}}), f.package_step({"provenance": {"sourceUri": tag}})])
	not "source.ref-not-allowed" in f.codes(doc, {"source_refs": ["refs/tags/v*"]})
	"source.ref-not-allowed" in f.codes(doc, {"source_refs": ["refs/heads/main"]})
}

test_ref_is_after_last_at if {
	uri := "git+ssh://git@git.example/acme/app@refs/heads/main"
	doc := f.with_steps([f.build_step({"provenance": {"sourceUri": uri}}), f.test_step({"provenance": {"sourceUri": uri}}), f.package_step({"provenance": {"sourceUri": uri}})])
	not "source.ref-not-allowed" in f.codes(doc, {"source_refs": ["refs/heads/main"]})
}

test_source_without_ref_is_denied if {
	doc := f.with_steps([f.build_step({"provenance": {"sourceUri": "https://git.example/acme/app"}}), f.test_step({}), f.package_step({})])
	some v in f.denied(doc, {"source_refs": ["refs/heads/main"]}, "source.ref-not-allowed")
	v.actual == null
}

test_old_inner_step_is_denied if {
	doc := f.with_steps([f.build_step({"provenance": {"finishedOn": "2026-11-20T10:00:00Z"}}), f.test_step({}), f.package_step({})])
	vs := f.denied(doc, f.full_config, "provenance.too-old")
	count(vs) == 1
	some v in vs
	v.step == "build"
}

test_old_chain_is_denied if {
	doc := object.union(f.good, {"context": {"time": "2026-11-28T12:00:00Z"}})
	"provenance.too-old" in f.codes(doc, f.full_config)
}

test_self_asserted_builder_warns if {
	doc := f.with_steps([f.build_step({"provenance": {"builderId": "https://hallmark.dev/builders/local/self-asserted"}}), f.test_step({}), f.package_step({})])
	"builder.self-asserted" in f.warnings(doc, {})
	not "builder.self-asserted" in f.warnings(f.good, {})
}

# --- declared steps ---

test_undeclared_step_is_denied if {
	deploy := f.step("sha256:04", "deploy", [f.material("dist/app.tar", "sha256:aa", [f.id_package])], [], {})
	doc := f.with_steps([f.build_step({}), f.test_step({}), f.package_step({}), deploy])
	vs := f.denied(doc, f.full_config, "step.undeclared")
	count(vs) == 1
	some v in vs
	v.step == "deploy"
	v.attestation == "store sha256:04"
	v.expected == ["build", "test", "package"]
	v.actual == "deploy"
	v.msg == `step "deploy" (store sha256:04) is not one of the declared steps ["build", "test", "package"]`
}

test_unnamed_step_is_undeclared if {
	doc := f.with_steps([f.build_step({}), f.test_step({"step": null}), f.package_step({})])
	vs := f.denied(doc, {"declared_steps": ["build", "test", "package"]}, "step.undeclared")
	count(vs) == 1
	some v in vs
	v.step == null
	v.actual == null
	v.attestation == "store sha256:02"
	v.msg == `the step of store sha256:02 names no step; the declared steps are ["build", "test", "package"]`
}

# GitHub's whole-job provenance over the artifact, beside the step that produced it (what
# `attest --provenance` or actions/attest-build-provenance adds): not an undeclared step, not
# the artifact from a wrong step. A job provenance alone is still no step of the chain.
job_provenance := f.step("sha256:09", null, [], [{"name": "dist/app.tar", "digest": "sha256:aa"}], {"provenance": {
	"buildType": "https://actions.github.io/buildtypes/workflow/v1",
	"builderId": "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main",
	"step": null,
}})

test_whole_job_provenance_is_not_a_step if {
	doc := object.union(f.good, {"chain": {
		"roots": [f.id_package, "sha256:09"],
		"steps": array.concat(f.good.chain.steps, [job_provenance]),
	}})
	codes := f.codes(doc, {"declared_steps": ["build", "test", "package"], "artifact_steps": ["package"]})
	not "step.undeclared" in codes
	not "chain.artifact-from-wrong-step" in codes
	# Without the package step, the job provenance does not stand in for it.
	alone := object.union(f.good, {"chain": {"roots": ["sha256:09"], "steps": [job_provenance]}})
	"chain.artifact-from-wrong-step" in f.codes(alone, {"artifact_steps": ["package"]})
	# A nameless step of any other buildType is still undeclared.
	other := object.union(job_provenance, {"provenance": {"buildType": "https://example.com/build/v1"}})
	odd := object.union(f.good, {"chain": {"steps": array.concat(f.good.chain.steps, [other])}})
	"step.undeclared" in f.codes(odd, {"declared_steps": ["build", "test", "package"]})
}

test_declared_steps_pass if {
	not "step.undeclared" in f.codes(f.good, {"declared_steps": ["build", "test", "package"]})
	# Without the setting, any step name is fine.
	doc := f.with_steps([f.build_step({}), f.test_step({"step": "lint"}), f.package_step({"step": null})])
	not "step.undeclared" in f.codes(doc, {})
}

# --- source refs: the ref starts at the first "@refs/" ---

test_branch_named_like_an_allowed_ref_is_denied if {
	# A branch called "feature@refs/heads/main": the text after the last "@" would read
	# refs/heads/main.
	uri := "git+https://git.example/acme/app.git@refs/heads/feature@refs/heads/main"
	doc := f.with_steps([f.build_step({"provenance": {"sourceUri": uri}}), f.test_step({}), f.package_step({})])
	vs := f.denied(doc, f.full_config, "source.ref-not-allowed")
	count(vs) == 1
	some v in vs
	v.step == "build"
	v.actual == "refs/heads/feature@refs/heads/main"
	v.msg == `step "build" (store sha256:01) was built from ref "refs/heads/feature@refs/heads/main" of "git+https://git.example/acme/app.git@refs/heads/feature@refs/heads/main", which matches none of the allowed refs ["refs/heads/main", "refs/tags/v*"]`
}

test_branch_and_tag_refs_are_allowed if {
	main := "git+https://git.example/acme/app.git@refs/heads/main"
	tag := "git+ssh://git@git.example/acme/app@refs/tags/v2.0.1"
	doc := f.with_steps([f.build_step({"provenance": {"sourceUri": main}}), f.test_step({"provenance": {"sourceUri": tag}}), f.package_step({})])
	not "source.ref-not-allowed" in f.codes(doc, f.full_config)
}

test_commit_ref_is_after_the_last_at if {
	uri := "git+ssh://git@git.example/acme/app@0123abcd"
	doc := f.with_steps([f.build_step({"provenance": {"sourceUri": uri}}), f.test_step({}), f.package_step({})])
	some v in f.denied(doc, {"source_refs": ["refs/heads/main"]}, "source.ref-not-allowed")
	v.actual == "0123abcd"
	not "source.ref-not-allowed" in f.codes(doc, {"source_refs": ["refs/heads/main", "0123abcd"]})
}

# --- source must be recorded ---

test_step_without_source_is_denied_when_repositories_are_set if {
	doc := f.with_steps([f.build_step({}), f.test_step({"provenance": {"sourceUri": null}}), f.package_step({})])
	vs := f.denied(doc, f.full_config, "source.unknown")
	count(vs) == 1
	some v in vs
	v.step == "test"
	v.attestation == "store sha256:02"
	v.expected == ["https://git.example/acme/app"]
	v.actual == null
	v.msg == `step "test" (store sha256:02) records no source (provenance sourceUri), so it cannot be checked against the allowed repositories ["https://git.example/acme/app"]`
	not "source.untrusted" in f.codes(doc, f.full_config)
}

test_step_without_source_passes_without_repositories if {
	doc := f.with_steps([f.build_step({}), f.test_step({"provenance": {"sourceUri": null}}), f.package_step({})])
	not "source.unknown" in f.codes(doc, {})
	not "source.unknown" in f.codes(doc, {"trusted_builders": [f.builder]})
	not "source.unknown" in f.codes(f.good, f.full_config)
}

# --- the time of a step: verified, else claimed ---

test_verified_time_decides_the_age if {
	# finishedOn claims a recent finish; the log proved a signature days earlier (the earliest
	# of the verified times counts).
	doc := f.with_steps([f.build_step({"verifiedTimes": ["2026-11-25T10:05:00Z", "2026-11-20T09:00:00Z"]}), f.test_step({}), f.package_step({})])
	vs := f.denied(doc, f.full_config, "provenance.too-old")
	count(vs) == 1
	some v in vs
	v.step == "build"
	v.basis == "verified"
	v.actual == "2026-11-20T09:00:00Z"
	v.msg == `step "build" (store sha256:01) was signed at 2026-11-20T09:00:00Z (verified time), more than 24 hours before 2026-11-25T12:00:00Z`
}

test_verified_time_overrides_an_old_claim if {
	doc := f.with_steps([f.build_step({"verifiedTimes": ["2026-11-25T10:05:00Z"], "provenance": {"finishedOn": "2026-11-01T00:00:00Z"}}), f.test_step({}), f.package_step({})])
	not "provenance.too-old" in f.codes(doc, f.full_config)
}

test_claimed_time_is_named_as_claimed if {
	doc := f.with_steps([f.build_step({"provenance": {"finishedOn": "2026-11-20T10:00:00Z"}}), f.test_step({}), f.package_step({})])
	some v in f.denied(doc, f.full_config, "provenance.too-old")
	v.basis == "claimed"
	v.msg == `step "build" (store sha256:01) finished at 2026-11-20T10:00:00Z (claimed finishedOn, not verified), more than 24 hours before 2026-11-25T12:00:00Z`
}

test_step_without_any_time_is_denied if {
	doc := f.with_steps([f.build_step({}), f.test_step({"verifiedTimes": null, "provenance": {"finishedOn": null}}), f.package_step({})])
	vs := f.denied(doc, f.full_config, "provenance.time-unknown")
	count(vs) == 1
	some v in vs
	v.step == "test"
	v.attestation == "store sha256:02"
	v.expected == 24
	v.actual == null
	v.msg == `step "test" (store sha256:02) has no verified signing time and no valid finishedOn, so its age cannot be checked against max_age_hours 24`
	not "provenance.time-unknown" in f.codes(doc, {})
}

test_unparseable_claimed_time_is_unknown if {
	doc := f.with_steps([f.build_step({"provenance": {"finishedOn": "yesterday"}}), f.test_step({}), f.package_step({})])
	some v in f.denied(doc, {"max_age_hours": 24}, "provenance.time-unknown")
	v.step == "build"
}

test_verified_time_makes_the_time_known if {
	doc := f.with_steps([f.build_step({"verifiedTimes": ["2026-11-25T10:05:00Z"], "provenance": {"finishedOn": null}}), f.test_step({}), f.package_step({})])
	not "provenance.time-unknown" in f.codes(doc, f.full_config)
	not "provenance.time-unknown" in f.codes(f.good, f.full_config)
}

test_future_claimed_time_is_denied if {
	doc := f.with_steps([f.build_step({}), f.test_step({}), f.package_step({"provenance": {"finishedOn": "2027-01-01T00:00:00Z"}})])
	vs := f.denied(doc, f.full_config, "provenance.from-the-future")
	count(vs) == 1
	some v in vs
	v.step == "package"
	v.basis == "claimed"
	v.actual == "2027-01-01T00:00:00Z"
	v.expected == f.now
	v.msg == `step "package" (store sha256:03) finished at 2027-01-01T00:00:00Z (claimed finishedOn, not verified), more than 300 seconds after the verification time 2026-11-25T12:00:00Z`
	not "provenance.too-old" in f.codes(doc, f.full_config)
	not "provenance.from-the-future" in f.codes(doc, {})
}

test_future_verified_time_is_denied if {
	doc := f.with_steps([f.build_step({"verifiedTimes": ["2026-11-25T12:05:01Z"]}), f.test_step({}), f.package_step({})])
	some v in f.denied(doc, f.full_config, "provenance.from-the-future")
	v.basis == "verified"
	v.msg == `step "build" (store sha256:01) was signed at 2026-11-25T12:05:01Z (verified time), more than 300 seconds after the verification time 2026-11-25T12:00:00Z`
}

test_small_clock_skew_is_allowed if {
	doc := f.with_steps([f.build_step({"verifiedTimes": ["2026-11-25T12:05:00Z"]}), f.test_step({"provenance": {"finishedOn": "2026-11-25T12:04:59+00:00"}}), f.package_step({})])
	not "provenance.from-the-future" in f.codes(doc, f.full_config)
}

# --- the origin is named once ---

test_unnamed_step_names_its_origin_once if {
	doc := f.with_steps([f.build_step({}), f.test_step({"step": null, "provenance": {"builderId": "https://evil.example/b"}}), f.package_step({})])
	some v in f.denied(doc, {"trusted_builders": [f.builder]}, "builder.untrusted")
	v.msg == `the step of store sha256:02 was built by "https://evil.example/b", which is not a trusted builder (expected one of ["https://ci.example/builder"])`
	some w in f.denied(doc, {"max_age_hours": 1}, "provenance.too-old")
	w.step == null
	w.msg == `the step of store sha256:02 finished at 2026-11-25T10:05:00Z (claimed finishedOn, not verified), more than 1 hours before 2026-11-25T12:00:00Z`
}

test_named_step_names_its_origin_once if {
	doc := f.with_steps([f.build_step({}), f.test_step({"provenance": {"builderId": "https://evil.example/b"}}), f.package_step({})])
	some v in f.denied(doc, {"trusted_builders": [f.builder]}, "builder.untrusted")
	v.msg == `step "test" (store sha256:02) was built by "https://evil.example/b", which is not a trusted builder (expected one of ["https://ci.example/builder"])`
}

test_missing_builder_id_is_untrusted if {
	# Absent or null, the builderId cannot be trusted (and must not stop the evaluation).
	doc := f.with_steps([f.build_step({"provenance": {"builderId": null}}), f.test_step({}), f.package_step({})])
	some v in f.denied(doc, {"trusted_builders": [f.builder]}, "builder.untrusted")
	v.actual == null
	v.msg == `step "build" (store sha256:01) was built by null, which is not a trusted builder (expected one of ["https://ci.example/builder"])`
}

test_refs_alone_also_need_a_recorded_source if {
	doc := f.with_steps([f.build_step({"provenance": {"sourceUri": null}}), f.test_step({}), f.package_step({})])
	"source.unknown" in f.codes(doc, {"source_refs": ["refs/heads/main"]})
}

# The input's summary (docs/policy-input.md) only saves work: without it, the builder, source,
# ref and time rules find the same steps, by looking at every provenance.
test_the_value_rules_hold_without_the_summary if {
	doc := f.with_steps([
		f.build_step({"provenance": {"sourceUri": "git+https://git.example/fork/app@refs/heads/x", "builderId": "https://b.example/self-asserted"}}),
		f.test_step({"provenance": {"builderId": "https://evil.example/b", "finishedOn": "2020-01-01T00:00:00Z"}}),
		f.package_step({"provenance": {"finishedOn": "2100-01-01T00:00:00Z"}}),
	])
	full := hallmark.with_facts(doc)
	bare := object.remove(full, ["summary"])
	denied := {v | some v in data.hallmark.deny with input as full with data.hallmark_config as f.full_config}
	denied_bare := {v | some v in data.hallmark.deny with input as bare with data.hallmark_config as f.full_config}
	warned := {v | some v in data.hallmark.warn with input as full with data.hallmark_config as f.full_config}
	warned_bare := {v | some v in data.hallmark.warn with input as bare with data.hallmark_config as f.full_config}
	denied == denied_bare
	warned == warned_bare
	codes := {v.code | some v in denied} | {v.code | some v in warned}
	every code in ["builder.untrusted", "builder.self-asserted", "source.untrusted", "source.ref-not-allowed", "provenance.too-old", "provenance.from-the-future"] {
		code in codes
	}
}

# Whole-job provenance anywhere in the chain (not only over the artifact) is judged by the
# builder, source and time rules: a trusted key that signs a job record naming an untrusted
# builder, another repository or an old time is denied, not waved through for naming no step.
deep_job(patch) := f.step("sha256:08", null, [], [{"name": "out/lib.a", "digest": "sha256:0b"}], object.union({"job": true, "provenance": {
	"buildType": "https://actions.github.io/buildtypes/workflow/v1",
	"step": null,
}}, patch))

test_whole_job_steps_in_the_chain_meet_the_builder_source_and_time_rules if {
	steps := array.concat(f.good.chain.steps, [deep_job({})])
	ok := object.union(f.good, {"chain": {"steps": steps}})
	codes := f.codes(ok, f.full_config)
	not "builder.untrusted" in codes
	not "source.untrusted" in codes
	not "step.undeclared" in codes
	bad := [deep_job({"provenance": {
		"builderId": "https://evil.example/b",
		"sourceUri": "git+https://git.example/fork/app@refs/heads/x",
		"finishedOn": "2020-01-01T00:00:00Z",
	}})]
	doc := object.union(f.good, {"chain": {"steps": array.concat(f.good.chain.steps, bad)}})
	some v in f.denied(doc, f.full_config, "builder.untrusted")
	v.attestation == "store sha256:08"
	every code in ["source.untrusted", "source.ref-not-allowed", "provenance.too-old"] {
		some w in f.denied(doc, f.full_config, code)
		w.attestation == "store sha256:08"
	}
}

# A hand-written step may lack record fields: it is still judged (a missing origin or provenance
# does not make the record disappear), and an attestation equal to it is not dropped on its
# behalf while the step itself escapes the rules.
test_a_step_missing_record_fields_is_still_judged if {
	evil := object.remove(f.test_step({"provenance": {"builderId": "https://evil.example/b"}}), ["origin"])
	twin := {"origin": null, "step": "test", "signers": ["ci-key"], "verifiedTimes": [], "provenance": evil.provenance}
	doc := object.union(f.with_steps([f.build_step({}), evil, f.package_step({})]), {"attestations": array.concat(f.good.attestations, [twin])})
	"builder.untrusted" in f.codes(doc, {"trusted_builders": [f.builder]})
	bare := object.remove(f.test_step({}), ["provenance"])
	"builder.untrusted" in f.codes(f.with_steps([f.build_step({}), bare, f.package_step({})]), {"trusted_builders": [f.builder]})
}

# An input with an object where a list belongs (Rego iterates its values all the same) gets no
# summary: the rules look at every record instead of trusting counts that missed some.
test_odd_containers_get_no_summary if {
	evil := f.test_step({"provenance": {"builderId": "https://evil.example/b"}})
	doc := object.union(f.good, {"chain": {"steps": {"a": f.build_step({}), "b": evil}}})
	not hallmark.with_facts(doc).summary
	some v in f.denied(doc, {"trusted_builders": [f.builder]}, "builder.untrusted")
	v.actual == "https://evil.example/b"
	claims := f.test_step({"signerDetails": {"x": {"identity": "i", "issuer": "https://token.actions.githubusercontent.com", "extensions": {"sourceRepositoryURI": "https://git.example/evil/app"}}}})
	odd := f.with_steps([f.build_step({}), claims, f.package_step({})])
	not hallmark.with_facts(odd).summary
	# A summary the document brought is replaced, never trusted.
	forged := object.union(f.with_steps([f.build_step({}), evil, f.package_step({})]), {"summary": {"builderIds": [f.builder]}})
	"builder.untrusted" in f.codes(forged, {"trusted_builders": [f.builder]})
}
