# SLSA Build Level of the artifact, from the steps that produced it (input.chain.roots), counting
# only what verification proved, never what the provenance merely claims:
#   1: its SLSA provenance verified;
#   2: and its builderId does not end in "/self-asserted", and a build platform signed it: some
#      signerDetails entry is a certificate (keyless) whose "issuer" is in setting builder_issuers
#      (default: GitHub Actions' and GitLab's OIDC issuers) and that records the build platform's
#      workflow in extensions.buildSignerURI (a non-empty string), or one of its signers is a
#      build-platform key listed in setting builder_keys. A certificate for a person (an e-mail
#      identity from another issuer) stays at 1;
#   3: and one such build-platform certificate's buildSignerURI (the workflow that held the
#      signing identity, as Fulcio recorded it) and the builderId are both in setting
#      slsa_l3_builders (exact ids, or prefixes written with a trailing "*"; default
#      "https://github.com/slsa-framework/slsa-github-generator/*"): a workflow that only claims
#      the generator's builderId stays at 2.
# The artifact's level is the highest of its root steps' (0 with none). Setting
# min_slsa_build_level: N denies a lower level. `verified_levels` (for VSAs) is always defined.
package hallmark

import rego.v1

# The OIDC issuers of build platforms, whose certificates name the workflow that signed.
default_builder_issuers := ["https://token.actions.githubusercontent.com", "https://gitlab.com"]

builder_issuers := issuers if {
	issuers := settings.builder_issuers
} else := default_builder_issuers

default_slsa_l3_builders := ["https://github.com/slsa-framework/slsa-github-generator/*"]

slsa_l3_builders := builders if {
	builders := settings.slsa_l3_builders
} else := default_slsa_l3_builders

# Level 2 (or 3) is judged once per step: a function is not memoised, and each branch of an
# else chain would judge it again.
step_build_level(st) := platform_level(st) if level_2(st)
else := 1

# The level of a step that reaches level 2: 3 when its builder and a build-platform certificate
# both name an SLSA Level 3 builder.
platform_level(st) := 3 if {
	some d in platform_details(st)
	l3_builder(st.provenance.builderId)
	l3_builder(object.get(d, ["extensions", "buildSignerURI"], null))
} else := 2

level_2(st) if {
	builder := st.provenance.builderId
	is_string(builder)
	not endswith(builder, "/self-asserted")
	platform_signed(st)
}

platform_signed(st) if count(platform_details(st)) > 0

platform_signed(st) if {
	some s in object.get(st, "signers", [])
	s in settings.builder_keys
}

# The certificate (keyless) signatures of a step.
keyless_details(st) := [d |
	some d in object.get(st, "signerDetails", [])
	is_object(d)
	is_string(object.get(d, "identity", null))
]

# The certificates of a step issued to a build platform's workflow: an issuer in
# builder_issuers, and a non-empty extensions.buildSignerURI.
platform_details(st) := [d |
	some d in keyless_details(st)
	object.get(d, "issuer", null) in builder_issuers
	uri := object.get(d, ["extensions", "buildSignerURI"], null)
	is_string(uri)
	uri != ""
]

l3_builder(builder) if {
	is_string(builder)
	builder in slsa_l3_builders
}

l3_builder(builder) if {
	is_string(builder)
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
	required := settings.min_slsa_build_level
	slsa_build_level < required
	v := {
		"code": "slsa.level-too-low",
		"msg": sprintf("%s reaches SLSA Build Level %d, below the required %v (levels of the steps that produced it: %v)", [artifact_label, slsa_build_level, required, [sprintf("%s: %d", [st.origin, step_build_level(st)]) | some st in root_steps]]),
		"expected": required,
		"actual": slsa_build_level,
	}
}
