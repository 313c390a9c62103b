# SLSA Build Level of the artifact, from the steps that produced it (input.chain.roots):
#   1: its SLSA provenance verified;
#   2: and the builder is not a self-asserted local builder (builderId not ending in
#      "/self-asserted"): a hosted build platform signed it;
#   3: and the builder is in setting slsa_l3_builders (exact ids, or prefixes written with a
#      trailing "*"; default: "https://github.com/slsa-framework/slsa-github-generator/*").
# The artifact's level is the highest of its root steps' (0 with none). Setting
# min_slsa_build_level: N denies a lower level. `verified_levels` (for VSAs) is always defined.
package hallmark

import rego.v1

default_slsa_l3_builders := ["https://github.com/slsa-framework/slsa-github-generator/*"]

slsa_l3_builders := builders if {
	builders := setting("slsa_l3_builders")
} else := default_slsa_l3_builders

root_steps := [st | some st in steps; st.id in root_ids]

step_build_level(st) := 3 if {
	l3_builder(st.provenance.builderId)
} else := 2 if {
	not endswith(st.provenance.builderId, "/self-asserted")
} else := 1

l3_builder(builder) if builder in slsa_l3_builders

l3_builder(builder) if {
	some entry in slsa_l3_builders
	endswith(entry, "*")
	startswith(builder, trim_suffix(entry, "*"))
}

root_levels := {step_build_level(st) | some st in root_steps}

slsa_build_level := max(root_levels) if count(root_levels) > 0
else := 0

verified_levels := {sprintf("SLSA_BUILD_LEVEL_%d", [slsa_build_level])} if slsa_build_level >= 1
else := set()

deny contains v if {
	required := setting("min_slsa_build_level")
	slsa_build_level < required
	v := {
		"code": "slsa.level-too-low",
		"msg": sprintf("%s reaches SLSA Build Level %d, below the required %v (levels of the steps that produced it: %v)", [artifact_label, slsa_build_level, required, [sprintf("%s: %d", [st.origin, step_build_level(st)]) | some st in root_steps]]),
		"expected": required,
		"actual": slsa_build_level,
	}
}
