# Builds on self-hosted CI runners. Setting: allow_self_hosted_runners: false denies them
# (absent or true: allowed). The runner comes from the chain steps' runnerEnvironment, and for
# provenance attestations of the artifact from the predicate's
# buildDefinition.internalParameters.github.runner_environment.
package hallmark

import rego.v1

deny contains v if {
	setting("allow_self_hosted_runners") == false
	some r in runners
	r.runner == "self-hosted"
	v := {
		"code": "runner.self-hosted",
		"msg": sprintf("%s ran on a self-hosted runner, which is not allowed", [step_ref(r)]),
		"attestation": r.origin,
		"step": r.step,
		"expected": "a hosted runner",
		"actual": r.runner,
	}
}

runners contains r if {
	some st in steps
	runner := object.get(st, "runnerEnvironment", null)
	is_string(runner)
	r := {"origin": st.origin, "step": object.get(st, "step", null), "runner": runner}
}

runners contains r if {
	some a in input.attestations
	runner := object.get(a, ["statement", "predicate", "buildDefinition", "internalParameters", "github", "runner_environment"], null)
	is_string(runner)
	r := {"origin": a.origin, "step": object.get(a, "step", null), "runner": runner}
}
