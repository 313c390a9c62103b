package hallmark_test.slsa

import rego.v1

import data.hallmark_test.fixtures as f

generator := "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.0.0"

release_workflow := "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main"

self_asserted := "https://hallmark.dev/builders/local/self-asserted"

# The chain with the package (root) step built by `builder`, key-signed by ci-key.
root_built_by(builder) := root_with({"provenance": {"builderId": builder}})

# The chain with the package (root) step built by `builder`, signed keylessly by the workflow
# `signer` (the certificate's identity and buildSignerURI).
keyless_root(builder, signer) := root_with(object.union(f.keyless(signer, signer), {"provenance": {"builderId": builder}}))

root_with(patch) := f.with_steps([f.build_step({}), f.test_step({}), f.package_step(patch)])

# The generator's reusable workflow signs: identity and buildSignerURI are the generator.
generator_root := keyless_root(generator, generator)

level(doc, cfg) := l if {
	l := data.hallmark.slsa_build_level with input as doc with data.hallmark_config as cfg
}

levels(doc, cfg) := l if {
	l := data.hallmark.verified_levels with input as doc with data.hallmark_config as cfg
}

test_self_asserted_root_is_level_1 if {
	levels(root_built_by(self_asserted), {}) == {"SLSA_BUILD_LEVEL_1"}
	levels(root_built_by(self_asserted), {"builder_keys": ["ci-key"]}) == {"SLSA_BUILD_LEVEL_1"}
	# Keyless does not help a self-asserted builder either.
	levels(keyless_root(self_asserted, release_workflow), {}) == {"SLSA_BUILD_LEVEL_1"}
}

test_key_signed_root_is_level_1_unless_a_builder_key if {
	# The hosted builderId is only claimed: a key nobody named as a build platform's signed it.
	level(f.good, {}) == 1
	levels(f.good, {}) == {"SLSA_BUILD_LEVEL_1"}
	levels(f.good, {"builder_keys": ["other-key"]}) == {"SLSA_BUILD_LEVEL_1"}
	levels(f.good, {"builder_keys": ["ci-key"]}) == {"SLSA_BUILD_LEVEL_2"}
}

test_keyless_hosted_root_is_level_2 if {
	levels(keyless_root(f.builder, release_workflow), {}) == {"SLSA_BUILD_LEVEL_2"}
}

test_slsa_github_generator_is_level_3_by_default if {
	levels(generator_root, {}) == {"SLSA_BUILD_LEVEL_3"}
}

test_claimed_generator_builder_id_is_not_level_3 if {
	# The release workflow signed (its identity and buildSignerURI) but wrote the generator's
	# builderId into its provenance: a claim, so level 2.
	levels(keyless_root(generator, release_workflow), {}) == {"SLSA_BUILD_LEVEL_2"}
	# The certificate says the generator, but the builderId names another builder.
	levels(keyless_root(f.builder, generator), {}) == {"SLSA_BUILD_LEVEL_2"}
}

test_key_signed_generator_builder_id_is_not_level_3 if {
	# A trusted build-platform key gives 2; 3 needs the certificate's buildSignerURI.
	levels(root_built_by(generator), {"builder_keys": ["ci-key"]}) == {"SLSA_BUILD_LEVEL_2"}
	levels(root_built_by(generator), {}) == {"SLSA_BUILD_LEVEL_1"}
}

test_certificate_without_build_signer_is_not_a_build_platform if {
	# An identity without a buildSignerURI extension (or an empty one) names no build workflow:
	# neither 3 nor even 2.
	details := [{"identity": generator, "issuer": f.github_issuer, "extensions": {}, "tlogEntries": 1}]
	doc := root_with(object.union(f.keyless(generator, generator), {"signerDetails": details, "provenance": {"builderId": generator}}))
	levels(doc, {}) == {"SLSA_BUILD_LEVEL_1"}
	empty := [{"identity": generator, "issuer": f.github_issuer, "extensions": {"buildSignerURI": ""}, "tlogEntries": 1}]
	levels(root_with(object.union(f.keyless(generator, generator), {"signerDetails": empty})), {}) == {"SLSA_BUILD_LEVEL_1"}
}

# A keyless signature by `identity` from `issuer`, with `extensions` (Fulcio's).
keyless_from(identity, issuer, extensions) := root_with({
	"signers": [sprintf("%s (issuer %s)", [identity, issuer])],
	"signerDetails": [{"identity": identity, "issuer": issuer, "extensions": extensions, "tlogEntries": 1}],
	"verifiedTimes": ["2026-11-25T10:05:03Z"],
})

google := "https://accounts.google.com"

test_personal_identity_is_level_1 if {
	# Someone signed the provenance keylessly with their own e-mail: no build platform did.
	doc := keyless_from("dev@acme.example", google, {})
	levels(doc, {}) == {"SLSA_BUILD_LEVEL_1"}
	some v in f.denied(doc, {"min_slsa_build_level": 2}, "slsa.level-too-low")
	v.actual == 1
	# Even naming a build workflow: the issuer is not a build platform's.
	levels(keyless_from("dev@acme.example", google, {"buildSignerURI": release_workflow}), {}) == {"SLSA_BUILD_LEVEL_1"}
	levels(keyless_from(generator, google, {"buildSignerURI": generator}), {}) == {"SLSA_BUILD_LEVEL_1"}
}

test_gitlab_is_a_build_platform_by_default if {
	job := "https://gitlab.com/acme/app//.gitlab-ci.yml@refs/heads/main"
	levels(keyless_from(job, "https://gitlab.com", {"buildSignerURI": job}), {}) == {"SLSA_BUILD_LEVEL_2"}
}

test_configured_builder_issuers_replace_the_default if {
	ci := "https://ci.example/oidc"
	doc := keyless_from("https://ci.example/acme/app/pipeline", ci, {"buildSignerURI": "https://ci.example/acme/app/pipeline.yml"})
	levels(doc, {}) == {"SLSA_BUILD_LEVEL_1"}
	levels(doc, {"builder_issuers": [ci]}) == {"SLSA_BUILD_LEVEL_2"}
	# GitHub Actions no longer counts once the list leaves it out.
	levels(keyless_root(f.builder, release_workflow), {"builder_issuers": [ci]}) == {"SLSA_BUILD_LEVEL_1"}
	levels(generator_root, {"builder_issuers": [ci]}) == {"SLSA_BUILD_LEVEL_1"}
	# A null setting is the default.
	levels(generator_root, {"builder_issuers": null}) == {"SLSA_BUILD_LEVEL_3"}
}

test_a_build_platform_certificate_among_others_counts if {
	# Two signatures: a person's and the platform's. The platform's gives the level.
	doc := root_with({
		"signers": ["dev@acme.example (issuer https://accounts.google.com)", sprintf("%s (issuer %s)", [generator, f.github_issuer])],
		"signerDetails": [
			{"identity": "dev@acme.example", "issuer": google, "extensions": {}, "tlogEntries": 1},
			{"identity": generator, "issuer": f.github_issuer, "extensions": {"buildSignerURI": generator}, "tlogEntries": 1},
		],
		"provenance": {"builderId": generator},
	})
	levels(doc, {}) == {"SLSA_BUILD_LEVEL_3"}
}

test_configured_l3_builders_replace_the_default if {
	ci := "https://ci.example/builder/v2"
	levels(keyless_root(f.builder, f.builder), {"slsa_l3_builders": [f.builder]}) == {"SLSA_BUILD_LEVEL_3"}
	levels(keyless_root(ci, ci), {"slsa_l3_builders": ["https://ci.example/*"]}) == {"SLSA_BUILD_LEVEL_3"}
	levels(generator_root, {"slsa_l3_builders": [f.builder]}) == {"SLSA_BUILD_LEVEL_2"}
	# A key-signed step stays below 3 whatever the list says.
	levels(root_built_by(f.builder), {"slsa_l3_builders": [f.builder], "builder_keys": ["ci-key"]}) == {"SLSA_BUILD_LEVEL_2"}
}

test_no_root_is_level_0 if {
	doc := object.union(f.good, {"chain": {"roots": []}})
	level(doc, {}) == 0
	levels(doc, {}) == set()
}

test_verified_levels_defined_without_chain if {
	levels({"artifact": {"digest": "sha256:aa", "name": null}, "attestations": []}, {}) == set()
}

test_level_is_the_best_root if {
	a := f.step("sha256:0a", "package", [], [f.product("dist/app.tar", "sha256:aa")], {"provenance": {"builderId": self_asserted}})
	b := f.step("sha256:0b", "package", [], [f.product("dist/app.tar", "sha256:aa")], f.keyless(release_workflow, release_workflow))
	doc := object.union(f.with_steps([a, b]), {"chain": {"roots": ["sha256:0a", "sha256:0b"]}})
	level(doc, {}) == 2
}

test_inner_steps_do_not_raise_the_level if {
	doc := f.with_steps([f.build_step(object.union(f.keyless(generator, generator), {"provenance": {"builderId": generator}})), f.test_step({}), f.package_step({"provenance": {"builderId": self_asserted}})])
	level(doc, {}) == 1
}

test_low_level_is_denied if {
	some v in f.denied(f.good, {"min_slsa_build_level": 2}, "slsa.level-too-low")
	v.expected == 2
	v.actual == 1
	v.msg == "dist/app.tar reaches SLSA Build Level 1, below the required 2 (levels of the steps that produced it: [\"store sha256:03: 1\"])"
	some w in f.denied(f.good, {"min_slsa_build_level": 3, "builder_keys": ["ci-key"]}, "slsa.level-too-low")
	w.actual == 2
}

test_sufficient_level_passes if {
	not "slsa.level-too-low" in f.codes(f.good, {"min_slsa_build_level": 2, "builder_keys": ["ci-key"]})
	not "slsa.level-too-low" in f.codes(keyless_root(f.builder, release_workflow), {"min_slsa_build_level": 2})
	not "slsa.level-too-low" in f.codes(generator_root, {"min_slsa_build_level": 3})
}
