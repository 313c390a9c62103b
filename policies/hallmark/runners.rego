# Builds on self-hosted CI runners. Setting: allow_self_hosted_runners: false denies them
# (absent or true: allowed). The runner comes from the chain steps' runnerEnvironment, and for
# provenance attestations of the artifact from the predicate's
# buildDefinition.internalParameters.github.runner_environment.
package hallmark

import rego.v1

deny contains v if {
	settings.allow_self_hosted_runners == false
	some st in steps
	st.runnerEnvironment == "self-hosted"
	v := self_hosted(st.origin, object.get(st, "step", null))
}

deny contains v if {
	settings.allow_self_hosted_runners == false
	some a in input.attestations
	object.get(a, ["statement", "predicate", "buildDefinition", "internalParameters", "github", "runner_environment"], null) == "self-hosted"
	v := self_hosted(a.origin, object.get(a, "step", null))
}

self_hosted(origin, step) := {
	"code": "runner.self-hosted",
	"msg": sprintf("%s ran on a self-hosted runner, which is not allowed", [step_ref({"origin": origin, "step": step})]),
	"attestation": origin,
	"step": step,
	"expected": "a hosted runner",
	"actual": "self-hosted",
}
