package hallmark_test.slsa

import rego.v1

import data.hallmark_test.fixtures as f

generator := "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.0.0"

self_asserted := "https://hallmark.dev/builders/local/self-asserted"

# The chain with the package (root) step built by `builder`.
root_built_by(builder) := f.with_steps([f.build_step({}), f.test_step({}), f.package_step({"provenance": {"builderId": builder}})])

level(doc, cfg) := l if {
	l := data.hallmark.slsa_build_level with input as doc with data.hallmark_config as cfg
}

levels(doc, cfg) := l if {
	l := data.hallmark.verified_levels with input as doc with data.hallmark_config as cfg
}

test_self_asserted_root_is_level_1 if {
	level(root_built_by(self_asserted), {}) == 1
	levels(root_built_by(self_asserted), {}) == {"SLSA_BUILD_LEVEL_1"}
}

test_hosted_root_is_level_2 if {
	level(f.good, {}) == 2
	levels(f.good, {}) == {"SLSA_BUILD_LEVEL_2"}
}

test_slsa_github_generator_is_level_3_by_default if {
	levels(root_built_by(generator), {}) == {"SLSA_BUILD_LEVEL_3"}
}

test_configured_l3_builders_replace_the_default if {
	levels(root_built_by(f.builder), {"slsa_l3_builders": [f.builder]}) == {"SLSA_BUILD_LEVEL_3"}
	levels(root_built_by("https://ci.example/builder/v2"), {"slsa_l3_builders": ["https://ci.example/*"]}) == {"SLSA_BUILD_LEVEL_3"}
	levels(root_built_by(generator), {"slsa_l3_builders": [f.builder]}) == {"SLSA_BUILD_LEVEL_2"}
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
	b := f.step("sha256:0b", "package", [], [f.product("dist/app.tar", "sha256:aa")], {})
	doc := object.union(f.with_steps([a, b]), {"chain": {"roots": ["sha256:0a", "sha256:0b"]}})
	level(doc, {}) == 2
}

test_inner_steps_do_not_raise_the_level if {
	doc := f.with_steps([f.build_step({"provenance": {"builderId": generator}}), f.test_step({}), f.package_step({"provenance": {"builderId": self_asserted}})])
	level(doc, {}) == 1
}

test_low_level_is_denied if {
	some v in f.denied(f.good, {"min_slsa_build_level": 3}, "slsa.level-too-low")
	v.expected == 3
	v.actual == 2
}

test_sufficient_level_passes if {
	not "slsa.level-too-low" in f.codes(f.good, {"min_slsa_build_level": 2})
	not "slsa.level-too-low" in f.codes(root_built_by(generator), {"min_slsa_build_level": 3})
}
