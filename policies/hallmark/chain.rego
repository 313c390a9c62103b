# Integrity of the chain behind the artifact. Always on.
#
# - chain.unattested-input: a step consumed a material that no verified step of the chain
#   produced, that is not a declared external input (setting external_inputs: ["sha256:..."]),
#   and the step is not a source step. Source steps: the names in setting source_steps when it
#   is set; otherwise every step that records a source (provenance sourceUri or sourceCommit)
#   and none of whose materials has a producer (it reads its inputs from the source checkout).
# - chain.input-from-wrong-step: with setting step_inputs ({"package": ["build", "test"]}), a
#   material a step consumed was produced only by steps not named for it (as in-toto's
#   MATCH ... FROM). "source" in the list makes the step a source step.
# - chain.source-step-assumed (warning): source_steps is not set, so steps were taken as source
#   steps by the heuristic above; name them (source_steps, or "source" in step_inputs) so a chain
#   cut short and re-recorded from a tampered file cannot pass as starting at the source.
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

# Source steps are named when source_steps is set, or when step_inputs lists "source" for them.
source_steps_named if setting("source_steps")

source_steps_named if {
	some _, inputs in setting("step_inputs")
	"source" in inputs
}

source_step(st) if st.step in setting("source_steps")

source_step(st) if "source" in object.get(setting("step_inputs"), st.step, [])

source_step(st) if assumed_source_step(st)

assumed_source_step(st) if {
	not source_steps_named
	records_source(st)
	not consumes_produced_material(st)
}

warn contains v if {
	some st in steps
	assumed_source_step(st)
	some m in st.materials
	count(producers(m)) == 0
	v := {
		"code": "chain.source-step-assumed",
		"msg": sprintf("%s was taken as reading from the source checkout because it consumed nothing an attested step produced; name the source steps in the policy (sourceSteps, or inputs: [source])", [step_desc(st)]),
		"step": object.get(st, "step", null),
		"attestation": st.origin,
	}
}

# Each material a step consumed must come from one of the steps named for it.
deny contains v if {
	some st in steps
	allowed := object.get(setting("step_inputs"), st.step, null)
	is_array(allowed)
	some m in st.materials
	ids := producers(m)
	count(ids) > 0
	names := {n | some id in ids; some p in steps; p.id == id; n := object.get(p, "step", null)}
	count({n | some n in names; n in allowed}) == 0
	v := {
		"code": "chain.input-from-wrong-step",
		"msg": sprintf("%s consumed %q (%s), produced by %v, not by one of the steps it may take inputs from (%v)", [step_desc(st), m.name, m.digest, names, allowed]),
		"step": object.get(st, "step", null),
		"file": m.name,
		"digest": m.digest,
		"attestation": st.origin,
		"expected": allowed,
		"actual": names,
	}
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
