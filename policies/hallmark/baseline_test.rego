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
