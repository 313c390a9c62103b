# Integrity of the chain behind the artifact. Always on.
#
# - chain.unattested-input: a step consumed a material that no verified step of the chain
#   produced, that is not a declared external input (setting external_inputs: ["sha256:..."]),
#   and the step is not a source step. Source steps: the names in setting source_steps when it
#   is set; otherwise every step that records a source (provenance sourceUri or sourceCommit)
#   and none of whose materials has a producer (it reads its inputs from the source checkout).
# - chain.step-failed: a step recorded a non-zero exit code.
# - chain.truncated: a size limit stopped the walk, so the chain was not fully checked.
package hallmark

import rego.v1

deny contains v if {
	some st in steps
	not source_step(st)
	some m in st.materials
	count(producers(m)) == 0
	not external_input(m.digest)
	v := {
		"code": "chain.unattested-input",
		"msg": sprintf("%s consumed %q (%s) that no attested step produced and that is not a declared external input", [step_desc(st), m.name, m.digest]),
		"step": object.get(st, "step", null),
		"file": m.name,
		"digest": m.digest,
		"attestation": st.origin,
	}
}

external_input(digest) if digest in setting("external_inputs")

source_step(st) if st.step in setting("source_steps")

source_step(st) if {
	not setting("source_steps")
	records_source(st)
	not consumes_produced_material(st)
}

records_source(st) if is_string(st.provenance.sourceUri)

records_source(st) if is_string(st.provenance.sourceCommit)

consumes_produced_material(st) if {
	some m in st.materials
	count(producers(m)) > 0
}

deny contains v if {
	some st in steps
	code := object.get(st, "exitCode", null)
	is_number(code)
	code != 0
	v := {
		"code": "chain.step-failed",
		"msg": sprintf("%s (%s) exited with code %v", [step_desc(st), st.origin, code]),
		"step": object.get(st, "step", null),
		"attestation": st.origin,
		"expected": 0,
		"actual": code,
	}
}

deny contains v if {
	object.get(input, ["chain", "truncated"], false) == true
	v := {
		"code": "chain.truncated",
		"msg": sprintf("the chain of %s was cut short by a size limit (%d steps walked), so it could not be fully checked", [artifact_label, count(steps)]),
	}
}
